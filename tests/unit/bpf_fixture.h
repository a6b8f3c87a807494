/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The BPF tests' shared fixture: one loaded datapath, four endpoints on
 * veth devices in a private network namespace, and helpers that build a
 * packet, run it through pw_from_pod or pw_to_pod with BPF_PROG_TEST_RUN
 * and say what became of it.
 *
 * Every test starts with fx_init(), which empties every map, the counters
 * and the event ring, so no test depends on another or on their order.
 * The datapath itself is loaded once and reused; a test that needs other
 * map sizes or timeouts asks fx_init_opts() for its own.
 */
#ifndef PW_BPF_FIXTURE_H
#define PW_BPF_FIXTURE_H

#include <stdbool.h>
#include <netinet/in.h>
#include <linux/pkt_cls.h>
#include "datapath.h"
#include "pktgen.h"
#include "testlib.h"

struct ring_buffer;

#define EG PW_DIR_EGRESS  /* the pod sends: pw_from_pod */
#define IN PW_DIR_INGRESS /* delivered to the pod: pw_to_pod */

/* What fx_run() returns for a packet the program passed. */
#define FX_PASS PW_DROP_NONE

#define FX_NEP	   4
#define FX_EVS_MAX 4096

/* An endpoint of the fixture: a pod whose host-side veth is pwtN. */
struct fx_ep {
	int ifindex;
	__u32 ep_id;
	__u32 identity;
	const char *ip4;
	const char *ip6;
	__u8 mac[6];
};

struct fx {
	struct pw_dp *dp;
	/* What the pod sends goes through pw_from_pod_xdp, not pw_from_pod:
	 * fx_run() and fx_attach() then test the XDP veth mode. Set by
	 * fx_xdp_run(), or for every test by PW_FX_XDP=1 in the environment. */
	bool xdp;
	bool custom; /* dp was loaded with a test's own options */
	struct ring_buffer *rb;
	struct fx_ep ep[FX_NEP];
	struct pw_flow_event ev[FX_EVS_MAX]; /* every event of this test */
	int nev;
	int nev_last; /* events of the last fx_run() start here */
	int ev_overflow;
};

extern struct fx fx;

/* Endpoints A..D: ep_id 1..4, 10.0.0.1..4, fd00::1..4, 02:00:00:00:00:0N */
#define A (&fx.ep[0])
#define B (&fx.ep[1])
#define C (&fx.ep[2])
#define D (&fx.ep[3])

/* The MAC of the host side; the destination of what pods send. */
extern const __u8 fx_host_mac[6];

/* Map sizes of the shared datapath. */
#define FX_CT_MAX	4096
#define FX_POLICY_MAX	1024
#define FX_IPCACHE_MAX	1024
#define FX_EP_MAX	64
#define FX_FRAG_MAX	1024
#define FX_EVENTS_BYTES (1 << 20)

/* Sets up the shared datapath and empties it. Returns 0 or -errno. */
int fx_init(void);
/* The same with a datapath of the test's own; zero fields take the
 * fixture's sizes. */
int fx_init_opts(const struct pw_dp_opts *opts);

/*
 * Installs endpoint @ep with @flags (PW_EP_F_*); its addresses and MAC
 * flags are added, and its policy revision is @rev.
 */
int fx_ep_set(const struct fx_ep *ep, __u32 flags, __u32 rev);
/* Allows @ep in @dir from/to @peer, @proto (0: any), ports lo..hi. */
int fx_allow(const struct fx_ep *ep, int dir, __u32 peer, __u8 proto, __u16 lo,
	     __u16 hi, __u32 rule_id);
/* ipcache entry for @cidr ("10.1.0.0/24", "fd01::7"). */
int fx_ipcache(const char *cidr, __u32 id, __u32 cidr_id);

