// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The cluster as the compiler knows it: objects in and out, the ids that
 * must stay stable (endpoint ids, identities, CIDR identities, policy
 * slots), and the caches that keep a change's cost to what it touches.
 *
 * Every change stamps what it affects with the cluster clock:
 * - a pod: its own version, and its namespace's (policies there must look
 *   again at which pods they select);
 * - an identity that appears or goes: the versions of the policies whose
 *   rules admit it, found by testing that one identity against every rule;
 * - a namespace's labels: the policies whose peers use a namespaceSelector;
 * - the set of ipBlock prefixes: the policies with ipBlock peers.
 * compile.c then recompiles the pods whose own version or selecting
 * policies' versions moved, and reuses every other pod's entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cluster.h"

int pw_cluster_new(struct pw_cluster **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void cports_free(struct pw_cport *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(p[i].name);
	free(p);
}

static void ident_free(struct ident *id)
{
	free(id->ns);
	pw_labels_free(&id->labels);
	cports_free(id->ports, id->nports);
}

static void caches_free(struct rule_cache *rc, int n)
{
	int i;

	for (i = 0; rc && i < n; i++) {
		free(rc[i].ids);
		free(rc[i].pod_ids);
		free(rc[i].hosts);
	}
	free(rc);
}

static void np_slot_free(struct np_slot *ns)
{
	caches_free(ns->in, ns->np->nin);
	caches_free(ns->out, ns->np->nout);
	free(ns->targets);
	pw_netpol_free(ns->np);
}

static void pod_slot_free(struct pod_slot *ps)
{
	pw_pod_free(ps->pod);
	free(ps->pol);
	free(ps->sig);
	free(ps->next);
}

void pw_cluster_free(struct pw_cluster *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->nnss; i++)
		pw_namespace_free(c->nss[i]);
	for (i = 0; i < c->npods; i++)
		pod_slot_free(&c->pods[i]);
	for (i = 0; i < c->nnps; i++)
		np_slot_free(&c->nps[i]);
	for (i = 0; i < c->nids; i++)
		ident_free(&c->ids[i]);
	for (i = 0; i < c->ngens; i++)
		free(c->gens[i].name);
	free(c->nss);
	free(c->pods);
	free(c->nps);
	free(c->ids);
	free(c->cids);
	free(c->gens);
	free(c->hostpfx);
	pw_cluster_hints_clear(c);
	free(c);
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
	return pw_ident_get(c, id) != NULL;
}

static bool cidr_id_used(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->ncids; i++)
		if (c->cids[i].id == id)
			return true;
	return false;
}

const struct ident *pw_ident_get(const struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->nids; i++)
		if (c->ids[i].id == id)
			return &c->ids[i];
	return NULL;
}

__u64 pw_ns_at(const struct pw_cluster *c, const char *ns)
{
	int i;

	for (i = 0; i < c->ngens; i++)
		if (!strcmp(c->gens[i].name, ns))
			return c->gens[i].at;
	return 0;
}

