/*
 * spawn.c - median wall time of commands run one process per message,
 * each with stdin from FILE and stdout to /dev/null (the procmail and MTA
 * pipe case, which hyperfine cannot redirect).  The commands take turns,
 * run after run, so a noisy machine slows them alike.
 *
 * usage: spawn N FILE 'command args' ['command args' ...]
 * prints one line per command: the median in microseconds, the command.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define MAXARGS 64

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
once(char **argv, const char *file, int null)
{
	struct timespec t0, t1;
	pid_t pid;
	int in, st;

	if ((in = open(file, O_RDONLY)) == -1) {
		perror(file);
		exit(70);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(70);
	}
	if (pid == 0) {
		dup2(in, 0);
		dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(in);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "spawn: %s failed (status %d)\n", argv[0], st);
		exit(70);
	}
	return (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
}

int
main(int argc, char *argv[])
{
	char *args[8][MAXARGS + 1];
	double *us[8];
	long i, n;
	int c, k, ncmd, null;

	if (argc < 4 || argc > 11 || (n = strtol(argv[1], NULL, 10)) < 1 ||
	    n > 1000000) {
		fprintf(stderr, "usage: spawn N FILE 'command' ...\n");
		return 64;
	}
	ncmd = argc - 3;
	for (c = 0; c < ncmd; c++) {
		k = 0;
		for (char *w = strtok(argv[c + 3], " "); w != NULL && k < MAXARGS;
		    w = strtok(NULL, " "))
			args[c][k++] = w;
		args[c][k] = NULL;
		if (k == 0 || (us[c] = calloc((size_t)n, sizeof(double))) == NULL)
			return 64;
	}
	if ((null = open("/dev/null", O_WRONLY)) == -1)
		return 70;
	for (i = 0; i < n; i++)
		for (c = 0; c < ncmd; c++)
			us[c][i] = once(args[c], argv[2], null);
	for (c = 0; c < ncmd; c++) {
		qsort(us[c], (size_t)n, sizeof(double), cmp);
		printf("%.1f", us[c][n / 2]);
		for (k = 0; args[c][k] != NULL; k++)
			printf(" %s", args[c][k]);
		putchar('\n');
		free(us[c]);
	}
	return 0;
}
