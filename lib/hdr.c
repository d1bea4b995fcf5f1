/*
 * hdr.c - read a header section in one bounded pass, keeping its bytes.
 *
 * A filter must write back every field it was not asked to change byte
 * for byte, so the section is kept as read (folds, CRLF, 8-bit) in one
 * buffer with an index of fields; values are unfolded only on demand.
 * A section ends at the empty line, at EOF, at a line the caller's stop
 * predicate claims (a MIME boundary), or at the first line that is
 * neither a field nor a continuation, which is left unread: readers such
 * as Python's email package take that line as the start of the body too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "base.h"
#include "msg.h"

void
nym_hdr_reset(struct nym_hdr *h)
{
	h->len = 0;
	h->nf = 0;
	h->crlf = h->sep = h->barecr = h->nul = h->bad = 0;
	h->fromlen = 0;
}

void
nym_hdr_free(struct nym_hdr *h)
{
	free(h->buf);
	free(h->f);
	memset(h, 0, sizeof *h);
}

/* Room for n more bytes at h->buf + h->len, which then counts them;
 * the caller writes them. */
static int
reserve(struct nym_hdr *h, size_t n)
{
	size_t ncap;
	char *nb;

	if (n > NYM_HDR_MAX - h->len) {
		errno = E2BIG;
		return -1;
	}
	if (h->len + n > h->cap) {
		ncap = h->cap != 0 ? h->cap : 4096;
		while (ncap < h->len + n)
			ncap *= 2;
		if ((nb = realloc(h->buf, ncap)) == NULL)
			return -1;
		h->buf = nb;
		h->cap = ncap;
	}
	h->len += n;
	return 0;
}

static int
append(struct nym_hdr *h, const char *p, size_t n)
{
	if (reserve(h, n) == -1)
		return -1;
	memcpy(h->buf + h->len - n, p, n);
	return 0;
}

/* Lines taken from the input buffer but not yet copied: the lines of a
 * section lie one after another there, so they are copied in one piece
 * (flush), before the input buffer can move (a fill) and before h->buf
 * is read or written otherwise.  h->len already counts them. */
struct take {
	const char *src;	/* NULL: none */
	size_t dst;		/* their offset in h->buf */
};

static void
flush(struct nym_hdr *h, struct take *t)
{
	if (t->src != NULL)
		memcpy(h->buf + t->dst, t->src, h->len - t->dst);
	t->src = NULL;
}

static int
take(struct nym_hdr *h, struct take *t, const char *line, size_t len)
{
	if (t->src != NULL && t->src + (h->len - t->dst) != line)
		flush(h, t);
	if (t->src == NULL) {
		t->src = line;
		t->dst = h->len;
	}
	return reserve(h, len);
}

static int
newfield(struct nym_hdr *h, size_t namelen)
{
	if (h->nf == NYM_FIELDS_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (h->nf == h->fcap) {
		size_t n = h->fcap != 0 ? h->fcap * 2 : 64;

		if (nym_reallocarray(&h->f, n, sizeof *h->f) == -1)
			return -1;
		h->fcap = n;
	}
	h->f[h->nf].off = h->len;
	h->f[h->nf].len = 0;
	h->f[h->nf].namelen = namelen;
	h->nf++;
	return 0;
}

size_t
nym_hdr_fieldname(const char *s, size_t n)
{
	size_t i, name;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':' || c <= ' ' || c >= 127)
			break;
	}
	name = i;
	if (name == 0)
		return 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == ':' ? name : 0;
}

/* Note NUL bytes and bare CRs in the fields read (all but a From_ line):
 * once a header, not once a line, for the searches' start-up costs. */
static int
scanbytes(struct nym_hdr *h)
{
	const char *p, *cr;
	size_t n = h->len - h->fromlen;

	if (n == 0)		/* h->buf may be NULL */
		return 0;
	p = h->buf + h->fromlen;
	if (memchr(p, '\0', n) != NULL)
		h->nul = 1;
	for (cr = memchr(p, '\r', n); cr != NULL;
	    cr = memchr(cr + 1, '\r', n - (size_t)(cr + 1 - p))) {
		if (cr + 1 == p + n || cr[1] != '\n')
			h->barecr = 1;
	}
	return 0;
}

static int hdrread(struct nym_in *, struct nym_hdr *, unsigned, nym_hdr_stop,
    void *, struct take *);

int
nym_hdr_read(struct nym_in *in, struct nym_hdr *h, unsigned flags,
    nym_hdr_stop stop, void *arg)
{
	struct take t = { NULL, 0 };
	int r = hdrread(in, h, flags, stop, arg, &t);

	flush(h, &t);
	return r == 0 ? scanbytes(h) : r;
}

/* nym_hdr_read: -1 on error, else 0, the lines taken (t) yet to be
 * copied.  A line that ends in the input buffer is taken from there
 * (the fast way, memchr alone); any other through nym_in_peekline,
 * which may fill and so move the buffer: after a flush. */
