/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Manifests in, validated model objects out. JSON through libcjson, YAML
 * through libyaml onto the same tree. Validation follows the Kubernetes API
 * server's rules for the fields podwall reads; an error names the source,
 * the object and the field path, for example
 *   policy/deny.yaml: NetworkPolicy x/deny-all:
 * spec.ingress[0].ports[1].endPort: must be >= port Loading is all or nothing:
 * on error nothing is added to the output.
 */
#ifndef PW_MANIFEST_H
#define PW_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "model.h"

enum pw_kind {
	PW_KIND_NAMESPACE,
	PW_KIND_POD,
	PW_KIND_NETPOL,
};

struct pw_object {
	enum pw_kind kind;
	union {
		struct pw_namespace *ns;
		struct pw_pod *pod;
		struct pw_netpol *np;
	};
};

struct pw_objects {
	struct pw_object *v;
	int n;
};

#define PW_ERR_LEN 512

void pw_object_free(struct pw_object *obj);
void pw_objects_free(struct pw_objects *objs);
/* JSON or YAML text; YAML may hold several documents. */
int pw_manifest_load_buf(const char *buf, size_t len, const char *src,
			 struct pw_objects *out, char *err, size_t errlen);
/*
 * The objects of @buf, validated as pw_manifest_load_buf does, each as a
 * JSON document of its own (Lists expanded): for storing them one per
 * file. *out is a cJSON array the caller frees.
 */
int pw_manifest_split(const char *buf, size_t len, const char *src, cJSON **out,
		      char *err, size_t errlen);
/* Is this file name one a folder load reads (*.json, *.yaml, *.yml)? */
bool pw_manifest_name(const char *name);
/* A file, or a folder of *.json, *.yaml and *.yml files (sorted by name). */
int pw_manifest_load_path(const char *path, struct pw_objects *out, char *err,
			  size_t errlen);

/* Kubernetes' name rules, as the loader applies them: a namespace is a
 * DNS-1123 label, a pod or policy name a DNS-1123 subdomain. */
bool pw_valid_dns_label(const char *s);
bool pw_valid_dns_subdomain(const char *s);
bool pw_valid_label_key(const char *k);
bool pw_valid_label_value(const char *v);

#endif /* PW_MANIFEST_H */
