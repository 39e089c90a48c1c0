/*
 * baseline: the C floor for the sockdiag benchmark. One NETLINK_SOCK_DIAG dump of
 * TCP sockets, IPv4 then IPv6, all states, walking every attribute of every
 * message, counting sockets.
 *
 *   baseline [-N NETNS] [-x] [-u]
 *
 * -N enters /run/netns/NETNS (setns) before opening the socket, as
 * `sockdiag -N` does. -x asks for INET_DIAG_INFO, MEMINFO, SKMEMINFO and CONG.
 * -u sends one legacy TCPDIAG_GETSOCK request instead (struct inet_diag_req), which
 * the kernel runs with family AF_UNSPEC: IPv4 and IPv6 in one walk of the socket
 * tables, as sockdiag asks for TCP of both families (`ss` 6.1 sends one request per
 * family, two walks).
 * Prints "sockets S attributes A checksum C" on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RECV_BYTES
#define RECV_BYTES (64 * 1024)
#endif

static unsigned long long sockets, attributes, checksum;
static int interrupted;

static void fail(const char *what) {
	fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void walk(const struct inet_diag_msg *r, int len) {
	sockets++;
	checksum += ntohs(r->id.idiag_sport) + ntohs(r->id.idiag_dport) + r->idiag_state + r->idiag_inode + r->id.idiag_src[0] +
		    r->id.idiag_dst[0];
	for (const struct rtattr *a = (const struct rtattr *)(r + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		attributes++;
		const void *p = RTA_DATA(a);
		unsigned n = RTA_PAYLOAD(a);
		checksum += a->rta_type + n;
		switch (a->rta_type) {
		case INET_DIAG_INFO: {
			struct tcp_info ti;
			memset(&ti, 0, sizeof ti);
			memcpy(&ti, p, n < sizeof ti ? n : sizeof ti);
			checksum += ti.tcpi_rtt + ti.tcpi_snd_cwnd + ti.tcpi_rcv_space + ti.tcpi_bytes_acked;
			break;
		}
		case INET_DIAG_MEMINFO:
			if (n >= sizeof(struct inet_diag_meminfo)) checksum += ((const struct inet_diag_meminfo *)p)->idiag_tmem;
			break;
		case INET_DIAG_SKMEMINFO:
			for (unsigned i = 0; i + 4 <= n; i += 4) checksum += *(const uint32_t *)((const char *)p + i);
			break;
		case INET_DIAG_CONG:
			checksum += strnlen(p, n);
			break;
		default:
			if (n >= 1) checksum += *(const unsigned char *)p;
		}
	}
}

#define EXT_MASK \
	((1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_MEMINFO - 1)) | (1 << (INET_DIAG_SKMEMINFO - 1)) | (1 << (INET_DIAG_CONG - 1)))

/* family 0: the legacy request, both families in one walk. */
static void dump(int fd, int family, int ext) {
	static char buf[RECV_BYTES] __attribute__((aligned(8)));
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (family != 0) {
		struct {
			struct nlmsghdr h;
			struct inet_diag_req_v2 r;
		} req;
		memset(&req, 0, sizeof req);
		req.h.nlmsg_len = sizeof req;
		req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.h.nlmsg_seq = (unsigned)family;
		req.r.sdiag_family = (unsigned char)family;
		req.r.sdiag_protocol = IPPROTO_TCP;
		req.r.idiag_states = ~0u;
		if (ext) req.r.idiag_ext = EXT_MASK;
		if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) fail("sendto");
	} else {
		struct {
			struct nlmsghdr h;
			struct inet_diag_req r;
		} req;
		memset(&req, 0, sizeof req);
		req.h.nlmsg_len = sizeof req;
		req.h.nlmsg_type = TCPDIAG_GETSOCK;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.h.nlmsg_seq = 1;
		req.r.idiag_family = AF_INET;
		req.r.idiag_states = ~0u;
		if (ext) req.r.idiag_ext = EXT_MASK;
		if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) fail("sendto");
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR) continue;
			fail("recv");
		}
		if (n == 0) return;
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = 1;
			if (h->nlmsg_type == NLMSG_DONE) return;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				errno = -e->error;
				fail("dump");
			}
			if (h->nlmsg_type != (family ? SOCK_DIAG_BY_FAMILY : TCPDIAG_GETSOCK)) continue;
			int payload = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct inet_diag_msg));
			if (payload < 0) {
				fprintf(stderr, "baseline: short message\n");
				exit(1);
			}
			walk(NLMSG_DATA(h), payload);
		}
	}
}

int main(int argc, char **argv) {
	const char *netns = NULL;
	int ext = 0, unspec = 0;
	for (int c; (c = getopt(argc, argv, "N:xu")) != -1;) {
		if (c == 'N') netns = optarg;
		else if (c == 'x') ext = 1;
		else if (c == 'u') unspec = 1;
		else {
			fprintf(stderr, "usage: baseline [-N NETNS] [-x] [-u]\n");
			return 2;
		}
	}
	if (netns) {
		char path[4096];
		snprintf(path, sizeof path, "/run/netns/%s", netns);
		int ns = open(path, O_RDONLY | O_CLOEXEC);
		if (ns < 0) fail(path);
		if (setns(ns, CLONE_NEWNET) < 0) fail("setns");
		close(ns);
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) fail("socket");
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) fail("bind");
	if (unspec) {
		dump(fd, 0, ext);
	} else {
		dump(fd, AF_INET, ext);
		dump(fd, AF_INET6, ext);
	}
	close(fd);
	printf("sockets %llu attributes %llu checksum %llu%s\n", sockets, attributes, checksum, interrupted ? " interrupted" : "");
	return 0;
}
