// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Flow events (new, drop, end) and their fields, counters per endpoint
 * and for the node, and the count of events lost to a full ring.
 */
#include <time.h>
#include "bpf_fixture.h"

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One TCP segment of flow @f with @payload bytes; adds its length. */
static int seg(const struct fx_flow *f, int dir, __u8 flags, __u16 payload,
	       __u64 *bytes)
{
	struct pg p;

	fx_frame(&p, f, dir);
	pg_tcp(&p, &(struct pg_tcp){.sport = dir == EG ? f->lport : f->rport,
				    .dport = dir == EG ? f->rport : f->lport,
				    .flags = flags,
				    .seq = 1,
				    .ack = 1});
	pg_fill(&p, payload, 0x42);
	pg_finish(&p);
	*bytes += p.len;
	return fx_run(&p, dir, f->ep);
}

PW_TEST(events_new_flow_fields)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	const struct pw_flow_event *ev;
	__u64 t0 = mono_ns();

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_ipcache("10.1.0.5", 2000, 0), "peer");
	ASSERT_OK(fx_allow(A, EG, 2000, IPPROTO_TCP, 80, 80, 55), "rule");
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), FX_PASS, "syn");
	ASSERT_EQ(fx_last_nev(), 1, "one event");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->verdict, PW_VERDICT_ALLOW, "verdict");
	ASSERT_EQ(ev->dir, EG, "dir");
	ASSERT_EQ(ev->proto, IPPROTO_TCP, "proto");
	ASSERT_EQ(ev->tcp_flags, PG_SYN, "flags");
	ASSERT_EQ(ev->is_reply, 0, "not a reply");
	ASSERT_EQ(ev->reason, 0, "no reason");
	ASSERT_EQ(ev->ep_id, A->ep_id, "ep_id");
	ASSERT_EQ(ev->ifindex, A->ifindex, "ifindex");
	ASSERT_EQ(ev->rule_id, 55, "rule");
	ASSERT_EQ(ev->peer_id, 2000, "peer");
	ASSERT_TRUE(fx_addr_eq(ev->src, A->ip4), "src");
	ASSERT_TRUE(fx_addr_eq(ev->dst, "10.1.0.5"), "dst");
	ASSERT_EQ(ev->sport, htons(40000), "sport");
	ASSERT_EQ(ev->dport, htons(80), "dport");
	ASSERT_TRUE(ev->ts_ns >= t0 && ev->ts_ns <= mono_ns(), "timestamp");

	/* the rest of the flow sends no events */
	ASSERT_EQ(fx_tcp(&f, IN, PG_SYN | PG_ACK), FX_PASS, "syn-ack");
	ASSERT_EQ(fx_last_nev(), 0, "none for the reply");
	ASSERT_EQ(fx_tcp(&f, EG, PG_ACK), FX_PASS, "ack");
	ASSERT_EQ(fx_last_nev(), 0, "none for the ack");
	return true;
}

PW_TEST(events_new_flow_ipv6_ingress)
{
	struct fx_flow f = FX_FLOW(A, "fd01::5", 8080, 5000);
	const struct pw_flow_event *ev;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "datagram");
	ev = fx_last_ev(PW_EV_NEW);
	ASSERT_TRUE(ev, "new event");
	ASSERT_EQ(ev->dir, IN, "dir");
	ASSERT_EQ(ev->proto, IPPROTO_UDP, "proto");
	ASSERT_TRUE(fx_addr_eq(ev->src, "fd01::5"), "src");
	ASSERT_TRUE(fx_addr_eq(ev->dst, A->ip6), "dst");
	ASSERT_EQ(ev->sport, htons(5000), "sport");
	ASSERT_EQ(ev->dport, htons(8080), "dport");
	ASSERT_EQ(ev->rule_id, PW_RULE_DEFAULT, "default allow");
	ASSERT_EQ(ev->peer_id, PW_ID_WORLD, "world");
	return true;
}

