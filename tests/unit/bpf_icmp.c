// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ICMP and ICMPv6: echo requests and their replies through conntrack, and
 * errors, which pass only when they embed a live flow of the endpoint.
 */
#include <errno.h>
#include "bpf_fixture.h"

#define ROUTER	"10.9.0.1"
#define ROUTER6 "fd09::1"

/* A: both directions enforced; echo requests and TCP 80 may go out. */
static int setup(void)
{
	int err = fx_init();

	err = err
		      ?: fx_ep_set(A,
				   PW_EP_F_EGRESS_ENFORCED |
					   PW_EP_F_INGRESS_ENFORCED,
				   1);
	err = err
		      ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_ICMP, 8 << 8,
				  8 << 8, 1);
	err = err
		      ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_ICMPV6, 128 << 8,
				  128 << 8, 2);
	err = err ?: fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 3);
	err = err ?: fx_allow(A, IN, PW_ID_ANY, IPPROTO_UDP, 53, 53, 4);
	return err;
}

static bool echo_reply_passes(const char *peer, __u8 proto)
{
	struct fx_flow f = FX_FLOW(A, peer, 0, 0);
	const struct pw_flow_event *ev;
	struct pw_ct_entry ct;

	ASSERT_EQ(fx_echo(&f, EG, false, 0x77), FX_PASS, "request");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->sport, htons(0x77), "identifier");
	ASSERT_OK(fx_ct_get_echo(&f, proto, 0x77, true, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_NEW, "new");
	ASSERT_EQ(fx_echo(&f, IN, true, 0x77), FX_PASS, "reply");
	ASSERT_OK(fx_ct_get_echo(&f, proto, 0x77, true, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_ESTABLISHED, "established");
	ASSERT_EQ(ct.pkts[PW_CT_REV], 1, "reply counted");
	ASSERT_EQ(fx_echo(&f, IN, true, 0x78), PW_DROP_OUT_OF_STATE,
		  "reply with another identifier");
	/* the peer's own request with the same identifier is no reply */
	ASSERT_EQ(fx_echo(&f, IN, false, 0x77), PW_DROP_POLICY_DENIED,
		  "request from the peer");
	return true;
}

PW_TEST(icmp_echo_reply_passes_as_reply)
{
	ASSERT_OK(setup(), "setup");
	ASSERT_TRUE(echo_reply_passes("10.1.0.5", IPPROTO_ICMP), "icmp");
	return true;
}

PW_TEST(icmp6_echo_reply_passes_as_reply)
{
	ASSERT_OK(setup(), "setup");
	ASSERT_TRUE(echo_reply_passes("fd01::5", IPPROTO_ICMPV6), "icmpv6");
	return true;
}

PW_TEST(icmp_unsolicited_echo_reply)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 0, 0);
	struct fx_flow f6 = FX_FLOW(A, "fd01::5", 0, 0);

	ASSERT_OK(setup(), "setup");
	ASSERT_EQ(fx_echo(&f, IN, true, 5), PW_DROP_OUT_OF_STATE, "icmp in");
	ASSERT_EQ(fx_echo(&f6, IN, true, 5), PW_DROP_OUT_OF_STATE, "v6 in");
	/* out of the pod, even though echo requests may go out */
	ASSERT_EQ(fx_echo(&f, EG, true, 6), PW_DROP_OUT_OF_STATE, "icmp out");
	ASSERT_EQ(fx_echo(&f6, EG, true, 6), PW_DROP_OUT_OF_STATE, "v6 out");
	ASSERT_EQ(fx_ct_count(), 0, "no flows");
	return true;
}

/*
 * An error from @router to the pod about the TCP segment (pod:@lport ->
 * @peer:@rport) that the pod sent.
 */
static void icmp_err_in(struct pg *p, bool v6, const char *router,
			const char *inner_src, const char *peer, __u16 lport,
			__u16 rport)
{
	pg_init(p);
	pg_eth(p, fx_host_mac, A->mac, 0);
	if (v6) {
		pg_ip6(p, &(struct pg_ip6){.src = router, .dst = A->ip6});
		pg_icmp(p, 1, 4, 0, 0); /* port unreachable */
		pg_ip6(p, &(struct pg_ip6){.src = inner_src, .dst = peer});
	} else {
		pg_ip4(p, &(struct pg_ip4){.src = router, .dst = A->ip4});
		pg_icmp(p, 3, 1, 0, 0); /* host unreachable */
		pg_ip4(p, &(struct pg_ip4){.src = inner_src, .dst = peer});
	}
	pg_tcp(p, &(struct pg_tcp){.sport = lport,
				   .dport = rport,
				   .flags = PG_SYN,
				   .seq = 1000});
}

static bool errors_in(bool v6)
{
	const char *peer = v6 ? "fd01::5" : "10.1.0.5";
	const char *router = v6 ? ROUTER6 : ROUTER;
	const char *pod = v6 ? A->ip6 : A->ip4;
	struct fx_flow f = FX_FLOW(A, peer, 40000, 80);
	struct pg p;

	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, "syn");
	icmp_err_in(&p, v6, router, pod, peer, 40000, 80);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "error about the flow");
	icmp_err_in(&p, v6, peer, pod, peer, 40000, 80);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "from the peer itself");

	icmp_err_in(&p, v6, router, pod, peer, 40000, 81);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "other port");
	icmp_err_in(&p, v6, router, pod, peer, 40001, 80);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "other sport");
	icmp_err_in(&p, v6, router, pod, v6 ? "fd01::6" : "10.1.0.6", 40000,
		    80);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "other peer");
	/* about a packet the pod did not send (inner source not the pod) */
	icmp_err_in(&p, v6, router, v6 ? "fd00::2" : "10.0.0.2", peer, 40000,
		    80);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "not the pod's");
	/* the flow's own tuple, reversed */
	icmp_err_in(&p, v6, router, peer, pod, 80, 40000);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "reversed");
	return true;
}

