/*
 * scrub-headers - remove what identifies the sender's machine from a
 * message: software, host, network, user name, locale and time zone.
 *
 * Reads one message (or an mbox with -m) on stdin, writes it scrubbed to
 * stdout; -c reports what it would change instead, -i is an interactive
 * header tester.  The engine is lib/scrub.c (scrub.h): this program
 * parses the options and the configuration, loads the key, runs the
 * engine and reports its failure.
 *
 * No GMime here: linking it costs more start-up time than the whole job
 * takes for the one-process-per-message case (procmail, sendmail pipes).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "base.h"
#include "scrub.h"

#define USAGE "usage: scrub-headers [-acmn] [-d field] [-k field] " \
	"[-K keyfile] [-p policy] [-r seconds] < message\n" \
	"       scrub-headers -i\n"

static struct nym_scrub sc;
static int cflag, iflag;
static const char *Kflag;
static int haskey;

/* The engine failed: its message, and its exit code. */
static void __attribute__((noreturn))
fail(void)
{
	if (sc.err != 0) {
		errno = sc.err;
		nym_dieerr(sc.code, "%s", sc.why);
	}
	nym_die(sc.code, "%s", sc.why);
}

static void
loadkey(void)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	const char *p = Kflag;

	if (haskey)
		return;
	haskey = 1;
	if (cflag)
		return;	/* a check writes nothing: an all-zero key will do */
	if (p == NULL) {
		if (nym_confdir(path, sizeof path) == -1 ||
		    strlen(path) + sizeof "/scrub.key" > sizeof path)
			nym_die(NYM_EX_CONFIG, "unable to find the key "
			    "directory: set HOME or use -K");
		strcat(path, "/scrub.key");
		p = path;
	}
	if (nym_key_load(p, sc.key) == -1) {
		if (errno == EPERM)
			nym_die(NYM_EX_CONFIG, "unable to use key %s: %s", p,
			    nym_secretwhy(p, errno, why, sizeof why));
		if (errno == EINVAL)
			nym_die(NYM_EX_CONFIG, "unable to use key %s: not a "
			    "%d-byte key", p, NYM_KEYLEN);
		nym_dieerr(errno == EACCES ? NYM_EX_CONFIG :
		    nym_exitcode(errno), "unable to read key %s", p);
	}
}

static void
add(int which, const char *pattern)
{
	if (nym_scrub_add(&sc, which, pattern) != 0)
		fail();
}

static int
run(int infd, int outfd)
{
	int leaks = nym_scrub_run(&sc, infd, outfd);

	if (leaks == -1)
		fail();
	return leaks;
}

/* Run a check (-c) or a scrub of fd in a child; the number of leaks, or
 * -1 if the child failed (it said why). */
static int
check(int fd, int outfd, int report)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to fork");
	if (pid == 0) {
		cflag = report;
		sc.report = report ? stdout : NULL;
		if (report)
			nym_exitforce = 2;
		else
			loadkey();
		st = run(fd, outfd);
		fflush(stdout);
		_exit(st > 100 ? 100 : st);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 2 && report ? -1 : WEXITSTATUS(st);
}

