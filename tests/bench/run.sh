#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The benchmarks of issue 8 in one run: each part writes CSV files (with a
# header line) into OUT, then report.sh turns every CSV there into
# OUT/report.md with tables and PNG plots.
#
#   bench_pkt          per-packet cost with BPF_PROG_TEST_RUN against a
#                      no-op program (pkt*.csv)
#   bench_program.sh   policy programming against iptables-restore and
#                      nft -f, and memory (program.csv, memory.csv)
#   bench_compile      the compiler and sync alone, in-process (compile.md)
#   bench_traffic.sh   real traffic (traffic_*.csv), if present
#   bench_vethmode.sh  the from-pod path, TC against XDP (vethmode*.csv)
#   bench_k8s.sh       Kubernetes mode: sync time, memory, events/s with a
#                      simulated API server (k8s_scale.csv)
#   bench_flowlog      the flow-log pipeline (flowlog.md), full mode only
#
# Numbers, never pass/fail: a part that fails is named on stderr and in
# OUT/durations.csv, the others still run, and the exit status is 1.
# Every part cleans up after itself (namespaces, pins, processes).
#
# usage: [BUILD=build] tests/bench/run.sh [--quick] [--out DIR]
#   --quick: small sweeps and few repeats, under 3 minutes (CI)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
# absolute: some parts run from another folder
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || {
	echo "run.sh: no build folder ${BUILD}: run make first" >&2
	exit 1
}
OUT=bench-out
QUICK=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out)
		OUT=${2:?--out DIR}
		shift
		;;
	*)
		echo "usage: run.sh [--quick] [--out DIR]" >&2
		exit 2
		;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || {
	echo "run.sh: run as root (BPF, namespaces)" >&2
	exit 1
}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT"/*.csv "$OUT"/*.png "$OUT"/*.md "$OUT/profile" "$OUT/plots"

CHILD=
FAILED=0
trap '[ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null; wait; exit 1' INT TERM

echo "part,mode,seconds,status" >"$OUT/durations.csv"

# part NAME CMD...: runs CMD in the background (so a signal reaches it
# through our trap), times it, records how it went
part() {
	local name=$1 t0 t1 st
	shift
	echo "run.sh: $name ..." >&2
	t0=$(date +%s.%N)
	"$@" &
	CHILD=$!
	wait "$CHILD"
	st=$?
	CHILD=
	t1=$(date +%s.%N)
	echo "$name,$([ $QUICK = 1 ] && echo quick || echo full),$(echo "$t1 - $t0" | bc | awk '{printf "%.1f", $1}'),$([ $st = 0 ] && echo ok || echo "failed ($st)")" \
		>>"$OUT/durations.csv"
	if [ $st != 0 ]; then
		echo "run.sh: $name failed ($st)" >&2
		FAILED=1
	fi
}

# the machine, for the report
{
	echo "key,value"
	echo "date,$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel,$(uname -r)"
	echo "cpu,\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\""
	echo "cores,$(nproc)"
	echo "commit,$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null)$(git -C "$HERE" diff --quiet HEAD 2>/dev/null || echo '+dirty')"
	echo "mode,$([ $QUICK = 1 ] && echo quick || echo full)"
	if bpftool prog profile help 2>&1 | grep -qi 'not supported'; then
		echo "bpftool_profile,no"
	else
		echo "bpftool_profile,yes"
	fi
} >"$OUT/env.csv"

if ((QUICK)); then
	PKT_ARGS=(--rules 10,1000,100000 --ids 100 --flows 4096 --rounds 3
		--hot 20000)
else
	PKT_ARGS=(--cross --flows 30000 --rounds 5 --hot 100000)
fi
part bench_pkt "$BUILD/bench/bench_pkt" "$BUILD/bench/noop.bpf.o" "$OUT" \
	"${PKT_ARGS[@]}"
part bench_program env BUILD="$BUILD" bash "$HERE/bench_program.sh" "$OUT" \
	$([ $QUICK = 1 ] && echo --quick)
# where the agent's programming time goes: perf on the agent, in a pass
# of its own so the profiler never weighs on the timed figures
if ((!QUICK)) && command -v perf >/dev/null; then
	mkdir -p "$OUT/profile"
	part bench_program_profile env BUILD="$BUILD" PW_BENCH_PERF=1 \
		bash "$HERE/bench_program.sh" "$OUT/profile" --quick
fi
part bench_compile sh -c "cd / && '$BUILD/bench/bench_compile' 1000 50 1000 \
	$([ $QUICK = 1 ] && echo 3 || echo 9) >'$OUT/compile.md'"
if [ -f "$HERE/bench_traffic.sh" ]; then
	part bench_traffic env BUILD="$BUILD" bash "$HERE/bench_traffic.sh" \
		--out "$OUT" $([ $QUICK = 1 ] && echo --quick)
fi
# the from-pod path: TC against XDP veth mode, allowed and a denied flood
part bench_vethmode env BUILD="$BUILD" bash "$HERE/bench_vethmode.sh" \
	--out "$OUT" $([ $QUICK = 1 ] && echo --quick)
# Kubernetes mode at cluster size: a simulated API server's list and
# watch stream of remote pods (150,000 in full mode)
part bench_k8s env BUILD="$BUILD" bash "$HERE/bench_k8s.sh" --out "$OUT" \
	$([ $QUICK = 1 ] && echo --quick)
if ((!QUICK)) && [ -x "$BUILD/bench/bench_flowlog" ]; then
	part bench_flowlog sh -c "cd / && '$BUILD/bench/bench_flowlog' \
		>'$OUT/flowlog.md'"
fi
part report bash "$HERE/report.sh" "$OUT"
echo "run.sh: report in $OUT/report.md" >&2
exit $FAILED
