// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The uplink prefilter (XDP): sources in a listed prefix drop, by longest
 * prefix, IPv4 and IPv6, inside VLAN tags; everything else passes, non-IP
 * and frames too short to read a source in. Each drop is counted in the
 * node's "prefilter" slot and reported like a TC drop. Also: the deny-list
 * file, its replacement (a prefix in both lists never goes missing), and
 * pins from a podwall without the prefilter.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "bpf_fixture.h"
#include "names.h"
#include "prefilter.h"

/* What pf_run() returns for a pass; a drop returns its event's reason. */
#define PF_PASS FX_PASS

static const __u8 world_mac[6] = {2, 0x77, 0, 0, 0, 1};

static int pf_clear(void)
{
	int fd = pw_dp_map_fd(fx.dp, PW_MAP_PREFILTER);
	struct pw_prefilter_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		if (bpf_map_delete_elem(fd, &k))
			return -errno;
	return errno == ENOENT ? 0 : -errno;
}

static int setup(void)
{
	return fx_init() ?: pf_clear();
}

static int pf_add(const char *cidr, __u32 id)
{
	__u8 a[16];
	__u32 plen;

	if (pw_cidr_parse(cidr, a, &plen))
		return -EINVAL;
	return pw_dp_prefilter_set(fx.dp, a, plen, id);
}

static int pf_del(const char *cidr)
{
	__u8 a[16];
	__u32 plen;

	if (pw_cidr_parse(cidr, a, &plen))
		return -EINVAL;
	return pw_dp_prefilter_del(fx.dp, a, plen);
}

/* The raw run, at A's veth as the uplink: XDP_* in *retval. */
static int pf_run_raw(struct pg *p, __u32 *retval)
{
	struct xdp_md ctx = {.ingress_ifindex = A->ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->buf, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	if (!p->finished)
		pg_finish(p);
	/* the kernel takes the frame's length from the context too */
	o.data_size_in = p->len;
	ctx.data_end = p->len;
	if (bpf_prog_test_run_opts(pw_dp_prefilter_fd(fx.dp), &o))
		return -errno;
	*retval = o.retval;
	return 0;
}

/*
 * PF_PASS for XDP_PASS, the reason of the drop event it sent for XDP_DROP
 * (-ENOMSG with none), -EIO for any other verdict.
 */
static int pf_run(struct pg *p)
{
	__u32 retval;
	int err, i;

	fx_events_drain();
	fx.nev_last = fx.nev;
	err = pf_run_raw(p, &retval);
	if (err)
		return err;
	fx_events_drain();
	if (retval == XDP_PASS)
		return fx_last_nev() ? -EPROTO : PF_PASS;
	if (retval != XDP_DROP)
		return -EIO;
	for (i = fx.nev_last; i < fx.nev; i++)
		if (fx.ev[i].type == PW_EV_DROP &&
		    fx.ev[i].verdict == PW_VERDICT_DROP)
			return fx.ev[i].reason;
	return -ENOMSG;
}

/* UDP from @src to @dst (the family follows @src), inside @ntags tags. */
static void pf_frame(struct pg *p, const char *src, const char *dst, int ntags)
{
	static const __u16 tpid[] = {ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q};
	int i;

	pg_init(p);
	pg_eth(p, world_mac, fx_host_mac, 0);
	for (i = 0; i < ntags; i++)
		pg_vlan(p, tpid[i], 100 + i);
	if (strchr(src, ':'))
		pg_ip6(p, &(struct pg_ip6){.src = src, .dst = dst});
	else
		pg_ip4(p, &(struct pg_ip4){.src = src, .dst = dst, .id = 7});
	pg_udp(p, &(struct pg_udp){.sport = 5353, .dport = 53});
	pg_fill(p, 64, 0xab);
	pg_finish(p);
}

static int pf_udp(const char *src, const char *dst)
{
	struct pg p;

	pf_frame(&p, src, dst, 0);
	return pf_run(&p);
}

PW_TEST(prefilter_ip4_longest_prefix)
{
	const struct pw_flow_event *ev;

	ASSERT_OK(setup(), "setup");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PF_PASS, "empty list");
	ASSERT_OK(pf_add("10.9.0.0/16", 1), "/16");
	ASSERT_OK(pf_add("10.9.8.0/24", 2), "/24");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PW_DROP_PREFILTER, "in /24");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_EQ(ev->rule_id, 2, "the longest prefix names the drop");
	ASSERT_EQ(pf_udp("10.9.1.1", "10.0.0.1"), PW_DROP_PREFILTER,
		  "in /16 only");
	ASSERT_EQ(fx_last_ev(PW_EV_DROP)->rule_id, 1, "the /16's id");
	ASSERT_EQ(pf_udp("10.8.255.255", "10.0.0.1"), PF_PASS, "below /16");
	ASSERT_EQ(pf_udp("10.10.0.0", "10.0.0.1"), PF_PASS, "above /16");
	/* the destination is never what is looked up */
	ASSERT_EQ(pf_udp("10.0.0.1", "10.9.8.7"), PF_PASS, "listed dst");
	ASSERT_OK(pf_del("10.9.8.0/24"), "remove /24");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PW_DROP_PREFILTER,
		  "the /16 still holds it");
	ASSERT_EQ(fx_last_ev(PW_EV_DROP)->rule_id, 1, "now the /16's");
	ASSERT_OK(pf_del("10.9.0.0/16"), "remove /16");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PF_PASS, "gone");
	return true;
}

