// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The BPF tests' shared fixture. See bpf_fixture.h. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "bpf_fixture.h"

struct fx fx;

const __u8 fx_host_mac[6] = {0x02, 0xee, 0xee, 0xee, 0xee, 0x01};

static const struct fx_ep ep_tmpl[FX_NEP] = {
	{0, 1, 1001, "10.0.0.1", "fd00::1", {2, 0, 0, 0, 0, 1}},
	{0, 2, 1002, "10.0.0.2", "fd00::2", {2, 0, 0, 0, 0, 2}},
	{0, 3, 1003, "10.0.0.3", "fd00::3", {2, 0, 0, 0, 0, 3}},
	{0, 4, 1004, "10.0.0.4", "fd00::4", {2, 0, 0, 0, 0, 4}},
};

/*
 * The test run honours a context ifindex only for a device of the current
 * network namespace: a private one holds the endpoints' veths.
 */
static int netns_setup(void)
{
	static bool done;
	char cmd[128];
	int i;

	if (done)
		return 0;
	if (getenv("PW_FX_XDP") && !strcmp(getenv("PW_FX_XDP"), "1"))
		fx.xdp = true;
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "fixture: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return -errno;
	}
	/* the tests that run a server (the fake API server) use loopback */
	if (system("ip link set lo up"))
		fprintf(stderr, "fixture: could not bring lo up\n");
	/* no autoconfiguration chatter (RS, MLD, DAD) on the veths */
	if (system("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
		   "net.ipv6.conf.default.disable_ipv6=1"))
		fprintf(stderr, "fixture: could not disable IPv6\n");
	for (i = 0; i < FX_NEP; i++) {
		snprintf(cmd, sizeof(cmd),
			 "ip link add pwt%d type veth peer name pwp%d", i, i);
		if (system(cmd)) {
			fprintf(stderr, "fixture: \"%s\" failed\n", cmd);
			return -ENODEV;
		}
		fx.ep[i] = ep_tmpl[i];
		snprintf(cmd, sizeof(cmd), "pwt%d", i);
		fx.ep[i].ifindex = if_nametoindex(cmd);
		if (!fx.ep[i].ifindex)
			return -ENODEV;
	}
	done = true;
	return 0;
}

static int ev_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size < sizeof(struct pw_flow_event))
		return 0;
	if (fx.nev == FX_EVS_MAX) {
		fx.ev_overflow++;
		return 0;
	}
	memcpy(&fx.ev[fx.nev++], data, sizeof(struct pw_flow_event));
	return 0;
}

static void dp_close(void)
{
	ring_buffer__free(fx.rb);
	fx.rb = NULL;
	pw_dp_close(fx.dp);
	fx.dp = NULL;
}

static int dp_load(const struct pw_dp_opts *o)
{
	struct pw_dp_opts opts = *o;
	int err;

	dp_close();
	opts.pin_dir = NULL;
	opts.ct_max = opts.ct_max ?: FX_CT_MAX;
	opts.policy_max = opts.policy_max ?: FX_POLICY_MAX;
	opts.ipcache_max = opts.ipcache_max ?: FX_IPCACHE_MAX;
	opts.ep_max = opts.ep_max ?: FX_EP_MAX;
	opts.frag_max = opts.frag_max ?: FX_FRAG_MAX;
	opts.events_bytes = opts.events_bytes ?: FX_EVENTS_BYTES;
	err = pw_dp_load(&opts, &fx.dp);
	if (err) {
		fprintf(stderr, "fixture: pw_dp_load: %s\n", strerror(-err));
		fx.dp = NULL;
		return err;
	}
	fx.rb = ring_buffer__new(pw_dp_map_fd(fx.dp, PW_MAP_EVENTS), ev_cb,
				 NULL, NULL);
	if (!fx.rb) {
		err = -errno;
		dp_close();
		return err;
	}
	return 0;
}

__attribute__((destructor)) static void fx_exit(void)
{
	dp_close();
}

/* Deletes every key of a hash or LPM trie map. */
static int map_clear(int fd, size_t key_size)
{
	__u8 key[64];

	if (key_size > sizeof(key))
		return -E2BIG;
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return errno == ENOENT ? 0 : -errno;
}

static int map_count(int fd)
{
	__u8 key[64], next[64];
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

static int percpu_zero(int fd, __u32 n, size_t val_size)
{
	int ncpu = libbpf_num_possible_cpus();
	void *zero;
	__u32 i;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, val_size);
	if (!zero)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}

