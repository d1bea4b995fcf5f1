/*
 * onionkey.c - an onion service's key in Tor's HiddenServiceDir files.
 *
 * Tor keeps a v3 service's key in three files: hs_ed25519_secret_key
 * (the tag "== ed25519v1-secret: type0 ==" padded with NULs to 32 bytes,
 * then the 64-byte expanded key: clamped scalar and nonce prefix),
 * hs_ed25519_public_key (the tag "== ed25519v1-public: type0 ==" padded
 * likewise, then the 32-byte key) and hostname ("<56>.onion" and a line
 * end).  We read a directory Tor made, and make one Tor will serve, so
 * that the key that signs a sender's mail is the very key of the onion
 * service that receives its replies.
 */
#define _GNU_SOURCE	/* renameat2, RENAME_NOREPLACE */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base.h"
#include "tor.h"

#define SECRET	"hs_ed25519_secret_key"
#define PUBLIC	"hs_ed25519_public_key"
#define HOST	"hostname"
#define TAGLEN	32
static const char sectag[] = "== ed25519v1-secret: type0 ==";
static const char pubtag[] = "== ed25519v1-public: type0 ==";

void
nym_onion_key_wipe(struct nym_onion_key *k)
{
	nym_wipe(k, sizeof *k);
}

static int
fail(struct nym_onion_key *k, char *why, int err, const char *file,
    const char *what)
{
	const char *base = strrchr(file, '/');

	nym_onion_key_wipe(k);
	/* the file's name only: the caller names the directory */
	snprintf(why, NYM_ONION_WHY, "%.40s: %.240s",
	    base != NULL ? base + 1 : file, what);
	errno = err;
	return -1;
}

static int
tagged(const unsigned char *b, const char *tag)
{
	size_t n = strlen(tag);

	if (memcmp(b, tag, n) != 0)
		return 0;
	for (; n < TAGLEN; n++)
		if (b[n] != 0)
			return 0;
	return 1;
}

int
nym_onion_key_load(const char *dir, struct nym_onion_key *k,
    char why[NYM_ONION_WHY])
{
	char path[PATH_MAX], wbuf[200];
	unsigned char buf[TAGLEN + 64 + 1], pk[32];
	ssize_t n;
	int e;

	memset(k, 0, sizeof *k);
	why[0] = '\0';
	if ((size_t)snprintf(path, sizeof path, "%s/" SECRET, dir) >=
	    sizeof path)
		return fail(k, why, ENAMETOOLONG, dir, strerror(ENAMETOOLONG));
	n = nym_read_small(path, buf, sizeof buf, 1);
	if (n == -1) {
		e = errno;
		return fail(k, why, e == EFBIG ? EINVAL : e, path,
		    e == EFBIG ? "not a Tor v3 secret key (too long)" :
		    nym_secretwhy(path, e, wbuf, sizeof wbuf));
	}
	if (n != TAGLEN + 64 || !tagged(buf, sectag)) {
		nym_wipe(buf, sizeof buf);
		return fail(k, why, EINVAL, path, "not a Tor v3 secret key "
		    "(\"== ed25519v1-secret: type0 ==\" and 64 bytes)");
	}
	memcpy(k->sk, buf + TAGLEN, 64);
	nym_wipe(buf, sizeof buf);
	if (nym_ed25519_public(k->sk, k->pk) == -1 ||
	    nym_ed25519_valid(k->pk) == -1)
		return fail(k, why, EINVAL, path, "a secret key that is no "
		    "Ed25519 key");
	if (nym_onion_name(k->pk, k->name) == -1)
		return fail(k, why, ENOSYS, path, "libgcrypt has no SHA3-256");

	if ((size_t)snprintf(path, sizeof path, "%s/" PUBLIC, dir) >=
	    sizeof path)
		return fail(k, why, ENAMETOOLONG, dir, strerror(ENAMETOOLONG));
	n = nym_read_small(path, buf, sizeof buf, 0);
	if (n == -1 && errno != ENOENT) {
		e = errno;
		return fail(k, why, e == EFBIG ? EINVAL : e, path,
		    e == EFBIG ? "not a Tor v3 public key" : strerror(e));
	}
	if (n != -1) {
		if (n != TAGLEN + 32 || !tagged(buf, pubtag))
			return fail(k, why, EINVAL, path, "not a Tor v3 "
			    "public key (\"== ed25519v1-public: type0 ==\" "
			    "and 32 bytes)");
		memcpy(pk, buf + TAGLEN, 32);
		if (memcmp(pk, k->pk, 32) != 0)
			return fail(k, why, EINVAL, path, "not the public "
			    "key of " SECRET);
	}

	if ((size_t)snprintf(path, sizeof path, "%s/" HOST, dir) >=
	    sizeof path)
		return fail(k, why, ENAMETOOLONG, dir, strerror(ENAMETOOLONG));
	n = nym_read_small(path, buf, sizeof buf - 1, 0);
	if (n == -1 && errno != ENOENT) {
		e = errno;
		return fail(k, why, e == EFBIG ? EINVAL : e, path,
		    e == EFBIG ? "not an onion name" : strerror(e));
	}
	if (n != -1) {
		size_t len = (size_t)n;

		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r'))
			len--;
		if (len != NYM_ONION_NAME - 1 ||
		    strncasecmp((const char *)buf, k->name, len) != 0)
			return fail(k, why, EINVAL, path, "not the onion name "
			    "of " SECRET);
	}
	return 0;
}

