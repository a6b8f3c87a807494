// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * podwall datapath: two TC programs on the host side of every endpoint veth,
 * or for what the pod sends an XDP program there instead (--veth-mode xdp),
 * all three the same pipeline: endpoint lookup, parse, anti-spoofing,
 * fragments, conntrack, policy for new flows, then one exit that counts and
 * reports. And an XDP program for the node's uplink, the prefilter, sharing
 * maps and events.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "podwall_abi.h"
#include "lib/consts.h"
#include "lib/ctx.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/conntrack.h"
#include "lib/events.h"
#include "lib/prefilter.h"

/*
 * Scratch space for what does not fit the 512-byte stack. TC and XDP
 * programs run to completion with bottom halves off, so one slot per CPU is
 * never shared.
 */
struct pw_scratch {
	struct pw_pkt pkt;
	struct pw_ct_entry ct;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_scratch);
} pw_scratch SEC(".maps");

/* What the pipeline decided, reported once at the exit. */
struct pw_res {
	__u32 rule;
	__u32 peer;
	__u16 reason; /* drop reason, or what audit mode let through */
	__u8 verdict; /* enum pw_verdict */
	__u8 ev;      /* enum pw_event_type to send, 0 for none */
	__u8 is_reply;
	__u8 pad[3];
};

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

static __always_inline int ip6_link_local(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static __always_inline int ip6_unspecified(const __u8 *a)
{
	const __u64 *w = (const __u64 *)a;

	return w[0] == 0 && w[1] == 0;
}

struct pw_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
};

/* ARP from a pod may only speak for the pod's own MAC and IPv4 address. */
static __always_inline int pw_arp_check(struct pw_ctx *ctx, struct pw_pkt *pkt,
					const struct pw_endpoint *ep)
{
	struct pw_arp arp;

	if (ctx_load(ctx, pkt->l3_off, &arp, sizeof(arp)))
		return -PW_DROP_BAD_L2;
	/* the claimed and the asked-for address, for the flow log */
	addr_set4(pkt->src, *(__be32 *)arp.spa);
	addr_set4(pkt->dst, *(__be32 *)arp.tpa);
	if (arp.htype != bpf_htons(1) || arp.ptype != bpf_htons(ETH_P_IP) ||
	    arp.hlen != 6 || arp.plen != 4)
		return -PW_DROP_BAD_L2;
	if ((ep->flags & PW_EP_F_HAS_MAC) && !mac_eq(arp.sha, ep->mac))
		return -PW_DROP_SPOOFED_MAC;
	/* 0.0.0.0 is an address probe (RFC 5227) */
	if (*(__u32 *)arp.spa == 0)
		return 0;
	if (!(ep->flags & PW_EP_F_HAS_IP4) ||
	    *(__u32 *)arp.spa != *(const __u32 *)&ep->ip4[12])
		return -PW_DROP_SPOOFED_IP;
	return 0;
}

/*
 * Neighbour discovery and MLD from a pod: no router advertisements or
 * redirects, and advertisements only for the pod's own addresses. Once
 * the agent knows the pod's link-local address, that one only: another
 * pod's or the gateway's would let it take their neighbour entries, as
 * ARP spoofing does for IPv4.
 */
static __always_inline int own_link_local(const struct pw_endpoint *ep,
					  const __u8 *a)
{
	if (!ip6_link_local(a))
		return 0;
	return !(ep->flags & PW_EP_F_HAS_LL6) || addr_eq(a, ep->ll6);
}

static __always_inline int pw_nd_check(struct pw_ctx *ctx,
				       const struct pw_pkt *pkt,
				       const struct pw_endpoint *ep)
{
	int own = (ep->flags & PW_EP_F_HAS_IP6) && addr_eq(pkt->src, ep->ip6);
	__u8 target[16];

	if (pkt->icmp_type == 134 || pkt->icmp_type == 137)
		return -PW_DROP_ND_FROM_POD;
	if (!own && !own_link_local(ep, pkt->src) && !ip6_unspecified(pkt->src))
		return -PW_DROP_SPOOFED_IP;
	if (pkt->icmp_type != 136)
		return 0;
	if (ctx_load(ctx, pkt->l4_off + 8, target, sizeof(target)))
		return -PW_DROP_BAD_L4;
	if (own_link_local(ep, target) ||
	    ((ep->flags & PW_EP_F_HAS_IP6) && addr_eq(target, ep->ip6)))
		return 0;
	return -PW_DROP_SPOOFED_IP;
}

