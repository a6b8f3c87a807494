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

static const struct pw_id_hint *hint_find(const struct pw_cluster *c, int kind,
					  const char *key)
{
	const struct pw_id_hints *h = &c->hints[kind];
	int i;

	for (i = 0; key && i < h->n; i++)
		if (!strcmp(h->v[i].key, key))
			return &h->v[i];
	return NULL;
}

/* An id another object is expected to claim back. */
static bool hint_reserved(const struct pw_cluster *c, int kind, __u32 id)
{
	const struct pw_id_hints *h = &c->hints[kind];
	int i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].id == id)
			return true;
	return false;
}

__u32 pw_hint_alloc(const struct pw_cluster *c, int kind, const char *key,
		    __u32 base, bool (*used)(const struct pw_cluster *, __u32))
{
	const struct pw_id_hint *h = hint_find(c, kind, key);
	__u32 id = base;

	if (h && h->id >= base && !used(c, h->id))
		return h->id;
	while (used(c, id) || hint_reserved(c, kind, id))
		id++;
	return id;
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
	}
}

static int hint_add(struct pw_cluster *c, int kind, const char *key, __u32 id)
{
	struct pw_id_hints *h = &c->hints[kind];
	struct pw_id_hint *v;

	if (hint_find(c, kind, key))
		return 0;
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	v[h->n].key = strdup(key);
	if (!v[h->n].key)
		return -ENOMEM;
	v[h->n++].id = id;
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
