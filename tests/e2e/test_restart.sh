#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Restart without disruption: podwalld is SIGKILLed, then SIGTERMed, while
# a long TCP stream a -> b runs and two loops open new connections (a -> b
# allowed, c -> b denied). Pods a, b, c come from the CNI chain (bridge,
# 1.0.0) in namespace demo; b admits app=a on tcp/80 and tcp/5001 only.
#
#   restart/baseline-*, restart/policy-*: the topology works without the
#       policy and the policy bites, so nothing below passes on a broken
#       setup.
#   restart/kill-*: after SIGKILL and a new start the pinned maps are
#       identical and the first reconcile changes nothing.
#   restart/term-*: after SIGTERM and a new start b's host veth runs the
#       new agent's programs (one filter per direction, new ids, the old
#       programs freed).
#   restart/stream-*, restart/allowed-*, restart/denied-*: the stream never
#       stalled more than 1 s and lost no byte, every allowed connection
#       succeeded and no denied one did, across both restarts.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init agent
command -v bpftool >/dev/null || skip "needs bpftool"
command -v tc >/dev/null || skip "needs tc"


# ------------------------------------------------------------ traffic tool
# stream-serve: accept one connection, record the largest gap between two
# received chunks (and from accept to the first); at EOF or the deadline
# write "GAP BYTES EOF(0|1)" to FILE.
# stream-send: a small chunk every 20 ms for S seconds (TCP_NODELAY, so
# each goes out at once), then half-close and wait for the server's close;
# prints the bytes sent.
# connloop: a new connection to IP:PORT every 50 ms for S seconds, each
# with its own deadline (non-blocking, so a dropped SYN does not slow the
# loop); a success is the probe server's line within the deadline. Writes
# "SUCCESSES FAILURES" to FILE.
TOOL=$E2E_TMP/restart_tool.py
cat >"$TOOL" <<'EOF'
import selectors, socket, sys, time

mode = sys.argv[1]
if mode == "stream-serve":
    port, secs, out = int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    end = time.monotonic() + secs
    gap, total, eof = 0.0, 0, 0
    ls.settimeout(secs)
    try:
        c, _ = ls.accept()
        last = time.monotonic()
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            c.settimeout(min(left, 0.5))
            try:
                d = c.recv(65536)
            except socket.timeout:
                gap = max(gap, time.monotonic() - last)
                continue
            now = time.monotonic()
            if not d:
                eof = 1
                break
            gap = max(gap, now - last)
            last = now
            total += len(d)
        c.close()
    except OSError as e:
        print("stream-serve: %s" % e, file=sys.stderr)
    with open(out, "w") as f:
        f.write("%.3f %d %d\n" % (gap, total, eof))
elif mode == "stream-send":
    ip, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    chunk = b"x" * 99 + b"\n"
    s = socket.create_connection((ip, port), timeout=2)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(5)
    sent = 0
    t0 = time.monotonic()
    i = 0
    try:
        while time.monotonic() - t0 < secs:
            s.sendall(chunk)
            sent += len(chunk)
            i += 1
            time.sleep(max(t0 + i * 0.02 - time.monotonic(), 0))
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):  # the server closes after EOF
            pass
    except OSError as e:
        print("stream-send: %s" % e, file=sys.stderr)
    print(sent)
