// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * IPv4, TCP and UDP parsing, and IPv4 fragments. Each malformed packet is
 * aimed at a port the policy allows (or made to look like one), so that a
 * parser that took the easy way would let it through.
 */
#include <unistd.h>
#include "bpf_fixture.h"

#define PEER "10.1.0.5"

/* A: egress enforced, TCP 80 and UDP 53 allowed to anyone. */
static int setup(void)
{
	int err = fx_init();

	err = err ?: fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1);
	err = err ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 80);
	err = err ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 53);
	return err;
}

/* Ethernet and an IPv4 header from A to PEER, as @o says. */
static void ip4_frame(struct pg *p, struct pg_ip4 o)
{
	pg_init(p);
	pg_eth(p, A->mac, fx_host_mac, 0);
	o.src = A->ip4;
	o.dst = PEER;
	pg_ip4(p, &o);
}

static void syn(struct pg *p, __u16 dport)
{
	pg_tcp(p, &(struct pg_tcp){.sport = 40000,
				   .dport = dport,
				   .flags = PG_SYN,
				   .seq = 1});
}

/*
 * Options (IHL 6) whose bytes, read as if L4 began at byte 20, say ports
 * 1 -> 80, with the TCP header's acknowledgement number then read as data
 * offset 5 and a lone SYN. The real TCP header after IHL * 4 goes to 9999.
 */
PW_TEST(ip4_options_are_skipped)
{
	static const __u8 opts[4] = {0x00, 0x01, 0x00, 80};
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.opts = opts, .opt_len = 4});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 9999,
				    .flags = PG_SYN,
				    .ack = 0x50020000});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "real port 9999");

	ip4_frame(&p, (struct pg_ip4){.opts = opts, .opt_len = 4});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "real port 80 after options");

	/* the largest header: 40 bytes of options */
	ip4_frame(&p, (struct pg_ip4){.opt_len = 40});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40001, .dport = 80, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "IHL 15");
	return true;
}

PW_TEST(ip4_ihl_below_5)
{
	static const __u8 bad_ihl[] = {1, 4};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	for (i = 0; i < sizeof(bad_ihl); i++) {
		ip4_frame(&p, (struct pg_ip4){.ihl = bad_ihl[i]});
		syn(&p, 80);
		ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "IHL < 5");
	}
	return true;
}

PW_TEST(ip4_ihl_past_tot_len)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	/* IHL 15 (60 bytes) in a 40-byte datagram of a 20-byte header */
	ip4_frame(&p, (struct pg_ip4){.ihl = 15});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "IHL past the end");
	return true;
}

PW_TEST(ip4_tot_len_past_packet)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.tot_len = 41});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "one byte short");
	ip4_frame(&p, (struct pg_ip4){.tot_len = 0xffff});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "65535");
	return true;
}

PW_TEST(ip4_tot_len_below_header)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.tot_len = 16});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "16 < 20");
	ip4_frame(&p, (struct pg_ip4){.tot_len = 20, .opt_len = 4});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "20 < IHL 6");
	return true;
}

PW_TEST(ip4_bad_version_or_truncated)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.version = 6});
	syn(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "version 6 in 0x0800");

	/*
	 * The test run refuses an untagged 0x0800 frame shorter than an IPv4
	 * header (-EINVAL), so the truncated header comes in a VLAN tag.
	 */
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_vlan(&p, 0x8100, 10);
	pg_ethertype(&p, 0x0800);
	pg_fill(&p, 12, 0x45);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "12-byte header");
	return true;
}

/* The datagram ends at tot_len: link-layer padding is not L4 data. */
PW_TEST(ip4_padding_is_not_datagram)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){0});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53});
	pg_finish(&p);
	pg_pad(&p, 60);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "padded minimal UDP");

	/* a UDP length reaching into the padding lies */
	ip4_frame(&p, (struct pg_ip4){0});
	pg_udp(&p, &(struct pg_udp){.sport = 40001, .dport = 53, .len = 20});
	pg_finish(&p);
	pg_pad(&p, 60);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "UDP length in padding");

	/* a TCP header whose options would be the padding */
	ip4_frame(&p, (struct pg_ip4){0});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40002,
				    .dport = 80,
				    .flags = PG_SYN,
				    .doff = 8});
	pg_finish(&p);
	pg_pad(&p, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "TCP doff in padding");
	return true;
}

