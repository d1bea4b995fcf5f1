/*
 * smtp.c - SMTP protocol pieces (RFC 5321) for both ends of a session.
 *
 * Client side (sam-deliver, smtp-submit): read a reply, one or many
 * lines, bounded and under the reader's timeout; parse the EHLO keywords;
 * queue a command; stream a message as DATA with dots stuffed, CRLF line
 * ends and the Bcc fields removed (the Bcc recipients' stamps too, but
 * for the one recipient a copy is for), never holding it whole.  On top of
 * those, one client session: greeting and EHLO, AUTH PLAIN or LOGIN, and
 * transactions (pipelined when offered, SIZE checked before anything is
 * sent, RSET before each but a session's first) whose every outcome is an
 * exit code per recipient, so that both delivery programs keep one
 * contract with their callers.
 *
 * Server side (smtp-receive): read a command line within RFC 5321's 512
 * bytes, skipping a longer one to its end so that the session can go on;
 * parse the paths and parameters of MAIL and RCPT strictly (no source
 * routes, no 8-bit addresses); read DATA into a writer with the stuffed
 * dots removed and a size limit that discards the excess but reads on to
 * the final dot, so that the reply still lines up with the client.
 *
 * Nothing here prints.  The protocol pieces do not allocate; a client
 * session owns its connection's buffers from start to quit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"

/* Append s[0, n) to the reply text, unprintable bytes as '?'. */
static void
addtext(struct nym_smtp_reply *r, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (r->len + 1 >= sizeof r->text) {
			r->trunc = 1;
			break;
		}
		r->text[r->len++] = c >= ' ' && c < 127 ? (char)c : '?';
	}
	r->text[r->len] = '\0';
}

int
nym_smtp_reply(struct nym_in *in, struct nym_smtp_reply *r)
{
	const char *line;
	size_t len, n;
	int more, rv, code;

	r->code = 0;
	r->len = 0;
	r->lines = 0;
	r->trunc = 0;
	r->text[0] = '\0';
	for (;;) {
		if ((rv = nym_in_line(in, &line, &len, &more)) == -1)
			return -1;
		if (rv == 0 || (!more && line[len - 1] != '\n')) {
			errno = ECONNRESET;
			return -1;
		}
		if (more || len > NYM_SMTP_REPLYLINE ||
		    r->lines == NYM_SMTP_REPLYLINES)
			goto proto;
		n = nym_chomp(line, len);
		if (n < 3 || line[0] < '2' || line[0] > '5' ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (n > 3 && line[3] != ' ' && line[3] != '-'))
			goto proto;
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (r->lines > 0 && code != r->code)
			goto proto;
		r->code = code;
		if (r->lines++ > 0 && r->len + 1 < sizeof r->text) {
			r->text[r->len++] = '\n';
			r->text[r->len] = '\0';
		}
		if (n > 4)
			addtext(r, line + 4, n - 4);
		if (n == 3 || line[3] == ' ')
			return code;
	}
proto:
	errno = EPROTO;
	return -1;
}

/* Does the word w[0, n) equal s, ignoring case? */
static int
wordis(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(w, s, n) == 0;
}

/* The AUTH mechanisms named in s[0, n), separated by spaces. */
static unsigned
mechs(const char *s, size_t n)
{
	const char *e = s + n, *w;
	unsigned m = 0;

	while (s < e) {
		while (s < e && *s == ' ')
			s++;
		for (w = s; s < e && *s != ' '; s++)
			;
		if (s == w)
			break;
		if (wordis(w, (size_t)(s - w), "PLAIN"))
			m |= NYM_SMTP_AUTH_PLAIN;
		else if (wordis(w, (size_t)(s - w), "LOGIN"))
			m |= NYM_SMTP_AUTH_LOGIN;
		else if (wordis(w, (size_t)(s - w), "CRAM-MD5"))
			m |= NYM_SMTP_AUTH_CRAMMD5;
		else
			m |= NYM_SMTP_AUTH_OTHER;
	}
	return m;
}

void
nym_smtp_ehlo(const struct nym_smtp_reply *r, struct nym_smtp_ext *x)
{
	const char *s = r->text, *e, *end = r->text + r->len, *arg;
	size_t kw;
	unsigned long long v;
	char *num;

	memset(x, 0, sizeof *x);
	/* The first line is the server's name and greeting. */
	if ((s = memchr(s, '\n', r->len)) == NULL)
		return;
	for (s++; s < end; s = e + 1) {
		if ((e = memchr(s, '\n', (size_t)(end - s))) == NULL)
			e = end;
		kw = strcspn(s, " =\n");
		if (s + kw > e)
			kw = (size_t)(e - s);
		arg = s + kw < e ? s + kw + 1 : e;
		if (wordis(s, kw, "PIPELINING"))
			x->pipelining = 1;
		else if (wordis(s, kw, "8BITMIME"))
			x->eightbitmime = 1;
		else if (wordis(s, kw, "ENHANCEDSTATUSCODES"))
			x->enhanced = 1;
		else if (wordis(s, kw, "SMTPUTF8"))
			x->smtputf8 = 1;
		else if (wordis(s, kw, "STARTTLS"))
			x->starttls = 1;
		else if (wordis(s, kw, "AUTH"))
			x->auth |= mechs(arg, (size_t)(e - arg));
		else if (wordis(s, kw, "X-STAMP")) {
			/* The stamp demand (smtp-receive(1)), kept as
			 * sent: its reader checks it. */
			if (arg < e && (size_t)(e - arg) < sizeof x->stamp) {
				memcpy(x->stamp, arg, (size_t)(e - arg));
				x->stamp[e - arg] = '\0';
			}
		} else if (wordis(s, kw, "SIZE")) {
			x->size = 1;
			x->maxsize = 0;
			if (arg < e && isdigit((unsigned char)*arg)) {
				errno = 0;
				v = strtoull(arg, &num, 10);
				if (errno == 0 && (num == e || *num == ' '))
					x->maxsize = (uint64_t)v;
			}
		}
	}
}