PW_TEST(events_drop_fields)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 53, 5353);
	const struct pw_flow_event *ev;
	struct pg p;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint");
	ASSERT_EQ(fx_udp(&f, IN), PW_DROP_POLICY_DENIED, "denied");
	ASSERT_EQ(fx_last_nev(), 1, "one event");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "drop event");
	ASSERT_EQ(ev->verdict, PW_VERDICT_DROP, "verdict");
	ASSERT_EQ(ev->reason, PW_DROP_POLICY_DENIED, "reason");
	ASSERT_EQ(ev->dir, IN, "dir");
	ASSERT_EQ(ev->proto, IPPROTO_UDP, "proto");
	ASSERT_EQ(ev->ep_id, A->ep_id, "ep_id");
	ASSERT_EQ(ev->ifindex, A->ifindex, "ifindex");
	ASSERT_TRUE(fx_addr_eq(ev->src, "10.1.0.5"), "src");
	ASSERT_TRUE(fx_addr_eq(ev->dst, A->ip4), "dst");
	ASSERT_EQ(ev->sport, htons(5353), "sport");
	ASSERT_EQ(ev->dport, htons(53), "dport");
	ASSERT_EQ(ev->rule_id, PW_RULE_DEFAULT, "rule");
	ASSERT_EQ(ev->peer_id, PW_ID_WORLD, "peer");

	/* a parse drop still says where and why */
	fx_frame(&p, &f, EG);
	pg_tcp(&p, &(struct pg_tcp){
			   .sport = 1, .dport = 2, .flags = PG_SYN, .doff = 2});
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_L4, "bad doff");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_TRUE(ev, "drop event");
	ASSERT_EQ(ev->dir, EG, "dir");
	ASSERT_EQ(ev->ep_id, A->ep_id, "ep_id");
	ASSERT_EQ(ev->ifindex, A->ifindex, "ifindex");
	return true;
}

PW_TEST(events_flow_end_after_fin_both_ways)
{
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 80);
	__u64 bytes[3] = {0};
	const struct pw_flow_event *end;
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A,
			    PW_EP_F_EGRESS_ENFORCED | PW_EP_F_INGRESS_ENFORCED,
			    1),
		  "endpoint");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 66), "rule");
	ASSERT_EQ(seg(&f, EG, PG_SYN, 0, &bytes[EG]), FX_PASS, "syn");
	ASSERT_EQ(seg(&f, IN, PG_SYN | PG_ACK, 0, &bytes[IN]), FX_PASS, "sa");
	ASSERT_EQ(seg(&f, EG, PG_ACK, 0, &bytes[EG]), FX_PASS, "ack");
	ASSERT_EQ(seg(&f, EG, PG_ACK | PG_PSH, 100, &bytes[EG]), FX_PASS,
		  "request");
	ASSERT_EQ(seg(&f, IN, PG_ACK | PG_PSH, 1000, &bytes[IN]), FX_PASS,
		  "response");
	ASSERT_EQ(seg(&f, EG, PG_FIN | PG_ACK, 0, &bytes[EG]), FX_PASS, "fin");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 0, "one FIN is no end");
	ASSERT_EQ(seg(&f, IN, PG_ACK, 0, &bytes[IN]), FX_PASS, "ack of fin");
	ASSERT_EQ(seg(&f, IN, PG_FIN | PG_ACK, 0, &bytes[IN]), FX_PASS,
		  "fin back");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 1, "flow end");
	end = fx_ev_nth(PW_EV_END, 0);
	ASSERT_EQ(end->verdict, PW_VERDICT_ALLOW, "verdict");
	ASSERT_EQ(end->reason, 0, "no reason");
	ASSERT_EQ(end->dir, EG, "first direction");
	ASSERT_EQ(end->proto, IPPROTO_TCP, "proto");
	ASSERT_EQ(end->ep_id, A->ep_id, "ep_id");
	ASSERT_EQ(end->rule_id, 66, "rule");
	ASSERT_TRUE(fx_addr_eq(end->src, A->ip4), "src");
	ASSERT_TRUE(fx_addr_eq(end->dst, "10.1.0.5"), "dst");
	ASSERT_EQ(end->sport, htons(40000), "sport");
	ASSERT_EQ(end->dport, htons(80), "dport");
	ASSERT_EQ(end->pkts[PW_CT_FWD], 4, "fwd packets");
	ASSERT_EQ(end->pkts[PW_CT_REV], 4, "rev packets");
	ASSERT_EQ(end->bytes[PW_CT_FWD], bytes[EG], "fwd bytes");
	ASSERT_EQ(end->bytes[PW_CT_REV], bytes[IN], "rev bytes");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_CLOSING, "closing");
	ASSERT_EQ(ct.flags & PW_CT_F_ENDED, PW_CT_F_ENDED, "marked ended");

	ASSERT_EQ(seg(&f, EG, PG_ACK, 0, &bytes[EG]), FX_PASS, "last ack");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 1, "still one end");
	return true;
}

