// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Link layer: VLAN tags (a tagged frame is judged by what it carries, never
 * waved through as "not IP"), the tag limit, and non-IP ethertypes.
 */
#include "bpf_fixture.h"

#define PEER "10.1.0.5"

static int setup(void)
{
	int err = fx_init();

	err = err
		      ?: fx_ep_set(A,
				   PW_EP_F_EGRESS_ENFORCED |
					   PW_EP_F_INGRESS_ENFORCED,
				   1);
	err = err ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 80);
	err = err ?: fx_allow(A, IN, PW_ID_ANY, IPPROTO_TCP, 22, 22, 22);
	return err;
}

/* A frame from A with @ntags tags, tpids[i] each, around TCP to @dport. */
static void tagged_syn(struct pg *p, const __u16 *tpids, int ntags, bool v6,
		       __u16 sport, __u16 dport)
{
	int i;

	pg_init(p);
	pg_eth(p, A->mac, fx_host_mac, 0);
	for (i = 0; i < ntags; i++)
		pg_vlan(p, tpids[i], 100 + i);
	if (v6)
		pg_ip6(p, &(struct pg_ip6){.src = A->ip6, .dst = "fd01::5"});
	else
		pg_ip4(p, &(struct pg_ip4){.src = A->ip4, .dst = PEER});
	pg_tcp(p, &(struct pg_tcp){
			  .sport = sport, .dport = dport, .flags = PG_SYN});
}

PW_TEST(l2_8021q_judged)
{
	static const __u16 q[] = {0x8100};
	struct pg p;

	ASSERT_OK(setup(), "setup");
	tagged_syn(&p, q, 1, false, 40000, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "denied port");
	tagged_syn(&p, q, 1, false, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "allowed port");
	tagged_syn(&p, q, 1, true, 40000, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "v6 denied port");
	tagged_syn(&p, q, 1, true, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "v6 allowed port");
	return true;
}

PW_TEST(l2_qinq_judged)
{
	static const __u16 ad[] = {0x88a8, 0x8100};
	static const __u16 qq[] = {0x8100, 0x8100};
	struct pg p;

	ASSERT_OK(setup(), "setup");
	tagged_syn(&p, ad, 2, false, 40000, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "802.1ad denied");
	tagged_syn(&p, ad, 2, false, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "802.1ad allowed");
	tagged_syn(&p, qq, 2, false, 40001, 9999);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "Q-in-Q denied");
	tagged_syn(&p, qq, 2, false, 40001, 80);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "Q-in-Q allowed");
	return true;
}

PW_TEST(l2_three_tags_dropped)
{
	static const __u16 t3[] = {0x88a8, 0x8100, 0x8100};
	static const __u16 t5[] = {0x8100, 0x8100, 0x8100, 0x8100, 0x8100};
	struct pg p;

	ASSERT_OK(setup(), "setup");
	tagged_syn(&p, t3, 3, false, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L2, "three tags");
	tagged_syn(&p, t5, 5, false, 40000, 80);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L2, "five tags");
	return true;
}

/* Into the pod as well: the tag is no way around its ingress policy. */
PW_TEST(l2_tagged_ingress_judged)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_vlan(&p, 0x8100, 7);
	pg_ip4(&p, &(struct pg_ip4){.src = PEER, .dst = A->ip4});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 23, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_POLICY_DENIED, "port 23");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_vlan(&p, 0x8100, 7);
	pg_ip4(&p, &(struct pg_ip4){.src = PEER, .dst = A->ip4});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 22, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "port 22");
	return true;
}

PW_TEST(l2_non_ip_ethertype)
{
	static const __u16 types[] = {0x88b5, 0x88cc, 0x8847, 0x0842,
				      0x8035, 0x0000, 0x05dc};
	unsigned int i;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		pg_init(&p);
		pg_eth(&p, A->mac, fx_host_mac, types[i]);
		pg_fill(&p, 46, 0);
		ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_UNSUPPORTED_L3, "egress");
		pg_init(&p);
		pg_eth(&p, fx_host_mac, A->mac, types[i]);
		pg_fill(&p, 46, 0);
		ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_UNSUPPORTED_L3, "ingress");
	}
	/* in a tag too */
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_vlan(&p, 0x8100, 5);
	pg_ethertype(&p, 0x88b5);
	pg_fill(&p, 46, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_UNSUPPORTED_L3, "tagged");
	return true;
}

PW_TEST(l2_truncated_tag)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0x8100);
	pg_fill(&p, 2, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L2, "half a tag");
	return true;
}

/* Anti-spoofing looks inside the tags too. */
PW_TEST(l2_tagged_spoofing)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_vlan(&p, 0x8100, 5);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.0.0.2", .dst = PEER});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_SPOOFED_IP, "ip in a tag");

	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_vlan(&p, 0x88a8, 5);
	pg_vlan(&p, 0x8100, 6);
	pg_arp(&p, 1, A->mac, "10.0.0.2", (__u8[6]){0}, PEER);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_SPOOFED_IP, "arp in two tags");
	return true;
}
