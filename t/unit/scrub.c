/*
 * scrub.c - unit tests for the scrub engine (lib/scrub.c): the policy,
 * keyed IDs, the field rewriters, the MIME walker and its cid: rewriting,
 * the check's report, and refusals that come back as failures with an
 * exit code and a message instead of an exit (run under ASan: nothing
 * may leak on those paths either).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "scrub.h"
#include "tap.h"

#define NOW	1700000000	/* Tue, 14 Nov 2023 22:13:20 +0000 */

static char out[65536];
static char report[8192];

/* Run s on msg: the leaks (or -1), the output in out, a check's report
 * (with check) in report. */
static int
scrub(struct nym_scrub *s, const char *msg, int check)
{
	FILE *in = tmpfile(), *o = tmpfile(), *r = tmpfile();
	size_t n;
	int leaks;

	if (in == NULL || o == NULL || r == NULL ||
	    fwrite(msg, 1, strlen(msg), in) != strlen(msg) ||
	    fflush(in) != 0 || fseek(in, 0, SEEK_SET) != 0) {
		perror("tmpfile");
		exit(1);
	}
	s->report = check ? r : NULL;
	leaks = nym_scrub_run(s, fileno(in), fileno(o));
	s->report = NULL;
	rewind(o);
	n = fread(out, 1, sizeof out - 1, o);
	out[n] = '\0';
	fflush(r);
	rewind(r);
	n = fread(report, 1, sizeof report - 1, r);
	report[n] = '\0';
	fclose(in);
	fclose(o);
	fclose(r);
	return leaks;
}

/* The value of the first field named name in out ("" if none). */
static const char *
field(const char *name)
{
	static char v[1024];
	const char *p = out, *e;
	size_t l = strlen(name);

	for (;;) {
		if (strncasecmp(p, name, l) == 0 && p[l] == ':') {
			p += l + 1 + strspn(p + l + 1, " ");
			e = strchr(p, '\n');
			snprintf(v, sizeof v, "%.*s",
			    (int)(e != NULL ? e - p : (long)strlen(p)), p);
			return v;
		}
		if ((p = strchr(p, '\n')) == NULL || p[1] == '\n')
			return "";
		p++;
	}
}

static void
setup(struct nym_scrub *s)
{
	check_int(nym_scrub_init(s), 0, "init");
	s->now = NOW;
}

static const char plain[] =
    "From: Alice <alice@alice.i2p>\n"
    "To: bob@bob.i2p\n"
    "Subject: hello\n"
    "Date: Mon, 13 Nov 2023 10:00:00 +0100\n"
    "Message-ID: <20231113100000.GA1234@laptop.local>\n"
    "User-Agent: Mutt/2.2.9\n"
    "X-Mailer: mutt\n"
    "Received: from laptop.local (127.0.0.1)\n"
    "\n"
    "Hi Bob.\n";

static void
test_fields(void)
{
	static char again[sizeof out];
	struct nym_scrub s;
	char id1[128], id2[128];
	int n;

	setup(&s);
	n = scrub(&s, plain, 0);
	check(n > 0, "a scrub counts what it changed");
	check_str(field("Subject"), "hello", "Subject kept as it was");
	check_str(field("Date"), "Mon, 13 Nov 2023 09:00:00 +0000",
	    "Date in UTC");
	check_str(field("User-Agent"), "", "User-Agent dropped");
	check_str(field("X-Mailer"), "", "X-Mailer dropped");
	check_str(field("Received"), "", "Received dropped");
	check(strstr(out, "\n\nHi Bob.\n") != NULL, "body copied");
	snprintf(id1, sizeof id1, "%s", field("Message-ID"));
	check(strlen(id1) == 2 + 26 + 1 + strlen("alice.i2p") &&
	    strstr(id1, "@alice.i2p>") != NULL,
	    "Message-ID: a keyed token at the From domain");
	check(strstr(out, "laptop") == NULL, "no host name left");

	/* The same message and key: the same ID (a thread stays one). */
	scrub(&s, plain, 0);
	check_str(field("Message-ID"), id1, "keyed ID stable across runs");
	s.key[0] = 1;
	scrub(&s, plain, 0);
	snprintf(id2, sizeof id2, "%s", field("Message-ID"));
	check(strcmp(id1, id2) != 0, "another key, another ID");

	/* What the scrub wrote passes a second scrub unchanged. */
	snprintf(again, sizeof again, "%s", out);
	check_int(scrub(&s, again, 0), 0, "scrubbed output: nothing to do");
	check_str(out, again, "scrubbed output written back byte for byte");

	s.domain = "example.i2p";
	scrub(&s, plain, 0);
	check(strstr(field("Message-ID"), "@example.i2p>") != NULL,
	    "msgid-domain names the right side");
	s.domain = NULL;

	s.setnow = 1;
	s.round = 3600;
	scrub(&s, plain, 0);
	check_str(field("Date"), "Tue, 14 Nov 2023 22:00:00 +0000",
	    "-n and -r: now, rounded down");
	nym_scrub_free(&s);
	nym_scrub_free(&s);
	check(1, "free twice is harmless");
}

