#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# podwalld --docker-socket against a real dockerd (issue 6). dockerd runs
# in the node namespace (its docker0, br-* bridges, veths and iptables
# rules stay there), with its own data root, exec root, containerd
# namespace and cgroup parent; the image is busybox imported from
# /bin/busybox (no registry). Every container serves TCP 80 (httpd) and
# 5432 (nc -e echo), so each cell of the truth table has a listener.
#
#   docker/baseline-*     no policy: every connection among web, db, client
#                         (docker0) and n-web, n-db, n-client (pwnet, a
#                         user-defined bridge) works, and the outside world
#                         reaches web's published port; every container is
#                         an endpoint docker/NAME with its address.
#   docker/docker0/*, docker/pwnet/*  the shipped examples
#                         policy/docker/default-deny.yaml and web-db.yaml
#                         (db admits app=web on 5432, web admits app=client
#                         on 80, nothing else enters): the whole truth
#                         table.
#   docker/flows/*        flow records name docker/client, docker/web,
#                         docker/db for allowed and denied flows.
#   docker/newip/*        client restarted with a new address, another
#                         container on its old one: each judged as itself.
#   docker/netconnect/*   docker network disconnect/connect: unlisted, then
#                         listed and enforced again.
#   docker/compose/*      a Compose project's container is in the project's
#                         namespace, out of reach of namespace docker's
#                         policies.
#   docker/late/*         a container started after the policy is enforced
#                         within 1 s of "docker start" returning.
#   docker/restart/*      dockerd stopped (live-restore) and started
#                         again: enforcement holds in the gap, the source
#                         reconnects, a container started after is enforced.
#   docker/published/*    -p 8080:80 from a client outside (routed netns):
#                         refused under web's policy until an ipBlock rule
#                         admits its address on port 80; then the shipped
#                         policy/docker/published-port.yaml admits the
#                         world but still no other container.
#   docker/copied/*       a container that copies db's address takes
#                         neither db's veth nor its policy.
#   docker/multinet/*     a container on two bridges is a pod per network.
#   docker/teardown-*     nothing of dockerd is left (processes, mounts,
#                         cgroups, folders).
#
# Refused means dropped (a timeout), not reset. Each refused cell of the
# truth tables passed in the baseline; elsewhere a drop goes with an
# allowed probe over the same path or a policy-denied flow record.
set -u
. "$(dirname "$0")/lib.sh"

DOCKER=/usr/bin/docker # /usr/local/bin/docker is another client
DOCKERD=/usr/sbin/dockerd
DPROBE=("$PY" "$E2E_DIR/docker/dprobe.py")
# Outside /tmp/podwall-e2e-*: lib.sh's reaper would rm -rf it with overlay
# mounts still in place; docker_reap_stale below takes care of it.
DK_DIR=/tmp/pwe2e-docker-$E2E_ID
DK_SOCK=$DK_DIR/docker.sock
EXT_NS=${E2E_NS_PREFIX}ext
EXT_NODE_IP=192.168.77.1 # the node's address on the outside link
EXT_IP=192.168.77.2      # the outside client, allowed by ipBlock later
EXT_IP2=192.168.77.3     # another, admitted only by the world policy

# dk ARGS...: the docker CLI against this run's daemon (its own config
# folder, so ~/.docker is left alone).
dk() {
	DOCKER_CONFIG=$DK_DIR/cli timeout 60 "$DOCKER" -H "unix://$DK_SOCK" "$@"
}

# dockerd_start: dockerd in the node namespace, bounded in time like every
# background process here; waits (20 s) until it answers.
dockerd_start() {
	local i

	nsenter --net="/run/netns/$NODE" timeout 300 "$DOCKERD" \
		-H "unix://$DK_SOCK" --config-file "$DK_DIR/daemon.json" \
		--data-root "$DK_DIR/root" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/pid" --containerd-namespace "pwe2e-$E2E_ID" \
		--containerd-plugins-namespace "pwe2e-$E2E_ID-p" \
		--cgroup-parent "/pwe2e-docker-$E2E_ID" --live-restore \
		>>"$DK_DIR/dockerd.log" 2>&1 &
	for ((i = 0; i < 200; i++)); do
		dk version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "dockerd did not answer; its log:"
	tail -20 "$DK_DIR/dockerd.log" | sed 's/^/#   /' >&2
	return 1
}

