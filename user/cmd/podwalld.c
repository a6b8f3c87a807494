// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * podwalld: the node agent. Runs in the foreground with logs on stderr, as
 * systemd expects. It loads the datapath (adopting what an earlier run
 * pinned) and keeps it in line with its sources: a folder of manifests,
 * objects applied through the control socket, pods the CNI plugin
 * registers, and (--docker) the Docker daemon's containers. On a change to
 * any of them, or to the node's veths, it reconciles (user/agent/agent.c).
 *
 * SIGHUP: reread the config's manifests and reconcile. SIGTERM, SIGINT:
 * exit, leaving enforcement in place (maps and programs stay pinned and
 * attached). SIGKILL does the same, by construction. A bad manifest is
 * reported and the last good state stays in force.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include "agent.h"
#include "caps.h"
#include "docker_api.h"
#include "log.h"
#include "metrics.h"
#include "podlink.h"
#include "prefilter.h"

#define CONFIG_DEFAULT "/etc/podwall/podwalld.conf"

/* CAP_BPF: maps and programs; CAP_NET_ADMIN: tc filters on veths and
 * rtnetlink into the pods' namespaces. Nothing else once started. To load
 * the programs, CAP_PERFMON too: without it the verifier also walks every
 * speculative path, and the parser's branches exceed its limit. */
static const int start_caps[] = {CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON};
static const int run_caps[] = {CAP_BPF, CAP_NET_ADMIN};
/* changes that arrive together are handled together */
#define SETTLE_MS   50
/* folded flow records, ring-buffer losses, file flushes */
#define TICK_MS	    200
#define WATCH_MAX   4
#define POLLFDS_MAX (5 + WATCH_MAX + PW_CTL_CLIENTS_MAX + 1)

struct config {
	struct pw_agent_opts ao;
	int sweep_s;
	const char *metrics;	/* Prometheus textfile, or NULL */
	const char *kubeconfig; /* Kubernetes mode, from outside the cluster */
	bool in_cluster;	/* Kubernetes mode, from a pod */
	const char *prefilter_dev, *prefilter_file; /* uplink prefilter */
	bool once, uninstall, verbose;
};

