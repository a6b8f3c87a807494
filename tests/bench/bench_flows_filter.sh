#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwall flows over a big flow log, against jq on the same file.
#
# Generates BENCH_MB MiB (default 1024) of synthetic flow records in the
# real schema (user/agent/flowrec.h: new/drop/end/lost, allowed/denied/
# audit, tcp/udp/icmp, pods with labels, CIDR and world ends, policies and
# rules, counters, folded counts), then times
#   podwall flows --file F --verdict denied --port 81 -o json | wc -l
#   jq -c 'select(.verdict=="denied" and (.src.port==81 or .dst.port==81))'
# Both must count the same records (exit 1 if not: that is a bug, not a
# speed). Then the same podwall run split into phases, to show where its
# time goes. Prints a Markdown table; numbers, never pass/fail on speed.
# The generated file is removed on any exit.
#
# usage: [BUILD=build] [BENCH_MB=1024] tests/bench/bench_flows_filter.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
MB=${BENCH_MB:-1024}
PW=$BUILD/podwall
PY=/usr/bin/python3

[ -x "$PW" ] || {
	echo "bench_flows_filter: no $PW (run make)" >&2
	exit 1
}
case $MB in
'' | *[!0-9]*)
	echo "bench_flows_filter: BENCH_MB must be a number of MiB" >&2
	exit 2
	;;
esac
if ! command -v jq >/dev/null; then
	echo "bench_flows_filter: skipped (needs jq)"
	exit 0
fi

DIR=$(mktemp -d /tmp/pw-bench-flows.XXXXXX) || exit 1
trap 'rm -rf "$DIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
F=$DIR/flows.jsonl

