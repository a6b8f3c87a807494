// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-packet cost of pw_from_pod with BPF_PROG_TEST_RUN, as a ratio to a
 * no-op TC program (noop.bpf.c) run on the same packets in the same run.
 *
 * The maps are filled the way the agent fills them: a generated cluster
 * (one measured pod "web", IDS peer pods with a label identity each, and
 * NetworkPolicies selecting web) goes through the compiler (pw_compile)
 * and the sync (pw_sync_apply) into a freshly loaded datapath, web bound
 * to a veth of a private network namespace (the test run honours the
 * context's ifindex only for a device of the current namespace). RULES is
 * the number of policy entries the compiler produces for web: policies of
 * 10 single TCP ports each towards one peer identity, cycling over the
 * peers, so every (identity, port) pair is its own exact entry (in the
 * hash map pw_policy_exact).
 *
 * Paths, each over FLOWS different packets (distinct source ports, peers
 * and destination ports cycling), never one hot tuple:
 *   new-allowed   TCP SYN to an allowed (peer, port): conntrack miss,
 *                 ipcache, policy hit, conntrack insert, "new" event
 *   established   an ACK of a flow whose handshake went through both
 *                 programs first (not timed): conntrack hit
 *   denied        TCP SYN to a peer's port no rule allows: 3 policy
 *                 lookups, drop event
 *   new-cidr      TCP SYN to an address of an ipBlock rule (no pod there)
 *   ipv6-2ext     TCP SYN over IPv6 with hop-by-hop and destination
 *                 options headers, to an allowed peer's IPv6 address
 * and two ablations (where the time goes):
 *   no-endpoint   an interface with no endpoint entry: program entry and
 *                 one hash miss
 *   new-open      a new flow at an endpoint no policy selects: as
 *                 new-allowed without the ipcache and policy lookups
 *   new-same-rule new flows (distinct source ports) all allowed by one
 *                 policy entry of one peer: as new-allowed with the
 *                 ipcache and policy entries always in the cache, so
 *                 new-allowed minus this is what cold entries cost
 *
 * BPF_PROG_TEST_RUN runs one packet @repeat times, and a new flow is new
 * only once; so each packet is one test run with repeat = 1, and the
 * figure is the kernel's own duration of that run (opts.duration: the
 * program between two ktime reads, no syscall or skb setup), summed over
 * the packets. The no-op program runs each packet too, alternately before
 * and after podwall's, so both pay the same timer and cache effects.
 * Established flows are also measured the classic way: one flow, repeat
 * HOT times ("established-hot", a best case). Each figure is the median
 * over ROUNDS rounds (conntrack emptied between rounds).
 *
 * Events go to the ring as in production; the bench drains it between
 * runs (not timed), so each new flow and drop pays a real reservation;
 * events the kernel still failed to reserve are counted in the CSV (more
 * than 1% of a path's packets stops the bench). Every packet's verdict is
 * checked: a wrong one means a broken setup, and the bench stops with exit 1.
 *
 * Writes OUT/pkt.csv, OUT/pkt_sync.csv (compile and first sync per
 * configuration) and OUT/pkt_prog.csv (instruction counts).
 *
 * usage: bench_pkt NOOP_OBJ OUT_DIR [--rules 10,100,..] [--ids 10,100,..]
 *        [--cross] [--flows N] [--rounds N] [--hot N]
 *   default: rules 10..100000 at 100 identities, then identities
 *   10..10000 at 1000 rules; --cross: every pair.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include "addr.h"
#include "compile.h"
#include "datapath.h"
#include "log.h"
#include "manifest.h"
#include "pktgen.h"
#include "sync.h"

#define VETH	  "pwbp0"
#define VETH2	  "pwbp1"
#define WEB4	  "10.0.0.1"
#define WEB6	  "fd00::1"
#define PPP	  10 /* ports per policy */
#define PORT0	  1000
#define DENY_PORT 80
#define CIDR_PORT 443
#define MAXV	  16
#define PASS	  ((__u32)TC_ACT_UNSPEC)
#define SHOT	  ((__u32)TC_ACT_SHOT)

static const __u8 web_mac[6] = {2, 0, 0, 0, 0, 1};
static const __u8 open_mac[6] = {2, 0, 0, 0, 0, 2};
static const __u8 host_mac[6] = {2, 0xee, 0xee, 0xee, 0xee, 1};

static struct pw_dp *dp;
static struct ring_buffer *rb;
static int ifindex, ifindex2, noop_fd, eg_fd, in_fd;
static int flows = 60000, rounds = 5, hot = 100000;
static unsigned long long nevents;
static unsigned long long path_lost[16]; /* events lost, per path */
static char errbuf[PW_ERR_LEN];
static FILE *csv, *csv_sync;

/* current configuration */
static int cur_rules, cur_ids, npol;
static __u64 n_pol_entries, n_ipc_entries;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_pkt: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void peer4(int i, char *b, size_t n)
{
	snprintf(b, n, "10.%d.%d.%d", 64 + i / 65536, (i / 256) % 256, i % 256);
}

static void peer6(int i, char *b, size_t n)
{
	snprintf(b, n, "fd00:64::%x", i + 1);
}

/* ------------------------------------------------------------ the maps */

static int ev_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	nevents++;
	return 0;
}

