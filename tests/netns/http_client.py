#!/usr/bin/env python3
"""Raw-socket HTTP client for Remora's netns tests (Python 3 stdlib only).

Runs in the client namespace only. Every scenario asserts what it receives,
prints "ok: ..." lines and exits 0; on a mismatch it prints the reason and the
exact bytes exchanged (repr, in order) on stderr and exits 1. Every socket
read is bounded (--timeout, default 5 s). Byte arguments (--data, --req,
--expect...) take Python escapes: 'GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'.

Scenarios (see each function): keepalive, pipeline, mixed, upload, download,
expect, head304, interim, ws, bulk, exchange, error, truncated, raw.
Commands that talk about one connection print its local port on stdout, so
the test can find Remora's log line for it.
"""
import argparse
import codecs
import hashlib
import os
import re
import socket
import sys
import threading
import time

REASONS = {
    400: "Bad Request", 405: "Method Not Allowed", 408: "Request Timeout",
    414: "URI Too Long", 431: "Request Header Fields Too Large", 502: "Bad Gateway",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported", 508: "Loop Detected",
}
# Must match http_origin.py.
CHUNKED_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Transfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Done\r\n\r\n"
                    b"5;ext=1\r\nhello\r\n"
                    b"7;name=\"quoted value\";flag\r\n, world\r\n"
                    b"1\r\n\n\r\n"
                    b"0;last\r\nX-Checksum: 42\r\nX-Done: yes\r\n\r\n")
WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 section 1.3

ARGS = None
CONNS = []


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def unescape(s):
    return codecs.escape_decode(s.encode("latin-1"))[0]


def ok(msg):
    print("ok: " + msg, file=sys.stderr)


