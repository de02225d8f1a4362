#!/usr/bin/env python3
"""Misbehaving origin for Remora's fault-injection test and soak (stdlib only).

Runs in the origin namespace only; one thread per connection, blocking
sockets. Listens on all IPv4 addresses, port --port (8090). HTTP/1.1 with
keep-alive; the behaviour is chosen by the request path (before '?'), and
?n=BYTES sizes the bodies that have one:

  /ok                200, "ok\\n" (keep-alive)
  /reset-now         a TCP reset as soon as the request head was read
  /reset-mid         200 announcing n (default 8 MiB) bytes; 256 KiB of them,
                     then, once they are acknowledged, a TCP reset
  /close-now         closes without answering
  /close-early       200 announcing n (default 100000) bytes; 5000 of them, close
  /stall-head        never answers (holds the connection until EOF, 60 s at most)
  /stall-in-head     "HTTP/1.1 200 OK\\r\\nContent-Le", then as /stall-head
  /stall-body        200 announcing 1000 bytes, 100 of them, then as /stall-head
  /garbage           an HTTP/1.1 status line whose code is garbage, then close
  /chunk-overflow    a chunked head; 0.2 s later a chunk-size of 20 hex digits
  /chunk-negative    a chunked head; 0.2 s later the chunk-size line "-1"
  /big               200 with Content-Length n (default 1 GiB) of zeros, sent
                     with sendfile() from --zero-file (fast, little memory)
  /close-big         200 without Content-Length: n (default 256 MiB) zeros,
                     then close (a close-delimited body: Remora copies it)
  /upload            reads a Content-Length body, answers 200 "got N\\n"
  anything else      as /ok

Log (--log, one line per event, flushed at once):
  accept - conn=N peer=ADDR:PORT
  request PATH conn=N peer=ADDR:PORT
  close PATH conn=N peer=ADDR:PORT how=eof|reset|done|timeout|error sent=N got=N
(got: request body bytes received by /upload; sent: body bytes sent.)
"""
import argparse
import fcntl
import itertools
import os
import socket
import struct
import sys
import termios
import threading
import time

LOG = None
LOG_LOCK = threading.Lock()
CONN_IDS = itertools.count(1)
ZERO_FILE = None
HOLD_MAX = 60.0
ZEROS = bytes(1 << 20)


def log(line):
    with LOG_LOCK:
        LOG.write(line + "\n")
        LOG.flush()


class Closed(Exception):
    """The peer closed (how = eof | reset)."""

    def __init__(self, how):
        super().__init__(how)
        self.how = how


class Conn:
    def __init__(self, sock, peer):
        self.sock = sock
        self.buf = b""
        self.peer = "%s:%d" % peer
        self.cid = next(CONN_IDS)
        self.sent = 0
        self.got = 0

    def fill(self):
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError:
            raise Closed("reset")
        if not data:
            raise Closed("eof")
        self.buf += data

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Closed("error")
            self.fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def send(self, data):
        self.sock.sendall(data)

    def hold(self):
        """Waits for the peer to close (bounded)."""
        self.sock.settimeout(HOLD_MAX)
        try:
            while True:
                self.fill()
                self.buf = b""
        except socket.timeout:
            raise Closed("timeout")

    def reset(self, when_acked):
        if when_acked:
            for _ in range(300):
                outq = struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ,
                                                      b"\0" * 4))[0]
                if outq == 0:
                    break
                time.sleep(0.01)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        raise Closed("reset-sent")


def parse(head):
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    target = parts[1].decode("latin-1") if len(parts) > 1 else "/"
    path, _, query = target.partition("?")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    n = None
    for kv in query.split("&"):
        k, _, v = kv.partition("=")
        if k == "n" and v.isdigit():
            n = int(v)
    close = b"close" in fields.get(b"connection", b"").lower()
    return path, n, fields, close


