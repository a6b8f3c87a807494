#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Evasion attempts against podwall, for tests/e2e/test_evasion.sh.

evasion.py send ENV LOG [--phase N]
    Build every case's frames with scapy and send them, case after case,
    from the attacker's and the friend's eth0 (the process runs in the
    attacker's network namespace and opens the friend's socket through
    setns). LOG (JSON) gets, per case, its time window (CLOCK_REALTIME ns,
    which the agent's flow records use too) and, per frame, the key that
    finds it in a capture and what podwall must do with it.

evasion.py check ENV LOG PCAP [--flows FILE] [--ct FILE] [--baseline]
    Compare a victim-side capture with the log, and (not --baseline) the
    flow records and conntrack dump with what each case expects. Prints
    "PASS\\tNAME" or "FAIL\\tNAME\\tWHY" lines; details go to stderr.

ENV (JSON): {"pods": {ROLE: {"ip4", "ip6", "ll6", "mac", "ns"}}, "gw":
{"ip4", "ip6"}, "victim_ep": N, "rst_sport": P, "udp_sport4": P,
"udp_sport6": P, "udp_port": P}; ROLE is victim, attacker or friend.

Every frame goes to the victim (its MAC); only the victim's ingress policy
(TCP 80 from app=friend) and podwall's parsing decide what it receives. A
frame is found in the capture by its key: IPv4 id and fragment field or
IPv6 flow label (unique per datagram or frame), plus a "PWEV-phase-n" tag
in its payload where it has room for one; ARP by its fields.
"""
import argparse
import ctypes
import json
import os
import re
import socket
import struct
import sys
import time

TAG_RE = re.compile(rb"PWEV-\d+-\d+")
FAKE_MAC = "02:00:5e:00:53:99"


# ------------------------------------------------------------------ keys

def frame_key(b):
    """What identifies a frame on both sides, VLAN tags skipped."""
    m = TAG_RE.search(b)
    tag = m.group(0).decode() if m else None
    if len(b) < 14:
        return ["short", b.hex(), tag]
    et, off = struct.unpack("!H", b[12:14])[0], 14
    for _ in range(8):
        if et not in (0x8100, 0x88a8) or len(b) < off + 4:
            break
        et = struct.unpack("!H", b[off + 2:off + 4])[0]
        off += 4
    if et == 0x0800 and len(b) >= off + 8:
        ident, frag = struct.unpack("!HH", b[off + 4:off + 8])
        return ["4", ident, frag, tag]
    if et == 0x86dd and len(b) >= off + 4:
        return ["6", struct.unpack("!I", b[off:off + 4])[0] & 0xfffff, tag]
    if et == 0x0806:
        return ["arp", b[off:off + 28].hex()]
    return ["l2", et, tag]


# ----------------------------------------------------------------- cases

class Builder:
    """Frames of one phase: tags, IPv4 ids, flow labels and ports that no
    other frame of the phase shares."""

    def __init__(self, env, phase):
        self.env = env
        self.pods = env["pods"]
        self.phase = phase
        self.ntag = 0
        self.nid = 0
        self.nport = 0
        self.cases = []

    def tag(self, size=24):
        self.ntag += 1
        t = b"PWEV-%d-%d" % (self.phase, self.ntag)
        return t.ljust(size, b".")

    def ipid(self):
        self.nid += 1
        return (self.phase << 12) | self.nid

    def flow(self):
        self.nid += 1
        return (self.phase << 16) | self.nid

    def port(self):
        self.nport += 1
        return 40000 + self.phase * 1000 + self.nport

    def case(self, group, name, role, what, frames, **extra):
        """frames: [(scapy packet or bytes, expect)], expect "pass" or
        (reason, pod where it is dropped)."""
        out = []
        for pkt, exp in frames:
            b = bytes(pkt)
            f = {"bytes": b.hex(), "key": frame_key(b)}
            if exp == "pass":
                f["expect"] = "pass"
            else:
                f["expect"] = "drop"
                f["reason"], f["at"] = exp
            out.append(f)
        c = {"name": "%s/%s" % (group, name), "role": role, "what": what,
             "frames": out}
        c.update(extra)
        self.cases.append(c)


def build(env, phase, podwall_phase):
    from scapy.layers.inet import IP, TCP, UDP, ICMP, IPerror, UDPerror
    from scapy.layers.inet6 import (IPv6, ICMPv6DestUnreach, IPerror6,
                                    ICMPv6EchoRequest, ICMPv6EchoReply,
                                    ICMPv6ND_RA, ICMPv6ND_NA,
                                    ICMPv6ND_Redirect)
    from scapy.layers.l2 import Ether, Dot1Q, ARP, GRE
    from scapy.packet import Raw

    B = Builder(env, phase)
    P = B.pods
    V = P["victim"]
    A, F = "attacker", "friend"

    def eth(role, smac=None, dmac=None, **kw):
        return Ether(src=smac or P[role]["mac"], dst=dmac or V["mac"], **kw)

    def raw4(role, payload, opts=b"", ihl=None, tot=None, proto=6):
        """An IPv4 header written byte by byte (IHL, total length and
        options as given, checksum right), then @payload."""
        hl = 20 + len(opts)
        h = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl or hl // 4), 0,
                        tot if tot is not None else hl + len(payload),
                        B.ipid(), 0, 64, proto, 0,
                        socket.inet_aton(P[role]["ip4"]),
                        socket.inet_aton(V["ip4"])) + opts
        s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        h = h[:10] + struct.pack("!H", ~s & 0xffff) + h[12:]
        return eth(role, type=0x0800) / Raw(h + payload)

    def ip4(role, src=None, **kw):
        kw.setdefault("id", B.ipid())
        return IP(src=src or P[role]["ip4"], dst=V["ip4"], **kw)

    def ip6(role, src=None, **kw):
        return IPv6(src=src or P[role]["ip6"], dst=V["ip6"], fl=B.flow(),
                    **kw)

    def tcp4(role, dport, flags="S", payload=None, sport=None, **kw):
        """TCP segment bytes with a correct IPv4 checksum."""
        if payload is None:
            payload = B.tag()
        seg = TCP(sport=sport or B.port(), dport=dport, flags=flags,
                  seq=1000, **kw) / Raw(payload)
        return bytes(IP(src=P[role]["ip4"], dst=V["ip4"]) / seg)[20:]

    def tcp6(role, dport, flags="S", payload=None, sport=None):
        if payload is None:
            payload = B.tag()
        seg = TCP(sport=sport or B.port(), dport=dport, flags=flags,
                  seq=1000) / Raw(payload)
        return bytes(IPv6(src=P[role]["ip6"], dst=V["ip6"]) / seg)[40:]

    def syn4(role, dport, **kw):
        return eth(role) / ip4(role, proto=6) / Raw(tcp4(role, dport, **kw))

    def ext(nh, hdrlen, size=8):
        """An IPv6 option header (hop-by-hop, destination options) of
        @size bytes whose length field says @hdrlen, padded with PadN."""
        body = bytes([nh, hdrlen])
        pad = size - 2
        return body + (bytes([1, pad - 2]) + bytes(pad - 2) if pad >= 2
                       else bytes(pad))

    def routing(nh):
        # type 253 (RFC 4727 experiment), segments left 0
        return bytes([nh, 0, 253, 0, 0, 0, 0, 0])

    def frag6(nh, off, more, ident):
        return struct.pack("!BBHI", nh, 0, off | (1 if more else 0), ident)

    def two_frags4(role, dport, split=40, flags="S"):
        """A TCP segment to @dport in an IPv4 datagram cut at @split: the
        first fragment holds the TCP header and a tag, the second a tag."""
        ident = B.ipid()
        l4 = tcp4(role, dport, flags=flags,
                  payload=B.tag(split - 20) + B.tag(16))
        first = (eth(role) / ip4(role, id=ident, flags="MF", proto=6) /
                 Raw(l4[:split]))
        later = (eth(role) / ip4(role, id=ident, frag=split // 8, proto=6) /
                 Raw(l4[split:]))
        return ident, l4, first, later

    def two_frags6(role, dport, split=40):
        ident = B.ipid()
        l4 = tcp6(role, dport, payload=B.tag(split - 20) + B.tag(16))
        first = (eth(role) / ip6(role, nh=44) /
                 Raw(frag6(6, 0, True, ident) + l4[:split]))
        later = (eth(role) / ip6(role, nh=44) /
                 Raw(frag6(6, split, False, ident) + l4[split:]))
        return ident, l4, first, later

    DROP = lambda reason, at: (reason, at)  # noqa: E731
    at_v = "victim"

    # ---------------------------------------------------------- IPv4
    for role in (A, F):
        ident = B.ipid()
        l4 = tcp4(role, 80)
        B.case("ipv4", "tiny-first-fragment" + ("-from-friend" if role == F
                                                else ""), role,
               "first fragment with 8 bytes of TCP (ports only), flags and "
               "the rest in the second fragment",
               [(eth(role) / ip4(role, id=ident, flags="MF", proto=6) /
                 Raw(l4[:8]), DROP("frag-too-small", role)),
                (eth(role) / ip4(role, id=ident, frag=1, proto=6) /
                 Raw(l4[8:]), DROP("frag-no-first", role))])

    _, _, first, later = two_frags4(F, 80)
    B.case("ipv4", "fragments-allowed", F,
           "an allowed SYN in two proper fragments (control)",
           [(first, "pass"), (later, "pass")])
    _, _, first, later = two_frags4(A, 80)
    B.case("ipv4", "fragments-denied", A,
           "a denied SYN in two proper fragments",
           [(first, DROP("policy-denied", at_v)),
            (later, DROP("frag-denied", at_v))])

    for role in (F, A):
        ident, l4, first, later = two_frags4(role, 80)
        # offset 8: acknowledgement, data offset and flags (FIN|SYN|RST)
        over = (eth(role) / ip4(role, id=ident, frag=1, proto=6) /
                Raw(l4[8:12] + bytes([0x50, 0x07]) + l4[14:40] + B.tag(16)))
        B.case("ipv4", "overlap-rewrites-header" +
               ("-from-friend" if role == F else ""), role,
               "a fragment at offset 8 rewrites the TCP header of the first",
               [(first, "pass" if role == F else
                 DROP("policy-denied", at_v)),
                (over, DROP("frag-overlap", role))])

    ident, l4, first, later = two_frags4(F, 80)
    dup = (eth(F) / ip4(F, id=ident, flags="MF", proto=6) /
           Raw(tcp4(F, 22, sport=struct.unpack("!H", l4[:2])[0],
                    payload=B.tag(20))))
    B.case("ipv4", "overlap-rewrites-ports", F,
           "a second offset-0 fragment of the datagram carries port 22",
           [(first, "pass"), (dup, DROP("policy-denied", at_v)),
            (later, DROP("frag-denied", at_v))])

    for role in (A, F):
        l4 = tcp4(role, 80)
        B.case("ipv4", "later-fragment-alone" +
               ("-from-friend" if role == F else ""), role,
               "a non-first fragment whose bytes are a SYN to port 80",
               [(eth(role) / ip4(role, frag=3, proto=6) / Raw(l4),
                 DROP("frag-no-first", role))])
    ident, l4, first, later = two_frags4(F, 80)
    B.case("ipv4", "later-fragment-first", F,
           "the second fragment of an allowed SYN sent before the first",
           [(later, DROP("frag-no-first", F)), (first, "pass")])

    # options whose bytes, read as TCP at byte 20, say ports 1 -> 80
    looks80 = b"\x00\x01\x00\x50"
    B.case("ipv4", "options", A, "IHL 6; the options look like port 80",
           [(raw4(A, tcp4(A, 22), opts=looks80), DROP("policy-denied", at_v)),
            (raw4(A, tcp4(A, 80), opts=looks80),
             DROP("policy-denied", at_v))])
    B.case("ipv4", "options-from-friend", F,
           "options that look like port 80 before port 22; an option whose "
           "length byte says 255 before port 80",
           [(raw4(F, tcp4(F, 22), opts=looks80), DROP("policy-denied", at_v)),
            (raw4(F, tcp4(F, 80), opts=b"\x44\xff\x05\x00"), "pass")])

    B.case("ipv4", "ihl-below-5", A, "IHL 4 and IHL 1",
           [(raw4(A, tcp4(A, 80), ihl=4), DROP("bad-ipv4", A)),
            (raw4(A, tcp4(A, 80), ihl=1), DROP("bad-ipv4", A))])
    B.case("ipv4", "ihl-past-end", A,
           "IHL 15 (60 bytes) in a 40-byte datagram; IHL 15 and total "
           "length 60 in a 36-byte frame",
           [(raw4(A, tcp4(A, 80, payload=b""), ihl=15), DROP("bad-ipv4", A)),
            (raw4(A, tcp4(A, 80)[:16], ihl=15, tot=60),
             DROP("bad-ipv4", A))])
    B.case("ipv4", "total-length", A,
           "total length past the frame, below the header, inside the "
           "TCP header",
           [(raw4(A, tcp4(A, 80), tot=1000), DROP("bad-ipv4", A)),
            (raw4(A, tcp4(A, 80), tot=16), DROP("bad-ipv4", A)),
            (raw4(A, tcp4(A, 80), tot=30), DROP("bad-l4", A))])

    # ---------------------------------------------------------- IPv6
    def chain6(role, dport, headers):
        """IPv6 with @headers ([(nh, bytes-builder)]) before TCP."""
        nh_first = headers[0][0] if headers else 6
        raw = b""
        for i, (_, mk) in enumerate(headers):
            nxt = headers[i + 1][0] if i + 1 < len(headers) else 6
            raw += mk(nxt)
        return (eth(role) / ip6(role, nh=nh_first) /
                Raw(raw + tcp6(role, dport)))

    std = [(0, lambda n: ext(n, 0)), (43, routing), (60, lambda n: ext(n, 0))]
    B.case("ipv6", "ext-header-chain", A,
           "hop-by-hop, routing, destination options before TCP",
           [(chain6(A, 80, std), DROP("policy-denied", at_v))])
    B.case("ipv6", "ext-header-chain-from-friend", F,
           "the same chain before port 80 and before port 22",
           [(chain6(F, 80, std), "pass"),
            (chain6(F, 22, std), DROP("policy-denied", at_v))])
    long_chain = [(0, lambda n: ext(n, 0))] + [(60, lambda n: ext(n, 0))] * 8
    for role in (A, F):
        B.case("ipv6", "ext-header-chain-too-long" +
               ("-from-friend" if role == F else ""), role,
               "9 extension headers before TCP to port 80",
               [(chain6(role, 80, long_chain), DROP("exthdr-chain", role))])
    for role in (A, F):
        B.case("ipv6", "huge-header-length" +
               ("-from-friend" if role == F else ""), role,
               "destination options and hop-by-hop headers whose length "
               "field says 2 KiB in an 8-byte header",
               [(chain6(role, 80, [(60, lambda n: ext(n, 255))]),
                 DROP("bad-ipv6", role)),
                (chain6(role, 80, [(0, lambda n: ext(n, 255))]),
                 DROP("bad-ipv6", role))])
    for role in (A, F):
        B.case("ipv6", "unknown-next-header" +
               ("-from-friend" if role == F else ""), role,
               "next header 253, then bytes that are a SYN to port 80",
               [(eth(role) / ip6(role, nh=253) / Raw(tcp6(role, 80)),
                 DROP("policy-denied", at_v))])

    _, _, first, later = two_frags6(F, 80)
    B.case("ipv6", "fragments-in-order", F,
           "an allowed SYN in two fragments (control)",
           [(first, "pass"), (later, "pass")])
    _, _, first, later = two_frags6(A, 80)
    B.case("ipv6", "fragments-in-order-denied", A,
           "a denied SYN in two fragments",
           [(first, DROP("policy-denied", at_v)),
            (later, DROP("frag-denied", at_v))])
    for role in (F, A):
        _, _, first, later = two_frags6(role, 80)
        B.case("ipv6", "fragments-reversed" +
               ("-from-friend" if role == F else ""), role,
               "the second fragment sent before the first",
               [(later, DROP("frag-no-first", role)),
                (first, "pass" if role == F else
                 DROP("policy-denied", at_v))])
    for role in (F, A):
        ident, l4, first, later = two_frags6(role, 80)
        over = (eth(role) / ip6(role, nh=44) /
                Raw(frag6(6, 8, False, ident) + l4[8:12] +
                    bytes([0x50, 0x07]) + l4[14:40] + B.tag(16)))
        B.case("ipv6", "fragments-overlapping" +
               ("-from-friend" if role == F else ""), role,
               "a fragment at offset 8 rewrites the TCP header of the first",
               [(first, "pass" if role == F else
                 DROP("policy-denied", at_v)),
                (over, DROP("frag-overlap", role))])
    for role in (F, A):
        B.case("ipv6", "atomic-fragment" +
               ("-from-friend" if role == F else ""), role,
               "a SYN to port 80 in an atomic fragment (offset 0, no M)",
               [(eth(role) / ip6(role, nh=44) /
                 Raw(frag6(6, 0, False, B.ipid()) + tcp6(role, 80)),
                 "pass" if role == F else DROP("policy-denied", at_v))])
    for role in (A, F):
        ident = B.ipid()
        l4 = tcp6(role, 80)
        ident2 = B.ipid()
        B.case("ipv6", "split-header-chain" +
               ("-from-friend" if role == F else ""), role,
               "RFC 7112: the first fragment ends after a destination "
               "options header, TCP in the second; a first fragment that "
               "cuts its options header",
               [(eth(role) / ip6(role, nh=44) /
                 Raw(frag6(60, 0, True, ident) + ext(6, 0)),
                 DROP("frag-too-small", role)),
                (eth(role) / ip6(role, nh=44) /
                 Raw(frag6(60, 8, False, ident) + l4),
                 DROP("frag-no-first", role)),
                (eth(role) / ip6(role, nh=44) /
                 Raw(frag6(60, 0, True, ident2) + ext(6, 2)),
                 DROP("frag-too-small", role))])

    # ---------------------------------------------------- TCP and UDP
    B.case("tcp", "data-offset-below-5", A, "data offset 4 and 0",
           [(eth(A) / ip4(A, proto=6) / Raw(tcp4(A, 80, dataofs=4)),
             DROP("bad-l4", A)),
            (eth(A) / ip4(A, proto=6) / Raw(tcp4(A, 80, dataofs=0)),
             DROP("bad-l4", A))])
    for role in (A, F):
        B.case("tcp", "data-offset-past-end" +
               ("-from-friend" if role == F else ""), role,
               "data offset 15 in a 20-byte header",
               [(eth(role) / ip4(role, proto=6) /
                 Raw(tcp4(role, 80, dataofs=15, payload=b"")),
                 DROP("bad-l4", role))])
    for name, flags in (("syn-fin", "SF"), ("null", ""), ("xmas", "FPU")):
        for role in (A, F):
            B.case("tcp", name + ("-from-friend" if role == F else ""),
                   role, "flags %r to port 80" % (flags or "none"),
                   [(syn4(role, 80, flags=flags),
                     DROP("bad-tcp-flags", role))])
    nostate = []
    frames = []
    for role, flags in ((A, "A"), (A, "PA"), (F, "A")):
        sport = B.port()
        nostate.append([P[role]["ip4"], 80, sport])
        frames.append((syn4(role, 80, flags=flags, sport=sport),
                       DROP("out-of-state", at_v)))
    B.case("tcp", "ack-without-syn", A,
           "ACK and ACK+PSH with data to port 80 with no flow, from the "
           "attacker and from the allowed friend", frames[:2],
           no_state=nostate[:2])
    B.case("tcp", "ack-without-syn-from-friend", F,
           "ACK to the allowed port 80 with no flow", frames[2:],
           no_state=nostate[2:])
    rst = env["rst_sport"]
    B.case("tcp", "rst-injection", A,
           "RST into the friend's live connection to port 80: with the "
           "friend's address, then with the attacker's own",
           [(eth(A) / ip4(A, src=P[F]["ip4"], proto=6) /
             Raw(tcp4(A, 80, flags="R", sport=rst, payload=b"")),
             DROP("spoofed-ip", A)),
            (eth(A) / ip4(A, src=P[F]["ip4"], proto=6) /
             Raw(tcp4(A, 80, flags="RA", sport=rst, payload=b"")),
             DROP("spoofed-ip", A)),
            (syn4(A, 80, flags="R", sport=rst, payload=b""),
             DROP("out-of-state", at_v))])

    def udp4(role, dport, ulen):
        seg = UDP(sport=B.port(), dport=dport, len=ulen) / Raw(B.tag(16))
        return eth(role) / ip4(role) / seg

    B.case("udp", "length-lies", A,
           "UDP length 255 and 4 in a 24-byte datagram, IPv4 and IPv6",
           [(udp4(A, 53, 255), DROP("bad-l4", A)),
            (udp4(A, 53, 4), DROP("bad-l4", A)),
            (eth(A) / ip6(A) / UDP(sport=B.port(), dport=53, len=255) /
             Raw(B.tag(16)), DROP("bad-l4", A))])

    # ----------------------------------------------------------- ICMP
    a4, a6 = P[A]["ip4"], P[A]["ip6"]
    v4, v6 = V["ip4"], V["ip6"]
    up = env["udp_port"]
    B.case("icmp", "error-related", A,
           "port unreachable about the victim's live UDP flow to the "
           "attacker (IPv4 and IPv6): passes as related",
           [(eth(A) / ip4(A) / ICMP(type=3, code=3) /
             IPerror(src=v4, dst=a4) /
             UDPerror(sport=env["udp_sport4"], dport=up) / Raw(B.tag()),
             "pass"),
            (eth(A) / ip6(A) / ICMPv6DestUnreach(code=4) /
             IPerror6(src=v6, dst=a6) /
             UDPerror(sport=env["udp_sport6"], dport=up) / Raw(B.tag()),
             "pass")])
    B.case("icmp", "error-unrelated", A,
           "errors about no flow: another port, a third pod's packet, "
           "IPv6",
           [(eth(A) / ip4(A) / ICMP(type=3, code=3) /
             IPerror(src=v4, dst=a4) /
             UDPerror(sport=env["udp_sport4"], dport=up + 1) / Raw(B.tag()),
             DROP("icmp-unrelated", A)),
            (eth(A) / ip4(A) / ICMP(type=3, code=1) /
             IPerror(src=v4, dst=P[F]["ip4"]) /
             UDPerror(sport=env["udp_sport4"], dport=up) / Raw(B.tag()),
             DROP("icmp-unrelated", A)),
            (eth(A) / ip6(A) / ICMPv6DestUnreach(code=4) /
             IPerror6(src=v6, dst=a6) /
             UDPerror(sport=env["udp_sport6"], dport=up + 1) /
             Raw(B.tag()), DROP("icmp-unrelated", A))])
    sp = B.port()
    B.case("icmp", "error-about-denied-flow", A,
           "a UDP datagram the victim's policy denies, then an error "
           "about it as if the victim had sent it: the attacker has that "
           "flow, the victim does not",
           [(eth(A) / ip4(A) / UDP(sport=sp, dport=9999) / Raw(B.tag()),
             DROP("policy-denied", at_v)),
            (eth(A) / ip4(A) / ICMP(type=3, code=3) /
             IPerror(src=v4, dst=a4) / UDPerror(sport=9999, dport=sp) /
             Raw(B.tag()), DROP("icmp-unrelated", at_v))])
    B.case("icmp", "echo-to-egress-only-pod", A,
           "echo requests and unsolicited echo replies to a pod that may "
           "only send (IPv4 and IPv6)",
           [(eth(A) / ip4(A) / ICMP(type=8, id=0x77) / Raw(B.tag()),
             DROP("policy-denied", at_v)),
            (eth(A) / ip4(A) / ICMP(type=0, id=0x4242) / Raw(B.tag()),
             DROP("out-of-state", at_v)),
            (eth(A) / ip6(A) / ICMPv6EchoRequest(id=0x77) / Raw(B.tag()),
             DROP("policy-denied", at_v)),
            (eth(A) / ip6(A) / ICMPv6EchoReply(id=0x4242) / Raw(B.tag()),
             DROP("out-of-state", at_v))])

    # --------------------------------------------- link layer, spoofing
    def tagged(role, tpids, dport):
        e = eth(role)
        e.type = tpids[0]
        pkt = e
        for i, tp in enumerate(tpids):
            nxt = tpids[i + 1] if i + 1 < len(tpids) else 0x0800
            pkt = pkt / Dot1Q(vlan=100 + i, type=nxt)
        return pkt / ip4(role, proto=6) / Raw(tcp4(role, dport))

    for name, tpids in (("8021q", [0x8100]), ("qinq", [0x88a8, 0x8100])):
        B.case("l2", name, A, "tags %s around a SYN to port 80" %
               "+".join("%04x" % t for t in tpids),
               [(tagged(A, tpids, 80), DROP("policy-denied", at_v))])
        B.case("l2", name + "-from-friend", F,
               "the same around the allowed port 80 (control)",
               [(tagged(F, tpids, 80), "pass")])
    for role in (A, F):
        B.case("l2", "triple-tag" + ("-from-friend" if role == F else ""),
               role, "three tags around a SYN to port 80",
               [(tagged(role, [0x88a8, 0x8100, 0x8100], 80),
                 DROP("bad-l2", role))])
    for role in (A, F):
        inner_src = P[F]["ip4"]
        B.case("encap", "ipip" + ("-from-friend" if role == F else ""),
               role, "IP-in-IP (protocol 4) holding a SYN to port 80 from "
               "the friend's address",
               [(eth(role) / ip4(role, proto=4) /
                 IP(src=inner_src, dst=v4, id=B.ipid(), proto=6) /
                 Raw(tcp4(F, 80)), DROP("policy-denied", at_v))])
        B.case("encap", "gre" + ("-from-friend" if role == F else ""), role,
               "GRE holding a SYN to port 80",
               [(eth(role) / ip4(role) / GRE(proto=0x0800) /
                 IP(src=inner_src, dst=v4, id=B.ipid(), proto=6) /
                 Raw(tcp4(F, 80)), DROP("policy-denied", at_v))])
    B.case("encap", "ip6ip6", A, "IPv6-in-IPv6 holding a SYN to port 80",
           [(eth(A) / ip6(A, nh=41) /
             IPv6(src=P[F]["ip6"], dst=v6, nh=6) / Raw(tcp6(F, 80)),
             DROP("policy-denied", at_v))])

    B.case("spoof", "source-ip", A,
           "SYNs to port 80 from the friend's address (IPv4, IPv6), a "
           "foreign address and the victim's own",
           [(eth(A) / ip4(A, src=P[F]["ip4"], proto=6) / Raw(tcp4(A, 80)),
             DROP("spoofed-ip", A)),
            (eth(A) / ip6(A, src=P[F]["ip6"], nh=6) / Raw(tcp6(A, 80)),
             DROP("spoofed-ip", A)),
            (eth(A) / ip4(A, src="192.0.2.7", proto=6) / Raw(tcp4(A, 80)),
             DROP("spoofed-ip", A)),
            (eth(A) / ip4(A, src=v4, proto=6) / Raw(tcp4(A, 80)),
             DROP("spoofed-ip", A))])
    mac_frames = [(eth(A, smac=FAKE_MAC) / ip4(A, proto=6) / Raw(tcp4(A, 80)),
                   DROP("spoofed-mac", A))]
    if podwall_phase:
        # the friend's MAC and address: without podwall the bridge would
        # learn the friend's MAC on the attacker's port (not in the
        # baseline, which must not break the friend's traffic)
        mac_frames.append((eth(A, smac=P[F]["mac"]) /
                           ip4(A, src=P[F]["ip4"], proto=6) / Raw(tcp4(A, 80)),
                           DROP("spoofed-mac", A)))
    B.case("spoof", "source-mac", A,
           "a SYN to port 80 from a foreign MAC; from the friend's MAC "
           "and address", mac_frames)

    def arp(hwsrc, psrc, hwdst=None, dmac=None):
        return (eth(A, dmac=dmac) /
                ARP(op=2, hwsrc=hwsrc, psrc=psrc, hwdst=hwdst or V["mac"],
                    pdst=v4))

    marker_mac = "02:5e:00:00:%02x:%02x" % (phase, 1)
    B.case("spoof", "arp-claims", A,
           "ARP replies claiming the friend's and the gateway's address "
           "(unicast and broadcast), one with the friend's MAC as sender; "
           "the attacker's claim of its own address (control)",
           [(arp(P[A]["mac"], P[F]["ip4"]), DROP("spoofed-ip", A)),
            (arp(P[A]["mac"], env["gw"]["ip4"]), DROP("spoofed-ip", A)),
            (arp(P[A]["mac"], env["gw"]["ip4"], hwdst="ff:ff:ff:ff:ff:ff",
                 dmac="ff:ff:ff:ff:ff:ff"), DROP("spoofed-ip", A)),
            (arp(P[F]["mac"], P[F]["ip4"], hwdst=marker_mac),
             DROP("spoofed-mac", A)),
            (arp(P[A]["mac"], a4, hwdst=marker_mac), "pass")])
    ll = P[A]["ll6"]
    B.case("spoof", "ipv6-router-advertisement", A,
           "router advertisements (link-local and global source) and a "
           "redirect; the attacker's neighbour advertisement for itself "
           "(control)",
           [(eth(A) / IPv6(src=ll, dst="ff02::1", hlim=255, fl=B.flow()) /
             ICMPv6ND_RA(routerlifetime=1800), DROP("nd-from-pod", A)),
            (eth(A) / IPv6(src=a6, dst="ff02::1", hlim=255, fl=B.flow()) /
             ICMPv6ND_RA(routerlifetime=1800), DROP("nd-from-pod", A)),
            (eth(A) / IPv6(src=ll, dst=V["ll6"], hlim=255, fl=B.flow()) /
             ICMPv6ND_Redirect(tgt=ll, dst=P[F]["ip6"]),
             DROP("nd-from-pod", A)),
            (eth(A) / IPv6(src=ll, dst=V["ll6"], hlim=255, fl=B.flow()) /
             ICMPv6ND_NA(tgt=ll, R=0, S=0, O=1), "pass")])
    # the IPv6 twin of a forged ARP reply: an advertisement for another
    # pod's link-local address would move the victim's neighbour entry
    B.case("spoof", "ipv6-na-claims-link-local", A,
           "neighbour advertisements for the friend's link-local address, "
           "from the attacker's link-local and from the friend's",
           [(eth(A) / IPv6(src=ll, dst=V["ll6"], hlim=255, fl=B.flow()) /
             ICMPv6ND_NA(tgt=P[F]["ll6"], R=0, S=0, O=1),
             DROP("spoofed-ip", A)),
            (eth(A) / IPv6(src=P[F]["ll6"], dst="ff02::1", hlim=255,
                           fl=B.flow()) /
             ICMPv6ND_NA(tgt=P[F]["ll6"], R=0, S=0, O=1),
             DROP("spoofed-ip", A))])
    return B.cases


# ------------------------------------------------------------------ send

def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def raw_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    return s


def cmd_send(a):
    env = json.load(open(a.env))
    cases = build(env, a.phase, not a.baseline)
    keys = {}
    for c in cases:
        for f in c["frames"]:
            k = json.dumps(f["key"])
            if k in keys:
                sys.exit("frame key %s used by %s and %s" %
                         (k, keys[k], c["name"]))
            keys[k] = c["name"]
    # the process runs in the attacker's namespace; the friend's socket
    # is opened in the friend's
    socks = {"attacker": raw_socket("eth0")}
    setns("/run/netns/" + env["pods"]["friend"]["ns"])
    socks["friend"] = raw_socket("eth0")
    for c in cases:
        c["t0"] = time.time_ns()
        for f in c["frames"]:
            socks[c["role"]].send(bytes.fromhex(f["bytes"]))
            time.sleep(0.002)
        # what the frames set off in the datapath is done by then
        time.sleep(0.03)
        c["t1"] = time.time_ns()
        for f in c["frames"]:
            del f["bytes"]
    json.dump({"phase": a.phase, "cases": cases}, open(a.log, "w"),
              indent=1)


# ----------------------------------------------------------------- check

def read_pcap(path):
    out = []
    with open(path, "rb") as f:
        data = f.read()
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        out.append(data[off:off + incl])
        off += incl
    return out


def rfc3339_ns(s):
    # 2024-01-02T03:04:05.123456789Z
    import calendar
    date, frac = s.rstrip("Z").split(".")
    sec = calendar.timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S"))
    return sec * 1000000000 + int(frac.ljust(9, "0")[:9])


def cmd_check(a):
    env = json.load(open(a.env))
    log = json.load(open(a.log))
    got = {}
    for b in read_pcap(a.pcap):
        got.setdefault(json.dumps(frame_key(b)), 0)
        got[json.dumps(frame_key(b))] += 1
    results = []

    def res(name, ok, why=""):
        results.append((name, ok, why))

    if a.baseline:
        missing = []
        for c in log["cases"]:
            for i, f in enumerate(c["frames"]):
                if json.dumps(f["key"]) not in got:
                    missing.append("%s[%d]" % (c["name"], i))
        res("baseline/every-frame-arrives-without-podwall", not missing,
            "%d of %d frames missing: %s" %
            (len(missing), sum(len(c["frames"]) for c in log["cases"]),
             " ".join(missing)))
        for name, ok, why in results:
            print("PASS\t%s" % name if ok else "FAIL\t%s\t%s" % (name, why))
        return

    events = []
    for line in open(a.flows):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            print("# bad flow line: " + line, file=sys.stderr)
            continue
        if ev.get("type") in ("new", "drop", "end"):
            ev["t"] = rfc3339_ns(ev["time"])
            events.append(ev)
    ct = []
    if a.ct:
        for line in open(a.ct):
            if line.startswith("{"):
                ct.append(json.loads(line))

    for c in log["cases"]:
        name = c["name"]
        bad = []
        for i, f in enumerate(c["frames"]):
            n = got.get(json.dumps(f["key"]), 0)
            if f["expect"] == "pass" and not n:
                bad.append("frame %d (allowed) did not arrive" % i)
            if f["expect"] == "drop" and n:
                bad.append("frame %d arrived (%s expected at %s)" %
                           (i, f["reason"], f["at"]))
        res(name, not bad, "; ".join(bad))

        # the drops of this case: in its window, at the sender's egress or
        # the victim's ingress (a drop anywhere else is not about it)
        win = [e for e in events if c["t0"] <= e["t"] <= c["t1"]]
        where = {("ev/" + c["role"], "egress"), ("ev/victim", "ingress")}
        seen = {(e.get("reason"), e["observed_at"]) for e in win
                if e["type"] == "drop" and e["verdict"] == "denied"
                and (e["observed_at"], e["direction"]) in where}
        want = {(f["reason"], "ev/" + f["at"]) for f in c["frames"]
                if f["expect"] == "drop"}
        bad = []
        for r, at in sorted(want - seen):
            bad.append("no %s drop at %s" % (r, at))
        for r, at in sorted(seen - want):
            bad.append("unexpected %s drop at %s" % (r, at))
        if c["role"] == "attacker":
            for e in win:
                if e["type"] == "new" and e["observed_at"] == "ev/victim":
                    bad.append("a new flow at the victim: %s" %
                               json.dumps(e))
        res(name + "/logged", not bad, "; ".join(bad))
        if bad:
            print("# %s: events in its window:" % name, file=sys.stderr)
            for e in win:
                print("#   " + json.dumps(e), file=sys.stderr)

        if "no_state" in c:
            vict = [x for x in ct if x["ep_id"] == env["victim_ep"]]
            left = [x for x in vict if [x["remote"], x["lport"],
                                        x["rport"]] in c["no_state"]]
            # the dump must hold the victim's flows at all (the friend's
            # live connection), or finding none of these proves nothing
            live = [x for x in vict if x["lport"] == 80 and
                    x["rport"] == env["rst_sport"]]
            res(name + "/no-state", bool(live) and not left,
                "conntrack entries at the victim: %s; the friend's live "
                "flow %sfound" % (json.dumps(left), "" if live else "not "))

    # every drop reason counted by the node counters, at least as often
    # as frames expected it
    if a.counters:
        before, after = (json.load(open(p)) for p in a.counters)

        def dropped(st, r):
            return st.get("counters", {}).get("dropped", {}).get(r, 0)
        need = {}
        for c in log["cases"]:
            for f in c["frames"]:
                if f["expect"] == "drop":
                    need[f["reason"]] = need.get(f["reason"], 0) + 1
        for r in sorted(need):
            d = dropped(after, r) - dropped(before, r)
            res("counted/" + r, d >= need[r],
                "node counter went up by %d, %d frames expected it" %
                (d, need[r]))

    for name, ok, why in results:
        print("PASS\t%s" % name if ok else "FAIL\t%s\t%s" % (name, why))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("env")
    s.add_argument("log")
    s.add_argument("--phase", type=int, default=1)
    s.add_argument("--baseline", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("env")
    c.add_argument("log")
    c.add_argument("pcap")
    c.add_argument("--flows")
    c.add_argument("--ct")
    c.add_argument("--counters", nargs=2, metavar=("BEFORE", "AFTER"))
    c.add_argument("--baseline", action="store_true")
    a = ap.parse_args()
    if a.cmd == "send":
        cmd_send(a)
    else:
        cmd_check(a)


if __name__ == "__main__":
    main()
