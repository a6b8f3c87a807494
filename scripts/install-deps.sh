#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installs every Debian 12 package that podwall's build, demo and tests need
# (the demo makes its pods with the CNI plugins, so it needs those too),
# and mounts bpffs. Idempotent and non-interactive; run as root.
set -euo pipefail

# Why each one is here:
build=(
	make gcc          # userspace build; gcc brings libasan/libubsan
	clang llvm        # BPF object (clang -target bpf)
	libclang-rt-14-dev # libFuzzer and clang's sanitizer runtimes
	libbpf-dev        # loader, skeletons, TC attach, ring buffer
	bpftool           # skeleton generation (bpftool gen skeleton)
	libelf-dev zlib1g-dev # libbpf's own link dependencies
	linux-libc-dev    # uapi headers the BPF code builds against
	libcjson-dev      # JSON: manifests, flow events, counters
	libyaml-dev       # YAML manifests
	libmnl-dev        # rtnetlink: which host veth leads to which pod
	libcurl4-openssl-dev # Kubernetes mode: the API server over HTTPS
	clang-format      # make check-format
)
test=(
	iproute2          # ip netns, veth, bridge, tc
	iputils-ping      # ICMP probes
	util-linux        # nsenter: run tools in a netns without hiding bpffs
	python3 python3-scapy # traffic probes and crafted packets (/usr/bin/python3)
	tcpdump           # captures in end-to-end tests
	openssl           # certificates for the tests' fake Kubernetes API server
	containernetworking-plugins # bridge, ptp, host-local: podwall's CNI
	                  # plugin is chained after them, as on a real node
	procps            # sysctl, pkill
	jq                # scripts/k8s/install-cni.sh and its test
	docker.io         # test_docker.sh runs a real dockerd (in a netns)
	busybox-static    # the root of the tests' local Docker image (no registry)
)
bench=(
	iperf3            # TCP throughput
	iptables nftables # the alternatives podwall is measured against
	xdp-tools         # xdp-filter, another alternative
	gnuplot-nox       # the benchmark report's plots
	bc                # the benchmarks' arithmetic in shell
)

missing=()
for p in "${build[@]}" "${test[@]}" "${bench[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
# kubectl validates the Kubernetes manifests offline; Debian's comes in
# kubernetes-client, but any kubectl already installed will do
if ! command -v kubectl >/dev/null; then
	missing+=(kubernetes-client)
fi
if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

# The datapath's maps are pinned in bpffs.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
echo "install-deps: ok"
