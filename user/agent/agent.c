// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "agent_priv.h"
#include "flowlog.h"
#include "log.h"
#include "names.h"
#include "nodeaddr.h"
#include "podlink.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int mkdir_p(const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* ids.json from an earlier run: a missing file is a first start. */
static int ids_load(struct pw_agent *a)
{
	FILE *f = fopen(a->ids_path, "re");
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	cJSON *root;
	int err;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	len = getdelim(&text, &cap, '\0', f);
	fclose(f);
	root = len > 0 ? cJSON_ParseWithLength(text, len) : NULL;
	err = root ? pw_cluster_hints_import(a->cluster, root) : -EINVAL;
	if (err)
		/* ids are then new: a restart rewrites the maps, once */
		pr_warn("%s: unreadable, ids start afresh\n", a->ids_path);
	else
		a->ids_saved = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	free(text);
	return 0;
}

static void ids_save(struct pw_agent *a)
{
	cJSON *root = pw_cluster_hints_export(a->cluster);
	char *text = root ? cJSON_PrintUnformatted(root) : NULL;
	char tmp[4200];
	FILE *f;

	cJSON_Delete(root);
	if (!text || (a->ids_saved && !strcmp(text, a->ids_saved))) {
		free(text);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->ids_path);
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fflush(f) || fsync(fileno(f)) ||
	    fclose(f) || rename(tmp, a->ids_path)) {
		pr_warn("%s: write: %s\n", a->ids_path, strerror(errno));
		unlink(tmp);
		free(text);
		return;
	}
	free(a->ids_saved);
	a->ids_saved = text;
}

static void on_event(struct pw_agent *a, const struct pw_flow_event *ev);
static void live(void *arg, const char *line, size_t len);

static int event_cb(const struct pw_flow_event *ev, void *arg)
{
	on_event(arg, ev);
	return 0;
}

static const char *pod_netns(void *ctx, const char *ns, const char *name);

int pw_agent_new(const struct pw_agent_opts *o, struct pw_agent **out)
{
	struct pw_agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	a->o = *o;
	a->hints.netns = pod_netns;
	a->hints.ctx = a;
	a->node_stale = true;
	a->node_open = o->node_traffic == PW_NODE_ALLOW ||
		       (o->node_traffic == PW_NODE_DEFAULT && !o->docker_sock);
	if (asprintf(&a->applied_dir, "%s/applied", o->state_dir) < 0)
		a->applied_dir = NULL;
	if (asprintf(&a->ids_path, "%s/ids.json", o->state_dir) < 0)
		a->ids_path = NULL;
	if (!a->applied_dir || !a->ids_path) {
		err = -ENOMEM;
		goto fail;
	}
	err = mkdir_p(o->state_dir) ?: mkdir_p(a->applied_dir);
	if (err) {
		pr_warn("state folder %s: %s\n", o->state_dir, strerror(-err));
		goto fail;
	}
	/* pinned maps from an earlier run are reused as they are: flows and
	 * policy survive the restart; the programs are replaced by this
	 * version's, atomically, on each interface */
	err = pw_dp_load(&o->dp, &a->dp);
	err = err ?: pw_sync_new(&a->sync);
	err = err ?: pw_sync_adopt(a->sync, a->dp);
	err = err ?: pw_cluster_new(&a->cluster);
	err = err ?: pw_objset_new(&a->set);
	err = err ?: ids_load(a);
	if (err)
		goto fail;
	{
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		err = bpf_obj_get_info_by_fd(
			pw_dp_map_fd(a->dp, PW_MAP_ENDPOINTS), &info, &len);
		if (err) {
			err = -errno;
			goto fail;
		}
		a->ep_max = info.max_entries;
	}
	a->links_stale = true;
	if (o->manifests) {
		err = pw_src_manifests_new(o->manifests, &a->src[a->nsrc]);
		if (err)
			goto fail;
		a->nsrc++;
	}
	err = pw_src_manifests_new(a->applied_dir, &a->src[a->nsrc]);
	if (err)
		goto fail;
	a->applied_src = a->nsrc++;
	if (o->k8s_cfg) {
		struct pw_src_k8s_opts ko = {.node = o->k8s_node};
		struct pw_src_k8s *k;

		err = pw_src_k8s_new(o->k8s_cfg, &ko, &k);
		if (err)
			goto fail;
		a->src[a->nsrc++] = pw_src_k8s_source(k);
		a->k8s = k;
	}
	if (o->docker_sock) {
		struct pw_src_docker *d;
		char *cache;

		err = pw_src_docker_new(o->docker_sock, o->docker_ns, &d);
		if (err)
			goto fail;
		if (asprintf(&cache, "%s/docker.json", o->state_dir) >= 0) {
			pw_src_docker_cache(d, cache);
			free(cache);
		}
		a->src[a->nsrc++] = pw_src_docker_source(d);
		a->docker = true;
	}
	/* last: it adds addresses to the pods the others describe */
	err = pw_src_cni_new(o->state_dir, &a->cni);
	if (err)
		goto fail;
	a->src[a->nsrc++] = pw_src_cni_source(a->cni);
	/* losses from before this run were told by the run they hit */
	a->ring_lost_seen = (__u64)-1;
	err = pw_flowlog_new(&o->flows, live, a, &a->flows);
	if (err)
		goto fail;
	err = pw_events_open(a->dp, event_cb, a, &a->evs);
	if (err) {
		pr_warn("flow events: %s\n", strerror(-err));
		goto fail;
	}
	if (o->sock_path) {
		err = pw_ctl_open(o->sock_path, o->sock_gid, pw_agent_request,
				  a, &a->ctl);
		if (err)
			goto fail;
	}
	*out = a;
	return 0;
fail:
	pw_agent_free(a);
	return err;
}

