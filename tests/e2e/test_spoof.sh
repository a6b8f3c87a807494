#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Anti-spoofing with hand-made frames (scapy) from pod A to pod B, whose
# UDP server on port 9999 records every datagram it gets. B's ingress allows
# udp/9999 from anyone, so only anti-spoofing at A's egress can stop them.
#
# Without podwall first: every frame below must arrive and the ARP claim
# must poison B's neighbour table, or the test could not tell a working
# anti-spoofing from frames that never left A (e2e/spoof/baseline-*).
# With podwall (A registered with its IPv4, IPv6 and MAC, nothing enforced):
#   genuine IPv4/IPv6 datagrams arrive; datagrams from C's IPv4/IPv6
#   address, from a foreign IPv4 address, or from a foreign MAC do not, and
#   each shows up as a drop event (spoofed-ip / spoofed-mac) at A's egress;
#   an ARP reply from A claiming C's address does not reach B.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp scapy

PORT=9999
REC=$E2E_TMP/received
FAKEMAC=02:00:5e:00:53:99

e2e_topology || {
	not_ok spoof/topology "could not build the namespaces"
	exit 1
}
serve B --udp "$PORT" --record "$REC" --seconds 40
wait_listen B "$PORT" udp || {
	not_ok spoof/servers "server did not start"
	exit 1
}

# The frames, as "name src dst smac" ("-": A's own MAC).
FRAMES="
genuine4  10.123.0.2  10.123.0.3  -
genuine6  fd00:123::2 fd00:123::3 -
neigh4    10.123.0.4  10.123.0.3  -
foreign4  192.0.2.7   10.123.0.3  -
neigh6    fd00:123::4 fd00:123::3 -
fakemac4  10.123.0.2  10.123.0.3  $FAKEMAC
"

# send_frames TAG: send every frame with payload TAG-name.
send_frames() {
	local tag=$1 specs=() name src dst smac

	while read -r name src dst smac; do
		[ -n "$name" ] && specs+=(--packet "$src,$dst,$smac,$tag-$name")
	done <<<"$FRAMES"
	in_pod A timeout 20 "${PROBE[@]}" spoof udp --dmac "${POD_MAC[B]}" \
		--dport "$PORT" "${specs[@]}"
}

arrived() { grep -q " $1\$" "$REC" 2>/dev/null; }

# wait_arrived PAYLOAD...: bounded wait (1 s) until all have arrived.
wait_arrived() {
	local i p miss

	for ((i = 0; i < 20; i++)); do
		miss=
		for p in "$@"; do arrived "$p" || miss+=" $p"; done
		[ -z "$miss" ] && return 0
		sleep 0.05
	done
	log "not received:$miss"
	return 1
}

b_neigh_mac() {
	in_pod B ip neigh show 10.123.0.4 dev eth0 |
		sed -n 's/.* lladdr \([0-9a-f:]*\).*/\1/p'
}

# arp_claim: B learns C's MAC (ping), then A claims C's address. B only
# lets an unsolicited reply override an entry older than its locktime
# (1 s), hence the wait. Prints B's entry afterwards.
arp_claim() {
	in_pod B ip neigh flush dev eth0 >/dev/null 2>&1
	reach B icmp C >/dev/null || log "B cannot ping C"
	sleep 1.2
	in_pod A timeout 20 "${PROBE[@]}" spoof arp --dmac "${POD_MAC[B]}" \
		--smac "${POD_MAC[A]}" --claim 10.123.0.4 --target 10.123.0.3 ||
		log "scapy could not send the ARP reply"
	sleep 0.2
	b_neigh_mac
}

# ------------------------------------------------------------ no podwall
send_frames base || log "scapy could not send"
check spoof/baseline-frames-arrive "without podwall not every frame arrived" \
	wait_arrived base-genuine4 base-genuine6 base-neigh4 base-foreign4 \
	base-neigh6 base-fakemac4
mac=$(arp_claim)
check spoof/baseline-arp-poison-works \
	"without podwall B's entry for C is '$mac', not A's ${POD_MAC[A]}" \
	test "$mac" = "${POD_MAC[A]}"
if [ "$E2E_FAILS" -gt 0 ]; then
	exit 1 # spoofed frames cannot be sent here: nothing below would count
fi

# --------------------------------------------------------------- podwall
setup() {
	dp_load &&
		dp_endpoint A 1 1001 none &&
		dp_endpoint B 2 1002 ingress &&
		dp_endpoint C 3 1003 none &&
		dp policy add --ep 2 --dir ingress --peer any --proto udp \
			--port "$PORT" --rule 201 &&
		dp policy add --ep 2 --dir ingress --peer any --proto icmp \
			--rule 202
}
if setup; then
	ok spoof/setup
else
	not_ok spoof/setup "podwall-dp load/attach/endpoint/policy failed"
	exit 1
fi
events_start

expect spoof/genuine-kernel-udp allowed A udp B "$PORT"
send_frames pw || log "scapy could not send"
check spoof/genuine-frames-arrive "genuine hand-made frames did not arrive" \
	wait_arrived pw-genuine4 pw-genuine6
sleep 0.3 # the spoofed frames were sent before the genuine ones' arrival
while read -r name src dst smac; do
	case $name in '' | genuine*) continue ;; esac
	check "spoof/$name-blocked" "B received the $name frame from $src" \
		eval "! arrived pw-$name"
done <<<"$FRAMES"

mac=$(arp_claim)
check spoof/arp-claim-blocked \
	"B's entry for 10.123.0.4 is '$mac' after A's claim, not C's ${POD_MAC[C]}" \
	test "$mac" = "${POD_MAC[C]}"
events_stop

has_event spoof/neigh4-drop-event type=drop reason=spoofed-ip ep_id=1 \
	dir=egress proto=udp src=10.123.0.4 dst=10.123.0.3 dport="$PORT"
has_event spoof/foreign4-drop-event type=drop reason=spoofed-ip ep_id=1 \
	dir=egress proto=udp src=192.0.2.7 dst=10.123.0.3 dport="$PORT"
has_event spoof/neigh6-drop-event type=drop reason=spoofed-ip ep_id=1 \
	dir=egress proto=udp src=fd00:123::4 dst=fd00:123::3 dport="$PORT"
has_event spoof/fakemac4-drop-event type=drop reason=spoofed-mac ep_id=1 \
	dir=egress proto=udp src=10.123.0.2 dst=10.123.0.3 dport="$PORT"
n=$(events_count type=drop reason=spoofed-ip ep_id=1)
check spoof/arp-claim-drop-event \
	"$n spoofed-ip drops at A, expected the 3 datagrams and the ARP reply" \
	test "${n:-0}" -ge 4
# (the only drop from A's own address is the fake-MAC frame)
n=$(events_count type=drop ep_id=1 src=10.123.0.2)
m=$(events_count type=drop ep_id=1 src=10.123.0.2 reason=spoofed-mac)
check spoof/no-drop-of-genuine "$((n - m)) drops of A's genuine traffic" \
	test "${n:-x}" = "${m:-y}"

ip=$(counter 1 spoofed-ip)
mc=$(counter 1 spoofed-mac)
check spoof/counters-spoofed-ip "A spoofed-ip drops = ${ip:-none}" \
	test "${ip:-0}" -ge 4
check spoof/counters-spoofed-mac "A spoofed-mac drops = ${mc:-none}" \
	test "${mc:-0}" -ge 1

e2e_finish
