// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The compiler on its own: NetworkPolicy semantics, each case one that a
 * simpler implementation gets wrong. Every verdict is checked twice: by
 * pw_explain on the model, and by walking the compiled map entries the way
 * the datapath does (longest prefix in the ipcache, then the policy trie).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include "addr.h"
#include "cluster.h" /* the clock, for one test */
#include "compile.h"
#include "manifest.h"
#include "testlib.h"

static char errbuf[PW_ERR_LEN];

/* For the remote-pod tests: pods that load() gives are remote, and a twin
 * cluster gets every object too, with every pod local. */
static bool load_remote;
static struct pw_cluster *twin;

static int load1(struct pw_cluster *c, const char *src, const char *text,
		 bool remote)
{
	struct pw_objects objs = {};
	int i, err;

	err = pw_manifest_load_buf(text, strlen(text), src, &objs, errbuf,
				   sizeof(errbuf));
	if (err)
		return err;
	for (i = 0; i < objs.n; i++)
		if (objs.v[i].kind == PW_KIND_POD)
			objs.v[i].pod->remote = remote;
	return pw_cluster_apply(c, &objs);
}

static char last_text[1024]; /* what load() gave last */

static int load(struct pw_cluster *c, const char *src, const char *text)
{
	int err = twin ? load1(twin, src, text, false) : 0;

	snprintf(last_text, sizeof(last_text), "%s", text);

	return err ?: load1(c, src, text, load_remote);
}

/* A pod as JSON: labels and ports are JSON fragments. */
static char *pod_json(const char *ns, const char *name, const char *ip,
		      const char *labels, const char *ports)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		 "{\"namespace\":\"%s\",\"name\":\"%s\",\"labels\":%s},"
		 "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":%s}]},"
		 "\"status\":{\"podIP\":\"%s\"}}",
		 ns, name, labels, ports ? ports : "[]", ip);
	return buf;
}

static bool add_pod(struct pw_cluster *c, const char *ns, const char *name,
		    const char *ip, const char *labels, const char *ports)
{
	int err = load(c, "pod.json", pod_json(ns, name, ip, labels, ports));

	if (err)
		PW_FAIL("pod %s/%s: %s", ns, name, errbuf);
	return !err;
}

static bool add_ns(struct pw_cluster *c, const char *name, const char *labels)
{
	char buf[512];
	int err;

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
		 "{\"name\":\"%s\",\"labels\":%s}}",
		 name, labels);
	err = load(c, "ns.json", buf);
	if (err)
		PW_FAIL("namespace %s: %s", name, errbuf);
	return !err;
}

/* A NetworkPolicy from its spec, in YAML flow style or JSON. */
static bool add_np(struct pw_cluster *c, const char *ns, const char *name,
		   const char *spec)
{
	char buf[4096];
	int err;

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		 "\"NetworkPolicy\",\"metadata\":{\"namespace\":\"%s\","
		 "\"name\":\"%s\"},\"spec\":%s}",
		 ns, name, spec);
	err = load(c, "np.json", buf);
	if (err)
		PW_FAIL("policy %s/%s: %s", ns, name, errbuf);
	return !err;
}

static const struct pw_out_ep *ep_at(const struct pw_compiled *co,
				     const __u8 a[16])
{
	int i;

	for (i = 0; i < co->neps; i++)
		if (!memcmp(pw_addr_is4(a) ? co->eps[i].ip4 : co->eps[i].ip6, a,
			    16))
			return &co->eps[i];
	return NULL;
}

static bool prefix_match(const __u8 *key, const __u8 *val, __u32 bits)
{
	__u32 i;

	for (i = 0; i < bits; i++) {
		__u8 m = 0x80 >> (i % 8);

		if ((key[i / 8] & m) != (val[i / 8] & m))
			return false;
	}
	return true;
}

static struct pw_ipcache_entry sim_ipcache(const struct pw_compiled *co,
					   const __u8 a[16])
{
	struct pw_ipcache_entry best = {.id = PW_ID_WORLD};
	__u32 best_len = 0;
	bool found = false;
	int i;

	for (i = 0; i < co->nipc; i++) {
		const struct pw_out_ipcache *e = &co->ipc[i];

		if (prefix_match(e->key.addr, a, e->key.prefixlen) &&
		    (!found || e->key.prefixlen > best_len)) {
			best = e->val;
			best_len = e->key.prefixlen;
			found = true;
		}
	}
	return best;
}

static bool sim_policy(const struct pw_compiled *co, __u32 ep_id, __u32 peer,
		       __u8 dir, __u8 proto, __u16 port)
{
	struct pw_policy_key want = {.pol_id = ep_id,
				     .peer_id = peer,
				     .dir = dir,
				     .proto = proto,
				     .dport = htons(port)};
	int i;

	for (i = 0; i < co->npol; i++) {
		const struct pw_policy_key *k = &co->pol[i].key;

		if (prefix_match((const __u8 *)&k->pol_id,
				 (const __u8 *)&want.pol_id, k->prefixlen))
			return true;
	}
	return false;
}

static bool sim_side(const struct pw_compiled *co, const struct pw_out_ep *ep,
		     __u8 dir, const __u8 peer[16], __u8 proto, __u16 port)
{
	__u32 flag = dir == PW_DIR_INGRESS ? PW_EP_F_INGRESS_ENFORCED
					   : PW_EP_F_EGRESS_ENFORCED;
	struct pw_ipcache_entry ic;

	if (!ep || !(ep->flags & flag))
		return true;
	ic = sim_ipcache(co, peer);
	return sim_policy(co, ep->ep_id, ic.id, dir, proto, port) ||
	       (ic.cidr_id &&
		sim_policy(co, ep->ep_id, ic.cidr_id, dir, proto, port)) ||
	       sim_policy(co, ep->ep_id, PW_ID_ANY, dir, proto, port);
}

/*
 * Is a new flow src -> dst proto/port allowed? Returns 1 or 0, after
 * checking that the model (pw_explain) and the compiled entries agree;
 * -1 if they do not.
 */
static int verdict(struct pw_cluster *c, const char *src, const char *dst,
		   __u8 proto, __u16 port)
{
	struct pw_compiled co;
	struct pw_explain ex;
	__u8 s[16], d[16];
	bool sim;

	if (pw_addr_parse(src, s) || pw_addr_parse(dst, d)) {
		PW_FAIL("bad address %s or %s", src, dst);
		return -1;
	}
	if (pw_compile(c, &co, errbuf, sizeof(errbuf))) {
		PW_FAIL("compile: %s", errbuf);
		return -1;
	}
	pw_explain(c, s, d, proto, port, &ex);
	sim = sim_side(&co, ep_at(&co, s), PW_DIR_EGRESS, d, proto, port) &&
	      sim_side(&co, ep_at(&co, d), PW_DIR_INGRESS, s, proto, port);
	pw_compiled_free(&co);
	if (sim != ex.allowed) {
		PW_FAIL("%s -> %s %u/%u: explain says %d, entries say %d", src,
			dst, proto, port, ex.allowed, sim);
		return -1;
	}
	return sim;
}

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

