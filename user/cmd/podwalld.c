// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * podwalld: the node agent. Runs in the foreground with logs on stderr, as
 * systemd expects. It loads the datapath (adopting what an earlier run
 * pinned), and keeps it in line with a folder of manifests and with the
 * node's veths: on a change to either it recompiles, binds pods to veths by
 * their addresses (rtnetlink), attaches the programs to new veths and syncs
 * the maps, writing only what changed.
 *
 * SIGHUP: reconcile now. SIGTERM, SIGINT: exit, leaving enforcement in
 * place (maps and programs stay pinned and attached). A bad manifest is
 * reported and the last good state stays in force.
 *
 * This is the first slice of the agent: the CNI plugin, the control socket
 * and the state folder come next (issue 4).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include "compile.h"
#include "datapath.h"
#include "log.h"
#include "podlink.h"
#include "source_manifests.h"
#include "sync.h"

#define BINDS_MAX 4096
/* changes that arrive together are handled together */
#define SETTLE_MS 50

struct agent {
	struct pw_dp *dp;
	struct pw_sync *sync;
	struct pw_cluster *cluster;
	struct pw_src_manifests *src;
	__u32 *attached; /* ifindexes our programs are on */
	int nattached;
	struct pw_binding binds[BINDS_MAX];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: podwalld --manifests DIR [options]\n"
		   "  --manifests DIR  NetworkPolicies, Namespaces and Pods "
		   "(JSON or\n"
		   "                   YAML) to enforce; watched for changes\n"
		   "  --pin DIR        bpffs folder for maps and programs "
		   "(default\n"
		   "                   " PW_PIN_DIR_DEFAULT ")\n"
		   "  --ct-max N       conntrack entries (default 1048576)\n"
		   "  --once           reconcile once and exit\n"
		   "  --uninstall      remove podwall from every veth here and "
		   "its\n"
		   "                   pins, then exit: enforcement ends\n"
		   "  -v, --verbose    debug logging\n"
		   "  -h, --help       this text\n"
		   "signals: HUP reconciles now; TERM and INT exit and leave\n"
		   "enforcement in place\n");
}

static bool attached(const struct agent *a, __u32 ifindex)
{
	int i;

	for (i = 0; i < a->nattached; i++)
		if (a->attached[i] == ifindex)
			return true;
	return false;
}