static void
test_policy(void)
{
	struct nym_scrub s;
	char path[] = "/tmp/nym-unit-scrub.XXXXXX";
	FILE *f;
	int fd;

	setup(&s);
	check_int(nym_scrub_add(&s, NYM_SCRUB_KEEP, "X-Mailer"), 0, "keep");
	check_int(nym_scrub_add(&s, NYM_SCRUB_DROP, "subj*"), 0, "drop");
	scrub(&s, plain, 0);
	check_str(field("X-Mailer"), "mutt", "a kept field stays");
	check_str(field("Subject"), "", "a dropped prefix goes");
	check_int(nym_scrub_addlist(&s, NYM_SCRUB_DROP, "x-mailer, to"), 0,
	    "addlist");
	scrub(&s, plain, 0);
	check_str(field("X-Mailer"), "", "drop wins over keep");
	check_str(field("To"), "", "each name of a list counts");
	check_int(nym_scrub_addlist(&s, NYM_SCRUB_KEEP, NULL), 0,
	    "addlist of NULL adds nothing");
	nym_scrub_free(&s);

	setup(&s);
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		exit(1);
	}
	fputs("# local fields\n\nkeep user-agent,organization\n"
	    "  drop subject\n", f);
	fclose(f);
	check_int(nym_scrub_policy(&s, path), 0, "policy file read");
	scrub(&s, plain, 0);
	check_str(field("User-Agent"), "Mutt/2.2.9", "policy keep");
	check_str(field("Subject"), "", "policy drop");
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs("keep a\nremove b\n", f);
	fclose(f);
	check_int(nym_scrub_policy(&s, path), NYM_EX_CONFIG,
	    "policy: a bad line is 78");
	check(strstr(s.why, ":2: expected keep or drop") != NULL &&
	    strncmp(s.why, "unable to read policy ", 22) == 0,
	    "policy: the message names the file and line");
	unlink(path);
	check_int(nym_scrub_policy(&s, path), NYM_EX_CONFIG,
	    "policy: a missing file is 78");
	check_int(s.err, ENOENT, "policy: with its errno");
	nym_scrub_free(&s);
}

static void
test_check(void)
{
	struct nym_scrub s;
	int n;

	setup(&s);
	n = scrub(&s, plain, 1);
	check(n >= 5, "a check counts the leaks");
	check(strstr(report, "X-Mailer: mail client and version\n") != NULL,
	    "a check says why a field goes");
	check(strstr(report, "Date: time zone offset +0100\n") != NULL,
	    "a check names the time zone");
	s.mbox = 1;
	scrub(&s, "From a@b Mon Jan  1 00:00:00 2024\nFrom: a@b.i2p\n"
	    "X-Foo: 1\n\nx\n", 1);
	check(strstr(report, "1: X-Foo: non-standard field") != NULL,
	    "an mbox check numbers the messages");
	nym_scrub_free(&s);
}

