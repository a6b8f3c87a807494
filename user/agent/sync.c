// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "log.h"
#include "sync.h"

/* What this node last wrote for one endpoint. */
struct synced_ep {
	__u32 ep_id;
	__u32 ifindex;
	int gen; /* the set in force: pw_sync_pol_id(ep_id, gen) */
	struct pw_endpoint ep;
	struct pw_out_policy *pol; /* as compiled: key.pol_id = ep_id */
	int npol;
	bool seen;
};

struct pw_sync {
	struct synced_ep *eps;
	int neps;
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
	for (i = 0; i < s->neps; i++)
		free(s->eps[i].pol);
	free(s->eps);
	free(s->ipc);
	free(s);
}

static int ipc_cmp(const struct pw_out_ipcache *a,
		   const struct pw_out_ipcache *b)
{
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

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

static struct synced_ep *find_ep(struct pw_sync *s, __u32 ep_id)
{
	int i;

	for (i = 0; i < s->neps; i++)
		if (s->eps[i].ep_id == ep_id)
			return &s->eps[i];
	return NULL;
}

static const struct pw_out_ep *find_compiled(const struct pw_compiled *co,
					     const struct pw_binding *b)
{
	int i;

	for (i = 0; i < co->neps; i++)
		if (!strcmp(co->eps[i].ns, b->ns) &&
		    !strcmp(co->eps[i].name, b->name))
			return &co->eps[i];
	return NULL;
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

static int write_set(const struct pw_dp *dp, const struct pw_out_policy *pol,
		     int n, __u32 pol_id, struct pw_sync_stats *st)
{
	int fd = pw_dp_map_fd(dp, PW_MAP_POLICY), i;
	struct pw_policy_entry e = {};
	struct pw_policy_key k;

	for (i = 0; i < n; i++) {
		k = pol[i].key;
		k.pol_id = pol_id;
		e.rule_id = pol[i].rule_id;
		if (bpf_map_update_elem(fd, &k, &e, BPF_ANY)) {
			int err = -errno;

			pr_warn("policy set %u: write entry %d of %d: %s\n",
				pol_id, i + 1, n,
				err == -ENOSPC || err == -E2BIG
					? "policy map full"
					: strerror(-err));
			return err;
		}
		st->policy_writes++;
	}
	return 0;
}

static void delete_set(const struct pw_dp *dp, const struct pw_out_policy *pol,
		       int n, __u32 pol_id, struct pw_sync_stats *st)
{
	int fd = pw_dp_map_fd(dp, PW_MAP_POLICY), i;
	struct pw_policy_key k;

	for (i = 0; i < n; i++) {
		k = pol[i].key;
		k.pol_id = pol_id;
		if (!bpf_map_delete_elem(fd, &k))
			st->policy_deletes++;
	}
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
	if (b->audit)
		ep->flags |= PW_EP_F_AUDIT;
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
	return na == nb && !memcmp(a, b, na * sizeof(*a));
}

static int sync_ep(struct pw_sync *s, const struct pw_dp *dp,
		   const struct pw_out_ep *ce, const struct pw_binding *b,
		   const struct pw_compiled *co, struct pw_sync_stats *st)
{
	const struct pw_out_policy *pol;
	struct synced_ep *se = find_ep(s, ce->ep_id);
	struct pw_endpoint want, cur;
	struct pw_out_policy *copy;
	int n = slice(co, ce->ep_id, &pol), gen = 0, err;

	desired_ep(ce, b, &want);
	if (se && se->ifindex == b->ifindex && ep_same(&se->ep, &want) &&
	    pol_same(se->pol, se->npol, pol, n)) {
		se->seen = true;
		return 0;
	}
	if (se)
		gen = se->gen ^ 1;
	err = write_set(dp, pol, n, pw_sync_pol_id(ce->ep_id, gen), st);
	if (err)
		return err;

	/* The switch: set, flags and revision in one update. A revision
	 * found in the map (an earlier run) is carried on, so no flow keeps
	 * a verdict from before this policy. */
	want.pol_id = pw_sync_pol_id(ce->ep_id, gen);
	want.rev = 1;
	if (!pw_dp_endpoint_get(dp, b->ifindex, &cur))
		want.rev = cur.rev + 1;
	err = pw_dp_endpoint_set(dp, b->ifindex, &want);
	if (err) {
		delete_set(dp, pol, n, want.pol_id, st);
		return err;
	}
	st->endpoints_changed++;

	copy = malloc((n ?: 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, pol, n * sizeof(*copy));
	if (se) {
		delete_set(dp, se->pol, se->npol,
			   pw_sync_pol_id(se->ep_id, se->gen), st);
		if (se->ifindex != b->ifindex)
			pw_dp_endpoint_del(dp, se->ifindex);
		free(se->pol);
	} else {
		struct synced_ep *v =
			realloc(s->eps, (s->neps + 1) * sizeof(*v));

		if (!v) {
			free(copy);
			return -ENOMEM;
		}
		s->eps = v;
		se = &v[s->neps++];
		se->ep_id = ce->ep_id;
	}
	se->ifindex = b->ifindex;
	se->gen = gen;
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
	/* New identities first, so that new policy entries find them. */
	err = ipcache_add(s, dp, co, st);
	if (err)
		return err;
	for (i = 0; i < nb; i++) {
		const struct pw_out_ep *ce = find_compiled(co, &b[i]);

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
	/* Endpoints gone from this node: the endpoint first, then its set. */
	for (i = 0, j = 0; i < s->neps; i++) {
		struct synced_ep *se = &s->eps[i];

		if (se->seen) {
			s->eps[j++] = *se;
			continue;
		}
		pw_dp_endpoint_del(dp, se->ifindex);
		delete_set(dp, se->pol, se->npol,
			   pw_sync_pol_id(se->ep_id, se->gen), st);
		free(se->pol);
		st->endpoints_removed++;
	}
	s->neps = j;
	return ipcache_prune(s, dp, co, st);
}
