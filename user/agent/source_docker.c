// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "docker_api.h"
#include "log.h"
#include "source_docker.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

struct pw_src_docker {
	struct pw_source base;
	char *sock;
	char *ns;
	cJSON *last; /* the Pod manifests of the last good read */
	char *cache; /* where @last is kept for the next run, or NULL */
	/* the daemon is read again only when something changed: an event,
	 * a new connection, a failed read, or a forced reconcile */
	bool stale;
	char err[PW_ERR_LEN]; /* why the last read failed, or "" */
	struct pw_docker_events *ev;
	struct pw_netns_index netns; /* of @last */
	long long next_try; /* monotonic ms: reconnect, or read again */
	int backoff;	    /* ms */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Make @in a DNS-1123 label (or with @dots a subdomain) of @max
 * characters at most: lower case, anything else than [a-z0-9] becomes
 * "-", each label cut to 63, empty labels and "-" at their ends dropped.
 * @out may end up empty. */
static void sanitise(const char *in, char *out, size_t max, bool dots)
{
	size_t n = 0, run = 0;

	for (; *in && n < max; in++) {
		char c = tolower((unsigned char)*in);

		if (dots && c == '.') {
			while (run && out[n - 1] == '-')
				n--, run--;
			if (run)
				out[n++] = '.';
			run = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if ((c == '-' && !run) || run == 63)
			continue;
		out[n++] = c;
		run++;
	}
	while (n && (out[n - 1] == '-' || out[n - 1] == '.'))
		n--;
	out[n] = 0;
}

static void pod_name(const char *cname, const char *id, char *out,
		     size_t outlen)
{
	char base[240], suffix[9], *last;
	size_t n = 0, k;

	if (pw_valid_dns_subdomain(cname)) {
		snprintf(out, outlen, "%s", cname);
		return;
	}
	sanitise(cname, base, sizeof(base) - 1, true);
	/* ids are lower-case hex from Docker; from anything else, only what
	 * a name may hold */
	for (; *id && n < 8; id++)
		if (isalnum((unsigned char)*id))
			suffix[n++] = tolower((unsigned char)*id);
	suffix[n] = 0;
	/* the suffix joins the last label, which stays within 63 */
	last = strrchr(base, '.');
	last = last ? last + 1 : base;
	for (k = strlen(last); k > 63 - 1 - n || (k && last[k - 1] == '-');)
		last[--k] = 0;
	if (!*last && last > base) /* nothing left of it: drop the dot */
		last[-1] = 0;
	snprintf(out, outlen, "%s%s%s", base, *base && n ? "-" : "", suffix);
	pr_debug("docker: container \"%s\" is pod \"%s\"\n", cname, out);
}

/* Ids of the networks whose driver is "bridge". */
static bool is_bridge(const cJSON *nets, const char *id)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nets)
	{
		const char *nid = str(n, "Id"), *drv = str(n, "Driver");

		if (nid && id && !strcmp(nid, id))
			return drv && !strcmp(drv, "bridge");
	}
	return false;
}

/* The addresses a container has on network @n: one per family at most,
 * as one interface holds them. Returns how many. */
static int net_ips(const char *cname, const cJSON *n, cJSON *ips)
{
	static const char *const keys[] = {"IPAddress", "GlobalIPv6Address"};
	bool have[2] = {};
	int i, cnt = 0;

	for (i = 0; i < 2; i++) {
		const char *ip = str(n, keys[i]);
		bool v4;
		__u8 a[16];
		cJSON *o;

		if (!ip || !*ip)
			continue;
		if (pw_addr_parse(ip, a)) {
			pr_debug("docker: %s: %s \"%s\" is not an address\n",
				 cname, keys[i], ip);
			continue;
		}
		v4 = !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		if (have[v4])
			continue;
		have[v4] = true;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ip", ip);
		cJSON_AddItemToArray(ips, o);
		cnt++;
	}
	return cnt;
}

/* "NAME.NET" (with "-K" when K > 0), cut so that it stays a DNS-1123
 * subdomain. */
