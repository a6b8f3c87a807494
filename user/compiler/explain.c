// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Explain one verdict on the model itself, not on compiled entries, so
 * that the two can be held to each other (tests/unit/bpf_agree.c), and
 * name rules for flow logs and trace.
 */
#include <stdio.h>
#include <string.h>
#include "cluster.h"

const char *pw_rule_describe(const struct pw_cluster *c, __u32 rule_id,
			     char *buf, size_t len)
{
	__u32 slot = rule_id >> 12;
	int i;

	if (rule_id == PW_RULE_DEFAULT) {
		snprintf(buf, len, "default");
		return buf;
	}
	for (i = 0; i < c->nnps; i++) {
		if (c->nps[i].slot != slot)
			continue;
		snprintf(buf, len, "%s/%s %s[%u]", c->nps[i].np->ns,
			 c->nps[i].np->name,
			 rule_id & (1U << 11) ? "egress" : "ingress",
			 rule_id & (PW_RULE_INDEX_MAX - 1));
		return buf;
	}
	snprintf(buf, len, "rule %u (gone)", rule_id);
	return buf;
}

/* The pod at an address, if any. */
static const struct pod_slot *pod_at(const struct pw_cluster *c,
				     const __u8 addr[16])
{
	int i, j;

	for (i = 0; i < c->npods; i++)
		for (j = 0; j < c->pods[i].pod->nips; j++)
			if (!memcmp(c->pods[i].pod->ips[j], addr, 16))
				return &c->pods[i];
	return NULL;
}

static bool peer_admits(const struct pw_cluster *c, const struct pw_rule *r,
			const char *np_ns, const struct pw_pod *peer_pod,
			const __u8 peer_addr[16])
{
	int i;

	if (!r->npeers)
		return true;
	for (i = 0; i < r->npeers; i++) {
		const struct pw_peer *p = &r->peers[i];

		if (p->ipblock ? pw_in_ipblock(p->ipblock, peer_addr, 128)
			       : peer_pod && pw_peer_selects(c, p, np_ns,
							     peer_pod->ns,
							     &peer_pod->labels))
			return true;
	}
	return false;
}

static bool port_admits(const struct pw_rule *r, const struct pw_pod *dst_pod,
			__u8 proto, __u16 port)
{
	int i;

	if (!r->nports)
		return true;
	for (i = 0; i < r->nports; i++) {
		const struct pw_port *pt = &r->ports[i];
		__u16 num;

		if (pt->proto != proto)
			continue;
		if (pt->any_port)
			return true;
		if (pt->name) {
			if (dst_pod &&
			    pw_find_named(dst_pod->ports, dst_pod->nports,
					  pt->name, proto, &num) &&
			    num == port)
				return true;
			continue;
		}
		if (port >= pt->port && port <= pt->end_port)
			return true;
	}
	return false;
}

static void explain_side(const struct pw_cluster *c,
			 const struct pod_slot *self, bool egress,
			 const struct pw_pod *peer_pod,
			 const __u8 peer_addr[16], const struct pw_pod *dst_pod,
			 __u8 proto, __u16 port, struct pw_explain_side *out)
{
	int i, j;

	memset(out, 0, sizeof(*out));
	out->allowed = true;
	if (!self)
		return;
	out->known = true;
	for (i = 0; i < c->nnps; i++) {
		const struct pw_netpol *np = c->nps[i].np;
		const struct pw_rule *rules = egress ? np->out : np->in;
		int n = egress ? np->nout : np->nin;

		if ((egress ? !np->egress : !np->ingress) ||
		    strcmp(np->ns, self->pod->ns) ||
		    !pw_selector_matches(&np->pod_sel, &self->pod->labels))
			continue;
		out->selected = true;
		out->npolicies++;
		for (j = 0; j < n; j++) {
			if (!peer_admits(c, &rules[j], np->ns, peer_pod,
					 peer_addr) ||
			    !port_admits(&rules[j], dst_pod, proto, port))
				continue;
			if (out->nrules < PW_EXPLAIN_RULES_MAX)
				out->rules[out->nrules] = pw_rule_id(
					c->nps[i].slot,
					egress ? PW_DIR_EGRESS : PW_DIR_INGRESS,
					j);
			out->nrules++;
		}
	}
	out->allowed = !out->selected || out->nrules > 0;
}

int pw_explain(const struct pw_cluster *c, const __u8 src[16],
	       const __u8 dst[16], __u8 proto, __u16 port,
	       struct pw_explain *out)
{
	const struct pod_slot *s = pod_at(c, src), *d = pod_at(c, dst);

	explain_side(c, s, true, d ? d->pod : NULL, dst, d ? d->pod : NULL,
		     proto, port, &out->egress);
	explain_side(c, d, false, s ? s->pod : NULL, src, d ? d->pod : NULL,
		     proto, port, &out->ingress);
	out->allowed = out->egress.allowed && out->ingress.allowed;
	return 0;
}
