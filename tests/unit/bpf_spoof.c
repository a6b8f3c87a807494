// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Anti-spoofing on what pods send: source MAC and IP, ARP claims, IPv6
 * neighbour discovery. None of it depends on policy being enforced.
 */
#include <string.h>
#include <linux/if_ether.h>
#include "bpf_fixture.h"

static const __u8 b_mac[6] = {2, 0, 0, 0, 0, 2};
static const __u8 zero_mac[6];

static int run_tcp_from(const char *src, const char *dst, const __u8 *smac)
{
	struct pg p;

	pg_init(&p);
	pg_eth(&p, smac, fx_host_mac, 0);
	if (strchr(src, ':'))
		pg_ip6(&p, &(struct pg_ip6){.src = src, .dst = dst});
	else
		pg_ip4(&p, &(struct pg_ip4){.src = src, .dst = dst});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_SYN});
	return fx_run(&p, EG, A);
}

PW_TEST(spoof_source_ip)
{
	int ret;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, 0, 1), "endpoint, nothing enforced");
	ASSERT_EQ(run_tcp_from(A->ip4, "10.1.0.5", A->mac), FX_PASS, "own");
	ASSERT_EQ(run_tcp_from("10.0.0.99", "10.1.0.5", A->mac),
		  PW_DROP_SPOOFED_IP, "unknown address");
	ASSERT_EQ(run_tcp_from(B->ip4, "10.1.0.5", A->mac), PW_DROP_SPOOFED_IP,
		  "another pod's address");
	ASSERT_EQ(run_tcp_from("0.0.0.0", "10.1.0.5", A->mac),
		  PW_DROP_SPOOFED_IP, "0.0.0.0");
	ASSERT_EQ(run_tcp_from(A->ip6, "fd01::5", A->mac), FX_PASS, "own v6");
	ASSERT_EQ(run_tcp_from("fd00::99", "fd01::5", A->mac),
		  PW_DROP_SPOOFED_IP, "unknown v6 address");
	ASSERT_EQ(run_tcp_from("fe80::1", "fd01::5", A->mac),
		  PW_DROP_SPOOFED_IP, "link-local is for ND only");
	/*
	 * The mapped form of the pod's IPv4 address is no IPv6 source: spoofed,
	 * or a malformed IPv6 header if the parser refuses mapped addresses.
	 */
	ret = run_tcp_from("::ffff:10.0.0.1", "fd01::5", A->mac);
	ASSERT_TRUE(ret == PW_DROP_SPOOFED_IP || ret == PW_DROP_BAD_IP6,
		    "v4-mapped source");
	return true;
}

/* An endpoint without an IPv6 address may send no IPv6 at all. */
PW_TEST(spoof_family_without_address)
{
	struct pw_endpoint e = {
		.ep_id = A->ep_id,
		.pol_id = A->ep_id,
		.identity = A->identity,
		.rev = 1,
		.flags = PW_EP_F_HAS_IP4 | PW_EP_F_HAS_MAC,
	};

	ASSERT_OK(fx_init(), "fixture");
	fx_addr(A->ip4, e.ip4);
	memcpy(e.mac, A->mac, 6);
	ASSERT_OK(pw_dp_endpoint_set(fx.dp, A->ifindex, &e), "endpoint");
	ASSERT_EQ(run_tcp_from(A->ip4, "10.1.0.5", A->mac), FX_PASS, "v4");
	ASSERT_EQ(run_tcp_from("::", "fd01::5", A->mac), PW_DROP_SPOOFED_IP,
		  ":: matches the zeroed ip6 field");
	ASSERT_EQ(run_tcp_from(A->ip6, "fd01::5", A->mac), PW_DROP_SPOOFED_IP,
		  "no v6 address");
	return true;
}

PW_TEST(spoof_source_mac)
{
	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, 0, 1), "endpoint");
	ASSERT_EQ(run_tcp_from(A->ip4, "10.1.0.5", b_mac), PW_DROP_SPOOFED_MAC,
		  "another pod's MAC");
	ASSERT_EQ(run_tcp_from(A->ip6, "fd01::5", zero_mac),
		  PW_DROP_SPOOFED_MAC, "zero MAC");
	/* a packet into the pod is not checked for its sender */
	{
		struct fx_flow f = FX_FLOW(A, "10.0.0.2", 80, 40000);

		ASSERT_EQ(fx_tcp(&f, IN, PG_SYN), FX_PASS, "ingress");
	}
	return true;
}

