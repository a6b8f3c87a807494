#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Evasion attempts from pods, with hand-made frames (scapy,
# tests/e2e/evasion/evasion.py holds every case and what podwall must do).
#
# Three dual-stack CNI pods in namespace ev (bridge + host-local + podwall):
# victim, attacker and friend. The victim's policy admits TCP 80 from
# app=friend and nothing else, and lets it send anything (egress [{}]). The
# attacker and the friend send every case's frames to the victim's MAC; a
# raw capture in the victim's namespace shows what reached it.
#
#   baseline: the agent stopped and the three endpoint entries deleted (the
#     programs stay attached and pass what is not theirs): every frame of
#     every case must reach the victim, or a frame that podwall then stops
#     would prove nothing (e2e/evasion/baseline/...). The agent is then
#     started again and puts the entries back.
#   with podwall: per case, frames podwall must stop do not arrive and
#     frames the policy allows (the friend's controls: proper fragments,
#     tagged frames, ...) do (e2e/evasion/GROUP/CASE); each expected drop
#     reason is in the flow records (pw flows --follow -o json) within the
#     case's time window, at the pod that drops it, and no other drop is
#     (.../logged); the node's drop counters (pw status -o json) went up by
#     at least as many frames as expect each reason (e2e/evasion/counted/R).
#     Also: ACK without SYN leaves no conntrack entry at the victim, the
#     friend's connection survives the RST injection, the victim (allowed
#     egress only) can still ping out.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init scapy

EV=$E2E_DIR/evasion
for f in "$AGENT" "$PWCLI" "$CNI_BIN/podwall" "$DP" /usr/lib/cni/bridge \
	/usr/lib/cni/host-local; do
	[ -x "$f" ] ||
		skip "no $f (run make; apt install containernetworking-plugins)"
done
for c in ss stdbuf; do
	command -v "$c" >/dev/null || skip "needs $c"
done

PODS=(victim attacker friend)
UDP_PORT=5353 # the attacker's UDP echo server: the victim's live flow
declare -A POD_IP6=() POD_LL6=() HOST_IF=()


fatal() {
	not_ok "$1" "$2"
	exit 1
}

# report FILE: turn evasion.py check's PASS/FAIL lines into ok/not ok.
report() {
	local kind name why

	while IFS=$'\t' read -r kind name why; do
		case $kind in
		PASS) ok "evasion/$name" ;;
		FAIL) not_ok "evasion/$name" "$why" ;;
		esac
	done <"$1"
}

# pod_add NAME: a dual-stack CNI pod in namespace ev, label app=NAME.
# The namespace is made here first, so that its IPv6 sysctls hold for the
# eth0 the bridge plugin makes: no DAD (addresses usable at once), no RAs.
pod_add() {
	local p=$1 ns=$E2E_NS_PREFIX$1

	ip netns add "$ns" || return 1
	E2E_NS=("$ns" "${E2E_NS[@]}")
	# (and datagrams left incomplete on purpose time out only after the
	# test: no ICMP time exceeded from the victim while it runs)
	ip -n "$ns" link set lo up &&
		ip netns exec "$ns" sysctl -qw \
			net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_ra=0 \
			net.ipv4.ipfrag_time=300 \
			net.ipv6.ip6frag_time=300 || return 1
	cni_add "$p" ev "app=$p" || return 1
	POD_IP6[$p]=$("$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print([i["address"].split("/")[0] for i in r["ips"]
       if ":" in i["address"]][0])' "$E2E_TMP/cnicache/pwe2e-cid-$p-eth0") ||
		return 1
	POD_MAC[$p]=$(ip -n "$ns" -o link show eth0 |
		sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	POD_LL6[$p]=$(ip -n "$ns" -o -6 addr show dev eth0 scope link |
		sed -n 's/.* inet6 \(fe80[^/]*\)\/.*/\1/p')
	[ -n "${POD_MAC[$p]}" ] && [ -n "${POD_LL6[$p]}" ]
}

# echo_ok FROM DST: a TCP connection to the victim's echo server on port
# 80 gets its lines back.
echo_ok() {
	in_pod "$1" timeout 5 "${PROBE[@]}" client "$2" 80 --count 2 \
		--interval 0.05 --timeout 1 >/dev/null 2>&1
}

