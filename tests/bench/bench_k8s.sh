#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Kubernetes mode at cluster size (issue 9): podwalld --kubeconfig against
# tests/e2e/k8s/fakeapi.py seeded with a generated cluster, both in a
# throwaway node namespace. Nothing on the host is touched.
#
#   cluster  P pods (150,000; --quick 5,000), all on other nodes (P/30
#            node names, none of them ours: remote peers, no veths), in
#            P/100 labelled namespaces; ReplicaSets of 10 pods (labels app
#            and pod-template-hash), one podIP each in 10.0.0.0/8, two
#            NetworkPolicies per namespace (default deny ingress, and an
#            allow from a team's namespaces and one app)
#   sync     from the agent's start until its status shows the kubernetes
#            source synced, a reconcile that went well and one ipcache
#            entry per pod (the maps are written: the robust signal, the
#            source's "synced" alone is only the list)
#   memory   the agent's VmRSS and VmHWM, the memlock of its pinned maps,
#            the ipcache's entry count
#   events   E MODIFIED events (20,000; --quick 1,000): a label
#            (bench=v0..v3) set on random pods, handed to the server in
#            batches of 500, then a last one that gives a marker pod a
#            label set of its own. events_per_s = E / the time from the
#            first batch to the marker's address getting a new identity
#            in the pinned ipcache (bpftool lookup): the agent processed
#            the stream in order, so that reconcile holds every event
#            before it. recv_per_s: E / the time until the source's
#            "pods" event counter moved by E (parsed, not yet applied;
#            polled every 0.5 s). Both include the fake server's own work
#            (Python).
#
# Writes OUT/k8s_scale.csv (one row per run, appended) and a line per run
# on stderr. usage: BUILD=DIR bench_k8s.sh [--quick] [--out DIR]
#   [--pods N] [--events E]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
PY=/usr/bin/python3
OUT=bench-out
P=150000
E=20000
while [ $# -gt 0 ]; do
	case $1 in
	--quick) P=5000 E=1000 ;;
	--out) OUT=${2:?--out DIR}; shift ;;
	--pods) P=${2:?--pods N}; shift ;;
	--events) E=${2:?--events E}; shift ;;
	*) echo "usage: bench_k8s.sh [--quick] [--out DIR] [--pods N] [--events E]" >&2
	   exit 2 ;;
	esac
	shift
done
CLI=$BUILD/podwall
AGENT=$BUILD/podwalld
FAKEAPI=$REPO/tests/e2e/k8s/fakeapi.py
for f in "$CLI" "$AGENT"; do
	[ -x "$f" ] || { echo "bench_k8s: no $f (make BUILD=$BUILD)" >&2; exit 1; }
done
for c in bpftool openssl nsenter; do
	command -v "$c" >/dev/null || { echo "bench_k8s: needs $c" >&2; exit 1; }
done
mkdir -p "$OUT" || exit 1

T=$(mktemp -d /tmp/pwbench-k8s.XXXXXX)
NODE=pwb-k8s-$$
PIN=/sys/fs/bpf/pwbench-k8s-$$
APID=
SPID=
API=$T/api
TOKEN=bench-podwall-token

