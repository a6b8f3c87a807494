// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Why a worker thread with a curl multi handle, and not the agent's poll
 * loop driving curl_multi_socket_action(): curl's socket callbacks hand
 * over a changing set of fds and timers (three streams, TLS handshakes,
 * reconnects), and the agent would have to mirror all of it. The thread
 * owns every curl handle; the agent sees one eventfd that never changes,
 * and the state under one mutex. The worker never touches BPF or the
 * cluster model; decoding an object (pw_manifest_load_buf) is pure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "caps.h"
#include "log.h"
#include "source_k8s.h"

#define PAGE_LIMIT	500
#define BACKOFF_MIN_MS	250
#define BACKOFF_MAX_MS	30000
#define LIST_TIMEOUT_MS 120000
#define POLL_MAX_MS	1000

/* One kept object. */
struct item {
	struct item *hnext;	  /* hash chain */
	struct item *prev, *next; /* arrival order, for a stable collect */
	char *key;		  /* "ns/name", or "name" for a Namespace */
	bool local;		  /* a pod on this node */
	bool rejected;		  /* did not decode: text is why */
	struct pw_object obj;	  /* Namespace, Pod (decoded) */
	char *text;		  /* NetworkPolicy: its JSON, decoded anew */
};

struct table {
	struct item **b;
	size_t nb, n;
	struct item *head, *tail;
	int nlocal, nrejected;
};

enum kstate { K_WAIT, K_LIST, K_WATCH };

struct kind {
	struct pw_src_k8s *s;
	const char *path, *kind, *api;
	enum pw_kind pk;
	struct table cur;   /* the kept state (under the mutex) */
	struct table fresh; /* a list being read (worker only) */
	char rv[64];
	char *cont;
	enum kstate st;
	bool want_list; /* when the wait ends: list (or watch) */
	bool synced;	/* listed in full once (under the mutex) */
	bool healthy;	/* the last request went well */
	bool gone;	/* the watch said 410 */
	bool got_event;
	long long next; /* when the wait ends, monotonic ms */
	int backoff;
	struct pw_k8s_req req;
	struct pw_k8s_lines lines;
	struct pw_k8s_body body;
	char err[200];
};

struct pw_src_k8s {
	struct pw_source base;
	struct pw_k8s_config cfg;
	struct pw_src_k8s_opts o;
	char *node;
	pthread_t thr;
	bool started;
	pthread_mutex_t mu;
	int efd;
	CURLM *multi;
	atomic_bool stop;
	atomic_bool relist; /* refresh(): list every kind again */
	/* collect() copies items out of the mutex: meanwhile the worker
	 * leaves the items it drops on this list for collect() to free */
	bool collecting;
	struct item *dead;
	unsigned int seed;
	struct kind k[PW_K8S_NKINDS];
	struct pw_src_k8s_stats st; /* counters (under the mutex) */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- the kept objects ---- */

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void item_free(struct item *it)
{
	if (!it)
		return;
	if (!it->rejected && !it->text)
		pw_object_free(&it->obj);
	free(it->text);
	free(it->key);
	free(it);
}

static void table_free(struct table *t)
{
	struct item *it = t->head, *n;

	for (; it; it = n) {
		n = it->next;
		item_free(it);
	}
	free(t->b);
	memset(t, 0, sizeof(*t));
}

static struct item **table_slot(struct table *t, const char *key)
{
	struct item **p;

	if (!t->nb)
		return NULL;
	for (p = &t->b[hash(key) % t->nb]; *p; p = &(*p)->hnext)
		if (!strcmp((*p)->key, key))
			return p;
	return NULL;
}

static struct item *table_get(struct table *t, const char *key)
{
	struct item **p = table_slot(t, key);

