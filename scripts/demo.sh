#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The podwall demo: three pods on a bridge, a policy between them, real
# traffic, and the flow log that explains each verdict. Everything it makes
# (namespaces, links, pins, processes) is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DP="$PWD/$BUILD/podwall-dp"
PROBE=(/usr/bin/python3 "$PWD/scripts/lib/probe.py")
PW_PREFIX=pw-demo-
PIN=/sys/fs/bpf/podwall-demo
. scripts/lib/netns.sh

EVLOG=$(mktemp)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	pw_topology_destroy
	[ -d "$PIN" ] && "$DP" --pin "$PIN" unload 2>/dev/null
	rm -f "$EVLOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
dp() { pw_in_node "$DP" --pin "$PIN" "$@"; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
[ -x "$DP" ] || { echo "demo: build first (make)" >&2; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
# a previous run killed hard may have left these behind
for p in node web db intruder; do ip netns del "pw-demo-$p" 2>/dev/null; done
[ -d "$PIN" ] && "$DP" --pin "$PIN" unload 2>/dev/null

say "1. Three pods on one bridge, in their own network namespaces"
pw_node_create || exit 1
pw_pod_create web 10.123.0.2 || exit 1
pw_pod_create db 10.123.0.3 || exit 1
pw_pod_create intruder 10.123.0.4 || exit 1
pw_wait_ready web db intruder || exit 1
echo "   web 10.123.0.2   db 10.123.0.3   intruder 10.123.0.4"

say "2. Load the datapath and attach it to each pod's host-side veth"
"$DP" --pin "$PIN" load --ct-max 65536 | sed 's/^/   /' || exit 1
for p in web db intruder; do
	dp attach "h-$p" || exit 1
done
echo "   programs on h-web, h-db, h-intruder (TC ingress and egress)"

say "3. Kubernetes NetworkPolicy, compiled into the maps (policy/demo/)"
sed -n 's/^# /   /p' policy/demo/db-ingress.yaml policy/demo/intruder-egress.yaml
echo "   web: no policy selects it, so everything is allowed"
echo "   each pod is bound to the veth whose far end holds its address (rtnetlink):"
dp links | sed 's/^/     /'
dp sync -f policy/demo --bind-by-ip | sed 's/^/   /' || exit 1
dp endpoint list | sed 's/^/   /'

# Background jobs are plain commands, not functions, so $! is the process.
for p in web db; do
	ip netns exec "$PW_PREFIX$p" "${PROBE[@]}" serve --tcp 80,5432,22 \
		--udp 53 --seconds 60 &
	PIDS+=($!)
done
nsenter --net="/run/netns/$PW_NODE" "$DP" --pin "$PIN" events \
	--timeout 60000 >"$EVLOG" &
EVPID=$!
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
pw_in_pod intruder /usr/bin/python3 -c '
from scapy.all import Ether, IP, TCP, sendp, conf
conf.verb = 0
sendp(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src="10.123.0.2", dst="10.123.0.3") /
      TCP(sport=4444, dport=5432, flags="S"), iface="eth0")' 2>/dev/null &&
	echo "   sent a SYN from 10.123.0.4 claiming to be 10.123.0.2"
sleep 0.5

say "6. The flow log: every verdict, with the rule or the drop reason"
echo "   (rule 0: no rule decided: open direction if allowed, default deny if not)"
kill "$EVPID" 2>/dev/null
wait "$EVPID" 2>/dev/null
sed 's/^/   /' "$EVLOG"

say "7. Counters for db"
dp counters --ep "$(dp endpoint list | sed -n 's/.*(h-db) id \([0-9]*\).*/\1/p')" |
	sed 's/^/   /'
echo
echo "Done: everything the demo created is removed on exit."
exit "$MISMATCH"
