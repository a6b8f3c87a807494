// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The XDP veth mode: pw_from_pod_xdp is pw_from_pod's code on an xdp_md.
 * The key cases of the from-pod tests run again with it (fx.xdp), and
 * the whole suite can (PW_FX_XDP=1). Then what only XDP mode has: the
 * same events as TC, and the switch between modes on a live veth.
 */
#include <errno.h>
#include "bpf_fixture.h"

#define XDP_CASE(name)                    \
	PW_TEST(xdp_##name)               \
	{                                 \
		return fx_xdp_run(#name); \
	}

XDP_CASE(policy_egress_default_deny)
XDP_CASE(policy_port_range)
XDP_CASE(policy_icmp_type_code)
XDP_CASE(spoof_source_ip)
XDP_CASE(spoof_source_mac)
XDP_CASE(spoof_arp)
XDP_CASE(spoof_nd_advertisements)
XDP_CASE(frag4_later_without_first)
XDP_CASE(frag4_allowed_first_then_later)
XDP_CASE(frag4_denied_first_then_later)
XDP_CASE(frag4_overlap)
XDP_CASE(ip4_tot_len_past_packet)
XDP_CASE(ip6_ext_chain_before_tcp)
XDP_CASE(ip6_ext_header_past_end)
XDP_CASE(ip6_frag_first_then_later)
XDP_CASE(ip6_frag_denied_first_then_later)
XDP_CASE(ct_reply_passes_without_reverse_rule)
XDP_CASE(ct_out_of_state_dropped_on_enforced_direction)
XDP_CASE(ct_port_reuse_after_close)
XDP_CASE(ct_revision_change_cuts_revoked_flows)
XDP_CASE(evasion_tcp_rst_injection)
XDP_CASE(evasion_icmp_error_about_denied_flow)
XDP_CASE(l2_qinq_judged)
XDP_CASE(l2_tagged_spoofing)
XDP_CASE(events_new_flow_fields)
XDP_CASE(events_drop_fields)
XDP_CASE(events_flow_end_after_fin_both_ways)
XDP_CASE(counters_per_endpoint_and_node)
XDP_CASE(attached_offloaded_vlan_tag_is_counted)

/* Runs @p as pod A's with TC or XDP; its one event into *ev. */
static int one_event(struct pg *p, bool xdp, struct pw_flow_event *ev)
{
	bool was = fx.xdp;
	int ret;

	fx.xdp = xdp;
	ret = fx_run(p, EG, A);
	fx.xdp = was;
	if (fx_last_nev() != 1)
		return -ENOMSG;
	*ev = fx.ev[fx.nev_last];
	ev->ts_ns = 0;
	return ret;
}

/* A flow log cannot tell which program judged: same event, field for
 * field, for an allowed and a denied packet. */
PW_TEST(xdp_events_same_as_tc)
{
	struct fx_flow ok = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow no = FX_FLOW(A, "10.1.0.5", 40001, 81);
	struct pw_flow_event tc, xdp;
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2000, 0), "peer");
	ASSERT_OK(fx_allow(A, EG, 2000, IPPROTO_TCP, 80, 80, 55), "rule");

	fx_tcp_frame(&p, &ok, EG, PG_SYN);
	ASSERT_EQ(one_event(&p, false, &tc), FX_PASS, "tc: allowed");
	/* the flow is known now: start afresh for XDP's first packet */
	ASSERT_OK(fx_init(), "fixture again");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2000, 0), "peer");
	ASSERT_OK(fx_allow(A, EG, 2000, IPPROTO_TCP, 80, 80, 55), "rule");
	ASSERT_EQ(one_event(&p, true, &xdp), FX_PASS, "xdp: allowed");
	ASSERT_EQ(xdp.ifindex, A->ifindex, "xdp: ifindex");
	ASSERT_EQ(xdp.dir, EG, "xdp: dir");
	ASSERT_OK(memcmp(&tc, &xdp, sizeof(tc)), "new events alike");

	fx_tcp_frame(&p, &no, EG, PG_SYN);
	ASSERT_EQ(one_event(&p, false, &tc), PW_DROP_POLICY_DENIED,
		  "tc: denied");
	ASSERT_EQ(one_event(&p, true, &xdp), PW_DROP_POLICY_DENIED,
		  "xdp: denied");
	ASSERT_OK(memcmp(&tc, &xdp, sizeof(tc)), "drop events alike");
	return true;
}

/* How many packets pod A's counters say were allowed. */
static long long allowed_of_a(void)
{
	struct pw_counter c[PW_CNT_SLOTS];

	if (fx_counters(A->ep_id, c))
		return -1;
	return c[PW_CNT_ALLOWED].packets;
}

/* Sends @n allowed SYNs (new ports each time) from pod A's side of the
 * veth; returns once their events came, or fails. */
static bool send_allowed(int n, int *port)
{
	int i, want = fx.nev + n;
	struct pg p;

	for (i = 0; i < n; i++) {
		struct fx_flow f = FX_FLOW(A, "10.1.0.5", (*port)++, 80);

		fx_tcp_frame(&p, &f, EG, PG_SYN);
		if (fx_inject(&p, A))
			return false;
	}
	return fx_wait_events(want, 1000) == want;
}

/*
 * A veth goes from TC to XDP mode and back while attached: each time the
 * other mode's from-pod program comes off, so a packet is judged once
 * (the allowed count grows by one per packet), and pw_to_pod stays.
 */
PW_TEST(xdp_mode_switch_on_a_live_veth)
{
	int port = 41000;
	bool ok = false;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 80), "rule");
	do {
		fx.xdp = false;
		if (fx_attach(A) ||
		    pw_dp_attached_mode(A->ifindex) != PW_VETH_TC ||
		    pw_dp_attached(fx.dp, A->ifindex) != 1) {
			PW_FAIL("TC mode: not attached as TC");
			break;
		}
		if (!send_allowed(2, &port) || allowed_of_a() != 2) {
			PW_FAIL("TC mode: %lld allowed of 2", allowed_of_a());
			break;
		}
		fx.xdp = true;
		if (fx_attach(A) ||
		    pw_dp_attached_mode(A->ifindex) != PW_VETH_XDP ||
		    pw_dp_attached(fx.dp, A->ifindex) != 1) {
			PW_FAIL("XDP mode: not attached as XDP");
			break;
		}
		/* pw_from_pod is gone from TC ingress, pw_to_pod stays */
		pw_dp_set_veth_mode(fx.dp, PW_VETH_TC);
		if (pw_dp_attached(fx.dp, A->ifindex) != 0) {
			PW_FAIL("XDP mode: pw_from_pod still on TC ingress");
			break;
		}
		if (!send_allowed(2, &port) || allowed_of_a() != 4) {
			PW_FAIL("XDP mode: %lld allowed of 4", allowed_of_a());
			break;
		}
		fx.xdp = false;
		if (fx_attach(A) ||
		    pw_dp_attached_mode(A->ifindex) != PW_VETH_TC) {
			PW_FAIL("back to TC: XDP program still there");
			break;
		}
		if (!send_allowed(2, &port) || allowed_of_a() != 6) {
			PW_FAIL("back to TC: %lld allowed of 6",
				allowed_of_a());
			break;
		}
		ok = true;
	} while (0);
	fx_detach(A);
	fx.xdp = false;
	pw_dp_set_veth_mode(fx.dp, PW_VETH_TC);
	ASSERT_TRUE(ok, "mode switches");
	ASSERT_EQ(pw_dp_attached_mode(A->ifindex), -ENOENT,
		  "detach takes off both modes' programs");
	return true;
}