void pw_agent_free(struct pw_agent *a)
{
	int i;

	if (!a)
		return;
	pw_events_close(a->evs);
	pw_flowlog_free(a->flows);
	pw_ctl_close(a->ctl);
	for (i = 0; i < a->nsrc; i++)
		a->src[i]->free(a->src[i]);
	pw_objset_free(a->set);
	pw_cluster_free(a->cluster);
	pw_sync_free(a->sync);
	pw_dp_close(a->dp);
	if (a->have_co)
		pw_compiled_free(&a->co);
	pw_nsid_cache_free(a->hints.cache);
	free(a->attached);
	pw_hidx_free(&a->attached_idx);
	free(a->binds);
	pw_hidx_free(&a->bind_idx);
	free(a->links);
	free(a->applied_dir);
	free(a->ids_path);
	free(a->ids_saved);
	free(a);
}

struct pw_ctl *pw_agent_ctl(struct pw_agent *a)
{
	return a->ctl;
}

/* Where our programs are, by index: thousands of veths are checked on
 * every reconcile. */
static __u64 ifx_hash(__u32 ifindex)
{
	return pw_hash_bytes(PW_HASH_SEED, &ifindex, sizeof(ifindex));
}

struct ifx_q {
	const __u32 *v;
	__u32 ifindex;
};

static bool ifx_eq(const void *ctx, __u32 pos)
{
	const struct ifx_q *q = ctx;

	return q->v[pos] == q->ifindex;
}

static int attached_at(const struct pw_agent *a, __u32 ifindex)
{
	struct ifx_q q = {a->attached, ifindex};

	return pw_hidx_find(&a->attached_idx, ifx_hash(ifindex), ifx_eq, &q);
}

static void attached_del(struct pw_agent *a, int at)
{
	int last = a->nattached - 1;

	pw_hidx_del(&a->attached_idx, ifx_hash(a->attached[at]), at);
	if (at != last) {
		pw_hidx_move(&a->attached_idx, ifx_hash(a->attached[last]),
			     last, at);
		a->attached[at] = a->attached[last];
	}
	a->nattached--;
}