static int run_arp(const __u8 *smac, __u16 op, const __u8 *sha, const char *spa,
		   const char *tpa)
{
	struct pg p;

	pg_init(&p);
	pg_eth(&p, smac, fx_host_mac, 0);
	pg_arp(&p, op, sha, spa, zero_mac, tpa);
	return fx_run(&p, EG, A);
}

PW_TEST(spoof_arp)
{
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	/* enforced with no rules: ARP passes without policy */
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	ASSERT_EQ(run_arp(A->mac, 1, A->mac, A->ip4, "10.0.0.254"), FX_PASS,
		  "request for the gateway");
	ASSERT_EQ(run_arp(A->mac, 1, A->mac, A->ip4, A->ip4), FX_PASS,
		  "gratuitous");
	ASSERT_EQ(run_arp(A->mac, 1, A->mac, "0.0.0.0", A->ip4), FX_PASS,
		  "probe");
	ASSERT_EQ(run_arp(A->mac, 1, A->mac, B->ip4, "10.0.0.254"),
		  PW_DROP_SPOOFED_IP, "request claiming B's address");
	ASSERT_EQ(run_arp(A->mac, 2, A->mac, "10.0.0.254", "10.0.0.2"),
		  PW_DROP_SPOOFED_IP, "reply claiming the gateway");
	ASSERT_EQ(run_arp(A->mac, 2, b_mac, A->ip4, "10.0.0.254"),
		  PW_DROP_SPOOFED_MAC, "sender hardware address not A's");
	ASSERT_EQ(run_arp(b_mac, 1, b_mac, B->ip4, "10.0.0.254"),
		  PW_DROP_SPOOFED_MAC, "frame not from A's MAC");

	/* not Ethernet/IPv4 ARP */
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_arp(&p, 1, A->mac, A->ip4, zero_mac, "10.0.0.254");
	p.buf[ETH_HLEN + 1] = 6; /* hardware type 6 */
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L2, "hardware type");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0x0806);
	pg_bytes(&p, (__u8[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L2, "truncated");

	/* into the pod, ARP is not checked */
	pg_init(&p);
	pg_eth(&p, b_mac, A->mac, 0);
	pg_arp(&p, 2, b_mac, "10.0.0.254", A->mac, A->ip4);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "ingress reply");
	ASSERT_EQ(fx_ct_count(), 0, "no flows");
	return true;
}

static int run_nd(const char *src, const char *dst, __u8 type,
		  const char *target)
{
	struct pg p;

	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip6(&p, &(struct pg_ip6){.src = src, .dst = dst, .hop_limit = 255});
	pg_nd(&p, type, target);
	return fx_run(&p, EG, A);
}

PW_TEST(spoof_nd_router_messages)
{
	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, 0, 1), "endpoint, nothing enforced");
	ASSERT_EQ(run_nd("fe80::1", "ff02::1", 134, NULL), PW_DROP_ND_FROM_POD,
		  "RA from link-local");
	ASSERT_EQ(run_nd(A->ip6, "ff02::1", 134, NULL), PW_DROP_ND_FROM_POD,
		  "RA from own address");
	ASSERT_EQ(run_nd("fe80::1", "fd00::2", 137, "fd00::3"),
		  PW_DROP_ND_FROM_POD, "redirect");
	ASSERT_EQ(run_nd("fe80::1", "ff02::2", 133, NULL), FX_PASS, "RS");
	return true;
}

