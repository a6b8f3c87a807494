/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Conntrack: keys from the endpoint's point of view, TCP state, timeouts.
 * Entries are created only by the pipeline in podwall.bpf.c, after policy.
 */
#ifndef PW_CONNTRACK_H
#define PW_CONNTRACK_H

#include "../podwall_abi.h"
#include "maps.h"
#include "parse.h"

/*
 * Flag combinations a TCP stack sends, PSH ignored; the same set netfilter
 * accepts. NULL, SYN+FIN, SYN+RST, FIN without ACK (so Xmas) are not in it.
 */
#define PW_TCP_VALID_MASK                                             \
	((1ULL << PW_TCP_SYN) | (1ULL << (PW_TCP_SYN | PW_TCP_URG)) | \
	 (1ULL << (PW_TCP_SYN | PW_TCP_ACK)) | (1ULL << PW_TCP_RST) | \
	 (1ULL << (PW_TCP_RST | PW_TCP_ACK)) |                        \
	 (1ULL << (PW_TCP_FIN | PW_TCP_ACK)) |                        \
	 (1ULL << (PW_TCP_FIN | PW_TCP_ACK | PW_TCP_URG)) |           \
	 (1ULL << PW_TCP_ACK) | (1ULL << (PW_TCP_ACK | PW_TCP_URG)))

static __always_inline int tcp_flags_valid(__u8 flags)
{
	return (PW_TCP_VALID_MASK >> (flags & 0x3f & ~PW_TCP_PSH)) & 1;
}

static __always_inline int tcp_pure_syn(__u8 flags)
{
	return (flags & (PW_TCP_SYN | PW_TCP_ACK | PW_TCP_RST | PW_TCP_FIN)) ==
	       PW_TCP_SYN;
}

static __always_inline __be16 ct_icmp_asker(int local)
{
	return bpf_htons(local ? PW_CT_ICMP_LOCAL_ASKED
			       : PW_CT_ICMP_REMOTE_ASKED);
}

/* Key of the flow this packet belongs to, at endpoint @ep_id. */
static __always_inline void ct_key_build(const struct pw_pkt *pkt, __u8 dir,
					 __u32 ep_id, struct pw_ct_key *key)
{
	int out = dir == PW_DIR_EGRESS;

	addr_copy(key->local, out ? pkt->src : pkt->dst);
	addr_copy(key->remote, out ? pkt->dst : pkt->src);
	key->proto = pkt->proto;
	key->ep_id = ep_id;
	if (pkt->kind == PW_K_ECHO_REQ || pkt->kind == PW_K_ECHO_REPLY) {
		key->lport = pkt->sport;
		key->rport = ct_icmp_asker(out == (pkt->kind == PW_K_ECHO_REQ));
	} else if (pkt->kind == PW_K_PORTS) {
		key->lport = out ? pkt->sport : pkt->dport;
		key->rport = out ? pkt->dport : pkt->sport;
	}
}

/*
 * Key of the flow an ICMP error speaks of. The embedded packet went the
 * other way: the pod sent it when the error comes in (INGRESS), and received
 * it when the pod reports the error (EGRESS).
 */
static __always_inline void ct_key_inner(const struct pw_pkt *pkt, __u8 dir,
					 __u32 ep_id, struct pw_ct_key *key)
{
	const struct pw_inner *in = &pkt->inner;
	int pod_sent = dir == PW_DIR_INGRESS;

	addr_copy(key->local, pod_sent ? in->src : in->dst);
	addr_copy(key->remote, pod_sent ? in->dst : in->src);
	key->proto = in->proto;
	key->ep_id = ep_id;
	if (in->kind == PW_K_ECHO_REQ) {
		key->lport = in->sport;
		key->rport = ct_icmp_asker(pod_sent);
	} else {
		key->lport = pod_sent ? in->sport : in->dport;
		key->rport = pod_sent ? in->dport : in->sport;
	}
}

static __always_inline __u64 ct_lifetime(const struct pw_ct_entry *ct,
					 __u8 proto)
{
	if (proto == IPPROTO_TCP) {
		if (ct->state == PW_CT_SYN_SENT)
			return pw_cfg.ct_tcp_syn_ns;
		if (ct->state == PW_CT_ESTABLISHED)
			return pw_cfg.ct_tcp_est_ns;
		return pw_cfg.ct_tcp_close_ns;
	}
	if (proto == IPPROTO_UDP || proto == PW_IPPROTO_SCTP)
		return pw_cfg.ct_udp_ns;
	return pw_cfg.ct_other_ns;
}

/* Count a packet in direction @rev (0 forward, 1 reply). */
static __always_inline void ct_account(struct pw_ct_entry *ct, int rev,
				       __u32 bytes)
{
	if (rev) {
		__sync_fetch_and_add(&ct->pkts[PW_CT_REV], 1);
		__sync_fetch_and_add(&ct->bytes[PW_CT_REV], bytes);
	} else {
		__sync_fetch_and_add(&ct->pkts[PW_CT_FWD], 1);
		__sync_fetch_and_add(&ct->bytes[PW_CT_FWD], bytes);
	}
}

/*
 * Advance the state of an existing flow by one packet.
 * Returns 1 when this packet ends the flow (RST, or FIN both ways).
 */
static __always_inline int ct_advance(struct pw_ct_entry *ct, __u8 proto,
				      int rev, __u8 flags)
{
	if (proto != IPPROTO_TCP) {
		if (rev && ct->state == PW_CT_NEW)
			ct->state = PW_CT_ESTABLISHED;
		return 0;
	}
	if (rev)
		ct->tcp_flags[PW_CT_REV] |= flags;
	else
		ct->tcp_flags[PW_CT_FWD] |= flags;

	if (flags & PW_TCP_RST) {
		if (ct->state == PW_CT_CLOSED)
			return 0;
		ct->state = PW_CT_CLOSED;
		return 1;
	}
	if (ct->state == PW_CT_SYN_SENT && rev && (flags & PW_TCP_ACK))
		ct->state = PW_CT_ESTABLISHED;
	if (ct->state < PW_CT_CLOSING &&
	    (ct->tcp_flags[PW_CT_FWD] & PW_TCP_FIN) &&
	    (ct->tcp_flags[PW_CT_REV] & PW_TCP_FIN)) {
		ct->state = PW_CT_CLOSING;
		return 1;
	}
	return 0;
}

#endif /* PW_CONNTRACK_H */
