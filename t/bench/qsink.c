/*
 * qsink.c - the local delivery command of t/bench/queue.sh: the message
 * on standard input becomes one file in a maildir, durably, the way a
 * careful MDA writes it: O_EXCL in tmp/, write, fsync, close, rename
 * into new/, fsync new/.  Every contender of the queue benchmark runs
 * this same program once per message, and the enqueue benchmark uses it
 * as the baseline of writing the same bytes to a maildir with fsync.
 *
 * usage: qsink MAILDIR [anything ...]
 *
 * The words after MAILDIR (an envelope such as "-f SENDER -- RCPT") are
 * ignored.  Exit 0 once the message is durable, 75 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
fail(const char *what, const char *obj)
{
	fprintf(stderr, "qsink: unable to %s %s: %s\n", what, obj,
	    strerror(errno));
	_exit(75);
}

int
main(int argc, char *argv[])
{
	static char buf[65536];
	char tmp[4096], dst[4096], dir[4096];
	struct timespec ts;
	ssize_t r, w, off;
	int fd, dfd;

	if (argc < 2) {
		fputs("usage: qsink MAILDIR [anything ...]\n", stderr);
		return 64;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof tmp, "%s/tmp/%lld.%09ld.%ld.qsink", argv[1],
	    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid());
	snprintf(dst, sizeof dst, "%s/new/%lld.%09ld.%ld.qsink", argv[1],
	    (long long)ts.tv_sec, ts.tv_nsec, (long)getpid());
	snprintf(dir, sizeof dir, "%s/new", argv[1]);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		fail("create", tmp);
	for (;;) {
		if ((r = read(STDIN_FILENO, buf, sizeof buf)) == -1) {
			if (errno == EINTR)
				continue;
			unlink(tmp);
			fail("read", "the message");
		}
		if (r == 0)
			break;
		for (off = 0; off < r; off += w)
			if ((w = write(fd, buf + off, (size_t)(r - off))) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				unlink(tmp);
				fail("write", tmp);
			}
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		unlink(tmp);
		fail("sync", tmp);
	}
	if (rename(tmp, dst) == -1) {
		unlink(tmp);
		fail("rename", tmp);
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1 ||
	    fsync(dfd) == -1)
		fail("sync", dir);
	close(dfd);
	return 0;
}
