#!/usr/bin/env python3
"""Origins and clients for invisible_limits.sh: each case runs once through
Remora (intercepted port P) and once with plain routing (port P + 100), and
prints one outcome line; the script compares the two.

  invisible.py origin ADDR            serve every case (origin namespace)
  invisible.py client CASE HOST PORT  run one case, print its outcome
"""
import socket
import sys
import threading
import time

from tunneldata import listen

PORTS = {"kaclose": 9021, "pause": 9022, "bighead": 9023, "fields": 9024,
         "longline": 9025}
ORIGIN_KEEPALIVE = 1.0  # the origin closes an idle connection after this
PAUSE = 2.5             # a response body pauses this long in its middle
BODY = b"x" * 1000


def read_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data


def answer(c, body, extra=b""):
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
              % (len(body), extra, body))


def kaclose(c):
    """Keep-alive like nginx's keepalive_timeout: an idle connection is
    closed by the origin after ORIGIN_KEEPALIVE."""
    c.settimeout(ORIGIN_KEEPALIVE)
    while True:
        try:
            head = read_head(c)
        except socket.timeout:
            return
        if head is None:
            return
        answer(c, b"ok")


def pause(c):
    """Long-poll / server-sent events: half a body, a pause, the rest."""
    if read_head(c) is None:
        return
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (2 * len(BODY)) + BODY)
    time.sleep(PAUSE)
    c.sendall(BODY)
    time.sleep(0.5)


def bighead(c):
    """A 100 KiB response head (big Set-Cookie and policy fields), which
    Chromium and curl read."""
    if read_head(c) is None:
        return
    extra = b"".join(b"X-Big-%d: %s\r\n" % (i, b"b" * 4000) for i in range(25))
    answer(c, b"big", extra)


def count_fields(c):
    """Answers with the number of header fields and the request line's
    length it got (Go's and nginx's defaults take 150 fields and 10 KiB)."""
    head = read_head(c)
    if head is None:
        return
    lines = head.split(b"\r\n")
    answer(c, b"line=%d fields=%d" % (len(lines[0]), len([x for x in lines[1:] if x])))


def guard(c, handler):
    try:
        handler(c)
    except OSError:
        pass
    finally:
        c.close()


def serve(addr, port, handler):
    """tunneldata.listen in the background, each connection closed after
    handler, whatever it raised."""
    threading.Thread(target=listen, args=(port, guard, handler), kwargs={"addr": addr},
                     daemon=True).start()


def origin(addr):
    handlers = {"kaclose": kaclose, "pause": pause, "bighead": bighead,
                "fields": count_fields, "longline": count_fields}
    for name, port in PORTS.items():
        for p in (port, port + 100):
            serve(addr, p, handlers[name])
    while True:
        time.sleep(3600)


def response(s):
    """Status and body of one Content-Length response, or what ended it."""
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            return "eof after %d bytes" % len(data)
        data += d
    head, body = data.split(b"\r\n\r\n", 1)
    status = head.split(b" ")[1].decode()
    n = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            return "%s, body cut at %d of %d" % (status, len(body), n)
        body += d
    return "%s %s" % (status, body[:40].decode())


def client(case, host, port):
    s = socket.create_connection((host, port), timeout=10)
    if case == "kaclose":
        # a request, then idle: the origin's close must reach the client
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = response(s)
        t0 = time.monotonic()
        s.settimeout(ORIGIN_KEEPALIVE + 1.5)
        try:
            end = "eof" if s.recv(1) == b"" else "bytes"
        except socket.timeout:
            return "%s; still open %.1f s after the origin closed" % (first, 1.5)
        except ConnectionResetError:
            end = "reset"
        return "%s; %s %s the origin's keep-alive" % (
            first, end, "at" if time.monotonic() - t0 < ORIGIN_KEEPALIVE + 0.5 else "after")
    if case == "pause":
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        return response(s)
    if case == "bighead":
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        return response(s)
    if case == "fields":
        extra = b"".join(b"X-F%d: %d\r\n" % (i, i) for i in range(150))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
        return response(s)
    if case == "longline":
        s.sendall(b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        return response(s)
    return "unknown case"


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        origin(sys.argv[2])
    else:
        try:
            print(client(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        except OSError as e:
            print("error: %s" % e.__class__.__name__)
