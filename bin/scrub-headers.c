/*
 * scrub-headers - remove what identifies the sender's machine from a
 * message: software, host, network, user name, locale and time zone.
 *
 * Reads one message (or an mbox with -m) on stdin, writes it scrubbed to
 * stdout.  The top-level header is filtered through an allowlist; Date is
 * rewritten in UTC; Message-ID, own In-Reply-To/References entries,
 * Content-IDs and MIME boundaries are replaced by keyed hashes of the
 * originals, so a thread stays a thread across runs and nothing of the
 * client survives.  MIME part headers are scrubbed as the message streams
 * past; part bodies are copied untouched, except text/html parts whose
 * cid: references must follow their renamed Content-IDs.  Memory is
 * bounded by the header limits in nymbox.h, not by the message size.
 *
 * No GMime here: linking it costs more start-up time than the whole job
 * takes for the one-process-per-message case (procmail, sendmail pipes).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "nymbox.h"

#define USAGE "usage: scrub-headers [-cmn] [-d field] [-k field] " \
	"[-K keyfile] [-p policy] [-r seconds] < message\n" \
	"       scrub-headers -i\n"

#define HASHLEN		16	/* bytes of keyed hash in generated IDs */
#define TOKLEN		26	/* base32 characters for HASHLEN bytes */

static int cflag, iflag, mflag, nflag;
static long rflag;
static const char *Kflag, *mdomain;

static unsigned char key[NYM_KEYLEN];
static int haskey;
static time_t now;

/* Fields kept at the top level and in MIME parts; everything else goes. */
static const char *const keeptop[] = {
	"from", "to", "cc", "bcc", "reply-to", "mail-followup-to",
	"mail-reply-to", "subject", "date", "message-id", "in-reply-to",
	"references", "keywords", "mime-version", "content-type",
	"content-transfer-encoding", "content-disposition", "content-id",
	"content-description", NULL
};
static const char *const keeppart[] = {
	"content-type", "content-transfer-encoding", "content-disposition",
	"content-id", "content-description", "content-md5", "mime-version",
	NULL
};

static const struct {
	const char *name;
	const char *why;
} reasons[] = {
	{ "received", "hosts, addresses and times the message passed" },
	{ "return-path", "envelope sender set by the sending machine" },
	{ "sender", "account or host that handed the message on" },
	{ "user-agent", "mail client and version" },
	{ "x-mailer", "mail client and version" },
	{ "x-newsreader", "mail client and version" },
	{ "organization", "organisation of the sender" },
	{ "content-language", "locale of the sender" },
	{ "content-location", "may hold a local file path or URL" },
	{ "x-originating-ip", "network address of the sender" },
	{ "x-*", "non-standard field (client or provider details)" },
	{ "list-*", "mailing list details" },
	{ "resent-*", "resending host, time and time zone" },
	{ "dkim-signature", "signing domain and time of a previous hop" },
	{ "autocrypt", "client feature (Autocrypt) in use" },
	{ "openpgp", "client feature (OpenPGP) in use" },
	{ "disposition-notification-to",
	    "read-receipt request from the client" },
	{ NULL, "not on the list of fields to keep" }
};

/* One message's state while it streams from in to out. */
struct msg {
	struct nym_in *in;
	struct nym_out *out;
	unsigned long no;	/* message number in an mbox, from 1 */
	const char *eol;
	size_t eollen;
	char domain[256];	/* right side of generated IDs */
	char origid[1000];	/* original Message-ID, brackets removed */
	int origleak;		/* it carries client or machine details */
	int leaks;
	int folded;		/* stray header lines taken as folds */
	int nextfrom;		/* stopped at the next mbox From_ line */
	int prevempty;		/* the last line read was empty */
	char tail[3];		/* last three bytes written */
	int depth;
	struct level {
		char orig[NYM_BOUNDARY_MAX + 1];
		char repl[NYM_BOUNDARY_MAX + 1];
		size_t olen;
		int raw;	/* signed/encrypted: parts copied verbatim */
		int parts;
	} lv[NYM_MIME_DEPTH];
};

/* What a header section said about the content that follows it. */
struct content {
	char type[128];		/* lower-cased type/subtype, "" if absent */
	char cte[64];		/* lower-cased Content-Transfer-Encoding */
	char boundary[NYM_BOUNDARY_MAX + 1];
};

static char scratch[NYM_FIELD_MAX + 1];

static void
usage(void)
{
	nym_usage();
}

/* A field-name pattern: lower case; a trailing '*' makes it a prefix. */
struct pat {
	const char *s;
	size_t n;		/* length without the '*' */
	int prefix;
};

static struct pat *ptop, *ppart, *pknown, *preason, *pkeep, *pdrop;
static size_t nptop, nppart, npknown, npreason, npkeep, npdrop;