static int dp_reset(void)
{
	int err;

	/* what an earlier test left in the ring is not ours */
	ring_buffer__consume(fx.rb);
	err = map_clear(pw_dp_map_fd(fx.dp, PW_MAP_ENDPOINTS), sizeof(__u32));
	err = err
		      ?: map_clear(pw_dp_map_fd(fx.dp, PW_MAP_IPCACHE),
				   sizeof(struct pw_ipcache_key));
	err = err
		      ?: map_clear(pw_dp_map_fd(fx.dp, PW_MAP_POLICY),
				   sizeof(struct pw_policy_key));
	err = err
		      ?: map_clear(pw_dp_map_fd(fx.dp, PW_MAP_POLICY_EXACT),
				   sizeof(struct pw_policy_xkey));
	err = err
		      ?: map_clear(pw_dp_map_fd(fx.dp, PW_MAP_CT),
				   sizeof(struct pw_ct_key));
	err = err
		      ?: map_clear(pw_dp_map_fd(fx.dp, PW_MAP_FRAG),
				   sizeof(struct pw_frag_key));
	err = err
		      ?: percpu_zero(pw_dp_map_fd(fx.dp, PW_MAP_COUNTERS),
				     (FX_NEP + 1) * PW_CNT_SLOTS,
				     sizeof(struct pw_counter));
	err = err
		      ?: percpu_zero(pw_dp_map_fd(fx.dp, PW_MAP_EVENTS_LOST), 1,
				     sizeof(__u64));
	fx.nev = fx.nev_last = fx.ev_overflow = 0;
	if (err)
		fprintf(stderr, "fixture: reset maps: %s\n", strerror(-err));
	return err;
}

int fx_init(void)
{
	struct pw_dp_opts opts = {0};
	int err = netns_setup();

	if (err)
		return err;
	if (!fx.dp || fx.custom) {
		err = dp_load(&opts);
		fx.custom = false;
		if (err)
			return err;
	}
	return dp_reset();
}

int fx_init_opts(const struct pw_dp_opts *opts)
{
	int err = netns_setup();

	if (err)
		return err;
	err = dp_load(opts);
	fx.custom = true;
	return err ?: dp_reset();
}

void fx_addr(const char *s, __u8 out[16])
{
	if (pw_addr_parse(s, out)) {
		fprintf(stderr, "fixture: bad address %s\n", s);
		abort();
	}
}

bool fx_addr_eq(const __u8 a[16], const char *s)
{
	__u8 b[16];

	fx_addr(s, b);
	return !memcmp(a, b, 16);
}

int fx_ep_set(const struct fx_ep *ep, __u32 flags, __u32 rev)
{
	struct pw_endpoint e = {
		.ep_id = ep->ep_id,
		.pol_id = ep->ep_id,
		.identity = ep->identity,
		.rev = rev,
		.flags = flags | PW_EP_F_HAS_IP4 | PW_EP_F_HAS_IP6 |
			 PW_EP_F_HAS_MAC,
	};

	fx_addr(ep->ip4, e.ip4);
	fx_addr(ep->ip6, e.ip6);
	memcpy(e.mac, ep->mac, 6);
	return pw_dp_endpoint_set(fx.dp, ep->ifindex, &e);
}

int fx_allow(const struct fx_ep *ep, int dir, __u32 peer, __u8 proto, __u16 lo,
	     __u16 hi, __u32 rule_id)
{
	struct pw_dp_rule r = {
		.pol_id = ep->ep_id,
		.peer_id = peer,
		.dir = dir,
		.proto = proto,
		.port_lo = lo,
		.port_hi = hi,
		.rule_id = rule_id,
	};

	return pw_dp_policy_add(fx.dp, &r);
}

int fx_ipcache(const char *cidr, __u32 id, __u32 cidr_id)
{
	struct pw_ipcache_entry e = {.id = id, .cidr_id = cidr_id};
	__u8 addr[16];
	__u32 plen;

	if (pw_cidr_parse(cidr, addr, &plen))
		return -EINVAL;
	return pw_dp_ipcache_set(fx.dp, addr, plen, &e);
}

int fx_events_drain(void)
{
	int before = fx.nev, err;

	err = ring_buffer__consume(fx.rb);
	if (err < 0)
		return err;
	return fx.nev - before;
}

/* An XDP verdict as the TC one of the same meaning; anything else as a
 * value neither TC_ACT_UNSPEC nor TC_ACT_SHOT. */
static __u32 xdp_as_tc(__u32 ret)
{
	if (ret == XDP_PASS)
		return (__u32)TC_ACT_UNSPEC;
	if (ret == XDP_DROP)
		return TC_ACT_SHOT;
	return 0x10000 + ret;
}

