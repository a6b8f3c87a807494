// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Conntrack: replies without reverse rules, out-of-state packets, entry
 * contents and timeouts, TCP flags, port reuse, and the cut of established
 * flows when the endpoint's policy revision moves on.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "bpf_fixture.h"

#define SEC_NS 1000000000ULL

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * SEC_NS + ts.tv_nsec;
}

PW_TEST(ct_reply_passes_without_reverse_rule)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow back = FX_FLOW(A, "10.1.0.5", 80, 40000);
	struct fx_flow f6 = FX_FLOW(A, "fd01::5", 40000, 80);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "rule");

	ASSERT_EQ(fx_handshake(&f, EG), FX_PASS, "handshake");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK | PG_PSH), FX_PASS, "data in");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK | PG_PSH), FX_PASS, "data out");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "flow");
	ASSERT_EQ(ct.pkts[PW_CT_FWD], 3, "forward packets");
	ASSERT_EQ(ct.pkts[PW_CT_REV], 2, "reply packets");
	/* the same peer opening its own flow to the pod is not a reply */
	ASSERT_EQ(fx_tcp(&back, IN, PG_SYN), PW_DROP_POLICY_DENIED,
		  "ingress is enforced");
	/* and UDP replies: first packet NEW, reply ESTABLISHED */
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 8), "udp");
	f.rport = 53;
	ASSERT_EQ(fx_udp(&f, EG), FX_PASS, "query");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_UDP, &ct), "udp flow");
	ASSERT_EQ(ct.state, PW_CT_NEW, "udp new");
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "answer");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_UDP, &ct), "udp flow");
	ASSERT_EQ(ct.state, PW_CT_ESTABLISHED, "udp established");
	/* IPv6 the same */
	ASSERT_EQ(fx_handshake(&f6, EG), FX_PASS, "v6 handshake");
	return true;
}

PW_TEST(ct_out_of_state_dropped_on_enforced_direction)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow in = FX_FLOW(A, "10.1.0.5", 80, 40000);
	static const __u8 flags[] = {PG_ACK, PG_ACK | PG_PSH, PG_FIN | PG_ACK,
				     PG_RST, PG_RST | PG_ACK, PG_SYN | PG_ACK};
	unsigned int i;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	/* the policy allows the port: only the missing state drops these */
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "out");
	ASSERT_OK(fx_allow(A, IN, PW_ID_ANY, IPPROTO_TCP, 80, 80, 8), "in");
	for (i = 0; i < sizeof(flags); i++) {
		ASSERT_EQ(fx_tcp(&f, EG, flags[i]), PW_DROP_OUT_OF_STATE,
			  "egress without a flow");
		ASSERT_EQ(fx_tcp(&in, IN, flags[i]), PW_DROP_OUT_OF_STATE,
			  "ingress without a flow");
	}
	ASSERT_EQ(fx_ct_count(), 0, "nothing tracked");
	return true;
}

/*
 * A non-SYN on a direction no policy selects passes. It becomes a flow only
 * when the endpoint is open both ways: had it been picked up here, the
 * pod's packets on its enforced egress would have passed as "replies".
 */
PW_TEST(ct_pickup_on_unenforced_direction)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 8080, 50000);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK | PG_PSH), FX_PASS, "mid-flow");
	ASSERT_EQ(fx_ct_count(), 0, "no state on a half-enforced endpoint");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), PW_DROP_OUT_OF_STATE,
		  "the pod's enforced egress is not a reply channel");

	/* open both ways: picked up, and both sides flow */
	ASSERT_OK(fx_ep_set(A, 0, 2), "open endpoint");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK | PG_PSH), FX_PASS, "mid-flow");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "picked up");
	ASSERT_EQ(ct.state, PW_CT_ESTABLISHED, "established");
	ASSERT_EQ(ct.origin, IN, "origin");
	ASSERT_EQ(ct.flags & PW_CT_F_PICKUP, PW_CT_F_PICKUP, "marked pickup");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), FX_PASS, "pod answers");

	/* a policy now selects it for egress: the picked-up flow has no
	 * judged direction, so the revision cuts it */
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 50000, 50000, 3),
		  "egress rule for the peer's port");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 3), "enforce egress");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK), PW_DROP_POLICY_REVOKED, "cut");
	ASSERT_EQ(fx_ct_count(), 0, "entry gone");
	return true;
}

