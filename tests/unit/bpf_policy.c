// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Policy decisions of new flows: per direction, identities from the
 * ipcache (labels and ipBlock CIDRs with excepts), port ranges, wildcards.
 */
#include <bpf/bpf.h>
#include "bpf_fixture.h"

PW_TEST(policy_no_endpoint_passes_untouched)
{
	struct fx_flow f = FX_FLOW(D, "10.1.0.5", 40000, 80);
	struct pw_counter c[PW_CNT_SLOTS];

	ASSERT_OK(fx_init(), "fixture");
	/* D's veth exists but D is no endpoint: not ours, whatever it is */
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN | PG_FIN), FX_PASS, "bad flags");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK), FX_PASS, "ack");
	ASSERT_EQ(fx_ev_count(PW_EV_DROP) + fx_ev_count(PW_EV_NEW), 0,
		  "no events");
	ASSERT_EQ(fx_ct_count(), 0, "no flows");
	ASSERT_OK(fx_counters(0, c), "counters");
	ASSERT_EQ(c[PW_CNT_ALLOWED].packets, 0, "not counted");
	return true;
}

PW_TEST(policy_egress_default_deny)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	const struct pw_flow_event *ev;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED, "syn");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "drop event");
	ASSERT_EQ(ev->rule_id, PW_RULE_DEFAULT, "no rule decided");
	ASSERT_EQ(ev->peer_id, PW_ID_WORLD, "unknown peer is world");
	ASSERT_EQ(fx_ct_count(), 0, "denied flow not tracked");
	/* UDP and ICMP too: default deny is not TCP only */
	ASSERT_EQ(fx_udp(&f, EG), PW_DROP_POLICY_DENIED, "udp");
	ASSERT_EQ(fx_echo(&f, EG, false, 9), PW_DROP_POLICY_DENIED, "echo");
	return true;
}

PW_TEST(policy_ingress_rule_allows_only_what_it_names)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 80, 40000);
	struct fx_flow world = FX_FLOW(A, "10.1.0.6", 80, 40000);
	struct fx_flow port81 = FX_FLOW(A, "10.1.0.5", 81, 40000);
	struct fx_flow at_b = FX_FLOW(B, "10.1.0.5", 80, 40000);
	struct fx_flow out = FX_FLOW(A, "10.1.0.5", 40001, 80);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_INGRESS_ENFORCED | PW_EP_F_EGRESS_ENFORCED,
			    1),
		  "endpoint A");
	ASSERT_OK(fx_ep_set(B, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint B");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2000, 0), "peer pod");
	ASSERT_OK(fx_allow(A, IN, 2000, IPPROTO_TCP, 80, 80, 11), "rule");

	ASSERT_EQ(fx_tcp(&f, IN, PG_SYN), FX_PASS, "allowed peer and port");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "flow tracked");
	ASSERT_EQ(ct.rule_id, 11, "rule");
	ASSERT_EQ(ct.peer_id, 2000, "peer identity");
	ASSERT_EQ(ct.origin, IN, "origin");
	ASSERT_EQ(fx_tcp(&world, IN, PG_SYN), PW_DROP_POLICY_DENIED,
		  "other peer");
	ASSERT_EQ(fx_tcp(&port81, IN, PG_SYN), PW_DROP_POLICY_DENIED,
		  "other port");
	ASSERT_EQ(fx_udp(&f, IN), PW_DROP_POLICY_DENIED, "other protocol");
	ASSERT_EQ(fx_tcp(&out, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "an ingress rule does not open egress");
	ASSERT_EQ(fx_tcp(&at_b, IN, PG_SYN), PW_DROP_POLICY_DENIED,
		  "A's rule does not open B");
	return true;
}

PW_TEST(policy_unenforced_direction_allows)
{
	struct fx_flow in = FX_FLOW(A, "10.1.0.5", 22, 40000);
	struct fx_flow out = FX_FLOW(A, "10.1.0.5", 40000, 22);
	struct fx_flow b_in = FX_FLOW(B, "fd01::5", 22, 40000);
	struct fx_flow b_out = FX_FLOW(B, "fd01::5", 40000, 22);
	const struct pw_flow_event *ev;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint A");
	ASSERT_OK(fx_ep_set(B, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint B");

	ASSERT_EQ(fx_tcp(&in, IN, PG_SYN), FX_PASS, "A ingress not enforced");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->rule_id, PW_RULE_DEFAULT, "default allow");
	ASSERT_EQ(fx_udp(&in, IN), FX_PASS, "udp too");
	ASSERT_EQ(fx_tcp(&out, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "A egress enforced");

	ASSERT_EQ(fx_tcp(&b_out, EG, PG_SYN), FX_PASS, "B egress not enforced");
	ASSERT_EQ(fx_tcp(&b_in, IN, PG_SYN), PW_DROP_POLICY_DENIED,
		  "B ingress enforced");
	return true;
}

PW_TEST(policy_no_flags_allows_everything)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 9);

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, 0, 1), "endpoint");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, "egress");
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "ingress");
	return true;
}