/* A pod may send only from its own MAC and addresses. */
static __always_inline int pw_antispoof(struct pw_ctx *ctx, struct pw_pkt *pkt,
					const struct pw_endpoint *ep)
{
	if ((ep->flags & PW_EP_F_HAS_MAC) && !mac_eq(pkt->smac, ep->mac))
		return -PW_DROP_SPOOFED_MAC;
	switch (pkt->l3) {
	case PW_L3_ARP:
		return pw_arp_check(ctx, pkt, ep);
	case PW_L3_IP4:
		if (!(ep->flags & PW_EP_F_HAS_IP4) ||
		    !addr_eq(pkt->src, ep->ip4))
			return -PW_DROP_SPOOFED_IP;
		return 0;
	case PW_L3_IP6:
		if (pkt->kind == PW_K_LINK)
			return pw_nd_check(ctx, pkt, ep);
		if (!(ep->flags & PW_EP_F_HAS_IP6) ||
		    !addr_eq(pkt->src, ep->ip6))
			return -PW_DROP_SPOOFED_IP;
		return 0;
	}
	return -PW_DROP_UNSUPPORTED_L3;
}

static __always_inline void pw_frag_key(const struct pw_pkt *pkt, __u8 dir,
					__u32 ep_id, struct pw_frag_key *key)
{
	addr_copy(key->src, pkt->src);
	addr_copy(key->dst, pkt->dst);
	key->id = pkt->frag_id;
	key->ep_id = ep_id;
	key->proto = pkt->frag_proto;
	key->dir = dir;
}

/*
 * A later fragment has no L4 header: it follows its first fragment's
 * verdict, and may not overlap the bytes that held the L4 header.
 */
static __always_inline int pw_frag_later(struct pw_pkt *pkt, __u8 dir,
					 const struct pw_endpoint *ep,
					 __u64 now, struct pw_res *res)
{
	struct pw_frag_key key = {};
	struct pw_frag_entry *fe;

	pw_frag_key(pkt, dir, ep->ep_id, &key);
	fe = bpf_map_lookup_elem(&pw_frag, &key);
	if (!fe || fe->expires_ns <= now)
		return -PW_DROP_FRAG_NO_FIRST;
	pkt->sport = fe->sport;
	pkt->dport = fe->dport;
	res->rule = fe->rule_id;
	if (fe->dropped)
		return -PW_DROP_FRAG_DENIED;
	if (pkt->frag_off < fe->l4_end)
		return -PW_DROP_FRAG_OVERLAP;
	return 0;
}

static __always_inline void pw_frag_first(const struct pw_pkt *pkt, __u8 dir,
					  const struct pw_endpoint *ep,
					  __u64 now, int dropped, __u32 rule)
{
	struct pw_frag_entry fe;
	struct pw_frag_key key = {};

	/* every byte, padding too: with CAP_BPF alone (no CAP_PERFMON) the
	 * verifier refuses a map write from uninitialised stack */
	__builtin_memset(&fe, 0, sizeof(fe));
	fe.expires_ns = now + pw_cfg.frag_ns;
	fe.sport = pkt->sport;
	fe.dport = pkt->dport;
	fe.l4_end = pkt->l4_end;
	fe.dropped = dropped;
	fe.rule_id = rule;

	pw_frag_key(pkt, dir, ep->ep_id, &key);
	/* On failure later fragments find nothing and drop: fail closed. */
	bpf_map_update_elem(&pw_frag, &key, &fe, BPF_ANY);
}

/*
 * An established flow whose endpoint's policy revision moved on is judged
 * again in its first direction. Returns 0 if it may go on, or
 * -PW_DROP_POLICY_REVOKED after removing it.
 */