PW_TEST(prefilter_ip6_and_families_apart)
{
	ASSERT_OK(setup(), "setup");
	ASSERT_OK(pf_add("fd77::/64", 5), "fd77::/64");
	ASSERT_OK(pf_add("fd77::42/128", 6), "a host in it");
	ASSERT_EQ(pf_udp("fd77::1", "fd00::1"), PW_DROP_PREFILTER, "in /64");
	ASSERT_EQ(fx_last_ev(PW_EV_DROP)->rule_id, 5, "the /64's id");
	ASSERT_EQ(pf_udp("fd77::42", "fd00::1"), PW_DROP_PREFILTER, "host");
	ASSERT_EQ(fx_last_ev(PW_EV_DROP)->rule_id, 6, "the host's id");
	ASSERT_EQ(pf_udp("fd77:0:0:1::1", "fd00::1"), PF_PASS, "next /64");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PF_PASS, "IPv4 unlisted");

	/* all of IPv4 catches no IPv6 source, and the other way round */
	ASSERT_OK(pf_add("0.0.0.0/0", 7), "all of IPv4");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PW_DROP_PREFILTER, "v4");
	ASSERT_EQ(pf_udp("fd78::1", "fd00::1"), PF_PASS, "v6 unlisted");
	ASSERT_OK(pf_del("0.0.0.0/0"), "remove");
	ASSERT_OK(pf_add("2000::/3", 8), "global unicast");
	ASSERT_EQ(pf_udp("2001:db8::1", "fd00::1"), PW_DROP_PREFILTER,
		  "in 2000::/3");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PF_PASS, "v4 not in it");

	/* an IPv4-mapped source on the wire is taken for what it says */
	ASSERT_OK(pf_add("10.9.0.0/16", 9), "v4 /16");
	ASSERT_EQ(pf_udp("::ffff:10.9.8.7", "fd00::1"), PW_DROP_PREFILTER,
		  "v4-mapped IPv6 source");
	return true;
}

/* A prefix that would take all of IPv4 by accident is refused. */
PW_TEST(prefilter_refuses_v6_prefix_holding_ip4)
{
	static const char *const bad[] = {"::/0", "::/1", "::/80",
					  "::fffe:0:0/95"};
	static const char *const good[] = {"::ffff:0:0/96", "::/97", "::1",
					   "2000::/3", "0.0.0.0/0"};
	size_t i;

	ASSERT_OK(setup(), "setup");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(pf_add(bad[i], 1), -EINVAL, bad[i]);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ASSERT_OK(pf_add(good[i], 1), good[i]);
	ASSERT_EQ(pf_udp("fd77::1", "fd00::1"), PF_PASS, "no ::/0 got in");
	return true;
}

