#!/usr/bin/env python3
"""Admin-port clients for admin_dos.sh and metrics.sh (stdlib only).

  slow HOST PORT --tricklers N --seconds S
      N clients each send a request head one byte per second (reconnecting
      when Remora closes them) while /healthz is asked every 0.25 s; every
      answer must be 200 within 1 s. Prints the probes' latencies.
  hold HOST PORT --conns N --seconds S
      Opens N connections that send nothing and holds them for S seconds
      (connections the kernel completed even when Remora cannot accept them).
  health HOST PORT
      One GET /healthz; exit 0 on a 200 within 1 s.
  head HOST PORT
      One HEAD /healthz; prints its Content-Length and any bytes after the head.

Exit 0, or 1 after printing what failed.
"""
import argparse
import socket
import sys
import threading
import time


def exchange(host, port, request, timeout=1.0):
    """Sends request, returns every byte read until the server closes."""
    t0 = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(max(0.01, timeout - (time.monotonic() - t0)))
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk


def healthz(host, port, timeout=1.0):
    """Status of one GET /healthz and the seconds it took (status 0: failed)."""
    t0 = time.monotonic()
    try:
        data = exchange(host, port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", timeout)
    except OSError:
        return 0, time.monotonic() - t0
    line = data.split(b"\r\n", 1)[0].split()
    return (int(line[1]) if len(line) > 1 and line[1].isdigit() else 0), time.monotonic() - t0


def head(a):
    """HEAD /healthz: prints the Content-Length field and what follows the head."""
    data = exchange(a.host, a.port, b"HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 5.0)
    fields, _, rest = data.partition(b"\r\n\r\n")
    length = [f for f in fields.split(b"\r\n") if f.lower().startswith(b"content-length:")]
    print(b" ".join(length).decode(), "after the head:", repr(rest))
    return 0


def trickle(host, port, until, stats):
    head = b"GET /metrics HTTP/1.1\r\nHost: " + b"x" * 200 + b"\r\n\r\n"
    while time.monotonic() < until:
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                stats["connects"] += 1
                for b in head:
                    if time.monotonic() >= until:
                        return
                    s.sendall(bytes([b]))
                    time.sleep(1.0)
        except OSError:
            stats["closed"] += 1
            time.sleep(0.05)


def slow(a):
    until = time.monotonic() + a.seconds
    stats = {"connects": 0, "closed": 0}
    threads = [threading.Thread(target=trickle, args=(a.host, a.port, until, stats), daemon=True)
               for _ in range(a.tricklers)]
    for t in threads:
        t.start()
    time.sleep(1.5)  # every trickler is connected and holding
    lat, bad = [], []
    while time.monotonic() < until:
        st, dt = healthz(a.host, a.port)
        lat.append(dt)
        if st != 200 or dt >= 1.0:
            bad.append((st, round(dt, 3)))
        time.sleep(0.25)
    print("tricklers: %d connects, %d closed by Remora" % (stats["connects"], stats["closed"]))
    print("healthz: %d probes, max %.3f s, failures %s" % (len(lat), max(lat), bad))
    return 1 if bad or not lat else 0


def hold(a):
    socks = []
    for _ in range(a.conns):
        socks.append(socket.create_connection((a.host, a.port), timeout=2))
    print("holding %d connections" % len(socks), flush=True)
    time.sleep(a.seconds)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["slow", "hold", "health", "head"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--tricklers", type=int, default=20)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--seconds", type=float, default=6)
    a = p.parse_args()
    if a.mode == "slow":
        return slow(a)
    if a.mode == "hold":
        return hold(a)
    if a.mode == "head":
        return head(a)
    st, dt = healthz(a.host, a.port)
    print("healthz: %d in %.3f s" % (st, dt))
    return 0 if st == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
