#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The same N rules for every firewall of bench_traffic.sh.

usage: rules.py N DIR TX RX

N - 1 decoy rules, each a distinct source address 10.200.i/32 (i counted
from 10.200.0.1) to RX on a distinct TCP port 10000 + i, then the rule for
the benchmark flows, from TX to RX on UDP 9000, TCP 5201 (iperf3) and TCP
9001 (connection rate), last. Writes into DIR:
  podwall.json       Namespace, the two Pods, NetworkPolicies on RX with
                     the N ingress rules (the benchmark rule last), at
                     most 1000 rules per policy (podwall takes at most
                     2048 per policy and direction)
  iptables-ct.rules  iptables-restore: FORWARD policy DROP, conntrack
                     ESTABLISHED,RELATED accept first (as Docker does),
                     then the N rules
  iptables-nocd.rules  the same without the conntrack shortcut: every
                     packet walks the list (replies have a last rule)
  nft.rules          one rule with an N-element concatenated set
                     (saddr . daddr . proto . dport), as
                     kube-network-policies keeps its sets, after
                     ct state established,related accept
  xdp-filter.batch   bpftool batch: N source addresses in xdp-filter's
                     deny-list map (xdp-filter has no allow-list that
                     can say "this source AND that port"; the benchmark
                     flow passes as unmatched)
"""
import ipaddress
import json
import os
import sys

n, d, tx, rx = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if n < 1 or n > 50000:
    sys.exit("rules.py: N must be 1..50000")
os.makedirs(d, exist_ok=True)
base = int(ipaddress.IPv4Address("10.200.0.1"))
decoys = [(str(ipaddress.IPv4Address(base + i)), 10000 + i)
          for i in range(n - 1)]
BENCH = [("udp", 9000), ("tcp", 5201), ("tcp", 9001)]


def pod(name, ip, app):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "bench",
                         "labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": "none"}]},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


rules = [{"from": [{"ipBlock": {"cidr": a + "/32"}}],
          "ports": [{"protocol": "TCP", "port": p}]} for a, p in decoys]
rules.append({"from": [{"podSelector": {"matchLabels": {"app": "tx"}}}],
              "ports": [{"protocol": pr.upper(), "port": p}
                        for pr, p in BENCH]})
PER = 1000
items = [{"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "bench"}},
         pod("tx", tx, "tx"), pod("rx", rx, "rx")]
for k in range(0, len(rules), PER):
    items.append(
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "rx-ingress-%d" % (k // PER),
                      "namespace": "bench"},
         "spec": {"podSelector": {"matchLabels": {"app": "rx"}},
                  "policyTypes": ["Ingress"],
                  "ingress": rules[k:k + PER]}})
doc = {"apiVersion": "v1", "kind": "List", "items": items}
with open(os.path.join(d, "podwall.json"), "w") as f:
    json.dump(doc, f)


def ipt(ct):
    out = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]",
           ":OUTPUT ACCEPT [0:0]"]
    if ct:
        out.append("-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED "
                   "-j ACCEPT")
    out += ["-A FORWARD -s %s/32 -d %s/32 -p tcp -m tcp --dport %d -j ACCEPT"
            % (a, rx, p) for a, p in decoys]
    out += ["-A FORWARD -s %s/32 -d %s/32 -p %s -m %s --dport %d -j ACCEPT"
            % (tx, rx, pr, pr, p) for pr, p in BENCH]
    if not ct:
        out.append("-A FORWARD -s %s/32 -d %s/32 -p tcp -m multiport "
                   "--sports 5201,9001 -j ACCEPT" % (rx, tx))
    out.append("COMMIT")
    return "\n".join(out) + "\n"


with open(os.path.join(d, "iptables-ct.rules"), "w") as f:
    f.write(ipt(True))
with open(os.path.join(d, "iptables-nocd.rules"), "w") as f:
    f.write(ipt(False))

elems = ["%s . %s . tcp . %d" % (a, rx, p) for a, p in decoys]
elems += ["%s . %s . %s . %d" % (tx, rx, pr, p) for pr, p in BENCH]
with open(os.path.join(d, "nft.rules"), "w") as f:
    f.write("table inet pwbench {\n"
            " set allowed {\n"
            "  type ipv4_addr . ipv4_addr . inet_proto . inet_service\n"
            "  elements = {\n   " + ",\n   ".join(elems) + "\n  }\n }\n"
            " chain forward {\n"
            "  type filter hook forward priority filter; policy drop;\n"
            "  ct state established,related accept\n"
            "  ip saddr . ip daddr . meta l4proto . th dport @allowed accept\n"
            " }\n}\n")

# xdp-filter's filter_ipv4 map: key the address in network order, value
# the mode bits (1: match as source); its map holds at most 10000.
with open(os.path.join(d, "xdp-filter.batch"), "w") as f:
    for i in range(min(n, 10000)):
        a = ipaddress.IPv4Address(base + i).packed
        f.write("map update pinned MAP key %s value 1 0 0 0 0 0 0 0\n"
                % " ".join(str(b) for b in a))
