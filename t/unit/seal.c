/*
 * seal.c - the record and key file formats of seal.c: the preamble and
 * chunk-length parsers at and past every bound, key files locked and
 * unlocked (wrong password, changed parameters, later versions), and
 * records sealed and opened in memory with chunks changed, dropped,
 * swapped or flagged last when they are not.  Inputs are copied into
 * buffers of exactly their length so that ASan sees any overread.
 * Long records are held byte for byte against libsodium's own
 * secretstream, since seal.c seals their later chunks with libgcrypt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base.h"
#include "seal.h"
#include "tap.h"

/* p[0, n) in a buffer of its own, exactly n bytes long. */
static unsigned char *
dup(const void *p, size_t n)
{
	unsigned char *b = malloc(n ? n : 1);

	if (b == NULL)
		exit(99);
	memcpy(b, p, n);
	return b;
}

static int
parse(const void *p, size_t n)
{
	unsigned char *b = dup(p, n);
	int r;

	errno = 0;
	r = nym_seal_parse(b, n);
	free(b);
	return r == 0 ? 0 : errno;
}

static void
preamble(void)
{
	unsigned char h[NYM_SEAL_HDRLEN];

	memset(h, 0, sizeof h);
	memcpy(h, "NYMBOXE1\001\001\001\020", 12);
	check_int(parse(h, sizeof h), 0, "a version 1 header parses");
	check_int(parse(h, sizeof h - 1), EINVAL, "one byte short: EINVAL");
	check_int(parse(h, 8), EINVAL, "magic only: EINVAL");
	check_int(parse(h, 4), EINVAL, "half the magic: EINVAL");
	check_int(parse(h, 0), EINVAL, "nothing: EINVAL");
	check_int(parse("From a@b Thu", 12), EINVAL, "a plain message: EINVAL");
	h[8] = 2;
	check_int(parse(h, sizeof h), ENOTSUP, "version 2: ENOTSUP");
	h[8] = 1;
	h[9] = 2;
	check_int(parse(h, sizeof h), ENOTSUP, "other key sealing: ENOTSUP");
	h[9] = 1;
	h[10] = 0;
	check_int(parse(h, sizeof h), ENOTSUP, "other cipher: ENOTSUP");
	h[10] = 1;
	h[11] = 17;
	check_int(parse(h, sizeof h), ENOTSUP, "other chunk size: ENOTSUP");
	h[0] = 'n';
	h[11] = 16;
	check_int(parse(h, sizeof h), EINVAL, "magic is case-sensitive");
}

static long
clen(uint32_t v, int *final)
{
	unsigned char b[4] = { (unsigned char)(v >> 24),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	    (unsigned char)v };

	return nym_seal_chunklen(b, final);
}

static void
chunklens(void)
{
	int final = -1;

	check_int(clen(16, &final), -1, "16: shorter than a tag");
	check_int(clen(17, &final), 17, "17: an empty chunk");
	check_int(final, 0, "17: not the last");
	check_int(clen(17 | NYM_SEAL_FINAL, &final), 17, "empty last chunk");
	check_int(final, 1, "the top bit is the last-chunk flag");
	check_int(clen(NYM_SEAL_CHUNK + 17, &final), NYM_SEAL_CHUNK + 17,
	    "a full chunk");
	check_int(clen(NYM_SEAL_CHUNK + 18, &final), -1, "one byte over");
	check_int(clen(0x7fffffff, &final), -1, "huge");
	check_int(clen(0, &final), -1, "zero");
}

static void
pubkeys(void)
{
	unsigned char pk[NYM_SEAL_PKLEN], sk[NYM_SEAL_SKLEN], got[32];
	unsigned char f[NYM_SEAL_PUBFILE], *b;

	check_int(nym_seal_keypair(pk, sk), 0, "a key pair");
	nym_seal_pubfile(pk, f);
	b = dup(f, sizeof f);
	check_int(nym_seal_pubparse(b, sizeof f, got), 0, "public key parses");
	check(memcmp(got, pk, 32) == 0, "and gives the key back");
	check_int(nym_seal_pubparse(b, sizeof f - 1, got), -1, "cut: refused");
	check_int(errno, EINVAL, "cut: EINVAL");
	b[8] = 2;
	check_int(nym_seal_pubparse(b, sizeof f, got), -1, "version 2");
	check_int(errno, ENOTSUP, "version 2: ENOTSUP");
	free(b);
}

