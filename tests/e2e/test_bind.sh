#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Binding a pod to its veth cannot be taken over by another pod that copies
# its address. Pods a, b, c (namespace demo) come from the real CNI bridge
# plugin chained with podwall's, so the agent knows each pod's network
# namespace. b admits nothing (default-deny ingress); c may send nothing
# (default-deny egress).
#
#   c adds b's address to its eth0: b stays bound to its own veth and
#   keeps denying; c stays bound and keeps its egress policy.
#   c then drops its own address (holding only b's): both stay bound, and
#   c's packets, now from b's address, are dropped as spoofed.
#
# A pod known only by its address ("behind two veths binds neither") would
# lose its enforcement here; before this test's fix b did.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

for f in "$AGENT" "$PWCLI" "$CNI_BIN/podwall" /usr/lib/cni/bridge \
	/usr/lib/cni/host-local; do
	[ -x "$f" ] || skip "no $f (run make; apt install containernetworking-plugins)"
done

PORT=8080

# bound POD: the agent has POD (namespace demo) on the veth its CNI
# result named, with its CNI address.
bound() {
	pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1
	"$PY" - "$E2E_TMP/eps.json" "$1" "$(host_if "$1")" <<'EOF'
import json, sys
path, pod, hif = sys.argv[1:]
o = json.load(open(path))
items = o["items"] if isinstance(o, dict) else o
e = [x for x in items if x["namespace"] == "demo" and x["pod"] == pod]
ok = len(e) == 1 and e[0].get("interface") == hif
if not ok:
    print("# want", pod, "on", hif, "; got", e, file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

host_if() {
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print([i["name"] for i in r["interfaces"] if not i.get("sandbox")][-1])' \
		"$E2E_TMP/cnicache/pwe2e-cid-$1-eth0"
}

cni_conf 1.0.0 bridge
if ! e2e_node_create; then
	not_ok bind/topology "could not create the node namespace"
	e2e_finish
fi
if ! agent_start; then
	not_ok bind/agent "podwalld did not start"
	e2e_finish
fi
for p in a b c; do
	if ! cni_add "$p" demo "app=$p" >/dev/null; then
		not_ok bind/cni-add "ADD of pod $p failed"
		e2e_finish
	fi
done
in_node sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null
NS_C=$E2E_NS_PREFIX\c

serve a --tcp "$PORT" --seconds 60
serve b --tcp "$PORT" --seconds 60
if wait_listen a "$PORT" && wait_listen b "$PORT"; then
	ok bind/servers
else
	not_ok bind/servers "servers did not start"
	e2e_finish
fi
# no policy yet: the topology passes both flows the policies will deny
expect bind/baseline-a-to-b allowed a tcp "${POD_IP4[b]}" "$PORT"
expect bind/baseline-c-to-a allowed c tcp "${POD_IP4[a]}" "$PORT"

cat >"$E2E_TMP/pol.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"namespace": "demo", "name": "b-closed"},
  "spec": {"podSelector": {"matchLabels": {"app": "b"}},
           "policyTypes": ["Ingress"]}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
  "metadata": {"namespace": "demo", "name": "c-silent"},
  "spec": {"podSelector": {"matchLabels": {"app": "c"}},
           "policyTypes": ["Egress"]}}]}
EOF
apply() { pw apply -f "$1" >/dev/null; }
check bind/apply "apply failed" apply "$E2E_TMP/pol.json"
expect bind/a-to-b-denied denied a tcp "${POD_IP4[b]}" "$PORT"
expect bind/c-to-a-denied denied c tcp "${POD_IP4[a]}" "$PORT"

# c takes b's address as well as its own
ip -n "$NS_C" addr add "${POD_IP4[b]}/32" dev eth0
check bind/reconcile-after-copy "no reconcile after SIGHUP" agent_reconcile
check bind/copy-b-still-bound "b lost its veth" bound b
check bind/copy-c-still-bound "c lost its veth" bound c
expect bind/copy-a-to-b-still-denied denied a tcp "${POD_IP4[b]}" "$PORT"
expect bind/copy-c-to-a-still-denied denied c tcp "${POD_IP4[a]}" "$PORT"

# c keeps only b's address: nothing to bind c by but its namespace
ip -n "$NS_C" addr del "${POD_IP4[c]}/24" dev eth0
ip -n "$NS_C" route add default dev eth0 2>/dev/null
check bind/reconcile-after-swap "no reconcile after SIGHUP" agent_reconcile
check bind/swap-b-still-bound "b lost its veth" bound b
check bind/swap-c-still-bound "c lost its veth" bound c
expect bind/swap-a-to-b-still-denied denied a tcp "${POD_IP4[b]}" "$PORT"
before=$(in_node "$DP" --pin "$PIN" counters --json 2>/dev/null |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["drops"]["spoofed-ip"]["packets"])')
expect bind/swap-c-to-a-denied denied c tcp "${POD_IP4[a]}" "$PORT"
after=$(in_node "$DP" --pin "$PIN" counters --json 2>/dev/null |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["drops"]["spoofed-ip"]["packets"])')
if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ]; then
	ok bind/swap-c-dropped-as-spoofed
else
	not_ok bind/swap-c-dropped-as-spoofed \
		"spoofed-ip drops did not grow (${before:-?} -> ${after:-?})"
fi

e2e_finish
