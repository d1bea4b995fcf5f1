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
