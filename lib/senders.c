/*
 * senders.c - a recipient's allow and deny lists of senders.
 *
 * The list is a text file the user may edit as well as sender-list(1):
 * "allow PATTERN" and "deny PATTERN" lines, where PATTERN is an address
 * or OnionMail's "*@domain".  smtp-receive reads it at every RCPT, so a
 * read is one bounded read(2) and a match is a pass over the entries;
 * nothing in a hostile file (long lines, NUL bytes, garbage) does more
 * than make its line a bad one, reported with its number and skipped.
 *
 * Updates rewrite the whole file beside it and rename it into place, so
 * that a reader never sees half of one.  Two writers are kept apart by
 * an exclusive flock(2) on the file itself; since the rename replaces
 * the file, a writer that waited checks after getting the lock that the
 * name still refers to what it locked, and starts again if not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* May c be in a local part?  RFC 5322 atext and the dot: printable
 * ASCII but for the specials and white space. */
static int
localchar(int c)
{
	return c > ' ' && c < 127 && strchr("()<>[]:;@\\,\"", c) == NULL;
}

int
nym_senders_norm(const char *s, size_t n, char *out, size_t cap,
    const char **why)
{
	const char *at = NULL, *d, *dend, *label;
	size_t i, ln, dn, dots = 0;
	const char *w = NULL;

	for (i = n; i > 0; i--)
		if (s[i - 1] == '@') {
			at = s + i - 1;
			break;
		}
	if (at == NULL) {
		w = "expected local@domain or *@domain";
		goto bad;
	}
	ln = (size_t)(at - s);
	if (ln == 0 || ln > 64) {
		w = ln == 0 ? "empty local part" : "local part over 64 bytes";
		goto bad;
	}
	for (i = 0; i < ln; i++)
		if (!localchar((unsigned char)s[i])) {
			w = "bad byte in the local part";
			goto bad;
		}
	d = at + 1;
	dend = s + n;
	if (dend > d && dend[-1] == '.')
		dend--;
	dn = (size_t)(dend - d);
	if (dn == 0 || dn > NYM_SMTP_DOMAIN) {
		w = dn == 0 ? "empty domain" : "domain too long";
		goto bad;
	}
	for (i = 0, label = d; i < dn; i++) {
		int c = (unsigned char)d[i];

		if (c == '.') {
			if (d + i == label) {
				w = "empty label in the domain";
				goto bad;
			}
			label = d + i + 1;
			dots++;
		} else if (!(c >= 'a' && c <= 'z') && !(c >= 'A' &&
		    c <= 'Z') && !(c >= '0' && c <= '9') && c != '-') {
			w = "bad byte in the domain";
			goto bad;
		}
	}
	if (label == dend) {
		w = "empty label in the domain";
		goto bad;
	}
	/* SMTorP's local@pin.<onion>.onion names the mailbox
	 * local@<onion>.onion: keep the last two labels. */
	if (dots >= 2 && dn > 6 && strncasecmp(dend - 6, ".onion", 6) == 0) {
		for (label = dend - 7; label > d && label[-1] != '.'; label--)
			;
		dn = (size_t)(dend - label);
		d = label;
	}
	/* A mailbox fits a path with its angle brackets (as smtp.c
	 * checks): a longer pattern could match nothing nym_senders_match
	 * takes. */
	if (ln + 1 + dn + 2 > NYM_SMTP_PATH) {
		w = "address over 254 bytes";
		goto bad;
	}
	if (ln + 1 + dn + 1 > cap) {
		errno = ENAMETOOLONG;
		if (why != NULL)
			*why = "address too long";
		return -1;
	}
	for (i = 0; i < ln; i++)
		out[i] = (char)lower((unsigned char)s[i]);
	out[ln] = '@';
	for (i = 0; i < dn; i++)
		out[ln + 1 + i] = (char)lower((unsigned char)d[i]);
	out[ln + 1 + dn] = '\0';
	return 0;
bad:
	if (why != NULL)
		*why = w;
	errno = EINVAL;
	return -1;
}

void
nym_senders_free(struct nym_senders *l)
{
	free(l->buf);
	free(l->e);
	memset(l, 0, sizeof *l);
}

/* A line "demand DEMAND": the recipient's own stamp demand. */
#define LINE_DEMAND	3

