/*
 * scrub.c - the scrub engine: remove what identifies the sender's
 * machine from a message (software, host, network, user name, locale,
 * time zone).  scrub-headers is its front end; the contracts are in
 * scrub.h.
 *
 * The top-level header is filtered through an allowlist (the policy);
 * Date is rewritten in UTC; Message-ID, own In-Reply-To/References
 * entries, Content-IDs and MIME boundaries are replaced by keyed hashes
 * of the originals (keyed IDs), so a thread stays a thread across runs
 * and nothing of the client survives.  MIME part headers are scrubbed as
 * the message streams past (the walker); part bodies are copied
 * untouched, except text/html parts whose cid: references must follow
 * their renamed Content-IDs.  Memory is bounded by the header limits in
 * limits.h, not by the message size.
 *
 * No GMime here: linking it costs more start-up time than the whole job
 * takes for the one-process-per-message case (procmail, sendmail pipes).
 *
 * Errors: the first failure is kept in the run (fail()), and from then
 * on nothing is written or reported and every reader says "end", so the
 * walker unwinds through its ordinary paths, freeing as it goes, and
 * nym_scrub_run returns -1 without flushing: the output holds what a
 * dying scrub-headers would have left.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "scrub.h"

#define HASHLEN		16	/* bytes of keyed hash in generated IDs */
#define TOKLEN		26	/* base32 characters for HASHLEN bytes */
#define IDCAP		(TOKLEN + 260)	/* room for mapid's "token@domain" */

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

/* One run's state, and its message's while it streams from in to out. */
#define CANON_ROOM	32	/* room for the canon[] entries below */
#define MEMO_N		4	/* Content-Type, a disposition or three */

struct msg {
	struct nym_scrub *s;	/* settings, policy, and the failure */
	int failed;		/* s->code is set: write and read no more */
	int mbox;		/* s->mbox */
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
		int related;	/* multipart/related, or inside one */
		int parts;
	} lv[NYM_MIME_DEPTH];
	int gotnames;		/* the names below were looked up */
	char hostname[256], shorthost[256], user[256];
	char *scratch;		/* s->scratch */
	/* The canonical form (see "the canonical header" below). */
	int capture;		/* emit() appends to fb: one field */
	char *fb;		/* that field as rendered, then as read */
	size_t fbn, fbcap;
	int fleaks;		/* leaks counted before the field began */
	int scan;		/* -c: the text lines go through attrib() */
	const char *scanpart;	/* their part label, or NULL: the top */
	char para[NYM_SCRUB_ATTRIB + 1];	/* the lines before a quote */
	size_t paran;
	struct awatch {		/* -a: the attribution before the first
				   quote of the first text part */
		int on;		/* the part's lines go through awline() */
		int done;	/* the message's text part was chosen */
		int qp;		/* its body is quoted-printable */
		int midline;	/* the last piece did not end its line */
		int soft;	/* qp: the last held line has a soft break */
		int ntext;	/* text lines held (as decoded: logical) */
		int nempty;	/* an empty line held after them */
		size_t seen;	/* bytes of the part gone through */
		size_t start[3];	/* where each held text line starts */
		size_t textend;	/* end of the text lines in hold */
		size_t holdn;
		int try;	/* textrule: this text is the one to look at */
		int ruled;	/* textrule read it: no line watch */
		int did;	/* awdecide rewrote it (into to) */
		char *to;	/* awtext: the lines go here, not out */
		size_t ton, tocap;
		const char *part;	/* the part label, or NULL: the top */
		char hold[NYM_SCRUB_ATTRIB_HOLD];	/* the raw lines */
	} aw;
	struct text {		/* the text body ahead (textrule) */
		int on;		/* its labels follow the rule: */
		int cte;	/* CTE_NONE (7bit), CTE_QP or CTE_BASE64 */
		char cs[16];	/* the charset written */
		int fmt;	/* 1: format and delsp go; 2: delsp=no goes */
		int recode;	/* m->tb replaces the body's first rawlen */
		int deflt;	/* a text, not a file: a missing charset is
				   written, as its default */
		int attrib;	/* -a rewrote the text (awtext) */
		int enc;	/* ... and its encoding changes too */
		int unflow;	/* format=flowed text made fixed */
		size_t rawlen;
	} tx;
	struct lone {		/* a part's Content-Transfer-Encoding given
				   more than once, all but one 7bit: */
		int on;		/* the 7bit ones go, the rules follow */
		ssize_t keep;	/* the other field, or -1 (none) */
		char cte[64];	/* its value, lower case ("7bit": none) */
	} lone;
	char *tb;		/* the body re-encoded */
	size_t tbn, tbcap;
	/* wanted() of each canon[] name, top level and parts: the policy
	 * does not change during a run, and most fields are these. */
	signed char cwant[2][CANON_ROOM];
	/* nym_mime_parse of a field's value, kept for the header
	 * (mimefield): MEMO_N fields, emptied when a header is read. */
	struct mimememo {
		const struct nym_hdr *h;
		size_t i;
		int ok;			/* it parsed */
		struct nym_mimetype mt;
	} memo[MEMO_N];
	size_t nmemo;
	/* wanted() of the MIME fields the plans ask about, likewise. */
	struct { signed char mv, ct, cte, cdisp; } mw[2];
	struct topf {		/* each top-level field: */
		short idx;	/* its canon[] entry, or -1 */
		short rank;
		short want;	/* the policy keeps it */
		short next;	/* canonical order: the field after it */
	} *tf;
	size_t tfcap;
	struct plan {		/* the top level's MIME labels */
		int hasmv, hasct, hascte;
		int text;	/* text/plain, or no Content-Type */
		int anytext;	/* any text type, or no Content-Type */
		int dropcte;	/* Content-Transfer-Encoding goes */
		int addmime;	/* MIME-Version and Content-Type added */
		int addct;	/* Content-Type added */
	} pl;
	struct pplan {		/* a part's header (outside signed and
				   encrypted parts): the attachment rules */
		int on;		/* the part's header is being written */
		int multi;	/* multipart/: no disposition */
		int cidkeep;	/* something can refer to its Content-ID */
		int dropname;	/* name= goes (filename= says it) */
		int adddisp;	/* name= becomes the disposition's filename */
		struct nym_param np;	/* that name (adddisp) */
		char *npval, *npcs;
		char *fname;	/* the file name written (UTF-8), or NULL */
		int b64;	/* its body is to be written base64 */
	} pp;
	struct benc {		/* a file part's body written base64 */
		int on;
		int qp;		/* decoded from quoted-printable */
		int badqp;	/* a bad escape was seen (reported once) */
		const char *part;
		char pend[2];	/* the line end held back: a delimiter
				   after it would make it the delimiter's */
		size_t npend;
		size_t nib, nob, nlb;
		unsigned char ib[NYM_SCRUB_B64IN];
		char ob[NYM_SCRUB_B64IN / 57 * 78 + 80];
		char lb[NYM_SCRUB_QPLINE];	/* a quoted-printable line */
	} be;
};

/* What a header section said about the content that follows it. */
struct content {
	char type[128];		/* lower-cased type/subtype, "" if absent */
	char cte[64];		/* lower-cased Content-Transfer-Encoding */
	char boundary[NYM_BOUNDARY_MAX + 1];
};

/* Fields that mail software writes; a line with one of these names after
 * a stray line shows that the header goes on. */
static const char *const known[] = {
	"arc-*", "authentication-results", "received-spf", "precedence",
	"errors-to", "thread-*", "accept-language", "importance", "priority",
	"delivered-to", "envelope-to", "x-*", "list-*", "resent-*", NULL
};

/* Character classes: C_ATEXT, RFC 5322 atext with RFC 6532's 8-bit
 * bytes (the address parser takes them); C_TOKEN, RFC 2045's token
 * characters.  A table: these run for every byte of the fields. */
#define C_ATEXT	1
#define C_TOKEN	2
static const unsigned char cclass[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 3, 0, 3, 3, 3, 3, 3, 0, 0, 3, 3, 0, 3, 2, 1,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 0, 1,
	0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* ---- the canonical header ---- */

/* The order of the fields that stay, and the spelling of their names
 * (scrub-headers(1), "Canonical form").  A field not named here keeps
 * its spelling and its place among the others at R_OTHER; trace fields
 * (kept only with -k) stay on top. */
enum {
	R_TRACE, R_DATE, R_FROM, R_SENDER, R_REPLYTO, R_TO, R_CC, R_BCC,
	R_MFT, R_MRT, R_SUBJECT, R_MSGID, R_IRT, R_REFS, R_KEYWORDS, R_OTHER,
	R_MIMEVER, R_CTYPE, R_CTE, R_CDISP, R_CID, R_CDESC, R_CMD5, R_MAX
};

#define CANON(n, r)	{ (n), sizeof(n) - 1, (r) }
/* By length (canonidx searches it so), not in the order written. */
static const struct canon {
	const char *name;
	size_t len;
	int rank;
} canon[] = {
	CANON("To", R_TO), CANON("Cc", R_CC), CANON("Bcc", R_BCC),
	CANON("Date", R_DATE), CANON("From", R_FROM),
	CANON("Sender", R_SENDER), CANON("Subject", R_SUBJECT),
	CANON("Received", R_TRACE), CANON("Reply-To", R_REPLYTO),
	CANON("Keywords", R_KEYWORDS), CANON("Message-ID", R_MSGID),
	CANON("References", R_REFS), CANON("Content-ID", R_CID),
	CANON("Return-Path", R_TRACE), CANON("In-Reply-To", R_IRT),
	CANON("Content-MD5", R_CMD5), CANON("MIME-Version", R_MIMEVER),
	CANON("Content-Type", R_CTYPE), CANON("Mail-Reply-To", R_MRT),
	CANON("Mail-Followup-To", R_MFT),
	CANON("Content-Disposition", R_CDISP),
	CANON("Content-Description", R_CDESC),
	CANON("Content-Transfer-Encoding", R_CTE)
};
#define NCANON	(sizeof canon / sizeof canon[0])
_Static_assert(NCANON <= CANON_ROOM, "struct msg's cwant[] is too short");

/* Is a (n bytes) the canon[] name b in any case?  Its names are letters,
 * digits and '-', which (c | 0x20) matches in either case, and a field
 * name holds no control character, the only other bytes it could take
 * for them.  Eight bytes at a time (the last eight overlapping), four,
 * then one: the names are read, never past their ends. */
static int
samefold(const char *a, const char *b, size_t n)
{
	const uint64_t k8 = 0x2020202020202020ULL;
	const uint32_t k4 = 0x20202020U;
	uint64_t x, y;
	uint32_t u, v;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if ((x | k8) != (y | k8))
				return 0;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return (x | k8) == (y | k8);
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if ((u | k4) != (v | k4))
			return 0;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return (u | k4) == (v | k4);
	}
	for (i = 0; i < n; i++)
		if ((a[i] | 0x20) != (b[i] | 0x20))
			return 0;
	return 1;
}

/* The canon[] entry of a field name, or -1.  It runs for every field of
 * every message: only the entries of its length are compared, found
 * through a table of the first entry of each length (the two loops
 * before the search keep it right whatever the table says). */
static int
canonidx(const char *name, size_t n)
{
	static const unsigned char firstoflen[26] = {
	    0, 0, 0, 2, 3, 5, 5, 6, 7, 10, 10, 13, 16, 18, 19, 19, 19, 20,
	    20, 20, 22, 22, 22, 22, 22, 22 };
	size_t lo;

	if (n >= sizeof firstoflen)
		return -1;
	lo = firstoflen[n] < NCANON ? firstoflen[n] : NCANON;
	while (lo > 0 && canon[lo - 1].len >= n)
		lo--;
	while (lo < NCANON && canon[lo].len < n)
		lo++;
	for (; lo < NCANON && canon[lo].len == n; lo++)
		if (samefold(name, canon[lo].name, n))
			return (int)lo;
	return -1;
}

static int
rankof(int idx)
{
	return idx < 0 ? R_OTHER : canon[idx].rank;
}

/* ---- the policy: which fields stay ---- */

/* A field-name pattern: lower case; a trailing '*' makes it a prefix. */
struct nym_scrub_pat {
	char *s;
	size_t n;		/* length without the '*' */
	int prefix;
};

/* A failure: its exit code, errno (0: none) and message, in s. */
static void
vsetfail(struct nym_scrub *s, int code, int err, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));
static void
setfail(struct nym_scrub *s, int code, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
vsetfail(struct nym_scrub *s, int code, int err, const char *fmt,
    va_list ap)
{
	s->code = code;
	s->err = err;
	if (vsnprintf(s->why, sizeof s->why, fmt, ap) < 0)
		s->why[0] = '\0';
}

static void
setfail(struct nym_scrub *s, int code, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsetfail(s, code, err, fmt, ap);
	va_end(ap);
}

static int
addpat(struct nym_scrub *s, struct nym_scrub_list *list, const char *pat)
{
	struct nym_scrub_pat *p;
	char *c;
	size_t l;

	if (nym_reallocarray(&list->p, list->n + 1, sizeof *list->p) == -1 ||
	    (c = strdup(pat)) == NULL) {
		setfail(s, NYM_EX_TEMPFAIL, 0, "unable to allocate memory");
		return s->code;
	}
	for (l = 0; c[l] != '\0'; l++)
		c[l] = (char)tolower((unsigned char)c[l]);
	p = &list->p[list->n++];
	p->s = c;
	p->prefix = l > 0 && c[l - 1] == '*';
	p->n = l - (size_t)p->prefix;
	return 0;
}

static void
freelist(struct nym_scrub_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->p[i].s);
	free(list->p);
	list->p = NULL;
	list->n = 0;
}

/* Does name[0, n) match pattern p (case-insensitive)?  Most fail on the
 * length or the first letter, before any string compare. */
static int
namematch(const char *name, size_t n, const struct nym_scrub_pat *p)
{
	if (p->prefix ? n < p->n : n != p->n)
		return 0;
	if (p->n == 0)
		return 1;
	return p->s[0] == tolower((unsigned char)name[0]) &&
	    strncasecmp(name, p->s, p->n) == 0;
}

static ssize_t
inlist(const char *name, size_t n, const struct nym_scrub_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (namematch(name, n, &list->p[i]))
			return (ssize_t)i;
	return -1;
}

static int
wanted(const struct nym_scrub *s, const char *name, size_t n, int part)
{
	if (inlist(name, n, &s->drop) != -1)
		return 0;
	if (inlist(name, n, &s->keep) != -1)
		return 1;
	return inlist(name, n, part ? &s->part : &s->top) != -1;
}

static const char *
why(const struct nym_scrub *s, const char *name, size_t n)
{
	ssize_t i = inlist(name, n, &s->reason);

	return reasons[i == -1 ? (ssize_t)s->reason.n : i].why;
}

/* ---- output: the scrubbed message, and a check's report ---- */

static void
leak(struct msg *m, const char *part, const char *name, size_t n,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
leak(struct msg *m, const char *part, const char *name, size_t n,
    const char *fmt, ...)
{
	FILE *f = m->s->report;
	va_list ap;

	m->leaks++;
	if (f == NULL || m->failed)
		return;
	if (m->mbox)
		fprintf(f, "%lu: ", m->no);
	if (part != NULL)
		fprintf(f, "part %s: ", part);
	fprintf(f, "%.*s: ", (int)n, name);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	putc('\n', f);
}

/* What the canonical form could not make uniform (a check reports it;
 * it is no leak: scrubbing again would not change it). */
static void
residue(struct msg *m, const char *part, const char *name, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
residue(struct msg *m, const char *part, const char *name, const char *fmt,
    ...)
{
	FILE *f = m->s->report;
	va_list ap;

	if (f == NULL || m->failed)
		return;
	if (m->mbox)
		fprintf(f, "%lu: ", m->no);
	fprintf(f, "residue: ");
	if (part != NULL)
		fprintf(f, "part %s: ", part);
	fprintf(f, "%s: ", name);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	putc('\n', f);
}

/* The run fails: the first failure is kept, and from now on nothing is
 * written, reported or read (see the top of the file). */
static void
fail(struct msg *m, int code, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail(struct msg *m, int code, int err, const char *fmt, ...)
{
	va_list ap;

	if (m->failed)
		return;
	m->failed = 1;
	va_start(ap, fmt);
	vsetfail(m->s, code, err, fmt, ap);
	va_end(ap);
}

static void
nomem(struct msg *m)
{
	fail(m, NYM_EX_TEMPFAIL, 0, "unable to allocate memory");
}

/* Copy n bytes of src (fewer if a NUL comes first) to dst of cap
 * bytes, cut to fit and NUL ended: snprintf's "%.*s" at a fraction of
 * its cost, for the fields of every message. */
static void
copyn(char *dst, size_t cap, const char *src, size_t n)
{
	const char *z = memchr(src, '\0', n);

	if (z != NULL)
		n = (size_t)(z - src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#define COPYS(dst, src)	copyn((dst), sizeof(dst), (src), strlen(src))

/* Write v in decimal at out, of cap bytes, NUL ended if there is room:
 * the length written (0 if it does not fit).  snprintf's "%lu" without
 * its cost, for what every message numbers. */
static size_t
putnum(char *out, size_t cap, unsigned long v)
{
	char d[24];
	size_t n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (n >= cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = d[n - 1 - i];
	out[n] = '\0';
	return n;
}

/* Append to the field being rendered (m->capture). */
static void
fbput(struct msg *m, const char *p, size_t n)
{
	size_t cap;
	char *g;

	if (m->failed)
		return;
	if (n > m->fbcap - m->fbn) {
		for (cap = m->fbcap == 0 ? 1024 : m->fbcap; cap - m->fbn < n;)
			cap *= 2;
		if ((g = realloc(m->fb, cap)) == NULL) {
			nomem(m);
			return;
		}
		m->fb = g;
		m->fbcap = cap;
	}
	memcpy(m->fb + m->fbn, p, n);
	m->fbn += n;
}

static void
emitbytes(struct msg *m, const char *p, size_t n)
{
	if (n == 0 || m->failed)
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

/* Does the line l (n bytes) start with the delimiter of an open level's
 * new boundary?  The new boundary is keyed and random, so only someone
 * who knows the key (or a message scrubbed before with it, quoted
 * whole) can put it in the content; the output would then end the part
 * there. */
static int
holdsdelim(const struct msg *m, const char *l, size_t n)
{
	if (n < 2 || l[0] != '-' || l[1] != '-')
		return 0;
	for (int k = 0; k < m->depth; k++) {
		size_t rn = strlen(m->lv[k].repl);

		if (!m->lv[k].raw && n >= rn + 2 &&
		    memcmp(l + 2, m->lv[k].repl, rn) == 0)
			return 1;
	}
	return 0;
}

/* ---- reply attributions (-c) ---- */

/* Does s hold w (lower case), case-insensitive? */
static const char *
hasword(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, w, n) == 0)
			return s;
	return NULL;
}

/* The text lines before a quote end in ':': a reply attribution.  Report
 * what it tells of the sender: a time zone, a time of day without one
 * (local time), a numeric date (its order is the locale's), a language
 * other than English.  Residue: the text is not rewritten. */
static void
attribution(struct msg *m)
{
	static const char *const verbs[] = { "schrieb", "a écrit",
	    "a ecrit", "escribió", "escribio", "ha scritto", "schreef",
	    "skrev", "napisał", "napisal", "kirjoitti", "escreveu", "írta",
	    "napsal", "написал", "寫道", "写道", "wrote", NULL };
	const char *s = m->para, *p, *q, *const *v;
	char zone[8];
	size_t k;

	for (p = s; *p != '\0'; p++) {
		/* h:mm or hh:mm, not after a digit */
		if (!isdigit((unsigned char)*p) || (p > s &&
		    isdigit((unsigned char)p[-1])))
			continue;
		q = p + (isdigit((unsigned char)p[1]) ? 2 : 1);
		if (*q != ':' || !isdigit((unsigned char)q[1]) ||
		    !isdigit((unsigned char)q[2]))
			continue;
		q += 3;
		if (*q == ':' && isdigit((unsigned char)q[1]) &&
		    isdigit((unsigned char)q[2]))
			q += 3;
		while (*q == ' ')
			q++;
		if ((q[0] == 'A' || q[0] == 'P' || q[0] == 'a' ||
		    q[0] == 'p') && (q[1] == 'M' || q[1] == 'm'))
			for (q += 2; *q == ' '; q++)
				;
		for (k = 0; k < sizeof zone - 1 && (isalnum((unsigned char)
		    q[k]) || (k == 0 && (q[0] == '+' || q[0] == '-'))); k++)
			zone[k] = q[k];
		zone[k] = '\0';
		if ((zone[0] == '+' || zone[0] == '-') && k >= 3) {
			if (strspn(zone + 1, "0") != k - 1)
				residue(m, m->scanpart, "body", "reply "
				    "attribution with the time zone %s (the "
				    "text is not rewritten)", zone);
		} else if (k >= 2 && strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
		    == k) {
			if (strcmp(zone, "UTC") != 0 && strcmp(zone, "GMT")
			    != 0 && strcmp(zone, "UT") != 0)
				residue(m, m->scanpart, "body", "reply "
				    "attribution with the time zone %s (the "
				    "text is not rewritten)", zone);
		} else
			residue(m, m->scanpart, "body", "reply attribution "
			    "with a time of day and no zone, the sender's "
			    "local time (the text is not rewritten)");
		break;
	}
	for (p = s; *p != '\0'; p++) {
		/* d/m/y, m/d/y, d.m.y: not after a digit */
		if (!isdigit((unsigned char)*p) || (p > s &&
		    isdigit((unsigned char)p[-1])))
			continue;
		q = p + (isdigit((unsigned char)p[1]) ? 2 : 1);
		if ((*q != '/' && *q != '.' && *q != '-') ||
		    !isdigit((unsigned char)q[1]))
			continue;
		q += isdigit((unsigned char)q[2]) ? 3 : 2;
		if ((*q == '/' || *q == '.' || *q == '-') && *q == p[(isdigit(
		    (unsigned char)p[1]) ? 2 : 1)] && isdigit((unsigned char)
		    q[1]) && isdigit((unsigned char)q[2])) {
			residue(m, m->scanpart, "body", "reply attribution "
			    "with a numeric date, in the order of the "
			    "sender's locale (the text is not rewritten)");
			break;
		}
	}
	for (v = verbs; *v != NULL && hasword(s, *v) == NULL; v++)
		;
	if (*v != NULL && strcmp(*v, "wrote") != 0 && !hasword(s, "wrote"))
		residue(m, m->scanpart, "body", "reply attribution in another "
		    "language than English (\"%s\": the sender's locale; the "
		    "text is not rewritten)", *v);
}

/* A text line of the body, in a check: keep the lines since the last
 * empty or quoted one; at a quoted line after lines ending in ':', look
 * at them. */
static void
attrib(struct msg *m, const char *l, size_t n)
{
	while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r' ||
	    l[n - 1] == ' ' || l[n - 1] == '\t'))
		n--;
	if (n == 0) {
		m->paran = 0;
		return;
	}
	if (l[0] == '>') {
		if (m->paran > 0 && m->para[m->paran - 1] == ':') {
			m->para[m->paran] = '\0';
			attribution(m);
		}
		m->paran = 0;
		return;
	}
	/* Only the last lines that fit. */
	if (m->paran + 1 + n > NYM_SCRUB_ATTRIB)
		m->paran = 0;
	if (n > NYM_SCRUB_ATTRIB)
		return;
	if (m->paran > 0)
		m->para[m->paran++] = ' ';
	memcpy(m->para + m->paran, l, n);
	m->paran += n;
}


/* ---- reply attributions rewritten (-a) ----
 *
 * With -a the attribution line of a reply ("On Mon, 23 Nov 2026 at
 * 10:00 AM CET, Bob wrote:", "Am 23.11.26 um 10:00 schrieb Bob:") becomes
 * TorBirdy's neutral "Bob wrote:" (mailnews.reply_header_type 1): no
 * date, time, zone or language.  Only the text lines just before the
 * first quoted line of the first text/plain part are looked at, and
 * only if they start within NYM_SCRUB_ATTRIB_AT bytes of it; every other
 * byte of the part is copied as it is.  On the way there, awline holds
 * back the last three text lines and one empty line after them
 * (Alpine writes one between the attribution and the quote), at most
 * NYM_SCRUB_ATTRIB_HOLD bytes; at the quote awdecide rewrites them or
 * lets them go.  A text the text rule reads whole (textrule) goes through
 * awline decoded, into a copy (awtext), before its labels are chosen from
 * it; one it leaves as written keeps its attribution (awleft: rewritten,
 * a second run could read it).  One the rule takes at its word or does
 * not read is watched on its way out: quoted-printable decoded to look at
 * and its new line re-encoded, base64 left (residue). */

static void emitout(struct msg *m, const char *p, size_t len);

/* The forms clients write: "OPEN DATE, NAME VERB" (the name before the
 * verb), or "OPEN DATE VERB NAME:" (after).  The English one is the
 * mutt/neomutt, aerc, Alpine, Thunderbird, Claws and Gmail form. */
static const struct awform {
	const char *open;
	const char *verb;
	int after;
} awforms[] = {
	{ "On ", " wrote:", 0 },
	{ "Am ", " schrieb ", 1 },	/* German */
	{ "Op ", " schreef ", 1 },	/* Dutch */
	{ "Den ", " skrev ", 1 },	/* Danish, Norwegian, Swedish */
	{ "Le ", " a \xc3\xa9" "crit :", 0 },	/* French */
	{ "Le ", " a \xc3\xa9" "crit\xc2\xa0:", 0 },
	{ "Le ", " a \xc3\xa9" "crit:", 0 },
	{ "El ", " escribi\xc3\xb3:", 0 },	/* Spanish */
	{ "Il ", " ha scritto:", 0 },	/* Italian */
	{ "Em ", " escreveu:", 0 },	/* Portuguese */
};

/* Does s[0, n) hold a number standing alone (digits between bytes that
 * are no letters or digits), as a date or a time of day does?  The 2 of
 * "i2p" does not stand alone. */
static int
hasnumber(const char *s, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && isdigit((unsigned char)s[j]); j++)
			;
		if (j > i && (i == 0 || !isalnum((unsigned char)s[i - 1])) &&
		    (j == n || !isalnum((unsigned char)s[j])))
			return 1;
	}
	return 0;
}

/* Does s[0, n) hold a date: a year (four digits standing alone) or a
 * numeric date ("11/21/26", "23.11.26", "2026-11-21")?  "Friday at
 * 10:00" is none. */
static int
hasdate(const char *s, size_t n)
{
	size_t i, j, k;
	int parts;

	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && isdigit((unsigned char)s[j]); j++)
			;
		if (j == i || (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		if (j - i == 4 && (j == n || !isalnum((unsigned char)s[j])))
			return 1;
		/* N/N/N, N.N.N or N-N-N, one separator throughout */
		for (parts = 1, k = j; k + 1 < n && (s[k] == '/' || s[k] ==
		    '.' || s[k] == '-') && s[k] == s[j] &&
		    isdigit((unsigned char)s[k + 1]); parts++)
			for (k++; k < n && isdigit((unsigned char)s[k]); k++)
				;
		if (parts >= 3)
			return 1;
	}
	return 0;
}

/* Where the name starts in the body "DATE, NAME" of an attribution
 * (also "DATE" LF "NAME", Claws' two lines, and Gmail's "... 3:02 PM
 * NAME"): after the first separator with a date before it and no number
 * after.  0 if there is none. */
static size_t
namebefore(const char *b, size_t n)
{
	size_t i, sep;

	for (i = 0; i + 1 < n; i++) {
		sep = b[i] == '\n' ? 1 : b[i] == ',' && b[i + 1] == ' ' ? 2 : 0;
		if (sep > 0 && hasdate(b, i) && !hasnumber(b + i + sep,
		    n - i - sep))
			return i + sep;
	}
	for (i = n; i-- > 1;)
		if (i + 3 < n && (b[i] == 'A' || b[i] == 'P') &&
		    b[i + 1] == 'M' && b[i + 2] == ' ' && (b[i - 1] == ' ' ||
		    isdigit((unsigned char)b[i - 1])) && hasdate(b, i) &&
		    !hasnumber(b + i + 3, n - i - 3))
			return i + 3;
	return 0;
}

/* Write the name s[0, n) to out as one line (a line break a client put
 * in it is a space) and " wrote:" after it; its length, or 0 if it is
 * empty or too long. */
static size_t
wrote(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	while (n > 0 && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		n--;
	if (n == 0 || n + sizeof " wrote:" > cap || *s == '>')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] != '\n')
			out[o++] = s[i];
		else if (o > 0 && out[o - 1] != ' ')
			out[o++] = ' ';
	memcpy(out + o, " wrote:", sizeof " wrote:");	/* NUL ended */
	return o + sizeof " wrote:" - 1;
}

