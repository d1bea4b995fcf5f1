/*
 * senders.c - unit tests for the sender lists (lib/senders.c): patterns
 * and their normal form, matching (exact before domain, deny before
 * allow, no subdomains, onion pins, case), the parser on hostile files
 * (long lines, NUL bytes, CRLF, no final LF, too many entries, over the
 * size limit), updates that keep every other line byte for byte, and
 * updates from several processes at once that all land (which fails
 * without the lock and its re-check after the rename).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "tap.h"

#define ONION	"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
#define B32	"ejkdz2oe7u7mujb5ahtd5ym4ahz4ncrnxsnllr7ysjaxqxwvy3da.b32.i2p"
#define L60	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz01234567"
#define L61	L60 "8"
#define L63	L61 "9z"
#define NPROC	8
#define NEACH	25

static const struct {
	const char *in, *out;	/* out NULL: refused */
} norms[] = {
	{ "bob@bob.i2p", "bob@bob.i2p" },
	{ "Bob@Bob.I2P", "bob@bob.i2p" },
	{ "*@Spam.i2p.", "*@spam.i2p" },
	{ "*@" B32, "*@" B32 },
	{ "x@" ONION, "x@" ONION },
	{ "x@pin2pin." ONION, "x@" ONION },
	{ "*@a.b.PIN." ONION, "*@" ONION },
	{ "first.last+tag@mail.i2p", "first.last+tag@mail.i2p" },
	{ "a@localhost", "a@localhost" },
	{ "bob", NULL },
	{ "@bob.i2p", NULL },
	{ "bob@", NULL },
	{ "bob@.", NULL },
	{ "bob@a..i2p", NULL },
	{ "bob@.a.i2p", NULL },
	{ "b ob@a.i2p", NULL },
	{ "\"b\"@a.i2p", NULL },
	{ "bob@a_b.i2p", NULL },
	{ "bob@[127.0.0.1]", NULL },
	{ "bob@a.i2p\n", NULL },
	{ "*@*", NULL },
	{ "0123456789012345678901234567890123456789012345678901234567890"
	  "1234@a.i2p", NULL },	/* 65 bytes of local part */
	{ "a@" L63 "." L63 "." L63 "." L61, NULL },	/* 255 bytes */
	{ "a@" L63 "." L63 "." L63 "." L60, "a@" L63 "." L63 "." L63 "."
	  L60 },					/* 254 bytes */
	{ "*@" L63 "." L63 "." L63 "." L61, NULL },
	{ "*@" L63 "." L63 "." L63 "." L60, "*@" L63 "." L63 "." L63 "."
	  L60 },
	{ "x@" L63 "." L63 "." L63 "." ONION, "x@" ONION },	/* pin dropped */
};

static const char list[] =
    "# Bob's list\n"
    "allow friend@spam.i2p\n"
    "\tdeny   *@SPAM.i2p  \r\n"
    "allow *@" B32 "\n"
    "deny x@" B32 "\n"
    "allow *@" ONION "\n"
    "deny both@twice.i2p\n"
    "allow both@twice.i2p\n"
    "allow *@twice.i2p\n"
    "deny *@sub.i2p";		/* no final LF */

static const struct {
	const char *addr;
	int v;
} matches[] = {
	{ "friend@spam.i2p", NYM_SENDERS_ALLOW },	/* exact first */
	{ "Friend@Spam.I2P", NYM_SENDERS_ALLOW },
	{ "joe@spam.i2p", NYM_SENDERS_DENY },
	{ "joe@spam.i2p.", NYM_SENDERS_DENY },
	{ "joe@x.spam.i2p", NYM_SENDERS_NONE },		/* no subdomains */
	{ "joe@notspam.i2p", NYM_SENDERS_NONE },
	{ "y@" B32, NYM_SENDERS_ALLOW },
	{ "x@" B32, NYM_SENDERS_DENY },
	{ "me@pin." ONION, NYM_SENDERS_ALLOW },
	{ "both@twice.i2p", NYM_SENDERS_DENY },		/* deny wins */
	{ "other@twice.i2p", NYM_SENDERS_ALLOW },
	{ "a@sub.i2p", NYM_SENDERS_DENY },
	{ "\"quoted local\"@spam.i2p", NYM_SENDERS_DENY },
	{ "", NYM_SENDERS_NONE },
	{ "nobody", NYM_SENDERS_NONE },
};

static unsigned badlines[16], nbadlines;

static void
bad(void *arg, unsigned line, const char *why)
{
	(void)arg;
	(void)why;
	if (nbadlines < 16)
		badlines[nbadlines] = line;
	nbadlines++;
}

static void
test_norm(void)
{
	char out[NYM_SENDERS_LINE + 1], what[200];
	const char *why;
	size_t i;
	int r;

	for (i = 0; i < sizeof norms / sizeof *norms; i++) {
		why = NULL;
		r = nym_senders_norm(norms[i].in, strlen(norms[i].in), out,
		    sizeof out, &why);
		snprintf(what, sizeof what, "pattern %.60s", norms[i].in);
		if (norms[i].out == NULL)
			check(r == -1 && errno == EINVAL && why != NULL, what);
		else {
			check_int(r, 0, what);
			check_str(r == 0 ? out : NULL, norms[i].out, what);
		}
	}
	check(nym_senders_norm("bob@bob.i2p", 11, out, 11, NULL) == -1 &&
	    errno == ENAMETOOLONG, "a pattern over cap is ENAMETOOLONG");
}