static void load_text(struct pw_cluster *c, const char *text)
{
	struct pw_objects objs = {};

	if (pw_manifest_load_buf(text, strlen(text), "bench", &objs, errbuf,
				 sizeof(errbuf)) ||
	    pw_cluster_apply(c, &objs))
		die("manifest: %s", errbuf);
}

static void dp_reload(int nids)
{
	struct pw_dp_opts o = {
		.ct_max = 5 * flows + 16384,
		.policy_max = 262144,
		.ipcache_max = 65536,
		.ep_max = nids + 64,
	};

	ring_buffer__free(rb);
	rb = NULL;
	pw_dp_close(dp);
	dp = NULL;
	if (pw_dp_load(&o, &dp))
		die("cannot load the datapath");
	eg_fd = pw_dp_prog_fd(dp, PW_DIR_EGRESS);
	in_fd = pw_dp_prog_fd(dp, PW_DIR_INGRESS);
	rb = ring_buffer__new(pw_dp_map_fd(dp, PW_MAP_EVENTS), ev_cb, NULL,
			      NULL);
	if (!rb)
		die("ring buffer");
}

/*
 * Id hints, as a restarted agent imports them from its state folder: each
 * pod, policy and identity gets the id named here. Without them the
 * compiler looks for a free id by trying 1, 2, 3, ... with a linear check
 * each (pw_hint_alloc), cubic in the number of objects: 10k pods and 10k
 * policies took 330 s to apply here, all of it outside the datapath this
 * bench measures.
 */
static void hints(struct pw_cluster *c, int ids)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *pods = cJSON_AddObjectToObject(root, "pods");
	cJSON *pols = cJSON_AddObjectToObject(root, "policies");
	cJSON *idn = cJSON_AddObjectToObject(root, "identities");
	char key[128];
	int i;

	if (!root || !pods || !pols || !idn)
		die("out of memory");
	cJSON_AddNumberToObject(pods, "bench/web", 1);
	cJSON_AddNumberToObject(idn, "bench|app=web|", PW_ID_FIRST_USER);
	for (i = 0; i < ids; i++) {
		snprintf(key, sizeof(key), "bench/peer%d", i);
		cJSON_AddNumberToObject(pods, key, i + 2);
		snprintf(key, sizeof(key), "bench|id=p%d,role=peer|", i);
		cJSON_AddNumberToObject(idn, key, PW_ID_FIRST_USER + 1 + i);
	}
	for (i = 0; i < npol; i++) {
		snprintf(key, sizeof(key), "bench/np%d", i);
		cJSON_AddNumberToObject(pols, key, i + 1);
	}
	cJSON_AddNumberToObject(pols, "bench/np-cidr", npol + 1);
	if (pw_cluster_hints_import(c, root))
		die("hints");
	cJSON_Delete(root);
}

/*
 * The cluster of one configuration, compiled and synced into a fresh
 * datapath the agent's way. Returns nothing; fills the globals.
 */
