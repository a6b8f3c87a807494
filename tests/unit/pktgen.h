/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pktgen: a small builder of hand-made frames for BPF_PROG_TEST_RUN.
 *
 * A frame is built by pushing headers in wire order; each push appends its
 * header and leaves the fields that depend on what follows to pg_finish():
 *
 *	struct pg p;
 *
 *	pg_init(&p);
 *	pg_eth(&p, smac, dmac, 0);
 *	pg_vlan(&p, ETH_P_8021Q, 100);
 *	pg_ip4(&p, &(struct pg_ip4){.src = "10.0.0.1", .dst = "10.0.0.2"});
 *	pg_tcp(&p, &(struct pg_tcp){.sport = 1234, .dport = 80,
 *				    .flags = PG_SYN});
 *	pg_finish(&p);
 *
 * Automatic fields: the ethertype (or VLAN inner type) before an IP or ARP
 * header, every IPv4 protocol and IPv6 next-header byte (each header writes
 * its number into the one before it), IPv4 IHL, total length and header
 * checksum, IPv6 payload length, UDP length, and the checksum of the first
 * L4 header (TCP, UDP, SCTP, ICMP, ICMPv6) of an unfragmented packet. Every
 * one of them can be overridden to build a malformed packet: a non-zero
 * value in the option struct is written as is, and pg_nexthdr() writes a
 * raw protocol number where the next header's would go (a later fragment,
 * which has no L4 header to push, needs one of these). Zero cannot be
 * forced this way into IHL or TCP data offset: 1..4 are as bad.
 *
 * Headers pushed after an ICMP error's 8 bytes form the embedded packet;
 * they get their own lengths and header checksums but no L4 checksum.
 * Overflowing the buffer sets p->overflow and stops appending.
 */
#ifndef PW_PKTGEN_H
#define PW_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PG_MAX	  2048
#define PG_AUTO	  (-1)
#define PG_LEVELS 4

/* TCP flags, as in the header's 13th byte */
#define PG_FIN 0x01
#define PG_SYN 0x02
#define PG_RST 0x04
#define PG_PSH 0x08
#define PG_ACK 0x10
#define PG_URG 0x20
#define PG_ECE 0x40
#define PG_CWR 0x80

struct pg {
	__u8 buf[PG_MAX];
	__u16 len;
	bool overflow;
	bool finished;
	int type_slot; /* ethertype still to be written, or -1 */
	int nh_slot;   /* protocol/next-header byte still to be written */
	int nip;
	struct {
		__u16 off;
		__u8 ver;
		bool auto_len;
		bool auto_csum;
		bool frag; /* carries an IPv4 or IPv6 fragment */
	} ip[PG_LEVELS];
	int nl4;
	struct {
		__u16 off;
		__u8 proto;
		__u8 ip; /* index into ip[] */
		bool auto_len;
	} l4[PG_LEVELS];
};

struct pg_ip4 {
	const char *src, *dst; /* dotted quads */
	__u8 version;	       /* 0: 4 */
	__u8 ihl;	       /* 0: 5 + opt_len / 4 */
	__u8 tos;
	__u8 proto;	  /* 0: written by the next header */
	__u8 ttl;	  /* 0: 64 */
	__u16 tot_len;	  /* 0: to the end of the packet */
	__u16 id;	  /* host order */
	__u16 frag_off;	  /* in bytes, a multiple of 8 */
	bool mf, df;	  /* more fragments, don't fragment */
	__u16 csum;	  /* 0: computed */
	const void *opts; /* IP options, opt_len bytes (a multiple of 4) */
	__u8 opt_len;
};

struct pg_ip6 {
	const char *src, *dst;
	__u8 version;	/* 0: 6 */
	__u8 hop_limit; /* 0: 64 */
	__u16 plen;	/* 0: to the end of the packet */
	__u32 flowlabel;
};

struct pg_tcp {
	__u16 sport, dport;
	__u8 flags; /* PG_SYN | ... */
	__u32 seq, ack;
	__u16 win;    /* 0: 64240 */
	__u8 doff;    /* 0: 5 + opt_len / 4 */
	__u8 opt_len; /* options (NOPs then EOL), a multiple of 4 */
};

struct pg_udp {
	__u16 sport, dport;
	__u16 len; /* 0: to the end of the IP datagram */
};

void pg_init(struct pg *p);
/* type 0: written by the next header (VLAN tag, IPv4, IPv6, ARP) */
void pg_eth(struct pg *p, const __u8 src[6], const __u8 dst[6], __u16 type);
/* An 802.1Q (ETH_P_8021Q) or 802.1ad (ETH_P_8021AD) tag. */
void pg_vlan(struct pg *p, __u16 tpid, __u16 vid);
/* Writes a raw ethertype into the pending ethertype (or inner type). */
void pg_ethertype(struct pg *p, __u16 type);
void pg_ip4(struct pg *p, const struct pg_ip4 *o);
void pg_ip6(struct pg *p, const struct pg_ip6 *o);
/*
 * An IPv6 extension header: hop-by-hop (0), routing (43), destination
 * options (60) or AH (51), @len bytes in all (a multiple of 8, at least 8),
 * options padded with Pad1. @hdrlen PG_AUTO writes the true length field;
 * any other value is written as is (a header that lies about its length).
 */
void pg_ip6_ext(struct pg *p, __u8 type, __u16 len, int hdrlen);
/* IPv6 fragment header: @off in bytes (a multiple of 8), M flag, id. */
void pg_ip6_frag(struct pg *p, __u16 off, bool more, __u32 id);
/* Writes a raw protocol number into the pending next-header byte. */
void pg_nexthdr(struct pg *p, __u8 proto);
void pg_tcp(struct pg *p, const struct pg_tcp *o);
void pg_udp(struct pg *p, const struct pg_udp *o);
/* SCTP common header; pg_sctp_init() adds an INIT chunk after it. */
void pg_sctp(struct pg *p, __u16 sport, __u16 dport, __u32 vtag);
void pg_sctp_init(struct pg *p, __u32 init_tag);
/*
 * ICMP or ICMPv6 (after the last IP header pushed): type, code, and the
 * 4 bytes after the checksum as identifier and sequence number. An error's
 * embedded packet is pushed after it.
 */
void pg_icmp(struct pg *p, __u8 type, __u8 code, __u16 id, __u16 seq);
/*
 * ICMPv6 neighbour discovery: RS (133), RA (134), NS (135), NA (136) or
 * redirect (137). @target is the target address of NS, NA and redirect.
 */
void pg_nd(struct pg *p, __u8 type, const char *target);
/* ARP for IPv4 over Ethernet. */
void pg_arp(struct pg *p, __u16 op, const __u8 sha[6], const char *spa,
	    const __u8 tha[6], const char *tpa);
void pg_bytes(struct pg *p, const void *data, __u16 n);
void pg_fill(struct pg *p, __u16 n, __u8 byte);
/* Fills in the automatic fields; returns the frame length. */
__u16 pg_finish(struct pg *p);
/* After pg_finish(): link-layer padding to at least @min bytes. */
void pg_pad(struct pg *p, __u16 min);

/* The Internet checksum of @n bytes, folded, not inverted, from @sum. */
__u32 pg_csum_add(__u32 sum, const void *data, size_t n);
__u16 pg_csum_fold(__u32 sum);
/* CRC32c as SCTP uses it. */
__u32 pg_crc32c(const void *data, size_t n);

#endif /* PW_PKTGEN_H */
