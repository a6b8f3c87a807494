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

__u64 pw_hash_bytes(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

__u64 pw_hash_str(__u64 h, const char *s)
{
	return pw_hash_bytes(h, s, strlen(s) + 1);
}

static __u32 hidx_h(__u64 hash)
{
	return (__u32)(hash ^ hash >> 32);
}

int pw_hidx_find(const struct pw_hidx *h, __u64 hash,
		 bool (*eq)(const void *ctx, __u32 pos), const void *ctx)
{
	__u32 x = hidx_h(hash), m = h->cap - 1, i;

	if (!h->cap)
		return -1;
	for (i = x & m; h->pos[i]; i = (i + 1) & m)
		if (h->hash[i] == x && eq(ctx, h->pos[i] - 1))
			return h->pos[i] - 1;
	return -1;
}

static void hidx_put(struct pw_hidx *h, __u32 x, __u32 pos)
{
	__u32 m = h->cap - 1, i;

	for (i = x & m; h->pos[i]; i = (i + 1) & m)
		;
	h->hash[i] = x;
	h->pos[i] = pos + 1;
	h->n++;
}

int pw_hidx_reserve(struct pw_hidx *h, __u32 n)
{
	struct pw_hidx g = {.cap = h->cap ? h->cap : 16};
	__u32 i;

	if ((__u64)n * 2 <= h->cap)
		return 0;
	while ((__u64)n * 2 > g.cap)
		g.cap *= 2;
	g.hash = malloc(g.cap * sizeof(*g.hash));
	g.pos = calloc(g.cap, sizeof(*g.pos));
	if (!g.hash || !g.pos) {
		free(g.hash);
		free(g.pos);
		return -ENOMEM;
	}
	for (i = 0; i < h->cap; i++)
		if (h->pos[i])
			hidx_put(&g, h->hash[i], h->pos[i] - 1);
	pw_hidx_free(h);
	*h = g;
	return 0;
}

int pw_hidx_add(struct pw_hidx *h, __u64 hash, __u32 pos)
{
	if (pw_hidx_reserve(h, h->n + 1))
		return -ENOMEM;
	hidx_put(h, hidx_h(hash), pos);
	return 0;
}

/* The slot holding @pos under @hash, or -1. */
static long hidx_slot(const struct pw_hidx *h, __u64 hash, __u32 pos)
{
	__u32 x = hidx_h(hash), m = h->cap - 1, i;

	for (i = x & m; h->cap && h->pos[i]; i = (i + 1) & m)
		if (h->hash[i] == x && h->pos[i] == pos + 1)
			return i;
	return -1;
}

void pw_hidx_del(struct pw_hidx *h, __u64 hash, __u32 pos)
{
	long s = hidx_slot(h, hash, pos);
	__u32 m = h->cap - 1, i, j, k;

	if (s < 0)
		return;
	i = s;
	/* backward shift: no tombstones */
	for (j = (i + 1) & m; h->pos[j]; j = (j + 1) & m) {
		k = h->hash[j] & m;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && k <= i && k > j)) {
			h->hash[i] = h->hash[j];
			h->pos[i] = h->pos[j];
			i = j;
		}
	}
	h->pos[i] = 0;
	h->n--;
}

void pw_hidx_move(struct pw_hidx *h, __u64 hash, __u32 from, __u32 to)
{
	long s = hidx_slot(h, hash, from);

	if (s >= 0)
		h->pos[s] = to + 1;
}

void pw_hidx_free(struct pw_hidx *h)
{
	free(h->hash);
	free(h->pos);
	memset(h, 0, sizeof(*h));
}

/* The keys of each index, and their tests. */
static __u64 name_hash(const char *ns, const char *name)
{
	return pw_hash_str(pw_hash_str(PW_HASH_SEED, ns), name);
}

struct name_q {
	const struct pw_cluster *c;
	const char *ns, *name;
};

static bool pod_eq(const void *ctx, __u32 pos)
{
	const struct name_q *q = ctx;
	const struct pw_pod *p = q->c->pods[pos].pod;

	return !strcmp(p->ns, q->ns) && !strcmp(p->name, q->name);
}

static bool np_eq(const void *ctx, __u32 pos)
{
	const struct name_q *q = ctx;
	const struct pw_netpol *p = q->c->nps[pos].np;

	return !strcmp(p->ns, q->ns) && !strcmp(p->name, q->name);
}

static bool nsobj_eq(const void *ctx, __u32 pos)
{
	const struct name_q *q = ctx;

	return !strcmp(q->c->nss[pos]->name, q->name);
}

