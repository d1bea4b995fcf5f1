/*
 * samborrow.c - the borrower's side of a lent SAM session, and the wire
 * both sides speak.
 *
 * The layers, top to bottom: samshare.c (the holder and its lender:
 * it makes sessions with sam.c and answers borrowers), sam.c (the SAM
 * client: a borrowed session's lookups and streams come here), this
 * file (a request over the lender's UNIX socket, a line with perhaps a
 * descriptor in it).  Nothing here calls up.  The protocol is in
 * i2p.h, "samborrow.c".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "limits.h"
#include "base.h"
#include "i2p.h"

int
nym_share_reach(int fd, const char *path, int bindit)
{
	struct sockaddr_un sa;
	char dir[PATH_MAX];
	const char *slash;
	size_t n = strlen(path), d;
	int dfd = -1, r, e;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (n < sizeof sa.sun_path)
		memcpy(sa.sun_path, path, n + 1);
	else {
		/* Too long for an address: reach it through a descriptor
		 * of its directory. */
		if ((slash = strrchr(path, '/')) == NULL ||
		    (d = slash > path ? (size_t)(slash - path) : 1) >=
		    sizeof dir) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, d);
		dir[d] = '\0';
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			return -1;
		if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path,
		    "/proc/self/fd/%d/%s", dfd, slash + 1) >=
		    sizeof sa.sun_path) {
			close(dfd);
			errno = ENAMETOOLONG;
			return -1;
		}
	}
	r = bindit ? bind(fd, (struct sockaddr *)&sa, sizeof sa) :
	    connect(fd, (struct sockaddr *)&sa, sizeof sa);
	e = errno;
	if (dfd != -1)
		close(dfd);
	errno = e;
	return r;
}

/* Send one line, and with it fd when fd >= 0. */
int
nym_share_send(int sock, const char *line, int fd, int ms)
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
int
nym_share_recv(int sock, char *buf, size_t cap, int *fd, int ms)
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

/* One request to the lender: the reply's value (after "OK ") into val,
 * a descriptor into *fd if fd is not NULL; with keep, the connection
 * stays open and is returned in *keep.  The SAM result, or -1. */
static int
ask(struct nym_sam *s, const char *req, char *val, size_t cap, int *fd,
    int *keep)
{
	char line[NYM_SAMSHARE_REQ];
	int c, res, e, err;

	if ((c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (nym_share_reach(c, s->share, 0) == -1 ||
	    nym_share_send(c, req, -1, s->ms) == -1 ||
	    nym_share_recv(c, line, sizeof line, fd, s->ms) == -1) {
		e = errno;
		close(c);
		errno = e;
		return -1;
	}
	if (keep != NULL && strncmp(line, "OK", 2) == 0)
		*keep = c;
	else
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
	char pub[NYM_SAMSHARE_REQ];
	int res, lease = -1;

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
	res = ask(s, "ME\n", pub, sizeof pub, NULL, &lease);
	if (res != NYM_SAM_OK || nym_dest_b32(pub, strlen(pub), s->b32) == -1 ||
	    (s->pub = strdup(pub)) == NULL) {
		if (res != -1)
			errno = EPROTO;
		if (lease != -1)
			close(lease);
		s->share[0] = '\0';
		return -1;
	}
	s->fd = lease;
	return 0;
}

int
nym_share_lookup(struct nym_sam *s, const char *name, char **dest)
{
	char req[NYM_SAMSHARE_REQ], val[NYM_SAMSHARE_REQ];
	int res;

	*dest = NULL;
	if ((size_t)snprintf(req, sizeof req, "LOOKUP %s\n", name) >=
	    sizeof req) {
		errno = EINVAL;
		return -1;
	}
	res = ask(s, req, val, sizeof val, NULL, NULL);
	if (res == NYM_SAM_OK && (*dest = strdup(val)) == NULL)
		return -1;
	return res;
}

int
nym_share_connect(struct nym_sam *s, const char *dest, int *fd)
{
	char req[NYM_SAMSHARE_REQ];
	int res;

	*fd = -1;
	if ((size_t)snprintf(req, sizeof req, "CONNECT %s\n", dest) >=
	    sizeof req) {
		errno = EINVAL;
		return -1;
	}
	res = ask(s, req, NULL, 0, fd, NULL);
	if (res == NYM_SAM_OK && *fd == -1) {
		errno = EPROTO;
		return -1;
	}
	return res;
}

int
nym_share_accept(struct nym_sam *s, int *fd)
{
	int res;

	*fd = -1;
	res = ask(s, "ACCEPT\n", NULL, 0, fd, NULL);
	if (res == NYM_SAM_OK && *fd == -1) {
		errno = EPROTO;
		return -1;
	}
	return res;
}

/* Say one word to the lender at path (BYE, STALE); errors do not
 * matter. */
void
nym_share_tell(const char *path, const char *word, int ms)
{
	struct nym_sam b;

	memset(&b, 0, sizeof b);
	b.fd = b.in.fd = -1;
	b.ms = ms;
	if (strlen(path) < sizeof b.share) {
		memcpy(b.share, path, strlen(path) + 1);
		(void)ask(&b, word, NULL, 0, NULL, NULL);
	}
}

void
nym_sam_stale(struct nym_sam *s)
{
	if (s->share[0] != '\0')
		nym_share_tell(s->share, "STALE\n", s->ms > 0 ? s->ms : 1000);
}

