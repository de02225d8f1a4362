#!/bin/bash
# Hitless reload: 20 SIGHUPs while wrk runs through Remora (keep-alive and
# connection-per-request load at once), alternating between configurations
# that add and remove a listener and change timeouts: zero socket errors,
# zero non-2xx. A broken configuration is refused with a message naming the
# file and line, and the old one keeps serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
command -v wrk >/dev/null || { echo "SKIP: wrk not installed"; exit 77; }
tb_init rt-rl
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
conf="$TB_WORKDIR/rl.conf"
write_conf()
{
	cat >"$conf" <<CONF
[global]
workers = 2
[listener main]
listen = 0.0.0.0:3129
[listener extra]
listen = 0.0.0.0:$1
[timeouts]
idle = $2
CONF
}
write_conf 3140 60s
rt_start "$conf" 3129 3140
cat >"$TB_WORKDIR/close.lua" <<'LUA'
wrk.headers["Connection"] = "close"
LUA
tb_spawn c wrk-ka wrk -t1 -c20 -d8s http://198.18.2.2/1k
ka=$TB_LAST_PID
tb_spawn c wrk-close wrk -t1 -c10 -d8s -s "$TB_WORKDIR/close.lua" http://198.18.2.3/1k
cl=$TB_LAST_PID
sleep 0.5
for i in $(seq 1 20); do
	if [ $((i % 2)) -eq 1 ]; then write_conf 3141 30s; port=3141; else write_conf 3140 60s; port=3140; fi
	kill -HUP "$RT_PID"
	n=0
	until [ "$(grep -c 'info: reloaded ' "$TB_WORKDIR/remora.log" || true)" -ge "$i" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload $i not logged"; sleep 0.05
	done
	tb_wait_listen r "$port" 5 "$RT_PID" || tb_die "reload $i: no listener on $port"
	sleep 0.2
done
# a broken configuration: refused, old one keeps serving
printf '[global]\nworkers = 2\n[listener main]\nlisten = 0.0.0.0:3129\nmode = sideways\n' >"$conf"
kill -HUP "$RT_PID"
n=0
until grep -q 'reload refused' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "broken reload not refused"; sleep 0.05
done
rt_expect_log "reload refused: $conf:5: \\[listener main\\] mode: invalid value 'sideways'"
for p in $ka $cl; do wait "$p" || tb_die "wrk failed"; rt_forget "$p"; done
for f in wrk-ka wrk-close; do
	cat "$TB_WORKDIR/$f.log"
	grep -q 'Socket errors' "$TB_WORKDIR/$f.log" && tb_die "$f: socket errors during reloads"
	grep -q 'Non-2xx' "$TB_WORKDIR/$f.log" && tb_die "$f: non-2xx responses during reloads"
	reqs=$(sed -nE 's/^ *([0-9]+) requests in.*/\1/p' "$TB_WORKDIR/$f.log")
	[ "${reqs:-0}" -gt 1000 ] || tb_die "$f: only ${reqs:-0} requests"
done
rt_hammer -t 198.18.2.2:80 -n 200 -c 10 -E addr
rt_expect_log 'listening on 0.0.0.0:3140'
[ "$(grep -c 'info: reloaded ' "$TB_WORKDIR/remora.log")" -eq 20 ] || tb_die "expected 20 reloads"
echo "ok: 20 reloads under load, no errors; broken config refused, old one served"
rt_stop
