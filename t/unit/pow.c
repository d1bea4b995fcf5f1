/*
 * pow.c - unit tests for hashcash v1 stamps (lib/pow.c) and the
 * double-spend database (lib/powdb.c): dates as hashcash reads them, a
 * stamp hashcash minted, mint and check round trips, and the database
 * spent from several processes at once (every stamp won exactly once,
 * which fails without the bucket locks), full, and expired records
 * reused.  Equihash stamps (kind E1): minted and taken, and refused when
 * moved to another resource, date or nonce, tampered with, of repeated
 * or reordered indices (libequihash's verify takes both), of another
 * set or version, expired or future-dated; demands parsed (hostile text
 * refused), their schedules at the boundary, deprecated kinds' surcharge
 * and the cheapest kind picked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <sodium.h>

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

/* Demands that must be refused. */
static const char *const baddem[] = {
	"", "   ", "\t", "1", "1:", ":20", "1:20:", "1:161", "1:-1", "1:020",
	"1:2x", "1:1234", "E1:96,5", "E1:96:5:0", "E1:96,5:17", "E1:96,5:",
	"E1:,5:0", "E1:96,:0", "E1:96,5:0:1", "1:20>22", "1:20>22@",
	"1:20>22@2027-02-30", "1:20>22@2027-02-29", "1:20>22@2027-3-01",
	"1:20>22@1969-12-31", "1:20>22@1970-01-01", "1:20>@2027-03-01",
	"1:20>22@2027-03-01>24@2027-03-01", "1:20>22@2027-03-02>24@2027-03-01",
	"1:1>2@2027-01-01>3@2027-01-02>4@2027-01-03>5@2027-01-04",
	"1:20\n", "1:20\r", "1:2\x80", "\x7f" "1:20", "1:20+33", "1:150+20",
	"1:20++4", "1:+4", "1:20+", "E1:96,5:0+", "E1:96,5:10+7", "1:20+04",
	"1:20 1:20 1:20 1:20 1:20 1:20 1:20 1:20 1:20", "A2:", "A2", ":",
	"K!nd:x", "1:20>22@2027-03-01+", "1:20>22@2027-03-01@2027-04-01",
};

/* The indices of an E1 solution (96,5: 17 bits each, after 4 bytes),
 * unpacked and packed here on their own, for the tests that reorder. */
static void
e1indices(unsigned char *bin, uint32_t idx[32], int put)
{
	unsigned i, b;

	for (i = 0; i < 32; i++) {
		if (!put)
			idx[i] = 0;
		for (b = 0; b < 17; b++) {
			size_t bit = 32 + (size_t)i * 17 + b;
			unsigned char *p = bin + bit / 8, m = 0x80 >> bit % 8;

			if (!put)
				idx[i] = idx[i] << 1 | !!(*p & m);
			else if (idx[i] >> (16 - b) & 1)
				*p |= m;
			else
				*p &= (unsigned char)~m;
		}
	}
}

/* stamp with its field f (0-based) replaced by v, into out. */
static void
field(const char *stamp, int f, const char *v, char *out, size_t cap)
{
	const char *p = stamp, *e;
	size_t n = 0;
	int k;

	for (k = 0; k < f; k++)
		p = strchr(p, ':') + 1;
	e = strchr(p, ':');
	n = (size_t)(p - stamp);
	snprintf(out, cap, "%.*s%s%s", (int)n, stamp, v, e != NULL ? e : "");
}

static int
e1demand(const char *stamp, const char *dem, const char *res, long long now)
{
	struct nym_pow_demand d;

	if (nym_pow_demand_parse(dem, &d) == -1)
		return -2;
	return nym_pow_check_demand(stamp, strlen(stamp), &d, res,
	    (time_t)now, NULL);
}

