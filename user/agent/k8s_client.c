// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "k8s_client.h"
#include "log.h"
#include "yamltree.h"

/* A small file whole (tokens, certificates, a kubeconfig). */
static int slurp(const char *path, size_t max, char **out, size_t *lenp)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t len;

	if (!f)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, max + 1, f);
	if (ferror(f) || len > max) {
		int e = ferror(f) ? -EIO : -EFBIG;

		fclose(f);
		free(buf);
		return e;
	}
	fclose(f);
	buf[len] = 0;
	*out = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

static void blob_free(struct pw_k8s_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void pw_k8s_config_free(struct pw_k8s_config *c)
{
	free(c->server);
	free(c->token);
	free(c->token_file);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	blob_free(&c->ca);
	blob_free(&c->cert);
	blob_free(&c->key);
	memset(c, 0, sizeof(*c));
}

static int dup_str(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int dup_blob(const struct pw_k8s_blob *b, struct pw_k8s_blob *out)
{
	out->data = NULL;
	out->len = 0;
	if (!b->data)
		return 0;
	out->data = malloc(b->len ?: 1);
	if (!out->data)
		return -ENOMEM;
	memcpy(out->data, b->data, b->len);
	out->len = b->len;
	return 0;
}

int pw_k8s_config_copy(const struct pw_k8s_config *f, struct pw_k8s_config *t)
{
	int ret;

	memset(t, 0, sizeof(*t));
	ret = dup_str(f->server, &t->server);
	ret = ret ?: dup_str(f->token, &t->token);
	ret = ret ?: dup_str(f->token_file, &t->token_file);
	ret = ret ?: dup_str(f->ca_file, &t->ca_file);
	ret = ret ?: dup_str(f->cert_file, &t->cert_file);
	ret = ret ?: dup_str(f->key_file, &t->key_file);
	ret = ret ?: dup_blob(&f->ca, &t->ca);
	ret = ret ?: dup_blob(&f->cert, &t->cert);
	ret = ret ?: dup_blob(&f->key, &t->key);
	if (ret)
		pw_k8s_config_free(t);
	return ret;
}

int pw_k8s_config_incluster(const char *sa_dir, struct pw_k8s_config *c,
			    char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *bad;
	char *tok = NULL;
	int ret;

	memset(c, 0, sizeof(*c));
	if (!sa_dir)
		sa_dir = PW_K8S_SA_DIR;
	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen,
			 "not in a cluster: KUBERNETES_SERVICE_HOST and "
			 "KUBERNETES_SERVICE_PORT are not set");
		return -ENOENT;
	}
	/* an IPv6 service address needs brackets in a URL */
	if (asprintf(&c->server,
		     strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
		     host, port) < 0 ||
	    asprintf(&c->token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&c->ca_file, "%s/ca.crt", sa_dir) < 0) {
		/* asprintf leaves the pointer undefined on failure */
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	bad = c->token_file;
	ret = slurp(c->token_file, 64 << 10, &tok, NULL);
	free(tok);
	if (!ret) {
		bad = c->ca_file;
		ret = access(c->ca_file, R_OK) ? -errno : 0;
	}
	if (ret) {
		snprintf(err, errlen, "service account: %s: %s", bad,
			 strerror(-ret));
		pw_k8s_config_free(c);
		return ret;
	}
	return 0;
}

int pw_k8s_b64decode(const char *s, struct pw_k8s_blob *out)
{
	size_t n = strlen(s), i, o = 0;
	unsigned int acc = 0, bits = 0, pad = 0;
	unsigned char *d = malloc(n / 4 * 3 + 3);

	out->data = NULL;
	out->len = 0;
	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int v;

		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad) /* data after padding */
			goto bad;
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			goto bad;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (acc >> bits) & 0xff;
		}
	}
	/* leftover bits must be the zero fill of a final partial group */
	if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)))
		goto bad;
	out->data = d;
	out->len = o;
	return 0;
bad:
	free(d);
	return -EINVAL;
}

static const cJSON *field(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *sfield(const cJSON *o, const char *k)
{
	const cJSON *v = field(o, k);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* The entry named @name of a kubeconfig list (clusters, users, contexts),
 * its inner object (@inner: "cluster", "user", "context"). */
static const cJSON *named(const cJSON *doc, const char *list, const char *name,
			  const char *inner)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, field(doc, list))
	{
		const char *n = sfield(it, "name");

		if (n && !strcmp(n, name))
			return field(it, inner);
	}
	return NULL;
}

