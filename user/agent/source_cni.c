// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "addr.h"
#include "log.h"
#include "source_cni.h"

struct pw_src_cni {
	struct pw_source base;
	char *state;		     /* the state folder */
	char *dir;		     /* <state>/cni */
	cJSON *recs;		     /* array, in the order added */
	__u64 seq;		     /* orders records across restarts */
	struct pw_netns_index netns; /* of the last collect */
};

/* The CNI spec's container id: alphanumerics first, then also _ . - */
static bool valid_id(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (!n || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

int pw_cni_record_path(const char *state_dir, const char *container_id,
		       const char *ifname, char *buf, size_t len)
{
	int n;

	if (!valid_id(container_id, 256) || !valid_id(ifname, 15))
		return -EINVAL;
	n = snprintf(buf, len, "%s/cni/%s_%s.json", state_dir, container_id,
		     ifname);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The record as a Pod manifest, for the compiler's own validation. */
static cJSON *as_pod(const cJSON *r)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(r, "labels");
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(r, "ips"), *ip;
	cJSON *pod = cJSON_CreateObject(), *md, *st, *arr;

	if (!pod)
		return NULL;
	cJSON_AddStringToObject(pod, "apiVersion", "v1");
	cJSON_AddStringToObject(pod, "kind", "Pod");
	md = cJSON_AddObjectToObject(pod, "metadata");
	st = cJSON_AddObjectToObject(pod, "status");
	arr = st ? cJSON_AddArrayToObject(st, "podIPs") : NULL;
	if (!md || !arr) {
		cJSON_Delete(pod);
		return NULL;
	}
	cJSON_AddStringToObject(md, "namespace", str(r, "namespace"));
	cJSON_AddStringToObject(md, "name", str(r, "pod"));
	if (labels)
		cJSON_AddItemToObject(md, "labels",
				      cJSON_Duplicate(labels, true));
	cJSON_ArrayForEach(ip, ips)
	{
		cJSON *o = cJSON_CreateObject();

		if (o && cJSON_IsString(ip))
			cJSON_AddStringToObject(o, "ip", ip->valuestring);
		cJSON_AddItemToArray(arr, o);
	}
	return pod;
}

static int pod_objects(const cJSON *r, struct pw_objects *out, char *err,
		       size_t errlen)
{
	char src[320];
	cJSON *pod = as_pod(r);
	char *text = pod ? cJSON_PrintUnformatted(pod) : NULL;
	int ret;

	cJSON_Delete(pod);
	if (!text)
		return -ENOMEM;
	snprintf(src, sizeof(src), "cni %s/%s", str(r, "containerId"),
		 str(r, "ifname"));
	ret = pw_manifest_load_buf(text, strlen(text), src, out, err, errlen);
	free(text);
	return ret;
}

/* Fields, types and sizes; the Pod it makes is checked by the compiler. */
int pw_src_cni_validate(const cJSON *ep, char *err, size_t errlen)
{
	static const char *const strs[] = {"containerId", "ifname",    "netns",
					   "hostIfname",  "namespace", "pod"};
	static const char *const known[] = {
		"containerId", "ifname", "netns", "hostIfname", "namespace",
		"pod",	       "ips",	 "mac",	  "labels",	"seq"};
	const cJSON *f, *ips, *labels;
	struct pw_objects objs = {};
	size_t i;
	int n = 0;

	if (!cJSON_IsObject(ep)) {
		snprintf(err, errlen, "endpoint: must be an object");
		return -EINVAL;
	}
	cJSON_ArrayForEach(f, ep)
	{
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(f->string, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "endpoint.%s: unknown field",
				 f->string);
			return -EINVAL;
		}
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *s = str(ep, strs[i]);

		if (!s || !*s || strlen(s) > 4096) {
			snprintf(err, errlen,
				 "endpoint.%s: required, a non-empty string",
				 strs[i]);
			return -EINVAL;
		}
	}
	if (!valid_id(str(ep, "containerId"), 256)) {
		snprintf(err, errlen, "endpoint.containerId: invalid \"%s\"",
			 str(ep, "containerId"));
		return -EINVAL;
	}
	if (!valid_id(str(ep, "ifname"), 15) ||
	    !valid_id(str(ep, "hostIfname"), 15)) {
		snprintf(err, errlen, "endpoint.%s: not an interface name",
			 valid_id(str(ep, "ifname"), 15) ? "hostIfname"
							 : "ifname");
		return -EINVAL;
	}
	ips = cJSON_GetObjectItemCaseSensitive(ep, "ips");
	if (!cJSON_IsArray(ips) || !cJSON_GetArraySize(ips)) {
		snprintf(err, errlen,
			 "endpoint.ips: required, a non-empty "
			 "array (the previous plugin gave the "
			 "pod no address)");
		return -EINVAL;
	}
	cJSON_ArrayForEach(f, ips)
	{
		__u8 a[16];

		if (!cJSON_IsString(f) || pw_addr_parse(f->valuestring, a)) {
			snprintf(err, errlen,
				 "endpoint.ips[%d]: not an IP "
				 "address",
				 n);
			return -EINVAL;
		}
		n++;
	}
	f = cJSON_GetObjectItemCaseSensitive(ep, "mac");
	if (f) {
		__u8 mac[6];

		if (!cJSON_IsString(f) || pw_mac_parse(f->valuestring, mac)) {
			snprintf(err, errlen,
				 "endpoint.mac: not a MAC address");
			return -EINVAL;
		}
	}
	labels = cJSON_GetObjectItemCaseSensitive(ep, "labels");
	if (labels && !cJSON_IsObject(labels)) {
		snprintf(err, errlen, "endpoint.labels: must be an object");
		return -EINVAL;
	}
	if (pod_objects(ep, &objs, err, errlen))
		return -EINVAL;
	pw_objects_free(&objs);
	return 0;
}

static int find_idx(const struct pw_src_cni *s, const char *cid,
		    const char *ifname)
{
	const cJSON *r;
	int i = 0;

	cJSON_ArrayForEach(r, s->recs)
	{
		if (!strcmp(str(r, "containerId"), cid) &&
		    !strcmp(str(r, "ifname"), ifname))
			return i;
		i++;
	}
	return -1;
}

const cJSON *pw_src_cni_find(const struct pw_src_cni *s,
			     const char *container_id, const char *ifname)
{
	int i = find_idx(s, container_id, ifname);

	return i < 0 ? NULL : cJSON_GetArrayItem(s->recs, i);
}

const cJSON *pw_src_cni_records(const struct pw_src_cni *s)
{
	return s->recs;
}

static int write_record(const struct pw_src_cni *s, const cJSON *r)
{
	char path[4096], tmp[4200];
	char *text = cJSON_Print(r);
	FILE *f;
	int err = 0;

	if (!text)
		return -ENOMEM;
	if (pw_cni_record_path(s->state, str(r, "containerId"),
			       str(r, "ifname"), path, sizeof(path))) {
		free(text);
		return -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fflush(f) || fsync(fileno(f)))
		err = -errno ?: -EIO;
	if (f && fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(text);
	return err;
}

int pw_src_cni_add(struct pw_src_cni *s, const cJSON *ep, char *err,
		   size_t errlen)
{
	cJSON *r;
	int i, ret;

	ret = pw_src_cni_validate(ep, err, errlen);
	if (ret)
		return ret;
	r = cJSON_Duplicate(ep, true);
	if (!r)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(r, "seq");
	cJSON_AddNumberToObject(r, "seq", (double)++s->seq);
	ret = write_record(s, r);
	if (ret) {
		snprintf(err, errlen, "state folder %s: %s", s->dir,
			 strerror(-ret));
		cJSON_Delete(r);
		return ret;
	}
	i = find_idx(s, str(r, "containerId"), str(r, "ifname"));
	if (i >= 0)
		cJSON_DeleteItemFromArray(s->recs, i);
	cJSON_AddItemToArray(s->recs, r);
	return 0;
}

int pw_src_cni_del(struct pw_src_cni *s, const char *container_id,
		   const char *ifname)
{
	char path[4096];
	int i;

	if (pw_cni_record_path(s->state, container_id, ifname, path,
			       sizeof(path)))
		return -EINVAL;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	i = find_idx(s, container_id, ifname);
	if (i >= 0)
		cJSON_DeleteItemFromArray(s->recs, i);
	return 0;
}

static int seq_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
		    *y = *(const cJSON *const *)b;
	double p = cJSON_GetNumberValue(cJSON_GetObjectItem(x, "seq"));
	double q = cJSON_GetNumberValue(cJSON_GetObjectItem(y, "seq"));

	return (p > q) - (p < q);
}

/* Records from an earlier run; an unreadable one is reported and left in
 * place for a person to look at. */
static int load_all(struct pw_src_cni *s)
{
	struct dirent **names;
	cJSON **v = NULL;
	int i, n, k = 0;

	n = scandir(s->dir, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	v = calloc(n ?: 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		const char *d = names[i]->d_name;
		size_t len = strlen(d);
		char path[4096], err[PW_ERR_LEN];
		char *text = NULL;
		cJSON *r = NULL;
		FILE *f;
		long sz;

		if (v && len > 5 && !strcmp(d + len - 5, ".json")) {
			snprintf(path, sizeof(path), "%s/%s", s->dir, d);
			f = fopen(path, "re");
			if (f && !fseek(f, 0, SEEK_END) &&
			    (sz = ftell(f)) > 0 && sz < (1 << 20) &&
			    !fseek(f, 0, SEEK_SET) &&
			    (text = calloc(1, sz + 1)) &&
			    fread(text, 1, sz, f) == (size_t)sz)
				r = cJSON_Parse(text);
			if (f)
				fclose(f);
			free(text);
			if (r && !pw_src_cni_validate(r, err, sizeof(err))) {
				v[k++] = r;
			} else {
				pr_warn("cni: %s: unreadable record, left as "
					"it is\n",
					path);
				cJSON_Delete(r);
			}
		}
		free(names[i]);
	}
	free(names);
	if (!v)
		return -ENOMEM;
	qsort(v, k, sizeof(*v), seq_cmp);
	for (i = 0; i < k; i++) {
		double q =
			cJSON_GetNumberValue(cJSON_GetObjectItem(v[i], "seq"));

		if (q > s->seq)
			s->seq = (__u64)q;
		cJSON_AddItemToArray(s->recs, v[i]);
	}
	free(v);
	return 0;
}

/* The record's pod: the manifest's Pod if one names it (with the record's
 * addresses), otherwise one made from the record. */
static int collect(struct pw_source *base, struct pw_objects *objs, char *err,
		   size_t errlen)
{
	struct pw_src_cni *s = (struct pw_src_cni *)base;
	struct pw_pod_index idx = {};
	const cJSON *r;
	int ret = 0;

	pw_netns_index_clear(&s->netns);
	cJSON_ArrayForEach(r, s->recs)
	{
		struct pw_objects mine = {};
		int e;

		/* the runtime's netns path; one it gave relative, or none, is
		 * left out: that pod is bound by its address */
		pw_netns_index_add(&s->netns, str(r, "namespace"),
				   str(r, "pod"), str(r, "netns"));

		e = pod_objects(r, &mine, err, errlen);
		if (e) {
			pw_objects_free(&mine);
			ret = e;
			continue;
		}
		e = pw_source_add_pod_idx(objs, &mine, &idx);
		if (e == -ENOMEM) {
			ret = e;
			break;
		}
		if (e)
			ret = e;
	}
	pw_pod_index_free(&idx);
	return ret;
}

static const char *src_netns(struct pw_source *base, const char *ns,
			     const char *name)
{
	struct pw_src_cni *s = (struct pw_src_cni *)base;

	return pw_netns_index_find(&s->netns, ns, name);
}

static void src_free(struct pw_source *base)
{
	struct pw_src_cni *s = (struct pw_src_cni *)base;

	pw_netns_index_clear(&s->netns);
	cJSON_Delete(s->recs);
	free(s->dir);
	free(s->state);
	free(s);
}

int pw_src_cni_new(const char *state_dir, struct pw_src_cni **out)
{
	struct pw_src_cni *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->recs = cJSON_CreateArray();
	s->state = strdup(state_dir);
	if (asprintf(&s->dir, "%s/cni", state_dir) < 0)
		s->dir = NULL;
	if (!s->recs || !s->dir || !s->state) {
		src_free(&s->base);
		return -ENOMEM;
	}
	s->base.name = "cni";
	s->base.collect = collect;
	s->base.free = src_free;
	s->base.netns = src_netns;
	if ((mkdir(state_dir, 0700) && errno != EEXIST) ||
	    (mkdir(s->dir, 0700) && errno != EEXIST)) {
		err = -errno;
		pr_warn("state folder %s: %s\n", s->dir, strerror(-err));
		src_free(&s->base);
		return err;
	}
	err = load_all(s);
	if (err) {
		pr_warn("state folder %s: %s\n", s->dir, strerror(-err));
		src_free(&s->base);
		return err;
	}
	*out = s;
	return 0;
}

struct pw_source *pw_src_cni_source(struct pw_src_cni *s)
{
	return &s->base;
}