int fx_run_raw(struct pg *p, int dir, int ifindex, __u32 repeat, __u32 *retval)
{
	bool xdp = fx.xdp && dir == EG;
	struct __sk_buff skb = {.ifindex = ifindex};
	/* the test run makes an XDP frame of the linear data; the context's
	 * data_end must say its length */
	struct xdp_md md = {.ingress_ifindex = ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .repeat = repeat);
	int err, fd;

	if (!p->finished)
		pg_finish(p);
	if (p->overflow)
		return -E2BIG;
	opts.data_size_in = p->len;
	if (xdp) {
		md.data_end = p->len;
		opts.ctx_in = &md;
		opts.ctx_size_in = sizeof(md);
		fd = pw_dp_from_pod_xdp_fd(fx.dp);
	} else {
		opts.ctx_in = &skb;
		opts.ctx_size_in = sizeof(skb);
		fd = pw_dp_prog_fd(fx.dp, dir);
	}
	err = bpf_prog_test_run_opts(fd, &opts);
	if (err) {
		err = -errno;
		fprintf(stderr, "  fixture: test run: %s\n", strerror(-err));
		return err;
	}
	*retval = xdp ? xdp_as_tc(opts.retval) : opts.retval;
	return 0;
}

int fx_run(struct pg *p, int dir, const struct fx_ep *ep)
{
	__u32 retval;
	int err, i;

	fx_events_drain();
	fx.nev_last = fx.nev;
	err = fx_run_raw(p, dir, ep->ifindex, 1, &retval);
	if (err)
		return err;
	fx_events_drain();
	if (retval == (__u32)TC_ACT_UNSPEC)
		return FX_PASS;
	if (retval != TC_ACT_SHOT)
		return -EIO;
	for (i = fx.nev_last; i < fx.nev; i++)
		if (fx.ev[i].type == PW_EV_DROP &&
		    fx.ev[i].verdict == PW_VERDICT_DROP)
			return fx.ev[i].reason;
	return -ENOMSG;
}

static bool is6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

void fx_frame(struct pg *p, const struct fx_flow *f, int dir)
{
	const struct fx_ep *ep = f->ep;
	const char *pod = is6(f->peer) ? ep->ip6 : ep->ip4;
	const char *src = dir == EG ? pod : f->peer;
	const char *dst = dir == EG ? f->peer : pod;

	pg_init(p);
	if (dir == EG)
		pg_eth(p, ep->mac, fx_host_mac, 0);
	else
		pg_eth(p, fx_host_mac, ep->mac, 0);
	if (is6(f->peer))
		pg_ip6(p, &(struct pg_ip6){.src = src, .dst = dst});
	else
		pg_ip4(p, &(struct pg_ip4){.src = src, .dst = dst, .id = 1});
}

void fx_tcp_frame(struct pg *p, const struct fx_flow *f, int dir, __u8 flags)
{
	fx_frame(p, f, dir);
	pg_tcp(p, &(struct pg_tcp){
			  .sport = dir == EG ? f->lport : f->rport,
			  .dport = dir == EG ? f->rport : f->lport,
			  .flags = flags,
			  .seq = 1000,
			  .ack = flags & PG_ACK ? 2000 : 0,
		  });
	pg_finish(p);
}

int fx_tcp(const struct fx_flow *f, int dir, __u8 flags)
{
	struct pg p;

	fx_tcp_frame(&p, f, dir, flags);
	return fx_run(&p, dir, f->ep);
}

int fx_udp(const struct fx_flow *f, int dir)
{
	struct pg p;

	fx_frame(&p, f, dir);
	pg_udp(&p, &(struct pg_udp){
			   .sport = dir == EG ? f->lport : f->rport,
			   .dport = dir == EG ? f->rport : f->lport,
		   });
	pg_fill(&p, 16, 0xab);
	return fx_run(&p, dir, f->ep);
}

int fx_sctp(const struct fx_flow *f, int dir)
{
	struct pg p;

	fx_frame(&p, f, dir);
	pg_sctp(&p, dir == EG ? f->lport : f->rport,
		dir == EG ? f->rport : f->lport, 0);
	pg_sctp_init(&p, 0x12345678);
	return fx_run(&p, dir, f->ep);
}

int fx_echo(const struct fx_flow *f, int dir, bool reply, __u16 id)
{
	bool v6 = is6(f->peer);
	struct pg p;

	fx_frame(&p, f, dir);
	pg_icmp(&p, v6 ? (reply ? 129 : 128) : (reply ? 0 : 8), 0, id, 1);
	pg_fill(&p, 32, 0x61);
	return fx_run(&p, dir, f->ep);
}

