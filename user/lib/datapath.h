/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath as userspace sees it: load the BPF object (or adopt its
 * pinned maps and programs), attach it to an endpoint's host-side veth, and
 * read and write its maps. Every call returns 0 or a negative errno.
 */
#ifndef PW_DATAPATH_H
#define PW_DATAPATH_H

#include <stdbool.h>
#include <linux/types.h>
#include "../../kern/podwall_abi.h"

struct pw_dp;

/*
 * What judges the packets a pod sends, on its host-side veth: TC ingress
 * (pw_from_pod), or XDP (pw_from_pod_xdp), the same code on the frame
 * before the kernel makes an skb of it. What the pod receives is TC egress
 * in both: XDP has no egress hook. TC is the default: on a veth, XDP was
 * slower for allowed traffic and for a flood of denied packets alike
 * (tests/bench/bench_vethmode.sh).
 */
enum pw_veth_mode {
	PW_VETH_TC = 0,
	PW_VETH_XDP = 1,
};

const char *pw_veth_mode_name(enum pw_veth_mode m);
/* "tc" or "xdp"; -EINVAL for anything else */
int pw_veth_mode_parse(const char *s, enum pw_veth_mode *m);

/* Map sizes and timeouts; a zero field takes the default. */
struct pw_dp_opts {
	const char *pin_dir; /* NULL: nothing pinned (tests) */
	__u32 ct_max;
	__u32 policy_max;
	__u32 ipcache_max;
	__u32 ep_max;
	__u32 frag_max;
	__u32 events_bytes; /* power of two, at least the page size */
	/* what pw_dp_attach() puts on a veth */
	enum pw_veth_mode veth_mode;
	struct pw_config cfg;
};

enum pw_dp_map {
	PW_MAP_ENDPOINTS,
	PW_MAP_IPCACHE,
	PW_MAP_POLICY,
	PW_MAP_CT,
	PW_MAP_FRAG,
	PW_MAP_EVENTS,
	PW_MAP_EVENTS_LOST,
	PW_MAP_COUNTERS,
	PW_MAP_PREFILTER,
	PW_MAP_POLICY_EXACT, /* exact policy entries (hash); -1 in old pins */
	PW_MAP__MAX,
};

/* Load the BPF object; with opts->pin_dir, pin (or reuse) maps and programs. */
int pw_dp_load(const struct pw_dp_opts *opts, struct pw_dp **out);
/* Adopt what an earlier pw_dp_load pinned under pin_dir. */
int pw_dp_open_pinned(const char *pin_dir, struct pw_dp **out);
void pw_dp_close(struct pw_dp *dp);
/* Remove every podwall pin under pin_dir and the folder itself. */
int pw_dp_unpin(const char *pin_dir);

int pw_dp_map_fd(const struct pw_dp *dp, enum pw_dp_map map);
/* dir: PW_DIR_EGRESS for pw_from_pod, PW_DIR_INGRESS for pw_to_pod */
int pw_dp_prog_fd(const struct pw_dp *dp, int dir);
/* pw_from_pod_xdp, or -1 for pins from before it. */
int pw_dp_from_pod_xdp_fd(const struct pw_dp *dp);
/* The uplink prefilter (XDP), or -1 for pins from before it. */
int pw_dp_prefilter_fd(const struct pw_dp *dp);

/* The veth mode pw_dp_attach() uses (PW_VETH_TC when adopted from pins). */
void pw_dp_set_veth_mode(struct pw_dp *dp, enum pw_veth_mode m);
enum pw_veth_mode pw_dp_veth_mode(const struct pw_dp *dp);

/*
 * Attach the programs of the datapath's veth mode to the host-side veth
 * @ifindex, then take off the other mode's from-pod program if it is there:
 * a mode change on a live veth has no moment where nothing judges.
 */
int pw_dp_attach(const struct pw_dp *dp, int ifindex);
/* 1 if the programs of the datapath's mode are on @ifindex, 0 if not. */
int pw_dp_attached(const struct pw_dp *dp, int ifindex);
/* PW_VETH_TC or PW_VETH_XDP by which from-pod program is on @ifindex,
 * or -ENOENT for neither. */
int pw_dp_attached_mode(int ifindex);
/* Remove only podwall's filters and its XDP program; other filters, the
 * qdisc and another tool's XDP program stay. */
int pw_dp_detach(int ifindex);

int pw_dp_endpoint_set(const struct pw_dp *dp, __u32 ifindex,
		       const struct pw_endpoint *ep);
int pw_dp_endpoint_get(const struct pw_dp *dp, __u32 ifindex,
		       struct pw_endpoint *ep);
int pw_dp_endpoint_del(const struct pw_dp *dp, __u32 ifindex);

int pw_dp_ipcache_set(const struct pw_dp *dp, const __u8 addr[16], __u32 plen,
		      const struct pw_ipcache_entry *e);
int pw_dp_ipcache_del(const struct pw_dp *dp, const __u8 addr[16], __u32 plen);

