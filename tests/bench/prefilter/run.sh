#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# How fast a flood from a deny-listed source is disposed of: by the uplink
# prefilter (XDP, native and generic), by podwall's TC path (the pod's
# ingress policy at its veth, after the node routed it), or not at all (no
# podwall: the pod's stack takes it). A namespace "world" floods UDP from
# 198.51.100.2 through the veth "uplink" of a node namespace that routes it
# to pod A on br0. Numbers only, never pass/fail.
#
#   BUILD=build bash tests/bench/prefilter/run.sh [SECS [ROUNDS [SIZE]]]
#
# Prints, per setup and round, the packets per second the sender got out,
# the packets per second counted where they ended (the prefilter's
# counter, the pod's policy-denied counter, or the pod's eth0), and the
# CPU time per packet that implies. On veth the receive path runs in the
# sender's softirq on the sender's CPU, so a flood is CPU-bound there and
# sent/s is the figure: every setup pays the same sending cost, and the
# differences are what the node does with the packet.
set -u
SECS=${1:-5} ROUNDS=${2:-3} SIZE=${3:-64}
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
DP=$BUILD/podwall-dp
PW_PREFIX=pwpf-$$-
. "$REPO/scripts/lib/netns.sh"
W=${PW_PREFIX}world
PIN=/sys/fs/bpf/podwall-bench-pf-$$
TMP=$(mktemp -d /tmp/podwall-bench-pf.XXXXXX)
FLOOD=$TMP/flood
SRC=198.51.100.2 DST=10.123.0.2

SINK=
cleanup() {
	[ -n "$SINK" ] && kill "$SINK" 2>/dev/null
	ip netns del "$W" 2>/dev/null
	pw_topology_destroy
	[ -d "$PIN" ] && { "$DP" --pin "$PIN" unload 2>/dev/null; rm -rf "$PIN"; }
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$DP" ] || { echo "no $DP (run make)" >&2; exit 1; }
cc -O2 -o "$FLOOD" "$REPO/tests/bench/prefilter/flood.c" || exit 1

dp() { pw_in_node "$DP" --pin "$PIN" "$@"; }

# node routes between world (uplink) and pod A (br0)
pw_node_create && pw_pod_create A "$DST" || exit 1
ip netns add "$W" && ip -n "$W" link set lo up &&
	ip link add uplink netns "$PW_NODE" type veth peer name eth0 netns "$W" &&
	pw_in_node sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n "$PW_NODE" addr add 198.51.100.1/24 dev uplink &&
	ip -n "$PW_NODE" link set uplink up &&
	ip -n "$PW_NODE" addr add 10.123.0.1/24 dev br0 &&
	ip -n "$W" addr add "$SRC/24" dev eth0 && ip -n "$W" link set eth0 up &&
	ip -n "$W" route add default via 198.51.100.1 &&
	ip -n "${PW_PREFIX}A" route add default via 10.123.0.1 || exit 1
pw_wait_ready A || exit 1
# a socket in the pod that never reads: with no firewall the flood is
# delivered and dropped at its full buffer, and no ICMP error answers it
ip netns exec "${PW_PREFIX}A" timeout 600 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9))
time.sleep(600)' &
SINK=$!

counter() { # EP REASON
	dp counters --ep "$1" --json | python3 -c '
import json, sys
print(json.load(sys.stdin)["drops"][sys.argv[1]]["packets"])' "$2"
}
pod_rx() {
	ip netns exec "${PW_PREFIX}A" cat /sys/class/net/eth0/statistics/rx_packets
}

# setup NAME: put the node in that state
setup() {
	dp prefilter detach uplink >/dev/null 2>&1
	dp detach h-A >/dev/null 2>&1
	case $1 in
	none) ;;
	tc)
		dp attach h-A &&
			dp endpoint set h-A --id 1 --identity 1001 \
				--ip4 "$DST" --enforce ingress ;;
	xdp-native | xdp-generic)
		dp prefilter attach uplink --mode "${1#xdp-}" 2>/dev/null ;;
	esac
}

