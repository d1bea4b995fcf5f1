/*
 * net.c - TCP with a timeout on every step.
 *
 * A mail program that hangs on a dead SAM bridge or SOCKS proxy holds its
 * queue lock forever and never lets the MTA retry, so nothing here waits
 * without a bound: connect(2) runs non-blocking under poll(2) with one
 * deadline for all the addresses of a name, and writes go out in pieces
 * that each get their own wait.  The sockets handed back are blocking
 * (readers poll first, see io.c) and close on exec.
 *
 * Host names are looked up with getaddrinfo(3), for numeric addresses and
 * /etc/hosts names such as "localhost".  .i2p and .onion names are refused
 * before the lookup: such a name must never reach a DNS server, where it
 * would tell the network which hidden service the user is after.  The
 * lookup itself has no deadline of its own (the resolver's timeouts
 * apply); its time is taken off the connect's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "limits.h"
#include "base.h"

long long
nym_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
nym_sleep_until(long long ms)
{
	struct timespec ts;
	long long left;

	while ((left = ms - nym_now_ms()) > 0) {
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
}

int
nym_left_ms(long long deadline)
{
	long long d;

	if (deadline == 0)
		return -1;
	d = deadline - nym_now_ms();
	if (d <= 0)
		return 0;
	return d > INT_MAX ? INT_MAX : (int)d;
}

int
nym_hiddenname(const char *host)
{
	static const char *const tld[] = { ".i2p", ".onion" };
	size_t n = strlen(host), i, k;

	if (n > 0 && host[n - 1] == '.')
		n--;
	for (i = 0; i < sizeof tld / sizeof tld[0]; i++) {
		k = strlen(tld[i]);
		if (n >= k && strncasecmp(host + n - k, tld[i], k) == 0)
			return 1;
	}
	return 0;
}

/* A decimal port: 1..65535, or 0 too if zero_ok. */
static int
port_ok(const char *port, int zero_ok)
{
	long v = 0;
	const char *p;

	if (port == NULL || *port == '\0' || strlen(port) > 5)
		return 0;
	for (p = port; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	return v <= 65535 && (v > 0 || zero_ok);
}

/* getaddrinfo's error as an errno value. */
static int
gai_errno(int r)
{
	switch (r) {
	case EAI_SYSTEM:
		return errno != 0 ? errno : EIO;
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_MEMORY:
		return ENOMEM;
	case EAI_NONAME:
	case EAI_FAIL:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
		return EHOSTUNREACH;
	default:
		return EINVAL;
	}
}

static int
lookup(const char *host, const char *port, int flags, struct addrinfo **res)
{
	struct addrinfo hints;
	int r;

	if ((host != NULL && (*host == '\0' || nym_hiddenname(host))) ||
	    !port_ok(port, flags & AI_PASSIVE)) {
		errno = EINVAL;
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | flags;
	errno = 0;
	if ((r = getaddrinfo(host, port, &hints, res)) != 0) {
		errno = gai_errno(r);
		return -1;
	}
	return 0;
}

/* One non-blocking connect to ai, finished before deadline. */
static int
try_connect(const struct addrinfo *ai, long long deadline)
{
	socklen_t len;
	int fd, on = 1, soerr, e, fl, ms;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		/* nym_wait takes 0 for no limit: a deadline just past is
		 * a timeout, not a wait for ever. */
		if ((ms = nym_left_ms(deadline)) == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (nym_wait(fd, POLLOUT, ms) == -1)
			goto fail;
		len = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
nym_tcp_connect(const char *host, const char *port, int ms)
{
	struct addrinfo *res, *ai;
	long long deadline = ms > 0 ? nym_now_ms() + ms : 0;
	int fd = -1, e = ECONNREFUSED;

	if (host == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (lookup(host, port, 0, &res) == -1)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (deadline != 0 && nym_left_ms(deadline) == 0) {
			e = ETIMEDOUT;
			break;
		}
		if ((fd = try_connect(ai, deadline)) != -1)
			break;
		e = errno;
	}
	freeaddrinfo(res);
	if (fd == -1)
		errno = e;
	return fd;
}

int
nym_tcp_listen(const char *host, const char *port, int *bound)
{
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1, on = 1, e = EADDRNOTAVAIL;

	if (lookup(host, port, AI_PASSIVE, &res) == -1)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof on) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, NYM_LISTEN_BACKLOG) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		errno = e;
		return -1;
	}
	if (bound != NULL) {
		len = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (ss.ss_family == AF_INET6)
			*bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

int
nym_wait(int fd, short events, int ms)
{
	struct pollfd pfd;
	long long deadline = ms > 0 ? nym_now_ms() + ms : 0;
	int r;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		pfd.revents = 0;
		r = poll(&pfd, 1, nym_left_ms(deadline));
		if (r > 0) {
			/* POLLERR, POLLHUP: the next call reports it. */
			if (pfd.revents & POLLNVAL) {
				errno = EBADF;
				return -1;
			}
			return 0;
		}
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

int
nym_wait_ms(int ms, long long deadline)
{
	int left = nym_left_ms(deadline);

	if (left == -1)
		return ms > 0 ? ms : -1;
	return ms > 0 && ms < left ? ms : left;
}

/*
 * send(2) with MSG_DONTWAIT on a socket never blocks past the wait, and
 * MSG_NOSIGNAL turns a closed peer into EPIPE instead of killing the
 * program.  Other descriptors (pipes, terminals) get at most PIPE_BUF
 * bytes per write(2) once poll(2) says there is room, which a pipe takes
 * without blocking.
 */
int
nym_write_timed(int fd, const void *p, size_t n, int ms)
{
	return nym_write_until(fd, p, n, ms, 0);
}

int
nym_write_until(int fd, const void *p, size_t n, int ms, long long deadline)
{
	const char *s = p;
	ssize_t w;
	int sock = 1, wait;

	while (n > 0) {
		/* the whole write's time, not only each wait's */
		if ((wait = nym_wait_ms(ms, deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (sock) {
			w = send(fd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w == -1 && errno == ENOTSOCK) {
				sock = 0;
				continue;
			}
		} else {
			if (nym_wait(fd, POLLOUT, wait) == -1)
				return -1;
			w = write(fd, s, n < PIPE_BUF ? n : PIPE_BUF);
		}
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (nym_wait(fd, POLLOUT, wait) == -1)
				return -1;
			continue;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

time_t
nym_now(void)
{
	const char *s = getenv("NYMBOX_NOW");
	long long v = 0;
	size_t i;

	if (s == NULL || *s == '\0')
		return time(NULL);
	for (i = 0; s[i] != '\0'; i++) {
		/* Digits only, and no later than the year 9999. */
		if (s[i] < '0' || s[i] > '9' || i >= 12) {
			errno = EINVAL;
			return -1;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (v > 253402300799LL || (long long)(time_t)v != v) {
		errno = EINVAL;
		return -1;
	}
	return (time_t)v;
}