/* If t (n bytes: decoded text lines joined by LF, no line ends or
 * trailing blanks) is a reply attribution with a date, write its
 * neutral form "NAME wrote:" to out (cap bytes) and return its length;
 * else 0. */
static size_t
awneutral(const char *t, size_t n, char *out, size_t cap)
{
	const struct awform *f;
	size_t on, vn, i, at;

	for (f = awforms; f < awforms + sizeof awforms / sizeof *awforms;
	    f++) {
		on = strlen(f->open);
		vn = strlen(f->verb);
		if (n < on + vn + 2 || memcmp(t, f->open, on) != 0)
			continue;
		if (!f->after) {
			if (memcmp(t + n - vn, f->verb, vn) != 0)
				continue;
			at = namebefore(t + on, n - on - vn);
			if (at > 0)
				return wrote(t + on + at, n - on - vn - at, out,
				    cap);
			continue;
		}
		if (t[n - 1] != ':')
			continue;
		for (i = on; i + vn < n && memcmp(t + i, f->verb, vn) != 0;
		    i++)
			;
		if (i + vn < n && hasdate(t + on, i - on) &&
		    !hasnumber(t + i + vn, n - 1 - i - vn))
			return wrote(t + i + vn, n - 1 - i - vn, out, cap);
	}
	return 0;
}

/* Lines of the watched part go out, or into m->aw.to (awtext). */
static void
awout(struct msg *m, const char *p, size_t n)
{
	struct awatch *a = &m->aw;
	const char *nl;
	size_t len;

	if (a->to == NULL) {
		/* Line by line: emitout looks at each line's start (a
		 * "From " in an mbox, a delimiter of the part). */
		for (; n > 0; p += len, n -= len) {
			nl = nym_nl(p, n);
			len = nl != NULL ? (size_t)(nl + 1 - p) : n;
			emitout(m, p, len);
		}
	} else if (n <= a->tocap - a->ton) {
		memcpy(a->to + a->ton, p, n);
		a->ton += n;
	}
}

/* The rewritten attribution, reported where it goes out. */
static void
awleak(struct msg *m, const char *part)
{
	leak(m, part, "body", 4, "reply attribution with the date, time or "
	    "language of the sender (written as \"NAME wrote:\")");
}

/* The held lines go out as they are. */
static void
awflush(struct msg *m)
{
	struct awatch *a = &m->aw;

	awout(m, a->hold, a->holdn);
	a->holdn = a->textend = 0;
	a->ntext = a->nempty = a->soft = 0;
}

/* One held text line, hold[from, to), decoded to out (to - from bytes
 * of room) without its line end and trailing blanks; its length. */
static size_t
awdecode(const struct msg *m, size_t from, size_t to, char *out)
{
	size_t n;

	if (m->aw.qp)
		n = nym_unqp(m->aw.hold + from, to - from, out);
	else {
		n = to - from;
		memcpy(out, m->aw.hold + from, n);
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
	    out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	return n;
}

/* Held text lines [i, j) decoded and joined by LF into t (cap bytes),
 * then the text of more (mn bytes) if more is not NULL; its length, or
 * 0 if it is longer than an attribution can be. */
static size_t
awjoin(const struct msg *m, int i, int j, const char *more, size_t mn,
    char *t, size_t cap)
{
	const struct awatch *a = &m->aw;
	size_t tn = 0, end;
	int k;

	for (k = i; k < j; k++) {
		end = k + 1 < a->ntext ? a->start[k + 1] : a->textend;
		if (tn + 1 + end - a->start[k] > cap)
			return 0;
		if (tn > 0)
			t[tn++] = '\n';
		tn += awdecode(m, a->start[k], end, t + tn);
	}
	if (more != NULL) {
		if (tn + 1 + mn > cap)
			return 0;
		t[tn++] = '\n';
		memcpy(t + tn, more, mn);
		tn += mn;
	}
	return tn <= NYM_SCRUB_ATTRIB ? tn : 0;
}

/* A quoted line follows the held lines: if the last of them, or the last
 * two, are an attribution, write its neutral form in their place.  Not
 * when the line before it and the neutral form would read as one (an
 * attribution on two lines, as Claws writes it): then which lines the
 * attribution is, is not clear, and a second run would take one more. */
static void
awdecide(struct msg *m)
{
	struct awatch *a = &m->aw;
	char t[NYM_SCRUB_ATTRIB_HOLD + 2], nl[NYM_SCRUB_ATTRIB + 1];
	char enc[4 * (NYM_SCRUB_ATTRIB + 1)], x[NYM_SCRUB_ATTRIB + 1];
	const char *eol;
	size_t tn, nn = 0, en;
	int i;

	for (i = a->ntext - 1; i >= 0 && i >= a->ntext - 2 && nn == 0; i--)
		if ((tn = awjoin(m, i, a->ntext, NULL, 0, t, sizeof t)) > 0)
			nn = awneutral(t, tn, nl, sizeof nl - 1);
	i++;		/* the first line of the attribution */
	if (nn > 0 && i > 0 && (tn = awjoin(m, i - 1, i, nl, nn, t,
	    sizeof t)) > 0 && awneutral(t, tn, x, sizeof x) > 0)
		nn = 0;		/* which lines it is, is not clear */
	if (nn == 0) {
		awflush(m);
		return;
	}
	/* The new line as it will be written. */
	eol = a->textend >= 2 && a->hold[a->textend - 2] == '\r' ? "\r\n" :
	    "\n";
	if (a->qp) {
		/* At most 3 bytes a byte and a soft break every 75 fit. */
		nl[nn++] = '\n';
		if (nym_qp(nl, nn, NULL, eol) > sizeof enc) {
			awflush(m);
			return;
		}
		en = nym_qp(nl, nn, enc, eol);
	} else {
		en = nn + strlen(eol);
		memcpy(enc, nl, nn);
		memcpy(enc + nn, eol, en - nn);
	}
	awout(m, a->hold, a->start[i]);
	if (a->to == NULL)
		awleak(m, a->part);
	a->did = 1;
	awout(m, enc, en);
	awout(m, a->hold + a->textend, a->holdn - a->textend);
	a->holdn = a->textend = 0;
	a->ntext = a->nempty = a->soft = 0;
}

/* A line of the watched part (or a piece of one: len bytes, a line end
 * only at the end): hold it, let it go, or decide at a quoted line. */
static void
awline(struct msg *m, const char *p, size_t len)
{
	struct awatch *a = &m->aw;
	size_t n = len, at = a->seen;
	int ends = p[len - 1] == '\n';

	a->seen += len;
	if (a->midline) {	/* the rest of a line too long to hold */
		a->midline = !ends;
		awout(m, p, len);
		return;
	}
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' ||
	    p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (p[0] == '>' && !a->soft) {
		/* The first quoted line: decide, and watch no more. */
		if (a->ntext > 0)
			awdecide(m);
		else
			awflush(m);
		a->on = 0;
		awout(m, p, len);
		return;
	}
	if (!ends) {		/* longer than the input buffer, or last */
		awflush(m);
		a->midline = 1;
		awout(m, p, len);
		return;
	}
	if (n == 0 && !a->soft) {
		if (a->ntext > 0 && a->nempty == 0 &&
		    len <= sizeof a->hold - a->holdn) {
			memcpy(a->hold + a->holdn, p, len);
			a->holdn += len;
			a->nempty = 1;
			return;
		}
		awflush(m);
		awout(m, p, len);
		return;
	}
	if (a->nempty > 0)
		awflush(m);
	if (!a->soft && a->ntext == 3) {	/* the oldest goes */
		size_t cut = a->start[1];

		awout(m, a->hold, cut);
		memmove(a->hold, a->hold + cut, a->holdn - cut);
		a->holdn -= cut;
		a->textend = a->holdn;
		a->start[0] = 0;
		a->start[1] = a->start[2] - cut;
		a->ntext = 2;
	}
	if ((!a->soft && at >= NYM_SCRUB_ATTRIB_AT) ||
	    len > sizeof a->hold - a->holdn) {
		/* Too far into the part, or too long: no attribution. */
		awflush(m);
		a->on = 0;
		awout(m, p, len);
		return;
	}
	if (!a->soft)
		a->start[a->ntext++] = a->holdn;
	memcpy(a->hold + a->holdn, p, len);
	a->holdn += len;
	a->textend = a->holdn;
	a->soft = a->qp && n > 0 && p[n - 1] == '=';
}

/* The watched part ends: what is held goes out. */
static void
awend(struct msg *m)
{
	if (m->aw.on)
		awflush(m);
	m->aw.on = 0;
}

/* -a: the text textrule read (m->aw.ruled) is written as it was, for
 * why: its attribution too. */
static void
awleft(struct msg *m, const char *part, const char *why)
{
	if (m->aw.ruled && why != NULL)
		residue(m, part, "body", "reply attribution not rewritten: the "
		    "text is left as written (%s)", why);
	m->aw.ruled = 0;
}

/* -a on a text that textrule reads whole: its decoded lines d[0, dn)
 * through awline into a copy.  The copy, *outn bytes, if the attribution
 * was rewritten there (the leak is textbody's to report, if it writes
 * it), else NULL. */
static char *
awtext(struct msg *m, const char *part, const char *d, size_t dn,
    size_t *outn)
{
	struct awatch *a = &m->aw;
	const char *nl;
	size_t off, len;
	char *t;

	memset(a, 0, offsetof(struct awatch, hold));
	a->done = a->ruled = 1;
	/* The new line is at most NYM_SCRUB_ATTRIB bytes and a CRLF. */
	if ((t = malloc(dn + NYM_SCRUB_ATTRIB + 2)) == NULL) {
		nomem(m);
		return NULL;
	}
	a->on = 1;
	a->part = part;
	a->to = t;
	a->tocap = dn + NYM_SCRUB_ATTRIB + 2;
	for (off = 0; off < dn && a->on; off += len) {
		nl = nym_nl(d + off, dn - off);
		len = nl != NULL ? (size_t)(nl + 1 - (d + off)) : dn - off;
		awline(m, d + off, len);
	}
	awend(m);
	awout(m, d + off, dn - off);
	*outn = a->ton;
	a->to = NULL;
	if (!a->did) {
		free(t);
		return NULL;
	}
	return t;
}

/* Write content, line by line.  In an mbox, a line that starts with
 * "From " after an empty line starts the next message.  Where the input
 * had no empty line before such a line but the output has one (the
 * engine ended a part's header that the input broke off without one),
 * the line is quoted with '>', as an MDA quotes it, so the output splits
 * where the input did (t/fuzz/regress/scrub/mbox-unclosed-multipart).
 * From_ lines themselves and delimiters go out through emitbytes.  A
 * line that would read as a delimiter of the new boundaries fails the
 * message (holdsdelim; t/fuzz/regress/scrub/content-holds-new-boundary).
 * emitline takes one line (no LF but at its end: a line nym_in_peekline
 * gave), emitlines any bytes. */
static void
emitline(struct msg *m, const char *p, size_t len)
{
	if (m->capture) {
		fbput(m, p, len);
		return;
	}
	if (len == 0 || m->failed)
		return;
	if (m->aw.on)
		awline(m, p, len);	/* which calls emitout() */
	else
		emitout(m, p, len);
}

/* emitline's content line on its way out (not held back by awline). */
static void
emitout(struct msg *m, const char *p, size_t len)
{
	if (len == 0 || m->failed)
		return;
	if (m->scan)
		attrib(m, p, len);
	if (m->tail[2] == '\n') {
		if (m->mbox && len >= 5 && memcmp(p, "From ", 5) == 0 &&
		    endsempty(m))
			emitbytes(m, ">", 1);
		if (m->depth > 0 && holdsdelim(m, p, len)) {
			fail(m, NYM_EX_DATAERR, 0, "unable to scrub message "
			    "%lu: its content holds a line that would end a "
			    "part (the boundary chosen for it)", m->no);
			return;
		}
	}
	emitbytes(m, p, len);
}

/* Does the line that ends at p[n - 1] (a LF), and starts at p or after
 * a LF, hold nothing but its end? */
static int
lastempty(const char *p, size_t n)
{
	return n > 0 && p[n - 1] == '\n' && (n == 1 || p[n - 2] == '\n' ||
	    (p[n - 2] == '\r' && (n == 2 || p[n - 3] == '\n')));
}

/* The whole lines at p (n bytes) up to the first that starts with '-'
 * or 'F': a prefix that ends in a LF, or 0.  Where the compiler has
 * vectors (GCC, clang), sixteen bytes at a time, each a LF followed by
 * '-' or 'F' or not: a body line costs no search of its own. */
static size_t
plainrun(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || p[0] == '-' || p[0] == 'F')
		return 0;
#ifdef __GNUC__
	{
		typedef unsigned char v16 __attribute__((vector_size(16)));
		v16 a, b, hit;
		uint64_t w[2];

		for (; n - i >= 17; i += 16) {
			memcpy(&a, p + i, sizeof a);
			memcpy(&b, p + i + 1, sizeof b);
			hit = (v16)((a == '\n') & ((b == '-') | (b == 'F')));
			memcpy(w, &hit, sizeof w);
			if ((w[0] | w[1]) != 0)
				break;	/* the loop below finds which */
		}
	}
#endif
	for (; i + 1 < n; i++)
		if (p[i] == '\n' && (p[i + 1] == '-' || p[i + 1] == 'F'))
			return i + 1;
	for (i = n; i > 0 && p[i - 1] != '\n'; i--)
		;
	return i;
}

/* The fast way for the many body lines emitout() would only copy: while
 * lines are only copied (no field rendered, no attribution looked for
 * or watched) and the output is at a line start, the whole lines at p
 * up to the first that starts with '-' (a delimiter, the input's or
 * ours) or 'F' (an mbox From_ line, or one to quote) go out in one
 * write.  The bytes emitted: a prefix of p[0..n) that ends in a LF, or
 * 0 if that line is the first (the caller takes it line by line). */
static size_t
emitrun(struct msg *m, const char *p, size_t n)
{
	size_t k;

	if (m->capture || m->aw.on || m->scan || m->failed ||
	    m->tail[2] != '\n' || m->s->slow)
		return 0;
	k = plainrun(p, n);
	emitbytes(m, p, k);
	return k;
}

static void
emitlines(struct msg *m, const char *p, size_t n)
{
	const char *e, *nl;
	size_t len;

	if (n == 0)		/* p may be NULL: an empty part */
		return;
	if (m->capture) {
		fbput(m, p, n);
		return;
	}
	for (e = p + n; p < e && !m->failed; p += len) {
		if ((len = emitrun(m, p, (size_t)(e - p))) > 0)
			continue;
		nl = nym_nl(p, (size_t)(e - p));
		len = nl != NULL ? (size_t)(nl + 1 - p) : (size_t)(e - p);
		emitline(m, p, len);
	}
}

/* emitlines, with the common case of a field being rendered (many
 * short pieces) inline. */
static inline void
emit(struct msg *m, const char *p, size_t n)
{
	if (m->capture && n <= m->fbcap - m->fbn && !m->failed) {
		if (n > 0)
			memcpy(m->fb + m->fbn, p, n);
		m->fbn += n;
	} else
		emitlines(m, p, n);
}

static void
emits(struct msg *m, const char *s)
{
	emit(m, s, strlen(s));
}

/* ---- keyed IDs ---- */