static int attach(struct pw_agent *a, __u32 ifindex)
{
	__u32 *v;
	int err;

	if (attached_at(a, ifindex) >= 0)
		return 0;
	v = realloc(a->attached, (a->nattached + 1) * sizeof(*v));
	if (!v || pw_hidx_reserve(&a->attached_idx, a->nattached + 1)) {
		if (v)
			a->attached = v;
		return -ENOMEM;
	}
	a->attached = v;
	err = pw_dp_attach(a->dp, ifindex);
	if (err)
		return err;
	pw_hidx_add(&a->attached_idx, ifx_hash(ifindex), a->nattached);
	v[a->nattached++] = ifindex;
	return 0;
}

void pw_agent_link_changed(struct pw_agent *a)
{
	a->links_stale = true;
	a->node_stale = true; /* an address of the node's may have changed */
}

void pw_agent_links_stale(struct pw_agent *a)
{
	a->links_stale = true;
}

void pw_agent_addrs_stale(struct pw_agent *a)
{
	a->addrs_stale = true;
}

void pw_agent_link_gone(struct pw_agent *a, __u32 ifindex)
{
	int at;

	a->links_stale = true;
	if (!ifindex) {
		/* unknown which: the next reconcile attaches again */
		a->node_stale = true;
		a->nattached = 0;
		pw_hidx_free(&a->attached_idx);
		return;
	}
	at = attached_at(a, ifindex);
	if (at >= 0)
		attached_del(a, at);
}

/* Veths no pod is bound to any more lose our programs, after the sync has
 * taken their endpoints out. */
static int u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

static void detach_unbound(struct pw_agent *a)
{
	__u32 *bound = calloc(a->nbinds ?: 1, sizeof(*bound));
	int i;

	if (!bound)
		return; /* the next reconcile detaches them */
	for (i = 0; i < a->nbinds; i++)
		bound[i] = a->binds[i].ifindex;
	qsort(bound, a->nbinds, sizeof(*bound), u32_cmp);
	for (i = 0; i < a->nattached;) {
		if (bsearch(&a->attached[i], bound, a->nbinds, sizeof(*bound),
			    u32_cmp)) {
			i++;
			continue;
		}
		pw_dp_detach(a->attached[i]);
		attached_del(a, i);
	}
	free(bound);
}

/* -EINPROGRESS when a source has not read its input once yet. *owner:
 * which source gave each object (a source that adds addresses to an
 * earlier one's Pod leaves it with that one). */
static int collect(struct pw_agent *a, struct pw_objects *objs, int **owner)
{
	char err[PW_ERR_LEN];
	int i, j, ret, n = 0;

	a->source_error[0] = '\0';
	*owner = NULL;
	for (i = 0; i < a->nsrc; i++) {
		ret = a->src[i]->collect(a->src[i], objs, err, sizeof(err));
		if (objs->n > n) {
			int *v = realloc(*owner, objs->n * sizeof(*v));

			if (!v)
				return -ENOMEM;
			for (j = n; j < objs->n; j++)
				v[j] = i;
			*owner = v;
			n = objs->n;
		}
		if (!ret)
			continue;
		snprintf(a->source_error, sizeof(a->source_error), "%s", err);
		if (ret == -EINPROGRESS)
			return ret;
		/* what it gave (its last good state) still counts */
		pr_warn("%s; its last good state stays in force\n", err);
	}
	return 0;
}

int pw_agent_watch_fds(struct pw_agent *a, struct pollfd *fds, int max,
		       int *timeout_ms)
{
	int i, n = 0;

	for (i = 0; i < a->nsrc; i++) {
		struct pw_source *s = a->src[i];
		int fd = s->fd ? s->fd(s) : -1;
		int ms = s->wait_ms ? s->wait_ms(s) : -1;

		if (fd >= 0 && n < max)
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		if (ms >= 0 && (*timeout_ms < 0 || ms < *timeout_ms))
			*timeout_ms = ms;
	}
	return n;
}

