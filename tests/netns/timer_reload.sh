#!/bin/bash
# A reload that shortens a timeout takes effect for new connections at once,
# even while connections from before the reload wait under the longer one:
# the worker's timer lists are kept in deadline order (they were FIFO, so a
# new idle connection waited behind an old one: closed after 19 s, not 2 s).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-tmr
tb_up
tb_intercept_tproxy 3129 80
# an origin to reach: a silent client gets its tunnel after first_bytes, and
# client_header still ends it while nothing moves (what this test times)
tb_origin_start
conf="$TB_WORKDIR/tmr.conf"
write_conf()
{
	cat >"$conf" <<CONF
[global]
workers = 1
[listener main]
listen = 0.0.0.0:3129
[timeouts]
client_header = $1
[admin]
listen = 127.0.0.1:9180
CONF
}
write_conf 20s
rt_start "$conf" 3129 9180
accepted() { tb_exec_r curl -s http://127.0.0.1:9180/metrics | awk '/^remora_connections_accepted_total/ { n += $2 } END { print n + 0 }'; }
# an idle connection under client_header = 20s
tb_spawn c idle_old python3 -c '
import socket, time
s = socket.create_connection(("198.18.2.2", 80))
time.sleep(60)'
n=0
until [ "$(accepted)" -ge 1 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "first connection not accepted"; sleep 0.05
done
write_conf 2s
kill -HUP "$RT_PID"
n=0
until grep -q 'info: reloaded ' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload not logged"; sleep 0.05
done
# a new idle connection under client_header = 2s: closed after about 2 s
took=$(tb_exec_c python3 -c '
import socket, time
s = socket.create_connection(("198.18.2.2", 80))
s.settimeout(10)
t = time.time()
try:
    s.recv(1)
except socket.timeout:
    print("none")
    raise SystemExit
except OSError:
    pass
print(round(time.time() - t, 1))')
echo "new idle connection closed after ${took} s"
case $took in
none) tb_die "new connection not closed within 10 s (client_header 2s after reload)" ;;
esac
python3 -c "import sys; sys.exit(not (1.5 <= $took <= 4.5))" ||
	tb_die "new connection closed after $took s, want about 2 s"
echo "ok: shortened client_header applies to a connection behind a longer one"
rt_stop
