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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "addr.h"
#include "compile.h"
#include "portrange.h"

struct pod_slot {
	struct pw_pod *pod;
	__u32 ep_id;
	__u32 identity;
};

struct np_slot {
	struct pw_netpol *np;
	__u32 slot; /* rule ids are slot << 12 | ... */
};

/* A label identity: pods that no selector and no named port can tell
 * apart share one. */
struct ident {
	__u32 id;
	char *ns;
	struct pw_labels labels;
	struct pw_cport *ports; /* named ports only, sorted */
	int nports;
	bool used;
};

struct cidr_ident {
	struct pw_cidr cidr;
	__u32 id;
	bool used;
};

struct pw_cluster {
	struct pw_namespace **nss;
	int nnss;
	struct pod_slot *pods;
	int npods;
	struct np_slot *nps;
	int nnps;
	struct ident *ids;
	int nids;
	struct cidr_ident *cids;
	int ncids;
};

int pw_cluster_new(struct pw_cluster **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void ident_free(struct ident *id)
{
	int i;

	free(id->ns);
	pw_labels_free(&id->labels);
	for (i = 0; i < id->nports; i++)
		free(id->ports[i].name);
	free(id->ports);
}

void pw_cluster_free(struct pw_cluster *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->nnss; i++)
		pw_namespace_free(c->nss[i]);
	for (i = 0; i < c->npods; i++)
		pw_pod_free(c->pods[i].pod);
	for (i = 0; i < c->nnps; i++)
		pw_netpol_free(c->nps[i].np);
	for (i = 0; i < c->nids; i++)
		ident_free(&c->ids[i]);
	free(c->nss);
	free(c->pods);
	free(c->nps);
	free(c->ids);
	free(c->cids);
	free(c);
}

static bool same(const char *ns1, const char *n1, const char *ns2,
		 const char *n2)
{
	return !strcmp(n1, n2) && (!ns1 || !strcmp(ns1, ns2));
}

/* Smallest id >= @base that @used does not report as taken. */
static __u32 alloc_id(__u32 base,
		      bool (*used)(const struct pw_cluster *, __u32),
		      const struct pw_cluster *c)
{
	__u32 id = base;

	while (used(c, id))
		id++;
	return id;
}

static bool ep_id_used(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->npods; i++)
		if (c->pods[i].ep_id == id)
			return true;
	return false;
}

static bool np_slot_used(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->nnps; i++)
		if (c->nps[i].slot == id)
			return true;
	return false;
}

static bool ident_used(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->nids; i++)
		if (c->ids[i].id == id)
			return true;
	return false;
}

static bool cidr_id_used(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->ncids; i++)
		if (c->cids[i].id == id)
			return true;
	return false;
}

