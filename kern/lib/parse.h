/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing. Every header is copied out with ctx_load() or ctx_read(),
 * so a read past the packet fails instead of returning stale bytes. Hostile
 * input from a pod is the normal case here: each parser either fills struct
 * pw_pkt with facts that the policy can trust, or returns a negative PW_DROP_*
 * reason. Nothing is ever judged by bytes that are not the header they are
 * taken for.
 */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include "../podwall_abi.h"
#include "consts.h"
#include "ctx.h"

enum pw_l3 {
	PW_L3_IP4 = 1,
	PW_L3_IP6 = 2,
	PW_L3_ARP = 3,
};

enum pw_frag_kind {
	PW_FRAG_NONE = 0,
	PW_FRAG_FIRST = 1, /* offset 0, more fragments follow */
	PW_FRAG_LATER = 2, /* offset > 0: carries no L4 header */
};

/* What an L4 header means to conntrack. */
enum pw_kind {
	PW_K_PORTS = 0,	   /* TCP, UDP, SCTP, or no ports at all */
	PW_K_ECHO_REQ = 1, /* ICMP(v6) echo request */
	PW_K_ECHO_REPLY = 2,
	PW_K_ICMP_ERR = 3, /* carries an embedded header */
	PW_K_ICMP_OTHER = 4,
	PW_K_LINK = 5, /* link control: IPv6 ND and MLD, IGMP to 224.0.0.0/24 */
};

#define PW_TCP_FIN 0x01
#define PW_TCP_SYN 0x02
#define PW_TCP_RST 0x04
#define PW_TCP_PSH 0x08
#define PW_TCP_ACK 0x10
#define PW_TCP_URG 0x20

#define PW_IPPROTO_SCTP 132

struct pw_inner {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport; /* ICMP echo: identifier */
	__be16 dport;
	__u8 proto;
	__u8 kind;
	__u8 pad[2];
};

struct pw_pkt {
	__u8 src[16];
	__u8 dst[16];
	__u8 smac[6];
	__u8 l3;      /* enum pw_l3 */
	__u8 proto;   /* L4 protocol after any extension headers */
	__be16 sport; /* ICMP echo: identifier in both */
	__be16 dport;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 kind;	 /* enum pw_kind */
	__u8 frag;	 /* enum pw_frag_kind */
	__u8 frag_proto; /* IPv4 protocol or the fragment header's next header:
			  * what the first and later fragments share */
	__u16 frag_off;	 /* later fragment: byte offset in the datagram */
	__u16 l4_end;	 /* first fragment: L4 header end, same origin */
	__u32 frag_id;
	__u32 l3_off;
	__u32 l4_off;
	__u32 end; /* end of the IP datagram; link-layer padding is past it */
	struct pw_inner inner;
};

struct pw_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct pw_ip6_opt {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct pw_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

static __always_inline void addr_set4(__u8 *dst, __be32 a)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0xffff);
	w[3] = a;
}

static __always_inline void addr_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 16);
}

static __always_inline int addr_eq(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/*
 * Ethernet and up to PW_VLAN_MAX 802.1Q/802.1ad tags. Tagged frames are not
 * waved through as "not IP": the packet inside the tags is judged.
 * Returns the inner ethertype (network order) in *proto, or a drop reason.
 */
static __always_inline int parse_eth(struct pw_ctx *ctx, struct pw_pkt *pkt,
				     __be16 *proto)
{
	struct pw_vlan_hdr vh;
	struct ethhdr eth;
	__u32 off = sizeof(eth);
	int tags = ctx_vlan_offloaded(ctx) ? 1 : 0;
	int i;

	if (ctx_read(ctx, 0, &eth, sizeof(eth)))
		return -PW_DROP_BAD_L2;
	__builtin_memcpy(pkt->smac, eth.h_source, ETH_ALEN);
	*proto = eth.h_proto;

	for (i = 0; i <= PW_VLAN_MAX; i++) {
		if (*proto != bpf_htons(ETH_P_8021Q) &&
		    *proto != bpf_htons(ETH_P_8021AD))
			break;
		if (++tags > PW_VLAN_MAX)
			return -PW_DROP_BAD_L2;
		if (ctx_load(ctx, off, &vh, sizeof(vh)))
			return -PW_DROP_BAD_L2;
		*proto = vh.proto;
		off += sizeof(vh);
	}
	if (*proto == bpf_htons(ETH_P_8021Q) ||
	    *proto == bpf_htons(ETH_P_8021AD))
		return -PW_DROP_BAD_L2;
	pkt->l3_off = off;
	return 0;
}

static __always_inline int ip6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH ||
	       nh == IPPROTO_FRAGMENT;
}

