#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The flow log on real traffic: podwalld in the node namespace, three CNI
# pods in Kubernetes namespace "flows" (cli app=cli, srv app=srv, oth
# app=oth) on bridge cni0, and one policy: srv admits app=cli on tcp/80
# and tcp/5001, nothing else.
#
#   1. agent with --ct-sweep 1 --flow-aggregate 2: a denied and an allowed
#      connect as records (from the agent and from its files), the end
#      record of a 1 MB transfer against what was sent, --follow latency,
#      20 identical denies folded into 1 + 19, filters against an
#      independent evaluation of the same records, --summary.
#   2. agent restarted with --flow-log-max-mb 1 --flow-aggregate 0 on a
#      folder of its own: thousands of denied UDP probes rotate the log at
#      least twice; the rotated files are gzip, and podwall flows --dir
#      reads every record the agent counts, --last N the newest N.
#
# Every deny is preceded by the same traffic passing without policy, so a
# broken topology cannot pass for a working firewall.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init agent
command -v gzip >/dev/null || skip "needs gzip"


FLOWS=$E2E_TMP/flows
ROT=$E2E_TMP/rot
SOCK=${PW_SOCK:-$E2E_TMP/pw.sock}

# recq.py count|select|first FILE EXPR: the JSON records of FILE (one per
# line) for which the Python expression EXPR holds; r is the record, s and
# d its src and dst (empty dicts if absent). count prints how many, select
# prints them as they are, first prints the first one.
cat >"$E2E_TMP/recq.py" <<'EOF'
import json, sys
mode, path, expr = sys.argv[1:4]
code = compile(expr, "expr", "eval")
n, out = 0, []
with open(path) as f:
    for line in f:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            print("# not a JSON record: " + line[:200], file=sys.stderr)
            continue
        s, d = r.get("src") or {}, r.get("dst") or {}
        if eval(code, {}, {"r": r, "s": s, "d": d}):
            n += 1
            out.append(line)
if mode == "count":
    print(n)
elif mode == "first":
    print(out[0] if out else "")
else:
    sys.stdout.write("".join(l + "\n" for l in out))
EOF
recq() { "$PY" "$E2E_TMP/recq.py" "$@"; }

# status_field KEY: the agent's flow_log.KEY.
status_field() {
	pw status -o json 2>/dev/null | "$PY" -c '
import json, sys
print(int(json.load(sys.stdin)["flow_log"][sys.argv[1]]))' "$1"
}

# udp_burst POD IP PORT COUNT NPORTS: COUNT datagrams from one socket (one
# source port) to PORT .. PORT+NPORTS-1, round robin, as fast as they go
# with a short pause every 500 so the veth queues keep up.
udp_burst() {
	in_pod "$1" timeout 30 "$PY" -c '
import socket, sys, time
ip, port, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"podwall-flows", (ip, port + i % k))
    if i % 500 == 499:
        time.sleep(0.005)' "$2" "$3" "$4" "$5"
}

# agent_query FILE ARGS...: `podwall flows ARGS -o json` from the agent
# into FILE.
agent_query() {
	local f=$1

	shift
	pw flows "$@" -o json >"$f" 2>"$f.err"
}

e2e_node_create || {
	not_ok flows/topology "could not create the node namespace"
	exit 1
}
agent_start --ct-sweep 1 --flow-aggregate 2 || {
	not_ok flows/agent-start "podwalld did not start"
	exit 1
}
cni_conf 1.0.0 bridge
for p in cli srv oth; do
	if ! cni_add "$p" flows "app=$p" 2>"$E2E_TMP/add.err"; then
		not_ok "flows/cni-add-$p" "$(tr '\n' ' ' <"$E2E_TMP/add.err")"
		exit 1
	fi
done
SRV=${POD_IP4[srv]}
serve srv --tcp 80,81 --udp 53 --seconds 140
wait_listen srv 81 tcp && wait_listen srv 53 udp || {
	not_ok flows/servers "servers did not start"
	exit 1
}

