// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "model.h"

void pw_labels_free(struct pw_labels *l)
{
	int i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int labels_find(const struct pw_labels *l, const char *key, int *pos)
{
	int lo = 0, hi = l->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2, c = strcmp(l->v[mid].key, key);

		if (!c) {
			*pos = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

const char *pw_labels_get(const struct pw_labels *l, const char *key)
{
	int pos;

	return labels_find(l, key, &pos) ? l->v[pos].value : NULL;
}

int pw_labels_set(struct pw_labels *l, const char *key, const char *value)
{
	struct pw_label *v;
	char *k, *val;
	int pos;

	val = strdup(value);
	if (!val)
		return -ENOMEM;
	if (labels_find(l, key, &pos)) {
		free(l->v[pos].value);
		l->v[pos].value = val;
		return 0;
	}
	k = strdup(key);
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!k || !v) {
		free(k);
		free(val);
		if (v)
			l->v = v;
		return -ENOMEM;
	}
	l->v = v;
	memmove(&v[pos + 1], &v[pos], (l->n - pos) * sizeof(*v));
	v[pos].key = k;
	v[pos].value = val;
	l->n++;
	return 0;
}

int pw_labels_cmp(const struct pw_labels *a, const struct pw_labels *b)
{
	int i, c;

	for (i = 0; i < a->n && i < b->n; i++) {
		c = strcmp(a->v[i].key, b->v[i].key);
		if (!c)
			c = strcmp(a->v[i].value, b->v[i].value);
		if (c)
			return c;
	}
	return (a->n > b->n) - (a->n < b->n);
}

void pw_selector_free(struct pw_selector *s)
{
	int i, j;

	if (!s)
		return;
	pw_labels_free(&s->match);
	for (i = 0; i < s->nexpr; i++) {
		free(s->expr[i].key);
		for (j = 0; j < s->expr[i].nvalues; j++)
			free(s->expr[i].values[j]);
		free(s->expr[i].values);
	}
	free(s->expr);
	s->expr = NULL;
	s->nexpr = 0;
}

static bool expr_matches(const struct pw_sel_expr *e, const struct pw_labels *l)
{
	const char *v = pw_labels_get(l, e->key);
	int i;

	switch (e->op) {
	case PW_SEL_EXISTS:
		return v != NULL;
	case PW_SEL_DOES_NOT_EXIST:
		return v == NULL;
	case PW_SEL_IN:
	case PW_SEL_NOT_IN:
		for (i = 0; v && i < e->nvalues; i++)
			if (!strcmp(v, e->values[i]))
				return e->op == PW_SEL_IN;
		/* NotIn also matches objects without the key, as in
		 * Kubernetes */
		return e->op == PW_SEL_NOT_IN;
	}
	return false;
}

bool pw_selector_matches(const struct pw_selector *s, const struct pw_labels *l)
{
	const char *v;
	int i;

	for (i = 0; i < s->match.n; i++) {
		v = pw_labels_get(l, s->match.v[i].key);
		if (!v || strcmp(v, s->match.v[i].value))
			return false;
	}
	for (i = 0; i < s->nexpr; i++)
		if (!expr_matches(&s->expr[i], l))
			return false;
	return true;
}

static void peer_free(struct pw_peer *p)
{
	if (p->pod_sel) {
		pw_selector_free(p->pod_sel);
		free(p->pod_sel);
	}
	if (p->ns_sel) {
		pw_selector_free(p->ns_sel);
		free(p->ns_sel);
	}
	if (p->ipblock) {
		free(p->ipblock->except);
		free(p->ipblock);
	}
}

static void rules_free(struct pw_rule *r, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < r[i].npeers; j++)
			peer_free(&r[i].peers[j]);
		free(r[i].peers);
		for (j = 0; j < r[i].nports; j++)
			free(r[i].ports[j].name);
		free(r[i].ports);
	}
	free(r);
}

void pw_netpol_free(struct pw_netpol *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	pw_selector_free(&p->pod_sel);
	rules_free(p->in, p->nin);
	rules_free(p->out, p->nout);
	free(p);
}

void pw_pod_free(struct pw_pod *p)
{
	int i;

	if (!p)
		return;
	free(p->ns);
	free(p->name);
	pw_labels_free(&p->labels);
	for (i = 0; i < p->nports; i++)
		free(p->ports[i].name);
	free(p->ports);
	free(p);
}

void pw_namespace_free(struct pw_namespace *n)
{
	if (!n)
		return;
	free(n->name);
	pw_labels_free(&n->labels);
	free(n);
}

bool pw_prefix_contains(const struct pw_cidr *outer, const __u8 addr[16],
			__u32 plen)
{
	__u32 full = outer->plen / 8, rest = outer->plen % 8;

	if (plen < outer->plen)
		return false;
	if (memcmp(outer->addr, addr, full))
		return false;
	if (!rest)
		return true;
	return ((outer->addr[full] ^ addr[full]) & (0xff00 >> rest)) == 0;
}

bool pw_cidr_contains(const struct pw_cidr *outer, const __u8 addr[16],
		      __u32 plen)
{
	/* IPv4 is ::ffff:0:0/96 in this space, yet an IPv6 block holds no
	 * IPv4 address however short its prefix (::/0 included): only a
	 * block of /96 or longer, an IPv4 one, can. */
	if (outer->plen < 96 && pw_addr_is4(addr))
		return false;
	return pw_prefix_contains(outer, addr, plen);
}