int fx_handshake(const struct fx_flow *f, int dir)
{
	int other = dir == EG ? IN : EG, ret;

	ret = fx_tcp(f, dir, PG_SYN);
	if (ret != FX_PASS)
		return ret;
	ret = fx_tcp(f, other, PG_SYN | PG_ACK);
	if (ret != FX_PASS)
		return ret;
	return fx_tcp(f, dir, PG_ACK);
}

static void ct_key(const struct fx_flow *f, __u8 proto, struct pw_ct_key *k)
{
	memset(k, 0, sizeof(*k));
	fx_addr(is6(f->peer) ? f->ep->ip6 : f->ep->ip4, k->local);
	fx_addr(f->peer, k->remote);
	k->lport = htons(f->lport);
	k->rport = htons(f->rport);
	k->proto = proto;
	k->ep_id = f->ep->ep_id;
}

int fx_ct_get(const struct fx_flow *f, __u8 proto, struct pw_ct_entry *ct)
{
	struct pw_ct_key k;

	ct_key(f, proto, &k);
	if (bpf_map_lookup_elem(pw_dp_map_fd(fx.dp, PW_MAP_CT), &k, ct))
		return -errno;
	return 0;
}

int fx_ct_get_echo(const struct fx_flow *f, __u8 proto, __u16 id,
		   bool local_asked, struct pw_ct_entry *ct)
{
	struct pw_ct_key k;

	ct_key(f, proto, &k);
	k.lport = htons(id);
	k.rport = htons(local_asked ? PW_CT_ICMP_LOCAL_ASKED
				    : PW_CT_ICMP_REMOTE_ASKED);
	if (bpf_map_lookup_elem(pw_dp_map_fd(fx.dp, PW_MAP_CT), &k, ct))
		return -errno;
	return 0;
}

int fx_ct_count(void)
{
	return map_count(pw_dp_map_fd(fx.dp, PW_MAP_CT));
}

int fx_frag_count(void)
{
	return map_count(pw_dp_map_fd(fx.dp, PW_MAP_FRAG));
}

int fx_counters(__u32 ep_id, struct pw_counter out[PW_CNT_SLOTS])
{
	return pw_dp_counters(fx.dp, ep_id, out);
}

int fx_last_nev(void)
{
	return fx.nev - fx.nev_last;
}

const struct pw_flow_event *fx_last_ev(int type)
{
	int i;

	for (i = fx.nev_last; i < fx.nev; i++)
		if (fx.ev[i].type == type)
			return &fx.ev[i];
	return NULL;
}

const struct pw_flow_event *fx_ev_nth(int type, int n)
{
	int i;

	fx_events_drain();
	for (i = 0; i < fx.nev; i++)
		if (fx.ev[i].type == type && n-- == 0)
			return &fx.ev[i];
	return NULL;
}

int fx_ev_count(int type)
{
	int i, n = 0;

	fx_events_drain();
	for (i = 0; i < fx.nev; i++)
		n += fx.ev[i].type == type;
	return n;
}

int fx_attach(const struct fx_ep *ep)
{
	char cmd[96];
	int i = ep - fx.ep;

	snprintf(cmd, sizeof(cmd),
		 "ip link set pwt%d up && ip link set pwp%d up", i, i);
	if (system(cmd))
		return -ENODEV;
	pw_dp_set_veth_mode(fx.dp, fx.xdp ? PW_VETH_XDP : PW_VETH_TC);
	return pw_dp_attach(fx.dp, ep->ifindex);
}

void fx_detach(const struct fx_ep *ep)
{
	pw_dp_detach(ep->ifindex);
}

int fx_inject(struct pg *p, const struct fx_ep *ep)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_halen = 6};
	char name[IFNAMSIZ];
	int fd, err = 0;

	if (!p->finished)
		pg_finish(p);
	snprintf(name, sizeof(name), "pwp%d", (int)(ep - fx.ep));
	sll.sll_ifindex = if_nametoindex(name);
	if (!sll.sll_ifindex)
		return -ENODEV;
	memcpy(sll.sll_addr, p->buf, 6);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, p->buf, p->len, 0, (struct sockaddr *)&sll,
		   sizeof(sll)) != p->len)
		err = -errno;
	close(fd);
	return err;
}

int fx_wait_events(int n, int ms)
{
	int waited;

	for (waited = 0; fx.nev < n && waited < ms; waited += 10) {
		ring_buffer__poll(fx.rb, 10);
		fx_events_drain();
	}
	return fx.nev;
}

bool fx_xdp_run(const char *name)
{
	bool (*fn)(void) = pw_test_find(name);
	bool was = fx.xdp, ok;

	if (!fn) {
		fprintf(stderr, "  fixture: no test %s\n", name);
		return false;
	}
	fx.xdp = true;
	ok = fn();
	fx.xdp = was;
	return ok;
}
