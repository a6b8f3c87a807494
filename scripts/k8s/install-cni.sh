#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# install-cni.sh: the podwall DaemonSet's init container. Installs the
# podwall CNI plugin on the node and chains it after the node's network.
#
# Approach. A container runtime (containerd, CRI-O) uses the first file in
# its CNI config folder, in byte order, among *.conf, *.conflist and *.json
# (libcni's rule). podwall is not a network of its own: its plugin is
# chained after the plugin that makes the pod's veth (bridge or ptp; flannel
# delegates to bridge). So this script
#   1. copies the plugin binary into the host's CNI bin folder, through a
#      temporary file and a rename: a runtime may be running the old one,
#      and nothing ever sees a half-written file;
#   2. reads the first config in the host's config folder that is not ours
#      (the node's network, e.g. 10-containerd-net.conflist), turns a
#      single-plugin .conf into a list as libcni does, appends
#      {"type":"podwall",...} to its plugins (once: an entry already there
#      is replaced, never doubled) and writes the result as
#      00-podwall.conflist, which sorts before it, so that the runtime uses
#      it. The network keeps its name: the runtime's cached results (and
#      so DEL of pods made before the install) are keyed by it.
#   3. refuses, with a message, when there is no config to chain after or
#      the one found is not bridge, ptp or flannel, or when another file
#      would still sort before ours.
# Idempotent: a second run with the same inputs rewrites nothing (so a
# runtime watching the folder sees no change). It runs at every start of
# the agent's pod: a changed node network is picked up on the next restart
# (kubectl -n kube-system rollout restart ds/podwall), not before.
# Uninstall: delete the DaemonSet, then on each node remove
# 00-podwall.conflist (pods then start without podwall) and
# /opt/cni/bin/podwall.
#
# Environment (defaults are the DaemonSet's mounts):
#   CNI_BIN_DIR     host's CNI bin folder        (/host/opt/cni/bin)
#   CNI_CONF_DIR    host's CNI config folder     (/host/etc/cni/net.d)
#   PODWALL_CNI_BIN the plugin to install        (/opt/podwall/cni/podwall)
#   PODWALL_CONF_NAME  file written              (00-podwall.conflist)
#   PODWALL_SOCKET, PODWALL_STATE_DIR: the agent's socket and state folder
#                   as seen from the host        (/run/podwall/podwalld.sock,
#                                                 /var/lib/podwall)
# Needs: POSIX sh, coreutils, cmp (diffutils) and jq.
set -eu

CNI_BIN_DIR=${CNI_BIN_DIR:-/host/opt/cni/bin}
CNI_CONF_DIR=${CNI_CONF_DIR:-/host/etc/cni/net.d}
PODWALL_CNI_BIN=${PODWALL_CNI_BIN:-/opt/podwall/cni/podwall}
PODWALL_CONF_NAME=${PODWALL_CONF_NAME:-00-podwall.conflist}
PODWALL_SOCKET=${PODWALL_SOCKET:-/run/podwall/podwalld.sock}
PODWALL_STATE_DIR=${PODWALL_STATE_DIR:-/var/lib/podwall}

die() {
	echo "install-cni: $*" >&2
	exit 1
}

# install_file SRC DST MODE: DST gets SRC's bytes unless it has them
install_file() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		echo "install-cni: $2 up to date"
		return 0
	fi
	# the temporary name has no .conf/.conflist/.json ending, so a
	# runtime reading the folder meanwhile ignores it
	cp "$1" "$2.podwall-tmp"
	chmod "$3" "$2.podwall-tmp"
	mv -f "$2.podwall-tmp" "$2"
	echo "install-cni: wrote $2"
}

# CNI config files in libcni's order (byte order)
conf_files() {
	(cd "$CNI_CONF_DIR" && LC_ALL=C ls -1 -- *.conf *.conflist *.json \
		2>/dev/null | LC_ALL=C sort) || true
}

command -v jq >/dev/null || die "needs jq"
[ -x "$PODWALL_CNI_BIN" ] || die "no plugin binary at $PODWALL_CNI_BIN"
[ -d "$CNI_CONF_DIR" ] || die "no CNI config folder $CNI_CONF_DIR"
mkdir -p "$CNI_BIN_DIR"

# 1. the binary
install_file "$PODWALL_CNI_BIN" "$CNI_BIN_DIR/podwall" 0755

# 2. the node's network: the first config that is not ours
src=
for f in $(conf_files); do
	[ "$f" = "$PODWALL_CONF_NAME" ] && continue
	src=$f
	break
done
[ -n "$src" ] || die "no CNI config in $CNI_CONF_DIR to chain after:" \
	"install the node's network (bridge or ptp) first;" \
	"the podwall plugin only adds policy to it"

tmp=$CNI_CONF_DIR/.$PODWALL_CONF_NAME.podwall-tmp
trap 'rm -f "$tmp"' EXIT
jq --arg socket "$PODWALL_SOCKET" --arg state "$PODWALL_STATE_DIR" '
	# a single-plugin .conf becomes a list, as libcni does
	(if has("plugins") then . else
		{cniVersion: .cniVersion, name: .name,
		 plugins: [del(.cniVersion, .name)]} end) as $l |
	if ($l.plugins | type) != "array" or ($l.plugins | length) == 0 then
		error("no plugins list")
	elif ($l.plugins[0].type | IN("bridge", "ptp", "flannel") | not) then
		error("its first plugin is \"\($l.plugins[0].type)\"; podwall " +
		      "chains after bridge, ptp or flannel only")
	else
		$l | .plugins = ([.plugins[] | select(.type != "podwall")] +
			[{type: "podwall", socket: $socket, stateDir: $state}])
	end' "$CNI_CONF_DIR/$src" >"$tmp" ||
	die "cannot chain after $CNI_CONF_DIR/$src (see jq's message above)"
install_file "$tmp" "$CNI_CONF_DIR/$PODWALL_CONF_NAME" 0644
echo "install-cni: podwall chained after $src"

# 3. ours must be the one the runtime reads
first=$(conf_files | head -n 1)
[ "$first" = "$PODWALL_CONF_NAME" ] ||
	die "$first sorts before $PODWALL_CONF_NAME in $CNI_CONF_DIR, so the" \
		"runtime would not use podwall: set PODWALL_CONF_NAME to a" \
		"name that sorts first"
