/*
 * fetch.c - unit tests for the delivery engine (lib/fetch.c): settling
 * each kind of P line an interrupted run left, and the maildir batch.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "store.h"
#include "tap.h"

#define ACCOUNT	"u@h"

static char home[64], pop[256], journal[512], spool[512];
static struct nym_fetch f;
static const char *bodies[4];	/* the message each uid's RETR gives */
static size_t ndelivered, ndele, nwarn;

static int
body(void *arg, struct nym_out *o, int mboxrd)
{
	size_t i = *(size_t *)arg;

	(void)mboxrd;
	nym_out_puts(o, bodies[i]);
	return 0;
}

static int
delivered(void *arg, size_t i, int dele)
{
	(void)arg;
	(void)i;
	ndelivered++;
	ndele += dele != 0;
	return 0;
}

static void
warn(const char *why)
{
	printf("# warning: %s\n", why);
	nwarn++;
}

static size_t cur;		/* the message body() is at */

/* Set the engine up for mode and target over the journal text (and
 * spool text, if not NULL), with n listed messages u0, u1...; then
 * relisted and settle.  settle's result. */
static int
start(char mode, const char *target, const char *jtext, const char *stext,
    size_t n)
{
	static const char *const uids[] = { "u0", "u1", "u2", "u3" };
	size_t i;
	int r;

	tap_put(journal, jtext);
	if (stext != NULL)
		tap_put(spool, stext);
	memset(&f, 0, sizeof f);
	f.mode = mode;
	f.target = target;
	f.wait_ms = 1000;
	f.closefd = -1;
	f.arg = &cur;
	f.body = body;
	f.delivered = delivered;
	f.warn = warn;
	ndelivered = ndele = nwarn = 0;
	if (nym_fetch_init(&f) == -1 || nym_fetch_open(&f, ACCOUNT) != 0 ||
	    nym_fetch_listing(&f, n) == -1)
		return -9;
	for (i = 0; i < n; i++) {
		f.m[i].uid = uids[i];
		f.m[i].n = i + 1;
	}
	nym_fetch_relisted(&f, "server", UINT64_MAX);
	r = nym_fetch_settle(&f);
	return r;
}

static void
finish(void)
{
	nym_fetch_close(&f);
	(void)unlink(journal);
	(void)unlink(spool);
}

/* Does the journal hold line (LF ended)? */
static int
hasline(const char *line)
{
	static char buf[4096];
	const char *p = buf;
	size_t n = strlen(line);

	if (tap_slurp(journal, buf, sizeof buf) < 0)
		return 0;
	for (; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncmp(p, line, n) == 0)
			return 1;
		if (strchr(p, '\n') == NULL)
			break;
	}
	return 0;
}

static long
filesize(const char *path)
{
	struct stat st;

	return stat(path, &st) == -1 ? -1 : (long)st.st_size;
}

