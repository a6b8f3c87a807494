#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Real traffic through veths between network namespaces, under each
# firewall a user might pick, at the same rule counts (issue 8, item 2).
#
#   tx netns (10.99.1.2) --veth-- node netns --veth-- rx netns (10.99.2.2)
#                          h-tx   (routes)   h-rx
#
# The node namespace routes between the two pods. Every firewall sits
# where it would on a node: podwall (the real podwalld, pods bound by
# address from a manifest folder) on TC of the host-side veths; iptables
# and nftables in the node's FORWARD path; xdp-filter and the pass-all XDP
# programs on h-tx, where the pod's traffic enters the node.
#
# Setups (the rules come from tests/bench/traffic/rules.py, the same N for
# each: N - 1 decoys, then the rule that allows the benchmark flows):
#   none            no firewall
#   podwall         podwalld, NetworkPolicies with N ingress rules on rx
#                   (1000 per policy; podwall takes 2048 at most)
#   iptables        FORWARD policy DROP, conntrack ESTABLISHED,RELATED
#                   accept first (Docker's layout), then the N rules
#   iptables-nocd   the same list without the conntrack shortcut: every
#                   packet walks it (kube-router-style stateless lists)
#   nftables        ct established accept, then one rule with an N-element
#                   set (as kube-network-policies keeps its sets)
#   xdp-filter      Debian's xdp-tools, N source addresses on its
#                   deny-list (it cannot express "this source to that
#                   port" allow-lists: see rules.py)
#   xdp-pass        a pass-all XDP program on h-tx: the cost of the veth's
#                   XDP path itself (each skb is copied into a page-pool
#                   page); rule-independent, so measured in the first
#                   rule-count block only (its rows carry that count)
#   xdp-pass-frags  the same program declaring multi-buffer support
#                   (xdp.frags); on 6.18 it costs the same
#
# Measurements, sender pinned to CPU 0 and receiver to CPU 1, counted at
# the receiver:
#   udp_pps    64-byte UDP payloads, packets/s received (tbench.c:
#              sendmmsg flood, recvmmsg sink)
#   tcp_gbps   iperf3 TCP throughput (receiver's figure)
#   conn_rate  TCP connect, wait for the server's FIN, close; per second
#
# Order: for each rule count, for each repeat, every setup in turn (so the
# setups interleave and each repeat has its own "none"). Ratios are against
# "none" at the same rule count from the same run. podwalld starts once per
# rule count (compiling 10k ipBlock rules takes it about a minute here) and
# stays up; between its turns it is stopped (SIGSTOP: it would otherwise
# see its filters go and put them back) and its programs are detached from
# the veths (podwall-dp detach), then attached again (podwall-dp attach:
# the same pinned programs and maps the agent filled) and it goes on. Every turn of every setup is
# checked before and after it is measured: the benchmark flow connects, a
# flow outside the rules does not, no TC filter is left when it should not
# be.
#
# Writes into OUT (--out DIR or $OUT, default $BUILD/bench): traffic_udp_pps.csv,
# traffic_tcp_gbps.csv, traffic_conn_rate.csv (setup,rules,repeat,value),
# traffic_summary.csv (metric,setup,rules,repeats,median,min,max,
# none_median,ratio: median over none's median, paired_ratio: the median
# of each repeat against that repeat's none), traffic_summary.md (the same
# as Markdown, also printed on stdout) and traffic_env.txt (machine, tool
# versions, load before and after: other work on a shared machine moves
# these figures).
# A setup whose enforcement check fails is reported on stderr, left out,
# and the script exits 1 at the end.
#
# --quick: 1000 rules only, 1 repeat (40 s here). The full run takes about
# 7 minutes here, 1 to 2 of them podwalld compiling 10k ipBlock rules (a
# compiler bug, see issue 8's notes; about 5 minutes without it).
# Measurement windows are --secs (default 1) long.
#
# usage: [BUILD=build] [OUT=DIR] tests/bench/bench_traffic.sh [--quick]
#        [--out DIR] [--rules "10 1000 10000"] [--repeats N] [--secs S]
#        [--setups "none podwall ..."]
# Needs root, iperf3, cc, taskset, iptables, nft; clang for the xdp-pass
# setups and xdp-tools for xdp-filter (each skipped with a note if absent).
set -u
. "$(dirname "$0")/../e2e/lib.sh"

