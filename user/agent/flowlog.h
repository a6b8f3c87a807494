/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow log pipeline: datapath events in, flow records (flowrec.h) out
 * to three places: JSON Lines files with size-based rotation (rotated
 * files are gzip-compressed by a thread of their own and the oldest past
 * a retention bound removed), a bounded in-memory ring for `podwall flows
 * --last`, and a live sink (the control socket's followers).
 *
 * Repeated denies of one (source, destination, port, protocol, reason) at
 * one endpoint within an interval fold into one record with a count, so a
 * scan or a crash-looping client cannot flood the log: the first is
 * written at once, the rest as one record when the interval ends.
 *
 * Loss is never silent: what the ring buffer lost is written as a "lost"
 * record, and counted.
 */
#ifndef PW_FLOWLOG_H
#define PW_FLOWLOG_H

#include <stddef.h>
#include <linux/types.h>
#include "flowrec.h"

#define PW_FLOW_LOG_DIR_DEFAULT "/var/log/podwall"
#define PW_FLOW_LOG_FILE	"flows.jsonl"

struct pw_flowlog_opts {
	const char *dir;  /* NULL: no files */
	size_t max_bytes; /* rotate past this size */
	int keep;	  /* rotated files kept */
	int aggregate_ms; /* 0: every event is a record */
	int ring;	  /* records kept in memory */
};

struct pw_flowlog_stats {
	unsigned long long records; /* written out */
	unsigned long long folded;  /* events folded into others */
	unsigned long long lost;    /* events the ring buffer lost */
	unsigned long long bytes;   /* to files */
	unsigned long long rotations;
	unsigned long long write_errors;
};

typedef void (*pw_flowlog_sink)(void *arg, const char *line, size_t len);

struct pw_flowlog;

int pw_flowlog_new(const struct pw_flowlog_opts *o, pw_flowlog_sink live,
		   void *arg, struct pw_flowlog **out);
void pw_flowlog_free(struct pw_flowlog *fl);
/* Names from now on come from @m, which the flow log then owns. */
void pw_flowlog_set_meta(struct pw_flowlog *fl, struct pw_flowmeta *m);
void pw_flowlog_event(struct pw_flowlog *fl, const struct pw_flow_event *ev);
void pw_flowlog_lost(struct pw_flowlog *fl, __u64 n, const char *source);
/* Folded records whose interval ended go out; files are flushed. */
void pw_flowlog_tick(struct pw_flowlog *fl);
/* The last @n records, oldest first. */
int pw_flowlog_last(const struct pw_flowlog *fl, int n, pw_flowlog_sink fn,
		    void *arg);
void pw_flowlog_stats(const struct pw_flowlog *fl, struct pw_flowlog_stats *s);

#endif /* PW_FLOWLOG_H */
