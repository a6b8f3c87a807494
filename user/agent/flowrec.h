/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow records: one datapath event, told in the cluster's words, as one
 * JSON line. The field names are a stable interface (README, "Flow log
 * schema"); `podwall flows` and anything else reading the log rely on them.
 *
 * Formatting is on the hot path of the flow log (a target of a million
 * records a second), so the names of pods, their labels and the names of
 * policies are rendered once per reconcile into a lookup index, and a
 * record is then copied together without allocating.
 */
#ifndef PW_FLOWREC_H
#define PW_FLOWREC_H

#include <stddef.h>
#include <linux/types.h>
#include "compile.h"

/* Room for any record: labels are bounded by the API's own limits, and a
 * pod whose labels do not fit is written without them. */
#define PW_FLOWREC_MAX 8192

struct pw_flowmeta;

/* Who is who, from the last compile. */
int pw_flowmeta_build(const struct pw_cluster *c, const struct pw_compiled *co,
		      struct pw_flowmeta **out);
void pw_flowmeta_free(struct pw_flowmeta *m);

/* The record for @ev, seen at wall-clock time @wall_ns, standing for
 * @count events (aggregation); returns its length, without a newline. */
int pw_flowrec_format(const struct pw_flowmeta *m,
		      const struct pw_flow_event *ev, __u64 wall_ns,
		      __u32 count, char *buf, size_t len);
/* {"time":...,"type":"lost","count":N,"source":@source} */
int pw_flowrec_lost(__u64 wall_ns, __u64 count, const char *source, char *buf,
		    size_t len);

#endif /* PW_FLOWREC_H */
