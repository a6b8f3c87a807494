/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which host-side veth leads to which pod: read from rtnetlink, from the
 * addresses configured on the veth's peer inside the pod's network
 * namespace (what the CNI plugin's IPAM put there). Never from packets a
 * pod sends: a pod can forge those.
 */
#ifndef PW_PODLINK_H
#define PW_PODLINK_H

#include <linux/types.h>
#include "compile.h"
#include "sync.h"

#define PW_PODLINK_ADDRS_MAX 4

struct pw_podlink {
	__u32 ifindex; /* host side, in this network namespace */
	__u8 mac[6];   /* the peer's (the pod's eth0) MAC */
	int naddrs;
	__u8 addrs[PW_PODLINK_ADDRS_MAX][16]; /* IPv4-mapped for IPv4 */
	__u8 ll6[16]; /* the peer's IPv6 link-local address */
	bool has_ll6;
	__s32 nsid; /* the peer's namespace, as this namespace knows it */
	__u32 peer; /* the peer's ifindex there */
};

/*
 * What a source knows of where a pod runs: its network namespace as an
 * nsfs path (the CNI plugin's netns, Docker's sandbox key), or NULL.
 * Binding then looks only at the veths that lead there, so another pod
 * that copies the pod's address onto its own interface takes nothing.
 */
struct pw_podlink_hints {
	const char *(*netns)(void *ctx, const char *ns, const char *name);
	void *ctx;
	/* the namespace ids found last time, kept by the caller */
	struct pw_nsid_cache *cache;
};

void pw_nsid_cache_free(struct pw_nsid_cache *c);

/*
 * Every veth in the current network namespace whose peer lives in another
 * one, with the peer's MAC and global addresses (link-local ones left out).
 * *out is an array the caller frees. Returns 0 or -errno.
 */
int pw_podlink_scan(struct pw_podlink **out, int *n);

/*
 * Bind every compiled pod to the veth that leads to it, with the peer's
 * MAC for anti-spoofing; appends to binds[*nb .. max). A pod whose
 * namespace @h knows binds to the veth into that namespace (by address if
 * it has several); any other pod to the veth whose far side holds its
 * address. An address behind two veths binds neither. @h may be NULL.
 */
int pw_podlink_bind(const struct pw_compiled *co, struct pw_podlink_hints *h,
		    struct pw_binding *binds, int *nb, int max);

/*
 * The addresses of the peers of an earlier scan's veths, read again: an
 * address set inside a pod's namespace sends no event to this one, but a
 * new veth does, and a link dump costs ten times an address dump. Returns
 * 0 or -errno (then scan again).
 */
int pw_podlink_readdr(struct pw_podlink *pl, int n);

/* The same from the veths of an earlier pw_podlink_scan. */
int pw_podlink_match(const struct pw_podlink *pl, int npl,
		     const struct pw_compiled *co, struct pw_podlink_hints *h,
		     struct pw_binding *binds, int *nb, int max);

/* Bindings made by name: the link-local address of each one's peer, read
 * from the interface as pw_podlink_bind does. */
int pw_podlink_fill_ll6(struct pw_binding *binds, int nb);

#endif /* PW_PODLINK_H */
