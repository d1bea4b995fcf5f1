/*
 * reaper - run one test; fail it if it leaves a process or a file behind.
 *
 *	reaper [-g seconds] test [args ...]
 *
 * make check runs every test through it (prove --exec).  reaper makes
 * itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so that what
 * the test starts and abandons is reparented to it and not to init;
 * gives the test a TMPDIR of its own (a fresh directory in the caller's
 * TMPDIR, mode 0755 so that the daemons of a lab can enter it); and runs
 * the test (by its #! line if it is not executable, as prove does).
 * When the test has exited, reaper waits at most -g seconds
 * (default 10) for its remaining descendants to exit on their own (a
 * server it has just sent SIGTERM).  Those still there are listed on
 * stderr (PID and command line), sent SIGTERM, and 5 s later SIGKILL.
 * Files left in the private TMPDIR are listed and removed.  Either makes
 * the run fail.
 *
 * Exit status: the test's own if it failed (128 + N if killed by signal
 * N); otherwise 1 if it left a process or a file behind, else 0; 64 for
 * a usage error, 71 if the set-up failed.  SIGINT, SIGTERM and SIGHUP
 * are passed to the test's process group (it runs in one of its own);
 * reaper then cleans up and dies of the signal.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#define MAXPROCS	32768	/* processes examined in one scan */
#define MAXDESC		256	/* descendants handled in one scan */
#define CMDMAX		200	/* bytes of a command line shown */

static volatile sig_atomic_t gotsig;
static const char *test = "test";

static void
onsig(int sig)
{
	gotsig = sig;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The parent of PID from /proc/PID/stat, -1 if it is gone; *zombie set. */
static pid_t
parent_of(pid_t pid, int *zombie)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;
	int ppid;
	char state;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold anything: the fields follow its ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	if (zombie != NULL)
		*zombie = state == 'Z';
	return (pid_t)ppid;
}

/*
 * Fills out[] with the live (not zombie) descendants of this process,
 * at most max of them; returns how many.
 */
static size_t
descendants(pid_t *out, size_t max)
{
	static pid_t pids[MAXPROCS], ppids[MAXPROCS];
	static int zomb[MAXPROCS], mark[MAXPROCS];
	size_t n = 0, i, nout = 0;
	pid_t self = getpid();
	struct dirent *de;
	DIR *d;
	int changed;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < MAXPROCS) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end != '\0' || v <= 0 || v == self)
			continue;
		pids[n] = (pid_t)v;
		if ((ppids[n] = parent_of(pids[n], &zomb[n])) < 0)
			continue;
		mark[n] = ppids[n] == self;
		n++;
	}
	closedir(d);
	/* The closure: a parent marked marks its children. */
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			size_t j;

			if (mark[i])
				continue;
			for (j = 0; j < n; j++)
				if (mark[j] && pids[j] == ppids[i]) {
					mark[i] = changed = 1;
					break;
				}
		}
	} while (changed);
	for (i = 0; i < n && nout < max; i++)
		if (mark[i] && !zomb[i])
			out[nout++] = pids[i];
	return nout;
}

/* Reaps every child that has exited (orphans reparented to us). */
static void
reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void
show(pid_t pid)
{
	char path[64], buf[CMDMAX + 1];
	FILE *f;
	size_t n = 0, i;

	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, CMDMAX, f);
		fclose(f);
	}
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			buf[i] = ' ';
	buf[n] = '\0';
	fprintf(stderr, "reaper:   %ld %s\n", (long)pid, n ? buf : "?");
}

/*
 * Waits until no descendant is left or `secs' have passed; returns how
 * many are left (in left[]).
 */
static size_t
settle(double secs, pid_t *left)
{
	double end = now() + secs;
	size_t n;

	for (;;) {
		reap();
		n = descendants(left, MAXDESC);
		if (n == 0 || now() >= end)
			return n;
		pause_ms(50);
	}
}

/* Kills what is left: SIGTERM, then SIGKILL 5 s later; returns how many. */
static size_t
killall_left(double grace)
{
	pid_t left[MAXDESC];
	size_t n, i, found;
	int round;

	if ((found = settle(grace, left)) == 0)
		return 0;
	fprintf(stderr, "reaper: %s left %zu process%s behind:\n", test,
	    found, found == 1 ? "" : "es");
	for (i = 0; i < found; i++)
		show(left[i]);
	for (round = 0; round < 20; round++) {
		n = descendants(left, MAXDESC);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			kill(left[i], round == 0 ? SIGTERM : SIGKILL);
		if (round == 0)
			n = settle(5, left);
		else
			n = settle(1, left);
		if (n == 0)
			break;
	}
	reap();
	if ((n = descendants(left, MAXDESC)) > 0)
		fprintf(stderr, "reaper: unable to kill %zu process%s\n", n,
		    n == 1 ? "" : "es");
	return found;
}

