#!/bin/bash
# SIGTERM under load: Remora stops accepting, the requests in flight (slow
# 64 KiB responses, ~2 s each) all finish, it exits 0 and has closed every
# descriptor it opened.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-st
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
conf=$(rt_conf st <<'CONF'
[global]
workers = 2
drain_timeout = 30s
[listener st]
listen = 0.0.0.0:3129
CONF
)
rt_start "$conf" 3129
tb_spawn c hammer "$HAMMER" -t 198.18.2.2:80 -p /slow -n 40 -c 40 -e bbbbbbbb -T 60
hpid=$TB_LAST_PID
# wait until all 40 upstream legs are established, i.e. 40 requests in flight
n=0
while :; do
	up=$(tb_exec_r ss -Htn state established '( dport = :80 )' | wc -l)
	[ "$up" -ge 40 ] && break
	n=$((n + 1))
	[ $n -lt 200 ] || tb_die "only $up upstream connections after 10 s"
	sleep 0.05
done
echo "ok: $up requests in flight; sending SIGTERM"
rt_stop
rc=0
wait "$hpid" || rc=$?
rt_forget "$hpid"
cat "$TB_WORKDIR/hammer.log"
[ "$rc" -eq 0 ] || tb_die "in-flight requests failed across SIGTERM (hammer rc=$rc)"
grep -q 'shutdown=' "$TB_WORKDIR/remora.log" && tb_die "a connection was cut at shutdown"
echo "ok: every in-flight request finished, exit 0, no leaked descriptors"
