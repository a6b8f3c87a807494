#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwalld --veth-mode xdp: what a pod sends is judged by pw_from_pod_xdp on
# its host-side veth, what it receives by pw_to_pod on TC egress. The
# agent's truth table (the example policies) holds in XDP mode, with
# denies on both paths and replies through conntrack that both programs
# share; then restarts switch xdp -> xdp -> tc -> xdp, each leaving one
# from-pod program per veth and the table still in force. The restarted
# agent runs without CAP_SYS_ADMIN: it knows its own XDP programs by id.
#
#   A web-1 (10.123.0.2): ingress from clients on 8080 and 32000-32767
#   B db-1: ingress from web on 5432
#   C client-1: egress only to DNS and web's 32000-32767: its connect to
#               web's 8080 is denied by its own egress alone, in XDP
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp agent

# name | expected | from | proto | to | port
TABLE="
web-to-db-5432        allowed A tcp B 5432
web-to-db-5433        denied  A tcp B 5433
client-to-web-32000   allowed C tcp A 32000
client-to-web-8080    denied  C tcp A 8080
client-to-db-5432     denied  C tcp B 5432
client-udp-egress     denied  C udp B 53
db-to-web-8080        denied  B tcp A 8080
"

e2e_topology || {
	not_ok xdp/topology "could not build the namespaces"
	exit 1
}
serve A --tcp 8080,32000 --seconds 90
serve B --tcp 5432,5433 --udp 53 --seconds 90
wait_listen A 32000 && wait_listen B 5433 && wait_listen B 53 udp || {
	not_ok xdp/servers "servers did not start"
	exit 1
}
M=$E2E_TMP/manifests
mkdir -p "$M" && cp "$E2E_REPO"/policy/examples/*.yaml "$M/"

# xdp_prog DEV: the name of the XDP program on DEV in the node, or "none";
# "stale" for a pw_from_pod_xdp that is not the one the agent pinned (a
# restart that did not replace it).
xdp_prog() {
	local id name

	id=$(in_node ip -d link show dev "$1" |
		sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$id" ] || {
		echo none
		return
	}
	name=$(bpftool prog show id "$id" 2>/dev/null |
		sed -n 's/^[0-9]*: xdp *name \([^ ]*\).*/\1/p')
	if [ "$name" = pw_from_pod_xdp ] &&
		! bpftool prog show pinned "$PIN/pw_from_pod_xdp" |
		grep -q "^$id:"; then
		name=stale
	fi
	echo "$name"
}

# programs NAME MODE: every veth carries MODE's from-pod program and only
# it, and pw_to_pod on TC egress.
programs() {
	local name=$1 mode=$2 p bad='' x tin tout

	for p in A B C; do
		x=$(xdp_prog "h-$p")
		tin=$(in_node tc filter show dev "h-$p" ingress | grep -c pw_from_pod)
		tout=$(in_node tc filter show dev "h-$p" egress | grep -c pw_to_pod)
		if [ "$mode" = xdp ]; then
			[ "$x" = pw_from_pod_xdp ] && [ "$tin" = 0 ] &&
				[ "$tout" = 1 ] || bad+=" h-$p(xdp=$x tc-in=$tin tc-out=$tout)"
		else
			[ "$x" = none ] && [ "$tin" = 1 ] && [ "$tout" = 1 ] ||
				bad+=" h-$p(xdp=$x tc-in=$tin tc-out=$tout)"
		fi
		[ "$(dp mode "h-$p")" = "$mode" ] || bad+=" h-$p(podwall-dp mode)"
	done
	status "xdp/$name-programs" "$([ -z "$bad" ] && echo 0 || echo 1)" \
		"not as $mode mode wants:$bad"
}

