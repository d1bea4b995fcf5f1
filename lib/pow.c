/*
 * pow.c - proof-of-work stamps: hashcash version 1, parsed, checked and
 * minted as Debian's hashcash(1) 1.22 does.
 *
 * Checking follows hashcash's rules where they matter for whether a
 * stamp is taken: the value of a v1 stamp is its claimed bits if SHA-1
 * of the whole stamp begins with at least that many zero bits, else 0;
 * a stamp is in the future if dated after now + grace, expired once
 * date + validity + grace is past; resources compare ignoring ASCII case
 * (hashcash lowercases both).  Where hashcash is lax about text no
 * minter writes (a version "1x", an empty bits field, an eighth field),
 * we refuse: every stamp hashcash mints is taken here, and ours there.
 *
 * Minting does not call SHA-1 afresh for each try.  The random field is
 * lengthened so that the counter falls in the stamp's last 64-byte
 * block; the blocks before it are compressed once, and each try
 * compresses that last block alone from the saved state, the counter's
 * last character changed in place.  That needs the compression function
 * itself, which libgcrypt does not export, so it is written out here
 * from FIPS 180-4; the stamp found is hashed again by libgcrypt before it
 * is returned, so a slip in this code could only fail a mint, never
 * print a stamp that does not verify.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <gcrypt.h>

#include "base.h"
#include "seal.h"
#include "pow.h"

/* hashcash's alphabet for the random field and the counter. */
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
#define CTRLEN	8	/* counter characters: 64^8 = 2^48 tries */
#define RANDLEN	16	/* random characters: 96 bits, as hashcash */
#define CTRAT	47	/* the counter's offset in the last block */