/*
 * ipBlock {cidr: 10.2.0.0/24, except: [10.2.0.16/28]}: the agent installs
 * both prefixes, the /24 with the ipBlock's CIDR identity, the /28 with
 * none (or one of its own), and allows the /24's identity.
 */
PW_TEST(policy_cidr_with_except)
{
	static const char *const inside[] = {
		"10.2.0.0", "10.2.0.5", "10.2.0.15", "10.2.0.32", "10.2.0.255"};
	static const char *const excepted[] = {"10.2.0.16", "10.2.0.20",
					       "10.2.0.31"};
	static const char *const outside[] = {"10.2.1.0", "10.1.255.255",
					      "10.3.0.1"};
	struct pw_ct_entry ct;
	unsigned int i;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.2.0.0/24", PW_ID_WORLD, 3000), "cidr");
	ASSERT_OK(fx_ipcache("10.2.0.16/28", PW_ID_WORLD, 0), "except");
	ASSERT_OK(fx_allow(A, EG, 3000, IPPROTO_TCP, 0, 0, 21), "rule");

	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		struct fx_flow f = FX_FLOW(A, inside[i], 40000, 80);

		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, inside[i]);
	}
	for (i = 0; i < sizeof(excepted) / sizeof(excepted[0]); i++) {
		struct fx_flow f = FX_FLOW(A, excepted[i], 40000, 80);

		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED,
			  excepted[i]);
	}
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		struct fx_flow f = FX_FLOW(A, outside[i], 40000, 80);

		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED,
			  outside[i]);
	}

	/*
	 * A pod inside the ipBlock has its own label identity; its /32 entry
	 * carries the CIDR identity too, and it is judged by both.
	 */
	ASSERT_OK(fx_ipcache("10.2.0.7", 4000, 3000), "pod in the cidr");
	{
		struct fx_flow f = FX_FLOW(A, "10.2.0.7", 40000, 80);

		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS,
			  "pod allowed through its cidr");
		ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "flow");
		ASSERT_EQ(ct.rule_id, 21, "the cidr rule");
		ASSERT_EQ(ct.peer_id, 4000, "its label identity");
	}
	/* ... and by its labels: a rule for 4000 decides first */
	ASSERT_OK(fx_allow(A, EG, 4000, IPPROTO_TCP, 443, 443, 22), "label");
	{
		struct fx_flow f = FX_FLOW(A, "10.2.0.7", 40001, 443);

		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, "label rule");
		ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "flow");
		ASSERT_EQ(ct.rule_id, 22, "the label rule");
	}
	/* a pod in the except has the except's CIDR identity, not 3000 */
	ASSERT_OK(fx_ipcache("10.2.0.18", 4001, 3001), "pod in the except");
	{
		struct fx_flow f = FX_FLOW(A, "10.2.0.18", 40000, 80);

		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED,
			  "pod in the except");
	}
	return true;
}

