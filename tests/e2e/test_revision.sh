#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Policy revisions and established flows, with long TCP connections that
# exchange a line every 100 ms:
#   conn AB: A -> B:80   allowed by B's ingress rule 101 (peer A)
#   conn CB: C -> B:80   allowed by B's ingress rule 102 (peer C) and C's
#                        egress rule 302 (peer B)
#   conn CA: C -> A:80   allowed by C's egress rule 301 (peer A)
# Asserts, in order:
#   - a bump with an unchanged policy keeps every connection going
#   - deleting rule 101 without a bump: established AB goes on (policy is
#     for new flows), a new A -> B:80 connection is denied
#   - bump B: AB is cut at its next exchange (drop policy-revoked), CB and
#     CA go on
#   - delete C's rule 301 and bump C: CA is cut at C's egress, CB goes on
#     and completes all its rounds
#   - the flow log has the policy-revoked drops and end events
#   - conn AP: A -> B:8080, where B's server sends a line every 100 ms on
#     its own (B's egress is not enforced). After B's rule for A is
#     removed and B bumped, nothing more from A reaches B: the design's
#     "a flow whose policy is withdrawn is cut in both directions" must hold
#     even when the pod keeps talking on the cut connection.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp

ROUNDS=90 # conn CB: 9 s at most

e2e_topology || {
	not_ok revision/topology "could not build the namespaces"
	exit 1
}
serve A --tcp-echo 80 --seconds 40
PUSHREC=$E2E_TMP/push.rec
serve B --tcp-echo 80 --tcp-push 8080 --record "$PUSHREC" --seconds 40
wait_listen A 80 && wait_listen B 80 && wait_listen B 8080 || {
	not_ok revision/servers "servers did not start"
	exit 1
}

setup() {
	dp_load &&
		dp_endpoint A 1 1001 none &&
		dp_endpoint B 2 1002 ingress &&
		dp_endpoint C 3 1003 egress &&
		dp policy add --ep 2 --dir ingress --peer 1001 --proto tcp \
			--port 80 --rule 101 &&
		dp policy add --ep 2 --dir ingress --peer 1003 --proto tcp \
			--port 80 --rule 102 &&
		dp policy add --ep 3 --dir egress --peer 1001 --proto tcp \
			--port 80 --rule 301 &&
		dp policy add --ep 3 --dir egress --peer 1002 --proto tcp \
			--port 80 --rule 302 &&
		dp policy add --ep 2 --dir ingress --peer 1001 --proto tcp \
			--port 8080 --rule 104
}
if setup; then
	ok revision/setup
else
	not_ok revision/setup "podwall-dp load/attach/endpoint/policy failed"
	exit 1
fi
events_start

# conn NAME FROM TO: start a long connection; its log is $E2E_TMP/NAME.
declare -A CPID=()
conn() {
	# shellcheck disable=SC2086 # $5: an optional flag, absent = no word
	bg ip netns exec "$E2E_NS_PREFIX$2" "${PROBE[@]}" client \
		"${POD_IP4[$3]}" "${4:-80}" --count "$ROUNDS" --interval 0.1 \
		--timeout 1 ${5:-} >"$E2E_TMP/$1"
	CPID[$1]=$E2E_LASTPID
}
answers() { grep -c '^ok ' "$E2E_TMP/$1" 2>/dev/null; }
alive() { e2e_running "${CPID[$1]}"; }

