/*
 * atomic.c - the one way a program creates a file.
 *
 * A reader must see either nothing or the whole file, after a crash too.
 * Every file nymbox writes whole (keys, state, the resolver's cache, the
 * delay queue, maildir deliveries, mbox-encrypt's output and the mboxes
 * it rewrites) is made by this one discipline, here:
 *
 *  1. an O_CREAT|O_EXCL temporary file, beside the target under a hidden
 *     name (".target.random") or in a tmp/ directory of its own (the
 *     queue's, a maildir's) on the same file system;
 *  2. write it, fsync it, close it (checked: NFS reports there);
 *  3. link(2) it into place where a name must never be replaced (a key,
 *     a maildir or queue file), or rename(2) it over the old file;
 *  4. fsync the directory, so that the name itself is durable (qmail and
 *     mblaze stop before this step; nq does not);
 *  5. on every error path the temporary file is unlinked, but for a
 *     taken name with link, where it is kept for a retry under another.
 *
 * (pop-fetch publishes a batch of maildir files by the same steps, its
 * files synced by one syncfs(2); issue 12 moves that into maildir.c.)
 *
 * nym_atomic_write does it for bytes in memory, nym_atomic_create for a
 * file made once (a key: of two first uses one wins), nym_afile_* for a
 * file written as it arrives (a 50 MB message); lib/maildir.c is a user
 * of nym_afile.  Nothing else in bin/ or lib/ creates a file with O_EXCL
 * but what is not written whole: lock files (a dotlock, where creating
 * the file is taking the lock) and files that grow by appends (the
 * journal and spool of pop-fetch), whose creation is synced where made.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"

int
nym_syncdir(const char *dir)
{
	return nym_syncdirat(AT_FDCWD, dir);
}

int
nym_syncdirat(int dfd, const char *dir)
{
	int fd, r, e;

	if ((fd = openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
nym_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path), i;
	struct stat st;

	if (n == 0 || n >= sizeof buf) {
		errno = n == 0 ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		buf[i] = i == n ? '\0' : '/';
	}
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
nym_afile_create(struct nym_afile *a, const char *dir, const char *name,
    mode_t mode)
{
	int len;

	a->fd = -1;
	len = snprintf(a->tmp, sizeof a->tmp, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof a->tmp) {
		a->tmp[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	a->fd = open(a->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (a->fd == -1) {
		a->tmp[0] = '\0';
		return -1;
	}
	/* The mode asked for, whatever the umask. */
	if (fchmod(a->fd, mode) == -1) {
		nym_afile_abort(a);
		return -1;
	}
	return 0;
}

/* A new temporary file in dir under a name no one else uses: beside
 * the target name (".name.random", hidden) if beside is not NULL, else
 * "pid.count.random" (a tmp/ directory's, which its cleaners look at). */
static int
fresh(struct nym_afile *a, const char *dir, const char *beside, mode_t mode)
{
	static unsigned long seq;
	char name[NYM_MD_NAME];
	unsigned long long rnd;
	int tries;

	a->fd = -1;
	a->tmp[0] = '\0';
	for (tries = 0; tries < NYM_MD_TRIES; tries++) {
		if (getentropy(&rnd, sizeof rnd) == -1)
			return -1;
		if (beside != NULL)
			snprintf(name, sizeof name, ".%.64s.%016llx", beside,
			    rnd);
		else
			snprintf(name, sizeof name, "%ld.%lu.%016llx",
			    (long)getpid(), ++seq, rnd);
		if (nym_afile_create(a, dir, name, mode) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
nym_afile_open(struct nym_afile *a, const char *tmpdir, mode_t mode)
{
	return fresh(a, tmpdir, NULL, mode);
}

int
nym_afile_beside(struct nym_afile *a, const char *dir, const char *name,
    mode_t mode)
{
	return fresh(a, dir, name, mode);
}

void
nym_afile_abort(struct nym_afile *a)
{
	int e = errno;

	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	if (a->tmp[0] != '\0')
		unlink(a->tmp);
	a->tmp[0] = '\0';
	errno = e;
}

/* Steps 2 to 5 for a.  With takeback, a new name whose directory could
 * not be synced is removed again: it is a message whose sender will try
 * again.  Without, it stays: a key that another process may have read
 * already (nym_atomic_write). */
static int
commit(struct nym_afile *a, const char *dir, const char *name,
    unsigned flags, int takeback)
{
	char dst[PATH_MAX];
	int len, e, fd = a->fd;

	if (fd != -1) {
		a->fd = -1;
		if (fsync(fd) == -1) {
			a->fd = fd;
			goto fail;
		}
		if (close(fd) == -1)
			goto fail;
	}
	len = snprintf(dst, sizeof dst, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof dst) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (flags & NYM_ATOMIC_NOCLOBBER) {
		if (link(a->tmp, dst) == -1) {
			if (errno == EEXIST)
				return -1;	/* kept: try another name */
			goto fail;
		}
		unlink(a->tmp);
	} else if (rename(a->tmp, dst) == -1)
		goto fail;
	a->tmp[0] = '\0';
	if (nym_syncdir(dir) == -1) {
		/* Not durable.  A replaced file stays either way: the old
		 * one is gone. */
		e = errno;
		if (takeback && (flags & NYM_ATOMIC_NOCLOBBER))
			unlink(dst);
		errno = e;
		return -1;
	}
	return 0;
fail:
	nym_afile_abort(a);
	return -1;
}

int
nym_afile_commit(struct nym_afile *a, const char *dir, const char *name,
    unsigned flags)
{
	return commit(a, dir, name, flags, 1);
}

int
nym_atomic_write(const char *dir, const char *name, const void *p,
    size_t n, mode_t mode, unsigned flags)
{
	struct nym_afile a;

	if (nym_afile_beside(&a, dir, name, mode) == -1)
		return -1;
	if (nym_write_all(a.fd, p, n) == -1 || ((flags & NYM_ATOMIC_NL) &&
	    nym_write_all(a.fd, "\n", 1) == -1) ||
	    commit(&a, dir, name, flags, 0) == -1) {
		nym_afile_abort(&a);	/* kept on EEXIST: not wanted here */
		return -1;
	}
	return 0;
}

int
nym_atomic_create(const char *path, const void *p, size_t n, mode_t mode,
    mode_t dmode, unsigned flags)
{
	char dir[PATH_MAX];
	const char *name;

	if ((name = nym_splitpath(path, dir, sizeof dir)) == NULL)
		return -1;
	if (*name == '\0') {
		errno = EISDIR;
		return -1;
	}
	if (nym_mkdirs(dir, dmode) == -1)
		return -1;
	if (nym_atomic_write(dir, name, p, n, mode, flags |
	    NYM_ATOMIC_NOCLOBBER) == 0)
		return 1;
	return errno == EEXIST ? 0 : -1;
}

const char *
nym_splitpath(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	const char *from = slash == NULL ? "." : path;
	size_t n = slash == NULL || slash == path ? 1 : (size_t)(slash - path);

	if (n >= cap) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(dir, from, n);
	dir[n] = '\0';
	return slash == NULL ? path : slash + 1;
}

int
nym_tmpfile(const char **dir)
{
	char path[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (dir != NULL)
		*dir = tmp;
	if ((size_t)snprintf(path, sizeof path, "%s/%s.XXXXXX", tmp,
	    nym_progname) >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(path)) == -1)
		return -1;
	(void)unlink(path);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