int
nym_senders_isdemand(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NYM_POW_DEMAND_MAX || s[0] == ' ' ||
	    s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789:,.>@+- ", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

/* The verb and pattern of the line s[0, n) (no LF): *pat and *patlen
 * get the pattern's bytes.  The verdict, 0 for a blank or comment line,
 * or -1 with the reason in *why. */
static int
entryof(const char *s, size_t n, const char **pat, size_t *patlen,
    const char **why)
{
	const char *p = s, *end = s + n, *w;
	int v;

	if (memchr(s, '\0', n) != NULL) {
		*why = "NUL byte";
		return -1;
	}
	if (end > p && end[-1] == '\r')
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end || *p == '#')
		return 0;
	for (w = p; w < end && *w != ' ' && *w != '\t'; w++)
		;
	if (w - p == 5 && memcmp(p, "allow", 5) == 0)
		v = NYM_SENDERS_ALLOW;
	else if (w - p == 4 && memcmp(p, "deny", 4) == 0)
		v = NYM_SENDERS_DENY;
	else if (w - p == 6 && memcmp(p, "demand", 6) == 0)
		v = LINE_DEMAND;
	else {
		*why = "expected allow, deny or demand";
		return -1;
	}
	while (w < end && (*w == ' ' || *w == '\t'))
		w++;
	if (w == end) {
		*why = v == LINE_DEMAND ? "no demand" : "no address";
		return -1;
	}
	*pat = w;
	if (v == LINE_DEMAND) {
		/* The rest of the line, blanks inside it kept. */
		*patlen = (size_t)(end - w);
		if (!nym_senders_isdemand(w, *patlen)) {
			*why = "not a demand (pow-stamp(1), DEMAND)";
			return -1;
		}
		return v;
	}
	while (w < end && *w != ' ' && *w != '\t')
		w++;
	if (w != end) {
		*why = "expected one address";
		return -1;
	}
	*patlen = (size_t)(w - *pat);
	return v;
}

int
nym_senders_parse(struct nym_senders *l, const void *buf, size_t n,
    nym_senders_badline bad, void *arg)
{
	char norm[NYM_SENDERS_LINE + 1], *s, *nl, *end;
	const char *pat, *why;
	size_t cap = 0, len, plen;
	unsigned line = 0;
	int v = 0;

	memset(l, 0, sizeof *l);
	if (n > NYM_SENDERS_MAX) {
		errno = EFBIG;
		return -1;
	}
	if ((l->buf = malloc(n + 1)) == NULL)
		return -1;
	if (n > 0)
		memcpy(l->buf, buf, n);
	l->buf[n] = '\0';
	l->len = n;
	end = l->buf + n;
	for (s = l->buf; s < end; s = nl + 1) {
		line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		len = (size_t)(nl - s);
		why = NULL;
		if (len > NYM_SENDERS_LINE)
			why = "line too long";
		else if ((v = entryof(s, len, &pat, &plen, &why)) == 0)
			continue;
		else if (v == LINE_DEMAND) {
			if (l->demand == NULL) {
				/* Followed by a blank, CR, LF or NUL. */
				((char *)pat)[plen] = '\0';
				l->demand = (char *)pat;
				continue;
			}
			why = "a second demand";
		} else if (v > 0 && nym_senders_norm(pat, plen, norm,
		    sizeof norm, &why) == 0 && l->n == NYM_SENDERS_ENTRIES)
			why = "too many entries";
		if (why != NULL) {
			l->bad++;
			if (bad != NULL)
				bad(arg, line, why);
			continue;
		}
		if (l->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if (nym_reallocarray(&l->e, cap, sizeof *l->e) == -1) {
				nym_senders_free(l);
				errno = ENOMEM;
				return -1;
			}
		}
		/* The normal form is never longer than the pattern (case
		 * changed, a dot or a label dropped), and the byte after
		 * the pattern is a blank, CR, LF or buf's own NUL. */
		plen = strlen(norm);
		memcpy((char *)pat, norm, plen + 1);
		l->e[l->n].verdict = v;
		l->e[l->n].pat = (char *)pat;
		l->e[l->n].line = line;
		l->n++;
	}
	return 0;
}

/* Read at most NYM_SENDERS_MAX bytes of fd into a new buffer: *out and
 * its length, or -1 (EFBIG past the limit). */
static ssize_t
slurp(int fd, char **out)
{
	char *buf;
	ssize_t n;

	if ((buf = malloc(NYM_SENDERS_MAX + 1)) == NULL)
		return -1;
	if ((n = nym_read_all(fd, buf, NYM_SENDERS_MAX + 1)) == -1) {
		free(buf);
		return -1;
	}
	if (n > NYM_SENDERS_MAX) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	*out = buf;
	return n;
}

