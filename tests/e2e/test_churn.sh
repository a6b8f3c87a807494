#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwalld under churn, with CNI pods (bridge + host-local + podwall).
#
#   churn/policy: pods p1..p4 (namespace churn, app=pN). Policy churn/p2-in
#     alternates between two versions, 1,000 times over one control
#     connection, while probers in the pods open TCP connections without
#     pause:
#       X: p2 admits app=p1 on tcp/80 and app=p3 on tcp/81
#       Y: p2 admits app=p1 on tcp/80 and app=p4 on tcp/81
#     Both also admit app=p1 on tcp/(20000 + update number), a marker that
#     tells which update is in force at the end. p1->p2:80 and p2->p1:80
#     (p2's egress is not policed; its replies come back through conntrack)
#     are allowed by both versions, p3->p2:80, p4->p2:80 and p1->p2:81 are
#     denied by both: a single wrong verdict on these pairs fails. p3->p2:81
#     and p4->p2:81 flip and must be seen both ways, or the churn did not
#     reach the datapath while the probers ran.
#   churn/pods: the agent built with ASan (build/asan, `make test` builds
#     it) adopts the maps; 100 pods are added and deleted one after the
#     other while p1..p4 stay, under a policy that gives each churned pod
#     its own policy entries. Afterwards map entries, node links, CNI
#     records, IPAM leases, pins and the agent's open files are as before,
#     its RSS has not grown by 20 MB from pod 10 to pod 100 (with ASan's
#     quarantine cut to 8 MB), and on SIGTERM LeakSanitizer reports
#     nothing.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init agent

ASAN_AGENT=${DP%/podwall-dp}/asan/podwalld
command -v bpftool >/dev/null || skip "needs bpftool"


# ---------------------------------------------------------------- helpers

# The policy, version X or Y, with marker port 20000 + SEQ.
cat >"$E2E_TMP/policy.py" <<'EOF'
import json

def sel(app):
    return {"podSelector": {"matchLabels": {"app": app}}}

def tcp(port):
    return [{"protocol": "TCP", "port": port}]

def policy(version, seq):
    return json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "p2-in", "namespace": "churn"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "p2"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [sel("p1")], "ports": tcp(80)},
                {"from": [sel("p3" if version == "X" else "p4")],
                 "ports": tcp(81)},
                {"from": [sel("p1")], "ports": tcp(20000 + seq)},
            ]}})

if __name__ == "__main__":
    import sys
    print(policy(sys.argv[1], int(sys.argv[2])))
EOF

# churn.py SOCKET N TIMES_FILE: N applies over one connection, update k
# (1..N) is Y(k) for odd k, X(k) for even k. Each answer must be ok:true.
# Writes "start end sent ok" (wall clock) to TIMES_FILE.
cat >"$E2E_TMP/churn.py" <<'EOF'
import json, socket, sys, time
sys.path.insert(0, sys.argv[0].rsplit("/", 1)[0])
from policy import policy

path, n, times = sys.argv[1], int(sys.argv[2]), sys.argv[3]
reqs = [(json.dumps({"op": "apply", "name": "churn-%d" % k,
                     "text": policy("Y" if k % 2 else "X", k)}) + "\n").encode()
        for k in range(1, n + 1)]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(path)
f = s.makefile("rb")
good = sent = 0
t0 = time.time()
for k, r in enumerate(reqs, 1):
    s.sendall(r)
    sent += 1
    line = f.readline()
    try:
        a = json.loads(line)
    except ValueError:
        print("update %d: bad answer %r" % (k, line[:200]), file=sys.stderr)
        break
    if a.get("ok") is True:
        good += 1
    elif good + 5 > k:
        print("update %d: %s" % (k, a.get("error")), file=sys.stderr)
t1 = time.time()
open(times, "w").write("%.6f %.6f %d %d\n" % (t0, t1, sent, good))
sys.exit(0 if good == n else 1)
EOF

