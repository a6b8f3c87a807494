// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * NetworkPolicy semantics, compiled into the datapath's maps. See
 * kern/DESIGN.md for the maps; the rules of NetworkPolicy v1 this follows:
 * - a pod selected by no policy of a direction allows everything in it;
 *   one that is selected allows only the union of those policies' rules;
 * - a rule with no peers allows every peer, with no ports every port;
 * - podSelector alone means the policy's namespace; namespaceSelector alone
 *   every pod of the matching namespaces; both in one peer, the AND;
 * - ipBlock matches pod addresses too, minus its excepts;
 * - a named port resolves against the destination pod's container ports.
 *
 * A compile reuses every pod's entries whose inputs did not move (see
 * cluster.h); the work of a change is the pods it affects, plus a copy of
 * the output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "addr.h"
#include "cluster.h"
#include "portrange.h"

struct out {
	struct pw_out_policy *pol;
	int n, cap;
};

static int out_push(struct out *o, const struct pw_policy_key *key, __u32 rule)
{
	if (o->n == o->cap) {
		int cap = o->cap ? o->cap * 2 : 64;
		struct pw_out_policy *v = realloc(o->pol, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->pol = v;
		o->cap = cap;
	}
	o->pol[o->n].key = *key;
	o->pol[o->n].rule_id = rule;
	o->n++;
	return 0;
}

/* Entries allowing @peer, @proto (0: all), ports lo..hi (0..0 with a
 * protocol: all). */
static int emit(struct out *o, __u32 ep_id, __u8 dir, __u32 peer, __u8 proto,
		__u16 lo, __u16 hi, __u32 rule)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];
	struct pw_policy_key key = {
		.pol_id = ep_id,
		.peer_id = peer,
		.dir = dir,
		.proto = proto,
	};
	int i, n, err;

	if (!proto) {
		key.prefixlen = PW_POL_PLEN_ANY_PROTO;
		return out_push(o, &key, rule);
	}
	if (!lo && !hi) {
		key.prefixlen = PW_POL_PLEN_PROTO;
		return out_push(o, &key, rule);
	}
	n = pw_port_range_prefixes(lo, hi, pp, PW_PORT_PREFIXES_MAX);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		key.prefixlen = PW_POL_PLEN_PROTO + pp[i].bits;
		key.dport = htons(pp[i].port);
		err = out_push(o, &key, rule);
		if (err)
			return err;
	}
	return 0;
}

/* Every admitted peer of @rc, for one protocol and port range. */
static int emit_peers(struct out *o, const struct rule_cache *rc, __u32 ep_id,
		      __u8 dir, __u8 proto, __u16 lo, __u16 hi, __u32 rule)
{
	int i, err;

	if (rc->any)
		return emit(o, ep_id, dir, PW_ID_ANY, proto, lo, hi, rule);
	for (i = 0; i < rc->n; i++) {
		err = emit(o, ep_id, dir, rc->ids[i], proto, lo, hi, rule);
		if (err)
			return err;
	}
	return 0;
}

/* Entries for rule @r of policy @ns at pod @ps. */
static int compile_rule(const struct pw_cluster *c, const struct np_slot *ns,
			const struct pw_rule *r, const struct rule_cache *rc,
			int index, __u8 dir, const struct pod_slot *ps,
			struct out *o)
{
	__u32 rule = pw_rule_id(ns->slot, dir, index);
	int i, j, err;

