#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The uplink prefilter (XDP) on real traffic. The node namespace routes
# between "world", a namespace behind the node's veth "uplink"
# (198.51.100.2 and .3, fd00:77::2 and ::3), and pod A on br0. Traffic from
# a listed world address drops on the uplink, counted and reported; from
# the other one it passes. First with podwall-dp (add, del, detach), then
# with the agent: --prefilter-dev and --prefilter FILE, the file edited
# and SIGHUPed, a bad line, the same keys from a config file, --uninstall.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp

[ -x "$AGENT" ] || skip "no $AGENT (run make)"

W=world
WNS=$E2E_NS_PREFIX$W
V4_BAD=198.51.100.2 V4_OK=198.51.100.3
V6_BAD=fd00:77::2 V6_OK=fd00:77::3 V6_NODE=fd00:77::1
LIST=$E2E_TMP/prefilter.txt

# topology: node = router between world (uplink) and pod A (br0)
world_create() {
	e2e_node_create && e2e_pod_create A || return 1
	ip netns add "$WNS" || return 1
	E2E_NS=("$WNS" "${E2E_NS[@]}") # the node stays last
	ip -n "$WNS" link set lo up &&
		ip link add uplink netns "$NODE" type veth peer name eth0 \
			netns "$WNS" || return 1
	# IPv6 on the uplink only: the rest of the node stays quiet
	in_node sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.uplink.disable_ipv6=0 \
		net.ipv6.conf.uplink.accept_dad=0 || return 1
	in_pod "$W" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 || return 1
	ip -n "$NODE" addr add 198.51.100.1/24 dev uplink &&
		ip -n "$NODE" addr add "$V6_NODE/64" dev uplink nodad &&
		ip -n "$NODE" link set uplink up &&
		ip -n "$NODE" addr add 10.123.0.1/24 dev br0 || return 1
	ip -n "$WNS" addr add "$V4_BAD/24" dev eth0 &&
		ip -n "$WNS" addr add "$V4_OK/24" dev eth0 &&
		ip -n "$WNS" addr add "$V6_BAD/64" dev eth0 nodad &&
		ip -n "$WNS" addr add "$V6_OK/64" dev eth0 nodad &&
		ip -n "$WNS" link set eth0 up &&
		ip -n "$WNS" route add default via 198.51.100.1 || return 1
	ip -n "$E2E_NS_PREFIX"A route add default via 10.123.0.1 || return 1
	pw_wait_ready A
}

# tcp_from SRC: a TCP connection from world address SRC to pod A's :80.
tcp_from() {
	in_pod "$W" timeout 5 "$PY" -c '
import socket, sys
s = socket.socket()
s.settimeout(1)
s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], 80))
' "$1" "${POD_IP4[A]}" 2>/dev/null
}

# ping6_from SRC: an echo from world address SRC to the node's uplink.
ping6_from() {
	in_pod "$W" timeout 5 ping -6 -n -q -c 1 -W 1 -I "$1" "$V6_NODE" \
		>/dev/null 2>&1
}

# want NAME allowed|denied FN SRC
want() {
	local name=$1 want=$2 got

	if "$3" "$4"; then got=allowed; else got=denied; fi
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "$3 $4: expected $want, got $got"
	fi
}