int
nym_smtp_cmd(struct nym_out *o, const char *fmt, ...)
{
	char buf[NYM_SMTP_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > NYM_SMTP_LINE - 2 ||
	    strpbrk(buf, "\r\n") != NULL) {
		explicit_bzero(buf, sizeof buf);
		errno = n < 0 || (size_t)n <= NYM_SMTP_LINE - 2 ? EINVAL :
		    EMSGSIZE;
		return -1;
	}
	nym_out_write(o, buf, (size_t)n);
	nym_out_write(o, "\r\n", 2);
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* Could s[0, n) be the start of a field name cut by the buffer? */
static int
namestart(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 127 || s[i] == ':')
			return 0;
	return 1;
}

/* Is the field named s[0, n) one that must not be transmitted?  Bcc,
 * and the stamps pow-stamp -M made for Bcc recipients, which name them
 * (nym_smtp_send gives each its own back in its own copy). */
static int
blind(const char *s, size_t n)
{
	return wordis(s, n, "Bcc") || wordis(s, n, "Resent-Bcc") ||
	    wordis(s, n, "X-Hashcash-Bcc");
}

/* The field "X-Hashcash: stamp" in a copy for one Bcc recipient. */
static void
putstamp(struct nym_out *out, const char *stamp)
{
	nym_out_puts(out, "X-Hashcash: ");
	nym_out_puts(out, stamp);
	nym_out_write(out, "\r\n", 2);
}

/*
 * Write p[0, n), bytes of one line without its LF, turning a bare CR
 * into CRLF as a bare LF is: RFC 5321 2.3.8 allows CR and LF only
 * together, and nym_smtp_getdata (ours, as Postfix with
 * smtpd_forbid_bare_newline) refuses a message with either alone.  A dot
 * after such a CR starts a line, so it is doubled.  *cr: the last byte
 * written is a CR whose LF is still to come (it may be the line's end).
 */
static void
putbytes(struct nym_out *out, const char *p, size_t n, int *cr)
{
	const char *q;
	size_t k;

	while (n > 0) {
		if (*cr) {	/* p[0] is not the LF the CR wanted */
			nym_out_write(out, p[0] == '.' ? "\n." : "\n",
			    p[0] == '.' ? 2 : 1);
			*cr = 0;
		}
		q = memchr(p, '\r', n);
		k = q != NULL ? (size_t)(q - p) + 1 : n;
		nym_out_write(out, p, k);
		*cr = q != NULL;
		p += k;
		n -= k;
	}
}

int
nym_smtp_putdata(struct nym_in *in, struct nym_out *out, const char *stamp)
{
	const char *line;
	size_t len, n, name;
	int rv, more, eol;
	int bol = 1;		/* at the start of a line */
	int first = 1;		/* the first line of the message */
	int hdr = 1;		/* still in the top-level header */
	int drop = 0;		/* this line is not written */
	int bcc = 0;		/* in a Bcc field (its folds go too) */
	int open = 0;		/* bytes of the line written, no EOL yet */
	int cr = 0;		/* the last byte written was a CR */

	for (;;) {
		if ((rv = nym_in_line(in, &line, &len, &more)) == -1)
			return -1;
		if (rv == 0)
			break;
		eol = !more && line[len - 1] == '\n';
		n = eol ? len - 1 : len;
		if (bol) {
			drop = 0;
			if (first && n >= 5 && memcmp(line, "From ", 5) == 0 &&
			    nym_hdr_fieldname(line, n) == 0)
				drop = 1;	/* an mbox From_ line */
			else if (hdr) {
				if (n > 0 && (line[0] == ' ' || line[0] == '\t'))
					drop = bcc;
				else if ((name = nym_hdr_fieldname(line, n)) > 0) {
					drop = bcc = blind(line, name);
					/* The stamp where the first Bcc
					 * stamp was. */
					if (stamp != NULL && wordis(line,
					    name, "X-Hashcash-Bcc")) {
						putstamp(out, stamp);
						stamp = NULL;
					}
				} else if (!eol && namestart(line, n))
					bcc = 0;	/* a name longer than
							   the buffer */
				else {	/* the empty line, or no empty line */
					hdr = bcc = 0;
					if (stamp != NULL)
						putstamp(out, stamp);
					stamp = NULL;
				}
			}
			if (!drop && n > 0 && line[0] == '.')
				nym_out_write(out, ".", 1);
			first = 0;
		}
		if (!drop && n > 0) {
			putbytes(out, line, n, &cr);
			open = 1;
		}
		bol = eol;
		if (eol) {
			if (!drop)
				nym_out_write(out, cr ? "\n" : "\r\n",
				    cr ? 1 : 2);
			open = cr = 0;
		}
	}
	if (open)
		nym_out_write(out, cr ? "\n" : "\r\n", cr ? 1 : 2);
	if (stamp != NULL)	/* a message that is all header */
		putstamp(out, stamp);
	nym_out_write(out, ".\r\n", 3);
	return nym_out_flush(out);
}

