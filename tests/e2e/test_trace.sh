#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwall trace against the datapath: for every ordered pair of four CNI
# pods and every port and protocol of a small matrix, the verdict trace
# gives (from the policy model) is the verdict real traffic gets (from
# the maps, in the kernel). The policies mix what trace must get right:
# egress and ingress isolation together, a namespace selector, a port
# range, a named port, an except, and a pod that no policy selects.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init agent

e2e_node_create || {
	not_ok trace/topology "could not build the node"
	exit 1
}
cni_conf 1.0.0
agent_start || {
	not_ok trace/agent "podwalld did not start"
	exit 1
}
PODS=(fa fb fc fd)
for p in "${PODS[@]}"; do
	cni_add "$p" tr || {
		not_ok trace/add-$p "CNI ADD failed"
		exit 1
	}
	serve "$p" --tcp 80,81,8080 --udp 53,80 --seconds 120
done
for p in "${PODS[@]}"; do
	wait_listen "$p" 8080 && wait_listen "$p" 80 udp || {
		not_ok trace/servers "servers did not start"
		exit 1
	}
done

# Labels and a named port come from Pod manifests; the CNI plugin gave
# the addresses.
cat >"$E2E_TMP/objects.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: tr, labels: {team: red}}
---
apiVersion: v1
kind: Pod
metadata: {namespace: tr, name: fa, labels: {app: front}}
---
apiVersion: v1
kind: Pod
metadata: {namespace: tr, name: fb, labels: {app: api}}
spec: {containers: [{name: c, ports: [{name: web, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {namespace: tr, name: fc, labels: {app: db}}
---
apiVersion: v1
kind: Pod
metadata: {namespace: tr, name: fd, labels: {app: batch}}
---
# api: from front on its named port "web", from the team's namespace on
# 80-81 (a range)
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: tr, name: api-in}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: front}}}]
    ports: [{port: web}]
  - from: [{namespaceSelector: {matchLabels: {team: red}}}]
    ports: [{port: 80, endPort: 81}]
---
# db: only api, on 80, and nothing from db's own side but DNS to anyone
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: tr, name: db}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 80}]
  egress:
  - ports: [{protocol: UDP, port: 53}]
---
# batch may talk to everything in the pod network but db's address
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: tr, name: batch-out}
spec:
  podSelector: {matchLabels: {app: batch}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.124.0.0/24, except: [${POD_IP4[fc]}/32]}}]
YAML
if pw apply -f "$E2E_TMP/objects.yaml" >&2; then
	ok trace/apply
else
	not_ok trace/apply "apply failed"
	e2e_finish
fi

# Every cell: trace's verdict, then the traffic's; both must agree. The
# probes run in parallel per source, bounded by their own timeouts.
CELLS=("tcp 80" "tcp 81" "tcp 8080" "udp 53" "udp 80")
mismatch=0 cells=0 allowed=0
: >"$E2E_TMP/matrix"
for s in "${PODS[@]}"; do
	jobs_=()
	for d in "${PODS[@]}"; do
		[ "$s" = "$d" ] && continue
		for c in "${CELLS[@]}"; do
			set -- $c
			(
				t=$(pw trace --from "tr/$s" --to "tr/$d" \
					--port "$2/$1" -o json |
					"$PY" -c 'import json,sys; print(json.load(sys.stdin)["verdict"])')
				if reach "$s" "$1" "$d" "$2"; then
					o=allowed
				else
					o=denied
				fi
				echo "$s $d $1/$2 $t $o"
			) >>"$E2E_TMP/matrix" &
			jobs_+=($!)
		done
	done
	# only these: the servers and the agent are children too
	wait "${jobs_[@]}"
done
while read -r s d port t o; do
	cells=$((cells + 1))
	[ "$o" = allowed ] && allowed=$((allowed + 1))
	if [ "$t" != "$o" ]; then
		mismatch=$((mismatch + 1))
		log "mismatch: tr/$s -> tr/$d $port: trace says $t, traffic was $o"
	fi
done <"$E2E_TMP/matrix"
log "trace matrix: $cells cells, $allowed allowed, $mismatch mismatches"
check trace/matrix-complete "only $cells of 60 cells ran" test "$cells" -eq 60
# both verdicts occur, so agreement cannot come from one answer everywhere
check trace/matrix-has-both-verdicts "$allowed of $cells allowed" \
	test "$allowed" -gt 5 -a "$allowed" -lt $((cells - 5))
check trace/agrees-with-datapath "$mismatch of $cells cells disagree" \
	test "$mismatch" -eq 0
e2e_finish
