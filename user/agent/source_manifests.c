// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "source_manifests.h"

/* An object the folder held at the last load. */
struct key {
	enum pw_kind kind;
	char *ns; /* NULL for a Namespace */
	char *name;
};

struct pw_src_manifests {
	char *dir;
	struct key *keys;
	int nkeys;
};

int pw_src_manifests_new(const char *dir, struct pw_src_manifests **out)
{
	struct pw_src_manifests *s = calloc(1, sizeof(*s));

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
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

void pw_src_manifests_free(struct pw_src_manifests *s)
{
	if (!s)
		return;
	keys_free(s->keys, s->nkeys);
	free(s->dir);
	free(s);
}

static int key_of(const struct pw_object *o, struct key *k)
{
	const char *ns = NULL, *name = NULL;

	k->kind = o->kind;
	switch (o->kind) {
	case PW_KIND_NAMESPACE:
		name = o->ns->name;
		break;
	case PW_KIND_POD:
		ns = o->pod->ns;
		name = o->pod->name;
		break;
	case PW_KIND_NETPOL:
		ns = o->np->ns;
		name = o->np->name;
		break;
	}
	k->ns = ns ? strdup(ns) : NULL;
	k->name = strdup(name);
	return (ns && !k->ns) || !k->name ? -ENOMEM : 0;
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       (!a->ns || !strcmp(a->ns, b->ns));
}

int pw_src_manifests_load(struct pw_src_manifests *s, struct pw_cluster *c,
			  char *err, size_t errlen)
{
	struct pw_objects objs = {};
	struct key *keys;
	int i, j, n, ret;

	ret = pw_manifest_load_path(s->dir, &objs, err, errlen);
	if (ret)
		return ret;
	n = objs.n;
	keys = calloc(n ?: 1, sizeof(*keys));
	if (!keys) {
		pw_objects_free(&objs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ret = key_of(&objs.v[i], &keys[i]);
		if (ret) {
			keys_free(keys, n);
			pw_objects_free(&objs);
			return ret;
		}
	}
	/* what the folder holds now replaces what it held */
	ret = pw_cluster_apply(c, &objs);
	for (i = 0; !ret && i < s->nkeys; i++) {
		for (j = 0; j < n; j++)
			if (key_eq(&s->keys[i], &keys[j]))
				break;
		if (j == n)
			pw_cluster_delete(c, s->keys[i].kind, s->keys[i].ns,
					  s->keys[i].name);
	}
	if (ret) {
		keys_free(keys, n);
		snprintf(err, errlen, "%s: apply: %s", s->dir, strerror(-ret));
		return ret;
	}
	keys_free(s->keys, s->nkeys);
	s->keys = keys;
	s->nkeys = n;
	return 0;
}
