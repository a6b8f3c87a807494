# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Shared by tests/e2e/test_*.sh (source it from bash).
#
# Each test builds its own topology with names unique to the run:
#   node netns  pwe2e-<id>-node: bridge br0 and the host-side veths h-A, h-B,
#                                h-C (podwall attaches here)
#   pod netns   pwe2e-<id>-A/B/C: eth0 = 10.123.0.2/.3/.4/24 and
#                                 fd00:123::2/.3/.4/64
# The root namespace's links, routes and firewall are never touched (dockerd
# may run there with iptables FORWARD DROP): veths are created directly in
# the node and pod namespaces.
#
# Output contract: stdout carries only "ok - e2e/NAME" and
# "not ok - e2e/NAME: MSG" lines; diagnostics go to stderr. A test exits
# non-zero if anything failed, 77 (after a "# skip:" line on stderr) when a
# prerequisite is missing. Everything the test made (namespaces and with
# them every link, pin folder, background process, temporary files) is
# removed on exit, Ctrl-C or SIGTERM, whatever state it failed in.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_REPO=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) DP=$BUILD/podwall-dp ;;
*) DP=$E2E_REPO/$BUILD/podwall-dp ;;
esac
PY=/usr/bin/python3
PROBE=("$PY" "$E2E_REPO/scripts/lib/probe.py")

# A unique suffix per run: our pid (for the stale-leftover reaper) and a
# random part.
E2E_ID=$$-$RANDOM
E2E_NS_PREFIX=pwe2e-$E2E_ID-
PW_PREFIX=$E2E_NS_PREFIX
. "$E2E_REPO/scripts/lib/netns.sh"
NODE=$PW_NODE
PIN=/sys/fs/bpf/podwall-e2e-$E2E_ID
E2E_TMP=
E2E_NS=()     # every namespace we created, node last
E2E_PIDS=()   # every background process we started
E2E_PIN_LOADED=0
E2E_FAILS=0
E2E_LASTPID=
E2E_EVPID=

# Pods: name -> addresses. The MAC is read after creation.
declare -A POD_IP4=([A]=10.123.0.2 [B]=10.123.0.3 [C]=10.123.0.4)
declare -A POD_IP6=([A]=fd00:123::2 [B]=fd00:123::3 [C]=fd00:123::4)
declare -A POD_MAC=()

log() { echo "# $*" >&2; }

ok() { echo "ok - e2e/$1"; }

not_ok() {
	echo "not ok - e2e/$1: $2"
	E2E_FAILS=$((E2E_FAILS + 1))
}

# check NAME MSG CMD...: ok if CMD succeeds, else not ok with MSG.
check() {
	local name=$1 msg=$2

	shift 2
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "$msg"
	fi
}

# status NAME RC MSG: ok if RC is 0, else not ok with MSG (on one line).
status() {
	if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1" "${3//$'\n'/ | }"; fi
}

skip() {
	echo "# skip: $*" >&2
	exit 77
}

# e2e_require [dp] [agent] [scapy]: skip unless every prerequisite is
# present.
e2e_require() {
	local c w

	[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, BPF)"
	for c in ip nsenter ping timeout; do
		command -v "$c" >/dev/null || skip "needs $c"
	done
	[ -x "$PY" ] || skip "needs $PY"
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf ||
		skip "no bpffs at /sys/fs/bpf"
	for w in "$@"; do
		case $w in
		dp) [ -x "$DP" ] || skip "no $DP (run make)" ;;
		agent)
			# podwalld, the CLI, the CNI plugin and the plugins it
			# is chained after
			for c in "$AGENT" "$PWCLI" "$CNI_BIN/podwall" \
				/usr/lib/cni/bridge /usr/lib/cni/host-local; do
				[ -x "$c" ] || skip "no $c (run make;" \
					"scripts/install-deps.sh)"
			done
			;;
		scapy) "$PY" -c 'import scapy.all' 2>/dev/null ||
			skip "needs python3-scapy for $PY" ;;
		esac
	done
}