/*
 * Allow (policy set pol_id, dir, peer, proto, ports lo..hi) with rule
 * @rule_id.
 * proto 0 means every protocol (then lo and hi must be 0); lo = hi = 0 with
 * a protocol means every port. A range becomes a few prefix entries.
 */
struct pw_dp_rule {
	__u32 pol_id;
	__u32 peer_id;
	__u8 dir;
	__u8 proto;
	__u16 port_lo;
	__u16 port_hi;
	__u32 rule_id;
};

int pw_dp_policy_add(const struct pw_dp *dp, const struct pw_dp_rule *r);
int pw_dp_policy_del(const struct pw_dp *dp, const struct pw_dp_rule *r);
/* Remove every policy entry of policy set @pol_id. */
int pw_dp_policy_flush(const struct pw_dp *dp, __u32 pol_id);

/*
 * One policy entry, in the map it belongs in: an exact key (prefixlen
 * PW_POL_PLEN_FULL) in the exact-match hash, any other in the trie; with
 * pins from before the hash, all in the trie. No logging: the caller
 * knows the context (-E2BIG or -ENOSPC: that map is full).
 */
int pw_dp_policy_write(const struct pw_dp *dp, const struct pw_policy_key *k,
		       __u32 rule_id);
int pw_dp_policy_remove(const struct pw_dp *dp, const struct pw_policy_key *k);
/* 1 if @k goes to the exact-match hash, 0 if to the trie. */
int pw_dp_policy_is_exact(const struct pw_dp *dp,
			  const struct pw_policy_key *k);

/*
 * End the flows whose expiry is at or before @now_ns (bpf_ktime_get_ns()'s
 * clock, CLOCK_MONOTONIC): flows that went idle and that no packet will
 * look up again. @ended (may be NULL) sees each one as it goes. Returns
 * how many went, or -errno.
 */
typedef void (*pw_ct_fn)(const struct pw_ct_key *k, const struct pw_ct_entry *e,
			 void *arg);
int pw_dp_ct_sweep(const struct pw_dp *dp, __u64 now_ns, pw_ct_fn ended,
		   void *arg);

/* Entries in a map now, and its size. */
int pw_dp_map_fill(const struct pw_dp *dp, enum pw_dp_map map, __u64 *entries,
		   __u32 *max);

/* Counters of @ep_id (0: node totals), summed over CPUs. */
int pw_dp_counters(const struct pw_dp *dp, __u32 ep_id,
		   struct pw_counter out[PW_CNT_SLOTS]);
int pw_dp_events_lost(const struct pw_dp *dp, __u64 *lost);

/*
 * The uplink prefilter: source prefixes whose traffic the XDP program
 * drops on the interface it is attached to. A prefix is written as
 * pw_cidr_parse() gives it (IPv4-mapped, plen in the 128-bit space);
 * @rule_id comes back as the rule of its drops' events. An IPv6 prefix
 * that holds ::ffff:0:0/96 is refused (-EINVAL): IPv4 lives there, so it
 * would deny every IPv4 source too.
 */
int pw_dp_prefilter_set(const struct pw_dp *dp, const __u8 addr[16], __u32 plen,
			__u32 rule_id);
int pw_dp_prefilter_del(const struct pw_dp *dp, const __u8 addr[16],
			__u32 plen);
/* Calls @fn for each prefix; a non-zero return from it stops the walk
 * and is returned. */
typedef int (*pw_prefilter_fn)(const __u8 addr[16], __u32 plen, __u32 rule_id,
			       void *arg);
int pw_dp_prefilter_list(const struct pw_dp *dp, pw_prefilter_fn fn, void *arg);

enum pw_xdp_mode {
	PW_XDP_AUTO = 0,    /* native if the driver has it, else generic */
	PW_XDP_NATIVE = 1,  /* in the driver */
	PW_XDP_GENERIC = 2, /* after the skb is made (any driver) */
};

/*
 * Attach the prefilter to @ifindex, replacing an earlier version of it.
 * Another program's XDP slot is never taken (-EBUSY). On success the mode
 * it got is in *got (may be NULL) and in a log line.
 */
int pw_dp_prefilter_attach(const struct pw_dp *dp, int ifindex,
			   enum pw_xdp_mode mode, enum pw_xdp_mode *got);
/* Remove the prefilter from @ifindex; another tool's XDP program stays.
 * 0 also when there was none. */
int pw_dp_prefilter_detach(int ifindex);
/* The prefilter's mode on @ifindex, or 0 if it is not there (-errno). */
int pw_dp_prefilter_attached(int ifindex);

/* Flow events from the ring buffer. */
typedef int (*pw_event_fn)(const struct pw_flow_event *ev, void *arg);
struct pw_events;
int pw_events_open(const struct pw_dp *dp, pw_event_fn fn, void *arg,
		   struct pw_events **out);
/* An fd that polls readable when events wait. */
int pw_events_fd(const struct pw_events *evs);
/* Waits up to timeout_ms; returns the number of events handled or -errno. */
int pw_events_poll(struct pw_events *evs, int timeout_ms);
void pw_events_close(struct pw_events *evs);

#endif /* PW_DATAPATH_H */