/*
 * A flow cut by a revision stays cut: the peer's next ACK arrives on the
 * pod's open ingress, but must not bring the flow back as a pickup whose
 * "replies" are the pod's denied egress.
 */
PW_TEST(ct_revoked_flow_stays_cut)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "rule");
	ASSERT_OK(fx_handshake(&f, EG), "handshake");
	ASSERT_OK(pw_dp_policy_flush(fx.dp, A->ep_id), "withdraw the rule");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 2), "bump");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK | PG_PSH), PW_DROP_POLICY_REVOKED,
		  "cut at the next packet");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK), FX_PASS, "peer's ACK: open ingress");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK | PG_PSH), PW_DROP_OUT_OF_STATE,
		  "the pod still may not send");
	ASSERT_EQ(fx_ct_count(), 0, "no state came back");
	return true;
}

PW_TEST(ct_syn_entry_content)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 443);
	struct pw_ct_entry ct;
	__u64 t0, t1;
	struct pg p;
	__u16 len;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    7),
		  "endpoint");
	ASSERT_OK(fx_ipcache("10.1.0.0/24", 2100, 0), "peer");
	ASSERT_OK(fx_allow(A, EG, 2100, IPPROTO_TCP, 443, 443, 77), "rule");

	fx_tcp_frame(&p, &f, EG, PG_SYN);
	len = p.len;
	t0 = mono_ns();
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "syn");
	t1 = mono_ns();
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_SYN_SENT, "state");
	ASSERT_EQ(ct.origin, EG, "origin");
	ASSERT_EQ(ct.pkts[PW_CT_FWD], 1, "fwd packets");
	ASSERT_EQ(ct.pkts[PW_CT_REV], 0, "rev packets");
	ASSERT_EQ(ct.bytes[PW_CT_FWD], len, "fwd bytes");
	ASSERT_EQ(ct.bytes[PW_CT_REV], 0, "rev bytes");
	ASSERT_EQ(ct.rev, 7, "revision");
	ASSERT_EQ(ct.rule_id, 77, "rule");
	ASSERT_EQ(ct.peer_id, 2100, "peer");
	ASSERT_EQ(ct.pol_dport, htons(443), "policy port");
	ASSERT_EQ(ct.tcp_flags[PW_CT_FWD], PG_SYN, "fwd flags");
	ASSERT_EQ(ct.tcp_flags[PW_CT_REV], 0, "rev flags");
	ASSERT_EQ(ct.flags & PW_CT_F_AUDIT, 0, "not audit");
	ASSERT_EQ(ct.flags & PW_CT_F_ENDED, 0, "not ended");
	ASSERT_TRUE(ct.created_ns >= t0 && ct.created_ns <= t1,
		    "created now (CLOCK_MONOTONIC)");
	ASSERT_EQ(ct.expires_ns - ct.created_ns, 60 * SEC_NS, "syn timeout");

	/* only the peer's answer establishes the flow, not the pod's ACK */
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), FX_PASS, "early ack");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_SYN_SENT, "still syn-sent");
	ASSERT_TRUE(ct.expires_ns - ct.created_ns < 61 * SEC_NS,
		    "still the syn timeout");

	fx_tcp_frame(&p, &f, IN, PG_SYN | PG_ACK);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "syn-ack");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_ESTABLISHED, "established");
	ASSERT_EQ(ct.pkts[PW_CT_REV], 1, "rev packets");
	ASSERT_EQ(ct.bytes[PW_CT_REV], p.len, "rev bytes");
	ASSERT_EQ(ct.tcp_flags[PW_CT_REV], PG_SYN | PG_ACK, "rev flags");
	ASSERT_EQ(ct.expires_ns - ct.created_ns >= 6 * 3600 * SEC_NS, 1,
		  "established timeout");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), FX_PASS, "ack");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.pkts[PW_CT_FWD], 3, "fwd packets");
	ASSERT_EQ(ct.tcp_flags[PW_CT_FWD], PG_SYN | PG_ACK, "fwd flags");
	return true;
}