# A run killed with SIGKILL cannot clean up: remove namespaces, pin and temp
# folders of earlier runs whose process is gone. Their background processes
# end by themselves (every one is started with a time bound).
e2e_reap_stale() {
	local ns pid d

	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^pwe2e-([0-9]+)-[0-9]+- ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		log "removing stale namespace $ns"
		ip netns del "$ns" 2>/dev/null
	done
	for d in /sys/fs/bpf/podwall-e2e-* /tmp/podwall-e2e-*; do
		[ -d "$d" ] || continue
		[[ $d =~ podwall-e2e-([0-9]+)-[0-9]+(\.[A-Za-z0-9]+)?$ ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		log "removing stale folder $d"
		rm -rf "$d"
	done
}

# e2e_running PID: the process exists and is not a zombie.
e2e_running() {
	local st

	# the state follows the last ")" (the command name may hold spaces)
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) ||
		return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

e2e_cleanup() {
	local rc=$? p ns left i

	trap - EXIT INT TERM
	for p in "${E2E_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	# bounded: what still runs after 2 s gets SIGKILL
	for ((i = 0; i < 20; i++)); do
		left=0
		for p in "${E2E_PIDS[@]}"; do
			e2e_running "$p" && left=1
		done
		[ "$left" = 0 ] && break
		sleep 0.1
	done
	for p in "${E2E_PIDS[@]}"; do
		e2e_running "$p" && kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	# Anything still running inside our namespaces was started by this
	# test (e.g. through a helper that forked): end it by pid.
	for ns in "${E2E_NS[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	# Pods first, node last; deleting the node namespace takes br0 and
	# the host-side veths (and so the attached filters) with it.
	for ((p = ${#E2E_NS[@]} - 1; p >= 0; p--)); do
		ip netns del "${E2E_NS[p]}" 2>/dev/null
	done
	if [ "$E2E_PIN_LOADED" = 1 ] && [ -d "$PIN" ]; then
		"$DP" --pin "$PIN" unload >/dev/null 2>&1
		[ -d "$PIN" ] && rm -rf "$PIN"
	fi
	if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			log "kept $E2E_TMP"
		else
			rm -rf "$E2E_TMP"
		fi
	fi
	left=$(ip netns list 2>/dev/null | grep -c "^$E2E_NS_PREFIX")
	[ "$left" -eq 0 ] || log "cleanup: $left namespaces left behind"
	[ -e "$PIN" ] && log "cleanup: $PIN left behind"
	if [ "$rc" -eq 0 ] && [ "$E2E_FAILS" -gt 0 ]; then
		rc=1
	fi
	exit "$rc"
}

# e2e_init [prerequisite...]: call first in every test.
e2e_init() {
	e2e_require "$@"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	e2e_reap_stale
	E2E_TMP=$(mktemp -d "/tmp/podwall-e2e-$E2E_ID.XXXXXX") || exit 1
}

# e2e_finish: the test's last line.
e2e_finish() {
	[ "$E2E_FAILS" -eq 0 ] || exit 1
	exit 0
}

# Run a command in a pod (traffic tools) or in the node namespace without
# remounting /sys (podwall-dp needs bpffs).
in_pod() { pw_in_pod "$@"; }
in_node() { pw_in_node "$@"; }

# bg CMD...: start CMD in the background, remember its pid (E2E_LASTPID)
# so cleanup ends it. CMD must be a plain command (not a shell function),
# so the pid is the process itself.
bg() {
	"$@" &
	E2E_LASTPID=$!
	E2E_PIDS+=("$E2E_LASTPID")
}

# ---------------------------------------------------------------- topology

# The node and pods come from scripts/lib/netns.sh; E2E_NS mirrors its
# list for the cleanup above.
e2e_node_create() {
	pw_node_create
	local rc=$?

	E2E_NS=("${PW_NAMESPACES[@]}")
	return $rc
}

# e2e_pod_create NAME: pod NAME (A, B or C) with eth0 on br0.
e2e_pod_create() {
	local name=$1 rc

	pw_pod_create "$name" "${POD_IP4[$name]}" "${POD_IP6[$name]}"
	rc=$?
	E2E_NS=("${PW_NAMESPACES[@]}")
	[ "$rc" -eq 0 ] || return $rc
	POD_MAC[$name]=$(pw_pod_mac "$name")
}

# e2e_topology: node with br0, pods A, B, C, all addresses ready.
e2e_topology() {
	local p

	e2e_node_create || return 1
	for p in A B C; do
		e2e_pod_create "$p" || return 1
	done
	pw_wait_ready A B C
}

# ------------------------------------------------------------------ traffic

# serve POD ARGS...: probe.py server in POD (bounded by --seconds).
serve() {
	local pod=$1

	shift
	bg ip netns exec "$E2E_NS_PREFIX$pod" "${PROBE[@]}" serve "$@"
}

# wait_listen POD PORT [tcp|udp]: bounded wait until the server listens.
wait_listen() {
	local pod=$1 port=$2 proto=${3:-tcp} i flag=-tln

	[ "$proto" = udp ] && flag=-uln
	for ((i = 0; i < 50; i++)); do
		in_pod "$pod" ss -H $flag "sport = :$port" 2>/dev/null |
			grep -q . && return 0
		sleep 0.05
	done
	log "nothing listens on $pod $proto/$port"
	return 1
}

# reach FROM PROTO DST [PORT]: 0 if the traffic got through (and back).
# PROTO: tcp, udp, icmp (ping), icmp6 (ping -6). DST: pod name or address.
reach() {
	local from=$1 proto=$2 dst=$3 port=${4:-0}

	case $proto in
	tcp | udp | tcp6 | udp6)
		[ -n "${POD_IP4[$dst]:-}" ] && case $proto in
		*6) dst=${POD_IP6[$dst]} ;;
		*) dst=${POD_IP4[$dst]} ;;
		esac
		in_pod "$from" timeout 5 "${PROBE[@]}" probe "${proto%6}" \
			"$dst" "$port" --timeout 1
		;;
	icmp)
		[ -n "${POD_IP4[$dst]:-}" ] && dst=${POD_IP4[$dst]}
		in_pod "$from" timeout 5 ping -n -q -c 1 -W 1 "$dst" \
			>/dev/null 2>&1
		;;
	icmp6)
		[ -n "${POD_IP6[$dst]:-}" ] && dst=${POD_IP6[$dst]}
		in_pod "$from" timeout 5 ping -6 -n -q -c 1 -W 1 "$dst" \
			>/dev/null 2>&1
		;;
	*)
		log "reach: unknown protocol $proto"
		return 2
		;;
	esac
}

