#!/bin/bash
# An original destination with nothing listening (origin port 8080): by
# default the client connection is reset, as a refused connection looks
# directly ([http] upstream_errors = reset); with upstream_errors = status the
# client gets 502 and the connection is closed cleanly; either way a log line
# names the cause and Remora keeps serving. An unreachable destination is
# reset (or gets 504) after the connect timeout.
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