/* ::ffff:0:0/96 is how podwall stores IPv4; on the wire in an IPv6 header
 * it is meaningless (RFC 4291 2.5.5.2) and would borrow an IPv4 peer's
 * identity and conntrack entries. */
static __always_inline int ip6_v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

static __always_inline int icmp4_is_error(__u8 type)
{
	/* unreachable, time exceeded, parameter problem */
	return type == 3 || type == 11 || type == 12;
}

static __always_inline int icmp6_is_error(__u8 type)
{
	return type >= 1 && type <= 4;
}

static __always_inline int icmp6_is_nd(__u8 type)
{
	/* MLD 130-132, RS 133, RA 134, NS 135, NA 136, redirect 137, MLDv2 */
	return (type >= 130 && type <= 137) || type == 143;
}

/*
 * The header embedded in an ICMP error: source and destination of the
 * offending packet and its first 8 bytes of L4 header, as RFC 792 and
 * RFC 4443 guarantee. IPv6 extension headers inside an error are not
 * walked: such an error is unrelated to any flow and is dropped.
 */
static __always_inline int parse_icmp_inner(struct pw_ctx *ctx,
					    struct pw_pkt *pkt, __u32 off)
{
	struct pw_inner *in = &pkt->inner;
	__u8 l4[8];

	if (pkt->l3 == PW_L3_IP4) {
		struct iphdr ip;

		if (ctx_load(ctx, off, &ip, sizeof(ip)))
			return -PW_DROP_BAD_L4;
		if (ip.version != 4 || ip.ihl < 5)
			return -PW_DROP_BAD_L4;
		addr_set4(in->src, ip.saddr);
		addr_set4(in->dst, ip.daddr);
		in->proto = ip.protocol;
		off += ip.ihl * 4;
	} else {
		struct ipv6hdr ip6;

		if (ctx_load(ctx, off, &ip6, sizeof(ip6)))
			return -PW_DROP_BAD_L4;
		addr_copy(in->src, ip6.saddr.in6_u.u6_addr8);
		addr_copy(in->dst, ip6.daddr.in6_u.u6_addr8);
		if (ip6_v4_mapped(in->src) || ip6_v4_mapped(in->dst))
			return -PW_DROP_ICMP_UNRELATED;
		in->proto = ip6.nexthdr;
		off += sizeof(ip6);
	}
	if (ctx_load(ctx, off, l4, sizeof(l4)))
		return -PW_DROP_BAD_L4;

	switch (in->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case PW_IPPROTO_SCTP:
		__builtin_memcpy(&in->sport, &l4[0], 2);
		__builtin_memcpy(&in->dport, &l4[2], 2);
		in->kind = PW_K_PORTS;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Only errors about echo requests match a flow. */
		if (l4[0] != (in->proto == IPPROTO_ICMP ? 8 : 128))
			return -PW_DROP_ICMP_UNRELATED;
		__builtin_memcpy(&in->sport, &l4[4], 2);
		in->dport = in->sport;
		in->kind = PW_K_ECHO_REQ;
		return 0;
	}
	return -PW_DROP_ICMP_UNRELATED;
}

/* A truncated L4 header in a first fragment is the tiny-fragment attack. */
static __always_inline int l4_short(const struct pw_pkt *pkt)
{
	return pkt->frag == PW_FRAG_FIRST ? -PW_DROP_FRAG_TOO_SMALL
					  : -PW_DROP_BAD_L4;
}

/*
 * L4 header at pkt->l4_off. frag_start is where the fragmentable part of
 * the datagram begins, so that l4_end can be compared with the offsets of
 * later fragments.
 */