/* @path as written, or relative to the kubeconfig's folder. */
static int rel_path(const char *dir, const char *path, char **out)
{
	if (path[0] == '/' || !dir)
		return dup_str(path, out);
	if (asprintf(out, "%s/%s", dir, path) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* file or -data: one of them (the -data wins, as in client-go) */
static int file_or_data(const cJSON *o, const char *key, const char *dir,
			char **file, struct pw_k8s_blob *blob, char *err,
			size_t errlen)
{
	char dkey[64];
	const char *f = sfield(o, key), *d;
	int ret;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	d = sfield(o, dkey);
	if (d) {
		ret = pw_k8s_b64decode(d, blob);
		if (ret)
			snprintf(err, errlen, "kubeconfig: %s: not base64",
				 dkey);
		return ret;
	}
	if (f) {
		ret = rel_path(dir, f, file);
		if (ret)
			snprintf(err, errlen, "out of memory");
		return ret;
	}
	return 0;
}

static int kubeconfig_parse(const cJSON *doc, const char *dir,
			    const char *context, struct pw_k8s_config *c,
			    char *err, size_t errlen)
{
	static const char *const refused[] = {"exec", "auth-provider",
					      "username", "password", NULL};
	const cJSON *ctx, *cl, *user;
	const char *cname, *name, *s;
	int i, ret;

	cname = context ?: sfield(doc, "current-context");
	if (!cname) {
		snprintf(err, errlen, "kubeconfig: no current-context");
		return -EINVAL;
	}
	ctx = named(doc, "contexts", cname, "context");
	if (!cJSON_IsObject(ctx)) {
		snprintf(err, errlen, "kubeconfig: no context \"%s\"", cname);
		return -EINVAL;
	}
	name = sfield(ctx, "cluster");
	cl = name ? named(doc, "clusters", name, "cluster") : NULL;
	if (!cJSON_IsObject(cl) || !sfield(cl, "server")) {
		snprintf(err, errlen,
			 "kubeconfig: context \"%s\": no cluster with a "
			 "server",
			 cname);
		return -EINVAL;
	}
	if (cJSON_IsTrue(field(cl, "insecure-skip-tls-verify"))) {
		snprintf(err, errlen,
			 "kubeconfig: cluster \"%s\": "
			 "insecure-skip-tls-verify is not supported",
			 name);
		return -EINVAL;
	}
	s = sfield(cl, "server");
	if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)) {
		snprintf(err, errlen,
			 "kubeconfig: server \"%s\" is not an "
			 "http(s) URL",
			 s);
		return -EINVAL;
	}
	ret = dup_str(s, &c->server);
	if (ret)
		goto oom;
	/* no trailing "/": paths are appended */
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = 0;
	ret = file_or_data(cl, "certificate-authority", dir, &c->ca_file,
			   &c->ca, err, errlen);
	if (ret)
		return ret;

	name = sfield(ctx, "user");
	user = name ? named(doc, "users", name, "user") : NULL;
	if (!user)
		return 0; /* anonymous */
	for (i = 0; refused[i]; i++) {
		if (field(user, refused[i])) {
			snprintf(err, errlen,
				 "kubeconfig: user \"%s\": %s is not "
				 "supported (use a token or a client "
				 "certificate)",
				 name, refused[i]);
			return -EOPNOTSUPP;
		}
	}
	if (sfield(user, "token") &&
	    (ret = dup_str(sfield(user, "token"), &c->token)))
		goto oom;
	if (sfield(user, "tokenFile") &&
	    (ret = rel_path(dir, sfield(user, "tokenFile"), &c->token_file)))
		goto oom;
	ret = file_or_data(user, "client-certificate", dir, &c->cert_file,
			   &c->cert, err, errlen);
	ret = ret
		      ?: file_or_data(user, "client-key", dir, &c->key_file,
				      &c->key, err, errlen);
	if (ret)
		return ret;
	if (!(c->cert_file || c->cert.data) != !(c->key_file || c->key.data)) {
		snprintf(err, errlen,
			 "kubeconfig: user \"%s\": a client certificate "
			 "needs its key and a key its certificate",
			 name);
		return -EINVAL;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return ret;
}

int pw_k8s_config_kubeconfig(const char *path, const char *context,
			     struct pw_k8s_config *c, char *err, size_t errlen)
{
	char *text = NULL, *dir = NULL, *slash, yerr[256];
	cJSON *docs = NULL;
	size_t len;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = slurp(path, 16 << 20, &text, &len);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = pw_yaml_parse(text, len, &docs, yerr, sizeof(yerr));
	free(text);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, yerr);
		return ret;
	}
	if (cJSON_GetArraySize(docs) != 1 ||
	    !cJSON_IsObject(cJSON_GetArrayItem(docs, 0))) {
		snprintf(err, errlen, "%s: not a kubeconfig", path);
		cJSON_Delete(docs);
		return -EINVAL;
	}
	dir = strdup(path);
	if (!dir) {
		cJSON_Delete(docs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	ret = kubeconfig_parse(cJSON_GetArrayItem(docs, 0), slash ? dir : ".",
			       context, c, err, errlen);
	if (ret)
		pw_k8s_config_free(c);
	free(dir);
	cJSON_Delete(docs);
	return ret;
}

/* The bearer token now: the file's (trimmed), or the fixed one. */
static int bearer(const struct pw_k8s_config *c, char **out, char *err,
		  size_t errlen)
{
	char *t;
	size_t n;
	int ret;

	*out = NULL;
	if (!c->token_file)
		return dup_str(c->token, out);
	ret = slurp(c->token_file, 64 << 10, &t, &n);
	if (ret) {
		snprintf(err, errlen, "%s: %s", c->token_file, strerror(-ret));
		return ret;
	}
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		t[--n] = 0;
	*out = t;
	return 0;
}

static int set_blob(CURL *h, CURLoption opt, const struct pw_k8s_blob *b)
{
	struct curl_blob cb = {
		.data = b->data, .len = b->len, .flags = CURL_BLOB_COPY};

	return curl_easy_setopt(h, opt, &cb) == CURLE_OK ? 0 : -EINVAL;
}

void pw_k8s_req_free(struct pw_k8s_req *r)
{
	if (r->h)
		curl_easy_cleanup(r->h);
	curl_slist_free_all(r->hdrs);
	r->h = NULL;
	r->hdrs = NULL;
}

int pw_k8s_req_init(struct pw_k8s_req *r, const struct pw_k8s_config *c,
		    const char *path_query, char *err, size_t errlen)
{
	char *url = NULL, *tok = NULL, *auth = NULL;
	struct curl_slist *l;
	int ret;
	CURL *h;

	r->h = NULL;
	r->hdrs = NULL;
	ret = bearer(c, &tok, err, errlen);
	if (ret)
		return ret;
	h = curl_easy_init();
	if (!h || asprintf(&url, "%s%s", c->server, path_query) < 0) {
		url = NULL;
		ret = -ENOMEM;
		goto out;
	}
	r->h = h;
	ret = -EINVAL;
	if (curl_easy_setopt(h, CURLOPT_URL, url) ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http") ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L) ||
	    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) ||
	    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L) ||
	    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L) ||
	    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip") ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "podwall/k8s"))
		goto out;
	if (c->ca.data ? set_blob(h, CURLOPT_CAINFO_BLOB, &c->ca)
		       : c->ca_file && curl_easy_setopt(h, CURLOPT_CAINFO,
							c->ca_file))
		goto out;
	if (c->cert.data ? set_blob(h, CURLOPT_SSLCERT_BLOB, &c->cert)
			 : c->cert_file && curl_easy_setopt(h, CURLOPT_SSLCERT,
							    c->cert_file))
		goto out;
	if (c->key.data ? set_blob(h, CURLOPT_SSLKEY_BLOB, &c->key)
			: c->key_file && curl_easy_setopt(h, CURLOPT_SSLKEY,
							  c->key_file))
		goto out;
	ret = -ENOMEM;
	l = curl_slist_append(NULL, "Accept: application/json");
	if (!l)
		goto out;
	r->hdrs = l;
	if (tok && *tok) {
		if (asprintf(&auth, "Authorization: Bearer %s", tok) < 0) {
			auth = NULL;
			goto out;
		}
		l = curl_slist_append(r->hdrs, auth);
		if (!l)
			goto out;
		r->hdrs = l;
	}
	ret = curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs) ? -EINVAL : 0;
