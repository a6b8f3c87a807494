#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Bounded TCP/UDP servers and probes for the demo and the tests.

serve --tcp 80,81 --udp 53 [--seconds N]   answer each TCP connection with a
                                           line, echo UDP datagrams; exit
                                           after N seconds (default 30)
probe tcp|udp IP PORT [--timeout S]        exit 0 if the server answered
"""
import argparse
import selectors
import socket
import sys
import time


def serve(args):
    sel = selectors.DefaultSelector()
    for port in filter(None, args.tcp.split(",")):
        s = socket.socket(socket.AF_INET6 if ":" in args.bind else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.bind, int(port)))
        s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "tcp")
    for port in filter(None, args.udp.split(",")):
        s = socket.socket(socket.AF_INET6 if ":" in args.bind else socket.AF_INET,
                          socket.SOCK_DGRAM)
        s.bind((args.bind, int(port)))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, "udp")
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                if key.data == "tcp":
                    c, _ = s.accept()
                    c.settimeout(1)
                    c.sendall(b"podwall-probe\n")
                    c.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                pass
    return 0


def probe(args):
    fam = socket.AF_INET6 if ":" in args.ip else socket.AF_INET
    try:
        if args.proto == "tcp":
            with socket.create_connection((args.ip, args.port),
                                          timeout=args.timeout) as s:
                return 0 if s.recv(64).startswith(b"podwall-probe") else 1
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(args.timeout)
            s.sendto(b"podwall-probe", (args.ip, args.port))
            data, _ = s.recvfrom(64)
            return 0 if data == b"podwall-probe" else 1
    except OSError:
        return 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--tcp", default="")
    s.add_argument("--udp", default="")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--seconds", type=float, default=30)
    p = sub.add_parser("probe")
    p.add_argument("proto", choices=["tcp", "udp"])
    p.add_argument("ip")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    return serve(args) if args.cmd == "serve" else probe(args)


if __name__ == "__main__":
    sys.exit(main())