static void build(int rules, int ids)
{
	struct pw_cluster *c;
	struct pw_compiled co;
	struct pw_sync *syn;
	struct pw_sync_stats st;
	struct pw_binding b = {0};
	double t0, t1, t2, t3;
	__u32 max;
	char a4[32], a6[64];
	char *buf;
	size_t cap = 4096;
	int i, j, k, web = -1;

	buf = malloc(cap);
	if (!buf || pw_cluster_new(&c))
		die("out of memory");
	dp_reload(ids);
	cur_rules = rules;
	cur_ids = ids;
	npol = rules / PPP > 0 ? rules / PPP : 1;

	t0 = now_ms();
	hints(c, ids);
	load_text(c, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
		     "\"metadata\":{\"name\":\"bench\"}}");
	load_text(c, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		     "\"namespace\":\"bench\",\"name\":\"web\",\"labels\":{"
		     "\"app\":\"web\"}},\"status\":{\"podIPs\":[{\"ip\":\"" WEB4
		     "\"},{\"ip\":\"" WEB6 "\"}]}}");
	for (i = 0; i < ids; i++) {
		peer4(i, a4, sizeof(a4));
		peer6(i, a6, sizeof(a6));
		snprintf(buf, cap,
			 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			 "{\"namespace\":\"bench\",\"name\":\"peer%d\","
			 "\"labels\":{\"role\":\"peer\",\"id\":\"p%d\"}},"
			 "\"status\":{\"podIPs\":[{\"ip\":\"%s\"},{\"ip\":"
			 "\"%s\"}]}}",
			 i, i, a4, a6);
		load_text(c, buf);
	}
	/* policy j: web may reach peer j % ids on 10 ports of block j / ids */
	for (j = 0; j < npol; j++) {
		int n = snprintf(
			buf, cap,
			"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
			"\"NetworkPolicy\",\"metadata\":{\"namespace\":"
			"\"bench\",\"name\":\"np%d\"},\"spec\":{"
			"\"podSelector\":"
			"{\"matchLabels\":{\"app\":\"web\"}},\"policyTypes\":["
			"\"Egress\"],\"egress\":[{\"to\":[{\"podSelector\":{"
			"\"matchLabels\":{\"id\":\"p%d\"}}}],\"ports\":[",
			j, j % ids);

		for (k = 0; k < PPP; k++)
			n += snprintf(buf + n, cap - n,
				      "%s{\"port\":%d,\"protocol\":\"TCP\"}",
				      k ? "," : "",
				      PORT0 + (j / ids) * PPP + k);
		snprintf(buf + n, cap - n, "]}]}}");
		load_text(c, buf);
	}
	/* the ipBlock rule of the new-cidr path */
	load_text(c, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		     "\"NetworkPolicy\",\"metadata\":{\"namespace\":\"bench\","
		     "\"name\":\"np-cidr\"},\"spec\":{\"podSelector\":{"
		     "\"matchLabels\":{\"app\":\"web\"}},\"policyTypes\":["
		     "\"Egress\"],\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":"
		     "\"172.16.0.0/12\",\"except\":[\"172.16.1.0/24\"]}}],"
		     "\"ports\":[{\"port\":443,\"protocol\":\"TCP\"}]}]}}");
	t1 = now_ms();
	if (pw_compile(c, &co, errbuf, sizeof(errbuf)))
		die("compile: %s", errbuf);
	t2 = now_ms();
	for (i = 0; i < co.neps; i++)
		if (!strcmp(co.eps[i].name, "web"))
			web = i;
	if (web < 0)
		die("web not compiled");
	b.ns = co.eps[web].ns;
	b.name = co.eps[web].name;
	b.ifindex = ifindex;
	memcpy(b.mac, web_mac, 6);
	b.has_mac = true;
	if (pw_sync_new(&syn) || pw_sync_apply(syn, dp, &co, &b, 1, &st))
		die("sync failed");
	t3 = now_ms();
	/* policy entries: the trie's and the exact-match hash's */
	pw_dp_map_fill(dp, PW_MAP_POLICY, &n_pol_entries, &max);
	{
		__u64 nx = 0;

		pw_dp_map_fill(dp, PW_MAP_POLICY_EXACT, &nx, &max);
		n_pol_entries += nx;
	}
	pw_dp_map_fill(dp, PW_MAP_IPCACHE, &n_ipc_entries, &max);
	fprintf(csv_sync, "%d,%d,%d,%d,%llu,%llu,%.1f,%.1f,%.1f\n", rules, ids,
		npol + 1, ids + 1, (unsigned long long)n_pol_entries,
		(unsigned long long)n_ipc_entries, t1 - t0, t2 - t1, t3 - t2);
	fflush(csv_sync);
	fprintf(stderr,
		"bench_pkt: %d rules, %d ids: %llu policy entries, %llu "
		"ipcache entries; load %.0f ms, compile %.0f ms, sync %.0f "
		"ms\n",
		rules, ids, (unsigned long long)n_pol_entries,
		(unsigned long long)n_ipc_entries, t1 - t0, t2 - t1, t3 - t2);
	if (n_pol_entries < (__u64)rules)
		die("only %llu policy entries for %d rules",
		    (unsigned long long)n_pol_entries, rules);

	/* the ablation's endpoint: selected by no policy, open both ways */
	{
		struct pw_endpoint ep = {.ep_id = ids + 63,
					 .pol_id = ids + 63,
					 .identity = 2000000,
					 .rev = 1,
					 .flags = PW_EP_F_HAS_IP4 |
						  PW_EP_F_HAS_MAC};

		if (pw_addr_parse("10.0.0.2", ep.ip4))
			die("address");
		memcpy(ep.mac, open_mac, 6);
		if (pw_dp_endpoint_set(dp, ifindex2, &ep))
			die("endpoint set");
	}
	pw_sync_free(syn);
	pw_compiled_free(&co);
	pw_cluster_free(c);
	free(buf);
}

