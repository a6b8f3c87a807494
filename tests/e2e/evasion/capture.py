#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Raw capture on one interface into a pcap file, bounded in time.

capture.py IFACE PCAP --ready FILE --stop FILE [--seconds N]

Every frame the interface receives (not what it sends) is written as it
arrives, with an 802.1Q/802.1ad tag the kernel moved into metadata put back
in place, so the file holds frames as they were on the wire. FILE --ready is
created once the socket is bound; the capture ends when --stop exists or
after N seconds (default 60). No scapy here: it starts in milliseconds.
"""
import argparse
import os
import socket
import struct
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("pcap")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    a = ap.parse_args()

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.iface, 0))
    s.settimeout(0.05)
    out = open(a.pcap, "wb")
    # pcap: microsecond timestamps, Ethernet
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    out.flush()
    open(a.ready, "w").close()
    end = time.monotonic() + a.seconds
    while time.monotonic() < end and not os.path.exists(a.stop):
        try:
            data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(32))
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        for level, kind, val in anc:
            if level != SOL_PACKET or kind != PACKET_AUXDATA:
                continue
            # tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci,
            # vlan_tpid
            st, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", val[:20])
            if st & TP_STATUS_VLAN_VALID:
                if not st & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        t = time.time()
        out.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6),
                              len(data), len(data)))
        out.write(data)
        out.flush()
    out.close()


if __name__ == "__main__":
    main()
