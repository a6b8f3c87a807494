// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pktgen: hand-built frames for the BPF tests. See pktgen.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include "pktgen.h"

#define PG_IPPROTO_SCTP 132

static void put16(__u8 *at, __u16 v)
{
	at[0] = v >> 8;
	at[1] = v & 0xff;
}

static void put32(__u8 *at, __u32 v)
{
	put16(at, v >> 16);
	put16(at + 2, v & 0xffff);
}

static __u16 get16(const __u8 *at)
{
	return (__u16)at[0] << 8 | at[1];
}

static void parse_addr(int family, const char *s, void *out)
{
	if (!s || inet_pton(family, s, out) != 1) {
		fprintf(stderr, "pktgen: bad IPv%d address \"%s\"\n",
			family == AF_INET ? 4 : 6, s ? s : "(null)");
		abort();
	}
}

/* n zeroed bytes at the end of the frame, or NULL if they do not fit. */
static __u8 *append(struct pg *p, __u16 n)
{
	__u8 *at;

	if (p->overflow || p->len + n > PG_MAX) {
		p->overflow = true;
		return NULL;
	}
	at = p->buf + p->len;
	memset(at, 0, n);
	p->len += n;
	return at;
}

static void set_type(struct pg *p, __u16 type)
{
	if (p->type_slot < 0)
		return;
	put16(p->buf + p->type_slot, type);
	p->type_slot = -1;
}

void pg_ethertype(struct pg *p, __u16 type)
{
	set_type(p, type);
}

void pg_nexthdr(struct pg *p, __u8 proto)
{
	if (p->nh_slot < 0)
		return;
	p->buf[p->nh_slot] = proto;
	p->nh_slot = -1;
}

static int add_ip(struct pg *p, __u16 off, __u8 ver, bool auto_len,
		  bool auto_csum)
{
	if (p->nip == PG_LEVELS) {
		p->overflow = true;
		return -1;
	}
	p->ip[p->nip].off = off;
	p->ip[p->nip].ver = ver;
	p->ip[p->nip].auto_len = auto_len;
	p->ip[p->nip].auto_csum = auto_csum;
	p->ip[p->nip].frag = false;
	return p->nip++;
}

static void add_l4(struct pg *p, __u16 off, __u8 proto, bool auto_len)
{
	if (p->nl4 == PG_LEVELS || !p->nip) {
		p->overflow = p->nl4 == PG_LEVELS;
		return;
	}
	p->l4[p->nl4].off = off;
	p->l4[p->nl4].proto = proto;
	p->l4[p->nl4].ip = p->nip - 1;
	p->l4[p->nl4].auto_len = auto_len;
	p->nl4++;
}

void pg_init(struct pg *p)
{
	memset(p, 0, sizeof(*p));
	p->type_slot = -1;
	p->nh_slot = -1;
}

void pg_eth(struct pg *p, const __u8 src[6], const __u8 dst[6], __u16 type)
{
	__u8 *h = append(p, ETH_HLEN);

	if (!h)
		return;
	memcpy(h, dst, ETH_ALEN);
	memcpy(h + ETH_ALEN, src, ETH_ALEN);
	if (type)
		put16(h + 12, type);
	else
		p->type_slot = p->len - 2;
}

void pg_vlan(struct pg *p, __u16 tpid, __u16 vid)
{
	__u8 *h;

	set_type(p, tpid);
	h = append(p, 4);
	if (!h)
		return;
	put16(h, vid & 0x0fff);
	p->type_slot = p->len - 2;
}

