#!/bin/bash
# Tunnels move bulk by splice() and small exchanges by copying (conn.c,
# TUNNEL). Through a `protocol = tcp` listener, byte for byte (sha256 of what
# arrived against what was sent):
#   1. 200 ping-pongs of 1 KiB each way: nothing spliced either way;
#   2. 8 MiB down while 4 MiB go up; the origin then half-closes, and the
#      client sees that EOF only after all 8 MiB; the client sends 2 MiB more
#      after it and half-closes: the origin sees all 6 MiB, then EOF;
#   3. 4 MiB down, then 200 ping-pongs of 1 KiB on the same flow: the
#      direction goes back to copying (the pongs are not spliced);
#   4. a client that resets in the middle of a bulk transfer both ways (pipes
#      holding bytes): closed as client-reset, no descriptor leaked (rt_stop).
# /metrics: bytes spliced both ways > 0 after 2, byte counters and the access
# log's byte counts equal what the clients sent and received.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
ADMIN=127.0.0.1:9180
MiB=$((1024 * 1024))
tb_init rt-ts
tb_up
tb_intercept_tproxy 3129 9002

cp "$(dirname "$0")/tunneldata.py" "$TB_WORKDIR/"

cat >"$TB_WORKDIR/origin.py" <<'PY'
import socket, threading
from tunneldata import hash_to_eof, listen, stream

def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b

def serve(c):
    f = c.makefile("rb")
    cmd = f.readline().split()
    if cmd[0] == b"bulk":  # bulk DOWN SEED: send DOWN bytes, half-close, read to EOF
        def send():
            for chunk in stream(int(cmd[2]), int(cmd[1])):
                c.sendall(chunk)
            c.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        n, hexd = hash_to_eof(f.read1)
        t.join()
        print("got %d %s" % (n, hexd), flush=True)
    elif cmd[0] == b"mixed":  # mixed DOWN SEED PINGS: DOWN bytes, then echo PINGS KiB
        for chunk in stream(int(cmd[2]), int(cmd[1])):
            c.sendall(chunk)
        for _ in range(int(cmd[3])):
            c.sendall(f.read(1024))
    elif cmd[0] == b"ping":  # ping N: echo N pieces of 1 KiB
        for _ in range(int(cmd[1])):
            c.sendall(f.read(1024))
    c.close()

listen(9002, serve)
PY

cat >"$TB_WORKDIR/client.py" <<'PY'
import hashlib, socket, sys, threading, time
from tunneldata import digest, hash_to_eof, stream

def ping(s, n, tag):
    for i in range(n):
        msg = (b"%s %d " % (tag, i)).ljust(1024, b".")
        s.sendall(msg)
        got = b""
        while len(got) < 1024:
            d = s.recv(1024 - len(got))
            if not d:
                sys.exit("ping %d: EOF" % i)
            got += d
        if got != msg:
            sys.exit("ping %d: wrong echo" % i)

s = socket.create_connection(("198.18.2.2", 9002), timeout=30)
mode = sys.argv[1]
if mode == "ping":
    line = b"ping 200\n"
    s.sendall(line)
    ping(s, 200, b"p")
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"":
        sys.exit("ping: bytes after the last pong")
    print("sent %d received %d" % (len(line) + 200 * 1024, 200 * 1024))
elif mode == "bulk":
    down, up1, up2 = 8 << 20, 4 << 20, 2 << 20
    line = b"bulk %d 7\n" % down
    s.sendall(line)
    up = stream(11, up1 + up2)
    def send(k):
        while k > 0:
            chunk = next(up)
            s.sendall(chunk)
            k -= len(chunk)
    t = threading.Thread(target=send, args=(up1,))
    t.start()
    time.sleep(0.5)  # let the relay fill up: the FIN arrives behind bytes in flight
    n, hexd = hash_to_eof(s.recv)
    t.join()
    if (n, hexd) != (down, digest(7, down)):
        sys.exit("bulk: got %d bytes before EOF, want %d (or wrong bytes)" % (n, down))
    send(up2)  # after the origin's EOF: the upload still flows
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"":
        sys.exit("bulk: bytes after EOF")
    print("origin-want got %d %s" % (up1 + up2, digest(11, up1 + up2)))
    print("sent %d received %d" % (len(line) + up1 + up2, down))
elif mode == "reset":
    s.sendall(b"bulk %d 3\n" % (64 << 20))
    up = stream(13, 8 << 20)
    s.settimeout(0.2)
    try:  # upload until the relay pushes back, reading nothing
        for chunk in up:
            s.sendall(chunk)
    except socket.timeout:
        pass
    time.sleep(0.3)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.close()
    print("sent - received -")
