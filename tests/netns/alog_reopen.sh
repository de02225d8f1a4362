#!/bin/bash
# Access-log reopen and reload racing live traffic (built for the TSan run,
# where a data race makes Remora exit 66): while hammer sends requests on two
# workers, SIGUSR1 (reopen) and SIGHUP reloads that switch the log between
# two paths and formats alternate. Remora must keep serving, exit 0 with no
# ThreadSanitizer report, and the files together must hold exactly one line
# per request. Regression test for the unlocked al->fd / al->path accesses
# (the workers read al->fd while the writer replaced it on reopen; the writer
# logged al->path while a reload rewrote it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
TOTAL=3000
ROUNDS=8
tb_init rt-ar
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
conf="$TB_WORKDIR/ar.conf"
# write_conf PATH FORMAT
write_conf()
{
	cat >"$conf" <<CONF
[global]
workers = 2
access_log = $1
access_log_format = $2
[listener al]
listen = 0.0.0.0:3129
mode = tproxy
CONF
}
logs="$TB_WORKDIR/logs"
mkdir -p "$logs"
write_conf "$logs/a.log" squid
rt_start "$conf" 3129
tb_spawn c hammer "$HAMMER" -t 198.18.2.2:80 -p /1k -n "$TOTAL" -c 8 -k 20 -T 60
hpid=$TB_LAST_PID
for i in $(seq 1 "$ROUNDS"); do
	mv "$logs/a.log" "$logs/a.log.$i" 2>/dev/null || true
	kill -USR1 "$RT_PID"
	if [ $((i % 2)) -eq 1 ]; then write_conf "$logs/b.log" json; else write_conf "$logs/a.log" squid; fi
	kill -HUP "$RT_PID"
	n=0
	until [ "$(grep -c 'info: reloaded ' "$TB_WORKDIR/remora.log" || true)" -ge "$i" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || { cat "$TB_WORKDIR/remora.log" >&2; tb_die "reload $i not logged"; }
		sleep 0.02
	done
	sleep 0.1
done
wait "$hpid" || { cat "$TB_WORKDIR/hammer.log" "$TB_WORKDIR/remora.log" >&2; tb_die "hammer failed"; }
rt_forget "$hpid"
cat "$TB_WORKDIR/hammer.log"
grep -q "ok=$TOTAL failed=0" "$TB_WORKDIR/hammer.log" || tb_die "hammer: not all $TOTAL requests ok"
rt_stop
if grep -q 'ThreadSanitizer' "$TB_WORKDIR/remora.log"; then
	cat "$TB_WORKDIR/remora.log" >&2
	tb_die "ThreadSanitizer report (above)"
fi
grep -c 'access_log: reopened' "$TB_WORKDIR/remora.log" | sed 's/^/reopens logged: /'
lines=$(cat "$logs"/* | wc -l)
wc -l "$logs"/*
rt_assert_eq "lines over every file" "$lines" "$TOTAL"
echo "PASS"
