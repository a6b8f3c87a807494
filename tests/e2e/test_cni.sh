#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwall's CNI plugin run as a runtime runs it: Debian's bridge or ptp and
# host-local chained with podwall (scripts/lib/cnirun.py), podwalld in the
# node namespace.
#
#   cni/1.0.0: pods a, b, c (namespace demo, app=a|b|c) on bridge cni0.
#              b admits app=a on tcp/80 and udp/53; c admits app=b on
#              tcp/8080; a is not policed. Truth table, CHECK, endpoints,
#              filters on the CNI's host veth, DEL (maps emptied,
#              idempotent), DEL with the agent down and the netns gone,
#              ADD errors, an ADD whose address is on no veth.
#   cni/v040br, cni/v040ptp, cni/v100ptp (0.4.0 on bridge, 0.4.0 and
#              1.0.0 on ptp): two pods, one policy, allowed and denied
#              probes, CHECK, DEL.
#
# Every deny is preceded by the same probe passing without policy, so a
# broken topology cannot pass for a working firewall.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

PLUGIN=$CNI_BIN/podwall
for f in "$AGENT" "$PWCLI" "$PLUGIN" /usr/lib/cni/bridge /usr/lib/cni/ptp \
	/usr/lib/cni/host-local; do
	[ -x "$f" ] || skip "no $f (run make; apt install containernetworking-plugins)"
done
command -v bpftool >/dev/null || skip "needs bpftool"
command -v tc >/dev/null || skip "needs tc"


# cached_result POD: the chain's final result, as the runtime cached it.
cached_result() {
	cat "$E2E_TMP/cnicache/pwe2e-cid-$1-eth0"
}

# host_if POD: the host-side veth the CNI result names (the last
# interface outside the sandbox).
host_if() {
	cached_result "$1" | "$PY" -c 'import json, sys
r = json.load(sys.stdin)
print([i["name"] for i in r["interfaces"] if not i.get("sandbox")][-1])'
}

record() {
	echo "$E2E_TMP/state/cni/cid-$1_eth0.json"
}

# cni_error FILE: "CODE MSG DETAILS" of the first CNI error object in
# FILE (a plugin's stdout, or cnirun's stderr that carries it).
cni_error() {
	"$PY" - "$1" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
i = text.find("{")
while i >= 0:
    try:
        o, _ = dec.raw_decode(text, i)
        if isinstance(o, dict) and "code" in o:
            print(o["code"], o.get("msg", ""), o.get("details", ""))
            sys.exit(0)
    except ValueError:
        pass
    i = text.find("{", i + 1)
print("none")
EOF
}

# plugin CMD CONTAINER_ID NETNS < CONF: the podwall plugin alone.
plugin() {
	CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 \
		CNI_PATH="/usr/lib/cni:$CNI_BIN" timeout 40 "$PLUGIN"
}

# conf_with_prev VERSION POD: podwall's netconf with POD's cached result
# as prevResult.
conf_with_prev() {
	cached_result "$2" | "$PY" -c '
import json, sys
print(json.dumps({"cniVersion": sys.argv[1], "name": "pwe2e",
                  "type": "podwall", "socket": sys.argv[2],
                  "prevResult": json.load(sys.stdin)}))' "$1" "$E2E_TMP/pw.sock"
}

# maps: the pinned maps as one JSON object {name: [entries]} (BTF view).
maps() {
	local m

	for m in pw_endpoints pw_ipcache pw_policy pw_policy_exact; do
		echo "$m"
		bpftool map dump pinned "$PIN/$m" || return 1
		echo "--end--"
	done | "$PY" -c '
import json, sys
out, name, buf = {}, None, []
for line in sys.stdin:
    if name is None:
        name = line.strip()
    elif line.strip() == "--end--":
        out[name] = json.loads("".join(buf) or "[]")
        name, buf = None, []
    else:
        buf.append(line)
print(json.dumps(out))'
}

# mapq SNAPSHOT EXPR: print a Python expression over a snapshot from
# maps(): n(map) entries, n_peers() pw_ipcache's but the node's own,
# has_ip(a) in pw_ipcache, ep_of(a) its pw_endpoints values, pol(pol_id)
# its policy entries (trie and exact); n('pw_policy') counts both policy
# maps.
mapq() {
	"$PY" -c '
import ipaddress, json, sys
m = json.loads(sys.argv[1])
def ip(a):
    return list(ipaddress.IPv4Address(a).packed)
def n(name):
    if name == "pw_policy":
        return len(m[name]) + len(m["pw_policy_exact"])
    return len(m[name])
def has_ip(a):
    return any(e["key"]["addr"][12:] == ip(a) for e in m["pw_ipcache"])
def ep_of(a):
    return [e["value"] for e in m["pw_endpoints"]
            if e["value"]["ip4"][12:] == ip(a)]
def pol(pid):
    return [e for e in m["pw_policy"] + m["pw_policy_exact"]
            if e["key"]["pol_id"] == pid]
def n_peers():
    # ipcache entries but those of the node itself (the host identity, 2)
    return len([e for e in m["pw_ipcache"] if e["value"]["id"] != 2])
print(eval(sys.argv[2]))' "$1" "$2"
}

