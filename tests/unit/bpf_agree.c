// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The compiler's explanation and the datapath held to each other: a cluster
 * of policies is compiled, synced into the real maps of the fixture's four
 * endpoints, and for every ordered pair, protocol and port a first packet
 * goes through pw_from_pod at the source and pw_to_pod at the destination.
 * The verdict must be what pw_explain (and so `podwall trace`) says. Then
 * the policies change, the sync writes only what changed, and the matrix is
 * checked again.
 */
#include <errno.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "compile.h"
#include "manifest.h"
#include "names.h"
#include "sync.h"
/* last: its one-letter endpoint macros would clash with other headers */
#include "bpf_fixture.h"

static char errbuf[PW_ERR_LEN];

static int load(struct pw_cluster *c, const char *text)
{
	struct pw_objects objs = {};
	int err;

	err = pw_manifest_load_buf(text, strlen(text), "agree.yaml", &objs,
				   errbuf, sizeof(errbuf));
	if (err) {
		PW_FAIL("%s", errbuf);
		return err;
	}
	return pw_cluster_apply(c, &objs);
}

/* Pods a..d in namespaces x and y on the fixture's endpoints A..D. */
static const char cluster_yaml[] =
	"apiVersion: v1\n"
	"kind: List\n"
	"items:\n"
	"- {apiVersion: v1, kind: Namespace, metadata: {name: x, labels: "
	"{team: x}}}\n"
	"- {apiVersion: v1, kind: Namespace, metadata: {name: \"y\", labels: "
	"{team: \"y\"}}}\n"
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata: {name: a, namespace: x, labels: {app: web}}\n"
	"  spec: {containers: [{name: c, ports: [{name: http, containerPort: "
	"80}]}]}\n"
	"  status: {podIP: 10.0.0.1}\n"
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata: {name: b, namespace: x, labels: {app: db}}\n"
	"  spec: {containers: [{name: c, ports: [{name: http, containerPort: "
	"443}]}]}\n"
	"  status: {podIP: 10.0.0.2}\n"
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata: {name: c, namespace: \"y\", labels: {app: web}}\n"
	"  status: {podIP: 10.0.0.3}\n"
	"- apiVersion: v1\n"
	"  kind: Pod\n"
	"  metadata: {name: d, namespace: \"y\", labels: {app: client}}\n"
	"  status: {podIP: 10.0.0.4}\n";

static const char policies_yaml[] =
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: db, namespace: x}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: db}}\n"
	"  ingress:\n"
	"  - from: [{podSelector: {matchLabels: {app: web}}}]\n"
	"    ports: [{port: http}, {port: 5432}]\n"
	"  - from: [{namespaceSelector: {matchLabels: {team: \"y\"}}, "
	"podSelector: {matchLabels: {app: client}}}]\n"
	"    ports: [{port: 80, endPort: 81, protocol: UDP}]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: web, namespace: \"y\"}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: web}}\n"
	"  ingress:\n"
	"  - from: [{ipBlock: {cidr: 10.0.0.0/24, except: [10.0.0.2/32]}}]\n"
	"    ports: [{port: 80}]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: client-out, namespace: \"y\"}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: client}}\n"
	"  policyTypes: [Egress]\n"
	"  egress:\n"
	"  - to: [{namespaceSelector: {}}]\n"
	"    ports: [{port: http}, {protocol: UDP}]\n";

/* The next version: db also admits port 80 from anyone in x (a second
 * peer), web drops its ipBlock rule for a podSelector one. */
static const char policies2_yaml[] =
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: db, namespace: x}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: db}}\n"
	"  ingress:\n"
	"  - from: [{podSelector: {matchLabels: {app: web}}}, {podSelector: "
	"{}}]\n"
	"    ports: [{port: 80}]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata: {name: web, namespace: \"y\"}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: web}}\n"
	"  ingress:\n"
	"  - from: [{podSelector: {matchLabels: {app: client}}}]\n";

static const char *const pod_names[FX_NEP] = {"a", "b", "c", "d"};
static const char *const pod_ns[FX_NEP] = {"x", "x", "y", "y"};