elif mode == "mixed":
    down = 4 << 20
    line = b"mixed %d 5 200\n" % down
    s.sendall(line)
    h, n = hashlib.sha256(), 0
    while n < down:
        d = s.recv(min(65536, down - n))
        if not d:
            sys.exit("mixed: EOF after %d bytes" % n)
        h.update(d)
        n += len(d)
    if h.hexdigest() != digest(5, down):
        sys.exit("mixed: wrong bytes")
    ping(s, 200, b"m")
    if s.recv(1) != b"":
        sys.exit("mixed: bytes after the last pong")
    print("sent %d received %d" % (len(line) + 200 * 1024, down + 200 * 1024))
PY

tb_spawn o origin python3 -u "$TB_WORKDIR/origin.py"
tb_wait_listen o 9002 10 "$TB_LAST_PID" || tb_die "origin did not listen on :9002"
conf=$(rt_conf ts <<CONF
[global]
workers = 1
access_log = $TB_WORKDIR/access.log
[listener ts]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
protocol = tcp
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9180

sent=0 received=0
# run MODE: the client; adds up what it sent and received.
run()
{
	local out
	out=$(tb_exec_c python3 "$TB_WORKDIR/client.py" "$1") || tb_die "$1: client failed"
	echo "$out" >"$TB_WORKDIR/client-$1.out"
	set -- $(sed -n 's/^sent \([0-9]*\) received \([0-9]*\)$/\1 \2/p' <<<"$out")
	[ $# -eq 2 ] || return 0
	sent=$((sent + $1))
	received=$((received + $2))
	LAST_RECEIVED=$2
}

run ping
rt_assert_eq "ping: access log bytes" "$(rt_alog_bytes 1)" "$LAST_RECEIVED"
rt_assert_eq "ping: nothing spliced to the client" "$(rt_metric remora_bytes_spliced_total)" 0
rt_assert_eq "ping: nothing spliced from the client" \
	"$(rt_metric remora_bytes_spliced_from_clients_total)" 0

run bulk
want=$(sed -n 's/^origin-want //p' "$TB_WORKDIR/client-bulk.out")
i=0
until grep -q '^got ' "$TB_WORKDIR/origin.log"; do
	[ $i -lt 100 ] || tb_die "bulk: the origin never saw EOF"
	sleep 0.05
	i=$((i + 1))
done
rt_assert_eq "bulk: the origin got every byte up, then EOF" \
	"$(grep '^got ' "$TB_WORKDIR/origin.log")" "$want"
echo "ok: bulk: the client got every byte down, then EOF"
rt_assert_eq "bulk: access log bytes" "$(rt_alog_bytes 2)" "$LAST_RECEIVED"
spliced=$(rt_metric remora_bytes_spliced_total)
spliced_in=$(rt_metric remora_bytes_spliced_from_clients_total)
[ "$spliced" -ge $((4 * MiB)) ] || tb_die "bulk: $spliced bytes spliced to the client"
[ "$spliced_in" -ge $((3 * MiB)) ] || tb_die "bulk: $spliced_in bytes spliced from the client"
echo "ok: bulk: spliced $spliced bytes down, $spliced_in up"

run mixed
rt_assert_eq "bytes from clients" "$(rt_metric 'remora_bytes_total{direction="from_clients"}')" "$sent"
rt_assert_eq "bytes to clients" "$(rt_metric 'remora_bytes_total{direction="to_clients"}')" "$received"
rt_assert_eq "mixed: access log bytes" "$(rt_alog_bytes 3)" "$LAST_RECEIVED"
d=$(($(rt_metric remora_bytes_spliced_total) - spliced))
# the pongs (200 KiB) go back to the copy path: at most one small splice
[ "$d" -ge $((2 * MiB)) ] && [ "$d" -le $((4 * MiB + 8192)) ] ||
	tb_die "mixed: $d bytes spliced to the client, want 2..4 MiB + 8 KiB"
echo "ok: mixed: $d bytes spliced, the pongs copied"
rt_assert_eq "mixed: nothing spliced from the client" \
	"$(rt_metric remora_bytes_spliced_from_clients_total)" "$spliced_in"

run reset
i=0
until [ "$(rt_metric 'remora_closes_total{reason="client-reset"}')" = 1 ]; do
	[ $i -lt 100 ] || tb_die "reset: not closed as client-reset"
	sleep 0.05
	i=$((i + 1))
done
echo "ok: reset: closed as client-reset"
rt_stop
echo PASS
