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