/* -i: paste header lines, an empty line runs the check and the scrub. */
static int
interactive(void)
{
	char *line, *buf = NULL;
	size_t len = 0;
	FILE *tmp;
	int fd, nullfd;

	if ((nullfd = open("/dev/null", O_WRONLY)) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to open /dev/null");
	printf("Paste or type header lines; an empty line checks them, "
	    "Ctrl-D quits.\n");
	while ((line = readline(len == 0 ? "header> " : "      > ")) != NULL) {
		size_t l = strlen(line);

		if (l > 0)
			add_history(line);
		if ((buf = realloc(buf, len + l + 2)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		memcpy(buf + len, line, l);
		len += l;
		buf[len++] = '\n';
		free(line);
		if (l > 0)
			continue;
		if ((tmp = tmpfile()) == NULL ||
		    fwrite(buf, 1, len, tmp) != len || fflush(tmp) != 0)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to write a "
			    "temporary file");
		fd = fileno(tmp);
		lseek(fd, 0, SEEK_SET);
		printf("-- leaks --\n");
		fflush(stdout);
		/* A child each, so an error ends the check, not the session. */
		if (check(fd, nullfd, 1) == 0)
			printf("none\n");
		printf("-- scrubbed --\n");
		fflush(stdout);
		lseek(fd, 0, SEEK_SET);
		check(fd, STDOUT_FILENO, 0);
		fclose(tmp);
		len = 0;
	}
	free(buf);
	putchar('\n');
	return 0;
}

/* Is -c among the options?  Looked for before anything else, so that a
 * check exits 2 on every error, one in the options included. */
static int
wantcheck(int argc, char *argv[])
{
	const char *p;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '-')
			continue;	/* an operand, or no option of ours */
		for (p = argv[i] + 1; *p != '\0'; p++) {
			if (*p == 'c')
				return 1;
			if (strchr("dKkpr", *p) != NULL) {
				i += p[1] == '\0';	/* the next word is its */
				break;
			}
		}
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *where, *v, *pfile = NULL;
	int c, leaks, nullfd;

	nym_start(argc, argv, USAGE);
	if (nym_scrub_init(&sc) != 0)
		fail();
	/* A check exits 2 on any error, a bad option included. */
	if (wantcheck(argc, argv))
		nym_exitforce = 2;
	while ((c = getopt(argc, argv, "acd:iK:k:mnp:r:")) != -1) {
		switch (c) {
		case 'a': sc.attrib = 1; break;
		case 'c': cflag = 1; break;
		case 'd': add(NYM_SCRUB_DROP, optarg); break;
		case 'i': iflag = 1; break;
		case 'K': Kflag = optarg; break;
		case 'k': add(NYM_SCRUB_KEEP, optarg); break;
		case 'm': sc.mbox = 1; break;
		case 'n': sc.setnow = 1; break;
		case 'p': pfile = optarg; break;
		case 'r':
			sc.round = nym_num(NYM_EX_USAGE, "-r", optarg, 0,
			    366L * 86400);
			break;
		default: nym_usage();
		}
	}
	if (argc != optind)
		nym_usage();
	/* As a filter under procmail, an MTA or nymbox-sendmail it passes
	 * mail on: a set-up mistake must not bounce it. */
	if (!cflag && !iflag)
		nym_delivering();
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	if (pfile == NULL)
		pfile = nym_conf_get("scrub-policy");
	if ((pfile != NULL && nym_scrub_policy(&sc, pfile) != 0) ||
	    nym_scrub_addlist(&sc, NYM_SCRUB_KEEP,
	    nym_conf_get("scrub-keep")) != 0 ||
	    nym_scrub_addlist(&sc, NYM_SCRUB_DROP,
	    nym_conf_get("scrub-drop")) != 0)
		fail();
	if (Kflag == NULL)
		Kflag = nym_conf_get("scrub-key");
	if (sc.round == 0 && (v = nym_conf_get("scrub-round")) != NULL)
		sc.round = nym_num(NYM_EX_CONFIG, "scrub-round", v, 0,
		    366L * 86400);
	if (!sc.attrib && (v = nym_conf_get("scrub-attribution")) != NULL) {
		if (strcmp(v, "yes") == 0)
			sc.attrib = 1;
		else if (strcmp(v, "no") != 0)
			nym_die(NYM_EX_CONFIG, "unable to use scrub-attribution "
			    "= %s: expected yes or no", v);
	}
	sc.domain = nym_conf_get("msgid-domain");
	sc.now = nym_now();
	if (iflag)
		return interactive();
	if (cflag) {
		if ((nullfd = open("/dev/null", O_WRONLY)) == -1)
			nym_dieerr(2, "unable to open /dev/null");
		nym_exitforce = 2;
		sc.report = stdout;
		leaks = run(STDIN_FILENO, nullfd);
		if (fflush(stdout) == EOF || ferror(stdout))
			nym_dieerr(2, "unable to write the report");
		return leaks > 0 ? 1 : 0;
	}
	/* An mbox is worth sodium_init's start-up: it picks faster code. */
	if (sc.mbox && nym_crypto_init() == -1)
		nym_die(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	/* Load the key before writing anything: no half-written message. */
	loadkey();
	run(STDIN_FILENO, STDOUT_FILENO);
	return NYM_EX_OK;
}
