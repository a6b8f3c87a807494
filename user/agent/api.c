// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control protocol: what each request does. Every field is checked
 * before anything changes; a request that would leave the node worse off
 * (a policy that does not compile, a pod whose address is behind no veth)
 * is undone, and its answer says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "agent_priv.h"
#include "log.h"
#include "names.h"

#define PW_VERSION "0.4"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(cJSON *resp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(cJSON *resp, int err, const char *fmt, ...)
{
	char buf[PW_ERR_LEN + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(resp, "error", buf);
	return err;
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Only the named fields, each of the right type. */
static int check_fields(const cJSON *req, const char *const *known, int n,
			cJSON *resp)
{
	const cJSON *f;
	int i;

	cJSON_ArrayForEach(f, req)
	{
		for (i = 0; i < n; i++)
			if (!strcmp(f->string, known[i]))
				break;
		if (i == n)
			return fail(resp, -EINVAL, "request.%s: unknown field",
				    f->string);
	}
	return 0;
}

#define CHECK_FIELDS(req, resp, ...)                                     \
	({                                                               \
		static const char *const k_[] = {"op", __VA_ARGS__};     \
		check_fields(req, k_, sizeof(k_) / sizeof(k_[0]), resp); \
	})

static int need_str(const cJSON *req, const char *k, cJSON *resp,
		    const char **out)
{
	*out = str(req, k);
	if (!*out || !**out)
		return fail(resp, -EINVAL, "request.%s: required, a string", k);
	return 0;
}

static int reconcile(struct pw_agent *a, cJSON *resp)
{
	char err[PW_ERR_LEN];
	int ret = pw_agent_reconcile(a, err, sizeof(err));

	if (ret)
		return fail(resp, ret, "%s", err);
	return 0;
}

/* ---- apply and delete: objects kept in <state>/applied ---- */

static int obj_path(const struct pw_agent *a, const struct pw_object *o,
		    char *buf, size_t len)
{
	const char *ns, *name;
	enum pw_kind kind;

	pw_object_key(o, &kind, &ns, &name);
	/* names are DNS labels or subdomains: no '/' can reach here */
	snprintf(buf, len, "%s/%s_%s_%s.json", a->applied_dir,
		 pw_kind_name(kind), ns ? ns : "", name);
	return 0;
}

/* One file of the applied folder a request changes. */
struct saved {
	char path[4096];
	char *old;  /* what the file held, NULL if it did not exist */
	char *text; /* what it holds now */
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= w;
	}
	return 0;
}

/* Up to this many files are synced one by one; more take one syncfs. */
#define SYNC_EACH_MAX 8

/*
 * Bring @n files of folder @dir to their @text (new) or @old (@undo; NULL:
 * no file), durably: each goes to a temporary file, the temporaries reach
 * the disk together (an fdatasync each for a few, one syncfs for many, not
 * an fsync per object), then they are renamed over the old ones and the
 * folder is synced once. Once this returns 0 the files survive a crash of
 * the agent or of the node; a crash before leaves each file old or new,
 * never torn (some of a request's files may be new: it got no answer).
 * Returns 0 or -errno.
 */
static int put_files(const char *dir, struct saved *f, int n, bool undo)
{
	bool each = n <= SYNC_EACH_MAX;
	char tmp[4200];
	int i, fd, dfd, err = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	for (i = 0; !err && i < n; i++) {
		const char *text = undo ? f[i].old : f[i].text;

		if (!text)
			continue;
		snprintf(tmp, sizeof(tmp), "%s.tmp", f[i].path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = -errno;
			break;
		}
		err = write_all(fd, text, strlen(text));
		if (!err && each && fdatasync(fd))
			err = -errno;
		close(fd);
	}
	if (!err && !each && syncfs(dfd))
		err = -errno;
	for (i = 0; !err && i < n; i++) {
		const char *text = undo ? f[i].old : f[i].text;

		snprintf(tmp, sizeof(tmp), "%s.tmp", f[i].path);
		if (text ? rename(tmp, f[i].path)
			 : unlink(f[i].path) && errno != ENOENT)
			err = -errno;
	}
	if (!err && fsync(dfd))
		err = -errno;
	if (err)
		for (i = 0; i < n; i++) {
			snprintf(tmp, sizeof(tmp), "%s.tmp", f[i].path);
			unlink(tmp);
		}
	close(dfd);
	return err;
}

/* put_files on a thread of its own: the disk's latency overlaps the
 * compile and the map writes of a change that goes as a delta. */
struct saver {
	pthread_t tid;
	const char *dir;
	struct saved *f;
	int n;
	int ret;
};

static void *saver_run(void *arg)
{
	struct saver *sv = arg;

	sv->ret = put_files(sv->dir, sv->f, sv->n, false);
	return NULL;
}

static void saved_free(struct saved *s, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(s[i].old);
		free(s[i].text);
	}
	free(s);
}

