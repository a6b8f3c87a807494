#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The podwall demo, as a node runs it: podwalld on the node, pods created
# by the real CNI plugins (bridge and host-local, then podwall's plugin),
# Kubernetes NetworkPolicies applied with the podwall CLI, real traffic,
# and the flow log that explains each verdict. Everything it makes
# (namespaces, links, pins, processes, files) is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
B="$PWD/$BUILD"
PY=/usr/bin/python3
PROBE=("$PY" "$PWD/scripts/lib/probe.py")
PW_PREFIX=pw-demo-
PIN=/sys/fs/bpf/podwall-demo
. scripts/lib/netns.sh

TMP=$(mktemp -d /tmp/podwall-demo.XXXXXX)
SOCK=$TMP/podwalld.sock
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pw_topology_destroy
	[ -d "$PIN" ] && "$B/podwalld" --uninstall --pin "$PIN" \
		--state-dir "$TMP/state" --socket "$SOCK" --config /dev/null \
		2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
indent() { sed 's/^/   /'; }
pw() { "$B/podwall" --socket "$SOCK" "$@"; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
for f in podwalld podwall cni/podwall; do
	[ -x "$B/$f" ] || { echo "demo: build first (make)" >&2; exit 1; }
done
[ -x /usr/lib/cni/bridge ] || {
	echo "demo: needs the CNI plugins (scripts/install-deps.sh)" >&2
	exit 1
}
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
# a previous run killed hard may have left these behind
for p in node web db intruder; do ip netns del "pw-demo-$p" 2>/dev/null; done
rm -rf "$PIN"

say "1. A node, and podwalld on it"
pw_node_create || exit 1
nsenter --net="/run/netns/$PW_NODE" "$B/podwalld" --pin "$PIN" \
	--state-dir "$TMP/state" --socket "$SOCK" --config /dev/null \
	--ct-max 65536 --flow-log "$TMP/flows" 2>"$TMP/agent.log" &
PIDS+=($!)
for ((i = 0; i < 50; i++)); do
	pw status >/dev/null 2>&1 && break
	sleep 0.1
done
pw status >/dev/null || { cat "$TMP/agent.log"; exit 1; }
echo "   the agent loaded the datapath (pinned in $PIN) and serves the"
echo "   podwall CLI and the CNI plugin on its control socket"

say "2. Three pods, made by the CNI plugins as a container runtime would"
cat >"$TMP/net.conflist" <<CONF
{"cniVersion": "1.0.0", "name": "demo", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$TMP/ipam",
            "ranges": [[{"subnet": "10.123.0.0/24",
                         "rangeStart": "10.123.0.2"}]]}},
  {"type": "podwall", "socket": "$SOCK", "stateDir": "$TMP/state"}]}
CONF
sed 's/^/   /' <<'EOF_CONF'
conflist: bridge (veth + bridge cni0, host-local IPAM) -> podwall
EOF_CONF
for p in web db intruder; do
	ip netns add "$PW_PREFIX$p" || exit 1
	PW_NAMESPACES=("$PW_PREFIX$p" "${PW_NAMESPACES[@]}")
	ip -n "$PW_PREFIX$p" link set lo up
	pw_in_node "$PY" scripts/lib/cnirun.py add "$TMP/net.conflist" \
		"demo-$p" "/run/netns/$PW_PREFIX$p" --k8s "demo/$p" \
		--cni-path "/usr/lib/cni:$B/cni" --cache "$TMP/cnicache" \
		>/dev/null || { cat "$TMP/agent.log"; exit 1; }
	echo "   CNI ADD demo/$p: $(pw_in_pod "$p" ip -4 -o addr show eth0 |
		awk '{print $4}')"
done

say "3. Kubernetes objects, applied with the podwall CLI (policy/demo/)"
sed -n 's/^# /   # /p' policy/demo/db-ingress.yaml \
	policy/demo/intruder-egress.yaml
echo "   # web: no policy selects it, so everything is allowed"
for f in policy/demo/*.yaml; do
	pw apply -f "$f" | indent || exit 1
done
echo
pw get endpoints | indent
echo
pw get policies | indent

# Background jobs are plain commands, not functions, so $! is the process.
for p in web db; do
	ip netns exec "$PW_PREFIX$p" "${PROBE[@]}" serve --tcp 80,5432,22 \
		--udp 53 --seconds 60 &
	PIDS+=($!)
done
"$B/podwall" --socket "$SOCK" flows --follow >"$TMP/flows.txt" &
FLOWPID=$!
PIDS+=($FLOWPID)
sleep 0.5

say "4. Real traffic through the kernel"
printf '   %-34s %-9s %s\n' "connection" "expected" "observed"
check() {
	local from=$1 proto=$2 to=$3 port=$4 want=$5 got
	if [ "$proto" = icmp ]; then
		pw_in_pod "$from" ping -c 1 -W 1 "$to" >/dev/null 2>&1
	else
		pw_in_pod "$from" "${PROBE[@]}" probe "$proto" "$to" \
			"$port" --timeout 1
	fi && got=allowed || got=denied
	printf '   %-34s %-9s %s%s\n' "$from -> $to $proto/$port" "$want" \
		"$got" "$([ "$got" = "$want" ] || echo '   <-- MISMATCH')"
	[ "$got" = "$want" ] || MISMATCH=1
}
MISMATCH=0
check web tcp 10.123.0.3 5432 allowed
check web tcp 10.123.0.3 22 denied
check intruder tcp 10.123.0.3 5432 denied
check intruder udp 10.123.0.3 53 allowed
check intruder tcp 10.123.0.2 80 denied
check intruder icmp 10.123.0.3 - denied
check db icmp 10.123.0.2 - allowed
check db tcp 10.123.0.2 80 allowed

say "5. The intruder forges web's address: anti-spoofing drops it"
pw_in_pod intruder "$PY" -c '
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
sendp(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src="10.123.0.2", dst="10.123.0.3") /
      TCP(sport=4444, dport=5432, flags="S"), iface="eth0")' 2>/dev/null &&
	echo "   sent a SYN from 10.123.0.4 claiming to be 10.123.0.2"
sleep 0.5

say "6. Why? podwall trace asks the policy, not the packets"
pw trace --from demo/web --to demo/db --port 5432/tcp | indent
pw trace --from demo/intruder --to demo/db --port 5432/tcp | indent

say "7. The flow log (podwall flows --follow): every verdict, with its reason"
echo "   (a flow between two pods of this node is seen on both veths: the"
echo "   source's egress, then the destination's ingress)"
kill "$FLOWPID" 2>/dev/null
wait "$FLOWPID" 2>/dev/null
indent <"$TMP/flows.txt"

say "8. podwall flows --summary, from the agent's log files (no agent needed)"
pw flows --dir "$TMP/flows" --summary | indent

say "9. podwall status"
pw status | indent

say "10. CNI DEL demo/intruder: its endpoint here goes (its Pod object stays)"
pw_in_node "$PY" scripts/lib/cnirun.py del "$TMP/net.conflist" \
	demo-intruder "/run/netns/${PW_PREFIX}intruder" \
	--cni-path "/usr/lib/cni:$B/cni" --cache "$TMP/cnicache" || exit 1
pw get endpoints | indent
echo
echo "Done: everything the demo created is removed on exit."
exit "$MISMATCH"
