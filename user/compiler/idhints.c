// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Id hints: the ids an earlier run gave to pods, policies, identities and
 * CIDRs, so that a restarted agent gives each object the same id again and
 * its first sync writes nothing. Without them ids would follow the order
 * in which objects arrive, and a restart would renumber the maps under
 * live traffic. Keys are canonical strings: label keys and values, names
 * and port names cannot hold the separators used here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "cluster.h"

static const char *const kind_names[PW_HINT__MAX] = {
	[PW_HINT_POD] = "pods",
	[PW_HINT_POLICY] = "policies",
	[PW_HINT_IDENT] = "identities",
	[PW_HINT_CIDR] = "cidrs",
};

char *pw_hint_key_name(const char *ns, const char *name)
{
	char *s;

	return asprintf(&s, "%s/%s", ns, name) < 0 ? NULL : s;
}

char *pw_hint_key_ident(const char *ns, const struct pw_labels *l,
			const struct pw_cport *ports, int nports)
{
	size_t len;
	char *s;
	FILE *f = open_memstream(&s, &len);
	int i;

	if (!f)
		return NULL;
	fprintf(f, "%s|", ns);
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", l->v[i].key, l->v[i].value);
	fputc('|', f);
	for (i = 0; i < nports; i++)
		fprintf(f, "%s%s/%u/%u", i ? "," : "", ports[i].name,
			ports[i].proto, ports[i].port);
	if (fclose(f))
		return NULL;
	return s;
}

char *pw_hint_key_cidr(const struct pw_cidr *c)
{
	char buf[64], *s;

	pw_addr_str(c->addr, buf, sizeof(buf));
	return asprintf(&s, "%s/%u", buf, c->plen) < 0 ? NULL : s;
}

static const __u32 kind_base[PW_HINT__MAX] = {
	[PW_HINT_POD] = 1,
	[PW_HINT_POLICY] = 1,
	[PW_HINT_IDENT] = PW_ID_FIRST_USER,
	[PW_HINT_CIDR] = PW_ID_CIDR_BASE,
};

/* Ids up to this far above the base are in the bitmaps (4 Mi ids, 512 KiB
 * a bitmap at most); hinted ids beyond, in a hash set. */
#define DENSE_WORDS (1U << 16)

static __u32 id_hash(__u32 id)
{
	return id * 0x9e3779b1U;
}

static bool idset_has(const struct pw_idset *s, __u32 id)
{
	__u32 i;

	if (!s->cap)
		return false;
	for (i = id_hash(id) & (s->cap - 1); s->v[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->v[i] == id)
			return true;
	return false;
}

static int idset_add(struct pw_idset *s, __u32 id)
{
	__u32 i;

	if (idset_has(s, id))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		struct pw_idset g = {.cap = s->cap ? s->cap * 2 : 16};

		g.v = calloc(g.cap, sizeof(*g.v));
		if (!g.v)
			return -ENOMEM;
		for (i = 0; i < s->cap; i++)
			if (s->v[i])
				idset_add(&g, s->v[i]);
		free(s->v);
		*s = g;
	}
	for (i = id_hash(id) & (s->cap - 1); s->v[i];
	     i = (i + 1) & (s->cap - 1))
		;
	s->v[i] = id;
	s->n++;
	return 0;
}

static void idset_del(struct pw_idset *s, __u32 id)
{
	__u32 m = s->cap - 1, i, j, k;

	if (!idset_has(s, id))
		return;
	for (i = id_hash(id) & m; s->v[i] != id; i = (i + 1) & m)
		;
	/* backward shift: no tombstones */
	for (j = (i + 1) & m; s->v[j]; j = (j + 1) & m) {
		k = id_hash(s->v[j]) & m;
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && k <= i && k > j)) {
			s->v[i] = s->v[j];
			i = j;
		}
	}
	s->v[i] = 0;
	s->n--;
}

static bool idmap_bit(const __u64 *v, __u32 nwords, __u64 off)
{
	return off / 64 < nwords && (v[off / 64] >> (off % 64) & 1);
}