static int
isb64(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

void
nym_pow_kind(const char *s, size_t n, char *kind, size_t cap)
{
	size_t i;

	if (cap == 0)
		return;
	for (i = 0; i < n && i + 1 < cap && s[i] != ':'; i++)
		kind[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
	kind[i] = '\0';
}

/* Days from 1970-01-01 to the first of month m (1..12) of year y. */
static long long
days(long long y, int m)
{
	long long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int
nym_pow_date(const char *s, size_t n, time_t now, time_t *t)
{
	int f[6] = { 0, 1, 1, 0, 0, 0 };
	long long y, cur, mon, sec;
	struct tm tm;
	size_t i;

	if (n < 2 || n > 12 || n % 2 != 0)
		goto bad;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	for (i = 0; i < n / 2; i++)
		f[i] = (s[2 * i] - '0') * 10 + (s[2 * i + 1] - '0');
	if (n >= 4 && f[1] == 0)
		goto bad;
	if (gmtime_r(&now, &tm) == NULL)
		goto bad;
	cur = (long long)tm.tm_year + 1900;
	y = cur - cur % 100 + f[0];
	if (y - cur > 50)
		y -= 100;
	else if (y - cur < -50)
		y += 100;
	/* mktime's carries: months into years, the rest into seconds. */
	mon = f[1] - 1;
	y += mon / 12;
	mon %= 12;
	sec = (days(y, (int)mon + 1) + f[2] - 1) * 86400 + f[3] * 3600LL +
	    f[4] * 60LL + f[5];
	*t = (time_t)sec;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* Leading zero bits of a SHA-1 digest. */
static unsigned
zeros(const unsigned char *d)
{
	unsigned n = 0;
	int i, b;

	for (i = 0; i < 20; i++, n += 8)
		if (d[i] != 0) {
			for (b = 7; b >= 0 && !(d[i] >> b & 1); b--)
				n++;
			return n;
		}
	return n;
}

int
nym_pow_parse(const char *s, size_t n, time_t now, struct nym_pow_stamp *st)
{
	const char *f[7], *end = s + n;
	size_t len[7], i, k;
	unsigned char dig[20];
	const char *p = s, *c;

	memset(st, 0, sizeof *st);
	/* The kind: "1", else a name of letters, digits, '.', '-' or '_'
	 * that a later version may know. */
	c = memchr(s, ':', n);
	if (c == NULL || c == s || c - s > 32)
		return NYM_POW_MALFORMED;
	if (c - s != 1 || s[0] != '1') {
		for (p = s; p < c; p++)
			if (!isb64((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '_')
				return NYM_POW_MALFORMED;
		return NYM_POW_UNKNOWN;
	}
	if (n > NYM_POW_STAMP_MAX || memchr(s, '\0', n) != NULL)
		return NYM_POW_MALFORMED;
	for (k = 0; k < 7; k++) {
		c = memchr(p, ':', (size_t)(end - p));
		if ((c == NULL) != (k == 6))
			return NYM_POW_MALFORMED;
		f[k] = p;
		len[k] = (size_t)((c != NULL ? c : end) - p);
		if (c != NULL)
			p = c + 1;
	}
	/* bits: one to three digits */
	if (len[1] < 1 || len[1] > 3)
		return NYM_POW_MALFORMED;
	for (i = 0; i < len[1]; i++) {
		if (f[1][i] < '0' || f[1][i] > '9')
			return NYM_POW_MALFORMED;
		st->claimed = st->claimed * 10 + (unsigned)(f[1][i] - '0');
	}
	if (nym_pow_date(f[2], len[2], now, &st->date) == -1)
		return NYM_POW_MALFORMED;
	/* the resource and extension: printable, no white space */
	for (k = 3; k <= 4; k++)
		for (i = 0; i < len[k]; i++)
			if ((unsigned char)f[k][i] <= ' ' ||
			    (unsigned char)f[k][i] == 127)
				return NYM_POW_MALFORMED;
	if (len[3] == 0 || len[3] > NYM_POW_RES_MAX)
		return NYM_POW_MALFORMED;
	st->res = f[3];
	st->reslen = len[3];
	/* random field (may be empty) and counter: hashcash's alphabet */
	if (len[6] == 0)
		return NYM_POW_MALFORMED;
	for (k = 5; k <= 6; k++)
		for (i = 0; i < len[k]; i++)
			if (!isb64((unsigned char)f[k][i]))
				return NYM_POW_MALFORMED;
	if (nym_gcry_ready() == -1) {
		errno = ENOSYS;
		return -1;
	}
	gcry_md_hash_buffer(GCRY_MD_SHA1, dig, s, n);
	st->value = zeros(dig) >= st->claimed ? st->claimed : 0;
	return NYM_POW_OK;
}

int
nym_pow_check(const char *s, size_t n, const struct nym_pow_policy *p,
    time_t now, time_t *until)
{
	struct nym_pow_stamp st;
	const char *want = p->resource;
	size_t i, wl;
	int v;

	/* The hash is the dearest step and parse takes it; the resource
	 * and date come first, from the text. */
	if ((v = nym_pow_parse(s, n, now, &st)) != NYM_POW_OK)
		return v;
	if (want != NULL) {
		wl = strlen(want);
		if (wl != st.reslen)
			return NYM_POW_RESOURCE;
		for (i = 0; i < wl; i++)
			if (lower((unsigned char)want[i]) !=
			    lower((unsigned char)st.res[i]))
				return NYM_POW_RESOURCE;
	}
	if (until != NULL)
		*until = p->validity == 0 ? (time_t)INT64_MAX :
		    st.date + p->validity + p->grace;
	if (p->validity != 0) {
		if (st.date > now + p->grace)
			return NYM_POW_FUTURE;
		if (st.date + p->validity + p->grace <= now)
			return NYM_POW_EXPIRED;
	}
	if (st.value < p->bits)
		return NYM_POW_BITS;
	return NYM_POW_OK;
}

const char *
nym_pow_why(int v)
{
	switch (v) {
	case NYM_POW_OK:	return "valid";
	case NYM_POW_UNKNOWN:	return "of a kind this version does not know";
	case NYM_POW_MALFORMED:	return "malformed";
	case NYM_POW_RESOURCE:	return "minted for another resource";
	case NYM_POW_FUTURE:	return "dated in the future";
	case NYM_POW_EXPIRED:	return "expired";
	case NYM_POW_BITS:	return "too little work";
	case NYM_POW_SPENT:	return "spent already";
	}
	return "unknown verdict";
}

/* ---- SHA-1's compression function (FIPS 180-4, 6.1.2) ----
 * Unrolled: each round stores T in the variable that held e, and b's
 * variable takes ROL(b, 30), so the five names rotate their roles round
 * by round instead of moving five values.  The schedule is kept in 16
 * words, W(i) computing word i over word i - 16. */
#define ROL(x, n)	((x) << (n) | (x) >> (32 - (n)))
#define W(i)	(w[(i) & 15] = ROL(w[((i) - 3) & 15] ^ w[((i) - 8) & 15] ^ \
		    w[((i) - 14) & 15] ^ w[(i) & 15], 1))
#define R0(a, b, c, d, e, x)	(e) += ROL((a), 5) + (((b) & (c)) | \
		    (~(b) & (d))) + 0x5a827999 + (x); (b) = ROL((b), 30)
#define R1(a, b, c, d, e, x)	(e) += ROL((a), 5) + ((b) ^ (c) ^ (d)) + \
		    0x6ed9eba1 + (x); (b) = ROL((b), 30)
#define R2(a, b, c, d, e, x)	(e) += ROL((a), 5) + (((b) & (c)) | \
		    ((b) & (d)) | ((c) & (d))) + 0x8f1bbcdc + (x); \
		    (b) = ROL((b), 30)
#define R3(a, b, c, d, e, x)	(e) += ROL((a), 5) + ((b) ^ (c) ^ (d)) + \
		    0xca62c1d6 + (x); (b) = ROL((b), 30)

static void
loadw(uint32_t w[16], const unsigned char *blk)
{
	size_t i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 |
		    (uint32_t)blk[4 * i + 1] << 16 |
		    (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
}

static void
sha1_block(uint32_t h[5], const unsigned char *blk)
{
	uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	loadw(w, blk);
	R0(a, b, c, d, e, w[0]);
	R0(e, a, b, c, d, w[1]);
	R0(d, e, a, b, c, w[2]);
	R0(c, d, e, a, b, w[3]);
	R0(b, c, d, e, a, w[4]);
	R0(a, b, c, d, e, w[5]);
	R0(e, a, b, c, d, w[6]);
	R0(d, e, a, b, c, w[7]);
	R0(c, d, e, a, b, w[8]);
	R0(b, c, d, e, a, w[9]);
	R0(a, b, c, d, e, w[10]);
	R0(e, a, b, c, d, w[11]);
	R0(d, e, a, b, c, w[12]);
	R0(c, d, e, a, b, w[13]);
	R0(b, c, d, e, a, w[14]);
	R0(a, b, c, d, e, w[15]);
	R0(e, a, b, c, d, W(16));
	R0(d, e, a, b, c, W(17));
	R0(c, d, e, a, b, W(18));
	R0(b, c, d, e, a, W(19));
	R1(a, b, c, d, e, W(20));
	R1(e, a, b, c, d, W(21));
	R1(d, e, a, b, c, W(22));
	R1(c, d, e, a, b, W(23));
	R1(b, c, d, e, a, W(24));
	R1(a, b, c, d, e, W(25));
	R1(e, a, b, c, d, W(26));
	R1(d, e, a, b, c, W(27));
	R1(c, d, e, a, b, W(28));
	R1(b, c, d, e, a, W(29));
	R1(a, b, c, d, e, W(30));
	R1(e, a, b, c, d, W(31));
	R1(d, e, a, b, c, W(32));
	R1(c, d, e, a, b, W(33));
	R1(b, c, d, e, a, W(34));
	R1(a, b, c, d, e, W(35));
	R1(e, a, b, c, d, W(36));
	R1(d, e, a, b, c, W(37));
	R1(c, d, e, a, b, W(38));
	R1(b, c, d, e, a, W(39));
	R2(a, b, c, d, e, W(40));
	R2(e, a, b, c, d, W(41));
	R2(d, e, a, b, c, W(42));
	R2(c, d, e, a, b, W(43));
	R2(b, c, d, e, a, W(44));
	R2(a, b, c, d, e, W(45));
	R2(e, a, b, c, d, W(46));
	R2(d, e, a, b, c, W(47));
	R2(c, d, e, a, b, W(48));
	R2(b, c, d, e, a, W(49));
	R2(a, b, c, d, e, W(50));
	R2(e, a, b, c, d, W(51));
	R2(d, e, a, b, c, W(52));
	R2(c, d, e, a, b, W(53));
	R2(b, c, d, e, a, W(54));
	R2(a, b, c, d, e, W(55));
	R2(e, a, b, c, d, W(56));
	R2(d, e, a, b, c, W(57));
	R2(c, d, e, a, b, W(58));
	R2(b, c, d, e, a, W(59));
	R3(a, b, c, d, e, W(60));
	R3(e, a, b, c, d, W(61));
	R3(d, e, a, b, c, W(62));
	R3(c, d, e, a, b, W(63));
	R3(b, c, d, e, a, W(64));
	R3(a, b, c, d, e, W(65));
	R3(e, a, b, c, d, W(66));
	R3(d, e, a, b, c, W(67));
	R3(c, d, e, a, b, W(68));
	R3(b, c, d, e, a, W(69));
	R3(a, b, c, d, e, W(70));
	R3(e, a, b, c, d, W(71));
	R3(d, e, a, b, c, W(72));
	R3(c, d, e, a, b, W(73));
	R3(b, c, d, e, a, W(74));
	R3(a, b, c, d, e, W(75));
	R3(e, a, b, c, d, W(76));
	R3(d, e, a, b, c, W(77));
	R3(c, d, e, a, b, W(78));
	R3(b, c, d, e, a, W(79));
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/* Rounds 0 to 12 of a block from state h into s: what the minting loop
 * shares between the 64 tries that differ in word 13 only. */
static void
sha1_head(const uint32_t h[5], const uint32_t w[16], uint32_t s[5])
{
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], t;
	int i;

	for (i = 0; i < 13; i++) {
		t = ROL(a, 5) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i];
		e = d;
		d = c;
		c = ROL(b, 30);
		b = a;
		a = t;
	}
	s[0] = a; s[1] = b; s[2] = c; s[3] = d; s[4] = e;
}

/* Rounds 13 to 79 from s, the words in w (overwritten), then the first
 * two words of the digest (h plus the result) into out. */
static void
sha1_tail(const uint32_t h[5], const uint32_t s[5], uint32_t w[16],
    uint32_t out[2])
{
	uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];

	R0(a, b, c, d, e, w[13]);
	R0(e, a, b, c, d, w[14]);
	R0(d, e, a, b, c, w[15]);
	R0(c, d, e, a, b, W(16));
	R0(b, c, d, e, a, W(17));
	R0(a, b, c, d, e, W(18));
	R0(e, a, b, c, d, W(19));
	R1(d, e, a, b, c, W(20));
	R1(c, d, e, a, b, W(21));
	R1(b, c, d, e, a, W(22));
	R1(a, b, c, d, e, W(23));
	R1(e, a, b, c, d, W(24));
	R1(d, e, a, b, c, W(25));
	R1(c, d, e, a, b, W(26));
	R1(b, c, d, e, a, W(27));
	R1(a, b, c, d, e, W(28));
	R1(e, a, b, c, d, W(29));
	R1(d, e, a, b, c, W(30));
	R1(c, d, e, a, b, W(31));
	R1(b, c, d, e, a, W(32));
	R1(a, b, c, d, e, W(33));
	R1(e, a, b, c, d, W(34));
	R1(d, e, a, b, c, W(35));
	R1(c, d, e, a, b, W(36));
	R1(b, c, d, e, a, W(37));
	R1(a, b, c, d, e, W(38));
	R1(e, a, b, c, d, W(39));
	R2(d, e, a, b, c, W(40));
	R2(c, d, e, a, b, W(41));
	R2(b, c, d, e, a, W(42));
	R2(a, b, c, d, e, W(43));
	R2(e, a, b, c, d, W(44));
	R2(d, e, a, b, c, W(45));
	R2(c, d, e, a, b, W(46));
	R2(b, c, d, e, a, W(47));
	R2(a, b, c, d, e, W(48));
	R2(e, a, b, c, d, W(49));
	R2(d, e, a, b, c, W(50));
	R2(c, d, e, a, b, W(51));
	R2(b, c, d, e, a, W(52));
	R2(a, b, c, d, e, W(53));
	R2(e, a, b, c, d, W(54));
	R2(d, e, a, b, c, W(55));
	R2(c, d, e, a, b, W(56));
	R2(b, c, d, e, a, W(57));
	R2(a, b, c, d, e, W(58));
	R2(e, a, b, c, d, W(59));
	R3(d, e, a, b, c, W(60));
	R3(c, d, e, a, b, W(61));
	R3(b, c, d, e, a, W(62));
	R3(a, b, c, d, e, W(63));
	R3(e, a, b, c, d, W(64));
	R3(d, e, a, b, c, W(65));
	R3(c, d, e, a, b, W(66));
	R3(b, c, d, e, a, W(67));
	R3(a, b, c, d, e, W(68));
	R3(e, a, b, c, d, W(69));
	R3(d, e, a, b, c, W(70));
	R3(c, d, e, a, b, W(71));
	R3(b, c, d, e, a, W(72));
	R3(a, b, c, d, e, W(73));
	R3(e, a, b, c, d, W(74));
	R3(d, e, a, b, c, W(75));
	R3(c, d, e, a, b, W(76));
	R3(b, c, d, e, a, W(77));
	R3(a, b, c, d, e, W(78));
	/* cppcheck-suppress unreadVariable */
	R3(e, a, b, c, d, W(79));
	/* 67 rounds: the roles have turned twice, A is in d, B in e. */
	out[0] = h[0] + d;
	out[1] = h[1] + e;
}

/* Do the first bits of a digest, its first two words in h, meet the
 * demand?  bits <= 64 here (NYM_POW_MINT_BITS). */
static int
enough(const uint32_t h[2], unsigned bits)
{
	if (bits == 0)
		return 1;
	if (bits <= 32)
		return h[0] >> (32 - bits) == 0;
	return h[0] == 0 && (bits == 64 || h[1] >> (64 - bits) == 0);
}

static int
resok(const char *r, size_t n)
{
	size_t i;

	if (n == 0 || n > NYM_POW_RES_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)r[i] <= ' ' || r[i] == ':' ||
		    (unsigned char)r[i] == 127)
			return 0;
	return 1;
}

