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
 * key replace it. @owner (or NULL): the source of each object, for the
 * delta calls below; without it they say -ENOTSUP until the next one. */
int pw_objset_replace(struct pw_objset *s, struct pw_cluster *c,
		      struct pw_objects *objs, const int *owner);

/*
 * Deltas between two replaces, for a change whose objects are known
 * without asking every source (`podwall apply`). pw_objset_owner: the
 * source that gave a key; -ENOENT if none did, -EEXIST if several did
 * (only a full replace can tell which wins then). pw_objset_add takes the
 * objects (new keys get @owner); pw_objset_remove deletes one. Each
 * returns -ENOTSUP when the set has no owners (after a failed replace).
 */
int pw_objset_owner(const struct pw_objset *s, enum pw_kind kind,
		    const char *ns, const char *name, int *owner);
int pw_objset_add(struct pw_objset *s, struct pw_cluster *c,
		  struct pw_objects *objs, int owner);
int pw_objset_remove(struct pw_objset *s, struct pw_cluster *c,
		     enum pw_kind kind, const char *ns, const char *name);

/* (kind, namespace, name) of an object; namespace NULL for a Namespace. */
void pw_object_key(const struct pw_object *o, enum pw_kind *kind,
		   const char **ns, const char **name);
const char *pw_kind_name(enum pw_kind kind);

#endif /* PW_OBJSET_H */