PW_TEST(policy_cidr_with_except_ipv6)
{
	struct fx_flow in = FX_FLOW(A, "fd02::5", 8080, 40000);
	struct fx_flow ex = FX_FLOW(A, "fd02::150", 8080, 40000);
	struct fx_flow past = FX_FLOW(A, "fd02::200", 8080, 40000);
	struct fx_flow out = FX_FLOW(A, "fd03::5", 8080, 40000);

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("fd02::/64", PW_ID_WORLD, 3100), "cidr");
	ASSERT_OK(fx_ipcache("fd02::100/120", PW_ID_WORLD, 3101), "except");
	ASSERT_OK(fx_allow(A, IN, 3100, IPPROTO_TCP, 8080, 8080, 23), "rule");

	ASSERT_EQ(fx_tcp(&in, IN, PG_SYN), FX_PASS, "in the cidr");
	ASSERT_EQ(fx_tcp(&ex, IN, PG_SYN), PW_DROP_POLICY_DENIED, "except");
	ASSERT_EQ(fx_tcp(&past, IN, PG_SYN), FX_PASS, "past the except");
	ASSERT_EQ(fx_tcp(&out, IN, PG_SYN), PW_DROP_POLICY_DENIED, "outside");
	return true;
}

PW_TEST(policy_port_range)
{
	static const struct {
		__u16 port;
		int want;
	} cases[] = {
		{999, PW_DROP_POLICY_DENIED},
		{1000, FX_PASS},
		{1023, FX_PASS},
		{1024, FX_PASS},
		{1500, FX_PASS},
		{1535, FX_PASS},
		{1536, FX_PASS},
		{1999, FX_PASS},
		{2000, PW_DROP_POLICY_DENIED},
		{2047, PW_DROP_POLICY_DENIED},
		{0, PW_DROP_POLICY_DENIED},
		{65535, PW_DROP_POLICY_DENIED},
	};
	unsigned int i;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 1000, 1999, 31),
		  "range");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, cases[i].port);
		char what[32];

		snprintf(what, sizeof(what), "port %u", cases[i].port);
		ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), cases[i].want, what);
	}
	{
		struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 1500);

		ASSERT_EQ(fx_udp(&f, EG), PW_DROP_POLICY_DENIED,
			  "range is TCP's");
	}
	return true;
}

PW_TEST(policy_wildcard_peer_any)
{
	struct fx_flow v4 = FX_FLOW(A, "10.9.9.9", 40000, 80);
	struct fx_flow v6 = FX_FLOW(A, "fd09::9", 40000, 80);
	struct fx_flow pod = FX_FLOW(A, "10.0.0.2", 40000, 80);
	struct fx_flow p81 = FX_FLOW(A, "10.9.9.9", 40000, 81);

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.0.0.2", 1002, 0), "a pod");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 41), "rule");
	ASSERT_EQ(fx_tcp(&v4, EG, PG_SYN), FX_PASS, "world v4");
	ASSERT_EQ(fx_tcp(&v6, EG, PG_SYN), FX_PASS, "world v6");
	ASSERT_EQ(fx_tcp(&pod, EG, PG_SYN), FX_PASS, "a pod");
	ASSERT_EQ(fx_tcp(&p81, EG, PG_SYN), PW_DROP_POLICY_DENIED, "port 81");
	return true;
}

PW_TEST(policy_wildcard_any_protocol)
{
	struct fx_flow f = FX_FLOW(A, "10.3.1.1", 40000, 1);
	struct fx_flow other = FX_FLOW(A, "10.4.0.1", 40000, 1);
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.3.0.0/16", 5000, 0), "peer");
	ASSERT_OK(fx_allow(A, EG, 5000, 0, 0, 0, 42), "every protocol");

	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, "tcp");
	f.rport = 53;
	ASSERT_EQ(fx_udp(&f, EG), FX_PASS, "udp");
	ASSERT_EQ(fx_sctp(&f, EG), FX_PASS, "sctp");
	ASSERT_EQ(fx_echo(&f, EG, false, 5), FX_PASS, "icmp");
	fx_frame(&p, &f, EG);
	pg_nexthdr(&p, 47); /* GRE */
	pg_fill(&p, 24, 0);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "gre");
	ASSERT_EQ(fx_tcp(&other, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "other peer");
	return true;
}

PW_TEST(policy_wildcard_all_ports)
{
	static const __u16 ports[] = {1, 53, 32768, 65535};
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 0);
	unsigned int i;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 0, 0, 43), "udp");
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		f.rport = ports[i];
		ASSERT_EQ(fx_udp(&f, EG), FX_PASS, "udp port");
	}
	f.rport = 53;
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED, "tcp 53");
	return true;
}

