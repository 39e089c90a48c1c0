/*
 * holder: opens and holds established TCP connections on loopback, both ends in
 * this process, for the sockdiag benchmark (bench/workload.ts starts several of
 * these inside a private network namespace).
 *
 *   holder LISTEN_IP SRC_IP PORT_BASE PORTS CONNECTIONS
 *
 * Listens on LISTEN_IP:PORT_BASE .. PORT_BASE+PORTS-1, then makes CONNECTIONS
 * connections from SRC_IP (ephemeral ports) to those ports in turn, accepting
 * each right after its connect, so no accept queue ever fills. Prints
 * "ready CONNECTIONS" on stdout once all are established, then holds them until
 * stdin reaches end of file (the parent closed it or died) or a signal ends it.
 * Each connection costs 2 descriptors; the caller keeps CONNECTIONS*2+PORTS
 * under the open-file limit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void die(const char *what, long i) {
	fprintf(stderr, "holder: %s (connection %ld): %s\n", what, i, strerror(errno));
	exit(1);
}

static long number(const char *s, long min, long max, const char *name) {
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "holder: bad %s: %s\n", name, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: holder LISTEN_IP SRC_IP PORT_BASE PORTS CONNECTIONS\n");
		return 2;
	}
	struct in_addr listen_ip, src_ip;
	if (inet_pton(AF_INET, argv[1], &listen_ip) != 1 || inet_pton(AF_INET, argv[2], &src_ip) != 1) {
		fprintf(stderr, "holder: bad address\n");
		return 2;
	}
	long base = number(argv[3], 1, 65535, "port base");
	long ports = number(argv[4], 1, 1000, "port count");
	long n = number(argv[5], 0, 1000000, "connection count");
	if (base + ports - 1 > 65535) {
		fprintf(stderr, "holder: ports past 65535\n");
		return 2;
	}

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if ((rlim_t)(2 * n + ports + 8) > rl.rlim_cur) {
			fprintf(stderr, "holder: %ld connections need %ld descriptors, the limit is %lu\n", n, 2 * n + ports + 8,
				(unsigned long)rl.rlim_cur);
			return 2;
		}
	}

	int *listeners = calloc(ports, sizeof(int));
	struct sockaddr_in *targets = calloc(ports, sizeof(struct sockaddr_in));
	if (!listeners || !targets) die("calloc", -1);
	int one = 1;
	for (long p = 0; p < ports; p++) {
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l < 0) die("socket (listener)", -1);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		targets[p].sin_family = AF_INET;
		targets[p].sin_addr = listen_ip;
		targets[p].sin_port = htons((unsigned short)(base + p));
		if (bind(l, (struct sockaddr *)&targets[p], sizeof targets[p]) < 0) die("bind (listener)", -1);
		if (listen(l, 1024) < 0) die("listen", -1);
		listeners[p] = l;
	}

	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr = src_ip, .sin_port = 0 };
	for (long i = 0; i < n; i++) {
		long p = i % ports;
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0) die("socket", i);
		/* Choose the port at connect time, by 4-tuple, not at bind time by address. */
		setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(c, (struct sockaddr *)&src, sizeof src) < 0) die("bind", i);
		for (int tries = 0;; tries++) {
			if (connect(c, (struct sockaddr *)&targets[p], sizeof targets[p]) == 0) break;
			if (errno != EINTR || tries > 100) die("connect", i);
		}
		int a;
		do a = accept4(listeners[p], NULL, NULL, SOCK_CLOEXEC);
		while (a < 0 && errno == EINTR);
		if (a < 0) die("accept", i);
	}

	printf("ready %ld\n", n);
	fflush(stdout);

	/* Hold until stdin is closed. */
	char buf[256];
	for (;;) {
		ssize_t r = read(0, buf, sizeof buf);
		if (r == 0) break;
		if (r < 0 && errno != EINTR) break;
	}
	return 0;
}
