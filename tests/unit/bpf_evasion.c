// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Evasion attempts: the BPF_PROG_TEST_RUN side of tests/e2e/test_evasion.sh.
 * Every case of that suite has a test; most were written before it, so
 * this file holds only the missing ones and says where the others are.
 *
 * IPv4
 *   tiny first fragment             bpf_parse_ip4.c frag4_tiny_first_fragment
 *   fragments in order, allowed     bpf_parse_ip4.c
 *                                   frag4_allowed_first_then_later
 *   fragments in order, denied      bpf_parse_ip4.c
 *                                   frag4_denied_first_then_later
 *   overlap rewriting TCP header    bpf_parse_ip4.c frag4_overlap
 *   overlap rewriting the ports     here, evasion_frag_duplicate_first
 *   non-first fragment alone        bpf_parse_ip4.c frag4_later_without_first
 *   non-first fragment sent first   here, evasion_frag_later_before_first
 *   options                         bpf_parse_ip4.c ip4_options_are_skipped;
 *                                   lying option lengths: here,
 *                                   evasion_ip4_option_length_lies
 *   IHL < 5                         bpf_parse_ip4.c ip4_ihl_below_5
 *   IHL past the datagram           bpf_parse_ip4.c ip4_ihl_past_tot_len
 *   total length past the packet    bpf_parse_ip4.c ip4_tot_len_past_packet
 *   total length below the header   bpf_parse_ip4.c ip4_tot_len_below_header
 *   total length inside TCP header  here, evasion_ip4_tot_len_cuts_tcp_header
 * IPv6
 *   hop-by-hop, routing, dest opts  bpf_parse_ip6.c ip6_ext_chain_before_tcp
 *   chain past the parser's bound   bpf_parse_ip6.c ip6_ext_chain_bound
 *   huge header lengths             bpf_parse_ip6.c ip6_ext_header_past_end
 *   unknown next header             bpf_parse_ip6.c ip6_unknown_next_header
 *   fragments in order, overlapping bpf_parse_ip6.c ip6_frag_first_then_later
 *   fragments, denied first         bpf_parse_ip6.c
 *                                   ip6_frag_denied_first_then_later
 *   fragments reversed              here, evasion_frag_later_before_first
 *   atomic fragment                 bpf_parse_ip6.c ip6_atomic_fragment
 *   chain split across fragments    bpf_parse_ip6.c
 *                                   ip6_frag_first_incomplete_chain
 * TCP and UDP
 *   data offset < 5                 bpf_parse_ip4.c tcp_doff_below_5
 *   data offset past the end        bpf_parse_ip4.c tcp_doff_past_end
 *   SYN+FIN, NULL, Xmas             bpf_conntrack.c ct_bad_tcp_flags
 *   ACK without SYN, no state       bpf_conntrack.c
 *     ct_out_of_state_dropped_on_enforced_direction
 *   RST injection into a live flow  here, evasion_tcp_rst_injection
 *   UDP length lies                 bpf_parse_ip4.c udp_length_lies
 * ICMP
 *   error about a live flow         bpf_icmp.c icmp_error_related_to_live_flow,
 *                                   icmp6_error_related_to_live_flow
 *   error about no flow             bpf_icmp.c icmp_error_without_flow
 *   error about a flow only the
 *   sender has (receiver denied it) here, evasion_icmp_error_about_denied_flow
 *   echo to an egress-only pod      bpf_icmp.c icmp_echo_reply_passes_as_reply,
 *                                   icmp_unsolicited_echo_reply
 * Link layer and spoofing
 *   802.1Q, QinQ                    bpf_l2.c l2_8021q_judged, l2_qinq_judged
 *   three tags                      bpf_l2.c l2_three_tags_dropped;
 *                                   bpf_attached.c (a tag the kernel took)
 *   IP-in-IP, GRE                   here, evasion_encapsulation_outer_protocol
 *   source IP                       bpf_spoof.c spoof_source_ip
 *   source MAC                      bpf_spoof.c spoof_source_mac
 *   ARP claiming a pod or gateway   bpf_spoof.c spoof_arp
 *   router advertisement            bpf_spoof.c spoof_nd_router_messages
 */
