// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A UDP flood from a chosen source address, for the prefilter benchmark:
 *
 *   flood SRC DST PORT SECS SIZE
 *
 * sends SIZE-byte datagrams from SRC to DST:PORT for SECS seconds, in
 * batches of 64 (sendmmsg), and prints the packets sent per second. The
 * source port changes with every batch, as a flood's would.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

int main(int argc, char **argv)
{
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct sockaddr_in dst = {.sin_family = AF_INET};
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	static char buf[1500];
	unsigned long long sent = 0;
	double secs, t0, end;
	int fd = -1, i, n, size;

	if (argc != 6) {
		fprintf(stderr, "usage: flood SRC DST PORT SECS SIZE\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) {
		fprintf(stderr, "flood: bad address\n");
		return 2;
	}
	dst.sin_port = htons(atoi(argv[3]));
	secs = atof(argv[4]);
	size = atoi(argv[5]);
	if (size < 1 || size > (int)sizeof(buf) || secs <= 0) {
		fprintf(stderr, "flood: bad size or time\n");
		return 2;
	}
	iov.iov_base = buf;
	iov.iov_len = size;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(dst);
	}
	t0 = now();
	end = t0 + secs;
	for (n = 0; now() < end; n++) {
		/* a new socket (and source port) now and then */
		if (n % 1024 == 0) {
			if (fd >= 0)
				close(fd);
			fd = socket(AF_INET, SOCK_DGRAM, 0);
			if (fd < 0 ||
			    bind(fd, (struct sockaddr *)&src, sizeof(src))) {
				perror("flood: socket");
				return 1;
			}
		}
		i = sendmmsg(fd, msgs, BATCH, 0);
		if (i > 0)
			sent += i;
		else if (i < 0 && errno != ENOBUFS && errno != EAGAIN &&
			 errno != ECONNREFUSED) {
			perror("flood: sendmmsg");
			return 1;
		}
	}
	printf("%.0f\n", sent / (now() - t0));
	return 0;
}