# dockerd_pid DIR: the daemon's pid, if it is the one of DIR.
dockerd_pid() {
	local p

	p=$(cat "$1/pid" 2>/dev/null) || return 1
	[ -n "$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		grep -qF -- "$1/" && echo "$p"
}

# dockerd_stop DIR [SIGNAL]: bounded (15 s) wait for it to exit.
dockerd_stop() {
	local p i

	p=$(dockerd_pid "$1") || return 0
	kill "-${2:-TERM}" "$p" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		e2e_running "$p" || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	sleep 0.2
}

# dk_procs DIR: pids of a daemon of DIR and of what it started: dockerd
# (and its timeout wrapper) by --data-root DIR/root, containerd and the
# shims by DIR/exec/containerd/ (not the agent, which names the socket).
dk_procs() {
	pgrep -f -- "$1/(root|exec/containerd/)"
}

# dk_leftovers DIR: what a daemon of DIR left (processes, mounts, cgroups,
# the folder), one line each; nothing when all is gone.
dk_leftovers() {
	local d=$1 cg=${1##*/} p

	for p in $(dk_procs "$d"); do
		echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 120)"
	done
	awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print "mount " $2 }' \
		/proc/mounts
	find /sys/fs/cgroup -maxdepth 2 -type d -name "$cg" 2>/dev/null |
		sed 's/^/cgroup /'
	[ -e "$d" ] && echo "folder $d"
}

# docker_teardown DIR: remove everything a daemon of DIR made, whatever
# state it is in: containers (through the daemon while it answers), the
# daemon, then by pid what still runs (container processes by their cgroup,
# containerd and shims by DIR in their command line), mounts under DIR,
# the cgroups, the folder.
docker_teardown() {
	local d=$1 cg=${1##*/} ids p f m i
	local D=("$DOCKER" -H "unix://$d/docker.sock")

	[ -d "$d" ] || [ -n "$(dk_leftovers "$d")" ] || return 0
	if [ -S "$d/docker.sock" ] && dockerd_pid "$d" >/dev/null &&
		DOCKER_CONFIG=$d/cli timeout 5 "${D[@]}" version >/dev/null 2>&1; then
		ids=$(DOCKER_CONFIG=$d/cli timeout 10 "${D[@]}" ps -aq 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$ids" ] || DOCKER_CONFIG=$d/cli timeout 30 "${D[@]}" \
			rm -f $ids >/dev/null 2>&1
		DOCKER_CONFIG=$d/cli timeout 10 "${D[@]}" network rm pwnet \
			>/dev/null 2>&1
	fi
	dockerd_stop "$d"
	find /sys/fs/cgroup -maxdepth 4 -path "*/$cg/*" -name cgroup.procs \
		-exec cat {} + 2>/dev/null | sort -u | while read -r p; do
		kill -KILL "$p" 2>/dev/null
	done
	for ((i = 0; i < 30; i++)); do
		[ -z "$(dk_procs "$d")" ] && break
		for p in $(dk_procs "$d"); do
			kill "$([ "$i" -lt 10 ] && echo -TERM || echo -KILL)" \
				"$p" 2>/dev/null
		done
		sleep 0.1
	done
	awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' \
		/proc/mounts | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	find /sys/fs/cgroup -maxdepth 2 -type d -name "$cg" 2>/dev/null |
		while read -r f; do
			find "$f" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	# never rm -rf through a mount that would not go
	if awk -v d="$d" 'index($2, d) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
		log "teardown: mounts left under $d, folder kept"
	else
		rm -rf "$d"
	fi
}

# A run killed with SIGKILL leaves its daemon: end those of runs whose
# process is gone.
docker_reap_stale() {
	local d pid

	for d in /tmp/pwe2e-docker-*; do
		[ -e "$d" ] || continue
		[[ $d =~ pwe2e-docker-([0-9]+)-[0-9]+$ ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		log "removing stale docker folder $d"
		docker_teardown "$d"
	done
}

docker_cleanup() {
	local rc=$?

	docker_teardown "$DK_DIR"
	(exit "$rc")
	e2e_cleanup
}

e2e_init agent
for f in "$DOCKER" "$DOCKERD" /bin/busybox; do
	[ -x "$f" ] || skip "no $f (scripts/install-deps.sh: docker.io, busybox-static)"
done
command -v iptables >/dev/null || skip "needs iptables"
trap docker_cleanup EXIT
docker_reap_stale

# ------------------------------------------------------------- helpers
declare -A CPID=() CIP=()

# cinfo NAME: CPID[NAME] and CIP[NAME] from the daemon.
cinfo() {
	local out

	out=$(dk inspect -f '{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1") ||
		return 1
	read -r "CPID[$1]" "CIP[$1]" _ <<<"$out"
	[ "${CPID[$1]}" -gt 0 ] 2>/dev/null && [ -n "${CIP[$1]}" ]
}

# netns_of NAME: the network namespace a probe from NAME runs in.
netns_of() {
	case $1 in
	ext) echo "/run/netns/$EXT_NS" ;;
	*) echo "/proc/${CPID[$1]}/ns/net" ;;
	esac
}

# probe_lines FILE TIMEOUT: dprobe table over the lines "KEY SRC DST PORT
# [SRC_IP]" of stdin (SRC a container name or ext, DST a name or an
# address); "KEY OUTCOME" lines into FILE.
probe_lines() {
	local out=$1 t=$2 key src dst port sip

	while read -r key src dst port sip; do
		[ -n "$key" ] || continue
		[ -n "${CIP[$dst]:-}" ] && dst=${CIP[$dst]}
		echo "$key $(netns_of "$src") $dst $port $sip"
	done | "${DPROBE[@]}" table --timeout "$t" >"$out"
}

# role NAME: web, db or client (the app label of NAME).
role() {
	case $1 in
	*web) echo web ;;
	*db) echo db ;;
	*client) echo client ;;
	esac
}

