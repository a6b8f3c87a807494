// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * YAML to cJSON, over libyaml's event API. The aim is the JSON that
 * `kubectl apply` would send for the same file: kubectl converts YAML with
 * sigs.k8s.io/yaml, which resolves scalars with go-yaml v2 (YAML 1.1
 * flavoured) and then marshals to JSON.
 *
 * Plain (unquoted, untagged) scalars:
 *   - null: empty, ~, null, Null, NULL.
 *   - booleans: true/false in three casings and, as go-yaml v2 and so
 *     kubectl do, YAML 1.1's y/n, yes/no and on/off (same casings). A label
 *     value "on" must then be quoted, exactly as for the API server, which
 *     rejects a boolean where a string belongs; a NetworkPolicy has no
 *     field where yes/no could be meant.
 *   - integers: [-+]?[0-9]+ without leading zeros, 0x hex and 0o octal.
 *     Beyond +-2^53 a double is no longer exact, so such an integer is an
 *     error rather than a silently different number (quote it for a
 *     string). 010 is octal in YAML 1.1 (kubectl: 8) and decimal in 1.2,
 *     so it stays a string; so do 1_000 and 0b101, which YAML 1.2 lacks.
 *   - floats, YAML 1.2 core syntax (1.5, .5, 1e3, -2.5E-3), as numbers.
 *     .inf, .nan and overflowing floats are errors: JSON has no form for
 *     them (json.Marshal fails on them for kubectl too).
 *   - everything else, timestamps included, is a string.
 * Quoted and block (| >) scalars are strings. Tags: !!str and the
 * non-specific "!" force a string, !!int, !!float, !!bool and !!null force
 * that type (or fail), !!timestamp is a string; other tags are errors.
 *
 * Keys are scalars taken as written ("0x10" stays "0x10", where kubectl
 * would say "16"); null keys and collection keys are errors, and so is a
 * duplicate key (go-yaml v2 would let the last one win). Aliases are deep
 * copies of their anchor; a merge key (<<) takes a mapping or a list of
 * mappings and never overrides the mapping's own keys, earlier sources
 * winning over later ones.
 *
 * Bounds: containers nest at most PW_YAML_MAX_DEPTH deep, aliases
 * included, and aliases and merges may copy at most PW_YAML_MAX_ALIAS_NODES
 * nodes per call, which stops a "billion laughs" document. Nodes written
 * out in the text are not counted: they cost memory in proportion to the
 * input, and a large cluster dump should not fail.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* libyaml's header, through ours when -Iuser/compiler shadows it */
#include <yaml.h>
#include "yamltree.h"

#define TAG_PREFIX   "tag:yaml.org,2002:"
#define MAX_SAFE_INT (1ULL << 53)

/* One key of a mapping being built. */
struct ent {
	char *key;
	cJSON *val;	   /* owned: a key written in this mapping */
	const cJSON *src;  /* borrowed: a merged key's value, copied if kept */
	unsigned int prio; /* 0 for own keys, then 1, 2.. per merged mapping */
	size_t line, col;
	bool drop;
};

/* An open sequence or mapping. */
struct frame {
	bool map;
	cJSON *seq;
	struct ent *ents; /* keys in document order */
	size_t n, cap;
	char *key; /* a key waiting for its value */
	size_t key_line, key_col;
	bool merge;    /* ...and that key is << */
	cJSON *merges; /* values of << keys, in order */
	char *anchor;
	yaml_mark_t mark;
};

struct anchor {
	struct anchor *next;
	char *name;
	const cJSON *node;
	char *text; /* a scalar's text as written, for use as a key */
};

struct yp {
	yaml_parser_t parser;
	bool parser_ok;
	struct frame stack[PW_YAML_MAX_DEPTH];
	int depth;
	cJSON *root; /* the current document's */
	/* Anchored nodes that are not in the output (keys, merge sources):
	 * kept until the document ends, unchanged, for aliases to copy. */
	cJSON *keep;
	struct anchor **tab;
	size_t tabsize, nanchors;
	unsigned long copied; /* nodes added by aliases and merges */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 4, 5))) static int
fail_at(struct yp *p, size_t line, size_t col, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->errlen)
		snprintf(p->err, p->errlen, "line %zu, column %zu: %s",
			 line + 1, col + 1, msg);
	return -EINVAL;
}