static __always_inline int pw_ct_recheck(const struct pw_endpoint *ep,
					 const struct pw_ct_key *key,
					 struct pw_ct_entry *ct, __u32 ifindex,
					 struct pw_res *res)
{
	__u32 rule = PW_RULE_DEFAULT, peer = ct->peer_id;
	int allowed;

	if (ct->rev == ep->rev)
		return 0;
	/* A picked-up flow has no first direction to judge it by: it may
	 * stay only while the endpoint stays open both ways. */
	if (ct->flags & PW_CT_F_PICKUP)
		allowed = pol_open(ep);
	else
		allowed = pol_judge(ep, ct->origin, key->remote, key->proto,
				    ct->pol_dport, &rule, &peer);
	if (!allowed) {
		if (!(ep->flags & PW_EP_F_AUDIT)) {
			res->rule = rule;
			res->peer = peer;
			ev_flow_remove(key, ct, ifindex,
				       PW_DROP_POLICY_REVOKED);
			return -PW_DROP_POLICY_REVOKED;
		}
		res->verdict = PW_VERDICT_AUDIT;
		res->reason = PW_DROP_POLICY_REVOKED;
		res->ev = PW_EV_DROP;
	}
	ct->rev = ep->rev;
	ct->rule_id = rule;
	ct->peer_id = peer;
	return 0;
}

/* An ICMP error passes only as part of a live flow it speaks of. */
static __always_inline int pw_related(const struct pw_pkt *pkt, __u8 dir,
				      const struct pw_endpoint *ep, __u64 now,
				      __u32 ifindex, struct pw_res *res)
{
	struct pw_ct_key key = {};
	struct pw_ct_entry *ct;
	int ret;

	/* The error must be about a packet this pod sent or received. */
	if (dir == PW_DIR_INGRESS ? !addr_eq(pkt->dst, pkt->inner.src)
				  : !addr_eq(pkt->src, pkt->inner.dst))
		return -PW_DROP_ICMP_UNRELATED;
	ct_key_inner(pkt, dir, ep->ep_id, &key);
	ct = bpf_map_lookup_elem(&pw_ct, &key);
	if (!ct || ct->expires_ns <= now)
		return -PW_DROP_ICMP_UNRELATED;
	ret = pw_ct_recheck(ep, &key, ct, ifindex, res);
	if (ret < 0)
		return ret;
	res->rule = ct->rule_id;
	res->peer = ct->peer_id;
	res->is_reply = dir != ct->origin;
	return 0;
}

/* A packet of a flow conntrack knows. */
static __always_inline int
pw_flow_known(const struct pw_pkt *pkt, __u8 dir, const struct pw_endpoint *ep,
	      const struct pw_ct_key *key, struct pw_ct_entry *ct, __u64 now,
	      __u32 len, __u32 ifindex, struct pw_res *res)
{
	int rev = dir != ct->origin;
	int ret;

	res->is_reply = rev;
	ret = pw_ct_recheck(ep, key, ct, ifindex, res);
	if (ret < 0)
		return ret;
	res->rule = ct->rule_id;
	res->peer = ct->peer_id;
	ct_account(ct, rev, len);
	if (ct_advance(ct, pkt->proto, rev, pkt->tcp_flags) &&
	    !(ct->flags & PW_CT_F_ENDED)) {
		ct->flags |= PW_CT_F_ENDED;
		ev_flow_end(key, ct, ifindex, 0);
	}
	ct->expires_ns = now + ct_lifetime(ct, pkt->proto);
	return 0;
}

/* The first packet of a flow: judged by policy, then tracked if allowed. */
static __always_inline int pw_flow_new(const struct pw_pkt *pkt, __u8 dir,
				       const struct pw_endpoint *ep,
				       const struct pw_ct_key *key, __u64 now,
				       __u32 len, struct pw_ct_entry *ct,
				       struct pw_res *res)
{
	int audit = ep->flags & PW_EP_F_AUDIT;
	const __u8 *remote;
	__be16 dport;
	int pickup;