RULES="10 1000 10000"
REPEATS=3
SECS=1
OUT=${OUT:-${DP%/podwall-dp}/bench}
SETUPS="none podwall iptables iptables-nocd nftables xdp-filter xdp-pass xdp-pass-frags"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) RULES=1000 REPEATS=1 ;;
	--out) OUT=$2 && shift ;;
	--rules) RULES=$2 && shift ;;
	--repeats) REPEATS=$2 && shift ;;
	--secs) SECS=$2 && shift ;;
	--setups) SETUPS=$2 && shift ;;
	-h | --help)
		sed -n '3,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;/^set -u/d'
		exit 0
		;;
	*)
		echo "bench_traffic: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
case "$REPEATS $SECS" in
*[!0-9.\ ]* | .* | *' '.*)
	echo "bench_traffic: --repeats and --secs take numbers" >&2
	exit 2
	;;
esac

e2e_init agent
for c in iperf3 cc taskset iptables-restore nft; do
	command -v "$c" >/dev/null || skip "needs $c"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (sender and receiver pinned apart)"
START=$EPOCHREALTIME
TRAFFIC=$E2E_REPO/tests/bench/traffic
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
T=$E2E_TMP
TB=$T/tbench
. "$(dirname "$0")/traffic/topology.sh"
WARM=0.3
FAILED=0
XDPF_OURS=0
PW_FAILED_N=

# Beyond lib.sh's cleanup: xdp-filter pins its programs and maps in the
# global bpffs, where they outlive the namespace.
bench_cleanup() {
	local rc=$?

	if [ "$XDPF_OURS" = 1 ]; then
		in_node xdp-filter unload h-tx >/dev/null 2>&1
		[ -d /sys/fs/bpf/xdp-filter/programs/h-tx ] &&
			log "cleanup: xdp-filter state left in /sys/fs/bpf/xdp-filter"
	fi
	(exit "$rc")
	e2e_cleanup
}
trap bench_cleanup EXIT

cc -O2 -Wall -o "$TB" "$TRAFFIC/tbench.c" || exit 1
XDP_OBJ=
if command -v clang >/dev/null &&
	clang -O2 -target bpf -c "$TRAFFIC/xdp_pass.bpf.c" -o "$T/xdp_pass.o"; then
	XDP_OBJ=$T/xdp_pass.o
fi

# ------------------------------------------------------------- topology

topology() {
	traffic_topology || return 1
	# A second source address on tx, one of the decoy rules' (10.200.0.1):
	# the xdp-filter check sends from it.
	ip -n "$TXNS" addr add 10.200.0.1/32 dev eth0 &&
		ip -n "$NODE" route add 10.200.0.1/32 via "$TX" || return 1
	# Many short connections: a wide port range, TIME_WAIT reuse.
	in_tx sysctl -qw net.ipv4.ip_local_port_range="1024 65000" \
		net.ipv4.tcp_tw_reuse=1
}

topology || {
	echo "bench_traffic: could not build the namespaces" >&2
	exit 1
}

# Long-lived receivers on CPU 1, bounded in time: the connection-rate
# server (9001), a second acceptor for the enforcement checks (9002),
# iperf3's server (5201).
LIFE=1800
bg ip netns exec "$RXNS" taskset -c 1 "$TB" tcp-acceptor 9001 $LIFE
bg ip netns exec "$RXNS" taskset -c 1 "$TB" tcp-acceptor 9002 $LIFE
bg ip netns exec "$RXNS" taskset -c 1 timeout $LIFE iperf3 -s -p 5201 \
	>"$T/iperf3-server.log" 2>&1
for port in 9001 9002 5201; do
	wait_listen rx "$port" || exit 1
done

# connects FROM_ADDR PORT [TIMEOUT]: a TCP connection to rx gets through
# within TIMEOUT seconds (default 1). The probes that must fail use 0.3 s:
# an allowed connect here takes well under a millisecond.
connects() {
	in_tx timeout 3 "$PY" -c '
import socket, sys
s = socket.socket()
s.settimeout(float(sys.argv[4]))
s.bind((sys.argv[1], 0))
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
except OSError:
    sys.exit(1)' "$1" "$RX" "$2" "${3:-1}"
}

# The baseline: with no firewall every probe gets through, so a "denied"
# below means a firewall said no.
for probe in "$TX 9001" "$TX 9002" "10.200.0.1 9001"; do
	# shellcheck disable=SC2086
	connects $probe || {
		echo "bench_traffic: no firewall, yet $probe does not connect" >&2
		exit 1
	}
