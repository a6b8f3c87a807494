#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwalld, the node agent, on real traffic: it binds the pods of a
# manifest folder to their veths by address, follows changes to the folder,
# keeps the last good state when a manifest is invalid, and leaves
# enforcement in place when killed; a restarted agent adopts the pinned maps
# and finds nothing to change.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp

AGENT=${DP%/podwall-dp}/podwalld
[ -x "$AGENT" ] || skip "no $AGENT (run make)"


# eventually NAME allowed|denied FROM PROTO DST PORT: within 3 s.
eventually() {
	local name=$1 want=$2 got i

	shift 2
	for ((i = 0; i < 15; i++)); do
		if reach "$@"; then got=allowed; else got=denied; fi
		[ "$got" = "$want" ] && break
		sleep 0.2
	done
	status "$name" "$([ "$got" = "$want" ] && echo 0 || echo 1)" \
		"$* expected $want, got $got"
}

# log_wait PATTERN: the agent's log shows PATTERN within 5 s.
log_wait() {
	local i

	for ((i = 0; i < 50; i++)); do
		grep -q -- "$1" "$E2E_TMP/agent.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_agent() {
	E2E_PIN_LOADED=1
	: >"$E2E_TMP/agent.log"
	bg nsenter --net="/run/netns/$NODE" "$AGENT" --manifests "$M" \
		--pin "$PIN" --ct-max 4096 --state-dir "$E2E_TMP/state" \
		--socket "$E2E_TMP/pw.sock" --config /dev/null \
		--flow-log "$E2E_TMP/flows" --metrics-file "$E2E_TMP/metrics.prom" \
		2>"$E2E_TMP/agent.log"
	APID=$E2E_LASTPID
}

e2e_topology || {
	not_ok agent/topology "could not build the namespaces"
	exit 1
}
serve A --tcp 8080,32000 --seconds 90
serve B --tcp 5432,5433 --udp 53 --seconds 90
serve C --tcp 5432 --seconds 90
wait_listen A 32000 && wait_listen B 5433 && wait_listen C 5432 || {
	not_ok agent/servers "servers did not start"
	exit 1
}

EXAMPLES=$E2E_REPO/policy/examples
M=$E2E_TMP/manifests
mkdir -p "$M" && cp "$EXAMPLES/cluster.yaml" "$M/"

start_agent
log_wait '3 pods, 3 here'
status agent/binds-pods-by-address $? "$(cat "$E2E_TMP/agent.log")"
expect agent/no-policy-allows allowed A tcp B 5433