static void net_pod_name(const char *name, const char *net, int k, char *out,
			 size_t outlen)
{
	char label[64], num[16] = "";
	size_t room, n;

	if (k > 0)
		snprintf(num, sizeof(num), "-%d", k);
	sanitise(net, label, sizeof(label) - 1 - strlen(num), false);
	if (!*label)
		snprintf(label, sizeof(label), "net");
	strcat(label, num);
	room = 253 - 1 - strlen(label);
	n = strlen(name) < room ? strlen(name) : room;
	while (n && (name[n - 1] == '-' || name[n - 1] == '.'))
		n--;
	snprintf(out, outlen, "%.*s.%s", (int)n, name, label);
}

static cJSON *make_pod(const char *ns, const char *name, const cJSON *labels,
		       const char *sandbox)
{
	cJSON *pod = cJSON_CreateObject(), *md;

	cJSON_AddStringToObject(pod, "apiVersion", "v1");
	cJSON_AddStringToObject(pod, "kind", "Pod");
	md = cJSON_AddObjectToObject(pod, "metadata");
	cJSON_AddStringToObject(md, "namespace", ns);
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddItemToObject(md, "labels", cJSON_Duplicate(labels, true));
	/* where the container's network namespace is, for binding (the
	 * source reads it back from its own Pods, never from a manifest) */
	if (sandbox && sandbox[0] == '/')
		cJSON_AddStringToObject(
			cJSON_AddObjectToObject(md, "annotations"),
			PW_DOCKER_NETNS_ANNOTATION, sandbox);
	cJSON_AddArrayToObject(cJSON_AddObjectToObject(pod, "status"),
			       "podIPs");
	return pod;
}

static bool taken(const cJSON *pods, const char *name)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, pods)
	{
		const char *q = cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetObjectItem(p, "metadata"), "name"));

		if (q && !strcmp(q, name))
			return true;
	}
	return false;
}

cJSON *pw_docker_pods(const cJSON *c, const cJSON *nets, const char *default_ns)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "Config");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
	const cJSON *nset =
		cJSON_GetObjectItemCaseSensitive(c, "NetworkSettings");
	const cJSON *cnets = cJSON_GetObjectItemCaseSensitive(nset, "Networks");
	const char *sandbox = str(nset, "SandboxKey");
	const char *id = str(c, "Id"), *cname = str(c, "Name"), *proj;
	const cJSON *l, *n;
	char name[254], pname[254], ns[64];
	cJSON *pods, *lab;
	int nbridge = 0;

	pods = cJSON_CreateArray();
	if (!id || !cname)
		return pods;
	if (*cname == '/')
		cname++;
	pod_name(cname, id, name, sizeof(name));
	if (!*name) {
		pr_warn("docker: container \"%s\": no usable name or id\n",
			cname);
		return pods;
	}
	proj = str(labels, "com.docker.compose.project");
	if (proj)
		sanitise(proj, ns, sizeof(ns) - 1, false);
	if (!proj || !*ns)
		snprintf(ns, sizeof(ns), "%s", default_ns);

	lab = cJSON_CreateObject();
	cJSON_ArrayForEach(l, labels)
	{
		if (!cJSON_IsString(l) || !pw_valid_label_key(l->string) ||
		    !pw_valid_label_value(l->valuestring) ||
		    !strncmp(l->string, "podwall.io/", 11) ||
		    !strncmp(l->string, PW_DOCKER_NET_LABEL,
			     strlen(PW_DOCKER_NET_LABEL))) {
			pr_debug("docker: %s: label %s dropped (not a valid "
				 "Kubernetes label, or podwall's own)\n",
				 cname, l->string);
			continue;
		}
		cJSON_AddStringToObject(lab, l->string, l->valuestring);
	}
	if (pw_valid_label_value(cname))
		cJSON_AddStringToObject(lab, "podwall.io/container-name",
					cname);
	cJSON_ArrayForEach(n, cnets) nbridge +=
		is_bridge(nets, str(n, "NetworkID"));
	/* One Pod per bridge network: each is one veth with at most one
	 * address per family, which is what an endpoint is. A container on
	 * two networks is two endpoints, NAME.NET each, with the same
	 * labels but for the network's own. */
	cJSON_ArrayForEach(n, cnets)
	{
		char key[128];
		cJSON *pod;

		if (!is_bridge(nets, str(n, "NetworkID")))
			continue;
		if (nbridge > 1) {
			int k = 0;

			/* two networks whose names clean up alike */
			do
				net_pod_name(name, n->string, k++, pname,
					     sizeof(pname));
			while (taken(pods, pname));
		} else {
			snprintf(pname, sizeof(pname), "%s", name);
		}
		pod = make_pod(ns, pname, lab, sandbox);
		/* policies may select by network */
		snprintf(key, sizeof(key), PW_DOCKER_NET_LABEL "%s", n->string);
		if (pw_valid_label_key(key))
			cJSON_AddStringToObject(
				cJSON_GetObjectItem(
					cJSON_GetObjectItem(pod, "metadata"),
					"labels"),
				key, "true");
		if (!net_ips(cname, n,
			     cJSON_GetObjectItem(
				     cJSON_GetObjectItem(pod, "status"),
				     "podIPs"))) {
			pr_debug("docker: %s: no address on %s\n", cname,
				 n->string);
			cJSON_Delete(pod);
			continue;
		}
		cJSON_AddItemToArray(pods, pod);
	}
	cJSON_Delete(lab);
	return pods;
}

