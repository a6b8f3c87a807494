/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The uplink prefilter: XDP on the node's uplink interface. A packet whose
 * source address falls in a prefix of pw_prefilter drops before the stack
 * allocates an skb for it; everything else passes untouched, non-IP too.
 *
 * Unlike lib/parse.h this reads the frame in place (direct packet access):
 * XDP has no load-bytes helper worth its cost here, and a frame on the
 * uplink is linear. Every read is a pointer the verifier has seen checked
 * against data_end, through pf_hdr().
 *
 * A frame too short for the headers it claims passes: the prefilter only
 * drops what it has read a listed source in, and the stack drops a
 * truncated or malformed packet anyway (with its own counters), so passing
 * it lets nothing through that dropping would have stopped. Dropping it
 * here would count it against no listed source and report it as a
 * prefilter drop, which it is not.
 */
#ifndef PW_PREFILTER_H
#define PW_PREFILTER_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "../podwall_abi.h"
#include "consts.h"
#include "maps.h"
#include "parse.h"
#include "events.h"

/* What a prefilter drop reports. */
struct pf_pkt {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport; /* ICMP echo: identifier */
	__be16 dport; /* ICMP: type << 8 | code, as lib/events.h reports */
	__u8 proto;
	__u8 tcp_flags;
	__u8 pad[2];
};

/* @len bytes at @off in the frame, or NULL past its end. */
static __always_inline void *pf_hdr(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	/* bound the offset so the verifier can add it to a packet pointer */
	if (off > 0xffff || data + off + len > end)
		return 0;
	return data + off;
}

/*
 * The L4 facts of the drop event, from the header right after the IP
 * header only (no IPv6 extension headers, nothing of a later fragment):
 * they are for the flow log, never for the verdict.
 */
static __always_inline void pf_l4(struct xdp_md *ctx, __u32 off,
				  struct pf_pkt *p)
{
	__u8 *h = pf_hdr(ctx, off, 8);

	if (!h)
		return;
	switch (p->proto) {
	case IPPROTO_TCP:
		h = pf_hdr(ctx, off, 14);
		if (!h)
			return;
		p->tcp_flags = h[13] & 0x3f;
		/* fallthrough */
	case IPPROTO_UDP:
	case PW_IPPROTO_SCTP:
		__builtin_memcpy(&p->sport, h, 2);
		__builtin_memcpy(&p->dport, h + 2, 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p->dport = bpf_htons((__u16)h[0] << 8 | h[1]);
		if (h[0] == 8 || h[0] == 0 || h[0] == 128 || h[0] == 129)
			__builtin_memcpy(&p->sport, h + 4, 2);
		break;
	}
}

/*
 * Ethernet, up to PW_VLAN_MAX VLAN tags (as many as the TC parser takes),
 * then the IPv4 or IPv6 header. Returns 1 with p->src filled in, 0 for a
 * frame that is not IP or too short to read its source: it passes.
 */
static __always_inline int pf_parse(struct xdp_md *ctx, struct pf_pkt *p)
{
	struct ethhdr *eth = pf_hdr(ctx, 0, sizeof(*eth));
	struct pw_vlan_hdr *vh;
	__u32 off = sizeof(*eth);
	__be16 proto;
	int i;

	if (!eth)
		return 0;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < PW_VLAN_MAX; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		vh = pf_hdr(ctx, off, sizeof(*vh));
		if (!vh)
			return 0;
		proto = vh->proto;
		off += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = pf_hdr(ctx, off, sizeof(*ip));

		if (!ip || ip->version != 4)
			return 0;
		addr_set4(p->src, ip->saddr);
		addr_set4(p->dst, ip->daddr);
		p->proto = ip->protocol;
		/* a later fragment carries no L4 header */
		if (ip->ihl >= 5 && !(ip->frag_off & bpf_htons(0x1fff)))
			pf_l4(ctx, off + ip->ihl * 4, p);
		return 1;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = pf_hdr(ctx, off, sizeof(*ip6));

		if (!ip6 || ip6->version != 6)
			return 0;
		/* An IPv4-mapped source is looked up as it is: on the wire it
		 * is meaningless (the TC parser drops it), and if it falls in
		 * a listed IPv4 prefix it drops here. */
		addr_copy(p->src, ip6->saddr.in6_u.u6_addr8);
		addr_copy(p->dst, ip6->daddr.in6_u.u6_addr8);
		p->proto = ip6->nexthdr;
		pf_l4(ctx, off + sizeof(*ip6), p);
		return 1;
	}
	return 0;
}

/* The drop's event, as lib/events.h tells a TC drop: the node saw it
 * (ep_id 0) coming in on the uplink, from the world. */
static __always_inline void pf_event(const struct pf_pkt *p, __u32 ifindex,
				     __u32 rule)
{
	struct pw_flow_event *ev = ev_reserve();

	if (!ev)
		return;
	ev->type = PW_EV_DROP;
	ev->verdict = PW_VERDICT_DROP;
	ev->dir = PW_DIR_INGRESS;
	ev->proto = p->proto;
	ev->tcp_flags = p->tcp_flags;
	ev->reason = PW_DROP_PREFILTER;
	ev->ifindex = ifindex;
	ev->rule_id = rule;
	ev->peer_id = PW_ID_WORLD;
	addr_copy(ev->src, p->src);
	addr_copy(ev->dst, p->dst);
	ev->sport = p->sport;
	ev->dport = p->dport;
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline int pf_handle(struct xdp_md *ctx)
{
	struct pw_prefilter_key key = {.prefixlen = 128};
	struct pw_prefilter_entry *e;
	struct pf_pkt p = {};

	if (!pf_parse(ctx, &p))
		return XDP_PASS;
	addr_copy(key.addr, p.src);
	e = bpf_map_lookup_elem(&pw_prefilter, &key);
	if (!e)
		return XDP_PASS;
	cnt_add(0, PW_DROP_PREFILTER, ctx->data_end - ctx->data);
	pf_event(&p, ctx->ingress_ifindex, e->rule_id);
	return XDP_DROP;
}

#endif /* PW_PREFILTER_H */
