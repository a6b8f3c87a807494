// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Decoding and validation of Namespaces, Pods and NetworkPolicies. A
 * NetworkPolicy is read strictly: an unknown field is an error, as the API
 * server's strict field validation makes it. Of a Pod and a Namespace only
 * the fields the compiler needs are read, and the rest of what `kubectl get
 * -o yaml` prints is passed over.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include "addr.h"
#include "compile.h"
#include "manifest.h"
#include "yamltree.h"

/* Where an error is: the source, the object, and the field path. */
struct ctx {
	const char *src;
	char obj[320]; /* "NetworkPolicy ns/name" */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s%s%s%s%s", c->src, c->obj,
		 c->obj[0] ? ": " : "", path, path[0] ? ": " : "", msg);
	return -EINVAL;
}

#define PATH_LEN 256

__attribute__((format(printf, 3, 4))) static const char *
sub(char *buf, const char *path, const char *fmt, ...)
{
	char tail[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tail, sizeof(tail), fmt, ap);
	va_end(ap);
	snprintf(buf, PATH_LEN, "%s%s%s", path,
		 path[0] && tail[0] != '[' ? "." : "", tail);
	return buf;
}

/* Every member of @obj must be named in @known (NULL-terminated). */
static int only_fields(struct ctx *c, const cJSON *obj, const char *path,
		       const char *const *known)
{
	const cJSON *it;
	char p[PATH_LEN];
	int i;

	cJSON_ArrayForEach(it, obj)
	{
		for (i = 0; known[i]; i++)
			if (!strcmp(it->string, known[i]))
				break;
		if (!known[i])
			return fail(c, sub(p, path, "%s", it->string),
				    "unknown field");
	}
	return 0;
}

static int want_object(struct ctx *c, const cJSON *v, const char *path)
{
	if (!cJSON_IsObject(v))
		return fail(c, path, "must be an object");
	return 0;
}

static int get_string(struct ctx *c, const cJSON *v, const char *path,
		      const char **out)
{
	if (!cJSON_IsString(v))
		return fail(c, path, "must be a string");
	*out = v->valuestring;
	return 0;
}

static int get_int(struct ctx *c, const cJSON *v, const char *path, long lo,
		   long hi, long *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return fail(c, path, "must be an integer");
	d = v->valuedouble;
	if (d != floor(d) || d < lo || d > hi)
		return fail(c, path, "must be an integer from %ld to %ld", lo,
			    hi);
	*out = (long)d;
	return 0;
}

/* RFC 1123 label: lowercase alphanumerics and '-', alphanumeric ends. */
static bool dns_label(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (!n || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!(islower((unsigned char)ch) ||
		      isdigit((unsigned char)ch) ||
		      (ch == '-' && i && i + 1 < n)))
			return false;
	}
	return true;
}

/* RFC 1123 subdomain: labels joined by dots, 253 characters at most. */
static bool dns_subdomain(const char *s)
{
	char buf[254], *tok, *save;

	if (!*s || strlen(s) > 253)
		return false;
	strcpy(buf, s);
	if (buf[0] == '.' || buf[strlen(buf) - 1] == '.' || strstr(buf, ".."))
		return false;
	for (tok = strtok_r(buf, ".", &save); tok;
	     tok = strtok_r(NULL, ".", &save))
		if (!dns_label(tok, 63))
			return false;
	return true;
}

/* Label value, or the name part of a key: [A-Za-z0-9]([-A-Za-z0-9_.]*
 * [A-Za-z0-9])?, 63 characters at most; a value may also be empty. */