int
nym_senders_read(struct nym_senders *l, const char *path,
    nym_senders_badline bad, void *arg)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, r, e;

	memset(l, 0, sizeof *l);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		e = errno;
		if (e == 0 || (e != EIO && !S_ISREG(st.st_mode)))
			e = EINVAL;
		close(fd);
		errno = e;
		return -1;
	}
	n = slurp(fd, &buf);
	e = errno;
	close(fd);
	if (n == -1) {
		errno = e;
		return -1;
	}
	r = nym_senders_parse(l, buf, (size_t)n, bad, arg);
	e = errno;
	free(buf);
	errno = e;
	return r;
}

int
nym_senders_match(const struct nym_senders *l, const char *addr)
{
	char norm[NYM_SMTP_PATH + 8], dom0[NYM_SMTP_PATH + 8];
	const char *at, *dom;
	size_t i, n = strlen(addr);
	int exact = NYM_SENDERS_NONE, domain = NYM_SENDERS_NONE;

	if (nym_senders_norm(addr, n, norm, sizeof norm, NULL) == -1) {
		/* A local part we do not take (quoted, say) still has a
		 * domain that *@domain names. */
		if ((at = strrchr(addr, '@')) == NULL ||
		    (size_t)snprintf(dom0, sizeof dom0, "*%s", at) >=
		    sizeof dom0 ||
		    nym_senders_norm(dom0, strlen(dom0), norm, sizeof norm,
		    NULL) == -1)
			return NYM_SENDERS_NONE;
	}
	dom = strrchr(norm, '@') + 1;
	for (i = 0; i < l->n; i++) {
		const char *p = l->e[i].pat;
		int v = l->e[i].verdict;

		if (strcmp(p, norm) == 0) {
			if (exact != NYM_SENDERS_DENY)
				exact = v;
		} else if (p[0] == '*' && p[1] == '@' &&
		    strcmp(p + 2, dom) == 0) {
			if (domain != NYM_SENDERS_DENY)
				domain = v;
		}
	}
	return exact != NYM_SENDERS_NONE ? exact : domain;
}

/* Open and lock the file at path, creating it (0600) if missing, and
 * make sure that the name still refers to the file locked (an update
 * may have renamed a new one over it meanwhile).  The descriptor, or -1
 * (ETIMEDOUT: no lock within NYM_SENDERS_LOCK_MS). */
