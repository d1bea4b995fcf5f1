/*
 * dkim.c - unit tests for onion sender signatures: Ed25519 from Tor's
 * expanded key against RFC 8032's test vector, RFC 8463's own signed
 * example (appendix A.3) verified, RFC 6376 3.4.5's relaxed
 * canonicalisation example, what we sign verifies in any chunking, and
 * each way a signature is refused comes with its reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "msg.h"
#include "tor.h"
#include "tap.h"

/* RFC 8032 7.1, TEST 1 */
static const unsigned char seed[32] =
    "\x9d\x61\xb1\x9d\xef\xfd\x5a\x60\xba\x84\x4a\xf4\x92\xec\x2c\xc4"
    "\x44\x49\xc5\x69\x7b\x32\x69\x19\x70\x3b\xac\x03\x1c\xae\x7f\x60";
static const unsigned char rfcpk[32] =
    "\xd7\x5a\x98\x01\x82\xb1\x0a\xb7\xd5\x4b\xfe\xd3\xc9\x64\x07\x3a"
    "\x0e\xe1\x72\xf3\xda\xa6\x23\x25\xaf\x02\x1a\x68\xf7\x07\x51\x1a";
static const unsigned char rfcsig[64] =
    "\xe5\x56\x43\x00\xc3\x60\xac\x72\x90\x86\xe2\xcc\x80\x6e\x82\x8a"
    "\x84\x87\x7f\x1e\xb8\xe5\xd9\x74\xd8\x73\xe0\x65\x22\x49\x01\x55"
    "\x5f\xb8\x82\x15\x90\xa3\x3b\xac\xc6\x1e\x39\x70\x1c\xf9\xb4\x6b"
    "\xd2\x5b\xf5\xf0\x59\x5b\xbe\x24\x65\x51\x41\x43\x8e\x7a\x10\x0b";
#define RFCNAME	"25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion"

/* RFC 8463 appendix A.3: signed with the RFC 8032 key above */
static const char rfc8463[] =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

static struct nym_onion_key key;

static enum nym_dkim_result
vkey(const char *msg, size_t n, const char *dom, const unsigned char *pk,
    size_t chunk, char *why)
{
	struct nym_dkim *d = pk ? nym_dkim_verifier_key(dom, pk) :
	    nym_dkim_verifier(dom);
	enum nym_dkim_result r;
	size_t i;

	if (d == NULL)
		return NYM_DKIM_ERROR;
	for (i = 0; i < n; i += chunk)
		nym_dkim_feed(d, msg + i, n - i < chunk ? n - i : chunk);
	r = nym_dkim_verdict(d, why);
	nym_dkim_free(d);
	return r;
}

static enum nym_dkim_result
v(const char *msg, const char *onion, char *why)
{
	return vkey(msg, strlen(msg), onion, NULL, 4096, why);
}

/* msg signed with key: the field, then the message (malloc'd). */
static char *
sign(const struct nym_onion_key *k, const char *msg, size_t chunk,
    const char *eol)
{
	struct nym_dkim *d = nym_dkim_signer(k);
	size_t i, n = strlen(msg);
	char *f, *out;

	for (i = 0; i < n; i += chunk)
		nym_dkim_feed(d, msg + i, n - i < chunk ? n - i : chunk);
	if (nym_dkim_signature(d, eol, &f) == -1) {
		nym_dkim_free(d);
		return NULL;
	}
	nym_dkim_free(d);
	out = malloc(strlen(f) + n + 1);
	strcpy(out, f);
	strcat(out, msg);
	free(f);
	return out;
}

