/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which flow records `podwall flows` shows. A filter is a list of
 * conditions, all of which must hold; one condition given several values
 * holds if any does (as Hubble's filters do). Records are the JSON objects
 * of the flow log schema (user/agent/flowrec.h). Pure: testable on its own.
 */
#ifndef PW_FLOWFILTER_H
#define PW_FLOWFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <cjson/cJSON.h>

enum pw_ff_end {
	PW_FF_EITHER,
	PW_FF_SRC,
	PW_FF_DST,
};

enum pw_ff_what {
	PW_FF_NAMESPACE,
	PW_FF_POD,   /* "ns/name" prefix, or "name" prefix in any namespace */
	PW_FF_LABEL, /* a selector: k=v, k!=v, k, !k, comma-separated */
	PW_FF_IP,    /* an address or a CIDR */
	PW_FF_PORT,
	PW_FF_PROTOCOL,
	PW_FF_VERDICT,
	PW_FF_REASON,
	PW_FF_POLICY, /* "ns/name" prefix */
	PW_FF_TYPE,
	PW_FF__MAX,
};

struct pw_flowfilter;

int pw_ff_new(struct pw_flowfilter **out);
void pw_ff_free(struct pw_flowfilter *f);
/* Add a condition; returns -EINVAL (with @err) for a value it cannot
 * read, such as a bad CIDR or selector. */
int pw_ff_add(struct pw_flowfilter *f, enum pw_ff_what what, enum pw_ff_end end,
	      const char *value, char *err, size_t errlen);
/* Records from @since up to @until (ns since the epoch; 0: open). */
void pw_ff_window(struct pw_flowfilter *f, __u64 since, __u64 until);
bool pw_ff_match(const struct pw_flowfilter *f, const cJSON *rec);

/* "2026-11-29T05:12:01.5Z", "2026-11-29 05:12:01" (UTC), or relative to
 * @now_ns: "30s", "5m", "2h", "1d", "1h30m". 0 on success. */
int pw_ff_parse_time(const char *s, __u64 now_ns, __u64 *out);
/* A record's "time" in ns since the epoch; 0 if it has none. */
__u64 pw_ff_record_time(const cJSON *rec);

#endif /* PW_FLOWFILTER_H */