	return p ? *p : NULL;
}

static void count(struct table *t, const struct item *it, int d)
{
	t->n += d;
	t->nlocal += it->local ? d : 0;
	t->nrejected += it->rejected ? d : 0;
}

static void table_unlink(struct table *t, struct item *it)
{
	struct item **p = table_slot(t, it->key);

	*p = it->hnext;
	if (it->prev)
		it->prev->next = it->next;
	else
		t->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		t->tail = it->prev;
	count(t, it, -1);
}

/* Put @it in, replacing one with its key, which goes to *@old (or NULL)
 * for the caller to free or drop. */
static int table_put(struct table *t, struct item *it, struct item **old)
{
	struct item **b;

	*old = table_get(t, it->key);
	if (*old)
		table_unlink(t, *old);
	if (t->n + 1 > t->nb) {
		size_t nb = t->nb ? t->nb * 2 : 64, i;
		struct item *x, *n;

		b = calloc(nb, sizeof(*b));
		if (!b)
			return -ENOMEM;
		for (i = 0; i < t->nb; i++) {
			for (x = t->b[i]; x; x = n) {
				n = x->hnext;
				x->hnext = b[hash(x->key) % nb];
				b[hash(x->key) % nb] = x;
			}
		}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	b = &t->b[hash(it->key) % t->nb];
	it->hnext = *b;
	*b = it;
	it->next = NULL;
	it->prev = t->tail;
	if (t->tail)
		t->tail->next = it;
	else
		t->head = it;
	t->tail = it;
	count(t, it, 1);
	return 0;
}

/* An item out of a kept table (under the mutex): freed now, or by
 * collect() when it may be copying it. */
static void item_drop(struct pw_src_k8s *s, struct item *it)
{
	if (!it)
		return;
	if (!s->collecting) {
		item_free(it);
		return;
	}
	it->hnext = s->dead;
	s->dead = it;
}

/* Are two items the same as far as the cluster is concerned? */
static bool item_same(const struct item *a, const struct item *b)
{
	if (a->rejected || b->rejected)
		return a->rejected == b->rejected &&
		       !strcmp(a->text ?: "", b->text ?: "");
	if (a->local != b->local)
		return false;
	if (a->text || b->text)
		return a->text && b->text && !strcmp(a->text, b->text);
	switch (a->obj.kind) {
	case PW_KIND_POD:
		return pw_pod_equal(a->obj.pod, b->obj.pod);
	case PW_KIND_NAMESPACE:
		return pw_namespace_equal(a->obj.ns, b->obj.ns);
	default:
		return false;
	}
}

/* ---- API objects to items ---- */

static const cJSON *field(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *sfield(const cJSON *o, const char *k)
{
	const cJSON *v = field(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Copy o[k] into @to when present. */
static bool copy_field(cJSON *to, const cJSON *o, const char *k)
{
	const cJSON *v = field(o, k);
	cJSON *d;

	if (!v)
		return true;
	d = cJSON_Duplicate(v, true);
	return d && cJSON_AddItemToObject(to, k, d);
}

/*
 * The object as podwall's manifest decoder reads it, with only the fields
 * it needs (a Pod from the API server is mostly status and managedFields).
 * List items carry no kind or apiVersion: they are set here.
 */
static cJSON *trim(const struct kind *k, const cJSON *o, bool *hostnet_or_done)
{
	const cJSON *md = field(o, "metadata"), *spec = field(o, "spec"),
		    *status = field(o, "status"), *c;
	cJSON *t = cJSON_CreateObject(), *m, *sp, *cs, *st;
	const char *phase;
	bool ok = true;

	*hostnet_or_done = false;
	if (!t)
		return NULL;
	cJSON_AddStringToObject(t, "apiVersion", k->api);
	cJSON_AddStringToObject(t, "kind", k->kind);
	m = cJSON_AddObjectToObject(t, "metadata");
	if (!m)
		goto fail;
	ok = copy_field(m, md, "name") && copy_field(m, md, "labels");
	if (k->pk != PW_KIND_NAMESPACE)
		ok = ok && copy_field(m, md, "namespace");
	if (k->pk == PW_KIND_NETPOL)
		ok = ok && copy_field(t, o, "spec");
	if (k->pk != PW_KIND_POD)
		return ok ? t : (cJSON_Delete(t), NULL);

	sp = cJSON_AddObjectToObject(t, "spec");
	cs = sp ? cJSON_AddArrayToObject(sp, "containers") : NULL;
	if (!cs)
		goto fail;
	cJSON_ArrayForEach(c, field(spec, "containers"))
	{
		cJSON *nc = cJSON_CreateObject();

		if (!nc || !cJSON_AddItemToArray(cs, nc)) {
			cJSON_Delete(nc);
			goto fail;
		}
		ok = ok && copy_field(nc, c, "ports");
	}
	phase = sfield(status, "phase");
	if (cJSON_IsTrue(field(spec, "hostNetwork")) ||
	    (phase &&
	     (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))) {
		*hostnet_or_done = true;
		return ok ? t : (cJSON_Delete(t), NULL);
	}
	st = cJSON_AddObjectToObject(t, "status");
	if (!st)
		goto fail;
	ok = ok && copy_field(st, status, "podIPs") &&
	     copy_field(st, status, "podIP");
	if (ok)
		return t;
fail:
	cJSON_Delete(t);
	return NULL;
}

/* An item for one API object; NULL when out of memory. An object that
 * does not decode becomes a rejected item, so it is counted, reported, and
 * removed by its DELETED event like any other. */
static struct item *make_item(struct pw_src_k8s *s, const struct kind *k,
			      const cJSON *o)
{
	const cJSON *md = field(o, "metadata");
	const char *name = sfield(md, "name"), *ns = sfield(md, "namespace");
	const char *node = sfield(field(o, "spec"), "nodeName");
	struct pw_objects objs = {};
	struct item *it = calloc(1, sizeof(*it));
	char err[PW_ERR_LEN], *text = NULL;
	bool noaddr;
	cJSON *t;
	int ret;

	if (!it)
		return NULL;
	if (k->pk == PW_KIND_NAMESPACE)
		ret = asprintf(&it->key, "%s", name ?: "");
	else
		ret = asprintf(&it->key, "%s/%s", ns ?: "", name ?: "");
	if (ret < 0) {
		free(it);
		return NULL;
	}
	it->local = k->pk == PW_KIND_POD && s->node && node &&
		    !strcmp(node, s->node);
	t = trim(k, o, &noaddr);
	text = t ? cJSON_PrintUnformatted(t) : NULL;
	cJSON_Delete(t);
	if (!text) {
		item_free(it);
		return NULL;
	}
	ret = pw_manifest_load_buf(text, strlen(text), "kubernetes", &objs, err,
				   sizeof(err));
	if (ret == -ENOMEM) {
		free(text);
		item_free(it);
		return NULL;
	}
	if (ret || objs.n != 1) {
		pw_objects_free(&objs);
		free(text);
		it->rejected = true;
		it->local = false;
		it->text = strdup(ret ? err : "not one object");
		if (!it->text) {
			item_free(it);
			return NULL;
		}
		return it;
	}
	if (k->pk == PW_KIND_NETPOL) {
		pw_objects_free(&objs);
		it->text = text;
		it->obj.kind = PW_KIND_NETPOL;
		return it;
	}
	free(text);
	it->obj = objs.v[0];
	free(objs.v);
	/* a peer for the compiler: no policy entries of its own, until the
	 * CNI plugin registers it here (pw_source_add_pod) */
	if (k->pk == PW_KIND_POD)
		it->obj.pod->remote = s->node && !it->local;
	return it;
}

static void signal_due(struct pw_src_k8s *s)
{
	uint64_t one = 1;

	if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("k8s: eventfd: %s\n", strerror(errno));
}

static void set_error(struct pw_src_k8s *s, struct kind *k, const char *msg)
{
	snprintf(k->err, sizeof(k->err), "%s", msg);
	pthread_mutex_lock(&s->mu);
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%s %s: %s",
		 k->kind, k->path, msg);
	k->healthy = false;
	s->st.kind[k - s->k].errors++;
	pthread_mutex_unlock(&s->mu);
}

/* ---- the worker ---- */

static void schedule(struct pw_src_k8s *s, struct kind *k)
{
	int b = k->backoff;
	int wait = b / 2 + (int)(rand_r(&s->seed) % (unsigned int)(b / 2 + 1));

	k->next = now_ms() + wait;
	k->backoff = b * 2 > s->o.backoff_max_ms ? s->o.backoff_max_ms : b * 2;
	k->st = K_WAIT;
	pr_debug("k8s: %s: retrying in %d ms\n", k->kind, wait);
}

static void now_again(struct kind *k)
{
	k->next = 0;
	k->st = K_WAIT;
}

static void set_rv(struct kind *k, const cJSON *o)
{
	const char *rv = sfield(field(o, "metadata"), "resourceVersion");

	if (rv && *rv)
		snprintf(k->rv, sizeof(k->rv), "%s", rv);
}

/* One watch event. Non-zero stops reading the stream. */
static int on_event(void *arg, char *line, size_t len)
{
	struct kind *k = arg;
	struct pw_src_k8s *s = k->s;
	int ix = k - s->k, code;
	cJSON *ev = cJSON_ParseWithLength(line, len);
	const cJSON *obj = field(ev, "object");
	const char *type = sfield(ev, "type"), *reason, *msg;
	struct item *it = NULL, *old;
	char e[256];
	bool changed = false;

	if (!ev || !type || !cJSON_IsObject(obj)) {
		cJSON_Delete(ev);
		set_error(s, k, "watch: an event that is not JSON");
		return -EPROTO;
	}
	if (!strcmp(type, "ERROR")) {
		if (pw_k8s_status(obj, &code, &reason, &msg) && code == 410) {
			pr_info("k8s: %s: watch: %s (410): listing again\n",
				k->kind, msg);
			k->gone = true;
		} else {
			snprintf(e, sizeof(e), "watch: ERROR %d %s: %s",
				 pw_k8s_status(obj, &code, &reason, &msg) ? code
									  : 0,
				 reason ?: "", msg ?: "");
			set_error(s, k, e);
		}
		cJSON_Delete(ev);
		return -ECONNRESET; /* the server ends the watch after it */
	}
	k->got_event = true;
	if (!strcmp(type, "BOOKMARK")) {
		set_rv(k, obj);
		pthread_mutex_lock(&s->mu);
		s->st.kind[ix].bookmarks++;
		snprintf(s->st.kind[ix].rv, sizeof(s->st.kind[ix].rv), "%s",
			 k->rv);
		pthread_mutex_unlock(&s->mu);
		cJSON_Delete(ev);
		return 0;
	}
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") &&
	    strcmp(type, "DELETED")) {
		snprintf(e, sizeof(e), "watch: unknown event type \"%.40s\"",
			 type);
		set_error(s, k, e);
		cJSON_Delete(ev);
		return 0;
	}
	it = make_item(s, k, obj);
	if (!it) {
		cJSON_Delete(ev);
		set_error(s, k, "out of memory");
		return -ENOMEM;
	}
	if (it->rejected && type[0] != 'D')
		pr_warn("k8s: %s %s left out: %s\n", k->kind, it->key,
			it->text);
	set_rv(k, obj);
	pthread_mutex_lock(&s->mu);
	old = table_get(&k->cur, it->key);
	if (type[0] == 'D') {
		if (old) {
			table_unlink(&k->cur, old);
			item_drop(s, old);
			changed = true;
		}
		item_free(it);
	} else {
		changed = !old || !item_same(old, it);
		if (changed && table_put(&k->cur, it, &old)) {
			item_free(it);
			item_drop(s, old);
			pthread_mutex_unlock(&s->mu);
			cJSON_Delete(ev);
			set_error(s, k, "out of memory");
			return -ENOMEM;
		}
		if (!changed)
			item_free(it);
		else
			item_drop(s, old);
	}
	s->st.kind[ix].events++;
	snprintf(s->st.kind[ix].rv, sizeof(s->st.kind[ix].rv), "%s", k->rv);
	k->healthy = true;
	pthread_mutex_unlock(&s->mu);
	pr_debug("k8s: %s %s %s\n", type, k->kind,
		 sfield(field(obj, "metadata"), "name") ?: "?");
	cJSON_Delete(ev);
	if (changed)
		signal_due(s);
	return 0;
}

static size_t watch_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct kind *k = arg;
	long status = 0;

	curl_easy_getinfo(k->req.h, CURLINFO_RESPONSE_CODE, &status);
	int ret;

	if (status != 200) /* a Status object, not a stream */
		return pw_k8s_body_write(data, sz, nm, &k->body);
	ret = pw_k8s_lines_feed(&k->lines, data, sz * nm, on_event, k);
	if (ret == -EFBIG)
		set_error(k->s, k, "watch: an event larger than 16 MiB");
	return ret ? 0 : sz * nm;
}

static int start(struct pw_src_k8s *s, struct kind *k)
{
	char *q = NULL, *esc = NULL, err[256];
	int ret;

	k->body.len = 0;
	k->body.big = false;
	k->gone = false;
	k->got_event = false;
	k->err[0] = 0;
	pw_k8s_lines_reset(&k->lines);
	if (k->want_list) {
		esc = k->cont ? curl_easy_escape(NULL, k->cont, 0) : NULL;
		ret = asprintf(&q, "%s?limit=%d%s%s", k->path, s->o.page_limit,
			       esc ? "&continue=" : "", esc ?: "");
		curl_free(esc);
	} else {
		int t = s->o.watch_timeout;

		if (!t) /* spread the reconnects of many nodes */
			t = 300 + (int)(rand_r(&s->seed) % 301);
		esc = curl_easy_escape(NULL, k->rv, 0);
		ret = asprintf(&q,
			       "%s?watch=1&allowWatchBookmarks=true"
			       "&resourceVersion=%s&timeoutSeconds=%d",
			       k->path, esc ?: "", t);
		curl_free(esc);
	}
	if (ret < 0)
		return -ENOMEM;
	err[0] = 0;
	ret = pw_k8s_req_init(&k->req, &s->cfg, q, err, sizeof(err));
	free(q);
	if (ret) {
		set_error(s, k, err);
		return ret;
	}
	curl_easy_setopt(k->req.h, CURLOPT_PRIVATE, k);
	if (k->want_list) {
		curl_easy_setopt(k->req.h, CURLOPT_WRITEFUNCTION,
				 pw_k8s_body_write);
		curl_easy_setopt(k->req.h, CURLOPT_WRITEDATA, &k->body);
		curl_easy_setopt(k->req.h, CURLOPT_TIMEOUT_MS,
				 (long)LIST_TIMEOUT_MS);
		k->st = K_LIST;
	} else {
		curl_easy_setopt(k->req.h, CURLOPT_WRITEFUNCTION, watch_write);
		curl_easy_setopt(k->req.h, CURLOPT_WRITEDATA, k);
		/* the server ends it at timeoutSeconds; this is for a server
		 * that went silent without closing */
		curl_easy_setopt(k->req.h, CURLOPT_TIMEOUT_MS,
				 (long)(s->o.watch_timeout ?: 600) * 1000 +
					 60000);
		pthread_mutex_lock(&s->mu);
		s->st.kind[k - s->k].watches++;
		pthread_mutex_unlock(&s->mu);
		k->st = K_WATCH;
	}
	if (curl_multi_add_handle(s->multi, k->req.h)) {
		pw_k8s_req_free(&k->req);
		k->st = K_WAIT;
		return -EIO;
	}
	return 0;
}

/* The error of a finished request, for the log and the status. */
static void req_error(struct kind *k, CURLcode res, long status, char *e,
		      size_t elen)
{
	cJSON *o = k->body.len ? cJSON_ParseWithLength(k->body.p, k->body.len)
			       : NULL;
	const char *reason, *msg;
	int code;

	if (res != CURLE_OK && !status)
		snprintf(e, elen, "%s", curl_easy_strerror(res));
	else if (k->body.big)
		snprintf(e, elen, "answer larger than %u bytes",
			 PW_K8S_BODY_MAX);
	else if (o && pw_k8s_status(o, &code, &reason, &msg))
		snprintf(e, elen, "HTTP %ld %s: %s", status, reason, msg);
	else if (res != CURLE_OK)
		snprintf(e, elen, "HTTP %ld: %s", status,
			 curl_easy_strerror(res));
	else
		snprintf(e, elen, "HTTP %ld", status);
	cJSON_Delete(o);
}

/* A list page arrived whole: into k->fresh; the last page swaps it in. */
static int list_page(struct pw_src_k8s *s, struct kind *k, char *e, size_t elen)
{
	cJSON *o = cJSON_ParseWithLength(k->body.p, k->body.len);
	const cJSON *md = field(o, "metadata"), *items = field(o, "items"), *x;
	const char *cont = sfield(md, "continue"),
		   *rv = sfield(md, "resourceVersion");
	int ix = k - s->k;
	struct table old;

	if (!o || !rv || !*rv ||
	    (items && !cJSON_IsArray(items) && !cJSON_IsNull(items))) {
		snprintf(e, elen, "list: not a %sList", k->kind);
		cJSON_Delete(o);
		return -EPROTO;
	}
	cJSON_ArrayForEach(x, items)
	{
		struct item *it = make_item(s, k, x), *dup = NULL;

		if (!it || table_put(&k->fresh, it, &dup)) {
			item_free(it);
			item_free(dup);
			cJSON_Delete(o);
			snprintf(e, elen, "out of memory");
			return -ENOMEM;
		}
		item_free(dup); /* the key twice: the later one stays */
		if (it->rejected)
			pr_warn("k8s: %s %s left out: %s\n", k->kind, it->key,
				it->text);
	}
	free(k->cont);
	k->cont = cont && *cont ? strdup(cont) : NULL;
	pthread_mutex_lock(&s->mu);
	s->st.kind[ix].pages++;
	pthread_mutex_unlock(&s->mu);
	if (k->cont) {
		cJSON_Delete(o);
		return 0;
	}
	snprintf(k->rv, sizeof(k->rv), "%s", rv);
	cJSON_Delete(o);
	pthread_mutex_lock(&s->mu);
	old = k->cur;
	k->cur = k->fresh;
	k->synced = true;
	k->healthy = true;
	s->st.kind[ix].synced = true;
	s->st.kind[ix].lists++;
	snprintf(s->st.kind[ix].rv, sizeof(s->st.kind[ix].rv), "%s", k->rv);
	if (s->collecting) {
		struct item *it, *n;

		for (it = old.head; it; it = n) {
			n = it->next;
			item_drop(s, it);
		}
		old.head = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	memset(&k->fresh, 0, sizeof(k->fresh));
	table_free(&old);
	pr_info("k8s: %s: listed %zu at resourceVersion %s\n", k->kind,
		k->cur.n, k->rv);
	signal_due(s);
	return 0;
}

static void gone(struct pw_src_k8s *s, struct kind *k)
{
	pthread_mutex_lock(&s->mu);
	s->st.kind[k - s->k].gone++;
	pthread_mutex_unlock(&s->mu);
	table_free(&k->fresh);
	free(k->cont);
	k->cont = NULL;
	k->want_list = true;
	now_again(k);
}

static void finish(struct pw_src_k8s *s, struct kind *k, CURLcode res)
{
	long status = 0;
	char e[256];

	curl_easy_getinfo(k->req.h, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(s->multi, k->req.h);
	pw_k8s_req_free(&k->req);

	if (k->st == K_LIST) {
		if (res == CURLE_OK && status == 200) {
			if (!list_page(s, k, e, sizeof(e))) {
				if (!k->cont) {
					k->want_list = false;
					k->backoff = s->o.backoff_min_ms;
				}
				now_again(k);
				return;
			}
		} else if (status == 410 && k->cont) {
			/* the continue token expired: a new list */
			pr_info("k8s: %s: list continue expired (410): "
				"listing again\n",
				k->kind);
			gone(s, k);
			return;
		} else {
			req_error(k, res, status, e, sizeof(e));
		}
		set_error(s, k, e);
		pr_warn("k8s: %s: list: %s\n", k->kind, e);
		table_free(&k->fresh);
		free(k->cont);
		k->cont = NULL;
		schedule(s, k);
		return;
	}
	/* a watch ended */
	if (k->gone || status == 410) {
		gone(s, k);
		return;
	}
	if (status == 200 && (res == CURLE_OK || k->got_event) &&
	    res != CURLE_WRITE_ERROR) {
		/* the server's timeout, or a cut after some events: resume
		 * from the last version at once */
		if (res != CURLE_OK) {
			snprintf(e, sizeof(e), "watch cut: %s",
				 curl_easy_strerror(res));
			set_error(s, k, e);
			pr_info("k8s: %s: %s; resuming at %s\n", k->kind, e,
				k->rv);
		}
		k->backoff = s->o.backoff_min_ms;
		if (res == CURLE_OK)
			now_again(k);
		else
			schedule(s, k);
		return;
	}
	if (res == CURLE_WRITE_ERROR && status == 200)
		snprintf(e, sizeof(e), "%s", k->err[0] ? k->err : "stream");
	else
		req_error(k, res, status, e, sizeof(e));
	set_error(s, k, e);
	pr_warn("k8s: %s: watch: %s\n", k->kind, e);
	schedule(s, k);
}

static void *worker(void *arg)
{
	struct pw_src_k8s *s = arg;
	int i, running, left;

	/* capabilities are per thread, and this one started before the
	 * agent dropped its own: talking HTTPS needs none */
	pw_caps_keep(NULL, 0);
	while (!atomic_load(&s->stop)) {
		long long now = now_ms(), wait = POLL_MAX_MS;
		CURLMsg *m;

		if (atomic_exchange(&s->relist, false)) {
			for (i = 0; i < PW_K8S_NKINDS; i++) {
				struct kind *k = &s->k[i];

				if (k->st != K_WAIT) {
					curl_multi_remove_handle(s->multi,
								 k->req.h);
					pw_k8s_req_free(&k->req);
				}
				table_free(&k->fresh);
				free(k->cont);
				k->cont = NULL;
				k->want_list = true;
				k->backoff = s->o.backoff_min_ms;
				now_again(k);
			}
		}

		for (i = 0; i < PW_K8S_NKINDS; i++) {
			struct kind *k = &s->k[i];

			if (k->st == K_WAIT && now >= k->next && start(s, k))
				schedule(s, k);
		}
		curl_multi_perform(s->multi, &running);
		for (i = 0; i < PW_K8S_NKINDS; i++) {
			struct kind *k = &s->k[i];
			long status = 0;

			/* a watch that the server took is health, events
			 * or not */
			if (k->st != K_WATCH || k->healthy)
				continue;
			curl_easy_getinfo(k->req.h, CURLINFO_RESPONSE_CODE,
					  &status);
			if (status == 200) {
				pthread_mutex_lock(&s->mu);
				k->healthy = true;
				pthread_mutex_unlock(&s->mu);
			}
		}
		while ((m = curl_multi_info_read(s->multi, &left))) {
			struct kind *k = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  (char **)&k);
			if (k)
				finish(s, k, m->data.result);
		}
		now = now_ms();
		for (i = 0; i < PW_K8S_NKINDS; i++) {
			struct kind *k = &s->k[i];

			if (k->st == K_WAIT)
				wait = k->next <= now	      ? 0
				       : k->next - now < wait ? k->next - now
							      : wait;
		}
		if (wait)
			curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
	}
	return NULL;
}

/* ---- the agent's side ---- */

static int labels_copy(const struct pw_labels *from, struct pw_labels *to)
{
	int i;

	to->v = calloc(from->n ?: 1, sizeof(*to->v));
	to->n = 0;
	if (!to->v)
		return -ENOMEM;
	for (i = 0; i < from->n; i++) {
		to->v[i].key = strdup(from->v[i].key);
		to->v[i].value = strdup(from->v[i].value);
		to->n++;
		if (!to->v[i].key || !to->v[i].value)
			return -ENOMEM;
	}
	return 0;
}

static int pod_copy(const struct pw_pod *p, struct pw_pod **out)
{
	struct pw_pod *q = calloc(1, sizeof(*q));
	int i;

	*out = q;
	if (!q)
		return -ENOMEM;
	q->ns = strdup(p->ns);
	q->name = strdup(p->name);
	memcpy(q->ips, p->ips, sizeof(q->ips));
	q->nips = p->nips;
	q->remote = p->remote;
	if (!q->ns || !q->name || labels_copy(&p->labels, &q->labels))
		return -ENOMEM;
	if (!p->nports)
		return 0;
	q->ports = calloc(p->nports, sizeof(*q->ports));
	if (!q->ports)
		return -ENOMEM;
	for (i = 0; i < p->nports; i++) {
		q->ports[i] = p->ports[i];
		q->ports[i].name = NULL;
		q->nports++;
		if (p->ports[i].name &&
		    !(q->ports[i].name = strdup(p->ports[i].name)))
			return -ENOMEM;
	}
	return 0;
}

static int ns_copy(const struct pw_namespace *n, struct pw_namespace **out)
{
	struct pw_namespace *m = calloc(1, sizeof(*m));

	*out = m;
	if (!m)
		return -ENOMEM;
	m->name = strdup(n->name);
	if (!m->name || labels_copy(&n->labels, &m->labels))
		return -ENOMEM;
	return 0;
}

/* Room was made for it (collect() reserves before copying). */
static void push(struct pw_objects *objs, struct pw_object o)
{
	objs->v[objs->n++] = o;
}

static int item_out(const struct item *it, struct pw_objects *objs)
{
	struct pw_object o = {.kind = it->obj.kind};
	char err[PW_ERR_LEN];
	int ret;

	if (it->rejected)
		return 0;
	if (it->text) /* a NetworkPolicy: it decoded before, it does now */
		return pw_manifest_load_buf(it->text, strlen(it->text),
					    "kubernetes", objs, err,
					    sizeof(err));
	if (o.kind == PW_KIND_POD)
		ret = pod_copy(it->obj.pod, &o.pod);
	else
		ret = ns_copy(it->obj.ns, &o.ns);
	if (ret) {
		pw_object_free(&o);
		return ret;
	}
	push(objs, o);
	return 0;
}

static int collect(struct pw_source *base, struct pw_objects *objs, char *err,
		   size_t errlen)
{
	struct pw_src_k8s *s = (struct pw_src_k8s *)base;
	const struct item **items = NULL, *it;
	struct item *dead, *next;
	int i, ret = 0, rejected = 0;
	const char *why = NULL;
	char unhealthy[sizeof(s->st.last_error)];
	bool sick = false;
	struct pw_object *v;
	size_t n, m = 0, j;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < PW_K8S_NKINDS; i++) {
		if (!s->k[i].synced) {
			snprintf(err, errlen,
				 "kubernetes: not synced yet (%s: %s)",
				 s->k[i].kind,
				 s->st.last_error[0] ? s->st.last_error
						     : "listing");
			pthread_mutex_unlock(&s->mu);
			return -EINPROGRESS;
		}
		if (!s->k[i].healthy && !sick) {
			snprintf(unhealthy, sizeof(unhealthy), "%s",
				 s->st.last_error);
			sick = true;
		}
	}
	/* the items, in order, to copy after the mutex (150,000 pods take
	 * a while, and the worker would wait on every event meanwhile); one
	 * allocation for the copies; the policies, decoded anew, grow the
	 * array themselves */
	n = s->k[PW_K8S_NAMESPACES].cur.n + s->k[PW_K8S_PODS].cur.n;
	items = malloc((n + s->k[PW_K8S_NETPOLS].cur.n + 1) * sizeof(*items));
	v = realloc(objs->v, (objs->n + n + 1) * sizeof(*v));
	if (v)
		objs->v = v;
	if (!items || !v) {
		pthread_mutex_unlock(&s->mu);
		free(items);
		snprintf(err, errlen, "kubernetes: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < PW_K8S_NKINDS; i++)
		for (it = s->k[i].cur.head; it; it = it->next)
			items[m++] = it;
	s->collecting = true;
	pthread_mutex_unlock(&s->mu);

	for (j = 0; j < m && !ret; j++) {
		ret = item_out(items[j], objs);
		if (items[j]->rejected && !rejected++)
			why = items[j]->text;
	}
	if (ret)
		snprintf(err, errlen, "kubernetes: out of memory");
	else if (rejected)
		snprintf(err, errlen, "kubernetes: %d objects left out (%s)",
			 rejected, why);
	if (!ret && sick) {
		snprintf(err, errlen, "kubernetes: %s; keeping the last state",
			 unhealthy);
		ret = -EAGAIN;
	}

	pthread_mutex_lock(&s->mu);
	s->collecting = false;
	dead = s->dead;
	s->dead = NULL;
	pthread_mutex_unlock(&s->mu);
	for (; dead; dead = next) {
		next = dead->hnext;
		item_free(dead);
	}
	free(items);
	return ret ?: (rejected ? -EINVAL : 0);
}

int pw_src_k8s_fd(const struct pw_src_k8s *s)
{
	return s->efd;
}

int pw_src_k8s_on_ready(struct pw_src_k8s *s)
{
	uint64_t n = 0;

	if (read(s->efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n > 0;
}

void pw_src_k8s_stats(struct pw_src_k8s *s, struct pw_src_k8s_stats *st)
{
	int i;

	pthread_mutex_lock(&s->mu);
	*st = s->st;
	st->synced = true;
	for (i = 0; i < PW_K8S_NKINDS; i++)
		st->synced = st->synced && s->k[i].synced;
	st->namespaces = s->k[PW_K8S_NAMESPACES].cur.n;
	st->pods = s->k[PW_K8S_PODS].cur.n;
	st->local_pods = s->k[PW_K8S_PODS].cur.nlocal;
	st->netpols = s->k[PW_K8S_NETPOLS].cur.n;
	for (i = 0; i < PW_K8S_NKINDS; i++)
		st->kind[i].rejected = s->k[i].cur.nrejected;
	pthread_mutex_unlock(&s->mu);
}

bool pw_src_k8s_pod_local(struct pw_src_k8s *s, const char *ns,
			  const char *name)
{
	const struct item *it;
	char *key;
	bool local;

	if (asprintf(&key, "%s/%s", ns, name) < 0)
		return false;
	pthread_mutex_lock(&s->mu);
	it = table_get(&s->k[PW_K8S_PODS].cur, key);
	local = it && it->local;
	pthread_mutex_unlock(&s->mu);
	free(key);
	return local;
}

bool pw_src_k8s_pod_remote(struct pw_src_k8s *s, const char *ns,
			   const char *name)
{
	const struct item *it;
	char *key;
	bool remote;

	if (!s->node || asprintf(&key, "%s/%s", ns, name) < 0)
		return false;
	pthread_mutex_lock(&s->mu);
	it = table_get(&s->k[PW_K8S_PODS].cur, key);
	remote = it && !it->rejected && !it->local;
	pthread_mutex_unlock(&s->mu);
	free(key);
	return remote;
}

void pw_src_k8s_refresh(struct pw_src_k8s *s)
{
	atomic_store(&s->relist, true);
	curl_multi_wakeup(s->multi);
}

/* The pw_source hooks for the agent's event loop. */
static int src_fd(const struct pw_source *base)
{
	return pw_src_k8s_fd((const struct pw_src_k8s *)base);
}

static int src_wait_ms(const struct pw_source *base)
{
	(void)base;
	return -1; /* the worker keeps its own time */
}

static int src_poll(struct pw_source *base)
{
	return pw_src_k8s_on_ready((struct pw_src_k8s *)base);
}

static void src_refresh(struct pw_source *base)
{
	pw_src_k8s_refresh((struct pw_src_k8s *)base);
}

static void src_status(const struct pw_source *base, cJSON *out)
{
	/* the counters sit under the mutex: not const */
	struct pw_src_k8s *s = (struct pw_src_k8s *)base;
	static const char *const names[] = {"namespaces", "pods",
					    "networkpolicies"};
	struct pw_src_k8s_stats st;
	cJSON *kinds, *k;
	int i;

	pw_src_k8s_stats(s, &st);
	cJSON_AddStringToObject(out, "server", s->cfg.server);
	cJSON_AddStringToObject(out, "node", s->node ?: "");
	cJSON_AddBoolToObject(out, "synced", st.synced);
	cJSON_AddNumberToObject(out, "pods", st.pods);
	cJSON_AddNumberToObject(out, "local_pods", st.local_pods);
	cJSON_AddNumberToObject(out, "namespaces", st.namespaces);
	cJSON_AddNumberToObject(out, "networkpolicies", st.netpols);
	cJSON_AddStringToObject(out, "error", st.last_error);
	kinds = cJSON_AddObjectToObject(out, "kinds");
	for (i = 0; kinds && i < PW_K8S_NKINDS; i++) {
		k = cJSON_AddObjectToObject(kinds, names[i]);
		if (!k)
			break;
		cJSON_AddBoolToObject(k, "synced", st.kind[i].synced);
		cJSON_AddStringToObject(k, "resourceVersion", st.kind[i].rv);
		cJSON_AddNumberToObject(k, "lists", st.kind[i].lists);
		cJSON_AddNumberToObject(k, "pages", st.kind[i].pages);
		cJSON_AddNumberToObject(k, "watches", st.kind[i].watches);
		cJSON_AddNumberToObject(k, "events", st.kind[i].events);
		cJSON_AddNumberToObject(k, "bookmarks", st.kind[i].bookmarks);
		cJSON_AddNumberToObject(k, "gone", st.kind[i].gone);
		cJSON_AddNumberToObject(k, "errors", st.kind[i].errors);
		cJSON_AddNumberToObject(k, "rejected", st.kind[i].rejected);
	}
}

static void src_free(struct pw_source *base)
{
	struct pw_src_k8s *s = (struct pw_src_k8s *)base;
	int i;

	if (s->started) {
		atomic_store(&s->stop, true);
		curl_multi_wakeup(s->multi);
		pthread_join(s->thr, NULL);
	}
	for (i = 0; i < PW_K8S_NKINDS; i++) {
		struct kind *k = &s->k[i];

		if (k->req.h)
			curl_multi_remove_handle(s->multi, k->req.h);
		pw_k8s_req_free(&k->req);
		pw_k8s_lines_free(&k->lines);
		table_free(&k->cur);
		table_free(&k->fresh);
		free(k->cont);
		free(k->body.p);
	}
	if (s->multi)
		curl_multi_cleanup(s->multi);
	if (s->efd >= 0)
		close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pw_k8s_config_free(&s->cfg);
	free(s->node);
	free(s);
	curl_global_cleanup();
}

int pw_src_k8s_new(const struct pw_k8s_config *cfg,
		   const struct pw_src_k8s_opts *opts, struct pw_src_k8s **out)
{
	static const struct {
		const char *path, *kind, *api;
		enum pw_kind pk;
	} kinds[PW_K8S_NKINDS] = {
		[PW_K8S_NAMESPACES] = {"/api/v1/namespaces", "Namespace", "v1",
				       PW_KIND_NAMESPACE},
		[PW_K8S_PODS] = {"/api/v1/pods", "Pod", "v1", PW_KIND_POD},
		[PW_K8S_NETPOLS] =
			{"/apis/networking.k8s.io/v1/networkpolicies",
			 "NetworkPolicy", "networking.k8s.io/v1",
			 PW_KIND_NETPOL},
	};
	struct pw_src_k8s *s;
	int i, ret;

	if (!cfg->server)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -EIO;
	s = calloc(1, sizeof(*s));
	if (!s) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	s->efd = -1;
	pthread_mutex_init(&s->mu, NULL);
	s->base.name = "kubernetes";
	s->base.collect = collect;
	s->base.free = src_free;
	s->base.fd = src_fd;
	s->base.wait_ms = src_wait_ms;
	s->base.poll = src_poll;
	s->base.refresh = src_refresh;
	s->base.status = src_status;
	if (opts)
		s->o = *opts;
	s->o.node = NULL;
	if (!s->o.page_limit)
		s->o.page_limit = PAGE_LIMIT;
	if (!s->o.backoff_min_ms)
		s->o.backoff_min_ms = BACKOFF_MIN_MS;
	if (!s->o.backoff_max_ms)
		s->o.backoff_max_ms = BACKOFF_MAX_MS;
	if (s->o.backoff_max_ms < s->o.backoff_min_ms)
		s->o.backoff_max_ms = s->o.backoff_min_ms;
	s->seed = (unsigned int)(now_ms() ^ getpid());
	ret = pw_k8s_config_copy(cfg, &s->cfg);
	if (!ret && opts && opts->node && !(s->node = strdup(opts->node)))
		ret = -ENOMEM;
	for (i = 0; i < PW_K8S_NKINDS; i++) {
		struct kind *k = &s->k[i];

		k->s = s;
		k->path = kinds[i].path;
		k->kind = kinds[i].kind;
		k->api = kinds[i].api;
		k->pk = kinds[i].pk;
		k->want_list = true;
		k->healthy = true;
		k->backoff = s->o.backoff_min_ms;
		k->st = K_WAIT;
	}
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->multi = curl_multi_init();
	if (!ret && (s->efd < 0 || !s->multi))
		ret = s->efd < 0 ? -errno : -ENOMEM;
	if (!ret) {
		ret = -pthread_create(&s->thr, NULL, worker, s);
		s->started = !ret;
	}
	if (ret) {
		src_free(&s->base);
		return ret;
	}
	*out = s;
	return 0;
}

struct pw_source *pw_src_k8s_source(struct pw_src_k8s *s)
{
	return &s->base;
}