/* Read the daemon: the Pod manifests, or an error (nothing changes). */
static int read_daemon(struct pw_src_docker *s, cJSON **out, char *err,
		       size_t errlen)
{
	cJSON *list = NULL, *nets = NULL, *pods, *c;
	int ret;

	ret = pw_docker_networks(s->sock, &nets, err, errlen);
	if (!ret)
		ret = pw_docker_list(s->sock, &list, err, errlen);
	if (ret) {
		cJSON_Delete(nets);
		return ret;
	}
	pods = cJSON_CreateArray();
	cJSON_ArrayForEach(c, list)
	{
		const char *id = str(c, "Id");
		const cJSON *st, *run;
		cJSON *insp = NULL;

		if (!id)
			continue;
		ret = pw_docker_inspect(s->sock, id, &insp, err, errlen);
		if (ret == -ENOENT) { /* gone since the list */
			ret = 0;
			continue;
		}
		if (ret)
			break;
		st = cJSON_GetObjectItemCaseSensitive(insp, "State");
		run = cJSON_GetObjectItemCaseSensitive(st, "Running");
		if (cJSON_IsTrue(run)) {
			cJSON *mine = pw_docker_pods(insp, nets, s->ns);

			while (cJSON_GetArraySize(mine))
				cJSON_AddItemToArray(
					pods,
					cJSON_DetachItemFromArray(mine, 0));
			cJSON_Delete(mine);
		}
		cJSON_Delete(insp);
	}
	cJSON_Delete(list);
	cJSON_Delete(nets);
	if (ret) {
		cJSON_Delete(pods);
		return ret;
	}
	*out = pods;
	return 0;
}

/* One Pod into @objs; a Pod that a manifest gave already gets the
 * container's addresses (as the CNI source does). */
static int add_pod(const cJSON *pod, struct pw_objects *objs,
		   struct pw_pod_index *idx, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(pod);
	struct pw_objects mine = {};
	int ret;

	if (!text)
		return -ENOMEM;
	ret = pw_manifest_load_buf(text, strlen(text), "docker", &mine, err,
				   errlen);
	free(text);
	if (ret) {
		pw_objects_free(&mine);
		return ret;
	}
	return pw_source_add_pod_idx(objs, &mine, idx);
}

static void schedule(struct pw_src_docker *s);

/* Keep the last good read in the state folder: an agent started while
 * the daemon is away enforces what it knew instead of nothing. */
static void cache_save(struct pw_src_docker *s)
{
	char *text, tmp[4096];
	FILE *f;

	if (!s->cache)
		return;
	text = cJSON_PrintUnformatted(s->last);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->cache);
	f = text ? fopen(tmp, "we") : NULL;
	if (!f || fputs(text, f) < 0 || fflush(f) || fsync(fileno(f)) ||
	    fclose(f) || rename(tmp, s->cache)) {
		pr_warn("docker: cannot write %s: %s\n", s->cache,
			strerror(errno));
		if (f)
			unlink(tmp);
	}
	free(text);
}

