/*
 * pop3.c - the POP3 client's parsers (RFC 1939, RFC 2449 CAPA, RFC 3206
 * response codes); the session that reads with them is pop3client.c.
 *
 * A POP3 session is status lines ("+OK text" or "-ERR text") and
 * multi-line responses ended by a line holding a single dot, with a dot
 * stuffed in front of every line that starts with one.  Status and list
 * lines are short and bounded here (RFC 2449 says 512 bytes); a message
 * (RETR) is not: it is copied line by line from the reader to a writer,
 * its stuffing dots removed and optionally its CRLF turned into LF and
 * its From_ lines quoted for an mboxrd file, so memory stays constant
 * however large the message.  The server's text is the server's: what is
 * handed back is cut to the caller's buffer and unprintable bytes are
 * replaced, so it can go into a one-line error message safely.
 *
 * Nothing here allocates, prints or owns a descriptor.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"

/* Copy s[0, n) into buf (cap > 0), unprintable bytes as '?', NUL ended. */
static void
sanitise(const char *s, size_t n, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < n && i + 1 < cap; i++)
		buf[i] = (s[i] >= ' ' && s[i] < 127) ? s[i] : '?';
	buf[i] = '\0';
}

/* Read one whole line into buf (cap bytes, NUL ended, line end removed).
 * A longer line is read past and *cut set.  1, 0 at EOF, or -1. */
