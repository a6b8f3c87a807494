/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The node's own addresses: every global and host-scope address of this
 * network namespace's interfaces, read through rtnetlink. They are the
 * node in the ipcache (PW_ID_HOST), which Kubernetes admits to and from
 * its pods.
 */
#ifndef PW_NODEADDR_H
#define PW_NODEADDR_H

#include <linux/types.h>

/* *out (sorted, no duplicates, IPv4-mapped for IPv4) is the caller's to
 * free. Returns 0 or -errno. */
int pw_node_addrs(__u8 (**out)[16], int *n);

#endif /* PW_NODEADDR_H */