void pg_ip4(struct pg *p, const struct pg_ip4 *o)
{
	__u16 off = p->len, fo;
	__u8 *h;

	set_type(p, ETH_P_IP);
	pg_nexthdr(p, IPPROTO_IPIP);
	h = append(p, 20 + o->opt_len);
	if (!h)
		return;
	h[0] = (o->version ?: 4) << 4 | (o->ihl ?: 5 + o->opt_len / 4);
	h[1] = o->tos;
	put16(h + 2, o->tot_len);
	put16(h + 4, o->id);
	fo = o->frag_off / 8;
	if (o->mf)
		fo |= 0x2000;
	if (o->df)
		fo |= 0x4000;
	put16(h + 6, fo);
	h[8] = o->ttl ?: 64;
	put16(h + 10, o->csum);
	parse_addr(AF_INET, o->src, h + 12);
	parse_addr(AF_INET, o->dst, h + 16);
	if (o->opts)
		memcpy(h + 20, o->opts, o->opt_len);
	else
		memset(h + 20, 1, o->opt_len); /* NOP */
	p->nh_slot = off + 9;
	if (o->proto)
		pg_nexthdr(p, o->proto);
	if (add_ip(p, off, 4, !o->tot_len, !o->csum) >= 0)
		p->ip[p->nip - 1].frag = o->mf || o->frag_off;
}

void pg_ip6(struct pg *p, const struct pg_ip6 *o)
{
	__u16 off = p->len;
	__u8 *h;

	set_type(p, ETH_P_IPV6);
	pg_nexthdr(p, IPPROTO_IPV6);
	h = append(p, 40);
	if (!h)
		return;
	put32(h, (__u32)(o->version ?: 6) << 28 | (o->flowlabel & 0xfffff));
	put16(h + 4, o->plen);
	h[7] = o->hop_limit ?: 64;
	parse_addr(AF_INET6, o->src, h + 8);
	parse_addr(AF_INET6, o->dst, h + 24);
	p->nh_slot = off + 6;
	add_ip(p, off, 6, !o->plen, false);
}

void pg_ip6_ext(struct pg *p, __u8 type, __u16 len, int hdrlen)
{
	__u16 off = p->len;
	__u8 *h;

	if (len < 8)
		len = 8;
	pg_nexthdr(p, type);
	h = append(p, len);
	if (!h)
		return;
	if (hdrlen != PG_AUTO)
		h[1] = hdrlen;
	else if (type == IPPROTO_AH)
		h[1] = len / 4 - 2;
	else
		h[1] = len / 8 - 1;
	if (type == IPPROTO_ROUTING)
		h[2] = 253; /* experimental type (RFC 4727), segments left 0 */
	p->nh_slot = off;
}

void pg_ip6_frag(struct pg *p, __u16 off, bool more, __u32 id)
{
	__u16 at = p->len;
	__u8 *h;

	pg_nexthdr(p, IPPROTO_FRAGMENT);
	h = append(p, 8);
	if (!h)
		return;
	put16(h + 2, (off & 0xfff8) | (more ? 1 : 0));
	put32(h + 4, id);
	p->nh_slot = at;
	if (p->nip)
		p->ip[p->nip - 1].frag = true;
}

void pg_tcp(struct pg *p, const struct pg_tcp *o)
{
	__u16 off = p->len;
	__u8 *h;

	pg_nexthdr(p, IPPROTO_TCP);
	h = append(p, 20 + o->opt_len);
	if (!h)
		return;
	put16(h, o->sport);
	put16(h + 2, o->dport);
	put32(h + 4, o->seq);
	put32(h + 8, o->ack);
	h[12] = (o->doff ?: 5 + o->opt_len / 4) << 4;
	h[13] = o->flags;
	put16(h + 14, o->win ?: 64240);
	memset(h + 20, 1, o->opt_len); /* NOP */
	add_l4(p, off, IPPROTO_TCP, false);
}

void pg_udp(struct pg *p, const struct pg_udp *o)
{
	__u16 off = p->len;
	__u8 *h;

	pg_nexthdr(p, IPPROTO_UDP);
	h = append(p, 8);
	if (!h)
		return;
	put16(h, o->sport);
	put16(h + 2, o->dport);
	put16(h + 4, o->len);
	add_l4(p, off, IPPROTO_UDP, !o->len);
}