done

# ------------------------------------------------------------- setups

XDPF_MAP=/sys/fs/bpf/xdp-filter/filter_ipv4

agent_up() {
	local end

	: >"$T/agent.log"
	E2E_PIN_LOADED=1
	bg nsenter --net="/run/netns/$NODE" "$AGENT" --pin "$PIN" \
		--state-dir "$T/state-$n" --socket "$T/pw.sock" --config /dev/null \
		--manifests "$RULEDIR/manifests" --flow-log "$T/flows" \
		2>>"$T/agent.log"
	AGENT_PID=$E2E_LASTPID
	# bound: 150 s. 10k ipBlock rules take podwalld one to two minutes to
	# compile on this loaded 2-core VM (cubic id allocation in the
	# compiler, see the report of issue 8); 1k take 0.2 s.
	end=$((SECONDS + 150))

	while [ "$SECONDS" -lt "$end" ]; do
		grep -q '2 pods, 2 here\|apply objects:' "$T/agent.log" && break
		e2e_running "$AGENT_PID" || break
		sleep 0.1
	done
	if grep -q 'apply objects:' "$T/agent.log" ||
		! grep -q '2 pods, 2 here' "$T/agent.log"; then
		log "podwalld did not take the rules or bind the pods; its log:"
		tail -n 20 "$T/agent.log" | sed 's/^/#   /' >&2
		agent_down
		PW_FAILED_N=$n
		return 1
	fi
	log "podwalld at $n rules: $(grep '2 pods, 2 here' "$T/agent.log" | head -n 1)"
}

agent_down() {
	kill -CONT "$AGENT_PID" 2>/dev/null # a stopped process keeps a TERM
	agent_stop TERM
	in_node "$AGENT" --uninstall --pin "$PIN" --state-dir "$T/state-$n" \
		--socket "$T/pw.sock" --config /dev/null 2>>"$T/agent.log"
}

# install SETUP: put the firewall in place with $RULEDIR's rules.
install() {
	case $1 in
	none) ;;
	podwall)
		if [ "$PW_FAILED_N" = "$n" ]; then
			return 1 # do not wait for it again
		elif [ -z "$AGENT_PID" ]; then
			agent_up
		else
			{ dp attach h-tx && dp attach h-rx; } >/dev/null 2>>"$T/dp.log" &&
				kill -CONT "$AGENT_PID"
		fi
		;;
	iptables) in_node iptables-restore <"$RULEDIR/iptables-ct.rules" ;;
	iptables-nocd) in_node iptables-restore <"$RULEDIR/iptables-nocd.rules" ;;
	nftables) in_node nft -f "$RULEDIR/nft.rules" ;;
	xdp-filter)
		XDPF_OURS=1
		in_node xdp-filter load -f ipv4 h-tx &&
			sed "s|MAP|$XDPF_MAP|" "$RULEDIR/xdp-filter.batch" \
				>"$T/xdpf.batch" &&
			bpftool batch file "$T/xdpf.batch" >/dev/null
		;;
	xdp-pass) ip -n "$NODE" link set dev h-tx xdpdrv obj "$XDP_OBJ" sec xdp ;;
	xdp-pass-frags)
		ip -n "$NODE" link set dev h-tx xdpdrv obj "$XDP_OBJ" sec xdp.frags
		;;
	esac
}

uninstall() {
	case $1 in
	none) ;;
	podwall)
		{ [ -z "$AGENT_PID" ] || kill -STOP "$AGENT_PID"; } &&
			dp detach h-tx >/dev/null && dp detach h-rx >/dev/null
		;;
	iptables | iptables-nocd)
		in_node iptables -F FORWARD && in_node iptables -P FORWARD ACCEPT
		;;
	nftables) in_node nft delete table inet pwbench ;;
	xdp-filter) in_node xdp-filter unload h-tx && XDPF_OURS=0 ;;
	xdp-pass | xdp-pass-frags) ip -n "$NODE" link set dev h-tx xdp off ;;
	esac
}

