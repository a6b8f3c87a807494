#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwalld against bad input. Two CNI pods in namespace "bad" (a: app=a,
# b: app=b) and a good policy on b: ingress from app=a on TCP 80 only.
# Each failure mode must give a clear error naming the file, object and
# field (or the address, map or path), the agent must keep serving, and
# the last good policy must stay in force (a->b:80 allowed, a->b:81
# denied), checked after each group:
#   1. podwall apply of broken manifests (JSON, YAML, unknown field, bad
#      port, bad label value, a good document next to a bad one)
#   2. a broken manifest in the --manifests folder
#   3. control socket abuse (not JSON, array, unknown op or field, lines
#      over 4 MiB, half lines, more clients than the limit)
#   4. an endpoint-add whose address is on no veth of this node
#   5. a full policy map (second agent with --policy-max 8)
#   6. a --pin folder that is not bpffs
#   7. a stale pin from another version
#   8. a missing manifests folder, a bad config file
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp

[ -x "$AGENT" ] && [ -x "$PWCLI" ] && [ -x "$CNI_BIN/podwall" ] ||
	skip "no $AGENT, $PWCLI or $CNI_BIN/podwall (run make)"
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] ||
	skip "needs the CNI bridge and host-local plugins in /usr/lib/cni"
command -v bpftool >/dev/null || skip "needs bpftool"

SOCK=$E2E_TMP/pw.sock
LOG=$E2E_TMP/agent.log
M=$E2E_TMP/m

# status NAME RC MSG: ok if RC is 0; MSG on one line (stdout holds only
# result lines).

# has NAME FILE TEXT: FILE holds TEXT (fixed string).
has() {
	grep -qF -- "$3" "$2"
	status "$1" $? "no \"$3\" in: $(head -c 600 "$2")"
}

# eventually NAME allowed|denied FROM PROTO DST PORT: within 3 s.
eventually() {
	local name=$1 want=$2 got i

	shift 2
	for ((i = 0; i < 10; i++)); do
		if reach "$@"; then got=allowed; else got=denied; fi
		[ "$got" = "$want" ] && break
		sleep 0.2
	done
	status "$name" "$([ "$got" = "$want" ] && echo 0 || echo 1)" \
		"$* expected $want, got $got"
}

