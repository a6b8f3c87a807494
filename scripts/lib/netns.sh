# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The test network, shared by scripts/demo.sh and tests/e2e: a "node"
# network namespace holding a bridge and the host-side veths, and pods as
# network namespaces wired to it. Nothing here touches the root namespace's
# links, routes or firewall (dockerd may run there with iptables FORWARD
# DROP): veths are created directly in the node and pod namespaces.
#
# The caller sets PW_PREFIX (prepended to every namespace name) before
# sourcing, then calls pw_node_create, pw_pod_create NAME IP4 [IP6] and
# pw_wait_ready. Pod NAME lives in namespace ${PW_PREFIX}NAME; its host-side
# veth in the node namespace is h-NAME, so NAME has at most 13 characters.
# PW_NAMESPACES lists what was made, node last, for the caller's cleanup.

PW_PREFIX=${PW_PREFIX:-pw$$-}
PW_NODE=${PW_PREFIX}node
PW_NAMESPACES=()

# Run a command in the node namespace without hiding bpffs (ip netns exec
# remounts /sys, and with it /sys/fs/bpf).
pw_in_node() {
	nsenter --net="/run/netns/$PW_NODE" "$@"
}

# pw_in_pod NAME CMD...
pw_in_pod() {
	local ns=$PW_PREFIX$1

	shift
	ip netns exec "$ns" "$@"
}

pw_node_create() {
	ip netns add "$PW_NODE" || return 1
	PW_NAMESPACES+=("$PW_NODE")
	ip -n "$PW_NODE" link set lo up || return 1
	# The node itself needs no IPv6: keep br0 and the host-side veths
	# quiet (no router solicitations or MLD of their own).
	pw_in_node sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	# br_netfilter is built into this kernel and its switches are per
	# network namespace. With them on, bridged frames would go through
	# iptables/ip6tables and kernel conntrack (which also reassembles
	# fragments). Turn them off here, so the BPF programs alone decide and
	# see packets as pods send them, and check that they are off.
	ip netns exec "$PW_NODE" sysctl -qw \
		net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0 || return 1
	if [ "$(ip netns exec "$PW_NODE" cat \
		/proc/sys/net/bridge/bridge-nf-call-iptables)" != 0 ] ||
		[ "$(ip netns exec "$PW_NODE" cat \
			/proc/sys/net/bridge/bridge-nf-call-ip6tables)" != 0 ]; then
		echo "netns: bridge-nf-call-*tables are not 0 in $PW_NODE" >&2
		return 1
	fi
	ip -n "$PW_NODE" link add br0 type bridge || return 1
	ip -n "$PW_NODE" link set br0 up
}

# pw_pod_create NAME IP4 [IP6]: a pod with eth0 on the bridge.
pw_pod_create() {
	local name=$1 ip4=$2 ip6=${3:-} ns=$PW_PREFIX$1

	if [ "${#name}" -gt 13 ]; then
		echo "netns: pod name $name is longer than 13" >&2
		return 1
	fi
	ip netns add "$ns" || return 1
	PW_NAMESPACES=("$ns" "${PW_NAMESPACES[@]}") # node stays last
	ip -n "$ns" link set lo up || return 1
	ip link add "h-$name" netns "$PW_NODE" type veth peer name eth0 \
		netns "$ns" || return 1
	# no duplicate address detection: addresses are usable at once
	pw_in_pod "$name" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 \
		net.ipv6.conf.eth0.accept_ra=0 || return 1
	ip -n "$ns" addr add "$ip4/24" dev eth0 || return 1
	if [ -n "$ip6" ]; then
		ip -n "$ns" addr add "$ip6/64" dev eth0 nodad || return 1
	fi
	ip -n "$ns" link set eth0 up || return 1
	ip -n "$PW_NODE" link set "h-$name" master br0 || return 1
	ip -n "$PW_NODE" link set "h-$name" up
}

pw_pod_mac() {
	pw_in_pod "$1" cat /sys/class/net/eth0/address
}

# pw_wait_ready POD...: bounded wait (3 s) for no tentative address and
# every bridge port forwarding.
pw_wait_ready() {
	local i p busy

	for ((i = 0; i < 30; i++)); do
		busy=0
		for p in "$@"; do
			pw_in_pod "$p" ip addr show tentative | grep -q inet &&
				busy=1
		done
		ip -n "$PW_NODE" link show master br0 | grep -q 'state DOWN' &&
			busy=1
		[ "$busy" = 0 ] && return 0
		sleep 0.1
	done
	echo "netns: addresses or bridge ports not ready after 3 s" >&2
	return 1
}

# Remove every namespace made here, pods first; the node's veths, bridge
# and the filters on them go with it.
pw_topology_destroy() {
	local i

	for ((i = 0; i < ${#PW_NAMESPACES[@]}; i++)); do
		ip netns del "${PW_NAMESPACES[i]}" 2>/dev/null
	done
	PW_NAMESPACES=()
	return 0
}
