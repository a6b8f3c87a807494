/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Kubernetes API server's client side: where the server is and how to
 * prove who we are, and the pieces a list/watch loop needs (a configured
 * libcurl handle, the Status object, the newline-delimited watch stream).
 * libcurl does HTTP/1.1 and TLS; JSON goes through libcjson and a
 * kubeconfig's YAML through the compiler's yamltree (libyaml).
 *
 * Configuration, as client-go's rest.InClusterConfig() and a kubeconfig
 * give it:
 *   in cluster  https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
 *               the service-account token (re-read before every request:
 *               kubelet rotates bound tokens) and CA under
 *               /var/run/secrets/kubernetes.io/serviceaccount;
 *   kubeconfig  current-context (or a named one), its cluster's server and
 *               certificate-authority(-data), its user's token, tokenFile,
 *               or client-certificate(-data) with client-key(-data).
 *               Relative paths are relative to the kubeconfig's folder.
 *               exec and auth-provider plugins, username/password and
 *               insecure-skip-tls-verify are refused with an error that
 *               names them: the agent verifies the server, always.
 */
#ifndef PW_K8S_CLIENT_H
#define PW_K8S_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#define PW_K8S_SA_DIR	"/var/run/secrets/kubernetes.io/serviceaccount"
/* One line of a watch stream (one event) may be this long at most. */
#define PW_K8S_LINE_MAX (16u << 20)
/* One list page's body may be this long at most. */
#define PW_K8S_BODY_MAX (256u << 20)

struct pw_k8s_blob {
	unsigned char *data;
	size_t len;
};

struct pw_k8s_config {
	char *server;	       /* "https://10.96.0.1:443", no trailing "/" */
	char *token;	       /* a fixed bearer token, or NULL */
	char *token_file;      /* read before each request, or NULL */
	char *ca_file;	       /* or the PEM in ca (one of them, or neither: */
	struct pw_k8s_blob ca; /* the system's CA store) */
	char *cert_file;       /* client certificate: file or PEM */
	struct pw_k8s_blob cert;
	char *key_file; /* its key: file or PEM */
	struct pw_k8s_blob key;
};

/* An answer's body as it arrives, bounded by PW_K8S_BODY_MAX (big: the
 * bound was hit and the transfer aborted). pw_k8s_body_write is its
 * CURLOPT_WRITEFUNCTION. */
struct pw_k8s_body {
	char *p;
	size_t len, cap;
	bool big;
};

size_t pw_k8s_body_write(char *data, size_t sz, size_t nm, void *arg);

/* In-cluster: @sa_dir NULL means PW_K8S_SA_DIR (tests give their own). */
int pw_k8s_config_incluster(const char *sa_dir, struct pw_k8s_config *c,
			    char *err, size_t errlen);
/* A kubeconfig file; @context NULL means its current-context. */
int pw_k8s_config_kubeconfig(const char *path, const char *context,
			     struct pw_k8s_config *c, char *err, size_t errlen);
/* A deep copy (the source keeps its own). */
int pw_k8s_config_copy(const struct pw_k8s_config *from,
		       struct pw_k8s_config *to);
void pw_k8s_config_free(struct pw_k8s_config *c);

/* Standard base64 (as kubeconfig's *-data fields); 0 or -EINVAL. */
int pw_k8s_b64decode(const char *s, struct pw_k8s_blob *out);

/*
 * One GET: a libcurl easy handle set up for @path_query (e.g.
 * "/api/v1/pods?limit=500") with TLS verification, the bearer token or the
 * client certificate, Accept: application/json, gzip, a 5 s connect
 * timeout, TCP keepalive and no signals (it may run in a thread). The
 * caller adds the write callback and, for a plain request, a timeout.
 */
struct pw_k8s_req {
	CURL *h;
	struct curl_slist *hdrs;
};

int pw_k8s_req_init(struct pw_k8s_req *r, const struct pw_k8s_config *c,
		    const char *path_query, char *err, size_t errlen);
void pw_k8s_req_free(struct pw_k8s_req *r);

/*
 * A blocking GET of a JSON object (@timeout_ms for all of it). Returns 0
 * with the HTTP status in *status and the parsed body in *out (any status:
 * an error's body is a Status object), or a negative errno with @err
 * saying why no answer came.
 */
int pw_k8s_get(const struct pw_k8s_config *c, const char *path_query,
	       long timeout_ms, long *status, cJSON **out, char *err,
	       size_t errlen);

/* A meta/v1 Status object (kind "Status"): its code, reason and message
 * ("" when absent). False when @obj is not one. */
bool pw_k8s_status(const cJSON *obj, int *code, const char **reason,
		   const char **message);

/* A watch stream cut into lines, each one JSON event. */
struct pw_k8s_lines {
	char *buf;
	size_t len, cap;
};

/* Calls @cb for each complete line (without its "\n"; empty lines are
 * skipped). Returns 0, the first non-zero return of @cb, or -EFBIG when a
 * line grows past PW_K8S_LINE_MAX (the stream should then be dropped). */
int pw_k8s_lines_feed(struct pw_k8s_lines *l, const char *data, size_t n,
		      int (*cb)(void *arg, char *line, size_t len), void *arg);
void pw_k8s_lines_reset(struct pw_k8s_lines *l);
void pw_k8s_lines_free(struct pw_k8s_lines *l);

#endif /* PW_K8S_CLIENT_H */
