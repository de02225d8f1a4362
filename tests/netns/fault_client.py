#!/usr/bin/env python3
"""Clients for Remora's fault-injection test and soak (Python 3 stdlib only).

Runs in the client namespace only. Each scenario asserts what it sees, prints
"ok: ..." on stderr and exits 0, or prints why and exits 1. Scenarios that
are about one connection print its local port on stdout, so the test can
find Remora's log line for it. Every read is bounded (--timeout).

  get             one request (--path); --status S expected; the body must be
                  complete (Content-Length) unless --truncated, which wants
                  the head, fewer body bytes than announced, then the end
  none            connects, sends nothing: closed without a byte
  slowloris       a request head, one byte every --interval: 408, then closed
  upload-abort    head + --send of --cl body bytes, then a reset (--how rst)
                  or a FIN (--how fin), without reading
  download-abort  reads --read body bytes of --path, then resets
  slow-reader     sends the request and reads nothing for --hold s; then the
                  connection must turn out to have been closed (body cut short)
  big             reads --path (Connection: close), discarding; must be 200 and
                  complete (a close-delimited body: --bytes long); prints
                  bytes and MB/s on stderr
  bg              the well-behaved background client: GETs --path in a loop,
                  alternating 20 keep-alive requests on one connection and
                  one Connection: close request; one line per request in --out
                  ("ok EPOCH" / "fail EPOCH why"); stops when --stop exists
                  or after --max-seconds; while --pause exists it holds no
                  connection and says so by creating --pause + ".ack"
"""
import argparse
import os
import re
import select
import socket
import struct
import sys
import time

ARGS = None


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def ok(msg):
    print("ok: " + msg, file=sys.stderr)


def connect(timeout=None):
    host, port = ARGS.to.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout or ARGS.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def request(path, close=False, extra=b""):
    return (b"GET %s HTTP/1.1\r\nHost: fault.example\r\n%s%s\r\n" %
            (path.encode(), b"Connection: close\r\n" if close else b"", extra))


class Reader:
    """Buffered reads on s; the end of the connection is 'eof' or 'reset'."""

    def __init__(self, s):
        self.s, self.buf, self.end = s, b"", None

    def fill(self):
        try:
            data = self.s.recv(1 << 16)
        except ConnectionResetError:
            self.end = "reset"
            return False
        except socket.timeout:
            raise Fail("nothing received for %.1f s" % self.s.gettimeout())
        if not data:
            self.end = "eof"
            return False
        self.buf += data
        return True

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            if not self.fill():
                raise Fail("connection ended (%s) before a response head; got %r" %
                           (self.end, self.buf[:120]))
        i = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:i], self.buf[i:]
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", h)
        check(m, "not a status line: %r" % h[:120])
        fields = {}
        for line in h[:-4].split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            fields[k.strip().lower()] = v.strip()
        return int(m.group(1)), fields, h

    def body(self, n):
        """Reads up to n body bytes; returns how many arrived before the end."""
        got = min(len(self.buf), n)
        self.buf = self.buf[got:]
        while got < n and self.end is None:
            try:
                k = self.s.recv_into(SINK, min(len(SINK), n - got))
            except ConnectionResetError:
                self.end = "reset"
                break
            except socket.timeout:
                raise Fail("body stalled at %d of %d bytes" % (got, n))
            if k == 0:
                self.end = "eof"
                break
            got += k
        return got

    def to_end(self):
        """Discards everything until the connection ends; returns the count."""
        n = len(self.buf)
        self.buf = b""
        while self.end is None:
            try:
                k = self.s.recv_into(SINK)
            except ConnectionResetError:
                self.end = "reset"
                break
            except socket.timeout:
                raise Fail("the connection did not end within %.1f s" % self.s.gettimeout())
            if k == 0:
                self.end = "eof"
                break
            n += k
        return n


SINK = bytearray(1 << 20)


