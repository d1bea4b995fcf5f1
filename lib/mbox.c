/*
 * mbox.c - the one mbox writer: the lock every program takes and the
 * append that leaves a whole message or nothing.
 *
 * The lock is procmail's: first path.lock, created O_EXCL with our pid
 * in it (what procmail, mutt and mail(1) take), then an fcntl lock on
 * the file (what a client that does not dotlock takes).  Either one
 * held by another program is waited for, up to the caller's limit.  A
 * path.lock whose process is gone, or which is over NYM_DOTLOCK_STALE
 * seconds old, is stale and removed.  A directory that lets nobody but
 * the mail group create files (/var/mail for a user) leaves fcntl alone.
 *
 * An append is synced before it counts; one that fails is cut off again
 * at the size the file had, so no reader ever sees half a message.
 *
 * Nothing here prints, exits or allocates.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "store.h"

/* Is the lock file at path stale: its process gone, or too old? */
static int
stale(const char *path)
{
	char buf[32];
	struct stat st;
	long pid;
	ssize_t n;
	char *end;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT;
	n = fstat(fd, &st) == -1 ? -1 : read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno == 0 && end != buf && (*end == '\n' || *end == '\0') &&
	    pid > 0 && pid <= INT_MAX && kill((pid_t)pid, 0) == -1 &&
	    errno == ESRCH)
		return 1;
	return time(NULL) - st.st_mtime > NYM_DOTLOCK_STALE;
}

/* Take mb->lock by until.  0; 1 if the directory does not let us
 * create one; -1 with errno (EWOULDBLOCK: another holds it). */
static int
dotlock(struct nym_mbox *mb, long long until)
{
	char pid[24];
	int fd, n;

	for (;;) {
		fd = open(mb->lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0644);
		if (fd != -1) {
			mb->dotlocked = 1;
			n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
			if (nym_write_all(fd, pid, (size_t)n) == -1 ||
			    close(fd) == -1) {
				(void)unlink(mb->lock);
				mb->dotlocked = 0;
				return -1;
			}
			return 0;
		}
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 1;
		if (errno != EEXIST)
			return -1;
		if (stale(mb->lock)) {
			(void)unlink(mb->lock);
			continue;
		}
		if (nym_now_ms() >= until) {
			errno = EWOULDBLOCK;
			return -1;
		}
		usleep(100000);
	}
}

/* Remove our path.lock, if we hold one.  0 or -1 with errno. */
static int
dotunlock(struct nym_mbox *mb)
{
	int r = 0;

	if (mb->dotlocked && unlink(mb->lock) == -1)
		r = -1;
	mb->dotlocked = 0;
	return r;
}

int
nym_mbox_lock(struct nym_mbox *mb, const char *path, int create,
    int wait_ms)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	long long until = nym_now_ms() + wait_ms;
	struct stat st;
	int e;

	mb->fd = -1;
	mb->dotlocked = 0;
	mb->size = 0;
	mb->step = NYM_MBOX_DOTLOCK;
	if ((size_t)snprintf(mb->lock, sizeof mb->lock, "%s.lock", path) >=
	    sizeof mb->lock) {
		mb->lock[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if (dotlock(mb, until) == -1)
		return -1;
	mb->step = NYM_MBOX_OPEN;
	mb->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC |
	    (create ? O_CREAT : 0), 0600);
	if (mb->fd == -1)
		goto fail;
	mb->step = NYM_MBOX_FCNTL;
	while (fcntl(mb->fd, F_SETLK, &fl) == -1) {
		if ((errno != EAGAIN && errno != EACCES) ||
		    nym_now_ms() >= until) {
			if (errno == EAGAIN || errno == EACCES)
				errno = EWOULDBLOCK;
			goto fail;
		}
		usleep(100000);
	}
	mb->step = NYM_MBOX_OPEN;
	if (fstat(mb->fd, &st) == -1)
		goto fail;
	mb->size = st.st_size;
	return 0;
fail:
	e = errno;
	if (mb->fd != -1)
		close(mb->fd);
	mb->fd = -1;
	(void)dotunlock(mb);
	errno = e;
	return -1;
}

