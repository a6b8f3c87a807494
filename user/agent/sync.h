/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sync: bring the datapath's maps from what this node last wrote to a new
 * compiled state, writing only the entries that changed. Per endpoint, new
 * and changed policy entries go in first, removed ones go out next, and
 * one endpoint update then moves its flags and revision (sync.c says why
 * this order keeps every verdict either the old policy's or the new one's).
 * Endpoints whose entries did not change are not touched at all.
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
	__u8 ll6[16]; /* the pod's IPv6 link-local address */
	bool has_ll6;
	bool audit;
	bool node_open; /* PW_EP_F_NODE_OPEN */
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
 * On error, endpoints already done stay done; the one being written may
 * be left between its old and new policy, and the next sync finishes it.
 */
int pw_sync_apply(struct pw_sync *s, const struct pw_dp *dp,
		  const struct pw_compiled *co, const struct pw_binding *b,
		  int nb, struct pw_sync_stats *st);
/*
 * Start from what the maps hold (pinned by an earlier run), instead of
 * from nothing, so that the next pw_sync_apply writes only the difference
 * and removes what is no longer wanted. Only on a fresh pw_sync.
 */
int pw_sync_adopt(struct pw_sync *s, const struct pw_dp *dp);
#endif /* PW_SYNC_H */
