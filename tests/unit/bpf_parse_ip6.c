// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv6 parsing: the extension header chain and its bound, misplaced and
 * lying headers, fragments (first, later, atomic, RFC 7112), and next
 * headers that are no known L4 protocol.
 */
#include <linux/if_ether.h>
#include "bpf_fixture.h"

#define PEER "fd01::5"

/* A: egress enforced, TCP 80 and UDP 53 allowed to anyone. */
static int setup(void)
{
	int err = fx_init();

	err = err ?: fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1);
	err = err ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 80);
	err = err ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 53);
	return err;
}

static void ip6_frame(struct pg *p)
{
	pg_init(p);
	pg_eth(p, A->mac, fx_host_mac, 0);
	pg_ip6(p, &(struct pg_ip6){.src = A->ip6, .dst = PEER});
}

static void syn(struct pg *p, __u16 sport, __u16 dport)
{
	pg_tcp(p, &(struct pg_tcp){.sport = sport,
				   .dport = dport,
				   .flags = PG_SYN,
				   .seq = 1});
}

PW_TEST(ip6_ext_chain_before_tcp)
{
	struct fx_flow f = FX_FLOW(A, PEER, 40001, 80);
	struct pw_ct_entry ct;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	pg_ip6_ext(&p, IPPROTO_ROUTING, 24, PG_AUTO);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 16, PG_AUTO);
	syn(&p, 40000, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "port 9999");

	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	pg_ip6_ext(&p, IPPROTO_ROUTING, 24, PG_AUTO);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 16, PG_AUTO);
	syn(&p, 40001, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "port 80");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "a TCP flow");

	/* AH is walked too, with its own length unit */
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_AH, 24, PG_AUTO);
	syn(&p, 40002, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "AH, port 80");
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_AH, 24, PG_AUTO);
	syn(&p, 40002, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "AH, port 9999");
	return true;
}

/* The walk is bounded at 8 extension headers, failing closed past it. */
PW_TEST(ip6_ext_chain_bound)
{
	struct pg p;
	int i;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	for (i = 1; i < 8; i++)
		pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "8 headers");

	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	for (i = 1; i < 9; i++)
		pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	syn(&p, 40001, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_EXTHDR_CHAIN, "9 headers");

	ip6_frame(&p);
	for (i = 0; i < 40; i++)
		pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	syn(&p, 40002, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_EXTHDR_CHAIN, "40 headers");
	return true;
}

PW_TEST(ip6_hop_by_hop_not_first)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "after dest opts");

	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "twice");

	ip6_frame(&p);
	pg_ip6_frag(&p, 0, false, 7);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, PG_AUTO);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "after a fragment hdr");
	return true;
}

PW_TEST(ip6_ext_header_past_end)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	/* says 88 bytes; 8 are there, then a TCP header */
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, 10);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "dest opts");

	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_HOPOPTS, 8, 255);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "hop-by-hop");

	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_AH, 16, 20);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "AH");

	/* a chain that ends in the middle of an extension header */
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	pg_nexthdr(&p, IPPROTO_ROUTING);
	pg_fill(&p, 1, 6);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "1 byte of routing");
	return true;
}

PW_TEST(ip6_bad_fixed_header)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	syn(&p, 40000, 80);
	pg_finish(&p);
	p.buf[ETH_HLEN + 5] += 1; /* payload length one past the end */
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "length past end");

	ip6_frame(&p);
	syn(&p, 40000, 80);
	pg_finish(&p);
	p.buf[ETH_HLEN + 4] = p.buf[ETH_HLEN + 5] = 0; /* jumbogram */
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "payload length 0");

	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip6(&p, &(struct pg_ip6){.src = A->ip6, .dst = PEER, .version = 4});
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "version 4 in 0x86dd");

	/* test runs refuse a short untagged 0x86dd frame: use a tag */
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_vlan(&p, 0x8100, 10);
	pg_ethertype(&p, 0x86dd);
	pg_fill(&p, 1, 0x60);
	pg_fill(&p, 30, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "31-byte header");
	return true;
}

/* Offset 0 and no M flag: a whole packet in a fragment header. */
PW_TEST(ip6_atomic_fragment)
{
	struct fx_flow f = FX_FLOW(A, PEER, 40000, 80);
	struct pw_ct_entry ct;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_frag(&p, 0, false, 0xa1);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "port 80");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "a TCP flow");

	ip6_frame(&p);
	pg_ip6_frag(&p, 0, false, 0xa2);
	syn(&p, 40000, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "port 9999");
	ASSERT_EQ(fx_frag_count(), 0, "no fragment state");

	/* a later fragment of the same id has no first one */
	ip6_frame(&p);
	pg_ip6_frag(&p, 24, false, 0xa1);
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_fill(&p, 8, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "not a first");
	return true;
}

