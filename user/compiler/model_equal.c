// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Deep equality of model objects: an agent gathers every object from its
 * sources on each reconcile, and one that did not change must not be
 * applied again, or every pod would be recompiled every time.
 */
#include <string.h>
#include "model.h"

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool selector_eq(const struct pw_selector *a,
			const struct pw_selector *b)
{
	int i, j;

	if (!a || !b)
		return a == b;
	if (pw_labels_cmp(&a->match, &b->match) || a->nexpr != b->nexpr)
		return false;
	for (i = 0; i < a->nexpr; i++) {
		const struct pw_sel_expr *x = &a->expr[i], *y = &b->expr[i];

		if (!str_eq(x->key, y->key) || x->op != y->op ||
		    x->nvalues != y->nvalues)
			return false;
		for (j = 0; j < x->nvalues; j++)
			if (!str_eq(x->values[j], y->values[j]))
				return false;
	}
	return true;
}

static bool cidr_eq(const struct pw_cidr *a, const struct pw_cidr *b)
{
	return a->plen == b->plen && !memcmp(a->addr, b->addr, 16);
}

static bool ipblock_eq(const struct pw_ipblock *a, const struct pw_ipblock *b)
{
	int i;

	if (!a || !b)
		return a == b;
	if (!cidr_eq(&a->cidr, &b->cidr) || a->nexcept != b->nexcept)
		return false;
	for (i = 0; i < a->nexcept; i++)
		if (!cidr_eq(&a->except[i], &b->except[i]))
			return false;
	return true;
}

static bool rules_eq(const struct pw_rule *a, int na, const struct pw_rule *b,
		     int nb)
{
	int i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (a[i].npeers != b[i].npeers || a[i].nports != b[i].nports)
			return false;
		for (j = 0; j < a[i].npeers; j++) {
			const struct pw_peer *x = &a[i].peers[j];
			const struct pw_peer *y = &b[i].peers[j];

			if (!selector_eq(x->pod_sel, y->pod_sel) ||
			    !selector_eq(x->ns_sel, y->ns_sel) ||
			    !ipblock_eq(x->ipblock, y->ipblock))
				return false;
		}
		for (j = 0; j < a[i].nports; j++) {
			const struct pw_port *x = &a[i].ports[j];
			const struct pw_port *y = &b[i].ports[j];

			if (x->proto != y->proto ||
			    x->any_port != y->any_port ||
			    !str_eq(x->name, y->name) || x->port != y->port ||
			    x->end_port != y->end_port)
				return false;
		}
	}
	return true;
}

bool pw_netpol_equal(const struct pw_netpol *a, const struct pw_netpol *b)
{
	return str_eq(a->ns, b->ns) && str_eq(a->name, b->name) &&
	       selector_eq(&a->pod_sel, &b->pod_sel) &&
	       a->ingress == b->ingress && a->egress == b->egress &&
	       rules_eq(a->in, a->nin, b->in, b->nin) &&
	       rules_eq(a->out, a->nout, b->out, b->nout);
}

bool pw_pod_equal(const struct pw_pod *a, const struct pw_pod *b)
{
	int i;

	if (!str_eq(a->ns, b->ns) || !str_eq(a->name, b->name) ||
	    pw_labels_cmp(&a->labels, &b->labels) || a->nports != b->nports ||
	    a->nips != b->nips || a->remote != b->remote ||
	    memcmp(a->ips, b->ips, sizeof(a->ips[0]) * a->nips))
		return false;
	for (i = 0; i < a->nports; i++)
		if (!str_eq(a->ports[i].name, b->ports[i].name) ||
		    a->ports[i].port != b->ports[i].port ||
		    a->ports[i].proto != b->ports[i].proto)
			return false;
	return true;
}

bool pw_namespace_equal(const struct pw_namespace *a,
			const struct pw_namespace *b)
{
	return str_eq(a->name, b->name) &&
	       !pw_labels_cmp(&a->labels, &b->labels);
}