PW_TEST(tcp_doff_below_5)
{
	static const __u8 doff[] = {1, 4};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	for (i = 0; i < sizeof(doff); i++) {
		ip4_frame(&p, (struct pg_ip4){0});
		pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
					    .dport = 80,
					    .flags = PG_SYN,
					    .doff = doff[i]});
		ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "doff < 5");
	}
	ASSERT_EQ(fx_ct_count(), 0, "no flow");
	return true;
}

PW_TEST(tcp_doff_past_end)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){0});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 80,
				    .flags = PG_SYN,
				    .doff = 15});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "doff 15, 20 bytes");

	ip4_frame(&p, (struct pg_ip4){0});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 80,
				    .flags = PG_SYN,
				    .doff = 6});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "doff 6, 20 bytes");

	/* options that are there are fine */
	ip4_frame(&p, (struct pg_ip4){0});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 80,
				    .flags = PG_SYN,
				    .opt_len = 40});
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "doff 15, 60 bytes");
	return true;
}

PW_TEST(l4_truncated_headers)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){0});
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 80, 0, 0, 0, 1, 0, 0, 0, 0},
		 12);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "12 bytes of TCP");

	ip4_frame(&p, (struct pg_ip4){0});
	pg_nexthdr(&p, IPPROTO_UDP);
	pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 53}, 4);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "4 bytes of UDP");

	ip4_frame(&p, (struct pg_ip4){0});
	pg_nexthdr(&p, IPPROTO_SCTP);
	pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 53, 0, 0, 0, 0}, 8);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "8 bytes of SCTP");

	ip4_frame(&p, (struct pg_ip4){0});
	pg_nexthdr(&p, IPPROTO_ICMP);
	pg_bytes(&p, (__u8[]){8, 0, 0, 0}, 4);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "4 bytes of ICMP");
	return true;
}

PW_TEST(udp_length_lies)
{
	static const __u16 lens[] = {0x00ff, 25, 7, 4, 1};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ip4_frame(&p, (struct pg_ip4){0});
		pg_udp(&p, &(struct pg_udp){.sport = 40000,
					    .dport = 53,
					    .len = lens[i]});
		pg_fill(&p, 16, 0); /* a 24-byte datagram */
		ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "UDP length");
	}
	/* shorter than the IP payload is allowed (trailing bytes) */
	ip4_frame(&p, (struct pg_ip4){0});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53, .len = 16});
	pg_fill(&p, 16, 0);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "16 of 24");
	return true;
}

/* The tiny-fragment attack: a first fragment cuts the TCP header. */
PW_TEST(frag4_tiny_first_fragment)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.id = 0x1111, .mf = true});
	pg_nexthdr(&p, IPPROTO_TCP);
	pg_bytes(&p, (__u8[]){0x9c, 0x40, 0x00, 80, 0, 0, 0, 1}, 8);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_TOO_SMALL, "8 of 20 bytes");

	/* the rest of the header, flags and all, follows at offset 8 */
	ip4_frame(&p, (struct pg_ip4){.id = 0x1111,
				      .frag_off = 8,
				      .proto = IPPROTO_TCP});
	pg_bytes(&p, (__u8[]){0, 0, 0, 0, 0x50, PG_SYN, 0xfa, 0xf0, 0, 0, 0, 0},
		 12);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "the rest");

	/* a first fragment with 20 bytes of TCP header but cut options */
	ip4_frame(&p, (struct pg_ip4){.id = 0x1112, .mf = true});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 80,
				    .flags = PG_SYN,
				    .doff = 8});
	pg_fill(&p, 4, 1);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_TOO_SMALL, "options cut");
	ASSERT_EQ(fx_frag_count(), 0, "nothing recorded");
	return true;
}

PW_TEST(frag4_later_without_first)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	/* it carries what looks like a SYN to port 80 */
	ip4_frame(&p, (struct pg_ip4){.id = 0x2222, .frag_off = 24});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "no first");
	ip4_frame(&p,
		  (struct pg_ip4){.id = 0x2222, .frag_off = 24, .mf = true});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "middle, no first");
	ASSERT_EQ(fx_ct_count(), 0, "no flow");
	return true;
}

