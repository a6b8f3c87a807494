# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by scripts/demo.sh and the end-to-end tests: a "node" network
# namespace holding a bridge, and pods as namespaces wired to it by veths.
# Nothing here touches the root namespace's links, routes or firewall.
#
# Sourcing scripts may set PW_PREFIX (prepended to every namespace name) and
# call pw_node_create, pw_pod_create NAME IP4 [IP6] and pw_topology_destroy.
# A pod NAME lives in namespace ${PW_PREFIX}NAME; its host-side veth in the
# node namespace is h-NAME, so NAME has at most 13 characters.

PW_PREFIX=${PW_PREFIX:-pw$$-}
PW_NODE=${PW_PREFIX}node
PW_PODS=()

# pw_node_create: the node namespace with bridge br0.
pw_node_create() {
	ip netns add "$PW_NODE" || return 1
	ip -n "$PW_NODE" link set lo up
	ip -n "$PW_NODE" link add br0 type bridge
	ip -n "$PW_NODE" link set br0 up
	# br_netfilter is built in: with bridge-nf-call-*tables on, bridged
	# packets would pass iptables and kernel conntrack, which reassembles
	# fragments on the bridge. Keep the bridge plain, so the BPF programs
	# alone decide and see packets as pods send them.
	ip netns exec "$PW_NODE" sh -c '
		for f in /proc/sys/net/bridge/bridge-nf-call-iptables \
			 /proc/sys/net/bridge/bridge-nf-call-ip6tables \
			 /proc/sys/net/bridge/bridge-nf-call-arptables; do
			[ -w "$f" ] && echo 0 > "$f"
		done; true'
}

# pw_pod_create NAME IP4 [IP6]: a pod with eth0 on the bridge.
pw_pod_create() {
	local name=$1 ip4=$2 ip6=${3:-} ns=$PW_PREFIX$1

	if [ "${#name}" -gt 13 ]; then
		echo "pw_pod_create: pod name $name is longer than 13" >&2
		return 1
	fi
	ip netns add "$ns" || return 1
	PW_PODS+=("$ns")
	ip -n "$ns" link set lo up
	ip link add "h-$name" netns "$PW_NODE" type veth peer name eth0 \
		netns "$ns" || return 1
	ip -n "$ns" addr add "$ip4/24" dev eth0
	[ -n "$ip6" ] && ip -n "$ns" addr add "$ip6/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$PW_NODE" link set "h-$name" master br0
	ip -n "$PW_NODE" link set "h-$name" up
}

# pw_in_pod NAME CMD...: run CMD in pod NAME's namespace.
pw_in_pod() {
	local ns=$PW_PREFIX$1

	shift
	ip netns exec "$ns" "$@"
}

pw_pod_mac() {
	pw_in_pod "$1" cat /sys/class/net/eth0/address
}

# Run a command in the node namespace without hiding bpffs (ip netns exec
# would remount /sys).
pw_in_node() {
	nsenter --net="/run/netns/$PW_NODE" "$@"
}

pw_topology_destroy() {
	local p

	for p in "${PW_PODS[@]}"; do
		ip netns del "$p" 2>/dev/null
	done
	PW_PODS=()
	ip netns del "$PW_NODE" 2>/dev/null
	return 0
}