def send_zeros_sendfile(c, n):
    """n zero bytes from ZERO_FILE by sendfile(), looping over the file."""
    size = os.fstat(ZERO_FILE.fileno()).st_size
    fd = c.sock.fileno()
    while c.sent < n:
        off = c.sent % size
        k = os.sendfile(fd, ZERO_FILE.fileno(), off, min(size - off, n - c.sent))
        if k == 0:
            raise Closed("error")
        c.sent += k


def send_zeros_copy(c, n):
    mv = memoryview(ZEROS)
    while c.sent < n:
        k = c.sock.send(mv[:min(len(ZEROS), n - c.sent)])
        c.sent += k


def respond(c, path, n, fields, close):
    """Serves one request; returns False when the connection must end."""
    conn_hdr = b"Connection: close\r\n" if close else b""
    if path == "/reset-now":
        c.reset(when_acked=False)
    if path == "/reset-mid":
        n = n or 8 << 20
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
        send_zeros_copy(c, min(n, 256 << 10))
        c.reset(when_acked=True)
    if path == "/close-now":
        return False
    if path == "/close-early":
        n = n or 100000
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
        send_zeros_copy(c, min(n, 5000))
        return False
    if path == "/stall-head":
        c.hold()
    if path == "/stall-in-head":
        c.send(b"HTTP/1.1 200 OK\r\nContent-Le")
        c.hold()
    if path == "/stall-body":
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"s" * 100)
        c.sent = 100
        c.hold()
    if path == "/garbage":
        c.send(b"HTTP/1.1 2000 garbage \x01\x02\r\n\r\n" * 20)
        return False
    if path in ("/chunk-overflow", "/chunk-negative"):
        c.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        time.sleep(0.2)
        c.send(b"fffffffffffffffffffff\r\n" if path == "/chunk-overflow" else b"-1\r\n")
        c.hold()
    if path == "/big":
        n = 1 << 30 if n is None else n
        c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
               b"Content-Length: %d\r\n%s\r\n" % (n, conn_hdr))
        send_zeros_sendfile(c, n)
        return not close
    if path == "/close-big":
        n = 256 << 20 if n is None else n
        c.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
               b"Connection: close\r\n\r\n")
        send_zeros_copy(c, n)
        return False
    if path == "/upload":
        want = int(fields.get(b"content-length", b"0") or b"0")
        while len(c.buf) < want:
            c.fill()
            c.got = min(len(c.buf), want)
        c.got = want
        c.buf = c.buf[want:]
        body = b"got %d\n" % want
        c.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), conn_hdr) + body)
        return not close
    c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n%s\r\nok\n"
           % conn_hdr)
    return not close


def serve(sock, peer):
    c = Conn(sock, peer)
    log("accept - conn=%d peer=%s" % (c.cid, c.peer))
    path, how = "-", "done"
    try:
        while True:
            try:
                head = c.read_head()
            except Closed as e:
                how = "eof" if e.how == "eof" and path != "-" else e.how
                break
            path, n, fields, close = parse(head)
            log("request %s conn=%d peer=%s" % (path, c.cid, c.peer))
            if not respond(c, path, n, fields, close):
                break
    except Closed as e:
        how = e.how
    except (ConnectionResetError, BrokenPipeError):
        how = "reset"
    except OSError:
        how = "error"
    finally:
        log("close %s conn=%d peer=%s how=%s sent=%d got=%d" %
            (path, c.cid, c.peer, how, c.sent, c.got))
        try:
            sock.close()
        except OSError:
            pass


def main():
    global LOG, ZERO_FILE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--zero-file", required=True,
                    help="a file of zeros (created, 16 MiB, if missing) for /big")
    args = ap.parse_args()
    LOG = open(args.log, "a", encoding="utf-8")
    if not os.path.exists(args.zero_file):
        with open(args.zero_file, "wb") as f:
            f.write(bytes(16 << 20))
    ZERO_FILE = open(args.zero_file, "rb")
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", args.port))
    ls.listen(1024)
    print("listening", flush=True)
    while True:
        sock, peer = ls.accept()
        threading.Thread(target=serve, args=(sock, peer), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
