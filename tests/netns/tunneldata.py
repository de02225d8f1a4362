"""Shared by the python origins and clients of the tunnel tests
(tunnel_splice.sh, origin_reset.sh, client_reset.sh, tunnel_late_http.sh,
tls_sni.sh), copied into the test's work directory beside them: deterministic
byte streams, their sha256, reading to the peer's FIN or reset, and a
threaded origin listener (stdlib only)."""
import hashlib
import random
import socket
import ssl
import threading


def stream(seed, n):
    """n deterministic bytes, in chunks."""
    r = random.Random(seed)
    while n > 0:
        k = min(n, 65536)
        yield r.randbytes(k)
        n -= k


def digest(seed, n):
    """sha256 hex of the first n bytes of stream(seed, ...)."""
    h = hashlib.sha256()
    for chunk in stream(seed, n):
        h.update(chunk)
    return h.hexdigest()


def hash_to_eof(read):
    """Reads with read(size) until EOF: (bytes read, their sha256 hex)."""
    h, n = hashlib.sha256(), 0
    while True:
        d = read(65536)
        if not d:
            return n, h.hexdigest()
        h.update(d)
        n += len(d)


def read_to_end(sock):
    """Reads until the peer's FIN or reset: (bytes read, "eof" or "reset")."""
    got = bytearray()
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                return bytes(got), "eof"
            got += d
    except ConnectionResetError:
        return bytes(got), "reset"


def client_hello(name):
    """The ClientHello python's ssl sends for server name `name` (bytes)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def listen(port, fn, *args, addr="198.18.2.2"):
    """Serves for ever: fn(conn, *args) in a thread per accepted connection."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=fn, args=(c,) + args, daemon=True).start()


def raw_hello(names, key_share=True, rnd=b"\x11" * 32, sid=b"\x22" * 32):
    """A TLS 1.3 ClientHello built by hand (bytes, one record): server_name
    entries `names` (host_name type, as given), an X25519 key share, or an
    empty key_share list (key_share=False: a TLS 1.3 server answers with a
    HelloRetryRequest for X25519)."""
    def vec(n, b):
        return len(b).to_bytes(n, "big") + b

    def ext(t, data):
        return t.to_bytes(2, "big") + vec(2, data)
    sni = b"".join(b"\x00" + vec(2, n) for n in names)
    share = b"\x00\x1d" + vec(2, bytes(range(1, 33))) if key_share else b""
    exts = (ext(0, vec(2, sni)) if names else b"") + ext(0x0a, vec(2, b"\x00\x1d\x00\x17")) + \
        ext(0x0d, vec(2, bytes.fromhex("040308040401050308050501"))) + \
        ext(0x2b, vec(1, b"\x03\x04\x03\x03")) + ext(0x2d, vec(1, b"\x01")) + \
        ext(0x33, vec(2, share))
    body = b"\x03\x03" + rnd + vec(1, sid) + vec(2, bytes.fromhex("130113021303c02f")) + \
        b"\x01\x00" + vec(2, exts)
    hs = b"\x01" + vec(3, body)
    return b"\x16\x03\x01" + vec(2, hs)


def first_messages(data):
    """The record kinds in data: "hrr", "sh" (ServerHello), "alert:XX",
    "ccs", "app", as a list."""
    out, i = [], 0
    hrr = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
    while i + 5 <= len(data):
        t, n = data[i], int.from_bytes(data[i + 3:i + 5], "big")
        body = data[i + 5:i + 5 + n]
        if t == 22 and body[:1] == b"\x02":
            out.append("hrr" if body[6:38] == hrr else "sh")
        elif t == 21:
            out.append("alert:%02x" % body[1] if len(body) > 1 else "alert")
        else:
            out.append({20: "ccs", 23: "app"}.get(t, "rec%d" % t))
        i += 5 + n
    return out
