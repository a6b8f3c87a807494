// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Link control traffic and what the flow log says about odd drops: IGMP
 * to 224.0.0.0/24 passes like ND, other IGMP is judged; an ARP spoof drop
 * names the claimed address; a revoked flow's drop names its rule and peer
 * and its end is told once.
 */
#include <bpf/bpf.h>
#include "bpf_fixture.h"

static int run_igmp(const struct fx_ep *ep, int dir, const char *src,
		    const char *dst)
{
	static const __u8 report[8] = {0x22, 0, 0, 0, 0, 0, 0, 0};
	struct pg p;

	pg_init(&p);
	if (dir == EG)
		pg_eth(&p, ep->mac, fx_host_mac, 0);
	else
		pg_eth(&p, fx_host_mac, ep->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = src, .dst = dst, .proto = 2});
	pg_bytes(&p, report, sizeof(report));
	pg_finish(&p);
	return fx_run(&p, dir, ep);
}

PW_TEST(link_igmp_local_passes_other_judged)
{
	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint, no rules");
	ASSERT_EQ(run_igmp(A, EG, A->ip4, "224.0.0.22"), FX_PASS,
		  "membership report from the pod");
	ASSERT_EQ(run_igmp(A, IN, "10.0.0.254", "224.0.0.1"), FX_PASS,
		  "query to the pod");
	ASSERT_EQ(fx_ct_count(), 0, "link control makes no flow");
	ASSERT_EQ(run_igmp(A, EG, A->ip4, "239.1.1.1"), PW_DROP_POLICY_DENIED,
		  "IGMP beyond the local segment is judged");
	ASSERT_EQ(run_igmp(A, EG, A->ip4, "10.0.0.2"), PW_DROP_POLICY_DENIED,
		  "unicast IGMP is judged");
	ASSERT_EQ(run_igmp(A, EG, B->ip4, "224.0.0.22"), PW_DROP_SPOOFED_IP,
		  "still from the pod's own address");
	return true;
}

PW_TEST(link_arp_drop_event_names_the_claim)
{
	const struct pw_flow_event *ev;
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, 0, 1), "endpoint");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_arp(&p, 2, A->mac, B->ip4, (const __u8[6]){0}, "10.0.0.254");
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_SPOOFED_IP, "claims B");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev != NULL, "drop event");
	ASSERT_TRUE(fx_addr_eq(ev->src, B->ip4), "claimed address as src");
	ASSERT_TRUE(fx_addr_eq(ev->dst, "10.0.0.254"), "asked-for as dst");
	return true;
}

PW_TEST(link_revoked_drop_names_rule_and_peer_and_ends_once)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	const struct pw_flow_event *ev;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2100, 0), "peer identity");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, 2100, IPPROTO_TCP, 80, 80, 7), "rule");
	ASSERT_OK(fx_handshake(&f, EG), "handshake");
	/* the flow ends with FIN both ways, then its policy goes */
	ASSERT_EQ(fx_tcp(&f, EG, PG_FIN | PG_ACK), FX_PASS, "FIN out");
	ASSERT_EQ(fx_tcp(&f, IN, PG_FIN | PG_ACK), FX_PASS, "FIN in");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 1, "one end at close");
	ASSERT_OK(pw_dp_policy_flush(fx.dp, A->ep_id), "withdraw");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 2), "bump");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), PW_DROP_POLICY_REVOKED, "last ACK");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 1, "no second end for one flow");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev != NULL, "drop event");
	ASSERT_EQ(ev->reason, PW_DROP_POLICY_REVOKED, "reason");
	ASSERT_EQ(ev->peer_id, 2100, "peer named");
	ASSERT_EQ(ev->rule_id, PW_RULE_DEFAULT, "no rule allows it now");
	return true;
}