# expect TESTNAME allowed|denied FROM PROTO DST [PORT]
expect() {
	local name=$1 want=$2 got

	shift 2
	if reach "$@"; then got=allowed; else got=denied; fi
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "$* expected $want, got $got"
	fi
}

# ----------------------------------------------------------------- podwall

dp() {
	in_node "$DP" --pin "$PIN" "$@"
}

# dp_load [load options]: load and pin under this run's own pin folder.
dp_load() {
	E2E_PIN_LOADED=1
	dp load "$@" >/dev/null
}

# dp_endpoint POD ID IDENTITY ENFORCE: attach to h-POD and register it
# with the pod's addresses and MAC (anti-spoofing active).
dp_endpoint() {
	local pod=$1 id=$2 ident=$3 enforce=$4

	dp attach "h-$pod" &&
		dp endpoint set "h-$pod" --id "$id" --identity "$ident" \
			--ip4 "${POD_IP4[$pod]}" --ip6 "${POD_IP6[$pod]}" \
			--mac "${POD_MAC[$pod]}" --enforce "$enforce" &&
		dp ipcache set "${POD_IP4[$pod]}" --id "$ident" &&
		dp ipcache set "${POD_IP6[$pod]}" --id "$ident"
}

# events_start: collect flow events as JSON lines in $EVENTS.
events_start() {
	EVENTS=$E2E_TMP/events.json
	bg nsenter --net="/run/netns/$NODE" "$DP" --pin "$PIN" events --json \
		--timeout 60000 >"$EVENTS" 2>"$E2E_TMP/events.err"
	E2E_EVPID=$E2E_LASTPID
}