static void
ed25519(void)
{
	unsigned char sk[64], pk[32], sig[64], pk2[32];

	check_int(nym_ed25519_expand(seed, sk, pk), 0, "expand a seed");
	check(memcmp(pk, rfcpk, 32) == 0, "its public key is RFC 8032's");
	check_int(nym_ed25519_public(sk, pk2), 0, "public key of sk");
	check(memcmp(pk2, rfcpk, 32) == 0, "the same");
	check_int(nym_ed25519_sign(sk, pk, "", 0, sig), 0, "sign");
	check(memcmp(sig, rfcsig, 64) == 0,
	    "the expanded key signs as RFC 8032 TEST 1 says");
	check_int(nym_ed25519_verify(sig, "", 0, pk), 0, "verifies");
	sig[5] ^= 1;
	check_int(nym_ed25519_verify(sig, "", 0, pk), -1, "a flipped bit does not");
	memcpy(key.sk, sk, 64);
	memcpy(key.pk, pk, 32);
	check_int(nym_onion_name(pk, key.name), 0, "the key's onion");
	check_str(key.name, RFCNAME, "as the onion tests know it");
}

static void
rfc(void)
{
	char why[NYM_DKIM_WHY], *m, *lf, *p;
	size_t n = strlen(rfc8463), i, j;

	check_int(vkey(rfc8463, n, "football.example.com", rfcpk, n, why),
	    NYM_DKIM_PASS, "RFC 8463 A.3 verifies");
	check_str(why, "", "no reason");
	check_int(vkey(rfc8463, n, "FOOTBALL.example.COM", rfcpk, 1, why),
	    NYM_DKIM_PASS, "fed a byte at a time, d= in any case");
	/* with LF line ends, as a local file has it */
	lf = malloc(n + 1);
	for (i = j = 0; i < n; i++)
		if (rfc8463[i] != '\r')
			lf[j++] = rfc8463[i];
	lf[j] = '\0';
	check_int(vkey(lf, j, "football.example.com", rfcpk, 7, why),
	    NYM_DKIM_PASS, "and with LF line ends");
	free(lf);
	check_int(vkey(rfc8463, n, "example.com", rfcpk, n, why),
	    NYM_DKIM_OTHER, "another domain's");
	check(strstr(why, "another domain (football.example.com)") != NULL,
	    "says whose");
	m = strdup(rfc8463);
	p = strstr(m, "hungry");
	*p = 'H';
	check_int(vkey(m, n, "football.example.com", rfcpk, n, why),
	    NYM_DKIM_FAIL, "a changed body fails");
	check(strstr(why, "body hash mismatch") != NULL, why);
	*p = 'h';
	p = strstr(m, "dinner");
	*p = 'D';
	check_int(vkey(m, n, "football.example.com", rfcpk, n, why),
	    NYM_DKIM_FAIL, "a changed signed field fails");
	check(strstr(why, "bad signature") != NULL, why);
	free(m);
}

/* RFC 6376 3.4.5: the body " C \r\nD \t E\r\n\r\n\r\n" is " C\r\nD E\r\n"
 * relaxed, whose SHA-256 bh= must carry; fields "A: X" and
 * "B : Y\t\r\n\tZ  " are "a:X" and "b:Y Z": written either way a
 * signed field still verifies. */
static void
relaxed(void)
{
	static const char msg[] =
	    "From: X\r\nSubject : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
	static const char same[] =
	    "from:X\r\nsubject:Y Z\r\n\r\n C\r\nD E\r\n";
	static const char same2[] =
	    "FROM  :   X \nSUBJECT: Y\n Z\n\n C\t\nD  E  \n\n\n\n";
	unsigned char h[32];
	char b64[48], want[64], why[NYM_DKIM_WHY], *s, *t;

	nym_sha256(" C\r\nD E\r\n", 9, h);
	nym_base64(h, 32, b64, "+/");
	snprintf(want, sizeof want, "bh=%s;", b64);
	s = sign(&key, msg, 3, "\r\n");
	check(s != NULL, "signed");
	check(strstr(s, want) != NULL, "bh= of the relaxed body of RFC 6376 3.4.5");
	check_int(v(s, RFCNAME, why), NYM_DKIM_PASS, "verifies");
	/* the same fields and body, written differently */
	t = malloc(strlen(s) + sizeof same2);
	strcpy(t, s);
	strcpy(strstr(t, "From: X"), same);
	check_int(v(t, RFCNAME, why), NYM_DKIM_PASS, "canonical forms verify");
	strcpy(strstr(t, "from:X"), same2);
	check_int(v(t, RFCNAME, why), NYM_DKIM_PASS,
	    "case, spaces, folds and LF line ends do not matter");
	strcpy(strstr(t, "FROM"), "From: X\r\nSubject: YZ\r\n\r\n C\r\nD E\r\n");
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "a space removed does");
	strcpy(strstr(t, "From"), "From: X\r\nSubject: Y Z\r\n\r\n C\r\nDE\r\n");
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "in the body too");
	check(strstr(why, "body hash") != NULL, why);
	free(t);
	free(s);
}