PW_TEST(frag4_allowed_first_then_later)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	/* a 72-byte UDP datagram in three fragments */
	ip4_frame(&p, (struct pg_ip4){.id = 0x3333, .mf = true});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53, .len = 72});
	pg_fill(&p, 16, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "first");
	ASSERT_EQ(fx_frag_count(), 1, "recorded");
	ip4_frame(&p, (struct pg_ip4){.id = 0x3333,
				      .frag_off = 24,
				      .mf = true,
				      .proto = IPPROTO_UDP});
	pg_fill(&p, 24, 0xbb);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "middle");
	ip4_frame(&p, (struct pg_ip4){.id = 0x3333,
				      .frag_off = 48,
				      .proto = IPPROTO_UDP});
	pg_fill(&p, 24, 0xcc);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "last");

	/* the record is per datagram: another id has no first fragment */
	ip4_frame(&p, (struct pg_ip4){.id = 0x3334,
				      .frag_off = 24,
				      .proto = IPPROTO_UDP});
	pg_fill(&p, 24, 0xbb);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "other id");
	/* ... and per endpoint and direction */
	ASSERT_OK(fx_ep_set(B, 0, 1), "B");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, B->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4,
				    .dst = PEER,
				    .id = 0x3333,
				    .frag_off = 24,
				    .proto = IPPROTO_UDP});
	pg_fill(&p, 24, 0xbb);
	ASSERT_EQ(fx_run(&p, IN, B), PW_DROP_FRAG_NO_FIRST, "other endpoint");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4,
				    .dst = PEER,
				    .id = 0x3333,
				    .frag_off = 24,
				    .proto = IPPROTO_UDP});
	pg_fill(&p, 24, 0xbb);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_FRAG_NO_FIRST, "other direction");
	return true;
}

PW_TEST(frag4_denied_first_then_later)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.id = 0x4444, .mf = true});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 54, .len = 48});
	pg_fill(&p, 16, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "first");
	/* a later fragment whose bytes look like UDP to the allowed port */
	ip4_frame(&p, (struct pg_ip4){.id = 0x4444, .frag_off = 24});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53});
	pg_fill(&p, 16, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_DENIED, "later");
	return true;
}

/* A later fragment may not rewrite the first fragment's TCP header. */
PW_TEST(frag4_overlap)
{
	static const struct {
		__u16 off;
		int want;
	} later[] = {
		{8, PW_DROP_FRAG_OVERLAP},
		{16, PW_DROP_FRAG_OVERLAP}, /* bytes 16-19: checksum, urgent */
		{24, FX_PASS},
	};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ip4_frame(&p, (struct pg_ip4){.id = 0x5555, .mf = true});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	pg_fill(&p, 12, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "first");
	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		ip4_frame(&p, (struct pg_ip4){.id = 0x5555,
					      .frag_off = later[i].off,
					      .proto = IPPROTO_TCP});
		/* offset 8: what would be data offset and flags */
		pg_bytes(&p, (__u8[]){0x50, PG_SYN | PG_FIN, 0, 0, 0, 0, 0, 0},
			 8);
		ASSERT_EQ(fx_run(&p, EG, A), later[i].want, "later fragment");
	}
	return true;
}

/* A first fragment's record lasts frag_ns; later ones after it drop. */
PW_TEST(frag4_record_expires)
{
	struct pw_dp_opts opts = {.cfg = {.frag_ns = 50 * 1000000ULL}};
	struct pg p;

	ASSERT_OK(fx_init_opts(&opts), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 53), "rule");
	ip4_frame(&p, (struct pg_ip4){.id = 0x6666, .mf = true});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53, .len = 56});
	pg_fill(&p, 16, 0xaa);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "first");
	ip4_frame(&p, (struct pg_ip4){.id = 0x6666,
				      .frag_off = 24,
				      .mf = true,
				      .proto = IPPROTO_UDP});
	pg_fill(&p, 16, 0xbb);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "in time");
	usleep(80000);
	ip4_frame(&p, (struct pg_ip4){.id = 0x6666,
				      .frag_off = 40,
				      .proto = IPPROTO_UDP});
	pg_fill(&p, 16, 0xcc);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "too late");
	return true;
}