def sc_get():
    s = connect()
    print(s.getsockname()[1], flush=True)
    t0 = time.monotonic()
    s.sendall(request(ARGS.path))
    r = Reader(s)
    status, fields, head = r.head()
    el = time.monotonic() - t0
    check(status == ARGS.status, "status %d, want %d (%r)" % (status, ARGS.status, head[:200]))
    cl = int(fields.get(b"content-length", b"-1"))
    if ARGS.truncated and cl < 0:
        check(fields.get(b"transfer-encoding") == b"chunked", "neither framing: %r" % head)
        body = r.buf
        r.buf = b""
        while r.fill():
            body, r.buf = body + r.buf, b""
        check(not body.endswith(b"0\r\n\r\n"), "the chunked body ended properly")
        ok("%s: %d, %d chunked body bytes, then %s" % (ARGS.path, status, len(body), r.end))
    elif ARGS.truncated:
        got = r.body(cl)
        check(got < cl, "body complete (%d bytes), want it cut short" % got)
        ok("%s: %d, %d of %d body bytes, then %s" % (ARGS.path, status, got, cl, r.end))
    else:
        got = r.body(cl) if cl >= 0 else r.to_end()
        check(cl < 0 or got == cl, "body %d of %d bytes, then %s" % (got, cl, r.end))
        if status >= 400:
            check(fields.get(b"connection") == b"close", "no Connection: close: %r" % head)
            rest = r.to_end()
            check(rest == 0, "%d bytes after the error response" % rest)
        ok("%s: %d after %.2f s, %d body bytes" % (ARGS.path, status, el, got))
    check(el >= ARGS.min_elapsed, "answered after %.2f s, want >= %.2f" % (el, ARGS.min_elapsed))
    check(el <= ARGS.max_elapsed, "answered after %.2f s, want <= %.2f" % (el, ARGS.max_elapsed))


def sc_none():
    s = connect()
    print(s.getsockname()[1], flush=True)
    t0 = time.monotonic()
    r = Reader(s)
    n = r.to_end()
    el = time.monotonic() - t0
    check(n == 0, "%d bytes for a client that sent nothing" % n)
    check(el >= ARGS.min_elapsed, "closed after %.2f s, want >= %.2f" % (el, ARGS.min_elapsed))
    ok("silent client closed (%s) after %.2f s without a byte" % (r.end, el))


def sc_slowloris():
    s = connect()
    print(s.getsockname()[1], flush=True)
    req = request("/ok")
    t0 = time.monotonic()
    sent = 0
    while sent < len(req) - 1 and time.monotonic() - t0 < ARGS.timeout:  # never the last byte
        try:
            s.sendall(req[sent:sent + 1])
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
        if select.select([s], [], [], ARGS.interval)[0]:
            break  # an answer (or the end) arrived
    el = time.monotonic() - t0
    r = Reader(s)
    status, fields, head = r.head()
    check(status == 408, "status %d, want 408: %r" % (status, head))
    r.body(int(fields.get(b"content-length", b"0")))
    r.to_end()
    check(el >= ARGS.min_elapsed, "408 after %.2f s, want >= %.2f" % (el, ARGS.min_elapsed))
    ok("slowloris: 408 after %.2f s (%d of %d head bytes sent), then %s" %
       (el, sent, len(req), r.end))


def sc_upload_abort():
    s = connect()
    print(s.getsockname()[1], flush=True)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: fault.example\r\nContent-Length: %d\r\n\r\n"
              % ARGS.cl)
    chunk = bytes(1 << 16)
    left = ARGS.send
    while left > 0:
        left -= s.send(chunk[:min(left, len(chunk))])
    time.sleep(0.2)  # let the bytes reach the origin
    if ARGS.how == "rst":
        rst_close(s)
    else:
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.2)
        s.close()
    ok("upload of %d bytes stopped after %d (%s)" % (ARGS.cl, ARGS.send, ARGS.how))


def sc_download_abort():
    s = connect()
    print(s.getsockname()[1], flush=True)
    s.sendall(request(ARGS.path))
    r = Reader(s)
    status, fields, _ = r.head()
    check(status == 200, "status %d" % status)
    got = r.body(ARGS.read)
    check(got == ARGS.read, "only %d bytes before the end (%s)" % (got, r.end))
    rst_close(s)
    ok("download reset by the client after %d bytes" % got)


