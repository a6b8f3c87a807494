// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "flowfilter.h"
#include "model.h"

struct sel_term {
	char *key;
	char *value; /* NULL: exists or not */
	bool neg;
};

struct cond {
	enum pw_ff_what what;
	enum pw_ff_end end;
	char *value;
	/* PW_FF_IP */
	__u8 addr[16];
	__u32 plen;
	/* PW_FF_LABEL */
	struct sel_term *terms;
	int nterms;
	long port;
};

struct pw_flowfilter {
	struct cond *c;
	int n;
	__u64 since, until;
};

int pw_ff_new(struct pw_flowfilter **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void pw_ff_free(struct pw_flowfilter *f)
{
	int i, j;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		for (j = 0; j < f->c[i].nterms; j++) {
			free(f->c[i].terms[j].key);
			free(f->c[i].terms[j].value);
		}
		free(f->c[i].terms);
		free(f->c[i].value);
	}
	free(f->c);
	free(f);
}

static int parse_selector(struct cond *c, const char *s, char *err,
			  size_t errlen)
{
	char *copy = strdup(s), *tok, *save;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct sel_term t = {};
		struct sel_term *v;
		char *eq;

		while (isspace((unsigned char)*tok))
			tok++;
		if (*tok == '!') {
			t.neg = true;
			tok++;
		} else if ((eq = strstr(tok, "!="))) {
			*eq = '\0';
			t.neg = true;
			t.value = strdup(eq + 2);
		} else if ((eq = strchr(tok, '='))) {
			*eq = '\0';
			t.value = strdup(eq + 1 + (eq[1] == '='));
		}
		if (!*tok || strchr(tok, '=') || strchr(tok, '!')) {
			snprintf(err, errlen,
				 "--label: \"%s\": use k=v, k!=v, k or !k", s);
			free(t.value);
			free(copy);
			return -EINVAL;
		}
		t.key = strdup(tok);
		v = realloc(c->terms, (c->nterms + 1) * sizeof(*v));
		if (!v || !t.key) {
			free(t.key);
			free(t.value);
			free(copy);
			return -ENOMEM;
		}
		c->terms = v;
		v[c->nterms++] = t;
	}
	free(copy);
	if (!c->nterms) {
		snprintf(err, errlen, "--label: empty selector");
		return -EINVAL;
	}
	return 0;
}

int pw_ff_add(struct pw_flowfilter *f, enum pw_ff_what what, enum pw_ff_end end,
	      const char *value, char *err, size_t errlen)
{
	struct cond c = {.what = what, .end = end}, *v;
	char *endp;
	int ret = 0;

	c.value = strdup(value);
	if (!c.value)
		return -ENOMEM;
	switch (what) {
	case PW_FF_IP:
		/* a bare address is its host prefix */
		if (pw_cidr_parse(value, c.addr, &c.plen)) {
			snprintf(err, errlen,
				 "--ip: \"%s\" is not an address or a CIDR",
				 value);
			ret = -EINVAL;
		}
		break;
	case PW_FF_LABEL:
		ret = parse_selector(&c, value, err, errlen);
		break;
	case PW_FF_PORT:
		c.port = strtol(value, &endp, 10);
		if (!*value || *endp || c.port < 0 || c.port > 65535) {
			snprintf(err, errlen, "--port: \"%s\" is not a port",
				 value);
			ret = -EINVAL;
		}
		break;
	case PW_FF_VERDICT:
		if (strcmp(value, "allowed") && strcmp(value, "denied") &&
		    strcmp(value, "audit")) {
			snprintf(err, errlen,
				 "--verdict: \"%s\": allowed, denied or audit",
				 value);
			ret = -EINVAL;
		}
		break;
	default:
		break;
	}
	if (!ret) {
		v = realloc(f->c, (f->n + 1) * sizeof(*v));
		if (!v)
			ret = -ENOMEM;
		else {
			f->c = v;
			v[f->n++] = c;
			return 0;
		}
	}
	free(c.value);
	for (int j = 0; j < c.nterms; j++) {
		free(c.terms[j].key);
		free(c.terms[j].value);
	}
	free(c.terms);
	return ret;
}

void pw_ff_window(struct pw_flowfilter *f, __u64 since, __u64 until)
{
	f->since = since;
	f->until = until;
}

