// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The uplink prefilter's deny-list file, and writing it into the map. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "prefilter.h"

bool pw_prefilter_holds_ip4(const __u8 addr[16], __u32 plen)
{
	static const __u8 mapped[16] = {[10] = 0xff, [11] = 0xff};
	__u32 i;

	if (plen >= 96)
		return false;
	for (i = 0; i < plen; i++)
		if ((addr[i / 8] ^ mapped[i / 8]) & (0x80 >> (i % 8)))
			return false;
	return true;
}

int pw_prefilter_read(const char *path, struct pw_prefilter_ent **out, int *n,
		      char *err, size_t errlen)
{
	struct pw_prefilter_ent *v = NULL, *nv;
	int cap = 0, cnt = 0, lineno = 0, ret = 0;
	char *line = NULL, *s, *e;
	size_t lcap = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "prefilter list %s: %s", path,
			 strerror(-ret));
		return ret;
	}
	while (getline(&line, &lcap, f) > 0) {
		struct pw_prefilter_ent ent = {};

		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s);
		     e > s && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = '\0';
		if (!*s)
			continue;
		if (pw_cidr_parse(s, ent.addr, &ent.plen)) {
			snprintf(err, errlen,
				 "%s:%d: \"%s\" is not a CIDR (IPv4 or IPv6, "
				 "host bits zero)",
				 path, lineno, s);
			ret = -EINVAL;
			break;
		}
		if (pw_prefilter_holds_ip4(ent.addr, ent.plen)) {
			snprintf(err, errlen,
				 "%s:%d: \"%s\" holds ::ffff:0:0/96, where "
				 "IPv4 addresses are kept: it would deny every "
				 "IPv4 source too",
				 path, lineno, s);
			ret = -EINVAL;
			break;
		}
		ent.rule_id = lineno;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory",
					 path);
				break;
			}
			v = nv;
		}
		v[cnt++] = ent;
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
	free(line);
	fclose(f);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct pw_prefilter_ent *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

struct old_keys {
	struct pw_prefilter_ent *v;
	int n, cap;
};

static int collect(const __u8 addr[16], __u32 plen, __u32 rule_id, void *arg)
{
	struct old_keys *o = arg;
	struct pw_prefilter_ent *nv;

	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		nv = realloc(o->v, o->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		o->v = nv;
	}
	memset(&o->v[o->n], 0, sizeof(o->v[o->n]));
	memcpy(o->v[o->n].addr, addr, 16);
	o->v[o->n].plen = plen;
	o->v[o->n].rule_id = rule_id;
	o->n++;
	return 0;
}

int pw_prefilter_apply(const struct pw_dp *dp, struct pw_prefilter_ent *ents,
		       int n, int *added, int *removed)
{
	struct old_keys old = {};
	int i, err, nadd = 0, ndel = 0;

	/* what is there now, before writing: to tell new from changed,
	 * and to know what to remove after (deleting while walking an LPM
	 * trie restarts the walk) */
	err = pw_dp_prefilter_list(dp, collect, &old);
	if (err)
		goto out;
	if (old.n)
		qsort(old.v, old.n, sizeof(*old.v), ent_cmp);
	if (n)
		qsort(ents, n, sizeof(*ents), ent_cmp);
	for (i = 0; i < n; i++) {
		struct pw_prefilter_ent *o =
			old.n ? bsearch(&ents[i], old.v, old.n, sizeof(*old.v),
					ent_cmp)
			      : NULL;

		if (o && o->rule_id == ents[i].rule_id)
			continue;
		/* an update in place: the key is never absent */
		err = pw_dp_prefilter_set(dp, ents[i].addr, ents[i].plen,
					  ents[i].rule_id);
		if (err)
			goto out;
		nadd += !o;
	}
	for (i = 0; i < old.n; i++) {
		if (n && bsearch(&old.v[i], ents, n, sizeof(*ents), ent_cmp))
			continue;
		err = pw_dp_prefilter_del(dp, old.v[i].addr, old.v[i].plen);
		if (err && err != -ENOENT)
			goto out;
		err = 0;
		ndel++;
	}
out:
	free(old.v);
	if (added)
		*added = nadd;
	if (removed)
		*removed = ndel;
	return err;
}
