/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Port ranges as prefixes of the 16-bit port, the form the policy LPM trie
 * matches: [lo, hi] becomes at most 30 (port, bits) pairs, each matching
 * the ports whose top @bits bits equal those of @port.
 */
#ifndef PW_PORTRANGE_H
#define PW_PORTRANGE_H

#include <linux/types.h>

#define PW_PORT_PREFIXES_MAX 30

struct pw_port_prefix {
	__u16 port;
	__u8 bits; /* 0 .. 16 */
};

/*
 * Split [lo, hi] into the fewest prefixes, written to out[0..max).
 * Returns their number, -EINVAL if lo > hi, -E2BIG if max is too small.
 */
int pw_port_range_prefixes(__u16 lo, __u16 hi, struct pw_port_prefix *out,
			   int max);

#endif /* PW_PORTRANGE_H */
