/*
 * queue.c - unit tests for the delay queue: due times of every mode
 * (around 00:00 and 12:00 UTC, the defer range's bounds over many
 * draws), the retry schedule, records, the files (one per message, its
 * record at its head, info/ only after an attempt), Date rewriting and
 * the destination key queue-run's -J counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base.h"
#include "store.h"
#include "tap.h"

#define DAY	86400
#define T0	1700006400	/* 2023-11-15 00:00:00 UTC */

static void
batch(void)
{
	check_int(nym_queue_batchtime(T0 - 1), T0, "23:59:59 -> 00:00");
	check_int(nym_queue_batchtime(T0), T0 + DAY / 2,
	    "00:00:00 -> 12:00 (strictly after)");
	check_int(nym_queue_batchtime(T0 + 1), T0 + DAY / 2, "00:00:01 -> 12:00");
	check_int(nym_queue_batchtime(T0 + DAY / 2 - 1), T0 + DAY / 2,
	    "11:59:59 -> 12:00");
	check_int(nym_queue_batchtime(T0 + DAY / 2), T0 + DAY,
	    "12:00:00 -> next 00:00");
	check_int(nym_queue_batchtime(T0 + DAY - 1), T0 + DAY,
	    "23:59:59 -> next 00:00");
	check_int(nym_queue_batchtime(0), DAY / 2, "the epoch -> 12:00");
	/* 2024-02-29 18:30 UTC (leap day) -> 2024-03-01 00:00 */
	check_int(nym_queue_batchtime(1709231400), 1709251200,
	    "leap day evening -> 1 March 00:00");
	check_int(nym_queue_due(NYM_Q_BATCH, T0 + 5, 0, 0), T0 + DAY / 2,
	    "due of batch");
	check_int(nym_queue_due(NYM_Q_NOW, T0 + 5, 2000, 4000), T0 + 5,
	    "due of now is now");
}

static void
draws(void)
{
	long v, min = 1L << 30, max = -1, counts[4] = { 0 };
	time_t t, tmin = (time_t)T0 * 2, tmax = 0;
	int i, ok = 1;

	/* 100000 draws from 2001 values: each end is missed with
	 * probability (2000/2001)^100000, about e^-50. */
	for (i = 0; i < 100000; i++) {
		if (nym_queue_draw(2000, 4000, &v) == -1) {
			ok = 0;
			break;
		}
		if (v < min)
			min = v;
		if (v > max)
			max = v;
	}
	check(ok, "100000 draws");
	check_int(min, 2000, "the lowest draw is the range's low end");
	check_int(max, 4000, "the highest draw is the range's high end");
	for (i = 0; i < 40000; i++)
		if (nym_queue_draw(7, 10, &v) == 0 && v >= 7 && v <= 10)
			counts[v - 7]++;
	for (i = 0, ok = 1; i < 4; i++)
		ok &= counts[i] > 9400 && counts[i] < 10600;	/* > 10 sigma */
	check(ok, "four values drawn about equally often");
	if (!ok)
		printf("#   %ld %ld %ld %ld\n", counts[0], counts[1], counts[2],
		    counts[3]);
	check(nym_queue_draw(5, 5, &v) == 0 && v == 5, "a range of one value");
	check(nym_queue_draw(6, 5, &v) == -1 && errno == EINVAL,
	    "an empty range is EINVAL");
	for (i = 0; i < 20000; i++) {
		t = nym_queue_due(NYM_Q_DEFER, T0, 2000, 4000);
		if (t < tmin)
			tmin = t;
		if (t > tmax)
			tmax = t;
	}
	check_int(tmin, T0 + 2000, "defer: earliest due at now + 2000");
	check_int(tmax, T0 + 4000, "defer: latest due at now + 4000");
}

