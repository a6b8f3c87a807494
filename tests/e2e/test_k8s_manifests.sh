#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The Kubernetes deployment files (scripts/k8s/), checked offline: no
# cluster and no image build here.
#   - kubectl parses every object (label --local: no server needed; create
#     and apply --dry-run=client both ask the server for the REST mapping)
#     and decodes the DaemonSet and the binding into their Go types (set
#     --local), which catches wrong field types and unknown kinds;
#   - the structure: RBAC read-only on exactly three kinds, the DaemonSet's
#     capabilities exactly podwalld's start_caps, host network, the mounts
#     at the paths the CNI plugin on the host uses;
#   - the Dockerfile against the Makefile, install-deps.sh and the built
#     binaries' shared libraries;
#   - the DaemonSet's securityContext, emulated with setpriv, lets the
#     built podwalld start, and one capability fewer does not;
#   - install-cni.sh on a folder that stands for the host.
# Creates no namespace and touches no link.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dp agent

K8S=$E2E_REPO/scripts/k8s
MANIFEST=$K8S/podwall.yaml
DOCKERFILE=$K8S/Dockerfile
INSTALL_CNI=$K8S/install-cni.sh
KUBECTL=$(command -v kubectl) ||
	skip "needs kubectl (Debian: kubernetes-client)"
for c in setpriv jq cmp objdump dpkg make; do
	command -v "$c" >/dev/null || skip "needs $c"
done

# kubectl with no cluster: an empty kubeconfig, a throwaway home
kc() {
	HOME=$E2E_TMP KUBECONFIG=$E2E_TMP/kubeconfig timeout 30 "$KUBECTL" "$@"
}
: >"$E2E_TMP/kubeconfig"

# --- kubectl ---------------------------------------------------------------

kc label --local --dry-run=client -o json -f "$MANIFEST" \
	podwall.io/offline-check=1 >"$E2E_TMP/all.json" 2>"$E2E_TMP/kerr"
status k8s-manifests/kubectl-parses $? "$(head -c 400 "$E2E_TMP/kerr")"

# one document per object, and each kind decoded by its Go type
"$PY" - "$MANIFEST" "$E2E_TMP" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
docs = [d for d in text.split("\n---\n")
        if any(l.strip() and not l.lstrip().startswith("#")
               for l in d.splitlines())]
for d in docs:
    kind = [l.split(":", 1)[1].strip() for l in d.splitlines()
            if l.startswith("kind:")][0]
    open("%s/%s.yaml" % (sys.argv[2], kind), "w").write(d + "\n")
EOF
kc set resources --local -o json -f "$E2E_TMP/DaemonSet.yaml" -c '*' \
	--requests=cpu=100m >/dev/null 2>"$E2E_TMP/kerr"
status k8s-manifests/daemonset-typed $? "$(head -c 400 "$E2E_TMP/kerr")"
kc set subject --local -o json -f "$E2E_TMP/ClusterRoleBinding.yaml" \
	--serviceaccount=kube-system:podwall >/dev/null 2>"$E2E_TMP/kerr"
status k8s-manifests/binding-typed $? "$(head -c 400 "$E2E_TMP/kerr")"

# --- structure, from kubectl's JSON (no YAML module needed) ----------------

"$PY" - "$E2E_TMP/all.json" "$E2E_REPO" >"$E2E_TMP/struct.out" <<'EOF'
import json, re, sys

repo = sys.argv[2]
raw, objs, at = open(sys.argv[1]).read(), [], 0
dec = json.JSONDecoder()
while True:
    while at < len(raw) and raw[at].isspace():
        at += 1
    if at >= len(raw):
        break
    o, at = dec.raw_decode(raw, at)
    objs.extend(o["items"] if o.get("kind") == "List" else [o])

def res(name, ok, msg=""):
    print(("ok - e2e/k8s-manifests/%s" % name) if ok else
          ("not ok - e2e/k8s-manifests/%s: %s" % (name, msg)))

def one(kind):
    got = [o for o in objs if o["kind"] == kind]
    return got[0] if len(got) == 1 else None

