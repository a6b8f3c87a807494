// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Kubernetes source against a fake API server over HTTPS
 * (tests/e2e/k8s/fakeapi.py, seeded with recorded List answers in
 * tests/e2e/k8s/fixtures): configuration (in-cluster, kubeconfig), both
 * ways of authenticating, paged lists, watch events and bookmarks, 410
 * Gone in both forms, an expired continue token, a cut stream, a server
 * that goes away and comes back, and objects that do not decode.
 * Needs no BPF; it is in test_bpf because that binary links the agent.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "addr.h"
#include "source.h"
#include "source_k8s.h"
#include "testlib.h"

#define FAKEAPI "tests/e2e/k8s/fakeapi.py"
#define TOKEN	"eyJhbGciOiJSUzI1NiJ9.fake-service-account-token"

struct fake {
	char dir[64];
	int port;
	pid_t pid;
	struct pw_k8s_config cfg;
};

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool fake_start(struct fake *f, const char *rv)
{
	char port[16], path[96];
	FILE *p;
	int i;

	snprintf(path, sizeof(path), "%s/port", f->dir);
	unlink(path);
	snprintf(port, sizeof(port), "%d", f->port);
	f->pid = fork();
	if (f->pid < 0)
		return false;
	if (!f->pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/python3", "python3", FAKEAPI, "--dir", f->dir,
		      "--token", TOKEN, "--port", port, "--rv", rv ?: "0",
		      (char *)NULL);
		_exit(127);
	}
	/* bounded: 10 s for openssl and python */
	for (i = 0; i < 200; i++) {
		p = fopen(path, "r");
		if (p) {
			bool ok = fscanf(p, "%d", &f->port) == 1;

			fclose(p);
			return ok;
		}
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			return false;
		}
		msleep(50);
	}
	return false;
}

static void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
}

/* A fake API server and a config that reaches it with the token. */
static bool fake_init(struct fake *f)
{
	char buf[160];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pw-k8s-XXXXXX");
	if (!mkdtemp(f->dir) || !fake_start(f, NULL))
		return false;
	snprintf(buf, sizeof(buf), "https://127.0.0.1:%d", f->port);
	f->cfg.server = strdup(buf);
	f->cfg.token = strdup(TOKEN);
	snprintf(buf, sizeof(buf), "%s/ca.crt", f->dir);
	f->cfg.ca_file = strdup(buf);
	return f->cfg.server && f->cfg.token && f->cfg.ca_file;
}

static void fake_done(struct fake *f)
{
	char cmd[128];

	fake_stop(f);
	pw_k8s_config_free(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (f->dir[0] && system(cmd))
		fprintf(stderr, "  could not remove %s\n", f->dir);
}

/* One control command for the fake, whole (renamed in). */
static void ctl(const struct fake *f, const char *json)
{
	static int seq;
	char path[160], tmp[170];
	FILE *o;

	snprintf(tmp, sizeof(tmp), "%s/ctl.tmp", f->dir);
	snprintf(path, sizeof(path), "%s/ctl/%06d.json", f->dir, ++seq);
	o = fopen(tmp, "w");
	if (o) {
		fputs(json, o);
		fclose(o);
		rename(tmp, path);
	}
}

/* Has the fake taken every command? (bounded: 3 s) */
static bool ctl_done(const struct fake *f)
{
	char cmd[160];
	int i;

	snprintf(cmd, sizeof(cmd), "ls '%s/ctl' | grep -q json", f->dir);
	for (i = 0; i < 150; i++) {
		if (system(cmd))
			return true;
		msleep(20);
	}
	return false;
}

/* How many requests in the fake's log contain @what. */
static int requests(const struct fake *f, const char *what)
{
	char path[96], line[1024];
	int n = 0;
	FILE *l;

	snprintf(path, sizeof(path), "%s/requests.log", f->dir);
	l = fopen(path, "r");
	if (!l)
		return 0;
	while (fgets(line, sizeof(line), l))
		n += !!strstr(line, what);
	fclose(l);
	return n;
}

static struct pw_src_k8s_stats stats(struct pw_src_k8s *s)
{
	struct pw_src_k8s_stats st;

	pw_src_k8s_stats(s, &st);
	return st;
}

/* Wait (bounded by @ms) until @cond holds, clearing the fd as the agent
 * would; *due counts the wake-ups that asked for a reconcile. */
#define WAIT_UNTIL(s, cond, ms, due)                                  \
	({                                                            \
		long long ___end = now_ms() + (ms);                   \
		bool ___ok;                                           \
		while (!(___ok = (cond)) && now_ms() < ___end) {      \
			struct pollfd ___p = {.fd = pw_src_k8s_fd(s), \
					      .events = POLLIN};      \
			if (poll(&___p, 1, 20) > 0)                   \
				(due) += pw_src_k8s_on_ready(s);      \
		}                                                     \
		___ok;                                                \
	})

static bool readable(struct pw_src_k8s *s)
{
	struct pollfd p = {.fd = pw_src_k8s_fd(s), .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

static int collect(struct pw_src_k8s *s, struct pw_objects *o, char *err)
{
	struct pw_source *src = pw_src_k8s_source(s);

	pw_objects_free(o);
	err[0] = 0;
	return src->collect(src, o, err, PW_ERR_LEN);
}

static int nkind(const struct pw_objects *o, enum pw_kind k)
{
	int i, n = 0;

	for (i = 0; i < o->n; i++)
		n += o->v[i].kind == k;
	return n;
}

static const struct pw_pod *pod(const struct pw_objects *o, const char *ns,
				const char *name)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->v[i].kind == PW_KIND_POD &&
		    !strcmp(o->v[i].pod->ns, ns) &&
		    !strcmp(o->v[i].pod->name, name))
			return o->v[i].pod;
	return NULL;
}

static const struct pw_netpol *netpol(const struct pw_objects *o,
				      const char *ns, const char *name)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->v[i].kind == PW_KIND_NETPOL &&
		    !strcmp(o->v[i].np->ns, ns) &&
		    !strcmp(o->v[i].np->name, name))
			return o->v[i].np;
	return NULL;
}