#define ALLOWED(c, s, d, pr, p) \
	ASSERT_EQ(verdict(c, s, d, pr, p), 1, s " -> " d " " #pr "/" #p)
#define DENIED(c, s, d, pr, p) \
	ASSERT_EQ(verdict(c, s, d, pr, p), 0, s " -> " d " " #pr "/" #p)

static struct pw_cluster *three_pods(void)
{
	struct pw_cluster *c;

	if (pw_cluster_new(&c))
		return NULL;
	if (!add_ns(c, "x", "{\"team\":\"x\"}") ||
	    !add_ns(c, "y", "{\"team\":\"y\"}") ||
	    !add_pod(c, "x", "a", "10.0.0.1", "{\"pod\":\"a\"}", NULL) ||
	    !add_pod(c, "x", "b", "10.0.0.2", "{\"pod\":\"b\"}", NULL) ||
	    !add_pod(c, "y", "a", "10.0.0.3", "{\"pod\":\"a\"}", NULL)) {
		pw_cluster_free(c);
		return NULL;
	}
	return c;
}

#define WITH_CLUSTER(c)                      \
	struct pw_cluster *c = three_pods(); \
	ASSERT_TRUE(c != NULL, "cluster");

static bool finish(struct pw_cluster *c, bool ok)
{
	pw_cluster_free(c);
	return ok;
}

static bool no_policy_body(struct pw_cluster *c)
{
	ALLOWED(c, "10.0.0.1", "10.0.0.2", TCP, 80);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", UDP, 53);
	ALLOWED(c, "192.0.2.1", "10.0.0.1", TCP, 22);
	return true;
}

PW_TEST(compile_no_policy_allows_everything)
{
	WITH_CLUSTER(c);
	return finish(c, no_policy_body(c));
}

static bool deny_all_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "deny", "{\"podSelector\":{}}"))
		return false;
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	DENIED(c, "10.0.0.3", "10.0.0.2", UDP, 53);
	/* ingress only: x's pods may still send */
	ALLOWED(c, "10.0.0.1", "10.0.0.3", TCP, 80);
	return true;
}

PW_TEST(compile_empty_policy_denies_ingress_only)
{
	WITH_CLUSTER(c);
	return finish(c, deny_all_body(c));
}

static bool egress_default_body(struct pw_cluster *c)
{
	/* egress rules and no policyTypes: Ingress AND Egress */
	if (!add_np(c, "x", "eg",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"egress\":[{\"ports\":[{\"port\":53,\"protocol\":"
		    "\"UDP\"}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.1", "10.0.0.3", UDP, 53);
	DENIED(c, "10.0.0.1", "10.0.0.3", TCP, 80);
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_policy_types_default_adds_ingress_with_egress)
{
	WITH_CLUSTER(c);
	return finish(c, egress_default_body(c));
}

static bool egress_only_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "eg",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"policyTypes\":[\"Egress\"],\"egress\":[]}"))
		return false;
	DENIED(c, "10.0.0.1", "10.0.0.2", TCP, 80);
	ALLOWED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", UDP, 53);
	return true;
}

PW_TEST(compile_egress_only_policy_leaves_ingress_open)
{
	WITH_CLUSTER(c);
	return finish(c, egress_only_body(c));
}

static bool peers_and_or_body(struct pw_cluster *c, bool one_peer)
{
	/* on y/a: admit pod=b pods of team=x namespaces */
	const char *spec =
		one_peer
			? "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
			  "\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}},"
			  "\"namespaceSelector\":{\"matchLabels\":{\"team\":"
			  "\"x\"}}}]}]}"
			: "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
			  "\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}},{"
			  "\"namespaceSelector\":{\"matchLabels\":{\"team\":"
			  "\"x\"}}}]}]}";

	if (!add_np(c, "y", "p", spec))
		return false;
	/* x/b matches both halves */
	ALLOWED(c, "10.0.0.2", "10.0.0.3", TCP, 80);
	if (one_peer) {
		/* AND: x/a is in team=x but is not pod=b */
		DENIED(c, "10.0.0.1", "10.0.0.3", TCP, 80);
	} else {
		/* OR: the namespaceSelector alone admits x/a */
		ALLOWED(c, "10.0.0.1", "10.0.0.3", TCP, 80);
	}
	DENIED(c, "192.0.2.7", "10.0.0.3", TCP, 80);
	return true;
}

PW_TEST(compile_pod_and_namespace_selector_in_one_peer_is_and)
{
	WITH_CLUSTER(c);
	return finish(c, peers_and_or_body(c, true));
}

PW_TEST(compile_pod_and_namespace_selector_as_two_peers_is_or)
{
	WITH_CLUSTER(c);
	return finish(c, peers_and_or_body(c, false));
}

static bool pod_selector_alone_body(struct pw_cluster *c)
{
	/* podSelector alone means the policy's own namespace */
	if (!add_np(c, "x", "p",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}},"
		    "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
		    "{\"pod\":\"a\"}}}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.1", "10.0.0.2", TCP, 80);
	DENIED(c, "10.0.0.3", "10.0.0.2", TCP, 80); /* y/a: other ns */
	return true;
}

PW_TEST(compile_pod_selector_alone_is_own_namespace)
{
	WITH_CLUSTER(c);
	return finish(c, pod_selector_alone_body(c));
}

static bool named_port_body(struct pw_cluster *c)
{
	if (!add_pod(c, "x", "w1", "10.0.1.1", "{\"app\":\"web\"}",
		     "[{\"name\":\"http\",\"containerPort\":8080}]") ||
	    !add_pod(c, "x", "w2", "10.0.1.2", "{\"app\":\"web\"}",
		     "[{\"name\":\"http\",\"containerPort\":9090}]"))
		return false;
	if (!add_np(c, "x", "web",
		    "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
		    "\"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.1", "10.0.1.1", TCP, 8080);
	DENIED(c, "10.0.0.1", "10.0.1.1", TCP, 9090);
	ALLOWED(c, "10.0.0.1", "10.0.1.2", TCP, 9090);
	DENIED(c, "10.0.0.1", "10.0.1.2", TCP, 8080);
	DENIED(c, "10.0.0.1", "10.0.1.1", UDP, 8080);
	return true;
}

PW_TEST(compile_named_port_resolves_per_destination_pod)
{
	WITH_CLUSTER(c);
	return finish(c, named_port_body(c));
}

static bool named_port_egress_body(struct pw_cluster *c)
{
	/* the same name, two numbers, as egress destinations */
	if (!add_pod(c, "y", "w1", "10.0.1.1", "{\"app\":\"web\"}",
		     "[{\"name\":\"http\",\"containerPort\":8080}]") ||
	    !add_pod(c, "y", "w2", "10.0.1.2", "{\"app\":\"web\"}",
		     "[{\"name\":\"http\",\"containerPort\":9090}]"))
		return false;
	if (!add_np(c, "x", "out",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{"
		    "\"namespaceSelector\":{}}],\"ports\":[{\"port\":"
		    "\"http\"}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.1", "10.0.1.1", TCP, 8080);
	DENIED(c, "10.0.0.1", "10.0.1.1", TCP, 9090);
	ALLOWED(c, "10.0.0.1", "10.0.1.2", TCP, 9090);
	DENIED(c, "10.0.0.1", "10.0.1.2", TCP, 8080);
	return true;
}

PW_TEST(compile_named_port_egress_resolves_per_peer)
{
	WITH_CLUSTER(c);
	return finish(c, named_port_egress_body(c));
}

static bool endport_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "range",
		    "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":"
		    "32000,\"endPort\":32768}]}]}"))
		return false;
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 31999);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 32000);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 32500);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 32768);
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 32769);
	return true;
}

PW_TEST(compile_end_port_range)
{
	WITH_CLUSTER(c);
	return finish(c, endport_body(c));
}

static bool ipblock_body(struct pw_cluster *c)
{
	/* a pod inside the except, and one inside the cidr */
	if (!add_pod(c, "y", "in", "10.9.1.5", "{\"pod\":\"in\"}", NULL) ||
	    !add_pod(c, "y", "ex", "10.9.2.5", "{\"pod\":\"ex\"}", NULL))
		return false;
	if (!add_np(c, "x", "cidr",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
		    "\"10.9.0.0/16\",\"except\":[\"10.9.2.0/24\"]}}]}]}"))
		return false;
	ALLOWED(c, "10.9.7.7", "10.0.0.1", TCP, 80); /* world, inside */
	DENIED(c, "10.9.2.9", "10.0.0.1", TCP, 80);  /* world, except */
	DENIED(c, "10.8.0.1", "10.0.0.1", TCP, 80);  /* world, outside */
	ALLOWED(c, "10.9.1.5", "10.0.0.1", TCP, 80); /* pod, inside */
	DENIED(c, "10.9.2.5", "10.0.0.1", TCP, 80);  /* pod, except */
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 80);  /* pod, outside */
	return true;
}

