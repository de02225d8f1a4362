#!/usr/bin/env python3
"""Origins and client checks for edges.sh: every case runs once through
Remora (intercepted port P) and once with plain routing (port P + 100), and
prints one normalised outcome line per run; edges.sh compares the two.

  edges.py origin ADDR            serve every case on ADDR (origin namespace)
  edges.py client CASE HOST PORT  run one case, print its outcome
"""
import socket
import sys
import threading
import time

BANNER = b"220 edges.example ESMTP ready\r\n"
CASES = {  # name: intercepted port
    "banner": 9001, "echo": 9002, "proxy": 9003, "reused": 9004,
    "odd": 9005, "cookies": 9006, "longpoll": 9007, "quiet": 9008,
    "refused": 9009, "ws": 9010,
}
BIG_FIELD = "X-Big: " + "b" * 40000 + "\r\n"
ODD = {
    "/barelf": b"HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\nbarel",
    "/fold": b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b\r\nContent-Length: 4\r\n\r\nfold",
    "/wscolon": b"HTTP/1.1 200 OK\r\nContent-Length : 7\r\nX-A: 1\r\n\r\nwscolon",
    # lines that name no field (left out by Remora, skipped by browsers and by
    # curl; a line with no colon at all curl refuses, "Weird server reply",
    # while Chromium and Firefox skip it: the unit tables cover that one)
    "/noname": b"HTTP/1.1 200 OK\r\nX Y: 1\r\n: z\r\nContent-Length: 6\r\n\r\nnoname",
    "/999": b"HTTP/1.1 999 Odd\r\nContent-Length: 3\r\n\r\n999",
    "/noreason": b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nnr",
    "/clte": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"4\r\nclte\r\n0\r\n\r\n",
    "/10te": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n10te\r\n0\r\n\r\n",
    "/icy": b"ICY 200 OK\r\nicy-name: test\r\n\r\nstream-bytes",
    "/bighead": ("HTTP/1.1 200 OK\r\n" + BIG_FIELD + "Content-Length: 3\r\n\r\nbig").encode(),
}


def read_head(s, limit=262144):
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None, data
        data += chunk
        if len(data) > limit:
            return None, data
    i = data.find(b"\r\n\r\n")
    j = i + 4 if i >= 0 else data.find(b"\n\n") + 2
    return data[:j], data[j:]


def serve(addr, port, handler):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(64)

    def loop():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=guard, args=(handler, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def guard(handler, c):
    try:
        handler(c)
    except OSError:
        pass
    finally:
        c.close()


def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            return
        c.sendall(d)


def banner(c):
    c.sendall(BANNER)
    echo(c)


def proxy(c):
    """An explicit proxy: answers with the request line it got; CONNECT
    gets 200 and then an echo tunnel."""
    head, rest = read_head(c)
    if head is None:
        return
    line = head.split(b"\r\n", 1)[0]
    if line.startswith(b"CONNECT "):
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n" + rest)
        echo(c)
        return
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
              % (len(line), line))


def reused(c):
    """Answers one request and keeps the connection; closes under the next
    one without a byte of response."""
    head, _ = read_head(c)
    if head is None:
        return
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    read_head(c)


def odd(c):
    head, _ = read_head(c)
    if head is None:
        return
    path = head.split(b" ")[1].decode()
    c.sendall(ODD.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
    c.shutdown(socket.SHUT_WR)
    time.sleep(0.5)


def cookies(c):
    head, _ = read_head(c)
    if head is None:
        return
    n = head.count(b"\r\nCookie: ")
    body = b"cookies=%d head=%d" % (n, len(head))
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
              % (len(body), body))


def longpoll(c):
    head, _ = read_head(c)
    if head is None:
        return
    time.sleep(65)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nanswer")


HANDLERS = {"banner": banner, "echo": echo, "proxy": proxy, "reused": reused, "odd": odd,
            "cookies": cookies, "longpoll": longpoll, "quiet": echo}


def ws_origin(addr):
    """A WebSocket echo server (python3-websockets) on the ws ports."""
    import asyncio
    import websockets

    async def echo(ws, path=None):
        async for msg in ws:
            await ws.send(msg)

    async def main():
        for p in (CASES["ws"], CASES["ws"] + 100):
            await websockets.serve(echo, addr, p, ping_interval=None)
        await asyncio.Future()
    asyncio.run(main())