# enforced SETUP: the firewall is in place and decides. The benchmark flow
# connects; a flow outside the rules does not (TCP 9002 for the allow-list
# firewalls, the deny-listed source 10.200.0.1 for xdp-filter); the XDP
# programs are attached.
enforced() {
	connects "$TX" 9001 || {
		log "$1: the benchmark flow does not connect"
		return 1
	}
	# podwall's filters are off unless measured (the agent stays up)
	if [ "$1" != podwall ] &&
		[ -n "$(in_node tc filter show dev h-tx ingress)$(in_node tc filter show dev h-rx egress)" ]; then
		log "$1: a TC filter is still on the veths"
		return 1
	fi
	case $1 in
	none) connects "$TX" 9002 ;;
	podwall | iptables | iptables-nocd | nftables) ! connects "$TX" 9002 0.3 ;;
	xdp-filter) ! connects 10.200.0.1 9001 0.3 ;;
	xdp-pass | xdp-pass-frags)
		ip -n "$NODE" -d link show h-tx | grep -q 'prog/xdp'
		;;
	esac || {
		log "$1: not enforced as set up"
		return 1
	}
}

# ------------------------------------------------------------- measures

# udp_pps: the sink on CPU 1 counts for SECS after WARM; the flood on CPU 0
# runs a little longer than that.
udp_pps() {
	local i v

	: >"$T/sink.out"
	in_rx taskset -c 1 "$TB" udp-sink 9000 "$SECS" "$WARM" \
		>"$T/sink.out" 2>"$T/sink.err" &
	local sink=$!
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
	# iperf3 takes whole seconds: SECS rounded up
	in_tx taskset -c 0 timeout 30 iperf3 -c "$RX" -p 5201 -J \
		-t "$(calc "int($SECS + 0.999)")" \
		>"$T/iperf3.json" 2>>"$T/iperf3.err" || return 1
	"$PY" -c 'import json, sys
print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' \
		"$T/iperf3.json"
}

# conn_rate: failed connections (SYN or FIN lost: 1 s timeouts) are
# reported on stderr.
conn_rate() {
	local rc

	in_tx taskset -c 0 timeout 30 "$TB" tcp-connector "$RX" 9001 "$SECS" \
		"$WARM" 2>"$T/conn.err"
	rc=$?
	[ -s "$T/conn.err" ] && log "$s at $n rules: $(cat "$T/conn.err")"
	return $rc
}

# ------------------------------------------------------------- runs

# What the figures depend on, and what else ran beside them.
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel: $(uname -r)"
	echo "cpu: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
	echo "iptables: $(iptables -V 2>&1)"
	echo "nft: $(nft -v 2>&1)"
	echo "iperf3: $(iperf3 -v 2>&1 | head -n 1)"
	echo "settings: rules=$RULES repeats=$REPEATS secs=$SECS setups=$SETUPS"
	echo "load at start: $(cat /proc/loadavg)"
	echo "busiest processes at start:"
	ps -eo pcpu,etime,comm --sort=-pcpu | head -n 4
} >"$OUT/traffic_env.txt"

METRICS="udp_pps tcp_gbps conn_rate"
declare -A CSV=([udp_pps]=traffic_udp_pps.csv [tcp_gbps]=traffic_tcp_gbps.csv
	[conn_rate]=traffic_conn_rate.csv)
for m in $METRICS; do
	echo "setup,rules,repeat,value" >"$OUT/${CSV[$m]}"
done

# available SETUP: its tools are here (else a note, once).
declare -A NOTED=()
available() {
	local why=

	case $1 in
	xdp-filter)
		command -v xdp-filter >/dev/null || why="no xdp-filter (xdp-tools)"
		command -v bpftool >/dev/null || why="no bpftool"
		# its maps are global: never mix our rules into another user's
		[ -z "$why" ] && [ "$XDPF_OURS" = 0 ] &&
			[ -e /sys/fs/bpf/xdp-filter ] &&
			why="xdp-filter is in use elsewhere on this machine"
		;;
	xdp-pass | xdp-pass-frags) [ -n "$XDP_OBJ" ] || why="no clang" ;;
	esac
	[ -z "$why" ] && return 0
	[ -n "${NOTED[$1]:-}" ] || log "skipping $1: $why"
	NOTED[$1]=1
	return 1
}