class Conn:
    """One TCP connection with a receive buffer and a transcript."""

    def __init__(self, to=None, timeout=None):
        host, port = (to or ARGS.to).rsplit(":", 1)
        self.timeout = timeout or ARGS.timeout
        self.transcript = []
        self.sock = socket.create_connection((host, int(port)), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.sock.getsockname()[1]
        self.name = "%s (local port %d)" % (to or ARGS.to, self.port)
        self.buf = b""
        self.eof = False
        CONNS.append(self)

    def send(self, data):
        self.transcript.append(("send", data))
        self.sock.sendall(data)

    def shut(self):
        self.transcript.append(("shut", b""))
        self.sock.shutdown(socket.SHUT_WR)

    def cork(self):
        """Holds what is sent next until shut(): the last data and the FIN
        then leave in one segment."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)

    def fill(self):
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            raise Fail("%s: nothing received for %.1f s" % (self.name, self.timeout))
        except ConnectionResetError:
            self.transcript.append(("reset", b""))
            raise Fail("%s: connection reset" % self.name)
        if not data:
            self.eof = True
            self.transcript.append(("eof", b""))
            raise Fail("%s: connection closed early" % self.name)
        self.transcript.append(("recv", data))
        self.buf += data

    def take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_until(self, delim):
        while delim not in self.buf:
            self.fill()
        return self.take(self.buf.index(delim) + len(delim))

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        return self.take(n)

    def read_to_end(self, timeout=None):
        """Everything until the peer closes: (bytes, 'eof' | 'reset' | 'timeout')."""
        self.sock.settimeout(timeout or self.timeout)
        how = "eof"
        while not self.eof:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                how = "timeout"
                break
            except ConnectionResetError:
                self.transcript.append(("reset", b""))
                how = "reset"
                break
            if not data:
                self.transcript.append(("eof", b""))
                break
            self.transcript.append(("recv", data))
            self.buf += data
        self.sock.settimeout(self.timeout)
        return self.take(len(self.buf)), how

    def read_response(self, method=b"GET"):
        return Response(self, method)

    def dump(self):
        """The exchange in order; long data is cut to its first and last 80
        bytes, long transcripts to their first 12 and last 4 entries."""
        print("--- transcript of %s:" % self.name, file=sys.stderr)
        t = self.transcript
        if len(t) > 16:
            skipped = t[12:-4]
            t = t[:12] + [("...", b"%d entries, %d bytes" %
                           (len(skipped), sum(len(d) for _, d in skipped)))] + t[-4:]
        for what, data in t:
            if len(data) > 240:
                shown = "%r ... (%d bytes) ... %r" % (data[:80], len(data), data[-80:])
            else:
                shown = repr(data)
            print("  %-5s %s" % (what, shown), file=sys.stderr)


class Response:
    """One response read from conn, with its interim (1xx) heads."""

    def __init__(self, conn, method):
        self.interims = []
        while True:
            head = conn.read_until(b"\r\n\r\n")
            m = re.match(rb"HTTP/1\.[01] (\d{3})(?: [^\r\n]*)?\r\n", head)
            check(m, "%s: not a status line: %r" % (conn.name, head[:80]))
            status = int(m.group(1))
            if 100 <= status < 200 and status != 101:
                self.interims.append(head)
                continue
            break
        self.head, self.status = head, status
        self.status_line = head.split(b"\r\n")[0]
        self.fields = []
        for line in head[:-4].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            self.fields.append((name.strip().lower(), value.strip()))
        te, cl = self.get(b"transfer-encoding"), self.get(b"content-length")
        if method == b"HEAD" or status in (101, 204, 304):
            self.body = b""
        elif te is not None and te.lower().endswith(b"chunked"):
            body = b""
            while True:
                line = conn.read_until(b"\r\n")
                body += line
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    break
                body += conn.read_exact(size + 2)
            while True:
                line = conn.read_until(b"\r\n")
                body += line
                if line == b"\r\n":
                    break
            self.body = body
        elif cl is not None:
            self.body = conn.read_exact(int(cl))
        else:
            self.body, _ = conn.read_to_end()
        self.raw = head + self.body

    def get(self, name):
        for n, v in self.fields:
            if n == name:
                return v
        return None


def expect_eof(conn, what):
    rest, how = conn.read_to_end()
    check(rest == b"" and how == "eof",
          "%s: expected the connection to close, got %r then %s" % (what, rest, how))


def echo_check(rsp, sent, what):
    check(rsp.status == 200, "%s: status %r" % (what, rsp.status_line))
    check(rsp.body == sent, "%s: origin received %r, client sent %r" % (what, rsp.body, sent))


# ---- scenarios -----------------------------------------------------------
def sc_keepalive():
    """--count requests, one at a time, on one connection. --mode nginx: the
    origin's echo must show one upstream port for all (with --same-port: the
    client's own port, spoof = client-ip-port); --mode echo: each echo is
    exactly the request, X-Req counts 1..N on one origin connection."""
    c = Conn()
    ports, conns = set(), set()
    for i in range(ARGS.count):
        req = b"GET /ka/%d?i=%d HTTP/1.1\r\nHost: ka.example\r\nUser-Agent: rt\r\n\r\n" % (i, i)
        c.send(req)
        rsp = c.read_response()
        if ARGS.mode == "nginx":
            check(rsp.status == 200, "request %d: %r" % (i, rsp.status_line))
            m = re.fullmatch(rb"peer=198\.18\.1\.2 port=(\d+) host=ka\.example "
                             rb"dst=198\.18\.2\.2:80\n", rsp.body)
            check(m, "request %d: echo %r" % (i, rsp.body))
            ports.add(int(m.group(1)))
        else:
            echo_check(rsp, req, "request %d" % i)
            check(rsp.get(b"x-req") == b"%d" % (i + 1),
                  "request %d: origin counted it as request %r on its connection" %
                  (i, rsp.get(b"x-req")))
            conns.add(rsp.get(b"x-conn"))
            ports.add(rsp.get(b"x-peer").decode())
    check(len(ports) == 1 and len(conns) <= 1,
          "origin saw %d upstream connections: %r %r" % (len(ports) + len(conns) - 1, ports,
                                                        conns))
    if ARGS.same_port:
        check(ports == {c.port}, "origin saw port %r, client port is %d" % (ports, c.port))
    ok("%d requests on one client connection (port %d) answered in order over one "
       "upstream connection (%s)" % (ARGS.count, c.port, ports.pop()))
    if ARGS.mode == "echo":
        # an origin-side close of the idle upstream ends the client's
        # connection too, as it would directly; a new one is served
        req = b"GET /idle-close HTTP/1.1\r\nHost: ka.example\r\n\r\n"
        c.send(req)
        first = c.read_response()
        echo_check(first, req, "/idle-close")
        await_log("close /idle-close conn=%s " % first.get(b"x-conn").decode())
        try:
            end = c.sock.recv(1)
        except OSError as e:
            end = e.__class__.__name__
        check(end == b"", "after the origin closed the idle upstream, the client's "
              "connection read %r, not its end" % (end,))
        c = Conn()
        req = b"GET /after-idle-close HTTP/1.1\r\nHost: ka.example\r\n\r\n"
        c.send(req)
        rsp = c.read_response()
        echo_check(rsp, req, "request after the origin closed the idle upstream")
        check(rsp.get(b"x-conn") != first.get(b"x-conn") and rsp.get(b"x-req") == b"1",
              "after the idle close: origin connection %r request %r" %
              (rsp.get(b"x-conn"), rsp.get(b"x-req")))
        ok("origin closed the idle upstream: the client's connection ended with it")


def sc_pipeline():
    """--count GETs with distinct paths in ONE write; responses in order, each
    echo exactly its request, all on one origin connection, counted 1..N."""
    c = Conn()
    reqs = [b"GET /pipe/%d/%s HTTP/1.1\r\nHost: pipe.example\r\nX-Seq: %d\r\n\r\n" %
            (i, b"x" * i, i) for i in range(ARGS.count)]
    c.send(b"".join(reqs))
    conns = set()
    for i, req in enumerate(reqs):
        rsp = c.read_response()
        echo_check(rsp, req, "pipelined request %d" % i)
        check(rsp.get(b"x-req") == b"%d" % (i + 1), "pipelined request %d: X-Req %r" %
              (i, rsp.get(b"x-req")))
        conns.add(rsp.get(b"x-conn"))
    check(len(conns) == 1, "pipelined requests used origin connections %r" % conns)
    c.send(b"GET /pipe/after HTTP/1.1\r\nHost: pipe.example\r\n\r\n")
    echo_check(c.read_response(), b"GET /pipe/after HTTP/1.1\r\nHost: pipe.example\r\n\r\n",
               "request after the pipeline")
    ok("%d pipelined requests in one write answered in order" % ARGS.count)


CHUNKED_UPLOAD = (b"POST /up/chunked HTTP/1.1\r\nHost: up.example\r\n"
                  b"Transfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                  b"5;name=val\r\nhello\r\n"
                  b"6 ; q=\"a b\\\"c\";flag\r\n world\r\n"
                  b"1a\r\n" + b"z" * 26 + b"\r\n"
                  b"0;last=1\r\nX-Sum: 37\r\nX-Other: two words\r\n\r\n")


def sc_mixed():
    """Eight requests of every framing in ONE write (CL body, HEAD, chunked
    body with extensions and trailers, 304, chunked response with trailers,
    103 interim, HEAD of the echo, GET): answered in order, framing intact."""
    c = Conn()
    body = b"0123456789" * 100
    steps = [
        (b"POST", b"POST /m/1 HTTP/1.1\r\nHost: m\r\nContent-Length: 1000\r\n\r\n" + body),
        (b"HEAD", b"HEAD /head-cl HTTP/1.1\r\nHost: m\r\n\r\n"),
        (b"POST", CHUNKED_UPLOAD),
        (b"GET", b"GET /304 HTTP/1.1\r\nHost: m\r\nIf-None-Match: \"v1\"\r\n\r\n"),
        (b"GET", b"GET /chunked-trailers HTTP/1.1\r\nHost: m\r\n\r\n"),
        (b"GET", b"GET /interim HTTP/1.1\r\nHost: m\r\n\r\n"),
        (b"HEAD", b"HEAD /m/7 HTTP/1.1\r\nHost: m\r\n\r\n"),
        (b"GET", b"GET /m/8 HTTP/1.1\r\nHost: m\r\n\r\n"),
    ]
    c.send(b"".join(req for _, req in steps))
    rs = [c.read_response(method) for method, _ in steps]
    echo_check(rs[0], steps[0][1], "1 POST Content-Length")
    check(rs[1].raw == b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
          "2 HEAD /head-cl: %r" % rs[1].raw)
    echo_check(rs[2], steps[2][1], "3 POST chunked")
    check(rs[3].raw == b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n",
          "4 GET /304: %r" % rs[3].raw)
    check(rs[4].raw == CHUNKED_RESPONSE, "5 GET /chunked-trailers: %r" % rs[4].raw)
    check(rs[5].interims == [b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"],
          "6 GET /interim: interim heads %r" % rs[5].interims)
    echo_check(rs[5], steps[5][1], "6 GET /interim")
    check(rs[6].status == 200 and rs[6].body == b"" and
          rs[6].get(b"content-length") == b"%d" % len(steps[6][1]), "7 HEAD: %r" % rs[6].raw)
    echo_check(rs[7], steps[7][1], "8 GET")
    conns = {r.get(b"x-conn") for r in (rs[0], rs[2], rs[5], rs[6], rs[7])}
    check(len(conns) == 1, "one pipeline, origin connections %r" % conns)
    ok("8 pipelined requests of mixed framing answered in order on one upstream connection")


def sc_upload():
    """Chunked upload with extensions and trailers, written in small pieces
    (boundaries inside size lines, extensions, data, trailers); then a
    Content-Length upload larger than the relay buffer; then a GET."""
    c = Conn()
    for i in range(0, len(CHUNKED_UPLOAD), 7):
        c.send(CHUNKED_UPLOAD[i:i + 7])
        time.sleep(0.002)
    echo_check(c.read_response(), CHUNKED_UPLOAD, "chunked upload (7-byte writes)")
    ok("chunked upload with extensions and trailers forwarded byte for byte")
    body = os.urandom(100000)
    req = (b"PUT /up/cl HTTP/1.1\r\nHost: up.example\r\nContent-Length: %d\r\n\r\n" % len(body) +
           body)
    c.send(req)
    rsp = c.read_response()
    echo_check(rsp, req, "100000-byte Content-Length upload")
    check(rsp.get(b"x-req") == b"2", "upload went to origin request %r" % rsp.get(b"x-req"))
    ok("100000-byte Content-Length upload forwarded byte for byte")
    req = b"GET /up/after HTTP/1.1\r\nHost: up.example\r\n\r\n"
    c.send(req)
    echo_check(c.read_response(), req, "GET after the uploads")
    ok("connection still framed after the uploads")


def sc_download():
    """A chunked response with extensions and trailers arrives byte for byte;
    the next request on the connection works."""
    c = Conn()
    c.send(b"GET /chunked-trailers HTTP/1.1\r\nHost: dl.example\r\n\r\n")
    rsp = c.read_response()
    check(rsp.raw == CHUNKED_RESPONSE, "chunked response: %r" % rsp.raw)
    check(c.buf == b"", "bytes after the chunked response: %r" % c.buf)
    req = b"GET /dl/after HTTP/1.1\r\nHost: dl.example\r\n\r\n"
    c.send(req)
    echo_check(c.read_response(), req, "GET after the chunked response")
    ok("chunked response with extensions and trailers relayed byte for byte; framing intact")


def sc_expect():
    """Expect: 100-continue: the body is sent only after 100 Continue arrived;
    then the final response. An origin that answers 417 at once (no 100):
    the client gets the 417 and the connection closes (its body is moot)."""
    c = Conn()
    head = (b"POST /expect HTTP/1.1\r\nHost: ex.example\r\nContent-Length: 11\r\n"
            b"Expect: 100-continue\r\n\r\n")
    c.send(head)
    interim = c.read_until(b"\r\n\r\n")
    check(interim == b"HTTP/1.1 100 Continue\r\n\r\n", "interim response %r" % interim)
    c.send(b"hello world")
    rsp = c.read_response(b"POST")
    echo_check(rsp, head + b"hello world", "final response after 100 Continue")
    req = b"GET /expect/after HTTP/1.1\r\nHost: ex.example\r\n\r\n"
    c.send(req)
    echo_check(c.read_response(), req, "GET after the 100-continue exchange")
    ok("100 Continue reached the client before the body was sent; final response followed")
    c = Conn()
    c.send(b"POST /expect-final HTTP/1.1\r\nHost: ex.example\r\nContent-Length: 5\r\n"
           b"Expect: 100-continue\r\n\r\n")
    rsp = c.read_response(b"POST")
    check(rsp.raw == b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n"
          b"Connection: close\r\n\r\n", "417 response: %r" % rsp.raw)
    expect_eof(c, "after 417")
    ok("417 without 100 Continue relayed, connection closed")


def sc_head304():
    """HEAD and 304 carry Content-Length but no body; the next request on the
    same connection (and upstream connection) must still be framed right."""
    c = Conn()
    c.send(b"HEAD /head-cl HTTP/1.1\r\nHost: h.example\r\n\r\n")
    rsp = c.read_response(b"HEAD")
    check(rsp.raw == b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "HEAD: %r" % rsp.raw)
    req = b"GET /h/2 HTTP/1.1\r\nHost: h.example\r\n\r\n"
    c.send(req)
    rsp = c.read_response()
    echo_check(rsp, req, "GET after HEAD")
    check(rsp.get(b"x-req") == b"2", "GET after HEAD: X-Req %r" % rsp.get(b"x-req"))
    c.send(b"GET /304 HTTP/1.1\r\nHost: h.example\r\nIf-None-Match: \"v1\"\r\n\r\n")
    rsp = c.read_response()
    check(rsp.raw == b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n",
          "304: %r" % rsp.raw)
    req = b"GET /h/4 HTTP/1.1\r\nHost: h.example\r\n\r\n"
    c.send(req)
    rsp = c.read_response()
    echo_check(rsp, req, "GET after 304")
    check(rsp.get(b"x-req") == b"4", "GET after 304: X-Req %r" % rsp.get(b"x-req"))
    check(c.buf == b"", "stray bytes: %r" % c.buf)
    ok("HEAD and 304 with Content-Length and no body: framing intact, upstream reused")
    n = Conn(ARGS.nginx)
    for path, size, char in ((b"/1k", 1024, b"a"), (b"/64k", 65536, b"b")):
        n.send(b"HEAD %s HTTP/1.1\r\nHost: n\r\n\r\n" % path)
        rsp = n.read_response(b"HEAD")
        check(rsp.status == 200 and rsp.get(b"content-length") == b"%d" % size and
              rsp.body == b"", "nginx HEAD %s: %r" % (path, rsp.raw))
        n.send(b"GET %s HTTP/1.1\r\nHost: n\r\n\r\n" % path)
        rsp = n.read_response()
        check(rsp.status == 200 and rsp.body == char * size, "nginx GET %s after HEAD: %r" %
              (path, rsp.raw[:200]))
    check(n.buf == b"", "stray bytes from nginx: %r" % n.buf)
    ok("nginx: HEAD then GET of /1k and /64k on one connection")


def sc_interim():
    """103 Early Hints reaches an HTTP/1.1 client; an HTTP/1.0 client gets
    only the final response."""
    c = Conn()
    req = b"GET /interim HTTP/1.1\r\nHost: i.example\r\n\r\n"
    c.send(req)
    rsp = c.read_response()
    check(rsp.interims == [b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"],
          "HTTP/1.1: interim heads %r" % rsp.interims)
    echo_check(rsp, req, "HTTP/1.1 final response")
    c = Conn()
    req = b"GET /interim HTTP/1.0\r\nHost: i.example\r\n\r\n"
    c.send(req)
    rsp = c.read_response()
    check(rsp.interims == [], "HTTP/1.0 client got interim heads %r" % rsp.interims)
    echo_check(rsp, req, "HTTP/1.0 final response")
    expect_eof(c, "HTTP/1.0 without keep-alive")
    ok("103 relayed to HTTP/1.1, dropped for HTTP/1.0 (then closed)")


def ws_send(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        hdr = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        hdr = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_recv(c):
    b0, b1 = c.read_exact(2)
    check(not b1 & 0x80, "server frame is masked")
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(c.read_exact(2), "big")
    elif n == 127:
        n = int.from_bytes(c.read_exact(8), "big")
    return b0, c.read_exact(n)


def sc_ws():
    """WebSocket (request field Connection: --ws-connection): 101 with the
    right Sec-WebSocket-Accept and the origin's greeting frame (sent with the
    101), then frames of 3, 300 and 70000 bytes echoed, then the close
    handshake and EOF."""
    c = Conn()
    c.send(b"GET /ws HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\n"
           b"Connection: " + ARGS.ws_connection.encode() + b"\r\n"
           b"Sec-WebSocket-Key: " + WS_KEY + b"\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
    rsp = c.read_response()
    check(rsp.head == b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + WS_ACCEPT + b"\r\n\r\n",
          "handshake response %r" % rsp.head)
    check(ws_recv(c) == (0x81, b"hello"), "greeting frame")
    big = os.urandom(70000)
    frames = [(1, b"one"), (1, b"two"), (2, b"\x00\xff" * 150), (2, big)]
    c.send(b"".join(ws_send(op, p) for op, p in frames[:3]))
    c.send(ws_send(2, big))
    for op, p in frames:
        b0, got = ws_recv(c)
        check(b0 == 0x80 | op and got == p, "echo of a %d-byte frame: opcode %#x, %d bytes" %
              (len(p), b0, len(got)))
    c.send(ws_send(8, b"\x03\xe8bye"))
    check(ws_recv(c) == (0x88, b"\x03\xe8bye"), "close frame")
    expect_eof(c, "after the WebSocket close")
    ok("WebSocket upgrade, 5 frames echoed (up to 70000 bytes), close handshake")


def sc_bulk():
    """Non-HTTP bytes (--size random bytes, first byte 0x16 like TLS) sent
    while reading the echo; half-close (the FIN with the last data); the
    echo must match, then EOF."""
    c = Conn()
    data = b"\x16\x03\x01" + os.urandom(ARGS.size - 3)

    def writer():
        for i in range(0, len(data), 1 << 16):
            if i + (1 << 16) >= len(data):
                c.cork()  # the last piece and the FIN in one segment
            c.sock.sendall(data[i:i + (1 << 16)])
        c.sock.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    got, how = c.read_to_end()
    t.join(5)
    check(how == "eof", "bulk echo ended by %s after %d bytes" % (how, len(got)))
    check(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(),
          "bulk echo differs: %d bytes back of %d" % (len(got), len(data)))
    ok("%d non-HTTP bytes tunnelled both ways, half-close propagated" % ARGS.size)


def sc_exchange():
    """Each --req in turn on one connection; every status must be --status;
    the last body must equal --expect-body (or match --expect-body-re), and
    carry each --expect-header; --expect-eof: the connection then closes."""
    c = Conn()
    for r in ARGS.req:
        req = unescape(r)
        c.send(req)
        rsp = c.read_response(req.split(b" ")[0])
        check(rsp.status == ARGS.status, "status %r, want %d" % (rsp.status_line, ARGS.status))
    if ARGS.expect_body is not None:
        want = unescape(ARGS.expect_body)
        check(rsp.body == want, "body %r, want %r" % (rsp.body, want))
    if ARGS.expect_body_re is not None:
        check(re.fullmatch(ARGS.expect_body_re.encode(), rsp.body),
              "body %r does not match /%s/" % (rsp.body, ARGS.expect_body_re))
    for h in ARGS.expect_header:
        check(unescape(h) + b"\r\n" in rsp.head, "head %r lacks %r" % (rsp.head, h))
    if ARGS.expect_eof:
        expect_eof(c, "after the last response")
    print(c.port)


def run_steps(c):
    for kind, value in ARGS.steps:
        if kind == "data":
            c.send(unescape(value))
        elif kind == "await":
            await_log(value)
        elif kind == "pause":
            time.sleep(float(value))


def await_log(prefix, timeout=5.0):
    """Waits until the origin's log has a line starting with prefix (the
    namespaces share the file system, not the network)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(ARGS.origin_log, encoding="utf-8") as f:
            if any(line.startswith(prefix) for line in f):
                return
        time.sleep(0.01)
    raise Fail("origin log has no line starting with %r after %.0f s" % (prefix, timeout))


