/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Identity and policy lookups. A verdict costs one ipcache LPM lookup and,
 * for each of at most three peer identities (the peer's label identity, its
 * ipBlock identity, any peer), one hash lookup of the exact entry and, only
 * if the set has prefix entries in that direction, one policy LPM lookup;
 * whatever the number of policies, rules or endpoints.
 */
#ifndef PW_POLICY_H
#define PW_POLICY_H

#include "../podwall_abi.h"
#include "maps.h"

/* Identities of a peer address; WORLD when the address is unknown. */
static __always_inline struct pw_ipcache_entry ipcache_lookup(const __u8 *addr)
{
	struct pw_ipcache_entry id = {.id = PW_ID_WORLD};
	struct pw_ipcache_key key = {.prefixlen = 128};
	struct pw_ipcache_entry *e;

	__builtin_memcpy(key.addr, addr, 16);
	e = bpf_map_lookup_elem(&pw_ipcache, &key);
	if (e)
		id = *e;
	return id;
}

/*
 * The entry of set @pol_id for one peer identity: the exact one in the
 * hash first (the longest match there can be), then, if @trie, the
 * longest prefix in the trie.
 */
static __always_inline int pol_lookup_id(__u32 pol_id, __u32 peer, __u8 dir,
					 __u8 proto, __be16 dport, int trie,
					 __u32 *rule)
{
	struct pw_policy_key key = {
		.prefixlen = PW_POL_PLEN_FULL,
		.pol_id = pol_id,
		.peer_id = peer,
		.dir = dir,
		.proto = proto,
		.dport = dport,
	};
	struct pw_policy_entry *e;

	/* the hash key is the trie key after its prefixlen (podwall_abi.h) */
	e = bpf_map_lookup_elem(&pw_policy_exact, &key.pol_id);
	if (!e && trie)
		e = bpf_map_lookup_elem(&pw_policy, &key);
	if (!e)
		return 0;
	*rule = e->rule_id;
	return 1;
}

static __always_inline int pol_enforced(const struct pw_endpoint *ep, __u8 dir)
{
	return ep->flags & (dir == PW_DIR_INGRESS ? PW_EP_F_INGRESS_ENFORCED
						  : PW_EP_F_EGRESS_ENFORCED);
}

/* Neither direction enforced: the only case where a flow may be picked up
 * mid-stream, since then no policy can be bypassed by claiming to be a
 * reply. */
static __always_inline int pol_open(const struct pw_endpoint *ep)
{
	return !(ep->flags &
		 (PW_EP_F_INGRESS_ENFORCED | PW_EP_F_EGRESS_ENFORCED));
}

/*
 * Judge a new flow of endpoint @ep in direction @dir with peer @remote,
 * protocol @proto and policy port @dport. Sets *rule (PW_RULE_DEFAULT when
 * no rule decided) and *peer_id. Returns 1 if allowed, 0 if denied.
 */
static __always_inline int pol_judge(const struct pw_endpoint *ep, __u8 dir,
				     const __u8 *remote, __u8 proto,
				     __be16 dport, __u32 *rule, __u32 *peer_id)
{
	struct pw_ipcache_entry peer = ipcache_lookup(remote);
	int trie;

	*peer_id = peer.id;
	*rule = PW_RULE_DEFAULT;
	if (!pol_enforced(ep, dir))
		return 1;
	if (peer.id == PW_ID_HOST && (ep->flags & PW_EP_F_NODE_OPEN))
		return 1;
	trie = !(ep->flags & (dir == PW_DIR_INGRESS ? PW_EP_F_INGRESS_EXACT
						    : PW_EP_F_EGRESS_EXACT));
	if (pol_lookup_id(ep->pol_id, peer.id, dir, proto, dport, trie, rule))
		return 1;
	/* ipBlock: a pod inside a referenced CIDR is judged by both */
	if (peer.cidr_id && pol_lookup_id(ep->pol_id, peer.cidr_id, dir, proto,
					  dport, trie, rule))
		return 1;
	return pol_lookup_id(ep->pol_id, PW_ID_ANY, dir, proto, dport, trie,
			     rule);
}

#endif /* PW_POLICY_H */
