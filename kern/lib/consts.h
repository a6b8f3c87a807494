/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Compile-time bounds of the datapath. Map sizes are set at load time. */
#ifndef PW_CONSTS_H
#define PW_CONSTS_H

/* VLAN tags a frame may carry, counting one the kernel already took off. */
#ifndef PW_VLAN_MAX
#define PW_VLAN_MAX 2
#endif

/* IPv6 extension headers walked before failing closed. */
#ifndef PW_IP6_EXT_MAX
#define PW_IP6_EXT_MAX 8
#endif

/* Default map sizes; user/lib/datapath.c overrides them before load. */
#ifndef PW_EP_MAX
#define PW_EP_MAX 4096
#endif
#ifndef PW_CT_MAX
#define PW_CT_MAX (1 << 20)
#endif
#ifndef PW_POLICY_MAX
#define PW_POLICY_MAX (1 << 18)
#endif
#ifndef PW_IPCACHE_MAX
#define PW_IPCACHE_MAX (1 << 16)
#endif
#ifndef PW_FRAG_MAX
#define PW_FRAG_MAX (1 << 14)
#endif
#ifndef PW_PREFILTER_MAX
#define PW_PREFILTER_MAX (1 << 16)
#endif
#ifndef PW_EVENTS_BYTES
#define PW_EVENTS_BYTES (1 << 22)
#endif

#define PW_NSEC_PER_SEC 1000000000ULL

#endif /* PW_CONSTS_H */
