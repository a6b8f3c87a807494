// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The baseline of bench_pkt: a TC program that does nothing. Run through
 * BPF_PROG_TEST_RUN beside podwall's pw_from_pod, on the same packets in
 * the same run, it measures what every program pays anyway (the test
 * run's timer, bottom halves off and on, the call), so podwall's figures
 * are ratios to it rather than absolute times on a shared machine.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int pw_noop(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
