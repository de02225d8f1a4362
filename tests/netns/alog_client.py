#!/usr/bin/env python3
"""Client side of Remora's access-log and metrics netns tests (stdlib only).

Runs in the client namespace only, against the TPROXY testbed of lib.sh
(origin nginx on 198.18.2.2-4 :80 :8081, nothing on :8080, alog_origin.py on
:8085). Every byte sent and received is counted exactly, per request.

  known --out FILE    the known request set of accesslog.sh; writes one JSON
                      object per request (what its access-log line must say)
  traffic --ok N --per-conn K --refused N --bad N --tunnel N
                      the known traffic of metrics.sh; prints one JSON object:
                      connections opened, bytes sent and received, statuses

Every socket operation is bounded (5 s). Exit 0; 1 after writing the output
when a check failed that did not stop the run (a tunnel that never saw EOF);
2 without output when a response is not what the request must get. Reasons
go to stderr ("alog_client: FAIL: ...").
"""
import argparse
import json
import socket
import sys
import time

TIMEOUT = 5.0
O1, O2, O3 = "198.18.2.2", "198.18.2.3", "198.18.2.4"
SECRET = "qsecret"  # appears in every query string; must never be logged


class Fail(Exception):
    pass


SOFT = []  # failures that do not stop the run (the rest is still worth checking)


def soft(msg):
    SOFT.append(msg)
    print("alog_client: FAIL: %s" % msg, file=sys.stderr)


class Conn:
    """One client connection; counts every byte sent and received."""

    def __init__(self, dst, port):
        self.dst, self.port = dst, port
        self.s = socket.create_connection((dst, port), timeout=TIMEOUT)
        self.buf = b""
        self.sent = 0
        self.received = 0

    def send(self, data):
        self.s.sendall(data)
        self.sent += len(data)

    def fill(self):
        try:
            d = self.s.recv(65536)
        except ConnectionResetError:
            d = b""
        self.received += len(d)
        self.buf += d
        return len(d)

    def take(self, n):
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def response(self, head_only=False):
        """Reads one response: (raw bytes, status, {lower-case name: value})."""
        while b"\r\n\r\n" not in self.buf:
            if not self.fill():
                raise Fail("%s:%d: EOF before a response head (got %r)" %
                           (self.dst, self.port, self.buf))
        head = self.take(self.buf.index(b"\r\n\r\n") + 4)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        if head_only or status in (204, 304) or status < 200:
            return head, status, hdrs
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            return head + self.chunked(), status, hdrs
        if "content-length" in hdrs:
            n = int(hdrs["content-length"])
            while len(self.buf) < n:
                if not self.fill():
                    raise Fail("%s:%d: EOF in a body" % (self.dst, self.port))
            return head + self.take(n), status, hdrs
        return head + self.rest(), status, hdrs

    def chunked(self):
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                if not self.fill():
                    raise Fail("EOF in a chunk-size line")
            line = self.take(self.buf.index(b"\r\n") + 2)
            out += line
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while not (self.buf.startswith(b"\r\n") or b"\r\n\r\n" in self.buf):
                    if not self.fill():
                        raise Fail("EOF in trailers")
                end = 2 if self.buf.startswith(b"\r\n") else self.buf.index(b"\r\n\r\n") + 4
                return out + self.take(end)
            while len(self.buf) < size + 2:
                if not self.fill():
                    raise Fail("EOF in chunk data")
            out += self.take(size + 2)

    def rest(self):
        """Everything until EOF."""
        while self.fill():
            pass
        return self.take(len(self.buf))

    def close(self):
        self.s.close()


def record(what, t0, raw_len, status, hdrs, **kw):
    r = {"what": what, "t0": t0, "t1": time.time(), "bytes": raw_len, "status": status,
         "type": hdrs.get("content-type", "-") if hdrs is not None else "-",
         "client": "198.18.1.2", "user": "-"}
    r.update(kw)
    return r


def http(conn, what, req, want_status, close=False, head=False, **kw):
    """Sends one request on conn and returns its expected log record."""
    t0 = time.time()
    try:
        conn.send(req)
        raw, status, hdrs = conn.response(head_only=head)
        n = len(raw)
        if close:
            n += len(conn.rest())  # whatever else reached the client is this response's
    except OSError as e:
        raise Fail("%s: %r to %s:%d: %s (received so far: %r)" %
                   (what, req[:200], conn.dst, conn.port, e, conn.buf[:200]))
    if status != want_status:
        raise Fail("%s: status %d, want %d" % (what, status, want_status))
    return record(what, t0, n, status, hdrs, **kw)