void pg_sctp(struct pg *p, __u16 sport, __u16 dport, __u32 vtag)
{
	__u16 off = p->len;
	__u8 *h;

	pg_nexthdr(p, PG_IPPROTO_SCTP);
	h = append(p, 12);
	if (!h)
		return;
	put16(h, sport);
	put16(h + 2, dport);
	put32(h + 4, vtag);
	add_l4(p, off, PG_IPPROTO_SCTP, false);
}

void pg_sctp_init(struct pg *p, __u32 init_tag)
{
	__u8 *h = append(p, 20);

	if (!h)
		return;
	h[0] = 1; /* INIT */
	put16(h + 2, 20);
	put32(h + 4, init_tag);
	put32(h + 8, 65535);		      /* a_rwnd */
	put16(h + 12, 1);		      /* outbound streams */
	put16(h + 14, 1);		      /* inbound streams */
	put32(h + 16, init_tag ^ 0x5a5a5a5a); /* initial TSN */
}

static __u8 icmp_proto(const struct pg *p)
{
	return p->nip && p->ip[p->nip - 1].ver == 6 ? IPPROTO_ICMPV6
						    : IPPROTO_ICMP;
}

void pg_icmp(struct pg *p, __u8 type, __u8 code, __u16 id, __u16 seq)
{
	__u8 proto = icmp_proto(p);
	__u16 off = p->len;
	__u8 *h;

	pg_nexthdr(p, proto);
	h = append(p, 8);
	if (!h)
		return;
	h[0] = type;
	h[1] = code;
	put16(h + 4, id);
	put16(h + 6, seq);
	add_l4(p, off, proto, false);
}

void pg_nd(struct pg *p, __u8 type, const char *target)
{
	__u16 off = p->len, len;
	__u8 *h;

	switch (type) {
	case 134: /* RA */
		len = 16;
		break;
	case 135: /* NS */
	case 136: /* NA */
		len = 24;
		break;
	case 137: /* redirect: target and destination */
		len = 40;
		break;
	default: /* RS */
		len = 8;
		break;
	}
	pg_nexthdr(p, IPPROTO_ICMPV6);
	h = append(p, len);
	if (!h)
		return;
	h[0] = type;
	if (type == 134) {
		h[4] = 64;	    /* current hop limit */
		put16(h + 6, 1800); /* router lifetime */
	} else if (type == 136) {
		put32(h + 4, 0x60000000); /* solicited, override */
	}
	if (len >= 24)
		parse_addr(AF_INET6, target, h + 8);
	if (len == 40)
		memcpy(h + 24, h + 8, 16);
	add_l4(p, off, IPPROTO_ICMPV6, false);
}

void pg_arp(struct pg *p, __u16 op, const __u8 sha[6], const char *spa,
	    const __u8 tha[6], const char *tpa)
{
	__u8 *h;

	set_type(p, ETH_P_ARP);
	h = append(p, 28);
	if (!h)
		return;
	put16(h, 1); /* Ethernet */
	put16(h + 2, ETH_P_IP);
	h[4] = ETH_ALEN;
	h[5] = 4;
	put16(h + 6, op);
	memcpy(h + 8, sha, ETH_ALEN);
	parse_addr(AF_INET, spa, h + 14);
	memcpy(h + 18, tha, ETH_ALEN);
	parse_addr(AF_INET, tpa, h + 24);
}

void pg_bytes(struct pg *p, const void *data, __u16 n)
{
	__u8 *h = append(p, n);

	if (h)
		memcpy(h, data, n);
}

void pg_fill(struct pg *p, __u16 n, __u8 byte)
{
	__u8 *h = append(p, n);

	if (h)
		memset(h, byte, n);
}

__u32 pg_csum_add(__u32 sum, const void *data, size_t n)
{
	const __u8 *b = data;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(b + i);
	if (n & 1)
		sum += (__u32)b[n - 1] << 8;
	return sum;
}

