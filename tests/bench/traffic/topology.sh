# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The traffic benchmarks' network (bench_traffic.sh, bench_vethmode.sh),
# sourced after tests/e2e/lib.sh: the node routes between two namespaces,
# tx (10.99.1.2) and rx (10.99.2.2), each behind a veth h-tx / h-rx.
TX=10.99.1.2
RX=10.99.2.2
TXNS=${E2E_NS_PREFIX}tx
RXNS=${E2E_NS_PREFIX}rx

# calc EXPR: arithmetic on decimals (awk: no bc needed)
calc() { awk "BEGIN { print $1 }"; }

in_tx() { ip netns exec "$TXNS" "$@"; }
in_rx() { ip netns exec "$RXNS" "$@"; }

traffic_topology() {
	local p ns ip gw

	pw_node_create || return 1
	E2E_NS=("${PW_NAMESPACES[@]}")
	in_node sysctl -qw net.ipv4.ip_forward=1 || return 1
	for p in tx rx; do
		ns=$E2E_NS_PREFIX$p
		ip netns add "$ns" || return 1
		E2E_NS=("$ns" "${E2E_NS[@]}")
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip -n "$ns" link set lo up
		ip link add "h-$p" netns "$NODE" type veth peer name eth0 \
			netns "$ns" || return 1
		[ $p = tx ] && ip=$TX gw=10.99.1.1 || ip=$RX gw=10.99.2.1
		ip -n "$ns" addr add "$ip/24" dev eth0 &&
			ip -n "$ns" link set eth0 up &&
			ip -n "$ns" route add default via "$gw" &&
			ip -n "$NODE" addr add "$gw/24" dev "h-$p" &&
			ip -n "$NODE" link set "h-$p" up || return 1
	done
}
