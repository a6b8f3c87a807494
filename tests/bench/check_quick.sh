#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The test suite's guard against benchmark rot: the quick mode must run
# through and write its report with plots. No figure is judged: speed on a
# shared 2-core machine is not a pass/fail matter.
set -u
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! BUILD=${BUILD:-build} bash tests/bench/run.sh --quick --out "$out" >&2; then
	echo "not ok - bench/quick-runs-through: a part failed ($(grep -v ',ok$' "$out/durations.csv" | tail -n +2 | tr '\n' ' '))"
	exit 1
fi
echo "ok - bench/quick-runs-through"
# the plots the issue asks for: ns per packet vs rules, programming time
# vs scale, and (with the traffic part) pps per setup
want=(pkt_rules.png programming.png)
[ -e tests/bench/bench_traffic.sh ] && want+=(pps.png)
missing=
for p in "${want[@]}"; do
	[ -s "$out/$p" ] || missing+=" $p"
done
if [ -s "$out/report.md" ] && [ -z "$missing" ]; then
	echo "ok - bench/quick-report-with-plots (${want[*]})"
else
	echo "not ok - bench/quick-report-with-plots: report.md $(wc -c <"$out/report.md" 2>/dev/null || echo missing) bytes; missing:$missing"
	exit 1
fi