# write_env RST_SPORT: what evasion.py needs to know about the pods.
write_env() {
	"$PY" - "$E2E_TMP/env.json" "$1" "$UDP_PORT" "$E2E_NS_PREFIX" \
		"$GW4" "$GW6" "$VICTIM_EP" \
		"${POD_IP4[victim]}" "${POD_IP6[victim]}" "${POD_LL6[victim]}" \
		"${POD_MAC[victim]}" \
		"${POD_IP4[attacker]}" "${POD_IP6[attacker]}" \
		"${POD_LL6[attacker]}" "${POD_MAC[attacker]}" \
		"${POD_IP4[friend]}" "${POD_IP6[friend]}" "${POD_LL6[friend]}" \
		"${POD_MAC[friend]}" <<'EOF'
import json, sys
a = sys.argv[1:]
path, rst, port, prefix, gw4, gw6, vep = a[:7]
pods = {}
for i, role in enumerate(("victim", "attacker", "friend")):
    ip4, ip6, ll6, mac = a[7 + 4 * i:11 + 4 * i]
    pods[role] = {"ip4": ip4, "ip6": ip6, "ll6": ll6, "mac": mac,
                  "ns": prefix + role}
json.dump({"pods": pods, "gw": {"ip4": gw4, "ip6": gw6},
           "victim_ep": int(vep), "rst_sport": int(rst),
           "udp_sport4": 5400, "udp_sport6": 5401, "udp_port": int(port)},
          open(path, "w"))
EOF
}

# capture_start TAG: raw capture on the victim's eth0 into $E2E_TMP/TAG.pcap
capture_start() {
	local i

	rm -f "$E2E_TMP/$1.ready" "$E2E_TMP/$1.stop"
	bg ip netns exec "${E2E_NS_PREFIX}victim" "$PY" "$EV/capture.py" eth0 \
		"$E2E_TMP/$1.pcap" --ready "$E2E_TMP/$1.ready" \
		--stop "$E2E_TMP/$1.stop" --seconds 40
	CAP_PID=$E2E_LASTPID
	for ((i = 0; i < 50; i++)); do
		[ -e "$E2E_TMP/$1.ready" ] && return 0
		e2e_running "$CAP_PID" || break
		sleep 0.1
	done
	return 1
}

capture_stop() {
	local i

	sleep 0.2 # the last frames are on their way
	touch "$E2E_TMP/$1.stop"
	for ((i = 0; i < 30; i++)); do
		e2e_running "$CAP_PID" || break
		sleep 0.1
	done
	kill "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}

# send PHASE [--baseline]: every case, from the attacker's and the
# friend's eth0 (the process runs in the attacker's namespace).
send_cases() {
	local phase=$1

	shift
	ip netns exec "${E2E_NS_PREFIX}attacker" timeout 60 "$PY" \
		"$EV/evasion.py" send "$E2E_TMP/env.json" \
		"$E2E_TMP/sent$phase.json" --phase "$phase" "$@"
}

# ---------------------------------------------------------------- pods
e2e_node_create || fatal evasion/setup/topology "no node namespace"
# scripts/lib/netns.sh turns IPv6 off in the node namespace; here cni0
# holds the pods' IPv6 gateway address
in_node sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
	net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.accept_dad=0 \
	net.ipv6.conf.default.accept_dad=0 ||
	fatal evasion/setup/topology "cannot turn IPv6 on in the node namespace"
# every drop its own flow record: the checks find each case's drops by time
AGENT_ARGS=(--flow-aggregate 0)
agent_start "${AGENT_ARGS[@]}" ||
	fatal evasion/setup/agent "podwalld did not start"
cat >"$E2E_TMP/net.conflist" <<CONF
{"cniVersion":"1.0.0","name":"pwe2e","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":false,
  "ipam":{"type":"host-local","dataDir":"$E2E_TMP/ipam",
   "ranges":[[{"subnet":"10.124.0.0/24"}],[{"subnet":"fd00:124::/64"}]]}},
 {"type":"podwall","socket":"$E2E_TMP/pw.sock","stateDir":"$E2E_TMP/state"}]}
CONF
for p in "${PODS[@]}"; do
	pod_add "$p" 2>"$E2E_TMP/add.err" || fatal "evasion/setup/add-$p" \
		"$(tr '\n' ' ' <"$E2E_TMP/add.err")"
