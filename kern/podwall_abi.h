/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * podwall_abi.h - every struct and constant that crosses the kernel/user
 * boundary. The BPF programs and all of user/ include this one header;
 * nothing here is defined a second time anywhere else.
 *
 * Rules: fixed-width types only, explicit padding, byte order stated where a
 * field is not host order, no pointers. Addresses are always 16 bytes: IPv4
 * is stored IPv4-mapped (::ffff:a.b.c.d), so one LPM trie and one conntrack
 * table serve both families.
 *
 * Changing a layout here changes PW_ABI_VERSION, which is part of the pin
 * folder's layout check in user/lib/datapath.c.
 */
#ifndef PODWALL_ABI_H
#define PODWALL_ABI_H

#include <linux/types.h>

#define PW_ABI_VERSION 1

/* Pinned map names, under the pin folder (default /sys/fs/bpf/podwall). */
#define PW_PIN_DIR_DEFAULT "/sys/fs/bpf/podwall"

/*
 * Directions are named from the pod's point of view, as NetworkPolicy does.
 * EGRESS: the pod sends; seen at the host-side veth's TC ingress hook.
 * INGRESS: delivered to the pod; seen at the host-side veth's TC egress hook.
 */
enum pw_dir {
	PW_DIR_NONE = 0,
	PW_DIR_INGRESS = 1,
	PW_DIR_EGRESS = 2,
};

/*
 * Reserved identities. Identities >= PW_ID_FIRST_USER are allocated by the
 * agent: label identities for pods, CIDR identities for ipBlock prefixes.
 */
enum pw_identity {
	PW_ID_ANY = 0,	 /* policy key only: any peer */
	PW_ID_WORLD = 1, /* address with no ipcache entry */
	PW_ID_HOST = 2,	 /* the node itself */
	PW_ID_FIRST_USER = 256,
};

/*
 * Drop reasons: a stable API, printed by flow logs, metrics and the CLI.
 * Never renumber; retire a code by leaving a placeholder. The name table in
 * user/lib/names.c must change with this enum. A value is also the index
 * of its counter in struct pw_counter slots (see PW_CNT_*).
 */
enum pw_drop_reason {
	PW_DROP_NONE = 0,
	PW_DROP_POLICY_DENIED = 1,   /* no rule allows it; default deny */
	PW_DROP_OUT_OF_STATE = 2,    /* TCP non-SYN with no flow */
	PW_DROP_POLICY_REVOKED = 3,  /* established flow cut by new policy */
	PW_DROP_SPOOFED_IP = 4,	     /* source IP is not the endpoint's */
	PW_DROP_SPOOFED_MAC = 5,     /* source MAC is not the endpoint's */
	PW_DROP_BAD_L2 = 6,	     /* truncated frame, too many VLAN tags */
	PW_DROP_BAD_IP4 = 7,	     /* IHL < 5, lengths that do not add up */
	PW_DROP_BAD_IP6 = 8,	     /* truncated header or extension header */
	PW_DROP_BAD_L4 = 9,	     /* truncated L4 header, TCP doff < 5 */
	PW_DROP_BAD_TCP_FLAGS = 10,  /* SYN+FIN, NULL, Xmas, ... */
	PW_DROP_FRAG_NO_FIRST = 11,  /* later fragment, first one unknown */
	PW_DROP_FRAG_TOO_SMALL = 12, /* first fragment lacks the L4 header */
	PW_DROP_FRAG_OVERLAP = 13,   /* later fragment overlaps the L4 header */
	PW_DROP_FRAG_DENIED = 14,    /* later fragment of a dropped first one */
	PW_DROP_EXTHDR_CHAIN = 15,   /* IPv6 chain past the parser's bound */
	PW_DROP_ICMP_UNRELATED = 16, /* ICMP error for no live flow */
	PW_DROP_UNSUPPORTED_L3 = 17, /* ethertype other than IPv4, IPv6, ARP */
	PW_DROP_ND_FROM_POD = 18, /* router advertisement/redirect by a pod */
	PW_DROP_MAP_FULL = 19,	  /* conntrack or fragment map update failed */
	PW_DROP_PREFILTER = 20,	  /* source in the uplink's deny list (XDP) */
	PW_DROP__MAX,
};

/*
 * Counters: per endpoint, PW_CNT_SLOTS slots of {packets, bytes} in a
 * per-CPU array at index ep_id * PW_CNT_SLOTS + slot. Endpoint 0 holds the
 * node-wide totals. Slot 0 counts allowed packets, slot r drops of reason r,
 * PW_CNT_AUDIT the would-be drops that audit mode passed.
 */
#define PW_CNT_ALLOWED 0
#define PW_CNT_AUDIT   31
#define PW_CNT_SLOTS   32

struct pw_counter {
	__u64 packets;
	__u64 bytes;
};

