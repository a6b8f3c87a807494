#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs each fuzz target for a bounded time (FUZZ_SECONDS, default 60) from
# its seed corpus; new inputs go to a scratch folder, never into the repo.
# Prints "ok - fuzz/NAME" or "not ok - fuzz/NAME" with the crash input.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-60}
rc=0
for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work=$(mktemp -d)
	seeds=(tests/fuzz/corpus/"$name")
	[ "$name" = manifest ] && seeds+=(policy/examples policy/docker)
	secs=$SECONDS_EACH
	# the CNI and Docker inputs are small and shallow, and the control
	# socket's target runs a whole agent: half the time each
	case $name in cni | control | docker) secs=$(((SECONDS_EACH + 1) / 2)) ;; esac
	if "$bin" -max_total_time="$secs" -max_len=16384 \
		-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/" \
		-print_final_stats=1 "$work" "${seeds[@]}" >"$work/log" 2>&1; then
		echo "ok - fuzz/$name ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | awk '{print $2}') runs)"
	else
		echo "not ok - fuzz/$name"
		tail -40 "$work/log" >&2
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null >&2
		rc=1
	fi
	rm -rf "$work"
done
exit $rc
