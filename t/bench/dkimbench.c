/*
 * dkimbench.c - in-process costs of lib/dkim.c for t/bench/onion-sign.sh
 * (make bench): what signing and checking a message cost against the
 * SHA-256 of its bytes through the same libgcrypt (SHA-NI where the CPU
 * has it), which is the floor: the body hash is part of both.
 *
 * usage: dkimbench KEYDIR FILE REPS
 *
 * The message in FILE is held in memory, signed once and the result
 * checked (a failure is exit 1); then REPS rounds, taking turns: the
 * SHA-256 of FILE's bytes (in NYM_DKIM_BUF pieces, as the engine is fed),
 * signing FILE (feed and signature), checking the signed message.  A
 * message under 64 KB is done 1,000 times a round.  Printed: the median
 * CPU milliseconds (CLOCK_PROCESS_CPUTIME_ID) of each, one operation,
 * and signing's and checking's ratio to the hash:
 *     sha256 MS sign MS verify MS sign/sha256 R verify/sha256 R
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gcrypt.h>

#include "base.h"
#include "msg.h"
#include "seal.h"
#include "tor.h"

#define REPS_MAX	101

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
feed(struct nym_dkim *d, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += NYM_DKIM_BUF)
		nym_dkim_feed(d, p + i, n - i < NYM_DKIM_BUF ? n - i :
		    NYM_DKIM_BUF);
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) == -1 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1 || (p = malloc((size_t)len + 1)) ==
	    NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	*n = fread(p, 1, (size_t)len, f);
	fclose(f);
	return p;
}

int
main(int argc, char **argv)
{
	struct nym_onion_key k;
	struct nym_dkim *d;
	gcry_md_hd_t md;
	char why[NYM_ONION_WHY], vwhy[NYM_DKIM_WHY], *msg, *field, *s;
	double th[REPS_MAX], ts[REPS_MAX], tv[REPS_MAX], t0;
	volatile unsigned char sink = 0;
	size_t n, sn, i, j, o;
	int reps, times, bad = 0;

	if (argc != 4 || (reps = atoi(argv[3])) < 1 || reps > REPS_MAX) {
		fprintf(stderr, "usage: dkimbench KEYDIR FILE REPS (1-%d)\n",
		    REPS_MAX);
		return 2;
	}
	if (nym_crypto_init() == -1 || nym_gcry_ready() == -1 ||
	    gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0)
		return 1;
	if (nym_onion_key_load(argv[1], &k, why) == -1) {
		fprintf(stderr, "dkimbench: %s: %s\n", argv[1], why);
		return 1;
	}
	if ((msg = slurp(argv[2], &n)) == NULL) {
		perror(argv[2]);
		return 1;
	}
	if ((d = nym_dkim_signer(&k)) == NULL)
		return 1;
	feed(d, msg, n);
	if (nym_dkim_signature(d, "\n", &field) == -1)
		return 1;
	nym_dkim_free(d);
	sn = strlen(field) + n;
	if ((s = malloc(sn)) == NULL)
		return 1;
	memcpy(s, field, strlen(field));
	memcpy(s + strlen(field), msg, n);
	free(field);
	times = n < 65536 ? 1000 : 1;
	for (i = 0; i < (size_t)reps; i++) {
		t0 = cpu();
		for (j = 0; j < (size_t)times; j++) {
			gcry_md_reset(md);
			for (o = 0; o < n; o += NYM_DKIM_BUF)
				gcry_md_write(md, msg + o, n - o <
				    NYM_DKIM_BUF ? n - o : NYM_DKIM_BUF);
			sink ^= gcry_md_read(md, GCRY_MD_SHA256)[0];
		}
		th[i] = (cpu() - t0) / times;
		t0 = cpu();
		for (j = 0; j < (size_t)times; j++) {
			if ((d = nym_dkim_signer(&k)) == NULL)
				return 1;
			feed(d, msg, n);
			if (nym_dkim_signature(d, "\n", &field) == -1)
				return 1;
			nym_dkim_free(d);
			free(field);
		}
		ts[i] = (cpu() - t0) / times;
		t0 = cpu();
		for (j = 0; j < (size_t)times; j++) {
			if ((d = nym_dkim_verifier(k.name)) == NULL)
				return 1;
			feed(d, s, sn);
			bad += nym_dkim_verdict(d, vwhy) != NYM_DKIM_PASS;
			nym_dkim_free(d);
		}
		tv[i] = (cpu() - t0) / times;
	}
	if (bad) {
		fprintf(stderr, "dkimbench: %s does not verify: %s\n", argv[2],
		    vwhy);
		return 1;
	}
	qsort(th, (size_t)reps, sizeof th[0], cmp);
	qsort(ts, (size_t)reps, sizeof ts[0], cmp);
	qsort(tv, (size_t)reps, sizeof tv[0], cmp);
	i = (size_t)reps / 2;
	printf("sha256 %.3f sign %.3f verify %.3f sign/sha256 %.2f "
	    "verify/sha256 %.2f\n", th[i], ts[i], tv[i], ts[i] / th[i],
	    tv[i] / th[i]);
	gcry_md_close(md);
	nym_onion_key_wipe(&k);
	free(msg);
	free(s);
	(void)sink;
	return 0;
}