static __always_inline int parse_l4(struct pw_ctx *ctx, struct pw_pkt *pkt,
				    __u32 frag_start)
{
	__u32 off = pkt->l4_off, hl = 0;
	__u8 h[20];

	switch (pkt->proto) {
	case IPPROTO_TCP: {
		__u8 doff;

		if (off + 20 > pkt->end || ctx_read(ctx, off, h, 20))
			return l4_short(pkt);
		doff = h[12] >> 4;
		if (doff < 5)
			return -PW_DROP_BAD_L4;
		hl = doff * 4;
		if (off + hl > pkt->end)
			return l4_short(pkt);
		__builtin_memcpy(&pkt->sport, &h[0], 2);
		__builtin_memcpy(&pkt->dport, &h[2], 2);
		pkt->tcp_flags = h[13] & 0x3f;
		break;
	}
	case IPPROTO_UDP: {
		__u16 ulen;

		hl = 8;
		if (off + hl > pkt->end || ctx_read(ctx, off, h, 8))
			return l4_short(pkt);
		__builtin_memcpy(&pkt->sport, &h[0], 2);
		__builtin_memcpy(&pkt->dport, &h[2], 2);
		ulen = (__u16)h[4] << 8 | h[5];
		/* A fragment's UDP length covers the whole datagram. */
		if (pkt->frag == PW_FRAG_NONE &&
		    (ulen < 8 || ulen > pkt->end - off))
			return -PW_DROP_BAD_L4;
		break;
	}
	case PW_IPPROTO_SCTP:
		/* common header: ports, verification tag, checksum */
		hl = 12;
		if (off + hl > pkt->end || ctx_load(ctx, off, h, 12))
			return l4_short(pkt);
		__builtin_memcpy(&pkt->sport, &h[0], 2);
		__builtin_memcpy(&pkt->dport, &h[2], 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		int v6 = pkt->proto == IPPROTO_ICMPV6;
		__u8 t;

		/* ICMP in the wrong family is a protocol number, no more. */
		if (v6 != (pkt->l3 == PW_L3_IP6))
			break;
		hl = 8;
		if (off + hl > pkt->end || ctx_load(ctx, off, h, 8))
			return l4_short(pkt);
		t = h[0];
		pkt->icmp_type = t;
		pkt->icmp_code = h[1];
		if (t == (v6 ? 128 : 8) || t == (v6 ? 129 : 0)) {
			pkt->kind = (t == 8 || t == 128) ? PW_K_ECHO_REQ
							 : PW_K_ECHO_REPLY;
			__builtin_memcpy(&pkt->sport, &h[4], 2);
			pkt->dport = pkt->sport;
		} else if (v6 ? icmp6_is_error(t) : icmp4_is_error(t)) {
			/* An error inside a fragment cannot be matched. */
			if (pkt->frag != PW_FRAG_NONE)
				return -PW_DROP_ICMP_UNRELATED;
			pkt->kind = PW_K_ICMP_ERR;
			return parse_icmp_inner(ctx, pkt, off + 8);
		} else if (v6 && icmp6_is_nd(t)) {
			pkt->kind = PW_K_LINK;
		} else {
			pkt->kind = PW_K_ICMP_OTHER;
		}
		break;
	}
	case IPPROTO_IGMP:
		/* membership reports and queries, on the local segment only */
		if (pkt->l3 == PW_L3_IP4 && pkt->dst[12] == 224 &&
		    pkt->dst[13] == 0 && pkt->dst[14] == 0)
			pkt->kind = PW_K_LINK;
		break;
	default:
		/* No ports: judged by protocol number alone. */
		break;
	}
	if (pkt->frag == PW_FRAG_FIRST)
		pkt->l4_end = off + hl - frag_start;
	return 0;
}

static __always_inline int parse_ip4(struct pw_ctx *ctx, struct pw_pkt *pkt)
{
	__u32 off = pkt->l3_off;
	__u16 tot, fo;
	struct iphdr ip;

	if (ctx_read(ctx, off, &ip, sizeof(ip)))
		return -PW_DROP_BAD_IP4;
	/* before the checks, so that a malformed packet's drop is logged
	 * with the addresses it carries */
	addr_set4(pkt->src, ip.saddr);
	addr_set4(pkt->dst, ip.daddr);
	if (ip.version != 4 || ip.ihl < 5)
		return -PW_DROP_BAD_IP4;
	tot = bpf_ntohs(ip.tot_len);
	/* Options are honoured: L4 starts after IHL words, not after 20. */
	if (tot < ip.ihl * 4 || off + tot > ctx_len(ctx))
		return -PW_DROP_BAD_IP4;

	pkt->l3 = PW_L3_IP4;
	pkt->end = off + tot;
	pkt->l4_off = off + ip.ihl * 4;
	pkt->proto = ip.protocol;

	fo = bpf_ntohs(ip.frag_off);
	if (fo & 0x1fff) {
		pkt->frag = PW_FRAG_LATER;
		pkt->frag_off = (fo & 0x1fff) * 8;
		pkt->frag_id = bpf_ntohs(ip.id);
		pkt->frag_proto = ip.protocol;
		return 0;
	}
	if (fo & 0x2000) {
		pkt->frag = PW_FRAG_FIRST;
		pkt->frag_id = bpf_ntohs(ip.id);
		pkt->frag_proto = ip.protocol;
	}
	return parse_l4(ctx, pkt, pkt->l4_off);
}

