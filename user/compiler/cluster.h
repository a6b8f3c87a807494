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
#include <stddef.h>
#include <linux/types.h>
#include "compile.h"

/*
 * A hash index over an array kept elsewhere: a key's hash to the positions
 * of the elements that have it; telling keys apart is the caller's (an eq
 * callback). Open addressing, linear probing, at most half full. Arrays
 * that remove by moving their last element into the hole tell the index
 * with pw_hidx_move. Also used by agent/objset.c.
 */
struct pw_hidx {
	__u32 *hash;
	__u32 *pos; /* array position + 1; 0: empty */
	__u32 cap;  /* 0 or a power of two */
	__u32 n;
};

/* Endpoint ids a hint may carry: every pod in a cluster of 150,000 has
 * one, and pw_compile sizes a table by the largest. */
#define PW_EP_ID_MAX (1u << 22)

#define PW_HASH_SEED 0xcbf29ce484222325ULL
__u64 pw_hash_bytes(__u64 h, const void *p, size_t n);
__u64 pw_hash_str(__u64 h, const char *s); /* with its terminator */
/* The position of an element whose hash is @hash and which @eq accepts,
 * or -1. */
int pw_hidx_find(const struct pw_hidx *h, __u64 hash,
		 bool (*eq)(const void *ctx, __u32 pos), const void *ctx);
/* Room for @n entries, so that the adds up to it cannot fail. */
int pw_hidx_reserve(struct pw_hidx *h, __u32 n);
int pw_hidx_add(struct pw_hidx *h, __u64 hash, __u32 pos);
void pw_hidx_del(struct pw_hidx *h, __u64 hash, __u32 pos);
void pw_hidx_move(struct pw_hidx *h, __u64 hash, __u32 from, __u32 to);
void pw_hidx_free(struct pw_hidx *h);

/*
 * The ids of one kind in use and the ids hinted to some key, as bitmaps
 * from the kind's base (ids too far above it in a small hash set), so that
 * the smallest free id is found without testing every candidate.
 */
struct pw_idset {
	__u32 *v; /* 0: empty */
	__u32 cap, n;
};

struct pw_idmap {
	__u64 *used, *resv; /* bit i: id base + i */
	__u32 nwords;
	__u32 low; /* every word below is full */
	struct pw_idset far_used, far_resv;
};

/* Array positions grouped by namespace, each group in no order. */
struct pw_group {
	char *ns;
	__u32 *m;
	int n, cap;
	/* np_grp only: the policies that can admit an identity of ns (its
	 * own and the global ones whose peers can see it), ascending; good
	 * while cand_gen == the cluster's np_gen */
	__u32 *cand;
	int ncand;
	__u64 cand_gen;
};

struct pw_groups {
	struct pw_group *v;
	int n;
	struct pw_hidx idx; /* by namespace */
};

/* The members of @ns's group, ascending, in a new array *out (NULL when
 * none); their number, or -ENOMEM. */
int pw_group_sorted(const struct pw_groups *gs, const char *ns, __u32 **out);

/* Pods that no selector and no named port can tell apart share one. */
struct ident {
	__u32 id;
	char *ns;
	struct pw_labels labels;
	struct pw_cport *ports; /* named ports only, sorted */
	int nports;
	int refs;      /* pods */
	int grp, gpos; /* in ident_grp */
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
	int grp, gpos;	  /* in np_grp */
	int glpos;	  /* in np_global, or -1 */
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
	int grp, gpos; /* in pod_grp */
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
	__u8 (*node)[16]; /* the node's own addresses */
	int nnode;
	__u64 clock;	/* stamps every change */
	__u64 cidrs_at; /* clock of the last change to the CIDR set */
	struct pw_id_hints hints[PW_HINT__MAX];
	/* indexes, kept with the arrays above */
	struct pw_hidx hint_idx[PW_HINT__MAX]; /* by key */
	struct pw_idmap idmap[PW_HINT__MAX];
	struct pw_hidx pod_idx;	  /* by (ns, name) */
	struct pw_hidx np_idx;	  /* by (ns, name) */
	struct pw_hidx slot_idx;  /* policies by slot */
	struct pw_hidx ident_idx; /* by (ns, labels, ports) */
	struct pw_hidx idnum_idx; /* identities by id */
	struct pw_hidx cidr_idx;  /* by prefix */
	struct pw_hidx ns_idx;	  /* namespaces by name */
	struct pw_hidx gen_idx;	  /* gens by name */
	int nids_high;		  /* identities with an id >= PW_ID_CIDR_BASE */
	/* by namespace: what a selector without namespaceSelector can see */
	struct pw_groups pod_grp, ident_grp, np_grp;
	/* policies that can admit identities of other namespaces */
	struct pw_group np_global;
	__u64 np_gen; /* moves when a policy or namespace comes, goes or
		       * changes */
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
/* The hinted id of @key if it is free, else the smallest id >= the kind's
 * base (1 for pods and policies, PW_ID_FIRST_USER, PW_ID_CIDR_BASE) that
 * is neither used nor hinted to another key; marked used. 0: no memory. */
__u32 pw_hint_alloc(struct pw_cluster *c, int kind, const char *key);
/* An id of @kind no longer in use. */
void pw_id_release(struct pw_cluster *c, int kind, __u32 id);
void pw_idmaps_free(struct pw_cluster *c);
const struct np_slot *pw_np_by_slot(const struct pw_cluster *c, __u32 slot);
/* Positions in c->pods and c->nss, or -1. */
int pw_pod_index(const struct pw_cluster *c, const char *ns, const char *name);
int pw_ns_index(const struct pw_cluster *c, const char *name);

static inline __u32 pw_rule_id(__u32 slot, __u8 dir, int index)
{
	return slot << 12 | (dir == PW_DIR_EGRESS ? 1U << 11 : 0) | index;
}

#endif /* PW_CLUSTER_H */
