// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Audit mode: policy's would-be drops (policy-denied, out-of-state,
 * policy-revoked) pass and are reported; malformed and spoofed packets
 * still drop, since they are not policy.
 */
#include "bpf_fixture.h"

#define ENFORCED (PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED)

PW_TEST(audit_denied_packet_passes_and_is_reported)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 9999);
	struct pw_counter c[PW_CNT_SLOTS];
	const struct pw_flow_event *ev;
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, ENFORCED | PW_EP_F_AUDIT, 1), "endpoint");
	fx_tcp_frame(&p, &f, EG, PG_SYN);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "passes");
	ASSERT_EQ(fx_last_nev(), 1, "one event");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "a drop event");
	ASSERT_EQ(ev->verdict, PW_VERDICT_AUDIT, "verdict");
	ASSERT_EQ(ev->reason, PW_DROP_POLICY_DENIED, "reason");
	ASSERT_EQ(ev->dir, EG, "direction");
	ASSERT_EQ(ev->ep_id, A->ep_id, "endpoint");
	ASSERT_EQ(ev->dport, htons(9999), "port");

	ASSERT_OK(fx_counters(A->ep_id, c), "counters");
	ASSERT_EQ(c[PW_CNT_AUDIT].packets, 1, "audit slot");
	ASSERT_EQ(c[PW_CNT_AUDIT].bytes, p.len, "audit bytes");
	ASSERT_EQ(c[PW_DROP_POLICY_DENIED].packets, 0, "no drop counted");
	ASSERT_EQ(c[PW_CNT_ALLOWED].packets, 0, "not counted as allowed");
	ASSERT_OK(fx_counters(0, c), "node counters");
	ASSERT_EQ(c[PW_CNT_AUDIT].packets, 1, "node audit slot");

	/* into the pod as well */
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "ingress passes");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev && ev->verdict == PW_VERDICT_AUDIT &&
			    ev->reason == PW_DROP_POLICY_DENIED,
		    "ingress audit event");
	return true;
}

PW_TEST(audit_out_of_state_passes)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	const struct pw_flow_event *ev;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, ENFORCED | PW_EP_F_AUDIT, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "rule");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), FX_PASS, "ack without a flow");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "event");
	ASSERT_EQ(ev->verdict, PW_VERDICT_AUDIT, "verdict");
	ASSERT_EQ(ev->reason, PW_DROP_OUT_OF_STATE, "reason");
	return true;
}

PW_TEST(audit_revoked_flow_passes)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	const struct pw_flow_event *ev;
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, ENFORCED | PW_EP_F_AUDIT, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 7), "rule");
	ASSERT_EQ(fx_handshake(&f, EG), FX_PASS, "handshake");
	ASSERT_EQ(fx_ev_count(PW_EV_DROP), 0, "nothing to audit yet");
	ASSERT_OK(pw_dp_policy_flush(fx.dp, A->ep_id), "flush");
	ASSERT_OK(fx_ep_set(A, ENFORCED | PW_EP_F_AUDIT, 2), "rev 2");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK | PG_PSH), FX_PASS, "passes");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "event");
	ASSERT_EQ(ev->verdict, PW_VERDICT_AUDIT, "verdict");
	ASSERT_EQ(ev->reason, PW_DROP_POLICY_REVOKED, "reason");
	ASSERT_TRUE(!fx_last_ev(PW_EV_END), "flow not ended");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry kept");
	ASSERT_EQ(ct.rev, 2, "at the new revision");
	return true;
}

PW_TEST(audit_does_not_pass_malformed_or_spoofed)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct pw_counter c[PW_CNT_SLOTS];
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, ENFORCED | PW_EP_F_AUDIT, 1), "endpoint");
	fx_frame(&p, &f, EG);
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 80,
				    .flags = PG_SYN,
				    .doff = 3});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "bad doff");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN | PG_FIN), PW_DROP_BAD_TCP_FLAGS,
		  "bad flags");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.0.0.2", .dst = "10.1.0.5"});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_SPOOFED_IP, "spoofed");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4,
				    .dst = "10.1.0.5",
				    .id = 9,
				    .frag_off = 16,
				    .proto = IPPROTO_TCP});
	pg_fill(&p, 8, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_FRAG_NO_FIRST, "fragment");
	ASSERT_OK(fx_counters(A->ep_id, c), "counters");
	ASSERT_EQ(c[PW_CNT_AUDIT].packets, 0, "nothing audited");
	return true;
}
