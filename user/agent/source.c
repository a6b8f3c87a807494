// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What the sources share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "source.h"

static __u64 pod_hash(const char *ns, const char *name)
{
	return pw_hash_str(pw_hash_str(PW_HASH_SEED, ns), name);
}

struct pod_key {
	const struct pw_objects *objs;
	const struct pw_pod *p;
};

static bool pod_is(const void *ctx, __u32 pos)
{
	const struct pod_key *k = ctx;
	const struct pw_object *o = &k->objs->v[pos];

	return o->kind == PW_KIND_POD && !strcmp(o->pod->ns, k->p->ns) &&
	       !strcmp(o->pod->name, k->p->name);
}

/* The Pod named like @p in @objs, or -1. */
static int find_pod(const struct pw_objects *objs, const struct pw_pod *p,
		    struct pw_pod_index *idx)
{
	struct pod_key k = {objs, p};
	int i;

	if (!idx) {
		for (i = 0; i < objs->n; i++)
			if (pod_is(&k, i))
				return i;
		return -1;
	}
	for (; idx->upto < objs->n; idx->upto++) {
		const struct pw_object *o = &objs->v[idx->upto];

		if (o->kind == PW_KIND_POD &&
		    pw_hidx_add(&idx->h, pod_hash(o->pod->ns, o->pod->name),
				idx->upto))
			return -ENOMEM;
	}
	return pw_hidx_find(&idx->h, pod_hash(p->ns, p->name), pod_is, &k);
}

int pw_source_add_pod_idx(struct pw_objects *objs, struct pw_objects *mine,
			  struct pw_pod_index *idx)
{
	struct pw_object *v;
	struct pw_pod *p, *q;
	int i;

	if (mine->n != 1 || mine->v[0].kind != PW_KIND_POD) {
		pw_objects_free(mine);
		return -EINVAL;
	}
	p = mine->v[0].pod;
	i = find_pod(objs, p, idx);
	if (i == -ENOMEM) {
		pw_objects_free(mine);
		return i;
	}
	if (i >= 0) {
		q = objs->v[i].pod;
		/* a manifest's Pod: its labels and named ports, our IPs;
		 * and it runs here, whatever the API server said last */
		memcpy(q->ips, p->ips, sizeof(q->ips));
		q->nips = p->nips;
		q->remote = false;
		pw_objects_free(mine);
		return 0;
	}
	v = realloc(objs->v, (objs->n + 1) * sizeof(*v));
	if (!v) {
		pw_objects_free(mine);
		return -ENOMEM;
	}
	objs->v = v;
	v[objs->n++] = mine->v[0];
	free(mine->v);
	mine->v = NULL;
	mine->n = 0;
	return 0;
}

int pw_source_add_pod(struct pw_objects *objs, struct pw_objects *mine)
{
	return pw_source_add_pod_idx(objs, mine, NULL);
}

void pw_pod_index_free(struct pw_pod_index *idx)
{
	pw_hidx_free(&idx->h);
	idx->upto = 0;
}

int pw_netns_index_add(struct pw_netns_index *x, const char *ns,
		       const char *name, const char *path)
{
	struct pw_netns_ent *e;

	/* an nsfs path is absolute; anything else is not one */
	if (!ns || !name || !path || path[0] != '/')
		return -EINVAL;
	if (x->n == x->cap) {
		int cap = x->cap ? x->cap * 2 : 16;

		e = realloc(x->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		x->v = e;
		x->cap = cap;
	}
	e = &x->v[x->n];
	e->ns = strdup(ns);
	e->name = strdup(name);
	e->path = strdup(path);
	if (!e->ns || !e->name || !e->path) {
		free(e->ns);
		free(e->name);
		free(e->path);
		return -ENOMEM;
	}
	e->seq = x->n++;
	x->sorted = false;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct pw_netns_ent *x = a, *y = b;

	return strcmp(x->ns, y->ns) ?: strcmp(x->name, y->name);
}

static int ent_seq_cmp(const void *a, const void *b)
{
	const struct pw_netns_ent *x = a, *y = b;

	return ent_cmp(a, b) ?: (x->seq > y->seq) - (x->seq < y->seq);
}

const char *pw_netns_index_find(struct pw_netns_index *x, const char *ns,
				const char *name)
{
	struct pw_netns_ent key = {.ns = (char *)ns, .name = (char *)name};
	const struct pw_netns_ent *e;

	if (!x->n)
		return NULL;
	if (!x->sorted) {
		qsort(x->v, x->n, sizeof(*x->v), ent_seq_cmp);
		x->sorted = true;
	}
	e = bsearch(&key, x->v, x->n, sizeof(*x->v), ent_cmp);
	while (e && e + 1 < x->v + x->n && !ent_cmp(e, e + 1))
		e++;
	return e ? e->path : NULL;
}

void pw_netns_index_clear(struct pw_netns_index *x)
{
	int i;

	for (i = 0; i < x->n; i++) {
		free(x->v[i].ns);
		free(x->v[i].name);
		free(x->v[i].path);
	}
	free(x->v);
	memset(x, 0, sizeof(*x));
}