elif mode == "connloop":
    ip, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    deadline, out = float(sys.argv[5]), sys.argv[6]
    sel = selectors.DefaultSelector()
    okn = failn = 0
    t0 = time.monotonic()
    nxt = t0
    pend = {}  # socket -> (deadline, received)

    def done(s, good):
        global okn, failn
        sel.unregister(s)
        del pend[s]
        s.close()
        if good:
            okn += 1
        else:
            failn += 1

    while True:
        now = time.monotonic()
        if now - t0 < secs and now >= nxt:
            nxt += 0.05
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((ip, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                failn += 1
                continue
            pend[s] = [now + deadline, b""]
            sel.register(s, selectors.EVENT_READ)
        if now - t0 >= secs and not pend:
            break
        for s in [s for s, v in pend.items() if v[0] <= now]:
            done(s, False)
        for key, _ in sel.select(timeout=0.01):
            s = key.fileobj
            try:
                d = s.recv(64)
            except BlockingIOError:
                continue
            except OSError:
                done(s, False)
                continue
            pend[s][1] += d
            if pend[s][1].startswith(b"podwall-probe\n"):
                done(s, True)
            elif not d:
                done(s, False)
    with open(out, "w") as f:
        f.write("%d %d\n" % (okn, failn))
EOF

# pod_bg POD CMD...: CMD in POD's namespace, in the background.
pod_bg() {
	local pod=$1

	shift
	bg ip netns exec "$E2E_NS_PREFIX$pod" "$@"
}

# snapshot FILE: endpoints, ipcache and policy maps (trie and exact) as
# canonical JSON (entries sorted), so only content counts. Not pw_ct:
# traffic changes it.
snapshot() {
	local m

	for m in pw_endpoints pw_ipcache pw_policy pw_policy_exact; do
		echo "$m"
		bpftool -j map dump pinned "$PIN/$m" || return 1
		echo
		echo "--end--"
	done | "$PY" -c '
import json, sys
out, name, buf = {}, None, []
for line in sys.stdin:
    if name is None:
        name = line.strip()
    elif line.strip() == "--end--":
        e = json.loads("".join(buf) or "[]")
        # the BTF view where there is one: readable, same content
        out[name] = sorted(json.dumps(x.get("formatted", x), sort_keys=True)
                           for x in e)
        name, buf = None, []
    else:
        buf.append(line)
print(json.dumps(out, sort_keys=True, indent=0))' >"$1"
}

# snapdiff A B: per map, how many entries are only in A, only in B.
snapdiff() {
	"$PY" -c 'import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for m in sorted(set(a) | set(b)):
    x, y = set(a.get(m, [])), set(b.get(m, []))
    if x != y:
        print("%s: %d entries only before, %d only after;"
              % (m, len(x - y), len(y - x)), end=" ")
        for e in sorted(x - y)[:2]:
            print("#   before: %s" % e, file=sys.stderr)
        for e in sorted(y - x)[:2]:
            print("#   after:  %s" % e, file=sys.stderr)' "$1" "$2"
}

# counts FILE: "endpoints ipcache policy" entry counts of a snapshot
# (policy: the trie's and the exact ones').
counts() {
	"$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(len(m["pw_endpoints"]), len(m["pw_ipcache"]),
      len(m["pw_policy"]) + len(m["pw_policy_exact"]))' "$1"
}

# reconcile_after LINE: the first reconcile summary in the agent log
# after line LINE, waiting up to 5 s for it.
reconcile_after() {
	local i l

	for ((i = 0; i < 50; i++)); do
		l=$(tail -n "+$(($1 + 1))" "$E2E_TMP/agent.log" |
			grep -m1 'pods, .* here; endpoints')
		[ -n "$l" ] && break
		sleep 0.1
	done
	echo "$l"
}

# prog_ids DEV: "INGRESS_IDS|EGRESS_IDS" of the bpf filters on DEV.
prog_ids() {
	local d ids out=

	for d in ingress egress; do
		ids=$(in_node tc filter show dev "$1" "$d" |
			sed -n 's/.* bpf .* id \([0-9]*\).*/\1/p' | tr '\n' ' ')
		out+="${ids% }|"
	done
	echo "${out%|}"
}

pinned_id() {
	bpftool -j prog show pinned "$PIN/$1" |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

# ------------------------------------------------------------------ setup
e2e_node_create || {
	not_ok restart/topology "could not create the node namespace"
	exit 1
}
agent_start || {
	not_ok restart/agent-start "podwalld did not start"
	exit 1
}
cni_conf 1.0.0 bridge
for p in a b c; do
	if ! cni_add "$p" demo "app=$p" 2>"$E2E_TMP/add.err"; then
		not_ok "restart/add-$p" "$(tr '\n' ' ' <"$E2E_TMP/add.err")"
		exit 1
	fi
done
BIP=${POD_IP4[b]}
BHIF=$("$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print([i["name"] for i in r["interfaces"] if not i.get("sandbox")][-1])' \
	"$E2E_TMP/cnicache/pwe2e-cid-b-eth0")
serve b --tcp 80,81 --seconds 100
wait_listen b 81 || {
	not_ok restart/servers "the probe server in b did not start"
	exit 1
}

# Without the policy everything passes: a deny below is the policy's.
bad=
reach a tcp b 80 || bad+=" a->b:80"
reach a tcp b 81 || bad+=" a->b:81"
reach c tcp b 80 || bad+=" c->b:80"
if [ -z "$bad" ]; then
	ok restart/baseline-no-policy
else
	not_ok restart/baseline-no-policy "blocked without policy:$bad"
	exit 1
fi

cat >"$E2E_TMP/policy.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-from-a, namespace: demo}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{protocol: TCP, port: 80}, {protocol: TCP, port: 5001}]
YAML
pw apply -f "$E2E_TMP/policy.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status restart/apply-policy $? "$(cat "$E2E_TMP/apply.err")"
expect restart/policy-a-to-b-80-allowed allowed a tcp b 80
expect restart/policy-a-to-b-81-denied denied a tcp b 81
expect restart/policy-c-to-b-80-denied denied c tcp b 80

# --------------------------------------------- traffic across the restarts
pod_bg b "$PY" "$TOOL" stream-serve 5001 30 "$E2E_TMP/stream.out"
SRV=$E2E_LASTPID
wait_listen b 5001 || {
	not_ok restart/stream-server "the stream server did not start"
	exit 1
}
pod_bg a "$PY" "$TOOL" stream-send "$BIP" 5001 12 \
	>"$E2E_TMP/sent.out" 2>"$E2E_TMP/sent.err"
CLI=$E2E_LASTPID
pod_bg a "$PY" "$TOOL" connloop "$BIP" 80 10 1.0 "$E2E_TMP/loop-a.out"
LOOPA=$E2E_LASTPID
pod_bg c "$PY" "$TOOL" connloop "$BIP" 80 10 1.5 "$E2E_TMP/loop-c.out"
LOOPC=$E2E_LASTPID
sleep 3

# SIGKILL: no cleanup at all; enforcement must go on for the second
# without an agent, and the new one must find nothing to change.
snapshot "$E2E_TMP/maps-before.json"
log "maps before (endpoints ipcache policy): $(counts "$E2E_TMP/maps-before.json")"
lines=$(wc -l <"$E2E_TMP/agent.log")
agent_stop KILL
sleep 1
agent_start || {
	not_ok restart/kill-agent-restarts "podwalld did not start again"
	exit 1
}
rec=$(reconcile_after "$lines")
log "first reconcile after SIGKILL: $rec"
[[ $rec == *"endpoints 0 changed, 0 removed; policy +0 -0; ipcache +0 -0"* ]]
status restart/kill-first-reconcile-changes-nothing $? "got: ${rec:-no reconcile line}"
snapshot "$E2E_TMP/maps-after.json"
read -r ne ni np <<<"$(counts "$E2E_TMP/maps-before.json")"
# a, b, c and their addresses, b's policy: an empty dump is no proof
[ "${ne:-0}" -ge 3 ] && [ "${ni:-0}" -ge 3 ] && [ "${np:-0}" -ge 1 ]
status restart/kill-maps-populated $? "entries before: ${ne:-?} ${ni:-?} ${np:-?}"
cmp -s "$E2E_TMP/maps-before.json" "$E2E_TMP/maps-after.json"
status restart/kill-maps-identical $? \
	"$(snapdiff "$E2E_TMP/maps-before.json" "$E2E_TMP/maps-after.json")"

# SIGTERM: the new agent loads its programs and puts them in place of
# the old ones on b's host veth, while the traffic runs.
before=$(prog_ids "$BHIF")
lines=$(wc -l <"$E2E_TMP/agent.log")
agent_stop TERM
agent_start || {
	not_ok restart/term-agent-restarts "podwalld did not start again"
	exit 1
}
rec=$(reconcile_after "$lines")
log "first reconcile after SIGTERM: $rec"
after=$(prog_ids "$BHIF")
want="$(pinned_id pw_from_pod)|$(pinned_id pw_to_pod)"
log "programs on $BHIF (ingress|egress): before $before, after $after, pinned $want"
[[ $before =~ ^[0-9]+\|[0-9]+$ ]]
status restart/term-one-filter-per-direction-before $? "ids before: $before"
[ "$after" = "$want" ] && [[ $after =~ ^[0-9]+\|[0-9]+$ ]]
status restart/term-new-programs-attached $? \
	"ids on $BHIF: $after, the agent's pinned programs: $want"
[ "${before%|*}" != "${after%|*}" ] && [ "${before#*|}" != "${after#*|}" ]
status restart/term-program-ids-changed $? "before $before, after $after"
# the old programs are gone once nothing holds them (freed after RCU)
for ((i = 0; i < 30; i++)); do
	bpftool prog show id "${before%|*}" >/dev/null 2>&1 ||
		bpftool prog show id "${before#*|}" >/dev/null 2>&1 || break
	sleep 0.1
done
! bpftool prog show id "${before%|*}" >/dev/null 2>&1 &&
	! bpftool prog show id "${before#*|}" >/dev/null 2>&1
status restart/term-old-programs-freed $? "program $before still loaded"

# Both restarts must have happened while the loops and the stream ran.
e2e_running "$LOOPA" && e2e_running "$LOOPC" && e2e_running "$CLI"
status restart/restarts-within-traffic $? \
	"the traffic ended before the second restart was done"

# -------------------------------------------------------------- verdicts
for p in "$CLI" "$LOOPA" "$LOOPC" "$SRV"; do
	for ((i = 0; i < 200; i++)); do
		e2e_running "$p" || break
		sleep 0.1
	done
	wait "$p" 2>/dev/null
done
read -r gap got eof <"$E2E_TMP/stream.out" 2>/dev/null
sent=$(cat "$E2E_TMP/sent.out" 2>/dev/null)
log "stream: max gap ${gap:-?} s, received ${got:-?} of ${sent:-?} bytes, eof ${eof:-?}"
[ -s "$E2E_TMP/sent.err" ] && log "stream client: $(cat "$E2E_TMP/sent.err")"
"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 1.0 else 1)' \
	"${gap:-99}" 2>/dev/null
status restart/stream-max-gap-under-1s $? "largest gap ${gap:-none} s"
[ -n "$sent" ] && [ "$sent" -ge 50000 ] && [ "${got:-0}" = "$sent" ] &&
	[ "${eof:-0}" = 1 ]
status restart/stream-all-bytes-arrived $? \
	"received ${got:-?} of ${sent:-?} bytes, eof ${eof:-?}"
read -r aok afail <"$E2E_TMP/loop-a.out" 2>/dev/null
read -r cok cfail <"$E2E_TMP/loop-c.out" 2>/dev/null
log "a->b:80: ${aok:-?} succeeded, ${afail:-?} failed; c->b:80: ${cok:-?} succeeded, ${cfail:-?} failed"
# ~200 attempts each in 10 s; far fewer means the loop did not run
[ "${aok:-0}" -ge 100 ] && [ "${afail:-1}" = 0 ]
status restart/allowed-connections-all-succeeded $? \
	"a->b:80: ${aok:-?} succeeded, ${afail:-?} failed"
[ "${cfail:-0}" -ge 100 ] && [ "${cok:-1}" = 0 ]
status restart/denied-connections-none-succeeded $? \
	"c->b:80: ${cok:-?} succeeded, ${cfail:-?} failed"

e2e_finish
