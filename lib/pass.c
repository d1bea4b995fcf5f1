/*
 * pass.c - read a password from a file, a descriptor or the terminal;
 * count the failed logins of a server over time.
 *
 * Passwords never come from argv (ps would show them to every user).  A
 * file must be readable by its owner only; a descriptor is read to its
 * first line end; on a terminal the echo is turned off.  Only the first
 * line counts, its CR removed, so that a file written by any editor
 * works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"

/* One line (at most cap - 1 bytes) from fd into buf, a byte at a time so
 * that nothing after it is consumed. */
static int
readline(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			errno = EMSGSIZE;
			goto fail;
		}
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
fail:
	explicit_bzero(buf, cap);
	return -1;
}

int
nym_password(const char *file, int fd, const char *what, char *buf,
    size_t cap)
{
	struct termios t, t0;
	struct stat st;
	int r, e;

	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
			return -1;
		if (fstat(fd, &st) == -1) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if ((st.st_mode & 077) != 0) {
			close(fd);
			errno = EPERM;
			return -1;
		}
		r = readline(fd, buf, cap);
		e = errno;
		close(fd);
		errno = e;
		return r;
	}
	if (fd >= 0) {
		r = readline(fd, buf, cap);
		e = errno;
		close(fd);
		errno = e;
		return r;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		errno = ENXIO;
		return -1;
	}
	if (tcgetattr(fd, &t0) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	t = t0;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	(void)tcsetattr(fd, TCSAFLUSH, &t);
	dprintf(fd, "Password for %s: ", what);
	r = readline(fd, buf, cap);
	e = errno;
	(void)tcsetattr(fd, TCSAFLUSH, &t0);
	dprintf(fd, "\n");
	close(fd);
	errno = e;
	return r;
}

/*
 * Failed logins over time.  A server run once per connection (inetd,
 * sam-accept) forgets a guesser when the connection ends, and a guesser
 * opens many at once, so the failures are kept in a small file that all
 * of them share: NYM_AUTHFAIL_SLOTS times, each the time of one failure,
 * the oldest replaced by the next.  The file never grows.  flock(2) makes
 * the read and the write one step; a lock not had within a second is an
 * error, never a wait without end.
 */
int
nym_authfail(const char *path, int window, int note)
{
	int64_t slot[NYM_AUTHFAIL_SLOTS];
	long long deadline = nym_now_ms() + 1000;
	time_t now = nym_now();
	size_t i, old = 0;
	int fd, e, n = 0;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    nym_now_ms() >= deadline) {
			e = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
			close(fd);
			errno = e;
			return -1;
		}
		nym_sleep_until(nym_now_ms() + 20);
	}
	memset(slot, 0, sizeof slot);
	/* a short file (a new one) leaves the rest of the slots zero */
	if (pread(fd, slot, sizeof slot, 0) == -1)
		goto fail;
	for (i = 0; i < NYM_AUTHFAIL_SLOTS; i++) {
		/* a time from the future (a clock set back, a damaged
		 * file) counts as now, so it cannot lock anyone out
		 * for longer than the window */
		if (slot[i] > (int64_t)now)
			slot[i] = (int64_t)now;
		if (slot[i] < slot[old])
			old = i;
	}
	if (note) {
		slot[old] = (int64_t)now;
		if (pwrite(fd, slot, sizeof slot, 0) != (ssize_t)sizeof slot)
			goto fail;
	}
	for (i = 0; i < NYM_AUTHFAIL_SLOTS; i++)
		if (slot[i] > (int64_t)now - window)
			n++;
	close(fd);		/* and the lock with it */
	return n;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

void
nym_authlimit(const char *s, int *max, int *window)
{
	char buf[64], *slash;
	size_t n = strlen(s);

	if (n >= sizeof buf || (slash = memchr(memcpy(buf, s, n + 1), '/', n)) ==
	    NULL)
		nym_die(NYM_EX_USAGE, "unable to use failure limit %s: "
		    "expected MAX/SECONDS", s);
	*slash = '\0';
	*max = (int)nym_num(NYM_EX_USAGE, "-F", buf, 1, NYM_AUTHFAIL_SLOTS);
	*window = (int)nym_num(NYM_EX_USAGE, "-F", slash + 1, 1, 86400);
}
