#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the whole suite: userspace unit tests, BPF unit tests (both also
# under ASan+UBSan) and the end-to-end tests. Each test prints "ok - NAME"
# or "not ok - NAME"; this script counts them and ends with the line
# "N passed, N failed", exiting non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
passed=0
failed=0
skipped=0

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: run as root (BPF, namespaces)" >&2
	exit 2
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# run_suite NAME CMD...: runs CMD, counts its ok/not ok lines.
run_suite() {
	local name=$1 out rc p f
	shift
	out=$(mktemp)
	echo "# $name"
	timeout --kill-after=10 "$SUITE_TIMEOUT" "$@" >"$out" 2> >(sed 's/^/#   /' >&2)
	rc=$?
	cat "$out"
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	if [ "$rc" -eq 77 ] && [ "$f" -eq 0 ]; then
		skipped=$((skipped + 1))
		echo "# $name: skipped"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited with status $rc"
		f=1
	elif [ "$rc" -eq 0 ] && [ "$p" -eq 0 ]; then
		echo "not ok - $name: ran no test"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_suite unit/lib "$BUILD/tests/test_lib"
run_suite unit/lib-asan "$BUILD/asan/tests/test_lib"
run_suite unit/bpf "$BUILD/tests/test_bpf"
run_suite unit/bpf-asan "$BUILD/asan/tests/test_bpf"
run_suite fuzz env BUILD="$BUILD" tests/fuzz/run.sh
for t in tests/e2e/test_*.sh; do
	[ -e "$t" ] || continue
	run_suite "e2e/$(basename "$t" .sh)" env BUILD="$BUILD" bash "$t"
done

# the benchmarks' quick mode, so that they do not rot (no figure judged)
run_suite bench/quick env BUILD="$BUILD" bash tests/bench/check_quick.sh

echo
[ "$skipped" -gt 0 ] && echo "# $skipped suites skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
