#!/usr/bin/python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""A small stand-in for kube-apiserver, for podwall's tests.

HTTPS on 127.0.0.1 (a CA, server and client certificate are made with
openssl in --dir when missing), serving Namespaces, Pods and
NetworkPolicies seeded from recorded List answers (--fixtures DIR:
namespaces.json, pods.json, networkpolicies.json) with the API's own
list and watch semantics (see the "API Concepts" page of the Kubernetes
reference):

  GET /api/v1/namespaces, /api/v1/pods,
      /apis/networking.k8s.io/v1/networkpolicies
    list: {"kind":"PodList","apiVersion":"v1","metadata":
      {"resourceVersion":RV[,"continue":TOKEN,"remainingItemCount":N]},
      "items":[...]} (items carry no kind or apiVersion); ?limit=N pages,
      ?continue=TOKEN reads the next page of the same snapshot, or 410
      Expired once that snapshot is compacted away.
    watch (?watch=1&resourceVersion=RV[&allowWatchBookmarks=true]
      [&timeoutSeconds=N]): 200 with a chunked stream of
      {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}
      lines, the events ready at once in one chunk of up to 64 KiB (as a
      busy server's writes coalesce); the events after RV, then live
      ones. An RV older than the compaction point gives one ERROR event
      with a 410 Expired Status, then the end of the stream (or, with
      --gone-http, an HTTP 410 Status answer).
  Authentication: "Authorization: Bearer TOKEN" (--token) or a client
  certificate signed by the CA; otherwise 401.

Driven by files dropped into DIR/ctl/ (*.json, taken in name order and
deleted once done; write them elsewhere and rename them in):
  {"op":"create","object":{...}}            ADDED
  {"op":"patch","kind":K,"namespace":NS,"name":N,"patch":{...}}
                                            MODIFIED (JSON merge patch)
  {"op":"delete","kind":K,"namespace":NS,"name":N}   DELETED
  {"op":"batch","changes":[cmd,...]}   the commands in order, at once
                          (watches see them in one go: benchmarks)
  {"op":"bookmark"}       a BOOKMARK to each watch that asked for them
  {"op":"compact"[,"changes":[cmd,...]]}
                          the changes are made, then the history and list
                          snapshots up to now are forgotten (the global
                          revision moves on, as other kinds' writes move
                          it): open watches end and every watcher's
                          version is too old (410), so it must list again
                          to see the changes
  {"op":"expire-continue","count":N}  the next N continues answer 410
  {"op":"end-watches"}    open watches end cleanly (timeoutSeconds)
  {"op":"drop"}           open watches are cut in the middle of an event
  {"op":"fail","count":N,"code":C}   the next N requests get a C Status
                          (count 0: none)
  {"op":"gone-http","on":true}       410 as HTTP status, not an event
Every request is logged to DIR/requests.log as "GET PATH AUTH". The
port is written to DIR/port once the server listens.
"""
import argparse
import base64
import bisect
import copy
import gc
import hashlib
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

KINDS = {
    "/api/v1/namespaces": ("Namespace", "v1", False, "namespaces.json"),
    "/api/v1/pods": ("Pod", "v1", True, "pods.json"),
    "/apis/networking.k8s.io/v1/networkpolicies":
        ("NetworkPolicy", "networking.k8s.io/v1", True,
         "networkpolicies.json"),
}
BY_KIND = {v[0]: k for k, v in KINDS.items()}

COND = threading.Condition()


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class State:
    def __init__(self, fixtures, start_rv):
        self.objs = {p: {} for p in KINDS}   # path -> key -> object
        self.history = []                    # (rv, path, type, object)
        self.rv = 0
        self.compacted = 0
        self.snapshots = {}                  # (path, rv) -> [objects]
        self.gen = 0                         # bumps end open watches
        self.drop_gen = 0
        self.bookmarks = 0
        self.fail = []                       # codes for the next requests
        self.gone_http = False
        self.expire = 0                      # continues to answer 410
        for path, (kind, api, nsd, fn) in KINDS.items():
            with open(os.path.join(fixtures, fn)) as f:
                lst = json.load(f)
            assert lst["kind"] == kind + "List" and lst["apiVersion"] == api
            self.rv = max(self.rv, int(lst["metadata"]["resourceVersion"]))
            for o in lst["items"]:
                self.objs[path][self.key(o)] = o
        # --rv: a server whose history starts later (a restored etcd)
        self.rv = max(self.rv, start_rv)
        self.compacted = self.rv

    @staticmethod
    def key(o):
        md = o["metadata"]
        return "%s/%s" % (md.get("namespace", ""), md["name"])

    def full(self, path, o):
        """An object as a watch event or a GET carries it."""
        kind, api = KINDS[path][:2]
        return dict({"kind": kind, "apiVersion": api}, **o)

    def change(self, path, typ, o):
        self.rv += 1
        o = copy.deepcopy(o)
        o["metadata"]["resourceVersion"] = str(self.rv)
        k = self.key(o)
        if typ == "DELETED":
            self.objs[path].pop(k, None)
        else:
            self.objs[path][k] = o
        self.history.append((self.rv, path, typ, o))
        COND.notify_all()

    def control(self, cmd):
        op = cmd["op"]
        if op == "create":
            o = copy.deepcopy(cmd["object"])
            path = BY_KIND[o.pop("kind")]
            o.pop("apiVersion", None)
            md = o["metadata"]
            md.setdefault("uid", str(hashlib.sha1(
                json.dumps(md, sort_keys=True).encode()).hexdigest()[:32]))
            md.setdefault("creationTimestamp", time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            self.change(path, "ADDED", o)
        elif op in ("patch", "delete"):
            path = BY_KIND[cmd["kind"]]
            k = "%s/%s" % (cmd.get("namespace", ""), cmd["name"])
            o = self.objs[path][k]
            if op == "patch":
                self.change(path, "MODIFIED", merge_patch(o, cmd["patch"]))
            else:
                self.change(path, "DELETED", o)
        elif op == "batch":
            for c in cmd.get("changes", []):
                self.control(c)
        elif op == "bookmark":
            self.bookmarks += 1
            COND.notify_all()
        elif op == "compact":
            # changes no watch sees: made and compacted away at once
            for c in cmd.get("changes", []):
                self.control(c)
            self.rv += 1  # the revision is global: other kinds move it
            self.compacted = self.rv
            self.history = []
            self.snapshots = {}
            self.gen += 1
            COND.notify_all()
        elif op == "end-watches":
            self.gen += 1
            COND.notify_all()
        elif op == "drop":
            self.drop_gen += 1
            COND.notify_all()
        elif op == "fail":
            self.fail = [cmd.get("code", 500)] * cmd.get("count", 1)
        elif op == "expire-continue":
            self.expire += cmd.get("count", 1)
        elif op == "gone-http":
            self.gone_http = bool(cmd.get("on", True))
        else:
            raise ValueError("unknown op " + op)


def ctl_loop(state, ctl):
    while True:
        time.sleep(0.01)
        for name in sorted(os.listdir(ctl)):
            if not name.endswith(".json"):
                continue
            p = os.path.join(ctl, name)
            with open(p) as f:
                cmd = json.load(f)
            with COND:
                state.control(cmd)
            os.unlink(p)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def auth(self):
        h = self.headers.get("Authorization", "")
        if self.server.token and h == "Bearer " + self.server.token:
            return "bearer"
        try:
            if self.connection.getpeercert():
                return "cert"
        except (ValueError, AttributeError):
            pass
        return "none"

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        who = self.auth()
        with open(self.server.log, "a") as f:
            f.write("GET %s %s\n" % (self.path, who))
        state = self.server.state
        with COND:
            code = state.fail.pop(0) if state.fail else None
        if code:
            return self.send_json(code, status(
                code, "InternalError" if code >= 500 else "Forbidden",
                "simulated failure"))
        if who == "none":
            return self.send_json(401, status(401, "Unauthorized",
                                              "Unauthorized"))
        if url.path not in KINDS:
            return self.send_json(404, status(
                404, "NotFound", "the server could not find the requested "
                "resource"))
        if q.get("watch") in ("1", "true"):
            return self.watch(url.path, q)
        return self.list(url.path, q)

    def list(self, path, q):
        state = self.server.state
        kind, api = KINDS[path][:2]
        limit = int(q.get("limit", "0") or 0)
        with COND:
            if q.get("continue"):
                tok = json.loads(base64.b64decode(q["continue"]))
                rv, start = tok["rv"], tok["start"]
                snap = state.snapshots.get((path, rv))
                if state.expire:
                    state.expire -= 1
                    snap = None
                if snap is None:
                    return self.send_json(410, status(
                        410, "Expired", "The provided continue parameter "
                        "is too old to display a consistent list result. "
                        "You can start a new list without the continue "
                        "parameter."))
            else:
                rv, start = state.rv, ""
                # stored objects are never changed in place (change()
                # stores copies): the snapshot shares them
                snap = [o for _, o in sorted(state.objs[path].items())]
                state.snapshots[(path, rv)] = snap
        # snap is in key order: the page starts past the token's key
        items = snap[bisect.bisect_right(
            snap, start, key=lambda o: State.key(o) + "\0"):]
        md = {"resourceVersion": str(rv)}
        if limit and len(items) > limit:
            last = State.key(items[limit - 1])
            md["continue"] = base64.b64encode(json.dumps(
                {"v": "meta.k8s.io/v1", "rv": rv, "start": last + "\0"},
                separators=(",", ":")).encode()).decode()
            md["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        self.send_json(200, {"kind": kind + "List", "apiVersion": api,
                             "metadata": md, "items": items})

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch(self, path, q):
        state = self.server.state
        kind, api = KINDS[path][:2]
        rv = int(q.get("resourceVersion") or 0)
        marks = q.get("allowWatchBookmarks") == "true"
        end = time.time() + int(q.get("timeoutSeconds") or 1800)
        with COND:
            if rv and rv < state.compacted and state.gone_http:
                return self.send_json(410, status(
                    410, "Expired", "too old resource version: %d (%d)" %
                    (rv, state.compacted)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            if rv and rv < state.compacted:
                ev = {"type": "ERROR", "object": status(
                    410, "Expired", "too old resource version: %d (%d)" %
                    (rv, state.compacted))}
                self.chunk(json.dumps(ev).encode() + b"\n")
                self.chunk(b"")
                return
            pending = []
            if not rv:  # "any": the current state as ADDED events
                pending = [("ADDED", o) for _, o in
                           sorted(state.objs[path].items())]
                rv = state.rv
            gen, drop, marks_seen = state.gen, state.drop_gen, state.bookmarks
        while True:
            with COND:
                # the history is in rv order: from the first one past rv
                first = bisect.bisect_right(state.history, rv,
                                            key=lambda h: h[0])
                for erv, p, typ, o in state.history[first:]:
                    if p == path:
                        pending.append((typ, o))
                        rv = erv
                if not pending:
                    if state.gen != gen or time.time() >= end:
                        break
                    if state.drop_gen != drop:
                        # half an event, then the connection is gone
                        self.wfile.write(b"200\r\n{\"type\":\"MODIF")
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if state.bookmarks != marks_seen:
                        marks_seen = state.bookmarks
                        if marks:
                            bm = {"kind": kind, "apiVersion": api,
                                  "metadata": {"resourceVersion":
                                               str(state.rv),
                                               "creationTimestamp": None}}
                            if kind == "Pod":
                                bm["spec"] = {"containers": None}
                                bm["status"] = {}
                            pending.append(("BOOKMARK", bm))
                            rv = max(rv, state.rv)
                    if not pending:
                        COND.wait(0.2)
                        continue
            buf = b""
            for typ, o in pending:
                obj = o if typ == "BOOKMARK" else state.full(path, o)
                buf += json.dumps({"type": typ, "object": obj},
                                  separators=(",", ":")).encode() + b"\n"
                if len(buf) >= 65536:
                    self.chunk(buf)
                    buf = b""
            if buf:
                self.chunk(buf)
            pending = []
        self.chunk(b"")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        sock, addr = self.socket.accept()
        # the handshake in the handler's thread, not the accept loop
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # clients go away mid-stream; that is what tests do


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    if os.path.exists(os.path.join(d, "client.crt")):
        return
    p = lambda n: os.path.join(d, n)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=fakeapi-ca", "-keyout", p("ca.key"),
            "-out", p("ca.crt"))
    for name, cn, ext in (
            ("server", "kube-apiserver",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
             "extendedKeyUsage=serverAuth\n"),
            ("client", "system:serviceaccount:kube-system:podwall",
             "extendedKeyUsage=clientAuth\n")):
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                "/CN=" + cn, "-keyout", p(name + ".key"),
                "-out", p(name + ".csr"))
        with open(p(name + ".ext"), "w") as f:
            f.write(ext)
        openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.crt"),
                "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2",
                "-extfile", p(name + ".ext"), "-out", p(name + ".crt"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--fixtures", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "fixtures"))
    ap.add_argument("--token", default="")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rv", type=int, default=0,
                    help="the first resourceVersion (default: the "
                    "fixtures' newest)")
    a = ap.parse_args()
    make_certs(a.dir)
    ctl = os.path.join(a.dir, "ctl")
    os.makedirs(ctl, exist_ok=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(a.dir, "server.crt"),
                        os.path.join(a.dir, "server.key"))
    ctx.load_verify_locations(os.path.join(a.dir, "ca.crt"))
    ctx.verify_mode = ssl.CERT_OPTIONAL
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.ctx = ctx
    srv.token = a.token
    srv.log = os.path.join(a.dir, "requests.log")
    srv.state = State(a.fixtures, a.rv)
    # the fixtures live as long as the server: a collector that walked
    # 150,000 pods on every full pass would be the benchmark's bottleneck
    gc.collect()
    gc.freeze()
    threading.Thread(target=ctl_loop, args=(srv.state, ctl),
                     daemon=True).start()
    tmp = os.path.join(a.dir, "port.new")
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(a.dir, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