# progressing NAME...: every named connection is alive and answers at
# least 3 more rounds within 2 s.
progressing() {
	local n i c
	declare -A base=()

	for c in "$@"; do base[$c]=$(answers "$c"); done
	for ((i = 0; i < 40; i++)); do
		n=0
		for c in "$@"; do
			alive "$c" && [ "$(answers "$c")" -ge $((base[$c] + 3)) ] &&
				n=$((n + 1))
		done
		[ "$n" -eq $# ] && return 0
		sleep 0.05
	done
	for c in "$@"; do
		log "$c: alive=$(alive "$c" && echo yes || echo no)" \
			"answers $(answers "$c") (was ${base[$c]})" \
			"last: $(tail -n 1 "$E2E_TMP/$c")"
	done
	return 1
}

# cut NAME: the connection's client stops within 3 s, having failed.
cut() {
	local i rc

	for ((i = 0; i < 60; i++)); do
		alive "$1" || break
		sleep 0.05
	done
	if alive "$1"; then
		log "$1 still running: $(tail -n 1 "$E2E_TMP/$1")"
		return 1
	fi
	wait "${CPID[$1]}"
	rc=$?
	[ "$rc" -eq 1 ] && grep -q '^fail ' "$E2E_TMP/$1" && return 0
	log "$1 ended with status $rc: $(tail -n 1 "$E2E_TMP/$1")"
	return 1
}

conn AB A B
conn CB C B
conn CA C A
check revision/connections-up "the long connections did not start" \
	progressing AB CB CA

dp endpoint bump h-B && dp endpoint bump h-C
check revision/bump-unchanged-policy-keeps-flows \
	"a bump with the same policy disturbed a connection" \
	progressing AB CB CA

dp policy del --ep 2 --dir ingress --peer 1001 --proto tcp --port 80
check revision/del-without-bump-keeps-established \
	"an established flow stopped before any bump" progressing AB CB CA
expect revision/del-without-bump-denies-new denied A tcp B 80

dp endpoint bump h-B
check revision/bump-cuts-revoked-flow \
	"A -> B:80 went on after B's rule for A was removed and B bumped" \
	cut AB
check revision/bump-keeps-allowed-flows \
	"flows still allowed stopped at B's bump" progressing CB CA

dp policy del --ep 3 --dir egress --peer 1001 --proto tcp --port 80
dp endpoint bump h-C
check revision/egress-bump-cuts-revoked-flow \
	"C -> A:80 went on after C's egress rule was removed and C bumped" \
	cut CA
check revision/egress-bump-keeps-allowed-flow \
	"C -> B:80 stopped at C's bump" progressing CB

# the survivor completes every round (bounded: ROUNDS * 0.1 s + slack)
for ((i = 0; i < 150; i++)); do
	alive CB || break
	sleep 0.1
done
wait "${CPID[CB]}"
rc=$?
check revision/allowed-flow-completes \
	"C -> B:80 ended with status $rc after $(answers CB) of $ROUNDS rounds" \
	test "$rc" -eq 0 -a "$(answers CB)" -eq "$ROUNDS"

# new connections follow the new policy, and a restored rule works again
expect revision/new-A-to-B-denied denied A tcp B 80
expect revision/new-C-to-B-allowed allowed C tcp B 80
expect revision/new-C-to-A-denied denied C tcp A 80
dp policy add --ep 2 --dir ingress --peer 1001 --proto tcp --port 80 \
	--rule 103
expect revision/restored-rule-allows allowed A tcp B 80

# A revoked flow stays cut while the pod keeps sending on it.
conn AP A B 8080 --no-echo
pushed() { grep -c '^10\.123\.0\.2 seq' "$PUSHREC" 2>/dev/null; }
for ((i = 0; i < 40; i++)); do
	[ "$(pushed)" -ge 3 ] && break
	sleep 0.05
done
if [ "$(pushed)" -ge 3 ]; then
	dp policy del --ep 2 --dir ingress --peer 1001 --proto tcp --port 8080
	dp endpoint bump h-B
	sleep 0.5 # what was in flight at the bump
	n1=$(pushed)
	sleep 1.5
	n2=$(pushed)
	check revision/revoked-flow-stays-cut-when-pod-sends \
		"B received $((n2 - n1)) more lines from A in the 1.5 s after the cut" \
		test "$n2" -eq "$n1"
	if [ "$n2" -ne "$n1" ]; then
		log "conntrack after the cut:"
		dp ct list | grep ':8080' | sed 's/^/#   /' >&2
	fi
else
	not_ok revision/revoked-flow-stays-cut-when-pod-sends \
		"A -> B:8080 did not get going ($(pushed) lines)"
fi
kill "${CPID[AP]}" 2>/dev/null
events_stop

has_event revision/revoked-drop-event-ingress type=drop verdict=dropped \
	reason=policy-revoked ep_id=2 dir=ingress proto=tcp src=10.123.0.2 \
	dst=10.123.0.3 dport=80
has_event revision/revoked-end-event-ingress type=end \
	reason=policy-revoked ep_id=2 proto=tcp src=10.123.0.2 \
	dst=10.123.0.3 dport=80
has_event revision/revoked-drop-event-egress type=drop verdict=dropped \
	reason=policy-revoked ep_id=3 dir=egress proto=tcp src=10.123.0.4 \
	dst=10.123.0.2 dport=80
has_event revision/revoked-end-event-egress type=end \
	reason=policy-revoked ep_id=3 proto=tcp src=10.123.0.4 \
	dst=10.123.0.2 dport=80
n=$(events_count type=drop reason=policy-revoked src=10.123.0.4 \
	dst=10.123.0.3)
check revision/no-revoked-drop-for-allowed-flow \
	"$n policy-revoked drops for C -> B" test "${n:-x}" = 0
has_event revision/restored-rule-new-event type=new ep_id=2 dir=ingress \
	proto=tcp src=10.123.0.2 dport=80 rule_id=103

e2e_finish