static void
roundtrip(void)
{
	static const char *const msgs[] = {
		"From: a@b\nTo: c@d\n\nbody\n",
		"From: a@b\r\n\r\n",
		"From: a@b\r\n",
		"From: a@b\n\n\n\n  \n",
		"From: a@b\nTo: x\nTo: y\nCc: z\n\nno line end",
		"From: a@b\n\nbare\rCR\r\nand a last CR\r",
	};
	char why[NYM_DKIM_WHY], what[80], *s;
	size_t i, c;

	for (i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
		for (c = 1; c <= 64; c *= 4) {
			s = sign(&key, msgs[i], c, "\n");
			snprintf(what, sizeof what, "message %zu, signed in "
			    "pieces of %zu, verifies", i, c);
			check(s != NULL && vkey(s, strlen(s), RFCNAME, NULL,
			    5 * c, why) == NYM_DKIM_PASS, what);
			free(s);
		}
}

static void
refused(void)
{
	char why[NYM_DKIM_WHY], *s, *t, *p;
	struct nym_onion_key other;
	unsigned char seed2[32];

	s = sign(&key, "From: a@b\nTo: c@d\nSubject: s\n\nhello\n", 4096,
	    "\n");
	check_int(v("From: a@b\n\nhello\n", RFCNAME, why), NYM_DKIM_NONE,
	    "no signature");
	check_str(why, "no DKIM signature", "says so");
	/* another onion's key */
	memset(seed2, 7, sizeof seed2);
	nym_ed25519_expand(seed2, other.sk, other.pk);
	nym_onion_name(other.pk, other.name);
	t = sign(&other, "From: a@b\n\nhello\n", 4096, "\n");
	check_int(v(t, RFCNAME, why), NYM_DKIM_OTHER, "another onion's");
	check(strstr(why, other.name) != NULL, why);
	/* Mallory puts our onion in d= of her signature */
	p = strstr(t, other.name);
	memcpy(p, RFCNAME, strlen(RFCNAME));
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "ours in d=, her key");
	check(strstr(why, "bad signature") != NULL, why);
	free(t);
	/* an added From (over-signed) */
	t = malloc(strlen(s) + 32);
	strcpy(t, "From: e@vil\n");
	strcat(t, s);
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "a From added on the way");
	free(t);
	/* each malformed tag list */
	{
		static const struct {
			const char *from, *to, *why;
		} e[] = {
			{ "a=ed25519-sha256", "a=rsa-sha256", "unsupported algorithm" },
			{ "c=relaxed/relaxed", "c=simple/simple", "unsupported canonicalization" },
			{ "v=1;", "v=1; v=1;", "a tag given twice" },
			{ "v=1;", "v=1; l=5;", "l=" },
			{ "v=1;", "v=1; x=1;", "expired" },
			{ "v=1;", "v=1; 9=1;", "tag name" },
			{ "h=from:from:", "h=", "From is not signed" },
			{ "bh=", "bh=AAAA", "bh=" },
			{ "\tb=", "\tb=AAAA", "b=" },
		};
		size_t i;

		for (i = 0; i < sizeof e / sizeof e[0]; i++) {
			t = malloc(strlen(s) + 64);
			strcpy(t, s);
			p = strstr(t, e[i].from);
			memmove(p + strlen(e[i].to), p + strlen(e[i].from),
			    strlen(p + strlen(e[i].from)) + 1);
			memcpy(p, e[i].to, strlen(e[i].to));
			check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, e[i].to);
			check(strstr(why, e[i].why) != NULL, why);
			free(t);
		}
	}
	free(s);
}

