/*
 * dkimbody.c - unit tests for the relaxed body canonicalisation of
 * lib/dkim.c (RFC 6376 3.4.4) against a reference written here, byte by
 * byte as the RFC reads: the library copies clean stretches thirty-two
 * (or eight) bytes at a time and takes line ends in its stride, so each
 * test puts the bytes that need work (runs of WSP, WSP before a line
 * end, bare CR, line ends, empty lines) at every offset around the
 * scanner's blocks and the feed's pieces, then random bodies, and
 * compares the bh= the signer writes with the SHA-256 of the reference's
 * output.  The verifier, fed in other pieces, must agree.  The build
 * checks the SSE2 scan on x86-64; to check the portable one, link this
 * test with a lib/libnymbox.a whose dkim.o was compiled with -U__SSE2__.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "msg.h"
#include "tor.h"
#include "tap.h"

static struct nym_onion_key key;

/*
 * The reference: the body's relaxed form into out (room for 2n + 2),
 * its length returned.  Lines end at LF, a CR just before it part of
 * the line end; any other CR is content.  In a line, a run of SP and
 * TAB is one SP, and at the line's end none; empty lines at the end of
 * the body are dropped; each line kept ends in CRLF, the last too, even
 * without an LF; an empty body stays empty.
 */
static size_t
reference(const unsigned char *b, size_t n, unsigned char *out)
{
	size_t o = 0, keep = 0, i = 0, start;
	int inwsp;

	while (i < n) {
		start = o;
		inwsp = 0;
		for (; i < n && b[i] != '\n'; i++) {
			if (b[i] == '\r' && i + 1 < n && b[i + 1] == '\n')
				continue;	/* the line end's CR */
			if (b[i] == ' ' || b[i] == '\t') {
				inwsp = 1;
				continue;
			}
			if (inwsp)
				out[o++] = ' ';
			inwsp = 0;
			out[o++] = b[i];
		}
		if (i < n)
			i++;		/* the LF */
		out[o++] = '\r';
		out[o++] = '\n';
		if (o - start > 2)
			keep = o;	/* not an empty line */
	}
	return keep;
}

/* The bh= of the message "From: a@b\n" pad "\n" body (pad: fields),
 * signed in pieces of chunk, into got (44 characters and a NUL): 1, or
 * 0 if signing fails; and unless vchunk is 0, 1 only if a verifier fed
 * the signed message in pieces of vchunk passes it. */
static int
bh(const unsigned char *body, size_t n, const char *pad, size_t chunk,
    size_t vchunk, char got[45])
{
	char hdr[128], why[NYM_DKIM_WHY], *f, *p;
	struct nym_dkim *d;
	size_t hn, i, k;
	unsigned char *m;
	int ok;

	hn = (size_t)snprintf(hdr, sizeof hdr, "From: a@b\n%s\n", pad);
	m = malloc(hn + n);	/* exact: a read past it is seen by ASan */
	memcpy(m, hdr, hn);
	if (n > 0)
		memcpy(m + hn, body, n);
	d = nym_dkim_signer(&key);
	for (i = 0; i < hn + n; i += k) {
		k = hn + n - i < chunk ? hn + n - i : chunk;
		nym_dkim_feed(d, m + i, k);
	}
	got[0] = '\0';
	if (nym_dkim_signature(d, "\n", &f) == -1) {
		nym_dkim_free(d);
		free(m);
		return 0;
	}
	nym_dkim_free(d);
	if ((p = strstr(f, "bh=")) != NULL && strlen(p) > 47) {
		memcpy(got, p + 3, 44);
		got[44] = '\0';
	}
	if (vchunk == 0) {
		free(f);
		free(m);
		return 1;
	}
	d = nym_dkim_verifier(key.name);
	nym_dkim_feed(d, f, strlen(f));
	for (i = 0; i < hn + n; i += k) {
		k = hn + n - i < vchunk ? hn + n - i : vchunk;
		nym_dkim_feed(d, m + i, k);
	}
	ok = nym_dkim_verdict(d, why) == NYM_DKIM_PASS;
	nym_dkim_free(d);
	free(f);
	free(m);
	return ok;
}

/* The reference's bh= of body. */
static void
want(const unsigned char *body, size_t n, char out[45])
{
	unsigned char *c = malloc(2 * n + 2), h[32];
	char b64[48];
	size_t len = reference(body, n, c);

	nym_sha256(c, len, h);
	nym_base64(h, 32, b64, "+/");
	memcpy(out, b64, 44);
	out[44] = '\0';
	free(c);
}

