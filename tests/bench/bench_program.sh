#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Policy programming and memory, with the real agent (podwalld) in a
# throwaway node namespace; iptables-restore and nft -f of the same rules
# in throwaway namespaces of their own. Nothing on the host is touched.
#
# For each scale N (pods = policies = N; gen_rules.py says what they are),
# or NxP (N pods, P policies: 10000x1000 is 10,000 endpoints on one node,
# each of its 10,000 veths made with its pod end in one pods namespace,
# about 10 s of `ip -batch`):
#   - a fresh agent, N veths whose pod ends (in a pods namespace) carry
#     the pods' addresses; `podwall apply -f pods.json` then
#     `podwall apply -f policies.json`: the full sync, timed by the CLI's
#     wall time (the agent answers once the maps are written), and checked
#     by `get endpoints` (every pod bound and enforced);
#   - the same rules by iptables-restore and by nft -f, each timed;
#   - memory: the agent's RSS and the memlock of every map it pinned
#     (bpftool map show pinned);
#   - incremental changes, REPS times each: one policy changed (policy 0
#     to a new port) and one pod added (its veth made first, not timed),
#     timed by bench_probe: the CLI's wall time, then the time from its
#     return until pw_from_pod, run with BPF_PROG_TEST_RUN on a SYN from
#     the pod, gives the new verdict (prober: test runs on the pinned
#     program, not map polling); and iptables-restore --noflush / nft -f
#     of the same single change.
#
# Writes OUT/program.csv and OUT/memory.csv. With PW_BENCH_PERF=1 it also
# profiles the agent (perf record -g) during the full sync and during the
# policy changes and the pod additions, and writes the top of each profile
# to OUT/perf-N-{sync,change,podadd}.txt: where the agent's time goes.
# PW_BENCH_REPS overrides the repetitions; PW_BENCH_AGENT_ARGS adds agent
# options (-v: a per-phase timing line for each reconcile in
# OUT/agent-N.log).
# usage: BUILD=DIR [PW_BENCH_PERF=1] bench_program.sh OUT_DIR [--quick]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build}
PY=/usr/bin/python3
OUT=${1:?usage: bench_program.sh OUT_DIR [--quick]}
QUICK=0
[ "${2:-}" = --quick ] && QUICK=1
if ((QUICK)); then
	SCALES="100 1000"
	REPS=3
else
	SCALES="100 1000 4000 10000x1000"
	REPS=10
fi
SCALES=${PW_BENCH_SCALES:-$SCALES} # e.g. "4000" alone
REPS=${PW_BENCH_REPS:-$REPS}
CLI=$BUILD/podwall
AGENT=$BUILD/podwalld
PROBE=$BUILD/bench/bench_probe
for f in "$CLI" "$AGENT" "$PROBE"; do
	[ -x "$f" ] || {
		echo "bench_program: no $f (make bench)" >&2
		exit 1
	}
done

T=$(mktemp -d /tmp/pwbench-prog.XXXXXX)
NODE=pwb-node-$$
PODS=pwb-pods-$$
IPT=pwb-ipt-$$
NFT=pwb-nft-$$
PIN=/sys/fs/bpf/pwbench-$$
APID=
PERF_PID=

# perf_start NAME / perf_stop NAME: profile the agent in between
perf_start() {
	[ "${PW_BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null || return 0
	perf record -q -F 999 --call-graph dwarf,16384 -p "$APID" -o "$T/perf-$1.data" \
		>/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.5 # perf attaches
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	PERF_PID=
	perf report -q -i "$T/perf-$1.data" --stdio --no-children \
		--sort symbol -g none --percent-limit 1.5 2>/dev/null |
		head -40 >"$OUT/perf-$1.txt"
	# and who calls the hottest user-space functions
	perf report -q -i "$T/perf-$1.data" --stdio --no-children \
		--sort symbol -g caller,0.5,callee,function,percent \
		--percent-limit 5 2>/dev/null | grep -v '^$' | head -80 \
		>>"$OUT/perf-$1.txt"
}

stop_agent() {
	if [ -n "$APID" ]; then
		kill "$APID" 2>/dev/null
		wait "$APID" 2>/dev/null
	fi
	APID=
}

cleanup() {
	[ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null
	stop_agent
	for n in "$NODE" "$PODS" "$IPT" "$NFT"; do
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$PIN" "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ms() { date +%s%3N; }
log() { echo "bench_program: $*" >&2; }
in_node() { nsenter --net="/run/netns/$NODE" "$@"; }
pw() { "$CLI" --socket "$T/pw.sock" "$@"; }

# timed_ms CMD...: the command's wall time in ms (it must succeed)
timed_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null || return 1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) | awk '{printf "%.1f", $1 / 1000}'
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2)}'; }