# ------------------------------------------------------ baseline, policy
bad=
for t in "cli tcp 81" "cli tcp 80" "oth tcp 80" "cli udp 53"; do
	set -- $t
	reach "$1" "$2" srv "$3" || bad+=" $t"
done
if [ -n "$bad" ]; then
	not_ok flows/baseline-no-policy "blocked without policy:$bad"
	exit 1 # nothing below would mean anything
fi
ok flows/baseline-no-policy

cat >"$E2E_TMP/policy.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: srv-in, namespace: flows}
spec:
  podSelector: {matchLabels: {app: srv}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: cli}}}]
    ports: [{protocol: TCP, port: 80}, {protocol: TCP, port: 5001}]
YAML
pw apply -f "$E2E_TMP/policy.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status flows/apply-policy $? "$(cat "$E2E_TMP/apply.err")"

# ------------------------------------------------- denied and allowed
expect flows/denied-connect-blocked denied cli tcp srv 81
expect flows/other-pod-blocked denied oth tcp srv 80
expect flows/allowed-connect-passes allowed cli tcp srv 80

DENIED='r["type"] == "drop" and r["verdict"] == "denied" and r["protocol"] == "tcp" and s.get("namespace") == "flows" and s.get("pod") == "cli" and d.get("namespace") == "flows" and d.get("pod") == "srv" and d.get("port") == 81 and r.get("reason") == "policy-denied" and r["observed_at"] == "flows/srv" and r["direction"] == "ingress"'
agent_query "$E2E_TMP/denied.json" --last 100 --verdict denied
n=$(recq count "$E2E_TMP/denied.json" "$DENIED")
status flows/denied-record-from-agent "$([ "$n" -ge 1 ] && echo 0 || echo 1)" \
	"no drop cli->srv:81 policy-denied in: $(head -c 1500 "$E2E_TMP/denied.json" "$E2E_TMP/denied.json.err")"
# every record --verdict denied gave is denied
n=$(recq count "$E2E_TMP/denied.json" 'r["verdict"] != "denied"')
check flows/verdict-filter-only-denied "$n records not denied" test "$n" = 0

# The files are flushed every 200 ms: bounded wait (3 s).
for ((i = 0; i < 30; i++)); do
	"$PWCLI" flows --dir "$FLOWS" --verdict denied -o json \
		>"$E2E_TMP/denied-dir.json" 2>&1
	[ "$(recq count "$E2E_TMP/denied-dir.json" "$DENIED")" -ge 1 ] && break
	sleep 0.1
done
n=$(recq count "$E2E_TMP/denied-dir.json" "$DENIED")
status flows/denied-record-from-files "$([ "$n" -ge 1 ] && echo 0 || echo 1)" \
	"none in $FLOWS: $(head -c 1500 "$E2E_TMP/denied-dir.json")"

ALLOWED='r["type"] == "new" and r["verdict"] == "allowed" and s.get("pod") == "cli" and d.get("pod") == "srv" and d.get("port") == 80 and r["observed_at"] == "flows/srv"'
agent_query "$E2E_TMP/allowed.json" --last 100 --verdict allowed --to-port 80
n=$(recq count "$E2E_TMP/allowed.json" "$ALLOWED and r.get(\"policy\") == \"flows/srv-in\" and r.get(\"rule\") == \"ingress[0]\"")
# the baseline connect (before the policy) has no policy: only the one after
m=$(recq count "$E2E_TMP/allowed.json" "$ALLOWED")
status flows/allowed-record-names-policy-and-rule \
	"$([ "$n" -ge 1 ] && [ "$m" -eq $((n + 1)) ] && echo 0 || echo 1)" \
	"$n records with policy flows/srv-in ingress[0] of $m: $(head -c 1500 "$E2E_TMP/allowed.json")"