static void
cleanup(const char *tmp)
{
	char path[PATH_MAX];
	static const char *const names[] = { SECRET, PUBLIC, HOST };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if ((size_t)snprintf(path, sizeof path, "%s/%s", tmp,
		    names[i]) < sizeof path)
			(void)unlink(path);
	}
	(void)rmdir(tmp);
}

int
nym_onion_key_create(const char *dir, struct nym_onion_key *k)
{
	unsigned char seed[32], buf[TAGLEN + 64];
	char tmp[PATH_MAX], parent[PATH_MAX], host[NYM_ONION_NAME + 1];
	struct stat st;
	int e;

	memset(k, 0, sizeof *k);
	if (nym_crypto_init() == -1) {
		errno = ENOSYS;
		return -1;
	}
	if (lstat(dir, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (nym_splitpath(dir, parent, sizeof parent) == NULL)
		return -1;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dir) >=
	    sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* the directories above it too (~/.config/nymbox on first use) */
	if (nym_mkdirs(parent, 0700) == -1)
		return -1;
	nym_random(seed, sizeof seed);
	if (nym_ed25519_expand(seed, k->sk, k->pk) == -1 ||
	    nym_onion_name(k->pk, k->name) == -1) {
		nym_wipe(seed, sizeof seed);
		nym_onion_key_wipe(k);
		errno = EINVAL;
		return -1;
	}
	nym_wipe(seed, sizeof seed);
	if (mkdtemp(tmp) == NULL) {
		nym_onion_key_wipe(k);
		return -1;
	}
	memset(buf, 0, sizeof buf);
	memcpy(buf, sectag, sizeof sectag - 1);
	memcpy(buf + TAGLEN, k->sk, 64);
	if (nym_atomic_write(tmp, SECRET, buf, TAGLEN + 64, 0600,
	    NYM_ATOMIC_NOCLOBBER) == -1)
		goto bad;
	memset(buf, 0, sizeof buf);
	memcpy(buf, pubtag, sizeof pubtag - 1);
	memcpy(buf + TAGLEN, k->pk, 32);
	if (nym_atomic_write(tmp, PUBLIC, buf, TAGLEN + 32, 0600,
	    NYM_ATOMIC_NOCLOBBER) == -1)
		goto bad;
	snprintf(host, sizeof host, "%s", k->name);
	if (nym_atomic_write(tmp, HOST, host, strlen(host), 0600,
	    NYM_ATOMIC_NOCLOBBER | NYM_ATOMIC_NL) == -1)
		goto bad;
	/* mkdtemp made it 0700; the whole directory appears at once, and
	 * never in place of one that is there */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) == -1)
		goto bad;
	nym_wipe(buf, sizeof buf);
	(void)nym_syncdir(parent);
	return 0;
bad:
	e = errno;
	nym_wipe(buf, sizeof buf);
	cleanup(tmp);
	nym_onion_key_wipe(k);
	errno = e;
	return -1;
}
