// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cluster.h"
#include "log.h"
#include "sync.h"

/* What this node last wrote for one endpoint. */
struct synced_ep {
	__u32 ep_id;
	__u32 ifindex;
	__u32 ifindex_gone; /* an interface it left in this sync, or 0 */
	struct pw_endpoint ep;
	struct pw_out_policy *pol; /* as compiled: key.pol_id = ep_id */
	int npol;
	/* exact entries an older podwall left in the trie: removed once the
	 * endpoint's set is written, which puts them in the hash */
	struct pw_policy_key *legacy;
	int nlegacy;
	bool seen;
};

struct pw_sync {
	struct synced_ep *eps;
	int neps;
	/* during one pw_sync_apply: eps by ep_id, co->eps by (ns, name) */
	struct pw_hidx ep_idx, co_idx;
	const struct pw_compiled *co;
	struct pw_out_ipcache *ipc;
	int nipc;
};

int pw_sync_new(struct pw_sync **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void pw_sync_free(struct pw_sync *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->neps; i++) {
		free(s->eps[i].pol);
		free(s->eps[i].legacy);
	}
	free(s->eps);
	free(s->ipc);
	pw_hidx_free(&s->ep_idx);
	pw_hidx_free(&s->co_idx);
	free(s);
}

static int ipc_cmp(const struct pw_out_ipcache *a,
		   const struct pw_out_ipcache *b)
{
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static int ipc_sort_cmp(const void *a, const void *b)
{
	return ipc_cmp(a, b);
}

static bool ifindex_held(const struct pw_sync *s, __u32 ifindex);

/* Writes new and changed ipcache entries; returns removed ones via the
 * second pass in ipcache_prune, after endpoints have moved on. */
static int ipcache_add(struct pw_sync *s, const struct pw_dp *dp,
		       const struct pw_compiled *co, struct pw_sync_stats *st)
{
	int i = 0, j = 0, c, err;

	while (j < co->nipc) {
		c = i < s->nipc ? ipc_cmp(&s->ipc[i], &co->ipc[j]) : 1;
		if (c < 0) {
			i++;
			continue;
		}
		if (c == 0 && !memcmp(&s->ipc[i].val, &co->ipc[j].val,
				      sizeof(co->ipc[j].val))) {
			i++;
			j++;
			continue;
		}
		err = pw_dp_ipcache_set(dp, co->ipc[j].key.addr,
					co->ipc[j].key.prefixlen,
					&co->ipc[j].val);
		if (err)
			return err;
		st->ipcache_writes++;
		if (c == 0)
			i++;
		j++;
	}
	return 0;
}

static int ipcache_prune(struct pw_sync *s, const struct pw_dp *dp,
			 const struct pw_compiled *co, struct pw_sync_stats *st)
{
	struct pw_out_ipcache *copy;
	int i = 0, j = 0, c, err;

	while (i < s->nipc) {
		c = j < co->nipc ? ipc_cmp(&s->ipc[i], &co->ipc[j]) : -1;
		if (c > 0) {
			j++;
			continue;
		}
		if (c < 0) {
			err = pw_dp_ipcache_del(dp, s->ipc[i].key.addr,
						s->ipc[i].key.prefixlen);
			if (err && err != -ENOENT)
				return err;
			st->ipcache_deletes++;
		} else {
			j++;
		}
		i++;
	}
	copy = malloc((co->nipc ?: 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, co->ipc, co->nipc * sizeof(*copy));
	free(s->ipc);
	s->ipc = copy;
	s->nipc = co->nipc;
	return 0;
}

/* Lookups by index, so that a sync of thousands of endpoints that changes
 * one of them costs little more than that one. */
static __u64 id_hash(__u32 ep_id)
{
	return pw_hash_bytes(PW_HASH_SEED, &ep_id, sizeof(ep_id));
}

static __u64 name_hash(const char *ns, const char *name)
{
	return pw_hash_str(pw_hash_str(PW_HASH_SEED, ns), name);
}

struct id_q {
	const struct pw_sync *s;
	__u32 ep_id;
};

static bool id_eq(const void *ctx, __u32 pos)
{
	const struct id_q *q = ctx;

	return q->s->eps[pos].ep_id == q->ep_id;
}

static struct synced_ep *find_ep(struct pw_sync *s, __u32 ep_id)
{
	struct id_q q = {s, ep_id};
	int at = pw_hidx_find(&s->ep_idx, id_hash(ep_id), id_eq, &q);

	return at < 0 ? NULL : &s->eps[at];
}

struct name_q {
	const struct pw_compiled *co;
	const struct pw_binding *b;
};

static bool name_eq(const void *ctx, __u32 pos)
{
	const struct name_q *q = ctx;

	return !strcmp(q->co->eps[pos].ns, q->b->ns) &&
	       !strcmp(q->co->eps[pos].name, q->b->name);
}

static const struct pw_out_ep *find_compiled(const struct pw_sync *s,
					     const struct pw_binding *b)
{
	struct name_q q = {s->co, b};
	int at = pw_hidx_find(&s->co_idx, name_hash(b->ns, b->name), name_eq,
			      &q);

	return at < 0 ? NULL : &s->co->eps[at];
}

static int index_build(struct pw_sync *s, const struct pw_compiled *co, int nb)
{
	int i;

	pw_hidx_free(&s->ep_idx);
	pw_hidx_free(&s->co_idx);
	s->co = co;
	/* room for every endpoint this sync may add, so adds cannot fail */
	if (pw_hidx_reserve(&s->ep_idx, s->neps + nb) ||
	    pw_hidx_reserve(&s->co_idx, co->neps))
		return -ENOMEM;
	for (i = 0; i < s->neps; i++)
		pw_hidx_add(&s->ep_idx, id_hash(s->eps[i].ep_id), i);
	for (i = 0; i < co->neps; i++)
		pw_hidx_add(&s->co_idx,
			    name_hash(co->eps[i].ns, co->eps[i].name), i);
	return 0;
}

/* The compiled entries of one endpoint: contiguous, as pol is sorted by
 * policy set first. */
static int slice(const struct pw_compiled *co, __u32 ep_id,
		 const struct pw_out_policy **out)
{
	int lo = 0, hi = co->npol, n = 0;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (co->pol[mid].key.pol_id < ep_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = &co->pol[lo];
	while (lo + n < co->npol && co->pol[lo + n].key.pol_id == ep_id)
		n++;
	return n;
}

static int policy_put(const struct pw_dp *dp, const struct pw_out_policy *p,
		      __u32 pol_id, struct pw_sync_stats *st)
{
	struct pw_policy_key k = p->key;
	int err;

	k.pol_id = pol_id;
	err = pw_dp_policy_write(dp, &k, p->rule_id);
	if (err) {
		pr_warn("policy set %u: write: %s\n", pol_id,
			err != -ENOSPC && err != -E2BIG ? strerror(-err)
			: pw_dp_policy_is_exact(dp, &k)
				? "exact policy map full (--policy-max)"
				: "policy map full (--policy-max)");
		return err;
	}
	st->policy_writes++;
	return 0;
}

static void policy_drop(const struct pw_dp *dp, const struct pw_out_policy *p,
			__u32 pol_id, struct pw_sync_stats *st)
{
	struct pw_policy_key k = p->key;

	k.pol_id = pol_id;
	if (!pw_dp_policy_remove(dp, &k))
		st->policy_deletes++;
}

/* The exact entries an older podwall wrote to the trie, gone now that the
 * hash holds the set's: after its writes, so nothing was judged by
 * neither, and before the endpoint may say "exact only". */
static void legacy_drop(const struct pw_dp *dp, struct synced_ep *se,
			struct pw_sync_stats *st)
{
	int fd = pw_dp_map_fd(dp, PW_MAP_POLICY), i;

	for (i = 0; i < se->nlegacy; i++)
		if (!bpf_map_delete_elem(fd, &se->legacy[i]))
			st->policy_deletes++;
	free(se->legacy);
	se->legacy = NULL;
	se->nlegacy = 0;
}

static int key_cmp(const struct pw_out_policy *a, const struct pw_out_policy *b)
{
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

/* A diff_set that failed at new[@upto] takes back what it wrote: entries
 * it added go, entries it changed get their old rule again. The set is then
 * @old, as the caller's record of it still says. */
static void diff_undo(const struct pw_dp *dp, const struct pw_out_policy *old,
		      int nold, const struct pw_out_policy *new, int upto,
		      __u32 pol_id, struct pw_sync_stats *st)
{
	int i = 0, j;

	for (j = 0; j < upto; j++) {
		while (i < nold && key_cmp(&old[i], &new[j]) < 0)
			i++;
		if (i < nold && !key_cmp(&old[i], &new[j])) {
			if (old[i].rule_id != new[j].rule_id)
				policy_put(dp, &old[i], pol_id, st);
		} else {
			policy_drop(dp, &new[j], pol_id, st);
		}
	}
}

/*
 * Bring set @pol_id from @old to @new: first every new or changed entry,
 * then every removal. At each step the set lies between the two policies
 * (all of one, part of the other), so each (peer, port) is judged by the
 * old or the new policy, never by neither.
 */
static int diff_set(const struct pw_dp *dp, const struct pw_out_policy *old,
		    int nold, const struct pw_out_policy *new, int nnew,
		    __u32 pol_id, struct pw_sync_stats *st)
{
	int i = 0, j = 0, c, err;

	while (j < nnew) {
		c = i < nold ? key_cmp(&old[i], &new[j]) : 1;
		if (c < 0) {
			i++;
			continue;
		}
		if (c > 0 || old[i].rule_id != new[j].rule_id) {
			err = policy_put(dp, &new[j], pol_id, st);
			if (err) {
				diff_undo(dp, old, nold, new, j, pol_id, st);
				return err;
			}
		}
		if (c == 0)
			i++;
		j++;
	}
	for (i = 0, j = 0; i < nold; i++) {
		while (j < nnew && key_cmp(&new[j], &old[i]) < 0)
			j++;
		if (j == nnew || key_cmp(&new[j], &old[i]))
			policy_drop(dp, &old[i], pol_id, st);
	}
	return 0;
}

/*
 * PW_EP_F_*_EXACT for each direction in which set @pol holds exact entries
 * only, so that the datapath never walks the trie for it. Never with pins
 * from before the hash: then exact entries are in the trie too.
 */
static __u32 exact_flags(const struct pw_dp *dp,
			 const struct pw_out_policy *pol, int n)
{
	__u32 flags = PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT;
	int i;

	if (pw_dp_map_fd(dp, PW_MAP_POLICY_EXACT) < 0)
		return 0;
	for (i = 0; i < n && flags; i++)
		if (!pw_dp_policy_is_exact(dp, &pol[i].key))
			flags &= ~(pol[i].key.dir == PW_DIR_INGRESS
					   ? PW_EP_F_INGRESS_EXACT
					   : PW_EP_F_EGRESS_EXACT);
	return flags;
}

static void desired_ep(const struct pw_out_ep *ce, const struct pw_binding *b,
		       struct pw_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->ep_id = ce->ep_id;
	ep->identity = ce->identity;
	ep->flags = ce->flags;
	memcpy(ep->ip4, ce->ip4, 16);
	memcpy(ep->ip6, ce->ip6, 16);
	if (b->has_mac) {
		memcpy(ep->mac, b->mac, 6);
		ep->flags |= PW_EP_F_HAS_MAC;
	}
	if (b->has_ll6) {
		memcpy(ep->ll6, b->ll6, 16);
		ep->flags |= PW_EP_F_HAS_LL6;
	}
	if (b->audit)
		ep->flags |= PW_EP_F_AUDIT;
	if (b->node_open)
		ep->flags |= PW_EP_F_NODE_OPEN;
}

/* Same endpoint fields, apart from the set and the revision. */
static bool ep_same(const struct pw_endpoint *a, const struct pw_endpoint *b)
{
	struct pw_endpoint x = *a, y = *b;

	x.pol_id = y.pol_id = 0;
	x.rev = y.rev = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static bool pol_same(const struct pw_out_policy *a, int na,
		     const struct pw_out_policy *b, int nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

/*
 * One endpoint, in place: its policy set changes entry by entry (diff_set),
 * then one update of the endpoint entry moves flags and revision together.
 * A direction that stops being enforced stops first, before its entries go;
 * one that starts being enforced starts last, after its entries are in.
 * Likewise "exact only" (no trie walk) goes first, before prefix entries
 * come, and comes last, after they went. The revision moves at the very
 * end, so a flow is judged again only against the finished policy: one it
 * no longer allows is cut at its next packet.
 */
static int sync_ep(struct pw_sync *s, const struct pw_dp *dp,
		   const struct pw_out_ep *ce, const struct pw_binding *b,
		   const struct pw_compiled *co, struct pw_sync_stats *st)
{
	/* flags that, set, let fewer entries count: dropped first */
	static const __u32 early = PW_EP_F_INGRESS_ENFORCED |
				   PW_EP_F_EGRESS_ENFORCED |
				   PW_EP_F_INGRESS_EXACT | PW_EP_F_EGRESS_EXACT;
	const struct pw_out_policy *pol;
	struct synced_ep *se = find_ep(s, ce->ep_id);
	int n = slice(co, ce->ep_id, &pol), err;
	struct pw_endpoint want, cur;
	bool moved, known;
	__u32 pol_id = ce->ep_id;
	struct pw_out_policy *copy;

	desired_ep(ce, b, &want);
	want.flags |= exact_flags(dp, pol, n);
	moved = se && se->ifindex != b->ifindex;
	if (se && !moved && !se->nlegacy && ep_same(&se->ep, &want) &&
	    pol_same(se->pol, se->npol, pol, n)) {
		se->seen = true;
		return 0;
	}
	/* what is in force: ours from before, or what an earlier run left */
	known = !pw_dp_endpoint_get(dp, b->ifindex, &cur);
	want.pol_id = pol_id;
	want.rev = known ? cur.rev + 1 : 1;

	if (known && (cur.flags & early & ~want.flags)) {
		struct pw_endpoint step = cur;

		step.flags &= ~(early & ~want.flags);
		err = pw_dp_endpoint_set(dp, b->ifindex, &step);
		if (err)
			return err;
	}
	if (se && !moved)
		err = diff_set(dp, se->pol, se->npol, pol, n, pol_id, st);
	else
		err = diff_set(dp, NULL, 0, pol, n, pol_id, st);
	if (err) {
		/* the set is back as it was (diff_set undid its writes): so
		 * must the endpoint be, or a direction stays open */
		if (known)
			pw_dp_endpoint_set(dp, b->ifindex, &cur);
		return err;
	}
	if (se)
		legacy_drop(dp, se, st);
	err = pw_dp_endpoint_set(dp, b->ifindex, &want);
	if (err)
		return err;
	st->endpoints_changed++;
	/* the entry at the old ifindex goes at the end of the sync, unless
	 * another endpoint has taken that interface by then */
	if (moved)
		se->ifindex_gone = se->ifindex;

	copy = malloc((n ?: 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, pol, n * sizeof(*copy));
	if (!se) {
		struct synced_ep *v =
			realloc(s->eps, (s->neps + 1) * sizeof(*v));

		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		s->eps = v;
		pw_hidx_add(&s->ep_idx, id_hash(ce->ep_id), s->neps);
		se = &v[s->neps++];
		memset(se, 0, sizeof(*se));
		se->ep_id = ce->ep_id;
	} else {
		free(se->pol);
	}
	se->ifindex = b->ifindex;
	se->ep = want;
	se->pol = copy;
	se->npol = n;
	se->seen = true;
	return 0;
}

int pw_sync_apply(struct pw_sync *s, const struct pw_dp *dp,
		  const struct pw_compiled *co, const struct pw_binding *b,
		  int nb, struct pw_sync_stats *st)
{
	int i, j, err;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < s->neps; i++)
		s->eps[i].seen = false;
	err = index_build(s, co, nb);
	if (err)
		return err;
	/* New identities first, so that new policy entries find them. */
	err = ipcache_add(s, dp, co, st);
	if (err)
		return err;
	for (i = 0; i < nb; i++) {
		const struct pw_out_ep *ce = find_compiled(s, &b[i]);

		if (!ce) {
			pr_warn("sync: %s/%s is bound to ifindex %u but is not "
				"a known pod\n",
				b[i].ns, b[i].name, b[i].ifindex);
			continue;
		}
		err = sync_ep(s, dp, ce, &b[i], co, st);
		if (err)
			return err;
	}
	/* Endpoints gone from this node: the endpoint first, then its set;
	 * an interface is let go only if no endpoint holds it now. */
	for (i = 0; i < s->neps; i++) {
		struct synced_ep *se = &s->eps[i];

		if (se->ifindex_gone && !ifindex_held(s, se->ifindex_gone))
			pw_dp_endpoint_del(dp, se->ifindex_gone);
		se->ifindex_gone = 0;
		if (se->seen)
			continue;
		if (!ifindex_held(s, se->ifindex))
			pw_dp_endpoint_del(dp, se->ifindex);
		diff_set(dp, se->pol, se->npol, NULL, 0, se->ep_id, st);
		legacy_drop(dp, se, st);
		st->endpoints_removed++;
	}
	for (i = 0, j = 0; i < s->neps; i++) {
		if (s->eps[i].seen) {
			s->eps[j++] = s->eps[i];
		} else {
			free(s->eps[i].pol);
			free(s->eps[i].legacy);
		}
	}
	s->neps = j;
	return ipcache_prune(s, dp, co, st);
}

static bool ifindex_held(const struct pw_sync *s, __u32 ifindex)
{
	int i;

	for (i = 0; i < s->neps; i++)
		if (s->eps[i].seen && s->eps[i].ifindex == ifindex)
			return true;
	return false;
}

static int pol_key_cmp(const void *a, const void *b)
{
	const struct pw_out_policy *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Add entry @k (rule @rule) of the policy map to the endpoint whose set it
 * is, as the compiler would give it (pol_id = ep_id); an exact entry found
 * in the trie beside a hash is a leftover of an older podwall. */
static int adopt_entry(struct pw_sync *s, const struct pw_dp *dp,
		       const struct pw_policy_key *k, __u32 rule, bool in_trie)
{
	bool legacy = in_trie && pw_dp_policy_is_exact(dp, k);
	int i;

	for (i = 0; i < s->neps; i++) {
		struct synced_ep *se = &s->eps[i];

		if (se->ep.pol_id != k->pol_id || se->ep_id != k->pol_id)
			continue;
		if (legacy) {
			struct pw_policy_key *v;

			v = realloc(se->legacy, (se->nlegacy + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			se->legacy = v;
			v[se->nlegacy++] = *k;
		} else {
			struct pw_out_policy *v;

			v = realloc(se->pol, (se->npol + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			se->pol = v;
			v[se->npol].key = *k;
			v[se->npol].rule_id = rule;
			se->npol++;
		}
		return 0;
	}
	return 0;
}

int pw_sync_adopt(struct pw_sync *s, const struct pw_dp *dp)
{
	int efd = pw_dp_map_fd(dp, PW_MAP_ENDPOINTS);
	int pfd = pw_dp_map_fd(dp, PW_MAP_POLICY);
	int xfd = pw_dp_map_fd(dp, PW_MAP_POLICY_EXACT);
	int ifd = pw_dp_map_fd(dp, PW_MAP_IPCACHE);
	struct pw_ipcache_key ik, *iprev = NULL;
	struct pw_policy_key pk, *pprev = NULL;
	struct pw_policy_xkey xk, *xprev = NULL;
	__u32 ifindex, *eprev = NULL;
	struct pw_policy_entry pe;
	int i, err = 0;

	if (s->neps || s->nipc)
		return -EBUSY;
	while (!err && !bpf_map_get_next_key(efd, eprev, &ifindex)) {
		struct synced_ep *v, *se;
		struct pw_endpoint ep;

		eprev = &ifindex;
		if (bpf_map_lookup_elem(efd, &ifindex, &ep))
			continue;
		v = realloc(s->eps, (s->neps + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->eps = v;
		se = &v[s->neps++];
		memset(se, 0, sizeof(*se));
		se->ep_id = ep.ep_id;
		se->ifindex = ifindex;
		se->ep = ep;
	}
	/* each endpoint's set, from both maps; a set no endpoint uses is
	 * left alone */
	while (!bpf_map_get_next_key(pfd, pprev, &pk)) {
		pprev = &pk;
		if (bpf_map_lookup_elem(pfd, &pk, &pe))
			continue;
		err = adopt_entry(s, dp, &pk, pe.rule_id, true);
		if (err)
			return err;
	}
	while (xfd >= 0 && !bpf_map_get_next_key(xfd, xprev, &xk)) {
		xprev = &xk;
		if (bpf_map_lookup_elem(xfd, &xk, &pe))
			continue;
		memset(&pk, 0, sizeof(pk));
		pk.prefixlen = PW_POL_PLEN_FULL;
		pk.pol_id = xk.pol_id;
		pk.peer_id = xk.peer_id;
		pk.dir = xk.dir;
		pk.proto = xk.proto;
		pk.dport = xk.dport;
		err = adopt_entry(s, dp, &pk, pe.rule_id, false);
		if (err)
			return err;
	}
	for (i = 0; i < s->neps; i++)
		if (s->eps[i].npol)
			qsort(s->eps[i].pol, s->eps[i].npol,
			      sizeof(*s->eps[i].pol), pol_key_cmp);
	while (!bpf_map_get_next_key(ifd, iprev, &ik)) {
		struct pw_out_ipcache *v;

		iprev = &ik;
		v = realloc(s->ipc, (s->nipc + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->ipc = v;
		v[s->nipc].key = ik;
		if (bpf_map_lookup_elem(ifd, &ik, &v[s->nipc].val))
			continue;
		s->nipc++;
	}
	if (s->nipc)
		qsort(s->ipc, s->nipc, sizeof(*s->ipc), ipc_sort_cmp);
	return 0;
}