/* Endpoint: one pod or container, keyed by its host-side ifindex (__u32). */
enum pw_endpoint_flags {
	PW_EP_F_HAS_IP4 = 1U << 0,
	PW_EP_F_HAS_IP6 = 1U << 1,
	PW_EP_F_HAS_MAC = 1U << 2,
	PW_EP_F_INGRESS_ENFORCED = 1U << 3, /* a policy selects it: deny rest */
	PW_EP_F_EGRESS_ENFORCED = 1U << 4,
	PW_EP_F_AUDIT = 1U << 5,   /* log would-be policy drops, pass them */
	PW_EP_F_HAS_LL6 = 1U << 6, /* ll6 holds the pod's IPv6 link-local */
	/* traffic with the node (PW_ID_HOST) passes whatever the policy:
	 * Kubernetes admits a pod's own node, for the kubelet's probes */
	PW_EP_F_NODE_OPEN = 1U << 7,
	/* the set's entries of this direction are all exact (pw_policy_exact):
	 * the trie is not walked for it. Clear means "walk it": the safe
	 * reading of an endpoint written before the flag existed. */
	PW_EP_F_INGRESS_EXACT = 1U << 8,
	PW_EP_F_EGRESS_EXACT = 1U << 9,
};

struct pw_endpoint {
	__u32 ep_id;	/* 1 .. max_endpoints-1; indexes counters */
	__u32 pol_id;	/* the policy set in force: policy keys carry it */
	__u32 identity; /* the endpoint's own label identity */
	__u32 rev;	/* policy revision; conntrack entries carry it */
	__u32 flags;	/* PW_EP_F_* */
	__u8 ip4[16];	/* IPv4-mapped */
	__u8 ip6[16];
	__u8 mac[6];
	__u8 pad[2];
	/* the link-local address of the pod's interface: the only one its
	 * neighbour discovery may speak for */
	__u8 ll6[16];
};

/* ipcache: peer address -> identities. LPM trie, IPv4-mapped keys. */
struct pw_ipcache_key {
	__u32 prefixlen; /* 96 + v4 prefix for IPv4; v6 prefix for IPv6 */
	__u8 addr[16];
};

struct pw_ipcache_entry {
	__u32 id;      /* label identity of the pod at this address, or WORLD */
	__u32 cidr_id; /* identity of the longest ipBlock prefix holding it */
};

/*
 * Policy: LPM trie, one entry per (policy set, direction, peer identity,
 * protocol, port prefix). An endpoint's pol_id names the set in force. The
 * agent gives each endpoint its own set (pol_id = ep_id) and changes it in
 * place in an order that keeps every verdict the old policy's or the new
 * one's (user/agent/sync.c); a set can also be replaced whole by writing
 * another and switching pol_id. The trie bits are pol_id, peer_id, dir,
 * proto, dport in that order; prefixlen counts bits from pol_id on:
 *   PW_POL_PLEN_ANY_PROTO  every protocol and port of the peer
 *   PW_POL_PLEN_PROTO      every port of one protocol
 *   PW_POL_PLEN_PROTO + k  ports sharing the top k bits (a port range is
 *                          a handful of such prefixes, never one per port)
 * For ICMP and ICMPv6 the "port" is (type << 8 | code).
 */
#define PW_POL_PLEN_ANY_PROTO 72
#define PW_POL_PLEN_PROTO     80
#define PW_POL_PLEN_FULL      96

struct pw_policy_key {
	__u32 prefixlen;
	__u32 pol_id;  /* exact; host order; the endpoint's policy set */
	__u32 peer_id; /* exact; host order; PW_ID_ANY matches every peer */
	__u8 dir;      /* enum pw_dir */
	__u8 proto;    /* IPPROTO_* */
	__be16 dport;  /* network order: prefix bits are the high bits */
};

/*
 * Exact entries (prefixlen PW_POL_PLEN_FULL: one protocol, one port) live
 * in a hash map instead, keyed by the policy key without its prefixlen,
 * so the common case costs one hash lookup whatever the number of rules;
 * the trie keeps what needs a prefix (any protocol, any port, port
 * ranges). A lookup tries the hash first: an exact entry is the longest
 * match the trie would have found, so verdicts and rule ids are the
 * trie's. The trie is still walked unless the endpoint says its set has
 * no prefix entry in that direction (PW_EP_F_*_EXACT), and an exact entry
 * in the trie (pins from before the hash) still matches there.
 */
struct pw_policy_xkey {
	__u32 pol_id;
	__u32 peer_id;
	__u8 dir;
	__u8 proto;
	__be16 dport; /* network order */
};

/* The datapath looks the hash up at &key.pol_id of a trie key. */
_Static_assert(sizeof(struct pw_policy_key) ==
			       sizeof(__u32) + sizeof(struct pw_policy_xkey) &&
		       __builtin_offsetof(struct pw_policy_key, pol_id) ==
			       sizeof(__u32),
	       "pw_policy_xkey is pw_policy_key after its prefixlen");

struct pw_policy_entry {
	__u32 rule_id; /* the compiler's id of the rule, for logs and trace */
	__u32 flags;   /* reserved, 0 */
};

/* The rule id reported when no policy rule decided (default allow/deny). */
#define PW_RULE_DEFAULT 0