first=1
for n in $RULES; do
	RULEDIR=$T/rules-$n
	"$PY" "$TRAFFIC/rules.py" "$n" "$RULEDIR" "$TX" "$RX" || exit 1
	mkdir -p "$RULEDIR/manifests" &&
		mv "$RULEDIR/podwall.json" "$RULEDIR/manifests/" || exit 1
	for ((r = 1; r <= REPEATS; r++)); do
		for s in $SETUPS; do
			case $s in
			xdp-pass*) [ "$first" = 1 ] || continue ;;
			esac
			available "$s" || continue
			t0=$EPOCHREALTIME
			if ! install "$s" || ! enforced "$s"; then
				echo "bench_traffic: $s at $n rules: setup or check failed; left out" >&2
				FAILED=1
				uninstall "$s" 2>/dev/null
				continue
			fi
			t1=$EPOCHREALTIME
			vals=()
			for m in $METRICS; do
				v=$($m) || v=
				[ -n "$v" ] || {
					echo "bench_traffic: $s at $n rules: $m gave no figure" >&2
					FAILED=1
				}
				vals+=("$m=${v:-?}")
				[ -n "$v" ] && echo "$s,$n,$r,$v" >>"$OUT/${CSV[$m]}"
			done
			# still enforcing after the load (e.g. the agent alive)
			enforced "$s" || {
				echo "bench_traffic: $s at $n rules: no longer enforced after the measurement" >&2
				FAILED=1
			}
			uninstall "$s" || {
				echo "bench_traffic: could not remove $s" >&2
				exit 1
			}
			log "$(printf '%-15s rules=%-5s rep=%s setup=%.1fs %s' "$s" \
				"$n" "$r" "$(calc "$t1 - $t0")" "${vals[*]}")"
		done
	done
	[ -n "$AGENT_PID" ] && agent_down
	first=0
done

# ------------------------------------------------------------- summary

"$PY" - "$OUT" <<'EOF'
import csv, os, statistics, sys
out = sys.argv[1]
files = [("udp_pps", "traffic_udp_pps.csv", "UDP 64 B, pps"),
         ("tcp_gbps", "traffic_tcp_gbps.csv", "TCP, Gbit/s"),
         ("conn_rate", "traffic_conn_rate.csv", "TCP connections/s")]
order = ["none", "podwall", "iptables", "iptables-nocd", "nftables",
         "xdp-filter", "xdp-pass", "xdp-pass-frags"]
rows, md = [], []
for metric, fn, title in files:
    data, rep = {}, {}
    with open(os.path.join(out, fn)) as f:
        for r in csv.DictReader(f):
            data.setdefault((r["setup"], int(r["rules"])), []).append(
                float(r["value"]))
            rep[(r["setup"], int(r["rules"]), r["repeat"])] = float(
                r["value"])
    none = {k[1]: statistics.median(v) for k, v in data.items()
            if k[0] == "none"}
    md += ["", "### " + title, "",
           "| setup | rules | median | min | max | ratio to none "
           "| paired ratio |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for (s, n), v in sorted(data.items(),
                            key=lambda kv: (kv[0][1],
                                            order.index(kv[0][0])
                                            if kv[0][0] in order else 99)):
        med = statistics.median(v)
        base = none.get(n)
        ratio = med / base if base else float("nan")
        # each repeat against the none of the same repeat and block (the
        # load of a shared machine drifts between repeats)
        pairs = [val / rep[("none", n, r)]
                 for (ss, nn, r), val in rep.items()
                 if ss == s and nn == n and rep.get(("none", n, r))]
        paired = statistics.median(pairs) if pairs else float("nan")
        fmt = "%.3f" if metric == "tcp_gbps" else "%.0f"
        rows.append([metric, s, n, len(v), "%.6g" % med, "%.6g" % min(v),
                     "%.6g" % max(v), "%.6g" % base if base else "",
                     "%.3f" % ratio, "%.3f" % paired])
        md.append("| %s | %s | %s | %s | %s | %.2f | %.2f |" % (
            s, n, fmt % med, fmt % min(v), fmt % max(v),
            ratio, paired))
with open(os.path.join(out, "traffic_summary.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["metric", "setup", "rules", "repeats", "median", "min",
                "max", "none_median", "ratio", "paired_ratio"])
    w.writerows(rows)
with open(os.path.join(out, "traffic_summary.md"), "w") as f:
    f.write("\n".join(md[1:]) + "\n")
print("\n".join(md[1:]))
EOF
echo "load at end: $(cat /proc/loadavg)" >>"$OUT/traffic_env.txt"
log "bench_traffic: $(calc "int($EPOCHREALTIME - $START)") s; CSV files in $OUT"
[ "$FAILED" = 0 ] || exit 1
exit 0