/* One body, signed whole (and verified in other pieces), and if all,
 * also signed in pieces that cut it everywhere, else in one of them
 * picked at random: 0 if every bh= is the reference's; on the first
 * failure, a diagnostic. */
static const size_t chunks[] = { 1, 3, 8, 16, 31, 32, 33, 65, 1 << 20 };
#define NCHUNKS	(sizeof chunks / sizeof chunks[0])

static uint64_t rnd(void);

static int
same(const unsigned char *body, size_t n, const char *pad, int all)
{
	char w[45], g[45];
	size_t c, k;

	want(body, n, w);
	for (k = 0; k < (all ? NCHUNKS : 2); k++) {
		c = all ? k : k == 0 ? NCHUNKS - 1 : rnd() % (NCHUNKS - 1);
		if (!bh(body, n, pad, chunks[c], k == 0 ? chunks[rnd() %
		    NCHUNKS] : 0, g) || strcmp(g, w) != 0) {
			printf("# body of %zu bytes, pad \"%s\", pieces of "
			    "%zu: bh=%s, want %s\n", n, pad, chunks[c], g, w);
			return -1;
		}
	}
	return 0;
}

static int
sames(const char *body, int allchunks)
{
	return same((const unsigned char *)body, strlen(body), "", allchunks);
}

/* The reference itself, on RFC 6376 3.4.5's example and a few more. */
static void
ref(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n" },
		{ "", "" },
		{ "\n\n\r\n", "" },
		{ " \t \n", "" },
		{ "x", "x\r\n" },
		{ "a\rb\r", "a\rb\r\r\n" },
		{ "a \r\n", "a\r\n" },
		{ "a \r \n", "a \r\r\n" },
		{ "\nx\n\n", "\r\nx\r\n" },
	};
	unsigned char out[64];
	size_t i, n;
	char what[80];

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = reference((const unsigned char *)t[i].in,
		    strlen(t[i].in), out);
		snprintf(what, sizeof what, "reference, case %zu", i);
		check(n == strlen(t[i].out) && memcmp(out, t[i].out, n) == 0,
		    what);
	}
}

/* Bodies the edges of the fast path are made of. */
static void
edges(void)
{
	static const char *const fixed[] = {
		"",			/* 0-byte body */
		" ", "\t", "  \t  \t ",	/* only WSP */
		" \n\t\n  \r\n",	/* only WSP lines */
		"\n", "\r\n", "\n\n\n", "\r\n\r\n\r\n",
		"x\n\n\n", "x\r\n\r\n \r\n\t\n",	/* trailing empty lines */
		"x", "x ", "x\r", "\r", "\r\r", "\r\r\n", "\n\r",
		"a\rb", "a\r\rb\r\n", "a\r \r\n", " \r", "\r ",
		"\nx", "\r\nx", " x", "\tx\n",
		"x\n \n", "x\n\t\ny\n",
	};
#define S(x) { x, sizeof x - 1 }
	static const struct {
		const char *s;
		size_t n;
	} mid[] = {
		S("  "), S(" \t"), S("\t"), S("\t\t "), S(" "), S(" \n"),
		S(" \r\n"), S("  \r\n"), S("\t\r\n"), S("\n"), S("\r\n"),
		S("\r"), S("\r\r\n"), S(" \r"), S("\n\n"), S("\r\n\r\n"),
		S("\n "), S("\n\t"), S("\n\r\n"), S("\r\n "), S(" \n\n "),
		S("\n  \n"), S("\x01"), S(" \x01"), S("\0"), S(" \0"),
	};
#undef S
	unsigned char b[300];
	char what[120];
	size_t i, j, len, pos, mlen, bad = 0;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		snprintf(what, sizeof what, "body %zu of the fixed ones", i);
		check(sames(fixed[i], 1) == 0, what);
	}
	/* each piece at every offset of a line of about three blocks,
	 * with a clean line before and after, and lines that end (LF or
	 * CRLF) at every length around 8, 16, 32 and 64 */
	for (i = 0; i < sizeof mid / sizeof mid[0]; i++) {
		mlen = mid[i].n;
		for (pos = 0; pos <= 100; pos++) {
			len = 0;
			memcpy(b, "first line, clean.\n", 19);
			len = 19;
			for (j = 0; j < pos; j++)
				b[len++] = (unsigned char)('a' + j % 26);
			memcpy(b + len, mid[i].s, mlen);
			len += mlen;
			for (j = 0; j < 100 - pos; j++)
				b[len++] = (unsigned char)('A' + j % 26);
			memcpy(b + len, "\nlast\n", 6);
			len += 6;
			if (same(b, len, "", pos % 7 == 0) != 0)
				bad++;
			/* and at the body's very end */
			if (same(b + 19, pos + mlen, "", pos % 5 == 0) != 0)
				bad++;
		}
		snprintf(what, sizeof what, "piece %zu at every offset of a "
		    "line, in the body and at its end", i);
		check(bad == 0, what);
		bad = 0;
	}
	for (len = 0; len <= 70; len++) {
		for (j = 0; j < 3; j++) {
			size_t k = 0, l;

			for (l = 0; l < 3; l++) {
				memset(b + k, 'x', len);
				k += len;
				if (j == 1)
					b[k++] = '\r';
				if (j == 2 && len > 0)
					b[k - 1] = ' ';	/* trailing WSP */
				b[k++] = '\n';
			}
			if (same(b, k, "", 1) != 0)
				bad++;
		}
	}
	check(bad == 0, "lines of every length to 70, LF, CRLF and a "
	    "trailing space, in every piece size");
	/* runs of WSP as long as several blocks, across their edges */
	bad = 0;
	for (len = 1; len <= 80; len += 3) {
		size_t k = 0;

		for (pos = 0; pos < 40; pos += 13) {
			k = 0;
			memset(b, 'y', pos);
			k = pos;
			for (j = 0; j < len; j++)
				b[k++] = j % 3 == 1 ? '\t' : ' ';
			b[k++] = 'z';
			for (j = 0; j < len; j++)
				b[k++] = ' ';
			b[k++] = '\r';
			b[k++] = '\n';
			for (j = 0; j < len; j++)
				b[k++] = '\t';
			if (same(b, k, "", 1) != 0)
				bad++;
		}
	}
	check(bad == 0, "runs of WSP of 1 to 80 bytes, mid-line, before a "
	    "CRLF and at the end");
	/* the header section's length moves the body against the pieces */
	bad = 0;
	for (i = 0; i < 40; i++) {
		char pad[64];

		snprintf(pad, sizeof pad, "X-Pad: %.*s\n", (int)i,
		    "0123456789012345678901234567890123456789");
		if (same((const unsigned char *)"a  b\t\tc \r\nd\r\n\r\n  \n",
		    19, pad, 1) != 0)
			bad++;
	}
	check(bad == 0, "the body at every offset of the feed");
}

