/*
 * churn: opens and closes TCP connections and UNIX socket pairs as fast as it can,
 * to race sock_diag dumps in the same network namespace
 * (test/hardening/dump-interrupted.test.ts).
 *
 *   churn PORT
 *
 * Listens on 127.0.0.1:PORT, prints "ready" and then, until its standard input
 * reaches end of file, loops: connect to the listener, accept, close both ends with
 * an abortive close (SO_LINGER 0, so no TIME_WAIT piles up and ports do not run out),
 * and make and close a UNIX socketpair. Prints the number of cycles when it ends.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what) {
	perror(what);
	exit(1);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: churn PORT\n");
		return 2;
	}
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])) };
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	int one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0) die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
	if (listen(l, 128) < 0) die("listen");
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	printf("ready\n");
	fflush(stdout);
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };
	unsigned long cycles = 0;
	for (;;) {
		if ((cycles & 63) == 0) {
			struct pollfd p = { .fd = 0, .events = POLLIN };
			if (poll(&p, 1, 0) > 0) {
				char buf[64];
				ssize_t n = read(0, buf, sizeof buf);
				if (n == 0 || (n < 0 && errno != EAGAIN)) break;
			}
		}
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0) die("socket");
		if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
		int a = accept(l, NULL, NULL);
		if (a < 0) die("accept");
		setsockopt(c, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
		setsockopt(a, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
		close(c);
		close(a);
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
			close(sv[0]);
			close(sv[1]);
		}
		cycles++;
	}
	printf("cycles %lu\n", cycles);
	return 0;
}
