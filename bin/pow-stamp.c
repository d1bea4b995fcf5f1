/*
 * pow-stamp - mint and check proof-of-work stamps (hashcash v1 and
 * Equihash), with a double-spend database.
 *
 *   pow-stamp -m [-a KIND] [-b BITS | -D DEMAND] [-t SECONDS] RESOURCE...
 *                                          a stamp per resource on stdout
 *   pow-stamp -c [-b BITS | -D DEMAND] [-r RESOURCE] [-d] [-f DB] [STAMP...]
 *                                          exit 0 if a stamp is taken
 *   pow-stamp -M [-a KIND] [-D DEMAND] [-t SECONDS] [RCPT...]
 *                                          a message on stdin, out with a
 *                                          stamp per recipient added
 *   pow-stamp -p [-f DB]                   purge expired stamps
 *
 * Option letters and the verdict codes (0 valid, 1 refused, 2 valid but
 * not fully checked) are hashcash(1)'s, so that a procmail recipe
 * written for it works with this; failures of our own (usage, the
 * database) are the sysexits codes of every nymbox program.  The
 * stamps' logic is in lib/pow.c, the database's in lib/powdb.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/time.h>

#include "base.h"
#include "msg.h"
#include "pow.h"

#define USAGE "usage: pow-stamp -m [-X] [-a algorithm] [-b bits | -D demand] " \
	"[-t seconds]\n" \
	"                 resource...\n" \
	"       pow-stamp -c [-dXy] [-b bits | -D demand] [-r resource] " \
	"[-e period]\n" \
	"                 [-g period] [-f dbfile] [-s size] [stamp...]\n" \
	"       pow-stamp -M [-a algorithm] [-D demand] [-t seconds] " \
	"[recipient...]\n" \
	"       pow-stamp -p [-f dbfile]\n"

/* Verdict exit codes, hashcash's (pow-stamp(1), EXIT STATUS). */
enum { X_VALID = 0, X_REFUSED = 1, X_UNCHECKED = 2, X_UNKNOWN = 4 };

#define DEFBITS		20
#define DEFVALID	(28L * 86400)
#define DEFGRACE	(2L * 86400)

struct opts {
	struct nym_pow_policy pol;
	struct nym_pow_demand dem;
	int usedem, kind, bitsset;
	long secs;
	int usedb, hdrs, yes;
	const char *dbfile;
	uint64_t dbsize;
	int unknown;		/* stamps of kinds this version does not know */
	char dbpath[NYM_MD_PATH];
};

/* A period as hashcash takes it: seconds, or a number with s, m, h, d,
 * M (30 days) or y (365 days). */
static long
period(const char *opt, const char *s, long max)
{
	char num[32];
	size_t n = strlen(s);
	long unit = 1, v;

	if (n > 0 && n < sizeof num) {
		switch (s[n - 1]) {
		case 's': unit = 1; n--; break;
		case 'm': unit = 60; n--; break;
		case 'h': unit = 3600; n--; break;
		case 'd': unit = 86400; n--; break;
		case 'M': unit = 30L * 86400; n--; break;
		case 'y': case 'Y': unit = 365L * 86400; n--; break;
		}
	}
	if (n == 0 || n >= sizeof num)
		goto bad;
	memcpy(num, s, n);
	num[n] = '\0';
	if (nym_tolong(num, 0, max / unit, &v) == -1)
		goto bad;
	return v * unit;
bad:
	nym_die(NYM_EX_USAGE, "unable to use %s %s: expected seconds, or a "
	    "number with s, m, h, d, M or y, up to %ld days", opt, s,
	    max / 86400);
}

/* The stamp, printable and cut short, for a message. */
static const char *
shown(const char *s, size_t n, char *buf, size_t cap)
{
	size_t i, m = n < cap - 4 ? n : cap - 4;

	for (i = 0; i < m; i++)
		buf[i] = s[i] >= ' ' && s[i] < 127 ? s[i] : '?';
	if (m < n)
		memcpy(buf + m, "...", 3), m += 3;
	buf[m] = '\0';
	return buf;
}

/* Minting's deadline and progress line, kept by SIGALRM each second. */
static volatile sig_atomic_t elapsed, limit, tty, errfd = 2;
static volatile unsigned long solved;
static const char *minting;

