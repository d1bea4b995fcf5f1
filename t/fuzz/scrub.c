/*
 * The scrub engine (lib/scrub.c, scrub-headers' whole job) on memfds.  A
 * message it refuses comes back as a failure with everything freed, so
 * LeakSanitizer stays on.  The first byte picks -m (an mbox) and -a (the
 * reply attribution rewritten).  Oracles: what the scrub writes, a check
 * (-c, with the same -a) of it takes without a refusal and finds nothing
 * to report, so -a is done after one run; the check of the input runs
 * too; and the
 * engine reading its input a few bytes at a time (s->chunk: a pipe),
 * and for inputs of even size also without its fast paths (s->slow),
 * writes the same bytes, but for the random Message-ID it makes where
 * none was.
 */
#include "fuzz.h"
#include "base.h"
#include "scrub.h"

static struct nym_scrub fs;

/* Do a and b differ only inside "Message-ID: <...>" lines (the random
 * ones: same length)? */
static int
sameout(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i, bol = 0;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++) {
		if (a[i] != b[i] && !(an - bol >= 13 &&
		    memcmp(a + bol, "Message-ID: <", 13) == 0 &&
		    memcmp(b + bol, "Message-ID: <", 13) == 0))
			return 0;
		if (a[i] == '\n')
			bol = i + 1;
	}
	return 1;
}

/* A scrub (or with check a check) of infd to outfd: 1 if the input was
 * taken whole, 0 if it was refused; *leaks gets what was found. */
static int
scrubrun(int infd, int outfd, int check, int mbox, int *leaks)
{
	int r;

	fs.report = check ? stdout : NULL;
	fs.mbox = mbox;
	r = nym_scrub_run(&fs, infd, outfd);
	if (r == -1) {
		/* A refusal says why, with an exit code scrub-headers may
		 * use. */
		FZ_ASSERT(fs.why[0] != '\0');
		FZ_ASSERT(fs.code == NYM_EX_DATAERR ||
		    fs.code == NYM_EX_TEMPFAIL || fs.code == NYM_EX_SOFTWARE);
		*leaks = 0;
		return 0;
	}
	*leaks = r;
	return 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	nym_setprogname("scrub-headers");
	if (nym_scrub_init(&fs) != 0)
		abort();
	fs.now = 1700000000;	/* and an all-zero key */
	/* -c reports on stdout. */
	if (freopen("/dev/null", "w", stdout) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd, ofd, nfd, leaks, mbox;
	char *out, *slow;
	size_t n, sn;

	if (size < 1 || size > 100000)
		return 0;
	mbox = data[0] & 1;
	fs.attrib = (data[0] >> 1) & 1;
	fd = fz_memfd(data + 1, size - 1);
	ofd = fz_sink();
	if (scrubrun(fd, ofd, 0, mbox, &leaks)) {
		out = fz_slurp(ofd, &n);
		/* Its input read a little at a time, the engine writes
		 * the same; on inputs of even size the long way. */
		if (lseek(fd, 0, SEEK_SET) == -1)
			abort();
		nfd = fz_sink();
		fs.slow = size % 2 == 0;
		fs.chunk = 1 + size % 4093;
		FZ_ASSERT(scrubrun(fd, nfd, 0, mbox, &leaks) == 1);
		fs.slow = 0;
		fs.chunk = 0;
		slow = fz_slurp(nfd, &sn);
		FZ_ASSERT(sameout(out, n, slow, sn));
		free(slow);
		close(nfd);
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
