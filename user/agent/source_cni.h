/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pods that the podwall CNI plugin registered: one record per (container
 * id, interface), kept as a file in the state folder so that an agent
 * restart finds them again. A record gives the pod's namespace and name
 * (K8S_POD_NAMESPACE, K8S_POD_NAME), its addresses (from the previous
 * plugin's result), its interfaces and its labels (the netconf's
 * args.cni.labels, per the CNI conventions). When a manifest describes the
 * same pod, the manifest's labels and ports count and the record gives the
 * addresses.
 */
#ifndef PW_SOURCE_CNI_H
#define PW_SOURCE_CNI_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "source.h"

struct pw_src_cni;

int pw_src_cni_new(const char *state_dir, struct pw_src_cni **out);
struct pw_source *pw_src_cni_source(struct pw_src_cni *s);

/*
 * Validate and store one endpoint (the "endpoint" object of an
 * endpoint-add request); replaces a record of the same container and
 * interface. On error @err names the field, and nothing is stored.
 */
int pw_src_cni_add(struct pw_src_cni *s, const cJSON *ep, char *err,
		   size_t errlen);
/* What pw_src_cni_add checks, alone. */
int pw_src_cni_validate(const cJSON *ep, char *err, size_t errlen);
/* Forget a record; 0 also when there was none (DEL is idempotent). */
int pw_src_cni_del(struct pw_src_cni *s, const char *container_id,
		   const char *ifname);
/* The stored record, or NULL. */
const cJSON *pw_src_cni_find(const struct pw_src_cni *s,
			     const char *container_id, const char *ifname);
/* Every record, in the order they were added (for listing). */
const cJSON *pw_src_cni_records(const struct pw_src_cni *s);

/* The record's file; the plugin removes it itself when the agent is down.
 * Returns -EINVAL for ids that could escape the folder. */
int pw_cni_record_path(const char *state_dir, const char *container_id,
		       const char *ifname, char *buf, size_t len);

#endif /* PW_SOURCE_CNI_H */