cleanup() {
	local p
	# the agent's log (its reconcile lines: time, map writes) stays
	[ -s "$T/agent.log" ] && cp "$T/agent.log" "$OUT/k8s_agent_$P.log"
	for p in $APID $SPID; do
		kill "$p" 2>/dev/null
	done
	for p in $APID $SPID; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$NODE" 2>/dev/null
	rm -rf "$PIN" "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

log() { echo "bench_k8s: $*" >&2; }
pw() { "$CLI" --socket "$T/pw.sock" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }

# --------------------------------------------------------- the cluster
mkdir -p "$T/fix" "$API/ctl.new" "$T/ev" || exit 1
$PY - "$T/fix" "$T/ev" "$P" "$E" <<'EOF' || { log "fixtures failed"; exit 1; }
import hashlib, json, os, random, sys
fix, evd, P, E = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(9)
NS = max(1, P // 100)
NODES = max(1, P // 30)
TS = "2026-11-29T09:00:00Z"
uid = lambda s: "%s-%s-%s-%s-%s" % ((lambda h: (h[:8], h[8:12], h[12:16],
    h[16:20], h[20:32]))(hashlib.sha1(s.encode()).hexdigest()))
rv = 1000
def md(name, ns=None, labels=None):
    global rv
    rv += 1
    m = {"name": name, "uid": uid((ns or "") + "/" + name),
         "resourceVersion": str(rv), "creationTimestamp": TS}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    return m
def dump(fn, kind, api, items):
    with open(os.path.join(fix, fn), "w") as f:
        json.dump({"kind": kind, "apiVersion": api,
                   "metadata": {"resourceVersion": str(rv + 1)},
                   "items": items}, f, separators=(",", ":"))
nss, pods, pols = [], [], []
for i in range(NS):
    n = "ns-%05d" % i
    nss.append({"metadata": md(n, labels={
        "kubernetes.io/metadata.name": n, "team": "t%02d" % (i % 20),
        "env": "prod" if i % 3 else "dev"}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}})
    pols.append({"metadata": md("default-deny", n), "spec": {
        "podSelector": {}, "policyTypes": ["Ingress"]}})
    pols.append({"metadata": md("allow-app0", n), "spec": {
        "podSelector": {"matchLabels": {"app": "app0"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [
            {"namespaceSelector": {"matchLabels": {"team": "t%02d" % ((i + 1) % 20)}}},
            {"podSelector": {"matchLabels": {"app": "app1"}}}],
            "ports": [{"protocol": "TCP", "port": 8080},
                      {"protocol": "TCP", "port": "http"}]}]}})
for i in range(P):
    ns = "ns-%05d" % min(i // 100, NS - 1)
    rs = i // 10                     # a ReplicaSet of 10 pods
    app = "app%d" % (rs % 10 // 2)   # two ReplicaSets per app (a rollout)
    h = hashlib.sha1(str(rs).encode()).hexdigest()[:10]
    a = i + 256                      # 10.0.1.0 on
    ip = "10.%d.%d.%d" % (a >> 16 & 255, a >> 8 & 255, a & 255)
    name = "%s-%s-%05d" % (app, h, i)
    pods.append({"metadata": md(name, ns, {"app": app, "pod-template-hash": h}),
        "spec": {"containers": [{"name": "main", "image": "nginx:1.25",
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"},
                      {"name": "alt", "containerPort": 8080, "protocol": "TCP"}]}],
            "nodeName": "node-%04d" % (i % NODES), "restartPolicy": "Always"},
        "status": {"phase": "Running", "hostIP": "192.168.%d.%d" % (
            (i % NODES) >> 8 & 255, (i % NODES) & 255),
            "podIP": ip, "podIPs": [{"ip": ip}]}})
dump("namespaces.json", "NamespaceList", "v1", nss)
dump("pods.json", "PodList", "v1", pods)
dump("networkpolicies.json", "NetworkPolicyList", "networking.k8s.io/v1", pols)
# the events: random pods but the marker (the last pod), in batches of 500
marker = pods[-1]["metadata"]
patch = lambda m, labels: {"op": "patch", "kind": "Pod",
    "namespace": m["namespace"], "name": m["name"],
    "patch": {"metadata": {"labels": labels}}}
evs = [patch(pods[random.randrange(P - 1)]["metadata"],
             {"bench": "v%d" % (k % 4)}) for k in range(E - 1)]
evs.append(patch(marker, {"bench": "last-%d" % random.randrange(10**9)}))
for b in range(0, E, 500):
    with open(os.path.join(evd, "%06d.json" % b), "w") as f:
        json.dump({"op": "batch", "changes": evs[b:b + 500]}, f)
with open(os.path.join(evd, "marker"), "w") as f:
    print(pods[-1]["status"]["podIP"], file=f)
print(len(nss), len(pols), file=open(os.path.join(evd, "counts"), "w"))
EOF
read -r NNS NPOL <"$T/ev/counts"
MARKER=$(cat "$T/ev/marker")
log "P=$P: fixtures for $P pods, $NNS namespaces, $NPOL policies," \
	"$(du -sh "$T/fix" | cut -f1)"

# ----------------------------------------------------- node, server, agent
ip netns add "$NODE" && ip -n "$NODE" link set lo up || exit 1
nsenter --net="/run/netns/$NODE" $PY "$FAKEAPI" --dir "$API" \
	--fixtures "$T/fix" --token "$TOKEN" 2>"$T/fakeapi.err" &
SPID=$!
for ((i = 0; i < 600; i++)); do
	[ -s "$API/port" ] && break
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ -s "$API/port" ] || { log "fakeapi did not start: $(tail -3 "$T/fakeapi.err")"; exit 1; }
cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$(cat "$API/port")
    certificate-authority: $API/ca.crt
users:
- name: podwall
  user:
    token: $TOKEN
contexts:
- name: fake
  context: {cluster: fake, user: podwall}
current-context: fake
EOF

# st EXPR: a Python expression over the agent's status (s; k: its
# kubernetes source); "" when the agent does not answer
st() {
	pw status -o json 2>/dev/null | $PY -c '
import json, sys
s = json.load(sys.stdin)
k = s["sources"]["kubernetes"]
v = eval(sys.argv[1])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" 2>/dev/null
}

# identities: how many label identities the agent holds
identities() {
	pw get identities -o json 2>/dev/null | $PY -c '
import json, sys
o = json.load(sys.stdin)
print(len(o["items"] if isinstance(o, dict) else o))' 2>/dev/null
}

memlock_kib() {
	local f
	for f in "$PIN"/*; do
		bpftool -j map show pinned "$f" 2>/dev/null
		echo
	done | $PY -c '
import json, sys
tot = 0
for line in sys.stdin:
    line = line.strip()
    if line:
        tot += int(json.loads(line).get("bytes_memlock", 0))
print(tot // 1024)'
}

# ipc_id IP: the identity in the pinned ipcache for IP (key: prefixlen
# 128, the address v4-mapped), or "none"
ipc_id() {
	local k
	k=$(echo "$1" | awk -F. '{printf "128 0 0 0 0 0 0 0 0 0 0 0 0 0 255 255 %d %d %d %d", $1, $2, $3, $4}')
	# shellcheck disable=SC2086
	bpftool -j map lookup pinned "$PIN/pw_ipcache" key $k 2>/dev/null |
		$PY -c '
import json, sys
try:
    v = json.load(sys.stdin)
    f = v.get("formatted", {}).get("value")
    print(f["id"] if f else " ".join(v["value"][:4]))
except Exception:
    print("none")'
}

mkdir -p "$T/state"
T0=$(now)
# nsenter execs the agent: $! is the agent itself (RSS, kill)
nsenter --net="/run/netns/$NODE" "$AGENT" --pin "$PIN" --state-dir "$T/state" \
	--socket "$T/pw.sock" --config /dev/null --flow-log none \
	--kubeconfig "$T/kubeconfig" --node-name this-node \
	--ipcache-max 262144 --endpoints-max 4096 2>"$T/agent.log" &
APID=$!

# sync: bounded by 10 minutes; 0.5 s polls (a status walks the maps to
# count their entries, on the agent's main thread: at 150,000 pods each
# takes it tens of ms, which polling every 0.1 s would take from the run)
SYNC=
for ((i = 0; i < 1200; i++)); do
	kill -0 "$APID" 2>/dev/null || break
	if [ "$(st "k['synced'] and s['last_reconcile_ok'] and s['reconciles'] > 0 and s['maps']['ipcache']['entries'] >= $P")" = True ]; then
		SYNC=$(elapsed "$T0" "$(now)")
		break
	fi
	sleep 0.5
done
if [ -z "$SYNC" ]; then
	log "P=$P: no full sync: $(st "(k['synced'], k['pods'], s['maps']['ipcache'], s['last_error'], k['error'])")"
	tail -5 "$T/agent.log" >&2
	exit 1
fi
RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$APID/status")
t=$(now)
pw status >/dev/null 2>&1
STATUS_MS=$(awk -v a="$t" -v b="$(now)" 'BEGIN {printf "%.0f", (b - a) * 1000}')
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$APID/status")
MAPKB=$(memlock_kib)
IDS=$(identities)
read -r IPC KPODS KNS KPOL < <(st "s['maps']['ipcache']['entries'], k['pods'], k['namespaces'], k['networkpolicies']")
if [ "$KPODS $KNS $KPOL" != "$P $NNS $NPOL" ]; then
	log "P=$P: the agent holds $KPODS pods, $KNS namespaces, $KPOL policies"
	exit 1
fi
log "P=$P: synced in $SYNC s; RSS $RSS KiB (peak $HWM, $((RSS * 1024 / P)) B/pod)," \
	"maps $MAPKB KiB, ipcache $IPC entries, $IDS identities;" \
	"podwall status $STATUS_MS ms"

# ---------------------------------------------------------- the events
BASE=$(st "k['kinds']['pods']['events']")
OLD=$(ipc_id "$MARKER")
[ "$OLD" != none ] || { log "marker $MARKER not in the ipcache"; exit 1; }
for f in "$T"/ev/*.json; do
	mv "$f" "$API/ctl.new/" || exit 1
done
T1=$(now)
# renamed in, in name order (the server takes them in name order)
for f in "$API"/ctl.new/*.json; do
	mv "$f" "$API/ctl/" || exit 1
done
RECV='' DONE=''
for ((i = 0; i < 6000; i++)); do  # 10 minutes at most
	kill -0 "$APID" 2>/dev/null || break
	# the marker every 0.1 s (bpftool, the agent does nothing); the
	# status, which the agent answers, every 0.5 s
	if [ -z "$RECV" ] && ((i % 5 == 4)) &&
		[ "$(st "k['kinds']['pods']['events'] - $BASE >= $E")" = True ]; then
		RECV=$(elapsed "$T1" "$(now)")
	fi
	id=$(ipc_id "$MARKER")
	if [ "$id" != none ] && [ "$id" != "$OLD" ]; then
		DONE=$(elapsed "$T1" "$(now)")
		break
	fi
	sleep 0.1
done
if [ -z "$DONE" ]; then
	log "P=$P: the marker's identity never changed ($OLD); events seen:" \
		"$(st "k['kinds']['pods']['events'] - $BASE"), $(st "s['last_error']")"
	exit 1
fi
[ -n "$RECV" ] || RECV=$(elapsed "$T1" "$(now)")
GOT=$(st "k['kinds']['pods']['events'] - $BASE")
if [ "$GOT" -lt "$E" ]; then
	log "P=$P: only $GOT of $E events counted"
	exit 1
fi
EPS=$(awk -v e="$E" -v t="$DONE" 'BEGIN {printf "%.0f", e / t}')
RPS=$(awk -v e="$E" -v t="$RECV" 'BEGIN {printf "%.0f", e / t}')
RSS2=$(awk '/^VmRSS/ {print $2}' "/proc/$APID/status")
HWM2=$(awk '/^VmHWM/ {print $2}' "/proc/$APID/status")
RECS=$(st "s['reconciles']")
IDS2=$(identities)
log "P=$P: $E events applied in $DONE s ($EPS/s; received in $RECV s, $RPS/s)," \
	"$RECS reconciles so far; RSS now $RSS2 KiB (peak $HWM2), $IDS2 identities"

CSV=$OUT/k8s_scale.csv
[ -s "$CSV" ] || echo "pods,namespaces,policies,sync_s,rss_kb,hwm_kb,map_kb,ipcache_entries,events,events_per_s,recv_per_s,events_s,rss_after_events_kb,hwm_after_events_kb,reconciles,identities,identities_after_events" >"$CSV"
echo "$P,$NNS,$NPOL,$SYNC,$RSS,$HWM,$MAPKB,$IPC,$E,$EPS,$RPS,$DONE,$RSS2,$HWM2,$RECS,$IDS,$IDS2" >>"$CSV"
exit 0