out:
	if (auth) /* the token is a secret: leave no copy behind */
		explicit_bzero(auth, strlen(auth));
	if (tok)
		explicit_bzero(tok, strlen(tok));
	free(auth);
	free(tok);
	free(url);
	if (ret) {
		snprintf(err, errlen, "%s: cannot set up the request%s",
			 c->server ?: "?",
			 ret == -ENOMEM ? ": out of memory" : "");
		if (!r->h)
			curl_easy_cleanup(h);
		pw_k8s_req_free(r);
	}
	return ret;
}

size_t pw_k8s_body_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct pw_k8s_body *b = arg;
	size_t n = sz * nm;

	if (b->len + n > PW_K8S_BODY_MAX) {
		b->big = true;
		return 0; /* aborts the transfer */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
	return n;
}

int pw_k8s_get(const struct pw_k8s_config *c, const char *path_query,
	       long timeout_ms, long *status, cJSON **out, char *err,
	       size_t errlen)
{
	struct pw_k8s_body b = {};
	struct pw_k8s_req r;
	CURLcode cr;
	int ret;

	err[0] = 0;
	*out = NULL;
	ret = pw_k8s_req_init(&r, c, path_query, err, errlen);
	if (ret)
		return ret;
	curl_easy_setopt(r.h, CURLOPT_WRITEFUNCTION, pw_k8s_body_write);
	curl_easy_setopt(r.h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(r.h, CURLOPT_TIMEOUT_MS, timeout_ms);
	cr = curl_easy_perform(r.h);
	curl_easy_getinfo(r.h, CURLINFO_RESPONSE_CODE, status);
	pw_k8s_req_free(&r);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "GET %s%s: %s", c->server, path_query,
			 b.big ? "answer too large" : curl_easy_strerror(cr));
		free(b.p);
		return b.big ? -EFBIG : -EIO;
	}
	*out = b.p ? cJSON_ParseWithLength(b.p, b.len) : NULL;
	free(b.p);
	if (!*out) {
		snprintf(err, errlen, "GET %s%s: HTTP %ld, not JSON", c->server,
			 path_query, *status);
		return -EPROTO;
	}
	return 0;
}