# ---------------------------------------------- end record vs. bytes sent
# A 1 MB upload cli -> srv:5001; the client half-closes and reads until the
# server closes, so FIN goes both ways and the datapath ends the flow.
PAYLOAD=1000000
bg ip netns exec "${E2E_NS_PREFIX}srv" timeout 30 "$PY" -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001))
s.listen(1)
s.settimeout(25)
c, _ = s.accept()
c.settimeout(10)
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.close()
print(n)' >"$E2E_TMP/upload.srv"
wait_listen srv 5001 tcp
# It prints tcpi_bytes_sent: payload bytes sent, retransmissions included.
in_pod cli timeout 20 "$PY" -c '
import socket, struct, sys
s = socket.create_connection((sys.argv[1], 5001), timeout=10)
s.sendall(b"x" * int(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
# struct tcp_info: __u64 tcpi_bytes_sent at offset 200, bytes_retrans at 208
sent, retrans = struct.unpack_from("<QQ", s.getsockopt(
    socket.IPPROTO_TCP, socket.TCP_INFO, 232), 200)
s.close()
print(sent, retrans)' "$SRV" "$PAYLOAD" >"$E2E_TMP/upload.cli"
rc=$?
read -r SENT RETRANS <"$E2E_TMP/upload.cli"
log "upload: tcpi_bytes_sent ${SENT:-?}, of which retransmitted ${RETRANS:-?}"
for ((i = 0; i < 20; i++)); do
	[ -s "$E2E_TMP/upload.srv" ] && break
	sleep 0.1
done
got=$(cat "$E2E_TMP/upload.srv")
check flows/upload-delivered "client exit $rc, server read '$got', sent ${SENT:-?}" \
	test "$rc" = 0 -a "$got" = "$PAYLOAD" -a "${SENT:-0}" -ge "$PAYLOAD"

# Each end has its own conntrack entry, so two end records: at cli
# (egress) and at srv (ingress), both with "forward" = cli -> srv, the
# way the flow was opened. bytes count whole frames as TC sees them
# (skb->len: Ethernet + IP + TCP headers + payload), and a GSO frame
# counts its headers once, so per forward packet the overhead is at most
# 14 (Ethernet) + 4 (VLAN) + 60 (IPv4 with options) + 60 (TCP with
# options) = 138 bytes. A TCP retransmission is counted again (it is on
# the wire again), so the upper bound takes the client's own count of
# payload sent, retransmissions included (tcpi_bytes_sent):
#   payload <= forward <= bytes_sent + 138 * packets.
# The server sends no payload: reply <= 138 * reply packets.
for ((i = 0; i < 30; i++)); do
	agent_query "$E2E_TMP/end.json" --last 1000 --type end --to-port 5001
	[ "$(recq count "$E2E_TMP/end.json" 'True')" -ge 2 ] && break
	sleep 0.1
done
for at in cli:egress srv:ingress; do
	recq first "$E2E_TMP/end.json" "r[\"observed_at\"] == \"flows/${at%:*}\" and r[\"direction\"] == \"${at#*:}\" and s.get(\"pod\") == \"cli\" and d.get(\"pod\") == \"srv\"" \
		>"$E2E_TMP/end-$at.json"
	"$PY" - "$E2E_TMP/end-$at.json" "$PAYLOAD" "${SENT:-0}" <<'EOF'
import json, sys
line = open(sys.argv[1]).read().strip()
if not line:
    print("# no end record", file=sys.stderr)
    sys.exit(1)
r = json.loads(line)
p, b = r["packets"], r["bytes"]
pay, sent = int(sys.argv[2]), int(sys.argv[3])
print("# end record at %s: packets %s bytes %s" % (r["observed_at"], p, b),
      file=sys.stderr)
ok = (pay <= b["forward"] <= sent + 138 * p["forward"] and
      0 < b["reply"] <= 138 * p["reply"] and r["count"] == 1 and
      "FIN" in r["tcp_flags"])
sys.exit(0 if ok else 1)
EOF
	status "flows/end-counters-match-payload-at-${at%:*}" $? \
		"1 MB sent (${SENT:-?} with retransmissions); record: $(cat "$E2E_TMP/end-$at.json") (all: $(head -c 2000 "$E2E_TMP/end.json"))"
done

# ------------------------------------------------------- --follow latency
bg "$PWCLI" --socket "$SOCK" flows --follow -o json \
	>"$E2E_TMP/follow.json" 2>"$E2E_TMP/follow.err"
FOLLOWER=$E2E_LASTPID
for ((i = 0; i < 30; i++)); do
	[ "$(pw status -o json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["flow_followers"])')" -ge 1 ] && break
	sleep 0.1
done
# From just before the connect until its record is in the follower's
# output (polled every 5 ms; at most 3 s).
"$PY" - "$E2E_TMP/follow.json" "${E2E_NS_PREFIX}cli" "$SRV" \
	"$E2E_REPO/scripts/lib/probe.py" <<'EOF' >"$E2E_TMP/latency"
import calendar, json, subprocess, sys, time
path, ns, ip, probe = sys.argv[1:5]
t0 = time.monotonic()
p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, probe,
                      "probe", "tcp", ip, "80", "--timeout", "1"])
