/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The uplink prefilter's deny list as a file (policy/prefilter.txt is an
 * example): one CIDR per line, IPv4 or IPv6; # starts a comment; blank
 * lines are fine. A prefix's rule id is its line number, so a drop's
 * rule_id points at the line that made it.
 */
#ifndef PW_PREFILTER_LIST_H
#define PW_PREFILTER_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "datapath.h"

struct pw_prefilter_ent {
	__u8 addr[16]; /* IPv4-mapped, as pw_cidr_parse() gives it */
	__u32 plen;    /* in the 128-bit space */
	__u32 rule_id; /* the line number */
};

/*
 * Reads @path whole. Returns 0 with *out (free() it) and *n, or -errno
 * with @err naming the file, the line and its text; nothing is kept from
 * a file with a bad line.
 */
int pw_prefilter_read(const char *path, struct pw_prefilter_ent **out, int *n,
		      char *err, size_t errlen);

/*
 * Makes the prefilter map hold exactly @ents (sorted in place): every one
 * is written first, then what is not among them is removed, so a prefix in
 * both the old list and the new one is never absent. @added and @removed
 * (may be NULL) count the prefixes that came and went. Returns 0 or -errno;
 * on an error the map holds the old list and part of the new one.
 */
int pw_prefilter_apply(const struct pw_dp *dp, struct pw_prefilter_ent *ents,
		       int n, int *added, int *removed);

/* An IPv6 prefix shorter than /96 that holds ::ffff:0:0/96, where IPv4
 * addresses are kept: as a deny entry it would take every IPv4 source. */
bool pw_prefilter_holds_ip4(const __u8 addr[16], __u32 plen);

#endif /* PW_PREFILTER_LIST_H */
