#!/bin/bash
# An origin that aborts with a TCP reset after sending response bytes: the
# client must see what a direct client sees, every byte that reached Remora,
# then a reset (ECONNRESET), never a clean EOF that makes a cut transfer look
# complete (conn_abort.c, ABORT). Through one `auto` listener:
#   1. a non-HTTP tunnel: the origin sends 8 MiB, then resets (SO_LINGER 0);
#   2. HTTP: a close-delimited 200 (no Content-Length), cut the same way; and
#      one whose Content-Length promises twice what comes (its body moves by
#      splice);
#   3./4. the tunnel and the close-delimited 200 with a FIN instead: a clean
#      EOF after every byte; 5. the Content-Length 200 cut by a FIN: every
#      byte the origin sent (then the EOF), none of what Remora holds dropped.
# The client reads nothing for its first second, so Remora still holds bytes
# for it (its send queue, the pipe) when the reset comes: it must hand over
# all of them before resetting. Checked: the bytes are the origin's (sha256 of
# the prefix), the error is ECONNRESET, what the client got equals what the
# access log says Remora sent; closes counted as upstream-reset. 6. A client
# that resets while Remora waits for it ends the wait at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
ADMIN=127.0.0.1:9180
tb_init rt-ors
tb_up
tb_intercept_tproxy 3129 9002 8088

cp "$(dirname "$0")/tunneldata.py" "$TB_WORKDIR/"

cat >"$TB_WORKDIR/origin.py" <<'PY'
import socket, struct, threading
from tunneldata import listen, stream

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"

def serve(c, http):
    f = c.makefile("rb")
    if http:  # GET /MODE/N/SEED HTTP/1.1 ... blank line
        _, mode, n, seed = f.readline().split()[1].split(b"/")
        while f.readline() not in (b"\r\n", b""):
            pass
        c.sendall(HEAD if not mode.endswith(b"cl") else
                  HEAD.replace(b"\r\n\r\n", b"\r\nContent-Length: %d\r\n\r\n" % (2 * int(n))))
    else:  # \x01MODE N SEED
        mode, n, seed = f.readline()[1:].split()
    for chunk in stream(int(seed), int(n)):
        c.sendall(chunk)
    if mode.startswith(b"rst"):
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()

threading.Thread(target=listen, args=(8088, serve, True), daemon=True).start()
listen(9002, serve, False)
PY

cat >"$TB_WORKDIR/client.py" <<'PY'
import hashlib, socket, sys, time
from tunneldata import digest, read_to_end

kind, mode, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("198.18.2.2", 8088 if kind == "http" else 9002), timeout=30)
if kind == "http":
    s.sendall(b"GET /%s/%d/%d HTTP/1.1\r\nHost: o\r\n\r\n" % (mode.encode(), n, seed))
else:
    s.sendall(b"\x01%s %d %d\n" % (mode.encode(), n, seed))
time.sleep(1)  # read nothing yet: Remora holds bytes for us when the origin ends
got, end = read_to_end(s)
total = len(got)
if kind == "http":
    i = got.find(b"\r\n\r\n")
    if not got.startswith(b"HTTP/1.1 200 ") or i < 0:
        sys.exit("no response head: %r" % bytes(got[:80]))
    body = got[i + 4:]
else:
    body = got
if hashlib.sha256(body).hexdigest() != digest(seed, len(body)):
    sys.exit("%s %s: the %d bytes are not the origin's" % (kind, mode, len(body)))
print("%s total %d body %d" % (end, total, len(body)))
PY

tb_spawn o origin python3 -u "$TB_WORKDIR/origin.py"
tb_wait_listen o 9002 10 "$TB_LAST_PID" || tb_die "origin did not listen on :9002"
tb_wait_listen o 8088 10 "$TB_LAST_PID" || tb_die "origin did not listen on :8088"
conf=$(rt_conf ors <<CONF
[global]
workers = 1
access_log = $TB_WORKDIR/access.log
[listener ors]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9180

line=0
# check KIND MODE N SEED WANT_END: runs the client; WANT_END eof needs all N
# body bytes, reset at least one; the access log's bytes equal the client's.
check()
{
	local out end total body
	out=$(tb_exec_c python3 "$TB_WORKDIR/client.py" "$1" "$2" "$3" "$4") ||
		tb_die "$1 $2: client failed"
	read -r end _ total _ body <<<"$out"
	line=$((line + 1))
	rt_assert_eq "$1 $2: how the client's connection ended ($body body bytes)" "$end" "$5"
	if [ "$5" = eof ]; then
		rt_assert_eq "$1 $2: every byte" "$body" "$3"
	else
		[ "$body" -gt 0 ] || tb_die "$1 $2: no byte before the reset"
	fi
	rt_assert_eq "$1 $2: the client got all Remora sent (access log)" "$(rt_alog_bytes $line)" "$total"
}

MiB=$((1024 * 1024))
check tunnel rst $((8 * MiB)) 3 reset
check http rst $((8 * MiB)) 5 reset
check http rstcl $((8 * MiB)) 11 reset
check tunnel fin $((8 * MiB)) 7 eof
check http fin $((8 * MiB)) 9 eof
check http fincl $((8 * MiB)) 13 eof
rt_assert_eq "closes counted as upstream-reset" \
	"$(rt_metric 'remora_closes_total{reason="upstream-reset"}')" 3
# 6. the client resets too while Remora waits for it to take the origin's
# last bytes (it reads none): a reset leg acknowledges nothing more, so the
# wait ends at once, not when its 2 s bound runs out (polling SIOCOUTQ every
# 10 ms meanwhile: 143 ioctl calls per connection in bench scenario g).
tb_exec_c python3 - <<'PY'
import socket, struct, time
s = socket.create_connection(("198.18.2.2", 9002), timeout=5)
s.sendall(b"\x01rst %d 17\n" % (1 << 20))
time.sleep(0.5)  # the origin sent its 1 MiB and reset; Remora waits on us
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
rt_alog_bytes 7 >/dev/null # (waits for the line)
ms=$(sed -n 7p "$TB_WORKDIR/access.log" | awk '{ print $2 }')
[ "$ms" -lt 1000 ] || tb_die "the connection lasted $ms ms: the wait outlived the client's reset"
echo "ok: a client that resets while Remora waits to hand over the origin's bytes ends it ($ms ms, the reset came at 500)"
rt_stop
echo PASS