#define fail(p, mark, ...) fail_at(p, (mark).line, (mark).column, __VA_ARGS__)

static int nomem(struct yp *p)
{
	if (p->errlen)
		snprintf(p->err, p->errlen, "out of memory");
	return -ENOMEM;
}

static size_t hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct anchor *anchor_find(struct yp *p, const char *name)
{
	struct anchor *a;

	if (!p->tabsize)
		return NULL;
	for (a = p->tab[hash(name) & (p->tabsize - 1)]; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* Takes name. A redefined anchor shadows the old one, as YAML says. */
static int anchor_add(struct yp *p, char *name, const cJSON *node,
		      const char *text)
{
	struct anchor *a;
	size_t i;

	if (p->nanchors >= p->tabsize) {
		size_t size = p->tabsize ? p->tabsize * 2 : 64;
		struct anchor **tab = calloc(size, sizeof(*tab));

		if (!tab)
			goto nomem;
		for (i = 0; i < p->tabsize; i++) {
			while ((a = p->tab[i])) {
				size_t b = hash(a->name) & (size - 1);

				p->tab[i] = a->next;
				a->next = tab[b];
				tab[b] = a;
			}
		}
		free(p->tab);
		p->tab = tab;
		p->tabsize = size;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		goto nomem;
	if (text && !(a->text = strdup(text))) {
		free(a);
		goto nomem;
	}
	a->name = name;
	a->node = node;
	i = hash(name) & (p->tabsize - 1);
	a->next = p->tab[i];
	p->tab[i] = a;
	p->nanchors++;
	return 0;
nomem:
	free(name);
	return nomem(p);
}

static void anchors_clear(struct yp *p)
{
	struct anchor *a;
	size_t i;

	for (i = 0; i < p->tabsize; i++) {
		while ((a = p->tab[i])) {
			p->tab[i] = a->next;
			free(a->name);
			free(a->text);
			free(a);
		}
	}
	free(p->tab);
	p->tab = NULL;
	p->tabsize = 0;
	p->nanchors = 0;
}

static int keep(struct yp *p, cJSON *node)
{
	if (!p->keep && !(p->keep = cJSON_CreateArray())) {
		cJSON_Delete(node);
		return nomem(p);
	}
	cJSON_AddItemToArray(p->keep, node);
	return 0;
}

static void frame_free(struct frame *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->ents[i].key);
		cJSON_Delete(f->ents[i].val);
	}
	free(f->ents);
	free(f->key);
	cJSON_Delete(f->merges);
	cJSON_Delete(f->seq);
	free(f->anchor);
	memset(f, 0, sizeof(*f));
}

static struct frame *top(struct yp *p)
{
	return p->depth ? &p->stack[p->depth - 1] : NULL;
}

/* Nodes in, and container levels of, a tree (depth bounded by parsing). */
static void tree_stats(const cJSON *n, unsigned long *count, int *height)
{
	const cJSON *c;
	int h = 0, ch;

	(*count)++;
	*height = 0;
	if (!cJSON_IsArray(n) && !cJSON_IsObject(n))
		return;
	cJSON_ArrayForEach(c, n)
	{
		tree_stats(c, count, &ch);
		if (ch > h)
			h = ch;
	}
	*height = h + 1;
}

/* Charges a copy of n to the alias budget. */
static int charge(struct yp *p, const cJSON *n, yaml_mark_t m)
{
	unsigned long count = 0;
	int height;

	tree_stats(n, &count, &height);
	if (p->depth + height > PW_YAML_MAX_DEPTH)
		return fail(p, m, "nesting deeper than %d levels",
			    PW_YAML_MAX_DEPTH);
	if (count > PW_YAML_MAX_ALIAS_NODES - p->copied)
		return fail(
			p, m,
			"aliases and merge keys expand to more than %d nodes",
			PW_YAML_MAX_ALIAS_NODES);
	p->copied += count;
	return 0;
}

static bool word_in(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
/* YAML 1.1's, as go-yaml v2 resolves them for kubectl */
static const char *const true_words[] = {"true", "True", "TRUE", "yes",
					 "Yes",	 "YES",	 "y",	 "Y",
					 "on",	 "On",	 "ON",	 NULL};
static const char *const false_words[] = {"false", "False", "FALSE", "no",
					  "No",	   "NO",    "n",     "N",
					  "off",   "Off",   "OFF",   NULL};
static const char *const infnan_words[] = {
	".inf",	 ".Inf",  ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
	"-.Inf", "-.INF", ".nan", ".NaN",  ".NAN",  NULL};

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* 1 and *v: an integer; 0: not one; -ERANGE: one beyond 2^53. */
static int parse_int(const char *s, double *v)
{
	unsigned int base = 10, x;
	bool neg = false;
	uint64_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		s += 2;
	} else {
		if (*s == '-' || *s == '+')
			neg = *s++ == '-';
		if (s[0] == '0' && s[1])
			return 0;
	}
	if (!*s)
		return 0;
	for (; *s; s++) {
		x = digit(*s);
		if (x >= base)
			return 0;
		if (n <= MAX_SAFE_INT) /* past it, only check the syntax */
			n = n * base + x;
	}
	if (n > MAX_SAFE_INT)
		return -ERANGE;
	*v = neg ? -(double)n : (double)n;
	return 1;
}

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* YAML 1.2 core floats with a '.' or an exponent; as parse_int. */
static int parse_float(const char *s, double *v)
{
	bool ipart = false, fpart = false, point = false, exp = false;
	const char *d = s;
	double x;

	if (*d == '-' || *d == '+')
		d++;
	for (; isdig(*d); d++)
		ipart = true;
	if (*d == '.') {
		point = true;
		for (d++; isdig(*d); d++)
			fpart = true;
	}
	if (!ipart && !fpart)
		return 0;
	if (*d == 'e' || *d == 'E') {
		exp = true;
		d++;
		if (*d == '-' || *d == '+')
			d++;
		if (!isdig(*d))
			return 0;
		while (isdig(*d))
			d++;
	}
	if (*d || (!point && !exp))
		return 0;
	x = strtod(s, NULL);
	if (!isfinite(x))
		return -ERANGE;
	*v = x;
	return 1;
}

enum want { W_ANY, W_STR, W_NULL, W_BOOL, W_INT, W_FLOAT };

static bool tag_is(const char *tag, const char *name)
{
	return !strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1) &&
	       !strcmp(tag + sizeof(TAG_PREFIX) - 1, name);
}