static void
test_mime(void)
{
	static const char msg[] =
	    "From: a@alice.i2p\n"
	    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
	    "Message-ID: <x@alice.i2p>\n"
	    "Content-Type: multipart/related; boundary=\"----=_Part_1\"\n"
	    "\n"
	    "preamble\n"
	    "------=_Part_1\n"
	    "Content-Type: text/html\n"
	    "X-Part: 1\n"
	    "\n"
	    "<img src=\"cid:part1.ABCD@laptop.local\">\n"
	    "------=_Part_1\n"
	    "Content-Type: image/png; name=\"/home/alice/a.png\"\n"
	    "Content-ID: <part1.ABCD@laptop.local>\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "iVBORw0KGgo=\n"
	    "------=_Part_1--\n";
	struct nym_scrub s;
	char cid[128], *p;

	setup(&s);
	check(scrub(&s, msg, 0) > 0, "multipart scrubbed");
	check(strstr(out, "=_Part_1") == NULL, "client boundary replaced");
	check(strstr(out, "boundary=\"=_") != NULL, "by a neutral one");
	check(strstr(out, "preamble") == NULL, "preamble dropped");
	check(strstr(out, "X-Part") == NULL, "part header scrubbed");
	check(strstr(out, "name=a.png") != NULL, "file name without its path");
	check(strstr(out, "laptop") == NULL, "Content-ID and cid: renamed");
	p = strstr(out, "Content-ID: <");
	check(p != NULL, "Content-ID there");
	snprintf(cid, sizeof cid, "cid:%.*s\"", (int)strcspn(p + 13, ">"),
	    p != NULL ? p + 13 : "");
	check(strstr(out, cid) != NULL, "cid: follows its Content-ID");
	check(strstr(out, "iVBORw0KGgo=\n--=_") != NULL, "base64 body copied");
	nym_scrub_free(&s);
}

static void
test_mbox(void)
{
	struct nym_scrub s;
	const char *p;
	int k = 0;

	setup(&s);
	s.mbox = 1;
	/* five changes a message: X-Mailer dropped; Date, Message-ID and
	 * the canonical form's MIME-Version and Content-Type added */
	check(scrub(&s, "From a@b Mon Jan  1 00:00:00 2024\n"
	    "From: a@alice.i2p\nX-Mailer: m\n\none\n\n"
	    "From b@b Mon Jan  1 00:00:00 2024\n"
	    "From: b@alice.i2p\nX-Mailer: m\n\ntwo\n", 0) == 10,
	    "both messages of an mbox scrubbed");
	for (p = out; (p = strstr(p, "From ")) != NULL; p++)
		if (p == out || p[-1] == '\n')
			k++;
	check_int(k, 2, "two From_ lines out");
	check(strstr(out, "\n\ntwo\n") != NULL &&
	    strstr(out, "one\n\nFrom b@b") != NULL,
	    "an empty line ends each message");
	check_int(scrub(&s, "", 0), 0, "an empty mbox is no error");
	nym_scrub_free(&s);
}

static void
test_refusals(void)
{
	char deep[8192];
	size_t o;
	struct nym_scrub s;
	int i;

	setup(&s);
	check_int(scrub(&s, "", 0), -1, "no message: refused");
	check_int(s.code, NYM_EX_DATAERR, "no message: 65");
	check_str(s.why, "unable to scrub: no message on input",
	    "no message: the message");
	check_int(scrub(&s, "\nbody\n", 0), -1, "no header: refused");
	check_str(s.why, "unable to scrub message 1: it does not start with "
	    "a header field", "no header: the message");
	check_int(scrub(&s, "From: a@b.i2p\nContent-Type: multipart/mixed; "
	    "boundary=\"\"\n\n--\n", 0), -1, "empty boundary: refused");
	check_int(s.code, NYM_EX_DATAERR, "empty boundary: 65");
	check_int(s.err, 0, "a refusal has no errno");
	check_str(out, "", "nothing written before a refusal");

	o = (size_t)snprintf(deep, sizeof deep, "From: a@b.i2p\n"
	    "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 0; i <= NYM_MIME_DEPTH; i++)
		o += (size_t)snprintf(deep + o, sizeof deep - o, "--b%d\n"
		    "Content-Type: multipart/mixed; boundary=b%d\n\n", i,
		    i + 1);
	check_int(scrub(&s, deep, 0), -1, "nested too deep: refused");
	check(strstr(s.why, "nested deeper than 32") != NULL,
	    "nested too deep: the message");
	/* The failure is the run's: the next run starts clean. */
	check(scrub(&s, plain, 0) > 0 && s.code == 0,
	    "a run after a refusal works");

	/* A write error: 70 or 75 by errno, which comes back too. */
	{
		FILE *in = tmpfile();

		fputs(plain, in);
		rewind(in);
		check_int(nym_scrub_run(&s, fileno(in), -1), -1,
		    "a write error fails the run");
		check_int(s.err, EBADF, "with its errno");
		check_int(s.code, NYM_EX_SOFTWARE, "and its exit code");
		check_str(s.why, "unable to write the message",
		    "and the message");
		fclose(in);
	}
	nym_scrub_free(&s);
}

int
main(void)
{
	test_fields();
	test_policy();
	test_check();
	test_mime();
	test_mbox();
	test_refusals();
	return tap_done();
}