static int
hdrread(struct nym_in *in, struct nym_hdr *h, unsigned flags,
    nym_hdr_stop stop, void *arg, struct take *t)
{
	const char *line, *nl;
	size_t len, start, name, avail;
	int r, more, first = 1, infield = 0, fold = 0;

	if (flags & NYM_HDR_FOLD) {
		if (!h->bad || h->nf == 0) {
			errno = EINVAL;
			return -1;
		}
		h->bad = 0;
		first = 0;
		infield = fold = 1;
	} else
		nym_hdr_reset(h);
	for (;;) {
		avail = in->len - in->pos;
		line = in->buf + in->pos;
		if (avail > 0 && (nl = nym_nl(line, avail)) != NULL) {
			len = (size_t)(nl - line) + 1;
			more = 0;
		} else {
			flush(h, t);
			if ((r = nym_in_peekline(in, &line, &len, &more)) == -1)
				return -1;
			if (r == 0)
				return 0;
		}
		if (first && len >= 2 && line[len - 1] == '\n')
			h->crlf = line[len - 2] == '\r';
		if (first && (flags & NYM_HDR_MBOX) && len >= 5 &&
		    memcmp(line, "From ", 5) == 0) {
			start = h->len;
		} else if ((len == 1 && line[0] == '\n') ||
		    (len == 2 && line[0] == '\r' && line[1] == '\n')) {
			nym_in_skip(in, len);
			h->sep = 1;
			return 0;
		} else if (stop != NULL && stop(line, len, arg)) {
			return 0;
		} else if (fold) {
			/* The broken fold gets the white space it lacks. */
			start = h->f[h->nf - 1].off;
			flush(h, t);
			if (append(h, " ", 1) == -1)
				return -1;
			fold = 0;
		} else if ((line[0] == ' ' || line[0] == '\t') && infield) {
			start = h->f[h->nf - 1].off;
		} else if ((name = nym_hdr_fieldname(line, len)) != 0) {
			if (newfield(h, name) == -1)
				return -1;
			infield = 1;
			start = h->len;
		} else {
			h->bad = 1;
			return 0;
		}
		/* Take the physical line, in pieces if it is long. */
		for (;;) {
			if (h->len - start + len > NYM_FIELD_MAX) {
				errno = E2BIG;
				return -1;
			}
			if (take(h, t, line, len) == -1)
				return -1;
			nym_in_skip(in, len);
			if (!more)
				break;
			flush(h, t);
			if ((r = nym_in_peekline(in, &line, &len, &more)) == -1)
				return -1;
			if (r == 0)
				break;
		}
		if (first && !infield)
			h->fromlen = h->len;
		else
			h->f[h->nf - 1].len = h->len - h->f[h->nf - 1].off;
		first = 0;
	}
}

int
nym_hdr_is(const struct nym_hdr *h, size_t i, const char *name)
{
	size_t n = strlen(name);

	return h->f[i].namelen == n &&
	    strncasecmp(h->buf + h->f[i].off, name, n) == 0;
}

int
nym_hdr_isrcpt(const struct nym_hdr *h, size_t i)
{
	return nym_hdr_is(h, i, "to") || nym_hdr_is(h, i, "cc") ||
	    nym_hdr_is(h, i, "bcc");
}

const char *
nym_hdr_stampres(const char *s, size_t n, size_t *len)
{
	const char *e = s + n, *p = s, *r;
	int field = 0, want;

	want = n > 3 && strncmp(s, "E1:", 3) == 0 ? 5 : 3;
	while (p < e && field < want)
		if (*p++ == ':')
			field++;
	r = p;
	while (p < e && *p != ':')
		p++;
	if (field != want || p >= e || p == r)
		return NULL;
	*len = (size_t)(p - r);
	return r;
}

ssize_t
nym_hdr_find(const struct nym_hdr *h, const char *name, size_t i)
{
	for (; i < h->nf; i++)
		if (nym_hdr_is(h, i, name))
			return (ssize_t)i;
	return -1;
}

ssize_t
nym_hdr_value(const struct nym_hdr *h, size_t i, char *buf, size_t cap)
{
	const char *s = h->buf + h->f[i].off, *e = s + h->f[i].len;
	size_t n = 0;

	s += h->f[i].namelen;
	while (s < e && *s != ':')
		s++;
	if (s < e)
		s++;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	/* No NUL and no bare CR in the section (scanbytes): the value is
	 * its lines without their ends, copied a line at a time. */
	if (!h->nul && !h->barecr) {
		const char *nl;
		size_t k;

		for (; s < e; s = nl + 1) {
			if ((nl = nym_nl(s, (size_t)(e - s))) == NULL)
				nl = e;
			k = (size_t)(nl - s);
			if (nl < e && k > 0 && s[k - 1] == '\r')
				k--;
			if (k >= cap - n) {
				errno = E2BIG;
				return -1;
			}
			memcpy(buf + n, s, k);
			n += k;
		}
		if (cap == 0) {
			errno = E2BIG;
			return -1;
		}
		buf[n] = '\0';
		return (ssize_t)n;
	}
	for (; s < e; s++) {
		char c = *s;

		if (c == '\n')
			continue;
		if (c == '\r') {
			if (s + 1 < e && s[1] == '\n')
				continue;
			c = ' ';
		} else if (c == '\0')
			c = ' ';
		if (n + 1 >= cap) {
			errno = E2BIG;
			return -1;
		}
		buf[n++] = c;
	}
	if (cap == 0) {
		errno = E2BIG;
		return -1;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

int
nym_hdr_add(struct nym_hdr *h, const char *name, const char *value)
{
	const char *eol = h->crlf ? "\r\n" : "\n";

	if (newfield(h, strlen(name)) == -1)
		return -1;
	if (append(h, name, strlen(name)) == -1 || append(h, ": ", 2) == -1 ||
	    append(h, value, strlen(value)) == -1 ||
	    append(h, eol, strlen(eol)) == -1) {
		h->nf--;
		return -1;
	}
	h->f[h->nf - 1].len = h->len - h->f[h->nf - 1].off;
	return 0;
}
