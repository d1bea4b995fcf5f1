/*
 * seal.c - mail encrypted at rest, the OnionMail way.
 *
 * Whoever stores the mail holds only the inbox's public key: each
 * message gets a fresh random key, sealed to the public key with an
 * X25519 sealed box, and the body goes through libsodium's secretstream
 * (XChaCha20-Poly1305) in chunks, so memory stays the same for any size
 * and a reader can tell a cut file from a whole one by the final tag.
 * The private key is kept locked under a password with Argon2id, its
 * parameters written beside it so that a later version can still derive
 * the same key.  Every byte of a file's framing (preamble, lengths, the
 * last-chunk flag) is bound into the chunks as associated data, so
 * changing any of it is caught like a changed body.  The format is
 * documented in mbox-encrypt(1), FORMAT; change it only with a new
 * version number and keep reading version 1.
 *
 * Speed.  A secretstream chunk of n bytes is the ChaCha20-Poly1305 AEAD
 * of RFC 8439 under the stream's key and nonce, over a 64-byte block
 * holding the tag and then the chunk (of the block only its first byte
 * is kept), except that the MAC pads the ciphertext with n mod 16 zero
 * bytes where RFC 8439 pads it to a multiple of 16: the two agree when n
 * mod 16 is 0 or 8, as for every full chunk.  After a chunk the MAC's
 * first 8 bytes are xored into the nonce's last 8 and its 32-bit counter
 * goes up by one.  libsodium computes cipher and MAC in two passes;
 * libgcrypt has stitched AVX2/AVX-512 code doing both in one, twice as
 * fast.  But starting libgcrypt probes the CPU, and under a hypervisor
 * that costs as much as sealing 300 KB, too much for mail that is mostly
 * a few kilobytes.  So the first FASTAFTER chunks of a record, and
 * chunks whose padding differs (a last one), go through libsodium, the
 * rest through libgcrypt, which writes the same bytes (t/unit/seal.c
 * holds them against libsodium's).  Opening stays with libsodium alone,
 * so every round trip also checks one implementation with the other.
 */
#include <errno.h>
#include <string.h>

#include <gcrypt.h>
#include <sodium.h>

#include "limits.h"
#include "seal.h"

#define SS	crypto_secretstream_xchacha20poly1305
#define SEALED	(crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define FASTAFTER 4	/* chunks of a record sealed by libsodium */

/* Private key file: magic, version, kdf, aead, reserved, opslimit,
 * memlimit, salt, nonce, then the sealed private key. */
#define K_OPS	12
#define K_MEM	20
#define K_SALT	28
#define K_NONCE	(K_SALT + crypto_pwhash_SALTBYTES)
#define K_CT	(K_NONCE + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)

_Static_assert(sizeof(crypto_secretstream_xchacha20poly1305_state) <=
    sizeof(((struct nym_seal *)0)->st), "secretstream state fits");
_Static_assert(NYM_SEAL_PRE + SEALED +
    crypto_secretstream_xchacha20poly1305_HEADERBYTES == NYM_SEAL_HDRLEN,
    "record header length");
_Static_assert(K_CT + NYM_SEAL_SKLEN +
    crypto_aead_xchacha20poly1305_ietf_ABYTES == NYM_SEAL_KEYFILE,
    "key file length");
_Static_assert(crypto_secretstream_xchacha20poly1305_ABYTES + 4 ==
    NYM_SEAL_OVER, "chunk overhead");

static const unsigned char pre1[NYM_SEAL_PRE] = {
	'N', 'Y', 'M', 'B', 'O', 'X', 'E', '1', 1, 1, 1, 16
};
static const unsigned char pubmagic[8] = {
	'N', 'Y', 'M', 'B', 'O', 'X', 'P', '1'
};
static const unsigned char keymagic[8] = {
	'N', 'Y', 'M', 'B', 'O', 'X', 'K', '1'
};

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
nym_seal_keypair(unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char sk[NYM_SEAL_SKLEN])
{
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	return crypto_box_keypair(pk, sk) == 0 ? 0 : -1;
}