# prober.py OUT STOP SECONDS NAME,IP,PORT,GAP_MS...: for each target a new
# TCP connect every GAP_MS, each given 300 ms, many in flight, until STOP
# exists or SECONDS passed. One line per connect: "wallclock name verdict"
# (allowed: handshake done; denied: no answer in 300 ms; else the error),
# the wall clock being when the SYN left.
cat >"$E2E_TMP/prober.py" <<'EOF'
import errno, os, selectors, socket, sys, time

out, stop, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
TMO = 0.3
targets = []
for a in sys.argv[4:]:
    name, ip, port, gap = a.split(",")
    targets.append([name, (ip, int(port)), int(gap) / 1000.0, 0.0])
end = time.monotonic() + secs
f = open(out, "w", buffering=1)
sel = selectors.DefaultSelector()
pend = {}  # socket -> (name, wallclock, deadline)
lines = []
last_stop_check = 0.0

def done(s, v):
    name, wall, _ = pend.pop(s)
    lines.append("%.6f %s %s\n" % (wall, name, v))
    sel.unregister(s)
    s.close()

while True:
    now = time.monotonic()
    if now - last_stop_check > 0.05:
        last_stop_check = now
        f.write("".join(lines))
        lines = []
        if now >= end or os.path.exists(stop):
            break
    for t in targets:
        if now >= t[3]:
            t[3] = now + t[2]
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            wall = time.time()
            e = s.connect_ex(t[1])
            if e not in (0, errno.EINPROGRESS):
                lines.append("%.6f %s %s\n" % (wall, t[0],
                                               errno.errorcode.get(e, e)))
                s.close()
                continue
            pend[s] = (t[0], wall, now + TMO)
            sel.register(s, selectors.EVENT_WRITE)
    for s in [s for s, p in pend.items() if p[2] <= now]:
        try:
            s.getpeername()  # connected, its event not read yet
            done(s, "allowed")
        except OSError:
            done(s, "denied")
    wake = min([t[3] for t in targets] + [p[2] for p in pend.values()])
    for key, _ in sel.select(max(0.0, wake - time.monotonic())):
        e = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        done(key.fileobj, "allowed" if e == 0 else
             errno.errorcode.get(e, str(e)))
# connects still in flight are not judged
f.write("".join(lines))
EOF

# verdicts.py TIMES_FILE OUT...: per pair, probes while the updates ran
# and in all, and what was seen; prints "INWINDOW WRONG FEWEST FLIPS"
# (FLIPS: flipping pairs seen both ways during the updates).
cat >"$E2E_TMP/verdicts.py" <<'EOF'
import sys

WANT = {"p1-p2-80": "allowed", "p2-p1-80": "allowed",
        "p3-p2-80": "denied", "p4-p2-80": "denied", "p1-p2-81": "denied",
        "p3-p2-81": None, "p4-p2-81": None}
t0, t1 = [float(x) for x in open(sys.argv[1]).read().split()[:2]]
seen = {p: {} for p in WANT}
inwin = {p: {} for p in WANT}
wrong = 0
for path in sys.argv[2:]:
    for line in open(path):
        parts = line.split()
        if len(parts) != 3:
            continue
        t, pair, v = float(parts[0]), parts[1], parts[2]
        seen[pair][v] = seen[pair].get(v, 0) + 1
        if t0 <= t <= t1:
            inwin[pair][v] = inwin[pair].get(v, 0) + 1
        if WANT[pair] is not None and v != WANT[pair] or \
           WANT[pair] is None and v not in ("allowed", "denied"):
            wrong += 1
            print("# WRONG at %+.3f s of the updates: %s %s (want %s)"
                  % (t - t0, pair, v, WANT[pair] or "allowed/denied"),
                  file=sys.stderr)
for p in WANT:
    print("# %-9s want %-7s during updates %s, in all %s"
          % (p, WANT[p] or "either", inwin[p], seen[p]), file=sys.stderr)
n = sum(sum(d.values()) for d in inwin.values())
fewest = min(sum(d.values()) for d in inwin.values())
flips = sum(1 for p in WANT if WANT[p] is None and
            inwin[p].get("allowed") and inwin[p].get("denied"))
