#!/bin/bash
# A tunnel opened on silence (server-first) keeps classifying the client's
# first line. When its origin closed at once, the client got our FIN before
# it said anything; an HTTP request it sends after that must not be taken up
# as an exchange on a new upstream connection (the client has its EOF and
# can read no answer, and a direct origin would never see that request): it
# is refused with a reset (late-http), like a request line after bytes moved.
#   1. the origin accepts and closes at once; the client waits for the EOF,
#      then sends a request: the origin sees one connection, never a second,
#      and Remora counts one late-http close;
#   2. control: an untouched tunnel (the origin stays silent and open) whose
#      client then sends a request still becomes an HTTP exchange.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
ADMIN=127.0.0.1:9182
tb_init rt-lh
tb_up
tb_intercept_tproxy 3129 9002 9003

cp "$(dirname "$0")/tunneldata.py" "$TB_WORKDIR/"
cat >"$TB_WORKDIR/origin.py" <<'PY'
import socket, sys, threading
from tunneldata import listen

def gone(c):
    """A server-first service that gives up at once."""
    print("gone: connection", flush=True)
    c.close()

def silent(c):
    """Says nothing until a request head, then answers it."""
    print("silent: connection", flush=True)
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d:
            c.close()
            return
        data += d
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    c.close()

threading.Thread(target=listen, args=(9003, silent), daemon=True).start()
listen(9002, gone)
PY

cat >"$TB_WORKDIR/client.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("198.18.2.2", port), timeout=5)
if port == 9002:
    if s.recv(100) != b"":  # the tunnel opens on silence, the origin's FIN comes
        sys.exit("gone: bytes from an origin that closed")
else:
    time.sleep(1)  # silence: the tunnel opens, nothing moves
s.sendall(b"GET /late HTTP/1.1\r\nHost: late.example\r\n\r\n")
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except (ConnectionResetError, socket.timeout) as e:
    data += b"<%s>" % type(e).__name__.encode()
print(data.split(b"\r\n")[0].decode(errors="replace"))
PY

tb_spawn o origin python3 -u "$TB_WORKDIR/origin.py"
tb_wait_listen o 9002 10 "$TB_LAST_PID" || tb_die "origin did not listen on :9002"
tb_wait_listen o 9003 10 "$TB_LAST_PID" || tb_die "origin did not listen on :9003"
conf=$(rt_conf lh <<CONF
[global]
workers = 1
[listener a]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9182


tb_exec_c python3 "$TB_WORKDIR/client.py" 9002 >"$TB_WORKDIR/gone.out" || tb_die "gone: client failed"
i=0
until [ "$(rt_metric 'remora_closes_total{reason="late-http"}')" = 1 ]; do
	[ $i -lt 60 ] || {
		cat "$TB_WORKDIR/origin.log" "$TB_WORKDIR/gone.out"
		tb_die "gone: no late-http close"
	}
	sleep 0.05
	i=$((i + 1))
done
echo "ok: gone: the request after our FIN is refused (late-http)"
sleep 0.3 # a second upstream connection would be there by now
rt_assert_eq "gone: connections the origin saw" "$(grep -c '^gone: connection' "$TB_WORKDIR/origin.log")" 1

rt_assert_eq "silent: the request on the untouched tunnel is answered" \
	"$(tb_exec_c python3 "$TB_WORKDIR/client.py" 9003)" "HTTP/1.1 200 OK"
rt_stop
echo PASS
