/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The agent's insides, shared by agent.c and api.c only. */
#ifndef PW_AGENT_PRIV_H
#define PW_AGENT_PRIV_H

#include <time.h>
#include "agent.h"
#include "compile.h"
#include "cluster.h"
#include "flowlog.h"
#include "objset.h"
#include "podlink.h"
#include "source.h"
#include "source_cni.h"
#include "source_docker.h"
#include "source_k8s.h"
#include "sync.h"

#define PW_SOURCES_MAX 6

struct pw_agent {
	struct pw_agent_opts o;
	char *applied_dir; /* <state>/applied: objects from `podwall apply` */
	char *ids_path;	   /* <state>/ids.json */
	char *ids_saved;   /* what ids.json holds */
	struct pw_dp *dp;
	struct pw_sync *sync;
	struct pw_cluster *cluster;
	struct pw_objset *set;
	struct pw_source *src[PW_SOURCES_MAX];
	int nsrc;
	struct pw_src_cni *cni;
	struct pw_src_k8s *k8s; /* Kubernetes mode, or NULL */
	bool docker;		/* a Docker source */
	int applied_src;	/* src[] index of the applied folder */
	struct pw_ctl *ctl;
	struct pw_events *evs;
	struct pw_flowlog *flows;
	__u64 ring_lost_seen;
	__u32 *attached; /* ifindexes our programs are on */
	int nattached;
	struct pw_hidx attached_idx;
	/* the last reconcile's result, for requests to read */
	struct pw_compiled co;
	bool have_co;
	struct pw_binding *binds; /* one per local pod, pointing into co */
	int nbinds;
	struct pw_podlink_hints hints; /* where the sources say pods run */
	bool node_open;		       /* traffic with the node passes */
	int nnode;		       /* the node's addresses, last read */
	bool node_stale;	       /* read them again */
	struct pw_hidx bind_idx;       /* binds by (ns, name) */
	__u32 ep_max;		       /* the endpoints map's size */
	/* the veths of the last scan, reused while no link event came and
	 * no pod changed (a policy change reads no links) */
	struct pw_podlink *links;
	int nlinks;
	bool links_stale; /* read the links again */
	bool addrs_stale; /* read the peers' addresses again */
	__u64 eps_sig;	  /* the pods and addresses that scan was matched for */
	__u64 names_sig;  /* what the id hints and flow metadata were made of */
	bool names_done;
	char last_error[PW_ERR_LEN]; /* the last failure, kept */
	time_t last_error_at;
	bool last_ok;		       /* the last reconcile went through */
	char source_error[PW_ERR_LEN]; /* a source that could not be read */
	unsigned long long reconciles, reconcile_errors;
	unsigned long long ct_swept;
	unsigned long long link_scans, addr_reads; /* rtnetlink reads */
	double last_compile_ms;
};

/* Links or pods changed in a way no compiled state shows (a veth made, a
 * pod registered again): the next reconcile reads the veths afresh. */
void pw_agent_links_stale(struct pw_agent *a);
/* A pod was applied: its address may have been set since the last read
 * (no event tells), so the next reconcile reads the peers' addresses. */
void pw_agent_addrs_stale(struct pw_agent *a);

struct pw_objkey {
	enum pw_kind kind;
	const char *ns, *name;
};

/*
 * After `podwall apply` or `delete`: @objs (the objects it applies, taken;
 * or NULL) and @del (the one it deletes, or NULL) go into the cluster as
 * they are, without reading every source again, and are enforced. That
 * needs pw_agent_delta_ok: the last reconcile went through, and no other
 * source gives or adds to these objects (then only a full reconcile
 * knows what the cluster must hold). Returns as pw_agent_reconcile, or
 * -EAGAIN when it could not go as a delta: the caller then reconciles in
 * full, with the applied folder up to date.
 */
bool pw_agent_delta_ok(const struct pw_agent *a, const struct pw_objects *objs,
		       const struct pw_objkey *del);
int pw_agent_reconcile_applied(struct pw_agent *a, struct pw_objects *objs,
			       const struct pw_objkey *del, char *err,
			       size_t errlen);

/* Remember a failure for status. */
void pw_agent_error(struct pw_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The compiled endpoint that holds @addr, or NULL. */
const struct pw_out_ep *pw_agent_ep_at(const struct pw_agent *a,
				       const __u8 addr[16]);
const struct pw_binding *pw_agent_binding(const struct pw_agent *a,
					  const char *ns, const char *name);

#endif /* PW_AGENT_PRIV_H */