# want SRC DST PORT: ok or drop under default-deny.yaml and web-db.yaml.
want() {
	case "$(role "$1")-$(role "$2")-$3" in
	client-web-80 | web-db-5432) echo ok ;;
	*) echo drop ;;
	esac
}

# matrix NAME...: every ordered pair of NAMEs on both ports, as
# "SRC-DST-PORT SRC DST PORT" lines.
matrix() {
	local s d p

	for s in "$@"; do
		for d in "$@"; do
			[ "$s" = "$d" ] && continue
			for p in 80 5432; do
				echo "$d-from-$s-tcp$p $s $d $p"
			done
		done
	done
}

# outcome FILE KEY: the outcome recorded for KEY.
outcome() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# eps_json FILE: the agent's endpoints.
eps_json() {
	pw get endpoints -o json >"$1" 2>&1
}

# ep_check FILE NS POD IP: 0 if NS/POD is listed with IP (and only it).
ep_check() {
	"$PY" - "$@" <<'EOF'
import json, sys
path, ns, pod, ip = sys.argv[1:]
o = json.load(open(path))
items = o["items"] if isinstance(o, dict) else o
e = [x for x in items if x.get("namespace") == ns and x.get("pod") == pod]
sys.exit(0 if len(e) == 1 and e[0].get("ips") == [ip] else 1)
EOF
}

# ep_owner FILE IP: "NS/POD" of every endpoint holding IP.
ep_owner() {
	"$PY" - "$@" <<'EOF'
import json, sys
path, ip = sys.argv[1:]
o = json.load(open(path))
items = o["items"] if isinstance(o, dict) else o
print(" ".join("%s/%s" % (x.get("namespace"), x.get("pod"))
               for x in items if ip in x.get("ips", [])))
EOF
}