static int objects_take(struct pw_objects *all, struct pw_objects *one)
{
	struct pw_object *v = realloc(all->v, (all->n + one->n) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	all->v = v;
	memcpy(v + all->n, one->v, one->n * sizeof(*v));
	all->n += one->n;
	free(one->v);
	*one = (struct pw_objects){};
	return 0;
}

/*
 * Save @n files and enforce @objs (taken). As a delta, the two overlap;
 * otherwise the full reconcile reads the folder, so it comes after. On
 * failure the files and the policy are as before.
 */
static int save_and_enforce(struct pw_agent *a, struct pw_objects *objs,
			    struct saved *sv, int n, char *err, size_t errlen)
{
	struct saver w = {.dir = a->applied_dir, .f = sv, .n = n};
	char again[PW_ERR_LEN];
	double t0 = now_ms();
	int ret = -EAGAIN;

	if (pw_agent_delta_ok(a, objs, NULL) &&
	    !pthread_create(&w.tid, NULL, saver_run, &w)) {
		ret = pw_agent_reconcile_applied(a, objs, NULL, err, errlen);
		pthread_join(w.tid, NULL);
	} else {
		pw_objects_free(objs);
		w.ret = put_files(a->applied_dir, sv, n, false);
	}
	pr_debug("apply: %d objects saved and enforced in %.2f ms\n", n,
		 now_ms() - t0);
	if (w.ret) {
		snprintf(err, errlen, "%.300s: save: %s", a->applied_dir,
			 strerror(-w.ret));
		ret = w.ret;
	} else if (ret == -EAGAIN) {
		ret = pw_agent_reconcile(a, err, errlen);
	}
	if (!ret)
		return 0;
	/* the objects before this request come back, and with them the
	 * policy that was in force */
	put_files(a->applied_dir, sv, n, true);
	pw_agent_reconcile(a, again, sizeof(again));
	return ret;
}

/*
 * `podwall apply`: every document is checked, then all are saved, then
 * enforced; OK means both: the objects are on disk (they come back after
 * a restart) and in the maps. Anything failing undoes the lot.
 */
static int op_apply(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const char *text, *name = str(req, "name");
	struct pw_objects all = {};
	char err[PW_ERR_LEN];
	struct saved *sv;
	cJSON *docs, *d, *done;
	bool pods = false;
	int ret, n = 0;

	ret = CHECK_FIELDS(req, resp, "name", "text");
	ret = ret ?: need_str(req, "text", resp, &text);
	if (ret)
		return ret;
	ret = pw_manifest_split(text, strlen(text), name ? name : "request",
				&docs, err, sizeof(err));
	if (ret)
		return fail(resp, ret, "%s", err);
	sv = calloc(cJSON_GetArraySize(docs) ?: 1, sizeof(*sv));
	done = cJSON_AddArrayToObject(resp, "applied");
	if (!sv || !done) {
		free(sv);
		cJSON_Delete(docs);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(d, docs)
	{
		struct pw_objects objs = {};
		char *one = cJSON_PrintUnformatted(d), key[600];
		const char *ns, *nm;
		enum pw_kind kind;

		ret = one ? pw_manifest_load_buf(one, strlen(one), "request",
						 &objs, err, sizeof(err))
			  : -ENOMEM;
		if (!ret && objs.n != 1) {
			/* split gives one object per document */
			snprintf(err, sizeof(err),
				 "%s: %d objects in one "
				 "document",
				 name ? name : "request", objs.n);
			ret = -EINVAL;
		}
		if (!ret) {
			obj_path(a, &objs.v[0], sv[n].path, sizeof(sv[n].path));
			pw_object_key(&objs.v[0], &kind, &ns, &nm);
			snprintf(key, sizeof(key), "%s %s%s%s",
				 pw_kind_name(kind), ns ? ns : "",
				 ns ? "/" : "", nm);
			pods |= kind == PW_KIND_POD;
			sv[n].old = slurp(sv[n].path);
			sv[n].text = one;
			one = NULL;
			n++;
			cJSON_AddItemToArray(done, cJSON_CreateString(key));
			ret = objects_take(&all, &objs);
		}
		pw_objects_free(&objs);
		free(one);
		if (ret)
			break;
	}
	cJSON_Delete(docs);
	/* a pod's address may have been set without an event this agent
	 * could see (inside the pod): read them */
	if (!ret && pods)
		pw_agent_addrs_stale(a);
	if (!ret)
		ret = save_and_enforce(a, &all, sv, n, err, sizeof(err));
	if (!ret) {
		saved_free(sv, n);
		return 0;
	}
	pw_objects_free(&all);
	saved_free(sv, n);
	cJSON_DeleteItemFromObjectCaseSensitive(resp, "applied");
	/* the restore went well: status should still say what did not */
	pw_agent_error(a, "apply %.100s: %.380s", name ? name : "request", err);
	return fail(resp, ret, "%s; nothing was applied", err);
}

static int kind_parse(const char *s, enum pw_kind *k)
{
	if (!strcasecmp(s, "NetworkPolicy") || !strcasecmp(s, "netpol") ||
	    !strcasecmp(s, "networkpolicies"))
		*k = PW_KIND_NETPOL;
	else if (!strcasecmp(s, "Pod") || !strcasecmp(s, "pods"))
		*k = PW_KIND_POD;
	else if (!strcasecmp(s, "Namespace") || !strcasecmp(s, "ns") ||
		 !strcasecmp(s, "namespaces"))
		*k = PW_KIND_NAMESPACE;
	else
		return -EINVAL;
	return 0;
}

static int op_delete(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const char *kind_s, *name, *ns = str(req, "namespace");
	char path[4096], *old;
	enum pw_kind kind;
	int ret;

	ret = CHECK_FIELDS(req, resp, "kind", "namespace", "name");
	ret = ret ?: need_str(req, "kind", resp, &kind_s);
	ret = ret ?: need_str(req, "name", resp, &name);
	if (ret)
		return ret;
	if (kind_parse(kind_s, &kind))
		return fail(resp, -EINVAL,
			    "request.kind: \"%s\" is not NetworkPolicy, Pod "
			    "or Namespace",
			    kind_s);
	if (kind != PW_KIND_NAMESPACE && !ns)
		ns = "default";
	if (strchr(name, '/') || (ns && strchr(ns, '/')))
		return fail(resp, -EINVAL, "request.name: invalid");
	snprintf(path, sizeof(path), "%s/%s_%s_%s.json", a->applied_dir,
		 pw_kind_name(kind), kind == PW_KIND_NAMESPACE ? "" : ns, name);
	old = slurp(path);
	if (!old)
		return fail(resp, -ENOENT,
			    "%s %s%s%s: not applied through podwall apply "
			    "(objects from a manifests folder go when their "
			    "file does)",
			    pw_kind_name(kind),
			    kind == PW_KIND_NAMESPACE ? "" : ns,
			    kind == PW_KIND_NAMESPACE ? "" : "/", name);
	free(old);
	{
		struct saved sv = {};
		struct pw_objkey key = {
			kind, kind == PW_KIND_NAMESPACE ? NULL : ns, name};
		char err[PW_ERR_LEN];

		snprintf(sv.path, sizeof(sv.path), "%s", path);
		ret = put_files(a->applied_dir, &sv, 1, false);
		if (ret)
			return fail(resp, ret, "%s: %s", path, strerror(-ret));
		ret = pw_agent_reconcile_applied(a, NULL, &key, err,
						 sizeof(err));
		if (ret == -EAGAIN)
			ret = pw_agent_reconcile(a, err, sizeof(err));
		if (ret)
			return fail(resp, ret, "%s", err);
	}
	return 0;
}

/* ---- endpoints, from the CNI plugin ---- */

static cJSON *endpoint_json(const struct pw_agent *a, const struct pw_out_ep *e)
{
	const struct pw_binding *b = pw_agent_binding(a, e->ns, e->name);
	char buf[PW_ADDR_STRLEN], ifn[IF_NAMESIZE];
	cJSON *o = cJSON_CreateObject(), *ips;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "namespace", e->ns);
	cJSON_AddStringToObject(o, "pod", e->name);
	cJSON_AddNumberToObject(o, "ep_id", e->ep_id);
	cJSON_AddNumberToObject(o, "identity", e->identity);
	ips = cJSON_AddArrayToObject(o, "ips");
	if (e->flags & PW_EP_F_HAS_IP4)
		cJSON_AddItemToArray(ips, cJSON_CreateString(pw_addr_str(
						  e->ip4, buf, sizeof(buf))));
	if (e->flags & PW_EP_F_HAS_IP6)
		cJSON_AddItemToArray(ips, cJSON_CreateString(pw_addr_str(
						  e->ip6, buf, sizeof(buf))));
	cJSON_AddBoolToObject(o, "ingress_enforced",
			      e->flags & PW_EP_F_INGRESS_ENFORCED);
	cJSON_AddBoolToObject(o, "egress_enforced",
			      e->flags & PW_EP_F_EGRESS_ENFORCED);
	cJSON_AddBoolToObject(o, "local", b != NULL);
	if (b) {
		cJSON_AddNumberToObject(o, "ifindex", b->ifindex);
		if (if_indextoname(b->ifindex, ifn))
			cJSON_AddStringToObject(o, "interface", ifn);
	}
	return o;
}

static const struct pw_out_ep *compiled_pod(const struct pw_agent *a,
					    const char *ns, const char *name)
{
	int i;

	for (i = 0; a->have_co && i < a->co.neps; i++)
		if (!strcmp(a->co.eps[i].ns, ns) &&
		    !strcmp(a->co.eps[i].name, name))
			return &a->co.eps[i];
	return NULL;
}

/* The record's pod is enforced on the interface the plugin named. */
static int endpoint_ready(const struct pw_agent *a, const cJSON *rec,
			  cJSON *resp)
{
	const char *ns = str(rec, "namespace"), *pod = str(rec, "pod");
	const char *host = str(rec, "hostIfname");
	const struct pw_binding *b = pw_agent_binding(a, ns, pod);
	const struct pw_out_ep *e = compiled_pod(a, ns, pod);
	struct pw_endpoint ep;
	char ifn[IF_NAMESIZE];
	int r;

	if (!e)
		return fail(resp, -ENOENT, "pod %s/%s: not known to the agent",
			    ns, pod);
	if (!b)
		return fail(resp, -ENODEV,
			    "pod %s/%s: its address %s is on no veth peer of "
			    "this node",
			    ns, pod,
			    cJSON_GetStringValue(cJSON_GetArrayItem(
				    cJSON_GetObjectItem(rec, "ips"), 0)));
	if (!if_indextoname(b->ifindex, ifn) || strcmp(ifn, host))
		return fail(resp, -EXDEV,
			    "pod %s/%s: its address is behind %s, not the "
			    "plugin's hostIfname %s",
			    ns, pod,
			    if_indextoname(b->ifindex, ifn) ? ifn : "?", host);
	r = pw_dp_attached(a->dp, b->ifindex);
	if (r != 1)
		return fail(resp, r ?: -ENOENT,
			    "pod %s/%s: podwall is not attached to %s", ns, pod,
			    host);
	if (pw_dp_endpoint_get(a->dp, b->ifindex, &ep) || ep.ep_id != e->ep_id)
		return fail(resp, -ENOENT,
			    "pod %s/%s: no endpoint entry for %s in the "
			    "datapath",
			    ns, pod, host);
	cJSON_AddItemToObject(resp, "endpoint", endpoint_json(a, e));
	return 0;
}

static int op_endpoint_add(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(req, "endpoint");
	char err[PW_ERR_LEN];
	const cJSON *rec;
	int ret;

	ret = CHECK_FIELDS(req, resp, "endpoint");
	if (ret)
		return ret;
	ret = pw_src_cni_add(a->cni, ep, err, sizeof(err));
	if (ret)
		return fail(resp, ret, "%s", err);
	rec = pw_src_cni_find(a->cni, str(ep, "containerId"),
			      str(ep, "ifname"));
	/* its veth is new, or new again: read the links */
	pw_agent_links_stale(a);
	ret = reconcile(a, resp);
	ret = ret ?: endpoint_ready(a, rec, resp);
	if (ret) {
		/* an ADD that fails leaves nothing behind (the runtime will
		 * DEL, or retry the ADD) */
		pw_src_cni_del(a->cni, str(ep, "containerId"),
			       str(ep, "ifname"));
		pw_agent_reconcile(a, err, sizeof(err));
	}
	return ret;
}

static int op_endpoint_del(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const char *cid, *ifname;
	int ret;

	ret = CHECK_FIELDS(req, resp, "containerId", "ifname");
	ret = ret ?: need_str(req, "containerId", resp, &cid);
	ret = ret ?: need_str(req, "ifname", resp, &ifname);
	if (ret)
		return ret;
	ret = pw_src_cni_del(a->cni, cid, ifname);
	if (ret)
		return fail(resp, ret, "endpoint %s/%s: %s", cid, ifname,
			    strerror(-ret));
	return reconcile(a, resp);
}

static int op_endpoint_check(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const char *cid, *ifname;
	const cJSON *rec;
	int ret;

	ret = CHECK_FIELDS(req, resp, "containerId", "ifname");
	ret = ret ?: need_str(req, "containerId", resp, &cid);
	ret = ret ?: need_str(req, "ifname", resp, &ifname);
	if (ret)
		return ret;
	rec = pw_src_cni_find(a->cni, cid, ifname);
	if (!rec)
		return fail(resp, -ENOENT,
			    "endpoint %s/%s: not registered with the agent",
			    cid, ifname);
	return endpoint_ready(a, rec, resp);
}

/* ---- reading ---- */

static int op_get(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const char *what;
	cJSON *arr;
	int ret, i;

	ret = CHECK_FIELDS(req, resp, "what");
	ret = ret ?: need_str(req, "what", resp, &what);
	if (ret)
		return ret;
	if (!strcmp(what, "endpoints")) {
		arr = cJSON_AddArrayToObject(resp, "items");
		for (i = 0; arr && a->have_co && i < a->co.neps; i++)
			cJSON_AddItemToArray(arr,
					     endpoint_json(a, &a->co.eps[i]));
		return 0;
	}
	if (!strcmp(what, "cni")) {
		cJSON_AddItemToObject(
			resp, "items",
			cJSON_Duplicate(pw_src_cni_records(a->cni), true));
		return 0;
	}
	if (strcmp(what, "policies") && strcmp(what, "identities"))
		return fail(resp, -EINVAL,
			    "request.what: \"%s\" is not endpoints, policies, "
			    "identities or cni",
			    what);
	cJSON_AddItemToObject(resp, "items",
			      pw_cluster_describe(a->cluster, what));
	return 0;
}

static void map_fill(const struct pw_agent *a, cJSON *o, const char *name,
		     enum pw_dp_map map)
{
	__u64 n;
	__u32 max;
	cJSON *m;

	if (pw_dp_map_fill(a->dp, map, &n, &max))
		return;
	m = cJSON_AddObjectToObject(o, name);
	if (!m)
		return;
	cJSON_AddNumberToObject(m, "entries", n);
	cJSON_AddNumberToObject(m, "max", max);
}

static int op_status(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	static const char *const names[] = {"endpoints", "ipcache", "policy",
					    "conntrack", "fragments"};
	struct pw_counter cnt[PW_CNT_SLOTS];
	cJSON *maps, *c, *reasons;
	__u64 lost = 0;
	int ret, i;

	ret = CHECK_FIELDS(req, resp, "");
	if (ret)
		return ret;
	cJSON_AddStringToObject(resp, "version", PW_VERSION);
	cJSON_AddNumberToObject(resp, "pods", a->have_co ? a->co.neps : 0);
	cJSON_AddNumberToObject(resp, "local_endpoints", a->nbinds);
	cJSON_AddNumberToObject(resp, "attached_interfaces", a->nattached);
	cJSON_AddStringToObject(resp, "veth_mode",
				pw_veth_mode_name(pw_dp_veth_mode(a->dp)));
	cJSON_AddNumberToObject(resp, "reconciles", a->reconciles);
	cJSON_AddStringToObject(resp, "node_traffic",
				a->node_open ? "allow" : "policy");
	cJSON_AddNumberToObject(resp, "node_addresses", a->nnode);
	cJSON_AddNumberToObject(resp, "reconcile_errors", a->reconcile_errors);
	cJSON_AddBoolToObject(resp, "last_reconcile_ok", a->last_ok);
	cJSON_AddStringToObject(resp, "last_error", a->last_error);
	if (a->last_error_at) {
		char t[32];

		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime(&a->last_error_at));
		cJSON_AddStringToObject(resp, "last_error_at", t);
	}
	cJSON_AddStringToObject(resp, "source_error", a->source_error);
	{
		cJSON *srcs = cJSON_AddObjectToObject(resp, "sources");

		for (i = 0; srcs && i < a->nsrc; i++)
			if (a->src[i]->status)
				a->src[i]->status(
					a->src[i],
					cJSON_AddObjectToObject(
						srcs, a->src[i]->name));
	}
	cJSON_AddNumberToObject(resp, "last_compile_ms", a->last_compile_ms);
	cJSON_AddNumberToObject(resp, "ct_swept", a->ct_swept);
	/* how often the veths were read: links and addresses, addresses
	 * alone (a change of policies reads neither) */
	cJSON_AddNumberToObject(resp, "link_scans", a->link_scans);
	cJSON_AddNumberToObject(resp, "address_reads", a->addr_reads);
	pw_dp_events_lost(a->dp, &lost);
	cJSON_AddNumberToObject(resp, "events_lost", lost);
	cJSON_AddNumberToObject(resp, "flow_followers",
				pw_ctl_followers(a->ctl, PW_STREAM_FLOWS));
	{
		struct pw_flowlog_stats fs;
		cJSON *f = cJSON_AddObjectToObject(resp, "flow_log");

		pw_flowlog_stats(a->flows, &fs);
		cJSON_AddNumberToObject(f, "records", fs.records);
		cJSON_AddNumberToObject(f, "folded", fs.folded);
		cJSON_AddNumberToObject(f, "lost", fs.lost);
		cJSON_AddNumberToObject(f, "bytes", fs.bytes);
		cJSON_AddNumberToObject(f, "rotations", fs.rotations);
		cJSON_AddNumberToObject(f, "write_errors", fs.write_errors);
		cJSON_AddStringToObject(f, "dir", a->o.flows.dir ?: "");
	}
	maps = cJSON_AddObjectToObject(resp, "maps");
	for (i = 0; maps && i < 5; i++)
		map_fill(a, maps, names[i], i);
	if (maps) {
		map_fill(a, maps, "prefilter", PW_MAP_PREFILTER);
		map_fill(a, maps, "policy_exact", PW_MAP_POLICY_EXACT);
	}
	if (!pw_dp_counters(a->dp, 0, cnt)) {
		c = cJSON_AddObjectToObject(resp, "counters");
		cJSON_AddNumberToObject(c, "allowed_packets",
					cnt[PW_CNT_ALLOWED].packets);
		cJSON_AddNumberToObject(c, "allowed_bytes",
					cnt[PW_CNT_ALLOWED].bytes);
		reasons = cJSON_AddObjectToObject(c, "dropped");
		cJSON_AddNumberToObject(c, "audit_passed_packets",
					cnt[PW_CNT_AUDIT].packets);
		for (i = 1; reasons && i < PW_CNT_AUDIT; i++)
			if (cnt[i].packets)
				cJSON_AddNumberToObject(reasons,
							pw_drop_reason_name(i),
							cnt[i].packets);
	}
	return 0;
}

