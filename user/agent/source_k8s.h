/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kubernetes mode (issue 9): Namespaces (v1), Pods (v1, all namespaces) and
 * NetworkPolicies (networking.k8s.io/v1) from the API server, listed and
 * then watched, as client-go's reflector does:
 *   - each kind is listed in pages (limit, continue); the list's
 *     metadata.resourceVersion starts the watch;
 *   - the watch asks for bookmarks (allowWatchBookmarks=true) and a
 *     server-side timeout; each event (bookmarks too) moves the kind's
 *     resourceVersion on; a watch that ends is resumed from there;
 *   - 410 Gone (the HTTP status, or an ERROR event whose Status says 410)
 *     means the version is too old: the kind is listed again; an expired
 *     continue token restarts the list;
 *   - any other failure (refused, dropped, 5xx, 401/403) is retried with
 *     jittered exponential backoff (opts.backoff_min_ms doubling to
 *     opts.backoff_max_ms; the wait is drawn from [b/2, b]).
 * While a list is in progress, or the server is away, the kind keeps its
 * last complete state: a new list replaces the old one only whole, so a
 * relist never makes anything disappear for a moment.
 *
 * Pods: every pod is given with its labels, named container ports and
 * podIPs; a pod on this node (spec.nodeName == opts.node) is one the CNI
 * source will bind to a veth, the others are remote peers whose addresses
 * carry their labels' identity. A pod that has ended (phase Succeeded or
 * Failed) or uses the host's network gives no addresses: its IP may be a
 * new pod's already, or the node's.
 *
 * Threading: one worker thread runs a libcurl multi handle with the three
 * kinds' requests, decodes what arrives and keeps the objects under a
 * mutex. collect() copies them out. Whenever a change reaches the kept
 * state (a changed object, not a status-only MODIFIED) the worker makes
 * pw_src_k8s_fd() readable; the agent polls it and, when it is readable,
 * calls pw_src_k8s_on_ready() and reconciles if it returns > 0. The fd
 * stays the same for the source's life, whether connected or not.
 */
#ifndef PW_SOURCE_K8S_H
#define PW_SOURCE_K8S_H

#include <stdbool.h>
#include "k8s_client.h"
#include "source.h"

struct pw_src_k8s;

struct pw_src_k8s_opts {
	const char *node;   /* this node's name (spec.nodeName); NULL: none */
	int page_limit;	    /* items per list page; 0: 500 */
	int watch_timeout;  /* timeoutSeconds of a watch; 0: 300 to 600 */
	int backoff_min_ms; /* 0: 250 */
	int backoff_max_ms; /* 0: 30000 */
};

enum pw_k8s_kind_ix {
	PW_K8S_NAMESPACES,
	PW_K8S_PODS,
	PW_K8S_NETPOLS,
	PW_K8S_NKINDS,
};

struct pw_src_k8s_stats {
	bool synced; /* every kind listed in full at least once */
	int namespaces, pods, local_pods, netpols;
	struct {
		bool synced;
		char rv[64];		 /* the resourceVersion now */
		unsigned long lists;	 /* complete lists */
		unsigned long pages;	 /* list pages read */
		unsigned long watches;	 /* watches started */
		unsigned long events;	 /* ADDED, MODIFIED, DELETED */
		unsigned long bookmarks; /* BOOKMARK events */
		unsigned long gone;	 /* 410s (relists) */
		unsigned long errors;	 /* failed requests, cut streams */
		unsigned long rejected;	 /* objects that did not decode */
	} kind[PW_K8S_NKINDS];
	char last_error[256];
};

/* @cfg is copied. The worker starts at once; an unreachable server is not
 * an error here. */
int pw_src_k8s_new(const struct pw_k8s_config *cfg,
		   const struct pw_src_k8s_opts *opts, struct pw_src_k8s **out);
struct pw_source *pw_src_k8s_source(struct pw_src_k8s *s);
/* Readable when a reconcile is due. */
int pw_src_k8s_fd(const struct pw_src_k8s *s);
/* Clears the fd: > 0 when a reconcile is due, 0 otherwise. */
int pw_src_k8s_on_ready(struct pw_src_k8s *s);
void pw_src_k8s_stats(struct pw_src_k8s *s, struct pw_src_k8s_stats *st);
/* List every kind again (the agent's refresh: SIGHUP, or a reconcile asked
 * for through the control socket); the kept state is replaced when each
 * list is whole. The source's pw_source hooks fd/poll/refresh/status call
 * these. */
void pw_src_k8s_refresh(struct pw_src_k8s *s);
/* Is ns/name a pod on this node (as last seen)? */
bool pw_src_k8s_pod_local(struct pw_src_k8s *s, const char *ns,
			  const char *name);
/* Is ns/name a pod the API server places on another node (or on none
 * yet)? False for a pod it does not know, or when no node name is set. */
bool pw_src_k8s_pod_remote(struct pw_src_k8s *s, const char *ns,
			   const char *name);

/*
 * collect(): until every kind has been listed once it gives nothing and
 * returns -EINPROGRESS with "not synced yet": the agent then does not
 * reconcile at all (it would take policy away), and waits for the fd. After
 * that it gives the kept objects, and a warning (non-zero) while the server is
 * unreachable or objects were rejected; what it gave still counts.
 */

#endif /* PW_SOURCE_K8S_H */