static const char *label(const struct pw_objects *o, const char *ns,
			 const char *name)
{
	const struct pw_pod *p = pod(o, ns, name);

	return p ? pw_labels_get(&p->labels, "app") : NULL;
}

static bool has_ip(const struct pw_pod *p, const char *ip)
{
	__u8 a[16];
	int i;

	if (!p || pw_addr_parse(ip, a))
		return false;
	for (i = 0; i < p->nips; i++)
		if (!memcmp(p->ips[i], a, 16))
			return true;
	return false;
}

#define MANIFEST_POD                                            \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":" \
	"{\"namespace\":\"other\",\"name\":\"p\"}}"

static const struct pw_src_k8s_opts test_opts = {
	.node = "node-a",
	.page_limit = 2,
	.backoff_min_ms = 40,
	.backoff_max_ms = 200,
};

static bool write_file(const char *path, const char *text)
{
	FILE *o = fopen(path, "w");

	if (!o)
		return false;
	fputs(text, o);
	return !fclose(o);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* base64 of a file, through openssl (independent of our decoder) */
static char *b64_file(const char *path)
{
	char cmd[256], out[200];
	char *r;

	snprintf(out, sizeof(out), "%s.b64", path);
	snprintf(cmd, sizeof(cmd), "openssl base64 -A -in '%s' -out '%s'", path,
		 out);
	if (system(cmd))
		return NULL;
	r = read_all(out);
	unlink(out);
	return r;
}

static void source_done(struct pw_src_k8s *s, struct fake *f)
{
	if (s)
		pw_src_k8s_source(s)->free(pw_src_k8s_source(s));
	fake_done(f);
}

/* What a test sets up, taken down whatever way the test ends (an ASSERT
 * returns at once). */
struct ctx {
	struct fake f;
	struct pw_src_k8s *s;
	struct pw_objects o;
	cJSON *j;
};

static bool with_ctx(bool (*body)(struct ctx *c))
{
	struct ctx c = {};
	bool ok = body(&c);

	pw_objects_free(&c.o);
	cJSON_Delete(c.j);
	source_done(c.s, &c.f);
	return ok;
}

#define PATCH_LABEL(ns, name, v)                                              \
	"{\"op\":\"patch\",\"kind\":\"Pod\",\"namespace\":\"" ns "\","        \
	"\"name\":\"" name "\",\"patch\":{\"metadata\":{\"labels\":{\"app\":" \
	"\"" v "\"}}}}"

#define NEW_POD(name, ip)                                                     \
	"{\"op\":\"create\",\"object\":{\"apiVersion\":\"v1\",\"kind\":"      \
	"\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"shop\"," \
	"\"labels\":{\"app\":\"web\"}},\"spec\":{\"nodeName\":\"node-b\","    \
	"\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]},"      \
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"" ip "\",\"podIPs\":"  \
	"[{\"ip\":\"" ip "\"}]}}}"

PW_TEST(k8s_config_in_cluster)
{
	char dir[] = "/tmp/pw-k8s-sa-XXXXXX", p[96], err[256];
	struct pw_k8s_config c;
	bool ok = false;
	int ret;

	if (!mkdtemp(dir))
		return false;
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ret = pw_k8s_config_incluster(dir, &c, err, sizeof(err));
	if (ret != -ENOENT || !strstr(err, "/token")) {
		PW_FAIL("no token: got %d (%s), want -ENOENT naming it", ret,
			err);
		goto out;
	}
	snprintf(p, sizeof(p), "%s/token", dir);
	write_file(p, TOKEN "\n");
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	write_file(p, "-----BEGIN CERTIFICATE-----\n");
	ret = pw_k8s_config_incluster(dir, &c, err, sizeof(err));
	if (ret) {
		PW_FAIL("in cluster: %s", err);
		goto out;
	}
	ok = c.server && !strcmp(c.server, "https://10.96.0.1:443") &&
	     c.token_file && strstr(c.token_file, "/token") && !c.token &&
	     c.ca_file && strstr(c.ca_file, "/ca.crt");
	if (!ok)
		PW_FAIL("in cluster: server %s", c.server);
	pw_k8s_config_free(&c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	ret = pw_k8s_config_incluster(dir, &c, err, sizeof(err));
	if (ret || strcmp(c.server, "https://[fd00:10:96::1]:443")) {
		PW_FAIL("IPv6 service host: %d %s", ret, ret ? err : c.server);
		ok = false;
	}
	if (!ret)
		pw_k8s_config_free(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	ret = pw_k8s_config_incluster(dir, &c, err, sizeof(err));
	if (ret != -ENOENT || !strstr(err, "KUBERNETES_SERVICE_HOST")) {
		PW_FAIL("outside a cluster: %d %s", ret, err);
		ok = false;
	}
out:
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p))
		ok = false;
	return ok;
}

PW_TEST(k8s_base64_strict)
{
	struct pw_k8s_blob b;

	ASSERT_OK(pw_k8s_b64decode("aGVsbG8=", &b), "padded");
	ASSERT_TRUE(b.len == 5 && !memcmp(b.data, "hello", 5), "hello");
	free(b.data);
	ASSERT_OK(pw_k8s_b64decode("aGVs\nbG8", &b), "unpadded, wrapped");
	ASSERT_TRUE(b.len == 5 && !memcmp(b.data, "hello", 5), "hello again");
	free(b.data);
	ASSERT_OK(pw_k8s_b64decode("", &b), "empty");
	ASSERT_EQ(b.len, 0, "empty is empty");
	free(b.data);
	ASSERT_EQ(pw_k8s_b64decode("aGV*bG8=", &b), -EINVAL, "bad character");
	ASSERT_EQ(pw_k8s_b64decode("aGVsbG8=aa", &b), -EINVAL,
		  "data after padding");
	ASSERT_EQ(pw_k8s_b64decode("aGVsbG9", &b), -EINVAL,
		  "non-zero fill bits");
	ASSERT_EQ(pw_k8s_b64decode("a", &b), -EINVAL, "six bits alone");
	return true;
}

/* The splitter, fed one byte at a time, and its bound. */
static int count_line(void *arg, char *line, size_t len)
{
	int *n = arg;

	(*n)++;
	return strlen(line) == len && line[0] == '{' && line[len - 1] == '}'
		       ? 0
		       : -EPROTO;
}

PW_TEST(k8s_watch_lines_split_anywhere_and_bounded)
{
	const char *s = "{\"type\":\"ADDED\"}\n\n{\"type\":\"DELETED\"}\n{\"ty";
	struct pw_k8s_lines l = {};
	size_t i;
	int n = 0, ret = 0;
	char *big;

	for (i = 0; s[i] && !ret; i++)
		ret = pw_k8s_lines_feed(&l, s + i, 1, count_line, &n);
	ASSERT_OK(ret, "fed byte by byte");
	ASSERT_EQ(n, 2, "two whole lines, the empty one skipped");
	ASSERT_EQ(l.len, 4, "the partial line is kept");
	ret = pw_k8s_lines_feed(&l, "pe\":1}\n", 7, count_line, &n);
	ASSERT_OK(ret, "rest of the line");
	ASSERT_EQ(n, 3, "third line");
	big = malloc(1 << 20);
	if (!big)
		return false;
	memset(big, 'x', 1 << 20);
	for (i = 0; i <= PW_K8S_LINE_MAX >> 20 && !ret; i++)
		ret = pw_k8s_lines_feed(&l, big, 1 << 20, count_line, &n);
	free(big);
	pw_k8s_lines_free(&l);
	ASSERT_EQ(ret, -EFBIG, "a line past the bound");
	return true;
}

/* kubeconfig: current-context, *-data, relative paths, and what is
 * refused; then the client certificate really authenticates. */
PW_TEST(k8s_kubeconfig_and_client_certificate)
{
	char path[128], text[16384], err[256], p2[128];
	char *ca = NULL, *crt = NULL, *key = NULL;
	struct pw_k8s_config c = {};
	struct fake f;
	cJSON *o = NULL;
	long status = 0;
	bool ok = false;
	int ret;

	if (!fake_init(&f))
		goto out;
	snprintf(path, sizeof(path), "%s/ca.crt", f.dir);
	ca = b64_file(path);
	snprintf(path, sizeof(path), "%s/client.crt", f.dir);
	crt = b64_file(path);
	snprintf(path, sizeof(path), "%s/client.key", f.dir);
	key = b64_file(path);
	if (!ca || !crt || !key)
		goto out;
	/* as `kind` or kubeadm write one: *-data everywhere */
	snprintf(text, sizeof(text),
		 "apiVersion: v1\nkind: Config\npreferences: {}\n"
		 "current-context: kind-test\n"
		 "clusters:\n"
		 "- name: other\n  cluster:\n    server: "
		 "https://192.0.2.1:6443\n"
		 "- name: kind-test\n  cluster:\n"
		 "    certificate-authority-data: %s\n"
		 "    server: https://127.0.0.1:%d/\n"
		 "contexts:\n"
		 "- name: other\n  context: {cluster: other, user: tok}\n"
		 "- name: kind-test\n  context:\n    cluster: kind-test\n"
		 "    user: kind-test\n"
		 "users:\n"
		 "- name: tok\n  user:\n    token: " TOKEN "\n"
		 "- name: kind-test\n  user:\n"
		 "    client-certificate-data: %s\n"
		 "    client-key-data: %s\n",
		 ca, f.port, crt, key);
	snprintf(path, sizeof(path), "%s/kubeconfig", f.dir);
	write_file(path, text);
	ret = pw_k8s_config_kubeconfig(path, NULL, &c, err, sizeof(err));
	if (ret) {
		PW_FAIL("kubeconfig: %s", err);
		goto out;
	}
	snprintf(p2, sizeof(p2), "https://127.0.0.1:%d", f.port);
	if (strcmp(c.server, p2) || !c.ca.len || !c.cert.len || !c.key.len ||
	    c.token) {
		PW_FAIL("current context: server %s ca %zu cert %zu key %zu",
			c.server, c.ca.len, c.cert.len, c.key.len);
		goto out;
	}
	/* the client certificate alone gets in; the fake logs "cert" */
	ret = pw_k8s_get(&c, "/api/v1/namespaces", 5000, &status, &o, err,
			 sizeof(err));
	if (ret || status != 200 || requests(&f, "namespaces cert") != 1) {
		PW_FAIL("GET with the client certificate: %d %ld %s", ret,
			status, err);
		goto out;
	}
	cJSON_Delete(o);
	o = NULL;
	pw_k8s_config_free(&c);
	/* a named context; a relative CA path is the kubeconfig's folder */
	snprintf(text, sizeof(text),
		 "current-context: a\nclusters:\n- name: c\n  cluster:\n"
		 "    server: https://127.0.0.1:%d\n"
		 "    certificate-authority: ca.crt\n"
		 "contexts:\n- {name: a, context: {cluster: c, user: u}}\n"
		 "- {name: b, context: {cluster: c, user: t}}\n"
		 "users:\n- {name: u, user: {exec: {command: aws}}}\n"
		 "- {name: t, user: {token: " TOKEN "}}\n",
		 f.port);
	write_file(path, text);
	ret = pw_k8s_config_kubeconfig(path, NULL, &c, err, sizeof(err));
	if (ret != -EOPNOTSUPP || !strstr(err, "exec")) {
		PW_FAIL("exec plugin: %d %s, want refused", ret, err);
		goto out;
	}
	ret = pw_k8s_config_kubeconfig(path, "b", &c, err, sizeof(err));
	snprintf(p2, sizeof(p2), "%s/ca.crt", f.dir);
	if (ret || !c.ca_file || strcmp(c.ca_file, p2) || !c.token) {
		PW_FAIL("context b: %d %s %s", ret, err, c.ca_file);
		goto out;
	}
	ret = pw_k8s_get(&c, "/api/v1/pods?limit=1", 5000, &status, &o, err,
			 sizeof(err));
	if (ret || status != 200 || requests(&f, "limit=1 bearer") != 1) {
		PW_FAIL("GET with the token: %d %ld %s", ret, status, err);
		goto out;
	}
	pw_k8s_config_free(&c);
	ret = pw_k8s_config_kubeconfig(path, "nope", &c, err, sizeof(err));
	if (ret != -EINVAL || !strstr(err, "nope")) {
		PW_FAIL("missing context: %d %s", ret, err);
		goto out;
	}
	snprintf(text, sizeof(text),
		 "current-context: a\nclusters:\n- name: c\n  cluster:\n"
		 "    server: https://127.0.0.1:1\n"
		 "    insecure-skip-tls-verify: true\n"
		 "contexts:\n- {name: a, context: {cluster: c}}\n");
	write_file(path, text);
	ret = pw_k8s_config_kubeconfig(path, NULL, &c, err, sizeof(err));
	if (ret != -EINVAL || !strstr(err, "insecure-skip-tls-verify")) {
		PW_FAIL("insecure-skip-tls-verify: %d %s, want refused", ret,
			err);
		goto out;
	}
	ok = true;
out:
	cJSON_Delete(o);
	pw_k8s_config_free(&c);
	free(ca);
	free(crt);
	free(key);
	fake_done(&f);
	return ok;
}

/* TLS is verified and a missing token is refused by the server. */
PW_TEST(k8s_get_verifies_server_and_reports_status)
{
	struct pw_k8s_config c = {};
	const char *reason, *msg;
	char err[256];
	cJSON *o = NULL;
	long status = 0;
	struct fake f;
	bool ok = false;
	int ret, code;

	if (!fake_init(&f))
		goto out;
	/* baseline: the right CA and token */
	ret = pw_k8s_get(&f.cfg, "/api/v1/namespaces", 5000, &status, &o, err,
			 sizeof(err));
	if (ret || status != 200 ||
	    cJSON_GetArraySize(cJSON_GetObjectItem(o, "items")) != 4) {
		PW_FAIL("baseline GET: %d %ld %s", ret, status, err);
		goto out;
	}
	cJSON_Delete(o);
	o = NULL;
	if (pw_k8s_config_copy(&f.cfg, &c))
		goto out;
	free(c.token);
	c.token = NULL;
	ret = pw_k8s_get(&c, "/api/v1/namespaces", 5000, &status, &o, err,
			 sizeof(err));
	if (ret || status != 401 || !pw_k8s_status(o, &code, &reason, &msg) ||
	    code != 401 || strcmp(reason, "Unauthorized")) {
		PW_FAIL("no token: %d %ld, want a 401 Status", ret, status);
		goto out;
	}
	cJSON_Delete(o);
	o = NULL;
	/* a CA that did not sign the server: no answer at all */
	free(c.ca_file);
	c.ca_file = strdup("/etc/ssl/certs/ca-certificates.crt");
	ret = pw_k8s_get(&c, "/api/v1/namespaces", 5000, &status, &o, err,
			 sizeof(err));
	if (ret != -EIO || o) {
		PW_FAIL("unknown CA: %d (%s), want -EIO", ret, err);
		goto out;
	}
	ok = true;
out:
	cJSON_Delete(o);
	pw_k8s_config_free(&c);
	fake_done(&f);
	return ok;
}

/* Paged lists of the recorded answers become the right objects. */
static bool k8s_list_pages_make_objects_body(struct ctx *c)
{
	struct pw_src_k8s_stats st;
	const struct pw_pod *p;
	char err[PW_ERR_LEN];
	int due = 0, ret;

	if (!fake_init(&c->f))
		return false;
	/* every request fails at first: nothing is given until synced */
	ctl(&c->f, "{\"op\":\"fail\",\"count\":100000,\"code\":503}");
	if (!ctl_done(&c->f) || pw_src_k8s_new(&c->f.cfg, &test_opts, &c->s))
		return false;
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_PODS].errors >= 2, 5000,
			due)) {
		PW_FAIL("503s were not retried");
		return false;
	}
	ret = collect(c->s, &c->o, err);
	if (ret != -EINPROGRESS || c->o.n || !strstr(err, "not synced") ||
	    !strstr(err, "503")) {
		PW_FAIL("before sync: %d, %d objects (%s)", ret, c->o.n, err);
		return false;
	}
	ctl(&c->f, "{\"op\":\"fail\",\"count\":0}");
	due = 0;
	if (!WAIT_UNTIL(c->s, stats(c->s).synced, 5000, due) || !due) {
		PW_FAIL("not synced after the server recovered");
		return false;
	}
	/* a source before this one gave a Pod already (array exactly full) */
	pw_objects_free(&c->o);
	ret = pw_manifest_load_buf(MANIFEST_POD, strlen(MANIFEST_POD), "t",
				   &c->o, err, sizeof(err));
	ret = ret
		      ?: pw_src_k8s_source(c->s)->collect(
				 pw_src_k8s_source(c->s), &c->o, err,
				 sizeof(err));
	if (ret || c->o.n != 15 || !pod(&c->o, "other", "p")) {
		PW_FAIL("collect: %d %s, %d objects", ret, err, c->o.n);
		return false;
	}
	st = stats(c->s);
	ASSERT_EQ(nkind(&c->o, PW_KIND_NAMESPACE), 4, "namespaces");
	ASSERT_EQ(nkind(&c->o, PW_KIND_POD), 8,
		  "7 pods and the other source's");
	ASSERT_EQ(nkind(&c->o, PW_KIND_NETPOL), 3, "policies");
	ASSERT_EQ(st.kind[PW_K8S_PODS].pages, 4, "7 pods in pages of 2");
	ASSERT_EQ(st.kind[PW_K8S_PODS].lists, 1, "one list");
	ASSERT_STREQ(st.kind[PW_K8S_PODS].rv, "40201", "the list's version");
	ASSERT_EQ(st.local_pods, 3, "pods with nodeName node-a");
	ASSERT_TRUE(requests(&c->f, "/api/v1/pods?limit=2&continue=") >= 3,
		    "continue tokens followed");
	ASSERT_TRUE(WAIT_UNTIL(c->s,
			       requests(&c->f, "/api/v1/pods?watch=1&"
					       "allowWatchBookmarks=true&"
					       "resourceVersion=40201") >= 1,
			       3000, due),
		    "watch from the list's version, with bookmarks");

	p = pod(&c->o, "shop", "web-7d4b9c8f6-x2x7k");
	ASSERT_TRUE(has_ip(p, "10.244.1.11") && p->nports == 1 &&
			    p->ports[0].name &&
			    !strcmp(p->ports[0].name, "http"),
		    "local web pod: address and named port");
	ASSERT_TRUE(pw_src_k8s_pod_local(c->s, "shop", "web-7d4b9c8f6-x2x7k"),
		    "local");
	ASSERT_TRUE(!p->remote, "local: compiled in full");
	p = pod(&c->o, "shop", "web-7d4b9c8f6-q9z8p");
	ASSERT_TRUE(has_ip(p, "10.244.2.12"), "remote peer's address");
	ASSERT_STREQ(pw_labels_get(&p->labels, "app"), "web",
		     "remote peer's labels");
	ASSERT_TRUE(!pw_src_k8s_pod_local(c->s, "shop", "web-7d4b9c8f6-q9z8p"),
		    "remote");
	ASSERT_TRUE(p->remote, "remote: a peer for the compiler");
	ASSERT_TRUE(!pod(&c->o, "other", "p")->remote,
		    "the other source's pod");
	/* the CNI plugin registers the remote one here after all (its
	 * nodeName was stale): its addresses, and no longer remote */
	{
		static const char cni_pod[] =
			"{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
			"\"metadata\":{\"namespace\":\"shop\",\"name\":"
			"\"web-7d4b9c8f6-q9z8p\"},\"status\":{\"podIP\":"
			"\"10.244.1.99\"}}";
		struct pw_objects mine = {};
		int n = c->o.n;

		ASSERT_OK(pw_manifest_load_buf(cni_pod, strlen(cni_pod), "cni",
					       &mine, err, sizeof(err)),
			  "cni pod");
		ASSERT_OK(pw_source_add_pod(&c->o, &mine), "add pod");
		ASSERT_EQ(c->o.n, n, "merged, not added");
		p = pod(&c->o, "shop", "web-7d4b9c8f6-q9z8p");
		ASSERT_TRUE(
			has_ip(p, "10.244.1.99") && !p->remote &&
				pw_labels_get(&p->labels, "app"),
			"the API server's pod, here, with the CNI's address");
	}
	p = pod(&c->o, "db", "postgres-0");
	ASSERT_TRUE(p && p->nips == 2 && has_ip(p, "fd00:10:244:2::20"),
		    "dual stack");
	p = pod(&c->o, "kube-system", "kube-proxy-zz9x8");
	ASSERT_TRUE(p && !p->nips, "host network: no address");
	p = pod(&c->o, "shop", "migrate-28312345-k7d2q");
	ASSERT_TRUE(p && !p->nips, "a finished pod: no address");
	p = pod(&c->o, "shop", "web-7d4b9c8f6-pend1");
	ASSERT_TRUE(p && !p->nips, "pending, unscheduled");
	ASSERT_TRUE(netpol(&c->o, "db", "allow-web-to-db") &&
			    netpol(&c->o, "db", "allow-web-to-db")->nin == 1,
		    "policy decoded");
	return true;
}