void
nym_seal_pubfile(const unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char out[NYM_SEAL_PUBFILE])
{
	memcpy(out, pubmagic, sizeof pubmagic);
	out[8] = 1;
	out[9] = 1;
	memcpy(out + 10, pk, NYM_SEAL_PKLEN);
}

int
nym_seal_pubparse(const unsigned char *in, size_t n,
    unsigned char pk[NYM_SEAL_PKLEN])
{
	if (n < 10 || memcmp(in, pubmagic, sizeof pubmagic) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (in[8] != 1 || in[9] != 1) {
		errno = ENOTSUP;
		return -1;
	}
	if (n != NYM_SEAL_PUBFILE) {
		errno = EINVAL;
		return -1;
	}
	memcpy(pk, in + 10, NYM_SEAL_PKLEN);
	return 0;
}

/* The key that locks a private key, from the password and the file's
 * parameters. */
static int
derive(unsigned char key[32], const char *pw, size_t pwlen,
    const unsigned char *file)
{
	uint64_t ops = get64(file + K_OPS), mem = get64(file + K_MEM);

	if (ops < NYM_SEAL_OPSMIN || ops > NYM_SEAL_OPSMAX ||
	    mem < NYM_SEAL_MEMMIN || mem > NYM_SEAL_MEMMAX) {
		errno = EINVAL;
		return -1;
	}
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	if (crypto_pwhash(key, 32, pw, pwlen, file + K_SALT, ops, (size_t)mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
nym_seal_lock(const unsigned char sk[NYM_SEAL_SKLEN], const char *pw,
    size_t pwlen, uint64_t ops, uint64_t mem,
    unsigned char out[NYM_SEAL_KEYFILE])
{
	unsigned char key[32];
	int r;

	memcpy(out, keymagic, sizeof keymagic);
	out[8] = 1;		/* version */
	out[9] = 1;		/* Argon2id v1.3 */
	out[10] = 1;		/* XChaCha20-Poly1305-IETF */
	out[11] = 0;
	put64(out + K_OPS, ops);
	put64(out + K_MEM, mem);
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	randombytes_buf(out + K_SALT, K_CT - K_SALT);
	if (derive(key, pw, pwlen, out) == -1)
		return -1;
	r = crypto_aead_xchacha20poly1305_ietf_encrypt(out + K_CT, NULL, sk,
	    NYM_SEAL_SKLEN, out, K_CT, NULL, out + K_NONCE, key);
	sodium_memzero(key, sizeof key);
	return r == 0 ? 0 : -1;
}

int
nym_seal_unlock(const unsigned char *in, size_t n, const char *pw,
    size_t pwlen, unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char sk[NYM_SEAL_SKLEN])
{
	unsigned char key[32];
	int r;

	if (n < 12 || memcmp(in, keymagic, sizeof keymagic) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (in[8] != 1 || in[9] != 1 || in[10] != 1) {
		errno = ENOTSUP;
		return -1;
	}
	if (n != NYM_SEAL_KEYFILE || in[11] != 0) {
		errno = EINVAL;
		return -1;
	}
	if (derive(key, pw, pwlen, in) == -1)
		return -1;
	r = crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL,
	    in + K_CT, n - K_CT, in, K_CT, in + K_NONCE, key);
	sodium_memzero(key, sizeof key);
	if (r != 0) {
		errno = EACCES;
		return -1;
	}
	crypto_scalarmult_base(pk, sk);
	return 0;
}

int
nym_seal_begin(struct nym_seal *s, const unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char hdr[NYM_SEAL_HDRLEN])
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	int r;

	if (sodium_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	memset(s, 0, sizeof *s);
	memcpy(s->pre, pre1, NYM_SEAL_PRE);
	memcpy(hdr, pre1, NYM_SEAL_PRE);
	crypto_secretstream_xchacha20poly1305_keygen(key);
	r = crypto_box_seal(hdr + NYM_SEAL_PRE, key, sizeof key, pk);
	if (r == 0)
		r = crypto_secretstream_xchacha20poly1305_init_push(
		    (crypto_secretstream_xchacha20poly1305_state *)(void *)s->st,
		    hdr + NYM_SEAL_PRE + SEALED, key);
	sodium_memzero(key, sizeof key);
	if (r != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* The associated data of a chunk: the preamble and its length field. */
static void
chunkad(const struct nym_seal *s, const unsigned char len[4],
    unsigned char ad[NYM_SEAL_PRE + 4])
{
	memcpy(ad, s->pre, NYM_SEAL_PRE);
	memcpy(ad + NYM_SEAL_PRE, len, 4);
}

int
nym_gcry_ready(void)
{
	static int ready;	/* 0 not tried yet, 1 usable, -1 not */

	if (ready == 0) {
		ready = -1;
		if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
			ready = 1;
		else if (gcry_check_version(GCRYPT_VERSION) != NULL) {
			/* Nothing here asks for libgcrypt's secure memory:
			 * what it copies of a key is wiped when the handle
			 * is closed or the number released. */
			gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
			gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
			ready = 1;
		}
	}
	return ready == 1 ? 0 : -1;
}

/* Seal a chunk of n > 0 bytes, n mod 16 being 0 or 8, with libgcrypt:
 * the n + 17 bytes that crypto_secretstream_xchacha20poly1305_push
 * would write, the state moved on alike.  0, or -1 if libgcrypt cannot
 * (not there, or refusing ChaCha20 in FIPS mode): then the state is as
 * it was and out is to be written again. */
static int
fastput(crypto_secretstream_xchacha20poly1305_state *ss,
    const unsigned char *ad, size_t adlen, const void *p, size_t n,
    unsigned char tag, unsigned char *out)
{
	unsigned char block[64];
	gcry_cipher_hd_t h;
	int i, ok;

	if (nym_gcry_ready() == -1 || gcry_cipher_open(&h, GCRY_CIPHER_CHACHA20,
	    GCRY_CIPHER_MODE_POLY1305, 0) != 0)
		return -1;
	memset(block, 0, sizeof block);
	block[0] = tag;
	ok = gcry_cipher_setkey(h, ss->k, sizeof ss->k) == 0 &&
	    gcry_cipher_setiv(h, ss->nonce, sizeof ss->nonce) == 0 &&
	    gcry_cipher_authenticate(h, ad, adlen) == 0 &&
	    gcry_cipher_encrypt(h, block, sizeof block, NULL, 0) == 0 &&
	    gcry_cipher_encrypt(h, out + 1, n, p, n) == 0 &&
	    gcry_cipher_gettag(h, out + 1 + n, 16) == 0;
	gcry_cipher_close(h);
	out[0] = block[0];
	sodium_memzero(block, sizeof block);
	if (!ok)
		return -1;
	/* The next nonce: the MAC into its last 8 bytes, counter + 1. */
	for (i = 0; i < 8; i++)
		ss->nonce[4 + i] ^= out[1 + n + i];
	sodium_increment(ss->nonce, 4);
	if ((tag & crypto_secretstream_xchacha20poly1305_TAG_REKEY) != 0 ||
	    sodium_is_zero(ss->nonce, 4))
		crypto_secretstream_xchacha20poly1305_rekey(ss);
	return 0;
}

/* Chunks sealed so far in this record (the nonce's counter, from 1). */
static uint32_t
nsealed(const crypto_secretstream_xchacha20poly1305_state *ss)
{
	return ((uint32_t)ss->nonce[0] | (uint32_t)ss->nonce[1] << 8 |
	    (uint32_t)ss->nonce[2] << 16 | (uint32_t)ss->nonce[3] << 24) - 1;
}

size_t
nym_seal_put(struct nym_seal *s, const void *p, size_t n, int final,
    unsigned char *out)
{
	crypto_secretstream_xchacha20poly1305_state *ss =
	    (crypto_secretstream_xchacha20poly1305_state *)(void *)s->st;
	unsigned char ad[NYM_SEAL_PRE + 4], tag;
	uint32_t v;

	if (n > NYM_SEAL_CHUNK)
		n = NYM_SEAL_CHUNK;
	v = (uint32_t)(n + crypto_secretstream_xchacha20poly1305_ABYTES) |
	    (final ? NYM_SEAL_FINAL : 0);
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
	chunkad(s, out, ad);
	tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL :
	    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
	if (n == 0 || (n % 16 != 0 && n % 16 != 8) ||
	    nsealed(ss) < FASTAFTER ||
	    fastput(ss, ad, sizeof ad, p, n, tag, out + 4) == -1)
		crypto_secretstream_xchacha20poly1305_push(ss, out + 4, NULL, p,
		    n, ad, sizeof ad, tag);
	if (final)
		s->done = 1;
	return n + NYM_SEAL_OVER;
}

int
nym_seal_parse(const unsigned char *p, size_t n)
{
	if (n < 8 || memcmp(p, pre1, 8) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (n >= NYM_SEAL_PRE && memcmp(p, pre1, NYM_SEAL_PRE) != 0) {
		errno = ENOTSUP;
		return -1;
	}
	if (n < NYM_SEAL_HDRLEN) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nym_seal_open(struct nym_seal *s, const unsigned char *hdr, size_t n,
    const unsigned char pk[NYM_SEAL_PKLEN],
    const unsigned char sk[NYM_SEAL_SKLEN])
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	int r;

	if (nym_seal_parse(hdr, n) == -1)
		return -1;
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	memset(s, 0, sizeof *s);
	memcpy(s->pre, hdr, NYM_SEAL_PRE);
	if (crypto_box_seal_open(key, hdr + NYM_SEAL_PRE, SEALED, pk,
	    sk) != 0) {
		errno = EACCES;
		return -1;
	}
	r = crypto_secretstream_xchacha20poly1305_init_pull(
	    (crypto_secretstream_xchacha20poly1305_state *)(void *)s->st,
	    hdr + NYM_SEAL_PRE + SEALED, key);
	sodium_memzero(key, sizeof key);
	if (r != 0) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

long
nym_seal_chunklen(const unsigned char len[4], int *final)
{
	uint32_t v = (uint32_t)len[0] << 24 | (uint32_t)len[1] << 16 |
	    (uint32_t)len[2] << 8 | len[3];

	*final = (v & NYM_SEAL_FINAL) != 0;
	v &= ~NYM_SEAL_FINAL;
	if (v < crypto_secretstream_xchacha20poly1305_ABYTES ||
	    v > NYM_SEAL_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES) {
		errno = EBADMSG;
		return -1;
	}
	return (long)v;
}

ssize_t
nym_seal_get(struct nym_seal *s, const unsigned char *in, size_t n,
    unsigned char *out)
{
	unsigned char ad[NYM_SEAL_PRE + 4], tag = 0;
	unsigned long long outlen = 0;
	long len;
	int final;

	if (n < 4 || s->done || (len = nym_seal_chunklen(in, &final)) == -1 ||
	    (size_t)len != n - 4) {
		errno = EBADMSG;
		return -1;
	}
	chunkad(s, in, ad);
	if (crypto_secretstream_xchacha20poly1305_pull(
	    (crypto_secretstream_xchacha20poly1305_state *)(void *)s->st,
	    out, &outlen, &tag, in + 4, (unsigned long long)len, ad,
	    sizeof ad) != 0 || (tag ==
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL) != final ||
	    (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL &&
	    tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)) {
		errno = EBADMSG;
		return -1;
	}
	if (final)
		s->done = 1;
	return (ssize_t)outlen;
}

void
nym_seal_wipe(struct nym_seal *s)
{
	sodium_memzero(s, sizeof *s);
}