PW_TEST(prefilter_vlan_tagged)
{
	struct pg p;
	int n;

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(pf_add("10.9.0.0/16", 1), "v4");
	ASSERT_OK(pf_add("fd77::/64", 2), "v6");
	for (n = 1; n <= 2; n++) {
		pf_frame(&p, "10.9.8.7", "10.0.0.1", n);
		ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "v4 in tags");
		pf_frame(&p, "fd77::1", "fd00::1", n);
		ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "v6 in tags");
		pf_frame(&p, "10.8.0.1", "10.0.0.1", n);
		ASSERT_EQ(pf_run(&p), PF_PASS, "unlisted in tags");
	}
	/* as many tags as the TC parser takes; a third is not looked into
	 * (TC drops it as bad-l2 at a pod; the stack has no device for it) */
	pf_frame(&p, "10.9.8.7", "10.0.0.1", 3);
	ASSERT_EQ(pf_run(&p), PF_PASS, "three tags");
	return true;
}

PW_TEST(prefilter_non_ip_passes)
{
	static const __u8 zero_mac[6];
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(pf_add("10.9.0.0/16", 1), "v4");
	pg_init(&p);
	pg_eth(&p, world_mac, fx_host_mac, 0);
	pg_arp(&p, 1, world_mac, "10.9.8.7", zero_mac, "10.0.0.1");
	ASSERT_EQ(pf_run(&p), PF_PASS, "ARP from a listed address");
	pg_init(&p);
	pg_eth(&p, world_mac, fx_host_mac, 0x88cc); /* LLDP */
	pg_fill(&p, 46, 0);
	ASSERT_EQ(pf_run(&p), PF_PASS, "LLDP");
	/* IPv4's ethertype on an IPv6 header (and back) is no IP packet of
	 * either family: the version nibble is checked */
	pf_frame(&p, "fd77::1", "fd00::1", 0);
	p.buf[12] = 0x08;
	p.buf[13] = 0x00;
	ASSERT_EQ(pf_run(&p), PF_PASS, "v6 header, IPv4 ethertype");
	return true;
}

/*
 * A frame cut short passes when it ends before the source address could be
 * read: the stack drops it anyway. Once the source is read, a listed one
 * drops, whatever is missing after it.
 */
PW_TEST(prefilter_truncated_frames)
{
	struct pw_counter c[PW_CNT_SLOTS];
	struct pg p;
	__u16 full;

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(pf_add("10.9.0.0/16", 1), "v4");
	ASSERT_OK(pf_add("fd77::/64", 2), "v6");

	pf_frame(&p, "10.9.8.7", "10.0.0.1", 0);
	full = p.len;
	for (p.len = ETH_HLEN; p.len < ETH_HLEN + 20; p.len++)
		ASSERT_EQ(pf_run(&p), PF_PASS, "IPv4 header cut");
	ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "whole IPv4 header");
	p.len = ETH_HLEN + 22; /* half a UDP header */
	ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "L4 cut");
	ASSERT_EQ(fx_last_ev(PW_EV_DROP)->dport, 0, "no ports read");
	p.len = full;

	pf_frame(&p, "fd77::1", "fd00::1", 0);
	for (p.len = ETH_HLEN; p.len < ETH_HLEN + 40; p.len++)
		ASSERT_EQ(pf_run(&p), PF_PASS, "IPv6 header cut");
	ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "whole IPv6 header");

	pf_frame(&p, "10.9.8.7", "10.0.0.1", 2);
	for (p.len = ETH_HLEN; p.len < ETH_HLEN + 8; p.len++)
		ASSERT_EQ(pf_run(&p), PF_PASS, "VLAN tags cut");

	ASSERT_OK(fx_counters(0, c), "counters");
	ASSERT_EQ(c[PW_DROP_PREFILTER].packets, 3, "only the 3 drops count");
	return true;
}