/* An end of a trace: an address, a CIDR (its first address stands for
 * it), or a pod as "namespace/name" (its IPv4 address, else its IPv6). */
static int trace_end(const struct pw_agent *a, const char *s, __u8 out[16],
		     const char *field, cJSON *resp)
{
	const struct pw_out_ep *e;
	char ns[256];
	const char *slash = strchr(s, '/');
	__u32 plen;

	if (!pw_addr_parse(s, out) || !pw_cidr_parse(s, out, &plen))
		return 0;
	if (slash && (size_t)(slash - s) < sizeof(ns)) {
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - s), s);
		e = compiled_pod(a, ns, slash + 1);
		if (e && (e->flags & (PW_EP_F_HAS_IP4 | PW_EP_F_HAS_IP6))) {
			memcpy(out,
			       e->flags & PW_EP_F_HAS_IP4 ? e->ip4 : e->ip6,
			       16);
			return 0;
		}
		if (e)
			return fail(resp, -ENOENT,
				    "request.%s: pod %s has no address yet",
				    field, s);
	}
	return fail(resp, -EINVAL,
		    "request.%s: \"%s\" is not an address, a CIDR or a known "
		    "pod (namespace/name)",
		    field, s);
}

static int op_trace(struct pw_agent *a, const cJSON *req, cJSON *resp)
{
	const char *src_s, *dst_s, *proto_s = str(req, "protocol");
	const cJSON *port_j = cJSON_GetObjectItemCaseSensitive(req, "port");
	struct pw_explain ex;
	__u8 src[16], dst[16];
	char buf[300];
	int ret, proto = IPPROTO_TCP, port = 0, i, d;
	cJSON *sides;

	ret = CHECK_FIELDS(req, resp, "from", "to", "protocol", "port");
	ret = ret ?: need_str(req, "from", resp, &src_s);
	ret = ret ?: need_str(req, "to", resp, &dst_s);
	if (ret)
		return ret;
	ret = trace_end(a, src_s, src, "from", resp);
	ret = ret ?: trace_end(a, dst_s, dst, "to", resp);
	if (ret)
		return ret;
	if (proto_s && (proto = pw_proto_parse(proto_s)) < 0)
		return fail(resp, -EINVAL, "request.protocol: unknown \"%s\"",
			    proto_s);
	if (port_j) {
		if (!cJSON_IsNumber(port_j) || port_j->valuedouble < 0 ||
		    port_j->valuedouble > 65535)
			return fail(resp, -EINVAL,
				    "request.port: must be 0 to 65535");
		port = port_j->valueint;
	}
	ret = pw_explain(a->cluster, src, dst, proto, port, &ex);
	if (ret)
		return fail(resp, ret, "trace: %s", strerror(-ret));
	cJSON_AddStringToObject(resp, "verdict",
				ex.allowed ? "allowed" : "denied");
	sides = cJSON_AddObjectToObject(resp, "sides");
	for (d = 0; sides && d < 2; d++) {
		const struct pw_explain_side *s = d ? &ex.ingress : &ex.egress;
		const struct pw_out_ep *e = pw_agent_ep_at(a, d ? dst : src);
		cJSON *o = cJSON_AddObjectToObject(sides,
						   d ? "ingress_of_destination"
						     : "egress_of_source");
		cJSON *rules;

		if (!o)
			break;
		if (e) {
			snprintf(buf, sizeof(buf), "%s/%s", e->ns, e->name);
			cJSON_AddStringToObject(o, "pod", buf);
		}
		cJSON_AddBoolToObject(o, "known_pod", s->known);
		cJSON_AddBoolToObject(o, "selected", s->selected);
		cJSON_AddNumberToObject(o, "policies", s->npolicies);
		cJSON_AddBoolToObject(o, "allowed", s->allowed);
		rules = cJSON_AddArrayToObject(o, "allowed_by");
		for (i = 0; rules && i < s->nrules; i++)
			cJSON_AddItemToArray(
				rules, cJSON_CreateString(pw_rule_describe(
					       a->cluster, s->rules[i], buf,
					       sizeof(buf))));
	}
	return 0;
}

