#!/bin/bash
# A client that resets its connection while a tunnel or an HTTP exchange is
# open upstream: the origin must see what it sees when that client talks to
# it directly, every byte the client sent, then a reset (ECONNRESET), never
# a clean EOF that makes a cut upload look complete (conn_abort.c, ABORT
# towards the origin). Each client sends its bytes, waits until its kernel
# holds none of them (SIOCOUTQ: all acknowledged), then closes with
# SO_LINGER 0. The origin records per connection the bytes it got after the
# case's first line or head (count, sha256) and how its reads ended. Through
# one `auto` listener:
#   tunnel   a raw TCP tunnel (non-HTTP first bytes), 256 KiB up;
#   bulk     8 MiB up, moved by splice() (the client's bytes fill the relay
#            buffer at once, so the direction splices);
#   duplex   1 MiB up; the origin reads nothing until the client has reset,
#            and pours bytes towards a client that reads none: the client's
#            bytes wait in Remora (its socket, often the splice pipe), the
#            reset shows when a send to the client fails, and Remora still
#            reads and hands over all of them;
#   tls      a TLS passthrough tunnel: a ClientHello, then 64 KiB;
#   post     an HTTP POST whose Content-Length promises twice what the client
#            sends before its reset (the origin holds its reads as in duplex);
#   waiting  a complete POST, then the reset while the origin has not
#            answered: nobody reads the client then, the error event must be
#            looked at (else the origin hears nothing until [timeouts]
#            response, and then a FIN);
#   idle     a POST with no body, answered; the reset comes while the
#            kept-alive connection is idle between exchanges: directly the
#            origin sees a reset there too (it got a FIN before).
# Also: the closes are counted as client-reset, the splice moved client bytes,
# the access log's close reason says client-reset, no descriptor leaked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
ADMIN=127.0.0.1:9180
tb_init rt-crs
tb_up
tb_intercept_tproxy 3129 9002

W=$TB_WORKDIR
cp "$(dirname "$0")/tunneldata.py" "$W/"

cat >"$W/origin.py" <<'PY'
import hashlib, os, struct, sys, threading, time
from tunneldata import listen, stream

WORK = sys.argv[1]

def pour(c, resets):  # duplex: bytes towards the client until the connection fails
    try:
        for chunk in stream(99, 1 << 30):
            c.sendall(chunk)
    except ConnectionResetError:
        resets.append(1)  # this send took the reset (the reads then end in EOF)
    except OSError:
        pass

def serve(c):
    f = c.makefile("rb")
    first = f.read(1)
    if first == b"\x16":  # a TLS record: the ClientHello, then the case's bytes
        hdr = f.read(4)
        f.read(struct.unpack("!H", hdr[2:4])[0])
        name, flags = b"tls", b"-"
    elif first == b"\x01":  # \x01NAME FLAGS
        name, flags = f.readline().split()
    else:  # POST /NAME/FLAGS HTTP/1.1, fields, blank line
        _, name, flags = (first + f.readline()).split()[1].split(b"/")
        while f.readline() not in (b"\r\n", b""):
            pass
    if b"answer" in flags:  # answer at once; the connection stays open
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    pourer, resets = None, []
    if b"duplex" in flags:
        pourer = threading.Thread(target=pour, args=(c, resets), daemon=True)
        pourer.start()
    if b"hold" in flags:  # read nothing until the client has reset
        go, end = os.path.join(WORK, "go." + name.decode()), time.time() + 20
        while not os.path.exists(go) and time.time() < end:
            time.sleep(0.01)
    h, n, how = hashlib.sha256(), 0, "eof"
    try:
        while True:
            d = f.read1(65536)
            if not d:
                break
            h.update(d)
            n += len(d)
    except ConnectionResetError:
        how = "reset"
    if pourer is not None:
        pourer.join(5)
        how = "reset" if resets else how
    print("rec %s %d %s %s" % (name.decode(), n, h.hexdigest(), how), flush=True)
    c.close()

listen(9002, serve)
PY

cat >"$W/client.py" <<'PY'
import array, fcntl, hashlib, os, socket, ssl, struct, sys, termios, time
from tunneldata import client_hello, stream

