/* Onion sender signatures (lib/dkim.c).  The input, as a message, is
 * checked as it is (the tag-list and header parsers on hostile bytes),
 * then signed and checked again, in pieces the input chooses (checked
 * whole if they are of an even size: the body's scanner then takes long
 * stretches, not only what one small piece holds).  Oracles:
 * what we sign we verify (unless the message begins with white space,
 * which signing refuses); a content byte of the body changed is a body
 * hash mismatch; a byte of a From field's value changed is a bad
 * signature; bh= is the SHA-256 of the body canonicalised here, the
 * plain way (RFC 6376 3.4.4, line by line), whatever path the library
 * took. */
#include "fuzz.h"

#include <strings.h>

#include "msg.h"
#include "tor.h"

static struct nym_onion_key key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char seed[32];

	(void)argc;
	(void)argv;
	if (nym_crypto_init() == -1)
		abort();
	memset(seed, 0x42, sizeof seed);
	if (nym_ed25519_expand(seed, key.sk, key.pk) == -1 ||
	    nym_onion_name(key.pk, key.name) == -1)
		abort();
	return 0;
}

static enum nym_dkim_result
verify(const char *f, const uint8_t *m, size_t n, size_t piece,
    char *why)
{
	struct nym_dkim *d = nym_dkim_verifier(key.name);
	enum nym_dkim_result r;
	size_t i;

	FZ_ASSERT(d != NULL);
	if (f != NULL)
		nym_dkim_feed(d, f, strlen(f));
	for (i = 0; i < n; i += piece)
		nym_dkim_feed(d, m + i, n - i < piece ? n - i : piece);
	r = nym_dkim_verdict(d, why);
	nym_dkim_free(d);
	FZ_ASSERT(strlen(why) < NYM_DKIM_WHY);
	return r;
}

/* Neither c nor c ^ 1 is white space or a line end. */
static int
flippable(uint8_t c)
{
	return c != ' ' && c != '!' && c != '\t' && c != '\b' &&
	    c != '\r' && c != '\f' && c != '\n' && c != '\v';
}

/* The relaxed body of b[0, n), the slow and obvious way: each line
 * (ended by LF, a CR before it dropped; the last may have no LF) with
 * its WSP runs made one space and trailing space dropped, trailing
 * empty lines dropped, every line ended by CRLF.  Its SHA-256 in base64
 * into out. */
static void
relaxed(const uint8_t *b, size_t n, char out[48])
{
	uint8_t *c = malloc(2 * n + 3);
	size_t o = 0, keep = 0, i = 0, s, e, k, start;
	unsigned char h[32];

	FZ_ASSERT(c != NULL);
	while (i < n) {
		s = i;
		for (e = s; e < n && b[e] != '\n'; e++)
			;
		i = e < n ? e + 1 : n;
		if (e < n && e > s && b[e - 1] == '\r')
			e--;
		start = o;
		for (k = s; k < e; k++) {
			if (b[k] == ' ' || b[k] == '\t') {
				if (o == start || c[o - 1] != ' ')
					c[o++] = ' ';
			} else
				c[o++] = b[k];
		}
		while (o > start && c[o - 1] == ' ')
			o--;
		c[o++] = '\r';
		c[o++] = '\n';
		if (o - start > 2)
			keep = o;
	}
	nym_sha256(c, keep, h);
	nym_base64(h, 32, out, "+/");
	free(c);
}

/* Roughly how many header fields of data[0, n) the signer signs: lines
 * before the first empty one that begin with one of their names and a
 * colon, case ignored. */
static size_t
signedcount(const uint8_t *b, size_t n)
{
	static const char *const names[] = { "from", "sender", "reply-to",
		"to", "cc", "subject", "date", "message-id", "in-reply-to",
		"references", "mime-version", "content-type",
		"content-transfer-encoding", "content-disposition" };
	size_t i = 0, k, l, count = 0;

	while (i < n && b[i] != '\n' && !(b[i] == '\r' && i + 1 < n &&
	    b[i + 1] == '\n')) {
		for (k = 0; k < sizeof names / sizeof names[0]; k++) {
			l = strlen(names[k]);
			if (n - i > l && strncasecmp((const char *)b + i,
			    names[k], l) == 0 && b[i + l] == ':') {
				count++;
				break;
			}
		}
		while (i < n && b[i] != '\n')
			i++;
		i++;
	}
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_dkim *d;
	char why[NYM_DKIM_WHY], *f;
	uint8_t *m;
	size_t piece, i, body = size, ls;
	int st = 0, r;

	piece = size > 0 ? (size_t)data[size - 1] % 61 + 1 : 1;
	(void)verify(NULL, data, size, piece, why);

	d = nym_dkim_signer(&key);
	FZ_ASSERT(d != NULL);
	for (i = 0; i < size; i += piece)
		nym_dkim_feed(d, data + i, size - i < piece ? size - i : piece);
	r = nym_dkim_signature(d, size % 2 ? "\r\n" : "\n", &f);
	nym_dkim_free(d);
	if (size > 0 && (data[0] == ' ' || data[0] == '\t')) {
		FZ_ASSERT(r == -1 && errno == EINVAL);
		return 0;
	}
	/* more signed fields than h= may name (NYM_DKIM_HNAMES_MAX):
	 * refused; the count here is rough, so half the bound will do */
	if (r == -1 && errno == EMSGSIZE &&
	    signedcount(data, size) >= NYM_DKIM_HNAMES_MAX / 2)
		return 0;
	FZ_ASSERT(r == 0);
	FZ_ASSERT(verify(f, data, size, piece % 2 ? piece * 3 : size + 1,
	    why) == NYM_DKIM_PASS);

	/* where the body starts: after the first empty line (LF or CRLF) */
	for (i = 0; i < size; i++) {
		if (data[i] == '\n') {
			if (st != 2) {
				body = i + 1;
				break;
			}
			st = 0;
		} else if (data[i] == '\r' && st == 0)
			st = 1;
		else
			st = 2;
	}
	{
		char want[48], *bh = strstr(f, "bh=");

		relaxed(data + body, size - body, want);
		FZ_ASSERT(bh != NULL && strncmp(bh + 3, want, 44) == 0);
	}
	m = malloc(size + 1);
	FZ_ASSERT(m != NULL);
	memcpy(m, data, size);
	if (body < size) {
		i = body + (size > 1 ? data[1] : 0) % (size - body);
		while (i < size && !flippable(m[i]))
			i++;
		if (i < size) {
			m[i] ^= 1;
			FZ_ASSERT(verify(f, m, size, piece, why) == NYM_DKIM_FAIL);
			FZ_ASSERT(strstr(why, "body hash mismatch") != NULL);
			m[i] ^= 1;
		}
	}
	/* a From field's value */
	for (ls = 0; ls < body && ls < size; ) {
		size_t e = ls;

		while (e < body && m[e] != '\n')
			e++;
		if (e - ls > 5 && strncasecmp((char *)m + ls, "from:", 5) == 0) {
			for (i = ls + 5; i < e && !flippable(m[i]); i++)
				;
			if (i < e) {
				m[i] ^= 1;
				FZ_ASSERT(verify(f, m, size, piece, why) ==
				    NYM_DKIM_FAIL);
				FZ_ASSERT(strstr(why, "bad signature") != NULL);
				m[i] ^= 1;
			}
			break;
		}
		ls = e + 1;
	}
	free(m);
	free(f);
	return 0;
}