int pw_agent_watch(struct pw_agent *a)
{
	int i, due = 0;

	/* each poll() reads without blocking: asking all of them is cheap */
	for (i = 0; i < a->nsrc; i++)
		if (a->src[i]->poll && a->src[i]->poll(a->src[i]) > 0)
			due++;
	return due;
}

void pw_agent_refresh(struct pw_agent *a)
{
	int i;

	a->links_stale = true;
	a->node_stale = true;
	for (i = 0; i < a->nsrc; i++)
		if (a->src[i]->refresh)
			a->src[i]->refresh(a->src[i]);
}

static bool label_true(const struct pw_labels *l)
{
	const char *v = l ? pw_labels_get(l, PW_AUDIT_LABEL) : NULL;

	return v && !strcmp(v, "true");
}

static bool audit_mode(const struct pw_agent *a, const struct pw_binding *b)
{
	return a->o.audit ||
	       label_true(pw_cluster_ns_labels(a->cluster, b->ns)) ||
	       label_true(pw_cluster_pod_labels(a->cluster, b->ns, b->name));
}

/* Did the CNI plugin register ns/name on this node? */
static bool cni_has_pod(const struct pw_agent *a, const char *ns,
			const char *name)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, pw_src_cni_records(a->cni))
	{
		const char *n = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(r, "namespace"));
		const char *p = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(r, "pod"));

		if (n && p && !strcmp(n, ns) && !strcmp(p, name))
			return true;
	}
	return false;
}

/* The node's addresses into the cluster, read again only after an address
 * or link event here (a dump lists every veth's link-local address too);
 * on a failed read the last ones stay. */
static void node_update(struct pw_agent *a)
{
	__u8(*v)[16];
	int n, err;

	if (!a->node_stale)
		return;
	err = pw_node_addrs(&v, &n);
	if (err) {
		pr_warn("node addresses: %s; keeping the last %d\n",
			strerror(-err), a->nnode);
		return;
	}
	err = pw_cluster_set_node(a->cluster, (const __u8(*)[16])v, n);
	if (err) {
		pr_warn("node addresses: %s\n", strerror(-err));
	} else {
		a->nnode = n;
		a->node_stale = false;
	}
	free(v);
}

/* The first source that knows where the pod runs. */
static const char *pod_netns(void *ctx, const char *ns, const char *name)
{
	struct pw_agent *a = ctx;
	const char *path;
	int i;

	for (i = 0; i < a->nsrc; i++) {
		if (!a->src[i]->netns)
			continue;
		path = a->src[i]->netns(a->src[i], ns, name);
		if (path)
			return path;
	}
	return NULL;
}

static void sig_slot(__u32 slot, const char *ns, const char *name, void *arg)
{
	__u64 *h = arg;

	*h = pw_hash_bytes(*h, &slot, sizeof(slot));
	*h = pw_hash_str(pw_hash_str(*h, ns), name);
}

static void sig_cidr(__u32 id, const struct pw_cidr *c, void *arg)
{
	__u64 *h = arg;

	*h = pw_hash_bytes(*h, &id, sizeof(id));
	*h = pw_hash_bytes(*h, c->addr, sizeof(c->addr));
	*h = pw_hash_bytes(*h, &c->plen, sizeof(c->plen));
}

/* Everything the id hints and the flow metadata are made of: the pods
 * (names, ids, addresses, labels), the ipcache, the policies' slots and
 * names and the CIDR ids. Hashing it costs a fraction of rebuilding them. */