static bool gen_eq(const void *ctx, __u32 pos)
{
	const struct name_q *q = ctx;

	return !strcmp(q->c->gens[pos].name, q->name);
}

int pw_pod_index(const struct pw_cluster *c, const char *ns, const char *name)
{
	struct name_q q = {c, ns, name};

	return pw_hidx_find(&c->pod_idx, name_hash(ns, name), pod_eq, &q);
}

static int np_find(const struct pw_cluster *c, const char *ns, const char *name)
{
	struct name_q q = {c, ns, name};

	return pw_hidx_find(&c->np_idx, name_hash(ns, name), np_eq, &q);
}

int pw_ns_index(const struct pw_cluster *c, const char *name)
{
	struct name_q q = {c, NULL, name};

	return pw_hidx_find(&c->ns_idx, pw_hash_str(PW_HASH_SEED, name),
			    nsobj_eq, &q);
}

static int gen_find(const struct pw_cluster *c, const char *name)
{
	struct name_q q = {c, NULL, name};

	return pw_hidx_find(&c->gen_idx, pw_hash_str(PW_HASH_SEED, name),
			    gen_eq, &q);
}

static __u64 num_hash(__u32 id)
{
	return pw_hash_bytes(PW_HASH_SEED, &id, sizeof(id));
}

struct num_q {
	const struct pw_cluster *c;
	__u32 id;
};

static bool slot_eq(const void *ctx, __u32 pos)
{
	const struct num_q *q = ctx;

	return q->c->nps[pos].slot == q->id;
}

static bool idnum_eq(const void *ctx, __u32 pos)
{
	const struct num_q *q = ctx;

	return q->c->ids[pos].id == q->id;
}

static int ident_find_id(const struct pw_cluster *c, __u32 id)
{
	struct num_q q = {c, id};

	return pw_hidx_find(&c->idnum_idx, num_hash(id), idnum_eq, &q);
}

const struct np_slot *pw_np_by_slot(const struct pw_cluster *c, __u32 slot)
{
	struct num_q q = {c, slot};
	int i = pw_hidx_find(&c->slot_idx, num_hash(slot), slot_eq, &q);

	return i < 0 ? NULL : &c->nps[i];
}

static __u64 cidr_hash(const struct pw_cidr *p)
{
	return pw_hash_bytes(pw_hash_bytes(PW_HASH_SEED, p->addr, 16), &p->plen,
			     sizeof(p->plen));
}

struct cidr_q {
	const struct pw_cluster *c;
	const struct pw_cidr *cidr;
};

static bool cidr_eq(const void *ctx, __u32 pos)
{
	const struct cidr_q *q = ctx;
	const struct pw_cidr *a = &q->c->cids[pos].cidr;

	return a->plen == q->cidr->plen && !memcmp(a->addr, q->cidr->addr, 16);
}

static int cidr_find(const struct pw_cluster *c, const struct pw_cidr *cidr)
{
	struct cidr_q q = {c, cidr};

	return pw_hidx_find(&c->cidr_idx, cidr_hash(cidr), cidr_eq, &q);
}

static __u64 ident_hash(const char *ns, const struct pw_labels *l,
			const struct pw_cport *ports, int nports)
{
	__u64 h = pw_hash_str(PW_HASH_SEED, ns);
	int i;

	for (i = 0; i < l->n; i++)
		h = pw_hash_str(pw_hash_str(h, l->v[i].key), l->v[i].value);
	h = pw_hash_bytes(h, "|", 1);
	for (i = 0; i < nports; i++) {
		h = pw_hash_str(h, ports[i].name);
		h = pw_hash_bytes(h, &ports[i].proto, sizeof(ports[i].proto));
		h = pw_hash_bytes(h, &ports[i].port, sizeof(ports[i].port));
	}
	return h;
}

static __u64 ident_hash_of(const struct ident *id)
{
	return ident_hash(id->ns, &id->labels, id->ports, id->nports);
}

/* Groups by namespace: created on first use, kept until the cluster
 * goes. */
struct grp_q {
	const struct pw_groups *gs;
	const char *ns;
};

static bool grp_eq(const void *ctx, __u32 pos)
{
	const struct grp_q *q = ctx;

	return !strcmp(q->gs->v[pos].ns, q->ns);
}

static int group_find(const struct pw_groups *gs, const char *ns)
{
	struct grp_q q = {gs, ns};

	return pw_hidx_find(&gs->idx, pw_hash_str(PW_HASH_SEED, ns), grp_eq,
			    &q);
}