PW_TEST(compile_ipblock_except_for_world_and_pods)
{
	WITH_CLUSTER(c);
	return finish(c, ipblock_body(c));
}

static bool ipblock_pod_except_body(struct pw_cluster *c)
{
	/* Upstream e2e: a pod's /32 in an except is refused, while another
	 * peer of the same rule selects pods by a label it does not have. */
	if (!add_np(c, "x", "cidr",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
		    "\"10.0.0.0/24\",\"except\":[\"10.0.0.2/32\"]}},{"
		    "\"podSelector\":{\"matchLabels\":{\"pod\":\"zzz\"}}}]}]}"))
		return false;
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_ipblock_except_pod_address)
{
	WITH_CLUSTER(c);
	return finish(c, ipblock_pod_except_body(c));
}

static bool overlapping_blocks_body(struct pw_cluster *c)
{
	/* two policies' blocks nest: the inner one must not hide the outer */
	if (!add_np(c, "x", "wide",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
		    "\"10.9.0.0/16\"}}],\"ports\":[{\"port\":80}]}]}") ||
	    !add_np(c, "x", "narrow",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
		    "\"10.9.3.0/24\"}}],\"ports\":[{\"port\":81}]}]}"))
		return false;
	ALLOWED(c, "10.9.3.1", "10.0.0.1", TCP, 80);
	ALLOWED(c, "10.9.3.1", "10.0.0.1", TCP, 81);
	ALLOWED(c, "10.9.4.1", "10.0.0.1", TCP, 80);
	DENIED(c, "10.9.4.1", "10.0.0.1", TCP, 81);
	return true;
}

PW_TEST(compile_nested_ipblocks_of_two_policies)
{
	WITH_CLUSTER(c);
	return finish(c, overlapping_blocks_body(c));
}

static bool union_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "p1",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
		    "{\"pod\":\"b\"}}}],\"ports\":[{\"port\":80}]}]}") ||
	    !add_np(c, "x", "p2",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"namespaceSelector\":{"
		    "\"matchLabels\":{\"team\":\"y\"}}}],\"ports\":[{\"port\":"
		    "81}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 81);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 81);
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_union_of_two_policies)
{
	WITH_CLUSTER(c);
	return finish(c, union_body(c));
}

static bool empty_rule_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "open", "{\"podSelector\":{},\"ingress\":[{}]}"))
		return false;
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	ALLOWED(c, "192.0.2.1", "10.0.0.2", UDP, 9);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", IPPROTO_ICMP, 0x0800);
	return true;
}

PW_TEST(compile_empty_ingress_rule_allows_all)
{
	WITH_CLUSTER(c);
	return finish(c, empty_rule_body(c));
}

static bool relabel_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "p",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
		    "{\"role\":\"client\"}}}]}]}") ||
	    !add_pod(c, "x", "b", "10.0.0.2", "{\"role\":\"client\"}", NULL))
		return false;
	ALLOWED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	/* b loses the label: it leaves the peer selector */
	if (!add_pod(c, "x", "b", "10.0.0.2", "{\"role\":\"other\"}", NULL))
		return false;
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	/* a loses its label: no policy selects it any more */
	if (!add_pod(c, "x", "a", "10.0.0.1", "{\"pod\":\"renamed\"}", NULL))
		return false;
	ALLOWED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_label_change_leaves_selector)
{
	WITH_CLUSTER(c);
	return finish(c, relabel_body(c));
}

static bool ns_label_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "p",
		    "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
		    "\"namespaceSelector\":{\"matchExpressions\":[{\"key\":"
		    "\"team\",\"operator\":\"In\",\"values\":[\"y\",\"z\"]}]}}"
		    "]}]}"))
		return false;
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	if (!add_ns(c, "y", "{\"team\":\"q\"}"))
		return false;
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_namespace_label_change)
{
	WITH_CLUSTER(c);
	return finish(c, ns_label_body(c));
}

static bool expr_body(struct pw_cluster *c)
{
	/* NotIn matches pods without the key; DoesNotExist too */
	if (!add_np(c, "x", "p",
		    "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
		    "\"namespaceSelector\":{},\"podSelector\":{"
		    "\"matchExpressions\":[{\"key\":\"pod\",\"operator\":"
		    "\"NotIn\",\"values\":[\"b\"]},{\"key\":\"tier\","
		    "\"operator\":\"DoesNotExist\"}]}}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	DENIED(c, "10.0.0.2", "10.0.0.1", TCP, 80);
	if (!add_pod(c, "y", "a", "10.0.0.3", "{\"pod\":\"a\",\"tier\":\"1\"}",
		     NULL))
		return false;
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_match_expressions)
{
	WITH_CLUSTER(c);
	return finish(c, expr_body(c));
}

static bool proto_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "p",
		    "{\"podSelector\":{},\"ingress\":[{\"ports\":[{"
		    "\"protocol\":\"SCTP\",\"port\":5000},{\"protocol\":"
		    "\"UDP\"}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.3", "10.0.0.1", IPPROTO_SCTP, 5000);
	DENIED(c, "10.0.0.3", "10.0.0.1", IPPROTO_SCTP, 5001);
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 5000);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", UDP, 1);
	ALLOWED(c, "10.0.0.3", "10.0.0.1", UDP, 65535);
	DENIED(c, "10.0.0.3", "10.0.0.1", IPPROTO_ICMP, 0x0800);
	return true;
}

PW_TEST(compile_protocols_and_all_ports_of_one)
{
	WITH_CLUSTER(c);
	return finish(c, proto_body(c));
}

static bool egress_cidr_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "out",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{"
		    "\"ipBlock\":{\"cidr\":\"0.0.0.0/0\",\"except\":["
		    "\"10.0.0.0/8\"]}}]}]}"))
		return false;
	ALLOWED(c, "10.0.0.1", "192.0.2.1", TCP, 443);
	DENIED(c, "10.0.0.1", "10.0.0.3", TCP, 443);
	DENIED(c, "10.0.0.1", "10.200.0.1", TCP, 443);
	return true;
}

PW_TEST(compile_egress_to_cidr)
{
	WITH_CLUSTER(c);
	return finish(c, egress_cidr_body(c));
}

PW_TEST(compile_ids_stay_stable_across_compiles)
{
	struct pw_compiled a, b;
	bool ok;

	WITH_CLUSTER(c);
	ok = add_np(c, "x", "p",
		    "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
		    "\"podSelector\":{}}]}]}") &&
	     !pw_compile(c, &a, errbuf, sizeof(errbuf));
	ok = ok && !pw_compile(c, &b, errbuf, sizeof(errbuf));
	if (ok) {
		ok = a.npol == b.npol && a.nipc == b.nipc &&
		     !memcmp(a.pol, b.pol, a.npol * sizeof(*a.pol)) &&
		     !memcmp(a.ipc, b.ipc, a.nipc * sizeof(*a.ipc));
		if (!ok)
			PW_FAIL("two compiles of one state differ");
		pw_compiled_free(&a);
		pw_compiled_free(&b);
	}
	return finish(c, ok);
}

/* Objects of one state, in an order given by @order (indexes). */
static const char *const hint_objs[] = {
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
	"\"namespace\":\"h\",\"name\":\"a\",\"labels\":{\"app\":\"a\"}},"
	"\"status\":{\"podIP\":\"10.9.0.1\"}}",
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
	"\"namespace\":\"h\",\"name\":\"b\",\"labels\":{\"app\":\"b\"}},"
	"\"status\":{\"podIP\":\"10.9.0.2\"}}",
	"{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\","
	"\"metadata\":{\"namespace\":\"h\",\"name\":\"p1\"},\"spec\":{"
	"\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":"
	"\"192.168.0.0/16\"}}]}]}}",
	"{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\","
	"\"metadata\":{\"namespace\":\"h\",\"name\":\"p2\"},\"spec\":{"
	"\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":"
	"\"172.16.0.0/12\"}}]}]}}",
};