static int ns_touch(struct pw_cluster *c, const char *ns)
{
	struct ns_gen *v;
	int i;

	for (i = 0; i < c->ngens; i++) {
		if (!strcmp(c->gens[i].name, ns)) {
			c->gens[i].at = ++c->clock;
			return 0;
		}
	}
	v = realloc(c->gens, (c->ngens + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->gens = v;
	v[c->ngens].name = strdup(ns);
	if (!v[c->ngens].name)
		return -ENOMEM;
	v[c->ngens++].at = ++c->clock;
	return 0;
}

/* The namespace's labels; one that has no object gets only the label the
 * API server would give it. */
const struct pw_labels *pw_ns_labels(const struct pw_cluster *c, const char *ns,
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

/* Does selector peer @peer of a policy in @np_ns admit a pod of @ns with
 * @labels? podSelector alone means the policy's namespace. */
bool pw_peer_selects(const struct pw_cluster *c, const struct pw_peer *peer,
		     const char *np_ns, const char *ns,
		     const struct pw_labels *labels)
{
	struct pw_labels scratch;
	struct pw_label one;

	if (peer->ipblock)
		return false;
	if (peer->ns_sel) {
		if (!pw_selector_matches(peer->ns_sel,
					 pw_ns_labels(c, ns, &scratch, &one)))
			return false;
	} else if (strcmp(np_ns, ns)) {
		return false;
	}
	return !peer->pod_sel || pw_selector_matches(peer->pod_sel, labels);
}

bool pw_in_ipblock(const struct pw_ipblock *b, const __u8 addr[16], __u32 plen)
{
	int i;

	if (!pw_cidr_contains(&b->cidr, addr, plen))
		return false;
	for (i = 0; i < b->nexcept; i++)
		if (pw_cidr_contains(&b->except[i], addr, plen))
			return false;
	return true;
}

bool pw_find_named(const struct pw_cport *ports, int n, const char *name,
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

/* Identity of the longest ipBlock prefix that holds @addr, or 0. */
__u32 pw_cidr_id_of(const struct pw_cluster *c, const __u8 addr[16])
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

static int ids_add(__u32 **ids, int *n, int *cap, __u32 id)
{
	int i;

	for (i = 0; i < *n; i++)
		if ((*ids)[i] == id)
			return 0;
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 8;
		__u32 *v = realloc(*ids, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*ids = v;
		*cap = nc;
	}
	(*ids)[(*n)++] = id;
	return 1;
}

static bool ids_del(__u32 *ids, int *n, __u32 id)
{
	int i;

	for (i = 0; i < *n; i++) {
		if (ids[i] == id) {
			ids[i] = ids[--*n];
			return true;
		}
	}
	return false;
}

static int hosts_add(struct rule_cache *rc, __u32 cid, __u32 ident)
{
	if (rc->nhost == rc->caphost) {
		int cap = rc->caphost ? rc->caphost * 2 : 8;
		struct host_ref *v = realloc(rc->hosts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rc->hosts = v;
		rc->caphost = cap;
	}
	rc->hosts[rc->nhost].cid = cid;
	rc->hosts[rc->nhost].ident = ident;
	rc->nhost++;
	return 0;
}

/* The CIDR identity of a pod address's own host prefix, if it has one. */
static __u32 host_cid(const struct pw_cluster *c, const __u8 addr[16])
{
	int i;

	for (i = 0; i < c->ncids; i++)
		if (c->cids[i].cidr.plen == 128 &&
		    !memcmp(c->cids[i].cidr.addr, addr, 16))
			return c->cids[i].id;
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

static bool rule_has_ipblock(const struct pw_rule *r)
{
	int i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].ipblock)
			return true;
	return false;
}

static bool rule_has_ns_sel(const struct pw_rule *r)
{
	int i;

	for (i = 0; i < r->npeers; i++)
		if (r->peers[i].ns_sel)
			return true;
	return false;
}

/* Does a selector peer of @r admit identity @id? (Not ipBlock peers.) */
static bool rule_admits_ident(const struct pw_cluster *c,
			      const struct pw_netpol *np,
			      const struct pw_rule *r, const struct ident *id)
{
	int i;

	for (i = 0; i < r->npeers; i++)
		if (pw_peer_selects(c, &r->peers[i], np->ns, id->ns,
				    &id->labels))
			return true;
	return false;
}

/* Egress to a named port: which pod identities can it reach? */
static bool rule_admits_pod_ident(const struct pw_cluster *c,
				  const struct pw_netpol *np,
				  const struct pw_rule *r,
				  const struct ident *id)
{
	return !r->npeers || rule_admits_ident(c, np, r, id);
}

/* The identities rule @r admits, from scratch. */
static int cache_build(const struct pw_cluster *c, const struct pw_netpol *np,
		       const struct pw_rule *r, bool egress,
		       struct rule_cache *rc)
{
	bool named = egress && rule_has_named_port(r);
	int i, k, err;

	memset(rc, 0, sizeof(*rc));
	rc->any = !r->npeers;
	rc->volatile_ = named && rule_has_ipblock(r);
	for (i = 0; i < c->nids; i++) {
		const struct ident *id = &c->ids[i];

		if (!rc->any && rule_admits_ident(c, np, r, id)) {
			err = ids_add(&rc->ids, &rc->n, &rc->cap, id->id);
			if (err < 0)
				return err;
		}
		if (named && rule_admits_pod_ident(c, np, r, id)) {
			err = ids_add(&rc->pod_ids, &rc->npod, &rc->cappod,
				      id->id);
			if (err < 0)
				return err;
		}
	}
	/* ipBlock: the CIDR identities whose regions lie inside the block */
	for (i = 0; i < r->npeers; i++) {
		const struct pw_ipblock *b = r->peers[i].ipblock;

		for (k = 0; b && k < c->ncids; k++) {
			if (!pw_in_ipblock(b, c->cids[k].cidr.addr,
					   c->cids[k].cidr.plen))
				continue;
			err = ids_add(&rc->ids, &rc->n, &rc->cap,
				      c->cids[k].id);
			if (err < 0)
				return err;
		}
	}
	/* ipBlock with a named port: the pods whose address is in the block,
	 * each by its own host prefix, so that a pod outside the block that
	 * shares its labels is not let in */
	for (i = 0; rc->volatile_ && i < r->npeers; i++) {
		const struct pw_ipblock *b = r->peers[i].ipblock;
		int j;

		for (k = 0; b && k < c->npods; k++) {
			const struct pod_slot *ps = &c->pods[k];

			for (j = 0; j < ps->pod->nips; j++) {
				__u32 cid = host_cid(c, ps->pod->ips[j]);

				if (!cid ||
				    !pw_in_ipblock(b, ps->pod->ips[j], 128))
					continue;
				err = hosts_add(rc, cid, ps->identity);
				if (err < 0)
					return err;
			}
		}
	}
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

static bool cache_equal(struct rule_cache *a, struct rule_cache *b)
{
	if (a->any != b->any || a->n != b->n || a->npod != b->npod ||
	    a->nhost != b->nhost)
		return false;
	/* hosts are built in pod order, which a compile does not change */
	if (a->nhost &&
	    memcmp(a->hosts, b->hosts, a->nhost * sizeof(*a->hosts)))
		return false;
	if (a->n) {
		qsort(a->ids, a->n, sizeof(__u32), id_cmp);
		qsort(b->ids, b->n, sizeof(__u32), id_cmp);
	}
	if (a->npod) {
		qsort(a->pod_ids, a->npod, sizeof(__u32), id_cmp);
		qsort(b->pod_ids, b->npod, sizeof(__u32), id_cmp);
	}
	return (!a->n || !memcmp(a->ids, b->ids, a->n * sizeof(__u32))) &&
	       (!a->npod ||
		!memcmp(a->pod_ids, b->pod_ids, a->npod * sizeof(__u32)));
}

/*
 * Rebuild the caches of @ns's rules that @want picks (all when NULL);
 * bump the policy's version if any came out different.
 */
static int np_rebuild(struct pw_cluster *c, struct np_slot *ns,
		      bool (*want)(const struct pw_rule *))
{
	bool changed = false;
	int d, i, err;

	for (d = 0; d < 2; d++) {
		const struct pw_rule *rules = d ? ns->np->out : ns->np->in;
		struct rule_cache *rc = d ? ns->out : ns->in;
		int n = d ? ns->np->nout : ns->np->nin;

		for (i = 0; i < n; i++) {
			struct rule_cache fresh;

			if (want && !want(&rules[i]))
				continue;
			err = cache_build(c, ns->np, &rules[i], d, &fresh);
			if (err) {
				free(fresh.ids);
				free(fresh.pod_ids);
				free(fresh.hosts);
				return err;
			}
			if (!cache_equal(&rc[i], &fresh))
				changed = true;
			free(rc[i].ids);
			free(rc[i].pod_ids);
			free(rc[i].hosts);
			rc[i] = fresh;
		}
	}
	if (changed)
		ns->ver = ++c->clock;
	return 0;
}

static bool has_ns_sel(const struct pw_rule *r)
{
	return rule_has_ns_sel(r);
}

static bool has_ipblock(const struct pw_rule *r)
{
	return rule_has_ipblock(r);
}

static bool is_volatile(const struct pw_rule *r)
{
	return rule_has_ipblock(r) && rule_has_named_port(r);
}

static int cidr_ref(struct pw_cluster *c, const struct pw_cidr *cidr,
		    int delta);
static int cidrs_changed(struct pw_cluster *c);

static int pfx_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pw_cidr));
}

/* Host prefixes of the pods inside the blocks of egress rules that name a
 * port; sorted, no duplicates. */
static int wanted_hosts(const struct pw_cluster *c, struct pw_cidr **out,
			int *nout)
{
	int i, d, k, p, j, q, n = 0, cap = 0;
	struct pw_cidr *v = NULL;

	for (i = 0; i < c->nnps; i++) {
		const struct pw_netpol *np = c->nps[i].np;

		for (d = 0; d < np->nout; d++) {
			const struct pw_rule *r = &np->out[d];

			if (!is_volatile(r))
				continue;
			for (p = 0; p < r->npeers; p++) {
				const struct pw_ipblock *b =
					r->peers[p].ipblock;

				for (k = 0; b && k < c->npods; k++) {
					const struct pw_pod *pod =
						c->pods[k].pod;

					for (j = 0; j < pod->nips; j++) {
						if (!pw_in_ipblock(b,
								   pod->ips[j],
								   128))
							continue;
						if (n == cap) {
							struct pw_cidr *w;

							cap = cap ? cap * 2 : 8;
							w = realloc(
								v,
								cap * sizeof(*v));
							if (!w) {
								free(v);
								return -ENOMEM;
							}
							v = w;
						}
						memset(&v[n], 0, sizeof(v[n]));
						memcpy(v[n].addr, pod->ips[j],
						       16);
						v[n++].plen = 128;
					}
				}
			}
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), pfx_cmp);
	for (i = 0, q = 0; i < n; i++)
		if (!q || pfx_cmp(&v[q - 1], &v[i]))
			v[q++] = v[i];
	*out = v;
	*nout = q;
	return 0;
}

/*
 * What depends on pod addresses, brought up to date before each compile:
 * the host prefixes egress-to-named-port rules need (a change there
 * changes the CIDR set), and those rules' caches.
 */
int pw_refresh_volatile(struct pw_cluster *c)
{
	struct pw_cidr *want;
	int i, nwant, err, r;
	bool changed = false;

	err = wanted_hosts(c, &want, &nwant);
	if (err)
		return err;
	if (nwant != c->nhostpfx ||
	    (nwant && memcmp(want, c->hostpfx, nwant * sizeof(*want)))) {
		for (i = 0; i < nwant; i++) {
			r = cidr_ref(c, &want[i], +1);
			if (r < 0)
				goto fail;
			changed |= r;
		}
		for (i = 0; i < c->nhostpfx; i++) {
			r = cidr_ref(c, &c->hostpfx[i], -1);
			if (r < 0)
				goto fail;
			changed |= r;
		}
		free(c->hostpfx);
		c->hostpfx = want;
		c->nhostpfx = nwant;
		want = NULL;
	}
	free(want);
	if (changed)
		return cidrs_changed(c);
	for (i = 0; i < c->nnps; i++) {
		err = np_rebuild(c, &c->nps[i], is_volatile);
		if (err)
			return err;
	}
	return 0;
fail:
	free(want);
	return r;
}

/* A new identity: add it to every rule that admits it. */
static int on_ident_added(struct pw_cluster *c, const struct ident *id)
{
	int i, d, k, err;

	for (i = 0; i < c->nnps; i++) {
		struct np_slot *ns = &c->nps[i];
		bool changed = false;

		for (d = 0; d < 2; d++) {
			const struct pw_rule *rules =
				d ? ns->np->out : ns->np->in;
			struct rule_cache *rc = d ? ns->out : ns->in;
			int n = d ? ns->np->nout : ns->np->nin;

			for (k = 0; k < n; k++) {
				if (!rc[k].any &&
				    rule_admits_ident(c, ns->np, &rules[k],
						      id)) {
					err = ids_add(&rc[k].ids, &rc[k].n,
						      &rc[k].cap, id->id);
					if (err < 0)
						return err;
					changed = true;
				}
				if (d && rule_has_named_port(&rules[k]) &&
				    !rc[k].volatile_ &&
				    rule_admits_pod_ident(c, ns->np, &rules[k],
							  id)) {
					err = ids_add(&rc[k].pod_ids,
						      &rc[k].npod,
						      &rc[k].cappod, id->id);
					if (err < 0)
						return err;
					changed = true;
				}
			}
		}
		if (changed)
			ns->ver = ++c->clock;
	}
	return 0;
}

static void on_ident_removed(struct pw_cluster *c, __u32 id)
{
	int i, d, k;

	for (i = 0; i < c->nnps; i++) {
		struct np_slot *ns = &c->nps[i];
		bool changed = false;

		for (d = 0; d < 2; d++) {
			struct rule_cache *rc = d ? ns->out : ns->in;
			int n = d ? ns->np->nout : ns->np->nin;

			for (k = 0; k < n; k++) {
				changed |= ids_del(rc[k].ids, &rc[k].n, id);
				changed |=
					ids_del(rc[k].pod_ids, &rc[k].npod, id);
			}
		}
		if (changed)
			ns->ver = ++c->clock;
	}
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

	*nout = 0;
	*out = calloc(pod->nports ?: 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < pod->nports; i++) {
		if (!pod->ports[i].name)
			continue;
		(*out)[n] = pod->ports[i];
		(*out)[n].name = strdup(pod->ports[i].name);
		if (!(*out)[n].name)
			return -ENOMEM;
		*nout = ++n;
	}
	qsort(*out, n, sizeof(**out), cport_cmp);
	return 0;
}

static bool ident_is(const struct ident *id, const struct pw_pod *pod,
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

static int labels_copy(struct pw_labels *dst, const struct pw_labels *src)
{
	int i;

	for (i = 0; i < src->n; i++)
		if (pw_labels_set(dst, src->v[i].key, src->v[i].value))
			return -ENOMEM;
	return 0;
}

/* Take a reference on the identity of @pod, creating it if new. */
static int ident_ref(struct pw_cluster *c, const struct pw_pod *pod, __u32 *out)
{
	struct pw_cport *ports;
	struct ident *v, *id;
	int i, n, err;
	char *key;

	err = named_ports(pod, &ports, &n);
	if (err) {
		cports_free(ports, n);
		return err;
	}
	for (i = 0; i < c->nids; i++) {
		if (ident_is(&c->ids[i], pod, ports, n)) {
			c->ids[i].refs++;
			*out = c->ids[i].id;
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
	key = pw_hint_key_ident(pod->ns, &pod->labels, ports, n);
	id->id = pw_hint_alloc(c, PW_HINT_IDENT, key, PW_ID_FIRST_USER,
			       ident_used);
	free(key);
	id->ns = strdup(pod->ns);
	id->ports = ports;
	id->nports = n;
	id->refs = 1;
	c->nids++;
	if (!id->ns || labels_copy(&id->labels, &pod->labels))
		return -ENOMEM;
	*out = id->id;
	return on_ident_added(c, id);
}

static void ident_unref(struct pw_cluster *c, __u32 id)
{
	int i;

	for (i = 0; i < c->nids; i++) {
		if (c->ids[i].id != id)
			continue;
		if (--c->ids[i].refs > 0)
			return;
		ident_free(&c->ids[i]);
		c->ids[i] = c->ids[--c->nids];
		on_ident_removed(c, id);
		return;
	}
}

static int cidr_cmp(const struct pw_cidr *a, const struct pw_cidr *b)
{
	int r = memcmp(a->addr, b->addr, 16);

	return r ? r : (int)a->plen - (int)b->plen;
}

/* Reference (+1) or release (-1) one prefix. Returns 1 if the set of
 * prefixes changed. */
static int cidr_ref(struct pw_cluster *c, const struct pw_cidr *cidr, int delta)
{
	struct cidr_ident *v;
	char *key;
	int i;

	for (i = 0; i < c->ncids; i++) {
		if (cidr_cmp(&c->cids[i].cidr, cidr))
			continue;
		c->cids[i].refs += delta;
		if (c->cids[i].refs > 0)
			return 0;
		c->cids[i] = c->cids[--c->ncids];
		return 1;
	}
	if (delta < 0)
		return 0;
	v = realloc(c->cids, (c->ncids + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->cids = v;
	key = pw_hint_key_cidr(cidr);
	v[c->ncids].cidr = *cidr;
	v[c->ncids].id = pw_hint_alloc(c, PW_HINT_CIDR, key, PW_ID_CIDR_BASE,
				       cidr_id_used);
	free(key);
	v[c->ncids].refs = 1;
	c->ncids++;
	return 1;
}

/* All the prefixes of @np's ipBlocks, referenced or released. */
static int np_cidrs(struct pw_cluster *c, const struct pw_netpol *np, int delta,
		    bool *changed)
{
	int d, i, p, e, r;

	for (d = 0; d < 2; d++) {
		const struct pw_rule *rules = d ? np->out : np->in;
		int n = d ? np->nout : np->nin;

		for (i = 0; i < n; i++) {
			for (p = 0; p < rules[i].npeers; p++) {
				const struct pw_ipblock *b =
					rules[i].peers[p].ipblock;

				if (!b)
					continue;
				r = cidr_ref(c, &b->cidr, delta);
				for (e = 0; r >= 0 && e < b->nexcept; e++) {
					int q = cidr_ref(c, &b->except[e],
							 delta);

					r = q < 0 ? q : (r | q);
				}
				if (r < 0)
					return r;
				*changed |= r;
			}
		}
	}
	return 0;
}

/* After the prefix set changed: every ipBlock rule's identities. */
static int cidrs_changed(struct pw_cluster *c)
{
	int i, err;

	c->cidrs_at = ++c->clock;
	for (i = 0; i < c->nnps; i++) {
		err = np_rebuild(c, &c->nps[i], has_ipblock);
		if (err)
			return err;
	}
	return 0;
}

static int np_init(struct pw_cluster *c, struct np_slot *ns,
		   struct pw_netpol *np)
{
	ns->np = np;
	ns->in = calloc(np->nin ?: 1, sizeof(*ns->in));
	ns->out = calloc(np->nout ?: 1, sizeof(*ns->out));
	ns->targets = NULL;
	ns->ntargets = 0;
	ns->targets_at = 0;
	ns->ver = ++c->clock;
	if (!ns->in || !ns->out)
		return -ENOMEM;
	return np_rebuild(c, ns, NULL);
}

static int apply_netpol(struct pw_cluster *c, struct pw_netpol *np)
{
	bool changed = false;
	struct np_slot *ns = NULL;
	char *key;
	int i, err;

	if (np->nin > PW_RULE_INDEX_MAX || np->nout > PW_RULE_INDEX_MAX)
		return -E2BIG;
	for (i = 0; i < c->nnps; i++) {
		struct pw_netpol *p = c->nps[i].np;

		if (!strcmp(p->ns, np->ns) && !strcmp(p->name, np->name)) {
			ns = &c->nps[i];
			break;
		}
	}
	if (ns && pw_netpol_equal(ns->np, np)) {
		pw_netpol_free(np);
		return 0;
	}
	err = np_cidrs(c, np, +1, &changed);
	if (err)
		return err;
	if (ns) {
		err = np_cidrs(c, ns->np, -1, &changed);
		if (err)
			return err;
		caches_free(ns->in, ns->np->nin);
		caches_free(ns->out, ns->np->nout);
		free(ns->targets);
		pw_netpol_free(ns->np);
	} else {
		ns = realloc(c->nps, (c->nnps + 1) * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		c->nps = ns;
		ns = &c->nps[c->nnps];
		key = pw_hint_key_name(np->ns, np->name);
		ns->slot =
			pw_hint_alloc(c, PW_HINT_POLICY, key, 1, np_slot_used);
		free(key);
		c->nnps++;
	}
	/* with the new prefix set in place before its caches are built */
	if (changed) {
		c->cidrs_at = ++c->clock;
		ns->np = np;
		ns->in = ns->out = NULL;
		/* rebuild others; this one is built just below */
		for (i = 0; i < c->nnps; i++) {
			if (&c->nps[i] == ns)
				continue;
			err = np_rebuild(c, &c->nps[i], has_ipblock);
			if (err)
				return err;
		}
	}
	return np_init(c, ns, np);
}

static int apply_pod(struct pw_cluster *c, struct pw_pod *pod)
{
	struct pod_slot *ps = NULL;
	__u32 identity;
	char *key;
	int i, err;

	for (i = 0; i < c->npods; i++) {
		struct pw_pod *p = c->pods[i].pod;

		if (!strcmp(p->ns, pod->ns) && !strcmp(p->name, pod->name)) {
			ps = &c->pods[i];
			break;
		}
	}
	/* the same again (an agent re-reads its sources): nothing moves */
	if (ps && pw_pod_equal(ps->pod, pod)) {
		pw_pod_free(pod);
		return 0;
	}
	/* reference the new identity before releasing the old one, so a pod
	 * that keeps its labels keeps its identity */
	err = ident_ref(c, pod, &identity);
	if (err)
		return err;
	if (ps) {
		ident_unref(c, ps->identity);
		pw_pod_free(ps->pod);
	} else {
		ps = realloc(c->pods, (c->npods + 1) * sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		c->pods = ps;
		ps = &c->pods[c->npods];
		memset(ps, 0, sizeof(*ps));
		key = pw_hint_key_name(pod->ns, pod->name);
		ps->ep_id = pw_hint_alloc(c, PW_HINT_POD, key, 1, ep_id_used);
		free(key);
		c->npods++;
	}
	ps->pod = pod;
	ps->identity = identity;
	ps->ver = ++c->clock;
	ps->cidr_at = 0;
	return ns_touch(c, pod->ns);
}

static int apply_namespace(struct pw_cluster *c, struct pw_namespace *nsp)
{
	struct pw_namespace **v;
	int i;

	for (i = 0; i < c->nnss; i++) {
		if (!strcmp(c->nss[i]->name, nsp->name) &&
		    pw_namespace_equal(c->nss[i], nsp)) {
			pw_namespace_free(nsp);
			return 0;
		}
		if (!strcmp(c->nss[i]->name, nsp->name)) {
			pw_namespace_free(c->nss[i]);
			c->nss[i] = nsp;
			goto rebuild;
		}
	}
	v = realloc(c->nss, (c->nnss + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->nss = v;
	v[c->nnss++] = nsp;
rebuild:
	for (i = 0; i < c->nnps; i++) {
		int err = np_rebuild(c, &c->nps[i], has_ns_sel);

		if (err)
			return err;
	}
	return 0;
}

int pw_cluster_apply(struct pw_cluster *c, struct pw_objects *objs)
{
	int i, err = 0;

	for (i = 0; i < objs->n; i++) {
		struct pw_object *o = &objs->v[i];

		if (err) {
			pw_object_free(o); /* not taken: still ours */
			continue;
		}
		switch (o->kind) {
		case PW_KIND_NAMESPACE:
			err = apply_namespace(c, o->ns);
			break;
		case PW_KIND_POD:
			err = apply_pod(c, o->pod);
			break;
		case PW_KIND_NETPOL:
			err = apply_netpol(c, o->np);
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
	bool changed = false;
	int i, err;

	switch (kind) {
	case PW_KIND_NAMESPACE:
		for (i = 0; i < c->nnss; i++) {
			if (strcmp(c->nss[i]->name, name))
				continue;
			pw_namespace_free(c->nss[i]);
			c->nss[i] = c->nss[--c->nnss];
			for (i = 0; i < c->nnps; i++) {
				err = np_rebuild(c, &c->nps[i], has_ns_sel);
				if (err)
					return err;
			}
			return 0;
		}
		break;
	case PW_KIND_POD:
		for (i = 0; i < c->npods; i++) {
			struct pod_slot *ps = &c->pods[i];

			if (strcmp(ps->pod->ns, ns) ||
			    strcmp(ps->pod->name, name))
				continue;
			ident_unref(c, ps->identity);
			err = ns_touch(c, ns);
			pod_slot_free(ps);
			c->pods[i] = c->pods[--c->npods];
			return err;
		}
		break;
	case PW_KIND_NETPOL:
		for (i = 0; i < c->nnps; i++) {
			struct np_slot *s = &c->nps[i];

			if (strcmp(s->np->ns, ns) || strcmp(s->np->name, name))
				continue;
			err = np_cidrs(c, s->np, -1, &changed);
			np_slot_free(s);
			c->nps[i] = c->nps[--c->nnps];
			if (!err && changed)
				err = cidrs_changed(c);
			return err;
		}
		break;
	}
	return -ENOENT;
}

int pw_cluster_forget(struct pw_cluster *c)
{
	int i, err;

	for (i = 0; i < c->nnps; i++) {
		c->nps[i].targets_at = 0;
		err = np_rebuild(c, &c->nps[i], NULL);
		if (err)
			return err;
	}
	for (i = 0; i < c->npods; i++) {
		c->pods[i].cached = false;
		c->pods[i].cidr_at = 0;
	}
	return 0;
}