	if (!r->nports)
		return emit_peers(o, rc, ps->ep_id, dir, 0, 0, 0, rule);
	for (j = 0; j < r->nports; j++) {
		const struct pw_port *pt = &r->ports[j];
		__u16 lo = pt->port, hi = pt->end_port;

		if (pt->any_port)
			lo = hi = 0;
		if (!pt->name) {
			err = emit_peers(o, rc, ps->ep_id, dir, pt->proto, lo,
					 hi, rule);
		} else if (dir == PW_DIR_INGRESS) {
			/* named: the number this pod gives the name */
			if (!pw_find_named(ps->pod->ports, ps->pod->nports,
					   pt->name, pt->proto, &lo))
				continue;
			err = emit_peers(o, rc, ps->ep_id, dir, pt->proto, lo,
					 lo, rule);
		} else {
			/* named, egress: each peer's own number; ipBlock
			 * peers by the host prefix of each pod in the block */
			for (i = 0, err = 0; !err && i < rc->nhost; i++) {
				const struct ident *id =
					pw_ident_get(c, rc->hosts[i].ident);

				if (!id ||
				    !pw_find_named(id->ports, id->nports,
						   pt->name, pt->proto, &lo))
					continue;
				err = emit(o, ps->ep_id, dir, rc->hosts[i].cid,
					   pt->proto, lo, lo, rule);
			}
			for (i = 0; !err && i < rc->npod; i++) {
				const struct ident *id =
					pw_ident_get(c, rc->pod_ids[i]);

				if (!id ||
				    !pw_find_named(id->ports, id->nports,
						   pt->name, pt->proto, &lo))
					continue;
				err = emit(o, ps->ep_id, dir, id->id, pt->proto,
					   lo, lo, rule);
			}
		}
		if (err)
			return err;
	}
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct pw_out_policy *x = a, *y = b;
	int r = memcmp(&x->key, &y->key, sizeof(x->key));

	if (r)
		return r;
	return (x->rule_id > y->rule_id) - (x->rule_id < y->rule_id);
}

/* One pod's entries, from the policies in its new signature. A remote
 * pod gets none: no map of this node holds them, and at 150,000 pods they
 * were most of the agent's memory and time; its signature still moves, for
 * its endpoint's flags. */
static int compile_pod(const struct pw_cluster *c, struct pod_slot *ps)
{
	struct out o = {};
	int s, d, i, j, err = 0;

	for (s = 0; !err && !ps->pod->remote && s < ps->nnext; s++) {
		const struct np_slot *ns = pw_np_by_slot(c, ps->next[s].slot);

		for (d = 0; ns && !err && d < 2; d++) {
			__u8 dir = d ? PW_DIR_EGRESS : PW_DIR_INGRESS;
			const struct pw_rule *rules =
				d ? ns->np->out : ns->np->in;
			const struct rule_cache *rc = d ? ns->out : ns->in;
			int n = d ? ns->np->nout : ns->np->nin;

			if (!(d ? ns->np->egress : ns->np->ingress))
				continue;
			for (i = 0; !err && i < n; i++)
				err = compile_rule(c, ns, &rules[i], &rc[i], i,
						   dir, ps, &o);
		}
	}
	if (err) {
		free(o.pol);
		return err;
	}
	/* sort; of equal keys keep the lowest rule id */
	if (o.n)
		qsort(o.pol, o.n, sizeof(*o.pol), key_cmp);
	for (i = 0, j = 0; i < o.n; i++) {
		if (j && !memcmp(&o.pol[j - 1].key, &o.pol[i].key,
				 sizeof(o.pol[i].key)))
			continue;
		o.pol[j++] = o.pol[i];
	}
	free(ps->pol);
	ps->pol = o.pol;
	ps->npol = j;
	/* the signature it was compiled from becomes the cached one */
	free(ps->sig);
	ps->sig = ps->next;
	ps->nsig = ps->nnext;
	ps->next = NULL;
	ps->nnext = ps->capnext = 0;
	ps->pol_ver = ps->ver;
	ps->cached = true;
	return 0;
}

