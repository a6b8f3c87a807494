// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Port ranges as LPM prefixes: exact cover, minimal count. */
#include <errno.h>
#include <stdlib.h>
#include "portrange.h"
#include "testlib.h"

static bool covered(const struct pw_port_prefix *pp, int n, __u32 port)
{
	int i;

	for (i = 0; i < n; i++) {
		__u32 mask = pp[i].bits ? 0xffffU << (16 - pp[i].bits) : 0;

		if ((port & mask & 0xffff) == (pp[i].port & mask & 0xffff))
			return true;
	}
	return false;
}

/* Every port is matched exactly when it lies in [lo, hi]. */
static bool check_range(__u16 lo, __u16 hi)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];
	int n = pw_port_range_prefixes(lo, hi, pp, PW_PORT_PREFIXES_MAX);
	__u32 p;

	ASSERT_TRUE(n > 0, "range splits");
	for (p = 0; p <= 0xffff; p++) {
		if (covered(pp, n, p) != (p >= lo && p <= hi)) {
			PW_FAIL("range %u-%u: port %u %s", lo, hi, p,
				covered(pp, n, p) ? "matched" : "missed");
			return false;
		}
	}
	return true;
}

PW_TEST(portrange_single_port)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];

	ASSERT_EQ(pw_port_range_prefixes(80, 80, pp, PW_PORT_PREFIXES_MAX), 1,
		  "one prefix");
	ASSERT_EQ(pp[0].port, 80, "port");
	ASSERT_EQ(pp[0].bits, 16, "full length");
	return check_range(80, 80);
}

PW_TEST(portrange_all_ports_is_one_prefix)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];

	ASSERT_EQ(pw_port_range_prefixes(0, 65535, pp, PW_PORT_PREFIXES_MAX), 1,
		  "one prefix");
	ASSERT_EQ(pp[0].bits, 0, "no bits");
	return true;
}

PW_TEST(portrange_worst_case_is_30)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];

	/* 1..65534 needs 15 blocks on each side: the known worst case */
	ASSERT_EQ(pw_port_range_prefixes(1, 65534, pp, PW_PORT_PREFIXES_MAX),
		  30, "prefix count");
	return check_range(1, 65534);
}

PW_TEST(portrange_aligned_block)
{
	struct pw_port_prefix pp[PW_PORT_PREFIXES_MAX];

	ASSERT_EQ(pw_port_range_prefixes(1024, 2047, pp, PW_PORT_PREFIXES_MAX),
		  1, "one aligned block");
	ASSERT_EQ(pp[0].bits, 6, "1024 ports = 10 free bits");
	return check_range(1024, 2047);
}

PW_TEST(portrange_exact_cover_sampled)
{
	static const __u16 r[][2] = {
		{1000, 1999}, {0, 0},	 {65535, 65535}, {32767, 32768},
		{8080, 8090}, {1, 1023}, {30000, 32767}};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (!check_range(r[i][0], r[i][1]))
			return false;
	return true;
}

PW_TEST(portrange_rejects_inverted_and_small_buffer)
{
	struct pw_port_prefix pp[2];

	ASSERT_EQ(pw_port_range_prefixes(10, 9, pp, 2), -EINVAL, "lo > hi");
	ASSERT_EQ(pw_port_range_prefixes(1, 65534, pp, 2), -E2BIG,
		  "too many for the buffer");
	return true;
}