/* Timeouts come from the load options, through the rodata config. */
PW_TEST(ct_timeouts_from_load_options)
{
	struct pw_dp_opts opts = {
		.cfg = {.ct_tcp_syn_ns = 7 * SEC_NS,
			.ct_tcp_est_ns = 123 * SEC_NS,
			.ct_tcp_close_ns = 3 * SEC_NS,
			.ct_udp_ns = 11 * SEC_NS,
			.ct_other_ns = 13 * SEC_NS},
	};
	struct fx_flow t = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow u = FX_FLOW(A, "10.1.0.5", 40000, 53);
	struct fx_flow i = FX_FLOW(A, "10.1.0.5", 0, 0);
	struct pw_ct_entry ct;
	__u64 t0;

	ASSERT_OK(fx_init_opts(&opts), "fixture");
	ASSERT_OK(fx_ep_set(A, 0, 1), "endpoint");

	ASSERT_EQ(fx_tcp(&t, EG, PG_SYN), FX_PASS, "syn");
	ASSERT_OK(fx_ct_get(&t, IPPROTO_TCP, &ct), "tcp");
	ASSERT_EQ(ct.expires_ns - ct.created_ns, 7 * SEC_NS, "syn");
	t0 = mono_ns();
	ASSERT_EQ(fx_tcp(&t, IN, PG_SYN | PG_ACK), FX_PASS, "syn-ack");
	ASSERT_OK(fx_ct_get(&t, IPPROTO_TCP, &ct), "tcp");
	ASSERT_TRUE(ct.expires_ns >= t0 + 123 * SEC_NS &&
			    ct.expires_ns <= mono_ns() + 123 * SEC_NS,
		    "established");
	t0 = mono_ns();
	ASSERT_EQ(fx_tcp(&t, EG, PG_RST), FX_PASS, "rst");
	ASSERT_OK(fx_ct_get(&t, IPPROTO_TCP, &ct), "tcp");
	ASSERT_EQ(ct.state, PW_CT_CLOSED, "closed");
	ASSERT_TRUE(ct.expires_ns >= t0 + 3 * SEC_NS &&
			    ct.expires_ns <= mono_ns() + 3 * SEC_NS,
		    "closed");

	ASSERT_EQ(fx_udp(&u, EG), FX_PASS, "udp");
	ASSERT_OK(fx_ct_get(&u, IPPROTO_UDP, &ct), "udp");
	ASSERT_EQ(ct.expires_ns - ct.created_ns, 11 * SEC_NS, "udp");

	ASSERT_EQ(fx_echo(&i, EG, false, 99), FX_PASS, "echo");
	ASSERT_OK(fx_ct_get_echo(&i, IPPROTO_ICMP, 99, true, &ct), "icmp");
	ASSERT_EQ(ct.expires_ns - ct.created_ns, 13 * SEC_NS, "other");
	return true;
}

/* An expired entry is no flow: the reply is judged as a new packet. */
PW_TEST(ct_expired_flow_is_gone)
{
	/* 50 ms: long enough for the answer that comes in time */
	struct pw_dp_opts opts = {.cfg = {.ct_udp_ns = 50 * 1000000ULL}};
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 53);
	const struct pw_flow_event *end;

	ASSERT_OK(fx_init_opts(&opts), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 5), "rule");
	ASSERT_EQ(fx_udp(&f, EG), FX_PASS, "query");
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "answer in time");
	usleep(80000);
	ASSERT_EQ(fx_udp(&f, IN), PW_DROP_POLICY_DENIED, "answer too late");
	end = fx_last_ev(PW_EV_END);
	ASSERT_TRUE(end, "flow end for the expired flow");
	ASSERT_EQ(end->reason, 0, "expired, not revoked");
	ASSERT_EQ(end->pkts[PW_CT_FWD], 1, "fwd");
	ASSERT_EQ(end->pkts[PW_CT_REV], 1, "rev");
	ASSERT_EQ(fx_ct_count(), 0, "entry removed");
	return true;
}