static void bindings(struct pw_binding *b)
{
	int i;

	for (i = 0; i < FX_NEP; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].ns = pod_ns[i];
		b[i].name = pod_names[i];
		b[i].ifindex = fx.ep[i].ifindex;
		memcpy(b[i].mac, fx.ep[i].mac, 6);
		b[i].has_mac = true;
	}
}

static int sync_now(struct pw_cluster *c, struct pw_sync *s,
		    struct pw_sync_stats *st, int *npol)
{
	struct pw_binding b[FX_NEP];
	struct pw_compiled co;
	int err;

	err = pw_compile(c, &co, errbuf, sizeof(errbuf));
	if (err) {
		PW_FAIL("%s", errbuf);
		return err;
	}
	bindings(b);
	err = pw_sync_apply(s, fx.dp, &co, b, FX_NEP, st);
	*npol = co.npol;
	pw_compiled_free(&co);
	return err;
}

/* Entries of both policy maps: the trie's and the exact ones' */
static int count_policy_entries(void)
{
	int fd = pw_dp_map_fd(fx.dp, PW_MAP_POLICY), n = 0;
	int xfd = pw_dp_map_fd(fx.dp, PW_MAP_POLICY_EXACT);
	struct pw_policy_key k, *prev = NULL;
	struct pw_policy_xkey xk, *xprev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		n++;
		prev = &k;
	}
	while (!bpf_map_get_next_key(xfd, xprev, &xk)) {
		n++;
		xprev = &xk;
	}
	return n;
}

/* The EXACT flags of endpoint @i. */
static __u32 exact_of(int i)
{
	struct pw_endpoint ep;

	if (pw_dp_endpoint_get(fx.dp, fx.ep[i].ifindex, &ep))
		return ~0U;
	return ep.flags & (PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT);
}

/* Exact entries in the trie (what a podwall before the hash wrote). */
static int count_trie_exact(void)
{
	int fd = pw_dp_map_fd(fx.dp, PW_MAP_POLICY), n = 0;
	struct pw_policy_key k, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &k)) {
		n += k.prefixlen == PW_POL_PLEN_FULL;
		prev = &k;
	}
	return n;
}

