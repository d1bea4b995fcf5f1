/*
 * pow.c - unit tests for hashcash v1 stamps (lib/pow.c) and the
 * double-spend database (lib/powdb.c): dates as hashcash reads them, a
 * stamp hashcash minted, mint and check round trips, and the database
 * spent from several processes at once (every stamp won exactly once,
 * which fails without the bucket locks), full, and expired records
 * reused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "base.h"
#include "pow.h"
#include "tap.h"

#define T0	1796515200LL	/* 2026-12-06 00:00:00 UTC */
#define DAY	86400LL
#define NRACE	10000	/* about 156 a bucket of 256 */

static const struct {
	const char *s;
	long long t;		/* -1: refused */
} dates[] = {
	{ "261206", T0 },
	{ "26", 1767225600LL },			/* 2026-01-01 */
	{ "2612", 1796083200LL },		/* 2026-12-01 */
	{ "26120612", T0 + 12 * 3600 },
	{ "2612061234", T0 + 12 * 3600 + 34 * 60 },
	{ "261206123456", T0 + 12 * 3600 + 34 * 60 + 56 },
	{ "261200", T0 - 6 * DAY },		/* day 00: the 30th of Nov */
	{ "261232", T0 + 26 * DAY },		/* carried into January */
	{ "261306", T0 + 31 * DAY },		/* month 13: next January */
	{ "991231", 946598400LL },		/* 1999: within 50 years */
	{ "760101", 3345062400LL },		/* 2076 */
	{ "770101", 220924800LL },		/* 1977 */
	{ "260012", -1 },			/* month 00 */
	{ "2612061", -1 },			/* odd length */
	{ "261206Z", -1 },
	{ "2612061234567", -1 },		/* too long */
	{ "2", -1 },
	{ "", -1 },
	{ "26-206", -1 },
};