static int attach(struct agent *a, __u32 ifindex)
{
	__u32 *v;
	int err;

	if (attached(a, ifindex))
		return 0;
	err = pw_dp_attach(a->dp, ifindex);
	if (err)
		return err;
	v = realloc(a->attached, (a->nattached + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	a->attached = v;
	v[a->nattached++] = ifindex;
	return 0;
}

/* Bring the datapath in line with the manifests and the veths. */
static int reconcile(struct agent *a)
{
	struct pw_sync_stats st;
	struct pw_compiled co;
	char err[PW_ERR_LEN];
	int nb = 0, i, ret;

	ret = pw_src_manifests_load(a->src, a->cluster, err, sizeof(err));
	if (ret)
		/* the last good state stays in force */
		pr_warn("podwalld: %s\n", err);
	ret = pw_compile(a->cluster, &co, err, sizeof(err));
	if (ret) {
		pr_warn("podwalld: %s\n", err);
		return ret;
	}
	ret = pw_podlink_bind(&co, a->binds, &nb, BINDS_MAX);
	for (i = 0; !ret && i < nb; i++) {
		ret = attach(a, a->binds[i].ifindex);
		if (ret)
			pr_warn("podwalld: attach to ifindex %u (%s/%s): %s\n",
				a->binds[i].ifindex, a->binds[i].ns,
				a->binds[i].name, strerror(-ret));
	}
	if (!ret)
		ret = pw_sync_apply(a->sync, a->dp, &co, a->binds, nb, &st);
	if (ret)
		pr_warn("podwalld: sync: %s\n", strerror(-ret));
	else
		pr_info("podwalld: %d pods, %d here; endpoints %d changed, %d "
			"removed; policy +%d -%d; ipcache +%d -%d\n",
			co.neps, nb, st.endpoints_changed, st.endpoints_removed,
			st.policy_writes, st.policy_deletes, st.ipcache_writes,
			st.ipcache_deletes);
	pw_compiled_free(&co);
	return ret;
}

/* Link events: a veth came, went or changed; the content is not needed. */
static struct mnl_socket *link_watch(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);

	if (!nl)
		return NULL;
	if (mnl_socket_bind(
		    nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
		    MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

static void drain(int fd)
{
	char buf[8192];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int run(struct agent *a, const char *dir)
{
	struct pollfd fds[3];
	struct mnl_socket *nl;
	int ino, sfd, dirty = 0, ret = 0;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	nl = link_watch();
	if (sfd < 0 || ino < 0 || !nl ||
	    inotify_add_watch(ino, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				      IN_DELETE | IN_CREATE) < 0) {
		ret = -errno;
		pr_warn("podwalld: watch %s and links: %s\n", dir,
			strerror(-ret));
		goto out;
	}
	fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
	fds[1] = (struct pollfd){.fd = ino, .events = POLLIN};
	fds[2] = (struct pollfd){.fd = mnl_socket_get_fd(nl), .events = POLLIN};
	pr_info("podwalld: watching %s and this namespace's links\n", dir);
	for (;;) {
		int n = poll(fds, 3, dirty ? SETTLE_MS : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0) {
			/* quiet for SETTLE_MS: handle what came */
			dirty = 0;
			reconcile(a);
			continue;
		}
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				pr_info("podwalld: SIGHUP, reconciling\n");
				reconcile(a);
				continue;
			}
			pr_info("podwalld: exiting; enforcement stays in "
				"place\n");
			break;
		}
		if (fds[1].revents & POLLIN) {
			drain(ino);
			dirty = 1;
		}
		if (fds[2].revents & POLLIN) {
			char buf[MNL_SOCKET_BUFFER_SIZE];

			/* ENOBUFS means events were lost: a reconcile after
			 * it rereads everything anyway */
			if (mnl_socket_recvfrom(nl, buf, sizeof(buf)) < 0 &&
			    errno != ENOBUFS && errno != EAGAIN)
				pr_warn("podwalld: link events: %s\n",
					strerror(errno));
			dirty = 1;
		}
	}
out:
	if (nl)
		mnl_socket_close(nl);
	if (ino >= 0)
		close(ino);
	if (sfd >= 0)
		close(sfd);
	return ret;
}

/* Only podwall's filters go; other tools' filters and qdiscs stay. */
static int do_uninstall(const char *pin_dir)
{
	struct pw_podlink *pl;
	int i, n, err, ret = 0;

	err = pw_podlink_scan(&pl, &n);
	if (err) {
		pr_warn("podwalld: read veths: %s\n", strerror(-err));
		return err;
	}
	for (i = 0; i < n; i++) {
		err = pw_dp_detach(pl[i].ifindex);
		if (err && !ret)
			ret = err;
	}
	free(pl);
	err = pw_dp_unpin(pin_dir);
	if (err && err != -ENOENT && !ret)
		ret = err;
	if (!ret)
		pr_info("podwalld: removed from %d veths and %s\n", n, pin_dir);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"manifests", required_argument, NULL, 'm'},
		{"pin", required_argument, NULL, 'p'},
		{"ct-max", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, 'o'},
		{"uninstall", no_argument, NULL, 'u'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct pw_dp_opts dpo = {.pin_dir = PW_PIN_DIR_DEFAULT};
	const char *dir = NULL;
	struct agent a = {};
	bool once = false, uninstall = false;
	int c, ret;

	pw_log_init_libbpf();
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			dir = optarg;
			break;
		case 'p':
			dpo.pin_dir = optarg;
			break;
		case 'c':
			dpo.ct_max = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			once = true;
			break;
		case 'u':
			uninstall = true;
			break;
		case 'v':
			pw_log_set_level(PW_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (uninstall && optind == argc)
		return do_uninstall(dpo.pin_dir) ? 1 : 0;
	if (!dir || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* pinned maps from an earlier run are reused as they are: flows and
	 * policy survive the restart; the programs are replaced by this
	 * version's */
	ret = pw_dp_load(&dpo, &a.dp);
	ret = ret ?: pw_sync_new(&a.sync);
	ret = ret ?: pw_sync_adopt(a.sync, a.dp);
	ret = ret ?: pw_cluster_new(&a.cluster);
	ret = ret ?: pw_src_manifests_new(dir, &a.src);
	if (ret) {
		pr_warn("podwalld: start: %s\n", strerror(-ret));
		goto out;
	}
	pr_info("podwalld: datapath in %s\n", dpo.pin_dir);
	ret = reconcile(&a);
	if (!once)
		ret = run(&a, dir);
out:
	pw_src_manifests_free(a.src);
	pw_cluster_free(a.cluster);
	pw_sync_free(a.sync);
	pw_dp_close(a.dp);
	free(a.attached);
	return ret ? 1 : 0;
}