#include <errno.h>
#include "bpf_fixture.h"

#define PEER4 "10.1.0.5"
#define PEER6 "fd01::5"

/* A, the victim: its ingress admits TCP 80 from anyone, nothing else. */
static int setup_victim(void)
{
	int err = fx_init();

	err = err ?: fx_ep_set(A, PW_EP_F_INGRESS_ENFORCED, 1);
	err = err ?: fx_allow(A, IN, PW_ID_ANY, IPPROTO_TCP, 80, 80, 80);
	return err;
}

/*
 * A fragment from PEER to A: datagram @id, byte offset @off, more
 * fragments or not. A later fragment (off > 0) says TCP and carries
 * @fill bytes; a first one gets its TCP header from the caller.
 */
static void frag_in(struct pg *p, bool v6, __u32 id, __u16 off, bool more)
{
	pg_init(p);
	pg_eth(p, fx_host_mac, A->mac, 0);
	if (v6) {
		pg_ip6(p, &(struct pg_ip6){.src = PEER6, .dst = A->ip6});
		pg_ip6_frag(p, off, more, id);
	} else {
		pg_ip4(p, &(struct pg_ip4){.src = PEER4,
					   .dst = A->ip4,
					   .id = id,
					   .frag_off = off,
					   .mf = more});
	}
	if (off)
		pg_nexthdr(p, IPPROTO_TCP);
}

/* A first fragment: a SYN to @dport and 12 bytes, 32 bytes of TCP. */
static void first_frag(struct pg *p, bool v6, __u32 id, __u16 dport)
{
	frag_in(p, v6, id, 0, true);
	pg_tcp(p, &(struct pg_tcp){.sport = 40000,
				   .dport = dport,
				   .flags = PG_SYN,
				   .seq = 1});
	pg_fill(p, 12, 0xaa);
}

static int later_frag(bool v6, __u32 id)
{
	struct pg p;

	frag_in(&p, v6, id, 32, false);
	pg_fill(&p, 16, 0xbb);
	return fx_run(&p, IN, A);
}

/*
 * Ports cannot be rewritten by a later fragment (offset 8 is the least),
 * only by a second offset-0 fragment of the same datagram. It is judged as
 * a first fragment in its own right, and its verdict is what the rest of
 * the datagram follows: the receiver could not tell which first fragment
 * its reassembly kept.
 */
static bool duplicate_first(bool v6)
{
	struct pg p;

	first_frag(&p, v6, 0x51, 80);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "first fragment, port 80");
	first_frag(&p, v6, 0x51, 22);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_POLICY_DENIED,
		  "second first fragment, port 22");
	ASSERT_EQ(later_frag(v6, 0x51), PW_DROP_FRAG_DENIED, "the rest");

	/* control: the same datagram without the second one */
	first_frag(&p, v6, 0x52, 80);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "control: first");
	ASSERT_EQ(later_frag(v6, 0x52), FX_PASS, "control: the rest");
	return true;
}

PW_TEST(evasion_frag_duplicate_first)
{
	ASSERT_OK(setup_victim(), "setup");
	ASSERT_TRUE(duplicate_first(false), "IPv4");
	ASSERT_TRUE(duplicate_first(true), "IPv6");
	return true;
}

/*
 * Fragments out of order: a later fragment before its first has nothing to
 * follow and drops; the first, then the later one sent again, pass.
 */
static bool later_before_first(bool v6)
{
	struct pg p;

	ASSERT_EQ(later_frag(v6, 0x61), PW_DROP_FRAG_NO_FIRST, "later first");
	first_frag(&p, v6, 0x61, 80);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "then the first");
	ASSERT_EQ(later_frag(v6, 0x61), FX_PASS, "later again");
	/* and of a denied datagram, the later one stays dropped */
	ASSERT_EQ(later_frag(v6, 0x62), PW_DROP_FRAG_NO_FIRST, "later first");
	first_frag(&p, v6, 0x62, 22);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_POLICY_DENIED, "denied first");
	ASSERT_EQ(later_frag(v6, 0x62), PW_DROP_FRAG_DENIED, "later again");
	return true;
}