# maptrue SNAPSHOT EXPR: succeeds if EXPR is true.
maptrue() {
	[ "$(mapq "$1" "bool($2)")" = True ]
}

# ep_matches K8S_NS POD: the agent lists POD once, local, with its CNI
# address on the host veth of its CNI result, and its record names that
# veth too.
ep_matches() {
	local hif

	hif=$(host_if "$2") || return 1
	pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1
	pw get cni -o json >"$E2E_TMP/cni.json" 2>&1
	"$PY" - "$E2E_TMP/eps.json" "$E2E_TMP/cni.json" "$1" "$2" \
		"${POD_IP4[$2]}" "$hif" <<'EOF'
import json, sys
eps, cni, ns, pod, ip, hif = sys.argv[1:]
def items(path):
    o = json.load(open(path))
    return o["items"] if isinstance(o, dict) else o
e = [x for x in items(eps) if x["namespace"] == ns and x["pod"] == pod]
r = [x for x in items(cni) if x.get("containerId") == "cid-" + pod]
ok = (len(e) == 1 and e[0]["ips"] == [ip] and e[0]["local"] is True
      and e[0].get("interface") == hif and len(r) == 1
      and r[0]["hostIfname"] == hif)
if not ok:
    print("# want", ip, "on", hif, "; endpoints:", e, "cni records:", r,
          file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# sock_call JSON: one request line to the agent, its answer line.
sock_call() {
	"$PY" - "$E2E_TMP/pw.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
EOF
}

# ------------------------------------------------------------- VERSION
out=$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$PLUGIN")
echo "$out" | "$PY" -c 'import json, sys
v = json.load(sys.stdin)["supportedVersions"]
sys.exit(0 if "0.4.0" in v and "1.0.0" in v else 1)'
status cni/version-supports-0.4.0-and-1.0.0 $? "VERSION said: $out"

e2e_node_create || {
	not_ok cni/topology "could not create the node namespace"
	exit 1
}
agent_start || {
	not_ok cni/agent-start "podwalld did not start"
	exit 1
}

# ------------------------------------------------ 1.0.0, bridge: a, b, c
cni_conf 1.0.0 bridge
for p in a b c; do
	if ! cni_add "$p" demo "app=$p" 2>"$E2E_TMP/add.err"; then
		not_ok "cni/1.0.0/add-$p" "$(tr '\n' ' ' <"$E2E_TMP/add.err")"
		exit 1
	fi
	ok "cni/1.0.0/add-$p"
done
declare -A SERVER=()
for p in a b c; do
	serve "$p" --tcp 80,81,8080 --udp 53 --seconds 150
	SERVER[$p]=$E2E_LASTPID
done
for p in a b c; do
	wait_listen "$p" 8080 tcp && wait_listen "$p" 53 udp || {
		not_ok cni/1.0.0/servers "servers did not start"
		exit 1
	}
done
ver=$(cached_result a | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["cniVersion"])')
check cni/1.0.0/result-version "result cniVersion $ver" test "$ver" = 1.0.0

# name | expected with the policies | from | proto | to | port
TABLE="
b-from-a-tcp80     allowed a tcp  b 80
b-from-a-udp53     allowed a udp  b 53
b-from-a-tcp81     denied  a tcp  b 81
b-from-a-icmp      denied  a icmp b -
b-from-c-tcp80     denied  c tcp  b 80
b-from-c-udp53     denied  c udp  b 53
c-from-b-tcp8080   allowed b tcp  c 8080
c-from-a-tcp8080   denied  a tcp  c 8080
c-from-a-icmp      denied  a icmp c -
c-from-b-icmp      denied  b icmp c -
c-from-b-tcp80     denied  b tcp  c 80
a-from-c-tcp80     allowed c tcp  a 80
a-from-b-udp53     allowed b udp  a 53
a-from-b-icmp      allowed b icmp a -
"
# (the a-from-b replies enter b, whose ingress is policed: conntrack)

bad=
while read -r name want from proto to port; do
	[ -n "$name" ] || continue
	reach "$from" "$proto" "$to" "$port" || bad+=" $name"
done <<<"$TABLE"
if [ -z "$bad" ]; then
	ok cni/1.0.0/baseline-no-policy
else
	not_ok cni/1.0.0/baseline-no-policy "blocked without policy:$bad"
	exit 1 # the topology is broken: nothing below would mean anything
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
    ports: [{protocol: TCP, port: 80}, {protocol: UDP, port: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-from-b, namespace: demo}
spec:
  podSelector: {matchLabels: {app: c}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{protocol: TCP, port: 8080}]
YAML
pw apply -f "$E2E_TMP/policy.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status cni/1.0.0/apply-policy $? "$(cat "$E2E_TMP/apply.err")"

while read -r name want from proto to port; do
	[ -n "$name" ] || continue
	expect "cni/1.0.0/$name" "$want" "$from" "$proto" "$to" "$port"
done <<<"$TABLE"

# ----------------------------------------------- CHECK, endpoints, filters
for p in a b c; do
	cni_run check "$p" 2>"$E2E_TMP/check.err"
	status "cni/1.0.0/check-$p" $? "$(tr '\n' ' ' <"$E2E_TMP/check.err")"
done
# CHECK can fail: a container the agent never saw is refused.
conf_with_prev 1.0.0 a | plugin CHECK cid-unknown \
	"/run/netns/${E2E_NS_PREFIX}a" >"$E2E_TMP/check-unknown.out"
rc=$?
err=$(cni_error "$E2E_TMP/check-unknown.out")
[ "$rc" -ne 0 ] && [ "${err%% *}" = 100 ]
status cni/1.0.0/check-unknown-container-refused $? "exit $rc, error: $err"

for p in a b c; do
	hif=$(host_if "$p")
	check "cni/1.0.0/endpoint-$p-ip-and-interface" \
		"not listed with ${POD_IP4[$p]} on $hif" ep_matches demo "$p"
	in_node tc filter show dev "$hif" ingress | grep -q 'bpf.*pw_from_pod' &&
		in_node tc filter show dev "$hif" egress | grep -q 'bpf.*pw_to_pod'
	status "cni/1.0.0/filters-on-host-veth-$p" $? \
		"no podwall bpf filters on $hif"
done

# --------------------------------------------------- DEL through the chain
# c's rule admits b: c owns policy entries, so their removal is visible.
before=$(maps) || before=
cip=${POD_IP4[c]}
cpol=$(mapq "$before" "ep_of('$cip')[0]['pol_id'] if ep_of('$cip') else -1")
cn=$(mapq "$before" "len(pol($cpol))")
log "before DEL c: $(mapq "$before" "(n('pw_endpoints'), n('pw_ipcache'), n('pw_policy'))"); c pol_id $cpol with $cn entries"
check cni/1.0.0/before-del-c-in-maps \
	"c ($cip) not fully in the maps before DEL: pol_id $cpol, $cn entries" \
	maptrue "$before" "has_ip('$cip') and ep_of('$cip') and pol($cpol)"
cni_del c 2>"$E2E_TMP/del.err"
status cni/1.0.0/del-c $? "$(tr '\n' ' ' <"$E2E_TMP/del.err")"
[ ! -e "$(record c)" ]
status cni/1.0.0/del-c-record-gone $? "$(record c) is still there"
pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1
grep -q '"pod":[[:space:]]*"c"' "$E2E_TMP/eps.json" && r=1 || r=0
grep -q '"pod":[[:space:]]*"a"' "$E2E_TMP/eps.json" || r=1
status cni/1.0.0/del-c-not-in-endpoints "$r" "$(tr -d '\n\t' <"$E2E_TMP/eps.json")"
after=$(maps) || after=
# one endpoint and one address fewer, c's policy entries gone
check cni/1.0.0/del-c-maps-emptied \
	"after DEL c (endpoints, ipcache, policy, c's address, c's rules): $(mapq "$after" "(n('pw_endpoints'), n('pw_ipcache'), n('pw_policy'), has_ip('$cip'), len(pol($cpol)))")" \
	maptrue "$after" "not has_ip('$cip') and not ep_of('$cip') and not pol($cpol)
    and n('pw_endpoints') == $(mapq "$before" "n('pw_endpoints')") - 1
    and n('pw_ipcache') == $(mapq "$before" "n('pw_ipcache')") - 1
    and n('pw_policy') <= $(mapq "$before" "n('pw_policy')") - $cn"
cni_del c 2>"$E2E_TMP/del.err"
status cni/1.0.0/del-c-again-idempotent $? "$(tr '\n' ' ' <"$E2E_TMP/del.err")"
expect cni/1.0.0/after-del-c-b-from-a-tcp80 allowed a tcp b 80
expect cni/1.0.0/after-del-c-b-from-a-tcp81 denied a tcp b 81

# ----------------------------- DEL with the agent down and the netns gone
before=$(maps) || before=
bip=${POD_IP4[b]}
bpol=$(mapq "$before" "ep_of('$bip')[0]['pol_id'] if ep_of('$bip') else -1")
check cni/agent-down/b-in-maps-before \
	"b ($bip) not fully in the maps: pol_id $bpol" \
	maptrue "$before" "has_ip('$bip') and ep_of('$bip') and pol($bpol)"
bhif=$(host_if b)
agent_stop KILL
# The pod is gone: its last process ends, then its netns goes, and with
# it the veth pair.
kill "${SERVER[b]}"
wait "${SERVER[b]}" 2>/dev/null
ip netns del "${E2E_NS_PREFIX}b"
for ((i = 0; i < 30; i++)); do
	in_node ip link show "$bhif" >/dev/null 2>&1 || break
	sleep 0.1
done
! in_node ip link show "$bhif" >/dev/null 2>&1
status cni/agent-down/netns-and-veth-gone $? "$bhif is still in the node"
cni_del b 2>"$E2E_TMP/del.err"
status cni/agent-down/del-without-netns $? "$(tr '\n' ' ' <"$E2E_TMP/del.err")"
[ ! -e "$(record b)" ]
status cni/agent-down/del-removes-record $? "$(record b) is still there"

# ----------------------------------------------------------- ADD errors
# Agent down: through the chain, like a runtime would see it.
cni_add d demo app=d 2>"$E2E_TMP/add-down.err"
rc=$?
err=$(cni_error "$E2E_TMP/add-down.err")
[ "$rc" -ne 0 ] && [ "${err%% *}" = 11 ] && [[ $err == *"$E2E_TMP/pw.sock"* ]]
status cni/errors/add-agent-down-code-11-names-socket $? "exit $rc, error: $err"
cni_del d 2>/dev/null # the runtime's cleanup after a failed ADD

echo '{"cniVersion":"1.0.0","name":"pwe2e","type":"podwall","socket":"'"$E2E_TMP/pw.sock"'"}' |
	plugin ADD cid-x "/run/netns/${E2E_NS_PREFIX}a" >"$E2E_TMP/noprev.out"
rc=$?
err=$(cni_error "$E2E_TMP/noprev.out")
[ "$rc" -ne 0 ] && [ "${err%% *}" = 7 ]
status cni/errors/no-prevresult-code-7 $? "exit $rc, error: $err"

conf_with_prev 0.3.1 a | plugin ADD cid-x "/run/netns/${E2E_NS_PREFIX}a" \
	>"$E2E_TMP/v031.out"
rc=$?
err=$(cni_error "$E2E_TMP/v031.out")
[ "$rc" -ne 0 ] && [ "${err%% *}" = 1 ]
status cni/errors/version-0.3.1-code-1 $? "exit $rc, error: $err"

# The restarted agent does not bring b back, and clears what it had.
agent_start || {
	not_ok cni/agent-down/restart "podwalld did not restart"
	exit 1
}
pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1
grep -q '"pod":[[:space:]]*"[bd]"' "$E2E_TMP/eps.json" && r=1 || r=0
grep -q '"pod":[[:space:]]*"a"' "$E2E_TMP/eps.json" || r=1
status cni/agent-down/restart-does-not-bring-back "$r" \
	"$(tr -d '\n\t' <"$E2E_TMP/eps.json")"
after=$(maps) || after=
# only a is left
check cni/agent-down/restart-maps-hold-nothing-for-b \
	"after restart (endpoints, ipcache, policy, b's address, b's rules): $(mapq "$after" "(n('pw_endpoints'), n('pw_ipcache'), n('pw_policy'), has_ip('$bip'), len(pol($bpol)))")" \
	maptrue "$after" "not has_ip('$bip') and not ep_of('$bip') and not pol($bpol)
    and n('pw_endpoints') == 1 and n_peers() == 1"

# -------------------------------------- an address on no veth of the node
ahif=$(host_if a)
req='{"op":"endpoint-add","endpoint":{"containerId":"cid-ghost","ifname":"eth0",'
req+='"netns":"/run/netns/nowhere","hostIfname":"'$ahif'","namespace":"demo",'
req+='"pod":"ghost","ips":["10.99.99.99"],"labels":{"app":"ghost"}}}'
ans=$(sock_call "$req")
echo "$ans" | "$PY" -c 'import json, sys
a = json.loads(sys.stdin.readline())
sys.exit(0 if a.get("ok") is False and "10.99.99.99" in a.get("error", "") else 1)'
status cni/foreign-address/refused-names-address $? "answer: $ans"
pw status >/dev/null 2>&1
status cni/foreign-address/agent-still-answers $? "pw status failed"
[ ! -e "$(record ghost)" ]
status cni/foreign-address/no-record-left $? "$(record ghost) exists"
r=0
pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1 || r=1
grep -q '"pod":[[:space:]]*"ghost"' "$E2E_TMP/eps.json" && r=1
status cni/foreign-address/not-in-endpoints "$r" \
	"$(tr -d '\n\t' <"$E2E_TMP/eps.json")"

# ------------------------------------------ other versions and ptp
# flow TAG VERSION bridge|ptp: pods TAGx and TAGy in namespace TAG; y
# admits app=x on tcp/80 only.
flow() {
	local t=$1 ver=$2 kind=$3 x=${1}x y=${1}y p v r m

	agent_stop
	agent_start || {
		not_ok "cni/$t/agent-start" "podwalld did not start"
		return 1
	}
	cni_conf "$ver" "$kind"
	for p in "$x" "$y"; do
		cni_add "$p" "$t" "app=$p" 2>"$E2E_TMP/add.err" || {
			not_ok "cni/$t/add-$p" "$(tr '\n' ' ' <"$E2E_TMP/add.err")"
			return 1
		}
		serve "$p" --tcp 80,81 --seconds 60
	done
	ok "cni/$t/add"
	wait_listen "$x" 81 && wait_listen "$y" 81 || {
		not_ok "cni/$t/servers" "servers did not start"
		return 1
	}
	v=$(cached_result "$y" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["cniVersion"])')
	check "cni/$t/result-version" "result cniVersion $v, want $ver" \
		test "$v" = "$ver"
	reach "$x" tcp "$y" 81 && reach "$x" tcp "$y" 80 || {
		not_ok "cni/$t/baseline-no-policy" "$x -> $y tcp blocked"
		return 1
	}
	ok "cni/$t/baseline-no-policy"
	cat >"$E2E_TMP/policy-$t.yaml" <<-YAML
		apiVersion: networking.k8s.io/v1
		kind: NetworkPolicy
		metadata: {name: y-from-x, namespace: $t}
		spec:
		  podSelector: {matchLabels: {app: $y}}
		  ingress:
		  - from: [{podSelector: {matchLabels: {app: $x}}}]
		    ports: [{protocol: TCP, port: 80}]
	YAML
	pw apply -f "$E2E_TMP/policy-$t.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
	status "cni/$t/apply-policy" $? "$(cat "$E2E_TMP/apply.err")"
	expect "cni/$t/y-from-x-tcp80" allowed "$x" tcp "$y" 80
	expect "cni/$t/y-from-x-tcp81" denied "$x" tcp "$y" 81
	expect "cni/$t/x-from-y-tcp81" allowed "$y" tcp "$x" 81
	cni_run check "$y" 2>"$E2E_TMP/check.err"
	status "cni/$t/check" $? "$(tr '\n' ' ' <"$E2E_TMP/check.err")"
	check "cni/$t/endpoint-ip-and-interface" \
		"$y not listed with ${POD_IP4[$y]} on $(host_if "$y")" \
		ep_matches "$t" "$y"
	r=0
	for p in "$x" "$y"; do
		cni_del "$p" 2>>"$E2E_TMP/del.err" || r=1
		[ -e "$(record "$p")" ] && r=1
	done
	pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1 || r=1
	grep -q "\"namespace\":[[:space:]]*\"$t\"" "$E2E_TMP/eps.json" && r=1
	status "cni/$t/del" "$r" "DEL failed, or a record or endpoint is left"
	m=$(maps)
	check "cni/$t/del-maps-emptied" "an address or endpoint is still in the maps" \
		maptrue "$m" "not has_ip('${POD_IP4[$x]}') and not has_ip('${POD_IP4[$y]}')
    and not ep_of('${POD_IP4[$x]}') and not ep_of('${POD_IP4[$y]}')"
}

flow v040br 0.4.0 bridge
# ptp cannot share the subnet with the bridge: a and cni0 go first.
cni_del a 2>"$E2E_TMP/del.err"
status cni/1.0.0/del-a $? "$(tr '\n' ' ' <"$E2E_TMP/del.err")"
in_node ip link del cni0
flow v040ptp 0.4.0 ptp
flow v100ptp 1.0.0 ptp

e2e_finish