kind, name, flags, n, seed, work = sys.argv[1:7]
n, seed = int(n), int(seed)
s = socket.create_connection(("198.18.2.2", 9002), timeout=30)
if kind == "tunnel":
    s.sendall(b"\x01%s %s\n" % (name.encode(), flags.encode()))
elif kind == "tls":
    s.sendall(client_hello("reset.example"))
else:  # post: Content-Length CL (N bytes are sent)
    cl = int(kind.split("=")[1])
    s.sendall(b"POST /%s/%s HTTP/1.1\r\nHost: o\r\nContent-Length: %d\r\n\r\n"
              % (name.encode(), flags.encode(), cl))
h = hashlib.sha256()
for chunk in stream(seed, n):
    s.sendall(chunk)
    h.update(chunk)
end = time.time() + 10
while True:  # until the router's kernel acknowledged every byte
    q = array.array("i", [0])
    fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, q)
    if q[0] == 0:
        break
    if time.time() > end:
        sys.exit("%s: %d bytes still in the client's kernel" % (name, q[0]))
    time.sleep(0.01)
if "answer" in flags:  # the whole response: the exchange is over
    got = b""
    while not got.endswith(b"\r\n\r\nok"):
        d = s.recv(4096)
        if not d:
            sys.exit("%s: the connection ended before the response did" % name)
        got += d
if "settle" in flags:
    time.sleep(0.5)  # Remora has read the whole request: nothing reads the client now
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
if "hold" in flags:
    open(os.path.join(work, "go." + name), "w").close()
print("%d %s reset" % (n, h.hexdigest()))
PY

tb_spawn o origin python3 -u "$W/origin.py" "$W"
tb_wait_listen o 9002 10 "$TB_LAST_PID" || tb_die "origin did not listen on :9002"
conf=$(rt_conf crs <<CONF
[global]
workers = 1
log_level = debug
access_log = $W/access.log
access_log_format = json
[listener crs]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
response = 5s
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9180

cases=0
# check KIND NAME FLAGS N SEED: runs the client, then waits (up to 15 s) for
# the origin's record of NAME: the same count and sha256, ended by a reset.
check()
{
	local want got i=0
	want=$(tb_exec_c python3 "$W/client.py" "$@" "$W") || tb_die "$2: client failed"
	until got=$(sed -n "s/^rec $2 //p" "$W/origin.log") && [ -n "$got" ]; do
		[ $i -lt 300 ] || tb_die "$2: the origin's connection never ended"
		sleep 0.05
		i=$((i + 1))
	done
	rt_assert_eq "$2: the origin got every byte the client sent ($4), then a reset" "$got" "$want"
	cases=$((cases + 1))
}

KiB=1024
MiB=$((1024 * KiB))
check tunnel tunnel - $((256 * KiB)) 3
check tunnel bulk - $((8 * MiB)) 5
spliced=$(rt_metric remora_bytes_spliced_from_clients_total)
[ "$spliced" -ge $((4 * MiB)) ] || tb_die "bulk: only $spliced bytes spliced from the client"
echo "ok: bulk: $spliced bytes spliced from the client"
check tunnel duplex hold,duplex $((1 * MiB)) 7
check tls tls - $((64 * KiB)) 9
check post=$((2 * MiB)) post hold $((512 * KiB)) 11
check post=$((64 * KiB)) waiting settle $((64 * KiB)) 13
check post=0 idle answer,settle 0 15
rt_assert_eq "closes counted as client-reset" \
	"$(rt_metric 'remora_closes_total{reason="client-reset"}')" "$cases"
rt_expect_log 'closed while tunnelling bytes: client-reset: client connection reset'
rt_expect_log 'closed while relaying request and response: client-reset: client connection reset'
n=$(python3 -c 'import json, sys
print(sum(json.loads(l)["close_reason"] == "client-reset" for l in open(sys.argv[1])))' "$W/access.log")
# (idle's exchange was logged when it ended, as keep-alive: no line for the reset)
rt_assert_eq "access log lines with close_reason client-reset" "$n" "$((cases - 1))"
rt_stop
echo PASS
