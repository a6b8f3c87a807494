/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * YAML front end: libyaml's events mapped onto the cJSON tree the same
 * manifest would give as JSON, so the rest of the compiler sees one form.
 * Scalars resolve as kubectl (sigs.k8s.io/yaml over go-yaml v2) does; see
 * yaml.c for the details and the few places where podwall is stricter.
 */
#ifndef PW_YAMLTREE_H
#define PW_YAMLTREE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Containers may nest this deep (aliases included). */
#define PW_YAML_MAX_DEPTH	256
/* Aliases and merge keys may add at most this many nodes in one call. */
#define PW_YAML_MAX_ALIAS_NODES 1000000

/*
 * Parse every document in buf (multi-document YAML, "---" separated).
 * On success returns 0 and *out is a cJSON array with one item per
 * non-empty document (caller frees with cJSON_Delete). On error returns
 * -EINVAL (-ENOMEM when out of memory) and writes "line L, column C:
 * message" into err (errlen bytes); *out is NULL.
 */
int pw_yaml_parse(const char *buf, size_t len, cJSON **out, char *err,
		  size_t errlen);

#endif /* PW_YAMLTREE_H */
