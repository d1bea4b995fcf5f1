/*
 * scrub-headers whole (bin/scrub-headers.c; issue 12 moves its engine to
 * lib/scrub.c).  This file includes the program with its main renamed and
 * drives its message() loop itself, as run() does, on memfds.  A message
 * scrub-headers refuses ends in nym_die; the link wraps nym_die and
 * nym_dieerr (-Wl,--wrap, see the Makefile) so that a refusal returns
 * here by longjmp instead of exiting.  The first byte picks -m (an mbox).
 * Oracles: what the scrub writes, a check (-c) of it takes without a
 * refusal and finds nothing to report; the check of the input runs too.
 */
#include "fuzz.h"
#include <setjmp.h>

#define main scrub_headers_main
int scrub_headers_main(int argc, char *argv[]);
#include "../../bin/scrub-headers.c"
#undef main

void __wrap_nym_die(int code, const char *fmt, ...);
void __wrap_nym_dieerr(int code, const char *fmt, ...);

static jmp_buf refused;
static int inrun;
static struct nym_in fin;
static struct nym_out fout;
static struct nym_hdr fh;
static struct msg *fm;

void
__wrap_nym_die(int code, const char *fmt, ...)
{
	(void)code;
	(void)fmt;
	FZ_ASSERT(inrun);
	longjmp(refused, 1);
}

void
__wrap_nym_dieerr(int code, const char *fmt, ...)
{
	(void)code;
	(void)fmt;
	FZ_ASSERT(inrun);
	longjmp(refused, 1);
}

/* run() of scrub-headers with its state here, to be freed after a
 * refusal.  1 if the input was taken whole, 0 if it was refused; *leaks
 * gets what the check (or the scrub) found. */
static int
scrubrun(int infd, int outfd, int check, int mbox, int *leaks)
{
	volatile int ok = 0, any = 0, found = 0;

	cflag = check;
	mflag = mbox;
	if ((fm = calloc(1, sizeof *fm)) == NULL ||
	    nym_in_open(&fin, infd, NYM_SCRUB_INBUF) == -1 ||
	    nym_out_open(&fout, outfd, NYM_SCRUB_OUTBUF) == -1)
		abort();
	fm->in = &fin;
	fm->out = &fout;
	memset(&fh, 0, sizeof fh);
	inrun = 1;
	if (setjmp(refused) == 0) {
		for (fm->no = 1;; fm->no++) {
			if (message(fm, &fh) == 1)
				break;
			any = 1;
			found += fm->leaks;
			if (!mflag)
				break;
		}
		ok = any || mflag;
	}
	inrun = 0;
	FZ_ASSERT(nym_out_flush(&fout) == 0);
	nym_hdr_free(&fh);
	nym_in_close(&fin);
	nym_out_close(&fout);
	free(fm);
	fm = NULL;
	*leaks = found;
	return ok;
}

/* A refusal leaves by longjmp what a refusing scrub-headers leaves to
 * exit(3): memory the function it left had allocated.  Those are no
 * leaks of the program, so LeakSanitizer is off for this target
 * (ASAN_OPTIONS given at run time still win). */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	nym_setprogname("scrub-headers");
	compiletables();
	haskey = 1;		/* an all-zero key */
	now = 1700000000;
	/* -c reports on stdout. */
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd, ofd, nfd, leaks, mbox;
	char *out;
	size_t n;

	if (size < 1 || size > 100000)
		return 0;
	mbox = data[0] & 1;
	fd = fz_memfd(data + 1, size - 1);
	ofd = fz_sink();
	if (scrubrun(fd, ofd, 0, mbox, &leaks)) {
		out = fz_slurp(ofd, &n);
		close(ofd);
		ofd = fz_memfd(out, n);
		nfd = fz_sink();
		/* The scrub's output is a message the check takes and finds
		 * clean. */
		FZ_ASSERT(scrubrun(ofd, nfd, 1, mbox, &leaks) == 1);
		FZ_ASSERT(leaks == 0);
		close(nfd);
		free(out);
	}
	close(ofd);
	/* -c on the input itself. */
	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	nfd = fz_sink();
	(void)scrubrun(fd, nfd, 1, mbox, &leaks);
	close(nfd);
	close(fd);
	return 0;
}