static int
rmone(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1)
		fprintf(stderr, "reaper: unable to remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

/* Lists and removes what is left in DIR; returns how many entries. */
static size_t
cleantmp(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "reaper: unable to open %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0)
			fprintf(stderr, "reaper: %s left files in TMPDIR:\n",
			    test);
		fprintf(stderr, "reaper:   %s\n", de->d_name);
	}
	closedir(d);
	/* Its own directories may be read-only: make them writable first. */
	if (n > 0) {
		pid_t pid = fork();

		if (pid == 0) {
			execlp("chmod", "chmod", "-R", "u+rwx", dir, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	nftw(dir, rmone, 16, FTW_DEPTH | FTW_PHYS);
	return n;
}

/*
 * Runs TEST as the kernel would, also when it is not executable (prove
 * runs a script by its #! line): exec, else its interpreter.
 */
static void
run(char **argv)
{
	char line[256], *interp, *arg, *p, *av[4096];
	size_t n, i = 0;
	int argc;
	FILE *f;

	execvp(argv[0], argv);
	if (errno != EACCES || (f = fopen(argv[0], "r")) == NULL)
		return;
	n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = '\0';
	if (n < 3 || line[0] != '#' || line[1] != '!' ||
	    (p = strchr(line, '\n')) == NULL) {
		errno = EACCES;
		return;
	}
	*p = '\0';
	interp = strtok(line + 2, " \t");
	arg = strtok(NULL, " \t");
	if (interp == NULL) {
		errno = EACCES;
		return;
	}
	av[i++] = interp;
	if (arg != NULL)
		av[i++] = arg;
	for (argc = 0; argv[argc] != NULL && i < 4095; argc++)
		av[i++] = argv[argc];
	av[i] = NULL;
	execv(interp, av);
}

static void
usage(void)
{
	fputs("usage: reaper [-g seconds] test [args ...]\n", stderr);
	exit(64);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	char tmp[4096];
	const char *base;
	struct sigaction sa;
	double grace = 10;
	int c, status = 0, rc, fwd = 0;
	size_t i, nproc, nfile;
	pid_t pid, w;

	while ((c = getopt(argc, argv, "+g:")) != -1) {
		switch (c) {
		case 'g': {
			char *end;

			grace = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(grace >= 0) ||
			    grace > 3600)
				usage();
			break;
		}
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	test = argv[0];

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
		fprintf(stderr, "reaper: unable to become a subreaper: %s\n",
		    strerror(errno));
		return 71;
	}
	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/nymtest.XXXXXX", base) >=
	    sizeof tmp || mkdtemp(tmp) == NULL || chmod(tmp, 0755) == -1 ||
	    setenv("TMPDIR", tmp, 1) == -1) {
		fprintf(stderr, "reaper: unable to create a directory in %s: "
		    "%s\n", base, strerror(errno));
		return 71;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsig;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);

	if ((pid = fork()) == -1) {
		fprintf(stderr, "reaper: unable to fork: %s\n",
		    strerror(errno));
		rmdir(tmp);
		return 71;
	}
	if (pid == 0) {
		/* Its own process group, so that a signal reaches it all. */
		setpgid(0, 0);
		sa.sa_handler = SIG_DFL;
		for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			sigaction(sigs[i], &sa, NULL);
		run(argv);
		fprintf(stderr, "reaper: unable to run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}

	for (;;) {
		if (gotsig && !fwd) {
			kill(-pid, gotsig);
			fwd = 1;
		}
		w = waitpid(-1, &status, 0);
		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			fprintf(stderr, "reaper: unable to wait for %s: %s\n",
			    test, strerror(errno));
			status = 71 << 8;
			break;
		}
	}

	nproc = killall_left(grace);
	nfile = cleantmp(tmp);

	if (gotsig) {
		sa.sa_handler = SIG_DFL;
		sigaction(gotsig, &sa, NULL);
		raise(gotsig);
		return 128 + gotsig;
	}
	if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = WEXITSTATUS(status);
	if (rc == 0 && (nproc > 0 || nfile > 0))
		rc = 1;
	return rc;
}