# log_wait TEXT: the agent's log shows TEXT within 5 s.
log_wait() {
	local i

	for ((i = 0; i < 50; i++)); do
		grep -qF -- "$1" "$LOG" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# serving TAG: the agent process runs and answers podwall status.
serving() {
	e2e_running "$AGENT_PID" && pw status >/dev/null 2>"$E2E_TMP/st.err"
	status "badinput/$1-agent-serves" $? \
		"agent gone or not answering: $(cat "$E2E_TMP/st.err")"
}

# enforced TAG: the good policy is still in force.
enforced() {
	expect "badinput/$1-good-policy-allows" allowed a tcp b 80
	expect "badinput/$1-good-policy-denies" denied a tcp b 81
}

# policies FILE: what the agent has applied, to compare.
policies() {
	pw get policies -o json >"$1" 2>&1
	ls "$STATE/applied" >>"$1" 2>&1
}

# put DIR/FILE: stdin into FILE atomically (the agent watches DIR).
put() {
	cat >"$E2E_TMP/put.tmp" && mv "$E2E_TMP/put.tmp" "$1"
}

netpol() { # NAME PORTS...: NetworkPolicy bad/NAME, b from a on PORTS
	local name=$1 p

	shift
	printf '%s\n' "apiVersion: networking.k8s.io/v1" \
		"kind: NetworkPolicy" \
		"metadata: {name: $name, namespace: bad}" \
		"spec:" \
		"  podSelector: {matchLabels: {app: b}}" \
		"  ingress:" \
		"  - from: [{podSelector: {matchLabels: {app: a}}}]" \
		"    ports:"
	for p in "$@"; do
		echo "    - {protocol: TCP, port: $p}"
	done
}

# ===================================================== phase 1: one agent
STATE=$E2E_TMP/state
e2e_node_create || {
	not_ok badinput/topology "could not build the node namespace"
	exit 1
}
cni_conf
mkdir -p "$M"
agent_start --manifests "$M" || {
	not_ok badinput/agent-start "podwalld did not start"
	exit 1
}
cni_add a bad app=a && cni_add b bad app=b || {
	not_ok badinput/cni-pods "CNI ADD failed: $(tail -n 3 "$LOG")"
	exit 1
}
serve b --tcp 80,81,82,1000 --seconds 110
wait_listen b 1000 || {
	not_ok badinput/servers "servers did not start"
	exit 1
}
# without a policy 81 gets through: its denial below is the policy's
expect badinput/baseline-open allowed a tcp b 81
netpol b-from-a 80 >"$E2E_TMP/good.yaml"
pw apply -f "$E2E_TMP/good.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status badinput/good-policy-applied $? "$(cat "$E2E_TMP/apply.err")"
enforced baseline

# ------------------------------------------- 1. podwall apply of bad files
B=$E2E_TMP/bad
mkdir -p "$B"
printf '{"apiVersion": "v1", "kind": "NetworkPolicy",\n' >"$B/trunc.json"
printf 'kind: NetworkPolicy\nmetadata: {name: x\n  labels: [\n' \
	>"$B/flow.yaml"
cat >"$B/field.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x, namespace: bad}
spec:
  podSelector: {}
  ingres: []
YAML
cat >"$B/port.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x, namespace: bad}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 70000}]
YAML
cat >"$B/label.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x, namespace: bad}
spec:
  podSelector: {matchLabels: {app: "not a/valid value!"}}
YAML
# a good document (it would open 81) ahead of a bad one: all or nothing
{
	netpol opens-81 81
	echo ---
	cat "$B/port.yaml"
} | sed "s/name: x,/name: mixed,/" >"$B/mixed.yaml"

policies "$E2E_TMP/pol.before"
while IFS='|' read -r file want; do
	[ -n "$file" ] || continue
	pw apply -f "$B/$file" >"$E2E_TMP/apply.out" 2>"$E2E_TMP/apply.err"
	rc=$?
	status "badinput/apply-$file-fails" "$([ "$rc" -ne 0 ] && echo 0 ||
		echo 1)" "exit $rc: $(cat "$E2E_TMP/apply.out")"
	has "badinput/apply-$file-error" "$E2E_TMP/apply.err" "$B/$file: $want"
	policies "$E2E_TMP/pol.after"
	cmp -s "$E2E_TMP/pol.before" "$E2E_TMP/pol.after"
	status "badinput/apply-$file-nothing-applied" $? \
		"$(diff "$E2E_TMP/pol.before" "$E2E_TMP/pol.after" | head -n 8)"
done <<'CASES'
trunc.json|invalid JSON near byte
flow.yaml|line 3, column
field.yaml|NetworkPolicy bad/x: spec.ingres: unknown field
port.yaml|NetworkPolicy bad/x: spec.ingress[0].ports[0].port: must be an integer from 1 to 65535
label.yaml|NetworkPolicy bad/x: spec.podSelector.matchLabels.app: invalid label value "not a/valid value!"
mixed.yaml|NetworkPolicy bad/mixed: spec.ingress[0].ports[0].port: must be an integer from 1 to 65535
CASES
serving apply
enforced apply

# --------------------------------------- 2. a bad file in the manifests folder
# A good file opens 82; broken later (and opening 81 if it were taken),
# the folder's last good state stays in force, whole.
expect badinput/folder-82-closed-before denied a tcp b 82
netpol from-dir 82 | put "$M/dir.yaml"
eventually badinput/folder-good-file-enforced allowed a tcp b 82
put "$M/dir.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-dir, namespace: bad}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports:
    - {protocol: TCP, port: 81}
    - {protocol: TCP, port: 90, endPort: 80}
YAML
log_wait "$M/dir.yaml: NetworkPolicy bad/from-dir: spec.ingress[0].ports[1].endPort: must be >= port"
status badinput/folder-error-names-file-object-field $? \
	"$(tail -n 3 "$LOG")"
serving folder
enforced folder
expect badinput/folder-last-good-file-kept allowed a tcp b 82
# fixed (here: removed), the folder counts again
rm "$M/dir.yaml"
eventually badinput/folder-recovers denied a tcp b 82

# ------------------------------------- 3, 4. the control socket, raw
cat >"$E2E_TMP/sock.py" <<'PY'
import json, select, socket, sys, time

path = sys.argv[1]


def report(name, good, detail=""):
    print("%s\t%d\t%s" % (name, 0 if good else 1,
                          str(detail).replace("\n", " ")[:400]))


def conn():
    for _ in range(500):  # a full backlog says EAGAIN: retry, 5 s at most
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    raise OSError("cannot connect to " + path)


def readline(s):
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            r = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not r:
            break
        buf += r
    return buf


