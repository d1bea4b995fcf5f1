/*
 * crypto.c - the only file that includes sodium.h.
 *
 * Keys live in files of their own, mode 0600 in a 0700 directory, created
 * atomically on first use so two programs starting at once agree on one
 * key.  A key file anyone else can read is refused rather than used.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "base.h"

int
nym_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static int
readkey(int fd, unsigned char key[NYM_KEYLEN])
{
	unsigned char extra;
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    st.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	if (nym_read_all(fd, key, NYM_KEYLEN) != NYM_KEYLEN ||
	    nym_read_all(fd, &extra, 1) != 0) {
		nym_wipe(key, NYM_KEYLEN);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nym_key_load(const char *path, unsigned char key[NYM_KEYLEN])
{
	int fd, r, e;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (sodium_init() < 0) {
			errno = ENOSYS;
			return -1;
		}
		randombytes_buf(key, NYM_KEYLEN);
		r = nym_atomic_create(path, key, NYM_KEYLEN, 0600, 0700, 0);
		nym_wipe(key, NYM_KEYLEN);
		if (r == -1)
			return -1;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1)
		return -1;
	r = readkey(fd, key);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

void
nym_mac(const unsigned char key[NYM_KEYLEN], const char *context,
    const void *data, size_t n, unsigned char *out, size_t outlen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, NYM_KEYLEN, outlen);
	crypto_generichash_update(&st, (const unsigned char *)context,
	    strlen(context) + 1);
	crypto_generichash_update(&st, data, n);
	crypto_generichash_final(&st, out, outlen);
	sodium_memzero(&st, sizeof st);
}

void
nym_sha256(const void *p, size_t n, unsigned char out[32])
{
	crypto_hash_sha256(out, p, n);
}

int
nym_ed25519_valid(const unsigned char pk[32])
{
	return crypto_core_ed25519_is_valid_point(pk) ? 0 : -1;
}

void
nym_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

void
nym_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

/*
 * Ed25519 from an expanded key.  libsodium's crypto_sign takes the seed,
 * which Tor does not keep: it stores a = the clamped first half of
 * SHA-512(seed) and the second half, the prefix, and so must we sign from
 * those.  RFC 8032 5.1.6: r = SHA-512(prefix | M) mod L, R = rB,
 * k = SHA-512(R | A | M) mod L, S = r + k a mod L; the signature R | S.
 */
static void
reduce64(const unsigned char h[64], unsigned char out[32])
{
	crypto_core_ed25519_scalar_reduce(out, h);
}

/* a mod L, from the 32-byte clamped scalar. */
static void
scalar_of(const unsigned char sk[64], unsigned char a[32])
{
	unsigned char wide[64];

	memcpy(wide, sk, 32);
	memset(wide + 32, 0, 32);
	reduce64(wide, a);
	sodium_memzero(wide, sizeof wide);
}

int
nym_ed25519_public(const unsigned char sk[64], unsigned char pk[32])
{
	unsigned char a[32];
	int r;

	scalar_of(sk, a);
	r = crypto_scalarmult_ed25519_base_noclamp(pk, a);
	sodium_memzero(a, sizeof a);
	if (r != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nym_ed25519_expand(const unsigned char seed[32], unsigned char sk[64],
    unsigned char pk[32])
{
	crypto_hash_sha512(sk, seed, 32);
	sk[0] &= 248;
	sk[31] &= 127;
	sk[31] |= 64;
	if (nym_ed25519_public(sk, pk) == -1) {
		sodium_memzero(sk, 64);
		return -1;
	}
	return 0;
}

int
nym_ed25519_sign(const unsigned char sk[64], const unsigned char pk[32],
    const void *m, size_t n, unsigned char sig[64])
{
	crypto_hash_sha512_state st;
	unsigned char h[64], r[32], k[32], a[32], ka[32];
	int ok;

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, sk + 32, 32);
	crypto_hash_sha512_update(&st, m, n);
	crypto_hash_sha512_final(&st, h);
	reduce64(h, r);
	ok = crypto_scalarmult_ed25519_base_noclamp(sig, r) == 0;
	if (ok) {
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, sig, 32);
		crypto_hash_sha512_update(&st, pk, 32);
		crypto_hash_sha512_update(&st, m, n);
		crypto_hash_sha512_final(&st, h);
		reduce64(h, k);
		scalar_of(sk, a);
		crypto_core_ed25519_scalar_mul(ka, k, a);
		crypto_core_ed25519_scalar_add(sig + 32, r, ka);
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(h, sizeof h);
	sodium_memzero(r, sizeof r);
	sodium_memzero(a, sizeof a);
	sodium_memzero(ka, sizeof ka);
	if (!ok) {
		memset(sig, 0, 64);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nym_ed25519_verify(const unsigned char sig[64], const void *m, size_t n,
    const unsigned char pk[32])
{
	return crypto_sign_verify_detached(sig, m, n, pk) == 0 ? 0 : -1;
}
