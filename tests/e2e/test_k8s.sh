#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Kubernetes mode end to end (issue 9): podwalld --kubeconfig against
# tests/e2e/k8s/fakeapi.py (HTTPS, bearer token, list + watch), seeded
# with tests/e2e/k8s/fixtures/e2e. The server runs in the node namespace
# (the agent's 127.0.0.1 is that namespace's loopback).
#
#   API objects  namespaces default, x (team=x), y (team=y); on node-a
#                (this node) pods x/a (app=a), x/b (app=b), y/c (app=c),
#                Pending and without an address as the scheduler left
#                them; on node-b x/r1 (app=a, 10.125.1.5) and x/r2
#                (app=z, 10.125.1.6). No NetworkPolicy at first.
#   pods         a, b, c made by the real bridge + host-local plugins
#                chained with podwall's (cnirun.py), K8S_POD_NAMESPACE/NAME
#                as kubelet passes them and no labels: the labels can only
#                come from the API. kubelet's status update (podIPs) is
#                then replayed as a MODIFIED event.
#   "node-b"     a namespace routed behind the node (w-far) that owns the
#                remote pods' addresses and two outside ones, 10.126.0.7
#                and 10.126.0.8, so their traffic reaches the local pods
#                through the node as another node's would.
#   policies     created through the watch (ADDED):
#                x/b-ingress: b admits app=a on tcp/80 and udp/53,
#                  namespace team=y on the named port "alt" (tcp/8080),
#                  ipBlock 10.126.0.0/24 except 10.126.0.8/32 on tcp/80;
#                y/c-ingress: every pod in y admits team=x AND app=b on
#                  tcp/80;
#                y/c-egress: c may only reach team=x on tcp/8080.
#
#   k8s/sync-*, k8s/cni-*, k8s/endpoint-*   listed and synced with the
#                token; ADD joins the CNI address to the API's pod (one
#                endpoint, the API's labels); kubelet's podIPs (the same
#                address) change nothing
#   k8s/baseline/*      no policy: every probe of the table passes
#   k8s/policy/*        the whole truth table, local and remote, both ways
#   k8s/remote/*        remote pods judged by their labels: pw trace, the
#                identities in the ipcache (and k8s/endpoint-remote-*: they
#                are known, with the API's address, and bound to no veth)
#   k8s/label/*         a MODIFIED Pod or Namespace label flips enforcement
#                within 1 s, both ways (from the rename of the patch into
#                the server's control folder to the first of three probes
#                with the new verdict, in 50 ms steps)
#   k8s/relist/*        a compaction (410 ERROR event on resume) hides a
#                label change and a policy deletion: after the relist both
#                are enforced, nothing else moved, a guard probing all
#                along saw no denied flow pass and no allowed one refused,
#                and the next watch from the relisted version works
#   k8s/drop/*          after a bookmark, the watches are cut mid-event
#                while the agent is stopped, r2 gets app=a, the first
#                reconnects get 500: the watch resumes from its version
#                (no relist) and replays the change
#   k8s/relist-http/*   410 as the HTTP status of the watch: relisted, a
#                policy deletion hidden in the compaction enforced
#   k8s/restart/*       the agent SIGKILLed: while it is down the pinned
#                state enforces as before, and the server changes a pod's
#                label and gets a policy back; restarted while the server
#                fails every request, it keeps the old state until it has
#                listed every kind afresh, then enforces both changes;
#                guards probing all along saw no denied flow pass and no
#                allowed one refused, and the endpoints keep their ids
#
# Every deny is preceded by the same probe passing without policy.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init agent
command -v openssl >/dev/null || skip "needs openssl (fakeapi's certificates)"
command -v bpftool >/dev/null || skip "needs bpftool"

FAKEAPI=$E2E_DIR/k8s/fakeapi.py
FIX=$E2E_DIR/k8s/fixtures/e2e
API=$E2E_TMP/api
TOKEN=eyJhbGciOiJSUzI1NiJ9.e2e-podwall-token
KC=$E2E_TMP/kubeconfig
FAR=${E2E_NS_PREFIX}far
R1=10.125.1.5 # x/r1 on node-b, app=a
R2=10.125.1.6 # x/r2 on node-b, app=z
E7=10.126.0.7 # outside, inside the ipBlock
E8=10.126.0.8 # outside, the ipBlock's except
HELP=$E2E_TMP/k8sprobe.py

# ------------------------------------------------------------- helpers

# Probes that need more than probe.py: a chosen source address (the far
# namespace owns several), and timed loops that run in one process so
# that 50 ms steps are 50 ms.
cat >"$HELP" <<'EOF'
import os, socket, sys, time
R = b"podwall-probe\n"