int
nym_smtp_getline(struct nym_in *in, char *buf, size_t cap, size_t max)
{
	const char *line;
	size_t len, total = 0;
	int rv, more, nul = 0;

	for (;;) {
		if ((rv = nym_in_line(in, &line, &len, &more)) == -1)
			return -1;
		/* EOF, or a last line cut off without its LF: not a command. */
		if (rv == 0 || (!more && line[len - 1] != '\n'))
			return 0;
		if (total + len <= max && total + len < cap)
			memcpy(buf + total, line, len);
		if (memchr(line, '\0', len) != NULL)
			nul = 1;
		total += len;
		if (!more)
			break;
		/* A part that is not the line's last fills the buffer: with
		 * NYM_SMTP_SKIP bytes read and no LF in them, hang up. */
		if (total >= NYM_SMTP_SKIP) {
			errno = EMSGSIZE;
			return -1;
		}
	}
	if (total > max || total >= cap) {
		errno = E2BIG;
		return -1;
	}
	if (nul) {
		errno = EILSEQ;
		return -1;
	}
	buf[nym_chomp(buf, total)] = '\0';
	return 1;
}

/* RFC 5322 atext. */
static int
atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c)
	    != NULL);
}

/* Scan a local part (Dot-string or Quoted-string) at s.  Returns its
 * length, 0 if there is none. */
