/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The compiler's state, shared by cluster.c (objects in and out, ids,
 * indexes), compile.c (map entries) and explain.c. Not a public header.
 *
 * What makes a change cheap: policy entries depend on identities, not on
 * pods. Each policy caches, per rule, the identities its peers admit, kept
 * up to date as identities come and go; each pod caches its compiled
 * entries with the versions of the policies that produced them. A change
 * then recompiles only the pods whose inputs moved.
 */
#ifndef PW_CLUSTER_H
#define PW_CLUSTER_H

#include <stdbool.h>
#include <linux/types.h>
#include "compile.h"

/* Pods that no selector and no named port can tell apart share one. */
struct ident {
	__u32 id;
	char *ns;
	struct pw_labels labels;
	struct pw_cport *ports; /* named ports only, sorted */
	int nports;
	int refs; /* pods */
};

struct cidr_ident {
	struct pw_cidr cidr;
	__u32 id;
	int refs; /* ipBlock cidrs and excepts that name it */
};

/* A pod inside an ipBlock, for egress to a named port: its own address
 * prefix (a CIDR identity of its own) and its label identity (whose named
 * ports give the number). */
struct host_ref {
	__u32 cid;
	__u32 ident;
};

/* The identities one rule admits. */
struct rule_cache {
	__u32 *ids;
	int n, cap;
	bool any; /* every peer, world included */
	/* egress to a named port: the pods' identities that can have it */
	__u32 *pod_ids;
	int npod, cappod;
	bool volatile_; /* ipBlock and a named port: depends on pod IPs */
	struct host_ref *hosts;
	int nhost, caphost;
};

struct np_slot {
	struct pw_netpol *np;
	__u32 slot; /* rule ids are slot << 12 | ... */
	__u64 ver;  /* moves whenever its entries would change */
	struct rule_cache *in, *out;
	__u32 *targets; /* ep_ids of the pods it selects */
	int ntargets;
	__u64 targets_at; /* clock when targets were computed */
};

/* A selecting policy as one pod's compile saw it. No padding: signatures
 * are compared with memcmp. */
struct sig {
	__u64 slot;
	__u64 ver;
};

struct pod_slot {
	struct pw_pod *pod;
	__u32 ep_id;
	__u32 identity;
	__u64 ver;
	__u32 cidr_ids[PW_POD_IPS_MAX]; /* longest ipBlock prefix per IP */
	__u64 cidr_at;
	/* the cache: entries, and what they were compiled from */
	struct pw_out_policy *pol;
	int npol;
	struct sig *sig;
	int nsig;
	__u64 pol_ver;
	bool cached;
	struct sig *next; /* scratch: this compile's signature */
	int nnext, capnext;
};

struct ns_gen {
	char *name;
	__u64 at; /* clock of the last pod change in the namespace */
};

/* idhints.c: ids from an earlier run, claimed back by their objects */
enum {
	PW_HINT_POD,
	PW_HINT_POLICY,
	PW_HINT_IDENT,
	PW_HINT_CIDR,
	PW_HINT__MAX,
};

struct pw_id_hint {
	char *key;
	__u32 id;
};

struct pw_id_hints {
	struct pw_id_hint *v;
	int n;
};

struct pw_cluster {
	struct pw_namespace **nss;
	int nnss;
	struct pod_slot *pods;
	int npods;
	struct np_slot *nps;
	int nnps;
	struct ident *ids;
	int nids;
	struct cidr_ident *cids;
	int ncids;
	struct ns_gen *gens;
	int ngens;
	/* host prefixes of pods that volatile rules need, as CIDR idents */
	struct pw_cidr *hostpfx;
	int nhostpfx;
	__u64 clock;	/* stamps every change */
	__u64 cidrs_at; /* clock of the last change to the CIDR set */
	struct pw_id_hints hints[PW_HINT__MAX];
};

/* cluster.c, for compile.c and explain.c */
const struct pw_labels *pw_ns_labels(const struct pw_cluster *c, const char *ns,
				     struct pw_labels *scratch,
				     struct pw_label *one);
bool pw_peer_selects(const struct pw_cluster *c, const struct pw_peer *peer,
		     const char *np_ns, const char *ns,
		     const struct pw_labels *labels);
bool pw_in_ipblock(const struct pw_ipblock *b, const __u8 addr[16], __u32 plen);
bool pw_find_named(const struct pw_cport *ports, int n, const char *name,
		   __u8 proto, __u16 *port);
const struct ident *pw_ident_get(const struct pw_cluster *c, __u32 id);
__u32 pw_cidr_id_of(const struct pw_cluster *c, const __u8 addr[16]);
int pw_refresh_volatile(struct pw_cluster *c);
__u64 pw_ns_at(const struct pw_cluster *c, const char *ns);

/* idhints.c */
char *pw_hint_key_name(const char *ns, const char *name);
char *pw_hint_key_ident(const char *ns, const struct pw_labels *l,
			const struct pw_cport *ports, int nports);
char *pw_hint_key_cidr(const struct pw_cidr *c);
/* The hinted id of @key if it is free, else the smallest id >= @base that
 * is neither used nor hinted to another key. */
__u32 pw_hint_alloc(const struct pw_cluster *c, int kind, const char *key,
		    __u32 base, bool (*used)(const struct pw_cluster *, __u32));

static inline __u32 pw_rule_id(__u32 slot, __u8 dir, int index)
{
	return slot << 12 | (dir == PW_DIR_EGRESS ? 1U << 11 : 0) | index;
}

#endif /* PW_CLUSTER_H */
