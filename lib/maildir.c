/*
 * maildir.c - a message written into a maildir while it arrives.
 *
 * nym_afile (atomic.c) with a maildir's names: the file is made in tmp/
 * under the name it will have in new/, the caller writes it, and commit
 * links it into new/ (never replacing, another name if that one is
 * taken) and syncs new/.  A reader of new/ sees the whole message or
 * nothing, after a crash too; every error path removes the temporary
 * file.
 *
 * Names are "seconds.MmicrosPpidQcountRrandom.nymbox": unique on this
 * machine without the host name, which would say whose machine it is to
 * anyone the maildir is copied to.  Encrypted mail gets 128 random bits
 * alone, which do not say when it came either.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "store.h"

/* A fresh unique name into f->name.  0 or -1 (no randomness). */
static int
newname(struct nym_mdfile *f)
{
	static unsigned long count;
	unsigned long long rnd = 0;
	unsigned char r[16];
	struct timespec ts;

	if (f->random) {
		if (getentropy(r, sizeof r) == -1)
			return -1;
		nym_base32(r, sizeof r, f->name);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getentropy(&rnd, sizeof rnd) == -1)
		rnd = (unsigned long long)ts.tv_nsec ^
		    ((unsigned long long)count << 32);
	snprintf(f->name, sizeof f->name, "%lld.M%ldP%ldQ%luR%016llx.nymbox",
	    (long long)ts.tv_sec, (long)(ts.tv_nsec / 1000), (long)getpid(),
	    ++count, rnd);
	return 0;
}

/* dir/sub/name into buf.  0 or -1 ENAMETOOLONG. */
static int
pathof(char *buf, size_t cap, const char *dir, const char *sub,
    const char *name)
{
	int n;

	n = snprintf(buf, cap, "%s/%s%s%s", dir, sub, *name != '\0' ? "/" : "",
	    name);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
nym_maildir_make(const char *dir)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char path[NYM_MD_PATH];
	size_t i;

	if (nym_mkdirs(dir, 0700) == -1)
		return -1;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (pathof(path, sizeof path, dir, sub[i], "") == -1 ||
		    nym_mkdirs(path, 0700) == -1)
			return -1;
	return 0;
}

