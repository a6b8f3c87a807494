#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Audit mode through the agent: a namespace or a pod labelled
# podwall.io/audit=true has what its policy would drop passed and logged
# with verdict "audit"; taking the label away enforces again. Malformed
# and spoofed packets still drop in audit mode (kern/DESIGN.md), which
# the unit tests cover.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init agent
e2e_node_create || {
	not_ok audit/topology "could not build the node"
	exit 1
}
cni_conf 1.0.0
agent_start --flow-aggregate 0 || {
	not_ok audit/agent "podwalld did not start"
	exit 1
}
for p in aa ab; do
	cni_add "$p" au "app=$p" || {
		not_ok audit/add-$p "CNI ADD failed"
		exit 1
	}
	serve "$p" --tcp 80 --seconds 90
	wait_listen "$p" 80 || exit 1
done

# ns LABELS: the namespace's manifest with these labels (YAML flow map)
ns() {
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: au, labels: %s}\n' \
		"$1" >"$E2E_TMP/ns.yaml"
	pw apply -f "$E2E_TMP/ns.yaml" >/dev/null
}

cat >"$E2E_TMP/deny.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: au, name: deny-in}
spec: {podSelector: {}, policyTypes: [Ingress]}
YAML
expect audit/baseline-allowed allowed aa tcp ab 80
ns '{}'
pw apply -f "$E2E_TMP/deny.yaml" >/dev/null
expect audit/enforced-denies denied aa tcp ab 80

ns '{"podwall.io/audit": "true"}'
sleep 0.3 # the reconcile follows the apply; bounded either way below
expect audit/namespace-label-passes allowed aa tcp ab 80
got=0
for ((i = 0; i < 20; i++)); do
	pw flows --last 1000 -o json --verdict audit --to-pod au/ab --port 80 \
		--reason policy-denied >"$E2E_TMP/audit.json" 2>/dev/null
	[ -s "$E2E_TMP/audit.json" ] && got=1 && break
	sleep 0.1
done
check audit/logged-as-audit-with-reason "no audit record for aa -> ab:80" \
	test "$got" = 1

ns '{}'
expect audit/label-removed-enforces-again denied aa tcp ab 80

# one pod only, by its own label: ab audits, aa still enforces
cat >"$E2E_TMP/pods.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {namespace: au, name: ab, labels: {app: ab, podwall.io/audit: "true"}}
---
apiVersion: v1
kind: Pod
metadata: {namespace: au, name: aa, labels: {app: aa}}
YAML
pw apply -f "$E2E_TMP/pods.yaml" >/dev/null
expect audit/pod-label-passes-to-that-pod allowed aa tcp ab 80
expect audit/other-pod-still-enforced denied ab tcp aa 80
e2e_finish