/*
 * Runs frame @p through the program of @dir at @ep's veth (for EG in XDP
 * mode pw_from_pod_xdp, whose XDP_PASS and XDP_DROP read as TC_ACT_UNSPEC
 * and TC_ACT_SHOT). Returns FX_PASS when the program returned TC_ACT_OK,
 * the drop reason of the drop event it sent when it returned TC_ACT_SHOT,
 * or a negative errno: -EIO for any other return value, -ENOMSG for a drop
 * without its event.
 */
int fx_run(struct pg *p, int dir, const struct fx_ep *ep);
/* The raw test run: @repeat runs, the program's return value in *retval
 * (an XDP verdict mapped as fx_run() says). */
int fx_run_raw(struct pg *p, int dir, int ifindex, __u32 repeat, __u32 *retval);

/*
 * Frames between endpoint @ep and a peer at @peer. @dir EG: the pod sends
 * from (its address, lport) to (peer, rport); IN: the peer sends from
 * (peer, rport) to (the pod's address, lport). The family follows @peer.
 */
struct fx_flow {
	const struct fx_ep *ep;
	const char *peer;
	__u16 lport, rport;
};

#define FX_FLOW(e, addr, l, r)                                        \
	{                                                             \
		.ep = (e), .peer = (addr), .lport = (l), .rport = (r) \
	}

void fx_frame(struct pg *p, const struct fx_flow *f, int dir);
void fx_tcp_frame(struct pg *p, const struct fx_flow *f, int dir, __u8 flags);
/* Builds and runs one packet; returns as fx_run(). */
int fx_tcp(const struct fx_flow *f, int dir, __u8 flags);
int fx_udp(const struct fx_flow *f, int dir);
int fx_sctp(const struct fx_flow *f, int dir);
/* ICMP(v6) echo request (@reply false) or reply, identifier @id. */
int fx_echo(const struct fx_flow *f, int dir, bool reply, __u16 id);
/* A TCP handshake started by @dir: SYN, SYN-ACK, ACK. */
int fx_handshake(const struct fx_flow *f, int dir);

/*
 * Real traffic, for what a test run cannot show (the kernel moving an outer
 * VLAN tag into skb metadata before TC ingress): attaches both programs to
 * @ep's veth and sends frame @p from its peer end (pwpN) with a packet
 * socket, so it reaches pw_from_pod the way a pod's frame does. Returns 0
 * or -errno; fx_wait_events() then collects what the program reported.
 */
int fx_attach(const struct fx_ep *ep);
void fx_detach(const struct fx_ep *ep);
int fx_inject(struct pg *p, const struct fx_ep *ep);
/* Waits up to @ms for at least @n events since fx_init(); returns fx.nev. */
int fx_wait_events(int n, int ms);

/* Runs test @name (as registered) with fx.xdp set: the same checks on the
 * XDP program. False if it fails or does not exist. */
bool fx_xdp_run(const char *name);

/* The conntrack entry of @f for protocol @proto, seen from its endpoint. */
int fx_ct_get(const struct fx_flow *f, __u8 proto, struct pw_ct_entry *ct);
/* The ICMP echo entry: lport = identifier, rport = who asked. */
int fx_ct_get_echo(const struct fx_flow *f, __u8 proto, __u16 id,
		   bool local_asked, struct pw_ct_entry *ct);
int fx_ct_count(void);
int fx_frag_count(void);

/* Counters of ep_id (0: node), summed over CPUs. */
int fx_counters(__u32 ep_id, struct pw_counter out[PW_CNT_SLOTS]);

/* Reads what the ring holds into fx.ev; returns how many were added. */
int fx_events_drain(void);
/* The events of the last fx_run(), and the first of those of @type. */
int fx_last_nev(void);
const struct pw_flow_event *fx_last_ev(int type);
/* The n-th event (0 first) of @type since fx_init(), or NULL. */
const struct pw_flow_event *fx_ev_nth(int type, int n);
int fx_ev_count(int type);

/* "10.0.0.1" in the maps' IPv4-mapped form; aborts on a bad address. */
void fx_addr(const char *s, __u8 out[16]);
bool fx_addr_eq(const __u8 a[16], const char *s);

#endif /* PW_BPF_FIXTURE_H */