done
read -r GW4 GW6 < <("$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(*[i["gateway"] for i in r["ips"]])' \
	"$E2E_TMP/cnicache/pwe2e-cid-victim-eth0")

# the agent knows both addresses of every pod, and their host veths
pw get endpoints -o json >"$E2E_TMP/eps.json" 2>&1
eps=$("$PY" - "$E2E_TMP/eps.json" "${POD_IP4[victim]}" "${POD_IP6[victim]}" \
	"${POD_IP4[attacker]}" "${POD_IP6[attacker]}" "${POD_IP4[friend]}" \
	"${POD_IP6[friend]}" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
eps = o["items"] if isinstance(o, dict) else o
want = sys.argv[2:]
out = []
for i, role in enumerate(("victim", "attacker", "friend")):
    e = [x for x in eps if x["namespace"] == "ev" and x["pod"] == role]
    if len(e) != 1 or sorted(e[0]["ips"]) != sorted(want[2 * i:2 * i + 2]):
        sys.exit("%s: %s" % (role, e))
    out.append("%s=%s=%s" % (role, e[0]["ep_id"], e[0]["interface"]))
print(" ".join(out))
EOF
)
status evasion/setup/endpoints-dual-stack $? "$eps $(cat "$E2E_TMP/eps.json")"
for x in $eps; do
	IFS='=' read -r p id hif <<<"$x"
	HOST_IF[$p]=$hif
	[ "$p" = victim ] && VICTIM_EP=$id
done
[ -n "${VICTIM_EP:-}" ] || exit 1

serve victim --tcp-echo 80 --seconds 150
serve attacker --udp "$UDP_PORT" --seconds 150
wait_listen victim 80 && wait_listen attacker "$UDP_PORT" udp ||
	fatal evasion/setup/servers "servers did not start"

# ---------------------------------------------------------------- policy
# Without a policy the attacker reaches the victim: the deny below is
# the policy's doing.
echo_ok attacker "${POD_IP4[victim]}" && echo_ok attacker "${POD_IP6[victim]}"
status evasion/policy/attacker-reaches-victim-without-policy $? \
	"attacker cannot reach victim:80 before any policy"
cat >"$E2E_TMP/policy.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: victim, namespace: ev}
spec:
  podSelector: {matchLabels: {app: victim}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: friend}}}]
    ports: [{protocol: TCP, port: 80}]
  egress:
  - {}
YAML
pw apply -f "$E2E_TMP/policy.yaml" >"$E2E_TMP/apply.out" 2>&1 ||
	fatal evasion/policy/apply "$(cat "$E2E_TMP/apply.out")"
echo_ok friend "${POD_IP4[victim]}" && echo_ok friend "${POD_IP6[victim]}"
status evasion/policy/friend-allowed $? "friend cannot reach victim:80"
! echo_ok attacker "${POD_IP4[victim]}" &&
	! echo_ok attacker "${POD_IP6[victim]}"
status evasion/policy/attacker-denied $? "attacker reaches victim:80"

# -------------------------------------------------------------- baseline
# podwall out of the way: the agent stops (enforcement stays), then the
# endpoint entries go; the attached programs pass what is not theirs.
agent_stop TERM
for p in "${PODS[@]}"; do
	dp endpoint del "${HOST_IF[$p]}" >/dev/null
done
n=$(dp endpoint list | grep -c .)
[ "$n" = 0 ]
status evasion/baseline/endpoints-removed $? "$n endpoint entries left"
write_env 45678
capture_start base || fatal evasion/baseline/capture "capture did not start"
send_cases 1 --baseline 2>"$E2E_TMP/send1.err" ||
	fatal evasion/baseline/send "$(tail -n 3 "$E2E_TMP/send1.err")"
capture_stop base
"$PY" "$EV/evasion.py" check "$E2E_TMP/env.json" "$E2E_TMP/sent1.json" \
	"$E2E_TMP/base.pcap" --baseline >"$E2E_TMP/check1.out" ||
	not_ok evasion/baseline/check "evasion.py check failed"
report "$E2E_TMP/check1.out"
if [ "$E2E_FAILS" -gt 0 ]; then
	exit 1 # frames that never reach the victim prove nothing below
fi
# what the baseline's ARP claims may have taught the victim
in_pod victim ip neigh flush all >/dev/null 2>&1

# the agent puts the entries back
agent_start "${AGENT_ARGS[@]}" ||
	fatal evasion/restart "podwalld did not start again"
for ((i = 0; i < 50; i++)); do
	[ "$(dp endpoint list | grep -c .)" = 3 ] && break
	sleep 0.1