/* The pinned datapath, for the prefilter's map and program. */
static struct pw_dp *prefilter_dp;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: podwalld [options]\n"
		"  --manifests DIR    NetworkPolicies, Namespaces and Pods "
		"(JSON or YAML)\n"
		"                     to enforce; watched for changes\n"
		"  --state-dir DIR    CNI records, applied objects, ids "
		"(default\n"
		"                     " PW_STATE_DIR_DEFAULT ")\n"
		"  --socket PATH      control socket, mode 0600 (default\n"
		"                     " PW_CTL_SOCK_DEFAULT ")\n"
		"  --socket-group G   members of group G may use the socket "
		"too (0660)\n"
		"  --pin DIR          bpffs folder for maps and programs "
		"(default\n"
		"                     " PW_PIN_DIR_DEFAULT ")\n"
		"  --ct-max N         conntrack entries (default 1048576)\n"
		"  --policy-max N     policy entries (default 262144)\n"
		"  --ipcache-max N    address entries (default 65536)\n"
		"  --endpoints-max N  endpoints on this node (default 4096)\n"
		"  --flow-log DIR     flow records as JSON Lines in "
		"DIR/" PW_FLOW_LOG_FILE "\n"
		"                     (default " PW_FLOW_LOG_DIR_DEFAULT
		"; none: no files)\n"
		"  --flow-log-max-mb N  rotate past N MiB (default 100); "
		"rotated files\n"
		"                     are gzip-compressed\n"
		"  --flow-log-keep N  rotated files kept (default 10)\n"
		"  --flow-aggregate SECS  fold repeated denies of one "
		"source, destination,\n"
		"                     port and reason within SECS into one "
		"record with\n"
		"                     a count (default 5; 0: off)\n"
		"  --events-mb N      the datapath's event ring buffer, MiB "
		"(a power of\n"
		"                     two; default 4): room for bursts\n"
		"  --flow-ring N      recent records kept for podwall flows "
		"--last\n"
		"                     (default 10000)\n"
		"  --metrics-file PATH  Prometheus text format, rewritten "
		"every 10 s\n"
		"                     (for node exporter's textfile "
		"collector)\n"
		"  --ct-sweep SECS    end idle flows every SECS seconds "
		"(default 10;\n"
		"                     0: never)\n"
		"  --config FILE      read options from FILE first (default\n"
		"                     " CONFIG_DEFAULT " if it exists): one "
		"option\n"
		"                     per line, \"name value\" or \"name = "
		"value\",\n"
		"                     without the dashes; # starts a comment\n"
		"  --docker           Docker containers on bridge networks "
		"are pods:\n"
		"                     follows " PW_DOCKER_SOCK "\n"
		"  --docker-socket PATH  the same, with the daemon's socket at "
		"PATH\n"
		"  --docker-namespace NS  the namespace of containers outside "
		"a Compose\n"
		"                     project (default docker; a project's "
		"containers\n"
		"                     are in the namespace named after it)\n"
		"  --kubeconfig PATH  Kubernetes mode: Namespaces, Pods and "
		"NetworkPolicies\n"
		"                     from the API server that PATH names\n"
		"  --k8s-in-cluster   the same, from inside a pod (service "
		"account)\n"
		"  --node-name NAME   this node in the cluster (default: "
		"$NODE_NAME, or\n"
		"                     the host name)\n"
		"  --node-traffic allow|policy  traffic between a pod and this "
		"node\n"
		"                     (the kubelet's probes): allow passes it "
		"whatever\n"
		"                     the policy, as Kubernetes does (the "
		"default);\n"
		"                     policy judges it like anyone's (the "
		"default with\n"
		"                     --docker, whose published ports reach "
		"containers\n"
		"                     from the host)\n"
		"  --prefilter-dev IF  attach the uplink prefilter (XDP) to IF:"
		" traffic\n"
		"                     from a listed source drops before the "
		"stack\n"
		"  --prefilter FILE   its deny list: one CIDR per line, # "
		"comments;\n"
		"                     read at start and on SIGHUP, and the "
		"list in force\n"
		"                     (a bad line keeps the old one)\n"
		"  --veth-mode tc|xdp  what judges the packets a pod sends, "
		"on its\n"
		"                     host-side veth: TC ingress (default) or "
		"XDP, the\n"
		"                     same checks before the skb is made; "
		"what a pod\n"
		"                     receives is TC in both. XDP measured "
		"slower on\n"
		"                     veths, for allowed and denied traffic "
		"alike (see\n"
		"                     the README). At start each veth gets "
		"the mode's\n"
		"                     program and loses the other's\n"
		"  --audit            every pod in audit mode: what policy "
		"would drop\n"
		"                     passes, logged as audit (per pod or "
		"namespace:\n"
		"                     the label " PW_AUDIT_LABEL "=true)\n"
		"  --once             reconcile once and exit\n"
		"  --uninstall        remove podwall from every veth here, its "
		"pins,\n"
		"                     socket and node state, then exit: "
		"enforcement\n"
		"                     ends (applied objects are kept)\n"
		"  -v, --verbose      debug logging\n"
		"  -h, --help         this text\n"
		"Flags on the command line win over the config file.\n"
		"signals: HUP reconciles now; TERM and INT exit and leave\n"
		"enforcement in place\n");
}