static int sig_push(struct pod_slot *ps, __u32 slot, __u64 ver)
{
	if (ps->nnext == ps->capnext) {
		int cap = ps->capnext ? ps->capnext * 2 : 4;
		struct sig *v = realloc(ps->next, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ps->next = v;
		ps->capnext = cap;
	}
	ps->next[ps->nnext].slot = slot;
	ps->next[ps->nnext].ver = ver;
	ps->nnext++;
	return 0;
}

static int sig_cmp(const void *a, const void *b)
{
	const struct sig *x = a, *y = b;

	return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The pods policy @ns selects, recomputed when its namespace's pods moved
 * or the policy changed. */
static int refresh_targets(struct pw_cluster *c, struct np_slot *ns)
{
	__u64 at = pw_ns_at(c, ns->np->ns);
	int i, n = 0, ncand;
	__u32 *v, *cand;

	if (ns->targets_at && ns->targets_at >= at && ns->targets_at >= ns->ver)
		return 0;
	/* the pods of its namespace, in the order of c->pods */
	ncand = pw_group_sorted(&c->pod_grp, ns->np->ns, &cand);
	if (ncand < 0)
		return ncand;
	v = malloc((ncand ?: 1) * sizeof(*v));
	if (!v) {
		free(cand);
		return -ENOMEM;
	}
	for (i = 0; i < ncand; i++) {
		const struct pw_pod *pod = c->pods[cand[i]].pod;

		if (!strcmp(pod->ns, ns->np->ns) &&
		    pw_selector_matches(&ns->np->pod_sel, &pod->labels))
			v[n++] = c->pods[cand[i]].ep_id;
	}
	free(cand);
	free(ns->targets);
	ns->targets = v;
	ns->ntargets = n;
	ns->targets_at = ++c->clock;
	return 0;
}

static int ipc_cmp(const void *a, const void *b)
{
	const struct pw_out_ipcache *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int compile_ipcache(struct pw_cluster *c, struct pw_compiled *out)
{
	static const struct pw_cidr v4_all = {
		.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, .plen = 96};
	int i, j, n = 0,
		  cap = c->ncids + PW_POD_IPS_MAX * c->npods + c->nnode + 1;
	bool v6_over_v4 = false, v4_any = false;
	struct pw_out_ipcache *v;

	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < c->ncids; i++) {
		const struct pw_cidr *ci = &c->cids[i].cidr;

		v[n].key.prefixlen = ci->plen;
		memcpy(v[n].key.addr, ci->addr, 16);
		v[n].val.id = PW_ID_WORLD;
		v[n].val.cidr_id = c->cids[i].id;
		n++;
		if (ci->plen < 96 && pw_prefix_contains(ci, v4_all.addr, 96))
			v6_over_v4 = true;
		if (ci->plen == 96 && !memcmp(ci->addr, v4_all.addr, 16))
			v4_any = true;
	}
	/* The trie is one for both families: an IPv6 prefix as short as
	 * ::/80 would catch IPv4 lookups. IPv4 gets its own catch-all (the
	 * world, no CIDR identity: what a miss gives) unless 0.0.0.0/0 is
	 * an ipBlock already. */
	if (v6_over_v4 && !v4_any) {
		v[n].key.prefixlen = 96;
		memcpy(v[n].key.addr, v4_all.addr, 16);
		v[n].val.id = PW_ID_WORLD;
		v[n].val.cidr_id = 0;
		n++;
	}
	for (i = 0; i < c->npods; i++) {
		struct pod_slot *ps = &c->pods[i];

		if (ps->cidr_at < c->cidrs_at || ps->cidr_at < ps->ver) {
			for (j = 0; j < ps->pod->nips; j++)
				ps->cidr_ids[j] =
					pw_cidr_id_of(c, ps->pod->ips[j]);
			ps->cidr_at = ++c->clock;
		}
		for (j = 0; j < ps->pod->nips; j++) {
			v[n].key.prefixlen = 128;
			memcpy(v[n].key.addr, ps->pod->ips[j], 16);
			v[n].val.id = ps->identity;
			v[n].val.cidr_id = ps->cidr_ids[j];
			n++;
		}
	}
	for (i = 0; i < c->nnode; i++) {
		v[n].key.prefixlen = 128;
		memcpy(v[n].key.addr, c->node[i], 16);
		v[n].val.id = PW_ID_HOST;
		v[n].val.cidr_id = pw_cidr_id_of(c, c->node[i]);
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), ipc_cmp);
	/* A pod's address may also be an ipBlock /32 or the node's: the pod's
	 * entry, which carries both identities, wins, and the node's over
	 * the world's. Of two pods claiming one address, the later in the
	 * sort order is dropped. */
	for (i = 0, j = 0; i < n; i++) {
		if (j && !ipc_cmp(&v[j - 1], &v[i])) {
			if (v[j - 1].val.id == PW_ID_WORLD ||
			    (v[j - 1].val.id == PW_ID_HOST &&
			     v[i].val.id != PW_ID_WORLD))
				v[j - 1] = v[i];
			continue;
		}
		v[j++] = v[i];
	}
	out->ipc = v;
	out->nipc = j;
	return 0;
}

static bool sig_same(const struct pod_slot *ps)
{
	return ps->cached && ps->pol_ver == ps->ver && ps->nsig == ps->nnext &&
	       (!ps->nnext ||
		!memcmp(ps->sig, ps->next, ps->nnext * sizeof(*ps->next)));
}

int pw_compile(struct pw_cluster *c, struct pw_compiled *out, char *err,
	       size_t errlen)
{
	__u32 max_ep = 0, *by_ep = NULL;
	int i, j, k, total = 0, ret;

	memset(out, 0, sizeof(*out));
	ret = pw_refresh_volatile(c);
	for (i = 0; !ret && i < c->nnps; i++)
		ret = refresh_targets(c, &c->nps[i]);
	if (ret)
		goto fail;

	/* ep_id -> pod index, to hand each policy's targets their slot */
	for (i = 0; i < c->npods; i++)
		if (c->pods[i].ep_id > max_ep)
			max_ep = c->pods[i].ep_id;
	by_ep = malloc((max_ep + 1) * sizeof(*by_ep));
	if (!by_ep) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(by_ep, 0xff, (max_ep + 1) * sizeof(*by_ep));
	for (i = 0; i < c->npods; i++) {
		by_ep[c->pods[i].ep_id] = i;
		c->pods[i].nnext = 0;
	}
	for (i = 0; i < c->nnps; i++) {
		const struct np_slot *ns = &c->nps[i];

		for (j = 0; j < ns->ntargets; j++) {
			__u32 p = ns->targets[j] <= max_ep
					  ? by_ep[ns->targets[j]]
					  : (__u32)-1;

			if (p == (__u32)-1)
				continue;
			ret = sig_push(&c->pods[p], ns->slot, ns->ver);
			if (ret)
				goto fail;
		}
	}

	out->eps = calloc(c->npods ?: 1, sizeof(*out->eps));
	if (!out->eps) {
		ret = -ENOMEM;
		goto fail;
	}
	out->neps = c->npods;
	for (i = 0; i < c->npods; i++) {
		struct pod_slot *ps = &c->pods[i];
		struct pw_out_ep *ep = &out->eps[i];

		if (ps->nnext > 1)
			qsort(ps->next, ps->nnext, sizeof(*ps->next), sig_cmp);
		if (!sig_same(ps)) {
			ret = compile_pod(c, ps);
			if (ret)
				goto fail;
		}
		total += ps->npol;
		ep->ns = ps->pod->ns;
		ep->name = ps->pod->name;
		ep->ep_id = ps->ep_id;
		ep->identity = ps->identity;
		for (j = 0; j < ps->nsig; j++) {
			const struct np_slot *ns =
				pw_np_by_slot(c, ps->sig[j].slot);

			if (ns && ns->np->ingress)
				ep->flags |= PW_EP_F_INGRESS_ENFORCED;
			if (ns && ns->np->egress)
				ep->flags |= PW_EP_F_EGRESS_ENFORCED;
		}
		for (j = 0; j < ps->pod->nips; j++) {
			bool v4 = pw_addr_is4(ps->pod->ips[j]);

			memcpy(v4 ? ep->ip4 : ep->ip6, ps->pod->ips[j], 16);
			ep->flags |= v4 ? PW_EP_F_HAS_IP4 : PW_EP_F_HAS_IP6;
		}
	}

	/* all pods' entries, by endpoint id, each pod's already sorted */
	out->pol = malloc((total ?: 1) * sizeof(*out->pol));
	if (!out->pol) {
		ret = -ENOMEM;
		goto fail;
	}
	for (k = 0; k <= (int)max_ep && c->npods; k++) {
		const struct pod_slot *ps;

		if (by_ep[k] == (__u32)-1)
			continue;
		ps = &c->pods[by_ep[k]];
		if (!ps->npol)
			continue;
		memcpy(&out->pol[out->npol], ps->pol,
		       ps->npol * sizeof(*ps->pol));
		out->npol += ps->npol;
	}
	free(by_ep);
	by_ep = NULL;
	ret = compile_ipcache(c, out);
	if (ret)
		goto fail;
	return 0;
fail:
	free(by_ep);
	snprintf(err, errlen, "compile: %s", strerror(-ret));
	pw_compiled_free(out);
	return ret;
}

void pw_compiled_free(struct pw_compiled *out)
{
	free(out->eps);
	free(out->pol);
	free(out->ipc);
	memset(out, 0, sizeof(*out));
}
