/*
 * date.c - RFC 5322 date-time parsing and formatting.
 *
 * Dates come from every kind of client, so the parser takes the obsolete
 * syntax of RFC 5322 4.3 (comments anywhere, no weekday or no comma after
 * it, two- and three-digit years, zone names, one-digit hours, missing
 * seconds) but checks the range of every field.  A weekday that does not
 * match the date is ignored.  Alphabetic zones other than the ones RFC 5322
 * names are taken as -0000, as 4.3 asks; a missing zone is an error.
 *
 * UTC is computed here from the proleptic Gregorian calendar instead of with
 * timegm() or mktime(), which are not portable or depend on TZ.  Arithmetic
 * is 64-bit; a time that does not fit time_t is EINVAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "msg.h"

struct dscan {
	const char *p, *e;
};

static const char monthnames[12][4] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};
static const char daynames[7][4] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};
static const char fmonths[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char fdays[7][4] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};
static const int mdays[12] = {
	31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};
static const int cumdays[12] = {
	0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
};

static const struct {
	const char *name;
	int min;
} zones[] = {
	{ "ut", 0 }, { "gmt", 0 },
	{ "est", -300 }, { "edt", -240 },
	{ "cst", -360 }, { "cdt", -300 },
	{ "mst", -420 }, { "mdt", -360 },
	{ "pst", -480 }, { "pdt", -420 }
};

static int
isleap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
monthlen(int m, int64_t y)
{
	return mdays[m - 1] + (m == 2 && isleap(y));
}

/* Days from 0001-01-01 to y-m-d (y >= 1). */
static int64_t
ordinal(int64_t y, int m, int d)
{
	int64_t py = y - 1, n;

	n = 365 * py + py / 4 - py / 100 + py / 400 + cumdays[m - 1] + d - 1;
	if (m > 2 && isleap(y))
		n++;
	return n;
}

/* The inverse of ordinal() for n >= 0. */
static void
civil(int64_t n, int64_t *y, int *m, int *d)
{
	int64_t q400, c, q4, yr, r;
	int i;

	q400 = n / 146097;
	r = n % 146097;
	/* The last day of a 400-year or 4-year cycle gives 4, not 3. */
	c = r / 36524;
	if (c == 4)
		c = 3;
	r -= c * 36524;
	q4 = r / 1461;
	r -= q4 * 1461;
	yr = r / 365;
	if (yr == 4)
		yr = 3;
	r -= yr * 365;
	*y = 1 + 400 * q400 + 100 * c + 4 * q4 + yr;
	for (i = 1; i < 12 && r >= monthlen(i, *y); i++)
		r -= monthlen(i, *y);
	*m = i;
	*d = (int)r + 1;
}

static int
isws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
isalph(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Skip CFWS.  1 if something was skipped, 0 if not, -1 for an
 * unterminated comment. */
static int
skipcfws(struct dscan *s)
{
	const char *start = s->p;
	size_t depth;

	while (s->p < s->e) {
		if (isws(*s->p)) {
			s->p++;
			continue;
		}
		if (*s->p != '(')
			break;
		depth = 0;
		while (s->p < s->e) {
			if (*s->p == '\\') {
				if (++s->p == s->e)
					break;
			} else if (*s->p == '(')
				depth++;
			else if (*s->p == ')' && --depth == 0) {
				s->p++;
				break;
			}
			s->p++;
		}
		if (depth != 0)
			return -1;
	}
	return s->p != start;
}

/* A run of letters, lower-cased into buf.  Its length, or -1 if it does
 * not fit. */
static int
alpharun(struct dscan *s, char *buf, size_t cap)
{
	size_t n = 0;

	while (s->p < s->e && isalph(*s->p)) {
		if (n + 1 >= cap)
			return -1;
		buf[n++] = (char)(*s->p | 0x20);
		s->p++;
	}
	buf[n] = '\0';
	return (int)n;
}

/* A run of digits.  Its length (its value in *v if at most 9 digits). */
static int
digits(struct dscan *s, int *v)
{
	int n = 0;

	*v = 0;
	while (s->p < s->e && *s->p >= '0' && *s->p <= '9') {
		if (n < 9)
			*v = *v * 10 + (*s->p - '0');
		n++;
		s->p++;
	}
	return n;
}

static int
lookup(const char (*tab)[4], int n, const char *w)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(tab[i], w) == 0)
			return i;
	return -1;
}

static int
zonename(const char *w, int n, int *zmin)
{
	size_t i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (strcmp(zones[i].name, w) == 0) {
			*zmin = zones[i].min;
			return 0;
		}
	/* Military letters and unknown names mean -0000 (RFC 5322 4.3). */
	if (n == 1 && w[0] == 'j')
		return -1;
	*zmin = 0;
	return 0;
}