static void
test_match(void)
{
	struct nym_senders l;
	char what[200];
	size_t i;

	check_int(nym_senders_parse(&l, list, sizeof list - 1, bad, NULL), 0,
	    "the list parses");
	check_int(l.n, 9, "nine entries");
	check_int(l.bad, 0, "no bad lines");
	check_int(l.n > 1 ? l.e[1].line : 0, 3, "entries know their line");
	check_str(l.n > 1 ? l.e[1].pat : NULL, "*@spam.i2p",
	    "patterns are kept in their normal form");
	for (i = 0; i < sizeof matches / sizeof *matches; i++) {
		snprintf(what, sizeof what, "verdict on %.60s",
		    matches[i].addr);
		check_int(nym_senders_match(&l, matches[i].addr),
		    matches[i].v, what);
	}
	nym_senders_free(&l);
	check_int(nym_senders_parse(&l, "", 0, bad, NULL), 0, "empty list");
	check_int(nym_senders_match(&l, "a@b.i2p"), NYM_SENDERS_NONE,
	    "an empty list matches nothing");
	nym_senders_free(&l);
}

static void
test_hostile(void)
{
	struct nym_senders l;
	char *big;
	size_t n, i;

	big = malloc(NYM_SENDERS_MAX + 2);
	if (big == NULL) {
		check(0, "memory");
		return;
	}
	/* Line 1 too long, 2 a NUL byte, 3 an unknown verb, 4 two words,
	 * 5 a bad address, 6 a verb alone, 7 a good entry, 8 CR only. */
	n = 0;
	memset(big, 'a', NYM_SENDERS_LINE + 10);
	memcpy(big, "deny ", 5);
	memcpy(big + 200, "@x.i2p", 6);
	n = NYM_SENDERS_LINE + 10;
	big[n++] = '\n';
	memcpy(big + n, "deny a\0b@c.i2p\n", 15);
	n += 15;
	n += (size_t)sprintf(big + n, "block a@b.i2p\nallow a@b.i2p c@d.i2p\n"
	    "deny not-an-address\ndeny\nallow ok@ok.i2p\r\n\r\n");
	nbadlines = 0;
	check_int(nym_senders_parse(&l, big, n, bad, NULL), 0,
	    "a hostile list parses");
	check_int(l.n, 1, "only the good entry is taken");
	check_int(l.bad, 6, "six bad lines counted");
	check(nbadlines == 6 && badlines[0] == 1 && badlines[1] == 2 &&
	    badlines[2] == 3 && badlines[3] == 4 && badlines[4] == 5 &&
	    badlines[5] == 6, "each bad line reported with its number");
	check_int(nym_senders_match(&l, "ok@ok.i2p"), NYM_SENDERS_ALLOW,
	    "the good entry after them counts");
	nym_senders_free(&l);

	/* Too many entries: the ones past the limit are bad lines. */
	for (n = 0, i = 0; i < NYM_SENDERS_ENTRIES + 2; i++)
		n += (size_t)sprintf(big + n, "deny a@b%zu\n", i % 10);
	check_int(nym_senders_parse(&l, big, n, NULL, NULL), 0,
	    "a list past the entry limit parses");
	check_int(l.n, NYM_SENDERS_ENTRIES, "entries stop at the limit");
	check_int(l.bad, 2, "the rest are bad lines");
	nym_senders_free(&l);

	memset(big, '\n', NYM_SENDERS_MAX + 1);
	check(nym_senders_parse(&l, big, NYM_SENDERS_MAX + 1, NULL, NULL) ==
	    -1 && errno == EFBIG && l.n == 0 && l.buf == NULL,
	    "a list over the size limit is EFBIG and empty");
	check_int(nym_senders_parse(&l, big, NYM_SENDERS_MAX, NULL, NULL), 0,
	    "a list at the size limit parses");
	nym_senders_free(&l);
	tap_put("big", "");
	{
		FILE *f = fopen("big", "w");

		if (f != NULL) {
			fwrite(big, 1, NYM_SENDERS_MAX + 1, f);
			fclose(f);
		}
	}
	check(nym_senders_read(&l, "big", NULL, NULL) == -1 && errno == EFBIG,
	    "reading a file over the limit is EFBIG");
	check(nym_senders_read(&l, ".", NULL, NULL) == -1,
	    "a directory is not a list");
	check_int(nym_senders_read(&l, "missing", NULL, NULL), 0,
	    "a missing file is an empty list");
	check_int(l.n, 0, "with no entries");
	unlink("big");
	free(big);
}

