/*
 * spawn.c - wall time of commands run one process per message, each with
 * stdin from a file and stdout to /dev/null (the procmail and MTA pipe
 * case, which hyperfine cannot redirect).  The commands take turns, run
 * after run, each leading a turn as often as the others, so a noisy
 * machine slows them alike.  Any run that does not exit 0 stops
 * everything: a benchmark of a failing run is worthless.
 *
 * usage: spawn [-l] [-p] N FILE 'command args' ['command args' ...]
 *
 * Each command runs N times on FILE; with -l, FILE lists input files, one
 * a line, and run i reads the i-th (from the start again when they run
 * out).  With -p, stdin and stdout are pipes, as procmail and an MTA's
 * pipe transport give them: a child writes FILE into one in 64 KB writes,
 * and spawn reads the other to its end; the time runs until both are
 * done.  Commands are split at spaces, so no argument may hold one.
 * Prints one line per command: the median and the total wall time of its
 * runs in microseconds, then the command.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define MAXCMDS	8
#define MAXARGS	1024

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
die(const char *what)
{
	fprintf(stderr, "spawn: ");
	perror(what);
	exit(70);
}

/* The feeder of -p: file into fd, as cat would, then exit. */
static void
feed(int in, int fd)
{
	static char buf[65536];
	ssize_t r;

	while ((r = read(in, buf, sizeof buf)) > 0)
		for (ssize_t o = 0, w; o < r; o += w)
			if ((w = write(fd, buf + o, (size_t)(r - o))) <= 0)
				_exit(1);
	_exit(r == 0 ? 0 : 1);
}

/* Read fd to its end, as a pipe's reader would. */
static void
drain(int fd)
{
	static char buf[65536];
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) != 0)
		if (r == -1 && errno != EINTR)
			die("read");
}

/* Run argv once with stdin from file (through pipes with piped); its
 * wall time in microseconds. */
static double
once(char **argv, const char *file, int null, int piped)
{
	struct timespec t0, t1;
	pid_t pid, fpid = -1;
	int in, st, fst, pin[2] = { -1, -1 }, pout[2] = { -1, -1 };

	if ((in = open(file, O_RDONLY)) == -1)
		die(file);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (piped) {
		if (pipe(pin) == -1 || pipe(pout) == -1)
			die("pipe");
		if ((fpid = fork()) == -1)
			die("fork");
		if (fpid == 0) {
			close(pin[0]);
			close(pout[0]);
			close(pout[1]);
			feed(in, pin[1]);
		}
	}
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		dup2(piped ? pin[0] : in, 0);
		dup2(piped ? pout[1] : null, 1);
		if (piped) {
			close(pin[0]);
			close(pin[1]);
			close(pout[0]);
			close(pout[1]);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (piped) {
		close(pin[0]);
		close(pin[1]);
		close(pout[1]);
		drain(pout[0]);
		close(pout[0]);
		if (waitpid(fpid, &fst, 0) == -1)
			die("waitpid");
	}
	if (waitpid(pid, &st, 0) == -1)
		die("waitpid");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(in);
	if (piped && (!WIFEXITED(fst) || WEXITSTATUS(fst) != 0)) {
		fprintf(stderr, "spawn: unable to feed %s to %s\n", file,
		    argv[0]);
		exit(70);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "spawn: %s < %s failed (%s %d)\n", argv[0],
		    file, WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		exit(70);
	}
	return (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
}

/* The lines of file, in *n strings. */
static char **
readlist(const char *file, long *n)
{
	char **v = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long max = 0;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		die(file);
	for (*n = 0; (len = getline(&line, &cap, f)) > 0; (*n)++) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (*n == max) {
			max = max ? 2 * max : 1024;
			if ((v = realloc(v, (size_t)max * sizeof *v)) == NULL)
				die("realloc");
		}
		if ((v[*n] = strdup(line)) == NULL)
			die("strdup");
	}
	if (ferror(f))
		die(file);
	fclose(f);
	free(line);
	if (*n == 0) {
		fprintf(stderr, "spawn: %s lists no file\n", file);
		exit(64);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	static char *args[MAXCMDS][MAXARGS + 1];
	char **files, *one[1];
	double *us[MAXCMDS], total;
	long i, n, nfiles = 1;
	int c, k, ncmd, null, lflag = 0, pflag = 0;

	for (; argc > 1 && (strcmp(argv[1], "-l") == 0 ||
	    strcmp(argv[1], "-p") == 0); argc--, argv++)
		*(argv[1][1] == 'l' ? &lflag : &pflag) = 1;
	if (argc < 4 || argc - 3 > MAXCMDS ||
	    (n = strtol(argv[1], NULL, 10)) < 1 || n > 1000000) {
		fprintf(stderr,
		    "usage: spawn [-l] [-p] N FILE 'command' ...\n");
		return 64;
	}
	one[0] = argv[2];
	files = lflag ? readlist(argv[2], &nfiles) : one;
	ncmd = argc - 3;
	for (c = 0; c < ncmd; c++) {
		k = 0;
		for (char *w = strtok(argv[c + 3], " "); w != NULL;
		    w = strtok(NULL, " ")) {
			if (k == MAXARGS) {
				fprintf(stderr, "spawn: over %d arguments\n",
				    MAXARGS);
				return 64;
			}
			args[c][k++] = w;
		}
		args[c][k] = NULL;
		if (k == 0)
			return 64;
		if ((us[c] = calloc((size_t)n, sizeof(double))) == NULL)
			die("calloc");
	}
	if ((null = open("/dev/null", O_WRONLY)) == -1)
		die("/dev/null");
	/* Run i starts with command i % ncmd: the first of a turn ran up
	 * to 10% slower than the same binary second (1,000 maildir
	 * messages, one process each), so each takes the lead in turn. */
	for (i = 0; i < n; i++)
		for (k = 0; k < ncmd; k++) {
			c = (int)((i + k) % ncmd);
			us[c][i] = once(args[c], files[i % nfiles], null,
			    pflag);
		}
	for (c = 0; c < ncmd; c++) {
		for (total = 0, i = 0; i < n; i++)
			total += us[c][i];
		qsort(us[c], (size_t)n, sizeof(double), cmp);
		printf("%.1f %.0f", n % 2 ? us[c][n / 2] :
		    (us[c][n / 2 - 1] + us[c][n / 2]) / 2, total);
		for (k = 0; args[c][k] != NULL; k++)
			printf(" %s", args[c][k]);
		putchar('\n');
		free(us[c]);
	}
	return 0;
}