static struct pw_cluster *hint_cluster(const int *order, int n,
				       const cJSON *hints,
				       struct pw_compiled *co)
{
	struct pw_cluster *c;
	int i;

	if (pw_cluster_new(&c))
		return NULL;
	if (hints && pw_cluster_hints_import(c, hints))
		goto fail;
	for (i = 0; i < n; i++)
		if (load(c, "h.json", hint_objs[order[i]]))
			goto fail;
	if (pw_compile(c, co, errbuf, sizeof(errbuf)))
		goto fail;
	return c;
fail:
	pw_cluster_free(c);
	return NULL;
}

/* A hand-edited ids.json with a far-off endpoint id: the pod gets a new
 * id rather than the compiler a table sized by the old one. */
PW_TEST(compile_id_hint_far_off_endpoint_ignored)
{
	static const int order[] = {0, 1, 2, 3};
	cJSON *hints = cJSON_Parse("{\"pods\":{\"h/a\":4294967295,"
				   "\"h/b\":4194305}}");
	struct pw_compiled co;
	struct pw_cluster *c;
	bool ok;
	int i;

	c = hint_cluster(order, 4, hints, &co);
	cJSON_Delete(hints);
	if (!c)
		PW_FAIL("%s", errbuf);
	ASSERT_TRUE(c != NULL, "compiles");
	ok = co.neps > 0;
	for (i = 0; i < co.neps; i++)
		ok = ok && co.eps[i].ep_id <= PW_EP_ID_MAX;
	pw_compiled_free(&co);
	pw_cluster_free(c);
	ASSERT_TRUE(ok, "every endpoint id within PW_EP_ID_MAX");
	return true;
}

/*
 * A restarted agent sees the same objects in another order (and with a
 * hole where an object was deleted before the restart). With the hints of
 * the earlier run, every id comes back and the maps' contents are equal;
 * without them they would not be, which the test checks too so that it
 * cannot pass by accident.
 */
PW_TEST(compile_id_hints_restore_ids_in_any_order)
{
	static const int first[] = {0, 1, 2, 3}, again[] = {3, 1, 2, 0};
	struct pw_compiled a, b, d;
	struct pw_cluster *c1, *c2, *c3;
	cJSON *hints;
	bool ok;

	c1 = hint_cluster(first, 4, NULL, &a);
	if (!c1)
		PW_FAIL("first run: %s", errbuf);
	ASSERT_TRUE(c1 != NULL, "first run");
	hints = pw_cluster_hints_export(c1);
	ASSERT_TRUE(hints != NULL, "export");
	c2 = hint_cluster(again, 4, hints, &b);
	c3 = hint_cluster(again, 4, NULL, &d);
	ok = c2 && c3;
	if (ok) {
		ok = a.neps == b.neps && a.npol == b.npol && a.nipc == b.nipc &&
		     !memcmp(a.pol, b.pol, a.npol * sizeof(*a.pol)) &&
		     !memcmp(a.ipc, b.ipc, a.nipc * sizeof(*a.ipc));
		if (!ok)
			PW_FAIL("with hints, the second run's entries differ");
		if (a.npol == d.npol &&
		    !memcmp(a.pol, d.pol, a.npol * sizeof(*a.pol)) &&
		    !memcmp(a.ipc, d.ipc, a.nipc * sizeof(*a.ipc))) {
			PW_FAIL("without hints the ids came out equal too: the "
				"test proves nothing");
			ok = false;
		}
	}
	if (c2) {
		int i, j;

		for (i = 0; ok && i < a.neps; i++)
			for (j = 0; j < b.neps; j++)
				if (!strcmp(a.eps[i].name, b.eps[j].name) &&
				    (a.eps[i].ep_id != b.eps[j].ep_id ||
				     a.eps[i].identity != b.eps[j].identity)) {
					PW_FAIL("pod %s: ep %u/%u, id %u/%u",
						a.eps[i].name, a.eps[i].ep_id,
						b.eps[j].ep_id,
						a.eps[i].identity,
						b.eps[j].identity);
					ok = false;
				}
		pw_compiled_free(&b);
	}
	if (c3)
		pw_compiled_free(&d);
	pw_compiled_free(&a);
	pw_cluster_free(c1);
	pw_cluster_free(c2);
	pw_cluster_free(c3);
	cJSON_Delete(hints);
	return ok;
}

/* A new object never takes an id that a hint keeps for another. */
PW_TEST(compile_id_hints_reserve_ids_for_their_owner)
{
	static const int both[] = {0, 1}, late[] = {1, 0};
	struct pw_compiled a, b;
	struct pw_cluster *c1, *c2;
	__u32 id_a = 0, id_b = 0;
	cJSON *hints;
	int i;

	c1 = hint_cluster(both, 2, NULL, &a);
	if (!c1)
		PW_FAIL("first run: %s", errbuf);
	ASSERT_TRUE(c1 != NULL, "first run");
	hints = pw_cluster_hints_export(c1);
	/* b arrives alone first: it must keep its own id, not take a's */
	c2 = hint_cluster(late, 1, hints, &b);
	for (i = 0; c2 && i < b.neps; i++)
		id_b = b.eps[i].ep_id;
	for (i = 0; i < a.neps; i++)
		if (!strcmp(a.eps[i].name, "a"))
			id_a = a.eps[i].ep_id;
	pw_compiled_free(&a);
	pw_cluster_free(c1);
	cJSON_Delete(hints);
	if (!c2)
		PW_FAIL("second run: %s", errbuf);
	ASSERT_TRUE(c2 != NULL, "second run");
	pw_compiled_free(&b);
	pw_cluster_free(c2);
	if (id_b == 0 || id_b == id_a)
		PW_FAIL("b got %u, a's is %u", id_b, id_a);
	ASSERT_TRUE(id_b != 0 && id_b != id_a, "b keeps clear of a's id");
	return true;
}

/* Malformed input: the exact error, and the state left as it was. */
struct bad_case {
	const char *spec;
	const char *error;
};

static const struct bad_case bad_cases[] = {
	{"{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80},{"
	 "\"port\":90,\"endPort\":89}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].ports[1].endPort: "
	 "must be >= port"},
	{"{\"podSelector\":{},\"ingres\":[]}",
	 "np.json: NetworkPolicy x/bad: spec.ingres: unknown field"},
	{"{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"protocol\":"
	 "\"ICMP\"}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].ports[0].protocol: "
	 "must be TCP, UDP or SCTP"},
	{"{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":0}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].ports[0].port: must "
	 "be an integer from 1 to 65535"},
	{"{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"Http\"}]}"
	 "]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].ports[0].port: "
	 "invalid port name \"Http\""},
	{"{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\","
	 "\"endPort\":90}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].ports[0].endPort: "
	 "may not be used with a named port"},
	{"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{"
	 "\"cidr\":\"10.0.0.1/8\"}}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].from[0].ipBlock.cidr: "
	 "invalid CIDR \"10.0.0.1/8\""},
	{"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{"
	 "\"cidr\":\"10.0.0.0/8\",\"except\":[\"11.0.0.0/16\"]}}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].from[0].ipBlock."
	 "except[0]: must be a strict subset of cidr"},
	{"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{"
	 "\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.ingress[0].from[0].ipBlock: may "
	 "not be combined with podSelector or namespaceSelector"},
	{"{\"podSelector\":{},\"egress\":[{\"to\":[{}]}]}",
	 "np.json: NetworkPolicy x/bad: spec.egress[0].to[0]: must specify "
	 "podSelector, namespaceSelector or ipBlock"},
	{"{\"podSelector\":{\"matchLabels\":{\"-bad\":\"v\"}}}",
	 "np.json: NetworkPolicy x/bad: spec.podSelector.matchLabels.-bad: "
	 "invalid label key"},
	{"{\"podSelector\":{\"matchLabels\":{\"app\":\"a b\"}}}",
	 "np.json: NetworkPolicy x/bad: spec.podSelector.matchLabels.app: "
	 "invalid label value \"a b\""},
	{"{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\","
	 "\"operator\":\"In\"}]}}",
	 "np.json: NetworkPolicy x/bad: spec.podSelector.matchExpressions[0]."
	 "values: must be non-empty for In and NotIn"},
	{"{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\","
	 "\"operator\":\"Exists\",\"values\":[\"a\"]}]}}",
	 "np.json: NetworkPolicy x/bad: spec.podSelector.matchExpressions[0]."
	 "values: must be empty for Exists and DoesNotExist"},
	{"{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\","
	 "\"operator\":\"Like\",\"values\":[\"a\"]}]}}",
	 "np.json: NetworkPolicy x/bad: spec.podSelector.matchExpressions[0]."
	 "operator: must be In, NotIn, Exists or DoesNotExist"},
	{"{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Sideways\"]}",
	 "np.json: NetworkPolicy x/bad: spec.policyTypes[1]: must be Ingress "
	 "or Egress"},
	{"{\"policyTypes\":[\"Ingress\"]}",
	 "np.json: NetworkPolicy x/bad: spec.podSelector: required"},
};