PW_TEST(ct_bad_tcp_flags)
{
	static const struct {
		__u8 flags;
		const char *name;
	} bad[] = {
		{PG_SYN | PG_FIN, "SYN+FIN"},
		{0, "NULL"},
		{PG_FIN | PG_PSH | PG_URG, "Xmas"},
		{PG_SYN | PG_RST, "SYN+RST"},
		{PG_FIN, "FIN without ACK"},
		{PG_SYN | PG_FIN | PG_ACK, "SYN+FIN+ACK"},
		{PG_FIN | PG_SYN | PG_RST | PG_PSH | PG_ACK | PG_URG, "all"},
	};
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow b = FX_FLOW(B, "10.1.0.5", 40000, 80);
	unsigned int i;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint A");
	ASSERT_OK(fx_ep_set(B, 0, 1), "endpoint B, nothing enforced");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "rule");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(fx_tcp(&f, EG, bad[i].flags), PW_DROP_BAD_TCP_FLAGS,
			  bad[i].name);
		ASSERT_EQ(fx_tcp(&b, EG, bad[i].flags), PW_DROP_BAD_TCP_FLAGS,
			  bad[i].name);
		ASSERT_EQ(fx_tcp(&b, IN, bad[i].flags), PW_DROP_BAD_TCP_FLAGS,
			  bad[i].name);
	}
	/* inside an established flow too */
	ASSERT_EQ(fx_handshake(&f, EG), FX_PASS, "handshake");
	ASSERT_EQ(fx_tcp(&f, IN, PG_FIN | PG_PSH | PG_URG),
		  PW_DROP_BAD_TCP_FLAGS, "Xmas in a flow");
	ASSERT_EQ(fx_ct_count(), 1, "only the good flow");
	return true;
}

/* ECE and CWR are not part of the flag check: an ECN SYN is a SYN. */
PW_TEST(ct_ecn_syn_starts_a_flow)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "rule");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN | PG_ECE | PG_CWR), FX_PASS, "syn");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_SYN_SENT, "syn-sent");
	ASSERT_EQ(fx_tcp(&f, IN, PG_SYN | PG_ACK | PG_ECE), FX_PASS, "syn-ack");
	return true;
}

/*
 * A pure SYN on a closed flow's tuple starts a new flow, judged afresh: a
 * rule removed meanwhile (without a revision bump) no longer allows it.
 */
PW_TEST(ct_port_reuse_after_close)
{
	struct pw_dp_rule r = {.pol_id = 1,
			       .peer_id = PW_ID_ANY,
			       .dir = EG,
			       .proto = IPPROTO_TCP,
			       .port_lo = 80,
			       .port_hi = 80,
			       .rule_id = 7};
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(pw_dp_policy_add(fx.dp, &r), "rule");
	ASSERT_EQ(fx_handshake(&f, EG), FX_PASS, "handshake");
	ASSERT_EQ(fx_tcp(&f, IN, PG_RST), FX_PASS, "rst");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_CLOSED, "closed");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, "new syn");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_SYN_SENT, "a new flow");
	ASSERT_EQ(ct.pkts[PW_CT_FWD], 1, "fresh counters");
	ASSERT_EQ(ct.pkts[PW_CT_REV], 0, "fresh counters");
	ASSERT_EQ(fx_tcp(&f, IN, PG_RST | PG_ACK), FX_PASS, "refused");

	ASSERT_OK(pw_dp_policy_del(fx.dp, &r), "rule removed");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED,
		  "judged afresh");
	ASSERT_EQ(fx_ct_count(), 0, "closed entry gone");
	return true;
}

/*
 * The policy changes under established flows (flush, new entries, rev
 * bumped): a flow no longer allowed is cut at its next packet, whichever
 * way it goes; one still allowed goes on under the new revision.
 */