static const struct option opts[] = {
	{"manifests", required_argument, NULL, 'm'},
	{"state-dir", required_argument, NULL, 's'},
	{"socket", required_argument, NULL, 'S'},
	{"socket-group", required_argument, NULL, 'G'},
	{"pin", required_argument, NULL, 'p'},
	{"ct-max", required_argument, NULL, 'c'},
	{"ct-sweep", required_argument, NULL, 'w'},
	{"policy-max", required_argument, NULL, 'P'},
	{"ipcache-max", required_argument, NULL, 'I'},
	{"endpoints-max", required_argument, NULL, 'E'},
	{"flow-log", required_argument, NULL, 'F'},
	{"flow-log-max-mb", required_argument, NULL, 'M'},
	{"flow-log-keep", required_argument, NULL, 'K'},
	{"flow-aggregate", required_argument, NULL, 'A'},
	{"flow-ring", required_argument, NULL, 'R'},
	{"events-mb", required_argument, NULL, 'B'},
	{"metrics-file", required_argument, NULL, 'X'},
	{"config", required_argument, NULL, 'C'},
	{"docker", no_argument, NULL, 'D'},
	{"docker-socket", required_argument, NULL, 'd'},
	{"docker-namespace", required_argument, NULL, 'N'},
	{"kubeconfig", required_argument, NULL, 'k'},
	{"k8s-in-cluster", no_argument, NULL, 'i'},
	{"node-name", required_argument, NULL, 'n'},
	{"node-traffic", required_argument, NULL, 'T'},
	{"prefilter-dev", required_argument, NULL, 'U'},
	{"prefilter", required_argument, NULL, 'L'},
	{"veth-mode", required_argument, NULL, 'V'},
	{"once", no_argument, NULL, 'o'},
	{"audit", no_argument, NULL, 'a'},
	{"uninstall", no_argument, NULL, 'u'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{},
};

static const char *opt_name(int val)
{
	const struct option *o;

	for (o = opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

static int num(const char *name, const char *v, unsigned long max,
	       unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 0);
	if (!*v || *end || errno || *out > max || v[0] == '-') {
		pr_warn("podwalld: %s: \"%s\" is not a number from 0 to "
			"%lu\n",
			name, v, max);
		return -EINVAL;
	}
	return 0;
}

/* Strings from the config file live as long as the process. */
static int set_opt(struct config *c, int id, const char *name, char *v)
{
	unsigned long n;

	switch (id) {
	case 'm':
		c->ao.manifests = v;
		break;
	case 's':
		c->ao.state_dir = v;
		break;
	case 'S':
		c->ao.sock_path = v;
		break;
	case 'G': {
		struct group *g = getgrnam(v);

		if (!g) {
			pr_warn("podwalld: %s: no group \"%s\"\n", name, v);
			return -EINVAL;
		}
		c->ao.sock_gid = g->gr_gid;
		break;
	}
	case 'p':
		c->ao.dp.pin_dir = v;
		break;
	case 'c':
		if (num(name, v, 1U << 26, &n))
			return -EINVAL;
		c->ao.dp.ct_max = n;
		break;
	case 'P':
		if (num(name, v, 1U << 24, &n))
			return -EINVAL;
		c->ao.dp.policy_max = n;
		break;
	case 'I':
		if (num(name, v, 1U << 24, &n))
			return -EINVAL;
		c->ao.dp.ipcache_max = n;
		break;
	case 'E':
		if (num(name, v, 1U << 20, &n))
			return -EINVAL;
		c->ao.dp.ep_max = n;
		break;
	case 'X':
		c->metrics = v;
		break;
	case 'F':
		c->ao.flows.dir = strcmp(v, "none") ? v : NULL;
		break;
	case 'M':
		if (num(name, v, 1U << 20, &n) || !n)
			return -EINVAL;
		c->ao.flows.max_bytes = (size_t)n << 20;
		break;
	case 'K':
		if (num(name, v, 100000, &n))
			return -EINVAL;
		c->ao.flows.keep = n;
		break;
	case 'A':
		if (num(name, v, 3600, &n))
			return -EINVAL;
		c->ao.flows.aggregate_ms = n * 1000;
		break;
	case 'B':
		/* a power of two, as the ring buffer wants */
		if (num(name, v, 1024, &n) || !n || (n & (n - 1))) {
			pr_warn("podwalld: %s: a power of two from 1 to 1024\n",
				name);
			return -EINVAL;
		}
		c->ao.dp.events_bytes = n << 20;
		break;
	case 'R':
		if (num(name, v, 1U << 22, &n))
			return -EINVAL;
		c->ao.flows.ring = n;
		break;
	case 'w':
		if (num(name, v, 86400, &n))
			return -EINVAL;
		c->sweep_s = n;
		break;
	case 'D':
		c->ao.docker_sock = c->ao.docker_sock ?: PW_DOCKER_SOCK;
		break;
	case 'd':
		c->ao.docker_sock = v;
		break;
	case 'N':
		c->ao.docker_ns = v;
		break;
	case 'k':
		c->kubeconfig = v;
		break;
	case 'i':
		c->in_cluster = true;
		break;
	case 'n':
		c->ao.k8s_node = v;
		break;
	case 'T':
		if (!strcmp(v, "allow")) {
			c->ao.node_traffic = PW_NODE_ALLOW;
		} else if (!strcmp(v, "policy")) {
			c->ao.node_traffic = PW_NODE_POLICY;
		} else {
			pr_warn("podwalld: %s: allow or policy, not \"%s\"\n",
				name, v);
			return -EINVAL;
		}
		break;
	case 'U':
		c->prefilter_dev = v;
		break;
	case 'L':
		c->prefilter_file = v;
		break;
	case 'V':
		if (pw_veth_mode_parse(v, &c->ao.dp.veth_mode)) {
			pr_warn("podwalld: %s: \"%s\": tc or xdp\n", name, v);
			return -EINVAL;
		}
		break;
	case 'o':
		c->once = true;
		break;
	case 'a':
		c->ao.audit = true;
		break;
	case 'u':
		c->uninstall = true;
		break;
	case 'v':
		c->verbose = true;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int read_config(struct config *c, const char *path, bool must)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, ret = 0;

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		pr_warn("podwalld: config %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		char *k, *v, *save;
		const struct option *o;

		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		k = strtok_r(line, " \t=", &save);
		if (!k)
			continue;
		v = strtok_r(NULL, " \t=", &save);
		for (o = opts; o->name; o++)
			if (!strcmp(o->name, k))
				break;
		if (!o->name || o->val == 'C' || o->val == 'h') {
			pr_warn("podwalld: %s:%d: unknown option \"%s\"\n",
				path, lineno, k);
			ret = -EINVAL;
		} else if ((o->has_arg == required_argument) != (v != NULL) ||
			   strtok_r(NULL, " \t", &save)) {
			pr_warn("podwalld: %s:%d: %s %s\n", path, lineno, k,
				v ? "takes no value here" : "needs a value");
			ret = -EINVAL;
		} else {
			char where[4200];

			snprintf(where, sizeof(where), "%s:%d: %s", path,
				 lineno, k);
			ret = set_opt(c, o->val, where, v ? strdup(v) : NULL);
		}
	}
	free(line);
	fclose(f);
	return ret;
}

static int parse_args(struct config *c, int argc, char **argv)
{
	const char *config = NULL;
	char name[32];
	int ch, i;

	/* the config file first, so that flags override it */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			config = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			config = argv[i] + 9;
	}
	if (read_config(c, config ?: CONFIG_DEFAULT, config != NULL))
		return 2;
	while ((ch = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 1;
		}
		if (ch == 'C')
			continue;
		snprintf(name, sizeof(name), "--%s", opt_name(ch));
		if (ch == '?' || set_opt(c, ch, name, optarg)) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		pr_warn("podwalld: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return 0;
}

static struct mnl_socket *link_watch(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK);
	int rcvbuf = 4 << 20;

	if (!nl)
		return NULL;
	/* attaching to a thousand veths sends five thousand tc events: with
	 * the default buffer they overflow (ENOBUFS), and every attachment
	 * is then checked again */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	/* RTMGRP_TC: someone removing our filters or the clsact qdisc */
	if (mnl_socket_bind(nl,
			    RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
				    RTMGRP_IPV6_IFADDR | RTMGRP_TC,
			    MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* A deleted link takes our filters with it: the agent must know, or a new
 * link that gets the same ifindex would be thought attached. The same for
 * filters someone else removed. Returns whether a reconcile is due: not
 * for the qdiscs and filters our own attach adds. */
static bool link_msgs(struct pw_agent *a, const char *buf, int n)
{
	const struct nlmsghdr *nh;
	bool due = false;

	for (nh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nh, n);
	     nh = mnl_nlmsg_next(nh, &n)) {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nh);
		const struct tcmsg *tcm = mnl_nlmsg_get_payload(nh);

		switch (nh->nlmsg_type) {
		case RTM_DELLINK:
			if (nh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifi)))
				pw_agent_link_gone(a, ifi->ifi_index);
			due = true;
			break;
		case RTM_NEWLINK:
		case RTM_NEWADDR:
		case RTM_DELADDR:
			/* the veths are read again at the next reconcile */
			pw_agent_link_changed(a);
			due = true;
			break;
		case RTM_DELTFILTER:
		case RTM_DELQDISC:
			/* a filter or the qdisc gone, perhaps ours (tc qdisc
			 * del): the reconcile this event brings attaches
			 * again where a pod is bound */
			if (nh->nlmsg_len >= mnl_nlmsg_size(sizeof(*tcm)))
				pw_agent_link_gone(a, tcm->tcm_ifindex);
			due = true;
			break;
		}
	}
	return due;
}

/* What has queued up on the (non-blocking) socket, a bounded number of
 * reads at a time. */
static bool link_events(struct pw_agent *a, struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool due = false;
	int n, reads;

	for (reads = 0; reads < 64; reads++) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n >= 0) {
			due |= link_msgs(a, buf, n);
			continue;
		}
		/* ENOBUFS: events were lost; the reconcile after it rereads
		 * every link, and attaching again is idempotent */
		if (errno == ENOBUFS) {
			pw_agent_link_gone(a, 0);
			return true;
		}
		if (errno != EAGAIN)
			pr_warn("podwalld: link events: %s\n", strerror(errno));
		break;
	}
	return due;
}