PW_TEST(k8s_list_pages_make_objects)
{
	return with_ctx(k8s_list_pages_make_objects_body);
}

/* A synced source on a fresh fake. */
static bool synced_source(struct fake *f, struct pw_src_k8s **s)
{
	int due = 0;

	*s = NULL;
	if (!fake_init(f) || pw_src_k8s_new(&f->cfg, &test_opts, s))
		return false;
	if (!WAIT_UNTIL(*s, stats(*s).synced, 5000, due)) {
		PW_FAIL("not synced");
		return false;
	}
	/* the three watches are open */
	if (!WAIT_UNTIL(*s, requests(f, "watch=1") >= 3, 3000, due)) {
		PW_FAIL("no watches");
		return false;
	}
	msleep(100);
	WAIT_UNTIL(*s, false, 50, due); /* drain */
	return true;
}

/* Watch events change the kept state and ask for a reconcile; a
 * status-only change and a bookmark do not. */
static bool k8s_watch_events_and_bookmarks_body(struct ctx *c)
{
	char err[PW_ERR_LEN];
	unsigned long ev;
	int due = 0;

	if (!synced_source(&c->f, &c->s))
		return false;
	/* a label change: reconcile due, and collect sees it */
	ctl(&c->f, PATCH_LABEL("shop", "web-7d4b9c8f6-q9z8p", "web2"));
	collect(c->s, &c->o, err);
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-q9z8p"), "web",
		     "baseline label");
	if (!WAIT_UNTIL(c->s, due > 0, 3000, due)) {
		PW_FAIL("label change: no reconcile asked for");
		return false;
	}
	ASSERT_OK(collect(c->s, &c->o, err), "collect");
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-q9z8p"), "web2",
		     "MODIFIED label");
	ASSERT_STREQ(stats(c->s).kind[PW_K8S_PODS].rv, "40202",
		     "version moved");

	/* status only (kubelet's readiness): counted, no reconcile */
	ev = stats(c->s).kind[PW_K8S_PODS].events;
	due = 0;
	ctl(&c->f,
	    "{\"op\":\"patch\",\"kind\":\"Pod\",\"namespace\":\"shop\","
	    "\"name\":\"web-7d4b9c8f6-q9z8p\",\"patch\":{\"status\":"
	    "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}}");
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_PODS].events > ev, 3000,
			due)) {
		PW_FAIL("status change not seen");
		return false;
	}
	msleep(100);
	ASSERT_TRUE(!due && !readable(c->s),
		    "status-only MODIFIED: no reconcile");

	/* a bookmark moves the version only */
	ctl(&c->f, "{\"op\":\"bookmark\"}");
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_NETPOLS].bookmarks == 1,
			3000, due)) {
		PW_FAIL("no bookmark");
		return false;
	}
	ASSERT_STREQ(stats(c->s).kind[PW_K8S_NETPOLS].rv, "40203",
		     "bookmark's version kept");
	msleep(50);
	ASSERT_TRUE(!due && !readable(c->s), "bookmark: no reconcile");

	/* ADDED and DELETED */
	ctl(&c->f, NEW_POD("web-new", "10.244.2.40"));
	ctl(&c->f, "{\"op\":\"delete\",\"kind\":\"Pod\",\"namespace\":\"db\","
		   "\"name\":\"postgres-0\"}");
	if (!WAIT_UNTIL(c->s, stats(c->s).pods == 7 && due, 3000, due) ||
	    collect(c->s, &c->o, err)) {
		PW_FAIL("add and delete: %d pods, due %d", stats(c->s).pods,
			due);
		return false;
	}
	ASSERT_TRUE(has_ip(pod(&c->o, "shop", "web-new"), "10.244.2.40"),
		    "ADDED pod");
	ASSERT_TRUE(!pod(&c->o, "db", "postgres-0"), "DELETED pod");
	ASSERT_EQ(stats(c->s).kind[PW_K8S_PODS].lists, 1, "no relist");
	return true;
}