seen = rec = None
while time.monotonic() < t0 + 3 and seen is None:
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if (r.get("type") == "new" and r["dst"].get("port") == 80 and
                    r.get("observed_at") == "flows/srv"):
                seen, rec = time.monotonic(), r
                wall = time.time()
                break
    if seen is None:
        time.sleep(0.005)
p.wait()
if seen is None:
    print("none")
else:
    # the record's own time is the event's: what the pipeline added
    t = rec["time"]
    ev = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) + \
        float("0." + t[20:-1])
    print("%.3f %.3f" % (seen - t0, wall - ev))
EOF
read -r lat pipe <"$E2E_TMP/latency"
log "follow: record shown $lat s after the connect began (event to output: ${pipe:-?} s)"
"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "$lat" 2>/dev/null
status flows/follow-shows-record-within-1s $? \
	"latency: $lat; follower output: $(head -c 1000 "$E2E_TMP/follow.json") $(cat "$E2E_TMP/follow.err")"
kill "$FOLLOWER" 2>/dev/null

# ---------------------------------------------------------- aggregation
# 20 identical denies (one socket: same source, destination, port) within
# the 2 s interval: the first as a record at once, the other 19 as one
# record with "count": 19 once the interval is over.
AGG='r["type"] == "drop" and r["protocol"] == "udp" and s.get("pod") == "cli" and d.get("pod") == "srv" and d.get("port") == 53'
udp_burst cli "$SRV" 53 20 1
agent_query "$E2E_TMP/agg1.json" --last 1000 --verdict denied --protocol udp
first=$(recq select "$E2E_TMP/agg1.json" "$AGG" | "$PY" -c '
import json, sys
print(" ".join(str(json.loads(l)["count"]) for l in sys.stdin))')
check flows/aggregate-first-deny-at-once "counts seen at once: '$first'" \
	test "$first" = 1
for ((i = 0; i < 50; i++)); do
	agent_query "$E2E_TMP/agg2.json" --last 1000 --verdict denied --protocol udp
	[ "$(recq count "$E2E_TMP/agg2.json" "$AGG")" -ge 2 ] && break
	sleep 0.1
done
counts=$(recq select "$E2E_TMP/agg2.json" "$AGG" | "$PY" -c '
import json, sys
print(" ".join(str(json.loads(l)["count"]) for l in sys.stdin))')
check flows/aggregate-folds-19-after-interval "counts: '$counts' (want '1 19')" \
	test "$counts" = "1 19"

# ------------------------------------------------------------- filters
# A snapshot of the log (flushed every 200 ms) so every query sees the
# same records; each filter's output must be exactly the records an
# independent evaluation (recq) selects, in the same order.
sleep 0.5
SNAP=$E2E_TMP/snap.jsonl
cp "$FLOWS/flows.jsonl" "$SNAP"
total=$(recq count "$SNAP" 'True')
log "snapshot: $total records"
FIRST_T=$(head -n 1 "$SNAP" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["time"])')
# one second before the first record
BEFORE=$("$PY" -c '
import sys, calendar, time
t = sys.argv[1]
s = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - 1
print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s)))' "$FIRST_T")
MID_T=$(sed -n "$((total / 2))p" "$SNAP" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["time"])')