/* A keyed token for (context, data): TOKLEN base32 characters. */
static void
token(const struct msg *m, const char *context, const char *data, size_t n,
    char out[TOKLEN + 1])
{
	unsigned char h[HASHLEN];

	nym_mac(m->s->key, context, data, n, h, sizeof h);
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

/* Write "token@domain" for id into out (cap >= TOKLEN + 258), NUL
 * ended; its length. */
static size_t
mapid(const struct msg *m, const char *context, const char *id, size_t n,
    char *out)
{
	size_t dl = strlen(m->domain);

	token(m, context, id, n, out);
	out[TOKLEN] = '@';
	memcpy(out + TOKLEN + 1, m->domain, dl + 1);
	return TOKLEN + 1 + dl;
}

static void
emitfield(struct msg *m, const char *name, size_t n, const char *value)
{
	emit(m, name, n);
	emit(m, ": ", 2);
	emits(m, value);
	emit(m, m->eol, m->eollen);
}

/* The byte at p (before e) as scrub-headers writes it: NUL and a bare
 * CR become a space. */
static char
spaced(const char *p, const char *e)
{
	if (*p == '\0' || (*p == '\r' && (p + 1 == e || p[1] != '\n')))
		return ' ';
	return *p;
}

/* Write s..e as read, but with NUL and bare CR made spaces. */
static void
emitclean(struct msg *m, const struct nym_hdr *h, const char *s,
    const char *e)
{
	const char *p;

	if (!h->nul && !h->barecr) {
		emit(m, s, (size_t)(e - s));
		return;
	}
	for (p = s; p < e; p++) {
		char c = spaced(p, e);

		emit(m, &c, 1);
	}
}

/* Write field i as read, but with NUL and bare CR made spaces, no space
 * between the name and its colon (RFC 5322's obsolete "From :" would
 * start an mbox's next message; t/fuzz/regress/scrub/obsolete-from-
 * field), and a line ending supplied if the input ended without one. */
static void
emitraw(struct msg *m, const struct nym_hdr *h, size_t i)
{
	const char *s = h->buf + h->f[i].off, *e = s + h->f[i].len;
	const char *colon = s + h->f[i].namelen;

	while (colon < e && *colon != ':')
		colon++;
	if (colon == e)		/* no colon: not from nym_hdr_read */
		colon = s + h->f[i].namelen;
	emitclean(m, h, s, s + h->f[i].namelen);
	emitclean(m, h, colon, e);
	if (e == s || e[-1] != '\n')
		emit(m, m->eol, m->eollen);
}

/* Render one field into m->fb instead of writing it (endfield writes
 * it). */
static void
beginfield(struct msg *m)
{
	m->capture = 1;
	m->fbn = 0;
	m->fleaks = m->leaks;
}

/* Field i is rendered in m->fb (nothing: it was dropped): give it its
 * canonical name (k: its canon[] entry, or -1) and write it.  Where it differs from the field as read
 * (as emitraw writes it) and nothing was reported about it, the
 * difference was the client's shape: report that. */
static void
endfield(struct msg *m, const struct nym_hdr *h, size_t i, const char *part,
    int k)
{
	const char *name = h->buf + h->f[i].off;
	size_t nl = h->f[i].namelen, n = m->fbn;

	if (!m->failed && n >= nl && k >= 0)
		memcpy(m->fb, canon[k].name, nl);
	if (!m->failed && n > 0 && m->leaks == m->fleaks) {
		const char *raw = h->buf + h->f[i].off;
		size_t rl = h->f[i].len;

		/* As emitraw writes it: the bytes read, unless they hold NUL
		 * or a bare CR or lack their line end. */
		if (h->nul || h->barecr || rl == 0 || raw[rl - 1] != '\n') {
			emitraw(m, h, i);	/* appended: fb[n, fbn) */
			raw = m->fb + n;
			rl = m->fbn - n;
		}
		if (m->failed || (rl == n && memcmp(m->fb, raw, n) == 0))
			;
		else if (rl == n && memcmp(m->fb + nl, raw + nl, n - nl) == 0)
			leak(m, part, name, nl, "name spelled by the client "
			    "(written %s)", k >= 0 ? canon[k].name : "");
		else
			leak(m, part, name, nl, "the client's rendering "
			    "(written in the canonical form)");
	}
	m->capture = 0;
	/* A top-level field's lines cannot read as a From_ line or a
	 * delimiter (see emit): no need to look. */
	if (part == NULL)
		emitbytes(m, m->fb, n);
	else
		emit(m, m->fb, n);
}

static ssize_t
value(struct msg *m, const struct nym_hdr *h, size_t i)
{
	ssize_t n = nym_hdr_value(h, i, m->scratch, sizeof m->s->scratch);
	size_t lead = 0;

	if (n <= 0)
		return n;
	/* As it will be read back: emitraw writes NUL and bare CR as
	 * spaces (nym_hdr_value did too), and a reader skips the white
	 * space they then make at the start (t/fuzz/regress/scrub/nul-
	 * before-path). */
	while ((ssize_t)lead < n && (m->scratch[lead] == ' ' ||
	    m->scratch[lead] == '\t'))
		lead++;
	if (lead > 0) {
		memmove(m->scratch, m->scratch + lead, (size_t)n - lead);
		n -= (ssize_t)lead;
		m->scratch[n] = '\0';
	}
	while (n > 0 && (m->scratch[n - 1] == ' ' ||
	    m->scratch[n - 1] == '\t'))
		m->scratch[--n] = '\0';
	return n;
}

/* ---- legacy charsets (issue 15): encoded words made UTF-8 ---- */

/* Does s (n bytes) hold an encoded word?  The cheap test first. */
static int
haswords(const char *s, size_t n)
{
	const char *q;

	for (q = memchr(s, '=', n); q != NULL && q + 1 < s + n;
	    q = memchr(q + 1, '=', (size_t)(s + n - q - 1)))
		if (q[1] == '?')
			return 1;
	return 0;
}

/* s's encoded words in a legacy charset (ISO-8859-15 in Alpine's
 * subjects and names: the sender's locale) re-encoded as UTF-8, in a
 * new string (the caller frees it); NULL if s has none, or on failure
 * (then s is written as it is).  Reported: a leak for what changed, a
 * residue for a word iconv cannot convert. */
static char *
recode(struct msg *m, const char *part, const char *name, size_t nl,
    const char *s)
{
	size_t n = strlen(s), cap;
	int changed, left;
	char *out;

	if (!haswords(s, n) || nym_rfc2047_utf8(s, n, NULL, 0, &changed,
	    &left) < 0 || changed == 0)
		return NULL;
	cap = 5 * n + 64;
	if ((out = malloc(cap)) == NULL) {
		nomem(m);
		return NULL;
	}
	if (nym_rfc2047_utf8(s, n, out, cap, &changed, &left) < 0) {
		free(out);
		return NULL;
	}
	if (left > 0)
		residue(m, part, canonidx(name, nl) >= 0 ?
		    canon[canonidx(name, nl)].name : "header", "encoded word "
		    "in a charset that cannot be made UTF-8, kept");
	if (changed == 0) {
		free(out);
		return NULL;
	}
	leak(m, part, name, nl, "encoded word in a legacy charset, the "
	    "sender's locale (written as UTF-8)");
	return out;
}

/* A charset name other than UTF-8's and US-ASCII's. */
static int
legacycs(const char *c)
{
	return c != NULL && *c != '\0' && strcasecmp(c, "utf-8") != 0 &&
	    strcasecmp(c, "utf8") != 0 && strcasecmp(c, "us-ascii") != 0 &&
	    strcasecmp(c, "ascii") != 0;
}

/* The bytes a first encoded word that starts in column col may carry
 * to fit on its line (0: it cannot, the usual 45). */
static size_t
firstbytes(size_t col)
{
	return col + 12 < NYM_EWORD_COL ? (NYM_EWORD_COL - col - 12) / 4 * 3 :
	    0;
}

/* Text s (NUL ended: an unstructured value, or with phrase a display
 * name) in the canonical rendering (nym_rfc2047_canon: encoded words
 * decoded and written again by one rule; it starts in column col), in a
 * new string (the caller frees it).  If s holds a broken encoded word, one iconv cannot make
 * UTF-8, or 8-bit text that is not UTF-8, that cannot be done: a residue,
 * and then recode's result, or NULL (s is written as it is). */
static char *
canontext(struct msg *m, const char *part, const char *name, size_t nl,
    const char *s, int phrase, size_t col)
{
	size_t len;
	int legacy, left;
	char *u, *r;

	if ((u = nym_rfc2047_canon(s, strlen(s), phrase, firstbytes(col),
	    &len, &legacy, &left)) != NULL) {
		if (legacy > 0)
			leak(m, part, name, nl, "encoded word in a legacy "
			    "charset, the sender's locale (written as UTF-8)");
		return u;
	}
	if (left == 0) {
		nomem(m);
		return NULL;
	}
	/* Its legacy words made UTF-8, it may have the canonical rendering
	 * after all, which the next run would give it: then it is given
	 * now (t/fuzz/regress/scrub/description-word-after-equals). */
	r = recode(m, part, name, nl, s);
	if (r != NULL && (u = nym_rfc2047_canon(r, strlen(r), phrase,
	    firstbytes(col), &len, &legacy, &left)) != NULL) {
		free(r);
		return u;
	}
	residue(m, part, canonidx(name, nl) >= 0 ?
	    canon[canonidx(name, nl)].name : "header", "text that does not "
	    "decode to UTF-8, or a broken encoded word, kept as written");
	return r;
}

/* ---- parsed MIME fields ---- */

/* Field i of header h parsed as a MIME type (its value through
 * nym_mime_parse), or NULL if its value is written as it is or does not
 * parse; n >= 0 says m->scratch holds its value already (value()'s n).
 * The plans and doctype all ask for a header's Content-Type and
 * Content-Disposition: a field's first parse is kept (m->memo, emptied
 * when a header is read, memoclear) and given again.  With the memo full
 * it goes into *mine, which the caller frees (nym_mime_free).  No
 * caller changes the result but charsetname() on the charset, which
 * every reader of it lower-cases alike. */
static struct nym_mimetype *
mimefield(struct msg *m, const struct nym_hdr *h, size_t i,
    struct nym_mimetype *mine, ssize_t n)
{
	struct mimememo *e = NULL;
	struct nym_mimetype *t = mine;
	size_t k;

	for (k = 0; k < m->nmemo; k++)
		if (m->memo[k].h == h && m->memo[k].i == i)
			return m->memo[k].ok ? &m->memo[k].mt : NULL;
	if (m->nmemo < MEMO_N) {
		e = &m->memo[m->nmemo++];
		e->h = h;
		e->i = i;
		e->ok = 0;
		t = &e->mt;
		memset(t, 0, sizeof *t);	/* memoclear frees it */
	}
	if ((n < 0 && (n = value(m, h, i)) < 0) ||
	    nym_mime_parse(m->scratch, (size_t)n, t) == -1)
		return NULL;
	if (e != NULL)
		e->ok = 1;
	return t;
}

static void
memoclear(struct msg *m)
{
	while (m->nmemo > 0)
		nym_mime_free(&m->memo[--m->nmemo].mt);
}

/* ---- canonical renderings: addresses, unstructured text ---- */

static inline int
isatext(unsigned char c)
{
	return cclass[c] & C_ATEXT;
}

/* Words of atext, one space between them: a phrase without quotes
 * (sep ' '), or a dot-atom (sep '.'). */
static int
atoms(const char *s, char sep)
{
	int need = 1;

	for (; *s != '\0'; s++) {
		if (*s == sep) {
			if (need)
				return 0;
			need = 1;
		} else if (isatext((unsigned char)*s))
			need = 0;
		else
			return 0;
	}
	return !need;
}

/* Folding white space at p (before e): its end, or p if none.  A line
 * end counts only if a space or tab follows it (a fold). */
static inline const unsigned char *
skipfws(const unsigned char *p, const unsigned char *e)
{
	for (;;) {
		if (p == e)
			return p;
		if (*p == ' ' || *p == '\t')
			p++;
		else if (*p == '\n' && e - p >= 2 && (p[1] == ' ' ||
		    p[1] == '\t'))
			p += 2;
		else if (*p == '\r' && e - p >= 3 && p[1] == '\n' &&
		    (p[2] == ' ' || p[2] == '\t'))
			p += 3;
		else
			return p;
	}
}

/* A dot-atom at p (before e): its end, or p if none.  *dots: it has a
 * dot. */
static inline const unsigned char *
dotatom(const unsigned char *p, const unsigned char *e, int *dots)
{
	const unsigned char *q = p, *a;

	*dots = 0;
	for (;;) {
		for (a = q; q < e && isatext(*q); q++)
			;
		if (q == a)
			return p;
		if (q == e || *q != '.' || q + 1 == e || !isatext(q[1]))
			return q;
		*dots = 1;
		q++;
	}
}

static int
isatoms(const unsigned char *p, size_t n)
{
	int need = 1;

	for (; n > 0; p++, n--) {
		if (*p == ' ') {
			if (need)
				return 0;
			need = 1;
		} else if (isatext(*p))
			need = 0;
		else
			return 0;
	}
	return !need;
}

static void emitname(struct msg *, const char *);

static int
has8bit(const unsigned char *p, const unsigned char *e)
{
	for (; p < e; p++)
		if (*p >= 0x80)
			return 1;
	return 0;
}

/* The fast path of doaddr and setdomain, which the common address lists
 * take: display names of atext words or one quoted string, then
 * <local@domain> or a bare local@domain, the local part and domain
 * dot-atoms, folding white space around them.  One pass over the field
 * as read: with render, it is written in the canonical form (as doaddr's
 * long way, through the parser, would write it); else the first
 * address's domain is given in *d, *dn (as read: in any case).  0 if the
 * field is not such a list (and nothing was written): it takes the long
 * way. */
static int
simpleaddrs(struct msg *m, const struct nym_hdr *h, size_t i, int render,
    const char **d, size_t *dn)
{
	const unsigned char *p, *e, *q, *name, *ne, *lp, *le, *dp, *de, *as;
	size_t start = m->fbn, ul;
	int quoted, angle, dots, upper, lg, lf, legacy = 0, n = 0, same;
	char *u = NULL;

	if (h->nul || h->barecr || m->s->slow || h->f[i].len < m->eollen ||
	    h->f[i].len >= NYM_FIELD_MAX)
		return 0;
	p = (const unsigned char *)h->buf + h->f[i].off;
	e = p + h->f[i].len - m->eollen;
	if (memcmp(e, m->eol, m->eollen) != 0)
		return 0;
	p += h->f[i].namelen;
	if (p == e || *p != ':')
		return 0;
	if (render) {
		emit(m, h->buf + h->f[i].off, h->f[i].namelen);
		emit(m, ": ", 2);
	}
	for (p = skipfws(p + 1, e);; n++) {
		name = ne = NULL;
		quoted = angle = 0;
		/* same: the address is written as it was read (one space
		 * between words, <>, a lower-case domain), one piece. */
		as = p;
		same = 1;
		if (p < e && *p == '"') {
			for (q = p + 1; q < e && *q != '"'; q++)
				if (*q < 0x20 || *q == 0x7f || *q == '\\')
					goto no;
			if (q == e)
				goto no;
			name = p + 1;
			ne = q;
			quoted = 1;
			p = skipfws(q + 1, e);
			same = p == q + 2 && q[1] == ' ';
			if (p == e || *p != '<')
				goto no;
		}
		if (p < e && *p != '<') {
			/* A bare address, or the display name's first word. */
			if ((q = dotatom(p, e, &dots)) == p)
				goto no;
			if (q < e && *q == '@') {
				lp = p;
				le = q;
				goto domain;
			}
			if (dots)
				goto no;
			for (name = p;;) {	/* atext words, FWS between */
				for (; p < e && isatext(*p); p++)
					;
				ne = p;
				if ((q = skipfws(p, e)) == p || q == e)
					goto no;
				same &= q == p + 1 && *p == ' ';
				p = q;
				if (*p == '<')
					break;
				if (!isatext(*p))
					goto no;
			}
		}
		if (p == e || *p != '<')
			goto no;
		/* A name with an encoded word or 8-bit text in the
		 * canonical rendering (as doaddr writes it), or, if it
		 * cannot be, the long way. */
		if (render && name != NULL && (haswords((const char *)name,
		    (size_t)(ne - name)) || has8bit(name, ne))) {
			char *nb;
			size_t nn = 0;

			if ((nb = malloc((size_t)(ne - name) + 1)) == NULL)
				goto no;
			/* As the parser gives it: one space between atoms,
			 * a quoted string's text as it is. */
			for (q = name; q < ne;) {
				const unsigned char *w = q;

				while (w < ne && (quoted || isatext(*w)))
					w++;
				memcpy(nb + nn, q, (size_t)(w - q));
				nn += (size_t)(w - q);
				if (w == ne)
					break;
				nb[nn++] = ' ';
				q = skipfws(w, ne);
			}
			nb[nn] = '\0';
			u = nym_rfc2047_canon(nb, nn, 1, firstbytes(n == 0 ?
			    h->f[i].namelen + 2 : 1), &ul, &lg, &lf);
			free(nb);
			if (u == NULL)
				goto no;
			legacy += lg;
		}
		angle = 1;
		lp = ++p;
		if ((le = dotatom(p, e, &dots)) == p || le == e || *le != '@')
			goto no;
domain:
		dp = le + 1;
		if ((de = dotatom(dp, e, &dots)) == dp)
			goto no;
		p = de;
		if (angle) {
			if (p == e || *p != '>')
				goto no;
			p++;
		}
		if (n == 0 && d != NULL) {
			*d = (const char *)dp;
			*dn = (size_t)(de - dp);
		}
		if (render) {
			if (n > 0) {
				emit(m, ",", 1);
				emit(m, m->eol, m->eollen);
				emit(m, " ", 1);
			}
			for (upper = 0, q = dp; q < de; q++)
				upper |= *q >= 'A' && *q <= 'Z';
			if (same && angle && u == NULL && !upper &&
			    (!quoted || (ne > name && !isatoms(name,
			    (size_t)(ne - name))))) {
				emit(m, (const char *)as, (size_t)(p - as));
				goto next;
			}
			if (u != NULL) {
				emitname(m, u);
				emit(m, " ", 1);
				free(u);
				u = NULL;
			} else if (name != NULL && ne > name) {
				if (!quoted) {
					/* Each fold or run of white space
					 * one space. */
					for (q = name; q < ne;) {
						const unsigned char *w = q;

						while (w < ne && isatext(*w))
							w++;
						emit(m, (const char *)q,
						    (size_t)(w - q));
						if (w == ne)
							break;
						emit(m, " ", 1);
						q = skipfws(w, ne);
					}
				} else if (isatoms(name, (size_t)(ne - name)))
					emit(m, (const char *)name,
					    (size_t)(ne - name));
				else {
					emit(m, "\"", 1);
					emit(m, (const char *)name,
					    (size_t)(ne - name));
					emit(m, "\"", 1);
				}
				emit(m, " ", 1);
			}
			emit(m, "<", 1);
			emit(m, (const char *)lp, (size_t)(le - lp));
			emit(m, "@", 1);
			if (!upper)
				emit(m, (const char *)dp, (size_t)(de - dp));
			for (q = dp; upper && q < de; q++) {
				char c = (char)(*q >= 'A' && *q <= 'Z' ?
				    *q - 'A' + 'a' : *q);

				emit(m, &c, 1);
			}
			emit(m, ">", 1);
		}
next:
		if ((p = skipfws(p, e)) == e)
			break;
		if (*p != ',' || (p = skipfws(p + 1, e)) == e)
			goto no;
	}
	if (render)
		emit(m, m->eol, m->eollen);
	if (legacy > 0 && !m->failed)
		leak(m, NULL, h->buf + h->f[i].off, h->f[i].namelen, "encoded "
		    "word in a legacy charset, the sender's locale (written as "
		    "UTF-8)");
	return !m->failed;
no:
	free(u);
	if (render && !m->failed)
		m->fbn = start;
	return 0;
}

static void
emitquoted(struct msg *m, const char *s)
{
	emit(m, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			emit(m, "\\", 1);
		emit(m, s, 1);
	}
	emit(m, "\"", 1);
}

static void
emitphrase(struct msg *m, const char *s)
{
	if (atoms(s, ' '))
		emits(m, s);
	else
		emitquoted(m, s);
}

/* A display name: a name of encoded words (the canonical rendering)
 * folded between them where a line would pass NYM_EWORD_COL. */
static void
emitname(struct msg *m, const char *s)
{
	const char *w;
	size_t col, k;

	if (strncmp(s, "=?", 2) != 0 || !atoms(s, ' ')) {
		emitphrase(m, s);
		return;
	}
	for (k = m->fbn; k > 0 && m->fb[k - 1] != '\n'; k--)
		;
	col = m->fbn - k;
	for (;;) {
		w = strchr(s, ' ');
		k = w != NULL ? (size_t)(w - s) : strlen(s);
		emit(m, s, k);
		col += k;
		if (w == NULL)
			break;
		s = w + 1;
		k = (w = strchr(s, ' ')) != NULL ? (size_t)(w - s) : strlen(s);
		if (col + 1 + k > NYM_EWORD_COL) {
			emit(m, m->eol, m->eollen);
			col = 0;
		}
		emit(m, " ", 1);
		col++;
	}
}

/* Groups (":") at the top level of an address list: the parser gives
 * no entry for an empty one, so counting them finds those. */
static size_t
rawgroups(const char *v, size_t n)
{
	size_t i, groups = 0;
	int quote = 0, angle = 0, lit = 0, depth = 0;

	for (i = 0; i < n; i++) {
		if (v[i] == '\\' && (quote || depth > 0 || lit)) {
			i++;
			continue;
		}
		if (quote)
			quote = v[i] != '"';
		else if (depth > 0)
			depth += v[i] == '(' ? 1 : v[i] == ')' ? -1 : 0;
		else if (lit)
			lit = v[i] != ']';
		else if (v[i] == '"')
			quote = 1;
		else if (v[i] == '(')
			depth = 1;
		else if (v[i] == '[')
			lit = 1;
		else if (v[i] == '<')
			angle = 1;
		else if (v[i] == '>')
			angle = 0;
		else if (v[i] == ':' && !angle)
			groups++;
	}
	return groups;
}

static int
samestr(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* An address list: one address a line, display names quoted only where
 * RFC 5322 needs it, angle brackets always, groups closed.  An empty
 * group, or a list the parser refuses or that would not read back the
 * same, stays as written (a residue). */
static void
doaddr(struct msg *m, const struct nym_hdr *h, size_t i)
{
	struct nym_addrlist al = { 0 }, back = { 0 };
	const char *name = h->buf + h->f[i].off, *grp = NULL;
	char **own = NULL;
	size_t nl = h->f[i].namelen, k, groups = 0, start, vs;
	ssize_t n;
	int ok;

	if (simpleaddrs(m, h, i, 1, NULL, NULL))
		return;
	if ((n = value(m, h, i)) <= 0 ||
	    nym_addr_parse(m->scratch, (size_t)n, &al) == -1) {
		if (n > 0)
			residue(m, NULL, canon[canonidx(name, nl)].name,
			    "address list the parser refuses, kept as "
			    "written");
		emitraw(m, h, i);
		return;
	}
	for (k = 0; k < al.n; k++)
		if (al.a[k].group != NULL && (k == 0 ||
		    al.a[k].group != al.a[k - 1].group))
			groups++;
	if (al.n == 0 || rawgroups(m->scratch, (size_t)n) != groups) {
		residue(m, NULL, canon[canonidx(name, nl)].name,
		    "empty group kept as written");
		nym_addrlist_free(&al);
		emitraw(m, h, i);
		return;
	}
	/* Display names in the canonical rendering, legacy charsets made
	 * UTF-8 (not group names: their pointers tell the groups
	 * apart). */
	for (k = 0; k < al.n && !m->failed; k++) {
		char *u;

		if (al.a[k].name == NULL || (!haswords(al.a[k].name,
		    strlen(al.a[k].name)) && !has8bit((const unsigned char *)
		    al.a[k].name, (const unsigned char *)al.a[k].name +
		    strlen(al.a[k].name))) || (u = canontext(m, NULL, name, nl,
		    al.a[k].name, 1, k == 0 && al.a[k].group == NULL ? nl + 2 :
		    1)) == NULL)
			continue;
		if (own == NULL && (own = calloc(al.n, sizeof *own)) == NULL) {
			free(u);
			nomem(m);
			break;
		}
		own[k] = al.a[k].name = u;
	}
	start = m->fbn;
	emit(m, name, nl);
	emit(m, ": ", 2);
	vs = m->fbn;
	for (k = 0; k < al.n; k++) {
		const struct nym_addr *a = &al.a[k];

		if (k > 0) {
			emit(m, grp != NULL && a->group != grp ? ";," : ",",
			    grp != NULL && a->group != grp ? 2 : 1);
			emit(m, m->eol, m->eollen);
			emit(m, " ", 1);
		}
		if (a->group != NULL && a->group != grp) {
			emitphrase(m, a->group);
			emit(m, ": ", 2);
		}
		grp = a->group;
		if (a->name != NULL) {
			emitname(m, a->name);
			emit(m, " ", 1);
		}
		emit(m, "<", 1);
		if (atoms(a->local, '.'))
			emits(m, a->local);
		else
			emitquoted(m, a->local);
		if (a->domain != NULL) {
			emit(m, "@", 1);
			emits(m, a->domain);
		}
		emit(m, ">", 1);
	}
	if (grp != NULL)
		emit(m, ";", 1);
	/* It must read back as the same list (it does if it is the value
	 * as read). */
	ok = !m->failed && ((size_t)n == m->fbn - vs &&
	    memcmp(m->scratch, m->fb + vs, (size_t)n) == 0);
	if (!ok && !m->failed)
		ok = nym_addr_parse(m->fb + vs, m->fbn - vs, &back) == 0 &&
		    back.n == al.n;
	for (k = 0; ok && back.a != NULL && k < al.n; k++)
		ok = samestr(al.a[k].name, back.a[k].name) &&
		    samestr(al.a[k].local, back.a[k].local) &&
		    samestr(al.a[k].domain, back.a[k].domain) &&
		    samestr(al.a[k].group, back.a[k].group);
	nym_addrlist_free(&back);
	for (k = 0; own != NULL && k < al.n; k++)
		free(own[k]);
	free(own);
	nym_addrlist_free(&al);
	if (m->failed)
		return;
	if (!ok) {
		m->fbn = start;
		residue(m, NULL, canon[canonidx(name, nl)].name,
		    "address list that reads differently when rewritten, "
		    "kept as written");
		emitraw(m, h, i);
		return;
	}
	emit(m, m->eol, m->eollen);
}

/* Unstructured text v..v+n, without tabs or white space around it:
 * folded at the last space before column NYM_FOLD_COL, or, if it holds
 * encoded words (ew), NYM_EWORD_COL (RFC 2047's 76). */
static void
emitwords(struct msg *m, const char *name, size_t nl, const char *v,
    size_t n, int ew)
{
	const char *p = v, *w, *e = v + n, *run = v;
	size_t col = nl + 2, lim = ew ? NYM_EWORD_COL : NYM_FOLD_COL;

	emit(m, name, nl);
	emit(m, ":", 1);
	if (n > 0)
		emit(m, " ", 1);
	/* Written a line at a time: the words between two folds are
	 * written as they are (run). */
	while (col + (size_t)(e - p) > lim && p < e) {
		/* The next piece: white space, then a word. */
		for (w = p; w < e && *w == ' '; w++)
			;
		while (w < e && *w != ' ')
			w++;
		if (p != v && *p == ' ' && col + (size_t)(w - p) > lim) {
			emit(m, run, (size_t)(p - run));
			emit(m, m->eol, m->eollen);
			run = p;
			col = 0;
		}
		col += (size_t)(w - p);
		p = w;
	}
	emit(m, run, (size_t)(e - run));
	emit(m, m->eol, m->eollen);
}

/* Unstructured text (Subject, Keywords, Content-Description): unfolded,
 * tabs made spaces (a client's folds leave them), then folded at the last
 * white space before column NYM_FOLD_COL.  v is changed. */
static void
emitunstruct(struct msg *m, const char *name, size_t nl, char *v)
{
	char *t;

	for (t = v; (t = strchr(t, '\t')) != NULL; t++)
		*t = ' ';
	/* As a reader takes it: no white space around it. */
	while (*v == ' ')
		v++;
	for (t = v + strlen(v); t > v && t[-1] == ' ';)
		*--t = '\0';
	emitwords(m, name, nl, v, strlen(v), haswords(v, strlen(v)));
}

static void
dounstruct(struct msg *m, const struct nym_hdr *h, size_t i)
{
	const char *p, *e, *q;
	char *u;

	/* The fast path: one line of printable ASCII, as read. */
	p = h->buf + h->f[i].off;
	e = p + h->f[i].len;
	if (!h->nul && !h->barecr && !m->s->slow && h->f[i].len > m->eollen &&
	    memcmp(e - m->eollen, m->eol, m->eollen) == 0 &&
	    p[h->f[i].namelen] == ':') {
		e -= m->eollen;
		for (q = p + h->f[i].namelen + 1; q < e && *q == ' '; q++)
			;
		p = q;
		/* Printable ASCII and spaces: the rest is written as
		 * encoded words, the slow way. */
		while (q < e && (unsigned char)*q >= 0x20 &&
		    (unsigned char)*q < 0x7f)
			q++;
		if (q == e && !haswords(p, (size_t)(e - p))) {
			while (e > p && e[-1] == ' ')
				e--;
			emitwords(m, h->buf + h->f[i].off, h->f[i].namelen, p,
			    (size_t)(e - p), 0);
			return;
		}
	}
	if (value(m, h, i) < 0) {
		emitraw(m, h, i);
		return;
	}
	u = canontext(m, NULL, h->buf + h->f[i].off, h->f[i].namelen,
	    m->scratch, 0, h->f[i].namelen + 2);
	emitunstruct(m, h->buf + h->f[i].off, h->f[i].namelen,
	    u != NULL ? u : m->scratch);
	free(u);
}

/* ---- host, user and client patterns in message IDs ---- */

static void
getnames(struct msg *m)
{
	const char *u;
	char *dot;

	if (m->gotnames)
		return;
	m->gotnames = 1;
	if (gethostname(m->hostname, sizeof m->hostname - 1) == -1)
		m->hostname[0] = '\0';
	m->hostname[sizeof m->hostname - 1] = '\0';
	snprintf(m->shorthost, sizeof m->shorthost, "%s", m->hostname);
	if ((dot = strchr(m->shorthost, '.')) != NULL)
		*dot = '\0';
	if ((u = getenv("USER")) == NULL || *u == '\0')
		u = getenv("LOGNAME");
	snprintf(m->user, sizeof m->user, "%s", u != NULL ? u : "");
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
hostlike(struct msg *m, const char *rhs, size_t n)
{
	static const char *const priv[] = { ".local", ".lan", ".home",
	    ".localdomain", ".internal", ".home.arpa", ".intranet", NULL };
	const char *const *p;
	size_t i, hl, sl;

	getnames(m);
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
	hl = strlen(m->hostname);
	sl = strlen(m->shorthost);
	if ((hl > 0 && n == hl && strncasecmp(rhs, m->hostname, n) == 0) ||
	    (sl > 0 && n >= sl && strncasecmp(rhs, m->shorthost, sl) == 0 &&
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
lhsleaks(struct msg *m, const char *lhs, size_t n)
{
	getnames(m);
	return contains(lhs, n, m->user) || contains(lhs, n, m->shorthost);
}

/* The shape of a left-hand side: runs of letters and digits by length,
 * other characters as they are ("8-4-4-4-12" for a UUID). */
static void
shape(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0, run;

	while (i < n && o + 8 < cap) {
		if (isalnum((unsigned char)s[i])) {
			for (run = 0; i < n && isalnum((unsigned char)s[i]);
			    i++)
				run++;
			o += putnum(out + o, cap - o, run);
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
ownref(struct msg *m, const char *id, size_t n)
{
	const char *rhs, *orhs;
	size_t lhs, rn, olhs, orn;
	char s1[256], s2[256];

	if (neutralid(m, id, n))
		return 0;
	splitid(id, n, &lhs, &rhs, &rn);
	if (hostlike(m, rhs, rn) || lhsleaks(m, id, lhs))
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

	n = value(m, h, i);
	ok = n >= 0 && nym_date_parse(m->scratch, (size_t)n, &t, &zone) == 0;
	if (!ok || m->s->setnow)
		t = m->s->now;
	if (m->s->round > 0)
		t -= ((t % m->s->round) + m->s->round) % m->s->round;
	nym_date_format(t, out, sizeof out);
	if (ok && strcmp(out, m->scratch) == 0) {
		emitfield(m, name, nl, out);
		return;
	}
	if (!ok)
		leak(m, NULL, name, nl, "unreadable date, replaced by the "
		    "current time");
	else if (zone != 0)
		leak(m, NULL, name, nl, "time zone offset %c%02d%02d",
		    zone < 0 ? '-' : '+', abs(zone) / 60, abs(zone) % 60);
	else if (m->s->setnow)
		leak(m, NULL, name, nl, "time of writing (set to now, -n)");
	else if (m->s->round > 0)
		leak(m, NULL, name, nl, "time to the second (rounded to %ld "
		    "seconds, -r)", m->s->round);
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
	char out[IDCAP + 2];
	size_t l;

	out[0] = '<';
	l = 1 + mapid(m, context, id, idn, out + 1);
	out[l++] = '>';
	out[l] = '\0';
	emitfield(m, name, nl, out);
}

static void
domsgid(struct msg *m, const struct nym_hdr *h, size_t i)
{
	const char *name = h->buf + h->f[i].off, *id;
	size_t nl = h->f[i].namelen, idn;
	ssize_t n;

	n = value(m, h, i);
	if (n <= 0 || firstid(m->scratch, (size_t)n, &id, &idn) == -1) {
		id = m->scratch;
		idn = n > 0 ? (size_t)n : 0;
	}
	if (neutralid(m, id, idn) && n == (ssize_t)idn + 2) {
		emitfield(m, name, nl, m->scratch);
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
	char idbuf[IDCAP];
	const char *name = h->buf + h->f[i].off, *p, *e, *lt = NULL, *gt;
	size_t nl = h->f[i].namelen, changed = 0, ids = 0;
	unsigned long long own = 0;	/* ownref of the first 64 IDs */
	int text = 0;
	ssize_t n;

	if ((n = value(m, h, i)) < 0) {
		emitraw(m, h, i);
		return;
	}
	e = m->scratch + n;
	for (p = m->scratch; (lt = memchr(p, '<', (size_t)(e - p))) != NULL;
	    p = gt + 1) {
		if (textbetween(p, lt))
			text = 1;
		if ((gt = memchr(lt, '>', (size_t)(e - lt))) == NULL)
			break;
		if (ownref(m, lt + 1, (size_t)(gt - lt - 1))) {
			changed++;
			if (ids < 64)
				own |= 1ULL << ids;
		}
		ids++;
	}
	if (lt == NULL && textbetween(p, e))
		text = 1;
	if (ids == 0) {
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
	for (p = m->scratch; (lt = memchr(p, '<', (size_t)(e - p))) != NULL;
	    p = gt + 1) {
		if ((gt = memchr(lt, '>', (size_t)(e - lt))) == NULL)
			break;
		if (ids > 0) {
			emit(m, m->eol, m->eollen);
			emit(m, " ", 1);
		} else
			emit(m, " ", 1);
		if (ids < 64 ? (int)((own >> ids) & 1) :
		    ownref(m, lt + 1, (size_t)(gt - lt - 1))) {
			mapid(m, "message-id", lt + 1, (size_t)(gt - lt - 1),
			    idbuf);
			emit(m, "<", 1);
			emits(m, idbuf);
			emit(m, ">", 1);
		} else
			emit(m, lt, (size_t)(gt - lt + 1));
		ids++;
	}
	emit(m, m->eol, m->eollen);
}

/* ---- MIME fields, at the top level and in parts ---- */

static inline int
tokenchar(unsigned char c)
{
	return cclass[c] & C_TOKEN;
}

/* A MIME charset name, as RFC 2231 can carry it: token characters but
 * for the ones its syntax uses (', *, %). */
static int
ischarset(const char *c)
{
	for (; *c != '\0'; c++)
		if (!tokenchar((unsigned char)*c) || *c == '\'' || *c == '*' ||
		    *c == '%')
			return 0;
	return 1;
}

/* Can doctype write mt's parameters back?  Not one whose name the
 * parser kept a '*' in ("filename*0*0="), which would read back as
 * another parameter: the field then stays as written
 * (t/fuzz/regress/scrub/param-name-with-star). */
static int
writable(const struct nym_mimetype *mt)
{
	size_t k;

	for (k = 0; k < mt->np; k++)
		if (!ischarset(mt->p[k].name))
			return 0;
	return 1;
}

/* "; name=value", or with fold ";", a new line and " name=value". */
static void
emitparam(struct msg *m, const struct nym_param *p, const char *v, int fold)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[4];
	const unsigned char *s;
	int plain = *v != '\0';

	emit(m, ";", 1);
	if (fold)
		emit(m, m->eol, m->eollen);
	emit(m, " ", 1);
	emits(m, p->name);
	for (s = (const unsigned char *)v; *s != '\0'; s++)
		if (!tokenchar(*s))
			plain = 0;
	if (p->ext) {
		emit(m, "*=", 2);
		/* A charset that is no token is left out (RFC 2231 allows
		 * none): its bytes would end the parameter early on reading
		 * (t/fuzz/regress/scrub/charset-not-a-token). */
		if (p->charset != NULL && ischarset(p->charset))
			emits(m, p->charset);
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

		if (b == NULL) {
			nomem(m);
			return;
		}
		nym_base64((const unsigned char *)v, l, b, "+/");
		emit(m, "=\"=?", 4);
		emits(m, p->charset != NULL && *p->charset != '\0' &&
		    ischarset(p->charset) ? p->charset : "utf-8");
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

/* What doctype does with a parameter, by its name: one compare, or
 * two, for each of a part's parameters (a switch on the first letter). */
enum { PK_OTHER, PK_DROP, PK_FILENAME, PK_NAME, PK_BOUNDARY, PK_CHARSET,
	PK_FORMAT, PK_DELSP };

static int
paramkind(const char *n)
{
	switch (n[0]) {
	case 'b':
		return strcmp(n, "boundary") == 0 ? PK_BOUNDARY : PK_OTHER;
	case 'c':
		return strcmp(n, "charset") == 0 ? PK_CHARSET :
		    strcmp(n, "creation-date") == 0 ? PK_DROP : PK_OTHER;
	case 'd':
		return strcmp(n, "delsp") == 0 ? PK_DELSP : PK_OTHER;
	case 'f':
		return strcmp(n, "filename") == 0 ? PK_FILENAME :
		    strcmp(n, "format") == 0 ? PK_FORMAT : PK_OTHER;
	case 'm':
		return strcmp(n, "modification-date") == 0 ? PK_DROP :
		    PK_OTHER;
	case 'n':
		return strcmp(n, "name") == 0 ? PK_NAME : PK_OTHER;
	case 'r':
		return strcmp(n, "read-date") == 0 ? PK_DROP : PK_OTHER;
	case 'x':	/* x-mac-type and the like: client details */
		return n[1] == '-' ? PK_DROP : PK_OTHER;
	default:
		return PK_OTHER;
	}
}

static int
neutralboundary(const char *b)
{
	return b[0] == '=' && b[1] == '_' && istoken(b + 2, strlen(b + 2));
}

/* A charset name as the canonical form writes it: lower case (in place),
 * the usual aliases of us-ascii and utf-8 by their MIME names. */
static const char *
charsetname(char *c)
{
	char *p;

	for (p = c; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	switch (c[0]) {		/* most are us-ascii or utf-8 */
	case 'a':
		if (strcmp(c, "ascii") == 0 ||
		    strcmp(c, "ansi_x3.4-1968") == 0)
			return "us-ascii";
		break;
	case 'i':
		if (strcmp(c, "iso646-us") == 0)
			return "us-ascii";
		break;
	case 'u':
		if (strcmp(c, "us_ascii") == 0)
			return "us-ascii";
		if (strcmp(c, "utf8") == 0)
			return "utf-8";
		break;
	}
	return c;
}

/* A charset whose text in ASCII bytes is that ASCII text. */
static int
asciisuperset(const char *c)
{
	return strcmp(c, "us-ascii") == 0 || strcmp(c, "utf-8") == 0 ||
	    strncmp(c, "iso-8859-", 9) == 0 || strncmp(c, "windows-125", 11) == 0;
}

static void
freeown(char **own, size_t n)
{
	while (n > 0)
		free(own[--n]);
}

/* ---- attachment part headers (issue 15) ---- */

static int isutf8(const unsigned char *p, size_t n);

/* Does a Content-Disposition (md as parsed; NULL: one the parser
 * refuses) make its part a file, not text to show?  Any disposition but
 * a bare "inline": "attachment", or one with a file name. */
static int
dispfile(const struct nym_mimetype *md)
{
	return md == NULL || strcmp(md->type, "inline") != 0 ||
	    nym_mime_param(md, "filename") != NULL;
}

/* Content-Disposition field i of header h: does it make the part a file
 * (dispfile), and does it give a filename?  Each adds to what the
 * part's other dispositions said. */
static void
dispadd(struct msg *m, const struct nym_hdr *h, size_t i, int *file,
    int *hasfn)
{
	struct nym_mimetype mine = { 0 }, *md;

	if ((md = mimefield(m, h, i, &mine, -1)) == NULL)
		*file = 1;
	else {
		*file |= dispfile(md);
		*hasfn |= nym_mime_param(md, "filename") != NULL;
	}
	nym_mime_free(&mine);
}

/* Is type t one whose charset= means nothing (scrub-headers(1),
 * "Canonical form")?  image/, audio/, video/, font/, model/, and the
 * application/ types that are not text: all but json, xml, yaml, toml,
 * javascript, ecmascript, sql, rtf and the x- scripts below, and any
 * +xml or +json type. */
static int
textless(const char *t)
{
	static const char *const textapp[] = { "json", "xml", "yaml", "toml",
	    "javascript", "ecmascript", "sql", "rtf", "x-javascript",
	    "x-yaml", "x-toml", "x-sh", "x-shellscript", "x-csh", "x-perl",
	    "x-python", "x-ruby", "x-php", "x-tcl", "x-tex", "x-latex",
	    "x-troff", "x-sql", NULL };
	const char *const *a;
	size_t n;

	if (strncmp(t, "image/", 6) == 0 || strncmp(t, "audio/", 6) == 0 ||
	    strncmp(t, "video/", 6) == 0 || strncmp(t, "font/", 5) == 0 ||
	    strncmp(t, "model/", 6) == 0)
		return 1;
	if (strncmp(t, "application/", 12) != 0)
		return 0;
	t += 12;
	for (a = textapp; *a != NULL; a++)
		if (strcmp(t, *a) == 0)
			return 0;
	n = strlen(t);
	return !(n > 4 && (strcmp(t + n - 4, "+xml") == 0 ||
	    (n > 5 && strcmp(t + n - 5, "+json") == 0)));
}

/* A file name parameter p (value v) in the one form: an encoded word
 * (in quotes, as aerc writes it) or raw 8-bit UTF-8 written as RFC
 * 2231's utf-8''%XX (pu takes the new form); 8-bit bytes that are not
 * UTF-8, or a word in a charset that could not be made UTF-8, stay, as
 * residue. */
static const struct nym_param *
fileform(struct msg *m, const char *part, const char *name, size_t nl,
    const struct nym_param *p, const char *v, struct nym_param *pu)
{
	static char utf8[] = "utf-8";
	const unsigned char *c;
	int eight = 0;

	for (c = (const unsigned char *)v; *c != '\0'; c++)
		eight |= *c >= 0x80;
	if (!eight && (p->ext || p->w2047)) {
		/* ASCII needs neither form. */
		leak(m, part, name, nl, "%s in an encoded form, of ASCII "
		    "(written plain)", p->name);
		*pu = *p;
		pu->ext = pu->w2047 = 0;
		pu->charset = NULL;
		return pu;
	}
	/* A word whose charset is no token is written as utf-8 (see
	 * emitparam): taken as that here too, or scrubbing it again would
	 * change it (t/fuzz/regress/scrub/attach-name-word-charset-no-token). */
	if ((p->ext && !legacycs(p->charset)) || !eight ||
	    (p->w2047 && legacycs(p->charset) && ischarset(p->charset)))
		return p;
	if (p->ext || !isutf8((const unsigned char *)v, strlen(v))) {
		residue(m, part, canonidx(name, nl) >= 0 ?
		    canon[canonidx(name, nl)].name : "header", "%s in 8-bit "
		    "bytes that are not UTF-8, kept as written", p->name);
		return p;
	}
	leak(m, part, name, nl, "%s %s (written in the RFC 2231 form)",
	    p->name, p->w2047 ? "as an encoded word" : "in raw 8-bit UTF-8");
	*pu = *p;
	pu->ext = 1;
	pu->w2047 = 0;
	pu->charset = utf8;
	return pu;
}

/* A MIME field: name, type and the parameters ps (values vs), on the
 * field's line if it fits in NYM_FOLD_COL (as captured), else one a
 * line. */
static void
emitmime(struct msg *m, const char *name, size_t nl, const char *type,
    const struct nym_param *const *ps, const char *const *vs, size_t np)
{
	size_t start = m->fbn, k;
	int fold;

	for (fold = 0; fold < 2; fold++) {
		m->fbn = start;
		emit(m, name, nl);
		emit(m, ": ", 2);
		emits(m, type);
		for (k = 0; k < np; k++)
			emitparam(m, ps[k], vs[k], fold);
		if (!m->capture || m->fbn - start <= NYM_FOLD_COL)
			break;
	}
	emit(m, m->eol, m->eollen);
}

/* The file name written, kept for a Content-Description to compare. */
static void
keepfname(struct msg *m, const char *v)
{
	free(m->pp.fname);
	if ((m->pp.fname = strdup(v)) == NULL)
		nomem(m);
}

/* Content-Type or Content-Disposition, in the canonical form: file names
 * without directories, no dates or client parameters, a neutral
 * boundary, charset names in lower case, the parameters in the order of
 * their names, on the field's line if it fits in NYM_FOLD_COL, else one
 * a line.  At the top level the plan (m->pl) may relabel the charset,
 * drop an unused format=flowed, or drop the whole field. */
static void
doctype(struct msg *m, const struct nym_hdr *h, size_t i, const char *part,
    struct content *ct, int isctype)
{
	static char csname[] = "charset", csascii[] = "us-ascii";
	static const struct nym_param ascii = { csname, csascii, NULL, 0, 0 };
	struct nym_mimetype mine = { 0 }, *mt;
	const struct nym_param *ps[NYM_MIME_PARAMS + 1], *tp;
	const char *name = h->buf + h->f[i].off, *vs[NYM_MIME_PARAMS + 1], *tv;
	char nb[NYM_MIME_PARAMS][TOKLEN + 3], *own[NYM_MIME_PARAMS];
	static char utf8[] = "utf-8";
	struct nym_param pu[NYM_MIME_PARAMS];
	size_t nown = 0;
	size_t nl = h->f[i].namelen, k, np = 0, j;
	int top = part == NULL, charset = 0;

	if ((mt = mimefield(m, h, i, &mine, -1)) == NULL) {
		emitraw(m, h, i);
		return;
	}
	if (!writable(mt)) {
		residue(m, part, canonidx(name, nl) >= 0 ?
		    canon[canonidx(name, nl)].name : "header", "parameter "
		    "name that cannot be written back, kept as written");
		nym_mime_free(&mine);
		emitraw(m, h, i);
		return;
	}
	if (isctype)
		COPYS(ct->type, mt->type);
	/* A multipart is no file and is shown as its parts are. */
	if (!isctype && strncmp(ct->type, "multipart/", 10) == 0) {
		leak(m, part, name, nl, "on a multipart (what a reader does "
		    "anyway; dropped)");
		nym_mime_free(&mine);
		return;
	}
	for (k = 0; k < mt->np && np < NYM_MIME_PARAMS; k++) {
		const struct nym_param *p = &mt->p[k];
		const char *v = p->value;
		int pk = paramkind(p->name);

		if (pk == PK_DROP) {
			leak(m, part, name, nl, "parameter %s (%s)", p->name,
			    p->name[0] == 'x' ? "client details" :
			    "file time stamps");
			continue;
		} else if ((pk == PK_FILENAME || pk == PK_NAME) &&
		    basename_of(p->value) != p->value) {
			leak(m, part, name, nl, "%s holds a directory path",
			    p->name);
			v = basename_of(v);
		} else if (isctype && pk == PK_BOUNDARY &&
		    strncmp(mt->type, "multipart/", 10) == 0) {
			if (strlen(p->value) > NYM_BOUNDARY_MAX ||
			    p->value[0] == '\0') {
				fail(m, NYM_EX_DATAERR, 0, "unable to scrub "
				    "message %lu: MIME boundary empty or over "
				    "%d bytes", m->no, NYM_BOUNDARY_MAX);
				freeown(own, nown);
				nym_mime_free(&mine);
				return;
			}
			COPYS(ct->boundary, p->value);
			if (!neutralboundary(p->value)) {
				leak(m, part, name, nl, "boundary made by the "
				    "client");
				nb[np][0] = '=';
				nb[np][1] = '_';
				token(m, "boundary", v, strlen(v), nb[np] + 2);
				v = nb[np];
			}
		} else if (isctype && pk == PK_CHARSET && textless(mt->type)) {
			leak(m, part, name, nl, "charset on a type that is not "
			    "text (dropped)");
			continue;
		} else if (isctype && pk == PK_CHARSET) {
			charset = 1;
			v = charsetname(p->value);
			if (m->tx.on && strcmp(v, m->tx.cs) != 0) {
				if (strcmp(m->tx.cs, "us-ascii") == 0)
					leak(m, part, name, nl, "charset %s for "
					    "ASCII text (written us-ascii, which "
					    "says the same)", v);
				else
					leak(m, part, name, nl, "charset %s, "
					    "the sender's locale (the text "
					    "written as UTF-8)", v);
				v = m->tx.cs;
			}
		} else if (isctype && m->tx.fmt != 0 &&
		    (pk == PK_FORMAT || pk == PK_DELSP) && (m->tx.fmt == 1 ||
		    (p->name[0] == 'd' && strcasecmp(p->value, "yes") != 0))) {
			leak(m, part, name, nl, "%s=%s %s (dropped)", p->name,
			    p->value, m->tx.unflow ? "of a text made fixed" :
			    "that the text does not use");
			continue;
		}
		/* A value in a legacy charset (RFC 2231 or encoded words)
		 * made UTF-8. */
		if ((p->ext || p->w2047) && legacycs(p->charset)) {
			size_t vl = strlen(v);
			char *u = malloc(4 * vl + 1);

			if (u == NULL) {
				nomem(m);
				break;
			}
			if (nym_iconv_utf8(p->charset, v, vl, u, 4 * vl + 1) <
			    0) {
				free(u);
				residue(m, part, canonidx(name, nl) >= 0 ?
				    canon[canonidx(name, nl)].name : "header",
				    "%s in a charset that cannot be made UTF-8, "
				    "kept", p->name);
			} else {
				leak(m, part, name, nl, "%s in a legacy charset, "
				    "the sender's locale (written as UTF-8)",
				    p->name);
				pu[np] = *p;
				pu[np].charset = utf8;
				p = &pu[np];
				v = own[nown++] = u;
			}
		}
		if (m->pp.on && (isctype ? strcmp(p->name, "name") == 0 &&
		    m->pp.adddisp : strcmp(p->name, "filename") == 0)) {
			p = fileform(m, part, name, nl, p, v, &pu[np]);
			keepfname(m, v);
		}
		/* The file name lives in the disposition's filename. */
		if (isctype && m->pp.on && strcmp(p->name, "name") == 0 &&
		    (m->pp.dropname || m->pp.adddisp)) {
			if (m->pp.adddisp && m->pp.npval == NULL) {
				m->pp.np = *p;
				m->pp.npval = strdup(v);
				m->pp.npcs = p->charset != NULL ?
				    strdup(p->charset) : NULL;
				if (m->pp.npval == NULL || (p->charset != NULL &&
				    m->pp.npcs == NULL))
					nomem(m);
			}
			leak(m, part, name, nl, "name=, %s", m->pp.adddisp ?
			    "the file name (written as the disposition's "
			    "filename)" : "beside the disposition's filename "
			    "(dropped)");
			continue;
		}
		ps[np] = p;
		vs[np++] = v;
	}
	/* text/plain's default charset made explicit; a text's charset
	 * as the text rule chose it. */
	if (isctype && !charset && (strcmp(mt->type, "text/plain") == 0 ||
	    m->tx.on || m->tx.deflt)) {
		ps[np] = &ascii;
		vs[np++] = m->tx.on ? m->tx.cs : "us-ascii";
	}
	if (!isctype && top && m->pl.anytext && np == 0 &&
	    strcmp(mt->type, "inline") == 0) {
		leak(m, part, name, nl, "inline on a single-part text message "
		    "(what a reader does anyway; dropped)");
		freeown(own, nown);
		nym_mime_free(&mine);
		return;
	}
	/* A part's Content-Type comes before it (the canonical order). */
	if (!isctype && !top && np == 0 && strcmp(mt->type, "inline") == 0 &&
	    strncmp(ct->type, "text/", 5) == 0) {
		leak(m, part, name, nl, "inline on a text part (what a reader "
		    "does anyway; dropped)");
		freeown(own, nown);
		nym_mime_free(&mine);
		return;
	}
	/* By name; a stable sort, for parameters given twice. */
	for (k = 1; k < np; k++)
		for (j = k; j > 0 && strcmp(ps[j - 1]->name, ps[j]->name) > 0;
		    j--) {
			tp = ps[j];
			ps[j] = ps[j - 1];
			ps[j - 1] = tp;
			tv = vs[j];
			vs[j] = vs[j - 1];
			vs[j - 1] = tv;
		}
	emitmime(m, name, nl, mt->type, ps, vs, np);
	freeown(own, nown);
	nym_mime_free(&mine);
}

static void
docid(struct msg *m, const struct nym_hdr *h, size_t i, const char *part)
{
	const char *name = h->buf + h->f[i].off, *id;
	size_t nl = h->f[i].namelen, idn;
	ssize_t n;

	/* A top-level Content-ID names nothing a reader can refer to. */
	if (part == NULL && inlist(name, nl, &m->s->keep) == -1) {
		leak(m, part, name, nl, "on the message itself, where nothing "
		    "refers to it (dropped)");
		return;
	}
	/* Only a part of a multipart/related, or a message/external-body,
	 * can be referred to by its Content-ID. */
	if (m->pp.on && !m->pp.cidkeep && inlist(name, nl, &m->s->keep) ==
	    -1) {
		leak(m, part, name, nl, "on a part nothing can refer to (not "
		    "in a multipart/related; dropped)");
		return;
	}
	if ((n = value(m, h, i)) <= 0 ||
	    firstid(m->scratch, (size_t)n, &id, &idn) == -1) {
		emitraw(m, h, i);
		return;
	}
	if (neutralid(m, id, idn)) {
		if (n == (ssize_t)idn + 2)
			emitfield(m, name, nl, m->scratch);
		else
			emitraw(m, h, i);
		return;
	}
	leak(m, part, name, nl, "made by the client (host or software "
	    "pattern)");
	emitid(m, name, nl, "content-id", id, idn);
}

/* Does description d, its encoded words decoded as the canonical form
 * writes them (UTF-8, whatever charset they named), read as file name
 * f?  Decided on what is written, so that the next run decides the
 * same (t/fuzz/regress/scrub/attach-description-word-charset-alias). */
static int
samename(const char *d, const char *f)
{
	size_t n = strlen(d), fl = strlen(f), cn;
	char *b, *c;
	const char *cs = NULL;
	ssize_t r;
	int same, legacy, left;

	if (!haswords(d, n))
		return strcmp(d, f) == 0;
	if ((c = nym_rfc2047_canon(d, n, 0, 0, &cn, &legacy, &left)) == NULL)
		return 0;
	if ((b = malloc(cn + 1)) == NULL) {
		free(c);
		return 0;
	}
	r = nym_rfc2047_decode(c, cn, b, cn + 1, &cs);
	same = r >= 0 && (size_t)r == fl && memcmp(b, f, fl) == 0 &&
	    (cs == NULL || !legacycs(cs));
	free(b);
	free(c);
	return same;
}

/* Does text d read as an absolute file path: "/", "~" or "C:\\" first,
 * and a separator before its end? */
static int
ispath(const char *d)
{
	return (d[0] == '/' || d[0] == '~' || (isalpha((unsigned char)d[0]) &&
	    d[1] == ':' && d[2] == '\\')) && basename_of(d) != d;
}

/* s's encoded words decoded, in a new string (the caller frees it), NULL
 * (nomem) if out of memory. */
static char *
decoded(struct msg *m, const char *s)
{
	size_t n = strlen(s);
	char *d;

	if ((d = malloc(n + 1)) == NULL) {
		nomem(m);
		return NULL;
	}
	if (nym_rfc2047_decode(s, n, d, n + 1, NULL) < 0)
		d[0] = '\0';
	return d;
}

/* A description that is an absolute file path keeps only its file name.
 * The path is looked for in the text as a reader reads it, its encoded
 * words decoded (a base64 word may hold a "/"), after the canonical
 * rendering, so that a check of what is written finds none
 * (t/fuzz/regress/scrub/description-path-base64-slash).  A file name
 * that cannot be written canonically, or that reads as a path again once
 * its own encoded-word look-alikes are decoded, drops the field. */
static void
dodesc(struct msg *m, const struct nym_hdr *h, size_t i, const char *part)
{
	const char *name = h->buf + h->f[i].off;
	size_t nl = h->f[i].namelen, len;
	ssize_t n = value(m, h, i);
	char *t, *u, *d, *b, *ds;
	int legacy, left;

	if (n < 0) {
		emitraw(m, h, i);
		return;
	}
	if (n == 0) {
		leak(m, part, name, nl, "empty (dropped)");
		return;
	}
	u = canontext(m, part, name, nl, m->scratch, 0, nl + 2);
	t = u != NULL ? u : m->scratch;
	if ((d = decoded(m, t)) == NULL)
		goto out;
	/* Read as the next run reads it: from its first character that is
	 * not white space (a legacy word that decoded to nothing may leave
	 * the space after it first:
	 * t/fuzz/regress/scrub/description-path-after-empty-word). */
	ds = d + strspn(d, " \t");
	/* Empty once decoded (a word whose base64 stops at once): as an
	 * empty field, which the next run would drop
	 * (t/fuzz/regress/scrub/description-word-empty). */
	if (*t == '\0' || *ds == '\0') {
		leak(m, part, name, nl, "empty (dropped)");
		goto out;
	}
	if (ispath(ds)) {
		leak(m, part, name, nl, "holds a directory path");
		for (b = (char *)basename_of(ds); *b == ' ' || *b == '\t';
		    b++)
			;
		free(u);
		u = nym_rfc2047_canon(b, strlen(b), 0, firstbytes(nl + 2),
		    &len, &legacy, &left);
		free(d);
		d = NULL;
		if (u == NULL) {
			if (left == 0)
				nomem(m);
			return;
		}
		if (len == 0 || (d = decoded(m, u)) == NULL)
			goto out;
		if (ispath(d + strspn(d, " \t")))
			goto out;
		t = u;
	}
	if (m->pp.on && m->pp.fname != NULL && samename(t, m->pp.fname)) {
		leak(m, part, name, nl, "repeats the file name (dropped)");
		goto out;
	}
	emitunstruct(m, name, nl, t);
out:
	free(d);
	free(u);
}

enum { CTE_NONE, CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_BASE64,
	CTE_OTHER };

/* A lower-case Content-Transfer-Encoding value's kind ("": none). */
static int
ctekind(const char *v)
{
	static const char *const k[] = { "", "7bit", "8bit", "binary",
	    "quoted-printable", "base64" };
	int j;

	for (j = 0; j < CTE_OTHER; j++)
		if (strcmp(v, k[j]) == 0)
			return j;
	return CTE_OTHER;
}

/* The canonical spelling of CTE_NONE ("": no field), CTE_QP and
 * CTE_BASE64. */
static const char *
ctename(int kind)
{
	return kind == CTE_QP ? "quoted-printable" : kind == CTE_BASE64 ?
	    "base64" : "";
}

/* Field i's Content-Transfer-Encoding into cte (lower case, "" if its
 * value is written as it is), and its kind. */
static int
ctefield(struct msg *m, const struct nym_hdr *h, size_t i, char *cte,
    size_t cap)
{
	ssize_t n;

	cte[0] = '\0';
	if ((n = value(m, h, i)) >= 0)
		copyn(cte, cap, m->scratch, (size_t)n);
	for (n = 0; cte[n] != '\0'; n++)
		cte[n] = (char)tolower((unsigned char)cte[n]);
	return ctekind(cte);
}

/* Look at the body's text lines for attributions (-c): a text/plain body
 * (or one without Content-Type) that is not encoded. */
static void
scanbegin(struct msg *m, const struct content *ct, const char *part)
{
	int k = ctekind(ct->cte);

	m->paran = 0;
	m->scanpart = part;
	m->scan = m->s->report != NULL && (ct->type[0] == '\0' ||
	    strcmp(ct->type, "text/plain") == 0) && (k != CTE_QP ||
	    m->tx.recode) && k != CTE_BASE64 && k != CTE_OTHER;
}

/* Is the part whose header is h an attachment (Content-Disposition)? */
static int
isattachment(struct msg *m, const struct nym_hdr *h)
{
	size_t i;

	for (i = 0; i < h->nf; i++)
		if (nym_hdr_is(h, i, "content-disposition") &&
		    value(m, h, i) >= 10 &&
		    strncasecmp(m->scratch, "attachment", 10) == 0)
			return 1;
	return 0;
}

/* -a: watch the first text/plain part that is no attachment, whose
 * header is h, for its reply attribution (awline). */
static void
awbegin(struct msg *m, const struct content *ct, const char *part,
    const struct nym_hdr *h)
{
	struct awatch *a = &m->aw;
	int k = ctekind(ct->cte);

	if (!m->s->attrib || a->done || (ct->type[0] != '\0' &&
	    strcmp(ct->type, "text/plain") != 0) || isattachment(m, h))
		return;
	a->done = 1;
	if (k == CTE_BASE64 || k == CTE_OTHER) {
		residue(m, part, "body", "%s text: a reply attribution in it "
		    "is not rewritten", k == CTE_BASE64 ? "base64" :
		    "encoded");
		return;
	}
	memset(a, 0, offsetof(struct awatch, hold));
	a->done = a->on = 1;
	a->part = part;
	/* A body whose Content-Transfer-Encoding goes reads the same
	 * without it: its lines are what they say. */
	a->qp = k == CTE_QP && !(part == NULL && m->pl.dropcte);
}

/* MIME-Version: 1.0, without a client's comment. */
static void
domimever(struct msg *m, const struct nym_hdr *h, size_t i)
{
	const char *name = h->buf + h->f[i].off;
	size_t nl = h->f[i].namelen;
	ssize_t n = value(m, h, i);

	if (n < 3 || strncmp(m->scratch, "1.0", 3) != 0 || (n > 3 &&
	    m->scratch[3] != ' ' && m->scratch[3] != '\t' &&
	    m->scratch[3] != '(')) {
		emitraw(m, h, i);
		return;
	}
	if (n > 3)
		leak(m, NULL, name, nl, "comment (client details)");
	emitfield(m, name, nl, "1.0");
}

/* Handle a content field; 0 if field i is not one. */
static int
docontent(struct msg *m, const struct nym_hdr *h, size_t i,
    const char *part, struct content *ct)
{
	if (nym_hdr_is(h, i, "content-type"))
		doctype(m, h, i, part, ct, 1);
	else if (nym_hdr_is(h, i, "content-disposition"))
		doctype(m, h, i, part, ct, 0);
	else if (nym_hdr_is(h, i, "content-id"))
		docid(m, h, i, part);
	else if (nym_hdr_is(h, i, "content-description"))
		dodesc(m, h, i, part);
	else if (nym_hdr_is(h, i, "content-transfer-encoding")) {
		if (part != NULL && m->lone.on && (ssize_t)i != m->lone.keep) {
			char v[sizeof ct->cte];

			leak(m, part, h->buf + h->f[i].off, h->f[i].namelen,
			    "%s, the default (dropped)", ctefield(m, h, i, v,
			    sizeof v) == CTE_NONE ? "empty" : "7bit");
			return 1;
		}
		(void)ctefield(m, h, i, ct->cte, sizeof ct->cte);
		if (m->tx.on) {
			if (m->tx.cte == CTE_NONE)
				leak(m, part, h->buf + h->f[i].off,
				    h->f[i].namelen, "%s, %s (dropped)",
				    ct->cte, part == NULL ? "where the body "
				    "reads the same without it" :
				    ctekind(ct->cte) == CTE_7BIT ? "the "
				    "default" : "where the text is 7-bit");
			else {
				if (ctekind(ct->cte) != m->tx.cte)
					leak(m, part, h->buf + h->f[i].off,
					    h->f[i].namelen, "%s, the client's "
					    "choice for this text (written %s)",
					    ct->cte, ctename(m->tx.cte));
				emitfield(m, h->buf + h->f[i].off,
				    h->f[i].namelen, ctename(m->tx.cte));
			}
			COPYS(ct->cte, ctename(m->tx.cte));
		} else if (part != NULL && m->pp.b64) {
			leak(m, part, h->buf + h->f[i].off, h->f[i].namelen,
			    "%s, the client's choice for a file (written "
			    "base64)", ct->cte);
			emitfield(m, h->buf + h->f[i].off, h->f[i].namelen,
			    "base64");
			COPYS(ct->cte, "base64");
		} else if (part == NULL && m->pl.dropcte)
			leak(m, part, h->buf + h->f[i].off, h->f[i].namelen,
			    "%s, where the body reads the same without it "
			    "(dropped)", ct->cte);
		else if (part != NULL && (ctekind(ct->cte) == CTE_7BIT ||
		    ctekind(ct->cte) == CTE_NONE))
			/* Empty, it means 7bit, and the next run's text rule
			 * drops it (t/fuzz/regress/scrub/cte-empty-format-
			 * 8bit-attrib). */
			leak(m, part, h->buf + h->f[i].off, h->f[i].namelen,
			    "%s, the default (dropped)", ct->cte[0] != '\0' ?
			    "7bit" : "empty");
		else if (ctekind(ct->cte) != CTE_OTHER &&
		    ctekind(ct->cte) != CTE_NONE)
			emitfield(m, h->buf + h->f[i].off, h->f[i].namelen,
			    ct->cte);
		else
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

/* Letters, digits, '-' and dots between labels: what generated IDs take
 * as their right side.  An address's domain may hold more (RFC 5322
 * atext: ' = / ...), which a reader of cid: references stops at
 * (t/fuzz/regress/scrub/domain-with-quote). */
static int
ishostname(const char *d)
{
	const char *p;

	if (*d == '\0' || *d == '.')
		return 0;
	for (p = d; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' ||
		    (*p == '.' && p[1] != '.' && p[1] != '\0')))
			return 0;
	return 1;
}

static void
setdomain(struct msg *m, const struct nym_hdr *h)
{
	struct nym_addrlist al = { 0 };
	const char *d;
	char dom[sizeof m->domain];
	size_t dn;
	ssize_t i, n;

	COPYS(m->domain, m->s->domain != NULL ? m->s->domain : "localhost");
	if (m->s->domain != NULL || (i = nym_hdr_find(h, "from", 0)) < 0)
		return;
	/* A simple list: its first domain as read, lower-cased. */
	if (simpleaddrs(m, h, (size_t)i, 0, &d, &dn)) {
		if (dn < sizeof dom) {
			for (size_t k = 0; k < dn; k++)
				dom[k] = d[k] >= 'A' && d[k] <= 'Z' ?
				    (char)(d[k] - 'A' + 'a') : d[k];
			dom[dn] = '\0';
			if (ishostname(dom))
				memcpy(m->domain, dom, dn + 1);
		}
		return;
	}
	if ((n = value(m, h, (size_t)i)) < 0 ||
	    nym_addr_parse(m->scratch, (size_t)n, &al) == -1)
		return;
	if (al.n > 0 && al.a[0].domain != NULL &&
	    ishostname(al.a[0].domain) &&
	    strlen(al.a[0].domain) < sizeof m->domain)
		COPYS(m->domain, al.a[0].domain);
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
	    (n = value(m, h, (size_t)i)) <= 0 ||
	    firstid(m->scratch, (size_t)n, &id, &idn) == -1 ||
	    idn >= sizeof m->origid || neutralid(m, id, idn))
		return;
	memcpy(m->origid, id, idn);
	m->origid[idn] = '\0';
	m->origleak = 1;
}

static int whichlevel(const struct msg *m, const char *l, size_t n,
    int *close);
static int isempty(const char *l, size_t n);
static int readfail(struct msg *m);

/* ---- text parts: one encoding and charset label (issue 15) ---- */

/* Is p[0, n) valid UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF)? */
static int
isutf8(const unsigned char *p, size_t n)
{
	size_t i = 0, k, j;
	unsigned c, min;

	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			/* ASCII: eight bytes at a time. */
			for (i++; i + 8 <= n; i += 8) {
				uint64_t w;

				memcpy(&w, p + i, 8);
				if ((w & 0x8080808080808080ULL) != 0)
					break;
			}
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			min = 0x80;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			min = 0x800;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			min = 0x10000;
			c &= 0x07;
		} else
			return 0;
		if (n - i <= k)
			return 0;
		for (j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Where the body that starts at the input position ends, within the
 * input buffer (NYM_SCRUB_LOOK): at EOF, in an mbox at a From_ line
 * after an empty line, and in a part at a delimiter of an open level.
 * 1 and its length in *rawn (*delim: a delimiter or From_ line follows),
 * or 0 if the end is not in sight. */
static int
bodyextent(struct msg *m, size_t *rawn, int *delim)
{
	size_t off = 0, have, len;
	int prevempty = m->prevempty, close;
	const char *b, *p, *nl;

	for (;;) {
		b = m->in->buf + m->in->pos;
		have = m->in->len - m->in->pos;
		while (off < have) {
			p = b + off;
			nl = nym_nl(p, have - off);
			if (nl == NULL && !m->in->eof)
				break;		/* a line the buffer cuts */
			len = nl != NULL ? (size_t)(nl + 1 - p) : have - off;
			if ((m->depth > 0 && whichlevel(m, p, len, &close) !=
			    -1) || (m->mbox && prevempty && len >= 5 &&
			    memcmp(p, "From ", 5) == 0)) {
				*rawn = off;
				*delim = 1;
				return 1;
			}
			prevempty = isempty(p, len);
			off += len;
		}
		if (off == have && m->in->eof) {
			*rawn = off;
			*delim = 0;
			return 1;
		}
		if (m->failed || have >= NYM_SCRUB_LOOK || have >= m->in->cap)
			return 0;
		if (nym_in_fill(m->in, have + 1) == -1) {
			readfail(m);
			return 0;
		}
		if (m->in->len - m->in->pos == have && !m->in->eof)
			return 0;
	}
}

/* Might the body ahead hold a line that starts with "From " (which the
 * text rule writes quoted-printable, as =46rom)?  Looked for as
 * bodyextent looks, within NYM_SCRUB_LOOK bytes of input, so that the
 * answer depends on the bytes, not on how they were read: 0 if there is
 * none before the end of the input, of that window or of the message (an
 * mbox's From_ line after an empty line), 1 if there is one (maybe past
 * the body's end: the text rule decides).  memchr for 'F', not a walk
 * over lines: the 7bit fast path stays fast. */
static int
fromahead(struct msg *m)
{
	const char *b, *p, *d, *nl;
	size_t have, off = 0, doff = 0, h;
	int close, part = 0;

	for (;;) {
		b = m->in->buf + m->in->pos;
		have = m->in->len - m->in->pos;
		if (have > NYM_SCRUB_LOOK)
			have = NYM_SCRUB_LOOK;
		/* In a multipart, only up to the part's end: the parts after
		 * it (an attachment's base64 is full of F) are not its text.
		 * A line that only looks like a delimiter ("-- ") does not
		 * end the search. */
		while (m->depth > 0 && !part && doff < have && (d =
		    nym_nl(b + doff, have - doff)) != NULL) {
			h = (size_t)(d - b) + 1;
			/* The line's start, or the whole of a line that may
			 * be a delimiter, not here yet: looked at again
			 * (t/fuzz/regress/scrub/delimiter-read-in-pieces). */
			if (have - h < 2)
				break;
			if (b[h] != '-' || b[h + 1] != '-') {
				doff = h;
				continue;
			}
			if ((nl = nym_nl(b + h, have - h)) == NULL)
				break;
			doff = h;
			if (whichlevel(m, b + h, (size_t)(nl + 1 - (b + h)),
			    &close) != -1) {
				have = h;
				part = 1;
			}
		}
		while (off < have && (p = memchr(b + off, 'F', have - off)) !=
		    NULL) {
			h = (size_t)(p - b);
			off = h + 1;
			if ((h > 0 && b[h - 1] != '\n') || have - h < 5)
				continue;
			if (memcmp(p, "From ", 5) != 0)
				continue;
			/* After an empty line in an mbox: the next message. */
			if (m->mbox && (h == 0 ? m->prevempty : h == 1 ||
			    b[h - 2] == '\n' || (b[h - 2] == '\r' && (h == 2 ||
			    b[h - 3] == '\n'))))
				return 0;
			return 1;
		}
		/* A "From" cut by the window's end is looked at again. */
		off = have >= 4 ? have - 4 : 0;
		if (part || m->in->eof || m->failed || have >= NYM_SCRUB_LOOK ||
		    m->in->len - m->in->pos >= m->in->cap)
			return 0;
		if (nym_in_fill(m->in, m->in->len - m->in->pos + 1) == -1)
			return 1;	/* the text rule says why */
		if (m->in->len - m->in->pos == have && !m->in->eof)
			return 0;
	}
}

/* Make room for n more bytes in m->tb. */
static int
tbroom(struct msg *m, size_t n)
{
	char *g;
	size_t cap;

	if (n <= m->tbcap - m->tbn)
		return 0;
	for (cap = m->tbcap == 0 ? 4096 : m->tbcap; cap - m->tbn < n;)
		cap *= 2;
	if ((g = realloc(m->tb, cap)) == NULL) {
		nomem(m);
		return -1;
	}
	m->tb = g;
	m->tbcap = cap;
	return 0;
}

static void
tbput(struct msg *m, const char *p, size_t n)
{
	if (n == 0 || tbroom(m, n) == -1)
		return;
	memcpy(m->tb + m->tbn, p, n);
	m->tbn += n;
}

/* What a decoded text holds. */
struct textstat {
	int nul, barecr, high;	/* NUL, CR not before LF, 8-bit bytes */
	int crlf, lf;		/* lines that end in CRLF, in a bare LF */
	int uses;		/* format=flowed: a line that ends in a space
				   (but "-- "), or starts with one or '>' */
	int from;		/* a line that starts with "From " */
	size_t maxlen;		/* the longest line, without its end */
};

static void
textscan(const unsigned char *d, size_t dn, struct textstat *ts)
{
	const char *p, *e, *nl;
	size_t len, i;

	memset(ts, 0, sizeof *ts);
	for (p = (const char *)d, e = p + dn; p < e; p = nl + 1) {
		if ((nl = nym_nl(p, (size_t)(e - p))) == NULL)
			nl = e;
		len = (size_t)(nl - p);
		if (nl < e) {
			if (len > 0 && p[len - 1] == '\r') {
				ts->crlf = 1;
				len--;
			} else
				ts->lf = 1;
		}
		if (len > ts->maxlen)
			ts->maxlen = len;
		if (len >= 5 && memcmp(p, "From ", 5) == 0)
			ts->from = 1;
		if (len > 0 && ((p[len - 1] == ' ' && !(len == 3 &&
		    memcmp(p, "-- ", 3) == 0)) || p[0] == ' ' || p[0] == '>'))
			ts->uses = 1;
		/* Eight bytes at a time while none is NUL, CR or 8-bit. */
		for (i = 0; i + 8 <= len; i += 8) {
			uint64_t w, o = 0x0101010101010101ULL;

			memcpy(&w, p + i, 8);
			if (((w | ((w - o) & ~w) | (((w ^ 0x0d * o) - o) &
			    ~(w ^ 0x0d * o))) & 0x80 * o) != 0)
				break;
		}
		for (; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == '\0')
				ts->nul = 1;
			else if (c == '\r')
				ts->barecr = 1;
			else if (c > 127)
				ts->high = 1;
		}
		if (nl == e)
			break;
	}
}

/* The canonical labels of a text body (scrub-headers(1), "Text parts"),
 * in m->tx, with the body re-encoded into m->tb where they change it.
 * kind and cs are its Content-Transfer-Encoding and charset as written
 * (cs "" if none, else lower case), format and delsp its parameters
 * (NULL if absent).  The rule, from the decoded text alone, once made
 * UTF-8 (a legacy charset's with iconv):
 *   - US-ASCII text (no NUL, CR only before LF, lines of at most 998
 *     bytes, the message's line ends) in a charset that reads ASCII
 *     bytes as ASCII: 7bit (no field), charset=us-ascii;
 *   - other text that is UTF-8, or that iconv makes UTF-8 from a legacy
 *     charset: quoted-printable, charset=utf-8 (not 8bit: the deliverers
 *     send no BODY=8BITMIME, and a server that does not offer 8BITMIME
 *     must not be sent 8-bit bytes);
 *   - text whose line ends are not the message's (a CRLF in an LF
 *     message, after decoding): base64, which alone keeps those bytes.
 * text/plain (plain) labelled format=flowed is unflowed first (RFC 3676,
 * nym_unflow), and written without format and delsp: one line a
 * paragraph, which a flowed and a plain reader both show so.
 * A body that does not end within NYM_SCRUB_LOOK bytes, does not
 * decode, or is in a charset it cannot be sure of keeps its labels and
 * bytes (residue).  Labelled 7bit (or unlabelled) US-ASCII without
 * format parameters, it is taken at its word, unread: that is the
 * canonical form already, and a long body streams through.  NULL, or
 * why the labels stay as written (then m->tx.on is 0). */
static const char *
textrule(struct msg *m, int kind, const char *cs, const char *format,
    const char *delsp, const char *part, int mustlook, int plain, int asis)
{
	struct text *tx = &m->tx;
	const unsigned char *d;
	struct textstat ts;
	const char *raw, *stays = NULL;
	size_t rawn, dn, i, strip = 0;
	int delim, clean, flowed, aw = m->aw.try;
	char *u = NULL, *dec = NULL, *rw = NULL, *uf = NULL;

	memset(tx, 0, sizeof *tx);
	m->tbn = 0;
	m->aw.try = m->aw.ruled = 0;
	flowed = format != NULL && strcasecmp(format, "flowed") == 0;
	/* The fast path: taken at its word, unless a line may start with
	 * "From ", which the rule writes as =46rom (fromahead). */
	if (!mustlook && (kind == CTE_NONE || kind == CTE_7BIT) &&
	    (*cs == '\0' || strcmp(cs, "us-ascii") == 0) && format == NULL &&
	    delsp == NULL) {
		if (!fromahead(m)) {
			tx->on = 1;
			COPYS(tx->cs, "us-ascii");
			return NULL;	/* -a: awbegin watches its lines */
		}
		mustlook = 1;
	}
	/* -a: the text is rewritten here, or left as it is (awleft); but
	 * one that stays as written and is labelled so that the next run
	 * takes it at its word (7-bit, US-ASCII, not flowed, and no format
	 * or delsp parameter left in a Content-Type kept as written: asis)
	 * is watched line by line, as the next run would watch it
	 * (t/fuzz/regress/scrub/attrib-format-kept-8bit). */
	if (aw && (mustlook || (kind != CTE_NONE && kind != CTE_7BIT) ||
	    (*cs != '\0' && strcmp(cs, "us-ascii") != 0) || flowed ||
	    (asis && (format != NULL || delsp != NULL))))
		m->aw.done = m->aw.ruled = 1;
	/* Flowed text is made fixed only where its format label goes: kept,
	 * the next run would unflow it again
	 * (t/fuzz/regress/scrub/flowed-type-kept-as-written). */
	if (kind == CTE_OTHER)
		stays = "an unknown encoding";
	else if (flowed && plain && asis)
		stays = "flowed text in a Content-Type kept as written";
	else if (!bodyextent(m, &rawn, &delim))
		stays = "a body too long to look at first";
	if (stays != NULL)
		return stays;
	raw = m->in->buf + m->in->pos;
	/* A part's last line end belongs to the delimiter after it; an
	 * mbox message's last empty line is the separator. */
	if (part != NULL && delim && rawn > 0 && raw[rawn - 1] == '\n')
		strip = rawn > 1 && raw[rawn - 2] == '\r' ? 2 : 1;
	else if (part == NULL && m->mbox && rawn > 0 && raw[rawn - 1] ==
	    '\n') {
		/* An empty last line: the separator, at EOF too. */
		strip = rawn > 1 && raw[rawn - 2] == '\r' ? 2 : 1;
		if (!(rawn == strip || raw[rawn - strip - 1] == '\n'))
			strip = 0;
	}
	rawn -= strip;
	if (kind == CTE_QP || kind == CTE_BASE64) {
		if ((dec = malloc(rawn + 1)) == NULL) {
			nomem(m);
			return "no memory";
		}
		if (kind == CTE_QP)
			dn = nym_unqp(raw, rawn, dec);
		else {
			ssize_t r = nym_unbase64(raw, rawn, (unsigned char *)dec,
			    rawn, "+/");

			if (r < 0) {
				free(dec);
				return "a body that does not decode";
			}
			dn = (size_t)r;
		}
		d = (const unsigned char *)dec;
	} else {
		d = (const unsigned char *)raw;
		dn = rawn;
	}
	textscan(d, dn, &ts);
	/* The text in UTF-8: as it is if it is ASCII in a charset that
	 * writes ASCII so, or valid UTF-8 labelled so; else from iconv. */
	if ((!ts.high && (*cs == '\0' || asciisuperset(cs))) ||
	    (strcmp(cs, "utf-8") == 0 && isutf8(d, dn)))
		;
	else if (*cs != '\0' && legacycs(cs) && !ts.nul) {
		size_t cap = 4 * dn + 1;
		ssize_t un;

		if ((u = malloc(cap)) == NULL) {
			nomem(m);
			free(dec);
			return "no memory";
		}
		if ((un = nym_iconv_utf8(cs, (const char *)d, dn, u, cap)) <
		    0 || (size_t)un != strlen(u)) {
			free(u);
			free(dec);
			return "a charset whose text cannot be made UTF-8";
		}
		d = (const unsigned char *)u;
		dn = (size_t)un;
		textscan(d, dn, &ts);
	} else {
		free(dec);
		return "8-bit text not valid in its charset";
	}
	/* format=flowed text/plain made fixed, before -a reads it (an
	 * attribution line may be flowed over two). */
	if (flowed && plain) {
		if ((uf = malloc(dn + 1)) == NULL) {
			nomem(m);
			free(u);
			free(dec);
			return "no memory";
		}
		i = nym_unflow((const char *)d, dn, uf, delsp != NULL &&
		    strcasecmp(delsp, "yes") == 0);
		tx->unflow = i != dn || memcmp(uf, d, dn) != 0;
		d = (const unsigned char *)uf;
		dn = i;
		if (tx->unflow)
			textscan(d, dn, &ts);
	}
	/* -a: the attribution rewritten in the text, before its labels are
	 * chosen from it. */
	if (aw && (rw = awtext(m, part, (const char *)d, dn, &i)) != NULL) {
		tx->attrib = 1;
		d = (const unsigned char *)rw;
		dn = i;
		textscan(d, dn, &ts);
	}
	/* Line ends as the message writes them: nym_qp writes them so. */
	clean = !(m->eollen == 2 ? ts.lf : ts.crlf);
	COPYS(tx->cs, ts.high ? "utf-8" : "us-ascii");
	/* In an mbox, a text without a last line end that is written anew
	 * ends in a soft break, not in the separator.  A line that starts
	 * with "From " goes quoted-printable, as =46rom: written as it is,
	 * it would start a message in an mbox. */
	if (!ts.high && !ts.nul && !ts.barecr && ts.maxlen <= 998 && clean &&
	    !ts.from &&
	    !(part == NULL && m->mbox && dn > 0 && d[dn - 1] != '\n' &&
	    (kind == CTE_QP || kind == CTE_BASE64 || u != NULL)))
		tx->cte = CTE_NONE;
	else
		tx->cte = clean ? CTE_QP : CTE_BASE64;
	tx->on = 1;
	/* format=flowed: text/plain is fixed now, and format and delsp
	 * go; another text type keeps it where the text uses it; DelSp=yes
	 * with it, which could only go if the text lost the space at each
	 * soft break: the decoded text would change. */
	if (flowed && ts.uses && !plain) {
		tx->fmt = 2;
		if (delsp != NULL && strcasecmp(delsp, "yes") == 0)
			residue(m, part, "Content-Type", "delsp=yes kept (the "
			    "flowed text deletes the spaces it breaks at)");
	} else if (format != NULL || delsp != NULL)
		tx->fmt = 1;
	if (flowed && ts.uses && !plain)
		residue(m, part, "Content-Type", "format=flowed kept (the text "
		    "uses it)");
	/* The body as it will be written, with the line end taken off
	 * above (the delimiter's or the separator's) put back. */
	if (tx->cte == CTE_NONE) {
		if (kind == CTE_QP || kind == CTE_BASE64 || u != NULL ||
		    tx->attrib || tx->unflow) {
			tx->recode = 1;
			tbput(m, (const char *)d, dn);
		}
	} else if (tx->cte == CTE_QP) {
		/* At most 3 bytes a byte, and 3 for each soft break after
		 * 73 or more: one pass, no counting first. */
		tx->recode = 1;
		if (tbroom(m, 4 * dn + 16) == 0) {
			m->tbn = nym_qp((const char *)d, dn, m->tb, m->eol);
			/* Ended by a soft break, to end in a line end. */
			if (part == NULL && m->tbn > 0 &&
			    m->tb[m->tbn - 1] != '\n') {
				tbput(m, "=", 1);
				tbput(m, m->eol, m->eollen);
			}
		}
	} else {
		size_t bn = 4 * ((dn + 2) / 3) + 1, w;
		char *b = malloc(bn);

		tx->recode = 1;
		if (b == NULL)
			nomem(m);
		else {
			bn = nym_base64(d, dn, b, "+/");
			for (i = 0; i < bn; i += w) {
				w = bn - i < 76 ? bn - i : 76;
				tbput(m, b + i, w);
				if (i + w < bn || part == NULL)
					tbput(m, m->eol, m->eollen);
			}
			free(b);
		}
	}
	if (tx->recode && strip > 0)
		tbput(m, m->eol, m->eollen);
	tx->rawlen = rawn + strip;
	/* Written as read: nothing to re-encode. */
	if (tx->recode && !m->failed && m->tbn == tx->rawlen &&
	    (m->tbn == 0 || memcmp(m->tb, raw, m->tbn) == 0))
		tx->recode = 0;
	/* The labels change, or the body is encoded anew. */
	tx->enc = tx->cte != CTE_NONE || kind == CTE_QP || kind == CTE_BASE64 ||
	    u != NULL;
	free(rw);
	free(uf);
	free(u);
	free(dec);
	return NULL;
}

/* Write the body textrule re-encoded, in place of the bytes read. */
static void
textbody(struct msg *m, const char *part)
{
	const char *r, *e;
	char *d = NULL;
	size_t n, dn;
	int sc;

	if (!m->tx.recode || m->failed)
		return;
	if (m->tx.attrib)
		awleak(m, part);
	if (m->tx.unflow)
		leak(m, part, "body", 4, "format=flowed text (made fixed: a "
		    "line a paragraph, as a flowed reader shows it)");
	if ((!m->tx.attrib && !m->tx.unflow) || m->tx.enc)
		leak(m, part, "body", 4, "the client's encoding of the text "
		    "(written %s)", m->tx.cte == CTE_QP ? "quoted-printable" :
		    m->tx.cte == CTE_BASE64 ? "base64" : "as 7-bit text");
	/* -c: its lines, decoded, go through attrib(), not as emitout
	 * would give them (encoded). */
	sc = m->scan;
	m->scan = 0;
	emit(m, m->tb, m->tbn);
	m->scan = sc;
	if (m->scan && m->tx.cte == CTE_QP && m->tbn > 0 &&
	    (d = malloc(m->tbn)) == NULL)
		nomem(m);
	dn = d != NULL ? nym_unqp(m->tb, m->tbn, d) : m->tbn;
	/* m->tb is NULL for an empty text (NULL + 0 is undefined). */
	r = d != NULL ? d : m->tb;
	for (e = dn > 0 ? r + dn : r; m->scan && !m->failed && r < e;
	    r += n) {
		const char *nl = nym_nl(r, (size_t)(e - r));

		n = nl != NULL ? (size_t)(nl + 1 - r) : (size_t)(e - r);
		attrib(m, r, n);
	}
	free(d);
	r = m->in->buf + m->in->pos;
	if ((n = m->tx.rawlen) > 0)
		m->prevempty = lastempty(r, n);
	nym_in_skip(m->in, n);
	m->tx.recode = 0;
}

/* Rank the fields of a header section (canon[]'s order), chaining each
 * rank's in input order from head[rank] through m->tf[].next, and count
 * the kept ones in has[rank].  At the top level (part NULL) a field the
 * policy drops is ranked too, in a check, to be reported in order (else
 * it is only counted); in a part it is reported here, in input order.
 * 1 if the kept fields were out of the canonical order, 0 if not, -1
 * if memory ran out (m failed). */
static int
rankfields(struct msg *m, const struct nym_hdr *h, const char *part,
    short head[R_MAX], size_t has[R_MAX])
{
	short tail[R_MAX];
	const char *name;
	size_t i, nl;
	int r, last = 0, disorder = 0;

	if (h->nf > m->tfcap) {
		if (nym_reallocarray(&m->tf, h->nf, sizeof *m->tf) == -1) {
			nomem(m);
			return -1;
		}
		m->tfcap = h->nf;
	}
	for (r = 0; r < R_MAX; r++) {
		head[r] = tail[r] = -1;
		has[r] = 0;
	}
	for (i = 0; i < h->nf; i++) {
		struct topf *f = &m->tf[i];

		name = h->buf + h->f[i].off;
		nl = h->f[i].namelen;
		f->idx = (short)canonidx(name, nl);
		f->want = f->idx >= 0 ? m->cwant[part != NULL][f->idx] :
		    (short)wanted(m->s, name, nl, part != NULL);
		if (!f->want && part != NULL)
			leak(m, part, name, nl, "%s", m->s->report != NULL ?
			    why(m->s, name, nl) : "");
		if (!f->want && (part != NULL || m->s->report == NULL)) {
			if (part == NULL)
				m->leaks++;
			continue;
		}
		f->rank = (short)rankof(f->idx);
		f->next = -1;
		if (tail[f->rank] == -1)
			head[f->rank] = (short)i;
		else
			m->tf[tail[f->rank]].next = (short)i;
		tail[f->rank] = (short)i;
		if (!f->want)
			continue;
		has[f->rank]++;
		if (f->rank < last)
			disorder = 1;
		else
			last = f->rank;
	}
	return disorder;
}

/* Can the type at the start of Content-Type value v be text/ as the
 * parser reads it?  Not if it is written plainly as another type
 * ("application/pdf"); an odd spelling ("text /plain", a comment first)
 * is left to the parser, as doctype will write it. */
static int
maybetext(const char *v)
{
	size_t k = 0;

	while (tokenchar((unsigned char)v[k]) && v[k] != '/')
		k++;
	return v[k] != '/' || (k == 4 && strncasecmp(v, "text", 4) == 0);
}

/* format and delsp, where the text rule did not decide: format=fixed
 * (the default) and a delsp without format go. */
static int
fmtoff(const char *format, const char *delsp)
{
	return (format != NULL && strcasecmp(format, "flowed") != 0) ||
	    (format == NULL && delsp != NULL);
}

/* The top level's MIME labels in the canonical form (m->pl, m->tx): a
 * single-part text/plain message's follow the text rule (textrule), a
 * message without any is labelled only if its body is 7-bit text; and,
 * in a check, the residue. */
static void
plan(struct msg *m, const struct nym_hdr *h, const short *head,
    const size_t *has)
{
	struct plan *pl = &m->pl;
	struct nym_mimetype mine = { 0 }, *mt = &mine;
	const struct nym_param *cs, *fmt = NULL, *dsp = NULL;
	char charset[NYM_CHARSET_MAX + 1] = "", cte[64] = "", type[128] = "";
	const char *stays = NULL, *fv, *dv;
	ssize_t mv, ct, te, n;
	int kind, multi, tried = 0, file = 0, hasfn = 0;
	short k;

	memset(pl, 0, sizeof *pl);
	memset(&m->tx, 0, sizeof m->tx);
	m->tbn = 0;
	mv = head[R_MIMEVER];
	ct = head[R_CTYPE];
	te = head[R_CTE];
	pl->hasmv = mv >= 0 && m->mw[0].mv;
	pl->hasct = ct >= 0 && m->mw[0].ct;
	pl->hascte = te >= 0 && m->mw[0].cte;
	/* Given twice, the body is walked by the last: decide nothing. */
	if (has[R_CTYPE] > 1 || has[R_CTE] > 1) {
		residue(m, NULL, has[R_CTYPE] > 1 ? "Content-Type" :
		    "Content-Transfer-Encoding", "given twice: the labels are "
		    "kept as written");
		return;
	}
	if (pl->hasct) {
		if ((n = value(m, h, (size_t)ct)) < 0)
			return;		/* a field written as it is */
		/* Only text has labels to decide: parse no other. */
		if (!maybetext(m->scratch)) {
			copyn(type, sizeof type, m->scratch, strcspn(
			    m->scratch, " \t;("));
			for (n = 0; type[n] != '\0'; n++)
				type[n] = (char)tolower((unsigned char)type[n]);
		} else if ((mt = mimefield(m, h, (size_t)ct, &mine, n)) == NULL)
			return;
		else
			COPYS(type, mt->type);
		if ((cs = nym_mime_param(mt, "charset")) != NULL)
			COPYS(charset, charsetname(cs->value));
		fmt = nym_mime_param(mt, "format");
		dsp = nym_mime_param(mt, "delsp");
		file = nym_mime_param(mt, "name") != NULL;
	}
	fv = fmt != NULL ? fmt->value : NULL;
	dv = dsp != NULL ? dsp->value : NULL;
	multi = type[0] != '\0' && strncmp(type, "multipart/", 10) == 0;
	pl->text = !pl->hasct || strcmp(type, "text/plain") == 0;
	pl->anytext = !pl->hasct || strncmp(type, "text/", 5) == 0;
	if (pl->hascte)
		(void)ctefield(m, h, (size_t)te, cte, sizeof cte);
	/* A file is copied as it is, in a part or as the whole message:
	 * any disposition kept that makes it one, as in a part (parttext;
	 * the others may go, and the next run sees only that one:
	 * t/fuzz/regress/scrub/attrib-disposition-twice). */
	for (k = head[R_CDISP]; k != -1 && m->mw[0].cdisp;
	    k = m->tf[k].next)
		if (m->tf[k].want)
			dispadd(m, h, (size_t)k, &file, &hasfn);
	kind = ctekind(cte);
	if (pl->text && !multi && !file && (pl->hasmv || pl->hasct) &&
	    m->mw[0].ct &&
	    m->mw[0].cte) {
		tried = 1;
		m->aw.try = m->s->attrib && !isattachment(m, h);
		stays = textrule(m, kind, charset, fv, dv, NULL, 0, 1,
		    !writable(mt));
		awleft(m, NULL, stays);
	} else if (pl->text && !multi && !pl->hasmv && !pl->hasct &&
	    (kind == CTE_NONE || kind == CTE_7BIT) &&
	    m->mw[0].mv &&
	    m->mw[0].ct) {
		/* No labels: added for 7-bit text, which needs no charset
		 * guessed, and for valid UTF-8 (as GNU Mailutils writes it),
		 * which the reader's client would otherwise guess, written
		 * quoted-printable by the text rule. */
		m->aw.try = m->s->attrib;
		stays = textrule(m, CTE_NONE, "utf-8", NULL, NULL, NULL, 1, 1,
		    0);
		pl->addmime = stays == NULL && (m->tx.cte == CTE_NONE ||
		    (m->tx.cte == CTE_QP && strcmp(m->tx.cs, "utf-8") == 0));
		if (!pl->addmime) {
			stays = stays != NULL && strncmp(stays, "a body too long", 15)
			    == 0 ? "is too long to look at first" :
			    "is neither 7-bit text nor UTF-8";
			awleft(m, NULL, stays);
			memset(&m->tx, 0, sizeof m->tx);
			m->tbn = 0;
		}
	}
	if (!m->tx.on)
		m->tx.fmt = pl->text && !file && fmtoff(fv, dv);
	pl->dropcte = m->tx.on ? m->tx.cte == CTE_NONE : kind == CTE_7BIT ||
	    kind == CTE_NONE;
	pl->addct = pl->hasmv && !pl->hasct && m->mw[0].ct;
	nym_mime_free(&mine);
	if (m->s->report == NULL || m->failed)
		return;
	/* What stays as the client wrote it.  Without MIME-Version, the
	 * body was looked at (not tried: stays says why it has no labels)
	 * only if the header has no other MIME field; else the fields, or
	 * the policy, are why. */
	if (!pl->hasmv && !pl->addmime) {
		if (!tried && stays != NULL)
			residue(m, NULL, "MIME-Version", "missing, and the body "
			    "%s: left without MIME labels", stays);
		else if (pl->hasct || (kind != CTE_NONE && kind != CTE_7BIT))
			residue(m, NULL, "MIME-Version", "missing beside other "
			    "MIME fields: not added");
		else
			residue(m, NULL, "MIME-Version", "missing: not added, "
			    "as the policy drops %s", m->mw[0].mv ?
			    "Content-Type" : "MIME-Version");
	}
	if (tried && stays != NULL)
		residue(m, NULL, "Content-Type", "text labels and encoding kept "
		    "as written (%s)", stays);
	if (!tried && kind != CTE_NONE && !pl->dropcte)
		residue(m, NULL, "Content-Transfer-Encoding", "%s kept (the "
		    "body is copied, not re-encoded)", kind == CTE_OTHER ?
		    "an unknown encoding" : cte);
}


/* Content-Transfer-Encoding given more than once in part header h: the
 * 7bit and empty ones go as the default (docontent), so if at most one other is
 * left the text and file rules follow it (m->lone), as the next run will
 * (t/fuzz/regress/scrub/text-part-cte-7bit-then-8bit-flowed, file-part-
 * cte-7bit-then-8bit); two others keep the labels as written. */
static void
lonecte(struct msg *m, const struct nym_hdr *h, const size_t *has)
{
	struct lone *l = &m->lone;
	char v[sizeof l->cte];
	ssize_t i;
	int k;

	l->on = 0;
	if (has[R_CTE] < 2)
		return;
	l->keep = -1;
	COPYS(l->cte, "7bit");
	for (i = 0; (i = nym_hdr_find(h, "content-transfer-encoding",
	    (size_t)i)) >= 0; i++)
		if ((k = ctefield(m, h, (size_t)i, v, sizeof v)) != CTE_7BIT &&
		    k != CTE_NONE) {
			if (l->keep != -1)
				return;
			l->keep = i;
			COPYS(l->cte, v);
		}
	l->on = 1;
}

/* A part's text body (text/ but text/html, not an attachment or a named
 * file) follows the text rule; m->tx says how, for any part. */
static void
parttext(struct msg *m, const struct nym_hdr *ph, const char *part,
    const size_t *has)
{
	struct nym_mimetype mine = { 0 }, *mt;
	const struct nym_param *p;
	char charset[NYM_CHARSET_MAX + 1] = "", cte[64] = "";
	char format[16] = "", delsp[16] = "";
	const char *stays;
	ssize_t i, n;
	int text = 0, file = 0, named, plain, hasf, hasd, hasfn = 0, asis;

	memset(&m->tx, 0, sizeof m->tx);
	m->tbn = 0;
	if (has[R_CTYPE] != 1 ||
	    (i = nym_hdr_find(ph, "content-type", 0)) < 0 ||
	    (n = value(m, ph, (size_t)i)) < 0 || !maybetext(m->scratch) ||
	    (mt = mimefield(m, ph, (size_t)i, &mine, n)) == NULL)
		return;
	text = strncmp(mt->type, "text/", 5) == 0 &&
	    strcmp(mt->type, "text/html") != 0;
	plain = strcmp(mt->type, "text/plain") == 0;
	file = nym_mime_param(mt, "name") != NULL;
	if ((p = nym_mime_param(mt, "charset")) != NULL)
		COPYS(charset, charsetname(p->value));
	p = nym_mime_param(mt, "format");
	hasf = p != NULL;
	if (hasf)
		COPYS(format, p->value);
	p = nym_mime_param(mt, "delsp");
	hasd = p != NULL;
	if (hasd)
		COPYS(delsp, p->value);
	asis = !writable(mt);
	nym_mime_free(&mine);
	named = file;
	/* Each disposition: one that makes the part a file, of several,
	 * leaves the labels as written (which one a reader takes is not
	 * known); several that all say inline text say the same, and go as
	 * one would, so the text rule applies now as it will on the next
	 * run (t/fuzz/regress/scrub/text-part-inline-twice). */
	for (i = 0; has[R_CDISP] > 0 &&
	    (i = nym_hdr_find(ph, "content-disposition", (size_t)i)) >= 0;
	    i++)
		dispadd(m, ph, (size_t)i, &file, &hasfn);
	/* name= beside a disposition's filename goes (partplan): the next
	 * run finds the part not named
	 * (t/fuzz/regress/scrub/text-part-name-and-filename-twice). */
	named &= !hasfn;
	/* A field given twice: the labels stay as written, but a missing
	 * charset is written, as the next run writes it once a 7bit of the
	 * two has gone (t/fuzz/regress/scrub/text-part-cte-twice). */
	if ((has[R_CDISP] > 1 && file) || (has[R_CTE] > 1 && !m->lone.on)) {
		m->tx.deflt = text && !named;
		return;
	}
	if (m->lone.on)
		COPYS(cte, m->lone.cte);
	else if ((i = nym_hdr_find(ph, "content-transfer-encoding", 0)) >= 0)
		(void)ctefield(m, ph, (size_t)i, cte, sizeof cte);
	if (!text || file || !m->mw[1].cte) {
		m->tx.fmt = !file && fmtoff(hasf ? format : NULL, hasd ? delsp :
		    NULL);
		return;
	}
	m->aw.try = m->s->attrib && !m->aw.done && plain &&
	    !isattachment(m, ph);
	stays = textrule(m, ctekind(cte), charset, hasf ? format : NULL,
	    hasd ? delsp : NULL, part, 0, plain, asis);
	awleft(m, part, stays);
	/* A missing charset is written even where the rule stops short,
	 * as its fast path would write it once the labels are canonical. */
	m->tx.deflt = 1;
	if (stays != NULL) {
		m->tx.fmt = fmtoff(hasf ? format : NULL, hasd ? delsp : NULL);
		if (!m->failed)
			residue(m, part, "Content-Type", "text labels and "
			    "encoding kept as written (%s)", stays);
	}
}

/* The top-level header in the canonical form: the fields the policy
 * keeps, in canon[]'s order, each rendered canonically. */
static void
scrubtop(struct msg *m, const struct nym_hdr *h, struct content *ct)
{
	char buf[IDCAP + 2], rnd[16];
	const char *name;
	size_t i, nl, has[R_MAX];
	short head[R_MAX], k;
	int r, disorder, crlf;

	/* A From_ line cut by EOF after its CR gets a LF below: its message
	 * is read back as CRLF, so it is written so (t/fuzz/regress/scrub/
	 * mbox-from-line-cut-after-cr). */
	crlf = h->crlf || (h->fromlen > 0 && h->buf[h->fromlen - 1] == '\r');
	m->eol = crlf ? "\r\n" : "\n";
	m->eollen = crlf ? 2 : 1;
	setdomain(m, h);
	setorigid(m, h);
	if ((disorder = rankfields(m, h, NULL, head, has)) == -1)
		return;
	plan(m, h, head, has);
	badbytes(m, h, NULL);
	if (h->fromlen > 0) {
		emitbytes(m, h->buf, h->fromlen);
		/* A From_ line cut by EOF: the fields added after it must
		 * not be glued to it (t/fuzz/regress/scrub). */
		if (h->buf[h->fromlen - 1] == '\r')
			emit(m, "\n", 1);
		else if (h->buf[h->fromlen - 1] != '\n')
			emit(m, m->eol, m->eollen);
	}
	if (disorder)
		leak(m, NULL, "header", 6, "field order of the client "
		    "(written in the canonical order)");
	for (r = 0; r < R_MAX; r++) {
		if (r == R_MIMEVER && !has[r] && m->pl.addmime) {
			leak(m, NULL, "MIME-Version", 12, "missing for %s "
			    "text (added, with its Content-Type)",
			    strcmp(m->tx.cs, "utf-8") == 0 ? "UTF-8" : "ASCII");
			emitfield(m, "MIME-Version", 12, "1.0");
		}
		if (r == R_CTYPE && !has[r] && (m->pl.addmime ||
		    m->pl.addct)) {
			if (m->pl.addct)
				leak(m, NULL, "Content-Type", 12, "missing "
				    "(its default written out)");
			emitfield(m, "Content-Type", 12, m->pl.addmime &&
			    strcmp(m->tx.cs, "utf-8") == 0 ?
			    "text/plain; charset=utf-8" :
			    "text/plain; charset=us-ascii");
			COPYS(ct->type, "text/plain");
		}
		if (r == R_CTE && !has[r] && m->tx.on && m->tx.cte != CTE_NONE) {
			emitfield(m, "Content-Transfer-Encoding", 25,
			    ctename(m->tx.cte));
			COPYS(ct->cte, ctename(m->tx.cte));
		}
		for (k = head[r]; k != -1; k = m->tf[k].next) {
			i = (size_t)k;
			name = h->buf + h->f[i].off;
			nl = h->f[i].namelen;
			if (!m->tf[i].want) {
				leak(m, NULL, name, nl, "%s",
				    m->s->report != NULL ?
				    why(m->s, name, nl) : "");
				continue;
			}
			beginfield(m);
			switch (r) {
			case R_DATE:
				dodate(m, h, i);
				break;
			case R_MSGID:
				domsgid(m, h, i);
				break;
			case R_IRT:
			case R_REFS:
				dorefs(m, h, i);
				break;
			case R_FROM: case R_SENDER: case R_REPLYTO: case R_TO:
			case R_CC: case R_BCC: case R_MFT: case R_MRT:
				doaddr(m, h, i);
				break;
			case R_SUBJECT:
			case R_KEYWORDS:
				dounstruct(m, h, i);
				break;
			case R_MIMEVER:
				domimever(m, h, i);
				break;
			default:
				if (!docontent(m, h, i, NULL, ct))
					emitraw(m, h, i);
			}
			endfield(m, h, i, NULL, m->tf[i].idx);
		}
		if (r == R_DATE && !has[r]) {
			time_t t = m->s->now;

			leak(m, NULL, "Date", 4, "missing: the next server "
			    "would add one in its own time zone");
			if (m->s->round > 0)
				t -= ((t % m->s->round) + m->s->round) %
				    m->s->round;
			nym_date_format(t, buf, sizeof buf);
			emitfield(m, "Date", 4, buf);
		}
		if (r == R_MSGID && !has[r]) {
			leak(m, NULL, "Message-ID", 10, "missing: the next "
			    "server would add one with its host name");
			nym_random(rnd, sizeof rnd);
			buf[0] = '<';
			i = 1 + mapid(m, "message-id-new", rnd, sizeof rnd,
			    buf + 1);
			buf[i++] = '>';
			buf[i] = '\0';
			emitfield(m, "Message-ID", 10, buf);
		}
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
	return m->mbox && m->prevempty && n >= 5 && memcmp(l, "From ", 5) == 0;
}

static int
partstop(const char *l, size_t n, void *arg)
{
	struct msg *m = arg;
	int close;

	return whichlevel(m, l, n, &close) != -1;
}

/* A read failed (errno says why); its failure, as 0 for the caller to
 * return ("no more"). */
static int
readfail(struct msg *m)
{
	int e = errno;

	if (e == E2BIG)
		fail(m, NYM_EX_DATAERR, 0, "unable to scrub message %lu: "
		    "header over the limits (%d bytes a field, %d bytes in "
		    "all)", m->no, NYM_FIELD_MAX, NYM_HDR_MAX);
	else
		fail(m, nym_exitcode(e), e, "unable to read the message");
	return 0;
}

/* Next line of the body, or 0 at the end of this message (EOF or, in an
 * mbox, the next From_ line, which is left unread). */
static int
peekline(struct msg *m, const char **l, size_t *n, int *more)
{
	int r;

	if (m->failed)
		return 0;
	if ((r = nym_in_peekline(m->in, l, n, more)) == -1)
		return readfail(m);
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

/* emitrun on the lines already read, which it takes. */
static void
copyrun(struct msg *m)
{
	const char *p = m->in->buf + m->in->pos;
	size_t n = emitrun(m, p, m->in->len - m->in->pos);

	if (n > 0) {
		m->prevempty = lastempty(p, n);
		nym_in_skip(m->in, n);
	}
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
	emitbytes(m, "--", 2);
	emitbytes(m, m->lv[k].repl, strlen(m->lv[k].repl));
	if (close)
		emitbytes(m, "--", 2);
	emitbytes(m, m->eol, m->eollen);
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

static int israwmultipart(const struct content *ct);

static void
pushlevel(struct msg *m, const struct content *ct)
{
	const char *boundary = ct->boundary;
	struct level *v;

	if (m->depth == NYM_MIME_DEPTH) {
		fail(m, NYM_EX_DATAERR, 0, "unable to scrub message %lu: MIME "
		    "parts nested deeper than %d", m->no, NYM_MIME_DEPTH);
		return;
	}
	v = &m->lv[m->depth++];
	v->olen = strlen(boundary);
	memcpy(v->orig, boundary, v->olen + 1);
	v->raw = israwmultipart(ct);
	v->related = strcmp(ct->type, "multipart/related") == 0 ||
	    (m->depth > 1 && v[-1].related);
	v->parts = 0;
	if (neutralboundary(boundary))
		memcpy(v->repl, boundary, v->olen + 1);
	else {
		v->repl[0] = '=';
		v->repl[1] = '_';
		token(m, "boundary", boundary, v->olen, v->repl + 2);
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
 * if no reference needs renaming (or memory ran out: m failed). */
static char *
rewritecids(struct msg *m, const char *s, size_t n, size_t *outn)
{
	char id[1000], *ip, *big;
	const char *p, *e = s + n, *q, *c, *r;
	char *out, *grown;
	size_t o = 0, cap, idn, chunk;
	int changed = 0;

	if (findcid(s, s, e) == NULL)
		return NULL;
	cap = n + n / 4 + 1024;
	if ((out = malloc(cap)) == NULL) {
		nomem(m);
		return NULL;
	}
	for (p = s; p < e; p = q) {
		c = findcid(s, p, e);
		chunk = (size_t)((c != NULL ? c + 4 : e) - p);
		/* Room for the chunk and one renamed reference. */
		if (o + chunk + IDCAP > cap) {
			cap = (o + chunk + IDCAP) * 2;
			if ((grown = realloc(out, cap)) == NULL) {
				free(out);
				nomem(m);
				return NULL;
			}
			out = grown;
		}
		memcpy(out + o, p, chunk);
		o += chunk;
		if (c == NULL)
			break;
		/* The reference, whole: a longer one than id[] holds is
		 * renamed whole too, or what is left of it would read as
		 * another reference on the next run
		 * (t/fuzz/regress/scrub/html-cid-reference-over-1000). */
		for (q = c + 4; q < e && strchr("\"'()<> \t\r\n", *q) == NULL;
		    q++)
			;
		big = NULL;
		if ((size_t)(q - c - 4) <= sizeof id)
			ip = id;
		else if ((ip = big = malloc((size_t)(q - c - 4))) == NULL) {
			free(out);
			nomem(m);
			return NULL;
		}
		for (r = c + 4, idn = 0; r < q; r++) {
			if (*r == '%' && q - r > 2 &&
			    nym_hexval((unsigned char)r[1]) >= 0 &&
			    nym_hexval((unsigned char)r[2]) >= 0) {
				ip[idn++] = (char)(nym_hexval(
				    (unsigned char)r[1]) << 4 |
				    nym_hexval((unsigned char)r[2]));
				r += 2;
			} else
				ip[idn++] = *r;
		}
		if (idn == 0 || neutralid(m, ip, idn)) {
			memcpy(out + o, c + 4, (size_t)(q - c - 4));
			o += (size_t)(q - c - 4);
		} else {
			changed = 1;
			o += mapid(m, "content-id", ip, idn, out + o);
		}
		free(big);
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
	char *raw = NULL, *dec = NULL, *rw, *enc, *grown;
	const char *l;
	size_t n, len = 0, cap = 0, dn, rn, en;
	int more, close, b64, qp;

	for (;;) {
		if (!peekline(m, &l, &n, &more) ||
		    (!more && whichlevel(m, l, n, &close) != -1))
			break;
		consume(m, l, n);
		if (len + n > NYM_HTML_MAX) {
			fail(m, NYM_EX_DATAERR, 0, "unable to scrub message "
			    "%lu: text/html part over %d bytes", m->no,
			    NYM_HTML_MAX);
			break;
		}
		if (len + n > cap || raw == NULL) {
			cap = cap == 0 ? 65536 : cap;
			while (cap < len + n)
				cap *= 2;
			if ((grown = realloc(raw, cap)) == NULL) {
				nomem(m);
				break;
			}
			raw = grown;
		}
		memcpy(raw + len, l, n);
		len += n;
	}
	b64 = strcmp(ct->cte, "base64") == 0;
	qp = strcmp(ct->cte, "quoted-printable") == 0;
	if (m->failed || (dec = malloc(len + 1)) == NULL) {
		nomem(m);	/* or the failure before it, which stays */
		free(raw);
		return;
	}
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
				nomem(m);
			en = enc == NULL ? 0 : nym_base64((unsigned char *)rw,
			    rn, enc, "+/");
			for (i = 0; i < en; i += w) {
				w = en - i < 76 ? en - i : 76;
				emit(m, enc + i, w);
				emit(m, m->eol, m->eollen);
			}
			free(enc);
		} else if (qp) {
			en = nym_qp(rw, rn, NULL, m->eol);
			if ((enc = malloc(en + 1)) == NULL)
				nomem(m);
			else {
				en = nym_qp(rw, rn, enc, m->eol);
				emit(m, enc, en);
				if (en > 0 && enc[en - 1] != '\n')
					emit(m, m->eol, m->eollen);
				free(enc);
			}
		} else
			emit(m, rw, rn);
		free(rw);
	}
	free(raw);
	free(dec);
}

/* ---- a file part's body written base64 (issue 15) ---- */

/* Encode the input held in whole lines of 57 bytes, and with last the
 * rest too, into m->be.ob; written out as it fills, and at last. */
static void
beflush(struct msg *m, int last)
{
	struct benc *b = &m->be;
	size_t i = 0, k;

	while (i < b->nib && (b->nib - i >= 57 || last)) {
		k = b->nib - i < 57 ? b->nib - i : 57;
		b->nob += nym_base64(b->ib + i, k, b->ob + b->nob, "+/");
		memcpy(b->ob + b->nob, m->eol, m->eollen);
		b->nob += m->eollen;
		i += k;
		if (b->nob > sizeof b->ob - 80) {
			emitbytes(m, b->ob, b->nob);
			b->nob = 0;
		}
	}
	memmove(b->ib, b->ib + i, b->nib - i);
	b->nib -= i;
	if (last && b->nob > 0) {
		emitbytes(m, b->ob, b->nob);
		b->nob = 0;
	}
}

/* Decoded bytes of the body, into the encoder. */
static void
befeed(struct msg *m, const void *p, size_t n)
{
	struct benc *b = &m->be;
	const unsigned char *c = p;
	size_t k;

	while (n > 0 && !m->failed) {
		k = sizeof b->ib - b->nib < n ? sizeof b->ib - b->nib : n;
		memcpy(b->ib + b->nib, c, k);
		b->nib += k;
		c += k;
		n -= k;
		if (b->nib == sizeof b->ib)
			beflush(m, 0);
	}
}

/* The line end held back is data: a line follows it. */
static void
bepend(struct msg *m)
{
	if (m->be.npend > 0)
		befeed(m, m->be.pend, m->be.npend);
	m->be.npend = 0;
}

static int
hexval(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Quoted-printable text p[0, n) (no line end) decoded: "=XX" its byte,
 * any other '=' kept as it is, as RFC 2045 6.7 advises a reader to (and
 * as readers do); with whole, an escape cut at the end is complete. */
static size_t
qpdecode(struct msg *m, const char *p, size_t n, int whole)
{
	unsigned char out[256];
	size_t i = 0, o = 0;
	int h, l;

	while (i < n) {
		const char *q = memchr(p + i, '=', n - i);
		size_t run = q != NULL ? (size_t)(q - p) - i : n - i;

		if (o > sizeof out - 2 || (run > 0 && o > 0)) {
			befeed(m, out, o);
			o = 0;
		}
		if (run > 0) {		/* the bytes up to the next '=' */
			befeed(m, p + i, run);
			i += run;
			continue;
		}
		if (!whole && n - i < 3)
			break;		/* cut: the next piece has the rest */
		if (n - i >= 3 && (h = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)p[i + 2])) >= 0) {
			out[o++] = (unsigned char)(h << 4 | l);
			i += 3;
			continue;
		}
		if (!m->be.badqp) {
			m->be.badqp = 1;
			leak(m, m->be.part, "body", 4, "a quoted-printable "
			    "escape that is none (decoded as written, as RFC "
			    "2045 advises)");
		}
		out[o++] = (unsigned char)p[i++];
	}
	befeed(m, out, o);
	return i;
}

static void beqpend(struct msg *m);

/* A quoted-printable line (or, with more, a piece of one) of the body. */
static void
beqpline(struct msg *m, const char *l, size_t n, int more)
{
	struct benc *b = &m->be;
	size_t k;

	while (n > 0) {
		k = sizeof b->lb - b->nlb < n ? sizeof b->lb - b->nlb : n;
		memcpy(b->lb + b->nlb, l, k);
		b->nlb += k;
		l += k;
		n -= k;
		if (b->nlb == sizeof b->lb && (n > 0 || more)) {
			/* Too long a line: decode what is held, but a cut
			 * escape. */
			bepend(m);
			k = qpdecode(m, b->lb, b->nlb, 0);
			memmove(b->lb, b->lb + k, b->nlb - k);
			b->nlb -= k;
		}
	}
	if (!more)
		beqpend(m);
}

/* The quoted-printable line held is whole: decode it. */
static void
beqpend(struct msg *m)
{
	struct benc *b = &m->be;
	size_t k, e;

	e = b->nlb;
	k = e > 0 && b->lb[e - 1] == '\n' ? 1 + (e > 1 && b->lb[e - 2] == '\r') :
	    0;
	e -= k;
	/* Trailing white space is the transport's (RFC 2045 6.7 (3)). */
	while (e > 0 && (b->lb[e - 1] == ' ' || b->lb[e - 1] == '\t'))
		e--;
	bepend(m);
	if (e > 0 && b->lb[e - 1] == '=')
		qpdecode(m, b->lb, e - 1, 1);	/* a soft break */
	else {
		qpdecode(m, b->lb, e, 1);
		memcpy(b->pend, b->lb + b->nlb - k, k);
		b->npend = k;
	}
	b->nlb = 0;
}

/* A line (or, with more, a piece of one) of a file part's body. */
static void
beline(struct msg *m, const char *l, size_t n, int more)
{
	size_t k = 0;

	if (m->be.qp) {
		beqpline(m, l, n, more);
		return;
	}
	bepend(m);
	if (!more && n > 0 && l[n - 1] == '\n')
		k = 1 + (n > 1 && l[n - 2] == '\r');
	befeed(m, l, n - k);
	memcpy(m->be.pend, l + n - k, k);
	m->be.npend = k;
}

/* The part ends (a delimiter, or the input): the line end held back is
 * the delimiter's; the rest encoded and written, with a line end. */
static void
beend(struct msg *m)
{
	if (!m->be.on)
		return;
	if (m->be.qp && m->be.nlb > 0)
		beqpend(m);	/* the input ended inside a line */
	m->be.npend = 0;
	beflush(m, 1);
	m->be.on = 0;
}

static void
ppfree(struct msg *m)
{
	free(m->pp.fname);
	free(m->pp.npval);
	free(m->pp.npcs);
	memset(&m->pp, 0, sizeof m->pp);
}

/* The attachment rules' plan for a part's header (m->pp): where its
 * Content-ID can be referred to, and where its file name goes.  A field
 * given twice is written as it is. */
static void
partplan(struct msg *m, const struct nym_hdr *ph, const char *part,
    const size_t *has)
{
	struct nym_mimetype mine = { 0 }, *mt;
	ssize_t i;
	int hasname = 0, hasfn = 0, file = 0, text = 1, leaf = 0;

	ppfree(m);
	m->pp.on = 1;
	m->pp.cidkeep = m->depth > 0 && m->lv[m->depth - 1].related;
	/* Content-Type given twice: which one a reader takes is not
	 * known; the part is left as it is (but its Content-ID, as any). */
	if (has[R_CTYPE] > 1)
		return;
	if (has[R_CTYPE] == 1 &&
	    (i = nym_hdr_find(ph, "content-type", 0)) >= 0 &&
	    (mt = mimefield(m, ph, (size_t)i, &mine, -1)) != NULL) {
		text = strncmp(mt->type, "text/", 5) == 0;
		m->pp.multi = strncmp(mt->type, "multipart/", 10) == 0;
		leaf = !text && !m->pp.multi &&
		    strncmp(mt->type, "message/", 8) != 0;
		m->pp.cidkeep |= strcmp(mt->type, "message/external-body") == 0;
		hasname = nym_mime_param(mt, "name") != NULL;
	}
	nym_mime_free(&mine);
	/* Any disposition with a file name (a second one stays, as the
	 * first, when scrubbed again). */
	for (i = 0; has[R_CDISP] > 0 &&
	    (i = nym_hdr_find(ph, "content-disposition", (size_t)i)) >= 0;
	    i++)
		dispadd(m, ph, (size_t)i, &file, &hasfn);
	/* A file's body is written base64, but one that is already. */
	if (leaf && (has[R_CTE] <= 1 || m->lone.on) &&
	    m->mw[1].cte) {
		int kind = CTE_NONE;
		char cte[64] = "";

		if (m->lone.on)
			kind = ctekind(m->lone.cte);
		else if (has[R_CTE] == 1 &&
		    (i = nym_hdr_find(ph, "content-transfer-encoding", 0)) >= 0)
			kind = ctefield(m, ph, (size_t)i, cte, sizeof cte);
		if (kind != CTE_BASE64 && kind != CTE_OTHER)
			m->pp.b64 = kind == CTE_QP ? 2 : 1;
	}
	m->pp.dropname = hasname && hasfn;
	m->pp.adddisp = hasname && has[R_CDISP] == 0 && leaf;
	if (hasname && has[R_CDISP] == 0 && text)
		residue(m, part, "Content-Type", "name= on a text part without "
		    "Content-Disposition kept (readers differ in showing it "
		    "as text or as a file)");
}

/* Content-Disposition: attachment, with the file name that was name=. */
static void
adddisp(struct msg *m, const char *part)
{
	const struct nym_param *ps[1];
	const char *vs[1];
	struct nym_param pu;
	static char fn[] = "filename";

	m->pp.np.name = fn;
	m->pp.np.value = m->pp.npval;
	m->pp.np.charset = m->pp.npcs;
	ps[0] = &m->pp.np;
	vs[0] = m->pp.npval;
	ps[0] = fileform(m, part, "Content-Disposition", 19, ps[0], vs[0],
	    &pu);
	keepfname(m, vs[0]);
	m->capture = 1;
	m->fbn = 0;
	emitmime(m, "Content-Disposition", 19, "attachment", ps, vs, 1);
	m->capture = 0;
	emit(m, m->fb, m->fbn);
}

/* Read a part's header after a delimiter, scrub it, and set up what
 * follows: a nested multipart, an HTML body, or a body to copy. */
static void
parthead(struct msg *m, struct nym_hdr *ph, const char *part,
    struct content *ct)
{
	size_t i, has[R_MAX];
	short head[R_MAX], k;
	int r, disorder;

	memset(ct, 0, sizeof *ct);
	if (m->failed)
		return;
	memoclear(m);
	if (nym_hdr_read(m->in, ph, 0, partstop, m) == -1) {
		readfail(m);
		return;
	}
	badbytes(m, ph, part);
	/* The body starts after the header's empty line (textrule looks
	 * for a From_ line after one). */
	m->prevempty = ph->sep;
	if ((disorder = rankfields(m, ph, part, head, has)) == -1)
		return;
	if (disorder)
		leak(m, part, "header", 6, "field order of the client "
		    "(written in the canonical order)");
	lonecte(m, ph, has);
	parttext(m, ph, part, has);
	partplan(m, ph, part, has);
	for (r = 0; r < R_MAX; r++) {
		if (r == R_CTE && (!has[r] || (m->lone.on &&
		    m->lone.keep == -1)) && m->tx.on && m->tx.cte != CTE_NONE) {
			emitfield(m, "Content-Transfer-Encoding", 25,
			    ctename(m->tx.cte));
			COPYS(ct->cte, ctename(m->tx.cte));
		}
		if (r == R_CTE && (!has[r] || (m->lone.on &&
		    m->lone.keep == -1)) && m->pp.b64) {
			leak(m, part, "body", 4, "a file without "
			    "Content-Transfer-Encoding (written base64)");
			emitfield(m, "Content-Transfer-Encoding", 25, "base64");
			COPYS(ct->cte, "base64");
		}
		if (r == R_CDISP && !has[r] && m->pp.adddisp &&
		    m->pp.npval != NULL)
			adddisp(m, part);
		for (k = head[r]; k != -1; k = m->tf[k].next) {
			i = (size_t)k;
			beginfield(m);
			if (!docontent(m, ph, i, part, ct))
				emitraw(m, ph, i);
			endfield(m, ph, i, part, m->tf[i].idx);
		}
	}
	if (m->pp.b64) {
		m->be.on = 1;
		m->be.qp = m->pp.b64 == 2;
		m->be.badqp = 0;
		m->be.part = part;
		m->be.npend = m->be.nib = m->be.nob = m->be.nlb = 0;
	}
	ppfree(m);
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

/* A body line (or a piece of one): copied, or a file's re-encoded. */
static void
bodyline(struct msg *m, const char *l, size_t n, int more)
{
	if (m->be.on)
		beline(m, l, n, more);
	else
		emitline(m, l, n);
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
	m->be.on = 0;
	pushlevel(m, top);
	part[0] = '\0';
	for (;;) {
		if (inbody && !m->be.on)
			copyrun(m);
		if (!nextline(m, &l, &n, &more))
			break;
		/* A line piece that is not a line start cannot delimit. */
		k = more ? -1 : whichlevel(m, l, n, &close);
		if (k == -1) {
			if (inbody)
				bodyline(m, l, n, more);
			else if (!isempty(l, n))
				skipped = 1;
			while (more && nextline(m, &l, &n, &more))
				if (inbody)
					bodyline(m, l, n, more);
			continue;
		}
		beend(m);
		awend(m);
		m->scan = 0;
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
		for (int j = 0; j <= k && plen + 1 < sizeof part; j++) {
			if (j)
				part[plen++] = '.';
			plen += putnum(part + plen, sizeof part - plen,
			    (unsigned long)m->lv[j].parts);
		}
		part[plen] = '\0';
		if (m->lv[k].raw) {
			inbody = 1;
			continue;
		}
		parthead(m, &ph, part, &ct);
		m->prevempty = ph.sep;
		inbody = 1;
		if (ismultipart(&ct)) {
			pushlevel(m, &ct);
			inbody = 0;
		} else if (strcmp(ct.type, "text/html") == 0)
			htmlbody(m, &ct, part);
		else {
			scanbegin(m, &ct, part);
			textbody(m, part);
			awbegin(m, &ct, part, &ph);
		}
	}
	beend(m);
	awend(m);
	m->scan = 0;
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

	/* Line by line while -a watches them: lines that a read cuts
	 * would be taken for lines too long to be an attribution. */
	while (m->aw.on && nextline(m, &l, &n, &more))
		emitline(m, l, n);
	if (!m->mbox) {
		/* Not an mbox: the rest of the input is the body. */
		while (!m->failed) {
			if ((r = nym_in_fill(m->in, 1)) == -1) {
				readfail(m);
				return;
			}
			if (r == 0)
				return;
			emit(m, m->in->buf + m->in->pos, (size_t)r);
			nym_in_skip(m->in, (size_t)r);
		}
	}
	for (;;) {
		copyrun(m);
		if (!nextline(m, &l, &n, &more))
			break;
		emitline(m, l, n);
	}
}

static int
knownfield(const struct nym_scrub *s, const char *name, size_t n)
{
	return inlist(name, n, &s->top) != -1 ||
	    inlist(name, n, &s->known) != -1 ||
	    inlist(name, n, &s->reason) != -1;
}

/* After a header that stopped at a stray line: do known header fields
 * follow it before an empty line, within the next NYM_SCRUB_STRAY bytes?
 * No further, whatever the buffer holds: a pipe that brings less at a
 * time would see less. */
static int
fieldsfollow(struct msg *m)
{
	const char *p, *e, *nl;
	size_t name, n;
	int first = 1;

	if (nym_in_fill(m->in, NYM_SCRUB_STRAY) == -1)
		return 0;
	p = m->in->buf + m->in->pos;
	n = m->in->len - m->in->pos;
	e = p + (n < NYM_SCRUB_STRAY ? n : NYM_SCRUB_STRAY);
	for (; p < e; p = nl + 1, first = 0) {
		if ((nl = nym_nl(p, (size_t)(e - p))) == NULL)
			nl = e;
		n = (size_t)(nl - p);
		if (!first && (n == 0 || (n == 1 && *p == '\r')))
			return 0;
		if (!first && (name = nym_hdr_fieldname(p, n)) != 0 &&
		    knownfield(m->s, p, name))
			return 1;
		if (nl == e)
			break;
	}
	return 0;
}

/* Scrub one message; 0, 1 at the end of the input, or -1 (m failed). */
static int
message(struct msg *m, struct nym_hdr *h)
{
	struct content ct = { 0 };

	m->leaks = 0;
	m->aw.done = 0;
	m->nextfrom = 0;
	m->prevempty = 1;
	m->tail[0] = m->tail[1] = m->tail[2] = '\n';
	memoclear(m);
	do {
		if (nym_hdr_read(m->in, h, NYM_HDR_MBOX, NULL, NULL) == -1)
			return readfail(m) - 1;
		/* Empty lines between mbox messages are no message. */
	} while (m->mbox && h->nf == 0 && h->fromlen == 0 && h->sep);
	/* A stray line with header fields after it is a broken fold, not the
	 * start of the body: those fields must be scrubbed too. */
	for (m->folded = 0; h->bad && h->nf > 0 && fieldsfollow(m);
	    m->folded++)
		if (nym_hdr_read(m->in, h, NYM_HDR_FOLD, NULL, NULL) == -1)
			return readfail(m) - 1;
	if (h->nf == 0 && h->fromlen == 0 && !h->sep && !h->bad)
		return 1;
	if (h->nf == 0 && (h->bad || h->sep)) {
		fail(m, NYM_EX_DATAERR, 0, "unable to scrub message %lu: it "
		    "does not start with a header field", m->no);
		return -1;
	}
	scrubtop(m, h, &ct);
	m->prevempty = 1;
	if (ismultipart(&ct))
		multipart(m, &ct);
	else {
		scanbegin(m, &ct, NULL);
		textbody(m, NULL);
		awbegin(m, &ct, NULL, h);
		copybody(m);
	}
	awend(m);
	m->scan = 0;
	if (m->mbox && !endsempty(m)) {
		/* mbox: messages are separated by an empty line. */
		if (m->tail[2] != '\n')
			emit(m, m->eol, m->eollen);
		emit(m, m->eol, m->eollen);
	}
	return m->failed ? -1 : 0;
}

int
nym_scrub_run(struct nym_scrub *s, int infd, int outfd)
{
	struct nym_in in = { 0 };
	struct nym_out out = { 0 };
	struct nym_hdr h = { 0 };
	struct msg *m;
	uint64_t whole = 0;
	int leaks = 0, any = 0, r = 0, e;

	s->code = s->err = 0;
	s->why[0] = '\0';
	if ((m = calloc(1, sizeof *m)) == NULL ||
	    nym_in_open(&in, infd, NYM_SCRUB_INBUF) == -1 ||
	    nym_out_open(&out, outfd, NYM_SCRUB_OUTBUF) == -1) {
		setfail(s, NYM_EX_TEMPFAIL, 0, "unable to allocate memory");
		r = -1;
		goto done;
	}
	in.chunk = s->chunk;
	m->s = s;
	m->mbox = s->mbox;
	m->scratch = s->scratch;
	m->in = &in;
	m->out = &out;
	for (size_t j = 0; j < NCANON; j++)
		for (int p = 0; p < 2; p++)
			m->cwant[p][j] = (signed char)wanted(s, canon[j].name,
			    canon[j].len, p);
	for (int p = 0; p < 2; p++) {
		m->mw[p].mv = (signed char)wanted(s, "mime-version", 12, p);
		m->mw[p].ct = (signed char)wanted(s, "content-type", 12, p);
		m->mw[p].cte = (signed char)wanted(s,
		    "content-transfer-encoding", 25, p);
		m->mw[p].cdisp = (signed char)wanted(s, "content-disposition",
		    19, p);
	}
	for (m->no = 1;; m->no++) {
		if ((r = message(m, &h)) != 0)
			break;
		any = 1;
		leaks += m->leaks;
		if (!m->mbox)
			break;
		/* Not a write(2) a message (through a pipe, 12% of an mbox's
		 * time): the messages that are whole go out once they fill
		 * half the buffer, so that the next has the other half (one
		 * that fails is cut off below before any of it is written, if
		 * it is no longer), and before a read that may wait (nothing
		 * is left in the input buffer). */
		whole = out.total;
		if (out.err != 0 || ((out.len > out.cap / 2 ||
		    in.pos == in.len) && nym_out_flush(&out) == -1))
			break;
	}
	if (r == -1) {
		/* The messages before the one that failed go out whole, and
		 * what is queued of that one does not. */
		nym_out_cut(&out, whole);
		(void)nym_out_flush(&out);
		goto done;
	}
	r = -1;
	if (!any && !m->mbox)
		setfail(s, NYM_EX_DATAERR, 0, "unable to scrub: no message on "
		    "input");
	else if (nym_out_flush(&out) == -1) {
		e = errno;
		setfail(s, nym_exitcode(e), e, "unable to write the message");
	} else
		r = leaks;
done:
	nym_hdr_free(&h);
	nym_in_close(&in);
	nym_out_close(&out);
	if (m != NULL) {
		memoclear(m);
		free(m->fb);
		free(m->tf);
		free(m->tb);
	}
	free(m);
	return r;
}

/* ---- setting the policy up ---- */

int
nym_scrub_init(struct nym_scrub *s)
{
	const char *const *k;
	size_t i;
	int r = 0;

	/* Not the scratch space: its pages stay untouched until used. */
	memset(s, 0, offsetof(struct nym_scrub, scratch));
	for (k = keeptop; r == 0 && *k != NULL; k++)
		r = addpat(s, &s->top, *k);
	for (k = keeppart; r == 0 && *k != NULL; k++)
		r = addpat(s, &s->part, *k);
	for (k = known; r == 0 && *k != NULL; k++)
		r = addpat(s, &s->known, *k);
	for (i = 0; r == 0 && reasons[i].name != NULL; i++)
		r = addpat(s, &s->reason, reasons[i].name);
	if (r != 0)
		nym_scrub_free(s);
	return r;
}

void
nym_scrub_free(struct nym_scrub *s)
{
	freelist(&s->top);
	freelist(&s->part);
	freelist(&s->known);
	freelist(&s->reason);
	freelist(&s->keep);
	freelist(&s->drop);
}

int
nym_scrub_add(struct nym_scrub *s, int which, const char *pattern)
{
	return addpat(s, which == NYM_SCRUB_KEEP ? &s->keep : &s->drop,
	    pattern);
}

int
nym_scrub_addlist(struct nym_scrub *s, int which, const char *list)
{
	char buf[NYM_LINE_MAX], *w, *save = NULL;
	int r = 0;

	if (list == NULL)
		return 0;
	snprintf(buf, sizeof buf, "%s", list);
	for (w = strtok_r(buf, " \t,", &save); r == 0 && w != NULL;
	    w = strtok_r(NULL, " \t,", &save))
		r = nym_scrub_add(s, which, w);
	return r;
}

/* "keep NAME" and "drop NAME" lines; '#' comments. */
int
nym_scrub_policy(struct nym_scrub *s, const char *path)
{
	char line[NYM_LINE_MAX], *p, *w, *save = NULL;
	unsigned lineno = 0;
	int which, r = 0, e;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		e = errno;
		setfail(s, NYM_EX_CONFIG, e, "unable to open policy %s", path);
		return s->code;
	}
	while (r == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			setfail(s, NYM_EX_CONFIG, 0, "unable to read policy "
			    "%s:%u: line too long", path, lineno);
			r = s->code;
			break;
		}
		p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		w = strtok_r(p, " \t\r\n", &save);
		if (w != NULL && strcmp(w, "keep") == 0)
			which = NYM_SCRUB_KEEP;
		else if (w != NULL && strcmp(w, "drop") == 0)
			which = NYM_SCRUB_DROP;
		else {
			setfail(s, NYM_EX_CONFIG, 0, "unable to read policy "
			    "%s:%u: expected keep or drop", path, lineno);
			r = s->code;
			break;
		}
		while (r == 0 && (w = strtok_r(NULL, " \t\r\n,", &save)) !=
		    NULL)
			r = nym_scrub_add(s, which, w);
	}
	if (r == 0 && ferror(f)) {
		e = errno;
		setfail(s, NYM_EX_CONFIG, e, "unable to read policy %s", path);
		r = s->code;
	}
	fclose(f);
	return r;
}