static int
mdopen(struct nym_mdfile *f, const char *dir, int random)
{
	char tmpdir[NYM_MD_PATH];
	int tries, n;

	f->af.fd = -1;
	f->af.tmp[0] = '\0';
	f->random = random;
	n = snprintf(f->dir, sizeof f->dir, "%s", dir);
	if (n < 0 || (size_t)n >= sizeof f->dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (pathof(tmpdir, sizeof tmpdir, dir, "tmp", "") == -1)
		return -1;
	for (tries = 0; tries < NYM_MD_TRIES; tries++) {
		if (newname(f) == -1)
			return -1;
		if (nym_afile_create(&f->af, tmpdir, f->name, 0600) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
nym_maildir_open(struct nym_mdfile *f, const char *dir)
{
	return mdopen(f, dir, 0);
}

int
nym_maildir_open_random(struct nym_mdfile *f, const char *dir)
{
	return mdopen(f, dir, 1);
}

void
nym_maildir_abort(struct nym_mdfile *f)
{
	nym_afile_abort(&f->af);
}

int
nym_maildir_commit(struct nym_mdfile *f)
{
	char newdir[NYM_MD_PATH];
	int tries;

	if (pathof(newdir, sizeof newdir, f->dir, "new", "") == -1) {
		nym_afile_abort(&f->af);
		return -1;
	}
	for (tries = 0;; tries++) {
		if (nym_afile_commit(&f->af, newdir, f->name,
		    NYM_ATOMIC_NOCLOBBER) == 0)
			return 0;
		if (errno != EEXIST || f->af.tmp[0] == '\0')
			return -1;	/* nothing left behind */
		/* Taken in new/ (by another host): another name. */
		if (tries == NYM_MD_TRIES || newname(f) == -1) {
			nym_afile_abort(&f->af);
			return -1;
		}
	}
}

int
nym_maildir_published(const char *dir, const char *name)
{
	char path[NYM_MD_PATH];
	struct dirent *de;
	size_t n = strlen(name);
	DIR *d;
	int found = 0;

	if (*name == '\0')
		return 0;
	if (pathof(path, sizeof path, dir, "new", name) == 0 &&
	    access(path, F_OK) == 0)
		return 1;
	if (pathof(path, sizeof path, dir, "cur", "") == -1 ||
	    (d = opendir(path)) == NULL)
		return 0;
	/* A reader that saw it moved it to cur/ and added ":2,flags". */
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, name, n) == 0 &&
		    (de->d_name[n] == '\0' || de->d_name[n] == ':');
	closedir(d);
	return found;
}

/* ---- a batch of files published together (group commit) ---- */

int
nym_mdbatch_open(struct nym_mdbatch *b, const char *dir)
{
	int e;

	b->n = 0;
	b->bytes = 0;
	b->start = 0;
	b->dirfd = b->newfd = -1;
	if (strlen(dir) >= sizeof b->dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(b->dir, dir, strlen(dir) + 1);
	if (nym_maildir_make(dir) == -1 ||
	    (b->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (b->newfd = openat(b->dirfd, "new", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		e = errno;
		nym_mdbatch_close(b);
		errno = e;
		return -1;
	}
	return 0;
}

void
nym_mdbatch_add(struct nym_mdbatch *b, const struct nym_mdfile *f,
    size_t tag, unsigned long long bytes)
{
	int k = (int)b->n;

	memcpy(b->tmp[k], f->tmp, sizeof b->tmp[k]);
	memcpy(b->name[k], f->name, sizeof b->name[k]);
	b->tag[k] = tag;
	if (k == 0)
		b->start = nym_now_ms();
	b->bytes += bytes;
	/* Counted last: a signal handler unlinks only whole entries. */
	b->n = k + 1;
}

int
nym_mdbatch_due(const struct nym_mdbatch *b)
{
	return b->n == NYM_POPF_BATCH_MAX ||
	    b->bytes >= NYM_POPF_BATCH_BYTES ||
	    nym_now_ms() - b->start >= NYM_POPF_BATCH_MS;
}

void
nym_mdbatch_drop(struct nym_mdbatch *b)
{
	while (b->n > 0) {
		(void)unlink(b->tmp[b->n - 1]);
		b->n--;
	}
	b->bytes = 0;
}

int
nym_mdbatch_sync(struct nym_mdbatch *b)
{
	/* syncfs(2), without _GNU_SOURCE for the whole file. */
	return syscall(SYS_syncfs, b->dirfd) == 0 ? 0 : -1;
}

size_t
nym_mdbatch_link(struct nym_mdbatch *b, int *err)
{
	char dst[NYM_MD_PATH];
	size_t nl, n = (size_t)b->n;

	*err = 0;
	for (nl = 0; nl < n; nl++) {
		if ((size_t)snprintf(dst, sizeof dst, "%s/new/%s", b->dir,
		    b->name[nl]) >= sizeof dst) {
			*err = ENAMETOOLONG;
			break;
		}
		/* The caller's journal names it: a taken name fails. */
		if (link(b->tmp[nl], dst) == -1) {
			*err = errno;
			break;
		}
	}
	nym_mdbatch_drop(b);
	return nl;
}

int
nym_mdbatch_syncnew(struct nym_mdbatch *b, size_t nl)
{
	char dst[NYM_MD_PATH];
	size_t k;
	int e;

	if (nl == 0 || fsync(b->newfd) == 0)
		return 0;
	e = errno;
	/* Not durable: take them back. */
	for (k = 0; k < nl; k++)
		if ((size_t)snprintf(dst, sizeof dst, "%s/new/%s", b->dir,
		    b->name[k]) < sizeof dst)
			(void)unlink(dst);
	errno = e;
	return -1;
}

void
nym_mdbatch_close(struct nym_mdbatch *b)
{
	nym_mdbatch_drop(b);
	if (b->newfd != -1)
		close(b->newfd);
	if (b->dirfd != -1)
		close(b->dirfd);
	b->newfd = b->dirfd = -1;
}