static int
getline_(struct nym_in *in, char *buf, size_t cap, int *cut)
{
	const char *l;
	size_t len, got = 0, skipped = 0, take;
	int more, r;

	*cut = 0;
	buf[0] = '\0';
	for (;;) {
		if ((r = nym_in_line(in, &l, &len, &more)) <= 0) {
			if (r == 0 && got == 0)
				return 0;
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		if (!more && (len == 0 || l[len - 1] != '\n')) {
			errno = ECONNRESET;	/* the last line never ended */
			return -1;
		}
		if (!more)
			len = nym_chomp(l, len);
		else if (len > 0 && l[len - 1] == '\r')
			len--;		/* its LF may be in the next piece */
		/* What fits is kept, even of a piece that does not fit
		 * whole: a long status line keeps its "+OK". */
		take = got + 1 < cap ? cap - 1 - got : 0;
		if (take > len)
			take = len;
		memcpy(buf + got, l, take);
		got += take;
		if (take < len) {
			*cut = 1;
			skipped += len - take;
			if (skipped > NYM_POP3_SKIP) {
				errno = EPROTO;
				return -1;
			}
		}
		if (!more)
			break;
	}
	buf[got] = '\0';
	return 1;
}

int
nym_pop3_status(struct nym_in *in, char *text, size_t cap)
{
	char line[NYM_POP3_LINE + 1];
	const char *t;
	int cut, ok;

	if (cap > 0)
		text[0] = '\0';
	switch (getline_(in, line, sizeof line, &cut)) {
	case 0:
		errno = ECONNRESET;
		return -1;
	case -1:
		return -1;
	}
	if (strncmp(line, "+OK", 3) == 0 &&
	    (line[3] == '\0' || line[3] == ' '))
		ok = 1;
	else if (strncmp(line, "-ERR", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' '))
		ok = 0;
	else {
		errno = EPROTO;
		return -1;
	}
	t = line + (ok ? 3 : 4);
	if (*t == ' ')
		t++;
	if (cap > 0)
		sanitise(t, strlen(t), text, cap);
	return ok;
}

int
nym_pop3_mline(struct nym_in *in, char *buf, size_t cap)
{
	int cut, r;

	if ((r = getline_(in, buf, cap, &cut)) == 0) {
		errno = ECONNRESET;
		return -1;
	}
	if (r == -1)
		return -1;
	if (cut) {
		errno = EPROTO;
		return -1;
	}
	if (buf[0] == '.') {
		if (buf[1] == '\0')
			return 0;
		memmove(buf, buf + 1, strlen(buf));
	}
	return 1;
}

/* Is s (up to a space or the end) the word w, in any case? */
static int
isword(const char *s, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(s, w, n) == 0 && (s[n] == '\0' || s[n] == ' ');
}

void
nym_pop3_capa(const char *line, struct nym_pop3_caps *c)
{
	const char *p;

	if (isword(line, "PIPELINING"))
		c->pipelining = 1;
	else if (isword(line, "UIDL"))
		c->uidl = 1;
	else if (isword(line, "TOP"))
		c->top = 1;
	else if (isword(line, "USER"))
		c->user = 1;
	else if (isword(line, "SASL")) {
		for (p = line + 4; (p = strchr(p, ' ')) != NULL; ) {
			while (*p == ' ')
				p++;
			if (isword(p, "PLAIN"))
				c->plain = 1;
		}
	}
}

int
nym_pop3_uidl(const char *line, unsigned long *n, char *uid, size_t cap)
{
	const char *p = line;
	char *end;
	size_t len;

	if (!isdigit((unsigned char)*p))
		goto bad;
	errno = 0;
	*n = strtoul(p, &end, 10);
	if (errno != 0 || *n == 0 || *end != ' ')
		goto bad;
	p = end;
	while (*p == ' ')
		p++;
	for (len = 0; p[len] > ' ' && p[len] < 127; len++)
		;
	/* RFC 1939 7: 1 to 70 characters from 0x21 to 0x7E. */
	if (len == 0 || len > NYM_POP3_UIDL || len >= cap)
		goto bad;
	while (p[len] == ' ')
		len++;
	if (p[len] != '\0')
		goto bad;
	len = strcspn(p, " ");
	memcpy(uid, p, len);
	uid[len] = '\0';
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
nym_pop3_list(const char *line, unsigned long *n, uint64_t *size)
{
	char uid[NYM_POP3_UIDL + 1], *end;
	unsigned long long v;

	/* "n size": the same shape as a UIDL line, the second word digits */
	if (nym_pop3_uidl(line, n, uid, sizeof uid) == -1 ||
	    !isdigit((unsigned char)uid[0]))
		goto bad;
	errno = 0;
	v = strtoull(uid, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	*size = v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
nym_pop3_authplain(const char *user, const char *pass, char *out,
    size_t cap)
{
	unsigned char raw[NYM_POP3_LINE];
	size_t ul = strlen(user), pl = strlen(pass), n;

	/* authzid empty, authcid, password (RFC 4616). */
	n = 1 + ul + 1 + pl;
	if (ul + pl + 2 > sizeof raw || cap < 4 * ((n + 2) / 3) + 1) {
		errno = EMSGSIZE;
		return -1;
	}
	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pass, pl);
	n = nym_base64(raw, n, out, "+/");
	explicit_bzero(raw, sizeof raw);
	return (int)n;
}

/* Does s[0, n) start with any number of '>' and then "From "? */
static int
fromline(const char *s, size_t n)
{
	for (; n > 0 && *s == '>'; n--)
		s++;
	return n >= 5 && memcmp(s, "From ", 5) == 0;
}

int
nym_pop3_retr(struct nym_in *in, struct nym_out *out, unsigned flags,
    uint64_t max)
{
	const char *l;
	size_t len, body;
	uint64_t got = 0;
	int more, r, bol = 1, pendcr = 0;

	for (;;) {
		if ((r = nym_in_line(in, &l, &len, &more)) <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		if (!more && l[len - 1] != '\n') {
			errno = ECONNRESET;	/* cut before the final dot */
			return -1;
		}
		if (pendcr) {
			/* A CR ended the last piece: was it the line's end? */
			pendcr = 0;
			if (!(flags & NYM_POP3_LF) || l[0] != '\n')
				nym_out_write(out, "\r", 1);
		}
		/* A reply that never ends must not fill the disk: max
		 * counts the bytes as they come, the final dot aside. */
		got += len;
		if (bol && l[0] == '.') {
			if (!more && nym_chomp(l, len) == 1)
				return 0;	/* the final dot */
			l++;
			len--;
		}
		if (max > 0 && got > max) {
			errno = EFBIG;
			return -1;
		}
		if (bol && (flags & NYM_POP3_MBOXRD) && fromline(l, len))
			nym_out_write(out, ">", 1);
		body = len;
		if (flags & NYM_POP3_LF) {
			if (!more && body >= 2 && l[body - 2] == '\r') {
				nym_out_write(out, l, body - 2);
				nym_out_write(out, "\n", 1);
				body = 0;
			} else if (more && body >= 1 && l[body - 1] == '\r') {
				body--;
				pendcr = 1;
			}
		}
		if (body > 0)
			nym_out_write(out, l, body);
		bol = !more;
	}
}
