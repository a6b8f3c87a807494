// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "addr.h"
#include "flowrec.h"
#include "names.h"

/* A pod by address, with its JSON fragment ready to copy. */
struct addr_ent {
	__u8 addr[16];
	int pod; /* index into pods */
};

struct pod_ent {
	__u32 ep_id;
	char *frag;  /* "namespace":"x","pod":"y","labels":{...} */
	char *where; /* "x/y" */
};

struct slot_ent {
	__u32 slot;
	char *name; /* "ns/name" */
};

struct cidr_ent {
	__u32 id;
	char cidr[PW_ADDR_STRLEN + 5];
};

struct pw_flowmeta {
	struct addr_ent *addrs;
	int naddrs;
	struct pod_ent *pods;
	int npods;
	int *by_ep; /* pods sorted by ep_id: indexes */
	struct slot_ent *slots;
	int nslots, capslots;
	struct cidr_ent *cidrs;
	int ncidrs, capcidrs;
};

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(((const struct addr_ent *)a)->addr,
		      ((const struct addr_ent *)b)->addr, 16);
}

static const struct pw_flowmeta *sort_meta;

static int ep_cmp(const void *a, const void *b)
{
	__u32 x = sort_meta->pods[*(const int *)a].ep_id;
	__u32 y = sort_meta->pods[*(const int *)b].ep_id;

	return (x > y) - (x < y);
}

static int slot_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct slot_ent *)a)->slot;
	__u32 y = ((const struct slot_ent *)b)->slot;

	return (x > y) - (x < y);
}

static int cidr_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct cidr_ent *)a)->id;
	__u32 y = ((const struct cidr_ent *)b)->id;

	return (x > y) - (x < y);
}

static char *pod_frag(const char *ns, const char *name,
		      const struct pw_labels *l)
{
	cJSON *o = cJSON_CreateObject(), *lab;
	char *s, *frag = NULL;
	size_t n;
	int i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "namespace", ns);
	cJSON_AddStringToObject(o, "pod", name);
	lab = cJSON_AddObjectToObject(o, "labels");
	for (i = 0; l && lab && i < l->n; i++)
		cJSON_AddStringToObject(lab, l->v[i].key, l->v[i].value);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	/* without the braces, to be spliced into an address's object */
	if (s && (n = strlen(s)) >= 2)
		frag = strndup(s + 1, n - 2);
	free(s);
	if (frag && l && strlen(frag) > PW_FLOWREC_MAX / 4) {
		/* too long for every record to carry: the names still do */
		free(frag);
		return pod_frag(ns, name, NULL);
	}
	return frag;
}

static void on_slot(__u32 slot, const char *ns, const char *name, void *arg)
{
	struct pw_flowmeta *m = arg;

	if (m->nslots == m->capslots) {
		int cap = m->capslots ? m->capslots * 2 : 64;
		struct slot_ent *v = realloc(m->slots, cap * sizeof(*v));

		if (!v)
			return;
		m->slots = v;
		m->capslots = cap;
	}
	if (asprintf(&m->slots[m->nslots].name, "%s/%s", ns, name) < 0)
		return;
	m->slots[m->nslots++].slot = slot;
}

static void on_cidr(__u32 id, const struct pw_cidr *c, void *arg)
{
	struct pw_flowmeta *m = arg;
	char a[PW_ADDR_STRLEN];
	bool v4 = pw_addr_is4(c->addr);

	if (m->ncidrs == m->capcidrs) {
		int cap = m->capcidrs ? m->capcidrs * 2 : 64;
		struct cidr_ent *v = realloc(m->cidrs, cap * sizeof(*v));

		if (!v)
			return;
		m->cidrs = v;
		m->capcidrs = cap;
	}
	pw_addr_str(c->addr, a, sizeof(a));
	snprintf(m->cidrs[m->ncidrs].cidr, sizeof(m->cidrs[0].cidr), "%s/%u", a,
		 v4 ? c->plen - 96 : c->plen);
	m->cidrs[m->ncidrs++].id = id;
}