done
! echo_ok attacker "${POD_IP4[victim]}" && echo_ok friend "${POD_IP4[victim]}"
status evasion/restart/policy-back $? \
	"the restarted agent did not restore the policy"

# --------------------------------------------------------- with podwall
bg stdbuf -oL "$PWCLI" --socket "$E2E_TMP/pw.sock" flows --follow -o json \
	>"$E2E_TMP/flows.json" 2>"$E2E_TMP/flows.err"
FLOWS_PID=$E2E_LASTPID
for ((i = 0; i < 50; i++)); do
	pw status -o json 2>/dev/null |
		grep -q '"flow_followers":[[:space:]]*[1-9]' && break
	sleep 0.1
done
pw status -o json >"$E2E_TMP/status0.json"
capture_start pw || fatal evasion/capture "capture did not start"

# a live connection of the friend's for the RST injection
bg ip netns exec "${E2E_NS_PREFIX}friend" "${PROBE[@]}" client \
	"${POD_IP4[victim]}" 80 --count 60 --interval 0.1 --timeout 2 \
	>"$E2E_TMP/client.out"
CLIENT_PID=$E2E_LASTPID
rst_sport=
for ((i = 0; i < 30; i++)); do
	rst_sport=$(in_pod friend ss -Htn state established \
		"( dport = :80 )" | awk '{split($3, a, ":"); print a[2]; exit}')
	[ -n "$rst_sport" ] && break
	sleep 0.1
done
[ -n "$rst_sport" ] ||
	fatal evasion/tcp/live-connection "the friend's connection is not up"

# live UDP flows of the victim's to the attacker, for the related errors
in_pod victim timeout 5 "$PY" - "${POD_IP4[attacker]}" "${POD_IP6[attacker]}" \
	"$UDP_PORT" <<'EOF'
import socket, sys
a4, a6, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
for fam, dst, sport in ((socket.AF_INET, a4, 5400),
                        (socket.AF_INET6, a6, 5401)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("", sport))
    s.settimeout(2)
    s.sendto(b"live", (dst, port))
    s.recvfrom(100)
EOF
status evasion/icmp/victim-udp-flows-live $? \
	"the victim's UDP datagrams got no echo"

write_env "$rst_sport"
send_cases 2 2>"$E2E_TMP/send2.err" ||
	fatal evasion/send "$(tail -n 3 "$E2E_TMP/send2.err")"

# the victim may send: its pings get their replies
reach victim icmp "${POD_IP4[attacker]}" &&
	reach victim icmp6 "${POD_IP6[attacker]}"
status evasion/icmp/egress-only-pod-pings-out $? \
	"the victim's ping got no reply"

# the friend's connection lived through the RST injection
for ((i = 0; i < 100; i++)); do
	e2e_running "$CLIENT_PID" || break
	sleep 0.1
done
kill "$CLIENT_PID" 2>/dev/null
wait "$CLIENT_PID"
rc=$?
n=$(grep -c '^ok' "$E2E_TMP/client.out")
last=$(tail -n 1 "$E2E_TMP/client.out")
[ "$rc" = 0 ] && [ "$n" = 60 ]
status evasion/tcp/rst-injection-flow-survives $? \
	"the client exited $rc after $n answers: $last"

capture_stop pw
sleep 0.3 # the follower prints what the agent read last
pw status -o json >"$E2E_TMP/status1.json"
kill -INT "$FLOWS_PID" 2>/dev/null
for ((i = 0; i < 20; i++)); do
	e2e_running "$FLOWS_PID" || break
	sleep 0.1
done
dp ct list --json >"$E2E_TMP/ct.json"
"$PY" "$EV/evasion.py" check "$E2E_TMP/env.json" "$E2E_TMP/sent2.json" \
	"$E2E_TMP/pw.pcap" --flows "$E2E_TMP/flows.json" \
	--ct "$E2E_TMP/ct.json" \
	--counters "$E2E_TMP/status0.json" "$E2E_TMP/status1.json" \
	>"$E2E_TMP/check2.out" || not_ok evasion/check "evasion.py check failed"
report "$E2E_TMP/check2.out"
n=$(grep -c . "$E2E_TMP/check2.out")
[ "$n" -gt 100 ]
status evasion/checked $? "only $n checks ran"
! grep -q '"lost"' "$E2E_TMP/flows.json"
status evasion/no-flow-records-lost $? \
	"$(grep '"lost"' "$E2E_TMP/flows.json" | head -n 3)"

e2e_finish
