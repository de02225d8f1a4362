#!/usr/bin/env python3
"""Scriptable origin for Remora's HTTP netns tests (Python 3 stdlib only).

Runs in the origin namespace only. Listens on all IPv4 addresses:

  8082  HTTP/1.1 with keep-alive; the behaviour is chosen by the request path
        (the part before '?'):
          /ws               WebSocket handshake (101 + Sec-WebSocket-Accept), a
                            greeting text frame "hello" in the same write as the
                            101, then every frame echoed (close frame: echoed
                            in one segment with the FIN)
          /reset-head       half a response head, at once a TCP reset
          /reset-body       a head announcing 100000 bytes, 1000 of them, and
                            once they are acknowledged a TCP reset
          /close-now        closes without answering
          /close-head       half a response head, then close
          /garbage          "HTTP/1.1 2OO OK" (an invalid status line)
          /rsp-cl-te        a head with Content-Length and Transfer-Encoding
          /rsp-cl-cl        a head with two differing Content-Length
          /rsp-bad-chunk    a valid chunked head, one chunk, then "zz"
          /stall            never answers (holds the connection until EOF)
          /chunked-trailers a chunked response with extensions and trailers
                            (exactly CHUNKED_RESPONSE)
          /head-cl          Content-Length 1234; a HEAD gets the head only
          /304              304 with Content-Length 1234 and no body
          /interim          103 Early Hints, then the echo
          /expect-final     417 at once for a request with a body (which is not
                            read), then close
          /close-delimited  200 without Content-Length, body, close (the body
                            and the FIN in one segment)
          /idle-close       the echo, then the connection is closed (keep-alive
                            was not refused: an origin-side idle close; the
                            response and the FIN in one segment)
          anything else     the echo: 200, body = the exact request bytes as
                            received (head and raw body), headers X-Conn (origin
                            connection number), X-Req (request number on that
                            connection), X-Peer (remote address:port) and X-Dst
                            (local address:port)
        /close-*, /garbage and /rsp-*: the response and the FIN leave in one
        segment. Expect: 100-continue (HTTP/1.1) is answered with 100 Continue
        before the body is read (except /expect-final).
  8083  raw echo: every byte is sent back; EOF is answered with EOF.

Log (--log, one line per event, flushed at once):
  <event> <path or -> conn=N port=P peer=ADDR:PORT [raw=JSON-STRING]
  events: accept, head (request head read, body not yet), request (complete:
  raw = head + body), close, data (8083: bytes received, raw).
"""
import argparse
import asyncio
import base64
import fcntl
import hashlib
import itertools
import json
import socket
import struct
import sys
import termios

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CHUNKED_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Transfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Done\r\n\r\n"
                    b"5;ext=1\r\nhello\r\n"
                    b"7;name=\"quoted value\";flag\r\n, world\r\n"
                    b"1\r\n\n\r\n"
                    b"0;last\r\nX-Checksum: 42\r\nX-Done: yes\r\n\r\n")

# Invalid responses, each sent whole, then the connection is closed (the
# response and the FIN in one segment).
CANNED = {
    "/close-now": b"",
    "/close-head": b"HTTP/1.1 200 OK\r\nContent-",
    "/garbage": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    "/rsp-cl-te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"0\r\n\r\n",
    "/rsp-cl-cl": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "/rsp-bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
}
LOG = None
CONN_IDS = itertools.count(1)


def log(event, path, cid, port, peer, raw=None):
    line = "%s %s conn=%d port=%d peer=%s" % (event, path or "-", cid, port, peer)
    if raw is not None:
        line += " raw=" + json.dumps(raw.decode("latin-1"))
    LOG.write(line + "\n")
    LOG.flush()


def addr(sockaddr):
    return "%s:%d" % (sockaddr[0], sockaddr[1])


class Request:
    def __init__(self, head):
        self.head = head
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        self.method = parts[0]
        self.target = parts[1] if len(parts) > 1 else b""
        self.version = parts[2] if len(parts) > 2 else b""
        self.fields = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            self.fields.append((name.strip().lower(), value.strip()))
        self.path = self.target.split(b"?")[0].decode("latin-1")

    def get(self, name):
        for n, v in self.fields:
            if n == name:
                return v
        return None

    def conn_tokens(self):
        v = self.get(b"connection") or b""
        return [t.strip().lower() for t in v.split(b",")]

    def keeps_alive(self):
        if b"close" in self.conn_tokens():
            return False
        return self.version == b"HTTP/1.1" or b"keep-alive" in self.conn_tokens()


async def read_body(reader, req):
    """The raw body as it was on the wire (chunked: sizes, extensions, trailers)."""
    te = req.get(b"transfer-encoding")
    if te is not None and te.lower().endswith(b"chunked"):
        raw = b""
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            raw += await reader.readexactly(size + 2)
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            if line == b"\r\n":
                return raw
    cl = req.get(b"content-length")
    if cl is not None:
        return await reader.readexactly(int(cl))
    return b""