PW_TEST(evasion_frag_later_before_first)
{
	ASSERT_OK(setup_victim(), "setup");
	ASSERT_TRUE(later_before_first(false), "IPv4");
	ASSERT_TRUE(later_before_first(true), "IPv6");
	return true;
}

/*
 * Options are never walked: their length bytes may say anything, L4 starts
 * at IHL * 4 and is judged there.
 */
PW_TEST(evasion_ip4_option_length_lies)
{
	/* port 80 passes, port 22 does not, whatever the options say */
	static const struct {
		__u8 opts[8];
		__u8 len;
		__u16 dport;
	} cases[] = {
		/* timestamp whose length says 255 */
		{{0x44, 0xff, 0x05, 0x00}, 4, 80},
		{{0x44, 0xff, 0x05, 0x00}, 4, 22},
		/* loose source route of length 0 */
		{{0x83, 0x00, 0x00, 0x00}, 4, 80},
		/* record route claiming 40 bytes in 8 */
		{{0x07, 0x28, 0x04, 0, 0, 0, 0, 0}, 8, 22},
		{{0x07, 0x28, 0x04, 0, 0, 0, 0, 0}, 8, 80},
	};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup_victim(), "setup");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pg_init(&p);
		pg_eth(&p, fx_host_mac, A->mac, 0);
		pg_ip4(&p, &(struct pg_ip4){.src = PEER4,
					    .dst = A->ip4,
					    .opts = cases[i].opts,
					    .opt_len = cases[i].len});
		pg_tcp(&p, &(struct pg_tcp){.sport = 40000 + i,
					    .dport = cases[i].dport,
					    .flags = PG_SYN});
		ASSERT_EQ(fx_run(&p, IN, A),
			  cases[i].dport == 80 ? FX_PASS
					       : PW_DROP_POLICY_DENIED,
			  "options");
	}
	return true;
}

/*
 * The TCP header is in the frame, but past the datagram's total length:
 * bytes after the datagram are not its L4 header.
 */
PW_TEST(evasion_ip4_tot_len_cuts_tcp_header)
{
	struct pg p;

	ASSERT_OK(setup_victim(), "setup");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p,
	       &(struct pg_ip4){.src = PEER4, .dst = A->ip4, .tot_len = 30});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_BAD_L4, "10 of 20 bytes");

	/* in a first fragment, that is the tiny-fragment attack */
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p,
	       &(struct pg_ip4){
		       .src = PEER4, .dst = A->ip4, .tot_len = 28, .mf = true});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_FRAG_TOO_SMALL, "first fragment");
	ASSERT_EQ(fx_frag_count(), 0, "nothing recorded");

	/* control: the whole header inside, trailing bytes after it */
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p,
	       &(struct pg_ip4){.src = PEER4, .dst = A->ip4, .tot_len = 40});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	pg_fill(&p, 20, 0);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "20 of 20 bytes");
	return true;
}

/* A TCP segment from pod C (frame from C's MAC) with @src, to A. */
static void c_segment(struct pg *p, const char *src, __u16 sport, __u8 flags)
{
	pg_init(p);
	pg_eth(p, C->mac, fx_host_mac, 0);
	pg_ip4(p, &(struct pg_ip4){.src = src, .dst = A->ip4});
	pg_tcp(p, &(struct pg_tcp){.sport = sport,
				   .dport = 80,
				   .flags = flags,
				   .seq = 5000,
				   .ack = 2000});
	pg_finish(p);
}

/*
 * B has a live connection to A:80 (A admits TCP 80 from B only); C, a pod
 * on the node, tries to reset it. With B's address it does not get past
 * its own veth; with its own address A finds no flow. Either way A's flow
 * is untouched. (podwall does not track sequence numbers: a RST with the
 * flow's tuple from outside the node is the receiving stack's to judge.)
 */