static size_t
localpart(const char *s)
{
	size_t i = 0;

	if (s[0] == '"') {
		for (i = 1; s[i] != '"'; i++) {
			if (s[i] == '\\') {
				if (s[i + 1] < ' ' || s[i + 1] > '~')
					return 0;
				i++;
			} else if (s[i] < ' ' || s[i] > '~')
				return 0;
		}
		return i + 1;
	}
	for (;;) {
		if (!atext((unsigned char)s[i]))
			return 0;
		while (atext((unsigned char)s[i]))
			i++;
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Scan a domain (dot-separated labels of letters, digits and inner
 * hyphens, or an address literal in brackets) at s.  Returns its length,
 * 0 if there is none. */
static size_t
domain(const char *s)
{
	size_t i = 0, label;

	if (s[0] == '[') {
		for (i = 1; s[i] != ']'; i++)
			if (s[i] < '!' || s[i] > '~' || s[i] == '[' ||
			    s[i] == '\\')
				return 0;
		return i > 1 ? i + 1 : 0;
	}
	for (;;) {
		for (label = 0; isalnum((unsigned char)s[i]) || s[i] == '-';
		    i++, label++)
			;
		if (label == 0 || label > 63 || s[i - label] == '-' ||
		    s[i - 1] == '-')
			return 0;
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Parse "<path>" at *sp into addr (cap bytes): the mailbox, its domain
 * lower-cased; "" for "<>" if null is allowed; "postmaster" alone if pm
 * is.  *sp is moved past the '>'. */
static int
path(const char **sp, char *addr, size_t cap, int null, int pm)
{
	const char *s = *sp;
	size_t l, d, i;

	if (*s++ != '<')
		goto inval;
	if (*s == '@') {
		errno = EACCES;		/* a source route */
		return -1;
	}
	if (*s == '>') {
		if (!null)
			goto inval;
		addr[0] = '\0';
		*sp = s + 1;
		return 0;
	}
	if (pm && strncasecmp(s, "postmaster>", 11) == 0) {
		if (cap < 11)
			goto toolong;
		memcpy(addr, s, 10);
		addr[10] = '\0';
		*sp = s + 11;
		return 0;
	}
	if ((l = localpart(s)) == 0 || s[l] != '@' ||
	    (d = domain(s + l + 1)) == 0 || s[l + 1 + d] != '>')
		goto inval;
	if (l > NYM_SMTP_LOCAL || d > NYM_SMTP_DOMAIN ||
	    l + 1 + d + 2 > NYM_SMTP_PATH || l + 1 + d >= cap)
		goto toolong;
	memcpy(addr, s, l + 1 + d);
	for (i = l + 1; i < l + 1 + d; i++)
		addr[i] = (char)tolower((unsigned char)addr[i]);
	addr[l + 1 + d] = '\0';
	*sp = s + l + 1 + d + 1;
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
inval:
	errno = EINVAL;
	return -1;
}

/* Move past the verb and "FROM:" / "TO:" (either case) and any spaces
 * after the colon, which RFC 5321 does not allow but clients send. */
static int
prefix(const char **sp, const char *pre)
{
	size_t n = strlen(pre);

	if (strncasecmp(*sp, pre, n) != 0) {
		errno = EINVAL;
		return -1;
	}
	*sp += n;
	while (**sp == ' ')
		(*sp)++;
	return 0;
}

/* The next parameter "KEY[=VALUE]" at *sp: key and value bounds.  0, or
 * 1 at the end of the line, or -1 EINVAL. */
static int
param(const char **sp, const char **k, size_t *kl, const char **v,
    size_t *vl)
{
	const char *s = *sp;

	if (*s == '\0')
		return 1;
	if (*s != ' ')
		goto inval;
	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*sp = s;
		return 1;
	}
	*k = s;
	while (isalnum((unsigned char)*s) || *s == '-')
		s++;
	if ((*kl = (size_t)(s - *k)) == 0)
		goto inval;
	*v = NULL;
	*vl = 0;
	if (*s == '=') {
		*v = ++s;
		while (*s > ' ' && *s < 127 && *s != '=')
			s++;
		*vl = (size_t)(s - *v);
		if (*vl == 0)
			goto inval;
	}
	if (*s != ' ' && *s != '\0')
		goto inval;
	*sp = s;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

int
nym_smtp_parse_mail(const char *line, char *addr, size_t cap,
    struct nym_smtp_mail *m)
{
	const char *s = line, *k, *v;
	size_t kl, vl, i;
	int rv, seen = 0;

	memset(m, 0, sizeof *m);
	if (prefix(&s, "MAIL FROM:") == -1 || path(&s, addr, cap, 1, 0) == -1)
		return -1;
	while ((rv = param(&s, &k, &kl, &v, &vl)) == 0) {
		if (wordis(k, kl, "SIZE") && !(seen & 1) && v != NULL) {
			seen |= 1;
			for (i = 0; i < vl; i++) {
				if (!isdigit((unsigned char)v[i]))
					goto inval;
				if (m->size > (UINT64_MAX - 9) / 10) {
					m->size = UINT64_MAX;
					break;
				}
				m->size = m->size * 10 + (uint64_t)(v[i] - '0');
			}
		} else if (wordis(k, kl, "BODY") && !(seen & 2) && v != NULL) {
			seen |= 2;
			if (wordis(v, vl, "7BIT"))
				m->body = 7;
			else if (wordis(v, vl, "8BITMIME"))
				m->body = 8;
			else
				goto inval;
		} else if (wordis(k, kl, "AUTH") && !(seen & 4) && v != NULL) {
			seen |= 4;	/* RFC 4954 5: accepted, not trusted */
		} else if (wordis(k, kl, "SIZE") || wordis(k, kl, "BODY") ||
		    wordis(k, kl, "AUTH"))
			goto inval;
		else {
			errno = ENOTSUP;
			return -1;
		}
	}
	return rv == 1 ? 0 : -1;
inval:
	errno = EINVAL;
	return -1;
}

int
nym_smtp_parse_rcpt(const char *line, char *addr, size_t cap)
{
	const char *s = line, *k, *v;
	size_t kl, vl;
	int rv;

	if (prefix(&s, "RCPT TO:") == -1 || path(&s, addr, cap, 0, 1) == -1)
		return -1;
	if ((rv = param(&s, &k, &kl, &v, &vl)) == 0) {
		errno = ENOTSUP;
		return -1;
	}
	return rv == 1 ? 0 : -1;
}

int
nym_smtp_getdata(struct nym_in *in, struct nym_out *out, uint64_t max,
    unsigned flags, struct nym_smtp_data *d)
{
	const char *line, *p, *end;
	size_t len, n;
	int rv, more, bol = 1, cr = 0, crlf = 1, lone;

	memset(d, 0, sizeof *d);
	for (;;) {
		if ((rv = nym_in_line(in, &line, &len, &more)) == -1)
			return -1;
		if (rv == 0 || (!more && line[len - 1] != '\n')) {
			errno = ECONNRESET;
			return -1;
		}
		/* RFC 5321 2.3.8: CR and LF only as CRLF.  Strict: a bare
		 * one stops the reading where it is (the framing is in
		 * doubt); else a bare LF ends a line and a bare CR is
		 * content, as Postfix's smtpd_forbid_bare_newline =
		 * normalize does. */
		if (cr && line[0] != '\n')
			d->bare = d->bare ? d->bare : '\r';
		if (!more && (len >= 2 ? line[len - 2] != '\r' : !cr))
			d->bare = '\n';
		end = line + len - 1;
		for (p = line; d->bare != '\r' && (p = memchr(p, '\r',
		    (size_t)(end - p))) != NULL; p++)
			if (p[1] != '\n')
				d->bare = d->bare ? d->bare : '\r';
		if (d->bare && (flags & NYM_SMTP_STRICT))
			return 0;
		if (bol && line[0] == '.') {
			lone = !more && (len == 2 || (len == 3 &&
			    line[1] == '\r'));
			/* Only <CRLF>.<CRLF> ends the data: a lone dot
			 * after a bare LF, or before one, is content. */
			if (lone && crlf && len == 3)
				break;
			if (!lone) {
				line++;		/* the stuffing dot */
				len--;
			}
		}
		if (!more)
			crlf = len >= 2 ? line[len - 2] == '\r' : cr;
		bol = !more;
		if (!d->over && max > 0 && len > max - d->size)
			d->over = 1;
		d->size += len;
		if (!d->over && out != NULL) {
			if (!(flags & NYM_SMTP_LF))
				nym_out_write(out, line, len);
			else {
				/* A CR that ends a piece waits for what
				 * follows it. */
				if (cr && line[0] != '\n')
					nym_out_write(out, "\r", 1);
				n = len;
				if (!more && n >= 2 && line[n - 2] == '\r') {
					nym_out_write(out, line, n - 2);
					nym_out_write(out, "\n", 1);
				} else if (more && line[n - 1] == '\r')
					nym_out_write(out, line, n - 1);
				else
					nym_out_write(out, line, n);
			}
		}
		cr = more && len > 0 && line[len - 1] == '\r';
	}
	if (out != NULL && !d->over && nym_out_flush(out) == -1)
		d->werr = errno;
	return 0;
}

/* ---- client session ---- */

int
nym_smtp_exit(const struct nym_smtp_reply *r)
{
	if (r->code >= 200 && r->code < 400)
		return NYM_EX_OK;
	if (r->code < 500)
		return NYM_EX_TEMPFAIL;
	if (strncmp(r->text, "5.1.", 4) == 0)
		return NYM_EX_NOUSER;
	if (r->code == 552 || strncmp(r->text, "5.3.4", 5) == 0 ||
	    strncmp(r->text, "5.6.", 4) == 0)
		return NYM_EX_DATAERR;
	return NYM_EX_NOPERM;
}

/* "CODE TEXT" of a reply on one line, cut to fit cap. */
static void
setwhy(char *why, size_t cap, const struct nym_smtp_reply *r)
{
	size_t i;

	snprintf(why, cap, "%d %.*s", r->code, (int)(cap > 16 ? cap - 16 : 0),
	    r->text);
	for (i = 0; why[i] != '\0'; i++)
		if (why[i] == '\n')
			why[i] = ' ';
}

void
nym_smtp_failall(struct nym_smtp_rcpt *rc, size_t n, int code,
    const char *why)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rc[i].code == -1) {
			rc[i].code = code;
			snprintf(rc[i].why, sizeof rc[i].why, "%s", why);
		}
}

int
nym_smtp_sender(const char *s, char *buf, size_t cap)
{
	size_t n = strlen(s), i, at = 0;

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f ||
		    s[i] == '<' || s[i] == '>')
			goto bad;
		if (s[i] == '@')
			at = i;		/* the last one: the domain follows */
	}
	if (n + 2 > NYM_SMTP_PATH || n + 1 > cap ||
	    (n > 0 && (at == 0 || at == n - 1)))
		goto bad;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
nym_smtp_addrcpt(struct nym_smtp_rcpt **rc, size_t *n, const char *s,
    const char **why)
{
	struct nym_addrlist al = { 0 };
	struct nym_smtp_rcpt *r;
	size_t i;
	int code = NYM_EX_OK;

	*why = "";
	if (nym_addr_parse(s, strlen(s), &al) == -1 || al.n == 0) {
		*why = errno == ENOMEM ? "out of memory" : "unable to parse it";
		code = errno == ENOMEM ? NYM_EX_TEMPFAIL : NYM_EX_DATAERR;
		goto done;
	}
	for (i = 0; i < al.n; i++) {
		if (al.a[i].domain == NULL || al.a[i].kind == NYM_DOM_NONE) {
			*why = "no valid domain";
			code = NYM_EX_NOHOST;
			goto done;
		}
		if (*n >= (size_t)NYM_SMTP_RCPTS * 10) {
			*why = "too many recipients";
			code = NYM_EX_DATAERR;
			goto done;
		}
		if (nym_reallocarray(rc, *n + 1, sizeof **rc) == -1) {
			*why = "out of memory";
			code = NYM_EX_TEMPFAIL;
			goto done;
		}
		r = &(*rc)[*n];
		memset(r, 0, sizeof *r);
		/* The path, <addr>, must fit in RFC 5321's 256 bytes. */
		if ((size_t)snprintf(r->addr, sizeof r->addr, "%s@%s",
		    al.a[i].local, al.a[i].domain) >= sizeof r->addr - 2 ||
		    strlen(al.a[i].domain) >= sizeof r->domain) {
			*why = "the address is too long";
			code = NYM_EX_DATAERR;
			goto done;
		}
		snprintf(r->domain, sizeof r->domain, "%s", al.a[i].domain);
		r->code = -1;
		(*n)++;
	}
done:
	nym_addrlist_free(&al);
	return code;
}

/* nym_smtp_reply, with r->code 0 when no reply was read. */
static int
getreply(struct nym_smtp_client *c, struct nym_smtp_reply *r)
{
	int code;

	/* The whole reply within the step's time, not each read. */
	if (c->in.ms > 0)
		c->in.deadline = nym_now_ms() + c->in.ms;
	code = nym_smtp_reply(&c->in, r);
	c->in.deadline = 0;

	if (code < 0)
		r->code = 0;
	return code;
}

/* Why the session broke: the reply if there was one, else errno. */
static int
broken(struct nym_smtp_client *c, const struct nym_smtp_reply *r)
{
	int code;

	c->err = r->code > 0 ? 0 : errno;
	if (r->code > 0) {
		setwhy(c->why, sizeof c->why, r);
		code = r->code >= 500 ? nym_smtp_exit(r) : NYM_EX_TEMPFAIL;
	} else {
		snprintf(c->why, sizeof c->why, "unable to talk to the mail "
		    "server: %s", errno == EPROTO ? "garbled reply" :
		    strerror(errno));
		code = NYM_EX_TEMPFAIL;
	}
	nym_smtp_quit(c, r->code > 0);
	return code;
}

void
nym_smtp_quit(struct nym_smtp_client *c, int polite)
{
	static struct nym_smtp_reply r;

	if (c->fd == -1)
		return;
	if (polite) {
		nym_smtp_cmd(&c->out, "QUIT");
		if (nym_out_flush(&c->out) == 0)
			(void)getreply(c, &r);
	}
	nym_in_close(&c->in);
	nym_out_close(&c->out);
	close(c->fd);
	c->fd = -1;
}

int
nym_smtp_start(struct nym_smtp_client *c, int fd, int ms, const char *helo)
{
	static struct nym_smtp_reply r;

	c->fd = fd;
	c->txn = 0;
	c->err = 0;
	c->why[0] = '\0';
	memset(&c->x, 0, sizeof c->x);
	r.code = 0;
	if (nym_in_open(&c->in, fd, (size_t)NYM_SMTP_REPLYLINE * 2) == -1)
		goto nomem;
	if (nym_out_open(&c->out, fd, NYM_SMTP_IOBUF) == -1) {
		nym_in_close(&c->in);
		goto nomem;
	}
	c->in.ms = c->out.ms = ms;
	if (getreply(c, &r) != 220)
		return broken(c, &r);
	return nym_smtp_hello(c, helo);
nomem:
	close(fd);
	c->fd = -1;
	snprintf(c->why, sizeof c->why, "unable to allocate memory");
	return NYM_EX_TEMPFAIL;
}

int
nym_smtp_starttls_cmd(struct nym_smtp_client *c)
{
	static struct nym_smtp_reply r;

	r.code = 0;
	nym_smtp_cmd(&c->out, "STARTTLS");
	if (nym_out_flush(&c->out) == -1 || getreply(c, &r) != 220)
		return broken(c, &r);
	/* Anything after the 220 came before TLS and would be taken as
	 * said inside it (the STARTTLS injection of CVE-2011-0411). */
	if (c->in.len > c->in.pos) {
		snprintf(c->why, sizeof c->why, "unable to start TLS: the "
		    "server sent more than its 220 to STARTTLS");
		nym_smtp_quit(c, 0);
		return NYM_EX_TEMPFAIL;
	}
	return NYM_EX_OK;
}

int
nym_smtp_hello(struct nym_smtp_client *c, const char *helo)
{
	static struct nym_smtp_reply r;

	r.code = 0;
	memset(&c->x, 0, sizeof c->x);
	nym_smtp_cmd(&c->out, "EHLO %s", helo);
	if (nym_out_flush(&c->out) == -1)
		return broken(c, &r);
	if (getreply(c, &r) == 250)
		nym_smtp_ehlo(&r, &c->x);
	else {
		nym_smtp_cmd(&c->out, "HELO %s", helo);
		if (nym_out_flush(&c->out) == -1 || getreply(c, &r) != 250)
			return broken(c, &r);
	}
	return NYM_EX_OK;
}

/* Send a SASL response line (base64, up to NYM_SMTP_AUTHLINE) and read
 * the reply. */
static int
saslline(struct nym_smtp_client *c, const char *b64, struct nym_smtp_reply *r)
{
	nym_out_write(&c->out, b64, strlen(b64));
	nym_out_write(&c->out, "\r\n", 2);
	if (nym_out_flush(&c->out) == -1)
		return -1;
	return getreply(c, r);
}

int
nym_smtp_auth(struct nym_smtp_client *c, const char *user, const char *pass)
{
	static struct nym_smtp_reply r;
	static char b64[NYM_SMTP_AUTHLINE];
	size_t n;
	int code, len;

	r.code = 0;
	if (c->x.auth & NYM_SMTP_AUTH_PLAIN) {
		if ((len = nym_pop3_authplain(user, pass, b64, sizeof b64)) < 0)
			goto toolong;
		/* The initial response saves a round trip when it fits. */
		if ((size_t)len + sizeof "AUTH PLAIN " + 1 <= NYM_SMTP_LINE) {
			nym_smtp_cmd(&c->out, "AUTH PLAIN %s", b64);
			if (nym_out_flush(&c->out) == -1)
				goto io;
			code = getreply(c, &r);
		} else {
			nym_smtp_cmd(&c->out, "AUTH PLAIN");
			if (nym_out_flush(&c->out) == -1)
				goto io;
			code = getreply(c, &r);
			if (code == 334)
				code = saslline(c, b64, &r);
		}
	} else if (c->x.auth & NYM_SMTP_AUTH_LOGIN) {
		n = strlen(user);
		if (4 * ((n + 2) / 3) + 1 > sizeof b64)
			goto toolong;
		nym_smtp_cmd(&c->out, "AUTH LOGIN");
		if (nym_out_flush(&c->out) == -1)
			goto io;
		code = getreply(c, &r);
		if (code == 334) {
			nym_base64((const unsigned char *)user, n, b64, "+/");
			code = saslline(c, b64, &r);
		}
		if (code == 334) {
			n = strlen(pass);
			if (4 * ((n + 2) / 3) + 1 > sizeof b64)
				goto toolong;
			nym_base64((const unsigned char *)pass, n, b64, "+/");
			code = saslline(c, b64, &r);
		}
	} else {
		snprintf(c->why, sizeof c->why, "the server offers no AUTH "
		    "PLAIN or LOGIN");
		nym_smtp_quit(c, 1);
		return NYM_EX_CONFIG;
	}
	explicit_bzero(b64, sizeof b64);
	/* The writer's buffer held the password too. */
	explicit_bzero(c->out.buf, c->out.cap);
	if (code == 235)
		return NYM_EX_OK;
	if (code < 0)
		return broken(c, &r);
	setwhy(c->why, sizeof c->why, &r);
	code = r.code >= 500 ? NYM_EX_NOPERM : NYM_EX_TEMPFAIL;
	if (r.code == 334) {
		/* A challenge we did not expect: leave (RFC 4954 "*"). */
		code = NYM_EX_NOPERM;
		nym_out_puts(&c->out, "*\r\n");
		if (nym_out_flush(&c->out) == 0)
			(void)getreply(c, &r);
	}
	nym_smtp_quit(c, 1);
	return code;
toolong:
	explicit_bzero(b64, sizeof b64);
	snprintf(c->why, sizeof c->why, "login or password too long");
	nym_smtp_quit(c, 1);
	return NYM_EX_CONFIG;
io:
	explicit_bzero(b64, sizeof b64);
	explicit_bzero(c->out.buf, c->out.cap);
	return broken(c, &r);
}

/* Take RCPT's reply for rc: a refusal is its outcome.  1 if accepted. */
static int
rcptreply(struct nym_smtp_rcpt *rc, const struct nym_smtp_reply *r)
{
	int code;

	if ((code = nym_smtp_exit(r)) == NYM_EX_OK)
		return 1;
	rc->code = code;
	setwhy(rc->why, sizeof rc->why, r);
	return 0;
}

/* One transaction for the rc[i] of code -1, the copy of msgfd with stamp
 * as its X-Hashcash field instead of the Bcc stamps (NULL: none). */
static void
transact(struct nym_smtp_client *c, const char *sender,
    struct nym_smtp_rcpt *rc, size_t n, int msgfd, const char *stamp)
{
	static struct nym_smtp_reply r;
	struct nym_in msg;
	struct stat st;
	char why[sizeof rc->why];	/* a two-line refusal kept whole */
	size_t i, ok = 0, sent = 0;
	int res, code, rset = 0;

	r.code = 0;
	if (c->fd == -1) {
		nym_smtp_failall(rc, n, NYM_EX_TEMPFAIL, "not connected");
		return;
	}
	if (fstat(msgfd, &st) == -1)
		goto ioerr;
	if (c->x.size && c->x.maxsize > 0 &&
	    (uint64_t)st.st_size > c->x.maxsize) {
		snprintf(why, sizeof why, "message of %lld bytes over the "
		    "server's limit of %llu", (long long)st.st_size,
		    (unsigned long long)c->x.maxsize);
		nym_smtp_failall(rc, n, NYM_EX_DATAERR, why);
		return;
	}
	/* A session that carried a transaction is reset before the next,
	 * finished or not, so that no message inherits the state of the
	 * one before (RFC 5321 4.1.1.5); with PIPELINING, RSET goes out
	 * with MAIL and its reply is read first. */
	if (c->txn) {
		nym_smtp_cmd(&c->out, "RSET");
		if (!c->x.pipelining) {
			if (nym_out_flush(&c->out) == -1)
				goto ioerr;
			if (getreply(c, &r) != 250)
				goto rsetfail;
		} else
			rset = 1;
	}
	c->txn = 1;
	if (c->x.size)
		nym_smtp_cmd(&c->out, "MAIL FROM:<%s> SIZE=%lld", sender,
		    (long long)st.st_size);
	else
		nym_smtp_cmd(&c->out, "MAIL FROM:<%s>", sender);
	/* PIPELINING: MAIL, every RCPT and DATA go out together. */
	if (!c->x.pipelining) {
		if (nym_out_flush(&c->out) == -1)
			goto ioerr;
		if (getreply(c, &r) < 0)
			goto badreply;
		if ((code = nym_smtp_exit(&r)) != NYM_EX_OK) {
			setwhy(why, sizeof why, &r);
			nym_smtp_failall(rc, n, code, why);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		if (rc[i].code != -1)
			continue;
		nym_smtp_cmd(&c->out, "RCPT TO:<%s>", rc[i].addr);
		sent++;
		if (!c->x.pipelining) {
			if (nym_out_flush(&c->out) == -1 ||
			    getreply(c, &r) < 0)
				goto badreply;
			ok += rcptreply(&rc[i], &r);
		}
	}
	if (c->x.pipelining) {
		nym_smtp_cmd(&c->out, "DATA");
		if (nym_out_flush(&c->out) == -1)
			goto ioerr;
		if (rset && getreply(c, &r) != 250)
			goto rsetfail;
		if (getreply(c, &r) < 0)
			goto badreply;
		/* That was MAIL's reply; then one per RCPT, then DATA's. */
		if ((code = nym_smtp_exit(&r)) != NYM_EX_OK) {
			setwhy(why, sizeof why, &r);
			nym_smtp_failall(rc, n, code, why);
			for (i = 0; i < sent + 1; i++)
				(void)getreply(c, &r);
			return;
		}
		for (i = 0; i < n; i++) {
			if (rc[i].code != -1)
				continue;
			if (getreply(c, &r) < 0)
				goto badreply;
			ok += rcptreply(&rc[i], &r);
		}
		if (getreply(c, &r) < 0)
			goto badreply;
		if (r.code != 354) {
			if (ok > 0) {
				setwhy(why, sizeof why, &r);
				code = nym_smtp_exit(&r);
				nym_smtp_failall(rc, n, code == NYM_EX_OK ?
				    NYM_EX_TEMPFAIL : code, why);
			}
			return;
		}
		if (ok == 0) {
			/* Nobody to send to: end DATA empty and drop it. */
			nym_out_puts(&c->out, ".\r\n");
			if (nym_out_flush(&c->out) == -1)
				goto ioerr;
			(void)getreply(c, &r);
			return;
		}
	} else {
		if (ok == 0)
			return;
		nym_smtp_cmd(&c->out, "DATA");
		if (nym_out_flush(&c->out) == -1 || getreply(c, &r) < 0)
			goto badreply;
		if (r.code != 354) {
			setwhy(why, sizeof why, &r);
			nym_smtp_failall(rc, n, nym_smtp_exit(&r) == NYM_EX_OK ?
			    NYM_EX_TEMPFAIL : nym_smtp_exit(&r), why);
			return;
		}
	}
	if (lseek(msgfd, 0, SEEK_SET) == -1 ||
	    nym_in_open(&msg, msgfd, NYM_SMTP_IOBUF) == -1)
		goto ioerr;
	/* The message at NYM_MIN_RATE at least: a server that takes a
	 * byte now and then cannot hold us. */
	c->out.deadline = c->out.ms > 0 ? nym_now_ms() + c->out.ms : 0;
	c->out.rate = NYM_MIN_RATE;
	res = nym_smtp_putdata(&msg, &c->out, stamp);
	c->out.deadline = 0;
	c->out.rate = 0;
	nym_in_close(&msg);
	if (res == -1)
		goto ioerr;
	if (getreply(c, &r) < 0)
		goto badreply;
	if ((code = nym_smtp_exit(&r)) != NYM_EX_OK) {
		setwhy(why, sizeof why, &r);
		nym_smtp_failall(rc, n, code, why);
	} else
		nym_smtp_failall(rc, n, NYM_EX_OK, "");
	return;
rsetfail:
	/* Not the message's fault, whatever the server said: it is tried
	 * again on another session. */
	if (r.code > 0) {
		setwhy(why, sizeof why, &r);
		nym_smtp_failall(rc, n, NYM_EX_TEMPFAIL, why);
		nym_smtp_quit(c, 0);
		return;
	}
	goto ioerr;
badreply:
	if (r.code > 0) {
		setwhy(why, sizeof why, &r);
		nym_smtp_failall(rc, n, r.code >= 500 ? nym_smtp_exit(&r) :
		    NYM_EX_TEMPFAIL, why);
		nym_smtp_quit(c, 1);
		return;
	}
	/* FALLTHROUGH */
ioerr:
	snprintf(why, sizeof why, "unable to talk to the mail server: %s",
	    errno == EPROTO ? "garbled reply" : strerror(errno));
	nym_smtp_failall(rc, n, NYM_EX_TEMPFAIL, why);
	nym_smtp_quit(c, 0);
}

/* The stamps of the X-Hashcash-Bcc fields of the message in msgfd, each
 * NYM_POW_STAMP_MAX + 1 bytes in *st (malloc'd; NULL if none), at most
 * NYM_POW_STAMPS_MAX.  Their number; 0 also when the header cannot be
 * read (the DATA copy, which drops every Bcc stamp, says why). */
static size_t
bccstamps(int msgfd, char **st)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_hdr h = { 0 };
	struct nym_in in;
	size_t i, nst = 0, rl;
	ssize_t len;

	*st = NULL;
	if (lseek(msgfd, 0, SEEK_SET) == -1 ||
	    nym_in_open(&in, msgfd, NYM_IOBUF) == -1)
		return 0;
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, NULL, NULL) == -1)
		goto done;
	for (i = 0; i < h.nf && nst < NYM_POW_STAMPS_MAX; i++) {
		if (!nym_hdr_is(&h, i, "x-hashcash-bcc") ||
		    (len = nym_hdr_value(&h, i, val, sizeof val)) < 0)
			continue;
		while (len > 0 && (val[len - 1] == ' ' ||
		    val[len - 1] == '\t'))
			len--;
		if (len == 0 || len > NYM_POW_STAMP_MAX ||
		    nym_hdr_stampres(val, (size_t)len, &rl) == NULL)
			continue;
		if (*st == NULL && (*st = malloc((size_t)NYM_POW_STAMPS_MAX *
		    (NYM_POW_STAMP_MAX + 1))) == NULL)
			break;
		memcpy(*st + nst * (NYM_POW_STAMP_MAX + 1), val, (size_t)len);
		(*st)[nst * (NYM_POW_STAMP_MAX + 1) + (size_t)len] = '\0';
		nst++;
	}