/* Empties conntrack: collect the keys, then delete them (deleting while
 * walking restarts the walk from the first bucket every time). */
static void ct_clear(void)
{
	int fd = pw_dp_map_fd(dp, PW_MAP_CT);
	size_t cap = 1024, n = 0, i;
	struct pw_ct_key *keys = malloc(cap * sizeof(*keys));

	if (!keys)
		die("out of memory");
	while (!bpf_map_get_next_key(fd, n ? &keys[n - 1] : NULL, &keys[n]))
		if (++n == cap) {
			cap *= 2;
			keys = realloc(keys, cap * sizeof(*keys));
			if (!keys)
				die("out of memory");
		}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
	free(keys);
}

/* ------------------------------------------------------------- packets */

enum path {
	P_NEW,
	P_EST,
	P_DENY,
	P_CIDR,
	P_V6,
	P_NOEP,
	P_OPEN,
	P_SAME,
	P__MAX,
};

static const char *const path_name[P__MAX] = {
	"new-allowed", "established", "denied",	  "new-cidr",
	"ipv6-2ext",   "no-endpoint", "new-open", "new-same-rule",
};

/* Flow f of the allowed paths: the peer and port of policy f % npol. */
static void allowed(int f, int *peer, int *port)
{
	int j = f % npol;

	*peer = j % cur_ids;
	*port = PORT0 + (j / cur_ids) * PPP + (f / npol) % PPP;
}

static void tcp4(struct pg *p, const __u8 *smac, const __u8 *dmac,
		 const char *src, const char *dst, int sport, int dport,
		 __u8 flags)
{
	pg_init(p);
	pg_eth(p, smac, dmac, 0);
	pg_ip4(p, &(struct pg_ip4){.src = src, .dst = dst});
	pg_tcp(p, &(struct pg_tcp){.sport = sport,
				   .dport = dport,
				   .flags = flags,
				   .seq = 1,
				   .ack = flags & PG_ACK ? 1 : 0});
	pg_finish(p);
}

/* Packet f of path @pa; *fd, *ifx: where it goes; returns its verdict. */
static __u32 packet(struct pg *p, enum path pa, int f, int *ifx)
{
	char a[64];
	int peer, port;

	*ifx = ifindex;
	switch (pa) {
	case P_NEW:
	case P_EST:
		allowed(f, &peer, &port);
		peer4(peer, a, sizeof(a));
		tcp4(p, web_mac, host_mac, WEB4, a, 2000 + f, port,
		     pa == P_NEW ? PG_SYN : PG_ACK);
		return PASS;
	case P_DENY:
		peer4(f % cur_ids, a, sizeof(a));
		tcp4(p, web_mac, host_mac, WEB4, a, 2000 + f, DENY_PORT,
		     PG_SYN);
		return SHOT;
	case P_CIDR:
		snprintf(a, sizeof(a), "172.20.%d.%d", (f / 256) % 256,
			 f % 256);
		tcp4(p, web_mac, host_mac, WEB4, a, 2000 + f, CIDR_PORT,
		     PG_SYN);
		return PASS;
	case P_V6:
		allowed(f, &peer, &port);
		peer6(peer, a, sizeof(a));
		pg_init(p);
		pg_eth(p, web_mac, host_mac, 0);
		pg_ip6(p, &(struct pg_ip6){.src = WEB6, .dst = a});
		pg_ip6_ext(p, 0, 8, PG_AUTO);  /* hop-by-hop */
		pg_ip6_ext(p, 60, 8, PG_AUTO); /* destination options */
		pg_tcp(p, &(struct pg_tcp){.sport = 2000 + f,
					   .dport = port,
					   .flags = PG_SYN,
					   .seq = 1});
		pg_finish(p);
		return PASS;
	case P_NOEP:
		allowed(f, &peer, &port);
		peer4(peer, a, sizeof(a));
		tcp4(p, web_mac, host_mac, WEB4, a, 2000 + f, port, PG_ACK);
		*ifx = if_nametoindex(VETH "p");
		return PASS;
	case P_SAME:
		allowed(0, &peer, &port);
		peer4(peer, a, sizeof(a));
		tcp4(p, web_mac, host_mac, WEB4, a, 2000 + f, port, PG_SYN);
		return PASS;
	case P_OPEN:
		allowed(f, &peer, &port);
		peer4(peer, a, sizeof(a));
		tcp4(p, open_mac, host_mac, "10.0.0.2", a, 2000 + f, port,
		     PG_SYN);
		*ifx = ifindex2;
		return PASS;
	default:
		die("path");
	}
	return 0;
}

