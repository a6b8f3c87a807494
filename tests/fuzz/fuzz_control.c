// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: the control socket end to end. One real agent (an
 * unpinned datapath, a temporary state folder, no flow-log files) serves
 * its socket; each input is sent by a client as it is, in one piece, and
 * the agent's loop runs until it has answered everything and the client
 * has gone. Whatever arrives (broken JSON, unknown ops, oversized lines,
 * requests of every kind with fields of every type) must neither crash
 * nor leak, and the agent must still answer a ping afterwards.
 * Needs root and BPF, as the agent does.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "agent.h"
#include "log.h"

static struct pw_agent *agent;
static char dir[] = "/tmp/pw-fuzz-control-XXXXXX";
static char sock[128];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void teardown(void)
{
	pw_agent_free(agent);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	struct pw_agent_opts o = {
		.state_dir = dir,
		.sock_path = sock,
		.sock_gid = -1,
		.dp = {.ct_max = 1024,
		       .policy_max = 4096,
		       .ipcache_max = 1024,
		       .ep_max = 64,
		       .frag_max = 256},
		.flows = {.ring = 64, .aggregate_ms = 1000},
	};

	if (!mkdtemp(dir))
		abort();
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	if (pw_agent_new(&o, &agent)) {
		fprintf(stderr, "fuzz_control: needs root and BPF\n");
		abort();
	}
	atexit(teardown);
}

/* Run the agent's side until the client's end reports EOF. */
static void serve(int fd)
{
	struct pollfd fds[PW_CTL_CLIENTS_MAX + 1];
	char buf[65536];
	int i, n;

	for (i = 0; i < 10000; i++) {
		struct pollfd me = {.fd = fd, .events = POLLIN};
		ssize_t r;

		n = pw_ctl_pollfds(pw_agent_ctl(agent), fds,
				   PW_CTL_CLIENTS_MAX + 1);
		if (poll(fds, n, 0) > 0)
			pw_ctl_process(pw_agent_ctl(agent), fds, n);
		pw_agent_tick(agent);
		if (poll(&me, 1, 1) <= 0)
			continue;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return;
	}
	abort(); /* the agent never finished with a client */
}

static int client(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		abort();
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ping[] = "{\"op\":\"ping\"}\n";
	int fd;

	if (!agent)
		setup();
	fd = client();
	/* the whole input, then EOF: the agent answers and lets go */
	if (size && send(fd, data, size, MSG_NOSIGNAL) < 0 && errno != EPIPE)
		abort();
	shutdown(fd, SHUT_WR);
	serve(fd);
	close(fd);
	/* and it still serves */
	fd = client();
	if (send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) < 0)
		abort();
	shutdown(fd, SHUT_WR);
	serve(fd);
	close(fd);
	return 0;
}