PW_TEST(ip6_frag_first_then_later)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xb1);
	syn(&p, 40000, 80);
	pg_fill(&p, 12, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "first");
	ASSERT_EQ(fx_frag_count(), 1, "recorded");

	ip6_frame(&p);
	pg_ip6_frag(&p, 8, false, 0xb1);
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_bytes(&p, (__u8[]){0x50, PG_SYN | PG_FIN, 0, 0, 0, 0, 0, 0}, 8);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_OVERLAP, "offset 8");

	ip6_frame(&p);
	pg_ip6_frag(&p, 32, true, 0xb1);
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_fill(&p, 16, 0xbb);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "middle");
	ip6_frame(&p);
	pg_ip6_frag(&p, 48, false, 0xb1);
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_fill(&p, 8, 0xcc);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "last");

	ip6_frame(&p);
	pg_ip6_frag(&p, 24, false, 0xb2);
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_fill(&p, 8, 0xcc);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "other id");
	return true;
}

PW_TEST(ip6_frag_later_without_first)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	/* what looks like a SYN to port 80 */
	ip6_frame(&p);
	pg_ip6_frag(&p, 24, false, 0xc1);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "no first");
	ASSERT_EQ(fx_ct_count(), 0, "no flow");
	return true;
}

PW_TEST(ip6_frag_denied_first_then_later)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xd1);
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 54, .len = 40});
	pg_fill(&p, 16, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "first");

	ip6_frame(&p);
	pg_ip6_frag(&p, 24, false, 0xd1);
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53});
	pg_fill(&p, 8, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_DENIED, "later");
	return true;
}

/*
 * Extension headers after the fragment header belong to the fragmentable
 * part: the TCP header then ends 28 bytes into it, not 20.
 */
PW_TEST(ip6_frag_header_end_counts_later_headers)
{
	static const struct {
		__u16 off;
		int want;
	} later[] = {
		{8, PW_DROP_FRAG_OVERLAP},
		{24, PW_DROP_FRAG_OVERLAP},
		{32, FX_PASS},
	};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xe1);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	syn(&p, 40000, 80);
	pg_fill(&p, 4, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "first");
	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		ip6_frame(&p);
		pg_ip6_frag(&p, later[i].off, true, 0xe1);
		pg_nexthdr(&p, IPPROTO_DSTOPTS);
		pg_fill(&p, 8, 0);
		ASSERT_EQ(fx_run(&p, EG, A), later[i].want, "later");
	}
	return true;
}

/* RFC 7112: the first fragment holds the whole chain and L4 header. */
PW_TEST(ip6_frag_first_incomplete_chain)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xf1);
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 80, 0, 0, 0, 1}, 8);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_TOO_SMALL, "8 bytes of TCP");

	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xf2);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, 2); /* 24 bytes, 8 there */
	pg_nexthdr(&p, IPPROTO_TCP);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_TOO_SMALL, "chain cut");

	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xf3);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	pg_nexthdr(&p, IPPROTO_TCP);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_TOO_SMALL, "no L4 header");

	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0xf4);
	pg_nexthdr(&p, IPPROTO_UDP);
	pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 53}, 4);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_TOO_SMALL, "4 bytes of UDP");
	ASSERT_EQ(fx_frag_count(), 0, "nothing recorded");
	return true;
}

PW_TEST(ip6_two_fragment_headers)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip6_frame(&p);
	pg_ip6_frag(&p, 0, true, 0x11);
	pg_ip6_frag(&p, 0, false, 0x12);
	syn(&p, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP6, "two");
	return true;
}

/* A next header that is no L4 protocol known to the parser. */
PW_TEST(ip6_unknown_next_header)
{
	static const __u8 nh[] = {253, 59 /* no next header */, 47, 6 + 0x80};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	for (i = 0; i < sizeof(nh); i++) {
		ip6_frame(&p);
		pg_nexthdr(&p, nh[i]);
		pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 80, 0, 0,    0,
				      1,    0,	  0,	0,  0, 0x50, PG_SYN,
				      0xfa, 0xf0, 0,	0,  0, 0},
			 20);
		ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED,
			  "only TCP and UDP are allowed");
	}
	/* judged by its number: a rule for protocol 253 allows it */
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, 253, 0, 0, 99), "proto 253");
	ip6_frame(&p);
	pg_nexthdr(&p, 253);
	pg_fill(&p, 20, 0);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "253 allowed");
	ip6_frame(&p);
	pg_ip6_ext(&p, IPPROTO_DSTOPTS, 8, PG_AUTO);
	pg_nexthdr(&p, 253);
	pg_fill(&p, 20, 0);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "253 after dest opts");
	return true;
}
