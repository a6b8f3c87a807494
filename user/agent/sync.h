/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sync: bring the datapath's maps from what this node last wrote to a new
 * compiled state, touching only what changed. An endpoint whose policy or
 * flags changed gets its whole new policy written into its spare policy
 * set; one endpoint update then switches the set, the flags and the
 * revision together; then the old set is deleted. Endpoints whose entries
 * did not change are not touched at all.
 */
#ifndef PW_SYNC_H
#define PW_SYNC_H

#include <stdbool.h>
#include <linux/types.h>
#include "compile.h"
#include "datapath.h"

/* Where a pod of the compiled state lives on this node. */
struct pw_binding {
	const char *ns;
	const char *name;
	__u32 ifindex;
	__u8 mac[6];
	bool has_mac;
	bool audit;
};

struct pw_sync_stats {
	int ipcache_writes;
	int ipcache_deletes;
	int policy_writes;
	int policy_deletes;
	int endpoints_changed;
	int endpoints_removed;
};

struct pw_sync;

int pw_sync_new(struct pw_sync **out);
void pw_sync_free(struct pw_sync *s);
/*
 * Write @co into the maps for the endpoints in @b (others are peers only).
 * On error, what was already switched stays switched: every endpoint is at
 * all times on a complete old or complete new policy set.
 */
int pw_sync_apply(struct pw_sync *s, const struct pw_dp *dp,
		  const struct pw_compiled *co, const struct pw_binding *b,
		  int nb, struct pw_sync_stats *st);
/* The policy set an endpoint uses: two per endpoint, alternating. */
static inline __u32 pw_sync_pol_id(__u32 ep_id, int gen)
{
	return ep_id << 1 | (gen & 1);
}

#endif /* PW_SYNC_H */