print(n, wrong, fewest, flips)
EOF

# sock_call JSON: one request line to the agent, its answer line.
sock_call() {
	"$PY" - "$E2E_TMP/pw.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
sys.stdout.write(s.makefile("rb").readline().decode())
EOF
}

# trace FROM TO PORT: the agent's verdict for tcp/PORT between two pods.
trace() {
	sock_call '{"op":"trace","from":"'"${POD_IP4[$1]}"'","to":"'"${POD_IP4[$2]}"'","protocol":"tcp","port":'"$3"'}' |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin).get("verdict"))'
}

# nentries MAP: entries in a pinned map.
nentries() {
	bpftool -j map dump pinned "$PIN/$1" |
		"$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# ---------------------------------------------------------------- pods
e2e_node_create || {
	not_ok churn/topology "could not create the node namespace"
	exit 1
}
# conntrack sized for the probers' thousands of short connections
agent_start --ct-max 65536 || {
	not_ok churn/agent-start "podwalld did not start"
	exit 1
}
cni_conf 1.0.0 bridge
for p in p1 p2 p3 p4; do
	cni_add "$p" churn "app=$p" 2>"$E2E_TMP/add.err" || {
		not_ok "churn/add-$p" "$(tr '\n' ' ' <"$E2E_TMP/add.err")"
		exit 1
	}
done
ok churn/add-pods
serve p2 --tcp 80,81 --seconds 170
serve p1 --tcp 80 --seconds 170
wait_listen p2 81 && wait_listen p1 80 || {
	not_ok churn/servers "servers did not start"
	exit 1
}

# ------------------------------------------------------ churn/policy
# name | from | to | port | with X | with Y
PAIRS="
p1-p2-80 p1 p2 80 allowed allowed
p2-p1-80 p2 p1 80 allowed allowed
p3-p2-80 p3 p2 80 denied  denied
p4-p2-80 p4 p2 80 denied  denied
p1-p2-81 p1 p2 81 denied  denied
p3-p2-81 p3 p2 81 allowed denied
p4-p2-81 p4 p2 81 denied  allowed
"
bad=
while read -r name from to port x y; do
	[ -n "$name" ] || continue
	reach "$from" tcp "$to" "$port" || bad+=" $name"
done <<<"$PAIRS"
if [ -z "$bad" ]; then
	ok churn/policy/baseline-no-policy
else
	not_ok churn/policy/baseline-no-policy "blocked without policy:$bad"
	exit 1 # the topology is broken: nothing below would mean anything
fi

"$PY" "$E2E_TMP/policy.py" X 0 >"$E2E_TMP/x0.json"
pw apply -f "$E2E_TMP/x0.json" >/dev/null 2>"$E2E_TMP/apply.err"
status churn/policy/apply-x $? "$(cat "$E2E_TMP/apply.err")"
bad=
while read -r name from to port x y; do
	[ -n "$name" ] || continue
	if reach "$from" tcp "$to" "$port"; then got=allowed; else got=denied; fi
	[ "$got" = "$x" ] || bad+=" $name($got)"
done <<<"$PAIRS"
status churn/policy/x-truth-table "$([ -z "$bad" ] && echo 0 || echo 1)" \
	"wrong under X:$bad"
pol_before=$(nentries pw_policy)
reconciles_before=$(pw status -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reconciles"])')

# Probers: the pods' own namespaces, bounded to 90 s, stopped by a file.
ip4() { echo "${POD_IP4[$1]}"; }
STOP=$E2E_TMP/probe.stop
PROBERS=()
prober() {
	local pod=$1 out=$E2E_TMP/probe-$1-$2.log

	shift 2
	bg ip netns exec "$E2E_NS_PREFIX$pod" "$PY" "$E2E_TMP/prober.py" \
		"$out" "$STOP" 90 "$@"
	PROBERS+=("$E2E_LASTPID")
	PROBE_LOGS+=("$out")
}
PROBE_LOGS=()
prober p1 a "p1-p2-80,$(ip4 p2),80,1" "p1-p2-81,$(ip4 p2),81,2"
prober p2 a "p2-p1-80,$(ip4 p1),80,1"
prober p3 a "p3-p2-80,$(ip4 p2),80,2" "p3-p2-81,$(ip4 p2),81,5"
prober p4 a "p4-p2-80,$(ip4 p2),80,2" "p4-p2-81,$(ip4 p2),81,5"
# every prober has judged connects before the updates start
for ((i = 0; i < 50; i++)); do
	n=0
	for f in "${PROBE_LOGS[@]}"; do
		[ -s "$f" ] && n=$((n + 1))
	done
	[ "$n" -eq "${#PROBE_LOGS[@]}" ] && break
	sleep 0.1
done

N=1000
timeout 120 "$PY" "$E2E_TMP/churn.py" "$E2E_TMP/pw.sock" "$N" \
	"$E2E_TMP/churn.times" 2>"$E2E_TMP/churn.err"
rc=$?
read -r t0 t1 sent good <"$E2E_TMP/churn.times" 2>/dev/null ||
	{ t0=0 t1=0 sent=0 good=0; }
status churn/policy/1000-updates-answered-ok "$([ "$rc" -eq 0 ] &&
	[ "$good" = "$N" ] && echo 0 || echo 1)" \
	"exit $rc, $good of $sent ok: $(head -c 600 "$E2E_TMP/churn.err")"
sleep 0.5 # one last round after the final update
touch "$STOP"
for p in "${PROBERS[@]}"; do
	wait "$p"
done
log "$N updates in $("$PY" -c "print('%.2f' % ($t1 - $t0))") s"
read -r inwin wrong fewest flips < <("$PY" "$E2E_TMP/verdicts.py" \
	"$E2E_TMP/churn.times" "${PROBE_LOGS[@]}")
: "${inwin:=0}" "${wrong:=unknown}" "${fewest:=0}" "${flips:=0}"
log "probes during the updates: $inwin (fewest for one pair: $fewest)"
status churn/policy/probes-ran-during-updates "$([ "$inwin" -gt 200 ] &&
	[ "$fewest" -ge 20 ] && echo 0 || echo 1)" \
	"$inwin probes during the updates (want > 200), fewest for a pair $fewest (want >= 20)"