/* n in decimal into b; its length. */
static size_t
utoa(unsigned long n, char *b)
{
	char t[24];
	size_t i = 0, k;

	do
		t[i++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	for (k = 0; k < i; k++)
		b[k] = t[i - 1 - k];
	return i;
}

#define PUT(lit)	(memcpy(b + n, (lit), sizeof(lit) - 1), n += sizeof(lit) - 1)

/* head, the resource being minted for, then sep and v in decimal (if sep
 * is not NULL), into b; its length.  Safe in a signal handler. */
static size_t
aboutmint(char *b, const char *head, const char *sep, unsigned long v)
{
	size_t n = strlen(head), r = strlen(minting);

	memcpy(b, head, n);
	memcpy(b + n, minting, r);
	n += r;
	if (sep != NULL) {
		r = strlen(sep);
		memcpy(b + n, sep, r);
		n += r;
		n += utoa(v, b + n);
	}
	return n;
}

/* Say b[0, n) (a line that begins "\r\033[K", which clears the progress
 * line, on a terminal only) and exit 75. */
static void
diemint(const char *b, size_t n)
{
	if (write(errfd, tty ? b : b + 4, tty ? n : n - 4) < 0)
		_exit(NYM_EX_TEMPFAIL);
	_exit(NYM_EX_TEMPFAIL);
}

static void
tick(int sig)
{
	char b[NYM_POW_RES_MAX + 200];
	size_t n;

	(void)sig;
	elapsed++;
	if (elapsed >= limit) {
		n = aboutmint(b, "\r\033[Kpow-stamp: unable to mint a stamp "
		    "for ", ": not done within ", (unsigned long)limit);
		PUT(" seconds (-t)\n");
		diemint(b, n);
	}
	if (!tty)
		return;
	n = aboutmint(b, "\rpow-stamp: minting for ", ": ",
	    (unsigned long)elapsed);
	PUT(" s");
	if (solved > 0) {
		PUT(", ");
		n += utoa(solved, b + n);
		PUT(" solves");
	}
	PUT("\033[K");
	if (write(errfd, b, n) < 0)
		return;
}

/* libequihash is C++: a solver that cannot have its memory throws, and
 * the exception ends in abort().  Say so, as an error of ours, 75. */
static void
solverdied(int sig)
{
	char b[NYM_POW_RES_MAX + 200];
	size_t n;

	(void)sig;
	n = aboutmint(b, "\r\033[Kpow-stamp: unable to mint a stamp for ",
	    NULL, 0);
	PUT(": the Equihash solver failed (out of memory? a solve needs "
	    "about 60 MB)\n");
	diemint(b, n);
}

/* While the solver runs, its runtime's words (the C++ library's
 * "terminate called...") go nowhere, ours to the saved stderr. */
static void
quiet(int on)
{
	static int saved = -1;
	int fd;

	if (on && saved == -1) {
		if ((saved = fcntl(2, F_DUPFD_CLOEXEC, 3)) == -1)
			return;
		if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
		    dup2(fd, 2) == -1) {
			if (fd != -1)
				close(fd);
			close(saved);
			saved = -1;
			return;
		}
		close(fd);
		errfd = saved;
	} else if (!on && saved != -1) {
		(void)dup2(saved, 2);
		close(saved);
		saved = -1;
		errfd = 2;
	}
}

static void
onesolve(void *arg, uint64_t n)
{
	(void)arg;
	solved = (unsigned long)n;
}