want = {"ServiceAccount": "v1", "ClusterRole": "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
        "ConfigMap": "v1", "DaemonSet": "apps/v1"}
got = sorted((o["kind"], o["apiVersion"]) for o in objs)
res("objects", got == sorted(want.items()), "objects %s" % got)
sa, cr, crb, cm, ds = (one(k) for k in ("ServiceAccount", "ClusterRole",
                       "ClusterRoleBinding", "ConfigMap", "DaemonSet"))
if None in (sa, cr, crb, cm, ds):
    sys.exit(0)

# RBAC: read-only, exactly Pods and Namespaces (core) and NetworkPolicies
pairs, verbs_ok, extra = set(), True, []
for r in cr.get("rules", []):
    if set(r) - {"apiGroups", "resources", "verbs"}:
        extra.append(sorted(set(r)))
    if sorted(r.get("verbs", [])) != ["get", "list", "watch"]:
        verbs_ok = False
    for g in r.get("apiGroups", []):
        for x in r.get("resources", []):
            pairs.add((g, x))
res("rbac-verbs", verbs_ok and not extra,
    "verbs other than get/list/watch, or extra keys %s" % extra)
want_pairs = {("", "pods"), ("", "namespaces"),
              ("networking.k8s.io", "networkpolicies")}
res("rbac-resources", pairs == want_pairs, "resources %s" % sorted(pairs))
pod = ds["spec"]["template"]["spec"]
subj = crb.get("subjects", [])
res("rbac-binding",
    crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                       "kind": "ClusterRole", "name": cr["metadata"]["name"]}
    and subj == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                  "namespace": sa["metadata"]["namespace"]}]
    and pod.get("serviceAccountName") == sa["metadata"]["name"]
    and ds["metadata"]["namespace"] == sa["metadata"]["namespace"],
    "binding %s %s, pod's account %s" % (crb["roleRef"], subj,
                                         pod.get("serviceAccountName")))

# DaemonSet
res("host-network", pod.get("hostNetwork") is True, "hostNetwork not true")
agents = [c for c in pod["containers"]
          if c.get("command", [""])[0].endswith("/podwalld")]
inits = pod.get("initContainers", [])
res("containers", len(agents) == 1 and len(pod["containers"]) == 1
    and len(inits) == 1
    and inits[0].get("command", [""])[0].endswith("/install-cni.sh"),
    "want one podwalld container and one install-cni.sh init container")
if len(agents) != 1 or len(inits) != 1:
    sys.exit(0)
ag, ini = agents[0], inits[0]

# podwalld's own list: what it checks for at start
src = open(repo + "/user/cmd/podwalld.c").read()
m = re.search(r"start_caps\[\]\s*=\s*\{([^}]*)\}", src)
start = {c.strip().replace("CAP_", "") for c in m.group(1).split(",")} \
    if m else set()
sc = ag.get("securityContext", {})
caps = sc.get("capabilities", {})
add = {c.upper().replace("CAP_", "") for c in caps.get("add", [])}
res("capabilities", start and add == start and caps.get("drop") == ["ALL"],
    "add %s, drop %s; podwalld's start_caps %s" % (sorted(add),
                                                   caps.get("drop"),
                                                   sorted(start)))
res("no-privilege",
    not sc.get("privileged") and sc.get("allowPrivilegeEscalation") is False
    and sc.get("readOnlyRootFilesystem") is True and "SYS_ADMIN" not in add
    and not pod.get("hostPID") and not pod.get("hostIPC"),
    "securityContext %s" % sc)
isc = ini.get("securityContext", {})
res("init-no-capabilities",
    isc.get("capabilities", {}).get("drop") == ["ALL"]
    and not isc.get("capabilities", {}).get("add")
    and isc.get("allowPrivilegeEscalation") is False
    and isc.get("readOnlyRootFilesystem") is True,
    "init securityContext %s" % isc)

vols = {v["name"]: v for v in pod.get("volumes", [])}
def mounts(c):
    out = {}
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        out[m["mountPath"]] = (v.get("hostPath", {}).get("path"), m)
    return out