status churn/policy/no-wrong-verdict "$([ "$wrong" = 0 ] && echo 0 || echo 1)" \
	"$wrong wrong verdicts on pairs both versions agree on"
status churn/policy/flipping-pairs-seen-both-ways "$([ "$flips" -eq 2 ] &&
	echo 0 || echo 1)" "$flips of 2 flipping pairs seen allowed and denied"

# The last update sent (X, marker 20000 + N) is the one in force, and it
# replaced the others: one policy, three rules.
m_last=$(trace p1 p2 $((20000 + N)))
m_prev=$(trace p1 p2 $((20000 + N - 1)))
status churn/policy/last-update-in-force "$([ "$m_last" = allowed ] &&
	[ "$m_prev" = denied ] && echo 0 || echo 1)" \
	"trace p1 to p2 tcp/$((20000 + N)): $m_last (want allowed), tcp/$((20000 + N - 1)): $m_prev (want denied)"
pw get policies -o json >"$E2E_TMP/policies.json" 2>&1
"$PY" -c 'import json, sys
o = json.load(open(sys.argv[1]))
o = o["items"] if isinstance(o, dict) else o
sys.exit(0 if [(p["namespace"], p["name"], p["ingress_rules"]) for p in o]
         == [("churn", "p2-in", 3)] else 1)' "$E2E_TMP/policies.json"
status churn/policy/one-policy-listed $? \
	"get policies: $(tr -d '\n\t' <"$E2E_TMP/policies.json" | head -c 400)"