static bool bad_input_body(struct pw_cluster *c)
{
	struct pw_compiled before, after;
	size_t i;
	bool same;

	if (!add_np(c, "x", "bad",
		    "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":"
		    "80}]}]}") ||
	    pw_compile(c, &before, errbuf, sizeof(errbuf)))
		return false;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char buf[2048];
		int err;

		snprintf(buf, sizeof(buf),
			 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
			 "\"NetworkPolicy\",\"metadata\":{\"namespace\":\"x\","
			 "\"name\":\"bad\"},\"spec\":%s}",
			 bad_cases[i].spec);
		err = load(c, "np.json", buf);
		if (err != -EINVAL || strcmp(errbuf, bad_cases[i].error)) {
			PW_FAIL("case %zu: got %d \"%s\"\n    want \"%s\"", i,
				err, errbuf, bad_cases[i].error);
			pw_compiled_free(&before);
			return false;
		}
	}
	if (pw_compile(c, &after, errbuf, sizeof(errbuf))) {
		pw_compiled_free(&before);
		return false;
	}
	same = before.npol == after.npol &&
	       !memcmp(before.pol, after.pol,
		       before.npol * sizeof(*before.pol));
	pw_compiled_free(&before);
	pw_compiled_free(&after);
	ASSERT_TRUE(same, "the policy in force is untouched");
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 81);
	return true;
}

PW_TEST(compile_malformed_policy_exact_error_and_state_kept)
{
	WITH_CLUSTER(c);
	return finish(c, bad_input_body(c));
}

static bool bad_docs_body(struct pw_cluster *c)
{
	static const struct bad_case docs[] = {
		{"{\"kind\":\"NetworkPolicy\"",
		 "f.json: invalid JSON near byte 22"},
		{"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
		 "\"name\":\"s\"}}",
		 "f.json: kind: unsupported kind \"Service\" (NetworkPolicy, "
		 "Pod, Namespace or List)"},
		{"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		 "\"NetworkPolicy\",\"metadata\":{},\"spec\":{}}",
		 "f.json: NetworkPolicy: metadata.name: required"},
		{"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		 "\"name\":\"p\",\"namespace\":\"x\"},\"status\":{\"podIP\":"
		 "\"10.0.0.300\"}}",
		 "f.json: Pod x/p: status.podIP: invalid IP \"10.0.0.300\""},
		{"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{"
		 "\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
		 "\"name\":\"ok\"}},{\"apiVersion\":\"v1\",\"kind\":"
		 "\"Namespace\",\"metadata\":{\"name\":\"Not_OK\"}}]}",
		 "f.json: Namespace items[1]: metadata.name: invalid name "
		 "\"Not_OK\""},
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int err = load(c, "f.json", docs[i].spec);

		if (err != -EINVAL || strcmp(errbuf, docs[i].error)) {
			PW_FAIL("case %zu: got %d \"%s\"\n    want \"%s\"", i,
				err, errbuf, docs[i].error);
			return false;
		}
	}
	/* the List's valid first item was not applied either */
	ALLOWED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	return true;
}

PW_TEST(compile_malformed_documents)
{
	WITH_CLUSTER(c);
	return finish(c, bad_docs_body(c));
}

/* The shipped examples load as YAML, from a folder, and mean what their
 * comments say. */
static bool examples_body(struct pw_cluster *c)
{
	struct pw_objects objs = {};
	int err;

	err = pw_manifest_load_path("policy/examples", &objs, errbuf,
				    sizeof(errbuf));
	if (err)
		PW_FAIL("%s", errbuf);
	ASSERT_OK(err, "load policy/examples");
	ASSERT_EQ(objs.n, 9, "objects in the examples");
	ASSERT_OK(pw_cluster_apply(c, &objs), "apply");
	/* db-from-web: the named port "postgres" is 5432 on db-1 */
	ALLOWED(c, "10.123.0.2", "10.123.0.3", TCP, 5432);
	DENIED(c, "10.123.0.4", "10.123.0.3", TCP, 5432);
	DENIED(c, "10.123.0.2", "10.123.0.3", TCP, 5433);
	/* web-ingress admits clients on 8080, but client-egress does not
	 * let them send there: both ends must allow */
	DENIED(c, "10.123.0.4", "10.123.0.2", TCP, 8080);
	/* the office, but not its guest Wi-Fi */
	ALLOWED(c, "192.168.1.1", "10.123.0.2", UDP, 9999);
	DENIED(c, "192.168.99.1", "10.123.0.2", TCP, 8080);
	/* client-egress: the web range; no DNS pods exist here */
	ALLOWED(c, "10.123.0.4", "10.123.0.2", TCP, 32000);
	DENIED(c, "10.123.0.4", "10.123.0.3", TCP, 32000);
	DENIED(c, "10.123.0.4", "10.123.0.2", UDP, 53);
	return true;
}

PW_TEST(compile_shipped_examples)
{
	struct pw_cluster *c;

	ASSERT_OK(pw_cluster_new(&c), "cluster");
	return finish(c, examples_body(c));
}

/* The Docker example set (policy/docker) on containers as the Docker
 * source makes them: labels, namespace "docker", network labels. */
