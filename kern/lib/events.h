/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Flow events to userspace and counters. A lost event is always counted. */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include "../podwall_abi.h"
#include "maps.h"
#include "parse.h"

static __always_inline void ev_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&pw_events_lost, &zero);

	if (n)
		*n += 1; /* per-CPU slot: no other writer */
}

static __always_inline struct pw_flow_event *ev_reserve(void)
{
	struct pw_flow_event *ev;

	ev = bpf_ringbuf_reserve(&pw_events, sizeof(*ev), 0);
	if (!ev) {
		ev_lost();
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = bpf_ktime_get_ns();
	return ev;
}

/* A packet's own event: new flow, drop or audit. */
static __always_inline void ev_packet(const struct pw_pkt *pkt, __u32 ifindex,
				      __u32 ep_id, __u8 dir, __u8 type,
				      __u8 verdict, __u16 reason, __u32 rule,
				      __u32 peer, __u8 is_reply)
{
	struct pw_flow_event *ev = ev_reserve();

	if (!ev)
		return;
	ev->type = type;
	ev->verdict = verdict;
	ev->dir = dir;
	ev->proto = pkt->proto;
	ev->tcp_flags = pkt->tcp_flags;
	ev->is_reply = is_reply;
	ev->reason = reason;
	ev->ep_id = ep_id;
	ev->ifindex = ifindex;
	ev->rule_id = rule;
	ev->peer_id = peer;
	addr_copy(ev->src, pkt->src);
	addr_copy(ev->dst, pkt->dst);
	if (pkt->kind == PW_K_PORTS) {
		ev->sport = pkt->sport;
		ev->dport = pkt->dport;
	} else if (pkt->proto == IPPROTO_ICMP || pkt->proto == IPPROTO_ICMPV6) {
		ev->sport = pkt->sport; /* echo identifier, else 0 */
		ev->dport =
			bpf_htons((__u16)pkt->icmp_type << 8 | pkt->icmp_code);
	}
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Flow end, told from the conntrack entry in the flow's first direction.
 * Returns the reserved record for the caller to submit or discard, so that
 * of two CPUs ending one flow only the one whose delete wins reports it.
 */
static __always_inline struct pw_flow_event *
ev_flow_end_prep(const struct pw_ct_key *key, const struct pw_ct_entry *ct,
		 __u32 ifindex, __u16 reason)
{
	struct pw_flow_event *ev = ev_reserve();
	int out = ct->origin == PW_DIR_EGRESS;

	if (!ev)
		return 0;
	ev->type = PW_EV_END;
	ev->verdict = reason ? PW_VERDICT_DROP : PW_VERDICT_ALLOW;
	ev->dir = ct->origin;
	ev->proto = key->proto;
	ev->tcp_flags = ct->tcp_flags[PW_CT_FWD] | ct->tcp_flags[PW_CT_REV];
	ev->reason = reason;
	ev->ep_id = key->ep_id;
	ev->ifindex = ifindex;
	ev->rule_id = ct->rule_id;
	ev->peer_id = ct->peer_id;
	addr_copy(ev->src, out ? key->local : key->remote);
	addr_copy(ev->dst, out ? key->remote : key->local);
	ev->sport = out ? key->lport : key->rport;
	ev->dport = out ? key->rport : key->lport;
	ev->pkts[0] = ct->pkts[0];
	ev->pkts[1] = ct->pkts[1];
	ev->bytes[0] = ct->bytes[0];
	ev->bytes[1] = ct->bytes[1];
	return ev;
}

static __always_inline void ev_flow_end(const struct pw_ct_key *key,
					const struct pw_ct_entry *ct,
					__u32 ifindex, __u16 reason)
{
	struct pw_flow_event *ev = ev_flow_end_prep(key, ct, ifindex, reason);

	if (ev)
		bpf_ringbuf_submit(ev, 0);
}

/* Remove a flow and report its end, unless another CPU got there first or
 * its end was told already (FIN or RST). */
static __always_inline void ev_flow_remove(const struct pw_ct_key *key,
					   const struct pw_ct_entry *ct,
					   __u32 ifindex, __u16 reason)
{
	struct pw_flow_event *ev = 0;

	if (!(ct->flags & PW_CT_F_ENDED))
		ev = ev_flow_end_prep(key, ct, ifindex, reason);
	if (bpf_map_delete_elem(&pw_ct, key) == 0) {
		if (ev)
			bpf_ringbuf_submit(ev, 0);
	} else if (ev) {
		bpf_ringbuf_discard(ev, 0);
	}
}

static __always_inline void cnt_add_one(__u32 idx, __u32 bytes)
{
	struct pw_counter *c = bpf_map_lookup_elem(&pw_counters, &idx);

	if (c) {
		c->packets += 1; /* per-CPU slot: no other writer */
		c->bytes += bytes;
	}
}

/* Count a packet for its endpoint and for the node. */
static __always_inline void cnt_add(__u32 ep_id, __u32 slot, __u32 bytes)
{
	cnt_add_one(slot, bytes);
	if (ep_id)
		cnt_add_one(ep_id * PW_CNT_SLOTS + slot, bytes);
}

#endif /* PW_EVENTS_H */