static int run(int fd, struct pg *p, int ifx, __u32 repeat, __u32 *retval,
	       __u32 *dur)
{
	struct __sk_buff ctx = {.ifindex = ifx};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = p->len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*retval = opts.retval;
	*dur = opts.duration;
	return 0;
}

static void drain(void)
{
	ring_buffer__consume(rb);
}

/* The handshake of flow f, not timed: SYN-ACK to the pod, its ACK. */
static void handshake(int f)
{
	struct pg p;
	char a[64];
	int peer, port;
	__u32 ret, dur;

	allowed(f, &peer, &port);
	peer4(peer, a, sizeof(a));
	tcp4(&p, host_mac, web_mac, a, WEB4, port, 2000 + f, PG_SYN | PG_ACK);
	if (run(in_fd, &p, ifindex, 1, &ret, &dur) || ret != PASS)
		die("SYN-ACK of flow %d: verdict %d", f, (int)ret);
	tcp4(&p, web_mac, host_mac, WEB4, a, 2000 + f, port, PG_ACK);
	if (run(eg_fd, &p, ifindex, 1, &ret, &dur) || ret != PASS)
		die("ACK of flow %d: verdict %d", f, (int)ret);
}

/* One round of path @pa over every flow; the sums of both programs' ns. */
static void round_path(enum path pa, double *pw_ns, double *noop_ns)
{
	unsigned long long sp = 0, sn = 0, ev0 = nevents;
	/* one event per packet: new flows and drops; none for the rest */
	int evs = pa != P_EST && pa != P_NOEP;
	__u64 lost0 = 0, lost1 = 0;
	struct pg p;
	int f, ifx;

	pw_dp_events_lost(dp, &lost0);
	for (f = 0; f < flows; f++) {
		__u32 want = packet(&p, pa, f, &ifx), ret, dp_ns, n_ns, nret;

		/* alternate which program sees the packet first */
		if (f & 1) {
			if (run(noop_fd, &p, ifx, 1, &nret, &n_ns) ||
			    run(eg_fd, &p, ifx, 1, &ret, &dp_ns))
				die("test run: %s", strerror(errno));
		} else {
			if (run(eg_fd, &p, ifx, 1, &ret, &dp_ns) ||
			    run(noop_fd, &p, ifx, 1, &nret, &n_ns))
				die("test run: %s", strerror(errno));
		}
		if (ret != want)
			die("%s, flow %d: verdict %d, expected %d",
			    path_name[pa], f, (int)ret, (int)want);
		if (nret != TC_ACT_OK)
			die("no-op program returned %d", (int)nret);
		sp += dp_ns;
		sn += n_ns;
		if ((f & 255) == 255)
			drain();
	}
	drain();
	pw_dp_events_lost(dp, &lost1);
	/* A lost event is a cheaper packet (no record written): a few are
	 * counted in the CSV, more make the figure meaningless. The ring
	 * holds ~35k records and is drained every 256, so a loss is the
	 * kernel refusing a reservation, not a full ring. */
	if (lost1 - lost0 > (__u64)flows / 100)
		die("%s: %llu events lost of %d", path_name[pa],
		    (unsigned long long)(lost1 - lost0), flows);
	if (lost1 != lost0)
		fprintf(stderr, "bench_pkt: %s: %llu events lost\n",
			path_name[pa], (unsigned long long)(lost1 - lost0));
	path_lost[pa] += lost1 - lost0;
	if (nevents - ev0 + (lost1 - lost0) != (__u64)flows * evs)
		die("%s: %llu events for %d packets, expected %d each",
		    path_name[pa], nevents - ev0 + (lost1 - lost0), flows, evs);
	*pw_ns = (double)sp / flows;
	*noop_ns = (double)sn / flows;
}