static const char docker_pods[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":"
	"\"docker\",\"name\":\"web\",\"labels\":{\"app\":\"web\","
	"\"network.podwall.io/bridge\":\"true\"}},"
	"\"status\":{\"podIPs\":[{\"ip\":\"172.17.0.2\"}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":"
	"\"docker\",\"name\":\"db\",\"labels\":{\"app\":\"db\","
	"\"network.podwall.io/bridge\":\"true\"}},"
	"\"status\":{\"podIPs\":[{\"ip\":\"172.17.0.3\"}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":"
	"\"docker\",\"name\":\"client\",\"labels\":{\"app\":\"client\","
	"\"network.podwall.io/bridge\":\"true\"}},"
	"\"status\":{\"podIPs\":[{\"ip\":\"172.17.0.4\"}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":"
	"\"docker\",\"name\":\"cache.backend\",\"labels\":{\"app\":\"cache\","
	"\"network.podwall.io/backend\":\"true\"}},"
	"\"status\":{\"podIPs\":[{\"ip\":\"172.20.0.2\"}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":"
	"\"docker\",\"name\":\"api.backend\",\"labels\":{\"app\":\"api\","
	"\"network.podwall.io/backend\":\"true\"}},"
	"\"status\":{\"podIPs\":[{\"ip\":\"172.20.0.3\"}]}}]}";

static bool docker_examples_body(struct pw_cluster *c)
{
	struct pw_objects objs = {};
	int err;

	err = pw_manifest_load_path("policy/docker", &objs, errbuf,
				    sizeof(errbuf));
	if (err)
		PW_FAIL("%s", errbuf);
	ASSERT_OK(err, "load policy/docker");
	ASSERT_EQ(objs.n, 6, "policies in the Docker examples");
	err = pw_manifest_load_buf(docker_pods, sizeof(docker_pods) - 1, "pods",
				   &objs, errbuf, sizeof(errbuf));
	if (err)
		PW_FAIL("%s", errbuf);
	ASSERT_OK(err, "pods");
	ASSERT_OK(pw_cluster_apply(c, &objs), "apply");
	/* web-db.yaml */
	ALLOWED(c, "172.17.0.4", "172.17.0.2", TCP, 80);
	ALLOWED(c, "172.17.0.2", "172.17.0.3", TCP, 5432);
	DENIED(c, "172.17.0.4", "172.17.0.3", TCP, 5432);
	DENIED(c, "172.17.0.3", "172.17.0.2", TCP, 80);
	DENIED(c, "172.17.0.2", "172.17.0.4", TCP, 80);
	DENIED(c, "172.17.0.4", "172.17.0.2", TCP, 81);
	/* published-port.yaml: the world, not other containers */
	ALLOWED(c, "198.51.100.7", "172.17.0.2", TCP, 80);
	DENIED(c, "198.51.100.7", "172.17.0.2", TCP, 8080);
	DENIED(c, "198.51.100.7", "172.17.0.3", TCP, 5432);
	DENIED(c, "172.20.0.3", "172.17.0.2", TCP, 80);
	/* network-backend.yaml, under default-deny */
	ALLOWED(c, "172.20.0.3", "172.20.0.2", TCP, 6379);
	DENIED(c, "172.17.0.2", "172.20.0.2", TCP, 6379);
	return true;
}

/* The rule index is part of a rule's id in the datapath: a policy with
 * more rules than it can number is refused by name, not by errno. */
static bool too_many_rules_body(struct pw_cluster *c)
{
	size_t cap = 200 + (PW_RULE_INDEX_MAX + 1) * 4, n;
	char *doc = malloc(cap);
	int i, err;

	ASSERT_TRUE(doc, "memory");
	n = snprintf(doc, cap,
		     "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":"
		     "\"NetworkPolicy\",\"metadata\":{\"name\":\"big\","
		     "\"namespace\":\"x\"},\"spec\":{\"podSelector\":{},"
		     "\"ingress\":[");
	for (i = 0; i <= PW_RULE_INDEX_MAX; i++)
		n += snprintf(doc + n, cap - n, "%s{}", i ? "," : "");
	snprintf(doc + n, cap - n, "]}}");
	err = load(c, "big.json", doc);
	free(doc);
	ASSERT_EQ(err, -EINVAL, "refused");
	ASSERT_STREQ(errbuf,
		     "big.json: NetworkPolicy x/big: spec.ingress: 2049 rules, "
		     "at most 2048 per policy",
		     "names the file, object, field and the limit");
	return true;
}

PW_TEST(compile_policy_rule_count_bounded)
{
	struct pw_cluster *c;

	ASSERT_OK(pw_cluster_new(&c), "cluster");
	return finish(c, too_many_rules_body(c));
}

PW_TEST(compile_docker_examples)
{
	struct pw_cluster *c;

	ASSERT_OK(pw_cluster_new(&c), "cluster");
	return finish(c, docker_examples_body(c));
}

/*
 * Incremental compiles against the model, on a random walk of changes:
 * pods come, go and change labels or ports, namespaces relabel, policies
 * change. After every step, every pair of pods (and two outside addresses)
 * on a set of ports must get the same verdict from the compiled entries as
 * from pw_explain, which reads the model afresh. A cache left stale by any
 * change shows up here.
 */
static unsigned int rnd_state = 12345;

static unsigned int rnd(unsigned int n)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return (rnd_state >> 16) % n;
}

static const char *const vocab_app[] = {"web", "db", "api"};
static const char *const vocab_ns[] = {"n1", "n2", "n3"};

static void rnd_selector(char *buf, size_t len)
{
	switch (rnd(4)) {
	case 0:
		snprintf(buf, len, "{}");
		break;
	case 1:
		snprintf(buf, len, "{\"matchLabels\":{\"app\":\"%s\"}}",
			 vocab_app[rnd(3)]);
		break;
	case 2:
		snprintf(buf, len,
			 "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":"
			 "\"NotIn\",\"values\":[\"%s\"]}]}",
			 vocab_app[rnd(3)]);
		break;
	default:
		snprintf(
			buf, len,
			"{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":"
			"\"%s\"}]}",
			rnd(2) ? "Exists" : "DoesNotExist");
		break;
	}
}

static void rnd_peer(char *buf, size_t len)
{
	char a[160], b[160];

	rnd_selector(a, sizeof(a));
	rnd_selector(b, sizeof(b));
	switch (rnd(4)) {
	case 0:
		snprintf(buf, len, "{\"podSelector\":%s}", a);
		break;
	case 1:
		snprintf(buf, len,
			 "{\"namespaceSelector\":{\"matchLabels\":{\"env\":"
			 "\"%s\"}}}",
			 rnd(2) ? "prod" : "dev");
		break;
	case 2:
		snprintf(buf, len,
			 "{\"podSelector\":%s,\"namespaceSelector\":%s}", a, b);
		break;
	default:
		snprintf(buf, len,
			 "{\"ipBlock\":{\"cidr\":\"10.7.0.0/%d\",\"except\":["
			 "\"10.7.0.%d/30\"]}}",
			 rnd(2) ? 16 : 24, 4 * (int)rnd(4));
		break;
	}
}

static void rnd_policy(struct pw_cluster *c, int k)
{
	char sel[160], peer[400], spec[1200];
	static const char *const ports[] = {
		"",
		",\"ports\":[{\"port\":80}]",
		",\"ports\":[{\"port\":\"http\"}]",
		",\"ports\":[{\"port\":80,\"endPort\":81},{\"protocol\":"
		"\"UDP\"}]",
	};

	rnd_selector(sel, sizeof(sel));
	rnd_peer(peer, sizeof(peer));
	snprintf(spec, sizeof(spec),
		 "{\"podSelector\":%s,\"policyTypes\":[%s],\"%s\":[{\"%s\":"
		 "[%s]%s}]}",
		 sel, rnd(2) ? "\"Ingress\"" : "\"Egress\"",
		 rnd_state & 0x100 ? "ingress" : "egress", "x", peer,
		 ports[rnd(4)]);
	/* keep directions consistent: rules of the type the policy has */
	if (strstr(spec, "\"Ingress\""))
		snprintf(spec, sizeof(spec),
			 "{\"podSelector\":%s,\"policyTypes\":[\"Ingress\"],"
			 "\"ingress\":[{\"from\":[%s]%s}]}",
			 sel, peer, ports[rnd(4)]);
	else
		snprintf(spec, sizeof(spec),
			 "{\"podSelector\":%s,\"policyTypes\":[\"Egress\"],"
			 "\"egress\":[{\"to\":[%s]%s}]}",
			 sel, peer, ports[rnd(4)]);
	{
		char name[32];

		snprintf(name, sizeof(name), "p%d", k);
		if (getenv("PW_DEBUG"))
			fprintf(stderr, "policy %s/%s: %s\n", vocab_ns[k % 3],
				name, spec);
		add_np(c, vocab_ns[k % 3], name, spec);
	}
}