# events_sync: give the reader time to print what the programs reported.
events_sync() {
	sleep 0.3
}

events_stop() {
	[ -n "$E2E_EVPID" ] || return 0
	events_sync
	kill "$E2E_EVPID" 2>/dev/null
	wait "$E2E_EVPID" 2>/dev/null
	E2E_EVPID=
}

# events_count KEY=VALUE...: number of events in $EVENTS with all of these
# fields (compared as text; true/false for booleans).
events_count() {
	"$PY" - "$EVENTS" "$@" <<'EOF'
import json, sys
want = [a.split("=", 1) for a in sys.argv[2:]]
def text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
n = 0
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            print("bad event line: " + line, file=sys.stderr)
            continue
        if all(text(ev.get(k)) == v for k, v in want):
            n += 1
print(n)
EOF
}

# has_event NAME KEY=VALUE...: ok if at least one such event was seen.
has_event() {
	local name=$1 n

	shift
	n=$(events_count "$@")
	if [ "${n:-0}" -gt 0 ]; then
		ok "$name"
	else
		not_ok "$name" "no event with $*"
		log "events seen:"
		sed 's/^/#   /' "$EVENTS" >&2
	fi
}

# counter EP REASON: packets in the drop counter REASON of endpoint EP
# ("allowed" and "audit" name those two counters).
counter() {
	dp counters --ep "$1" --json | "$PY" -c '
import json, sys
c = json.load(sys.stdin)
r = sys.argv[1]
print((c[r] if r in ("allowed", "audit") else c["drops"][r])["packets"])
' "$2"
}

# ------------------------------------------------------ agent and CNI pods
#
# podwalld in the node namespace with this run's own pins, state folder and
# control socket; pods made by the real CNI plugins (bridge or ptp, with
# host-local IPAM) chained with podwall's, run as a runtime runs them
# (scripts/lib/cnirun.py). A CNI pod NAME lives in namespace
# ${E2E_NS_PREFIX}NAME like the others, so in_pod, reach and expect work
# on it; its address is in POD_IP4[NAME] once cni_add has run.

AGENT=${DP%/podwall-dp}/podwalld
PWCLI=${DP%/podwall-dp}/podwall
CNI_BIN=${DP%/podwall-dp}/cni
CNIRUN=("$PY" "$E2E_REPO/scripts/lib/cnirun.py")
AGENT_PID=

# agent_start [podwalld options...]: start it, wait (5 s) until it serves.
# Its socket is $PW_SOCK if set, else $E2E_TMP/pw.sock.
agent_start() {
	local i

	E2E_PIN_LOADED=1
	bg nsenter --net="/run/netns/$NODE" "$AGENT" --pin "$PIN" \
		--state-dir "$E2E_TMP/state" --socket "${PW_SOCK:-$E2E_TMP/pw.sock}" \
		--config /dev/null --ct-max 4096 --flow-log "$E2E_TMP/flows" \
		"$@" 2>>"$E2E_TMP/agent.log"
	AGENT_PID=$E2E_LASTPID
	for ((i = 0; i < 50; i++)); do
		pw status >/dev/null 2>&1 &&
			return 0
		e2e_running "$AGENT_PID" || break
		sleep 0.1
	done
	log "agent did not start; its log:"
	sed 's/^/#   /' "$E2E_TMP/agent.log" >&2
	return 1
}