# filter NAME MIN PYEXPR ARGS...: podwall flows --file SNAP ARGS gives
# exactly the records PYEXPR selects, and at least MIN of them.
filter() {
	local name=$1 min=$2 expr=$3 want got

	shift 3
	recq select "$SNAP" "$expr" >"$E2E_TMP/f-want"
	"$PWCLI" flows --file "$SNAP" "$@" -o json >"$E2E_TMP/f-got" 2>&1
	want=$(grep -c . "$E2E_TMP/f-want")
	got=$(grep -c . "$E2E_TMP/f-got")
	if cmp -s "$E2E_TMP/f-want" "$E2E_TMP/f-got" && [ "$want" -ge "$min" ]; then
		ok "flows/filter-$name"
	else
		not_ok "flows/filter-$name" "$*: got $got records, want $want (at least $min); diff: $(diff "$E2E_TMP/f-want" "$E2E_TMP/f-got" | head -c 1500)"
	fi
}
PORT81='(s.get("port") == 81 or d.get("port") == 81)'
filter from-pod-verdict-port 1 \
	"s.get(\"pod\", \"\").startswith(\"cli\") and r.get(\"verdict\") == \"denied\" and $PORT81" \
	--from-pod cli --verdict denied --port 81
filter same-without-verdict 2 \
	"\"pod\" in s and (s[\"namespace\"] + \"/\" + s[\"pod\"]).startswith(\"flows/cli\") and $PORT81" \
	--from-pod flows/cli --port 81
filter namespace-protocol-udp 4 \
	'"flows" in (s.get("namespace"), d.get("namespace")) and r.get("protocol") == "udp"' \
	--namespace flows --protocol udp
filter label 1 \
	'"oth" in (s.get("labels", {}).get("app"), d.get("labels", {}).get("app"))' \
	--label app=oth
filter from-label-not 1 \
	'"namespace" in s and s.get("labels", {}).get("app") != "cli"' \
	--from-label 'app!=cli'
filter ip-cidr-and-type 1 \
	"r.get(\"type\") == \"end\" and any(e.get(\"ip\") == \"$SRV\" for e in (s, d))" \
	--ip "$SRV/32" --type end
filter to-ip-wide-cidr "$((total / 3))" \
	'd.get("ip", "").startswith("10.124.0.")' \
	--to-ip 10.124.0.0/24
filter ports-or 3 \
	'80 in (s.get("port"), d.get("port")) or 81 in (s.get("port"), d.get("port"))' \
	--port 80 --port 81
filter reason-to-pod 2 \
	'r.get("reason") == "policy-denied" and d.get("pod", "").startswith("srv")' \
	--reason policy-denied --to-pod srv
filter policy-prefix 2 'r.get("policy", "").startswith("flows/srv")' \
	--policy flows/srv
filter since-1h-all "$total" 'True' --since 1h
filter until-before-all-none 0 'False' --until "$BEFORE"
filter since-until-window 1 "r[\"time\"] <= \"$MID_T\"" --since 1h --until "$MID_T"

# ------------------------------------------------------------- summary
# The top denied pair is the 20 folded udp/53 denies (the tcp/81 and
# oth -> srv:80 connects are a SYN and its retransmits).
"$PWCLI" flows --file "$SNAP" --summary >"$E2E_TMP/summary.txt" 2>&1
top=$(sed -n '/^Top denied pairs/{n;p;q}' "$E2E_TMP/summary.txt")
log "summary top denied pair: $top"
re='^ +20 +flows/cli -> flows/srv:53 udp$'
[[ $top =~ $re ]]
status flows/summary-top-denied-pair $? "$(cat "$E2E_TMP/summary.txt")"