PW_TEST(events_flow_end_after_rst)
{
	struct fx_flow f = FX_FLOW(A, "fd01::5", 22, 50000);
	__u64 bytes[3] = {0};
	const struct pw_flow_event *end;
	struct pw_ct_entry ct;

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_INGRESS_ENFORCED, 1), "endpoint");
	ASSERT_OK(fx_allow(A, IN, PW_ID_ANY, IPPROTO_TCP, 22, 22, 67), "rule");
	ASSERT_EQ(seg(&f, IN, PG_SYN, 0, &bytes[IN]), FX_PASS, "syn");
	ASSERT_EQ(seg(&f, EG, PG_SYN | PG_ACK, 0, &bytes[EG]), FX_PASS, "sa");
	ASSERT_EQ(seg(&f, IN, PG_ACK, 0, &bytes[IN]), FX_PASS, "ack");
	ASSERT_EQ(seg(&f, IN, PG_RST | PG_ACK, 0, &bytes[IN]), FX_PASS, "rst");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 1, "flow end");
	end = fx_ev_nth(PW_EV_END, 0);
	ASSERT_EQ(end->dir, IN, "first direction");
	ASSERT_TRUE(fx_addr_eq(end->src, "fd01::5"), "src: the peer");
	ASSERT_TRUE(fx_addr_eq(end->dst, A->ip6), "dst: the pod");
	ASSERT_EQ(end->sport, htons(50000), "sport");
	ASSERT_EQ(end->dport, htons(22), "dport");
	ASSERT_EQ(end->pkts[PW_CT_FWD], 3, "fwd packets");
	ASSERT_EQ(end->pkts[PW_CT_REV], 1, "rev packets");
	ASSERT_EQ(end->bytes[PW_CT_FWD], bytes[IN], "fwd bytes");
	ASSERT_EQ(end->bytes[PW_CT_REV], bytes[EG], "rev bytes");
	ASSERT_EQ(end->rule_id, 67, "rule");
	ASSERT_OK(fx_ct_get(&f, IPPROTO_TCP, &ct), "entry");
	ASSERT_EQ(ct.state, PW_CT_CLOSED, "closed");
	ASSERT_EQ(seg(&f, EG, PG_RST, 0, &bytes[EG]), FX_PASS, "rst back");
	ASSERT_EQ(fx_ev_count(PW_EV_END), 1, "still one end");
	return true;
}

/*
 * A 4 KiB ring holds a few dozen events: the rest of 1000 denied packets
 * must be counted as lost, every one of them.
 */
PW_TEST(events_ring_overflow_counted)
{
	struct pw_dp_opts opts = {.events_bytes = 4096};
	struct fx_flow f = FX_FLOW(A, "10.1.0.5", 40000, 9999);
	struct pw_counter c[PW_CNT_SLOTS];
	__u32 retval, n = 1000;
	__u64 lost;
	struct pg p;
	int got;

	ASSERT_OK(fx_init_opts(&opts), "one-page ring loads");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "endpoint");
	fx_tcp_frame(&p, &f, EG, PG_SYN);
	ASSERT_OK(fx_run_raw(&p, EG, A->ifindex, n, &retval), "run");
	ASSERT_EQ(retval, TC_ACT_SHOT, "dropped");
	got = fx_events_drain();
	ASSERT_OK(pw_dp_events_lost(fx.dp, &lost), "lost");
	ASSERT_EQ(got + lost, n, "every event delivered or counted");
	ASSERT_TRUE(lost > 0, "some lost");
	ASSERT_TRUE(got > 0 && got < 4096 / (int)sizeof(struct pw_flow_event),
		    "what fits the ring");
	ASSERT_OK(fx_counters(A->ep_id, c), "counters");
	ASSERT_EQ(c[PW_DROP_POLICY_DENIED].packets, n, "counters lose none");

	/* once drained, the ring takes events again */
	ASSERT_EQ(fx_tcp(&f, EG, PG_SYN), PW_DROP_POLICY_DENIED, "again");
	return true;
}