static bool label_name(const char *s, bool empty_ok)
{
	size_t n = strlen(s), i;

	if (!n)
		return empty_ok;
	if (n > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

/* Qualified name: an optional DNS subdomain prefix and '/', then a name. */
static bool label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[254];

	if (!slash)
		return label_name(s, false);
	if ((size_t)(slash - s) >= sizeof(prefix))
		return false;
	memcpy(prefix, s, slash - s);
	prefix[slash - s] = '\0';
	return dns_subdomain(prefix) && label_name(slash + 1, false);
}

bool pw_valid_dns_label(const char *s)
{
	return dns_label(s, 63);
}

bool pw_valid_dns_subdomain(const char *s)
{
	return dns_subdomain(s);
}

bool pw_valid_label_key(const char *k)
{
	return label_key(k);
}

bool pw_valid_label_value(const char *v)
{
	return label_name(v, true);
}

/* IANA service name, as a port name: 15 characters at most, lowercase
 * alphanumerics and '-', at least one letter, no '-' at the ends or twice in
 * a row. */
static bool svc_name(const char *s)
{
	size_t n = strlen(s), i;
	bool letter = false;

	if (!n || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			letter = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return letter;
}

static int decode_labels(struct ctx *c, const cJSON *v, const char *path,
			 struct pw_labels *out)
{
	char p[PATH_LEN];
	const cJSON *it;
	int err;

	if (!v || cJSON_IsNull(v))
		return 0;
	err = want_object(c, v, path);
	if (err)
		return err;
	cJSON_ArrayForEach(it, v)
	{
		sub(p, path, "%s", it->string);
		if (!label_key(it->string))
			return fail(c, p, "invalid label key");
		if (!cJSON_IsString(it))
			return fail(c, p, "must be a string");
		if (!label_name(it->valuestring, true))
			return fail(c, p, "invalid label value \"%s\"",
				    it->valuestring);
		if (pw_labels_set(out, it->string, it->valuestring))
			return fail(c, p, "out of memory");
	}
	return 0;
}

static int decode_selector(struct ctx *c, const cJSON *v, const char *path,
			   struct pw_selector *s)
{
	static const char *const fields[] = {"matchLabels", "matchExpressions",
					     NULL};
	static const char *const efields[] = {"key", "operator", "values",
					      NULL};
	static const struct {
		const char *name;
		enum pw_sel_op op;
	} ops[] = {
		{"In", PW_SEL_IN},
		{"NotIn", PW_SEL_NOT_IN},
		{"Exists", PW_SEL_EXISTS},
		{"DoesNotExist", PW_SEL_DOES_NOT_EXIST},
	};
	const cJSON *exprs, *e, *vals, *val;
	char p[PATH_LEN], q[PATH_LEN];
	int err, i, j, n;

	if (cJSON_IsNull(v))
		return 0;
	err = want_object(c, v, path);
	err = err ?: only_fields(c, v, path, fields);
	err = err
		      ?: decode_labels(c,
				       cJSON_GetObjectItemCaseSensitive(
					       v, "matchLabels"),
				       sub(p, path, "matchLabels"), &s->match);
	if (err)
		return err;
	exprs = cJSON_GetObjectItemCaseSensitive(v, "matchExpressions");
	if (!exprs || cJSON_IsNull(exprs))
		return 0;
	sub(p, path, "matchExpressions");
	if (!cJSON_IsArray(exprs))
		return fail(c, p, "must be a list");
	n = cJSON_GetArraySize(exprs);
	s->expr = calloc(n ?: 1, sizeof(*s->expr));
	if (!s->expr)
		return fail(c, p, "out of memory");
	for (i = 0; i < n; i++) {
		struct pw_sel_expr *x = &s->expr[i];
		const cJSON *key, *op;
		const char *str = NULL;
		size_t k;

		e = cJSON_GetArrayItem(exprs, i);
		sub(p, path, "matchExpressions[%d]", i);
		err = want_object(c, e, p);
		err = err ?: only_fields(c, e, p, efields);
		if (err)
			return err;
		s->nexpr++;
		key = cJSON_GetObjectItemCaseSensitive(e, "key");
		op = cJSON_GetObjectItemCaseSensitive(e, "operator");
		if (!key)
			return fail(c, sub(q, p, "key"), "required");
		err = get_string(c, key, sub(q, p, "key"), &str);
		if (err)
			return err;
		if (!label_key(str))
			return fail(c, q, "invalid label key");
		x->key = strdup(str);
		if (!op)
			return fail(c, sub(q, p, "operator"), "required");
		err = get_string(c, op, sub(q, p, "operator"), &str);
		if (err)
			return err;
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (!strcmp(str, ops[k].name))
				break;
		if (k == sizeof(ops) / sizeof(ops[0]))
			return fail(
				c, q,
				"must be In, NotIn, Exists or DoesNotExist");
		x->op = ops[k].op;
		vals = cJSON_GetObjectItemCaseSensitive(e, "values");
		sub(q, p, "values");
		if (vals && !cJSON_IsNull(vals) && !cJSON_IsArray(vals))
			return fail(c, q, "must be a list");
		j = vals && cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
		if ((x->op == PW_SEL_IN || x->op == PW_SEL_NOT_IN) && !j)
			return fail(c, q, "must be non-empty for In and NotIn");
		if ((x->op == PW_SEL_EXISTS ||
		     x->op == PW_SEL_DOES_NOT_EXIST) &&
		    j)
			return fail(
				c, q,
				"must be empty for Exists and DoesNotExist");
		x->values = calloc(j ?: 1, sizeof(char *));
		if (!x->key || !x->values)
			return fail(c, p, "out of memory");
		cJSON_ArrayForEach(val, vals)
		{
			char r[PATH_LEN];

			sub(r, q, "[%d]", x->nvalues);
			err = get_string(c, val, r, &str);
			if (err)
				return err;
			if (!label_name(str, true))
				return fail(c, r, "invalid label value \"%s\"",
					    str);
			x->values[x->nvalues] = strdup(str);
			if (!x->values[x->nvalues])
				return fail(c, r, "out of memory");
			x->nvalues++;
		}
	}
	return 0;
}

static struct pw_selector *new_selector(struct ctx *c, const cJSON *v,
					const char *path, int *err)
{
	struct pw_selector *s = calloc(1, sizeof(*s));

	if (!s) {
		*err = fail(c, path, "out of memory");
		return NULL;
	}
	*err = decode_selector(c, v, path, s);
	if (*err) {
		pw_selector_free(s);
		free(s);
		return NULL;
	}
	return s;
}

static int decode_cidr(struct ctx *c, const cJSON *v, const char *path,
		       struct pw_cidr *out)
{
	const char *s = NULL;
	int err;

	err = get_string(c, v, path, &s);
	if (err)
		return err;
	if (!strchr(s, '/') || pw_cidr_parse(s, out->addr, &out->plen))
		return fail(c, path, "invalid CIDR \"%s\"", s);
	/* ::ffff:a.b.c.d/n would mean IPv4 in IPv6 clothes: say it plainly */
	if (strchr(s, ':') && out->plen >= 96 && pw_addr_is4(out->addr))
		return fail(c, path,
			    "IPv4-mapped CIDR \"%s\": write it as an IPv4 CIDR",
			    s);
	return 0;
}

static int decode_ipblock(struct ctx *c, const cJSON *v, const char *path,
			  struct pw_ipblock **out)
{
	static const char *const fields[] = {"cidr", "except", NULL};
	struct pw_ipblock *b;
	char p[PATH_LEN];
	const cJSON *ex, *it;
	int err, n;

	err = want_object(c, v, path);
	err = err ?: only_fields(c, v, path, fields);
	if (err)
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return fail(c, path, "out of memory");
	*out = b;
	it = cJSON_GetObjectItemCaseSensitive(v, "cidr");
	if (!it)
		return fail(c, sub(p, path, "cidr"), "required");
	err = decode_cidr(c, it, sub(p, path, "cidr"), &b->cidr);
	if (err)
		return err;
	ex = cJSON_GetObjectItemCaseSensitive(v, "except");
	if (!ex || cJSON_IsNull(ex))
		return 0;
	if (!cJSON_IsArray(ex))
		return fail(c, sub(p, path, "except"), "must be a list");
	n = cJSON_GetArraySize(ex);
	b->except = calloc(n ?: 1, sizeof(*b->except));
	if (!b->except)
		return fail(c, path, "out of memory");
	cJSON_ArrayForEach(it, ex)
	{
		struct pw_cidr *e = &b->except[b->nexcept];

		sub(p, path, "except[%d]", b->nexcept);
		err = decode_cidr(c, it, p, e);
		if (err)
			return err;
		/* the API server wants a strict subset of cidr */
		if (pw_addr_is4(e->addr) != pw_addr_is4(b->cidr.addr) ||
		    e->plen <= b->cidr.plen ||
		    !pw_cidr_contains(&b->cidr, e->addr, e->plen))
			return fail(c, p, "must be a strict subset of cidr");
		b->nexcept++;
	}
	return 0;
}

static int decode_peer(struct ctx *c, const cJSON *v, const char *path,
		       struct pw_peer *peer)
{
	static const char *const fields[] = {"podSelector", "namespaceSelector",
					     "ipBlock", NULL};
	const cJSON *ps, *ns, *ib;
	char p[PATH_LEN];
	int err = 0;

	err = want_object(c, v, path);
	err = err ?: only_fields(c, v, path, fields);
	if (err)
		return err;
	ps = cJSON_GetObjectItemCaseSensitive(v, "podSelector");
	ns = cJSON_GetObjectItemCaseSensitive(v, "namespaceSelector");
	ib = cJSON_GetObjectItemCaseSensitive(v, "ipBlock");
	if (ps && cJSON_IsNull(ps))
		ps = NULL;
	if (ns && cJSON_IsNull(ns))
		ns = NULL;
	if (ib && cJSON_IsNull(ib))
		ib = NULL;
	if (!ps && !ns && !ib)
		return fail(c, path,
			    "must specify podSelector, namespaceSelector or "
			    "ipBlock");
	if (ib && (ps || ns))
		return fail(c, sub(p, path, "ipBlock"),
			    "may not be combined with podSelector or "
			    "namespaceSelector");
	if (ps) {
		peer->pod_sel =
			new_selector(c, ps, sub(p, path, "podSelector"), &err);
		if (err)
			return err;
	}
	if (ns) {
		peer->ns_sel = new_selector(
			c, ns, sub(p, path, "namespaceSelector"), &err);
		if (err)
			return err;
	}
	if (ib)
		return decode_ipblock(c, ib, sub(p, path, "ipBlock"),
				      &peer->ipblock);
	return 0;
}

static int decode_port(struct ctx *c, const cJSON *v, const char *path,
		       struct pw_port *port)
{
	static const char *const fields[] = {"protocol", "port", "endPort",
					     NULL};
	const cJSON *proto, *pt, *end;
	char p[PATH_LEN];
	const char *s = NULL;
	long n;
	int err;

	err = want_object(c, v, path);
	err = err ?: only_fields(c, v, path, fields);
	if (err)
		return err;
	port->proto = IPPROTO_TCP;
	proto = cJSON_GetObjectItemCaseSensitive(v, "protocol");
	if (proto && !cJSON_IsNull(proto)) {
		err = get_string(c, proto, sub(p, path, "protocol"), &s);
		if (err)
			return err;
		if (!strcmp(s, "TCP"))
			port->proto = IPPROTO_TCP;
		else if (!strcmp(s, "UDP"))
			port->proto = IPPROTO_UDP;
		else if (!strcmp(s, "SCTP"))
			port->proto = IPPROTO_SCTP;
		else
			return fail(c, p, "must be TCP, UDP or SCTP");
	}
	pt = cJSON_GetObjectItemCaseSensitive(v, "port");
	end = cJSON_GetObjectItemCaseSensitive(v, "endPort");
	if (end && cJSON_IsNull(end))
		end = NULL;
	if (!pt || cJSON_IsNull(pt)) {
		if (end)
			return fail(c, sub(p, path, "endPort"),
				    "may not be specified without port");
		port->any_port = true;
		return 0;
	}
	sub(p, path, "port");
	if (cJSON_IsString(pt)) {
		if (!svc_name(pt->valuestring))
			return fail(c, p, "invalid port name \"%s\"",
				    pt->valuestring);
		if (end)
			return fail(c, sub(p, path, "endPort"),
				    "may not be used with a named port");
		port->name = strdup(pt->valuestring);
		return port->name ? 0 : fail(c, p, "out of memory");
	}
	err = get_int(c, pt, p, 1, 65535, &n);
	if (err)
		return err;
	port->port = port->end_port = n;
	if (!end)
		return 0;
	err = get_int(c, end, sub(p, path, "endPort"), 1, 65535, &n);
	if (err)
		return err;
	if (n < port->port)
		return fail(c, p, "must be >= port");
	port->end_port = n;
	return 0;
}

static int decode_rules(struct ctx *c, const cJSON *v, const char *path,
			bool ingress, struct pw_rule **out, int *nout)
{
	static const char *const in_fields[] = {"from", "ports", NULL};
	static const char *const out_fields[] = {"to", "ports", NULL};
	const char *peers_key = ingress ? "from" : "to";
	char p[PATH_LEN], q[PATH_LEN];
	const cJSON *r, *list, *it;
	int err, n, i;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return fail(c, path, "must be a list");
	n = cJSON_GetArraySize(v);
	*out = calloc(n ?: 1, sizeof(**out));
	if (!*out)
		return fail(c, path, "out of memory");
	for (i = 0; i < n; i++) {
		struct pw_rule *rule = &(*out)[i];
		int k;

		r = cJSON_GetArrayItem(v, i);
		sub(p, path, "[%d]", i);
		err = want_object(c, r, p);
		err = err
			      ?: only_fields(c, r, p,
					     ingress ? in_fields : out_fields);
		if (err)
			return err;
		(*nout)++;
		list = cJSON_GetObjectItemCaseSensitive(r, peers_key);
		if (list && !cJSON_IsNull(list)) {
			sub(q, p, "%s", peers_key);
			if (!cJSON_IsArray(list))
				return fail(c, q, "must be a list");
			k = cJSON_GetArraySize(list);
			rule->peers = calloc(k ?: 1, sizeof(*rule->peers));
			if (!rule->peers)
				return fail(c, q, "out of memory");
			cJSON_ArrayForEach(it, list)
			{
				sub(q, p, "%s[%d]", peers_key, rule->npeers);
				err = decode_peer(c, it, q,
						  &rule->peers[rule->npeers++]);
				if (err)
					return err;
			}
		}
		list = cJSON_GetObjectItemCaseSensitive(r, "ports");
		if (list && !cJSON_IsNull(list)) {
			sub(q, p, "ports");
			if (!cJSON_IsArray(list))
				return fail(c, q, "must be a list");
			k = cJSON_GetArraySize(list);
			rule->ports = calloc(k ?: 1, sizeof(*rule->ports));
			if (!rule->ports)
				return fail(c, q, "out of memory");
			cJSON_ArrayForEach(it, list)
			{
				sub(q, p, "ports[%d]", rule->nports);
				err = decode_port(c, it, q,
						  &rule->ports[rule->nports++]);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static const char *const meta_fields[] = {
	"name",
	"namespace",
	"labels",
	"annotations",
	"uid",
	"resourceVersion",
	"generation",
	"creationTimestamp",
	"deletionTimestamp",
	"deletionGracePeriodSeconds",
	"managedFields",
	"finalizers",
	"ownerReferences",
	"selfLink",
	"generateName",
	NULL,
};

/* metadata: name (required), namespace (default "default"), labels. */
static int decode_meta(struct ctx *c, const cJSON *doc, const char *kind,
		       bool namespaced, char **name, char **ns,
		       struct pw_labels *labels)
{
	const cJSON *meta, *it;
	const char *s = "default";
	int err;

	meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	if (!meta)
		return fail(c, "metadata", "required");
	err = want_object(c, meta, "metadata");
	err = err ?: only_fields(c, meta, "metadata", meta_fields);
	if (err)
		return err;
	it = cJSON_GetObjectItemCaseSensitive(meta, "name");
	if (!it)
		return fail(c, "metadata.name", "required");
	err = get_string(c, it, "metadata.name", &s);
	if (err)
		return err;
	if (!strcmp(kind, "Namespace") ? !dns_label(s, 63) : !dns_subdomain(s))
		return fail(c, "metadata.name", "invalid name \"%s\"", s);
	*name = strdup(s);
	s = "default";
	it = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
	if (namespaced && it && !cJSON_IsNull(it)) {
		err = get_string(c, it, "metadata.namespace", &s);
		if (err)
			return err;
		if (!dns_label(s, 63))
			return fail(c, "metadata.namespace",
				    "invalid namespace \"%s\"", s);
	}
	if (namespaced)
		*ns = strdup(s);
	if (!*name || (namespaced && !*ns))
		return fail(c, "metadata", "out of memory");
	snprintf(c->obj, sizeof(c->obj), "%s %s%s%s", kind,
		 namespaced ? *ns : "", namespaced ? "/" : "", *name);
	if (!labels)
		return 0;
	return decode_labels(c,
			     cJSON_GetObjectItemCaseSensitive(meta, "labels"),
			     "metadata.labels", labels);
}

static int decode_netpol(struct ctx *c, const cJSON *doc,
			 struct pw_netpol **out)
{
	static const char *const top[] = {"apiVersion", "kind",	  "metadata",
					  "spec",	"status", NULL};
	static const char *const fields[] = {"podSelector", "policyTypes",
					     "ingress", "egress", NULL};
	struct pw_labels labels = {};
	const cJSON *spec, *it, *types;
	struct pw_netpol *np;
	const char *s = NULL;
	int err;

	np = calloc(1, sizeof(*np));
	if (!np)
		return fail(c, "", "out of memory");
	*out = np;
	err = decode_meta(c, doc, "NetworkPolicy", true, &np->name, &np->ns,
			  &labels);
	pw_labels_free(&labels);
	err = err ?: only_fields(c, doc, "", top);
	if (err)
		return err;
	spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	if (!spec)
		return fail(c, "spec", "required");
	err = want_object(c, spec, "spec");
	err = err ?: only_fields(c, spec, "spec", fields);
	if (err)
		return err;
	it = cJSON_GetObjectItemCaseSensitive(spec, "podSelector");
	if (!it)
		return fail(c, "spec.podSelector", "required");
	err = decode_selector(c, it, "spec.podSelector", &np->pod_sel);
	err = err
		      ?: decode_rules(c,
				      cJSON_GetObjectItemCaseSensitive(
					      spec, "ingress"),
				      "spec.ingress", true, &np->in, &np->nin);
	err = err
		      ?: decode_rules(c,
				      cJSON_GetObjectItemCaseSensitive(
					      spec, "egress"),
				      "spec.egress", false, &np->out,
				      &np->nout);
	if (err)
		return err;
	/* the rule's index is part of its id in the datapath */
	if (np->nin > PW_RULE_INDEX_MAX)
		return fail(c, "spec.ingress",
			    "%d rules, at most %d per policy", np->nin,
			    PW_RULE_INDEX_MAX);
	if (np->nout > PW_RULE_INDEX_MAX)
		return fail(c, "spec.egress", "%d rules, at most %d per policy",
			    np->nout, PW_RULE_INDEX_MAX);

	types = cJSON_GetObjectItemCaseSensitive(spec, "policyTypes");
	if (!types || cJSON_IsNull(types) ||
	    (cJSON_IsArray(types) && !cJSON_GetArraySize(types))) {
		/* Kubernetes' defaulting: Ingress always, Egress when there
		 * are egress rules */
		np->ingress = true;
		np->egress = np->nout > 0;
		return 0;
	}
	if (!cJSON_IsArray(types))
		return fail(c, "spec.policyTypes", "must be a list");
	cJSON_ArrayForEach(it, types)
	{
		char p[PATH_LEN];
		bool *slot;

		sub(p, "spec.policyTypes", "[%d]", np->ingress + np->egress);
		err = get_string(c, it, p, &s);
		if (err)
			return err;
		if (!strcmp(s, "Ingress"))
			slot = &np->ingress;
		else if (!strcmp(s, "Egress"))
			slot = &np->egress;
		else
			return fail(c, p, "must be Ingress or Egress");
		if (*slot)
			return fail(c, p, "duplicate \"%s\"", s);
		*slot = true;
	}
	return 0;
}

static int decode_pod(struct ctx *c, const cJSON *doc, struct pw_pod **out)
{
	const cJSON *spec, *conts, *cont, *ports, *pt, *status, *ips, *it;
	char p[PATH_LEN], q[PATH_LEN];
	struct pw_pod *pod;
	int err, i = 0, j;
	const char *s = NULL;
	long n;

	pod = calloc(1, sizeof(*pod));
	if (!pod)
		return fail(c, "", "out of memory");
	*out = pod;
	err = decode_meta(c, doc, "Pod", true, &pod->name, &pod->ns,
			  &pod->labels);
	if (err)
		return err;
	spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	conts = spec ? cJSON_GetObjectItemCaseSensitive(spec, "containers")
		     : NULL;
	cJSON_ArrayForEach(cont, conts)
	{
		ports = cJSON_GetObjectItemCaseSensitive(cont, "ports");
		j = 0;
		cJSON_ArrayForEach(pt, ports)
		{
			struct pw_cport *cp, *v;
			const cJSON *f;

			sub(p, "spec", "containers[%d].ports[%d]", i, j++);
			v = realloc(pod->ports, (pod->nports + 1) * sizeof(*v));
			if (!v)
				return fail(c, p, "out of memory");
			pod->ports = v;
			cp = &v[pod->nports++];
			memset(cp, 0, sizeof(*cp));
			cp->proto = IPPROTO_TCP;
			f = cJSON_GetObjectItemCaseSensitive(pt,
							     "containerPort");
			if (!f)
				return fail(c, sub(q, p, "containerPort"),
					    "required");
			err = get_int(c, f, sub(q, p, "containerPort"), 1,
				      65535, &n);
			if (err)
				return err;
			cp->port = n;
			f = cJSON_GetObjectItemCaseSensitive(pt, "protocol");
			if (f) {
				err = get_string(c, f, sub(q, p, "protocol"),
						 &s);
				if (err)
					return err;
				if (!strcmp(s, "UDP"))
					cp->proto = IPPROTO_UDP;
				else if (!strcmp(s, "SCTP"))
					cp->proto = IPPROTO_SCTP;
				else if (strcmp(s, "TCP"))
					return fail(c, q,
						    "must be TCP, UDP or SCTP");
			}
			f = cJSON_GetObjectItemCaseSensitive(pt, "name");
			if (f) {
				err = get_string(c, f, sub(q, p, "name"), &s);
				if (err)
					return err;
				if (!svc_name(s))
					return fail(c, q,
						    "invalid port name \"%s\"",
						    s);
				cp->name = strdup(s);
				if (!cp->name)
					return fail(c, q, "out of memory");
			}
		}
		i++;
	}
	status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	ips = status ? cJSON_GetObjectItemCaseSensitive(status, "podIPs")
		     : NULL;
	i = 0;
	cJSON_ArrayForEach(it, ips)
	{
		const cJSON *ip = cJSON_GetObjectItemCaseSensitive(it, "ip");

		sub(p, "status", "podIPs[%d].ip", i++);
		err = get_string(c, ip, p, &s);
		if (err)
			return err;
		if (pod->nips == PW_POD_IPS_MAX)
			return fail(c, p, "more than %d pod IPs",
				    PW_POD_IPS_MAX);
		if (pw_addr_parse(s, pod->ips[pod->nips]))
			return fail(c, p, "invalid IP \"%s\"", s);
		pod->nips++;
	}
	it = status ? cJSON_GetObjectItemCaseSensitive(status, "podIP") : NULL;
	if (it && !cJSON_IsNull(it)) {
		__u8 a[16];

		err = get_string(c, it, "status.podIP", &s);
		if (err)
			return err;
		if (pw_addr_parse(s, a))
			return fail(c, "status.podIP", "invalid IP \"%s\"", s);
		/* podIP is podIPs[0]; take it alone when podIPs is absent */
		if (!pod->nips)
			memcpy(pod->ips[pod->nips++], a, 16);
		else if (memcmp(a, pod->ips[0], 16))
			return fail(c, "status.podIP",
				    "differs from status.podIPs[0]");
	}
	return 0;
}

static int decode_namespace(struct ctx *c, const cJSON *doc,
			    struct pw_namespace **out)
{
	struct pw_namespace *ns = calloc(1, sizeof(*ns));
	int err;

	if (!ns)
		return fail(c, "", "out of memory");
	*out = ns;
	err = decode_meta(c, doc, "Namespace", false, &ns->name, NULL,
			  &ns->labels);
	if (err)
		return err;
	/* set by the API server on every namespace, whatever the user says */
	if (pw_labels_set(&ns->labels, "kubernetes.io/metadata.name", ns->name))
		return fail(c, "metadata.labels", "out of memory");
	return 0;
}

static int push(struct pw_objects *out, struct pw_object obj)
{
	struct pw_object *v = realloc(out->v, (out->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	out->v = v;
	v[out->n++] = obj;
	return 0;
}

void pw_object_free(struct pw_object *o)
{
	switch (o->kind) {
	case PW_KIND_NAMESPACE:
		pw_namespace_free(o->ns);
		break;
	case PW_KIND_POD:
		pw_pod_free(o->pod);
		break;
	case PW_KIND_NETPOL:
		pw_netpol_free(o->np);
		break;
	}
}

void pw_objects_free(struct pw_objects *objs)
{
	int i;

	for (i = 0; i < objs->n; i++)
		pw_object_free(&objs->v[i]);
	free(objs->v);
	objs->v = NULL;
	objs->n = 0;
}

static int decode_one(struct ctx *c, const cJSON *doc, const char *path,
		      struct pw_objects *out, int depth)
{
	const cJSON *kind, *api, *items, *it;
	struct pw_object obj = {};
	char p[PATH_LEN];
	const char *k = NULL, *a = NULL;
	int err, i = 0;

	c->obj[0] = '\0';
	err = want_object(c, doc, path);
	if (err)
		return err;
	kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	api = cJSON_GetObjectItemCaseSensitive(doc, "apiVersion");
	if (!kind)
		return fail(c, sub(p, path, "kind"), "required");
	if (!api)
		return fail(c, sub(p, path, "apiVersion"), "required");
	err = get_string(c, kind, sub(p, path, "kind"), &k);
	err = err ?: get_string(c, api, sub(p, path, "apiVersion"), &a);
	if (err)
		return err;

	if (!strcmp(k, "List") || !strcmp(k, "NetworkPolicyList") ||
	    !strcmp(k, "PodList") || !strcmp(k, "NamespaceList")) {
		if (depth)
			return fail(c, path, "a List inside a List");
		items = cJSON_GetObjectItemCaseSensitive(doc, "items");
		if (items && !cJSON_IsArray(items) && !cJSON_IsNull(items))
			return fail(c, sub(p, path, "items"), "must be a list");
		cJSON_ArrayForEach(it, items)
		{
			err = decode_one(c, it, sub(p, path, "items[%d]", i++),
					 out, depth + 1);
			if (err)
				return err;
		}
		return 0;
	}
	if (strcmp(k, "NetworkPolicy") && strcmp(k, "Pod") &&
	    strcmp(k, "Namespace"))
		return fail(c, sub(p, path, "kind"),
			    "unsupported kind \"%s\" (NetworkPolicy, Pod, "
			    "Namespace or List)",
			    k);
	/* until metadata names it, the object is its kind and place */
	snprintf(c->obj, sizeof(c->obj), "%s%s%s", k, path[0] ? " " : "", path);
	if (!strcmp(k, "NetworkPolicy")) {
		if (strcmp(a, "networking.k8s.io/v1"))
			return fail(c, sub(p, path, "apiVersion"),
				    "NetworkPolicy needs networking.k8s.io/v1");
		obj.kind = PW_KIND_NETPOL;
		err = decode_netpol(c, doc, &obj.np);
	} else {
		if (strcmp(a, "v1"))
			return fail(c, sub(p, path, "apiVersion"),
				    "%s needs v1", k);
		if (k[0] == 'P') {
			obj.kind = PW_KIND_POD;
			err = decode_pod(c, doc, &obj.pod);
		} else {
			obj.kind = PW_KIND_NAMESPACE;
			err = decode_namespace(c, doc, &obj.ns);
		}
	}
	if (!err && push(out, obj))
		err = fail(c, "", "out of memory");
	if (err)
		pw_object_free(&obj);
	return err;
}

/* Decode into a scratch list first, so an error adds nothing. */
static int decode_all(struct ctx *c, const cJSON *docs, bool array_of_docs,
		      struct pw_objects *out)
{
	struct pw_objects tmp = {};
	struct pw_object *v;
	const cJSON *doc;
	char p[PATH_LEN];
	int err = 0, i = 0;

	if (array_of_docs) {
		cJSON_ArrayForEach(doc, docs)
		{
			if (i)
				sub(p, "", "document %d", i + 1);
			else
				p[0] = '\0';
			err = decode_one(c, doc, p, &tmp, 0);
			i++;
			if (err)
				break;
		}
	} else {
		err = decode_one(c, docs, "", &tmp, 0);
	}
	if (!err && tmp.n) {
		v = realloc(out->v, (out->n + tmp.n) * sizeof(*v));
		if (!v) {
			err = fail(c, "", "out of memory");
		} else {
			out->v = v;
			memcpy(&v[out->n], tmp.v, tmp.n * sizeof(*v));
			out->n += tmp.n;
			free(tmp.v);
			return 0;
		}
	}
	pw_objects_free(&tmp);
	return err;
}

int pw_manifest_load_buf(const char *buf, size_t len, const char *src,
			 struct pw_objects *out, char *err, size_t errlen)
{
	struct ctx c = {.src = src, .err = err, .errlen = errlen};
	const char *end = buf + len, *s = buf;
	char yerr[256];
	cJSON *docs;
	int ret;

	while (s < end && isspace((unsigned char)*s))
		s++;
	if (s < end && *s == '{') {
		const char *stop = NULL;

		docs = cJSON_ParseWithLengthOpts(buf, len, &stop, false);
		while (docs && stop && stop < end &&
		       isspace((unsigned char)*stop))
			stop++;
		if (!docs || (stop && stop < end)) {
			const char *at = docs ? stop : cJSON_GetErrorPtr();

			cJSON_Delete(docs);
			snprintf(err, errlen, "%s: invalid JSON near byte %td",
				 src,
				 at && at >= buf ? at - buf : (ptrdiff_t)0);
			return -EINVAL;
		}
		ret = decode_all(&c, docs, false, out);
	} else {
		/* YAML, which also reads JSON arrays and flow style */
		ret = pw_yaml_parse(buf, len, &docs, yerr, sizeof(yerr));
		if (ret) {
			snprintf(err, errlen, "%s: %s", src, yerr);
			return ret;
		}
		ret = decode_all(&c, docs, true, out);
	}
	cJSON_Delete(docs);
	return ret;
}

static int load_file(const char *path, struct pw_objects *out, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	do {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > (64U << 20)) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: larger than 64 MiB",
					 path);
				return -EFBIG;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory",
					 path);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	ret = pw_manifest_load_buf(buf, len, path, out, err, errlen);
	free(buf);
	return ret;
}

bool pw_manifest_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	return (n > 5 && !strcmp(name + n - 5, ".json")) ||
	       (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

int pw_manifest_load_path(const char *path, struct pw_objects *out, char *err,
			  size_t errlen)
{
	struct pw_objects tmp = {};
	struct dirent **names;
	struct stat st;
	int i, n, ret = 0;

	if (stat(path, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path, out, err, errlen);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++) {
		char file[4096];

		if (!ret && pw_manifest_name(names[i]->d_name)) {
			snprintf(file, sizeof(file), "%s/%s", path,
				 names[i]->d_name);
			ret = load_file(file, &tmp, err, errlen);
		}
		free(names[i]);
	}
	free(names);
	if (ret) {
		pw_objects_free(&tmp);
		return ret;
	}
	for (i = 0; i < tmp.n; i++) {
		if (push(out, tmp.v[i])) {
			/* out owns what was pushed; free the rest */
			for (; i < tmp.n; i++)
				pw_object_free(&tmp.v[i]);
			free(tmp.v);
			snprintf(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
	}
	free(tmp.v);
	return 0;
}

static int split_add(cJSON *out, const cJSON *doc)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind"), *it;
	const char *k = cJSON_GetStringValue(kind);
	size_t n = k ? strlen(k) : 0;

	if (n >= 4 && !strcmp(k + n - 4, "List")) {
		cJSON_ArrayForEach(
			it,
			cJSON_GetObjectItemCaseSensitive(
				doc,
				"i"
				"t"
				"e"
				"m"
				"s")) if (!cJSON_AddItemToArray(out,
								cJSON_Duplicate(
									it,
									true))) return -ENOMEM;
		return 0;
	}
	return cJSON_AddItemToArray(out, cJSON_Duplicate(doc, true)) ? 0
								     : -ENOMEM;
}

int pw_manifest_split(const char *buf, size_t len, const char *src, cJSON **out,
		      char *err, size_t errlen)
{
	struct pw_objects objs = {};
	cJSON *docs = NULL, *res, *d;
	char yerr[256];
	int ret;

	ret = pw_manifest_load_buf(buf, len, src, &objs, err, errlen);
	pw_objects_free(&objs);
	if (ret)
		return ret;
	/* it parsed just now, the same way */
	while (len && isspace((unsigned char)*buf))
		buf++, len--;
	if (len && *buf == '{') {
		docs = cJSON_CreateArray();
		if (docs)
			cJSON_AddItemToArray(docs,
					     cJSON_ParseWithLength(buf, len));
	} else if (pw_yaml_parse(buf, len, &docs, yerr, sizeof(yerr))) {
		snprintf(err, errlen, "%s: %s", src, yerr);
		return -EINVAL;
	}
	res = cJSON_CreateArray();
	ret = res ? 0 : -ENOMEM;
	cJSON_ArrayForEach(d, docs) if (!ret) ret = split_add(res, d);
	cJSON_Delete(docs);
	if (ret) {
		cJSON_Delete(res);
		snprintf(err, errlen, "%s: out of memory", src);
		return ret;
	}
	*out = res;
	return 0;
}