/* What to mint: the kind, set and bits, from -D, -a and -b. */
static void
whattomint(struct opts *o, unsigned *n, unsigned *k, unsigned *bits)
{
	const struct nym_pow_want *w;
	time_t now = nym_now();
	int i;

	*n = 96;
	*k = 5;
	if (!o->usedem) {
		if (o->kind == NYM_POW_EQUIHASH && !o->bitsset)
			o->pol.bits = 0;
		*bits = o->pol.bits;
		if (o->kind == 0)
			o->kind = NYM_POW_HASHCASH;
	} else {
		if ((i = nym_pow_demand_pick(&o->dem, o->kind, now)) == -1)
			nym_die(NYM_EX_USAGE, "unable to mint for the demand: "
			    "no kind %sthis version mints",
			    o->kind == NYM_POW_EQUIHASH ? "E1 that " :
			    o->kind == NYM_POW_HASHCASH ? "1 that " : "");
		w = &o->dem.want[i];
		o->kind = w->kind;
		*n = w->n;
		*k = w->k;
		*bits = nym_pow_want_bits(w, now - now % 86400);
	}
	if (*bits > (o->kind == NYM_POW_EQUIHASH ? NYM_POW_E1_MINT_BITS :
	    NYM_POW_MINT_BITS))
		nym_die(NYM_EX_USAGE, "unable to mint %u bits of kind %s: at "
		    "most %d", *bits, o->kind == NYM_POW_EQUIHASH ? "E1" : "1",
		    o->kind == NYM_POW_EQUIHASH ? NYM_POW_E1_MINT_BITS :
		    NYM_POW_MINT_BITS);
}

/* The deadline of the whole run: SIGALRM each second counts it, and
 * draws the progress line on a terminal; past it the run exits 75 with
 * nothing more written.  The deadline in nym_now_ms's time. */
static long long
startclock(long secs, const char *first)
{
	struct itimerval it = { { 1, 0 }, { 1, 0 } };
	struct sigaction sa;

	limit = (sig_atomic_t)secs;
	tty = isatty(2);
	minting = first;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tick;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to set the deadline");
	sa.sa_handler = solverdied;
	if (sigaction(SIGABRT, &sa, NULL) == -1 ||
	    setitimer(ITIMER_REAL, &it, NULL) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to set the deadline");
	return nym_now_ms() + secs * 1000;
}

/* One stamp of kind for resource into out, within the deadline; a
 * resource that cannot be one exits badres. */
static void
mintone(const struct opts *o, const char *res, int kind, unsigned n,
    unsigned k, unsigned bits, long long deadline, char *out, size_t cap,
    int badres)
{
	int r;

	minting = res;
	solved = 0;
	if (kind == NYM_POW_EQUIHASH) {
		quiet(1);
		r = nym_pow_mint_e1(res, n, k, bits, nym_now(), deadline,
		    onesolve, NULL, out, cap, NULL);
		quiet(0);
	} else
		r = nym_pow_mint(res, bits, nym_now(), out, cap, NULL);
	if (r == -1) {
		if (errno == EINVAL || errno == ENAMETOOLONG)
			nym_die(badres, "unable to mint a stamp for %s: not a "
			    "resource (1 to %d bytes, no colon, white space or "
			    "control character)", res, NYM_POW_RES_MAX);
		if (errno == ETIMEDOUT)
			nym_die(NYM_EX_TEMPFAIL, "unable to mint a stamp for "
			    "%s: not done within %ld seconds (-t)", res,
			    o->secs);
		nym_dieerr(NYM_EX_SOFTWARE, "unable to mint a stamp for %s",
		    res);
	}
	if (tty && elapsed > 0 && write(2, "\r\033[K", 4) < 0)
		tty = 0;
}

static int
mint(int argc, char **argv, struct opts *o, int hdr)
{
	char out[NYM_POW_STAMP_MAX + 1];
	struct itimerval it;
	long long deadline;
	unsigned n, k, bits;
	int i;

	if (argc < 1 || argc > NYM_POW_STAMPS_MAX)
		nym_usage();
	whattomint(o, &n, &k, &bits);
	for (i = 0; i < argc; i++)
		if (strlen(argv[i]) > NYM_POW_RES_MAX)
			nym_die(NYM_EX_USAGE, "unable to mint a stamp for a "
			    "resource of over %d bytes", NYM_POW_RES_MAX);
	deadline = startclock(o->secs, argv[0]);
	for (i = 0; i < argc; i++) {
		mintone(o, argv[i], o->kind, n, k, bits, deadline, out,
		    sizeof out, NYM_EX_USAGE);
		if (printf("%s%s\n", hdr ? "X-Hashcash: " : "", out) < 0 ||
		    fflush(stdout) == EOF)
			nym_dieerr(nym_exitcode(errno),
			    "unable to write the stamp");
	}
	memset(&it, 0, sizeof it);
	(void)setitimer(ITIMER_REAL, &it, NULL);
	return NYM_EX_OK;
}

/* ---- -M: a filter of nymbox-sendmail's chain ---- */

static char rcpt[NYM_POW_STAMPS_MAX][NYM_POW_RES_MAX + 1];
static char stamps[NYM_POW_STAMPS_MAX][NYM_POW_STAMP_MAX + 1];
static int nrcpt, had[NYM_POW_STAMPS_MAX];
/* A Bcc recipient (else one of To or Cc): its stamp is an X-Hashcash-Bcc
 * field, which the deliverers never show another recipient. */
static int blind[NYM_POW_STAMPS_MAX];

/* The recipient local@domain: its index in rcpt, added (as bcc says) if
 * add and not there yet; -1 if not there and not added. */
static int
addrcpt(const char *local, const char *domain, int add, int bcc)
{
	char a[NYM_POW_RES_MAX + 2];
	int i, n;

	n = domain != NULL ? snprintf(a, sizeof a, "%s@%s", local, domain) :
	    snprintf(a, sizeof a, "%s", local);
	if (n < 1 || (size_t)n > NYM_POW_RES_MAX)
		nym_die(NYM_EX_DATAERR, "unable to stamp for a recipient of "
		    "over %d bytes", NYM_POW_RES_MAX);
	for (i = 0; i < nrcpt; i++)
		if (strcasecmp(rcpt[i], a) == 0)
			return i;
	if (!add)
		return -1;
	if (nrcpt >= NYM_POW_STAMPS_MAX)
		nym_die(NYM_EX_DATAERR, "unable to stamp the message: over %d "
		    "recipients", NYM_POW_STAMPS_MAX);
	memcpy(rcpt[nrcpt], a, (size_t)n + 1);
	blind[nrcpt] = bcc;
	return nrcpt++;
}

/* The addresses of the fields of h named name: added as recipients if
 * add (Bcc ones if bcc); else those there already are made visible. */
static void
fieldrcpts(const struct nym_hdr *h, const char *name, int add, int bcc)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_addrlist al;
	size_t i, j;
	ssize_t len;
	int k;

	for (i = 0; i < h->nf; i++) {
		if (!nym_hdr_is(h, i, name))
			continue;
		if ((len = nym_hdr_value(h, i, val, sizeof val)) < 0 ||
		    nym_addr_parse(val, (size_t)len, &al) == -1)
			nym_die(NYM_EX_DATAERR, "unable to read the recipients "
			    "of %.*s", (int)h->f[i].namelen,
			    h->buf + h->f[i].off);
		for (j = 0; j < al.n; j++)
			if ((k = addrcpt(al.a[j].local, al.a[j].domain, add,
			    bcc)) != -1 && !add)
				blind[k] = 0;
		nym_addrlist_free(&al);
	}
}