const char *
nym_mbox_why(const struct nym_mbox *mb, int e)
{
	if (e == EWOULDBLOCK && mb->step == NYM_MBOX_DOTLOCK)
		return "another program holds its .lock";
	if (e == EWOULDBLOCK && mb->step == NYM_MBOX_FCNTL)
		return "another program holds it";
	return strerror(e);
}

int
nym_mbox_unlock(struct nym_mbox *mb)
{
	int r = 0, e = 0;

	/* The fcntl lock goes with the descriptor, then path.lock. */
	if (mb->fd != -1 && close(mb->fd) == -1) {
		r = -1;
		e = errno;
	}
	mb->fd = -1;
	if (dotunlock(mb) == -1 && r == 0) {
		r = -1;
		e = errno;
	}
	errno = e;
	return r;
}

void
nym_mbox_fromline(char *buf, size_t cap, time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	if (strftime(buf, cap, "From MAILER-DAEMON %a %b %e %H:%M:%S %Y\n",
	    &tm) == 0 && cap > 0)
		buf[0] = '\0';
}

/* After a failed append: back to the size at the lock.  0 or -1. */
static int
cutback(struct nym_mbox *mb)
{
	if (ftruncate(mb->fd, mb->size) == -1 || fsync(mb->fd) == -1)
		return -1;
	return 0;
}

/* After an append that counts: what a later one that fails is cut back
 * to, so that it never takes this one with it.  0. */
static int
grown(struct nym_mbox *mb)
{
	struct stat st;

	if (fstat(mb->fd, &st) == 0)
		mb->size = st.st_size;
	return 0;
}

int
nym_mbox_append(struct nym_mbox *mb, const char *msg, size_t n,
    time_t now)
{
	const char *s, *e, *end = msg + n;
	char from[80];
	struct nym_out o;
	size_t len, k;
	int bad, err;

	mb->cutfail = 0;
	if (nym_out_open(&o, mb->fd, NYM_IOBUF) == -1)
		return -1;
	nym_mbox_fromline(from, sizeof from, now);
	nym_out_puts(&o, from);
	/* mboxrd: a From_ line behind any number of '>' gets one more. */
	for (s = msg; s < end; s = e) {
		if ((e = memchr(s, '\n', (size_t)(end - s))) == NULL)
			e = end;
		else
			e++;
		len = (size_t)(e - s);
		for (k = 0; k < len && s[k] == '>'; k++)
			;
		if (len - k >= 5 && memcmp(s + k, "From ", 5) == 0)
			nym_out_write(&o, ">", 1);
		nym_out_write(&o, s, len);
	}
	/* The last line ends, then the empty line between messages. */
	if (n == 0 || msg[n - 1] != '\n')
		nym_out_write(&o, "\n", 1);
	nym_out_write(&o, "\n", 1);
	bad = nym_out_flush(&o) == -1 || fsync(mb->fd) == -1;
	err = errno;
	nym_out_close(&o);
	if (!bad)
		return grown(mb);
	mb->cutfail = cutback(mb) == -1 ? errno : 0;
	errno = err;
	return -1;
}

int
nym_mbox_appendfd(struct nym_mbox *mb, int fd, off_t at,
    unsigned long long len)
{
	static char buf[NYM_IOBUF];
	size_t want;
	ssize_t n;
	int err;

	mb->cutfail = 0;
	while (len > 0) {
		want = len < sizeof buf ? (size_t)len : sizeof buf;
		if ((n = pread(fd, buf, want, at)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0)
				errno = EIO;	/* the source shrank */
			goto fail;
		}
		if (nym_write_all(mb->fd, buf, (size_t)n) == -1)
			goto fail;
		at += n;
		len -= (unsigned long long)n;
	}
	if (fsync(mb->fd) == 0)
		return grown(mb);
fail:
	err = errno;
	mb->cutfail = cutback(mb) == -1 ? errno : 0;
	errno = err;
	return -1;
}
