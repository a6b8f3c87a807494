/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The node agent's state and its one job: reconcile. It gathers objects
 * from its sources (a manifests folder, objects applied through the
 * control socket, pods registered by the CNI plugin), compiles them, binds
 * pods to their host-side veths, attaches the datapath there and syncs the
 * maps. Everything it needs to do that again after a restart is on disk:
 * maps and programs pinned in bpffs, CNI records, applied objects and the
 * ids in use in the state folder.
 */
#ifndef PW_AGENT_H
#define PW_AGENT_H

#include <poll.h>
#include <stdbool.h>
#include <cjson/cJSON.h>
#include "control.h"
#include "datapath.h"
#include "flowlog.h"
#include "k8s_client.h"

#define PW_STATE_DIR_DEFAULT "/var/lib/podwall"

struct pw_agent_opts {
	const char *manifests; /* folder, or NULL */
	const char *state_dir;
	const char *sock_path;
	int sock_gid; /* -1: root only */
	struct pw_dp_opts dp;
	struct pw_flowlog_opts flows;
	bool audit; /* every pod in audit mode */
	/* Docker containers as pods (source_docker.h): the daemon's socket,
	 * or NULL; the namespace of containers outside a Compose project */
	const char *docker_sock;
	const char *docker_ns;
	/* Kubernetes mode (source_k8s.h): the API server, or NULL; this
	 * node's name, which tells its pods from remote ones */
	const struct pw_k8s_config *k8s_cfg;
	const char *k8s_node;
	/* traffic between a pod and this node: PW_NODE_DEFAULT is allow,
	 * but policy with Docker */
	int node_traffic;
};

enum {
	PW_NODE_DEFAULT = 0,
	PW_NODE_ALLOW = 1,
	PW_NODE_POLICY = 2,
};

/* A pod, or every pod of a namespace, with this label "true" is in audit
 * mode: what its policy would drop is passed and logged as "audit". */
#define PW_AUDIT_LABEL "podwall.io/audit"

/* streams a control client can follow */
enum {
	PW_STREAM_FLOWS = 1,
};

struct pw_agent;

int pw_agent_new(const struct pw_agent_opts *o, struct pw_agent **out);
void pw_agent_free(struct pw_agent *a);
/* Returns 0, or -errno with @err saying what failed. Whatever fails, the
 * last good state stays in force. */
int pw_agent_reconcile(struct pw_agent *a, char *err, size_t errlen);
/* A link went away: forget that our programs were on it (0: some
 * links, unknown which). */
void pw_agent_link_gone(struct pw_agent *a, __u32 ifindex);
/* A link or an address of this namespace changed: the next reconcile
 * reads the veths again (it reuses the last read otherwise). */
void pw_agent_link_changed(struct pw_agent *a);
/* Flow events waiting in the ring buffer, to the flow followers. */
int pw_agent_events_fd(const struct pw_agent *a);
void pw_agent_events(struct pw_agent *a);
/* Every ~200 ms: folded flow records, ring-buffer losses, file flush. */
void pw_agent_tick(struct pw_agent *a);
/* End idle flows that no packet will look up again; returns how many. */
int pw_agent_ct_sweep(struct pw_agent *a);
struct pw_ctl *pw_agent_ctl(struct pw_agent *a);
/* Sources that follow a stream (Docker): their fds go into @fds (at most
 * @max; returns how many), and *timeout_ms shrinks to when one is due. */
int pw_agent_watch_fds(struct pw_agent *a, struct pollfd *fds, int max,
		       int *timeout_ms);
/* After poll(): let them read; > 0 when a reconcile is due. */
int pw_agent_watch(struct pw_agent *a);
/* The next reconcile reads every source afresh (SIGHUP). */
void pw_agent_refresh(struct pw_agent *a);

/* api.c: one control request */
int pw_agent_request(void *agent, struct pw_ctl_client *cl, const cJSON *req,
		     cJSON *resp);

#endif /* PW_AGENT_H */