	/*
	 * Only a pure SYN or an echo request may start a flow. Anything else
	 * with no flow drops on an enforced direction. On an open one it
	 * passes, but becomes a flow only if the endpoint is open both ways:
	 * otherwise the other side could make the pod's own packets look
	 * like replies to it, and get past the pod's enforced direction.
	 */
	pickup = (pkt->proto == IPPROTO_TCP && !tcp_pure_syn(pkt->tcp_flags)) ||
		 pkt->kind == PW_K_ECHO_REPLY;
	if (pickup && pol_enforced(ep, dir)) {
		if (!audit)
			return -PW_DROP_OUT_OF_STATE;
		res->verdict = PW_VERDICT_AUDIT;
		res->reason = PW_DROP_OUT_OF_STATE;
	} else if (pickup && !pol_open(ep) && !audit) {
		res->peer = ipcache_lookup(dir == PW_DIR_EGRESS ? pkt->dst
								: pkt->src)
				    .id;
		return 0;
	}

	remote = dir == PW_DIR_EGRESS ? pkt->dst : pkt->src;
	dport = pkt->kind == PW_K_PORTS ? pkt->dport
					: bpf_htons((__u16)pkt->icmp_type << 8 |
						    pkt->icmp_code);
	if (!pol_judge(ep, dir, remote, pkt->proto, dport, &res->rule,
		       &res->peer)) {
		if (!audit)
			return -PW_DROP_POLICY_DENIED;
		if (res->verdict != PW_VERDICT_AUDIT) {
			res->verdict = PW_VERDICT_AUDIT;
			res->reason = PW_DROP_POLICY_DENIED;
		}
	}
	res->ev = res->verdict == PW_VERDICT_AUDIT ? PW_EV_DROP : PW_EV_NEW;

	__builtin_memset(ct, 0, sizeof(*ct));
	ct->created_ns = now;
	ct->pkts[PW_CT_FWD] = 1;
	ct->bytes[PW_CT_FWD] = len;
	ct->rev = ep->rev;
	ct->rule_id = res->rule;
	ct->peer_id = res->peer;
	ct->pol_dport = dport;
	ct->origin = dir;
	ct->tcp_flags[PW_CT_FWD] = pkt->tcp_flags;
	if (res->verdict == PW_VERDICT_AUDIT)
		ct->flags |= PW_CT_F_AUDIT;
	if (pickup)
		ct->flags |= PW_CT_F_PICKUP;
	if (pkt->proto == IPPROTO_TCP)
		ct->state = pickup ? PW_CT_ESTABLISHED : PW_CT_SYN_SENT;
	else
		ct->state = PW_CT_NEW;
	ct->expires_ns = now + ct_lifetime(ct, pkt->proto);
	if (bpf_map_update_elem(&pw_ct, key, ct, BPF_ANY))
		return -PW_DROP_MAP_FULL;
	return 0;
}

static __always_inline int pw_flow(const struct pw_pkt *pkt, __u8 dir,
				   const struct pw_endpoint *ep, __u64 now,
				   __u32 len, __u32 ifindex,
				   struct pw_ct_entry *scratch_ct,
				   struct pw_res *res)
{
	struct pw_ct_key key = {};
	struct pw_ct_entry *ct;

	if (pkt->proto == IPPROTO_TCP && !tcp_flags_valid(pkt->tcp_flags))
		return -PW_DROP_BAD_TCP_FLAGS;

	ct_key_build(pkt, dir, ep->ep_id, &key);
	ct = bpf_map_lookup_elem(&pw_ct, &key);
	if (ct && ct->expires_ns <= now) {
		ev_flow_remove(&key, ct, ifindex, 0);
		ct = 0;
	}
	/* A new SYN on a closed flow's tuple is a new flow (port reuse). */
	if (ct && pkt->proto == IPPROTO_TCP && tcp_pure_syn(pkt->tcp_flags) &&
	    dir == ct->origin && ct->state >= PW_CT_CLOSING) {
		bpf_map_delete_elem(&pw_ct, &key);
		ct = 0;
	}
	if (ct)
		return pw_flow_known(pkt, dir, ep, &key, ct, now, len, ifindex,
				     res);
	return pw_flow_new(pkt, dir, ep, &key, now, len, scratch_ct, res);
}

