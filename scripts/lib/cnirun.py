#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Run a CNI network configuration list the way a container runtime does
(libcni's AddNetworkList, DelNetworkList and CheckNetworkList): each plugin
in turn, with the previous one's result as prevResult; DEL in reverse order
with the cached result; the result cached per (network, container, ifname).

  cnirun.py add|del|check CONFLIST CONTAINER_ID NETNS_PATH [options]
    --ifname NAME      container interface (default eth0)
    --k8s NS/NAME      K8S_POD_NAMESPACE and K8S_POD_NAME in CNI_ARGS
    --label KEY=VALUE  into every plugin's args.cni.labels (CNI conventions)
    --cni-path DIRS    where plugins are (default /usr/lib/cni)
    --cache DIR        results cache (default /var/lib/cni/podwall-results)

The final result goes to stdout; a plugin's error goes to stderr as it
gave it, and the exit status is 1.
"""
import argparse
import json
import os
import subprocess
import sys


def run_plugin(cmd, plugin, conf, env, cni_path, timeout=60):
    path = None
    for d in cni_path.split(":"):
        cand = os.path.join(d, plugin["type"])
        if os.access(cand, os.X_OK):
            path = cand
            break
    if not path:
        raise RuntimeError(f"plugin {plugin['type']} not found in {cni_path}")
    e = dict(os.environ)
    e.update(env)
    e["CNI_COMMAND"] = cmd
    e["CNI_PATH"] = cni_path
    p = subprocess.run([path], input=json.dumps(conf).encode(), env=e,
                       capture_output=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout.decode() + p.stderr.decode())
        raise RuntimeError(f"{plugin['type']} {cmd} failed "
                           f"(exit {p.returncode})")
    out = p.stdout.decode().strip()
    return json.loads(out) if out else None


def plugin_conf(netconf, plugin, prev, labels):
    conf = dict(plugin)
    conf["name"] = netconf["name"]
    conf["cniVersion"] = netconf["cniVersion"]
    if prev is not None:
        conf["prevResult"] = prev
    if labels:
        args = dict(conf.get("args", {}))
        cni = dict(args.get("cni", {}))
        cni["labels"] = [{"key": k, "value": v} for k, v in labels]
        args["cni"] = cni
        conf["args"] = args
    return conf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["add", "del", "check"])
    ap.add_argument("conflist")
    ap.add_argument("container_id")
    ap.add_argument("netns")
    ap.add_argument("--ifname", default="eth0")
    ap.add_argument("--k8s")
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--cni-path", default="/usr/lib/cni")
    ap.add_argument("--cache", default="/var/lib/cni/podwall-results")
    a = ap.parse_args()

    with open(a.conflist) as f:
        netconf = json.load(f)
    labels = [tuple(l.split("=", 1)) for l in a.label]
    env = {"CNI_CONTAINERID": a.container_id, "CNI_NETNS": a.netns,
           "CNI_IFNAME": a.ifname}
    if a.k8s:
        ns, name = a.k8s.split("/", 1)
        env["CNI_ARGS"] = (f"IgnoreUnknown=1;K8S_POD_NAMESPACE={ns};"
                           f"K8S_POD_NAME={name}")
    os.makedirs(a.cache, exist_ok=True)
    cache = os.path.join(a.cache,
                         f"{netconf['name']}-{a.container_id}-{a.ifname}")
    plugins = netconf["plugins"]
    try:
        if a.cmd == "add":
            prev = None
            for p in plugins:
                prev = run_plugin("ADD", p,
                                  plugin_conf(netconf, p, prev, labels), env,
                                  a.cni_path)
            with open(cache, "w") as f:
                json.dump(prev, f)
            print(json.dumps(prev, indent=1))
        elif a.cmd == "del":
            prev = None
            if os.path.exists(cache):
                with open(cache) as f:
                    prev = json.load(f)
            for p in reversed(plugins):
                run_plugin("DEL", p, plugin_conf(netconf, p, prev, labels),
                           env, a.cni_path)
            if os.path.exists(cache):
                os.unlink(cache)
        else:
            with open(cache) as f:
                prev = json.load(f)
            for p in plugins:
                run_plugin("CHECK", p, plugin_conf(netconf, p, prev, labels),
                           env, a.cni_path)
    except (RuntimeError, subprocess.TimeoutExpired, OSError,
            ValueError) as e:
        sys.stderr.write(f"cnirun: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