def tcp(dst, port, timeout, src=None):
    """True when probe.py's server answered through the datapath."""
    try:
        with socket.socket() as s:
            s.settimeout(timeout)
            if src:
                s.bind((src, 0))
            s.connect((dst, port))
            s.sendall(R)
            got = b""
            while not got.endswith(b"\n"):
                d = s.recv(64)
                if not d:
                    break
                got += d
            return got.startswith(R)
    except OSError:
        return False

def udp(dst, port, timeout, src=None):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            if src:
                s.bind((src, 0))
            s.sendto(R, (dst, port))
            return s.recvfrom(64)[0] == R
    except OSError:
        return False

mode = sys.argv[1]
if mode == "reach":  # reach SRC tcp|udp DST PORT
    src, proto, dst, port = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
    sys.exit(0 if (tcp if proto == "tcp" else udp)(dst, port, 1, src) else 1)

if mode == "flip":  # flip DST PORT OLD NEW FROM TO BOUND
    dst, port, old, new = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    frm, to, bound = sys.argv[6], sys.argv[7], float(sys.argv[8])
    verdict = lambda: "allowed" if tcp(dst, port, 0.15) else "denied"
    seen = 0
    end = time.time() + 5
    while seen < 2 and time.time() < end:  # the old verdict first, twice
        seen = seen + 1 if verdict() == old else 0
        time.sleep(0.05)
    if seen < 2:
        print("never-old")
        sys.exit(1)
    t0 = time.time()
    os.rename(frm, to)  # the server takes it within 10 ms
    hist, run = [], []
    while time.time() - t0 < bound:
        t = time.time() - t0
        v = verdict()
        hist.append("%.3f:%s" % (t, v[0]))
        run = run + [t] if v == new else []
        if len(run) == 3:
            print("%.3f" % run[0])
            print(" ".join(hist), file=sys.stderr)
            sys.exit(0)
        time.sleep(0.05)
    print("timeout")
    print(" ".join(hist), file=sys.stderr)
    sys.exit(1)

if mode == "guard":  # guard STOPFILE BOUND DST:PORT:allowed|denied...
    stop, bound = sys.argv[2], float(sys.argv[3])
    cells = [(d, int(p), w) for d, p, w in (a.split(":") for a in sys.argv[4:])]
    n, bad = 0, []
    end = time.time() + bound
    while not os.path.exists(stop) and time.time() < end:
        for d, p, w in cells:
            # a leak is unambiguous at once; a refusal gets 1 s
            ok = tcp(d, p, 1.0 if w == "allowed" else 0.15)
            if ok != (w == "allowed"):
                bad.append("%s:%d got %s" % (d, p, "allowed" if ok else "denied"))
        n += 1
        time.sleep(0.05)
    print("rounds %d wrong %d %s" % (n, len(bad), " ".join(bad[:5])))
    sys.exit(0 if n and not bad else 1)
sys.exit(2)
EOF

# api_cmd JSON: a command for the fake server, written aside and renamed
# into its ctl/ folder (the name orders it); API_NEXT is its path aside,
# API_CTL its place in ctl/. api_cmd only prepares; api_send renames.
API_N=0
api_cmd() {
	API_N=$((API_N + 1))
	API_NEXT=$(printf '%s/ctl.new/%04d.json' "$API" "$API_N")
	API_CTL=$(printf '%s/ctl/%04d.json' "$API" "$API_N")
	printf '%s\n' "$1" >"$API_NEXT"
}

# api_send JSON: the command, and a bounded wait (5 s) until the server has
# made it (it deletes the file then).
api_send() {
	local i

	api_cmd "$1"
	mv "$API_NEXT" "$API_CTL" || return 1
	for ((i = 0; i < 100; i++)); do
		[ -e "$API_CTL" ] || return 0
		sleep 0.05
	done
	log "fakeapi did not take $API_CTL"
	return 1
}

# patch_json KIND NS NAME LABELS-JSON: the command for a merge patch of
# the labels.
patch_json() {
	printf '{"op":"patch","kind":"%s","namespace":"%s","name":"%s","patch":{"metadata":{"labels":%s}}}' \
		"$1" "$2" "$3" "$4"
}

# k8s EXPR: a Python expression over the agent's status of its
# Kubernetes source (k: that object, kind(name): one kind's counters).
k8s() {
	pw status -o json 2>/dev/null | "$PY" -c '
import json, sys
k = json.load(sys.stdin)["sources"]["kubernetes"]
kind = lambda n: k["kinds"][n]
print(eval(sys.argv[1]))' "$1"
}