PW_TEST(k8s_watch_events_and_bookmarks)
{
	return with_ctx(k8s_watch_events_and_bookmarks_body);
}

/* collect() copies the kept objects outside the source's mutex while the
 * worker replaces them (events) and swaps whole tables (a relist): the
 * worker must leave what it drops meanwhile for collect() to free. Run
 * under ASan, a use after free in that window shows here. */
static bool k8s_collect_while_events_arrive_body(struct ctx *c)
{
	enum { N = 400 };
	char err[PW_ERR_LEN], *cmd, *p;
	unsigned long ev0;
	int due = 0, i, rounds = 0;
	long long end;

	if (!synced_source(&c->f, &c->s))
		return false;
	ev0 = stats(c->s).kind[PW_K8S_PODS].events;
	cmd = malloc(N * 200 + 64);
	ASSERT_TRUE(cmd != NULL, "memory");
	p = cmd + sprintf(cmd, "{\"op\":\"batch\",\"changes\":[");
	for (i = 0; i < N; i++)
		p += sprintf(
			p,
			"%s{\"op\":\"patch\",\"kind\":\"Pod\",\"namespace\""
			":\"shop\",\"name\":\"web-7d4b9c8f6-%s\",\"patch\":"
			"{\"metadata\":{\"labels\":{\"app\":\"v%d\"}}}}",
			i ? "," : "", i % 2 ? "q9z8p" : "x2x7k", i);
	sprintf(p, "]}");
	ctl(&c->f, cmd);
	free(cmd);
	/* then changes only a relist sees */
	ctl(&c->f, "{\"op\":\"compact\",\"changes\":[" PATCH_LABEL(
			   "shop", "web-7d4b9c8f6-q9z8p", "final") "]}");
	end = now_ms() + 10000;
	while (now_ms() < end &&
	       !(stats(c->s).kind[PW_K8S_PODS].events >= ev0 + N &&
		 stats(c->s).kind[PW_K8S_PODS].lists >= 2)) {
		if (collect(c->s, &c->o, err) ||
		    !label(&c->o, "shop", "web-7d4b9c8f6-q9z8p")) {
			PW_FAIL("collect %d: %s", rounds, err);
			return false;
		}
		rounds++;
	}
	ASSERT_TRUE(WAIT_UNTIL(c->s,
			       stats(c->s).kind[PW_K8S_PODS].lists >= 2 &&
				       !collect(c->s, &c->o, err) &&
				       label(&c->o, "shop",
					     "web-7d4b9c8f6-q9z8p") &&
				       !strcmp(label(&c->o, "shop",
						     "web-7d4b9c8f6-q9z8p"),
					       "final"),
			       5000, due),
		    "the relisted label");
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-x2x7k"), "v398",
		     "the last event's label");
	ASSERT_TRUE(rounds > 10, "collected while the events came");
	return true;
}

