// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic ends for tests/bench/bench_traffic.sh: counts are taken at the
 * receiving end, over a fixed window that starts after a warm-up.
 *
 *   tbench udp-sink PORT SECS WARMUP        prints received packets/s
 *   tbench udp-flood DST PORT SECS SIZE     sends SIZE-byte datagrams
 *   tbench tcp-acceptor PORT SECS           accepts and closes at once
 *   tbench tcp-connector DST PORT SECS WARMUP  connect, wait for the
 *                                           server's FIN, close; prints
 *                                           completed connections/s
 *
 * Every mode ends by itself (SECS plus a few seconds at most).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in addr(const char *ip, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (ip && inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "tbench: bad address %s\n", ip);
		exit(2);
	}
	return a;
}

static void set_timeout(int fd, int opt, double secs)
{
	struct timeval tv = {.tv_sec = (long)secs,
			     .tv_usec = (long)((secs - (long)secs) * 1e6)};

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static int udp_sink(int port, double secs, double warm)
{
	static char buf[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in a = addr(NULL, port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, sz = 8 << 20, i, n;
	double first = 0, t0, t1, t, give_up;
	long count = 0;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (bind(fd, (void *)&a, sizeof(a)) < 0)
		die("bind");
	set_timeout(fd, SO_RCVTIMEO, 0.05);
	for (i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
		m[i].msg_hdr =
			(struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	/* ready: the script waits for this line before starting the flood */
	printf("ready\n");
	fflush(stdout);
	give_up = now() + 10;
	for (;;) {
		t = now();
		if (!first && t > give_up)
			break;
		if (first && t >= first + warm + secs)
			break;
		n = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		t = now();
		if (!first)
			first = t;
		if (t >= first + warm && t < first + warm + secs)
			count += n;
	}
	if (!first) {
		fprintf(stderr, "tbench: no datagram in 10 s\n");
		return 1;
	}
	t0 = first + warm;
	t1 = now();
	if (t1 < t0 + secs) {
		fprintf(stderr, "tbench: window cut short\n");
		return 1;
	}
	printf("%.0f\n", count / secs);
	return 0;
}

static int udp_flood(const char *dst, int port, double secs, int size)
{
	static char payload[1500];
	struct mmsghdr m[BATCH];
	struct iovec iov = {payload, 0};
	struct sockaddr_in a = addr(dst, port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), i, sz = 4 << 20;
	double end = now() + secs;
	long sent = 0;

	if (fd < 0)
		die("socket");
	if (size < 1 || size > (int)sizeof(payload))
		size = 64;
	iov.iov_len = size;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	if (connect(fd, (void *)&a, sizeof(a)) < 0)
		die("connect");
	for (i = 0; i < BATCH; i++)
		m[i].msg_hdr =
			(struct msghdr){.msg_iov = &iov, .msg_iovlen = 1};
	while (now() < end) {
		int n = sendmmsg(fd, m, BATCH, 0);

		if (n > 0)
			sent += n;
		/* ICMP unreachable before the sink binds, or a full queue */
		else if (errno != ECONNREFUSED && errno != ENOBUFS &&
			 errno != EAGAIN)
			die("sendmmsg");
	}
	fprintf(stderr, "tbench: sent %.0f pps\n", sent / secs);
	return 0;
}

static int tcp_acceptor(int port, double secs)
{
	struct sockaddr_in a = addr(NULL, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, c;
	double end = now() + secs;
	struct pollfd p = {.events = POLLIN};

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&a, sizeof(a)) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	p.fd = fd;
	while (now() < end) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept(fd, NULL, NULL);
		if (c >= 0)
			close(c);
	}
	return 0;
}

static int tcp_connector(const char *dst, int port, double secs, double warm)
{
	struct sockaddr_in a = addr(dst, port);
	double start = now(), t0 = start + warm, t1 = t0 + secs, t;
	long done = 0, failed = 0;
	char c;

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		if (fd < 0)
			die("socket");
		/* a lost SYN costs 1 s in the kernel; count it as a failure */
		set_timeout(fd, SO_SNDTIMEO, 1);
		set_timeout(fd, SO_RCVTIMEO, 1);
		ok = connect(fd, (void *)&a, sizeof(a)) == 0 &&
		     read(fd, &c, 1) == 0;
		close(fd);
		t = now();
		if (t >= t1)
			break;
		if (t >= t0) {
			if (ok)
				done++;
			else
				failed++;
		}
	}
	if (failed)
		fprintf(stderr, "tbench: %ld connections failed\n", failed);
	if (done == 0) {
		fprintf(stderr, "tbench: no connection completed\n");
		return 1;
	}
	printf("%.0f\n", done / secs);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "udp-sink") && argc == 5)
		return udp_sink(atoi(argv[2]), atof(argv[3]), atof(argv[4]));
	if (!strcmp(m, "udp-flood") && argc == 6)
		return udp_flood(argv[2], atoi(argv[3]), atof(argv[4]),
				 atoi(argv[5]));
	if (!strcmp(m, "tcp-acceptor") && argc == 4)
		return tcp_acceptor(atoi(argv[2]), atof(argv[3]));
	if (!strcmp(m, "tcp-connector") && argc == 6)
		return tcp_connector(argv[2], atoi(argv[3]), atof(argv[4]),
				     atof(argv[5]));
	fprintf(stderr, "usage: see the comment at the top of tbench.c\n");
	return 2;
}