static int
count(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

int
main(void)
{
	static const char msg[] = "From nobody Thu Jan  1 00:00:00 1970\n"
	    "Subject: one\n\nbody\n\n";
	static const char prefix[] = "From a Thu Jan  1 00:00:00 1970\n"
	    "Subject: earlier\n\nmail\n\n";
	char md[256], path[512], mbox[256], text[1024], buf[1024];
	char cmd[600];

	snprintf(home, sizeof home, "/tmp/nymunit.XXXXXX");
	if (mkdtemp(home) == NULL || setenv("HOME", home, 1) == -1)
		return 99;
	snprintf(pop, sizeof pop, "%s/.config/nymbox/pop", home);
	if (nym_mkdirs(pop, 0700) == -1)
		return 99;
	snprintf(journal, sizeof journal, "%s/" ACCOUNT ".uidl", pop);
	snprintf(spool, sizeof spool, "%s/" ACCOUNT ".spool", pop);
	snprintf(md, sizeof md, "%s/Maildir", home);
	snprintf(mbox, sizeof mbox, "%s/mbox", home);

	/* A maildir: u0's file reached new/ (delivered), u1's is in tmp/
	 * alone (not delivered: removed, fetched again). */
	if (nym_maildir_make(md) == -1)
		return 99;
	snprintf(path, sizeof path, "%s/new/1.M1P1Q1.nymbox", md);
	tap_put(path, "Subject: 0\n\n0\n");
	snprintf(path, sizeof path, "%s/tmp/2.M2P2Q2.nymbox", md);
	tap_put(path, "Subject: 1\n\n");
	check_int(start('d', md, "P u0 1.M1P1Q1.nymbox\n"
	    "P u1 2.M2P2Q2.nymbox\n", NULL, 2), 0, "maildir: all settled");
	check_int(f.m[0].done, 1, "maildir: found in new/, delivered");
	check(hasline("D u0\n"), "maildir: its D line written");
	check_int(f.m[1].done, 0, "maildir: only in tmp/, not delivered");
	check(!hasline("D u1\n"), "maildir: no D line for it");
	check_int(filesize(path), -1, "maildir: its file in tmp/ removed");
	finish();

	/* An mbox whose copy is complete after off: delivered. */
	snprintf(text, sizeof text, "%s%s", prefix, msg);
	tap_put(mbox, text);
	snprintf(buf, sizeof buf, "P u0 mbox %zu %zu\n", strlen(prefix),
	    strlen(msg));
	snprintf(cmd, sizeof cmd, "u0\n%s", msg);
	check_int(start('m', mbox, buf, cmd, 1), 0, "mbox whole: settled");
	check_int(f.m[0].done, 1, "mbox whole: delivered");
	check(hasline("D u0\n"), "mbox whole: its D line written");
	check_int(filesize(mbox), (long)strlen(text), "mbox whole: kept");
	finish();

	/* An mbox with only the start of the copy at its end: cut off, not
	 * delivered, a U line, and the spool copy forgotten. */
	snprintf(text, sizeof text, "%s%.20s", prefix, msg);
	tap_put(mbox, text);
	check_int(start('m', mbox, buf, cmd, 1), 0, "mbox partial: settled");
	check_int(f.m[0].done, 0, "mbox partial: not delivered");
	check(hasline("U u0\n"), "mbox partial: its U line written");
	check(!hasline("D u0\n"), "mbox partial: no D line");
	check_int(filesize(mbox), (long)strlen(prefix),
	    "mbox partial: cut back to where it began");
	check_int(filesize(spool), 0, "mbox partial: spool emptied");
	finish();

	/* A command cannot be asked: given again, told so. */
	snprintf(path, sizeof path, "%s/again", home);
	snprintf(cmd, sizeof cmd, "cat >/dev/null; echo \"$POP_FETCH_AGAIN "
	    "$POP_FETCH_UIDL\" >%s", path);
	check_int(start('p', cmd, "P u0 cmd\n", NULL, 1), 0,
	    "command: settled");
	check_int(f.m[0].again, 1, "command: to be given again");
	check_int(f.m[0].done, 0, "command: not taken as delivered");
	check_int(nwarn, 1, "command: a warning");
	bodies[0] = "Subject: c\n\nc\n";
	cur = 0;
	check_int(nym_fetch_deliver(&f, 0), NYM_FETCH_DELIVERED,
	    "command: delivered again");
	check_int(tap_slurp(path, text, sizeof text) > 0 &&
	    strcmp(text, "1 u0\n") == 0, 1, "command: with POP_FETCH_AGAIN=1");
	check(hasline("D u0\n"), "command: then its D line");
	finish();

	/* A batch: two messages into tmp/, nothing in new/ before the
	 * commit, both there and marked D after it. */
	snprintf(path, sizeof path, "%s/new", md);
	snprintf(cmd, sizeof cmd, "rm -f %s/new/* %s/cur/*", md, md);
	if (system(cmd) != 0)
		return 99;
	check_int(start('d', md, "", NULL, 2), 0, "batch: nothing to settle");
	bodies[0] = "Subject: a\n\na\n";
	bodies[1] = "Subject: b\n\nb\n";
	cur = 0;
	check_int(nym_fetch_deliver(&f, 0), NYM_FETCH_DELIVERED, "batch: first");
	cur = 1;
	check_int(nym_fetch_deliver(&f, 1), NYM_FETCH_DELIVERED, "batch: second");
	check_int(count(path), 0, "batch: nothing in new/ before the commit");
	check(hasline("P u0 ") && hasline("P u1 "), "batch: P lines first");
	check(!hasline("D u0\n"), "batch: no D line before the commit");
	check_int(nym_fetch_commit(&f, 1), 0, "batch: committed");
	check_int(count(path), 2, "batch: both in new/");
	check(hasline("D u0\n") && hasline("D u1\n"), "batch: both marked D");
	check_int(f.m[0].done && f.m[1].done, 1, "batch: both done");
	check_int(ndelivered, 2, "batch: each told, to be DELEd");
	check_int(ndele, 2, "batch: with dele");
	check_int(f.critical, 0, "batch: critical section left");
	finish();

	/* Deleted in an earlier session and listed again: the same size is
	 * the same message (kept by a server that ignores DELE), another
	 * size another one.  After a good QUIT the state keeps a refused
	 * DELE's D line, and the .gone file an X line for each deleted. */
	snprintf(path, sizeof path, "%s/" ACCOUNT ".gone", pop);
	tap_put(path, "X u0 100\nX u1 100\n");
	tap_put(journal, "");
	memset(&f, 0, sizeof f);
	f.mode = 'd';
	f.target = md;
	f.warn = warn;
	f.delivered = delivered;
	f.closefd = -1;
	nwarn = 0;
	if (nym_fetch_init(&f) == -1 || nym_fetch_open(&f, ACCOUNT) != 0 ||
	    nym_fetch_listing(&f, 3) == -1)
		return 99;
	f.m[0].uid = "u0";
	f.m[0].size = 100;
	f.m[1].uid = "u1";
	f.m[1].size = 200;
	f.m[2].uid = "u2";
	f.m[2].size = 300;
	nym_fetch_relisted(&f, "server", 250);
	check_int(f.m[0].done, 1, "relisted: same size, taken as delivered");
	check_int(f.m[1].done, 0, "relisted: another size, delivered");
	check_int(f.m[2].skip && f.toobig, 1, "relisted: over the limit, left");
	check_int(nwarn, 2, "relisted: both said");
	f.m[1].done = 1;
	f.m[1].refused = 1;
	check_int(nym_fetch_compact(&f), 0, "compact");
	check_int(tap_slurp(path, text, sizeof text) > 0 &&
	    strcmp(text, "X u0 100\n") == 0, 1, "compact: X line for the deleted");
	check(hasline("D u1\n") && !hasline("D u0\n"),
	    "compact: D line kept for the refused DELE alone");
	finish();

	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	(void)system(cmd);
	return tap_done();
}
