/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The compiler: the cluster's Namespaces, Pods and NetworkPolicies in,
 * the datapath's desired map contents out (endpoints, ipcache, policy
 * entries), plus an explanation of any single verdict. Pure: no bpf() or
 * netlink calls, so it can be tested and fuzzed anywhere.
 *
 * Ids that reach the maps stay stable from one compile to the next: a pod
 * keeps its endpoint id, a (namespace, labels, named ports) set keeps its
 * identity, a CIDR keeps its identity and a policy keeps its rule ids.
 */
#ifndef PW_COMPILE_H
#define PW_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "../../kern/podwall_abi.h"
#include "manifest.h"

/* Identities of ipBlock prefixes start here, so logs tell them apart. */
#define PW_ID_CIDR_BASE 0x01000000U

/* rule id = policy slot << 12 | egress << 11 | rule index */
#define PW_RULE_INDEX_MAX 2048

struct pw_cluster;

struct pw_out_ep {
	const char *ns;
	const char *name;
	__u32 ep_id;
	__u32 identity;
	__u32 flags; /* PW_EP_F_HAS_IP4/6 and *_ENFORCED */
	__u8 ip4[16];
	__u8 ip6[16];
};

/* key.pol_id is the endpoint's ep_id; the sync to the maps moves each
 * endpoint's entries to the policy set it writes. */
struct pw_out_policy {
	struct pw_policy_key key;
	__u32 rule_id;
};

struct pw_out_ipcache {
	struct pw_ipcache_key key;
	struct pw_ipcache_entry val;
};

/* No duplicate keys; pol sorted by endpoint first, then key; ipc by key.
 * A remote pod (pw_pod.remote) has an endpoint and ipcache entries but no
 * policy entries. */
struct pw_compiled {
	struct pw_out_ep *eps; /* one per pod */
	int neps;
	struct pw_out_policy *pol;
	int npol;
	struct pw_out_ipcache *ipc;
	int nipc;
};

int pw_cluster_new(struct pw_cluster **out);
void pw_cluster_free(struct pw_cluster *c);
/* Add or replace each object by (kind, namespace, name); takes them all
 * out of @objs. */
int pw_cluster_apply(struct pw_cluster *c, struct pw_objects *objs);
/* Returns 0, or -ENOENT if there is no such object. */
int pw_cluster_delete(struct pw_cluster *c, enum pw_kind kind, const char *ns,
		      const char *name);

int pw_compile(struct pw_cluster *c, struct pw_compiled *out, char *err,
	       size_t errlen);
/* The node's own addresses: the ipcache gives them the host identity,
 * with their ipBlock identity as any address's (a pod's entry wins). */
int pw_cluster_set_node(struct pw_cluster *c, const __u8 (*addrs)[16], int n);
/*
 * Id hints: export the ids in use (pods, policies, identities, CIDRs) as a
 * JSON object; import them into a fresh cluster before its objects, so
 * each object gets its old id back. Clear once they have been claimed.
 */
cJSON *pw_cluster_hints_export(const struct pw_cluster *c);
int pw_cluster_hints_import(struct pw_cluster *c, const cJSON *root);
void pw_cluster_hints_clear(struct pw_cluster *c);

/* "policies" or "identities" (CIDR ones included) as a JSON array. */
cJSON *pw_cluster_describe(const struct pw_cluster *c, const char *what);

/* For flow records: a pod's labels, every policy's slot and name, every
 * CIDR identity. */
const struct pw_labels *pw_cluster_pod_labels(const struct pw_cluster *c,
					      const char *ns, const char *name);
/* A Namespace object's labels, or NULL if there is none. */
const struct pw_labels *pw_cluster_ns_labels(const struct pw_cluster *c,
					     const char *ns);
int pw_cluster_policy_names(const struct pw_cluster *c,
			    void (*fn)(__u32 slot, const char *ns,
				       const char *name, void *arg),
			    void *arg);
int pw_cluster_cidr_ids(const struct pw_cluster *c,
			void (*fn)(__u32 id, const struct pw_cidr *cidr,
				   void *arg),
			void *arg);

/* Drop every cache, so the next compile starts from the model alone. */
int pw_cluster_forget(struct pw_cluster *c);
void pw_compiled_free(struct pw_compiled *out);

/* "ns/name ingress[2]" for a rule id; "default" for PW_RULE_DEFAULT. */
const char *pw_rule_describe(const struct pw_cluster *c, __u32 rule_id,
			     char *buf, size_t len);

#define PW_EXPLAIN_RULES_MAX 16

/* One side of a verdict: the source's egress or the destination's ingress. */
struct pw_explain_side {
	bool known;    /* the address is a pod podwall knows */
	bool selected; /* some policy of this direction selects it */
	bool allowed;
	int nrules; /* rules that allow it (capped) */
	__u32 rules[PW_EXPLAIN_RULES_MAX];
	int npolicies; /* policies that select it in this direction */
};

struct pw_explain {
	struct pw_explain_side egress;	/* of the source */
	struct pw_explain_side ingress; /* of the destination */
	bool allowed;
};

/* Would a new flow from @src to @dst, @proto/@port, be allowed? Evaluated
 * on the model itself, not on compiled entries, so the two can be held to
 * each other. Port is the destination port (ICMP: none). */
int pw_explain(const struct pw_cluster *c, const __u8 src[16],
	       const __u8 dst[16], __u8 proto, __u16 port,
	       struct pw_explain *out);

#endif /* PW_COMPILE_H */