void pw_flowmeta_free(struct pw_flowmeta *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < m->npods; i++) {
		free(m->pods[i].frag);
		free(m->pods[i].where);
	}
	for (i = 0; i < m->nslots; i++)
		free(m->slots[i].name);
	free(m->addrs);
	free(m->pods);
	free(m->by_ep);
	free(m->slots);
	free(m->cidrs);
	free(m);
}

int pw_flowmeta_build(const struct pw_cluster *c, const struct pw_compiled *co,
		      struct pw_flowmeta **out)
{
	struct pw_flowmeta *m = calloc(1, sizeof(*m));
	int i;

	if (!m)
		return -ENOMEM;
	m->pods = calloc(co->neps ?: 1, sizeof(*m->pods));
	m->by_ep = calloc(co->neps ?: 1, sizeof(*m->by_ep));
	m->addrs = calloc(co->neps ? 2 * co->neps : 1, sizeof(*m->addrs));
	if (!m->pods || !m->by_ep || !m->addrs)
		goto fail;
	for (i = 0; i < co->neps; i++) {
		const struct pw_out_ep *e = &co->eps[i];
		struct pod_ent *p = &m->pods[m->npods];

		p->ep_id = e->ep_id;
		p->frag = pod_frag(e->ns, e->name,
				   pw_cluster_pod_labels(c, e->ns, e->name));
		if (!p->frag ||
		    asprintf(&p->where, "%s/%s", e->ns, e->name) < 0)
			goto fail;
		m->by_ep[m->npods] = m->npods;
		if (e->flags & PW_EP_F_HAS_IP4) {
			memcpy(m->addrs[m->naddrs].addr, e->ip4, 16);
			m->addrs[m->naddrs++].pod = m->npods;
		}
		if (e->flags & PW_EP_F_HAS_IP6) {
			memcpy(m->addrs[m->naddrs].addr, e->ip6, 16);
			m->addrs[m->naddrs++].pod = m->npods;
		}
		m->npods++;
	}
	qsort(m->addrs, m->naddrs, sizeof(*m->addrs), addr_cmp);
	sort_meta = m;
	qsort(m->by_ep, m->npods, sizeof(*m->by_ep), ep_cmp);
	pw_cluster_policy_names(c, on_slot, m);
	pw_cluster_cidr_ids(c, on_cidr, m);
	if (m->nslots)
		qsort(m->slots, m->nslots, sizeof(*m->slots), slot_cmp);
	if (m->ncidrs)
		qsort(m->cidrs, m->ncidrs, sizeof(*m->cidrs), cidr_cmp);
	*out = m;
	return 0;
fail:
	pw_flowmeta_free(m);
	return -ENOMEM;
}

static const struct pod_ent *pod_at(const struct pw_flowmeta *m,
				    const __u8 addr[16])
{
	struct addr_ent k;
	const struct addr_ent *e;

	if (!m)
		return NULL;
	memcpy(k.addr, addr, 16);
	e = bsearch(&k, m->addrs, m->naddrs, sizeof(k), addr_cmp);
	return e ? &m->pods[e->pod] : NULL;
}

