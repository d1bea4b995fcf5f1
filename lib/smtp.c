/*
 * smtp.c - SMTP protocol pieces (RFC 5321) for both ends of a session.
 *
 * Client side (sam-deliver): read a reply, one or many lines, bounded and
 * under the reader's timeout; parse the EHLO keywords; queue a command;
 * stream a message as DATA with dots stuffed, CRLF line ends and the Bcc
 * fields removed, never holding it whole.
 *
 * Server side (smtp-receive): read a command line within RFC 5321's 512
 * bytes, skipping a longer one to its end so that the session can go on;
 * parse the paths and parameters of MAIL and RCPT strictly (no source
 * routes, no 8-bit addresses); read DATA into a writer with the stuffed
 * dots removed and a size limit that discards the excess but reads on to
 * the final dot, so that the reply still lines up with the client.
 *
 * Nothing here allocates or prints: the callers own the buffers, the
 * file descriptors and the words of the replies.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nymbox.h"

/* Length of s[0, n) without its LF and then its CR, if present. */
static size_t
chomp(const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

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
		n = chomp(line, len);
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
		else if (wordis(s, kw, "SIZE")) {
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

/* Is the field named s[0, n) one that must not be transmitted? */
static int
blind(const char *s, size_t n)
{
	return wordis(s, n, "Bcc") || wordis(s, n, "Resent-Bcc");
}

int
nym_smtp_putdata(struct nym_in *in, struct nym_out *out)
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
				else if ((name = nym_hdr_fieldname(line, n)) > 0)
					drop = bcc = blind(line, name);
				else if (!eol && namestart(line, n))
					bcc = 0;	/* a name longer than
							   the buffer */
				else	/* the empty line, or no empty line */
					hdr = bcc = 0;
			}
			if (!drop && n > 0 && line[0] == '.')
				nym_out_write(out, ".", 1);
			first = 0;
		}
		if (!drop && n > 0) {
			nym_out_write(out, line, n);
			cr = line[n - 1] == '\r';
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
		if (total > NYM_SMTP_SKIP) {
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
	buf[chomp(buf, total)] = '\0';
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
	const char *line;
	size_t len, n;
	int rv, more, bol = 1, cr = 0;

	memset(d, 0, sizeof *d);
	for (;;) {
		if ((rv = nym_in_line(in, &line, &len, &more)) == -1)
			return -1;
		if (rv == 0 || (!more && line[len - 1] != '\n')) {
			errno = ECONNRESET;
			return -1;
		}
		if (bol && line[0] == '.') {
			if ((len == 2 && line[1] == '\n') ||
			    (len == 3 && line[1] == '\r' && line[2] == '\n'))
				break;
			line++;
			len--;
		}
		bol = !more;
		if (!d->over && max > 0 && len > max - d->size)
			d->over = 1;
		d->size += len;
		if (d->over || out == NULL)
			continue;
		if (!(flags & NYM_SMTP_LF)) {
			nym_out_write(out, line, len);
			continue;
		}
		/* A CR that ends a piece waits for what follows it. */
		if (cr && line[0] != '\n')
			nym_out_write(out, "\r", 1);
		n = len;
		if (!more && n >= 2 && line[n - 2] == '\r') {
			n -= 2;
			nym_out_write(out, line, n);
			nym_out_write(out, "\n", 1);
		} else if (more && line[n - 1] == '\r')
			nym_out_write(out, line, n - 1);
		else
			nym_out_write(out, line, n);
		cr = more && line[len - 1] == '\r';
	}
	if (out != NULL && !d->over && nym_out_flush(out) == -1)
		d->werr = errno;
	return 0;
}
