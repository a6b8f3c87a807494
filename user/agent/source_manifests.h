/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Endpoint and policy source: a folder of manifests. Each load applies what
 * the folder holds to the cluster and deletes what it no longer holds, so
 * ids stay stable and the compile stays incremental. A load that fails
 * (a malformed file, an invalid object) changes nothing.
 */
#ifndef PW_SOURCE_MANIFESTS_H
#define PW_SOURCE_MANIFESTS_H

#include <stddef.h>
#include "compile.h"

struct pw_src_manifests;

int pw_src_manifests_new(const char *dir, struct pw_src_manifests **out);
void pw_src_manifests_free(struct pw_src_manifests *s);
/* Returns 0, or a negative errno with err naming file, object and field. */
int pw_src_manifests_load(struct pw_src_manifests *s, struct pw_cluster *c,
			  char *err, size_t errlen);

#endif /* PW_SOURCE_MANIFESTS_H */