echo "tool,pods,policies,rules,op,ms" >"$OUT/program.csv"
echo "pods,policies,endpoints_bound,map_memlock_kib,agent_rss_kib,maps" \
	>"$OUT/memory.csv"

# local endpoints the agent reports enforced (egress)
bound() {
	pw get endpoints -o json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
eps = d if isinstance(d, list) else d.get("endpoints", [])
print(sum(1 for e in eps if e.get("local") and e.get("egress_enforced")))'
}

memlock_kib() {
	local f
	for f in "$PIN"/*; do
		bpftool -j map show pinned "$f" 2>/dev/null
		echo
	done | $PY -c '
import json, sys
tot = n = 0
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    m = json.loads(line)
    tot += int(m.get("bytes_memlock", 0)); n += 1
print("%d %d" % (tot // 1024, n))'
}

one_scale() {
	local n=${1%x*} p=${1#*x} d=$T/s$1 t i k got mem rss mac ms rules
	mkdir -p "$d"
	$PY "$HERE/gen_rules.py" "$d" "$n" "$p" 50 "$REPS" || return 1
	rules=$(grep -c '^-A' "$d/iptables.rules")

	ip netns add "$NODE" && ip netns add "$PODS" || return 1
	# no IPv6 autoconfiguration: a thousand link-local addresses coming
	# up (DAD) change the address table while the agent dumps it, and its
	# scan fails with EINTR (see the report)
	for i in "$NODE" "$PODS"; do
		ip netns exec "$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	sed "s/@PODS@/$PODS/" "$d/veth-node.batch" >"$d/node.batch"
	ip -n "$NODE" -batch "$d/node.batch" &&
		ip -n "$PODS" -batch "$d/veth-pods.batch" || return 1
	ip -n "$NODE" link set lo up
	mkdir -p "$d/state"
	# nsenter execs the agent: $! is the agent itself (RSS, kill)
	# every pod of an app carries the entries of the 1/50 of the
	# policies that select it: N * N / 50 entries (320k at N = 4000),
	# past the default --policy-max; an LPM trie takes memory per entry
	# held, not per entry allowed
	nsenter --net="/run/netns/$NODE" "$AGENT" --pin "$PIN" --state-dir "$d/state" \
		--socket "$T/pw.sock" --config /dev/null --flow-log none \
		--endpoints-max $((n + 64)) --policy-max 1048576 ${PW_BENCH_AGENT_ARGS:-} \
		2>"$d/agent.log" &
	APID=$!
	for ((i = 0; i < 100; i++)); do
		pw status >/dev/null 2>&1 && break
		sleep 0.1
	done
	pw status >/dev/null 2>&1 || {
		log "agent did not start: $(tail -3 "$d/agent.log")"
		return 1
	}

	# full sync: the pods, then the policies
	t=$(timed_ms pw apply -f "$d/pods.json") || return 1
	echo "podwall,$n,$p,,full-pods,$t" >>"$OUT/program.csv"
	perf_start "$1-sync"
	ms=$(timed_ms pw apply -f "$d/policies.json") || return 1
	perf_stop "$1-sync"
	echo "podwall,$n,$p,,full-policies,$ms" >>"$OUT/program.csv"
	echo "podwall,$n,$p,,full-sync,$(echo "$t $ms" | awk '{print $1 + $2}')" \
		>>"$OUT/program.csv"
	got=$(bound)
	log "N=$n: pods applied in $t ms, policies in $ms ms; $got bound"
	if [ "$got" != "$n" ]; then
		log "only $got of $n pods bound and enforced:" \
			"$(tail -3 "$d/agent.log")"
		return 1
	fi

	# memory, with every pod bound and every policy in
	read -r mem k < <(memlock_kib)
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$APID/status")
	echo "$n,$p,$got,$mem,$rss,$k" >>"$OUT/memory.csv"
	log "N=$n: maps $mem KiB memlock over $k maps, agent RSS $rss KiB"

	# incremental: policy 0 (pod0 has app a0) to a new port, towards
	# pod1 (app a1): denied before, allowed once enforced
	mac=$(ip -n "$PODS" -o link show p0 | sed 's/.*link\/ether \([^ ]*\).*/\1/')
	perf_start "$1-change"
	for ((k = 0; k < REPS; k++)); do
		in_node "$PROBE" "$PIN" h0 "$mac" 10.64.0.1 10.64.0.2 \
			$((20000 + k)) pass 5000 -- \
			"$CLI" --socket "$T/pw.sock" apply -f "$d/pol-change-$k.json" \
			>"$d/probe" || {
			log "policy change $k: probe failed"
			return 1
		}
		read -r t ms i <"$d/probe"
		echo "podwall,$n,$p,,policy-change-cli,$t" >>"$OUT/program.csv"
		echo "podwall,$n,$p,,policy-change-enforce,$ms" >>"$OUT/program.csv"
		echo "podwall,$n,$p,,policy-change-total,$(echo "$t $ms" | awk '{print $1 + $2}')" \
			>>"$OUT/program.csv"
	done
	perf_stop "$1-change"
	# a pod added (app a0: egress enforced): its veth is there, no
	# endpoint yet, so a SYN to a port nothing allows passes ("not
	# ours"); once enforced it drops
	perf_start "$1-podadd"
	for ((k = 0; k < REPS; k++)); do
		i=$((n + k))
		mac=$(ip -n "$PODS" -o link show "p$i" | sed 's/.*link\/ether \([^ ]*\).*/\1/')
		in_node "$PROBE" "$PIN" "h$i" "$mac" \
			"$($PY -B -c "import sys; sys.path.insert(0, '$HERE'); import gen_rules; print(gen_rules.ip($i))")" \
			10.64.0.2 1 drop 5000 -- \
			"$CLI" --socket "$T/pw.sock" apply -f "$d/pod-add-$k.json" \
			>"$d/probe" || {
			log "pod add $k: probe failed"
			return 1
		}
		read -r t ms i <"$d/probe"
		echo "podwall,$n,$p,,pod-add-cli,$t" >>"$OUT/program.csv"
		echo "podwall,$n,$p,,pod-add-enforce,$ms" >>"$OUT/program.csv"
		echo "podwall,$n,$p,,pod-add-total,$(echo "$t $ms" | awk '{print $1 + $2}')" \
			>>"$OUT/program.csv"
	done
	perf_stop "$1-podadd"
	stop_agent
	cp "$d/agent.log" "$OUT/agent-$1.log"
	ip netns del "$NODE"
	ip netns del "$PODS"
	rm -rf "$PIN"

	# the same rules, iptables and nftables, each in a namespace of its own
	ip netns add "$IPT" && ip netns add "$NFT" || return 1
	t=$(timed_ms ip netns exec "$IPT" iptables-restore "$d/iptables.rules") || {
		log "iptables-restore failed"
		return 1
	}
	echo "iptables,$n,$p,$rules,full-sync,$t" >>"$OUT/program.csv"
	t=$(timed_ms ip netns exec "$NFT" nft -f "$d/nft.rules") || {
		log "nft -f failed"
		return 1
	}
	echo "nftables,$n,$p,$(grep -c 'accept\|jump\|drop' "$d/nft.rules"),full-sync,$t" \
		>>"$OUT/program.csv"
	for ((k = 0; k < REPS; k++)); do
		t=$(timed_ms ip netns exec "$IPT" iptables-restore --noflush \
			"$d/iptables-pol.rules") || return 1
		echo "iptables,$n,$p,$rules,policy-change-total,$t" >>"$OUT/program.csv"
		t=$(timed_ms ip netns exec "$NFT" nft -f "$d/nft-pol.rules") || return 1
		echo "nftables,$n,$p,,policy-change-total,$t" >>"$OUT/program.csv"
	done
	# one pod added, once each (the same pod twice would be a duplicate)
	t=$(timed_ms ip netns exec "$IPT" iptables-restore --noflush \
		"$d/iptables-pod.rules") || return 1
	echo "iptables,$n,$p,$rules,pod-add-total,$t" >>"$OUT/program.csv"
	t=$(timed_ms ip netns exec "$NFT" nft -f "$d/nft-pod.rules") || return 1
	echo "nftables,$n,$p,,pod-add-total,$t" >>"$OUT/program.csv"
	ip netns exec "$IPT" iptables -S | grep -c '^-A' >"$d/ipt.count"
	log "N=$n: iptables $(cat "$d/ipt.count") rules loaded"
	ip netns del "$IPT"
	ip netns del "$NFT"
	rm -rf "$d"
	return 0
}

for s in $SCALES; do
	one_scale "$s" || {
		log "scale $s failed"
		exit 1
	}
done
exit 0