static const struct pod_ent *pod_of_ep(const struct pw_flowmeta *m, __u32 ep_id)
{
	int lo = 0, hi = m ? m->npods : 0;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct pod_ent *p = &m->pods[m->by_ep[mid]];

		if (p->ep_id == ep_id)
			return p;
		if (p->ep_id < ep_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *policy_of(const struct pw_flowmeta *m, __u32 slot)
{
	struct slot_ent k = {.slot = slot}, *e;

	if (!m || !m->nslots)
		return NULL;
	e = bsearch(&k, m->slots, m->nslots, sizeof(k), slot_cmp);
	return e ? e->name : NULL;
}

static const char *cidr_of(const struct pw_flowmeta *m, __u32 id)
{
	struct cidr_ent k = {.id = id}, *e;

	if (!m || !m->ncidrs)
		return NULL;
	e = bsearch(&k, m->cidrs, m->ncidrs, sizeof(k), cidr_cmp);
	return e ? e->cidr : NULL;
}

/* An append-only writer into a fixed buffer; overflow is sticky. */
struct out {
	char *p;
	size_t n, len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n >= o->len) {
		o->n = o->len;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putu(struct out *o, unsigned long long v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do
		tmp[--i] = '0' + v % 10;
	while ((v /= 10));
	put(o, tmp + i, sizeof(tmp) - i);
}

/* RFC 3339 in UTC, with nanoseconds; the date part is cached per second. */
static void put_time(struct out *o, __u64 wall_ns)
{
	static __thread time_t last_sec = -1;
	static __thread char date[24];
	time_t sec = wall_ns / 1000000000ULL;
	char frac[12];

	if (sec != last_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = sec;
	}
	puts_(o, "\"time\":\"");
	puts_(o, date);
	snprintf(frac, sizeof(frac), ".%09llu",
		 (unsigned long long)(wall_ns % 1000000000ULL));
	puts_(o, frac);
	puts_(o, "Z\"");
}

static void put_addr(struct out *o, const __u8 a[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (pw_addr_is4(a))
		inet_ntop(AF_INET, a + 12, buf, sizeof(buf));
	else
		inet_ntop(AF_INET6, a, buf, sizeof(buf));
	puts_(o, buf);
}

static bool has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP;
}

/* One end: the pod that holds the address, or the node, or the CIDR
 * identity the datapath matched for the remote end, or the world. */
static void put_end(struct out *o, const struct pw_flowmeta *m,
		    const struct pw_flow_event *ev, const __u8 a[16],
		    __be16 port, bool remote)
{
	const struct pod_ent *p = pod_at(m, a);
	const char *cidr;

	puts_(o, "{\"ip\":\"");
	put_addr(o, a);
	put(o, "\"", 1);
	if (has_ports(ev->proto)) {
		puts_(o, ",\"port\":");
		putu(o, ntohs(port));
	}
	if (p) {
		put(o, ",", 1);
		puts_(o, p->frag);
	} else if (remote && ev->peer_id == PW_ID_HOST) {
		puts_(o, ",\"node\":true");
	} else if (remote && ev->peer_id >= PW_ID_CIDR_BASE &&
		   (cidr = cidr_of(m, ev->peer_id))) {
		puts_(o, ",\"cidr\":\"");
		puts_(o, cidr);
		put(o, "\"", 1);
	} else {
		puts_(o, ",\"world\":true");
	}
	put(o, "}", 1);
}

static const char *verdict(__u8 v)
{
	switch (v) {
	case PW_VERDICT_ALLOW:
		return "allowed";
	case PW_VERDICT_DROP:
		return "denied";
	case PW_VERDICT_AUDIT:
		return "audit";
	}
	return "unknown";
}

int pw_flowrec_format(const struct pw_flowmeta *m,
		      const struct pw_flow_event *ev, __u64 wall_ns,
		      __u32 count, char *buf, size_t len)
{
	const struct pod_ent *at = pod_of_ep(m, ev->ep_id);
	/* what the endpoint sends (egress) comes from its own address */
	bool local_src = ev->dir == PW_DIR_EGRESS;
	struct out o = {.p = buf, .len = len};
	char pb[8], flags[40];
	const char *pol;

	put(&o, "{", 1);
	put_time(&o, wall_ns);
	puts_(&o, ",\"type\":\"");
	puts_(&o, pw_event_type_name(ev->type));
	puts_(&o, "\",\"verdict\":\"");
	puts_(&o, verdict(ev->verdict));
	puts_(&o, "\",\"direction\":\"");
	puts_(&o, pw_dir_name(ev->dir));
	puts_(&o, "\",\"protocol\":\"");
	puts_(&o, pw_proto_name(ev->proto, pb, sizeof(pb)));
	puts_(&o, "\",\"src\":");
	put_end(&o, m, ev, ev->src, ev->sport, !local_src);
	puts_(&o, ",\"dst\":");
	put_end(&o, m, ev, ev->dst, ev->dport, local_src);
	if (ev->proto == IPPROTO_ICMP || ev->proto == IPPROTO_ICMPV6) {
		puts_(&o, ",\"icmp_type\":");
		putu(&o, ntohs(ev->dport) >> 8);
		puts_(&o, ",\"icmp_code\":");
		putu(&o, ntohs(ev->dport) & 0xff);
	}
	puts_(&o, ",\"observed_at\":\"");
	puts_(&o, at				    ? at->where
		  : ev->reason == PW_DROP_PREFILTER ? "prefilter"
						    : "");
	put(&o, "\"", 1);
	if (ev->proto == IPPROTO_TCP) {
		static const char *const names[] = {"FIN", "SYN", "RST", "PSH",
						    "ACK", "URG", "ECE", "CWR"};
		size_t n = 0;
		int i;

		flags[0] = '\0';
		for (i = 0; i < 8; i++)
			if (ev->tcp_flags & (1 << i))
				n += snprintf(flags + n, sizeof(flags) - n,
					      "%s%s", n ? "|" : "", names[i]);
		puts_(&o, ",\"tcp_flags\":\"");
		puts_(&o, flags);
		put(&o, "\"", 1);
	}
	puts_(&o, ev->is_reply ? ",\"is_reply\":true" : ",\"is_reply\":false");
	if (ev->reason) {
		puts_(&o, ",\"reason\":\"");
		puts_(&o, pw_drop_reason_name(ev->reason));
		put(&o, "\"", 1);
	}
	/* a prefilter drop's rule id is its line in the deny list */
	if (ev->rule_id != PW_RULE_DEFAULT && ev->reason != PW_DROP_PREFILTER &&
	    (pol = policy_of(m, ev->rule_id >> 12))) {
		char rule[32];

		puts_(&o, ",\"policy\":\"");
		puts_(&o, pol);
		snprintf(rule, sizeof(rule), "\",\"rule\":\"%s[%u]\"",
			 ev->rule_id & (1U << 11) ? "egress" : "ingress",
			 ev->rule_id & 0x7ff);
		puts_(&o, rule);
	}
	if (ev->type == PW_EV_END) {
		puts_(&o, ",\"packets\":{\"forward\":");
		putu(&o, ev->pkts[0]);
		puts_(&o, ",\"reply\":");
		putu(&o, ev->pkts[1]);
		puts_(&o, "},\"bytes\":{\"forward\":");
		putu(&o, ev->bytes[0]);
		puts_(&o, ",\"reply\":");
		putu(&o, ev->bytes[1]);
		put(&o, "}", 1);
	}
	puts_(&o, ",\"count\":");
	putu(&o, count);
	puts_(&o, ",\"ep_id\":");
	putu(&o, ev->ep_id);
	puts_(&o, ",\"rule_id\":");
	putu(&o, ev->rule_id);
	puts_(&o, ",\"peer_id\":");
	putu(&o, ev->peer_id);
	put(&o, "}", 1);
	if (o.n >= len)
		return -E2BIG;
	buf[o.n] = '\0';
	return o.n;
}

int pw_flowrec_lost(__u64 wall_ns, __u64 count, const char *source, char *buf,
		    size_t len)
{
	struct out o = {.p = buf, .len = len};

	put(&o, "{", 1);
	put_time(&o, wall_ns);
	puts_(&o, ",\"type\":\"lost\",\"count\":");
	putu(&o, count);
	puts_(&o, ",\"source\":\"");
	puts_(&o, source);
	puts_(&o, "\"}");
	if (o.n >= len)
		return -E2BIG;
	buf[o.n] = '\0';
	return o.n;
}