/* The stamp s[0, n) of a field: its recipient has one. */
static void
hadstamp(const char *s, size_t n)
{
	const char *r;
	size_t rl;
	int i;

	if ((r = nym_hdr_stampres(s, n, &rl)) == NULL)
		return;
	for (i = 0; i < nrcpt; i++)
		if (strlen(rcpt[i]) == rl && strncasecmp(rcpt[i], r, rl) == 0)
			had[i] = 1;
}

/* The demand for recipient a: -D, else the demand kept for its address
 * (a server's refusal stated it), else its domain's, else the
 * configuration's send-stamp.  0 if there is none: no stamp. */
static int
demandfor(const struct opts *o, const char *a, struct nym_pow_demand *d)
{
	char text[NYM_POW_DEMAND_MAX + 1];
	const char *dom = strrchr(a, '@'), *v, *key;
	int r, k;

	if (o->usedem) {
		*d = o->dem;
		return 1;
	}
	for (k = 0; dom != NULL && k < 2; k++) {
		key = k == 0 ? a : dom + 1;
		if ((r = nym_demand_load(key, text, sizeof text)) == 0)
			continue;
		if (r == 1 && nym_pow_demand_parse(text, d) == 0)
			return 1;
		nym_warn("unable to use the kept demand of %s: %s; using the "
		    "default", key, r == 1 || errno == EINVAL ?
		    "not a demand this version reads" : strerror(errno));
	}
	if ((v = nym_conf_get("send-stamp")) == NULL || *v == '\0')
		return 0;
	if (nym_pow_demand_parse(v, d) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use send-stamp %s in %s: not "
		    "a demand this version reads (pow-stamp(1), DEMAND)", v,
		    nym_conf_name());
	return 1;
}

