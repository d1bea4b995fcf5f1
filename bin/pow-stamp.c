/*
 * pow-stamp - mint and check proof-of-work stamps (hashcash v1), with a
 * double-spend database.
 *
 *   pow-stamp -m [-b BITS] RESOURCE...     a stamp per resource on stdout
 *   pow-stamp -c [-b BITS] [-r RESOURCE] [-d] [-f DB] [STAMP...]
 *                                          exit 0 if a stamp is taken
 *   pow-stamp -p [-f DB]                   purge expired stamps
 *
 * Option letters and the verdict codes (0 valid, 1 refused, 2 valid but
 * not fully checked) are hashcash(1)'s, so that a procmail recipe
 * written for it works with this; failures of our own (usage, the
 * database) are the sysexits codes of every nymbox program.  The
 * stamps' logic is in lib/pow.c, the database's in lib/powdb.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base.h"
#include "pow.h"

#define USAGE "usage: pow-stamp -m [-X] [-a algorithm] [-b bits] resource...\n" \
	"       pow-stamp -c [-dXy] [-b bits] [-r resource] [-e period] " \
	"[-g period]\n" \
	"                 [-f dbfile] [-s size] [stamp...]\n" \
	"       pow-stamp -p [-f dbfile]\n"

/* Verdict exit codes, hashcash's (pow-stamp(1), EXIT STATUS). */
enum { X_VALID = 0, X_REFUSED = 1, X_UNCHECKED = 2, X_UNKNOWN = 4 };

#define DEFBITS		20
#define DEFVALID	(28L * 86400)
#define DEFGRACE	(2L * 86400)

struct opts {
	struct nym_pow_policy pol;
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

static int
mint(int argc, char **argv, unsigned bits, int hdr)
{
	char out[NYM_POW_STAMP_MAX + 1];
	int i;

	if (argc < 1 || argc > NYM_POW_STAMPS_MAX)
		nym_usage();
	for (i = 0; i < argc; i++) {
		if (nym_pow_mint(argv[i], bits, nym_now(), out, sizeof out,
		    NULL) == -1) {
			if (errno == EINVAL || errno == ENAMETOOLONG)
				nym_die(NYM_EX_USAGE, "unable to mint a stamp "
				    "for %s: not a resource (1 to %d bytes, "
				    "no colon, white space or control "
				    "character)", argv[i], NYM_POW_RES_MAX);
			nym_dieerr(NYM_EX_SOFTWARE, "unable to mint a stamp "
			    "for %s", argv[i]);
		}
		if (printf("%s%s\n", hdr ? "X-Hashcash: " : "", out) < 0 ||
		    fflush(stdout) == EOF)
			nym_dieerr(nym_exitcode(errno),
			    "unable to write the stamp");
	}
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
	int i, v, seen = 0, best = NYM_POW_SPENT + 1;

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
	nym_start(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "a:b:cde:f:g:mpr:s:Xy")) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "1") != 0 &&
			    strcasecmp(optarg, "hashcash") != 0)
				nym_die(NYM_EX_USAGE, "unable to use -a %s: "
				    "unknown algorithm (known: hashcash, "
				    "also called 1)", optarg);
			break;
		case 'b':
			o.pol.bits = (unsigned)nym_num(NYM_EX_USAGE, "-b",
			    optarg, 0, NYM_POW_BITS_MAX);
			break;
		case 'c':
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
	if (nym_crypto_init() == -1)
		nym_die(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	switch (mode) {
	case 'm':
		if (o.pol.bits > NYM_POW_MINT_BITS)
			nym_die(NYM_EX_USAGE, "unable to mint %u bits: at most "
			    "%d", o.pol.bits, NYM_POW_MINT_BITS);
		return mint(argc, argv, o.pol.bits, hdr);
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