def check_error(data, how, status, head_only=False):
    """data is exactly one generated error response with status, then the
    connection ended (how == 'eof')."""
    want = b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status].encode())
    check(data.startswith(want), "want %r, got %r" % (want, data[:120]))
    head, sep, body = data.partition(b"\r\n\r\n")
    check(sep, "incomplete head %r" % data)
    fields = head.split(b"\r\n")[1:]
    check(b"Connection: close" in fields, "no Connection: close in %r" % head)
    cl = [f for f in fields if f.lower().startswith(b"content-length:")]
    check(len(cl) == 1, "Content-Length fields %r" % cl)
    n = int(cl[0].split(b":")[1])
    if head_only:
        check(body == b"", "a response to HEAD has a body %r" % body)
    else:
        check(body.startswith(b"%d " % status) and len(body) == n and n <= 256,
              "body %r (Content-Length %d)" % (body, n))
    check(how == "eof", "after the error the connection ended by %s, not a close" % how)


def sc_error():
    """Sends the steps (--data / --await / --pause), reads --skip 200
    responses, then expects exactly one generated error: status line
    "HTTP/1.1 <status> <reason>", Connection: close, a short body "<status>
    ..." of its Content-Length (none for --head), then the connection
    closes; nothing else."""
    c = Conn()
    t0 = time.monotonic()
    run_steps(c)
    for i in range(ARGS.skip):
        rsp = c.read_response()
        check(rsp.status == 200, "response %d before the error: %r" % (i, rsp.status_line))
    data, how = c.read_to_end(timeout=ARGS.timeout)
    elapsed = time.monotonic() - t0
    check_error(data, how, ARGS.status, ARGS.head)
    check(elapsed >= ARGS.min_elapsed, "answered after %.2f s, before %.2f s" %
          (elapsed, ARGS.min_elapsed))
    print(c.port)