PW_TEST(evasion_tcp_rst_injection)
{
	struct fx_flow live = FX_FLOW(A, B->ip4, 80, 40000);
	struct fx_flow from_c = FX_FLOW(A, C->ip4, 80, 40000);
	struct fx_flow other_port = FX_FLOW(A, B->ip4, 80, 40001);
	static const __u8 rst[] = {PG_RST, PG_RST | PG_ACK};
	struct pw_ct_entry ct;
	unsigned int i;
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_INGRESS_ENFORCED | PW_EP_F_EGRESS_ENFORCED,
			    1),
		  "A");
	ASSERT_OK(fx_ep_set(C, 0, 1), "C, nothing enforced");
	ASSERT_OK(fx_ipcache(B->ip4, B->identity, 0), "B's address");
	ASSERT_OK(fx_ipcache(C->ip4, C->identity, 0), "C's address");
	ASSERT_OK(fx_allow(A, IN, B->identity, IPPROTO_TCP, 80, 80, 1), "in");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, 0, 0, 0, 2), "A may send");
	ASSERT_EQ(fx_handshake(&live, IN), FX_PASS, "B connects");

	for (i = 0; i < sizeof(rst); i++) {
		c_segment(&p, B->ip4, 40000, rst[i]);
		ASSERT_EQ(fx_run(&p, EG, C), PW_DROP_SPOOFED_IP,
			  "C with B's address");
		c_segment(&p, C->ip4, 40000, rst[i]);
		ASSERT_EQ(fx_run(&p, EG, C), FX_PASS, "C's own address leaves");
		ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_OUT_OF_STATE,
			  "C's own address at A");
		ASSERT_EQ(fx_tcp(&other_port, IN, rst[i]), PW_DROP_OUT_OF_STATE,
			  "B's address, another port");
	}
	ASSERT_EQ(fx_ct_get(&from_c, IPPROTO_TCP, &ct), -ENOENT, "no C flow");
	ASSERT_EQ(fx_ct_get(&other_port, IPPROTO_TCP, &ct), -ENOENT,
		  "no other-port flow");
	ASSERT_OK(fx_ct_get(&live, IPPROTO_TCP, &ct), "the live flow");
	ASSERT_EQ(ct.state, PW_CT_ESTABLISHED, "still established");
	ASSERT_EQ(ct.tcp_flags[PW_CT_FWD] & PG_RST, 0, "no RST counted");
	ASSERT_EQ(fx_tcp(&live, IN, PG_ACK | PG_PSH), FX_PASS, "B's data");
	ASSERT_EQ(fx_tcp(&live, EG, PG_ACK), FX_PASS, "A's answer");
	/* B's own RST ends it */
	ASSERT_EQ(fx_tcp(&live, IN, PG_RST), FX_PASS, "B resets");
	ASSERT_OK(fx_ct_get(&live, IPPROTO_TCP, &ct), "the flow");
	ASSERT_EQ(ct.state, PW_CT_CLOSED, "closed");
	return true;
}

/* UDP from C to A, port @sport -> @dport, as C sends it. */
static void c_udp(struct pg *p, __u16 sport, __u16 dport)
{
	pg_init(p);
	pg_eth(p, C->mac, fx_host_mac, 0);
	pg_ip4(p, &(struct pg_ip4){.src = C->ip4, .dst = A->ip4});
	pg_udp(p, &(struct pg_udp){.sport = sport, .dport = dport});
	pg_fill(p, 8, 0x61);
	pg_finish(p);
}

/* C's port unreachable to A about a datagram A:9999 -> C:@cport. */
static void c_error(struct pg *p, __u16 cport)
{
	pg_init(p);
	pg_eth(p, C->mac, fx_host_mac, 0);
	pg_ip4(p, &(struct pg_ip4){.src = C->ip4, .dst = A->ip4});
	pg_icmp(p, 3, 3, 0, 0);
	pg_ip4(p, &(struct pg_ip4){.src = A->ip4, .dst = C->ip4});
	pg_udp(p, &(struct pg_udp){.sport = 9999, .dport = cport});
	pg_finish(p);
}

