#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Policy truth table with real TCP, UDP and ICMP (IPv4 and IPv6) through
# the kernel: three pods on a bridge, podwall-dp on their host-side veths.
#
#   A (ep 1, identity 1001): nothing enforced
#   B (ep 2, identity 1002): ingress enforced; from A tcp/80 (rule 101) and
#                            udp/53 (rule 102); from C icmp (rule 103)
#   C (ep 3, identity 1003): egress enforced; to A tcp/80 (rule 301); to B
#                            icmp (rule 302), tcp/80 (303), udp/53 (304).
#                            303/304 let C's tcp/80 and udp/53 reach B's
#                            ingress, so B's peer check is what denies them.
#
# First the same table without podwall (e2e/baseline): everything must get
# through, so a broken topology cannot pass for a working firewall.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp

# name | expected | from | proto | to | port | drop seen at "ep dir peer"
TABLE="
B-from-A-tcp80       allowed A tcp   B 80 -
B-from-A-tcp81       denied  A tcp   B 81 2:ingress:1001
B-from-C-tcp80       denied  C tcp   B 80 2:ingress:1003
B-from-A-udp53       allowed A udp   B 53 -
B-from-C-udp53       denied  C udp   B 53 2:ingress:1003
B-from-C-icmp        allowed C icmp  B -  -
B-from-A-icmp        denied  A icmp  B -  2:ingress:1001
C-to-A-tcp80         allowed C tcp   A 80 -
C-to-A-tcp81         denied  C tcp   A 81 3:egress:1001
C-to-A-udp53         denied  C udp   A 53 3:egress:1001
A-to-C-tcp80         allowed A tcp   C 80 -
B-to-A-tcp80         allowed B tcp   A 80 -
B-to-A-udp53         allowed B udp   A 53 -
B-to-C-icmp          allowed B icmp  C -  -
v6-B-from-A-tcp80    allowed A tcp6  B 80 -
v6-B-from-A-tcp81    denied  A tcp6  B 81 2:ingress:1001
v6-B-from-A-udp53    allowed A udp6  B 53 -
v6-C-to-A-tcp80      allowed C tcp6  A 80 -
v6-C-to-A-udp53      denied  C udp6  A 53 3:egress:1001
v6-C-to-B-icmp6      denied  C icmp6 B -  3:egress:1002
v6-B-to-A-tcp80      allowed B tcp6  A 80 -
"

e2e_topology || {
	not_ok policy/topology "could not build the namespaces"
	exit 1
}
for p in A B C; do
	serve "$p" --tcp 80,81 --udp 53 --seconds 60
done
for p in A B C; do
	wait_listen "$p" 81 tcp && wait_listen "$p" 53 udp || {
		not_ok policy/servers "servers did not start"
		exit 1
	}
done

# ------------------------------------------------------------ no podwall
bad=
while read -r name want from proto to port drop; do
	[ -n "$name" ] || continue
	reach "$from" "$proto" "$to" "$port" || bad+=" $name"
done <<<"$TABLE"
if [ -z "$bad" ]; then
	ok baseline
else
	not_ok baseline "blocked without any firewall:$bad"
	exit 1 # the topology is broken: nothing below would mean anything
fi

# --------------------------------------------------------------- podwall
setup() {
	dp_load --ct-max 4096 &&
		dp_endpoint A 1 1001 none &&
		dp_endpoint B 2 1002 ingress &&
		dp_endpoint C 3 1003 egress &&
		dp policy add --ep 2 --dir ingress --peer 1001 --proto tcp \
			--port 80 --rule 101 &&
		dp policy add --ep 2 --dir ingress --peer 1001 --proto udp \
			--port 53 --rule 102 &&
		dp policy add --ep 2 --dir ingress --peer 1003 --proto icmp \
			--rule 103 &&
		dp policy add --ep 3 --dir egress --peer 1001 --proto tcp \
			--port 80 --rule 301 &&
		dp policy add --ep 3 --dir egress --peer 1002 --proto icmp \
			--rule 302 &&
		dp policy add --ep 3 --dir egress --peer 1002 --proto tcp \
			--port 80 --rule 303 &&
		dp policy add --ep 3 --dir egress --peer 1002 --proto udp \
			--port 53 --rule 304
}
if setup; then
	ok policy/setup
else
	not_ok policy/setup "podwall-dp load/attach/endpoint/policy failed"
	exit 1
fi
events_start

while read -r name want from proto to port drop; do
	[ -n "$name" ] || continue
	expect "policy/$name" "$want" "$from" "$proto" "$to" "$port"
done <<<"$TABLE"
events_stop

# -------------------------------------------------- flow log and counters
# Every denied probe left a drop event at the endpoint and direction that
# denied it, with the peer identity it was judged as.
while read -r name want from proto to port drop; do
	[ -n "$name" ] && [ "$drop" != - ] || continue
	IFS=: read -r ep dir peer <<<"$drop"
	case $proto in
	*6) src=${POD_IP6[$from]} dst=${POD_IP6[$to]} ;;
	*) src=${POD_IP4[$from]} dst=${POD_IP4[$to]} ;;
	esac
	case $proto in
	icmp) sel=(proto=icmp dport=2048) ;;    # echo request: 8 << 8
	icmp6) sel=(proto=icmpv6 dport=32768) ;; # echo request: 128 << 8
	*) sel=(proto="${proto%6}" dport="$port") ;;
	esac
	has_event "policy/$name-drop-event" type=drop verdict=dropped \
		reason=policy-denied ep_id="$ep" dir="$dir" peer_id="$peer" \
		src="$src" dst="$dst" "${sel[@]}"
done <<<"$TABLE"

# An allowed flow reports the rule that allowed it.
has_event policy/new-event-names-rule type=new verdict=allowed ep_id=2 \
	dir=ingress proto=tcp src=10.123.0.2 dst=10.123.0.3 dport=80 \
	rule_id=101 peer_id=1001
has_event policy/new-event-egress-rule type=new verdict=allowed ep_id=3 \
	dir=egress proto=tcp src=10.123.0.4 dst=10.123.0.2 dport=80 \
	rule_id=301 peer_id=1001

# Allowed traffic and its replies never hit a drop of another kind (no
# out-of-state for replies through conntrack, no anti-spoofing for the
# pods' own ARP/ND).
n_all=$(events_count type=drop)
n_pol=$(events_count type=drop reason=policy-denied)
if [ "$n_all" = "$n_pol" ]; then
	ok policy/only-policy-drops
else
	not_ok policy/only-policy-drops \
		"$((n_all - n_pol)) drops with another reason"
	grep '"drop"' "$EVENTS" | grep -v policy-denied | sed 's/^/#   /' >&2
fi

b=$(counter 2 policy-denied)
c=$(counter 3 policy-denied)
a=$(counter 1 policy-denied)
check policy/counters-B-denied "B policy-denied drops = ${b:-none}" \
	test "${b:-0}" -gt 0
check policy/counters-C-denied "C policy-denied drops = ${c:-none}" \
	test "${c:-0}" -gt 0
check policy/counters-A-none-denied "A policy-denied drops = ${a:-none}" \
	test "${a:-x}" = 0
b=$(counter 2 allowed)
check policy/counters-B-allowed "B allowed packets = ${b:-none}" \
	test "${b:-0}" -gt 0

e2e_finish