static void clear_conntrack(void)
{
	int fd = pw_dp_map_fd(fx.dp, PW_MAP_CT);
	struct pw_ct_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

/* Every pair, both protocols, a handful of ports: datapath vs explain. */
static bool matrix(struct pw_cluster *c, int *checked, int *allowed)
{
	static const __u16 ports[] = {80, 81, 443, 5432};
	static const __u8 protos[] = {IPPROTO_TCP, IPPROTO_UDP};
	__u16 sport = 40000;
	int s, d, p, q;

	for (s = 0; s < FX_NEP; s++) {
		for (d = 0; d < FX_NEP; d++) {
			if (s == d)
				continue;
			for (q = 0; q < 2; q++) {
				for (p = 0; p < 4; p++) {
					const struct fx_ep *se = &fx.ep[s];
					const struct fx_ep *de = &fx.ep[d];
					struct fx_flow out = FX_FLOW(
						se, de->ip4, sport, ports[p]);
					struct fx_flow in = FX_FLOW(
						de, se->ip4, ports[p], sport);
					struct pw_explain ex;
					__u8 sa[16], da[16];
					int eg, ig;
					bool dp;

					sport++;
					pw_addr_parse(se->ip4, sa);
					pw_addr_parse(de->ip4, da);
					pw_explain(c, sa, da, protos[q],
						   ports[p], &ex);
					eg = protos[q] == IPPROTO_TCP
						     ? fx_tcp(&out, EG, PG_SYN)
						     : fx_udp(&out, EG);
					ig = protos[q] == IPPROTO_TCP
						     ? fx_tcp(&in, IN, PG_SYN)
						     : fx_udp(&in, IN);
					dp = eg == FX_PASS && ig == FX_PASS;
					if (dp != ex.allowed ||
					    (eg == FX_PASS) !=
						    ex.egress.allowed ||
					    (ig == FX_PASS) !=
						    ex.ingress.allowed) {
						PW_FAIL("%s/%s -> %s/%s %s/%u: "
							"explain %d (egress %d "
							"ingress %d), datapath "
							"egress %s ingress %s",
							pod_ns[s], pod_names[s],
							pod_ns[d], pod_names[d],
							q ? "udp" : "tcp",
							ports[p], ex.allowed,
							ex.egress.allowed,
							ex.ingress.allowed,
							eg ? pw_drop_reason_name(
								     eg)
							   : "pass",
							ig ? pw_drop_reason_name(
								     ig)
							   : "pass");
						return false;
					}
					(*checked)++;
					*allowed += dp;
				}
			}
		}
	}
	return true;
}

static bool agree_body(struct pw_cluster *c, struct pw_sync *s)
{
	struct pw_sync_stats st;
	int checked = 0, allowed = 0, npol;

	ASSERT_OK(load(c, cluster_yaml), "cluster");
	ASSERT_OK(load(c, policies_yaml), "policies");
	ASSERT_OK(sync_now(c, s, &st, &npol), "first sync");
	ASSERT_EQ(st.endpoints_changed, FX_NEP, "every endpoint written");
	ASSERT_EQ(count_policy_entries(), npol, "the map holds the compile");
	ASSERT_EQ(count_trie_exact(), 0, "exact entries are in the hash");
	/* b admits a UDP range, d sends to any UDP port: both need the trie;
	 * c admits port 80 only, a is selected by nothing */
	ASSERT_EQ(exact_of(0), PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT,
		  "a: no entries, no trie");
	ASSERT_EQ(exact_of(1), PW_EP_F_EGRESS_EXACT,
		  "b: ingress walks the trie");
	ASSERT_EQ(exact_of(2), PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT,
		  "c: exact ports only");
	ASSERT_EQ(exact_of(3), PW_EP_F_INGRESS_EXACT,
		  "d: egress walks the trie");
	ASSERT_TRUE(matrix(c, &checked, &allowed), "first matrix");
	/* a matrix of all-allowed or all-denied would prove little */
	ASSERT_TRUE(allowed > 0 && allowed < checked, "mixed verdicts");

	/* nothing changed: nothing written */
	ASSERT_OK(sync_now(c, s, &st, &npol), "idle sync");
	ASSERT_EQ(st.endpoints_changed + st.policy_writes + st.ipcache_writes +
			  st.policy_deletes + st.ipcache_deletes,
		  0, "an idle sync writes nothing");

	/* a new sync (a restarted agent) adopts the maps: nothing to do */
	{
		struct pw_sync *s2;
		int err;

		ASSERT_OK(pw_sync_new(&s2), "second sync state");
		err = pw_sync_adopt(s2, fx.dp);
		err = err ?: sync_now(c, s2, &st, &npol);
		pw_sync_free(s2);
		ASSERT_OK(err, "adopt and sync");
		ASSERT_EQ(st.endpoints_changed + st.policy_writes +
				  st.ipcache_writes + st.policy_deletes +
				  st.ipcache_deletes,
			  0,
			  "an adopted sync of the same state writes nothing");
	}

	ASSERT_OK(load(c, policies2_yaml), "new policies");
	ASSERT_OK(pw_cluster_delete(c, PW_KIND_NETPOL, "y", "client-out"),
		  "delete client-out");
	ASSERT_OK(sync_now(c, s, &st, &npol), "second sync");
	/* a (web in x) and d's only policy went; a is selected by none */
	ASSERT_EQ(st.endpoints_changed, 3, "b, c and d changed; a did not");
	ASSERT_EQ(count_policy_entries(), npol, "old sets are gone");
	/* b now admits one port; c any port of its peers: the flags moved */
	ASSERT_EQ(exact_of(1), PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT,
		  "b: exact only now");
	ASSERT_EQ(exact_of(2), PW_EP_F_EGRESS_EXACT, "c: walks the trie now");
	/* fresh flows, so each first packet meets the new policy */
	clear_conntrack();
	checked = allowed = 0;
	ASSERT_TRUE(matrix(c, &checked, &allowed), "second matrix");
	ASSERT_TRUE(allowed > 0 && allowed < checked, "mixed verdicts");
	return true;
}

PW_TEST(agree_trace_and_datapath)
{
	struct pw_cluster *c;
	struct pw_sync *s;
	bool ok;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(pw_cluster_new(&c), "cluster");
	if (pw_sync_new(&s)) {
		pw_cluster_free(c);
		return false;
	}
	ok = agree_body(c, s);
	pw_sync_free(s);
	pw_cluster_free(c);
	return ok;
}

/*
 * Maps of a podwall from before the exact-match hash: every entry in the
 * trie, endpoints without the EXACT flags. The datapath judges them as
 * before (the trie is walked); a restarted agent adopts them, and its
 * first sync moves the exact entries into the hash (written there before
 * they leave the trie) and sets the flags; the verdicts never change.
 */
static bool old_pins_body(struct pw_cluster *c, struct pw_sync *s)
{
	int xfd = pw_dp_map_fd(fx.dp, PW_MAP_POLICY_EXACT);
	int tfd = pw_dp_map_fd(fx.dp, PW_MAP_POLICY);
	struct pw_sync_stats st;
	struct pw_sync *s2 = NULL;
	int npol, checked = 0, allowed = 0, nexact = 0, i, err;
	struct pw_policy_xkey xk;
	struct pw_policy_entry pe;
	bool ok;

	ASSERT_OK(load(c, cluster_yaml), "cluster");
	ASSERT_OK(load(c, policies_yaml), "policies");
	ASSERT_OK(sync_now(c, s, &st, &npol), "first sync");
	/* make them old: exact entries into the trie, flags off */
	while (!bpf_map_get_next_key(xfd, NULL, &xk)) {
		struct pw_policy_key k = {.prefixlen = PW_POL_PLEN_FULL,
					  .pol_id = xk.pol_id,
					  .peer_id = xk.peer_id,
					  .dir = xk.dir,
					  .proto = xk.proto,
					  .dport = xk.dport};

		ASSERT_OK(bpf_map_lookup_elem(xfd, &xk, &pe), "read");
		ASSERT_OK(bpf_map_update_elem(tfd, &k, &pe, BPF_ANY),
			  "to trie");
		ASSERT_OK(bpf_map_delete_elem(xfd, &xk), "out of the hash");
		nexact++;
	}
	ASSERT_TRUE(nexact > 0, "the cluster has exact entries");
	for (i = 0; i < FX_NEP; i++) {
		struct pw_endpoint ep;

		ASSERT_OK(pw_dp_endpoint_get(fx.dp, fx.ep[i].ifindex, &ep),
			  "endpoint");
		ep.flags &= ~(PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT);
		ASSERT_OK(pw_dp_endpoint_set(fx.dp, fx.ep[i].ifindex, &ep),
			  "old endpoint");
	}
	ASSERT_EQ(count_trie_exact(), nexact, "old layout");
	ASSERT_TRUE(matrix(c, &checked, &allowed), "old layout's matrix");

	/* the restarted agent */
	ASSERT_OK(pw_sync_new(&s2), "second sync state");
	err = pw_sync_adopt(s2, fx.dp);
	err = err ?: sync_now(c, s2, &st, &npol);
	ok = !err && count_trie_exact() == 0 &&
	     count_policy_entries() == npol &&
	     exact_of(2) == (PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT);
	if (ok) {
		/* adopted again: the new layout needs nothing written */
		pw_sync_free(s2);
		s2 = NULL;
		err = pw_sync_new(&s2) ?: pw_sync_adopt(s2, fx.dp);
		err = err ?: sync_now(c, s2, &st, &npol);
	}
	pw_sync_free(s2);
	ASSERT_TRUE(ok, "adopted: exact entries moved to the hash, flags set");
	ASSERT_OK(err, "adopt again");
	ASSERT_EQ(st.endpoints_changed + st.policy_writes + st.policy_deletes,
		  0, "then nothing to write");
	clear_conntrack();
	checked = allowed = 0;
	ASSERT_TRUE(matrix(c, &checked, &allowed), "new layout's matrix");
	ASSERT_TRUE(allowed > 0 && allowed < checked, "mixed verdicts");
	return true;
}

PW_TEST(agree_old_pins_exact_entries_move_to_the_hash)
{
	struct pw_cluster *c;
	struct pw_sync *s;
	bool ok;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(pw_cluster_new(&c), "cluster");
	if (pw_sync_new(&s)) {
		pw_cluster_free(c);
		return false;
	}
	ok = old_pins_body(c, s);
	pw_sync_free(s);
	pw_cluster_free(c);
	return ok;
}
