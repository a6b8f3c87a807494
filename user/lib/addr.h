/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Addresses as the datapath holds them: 16 bytes, IPv4 mapped into
 * ::ffff:0:0/96, and prefix lengths counted in that 128-bit space.
 */
#ifndef PW_ADDR_H
#define PW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PW_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* "10.0.0.1" or "fd00::1". Returns 0 or -EINVAL. */
int pw_addr_parse(const char *s, __u8 out[16]);
/*
 * "10.0.0.0/24", "fd00::/64", or a bare address (a host prefix). Bits past
 * the prefix must be zero, as Kubernetes requires of ipBlock. *plen is in
 * the 128-bit space (96 + 24 for the first example). Returns 0 or -EINVAL.
 */
int pw_cidr_parse(const char *s, __u8 out[16], __u32 *plen);
bool pw_addr_is4(const __u8 a[16]);
/* Writes the text form into buf (at least PW_ADDR_STRLEN) and returns it. */
const char *pw_addr_str(const __u8 a[16], char *buf, size_t len);
/* "aa:bb:cc:dd:ee:ff". Returns 0 or -EINVAL. */
int pw_mac_parse(const char *s, __u8 out[6]);

#endif /* PW_ADDR_H */