static void add_record(void *arg, const char *line, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(line, len);

	if (o)
		cJSON_AddItemToArray(arg, o);
}

/* "last": N recent records in the answer; "follow": the stream after it. */
static int op_flows(struct pw_agent *a, struct pw_ctl_client *cl,
		    const cJSON *req, cJSON *resp)
{
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(req, "last");
	const cJSON *follow = cJSON_GetObjectItemCaseSensitive(req, "follow");
	int ret = CHECK_FIELDS(req, resp, "follow", "last");
	cJSON *arr;

	if (ret)
		return ret;
	if (last && (!cJSON_IsNumber(last) || last->valuedouble < 0 ||
		     last->valuedouble > 1e7))
		return fail(resp, -EINVAL,
			    "request.last: must be a number of records");
	if (follow && !cJSON_IsBool(follow))
		return fail(resp, -EINVAL, "request.follow: must be a boolean");
	arr = cJSON_AddArrayToObject(resp, "records");
	if (last && arr)
		pw_flowlog_last(a->flows, last->valueint, add_record, arr);
	if (cJSON_IsTrue(follow)) {
		pw_ctl_follow(cl, PW_STREAM_FLOWS);
		cJSON_AddStringToObject(resp, "stream", "flows");
	}
	return 0;
}

int pw_agent_request(void *agent, struct pw_ctl_client *cl, const cJSON *req,
		     cJSON *resp)
{
	struct pw_agent *a = agent;
	const char *op = str(req, "op");

	if (!op)
		return fail(resp, -EINVAL, "request.op: required, a string");
	pr_debug("control: %s\n", op);
	if (!strcmp(op, "ping")) {
		int ret = CHECK_FIELDS(req, resp, "");

		if (ret)
			return ret;
		cJSON_AddStringToObject(resp, "version", PW_VERSION);
		return 0;
	}
	if (!strcmp(op, "apply"))
		return op_apply(a, req, resp);
	if (!strcmp(op, "delete"))
		return op_delete(a, req, resp);
	if (!strcmp(op, "endpoint-add"))
		return op_endpoint_add(a, req, resp);
	if (!strcmp(op, "endpoint-del"))
		return op_endpoint_del(a, req, resp);
	if (!strcmp(op, "endpoint-check"))
		return op_endpoint_check(a, req, resp);
	if (!strcmp(op, "get"))
		return op_get(a, req, resp);
	if (!strcmp(op, "status"))
		return op_status(a, req, resp);
	if (!strcmp(op, "trace"))
		return op_trace(a, req, resp);
	if (!strcmp(op, "flows"))
		return op_flows(a, cl, req, resp);
	if (!strcmp(op, "reconcile")) {
		pw_agent_refresh(a); /* asked for: read every source anew */
		return reconcile(a, resp);
	}
	return fail(resp, -EINVAL,
		    "request.op: unknown \"%s\" (ping, apply, delete, get, "
		    "status, trace, flows, reconcile, endpoint-add, "
		    "endpoint-del, endpoint-check)",
		    op);
}
