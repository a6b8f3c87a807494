/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The agent's insides, shared by agent.c and api.c only. */
#ifndef PW_AGENT_PRIV_H
#define PW_AGENT_PRIV_H

#include <time.h>
#include "agent.h"
#include "compile.h"
#include "flowlog.h"
#include "objset.h"
#include "podlink.h"
#include "source.h"
#include "source_cni.h"
#include "source_docker.h"
#include "source_k8s.h"
#include "sync.h"

#define PW_BINDS_MAX   4096
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
	struct pw_ctl *ctl;
	struct pw_events *evs;
	struct pw_flowlog *flows;
	__u64 ring_lost_seen;
	__u32 *attached; /* ifindexes our programs are on */
	int nattached;
	/* the last reconcile's result, for requests to read */
	struct pw_compiled co;
	bool have_co;
	struct pw_binding binds[PW_BINDS_MAX];
	int nbinds;
	struct pw_podlink_hints hints; /* where the sources say pods run */
	bool node_open;		       /* traffic with the node passes */
	int nnode;		       /* the node's addresses, last read */
	char last_error[PW_ERR_LEN];   /* the last failure, kept */
	time_t last_error_at;
	bool last_ok;		       /* the last reconcile went through */
	char source_error[PW_ERR_LEN]; /* a source that could not be read */
	unsigned long long reconciles, reconcile_errors;
	unsigned long long ct_swept;
	double last_compile_ms;
};

/* Remember a failure for status. */
void pw_agent_error(struct pw_agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The compiled endpoint that holds @addr, or NULL. */
const struct pw_out_ep *pw_agent_ep_at(const struct pw_agent *a,
				       const __u8 addr[16]);
const struct pw_binding *pw_agent_binding(const struct pw_agent *a,
					  const char *ns, const char *name);

#endif /* PW_AGENT_PRIV_H */