/* Counted in the node's slot, and reported as TC drops are. */
PW_TEST(prefilter_counter_and_event)
{
	struct pw_counter c[PW_CNT_SLOTS];
	const struct pw_flow_event *ev;
	struct pg p;
	int i;

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(pf_add("10.9.8.0/24", 42), "v4");
	pf_frame(&p, "10.9.8.7", "10.0.0.1", 0);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "dropped");
	ASSERT_EQ(pf_udp("10.8.0.1", "10.0.0.1"), PF_PASS, "passed");

	ASSERT_OK(fx_counters(0, c), "node counters");
	ASSERT_EQ(c[PW_DROP_PREFILTER].packets, 3, "drops");
	ASSERT_EQ(c[PW_DROP_PREFILTER].bytes, 3 * p.len, "bytes");
	ASSERT_EQ(c[PW_CNT_ALLOWED].packets, 0, "a pass is not counted");
	ASSERT_EQ(fx_ev_count(PW_EV_DROP), 3, "one event per drop");

	ev = fx_ev_nth(PW_EV_DROP, 0);
	ASSERT_TRUE(ev != NULL, "event");
	ASSERT_EQ(ev->verdict, PW_VERDICT_DROP, "verdict");
	ASSERT_EQ(ev->reason, PW_DROP_PREFILTER, "reason");
	ASSERT_STREQ(pw_drop_reason_name(ev->reason), "prefilter", "name");
	ASSERT_EQ(ev->dir, PW_DIR_INGRESS, "into the node");
	ASSERT_EQ(ev->ep_id, 0, "no endpoint: the node");
	ASSERT_EQ(ev->ifindex, A->ifindex, "the uplink's ifindex");
	ASSERT_EQ(ev->rule_id, 42, "the entry's id");
	ASSERT_EQ(ev->peer_id, PW_ID_WORLD, "from the world");
	ASSERT_EQ(ev->proto, IPPROTO_UDP, "proto");
	ASSERT_TRUE(fx_addr_eq(ev->src, "10.9.8.7"), "src");
	ASSERT_TRUE(fx_addr_eq(ev->dst, "10.0.0.1"), "dst");
	ASSERT_EQ(ntohs(ev->sport), 5353, "sport");
	ASSERT_EQ(ntohs(ev->dport), 53, "dport");

	/* TCP: flags too */
	pg_init(&p);
	pg_eth(&p, world_mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.9.8.8", .dst = "10.0.0.1"});
	pg_tcp(&p, &(struct pg_tcp){.sport = 40000,
				    .dport = 443,
				    .flags = PG_SYN | PG_ECE});
	ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "syn");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_EQ(ev->proto, IPPROTO_TCP, "tcp");
	ASSERT_EQ(ev->tcp_flags, PG_SYN, "flags, as TC reports them");
	ASSERT_EQ(ntohs(ev->sport), 40000, "tcp sport");
	ASSERT_EQ(ntohs(ev->dport), 443, "tcp dport");

	/* ICMP: type and code where TC drops put them */
	pg_init(&p);
	pg_eth(&p, world_mac, fx_host_mac, 0);
	pg_ip4(&p, &(struct pg_ip4){.src = "10.9.8.9", .dst = "10.0.0.1"});
	pg_icmp(&p, 8, 0, 0x1234, 1);
	ASSERT_EQ(pf_run(&p), PW_DROP_PREFILTER, "ping");
	ev = fx_last_ev(PW_EV_DROP);
	ASSERT_EQ(ev->proto, IPPROTO_ICMP, "icmp");
	ASSERT_EQ(ntohs(ev->dport), 8 << 8, "echo request");
	ASSERT_EQ(ntohs(ev->sport), 0x1234, "identifier");
	return true;
}