PW_TEST(counters_per_endpoint_and_node)
{
	struct fx_flow fa = FX_FLOW(A, "10.1.0.5", 40000, 80);
	struct fx_flow fa81 = FX_FLOW(A, "10.1.0.5", 40001, 81);
	struct fx_flow fb = FX_FLOW(B, "10.1.0.6", 40000, 53);
	struct pw_counter want[3][PW_CNT_SLOTS] = {0}, got[PW_CNT_SLOTS];
	static const __u8 b_bad_mac[6] = {2, 0, 0, 0, 0, 0x99};
	const struct fx_ep *eps[3] = {NULL, A, B};
	struct pg p;
	int e, s;

#define COUNT(ep, slot, frame)                        \
	do {                                          \
		want[ep][slot].packets++;             \
		want[ep][slot].bytes += (frame)->len; \
		want[0][slot].packets++;              \
		want[0][slot].bytes += (frame)->len;  \
	} while (0)

	ASSERT_OK(fx_init(), "fixture");
	ASSERT_OK(fx_ep_set(A, PW_EP_F_EGRESS_ENFORCED, 1), "A");
	ASSERT_OK(fx_ep_set(B, 0, 1), "B");
	ASSERT_OK(fx_allow(A, EG, PW_ID_ANY, IPPROTO_TCP, 80, 80, 1), "rule");

	fx_tcp_frame(&p, &fa, EG, PG_SYN);
	ASSERT_EQ(fx_run(&p, EG, A), FX_PASS, "A syn");
	COUNT(1, PW_CNT_ALLOWED, &p);
	fx_tcp_frame(&p, &fa, IN, PG_SYN | PG_ACK);
	ASSERT_EQ(fx_run(&p, IN, A), FX_PASS, "A syn-ack");
	COUNT(1, PW_CNT_ALLOWED, &p);
	fx_tcp_frame(&p, &fa81, EG, PG_SYN);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_POLICY_DENIED, "A 81");
	COUNT(1, PW_DROP_POLICY_DENIED, &p);
	fx_tcp_frame(&p, &fa81, EG, PG_SYN | PG_FIN);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_TCP_FLAGS, "A syn+fin");
	COUNT(1, PW_DROP_BAD_TCP_FLAGS, &p);
	pg_init(&p);
	pg_eth(&p, A->mac, fx_host_mac, 0);
	pg_ip4(&p,
	       &(struct pg_ip4){.src = A->ip4, .dst = "10.1.0.5", .ihl = 4});
	pg_fill(&p, 20, 0);
	ASSERT_EQ(fx_run(&p, EG, A), PW_DROP_BAD_IP4, "A IHL 4");
	COUNT(1, PW_DROP_BAD_IP4, &p);

	fx_frame(&p, &fb, EG);
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53});
	pg_fill(&p, 100, 0);
	ASSERT_EQ(fx_run(&p, EG, B), FX_PASS, "B udp");
	COUNT(2, PW_CNT_ALLOWED, &p);
	pg_init(&p);
	pg_eth(&p, B->mac, fx_host_mac, 0);
	pg_arp(&p, 1, B->mac, B->ip4, b_bad_mac, "10.0.0.254");
	ASSERT_EQ(fx_run(&p, EG, B), FX_PASS, "B arp");
	COUNT(2, PW_CNT_ALLOWED, &p);
	pg_init(&p);
	pg_eth(&p, b_bad_mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = B->ip4, .dst = "10.1.0.6"});
	pg_udp(&p, &(struct pg_udp){.sport = 40000, .dport = 53});
	ASSERT_EQ(fx_run(&p, EG, B), PW_DROP_SPOOFED_MAC, "B bad mac");
	COUNT(2, PW_DROP_SPOOFED_MAC, &p);
#undef COUNT

	for (e = 0; e < 3; e++) {
		ASSERT_OK(fx_counters(eps[e] ? eps[e]->ep_id : 0, got),
			  "counters");
		for (s = 0; s < PW_CNT_SLOTS; s++) {
			if (got[s].packets == want[e][s].packets &&
			    got[s].bytes == want[e][s].bytes)
				continue;
			PW_FAIL("endpoint %d slot %d: %llu/%llu, want "
				"%llu/%llu",
				e, s, (unsigned long long)got[s].packets,
				(unsigned long long)got[s].bytes,
				(unsigned long long)want[e][s].packets,
				(unsigned long long)want[e][s].bytes);
			return false;
		}
	}
	ASSERT_OK(fx_counters(C->ep_id, got), "C");
	for (s = 0; s < PW_CNT_SLOTS; s++)
		ASSERT_EQ(got[s].packets, 0, "C saw nothing");
	return true;
}
