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
 * The linear part of the packet: bytes a program may read in place. Read
 * through asm so that the compiler cannot keep ctx + offsetof(data) in a
 * register and load from that: the verifier only accepts a context field
 * read at a constant offset from the context pointer itself.
 */
#define CTX_FIELD(raw, type, field)                                   \
	({                                                            \
		void *__p;                                            \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                 \
			     : "=r"(__p)                              \
			     : "r"(raw),                              \
			       "i"(__builtin_offsetof(type, field))); \
		__p;                                                  \
	})

static __always_inline void *ctx_data(const struct pw_ctx *ctx)
{
	if (ctx->xdp)
		return CTX_FIELD(ctx->raw, struct xdp_md, data);
	return CTX_FIELD(ctx->raw, struct __sk_buff, data);
}

static __always_inline void *ctx_data_end(const struct pw_ctx *ctx)
{
	if (ctx->xdp)
		return CTX_FIELD(ctx->raw, struct xdp_md, data_end);
	return CTX_FIELD(ctx->raw, struct __sk_buff, data_end);
}

/*
 * All header reads go through the load-bytes helper or ctx_read(): both
 * work on non-linear packets without a pull, and both are bounds-checked
 * (the helper by the kernel, ctx_read by the verifier), so no parser path
 * can read past the packet.
 */
static __always_inline int ctx_load(struct pw_ctx *ctx, __u32 off, void *to,
				    __u32 len)
{
	if (ctx->xdp)
		return bpf_xdp_load_bytes(ctx->raw, off, to, len);
	return bpf_skb_load_bytes(ctx->raw, off, to, len);
}

/*
 * ctx_load() for the headers of the common packet (Ethernet, IPv4, TCP or
 * UDP): within the linear part they are copied in place, the same bytes
 * the helper would copy, without the call; past it (a non-linear skb, or
 * an XDP frame's fragments) the helper takes them. Each read in place is
 * one the verifier has seen checked against ctx_data_end(). Used
 * sparingly: adding an offset to a packet pointer makes the verifier track
 * that offset exactly, and each use multiplies the states it walks (the
 * three uses take the programs from about 49k to 167k verified
 * instructions; the IPv6 header too would take them to 280k, loops over
 * headers far more). @len is a constant.
 */
static __always_inline int ctx_read(struct pw_ctx *ctx, __u32 off, void *to,
				    __u32 len)
{
	void *data = ctx_data(ctx);

	/* bounded, so that the verifier takes the check below: it wants the
	 * offset plus @len within 64 KiB (MAX_PACKET_OFF); a header that far
	 * in, if any, is the helper's */
	if (off <= 0x7fff && data + off + len <= ctx_data_end(ctx)) {
		__builtin_memcpy(to, data + off, len);
		return 0;
	}
	return ctx_load(ctx, off, to, len);
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