static __u64 names_sig(const struct pw_agent *a)
{
	const struct pw_compiled *co = &a->co;
	__u64 h = PW_HASH_SEED;
	int i, j;

	for (i = 0; i < co->neps; i++) {
		const struct pw_out_ep *e = &co->eps[i];
		const struct pw_labels *l =
			pw_cluster_pod_labels(a->cluster, e->ns, e->name);

		h = pw_hash_str(pw_hash_str(h, e->ns), e->name);
		h = pw_hash_bytes(h, &e->ep_id,
				  offsetof(struct pw_out_ep, ip6) +
					  sizeof(e->ip6) -
					  offsetof(struct pw_out_ep, ep_id));
		for (j = 0; l && j < l->n; j++)
			h = pw_hash_str(pw_hash_str(h, l->v[j].key),
					l->v[j].value);
	}
	h = pw_hash_bytes(h, co->ipc, co->nipc * sizeof(*co->ipc));
	pw_cluster_policy_names(a->cluster, sig_slot, &h);
	pw_cluster_cidr_ids(a->cluster, sig_cidr, &h);
	return h;
}

/* The id hints on disk and the names flow records use, each redone only
 * when what it is made of changed (a policy's rules alone do not). */
static void names_update(struct pw_agent *a)
{
	struct pw_flowmeta *m;
	__u64 sig = names_sig(a);

	if (a->names_done && sig == a->names_sig)
		return;
	ids_save(a);
	if (pw_flowmeta_build(a->cluster, &a->co, &m))
		return; /* the next reconcile tries again */
	pw_flowlog_set_meta(a->flows, m);
	a->names_sig = sig;
	a->names_done = true;
}

/* What binding depends on in the compiled state: each pod and its
 * addresses, in order. */
static __u64 eps_sig(const struct pw_compiled *co)
{
	__u64 h = PW_HASH_SEED;
	int i;

	for (i = 0; i < co->neps; i++) {
		const struct pw_out_ep *e = &co->eps[i];
		__u32 f = e->flags & (PW_EP_F_HAS_IP4 | PW_EP_F_HAS_IP6);

		h = pw_hash_str(pw_hash_str(h, e->ns), e->name);
		h = pw_hash_bytes(h, &f, sizeof(f));
		h = pw_hash_bytes(h, e->ip4, 16);
		h = pw_hash_bytes(h, e->ip6, 16);
	}
	return h;
}

/*
 * Pods to veths. The link dumps (thousands of messages on a busy node) are
 * done again only when they may tell something new: a link event came, a
 * pod was registered through the CNI plugin, or a refresh was asked for.
 * A pod added or changed otherwise needs only its peer's addresses read
 * again (a new veth would have sent a link event; an address set inside
 * a pod's namespace sends none here); a change of policies alone matches
 * against the veths read last time.
 */
static int bind_pods(struct pw_agent *a, const struct pw_compiled *co,
		     struct pw_binding *binds, int *nb)
{
	__u64 sig = eps_sig(co);
	int err = -EAGAIN;

	if (a->links && !a->links_stale &&
	    (a->addrs_stale || sig != a->eps_sig)) {
		err = pw_podlink_readdr(a->links, a->nlinks);
		a->addr_reads++;
		if (err)
			pr_debug("podlink: read addresses again: %s; reading "
				 "the links\n",
				 strerror(-err));
	} else if (a->links && !a->links_stale) {
		err = 0;
	}
	if (err) {
		struct pw_podlink *pl;
		int n;

		err = pw_podlink_scan(&pl, &n);
		a->link_scans++;
		if (err) {
			pr_warn("podlink: read veths: %s\n", strerror(-err));
			return err;
		}
		free(a->links);
		a->links = pl;
		a->nlinks = n;
	}
	a->links_stale = false;
	a->addrs_stale = false;
	a->eps_sig = sig;
	return pw_podlink_match(a->links, a->nlinks, co, &a->hints, binds, nb,
				co->neps);
}

struct bind_q {
	const struct pw_binding *v;
	const char *ns, *name;
};

static __u64 bind_hash(const char *ns, const char *name)
{
	return pw_hash_str(pw_hash_str(PW_HASH_SEED, ns), name);
}

static bool bind_eq(const void *ctx, __u32 pos)
{
	const struct bind_q *q = ctx;

	return !strcmp(q->v[pos].ns, q->ns) && !strcmp(q->v[pos].name, q->name);
}

