// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include "portrange.h"

/*
 * Greedy split: from lo, take the largest aligned block that starts there
 * and does not pass hi. This yields the minimal prefix cover.
 */
int pw_port_range_prefixes(__u16 lo, __u16 hi, struct pw_port_prefix *out,
			   int max)
{
	__u32 cur = lo, last = hi;
	int n = 0;

	if (lo > hi)
		return -EINVAL;
	while (cur <= last) {
		__u32 size = 1;
		__u8 bits = 16;

		while (bits > 0 && (cur & (size * 2 - 1)) == 0 &&
		       cur + size * 2 - 1 <= last) {
			size *= 2;
			bits--;
		}
		if (n == max)
			return -E2BIG;
		out[n].port = cur;
		out[n].bits = bits;
		n++;
		cur += size;
	}
	return n;
}
