#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# NetworkPolicy YAML, compiled and written into the maps by `podwall-dp
# sync`, enforced on real traffic: the shipped examples in policy/examples
# (namespace "shop": web-1, db-1 and client-1, whose addresses are pods A,
# B and C here). Then a policy goes away and a second sync, starting from
# what the maps hold, cuts the established connection it no longer allows;
# and a third sync, binding the pods by their addresses as read through
# rtnetlink rather than by name, finds nothing to change.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp

# status NAME RC MSG: ok when the command before it returned 0.

e2e_topology || {
	not_ok compiled/topology "could not build the namespaces"
	exit 1
}
serve A --tcp 8080,32000 --seconds 60
serve B --tcp 5433 --tcp-echo 5432 --udp 53 --seconds 60
serve C --tcp 5432 --seconds 60
wait_listen A 32000 && wait_listen B 5432 && wait_listen B 53 udp &&
	wait_listen C 5432 || {
	not_ok compiled/servers "servers did not start"
	exit 1
}

BIND=(--bind "shop/web-1=h-A@${POD_MAC[A]}"
	--bind "shop/db-1=h-B@${POD_MAC[B]}"
	--bind "shop/client-1=h-C@${POD_MAC[C]}")
EXAMPLES=$E2E_REPO/policy/examples

dp_load --ct-max 4096 &&
	for p in A B C; do dp attach "h-$p" || exit 1; done &&
	dp sync -f "$EXAMPLES" "${BIND[@]}" >"$E2E_TMP/sync1" 2>&1
status compiled/sync $? "podwall-dp sync failed: $(cat "$E2E_TMP/sync1")"

# What the examples' comments promise.
expect compiled/web-to-db-postgres allowed A tcp B 5432
expect compiled/web-to-db-other-port denied A tcp B 5433
expect compiled/client-to-db-denied denied C tcp B 5432
expect compiled/client-to-web-range allowed C tcp A 32000
expect compiled/client-egress-forbids-8080 denied C tcp A 8080
expect compiled/db-is-not-a-client denied B tcp A 8080
expect compiled/default-deny-ingress denied A tcp C 5432
expect compiled/client-dns-only-to-kube-system denied C udp B 53

# A long connection web -> db, then db-from-web is withdrawn.
bg ip netns exec "${E2E_NS_PREFIX}A" "${PROBE[@]}" client \
	"${POD_IP4[B]}" 5432 --count 100 --interval 0.1 --timeout 1 \
	>"$E2E_TMP/conn"
CONN=$E2E_LASTPID
for ((i = 0; i < 40; i++)); do
	[ "$(grep -c '^ok ' "$E2E_TMP/conn")" -ge 3 ] && break
	sleep 0.05
done
status compiled/connection-runs "$([ "$(grep -c '^ok ' "$E2E_TMP/conn")" \
	-ge 3 ] && echo 0 || echo 1)" "the connection did not start"

cp -r "$EXAMPLES" "$E2E_TMP/examples"
rm "$E2E_TMP/examples/web-to-db.yaml"
dp sync -f "$E2E_TMP/examples" "${BIND[@]}" >"$E2E_TMP/sync2" 2>&1
status compiled/resync $? "second sync failed: $(cat "$E2E_TMP/sync2")"
# only db's entries changed: web and client were not rewritten
grep -q '(1 changed, 0 removed)' "$E2E_TMP/sync2"
status compiled/resync-touches-only-db $? "$(cat "$E2E_TMP/sync2")"

for ((i = 0; i < 60; i++)); do
	e2e_running "$CONN" || break
	sleep 0.05
done
! e2e_running "$CONN" && grep -q '^fail ' "$E2E_TMP/conn"
status compiled/established-connection-cut $? \
	"still running: $(tail -n 1 "$E2E_TMP/conn")"
expect compiled/new-web-to-db-denied denied A tcp B 5432
expect compiled/client-range-still-allowed allowed C tcp A 32000

# The veths' far ends, read from rtnetlink: each pod's MAC and addresses.
dp links >"$E2E_TMP/links" 2>&1
bad=0
for p in A B C; do
	grep -q "^h-$p mac ${POD_MAC[$p]} ${POD_IP4[$p]} ${POD_IP6[$p]}\$" \
		"$E2E_TMP/links" || bad=1
done
status compiled/links-show-each-pods-mac-and-addresses $bad \
	"$(cat "$E2E_TMP/links")"

# Found by address instead of named, the same pods bind to the same veths
# with the same MACs: a sync of the same state then writes nothing.
dp sync -f "$E2E_TMP/examples" --bind-by-ip >"$E2E_TMP/sync3" 2>&1 &&
	grep -q '^synced 3 endpoints (0 changed, 0 removed): policy +0 -0, ipcache +0 -0' \
		"$E2E_TMP/sync3"
status compiled/bind-by-ip-finds-the-same-binding $? "$(cat "$E2E_TMP/sync3")"

e2e_finish