# ------------------------------------------------------------ generator
# Deterministic (seeded). Ports: 81 on ~12% of destinations and on the
# source of some replies, so both ends of the filter matter; ICMP and
# "lost" records have no ports at all.
gen_start=$EPOCHREALTIME
"$PY" - "$F" "$MB" <<'EOF'
import random, sys, time
path, mb = sys.argv[1], int(sys.argv[2])
limit = mb << 20
rnd = random.Random(1)
nss = ["shop", "payments", "search", "kube-system", "monitoring"]
apps = ["web", "api", "db", "cache", "worker", "auth", "frontend", "ingest"]
pods = []
for i in range(60):
    ns, app = nss[i % 5], apps[i % 8]
    h = "%08x" % rnd.getrandbits(32)
    name = "%s-%s-%s" % (app, h[:6], h[6:] + "xz")
    labels = '{"app":"%s","pod-template-hash":"%s","tier":"%s"}' % (
        app, h[:6], ["frontend", "backend", "data"][i % 3])
    ip = "10.244.%d.%d" % (i // 20, 10 + i % 200)
    frag = '"namespace":"%s","pod":"%s","labels":%s' % (ns, name, labels)
    pods.append((ip, frag, ns + "/" + name, i + 1))
cidrs = [("172.20.3.%d", "172.20.0.0/16"), ("192.168.7.%d", "192.168.0.0/16")]
ports = [80, 81, 443, 53, 5432, 8080, 9090, 6379]
pweights = [30, 12, 20, 10, 8, 10, 5, 5]
flagsets = ["SYN", "SYN|ACK", "ACK", "FIN|ACK", "RST", "PSH|ACK"]
t = int(time.time() * 1e9) - 3600 * 10**9


def pod_end(p, port):
    if port is None:
        return '{"ip":"%s",%s}' % (p[0], p[1])
    return '{"ip":"%s","port":%d,%s}' % (p[0], port, p[1])


def other_end(port):
    k = rnd.random()
    if k < 0.75:
        return pod_end(rnd.choice(pods), port), 256 + rnd.randrange(60)
    if k < 0.9:
        fmt, c = rnd.choice(cidrs)
        ip = fmt % rnd.randrange(1, 255)
        pp = "" if port is None else ',"port":%d' % port
        return '{"ip":"%s"%s,"cidr":"%s"}' % (ip, pp, c), 16777216 + rnd.randrange(8)
    ip = "%d.%d.%d.%d" % (rnd.randrange(1, 224), rnd.randrange(256),
                          rnd.randrange(256), rnd.randrange(1, 255))
    pp = "" if port is None else ',"port":%d' % port
    return '{"ip":"%s"%s,"world":true}' % (ip, pp), 2


out = open(path, "w", buffering=1 << 20)
size = 0
buf = []
while size < limit:
    t += rnd.randrange(1000, 400000)
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + \
        ".%09dZ" % (t % 10**9)
    k = rnd.random()
    if k < 0.0002:
        line = '{"time":"%s","type":"lost","count":%d,"source":"ring-buffer"}' % (
            ts, rnd.randrange(1, 5000))
        buf.append(line)
        size += len(line) + 1
        continue
    at = rnd.choice(pods)
    proto = "tcp" if k < 0.8 else ("udp" if k < 0.95 else "icmp")
    dport = rnd.choices(ports, pweights)[0] if proto == "tcp" else \
        (53 if rnd.random() < 0.7 else 81) if proto == "udp" else None
    sport = None if proto == "icmp" else rnd.randrange(32768, 61000)
    egress = rnd.random() < 0.5
    reply = proto != "icmp" and rnd.random() < 0.1
    if reply:  # the server's answer: its port is the source's
        sport, dport = dport, sport
    peer, peer_id = other_end(dport if egress else sport)
    local = pod_end(at, sport if egress else dport)
    src, dst = (local, peer) if egress else (peer, local)
    typ = rnd.choices(["new", "drop", "end"], [45, 30, 25])[0]
    verdict = "denied" if typ == "drop" else \
        ("audit" if rnd.random() < 0.03 else "allowed")
    extra = ""
    if proto == "icmp":
        extra += ',"icmp_type":%d,"icmp_code":0' % rnd.choice([0, 8, 3])
    extra += ',"observed_at":"%s"' % at[2]
    if proto == "tcp":
        extra += ',"tcp_flags":"%s"' % rnd.choice(flagsets)
    extra += ',"is_reply":%s' % ("true" if reply else "false")
    rule_id = 0
    count = 1
    if typ == "drop":
        extra += ',"reason":"%s"' % rnd.choices(
            ["policy-denied", "ct-invalid", "spoofed-source"], [90, 7, 3])[0]
        if rnd.random() < 0.2:
            count = rnd.randrange(2, 500)
    elif rnd.random() < 0.7:
        slot = rnd.randrange(1, 40)
        rule_id = slot << 12 | (2048 if egress else 0) | rnd.randrange(3)
        extra += ',"policy":"%s/np-%d","rule":"%s[%d]"' % (
            nss[slot % 5], slot, "egress" if egress else "ingress",
            rule_id & 0x7ff)
    if typ == "end":
        pf, pr = rnd.randrange(1, 5000), rnd.randrange(0, 5000)
        extra += ',"packets":{"forward":%d,"reply":%d},"bytes":{"forward":%d,"reply":%d}' % (
            pf, pr, pf * rnd.randrange(60, 1500), pr * rnd.randrange(60, 1500))
    line = ('{"time":"%s","type":"%s","verdict":"%s","direction":"%s",'
            '"protocol":"%s","src":%s,"dst":%s%s,"count":%d,"ep_id":%d,'
            '"rule_id":%d,"peer_id":%d}') % (
        ts, typ, verdict, "egress" if egress else "ingress", proto, src, dst,
        extra, count, at[3], rule_id, peer_id)
    buf.append(line)
    size += len(line) + 1
    if len(buf) >= 10000:
        out.write("\n".join(buf) + "\n")
        buf = []
if buf:
    out.write("\n".join(buf) + "\n")
out.close()
EOF
[ $? -eq 0 ] || {
	echo "bench_flows_filter: generator failed" >&2
	exit 1
}
gen_s=$(echo "$EPOCHREALTIME - $gen_start" | bc)
bytes=$(stat -c %s "$F")
records=$(wc -l <"$F")
cat "$F" >/dev/null # from the page cache from now on, for both tools

# timed OUT CMD...: runs CMD (a shell pipeline in a string) and prints its
# output then the seconds it took, on one line.
timed() {
	local t0 out

	t0=$EPOCHREALTIME
	out=$(bash -c "$1")
	echo "$out $(echo "$EPOCHREALTIME - $t0" | bc)"
}

JQ_EXPR='select(.verdict=="denied" and (.src.port==81 or .dst.port==81))'
read -r n_pw s_pw < <(timed "'$PW' flows --file '$F' --verdict denied --port 81 -o json | wc -l")
read -r n_jq s_jq < <(timed "jq -c '$JQ_EXPR' '$F' | wc -l")
# phases of podwall flows: reading lines only (no record matches
# --type none... after parsing: so read + parse + filter), and the whole
# file out (+ output)
read -r n_none s_none < <(timed "'$PW' flows --file '$F' --type none -o json | wc -l")
read -r n_all s_all < <(timed "'$PW' flows --file '$F' -o json | wc -l")
read -r _ s_wc < <(timed "wc -l <'$F'")

rate() { echo "scale=0; $1 / $2" | bc; }
printf '\n| podwall flows vs jq: %d MiB, %d records (generated in %.1f s) | records/s | time |\n' \
	"$((bytes >> 20))" "$records" "$gen_s"
echo "|---|---|---|"
printf '| podwall flows --verdict denied --port 81 -o json (%d matched) | %s | %.2f s |\n' \
	"$n_pw" "$(rate "$records" "$s_pw")" "$s_pw"
printf '| jq -c select(verdict denied, src or dst port 81) (%d matched) | %s | %.2f s |\n' \
	"$n_jq" "$(rate "$records" "$s_jq")" "$s_jq"
printf '| ratio podwall / jq (records/s) | %.2f | |\n' \
	"$(echo "scale=4; $s_jq / $s_pw" | bc)"
printf '| phase: wc -l (reading the file) | %s | %.2f s |\n' \
	"$(rate "$records" "$s_wc")" "$s_wc"
printf '| phase: podwall flows --type none (read + parse + filter, nothing out) | %s | %.2f s |\n' \
	"$(rate "$records" "$s_none")" "$s_none"
printf '| phase: podwall flows -o json, no filter (+ every record out) | %s | %.2f s |\n' \
	"$(rate "$records" "$s_all")" "$s_all"

rc=0
if [ "$n_pw" != "$n_jq" ] || [ "$n_pw" -eq 0 ]; then
	echo "bench_flows_filter: podwall flows found $n_pw records, jq $n_jq" >&2
	rc=1
fi
if [ "$n_none" != 0 ] || [ "$n_all" != "$records" ]; then
	echo "bench_flows_filter: --type none gave $n_none, no filter $n_all of $records" >&2
	rc=1
fi
exit $rc