PW_TEST(k8s_collect_while_events_arrive)
{
	return with_ctx(k8s_collect_while_events_arrive_body);
}

/* 410 Gone, as an ERROR event and as an HTTP status: the kind is listed
 * again and changes the watch never saw are there. */
static bool gone_case(struct ctx *c, bool http)
{
	char err[PW_ERR_LEN];
	int due = 0;

	if (!synced_source(&c->f, &c->s))
		return false;
	if (http)
		ctl(&c->f, "{\"op\":\"gone-http\",\"on\":true}");
	ctl(&c->f,
	    "{\"op\":\"compact\",\"changes\":[" PATCH_LABEL(
		    "shop", "web-7d4b9c8f6-q9z8p",
		    "web3") "," NEW_POD("web-unseen",
					"10.244.2.41") ","
						       "{\"op\":\"delete\","
						       "\"kind\":\"Namespace\","
						       "\"name\":\"db\"},"
						       "{\"op\":\"delete\","
						       "\"kind\":"
						       "\"NetworkPolicy\","
						       "\"namespace\":"
						       "\"shop\",\"name\":"
						       "\"allow-http\"}]}");
	if (!WAIT_UNTIL(c->s,
			stats(c->s).kind[PW_K8S_PODS].lists == 2 &&
				stats(c->s).kind[PW_K8S_NAMESPACES].lists ==
					2 &&
				stats(c->s).kind[PW_K8S_NETPOLS].lists == 2,
			5000, due)) {
		PW_FAIL("no relist after 410");
		return false;
	}
	ASSERT_TRUE(stats(c->s).kind[PW_K8S_PODS].gone >= 1, "410 counted");
	ASSERT_TRUE(due > 0, "reconcile asked for");
	ASSERT_OK(collect(c->s, &c->o, err), "collect");
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-q9z8p"), "web3",
		     "unseen label change");
	ASSERT_TRUE(has_ip(pod(&c->o, "shop", "web-unseen"), "10.244.2.41"),
		    "unseen new pod");
	ASSERT_EQ(nkind(&c->o, PW_KIND_NAMESPACE), 3,
		  "unseen namespace delete");
	ASSERT_TRUE(!netpol(&c->o, "shop", "allow-http") &&
			    netpol(&c->o, "shop", "default-deny-ingress"),
		    "unseen policy delete, the others kept");
	ASSERT_EQ(nkind(&c->o, PW_KIND_POD), 8, "every other pod kept");
	ASSERT_STREQ(stats(c->s).kind[PW_K8S_PODS].rv, "40206",
		     "version of the new list");
	return true;
}