static void emit(const char *path, int nflows, int repeat, double *pw,
		 double *noop, int n, unsigned long long lost)
{
	double a[MAXV], b[MAXV], r[MAXV], mp, mn;
	int i;

	for (i = 0; i < n; i++) {
		a[i] = pw[i];
		b[i] = noop[i];
		r[i] = noop[i] > 0 ? pw[i] / noop[i] : 0;
	}
	mp = median(a, n);
	mn = median(b, n);
	fprintf(csv, "%d,%d,%llu,%llu,%s,%d,%d,%d,%.1f,%.1f,%.2f,%.1f,%llu\n",
		cur_rules, cur_ids, (unsigned long long)n_pol_entries,
		(unsigned long long)n_ipc_entries, path, nflows, repeat, n, mp,
		mn, median(r, n), mp - mn, lost);
	fflush(csv);
	fprintf(stderr, "  %-16s podwall %7.1f ns  noop %6.1f ns  x%.2f\n",
		path, mp, mn, median(r, n));
}

/*
 * The classic way: one established flow (flow 0, whose handshake went
 * through), repeat times. Checked like the rest: it must pass, and send
 * no event (a flow conntrack lost would drop as out-of-state, with one
 * event per run, and measure that instead).
 */
static void hot_run(double *pw_ns, double *noop_ns)
{
	__u64 ev0 = nevents, lost0 = 0, lost1 = 0;
	__u32 ret, nret, d1, d2;
	struct pg p;
	int ifx;

	pw_dp_events_lost(dp, &lost0);
	packet(&p, P_EST, 0, &ifx);
	if (run(eg_fd, &p, ifx, hot, &ret, &d1) ||
	    run(noop_fd, &p, ifx, hot, &nret, &d2))
		die("test run: %s", strerror(errno));
	drain();
	pw_dp_events_lost(dp, &lost1);
	if (ret != PASS || nret != TC_ACT_OK)
		die("established-hot: verdict %d, no-op %d", (int)ret,
		    (int)nret);
	if (nevents != ev0 || lost1 != lost0)
		die("established-hot: the flow sent events: not established");
	*pw_ns = d1;
	*noop_ns = d2;
}

static void measure(void)
{
	double pw[P__MAX][MAXV], noop[P__MAX][MAXV], hp[MAXV], hn[MAXV];
	int r, f, pa;
	__u64 ev0 = nevents;

	for (r = 0; r < rounds; r++) {
		/* every new-flow path starts from an empty conntrack table,
		 * so none pays for another's entries */
		ct_clear();
		round_path(P_OPEN, &pw[P_OPEN][r], &noop[P_OPEN][r]);
		ct_clear();
		round_path(P_NEW, &pw[P_NEW][r], &noop[P_NEW][r]);
		for (f = 0; f < flows; f++)
			handshake(f);
		round_path(P_EST, &pw[P_EST][r], &noop[P_EST][r]);
		hot_run(&hp[r], &hn[r]);
		round_path(P_DENY, &pw[P_DENY][r], &noop[P_DENY][r]);
		round_path(P_NOEP, &pw[P_NOEP][r], &noop[P_NOEP][r]);
		ct_clear();
		round_path(P_CIDR, &pw[P_CIDR][r], &noop[P_CIDR][r]);
		ct_clear();
		round_path(P_V6, &pw[P_V6][r], &noop[P_V6][r]);
		ct_clear();
		round_path(P_SAME, &pw[P_SAME][r], &noop[P_SAME][r]);
	}
	/* new flows and drops each sent one event; established none */
	if (nevents - ev0 < (__u64)rounds * flows * 4)
		die("only %llu events for %d rounds: events not sent?",
		    (unsigned long long)(nevents - ev0), rounds);
	for (pa = 0; pa < P__MAX; pa++) {
		emit(path_name[pa], flows, 1, pw[pa], noop[pa], rounds,
		     path_lost[pa]);
		path_lost[pa] = 0;
	}
	emit("established-hot", 1, hot, hp, hn, rounds, 0);
}