static __always_inline int pw_handle(struct pw_ctx *ctx, __u8 dir)
{
	struct pw_res res = {.verdict = PW_VERDICT_ALLOW};
	__u32 ifindex = ctx_ifindex(ctx);
	__u32 len = ctx_len(ctx);
	struct pw_scratch *scr;
	struct pw_endpoint *ep;
	struct pw_pkt *pkt;
	__u32 zero = 0;
	__u64 now;
	int ret;

	ep = bpf_map_lookup_elem(&pw_endpoints, &ifindex);
	if (!ep)
		return ctx_act_ok(ctx); /* not an endpoint of ours */
	scr = bpf_map_lookup_elem(&pw_scratch, &zero);
	if (!scr)
		return ctx_act_drop(ctx);
	pkt = &scr->pkt;
	__builtin_memset(pkt, 0, sizeof(*pkt));

	ret = parse_packet(ctx, pkt);
	if (ret < 0)
		goto drop;
	if (dir == PW_DIR_EGRESS) {
		ret = pw_antispoof(ctx, pkt, ep);
		if (ret < 0)
			goto drop;
	}
	/* ARP, NDP, MLD and IGMP keep the link working; they carry no
	 * flows, and are never judged by policy. */
	if (pkt->l3 == PW_L3_ARP || pkt->kind == PW_K_LINK)
		goto out;

	now = bpf_ktime_get_ns();
	if (pkt->frag == PW_FRAG_LATER) {
		ret = pw_frag_later(pkt, dir, ep, now, &res);
	} else {
		if (pkt->kind == PW_K_ICMP_ERR)
			ret = pw_related(pkt, dir, ep, now, ifindex, &res);
		else
			ret = pw_flow(pkt, dir, ep, now, len, ifindex, &scr->ct,
				      &res);
		if (pkt->frag == PW_FRAG_FIRST)
			pw_frag_first(pkt, dir, ep, now, ret < 0, res.rule);
	}
	if (ret < 0)
		goto drop;
out:
	cnt_add(ep->ep_id,
		res.verdict == PW_VERDICT_AUDIT ? PW_CNT_AUDIT : PW_CNT_ALLOWED,
		len);
	if (res.ev)
		ev_packet(pkt, ifindex, ep->ep_id, dir, res.ev, res.verdict,
			  res.reason, res.rule, res.peer, res.is_reply);
	return ctx_act_ok(ctx);

drop:
	res.reason = -ret;
	if (res.reason >= PW_DROP__MAX)
		res.reason = PW_DROP_BAD_L2;
	cnt_add(ep->ep_id, res.reason, len);
	ev_packet(pkt, ifindex, ep->ep_id, dir, PW_EV_DROP, PW_VERDICT_DROP,
		  res.reason, res.rule, res.peer, res.is_reply);
	return ctx_act_drop(ctx);
}

/*
 * TC ingress of the host-side veth: packets the pod sends. They are judged
 * by the pod's egress policy.
 */
SEC("tc")
int pw_from_pod(struct __sk_buff *skb)
{
	struct pw_ctx ctx = {.raw = skb, .xdp = 0};

	return pw_handle(&ctx, PW_DIR_EGRESS);
}

/*
 * XDP on the host-side veth, in place of pw_from_pod (--veth-mode xdp): the
 * same packets, judged by the same code, before the kernel makes an skb of
 * them. XDP has no egress hook: pw_to_pod stays on TC.
 */
SEC("xdp")
int pw_from_pod_xdp(struct xdp_md *md)
{
	struct pw_ctx ctx = {.raw = md, .xdp = 1};

	return pw_handle(&ctx, PW_DIR_EGRESS);
}

/*
 * TC egress of the host-side veth: packets delivered to the pod. They are
 * judged by the pod's ingress policy.
 */
SEC("tc")
int pw_to_pod(struct __sk_buff *skb)
{
	struct pw_ctx ctx = {.raw = skb, .xdp = 0};

	return pw_handle(&ctx, PW_DIR_INGRESS);
}

/*
 * XDP on the node's uplink: what comes from a deny-listed source prefix
 * (pw_prefilter) drops before the stack; everything else passes.
 */
SEC("xdp")
int pw_xdp_prefilter(struct xdp_md *ctx)
{
	return pf_handle(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
