/*
 * date.c - unit tests for nym_date_parse and nym_date_format: every zone
 * form, leap years, obsolete years, comments, and garbage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "tap.h"

#define BAD	INT64_MIN	/* the row must fail with EINVAL */
#define T0	1057049557LL	/* 2003-07-01 08:52:37 UTC */

static const struct {
	const char *s;
	long long t;
	int zone;
	size_t len;		/* 0: strlen(s) */
} prows[] = {
	/* RFC 5322 3.3 */
	{ "Tue, 1 Jul 2003 10:52:37 +0200", T0, 120, 0 },
	{ "Tue, 01 Jul 2003 10:52:37 +0200", T0, 120, 0 },
	{ "1 Jul 2003 10:52:37 +0200", T0, 120, 0 },
	{ "Tue, 1 Jul 2003 14:22:37 +0530", T0, 330, 0 },
	{ "Tue, 1 Jul 2003 03:22:37 -0530", T0, -330, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 +0000", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 -0000", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 +9959", T0 - 359940, 5999, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 -9959", T0 + 359940, -5999, 0 },
	{ "Tue, 1 Jul 2003 10:52 +0200", T0 - 37, 120, 0 },
	/* obsolete forms, RFC 5322 4.3 */
	{ "Tue 1 Jul 2003 10:52:37 +0200", T0, 120, 0 },
	{ "Tue , 1 Jul 2003 10:52:37 +0200", T0, 120, 0 },
	{ "Tue,1 Jul 2003 10:52:37 +0200", T0, 120, 0 },
	{ "tue, 1 JUL 2003 10:52:37 +0200", T0, 120, 0 },
	{ "  Tue,   1  Jul \t 2003   10:52:37    +0200   ", T0, 120, 0 },
	{ "Tue, 1 Jul 2003\r\n 10:52:37 +0200\r\n", T0, 120, 0 },
	{ "Tue, 1 Jul 2003 10:52:37 +0200 (CEST)", T0, 120, 0 },
	{ "(a) Tue (b) , (c) 1 (d) Jul (e) 2003 (f) 10 (g) : (h) 52 (i) : "
	    "(j) 37 (k) +0200 (l)", T0, 120, 0 },
	{ "Tue, 1 Jul 2003 10:52:37 +0200 (a (nested \\) ) comment)", T0, 120,
	    0 },
	{ "Tue(x)1(y)Jul(z)2003(w)10:52:37+0200", T0, 120, 0 },
	{ "Tue, 1 Jul 2003 10 : 52 : 37 +0200", T0, 120, 0 },
	{ "Tue, 1 Jul 2003 8:52:37 +0000", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 UT", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 GMT", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 gmt", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37GMT", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 03:52:37 EST", T0, -300, 0 },
	{ "Tue, 1 Jul 2003 04:52:37 EDT", T0, -240, 0 },
	{ "Tue, 1 Jul 2003 02:52:37 CST", T0, -360, 0 },
	{ "Tue, 1 Jul 2003 03:52:37 CDT", T0, -300, 0 },
	{ "Tue, 1 Jul 2003 01:52:37 MST", T0, -420, 0 },
	{ "Tue, 1 Jul 2003 02:52:37 MDT", T0, -360, 0 },
	{ "Tue, 1 Jul 2003 00:52:37 PST", T0, -480, 0 },
	{ "Tue, 1 Jul 2003 01:52:37 PDT", T0, -420, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 Z", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 A", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 m", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 Y", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 CEST", T0, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 J", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 EUROPE", BAD, 0, 0 },
	/* years */
	{ "1 Jul 03 08:52:37 +0000", T0, 0, 0 },
	{ "1 Jul 49 08:52:37 +0000", 2508742357LL, 0, 0 },
	{ "1 Jan 50 00:00:00 +0000", -631152000LL, 0, 0 },
	{ "31 Dec 99 23:59:59 +0000", 946684799LL, 0, 0 },
	{ "1 Jul 103 08:52:37 +0000", T0, 0, 0 },
	{ "1 Jan 1900 00:00:00 +0000", -2208988800LL, 0, 0 },
	{ "31 Dec 9999 23:59:59 +0000", 253402300799LL, 0, 0 },
	{ "1 Jan 1970 00:00:00 +0000", 0, 0, 0 },
	{ "1 Jan 1970 00:00:00 +0100", -3600, 60, 0 },
	{ "31 Dec 1969 23:59:59 +0000", -1, 0, 0 },
	{ "31 Dec 1899 23:59:59 +0000", BAD, 0, 0 },
	{ "1 Jan 0999 00:00:00 +0000", BAD, 0, 0 },
	{ "1 Jan 10000 00:00:00 +0000", BAD, 0, 0 },
	/* The instant in UTC within the years, not only the local date:
	 * formatted, 1899 would not parse again (t/fuzz/regress/date). */
	{ "1 Jan 1900 00:00:00 +0100", BAD, 0, 0 },
	{ "4 Jan 000 1:05 +8000", BAD, 0, 0 },
	{ "1 Jan 1900 00:59:59 +0100", BAD, 0, 0 },
	{ "1 Jan 1900 01:00:00 +0100", -2208988800LL, 60, 0 },
	{ "31 Dec 9999 23:59:59 -0001", BAD, 0, 0 },
	{ "31 Dec 9999 23:58:59 -0001", 253402300799LL, -1, 0 },
	{ "1 Jan 3 00:00:00 +0000", BAD, 0, 0 },
	/* leap years and ranges */
	{ "Thu, 29 Feb 2024 00:00:00 +0000", 1709164800LL, 0, 0 },
	{ "Wed, 29 Feb 2023 00:00:00 +0000", BAD, 0, 0 },
	{ "29 Feb 2000 12:00:00 +0000", 951825600LL, 0, 0 },
	{ "29 Feb 1900 12:00:00 +0000", BAD, 0, 0 },
	{ "30 Feb 2024 00:00:00 +0000", BAD, 0, 0 },
	{ "31 Apr 2024 00:00:00 +0000", BAD, 0, 0 },
	{ "32 Jan 2024 00:00:00 +0000", BAD, 0, 0 },
	{ "0 Jan 2024 00:00:00 +0000", BAD, 0, 0 },
	{ "001 Jan 2024 00:00:00 +0000", BAD, 0, 0 },
	{ "1 Jan 2024 24:00:00 +0000", BAD, 0, 0 },
	{ "1 Jan 2024 23:60:00 +0000", BAD, 0, 0 },
	{ "1 Jan 2024 23:59:61 +0000", BAD, 0, 0 },
	{ "30 Jun 2015 23:59:60 +0000", 1435708799LL, 0, 0 },
	{ "1 Jan 2024 10:5:00 +0000", BAD, 0, 0 },
	{ "1 Jan 2024 10:05:0 +0000", BAD, 0, 0 },
	{ "1 Jan 2024 100:05:00 +0000", BAD, 0, 0 },
	{ "1 Jan 2024 10:05:00 +0060", BAD, 0, 0 },
	{ "1 Jan 2024 10:05:00 +020", BAD, 0, 0 },
	{ "1 Jan 2024 10:05:00 +02000", BAD, 0, 0 },
	{ "1 Jan 2024 10:05:00 +", BAD, 0, 0 },
	{ "1 Jan 2024 10:05:00 0200", BAD, 0, 0 },
	/* the weekday is not checked against the date */
	{ "Mon, 1 Jul 2003 08:52:37 +0000", T0, 0, 0 },
	/* garbage */
	{ "", BAD, 0, 0 },
	{ "   ", BAD, 0, 0 },
	{ "(just a comment)", BAD, 0, 0 },
	{ "garbage", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 +0000 trailing", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 +0000 (unterminated", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 +0000 (a (b)", BAD, 0, 0 },
	{ "Tue, 1 Jul 2003 08:52:37 +0000 (\\", BAD, 0, 0 },
	{ "Tuesday, 1 Jul 2003 08:52:37 +0000", BAD, 0, 0 },
	{ "Foo, 1 Jul 2003 08:52:37 +0000", BAD, 0, 0 },
	{ "Tue,, 1 Jul 2003 08:52:37 +0000", BAD, 0, 0 },
	{ "1 July 2003 08:52:37 +0000", BAD, 0, 0 },
	{ "1 Jly 2003 08:52:37 +0000", BAD, 0, 0 },
	{ "1Jul2003 08:52:37 +0000", BAD, 0, 0 },
	{ "1 Jul 200308:52:37 +0000", BAD, 0, 0 },
	{ "1-Jul-2003 08:52:37 +0000", BAD, 0, 0 },
	{ "2003-07-01T08:52:37Z", BAD, 0, 0 },
	{ "1 Jul 2003 08:52:37 +0000\0", BAD, 0, 26 },
	{ "1 Jul 2003 08:52:37 +00\0" "00", BAD, 0, 25 },
	{ "1 Jul 2003 08:52:37 -0000-0000", BAD, 0, 0 },
	/* the length is honoured: what follows it is not read */
	{ "1 Jul 2003 08:52:37 +0000XYZ", T0, 0, 25 },
	{ "1 Jul 2003 08:52:37 +00001", T0, 0, 25 },
	{ "1 Jul 2003 08:52:37 +0000 (a)", BAD, 0, 28 },
	{ "1 Jul 2003 08:52:37 +00", BAD, 0, 23 }
};

static const struct {
	long long t;
	const char *s;
} frows[] = {
	{ 0, "Thu, 1 Jan 1970 00:00:00 +0000" },
	{ T0, "Tue, 1 Jul 2003 08:52:37 +0000" },
	{ 1136214245LL, "Mon, 2 Jan 2006 15:04:05 +0000" },
	{ 1709164800LL, "Thu, 29 Feb 2024 00:00:00 +0000" },
	{ 951825600LL, "Tue, 29 Feb 2000 12:00:00 +0000" },
	{ -1, "Wed, 31 Dec 1969 23:59:59 +0000" },
	{ -2208988800LL, "Mon, 1 Jan 1900 00:00:00 +0000" },
	{ 253402300799LL, "Fri, 31 Dec 9999 23:59:59 +0000" },
	{ -62135596800LL, "Mon, 1 Jan 0001 00:00:00 +0000" },
	{ 253402300800LL, "" },
	{ -62135596801LL, "" }
};

/* A test name for s: control characters shown as "\\xNN". */
static void
name(char *what, size_t cap, const char *s, size_t len)
{
	size_t i, o;

	o = (size_t)snprintf(what, cap, "parse \"");
	for (i = 0; i < len && o + 8 < cap; i++) {
		if ((unsigned char)s[i] < 0x20)
			o += (size_t)snprintf(what + o, cap - o, "\\x%02x",
			    (unsigned char)s[i]);
		else
			what[o++] = s[i];
	}
	snprintf(what + o, cap - o, "\"");
}

static void
test_parse(void)
{
	char what[160];
	size_t i, len;
	time_t t;
	int r, zone;

	for (i = 0; i < sizeof(prows) / sizeof(prows[0]); i++) {
		len = prows[i].len != 0 ? prows[i].len : strlen(prows[i].s);
		t = 12345;
		zone = 12345;
		errno = 0;
		r = nym_date_parse(prows[i].s, len, &t, &zone);
		name(what, sizeof(what), prows[i].s, len);
		if (prows[i].t == BAD) {
			check(r == -1 && errno == EINVAL, what);
			continue;
		}
		if (r != 0) {
			check(0, what);
			printf("#   failed: %s\n", strerror(errno));
			continue;
		}
		check_int(t, prows[i].t, what);
		check_int(zone, prows[i].zone, what);
	}
}

static void
test_format(void)
{
	char buf[64], what[80];
	size_t i, n;

	for (i = 0; i < sizeof(frows) / sizeof(frows[0]); i++) {
		snprintf(what, sizeof(what), "format %lld", frows[i].t);
		memset(buf, 'x', sizeof(buf));
		n = nym_date_format((time_t)frows[i].t, buf, sizeof(buf));
		check_str(buf, frows[i].s, what);
		check_int(n, strlen(frows[i].s), what);
	}

	memset(buf, 'x', sizeof(buf));
	n = nym_date_format(T0, buf, 31);
	check(n == 0 && buf[0] == '\0', "format: cap 31 gives \"\"");
	n = nym_date_format(253402300799LL, buf, 32);
	check(n == 31 && buf[31] == '\0', "format: cap 32 is enough");
}

/* Every day from 1900 to 9999 at a varying time: format, parse back. */
static void
test_roundtrip(void)
{
	char buf[32];
	long long t, bad = 0;
	time_t back;
	int zone;
	size_t n;

	for (t = -2208988800LL; t <= 253402300799LL; t += 86400 + 7) {
		n = nym_date_format((time_t)t, buf, sizeof(buf));
		if (nym_date_parse(buf, n, &back, &zone) != 0 ||
		    (long long)back != t || zone != 0) {
			if (bad++ == 0)
				printf("# first mismatch at %lld: %s\n", t, buf);
		}
	}
	check_int(bad, 0, "format then parse, every day 1900-9999");
}

int
main(void)
{
	test_parse();
	test_format();
	test_roundtrip();
	return tap_done();
}