def sc_slow_reader():
    s = connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    print(s.getsockname()[1], flush=True)
    s.sendall(request(ARGS.path))
    time.sleep(ARGS.hold)
    r = Reader(s)
    status, fields, _ = r.head()
    check(status == 200, "status %d" % status)
    cl = int(fields[b"content-length"])
    got = r.body(cl)
    check(got < cl, "the whole body (%d bytes) came: the connection was not cut" % cl)
    ok("slow reader: after %.1f s without reading, %d of %d bytes, then %s" %
       (ARGS.hold, got, cl, r.end))


def sc_big():
    s = connect()
    print(s.getsockname()[1], flush=True)
    t0 = time.monotonic()
    s.sendall(request(ARGS.path, close=True))
    r = Reader(s)
    status, fields, _ = r.head()
    check(status == 200, "status %d" % status)
    if b"content-length" in fields:
        cl = int(fields[b"content-length"])
        got = r.body(cl)
    else:  # close-delimited: --bytes says how many
        cl, got = ARGS.bytes, r.to_end()
        check(r.end == "eof", "close-delimited body ended by %s" % r.end)
    el = time.monotonic() - t0
    check(got == cl, "%d of %d bytes, then %s" % (got, cl, r.end))
    ok("%d bytes in %.1f s (%.0f MB/s)" % (got, el, got / el / 1e6))


def sc_bg():
    out = open(ARGS.out, "a", buffering=1)
    deadline = time.monotonic() + ARGS.max_seconds
    ack = ARGS.pause + ".ack" if ARGS.pause else None
    s, r, on_conn = None, None, 0
    n = 0
    while time.monotonic() < deadline and not os.path.exists(ARGS.stop):
        if ARGS.pause and os.path.exists(ARGS.pause):
            if s is not None:
                s.close()
                s = None
            if not os.path.exists(ack):
                open(ack, "w").close()
            time.sleep(0.02)
            continue
        if ack and os.path.exists(ack):
            os.unlink(ack)
        close = n % 21 == 20
        n += 1
        try:
            if s is None:
                s, on_conn = connect(), 0
                r = Reader(s)
            s.sendall(request(ARGS.path, close=close))
            on_conn += 1
            status, fields, head = r.head()
            check(status == 200, "status %d" % status)
            cl = int(fields.get(b"content-length", b"-1"))
            got = r.body(cl)
            check(got == cl, "body %d of %d bytes, then %s" % (got, cl, r.end))
            if close:
                r.to_end()
                s.close()
                s = None
            out.write("ok %.3f\n" % time.time())
        except (Fail, OSError) as e:
            out.write("fail %.3f request %d on its connection: %s\n" % (time.time(), on_conn, e))
            if s is not None:
                s.close()
            s = None
        time.sleep(ARGS.gap)
    if s is not None:
        s.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", choices=["get", "none", "slowloris", "upload-abort",
                                         "download-abort", "slow-reader", "big", "bg"])
    ap.add_argument("--to", default="198.18.2.2:8090")
    ap.add_argument("--path", default="/ok")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--truncated", action="store_true")
    ap.add_argument("--min-elapsed", type=float, default=0.0)
    ap.add_argument("--max-elapsed", type=float, default=30.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--cl", type=int, default=1 << 20)
    ap.add_argument("--send", type=int, default=1 << 19)
    ap.add_argument("--how", choices=["rst", "fin"], default="rst")
    ap.add_argument("--read", type=int, default=8 << 20)
    ap.add_argument("--hold", type=float, default=3.5)
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--stop", default="/nonexistent")
    ap.add_argument("--pause")
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--max-seconds", type=float, default=150)
    ARGS = ap.parse_args()
    try:
        globals()["sc_" + ARGS.scenario.replace("-", "_")]()
    except Fail as e:
        print("FAIL: %s %s: %s" % (ARGS.scenario, ARGS.path, e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