static int apply_one(struct pw_cluster *c, struct pw_object *o)
{
	int i;

	switch (o->kind) {
	case PW_KIND_NAMESPACE:
		for (i = 0; i < c->nnss; i++) {
			if (!strcmp(c->nss[i]->name, o->ns->name)) {
				pw_namespace_free(c->nss[i]);
				c->nss[i] = o->ns;
				return 0;
			}
		}
		{
			struct pw_namespace **v =
				realloc(c->nss, (c->nnss + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->nss = v;
			v[c->nnss++] = o->ns;
		}
		return 0;
	case PW_KIND_POD:
		for (i = 0; i < c->npods; i++) {
			struct pw_pod *p = c->pods[i].pod;

			if (same(p->ns, p->name, o->pod->ns, o->pod->name)) {
				pw_pod_free(p);
				c->pods[i].pod = o->pod;
				return 0;
			}
		}
		{
			struct pod_slot *v =
				realloc(c->pods, (c->npods + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->pods = v;
			v[c->npods].pod = o->pod;
			v[c->npods].identity = 0;
			v[c->npods].ep_id = alloc_id(1, ep_id_used, c);
			c->npods++;
		}
		return 0;
	case PW_KIND_NETPOL:
		for (i = 0; i < c->nnps; i++) {
			struct pw_netpol *p = c->nps[i].np;

			if (same(p->ns, p->name, o->np->ns, o->np->name)) {
				pw_netpol_free(p);
				c->nps[i].np = o->np;
				return 0;
			}
		}
		{
			struct np_slot *v =
				realloc(c->nps, (c->nnps + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			c->nps = v;
			v[c->nnps].np = o->np;
			v[c->nnps].slot = alloc_id(1, np_slot_used, c);
			c->nnps++;
		}
		return 0;
	}
	return -EINVAL;
}

int pw_cluster_apply(struct pw_cluster *c, struct pw_objects *objs)
{
	int i, err = 0;

	for (i = 0; i < objs->n; i++) {
		if (!err)
			err = apply_one(c, &objs->v[i]);
		if (!err)
			continue;
		/* not taken: still ours to free */
		switch (objs->v[i].kind) {
		case PW_KIND_NAMESPACE:
			pw_namespace_free(objs->v[i].ns);
			break;
		case PW_KIND_POD:
			pw_pod_free(objs->v[i].pod);
			break;
		case PW_KIND_NETPOL:
			pw_netpol_free(objs->v[i].np);
			break;
		}
	}
	free(objs->v);
	objs->v = NULL;
	objs->n = 0;
	return err;
}

int pw_cluster_delete(struct pw_cluster *c, enum pw_kind kind, const char *ns,
		      const char *name)
{
	int i;

	switch (kind) {
	case PW_KIND_NAMESPACE:
		for (i = 0; i < c->nnss; i++) {
			if (strcmp(c->nss[i]->name, name))
				continue;
			pw_namespace_free(c->nss[i]);
			c->nss[i] = c->nss[--c->nnss];
			return 0;
		}
		break;
	case PW_KIND_POD:
		for (i = 0; i < c->npods; i++) {
			struct pw_pod *p = c->pods[i].pod;

			if (!same(ns, name, p->ns, p->name))
				continue;
			pw_pod_free(p);
			c->pods[i] = c->pods[--c->npods];
			return 0;
		}
		break;
	case PW_KIND_NETPOL:
		for (i = 0; i < c->nnps; i++) {
			struct pw_netpol *p = c->nps[i].np;

			if (!same(ns, name, p->ns, p->name))
				continue;
			pw_netpol_free(p);
			c->nps[i] = c->nps[--c->nnps];
			return 0;
		}
		break;
	}
	return -ENOENT;
}

const struct pw_pod *pw_cluster_find_pod(const struct pw_cluster *c,
					 const char *ns, const char *name)
{
	int i;

	for (i = 0; i < c->npods; i++)
		if (same(ns, name, c->pods[i].pod->ns, c->pods[i].pod->name))
			return c->pods[i].pod;
	return NULL;
}

/* The namespace's labels; one that has no object gets only the label the
 * API server would give it. */
static const struct pw_labels *ns_labels(const struct pw_cluster *c,
					 const char *ns,
					 struct pw_labels *scratch,
					 struct pw_label *one)
{
	int i;

	for (i = 0; i < c->nnss; i++)
		if (!strcmp(c->nss[i]->name, ns))
			return &c->nss[i]->labels;
	one->key = (char *)"kubernetes.io/metadata.name";
	one->value = (char *)ns;
	scratch->v = one;
	scratch->n = 1;
	return scratch;
}

static int cport_cmp(const void *a, const void *b)
{
	const struct pw_cport *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	return x->port - y->port;
}

/* The pod's named ports, sorted: part of its identity. */
static int named_ports(const struct pw_pod *pod, struct pw_cport **out,
		       int *nout)
{
	int i, n = 0;

	*out = calloc(pod->nports ?: 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < pod->nports; i++) {
		if (!pod->ports[i].name)
			continue;
		(*out)[n] = pod->ports[i];
		(*out)[n].name = strdup(pod->ports[i].name);
		if (!(*out)[n].name) {
			*nout = n;
			return -ENOMEM;
		}
		n++;
	}
	qsort(*out, n, sizeof(**out), cport_cmp);
	*nout = n;
	return 0;
}

static bool ident_matches(const struct ident *id, const struct pw_pod *pod,
			  const struct pw_cport *ports, int nports)
{
	int i;

	if (strcmp(id->ns, pod->ns) || pw_labels_cmp(&id->labels, &pod->labels))
		return false;
	if (id->nports != nports)
		return false;
	for (i = 0; i < nports; i++)
		if (cport_cmp(&id->ports[i], &ports[i]))
			return false;
	return true;
}

static void cports_free(struct pw_cport *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(p[i].name);
	free(p);
}

static int labels_copy(struct pw_labels *dst, const struct pw_labels *src)
{
	int i;

	for (i = 0; i < src->n; i++)
		if (pw_labels_set(dst, src->v[i].key, src->v[i].value))
			return -ENOMEM;
	return 0;
}

static int assign_identity(struct pw_cluster *c, struct pod_slot *ps)
{
	struct pw_cport *ports;
	struct ident *v, *id;
	int i, n, err;

	err = named_ports(ps->pod, &ports, &n);
	if (err) {
		cports_free(ports, n);
		return err;
	}
	for (i = 0; i < c->nids; i++) {
		if (ident_matches(&c->ids[i], ps->pod, ports, n)) {
			c->ids[i].used = true;
			ps->identity = c->ids[i].id;
			cports_free(ports, n);
			return 0;
		}
	}
	v = realloc(c->ids, (c->nids + 1) * sizeof(*v));
	if (!v) {
		cports_free(ports, n);
		return -ENOMEM;
	}
	c->ids = v;
	id = &v[c->nids];
	memset(id, 0, sizeof(*id));
	id->id = alloc_id(PW_ID_FIRST_USER, ident_used, c);
	id->ns = strdup(ps->pod->ns);
	id->ports = ports;
	id->nports = n;
	id->used = true;
	c->nids++;
	if (!id->ns || labels_copy(&id->labels, &ps->pod->labels))
		return -ENOMEM;
	ps->identity = id->id;
	return 0;
}

static const struct ident *ident_get(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->nids; i++)
		if (c->ids[i].id == id)
			return &c->ids[i];
	return NULL;
}

static int cidr_cmp(const struct pw_cidr *a, const struct pw_cidr *b)
{
	int r = memcmp(a->addr, b->addr, 16);

	return r ? r : (int)a->plen - (int)b->plen;
}

static int use_cidr(struct pw_cluster *c, const struct pw_cidr *cidr)
{
	struct cidr_ident *v;
	int i;

	for (i = 0; i < c->ncids; i++) {
		if (!cidr_cmp(&c->cids[i].cidr, cidr)) {
			c->cids[i].used = true;
			return 0;
		}
	}
	v = realloc(c->cids, (c->ncids + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->cids = v;
	v[c->ncids].cidr = *cidr;
	v[c->ncids].id = alloc_id(PW_ID_CIDR_BASE, cidr_id_used, c);
	v[c->ncids].used = true;
	c->ncids++;
	return 0;
}

/* Identity of the longest ipBlock prefix that holds @addr, or 0. */
static __u32 cidr_id_of(const struct pw_cluster *c, const __u8 addr[16])
{
	__u32 best = 0, best_len = 0;
	int i;

	for (i = 0; i < c->ncids; i++) {
		const struct cidr_ident *ci = &c->cids[i];

		if (pw_cidr_contains(&ci->cidr, addr, 128) &&
		    (!best || ci->cidr.plen > best_len)) {
			best = ci->id;
			best_len = ci->cidr.plen;
		}
	}
	return best;
}

static bool in_ipblock(const struct pw_ipblock *b, const __u8 addr[16],
		       __u32 plen)
{
	int i;

	if (!pw_cidr_contains(&b->cidr, addr, plen))
		return false;
	for (i = 0; i < b->nexcept; i++)
		if (pw_cidr_contains(&b->except[i], addr, plen))
			return false;
	return true;
}

/* Dynamic arrays of output entries. */
struct out {
	struct pw_out_policy *pol;
	int npol, cap;
};

static int out_push(struct out *o, const struct pw_policy_key *key, __u32 rule)
{
	if (o->npol == o->cap) {
		int cap = o->cap ? o->cap * 2 : 1024;
		struct pw_out_policy *v = realloc(o->pol, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->pol = v;
		o->cap = cap;
	}
	o->pol[o->npol].key = *key;
	o->pol[o->npol].rule_id = rule;
	o->npol++;
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

/* A named port of a pod or identity, by protocol. */
static bool find_named(const struct pw_cport *ports, int n, const char *name,
		       __u8 proto, __u16 *port)
{
	int i;

	for (i = 0; i < n; i++) {
		if (ports[i].name && !strcmp(ports[i].name, name) &&
		    ports[i].proto == proto) {
			*port = ports[i].port;
			return true;
		}
	}
	return false;
}

/* Peers a rule admits, as identities. */
struct peers {
	__u32 *ids;
	int n, cap;
	bool any; /* every peer, world included */
};

static int peers_add(struct peers *p, __u32 id)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->ids[i] == id)
			return 0;
	if (p->n == p->cap) {
		int cap = p->cap ? p->cap * 2 : 16;
		__u32 *v = realloc(p->ids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->ids = v;
		p->cap = cap;
	}
	p->ids[p->n++] = id;
	return 0;
}

/* Does a selector peer of a policy in @np_ns admit pod @pod? */
static bool peer_selects_pod(const struct pw_cluster *c,
			     const struct pw_peer *peer, const char *np_ns,
			     const struct pw_pod *pod)
{
	struct pw_labels scratch;
	struct pw_label one;

	if (peer->ipblock)
		return false;
	if (peer->ns_sel) {
		if (!pw_selector_matches(peer->ns_sel,
					 ns_labels(c, pod->ns, &scratch, &one)))
			return false;
	} else if (strcmp(np_ns, pod->ns)) {
		return false;
	}
	return !peer->pod_sel ||
	       pw_selector_matches(peer->pod_sel, &pod->labels);
}

/*
 * The identities a rule's peers admit. With @pods_only (egress to a named
 * port, which only pods can have), ANY and ipBlock peers become the label
 * identities of the pods they hold.
 */
static int rule_peers(const struct pw_cluster *c, const struct pw_netpol *np,
		      const struct pw_rule *r, bool pods_only,
		      struct peers *out)
{
	int i, j, k, err;

	if (!r->npeers && !pods_only) {
		out->any = true;
		return 0;
	}
	for (j = 0; j < c->npods; j++) {
		const struct pod_slot *ps = &c->pods[j];
		bool take = !r->npeers;

		for (i = 0; !take && i < r->npeers; i++) {
			const struct pw_peer *peer = &r->peers[i];

			if (peer->ipblock) {
				for (k = 0; pods_only && k < ps->pod->nips; k++)
					if (in_ipblock(peer->ipblock,
						       ps->pod->ips[k], 128))
						take = true;
			} else {
				take = peer_selects_pod(c, peer, np->ns,
							ps->pod);
			}
		}
		if (take) {
			err = peers_add(out, ps->identity);
			if (err)
				return err;
		}
	}
	if (pods_only)
		return 0;
	/* ipBlock: the CIDR identities whose regions lie inside the block */
	for (i = 0; i < r->npeers; i++) {
		const struct pw_ipblock *b = r->peers[i].ipblock;

		if (!b)
			continue;
		for (k = 0; k < c->ncids; k++) {
			const struct cidr_ident *ci = &c->cids[k];

			if (ci->used &&
			    in_ipblock(b, ci->cidr.addr, ci->cidr.plen)) {
				err = peers_add(out, ci->id);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static __u32 rule_id(__u32 slot, __u8 dir, int index)
{
	return slot << 12 | (dir == PW_DIR_EGRESS ? 1U << 11 : 0) | index;
}

/* Entries for rule @r of @np (direction @dir) at endpoint @ep. */
static int compile_rule(const struct pw_cluster *c, const struct np_slot *ns,
			const struct pw_rule *r, int index, __u8 dir,
			const struct pod_slot *ep, const struct peers *peers,
			const struct peers *pod_peers, struct out *o)
{
	__u32 rule = rule_id(ns->slot, dir, index);
	int i, j, err;

	if (!r->nports) {
		if (peers->any)
			return emit(o, ep->ep_id, dir, PW_ID_ANY, 0, 0, 0,
				    rule);
		for (i = 0; i < peers->n; i++) {
			err = emit(o, ep->ep_id, dir, peers->ids[i], 0, 0, 0,
				   rule);
			if (err)
				return err;
		}
		return 0;
	}
	for (j = 0; j < r->nports; j++) {
		const struct pw_port *pt = &r->ports[j];
		__u16 lo = pt->port, hi = pt->end_port;

		if (pt->any_port)
			lo = hi = 0;
		if (!pt->name) {
			if (peers->any) {
				err = emit(o, ep->ep_id, dir, PW_ID_ANY,
					   pt->proto, lo, hi, rule);
				if (err)
					return err;
			}
			for (i = 0; i < peers->n; i++) {
				err = emit(o, ep->ep_id, dir, peers->ids[i],
					   pt->proto, lo, hi, rule);
				if (err)
					return err;
			}
			continue;
		}
		/* named: the destination's own number for the name */
		if (dir == PW_DIR_INGRESS) {
			if (!find_named(ep->pod->ports, ep->pod->nports,
					pt->name, pt->proto, &lo))
				continue;
			if (peers->any) {
				err = emit(o, ep->ep_id, dir, PW_ID_ANY,
					   pt->proto, lo, lo, rule);
				if (err)
					return err;
			}
			for (i = 0; i < peers->n; i++) {
				err = emit(o, ep->ep_id, dir, peers->ids[i],
					   pt->proto, lo, lo, rule);
				if (err)
					return err;
			}
			continue;
		}
		for (i = 0; i < pod_peers->n; i++) {
			const struct ident *id =
				ident_get(c, pod_peers->ids[i]);

			if (!id || !find_named(id->ports, id->nports, pt->name,
					       pt->proto, &lo))
				continue;
			err = emit(o, ep->ep_id, dir, id->id, pt->proto, lo, lo,
				   rule);
			if (err)
				return err;
		}
	}
	return 0;
}

static bool rule_has_named_port(const struct pw_rule *r)
{
	int i;

	for (i = 0; i < r->nports; i++)
		if (r->ports[i].name)
			return true;
	return false;
}

static int compile_netpol(struct pw_cluster *c, const struct np_slot *ns,
			  struct pw_out_ep *eps, struct out *o, char *err,
			  size_t errlen)
{
	const struct pw_netpol *np = ns->np;
	int d, i, j, ret = 0;

	if (np->nin > PW_RULE_INDEX_MAX || np->nout > PW_RULE_INDEX_MAX) {
		snprintf(err, errlen, "NetworkPolicy %s/%s: more than %d rules",
			 np->ns, np->name, PW_RULE_INDEX_MAX);
		return -E2BIG;
	}
	for (j = 0; j < c->npods; j++) {
		const struct pod_slot *ps = &c->pods[j];

		if (strcmp(ps->pod->ns, np->ns) ||
		    !pw_selector_matches(&np->pod_sel, &ps->pod->labels))
			continue;
		if (np->ingress)
			eps[j].flags |= PW_EP_F_INGRESS_ENFORCED;
		if (np->egress)
			eps[j].flags |= PW_EP_F_EGRESS_ENFORCED;
	}
	for (d = 0; d < 2; d++) {
		__u8 dir = d ? PW_DIR_EGRESS : PW_DIR_INGRESS;
		const struct pw_rule *rules = d ? np->out : np->in;
		int n = d ? np->nout : np->nin;

		if (!(d ? np->egress : np->ingress))
			continue;
		for (i = 0; i < n; i++) {
			struct peers peers = {}, pod_peers = {};

			ret = rule_peers(c, np, &rules[i], false, &peers);
			if (!ret && dir == PW_DIR_EGRESS &&
			    rule_has_named_port(&rules[i]))
				ret = rule_peers(c, np, &rules[i], true,
						 &pod_peers);
			for (j = 0; !ret && j < c->npods; j++) {
				const struct pod_slot *ps = &c->pods[j];

				if (strcmp(ps->pod->ns, np->ns) ||
				    !pw_selector_matches(&np->pod_sel,
							 &ps->pod->labels))
					continue;
				ret = compile_rule(c, ns, &rules[i], i, dir, ps,
						   &peers, &pod_peers, o);
			}
			free(peers.ids);
			free(pod_peers.ids);
			if (ret) {
				snprintf(err, errlen,
					 "NetworkPolicy %s/%s: %s[%d]: %s",
					 np->ns, np->name,
					 d ? "egress" : "ingress", i,
					 strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

/* By policy set first, so each endpoint's entries lie together. */
static int pol_cmp(const void *a, const void *b)
{
	const struct pw_out_policy *x = a, *y = b;
	int r;

	if (x->key.pol_id != y->key.pol_id)
		return x->key.pol_id < y->key.pol_id ? -1 : 1;
	r = memcmp(&x->key, &y->key, sizeof(x->key));
	if (r)
		return r;
	return (x->rule_id > y->rule_id) - (x->rule_id < y->rule_id);
}

static int ipc_cmp(const void *a, const void *b)
{
	const struct pw_out_ipcache *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

static int compile_ipcache(struct pw_cluster *c, struct pw_compiled *out)
{
	int i, j, n = 0, cap = c->ncids + 2 * c->npods;
	struct pw_out_ipcache *v;

	v = calloc(cap ?: 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < c->ncids; i++) {
		v[n].key.prefixlen = c->cids[i].cidr.plen;
		memcpy(v[n].key.addr, c->cids[i].cidr.addr, 16);
		v[n].val.id = PW_ID_WORLD;
		v[n].val.cidr_id = c->cids[i].id;
		n++;
	}
	for (i = 0; i < c->npods; i++) {
		const struct pod_slot *ps = &c->pods[i];

		for (j = 0; j < ps->pod->nips; j++) {
			v[n].key.prefixlen = 128;
			memcpy(v[n].key.addr, ps->pod->ips[j], 16);
			v[n].val.id = ps->identity;
			v[n].val.cidr_id = cidr_id_of(c, ps->pod->ips[j]);
			n++;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), ipc_cmp);
	/* A pod's address may also be an ipBlock /32: the pod's entry, which
	 * carries both identities, wins; of two pods with one address, the
	 * first by name. */
	for (i = 0, j = 0; i < n; i++) {
		if (j && !ipc_cmp(&v[j - 1], &v[i])) {
			if (v[j - 1].val.id == PW_ID_WORLD)
				v[j - 1] = v[i];
			continue;
		}
		v[j++] = v[i];
	}
	out->ipc = v;
	out->nipc = j;
	return 0;
}

int pw_compile(struct pw_cluster *c, struct pw_compiled *out, char *err,
	       size_t errlen)
{
	struct out o = {};
	int i, j, k, ret;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->nids; i++)
		c->ids[i].used = false;
	for (i = 0; i < c->ncids; i++)
		c->cids[i].used = false;

	for (i = 0; i < c->npods; i++) {
		ret = assign_identity(c, &c->pods[i]);
		if (ret)
			goto fail;
	}
	for (i = 0; i < c->nnps; i++) {
		const struct pw_netpol *np = c->nps[i].np;

		for (k = 0; k < 2; k++) {
			const struct pw_rule *rules = k ? np->out : np->in;
			int n = k ? np->nout : np->nin;

			for (j = 0; j < n; j++) {
				int p, e;

				for (p = 0; p < rules[j].npeers; p++) {
					const struct pw_ipblock *b =
						rules[j].peers[p].ipblock;

					if (!b)
						continue;
					ret = use_cidr(c, &b->cidr);
					for (e = 0; !ret && e < b->nexcept; e++)
						ret = use_cidr(c,
							       &b->except[e]);
					if (ret)
						goto fail;
				}
			}
		}
	}
	/* forget what nothing refers to any more */
	for (i = 0, j = 0; i < c->nids; i++) {
		if (c->ids[i].used)
			c->ids[j++] = c->ids[i];
		else
			ident_free(&c->ids[i]);
	}
	c->nids = j;
	for (i = 0, j = 0; i < c->ncids; i++)
		if (c->cids[i].used)
			c->cids[j++] = c->cids[i];
	c->ncids = j;

	out->eps = calloc(c->npods ?: 1, sizeof(*out->eps));
	if (!out->eps) {
		ret = -ENOMEM;
		goto fail;
	}
	out->neps = c->npods;
	for (i = 0; i < c->npods; i++) {
		const struct pw_pod *pod = c->pods[i].pod;
		struct pw_out_ep *ep = &out->eps[i];

		ep->ns = pod->ns;
		ep->name = pod->name;
		ep->ep_id = c->pods[i].ep_id;
		ep->identity = c->pods[i].identity;
		for (j = 0; j < pod->nips; j++) {
			bool v4 = pw_addr_is4(pod->ips[j]);

			memcpy(v4 ? ep->ip4 : ep->ip6, pod->ips[j], 16);
			ep->flags |= v4 ? PW_EP_F_HAS_IP4 : PW_EP_F_HAS_IP6;
		}
	}
	for (i = 0; i < c->nnps; i++) {
		ret = compile_netpol(c, &c->nps[i], out->eps, &o, err, errlen);
		if (ret)
			goto fail_msg;
	}

	/* sort; of equal keys keep the lowest rule id */
	if (o.npol)
		qsort(o.pol, o.npol, sizeof(*o.pol), pol_cmp);
	for (i = 0, j = 0; i < o.npol; i++) {
		if (j && !memcmp(&o.pol[j - 1].key, &o.pol[i].key,
				 sizeof(o.pol[i].key)))
			continue;
		o.pol[j++] = o.pol[i];
	}
	out->pol = o.pol;
	out->npol = j;
	o.pol = NULL;
	ret = compile_ipcache(c, out);
	if (ret)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "compile: %s", strerror(-ret));
fail_msg:
	free(o.pol);
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

const char *pw_rule_describe(const struct pw_cluster *c, __u32 rule_id,
			     char *buf, size_t len)
{
	__u32 slot = rule_id >> 12;
	int i;

	if (rule_id == PW_RULE_DEFAULT) {
		snprintf(buf, len, "default");
		return buf;
	}
	for (i = 0; i < c->nnps; i++) {
		if (c->nps[i].slot != slot)
			continue;
		snprintf(buf, len, "%s/%s %s[%u]", c->nps[i].np->ns,
			 c->nps[i].np->name,
			 rule_id & (1U << 11) ? "egress" : "ingress",
			 rule_id & (PW_RULE_INDEX_MAX - 1));
		return buf;
	}
	snprintf(buf, len, "rule %u (gone)", rule_id);
	return buf;
}

/* The pod at an address, if any. */
static const struct pod_slot *pod_at(const struct pw_cluster *c,
				     const __u8 addr[16])
{
	int i, j;

	for (i = 0; i < c->npods; i++)
		for (j = 0; j < c->pods[i].pod->nips; j++)
			if (!memcmp(c->pods[i].pod->ips[j], addr, 16))
				return &c->pods[i];
	return NULL;
}

static bool peer_admits(const struct pw_cluster *c, const struct pw_rule *r,
			const char *np_ns, const struct pw_pod *peer_pod,
			const __u8 peer_addr[16])
{
	int i;

	if (!r->npeers)
		return true;
	for (i = 0; i < r->npeers; i++) {
		const struct pw_peer *p = &r->peers[i];

		if (p->ipblock ? in_ipblock(p->ipblock, peer_addr, 128)
			       : peer_pod && peer_selects_pod(c, p, np_ns,
							      peer_pod))
			return true;
	}
	return false;
}

static bool port_admits(const struct pw_rule *r, const struct pw_pod *dst_pod,
			__u8 proto, __u16 port)
{
	int i;

	if (!r->nports)
		return true;
	for (i = 0; i < r->nports; i++) {
		const struct pw_port *pt = &r->ports[i];
		__u16 num;

		if (pt->proto != proto)
			continue;
		if (pt->any_port)
			return true;
		if (pt->name) {
			if (dst_pod &&
			    find_named(dst_pod->ports, dst_pod->nports,
				       pt->name, proto, &num) &&
			    num == port)
				return true;
			continue;
		}
		if (port >= pt->port && port <= pt->end_port)
			return true;
	}
	return false;
}

static void explain_side(const struct pw_cluster *c,
			 const struct pod_slot *self, bool egress,
			 const struct pw_pod *peer_pod,
			 const __u8 peer_addr[16], const struct pw_pod *dst_pod,
			 __u8 proto, __u16 port, struct pw_explain_side *out)
{
	int i, j;

	memset(out, 0, sizeof(*out));
	out->allowed = true;
	if (!self)
		return;
	out->known = true;
	for (i = 0; i < c->nnps; i++) {
		const struct pw_netpol *np = c->nps[i].np;
		const struct pw_rule *rules = egress ? np->out : np->in;
		int n = egress ? np->nout : np->nin;

		if ((egress ? !np->egress : !np->ingress) ||
		    strcmp(np->ns, self->pod->ns) ||
		    !pw_selector_matches(&np->pod_sel, &self->pod->labels))
			continue;
		out->selected = true;
		out->npolicies++;
		for (j = 0; j < n; j++) {
			if (!peer_admits(c, &rules[j], np->ns, peer_pod,
					 peer_addr) ||
			    !port_admits(&rules[j], dst_pod, proto, port))
				continue;
			if (out->nrules < PW_EXPLAIN_RULES_MAX)
				out->rules[out->nrules] = rule_id(
					c->nps[i].slot,
					egress ? PW_DIR_EGRESS : PW_DIR_INGRESS,
					j);
			out->nrules++;
		}
	}
	out->allowed = !out->selected || out->nrules > 0;
}

int pw_explain(const struct pw_cluster *c, const __u8 src[16],
	       const __u8 dst[16], __u8 proto, __u16 port,
	       struct pw_explain *out)
{
	const struct pod_slot *s = pod_at(c, src), *d = pod_at(c, dst);

	explain_side(c, s, true, d ? d->pod : NULL, dst, d ? d->pod : NULL,
		     proto, port, &out->egress);
	explain_side(c, d, false, s ? s->pod : NULL, src, d ? d->pod : NULL,
		     proto, port, &out->ingress);
	out->allowed = out->egress.allowed && out->ingress.allowed;
	return 0;
}