/*
 * Everything after the cluster holds the new objects: compile, bind, attach,
 * sync. Whatever fails, the maps keep the last good state. @t0: when the
 * reconcile started; @tobj: when the objects were in.
 */
static int finish(struct pw_agent *a, double t0, double tobj, char *err,
		  size_t errlen)
{
	struct pw_binding *binds = NULL;
	struct pw_hidx bidx = {};
	struct pw_sync_stats st;
	struct pw_compiled co;
	double tcomp, tbind, tsync;
	int nb = 0, i, ret;

	node_update(a);
	ret = pw_compile(a->cluster, &co, err, errlen);
	if (ret)
		goto out;
	tcomp = now_ms();
	a->last_compile_ms = tcomp - t0;
	binds = calloc(co.neps ?: 1, sizeof(*binds));
	ret = binds ? bind_pods(a, &co, binds, &nb) : -ENOMEM;
	tbind = now_ms();
	if (ret) {
		snprintf(err, errlen, "bind pods to veths: %s", strerror(-ret));
		pw_compiled_free(&co);
		goto out;
	}
	/* the API server says where a pod runs: one on another node is a
	 * peer, whatever veth of this node its address turns up behind
	 * (unless the CNI plugin registered it here: then --node-name is
	 * likely wrong, and leaving it unenforced would be worse) */
	if (a->k8s) {
		int j = 0;

		for (i = 0; i < nb; i++) {
			if (pw_src_k8s_pod_remote(a->k8s, binds[i].ns,
						  binds[i].name) &&
			    !cni_has_pod(a, binds[i].ns, binds[i].name)) {
				pr_debug("%s/%s runs on another node; not "
					 "binding "
					 "it to ifindex %u\n",
					 binds[i].ns, binds[i].name,
					 binds[i].ifindex);
				continue;
			}
			binds[j++] = binds[i];
		}
		nb = j;
	}
	if ((__u32)nb > a->ep_max) {
		/* the ones past the map's size, in the compiled order */
		snprintf(err, errlen,
			 "endpoint %s/%s (and %d more): the endpoints map is "
			 "full, %u local pods at most; raise --endpoints-max",
			 binds[a->ep_max].ns, binds[a->ep_max].name,
			 nb - (int)a->ep_max - 1, a->ep_max);
		ret = -E2BIG;
		pw_compiled_free(&co);
		goto out;
	}
	ret = pw_hidx_reserve(&bidx, nb) ? -ENOMEM : 0;
	for (i = 0; !ret && i < nb; i++)
		pw_hidx_add(&bidx, bind_hash(binds[i].ns, binds[i].name), i);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		pw_compiled_free(&co);
		goto out;
	}
	for (i = 0; i < nb; i++) {
		binds[i].audit = audit_mode(a, &binds[i]);
		binds[i].node_open = a->node_open;
		ret = attach(a, binds[i].ifindex);
		if (ret) {
			snprintf(err, errlen,
				 "attach to ifindex %u (%s/%s): %s",
				 binds[i].ifindex, binds[i].ns, binds[i].name,
				 strerror(-ret));
			pw_compiled_free(&co);
			goto out;
		}
	}
	ret = pw_sync_apply(a->sync, a->dp, &co, binds, nb, &st);
	if (ret) {
		snprintf(err, errlen, "sync to the maps: %s%s", strerror(-ret),
			 ret == -ENOSPC || ret == -E2BIG
				 ? " (a map is full: see podwall status)"
				 : "");
		pw_compiled_free(&co);
		goto out;
	}
	/* binds point into co: the two move together */
	if (a->have_co)
		pw_compiled_free(&a->co);
	a->co = co;
	a->have_co = true;
	free(a->binds);
	a->binds = binds;
	a->nbinds = nb;
	binds = NULL;
	pw_hidx_free(&a->bind_idx);
	a->bind_idx = bidx;
	bidx = (struct pw_hidx){};
	detach_unbound(a);
	tsync = now_ms();
	names_update(a);
	/* every object from before the restart has claimed its id by now */
	pw_cluster_hints_clear(a->cluster);
	pr_debug("reconcile: objects %.2f ms, compile %.2f, bind %.2f, "
		 "attach and sync %.2f, ids and flow metadata %.2f\n",
		 tobj - t0, tcomp - tobj, tbind - tcomp, tsync - tbind,
		 now_ms() - tsync);
	pr_info("%d pods, %d here; endpoints %d changed, %d removed; policy "
		"+%d -%d; ipcache +%d -%d; %.1f ms\n",
		co.neps, nb, st.endpoints_changed, st.endpoints_removed,
		st.policy_writes, st.policy_deletes, st.ipcache_writes,
		st.ipcache_deletes, now_ms() - t0);