static void
ranges(void)
{
	long lo, hi;

	check(nym_queue_range("2000-4000", &lo, &hi) == 0 && lo == 2000 &&
	    hi == 4000, "range 2000-4000");
	check(nym_queue_range("0-0", &lo, &hi) == 0 && lo == 0 && hi == 0,
	    "range 0-0");
	check(nym_queue_range("4000-2000", &lo, &hi) == -1, "LO > HI refused");
	check(nym_queue_range("1-31536001", &lo, &hi) == -1,
	    "over a year refused");
	check(nym_queue_range("-5-7", &lo, &hi) == -1, "negative refused");
	check(nym_queue_range("5", &lo, &hi) == -1, "no HI refused");
	check(nym_queue_range("5-7x", &lo, &hi) == -1, "trailing junk refused");
	check(nym_queue_range(" 5-7", &lo, &hi) == -1, "blank refused");
}

static void
retry(void)
{
	static const long want[] = { 300, 900, 1800, 3600, 7200, 14400,
	    14400, 14400 };
	unsigned n;
	char what[64];

	for (n = 1; n <= 8; n++) {
		snprintf(what, sizeof what, "retry %u after %ld s", n,
		    want[n - 1]);
		check_int(nym_queue_retry(NYM_Q_DEFER, n, T0 + 7), T0 + 7 +
		    want[n - 1], what);
	}
	check_int(nym_queue_retry(NYM_Q_NOW, 1, T0), T0 + 300,
	    "now mode backs off the same way");
	check_int(nym_queue_retry(NYM_Q_BATCH, 3, T0 + 60), T0 + DAY / 2,
	    "batch mode retries at the next batch time");
}

static void
records(void)
{
	static const char *rc[] = { "bob@b.i2p", "carol@c.i2p" };
	static const char *av[] = { "sam-deliver", "-k", "", NULL };
	struct nym_qrec r, p;
	char *text, *bad;
	size_t len;

	memset(&r, 0, sizeof r);
	memcpy(r.id, "0123456789abcdef", NYM_QUEUE_IDLEN + 1);
	r.mode = NYM_Q_DEFER;
	r.state = NYM_QS_BOUNCE;
	r.queued = T0;
	r.due = T0 + 3000;
	r.attempts = 3;
	r.lastcode = -1;
	snprintf(r.error, sizeof r.error, "x timed out after 9 s");
	r.sender = "";
	r.rcpt = rc;
	r.nrcpt = 2;
	r.argv = av;
	r.argc = 3;
	check(nym_qrec_format(&r, &text, &len) == 0, "format a record");
	check(nym_qrec_parse(text, len, &p) == 0, "parse it back");
	check_str(p.id, r.id, "id");
	check_int(p.mode, NYM_Q_DEFER, "mode");
	check_int(p.state, NYM_QS_BOUNCE, "state");
	check_int(p.queued, T0, "queued");
	check_int(p.due, T0 + 3000, "due");
	check_int(p.attempts, 3, "attempts");
	check_int(p.lastcode, -1, "lastcode");
	check_str(p.error, r.error, "error");
	check_str(p.sender, "", "the null sender");
	check_int(p.nrcpt, 2, "two recipients");
	check_str(p.rcpt[1], "carol@c.i2p", "second recipient");
	check_int(p.argc, 3, "three words");
	check_str(p.argv[2], "", "an empty word survives");
	check(p.argv[3] == NULL, "argv ends in NULL");
	nym_qrec_free(&p);

	check(nym_qrec_parse(text, len - 1, &p) == -1 && errno == EINVAL,
	    "a record cut short is damaged");
	bad = strdup(text);
	memcpy(strstr(bad, "mode defer"), "mode delay", 10);
	check(nym_qrec_parse(bad, len, &p) == -1, "an unknown mode is damaged");
	free(bad);
	bad = strdup(text);
	memcpy(strstr(bad, "\nattempts"), "\nattempt ", 9);
	check(nym_qrec_parse(bad, len, &p) == -1, "an unknown key is damaged");
	free(bad);
	free(text);

	r.sender = "a\nb@c";
	check(nym_qrec_format(&r, &text, &len) == -1 && errno == EINVAL,
	    "a line break in a field is refused");
	r.sender = "a@b";
	r.nrcpt = 0;
	check(nym_qrec_format(&r, &text, &len) == -1,
	    "no recipients is refused");
	check(nym_qrec_parse("nymbox-queue 1\nid 0123456789abcdef\n", 34,
	    &p) == -1, "a record without its fields is damaged");
	check(nym_queue_isid("0123456789abcdef"), "an ID");
	check(!nym_queue_isid("0123456789ABCDEF"), "upper case is no ID");
	check(!nym_queue_isid("0123456789abcde"), "15 digits is no ID");
	check(!nym_queue_isid("../../etc/passwd"), "a path is no ID");
}