int
nym_date_parse(const char *s, size_t len, time_t *t, int *zone)
{
	struct dscan sc;
	char w[8];
	int n, day, mon, year, hh, mm, ss, zmin, sign, v;
	int64_t secs;

	if (s == NULL)
		goto bad;
	sc.p = s;
	sc.e = s + len;
	if (skipcfws(&sc) < 0)
		goto bad;
	if (sc.p < sc.e && isalph(*sc.p)) {
		if (alpharun(&sc, w, sizeof(w)) != 3 ||
		    lookup(daynames, 7, w) < 0 || skipcfws(&sc) < 0)
			goto bad;
		if (sc.p < sc.e && *sc.p == ',')
			sc.p++;
		if (skipcfws(&sc) < 0)
			goto bad;
	}

	n = digits(&sc, &day);
	if (n < 1 || n > 2 || skipcfws(&sc) != 1)
		goto bad;
	if (alpharun(&sc, w, sizeof(w)) != 3 ||
	    (mon = lookup(monthnames, 12, w)) < 0 || skipcfws(&sc) != 1)
		goto bad;
	mon++;
	n = digits(&sc, &year);
	if (n < 2 || n > 4 || skipcfws(&sc) != 1)
		goto bad;
	if (n == 2)
		year += year < 50 ? 2000 : 1900;
	else if (n == 3)
		year += 1900;

	n = digits(&sc, &hh);
	if (n < 1 || n > 2 || skipcfws(&sc) < 0)
		goto bad;
	if (sc.p == sc.e || *sc.p++ != ':' || skipcfws(&sc) < 0)
		goto bad;
	if (digits(&sc, &mm) != 2 || skipcfws(&sc) < 0)
		goto bad;
	ss = 0;
	if (sc.p < sc.e && *sc.p == ':') {
		sc.p++;
		if (skipcfws(&sc) < 0 || digits(&sc, &ss) != 2 ||
		    skipcfws(&sc) < 0)
			goto bad;
	}

	if (sc.p == sc.e)
		goto bad;
	if (*sc.p == '+' || *sc.p == '-') {
		sign = *sc.p++ == '-' ? -1 : 1;
		if (digits(&sc, &v) != 4 || v % 100 > 59)
			goto bad;
		zmin = sign * (v / 100 * 60 + v % 100);
	} else if (isalph(*sc.p)) {
		n = alpharun(&sc, w, sizeof(w));
		if (n < 1 || n > 5 || zonename(w, n, &zmin) < 0)
			goto bad;
	} else
		goto bad;
	if (skipcfws(&sc) < 0 || sc.p != sc.e)
		goto bad;

	if (year < NYM_YEAR_MIN || year > NYM_YEAR_MAX || day < 1 ||
	    day > monthlen(mon, year) ||
	    hh > 23 || mm > 59 || ss > 60)
		goto bad;
	if (ss == 60)
		ss = 59;

	secs = (ordinal(year, mon, day) - ordinal(1970, 1, 1)) * 86400 +
	    (int64_t)hh * 3600 + (int64_t)mm * 60 + ss - (int64_t)zmin * 60;
	/* The instant in UTC within the years too, not only the local
	 * date: "1 Jan 1900 00:00 +0100" is in 1899, which would be
	 * formatted and then refused (t/fuzz/regress/date). */
	if (secs < (ordinal(NYM_YEAR_MIN, 1, 1) - ordinal(1970, 1, 1)) *
	    86400 ||
	    secs >= (ordinal(NYM_YEAR_MAX + 1, 1, 1) - ordinal(1970, 1, 1)) *
	    86400 || (int64_t)(time_t)secs != secs)
		goto bad;
	if (t != NULL)
		*t = (time_t)secs;
	if (zone != NULL)
		*zone = zmin;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static char *
putstr(char *p, const char *s)
{
	while (*s != '\0')
		*p++ = *s++;
	return p;
}

static char *
putnum(char *p, int v, int width)
{
	char d[8];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < (int)sizeof(d));
	while (n < width)
		d[n++] = '0';
	while (n > 0)
		*p++ = d[--n];
	return p;
}

size_t
nym_date_format(time_t t, char *buf, size_t cap)
{
	int64_t v = t, days, rem, n, y;
	int m, d;
	char *p;

	if (buf == NULL || cap == 0)
		return 0;
	buf[0] = '\0';
	if (cap < 32)
		return 0;
	days = v / 86400;
	rem = v % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	n = days + ordinal(1970, 1, 1);
	if (n < 0)
		return 0;
	civil(n, &y, &m, &d);
	if (y > NYM_YEAR_MAX)
		return 0;

	/* At most "Mon, 31 Jan 9999 23:59:59 +0000": 31 bytes and a NUL. */
	p = putstr(buf, fdays[n % 7]);
	p = putstr(p, ", ");
	p = putnum(p, d, 1);
	*p++ = ' ';
	p = putstr(p, fmonths[m - 1]);
	*p++ = ' ';
	p = putnum(p, (int)y, 4);
	*p++ = ' ';
	p = putnum(p, (int)(rem / 3600), 2);
	*p++ = ':';
	p = putnum(p, (int)(rem / 60 % 60), 2);
	*p++ = ':';
	p = putnum(p, (int)(rem % 60), 2);
	p = putstr(p, " +0000");
	*p = '\0';
	return (size_t)(p - buf);
}

