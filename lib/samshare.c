/*
 * samshare.c - lend one SAM session to the other programs of its owner.
 *
 * A mail domain on I2P is one destination, and a destination can be in
 * one SAM session at a time: while sam-accept receives for alice.i2p,
 * sam-deliver cannot create a session of its own with the same key
 * (DUPLICATED_DEST), yet receivers check that Alice's mail comes from
 * exactly that destination.  So the holder lends its session over a UNIX
 * socket in the user's 0700 configuration directory: a borrower asks for
 * a lookup or a stream, and a stream comes back as a file descriptor
 * (SCM_RIGHTS), opened by a child of the lender so a slow peer never
 * holds up its accept loop.  Only processes of the same user are served
 * (SO_PEERCRED).  One request per connection keeps both sides simple.
 */
#define _GNU_SOURCE		/* struct ucred, accept4 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "nymbox.h"

#define REQ_MAX	8192		/* "CONNECT " and a destination */

static int
unaddr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Send one line, and with it fd when fd >= 0. */
static int
sendline(int sock, const char *line, int fd, int ms)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	size_t n = strlen(line);
	ssize_t w;

	if (fd < 0)
		return nym_write_timed(sock, line, n, ms);
	memset(&mh, 0, sizeof mh);
	memset(cbuf, 0, sizeof cbuf);
	iov.iov_base = (void *)(uintptr_t)line;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof cbuf;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (nym_wait(sock, POLLOUT, ms) == -1)
		return -1;
	do
		w = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	if (w == -1)
		return -1;
	/* The descriptor went with the first byte; the rest is plain. */
	return (size_t)w == n ? 0 :
	    nym_write_timed(sock, line + w, n - (size_t)w, ms);
}

/* Read one line into buf (NUL ended, LF removed), and a descriptor if
 * one comes with it (*fd, else -1).  0, or -1 with errno (EPROTO for a
 * line over cap, ECONNRESET at EOF). */
static int
recvline(int sock, char *buf, size_t cap, int *fd, int ms)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	size_t n = 0;
	ssize_t r;

	if (fd != NULL)
		*fd = -1;
	while (n + 1 < cap) {
		if (nym_wait(sock, POLLIN, ms) == -1)
			goto fail;
		memset(&mh, 0, sizeof mh);
		iov.iov_base = buf + n;
		iov.iov_len = 1;	/* never read past the line */
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		do
			r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			goto fail;
		if (r == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS) {
				int got;

				memcpy(&got, CMSG_DATA(cm), sizeof got);
				if (fd != NULL && *fd == -1)
					*fd = got;
				else
					close(got);
			}
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	errno = EPROTO;
fail:
	if (fd != NULL && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	return -1;
}

int
nym_share_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd, e;

	if (unaddr(&sa, path) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
answer(int c, int res, const char *value, int fd, int ms)
{
	char line[REQ_MAX];

	if (res == NYM_SAM_OK)
		snprintf(line, sizeof line, "OK%s%s\n", value != NULL ? " " :
		    "", value != NULL ? value : "");
	else
		snprintf(line, sizeof line, "ERR %d %d\n", res,
		    res == -1 ? errno : 0);
	(void)sendline(c, line, fd, ms);
}

pid_t
nym_share_serve(int lfd, struct nym_sam *s, int ms)
{
	char req[REQ_MAX], *dest = NULL;
	struct ucred cr;
	socklen_t len = sizeof cr;
	pid_t pid = 0;
	int c, fd, res;

	if ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return errno == EINTR || errno == EAGAIN ||
		    errno == ECONNABORTED ? 0 : -1;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1 ||
	    cr.uid != geteuid() || recvline(c, req, sizeof req, NULL, ms) == -1)
		goto done;
	if (strcmp(req, "ME") == 0)
		answer(c, NYM_SAM_OK, s->pub, -1, ms);
	else if (strncmp(req, "LOOKUP ", 7) == 0) {
		res = nym_sam_lookup(s, req + 7, &dest, NULL);
		answer(c, res, dest, -1, ms);
		free(dest);
	} else if (strncmp(req, "CONNECT ", 8) == 0) {
		/* A peer may take a minute to answer: not in this process. */
		if ((pid = fork()) == 0) {
			close(lfd);
			res = nym_sam_connect(s, req + 8, &fd);
			answer(c, res, NULL, res == NYM_SAM_OK ? fd : -1, ms);
			_exit(0);
		}
		if (pid == -1) {
			answer(c, -1, NULL, -1, ms);
			pid = 0;
		}
	} else
		answer(c, NYM_SAM_PROTO, NULL, -1, ms);
done:
	close(c);
	return pid;
}

/* One request to the lender: the reply's value (after "OK ") into val,
 * a descriptor into *fd if fd is not NULL.  The SAM result, or -1. */
static int
ask(struct nym_sam *s, const char *req, char *val, size_t cap, int *fd)
{
	struct sockaddr_un sa;
	char line[REQ_MAX];
	int c, res, e, err;

	if (unaddr(&sa, s->share) == -1 ||
	    (c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(c, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    sendline(c, req, -1, s->ms) == -1 ||
	    recvline(c, line, sizeof line, fd, s->ms) == -1) {
		e = errno;
		close(c);
		errno = e;
		return -1;
	}
	close(c);
	if (strncmp(line, "OK", 2) == 0 && (line[2] == '\0' ||
	    line[2] == ' ')) {
		if (val != NULL)
			snprintf(val, cap, "%s", line[2] == ' ' ? line + 3 : "");
		return NYM_SAM_OK;
	}
	if (fd != NULL && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	if (sscanf(line, "ERR %d %d", &res, &err) != 2 || res < -1 ||
	    res > NYM_SAM_PROTO) {
		errno = EPROTO;
		return -1;
	}
	if (res == -1)
		errno = err != 0 ? err : EIO;
	return res;
}

int
nym_sam_borrow(struct nym_sam *s, const char *path, int ms)
{
	char pub[REQ_MAX];
	int res;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->in.fd = -1;
	s->ms = ms;
	s->minor = 1;
	if (strlen(path) >= sizeof s->share) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(s->share, path, strlen(path) + 1);
	res = ask(s, "ME\n", pub, sizeof pub, NULL);
	if (res != NYM_SAM_OK || nym_dest_b32(pub, strlen(pub), s->b32) == -1 ||
	    (s->pub = strdup(pub)) == NULL) {
		if (res != -1)
			errno = EPROTO;
		s->share[0] = '\0';
		return -1;
	}
	return 0;
}

int
nym_share_lookup(struct nym_sam *s, const char *name, char **dest)
{
	char req[REQ_MAX], val[REQ_MAX];
	int res;

	*dest = NULL;
	if ((size_t)snprintf(req, sizeof req, "LOOKUP %s\n", name) >=
	    sizeof req) {
		errno = EINVAL;
		return -1;
	}
	res = ask(s, req, val, sizeof val, NULL);
	if (res == NYM_SAM_OK && (*dest = strdup(val)) == NULL)
		return -1;
	return res;
}

int
nym_share_connect(struct nym_sam *s, const char *dest, int *fd)
{
	char req[REQ_MAX];
	int res;

	*fd = -1;
	if ((size_t)snprintf(req, sizeof req, "CONNECT %s\n", dest) >=
	    sizeof req) {
		errno = EINVAL;
		return -1;
	}
	res = ask(s, req, NULL, 0, fd);
	if (res == NYM_SAM_OK && *fd == -1) {
		errno = EPROTO;
		return -1;
	}
	return res;
}
