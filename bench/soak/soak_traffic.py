#!/usr/bin/env python3
"""Bad requests and faults for the Remora soak (bench/soak/run.sh); stdlib only.

Runs in the client namespace only, for --seconds, with:
  * one thread sending malformed requests (each on a new connection) that
    Remora must answer with its 4xx status, and a non-HTTP greeting that it
    must tunnel to the origin;
  * --fault-threads threads cycling through fault cases against the fault
    origin (tests/netns/fault_origin.py on 198.18.2.2:8090), a refused port
    (198.18.2.2:8080) and an unreachable address (198.18.2.9:80).
Every case has the outcomes it may end in (a status, "cut" for a response cut
short, "closed" for a close without a byte); anything else is counted as
unexpected. At the end one JSON object goes to --out: per case, the outcome
counts. Nothing is judged here: run.sh reports it.
"""
import argparse
import json
import random
import socket
import struct
import threading
import time

ORIGIN = ("198.18.2.2", 8090)
SINK = bytearray(1 << 20)

BAD = [
    b"POST /b HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /b HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"GET /b HTTP/1.1\r\nHost: s\r\nX-A: b\nX-B: c\r\n\r\n",
    b"GET /b HTTP/1.1\r\nHost: s\r\nX-A: b\r\n c\r\n\r\n",
    b"GET /b HTTP/1.1\r\nX-A: 1\r\n\r\n",
    b"GET /b HTTP/1.1\r\nHost: s\r\nHost: t\r\n\r\n",
    b"POST /b HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"GET /b HTTP/2.0\r\nHost: s\r\n\r\n",
    b"CONNECT x.example:443 HTTP/1.1\r\nHost: x.example:443\r\n\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: s\r\n\r\n",
]
BAD_STATUS = {0: 400, 1: 400, 2: 400, 3: 400, 4: 400, 5: 400, 6: 400, 7: 505, 8: 405, 9: 414}


def conn(addr, timeout=12.0):
    s = socket.create_connection(addr, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def read_all(s, limit=None):
    """Reads until the end (or limit bytes): (bytes head part, total, how)."""
    head, total = b"", 0
    while limit is None or total < limit:
        try:
            k = s.recv_into(SINK)
        except ConnectionResetError:
            return head, total, "reset"
        except socket.timeout:
            return head, total, "timeout"
        if k == 0:
            return head, total, "eof"
        if len(head) < 4096:
            head += bytes(SINK[:min(k, 4096)])
        total += k
    return head, total, "limit"


def outcome(head, total, how):
    """'NNN' for a complete response, 'cut' for one cut short, 'closed' for
    nothing at all, 'timeout' when the connection did not end."""
    if how == "timeout":
        return "timeout"
    if not head:
        return "closed"
    if not head.startswith(b"HTTP/1.1 ") or b"\r\n\r\n" not in head:
        return "junk"
    status = head[9:12].decode("latin-1")
    h, _, _ = head.partition(b"\r\n\r\n")
    cl = None
    chunked = False
    for line in h.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            cl = int(v)
        if k.strip().lower() == b"transfer-encoding":
            chunked = True
    body = total - len(h) - 4
    if cl is not None and body < cl:
        return "cut"
    if chunked and not head.endswith(b"0\r\n\r\n"):
        return "cut"
    return status


def get(addr, path):
    s = conn(addr)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: soak.example\r\nConnection: close\r\n\r\n" %
              path.encode())
    r = outcome(*read_all(s))
    s.close()
    return r


def f_slowloris():
    """One head byte every 0.25 s, never the last: Remora answers 408."""
    s = conn(ORIGIN)
    req = b"GET /ok HTTP/1.1\r\nHost: soak.example\r\n"
    s.settimeout(0.25)
    data = b""
    for i in range(len(req)):
        try:
            s.sendall(req[i:i + 1])
            data = s.recv(4096)
            break
        except socket.timeout:
            continue
        except OSError:
            break
    s.settimeout(12)
    head, _, how = read_all(s)
    s.close()
    data += head
    if data.startswith(b"HTTP/1.1 408 "):
        return "408"
    return "closed" if not data else "junk"


def f_silent():
    s = conn(ORIGIN)
    r = outcome(*read_all(s))
    s.close()
    return r


