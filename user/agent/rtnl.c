// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include "rtnl.h"

static int addr_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

bool pw_rtnl_ifa_addr(const struct nlmsghdr *nlh, __u8 out[16])
{
	const struct nlattr *tb[IFA_MAX + 1] = {};
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
	a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
	if (!a)
		return false;
	if (ifa->ifa_family == AF_INET && mnl_attr_get_payload_len(a) == 4) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, mnl_attr_get_payload(a), 4);
		return true;
	}
	if (ifa->ifa_family == AF_INET6 && mnl_attr_get_payload_len(a) == 16) {
		memcpy(out, mnl_attr_get_payload(a), 16);
		return true;
	}
	return false;
}
