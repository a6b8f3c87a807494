/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the rtnetlink readers (podlink.c, nodeaddr.c) share. */
#ifndef PW_RTNL_H
#define PW_RTNL_H

#include <stdbool.h>
#include <linux/netlink.h>
#include <linux/types.h>

/*
 * The address an RTM_NEWADDR message carries, IPv4-mapped for IPv4, into
 * @out: IFA_LOCAL, which is the address itself on point-to-point links,
 * else IFA_ADDRESS. False when it holds neither family's.
 */
bool pw_rtnl_ifa_addr(const struct nlmsghdr *nlh, __u8 out[16]);

#endif /* PW_RTNL_H */