cp "$EXAMPLES"/*.yaml "$M/"
eventually agent/policy-file-enforced denied A tcp B 5433
expect agent/web-to-db-postgres allowed A tcp B 5432
expect agent/client-to-db-denied denied C tcp B 5432
expect agent/client-to-web-range allowed C tcp A 32000

# Someone removes podwall's filters (tc qdisc del): the agent hears it on
# rtnetlink and attaches again, with no signal or apply to prompt it.
in_node tc qdisc del dev h-B clsact
eventually agent/filters-removed-by-hand-come-back denied A tcp B 5433
in_node tc filter show dev h-B ingress | grep -q pw_from_pod
status agent/filters-back-on-the-veth $? \
	"$(in_node tc filter show dev h-B ingress)"

# The metrics file (rewritten every 10 s) counts the denied connects to
# db by endpoint and reason. Bounded wait: 12 s.
metrics_denied() {
	sed -n 's/^podwall_packets_total{endpoint="shop\/db-1",verdict="denied",reason="policy-denied"} \([0-9]*\)$/\1/p' \
		"$E2E_TMP/metrics.prom" 2>/dev/null
}
for ((i = 0; i < 60; i++)); do
	[ "$(metrics_denied)" -ge 1 ] 2>/dev/null && break
	sleep 0.2
done
check agent/metrics-count-denies-by-endpoint-and-reason \
	"metrics: $(grep -c . "$E2E_TMP/metrics.prom" 2>/dev/null) lines, none for shop/db-1 denied" \
	test "$(metrics_denied)" -ge 1 2>/dev/null

# An invalid manifest: a clear error, the agent runs on, nothing changes.
cat >"$M/bad.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 90, endPort: 80}]
YAML
log_wait 'bad.yaml: NetworkPolicy shop/bad: spec.ingress\[0\].ports\[0\].endPort: must be >= port'
status agent/bad-manifest-error-names-file-object-field $? \
	"$(tail -n 3 "$E2E_TMP/agent.log")"
e2e_running "$APID"
status agent/still-running-after-bad-manifest $? "the agent died"
expect agent/last-good-state-kept-1 allowed A tcp B 5432
expect agent/last-good-state-kept-2 denied A tcp B 5433
rm "$M/bad.yaml"

# podwall apply: a change of policies alone reads no link (the veths read
# before still stand); a link event reads the links again, a pod applied
# its peers' addresses. The applied object is on disk once the apply has
# returned: the restart below finds the maps unchanged with it in force.
reads() {
	pw status -o json | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(d["link_scans"], d["address_reads"])'
}
read -r scans0 addrs0 < <(reads)
cat >"$E2E_TMP/client-in.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {role: client}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 5432}]
YAML
pw apply -f "$E2E_TMP/client-in.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status agent/apply-policy $? "$(cat "$E2E_TMP/apply.err")"
expect agent/applied-policy-enforced allowed A tcp C 5432
read -r scans1 addrs1 < <(reads)
check agent/policy-change-reads-no-link \
	"link scans $scans0 -> $scans1, address reads $addrs0 -> $addrs1" \
	test "$scans1 $addrs1" = "$scans0 $addrs0"
[ -s "$E2E_TMP/state/applied/NetworkPolicy_shop_client-from-web.json" ]
status agent/applied-policy-saved $? "$(ls "$E2E_TMP/state/applied")"
in_node ip link add pwe2e-dummy type dummy
for ((i = 0; i < 30; i++)); do
	read -r scans2 addrs2 < <(reads)
	[ "$scans2" -gt "$scans1" ] && break
	sleep 0.1
done
check agent/link-event-reads-links "link scans $scans1 -> $scans2" \
	test "$scans2" -gt "$scans1"
in_node ip link del pwe2e-dummy
sleep 0.3 # its DELLINK's reconcile
read -r scans2 addrs2 < <(reads)
cat >"$E2E_TMP/late.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: late-1, namespace: shop, labels: {app: late}}
status: {podIP: 10.99.0.1}
YAML
pw apply -f "$E2E_TMP/late.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status agent/apply-pod $? "$(cat "$E2E_TMP/apply.err")"
read -r scans3 addrs3 < <(reads)
check agent/pod-apply-reads-addresses-not-links \
	"link scans $scans2 -> $scans3, address reads $addrs2 -> $addrs3" \
	test "$scans3" = "$scans2" -a "$addrs3" -gt "$addrs2"
pw delete pod shop/late-1 >/dev/null 2>"$E2E_TMP/apply.err"
status agent/delete-pod $? "$(cat "$E2E_TMP/apply.err")"

# SIGKILL: no cleanup, and enforcement goes on without the agent.
kill -KILL "$APID"
wait "$APID" 2>/dev/null
expect agent/killed-still-enforces-deny denied A tcp B 5433
expect agent/killed-still-allows allowed A tcp B 5432

# A new agent adopts the pinned maps: nothing to change.
start_agent
log_wait 'endpoints 0 changed, 0 removed; policy +0 -0; ipcache +0 -0'
status agent/restart-adopts-maps-unchanged $? \
	"$(grep podwalld: "$E2E_TMP/agent.log" | tail -n 2)"
expect agent/restarted-enforces denied A tcp B 5433

# Withdraw the policies: the pods are open again.
rm "$M"/default-deny.yaml "$M"/web-to-db.yaml "$M"/web-ingress.yaml \
	"$M"/egress-dns-and-range.yaml
eventually agent/policies-removed-open-again allowed A tcp B 5433

# SIGTERM: a clean exit that leaves enforcement in place.
cp "$EXAMPLES"/web-to-db.yaml "$M/"
eventually agent/policy-back denied A tcp B 5433
kill -TERM "$APID"
for ((i = 0; i < 30; i++)); do
	e2e_running "$APID" || break
	sleep 0.1
done
wait "$APID" 2>/dev/null
rc=$?
status agent/sigterm-exits-0 "$rc" "exit status $rc"
expect agent/after-sigterm-still-enforces denied A tcp B 5433

# --uninstall: podwall's filters and pins go, another tool's filter stays.
# (This kernel has no tc actions or matchall: a u32 match-all stands in.)
in_node tc filter add dev h-A ingress prio 2 u32 match u32 0 0 classid 1:1
in_node "$AGENT" --uninstall --pin "$PIN" --state-dir "$E2E_TMP/state" \
	--socket "$E2E_TMP/pw.sock" --config /dev/null 2>>"$E2E_TMP/agent.log"
status agent/uninstall-exits-0 $? "$(tail -n 2 "$E2E_TMP/agent.log")"
[ ! -e "$PIN" ]
status agent/uninstall-removes-pins $? "$PIN is still there"
! in_node tc filter show dev h-B ingress | grep -q pw_from_pod &&
	! in_node tc filter show dev h-B egress | grep -q pw_to_pod
status agent/uninstall-detaches $? "$(in_node tc filter show dev h-B ingress)"
in_node tc filter show dev h-A ingress | grep -q u32
status agent/uninstall-leaves-other-filters $? \
	"$(in_node tc filter show dev h-A ingress)"
expect agent/uninstalled-open-again allowed A tcp B 5433

# An endpoints map too small for this node's pods (--endpoints-max 2, three
# pods): the reconcile fails naming the first endpoint that does not fit,
# and nothing is attached.
: >"$E2E_TMP/agent.log"
rm -rf "$E2E_TMP/state"
bg nsenter --net="/run/netns/$NODE" "$AGENT" --manifests "$M" --pin "$PIN" \
	--ct-max 4096 --endpoints-max 2 --state-dir "$E2E_TMP/state" \
	--socket "$E2E_TMP/pw.sock" --config /dev/null --flow-log none \
	2>"$E2E_TMP/agent.log"
APID=$E2E_LASTPID
log_wait 'the endpoints map is full, 2 local pods at most; raise --endpoints-max'
status agent/endpoints-full-error $? "$(tail -n 3 "$E2E_TMP/agent.log")"
grep -q 'endpoint shop/[a-z]*-1 (and 0 more): the endpoints map is full' \
	"$E2E_TMP/agent.log"
status agent/endpoints-full-names-the-endpoint $? \
	"$(grep 'endpoints map' "$E2E_TMP/agent.log" | tail -n 1)"
! in_node tc filter show dev h-B ingress | grep -q pw_from_pod
status agent/endpoints-full-attaches-nothing $? \
	"$(in_node tc filter show dev h-B ingress)"
kill -TERM "$APID"
wait "$APID" 2>/dev/null

e2e_finish