__u16 pg_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

__u32 pg_crc32c(const void *data, size_t n)
{
	const __u8 *b = data;
	__u32 crc = ~0U;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= b[i];
		for (k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0x82f63b78U & -(crc & 1));
	}
	return ~crc;
}

/* Where the datagram of IP level @i ends, by its own length field. */
static __u16 ip_end(const struct pg *p, int i)
{
	const __u8 *h = p->buf + p->ip[i].off;
	__u32 end;

	if (p->ip[i].ver == 4)
		end = p->ip[i].off + get16(h + 2);
	else
		end = p->ip[i].off + 40 + get16(h + 4);
	return end < p->len ? end : p->len;
}

static void l4_csum(struct pg *p)
{
	const __u8 *ip = p->buf + p->ip[p->l4[0].ip].off;
	__u16 off = p->l4[0].off, end = ip_end(p, p->l4[0].ip);
	__u8 proto = p->l4[0].proto, *h = p->buf + off;
	bool v6 = p->ip[p->l4[0].ip].ver == 6;
	__u32 sum = 0, n;
	int at;

	if (end <= off)
		return;
	n = end - off;
	if (proto == PG_IPPROTO_SCTP) {
		__u32 crc;

		if (n < 12)
			return;
		memset(h + 8, 0, 4);
		crc = pg_crc32c(h, n);
		/* stored least significant byte first, as Linux does */
		h[8] = crc & 0xff;
		h[9] = crc >> 8 & 0xff;
		h[10] = crc >> 16 & 0xff;
		h[11] = crc >> 24;
		return;
	}
	switch (proto) {
	case IPPROTO_TCP:
		at = 16;
		break;
	case IPPROTO_UDP:
		at = 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		at = 2;
		break;
	default:
		return;
	}
	if ((__u32)at + 2 > n)
		return;
	put16(h + at, 0);
	if (proto != IPPROTO_ICMP) {
		/* pseudo-header */
		sum = pg_csum_add(sum, ip + (v6 ? 8 : 12), v6 ? 32 : 8);
		sum += proto + (n & 0xffff) + (n >> 16);
	}
	sum = pg_csum_add(sum, h, n);
	sum = (__u16)~pg_csum_fold(sum);
	if (proto == IPPROTO_UDP && !sum)
		sum = 0xffff;
	put16(h + at, sum);
}

__u16 pg_finish(struct pg *p)
{
	int i;

	for (i = 0; i < p->nip; i++) {
		__u8 *h = p->buf + p->ip[i].off;

		if (!p->ip[i].auto_len)
			continue;
		if (p->ip[i].ver == 4)
			put16(h + 2, p->len - p->ip[i].off);
		else
			put16(h + 4, p->len - p->ip[i].off - 40);
	}
	for (i = 0; i < p->nl4; i++) {
		__u16 end = ip_end(p, p->l4[i].ip);

		if (p->l4[i].auto_len && end > p->l4[i].off)
			put16(p->buf + p->l4[i].off + 4, end - p->l4[i].off);
	}
	/* Inner headers first: an ICMP error's checksum covers them. */
	for (i = p->nip - 1; i >= 0; i--) {
		__u8 *h = p->buf + p->ip[i].off;
		__u16 hl = (h[0] & 0xf) * 4;

		if (p->ip[i].ver != 4 || !p->ip[i].auto_csum)
			continue;
		if (hl < 20 || p->ip[i].off + hl > p->len)
			hl = 20;
		put16(h + 10, 0);
		put16(h + 10, ~pg_csum_fold(pg_csum_add(0, h, hl)));
	}
	if (p->nl4 && !p->ip[p->l4[0].ip].frag)
		l4_csum(p);
	p->finished = true;
	return p->len;
}

void pg_pad(struct pg *p, __u16 min)
{
	if (p->len < min)
		append(p, min - p->len);
}