# now_us: the time in microseconds, for loops bounded in time.
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# wait_eps NS/POD=IP...: bounded (5 s) wait until the agent lists each.
wait_eps() {
	local i a ok end=$(($(now_us) + 5000000))

	for ((i = 0; i < 100 && $(now_us) < end; i++)); do
		eps_json "$E2E_TMP/eps.json"
		ok=1
		for a in "$@"; do
			ep_check "$E2E_TMP/eps.json" "${a%%/*}" "$(echo "${a#*/}" | cut -d= -f1)" \
				"${a#*=}" || ok=0
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.1
	done
	log "endpoints: $(tr -d '\n\t' <"$E2E_TMP/eps.json" | head -c 2000)"
	return 1
}

# diag SECTION: if SECTION had a failure, what the agent knew then (to
# stderr): endpoints, the last flow records, the end of its log.
DIAG_FAILS=0
diag() {
	[ "$E2E_FAILS" -gt "$DIAG_FAILS" ] || return 0
	DIAG_FAILS=$E2E_FAILS
	log "after failures in $1: endpoints, last flows, agent log:"
	pw get endpoints 2>&1 | sed 's/^/#   /' >&2
	pw flows --last 30 -o compact 2>&1 | sed 's/^/#   /' >&2
	tail -15 "$E2E_TMP/agent.log" | sed 's/^/#   /' >&2
}

# ------------------------------------------------------------ topology
e2e_node_create || {
	not_ok docker/topology "could not create the node namespace"
	exit 1
}
# A Docker host bridges through iptables: bridge-nf-call-iptables is 1
# (the kernel's default once br_netfilter is loaded, as dockerd loads it;
# dockerd does not set it). lib.sh turned it off in the node: back on.
ip netns exec "$NODE" sysctl -qw net.bridge.bridge-nf-call-iptables=1 \
	net.bridge.bridge-nf-call-ip6tables=1 || exit 1
mkdir -p "$DK_DIR/cli" "$DK_DIR/img/bin" "$DK_DIR/img/www" || exit 1
echo '{}' >"$DK_DIR/daemon.json" # not /etc/docker/daemon.json
if ! dockerd_start; then
	not_ok docker/dockerd-start "dockerd did not start"
	exit 1
fi
ok docker/dockerd-start

# The image: busybox and a start script, no registry.
cp /bin/busybox "$DK_DIR/img/bin/" || exit 1
for c in sh nc httpd echo sleep cat; do
	ln -s busybox "$DK_DIR/img/bin/$c"
done
echo hello >"$DK_DIR/img/www/index.html"
printf '#!/bin/sh\nhttpd -p 80 -h /www\nexec nc -ll -p 5432 -e /bin/echo hi\n' \
	>"$DK_DIR/img/serve"
chmod 755 "$DK_DIR/img/serve"
tar -C "$DK_DIR/img" -c . | dk import -c 'CMD ["/serve"]' - pwbox:1 \
	>/dev/null 2>"$E2E_TMP/import.err"
status docker/image-import $? "$(cat "$E2E_TMP/import.err")"

# The outside world: a namespace routed through the node, two addresses.
ip netns add "$EXT_NS" || exit 1
E2E_NS=("$EXT_NS" "${E2E_NS[@]}")
if ! { ip link add wan0 netns "$NODE" type veth peer name eth0 \
	netns "$EXT_NS" &&
	ip -n "$NODE" addr add "$EXT_NODE_IP/24" dev wan0 &&
	ip -n "$NODE" link set wan0 up &&
	ip -n "$EXT_NS" link set lo up &&
	ip -n "$EXT_NS" addr add "$EXT_IP/24" dev eth0 &&
	ip -n "$EXT_NS" addr add "$EXT_IP2/24" dev eth0 &&
	ip -n "$EXT_NS" link set eth0 up &&
	ip -n "$EXT_NS" route add default via "$EXT_NODE_IP"; }; then
	not_ok docker/topology "could not wire the outside namespace"
	exit 1
fi

# podwall adds no iptables or nftables rule: what Docker wrote stays the
# only ruleset (snapshots before the agent and after its policy)
ruleset() {
	in_node iptables-save | grep -v '^#'
	in_node ip6tables-save | grep -v '^#'
	in_node nft -s list ruleset # -s: no counters, traffic moves those
}
ruleset >"$E2E_TMP/rules.before" 2>&1

if ! agent_start --docker-socket "$DK_SOCK"; then
	not_ok docker/agent-start "podwalld --docker-socket did not start"
	exit 1
fi
ok docker/agent-start
ruleset >"$E2E_TMP/rules.agent" 2>&1
check docker/agent-start-adds-no-rule \
	"$(diff "$E2E_TMP/rules.before" "$E2E_TMP/rules.agent" | head -5)" \
	cmp -s "$E2E_TMP/rules.before" "$E2E_TMP/rules.agent"

# ------------------------------------------- containers, no policy yet
dk network create pwnet >/dev/null 2>"$E2E_TMP/net.err"
status docker/network-create-pwnet $? "$(cat "$E2E_TMP/net.err")"
brif=$(in_node ip -o link show type bridge | awk -F': ' '{print $2}' | grep '^br-' | head -1)
log "pwnet bridge: ${brif:-none}"

C0=(web db client)
C1=(n-web n-db n-client)
r=0
for c in "${C0[@]}" "${C1[@]}"; do
	args=(--name "$c" -l "app=$(role "$c")")
	[[ $c == n-* ]] && args+=(--network pwnet)
	[ "$c" = web ] && args+=(-p 8080:80)
	dk run -d "${args[@]}" pwbox:1 >/dev/null 2>>"$E2E_TMP/run.err" || r=1
	cinfo "$c" || r=1
done
status docker/containers-run $r "$(tr '\n' ' ' <"$E2E_TMP/run.err")"
[ "$r" = 0 ] || exit 1
log "addresses: $(for c in "${C0[@]}" "${C1[@]}"; do printf '%s=%s ' "$c" "${CIP[$c]}"; done)"
[[ ${CIP[n-web]} != 172.17.* ]] && [ -n "$brif" ]
status docker/pwnet-is-own-bridge $? "n-web ${CIP[n-web]}, bridge '$brif'"

# The node as on any Docker host: bridged traffic goes through iptables
# (bridge-nf-call-iptables=1) under dockerd's FORWARD policy of DROP with
# its ACCEPT rules, and the node forwards (dockerd set ip_forward).
# podwall must work with all of it.
nf=$(ip netns exec "$NODE" cat /proc/sys/net/bridge/bridge-nf-call-iptables)
fw=$(ip netns exec "$NODE" cat /proc/sys/net/ipv4/ip_forward)
pol=$(in_node iptables -S FORWARD 2>/dev/null | head -1)
log "node: bridge-nf-call-iptables=$nf ip_forward=$fw FORWARD '$pol'"
[ "$nf" = 1 ] && [ "$fw" = 1 ] && [ "$pol" = "-P FORWARD DROP" ]
status docker/dockerd-netns-settings $? \
	"bridge-nf-call-iptables=$nf ip_forward=$fw '$pol' (want 1, 1, DROP)"

# Every container is an endpoint docker/NAME with its address.
want_eps=()
for c in "${C0[@]}" "${C1[@]}"; do
	want_eps+=("docker/$c=${CIP[$c]}")
done
wait_eps "${want_eps[@]}"
status docker/baseline-endpoints-listed $? "not all of ${want_eps[*]}"

# Baseline: every connection works (servers may need a moment to listen:
# up to 5 rounds).
{
	matrix "${C0[@]}"
	matrix "${C1[@]}"
	echo "published ext $EXT_NODE_IP 8080"
} >"$E2E_TMP/cells"
for ((i = 0; i < 5; i++)); do
	probe_lines "$E2E_TMP/base.out" 2 <"$E2E_TMP/cells"
	bad=$(awk '$2 != "ok" { printf " %s=%s", $1, $2 }' "$E2E_TMP/base.out")
	[ -z "$bad" ] && break
	sleep 0.3
done
[ "$(wc -l <"$E2E_TMP/base.out")" -eq "$(wc -l <"$E2E_TMP/cells")" ] || bad+=" (missing results)"
if [ -n "$bad" ]; then
	not_ok docker/baseline-no-policy "blocked without policy:$bad"
	exit 1 # the topology is broken: nothing below would mean anything
fi
ok docker/baseline-no-policy

diag containers

# ------------------------------------------------------------ policy
ruleset >"$E2E_TMP/rules.before" 2>&1
pw apply -f "$E2E_REPO/policy/docker/default-deny.yaml" \
	-f "$E2E_REPO/policy/docker/web-db.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status docker/apply-policy $? "$(cat "$E2E_TMP/apply.err")"

# truth TAG OUT NAME...: one line per cell of the table over NAMEs, from
# the outcomes in OUT.
truth() {
	local tag=$1 out=$2 key s d p w got

	shift 2
	while read -r key s d p; do
		w=$(want "$s" "$d" "$p")
		got=$(outcome "$out" "$key")
		if [ "$got" = "$w" ]; then
			ok "docker/$tag/$key"
		else
			not_ok "docker/$tag/$key" "$s -> $d tcp/$p: want $w, got ${got:-nothing}"
		fi
	done < <(matrix "$@")
}

# Policy from the apply is in force once the answer is back.
{
	matrix "${C0[@]}"
	matrix "${C1[@]}"
} | probe_lines "$E2E_TMP/pol.out" 1
truth docker0 "$E2E_TMP/pol.out" "${C0[@]}"
truth pwnet "$E2E_TMP/pol.out" "${C1[@]}"
echo "published ext $EXT_NODE_IP 8080" | probe_lines "$E2E_TMP/pub.out" 1
got=$(outcome "$E2E_TMP/pub.out" published)
check docker/published/refused-under-web-policy "outside -> node:8080 $got, want drop" \
	test "$got" = drop
ruleset >"$E2E_TMP/rules.after" 2>&1
check docker/policy-adds-no-rule \
	"$(diff "$E2E_TMP/rules.before" "$E2E_TMP/rules.after" | head -5)" \
	cmp -s "$E2E_TMP/rules.before" "$E2E_TMP/rules.after"

diag policy

# ------------------------------------------------------------- flows
# recs FILE EXPR: how many JSON records of FILE satisfy EXPR (r the
# record, s and d its ends).
recs() {
	"$PY" - "$@" <<'EOF'
import json, sys
path, expr = sys.argv[1:3]
n = 0
for line in open(path):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    s, d = r.get("src") or {}, r.get("dst") or {}
    if eval(expr, {}, {"r": r, "s": s, "d": d}):
        n += 1
print(n)
EOF
}

# flows_has FILE EXPR ARGS...: bounded (3 s) wait until "podwall flows
# --last 10000 ARGS" (kept in FILE) holds a record satisfying EXPR; the
# records reach the agent's ring through its event loop.
flows_has() {
	local f=$1 e=$2 i n end=$(($(now_us) + 3000000))

	shift 2
	for ((i = 0; i < 30 && $(now_us) < end; i++)); do
		pw flows --last 10000 "$@" -o json >"$f" 2>&1
		n=$(recs "$f" "$e")
		[ "${n:-0}" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}

F=$E2E_TMP/flows.json
flows_has "$F" 'r.get("verdict") == "allowed" and s.get("namespace") == "docker" and s.get("pod") == "client" and d.get("namespace") == "docker" and d.get("pod") == "web" and d.get("port") == 80' \
	--pod docker/web
status docker/flows/allowed-client-to-web-named $? \
	"no allowed record docker/client -> docker/web:80: $(head -c 600 "$F")"
flows_has "$F" 'r.get("verdict") == "denied" and s.get("namespace") == "docker" and s.get("pod") == "client" and d.get("namespace") == "docker" and d.get("pod") == "db" and d.get("port") == 5432' \
	--pod docker/db
status docker/flows/denied-client-to-db-named $? \
	"no denied record docker/client -> docker/db:5432: $(head -c 600 "$F")"
flows_has "$F" 'r.get("verdict") == "denied" and s.get("pod") == "db" and d.get("pod") == "web" and d.get("port") == 80' \
	--pod docker/web
status docker/flows/denied-db-to-web-named $? \
	"no denied record docker/db -> docker/web:80: $(head -c 600 "$F")"
flows_has "$F" 'r.get("verdict") == "allowed" and s.get("pod") == "n-web" and d.get("pod") == "n-db" and d.get("port") == 5432' \
	--pod docker/n-db
status docker/flows/allowed-on-pwnet-named $? \
	"no allowed record docker/n-web -> docker/n-db:5432: $(head -c 600 "$F")"
pw flows --last 10000 --pod docker/web -o json >"$F" 2>&1
# the filter keeps to its pod
n=$(recs "$F" 's.get("pod") != "web" and d.get("pod") != "web"')
check docker/flows/pod-filter "$n records without docker/web" test "${n:-1}" = 0

diag flows

# ------------------------------------- new address, old one taken over
# client leaves 172.17.0.x free, Thief_1 (app=thief) takes it, client
# comes back with another one. From the old address web:80 passed for
# client; for Thief_1 it must not (a stale address-to-identity entry would
# let it). Thief_1 is no DNS name: its pod name is sanitised, with 8
# characters of its id.
old=${CIP[client]}
dk stop -t 0 client >/dev/null 2>&1
dk run -d --name Thief_1 -l app=thief pwbox:1 >/dev/null 2>&1
dk start client >/dev/null 2>&1
cinfo client && cinfo Thief_1
tid=$(dk inspect -f '{{.Id}}' Thief_1 2>/dev/null)
tpod=thief-1-${tid:0:8}
log "client $old -> ${CIP[client]}; Thief_1 (pod $tpod) ${CIP[Thief_1]}"
check docker/newip/addresses-moved "client ${CIP[client]}, Thief_1 ${CIP[Thief_1]}, client's old $old" \
	test "${CIP[Thief_1]}" = "$old" -a "${CIP[client]}" != "$old"
wait_eps "docker/client=${CIP[client]}" "docker/$tpod=$old"
status docker/newip/endpoints-follow $? \
	"want docker/client=${CIP[client]} and docker/$tpod=$old"
owners=$(ep_owner "$E2E_TMP/eps.json" "$old")
check docker/newip/old-address-only-thief "$old held by: $owners" \
	test "$owners" = "docker/$tpod"
cat >"$E2E_TMP/newip.cells" <<EOF
client-to-web client web 80
client-to-db client db 5432
thief-to-web Thief_1 web 80
web-to-thief web Thief_1 80
web-to-client web client 80
web-to-db web db 5432
EOF
probe_lines "$E2E_TMP/newip.out" 1 <"$E2E_TMP/newip.cells"
while read -r key w; do
	got=$(outcome "$E2E_TMP/newip.out" "$key")
	check "docker/newip/$key" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
client-to-web ok
client-to-db drop
thief-to-web drop
web-to-thief drop
web-to-client drop
web-to-db ok
EOF

diag newip

# --------------------------------------- an address copied, not taken
# Thief_1 puts db's address on its own eth0 as well (a container with
# NET_ADMIN could). The agent binds each container to the veth into its
# sandbox (the daemon's SandboxKey), so db keeps its veth and its policy:
# client still cannot reach it, web still can.
nsenter --net="/proc/${CPID[Thief_1]}/ns/net" ip addr add "${CIP[db]}/32" dev eth0
check docker/copied/reconciled "no reconcile after SIGHUP" agent_reconcile
cat >"$E2E_TMP/copied.cells" <<EOF
client-to-db client db 5432
web-to-db web db 5432
EOF
probe_lines "$E2E_TMP/copied.out" 1 <"$E2E_TMP/copied.cells"
while read -r key w; do
	got=$(outcome "$E2E_TMP/copied.out" "$key")
	check "docker/copied/$key" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
client-to-db drop
web-to-db ok
EOF
eps_json "$E2E_TMP/eps.json"
"$PY" - "$E2E_TMP/eps.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
items = o["items"] if isinstance(o, dict) else o
e = [x for x in items if x.get("namespace") == "docker" and x.get("pod") == "db"]
sys.exit(0 if len(e) == 1 and e[0].get("interface") else 1)
EOF
status docker/copied/db-still-bound $? "db has no veth: $(tr -d '\n\t' <"$E2E_TMP/eps.json" | head -c 600)"
nsenter --net="/proc/${CPID[Thief_1]}/ns/net" ip addr del "${CIP[db]}/32" dev eth0
diag copied

# ------------------------------- network disconnect and connect (pwnet)
old=${CIP[n-client]}
eps_json "$E2E_TMP/eps.json"
before=$(ep_owner "$E2E_TMP/eps.json" "$old")
dk network disconnect pwnet n-client >/dev/null 2>&1
end=$(($(now_us) + 5000000))
for ((i = 0; i < 50 && $(now_us) < end; i++)); do
	eps_json "$E2E_TMP/eps.json"
	owners=$(ep_owner "$E2E_TMP/eps.json" "$old")
	[ -z "$owners" ] && break
	sleep 0.1
done
check docker/netconnect/disconnected-unlisted \
	"$old held before by '$before', after by '$owners'" \
	test "$before" = docker/n-client -a -z "$owners"
dk network connect pwnet n-client >/dev/null 2>&1
cinfo n-client
wait_eps "docker/n-client=${CIP[n-client]}"
status docker/netconnect/connected-listed $? "want docker/n-client=${CIP[n-client]}"
probe_lines "$E2E_TMP/conn.out" 1 <<EOF
to-web n-client n-web 80
to-db n-client n-db 5432
from-web n-web n-client 80
EOF
while read -r key w; do
	got=$(outcome "$E2E_TMP/conn.out" "$key")
	check "docker/netconnect/n-client-$key" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
to-web ok
to-db drop
from-web drop
EOF

diag netconnect

# ------------------------------------------ a Compose project's container
# Its namespace is the project (made a DNS label), where the policies of
# namespace docker do not reach.
dk run -d --name cache -l app=web -l com.docker.compose.project=Shop_1 \
	pwbox:1 >/dev/null 2>&1
cinfo cache
wait_eps "shop-1/cache=${CIP[cache]}"
status docker/compose/project-is-namespace $? "want shop-1/cache=${CIP[cache]}"
echo "from-db db cache 5432" | probe_lines "$E2E_TMP/compose.out" 1
got=$(outcome "$E2E_TMP/compose.out" from-db)
check docker/compose/docker-policies-do-not-apply "db -> cache:5432 $got, want ok" \
	test "$got" = ok

diag compose

# ------------------------------------- a container started afterwards
# late (app=client): enforced once it may reach web:80 (web admits it by
# its label only), is dropped towards db:5432, web's probe into it is
# dropped (default deny) and the agent lists it. Polled every 50 ms from
# "docker start" returning; must hold within 1 s.
# late_check NAME BOUND LIMIT TAG
late_check() {
	local name=$1 bound=$2 limit=$3 tag=$4 res rc el

	dk create --name "$name" -l app=client ${5:+--network $5} pwbox:1 >/dev/null 2>&1
	res=$("${DPROBE[@]}" start --docker "$DOCKER -H unix://$DK_SOCK" \
		--name "$name" --sock "$E2E_TMP/pw.sock" --ns docker \
		--limit "$limit" \
		--probe "ok NEW ${CIP[${6:-}web]} 80" \
		--probe "drop NEW ${CIP[${6:-}db]} 5432" \
		--probe "drop $(netns_of "${6:-}web") NEW 80" 2>&1)
	rc=$?
	log "$tag: $res"
	el=$(echo "$res" | "$PY" -c 'import json,sys
try: print(json.loads(sys.stdin.readline())["elapsed"])
except Exception: print(999)')
	[ "$rc" = 0 ]
	status "docker/$tag/enforced" $? "not enforced within $limit s: $res"
	# the drop into it was the policy's (a record says so), not a network
	# still coming up
	flows_has "$F" "r.get('verdict') == 'denied' and s.get('pod') == '${6:-}web' and d.get('pod') == '$name' and d.get('port') == 80" \
		--pod "docker/$name"
	status "docker/$tag/drop-recorded-as-policy" $? \
		"no denied record docker/${6:-}web -> docker/$name:80: $(head -c 600 "$F")"
	if [ -n "$bound" ]; then
		"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$el" "$bound"
		status "docker/$tag/enforced-within-${bound}s" $? \
			"took $el s from docker start returning: $res"
	fi
}
late_check late 1 5 late

diag late

# ------------------------------------------------- dockerd restarting
dpid=$(dockerd_pid "$DK_DIR")
logpos=$(wc -l <"$E2E_TMP/agent.log")
dockerd_stop "$DK_DIR" TERM
! e2e_running "${dpid:-0}" && ! dk version >/dev/null 2>&1
status docker/restart/dockerd-stopped $? "dockerd $dpid still answers"
# the gap: containers live on (live-restore), the agent keeps enforcing
probe_lines "$E2E_TMP/gap.out" 1 <<EOF
client-to-web client web 80
web-to-db web db 5432
client-to-db client db 5432
db-to-web db web 80
EOF
while read -r key w; do
	got=$(outcome "$E2E_TMP/gap.out" "$key")
	check "docker/restart/gap-$key" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
client-to-web ok
web-to-db ok
client-to-db drop
db-to-web drop
EOF
eps_json "$E2E_TMP/eps.json"
ep_check "$E2E_TMP/eps.json" docker web "${CIP[web]}" &&
	ep_check "$E2E_TMP/eps.json" docker db "${CIP[db]}"
status docker/restart/gap-endpoints-kept $? "$(tr -d '\n\t' <"$E2E_TMP/eps.json" | head -c 600)"
e2e_running "$AGENT_PID"
status docker/restart/agent-alive $? "podwalld exited while dockerd was down"
if ! dockerd_start; then
	not_ok docker/restart/dockerd-start "dockerd did not start again"
	exit 1
fi
ok docker/restart/dockerd-start
cinfo web && cinfo db
# a container started after the restart: the source reconnected (0.5 s
# backoff doubling: allow 15 s), on the user-defined bridge this time
late_check after "" 15 restart/after-restart pwnet n-
tail -n +"$((logpos + 1))" "$E2E_TMP/agent.log" >"$E2E_TMP/agent-restart.log"
grep -q 'closed the stream' "$E2E_TMP/agent-restart.log" &&
	grep -q 'docker: connected' "$E2E_TMP/agent-restart.log"
status docker/restart/agent-logged-reconnect $? \
	"no stream end and reconnect in the agent's log since the stop: $(tail -5 "$E2E_TMP/agent-restart.log" | tr '\n' '|')"

diag restart

# ------------------------------ the agent restarted while dockerd is down
# podwalld restarted (upgrade, crash) while dockerd is away with its
# containers live (live-restore): what it knew must stay enforced until
# the daemon answers again.
dockerd_stop "$DK_DIR" TERM
agent_stop TERM
if ! agent_start --docker-socket "$DK_SOCK"; then
	not_ok docker/agent-restart/start "podwalld did not start again"
	exit 1
fi
probe_lines "$E2E_TMP/ar.out" 1 <<EOF
client-to-web client web 80
client-to-db client db 5432
db-to-web db web 80
EOF
while read -r key w; do
	got=$(outcome "$E2E_TMP/ar.out" "$key")
	check "docker/agent-restart/dockerd-down-$key" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
client-to-web ok
client-to-db drop
db-to-web drop
EOF
eps_json "$E2E_TMP/eps.json"
ep_check "$E2E_TMP/eps.json" docker web "${CIP[web]}"
status docker/agent-restart/dockerd-down-endpoints-kept $? \
	"$(tr -d '\n\t' <"$E2E_TMP/eps.json" | head -c 600)"
if ! dockerd_start; then
	not_ok docker/agent-restart/dockerd-start "dockerd did not start again"
	exit 1
fi
cinfo web && cinfo db && cinfo client
diag agent-restart

# ---------------------------------------------- published port, ipBlock
cat >"$E2E_TMP/world.yaml" <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-world, namespace: docker}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: $EXT_IP/32}}]
    ports: [{protocol: TCP, port: 80}]