am, im = mounts(ag), mounts(ini)
# The CNI plugin runs on the host with these paths (socket, state): the
# agent must see the same folders at the same paths.
bad = [p for p in ("/run/podwall", "/var/lib/podwall", "/var/log/podwall")
       if am.get(p, (None,))[0] != p or am[p][1].get("readOnly")]
bpf = am.get("/sys/fs/bpf")
if not bpf or bpf[0] != "/sys/fs/bpf" or bpf[1].get("readOnly") or \
        bpf[1].get("mountPropagation") not in ("HostToContainer",
                                               "Bidirectional"):
    bad.append("/sys/fs/bpf (hostPath, writable, propagation from host)")
res("agent-mounts", not bad, "missing or wrong: %s" % bad)
# where install-cni.sh looks by default
sh = open(repo + "/scripts/k8s/install-cni.sh").read()
dflt = dict(re.findall(r"^(CNI_\w+_DIR)=\$\{\w+:-([^}]*)\}", sh, re.M))
want_init = {dflt.get("CNI_BIN_DIR"): "/opt/cni/bin",
             dflt.get("CNI_CONF_DIR"): "/etc/cni/net.d"}
bad = ["%s<-%s" % (k, v) for k, v in want_init.items()
       if not k or im.get(k, (None,))[0] != v or im[k][1].get("readOnly")]
res("init-mounts", not bad and len(dflt) == 2,
    "install-cni.sh's folders not mounted from the host: %s" % bad)

env = {e["name"]: e for e in ag.get("env", [])}
res("node-name",
    env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
    .get("fieldPath") == "spec.nodeName", "NODE_NAME not spec.nodeName")
args = ag.get("args", [])
cfg = [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
cm_mount = am.get("/etc/podwall")
res("agent-args",
    "--k8s-in-cluster" in args and cfg == ["/etc/podwall/podwalld.conf"]
    and cm_mount and vols[cm_mount[1]["name"]].get("configMap", {})
    .get("name") == cm["metadata"]["name"]
    and "podwalld.conf" in cm.get("data", {}),
    "args %s, config mount %s" % (args, cm_mount))
probe = ag.get("livenessProbe", {}).get("exec", {}).get("command", [])
res("liveness-probe", probe[:1] == ["/usr/local/bin/podwall"]
    and "status" in probe, "livenessProbe %s" % probe)
tol = pod.get("tolerations", [])
res("scheduling",
    pod.get("priorityClassName") == "system-node-critical"
    and {"operator": "Exists"} in tol
    and ds["spec"].get("updateStrategy", {}).get("type") == "RollingUpdate",
    "priority %s, tolerations %s, strategy %s" % (
        pod.get("priorityClassName"), tol, ds["spec"].get("updateStrategy")))
nores = [c["name"] for c in (ag, ini)
         if not c.get("resources", {}).get("requests", {}).get("memory")
         or not c.get("resources", {}).get("limits", {}).get("memory")]
res("resources", not nores, "no memory request or limit: %s" % nores)
# what the DaemonSet runs is what the image holds
df = open(repo + "/scripts/k8s/Dockerfile").read()
final = df[df.rindex("\nFROM "):]
dests = set(re.findall(r"^COPY\s+(?:--from=\S+\s+)?\S+\s+(\S+)\s*$", final,
                       re.M))
need = {ag["command"][0], ini["command"][0], probe[0] if probe else ""}
res("image-paths", need <= dests, "not copied into the image: %s" %
    sorted(need - dests))
EOF
cat "$E2E_TMP/struct.out"
E2E_FAILS=$((E2E_FAILS + $(grep -c '^not ok' "$E2E_TMP/struct.out")))
# the last one ran: nothing stopped the script halfway
grep -q 'e2e/k8s-manifests/image-paths' "$E2E_TMP/struct.out" ||
	not_ok k8s-manifests/structure-ran "structure checks stopped early"

# --- Dockerfile -------------------------------------------------------------

# stage N's package list (the words after "apt-get install ... -y ...")
stage_pkgs() {
	awk -v want="$1" '
		/^FROM / { stage++ }
		stage == want && /apt-get install/ { inst = 1 }
		inst && stage == want {
			line = $0; sub(/#.*/, "", line)
			n = split(line, w, /[ \t\\]+/)
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^[a-z0-9][a-z0-9.+-]+$/ &&
				    w[i] !~ /^(apt-get|install|rm|DEBIAN_FRONTEND.*)$/)
					print w[i]
			if (line ~ /&&/ && line !~ /apt-get install/) inst = 0
		}' "$DOCKERFILE" | sort -u
}
froms=$(grep -E '^FROM ' "$DOCKERFILE" | awk '{print $2}' | tr '\n' ' ')
check k8s-manifests/dockerfile-stages "FROM lines: $froms" \
	test "$froms" = "debian:12 debian:12-slim "

# Every library the built binaries link is a package of the runtime stage
# (libc6 comes with the base image).
stage_pkgs 2 >"$E2E_TMP/runtime.pkgs"
missing=
for b in "$AGENT" "$PWCLI" "$CNI_BIN/podwall"; do
	objdump -p "$b" | awk '/NEEDED/ {print $2}'
done | sort -u >"$E2E_TMP/needed"
while read -r lib; do
	# where the loader finds it for these binaries (ldconfig -p also
	# lists other ABIs' copies, e.g. x32)
	path=$(ldd "$AGENT" "$PWCLI" "$CNI_BIN/podwall" |
		awk -v l="$lib" '$1 == l && $2 == "=>" {print $3; exit}')
	pkg=
	for p in "$path" "$(readlink -f "$path")" "${path#/usr}" \
		"$(readlink -f "$path" | sed 's,^/usr,,')"; do
		[ -n "$p" ] || continue
		pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1) &&
			[ -n "$pkg" ] && break
	done
	if [ -z "$pkg" ]; then
		missing="$missing $lib(no package)"
	elif [ "$pkg" != libc6 ] && ! grep -qx "$pkg" "$E2E_TMP/runtime.pkgs"
	then
		missing="$missing $lib($pkg)"
	fi