/* xorshift64*: the same bodies every run */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void
random_bodies(void)
{
	/* weighted: mostly text, WSP and line ends often, some control
	 * bytes and 8-bit */
	static const unsigned char alpha[] =
	    "abcdefghijklmnopqrstuvwxyzABC.,    \t\t\r\r\n\n\n\x01\x1f\x21\x80\xff";
	unsigned char *b = malloc(5000);
	size_t i, j, n, bad = 0, mode;
	char what[120];

	for (i = 0; i < 3000; i++) {
		n = i < 2500 ? rnd() % 300 : rnd() % 5000;
		mode = rnd() % 4;
		for (j = 0; j < n; j++) {
			uint64_t r = rnd();

			if (mode == 0)	/* anything */
				b[j] = alpha[r % (sizeof alpha - 1)];
			else if (mode == 1)	/* mostly clean text */
				b[j] = r % 40 == 0 ? '\n' : r % 7 == 0 ? ' ' :
				    r % 97 == 0 ? '\t' : (unsigned char)
				    ('a' + r % 26);
			else if (mode == 2)	/* CRLF text, WSP runs */
				b[j] = j > 0 && b[j - 1] == '\r' ? '\n' :
				    r % 30 == 0 ? '\r' : r % 5 == 0 ? ' ' :
				    r % 11 == 0 ? '\t' : 'w';
			else		/* any byte */
				b[j] = (unsigned char)r;
		}
		if (same(b, n, "", i % 10 == 0) != 0) {
			bad++;
			if (bad > 5)
				break;
		}
	}
	snprintf(what, sizeof what, "3000 random bodies agree with the "
	    "reference, signed whole and in pieces (%zu do not)", bad);
	check(bad == 0, what);
	free(b);
}

int
main(void)
{
	unsigned char seed[32];

	if (nym_crypto_init() == -1)
		return 1;
	memset(seed, 3, sizeof seed);
	if (nym_ed25519_expand(seed, key.sk, key.pk) == -1 ||
	    nym_onion_name(key.pk, key.name) == -1)
		return 1;
	ref();
	edges();
	random_bodies();
	return tap_done();
}