/* s with ins put before the first occurrence of at (malloc'd). */
static char *
insert(const char *s, const char *at, const char *ins)
{
	const char *p = strstr(s, at);
	char *t = malloc(strlen(s) + strlen(ins) + 1);
	size_t k = (size_t)(p - s);

	memcpy(t, s, k);
	strcpy(t + k, ins);
	strcat(t, p);
	return t;
}

/* msg with its header section padded by unsigned X-Pad fields to total
 * octets before the blank line (malloc'd); msg's own header is hlen. */
static char *
pad(const char *msg, size_t total)
{
	const char *body = strstr(msg, "\n\n") + 1;
	size_t hlen = (size_t)(body - msg), left = total - hlen, k;
	char *out = malloc(total + strlen(body) + 1), *o = out;

	while (left > 0) {
		/* "X-Pad: " 'a'... "\n", at most 64 KB a field */
		k = left > 65536 ? 65536 : left;
		if (left - k > 0 && left - k < 9)
			k -= 9;
		memcpy(o, "X-Pad: ", 7);
		memset(o + 7, 'a', k - 8);
		o[k - 1] = '\n';
		o += k;
		left -= k;
	}
	memcpy(o, msg, hlen);
	strcpy(o + hlen, body);
	return out;
}

/* NYM_DKIM_HDR_MAX: a header section of exactly that many octets is
 * signed and checked; one more is refused, as too big, by both. */
static void
hdrmax(void)
{
	char why[NYM_DKIM_WHY], *s, *t, *f;
	struct nym_dkim *d;

	s = sign(&key, "From: a@b\n\nhello\n", 4096, "\n");
	t = pad(s, NYM_DKIM_HDR_MAX);
	check(strstr(t, "\n\n") + 1 - t == NYM_DKIM_HDR_MAX, "padded to the limit");
	check_int(v(t, RFCNAME, why), NYM_DKIM_PASS,
	    "a header section of NYM_DKIM_HDR_MAX octets: checked");
	free(t);
	t = pad(s, NYM_DKIM_HDR_MAX + 1);
	check_int(v(t, RFCNAME, why), NYM_DKIM_TOOBIG, "one octet more: too big");
	free(t);
	free(s);
	/* the signer: the same bound */
	s = pad("From: a@b\n\nhello\n", NYM_DKIM_HDR_MAX);
	d = nym_dkim_signer(&key);
	nym_dkim_feed(d, s, strlen(s));
	check_int(nym_dkim_signature(d, "\n", &f), 0,
	    "signer: a header section of NYM_DKIM_HDR_MAX octets");
	if (f != NULL) {
		t = malloc(strlen(f) + strlen(s) + 1);
		strcpy(t, f);
		strcat(t, s);
		check_int(v(t, RFCNAME, why), NYM_DKIM_TOOBIG,
		    "its signature makes the section too big to check");
		free(t);
		free(f);
	}
	nym_dkim_free(d);
	free(s);
	s = pad("From: a@b\n\nhello\n", NYM_DKIM_HDR_MAX + 1);
	d = nym_dkim_signer(&key);
	nym_dkim_feed(d, s, strlen(s));
	f = NULL;
	errno = 0;
	check_int(nym_dkim_signature(d, "\n", &f), -1, "signer: one octet more");
	check(errno == EMSGSIZE, "EMSGSIZE");
	nym_dkim_free(d);
	free(s);
}