static int group_get(struct pw_groups *gs, const char *ns)
{
	struct pw_group *v;
	int i = group_find(gs, ns);

	if (i >= 0)
		return i;
	if (pw_hidx_reserve(&gs->idx, gs->n + 1))
		return -ENOMEM;
	v = realloc(gs->v, (gs->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	gs->v = v;
	memset(&v[gs->n], 0, sizeof(v[gs->n]));
	v[gs->n].ns = strdup(ns);
	if (!v[gs->n].ns)
		return -ENOMEM;
	pw_hidx_add(&gs->idx, pw_hash_str(PW_HASH_SEED, ns), gs->n);
	return gs->n++;
}

/* Room for one more member, so that group_push cannot fail. */
static int group_room(struct pw_group *g)
{
	if (g->n == g->cap) {
		int cap = g->cap ? g->cap * 2 : 8;
		__u32 *m = realloc(g->m, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		g->m = m;
		g->cap = cap;
	}
	return 0;
}

static int group_push(struct pw_group *g, __u32 member)
{
	g->m[g->n] = member;
	return g->n++;
}

/* Remove the member at @pos; returns the member moved into @pos, or -1. */
static long group_remove(struct pw_group *g, int pos)
{
	if (pos < 0 || pos >= g->n)
		return -1;
	g->m[pos] = g->m[--g->n];
	return pos < g->n ? (long)g->m[pos] : -1;
}

static void groups_free(struct pw_groups *gs)
{
	int i;

	for (i = 0; i < gs->n; i++) {
		free(gs->v[i].ns);
		free(gs->v[i].m);
		free(gs->v[i].cand);
	}
	free(gs->v);
	pw_hidx_free(&gs->idx);
}

static int u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/* Sort @v and drop duplicates; the new count. */
static int sort_unique(__u32 *v, int n)
{
	int i, j;

	if (n > 1)
		qsort(v, n, sizeof(*v), u32_cmp);
	for (i = 0, j = 0; i < n; i++)
		if (!j || v[j - 1] != v[i])
			v[j++] = v[i];
	return j;
}

/* Append @n members to the growing array *v. */
static int cand_add(__u32 **v, int *nv, int *cap, const __u32 *m, int n)
{
	if (*nv + n > *cap) {
		int nc = *cap ? *cap : 16;
		__u32 *w;

		while (nc < *nv + n)
			nc *= 2;
		w = realloc(*v, nc * sizeof(*w));
		if (!w)
			return -ENOMEM;
		*v = w;
		*cap = nc;
	}
	if (n)
		memcpy(*v + *nv, m, n * sizeof(*m));
	*nv += n;
	return 0;
}

int pw_group_sorted(const struct pw_groups *gs, const char *ns, __u32 **out)
{
	int i = group_find(gs, ns), n = 0, cap = 0;

	*out = NULL;
	if (i < 0)
		return 0;
	if (cand_add(out, &n, &cap, gs->v[i].m, gs->v[i].n))
		return -ENOMEM;
	return sort_unique(*out, n);
}

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
	free(c->node);
	pw_cluster_hints_clear(c);
	pw_idmaps_free(c);
	pw_hidx_free(&c->pod_idx);
	pw_hidx_free(&c->np_idx);
	pw_hidx_free(&c->slot_idx);
	pw_hidx_free(&c->ident_idx);
	pw_hidx_free(&c->idnum_idx);
	pw_hidx_free(&c->cidr_idx);
	pw_hidx_free(&c->ns_idx);
	pw_hidx_free(&c->gen_idx);
	groups_free(&c->pod_grp);
	groups_free(&c->ident_grp);
	groups_free(&c->np_grp);
	free(c->np_global.m);
	free(c);
}

const struct ident *pw_ident_get(const struct pw_cluster *c, __u32 id)
{
	int i = ident_find_id(c, id);

	return i < 0 ? NULL : &c->ids[i];
}

__u64 pw_ns_at(const struct pw_cluster *c, const char *ns)
{
	int i = gen_find(c, ns);

	return i < 0 ? 0 : c->gens[i].at;
}

static int ns_touch(struct pw_cluster *c, const char *ns)
{
	struct ns_gen *v;
	int i = gen_find(c, ns);

	if (i >= 0) {
		c->gens[i].at = ++c->clock;
		return 0;
	}
	if (pw_hidx_reserve(&c->gen_idx, c->ngens + 1))
		return -ENOMEM;
	v = realloc(c->gens, (c->ngens + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->gens = v;
	v[c->ngens].name = strdup(ns);
	if (!v[c->ngens].name)
		return -ENOMEM;
	pw_hidx_add(&c->gen_idx, pw_hash_str(PW_HASH_SEED, ns), c->ngens);
	v[c->ngens++].at = ++c->clock;
	return 0;
}

/* The namespace's labels; one that has no object gets only the label the
 * API server would give it. */
const struct pw_labels *pw_ns_labels(const struct pw_cluster *c, const char *ns,
				     struct pw_labels *scratch,
				     struct pw_label *one)
{
	int i = pw_ns_index(c, ns);

	if (i >= 0)
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

/* Add @id unless it is among (*ids)[from..]: the caller knows the ones
 * before cannot be it. */
static int ids_add_from(__u32 **ids, int *n, int *cap, __u32 id, int from)
{
	int i;

	for (i = from; i < *n; i++)
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

/* Add @id, known not to be in the list. */
static int ids_push(__u32 **ids, int *n, int *cap, __u32 id)
{
	return ids_add_from(ids, n, cap, id, *n);
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
	struct pw_cidr p = {.plen = 128};
	int i;

	memcpy(p.addr, addr, 16);
	i = cidr_find(c, &p);
	return i < 0 ? 0 : c->cids[i].id;
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

/* The positions in c->ids of the identities a peer of @r (which has some)
 * can admit: of @np's namespace for a podSelector alone, of the matching
 * namespaces for a namespaceSelector. Ascending, in a new array *out; their
 * number or -ENOMEM. */
static int rule_cands(const struct pw_cluster *c, const struct pw_netpol *np,
		      const struct pw_rule *r, __u32 **out)
{
	const struct pw_groups *gs = &c->ident_grp;
	int p, g, n = 0, cap = 0, err = 0;
	bool own = false;

	*out = NULL;
	for (p = 0; !err && p < r->npeers; p++) {
		const struct pw_peer *peer = &r->peers[p];

		if (peer->ipblock)
			continue;
		if (!peer->ns_sel) {
			own = true;
			continue;
		}
		for (g = 0; !err && g < gs->n; g++) {
			struct pw_labels scratch;
			struct pw_label one;

			if (gs->v[g].n &&
			    pw_selector_matches(peer->ns_sel,
						pw_ns_labels(c, gs->v[g].ns,
							     &scratch, &one)))
				err = cand_add(out, &n, &cap, gs->v[g].m,
					       gs->v[g].n);
		}
	}
	if (!err && own && (g = group_find(gs, np->ns)) >= 0)
		err = cand_add(out, &n, &cap, gs->v[g].m, gs->v[g].n);
	if (err) {
		free(*out);
		*out = NULL;
		return err;
	}
	return sort_unique(*out, n);
}

/* The identities rule @r admits, from scratch. */
static int cache_build(const struct pw_cluster *c, const struct pw_netpol *np,
		       const struct pw_rule *r, bool egress,
		       struct rule_cache *rc)
{
	bool named = egress && rule_has_named_port(r);
	__u32 *cand = NULL;
	int i, k, err, ncand, nident;

	memset(rc, 0, sizeof(*rc));
	rc->any = !r->npeers;
	rc->volatile_ = named && rule_has_ipblock(r);
	/* the identities a peer can see, in the order of c->ids; each id
	 * once, so no list needs searching for it */
	ncand = r->npeers ? rule_cands(c, np, r, &cand) : named ? c->nids : 0;
	if (ncand < 0)
		return ncand;
	for (k = 0; k < ncand; k++) {
		const struct ident *id = &c->ids[cand ? cand[k] : (__u32)k];

		if (!rc->any && rule_admits_ident(c, np, r, id)) {
			err = ids_push(&rc->ids, &rc->n, &rc->cap, id->id);
			if (err < 0)
				goto fail;
		}
		if (named && rule_admits_pod_ident(c, np, r, id)) {
			err = ids_push(&rc->pod_ids, &rc->npod, &rc->cappod,
				       id->id);
			if (err < 0)
				goto fail;
		}
	}
	free(cand);
	/* CIDR ids are >= PW_ID_CIDR_BASE: only an identity as high can be
	 * one of them */
	nident = c->nids_high ? 0 : rc->n;
	/* ipBlock: the CIDR identities whose regions lie inside the block */
	for (i = 0; i < r->npeers; i++) {
		const struct pw_ipblock *b = r->peers[i].ipblock;

		for (k = 0; b && k < c->ncids; k++) {
			if (!pw_in_ipblock(b, c->cids[k].cidr.addr,
					   c->cids[k].cidr.plen))
				continue;
			err = ids_add_from(&rc->ids, &rc->n, &rc->cap,
					   c->cids[k].id, nident);
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
fail:
	free(cand);
	return err;
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
/* Can a policy that looks into other namespaces (np_is_global) admit an
 * identity of @ns? Either way when in doubt: the callers test each rule. */
static bool np_sees_ns(const struct pw_cluster *c, const struct pw_netpol *np,
		       const char *ns)
{
	struct pw_labels scratch;
	const struct pw_labels *l = NULL;
	struct pw_label one;
	int d, i, p;

	for (d = 0; d < 2; d++) {
		const struct pw_rule *rules = d ? np->out : np->in;
		int n = d ? np->nout : np->nin;

		for (i = 0; i < n; i++) {
			if (d && !rules[i].npeers &&
			    rule_has_named_port(&rules[i]))
				return true;
			for (p = 0; p < rules[i].npeers; p++) {
				const struct pw_peer *peer = &rules[i].peers[p];

				if (!peer->ns_sel || peer->ipblock)
					continue;
				if (!l)
					l = pw_ns_labels(c, ns, &scratch, &one);
				if (pw_selector_matches(peer->ns_sel, l))
					return true;
			}
		}
	}
	return false;
}

/* The policies that can admit an identity of @ns, ascending: its
 * namespace's, and those of np_global that can see it. Cached per
 * namespace until np_gen moves; *out is the cache's. Their number, or
 * -ENOMEM. */
static int np_cands(struct pw_cluster *c, const char *ns, const __u32 **out)
{
	struct pw_group *grp;
	int g = group_get(&c->np_grp, ns), n = 0, cap = 0, i, err = 0;
	__u32 *v = NULL;

	*out = NULL;
	if (g < 0)
		return g;
	grp = &c->np_grp.v[g];
	if (grp->cand_gen == c->np_gen + 1) {
		*out = grp->cand;
		return grp->ncand;
	}
	err = cand_add(&v, &n, &cap, grp->m, grp->n);
	for (i = 0; !err && i < c->np_global.n; i++) {
		__u32 k = c->np_global.m[i];

		if (!strcmp(c->nps[k].np->ns, ns) ||
		    np_sees_ns(c, c->nps[k].np, ns))
			err = cand_add(&v, &n, &cap, &k, 1);
	}
	if (err) {
		free(v);
		return err;
	}
	free(grp->cand);
	grp->cand = v;
	grp->ncand = sort_unique(v, n);
	grp->cand_gen = c->np_gen + 1;
	*out = grp->cand;
	return grp->ncand;
}

static int on_ident_added(struct pw_cluster *c, const struct ident *id)
{
	const __u32 *cand;
	int ncand = np_cands(c, id->ns, &cand), ci, d, k, err;

	if (ncand < 0)
		return ncand;
	for (ci = 0; ci < ncand; ci++) {
		struct np_slot *ns = &c->nps[cand[ci]];
		bool changed = false;

		for (d = 0; d < 2; d++) {
			const struct pw_rule *rules =
				d ? ns->np->out : ns->np->in;
			struct rule_cache *rc = d ? ns->out : ns->in;
			int n = d ? ns->np->nout : ns->np->nin;

			for (k = 0; k < n; k++) {
				/* a new identity's id is in no list, unless
				 * it is as high as the CIDR ids */
				if (!rc[k].any &&
				    rule_admits_ident(c, ns->np, &rules[k],
						      id)) {
					err = ids_add_from(
						&rc[k].ids, &rc[k].n,
						&rc[k].cap, id->id,
						id->id >= PW_ID_CIDR_BASE
							? 0
							: rc[k].n);
					if (err < 0)
						goto out;
					changed = true;
				}
				if (d && rule_has_named_port(&rules[k]) &&
				    !rc[k].volatile_ &&
				    rule_admits_pod_ident(c, ns->np, &rules[k],
							  id)) {
					err = ids_push(&rc[k].pod_ids,
						       &rc[k].npod,
						       &rc[k].cappod, id->id);
					if (err < 0)
						goto out;
					changed = true;
				}
			}
		}
		if (changed)
			ns->ver = ++c->clock;
	}
	err = 0;
out:
	return err;
}

/* @cand: the @ncand policies that could have admitted it (np_cands); all
 * when @ncand < 0. */
static void on_ident_removed(struct pw_cluster *c, __u32 id, const __u32 *cand,
			     int ncand)
{
	int ci, n = ncand < 0 ? c->nnps : ncand, d, k;

	for (ci = 0; ci < n; ci++) {
		struct np_slot *ns = &c->nps[ncand < 0 ? (__u32)ci : cand[ci]];
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

struct ident_q {
	const struct pw_cluster *c;
	const struct pw_pod *pod;
	const struct pw_cport *ports;
	int nports;
};

static bool ident_eq(const void *ctx, __u32 pos)
{
	const struct ident_q *q = ctx;

	return ident_is(&q->c->ids[pos], q->pod, q->ports, q->nports);
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
	struct ident_q q;
	int i, n, err, g;
	__u64 hash;
	char *key;

	err = named_ports(pod, &ports, &n);
	if (err) {
		cports_free(ports, n);
		return err;
	}
	q.c = c;
	q.pod = pod;
	q.ports = ports;
	q.nports = n;
	hash = ident_hash(pod->ns, &pod->labels, ports, n);
	i = pw_hidx_find(&c->ident_idx, hash, ident_eq, &q);
	if (i >= 0) {
		c->ids[i].refs++;
		*out = c->ids[i].id;
		cports_free(ports, n);
		return 0;
	}
	g = group_get(&c->ident_grp, pod->ns);
	if (g < 0 || group_room(&c->ident_grp.v[g]) ||
	    pw_hidx_reserve(&c->ident_idx, c->nids + 1) ||
	    pw_hidx_reserve(&c->idnum_idx, c->nids + 1)) {
		cports_free(ports, n);
		return -ENOMEM;
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
	id->id = pw_hint_alloc(c, PW_HINT_IDENT, key);
	free(key);
	if (!id->id) {
		cports_free(ports, n);
		return -ENOMEM;
	}
	id->ns = strdup(pod->ns);
	id->ports = ports;
	id->nports = n;
	id->refs = 1;
	if (!id->ns || labels_copy(&id->labels, &pod->labels)) {
		ident_free(id);
		pw_id_release(c, PW_HINT_IDENT, id->id);
		return -ENOMEM;
	}
	pw_hidx_add(&c->ident_idx, hash, c->nids);
	pw_hidx_add(&c->idnum_idx, num_hash(id->id), c->nids);
	if (id->id >= PW_ID_CIDR_BASE)
		c->nids_high++;
	id->grp = g;
	id->gpos = group_push(&c->ident_grp.v[g], c->nids);
	c->nids++;
	*out = id->id;
	return on_ident_added(c, id);
}

static void ident_unref(struct pw_cluster *c, __u32 id)
{
	int i = ident_find_id(c, id), last, ncand;
	const __u32 *cand;
	long r;

	if (i < 0 || --c->ids[i].refs > 0)
		return;
	/* short of memory, every policy is looked at; so too for an id as
	 * high as the CIDR ids, which ipBlock caches anywhere may hold */
	cand = NULL;
	ncand = id >= PW_ID_CIDR_BASE ? -1 : np_cands(c, c->ids[i].ns, &cand);
	last = c->nids - 1;
	r = group_remove(&c->ident_grp.v[c->ids[i].grp], c->ids[i].gpos);
	if (r >= 0)
		c->ids[r].gpos = c->ids[i].gpos;
	if (i != last)
		c->ident_grp.v[c->ids[last].grp].m[c->ids[last].gpos] = i;
	pw_hidx_del(&c->ident_idx, ident_hash_of(&c->ids[i]), i);
	pw_hidx_del(&c->idnum_idx, num_hash(id), i);
	if (i != last) {
		pw_hidx_move(&c->ident_idx, ident_hash_of(&c->ids[last]), last,
			     i);
		pw_hidx_move(&c->idnum_idx, num_hash(c->ids[last].id), last, i);
	}
	if (id >= PW_ID_CIDR_BASE)
		c->nids_high--;
	pw_id_release(c, PW_HINT_IDENT, id);
	ident_free(&c->ids[i]);
	c->ids[i] = c->ids[--c->nids];
	on_ident_removed(c, id, cand, ncand);
}

/* Reference (+1) or release (-1) one prefix. Returns 1 if the set of
 * prefixes changed. */
static int cidr_ref(struct pw_cluster *c, const struct pw_cidr *cidr, int delta)
{
	struct cidr_ident *v;
	int i = cidr_find(c, cidr), last;
	char *key;

	if (i >= 0) {
		c->cids[i].refs += delta;
		if (c->cids[i].refs > 0)
			return 0;
		last = c->ncids - 1;
		pw_hidx_del(&c->cidr_idx, cidr_hash(&c->cids[i].cidr), i);
		if (i != last)
			pw_hidx_move(&c->cidr_idx,
				     cidr_hash(&c->cids[last].cidr), last, i);
		pw_id_release(c, PW_HINT_CIDR, c->cids[i].id);
		c->cids[i] = c->cids[--c->ncids];
		return 1;
	}
	if (delta < 0)
		return 0;
	if (pw_hidx_reserve(&c->cidr_idx, c->ncids + 1))
		return -ENOMEM;
	v = realloc(c->cids, (c->ncids + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->cids = v;
	key = pw_hint_key_cidr(cidr);
	v[c->ncids].cidr = *cidr;
	v[c->ncids].id = pw_hint_alloc(c, PW_HINT_CIDR, key);
	free(key);
	if (!v[c->ncids].id)
		return -ENOMEM;
	v[c->ncids].refs = 1;
	pw_hidx_add(&c->cidr_idx, cidr_hash(cidr), c->ncids);
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

/* Can a rule of @np admit an identity of another namespace? */
static bool np_is_global(const struct pw_netpol *np)
{
	int i;

	for (i = 0; i < np->nin; i++)
		if (rule_has_ns_sel(&np->in[i]))
			return true;
	for (i = 0; i < np->nout; i++)
		if (rule_has_ns_sel(&np->out[i]) ||
		    (!np->out[i].npeers && rule_has_named_port(&np->out[i])))
			return true;
	return false;
}

/* Room in np_global is the caller's. */
static void np_global_set(struct pw_cluster *c, int i,
			  const struct pw_netpol *np)
{
	struct np_slot *ns = &c->nps[i];
	bool g = np_is_global(np);
	long r;

	if (g && ns->glpos < 0) {
		ns->glpos = group_push(&c->np_global, i);
	} else if (!g && ns->glpos >= 0) {
		r = group_remove(&c->np_global, ns->glpos);
		if (r >= 0)
			c->nps[r].glpos = ns->glpos;
		ns->glpos = -1;
	}
}

static int apply_netpol(struct pw_cluster *c, struct pw_netpol *np)
{
	bool changed = false;
	struct np_slot *ns = NULL;
	char *key;
	int i, err, g;

	if (np->nin > PW_RULE_INDEX_MAX || np->nout > PW_RULE_INDEX_MAX)
		return -E2BIG;
	i = np_find(c, np->ns, np->name);
	if (i >= 0)
		ns = &c->nps[i];
	if (ns && pw_netpol_equal(ns->np, np)) {
		pw_netpol_free(np);
		return 0;
	}
	c->np_gen++;
	if (group_room(&c->np_global))
		return -ENOMEM;
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
		g = group_get(&c->np_grp, np->ns);
		if (g < 0 || group_room(&c->np_grp.v[g]) ||
		    pw_hidx_reserve(&c->np_idx, c->nnps + 1) ||
		    pw_hidx_reserve(&c->slot_idx, c->nnps + 1))
			return -ENOMEM;
		ns = realloc(c->nps, (c->nnps + 1) * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		c->nps = ns;
		ns = &c->nps[c->nnps];
		key = pw_hint_key_name(np->ns, np->name);
		ns->slot = pw_hint_alloc(c, PW_HINT_POLICY, key);
		free(key);
		if (!ns->slot)
			return -ENOMEM;
		pw_hidx_add(&c->np_idx, name_hash(np->ns, np->name), c->nnps);
		pw_hidx_add(&c->slot_idx, num_hash(ns->slot), c->nnps);
		ns->grp = g;
		ns->gpos = group_push(&c->np_grp.v[g], c->nnps);
		ns->glpos = -1;
		c->nnps++;
	}
	np_global_set(c, ns - c->nps, np);
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
	int i, err, g;

	i = pw_pod_index(c, pod->ns, pod->name);
	if (i >= 0)
		ps = &c->pods[i];
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
		g = group_get(&c->pod_grp, pod->ns);
		if (g < 0 || group_room(&c->pod_grp.v[g]) ||
		    pw_hidx_reserve(&c->pod_idx, c->npods + 1))
			return -ENOMEM;
		ps = realloc(c->pods, (c->npods + 1) * sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		c->pods = ps;
		ps = &c->pods[c->npods];
		memset(ps, 0, sizeof(*ps));
		key = pw_hint_key_name(pod->ns, pod->name);
		ps->ep_id = pw_hint_alloc(c, PW_HINT_POD, key);
		free(key);
		if (!ps->ep_id)
			return -ENOMEM;
		pw_hidx_add(&c->pod_idx, name_hash(pod->ns, pod->name),
			    c->npods);
		ps->grp = g;
		ps->gpos = group_push(&c->pod_grp.v[g], c->npods);
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
	int i = pw_ns_index(c, nsp->name);

	if (i >= 0 && pw_namespace_equal(c->nss[i], nsp)) {
		pw_namespace_free(nsp);
		return 0;
	}
	c->np_gen++;
	if (i >= 0) {
		pw_namespace_free(c->nss[i]);
		c->nss[i] = nsp;
		goto rebuild;
	}
	if (pw_hidx_reserve(&c->ns_idx, c->nnss + 1))
		return -ENOMEM;
	v = realloc(c->nss, (c->nnss + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->nss = v;
	pw_hidx_add(&c->ns_idx, pw_hash_str(PW_HASH_SEED, nsp->name), c->nnss);
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
	int i, err, last;
	long r;

	switch (kind) {
	case PW_KIND_NAMESPACE:
		i = pw_ns_index(c, name);
		if (i < 0)
			break;
		c->np_gen++;
		last = c->nnss - 1;
		pw_hidx_del(&c->ns_idx, pw_hash_str(PW_HASH_SEED, name), i);
		if (i != last)
			pw_hidx_move(
				&c->ns_idx,
				pw_hash_str(PW_HASH_SEED, c->nss[last]->name),
				last, i);
		pw_namespace_free(c->nss[i]);
		c->nss[i] = c->nss[--c->nnss];
		for (i = 0; i < c->nnps; i++) {
			err = np_rebuild(c, &c->nps[i], has_ns_sel);
			if (err)
				return err;
		}
		return 0;
	case PW_KIND_POD: {
		struct pod_slot *ps;

		i = ns ? pw_pod_index(c, ns, name) : -1;
		if (i < 0)
			break;
		ps = &c->pods[i];
		last = c->npods - 1;
		r = group_remove(&c->pod_grp.v[ps->grp], ps->gpos);
		if (r >= 0)
			c->pods[r].gpos = ps->gpos;
		if (i != last)
			c->pod_grp.v[c->pods[last].grp].m[c->pods[last].gpos] =
				i;
		pw_hidx_del(&c->pod_idx, name_hash(ns, name), i);
		if (i != last)
			pw_hidx_move(&c->pod_idx,
				     name_hash(c->pods[last].pod->ns,
					       c->pods[last].pod->name),
				     last, i);
		ident_unref(c, ps->identity);
		err = ns_touch(c, ns);
		pw_id_release(c, PW_HINT_POD, ps->ep_id);
		pod_slot_free(ps);
		c->pods[i] = c->pods[--c->npods];
		return err;
	}
	case PW_KIND_NETPOL: {
		struct np_slot *s;

		i = ns ? np_find(c, ns, name) : -1;
		if (i < 0)
			break;
		c->np_gen++;
		s = &c->nps[i];
		last = c->nnps - 1;
		r = group_remove(&c->np_grp.v[s->grp], s->gpos);
		if (r >= 0)
			c->nps[r].gpos = s->gpos;
		if (s->glpos >= 0) {
			r = group_remove(&c->np_global, s->glpos);
			if (r >= 0)
				c->nps[r].glpos = s->glpos;
		}
		if (i != last) {
			struct np_slot *l = &c->nps[last];

			c->np_grp.v[l->grp].m[l->gpos] = i;
			if (l->glpos >= 0)
				c->np_global.m[l->glpos] = i;
		}
		pw_hidx_del(&c->np_idx, name_hash(ns, name), i);
		pw_hidx_del(&c->slot_idx, num_hash(s->slot), i);
		if (i != last) {
			pw_hidx_move(&c->np_idx,
				     name_hash(c->nps[last].np->ns,
					       c->nps[last].np->name),
				     last, i);
			pw_hidx_move(&c->slot_idx, num_hash(c->nps[last].slot),
				     last, i);
		}
		err = np_cidrs(c, s->np, -1, &changed);
		pw_id_release(c, PW_HINT_POLICY, s->slot);
		np_slot_free(s);
		c->nps[i] = c->nps[--c->nnps];
		if (!err && changed)
			err = cidrs_changed(c);
		return err;
	}
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

int pw_cluster_set_node(struct pw_cluster *c, const __u8 (*addrs)[16], int n)
{
	__u8(*v)[16] = NULL;

	if (n == c->nnode && (!n || !memcmp(c->node, addrs, n * 16)))
		return 0;
	if (n) {
		v = malloc(n * 16);
		if (!v)
			return -ENOMEM;
		memcpy(v, addrs, n * 16);
	}
	free(c->node);
	c->node = v;
	c->nnode = n;
	c->clock++;
	return 0;
}