static bool rnd_pod(struct pw_cluster *c, int k)
{
	char name[32], ip[32], labels[96], ports[96];

	snprintf(name, sizeof(name), "pod%d", k);
	snprintf(ip, sizeof(ip), "10.7.0.%d", k + 1);
	snprintf(labels, sizeof(labels), "{\"app\":\"%s\"%s}",
		 vocab_app[rnd(3)], rnd(2) ? ",\"tier\":\"a\"" : "");
	snprintf(ports, sizeof(ports),
		 "[{\"name\":\"http\",\"containerPort\":%d}]",
		 rnd(2) ? 80 : 81);
	if (getenv("PW_DEBUG"))
		fprintf(stderr, "pod %s/%s %s %s %s\n", vocab_ns[k % 3], name,
			ip, labels, ports);
	return add_pod(c, vocab_ns[k % 3], name, ip, labels, ports);
}

static bool all_verdicts(struct pw_cluster *c, int npods)
{
	static const __u16 ports[] = {80, 81, 82};
	char src[32], dst[32];
	int s, d, p, q;

	for (s = 0; s <= npods; s++) {
		for (d = 0; d < npods; d++) {
			if (s == d)
				continue;
			/* s == npods: from outside, in and out of the block */
			snprintf(src, sizeof(src), "10.7.%d.%d",
				 s == npods ? 9 : 0, s == npods ? 2 : s + 1);
			snprintf(dst, sizeof(dst), "10.7.0.%d", d + 1);
			for (q = 0; q < 2; q++)
				for (p = 0; p < 3; p++)
					if (verdict(c, src, dst, q ? UDP : TCP,
						    ports[p]) < 0)
						return false;
		}
	}
	return true;
}

static bool random_walk(unsigned int seed)
{
	enum { NPODS = 9, NPOL = 6, STEPS = 150 };
	struct pw_cluster *c;
	int step, k;
	bool ok = true;

	rnd_state = seed;
	ASSERT_OK(pw_cluster_new(&c), "cluster");
	for (k = 0; ok && k < NPODS; k++)
		ok = rnd_pod(c, k);
	for (step = 0; ok && step < STEPS; step++) {
		char labels[64];

		switch (rnd(6)) {
		case 0:
		case 1:
			rnd_policy(c, rnd(NPOL));
			break;
		case 2: {
			char name[32];

			k = rnd(NPOL);
			snprintf(name, sizeof(name), "p%d", k);
			pw_cluster_delete(c, PW_KIND_NETPOL, vocab_ns[k % 3],
					  name);
			break;
		}
		case 3:
			ok = rnd_pod(c, rnd(NPODS));
			break;
		case 4:
			snprintf(labels, sizeof(labels), "{\"env\":\"%s\"}",
				 rnd(2) ? "prod" : "dev");
			ok = add_ns(c, vocab_ns[rnd(3)], labels);
			break;
		default: {
			char name[32];

			/* a pod leaves, and comes back later */
			k = rnd(NPODS);
			snprintf(name, sizeof(name), "pod%d", k);
			if (!pw_cluster_delete(c, PW_KIND_POD, vocab_ns[k % 3],
					       name))
				ok = rnd_pod(c, k);
			break;
		}
		}
		if (ok && !all_verdicts(c, NPODS)) {
			/* tell a stale cache from a wrong rule */
			pw_cluster_forget(c);
			PW_FAIL("seed %u step %d; from scratch the verdicts %s",
				seed, step,
				all_verdicts(c, NPODS) ? "agree: a stale cache"
						       : "disagree too");
			ok = false;
		}
	}
	pw_cluster_free(c);
	return ok;
}

PW_TEST(compile_incremental_matches_model_on_random_changes)
{
	unsigned int seed;

	for (seed = 1; seed <= 12; seed++)
		if (!random_walk(seed))
			return false;
	return true;
}

/* podwall apply stores one object per file: Lists and multi-document YAML
 * come apart, each piece on its own parses to exactly one object, and an
 * invalid object anywhere refuses the whole text. */
PW_TEST(compile_manifest_split_one_object_per_document)
{
	static const char yaml[] =
		"apiVersion: v1\nkind: List\nitems:\n"
		"- {apiVersion: v1, kind: Namespace, metadata: {name: s}}\n"
		"- apiVersion: v1\n  kind: Pod\n  metadata: {namespace: s, "
		"name: p}\n"
		"---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {namespace: s, name: np}\nspec: {podSelector: {}}\n";
	static const char bad[] =
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n"
		"apiVersion: v1\nkind: Pod\nmetadata: {namespace: s, name: "
		"p, labels: {a: \"b c\"}}\n";
	static const char *const kinds[] = {"Namespace", "Pod",
					    "NetworkPolicy"};
	cJSON *docs = NULL, *d;
	int i = 0, err;

	err = pw_manifest_split(yaml, strlen(yaml), "y.yaml", &docs, errbuf,
				sizeof(errbuf));
	ASSERT_OK(err, "split");
	ASSERT_EQ(cJSON_GetArraySize(docs), 3, "documents");
	cJSON_ArrayForEach(d, docs)
	{
		struct pw_objects objs = {};
		char *s = cJSON_PrintUnformatted(d);

		err = pw_manifest_load_buf(s, strlen(s), "piece", &objs, errbuf,
					   sizeof(errbuf));
		free(s);
		if (err || objs.n != 1)
			PW_FAIL("piece %d: err %d, %d objects", i, err, objs.n);
		pw_objects_free(&objs);
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(d, "kind")),
			   kinds[i]))
			PW_FAIL("piece %d is not a %s", i, kinds[i]);
		ASSERT_TRUE(!err, "piece parses alone");
		i++;
	}
	cJSON_Delete(docs);
	docs = NULL;
	err = pw_manifest_split(bad, strlen(bad), "b.yaml", &docs, errbuf,
				sizeof(errbuf));
	ASSERT_EQ(err, -EINVAL, "an invalid object refuses all");
	ASSERT_TRUE(docs == NULL, "nothing returned");
	ASSERT_TRUE(strstr(errbuf, "b.yaml: Pod s/p: metadata.labels.a") !=
			    NULL,
		    "error names file, object, field");
	return true;
}

/* IPv4 addresses live at ::ffff:0:0/96 in the compiler's address space,
 * yet in Kubernetes an IPv6 ipBlock never holds an IPv4 address, however
 * short its prefix: ::/0 alone admits no IPv4 peer, in either direction,
 * and an IPv6 block cannot undo an IPv4 except. */
static bool ipv6_block_body(struct pw_cluster *c)
{
	if (!add_np(c, "x", "out",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		    "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{"
		    "\"ipBlock\":{\"cidr\":\"::/0\"}}]}]}") ||
	    !add_np(c, "x", "in",
		    "{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}},"
		    "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"::/0\"}}]"
		    "}]}"))
		return false;
	DENIED(c, "10.0.0.1", "10.0.0.3", TCP, 80);
	DENIED(c, "10.0.0.1", "8.8.8.8", UDP, 53);
	ALLOWED(c, "10.0.0.1", "fd00::9", TCP, 80);
	DENIED(c, "10.0.0.3", "10.0.0.2", TCP, 80);
	DENIED(c, "192.168.1.1", "10.0.0.2", TCP, 80);
	/* an IPv4 block with an except, and ::/0 beside it */
	if (!add_np(c, "y", "v4",
		    "{\"podSelector\":{},\"policyTypes\":[\"Egress\"],"
		    "\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\","
		    "\"except\":[\"10.0.0.1/32\"]}},{\"ipBlock\":{\"cidr\":"
		    "\"::/0\"}}]}]}"))
		return false;
	DENIED(c, "10.0.0.3", "10.0.0.1", TCP, 80);
	ALLOWED(c, "10.0.0.3", "8.8.8.8", TCP, 80);
	ALLOWED(c, "10.0.0.3", "fd00::9", TCP, 80);
	/* b's ingress admits ::/0 only: no IPv4 source */
	DENIED(c, "10.0.0.3", "10.0.0.2", TCP, 80);
	return true;
}

PW_TEST(compile_ipv6_block_never_holds_ipv4)
{
	WITH_CLUSTER(c);
	return finish(c, ipv6_block_body(c));
}

