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
    # 200 KiB of fields: under Chromium's 256 KiB (curl takes 100 KiB a line)
    "/bighead200k": ("HTTP/1.1 200 OK\r\n" + "".join("X-Big%d: %s\r\n" % (i, "b" * 50000)
                                                    for i in range(4))
                     + "Content-Length: 3\r\n\r\nbig").encode(),
    # framing fields that browsers read leniently (docs/http.md, section 2):
    # a Content-Length that is not a number is no length; chunked anywhere in
    # Transfer-Encoding is chunked; a Transfer-Encoding without chunked leaves
    # the framing to Content-Length (bytes after it are not the body)
    "/clplus": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "/clempty": b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello",
    "/clbad2": b"HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\nContent-Length: 5 5\r\n\r\nhello",
    # control characters but NUL in a value: browsers take them
    "/ctl": b"HTTP/1.1 200 OK\r\nX-A: a\x01b\x1b[0m\x7f\r\nContent-Length: 5\r\n\r\nhello",
    # chunked framing browsers take: lines ending in LF alone, free-form
    # extensions (Chromium skips what follows ';')
    "/chlf": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\nT: 1\n\n",
    "/chext": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5;a=b/c d\r\nhello\r\n0\r\n\r\n",
    "/cllist": b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello",
    "/tec2": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
             b"\r\n5\r\nhello\r\n0\r\n\r\n",
    "/tecgz": b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
              b"5\r\nhello\r\n0\r\n\r\n",
    "/teidcl": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n"
               b"hello, and bytes after",
    "/teempty": b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 5\r\n\r\n"
                b"hello, and bytes after",
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


def split_head(raw):
    """The field lines of the head at the start of raw (lines end at LF, a CR
    before it dropped) and the bytes after it; (None, raw) if incomplete."""
    pos, lines = 0, []
    while True:
        k = raw.find(b"\n", pos)
        if k < 0:
            return None, raw
        line, pos = raw[pos:k].rstrip(b"\r"), k + 1
        if not line:
            return lines, raw[pos:]
        lines.append(line)


def dechunk(raw):
    """Chunked data as Chromium's decoder reads it: a size line ends at LF,
    extensions after ';' and trailing spaces are ignored."""
    body = b""
    while True:
        k = raw.find(b"\n")
        if k < 0:
            return body + b"<incomplete>"
        size = int(raw[:k].rstrip(b"\r").split(b";")[0].rstrip(b" ") or b"x", 16)
        if size == 0:
            return body
        body += raw[k + 1:k + 1 + size]
        raw = raw[k + 1 + size:].lstrip(b"\r").lstrip(b"\n")


def browser_view(raw):
    """What Chromium and Firefox make of a response that ended with the
    connection: 1xx skipped; differing Content-Length refused; chunked if
    any Transfer-Encoding element is chunked (HTTP/1.1); else a
    Content-Length that is a number; else up to the close."""
    while True:
        lines, rest = split_head(raw)
        if not lines:
            return "no head: %r" % raw[:40]
        fields = []
        for line in lines[1:]:
            if line[:1] in (b" ", b"\t") and fields:
                fields[-1] = (fields[-1][0], fields[-1][1] + b" " + line.strip())
            elif b":" in line:
                name, value = line.split(b":", 1)
                fields.append((name.strip().lower(), value.strip()))
        status = int(lines[0].split(b" ")[1])
        if status >= 200:
            break
        raw = rest

    def elements(name):
        return [e.strip() for n, v in fields if n == name for e in v.split(b",")]
    te, cl = elements(b"transfer-encoding"), elements(b"content-length")
    if len(set(cl)) > 1:
        return "refused: differing Content-Length"
    if status in (204, 304):
        body = b""
    elif b"chunked" in [t.lower() for t in te] and lines[0].startswith(b"HTTP/1.1"):
        body = dechunk(rest)
    elif cl and cl[0].isdigit():
        body = rest[:int(cl[0])]
    else:
        body = rest
    return "status=%d body=%r" % (status, body)


def unambiguous(raw):
    """Why the head at the start of raw could frame differently in two
    strict parsers (RFC 9112), or "unambiguous"."""
    head = raw[:raw.find(b"\r\n\r\n") + 4]
    lines = head.split(b"\r\n")[1:-2]
    if not head.endswith(b"\r\n\r\n") or b"\n" in b"".join(lines):
        return "a line not ended by CRLF"
    if any(line[:1] in (b" ", b"\t") for line in lines):
        return "obs-fold"
    fields = [line.split(b":", 1) for line in lines]
    te = [v.strip() for n, v in fields if n.lower() == b"transfer-encoding"]
    cl = [v.strip() for n, v in fields if n.lower() == b"content-length"]
    if te and cl:
        return "both Content-Length and Transfer-Encoding"
    if len(te) > 1 or (te and te[0].lower().split(b",")[-1].strip() != b"chunked"
                       and b"chunked" in te[0].lower()):
        return "Transfer-Encoding %r" % te
    if len(cl) > 1 or (cl and not cl[0].isdigit()):
        return "Content-Length %r" % cl
    if te:
        return strict_chunks(raw[len(head):])
    return "unambiguous"


def strict_chunks(body):
    """Whether every framing line of the chunked body ends in CRLF (RFC 9112
    7.1; what an extension holds no parser needs to agree on)."""
    while True:
        k = body.find(b"\r\n")
        if k < 0 or b"\n" in body[:k]:
            return "chunked: a size line not ended by CRLF"
        size = int(body[:k].split(b";")[0].strip(b" \t"), 16)
        body = body[k + 2:]
        if size == 0:
            break
        if body[size:size + 2] != b"\r\n":
            return "chunked: data not followed by CRLF"
        body = body[size + 2:]
    while body[:2] != b"\r\n":
        k = body.find(b"\r\n")
        if k < 0 or b"\n" in body[:k]:
            return "chunked: a trailer line not ended by CRLF"
        body = body[k + 2:]
    return "unambiguous"


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
    if case in ("browser", "forwarded"):
        s = connect(host, port)
        s.settimeout(5)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" % arg.encode())
        r = recv_until_close(s)
        return browser_view(r) if case == "browser" else unambiguous(r)
    raise SystemExit("unknown case " + case)


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        origin(sys.argv[2])
    else:
        print(client(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                     sys.argv[5] if len(sys.argv) > 5 else None))
