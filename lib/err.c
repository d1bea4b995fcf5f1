/*
 * err.c - diagnostics and the errno-to-exit-code map.
 *
 * One line on stderr, "prog: unable to VERB OBJECT: reason".  Programs
 * that an MTA runs must never exit 1, so the callers pass a sysexits code
 * and nym_exitcode() decides between "retry later" and "internal error".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "nymbox.h"

const char *nym_progname = "nymbox";
int nym_exitforce;

void
nym_setprogname(const char *argv0)
{
	const char *p;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	nym_progname = p != NULL ? p + 1 : argv0;
}

static void
vmsg(int errnum, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	if (errnum != 0)
		fprintf(stderr, "%s: %s: %s\n", nym_progname, buf,
		    strerror(errnum));
	else
		fprintf(stderr, "%s: %s\n", nym_progname, buf);
}

void
nym_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	exit(nym_exitforce != 0 ? nym_exitforce : code);
}

void
nym_dieerr(int code, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
	exit(nym_exitforce != 0 ? nym_exitforce : code);
}

void
nym_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

int
nym_worse(int a, int b)
{
	if (a == NYM_EX_TEMPFAIL || b == NYM_EX_TEMPFAIL)
		return NYM_EX_TEMPFAIL;
	return a != NYM_EX_OK ? a : b;
}

int
nym_exitcode(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EAGAIN:
	case EINTR:
	case ENOMEM:
	case ENFILE:
	case EMFILE:
	case ETIMEDOUT:
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EPIPE:
	case EBUSY:
	case EROFS:
	case ESTALE:
	case EPROTO:		/* a garbled reply from a peer or a bridge */
		return NYM_EX_TEMPFAIL;
	default:
		return NYM_EX_SOFTWARE;
	}
}

long
nym_number(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		nym_die(NYM_EX_USAGE, "unable to use %s %s: expected %ld to %ld",
		    what, s, min, max);
	return v;
}

void
nym_quietstderr(void)
{
	struct stat e, o;
	int fd;

	if (fstat(STDERR_FILENO, &e) == -1 || fstat(STDOUT_FILENO, &o) == -1 ||
	    !S_ISSOCK(e.st_mode) || e.st_dev != o.st_dev ||
	    e.st_ino != o.st_ino)
		return;
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1) {
		dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	}
}