out:
	free(binds);
	pw_hidx_free(&bidx);
	if (ret) {
		a->reconcile_errors++;
		pw_agent_error(a, "%s", err);
	}
	/* the last error stays for status to show, with its time, after
	 * the agent has recovered: ok says whether this one went well */
	a->last_ok = !ret;
	return ret;
}

int pw_agent_reconcile(struct pw_agent *a, char *err, size_t errlen)
{
	struct pw_objects objs = {};
	double t0 = now_ms();
	int ret, *owner;

	a->reconciles++;
	ret = collect(a, &objs, &owner);
	if (ret) {
		/* not an error: nothing changes until every source has read
		 * its input once */
		if (ret == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		else
			snprintf(err, errlen, "%s; waiting, nothing changed",
				 a->source_error);
		pw_objects_free(&objs);
		free(owner);
		return ret;
	}
	ret = pw_objset_replace(a->set, a->cluster, &objs, owner);
	free(owner);
	if (ret) {
		snprintf(err, errlen, "apply objects: %s", strerror(-ret));
		a->reconcile_errors++;
		pw_agent_error(a, "%s", err);
		a->last_ok = false;
		return ret;
	}
	return finish(a, t0, now_ms(), err, errlen);
}

/* Could a source after the applied folder give, or add to, this object?
 * Then only a full reconcile knows what the cluster must hold. */
static bool delta_ok(const struct pw_agent *a, enum pw_kind kind,
		     const char *ns, const char *name)
{
	int owner, r = pw_objset_owner(a->set, kind, ns, name, &owner);

	if (r == -ENOENT)
		owner = a->applied_src;
	else if (r)
		return false;
	if (owner != a->applied_src)
		return false;
	/* the CNI plugin and Docker add addresses to Pods others give */
	return kind != PW_KIND_POD || (!a->docker && !cni_has_pod(a, ns, name));
}

bool pw_agent_delta_ok(const struct pw_agent *a, const struct pw_objects *objs,
		       const struct pw_objkey *del)
{
	const char *ns, *name;
	enum pw_kind kind;
	int i;

	if (!a->have_co || !a->last_ok)
		return false;
	for (i = 0; objs && i < objs->n; i++) {
		pw_object_key(&objs->v[i], &kind, &ns, &name);
		if (!delta_ok(a, kind, ns, name))
			return false;
	}
	return !del || delta_ok(a, del->kind, del->ns, del->name);
}

int pw_agent_reconcile_applied(struct pw_agent *a, struct pw_objects *objs,
			       const struct pw_objkey *del, char *err,
			       size_t errlen)
{
	double t0 = now_ms();
	int ret;

	if (!pw_agent_delta_ok(a, objs, del)) {
		if (objs)
			pw_objects_free(objs);
		snprintf(err, errlen, "not a delta");
		return -EAGAIN;
	}
	a->reconciles++;
	ret = objs ? pw_objset_add(a->set, a->cluster, objs, a->applied_src)
		   : 0;
	if (!ret && del)
		ret = pw_objset_remove(a->set, a->cluster, del->kind, del->ns,
				       del->name);
	if (ret && ret != -ENOENT) {
		/* the set lost track: only a full reconcile finds it again */
		snprintf(err, errlen, "not a delta: %s", strerror(-ret));
		return -EAGAIN;
	}
	return finish(a, t0, now_ms(), err, errlen);
}

void pw_agent_error(struct pw_agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->last_error, sizeof(a->last_error), fmt, ap);
	va_end(ap);
	a->last_error_at = time(NULL);
}

