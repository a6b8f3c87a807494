// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Addresses and CIDRs in the datapath's IPv4-mapped form. */
#include <errno.h>
#include "addr.h"
#include "names.h"
#include "testlib.h"

PW_TEST(addr_ipv4_is_mapped)
{
	static const __u8 want[16] = {0, 0, 0,	  0,	0,  0, 0, 0,
				      0, 0, 0xff, 0xff, 10, 1, 2, 3};
	char buf[PW_ADDR_STRLEN];
	__u8 a[16];

	ASSERT_OK(pw_addr_parse("10.1.2.3", a), "parse");
	ASSERT_EQ(memcmp(a, want, 16), 0, "mapped bytes");
	ASSERT_TRUE(pw_addr_is4(a), "is IPv4");
	ASSERT_STREQ(pw_addr_str(a, buf, sizeof(buf)), "10.1.2.3", "format");
	return true;
}

PW_TEST(addr_ipv6_round_trip)
{
	char buf[PW_ADDR_STRLEN];
	__u8 a[16];

	ASSERT_OK(pw_addr_parse("fd00:123::4", a), "parse");
	ASSERT_TRUE(!pw_addr_is4(a), "not IPv4");
	ASSERT_STREQ(pw_addr_str(a, buf, sizeof(buf)), "fd00:123::4", "format");
	return true;
}

PW_TEST(cidr_prefix_lengths_in_128_bit_space)
{
	__u8 a[16];
	__u32 plen;

	ASSERT_OK(pw_cidr_parse("10.0.0.0/8", a, &plen), "v4 cidr");
	ASSERT_EQ(plen, 104, "96 + 8");
	ASSERT_OK(pw_cidr_parse("10.0.0.7", a, &plen), "bare v4");
	ASSERT_EQ(plen, 128, "host prefix");
	ASSERT_OK(pw_cidr_parse("0.0.0.0/0", a, &plen), "v4 default");
	ASSERT_EQ(plen, 96, "all of IPv4 only, not all of IPv6");
	ASSERT_OK(pw_cidr_parse("fd00::/64", a, &plen), "v6 cidr");
	ASSERT_EQ(plen, 64, "v6 prefix");
	return true;
}

PW_TEST(cidr_rejects_host_bits_and_junk)
{
	__u8 a[16];
	__u32 plen;

	ASSERT_EQ(pw_cidr_parse("10.0.0.1/24", a, &plen), -EINVAL,
		  "host bits set");
	ASSERT_EQ(pw_cidr_parse("10.0.0.0/33", a, &plen), -EINVAL, "v4 /33");
	ASSERT_EQ(pw_cidr_parse("fd00::/129", a, &plen), -EINVAL, "v6 /129");
	ASSERT_EQ(pw_cidr_parse("10.0.0.0/", a, &plen), -EINVAL, "empty len");
	ASSERT_EQ(pw_cidr_parse("10.0.0.0/-1", a, &plen), -EINVAL, "negative");
	ASSERT_EQ(pw_cidr_parse("10.0.0.0/8x", a, &plen), -EINVAL, "junk");
	ASSERT_EQ(pw_cidr_parse("10.0.0/8", a, &plen), -EINVAL, "short v4");
	return true;
}

PW_TEST(mac_parse)
{
	__u8 m[6];

	ASSERT_OK(pw_mac_parse("02:00:0a:7b:00:02", m), "parse");
	ASSERT_EQ(m[2], 0x0a, "byte 2");
	ASSERT_EQ(pw_mac_parse("02:00:0a:7b:00", m), -EINVAL, "short");
	ASSERT_EQ(pw_mac_parse("02:00:0a:7b:00:02:03", m), -EINVAL, "long");
	ASSERT_EQ(pw_mac_parse("02:00:0a:7b:00:1ff", m), -EINVAL, "byte");
	return true;
}

PW_TEST(names_every_drop_reason_named)
{
	unsigned int r;

	for (r = 1; r < PW_DROP__MAX; r++) {
		const char *n = pw_drop_reason_name(r);

		if (!n[0] || !strcmp(n, "unknown")) {
			PW_FAIL("drop reason %u has no name", r);
			return false;
		}
	}
	ASSERT_STREQ(pw_drop_reason_name(PW_DROP__MAX), "unknown",
		     "past the end");
	return true;
}

PW_TEST(names_proto_parse)
{
	ASSERT_EQ(pw_proto_parse("tcp"), 6, "tcp");
	ASSERT_EQ(pw_proto_parse("SCTP"), 132, "sctp");
	ASSERT_EQ(pw_proto_parse("any"), 0, "any");
	ASSERT_EQ(pw_proto_parse("47"), 47, "number");
	ASSERT_EQ(pw_proto_parse("256"), -EINVAL, "too big");
	ASSERT_EQ(pw_proto_parse(""), -EINVAL, "empty");
	return true;
}
