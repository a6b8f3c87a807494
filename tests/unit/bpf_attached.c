// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The programs attached to a veth, with real frames. On the way in, the
 * kernel moves a frame's outer VLAN tag into skb metadata before TC
 * ingress runs (__netif_receive_skb_core), which a test run never does:
 * pw_from_pod must count that tag and judge what is inside.
 */
#include "bpf_fixture.h"

#define PEER "10.1.0.5"

static void tagged_syn(struct pg *p, const __u16 *tpids, int ntags, __u16 dport)
{
	int i;

	pg_init(p);
	pg_eth(p, A->mac, fx_host_mac, 0);
	for (i = 0; i < ntags; i++)
		pg_vlan(p, tpids[i], 100 + i);
	pg_ip4(p, &(struct pg_ip4){.src = A->ip4, .dst = PEER});
	pg_tcp(p, &(struct pg_tcp){.sport = 40000 + ntags,
				   .dport = dport,
				   .flags = PG_SYN});
}

/* The reason of the one event sent for what A sent, or -1. */
static int verdict_of(struct pg *p)
{
	const struct pw_flow_event *ev;
	int before = fx.nev;

	if (fx_inject(p, A))
		return -2;
	if (fx_wait_events(before + 1, 1000) != before + 1)
		return -1;
	ev = &fx.ev[before];
	if (ev->ep_id != A->ep_id || ev->dir != EG)
		return -3;
	return ev->type == PW_EV_NEW ? FX_PASS : ev->reason;
}

PW_TEST(attached_offloaded_vlan_tag_is_counted)
{
	static const __u16 q[] = {0x8100};
	static const __u16 qq[] = {0x88a8, 0x8100};
	static const __u16 q3[] = {0x88a8, 0x8100, 0x8100};
	struct pw_counter c[PW_CNT_SLOTS];
	struct pg p;
	bool ok = false;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 80), "rule");
	ASSERT_OK(fx_attach(A), "attach");
	do {
		tagged_syn(&p, q, 0, 80);
		if (verdict_of(&p) != FX_PASS) {
			PW_FAIL("untagged, port 80: not passed");
			break;
		}
		tagged_syn(&p, q, 1, 9999);
		if (verdict_of(&p) != PW_DROP_POLICY_DENIED) {
			PW_FAIL("802.1Q, port 9999: not policy-denied");
			break;
		}
		tagged_syn(&p, q, 1, 80);
		if (verdict_of(&p) != FX_PASS) {
			PW_FAIL("802.1Q, port 80: not passed");
			break;
		}
		tagged_syn(&p, qq, 2, 80);
		if (verdict_of(&p) != FX_PASS) {
			PW_FAIL("802.1ad + 802.1Q, port 80: not passed");
			break;
		}
		tagged_syn(&p, q3, 3, 80);
		if (verdict_of(&p) != PW_DROP_BAD_L2) {
			PW_FAIL("three tags (one offloaded): not bad-l2");
			break;
		}
		ok = true;
	} while (0);
	fx_detach(A);
	ASSERT_TRUE(ok, "verdicts");
	ASSERT_OK(fx_counters(A->ep_id, c), "counters");
	ASSERT_EQ(c[PW_CNT_ALLOWED].packets, 3, "allowed");
	ASSERT_EQ(c[PW_DROP_POLICY_DENIED].packets, 1, "denied");
	ASSERT_EQ(c[PW_DROP_BAD_L2].packets, 1, "bad-l2");
	return true;
}