static const char *const want_names[] = {
	[W_NULL] = "null",
	[W_BOOL] = "bool",
	[W_INT] = "int",
	[W_FLOAT] = "float",
};

/* A value scalar as a cJSON node. */
static int resolve(struct yp *p, const yaml_event_t *ev, cJSON **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	yaml_mark_t m = ev->start_mark;
	enum want want = W_ANY;
	double v;
	int r;

	*out = NULL;
	if (tag) {
		if (!strcmp(tag, "!") || tag_is(tag, "str") ||
		    tag_is(tag, "timestamp") || tag_is(tag, "merge"))
			want = W_STR;
		else if (tag_is(tag, "null"))
			want = W_NULL;
		else if (tag_is(tag, "bool"))
			want = W_BOOL;
		else if (tag_is(tag, "int"))
			want = W_INT;
		else if (tag_is(tag, "float"))
			want = W_FLOAT;
		else
			return fail(p, m, "unsupported tag %.64s", tag);
	} else if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		want = W_STR;
	}

	if (want == W_STR)
		goto string;
	if ((want == W_ANY || want == W_NULL) && word_in(s, null_words)) {
		*out = cJSON_CreateNull();
		goto done;
	}
	if (want == W_ANY || want == W_BOOL) {
		if (word_in(s, true_words) || word_in(s, false_words)) {
			*out = cJSON_CreateBool(word_in(s, true_words));
			goto done;
		}
	}
	if (want == W_ANY || want == W_INT || want == W_FLOAT) {
		r = parse_int(s, &v);
		if (r < 0)
			return fail(p, m,
				    "integer %.40s is beyond 2^53, which JSON "
				    "numbers do not hold exactly (quote it for "
				    "a string)",
				    s);
		if (r > 0) {
			*out = cJSON_CreateNumber(v);
			goto done;
		}
	}
	if (want == W_ANY || want == W_FLOAT) {
		r = parse_float(s, &v);
		if (r < 0 || word_in(s, infnan_words))
			return fail(p, m,
				    "%.40s: infinity and NaN have no JSON form "
				    "(quote it for a string)",
				    s);
		if (r > 0) {
			*out = cJSON_CreateNumber(v);
			goto done;
		}
	}
	if (want != W_ANY)
		return fail(p, m, "\"%.40s\" is not a valid !!%s", s,
			    want_names[want]);