/* The TC programs do not consult the prefilter list. */
PW_TEST(prefilter_not_in_tc_path)
{
	struct fx_flow f = FX_FLOW(A, "10.9.8.7", 53, 5353);

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(fx_ep_set(A, 0, 1), "open endpoint");
	ASSERT_OK(pf_add("10.9.0.0/16", 1), "v4");
	ASSERT_EQ(fx_udp(&f, IN), FX_PASS, "pw_to_pod passes it");
	return true;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

PW_TEST(prefilter_file_read)
{
	char path[] = "/tmp/pw-prefilter-XXXXXX", err[256];
	struct pw_prefilter_ent *v = NULL;
	int fd, n = -1;
	bool ok = false;

	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0, "temp file");
	close(fd);
	if (!write_file(path, "# deny list\n"
			      "\n"
			      "10.9.0.0/16\n"
			      "  fd77::/64   # a comment\n"
			      "\t192.0.2.1\r\n"))
		goto out;
	if (pw_prefilter_read(path, &v, &n, err, sizeof(err)))
		goto out;
	if (n != 3 || v[0].rule_id != 3 || v[1].rule_id != 4 ||
	    v[2].rule_id != 5 || v[0].plen != 112 || v[1].plen != 64 ||
	    v[2].plen != 128)
		goto out;
	free(v);
	v = NULL;

	/* a bad line: named with its file, number and text; nothing read */
	if (!write_file(path, "10.9.0.0/16\n10.9.0.1/16\n") ||
	    pw_prefilter_read(path, &v, &n, err, sizeof(err)) != -EINVAL ||
	    !strstr(err, path) || !strstr(err, ":2:") ||
	    !strstr(err, "\"10.9.0.1/16\""))
		goto out;
	if (!write_file(path, "# all of IPv6\n::/0\n") ||
	    pw_prefilter_read(path, &v, &n, err, sizeof(err)) != -EINVAL ||
	    !strstr(err, ":2:") || !strstr(err, "IPv4"))
		goto out;
	if (!write_file(path, "10.9.0.0/16 fd77::/64\n") ||
	    pw_prefilter_read(path, &v, &n, err, sizeof(err)) != -EINVAL)
		goto out;
	unlink(path);
	if (pw_prefilter_read(path, &v, &n, err, sizeof(err)) != -ENOENT)
		goto out;
	ok = true;
out:
	if (!ok)
		PW_FAIL("last error: %s", err);
	free(v);
	unlink(path);
	return ok;
}

struct hammer {
	volatile bool stop;
	int runs, passed, errors;
};

/* Runs a packet from 10.9.8.7 until told to stop, counting passes. */
static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	__u32 retval;
	struct pg p;

	pf_frame(&p, "10.9.8.7", "10.0.0.1", 0);
	while (!h->stop) {
		if (pf_run_raw(&p, &retval))
			h->errors++;
		else if (retval != XDP_DROP)
			h->passed++;
		h->runs++;
	}
	return NULL;
}

static int apply_list(const char *const *cidrs, int n, __u32 id, int *added,
		      int *removed)
{
	struct pw_prefilter_ent v[8] = {};
	int i;

	for (i = 0; i < n; i++) {
		if (pw_cidr_parse(cidrs[i], v[i].addr, &v[i].plen))
			return -EINVAL;
		v[i].rule_id = id + i;
	}
	return pw_prefilter_apply(fx.dp, v, n, added, removed);
}

/*
 * Replacing the list: what is in both lists never goes missing, even for a
 * moment. Another thread runs a packet from a prefix in both, with a new
 * rule id each time, while the list changes back and forth.
 */
PW_TEST(prefilter_apply_keeps_common_prefixes)
{
	static const char *const one[] = {"10.1.0.0/16", "10.9.8.0/24"};
	static const char *const two[] = {"10.9.8.0/24", "fd77::/64",
					  "10.2.0.0/16"};
	struct hammer h = {};
	int i, added, removed, err = 0;
	pthread_t t;
	__u32 retval;
	struct pg p;

	ASSERT_OK(setup(), "setup");
	ASSERT_OK(pf_add("10.3.0.0/16", 99), "a prefix in neither list");
	ASSERT_OK(apply_list(one, 2, 10, &added, &removed), "first list");
	ASSERT_EQ(added, 2, "added");
	ASSERT_EQ(removed, 1, "the one in neither list went");
	ASSERT_EQ(pf_udp("10.3.0.1", "10.0.0.1"), PF_PASS, "gone");
	ASSERT_OK(apply_list(two, 3, 20, &added, &removed), "second list");
	ASSERT_EQ(added, 2, "added");
	ASSERT_EQ(removed, 1, "removed");
	ASSERT_EQ(pf_udp("10.1.0.1", "10.0.0.1"), PF_PASS, "10.1/16 gone");
	ASSERT_EQ(pf_udp("10.2.0.1", "10.0.0.1"), PW_DROP_PREFILTER, "10.2");
	ASSERT_EQ(pf_udp("10.9.8.7", "10.0.0.1"), PW_DROP_PREFILTER, "both");
	ASSERT_EQ(fx_last_ev(PW_EV_DROP)->rule_id, 20, "its new id");
	ASSERT_OK(apply_list(two, 3, 20, &added, &removed), "same again");
	ASSERT_EQ(added + removed, 0, "nothing to do");

	ASSERT_OK(pthread_create(&t, NULL, hammer_fn, &h), "thread");
	for (i = 0; i < 2000 && !err; i++)
		err = i % 2 ? apply_list(two, 3, 20 + i, NULL, NULL)
			    : apply_list(one, 2, 10 + i, NULL, NULL);
	h.stop = true;
	pthread_join(t, NULL);
	fprintf(stderr, "  %d runs during 2000 list changes\n", h.runs);
	ASSERT_OK(err, "every change applied");
	ASSERT_EQ(h.errors, 0, "test runs");
	ASSERT_TRUE(h.runs > 0, "the packet ran meanwhile");
	ASSERT_EQ(h.passed, 0, "never passed: never absent");

	ASSERT_OK(pw_prefilter_apply(fx.dp, NULL, 0, &added, &removed),
		  "empty list");
	pf_frame(&p, "10.9.8.7", "10.0.0.1", 0);
	ASSERT_OK(pf_run_raw(&p, &retval), "run");
	ASSERT_EQ(retval, XDP_PASS, "an empty list drops nothing");
	return true;
}