/*
 * C sends A a datagram A's policy denies; C's side has the flow, A's has
 * none. An error about that flow, written as if A had sent the datagram
 * the other way, passes C's veth but not A's: each side asks its own
 * conntrack, and A's knows of nothing.
 */
PW_TEST(evasion_icmp_error_about_denied_flow)
{
	struct pg p;

	ASSERT_OK(setup_victim(), "setup");
	ASSERT_OK(fx_ep_set(C, 0, 1), "C, nothing enforced");
	c_udp(&p, 41000, 9999);
	ASSERT_EQ(fx_run(&p, EG, C), FX_PASS, "leaves C");
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_POLICY_DENIED, "denied at A");
	c_error(&p, 41000);
	ASSERT_EQ(fx_run(&p, EG, C), FX_PASS, "C has that flow");
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "A has not");

	/* control: once A admits UDP 9999, the same exchange passes */
	ASSERT_OK(fx_allow(A, IN, PW_ID_ANY, IPPROTO_UDP, 9999, 9999, 99),
		  "A admits udp/9999");
	c_udp(&p, 41001, 9999);
	ASSERT_EQ(fx_run(&p, EG, C), FX_PASS, "leaves C");
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "admitted at A");
	c_error(&p, 41001);
	ASSERT_EQ(fx_run(&p, EG, C), FX_PASS, "C has that flow");
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "so has A");
	return true;
}

/*
 * Tunnels are judged by their outer protocol, never unwrapped: TCP 80
 * inside IP-in-IP, GRE, IPv6-in-IPv6 or IPv4-in-IPv6 is not TCP 80.
 * (Allowing protocol 4, 41 or 47 allows whatever they carry.)
 */
static void tunnel_in(struct pg *p, int kind)
{
	pg_init(p);
	pg_eth(p, fx_host_mac, A->mac, 0);
	if (kind < 2)
		pg_ip4(p, &(struct pg_ip4){.src = PEER4, .dst = A->ip4});
	else
		pg_ip6(p, &(struct pg_ip6){.src = PEER6, .dst = A->ip6});
	if (kind == 1) {
		pg_nexthdr(p, 47);
		pg_bytes(p, (__u8[]){0, 0, 0x08, 0x00}, 4); /* GRE, IPv4 */
	}
	if (kind == 2)
		pg_ip6(p, &(struct pg_ip6){.src = PEER6, .dst = A->ip6});
	else
		pg_ip4(p, &(struct pg_ip4){.src = PEER4, .dst = A->ip4});
	pg_tcp(p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
}

PW_TEST(evasion_encapsulation_outer_protocol)
{
	/* IPv4 in IPv4, GRE, IPv6 in IPv6, IPv4 in IPv6 */
	static const __u8 proto[] = {4, 47, 41, 4};
	const struct pw_flow_event *ev;
	struct pg p;
	int k;

	ASSERT_OK(setup_victim(), "setup");
	for (k = 0; k < 4; k++) {
		tunnel_in(&p, k);
		ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_POLICY_DENIED, "tunnel");
		ev = fx_last_ev(PW_EV_DROP);
		ASSERT_TRUE(ev, "drop event");
		ASSERT_EQ(ev->proto, proto[k], "judged as the outer protocol");
	}
	/* a rule for protocol 4 admits IP-in-IP, and nothing else */
	ASSERT_OK(fx_allow(A, IN, PW_ID_ANY, 4, 0, 0, 4), "protocol 4");
	tunnel_in(&p, 0);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "IP-in-IP admitted");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->proto, 4, "a protocol-4 flow");
	ASSERT_EQ(ev->dport, 0, "without ports");
	tunnel_in(&p, 1);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_POLICY_DENIED, "GRE still not");
	return true;
}
