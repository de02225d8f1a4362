#!/bin/bash
# [listener] protocol forces what a listener's flows carry: http parses every
# flow (non-HTTP bytes get 400, a silent client never gets a tunnel); tcp
# tunnels every flow at once (even a request line reaches the origin as
# bytes); auto (default) lets the first bytes decide (edges.sh, http_tunnel.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-lp
tb_up
tb_intercept_tproxy 3129 9002
cat >"$TB_WORKDIR/echo.py" <<'PY'
import socket, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("198.18.2.2", 9002)); ls.listen(16)
def echo(c):
    print("accept", flush=True)
    while True:
        d = c.recv(4096)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
PY
tb_spawn o echo python3 -u "$TB_WORKDIR/echo.py"
tb_wait_listen o 9002 10 || tb_die "echo origin"
conf_for()
{
	rt_conf "lp-$1" <<CONF
[global]
workers = 1
[listener p]
listen = 0.0.0.0:3129
protocol = $1
[timeouts]
client_header = 1s
CONF
}
client()
{
	tb_exec_c python3 - "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(("198.18.2.2", 9002), timeout=4)
data = sys.argv[1].encode().decode("unicode_escape").encode("latin-1")
if data:
    s.sendall(data)
got = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        got += d
        if data and got.startswith(data):
            break
except OSError as e:
    got += b"<" + e.__class__.__name__.encode() + b">"
print(repr(got[:40]))
PY
}
fails=0
expect()
{
	if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: got $2, want $3" >&2; fails=$((fails + 1)); fi
}

rt_start "$(conf_for http)" 3129
before=$(grep -c accept "$TB_WORKDIR/echo.log" || true)
expect "http: non-HTTP bytes are refused with 400" \
	"$(client 'HELLO\r\n' | cut -c1-14)" "b'HTTP/1.1 400"
expect "http: a silent client is closed at client_header, no tunnel" "$(client '')" "b''"
after=$(grep -c accept "$TB_WORKDIR/echo.log" || true)
expect "http: the origin saw no connection" "$after" "$before"
rt_stop

rt_start "$(conf_for tcp)" 3129
want=$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' |
	python3 -c 'import sys; print(repr(sys.stdin.buffer.read()[:40]))')
expect "tcp: a request line is tunnelled as bytes" \
	"$(client 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')" "$want"
rt_stop
[ $fails -eq 0 ] || tb_die "$fails listener protocol check(s) failed"
echo PASS