# sender_only NAME: client-1's connects to web's 8080 stopped at its own
# veth (C's egress, the from-pod program): web-1's ingress, which allows
# them, never saw one. Denied at the far end would look the same to the
# client: C's enforced ingress drops web's answer.
sender_only() {
	local n

	sleep 0.5 # the flow log is written every 200 ms
	n=$(grep -h '"verdict":"allowed"' "$E2E_TMP"/flows/*.jsonl 2>/dev/null |
		grep '"direction":"ingress"' | grep client-1 | grep -c 8080)
	status "xdp/$1-egress-deny-stops-at-the-sender" \
		"$([ "$n" = 0 ] && echo 0 || echo 1)" \
		"web-1 let in $n connects from client-1 to 8080"
}

# table NAME: the truth table, after the agent has bound the pods.
table() {
	local name=$1 row want from proto to port i

	# the agent reconciles in the background: wait until policy holds
	for ((i = 0; i < 25; i++)); do
		reach C tcp B 5432 || break
		sleep 0.2
	done
	while read -r row want from proto to port; do
		[ -n "$row" ] || continue
		expect "xdp/$name-$row" "$want" "$from" "$proto" "$to" "$port"
	done <<<"$TABLE"
}

# start MODE NAME: start the agent in MODE, wait for the three pods.
start() {
	local i

	agent_start --manifests "$M" --veth-mode "$1" || {
		not_ok "xdp/$2-agent-start" "podwalld did not start"
		return 1
	}
	for ((i = 0; i < 50; i++)); do
		[ "$(pw status -o json 2>/dev/null | "$PY" -c \
			'import json,sys; print(json.load(sys.stdin)["attached_interfaces"])')" = 3 ] && break
		sleep 0.1
	done
	pw status | grep -q "(veth mode $1)"
	status "xdp/$2-status-shows-mode" $? "$(pw status | head -n 1)"
}

start xdp first || exit 1
programs first xdp
table first
sender_only first

# The flow log: C's denied connect to db was judged by C's own egress (the
# XDP program), and is logged as TC's would be.
egress_deny() {
	grep -h '"reason":"policy-denied"' "$E2E_TMP"/flows/*.jsonl 2>/dev/null |
		grep '"direction":"egress"' | grep client-1 | grep -q 5432
}
for ((i = 0; i < 30; i++)); do
	egress_deny && break
	sleep 0.2
done
egress_deny
status xdp/egress-deny-in-flow-log $? \
	"no egress policy-denied record of client-1 to 5432: $(head -c 600 "$E2E_TMP"/flows/*.jsonl)"

# Restarts: the same mode again (the new program replaces the old on each
# veth), then TC (the XDP programs come off), then XDP again.
agent_stop
start xdp again || exit 1
programs again xdp
table again
sender_only again
agent_stop
start tc to-tc || exit 1
programs to-tc tc
table to-tc
sender_only to-tc
agent_stop
start xdp back || exit 1
programs back xdp
table back
sender_only back
agent_stop

# The uplink prefilter the same way: an agent with a DaemonSet's
# capabilities (no CAP_SYS_ADMIN) started again replaces its own program,
# known by the id of what it had pinned, where it used to leave it.
if command -v setpriv >/dev/null; then
	in_node ip link add pf0 type veth peer name pf1 &&
		in_node ip link set pf0 up && in_node ip link set pf1 up
	echo 10.9.9.0/24 >"$E2E_TMP/deny.list"
	pf_run() {
		nsenter --net="/run/netns/$NODE" setpriv --reuid 0 --regid 0 \
			--clear-groups --bounding-set=-all,+bpf,+net_admin,+perfmon \
			--inh-caps=-all --no-new-privs "$AGENT" --once --ct-max 4096 \
			--config /dev/null --pin "$PIN" --flow-log none \
			--state-dir "$E2E_TMP/pf-state" --socket "$E2E_TMP/pf.sock" \
			--prefilter-dev pf0 --prefilter "$E2E_TMP/deny.list" \
			2>>"$E2E_TMP/pf.log"
		in_node ip -d link show dev pf0 |
			sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1
	}
	id1=$(pf_run)
	id2=$(pf_run)
	pinned=$(bpftool prog show pinned "$PIN/pw_xdp_prefilter" |
		sed -n 's/^\([0-9]*\):.*/\1/p')
	check xdp/prefilter-taken-over-without-cap-sys-admin \
		"prefilter ids $id1 then $id2, pinned $pinned: $(tail -n 3 "$E2E_TMP/pf.log" | tr "\n" " ")" \
		test -n "$id1" -a -n "$id2" -a "$id1" != "$id2" -a "$id2" = "$pinned"
fi

e2e_finish
