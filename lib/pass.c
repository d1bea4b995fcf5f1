/*
 * pass.c - read a password from a file, a descriptor or the terminal.
 *
 * Passwords never come from argv (ps would show them to every user).  A
 * file must be readable by its owner only; a descriptor is read to its
 * first line end; on a terminal the echo is turned off.  Only the first
 * line counts, its CR removed, so that a file written by any editor
 * works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include "nymbox.h"

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