bool pw_k8s_status(const cJSON *obj, int *code, const char **reason,
		   const char **message)
{
	const cJSON *k = field(obj, "kind"), *c = field(obj, "code");

	if (!cJSON_IsString(k) || strcmp(k->valuestring, "Status"))
		return false;
	*code = cJSON_IsNumber(c) ? c->valueint : 0;
	*reason = sfield(obj, "reason") ?: "";
	*message = sfield(obj, "message") ?: "";
	return true;
}

int pw_k8s_lines_feed(struct pw_k8s_lines *l, const char *data, size_t n,
		      int (*cb)(void *arg, char *line, size_t len), void *arg)
{
	size_t start = 0, i;
	int ret;

	/* libcurl hands over at most CURL_MAX_WRITE_SIZE (16 KiB) at once,
	 * so the buffer never holds much more than one line */
	if (l->len + n + 1 > l->cap) {
		size_t cap = (l->len + n + 1) * 2;
		char *p = realloc(l->buf, cap);

		if (!p)
			return -ENOMEM;
		l->buf = p;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	for (i = 0; i < l->len; i++) {
		if (l->buf[i] != '\n')
			continue;
		l->buf[i] = 0;
		if (i > start) {
			ret = cb(arg, l->buf + start, i - start);
			if (ret) {
				/* the rest is not read: drop it */
				l->len = 0;
				return ret;
			}
		}
		start = i + 1;
	}
	memmove(l->buf, l->buf + start, l->len - start);
	l->len -= start;
	if (l->len > PW_K8S_LINE_MAX)
		return -EFBIG;
	return 0;
}

void pw_k8s_lines_reset(struct pw_k8s_lines *l)
{
	l->len = 0;
}

void pw_k8s_lines_free(struct pw_k8s_lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}