done <"$E2E_TMP/needed"
log "linked: $(tr '\n' ' ' <"$E2E_TMP/needed")"
check k8s-manifests/dockerfile-runtime-libs \
	"runtime stage lacks:$missing" test -z "$missing" -a -s "$E2E_TMP/needed"

# The build stage has install-deps.sh's build packages, but for the
# formatter and the fuzzers' runtime (not built in the image).
stage_pkgs 1 >"$E2E_TMP/build.pkgs"
sed -n '/^build=(/,/^)/p' "$E2E_REPO/scripts/install-deps.sh" |
	sed 's/#.*//' | tr ' \t' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
	grep -vxE 'clang-format|libclang-rt-[0-9]+-dev' | sort -u \
	>"$E2E_TMP/deps.pkgs"
lack=$(comm -23 "$E2E_TMP/deps.pkgs" "$E2E_TMP/build.pkgs" | tr '\n' ' ')
check k8s-manifests/dockerfile-build-deps "build stage lacks: $lack" \
	test -z "$lack" -a -s "$E2E_TMP/deps.pkgs"

# What the build stage copies is enough for make to plan the three
# binaries (make -n: a missing source or header is "No rule to make").
ctx=$E2E_TMP/ctx
mkdir -p "$ctx"
srcs=$(awk '/^FROM /{s++} s == 1 && /^COPY / {
	for (i = 2; i < NF; i++) print $i }' "$DOCKERFILE")
for s in $srcs; do
	cp -r "$E2E_REPO/${s%/}" "$ctx/" 2>>"$E2E_TMP/kerr"
done
make -n -C "$ctx" BUILD="$ctx/out" "$ctx/out/podwalld" "$ctx/out/podwall" \
	"$ctx/out/cni/podwall" >/dev/null 2>"$E2E_TMP/make.err"
status k8s-manifests/dockerfile-build-context $? \
	"copied: $srcs; $(head -c 300 "$E2E_TMP/make.err")"
