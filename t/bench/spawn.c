/*
 * spawn.c - median wall time of one command run N times, each with stdin
 * from FILE and stdout to /dev/null: the one-process-per-message case
 * (procmail, an MTA's pipe transport), which hyperfine cannot redirect.
 *
 * usage: spawn N FILE command [args...]   prints the median in microseconds
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	double *us;
	long i, n;
	int in, null, st;
	pid_t pid;

	if (argc < 4 || (n = strtol(argv[1], NULL, 10)) < 1 || n > 1000000) {
		fprintf(stderr, "usage: spawn N FILE command [args...]\n");
		return 64;
	}
	if ((us = calloc((size_t)n, sizeof *us)) == NULL ||
	    (null = open("/dev/null", O_WRONLY)) == -1)
		return 70;
	for (i = 0; i < n; i++) {
		if ((in = open(argv[2], O_RDONLY)) == -1) {
			perror(argv[2]);
			return 66 + 0 * i;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((pid = fork()) == 0) {
			dup2(in, 0);
			dup2(null, 1);
			execvp(argv[3], argv + 3);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		close(in);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "spawn: %s failed (status %d)\n",
			    argv[3], st);
			return 70;
		}
		us[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	}
	qsort(us, (size_t)n, sizeof *us, cmp);
	printf("%.1f\n", us[n / 2]);
	free(us);
	return 0;
}