PW_TEST(ct_revision_change_cuts_revoked_flows)
{
	struct fx_flow web = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow tls = FX_FLOW(A, "10.1.0.5", 40001, 443);
	struct fx_flow web2 = FX_FLOW(A, "10.1.0.6", 40002, 80);
	struct fx_flow dns = FX_FLOW(A, "10.1.0.6", 40003, 53);
	const struct pw_flow_event *end;
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 31), "80");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 443, 443, 32), "443");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 33), "53");
	ASSERT_EQ(fx_handshake(&web, EG), FX_PASS, "web");
	ASSERT_EQ(fx_handshake(&tls, EG), FX_PASS, "tls");
	ASSERT_EQ(fx_handshake(&web2, EG), FX_PASS, "web2");
	ASSERT_EQ(fx_udp(&dns, EG), FX_PASS, "dns");

	/* revision 2: only 443, by a new rule */
	ASSERT_OK(pw_dp_policy_flush(fx.dp, A->ep_id), "flush");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 443, 443, 34),
		  "443 again");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    2),
		  "rev 2");

	ASSERT_EQ(fx_tcp(&web, EG, PG_ACK | PG_PSH), PW_DROP_POLICY_REVOKED,
		  "web cut");
	end = fx_last_ev(PW_EV_END);
	ASSERT_TRUE(end, "flow end");
	ASSERT_EQ(end->reason, PW_DROP_POLICY_REVOKED, "end reason");
	ASSERT_EQ(end->verdict, PW_VERDICT_DROP, "end verdict");
	ASSERT_EQ(end->pkts[PW_CT_FWD], 2, "end fwd packets");
	ASSERT_EQ(end->pkts[PW_CT_REV], 1, "end rev packets");
	ASSERT_EQ(fx_ct_get(&web, IPPROTO_TCP, &ct), -ENOENT, "web removed");
	ASSERT_EQ(fx_tcp(&web, IN, PG_ACK | PG_PSH), PW_DROP_OUT_OF_STATE,
		  "web's reply has no state");
	ASSERT_EQ(fx_tcp(&web, EG, PG_ACK), PW_DROP_OUT_OF_STATE,
		  "web stays cut");

	/* a reply is the first packet after the change: cut as well */
	ASSERT_EQ(fx_tcp(&web2, IN, PG_ACK | PG_PSH), PW_DROP_POLICY_REVOKED,
		  "web2 reply cut");
	ASSERT_EQ(fx_ct_get(&web2, IPPROTO_TCP, &ct), -ENOENT, "web2 removed");
	ASSERT_EQ(fx_udp(&dns, IN), PW_DROP_POLICY_REVOKED, "dns reply cut");

	ASSERT_EQ(fx_tcp(&tls, EG, PG_ACK | PG_PSH), FX_PASS, "tls goes on");
	ASSERT_OK(fx_ct_get(&tls, IPPROTO_TCP, &ct), "tls entry");
	ASSERT_EQ(ct.rev, 2, "tls revision updated");
	ASSERT_EQ(ct.rule_id, 34, "tls now by the new rule");
	ASSERT_EQ(fx_tcp(&tls, IN, PG_ACK), FX_PASS, "tls reply");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 3, "three flows ended");
	return true;
}

/* The revision check applies to replies on the pod's ingress too. */
PW_TEST(ct_revision_change_ingress_flow)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 8080, 50000);
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    4),
		  "endpoint");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2000, 0), "peer");
	ASSERT_OK(fx_allow(A, IN, 2000, IPPROTO_TCP, 8080, 8080, 9), "rule");
	ASSERT_EQ(fx_handshake(&f, IN), FX_PASS, "handshake");
	/* same revision, rule gone: the flow is not judged again */
	ASSERT_OK(pw_dp_policy_flush(fx.dp, A->ep_id), "flush");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), FX_PASS, "no revision change");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    5),
		  "rev 5");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK | PG_PSH), PW_DROP_POLICY_REVOKED,
		  "pod's reply cut");
	ASSERT_EQ(fx_ct_get(&f, IPPROTO_TCP, &ct), -ENOENT, "removed");
	ASSERT_EQ(fx_tcp(&f, IN, PG_ACK), PW_DROP_OUT_OF_STATE, "stays cut");
	return true;
}

/*
 * Two pods on the node: the sender's egress and the receiver's ingress
 * are judged apart, each with its own entry.
 */
