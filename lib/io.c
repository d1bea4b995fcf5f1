/*
 * io.c - buffered reading and writing on file descriptors.
 *
 * stdio is avoided on the data path: its line functions either truncate
 * silently or grow without bound.  The reader hands out lines in place
 * (no copy) and splits a line longer than its buffer into pieces, so the
 * memory a filter uses is fixed by the buffer size, not by the input.
 *
 * A reader or writer on a network socket sets ms: every read then waits
 * in poll(2) first and every write goes through nym_write_timed (net.c),
 * so a silent peer costs at most ms per step, never a hang.  A timeout
 * is sticky like any other error.  ms = 0 (files, pipes) keeps the plain
 * read(2) and write(2) path.  A deadline bounds a whole command, reply
 * or transfer on top of that (a peer sending a byte now and then
 * never makes a single read wait long), and is moved by the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base.h"

int
nym_in_open(struct nym_in *in, int fd, size_t cap)
{
	memset(in, 0, sizeof *in);
	in->fd = fd;
	if ((in->buf = malloc(cap)) == NULL)
		return -1;
	in->cap = cap;
	return 0;
}

void
nym_in_close(struct nym_in *in)
{
	free(in->buf);
	memset(in, 0, sizeof *in);
	in->fd = -1;
}

ssize_t
nym_in_fill(struct nym_in *in, size_t want)
{
	ssize_t r;
	int w;

	if (want > in->cap)
		want = in->cap;
	while (in->len - in->pos < want && !in->eof) {
		if (in->err != 0) {
			errno = in->err;
			return -1;
		}
		if (in->len == in->cap) {
			memmove(in->buf, in->buf + in->pos, in->len - in->pos);
			in->len -= in->pos;
			in->pos = 0;
		}
		w = -1;
		if (in->ms > 0 || in->deadline > 0) {
			if ((w = nym_wait_ms(in->ms, in->deadline)) == 0)
				errno = ETIMEDOUT;
			if (w == 0 || (in->xp == NULL &&
			    nym_wait(in->fd, POLLIN, w) == -1)) {
				in->err = errno;
				return -1;
			}
		}
		if (in->xp != NULL)
			r = in->xp->read(in->xp->ctx, in->buf + in->len,
			    in->cap - in->len, w);
		else
			r = read(in->fd, in->buf + in->len, in->chunk > 0 &&
			    in->chunk < in->cap - in->len ? in->chunk :
			    in->cap - in->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			in->err = errno;
			return -1;
		}
		if (r == 0)
			in->eof = 1;
		in->len += (size_t)r;
		if (in->rate > 0 && in->deadline > 0) {
			in->deadline += (long long)r * 1000 / in->rate;
			if (in->limit > 0 && in->deadline > in->limit)
				in->deadline = in->limit;
		}
	}
	return (ssize_t)(in->len - in->pos);
}

int
nym_in_peekline(struct nym_in *in, const char **line, size_t *len,
    int *more)
{
	const char *nl;
	size_t scanned = 0, avail;

	for (;;) {
		avail = in->len - in->pos;
		nl = nym_nl(in->buf + in->pos + scanned, avail - scanned);
		if (nl != NULL) {
			*line = in->buf + in->pos;
			*len = (size_t)(nl - *line) + 1;
			*more = 0;
			return 1;
		}
		scanned = avail;
		if (in->eof || avail == in->cap) {
			if (avail == 0)
				return 0;
			*line = in->buf + in->pos;
			*len = avail;
			*more = !in->eof;
			return 1;
		}
		if (in->pos > 0 && in->len == in->cap) {
			memmove(in->buf, in->buf + in->pos, avail);
			in->len = avail;
			in->pos = 0;
		}
		if (nym_in_fill(in, avail + 1) < 0)
			return -1;
	}
}

int
nym_in_line(struct nym_in *in, const char **line, size_t *len, int *more)
{
	int r;

	if ((r = nym_in_peekline(in, line, len, more)) == 1)
		nym_in_skip(in, *len);
	return r;
}

void
nym_in_skip(struct nym_in *in, size_t n)
{
	in->pos += n;
	in->off += n;
}

int
nym_out_open(struct nym_out *o, int fd, size_t cap)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	if ((o->buf = malloc(cap)) == NULL)
		return -1;
	o->cap = cap;
	return 0;
}

static int
out_put(struct nym_out *o, const void *p, size_t n)
{
	if (o->xp != NULL) {
		if (o->xp->write(o->xp->ctx, p, n, o->ms, o->deadline) == -1)
			return -1;
		if (o->rate > 0 && o->deadline > 0)
			o->deadline += (long long)n * 1000 / o->rate;
		return 0;
	}
	if (o->ms > 0 || o->deadline > 0) {
		if (nym_write_until(o->fd, p, n, o->ms, o->deadline) == -1)
			return -1;
		if (o->rate > 0 && o->deadline > 0)
			o->deadline += (long long)n * 1000 / o->rate;
		return 0;
	}
	return nym_write_all(o->fd, p, n);
}

static void
out_drain(struct nym_out *o)
{
	if (o->len > 0 && o->err == 0 && out_put(o, o->buf, o->len) == -1)
		o->err = errno;
	o->len = 0;
}

void
nym_out_write(struct nym_out *o, const void *p, size_t n)
{
	o->total += n;
	if (o->err != 0 || n == 0)	/* p may be NULL then */
		return;
	if (n <= o->cap - o->len) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return;
	}
	out_drain(o);
	if (n < o->cap) {
		memcpy(o->buf, p, n);
		o->len = n;
	} else if (o->err == 0 && out_put(o, p, n) == -1)
		o->err = errno;
}

void
nym_out_puts(struct nym_out *o, const char *s)
{
	nym_out_write(o, s, strlen(s));
}

void
nym_out_vline(struct nym_out *o, size_t max, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	if (max > sizeof buf)
		max = sizeof buf;
	if (max < 3)
		return;
	n = vsnprintf(buf, max - 2, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > max - 3)
		n = (int)(max - 3);
	buf[n] = '\r';
	buf[n + 1] = '\n';
	nym_out_write(o, buf, (size_t)n + 2);
}

void
nym_out_cut(struct nym_out *o, uint64_t total)
{
	uint64_t start = o->total - o->len;	/* buf[0]'s stream offset */

	if (o->err != 0 || total >= o->total)
		return;
	o->len = total > start ? (size_t)(total - start) : 0;
	o->total = start + o->len;
}

int
nym_out_flush(struct nym_out *o)
{
	out_drain(o);
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	return 0;
}

void
nym_out_close(struct nym_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof *o);
	o->fd = -1;
}

int
nym_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
nym_read_all(int fd, void *p, size_t n)
{
	char *s = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, s + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
nym_read_small(const char *path, void *buf, size_t cap, int secret)
{
	struct stat st;
	ssize_t n;
	int fd, e;
	char extra;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC |
	    (secret ? O_NOFOLLOW : 0))) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (secret && (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    st.st_uid != geteuid())) {
		errno = EPERM;
		goto fail;
	}
	if ((n = nym_read_all(fd, buf, cap)) == -1)
		goto fail;
	if ((size_t)n == cap && nym_read_all(fd, &extra, 1) != 0) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	return n;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
nym_reallocarray(void *pp, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return -1;
	}
	/* realloc(p, 0) may free p: always ask for a byte at least. */
	if ((p = realloc(*(void **)pp, nmemb * size != 0 ? nmemb * size : 1)) ==
	    NULL)
		return -1;
	*(void **)pp = p;
	return 0;
}

size_t
nym_chomp(const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}