EOF
pw apply -f "$E2E_TMP/world.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status docker/published/apply-ipblock $? "$(cat "$E2E_TMP/apply.err")"
probe_lines "$E2E_TMP/pub.out" 1 <<EOF
allowed ext $EXT_NODE_IP 8080 $EXT_IP
other ext $EXT_NODE_IP 8080 $EXT_IP2
db ext $EXT_NODE_IP 5432 $EXT_IP
EOF
got=$(outcome "$E2E_TMP/pub.out" allowed)
check docker/published/ipblock-admits-client "outside $EXT_IP -> :8080 $got, want ok" test "$got" = ok
got=$(outcome "$E2E_TMP/pub.out" other)
check docker/published/other-address-still-refused "outside $EXT_IP2 -> :8080 $got, want drop" test "$got" = drop
got=$(outcome "$E2E_TMP/pub.out" db)
check docker/published/unpublished-port-unreachable "outside -> :5432 $got, want not ok" test "$got" != ok
flows_has "$F" "r.get('verdict') == 'allowed' and s.get('ip') == '$EXT_IP' and d.get('pod') == 'web' and d.get('port') == 80" \
	--ip "$EXT_IP"
status docker/published/flow-names-web-port-80 $? \
	"no allowed record $EXT_IP -> docker/web:80: $(head -c 600 "$F")"

