/*
 * err.c - diagnostics and the errno-to-exit-code map.
 *
 * One line on stderr, "prog: unable to VERB OBJECT: reason".  Programs
 * that an MTA runs must never exit 1, so the callers pass a sysexits code
 * and nym_exitcode() decides between "retry later" and "internal error".
 *
 * Every exit of a program passes through nym_exitas(), the one place that
 * knows two rules: a checker's fixed code (scrub-headers -c exits 2 on
 * any error, like grep), and the MTA rule of nymbox(7), EXIT STATUS:
 * Postfix and OpenSMTPD bounce a message on every code but 75 and 71, so
 * a program that delivers for them (nym_delivering) turns 78, a local
 * set-up mistake, into 75 with the same message, and the mail waits in
 * the queue until the set-up is fixed instead of going back to its
 * sender.  Interactive commands and servers starting up keep 78.
 *
 * nym_start() also makes every program undumpable before it reads
 * anything (DESIGN, Secrets): most of them hold a key or a password at
 * some point, and marking the few that do would leave the next one out.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "base.h"

const char *nym_progname = "nymbox";
int nym_exitforce;
static const char *usagetext = "";
static int delivering;

void
nym_setprogname(const char *argv0)
{
	const char *p;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	nym_progname = p != NULL ? p + 1 : argv0;
}

void
nym_start(int argc, char *const argv[], const char *usage)
{
	struct rlimit rl;
	const char *now;

	nym_setprogname(argc > 0 ? argv[0] : NULL);
	usagetext = usage;
	signal(SIGPIPE, SIG_IGN);
	/* Most of these programs hold a key or a password at some point,
	 * and a core file would keep it on disk: no core, no ptrace by
	 * other processes of the user, before anything is read. */
	if (getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur != 0) {
		rl.rlim_cur = 0;
		(void)setrlimit(RLIMIT_CORE, &rl);
	}
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The clock tests inject, read one way (nym_now) and refused
	 * here with one message, so that no program reads it on its own. */
	if (nym_now() == -1 && (now = getenv("NYMBOX_NOW")) != NULL)
		nym_die(NYM_EX_USAGE,
		    "unable to use NYMBOX_NOW %.40s: expected "
		    "seconds since the epoch", now);
	if (argc < 2)
		return;
	if (strcmp(argv[1], "--help") == 0) {
		if (fputs(usage, stdout) == EOF ||
		    printf("See %s(1).\n", nym_progname) < 0 ||
		    fflush(stdout) == EOF)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to write the usage");
		exit(NYM_EX_OK);
	}
	if (strcmp(argv[1], "--version") == 0) {
		if (printf("%s nymbox %s\n", nym_progname, NYM_VERSION) < 0 ||
		    fflush(stdout) == EOF)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to write the version");
		exit(NYM_EX_OK);
	}
}

void
nym_usage(void)
{
	fputs(usagetext, stderr);
	exit(nym_exitas(NYM_EX_USAGE));
}

void
nym_delivering(void)
{
	delivering = 1;
}

int
nym_exitas(int code)
{
	if (nym_exitforce != 0)
		return nym_exitforce;
	if (delivering && code == NYM_EX_CONFIG)
		return NYM_EX_TEMPFAIL;
	return code;
}

/* Make s safe for a log in place: one line, no terminal controls.  A
 * file name, address or peer string can hold anything, and a newline
 * in it would forge a second log line.  C0 controls and DEL become
 * \n, \r, \t or \ooo (vis(3) style), cut to fit cap. */
static void
logsafe(char *s, size_t cap)
{
	char tmp[1024];
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; s[i] != '\0' && o + 5 < sizeof tmp; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f) {
			tmp[o++] = (char)c;
			continue;
		}
		tmp[o++] = '\\';
		if (c == '\n')
			tmp[o++] = 'n';
		else if (c == '\r')
			tmp[o++] = 'r';
		else if (c == '\t')
			tmp[o++] = 't';
		else {
			tmp[o++] = (char)('0' + (c >> 6));
			tmp[o++] = (char)('0' + ((c >> 3) & 7));
			tmp[o++] = (char)('0' + (c & 7));
		}
	}
	tmp[o] = '\0';
	snprintf(s, cap, "%s", tmp);
}

static void
vmsg(int errnum, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	logsafe(buf, sizeof buf);
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
	exit(nym_exitas(code));
}

void
nym_dieerr(int code, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vmsg(e, fmt, ap);
	va_end(ap);
	exit(nym_exitas(code));
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

int
nym_unreachable(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EADDRNOTAVAIL:
	case EPIPE:
	case EPROTO:		/* something that is not the server answered */
		return 1;
	default:
		return 0;
	}
}

const char *
nym_secretwhy(const char *path, int err, char *buf, size_t cap)
{
	struct stat st;

	if (err != EPERM || lstat(path, &st) == -1)
		return strerror(err);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if ((st.st_mode & 077) != 0)
		snprintf(buf, cap, "%s by others: chmod 600 %s",
		    (st.st_mode & 044) != 0 ? "readable" : "writable", path);
	else if (st.st_uid != geteuid())
		snprintf(buf, cap, "owned by uid %lu, not by this user (uid "
		    "%lu): chown it", (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
	else
		return strerror(err);
	return buf;
}

int
nym_tolong(const char *s, long min, long max, long *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < min || n > max) {
		errno = EINVAL;
		return -1;
	}
	*v = n;
	return 0;
}

long
nym_num(int code, const char *what, const char *s, long min, long max)
{
	long v;

	if (nym_tolong(s, min, max, &v) == 0)
		return v;
	if (code == NYM_EX_CONFIG)
		nym_die(code,
		    "unable to use %s = %s in %s: expected %ld to %ld",
		    what, s, nym_conf_name(), min, max);
	nym_die(code, "unable to use %s %s: expected %ld to %ld", what, s,
	    min, max);
}

uint64_t
nym_size(int code, const char *what, const char *s, uint64_t max)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		mul = 1024;
	else if (*end == 'm' || *end == 'M')
		mul = 1024ULL * 1024;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ULL * 1024 * 1024;
	if (mul > 1)
		end++;
	if (errno != 0 || end == s || *end != '\0' || *s < '0' || *s > '9' ||
	    v == 0 || v > max / mul) {
		if (code == NYM_EX_CONFIG)
			nym_die(code, "unable to use %s = %s in %s: expected "
			    "1 to %llu bytes (or with K, M, G)", what, s,
			    nym_conf_name(), (unsigned long long)max);
		nym_die(code, "unable to use %s %s: expected 1 to %llu bytes "
		    "(or with K, M, G)", what, s, (unsigned long long)max);
	}
	return v * mul;
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