def f_upload_abort(how):
    s = conn(ORIGIN)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: soak.example\r\nContent-Length: 1048576\r\n\r\n" +
              bytes(262144))
    time.sleep(0.05)
    if how == "rst":
        rst(s)
    else:
        s.shutdown(socket.SHUT_WR)
        read_all(s)
        s.close()
    return "aborted"


def f_download_abort():
    s = conn(ORIGIN)
    s.sendall(b"GET /big?n=67108864 HTTP/1.1\r\nHost: soak.example\r\n\r\n")
    _, total, how = read_all(s, limit=1 << 20)
    rst(s)
    return "aborted" if how == "limit" else how


FAULTS = {
    # name: (function, allowed outcomes)
    "refused": (lambda: get(("198.18.2.2", 8080), "/"), {"502"}),
    "unreachable": (lambda: get(("198.18.2.9", 80), "/"), {"504"}),
    "reset-now": (lambda: get(ORIGIN, "/reset-now"), {"502"}),
    "reset-mid": (lambda: get(ORIGIN, "/reset-mid?n=1048576"), {"cut"}),
    "close-now": (lambda: get(ORIGIN, "/close-now"), {"502"}),
    "close-early": (lambda: get(ORIGIN, "/close-early"), {"cut"}),
    "garbage": (lambda: get(ORIGIN, "/garbage"), {"502"}),
    "chunk-overflow": (lambda: get(ORIGIN, "/chunk-overflow"), {"cut"}),
    "stall-head": (lambda: get(ORIGIN, "/stall-head"), {"504"}),
    "stall-in-head": (lambda: get(ORIGIN, "/stall-in-head"), {"504"}),
    "stall-body": (lambda: get(ORIGIN, "/stall-body"), {"cut"}),
    "slowloris": (f_slowloris, {"408"}),
    "silent": (f_silent, {"closed"}),
    "upload-rst": (lambda: f_upload_abort("rst"), {"aborted"}),
    "upload-fin": (lambda: f_upload_abort("fin"), {"aborted"}),
    "download-rst": (f_download_abort, {"aborted"}),
    "big-64m": (lambda: get(ORIGIN, "/big?n=67108864"), {"200"}),
    "ok": (lambda: get(ORIGIN, "/ok"), {"200"}),
}

LOCK = threading.Lock()
COUNTS = {}


def count(case, result, allowed):
    with LOCK:
        c = COUNTS.setdefault(case, {"expected": 0, "unexpected": 0, "outcomes": {}})
        c["outcomes"][result] = c["outcomes"].get(result, 0) + 1
        c["expected" if result in allowed else "unexpected"] += 1


def run_case(case, fn, allowed):
    try:
        r = fn()
    except (OSError, ValueError) as e:
        r = "error:" + type(e).__name__
    count(case, r, allowed)


def fault_loop(deadline, seed, gap):
    rnd = random.Random(seed)
    names = sorted(FAULTS)
    while time.monotonic() < deadline:
        rnd.shuffle(names)
        for name in names:
            if time.monotonic() >= deadline:
                return
            fn, allowed = FAULTS[name]
            run_case(name, fn, allowed)
            time.sleep(gap)


def bad_loop(deadline, gap):
    i = 0
    while time.monotonic() < deadline:
        k = i % (len(BAD) + 1)
        i += 1
        if k == len(BAD):  # not HTTP: tunnelled to the origin, which answers
            def tunnel():
                s = conn(ORIGIN)
                s.sendall(b"\x16\x03\x01 not http\r\n\r\n")
                r = outcome(*read_all(s, limit=None))
                s.close()
                return "tunnelled" if r == "200" else r
            run_case("non-http", tunnel, {"tunnelled"})
        else:
            def bad(k=k):
                s = conn(ORIGIN)
                s.sendall(BAD[k])
                r = outcome(*read_all(s))
                s.close()
                return r
            run_case("bad-request", bad, {str(BAD_STATUS[k])})
        time.sleep(gap)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--fault-threads", type=int, default=4)
    ap.add_argument("--gap", type=float, default=0.02)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=bad_loop, args=(deadline, args.gap))]
    threads += [threading.Thread(target=fault_loop, args=(deadline, i, args.gap))
                for i in range(args.fault_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(args.out, "w") as f:
        json.dump(COUNTS, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
