/*
 * timeit: runs a command and reports its wall time and peak RSS, like
 * `/usr/bin/time -f "%e %M"` but with microsecond wall time (GNU time prints
 * hundredths of a second, too coarse for the small sizes).
 *
 *   timeit SECONDS COMMAND [ARG...]
 *
 * Writes "WALL_SECONDS MAXRSS_KIB STATUS USER_SECONDS SYSTEM_SECONDS" on descriptor 3
 * (which the command does not inherit), STATUS being the exit code or 128+signal. Kills the command with
 * SIGKILL after SECONDS (status 137 then). stdin, stdout and stderr pass through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void on_alarm(int sig) {
	(void)sig;
	if (child > 0) kill(child, SIGKILL);
}

static void forward(int sig) {
	if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: timeit SECONDS COMMAND [ARG...]\n");
		return 2;
	}
	unsigned seconds = (unsigned)strtoul(argv[1], NULL, 10);
	FILE *report = fdopen(3, "w");
	if (!report) {
		fprintf(stderr, "timeit: descriptor 3 is not open\n");
		return 2;
	}
	fcntl(3, F_SETFD, FD_CLOEXEC);

	struct sigaction sa = { 0 };
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("timeit: fork");
		return 2;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "timeit: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	child = pid;
	if (seconds > 0) alarm(seconds);

	int status;
	struct rusage ru;
	pid_t r;
	do r = wait4(pid, &status, 0, &ru);
	while (r < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0) {
		perror("timeit: wait4");
		return 2;
	}
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	double user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	double sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(report, "%.6f %ld %d %.6f %.6f\n", wall, ru.ru_maxrss, code, user, sys);
	fclose(report);
	return code;
}