static int
filter(int argc, char **argv, struct opts *o)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_pow_demand d;
	const struct nym_pow_want *w;
	struct nym_in in;
	struct nym_out out;
	struct nym_hdr h = { 0 };
	struct itimerval it;
	const char *where, *line, *eol, *env;
	char *copy, *word, *save = NULL;
	long long deadline = 0;
	ssize_t len;
	size_t i, ll;
	time_t now;
	int a, more, rv, pick, started = 0, given = argc > 0;

	if (argc > NYM_POW_STAMPS_MAX)
		nym_die(NYM_EX_USAGE, "unable to stamp for over %d recipients",
		    NYM_POW_STAMPS_MAX);
	if (!o->usedem && nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	for (a = 0; a < argc; a++)
		(void)addrcpt(argv[a], NULL, 1, 1);
	/* nymbox-sendmail's envelope, when it runs us in its chain. */
	if (argc == 0 && (env = getenv("NYMBOX_RECIPIENTS")) != NULL &&
	    *env != '\0') {
		if ((copy = strdup(env)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		for (word = strtok_r(copy, " \t", &save); word != NULL;
		    word = strtok_r(NULL, " \t", &save))
			(void)addrcpt(word, NULL, 1, 1);
		free(copy);
		given = nrcpt > 0;
	}
	if (nym_in_open(&in, STDIN_FILENO, NYM_IOBUF) == -1 ||
	    nym_out_open(&out, STDOUT_FILENO, NYM_IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (nym_hdr_read(&in, &h, 0, NULL, NULL) == -1)
		nym_dieerr(errno == E2BIG ? NYM_EX_DATAERR : NYM_EX_TEMPFAIL,
		    "unable to read the message header");
	/* A stamp names its recipient to everyone who sees it: those of
	 * To and Cc are X-Hashcash fields, those of the others (Bcc, or
	 * recipients given that are in neither) X-Hashcash-Bcc fields,
	 * which the deliverers give each its own recipient alone. */
	fieldrcpts(&h, "to", !given, 0);
	fieldrcpts(&h, "cc", !given, 0);
	if (!given)
		fieldrcpts(&h, "bcc", 1, 1);
	for (i = 0; i < h.nf; i++) {
		if (!nym_hdr_is(&h, i, "x-hashcash") &&
		    !nym_hdr_is(&h, i, "x-hashcash-bcc"))
			continue;
		if ((len = nym_hdr_value(&h, i, val, sizeof val)) < 0)
			continue;
		while (len > 0 && (val[len - 1] == ' ' ||
		    val[len - 1] == '\t'))
			len--;
		hadstamp(val, (size_t)len);
	}

	/* Every stamp minted before a byte is written: past the deadline
	 * the run exits 75 and the caller has nothing half done. */
	now = nym_now();
	for (a = 0; a < nrcpt; a++) {
		stamps[a][0] = '\0';
		if (had[a] || !demandfor(o, rcpt[a], &d))
			continue;
		if ((pick = nym_pow_demand_pick(&d, o->kind, now)) == -1) {
			nym_warn("unable to stamp for %s: the demand names no "
			    "kind this version mints", rcpt[a]);
			continue;
		}
		w = &d.want[pick];
		if (!started++)
			deadline = startclock(o->secs, rcpt[a]);
		mintone(o, rcpt[a], w->kind, w->n, w->k, nym_pow_want_bits(w, now - now % 86400),
		    deadline, stamps[a], sizeof stamps[a], NYM_EX_DATAERR);
	}
	memset(&it, 0, sizeof it);
	(void)setitimer(ITIMER_REAL, &it, NULL);

	eol = h.crlf ? "\r\n" : "\n";
	nym_out_write(&out, h.buf, h.len);
	if (h.len > 0 && h.buf[h.len - 1] != '\n')
		nym_out_puts(&out, eol);
	for (a = 0; a < nrcpt; a++)
		if (stamps[a][0] != '\0') {
			nym_out_puts(&out, blind[a] ? "X-Hashcash-Bcc: " :
			    "X-Hashcash: ");
			nym_out_puts(&out, stamps[a]);
			nym_out_puts(&out, eol);
		}
	if (h.sep)
		nym_out_puts(&out, eol);
	nym_hdr_free(&h);
	while ((rv = nym_in_line(&in, &line, &ll, &more)) == 1)
		nym_out_write(&out, line, ll);
	if (rv == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the message");
	if (nym_out_flush(&out) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write the message");
	nym_out_close(&out);
	nym_in_close(&in);
	return NYM_EX_OK;
}

static void
opendb(struct opts *o, struct nym_powdb *db)
{
	char dir[NYM_MD_PATH];
	const char *f = o->dbfile;

	if (f == NULL) {
		if (nym_confdir(dir, sizeof dir) == -1 ||
		    (size_t)snprintf(o->dbpath, sizeof o->dbpath, "%s/pow.db",
		    dir) >= sizeof o->dbpath)
			nym_die(NYM_EX_TEMPFAIL, "unable to find the stamp "
			    "database: no HOME, or too long; give -f");
		if (nym_mkdirs(dir, 0700) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to create %s",
			    dir);
		f = o->dbpath;
	}
	if (nym_powdb_open(db, f, o->dbsize) == -1) {
		if (errno == EBADMSG)
			nym_die(NYM_EX_TEMPFAIL, "unable to use stamp database "
			    "%s: not one, or damaged (its header or size); "
			    "move it away and a new one is made", f);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to open stamp database %s",
		    f);
	}
	o->dbfile = f;
}

/* One stamp: its verdict (nym_pow_verdict), spent in the database if
 * valid and one is used. */
static int
checkone(struct opts *o, struct nym_powdb *db, const char *s, size_t n)
{
	char show[80], kind[40];
	time_t now = nym_now(), until;
	int v, r;

	if (o->usedem)
		v = nym_pow_check_demand(s, n, &o->dem, o->pol.resource, now,
		    &until);
	else
		v = nym_pow_check(s, n, &o->pol, now, &until);
	if (v == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to check stamps");
	if (v == NYM_POW_OK && o->usedb) {
		r = nym_powdb_spend(db, s, n, until, now);
		if (r == -1) {
			if (errno == ENOSPC)
				nym_die(NYM_EX_TEMPFAIL, "unable to record the "
				    "stamp in %s: full (%d unexpired stamps "
				    "in its part of the file); try again "
				    "later, or make a bigger one with -s",
				    o->dbfile, NYM_POW_DB_BUCKET);
			if (errno == EBADMSG)
				nym_die(NYM_EX_TEMPFAIL, "unable to use stamp "
				    "database %s: damaged (cut short)",
				    o->dbfile);
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to record the "
			    "stamp in %s", o->dbfile);
		}
		if (r == 1)
			v = NYM_POW_SPENT;
	}
	if (v == NYM_POW_UNKNOWN) {
		o->unknown++;
		nym_pow_kind(s, n, kind, sizeof kind);
		nym_warn("skipped stamp %s: kind %s unknown to this version",
		    shown(s, n, show, sizeof show), kind);
	} else if (v != NYM_POW_OK)
		nym_warn("refused stamp %s: %s", shown(s, n, show,
		    sizeof show), nym_pow_why(v));
	return v;
}

/* The stamps of X-Hashcash: (or Hashcash:) fields of the header section
 * on stdin, each checked in turn until one is valid. */
static void
fromhdrs(struct opts *o, struct nym_powdb *db, int *seen, int *best)
{
	struct nym_in in;
	const char *line, *p;
	size_t len, total = 0, skip;
	int more, r, v, lost = 0;

	if (nym_in_open(&in, 0, NYM_LINE_MAX) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the message");
	while ((r = nym_in_line(&in, &line, &len, &more)) == 1) {
		total += len;
		if (total > NYM_HDR_MAX)
			break;
		if (more) {		/* a line past NYM_LINE_MAX: not ours */
			lost = 1;
			continue;
		}
		if (lost) {
			lost = 0;
			continue;
		}
		len = nym_chomp(line, len);
		if (len == 0)
			break;		/* the end of the header section */
		if (len > 12 && strncasecmp(line, "X-Hashcash:", 11) == 0)
			skip = 11;
		else if (len > 10 && strncasecmp(line, "Hashcash:", 9) == 0)
			skip = 9;
		else
			continue;
		p = line + skip;
		while (p < line + len && (*p == ' ' || *p == '\t'))
			p++;
		while (len > 0 && (line[len - 1] == ' ' ||
		    line[len - 1] == '\t'))
			len--;
		if (p >= line + len || *seen >= NYM_POW_STAMPS_MAX)
			continue;
		(*seen)++;
		v = checkone(o, db, p, (size_t)(line + len - p));
		if (v < *best)
			*best = v;
		if (v == NYM_POW_OK)
			break;
	}
	if (r == -1)
		nym_dieerr(nym_exitcode(errno), "unable to read the message");
	nym_in_close(&in);
}

/* Stamps from stdin, one a line (no arguments, no -X). */
static void
fromlines(struct opts *o, struct nym_powdb *db, int *seen, int *best)
{
	struct nym_in in;
	const char *line;
	size_t len;
	int more, r = 0, v, lost = 0;

	if (nym_in_open(&in, 0, NYM_POW_STAMP_MAX + 2) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the stamps");
	while (*seen < NYM_POW_STAMPS_MAX && *best != NYM_POW_OK &&
	    (r = nym_in_line(&in, &line, &len, &more)) == 1) {
		if (more) {		/* too long to be a stamp */
			if (!lost) {
				(*seen)++;
				nym_warn("refused stamp of over %d bytes: %s",
				    NYM_POW_STAMP_MAX,
				    nym_pow_why(NYM_POW_MALFORMED));
				if (NYM_POW_MALFORMED < *best)
					*best = NYM_POW_MALFORMED;
			}
			lost = 1;
			continue;
		}
		if (lost) {		/* the end of that long line */
			lost = 0;
			continue;
		}
		len = nym_chomp(line, len);
		if (len == 0)
			continue;
		(*seen)++;
		v = checkone(o, db, line, len);
		if (v < *best)
			*best = v;
	}
	if (r == -1)
		nym_dieerr(nym_exitcode(errno), "unable to read the stamps");
	nym_in_close(&in);
}

static int
check(int argc, char **argv, struct opts *o)
{
	struct nym_powdb db = { -1, 0, { 0 } };
	int i, v, seen = 0, best = NYM_POW_UNWANTED + 1;

	if (o->usedb)
		opendb(o, &db);
	for (i = 0; i < argc && i < NYM_POW_STAMPS_MAX && best != NYM_POW_OK;
	    i++) {
		seen++;
		v = checkone(o, &db, argv[i], strlen(argv[i]));
		if (v < best)
			best = v;
	}
	if (o->hdrs && best != NYM_POW_OK)
		fromhdrs(o, &db, &seen, &best);
	else if (argc == 0 && !o->hdrs)
		fromlines(o, &db, &seen, &best);
	nym_powdb_close(&db);
	if (seen == 0) {
		nym_warn("refused: no stamp");
		return X_REFUSED;
	}
	if (best != NYM_POW_OK && o->unknown == seen)
		return X_UNKNOWN;
	if (best != NYM_POW_OK)
		return X_REFUSED;
	if ((o->pol.resource == NULL || !o->usedb) && !o->yes) {
		nym_warn("valid stamp, not fully checked: %s",
		    o->pol.resource == NULL ? "no -r, so any resource" :
		    "no -d, so it may be spent again");
		return X_UNCHECKED;
	}
	return X_VALID;
}

static int
purge(struct opts *o)
{
	struct nym_powdb db;
	struct nym_powdb_stats st;

	opendb(o, &db);
	if (nym_powdb_purge(&db, nym_now(), &st) == -1)
		nym_dieerr(nym_exitcode(errno) == NYM_EX_SOFTWARE ?
		    NYM_EX_TEMPFAIL : nym_exitcode(errno),
		    "unable to purge stamp database %s", o->dbfile);
	nym_powdb_close(&db);
	if (printf("%llu stamps kept, %llu expired and %llu damaged "
	    "removed, room for %llu\n", (unsigned long long)st.live,
	    (unsigned long long)st.expired, (unsigned long long)st.damaged,
	    (unsigned long long)st.slots) < 0 || fflush(stdout) == EOF)
		nym_dieerr(nym_exitcode(errno), "unable to write the counts");
	return NYM_EX_OK;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int c, mode = 0, hdr = 0;

	memset(&o, 0, sizeof o);
	o.pol.bits = DEFBITS;
	o.pol.validity = DEFVALID;
	o.pol.grace = DEFGRACE;
	o.dbsize = NYM_POW_DB_SIZE;
	o.secs = NYM_POW_MINT_SECONDS;
	nym_start(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "a:b:cD:de:f:g:Mmpr:s:t:Xy")) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "1") == 0 ||
			    strcasecmp(optarg, "hashcash") == 0)
				o.kind = NYM_POW_HASHCASH;
			else if (strcmp(optarg, "E1") == 0 ||
			    strcasecmp(optarg, "equihash") == 0)
				o.kind = NYM_POW_EQUIHASH;
			else
				nym_die(NYM_EX_USAGE, "unable to use -a %s: "
				    "unknown algorithm (known: hashcash, also "
				    "called 1; equihash, also called E1)",
				    optarg);
			break;
		case 'b':
			o.pol.bits = (unsigned)nym_num(NYM_EX_USAGE, "-b",
			    optarg, 0, NYM_POW_BITS_MAX);
			o.bitsset = 1;
			break;
		case 'D':
			if (nym_pow_demand_parse(optarg, &o.dem) == -1)
				nym_die(NYM_EX_USAGE, "unable to use -D %s: not "
				    "a demand this version reads (pow-stamp(1), "
				    "DEMAND)", optarg);
			o.usedem = 1;
			break;
		case 'c':
		case 'M':
		case 'm':
		case 'p':
			if (mode != 0 && mode != c)
				nym_usage();
			mode = c;
			break;
		case 'd':
			o.usedb = 1;
			break;
		case 'e':
			o.pol.validity = period("-e", optarg,
			    NYM_POW_VALIDITY_MAX);
			break;
		case 'f':
			o.dbfile = optarg;
			o.usedb = 1;
			break;
		case 'g':
			o.pol.grace = period("-g", optarg, NYM_POW_GRACE_MAX);
			break;
		case 'r':
			o.pol.resource = optarg;
			break;
		case 't':
			o.secs = nym_num(NYM_EX_USAGE, "-t", optarg, 1,
			    NYM_POW_MINT_SECONDS_MAX);
			break;
		case 's':
			o.dbsize = nym_size(NYM_EX_USAGE, "-s", optarg,
			    NYM_POW_DB_MAX);
			if (o.dbsize < NYM_POW_DB_MIN)
				nym_die(NYM_EX_USAGE, "unable to use -s %s: "
				    "expected %llu bytes to %llu", optarg,
				    (unsigned long long)NYM_POW_DB_MIN,
				    (unsigned long long)NYM_POW_DB_MAX);
			break;
		case 'X':
			hdr = 1;
			break;
		case 'y':
			o.yes = 1;
			break;
		default:
			nym_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.usedem && o.bitsset)
		nym_die(NYM_EX_USAGE, "unable to use -b with -D: the demand "
		    "says the bits");
	o.dem.validity = o.pol.validity;
	o.dem.grace = o.pol.grace;
	if (nym_crypto_init() == -1)
		nym_die(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	switch (mode) {
	case 'm':
		return mint(argc, argv, &o, hdr);
	case 'M':
		if (o.bitsset || hdr || o.usedb || o.pol.resource != NULL)
			nym_die(NYM_EX_USAGE, "unable to use -b, -X, -d, -f or "
			    "-r with -M: the recipients' demands say what to "
			    "mint");
		return filter(argc, argv, &o);
	case 'c':
		if (o.usedb && o.pol.validity == 0)
			nym_die(NYM_EX_USAGE, "unable to use -e 0 with a "
			    "database: a stamp valid forever would be kept "
			    "forever");
		o.hdrs = hdr;
		return check(argc, argv, &o);
	case 'p':
		if (argc != 0)
			nym_usage();
		return purge(&o);
	default:
		nym_usage();
	}
}