# The README's "world into one port" manifest, as shipped: any outside
# address now, but still no container (Docker's pools are excepted).
pw apply -f "$E2E_REPO/policy/docker/published-port.yaml" >/dev/null 2>"$E2E_TMP/apply.err"
status docker/published/apply-shipped-world-policy $? "$(cat "$E2E_TMP/apply.err")"
probe_lines "$E2E_TMP/world.out" 1 <<EOF
other ext $EXT_NODE_IP 8080 $EXT_IP2
db db web 80
client client web 80
EOF
while read -r key w what; do
	got=$(outcome "$E2E_TMP/world.out" "$key")
	check "docker/published/world-$what" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
other ok any-outside-address-admitted
db drop container-db-still-refused
client ok client-still-admitted
EOF

diag published

# ---------------------------------------- one container on two bridges
# db joins pwnet too: a veth on each bridge, so one pod per network
# (db.bridge, db.pwnet), each judged under db's policy.
dk network connect pwnet db >/dev/null 2>&1
dbnet=$(dk inspect -f '{{(index .NetworkSettings.Networks "pwnet").IPAddress}}' db 2>/dev/null)
wait_eps "docker/db.bridge=${CIP[db]}" "docker/db.pwnet=$dbnet"
status docker/multinet/pod-per-network $? \
	"want docker/db.bridge=${CIP[db]} and docker/db.pwnet=${dbnet:-?}"
probe_lines "$E2E_TMP/multi.out" 1 <<EOF
pwnet-from-web n-web $dbnet 5432
pwnet-from-client n-client $dbnet 5432
bridge-from-web web db 5432
bridge-from-client client db 5432
EOF
while read -r key w; do
	got=$(outcome "$E2E_TMP/multi.out" "$key")
	check "docker/multinet/db-$key" "want $w, got ${got:-nothing}" test "$got" = "$w"
done <<EOF
pwnet-from-web ok
pwnet-from-client drop
bridge-from-web ok
bridge-from-client drop
EOF

diag multinet

# ------------------------------------------------------------ teardown
docker_teardown "$DK_DIR"
left=$(dk_leftovers "$DK_DIR")
check docker/teardown-leaves-nothing "left: $(echo "$left" | tr '\n' ';' | head -c 800)" \
	test -z "$left"

e2e_finish