static bool gone_event_body(struct ctx *c)
{
	return gone_case(c, false);
}

static bool gone_http_body(struct ctx *c)
{
	return gone_case(c, true);
}

PW_TEST(k8s_gone_event_relists_and_loses_nothing)
{
	return with_ctx(gone_event_body);
}

PW_TEST(k8s_gone_http_relists_and_loses_nothing)
{
	return with_ctx(gone_http_body);
}

/* An expired continue token restarts the list from the start. */
static bool k8s_expired_continue_restarts_list_body(struct ctx *c)
{
	char err[PW_ERR_LEN];
	int due = 0;

	if (!fake_init(&c->f))
		return false;
	ctl(&c->f, "{\"op\":\"expire-continue\",\"count\":1}");
	if (!ctl_done(&c->f) || pw_src_k8s_new(&c->f.cfg, &test_opts, &c->s))
		return false;
	if (!WAIT_UNTIL(c->s, stats(c->s).synced, 5000, due)) {
		PW_FAIL("not synced");
		return false;
	}
	ASSERT_EQ(stats(c->s).kind[PW_K8S_PODS].gone +
			  stats(c->s).kind[PW_K8S_NAMESPACES].gone +
			  stats(c->s).kind[PW_K8S_NETPOLS].gone,
		  1, "one expired continue");
	ASSERT_OK(collect(c->s, &c->o, err), "collect");
	ASSERT_EQ(nkind(&c->o, PW_KIND_POD), 7, "every pod, once");
	ASSERT_EQ(nkind(&c->o, PW_KIND_NAMESPACE), 4, "every namespace");
	ASSERT_EQ(nkind(&c->o, PW_KIND_NETPOL), 3, "every policy");
	ASSERT_EQ(c->o.n, 14, "nothing twice");
	return true;
}