static int
entries(const char *dir)
{
	char cmd[600];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/* The record at the head of a file in mess/, as text. */
static char *
head(const char *q, const char *id)
{
	static char buf[4096];
	char path[600];
	ssize_t n = -1;
	char *end;
	int fd;

	snprintf(path, sizeof path, "%s/mess/%s", q, id);
	if ((fd = open(path, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	if ((end = strstr(buf, "\n\n")) != NULL)
		end[1] = '\0';
	return buf;
}

static void
files(const char *dir)
{
	static const char *rc[] = { "bob@b.i2p" };
	static const char *av[] = { "true", NULL };
	char q[512], sub[600], tmp[600], buf[256];
	struct nym_qrec r, g;
	struct nym_qscan s;
	struct nym_afile a;
	char id[NYM_QUEUE_IDLEN + 1], first[NYM_QUEUE_IDLEN + 1];
	char *text;
	size_t len;
	int n, fd;

	snprintf(q, sizeof q, "%s/q", dir);
	snprintf(tmp, sizeof tmp, "%s/tmp", q);
	check(nym_queue_make(q) == 0, "make a queue");
	memset(&r, 0, sizeof r);
	r.mode = NYM_Q_NOW;
	r.queued = r.due = T0;
	r.sender = "a@a.i2p";
	r.rcpt = rc;
	r.nrcpt = 1;
	r.argv = av;
	r.argc = 1;
	check(nym_queue_begin(q, &r, &a) == 0 &&
	    nym_write_all(a.fd, "Subject: x\n\nhi\n", 15) == 0,
	    "begin a message in tmp/ and write it");
	check(nym_queue_isid(r.id), "it got an ID");
	check(nym_queue_put(q, &a, &r) == 0, "commit it");
	memcpy(first, r.id, sizeof first);
	check_int(entries(tmp), 0, "tmp/ is empty again");
	snprintf(sub, sizeof sub, "%s/info", q);
	check_int(entries(sub), 0, "no record in info/: it is in mess/");
	check(nym_qrec_format(&r, &text, &len) == 0 &&
	    strcmp(head(q, r.id), text) == 0,
	    "mess/ID starts with the record and an empty line");
	free(text);
	fd = -1;
	check(nym_queue_get(q, r.id, &g, &fd) == 0 && g.due == T0 &&
	    strcmp(g.rcpt[0], "bob@b.i2p") == 0, "read its record");
	check(fd != -1 && read(fd, buf, sizeof buf) == 15 &&
	    memcmp(buf, "Subject: x\n\nhi\n", 15) == 0,
	    "and the message after it");
	if (fd != -1)
		close(fd);
	g.attempts = 1;
	g.due = T0 + 300;
	check(nym_queue_update(q, &g) == 0, "update the record");
	nym_qrec_free(&g);
	check_int(entries(sub), 1, "the update is in info/");
	check(nym_queue_get(q, r.id, &g, NULL) == 0 && g.attempts == 1 &&
	    g.due == T0 + 300, "and wins over the record in mess/");
	nym_qrec_free(&g);
	fd = nym_queue_message(q, r.id);
	check(fd != -1 && read(fd, buf, sizeof buf) == 15, "the message");
	if (fd != -1)
		close(fd);

	check(nym_queue_begin(q, &r, &a) == 0 &&
	    nym_write_all(a.fd, "Subject: y\n\n", 12) == 0 &&
	    nym_queue_put(q, &a, &r) == 0, "commit a second message");
	check(strcmp(first, r.id) != 0, "under another ID");
	n = 0;
	check(nym_queue_scan(&s, q) == 0, "scan mess/");
	while (nym_queue_next(&s, id) == 1)
		n++;
	nym_queue_endscan(&s);
	check_int(n, 2, "two messages queued");

	check(nym_queue_done(q, first) == 0, "the first delivered");
	check(nym_queue_get(q, first, &g, NULL) == -1 && errno == ENOENT,
	    "it is gone");
	check_int(entries(sub), 0, "and its record in info/");
	check(nym_queue_sync(q) == 0, "sync the queue");
	check(nym_queue_remove(q, first) == -1 && errno == ENOENT,
	    "removing it again is ENOENT");
	check(nym_queue_fail(q, r.id) == 0, "move the second aside");
	snprintf(sub, sizeof sub, "%s/failed/%s", q, r.id);
	fd = open(sub, O_RDONLY);
	check(fd != -1 && read(fd, buf, sizeof buf) == 12 &&
	    memcmp(buf, "Subject: y\n\n", 12) == 0,
	    "failed/ has the message, without its record");
	if (fd != -1)
		close(fd);
	snprintf(sub, sizeof sub, "%s/mess", q);
	check_int(entries(sub), 0, "mess/ is empty");
	check_int(nym_queue_clean(q), 0, "nothing stale to clean");

	/* A record left behind by a kill between the two unlinks. */
	g = r;
	memcpy(g.id, first, sizeof first);
	check(nym_queue_update(q, &g) == 0, "a record without its message");
	check_int(nym_queue_clean(q), 1, "is cleaned");
	snprintf(sub, sizeof sub, "%s/info", q);
	check_int(entries(sub), 0, "info/ is empty");

	/* A damaged head. */
	snprintf(sub, sizeof sub, "%s/mess/0123456789abcdef", q);
	fd = open(sub, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd != -1 && write(fd, "Subject: z\n\nno record\n", 23) == 23,
	    "a message without its record");
	if (fd != -1)
		close(fd);
	check(nym_queue_get(q, "0123456789abcdef", &g, NULL) == -1 &&
	    errno == EINVAL, "is damaged");
	unlink(sub);
}

static void
rewrite(const char *dir)
{
	char in[512], out[512], buf[1024];
	int ifd, ofd;
	ssize_t n;

	snprintf(in, sizeof in, "%s/in", dir);
	snprintf(out, sizeof out, "%s/out", dir);
#define REWRITE(msg, want, what) do {					\
	ifd = open(in, O_RDWR | O_CREAT | O_TRUNC, 0600);		\
	ofd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);		\
	n = -1;								\
	if (ifd != -1 && ofd != -1 &&					\
	    write(ifd, msg, strlen(msg)) == (ssize_t)strlen(msg) &&	\
	    lseek(ifd, 0, SEEK_SET) == 0 &&				\
	    nym_queue_rewrite(ifd, ofd, T0 + 3723) == 0)		\
		n = pread(ofd, buf, sizeof buf - 1, 0);			\
	buf[n > 0 ? n : 0] = '\0';					\
	check_str(buf, want, what);					\
	close(ifd);							\
	close(ofd);							\
} while (0)
	REWRITE("From: a@b\nDate: Mon, 1 Jan 2024 10:00:00 +0100\nSubject: s\n"
	    "\nbody\n",
	    "From: a@b\nDate: Wed, 15 Nov 2023 01:02:03 +0000\nSubject: s\n"
	    "\nbody\n", "Date replaced in place, in UTC");
	REWRITE("From: a@b\r\nSubject: s\r\n\r\nbody\r\n",
	    "From: a@b\r\nSubject: s\r\nDate: Wed, 15 Nov 2023 01:02:03 +0000"
	    "\r\n\r\nbody\r\n", "Date added, CRLF kept");
	REWRITE("Date: x\nBcc: c@d,\n e@f\nDate: y\nTo: g@h\n\nDate: z\n",
	    "Date: Wed, 15 Nov 2023 01:02:03 +0000\nTo: g@h\n\nDate: z\n",
	    "Bcc and a second Date dropped, the body untouched");
	REWRITE("From x@y Mon Jan  1 00:00:00 2024\nSubject: s\n\nb",
	    "From x@y Mon Jan  1 00:00:00 2024\nSubject: s\nDate: Wed, 15 Nov "
	    "2023 01:02:03 +0000\n\nb", "an mbox From_ line kept");
	REWRITE("Subject: s",
	    "Subject: s\nDate: Wed, 15 Nov 2023 01:02:03 +0000\n",
	    "a header cut by EOF");
	REWRITE("Subject: s\nno colon here\n",
	    "Subject: s\nDate: Wed, 15 Nov 2023 01:02:03 +0000\n\nno colon "
	    "here\n", "a body without its empty line gets one");
#undef REWRITE
}

static void
now(void)
{
	setenv("NYMBOX_NOW", "1700000000", 1);
	check_int(nym_now(), 1700000000, "NYMBOX_NOW injects the time");
	setenv("NYMBOX_NOW", "17e8", 1);
	check(nym_now() == -1 && errno == EINVAL, "a malformed NYMBOX_NOW");
	setenv("NYMBOX_NOW", "-5", 1);
	check(nym_now() == -1, "a negative NYMBOX_NOW");
	setenv("NYMBOX_NOW", "999999999999999", 1);
	check(nym_now() == -1, "a NYMBOX_NOW past the year 9999");
	unsetenv("NYMBOX_NOW");
	check(llabs((long long)(nym_now() - time(NULL))) <= 1,
	    "without it, the clock");
}

/* The key of a record with these recipients. */
static uint64_t
destof(const char **rcpt, size_t n)
{
	struct nym_qrec r;

	memset(&r, 0, sizeof r);
	r.rcpt = rcpt;
	r.nrcpt = n;
	return nym_queue_dest(&r);
}

static void
dests(void)
{
	const char *a[] = { "u@a.i2p" }, *a2[] = { "v@A.I2P", "w@a.i2p" },
	    *ab[] = { "u@a.i2p", "v@b.i2p" }, *ba[] = { "x@B.i2p", "y@a.i2p",
	    "z@b.i2p" }, *b[] = { "u@b.i2p" }, *at[] = { "u@x@a.i2p" },
	    *none[] = { "postmaster" }, *empty[] = { "u@" },
	    *cat[] = { "u@ab.i2p" }, *split[] = { "u@a", "v@b.i2p" };

	check(destof(a, 1) == destof(a2, 2),
	    "one domain: the same whatever the case and the number");
	check(destof(ab, 2) == destof(ba, 3),
	    "two domains: the same whatever the order and repeats");
	check(destof(a, 1) != destof(b, 1), "two domains differ");
	check(destof(a, 1) != destof(ab, 2), "a set differs from its part");
	check(destof(at, 1) == destof(a, 1), "the domain follows the last @");
	check(destof(none, 1) == destof(empty, 1),
	    "without @, the empty domain");
	check(destof(none, 1) != destof(a, 1), "which is a domain of its own");
	check(destof(cat, 1) != destof(split, 2),
	    "domains are not run together");
}

int
main(void)
{
	char dir[] = "/tmp/nymqueue.XXXXXX", cmd[64];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	batch();
	draws();
	ranges();
	retry();
	records();
	files(dir);
	rewrite(dir);
	now();
	dests();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# unable to remove %s\n", dir);
	return tap_done();
}
