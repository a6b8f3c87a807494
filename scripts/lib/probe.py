#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Bounded traffic tools for the end-to-end tests. Every mode ends by itself.

serve [--tcp P,..] [--udp P,..] [--tcp-echo P,..] [--tcp-push P,..]
      [--record FILE] [--seconds N]
    Listens on :: (dual stack: IPv4 and IPv6) on every port given.
    --tcp:      answer each connection with the line "podwall-probe", close
    --tcp-echo: keep each connection open, echo every line back
    --tcp-push: keep each connection open, send "push" every 100 ms
                whether or not the peer says anything (a server that
                speaks on its own); lines received are only recorded
    --udp:      echo each datagram back
    --record:   append "<peer-address> <payload>" to FILE for every UDP
                datagram and every line received on a --tcp-push
                connection
    Exits after N seconds (default 30).

probe tcp|udp IP PORT [--timeout S]
    Exit 0 if the server answered (TCP: connected and got "podwall-probe" back;
    UDP: got the datagram echoed), 1 if not. Everything waits at most S
    seconds (default 1).

client IP PORT [--count N] [--interval S] [--timeout S] [--no-echo]
    One long TCP connection to a --tcp-echo server: sends "seq <i>" every S
    seconds (default 0.1) for N rounds (default 50) and prints "ok <i>" on
    stdout for each answer. On the first answer that does not come within
    --timeout (default 1) seconds it prints "fail <i>" and exits 1; exits 2
    if it cannot connect; exits 0 after N answered rounds.
    --no-echo: for a --tcp-push server: send the lines, read and discard
    whatever comes, print "sent <i>"; exits 1 only if sending fails.

