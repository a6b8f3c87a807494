#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The from-pod path in TC mode against XDP mode (podwalld --veth-mode), in
# the same run, on real traffic through veths (issue 8):
#
#   tx netns (10.99.1.2) --veth-- node netns --veth-- rx netns (10.99.2.2)
#                          h-tx   (routes)   h-rx
#
# tx is an endpoint with its egress enforced: UDP 9000 and TCP 5201 to rx
# are allowed, anything else it sends is denied. What tx sends is judged on
# h-tx: pw_from_pod on TC ingress ("tc") or pw_from_pod_xdp in the veth's
# XDP hook ("xdp"); h-rx has pw_to_pod on TC egress in both. "none" is no
# podwall at all. podwall-dp sets it up (no agent: nothing else runs).
#
# Measurements, sender on CPU 0, receiver on CPU 1:
#   udp_pps     allowed: 64-byte UDP datagrams received per second
#   tcp_gbps    allowed: iperf3 TCP throughput (receiver's figure)
#   drop_pps    a flood of denied 64-byte UDP datagrams (to rx port 9999):
#               packets per second podwall's counters say it dropped as
#               policy-denied (tc and xdp only)
#   sent_pps    the flood's offered load, what the sender got out
#   cpu_ns      CPU 0's busy time (user, system, softirq: sender and
#               datapath, which runs on the sending CPU) over the window
#               divided by the drops in it: the cost of a denied packet,
#               its sending included
#   softirq_ns  the same with softirq time alone: the receive side of the
#               veth, where both programs run
# Every drop sends a flow event; with no reader (no agent) the ring is
# full and the events are counted lost, the same in both modes.
#
# Order: each repeat runs every setup in turn. Ratios are against tc of
# the same run: of the medians, and paired (the median over repeats of
# xdp's figure over tc's of the same repeat: the load of a shared machine
# drifts between repeats). Each setup is checked before it is measured: the allowed
# flow connects, a denied one (TCP 9002) does not under podwall, and the
# from-pod program is the one of the mode (podwall-dp mode).
#
# Writes into OUT (--out DIR or $OUT, default $BUILD/bench):
# vethmode.csv (setup,metric,repeat,value), vethmode_summary.csv
# (metric,setup,repeats,median,min,max,tc_median,ratio_to_tc,
# paired_ratio_to_tc) and
# vethmode_summary.md (also printed).
#
# --quick: 1 repeat of 1 s windows (about 15 s). Default: 5 repeats of 2 s
# (about 2 minutes).
# usage: [BUILD=build] tests/bench/bench_vethmode.sh [--quick] [--out DIR]
#        [--repeats N] [--secs S]
set -u
. "$(dirname "$0")/../e2e/lib.sh"

REPEATS=5
SECS=2
OUT=${OUT:-${DP%/podwall-dp}/bench}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) REPEATS=1 SECS=1 ;;
	--out) OUT=$2 && shift ;;
	--repeats) REPEATS=$2 && shift ;;
	--secs) SECS=$2 && shift ;;
	-h | --help)
		sed -n '3,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;/^set -u/d'
		exit 0
		;;
	*)
		echo "bench_vethmode: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
case "$REPEATS $SECS" in
*[!0-9\ ]* | 0\ * | *\ 0)
	echo "bench_vethmode: --repeats and --secs take whole numbers" >&2
	exit 2
	;;
esac

e2e_init dp
for c in iperf3 cc taskset; do
	command -v "$c" >/dev/null || skip "needs $c"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (sender and receiver pinned apart)"
START=$EPOCHREALTIME
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
T=$E2E_TMP
TB=$T/tbench
. "$(dirname "$0")/traffic/topology.sh"
WARM=0.3
FAILED=0
SETUPS="none tc xdp"

cc -O2 -Wall -o "$TB" "$E2E_REPO/tests/bench/traffic/tbench.c" || exit 1


traffic_topology || {
	echo "bench_vethmode: could not build the namespaces" >&2
	exit 1
}
mac_of() {
	ip -n "$1" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}
TXMAC=$(mac_of "$TXNS")
RXMAC=$(mac_of "$RXNS")

LIFE=600
bg ip netns exec "$RXNS" taskset -c 1 "$TB" tcp-acceptor 9002 $LIFE
bg ip netns exec "$RXNS" taskset -c 1 timeout $LIFE iperf3 -s -p 5201 \
	>"$T/iperf3-server.log" 2>&1
for port in 9002 5201; do
	wait_listen rx "$port" || exit 1
done

connects() {
	in_tx timeout 3 "$PY" -c '
import socket, sys
s = socket.socket()
s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)' "$RX" "$1" "${2:-1}"
}