PW_TEST(ct_two_endpoints_judged_apart)
{
	struct fx_flow a_side = FX_FLOW(A, "10.0.0.2", 40000, 80);
	struct fx_flow b_side = FX_FLOW(B, "10.0.0.1", 80, 40000);
	struct pw_ct_entry ct;
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "A");
	ASSERT_OK(fx_ep_set(B,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "B");
	ASSERT_OK(fx_ipcache("10.0.0.1", A->identity, 0), "A's address");
	ASSERT_OK(fx_ipcache("10.0.0.2", B->identity, 0), "B's address");
	ASSERT_OK(fx_allow(A, EG, B->identity, IPPROTO_TCP, 80, 80, 1), "A");

	/* the same frame at A's veth (egress) then B's (ingress) */
	fx_tcp_frame(&p, &a_side, EG, PG_SYN);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "A may send");
	ASSERT_EQ(fx_run(&p, IN, B), PW_DROP_POLICY_DENIED,
		  "B does not accept");
	ASSERT_OK(fx_ct_get(&a_side, IPPROTO_TCP, &ct), "A's entry");
	ASSERT_EQ(fx_ct_get(&b_side, IPPROTO_TCP, &ct), -ENOENT, "none at B");

	ASSERT_OK(fx_allow(B, IN, A->identity, IPPROTO_TCP, 80, 80, 2), "B");
	ASSERT_EQ(fx_run(&p, IN, B), FX_PASS, "B accepts");
	ASSERT_OK(fx_ct_get(&b_side, IPPROTO_TCP, &ct), "B's entry");
	ASSERT_EQ(ct.rule_id, 2, "B's rule");
	ASSERT_EQ(ct.peer_id, A->identity, "A's identity");
	ASSERT_EQ(ct.origin, IN, "B's ingress");

	fx_tcp_frame(&p, &b_side, EG, PG_SYN | PG_ACK);
	ASSERT_EQ(fx_run(&p, EG, B), FX_PASS, "B's reply leaves B");
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "and reaches A");
	ASSERT_EQ(fx_ct_count(), 2, "one entry per endpoint");
	return true;
}

struct swept {
	int n;
	__u64 pkts;
	__u8 origin;
};

static void on_swept(const struct pw_ct_key *k, const struct pw_ct_entry *e,
		     void *arg)
{
	struct swept *s = arg;

	(void)k;
	s->n++;
	s->pkts += e->pkts[PW_CT_FWD] + e->pkts[PW_CT_REV];
	s->origin = e->origin;
}

/* The agent's sweep ends idle flows that no packet looks up again, and
 * only those: a flow whose expiry is still ahead stays, whatever else the
 * table holds. */
PW_TEST(ct_sweep_ends_only_expired_flows)
{
	struct fx_flow idle = FX_FLOW(A, "10.1.0.5", 40000, 53);
	struct fx_flow live = FX_FLOW(A, "10.1.0.6", 40001, 53);
	struct pw_ct_entry ci, cl;
	struct swept s = {};

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_UDP, 53, 53, 7), "rule");
	ASSERT_EQ(fx_udp(&idle, EG), FX_PASS, "idle flow's query");
	ASSERT_EQ(fx_udp(&idle, IN), FX_PASS, "idle flow's answer");
	ASSERT_EQ(fx_udp(&live, EG), FX_PASS, "live flow");
	ASSERT_OK(fx_ct_get(&idle, IPPROTO_UDP, &ci), "idle entry");
	ASSERT_OK(fx_ct_get(&live, IPPROTO_UDP, &cl), "live entry");
	ASSERT_EQ(fx_ct_count(), 2, "two flows");
	/* before either expires: nothing goes */
	ASSERT_EQ(pw_dp_ct_sweep(fx.dp, ci.expires_ns - 1, on_swept, &s), 0,
		  "nothing expired yet");
	ASSERT_EQ(s.n, 0, "no callback");
	/* the live one is refreshed past the idle one's expiry */
	usleep(2000);
	ASSERT_EQ(fx_udp(&live, EG), FX_PASS, "live flow again");
	ASSERT_OK(fx_ct_get(&live, IPPROTO_UDP, &cl), "live entry");
	ASSERT_TRUE(cl.expires_ns > ci.expires_ns, "live expires later");
	ASSERT_EQ(pw_dp_ct_sweep(fx.dp, ci.expires_ns, on_swept, &s), 1,
		  "the idle flow ends");
	ASSERT_EQ(s.n, 1, "one callback");
	ASSERT_EQ(s.pkts, 2, "with its counters");
	ASSERT_EQ(s.origin, PW_DIR_EGRESS, "and its origin");
	ASSERT_EQ(fx_ct_count(), 1, "the live one stays");
	ASSERT_OK(fx_ct_get(&live, IPPROTO_UDP, &cl), "live entry kept");
	ASSERT_TRUE(fx_ct_get(&idle, IPPROTO_UDP, &ci) != 0, "idle gone");
	return true;
}