def answer(s):
    line = readline(s)
    try:
        return json.loads(line)
    except ValueError:
        return {"unparsable": line[:200].decode(errors="replace")}


def closed(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def send(s, data):
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the agent stopped reading: its answer is still there


def refused(name, line, want):
    s = conn()
    send(s, line)
    a = answer(s)
    report(name, a.get("ok") is False and want in a.get("error", ""), a)
    return s


def ping(s):
    send(s, b'{"op":"ping"}\n')
    return answer(s).get("ok") is True


def abuse():
    refused("socket-not-json", b"hello there\n", "not a JSON object").close()
    refused("socket-json-array", b'[{"op":"ping"}]\n',
            "not a JSON object").close()
    s = refused("socket-unknown-op", b'{"op":"frobnicate"}\n',
                'request.op: unknown "frobnicate"')
    report("socket-refusal-keeps-connection", ping(s))
    s.close()
    for op in ("get", "status", "ping"):
        req = {"op": op, "colour": "red"}
        if op == "get":
            req["what"] = "policies"
        refused("socket-unknown-field-" + op,
                json.dumps(req).encode() + b"\n",
                "request.colour: unknown field").close()
    ep = {"containerId": "cid-x", "ifname": "eth0", "netns": "/x",
          "hostIfname": "vethx", "namespace": "bad", "pod": "x",
          "ips": ["10.124.0.251"], "colour": "red"}
    refused("socket-unknown-field-endpoint",
            json.dumps({"op": "endpoint-add", "endpoint": ep}).encode() +
            b"\n", "endpoint.colour: unknown field").close()

    # 3 MiB is under the limit: read in full (its unknown field is seen)
    s = refused("socket-3mib-line-read",
                b'{"op":"get","what":"policies","pad":"' +
                b"a" * (3 << 20) + b'"}\n', "request.pad: unknown field")
    s.close()
    # over 4 MiB without a newline: an answer, then the end
    s = conn()
    send(s, b'{"op":"get","what":"policies","pad":"' + b"a" * (5 << 20))
    a = answer(s)
    report("socket-over-limit-refused",
           a.get("ok") is False and "longer than the limit" in
           a.get("error", ""), a)
    report("socket-over-limit-closed", closed(s))
    s.close()

    # half a line, then gone; and one that stays, not blocking the others
    s = conn()
    send(s, b'{"op":"pi')
    s.close()
    half = conn()
    send(half, b'{"op":"status",')
    s = conn()
    report("socket-half-line-others-served", ping(s))
    s.close()
    half.close()

    # 100 at once: 64 are served, the others told so and closed
    cs = [conn() for _ in range(100)]
    busy, other, pending = 0, [], list(cs)
    end = time.time() + 3
    while pending and time.time() < end:
        r, _, _ = select.select(pending, [], [], 0.3)
        if not r:
            break
        for c in r:
            pending.remove(c)
            line = readline(c)
            if line == b'{"ok":false,"error":"too many clients"}\n' and \
                    closed(c):
                busy += 1
            else:
                other.append(line[:100])
    served = sum(1 for c in pending if ping(c))
    report("socket-too-many-clients-refused",
           busy >= 36 and not other and busy + len(pending) == 100,
           "busy %d, other %r" % (busy, other[:3]))
    report("socket-64-clients-served",
           60 <= len(pending) <= 64 and served == len(pending),
           "%d kept, %d answered" % (len(pending), served))
    for c in cs:
        c.close()
    time.sleep(0.2)
    s = conn()
    report("socket-serves-after-abuse", ping(s))
    s.close()


def ghost():
    ep = {"containerId": "cid-ghost", "ifname": "eth0",
          "netns": "/run/netns/none", "hostIfname": "vethghost0",
          "namespace": "bad", "pod": "ghost", "ips": ["10.124.0.250"],
          "labels": {"app": "a"}}
    s = conn()
    send(s, json.dumps({"op": "endpoint-add", "endpoint": ep}).encode() +
         b"\n")
    a = answer(s)
    s.close()
    report("unknown-ip-refused", a.get("ok") is False, a)
    e = a.get("error", "")
    report("unknown-ip-error-names-address",
           "10.124.0.250" in e and "bad/ghost" in e and "veth" in e, e)


# a case that crashes the script shows as a failure, not as silence
try:
    {"abuse": abuse, "ghost": ghost}[sys.argv[2]]()
    report(sys.argv[2] + "-ran-to-end", True)
except Exception as e:
    report(sys.argv[2] + "-ran-to-end", False, repr(e))
PY

# sock MODE: run sock.py MODE, one ok/not ok line per result.
sock() {
	local name rc detail

	timeout 60 "$PY" "$E2E_TMP/sock.py" "$SOCK" "$1" >"$E2E_TMP/sock.out" \
		2>"$E2E_TMP/sock.err"
	while IFS=$'\t' read -r name rc detail; do
		status "badinput/$name" "$rc" "$detail"
	done <"$E2E_TMP/sock.out"
	grep -q "^$1-ran-to-end"$'\t' "$E2E_TMP/sock.out" ||
		not_ok "badinput/$1-ran-to-end" \
			"sock.py did not finish: $(tail -n 5 "$E2E_TMP/sock.err")"
}

sock abuse
serving socket
enforced socket

sock ghost
[ ! -e "$STATE/cni/cid-ghost_eth0.json" ]
status badinput/unknown-ip-no-record-left $? \
	"$(ls "$STATE/cni")"
! pw get cni -o json | grep -q cid-ghost &&
	! pw get endpoints | grep -q ghost
status badinput/unknown-ip-not-registered $? "$(pw get endpoints)"
serving unknown-ip
enforced unknown-ip

# =============================================== phase 2: a small map
# Map sizes of existing pins cannot change: a fresh pin folder and state
# (the pods' records and the good policy carried over).
agent_stop
STATE=$E2E_TMP/state2
mkdir -p "$STATE"
cp -r "$E2E_TMP/state/cni" "$E2E_TMP/state/applied" "$STATE/"
agent_start --pin "$PIN/small" --state-dir "$STATE" --policy-max 8 || {
	not_ok badinput/small-agent-start "podwalld --policy-max 8 did not start"
	exit 1
}
enforced small
expect badinput/small-1000-closed denied a tcp b 1000

entries() {
	pw status -o json | "$PY" -c \
		'import json,sys; print(json.load(sys.stdin)["maps"]["policy"]["entries"])'
}
n_before=$(entries)
policies "$E2E_TMP/pol.before"
netpol many $(seq 1000 1015) >"$E2E_TMP/many.yaml"
pw apply -f "$E2E_TMP/many.yaml" >"$E2E_TMP/apply.out" 2>"$E2E_TMP/apply.err"
rc=$?
status badinput/map-full-apply-fails "$([ "$rc" -ne 0 ] && echo 0 || echo 1)" \
	"exit $rc: $(cat "$E2E_TMP/apply.out")"
has badinput/map-full-error-says-full "$E2E_TMP/apply.err" "full"
has badinput/map-full-error-says-nothing-applied "$E2E_TMP/apply.err" \
	"nothing was applied"
policies "$E2E_TMP/pol.after"
cmp -s "$E2E_TMP/pol.before" "$E2E_TMP/pol.after"
status badinput/map-full-policies-unchanged $? \
	"$(diff "$E2E_TMP/pol.before" "$E2E_TMP/pol.after" | head -n 8)"
serving map-full
enforced map-full
# nothing of the refused policy may be in force
expect badinput/map-full-refused-policy-not-enforced denied a tcp b 1000
n_after=$(entries)
[ "$n_after" = "$n_before" ]
status badinput/map-full-entries-rolled-back $? \
	"policy map entries $n_before before, $n_after after the refused apply"
pw status -o json >"$E2E_TMP/status.json"
"$PY" -c 'import json,sys; s = json.load(open(sys.argv[1]))
sys.exit(not ("full" in s["last_error"] and s["reconcile_errors"] > 0))' \
	"$E2E_TMP/status.json"
status badinput/map-full-status-last-error $? \
	"$(grep -E 'last_error|reconcile_errors' "$E2E_TMP/status.json")"
# a policy that fits still goes in
netpol opens-82 82 >"$E2E_TMP/fits.yaml"
pw apply -f "$E2E_TMP/fits.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status badinput/map-full-fitting-apply-works $? "$(cat "$E2E_TMP/apply.err")"
expect badinput/map-full-fitting-apply-enforced allowed a tcp b 82
agent_stop

# ========================================= phase 3: refusals at start
# run_agent NAME OPTIONS...: podwalld in the node, 20 s at most; exit
# status in $rc, stderr in $E2E_TMP/NAME.err, seconds taken in $took.
run_agent() {
	local name=$1 t0=$SECONDS

	shift
	in_node timeout 20 "$AGENT" --state-dir "$E2E_TMP/state-$name" \
		--socket "$E2E_TMP/$name.sock" --flow-log none "$@" \
		2>"$E2E_TMP/$name.err"
	rc=$?
	took=$((SECONDS - t0))
	log "podwalld $name: exit $rc after ${took}s: $(tr '\n' '|' <"$E2E_TMP/$name.err")"
}

# exits NAME WANT: exited non-zero (WANT: that status) within 5 s.
exits() {
	local good=1

	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$took" -le 5 ]; then
		[ -z "${2:-}" ] || [ "$rc" -eq "$2" ] && good=0
	fi
	status "badinput/$1-exits" "$good" \
		"exit status $rc (want ${2:-non-zero}) after ${took}s"
}

# ------------------------------------------------------ 6. --pin not bpffs
mkdir -p "$E2E_TMP/notbpf"
run_agent notbpf --pin "$E2E_TMP/notbpf" --config /dev/null
exits notbpf
grep -Eiq "$E2E_TMP/notbpf.* is not (on )?(a )?bpf ?(fs|file ?system)" \
	"$E2E_TMP/notbpf.err"
status badinput/notbpf-error-names-path $? "$(cat "$E2E_TMP/notbpf.err")"
[ -z "$(ls -A "$E2E_TMP/notbpf")" ] && [ ! -e "$E2E_TMP/notbpf.sock" ]
status badinput/notbpf-leaves-nothing $? "$(ls -A "$E2E_TMP/notbpf")"

# ---------------------------------------------------- 7. stale pin
# pw_ct as an older version could have made it, and a map of someone else
S=$PIN/stale
mkdir "$S" &&
	bpftool map create "$S/pw_ct" type hash key 4 value 4 entries 16 \
		name pw_ct &&
	bpftool map create "$S/keep" type array key 4 value 4 entries 1 \
		name keep
status badinput/stale-pin-made $? "could not pin maps in $S"
pinned() {
	local f

	for f in "$S"/*; do
		echo "$f $(bpftool -j map show pinned "$f" 2>&1)"
	done
}
pinned >"$E2E_TMP/stale.before"
run_agent stale --pin "$S" --config /dev/null
exits stale
has badinput/stale-error-names-map "$E2E_TMP/stale.err" \
	"pinned map $S/pw_ct is not the one this podwall makes"
grep -Eq "key 4/[0-9]+, value 4/[0-9]+, entries 16/[0-9]+" \
	"$E2E_TMP/stale.err"
status badinput/stale-error-says-what-differs $? "$(cat "$E2E_TMP/stale.err")"
pinned >"$E2E_TMP/stale.after"
cmp -s "$E2E_TMP/stale.before" "$E2E_TMP/stale.after"
status badinput/stale-folder-untouched $? \
	"$(diff "$E2E_TMP/stale.before" "$E2E_TMP/stale.after" | head -n 6)"
rm -rf "$S"

# ----------------------------------- 8. missing folder, bad config file
run_agent nodir --pin "$PIN/nodir" --config /dev/null \
	--manifests "$E2E_TMP/nonexistent"
exits nodir
grep -q "$E2E_TMP/nonexistent.*No such file or directory" "$E2E_TMP/nodir.err"
status badinput/missing-manifests-folder-named $? "$(cat "$E2E_TMP/nodir.err")"
[ ! -e "$E2E_TMP/nodir.sock" ]
status badinput/missing-manifests-no-socket-left $? "$E2E_TMP/nodir.sock"

printf '# podwalld\nct-max 4096\n\nbogus-option 3\n' >"$E2E_TMP/unknown.conf"
run_agent conf-unknown --pin "$PIN/conf" --config "$E2E_TMP/unknown.conf"
exits conf-unknown 2
has badinput/conf-unknown-names-file-line "$E2E_TMP/conf-unknown.err" \
	"$E2E_TMP/unknown.conf:4: unknown option \"bogus-option\""
printf 'ct-max = lots\n' >"$E2E_TMP/value.conf"
run_agent conf-value --pin "$PIN/conf" --config "$E2E_TMP/value.conf"
exits conf-value 2
grep -q "$E2E_TMP/value.conf:1: .*ct-max.*lots" "$E2E_TMP/conf-value.err"
status badinput/conf-bad-value-names-file-line $? \
	"$(cat "$E2E_TMP/conf-value.err")"
[ ! -e "$PIN/conf" ]
status badinput/conf-refused-before-loading $? "$PIN/conf was made"

e2e_finish
