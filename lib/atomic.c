/*
 * atomic.c - the one routine every program uses to create a file.
 *
 * A reader must see either nothing or the whole file, after a crash too:
 * O_EXCL temporary file beside the target, write, fsync, checked close,
 * link (never replace) or rename (replace) into place, then fsync the
 * directory so the new name itself is durable (qmail and mblaze stop
 * before that last step; nq does not).  nym_afile_* is the same for a
 * file written as it arrives, with its temporary file in a directory of
 * its own (the delay queue's tmp/).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

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
nym_atomic_write(const char *dir, const char *name, const void *p,
    size_t n, mode_t mode, unsigned flags)
{
	static unsigned long seq;
	char tmp[PATH_MAX], dst[PATH_MAX];
	struct timespec ts;
	int fd = -1, tries, e, len;

	len = snprintf(dst, sizeof dst, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= sizeof dst) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (tries = 0; tries < 16; tries++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		len = snprintf(tmp, sizeof tmp, "%s/.tmp.%ld.%lu.%ld", dir,
		    (long)getpid(), ++seq, (long)ts.tv_nsec);
		if (len < 0 || (size_t)len >= sizeof tmp) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return -1;
	if (fchmod(fd, mode) == -1 || nym_write_all(fd, p, n) == -1 ||
	    fsync(fd) == -1) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		e = errno;
		goto fail;
	}
	if (flags & NYM_ATOMIC_NOCLOBBER) {
		if (link(tmp, dst) == -1) {
			e = errno;
			goto fail;
		}
		unlink(tmp);
	} else if (rename(tmp, dst) == -1) {
		e = errno;
		goto fail;
	}
	return nym_syncdir(dir);
fail:
	unlink(tmp);
	errno = e;
	return -1;
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
nym_afile_open(struct nym_afile *a, const char *tmpdir, mode_t mode)
{
	static unsigned long seq;
	unsigned long long rnd;
	int tries, len;

	a->fd = -1;
	a->tmp[0] = '\0';
	for (tries = 0; tries < 16; tries++) {
		if (getentropy(&rnd, sizeof rnd) == -1)
			return -1;
		len = snprintf(a->tmp, sizeof a->tmp, "%s/%ld.%lu.%016llx",
		    tmpdir, (long)getpid(), ++seq, rnd);
		if (len < 0 || (size_t)len >= sizeof a->tmp) {
			a->tmp[0] = '\0';
			errno = ENAMETOOLONG;
			return -1;
		}
		a->fd = open(a->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    mode);
		if (a->fd != -1) {
			if (fchmod(a->fd, mode) == -1) {
				nym_afile_abort(a);
				return -1;
			}
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	a->tmp[0] = '\0';
	return -1;
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

int
nym_afile_commit(struct nym_afile *a, const char *dir, const char *name,
    unsigned flags)
{
	char dst[PATH_MAX];
	int len, fd = a->fd;

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
		/* Not durable.  A new name is taken back (the caller will try
		 * again); a replaced file stays, since the old one is gone. */
		int e = errno;

		if (flags & NYM_ATOMIC_NOCLOBBER)
			unlink(dst);
		errno = e;
		return -1;
	}
	return 0;
fail:
	nym_afile_abort(a);
	return -1;
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