static const char *s_of(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool prefix(const char *s, const char *p)
{
	return s && !strncmp(s, p, strlen(p));
}

static bool end_matches(const struct cond *c, const cJSON *e)
{
	const char *ns = s_of(e, "namespace"), *pod = s_of(e, "pod");
	const cJSON *labels, *port;
	char full[512];
	__u8 a[16];
	int i;

	if (!e)
		return false;
	switch (c->what) {
	case PW_FF_NAMESPACE:
		return ns && !strcmp(ns, c->value);
	case PW_FF_POD:
		if (!ns || !pod)
			return false;
		if (!strchr(c->value, '/'))
			return prefix(pod, c->value);
		snprintf(full, sizeof(full), "%s/%s", ns, pod);
		return prefix(full, c->value);
	case PW_FF_LABEL:
		labels = cJSON_GetObjectItemCaseSensitive(e, "labels");
		if (!ns) /* not a pod: no labels to select on */
			return false;
		for (i = 0; i < c->nterms; i++) {
			const struct sel_term *t = &c->terms[i];
			const char *v = s_of(labels, t->key);
			bool hit = t->value ? v && !strcmp(v, t->value)
					    : v != NULL;

			if (hit == t->neg)
				return false;
		}
		return true;
	case PW_FF_IP: {
		struct pw_cidr cc = {.plen = c->plen};

		memcpy(cc.addr, c->addr, 16);
		return !pw_addr_parse(s_of(e, "ip") ?: "", a) &&
		       pw_cidr_contains(&cc, a, 128);
	}
	case PW_FF_PORT:
		port = cJSON_GetObjectItemCaseSensitive(e, "port");
		return cJSON_IsNumber(port) && port->valueint == c->port;
	default:
		return false;
	}
}

static bool cond_matches(const struct cond *c, const cJSON *rec)
{
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(rec, "src");
	const cJSON *dst = cJSON_GetObjectItemCaseSensitive(rec, "dst");

	switch (c->what) {
	case PW_FF_PROTOCOL:
		return !strcasecmp(s_of(rec, "protocol") ?: "", c->value);
	case PW_FF_VERDICT:
		return !strcmp(s_of(rec, "verdict") ?: "", c->value);
	case PW_FF_REASON:
		return !strcmp(s_of(rec, "reason") ?: "", c->value);
	case PW_FF_POLICY:
		return prefix(s_of(rec, "policy"), c->value);
	case PW_FF_TYPE:
		return !strcmp(s_of(rec, "type") ?: "", c->value);
	default:
		break;
	}
	switch (c->end) {
	case PW_FF_SRC:
		return end_matches(c, src);
	case PW_FF_DST:
		return end_matches(c, dst);
	default:
		return end_matches(c, src) || end_matches(c, dst);
	}
}

bool pw_ff_match(const struct pw_flowfilter *f, const cJSON *rec)
{
	int i, j;

	if (f->since || f->until) {
		__u64 t = pw_ff_record_time(rec);

		if ((f->since && t < f->since) || (f->until && t > f->until))
			return false;
	}
	/* conditions of one kind (what and end) OR together; kinds AND */
	for (i = 0; i < f->n; i++) {
		bool any = false, seen_before = false;

		for (j = 0; j < i; j++)
			if (f->c[j].what == f->c[i].what &&
			    f->c[j].end == f->c[i].end)
				seen_before = true;
		if (seen_before)
			continue;
		for (j = i; j < f->n && !any; j++)
			if (f->c[j].what == f->c[i].what &&
			    f->c[j].end == f->c[i].end)
				any = cond_matches(&f->c[j], rec);
		if (!any)
			return false;
	}
	return true;
}

__u64 pw_ff_record_time(const cJSON *rec)
{
	const char *s = s_of(rec, "time");
	__u64 t;

	if (!s || pw_ff_parse_time(s, 0, &t))
		return 0;
	return t;
}

int pw_ff_parse_time(const char *s, __u64 now_ns, __u64 *out)
{
	struct tm tm = {};
	const char *p;
	__u64 ns = 0, total = 0;
	time_t sec;

	/* relative: a sum of number+unit */
	if (isdigit((unsigned char)s[0]) && !strchr(s, '-') &&
	    !strchr(s, ':')) {
		p = s;
		while (*p) {
			char *endp;
			unsigned long v = strtoul(p, &endp, 10);
			__u64 unit;

			switch (*endp) {
			case 's':
				unit = 1;
				break;
			case 'm':
				unit = 60;
				break;
			case 'h':
				unit = 3600;
				break;
			case 'd':
				unit = 86400;
				break;
			default:
				return -EINVAL;
			}
			if (endp == p)
				return -EINVAL;
			total += v * unit;
			p = endp + 1;
		}
		if (total * 1000000000ULL > now_ns)
			return -EINVAL;
		*out = now_ns - total * 1000000000ULL;
		return 0;
	}
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		__u64 scale = 100000000ULL;

		for (p++; isdigit((unsigned char)*p); p++) {
			ns += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z')
		p++;
	if (*p)
		return -EINVAL;
	sec = timegm(&tm);
	if (sec < 0)
		return -EINVAL;
	*out = (__u64)sec * 1000000000ULL + ns;
	return 0;
}
