#!/bin/bash
# [acl] and [limits]: a client outside allow_clients and a port outside
# allow_ports get 403 with a log line; a client over
# max_connections_per_client has its extra connections closed (logged once a
# second); at max_connections accepting pauses (new connections wait in the
# kernel backlog) and resumes below the low-water mark, and the waiting
# request is then served.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-la
tb_up
tb_intercept_tproxy 3129 80 8081
tb_origin_start
conf="$TB_WORKDIR/la.conf"
cat >"$conf" <<'CONF'
[global]
workers = 2
[listener la]
listen = 0.0.0.0:3129
[acl]
allow_clients = 198.18.9.0/24, 2001:2:0:9::/64
CONF
rt_start "$conf" 3129
code=$(rt_curl -o /dev/null -w '%{http_code}' http://198.18.2.2/)
rt_assert_eq "client outside allow_clients" "$code" 403
rt_expect_log '198\.18\.1\.2:[0-9]+ -> 198\.18\.2\.2:80 \[la\] closed .*acl-denied'

cat >"$conf" <<'CONF'
[global]
workers = 2
[listener la]
listen = 0.0.0.0:3129
[acl]
allow_clients = 198.18.1.0/24
allow_ports = 80
[limits]
max_connections = 10
max_connections_per_client = 6
CONF
kill -HUP "$RT_PID"
n=0
until grep -q 'info: reloaded ' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload not logged"; sleep 0.05
done
code=$(rt_curl -o /dev/null -w '%{http_code}' http://198.18.2.2/)
rt_assert_eq "allowed client, allowed port" "$code" 200
code=$(rt_curl -o /dev/null -w '%{http_code}' http://198.18.2.2:8081/)
rt_assert_eq "port outside allow_ports" "$code" 403

# per client: 6 idle connections are fine, the 7th is closed at once
tb_exec_c python3 - <<'PY'
import socket, time
held = []
for i in range(6):
    s = socket.create_connection(("198.18.2.2", 80), timeout=3)
    held.append(s)
time.sleep(0.3)
x = socket.create_connection(("198.18.2.2", 80), timeout=3)
x.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
try:
    data = x.recv(100)
except ConnectionResetError:
    data = b""
assert data == b"", "7th connection of one client was served: %r" % data
# the held ones still work
held[0].sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
assert held[0].recv(100).startswith(b"HTTP/1.1 200"), "held connection not served"
print("ok: 7th connection closed, held ones served")
PY
rt_expect_log 'client 198\.18\.1\.2 over max_connections_per_client \(6\): connection closed'

# global: 10 open connections pause accepting; the 11th waits, then is served
cat >"$conf" <<'CONF'
[global]
workers = 2
[listener la]
listen = 0.0.0.0:3129
[limits]
max_connections = 10
CONF
kill -HUP "$RT_PID"
n=0
until [ "$(grep -c 'info: reloaded ' "$TB_WORKDIR/remora.log")" -ge 2 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload 2 not logged"; sleep 0.05
done
tb_exec_c python3 - <<'PY'
import socket, time
held = [socket.create_connection(("198.18.2.2", 80), timeout=3) for _ in range(10)]
time.sleep(0.3)
x = socket.create_connection(("198.18.2.2", 80), timeout=5)
x.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
x.settimeout(1.0)
try:
    early = x.recv(100)
except socket.timeout:
    early = None
assert early is None, "served while over max_connections: %r" % early
for s in held[:3]:
    s.close()
x.settimeout(5.0)
data = x.recv(100)
assert data.startswith(b"HTTP/1.1 200"), "not served after falling below the mark: %r" % data
print("ok: the 11th connection waited, then was served")
PY
rt_expect_log 'max_connections \(10\) reached: accepting paused'
rt_expect_log 'accepting again'
rt_hammer -t 198.18.2.2:80 -n 100 -c 5 -E addr
rt_stop