async def reset(writer, when_acked):
    """Resets the connection: at once (the reset follows the data written so
    far on the wire), or once the peer has acknowledged every byte."""
    await writer.drain()
    sock = writer.get_extra_info("socket")
    for _ in range(500 if when_acked else 0):
        outq = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        if outq == 0:
            break
        await asyncio.sleep(0.01)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def cork(writer):
    """Holds what is written next until the close: the last data and the FIN
    then leave in one segment (the peer sees both in one readiness event)."""
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)


def ws_frame(opcode, payload):
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return hdr + payload


async def ws_session(reader, writer, req):
    key = req.get(b"sec-websocket-key") or b""
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n" +
                 ws_frame(1, b"hello"))
    await writer.drain()
    while True:
        b0, b1 = await reader.readexactly(2)
        opcode, n = b0 & 0x0F, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
        data = await reader.readexactly(n)
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        if opcode == 8:
            cork(writer)  # the close frame and the FIN in one segment
        writer.write(ws_frame(opcode, payload))
        await writer.drain()
        if opcode == 8:
            return


def echo_response(req, raw, cid, nreq, peer, dst, extra=b""):
    body = b"" if req.method == b"HEAD" else raw
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" +
            b"X-Conn: %d\r\nX-Req: %d\r\nX-Peer: %s\r\nX-Dst: %s\r\n" %
            (cid, nreq, peer.encode(), dst.encode()) + extra +
            b"Content-Length: %d\r\n" % len(raw))
    if not req.keeps_alive():
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


async def serve_http(reader, writer):
    cid = next(CONN_IDS)
    peer = addr(writer.get_extra_info("peername"))
    dst = addr(writer.get_extra_info("sockname"))
    port = writer.get_extra_info("sockname")[1]
    log("accept", None, cid, port, peer)
    nreq, path = 0, None
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            req = Request(head)
            nreq += 1
            path = req.path
            log("head", path, cid, port, peer, head)
            if path == "/expect-final":
                writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                await writer.drain()
                return
            if (req.get(b"expect") or b"").lower() == b"100-continue" and \
                    req.version == b"HTTP/1.1":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
            body = await read_body(reader, req)
            log("request", path, cid, port, peer, head + body)
            if path == "/ws":
                await ws_session(reader, writer, req)
                return
            if path == "/reset-head":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-")
                await reset(writer, when_acked=False)
                return
            if path == "/reset-body":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
                await reset(writer, when_acked=True)
                return
            if path in CANNED:
                cork(writer)
                writer.write(CANNED[path])
                await writer.drain()
                return
            if path == "/stall":
                await reader.read()
                return
            if path == "/chunked-trailers":
                writer.write(CHUNKED_RESPONSE)
            elif path == "/head-cl":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n" +
                             (b"" if req.method == b"HEAD" else b"h" * 1234))
            elif path == "/304":
                writer.write(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n"
                             b"Content-Length: 1234\r\n\r\n")
            elif path == "/close-delimited":
                cork(writer)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                             b"until the connection closes\n")
                await writer.drain()
                return
            elif path == "/interim":
                writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
                await writer.drain()
                writer.write(echo_response(req, head + body, cid, nreq, peer, dst))
            else:
                if path == "/idle-close":
                    cork(writer)
                writer.write(echo_response(req, head + body, cid, nreq, peer, dst))
            await writer.drain()
            if path == "/idle-close" or not req.keeps_alive():
                return
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, OSError):
        return
    finally:
        log("close", path, cid, port, peer)
        writer.close()


async def serve_echo(reader, writer):
    cid = next(CONN_IDS)
    peer = addr(writer.get_extra_info("peername"))
    port = writer.get_extra_info("sockname")[1]
    log("accept", None, cid, port, peer)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            log("data", None, cid, port, peer, data)
            writer.write(data)
            await writer.drain()
        writer.write_eof()
        await writer.drain()
        await reader.read()
    except (ConnectionError, OSError):
        pass
    finally:
        log("close", None, cid, port, peer)
        writer.close()


async def main():
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--http-port", type=int, default=8082)
    ap.add_argument("--echo-port", type=int, default=8083)
    args = ap.parse_args()
    LOG = open(args.log, "a", encoding="utf-8")
    servers = [
        await asyncio.start_server(serve_http, "0.0.0.0", args.http_port, limit=1 << 20,
                                   reuse_address=True, backlog=512),
        await asyncio.start_server(serve_echo, "0.0.0.0", args.echo_port,
                                   reuse_address=True, backlog=512),
    ]
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