# ---------------------------------------------- rotation and compression
agent_stop
agent_start --flow-log "$ROT" --flow-log-max-mb 1 --flow-aggregate 0 || {
	not_ok flows/rotation-agent-start "podwalld did not restart"
	exit 1
}
expect flows/restart-still-enforces denied cli udp srv 53
# Denied UDP probes (one record each, no folding) until the log rotated
# twice: ~470 bytes a record, so ~2300 a MiB. At most 8 bursts.
for ((i = 0; i < 8; i++)); do
	udp_burst cli "$SRV" 2000 2500 10
	sleep 0.3
	[ "$(status_field rotations)" -ge 2 ] && break
done
rot=$(status_field rotations)
check flows/rotated-twice "rotations: $rot" test "$rot" -ge 2

# The compressor gzips each rotated file (to .gz.tmp, then renamed):
# bounded wait (15 s) until no plain rotated file or .tmp is left.
for ((i = 0; i < 150; i++)); do
	plain=$(find "$ROT" -name 'flows-*' ! -name '*.gz' | wc -l)
	gz=$(find "$ROT" -name 'flows-*.jsonl.gz' | wc -l)
	[ "$plain" = 0 ] && [ "$gz" -ge 2 ] && break
	sleep 0.1
done
log "rotated: $(ls "$ROT" | tr '\n' ' ')"
bad=
for f in "$ROT"/flows-*.jsonl.gz; do
	[ -e "$f" ] || continue
	[ "$(head -c 2 "$f" | od -An -tx1 | tr -d ' ')" = 1f8b ] &&
		gzip -t "$f" 2>/dev/null || bad+=" $(basename "$f")"
done
check flows/rotated-files-are-gzip "$plain plain rotated files left, $gz .gz, not gzip:$bad" \
	test "$plain" = 0 -a "$gz" -ge 2 -a -z "$bad"

# Quiet (records stable over two flushes), then a copy of the folder to
# read, and the agent's count must not have moved meanwhile.
for ((i = 0; i < 20; i++)); do
	r1=$(status_field records)
	sleep 0.5
	cp -a "$ROT" "$E2E_TMP/rotcopy.$i"
	r2=$(status_field records)
	b2=$(status_field bytes)
	[ "$r1" = "$r2" ] && break
	rm -rf "$E2E_TMP/rotcopy.$i"
done
RC=$E2E_TMP/rotcopy.$i
"$PWCLI" flows --dir "$RC" -o json >"$E2E_TMP/rot-all.json" 2>"$E2E_TMP/rot-all.err"
lines=$(wc -l <"$E2E_TMP/rot-all.json")
ubytes=$( (cat "$RC/flows.jsonl"; zcat "$RC"/flows-*.jsonl.gz) | wc -c)
log "rotation: agent counts $r2 records, $b2 bytes; --dir read $lines; files hold $ubytes bytes uncompressed"
check flows/dir-reads-every-record "agent: $r1/$r2 records; podwall flows --dir: $lines; $(cat "$E2E_TMP/rot-all.err")" \
	test "$r1" = "$r2" -a "$lines" = "$r2" -a "$lines" -gt 4000
check flows/dir-files-hold-every-byte "agent wrote $b2 bytes, files hold $ubytes" \
	test "$ubytes" = "$b2"
"$PWCLI" flows --dir "$RC" --last 7 -o json >"$E2E_TMP/rot-last.json" 2>&1
tail -n 7 "$E2E_TMP/rot-all.json" | cmp -s - "$E2E_TMP/rot-last.json"
status flows/dir-last-n-is-newest-n $? \
	"--last 7: $(head -c 1500 "$E2E_TMP/rot-last.json")"

e2e_finish