/* Each limit of lib/limits.h at its value and one past. */
static void
limits(void)
{
	char why[NYM_DKIM_WHY], *s, *t, *u, buf[NYM_DKIM_SIG_MAX + 100];
	struct nym_onion_key other;
	unsigned char seed2[32];
	size_t i, n;

	s = sign(&key, "From: a@b\n\nhello\n", 4096, "\n");
	/* signatures looked at: ours the 8th passes, the 9th is not seen */
	memset(seed2, 9, sizeof seed2);
	nym_ed25519_expand(seed2, other.sk, other.pk);
	nym_onion_name(other.pk, other.name);
	t = sign(&other, "From: a@b\n\nhello\n", 4096, "\n");
	*strstr(t, "From: a@b") = '\0';	/* her field only */
	u = malloc(strlen(t) * NYM_DKIM_SIGS_MAX + strlen(s) + 1);
	u[0] = '\0';
	for (i = 0; i + 1 < NYM_DKIM_SIGS_MAX; i++)
		strcat(u, t);
	strcat(u, s);
	check_int(v(u, RFCNAME, why), NYM_DKIM_PASS,
	    "ours the last of NYM_DKIM_SIGS_MAX signatures: checked");
	strcpy(u, t);
	for (i = 0; i + 1 < NYM_DKIM_SIGS_MAX; i++)
		strcat(u, t);
	strcat(u, s);
	check_int(v(u, RFCNAME, why), NYM_DKIM_OTHER,
	    "one past NYM_DKIM_SIGS_MAX: not looked at");
	free(u);
	free(t);
	/* tags: 32 parse (then the changed field fails its signature), 33
	 * are too many */
	buf[0] = '\0';
	n = 9;	/* v a c d s h bh b, and one more below */
	for (i = n; i < NYM_DKIM_TAGS_MAX; i++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
		    "z%zu=1; ", i);
	t = insert(s, "v=1;", buf);
	u = insert(t, "v=1;", "q=dns/txt; ");
	check_int(v(u, RFCNAME, why), NYM_DKIM_FAIL, "NYM_DKIM_TAGS_MAX tags");
	check(strstr(why, "bad signature") != NULL, why);
	free(u);
	u = insert(t, "v=1;", "q=dns/txt; y=1; ");
	check_int(v(u, RFCNAME, why), NYM_DKIM_FAIL, "one more");
	check(strstr(why, "too many tags") != NULL, why);
	free(u);
	free(t);
	/* names in h=: ours has n, one more than its colons */
	for (n = 1, t = strstr(s, "\th=") ; *t != ';'; t++)
		n += *t == ':';
	buf[0] = '\0';
	for (i = n; i < NYM_DKIM_HNAMES_MAX; i++)
		strcat(buf, "x:");
	t = insert(s, "from:from:", buf);
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL,
	    "NYM_DKIM_HNAMES_MAX names in h=");
	check(strstr(why, "bad signature") != NULL, why);
	free(t);
	strcat(buf, "x:");
	t = insert(s, "from:from:", buf);
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "one more");
	check(strstr(why, "too many names in h=") != NULL, why);
	free(t);
	/* one field of NYM_DKIM_SIG_MAX octets, and one more */
	n = strlen(strstr(s, "From: a@b")) ;
	n = strlen(s) - n;		/* our field's length */
	memset(buf, 0, sizeof buf);
	memcpy(buf, "z=", 2);
	memset(buf + 2, 'a', NYM_DKIM_SIG_MAX - n - 4);
	memcpy(buf + NYM_DKIM_SIG_MAX - n - 2, "; ", 2);
	t = insert(s, "v=1;", buf);
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "a field of NYM_DKIM_SIG_MAX");
	check(strstr(why, "bad signature") != NULL, why);
	free(t);
	memcpy(buf + NYM_DKIM_SIG_MAX - n - 2, "a; ", 3);
	t = insert(s, "v=1;", buf);
	check_int(v(t, RFCNAME, why), NYM_DKIM_FAIL, "one octet more");
	check(strstr(why, "longer than the limit") != NULL, why);
	free(t);
	free(s);
	hdrmax();
}

int
main(void)
{
	if (nym_crypto_init() == -1)
		return 1;
	ed25519();
	rfc();
	relaxed();
	roundtrip();
	refused();
	limits();
	return tap_done();
}