/*
 * Pins from a podwall before the prefilter: opening them works for all
 * else and the prefilter calls say what to do; loading again adds it and
 * keeps what the old maps hold.
 */
static bool old_pins_body(const char *dir)
{
	struct pw_dp_opts opts = {.pin_dir = dir,
				  .ct_max = 4096,
				  .policy_max = 1024,
				  .ipcache_max = 1024,
				  .ep_max = 64,
				  .frag_max = 1024,
				  .events_bytes = 1 << 16};
	struct pw_endpoint ep = {.ep_id = 5, .pol_id = 5, .rev = 9}, got;
	char path[256];
	struct pw_dp *dp;
	__u8 a[16];
	__u32 plen;

	ASSERT_OK(pw_dp_load(&opts, &dp), "first load pins");
	ASSERT_OK(pw_dp_endpoint_set(dp, 77, &ep), "write an endpoint");
	pw_dp_close(dp);
	/* what an older version pinned: no prefilter map or program */
	snprintf(path, sizeof(path), "%s/pw_prefilter", dir);
	ASSERT_OK(unlink(path), "unpin the map");
	snprintf(path, sizeof(path), "%s/pw_xdp_prefilter", dir);
	ASSERT_OK(unlink(path), "unpin the program");

	ASSERT_OK(pw_dp_open_pinned(dir, &dp), "old pins open");
	ASSERT_OK(pw_dp_endpoint_get(dp, 77, &got), "endpoint readable");
	ASSERT_OK(pw_cidr_parse("10.9.0.0/16", a, &plen), "cidr");
	ASSERT_EQ(pw_dp_prefilter_set(dp, a, plen, 1), -ENOENT,
		  "no prefilter in old pins");
	ASSERT_EQ(pw_dp_prefilter_fd(dp), -1, "no program");
	pw_dp_close(dp);

	ASSERT_OK(pw_dp_load(&opts, &dp), "load over old pins");
	ASSERT_OK(pw_dp_endpoint_get(dp, 77, &got), "endpoint kept");
	ASSERT_EQ(got.rev, 9, "same map");
	pw_dp_close(dp);
	ASSERT_OK(pw_dp_open_pinned(dir, &dp), "open again");
	ASSERT_OK(pw_dp_prefilter_set(dp, a, plen, 1), "prefilter added");
	ASSERT_TRUE(pw_dp_prefilter_fd(dp) >= 0, "program pinned");
	pw_dp_close(dp);
	return true;
}

PW_TEST(prefilter_added_to_old_pins)
{
	char dir[64];
	bool ok;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/podwall-unit-pf-%d", getpid());
	ok = old_pins_body(dir);
	ASSERT_OK(pw_dp_unpin(dir), "unpin");
	ASSERT_TRUE(access(dir, F_OK) != 0, "pin folder gone");
	return ok;
}