# xdp_mode: what the kernel says is on the uplink: xdp, xdpgeneric, none.
xdp_mode() {
	local m

	m=$(ip -n "$NODE" -o link show uplink | grep -o ' xdp[a-z]* ')
	m=${m// /}
	echo "${m:-none}"
}

# flow_wait KEY=VALUE...: a record of the agent's flow log has all of these
# (src.ip for the source address), within 3 s.
flow_wait() {
	local i

	for ((i = 0; i < 30; i++)); do
		"$PY" - "$E2E_TMP/flows/flows.jsonl" "$@" <<-'EOF' && return 0
			import json, sys
			want = [a.split("=", 1) for a in sys.argv[2:]]
			def get(r, k):
			    for p in k.split("."):
			        r = r.get(p) if isinstance(r, dict) else None
			    return str(r)
			try:
			    lines = open(sys.argv[1]).read().splitlines()
			except OSError:
			    sys.exit(1)
			for l in lines:
			    try:
			        r = json.loads(l)
			    except ValueError:
			        continue
			    if all(get(r, k) == v for k, v in want):
			        sys.exit(0)
			sys.exit(1)
		EOF
		sleep 0.1
	done
	return 1
}

# log_count PATTERN: lines of the agent's log with PATTERN.
log_count() {
	grep -c -- "$1" "$E2E_TMP/agent.log" 2>/dev/null
}

# hup_wait N: SIGHUP the agent, then wait (3 s) for its Nth list report.
hup_wait() {
	local i

	kill -HUP "$AGENT_PID"
	for ((i = 0; i < 30; i++)); do
		[ "$(log_count "prefilter list")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

world_create || {
	not_ok prefilter/topology "could not build the namespaces"
	exit 1
}
serve A --tcp 80 --seconds 60
wait_listen A 80 || {
	not_ok prefilter/servers "server did not start"
	exit 1
}

# ------------------------------------------------------------ no podwall
if tcp_from "$V4_BAD" && tcp_from "$V4_OK" && ping6_from "$V6_BAD" &&
	ping6_from "$V6_OK"; then
	ok prefilter/baseline
else
	not_ok prefilter/baseline "world cannot reach A or the node"
	exit 1 # nothing below would mean anything
fi

# ----------------------------------------------------------- podwall-dp
dp_load --ct-max 4096 || {
	not_ok prefilter/load "podwall-dp load failed"
	exit 1
}
out=$(dp prefilter attach uplink 2>&1)
rc=$?
log "$out"
mode=$(xdp_mode)
# the log line must tell the mode the kernel shows
case $mode in
xdp) [[ $out == *"in native mode"* ]] || rc=1 ;;
xdpgeneric) [[ $out == *"in generic mode"* ]] || rc=1 ;;
*) rc=1 ;;
esac
status prefilter/dp-attach-says-its-mode "$rc" "attach: $out; kernel: $mode"

dp prefilter add "$V4_BAD/32" --id 7 && dp prefilter add "$V6_BAD" --id 8
status prefilter/dp-add $? "prefilter add failed"
events_start
want prefilter/dp-listed-v4-dropped denied tcp_from "$V4_BAD"
want prefilter/dp-other-v4-passes allowed tcp_from "$V4_OK"
want prefilter/dp-listed-v6-dropped denied ping6_from "$V6_BAD"
want prefilter/dp-other-v6-passes allowed ping6_from "$V6_OK"
events_stop
n=$(counter 0 prefilter)
status prefilter/dp-node-counter "$([ "${n:-0}" -ge 2 ] && echo 0 || echo 1)" \
	"node prefilter counter is ${n:-?}, want at least 2"
has_event prefilter/dp-event-v4 type=drop verdict=dropped reason=prefilter \
	src="$V4_BAD" dport=80 proto=tcp tcp_flags=SYN rule_id=7 ep_id=0 \
	dir=ingress
has_event prefilter/dp-event-v6 type=drop reason=prefilter src="$V6_BAD" \
	proto=icmpv6 rule_id=8
n=$(events_count reason=prefilter src="$V4_OK")
status prefilter/dp-no-event-for-passed "$n" "$n events for $V4_OK"

dp prefilter del "$V4_BAD/32"
want prefilter/dp-del-lets-it-through allowed tcp_from "$V4_BAD"
dp prefilter add "$V4_BAD/32" --id 7
want prefilter/dp-readded-dropped denied tcp_from "$V4_BAD"
dp prefilter detach uplink
mode=$(xdp_mode)
status prefilter/dp-detached "$([ "$mode" = none ] && echo 0 || echo 1)" \
	"still on the uplink: $mode"
want prefilter/dp-detach-lets-it-through allowed tcp_from "$V4_BAD"
dp unload