def sc_truncated():
    """--req; the origin fails after starting its response: the client sees
    that response's head with --status, part of its body (less than its
    Content-Length, if it has one), then the connection ends — and no
    second status line. With --or-error S, a generated error S (as in
    'error') is accepted instead, if none of the response had gone out."""
    c = Conn()
    c.send(unescape(ARGS.req[0]))
    data, how = c.read_to_end(timeout=ARGS.timeout)
    if ARGS.or_error and data.startswith(b"HTTP/1.1 %d " % ARGS.or_error):
        check_error(data, how, ARGS.or_error)
        ok("invalid response: answered %d before any of it went out" % ARGS.or_error)
        print(c.port)
        return
    check(how in ("eof", "reset"), "connection not ended (%s)" % how)
    head, sep, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 %d " % ARGS.status) and sep,
          "want a %d head, got %r" % (ARGS.status, data[:120]))
    cl = re.search(rb"\r\nContent-Length: (\d+)", head)
    check(not cl or len(body) < int(cl.group(1)), "body not truncated: %d bytes" % len(body))
    check(data.count(b"HTTP/1.") == 1, "a second status line: %r" % data[-300:])
    ok("truncated response: head and %d body bytes, then %s, no second status line" %
       (len(body), how))
    print(c.port)


def sc_raw():
    """Sends the steps; the bytes that come back must equal --expect (default:
    everything sent, i.e. an echo); then the client half-closes (with
    --shut-early: at once, the data and the FIN in one segment) and the
    connection must end (the EOF went through both ways). --expect-empty:
    the connection must end without a single byte coming back."""
    c = Conn()
    if ARGS.shut_early:
        c.cork()
    run_steps(c)
    if ARGS.expect_empty:
        data, how = c.read_to_end(timeout=ARGS.timeout)
        check(data == b"" and how in ("eof", "reset"),
              "want the connection closed at once, got %r then %s" % (data, how))
        print(c.port)
        return
    sent = b"".join(d for w, d in c.transcript if w == "send")
    want = unescape(ARGS.expect) if ARGS.expect else sent
    if ARGS.shut_early:
        c.shut()
    got = c.read_exact(len(want))
    check(got == want, "received %r, want %r" % (got, want))
    if not ARGS.shut_early:
        c.shut()
    data, how = c.read_to_end(timeout=ARGS.timeout)
    check(data == b"" and how == "eof",
          "after our half-close: %r then %s (want the peer's EOF)" % (data, how))
    print(c.port)


