#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A fake Docker Engine (API v1.41) on a Unix socket, for podwall's tests.

Serves recorded answers in the daemon's own format: GET
/v1.41/containers/json, /v1.41/containers/{id}/json, /v1.41/networks and
a chunked /v1.41/events stream. Driven through files in --ctl DIR:
  emit       "start ID" (or another action): mark the container running
             (or not), then send the event to every open events stream,
             split across writes so the reader sees partial chunks;
  fail-list  while present, containers/json answers 500;
  cut-list   while present, containers/json is cut short (Content-Length
             promised, connection closed).
Kill the process to take the "daemon" down; start it again to bring it
back (a stale socket file is replaced).
"""
import argparse
import json
import os
import socket
import socketserver
import sys
import threading
import time

SERVER = "Docker/20.10.24+dfsg1 (linux)"
NET_SHOP = "5c3d2a9f7e61b0c4d8e2f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1"
NET_BRIDGE = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
NET_HOST = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"
NET_LAN = "aa11bb22cc33dd44ee55ff6600aa11bb22cc33dd44ee55ff6600aa11bb22cc33"

WEB = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
DB = "0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d"
HOSTNET = "77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd77ee88ff99aa00bb11cc22dd"
LATE = "5a5b5c5d5e5f60616263646566676869707172737475767778797a7b7c7d7e7f"


def network(name, nid, driver, subnet=None, gw=None):
    ipam = [] if not subnet else [{"Subnet": subnet, "Gateway": gw}]
    return {"Name": name, "Id": nid, "Created": "2026-11-29T06:50:01.123456789Z",
            "Scope": "local", "Driver": driver, "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": None, "Config": ipam},
            "Internal": False, "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
            "Containers": {}, "Options": {}, "Labels": {}}


NETWORKS = [
    network("bridge", NET_BRIDGE, "bridge", "172.17.0.0/16", "172.17.0.1"),
    network("host", NET_HOST, "host"),
    network("none", "f" * 64, "null"),
    network("shop_default", NET_SHOP, "bridge", "172.18.0.0/16", "172.18.0.1"),
    network("lan", NET_LAN, "macvlan", "192.168.1.0/24", "192.168.1.1"),
]


def endpoint(nid, ip="", plen=0, gw="", ip6="", mac="", aliases=None):
    return {"IPAMConfig": None, "Links": None, "Aliases": aliases,
            "NetworkID": nid, "EndpointID": (nid[:32] + ip).ljust(64, "0")[:64]
            if ip else "", "Gateway": gw, "IPAddress": ip, "IPPrefixLen": plen,
            "IPv6Gateway": "fd00::1" if ip6 else "", "GlobalIPv6Address": ip6,
            "GlobalIPv6PrefixLen": 64 if ip6 else 0, "MacAddress": mac,
            "DriverOpts": None}


def container(cid, name, labels, nets, pid, image="busybox:local"):
    return {"id": cid, "name": name, "labels": labels, "nets": nets,
            "pid": pid, "image": image, "running": True}


CONTAINERS = [
    container(WEB, "/shop-web-1", {
        "app": "web",
        "com.docker.compose.config-hash":
            "8d1c7e0f3b2a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
        "com.docker.compose.container-number": "1",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.project": "shop",
        "com.docker.compose.project.config_files": "/srv/shop/compose.yaml",
        "com.docker.compose.project.working_dir": "/srv/shop",
        "com.docker.compose.service": "web",
        "com.docker.compose.version": "2.20.2",
        "org.opencontainers.image.source": "https://example.org/shop",
    }, {"shop_default": endpoint(NET_SHOP, "172.18.0.2", 16, "172.18.0.1",
                                 mac="02:42:ac:12:00:02",
                                 aliases=["shop-web-1", "web", "3f2a9c1b7d4e"])},
        4242),
    container(DB, "/db_Primary", {"app": "db", "Invalid Key!": "x",
                                  "tier": "back end"},
              {"bridge": endpoint(NET_BRIDGE, "172.17.0.2", 16, "172.17.0.1",
                                  ip6="fd00::2", mac="02:42:ac:11:00:02"),
               "lan": endpoint(NET_LAN, "192.168.1.50", 24, "192.168.1.1",
                               mac="02:42:c0:a8:01:32")}, 4343),
    container(HOSTNET, "/hostnet", {"app": "agent"},
              {"host": endpoint(NET_HOST)}, 4444),
    container(LATE, "/late", {"app": "late"},
              {"bridge": endpoint(NET_BRIDGE, "172.17.0.3", 16, "172.17.0.1",
                                  mac="02:42:ac:11:00:03")}, 4545),
]
CONTAINERS[3]["running"] = False
LOCK = threading.Lock()


def find(cid):
    for c in CONTAINERS:
        if c["id"] == cid or c["id"].startswith(cid) or c["name"] == "/" + cid:
            return c
    return None


def summary(c):
    return {"Id": c["id"], "Names": [c["name"]], "Image": c["image"],
            "ImageID": "sha256:" + "ab" * 32, "Command": "/bin/httpd -f",
            "Created": 1764398400, "Ports": [], "Labels": c["labels"],
            "State": "running", "Status": "Up 5 minutes",
            "HostConfig": {"NetworkMode": next(iter(c["nets"]))},
            "NetworkSettings": {"Networks": c["nets"]}, "Mounts": []}


def inspect(c):
    run = c["running"]
    return {
        "Id": c["id"], "Created": "2026-11-29T06:55:00.000000001Z",
        "Path": "/bin/httpd", "Args": ["-f"],
        "State": {"Status": "running" if run else "exited", "Running": run,
                  "Paused": False, "Restarting": False, "OOMKilled": False,
                  "Dead": False, "Pid": c["pid"] if run else 0,
                  "ExitCode": 0, "Error": "",
                  "StartedAt": "2026-11-29T06:55:01.000000001Z",
                  "FinishedAt": "0001-01-01T00:00:00Z"},
        "Image": "sha256:" + "ab" * 32, "ResolvConfPath": "",
        "HostnamePath": "", "HostsPath": "", "LogPath": "",
        "Name": c["name"], "RestartCount": 0, "Driver": "overlay2",
        "Platform": "linux", "MountLabel": "", "ProcessLabel": "",
        "AppArmorProfile": "docker-default", "ExecIDs": None,
        "HostConfig": {"NetworkMode": next(iter(c["nets"]))},
        "Mounts": [],
        "Config": {"Hostname": c["id"][:12], "Domainname": "", "User": "",
                   "Env": ["PATH=/bin"], "Cmd": ["/bin/httpd", "-f"],
                   "Image": c["image"], "Volumes": None, "WorkingDir": "",
                   "Entrypoint": None, "OnBuild": None,
                   "Labels": c["labels"]},
        "NetworkSettings": {
            "Bridge": "", "SandboxID": c["id"][::-1],
            "HairpinMode": False, "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0, "Ports": {},
            "SandboxKey": "/var/run/docker/netns/" + c["id"][:12],
            "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
            "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0,
            "IPv6Gateway": "", "MacAddress": "",
            "Networks": c["nets"] if run else {}},
    }


def head(status, extra):
    reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}
    return ("HTTP/1.1 %d %s\r\nApi-Version: 1.41\r\n"
            "Content-Type: application/json\r\nDocker-Experimental: false\r\n"
            "Ostype: linux\r\nServer: %s\r\n"
            "Date: Sun, 29 Nov 2026 07:00:00 GMT\r\n%s\r\n"
            % (status, reason[status], SERVER, extra)).encode()


class Handler(socketserver.StreamRequestHandler):
    def send(self, status, obj, chunked=False):
        body = (json.dumps(obj) + "\n").encode()
        if not chunked:
            self.wfile.write(head(status, "Content-Length: %d\r\n" % len(body))
                             + body)
            return
        # Go's net/http chunks a large answer; cut it in three
        out = head(status, "Transfer-Encoding: chunked\r\n")
        k = len(body) // 3 or 1
        for i in range(0, len(body), k):
            part = body[i:i + k]
            out += b"%x\r\n%s\r\n" % (len(part), part)
        self.wfile.write(out + b"0\r\n\r\n")

    def handle(self):
        try:
            self.serve_one()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away, as clients do

    def serve_one(self):
        line = self.rfile.readline(8192).decode("latin-1").strip()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass
        if not line:
            return  # a connect-only probe (the test waiting for us)
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "GET":
            self.send(404, {"message": "page not found"})
            return
        path = parts[1]
        ctl = self.server.ctl
        if path == "/v1.41/networks":
            self.send(200, NETWORKS)
        elif path == "/v1.41/containers/json":
            if os.path.exists(os.path.join(ctl, "fail-list")):
                self.send(500, {"message": "simulated daemon failure"})
            elif os.path.exists(os.path.join(ctl, "cut-list")):
                self.wfile.write(head(200, "Content-Length: 5000\r\n")
                                 + b'[{"Id":"')
            else:
                with LOCK:
                    self.send(200, [summary(c) for c in CONTAINERS
                                    if c["running"]], chunked=True)
        elif path.startswith("/v1.41/containers/") and path.endswith("/json"):
            with LOCK:
                c = find(path[len("/v1.41/containers/"):-len("/json")])
                if c:
                    self.send(200, inspect(c))
                else:
                    self.send(404, {"message": "No such container: " +
                                    path[len("/v1.41/containers/"):-5]})
        elif path.startswith("/v1.41/events?"):
            self.events()
        else:
            self.send(404, {"message": "page not found"})

    def events(self):
        self.wfile.write(head(200, "Transfer-Encoding: chunked\r\n"))
        self.wfile.flush()
        emit = os.path.join(self.server.ctl, "emit")
        while True:
            time.sleep(0.02)
            mine = "%s.%d" % (emit, threading.get_ident())
            try:
                os.rename(emit, mine)
            except FileNotFoundError:
                continue
            with open(mine) as f:
                action, cid = f.read().split()
            os.unlink(mine)
            with LOCK:
                c = find(cid)
                c["running"] = action in ("start", "restart")
            now = time.time()
            ev = {"status": action, "id": c["id"], "from": c["image"],
                  "Type": "container", "Action": action,
                  "Actor": {"ID": c["id"], "Attributes": dict(
                      c["labels"], image=c["image"], name=c["name"][1:])},
                  "scope": "local", "time": int(now),
                  "timeNano": int(now * 1e9)}
            body = (json.dumps(ev) + "\n").encode()
            chunk = b"%x\r\n%s\r\n" % (len(body), body)
            # split inside the size line, the JSON and the CRLF
            for piece in (chunk[:1], chunk[1:40], chunk[40:-1], chunk[-1:]):
                self.wfile.write(piece)
                self.wfile.flush()
                time.sleep(0.1)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--ctl", required=True)
    a = ap.parse_args()
    try:
        os.unlink(a.socket)
    except FileNotFoundError:
        pass
    srv = Server(a.socket, Handler)
    srv.ctl = a.ctl
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
