// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A folder of manifests as a source. The text of the last load that
 * parsed in full is kept, so that a file broken later (a typo, a half
 * written save) is reported and the folder's last good state stays in
 * force, whole: nothing from the broken load is used.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "source.h"

struct mfile {
	char *path;
	char *text;
	size_t len;
};

struct src_manifests {
	struct pw_source base;
	char *dir;
	struct mfile *good;
	int ngood;
	bool loaded; /* good holds a load that parsed */
};

static void files_free(struct mfile *f, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].text);
	}
	free(f);
}

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096;
	char *buf;

	if (!f)
		return -errno;
	buf = malloc(cap);
	*len = 0;
	while (buf) {
		size_t r = fread(buf + *len, 1, cap - *len, f);

		*len += r;
		if (*len < cap)
			break;
		cap *= 2;
		char *v = realloc(buf, cap);

		if (!v)
			free(buf);
		buf = v;
	}
	if (!buf || ferror(f)) {
		int err = buf ? -EIO : -ENOMEM;

		free(buf);
		fclose(f);
		return err;
	}
	fclose(f);
	*text = buf;
	return 0;
}

static int read_dir(const char *dir, struct mfile **out, int *nout, char *err,
		    size_t errlen)
{
	struct dirent **names;
	struct mfile *v = NULL;
	int i, n, k = 0, ret = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	v = calloc(n ?: 1, sizeof(*v));
	if (!v)
		ret = -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!ret && pw_manifest_name(names[i]->d_name)) {
			if (asprintf(&v[k].path, "%s/%s", dir,
				     names[i]->d_name) < 0) {
				v[k].path = NULL;
				ret = -ENOMEM;
			} else {
				ret = read_file(v[k].path, &v[k].text,
						&v[k].len);
				if (ret)
					snprintf(err, errlen, "%s: %s",
						 v[k].path, strerror(-ret));
				k++;
			}
		}
		free(names[i]);
	}
	free(names);
	if (ret) {
		files_free(v, k);
		return ret;
	}
	*out = v;
	*nout = k;
	return 0;
}

static int parse(const struct mfile *f, int n, struct pw_objects *objs,
		 char *err, size_t errlen)
{
	struct pw_objects tmp = {};
	int i, ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = pw_manifest_load_buf(f[i].text, f[i].len, f[i].path, &tmp,
					   err, errlen);
	if (ret) {
		pw_objects_free(&tmp);
		return ret;
	}
	for (i = 0; i < tmp.n; i++) {
		struct pw_object *v =
			realloc(objs->v, (objs->n + 1) * sizeof(*v));

		if (!v) {
			for (; i < tmp.n; i++)
				pw_object_free(&tmp.v[i]);
			free(tmp.v);
			return -ENOMEM;
		}
		objs->v = v;
		v[objs->n++] = tmp.v[i];
	}
	free(tmp.v);
	return 0;
}

static int collect(struct pw_source *base, struct pw_objects *objs, char *err,
		   size_t errlen)
{
	struct src_manifests *s = (struct src_manifests *)base;
	struct mfile *now = NULL;
	int n = 0, ret;

	ret = read_dir(s->dir, &now, &n, err, errlen);
	if (!ret) {
		ret = parse(now, n, objs, err, errlen);
		if (!ret) {
			files_free(s->good, s->ngood);
			s->good = now;
			s->ngood = n;
			s->loaded = true;
			return 0;
		}
		files_free(now, n);
	}
	/* the last good load, which parsed before and parses again */
	if (s->loaded) {
		char again[PW_ERR_LEN];

		parse(s->good, s->ngood, objs, again, sizeof(again));
	}
	return ret;
}

static void src_free(struct pw_source *base)
{
	struct src_manifests *s = (struct src_manifests *)base;

	files_free(s->good, s->ngood);
	free(s->dir);
	free(s);
}

int pw_src_manifests_new(const char *dir, struct pw_source **out)
{
	struct src_manifests *s = calloc(1, sizeof(*s));

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	s->base.name = s->dir;
	s->base.collect = collect;
	s->base.free = src_free;
	*out = &s->base;
	return 0;
}