# the file capabilities the image gives podwalld: start_caps again
fcaps=$(sed -n 's/.*setcap \([a-z_,]*\)=ep .*podwalld.*/\1/p' "$DOCKERFILE" |
	tr ',' '\n' | sed 's/^cap_//' | tr a-z A-Z | sort | tr '\n' ' ')
scaps=$(sed -n 's/.*start_caps\[\] = {\(.*\)};/\1/p' \
	"$E2E_REPO/user/cmd/podwalld.c" | tr -d ' ' | tr ',' '\n' |
	sed 's/^CAP_//' | sort | tr '\n' ' ')
check k8s-manifests/dockerfile-file-caps \
	"setcap gives '$fcaps', podwalld needs '$scaps'" \
	test -n "$scaps" -a "$fcaps" = "$scaps"

# --- the DaemonSet's securityContext, emulated -----------------------------

# The agent container as the runtime makes it: uid 0, the added
# capabilities as bounding set (uid 0 gets them at execve), nothing
# inheritable, no_new_privs. --once: load, pin, reconcile nothing, exit.
DSCAPS=$("$PY" -c '
import json, sys
raw = open(sys.argv[1]).read()
dec, at = json.JSONDecoder(), 0
while at < len(raw):
    while at < len(raw) and raw[at].isspace(): at += 1
    if at >= len(raw): break
    o, at = dec.raw_decode(raw, at)
    if o["kind"] == "DaemonSet":
        c = o["spec"]["template"]["spec"]["containers"][0]
        print(",".join("+" + x.lower().replace("cap_", "")
              for x in c["securityContext"]["capabilities"]["add"]))
' "$E2E_TMP/all.json")
as_daemonset() {
	setpriv --reuid 0 --regid 0 --clear-groups \
		--bounding-set="-all,$1" --inh-caps=-all --no-new-privs \
		"$AGENT" --once --config /dev/null --pin "$PIN" \
		--state-dir "$E2E_TMP/state" --socket "$E2E_TMP/podwalld.sock" \
		--flow-log none
}
E2E_PIN_LOADED=1
# baseline: one capability fewer (the last one) and podwalld refuses
fewer=${DSCAPS%,*}
as_daemonset "$fewer" >/dev/null 2>"$E2E_TMP/fewer.err"
rc=$?
check k8s-manifests/caps-fewer-refused \
	"podwalld started with $fewer only (rc $rc)" \
	test "$rc" -ne 0 -a -n "$DSCAPS" -a "$fewer" != "$DSCAPS"
as_daemonset "$DSCAPS" >/dev/null 2>"$E2E_TMP/caps.err"
rc=$?
[ "$rc" -eq 0 ] && [ -e "$PIN/pw_policy" ]
status k8s-manifests/caps-suffice $? \
	"podwalld with $DSCAPS: rc $rc: $(tail -n 3 "$E2E_TMP/caps.err")"

# --- install-cni.sh ---------------------------------------------------------

HOST=$E2E_TMP/host
mkdir -p "$HOST/etc/cni/net.d"
icni() {
	CNI_BIN_DIR=$HOST/opt/cni/bin CNI_CONF_DIR=$HOST/etc/cni/net.d \
		PODWALL_CNI_BIN=$CNI_BIN/podwall timeout 20 sh "$INSTALL_CNI"
}
OUT=$HOST/etc/cni/net.d/00-podwall.conflist
cat >"$HOST/etc/cni/net.d/10-containerd-net.conflist" <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "containerd-net",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
# baseline: the host has no podwall yet
check k8s-manifests/install-cni-baseline "podwall files before the install" \
	test ! -e "$OUT" -a ! -e "$HOST/opt/cni/bin/podwall"
icni >/dev/null 2>"$E2E_TMP/icni.err"
rc=$?
got=$(jq -c '[.cniVersion, .name, [.plugins[].type], .plugins[-1]]' \
	"$OUT" 2>&1)
want='["1.0.0","containerd-net",["bridge","portmap","podwall"],'
want+='{"type":"podwall","socket":"/run/podwall/podwalld.sock",'
want+='"stateDir":"/var/lib/podwall"}]'
[ "$rc" -eq 0 ] && [ "$got" = "$want" ]
status k8s-manifests/install-cni-chains $? "rc $rc, got $got"
check k8s-manifests/install-cni-binary "plugin not installed as built" \
	cmp -s "$CNI_BIN/podwall" "$HOST/opt/cni/bin/podwall"
first=$(cd "$HOST/etc/cni/net.d" && LC_ALL=C ls | head -n 1)
check k8s-manifests/install-cni-sorts-first "first config is $first" \
	test "$first" = 00-podwall.conflist

# a second run: nothing rewritten (a runtime watching the folder sees no
# change), nothing doubled
before=$(stat -c '%i %y' "$OUT" "$HOST/opt/cni/bin/podwall")
sleep 0.05
icni >/dev/null 2>>"$E2E_TMP/icni.err"
rc=$?
after=$(stat -c '%i %y' "$OUT" "$HOST/opt/cni/bin/podwall")
n=$(jq '[.plugins[] | select(.type == "podwall")] | length' "$OUT")
[ "$rc" -eq 0 ] && [ "$before" = "$after" ] && [ "$n" = 1 ]
status k8s-manifests/install-cni-idempotent $? \
	"rc $rc, podwall entries $n, files before/after: $before / $after"
leftover=$(find "$HOST" -name '*podwall-tmp*' | tr '\n' ' ')
check k8s-manifests/install-cni-no-temp-files "left: $leftover" \
	test -z "$leftover"

# a single-plugin .conf (ptp) becomes a list with podwall after it
rm -f "$HOST"/etc/cni/net.d/*
echo '{"cniVersion": "0.4.0", "name": "ptpnet", "type": "ptp",
  "ipam": {"type": "host-local", "subnet": "10.89.0.0/24"}}' \
	>"$HOST/etc/cni/net.d/10-ptp.conf"
icni >/dev/null 2>>"$E2E_TMP/icni.err"
rc=$?
got=$(jq -c '[.cniVersion, .name, [.plugins[].type], .plugins[0].ipam.subnet]' \
	"$OUT" 2>&1)
[ "$rc" -eq 0 ] &&
	[ "$got" = '["0.4.0","ptpnet",["ptp","podwall"],"10.89.0.0/24"]' ]
status k8s-manifests/install-cni-conf-to-list $? "rc $rc, got $got"

# a network that lists podwall already (chained by hand): one entry, ours
rm -f "$HOST"/etc/cni/net.d/*
jq '.plugins += [{"type": "podwall", "socket": "/old.sock"}]' \
	>"$HOST/etc/cni/net.d/10-bridge.conflist" <<'EOF'
{"cniVersion": "1.0.0", "name": "br", "plugins": [{"type": "bridge",
  "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.90.0.0/24"}}]}
EOF
icni >/dev/null 2>>"$E2E_TMP/icni.err"
rc=$?
got=$(jq -c '[.plugins[] | select(.type == "podwall") | .socket]' "$OUT" 2>&1)
[ "$rc" -eq 0 ] && [ "$got" = '["/run/podwall/podwalld.sock"]' ]
status k8s-manifests/install-cni-no-double $? "rc $rc, podwall sockets $got"

# no node network to chain after: a clear error, nothing written
rm -f "$HOST"/etc/cni/net.d/*
icni >/dev/null 2>"$E2E_TMP/icni.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q 'no CNI config in .* to chain after' \
	"$E2E_TMP/icni.err" && [ ! -e "$OUT" ]
status k8s-manifests/install-cni-no-conflist $? \
	"rc $rc: $(head -c 300 "$E2E_TMP/icni.err")"

# a network podwall cannot chain after (no host-side veth): refused
echo '{"cniVersion": "1.0.0", "name": "mv", "plugins": [{"type": "macvlan",
  "master": "eth0"}]}' >"$HOST/etc/cni/net.d/10-macvlan.conflist"
icni >/dev/null 2>"$E2E_TMP/icni.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q '"macvlan"' "$E2E_TMP/icni.err" && [ ! -e "$OUT" ]
status k8s-manifests/install-cni-refuses-macvlan $? \
	"rc $rc: $(head -c 300 "$E2E_TMP/icni.err")"

e2e_finish
