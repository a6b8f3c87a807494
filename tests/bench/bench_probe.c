// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The prober of bench_program.sh: how long after a command returns (in
 * practice `podwall apply`) the datapath enforces what it asked for.
 *
 * It runs a TCP SYN from a pod through the pinned pw_from_pod with
 * BPF_PROG_TEST_RUN, at the pod's host-side veth (so it must run in the
 * node's network namespace, with bpffs visible: nsenter --net, not ip
 * netns exec). First it checks the verdict is not yet the wanted one (a
 * change that is already in force measures nothing: exit 3), then runs
 * the command and times it, then probes until the verdict is the wanted
 * one, each probe from a new source port so no conntrack entry answers.
 * Prints "COMMAND_MS ENFORCE_MS PROBES": the command's wall time, the time
 * from its return to the first probe with the wanted verdict, and how many
 * probes that took (1: already enforced when the command returned).
 *
 * usage: bench_probe PIN_DIR HOST_IFNAME POD_MAC POD_IP DST_IP DPORT
 *        pass|drop TIMEOUT_MS -- COMMAND [ARGS...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/wait.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "pktgen.h"

static const __u8 host_mac[6] = {2, 0xee, 0xee, 0xee, 0xee, 1};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fd, ifindex, dport;
static __u8 mac[6];
static const char *src, *dst;

/* The program's verdict for a SYN from source port @sport. */
static int probe(int sport)
{
	struct __sk_buff ctx = {.ifindex = ifindex};
	struct pg p;

	pg_init(&p);
	pg_eth(&p, mac, host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = src, .dst = dst});
	pg_tcp(&p, &(struct pg_tcp){.sport = sport,
				    .dport = dport,
				    .flags = PG_SYN,
				    .seq = 1});
	pg_finish(&p);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.buf,
		    .data_size_in = p.len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	if (bpf_prog_test_run_opts(fd, &opts)) {
		perror("bench_probe: test run");
		exit(1);
	}
	return opts.retval == TC_ACT_SHOT ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

int main(int argc, char **argv)
{
	char path[4096];
	double t0, t1, t2, timeout;
	int want, status, n = 0;
	pid_t pid;

	if (argc < 11 || strcmp(argv[9], "--")) {
		fprintf(stderr,
			"usage: bench_probe PIN_DIR HOST_IFNAME POD_MAC "
			"POD_IP DST_IP DPORT pass|drop TIMEOUT_MS -- "
			"COMMAND [ARGS...]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/pw_from_pod", argv[1]);
	fd = bpf_obj_get(path);
	ifindex = if_nametoindex(argv[2]);
	if (fd < 0 || !ifindex) {
		fprintf(stderr, "bench_probe: no %s or no %s\n", path, argv[2]);
		return 1;
	}
	if (sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
		return 2;
	src = argv[4];
	dst = argv[5];
	dport = atoi(argv[6]);
	want = !strcmp(argv[7], "drop") ? TC_ACT_SHOT : TC_ACT_UNSPEC;
	timeout = atof(argv[8]);

	if (probe(20000) == want) {
		fprintf(stderr,
			"bench_probe: the verdict is already %s before "
			"the command: nothing to measure\n",
			argv[7]);
		return 3;
	}
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		/* our stdout is the result line: the command's goes away */
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execvp(argv[10], argv + 10);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "bench_probe: the command failed\n");
		return 4;
	}
	t1 = now_ms();
	do {
		n++;
		if (probe(20001 + n % 40000) == want)
			break;
		if (now_ms() - t1 > timeout) {
			fprintf(stderr, "bench_probe: not %s after %.0f ms\n",
				argv[7], timeout);
			return 5;
		}
		usleep(n < 1000 ? 0 : 1000);
	} while (1);
	t2 = now_ms();
	printf("%.3f %.3f %d\n", t1 - t0, t2 - t1, n);
	return 0;
}
