/*
 * fuzz.h - what the libFuzzer harnesses of t/fuzz share: outside bytes
 * turned into the descriptors the library's readers take (a memfd for a
 * file or a pipe, a socketpair for a peer), and an abort that names the
 * broken property (an oracle beyond the sanitizers).  `make fuzz` builds
 * and runs the harnesses; t/0005-fuzz.t runs each for a few seconds.
 */
#ifndef NYM_FUZZ_H
#define NYM_FUZZ_H

#define _GNU_SOURCE	/* memfd_create */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The property broke: say which, and abort so libFuzzer keeps the input. */
#define FZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", #c,	\
		    __FILE__, __LINE__);				\
		abort();						\
	}								\
} while (0)

/* A readable descriptor positioned at the start of p[0, n). */
static inline int
fz_memfd(const void *p, size_t n)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd == -1 || nym_write_all(fd, p, n) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		perror("fuzz: memfd");
		abort();
	}
	return fd;
}

/* An empty memfd to write to, and its bytes read back (malloc'd). */
static inline int
fz_sink(void)
{
	return fz_memfd("", 0);
}

static inline char *
fz_slurp(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *b;

	if (end == -1 || lseek(fd, 0, SEEK_SET) == -1 ||
	    (b = malloc((size_t)end + 1)) == NULL ||
	    nym_read_all(fd, b, (size_t)end) != (ssize_t)end) {
		perror("fuzz: read back");
		abort();
	}
	b[end] = '\0';
	*n = (size_t)end;
	return b;
}

/*
 * A socket whose peer has said p[0, n) and then shut its side: the
 * caller reads the peer's words and may write (what it writes lands in
 * *peer, which it closes).  n must fit the socket buffer (64 KiB does).
 */
static inline int
fz_peer(const void *p, size_t n, int *peer)
{
	int sv[2];

	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    nym_write_all(sv[1], p, n) == -1 ||
	    shutdown(sv[1], SHUT_WR) == -1) {
		perror("fuzz: socketpair");
		abort();
	}
	*peer = sv[1];
	return sv[0];
}

/* A NUL-ended copy of the input (malloc'd). */
static inline char *
fz_str(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

#endif