PW_TEST(k8s_expired_continue_restarts_list)
{
	return with_ctx(k8s_expired_continue_restarts_list_body);
}

/* A stream cut mid-event resumes from the last version (no relist); a
 * server that is away keeps the last state; one that comes back with a
 * newer history is listed again. */
static bool k8s_cut_stream_and_server_away_body(struct ctx *c)
{
	char err[PW_ERR_LEN], rv[64];
	int due = 0, ret;

	if (!synced_source(&c->f, &c->s))
		return false;
	ctl(&c->f, PATCH_LABEL("shop", "web-7d4b9c8f6-x2x7k", "cut1"));
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_PODS].events == 1, 3000,
			due))
		return false;
	ctl(&c->f, "{\"op\":\"drop\"}");
	if (!WAIT_UNTIL(c->s,
			requests(&c->f, "resourceVersion=40202") >= 1 &&
				stats(c->s).kind[PW_K8S_PODS].errors >= 1,
			3000, due)) {
		PW_FAIL("no resumed watch after the cut");
		return false;
	}
	ctl(&c->f, PATCH_LABEL("shop", "web-7d4b9c8f6-x2x7k", "cut2"));
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_PODS].events == 2, 3000,
			due)) {
		PW_FAIL("no event after the resumed watch");
		return false;
	}
	ASSERT_EQ(stats(c->s).kind[PW_K8S_PODS].lists, 1, "resumed, no relist");
	/* the other kinds' watches, cut too, come back after a backoff */
	ASSERT_TRUE(WAIT_UNTIL(c->s, !collect(c->s, &c->o, err), 3000, due),
		    "no warning once every watch is back");
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-x2x7k"), "cut2",
		     "event after the cut");

	/* the server goes away: everything stays, with a warning */
	fake_stop(&c->f);
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_PODS].errors >= 3, 5000,
			due)) {
		PW_FAIL("no failed reconnects");
		return false;
	}
	ret = collect(c->s, &c->o, err);
	ASSERT_TRUE(ret && strstr(err, "keeping the last state"),
		    "warning while away");
	ASSERT_EQ(c->o.n, 14, "the last state while away");
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-x2x7k"), "cut2",
		     "the last label while away");
	snprintf(rv, sizeof(rv), "%s", stats(c->s).kind[PW_K8S_PODS].rv);

	/* back, its history starting later (restored): 410, relist */
	if (!fake_start(&c->f, "50000")) {
		PW_FAIL("fake did not restart on port %d", c->f.port);
		return false;
	}
	due = 0;
	if (!WAIT_UNTIL(c->s,
			stats(c->s).kind[PW_K8S_PODS].lists == 2 &&
				stats(c->s).kind[PW_K8S_NAMESPACES].lists ==
					2 &&
				stats(c->s).kind[PW_K8S_NETPOLS].lists == 2,
			5000, due)) {
		PW_FAIL("no relist after the server came back (rv %s)", rv);
		return false;
	}
	ASSERT_TRUE(due > 0, "reconcile asked for");
	ASSERT_OK(collect(c->s, &c->o, err), "no warning once back");
	ASSERT_STREQ(label(&c->o, "shop", "web-7d4b9c8f6-x2x7k"), "web",
		     "the restored server's state");
	ASSERT_STREQ(stats(c->s).kind[PW_K8S_PODS].rv, "50000", "its version");
	return true;
}

