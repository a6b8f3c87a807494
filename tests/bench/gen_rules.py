#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""One generated cluster for bench_program.sh, written three ways.

N pods in namespace "bench", pod i with label app=a(i % A) and address
10.64.((i+1)/256).((i+1)%256) (behind veth h<i> of the node, pod end p<i>); P
NetworkPolicies, policy j selecting app=a(j % A) and allowing egress to
app=a((j+1) % A) on TCP port 1000 + j. Written as:

  podwall:  pods.json, policies.json (Lists for `podwall apply -f`);
  iptables: iptables.rules for iptables-restore, in the FORWARD path as
            Docker and kube-router do it without ipsets: ESTABLISHED
            first, a jump per pod source address to its app's chain, one
            chain per policy with one rule per destination pod, DROP at
            the end of each selected app's chain;
  nftables: nft.rules for nft -f, as kube-network-policies does it with
            sets: one set of addresses per app, one rule per policy
            (ip daddr @set tcp dport PORT accept), drop at the end.

All three allow exactly the same (source, destination, port) triples.
Also the incremental changes, each a single object: policy 0 moved to
port NEWPORT (pol-change-K.json, iptables-pol.rules, nft-pol.rules) and a
pod N+K added with app=a0 (pod-add-K.json, iptables-pod.rules,
nft-pod.rules).

usage: gen_rules.py DIR N P [A=50] [REPS=5]
"""
import json
import sys


def ip(i):
    i += 1  # no .0 address
    return "10.%d.%d.%d" % (64 + i // 65536, (i // 256) % 256, i % 256)


def pod(i, app):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "bench", "name": "pod%d" % i,
                         "labels": {"app": app}},
            "status": {"podIP": ip(i)}}


def policy(j, a, port):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"namespace": "bench", "name": "np%d" % j},
            "spec": {"podSelector": {"matchLabels": {"app": "a%d" % (j % a)}},
                     "policyTypes": ["Egress"],
                     "egress": [{"to": [{"podSelector": {"matchLabels": {
                         "app": "a%d" % ((j + 1) % a)}}}],
                         "ports": [{"port": port, "protocol": "TCP"}]}]}}


def lst(items):
    return {"apiVersion": "v1", "kind": "List", "items": items}


def main():
    d, n, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    a = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    a = min(a, n)
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "bench"}}
    members = {k: [i for i in range(n) if i % a == k] for k in range(a)}

    with open(d + "/pods.json", "w") as f:
        json.dump(lst([ns] + [pod(i, "a%d" % (i % a)) for i in range(n)]), f)
    with open(d + "/policies.json", "w") as f:
        json.dump(lst([policy(j, a, 1000 + j) for j in range(p)]), f)
    for k in range(reps):
        with open(d + "/pol-change-%d.json" % k, "w") as f:
            json.dump(policy(0, a, 20000 + k), f)
        with open(d + "/pod-add-%d.json" % k, "w") as f:
            json.dump(pod(n + k, "a0"), f)

    # iptables: the selected apps are those with a policy
    sel = sorted({j % a for j in range(p)})
    r = ["*filter", ":FORWARD ACCEPT [0:0]", ":PW-FWD - [0:0]"]
    r += [":PW-APP-%d - [0:0]" % k for k in sel]
    r += [":PW-NP-%d - [0:0]" % j for j in range(p)]
    r.append("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED "
             "-j ACCEPT")
    r.append("-A FORWARD -j PW-FWD")
    for i in range(n):
        if i % a in sel:
            r.append("-A PW-FWD -s %s/32 -j PW-APP-%d" % (ip(i), i % a))
    for j in range(p):
        r.append("-A PW-APP-%d -j PW-NP-%d" % (j % a, j))
    for k in sel:
        r.append("-A PW-APP-%d -j DROP" % k)
    for j in range(p):
        for m in members[(j + 1) % a]:
            r.append("-A PW-NP-%d -d %s/32 -p tcp -m tcp --dport %d "
                     "-j ACCEPT" % (j, ip(m), 1000 + j))
    r.append("COMMIT")
    with open(d + "/iptables.rules", "w") as f:
        f.write("\n".join(r) + "\n")
    # policy 0 to a new port: its chain is replaced (noflush restore)
    r = ["*filter", ":PW-NP-0 - [0:0]"]
    r += ["-A PW-NP-0 -d %s/32 -p tcp -m tcp --dport %d -j ACCEPT"
          % (ip(m), 20000) for m in members[1 % a]]
    r.append("COMMIT")
    with open(d + "/iptables-pol.rules", "w") as f:
        f.write("\n".join(r) + "\n")
    # pod n with app a0: its source jump, and a destination rule in the
    # chain of every policy that allows egress to a0
    r = ["*filter", "-A PW-FWD -s %s/32 -j PW-APP-0" % ip(n)]
    r += ["-I PW-NP-%d -d %s/32 -p tcp -m tcp --dport %d -j ACCEPT"
          % (j, ip(n), 1000 + j) for j in range(p) if (j + 1) % a == 0]
    r.append("COMMIT")
    with open(d + "/iptables-pod.rules", "w") as f:
        f.write("\n".join(r) + "\n")

    # nftables with sets
    r = ["table inet pw {"]
    for k in range(a):
        els = ", ".join(ip(i) for i in members[k])
        r.append("  set app%d { type ipv4_addr; elements = { %s } }"
                 % (k, els))
    r.append("  chain pwfwd {")
    r.append("    type filter hook forward priority 0; policy accept;")
    r.append("    ct state established,related accept")
    for k in sel:
        r.append("    ip saddr @app%d jump app%d" % (k, k))
    r.append("  }")
    for k in sel:
        r.append("  chain app%d {" % k)
        for j in range(p):
            if j % a == k:
                r.append("    ip daddr @app%d tcp dport %d accept"
                         % ((j + 1) % a, 1000 + j))
        r.append("    drop")
        r.append("  }")
    r.append("}")
    with open(d + "/nft.rules", "w") as f:
        f.write("\n".join(r) + "\n")
    # policy 0 to a new port: app0's chain rewritten (its rules are few)
    r = ["flush chain inet pw app0", "table inet pw {", "  chain app0 {"]
    for j in range(p):
        if j % a == 0:
            r.append("    ip daddr @app%d tcp dport %d accept"
                     % ((j + 1) % a, 20000 if j == 0 else 1000 + j))
    r += ["    drop", "  }", "}"]
    with open(d + "/nft-pol.rules", "w") as f:
        f.write("\n".join(r) + "\n")
    with open(d + "/nft-pod.rules", "w") as f:
        f.write("add element inet pw app0 { %s }\n" % ip(n))

    # the veths: node side h<i> (with the pods' namespace as @PODS@),
    # pod side p<i> with its address
    with open(d + "/veth-node.batch", "w") as f:
        for i in range(n + reps):
            f.write("link add h%d type veth peer name p%d netns @PODS@\n"
                    % (i, i))
            f.write("link set h%d up\n" % i)
    with open(d + "/veth-pods.batch", "w") as f:
        for i in range(n + reps):
            f.write("addr add %s/32 dev p%d\nlink set p%d up\n"
                    % (ip(i), i, i))


if __name__ == "__main__":
    main()