def origin(addr):
    for name, port in CASES.items():
        if name in HANDLERS:
            for p in (port, port + 100):
                serve(addr, p, HANDLERS[name])
    try:
        import websockets  # noqa: F401
        threading.Thread(target=ws_origin, args=(addr,), daemon=True).start()
    except ImportError:
        pass
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def connect(host, port, timeout=10):
    return socket.create_connection((host, port), timeout=timeout)


def recv_until_close(s):
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return data + b"<reset>"
        if not d:
            return data
        data += d


def client(case, host, port, arg):
    t0 = time.monotonic()
    if case == "banner":
        s = connect(host, port)
        s.settimeout(2)
        got = s.recv(100)
        ms = (time.monotonic() - t0) * 1000
        return "banner=%r fast=%s" % (got, ms < 1000)
    if case == "echo":
        s = connect(host, port)
        s.settimeout(2)
        s.sendall(b"HELLO")
        return "echo=%r fast=%s" % (s.recv(100), (time.monotonic() - t0) < 1)
    if case == "proxy-get":
        s = connect(host, port)
        s.sendall(b"GET http://h.example/x?q=1 HTTP/1.1\r\nHost: h.example\r\n\r\n")
        return "got=%r" % recv_until_close(s).split(b"\r\n\r\n", 1)[-1]
    if case == "proxy-connect":
        s = connect(host, port)
        s.settimeout(5)
        s.sendall(b"CONNECT h.example:443 HTTP/1.1\r\nHost: h.example:443\r\n\r\n")
        head, rest = read_head(s)
        s.sendall(b"\x16\x03\x01 tunnel bytes")
        got = rest
        while len(got) < 16:
            got += s.recv(100)
        return "head=%r tunnel=%r" % (head.split(b"\r\n")[0], got)
    if case == "reused":
        s = connect(host, port)
        s.settimeout(5)
        s.sendall(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")
        head, rest = read_head(s)
        while len(rest) < 2:
            rest += s.recv(10)
        s.sendall(b"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
        return "first=%r second=%r" % (head.split(b"\r\n")[0], recv_until_close(s))
    if case == "cookies":
        s = connect(host, port)
        s.settimeout(5)
        cookie = "".join("Cookie: c%d=%s\r\n" % (i, "v" * 7000) for i in range(3))
        s.sendall(("GET / HTTP/1.1\r\nHost: h\r\n%s\r\n" % cookie).encode())
        r = recv_until_close(s)
        return "status=%r body=%r" % (r.split(b"\r\n")[0], r.split(b"\r\n\r\n", 1)[-1])
    if case == "longpoll":
        s = connect(host, port, timeout=90)
        s.sendall(b"GET /poll HTTP/1.1\r\nHost: h\r\n\r\n")
        r = recv_until_close(s)
        return "status=%r body=%r" % (r.split(b"\r\n")[0], r.split(b"\r\n\r\n", 1)[-1])
    if case == "quiet":
        s = connect(host, port, timeout=90)
        s.sendall(b"\x00hello")
        s.recv(10)
        time.sleep(float(arg or 70))
        s.sendall(b"\x00again")
        return "after-quiet=%r" % s.recv(10)
    if case == "ws":
        import asyncio
        import websockets

        async def run():
            async with websockets.connect("ws://%s:%d/chat" % (host, port),
                                          ping_interval=None) as ws:
                await ws.send("hello")
                first = await ws.recv()
                await asyncio.sleep(float(arg or 70))
                await ws.send("again")
                return "ws: %s, after the quiet: %s" % (first, await ws.recv())
        return asyncio.run(run())
    if case == "refused":
        try:
            s = connect(host, port)
            s.settimeout(3)
            s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            r = s.recv(100)
            out = "data=%r" % r if r else "eof"
        except (ConnectionRefusedError, ConnectionResetError):
            out = "refused-or-reset"
        except OSError as e:
            out = "error %s" % e.__class__.__name__
        return "%s fast=%s" % (out, (time.monotonic() - t0) < 1)
    raise SystemExit("unknown case " + case)


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        origin(sys.argv[2])
    else:
        print(client(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                     sys.argv[5] if len(sys.argv) > 5 else None))