static void drain(int fd)
{
	char buf[8192];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void reconcile(struct pw_agent *a)
{
	char err[PW_ERR_LEN];

	if (pw_agent_reconcile(a, err, sizeof(err)))
		pr_warn("podwalld: %s; the last good state stays in force\n",
			err);
}

/* The deny list from --prefilter into the map; a bad file changes nothing. */
static void prefilter_load(const struct config *c)
{
	struct pw_prefilter_ent *ents = NULL;
	int n = 0, added, removed, err;
	char msg[PW_ERR_LEN];

	if (!c->prefilter_file || !prefilter_dp)
		return;
	err = pw_prefilter_read(c->prefilter_file, &ents, &n, msg, sizeof(msg));
	if (err) {
		pr_warn("podwalld: %s; the prefilter list in force stays\n",
			msg);
		return;
	}
	err = pw_prefilter_apply(prefilter_dp, ents, n, &added, &removed);
	free(ents);
	if (err)
		pr_warn("podwalld: prefilter list %s: %s\n", c->prefilter_file,
			strerror(-err));
	else
		pr_info("podwalld: prefilter list %s: %d prefixes (+%d -%d)\n",
			c->prefilter_file, n, added, removed);
}

static int prefilter_start(const struct config *c)
{
	__u32 ifindex = 0;
	int err;

	if (!c->prefilter_dev && !c->prefilter_file)
		return 0;
	if (c->prefilter_dev && !(ifindex = if_nametoindex(c->prefilter_dev))) {
		pr_warn("podwalld: --prefilter-dev %s: no such interface "
			"here\n",
			c->prefilter_dev);
		return -ENODEV;
	}
	err = pw_dp_open_pinned(c->ao.dp.pin_dir, &prefilter_dp);
	if (err)
		return err;
	/* the list before the hook, so nothing listed passes in between */
	prefilter_load(c);
	if (!ifindex)
		return 0;
	err = pw_dp_prefilter_attach(prefilter_dp, ifindex, PW_XDP_AUTO, NULL);
	if (err == -EPERM) {
		/* Telling whose XDP program is on IF needs CAP_SYS_ADMIN
		 * (bpf_prog_get_fd_by_id). An earlier run's program reads the
		 * same pinned list, so the list just loaded is in force. */
		pr_warn("podwalld: prefilter on %s: the XDP program there "
			"stays as it is (taking it over needs "
			"CAP_SYS_ADMIN); the list is updated\n",
			c->prefilter_dev);
		return 0;
	}
	return err;
}

/* Where the API server is and who we are; the node's name. */
static int k8s_config(struct config *c, struct pw_k8s_config *k, char *node,
		      size_t nodelen)
{
	char err[PW_ERR_LEN];
	int ret;

	if (!c->kubeconfig && !c->in_cluster)
		return 0;
	if (c->kubeconfig && c->in_cluster) {
		pr_warn("podwalld: --kubeconfig or --k8s-in-cluster, not "
			"both\n");
		return -EINVAL;
	}
	ret = c->kubeconfig
		      ? pw_k8s_config_kubeconfig(c->kubeconfig, NULL, k, err,
						 sizeof(err))
		      : pw_k8s_config_incluster(NULL, k, err, sizeof(err));
	if (ret) {
		pr_warn("podwalld: %s\n", err);
		return ret;
	}
	if (!c->ao.k8s_node) {
		const char *env = getenv("NODE_NAME");

		if (env && *env)
			snprintf(node, nodelen, "%s", env);
		else if (gethostname(node, nodelen))
			node[0] = 0;
		c->ao.k8s_node = node;
	}
	c->ao.k8s_cfg = k;
	pr_info("podwalld: kubernetes mode, %s, node %s\n", k->server,
		c->ao.k8s_node);
	return 0;
}

static int run(struct pw_agent *a, const struct config *c)
{
	struct pollfd fds[POLLFDS_MAX];
	struct mnl_socket *nl;
	int ino, sfd, dirty = 0, ret = 0;
	long long next_sweep = now_ms() + c->sweep_s * 1000LL;
	long long next_tick = now_ms() + TICK_MS, dirty_at = 0;
	unsigned long ticks = 0;
	sigset_t mask;

	/* blocked in main(), before any thread exists */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	nl = link_watch();
	if (sfd < 0 || ino < 0 || !nl ||
	    (c->ao.manifests &&
	     inotify_add_watch(ino, c->ao.manifests,
			       IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				       IN_DELETE | IN_CREATE) < 0)) {
		ret = -errno;
		pr_warn("podwalld: watch %s and links: %s\n",
			c->ao.manifests ?: "-", strerror(-ret));
		goto out;
	}
	pr_info("podwalld: serving on %s; watching %s and this namespace's "
		"links\n",
		c->ao.sock_path, c->ao.manifests ?: "no manifests folder");
	for (;;) {
		long long now = now_ms();
		int timeout = -1, n, nfds, nwatch;

		if (c->sweep_s)
			timeout = next_sweep > now ? next_sweep - now : 0;
		if (timeout < 0 || next_tick - now < timeout)
			timeout = next_tick > now ? next_tick - now : 0;
		if (dirty) {
			long long left = dirty_at + SETTLE_MS - now;

			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = left;
		}
		fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = ino, .events = POLLIN};
		fds[2] = (struct pollfd){.fd = mnl_socket_get_fd(nl),
					 .events = POLLIN};
		fds[3] = (struct pollfd){.fd = pw_agent_events_fd(a),
					 .events = POLLIN};
		nwatch = pw_agent_watch_fds(a, fds + 4, WATCH_MAX, &timeout);
		nfds = 4 + nwatch;
		nfds += pw_ctl_pollfds(pw_agent_ctl(a), fds + nfds,
				       POLLFDS_MAX - nfds);
		n = poll(fds, nfds, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (now_ms() >= next_tick) {
			pw_agent_tick(a);
			next_tick = now_ms() + TICK_MS;
			if (c->metrics && ++ticks % (10000 / TICK_MS) == 1) {
				int e = pw_metrics_write(a, c->metrics);

				if (e)
					pr_warn("podwalld: %s: %s\n",
						c->metrics, strerror(-e));
			}
		}
		if (c->sweep_s && now_ms() >= next_sweep) {
			int k = pw_agent_ct_sweep(a);

			if (k > 0)
				pr_debug("podwalld: swept %d idle flows\n", k);
			next_sweep = now_ms() + c->sweep_s * 1000LL;
		}
		/* Docker's events, or its reconnect timer */
		if (pw_agent_watch(a) > 0 && !dirty) {
			dirty = 1;
			dirty_at = now_ms();
		}
		if (dirty && now_ms() >= dirty_at + SETTLE_MS) {
			/* quiet for SETTLE_MS: handle what came */
			dirty = 0;
			reconcile(a);
		}
		if (n == 0)
			continue;
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				pr_info("podwalld: SIGHUP, reconciling\n");
				prefilter_load(c);
				pw_agent_refresh(a);
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
			dirty_at = now_ms();
		}
		if ((fds[2].revents & POLLIN) && link_events(a, nl)) {
			dirty = 1;
			dirty_at = now_ms();
		}
		if (fds[3].revents & POLLIN)
			pw_agent_events(a);
		pw_ctl_process(pw_agent_ctl(a), fds + 4 + nwatch,
			       nfds - 4 - nwatch);
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

static void rm_state(const char *state_dir)
{
	char path[4096];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/cni", state_dir);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		if (d->d_name[0] != '.')
			unlinkat(dirfd(dir), d->d_name, 0);
	if (dir)
		closedir(dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/ids.json", state_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/docker.json", state_dir);
	unlink(path);
}

/* The prefilter wherever it is, not only on --prefilter-dev: left behind,
 * it would go on dropping with nothing to change its list. Another tool's
 * XDP program stays. */
static int prefilter_detach_all(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int err, ret = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		err = pw_dp_prefilter_detach(i->if_index);
		if (err && !ret)
			ret = err;
	}
	if_freenameindex(ifs);
	return ret;
}

/* Only podwall's filters go; other tools' filters and qdiscs stay. */
static int do_uninstall(const struct config *c)
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
	err = prefilter_detach_all();
	if (err && !ret)
		ret = err;
	err = pw_dp_unpin(c->ao.dp.pin_dir);
	if (err && err != -ENOENT && !ret)
		ret = err;
	unlink(c->ao.sock_path);
	rm_state(c->ao.state_dir);
	if (!ret)
		pr_info("podwalld: removed from %d veths, %s and %s\n", n,
			c->ao.dp.pin_dir, c->ao.state_dir);
	return ret;
}