SCENARIOS = {n[3:]: f for n, f in globals().items() if n.startswith("sc_")}


class Step(argparse.Action):
    def __call__(self, parser, ns, value, option=None):
        steps = getattr(ns, "steps", None) or []
        steps.append((self.dest, value))
        ns.steps = steps


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    ap.add_argument("--to", default="198.18.2.2:8082")
    ap.add_argument("--nginx", default="198.18.2.2:80")
    ap.add_argument("--origin-log")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", type=int, default=1 << 20)
    ap.add_argument("--mode", choices=("nginx", "echo"), default="echo")
    ap.add_argument("--same-port", action="store_true")
    ap.add_argument("--req", action="append", default=[])
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--expect-body")
    ap.add_argument("--expect-body-re")
    ap.add_argument("--expect-header", action="append", default=[])
    ap.add_argument("--expect-eof", action="store_true")
    ap.add_argument("--expect")
    ap.add_argument("--expect-empty", action="store_true")
    ap.add_argument("--head", action="store_true")
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--or-error", type=int)
    ap.add_argument("--ws-connection", default="Upgrade")
    ap.add_argument("--shut-early", action="store_true")
    ap.add_argument("--min-elapsed", type=float, default=0.0)
    ap.add_argument("--data", action=Step, dest="data")
    ap.add_argument("--await", action=Step, dest="await")
    ap.add_argument("--pause", action=Step, dest="pause")
    ap.set_defaults(steps=[])
    ARGS = ap.parse_args()
    try:
        SCENARIOS[ARGS.scenario]()
    except (Fail, OSError) as e:
        print("FAIL: %s: %s" % (ARGS.scenario, e), file=sys.stderr)
        for c in CONNS:
            c.dump()
        sys.exit(1)


if __name__ == "__main__":
    main()