void pw_src_docker_cache(struct pw_src_docker *s, const char *path)
{
	char *buf = NULL;
	size_t n = 0;
	cJSON *j;
	FILE *f;

	free(s->cache);
	s->cache = path ? strdup(path) : NULL;
	f = s->cache ? fopen(s->cache, "re") : NULL;
	if (!f)
		return;
	if (getdelim(&buf, &n, '\0', f) > 0) {
		j = cJSON_Parse(buf);
		if (cJSON_IsArray(j)) {
			cJSON_Delete(s->last);
			s->last = j;
			pr_info("docker: %d containers from %s\n",
				cJSON_GetArraySize(j), s->cache);
		} else {
			cJSON_Delete(j);
			pr_warn("docker: %s is not a JSON array, ignored\n",
				s->cache);
		}
	}
	free(buf);
	fclose(f);
}

/* Read the daemon if something changed since the last read. */
static void update(struct pw_src_docker *s)
{
	cJSON *pods = NULL;
	int ret;

	if (!s->stale || (s->err[0] && now_ms() < s->next_try))
		return;
	ret = read_daemon(s, &pods, s->err, sizeof(s->err));
	if (ret) {
		pr_warn("%s; keeping the last %d containers\n", s->err,
			cJSON_GetArraySize(s->last));
		if (s->ev) /* the stream is up: try again on a timer */
			schedule(s);
		return;
	}
	cJSON_Delete(s->last);
	s->last = pods;
	cache_save(s);
	s->stale = false;
	s->err[0] = 0;
	s->backoff = BACKOFF_MIN_MS;
}

static int collect(struct pw_source *base, struct pw_objects *objs, char *err,
		   size_t errlen)
{
	struct pw_src_docker *s = (struct pw_src_docker *)base;
	struct pw_pod_index idx = {};
	char e[PW_ERR_LEN];
	cJSON *pod;
	int ret = 0, r;

	update(s);
	if (s->err[0]) {
		snprintf(err, errlen, "%s", s->err);
		ret = -EAGAIN;
	}
	pw_netns_index_clear(&s->netns);
	cJSON_ArrayForEach(pod, s->last)
	{
		const cJSON *md = cJSON_GetObjectItem(pod, "metadata");

		pw_netns_index_add(&s->netns, str(md, "namespace"),
				   str(md, "name"),
				   str(cJSON_GetObjectItem(md, "annotations"),
				       PW_DOCKER_NETNS_ANNOTATION));
		r = add_pod(pod, objs, &idx, e, sizeof(e));
		if (r == -ENOMEM) {
			ret = r;
			break;
		}
		if (r) { /* one odd container does not stop the others */
			pr_warn("docker: %s\n", e);
			if (!ret) {
				snprintf(err, errlen, "%s", e);
				ret = r;
			}
		}
	}
	pw_pod_index_free(&idx);
	return ret;
}

static void schedule(struct pw_src_docker *s)
{
	s->next_try = now_ms() + s->backoff;
	s->backoff = s->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
						     : s->backoff * 2;
}

/* The stream is down: say why until it is back, and read everything
 * again once it is (events may have been missed). */
static void disconnect(struct pw_src_docker *s, const char *why)
{
	pw_docker_events_close(s->ev);
	s->ev = NULL;
	snprintf(s->err, sizeof(s->err), "%s", why);
	s->stale = true;
	schedule(s);
}

int pw_src_docker_fd(const struct pw_src_docker *s)
{
	return pw_docker_events_fd(s->ev);
}

int pw_src_docker_on_events(struct pw_src_docker *s)
{
	static const char *const actions[] = {"start",	   "die",    "stop",
					      "destroy",   "rename", "connect",
					      "disconnect"};
	cJSON *evs = cJSON_CreateArray(), *e;
	char err[PW_ERR_LEN];
	int ret, due = 0;
	size_t i;

	if (!s->ev || !evs) {
		cJSON_Delete(evs);
		return 0;
	}
	ret = pw_docker_events_read(s->ev, evs, err, sizeof(err));
	cJSON_ArrayForEach(e, evs)
	{
		const char *type = str(e, "Type"), *act = str(e, "Action");

		if (!type || !act ||
		    (strcmp(type, "container") && strcmp(type, "network")))
			continue;
		for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (!strcmp(act, actions[i]))
				break;
		if (i < sizeof(actions) / sizeof(actions[0])) {
			pr_debug("docker: %s %s\n", type, act);
			due++;
		}
	}
	cJSON_Delete(evs);
	if (ret) {
		pr_warn("%s; reconnecting\n", err);
		disconnect(s, err);
	}
	if (due)
		s->stale = true;
	return due;
}