done:
	nym_hdr_free(&h);
	nym_in_close(&in);
	return nst;
}

/* A pending recipient with a Bcc stamp of its own waits its own
 * transaction with this code. */
#define BLIND	(-3)

void
nym_smtp_send(struct nym_smtp_client *c, const char *sender,
    struct nym_smtp_rcpt *rc, size_t n, int msgfd)
{
	const char *res, *s;
	char *st;
	const struct nym_smtp_rcpt *last = NULL;
	size_t i, k, nst, rl, vis = 0;
	int *own;

	if (c->fd == -1 || (nst = bccstamps(msgfd, &st)) == 0) {
		transact(c, sender, rc, n, msgfd, NULL);
		return;
	}
	if ((own = calloc(n, sizeof *own)) == NULL) {
		nym_smtp_failall(rc, n, NYM_EX_TEMPFAIL, strerror(errno));
		free(st);
		return;
	}
	/* Each recipient whose address a Bcc stamp is for is sent that
	 * stamp alone, in a transaction of its own (RFC 5322 3.6.3: no
	 * recipient learns of a Bcc recipient), the others the message
	 * without any Bcc stamp, together, first. */
	for (i = 0; i < n; i++) {
		own[i] = -1;
		for (k = 0; rc[i].code == -1 && k < nst; k++) {
			s = st + k * (NYM_POW_STAMP_MAX + 1);
			res = nym_hdr_stampres(s, strlen(s), &rl);
			if (strlen(rc[i].addr) == rl &&
			    strncasecmp(rc[i].addr, res, rl) == 0) {
				own[i] = (int)k;
				rc[i].code = BLIND;
			}
		}
		vis += rc[i].code == -1;
	}
	if (vis > 0) {
		transact(c, sender, rc, n, msgfd, NULL);
		for (i = 0; i < n && last == NULL; i++)
			if (own[i] == -1 && rc[i].code == NYM_EX_TEMPFAIL)
				last = &rc[i];
	}
	for (i = 0; i < n; i++) {
		if (own[i] == -1 || rc[i].code != BLIND)
			continue;
		rc[i].code = -1;
		/* A session that broke: why, not "not connected". */
		if (c->fd == -1 && last != NULL)
			nym_smtp_failall(rc + i, 1, NYM_EX_TEMPFAIL, last->why);
		else
			transact(c, sender, rc + i, 1, msgfd,
			    st + (size_t)own[i] * (NYM_POW_STAMP_MAX + 1));
		last = &rc[i];
	}
	free(own);
	free(st);
}