# The datapath, loaded once; the endpoints and rules stay in its maps, the
# setups only attach and detach.
dp_load >/dev/null &&
	dp endpoint set h-tx --id 1 --identity 1001 --ip4 "$TX" --mac "$TXMAC" \
		--enforce egress &&
	dp endpoint set h-rx --id 2 --identity 1002 --ip4 "$RX" --mac "$RXMAC" \
		--enforce none &&
	dp ipcache set "$TX" --id 1001 &&
	dp ipcache set "$RX" --id 1002 &&
	dp policy add --ep 1 --dir egress --peer 1002 --proto udp --port 9000 \
		--rule 1 &&
	dp policy add --ep 1 --dir egress --peer 1002 --proto tcp --port 5201 \
		--rule 2 || {
	echo "bench_vethmode: podwall-dp setup failed" >&2
	exit 1
}

install() {
	case $1 in
	none) dp detach h-tx && dp detach h-rx ;;
	tc | xdp) dp attach h-tx --mode "$1" && dp attach h-rx --mode tc ;;
	esac
}

enforced() {
	connects 5201 || {
		log "$1: the allowed flow does not connect"
		return 1
	}
	case $1 in
	none)
		connects 9002 && [ "$(dp mode h-tx 2>/dev/null)" = none ] &&
			[ -z "$(in_node tc filter show dev h-tx ingress)" ]
		;;
	tc | xdp) ! connects 9002 0.3 && [ "$(dp mode h-tx 2>/dev/null)" = "$1" ] ;;
	esac || {
		log "$1: not as set up (podwall-dp mode h-tx: $(dp mode h-tx 2>/dev/null))"
		return 1
	}
	# native (xdp) or generic (xdpgeneric): what the veth gave
	[ "$1" != xdp ] || grep -q '^xdp attach' "$OUT/vethmode_env.txt" ||
		echo "xdp attach: $(in_node ip link show h-tx |
			grep -o 'xdp[a-z]*' | head -n 1)" >>"$OUT/vethmode_env.txt"
}

udp_pps() {
	local i v sink

	: >"$T/sink.out"
	in_rx taskset -c 1 "$TB" udp-sink 9000 "$SECS" "$WARM" \
		>"$T/sink.out" 2>"$T/sink.err" &
	sink=$!
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$T/sink.out" && break
		sleep 0.02
	done
	in_tx taskset -c 0 "$TB" udp-flood "$RX" 9000 \
		"$(calc "$SECS + $WARM + 0.3")" 64 2>>"$T/flood.err"
	wait "$sink"
	v=$(tail -n 1 "$T/sink.out")
	[ "$v" != ready ] && echo "$v"
}

tcp_gbps() {
	in_tx taskset -c 0 timeout 30 iperf3 -c "$RX" -p 5201 -J -t "$SECS" \
		>"$T/iperf3.json" 2>>"$T/iperf3.err" || return 1
	"$PY" -c 'import json, sys
print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' \
		"$T/iperf3.json"
}

denied_count() {
	dp counters --ep 1 --json | "$PY" -c 'import json, sys
print(json.load(sys.stdin)["drops"]["policy-denied"]["packets"])'
}

# cpu0: "busy softirq" jiffies of CPU 0 so far.
cpu0() {
	awk '$1 == "cpu0" { print $2 + $3 + $4 + $7 + $8, $8 }' /proc/stat
}

# flood: the denied flood for SECS after WARM; prints "drop_pps sent_pps
# cpu_ns softirq_ns".
flood() {
	local d0 d1 c0 c1 s0 s1 hz fl t0 t1

	hz=$(getconf CLK_TCK)
	in_tx taskset -c 0 "$TB" udp-flood "$RX" 9999 \
		"$(calc "$SECS + $WARM + 0.3")" 64 2>"$T/dflood.err" &
	fl=$!
	sleep "$WARM"
	d0=$(denied_count)
	read -r c0 s0 < <(cpu0)
	t0=$EPOCHREALTIME
	sleep "$SECS"
	read -r c1 s1 < <(cpu0)
	t1=$EPOCHREALTIME
	d1=$(denied_count)
	wait "$fl"
	[ -n "$d0" ] && [ -n "$d1" ] && [ "$d1" -gt "$d0" ] || return 1
	"$PY" -c 'import sys
d0, d1, c0, c1, s0, s1, hz, t0, t1 = map(float, sys.argv[1:10])
sent = float(open(sys.argv[10]).read().split()[2])
n = d1 - d0
print("%.0f %.0f %.0f %.0f" % (n / (t1 - t0), sent,
      (c1 - c0) / hz * 1e9 / n, (s1 - s0) / hz * 1e9 / n))' \
		"$d0" "$d1" "$c0" "$c1" "$s0" "$s1" "$hz" "$t0" "$t1" \
		"$T/dflood.err"
}

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel: $(uname -r)"
	echo "cpu: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
	echo "settings: repeats=$REPEATS secs=$SECS"
	echo "load at start: $(cat /proc/loadavg)"
} >"$OUT/vethmode_env.txt"

