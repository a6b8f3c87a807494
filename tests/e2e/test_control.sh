#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Who may talk to podwalld, and with what it runs: the control socket is
# root's alone (0600) unless a group is configured (0660, and then members
# of that group only); the agent keeps only CAP_BPF and CAP_NET_ADMIN once
# it has started, in its bounding set too.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init

command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
getent group nogroup >/dev/null || skip "needs the nogroup group"
[ -x "$AGENT" ] || skip "no $AGENT (run make)"

e2e_node_create || {
	not_ok control/topology "could not build the node"
	exit 1
}
# Others may pass through the temp folder (not list it), so that the
# socket's own mode is what refuses them.
chmod 0711 "$E2E_TMP"
SOCKDIR=$E2E_TMP/run
mkdir -m 0755 "$SOCKDIR"
SOCK=$SOCKDIR/pw.sock
PW_SOCK=$SOCK

# ping_as UID GID: 0 if a ping through the socket is answered.
ping_as() {
	setpriv --reuid="$1" --regid="$2" --clear-groups "$PY" - "$SOCK" \
		<<'PYEOF' 2>>"$E2E_TMP/ping.err"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(b'{"op":"ping"}\n')
r = json.loads(s.makefile().readline())
sys.exit(0 if r.get("ok") else 1)
PYEOF
}

start() {
	agent_start "$@" || {
		not_ok control/agent-start "podwalld did not start"
		e2e_finish
	}
}

start
check control/socket-mode-0600 "mode $(stat -c %a "$SOCK")" \
	test "$(stat -c %a "$SOCK")" = 600
check control/root-answered "root's ping failed" ping_as 0 0
if ping_as 65534 65534; then
	not_ok control/unprivileged-refused "nobody's ping was answered"
else
	grep -q "Permission denied" "$E2E_TMP/ping.err"
	status=$?
	check control/unprivileged-refused \
		"refused, but not by the socket's mode: $(tail -n 1 "$E2E_TMP/ping.err")" \
		test "$status" -eq 0
fi

# Capabilities: CAP_BPF (39) and CAP_NET_ADMIN (12) only, and the
# bounding set cut down too, so nothing can be regained.
want=$(printf '%016x' $(((1 << 39) | (1 << 12))))
capeff=$(sed -n 's/^CapEff:\t//p' "/proc/$AGENT_PID/status")
capbnd=$(sed -n 's/^CapBnd:\t//p' "/proc/$AGENT_PID/status")
check control/caps-effective-bpf-net-admin-only "CapEff $capeff, want $want" \
	test "$capeff" = "$want"
check control/caps-bounding-set-cut "CapBnd $capbnd, want $want" \
	test "$capbnd" = "$want"
# capabilities are per thread: the agent's other threads (the flow log's
# compressor) started before the drop and must have dropped theirs
extra=
ntask=0
for st in /proc/"$AGENT_PID"/task/*/status; do
	ntask=$((ntask + 1))
	for f in CapEff CapPrm CapBnd; do
		v=$(sed -n "s/^$f:\t//p" "$st")
		[ $((0x${v:-0} & ~0x$want)) -eq 0 ] || extra+=" ${st%/status} $f $v"
	done
done
check control/caps-every-thread "$ntask threads;$extra" \
	test -z "$extra" -a "$ntask" -gt 1
# and it still does its job with them: a pod comes and is enforced
cni_conf 1.0.0
if cni_add ca ctl && pw get endpoints 2>/dev/null |
	grep -q "ctl/ca "; then
	ok control/works-with-dropped-caps
else
	not_ok control/works-with-dropped-caps "CNI ADD with the agent failed"
fi
agent_stop

# With --socket-group, members of the group get in, others still do not.
start --socket-group nogroup
check control/group-socket-mode-0660 "mode $(stat -c %a "$SOCK")" \
	test "$(stat -c %a "$SOCK")" = 660
check control/group-socket-owned-by-group \
	"group $(stat -c %G "$SOCK")" test "$(stat -c %G "$SOCK")" = nogroup
check control/group-member-answered "nobody (in nogroup) refused" \
	ping_as 65534 65534
if ping_as 65533 65533; then
	not_ok control/non-member-refused "a user outside the group got in"
else
	ok control/non-member-refused
fi
agent_stop

# A group that does not exist is a clear error at start.
out=$(in_node "$AGENT" --config /dev/null --socket-group no-such-group-pw \
	--pin "$PIN/x" --state-dir "$E2E_TMP/s2" --socket "$SOCKDIR/x.sock" \
	--flow-log none --once 2>&1)
rc=$?
check control/unknown-group-refused "exit $rc: $out" \
	test "$rc" -eq 2 -a -n "$(grep -F 'no group "no-such-group-pw"' <<<"$out")"
e2e_finish