static void
addpat(struct pat **list, size_t *n, const char *s)
{
	char *c;
	size_t l;

	if (nym_reallocarray(list, *n + 1, sizeof **list) == -1 ||
	    (c = strdup(s)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (l = 0; c[l] != '\0'; l++)
		c[l] = (char)tolower((unsigned char)c[l]);
	(*list)[*n].s = c;
	(*list)[*n].prefix = l > 0 && c[l - 1] == '*';
	(*list)[*n].n = l - (size_t)(*list)[*n].prefix;
	(*n)++;
}

/* Does name[0, n) match pattern p (case-insensitive)?  Most fail on the
 * length or the first letter, before any string compare. */
static int
namematch(const char *name, size_t n, const struct pat *p)
{
	if (p->prefix ? n < p->n : n != p->n)
		return 0;
	if (p->n == 0)
		return 1;
	return p->s[0] == tolower((unsigned char)name[0]) &&
	    strncasecmp(name, p->s, p->n) == 0;
}

static ssize_t
inlist(const char *name, size_t n, const struct pat *list, size_t nl)
{
	size_t i;

	for (i = 0; i < nl; i++)
		if (namematch(name, n, &list[i]))
			return (ssize_t)i;
	return -1;
}

static int
wanted(const char *name, size_t n, int part)
{
	if (inlist(name, n, pdrop, npdrop) != -1)
		return 0;
	if (inlist(name, n, pkeep, npkeep) != -1)
		return 1;
	return part ? inlist(name, n, ppart, nppart) != -1 :
	    inlist(name, n, ptop, nptop) != -1;
}

static const char *
why(const char *name, size_t n)
{
	ssize_t i = inlist(name, n, preason, npreason);

	return reasons[i == -1 ? (ssize_t)npreason : i].why;
}

static void
leak(struct msg *m, const char *part, const char *name, size_t n,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
leak(struct msg *m, const char *part, const char *name, size_t n,
    const char *fmt, ...)
{
	va_list ap;

	m->leaks++;
	if (!cflag)
		return;
	if (mflag)
		printf("%lu: ", m->no);
	if (part != NULL)
		printf("part %s: ", part);
	printf("%.*s: ", (int)n, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
emitbytes(struct msg *m, const char *p, size_t n)
{
	if (n == 0)
		return;
	nym_out_write(m->out, p, n);
	for (size_t i = n > 3 ? n - 3 : 0; i < n; i++) {
		m->tail[0] = m->tail[1];
		m->tail[1] = m->tail[2];
		m->tail[2] = p[i];
	}
}

/* The output ends in an empty line (LF or CRLF). */
static int
endsempty(const struct msg *m)
{
	return m->tail[2] == '\n' && (m->tail[1] == '\n' ||
	    (m->tail[1] == '\r' && m->tail[0] == '\n'));
}

/* In an mbox, a line that starts with "From " after an empty line starts
 * the next message.  Where the input had no empty line before such a
 * line but the output has one (scrub-headers ended a part's header that
 * the input broke off without one), the line is quoted with '>', as an
 * MDA quotes it, so the output splits where the input did
 * (t/fuzz/regress/scrub/mbox-unclosed-multipart).  From_ lines
 * themselves go out through emitbytes. */
static void
emit(struct msg *m, const char *p, size_t n)
{
	if (mflag && n >= 5 && memcmp(p, "From ", 5) == 0 && endsempty(m))
		emitbytes(m, ">", 1);
	emitbytes(m, p, n);
}

static void
emits(struct msg *m, const char *s)
{
	emit(m, s, strlen(s));
}

static void
loadkey(void)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	const char *p = Kflag;

	if (haskey)
		return;
	haskey = 1;
	if (cflag)
		return;	/* a check writes nothing: an all-zero key will do */
	if (p == NULL) {
		if (nym_confdir(path, sizeof path) == -1 ||
		    strlen(path) + sizeof "/scrub.key" > sizeof path)
			nym_die(NYM_EX_CONFIG, "unable to find the key "
			    "directory: set HOME or use -K");
		strcat(path, "/scrub.key");
		p = path;
	}
	if (nym_key_load(p, key) == -1) {
		if (errno == EPERM)
			nym_die(NYM_EX_CONFIG, "unable to use key %s: %s", p,
			    nym_secretwhy(p, errno, why, sizeof why));
		if (errno == EINVAL)
			nym_die(NYM_EX_CONFIG, "unable to use key %s: not a "
			    "%d-byte key", p, NYM_KEYLEN);
		nym_dieerr(errno == EACCES ? NYM_EX_CONFIG :
		    nym_exitcode(errno), "unable to read key %s", p);
	}
}

/* A keyed token for (context, data): TOKLEN base32 characters. */
static void
token(const char *context, const char *data, size_t n, char out[TOKLEN + 1])
{
	unsigned char h[HASHLEN];

	loadkey();
	nym_mac(key, context, data, n, h, sizeof h);
	nym_base32(h, sizeof h, out);
	out[TOKLEN] = '\0';
}

static int
istoken(const char *s, size_t n)
{
	size_t i;

	if (n != TOKLEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' &&
		    s[i] <= '7')))
			return 0;
	return 1;
}

/* Is id (no brackets) one this program generated: token@domain? */
static int
neutralid(const struct msg *m, const char *id, size_t n)
{
	return n > TOKLEN + 1 && id[TOKLEN] == '@' && istoken(id, TOKLEN) &&
	    n - TOKLEN - 1 == strlen(m->domain) &&
	    strncasecmp(id + TOKLEN + 1, m->domain, n - TOKLEN - 1) == 0;
}

/* Write "token@domain" for id into out (cap >= TOKLEN + 258). */
static void
mapid(const struct msg *m, const char *context, const char *id, size_t n,
    char *out)
{
	token(context, id, n, out);
	out[TOKLEN] = '@';
	strcpy(out + TOKLEN + 1, m->domain);
}

static void
emitfield(struct msg *m, const char *name, size_t n, const char *value)
{
	emit(m, name, n);
	emit(m, ": ", 2);
	emits(m, value);
	emit(m, m->eol, m->eollen);
}

/* Write field i as read, but with NUL and bare CR made spaces and a
 * line ending supplied if the input ended without one. */
static void
emitraw(struct msg *m, const struct nym_hdr *h, size_t i)
{
	const char *s = h->buf + h->f[i].off, *e = s + h->f[i].len, *p;

	if (h->nul || h->barecr) {
		for (p = s; p < e; p++) {
			char c = *p;

			if (c == '\0' || (c == '\r' && (p + 1 == e ||
			    p[1] != '\n')))
				c = ' ';
			emit(m, &c, 1);
		}
	} else
		emit(m, s, (size_t)(e - s));
	if (e == s || e[-1] != '\n')
		emit(m, m->eol, m->eollen);
}

static ssize_t
value(const struct nym_hdr *h, size_t i)
{
	ssize_t n = nym_hdr_value(h, i, scratch, sizeof scratch);

	while (n > 0 && (scratch[n - 1] == ' ' || scratch[n - 1] == '\t'))
		scratch[--n] = '\0';
	return n;
}

/* ---- host, user and client patterns in message IDs ---- */

static char hostname[256], shorthost[256], user[256];
static int gotnames;

static void
getnames(void)
{
	const char *u;
	char *dot;

	if (gotnames)
		return;
	gotnames = 1;
	if (gethostname(hostname, sizeof hostname - 1) == -1)
		hostname[0] = '\0';
	hostname[sizeof hostname - 1] = '\0';
	snprintf(shorthost, sizeof shorthost, "%s", hostname);
	if ((dot = strchr(shorthost, '.')) != NULL)
		*dot = '\0';
	if ((u = getenv("USER")) == NULL || *u == '\0')
		u = getenv("LOGNAME");
	snprintf(user, sizeof user, "%s", u != NULL ? u : "");
}

static int
endswith(const char *s, size_t n, const char *suf)
{
	size_t l = strlen(suf);

	return n >= l && strncasecmp(s + n - l, suf, l) == 0;
}

/* Does a message-ID right-hand side name a machine rather than a mail
 * domain: this host, an address, a single label, a private zone? */
static int
hostlike(const char *rhs, size_t n)
{
	static const char *const priv[] = { ".local", ".lan", ".home",
	    ".localdomain", ".internal", ".home.arpa", ".intranet", NULL };
	const char *const *p;
	size_t i, hl, sl;

	getnames();
	if (n == 0 || rhs[0] == '[' || memchr(rhs, '.', n) == NULL)
		return 1;
	for (i = 0; i < n && (isdigit((unsigned char)rhs[i]) ||
	    rhs[i] == '.'); i++)
		;
	if (i == n)
		return 1;
	if (n >= 9 && strncasecmp(rhs, "localhost", 9) == 0)
		return 1;
	for (p = priv; *p != NULL; p++)
		if (endswith(rhs, n, *p))
			return 1;
	hl = strlen(hostname);
	sl = strlen(shorthost);
	if ((hl > 0 && n == hl && strncasecmp(rhs, hostname, n) == 0) ||
	    (sl > 0 && n >= sl && strncasecmp(rhs, shorthost, sl) == 0 &&
	    (n == sl || rhs[sl] == '.')))
		return 1;
	return 0;
}

static int
contains(const char *s, size_t n, const char *w)
{
	size_t l = strlen(w), i;

	if (l < 3 || l > n)
		return 0;
	for (i = 0; i + l <= n; i++)
		if (strncasecmp(s + i, w, l) == 0)
			return 1;
	return 0;
}

/* A left-hand side with the login name or the host name in it, as git
 * send-email and s-nail write them. */
static int
lhsleaks(const char *lhs, size_t n)
{
	getnames();
	return contains(lhs, n, user) || contains(lhs, n, shorthost);
}

/* The shape of a left-hand side: runs of letters and digits by length,
 * other characters as they are ("8-4-4-4-12" for a UUID). */
static void
shape(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, run;
	int w;

	while (i < n && o + 8 < cap) {
		if (isalnum((unsigned char)s[i])) {
			for (run = 0; i < n && isalnum((unsigned char)s[i]);
			    i++)
				run++;
			w = snprintf(out + o, cap - o, "%zu", run);
			o += w > 0 ? (size_t)w : 0;
		} else
			out[o++] = s[i++];
	}
	out[o] = '\0';
}

static void
splitid(const char *id, size_t n, size_t *lhs, const char **rhs,
    size_t *rn)
{
	const char *at = NULL, *p;

	for (p = id; p < id + n; p++)
		if (*p == '@')
			at = p;
	if (at == NULL) {
		*lhs = n;
		*rhs = id + n;
		*rn = 0;
		return;
	}
	*lhs = (size_t)(at - id);
	*rhs = at + 1;
	*rn = n - *lhs - 1;
}

/* Is a References/In-Reply-To entry one of the sender's own, made by the
 * client that made this message, carrying that machine's details? */
static int
ownref(const struct msg *m, const char *id, size_t n)
{
	const char *rhs, *orhs;
	size_t lhs, rn, olhs, orn;
	char s1[256], s2[256];

	if (neutralid(m, id, n))
		return 0;
	splitid(id, n, &lhs, &rhs, &rn);
	if (hostlike(rhs, rn) || lhsleaks(id, lhs))
		return 1;
	if (m->origid[0] == '\0' || !m->origleak)
		return 0;
	splitid(m->origid, strlen(m->origid), &olhs, &orhs, &orn);
	if (rn != orn || strncasecmp(rhs, orhs, rn) != 0)
		return 0;
	if (orn != strlen(m->domain) ||
	    strncasecmp(orhs, m->domain, orn) != 0)
		return 1;
	shape(id, lhs, s1, sizeof s1);
	shape(m->origid, olhs, s2, sizeof s2);
	return strcmp(s1, s2) == 0;
}

/* ---- top-level fields ---- */

static void
dodate(struct msg *m, const struct nym_hdr *h, size_t i)
{
	char out[64];
	const char *name = h->buf + h->f[i].off;
	size_t nl = h->f[i].namelen;
	time_t t;
	int zone, ok;
	ssize_t n;

	n = value(h, i);
	ok = n >= 0 && nym_date_parse(scratch, (size_t)n, &t, &zone) == 0;
	if (!ok || nflag)
		t = now;
	if (rflag > 0)
		t -= ((t % rflag) + rflag) % rflag;
	nym_date_format(t, out, sizeof out);
	if (ok && strcmp(out, scratch) == 0) {
		emitraw(m, h, i);
		return;
	}
	if (!ok)
		leak(m, NULL, name, nl, "unreadable date, replaced by the "
		    "current time");
	else if (zone != 0)
		leak(m, NULL, name, nl, "time zone offset %c%02d%02d",
		    zone < 0 ? '-' : '+', abs(zone) / 60, abs(zone) % 60);
	else if (nflag)
		leak(m, NULL, name, nl, "time of writing (set to now, -n)");
	else if (rflag > 0)
		leak(m, NULL, name, nl, "time to the second (rounded to %ld "
		    "seconds, -r)", rflag);
	else
		leak(m, NULL, name, nl, "not in the plain UTC form");
	emitfield(m, name, nl, out);
}

/* Extract the first <id> of a value, brackets removed. */
static int
firstid(const char *v, size_t n, const char **id, size_t *idn)
{
	const char *lt, *gt;

	if ((lt = memchr(v, '<', n)) == NULL ||
	    (gt = memchr(lt, '>', n - (size_t)(lt - v))) == NULL)
		return -1;
	*id = lt + 1;
	*idn = (size_t)(gt - lt - 1);
	return 0;
}

/* Write "Name: <token@domain>" for id. */
static void
emitid(struct msg *m, const char *name, size_t nl, const char *context,
    const char *id, size_t idn)
{
	char out[TOKLEN + 260 + 2];

	out[0] = '<';
	mapid(m, context, id, idn, out + 1);
	strcat(out, ">");
	emitfield(m, name, nl, out);
}

static void
domsgid(struct msg *m, const struct nym_hdr *h, size_t i)
{
	const char *name = h->buf + h->f[i].off, *id;
	size_t nl = h->f[i].namelen, idn;
	ssize_t n;

	n = value(h, i);
	if (n <= 0 || firstid(scratch, (size_t)n, &id, &idn) == -1) {
		id = scratch;
		idn = n > 0 ? (size_t)n : 0;
	}
	if (neutralid(m, id, idn) && n == (ssize_t)idn + 2) {
		emitraw(m, h, i);
		return;
	}
	leak(m, NULL, name, nl, "made by the client (host, time or "
	    "software pattern)");
	emitid(m, name, nl, "message-id", id, idn);
}

/* Is there anything but white space in [p, e)? */
static int
textbetween(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p != ' ' && *p != '\t')
			return 1;
	return 0;
}

/* In-Reply-To and References: own IDs mapped, other IDs kept, and any
 * phrase a client wrote around them ("Your message of ...") dropped. */
static void
dorefs(struct msg *m, const struct nym_hdr *h, size_t i)
{
	char idbuf[TOKLEN + 260];
	const char *name = h->buf + h->f[i].off, *p, *e, *lt = NULL, *gt;
	size_t nl = h->f[i].namelen, changed = 0, ids = 0;
	int text = 0;
	ssize_t n;

	if ((n = value(h, i)) < 0) {
		emitraw(m, h, i);
		return;
	}
	e = scratch + n;
	for (p = scratch; (lt = memchr(p, '<', (size_t)(e - p))) != NULL;
	    p = gt + 1) {
		if (textbetween(p, lt))
			text = 1;
		if ((gt = memchr(lt, '>', (size_t)(e - lt))) == NULL)
			break;
		ids++;
		if (ownref(m, lt + 1, (size_t)(gt - lt - 1)))
			changed++;
	}
	if (lt == NULL && textbetween(p, e))
		text = 1;
	if (changed == 0 && (!text || ids == 0)) {
		emitraw(m, h, i);
		return;
	}
	if (changed > 0)
		leak(m, NULL, name, nl, "%zu own message ID%s made by the "
		    "client", changed, changed > 1 ? "s" : "");
	if (text)
		leak(m, NULL, name, nl, "text besides message IDs (the "
		    "client's wording)");
	ids = 0;
	emit(m, name, nl);
	emit(m, ":", 1);
	for (p = scratch; (lt = memchr(p, '<', (size_t)(e - p))) != NULL;
	    p = gt + 1) {
		if ((gt = memchr(lt, '>', (size_t)(e - lt))) == NULL)
			break;
		if (ids++ > 0) {
			emit(m, m->eol, m->eollen);
			emit(m, " ", 1);
		} else
			emit(m, " ", 1);
		if (ownref(m, lt + 1, (size_t)(gt - lt - 1))) {
			mapid(m, "message-id", lt + 1, (size_t)(gt - lt - 1),
			    idbuf);
			emit(m, "<", 1);
			emits(m, idbuf);
			emit(m, ">", 1);
		} else
			emit(m, lt, (size_t)(gt - lt + 1));
	}
	emit(m, m->eol, m->eollen);
}

/* ---- MIME fields, at the top level and in parts ---- */

static int
tokenchar(unsigned char c)
{
	return c > ' ' && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static void
emitparam(struct msg *m, const struct nym_param *p, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[4];
	const unsigned char *s;
	int plain = *v != '\0';

	emit(m, ";", 1);
	emit(m, m->eol, m->eollen);
	emit(m, " ", 1);
	emits(m, p->name);
	for (s = (const unsigned char *)v; *s != '\0'; s++)
		if (!tokenchar(*s))
			plain = 0;
	if (p->ext) {
		emit(m, "*=", 2);
		emits(m, p->charset != NULL ? p->charset : "");
		emit(m, "''", 2);
		for (s = (const unsigned char *)v; *s != '\0'; s++) {
			if (tokenchar(*s) && *s != '%' && *s != '*' &&
			    *s != '\'') {
				emit(m, (const char *)s, 1);
				continue;
			}
			enc[0] = '%';
			enc[1] = hex[*s >> 4];
			enc[2] = hex[*s & 15];
			emit(m, enc, 3);
		}
	} else if (p->w2047) {
		size_t l = strlen(v);
		char *b = malloc(4 * ((l + 2) / 3) + 1);

		if (b == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		nym_base64((const unsigned char *)v, l, b, "+/");
		emit(m, "=\"=?", 4);
		emits(m, p->charset != NULL && *p->charset != '\0' ?
		    p->charset : "utf-8");
		emit(m, "?B?", 3);
		emits(m, b);
		emit(m, "?=\"", 3);
		free(b);
	} else if (plain) {
		emit(m, "=", 1);
		emits(m, v);
	} else {
		emit(m, "=\"", 2);
		for (s = (const unsigned char *)v; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				emit(m, "\\", 1);
			emit(m, (const char *)s, 1);
		}
		emit(m, "\"", 1);
	}
}

/* The file name without its directories (either slash). */
static const char *
basename_of(const char *v)
{
	const char *b = v, *p;

	for (p = v; *p != '\0'; p++)
		if ((*p == '/' || *p == '\\') && p[1] != '\0')
			b = p + 1;
	return b;
}

static int
dropparam(const char *name)
{
	return strcmp(name, "creation-date") == 0 ||
	    strcmp(name, "modification-date") == 0 ||
	    strcmp(name, "read-date") == 0 || strncmp(name, "x-", 2) == 0;
}

static int
neutralboundary(const char *b)
{
	return b[0] == '=' && b[1] == '_' && istoken(b + 2, strlen(b + 2));
}

/* Content-Type or Content-Disposition: file names without directories,
 * no dates or client parameters, a neutral boundary. */
static void
doctype(struct msg *m, const struct nym_hdr *h, size_t i, const char *part,
    struct content *ct, int isctype)
{
	struct nym_mimetype mt = { 0 };
	const char *name = h->buf + h->f[i].off, *v;
	size_t nl = h->f[i].namelen, k;
	char nb[TOKLEN + 3];
	int change = 0;
	ssize_t n;

	if ((n = value(h, i)) < 0 ||
	    nym_mime_parse(scratch, (size_t)n, &mt) == -1) {
		emitraw(m, h, i);
		return;
	}
	if (isctype)
		snprintf(ct->type, sizeof ct->type, "%s", mt.type);
	for (k = 0; k < mt.np; k++) {
		const struct nym_param *p = &mt.p[k];

		if (dropparam(p->name)) {
			leak(m, part, name, nl, "parameter %s (%s)", p->name,
			    p->name[0] == 'x' ? "client details" :
			    "file time stamps");
			change = 1;
		} else if ((strcmp(p->name, "filename") == 0 ||
		    strcmp(p->name, "name") == 0) &&
		    basename_of(p->value) != p->value) {
			leak(m, part, name, nl, "%s holds a directory path",
			    p->name);
			change = 1;
		} else if (isctype && strcmp(p->name, "boundary") == 0 &&
		    strncmp(mt.type, "multipart/", 10) == 0) {
			if (strlen(p->value) > NYM_BOUNDARY_MAX ||
			    p->value[0] == '\0')
				nym_die(NYM_EX_DATAERR, "unable to scrub "
				    "message %lu: MIME boundary empty or over "
				    "%d bytes", m->no, NYM_BOUNDARY_MAX);
			snprintf(ct->boundary, sizeof ct->boundary, "%s",
			    p->value);
			if (!neutralboundary(p->value)) {
				leak(m, part, name, nl, "boundary made by the "
				    "client");
				change = 1;
			}
		}
	}
	if (!change) {
		nym_mime_free(&mt);
		emitraw(m, h, i);
		return;
	}
	emit(m, name, nl);
	emit(m, ": ", 2);
	emits(m, mt.type);
	for (k = 0; k < mt.np; k++) {
		const struct nym_param *p = &mt.p[k];

		if (dropparam(p->name))
			continue;
		v = p->value;
		if (strcmp(p->name, "filename") == 0 ||
		    strcmp(p->name, "name") == 0)
			v = basename_of(v);
		else if (isctype && strcmp(p->name, "boundary") == 0 &&
		    strncmp(mt.type, "multipart/", 10) == 0 &&
		    !neutralboundary(v)) {
			nb[0] = '=';
			nb[1] = '_';
			token("boundary", v, strlen(v), nb + 2);
			v = nb;
		}
		emitparam(m, p, v);
	}
	emit(m, m->eol, m->eollen);
	nym_mime_free(&mt);
}

static void
docid(struct msg *m, const struct nym_hdr *h, size_t i, const char *part)
{
	const char *name = h->buf + h->f[i].off, *id;
	size_t nl = h->f[i].namelen, idn;
	ssize_t n;

	if ((n = value(h, i)) <= 0 ||
	    firstid(scratch, (size_t)n, &id, &idn) == -1) {
		emitraw(m, h, i);
		return;
	}
	if (neutralid(m, id, idn)) {
		emitraw(m, h, i);
		return;
	}
	leak(m, part, name, nl, "made by the client (host or software "
	    "pattern)");
	emitid(m, name, nl, "content-id", id, idn);
}

/* A description that is an absolute file path keeps only its file name. */
static void
dodesc(struct msg *m, const struct nym_hdr *h, size_t i, const char *part)
{
	const char *name = h->buf + h->f[i].off;
	size_t nl = h->f[i].namelen;
	ssize_t n = value(h, i);

	if (n < 0 || !(scratch[0] == '/' || scratch[0] == '~' ||
	    (isalpha((unsigned char)scratch[0]) && scratch[1] == ':' &&
	    scratch[2] == '\\')) || basename_of(scratch) == scratch) {
		emitraw(m, h, i);
		return;
	}
	leak(m, part, name, nl, "holds a directory path");
	emitfield(m, name, nl, basename_of(scratch));
}

/* Handle a content field; 0 if field i is not one. */
static int
docontent(struct msg *m, const struct nym_hdr *h, size_t i,
    const char *part, struct content *ct)
{
	ssize_t n;

	if (nym_hdr_is(h, i, "content-type"))
		doctype(m, h, i, part, ct, 1);
	else if (nym_hdr_is(h, i, "content-disposition"))
		doctype(m, h, i, part, ct, 0);
	else if (nym_hdr_is(h, i, "content-id"))
		docid(m, h, i, part);
	else if (nym_hdr_is(h, i, "content-description"))
		dodesc(m, h, i, part);
	else if (nym_hdr_is(h, i, "content-transfer-encoding")) {
		n = value(h, i);
		snprintf(ct->cte, sizeof ct->cte, "%.*s",
		    (int)(n > 0 ? (n < 63 ? n : 63) : 0), scratch);
		for (n = 0; ct->cte[n] != '\0'; n++)
			ct->cte[n] = (char)tolower((unsigned char)ct->cte[n]);
		emitraw(m, h, i);
	} else
		return 0;
	return 1;
}

static void
badbytes(struct msg *m, const struct nym_hdr *h, const char *part)
{
	if (h->nul)
		leak(m, part, "header", 6, "NUL byte (written as a space)");
	if (h->barecr)
		leak(m, part, "header", 6, "bare CR (written as a space)");
}

static void
setdomain(struct msg *m, const struct nym_hdr *h)
{
	struct nym_addrlist al = { 0 };
	ssize_t i, n;

	snprintf(m->domain, sizeof m->domain, "%s",
	    mdomain != NULL ? mdomain : "localhost");
	if (mdomain != NULL || (i = nym_hdr_find(h, "from", 0)) < 0 ||
	    (n = value(h, (size_t)i)) < 0 ||
	    nym_addr_parse(scratch, (size_t)n, &al) == -1)
		return;
	if (al.n > 0 && al.a[0].domain != NULL && al.a[0].domain[0] != '[' &&
	    strlen(al.a[0].domain) < sizeof m->domain)
		snprintf(m->domain, sizeof m->domain, "%s", al.a[0].domain);
	nym_addrlist_free(&al);
}

static void
setorigid(struct msg *m, const struct nym_hdr *h)
{
	const char *id;
	size_t idn;
	ssize_t i, n;

	m->origid[0] = '\0';
	m->origleak = 0;
	if ((i = nym_hdr_find(h, "message-id", 0)) < 0 ||
	    (n = value(h, (size_t)i)) <= 0 ||
	    firstid(scratch, (size_t)n, &id, &idn) == -1 ||
	    idn >= sizeof m->origid || neutralid(m, id, idn))
		return;
	memcpy(m->origid, id, idn);
	m->origid[idn] = '\0';
	m->origleak = 1;
}

static void
scrubtop(struct msg *m, const struct nym_hdr *h, struct content *ct)
{
	char buf[TOKLEN + 260 + 2], rnd[16];
	const char *name;
	size_t i, nl;
	int hasdate = 0, hasid = 0;

	m->eol = h->crlf ? "\r\n" : "\n";
	m->eollen = h->crlf ? 2 : 1;
	setdomain(m, h);
	setorigid(m, h);
	badbytes(m, h, NULL);
	if (h->fromlen > 0) {
		emitbytes(m, h->buf, h->fromlen);
		/* A From_ line cut by EOF: the fields added after it must
		 * not be glued to it (t/fuzz/regress/scrub). */
		if (h->buf[h->fromlen - 1] != '\n')
			emit(m, m->eol, m->eollen);
	}
	for (i = 0; i < h->nf; i++) {
		name = h->buf + h->f[i].off;
		nl = h->f[i].namelen;
		if (!wanted(name, nl, 0)) {
			leak(m, NULL, name, nl, "%s",
			    cflag ? why(name, nl) : "");
			continue;
		}
		if (nym_hdr_is(h, i, "date")) {
			hasdate = 1;
			dodate(m, h, i);
		} else if (nym_hdr_is(h, i, "message-id")) {
			hasid = 1;
			domsgid(m, h, i);
		} else if (nym_hdr_is(h, i, "in-reply-to") ||
		    nym_hdr_is(h, i, "references"))
			dorefs(m, h, i);
		else if (!docontent(m, h, i, NULL, ct))
			emitraw(m, h, i);
	}
	if (!hasdate) {
		time_t t = now;

		leak(m, NULL, "Date", 4, "missing: the next server would add "
		    "one in its own time zone");
		if (rflag > 0)
			t -= ((t % rflag) + rflag) % rflag;
		nym_date_format(t, buf, sizeof buf);
		emitfield(m, "Date", 4, buf);
	}
	if (!hasid) {
		leak(m, NULL, "Message-ID", 10, "missing: the next server "
		    "would add one with its host name");
		nym_random(rnd, sizeof rnd);
		buf[0] = '<';
		mapid(m, "message-id-new", rnd, sizeof rnd, buf + 1);
		strcat(buf, ">");
		emitfield(m, "Message-ID", 10, buf);
	}
	if (m->folded > 0)
		leak(m, NULL, "header", 6, "%d line%s that %s not a field, "
		    "with fields after it (taken as a broken fold)", m->folded,
		    m->folded > 1 ? "s" : "", m->folded > 1 ? "are" : "is");
	if (h->bad)
		leak(m, NULL, "header", 6, "no empty line before the body");
	emit(m, m->eol, m->eollen);
}

/* ---- the body ---- */

static int
isempty(const char *l, size_t n)
{
	return (n == 1 && l[0] == '\n') || (n == 2 && l[0] == '\r' &&
	    l[1] == '\n');
}

/* Does line close level k (1) or open a part (0) of it, or neither (-1)? */
static int
delimiter(const struct msg *m, const char *l, size_t n, int k)
{
	const struct level *v = &m->lv[k];
	size_t i;
	int close = 0;

	if (n < v->olen + 2 || l[0] != '-' || l[1] != '-' ||
	    memcmp(l + 2, v->orig, v->olen) != 0)
		return -1;
	i = v->olen + 2;
	if (i + 1 < n && l[i] == '-' && l[i + 1] == '-') {
		close = 1;
		i += 2;
	}
	for (; i < n; i++)
		if (l[i] != ' ' && l[i] != '\t' && l[i] != '\r' &&
		    l[i] != '\n')
			return -1;
	return close;
}

/* The innermost level whose delimiter this is, or -1. */
static int
whichlevel(const struct msg *m, const char *l, size_t n, int *close)
{
	int k;

	if (n < 3 || l[0] != '-' || l[1] != '-')
		return -1;
	for (k = m->depth - 1; k >= 0; k--)
		if ((*close = delimiter(m, l, n, k)) != -1)
			return k;
	return -1;
}

static int
isfromline(const struct msg *m, const char *l, size_t n)
{
	return mflag && m->prevempty && n >= 5 && memcmp(l, "From ", 5) == 0;
}

static int
partstop(const char *l, size_t n, void *arg)
{
	struct msg *m = arg;
	int close;

	return whichlevel(m, l, n, &close) != -1;
}

static void
readfail(struct msg *m)
{
	if (errno == E2BIG)
		nym_die(NYM_EX_DATAERR, "unable to scrub message %lu: header "
		    "over the limits (%d bytes a field, %d bytes in all)",
		    m->no, NYM_FIELD_MAX, NYM_HDR_MAX);
	nym_dieerr(nym_exitcode(errno), "unable to read the message");
}

/* Next line of the body, or 0 at the end of this message (EOF or, in an
 * mbox, the next From_ line, which is left unread). */
static int
peekline(struct msg *m, const char **l, size_t *n, int *more)
{
	int r;

	if ((r = nym_in_peekline(m->in, l, n, more)) == -1)
		readfail(m);
	if (r == 0)
		return 0;
	if (isfromline(m, *l, *n)) {
		m->nextfrom = 1;
		return 0;
	}
	return 1;
}

static void
consume(struct msg *m, const char *l, size_t n)
{
	m->prevempty = isempty(l, n);
	nym_in_skip(m->in, n);
}

static int
nextline(struct msg *m, const char **l, size_t *n, int *more)
{
	if (!peekline(m, l, n, more))
		return 0;
	consume(m, *l, *n);
	return 1;
}

static void
emitdelim(struct msg *m, int k, int close)
{
	emit(m, "--", 2);
	emits(m, m->lv[k].repl);
	if (close)
		emit(m, "--", 2);
	emit(m, m->eol, m->eollen);
}

/* Close the innermost level, whose closing delimiter the message lacks.
 * A delimiter starts a line: after a last line without its end, the
 * end comes first (and belongs to the delimiter, so the part's content
 * is unchanged). */
static void
addclose(struct msg *m, const char *part)
{
	leak(m, part, "multipart", 9, "no closing delimiter (added)");
	if (m->tail[2] != '\n')
		emit(m, m->eol, m->eollen);
	emitdelim(m, m->depth - 1, 1);
	m->depth--;
}

static void
pushlevel(struct msg *m, const char *boundary, int raw)
{
	struct level *v;

	if (m->depth == NYM_MIME_DEPTH)
		nym_die(NYM_EX_DATAERR, "unable to scrub message %lu: MIME "
		    "parts nested deeper than %d", m->no, NYM_MIME_DEPTH);
	v = &m->lv[m->depth++];
	v->olen = strlen(boundary);
	memcpy(v->orig, boundary, v->olen + 1);
	v->raw = raw;
	v->parts = 0;
	if (neutralboundary(boundary))
		memcpy(v->repl, boundary, v->olen + 1);
	else {
		v->repl[0] = '=';
		v->repl[1] = '_';
		token("boundary", boundary, v->olen, v->repl + 2);
	}
}

/* The next "cid:" (any case) in [p, e), or NULL; s is the buffer start. */
static const char *
findcid(const char *s, const char *p, const char *e)
{
	const char *c;

	while ((c = memchr(p, ':', (size_t)(e - p))) != NULL) {
		if (c - s >= 3 && (c[-3] | 0x20) == 'c' &&
		    (c[-2] | 0x20) == 'i' && (c[-1] | 0x20) == 'd')
			return c - 3;
		p = c + 1;
	}
	return NULL;
}

/* Rewrite cid: references in decoded HTML; returns a new buffer, or NULL
 * if no reference needs renaming. */
static char *
rewritecids(struct msg *m, const char *s, size_t n, size_t *outn)
{
	char idbuf[TOKLEN + 260], id[1000];
	const char *p, *e = s + n, *q, *c;
	char *out;
	size_t o = 0, cap, idn, chunk;
	int changed = 0;

	if ((c = findcid(s, s, e)) == NULL)
		return NULL;
	cap = n + n / 4 + 1024;
	if ((out = malloc(cap)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (p = s; p < e; p = q) {
		c = findcid(s, p, e);
		chunk = (size_t)((c != NULL ? c + 4 : e) - p);
		/* Room for the chunk and one renamed reference. */
		if (o + chunk + sizeof idbuf > cap) {
			cap = (o + chunk + sizeof idbuf) * 2;
			if ((out = realloc(out, cap)) == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
		}
		memcpy(out + o, p, chunk);
		o += chunk;
		if (c == NULL)
			break;
		for (q = c + 4, idn = 0; q < e && strchr("\"'()<> \t\r\n",
		    *q) == NULL && idn + 1 < sizeof id; q++) {
			if (*q == '%' && e - q > 2 &&
			    nym_hexval((unsigned char)q[1]) >= 0 &&
			    nym_hexval((unsigned char)q[2]) >= 0) {
				id[idn++] = (char)(nym_hexval(
				    (unsigned char)q[1]) << 4 |
				    nym_hexval((unsigned char)q[2]));
				q += 2;
			} else
				id[idn++] = *q;
		}
		if (idn == 0 || neutralid(m, id, idn)) {
			memcpy(out + o, c + 4, (size_t)(q - c - 4));
			o += (size_t)(q - c - 4);
		} else {
			changed = 1;
			mapid(m, "content-id", id, idn, idbuf);
			memcpy(out + o, idbuf, strlen(idbuf));
			o += strlen(idbuf);
		}
	}
	if (!changed) {
		free(out);
		return NULL;
	}
	*outn = o;
	return out;
}

/* Copy a text/html part's body, renaming cid: references.  It is read
 * whole (up to NYM_HTML_MAX), decoded, and re-encoded only if it refers
 * to a Content-ID. */
static void
htmlbody(struct msg *m, const struct content *ct, const char *part)
{
	char *raw = NULL, *dec = NULL, *rw, *enc;
	const char *l;
	size_t n, len = 0, cap = 0, dn, rn, en;
	int more, close, b64, qp;

	for (;;) {
		if (!peekline(m, &l, &n, &more) ||
		    (!more && whichlevel(m, l, n, &close) != -1))
			break;
		consume(m, l, n);
		if (len + n > NYM_HTML_MAX)
			nym_die(NYM_EX_DATAERR, "unable to scrub message %lu: "
			    "text/html part over %d bytes", m->no,
			    NYM_HTML_MAX);
		if (len + n > cap) {
			cap = cap == 0 ? 65536 : cap;
			while (cap < len + n)
				cap *= 2;
			if ((raw = realloc(raw, cap)) == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
		}
		memcpy(raw + len, l, n);
		len += n;
	}
	b64 = strcmp(ct->cte, "base64") == 0;
	qp = strcmp(ct->cte, "quoted-printable") == 0;
	if ((dec = malloc(len + 1)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (b64) {
		ssize_t r = nym_unbase64(raw, len, (unsigned char *)dec, len,
		    "+/");

		dn = r < 0 ? 0 : (size_t)r;
		if (r < 0)
			b64 = -1;
	} else if (qp)
		dn = nym_unqp(raw, len, dec);
	else {
		if (len > 0)	/* an empty part: raw is NULL */
			memcpy(dec, raw, len);
		dn = len;
	}
	rw = b64 == -1 ? NULL : rewritecids(m, dec, dn, &rn);
	if (rw == NULL) {
		emit(m, raw, len);
	} else {
		leak(m, part, "text/html", 9, "cid: references follow the "
		    "renamed Content-IDs");
		if (b64) {
			size_t i, w;

			enc = malloc(4 * ((rn + 2) / 3) + 1);
			if (enc == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
			en = nym_base64((unsigned char *)rw, rn, enc, "+/");
			for (i = 0; i < en; i += w) {
				w = en - i < 76 ? en - i : 76;
				emit(m, enc + i, w);
				emit(m, m->eol, m->eollen);
			}
			free(enc);
		} else if (qp) {
			en = nym_qp(rw, rn, NULL, m->eol);
			if ((enc = malloc(en + 1)) == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
			en = nym_qp(rw, rn, enc, m->eol);
			emit(m, enc, en);
			if (en > 0 && enc[en - 1] != '\n')
				emit(m, m->eol, m->eollen);
			free(enc);
		} else
			emit(m, rw, rn);
		free(rw);
	}
	free(raw);
	free(dec);
}

/* Read a part's header after a delimiter, scrub it, and set up what
 * follows: a nested multipart, an HTML body, or a body to copy. */
static void
parthead(struct msg *m, struct nym_hdr *ph, const char *part,
    struct content *ct)
{
	const char *name;
	size_t i, nl;

	memset(ct, 0, sizeof *ct);
	if (nym_hdr_read(m->in, ph, 0, partstop, m) == -1)
		readfail(m);
	badbytes(m, ph, part);
	for (i = 0; i < ph->nf; i++) {
		name = ph->buf + ph->f[i].off;
		nl = ph->f[i].namelen;
		if (!wanted(name, nl, 1)) {
			leak(m, part, name, nl, "%s",
			    cflag ? why(name, nl) : "");
			continue;
		}
		if (!docontent(m, ph, i, part, ct))
			emitraw(m, ph, i);
	}
	emit(m, m->eol, m->eollen);
}

static int
ismultipart(const struct content *ct)
{
	return strncmp(ct->type, "multipart/", 10) == 0 &&
	    ct->boundary[0] != '\0';
}

static int
israwmultipart(const struct content *ct)
{
	return strcmp(ct->type, "multipart/signed") == 0 ||
	    strcmp(ct->type, "multipart/encrypted") == 0;
}

/* Stream a multipart body: delimiters replaced, preambles and epilogues
 * dropped, part headers scrubbed, part bodies copied. */
static void
multipart(struct msg *m, const struct content *top)
{
	struct nym_hdr ph = { 0 };
	struct content ct;
	const char *l;
	char part[16 * NYM_MIME_DEPTH];
	size_t n, plen;
	int more, k, close, inbody = 0, skipped = 0;

	m->depth = 0;
	pushlevel(m, top->boundary, israwmultipart(top));
	part[0] = '\0';
	while (nextline(m, &l, &n, &more)) {
		/* A line piece that is not a line start cannot delimit. */
		k = more ? -1 : whichlevel(m, l, n, &close);
		if (k == -1) {
			if (inbody)
				emit(m, l, n);
			else if (!isempty(l, n))
				skipped = 1;
			while (more && nextline(m, &l, &n, &more))
				if (inbody)
					emit(m, l, n);
			continue;
		}
		while (m->depth - 1 > k)
			addclose(m, part[0] ? part : NULL);
		emitdelim(m, k, close);
		/* The part label: "1.2.3", one number per open level. */
		plen = 0;
		if (close) {
			m->depth--;
			inbody = 0;
			if (m->depth == 0)
				break;
			continue;
		}
		m->lv[k].parts++;
		for (int j = 0; j <= k; j++) {
			int w = snprintf(part + plen, sizeof part - plen,
			    j ? ".%d" : "%d", m->lv[j].parts);

			plen += w > 0 ? (size_t)w : 0;
		}
		if (m->lv[k].raw) {
			inbody = 1;
			continue;
		}
		parthead(m, &ph, part, &ct);
		m->prevempty = ph.sep;
		inbody = 1;
		if (ismultipart(&ct)) {
			pushlevel(m, ct.boundary, israwmultipart(&ct));
			inbody = 0;
		} else if (strcmp(ct.type, "text/html") == 0)
			htmlbody(m, &ct, part);
	}
	if (skipped)
		leak(m, NULL, "multipart", 9, "preamble or epilogue text "
		    "(dropped)");
	while (m->depth > 0)
		addclose(m, NULL);
	/* The epilogue is dropped; skip it up to the end of the message. */
	while (nextline(m, &l, &n, &more))
		if (!isempty(l, n) && !skipped) {
			skipped = 1;
			leak(m, NULL, "multipart", 9, "epilogue text "
			    "(dropped)");
		}
	nym_hdr_free(&ph);
}

static void
copybody(struct msg *m)
{
	const char *l;
	size_t n;
	ssize_t r;
	int more;

	if (!mflag) {
		/* Not an mbox: the rest of the input is the body. */
		for (;;) {
			if ((r = nym_in_fill(m->in, 1)) == -1)
				readfail(m);
			if (r == 0)
				return;
			emit(m, m->in->buf + m->in->pos, (size_t)r);
			nym_in_skip(m->in, (size_t)r);
		}
	}
	while (nextline(m, &l, &n, &more))
		emit(m, l, n);
}

/* Fields that mail software writes; a line with one of these names after
 * a stray line shows that the header goes on. */
static const char *const known[] = {
	"arc-*", "authentication-results", "received-spf", "precedence",
	"errors-to", "thread-*", "accept-language", "importance", "priority",
	"delivered-to", "envelope-to", "x-*", "list-*", "resent-*", NULL
};

static int
knownfield(const char *name, size_t n)
{
	return inlist(name, n, ptop, nptop) != -1 ||
	    inlist(name, n, pknown, npknown) != -1 ||
	    inlist(name, n, preason, npreason) != -1;
}

/* After a header that stopped at a stray line: do known header fields
 * follow it before an empty line (within the next 16 KiB)? */
static int
fieldsfollow(struct msg *m)
{
	const char *p, *e, *nl;
	size_t name, n;
	int first = 1;

	if (nym_in_fill(m->in, 16384) == -1)
		return 0;
	e = m->in->buf + m->in->len;
	for (p = m->in->buf + m->in->pos; p < e; p = nl + 1, first = 0) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		n = (size_t)(nl - p);
		if (!first && (n == 0 || (n == 1 && *p == '\r')))
			return 0;
		if (!first && (name = nym_hdr_fieldname(p, n)) != 0 &&
		    knownfield(p, name))
			return 1;
		if (nl == e)
			break;
	}
	return 0;
}

/* Scrub one message; 0, or 1 at the end of the input. */
static int
message(struct msg *m, struct nym_hdr *h)
{
	struct content ct = { 0 };

	m->leaks = 0;
	m->nextfrom = 0;
	m->prevempty = 1;
	m->tail[0] = m->tail[1] = m->tail[2] = '\n';
	do {
		if (nym_hdr_read(m->in, h, NYM_HDR_MBOX, NULL, NULL) == -1)
			readfail(m);
		/* Empty lines between mbox messages are no message. */
	} while (mflag && h->nf == 0 && h->fromlen == 0 && h->sep);
	/* A stray line with header fields after it is a broken fold, not the
	 * start of the body: those fields must be scrubbed too. */
	for (m->folded = 0; h->bad && h->nf > 0 && fieldsfollow(m);
	    m->folded++)
		if (nym_hdr_read(m->in, h, NYM_HDR_FOLD, NULL, NULL) == -1)
			readfail(m);
	if (h->nf == 0 && h->fromlen == 0 && !h->sep && !h->bad)
		return 1;
	if (h->nf == 0 && (h->bad || h->sep))
		nym_die(NYM_EX_DATAERR, "unable to scrub message %lu: it does "
		    "not start with a header field", m->no);
	scrubtop(m, h, &ct);
	m->prevempty = 1;
	if (ismultipart(&ct))
		multipart(m, &ct);
	else
		copybody(m);
	if (mflag && !endsempty(m)) {
		/* mbox: messages are separated by an empty line. */
		if (m->tail[2] != '\n')
			emit(m, m->eol, m->eollen);
		emit(m, m->eol, m->eollen);
	}
	return 0;
}


/* "keep NAME" and "drop NAME" lines; '#' comments. */
static void
loadpolicy(const char *path)
{
	char line[NYM_LINE_MAX], *s, *w;
	unsigned lineno = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		nym_dieerr(NYM_EX_CONFIG, "unable to open policy %s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f))
			nym_die(NYM_EX_CONFIG, "unable to read policy %s:%u: "
			    "line too long", path, lineno);
		s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\n' || *s == '\0')
			continue;
		w = strtok(s, " \t\r\n");
		if (w != NULL && strcmp(w, "keep") == 0)
			while ((w = strtok(NULL, " \t\r\n,")) != NULL)
				addpat(&pkeep, &npkeep, w);
		else if (w != NULL && strcmp(w, "drop") == 0)
			while ((w = strtok(NULL, " \t\r\n,")) != NULL)
				addpat(&pdrop, &npdrop, w);
		else
			nym_die(NYM_EX_CONFIG, "unable to read policy %s:%u: "
			    "expected keep or drop", path, lineno);
	}
	if (ferror(f))
		nym_dieerr(NYM_EX_CONFIG, "unable to read policy %s", path);
	fclose(f);
}

static void
addlist(struct pat **list, size_t *n, const char *v)
{
	char buf[NYM_LINE_MAX], *w, *save = NULL;

	if (v == NULL)
		return;
	snprintf(buf, sizeof buf, "%s", v);
	for (w = strtok_r(buf, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save))
		addpat(list, n, w);
}

static int
run(int infd, int outfd)
{
	struct nym_in in;
	struct nym_out out;
	struct nym_hdr h = { 0 };
	struct msg *m;
	int leaks = 0, any = 0;

	if ((m = calloc(1, sizeof *m)) == NULL ||
	    nym_in_open(&in, infd, NYM_SCRUB_INBUF) == -1 ||
	    nym_out_open(&out, outfd, NYM_SCRUB_OUTBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	m->in = &in;
	m->out = &out;
	for (m->no = 1;; m->no++) {
		if (message(m, &h) == 1)
			break;
		any = 1;
		leaks += m->leaks;
		if (!mflag)
			break;
		if (nym_out_flush(&out) == -1)
			break;
	}
	if (!any && !mflag)
		nym_die(NYM_EX_DATAERR, "unable to scrub: no message on input");
	if (nym_out_flush(&out) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write the message");
	nym_hdr_free(&h);
	nym_in_close(&in);
	nym_out_close(&out);
	free(m);
	return leaks;
}

/* Run a check (-c) or a scrub of fd in a child; the number of leaks, or
 * -1 if the child failed (it said why). */
static int
check(int fd, int outfd, int report)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to fork");
	if (pid == 0) {
		cflag = report;
		if (report)
			nym_exitforce = 2;
		else
			loadkey();
		st = run(fd, outfd);
		fflush(stdout);
		_exit(st > 100 ? 100 : st);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 2 && report ? -1 : WEXITSTATUS(st);
}

/* -i: paste header lines, an empty line runs the check and the scrub. */
static int
interactive(void)
{
	char *line, *buf = NULL;
	size_t len = 0;
	FILE *tmp;
	int fd, nullfd;

	if ((nullfd = open("/dev/null", O_WRONLY)) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to open /dev/null");
	printf("Paste or type header lines; an empty line checks them, "
	    "Ctrl-D quits.\n");
	while ((line = readline(len == 0 ? "header> " : "      > ")) != NULL) {
		size_t l = strlen(line);

		if (l > 0)
			add_history(line);
		if ((buf = realloc(buf, len + l + 2)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		memcpy(buf + len, line, l);
		len += l;
		buf[len++] = '\n';
		free(line);
		if (l > 0)
			continue;
		if ((tmp = tmpfile()) == NULL ||
		    fwrite(buf, 1, len, tmp) != len || fflush(tmp) != 0)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to write a "
			    "temporary file");
		fd = fileno(tmp);
		lseek(fd, 0, SEEK_SET);
		printf("-- leaks --\n");
		fflush(stdout);
		/* A child each, so an error ends the check, not the session. */
		if (check(fd, nullfd, 1) == 0)
			printf("none\n");
		printf("-- scrubbed --\n");
		fflush(stdout);
		lseek(fd, 0, SEEK_SET);
		check(fd, STDOUT_FILENO, 0);
		fclose(tmp);
		len = 0;
	}
	free(buf);
	putchar('\n');
	return 0;
}

/* Is -c among the options?  Looked for before anything else, so that a
 * check exits 2 on every error, one in the options included. */
static int
wantcheck(int argc, char *argv[])
{
	const char *p;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '-')
			continue;	/* an operand, or no option of ours */
		for (p = argv[i] + 1; *p != '\0'; p++) {
			if (*p == 'c')
				return 1;
			if (strchr("dKkpr", *p) != NULL) {
				i += p[1] == '\0';	/* the next word is its */
				break;
			}
		}
	}
	return 0;
}

static void
compiletables(void)
{
	const char *const *k;
	size_t i;

	for (k = keeptop; *k != NULL; k++)
		addpat(&ptop, &nptop, *k);
	for (k = keeppart; *k != NULL; k++)
		addpat(&ppart, &nppart, *k);
	for (k = known; *k != NULL; k++)
		addpat(&pknown, &npknown, *k);
	for (i = 0; reasons[i].name != NULL; i++)
		addpat(&preason, &npreason, reasons[i].name);
}

int
main(int argc, char *argv[])
{
	const char *where, *v, *pfile = NULL, *e;
	int c, leaks, nullfd;

	nym_begin(argc, argv, USAGE);
	compiletables();
	/* A check exits 2 on any error, a bad option included. */
	if (wantcheck(argc, argv))
		nym_exitforce = 2;
	while ((c = getopt(argc, argv, "cd:iK:k:mnp:r:")) != -1) {
		switch (c) {
		case 'c': cflag = 1; break;
		case 'd': addpat(&pdrop, &npdrop, optarg); break;
		case 'i': iflag = 1; break;
		case 'K': Kflag = optarg; break;
		case 'k': addpat(&pkeep, &npkeep, optarg); break;
		case 'm': mflag = 1; break;
		case 'n': nflag = 1; break;
		case 'p': pfile = optarg; break;
		case 'r': rflag = nym_number(optarg, "-r", 0, 366L * 86400); break;
		default: usage();
		}
	}
	if (argc != optind)
		usage();
	/* As a filter under procmail, an MTA or nymbox-sendmail it passes
	 * mail on: a set-up mistake must not bounce it. */
	if (!cflag && !iflag)
		nym_delivering();
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	if (pfile == NULL)
		pfile = nym_conf_get("scrub-policy");
	if (pfile != NULL)
		loadpolicy(pfile);
	addlist(&pkeep, &npkeep, nym_conf_get("scrub-keep"));
	addlist(&pdrop, &npdrop, nym_conf_get("scrub-drop"));
	if (Kflag == NULL)
		Kflag = nym_conf_get("scrub-key");
	if (rflag == 0 && (v = nym_conf_get("scrub-round")) != NULL)
		rflag = nym_confnumber("scrub-round", v, 0, 366L * 86400);
	mdomain = nym_conf_get("msgid-domain");
	if ((e = getenv("NYMBOX_NOW")) != NULL && *e != '\0')
		now = (time_t)nym_number(e, "NYMBOX_NOW", 0, LONG_MAX);
	else
		now = time(NULL);
	if (iflag)
		return interactive();
	if (cflag) {
		if ((nullfd = open("/dev/null", O_WRONLY)) == -1)
			nym_dieerr(2, "unable to open /dev/null");
		nym_exitforce = 2;
		leaks = run(STDIN_FILENO, nullfd);
		if (fflush(stdout) == EOF || ferror(stdout))
			nym_dieerr(2, "unable to write the report");
		return leaks > 0 ? 1 : 0;
	}
	/* An mbox is worth sodium_init's start-up: it picks faster code. */
	if (mflag && nym_crypto_init() == -1)
		nym_die(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	/* Load the key before writing anything: no half-written message. */
	loadkey();
	run(STDIN_FILENO, STDOUT_FILENO);
	return NYM_EX_OK;
}
