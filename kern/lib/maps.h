/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Every map of the datapath. Sizes are defaults; the loader resizes them. */
#ifndef PW_MAPS_H
#define PW_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../podwall_abi.h"
#include "consts.h"

/* host-side ifindex -> endpoint */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_EP_MAX);
	__type(key, __u32);
	__type(value, struct pw_endpoint);
} pw_endpoints SEC(".maps");

/* peer address -> identities */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_IPCACHE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_ipcache_key);
	__type(value, struct pw_ipcache_entry);
} pw_ipcache SEC(".maps");

/* (endpoint, peer, direction, protocol, port prefix) -> rule */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_policy_key);
	__type(value, struct pw_policy_entry);
} pw_policy SEC(".maps");

/* exact (endpoint, peer, direction, protocol, port) -> rule: one hash
 * lookup however many there are; sized as pw_policy */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_policy_xkey);
	__type(value, struct pw_policy_entry);
} pw_policy_exact SEC(".maps");

/* source prefix -> deny-list entry, for the uplink prefilter (XDP) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PW_PREFILTER_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_prefilter_key);
	__type(value, struct pw_prefilter_entry);
} pw_prefilter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_CT_MAX);
	__type(key, struct pw_ct_key);
	__type(value, struct pw_ct_entry);
} pw_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FRAG_MAX);
	__type(key, struct pw_frag_key);
	__type(value, struct pw_frag_entry);
} pw_frag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PW_EVENTS_BYTES);
} pw_events SEC(".maps");

/* events the ring buffer had no room for, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pw_events_lost SEC(".maps");

/* index ep_id * PW_CNT_SLOTS + slot; ep_id 0 is the node total */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_EP_MAX *PW_CNT_SLOTS);
	__type(key, __u32);
	__type(value, struct pw_counter);
} pw_counters SEC(".maps");

/* Timeouts; the loader sets them between open and load. */
const volatile struct pw_config pw_cfg = {
	.ct_tcp_syn_ns = 60 * PW_NSEC_PER_SEC,
	.ct_tcp_est_ns = 6 * 3600 * PW_NSEC_PER_SEC,
	.ct_tcp_close_ns = 10 * PW_NSEC_PER_SEC,
	.ct_udp_ns = 60 * PW_NSEC_PER_SEC,
	.ct_other_ns = 30 * PW_NSEC_PER_SEC,
	.frag_ns = 30 * PW_NSEC_PER_SEC,
};

#endif /* PW_MAPS_H */