/*
 * IPv6 and its extension-header chain, walked to PW_IP6_EXT_MAX headers and
 * failing closed past that. A first fragment must hold the whole chain and
 * the L4 header (RFC 7112); a later one is judged by its first fragment.
 */
static __always_inline int parse_ip6(struct pw_ctx *ctx, struct pw_pkt *pkt)
{
	__u32 off = pkt->l3_off, frag_start = 0;
	struct ipv6hdr ip6;
	__u16 plen;
	__u8 nh;
	int i;

	if (ctx_load(ctx, off, &ip6, sizeof(ip6)))
		return -PW_DROP_BAD_IP6;
	if (ip6.version != 6)
		return -PW_DROP_BAD_IP6;
	plen = bpf_ntohs(ip6.payload_len);
	/* A zero length means a jumbogram, which no veth carries. */
	if (plen == 0 || off + sizeof(ip6) + plen > ctx_len(ctx))
		return -PW_DROP_BAD_IP6;

	pkt->l3 = PW_L3_IP6;
	pkt->end = off + sizeof(ip6) + plen;
	addr_copy(pkt->src, ip6.saddr.in6_u.u6_addr8);
	addr_copy(pkt->dst, ip6.daddr.in6_u.u6_addr8);
	if (ip6_v4_mapped(pkt->src) || ip6_v4_mapped(pkt->dst))
		return -PW_DROP_BAD_IP6;
	nh = ip6.nexthdr;
	off += sizeof(ip6);

	/* Pass i looks at the header after i extension headers: up to
	 * PW_IP6_EXT_MAX of them may come before the L4 header. */
	for (i = 0; i <= PW_IP6_EXT_MAX; i++) {
		struct pw_ip6_frag fh;
		struct pw_ip6_opt opt;
		__u16 fo;

		if (!ip6_is_ext(nh)) {
			pkt->proto = nh;
			pkt->l4_off = off;
			return parse_l4(ctx, pkt, frag_start);
		}
		if (i == PW_IP6_EXT_MAX)
			break;
		switch (nh) {
		case IPPROTO_HOPOPTS:
			/* RFC 8200: only straight after the fixed header */
			if (i != 0)
				return -PW_DROP_BAD_IP6;
			/* fallthrough */
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (ctx_load(ctx, off, &opt, sizeof(opt)))
				goto truncated;
			nh = opt.nexthdr;
			off += (opt.hdrlen + 1) * 8;
			if (off > pkt->end)
				goto truncated;
			break;
		case IPPROTO_AH:
			if (ctx_load(ctx, off, &opt, sizeof(opt)))
				goto truncated;
			nh = opt.nexthdr;
			off += (opt.hdrlen + 2) * 4;
			if (off > pkt->end)
				goto truncated;
			break;
		default: /* IPPROTO_FRAGMENT */
			if (pkt->frag != PW_FRAG_NONE || frag_start)
				return -PW_DROP_BAD_IP6;
			if (ctx_load(ctx, off, &fh, sizeof(fh)))
				goto truncated;
			off += sizeof(fh);
			fo = bpf_ntohs(fh.frag_off);
			nh = fh.nexthdr;
			frag_start = off;
			pkt->frag_proto = nh;
			if (fo & 0xfff8) {
				pkt->frag = PW_FRAG_LATER;
				pkt->frag_off = fo & 0xfff8;
				pkt->frag_id = bpf_ntohl(fh.id);
				pkt->proto = nh;
				return 0;
			}
			if (fo & 1) {
				pkt->frag = PW_FRAG_FIRST;
				pkt->frag_id = bpf_ntohl(fh.id);
			}
			/* offset 0 and no M flag: an atomic fragment, which is
			 * a whole packet (RFC 6946) */
			break;
		}
	}
	return -PW_DROP_EXTHDR_CHAIN;

truncated:
	return pkt->frag == PW_FRAG_FIRST ? -PW_DROP_FRAG_TOO_SMALL
					  : -PW_DROP_BAD_IP6;
}

/* Returns 0 with pkt filled in, or a negative PW_DROP_* reason. */
static __always_inline int parse_packet(struct pw_ctx *ctx, struct pw_pkt *pkt)
{
	__be16 proto;
	int ret;

	ret = parse_eth(ctx, pkt, &proto);
	if (ret < 0)
		return ret;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ip4(ctx, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ip6(ctx, pkt);
	if (proto == bpf_htons(ETH_P_ARP)) {
		pkt->l3 = PW_L3_ARP;
		return 0;
	}
	return -PW_DROP_UNSUPPORTED_L3;
}

#endif /* PW_PARSE_H */
