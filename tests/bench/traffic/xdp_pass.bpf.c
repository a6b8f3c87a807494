// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pass-all XDP programs for bench_traffic.sh: what merely having XDP on a
 * veth costs. "xdp" is a plain program (the veth's peer loses GSO/TSO, as
 * with any program without frags support); "xdp.frags" declares
 * multi-buffer support, so the peer keeps GSO.
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

__attribute__((section("xdp.frags"), used)) int
xdp_pass_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