/*
 * Conntrack, keyed from the endpoint's point of view: "local" is always
 * the endpoint's address, whichever way the packet goes, so a flow and its
 * replies meet in one entry with one lookup. ep_id keeps the sender's and
 * the receiver's judgement apart when both pods sit on this node.
 * ICMP echo: lport is the identifier, rport says who asked (PW_CT_ICMP_*),
 * so an echo request in the reply direction is never taken for a reply.
 */
#define PW_CT_ICMP_LOCAL_ASKED	1
#define PW_CT_ICMP_REMOTE_ASKED 2

struct pw_ct_key {
	__u8 local[16];
	__u8 remote[16];
	__be16 lport;
	__be16 rport;
	__u8 proto;
	__u8 pad[3];
	__u32 ep_id;
};

enum pw_ct_state {
	PW_CT_NEW = 0,	       /* non-TCP, no reply yet */
	PW_CT_SYN_SENT = 1,    /* TCP SYN seen */
	PW_CT_ESTABLISHED = 2, /* reply seen */
	PW_CT_CLOSING = 3,     /* FIN seen both ways */
	PW_CT_CLOSED = 4,      /* RST seen */
};

/* Index into pkts/bytes: the direction relative to the first packet. */
#define PW_CT_FWD 0
#define PW_CT_REV 1

struct pw_ct_entry {
	__u64 created_ns; /* bpf_ktime_get_ns() clock */
	__u64 expires_ns;
	__u64 pkts[2];
	__u64 bytes[2];
	__u32 rev;	   /* endpoint revision that last allowed the flow */
	__u32 rule_id;	   /* rule that allowed it */
	__u32 peer_id;	   /* identity of the remote end when judged */
	__be16 pol_dport;  /* the port the policy was asked about */
	__u8 origin;	   /* enum pw_dir of the first packet */
	__u8 state;	   /* enum pw_ct_state */
	__u8 tcp_flags[2]; /* TCP flags seen, per PW_CT_FWD/REV */
	__u8 flags;	   /* PW_CT_F_* */
	__u8 pad;
};

enum pw_ct_flags {
	PW_CT_F_AUDIT = 1 << 0,	 /* allowed only because of audit mode */
	PW_CT_F_ENDED = 1 << 1,	 /* a flow-end event was sent */
	PW_CT_F_PICKUP = 1 << 2, /* picked up mid-stream: no first packet,
				  * so no direction was ever judged */
};

/*
 * Uplink prefilter: an LPM trie of source prefixes that the XDP program on
 * the node's uplink drops before the stack (lib/prefilter.h). The key is
 * the ipcache's: IPv4-mapped, prefixlen counted in the 128-bit space. The
 * value names the deny-list entry, reported as the drop's rule_id.
 */
struct pw_prefilter_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct pw_prefilter_entry {
	__u32 rule_id; /* chosen by who writes it: the agent, its file's line */
	__u32 flags;   /* reserved, 0 */
};

/*
 * Fragments: the first fragment's L4 facts and verdict, for the later
 * fragments of the same datagram at the same endpoint and direction.
 */
struct pw_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id; /* IPv4: 16-bit id; IPv6: fragment header id (host order) */
	__u32 ep_id;
	__u8 proto;
	__u8 dir;
	__u8 pad[2];
};

struct pw_frag_entry {
	__u64 expires_ns;
	__be16 sport;
	__be16 dport;
	__u16 l4_end; /* bytes of L4 header from fragmentable part start */
	__u8 dropped; /* the first fragment was dropped */
	__u8 pad[3];
	__u32 rule_id;
};

/* Flow events, through the ring buffer. */
enum pw_event_type {
	PW_EV_NEW = 1,	/* first packet of an allowed flow */
	PW_EV_DROP = 2, /* dropped packet, or audit: would-be drop passed */
	PW_EV_END = 3,	/* flow ended (FIN both ways, RST, revoked, expired) */
};

enum pw_verdict {
	PW_VERDICT_ALLOW = 1,
	PW_VERDICT_DROP = 2,
	PW_VERDICT_AUDIT = 3,
};

struct pw_flow_event {
	__u64 ts_ns;
	__u8 type;    /* enum pw_event_type */
	__u8 verdict; /* enum pw_verdict */
	__u8 dir;     /* enum pw_dir of this packet */
	__u8 proto;
	__u8 tcp_flags; /* of this packet */
	__u8 is_reply;	/* this packet runs against the flow's first packet */
	__u16 reason;	/* enum pw_drop_reason; 0 when allowed */
	__u32 ep_id;
	__u32 ifindex;
	__u32 rule_id; /* PW_RULE_DEFAULT when no rule decided */
	__u32 peer_id;
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u32 pad;
	__u64 pkts[2]; /* PW_EV_END: PW_CT_FWD and PW_CT_REV totals */
	__u64 bytes[2];
};

/*
 * Per-node settings, a const volatile global in the BPF object's rodata:
 * set through the skeleton between open and load.
 */
struct pw_config {
	__u64 ct_tcp_syn_ns;
	__u64 ct_tcp_est_ns;
	__u64 ct_tcp_close_ns;
	__u64 ct_udp_ns;
	__u64 ct_other_ns;
	__u64 frag_ns;
};

#endif /* PODWALL_ABI_H */