string:
	*out = cJSON_CreateString(s);
done:
	return *out ? 0 : nomem(p);
}

static bool merge_source_ok(const cJSON *n)
{
	const cJSON *c;

	if (cJSON_IsObject(n))
		return true;
	if (!cJSON_IsArray(n))
		return false;
	cJSON_ArrayForEach(c, n)
	{
		if (!cJSON_IsObject(c))
			return false;
	}
	return true;
}

static struct ent *ent_new(struct frame *f)
{
	struct ent *e;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;

		e = realloc(f->ents, cap * sizeof(*e));
		if (!e)
			return NULL;
		f->ents = e;
		f->cap = cap;
	}
	e = &f->ents[f->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* Puts a finished node (owned) where it belongs. */
static int attach(struct yp *p, cJSON *node, yaml_mark_t m)
{
	struct frame *f = top(p);
	struct ent *e;

	if (!f) {
		p->root = node;
		return 0;
	}
	if (!f->map) {
		cJSON_AddItemToArray(f->seq, node);
		return 0;
	}
	if (f->merge) {
		free(f->key);
		f->key = NULL;
		f->merge = false;
		if (!merge_source_ok(node)) {
			cJSON_Delete(node);
			return fail(p, m,
				    "a merge key (<<) takes a mapping or a "
				    "list of mappings");
		}
		if (!f->merges && !(f->merges = cJSON_CreateArray())) {
			cJSON_Delete(node);
			return nomem(p);
		}
		cJSON_AddItemToArray(f->merges, node);
		return 0;
	}
	e = ent_new(f);
	if (!e) {
		cJSON_Delete(node);
		return nomem(p);
	}
	e->key = f->key;
	e->line = f->key_line;
	e->col = f->key_col;
	e->val = node;
	f->key = NULL;
	return 0;
}

static int add_merged(struct yp *p, struct frame *f, const cJSON *src,
		      unsigned int prio)
{
	const cJSON *c;
	struct ent *e;

	cJSON_ArrayForEach(c, src)
	{
		e = ent_new(f);
		if (!e)
			return nomem(p);
		e->key = strdup(c->string);
		if (!e->key)
			return nomem(p);
		e->src = c;
		e->prio = prio;
	}
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = *(const struct ent *const *)a;
	const struct ent *y = *(const struct ent *const *)b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * The mapping's keys, merged ones included, as a cJSON object. Sorting
 * finds duplicates in n log n: a mapping may have many keys.
 */
static int build_object(struct yp *p, struct frame *f, cJSON **out)
{
	struct ent **order = NULL, *e, *first, *dup = NULL, *dup_first = NULL;
	unsigned int prio = 0;
	const cJSON *src, *s;
	cJSON *obj = NULL, *val;
	size_t i;
	int ret;

	cJSON_ArrayForEach(src, f->merges)
	{
		if (cJSON_IsObject(src)) {
			ret = add_merged(p, f, src, ++prio);
			if (ret)
				return ret;
			continue;
		}
		cJSON_ArrayForEach(s, src)
		{
			ret = add_merged(p, f, s, ++prio);
			if (ret)
				return ret;
		}
	}

	if (f->n > 1) {
		order = malloc(f->n * sizeof(*order));
		if (!order)
			return nomem(p);
		for (i = 0; i < f->n; i++)
			order[i] = &f->ents[i];
		qsort(order, f->n, sizeof(*order), ent_cmp);
		first = NULL;
		for (i = 0; i < f->n; i++) {
			e = order[i];
			if (!first || strcmp(first->key, e->key)) {
				first = e;
				continue;
			}
			if (e->prio) { /* overridden by an earlier source */
				e->drop = true;
				continue;
			}
			/* report the first in the text */
			if (!dup || e < dup) {
				dup = e;
				dup_first = first;
			}
		}
		free(order);
		if (dup)
			return fail_at(
				p, dup->line, dup->col,
				"duplicate key \"%.64s\" (first at line %zu)",
				dup->key, dup_first->line + 1);
	}

	obj = cJSON_CreateObject();
	if (!obj)
		return nomem(p);
	for (i = 0; i < f->n; i++) {
		e = &f->ents[i];
		if (e->drop)
			continue;
		val = e->val;
		if (!val) {
			ret = charge(p, e->src, f->mark);
			if (ret)
				goto err;
			val = cJSON_Duplicate(e->src, true);
			if (!val)
				goto nomem;
		}
		if (!cJSON_AddItemToObject(obj, e->key, val)) {
			if (val != e->val)
				cJSON_Delete(val);
			goto nomem;
		}
		e->val = NULL;
	}
	if (f->merges) {
		/* anchors may point into them */
		ret = keep(p, f->merges);
		f->merges = NULL;
		if (ret)
			goto err;
	}
	*out = obj;
	return 0;
nomem:
	ret = nomem(p);
err:
	cJSON_Delete(obj);
	return ret;
}

static bool expecting_key(struct yp *p)
{
	struct frame *f = top(p);

	return f && f->map && !f->key;
}

static int set_key(struct yp *p, const char *text, bool merge, yaml_mark_t m)
{
	struct frame *f = top(p);

	f->key = strdup(text);
	if (!f->key)
		return nomem(p);
	f->key_line = m.line;
	f->key_col = m.column;
	f->merge = merge;
	return 0;
}

static int on_scalar(struct yp *p, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	bool plain = !tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	yaml_mark_t m = ev->start_mark;
	char *name = NULL;
	cJSON *node;
	int ret;

	/* cJSON strings end at the first NUL */
	if (memchr(s, 0, ev->data.scalar.length))
		return fail(p, m, "a scalar holds a NUL character");
	if (anchor && !(name = strdup(anchor)))
		return nomem(p);

	if (expecting_key(p)) {
		if (plain && word_in(s, null_words)) {
			free(name);
			return fail(p, m, "a mapping key must not be null");
		}
		if (name) {
			ret = resolve(p, ev, &node);
			if (!ret)
				ret = keep(p, node);
			if (ret) {
				free(name);
				return ret;
			}
			ret = anchor_add(p, name, node, s);
			if (ret)
				return ret;
		}
		return set_key(p, s,
			       (plain && !strcmp(s, "<<")) ||
				       (tag && tag_is(tag, "merge")),
			       m);
	}

	ret = resolve(p, ev, &node);
	if (!ret)
		ret = attach(p, node, m);
	if (ret) {
		free(name);
		return ret;
	}
	return name ? anchor_add(p, name, node, s) : 0;
}

static int on_alias(struct yp *p, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	yaml_mark_t m = ev->start_mark;
	struct anchor *a;
	cJSON *copy;
	int ret;

	a = anchor_find(p, name);
	if (!a)
		return fail(p, m,
			    "alias *%.64s names no anchor before it (or one it "
			    "is inside)",
			    name);
	if (expecting_key(p)) {
		if (!a->text)
			return fail(p, m, "a mapping key must be a scalar");
		return set_key(p, a->text, false, m);
	}
	ret = charge(p, a->node, m);
	if (ret)
		return ret;
	copy = cJSON_Duplicate(a->node, true);
	if (!copy)
		return nomem(p);
	return attach(p, copy, m);
}

static int on_start(struct yp *p, const yaml_event_t *ev, bool map)
{
	const char *tag, *anchor;
	yaml_mark_t m = ev->start_mark;
	struct frame *f;

	if (map) {
		tag = (const char *)ev->data.mapping_start.tag;
		anchor = (const char *)ev->data.mapping_start.anchor;
	} else {
		tag = (const char *)ev->data.sequence_start.tag;
		anchor = (const char *)ev->data.sequence_start.anchor;
	}
	if (expecting_key(p))
		return fail(p, m, "a mapping key must be a scalar");
	if (tag && strcmp(tag, "!") && !tag_is(tag, map ? "map" : "seq"))
		return fail(p, m, "unsupported tag %.64s", tag);
	if (p->depth == PW_YAML_MAX_DEPTH)
		return fail(p, m, "nesting deeper than %d levels",
			    PW_YAML_MAX_DEPTH);
	f = &p->stack[p->depth++];
	memset(f, 0, sizeof(*f));
	f->map = map;
	f->mark = m;
	if (!map && !(f->seq = cJSON_CreateArray()))
		return nomem(p);
	if (anchor && !(f->anchor = strdup(anchor)))
		return nomem(p);
	return 0;
}

static int on_end(struct yp *p)
{
	struct frame *f = top(p);
	cJSON *node = NULL;
	yaml_mark_t m;
	char *anchor;
	int ret;

	if (f->map) {
		ret = build_object(p, f, &node);
		if (ret)
			return ret;
	} else {
		node = f->seq;
		f->seq = NULL;
	}
	anchor = f->anchor;
	f->anchor = NULL;
	m = f->mark;
	frame_free(f);
	p->depth--;
	ret = attach(p, node, m);
	if (ret) {
		free(anchor);
		return ret;
	}
	return anchor ? anchor_add(p, anchor, node, NULL) : 0;
}

/* Aliases do not cross documents. */
static int end_document(struct yp *p, cJSON *docs)
{
	anchors_clear(p);
	cJSON_Delete(p->keep);
	p->keep = NULL;
	if (!p->root || cJSON_IsNull(p->root)) { /* "---" alone */
		cJSON_Delete(p->root);
	} else {
		cJSON_AddItemToArray(docs, p->root);
	}
	p->root = NULL;
	return 0;
}

static int parser_error(struct yp *p, const char *buf, size_t len)
{
	const yaml_parser_t *y = &p->parser;
	size_t line = 0, col = 0, i;

	if (y->error == YAML_MEMORY_ERROR)
		return nomem(p);
	if (y->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		for (i = 0; i < y->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 0;
			} else {
				col++;
			}
		}
		if (y->problem_value != -1)
			return fail_at(p, line, col, "%s (#x%X)",
				       y->problem ?: "invalid input",
				       (unsigned int)y->problem_value);
		return fail_at(p, line, col, "%s",
			       y->problem ?: "invalid input");
	}
	if (y->context && y->context_mark.index == y->problem_mark.index)
		return fail(p, y->problem_mark, "%s (%s)",
			    y->problem ?: "syntax error", y->context);
	if (y->context)
		return fail(
			p, y->problem_mark, "%s (%s at line %zu, column %zu)",
			y->problem ?: "syntax error", y->context,
			y->context_mark.line + 1, y->context_mark.column + 1);
	return fail(p, y->problem_mark, "%s", y->problem ?: "syntax error");
}

int pw_yaml_parse(const char *buf, size_t len, cJSON **out, char *err,
		  size_t errlen)
{
	yaml_event_t ev;
	cJSON *docs;
	bool done = false;
	struct yp *p;
	int ret = 0;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	p = calloc(1, sizeof(*p));
	docs = cJSON_CreateArray();
	if (!p || !docs) {
		free(p);
		cJSON_Delete(docs);
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->err = err;
	p->errlen = errlen;
	if (!yaml_parser_initialize(&p->parser)) {
		ret = nomem(p);
		goto out;
	}
	p->parser_ok = true;
	yaml_parser_set_input_string(
		&p->parser, (const unsigned char *)(buf ?: ""), buf ? len : 0);

	while (!ret && !done) {
		if (!yaml_parser_parse(&p->parser, &ev)) {
			ret = parser_error(p, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			ret = end_document(p, docs);
			break;
		case YAML_SCALAR_EVENT:
			ret = on_scalar(p, &ev);
			break;
		case YAML_ALIAS_EVENT:
			ret = on_alias(p, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			ret = on_start(p, &ev, false);
			break;
		case YAML_MAPPING_START_EVENT:
			ret = on_start(p, &ev, true);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			ret = on_end(p);
			break;
		default: /* stream and document start */
			break;
		}
		yaml_event_delete(&ev);
	}

out:
	while (p->depth)
		frame_free(&p->stack[--p->depth]);
	cJSON_Delete(p->root);
	cJSON_Delete(p->keep);
	anchors_clear(p);
	if (p->parser_ok)
		yaml_parser_delete(&p->parser);
	free(p);
	if (ret) {
		cJSON_Delete(docs);
		return ret;
	}
	*out = docs;
	return 0;
}