PW_TEST(k8s_cut_stream_and_server_away)
{
	return with_ctx(k8s_cut_stream_and_server_away_body);
}

/* A policy podwall cannot decode is left out, reported, and its removal
 * clears the report; the rest still counts. */
static bool k8s_undecodable_policy_left_out_and_reported_body(struct ctx *c)
{
	char err[PW_ERR_LEN];
	int due = 0, ret;

	if (!synced_source(&c->f, &c->s))
		return false;
	ctl(&c->f, "{\"op\":\"create\",\"object\":{\"apiVersion\":"
		   "\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		   "\"metadata\":{\"name\":\"future\",\"namespace\":\"shop\"},"
		   "\"spec\":{\"podSelector\":{},\"futureField\":true}}}");
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_NETPOLS].rejected == 1,
			3000, due)) {
		PW_FAIL("not rejected");
		return false;
	}
	ret = collect(c->s, &c->o, err);
	ASSERT_TRUE(ret && strstr(err, "1 objects left out") &&
			    strstr(err, "futureField"),
		    "reported with the reason");
	ASSERT_EQ(nkind(&c->o, PW_KIND_NETPOL), 3, "the others given");
	ASSERT_EQ(stats(c->s).netpols, 4, "kept, as rejected");
	ctl(&c->f,
	    "{\"op\":\"delete\",\"kind\":\"NetworkPolicy\",\"namespace\":"
	    "\"shop\",\"name\":\"future\"}");
	if (!WAIT_UNTIL(c->s, stats(c->s).netpols == 3, 3000, due))
		return false;
	ASSERT_OK(collect(c->s, &c->o, err), "no report once deleted");
	return true;
}

PW_TEST(k8s_undecodable_policy_left_out_and_reported)
{
	return with_ctx(k8s_undecodable_policy_left_out_and_reported_body);
}

/* A wrong token: 401, never synced, the reason reported. */
static bool k8s_unauthorized_reported_body(struct ctx *c)
{
	char err[PW_ERR_LEN];
	int due = 0, ret;

	if (!fake_init(&c->f))
		return false;
	free(c->f.cfg.token);
	c->f.cfg.token = strdup("wrong");
	if (pw_src_k8s_new(&c->f.cfg, &test_opts, &c->s))
		return false;
	if (!WAIT_UNTIL(c->s, stats(c->s).kind[PW_K8S_PODS].errors >= 2, 5000,
			due)) {
		PW_FAIL("401 not retried");
		return false;
	}
	ret = collect(c->s, &c->o, err);
	ASSERT_EQ(ret, -EINPROGRESS, "not synced");
	ASSERT_TRUE(strstr(err, "401") && strstr(err, "Unauthorized"),
		    "the server's reason");
	ASSERT_EQ(c->o.n, 0, "nothing given");
	ASSERT_EQ(due, 0, "no reconcile asked for");
	return true;
}

PW_TEST(k8s_unauthorized_reported)
{
	return with_ctx(k8s_unauthorized_reported_body);
}

/* The agent's hooks: refresh lists every kind again (state replaced
 * whole, nothing lost), poll clears the fd, status shows the counters. */
static bool k8s_refresh_and_status_hooks_body(struct ctx *c)
{
	struct pw_source *src;
	char err[PW_ERR_LEN];
	cJSON *st = NULL, *pods;
	int due = 0;
	long long end;

	if (!synced_source(&c->f, &c->s))
		return false;
	src = pw_src_k8s_source(c->s);
	ASSERT_TRUE(src->fd && src->fd(src) == pw_src_k8s_fd(c->s), "fd hook");
	ASSERT_TRUE(src->poll && src->status && src->refresh, "hooks set");
	ASSERT_EQ(src->poll(src), 0, "nothing due after the drain");
	src->refresh(src);
	/* the agent's loop: poll() when the fd is readable */
	end = now_ms() + 5000;
	while (now_ms() < end &&
	       (!due || stats(c->s).kind[PW_K8S_PODS].lists < 2 ||
		stats(c->s).kind[PW_K8S_NETPOLS].lists < 2 ||
		stats(c->s).kind[PW_K8S_NAMESPACES].lists < 2)) {
		struct pollfd p = {.fd = src->fd(src), .events = POLLIN};

		if (poll(&p, 1, 20) > 0)
			due += src->poll(src);
	}
	ASSERT_TRUE(due > 0, "refresh: reconcile asked for");
	ASSERT_EQ(stats(c->s).kind[PW_K8S_PODS].lists, 2, "pods listed again");
	ASSERT_EQ(stats(c->s).kind[PW_K8S_NETPOLS].lists, 2, "policies again");
	ASSERT_EQ(stats(c->s).kind[PW_K8S_PODS].gone, 0, "not a 410");
	ASSERT_OK(collect(c->s, &c->o, err), "collect");
	ASSERT_EQ(c->o.n, 14, "the same objects");
	st = c->j = cJSON_CreateObject();
	src->status(src, st);
	pods = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "kinds"), "pods");
	if (!cJSON_IsTrue(cJSON_GetObjectItem(st, "synced")) ||
	    cJSON_GetObjectItem(st, "pods")->valueint != 7 ||
	    cJSON_GetObjectItem(st, "local_pods")->valueint != 3 ||
	    cJSON_GetObjectItem(pods, "lists")->valueint != 2 ||
	    strcmp(cJSON_GetObjectItem(pods, "resourceVersion")->valuestring,
		   "40201")) {
		char *t = cJSON_PrintUnformatted(st);

		PW_FAIL("status: %s", t);
		free(t);
		return false;
	}
	return true;
}

PW_TEST(k8s_refresh_and_status_hooks)
{
	return with_ctx(k8s_refresh_and_status_hooks_body);
}