static void
equihash(void)
{
	char a[NYM_POW_STAMP_MAX + 1], b[NYM_POW_STAMP_MAX + 1];
	char s1[NYM_POW_STAMP_MAX + 1];
	char t[NYM_POW_STAMP_MAX + 1], name[64];
	const char *dem = NYM_POW_DEMAND_DEFAULT;
	struct nym_pow_policy pol = { "foo@bar", 20, 28 * DAY, 2 * DAY };
	struct nym_pow_demand d;
	unsigned char bin[72];
	uint32_t idx[32], x;
	uint64_t solves;
	time_t until;
	size_t len, i;
	int ok;

	check_int(nym_pow_mint_e1("Foo@Bar", 96, 5, 0, (time_t)T0, 0, NULL,
	    NULL, a, sizeof a, &solves), 0, "E1: minted at 96,5");
	check(strncmp(a, "E1:96:5:0:261206:foo@bar:", 25) == 0,
	    "E1: its form, the resource lowercased");
	check_int(solves, 1, "E1: no extra bits: one solve");
	check_int(nym_pow_mint_e1("foo@baz", 96, 5, 0, (time_t)T0, 0, NULL,
	    NULL, b, sizeof b, NULL), 0, "E1: another for foo@baz");
	check_int(nym_pow_demand_parse(dem, &d), 0, "the default demand");
	check_int(nym_pow_check_demand(a, strlen(a), &d, "FOO@bar",
	    (time_t)T0, &until), NYM_POW_OK, "E1: taken");
	check_int(until, T0 + 30 * DAY, "E1: until its date, 28 days, grace");
	check_int(nym_pow_check(a, strlen(a), &pol, (time_t)T0, NULL),
	    NYM_POW_OK, "E1: taken by nym_pow_check too (no extra bits)");
	check_int(e1demand(a, dem, "foo@baz", T0), NYM_POW_RESOURCE,
	    "E1: another resource");
	check_int(e1demand(a, dem, NULL, T0 + 30 * DAY), NYM_POW_EXPIRED,
	    "E1: expired");
	check_int(e1demand(a, dem, NULL, T0 + 30 * DAY - 1), NYM_POW_OK,
	    "E1: not a second before");
	check_int(e1demand(a, dem, NULL, T0 - 2 * DAY - 1), NYM_POW_FUTURE,
	    "E1: future");
	check_int(e1demand(a, dem, NULL, T0 - 2 * DAY), NYM_POW_OK,
	    "E1: not at the grace");

	/* moved: b's solution on a's prefix, a's on another resource,
	 * date or nonce */
	field(a, 7, strrchr(b, ':') + 1, t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_BITS,
	    "E1: a solution moved from another resource's stamp");
	field(a, 5, "foo@baz", t, sizeof t);
	check_int(e1demand(t, dem, "foo@baz", T0), NYM_POW_BITS,
	    "E1: the resource changed under its solution");
	field(a, 4, "261207", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_BITS,
	    "E1: the date changed under its solution");
	field(a, 6, "AAAAAAAAAAAAAAAA", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_BITS,
	    "E1: the nonce changed under its solution");
	field(a, 3, "1", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_BITS,
	    "E1: the claim raised under its solution");

	/* tampered: every character of the solution changed in turn */
	ok = 1;
	len = strlen(a);
	for (i = strrchr(a, ':') + 1 - a; i < len; i++) {
		memcpy(t, a, len + 1);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		if (e1demand(t, dem, "foo@bar", T0) == NYM_POW_OK)
			ok = 0;
	}
	check(ok, "E1: no character of the solution may change");

	/* the solution's indices: repeated, or out of order */
	memset(t, 0, sizeof t);
	field(a, 7, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_BITS,
	    "E1: 32 times index 0 (libequihash's verify takes it)");
	check_int(sodium_base642bin(bin, sizeof bin, strrchr(a, ':') + 1, 96,
	    NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING), 0,
	    "E1: its solution decodes");
	e1indices(bin, idx, 0);
	ok = 1;
	for (i = 1; i < 32; i++)
		if (idx[i] <= idx[i - 1])
			ok = 0;
	check(ok, "E1: minted with its indices in order");
	x = idx[0];
	idx[0] = idx[1];
	idx[1] = x;
	e1indices(bin, idx, 1);
	{
		char enc[100];

		sodium_bin2base64(enc, sizeof enc, bin, 72,
		    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
		field(a, 7, enc, t, sizeof t);
	}
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_BITS,
	    "E1: two indices swapped (a second text of one solution)");

	/* sets and versions */
	field(a, 1, "90", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_UNKNOWN,
	    "E1: a set not taken (90,5) is unknown");
	nym_pow_kind(t, strlen(t), name, sizeof name);
	check_str(name, "E1:90:5", "E1: its kind named with its set");
	field(a, 1, "102", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_MALFORMED,
	    "E1: 102,5 with a 96,5 solution's length");
	check_int(e1demand(a, "E1:102,5:0", "foo@bar", T0), NYM_POW_UNWANTED,
	    "E1: 96,5 when the demand asks 102,5");
	check_int(e1demand(a, "1:0", "foo@bar", T0), NYM_POW_UNWANTED,
	    "E1: when the demand asks hashcash only");
	field(a, 0, "E2", t, sizeof t);
	check_int(e1demand(t, dem, "foo@bar", T0), NYM_POW_UNKNOWN,
	    "E1: version 2 is unknown");
	check_int(e1demand("X9:1:2", dem, "foo@bar", T0), NYM_POW_UNKNOWN,
	    "an unknown kind is unknown");
	check_int(e1demand("E1:96:5:0:261206:foo@bar:x", dem, NULL, T0),
	    NYM_POW_MALFORMED, "E1: seven fields");
	check_int(e1demand(a, "E1:96,5:1", "foo@bar", T0), NYM_POW_BITS,
	    "E1: 0 extra bits when 1 is demanded");

	/* extra bits */
	check_int(nym_pow_mint_e1("foo@bar", 96, 5, 1, (time_t)T0, 0, NULL,
	    NULL, s1, sizeof s1, &solves), 0, "E1: minted with 1 extra bit");
	check_int(e1demand(s1, "E1:96,5:1", "foo@bar", T0), NYM_POW_OK,
	    "E1: taken at 1 extra bit");
	field(s1, 3, "0", t, sizeof t);
	check_int(e1demand(t, "E1:96,5:0", "foo@bar", T0), NYM_POW_BITS,
	    "E1: its claim lowered: another seed");

	check_int(nym_pow_mint_e1("foo@bar", 90, 5, 0, (time_t)T0, 0, NULL,
	    NULL, t, sizeof t, NULL), -1, "E1: 90,5 not minted");
	check_int(errno, EINVAL, "with EINVAL");
	check_int(nym_pow_mint_e1("foo@bar", 96, 5, 0, (time_t)T0, 1, NULL,
	    NULL, t, sizeof t, NULL), -1, "E1: a deadline past");
	check_int(errno, ETIMEDOUT, "with ETIMEDOUT");
	check_int(nym_pow_mint_e1("foo@bar", 96, 5, 0, (time_t)T0, 0, NULL,
	    NULL, t, 100, NULL), -1, "E1: a buffer too small");
	check_int(errno, ENAMETOOLONG, "with ENAMETOOLONG");
}