expect churn/policy/final-p3-p2-81 allowed p3 tcp p2 81
expect churn/policy/final-p4-p2-81 denied p4 tcp p2 81
pol_after=$(nentries pw_policy)
status churn/policy/policy-entries-as-before "$([ "$pol_after" = "$pol_before" ] &&
	echo 0 || echo 1)" "pw_policy: $pol_before entries before, $pol_after after"
reconciles_after=$(pw status -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["reconciles"])')
log "reconciles: $reconciles_before before, $reconciles_after after"

# ------------------------------------------------------- churn/pods
# The ASan agent takes over the maps and p1..p4 (make test builds it).
# An ASan agent older than the plain one is another program: refuse it.
if [ ! -x "$ASAN_AGENT" ] || [ "$ASAN_AGENT" -ot "$AGENT" ]; then
	not_ok churn/pods/asan-agent "$ASAN_AGENT missing or older than $AGENT: make test builds it (make BUILD=$BUILD/asan SAN=1 $BUILD/asan/podwalld)"
	e2e_finish
fi
agent_stop TERM
AGENT=$ASAN_AGENT
ASAN_LOG=$E2E_TMP/asan
# A small quarantine: ASan's default (256 MB of freed blocks held back)
# would swamp the RSS check.
export ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=8:log_path=$ASAN_LOG
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$ASAN_LOG
: >"$E2E_TMP/agent.log"
agent_start --ct-max 65536 # the size the pinned table has
rc=$?
unset ASAN_OPTIONS UBSAN_OPTIONS
[ "$rc" -eq 0 ] && grep -q libasan "/proc/$AGENT_PID/maps"
status churn/pods/asan-agent-started $? \
	"$ASAN_AGENT did not start, or runs without ASan: $(tail -n 3 "$E2E_TMP/agent.log")"
[ "$rc" -eq 0 ] || e2e_finish

# Each churned pod (app=churned) gets policy entries of its own: ingress
# from p1, egress to p2.
cat >"$E2E_TMP/churned.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: churned, namespace: churn}
spec:
  podSelector: {matchLabels: {app: churned}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: p1}}}]
    ports: [{protocol: TCP, port: 80}]
  egress:
  - to: [{podSelector: {matchLabels: {app: p2}}}]
    ports: [{protocol: TCP, port: 80}]
YAML
pw apply -f "$E2E_TMP/churned.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status churn/pods/apply-policy $? "$(cat "$E2E_TMP/apply.err")"

# snapshot: one line per resource, compared before and after the loop
snapshot() {
	local m

	for m in pw_endpoints pw_ipcache pw_policy pw_policy_exact; do
		echo "map $m: $(nentries "$m") entries"
	done
	echo "node links: $(in_node ip -o link show | wc -l)"
	echo "cni records: $(ls "$E2E_TMP/state/cni" | tr '\n' ' ')"
	echo "ipam leases: $(ls "$E2E_TMP/ipam"/* | tr '\n' ' ')"
	echo "cni cache: $(ls "$E2E_TMP/cnicache" | tr '\n' ' ')"
	echo "pins: $(cd "$PIN" && find . | sort | tr '\n' ' ')"
	echo "agent fds: $(ls "/proc/$AGENT_PID/fd" | wc -l)"
}
rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$AGENT_PID/status" 2>/dev/null
}

before=$(snapshot)
log "before the loop:"
sed 's/^/#   /' <<<"$before" >&2
mid=    # snapshot with c1 alive
rss10=  # RSS after 10 pods, in kB
PODS=100
fail=
t_add=0 t_del=0
start=$SECONDS
for ((i = 1; i <= PODS; i++)); do
	if [ $((SECONDS - start)) -gt 100 ]; then
		fail="loop over 100 s at pod $i"
		break
	fi
	ta=$(date +%s%N)
	if ! cni_add "c$i" churn app=churned 2>"$E2E_TMP/add.err"; then
		fail="ADD c$i: $(tr '\n' ' ' <"$E2E_TMP/add.err")"
		break
	fi
	tb=$(date +%s%N)
	if [ "$i" -eq 1 ]; then
		mid=$(snapshot)
	fi
	tc=$(date +%s%N)
	if ! cni_del "c$i" 2>"$E2E_TMP/del.err"; then
		fail="DEL c$i: $(tr '\n' ' ' <"$E2E_TMP/del.err")"
		break
	fi
	ip netns del "$E2E_NS_PREFIX"c$i
	td=$(date +%s%N)
	t_add=$((t_add + tb - ta))
	t_del=$((t_del + td - tc))
	[ "$i" -eq 10 ] && rss10=$(rss_kb)