static void
test_set(void)
{
	char buf[4096];
	struct stat st;

	tap_put("l", "# mine\nbogus line\nallow a@a.i2p\nallow b@b.i2p");
	chmod("l", 0644);
	check_int(nym_senders_set("l", "C@C.i2p", NYM_SENDERS_DENY), 1,
	    "an entry added");
	tap_slurp("l", buf, sizeof buf);
	check_str(buf, "# mine\nbogus line\nallow a@a.i2p\nallow b@b.i2p\n"
	    "deny c@c.i2p\n", "added at the end, other lines kept");
	check(stat("l", &st) == 0 && (st.st_mode & 0777) == 0600,
	    "the file is 0600 after an update");
	check_int(nym_senders_set("l", "c@c.i2p", NYM_SENDERS_DENY), 0,
	    "adding it again changes nothing");
	check_int(nym_senders_set("l", "A@a.i2p", NYM_SENDERS_DENY), 1,
	    "an entry turned from allow to deny");
	tap_slurp("l", buf, sizeof buf);
	check_str(buf, "# mine\nbogus line\ndeny a@a.i2p\nallow b@b.i2p\n"
	    "deny c@c.i2p\n", "in its place");
	check_int(nym_senders_set("l", "b@b.i2p", NYM_SENDERS_NONE), 1,
	    "an entry removed");
	check_int(nym_senders_set("l", "b@b.i2p", NYM_SENDERS_NONE), 0,
	    "removing it again changes nothing");
	tap_slurp("l", buf, sizeof buf);
	check_str(buf, "# mine\nbogus line\ndeny a@a.i2p\ndeny c@c.i2p\n",
	    "removed, the bad line kept");
	check(nym_senders_set("l", "not an address", NYM_SENDERS_DENY) ==
	    -1 && errno == EINVAL, "a bad pattern is EINVAL");
	check_int(nym_senders_set("new/dir/l", "*@x.i2p", NYM_SENDERS_ALLOW),
	    1, "a list made with its directories");
	check(stat("new/dir", &st) == 0 && (st.st_mode & 0777) == 0700,
	    "which are 0700");
	check(system("test -z \"$(ls -A new/dir | grep -vx l)\"") == 0 &&
	    system("test -z \"$(ls -A . | grep -v '^l$\\|^new$')\"") == 0,
	    "no temporary file is left");
}

static void
test_race(void)
{
	struct nym_senders l;
	char pat[64], what[100];
	pid_t pid[NPROC];
	int i, j, st, ok = 1;

	unlink("race");
	for (i = 0; i < NPROC; i++) {
		if ((pid[i] = fork()) == 0) {
			for (j = 0; j < NEACH; j++) {
				snprintf(pat, sizeof pat, "p%d-%d@race.i2p",
				    i, j);
				if (nym_senders_set("race", pat, j % 2 ?
				    NYM_SENDERS_ALLOW : NYM_SENDERS_DENY) != 1)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < NPROC; i++)
		if (pid[i] == -1 || waitpid(pid[i], &st, 0) == -1 ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			ok = 0;
	check(ok, "every concurrent update succeeded");
	check_int(nym_senders_read(&l, "race", NULL, NULL), 0,
	    "the list reads");
	snprintf(what, sizeof what, "all %d entries of %d processes landed",
	    NPROC * NEACH, NPROC);
	check_int(l.n, NPROC * NEACH, what);
	nym_senders_free(&l);
}

static void
test_path(void)
{
	char buf[256];

	check_int(nym_senders_path(buf, sizeof buf, "d", "Bob@Bob.i2p", 1), 0,
	    "exact path");
	check_str(buf, "d/bob@bob.i2p", "is the address, lower case");
	check_int(nym_senders_path(buf, sizeof buf, "d", "Bob@Bob.i2p", 0), 0,
	    "path with no address file");
	check_str(buf, "d/bob", "falls back to the local part");
	mkdir("d", 0700);
	tap_put("d/bob@bob.i2p", "");
	check_int(nym_senders_path(buf, sizeof buf, "d", "bob@bob.i2p", 0), 0,
	    "path with an address file");
	check_str(buf, "d/bob@bob.i2p", "takes the address file");
	check(nym_senders_path(buf, sizeof buf, "d", "../x@y", 0) == -1 &&
	    nym_senders_path(buf, sizeof buf, "d", "a/b@c", 0) == -1 &&
	    nym_senders_path(buf, sizeof buf, "d", "", 0) == -1 &&
	    nym_senders_path(buf, sizeof buf, "d", "a b@c", 0) == -1,
	    "no recipient names a file outside the directory");
	check(nym_senders_path(buf, 8, "d", "bob@bob.i2p", 1) == -1 &&
	    errno == ENAMETOOLONG, "a path over cap is ENAMETOOLONG");
	unlink("d/bob@bob.i2p");
	rmdir("d");
}

int
main(void)
{
	char dir[] = "/tmp/senders-unit.XXXXXX";

	if (mkdtemp(dir) == NULL || chdir(dir) == -1) {
		perror("senders-unit");
		return 1;
	}
	test_norm();
	test_match();
	test_hostile();
	test_set();
	test_race();
	test_path();
	if (tap_failed == 0) {
		if (system("rm -rf \"$PWD\"") != 0)
			printf("# unable to remove %s\n", dir);
	} else
		printf("# files kept in %s\n", dir);
	return tap_done();
}