static void
demands(void)
{
	struct nym_pow_demand d;
	char big[NYM_POW_DEMAND_MAX + 2], out[NYM_POW_STAMP_MAX + 1], name[96];
	const long long mar1 = 1803859200LL;	/* 2027-03-01 00:00 UTC */
	size_t i;
	int ok;

	for (i = 0; i < sizeof baddem / sizeof baddem[0]; i++) {
		size_t j;

		snprintf(name, sizeof name, "demand \"%s\" refused", baddem[i]);
		for (j = 0; name[j] != '\0'; j++)
			if ((unsigned char)name[j] < ' ' ||
			    (unsigned char)name[j] > 126)
				name[j] = '?';
		d.nwant = 99;
		check_int(nym_pow_demand_parse(baddem[i], &d), -1, name);
		check(d.nwant == 0 && errno == EINVAL, name);
	}
	memset(big, ' ', sizeof big);
	memcpy(big, "1:20", 4);
	big[NYM_POW_DEMAND_MAX] = '\0';
	check_int(nym_pow_demand_parse(big, &d), 0, "a demand of NYM_POW_DEMAND_MAX bytes");
	big[NYM_POW_DEMAND_MAX] = ' ';
	big[NYM_POW_DEMAND_MAX + 1] = '\0';
	check_int(nym_pow_demand_parse(big, &d), -1, "not of 513");

	check_int(nym_pow_demand_parse(" 1:22\tE1:96,5:0 ", &d), 0,
	    "\"1:22 E1:96,5:0\"");
	check(d.nwant == 2 && d.unknown == 0 &&
	    d.want[0].kind == NYM_POW_HASHCASH && d.want[0].bits[0] == 22 &&
	    d.want[1].kind == NYM_POW_EQUIHASH && d.want[1].n == 96 &&
	    d.want[1].k == 5 && d.want[1].bits[0] == 0 &&
	    d.validity == 28 * DAY && d.grace == 2 * DAY, "read as written");
	check_int(nym_pow_demand_parse("A2:m=65536,t=3:9 E1:90,5:0 1:20", &d),
	    0, "kinds and sets unknown are skipped");
	check(d.nwant == 1 && d.unknown == 2, "and counted");
	check_int(nym_pow_demand_parse("A2:x", &d), 0, "only unknown kinds");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)T0), -1,
	    "nothing to mint then");
	check_int(nym_pow_demand_parse(
	    "1:1>2@2027-01-01>3@2027-01-02>4@2027-01-03", &d), 0,
	    "a schedule of 4 steps");

	/* the schedule's boundary, and the surcharge */
	check_int(nym_pow_demand_parse("1:8>9@2027-03-01", &d), 0,
	    "\"1:8>9@2027-03-01\"");
	check_int(nym_pow_want_bits(&d.want[0], (time_t)(mar1 - 1)), 8,
	    "8 bits for a stamp dated the second before");
	check_int(nym_pow_want_bits(&d.want[0], (time_t)mar1), 9,
	    "9 from the day");
	check_int(nym_pow_mint("foo@bar", 8, (time_t)(mar1 - DAY), out,
	    sizeof out, NULL), 0, "an 8-bit stamp dated 2027-02-28");
	/* its value must be 8, not more, for the test to mean anything */
	while (e1demand(out, "1:9", NULL, mar1 - DAY) == NYM_POW_OK)
		nym_pow_mint("foo@bar", 8, (time_t)(mar1 - DAY), out,
		    sizeof out, NULL);
	check_int(e1demand(out, "1:8>9@2027-03-01", "foo@bar", mar1 + 5 * DAY),
	    NYM_POW_OK, "taken after the change: dated before it");
	check_int(nym_pow_mint("foo@bar", 8, (time_t)mar1, out, sizeof out,
	    NULL), 0, "an 8-bit stamp dated 2027-03-01");
	while (e1demand(out, "1:9", NULL, mar1) == NYM_POW_OK)
		nym_pow_mint("foo@bar", 8, (time_t)mar1, out, sizeof out, NULL);
	check_int(e1demand(out, "1:8>9@2027-03-01", "foo@bar", mar1),
	    NYM_POW_BITS, "refused: dated from the change");
	check_int(e1demand(out, "1:8", "foo@bar", mar1), NYM_POW_OK,
	    "which the old demand took");
	check_int(e1demand(out, "1:6+2", "foo@bar", mar1), NYM_POW_OK,
	    "deprecated: 6 and a surcharge of 2 is 8");
	check_int(e1demand(out, "1:6+3", "foo@bar", mar1), NYM_POW_BITS,
	    "6 and 3 is 9");
	check_int(nym_pow_demand_parse("1:6+3", &d), 0, "\"1:6+3\"");
	check(d.want[0].deprecated && d.want[0].surcharge == 3 &&
	    nym_pow_want_bits(&d.want[0], (time_t)T0) == 9,
	    "deprecated, 9 bits");

	/* the cheapest kind */
	check_int(nym_pow_demand_parse(NYM_POW_DEMAND_DEFAULT, &d), 0,
	    "the default demand");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)T0), 0,
	    "the default picks E1 (hashcash's 24 bits cost more)");
	check_int(nym_pow_demand_pick(&d, NYM_POW_HASHCASH, (time_t)T0), 1,
	    "or hashcash when asked");
	check_int(nym_pow_demand_parse("E1:96,5:0 1:10", &d), 0,
	    "\"E1:96,5:0 1:10\"");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)T0), 1,
	    "10 bits of hashcash are cheaper than a solve");
	check_int(nym_pow_demand_parse("E1:102,5:0 E1:96,5:0", &d), 0,
	    "two sets");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)T0), 1,
	    "the smaller set is cheaper");
	check_int(nym_pow_demand_parse("1:20+0 1:20", &d), 0, "a tie");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)T0), 1,
	    "the kind not deprecated wins a tie");
	check_int(nym_pow_demand_parse("1:10>30@2027-03-01 E1:96,5:0", &d), 0,
	    "a rising schedule");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)(mar1 - 1)), 0,
	    "hashcash before the change");
	check_int(nym_pow_demand_pick(&d, 0, (time_t)mar1), 1,
	    "E1 from the day");
	ok = 1;
	for (i = 0; i < d.nwant; i++)
		if (d.want[i].nsteps == 0)
			ok = 0;
	check(ok, "every item has a step");
}

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

	equihash();
	demands();

	if (fork() == 0)
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
	wait(NULL);
	return tap_done();
}