CSV=$OUT/vethmode.csv
echo "setup,metric,repeat,value" >"$CSV"
for ((r = 1; r <= REPEATS; r++)); do
	for s in $SETUPS; do
		if ! install "$s" >/dev/null 2>>"$T/dp.log" || ! enforced "$s"; then
			echo "bench_vethmode: $s: setup or check failed; left out" >&2
			FAILED=1
			continue
		fi
		line=
		for m in udp_pps tcp_gbps; do
			v=$($m) || v=
			[ -n "$v" ] && echo "$s,$m,$r,$v" >>"$CSV" || {
				echo "bench_vethmode: $s: $m gave no figure" >&2
				FAILED=1
			}
			line+=" $m=${v:-?}"
		done
		if [ "$s" != none ]; then
			if read -r dpps spps cns sns < <(flood); then
				{
					echo "$s,drop_pps,$r,$dpps"
					echo "$s,sent_pps,$r,$spps"
					echo "$s,cpu_ns,$r,$cns"
					echo "$s,softirq_ns,$r,$sns"
				} >>"$CSV"
				line+=" drop_pps=$dpps sent_pps=$spps cpu_ns=$cns softirq_ns=$sns"
			else
				echo "bench_vethmode: $s: the denied flood gave no figure" >&2
				FAILED=1
			fi
		fi
		enforced "$s" || {
			echo "bench_vethmode: $s: no longer as set up after the measurement" >&2
			FAILED=1
		}
		log "$(printf '%-5s rep=%s%s' "$s" "$r" "$line")"
	done
done
install none >/dev/null 2>&1

"$PY" - "$OUT" <<'EOF'
import csv, os, statistics, sys
out = sys.argv[1]
titles = [("udp_pps", "allowed UDP 64 B, packets/s received", "%.0f"),
          ("tcp_gbps", "allowed TCP, Gbit/s", "%.3f"),
          ("drop_pps", "denied flood: drops/s", "%.0f"),
          ("sent_pps", "denied flood: offered packets/s", "%.0f"),
          ("cpu_ns", "denied flood: CPU ns per drop (sender + datapath)",
           "%.0f"),
          ("softirq_ns", "denied flood: softirq ns per drop", "%.0f")]
data, rep = {}, {}
with open(os.path.join(out, "vethmode.csv")) as f:
    for r in csv.DictReader(f):
        data.setdefault((r["metric"], r["setup"]), []).append(
            float(r["value"]))
        rep[(r["metric"], r["setup"], r["repeat"])] = float(r["value"])


def paired(metric, s):
    v = [val / rep[(m, "tc", r)] for (m, ss, r), val in rep.items()
         if m == metric and ss == s and rep.get((m, "tc", r))]
    return statistics.median(v) if v else None


rows = []
md = ["| measure | none | tc | xdp | xdp / tc | paired |",
      "|---|---:|---:|---:|---:|---:|"]
for metric, title, fmt in titles:
    med = {s: statistics.median(data[(metric, s)])
           for s in ("none", "tc", "xdp") if (metric, s) in data}
    for s, v in sorted(med.items()):
        vals = data[(metric, s)]
        tc = med.get("tc")
        pr = paired(metric, s)
        rows.append([metric, s, len(vals), "%.6g" % v, "%.6g" % min(vals),
                     "%.6g" % max(vals), "%.6g" % tc if tc else "",
                     "%.3f" % (v / tc) if tc else "",
                     "%.3f" % pr if pr is not None else ""])
    cell = lambda s: fmt % med[s] if s in med else "-"
    ratio = ("%.2f" % (med["xdp"] / med["tc"])
             if "xdp" in med and med.get("tc") else "-")
    pr = paired(metric, "xdp")
    md.append("| %s | %s | %s | %s | %s | %s |" % (
        title, cell("none"), cell("tc"), cell("xdp"), ratio,
        "%.2f" % pr if pr is not None else "-"))
with open(os.path.join(out, "vethmode_summary.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["metric", "setup", "repeats", "median", "min", "max",
                "tc_median", "ratio_to_tc", "paired_ratio_to_tc"])
    w.writerows(rows)
with open(os.path.join(out, "vethmode_summary.md"), "w") as f:
    f.write("\n".join(md) + "\n")
print("\n".join(md))
EOF
echo "load at end: $(cat /proc/loadavg)" >>"$OUT/vethmode_env.txt"
log "bench_vethmode: $(calc "int($EPOCHREALTIME - $START)") s; CSV in $OUT"
[ "$FAILED" = 0 ] || exit 1
exit 0