PW_TEST(compile_ipv4_mapped_cidr_refused)
{
	WITH_CLUSTER(c);
	ASSERT_TRUE(!add_np(c, "x", "m",
			    "{\"podSelector\":{},\"egress\":[{\"to\":[{"
			    "\"ipBlock\":{\"cidr\":\"::ffff:10.0.0.0/104\"}}]"
			    "}]}"),
		    "refused");
	ASSERT_TRUE(strstr(errbuf, "IPv4-mapped CIDR") != NULL,
		    "error says why");
	return finish(c, true);
}

/* An agent hands the cluster every object on each reconcile: the same
 * object again must change nothing (no clock tick, so no recompile), and
 * a real change must still be seen. The cluster's clock is internal;
 * the test reads it to see what the compile would redo. */
PW_TEST(compile_same_object_again_changes_nothing)
{
	static const char *const np =
		"{\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}},"
		"\"ingress\":[{"
		"\"from\":[{\"namespaceSelector\":{\"matchExpressions\":[{"
		"\"key\":\"team\",\"operator\":\"In\",\"values\":[\"x\"]}]}},{"
		"\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":["
		"\"10.1.0.0/16\"]}}],\"ports\":[{\"port\":80,\"endPort\":90},{"
		"\"port\":\"web\"}]}]}";
	struct pw_compiled co;
	__u64 before;
	bool ok;

	WITH_CLUSTER(c);
	ok = add_np(c, "x", "p", np) &&
	     !pw_compile(c, &co, errbuf, sizeof(errbuf));
	if (ok)
		pw_compiled_free(&co);
	before = c->clock;
	ok = ok && add_np(c, "x", "p", np) &&
	     add_ns(c, "x", "{\"team\":\"x\"}") &&
	     add_pod(c, "x", "a", "10.0.0.1", "{\"pod\":\"a\"}", NULL);
	if (ok && c->clock != before)
		PW_FAIL("clock moved from %llu to %llu",
			(unsigned long long)before,
			(unsigned long long)c->clock);
	ok = ok && c->clock == before;
	/* a changed label is a change */
	ok = ok && add_pod(c, "x", "a", "10.0.0.1", "{\"pod\":\"b\"}", NULL) &&
	     c->clock != before;
	ASSERT_TRUE(ok, "same: no tick; changed: a tick");
	return finish(c, ok);
}

/* The entries of the remote pods (podK is remote when @remote[K]) left
 * out of @full (the same objects compiled with every pod local): what
 * must remain is exactly @co, and the endpoints and the ipcache are the
 * same. */
static bool remote_agrees(const struct pw_cluster *c, const bool *remote,
			  const struct pw_compiled *co,
			  const struct pw_compiled *full)
{
	int i, j, n = 0;

	if (co->neps != full->neps || co->nipc != full->nipc ||
	    memcmp(co->ipc, full->ipc, co->nipc * sizeof(*co->ipc))) {
		PW_FAIL("endpoints %d/%d, ipcache %d/%d or its entries differ",
			co->neps, full->neps, co->nipc, full->nipc);
		return false;
	}
	for (i = 0; i < co->neps; i++) {
		const struct pw_out_ep *a = &co->eps[i], *b = &full->eps[i];

		if (strcmp(a->ns, b->ns) || strcmp(a->name, b->name) ||
		    a->ep_id != b->ep_id || a->identity != b->identity ||
		    a->flags != b->flags || memcmp(a->ip4, b->ip4, 16) ||
		    memcmp(a->ip6, b->ip6, 16)) {
			PW_FAIL("endpoint %s/%s differs", a->ns, a->name);
			return false;
		}
	}
	for (i = 0; i < full->npol; i++) {
		const struct pw_out_policy *e = &full->pol[i];
		int k = -1;

		for (j = 0; j < c->npods; j++)
			if (c->pods[j].ep_id == e->key.pol_id)
				sscanf(c->pods[j].pod->name, "pod%d", &k);
		if (k < 0) {
			PW_FAIL("entry for endpoint %u of no pod",
				e->key.pol_id);
			return false;
		}
		if (remote[k])
			continue;
		if (n >= co->npol || memcmp(&co->pol[n], e, sizeof(*e))) {
			PW_FAIL("local entry %d (endpoint %u) missing or "
				"different",
				n, e->key.pol_id);
			return false;
		}
		n++;
	}
	if (n != co->npol) {
		PW_FAIL("%d entries, %d of local pods expected", co->npol, n);
		return false;
	}
	return true;
}

static bool remote_check(struct pw_cluster *c, const bool *remote)
{
	struct pw_compiled co, full;
	bool ok;

	if (pw_compile(c, &co, errbuf, sizeof(errbuf))) {
		PW_FAIL("compile: %s", errbuf);
		return false;
	}
	if (pw_compile(twin, &full, errbuf, sizeof(errbuf))) {
		PW_FAIL("compile the twin: %s", errbuf);
		pw_compiled_free(&co);
		return false;
	}
	ok = remote_agrees(c, remote, &co, &full);
	pw_compiled_free(&co);
	pw_compiled_free(&full);
	return ok;
}

/*
 * Remote pods (on other nodes) get no policy entries, and nothing else of
 * the output moves: the random walk of compile_incremental_matches_model,
 * on two clusters at once, one where some pods are remote and one where
 * all are local; pods also turn remote or local in place (the CNI plugin
 * adds one here, a pod is rescheduled), which must bring their entries
 * back or take them away however warm the caches are.
 */
static bool remote_walk(unsigned int seed)
{
	enum { NPODS = 9, NPOL = 6, STEPS = 120 };
	static char text[NPODS][sizeof(last_text)];
	bool remote[NPODS], ok = true;
	struct pw_cluster *c;
	int step, k;

	rnd_state = seed;
	ASSERT_OK(pw_cluster_new(&c), "cluster");
	if (pw_cluster_new(&twin)) {
		pw_cluster_free(c);
		return false;
	}
	for (k = 0; ok && k < NPODS; k++) {
		load_remote = remote[k] = rnd(2);
		ok = rnd_pod(c, k);
		memcpy(text[k], last_text, sizeof(last_text));
	}
	for (step = 0; ok && step < STEPS; step++) {
		char name[32];

		k = rnd(NPODS);
		snprintf(name, sizeof(name), "pod%d", k);
		switch (rnd(5)) {
		case 0:
			rnd_policy(c, rnd(NPOL));
			break;
		case 1:
			load_remote = remote[k] = rnd(2);
			ok = rnd_pod(c, k);
			memcpy(text[k], last_text, sizeof(last_text));
			break;
		case 2:
			/* the same pod, now here or now elsewhere: the twin
			 * sees no change */
			remote[k] = !remote[k];
			ok = !load1(c, "pod.json", text[k], remote[k]);
			break;
		case 3:
			ok = add_ns(c, vocab_ns[rnd(3)],
				    rnd(2) ? "{\"env\":\"prod\"}"
					   : "{\"env\":\"dev\"}");
			break;
		default:
			if (!pw_cluster_delete(c, PW_KIND_POD, vocab_ns[k % 3],
					       name)) {
				pw_cluster_delete(twin, PW_KIND_POD,
						  vocab_ns[k % 3], name);
				load_remote = remote[k] = rnd(2);
				ok = rnd_pod(c, k);
				memcpy(text[k], last_text, sizeof(last_text));
			}
			break;
		}
		if (ok && !remote_check(c, remote)) {
			PW_FAIL("seed %u step %d", seed, step);
			ok = false;
		}
	}
	load_remote = false;
	pw_cluster_free(twin);
	twin = NULL;
	pw_cluster_free(c);
	return ok;
}

PW_TEST(compile_remote_pods_no_entries_local_output_unchanged)
{
	unsigned int seed;

	for (seed = 1; seed <= 12; seed++)
		if (!remote_walk(seed))
			return false;
	return true;
}