static int idmap_grow(struct pw_idmap *m, __u32 words)
{
	__u64 *u, *r;
	__u32 n = m->nwords ? m->nwords : 16;

	if (words <= m->nwords)
		return 0;
	while (n < words)
		n *= 2;
	if (n > DENSE_WORDS)
		n = DENSE_WORDS;
	u = realloc(m->used, n * sizeof(*u));
	if (!u)
		return -ENOMEM;
	m->used = u;
	r = realloc(m->resv, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	m->resv = r;
	memset(u + m->nwords, 0, (n - m->nwords) * sizeof(*u));
	memset(r + m->nwords, 0, (n - m->nwords) * sizeof(*r));
	m->nwords = n;
	return 0;
}

/* Set @id's bit in used (@resv false) or resv. */
static int idmap_set(struct pw_cluster *c, int kind, __u32 id, bool resv)
{
	struct pw_idmap *m = &c->idmap[kind];
	__u64 off;

	if (id < kind_base[kind])
		return 0; /* never a candidate */
	off = (__u64)id - kind_base[kind];
	if (off >= (__u64)DENSE_WORDS * 64)
		return idset_add(resv ? &m->far_resv : &m->far_used, id);
	if (idmap_grow(m, off / 64 + 1))
		return -ENOMEM;
	(resv ? m->resv : m->used)[off / 64] |= 1ULL << (off % 64);
	return 0;
}

static bool id_used(const struct pw_cluster *c, int kind, __u32 id)
{
	const struct pw_idmap *m = &c->idmap[kind];
	__u64 off;

	if (id < kind_base[kind])
		return false;
	off = (__u64)id - kind_base[kind];
	if (off >= (__u64)DENSE_WORDS * 64)
		return idset_has(&m->far_used, id);
	return idmap_bit(m->used, m->nwords, off);
}

static bool id_taken(const struct pw_cluster *c, int kind, __u32 id)
{
	const struct pw_idmap *m = &c->idmap[kind];
	__u64 off = (__u64)id - kind_base[kind];

	if (off >= (__u64)DENSE_WORDS * 64)
		return idset_has(&m->far_used, id) ||
		       idset_has(&m->far_resv, id);
	return idmap_bit(m->used, m->nwords, off) ||
	       idmap_bit(m->resv, m->nwords, off);
}

void pw_id_release(struct pw_cluster *c, int kind, __u32 id)
{
	struct pw_idmap *m = &c->idmap[kind];
	__u64 off;

	if (id < kind_base[kind])
		return;
	off = (__u64)id - kind_base[kind];
	if (off >= (__u64)DENSE_WORDS * 64) {
		idset_del(&m->far_used, id);
		return;
	}
	if (off / 64 < m->nwords) {
		m->used[off / 64] &= ~(1ULL << (off % 64));
		if (off / 64 < m->low)
			m->low = off / 64;
	}
}

void pw_idmaps_free(struct pw_cluster *c)
{
	int k;

	for (k = 0; k < PW_HINT__MAX; k++) {
		free(c->idmap[k].used);
		free(c->idmap[k].resv);
		free(c->idmap[k].far_used.v);
		free(c->idmap[k].far_resv.v);
		memset(&c->idmap[k], 0, sizeof(c->idmap[k]));
	}
}

struct hint_q {
	const struct pw_id_hints *h;
	const char *key;
};

static bool hint_eq(const void *ctx, __u32 pos)
{
	const struct hint_q *q = ctx;

	return !strcmp(q->h->v[pos].key, q->key);
}

static const struct pw_id_hint *hint_find(const struct pw_cluster *c, int kind,
					  const char *key)
{
	struct hint_q q = {&c->hints[kind], key};
	int i;

	if (!key)
		return NULL;
	i = pw_hidx_find(&c->hint_idx[kind], pw_hash_str(PW_HASH_SEED, key),
			 hint_eq, &q);
	return i < 0 ? NULL : &c->hints[kind].v[i];
}

/* The smallest id >= the base that is neither used nor hinted. */
static __u32 first_free(struct pw_cluster *c, int kind)
{
	struct pw_idmap *m = &c->idmap[kind];
	__u32 i, id;

	for (i = m->low; i < m->nwords; i++) {
		__u64 w = m->used[i] | m->resv[i];

		if (w != ~0ULL) {
			m->low = i;
			return kind_base[kind] + i * 64 + __builtin_ctzll(~w);
		}
	}
	m->low = m->nwords;
	if (m->nwords < DENSE_WORDS)
		return kind_base[kind] + m->nwords * 64;
	/* 4 Mi ids in use: past the bitmaps, one by one */
	for (id = kind_base[kind] + DENSE_WORDS * 64; id_taken(c, kind, id);
	     id++)
		;
	return id;
}

__u32 pw_hint_alloc(struct pw_cluster *c, int kind, const char *key)
{
	const struct pw_id_hint *h = hint_find(c, kind, key);
	__u32 id;

	if (h && h->id >= kind_base[kind] && !id_used(c, kind, h->id))
		id = h->id;
	else
		id = first_free(c, kind);
	return idmap_set(c, kind, id, false) ? 0 : id;
}

void pw_cluster_hints_clear(struct pw_cluster *c)
{
	int k, i;

	for (k = 0; k < PW_HINT__MAX; k++) {
		for (i = 0; i < c->hints[k].n; i++)
			free(c->hints[k].v[i].key);
		free(c->hints[k].v);
		c->hints[k].v = NULL;
		c->hints[k].n = 0;
		pw_hidx_free(&c->hint_idx[k]);
		/* no id is reserved any more */
		if (c->idmap[k].resv)
			memset(c->idmap[k].resv, 0,
			       c->idmap[k].nwords * sizeof(__u64));
		free(c->idmap[k].far_resv.v);
		memset(&c->idmap[k].far_resv, 0, sizeof(c->idmap[k].far_resv));
		c->idmap[k].low = 0;
	}
}

static int hint_add(struct pw_cluster *c, int kind, const char *key, __u32 id)
{
	struct pw_id_hints *h = &c->hints[kind];
	struct pw_id_hint *v;

	if (hint_find(c, kind, key))
		return 0;
	if (pw_hidx_reserve(&c->hint_idx[kind], h->n + 1) ||
	    idmap_set(c, kind, id, true))
		return -ENOMEM;
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	v[h->n].key = strdup(key);
	if (!v[h->n].key)
		return -ENOMEM;
	v[h->n].id = id;
	pw_hidx_add(&c->hint_idx[kind], pw_hash_str(PW_HASH_SEED, key), h->n);
	h->n++;
	return 0;
}

int pw_cluster_hints_import(struct pw_cluster *c, const cJSON *root)
{
	int k, err;

	if (!cJSON_IsObject(root))
		return -EINVAL;
	for (k = 0; k < PW_HINT__MAX; k++) {
		const cJSON *m =
			cJSON_GetObjectItemCaseSensitive(root, kind_names[k]);
		const cJSON *e;

		if (!m)
			continue;
		if (!cJSON_IsObject(m))
			return -EINVAL;
		cJSON_ArrayForEach(e, m)
		{
			if (!cJSON_IsNumber(e) || e->valuedouble < 1 ||
			    e->valuedouble > 0xffffffffu)
				return -EINVAL;
			/* the compiler sizes a table by the largest endpoint
			 * id: a far-off one (a hand-edited file) gets a new
			 * id instead */
			if (k == PW_HINT_POD && e->valuedouble > PW_EP_ID_MAX)
				continue;
			err = hint_add(c, k, e->string, (__u32)e->valuedouble);
			if (err)
				return err;
		}
	}
	return 0;
}

static int put(cJSON *m, char *key, __u32 id)
{
	cJSON *n = key ? cJSON_AddNumberToObject(m, key, id) : NULL;

	free(key);
	return n ? 0 : -ENOMEM;
}

cJSON *pw_cluster_hints_export(const struct pw_cluster *c)
{
	cJSON *root = cJSON_CreateObject(), *m[PW_HINT__MAX];
	int k, i, err = root ? 0 : -ENOMEM;

	for (k = 0; !err && k < PW_HINT__MAX; k++) {
		m[k] = cJSON_AddObjectToObject(root, kind_names[k]);
		if (!m[k])
			err = -ENOMEM;
	}
	for (i = 0; !err && i < c->npods; i++)
		err = put(m[PW_HINT_POD],
			  pw_hint_key_name(c->pods[i].pod->ns,
					   c->pods[i].pod->name),
			  c->pods[i].ep_id);
	for (i = 0; !err && i < c->nnps; i++)
		err = put(
			m[PW_HINT_POLICY],
			pw_hint_key_name(c->nps[i].np->ns, c->nps[i].np->name),
			c->nps[i].slot);
	for (i = 0; !err && i < c->nids; i++)
		err = put(m[PW_HINT_IDENT],
			  pw_hint_key_ident(c->ids[i].ns, &c->ids[i].labels,
					    c->ids[i].ports, c->ids[i].nports),
			  c->ids[i].id);
	for (i = 0; !err && i < c->ncids; i++)
		err = put(m[PW_HINT_CIDR], pw_hint_key_cidr(&c->cids[i].cidr),
			  c->cids[i].id);
	if (err) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