static int
lockfile(const char *path)
{
	struct stat a, b;
	long long end = nym_now_ms() + NYM_SENDERS_LOCK_MS;
	struct timespec nap = { 0, 1000000 };
	int fd, e;

	for (;;) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0600)) == -1)
			return -1;
		while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			if (errno != EWOULDBLOCK && errno != EINTR)
				goto fail;
			if (nym_now_ms() >= end) {
				errno = ETIMEDOUT;
				goto fail;
			}
			nanosleep(&nap, NULL);
			if (nap.tv_nsec < 32000000)
				nap.tv_nsec *= 2;
		}
		if (fstat(fd, &a) == -1)
			goto fail;
		if (!S_ISREG(a.st_mode)) {
			errno = EINVAL;
			goto fail;
		}
		if (stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Append n bytes at p to the growing buffer *b (length *len), which
 * never passes NYM_SENDERS_MAX (EFBIG). */
static int
put(char *b, size_t *len, const char *p, size_t n)
{
	if (n > NYM_SENDERS_MAX - *len) {
		errno = EFBIG;
		return -1;
	}
	memcpy(b + *len, p, n);
	*len += n;
	return 0;
}

/* Rewrite the list at path so that the entries like the new one (of
 * the pattern val, normalized, or the demand line if verdict is
 * LINE_DEMAND) become "WORD VAL" in the place of the first, the others
 * gone; with del, they all go; a new one goes at the end.  Every other
 * line byte for byte.  As nym_senders_set. */
static int
setline(const char *path, int verdict, const char *val, int del)
{
	const char *word = verdict == NYM_SENDERS_ALLOW ? "allow " :
	    verdict == NYM_SENDERS_DENY ? "deny " : "demand ";
	int demand = verdict == LINE_DEMAND;
	char norm[NYM_SENDERS_LINE + 1];
	char dir[NYM_MD_PATH], *old = NULL, *nb = NULL, *s, *nl, *end;
	const char *name, *p, *why;
	struct nym_afile af = { .fd = -1 };
	size_t len = 0, plen, ln, entries = 0;
	ssize_t n;
	int fd = -1, v, like, found = 0, changed = 0, e, r = -1;

	if ((name = nym_splitpath(path, dir, sizeof dir)) == NULL)
		return -1;
	if (*name == '\0') {
		errno = EISDIR;
		return -1;
	}
	if (nym_mkdirs(dir, 0700) == -1 || (fd = lockfile(path)) == -1)
		return -1;
	if ((n = slurp(fd, &old)) == -1 ||
	    (nb = malloc(NYM_SENDERS_MAX)) == NULL)
		goto out;
	end = old + n;
	for (s = old; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		ln = (size_t)(nl - s);
		v = ln > NYM_SENDERS_LINE ? -1 : entryof(s, ln, &p, &plen,
		    &why);
		like = demand ? v == LINE_DEMAND : v > 0 && v != LINE_DEMAND &&
		    nym_senders_norm(p, plen, norm, sizeof norm, NULL) == 0 &&
		    strcmp(norm, val) == 0;
		if (like) {
			/* The first entry like it becomes the new one (in
			 * its place), the others go. */
			if (del || found) {
				changed = 1;
				continue;
			}
			found = 1;
			entries++;
			if (v != verdict || plen != strlen(val) ||
			    memcmp(p, val, plen) != 0) {
				changed = 1;
				if (put(nb, &len, word, strlen(word)) == -1 ||
				    put(nb, &len, val, strlen(val)) == -1 ||
				    put(nb, &len, "\n", 1) == -1)
					goto out;
				continue;
			}
		} else if (v > 0 && v != LINE_DEMAND)
			entries++;
		if (put(nb, &len, s, ln + (nl < end)) == -1)
			goto out;
	}
	if (!found && !del) {
		if (!demand && entries >= NYM_SENDERS_ENTRIES) {
			errno = EFBIG;
			goto out;
		}
		changed = 1;
		if ((len > 0 && nb[len - 1] != '\n' &&
		    put(nb, &len, "\n", 1) == -1) ||
		    put(nb, &len, word, strlen(word)) == -1 ||
		    put(nb, &len, val, strlen(val)) == -1 ||
		    put(nb, &len, "\n", 1) == -1)
			goto out;
	}
	if (!changed) {
		r = 0;
		goto out;
	}
	if (nym_afile_beside(&af, dir, name, 0600) == -1)
		goto out;
	if (nym_write_all(af.fd, nb, len) == -1 ||
	    nym_afile_commit(&af, dir, name, 0) == -1) {
		e = errno;
		nym_afile_abort(&af);
		errno = e;
		goto out;
	}
	r = 1;
out:
	e = errno;
	free(old);
	free(nb);
	if (fd != -1)
		close(fd);	/* the lock goes with it */
	errno = e;
	return r;
}

int
nym_senders_set(const char *path, const char *pat, int verdict)
{
	char np[NYM_SENDERS_LINE + 1];

	if (nym_senders_norm(pat, strlen(pat), np, sizeof np, NULL) == -1)
		return -1;
	return setline(path, verdict == NYM_SENDERS_NONE ? NYM_SENDERS_ALLOW :
	    verdict, np, verdict == NYM_SENDERS_NONE);
}

int
nym_senders_setdemand(const char *path, const char *demand)
{
	if (demand != NULL && !nym_senders_isdemand(demand, strlen(demand))) {
		errno = EINVAL;
		return -1;
	}
	return setline(path, LINE_DEMAND, demand != NULL ? demand : "",
	    demand == NULL);
}

int
nym_senders_path(char *buf, size_t cap, const char *dir, const char *rcpt,
    int exact)
{
	char low[NYM_SMTP_PATH];
	const char *at;
	struct stat st;
	size_t i, n = strlen(rcpt);

	if (n == 0 || rcpt[0] == '.' || n >= sizeof low) {
		errno = n >= sizeof low ? ENAMETOOLONG : EINVAL;
		return -1;
	}
	for (i = 0; i <= n; i++) {
		if (rcpt[i] == '/' || (i < n && ((unsigned char)rcpt[i] <= ' ' ||
		    (unsigned char)rcpt[i] >= 127))) {
			errno = EINVAL;
			return -1;
		}
		low[i] = (char)lower((unsigned char)rcpt[i]);
	}
	if ((size_t)snprintf(buf, cap, "%s/%s", dir, low) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (exact || (at = strrchr(low, '@')) == NULL || at == low ||
	    stat(buf, &st) == 0)
		return 0;
	if ((size_t)snprintf(buf, cap, "%s/%.*s", dir, (int)(at - low), low) >=
	    cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
