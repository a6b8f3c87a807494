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
	int owner;  /* the source that gave it (the last one, if several) */
	bool multi; /* more than one source gave it */
};

struct pw_objset {
	struct key *keys;
	int n;
	struct pw_hidx idx; /* keys, by key; with owners set only */
	bool indexed;
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
	pw_hidx_free(&s->idx);
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

/* Owners from @owner (one per key, in order), duplicates marked, and the
 * index over the keys for the lookups of a delta. */
static void owners_set(struct pw_objset *s, const int *owner)
{
	int i, at;

	pw_hidx_free(&s->idx);
	s->indexed = false;
	if (!owner || pw_hidx_reserve(&s->idx, s->n))
		return;
	for (i = 0; i < s->n; i++) {
		struct key_q q = {s->keys, &s->keys[i]};

		s->keys[i].owner = owner[i];
		s->keys[i].multi = false;
		at = pw_hidx_find(&s->idx, key_hash(&s->keys[i]), key_q_eq, &q);
		if (at < 0) {
			pw_hidx_add(&s->idx, key_hash(&s->keys[i]), i);
			continue;
		}
		/* the first one stands for the key: later sources win */
		s->keys[at].owner = owner[i];
		s->keys[at].multi = true;
	}
	s->indexed = true;
}

int pw_objset_owner(const struct pw_objset *s, enum pw_kind kind,
		    const char *ns, const char *name, int *owner)
{
	struct key k = {.kind = kind, .ns = (char *)ns, .name = (char *)name};
	struct key_q q = {s->keys, &k};
	int at;

	if (!s->indexed)
		return -ENOTSUP;
	at = pw_hidx_find(&s->idx, key_hash(&k), key_q_eq, &q);
	if (at < 0)
		return -ENOENT;
	if (s->keys[at].multi)
		return -EEXIST;
	*owner = s->keys[at].owner;
	return 0;
}

int pw_objset_add(struct pw_objset *s, struct pw_cluster *c,
		  struct pw_objects *objs, int owner)
{
	int i, ret = 0;

	if (!s->indexed) {
		pw_objects_free(objs);
		return -ENOTSUP;
	}
	for (i = 0; !ret && i < objs->n; i++) {
		struct key k, *v;
		const char *ns, *name;
		struct key_q q = {s->keys, &k};

		pw_object_key(&objs->v[i], &k.kind, &ns, &name);
		k.ns = (char *)ns;
		k.name = (char *)name;
		if (pw_hidx_find(&s->idx, key_hash(&k), key_q_eq, &q) >= 0)
			continue;
		v = realloc(s->keys, (s->n + 1) * sizeof(*v));
		if (!v || pw_hidx_reserve(&s->idx, s->n + 1)) {
			if (v)
				s->keys = v;
			ret = -ENOMEM;
			break;
		}
		s->keys = v;
		v[s->n] = (struct key){.kind = k.kind, .owner = owner};
		v[s->n].ns = ns ? strdup(ns) : NULL;
		v[s->n].name = strdup(name);
		if ((ns && !v[s->n].ns) || !v[s->n].name) {
			free(v[s->n].ns);
			free(v[s->n].name);
			ret = -ENOMEM;
			break;
		}
		pw_hidx_add(&s->idx, key_hash(&v[s->n]), s->n);
		s->n++;
	}
	if (ret) {
		pw_objects_free(objs);
		/* the next full replace finds its way again */
		s->indexed = false;
		return ret;
	}
	return pw_cluster_apply(c, objs);
}

int pw_objset_remove(struct pw_objset *s, struct pw_cluster *c,
		     enum pw_kind kind, const char *ns, const char *name)
{
	struct key k = {.kind = kind, .ns = (char *)ns, .name = (char *)name};
	struct key_q q = {s->keys, &k};
	__u64 h = key_hash(&k);
	int at, last = s->n - 1;

	if (!s->indexed)
		return -ENOTSUP;
	at = pw_hidx_find(&s->idx, h, key_q_eq, &q);
	if (at < 0)
		return -ENOENT;
	pw_cluster_delete(c, kind, ns, name);
	pw_hidx_del(&s->idx, h, at);
	free(s->keys[at].ns);
	free(s->keys[at].name);
	if (at != last) {
		pw_hidx_move(&s->idx, key_hash(&s->keys[last]), last, at);
		s->keys[at] = s->keys[last];
	}
	s->n--;
	return 0;
}

int pw_objset_replace(struct pw_objset *s, struct pw_cluster *c,
		      struct pw_objects *objs, const int *owner)
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

		owners_set(s, NULL);
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
		owners_set(s, NULL);
		return ret;
	}
	keys_free(s->keys, s->n);
	s->keys = keys;
	s->n = n;
	owners_set(s, owner);
	return 0;
}