const struct pw_out_ep *pw_agent_ep_at(const struct pw_agent *a,
				       const __u8 addr[16])
{
	bool v4 = pw_addr_is4(addr);
	int i;

	for (i = 0; a->have_co && i < a->co.neps; i++) {
		const struct pw_out_ep *e = &a->co.eps[i];

		if (!memcmp(v4 ? e->ip4 : e->ip6, addr, 16) &&
		    (e->flags & (v4 ? PW_EP_F_HAS_IP4 : PW_EP_F_HAS_IP6)))
			return e;
	}
	return NULL;
}

const struct pw_binding *pw_agent_binding(const struct pw_agent *a,
					  const char *ns, const char *name)
{
	struct bind_q q = {a->binds, ns, name};
	int at;

	if (!a->nbinds)
		return NULL;
	at = pw_hidx_find(&a->bind_idx, bind_hash(ns, name), bind_eq, &q);
	return at < 0 ? NULL : &a->binds[at];
}

static void on_event(struct pw_agent *a, const struct pw_flow_event *ev)
{
	pw_flowlog_event(a->flows, ev);
}

/* Flow records to the control socket's followers. */
static void live(void *arg, const char *line, size_t len)
{
	struct pw_agent *a = arg;

	(void)len;
	if (a->ctl)
		pw_ctl_publish(a->ctl, PW_STREAM_FLOWS, line);
}

void pw_agent_tick(struct pw_agent *a)
{
	__u64 lost = 0;

	/* what the ring buffer lost, as a record where it happened */
	if (!pw_dp_events_lost(a->dp, &lost) && lost > a->ring_lost_seen) {
		if (a->ring_lost_seen != (__u64)-1)
			pw_flowlog_lost(a->flows, lost - a->ring_lost_seen,
					"ring-buffer");
		a->ring_lost_seen = lost;
	} else if (a->ring_lost_seen == (__u64)-1) {
		a->ring_lost_seen = lost;
	}
	pw_flowlog_tick(a->flows);
}

int pw_agent_events_fd(const struct pw_agent *a)
{
	return pw_events_fd(a->evs);
}

void pw_agent_events(struct pw_agent *a)
{
	pw_events_poll(a->evs, 0);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The flow's end, as the datapath would have told it. */
static void ct_end_event(struct pw_agent *a, const struct pw_ct_key *k,
			 const struct pw_ct_entry *e)
{
	struct pw_flow_event ev = {
		.ts_ns = mono_ns(),
		.type = PW_EV_END,
		.verdict = PW_VERDICT_ALLOW,
		.dir = e->origin,
		.proto = k->proto,
		.ep_id = k->ep_id,
		.rule_id = e->rule_id,
		.peer_id = e->peer_id,
	};
	bool out = e->origin == PW_DIR_EGRESS;

	memcpy(ev.src, out ? k->local : k->remote, 16);
	memcpy(ev.dst, out ? k->remote : k->local, 16);
	ev.sport = out ? k->lport : k->rport;
	ev.dport = out ? k->rport : k->lport;
	memcpy(ev.pkts, e->pkts, sizeof(ev.pkts));
	memcpy(ev.bytes, e->bytes, sizeof(ev.bytes));
	on_event(a, &ev);
}

static void ct_ended(const struct pw_ct_key *k, const struct pw_ct_entry *e,
		     void *arg)
{
	if (!(e->flags & PW_CT_F_ENDED))
		ct_end_event(arg, k, e);
}

int pw_agent_ct_sweep(struct pw_agent *a)
{
	int n = pw_dp_ct_sweep(a->dp, mono_ns(), ct_ended, a);

	if (n > 0)
		a->ct_swept += n;
	return n;
}
