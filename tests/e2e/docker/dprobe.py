#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""TCP probes from inside containers' network namespaces, for
tests/e2e/test_docker.sh. Each probe runs in its own thread, which enters
the source's network namespace (setns is per thread), so a whole truth
table takes one timeout rather than one per cell.

A probe's outcome:
  ok    connected and the server answered (httpd or "nc -e echo");
  rst   refused by the peer (nothing listens: a setup problem);
  drop  no answer before the timeout (a firewall dropped it);
  quiet connected but no data; err  anything else.

  dprobe.py table [--timeout S]
      stdin: "NAME NETNS DST PORT [SRC_IP]" per line (NETNS: a path such
      as /proc/PID/ns/net or /run/netns/X); prints "NAME OUTCOME".
  dprobe.py start --docker CMD --name C --sock PWSOCK --ns NS
                  --probe "WANT SRC DST PORT"... [--limit S] [--timeout S]
      runs "CMD start C" and then, every 50 ms (bounded by --limit), checks
      that NS/C is in the agent's endpoints with the container's address
      and that every probe has its WANT outcome; SRC and DST are a netns
      path and an address, or NEW for the started container. Prints one
      JSON line: {"ok", "elapsed" (from "docker start" returning), "ip",
      "last" (the last round's state)}. Exit 0 when everything held.
"""
import argparse
import ctypes
import json
import os
import socket
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def enter(netns):
    fd = os.open(netns, os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + netns)
    finally:
        os.close(fd)


def probe_here(dst, port, timeout, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        if src:
            s.bind((src, 0))
        try:
            s.connect((dst, port))
        except ConnectionRefusedError:
            return "rst"
        except (socket.timeout, TimeoutError):
            return "drop"
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            return "ok" if s.recv(64) else "quiet"
        except (socket.timeout, TimeoutError):
            return "quiet"
    except OSError as e:
        return "err:%s" % (e.strerror or e).__str__().replace(" ", "_")
    finally:
        s.close()


def run_all(probes, timeout):
    """probes: list of (key, netns, dst, port, src); {key: outcome}."""
    out = {}

    def one(key, netns, dst, port, src):
        try:
            enter(netns)
            out[key] = probe_here(dst, int(port), timeout, src)
        except OSError as e:
            out[key] = "err:%s" % str(e).replace(" ", "_")

    ts = [threading.Thread(target=one, args=p) for p in probes]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout + 5)
    return {p[0]: out.get(p[0], "err:hung") for p in probes}


def cmd_table(args):
    probes = []
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        probes.append((f[0], f[1], f[2], f[3], f[4] if len(f) > 4 else None))
    res = run_all(probes, args.timeout)
    for p in probes:
        print(p[0], res[p[0]])
    return 0


def agent_get(sock, what):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sock)
        s.sendall(json.dumps({"op": "get", "what": what}).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        return json.loads(buf)
    finally:
        s.close()


def listed(sock, ns, pod, ip):
    try:
        a = agent_get(sock, "endpoints")
    except (OSError, ValueError):
        return False
    items = a.get("items", a) if isinstance(a, dict) else a
    return any(e.get("namespace") == ns and e.get("pod") == pod and
               ip in e.get("ips", []) for e in items or [])


def cmd_start(args):
    docker = args.docker.split()
    r = subprocess.run(docker + ["start", args.name], capture_output=True,
                       text=True, timeout=30)
    t1 = time.monotonic()
    if r.returncode != 0:
        print(json.dumps({"ok": False, "error": r.stderr.strip()}))
        return 1
    r = subprocess.run(docker + ["inspect", "-f",
                                 "{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                                 args.name], capture_output=True, text=True,
                       timeout=30)
    f = r.stdout.split()
    pid, ip = f[0], f[1]
    netns = "/proc/%s/ns/net" % pid
    probes = []
    for i, spec in enumerate(args.probe):
        want, src, dst, port = spec.split()
        probes.append((want, netns if src == "NEW" else src,
                       ip if dst == "NEW" else dst, port, spec))
    last = {}
    end = t1 + args.limit
    while True:
        t = time.monotonic()
        res = run_all([(str(i), p[1], p[2], p[3], None)
                       for i, p in enumerate(probes)], args.timeout)
        last = {"listed": listed(args.sock, args.ns, args.pod or args.name,
                                 ip)}
        good = last["listed"]
        for i, p in enumerate(probes):
            last[p[4]] = res[str(i)]
            good = good and res[str(i)] == p[0]
        now = time.monotonic()
        if good:
            print(json.dumps({"ok": True, "elapsed": round(now - t1, 3),
                              "ip": ip, "pid": pid, "last": last}))
            return 0
        if now > end:
            print(json.dumps({"ok": False, "elapsed": round(now - t1, 3),
                              "ip": ip, "pid": pid, "last": last}))
            return 1
        time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("table")
    t.add_argument("--timeout", type=float, default=1.0)
    s = sub.add_parser("start")
    s.add_argument("--docker", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--pod", help="the pod name, if not the container's")
    s.add_argument("--sock", required=True)
    s.add_argument("--ns", default="docker")
    s.add_argument("--probe", action="append", default=[])
    s.add_argument("--timeout", type=float, default=0.25)
    s.add_argument("--limit", type=float, default=5.0)
    args = ap.parse_args()
    return cmd_table(args) if args.cmd == "table" else cmd_start(args)


if __name__ == "__main__":
    sys.exit(main())