static void prog_info(FILE *f, const char *name, int fd)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	fprintf(f, "%s,%u,%u,%u\n", name, info.xlated_prog_len / 8,
		info.jited_prog_len, info.verified_insns);
}

static int parse_list(const char *s, int *v)
{
	int n = 0;

	while (*s && n < MAXV) {
		v[n++] = atoi(s);
		s = strchr(s, ',');
		if (!s)
			break;
		s++;
	}
	return n;
}

int main(int argc, char **argv)
{
	int rules[MAXV] = {10, 100, 1000, 10000, 100000}, nr = 5;
	int ids[MAXV] = {10, 100, 1000, 10000}, ni = 4;
	int i, j, cross = 0, mid_ids, mid_rules;
	struct bpf_object *obj;
	char path[4096];
	FILE *fp;

	if (argc < 3)
		die("usage: bench_pkt NOOP_OBJ OUT_DIR [--rules L] [--ids L] "
		    "[--cross] [--flows N] [--rounds N] [--hot N]");
	for (i = 3; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(argv[i], "--rules"))
			nr = parse_list(v, rules), i++;
		else if (!strcmp(argv[i], "--ids"))
			ni = parse_list(v, ids), i++;
		else if (!strcmp(argv[i], "--cross"))
			cross = 1;
		else if (!strcmp(argv[i], "--flows"))
			flows = atoi(v), i++;
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(v), i++;
		else if (!strcmp(argv[i], "--hot"))
			hot = atoi(v), i++;
		else
			die("unknown option %s", argv[i]);
	}
	if (flows < 1024 || flows > 60000 || rounds < 1 || rounds > MAXV ||
	    hot < 1)
		die("--flows 1024..60000, --rounds 1..%d", MAXV);
	mid_rules = rules[0];
	mid_ids = ids[0];
	pw_log_init_libbpf();

	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET): %s (run as root)", strerror(errno));
	if (system("ip link add " VETH " type veth peer name " VETH "p") ||
	    system("ip link add " VETH2 " type veth peer name " VETH2 "p"))
		die("ip link add failed");
	ifindex = if_nametoindex(VETH);
	ifindex2 = if_nametoindex(VETH2);
	if (!ifindex || !ifindex2)
		die("no veth");

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj))
		die("cannot load %s", argv[1]);
	noop_fd = bpf_program__fd(
		bpf_object__find_program_by_name(obj, "pw_noop"));
	if (noop_fd < 0)
		die("no pw_noop in %s", argv[1]);

	snprintf(path, sizeof(path), "%s/pkt.csv", argv[2]);
	csv = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/pkt_sync.csv", argv[2]);
	csv_sync = fopen(path, "w");
	if (!csv || !csv_sync)
		die("cannot write into %s", argv[2]);
	fprintf(csv, "rules,identities,policy_entries,ipcache_entries,path,"
		     "flows,repeat,rounds,podwall_ns,noop_ns,ratio,added_ns,"
		     "events_lost\n");
	fprintf(csv_sync, "rules,identities,policies,pods,policy_entries,"
			  "ipcache_entries,load_ms,compile_ms,sync_ms\n");

	/* the default sweep: a star around (1000 rules, 100 identities), or
	 * the first of each list without those */
	for (i = 0; i < nr; i++)
		if (rules[i] == 1000)
			mid_rules = 1000;
	for (j = 0; j < ni; j++)
		if (ids[j] == 100)
			mid_ids = 100;
	for (i = 0; i < nr; i++)
		for (j = 0; j < ni; j++) {
			if (!cross && ids[j] != mid_ids &&
			    rules[i] != mid_rules)
				continue;
			build(rules[i], ids[j]);
			measure();
		}

	snprintf(path, sizeof(path), "%s/pkt_prog.csv", argv[2]);
	fp = fopen(path, "w");
	if (fp) {
		fprintf(fp,
			"program,xlated_insns,jited_bytes,verified_insns\n");
		prog_info(fp, "pw_from_pod", eg_fd);
		prog_info(fp, "pw_to_pod", in_fd);
		prog_info(fp, "noop", noop_fd);
		fclose(fp);
	}
	fclose(csv);
	fclose(csv_sync);
	ring_buffer__free(rb);
	pw_dp_close(dp);
	bpf_object__close(obj);
	return 0;
}