/* SCTP ports, from crafted packets: this kernel has no SCTP sockets. */
PW_TEST(policy_sctp_ports)
{
	struct fx_flow ok = FX_FLOW(A, "10.1.0.5", 40000, 5000);
	struct fx_flow no = FX_FLOW(A, "10.1.0.5", 40000, 5001);
	struct fx_flow ok6 = FX_FLOW(A, "fd01::5", 40000, 5000);
	struct fx_flow no6 = FX_FLOW(A, "fd01::5", 40000, 5001);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_SCTP, 5000, 5000, 51),
		  "rule");
	ASSERT_EQ(fx_sctp(&ok, EG), FX_PASS, "5000");
	ASSERT_OK(fx_ct_get(&ok, IPPROTO_SCTP, &ct), "flow");
	ASSERT_EQ(ct.rule_id, 51, "rule");
	ASSERT_EQ(ct.state, PW_CT_NEW, "new");
	ASSERT_EQ(fx_sctp(&ok, IN), FX_PASS, "reply");
	ASSERT_OK(fx_ct_get(&ok, IPPROTO_SCTP, &ct), "flow");
	ASSERT_EQ(ct.state, PW_CT_ESTABLISHED, "established");
	ASSERT_EQ(fx_sctp(&no, EG), PW_DROP_POLICY_DENIED, "5001");
	ASSERT_EQ(fx_sctp(&ok6, EG), FX_PASS, "5000 v6");
	ASSERT_EQ(fx_sctp(&no6, EG), PW_DROP_POLICY_DENIED, "5001 v6");
	ok.rport = 5000;
	ok.lport = 40001;
	ASSERT_EQ(fx_udp(&ok, EG), PW_DROP_POLICY_DENIED, "udp 5000");
	return true;
}

/* For ICMP the policy's "port" is type << 8 | code. */
PW_TEST(policy_icmp_type_code)
{
	struct fx_flow f = {.ep = A, .peer = "10.1.0.5"};
	struct fx_flow f6 = {.ep = A, .peer = "fd01::5"};
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_ICMP, 8 << 8, 8 << 8, 61),
		  "echo request");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_ICMPV6, 128 << 8, 128 << 8,
			   62),
		  "echo request v6");
	ASSERT_EQ(fx_echo(&f, EG, false, 1), FX_PASS, "echo");
	ASSERT_EQ(fx_echo(&f6, EG, false, 1), FX_PASS, "echo v6");

	fx_frame(&p, &f, EG);
	pg_icmp(&p, 13, 0, 1, 1); /* timestamp request */
	pg_fill(&p, 12, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "timestamp");
	fx_frame(&p, &f, EG);
	pg_icmp(&p, 8, 1, 2, 1); /* echo request, code 1 */
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "code 1");
	/* ICMP's rule says nothing of ICMPv6 */
	fx_frame(&p, &f6, EG);
	pg_icmp(&p, 8, 0, 3, 1);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "type 8 in v6");
	return true;
}

/*
 * IPv4 lives in the maps as ::ffff:a.b.c.d, so an IPv6 packet whose source
 * is that mapped address must not be taken for the IPv4 peer: such an
 * address never appears on the wire (RFC 4291 2.5.5.2), and anyone able to
 * send IPv6 to the pod could otherwise borrow an allowed IPv4 identity.
 */
PW_TEST(policy_v4_mapped_ipv6_source_is_not_the_v4_peer)
{
	struct fx_flow v4 = FX_FLOW(A, "10.1.0.5", 8080, 5000);
	struct fx_flow mapped = FX_FLOW(A, "::ffff:10.1.0.5", 8080, 5001);

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2000, 0), "peer pod");
	ASSERT_OK(fx_allow(A, IN, 2000, IPPROTO_TCP, 8080, 8080, 7), "rule");
	ASSERT_EQ(fx_tcp(&v4, IN, PG_SYN), FX_PASS, "the IPv4 peer");
	ASSERT_NEQ(fx_tcp(&mapped, IN, PG_SYN), FX_PASS,
		   "IPv6 from ::ffff:10.1.0.5");
	return true;
}