# agent_stop [SIGNAL]: default TERM; waits (3 s) for it to exit.
agent_stop() {
	local i

	[ -n "$AGENT_PID" ] || return 0
	kill "-${1:-TERM}" "$AGENT_PID" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		e2e_running "$AGENT_PID" || break
		sleep 0.1
	done
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

# agent_reconcile: SIGHUP (every source read afresh), then a bounded wait
# (5 s) until the agent has reconciled once more.
agent_reconcile() {
	local before i

	before=$(agent_reconciles) || return 1
	kill -HUP "$AGENT_PID" || return 1
	for ((i = 0; i < 50; i++)); do
		sleep 0.1
		[ "$(agent_reconciles)" -gt "$before" ] 2>/dev/null && return 0
	done
	return 1
}

agent_reconciles() {
	pw status -o json 2>/dev/null | "$PY" -c \
		'import json,sys; print(json.load(sys.stdin)["reconciles"])'
}

# pw ARGS...: the podwall CLI against this run's agent.
pw() {
	"$PWCLI" --socket "${PW_SOCK:-$E2E_TMP/pw.sock}" "$@"
}

# cni_conf [VERSION [bridge|ptp]]: write $E2E_TMP/net.conflist (default
# 1.0.0, bridge): subnet 10.124.0.0/24, IPAM leases in $E2E_TMP.
cni_conf() {
	local ver=${1:-1.0.0} kind=${2:-bridge} first

	if [ "$kind" = ptp ]; then
		first='{"type":"ptp","ipMasq":false,'
	else
		first='{"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":false,'
	fi
	cat >"$E2E_TMP/net.conflist" <<-CONF
		{"cniVersion":"$ver","name":"pwe2e","plugins":[
		 $first
		  "ipam":{"type":"host-local","dataDir":"$E2E_TMP/ipam",
		   "ranges":[[{"subnet":"10.124.0.0/24"}]]}},
		 {"type":"podwall","socket":"${PW_SOCK:-$E2E_TMP/pw.sock}",
		  "stateDir":"$E2E_TMP/state"}]}
	CONF
}

# cni_run add|del|check POD [cnirun options...]: the runtime's call for pod
# POD (container id cid-POD), in the node namespace.
cni_run() {
	local cmd=$1 pod=$2

	shift 2
	in_node timeout 60 "${CNIRUN[@]}" "$cmd" "$E2E_TMP/net.conflist" \
		"cid-$pod" "/run/netns/$E2E_NS_PREFIX$pod" \
		--cni-path "/usr/lib/cni:$CNI_BIN" --cache "$E2E_TMP/cnicache" \
		"$@"
}

# cni_add POD K8S_NS [LABEL=VALUE...]: a pod namespace, then ADD through
# the chain; POD_IP4[POD] gets its address. Returns the chain's status.
cni_add() {
	local pod=$1 kns=$2 out l args=()

	shift 2
	for l in "$@"; do
		args+=(--label "$l")
	done
	if ! ip netns list | grep -q "^$E2E_NS_PREFIX$pod\b"; then
		ip netns add "$E2E_NS_PREFIX$pod" || return 1
		E2E_NS=("$E2E_NS_PREFIX$pod" "${E2E_NS[@]}")
		ip -n "$E2E_NS_PREFIX$pod" link set lo up
	fi
	out=$(cni_run add "$pod" --k8s "$kns/$pod" "${args[@]}") || return 1
	POD_IP4[$pod]=$("$PY" -c 'import json,sys
r = json.load(sys.stdin)
print(r["ips"][0]["address"].split("/")[0])' <<<"$out")
}

# cni_del POD: DEL through the chain (reverse order).
cni_del() {
	cni_run del "$1"
}
