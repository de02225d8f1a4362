#!/bin/bash
# An original destination with nothing listening (origin port 8080): by
# default the client connection is reset, as a refused connection looks
# directly ([http] upstream_errors = reset); with upstream_errors = status the
# client gets 502 and the connection is closed cleanly; either way a log line
# names the cause and Remora keeps serving. An unreachable destination is
# reset (or gets 504) after the connect timeout, which by default outlasts the
# kernel's SYN retries; a client that resets while connecting ends it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-rf
tb_up
tb_intercept_tproxy 3129 80 8080
tb_origin_start
# 198.18.2.9 is routed to the origin link but nobody has it: no answer at all
conf=$(rt_conf rf <<'CONF'
[global]
workers = 1
[listener rf]
listen = 0.0.0.0:3129
[timeouts]
connect = 1s
CONF
)
rt_start "$conf" 3129
# default: reset, never a status the origin did not send
rc=0
code=$(tb_exec_c curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://198.18.2.2:8080/) || rc=$?
rt_assert_eq "refused upstream: curl sees a reset (exit 56)" "$rc:$code" "56:000"
rc=0
code=$(tb_exec_c curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://198.18.2.9/) || rc=$?
rt_assert_eq "unreachable upstream: curl sees a reset (exit 56)" "$rc:$code" "56:000"
rt_stop

conf=$(rt_conf rf-status <<'CONF'
[global]
workers = 1
[listener rf]
listen = 0.0.0.0:3129
[timeouts]
connect = 1s
[http]
upstream_errors = status
CONF
)
rt_start "$conf" 3129
code=$(rt_curl -o /dev/null -w '%{http_code}' http://198.18.2.2:8080/)
rt_assert_eq "status for a refused upstream" "$code" 502
rt_expect_log 'conn 0\.[0-9]+ 198\.18\.1\.2:[0-9]+ -> 198\.18\.2\.2:8080 \[rf\] closed while connecting upstream \(transparent\): upstream-refused: .*\(111: Connection refused\)'
echo "ok: refused upstream logged with its cause"
code=$(rt_curl -o /dev/null -w '%{http_code}' http://198.18.2.9/)
rt_expect_log '-> 198\.18\.2\.9:80 \[rf\] closed while connecting upstream \(transparent\): (connect-timeout|upstream-unreachable)'
case $code in
504) echo "ok: unreachable destination answered 504 after the connect timeout" ;;
502) echo "ok: unreachable destination answered 502 (host unreachable)" ;;
*) tb_die "unreachable destination: status $code" ;;
esac
rt_hammer -t 198.18.2.2:80 -n 200 -c 10 -E addr
rt_stop

# The default connect timeout outlasts the kernel's SYN retries: an origin
# whose SYNs are lost for 8 s (it answers a retransmission after that) is
# reached, as a direct client reaches it (the old default, 5 s, reset it).
# A client that resets while the origin has not answered ends the connect:
# the origin never gets its request (it got it once its SYN-ACK came).
cat >"$TB_WORKDIR/rec_origin.py" <<'PY'
import socket, sys, threading
log = open(sys.argv[1], "a", buffering=1)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("198.18.2.2", 8090))
ls.listen(16)
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        d = c.recv(4096)
        if not d:
            return
        data += d
    log.write(data.split(b"\r\n")[0].decode() + "\n")
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
tb_spawn o rec-origin python3 -u "$TB_WORKDIR/rec_origin.py" "$TB_WORKDIR/rec.log"
tb_wait_listen o 8090 10 "$TB_LAST_PID" || tb_die "recording origin did not listen"
tb_intercept_clear
tb_intercept_tproxy 3129 80 8080 8090
drop_syns() # SECONDS: the origin drops SYNs to :8090 for that long
{
	tb_exec_o nft add table inet rt_rf_drop
	tb_exec_o nft add chain inet rt_rf_drop in '{ type filter hook input priority 0; }'
	tb_exec_o nft add rule inet rt_rf_drop in tcp dport 8090 tcp flags syn drop
	(sleep "$1"; tb_exec_o nft delete table inet rt_rf_drop) &
}
conf=$(rt_conf rf-default <<'CONF'
[global]
workers = 1
[listener rf]
listen = 0.0.0.0:3129
CONF
)
rt_start "$conf" 3129
drop_syns 8
t0=$(date +%s)
body=$(tb_exec_c curl -s --max-time 30 http://198.18.2.2:8090/lossy || true)
rt_assert_eq "origin whose SYNs are lost for 8 s is reached" "$body" ok
echo "ok: ... after $(($(date +%s) - t0)) s"
drop_syns 3
tb_exec_c python3 - <<'PY'
import socket, struct, time
s = socket.create_connection(("198.18.2.2", 8090), timeout=5)
s.sendall(b"GET /gone HTTP/1.1\r\nHost: o\r\n\r\n")
time.sleep(0.5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
ADMIN=127.0.0.1:9180
n=0
until [ "$(rt_metric 'remora_closes_total{reason="client-reset"}')" = 1 ]; do
	n=$((n + 1)); [ $n -lt 50 ] || tb_die "the client's reset did not end the connect"; sleep 0.1
done
sleep 4 # past the SYN the origin answers
grep -q 'GET /lossy ' "$TB_WORKDIR/rec.log" || tb_die "the lossy request is not in the origin's log"
if grep -q 'GET /gone ' "$TB_WORKDIR/rec.log"; then
	tb_die "a request whose client reset during the connect reached the origin"
fi
echo "ok: a client that reset during the connect: nothing reached the origin"
rt_stop