done
rss100=$(rss_kb)
log "$((i - 1)) pods added and deleted in $((SECONDS - start)) s: ADD $((t_add / 1000000)) ms, DEL $((t_del / 1000000)) ms in all"
status churn/pods/100-added-and-deleted "$([ -z "$fail" ] && echo 0 || echo 1)" "$fail"
log "with c1 alive:"
sed 's/^/#   /' <<<"$mid" >&2
# the loop did something: c1 had an endpoint, an address, policy entries
"$PY" - "$before" "$mid" <<'EOF'
import re, sys
def n(snap, m):
    return int(re.search(r"map %s: (\d+)" % m, snap).group(1))
b, m = sys.argv[1], sys.argv[2]
sys.exit(0 if n(m, "pw_endpoints") == n(b, "pw_endpoints") + 1 and
         n(m, "pw_ipcache") == n(b, "pw_ipcache") + 1 and
         n(m, "pw_policy") + n(m, "pw_policy_exact") >
         n(b, "pw_policy") + n(b, "pw_policy_exact") else 1)
EOF
status churn/pods/churned-pod-in-maps $? "with c1 alive: $(echo $mid)"

# wordiff BEFORE AFTER: what AFTER has more and less, a few of each
wordiff() {
	"$PY" - "$1" "$2" <<'EOF'
import sys
b, a = sys.argv[1].split(), sys.argv[2].split()
if len(b) == len(a) == 1 or len(b) == 2 and b[1] == "entries":
    print("before %s, after %s" % (" ".join(b), " ".join(a)))
else:
    more = [w for w in a if w not in b]
    less = [w for w in b if w not in a]
    print("%d more (%s), %d less (%s)" % (len(more), " ".join(more[:4]),
                                          len(less), " ".join(less[:4])))
EOF
}
after=$(snapshot)
while IFS= read -r line; do
	key=${line%%:*}
	b=$(grep -F "$key:" <<<"$before")
	[ "$line" = "$b" ]
	status "churn/pods/no-leak/${key// /-}" $? \
		"$(wordiff "${b#*: }" "${line#*: }")"
done <<<"$after"

log "agent RSS: ${rss10:-?} kB after 10 pods, ${rss100:-?} kB after $PODS"
[ -n "$rss10" ] && [ -n "$rss100" ] && [ $((rss100 - rss10)) -lt 20480 ]
status churn/pods/rss-growth-under-20mb $? \
	"RSS ${rss10:-?} kB after 10 pods, ${rss100:-?} kB after $PODS"

# SIGTERM: a clean exit, and LeakSanitizer's report at exit is empty.
pid=$AGENT_PID
kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do
	e2e_running "$pid" || break
	sleep 0.1
done
e2e_running "$pid" && kill -KILL "$pid"
wait "$pid"
rc=$?
AGENT_PID=
status churn/pods/asan-agent-sigterm-exits-0 "$rc" "exit status $rc"
reports=$(cat "$ASAN_LOG".* 2>/dev/null)
found=$(grep -m 5 'ERROR: LeakSanitizer\|ERROR: AddressSanitizer\|SUMMARY\|runtime error' \
	<<<"$reports$(cat "$E2E_TMP/agent.log")")
# LeakSanitizer runs at a normal exit only: killed, it had nothing to say
[ "$rc" -eq 0 ] && [ -z "$found" ]
status churn/pods/no-sanitizer-report $? \
	"${found:-LeakSanitizer did not run: the agent ended with status $rc}"

e2e_finish