static void
keyfiles(void)
{
	unsigned char pk[32], sk[32], pk2[32], sk2[32];
	unsigned char f[NYM_SEAL_KEYFILE], g[NYM_SEAL_KEYFILE];

	nym_seal_keypair(pk, sk);
	check_int(nym_seal_lock(sk, "pw", 2, 1, 8192, f), 0, "locked");
	check(memcmp(f, "NYMBOXK1\001\001\001\000", 12) == 0, "its preamble");
	check_int(f[19], 1, "opslimit recorded");
	check_int(f[26], 0x20, "memlimit recorded");
	check_int(nym_seal_unlock(f, sizeof f, "pw", 2, pk2, sk2), 0,
	    "unlocked");
	check(memcmp(sk, sk2, 32) == 0 && memcmp(pk, pk2, 32) == 0,
	    "the same key pair");
	check_int(nym_seal_unlock(f, sizeof f, "pW", 2, pk2, sk2), -1,
	    "wrong password");
	check_int(errno, EACCES, "wrong password: EACCES");
	check_int(nym_seal_unlock(f, sizeof f, "pw", 1, pk2, sk2), -1,
	    "a prefix of the password");
	memcpy(g, f, sizeof g);
	g[19] = 2;
	check_int(nym_seal_unlock(g, sizeof g, "pw", 2, pk2, sk2), -1,
	    "changed opslimit");
	check_int(errno, EACCES, "changed opslimit: EACCES");
	memcpy(g, f, sizeof g);
	g[12] = 1;
	check_int(nym_seal_unlock(g, sizeof g, "pw", 2, pk2, sk2), -1,
	    "opslimit out of bounds");
	check_int(errno, EINVAL, "opslimit out of bounds: EINVAL");
	memcpy(g, f, sizeof g);
	g[8] = 2;
	check_int(nym_seal_unlock(g, sizeof g, "pw", 2, pk2, sk2), -1,
	    "version 2");
	check_int(errno, ENOTSUP, "version 2: ENOTSUP");
	check_int(nym_seal_unlock(f, sizeof f - 1, "pw", 2, pk2, sk2), -1,
	    "cut");
	check_int(errno, EINVAL, "cut: EINVAL");
	memcpy(g, f, sizeof g);
	g[sizeof g - 1] ^= 1;
	check_int(nym_seal_unlock(g, sizeof g, "pw", 2, pk2, sk2), -1,
	    "changed ciphertext");
}

/* A record of three chunks (2, 3 and 1 bytes) in rec; chunk offsets in
 * at[]. */
static size_t
seal3(const unsigned char pk[32], unsigned char *rec, size_t at[4])
{
	struct nym_seal s;
	size_t n = NYM_SEAL_HDRLEN;

	nym_seal_begin(&s, pk, rec);
	at[0] = n;
	n += nym_seal_put(&s, "ab", 2, 0, rec + n);
	at[1] = n;
	n += nym_seal_put(&s, "cde", 3, 0, rec + n);
	at[2] = n;
	n += nym_seal_put(&s, "f", 1, 1, rec + n);
	at[3] = n;
	check(s.done, "sealing the last chunk ends the record");
	nym_seal_wipe(&s);
	return n;
}

/* Open rec and its chunks in the order given; the plaintext into out.
 * Returns 0 or the errno of the first failure. */
