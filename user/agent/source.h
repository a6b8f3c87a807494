/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the agent's objects come from. Each reconcile asks every source,
 * in order, for its objects; the agent then makes the cluster hold exactly
 * their union (objset.c). A source sees what the sources before it gave,
 * so one that knows only where a pod is (the CNI plugin, Docker) can add
 * its addresses to a Pod that a manifest describes.
 *
 * A source that cannot read its input reports why and gives what it gave
 * last time: a broken file never takes policy away.
 */
#ifndef PW_SOURCE_H
#define PW_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "cluster.h"
#include "manifest.h"

struct pw_source {
	const char *name;
	/* Append to @objs (which it may also edit). A non-zero return with
	 * @err set is a warning: what was appended still counts; but
	 * -EINPROGRESS means the source has not read its input once yet,
	 * and the reconcile must not happen (it would take away what the
	 * source stands for). */
	int (*collect)(struct pw_source *s, struct pw_objects *objs, char *err,
		       size_t errlen);
	void (*free)(struct pw_source *s);
	/* Optional, for a source that follows a stream of changes (Docker):
	 * the fd to poll (-1: none now) and the milliseconds until poll()
	 * is due anyway (-1: not). poll() reads without blocking and
	 * returns > 0 when a reconcile is due. */
	int (*fd)(const struct pw_source *s);
	int (*wait_ms)(const struct pw_source *s);
	int (*poll)(struct pw_source *s);
	/* Optional: read everything afresh at the next collect (SIGHUP, or
	 * a reconcile asked for through the control socket). */
	void (*refresh)(struct pw_source *s);
	/* Optional: what `podwall status` shows of it, into @out. */
	void (*status)(const struct pw_source *s, cJSON *out);
	/* Optional, for a source that knows where a pod runs: the nsfs path
	 * of pod @ns/@name's network namespace, or NULL. Binding trusts it
	 * over addresses, which a pod can copy (podlink.h). */
	const char *(*netns)(struct pw_source *s, const char *ns,
			     const char *name);
};

/* Pods' namespace paths by name, for a source's netns(). */
struct pw_netns_ent {
	char *ns;
	char *name;
	char *path;
	int seq; /* of two for one pod, the later one counts */
};

struct pw_netns_index {
	struct pw_netns_ent *v;
	int n, cap;
	bool sorted;
};

int pw_netns_index_add(struct pw_netns_index *x, const char *ns,
		       const char *name, const char *path);
const char *pw_netns_index_find(struct pw_netns_index *x, const char *ns,
				const char *name);
void pw_netns_index_clear(struct pw_netns_index *x);

/* One Pod, in @mine, for a source that knows where a pod is: a Pod that
 * an earlier source gave (a manifest, the API server) gets its addresses
 * and is no longer remote, otherwise it joins @objs. @mine is emptied
 * either way. */
int pw_source_add_pod(struct pw_objects *objs, struct pw_objects *mine);

/* The same for a source that adds many pods in one collect: @idx finds
 * the Pod in @objs by hash (one per collect, zeroed first, freed with
 * pw_pod_index_free), so that a node's pods among 150,000 cost no scan
 * each. */
struct pw_pod_index {
	struct pw_hidx h;
	int upto; /* objs->v[0 .. upto) are in it */
};

int pw_source_add_pod_idx(struct pw_objects *objs, struct pw_objects *mine,
			  struct pw_pod_index *idx);
void pw_pod_index_free(struct pw_pod_index *idx);

/* A folder of manifests (source_manifests.c). */
int pw_src_manifests_new(const char *dir, struct pw_source **out);

#endif /* PW_SOURCE_H */