int
nym_pow_mint(const char *resource, unsigned bits, time_t now, char *out,
    size_t cap, uint64_t *tries)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
	    0x10325476, 0xc3d2e1f0 };
	unsigned char blk[64], rnd[RANDLEN + 64], dig[20];
	char buf[NYM_POW_STAMP_MAX + 1];
	size_t rl = strlen(resource), len, pre, full, i;
	uint32_t mid[5], w0[16], w[16], s13[5], h[2];
	uint64_t ctr, n = 0, bitlen;
	struct tm tm;
	int pl;

	if (bits > NYM_POW_MINT_BITS || !resok(resource, rl) ||
	    gmtime_r(&now, &tm) == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (nym_gcry_ready() == -1) {
		errno = ENOSYS;
		return -1;
	}
	pl = snprintf(buf, sizeof buf, "1:%u:%02d%02d%02d:", bits,
	    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday);
	len = (size_t)pl;
	for (i = 0; i < rl; i++)
		buf[len++] = (char)lower((unsigned char)resource[i]);
	buf[len++] = ':';
	buf[len++] = ':';
	/* The random field: 16 characters and as many more as put the
	 * counter at bytes 47 to 54 of the last block, before SHA-1's
	 * padding (0x80, zeros, the length in 8 bytes): its last character
	 * is then in word 13, and the first 13 rounds are the same for the
	 * 64 tries that change that character alone. */
	pre = len + RANDLEN;
	pre += (size_t)(64 + CTRAT - (pre + 1) % 64) % 64;
	nym_random(rnd, sizeof rnd);
	for (i = len; i < pre; i++)
		buf[i] = b64[rnd[i - len] & 63];
	buf[pre] = ':';
	pre++;
	len = pre + CTRLEN;
	if (len + 1 > cap || len > NYM_POW_STAMP_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* the state after every whole block before the counter's */
	full = pre - CTRAT;
	memcpy(mid, iv, sizeof mid);
	for (i = 0; i < full; i += 64)
		sha1_block(mid, (const unsigned char *)buf + i);
	memset(blk, 0, sizeof blk);
	memcpy(blk, buf + full, CTRAT);
	blk[CTRAT + CTRLEN] = 0x80;
	bitlen = (uint64_t)len * 8;
	for (i = 0; i < 8; i++)
		blk[63 - i] = (unsigned char)(bitlen >> (8 * i));
	for (ctr = 0; ctr < (uint64_t)1 << 48; ctr += 64) {
		for (i = 0; i < CTRLEN - 1; i++)
			blk[CTRAT + i] = (unsigned char)b64[ctr >>
			    (6 * (CTRLEN - 1 - i)) & 63];
		blk[CTRAT + CTRLEN - 1] = 0;
		loadw(w0, blk);
		sha1_head(mid, w0, s13);
		for (i = 0; i < 64; i++) {
			memcpy(w, w0, sizeof w);
			w[13] |= (uint32_t)(unsigned char)b64[i] << 8;
			sha1_tail(mid, s13, w, h);
			n++;
			if (enough(h, bits)) {
				blk[CTRAT + CTRLEN - 1] =
				    (unsigned char)b64[i];
				goto found;
			}
		}
	}
	errno = EAGAIN;		/* 2^48 tries: not at 40 bits */
	return -1;
found:
	memcpy(buf + pre, blk + CTRAT, CTRLEN);
	buf[len] = '\0';
	gcry_md_hash_buffer(GCRY_MD_SHA1, dig, buf, len);
	if (zeros(dig) < bits) {
		errno = EPROTO;
		return -1;
	}
	memcpy(out, buf, len + 1);
	if (tries != NULL)
		*tries = n;
	return 0;
}