spoof udp [--iface DEV] --dmac MAC --dport P [--sport P] --packet PACKET...
spoof arp [--iface DEV] --dmac MAC --smac MAC --claim IP --target IP
    Send hand-made frames with scapy, bypassing the kernel's own choice of
    source address and MAC. udp: one datagram per --packet, written
    SRC,DST,SMAC,PAYLOAD (SMAC "-" for the interface's own; IPv4 or IPv6
    from SRC's form). arp: an ARP reply "CLAIM is at SMAC" sent to TARGET.
"""
import argparse
import selectors
import socket
import sys
import time

REPLY = b"podwall-probe\n"


def split_ports(s):
    return [int(p) for p in (s or "").split(",") if p]


def listen(kind, port):
    s = socket.socket(socket.AF_INET6,
                      socket.SOCK_STREAM if kind != "udp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    if kind != "udp":
        s.listen(64)
    s.setblocking(False)
    return s


def serve(args):
    sel = selectors.DefaultSelector()
    for kind, ports in (("tcp", args.tcp), ("echo", args.tcp_echo),
                        ("push", args.tcp_push), ("udp", args.udp)):
        for port in split_ports(ports):
            sel.register(listen(kind, port), selectors.EVENT_READ, kind)
    rec = open(args.record, "a", buffering=1) if args.record else None

    def record(peer, data):
        if rec:
            addr = peer[0]
            if addr.startswith("::ffff:"):
                addr = addr[7:]
            rec.write("%s %s\n" % (addr, data.decode("ascii",
                                                     "replace").strip()))

    bufs, pushed, peers = {}, [], {}
    deadline = time.monotonic() + args.seconds
    next_push = time.monotonic()
    while True:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            break
        if now >= next_push:
            next_push = now + 0.1
            for c in list(pushed):
                try:
                    c.send(b"push\n")
                except BlockingIOError:
                    pass  # peer not reading: keep the connection
                except OSError:
                    pushed.remove(c)
                    sel.unregister(c)
                    c.close()
        wait = min(left, 0.2, max(next_push - now, 0.001)) if pushed else \
            min(left, 0.2)
        for key, _ in sel.select(timeout=wait):
            s, kind = key.fileobj, key.data
            try:
                if kind == "tcp":
                    c, _ = s.accept()
                    c.settimeout(1)
                    try:
                        c.sendall(REPLY)
                    finally:
                        c.close()
                elif kind in ("echo", "push"):
                    c, peer = s.accept()
                    c.setblocking(False)
                    bufs[c] = b""
                    peers[c] = peer
                    sel.register(c, selectors.EVENT_READ, kind + "-conn")
                    if kind == "push":
                        pushed.append(c)
                elif kind in ("echo-conn", "push-conn"):
                    data = s.recv(4096)
                    if not data:
                        raise ConnectionError("closed")
                    bufs[s] += data
                    while b"\n" in bufs[s]:
                        line, bufs[s] = bufs[s].split(b"\n", 1)
                        if kind == "echo-conn":
                            s.sendall(line + b"\n")
                        else:
                            record(peers[s], line)
                else:
                    data, peer = s.recvfrom(4096)
                    record(peer, data)
                    s.sendto(data, peer)
            except OSError:
                if kind.endswith("-conn"):
                    sel.unregister(s)
                    bufs.pop(s, None)
                    peers.pop(s, None)
                    if s in pushed:
                        pushed.remove(s)
                    s.close()
    return 0


def family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def probe(args):
    try:
        if args.proto == "tcp":
            with socket.create_connection((args.ip, args.port),
                                          timeout=args.timeout) as s:
                # the echo server answers this line, the plain one ignores it
                s.sendall(REPLY)
                got = b""
                end = time.monotonic() + args.timeout
                while not got.endswith(b"\n") and time.monotonic() < end:
                    s.settimeout(max(end - time.monotonic(), 0.01))
                    data = s.recv(64)
                    if not data:
                        break
                    got += data
                return 0 if got.startswith(REPLY) else 1
        with socket.socket(family(args.ip), socket.SOCK_DGRAM) as s:
            s.settimeout(args.timeout)
            s.sendto(REPLY, (args.ip, args.port))
            data, _ = s.recvfrom(64)
            return 0 if data == REPLY else 1
    except OSError:
        return 1


def client(args):
    try:
        s = socket.create_connection((args.ip, args.port),
                                     timeout=args.timeout)
    except OSError as e:
        print("connect-failed %s" % e, flush=True)
        return 2
    with s:
        if args.no_echo:
            return client_no_echo(args, s)
        buf = b""
        for i in range(args.count):
            t0 = time.monotonic()
            line = b"seq %d\n" % i
            try:
                s.sendall(line)
                end = t0 + args.timeout
                while b"\n" not in buf:
                    left = end - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("no answer")
                    s.settimeout(left)
                    data = s.recv(4096)
                    if not data:
                        raise ConnectionError("closed by peer")
                    buf += data
                got, buf = buf.split(b"\n", 1)
                if got + b"\n" != line:
                    raise ValueError("answer %r" % got)
            except (OSError, ValueError) as e:
                print("fail %d %s" % (i, e), flush=True)
                return 1
            print("ok %d" % i, flush=True)
            time.sleep(max(0.0, args.interval - (time.monotonic() - t0)))
    return 0


def client_no_echo(args, s):
    s.setblocking(False)
    for i in range(args.count):
        t0 = time.monotonic()
        try:
            s.send(b"seq %d\n" % i)
        except BlockingIOError:
            pass  # nothing gets acknowledged: the send buffer is full
        except OSError as e:
            print("fail %d %s" % (i, e), flush=True)
            return 1
        try:
            while s.recv(4096):
                pass
        except BlockingIOError:
            pass
        except OSError:
            pass  # a reset peer shows at the next send
        print("sent %d" % i, flush=True)
        time.sleep(max(0.0, args.interval - (time.monotonic() - t0)))
    return 0


def spoof(args):
    from scapy.all import ARP, IP, UDP, Ether, IPv6, Raw, conf, sendp
    conf.verb = 0
    if args.proto == "arp":
        sendp(Ether(dst=args.dmac, src=args.smac) /
              ARP(op=2, hwsrc=args.smac, psrc=args.claim, hwdst=args.dmac,
                  pdst=args.target), iface=args.iface)
        return 0
    for spec in args.packets:
        src, dst, smac, payload = spec.split(",", 3)
        l3 = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
        eth = Ether(dst=args.dmac) if smac == "-" else \
            Ether(dst=args.dmac, src=smac)
        sendp(eth / l3 / UDP(sport=args.sport, dport=args.dport) /
              Raw(payload.encode()), iface=args.iface)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--tcp", default="")
    s.add_argument("--tcp-echo", default="")
    s.add_argument("--tcp-push", default="")
    s.add_argument("--udp", default="")
    s.add_argument("--record")
    s.add_argument("--seconds", type=float, default=30)
    p = sub.add_parser("probe")
    p.add_argument("proto", choices=["tcp", "udp"])
    p.add_argument("ip")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=1.0)
    c = sub.add_parser("client")
    c.add_argument("ip")
    c.add_argument("port", type=int)
    c.add_argument("--count", type=int, default=50)
    c.add_argument("--interval", type=float, default=0.1)
    c.add_argument("--timeout", type=float, default=1.0)
    c.add_argument("--no-echo", action="store_true")
    f = sub.add_parser("spoof")
    f.add_argument("proto", choices=["udp", "arp"])
    f.add_argument("--iface", default="eth0")
    f.add_argument("--dmac", required=True)
    f.add_argument("--smac")
    f.add_argument("--sport", type=int, default=40000)
    f.add_argument("--dport", type=int, default=9)
    f.add_argument("--claim")
    f.add_argument("--target")
    f.add_argument("--packet", dest="packets", action="append", default=[])
    args = ap.parse_args()
    return {"serve": serve, "probe": probe, "client": client,
            "spoof": spoof}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