int main(int argc, char **argv)
{
	struct config c = {
		.ao =
			{
				.state_dir = PW_STATE_DIR_DEFAULT,
				.sock_path = PW_CTL_SOCK_DEFAULT,
				.sock_gid = -1,
				.dp = {.pin_dir = PW_PIN_DIR_DEFAULT},
			},
		.sweep_s = 10,
	};

	c.ao.flows = (struct pw_flowlog_opts){
		.dir = PW_FLOW_LOG_DIR_DEFAULT,
		.max_bytes = 100U << 20,
		.keep = 10,
		.aggregate_ms = 5000,
		.ring = 10000,
	};
	struct pw_k8s_config k8s = {};
	char node[256] = "";
	struct pw_agent *a;
	char err[PW_ERR_LEN];
	sigset_t mask;
	int ret;

	pw_log_init_libbpf();
	ret = parse_args(&c, argc, argv);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (c.verbose)
		pw_log_set_level(PW_LOG_DEBUG);
	if (c.uninstall)
		return do_uninstall(&c) ? 1 : 0;
	if (c.once)
		c.ao.sock_path = NULL;
	if (c.ao.manifests) {
		struct stat st;

		/* before anything is loaded or pinned */
		errno = 0;
		if (stat(c.ao.manifests, &st) || !S_ISDIR(st.st_mode)) {
			pr_warn("podwalld: --manifests %s: %s\n",
				c.ao.manifests,
				errno ? strerror(errno) : "not a folder");
			return 1;
		}
	}
	/* Every thread inherits this mask: the flow log's compressor must not
	 * take a SIGTERM meant for the signalfd in run(). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = pw_caps_check(start_caps, 3, err, sizeof(err));
	if (ret) {
		pr_warn("podwalld: needs %s (run it as root, or grant them)\n",
			err);
		return 1;
	}
	ret = k8s_config(&c, &k8s, node, sizeof(node));
	if (ret)
		return 1;
	ret = pw_agent_new(&c.ao, &a);
	pw_k8s_config_free(&k8s); /* the source keeps its own copy */
	c.ao.k8s_cfg = NULL;
	if (ret) {
		pr_warn("podwalld: start: %s\n", strerror(-ret));
		return 1;
	}
	ret = prefilter_start(&c);
	if (ret) {
		pr_warn("podwalld: prefilter: %s\n", strerror(-ret));
		pw_dp_close(prefilter_dp);
		pw_agent_free(a);
		return 1;
	}
	/* loaded, pinned and serving: from here on, BPF map work and tc and
	 * rtnetlink requests are all the agent does */
	ret = pw_caps_keep(run_caps, 2);
	if (ret) {
		pr_warn("podwalld: drop capabilities: %s\n", strerror(-ret));
		pw_dp_close(prefilter_dp);
		pw_agent_free(a);
		return 1;
	}
	pr_info("podwalld: datapath in %s, state in %s, veth mode %s\n",
		c.ao.dp.pin_dir, c.ao.state_dir,
		pw_veth_mode_name(c.ao.dp.veth_mode));
	ret = pw_agent_reconcile(a, err, sizeof(err));
	if (ret)
		pr_warn("podwalld: %s; the last good state stays in force\n",
			err);
	if (!c.once)
		ret = run(a, &c);
	pw_dp_close(prefilter_dp);
	pw_agent_free(a);
	return ret ? 1 : 0;
}
