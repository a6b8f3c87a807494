/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The set of objects the agent last gave the cluster, by (kind, namespace,
 * name): replacing it with a new set applies every object of the new one
 * and deletes the objects only the old one had, so ids stay stable and the
 * compile stays incremental.
 */
#ifndef PW_OBJSET_H
#define PW_OBJSET_H

#include "compile.h"

struct pw_objset;

int pw_objset_new(struct pw_objset **out);
void pw_objset_free(struct pw_objset *s);
/* Takes every object out of @objs. Later objects with an earlier one's
 * key replace it. */
int pw_objset_replace(struct pw_objset *s, struct pw_cluster *c,
		      struct pw_objects *objs);

/* (kind, namespace, name) of an object; namespace NULL for a Namespace. */
void pw_object_key(const struct pw_object *o, enum pw_kind *kind,
		   const char **ns, const char **name);
const char *pw_kind_name(enum pw_kind kind);

#endif /* PW_OBJSET_H */