PW_TEST(spoof_nd_advertisements)
{
	ASSERT_OK(fx_init(), "fixture");
	/* enforced with no rules: ND passes without policy */
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_EQ(run_nd(A->ip6, "fd00::9", 136, A->ip6), FX_PASS,
		  "NA for own address");
	/* the agent has not told it the pod's link-local address: any */
	ASSERT_EQ(run_nd("fe80::1", "ff02::1", 136, "fe80::1"), FX_PASS,
		  "NA for link-local");
	ASSERT_EQ(run_nd(A->ip6, "ff02::1", 136, B->ip6), PW_DROP_SPOOFED_IP,
		  "NA for another pod's address");
	ASSERT_EQ(run_nd("fe80::1", "ff02::1", 136, "fd00::9"),
		  PW_DROP_SPOOFED_IP, "NA from link-local for another");
	ASSERT_EQ(run_nd(B->ip6, "ff02::1", 136, B->ip6), PW_DROP_SPOOFED_IP,
		  "NA from another pod's address");
	return true;
}

/* Once the agent knows the pod's link-local address (read from the pod's
 * interface), ND may speak for that one only: an advertisement for
 * another pod's or the gateway's link-local address would take over their
 * neighbour entries, as a forged ARP reply would for IPv4. */
PW_TEST(spoof_nd_link_local_is_the_pods_own)
{
	struct pw_endpoint e;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(pw_dp_endpoint_get(fx.dp, A->ifindex, &e), "read back");
	fx_addr("fe80::a", e.ll6);
	e.flags |= PW_EP_F_HAS_LL6;
	ASSERT_OK(pw_dp_endpoint_set(fx.dp, A->ifindex, &e), "with ll6");
	ASSERT_EQ(run_nd("fe80::a", "ff02::1", 136, "fe80::a"), FX_PASS,
		  "NA for its own link-local");
	ASSERT_EQ(run_nd("fe80::a", "ff02::1", 136, A->ip6), FX_PASS,
		  "NA for its global address, from its link-local");
	ASSERT_EQ(run_nd("fe80::a", "ff02::1", 136, "fe80::b"),
		  PW_DROP_SPOOFED_IP, "NA for another link-local (a pod's)");
	ASSERT_EQ(run_nd("fe80::a", "ff02::1", 136, "fe80::1"),
		  PW_DROP_SPOOFED_IP, "NA for the gateway's link-local");
	ASSERT_EQ(run_nd("fe80::b", "ff02::1", 136, "fe80::b"),
		  PW_DROP_SPOOFED_IP, "NA from and for another link-local");
	ASSERT_EQ(run_nd("fe80::b", "ff02::1:ff00:9", 135, "fd00::9"),
		  PW_DROP_SPOOFED_IP, "NS from another link-local");
	ASSERT_EQ(run_nd("fe80::a", "ff02::1:ff00:9", 135, "fd00::9"), FX_PASS,
		  "NS from its own link-local");
	ASSERT_EQ(run_nd("::", "ff02::1:ff00:a", 135, "fe80::a"), FX_PASS,
		  "DAD for its link-local, from ::");
	return true;
}

PW_TEST(spoof_nd_solicitations)
{
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_EQ(run_nd("fe80::1", "ff02::1:ff00:9", 135, "fd00::9"), FX_PASS,
		  "NS from link-local");
	ASSERT_EQ(run_nd("::", "ff02::1:ff00:1", 135, A->ip6), FX_PASS,
		  "NS for DAD, from ::");
	ASSERT_EQ(run_nd(A->ip6, "fd00::9", 135, "fd00::9"), FX_PASS,
		  "NS from own address");
	ASSERT_EQ(run_nd("fd00::99", "ff02::1:ff00:9", 135, "fd00::9"),
		  PW_DROP_SPOOFED_IP, "NS from another global address");

	/* MLDv2 report from link-local */
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip6(&p, &(struct pg_ip6){.src = "fe80::1",
				    .dst = "ff02::16",
				    .hop_limit = 1});
	pg_icmp(&p, 143, 0, 0, 0);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "MLDv2 report");

	/* ND from the wrong MAC */
	pg_init(&p);
	pg_eth(&p, b_mac, fx_host_mac, 0);
	pg_ip6(&p, &(struct pg_ip6){.src = "fe80::1",
				    .dst = "ff02::1",
				    .hop_limit = 255});
	pg_nd(&p, 135, "fd00::9");
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_SPOOFED_MAC, "NS, B's MAC");
	ASSERT_EQ(fx_ct_count(), 0, "no flows");
	return true;
}
