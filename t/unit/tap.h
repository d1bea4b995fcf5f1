/*
 * tap.h - a tiny TAP producer for the C unit tests (git's t/unit-tests
 * shape).  Each check prints "ok N - what" or "not ok N - what" with the
 * file and line of the failure; tap_done() prints the plan at the end and
 * returns the exit status, so no test counts by hand.
 */
#ifndef NYM_TAP_H
#define NYM_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static int
tap_ok(int cond, const char *file, int line, const char *what)
{
	tap_n++;
	if (cond) {
		printf("ok %d - %s\n", tap_n, what);
		return 1;
	}
	tap_failed++;
	printf("not ok %d - %s\n#   at %s:%d\n", tap_n, what, file, line);
	return 0;
}

#define check(cond, what) tap_ok(!!(cond), __FILE__, __LINE__, (what))

#define check_int(got, want, what) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (!tap_ok(g_ == w_, __FILE__, __LINE__, (what)))		\
		printf("#   got %lld, want %lld\n", g_, w_);		\
} while (0)

#define check_str(got, want, what) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int same_ = (g_ == NULL && w_ == NULL) ||			\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	if (!tap_ok(same_, __FILE__, __LINE__, (what)))			\
		printf("#   got \"%s\", want \"%s\"\n",			\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

/* The file's bytes into buf (NUL ended): its length, or -1. */
static inline long
tap_slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

/* Write s as the file's whole content. */
static inline void
tap_put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(s, f);
		fclose(f);
	}
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
