/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The hook's context, actions and byte loads, so that the parse, conntrack
 * and policy code does not name the hook. One body of code serves TC (an
 * skb) and XDP (an xdp_md): struct pw_ctx carries the hook's context and
 * which hook it is, a constant at each entry point. Every function here is
 * inlined, so the compiler folds that constant and each program keeps only
 * its own hook's helper calls: the verifier never sees the other's.
 */
#ifndef PW_CTX_H
#define PW_CTX_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct pw_ctx {
	void *raw; /* struct __sk_buff or struct xdp_md */
	int xdp;   /* 0: TC, 1: XDP; a constant, never read at run time */
};

/* Pass on to the next filter rather than end the chain: podwall runs first
 * (priority 1), and another tool's filters after it still get their say.
 * In XDP, pass is the stack, where TC and the rest still run. */
static __always_inline int ctx_act_ok(const struct pw_ctx *ctx)
{
	return ctx->xdp ? XDP_PASS : TC_ACT_UNSPEC;
}

static __always_inline int ctx_act_drop(const struct pw_ctx *ctx)
{
	return ctx->xdp ? XDP_DROP : TC_ACT_SHOT;
}

/*
 * All header reads go through the load-bytes helper rather than direct
 * packet access: it works on non-linear skbs without a pull, and its bounds
 * check is the kernel's, so no parser path can read past the packet.
 */
static __always_inline int ctx_load(struct pw_ctx *ctx, __u32 off, void *to,
				    __u32 len)
{
	if (ctx->xdp)
		return bpf_xdp_load_bytes(ctx->raw, off, to, len);
	return bpf_skb_load_bytes(ctx->raw, off, to, len);
}

/* In XDP the helper rather than data_end - data: subtracting two packet
 * pointers needs CAP_PERFMON, and the agent loads with CAP_BPF alone. */
static __always_inline __u32 ctx_len(const struct pw_ctx *ctx)
{
	if (ctx->xdp)
		return bpf_xdp_get_buff_len(ctx->raw);
	return ((struct __sk_buff *)ctx->raw)->len;
}

/* The host-side veth the program runs on, in both hooks. */
static __always_inline __u32 ctx_ifindex(const struct pw_ctx *ctx)
{
	if (ctx->xdp)
		return ((struct xdp_md *)ctx->raw)->ingress_ifindex;
	return ((struct __sk_buff *)ctx->raw)->ifindex;
}

/* A tag the kernel moved out of the frame into skb metadata. XDP runs
 * before that happens: a tag is still in the frame. */
static __always_inline int ctx_vlan_offloaded(const struct pw_ctx *ctx)
{
	if (ctx->xdp)
		return 0;
	return ((struct __sk_buff *)ctx->raw)->vlan_present != 0;
}

#endif /* PW_CTX_H */