static int
open3(const unsigned char pk[32], const unsigned char sk[32],
    const unsigned char *rec, const size_t at[4], const int order[],
    int norder, char *out)
{
	static unsigned char plain[NYM_SEAL_CHUNK];
	struct nym_seal s;
	unsigned char *c;
	ssize_t m;
	size_t len;
	int i;

	*out = '\0';
	if (nym_seal_open(&s, rec, NYM_SEAL_HDRLEN, pk, sk) == -1)
		return errno;
	for (i = 0; i < norder; i++) {
		len = at[order[i] + 1] - at[order[i]];
		c = dup(rec + at[order[i]], len);
		m = nym_seal_get(&s, c, len, plain);
		free(c);
		if (m == -1)
			return errno;
		strncat(out, (char *)plain, (size_t)m);
	}
	return s.done ? 0 : -2;
}

static void
records(void)
{
	static const int inorder[] = { 0, 1, 2 }, swapped[] = { 1, 0, 2 },
	    dropped[] = { 0, 2 }, again[] = { 0, 1, 2, 2 };
	unsigned char pk[32], sk[32], pk2[32], sk2[32];
	unsigned char rec[512], bad[512];
	size_t at[4], n;
	char out[64];

	nym_seal_keypair(pk, sk);
	nym_seal_keypair(pk2, sk2);
	n = seal3(pk, rec, at);
	check_int(n, NYM_SEAL_HDRLEN + 6 + 3 * NYM_SEAL_OVER, "record size");
	check_int(open3(pk, sk, rec, at, inorder, 3, out), 0, "opens");
	check_str(out, "abcdef", "gives the plaintext back");
	check_int(open3(pk2, sk2, rec, at, inorder, 3, out), EACCES,
	    "another key: EACCES");
	check_int(open3(pk, sk, rec, at, swapped, 3, out), EBADMSG,
	    "chunks swapped: EBADMSG");
	check_int(open3(pk, sk, rec, at, dropped, 2, out), EBADMSG,
	    "a chunk dropped: EBADMSG");
	check_int(open3(pk, sk, rec, at, inorder, 2, out), -2,
	    "cut before the last chunk: not done");
	check_int(open3(pk, sk, rec, at, again, 4, out), EBADMSG,
	    "a chunk after the last: EBADMSG");
	memcpy(bad, rec, n);
	bad[at[0]] |= 0x80;
	check_int(open3(pk, sk, bad, at, inorder, 3, out), EBADMSG,
	    "a chunk flagged last when it is not: EBADMSG");
	memcpy(bad, rec, n);
	bad[at[2]] &= 0x7f;
	check_int(open3(pk, sk, bad, at, inorder, 3, out), EBADMSG,
	    "the last chunk unflagged: EBADMSG");
	memcpy(bad, rec, n);
	bad[at[1] + 5] ^= 1;
	check_int(open3(pk, sk, bad, at, inorder, 3, out), EBADMSG,
	    "a changed ciphertext byte: EBADMSG");
	memcpy(bad, rec, n);
	bad[50] ^= 1;
	check_int(open3(pk, sk, bad, at, inorder, 3, out), EACCES,
	    "a changed sealed key: EACCES");
	memcpy(bad, rec, n);
	bad[100] ^= 1;
	check_int(open3(pk, sk, bad, at, inorder, 3, out), EBADMSG,
	    "a changed stream header: EBADMSG");
}

/* What crypto_secretstream_xchacha20poly1305_push makes of chunk p[0, n)
 * in state ss, framed as seal.c frames it, into out. */