/*
 * An error delivered to the pod must be about a packet the pod sent: its
 * embedded source is the pod. Here A's veth carried a datagram for another
 * address (A routes, or was sent it), which left a flow of A keyed by that
 * address; an error about it addressed to A is still unrelated to A.
 */
PW_TEST(icmp_error_must_be_about_the_pod)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.1.0.5", .dst = "10.0.0.99"});
	pg_udp(&p, &(struct pg_udp){.sport = 5353, .dport = 53});
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "datagram via A");

	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = ROUTER, .dst = A->ip4});
	pg_icmp(&p, 3, 1, 0, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.0.0.99", .dst = "10.1.0.5"});
	pg_udp(&p, &(struct pg_udp){.sport = 53, .dport = 5353});
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED,
		  "error to A about 10.0.0.99's packet");

	/* the pod reporting an error about a packet it did not receive */
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5"});
	pg_icmp(&p, 3, 3, 0, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.1.0.5", .dst = "10.0.0.99"});
	pg_udp(&p, &(struct pg_udp){.sport = 5353, .dport = 53});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_ICMP_UNRELATED,
		  "error from A about 10.0.0.99's packet");
	return true;
}

PW_TEST(icmp_error_related_to_live_flow)
{
	ASSERT_OK(setup(), "setup");
	ASSERT_TRUE(errors_in(false), "icmp");
	return true;
}

PW_TEST(icmp6_error_related_to_live_flow)
{
	ASSERT_OK(setup(), "setup");
	ASSERT_TRUE(errors_in(true), "icmpv6");
	return true;
}

PW_TEST(icmp_error_without_flow)
{
	struct pg p;

	ASSERT_OK(setup(), "setup");
	icmp_err_in(&p, false, ROUTER, A->ip4, "10.1.0.5", 40000, 80);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "icmp");
	icmp_err_in(&p, true, ROUTER6, A->ip6, "fd01::5", 40000, 80);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "icmpv6");
	/* errors about errors, or embedding a protocol without flows */
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = ROUTER, .dst = A->ip4});
	pg_icmp(&p, 11, 0, 0, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5"});
	pg_icmp(&p, 3, 3, 0, 0);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "error inside");
	return true;
}

/* Time exceeded for the pod's ping: the embedded echo request's id. */
PW_TEST(icmp_error_about_echo)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 0, 0);
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ASSERT_EQ(fx_echo(&f, EG, false, 0x99), FX_PASS, "ping");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = ROUTER, .dst = A->ip4});
	pg_icmp(&p, 11, 0, 0, 0);
	pg_ip4(&p,
	       &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5", .ttl = 1});
	pg_icmp(&p, 8, 0, 0x99, 1);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "time exceeded, our ping");

	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = ROUTER, .dst = A->ip4});
	pg_icmp(&p, 11, 0, 0, 0);
	pg_ip4(&p,
	       &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5", .ttl = 1});
	pg_icmp(&p, 8, 0, 0x9a, 1);
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "another id");
	return true;
}

/*
 * The pod reports an error about a packet it received: port unreachable
 * for a UDP datagram of an ingress flow, with no egress rule for ICMP.
 */
PW_TEST(icmp_error_from_pod_about_ingress_flow)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 53, 5353);
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "query in");
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5"});
	pg_icmp(&p, 3, 3, 0, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.1.0.5", .dst = A->ip4});
	pg_udp(&p, &(struct pg_udp){.sport = 5353, .dport = 53});
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "port unreachable");

	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5"});
	pg_icmp(&p, 3, 3, 0, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.1.0.5", .dst = A->ip4});
	pg_udp(&p, &(struct pg_udp){.sport = 5354, .dport = 53});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_ICMP_UNRELATED, "no such flow");
	return true;
}

/* ICMPv6 packet too big for the pod's TCP flow; then a fragmented error. */
PW_TEST(icmp6_packet_too_big)
{
	struct fx_flow f = FX_FLOW(A, "fd01::5", 40000, 80);
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ASSERT_EQ(fx_handshake(&f, EG), FX_PASS, "handshake");
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip6(&p, &(struct pg_ip6){.src = ROUTER6, .dst = A->ip6});
	pg_icmp(&p, 2, 0, 0, 1280);
	pg_ip6(&p, &(struct pg_ip6){.src = A->ip6, .dst = "fd01::5"});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_ACK});
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "packet too big");

	/* the same error as a first fragment cannot be matched */
	pg_init(&p);
	pg_eth(&p, fx_host_mac, A->mac, 0);
	pg_ip6(&p, &(struct pg_ip6){.src = ROUTER6, .dst = A->ip6});
	pg_ip6_frag(&p, 0, true, 0x42);
	pg_icmp(&p, 2, 0, 0, 1280);
	pg_ip6(&p, &(struct pg_ip6){.src = A->ip6, .dst = "fd01::5"});
	pg_tcp(&p,
	       &(struct pg_tcp){.sport = 40000, .dport = 80, .flags = PG_ACK});
	ASSERT_EQ(fx_run(&p, IN, A), PW_DROP_ICMP_UNRELATED, "fragmented");
	return true;
}
