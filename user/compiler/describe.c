// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The compiler's state as JSON, for `podwall get`: what is known and which
 * ids it has in the maps. */
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "cluster.h"
#include "names.h"

static const char *pod_name(const struct pw_cluster *c, __u32 ep_id, char *buf,
			    size_t len)
{
	int i;

	for (i = 0; i < c->npods; i++)
		if (c->pods[i].ep_id == ep_id) {
			snprintf(buf, len, "%s/%s", c->pods[i].pod->ns,
				 c->pods[i].pod->name);
			return buf;
		}
	snprintf(buf, len, "#%u", ep_id);
	return buf;
}

static cJSON *labels_json(const struct pw_labels *l)
{
	cJSON *o = cJSON_CreateObject();
	int i;

	for (i = 0; o && i < l->n; i++)
		cJSON_AddStringToObject(o, l->v[i].key, l->v[i].value);
	return o;
}

static void policies(const struct pw_cluster *c, cJSON *arr)
{
	char buf[300];
	int i, j;

	for (i = 0; i < c->nnps; i++) {
		const struct np_slot *s = &c->nps[i];
		cJSON *o = cJSON_CreateObject(), *t;

		if (!o)
			return;
		cJSON_AddStringToObject(o, "namespace", s->np->ns);
		cJSON_AddStringToObject(o, "name", s->np->name);
		cJSON_AddNumberToObject(o, "slot", s->slot);
		cJSON_AddBoolToObject(o, "ingress", s->np->ingress);
		cJSON_AddBoolToObject(o, "egress", s->np->egress);
		cJSON_AddNumberToObject(o, "ingress_rules", s->np->nin);
		cJSON_AddNumberToObject(o, "egress_rules", s->np->nout);
		t = cJSON_AddArrayToObject(o, "selects");
		for (j = 0; t && j < s->ntargets; j++)
			cJSON_AddItemToArray(t, cJSON_CreateString(pod_name(
							c, s->targets[j], buf,
							sizeof(buf))));
		cJSON_AddItemToArray(arr, o);
	}
}

static void identities(const struct pw_cluster *c, cJSON *arr)
{
	char buf[PW_ADDR_STRLEN + 8];
	int i, j;

	for (i = 0; i < c->nids; i++) {
		const struct ident *id = &c->ids[i];
		cJSON *o = cJSON_CreateObject(), *p;

		if (!o)
			return;
		cJSON_AddNumberToObject(o, "id", id->id);
		cJSON_AddStringToObject(o, "namespace", id->ns);
		cJSON_AddItemToObject(o, "labels", labels_json(&id->labels));
		p = cJSON_AddArrayToObject(o, "named_ports");
		for (j = 0; p && j < id->nports; j++) {
			char pb[8];
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "name", id->ports[j].name);
			cJSON_AddStringToObject(
				x, "protocol",
				pw_proto_name(id->ports[j].proto, pb,
					      sizeof(pb)));
			cJSON_AddNumberToObject(x, "port", id->ports[j].port);
			cJSON_AddItemToArray(p, x);
		}
		cJSON_AddNumberToObject(o, "pods", id->refs);
		cJSON_AddItemToArray(arr, o);
	}
	for (i = 0; i < c->ncids; i++) {
		const struct cidr_ident *ci = &c->cids[i];
		bool v4 = pw_addr_is4(ci->cidr.addr);
		char a[PW_ADDR_STRLEN];
		cJSON *o = cJSON_CreateObject();

		if (!o)
			return;
		pw_addr_str(ci->cidr.addr, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s/%u", a,
			 v4 ? ci->cidr.plen - 96 : ci->cidr.plen);
		cJSON_AddNumberToObject(o, "id", ci->id);
		cJSON_AddStringToObject(o, "cidr", buf);
		cJSON_AddItemToArray(arr, o);
	}
}

cJSON *pw_cluster_describe(const struct pw_cluster *c, const char *what)
{
	cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return NULL;
	if (!strcmp(what, "policies"))
		policies(c, arr);
	else if (!strcmp(what, "identities"))
		identities(c, arr);
	return arr;
}

const struct pw_labels *pw_cluster_pod_labels(const struct pw_cluster *c,
					      const char *ns, const char *name)
{
	int i = pw_pod_index(c, ns, name);

	return i < 0 ? NULL : &c->pods[i].pod->labels;
}

int pw_cluster_policy_names(const struct pw_cluster *c,
			    void (*fn)(__u32 slot, const char *ns,
				       const char *name, void *arg),
			    void *arg)
{
	int i;

	for (i = 0; i < c->nnps; i++)
		fn(c->nps[i].slot, c->nps[i].np->ns, c->nps[i].np->name, arg);
	return c->nnps;
}

int pw_cluster_cidr_ids(const struct pw_cluster *c,
			void (*fn)(__u32 id, const struct pw_cidr *cidr,
				   void *arg),
			void *arg)
{
	int i;

	for (i = 0; i < c->ncids; i++)
		fn(c->cids[i].id, &c->cids[i].cidr, arg);
	return c->ncids;
}

const struct pw_labels *pw_cluster_ns_labels(const struct pw_cluster *c,
					     const char *ns)
{
	int i = pw_ns_index(c, ns);

	return i < 0 ? NULL : &c->nss[i]->labels;
}