static size_t
refput(crypto_secretstream_xchacha20poly1305_state *ss, const void *p,
    size_t n, int final, unsigned char *out)
{
	static const unsigned char pre[NYM_SEAL_PRE] = {
		'N', 'Y', 'M', 'B', 'O', 'X', 'E', '1', 1, 1, 1, 16
	};
	unsigned char ad[NYM_SEAL_PRE + 4];
	uint32_t v = (uint32_t)(n + 17) | (final ? NYM_SEAL_FINAL : 0);

	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
	memcpy(ad, pre, NYM_SEAL_PRE);
	memcpy(ad + NYM_SEAL_PRE, out, 4);
	crypto_secretstream_xchacha20poly1305_push(ss, out + 4, NULL, p, n,
	    ad, sizeof ad, final ?
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL :
	    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
	return n + NYM_SEAL_OVER;
}

/* Seal the chunks of sizes len[] (the last one final) from state st,
 * both ways; 1 if every byte agrees.  The record is then opened. */
static int
same(const unsigned char pk[32], const unsigned char sk[32],
    struct nym_seal *s, const size_t *len, int nlen, const char *what)
{
	static unsigned char plain[NYM_SEAL_CHUNK], got[NYM_SEAL_CHUNK];
	static unsigned char a[NYM_SEAL_CHUNK + NYM_SEAL_OVER];
	static unsigned char b[NYM_SEAL_CHUNK + NYM_SEAL_OVER];
	crypto_secretstream_xchacha20poly1305_state ref;
	unsigned char hdr[NYM_SEAL_HDRLEN];
	struct nym_seal o;
	size_t m, k;
	int i, ok = 1, opened;

	memcpy(&ref, s->st, sizeof ref);
	if (nym_seal_begin(&o, pk, hdr) == -1)
		return 0;
	memcpy(o.st, s->st, sizeof o.st);	/* open what s seals */
	opened = sk != NULL;
	for (i = 0; i < nlen; i++) {
		randombytes_buf(plain, len[i]);
		m = nym_seal_put(s, plain, len[i], i == nlen - 1, a);
		k = refput(&ref, plain, len[i], i == nlen - 1, b);
		if (m != k || memcmp(a, b, m) != 0) {
			printf("# %s: chunk %d of %zu bytes differs\n", what,
			    i, len[i]);
			ok = 0;
		}
		if (opened && nym_seal_get(&o, a, m, got) != (ssize_t)len[i])
			opened = 0;
		if (opened && memcmp(got, plain, len[i]) != 0)
			opened = 0;
	}
	if (sk != NULL && (!opened || !o.done)) {
		printf("# %s: does not open\n", what);
		ok = 0;
	}
	return ok && memcmp(&ref, s->st, sizeof ref) == 0;
}

static void
longrecords(void)
{
	static const size_t full[] = { 65536, 65536, 65536, 65536, 65536,
	    65536, 65536, 1000 };
	static const size_t odd[] = { 1, 65536, 0, 17, 64, 63, 65, 65535,
	    4097, 8, 24, 40, 4, 12, 3, 1 };
	static const size_t tail[] = { 5, 5, 5, 5, 5, 0 };
	static const size_t wrap[] = { 160, 64, 65536, 16, 8, 7 };
	unsigned char pk[32], sk[32], hdr[NYM_SEAL_HDRLEN];
	crypto_secretstream_xchacha20poly1305_state *ss;
	struct nym_seal s;

	nym_seal_keypair(pk, sk);
	nym_seal_begin(&s, pk, hdr);
	check(same(pk, NULL, &s, full, 8, "full"),
	    "eight chunks: libsodium's bytes, state and all");
	nym_seal_begin(&s, pk, hdr);
	check(same(pk, NULL, &s, odd, 16, "odd"),
	    "every size mod 16, an empty chunk: libsodium's bytes");
	nym_seal_begin(&s, pk, hdr);
	check(same(pk, NULL, &s, tail, 6, "tail"),
	    "an empty last chunk after the fifth: libsodium's bytes");
	/* The counter about to wrap: both rekey at the same chunk. */
	nym_seal_begin(&s, pk, hdr);
	ss = (crypto_secretstream_xchacha20poly1305_state *)(void *)s.st;
	memset(ss->nonce, 0xff, 4);
	ss->nonce[0] = 0xfe;
	check(same(pk, NULL, &s, wrap, 6, "wrap"),
	    "the counter wraps: rekeyed as libsodium does");
	/* And nym_seal_get opens what nym_seal_put sealed, past chunk 4. */
	memset(&s, 0, sizeof s);
	check(nym_seal_begin(&s, pk, hdr) == 0 && same(pk, sk, &s, full, 8,
	    "open"), "a long record opens chunk by chunk");
}

int
main(void)
{
	if (nym_crypto_init() == -1)
		return 99;
	preamble();
	chunklens();
	pubkeys();
	keyfiles();
	records();
	longrecords();
	return tap_done();
}