int
main(void)
{
	char dir[] = "/tmp/nymunit.XXXXXX", path[300], out[NYM_POW_STAMP_MAX + 1];
	char name[64];
	struct nym_pow_policy pol = { "foo@bar", 16, 28 * DAY, 2 * DAY };
	struct nym_pow_stamp st;
	struct nym_powdb db;
	const char *hc = "1:16:261206:foo@bar::c5m1lhAq7iIF3+fZ:00000000000Psu";
	unsigned *wins;
	uint64_t tries;
	time_t t, until;
	size_t i;
	int b, k, n, ok, bad;
	pid_t pid;

	if (nym_crypto_init() == -1 || mkdtemp(dir) == NULL)
		return 99;

	for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		int r = nym_pow_date(dates[i].s, strlen(dates[i].s), (time_t)T0,
		    &t);

		snprintf(name, sizeof name, "date \"%s\"", dates[i].s);
		if (dates[i].t == -1)
			check_int(r, -1, name);
		else {
			check_int(r, 0, name);
			check_int(t, dates[i].t, name);
		}
	}

	/* A stamp Debian's hashcash 1.22 minted (hashcash -m -b 16). */
	check_int(nym_pow_parse(hc, strlen(hc), (time_t)T0, &st), NYM_POW_OK,
	    "hashcash's stamp parses");
	check_int(st.claimed, 16, "it claims 16 bits");
	check_int(st.value, 16, "and is worth them");
	check_int(st.date, T0, "dated the day it says");
	check_int(nym_pow_check(hc, strlen(hc), &pol, (time_t)T0, &until),
	    NYM_POW_OK, "and is taken for foo@bar at 16 bits");
	check_int(until, T0 + 30 * DAY, "until its date, 28 days and grace");
	pol.bits = 17;
	check_int(nym_pow_check(hc, strlen(hc), &pol, (time_t)T0, NULL),
	    NYM_POW_BITS, "not at 17");
	pol.bits = 16;
	pol.resource = "FOO@BAR";
	check_int(nym_pow_check(hc, strlen(hc), &pol, (time_t)T0, NULL),
	    NYM_POW_OK, "the resource compared ignoring case");
	pol.resource = "foo@baz";
	check_int(nym_pow_check(hc, strlen(hc), &pol, (time_t)T0, NULL),
	    NYM_POW_RESOURCE, "another resource");
	pol.resource = "foo@bar";
	check_int(nym_pow_check(hc, strlen(hc), &pol,
	    (time_t)(T0 + 30 * DAY), NULL), NYM_POW_EXPIRED, "expired");
	check_int(nym_pow_check(hc, strlen(hc), &pol,
	    (time_t)(T0 - 2 * DAY - 1), NULL), NYM_POW_FUTURE, "future");
	check_int(nym_pow_parse("1:16:261206:foo@bar::c5m1:0:x", 30, 0, &st),
	    NYM_POW_MALFORMED, "an eighth field");
	check_int(nym_pow_parse("12:x", 4, 0, &st), NYM_POW_UNKNOWN,
	    "kind 12 is unknown, not malformed");
	check_int(nym_pow_parse("1", 1, 0, &st), NYM_POW_MALFORMED,
	    "no colon");

	/* Minted here, checked here, at every size up to 16 bits. */
	ok = 1;
	for (b = 0; b <= 16; b++) {
		pol.bits = (unsigned)b;
		if (nym_pow_mint("Foo@Bar", (unsigned)b, (time_t)T0, out,
		    sizeof out, &tries) != 0 ||
		    strncmp(out, "1:", 2) != 0 ||
		    strstr(out, ":foo@bar::") == NULL ||
		    nym_pow_check(out, strlen(out), &pol, (time_t)T0, NULL) !=
		    NYM_POW_OK) {
			printf("# bits %d: %s\n", b, out);
			ok = 0;
		}
	}
	check(ok, "minted stamps check, 0 to 16 bits, resource lowercased");
	check_int(nym_pow_mint("a b", 0, (time_t)T0, out, sizeof out, NULL),
	    -1, "no white space in a resource");
	check_int(nym_pow_mint("a@b", 41, (time_t)T0, out, sizeof out, NULL),
	    -1, "at most 40 bits");
	check_int(nym_pow_mint("a@b", 0, (time_t)T0, out, 20, NULL), -1,
	    "a buffer too small");
	check_int(errno, ENAMETOOLONG, "with ENAMETOOLONG");

	/* Four processes spend the same NRACE stamps, in the same order, at
	 * once: each must be won exactly once. */
	snprintf(path, sizeof path, "%s/race.db", dir);
	wins = mmap(NULL, NRACE * sizeof *wins, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (wins == MAP_FAILED)
		return 99;
	memset(wins, 0, NRACE * sizeof *wins);
	check_int(nym_powdb_open(&db, path, 65 * 4096), 0,
	    "a database of 64 buckets");
	nym_powdb_close(&db);
	for (k = 0; k < 4; k++) {
		if ((pid = fork()) == 0) {
			if (nym_powdb_open(&db, path, 0) == -1)
				_exit(1);
			for (i = 0; i < NRACE; i++) {
				n = snprintf(name, sizeof name, "stamp %zu", i);
				if (nym_powdb_spend(&db, name, (size_t)n,
				    (time_t)(T0 + DAY), (time_t)T0) == 0)
					__atomic_add_fetch(&wins[i], 1,
					    __ATOMIC_SEQ_CST);
			}
			_exit(0);
		}
	}
	bad = 0;
	for (k = 0; k < 4; k++) {
		if (wait(&n) == -1 || !WIFEXITED(n) || WEXITSTATUS(n) != 0)
			bad++;
	}
	check_int(bad, 0, "the four processes ran");
	n = 0;
	for (i = 0; i < NRACE; i++)
		if (wins[i] != 1) {
			if (n++ < 5)
				printf("# stamp %zu won %u times\n", i, wins[i]);
		}
	check_int(n, 0, "every stamp won exactly once");

	/* One bucket: 256 stamps, then full; an hour after they expire,
	 * room again. */
	snprintf(path, sizeof path, "%s/one.db", dir);
	check_int(nym_powdb_open(&db, path, 8192), 0, "a one-bucket file");
	ok = 1;
	for (i = 0; i < 256; i++) {
		n = snprintf(name, sizeof name, "s%zu", i);
		if (nym_powdb_spend(&db, name, (size_t)n, (time_t)(T0 + DAY),
		    (time_t)T0) != 0)
			ok = 0;
	}
	check(ok, "256 stamps recorded");
	check_int(nym_powdb_spend(&db, "s0", 2, (time_t)(T0 + DAY), (time_t)T0),
	    1, "the first is spent");
	check_int(nym_powdb_spend(&db, "new", 3, (time_t)(T0 + DAY),
	    (time_t)T0), -1, "the 257th: full");
	check_int(errno, ENOSPC, "with ENOSPC");
	check_int(nym_powdb_spend(&db, "new", 3, (time_t)(T0 + 2 * DAY),
	    (time_t)(T0 + DAY)), 0, "taken once the others expired");
	check_int(nym_powdb_spend(&db, "new", 3, (time_t)(T0 + 2 * DAY),
	    (time_t)(T0 + DAY)), 1, "and spent then");
	nym_powdb_close(&db);

	if (fork() == 0)
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
	wait(NULL);
	return tap_done();
}