def tunnel(conn, data):
    """Non-HTTP bytes to nginx, tunnelled: its 400 comes back, then EOF (nginx
    closes). Returns the bytes received."""
    conn.send(data)
    try:
        raw, status, _ = conn.response()
    except OSError as e:
        raise Fail("non-HTTP tunnel to %s:%d: %s (got %r)" % (conn.dst, conn.port, e, conn.buf))
    if status != 400:
        raise Fail("non-HTTP tunnel: nginx's 400 did not come back: %r" % raw[:80])
    conn.s.settimeout(2)
    try:
        extra = conn.rest()
    except OSError:
        soft("non-HTTP tunnel %s:%d -> %s:%d: the origin answered and closed, but no EOF "
             "reached the client within 2 s" % (*conn.s.getsockname(), conn.dst, conn.port))
        extra = conn.take(len(conn.buf))
    return len(raw) + len(extra)


def req(method, target, host, extra="", body=b""):
    h = "%s %s HTTP/1.1\r\n" % (method, target)
    if host is not None:
        h += "Host: %s\r\n" % host
    return (h + extra + "\r\n").encode() + body


def known(args):
    """The known request set (see accesslog.sh); one JSON record per request."""
    recs = []
    miss = dict(code="TCP_MISS", hier="ORIGINAL_DST")
    # 5 GETs on one keep-alive connection, a query string on each
    c = Conn(O1, 80)
    for i in range(5):
        last = i == 4
        recs.append(http(c, "keep-alive GET %d" % i,
                         req("GET", "/1k?%s=%d&i=%d" % (SECRET, i, i), O1,
                             "Connection: close\r\n" if last else ""), 200, close=last,
                         method="GET", url="http://198.18.2.2/1k", peer=O1,
                         orig_dst=O1 + ":80", host=O1,
                         reasons=["done"] if last else ["keep-alive"], **miss))
    c.close()
    # Host names another server; the request still goes to 198.18.2.3
    c = Conn(O2, 80)
    recs.append(http(c, "Host: www.example.com to 198.18.2.3",
                     req("GET", "/index.html?user=%s" % SECRET, "www.example.com",
                         "Connection: close\r\n"), 200, close=True,
                     method="GET", url="http://www.example.com/index.html", peer=O2,
                     orig_dst=O2 + ":80", host="www.example.com", reasons=["done"], **miss))
    c.close()
    c = Conn(O1, 80)
    recs.append(http(c, "HEAD /1k", req("HEAD", "/1k", O1, "Connection: close\r\n"), 200,
                     close=True, head=True, method="HEAD", url="http://198.18.2.2/1k",
                     peer=O1, orig_dst=O1 + ":80", host=O1, reasons=["done"], **miss))
    c.close()
    body = b"name=remora&x=" + b"p" * 3000
    c = Conn(O1, 80)
    recs.append(http(c, "POST with a body",
                     req("POST", "/form?%s=1" % SECRET, O1,
                         "Content-Type: application/x-www-form-urlencoded\r\n"
                         "Content-Length: %d\r\nConnection: close\r\n" % len(body), body),
                     200, close=True, method="POST", url="http://198.18.2.2/form", peer=O1,
                     orig_dst=O1 + ":80", host=O1, reasons=["done"], **miss))
    c.close()
    c = Conn(O1, 80)
    recs.append(http(c, "GET /64k (large body: splice path)",
                     req("GET", "/64k", O1, "Connection: close\r\n"), 200, close=True,
                     method="GET", url="http://198.18.2.2/64k", peer=O1,
                     orig_dst=O1 + ":80", host=O1, reasons=["done"], **miss))
    c.close()
    # nothing listens on :8080: 502 generated by Remora
    c = Conn(O1, 8080)
    recs.append(http(c, "refused upstream (:8080)", req("GET", "/x?%s=2" % SECRET,
                                                         O1 + ":8080"), 502, close=True,
                     method="GET", url="http://198.18.2.2:8080/x", peer=O1,
                     orig_dst=O1 + ":8080", host=O1 + ":8080", reasons=["upstream-refused"],
                     **miss))
    c.close()
    # malformed head (space in a field name): 400, nothing of it is logged
    c = Conn(O1, 80)
    recs.append(http(c, "malformed request (400)",
                     b"GET /bad?%s=3 HTTP/1.1\r\nHost: 198.18.2.2\r\nBad Field: x\r\n\r\n" %
                     SECRET.encode(), 400, close=True, method="NONE",
                     url="error:invalid-request", code="NONE_NONE", hier="HIER_NONE", peer="-",
                     orig_dst=O1 + ":80", host="-", reasons=["bad-request"]))
    c.close()
    # absolute-form target: URL and Host come from the target (a Host that
    # differs from its authority is refused: http_errors.sh)
    c = Conn(O1, 80)
    recs.append(http(c, "absolute-form target",
                     req("GET", "http://abs.example.net/p/q?%s=4" % SECRET, "abs.example.net",
                         "Connection: close\r\n"), 200, close=True, method="GET",
                     url="http://abs.example.net/p/q", peer=O1, orig_dst=O1 + ":80",
                     host="abs.example.net", reasons=["done"], **miss))
    c.close()
    # HTTP/1.0 without Host: the URL names the original destination
    c = Conn(O1, 80)
    recs.append(http(c, "HTTP/1.0 without Host",
                     ("GET /v10?%s=5 HTTP/1.0\r\n\r\n" % SECRET).encode(), 200, close=True,
                     method="GET", url=["http://198.18.2.2/v10", "http://198.18.2.2:80/v10"],
                     peer=O1, orig_dst=O1 + ":80", host="-", reasons=["done"], **miss))
    c.close()
    # a Content-Type with parameters, and a response without Content-Type
    for path, what in (("/charset", "Content-Type with parameters"),
                       ("/notype", "response without Content-Type")):
        c = Conn(O3, 8085)
        recs.append(http(c, what, req("GET", path, O3 + ":8085"), 200, close=True,
                         method="GET", url="http://198.18.2.4:8085" + path, peer=O3,
                         orig_dst=O3 + ":8085", host=O3 + ":8085", reasons=["done"], **miss))
        c.close()
    # non-HTTP bytes: tunnelled to the original destination (nginx answers 400)
    t0 = time.time()
    c = Conn(O1, 8081)
    got = tunnel(c, b"HELLO\r\n\r\n")
    c.close()
    recs.append(record("non-HTTP tunnel (:8081)", t0, got, [0, 200], None,
                       method=["NONE", "CONNECT"], url="198.18.2.2:8081", code="TCP_TUNNEL",
                       hier="ORIGINAL_DST", peer=O1, orig_dst=O1 + ":8081", host="-",
                       reasons=None))
    with open(args.out, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    print("ok: %d known requests answered as expected" % len(recs), file=sys.stderr)


def traffic(args):
    """Known traffic for metrics.sh; prints what went over the wire."""
    tot = {"connections": 0, "sent": 0, "received": 0, "status": {}}

    def done(c):
        c.close()
        tot["connections"] += 1
        tot["sent"] += c.sent
        tot["received"] += c.received

    def count(st):
        tot["status"][str(st)] = tot["status"].get(str(st), 0) + 1

    left = args.ok
    while left > 0:
        c = Conn(O1, 80)
        n = min(left, args.per_conn)
        for i in range(n):
            last = i == n - 1
            http(c, "ok", req("GET", "/1k?i=%d" % i, O1, "Connection: close\r\n" if last else ""),
                 200, close=last)
            count(200)
        left -= n
        done(c)
    for i in range(args.refused):
        c = Conn(O1, 8080)
        http(c, "refused", req("GET", "/r%d" % i, O1 + ":8080"), 502, close=True)
        count(502)
        done(c)
    bad = [b"GET / HTTP/1.1\r\nHost: 198.18.2.2\r\nBad Field: x\r\n\r\n",
           b"GET /a b HTTP/1.1\r\nHost: 198.18.2.2\r\n\r\n",
           b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nHost: h\r\n\r\n"]
    for i in range(args.bad):
        c = Conn(O1, 80)
        http(c, "malformed", bad[i % len(bad)], 400, close=True)
        count(400)
        done(c)
    for i in range(args.tunnel):
        c = Conn(O1, 8081)
        tunnel(c, b"HELLO\r\n\r\n")
        count("tunnel")
        done(c)
    print(json.dumps(tot))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("known")
    k.add_argument("--out", required=True)
    t = sub.add_parser("traffic")
    t.add_argument("--ok", type=int, default=0)
    t.add_argument("--per-conn", type=int, default=1)
    t.add_argument("--refused", type=int, default=0)
    t.add_argument("--bad", type=int, default=0)
    t.add_argument("--tunnel", type=int, default=0)
    args = ap.parse_args()
    try:
        known(args) if args.cmd == "known" else traffic(args)
    except (Fail, OSError, ValueError) as e:
        print("alog_client: FAIL: %s" % e, file=sys.stderr)
        return 2
    return 1 if SOFT else 0


if __name__ == "__main__":
    sys.exit(main())
