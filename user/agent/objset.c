// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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

int pw_objset_replace(struct pw_objset *s, struct pw_cluster *c,
		      struct pw_objects *objs)
{
	int i, j, n = objs->n, ret = 0;
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
	for (i = 0; !ret && i < s->n; i++) {
		for (j = 0; j < n; j++)
			if (key_eq(&s->keys[i], &keys[j]))
				break;
		if (j == n)
			pw_cluster_delete(c, s->keys[i].kind, s->keys[i].ns,
					  s->keys[i].name);
	}
	if (ret) {
		/* some of the new ones may be in: track both, so that none
		 * is left behind untracked */
		struct key *v = realloc(s->keys, (s->n + n) * sizeof(*v));

		if (!v) {
			keys_free(keys, n);
			return ret;
		}
		s->keys = v;
		for (j = 0; j < n; j++) {
			for (i = 0; i < s->n; i++)
				if (key_eq(&v[i], &keys[j]))
					break;
			if (i < s->n) {
				free(keys[j].ns);
				free(keys[j].name);
			} else {
				v[s->n++] = keys[j];
			}
		}
		free(keys);
		return ret;
	}
	keys_free(s->keys, s->n);
	s->keys = keys;
	s->n = n;
	return 0;
}