int pw_src_docker_reconnect(struct pw_src_docker *s)
{
	char err[PW_ERR_LEN];
	int ret;

	if (s->ev || now_ms() < s->next_try)
		return 0;
	ret = pw_docker_events_open(s->sock, &s->ev, err, sizeof(err));
	if (ret) {
		pr_warn("%s; retrying in %d ms\n", err, s->backoff);
		snprintf(s->err, sizeof(s->err), "%s", err);
		schedule(s);
		return ret;
	}
	pr_info("docker: connected to %s\n", s->sock);
	s->backoff = BACKOFF_MIN_MS;
	/* what happened while the stream was down is only in a new read */
	s->stale = true;
	s->err[0] = 0;
	return 1;
}

int pw_src_docker_next_ms(const struct pw_src_docker *s)
{
	long long d = s->next_try - now_ms();

	if (s->ev && !s->err[0])
		return 0;
	return d <= 0 ? 0 : (int)d;
}

/* The pw_source hooks for the agent's event loop. */
static int src_fd(const struct pw_source *base)
{
	return pw_src_docker_fd((const struct pw_src_docker *)base);
}

static int src_wait_ms(const struct pw_source *base)
{
	const struct pw_src_docker *s = (const struct pw_src_docker *)base;

	return s->ev && !s->err[0] ? -1 : pw_src_docker_next_ms(s);
}

static int src_poll(struct pw_source *base)
{
	struct pw_src_docker *s = (struct pw_src_docker *)base;

	if (!s->ev)
		return pw_src_docker_reconnect(s) > 0;
	if (s->err[0] && now_ms() >= s->next_try)
		return 1; /* the failed read is due again */
	return pw_src_docker_on_events(s) > 0;
}

void pw_src_docker_refresh(struct pw_src_docker *s)
{
	s->stale = true;
	s->err[0] = 0;
}

static void src_status(const struct pw_source *base, cJSON *out)
{
	const struct pw_src_docker *s = (const struct pw_src_docker *)base;

	cJSON_AddStringToObject(out, "socket", s->sock);
	cJSON_AddBoolToObject(out, "connected", s->ev != NULL);
	cJSON_AddNumberToObject(out, "pods", cJSON_GetArraySize(s->last));
	cJSON_AddStringToObject(out, "error", s->err);
}

static void src_refresh(struct pw_source *base)
{
	pw_src_docker_refresh((struct pw_src_docker *)base);
}

static const char *src_netns(struct pw_source *base, const char *ns,
			     const char *name)
{
	struct pw_src_docker *s = (struct pw_src_docker *)base;

	return pw_netns_index_find(&s->netns, ns, name);
}

static void src_free(struct pw_source *base)
{
	struct pw_src_docker *s = (struct pw_src_docker *)base;

	pw_docker_events_close(s->ev);
	pw_netns_index_clear(&s->netns);
	cJSON_Delete(s->last);
	free(s->cache);
	free(s->sock);
	free(s->ns);
	free(s);
}

int pw_src_docker_new(const char *sock, const char *default_ns,
		      struct pw_src_docker **out)
{
	struct pw_src_docker *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->base.name = "docker";
	s->base.collect = collect;
	s->base.free = src_free;
	s->base.fd = src_fd;
	s->base.wait_ms = src_wait_ms;
	s->base.poll = src_poll;
	s->base.refresh = src_refresh;
	s->base.status = src_status;
	s->base.netns = src_netns;
	s->stale = true;
	s->sock = strdup(sock ?: PW_DOCKER_SOCK);
	s->ns = strdup(default_ns ?: "docker");
	s->last = cJSON_CreateArray();
	s->backoff = BACKOFF_MIN_MS;
	if (!s->sock || !s->ns || !s->last) {
		src_free(&s->base);
		return -ENOMEM;
	}
	if (!pw_valid_dns_label(s->ns)) {
		pr_warn("docker: default namespace \"%s\" is not a DNS-1123 "
			"label\n",
			s->ns);
		src_free(&s->base);
		return -EINVAL;
	}
	/* events first, so nothing between the first list and the stream
	 * is missed; a daemon that is down is retried later */
	pw_src_docker_reconnect(s);
	*out = s;
	return 0;
}

struct pw_source *pw_src_docker_source(struct pw_src_docker *s)
{
	return &s->base;
}