/*
 * Exact entries live in a hash, prefixes in the trie. The hash is asked
 * first, and its entry is the longest match the trie would have given: the
 * same verdict and the same rule. An endpoint that says its direction is
 * exact only (PW_EP_F_*_EXACT) never walks the trie for it; one that does
 * not say so (every endpoint written before the flag) always does, and
 * finds there an exact entry an older podwall left in the trie.
 */
PW_TEST(policy_exact_hash_and_trie)
{
	struct fx_flow p80 = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow p81 = FX_FLOW(A, "10.1.0.5", 40001, 81);
	struct fx_flow p90 = FX_FLOW(A, "10.1.0.5", 40002, 90);
	struct pw_policy_key old = {
		.prefixlen = PW_POL_PLEN_FULL,
		.peer_id = PW_ID_ANY,
		.dir = EG,
		.proto = IPPROTO_TCP,
		.dport = htons(90),
	};
	struct pw_policy_entry e = {.rule_id = 53};
	struct pw_ct_entry ct;
	__u64 n;
	__u32 max;

	ASSERT_OK(fx_init(), "fixture");
	old.pol_id = A->ep_id; /* known once the fixture is up */
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 51), "exact");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 64, 127, 52),
		  "range");
	ASSERT_OK(pw_dp_map_fill(fx.dp, PW_MAP_POLICY_EXACT, &n, &max),
		  "exact map");
	ASSERT_EQ(n, 1, "the exact entry is in the hash");
	ASSERT_OK(pw_dp_map_fill(fx.dp, PW_MAP_POLICY, &n, &max), "trie");
	ASSERT_EQ(n, 1, "the range is one trie prefix");
	/* an exact entry in the trie, as pins from before the hash hold */
	ASSERT_OK(bpf_map_update_elem(pw_dp_map_fd(fx.dp, PW_MAP_POLICY), &old,
				      &e, BPF_ANY),
		  "old exact entry");

	ASSERT_EQ(fx_tcp(&p80, EG, PG_SYN), FX_PASS, "exact port");
	ASSERT_OK(fx_ct_get(&p80, IPPROTO_TCP, &ct), "flow 80");
	ASSERT_EQ(ct.rule_id, 51, "the exact rule, the longest match");
	ASSERT_EQ(fx_tcp(&p81, EG, PG_SYN), FX_PASS, "port in the range");
	ASSERT_OK(fx_ct_get(&p81, IPPROTO_TCP, &ct), "flow 81");
	ASSERT_EQ(ct.rule_id, 52, "the range's rule");
	ASSERT_EQ(fx_tcp(&p90, EG, PG_SYN), FX_PASS, "old entry in the trie");
	ASSERT_OK(fx_ct_get(&p90, IPPROTO_TCP, &ct), "flow 90");
	ASSERT_EQ(ct.rule_id, 53, "found in the trie");

	/* "exact only": the trie is not asked, the hash still is */
	ASSERT_OK(
		fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED | PW_EP_F_EGRESS_EXACT, 2),
		"exact only");
	p80.lport = 41000;
	p81.lport = 41001;
	p90.lport = 41002;
	ASSERT_EQ(fx_tcp(&p80, EG, PG_SYN), FX_PASS, "exact port, no trie");
	ASSERT_EQ(fx_tcp(&p81, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "the trie was not walked");
	ASSERT_EQ(fx_tcp(&p90, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "nor for its exact entry");
	/* the flag of the other direction does not skip this one's trie */
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_EXACT,
			    3),
		  "ingress exact only");
	p81.lport = 42000;
	ASSERT_EQ(fx_tcp(&p81, EG, PG_SYN), FX_PASS, "egress walks the trie");

	/* flushing the set empties both maps */
	ASSERT_OK(pw_dp_policy_flush(fx.dp, A->ep_id), "flush");
	ASSERT_OK(pw_dp_map_fill(fx.dp, PW_MAP_POLICY_EXACT, &n, &max),
		  "exact map");
	ASSERT_EQ(n, 0, "hash flushed");
	ASSERT_OK(pw_dp_map_fill(fx.dp, PW_MAP_POLICY, &n, &max), "trie");
	ASSERT_EQ(n, 0, "trie flushed");
	p80.lport = 43000;
	ASSERT_EQ(fx_tcp(&p80, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "nothing left");
	return true;
}
