/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hook's context, actions and byte loads, so that the parse, conntrack
 * and policy code does not name the hook. TC only for now; an XDP variant
 * maps the same names onto xdp_md, XDP_PASS and bpf_xdp_load_bytes.
 */
#ifndef PW_CTX_H
#define PW_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define pw_ctx __sk_buff

/* Pass on to the next filter rather than end the chain: podwall runs first
 * (priority 1), and another tool's filters after it still get their say. */
#define CTX_ACT_OK   TC_ACT_UNSPEC
#define CTX_ACT_DROP TC_ACT_SHOT

/*
 * All header reads go through the load-bytes helper rather than direct
 * packet access: it works on non-linear skbs without a pull, and its bounds
 * check is the kernel's, so no parser path can read past the packet.
 */
static __always_inline int ctx_load(struct pw_ctx *ctx, __u32 off, void *to,
				    __u32 len)
{
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline __u32 ctx_len(const struct pw_ctx *ctx)
{
	return ctx->len;
}

static __always_inline __u32 ctx_ifindex(const struct pw_ctx *ctx)
{
	return ctx->ifindex;
}

/* A tag the kernel moved out of the frame into skb metadata. */
static __always_inline int ctx_vlan_offloaded(const struct pw_ctx *ctx)
{
	return ctx->vlan_present != 0;
}

#endif /* PW_CTX_H */