# wait_true SECS CMD...: bounded poll (0.1 s steps) until CMD succeeds.
wait_true() {
	local n=$(($1 * 10)) i

	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

k8s_true() {
	[ "$(k8s "bool($1)")" = True ]
}

# far_reach SRC PROTO DST PORT: from the namespace behind the node, with
# source address SRC (a remote pod's or an outside one).
far_reach() {
	ip netns exec "$FAR" timeout 5 "$PY" "$HELP" reach "$1" "$2" \
		"${POD_IP4[$3]:-$3}" "$4"
}

# cell FROM PROTO TO PORT: one probe of the truth table; FROM or TO may be
# r1, r2, e7, e8 (the far namespace).
declare -A FARIP=([r1]=$R1 [r2]=$R2 [e7]=$E7 [e8]=$E8)
cell() {
	local from=$1 proto=$2 to=$3 port=$4

	if [ -n "${FARIP[$from]:-}" ]; then
		far_reach "${FARIP[$from]}" "$proto" "$to" "$port"
	else
		reach "$from" "$proto" "${FARIP[$to]:-$to}" "$port"
	fi
}

# expect_cell TESTNAME allowed|denied FROM PROTO TO PORT
expect_cell() {
	local name=$1 want=$2 got

	shift 2
	if cell "$@"; then got=allowed; else got=denied; fi
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "$* expected $want, got $got"
	fi
}

# eventually_cell TESTNAME allowed|denied SECS FROM PROTO TO PORT
eventually_cell() {
	local name=$1 want=$2 secs=$3 got end

	shift 3
	end=$((SECONDS + secs))
	while :; do
		if cell "$@"; then got=allowed; else got=denied; fi
		[ "$got" = "$want" ] || [ "$SECONDS" -ge "$end" ] && break
		sleep 0.1
	done
	status "$name" "$([ "$got" = "$want" ] && echo 0 || echo 1)" \
		"$* expected $want within $secs s, got $got"
}

# ----------------------------------------------------------- the server
e2e_node_create || {
	not_ok k8s/topology "could not create the node namespace"
	exit 1
}
mkdir -p "$API/ctl.new"
bg timeout 170 nsenter --net="/run/netns/$NODE" "$PY" "$FAKEAPI" \
	--dir "$API" --fixtures "$FIX" --token "$TOKEN" \
	2>"$E2E_TMP/fakeapi.err"
API_PID=$E2E_LASTPID
wait_true 15 test -s "$API/port" || {
	not_ok k8s/fakeapi-start "no port file: $(tr '\n' ' ' <"$E2E_TMP/fakeapi.err")"
	exit 1
}
PORT=$(cat "$API/port")
cat >"$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:$PORT
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

# ------------------------------------------------------- "node-b" and routes
# The remote addresses sit on lo, behind node-b's end of the link, as
# pods sit behind another node: podwalld binds a pod to a veth whose peer
# carries its address, whatever nodeName the API gives (see the report).
ip netns add "$FAR" || exit 1
E2E_NS=("$FAR" "${E2E_NS[@]}")
if ! { ip -n "$FAR" link set lo up &&
	ip link add w-far netns "$NODE" type veth peer name eth0 netns "$FAR" &&
	ip -n "$NODE" addr add 192.168.79.1/24 dev w-far &&
	ip -n "$NODE" link set w-far up &&
	ip -n "$FAR" addr add 192.168.79.2/24 dev eth0 &&
	ip -n "$FAR" link set eth0 up &&
	for a in $R1 $R2 $E7 $E8; do
		ip -n "$FAR" addr add "$a/32" dev lo || exit 1
	done &&
	ip -n "$FAR" route add 10.124.0.0/24 via 192.168.79.1 &&
	ip -n "$NODE" route add 10.125.1.0/24 via 192.168.79.2 &&
	ip -n "$NODE" route add 10.126.0.0/24 via 192.168.79.2 &&
	in_node sysctl -qw net.ipv4.ip_forward=1; }; then
	not_ok k8s/topology "could not build the far namespace"
	exit 1
fi

# ------------------------------------------------------------ the agent
agent_start --kubeconfig "$KC" --node-name node-a || {
	not_ok k8s/agent-start "podwalld did not start"
	exit 1
}
wait_true 15 k8s_true "k['synced']"
status k8s/sync-listed-every-kind $? "not synced: $(k8s "k['error']")"
got=$(k8s "(k['namespaces'], k['pods'], k['local_pods'], k['networkpolicies'])")
check k8s/sync-counts "namespaces, pods, local pods, policies: $got" \
	test "$got" = "(3, 5, 3, 0)"
# every request carried the token (no anonymous or certificate one)
grep -q . "$API/requests.log" && ! grep -qv ' bearer$' "$API/requests.log"
status k8s/sync-bearer-token $? "$(grep -v ' bearer$' "$API/requests.log" | head -3)"

# ----------------------------------------------------- CNI pods a, b, c
cni_conf 1.0.0 bridge
declare -A KNS=([a]=x [b]=x [c]=y)
for p in a b c; do
	# no --label: whatever labels the pod gets come from the API
	if ! cni_add "$p" "${KNS[$p]}" 2>"$E2E_TMP/add.err"; then
		not_ok "k8s/cni-add-$p" "$(tr '\n' ' ' <"$E2E_TMP/add.err")"
		exit 1
	fi
	ok "k8s/cni-add-$p"
	# bridge's isGateway gives no default route: through cni0 to node-b
	ip -n "$E2E_NS_PREFIX$p" route replace default via 10.124.0.1
done
for p in a b c; do
	serve "$p" --tcp 80,8080 --udp 53 --seconds 170
done
bg ip netns exec "$FAR" "${PROBE[@]}" serve --tcp 80,8080 --seconds 170
wait_listen far 8080 || {
	not_ok k8s/servers "the far server did not start"
	exit 1
}
for p in a b c; do
	wait_listen "$p" 8080 && wait_listen "$p" 53 udp || {
		not_ok k8s/servers "servers did not start"
		exit 1
	}
done

# endpoints_ok: a, b, c listed once each, local, with the CNI address and
# the identity of their API labels (the CNI record has none).
endpoints_ok() {
	pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1 &&
		pw get identities -o json >"$E2E_TMP/ids.json" 2>&1 &&
		"$PY" - "$E2E_TMP/eps.json" "$E2E_TMP/ids.json" \
			"a=x=${POD_IP4[a]}" "b=x=${POD_IP4[b]}" "c=y=${POD_IP4[c]}" <<'EOF'
import json, sys
items = lambda p: (lambda o: o["items"] if isinstance(o, dict) else o)(json.load(open(p)))
eps, ids = items(sys.argv[1]), items(sys.argv[2])
bad = []
for spec in sys.argv[3:]:
    pod, ns, ip = spec.split("=")
    e = [x for x in eps if x["namespace"] == ns and x["pod"] == pod]
    i = [x for x in ids if x.get("namespace") == ns and x.get("labels") == {"app": pod}]
    if not (len(e) == 1 and e[0]["ips"] == [ip] and e[0]["local"] is True
            and len(i) == 1 and e[0]["identity"] == i[0]["id"]):
        bad.append("%s/%s: endpoints %s, identities %s" % (ns, pod, e, i))
if bad:
    print("# " + "; ".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}
check k8s/endpoint-cni-address-api-labels \
	"a, b, c not each one local endpoint with the API's labels" endpoints_ok
# kubelet then reports the sandbox's address: status.podIPs as the CNI
# gave it, phase Running. Nothing may move (same endpoints).
eps_before=$(pw get endpoints -o json 2>&1)
for p in a b c; do
	api_send "$(printf '{"op":"patch","kind":"Pod","namespace":"%s","name":"%s","patch":{"status":{"phase":"Running","podIP":"%s","podIPs":[{"ip":"%s"}]}}}' \
		"${KNS[$p]}" "$p" "${POD_IP4[$p]}" "${POD_IP4[$p]}")" || exit 1
done
wait_true 5 k8s_true "kind('pods')['events'] >= 3"
status k8s/endpoint-podips-event-seen $? "pods events: $(k8s "kind('pods')")"
sleep 0.3 # a reconcile, if the events caused one
check k8s/endpoint-podips-from-api-change-nothing \
	"endpoints changed: $eps_before -> $(pw get endpoints -o json 2>&1)" \
	test "$(pw get endpoints -o json 2>&1)" = "$eps_before"
check k8s/endpoint-podips-still-joined "a, b, c not joined after podIPs" \
	endpoints_ok
# r1 and r2 are known with the API's addresses, and bound to no veth here
pw get endpoints -o json 2>&1 | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
o = o["items"] if isinstance(o, dict) else o
r = {x["pod"]: (x["ips"], x["local"]) for x in o if x["namespace"] == "x"}
ok = r.get("r1") == ([sys.argv[1]], False) and r.get("r2") == ([sys.argv[2]], False)
print("# x endpoints:", r, file=sys.stderr)
sys.exit(0 if ok else 1)' "$R1" "$R2"
status k8s/endpoint-remote-pods-not-bound $? \
	"r1, r2 not endpoints with their API addresses bound to no veth"

# ------------------------------------------------------- the truth table
# name | with the three policies | from | proto | to | port
TABLE="
b-from-a-tcp80     allowed a  tcp  b  80
b-from-a-udp53     allowed a  udp  b  53
b-from-a-tcp8080   denied  a  tcp  b  8080
b-from-a-icmp      denied  a  icmp b  -
b-from-c-tcp8080   allowed c  tcp  b  8080
b-from-c-tcp80     denied  c  tcp  b  80
b-from-c-udp53     denied  c  udp  b  53
c-from-b-tcp80     allowed b  tcp  c  80
c-from-b-tcp8080   denied  b  tcp  c  8080
c-from-b-udp53     denied  b  udp  c  53
c-from-a-tcp80     denied  a  tcp  c  80
a-from-b-tcp80     allowed b  tcp  a  80
a-from-b-udp53     allowed b  udp  a  53
a-from-c-tcp8080   allowed c  tcp  a  8080
a-from-c-tcp80     denied  c  tcp  a  80
a-from-c-udp53     denied  c  udp  a  53
b-from-r1-tcp80    allowed r1 tcp  b  80
b-from-r1-tcp8080  denied  r1 tcp  b  8080
b-from-r2-tcp80    denied  r2 tcp  b  80
b-from-e7-tcp80    allowed e7 tcp  b  80
b-from-e7-tcp8080  denied  e7 tcp  b  8080
b-from-e8-tcp80    denied  e8 tcp  b  80
c-from-r1-tcp80    denied  r1 tcp  c  80
a-from-r2-tcp80    allowed r2 tcp  a  80
r1-from-c-tcp8080  allowed c  tcp  r1 8080
r1-from-c-tcp80    denied  c  tcp  r1 80
e7-from-c-tcp8080  denied  c  tcp  e7 8080
e7-from-a-tcp80    allowed a  tcp  e7 80
"
bad=
while read -r name want from proto to port; do
	[ -n "$name" ] || continue
	cell "$from" "$proto" "$to" "$port" || bad+=" $name"
done <<<"$TABLE"
if [ -z "$bad" ]; then
	ok k8s/baseline/no-policy-everything-passes
else
	not_ok k8s/baseline/no-policy-everything-passes "blocked without policy:$bad"
	exit 1 # the topology is broken: nothing below would mean anything
fi

# The policies arrive as ADDED events on the open watch.
"$PY" -c 'import json, sys
for o in json.load(open(sys.argv[1])):
    print(json.dumps({"op": "create", "object": o}))' \
	"$FIX/networkpolicies-added.json" >"$E2E_TMP/creates" || exit 1
r=0
while read -r c; do
	api_send "$c" || r=1
done <"$E2E_TMP/creates"
npol() {
	pw get policies -o json 2>/dev/null | "$PY" -c 'import json, sys
o = json.load(sys.stdin)
print(len(o["items"] if isinstance(o, dict) else o))'
}
npol_is() { [ "$(npol)" = "$1" ]; }
[ "$r" = 0 ] && wait_true 5 npol_is 3
status k8s/policy/three-added-by-watch $? "agent has $(npol) policies"
wait_true 5 k8s_true "kind('networkpolicies')['events'] == 3 and kind('networkpolicies')['lists'] == 1"
status k8s/policy/added-as-events-not-relist $? "$(k8s "kind('networkpolicies')")"

while read -r name want from proto to port; do
	[ -n "$name" ] || continue
	expect_cell "k8s/policy/$name" "$want" "$from" "$proto" "$to" "$port"
done <<<"$TABLE"

# ------------------------------------------------------ remote identity
# trace_verdict FROM TO PROTO/PORT
trace_verdict() {
	pw trace "$1" "$2" "$3" -o json 2>/dev/null | "$PY" -c '
import json, sys; print(json.load(sys.stdin).get("verdict"))'
}
v1=$(trace_verdict "$R1" x/b tcp/80)
v2=$(trace_verdict "$R2" x/b tcp/80)
[ "$v1" = allowed ] && [ "$v2" = denied ]
status k8s/remote/trace-by-labels $? "trace r1->b tcp/80 $v1, r2->b $v2"
# to a remote pod: c's egress (enforced here) decides, r1's ingress is
# its own node's, and r1 is known by the API's address and labels
trace_sides() {
	pw trace "$1" "$2" "$3" -o json 2>/dev/null | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
e, i = o["sides"]["egress_of_source"], o["sides"]["ingress_of_destination"]
print(o["verdict"], e["allowed_by"], i.get("pod"), i["known_pod"], i["selected"])'
}
t1=$(trace_sides y/c x/r1 tcp/8080)
t2=$(trace_sides y/c "$R1" tcp/80)
[ "$t1" = "allowed ['y/c-egress egress[0]'] x/r1 True False" ] &&
	[ "$t2" = "denied [] x/r1 True False" ]
status k8s/remote/trace-to-remote-pod $? "c->r1 tcp/8080: $t1; tcp/80: $t2"
# The ipcache gives r1's address the identity of x/app=a (a's, shared),
# r2's that of x/app=z.
ident_of_ip() {
	bpftool -j map dump pinned "$PIN/pw_ipcache" 2>/dev/null | "$PY" -c '
import ipaddress, json, sys
want = list(ipaddress.IPv4Address(sys.argv[1]).packed)
for e in json.load(sys.stdin):
    e = e.get("formatted", e)  # the BTF view
    k, v = e["key"], e["value"]
    if [int(b, 0) if isinstance(b, str) else b for b in k["addr"]][12:] == want \
            and k["prefixlen"] == 128:
        print(v["id"]); break' "$1"
}
ident_of_labels() {
	pw get identities -o json 2>/dev/null | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
o = o["items"] if isinstance(o, dict) else o
print(" ".join(str(x["id"]) for x in o if x.get("namespace") == sys.argv[1]
               and x.get("labels") == {"app": sys.argv[2]}))' "$1" "$2"
}
ia=$(ident_of_labels x a)
iz=$(ident_of_labels x z)
i1=$(ident_of_ip "$R1")
i2=$(ident_of_ip "$R2")
[ -n "$ia" ] && [ -n "$iz" ] && [ "$i1" = "$ia" ] && [ "$i2" = "$iz" ] && [ "$ia" != "$iz" ]
status k8s/remote/ipcache-identity-of-labels $? \
	"x/app=a id '$ia', x/app=z id '$iz'; ipcache r1 '$i1', r2 '$i2'"

# ------------------------------------------- label change within 1 s
# flip NAME DST-POD PORT FROM-POD OLD NEW PATCH: the helper in FROM-POD
# sees OLD, renames PATCH into ctl/, and times the first of three NEW.
flip() {
	local name=$1 dst=$2 port=$3 from=$4 old=$5 new=$6 t

	api_cmd "$7"
	t=$(in_pod "$from" timeout 20 "$PY" "$HELP" flip "${POD_IP4[$dst]}" \
		"$port" "$old" "$new" "$API_NEXT" "$API_CTL" 10 \
		2>"$E2E_TMP/flip.err")
	log "$name: $old -> $new after ${t:-?} s ($(cat "$E2E_TMP/flip.err"))"
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' \
		"$t" 2>/dev/null
	status "$name" $? "$from -> $dst tcp/$port $old -> $new: ${t:-nothing} s"
}
flip k8s/label/a-app-q-b-denies-a-within-1s b 80 a allowed denied \
	"$(patch_json Pod x a '{"app":"q"}')"
# the rest of a's rules went with its label; r1 keeps app=a and b's rule
expect_cell k8s/label/a-app-q-b-from-a-udp53 denied a udp b 53
expect_cell k8s/label/a-app-q-b-from-r1-still-allowed allowed r1 tcp b 80
flip k8s/label/a-app-a-b-admits-a-within-1s b 80 a denied allowed \
	"$(patch_json Pod x a '{"app":"a"}')"
# a Namespace's labels: b admits namespace team=y on tcp/8080
flip k8s/label/ns-y-team-w-b-denies-c-within-1s b 8080 c allowed denied \
	"$(patch_json Namespace "" y '{"team":"w"}')"
flip k8s/label/ns-y-team-y-b-admits-c-within-1s b 8080 c denied allowed \
	"$(patch_json Namespace "" y '{"team":"y"}')"

# ------------------------------------------------------ 410 and relist
KN="('pods', 'networkpolicies')"
lists0=$(k8s "[kind(n)['lists'] for n in $KN]")
gone0=$(k8s "[kind(n)['gone'] for n in $KN]")
# the guard probes cells the compaction must not move, from a and b
rm -f "$E2E_TMP/guard.stop"
bg ip netns exec "${E2E_NS_PREFIX}a" "$PY" "$HELP" guard "$E2E_TMP/guard.stop" 30 \
	"${POD_IP4[c]}:80:denied" "${POD_IP4[b]}:8080:denied" \
	>"$E2E_TMP/guard-a.out"
GA=$E2E_LASTPID
bg ip netns exec "${E2E_NS_PREFIX}b" "$PY" "$HELP" guard "$E2E_TMP/guard.stop" 30 \
	"${POD_IP4[c]}:80:allowed" "${POD_IP4[a]}:80:allowed" \
	>"$E2E_TMP/guard-b.out"
GB=$E2E_LASTPID
sleep 0.5
# x/a gets app=q and y/c-egress goes, in changes no watch will see
api_send "$(printf '{"op":"compact","changes":[%s,%s]}' \
	"$(patch_json Pod x a '{"app":"q"}')" \
	'{"op":"delete","kind":"NetworkPolicy","namespace":"y","name":"c-egress"}')"
status k8s/relist/compaction-made $? "fakeapi did not take it"
wait_true 10 k8s_true "all(kind(n)['lists'] > l and kind(n)['gone'] > g for n, l, g in zip($KN, $lists0, $gone0))"
status k8s/relist/410-then-list-again $? \
	"pods: $(k8s "kind('pods')"); networkpolicies: $(k8s "kind('networkpolicies')")"
eventually_cell k8s/relist/label-change-enforced denied 5 a tcp b 80
eventually_cell k8s/relist/policy-deletion-enforced allowed 5 c tcp a 80
touch "$E2E_TMP/guard.stop"
wait "$GA"
status k8s/relist/guard-from-a-no-leak $? "$(cat "$E2E_TMP/guard-a.out")"
wait "$GB"
status k8s/relist/guard-from-b-no-refusal $? "$(cat "$E2E_TMP/guard-b.out")"
log "guards: a: $(cat "$E2E_TMP/guard-a.out"); b: $(cat "$E2E_TMP/guard-b.out")"
npol_now=$(npol)
check k8s/relist/two-policies-left "agent has $npol_now policies" \
	test "$npol_now" = 2
# nothing else moved: the table with a as app=q and c-egress gone
TABLE2="
b-from-a-udp53     denied  a  udp  b  53
b-from-c-tcp8080   allowed c  tcp  b  8080
b-from-c-tcp80     denied  c  tcp  b  80
c-from-b-tcp80     allowed b  tcp  c  80
c-from-a-tcp80     denied  a  tcp  c  80
a-from-c-udp53     allowed c  udp  a  53
b-from-r1-tcp80    allowed r1 tcp  b  80
b-from-r2-tcp80    denied  r2 tcp  b  80
b-from-e7-tcp80    allowed e7 tcp  b  80
b-from-e8-tcp80    denied  e8 tcp  b  80
r1-from-c-tcp80    allowed c  tcp  r1 80
e7-from-c-tcp8080  allowed c  tcp  e7 8080
"
while read -r name want from proto to port; do
	[ -n "$name" ] || continue
	expect_cell "k8s/relist/$name" "$want" "$from" "$proto" "$to" "$port"
done <<<"$TABLE2"
# the watch resumed from the relisted version: a plain change arrives
flip k8s/relist/watch-after-relist-a-app-a-within-1s b 80 a denied allowed \
	"$(patch_json Pod x a '{"app":"a"}')"

# ------------------------------------------ bookmark, drop and resume
api_send '{"op":"bookmark"}'
wait_true 5 k8s_true "kind('pods')['bookmarks'] >= 1"
status k8s/drop/bookmark-seen $? "$(k8s "kind('pods')")"
before=$(k8s "(kind('pods')['lists'], kind('pods')['gone'], kind('pods')['watches'], kind('pods')['errors'])")
# The agent is stopped (SIGSTOP: it cannot resume early) while the server
# cuts its three watches in the middle of an event and r2 gets app=a; the
# first reconnects then fail (500). The change is only in the server's
# history: the resumed watch must replay it.
kill -STOP "$AGENT_PID"
api_send '{"op":"drop"}'
# cut: the agent's three connections to the server are half-closed
cut() {
	[ "$(in_node ss -Htn state close-wait "dport = :$PORT" | wc -l)" -ge 3 ]
}
wait_true 5 cut
r=$?
api_send "$(patch_json Pod x r2 '{"app":"a"}')" &&
	api_send '{"op":"fail","count":3,"code":500}' || r=1
kill -CONT "$AGENT_PID"
status k8s/drop/cut-while-agent-stopped "$r" \
	"watches not cut: $(in_node ss -Htn "dport = :$PORT" | tr '\n' ' ')"
eventually_cell k8s/drop/r2-app-a-b-admits-r2 allowed 8 r2 tcp b 80
after=$(k8s "(kind('pods')['lists'], kind('pods')['gone'], kind('pods')['watches'], kind('pods')['errors'])")
"$PY" -c 'import sys
b, a = eval(sys.argv[1]), eval(sys.argv[2])
sys.exit(0 if a[0] == b[0] and a[1] == b[1] and a[2] > b[2] and a[3] > b[3] else 1)' \
	"$before" "$after"
status k8s/drop/resumed-not-relisted $? \
	"pods (lists, gone, watches, errors) before $before, after $after"
v2=$(trace_verdict "$R2" x/b tcp/80)
check k8s/drop/trace-r2-allowed "trace r2->b tcp/80: $v2" test "$v2" = allowed
expect_cell k8s/drop/b-from-r2-tcp8080-still-denied denied r2 tcp b 8080

# ------------------------------------- 410 as the HTTP status, not an event
gone0=$(k8s "[kind(n)['gone'] for n in $KN]")
api_send '{"op":"gone-http","on":true}' &&
	api_send '{"op":"compact","changes":[{"op":"delete","kind":"NetworkPolicy","namespace":"y","name":"c-ingress"}]}'
status k8s/relist-http/compaction-made $? "fakeapi did not take it"
wait_true 10 k8s_true "all(kind(n)['gone'] > g for n, g in zip($KN, $gone0))"
status k8s/relist-http/410-then-list-again $? \
	"pods: $(k8s "kind('pods')"); networkpolicies: $(k8s "kind('networkpolicies')")"
eventually_cell k8s/relist-http/policy-deletion-enforced allowed 5 a tcp c 80
check k8s/relist-http/one-policy-left "agent has $(npol) policies" npol_is 1
expect_cell k8s/relist-http/b-from-a-tcp8080-still-denied denied a tcp b 8080

# ------------------------------------------- SIGKILL, changes, restart
# ep_ids: "ns/pod=ep_id ..." of the local endpoints
ep_ids() {
	pw get endpoints -o json 2>/dev/null | "$PY" -c '
import json, sys
o = json.load(sys.stdin)
o = o["items"] if isinstance(o, dict) else o
print(" ".join(sorted("%s/%s=%s" % (x["namespace"], x["pod"], x["ep_id"])
                      for x in o if x["local"])))'
}
eps0=$(ep_ids)
ib0=$(ident_of_labels x b)
check k8s/restart/three-local-endpoints-before "local endpoints: $eps0" \
	test "$(wc -w <<<"$eps0")" = 3
# guards across the kill, the time down and the restart: cells that
# neither change below touches
rm -f "$E2E_TMP/guard.stop"
bg ip netns exec "${E2E_NS_PREFIX}c" "$PY" "$HELP" guard "$E2E_TMP/guard.stop" 60 \
	"${POD_IP4[b]}:80:denied" "${POD_IP4[b]}:8080:allowed" \
	>"$E2E_TMP/guard-c.out"
GC=$E2E_LASTPID
bg ip netns exec "${E2E_NS_PREFIX}b" "$PY" "$HELP" guard "$E2E_TMP/guard.stop" 60 \
	"${POD_IP4[a]}:80:allowed" "${POD_IP4[c]}:80:allowed" \
	>"$E2E_TMP/guard-b.out"
GB=$E2E_LASTPID
sleep 0.5
OLD_PID=$AGENT_PID
agent_stop KILL
! e2e_running "$OLD_PID"
status k8s/restart/agent-killed $? "podwalld $OLD_PID still runs"
# down: the pinned maps and programs go on as they were
expect_cell k8s/restart/down-b-from-a-tcp80-allowed allowed a tcp b 80
expect_cell k8s/restart/down-b-from-a-tcp8080-denied denied a tcp b 8080
expect_cell k8s/restart/down-b-from-r1-tcp80-allowed allowed r1 tcp b 80
expect_cell k8s/restart/down-b-from-r2-tcp8080-denied denied r2 tcp b 8080
expect_cell k8s/restart/down-b-from-e8-tcp80-denied denied e8 tcp b 80
# changes only the server sees: x/a gets app=q (b no longer admits it on
# tcp/80); y/c-ingress comes back (c admits only team=x AND app=b)
api_send "$(patch_json Pod x a '{"app":"q"}')" &&
	api_send "$(grep c-ingress "$E2E_TMP/creates")"
status k8s/restart/changes-while-down $? "fakeapi did not take them"
expect_cell k8s/restart/down-change-not-enforced-yet allowed a tcp b 80
# back, with the server failing every request at first: nothing listed,
# nothing may change (a reconcile with the pods but no labels or policies
# would open b to c)
api_send '{"op":"fail","count":100000,"code":503}'
agent_start --kubeconfig "$KC" --node-name node-a || {
	not_ok k8s/restart/agent-start "podwalld did not start again"
	exit 1
}
wait_true 5 k8s_true "not k['synced'] and kind('pods')['errors'] > 0"
status k8s/restart/server-failing-not-synced $? "$(k8s "k")"
expect_cell k8s/restart/unsynced-b-from-c-tcp80-denied denied c tcp b 80
expect_cell k8s/restart/unsynced-b-from-a-tcp80-old-state allowed a tcp b 80
sleep 1
api_send '{"op":"fail","count":0}'
wait_true 20 k8s_true "k['synced'] and all(kind(n)['lists'] == 1 for n in ('namespaces', 'pods', 'networkpolicies'))"
status k8s/restart/listed-every-kind-afresh $? "$(k8s "k")"
eventually_cell k8s/restart/label-change-while-down-enforced denied 10 a tcp b 80
eventually_cell k8s/restart/policy-while-down-enforced denied 5 a tcp c 80
expect_cell k8s/restart/c-from-b-tcp80-allowed allowed b tcp c 80
expect_cell k8s/restart/b-from-r1-tcp80-allowed allowed r1 tcp b 80
expect_cell k8s/restart/b-from-e8-tcp80-denied denied e8 tcp b 80
touch "$E2E_TMP/guard.stop"
wait "$GC"
status k8s/restart/guard-from-c-no-leak-no-refusal $? "$(cat "$E2E_TMP/guard-c.out")"
wait "$GB"
status k8s/restart/guard-from-b-no-refusal $? "$(cat "$E2E_TMP/guard-b.out")"
log "guards: c: $(cat "$E2E_TMP/guard-c.out"); b: $(cat "$E2E_TMP/guard-b.out")"
# the same endpoints and ids (ids.json), b keeps its identity, and the
# remote pods are peers again, bound to nothing
eps1=$(ep_ids)
ib1=$(ident_of_labels x b)
check k8s/restart/same-endpoint-ids "before: $eps0; after: $eps1" \
	test "$eps1" = "$eps0"
check k8s/restart/same-identity "x/app=b: $ib0 before, $ib1 after" \
	test -n "$ib0" -a "$ib1" = "$ib0"
v1=$(trace_verdict "$R1" x/b tcp/80)
check k8s/restart/trace-r1-allowed "trace r1->b tcp/80: $v1" test "$v1" = allowed

e2e_finish
