#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Traffic between a pod and its own node. Kubernetes admits it whatever the
# policy (the kubelet's probes come from the node), so podwalld does by
# default; --node-traffic policy judges it like anyone's (Docker's default,
# whose published ports reach containers from the host).
#
# Pods a and b (namespace demo) from the real CNI bridge plugin chained
# with podwall's; the node is the bridge's gateway (10.124.0.1). b's policy
# admits nothing in and lets nothing out.
#
#   node/allow/*   the node reaches b and b reaches the node; a and b
#                  stay cut off; the flow log names the node; an address
#                  the node gains is read.
#   node/policy/*  after a restart with --node-traffic policy, the node is
#                  denied like a; status says which mode is in force.
#
# Every deny is preceded by the same probe passing without policy.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

for f in "$AGENT" "$PWCLI" "$CNI_BIN/podwall" /usr/lib/cni/bridge \
	/usr/lib/cni/host-local; do
	[ -x "$f" ] || skip "no $f (run make; apt install containernetworking-plugins)"
done

PORT=8080
NODE_IP=10.124.0.1

# from_node PROTO DST PORT: 0 if the node reaches DST.
from_node() {
	in_node timeout 5 "${PROBE[@]}" probe "$1" "$2" "$3" --timeout 1
}

# expect_node NAME allowed|denied DST: the node's TCP probe to DST.
expect_node() {
	local got=denied

	from_node tcp "$3" "$PORT" && got=allowed
	if [ "$got" = "$2" ]; then
		ok "$1"
	else
		not_ok "$1" "node to $3:$PORT expected $2, got $got"
	fi
}

# status_is FIELD VALUE: the agent's status says so.
status_is() {
	[ "$(pw status -o json | "$PY" -c \
		'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1")" = "$2" ]
}

if ! e2e_node_create; then
	not_ok node/topology "could not create the node namespace"
	e2e_finish
fi
cni_conf 1.0.0 bridge
if ! agent_start; then
	not_ok node/agent "podwalld did not start"
	e2e_finish
fi
for p in a b; do
	if ! cni_add "$p" demo "app=$p" >/dev/null; then
		not_ok node/cni-add "ADD of pod $p failed"
		e2e_finish
	fi
done
in_node sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null

serve a --tcp "$PORT" --seconds 90
serve b --tcp "$PORT" --seconds 90
bg in_node timeout 90 "${PROBE[@]}" serve --tcp "$PORT" --seconds 90
if wait_listen a "$PORT" && wait_listen b "$PORT"; then
	ok node/servers
else
	not_ok node/servers "servers did not start"
	e2e_finish
fi
expect_node node/baseline-node-to-b allowed "${POD_IP4[b]}"
expect node/baseline-b-to-node allowed b tcp "$NODE_IP" "$PORT"
expect node/baseline-a-to-b allowed a tcp "${POD_IP4[b]}" "$PORT"
expect node/baseline-b-to-a allowed b tcp "${POD_IP4[a]}" "$PORT"

cat >"$E2E_TMP/pol.json" <<'EOF'
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"namespace": "demo", "name": "b-closed"},
 "spec": {"podSelector": {"matchLabels": {"app": "b"}},
          "policyTypes": ["Ingress", "Egress"]}}
EOF
apply() { pw apply -f "$1" >/dev/null; }
check node/apply "apply failed" apply "$E2E_TMP/pol.json"

check node/allow/status "status does not say node_traffic allow" \
	status_is node_traffic allow
expect_node node/allow/node-to-b allowed "${POD_IP4[b]}"
expect node/allow/b-to-node allowed b tcp "$NODE_IP" "$PORT"
expect node/allow/a-to-b-denied denied a tcp "${POD_IP4[b]}" "$PORT"
expect node/allow/b-to-a-denied denied b tcp "${POD_IP4[a]}" "$PORT"
sleep 0.5 # the flow log's records of the probes above
pw flows --last 1000 --pod demo/b -o json >"$E2E_TMP/flows.json" 2>&1
"$PY" - "$E2E_TMP/flows.json" "$NODE_IP" <<'EOF'
import json, sys
ip = sys.argv[2]
recs = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        recs.append(json.loads(line))
if len(recs) == 1 and isinstance(recs[0].get("items"), list):
    recs = recs[0]["items"]
def named(e):
    return e.get("ip") == ip and e.get("node") is True
ok = any(r.get("verdict") == "allowed" and named(r.get("src", {}))
         for r in recs) and \
     any(r.get("verdict") == "allowed" and named(r.get("dst", {}))
         for r in recs)
sys.exit(0 if ok else 1)
EOF
status node/allow/flows-name-the-node $? \
	"no allowed record from and to the node: $(head -c 800 "$E2E_TMP/flows.json")"

# an address the node gains is the node too (an address event reads the
# node's addresses again)
node_addrs() {
	pw status -o json | "$PY" -c \
		'import json,sys; print(json.load(sys.stdin).get("node_addresses"))'
}
n0=$(node_addrs)
in_node ip addr add 192.0.2.77/32 dev lo
for ((i = 0; i < 30; i++)); do
	[ "$(node_addrs)" = "$((n0 + 1))" ] 2>/dev/null && break
	sleep 0.1
done
check node/allow/new-address-read "node addresses ${n0:-?} -> $(node_addrs), want one more" \
	test "$(node_addrs)" = "$((n0 + 1))"

# the same node, judged like anyone
agent_stop
if ! agent_start --node-traffic policy; then
	not_ok node/policy/agent "podwalld did not start again"
	e2e_finish
fi
check node/policy/status "status does not say node_traffic policy" \
	status_is node_traffic policy
expect_node node/policy/node-to-b-denied denied "${POD_IP4[b]}"
expect node/policy/b-to-node-denied denied b tcp "$NODE_IP" "$PORT"
expect node/policy/a-to-b-denied denied a tcp "${POD_IP4[b]}" "$PORT"
if pw_bad=$("$AGENT" --node-traffic sometimes --help 2>&1); then
	not_ok node/bad-flag "--node-traffic sometimes was accepted"
else
	check node/bad-flag "the error does not name the flag: $pw_bad" \
		grep -q "node-traffic" <<<"$pw_bad"
fi

e2e_finish
