// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cluster.h"
#include "objset.h"

struct key {
	enum pw_kind kind;
	char *ns; /* NULL for a Namespace */
	char *name;
};

struct pw_objset {
	struct key *keys;
	int n;
};

const char *pw_kind_name(enum pw_kind kind)
{
	switch (kind) {
	case PW_KIND_NAMESPACE:
		return "Namespace";
	case PW_KIND_POD:
		return "Pod";
	case PW_KIND_NETPOL:
		return "NetworkPolicy";
	}
	return "?";
}

void pw_object_key(const struct pw_object *o, enum pw_kind *kind,
		   const char **ns, const char **name)
{
	*kind = o->kind;
	*ns = NULL;
	*name = "";
	switch (o->kind) {
	case PW_KIND_NAMESPACE:
		*name = o->ns->name;
		break;
	case PW_KIND_POD:
		*ns = o->pod->ns;
		*name = o->pod->name;
		break;
	case PW_KIND_NETPOL:
		*ns = o->np->ns;
		*name = o->np->name;
		break;
	}
}

int pw_objset_new(struct pw_objset **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void keys_free(struct key *k, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(k[i].ns);
		free(k[i].name);
	}
	free(k);
}

void pw_objset_free(struct pw_objset *s)
{
	if (!s)
		return;
	keys_free(s->keys, s->n);
	free(s);
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       (!a->ns || !strcmp(a->ns, b->ns));
}

/* A kind's keys all have a namespace or none do. */
static __u64 key_hash(const struct key *k)
{
	__u64 h = pw_hash_bytes(PW_HASH_SEED, &k->kind, sizeof(k->kind));

	if (k->ns)
		h = pw_hash_str(h, k->ns);
	return pw_hash_str(h, k->name);
}

struct key_q {
	const struct key *v;
	const struct key *k;
};

static bool key_q_eq(const void *ctx, __u32 pos)
{
	const struct key_q *q = ctx;

	return key_eq(&q->v[pos], q->k);
}

/* An index of @v[0..n). */
static int keys_index(struct pw_hidx *h, const struct key *v, int n)
{
	int i;

	if (pw_hidx_reserve(h, n))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pw_hidx_add(h, key_hash(&v[i]), i);
	return 0;
}

static bool keys_has(const struct pw_hidx *h, const struct key *v,
		     const struct key *k)
{
	struct key_q q = {v, k};

	return pw_hidx_find(h, key_hash(k), key_q_eq, &q) >= 0;
}

int pw_objset_replace(struct pw_objset *s, struct pw_cluster *c,
		      struct pw_objects *objs)
{
	int i, j, n = objs->n, ret = 0;
	struct pw_hidx idx = {};
	struct key *keys;

	keys = calloc(n ?: 1, sizeof(*keys));
	if (!keys) {
		pw_objects_free(objs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const char *ns, *name;

		pw_object_key(&objs->v[i], &keys[i].kind, &ns, &name);
		keys[i].ns = ns ? strdup(ns) : NULL;
		keys[i].name = strdup(name);
		if ((ns && !keys[i].ns) || !keys[i].name)
			ret = -ENOMEM;
	}
	if (ret) {
		keys_free(keys, n);
		pw_objects_free(objs);
		return ret;
	}
	ret = pw_cluster_apply(c, objs);
	/* the old keys the new set lacks, in the old set's order */
	if (!ret)
		ret = keys_index(&idx, keys, n);
	for (i = 0; !ret && i < s->n; i++)
		if (!keys_has(&idx, keys, &s->keys[i]))
			pw_cluster_delete(c, s->keys[i].kind, s->keys[i].ns,
					  s->keys[i].name);
	pw_hidx_free(&idx);
	if (ret) {
		/* some of the new ones may be in: track both, so that none
		 * is left behind untracked */
		struct key *v = realloc(s->keys, (s->n + n) * sizeof(*v));

		if (!v) {
			keys_free(keys, n);
			return ret;
		}
		s->keys = v;
		/* each key once, the ones already tracked first */
		if (keys_index(&idx, v, s->n) ||
		    pw_hidx_reserve(&idx, s->n + n)) {
			pw_hidx_free(&idx);
			for (j = 0; j < n; j++)
				v[s->n++] = keys[j];
			free(keys);
			return ret;
		}
		for (j = 0; j < n; j++) {
			if (keys_has(&idx, v, &keys[j])) {
				free(keys[j].ns);
				free(keys[j].name);
			} else {
				pw_hidx_add(&idx, key_hash(&keys[j]), s->n);
				v[s->n++] = keys[j];
			}
		}
		pw_hidx_free(&idx);
		free(keys);
		return ret;
	}
	keys_free(s->keys, s->n);
	s->keys = keys;
	s->n = n;
	return 0;
}