# ---------------------------------------------------------------- agent
printf '# world\n%s/32\n%s   # v6 host\n' "$V4_BAD" "$V6_BAD" >"$LIST"
agent_start --prefilter-dev uplink --prefilter "$LIST" --flow-aggregate 0 || {
	not_ok prefilter/agent-start "podwalld did not start"
	exit 1
}
mode=$(xdp_mode)
rc=1
case $mode in
xdp) [ "$(log_count "prefilter on uplink in native mode")" -ge 1 ] && rc=0 ;;
xdpgeneric) [ "$(log_count "prefilter on uplink in generic mode")" -ge 1 ] &&
	rc=0 ;;
esac
status prefilter/agent-attached "$rc" "kernel shows $mode; agent log:
$(grep prefilter "$E2E_TMP/agent.log")"
want prefilter/agent-listed-dropped denied tcp_from "$V4_BAD"
want prefilter/agent-other-passes allowed tcp_from "$V4_OK"
want prefilter/agent-listed-v6-dropped denied ping6_from "$V6_BAD"
# the rule id of a drop is its line in the file
flow_wait reason=prefilter src.ip="$V4_BAD" dst.port=80 tcp_flags=SYN rule_id=2
status prefilter/agent-flow-record $? "no flow record of the drop"
flow_wait reason=prefilter src.ip="$V6_BAD" rule_id=3
status prefilter/agent-flow-record-v6 $? "no flow record of the v6 drop"

# edit: .2 out, .3 in, the v6 host stays (now on another line)
printf '%s/32\n# world\n%s\n' "$V4_OK" "$V6_BAD" >"$LIST"
hup_wait 2
status prefilter/agent-sighup-rereads $? "no second list report"
want prefilter/agent-removed-passes allowed tcp_from "$V4_BAD"
want prefilter/agent-added-dropped denied tcp_from "$V4_OK"
want prefilter/agent-kept-dropped denied ping6_from "$V6_BAD"

# a bad line: named in the log, and the list in force stays
printf '%s/32\n%s\n198.51.100.300/32\n' "$V4_BAD" "$V4_OK" >"$LIST"
kill -HUP "$AGENT_PID"
for ((i = 0; i < 30; i++)); do
	[ "$(log_count "$LIST:3: \"198.51.100.300/32\"")" -ge 1 ] && break
	sleep 0.1
done
status prefilter/agent-bad-line-named \
	"$([ "$(log_count "$LIST:3: \"198.51.100.300/32\"")" -ge 1 ] &&
		echo 0 || echo 1)" "no error naming $LIST:3 in the agent's log"
want prefilter/agent-bad-file-keeps-old-drop denied tcp_from "$V4_OK"
want prefilter/agent-bad-file-keeps-old-pass allowed tcp_from "$V4_BAD"

# the same keys from a config file, in a restarted agent
printf '%s/32\n' "$V4_BAD" >"$LIST"
printf 'prefilter-dev uplink\nprefilter = %s\nflow-aggregate 0\n' "$LIST" \
	>"$E2E_TMP/podwalld.conf"
agent_stop
agent_start --config "$E2E_TMP/podwalld.conf" || {
	not_ok prefilter/agent-config "podwalld did not start from its config"
	exit 1
}
want prefilter/agent-config-listed-dropped denied tcp_from "$V4_BAD"
want prefilter/agent-config-other-passes allowed tcp_from "$V4_OK"

# --uninstall takes the prefilter off wherever it is
agent_stop
in_node "$AGENT" --uninstall --pin "$PIN" --state-dir "$E2E_TMP/state" \
	--socket "$E2E_TMP/pw.sock" --config /dev/null 2>>"$E2E_TMP/agent.log"
status prefilter/uninstall-runs $? "podwalld --uninstall failed"
mode=$(xdp_mode)
status prefilter/uninstall-detaches "$([ "$mode" = none ] && echo 0 || echo 1)" \
	"still on the uplink: $mode"
want prefilter/uninstall-lets-it-through allowed tcp_from "$V4_BAD"

e2e_finish