# measure NAME: one flood; prints "NAME sent/s ended/s"
measure() {
	local before after sent

	case $1 in
	none) before=$(pod_rx) ;;
	tc) before=$(counter 1 policy-denied) ;;
	*) before=$(counter 0 prefilter) ;;
	esac
	sent=$(ip netns exec "$W" taskset -c 1 "$FLOOD" "$SRC" "$DST" 9 \
		"$SECS" "$SIZE")
	sleep 0.2
	case $1 in
	none) after=$(pod_rx) ;;
	tc) after=$(counter 1 policy-denied) ;;
	*) after=$(counter 0 prefilter) ;;
	esac
	printf '%-12s %10s %10.0f %8.0f\n' "$1" "$sent" \
		"$(echo "($after - $before) / $SECS" | bc -l)" \
		"$(echo "1000000000 / $sent" | bc -l)"
}

# cost NAME PROG FRAME [CTX]: the program's own time per packet in
# BPF_PROG_TEST_RUN (the kernel's average over many runs), in the node
cost() {
	local args=(prog run pinned "$PIN/$2" data_in "$3" repeat 1000000) out

	[ -n "${4:-}" ] && args+=(ctx_in "$4")
	out=$(pw_in_node bpftool "${args[@]}" 2>&1)
	printf '%-34s %s\n' "$1" "$(grep -o '[0-9]*ns' <<<"$out" | head -1)"
}

# frames: UDP from the listed source and from another, to pod A
frame() { # SRC FILE
	python3 - "$1" "$2" <<'PY'
import socket, struct, sys
src, path = sys.argv[1:]
payload = bytes(64)
udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton("10.123.0.2"))
eth = bytes.fromhex("02eeeeeeee01" "027700000001" "0800")
open(path, "wb").write(eth + ip + udp)
PY
}

dp load >/dev/null || exit 1
frame "$SRC" "$TMP/listed.bin" && frame 198.51.100.3 "$TMP/other.bin" || exit 1
# a __sk_buff with only ifindex (offset 40) set: h-A, the pod's veth
python3 -c 'import struct, sys
open(sys.argv[1], "wb").write(bytes(40) + struct.pack("=I", int(sys.argv[2])))' \
	"$TMP/ctx.bin" "$(ip -n "$PW_NODE" -o link show h-A | cut -d: -f1)"
echo "# per-packet cost of the program alone (BPF_PROG_TEST_RUN, 1e6 runs; no reader on the ring)"
cost "xdp, empty list, pass" pw_xdp_prefilter "$TMP/other.bin"
dp prefilter add "$SRC/32" --id 1 || exit 1
for i in $(seq 2 1000); do # a list of 1000 /32s
	echo "198.18.$((i / 256)).$((i % 256))/32"
done | while read -r c; do dp prefilter add "$c" --id 9; done
cost "xdp, 1000 listed, other src: pass" pw_xdp_prefilter "$TMP/other.bin"
cost "xdp, 1000 listed, listed src: drop" pw_xdp_prefilter "$TMP/listed.bin"
dp endpoint set h-A --id 1 --identity 1001 --ip4 "$DST" --enforce ingress
cost "tc pw_to_pod, policy-denied: drop" pw_to_pod "$TMP/listed.bin" \
	"$TMP/ctx.bin"
dp endpoint set h-A --id 1 --identity 1001 --ip4 "$DST" --enforce none
cost "tc pw_to_pod, open pod: pass" pw_to_pod "$TMP/listed.bin" "$TMP/ctx.bin"
echo
echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# UDP $SIZE-byte payload from a listed source, $SECS s per run, sender on CPU 1"
printf '%-12s %10s %10s %8s\n' setup "sent/s" "ended/s" "ns/pkt"
for ((r = 0; r < ROUNDS; r++)); do
	for s in none tc xdp-native xdp-generic; do
		setup "$s" || { echo "setup $s failed" >&2; exit 1; }
		measure "$s"
	done
done
