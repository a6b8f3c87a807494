// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic between a pod and its node (PW_ID_HOST in the ipcache): with
 * PW_EP_F_NODE_OPEN it passes whatever the policy, both ways, as
 * Kubernetes admits it; without, it is judged like any peer's.
 */
#include "bpf_fixture.h"

#define NODE_IP "10.1.0.1"

PW_TEST(node_open_admits_the_node_both_ways)
{
	struct fx_flow probe = FX_FLOW(A, NODE_IP, 8080, 40000);
	struct fx_flow to_node = FX_FLOW(A, NODE_IP, 40001, 53);
	struct fx_flow pod = FX_FLOW(A, "10.1.0.5", 8080, 40000);
	struct fx_flow world = FX_FLOW(A, "10.1.0.6", 8080, 40000);
	const struct pw_flow_event *ev;
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_INGRESS_ENFORCED | PW_EP_F_EGRESS_ENFORCED |
				    PW_EP_F_NODE_OPEN,
			    1),
		  "endpoint");
	ASSERT_OK(fx_ipcache(NODE_IP "/32", PW_ID_HOST, 0), "node");
	ASSERT_OK(fx_ipcache("10.1.0.5/32", 2000, 0), "peer pod");

	ASSERT_EQ(fx_tcp(&probe, IN, PG_SYN), FX_PASS, "the node's probe");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->peer_id, PW_ID_HOST, "peer is the node");
	ASSERT_EQ(ev->rule_id, PW_RULE_DEFAULT, "no rule decided");
	ASSERT_OK(fx_ct_get(&probe, IPPROTO_TCP, &ct), "tracked");
	ASSERT_EQ(fx_tcp(&probe, EG, PG_SYN | PG_ACK), FX_PASS, "reply");
	ASSERT_EQ(fx_udp(&to_node, EG), FX_PASS, "pod to node");
	/* only the node: a pod and the world stay denied */
	ASSERT_EQ(fx_tcp(&pod, IN, PG_SYN), PW_DROP_POLICY_DENIED, "pod");
	ASSERT_EQ(fx_tcp(&world, IN, PG_SYN), PW_DROP_POLICY_DENIED, "world");
	return true;
}

PW_TEST(node_judged_like_any_peer_without_the_flag)
{
	struct fx_flow probe = FX_FLOW(A, NODE_IP, 8080, 40000);
	struct fx_flow p80 = FX_FLOW(A, NODE_IP, 80, 40000);
	const struct pw_flow_event *ev;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint");
	/* the node inside an ipBlock: its CIDR identity still counts */
	ASSERT_OK(fx_ipcache(NODE_IP "/32", PW_ID_HOST, 5000), "node");
	ASSERT_OK(fx_allow(A, IN, 5000, IPPROTO_TCP, 80, 80, 7),
		  "ipBlock rule");

	ASSERT_EQ(fx_tcp(&probe, IN, PG_SYN), PW_DROP_POLICY_DENIED, "probe");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "drop event");
	ASSERT_EQ(ev->peer_id, PW_ID_HOST, "peer is the node");
	ASSERT_EQ(fx_tcp(&p80, IN, PG_SYN), FX_PASS, "admitted by the ipBlock");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->rule_id, 7, "by its rule");
	return true;
}
