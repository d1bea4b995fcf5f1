/*
 * powbench.c - in-process costs of lib/pow.c and lib/powdb.c for
 * t/bench/pow.sh (make bench).
 *
 * usage: powbench check FILE        median and mean microseconds of
 *                                   nym_pow_check over the stamps in FILE
 *                                   (one a line), each checked 20 times
 *        powbench mint BITS N      hashes a second of nym_pow_mint (CPU
 *                                   time), over N stamps of BITS
 *        powbench db PATH N         fill a fresh database at PATH with N
 *                                   stamps, then time 20,000 checks of new
 *                                   stamps and 20,000 of spent ones
 *
 * Times are CPU time of this process (CLOCK_PROCESS_CPUTIME_ID) unless
 * said, so that the other work of a shared machine counts less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "pow.h"

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
check(const char *file)
{
	static char lines[1000][NYM_POW_STAMP_MAX + 2];
	struct nym_pow_policy p = { NULL, 0, 28L * 86400, 2L * 86400 };
	double t[20], t0;
	FILE *f = fopen(file, "r");
	int n = 0, i, r, bad = 0;

	if (f == NULL)
		return 1;
	while (n < 1000 && fgets(lines[n], sizeof lines[n], f) != NULL) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(f);
	for (r = 0; r < 20; r++) {
		t0 = cpu();
		for (i = 0; i < n; i++)
			if (nym_pow_check(lines[i], strlen(lines[i]), &p,
			    nym_now(), NULL) != NYM_POW_OK)
				bad++;
		t[r] = (cpu() - t0) / n * 1e6;
	}
	qsort(t, 20, sizeof t[0], cmp);
	printf("%.2f %d\n", t[10], bad);
	return bad != 0;
}

static int
db(const char *path, long n)
{
	struct nym_powdb d;
	char s[64];
	time_t now = nym_now();
	double t0, w0, tnew, tspent, wnew;
	long i;
	int k, bad = 0;

	unlink(path);
	if (nym_powdb_open(&d, path, NYM_POW_DB_SIZE) == -1) {
		perror(path);
		return 1;
	}
	for (i = 0; i < n; i++) {
		k = snprintf(s, sizeof s, "fill %ld", i);
		if (nym_powdb_spend(&d, s, (size_t)k, now + 86400, now) != 0)
			bad++;
	}
	w0 = wall();
	t0 = cpu();
	for (i = 0; i < 20000; i++) {
		k = snprintf(s, sizeof s, "new %ld", i);
		if (nym_powdb_spend(&d, s, (size_t)k, now + 86400, now) != 0)
			bad++;
	}
	tnew = (cpu() - t0) / 20000 * 1e6;
	wnew = (wall() - w0) / 20000 * 1e6;
	t0 = cpu();
	for (i = 0; i < 20000; i++) {
		k = snprintf(s, sizeof s, "fill %ld", i * (n / 20000 + 1) % n);
		if (nym_powdb_spend(&d, s, (size_t)k, now + 86400, now) != 1)
			bad++;
	}
	tspent = (cpu() - t0) / 20000 * 1e6;
	nym_powdb_close(&d);
	printf("%.2f %.2f %.2f %d\n", tnew, wnew, tspent, bad);
	return bad != 0;
}

static int
mint(unsigned bits, int n)
{
	char out[NYM_POW_STAMP_MAX + 1];
	uint64_t tries, all = 0;
	double t0 = cpu();
	int i;

	for (i = 0; i < n; i++) {
		if (nym_pow_mint("bob@bob.i2p", bits, nym_now(), out,
		    sizeof out, &tries) == -1)
			return 1;
		all += tries;
	}
	printf("%.0f\n", all / (cpu() - t0));
	return 0;
}

int
main(int argc, char **argv)
{
	if (nym_crypto_init() == -1)
		return 1;
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return check(argv[2]);
	if (argc == 4 && strcmp(argv[1], "mint") == 0)
		return mint((unsigned)atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "db") == 0)
		return db(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: powbench check FILE | mint BITS N | db PATH N\n");
	return 64;
}
