#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""One pod's prober for the conformance matrix (tests/e2e/netpol/matrix.py).

Runs inside a pod's network namespace (ip netns exec) for the whole run, so
that a round of probes costs no process start. Reads one request per line
on stdin:

    {"id": N, "timeout": S, "probes": [[KEY, "tcp"|"udp", IP, PORT], ...]}

runs every probe of the request at once (one thread each) and answers one
line on stdout:

    {"id": N, "results": {KEY: true|false, ...}}

A probe is true when the server answered: TCP connected and sent back the
line "podwall-probe" (scripts/lib/probe.py serve --tcp), UDP echoed the
datagram (--udp). Each probe waits at most S seconds. Ends at end of input,
or after --seconds whatever happens.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

REPLY = b"podwall-probe\n"


def family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def probe_tcp(ip, port, timeout):
    end = time.monotonic() + timeout
    try:
        with socket.socket(family(ip), socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect((ip, port))
            s.sendall(REPLY)
            got = b""
            while not got.endswith(b"\n"):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                s.settimeout(left)
                data = s.recv(64)
                if not data:
                    break
                got += data
            return got.startswith(REPLY)
    except OSError:
        return False


def probe_udp(ip, port, timeout):
    end = time.monotonic() + timeout
    try:
        with socket.socket(family(ip), socket.SOCK_DGRAM) as s:
            s.connect((ip, port))
            s.send(REPLY)
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                s.settimeout(left)
                if s.recv(64) == REPLY:
                    return True
    except OSError:
        return False


def run(req):
    timeout = float(req.get("timeout", 0.4))
    results = {}
    threads = []

    def one(key, proto, ip, port):
        fn = probe_tcp if proto == "tcp" else probe_udp
        results[key] = fn(ip, int(port), timeout)

    for key, proto, ip, port in req["probes"]:
        t = threading.Thread(target=one, args=(key, proto, ip, port),
                             daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout + 2)
    # a thread that did not finish counts as no answer
    return {k: results.get(k, False) for k, _, _, _ in req["probes"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300)
    a = ap.parse_args()
    # bounded whatever the driver does
    threading.Timer(a.seconds, lambda: os._exit(3)).start()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        out = {"id": req.get("id"), "results": run(req)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
