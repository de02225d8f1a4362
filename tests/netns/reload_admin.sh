#!/bin/bash
# A reload that cannot be applied whole is refused whole. Moving the admin
# port to an address another process holds used to close the old port first
# and report the reload as done: /healthz and /metrics were gone (the bypass
# helper then reads Remora as down), and a changed backlog had already been
# given to a kept listener. Now:
#  1. admin port to a taken address, with a new listener and a new backlog:
#     "reload refused" naming the address; /healthz still answers on the old
#     port, the new listener is not opened, the kept listener's backlog is
#     unchanged, remora_reloads_total{result="failed"} is 1;
#  2. admin port from 127.0.0.1:P to 0.0.0.0:P (the old socket holds the
#     port): the socket is handed over, /healthz answers, counters kept;
#  3. an address that cannot be had on the old port's number: refused, and
#     the old port serves again (it had to be closed to try);
#  4. admin off: the port closes; Remora stops with no leaked descriptor.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-ra
tb_up
conf="$TB_WORKDIR/ra.conf"
write_conf() # ADMIN [EXTRA_LISTENER_PORT] [BACKLOG]
{
	{
		printf '[global]\nworkers = 1\n[listener main]\nlisten = 0.0.0.0:3129\n'
		printf 'backlog = %s\n' "${3:-4096}"
		[ -z "${2:-}" ] || printf '[listener extra]\nlisten = 0.0.0.0:%s\n' "$2"
		printf '[admin]\nlisten = %s\n' "$1"
	} >"$conf"
}
reload_expect() # PATTERN COUNT: SIGHUP, then wait for the COUNTth line matching PATTERN
{
	local n=0
	kill -HUP "$RT_PID"
	until [ "$(grep -Ec "$1" "$TB_WORKDIR/remora.log" || true)" -ge "$2" ]; do
		n=$((n + 1)); [ $n -lt 100 ] || tb_die "no '$1' line number $2 in the log"; sleep 0.05
	done
}
health() { tb_exec_r curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://$1/healthz" || true; }
metric() { tb_exec_r curl -s --max-time 2 "http://$1/metrics" | grep -F "$2" | awk '{ print $2 }'; }
backlog() { tb_exec_r ss -Htln 'sport = :3129' | awk '{ print $3 }'; }

write_conf 127.0.0.1:9191
rt_start "$conf" 3129 9191
rt_assert_eq "/healthz at start" "$(health 127.0.0.1:9191)" 200
rt_assert_eq "backlog at start" "$(backlog)" 4096

# 1. the new admin address is taken by another process
tb_spawn r squatter python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.2", 9192)); s.listen(1); time.sleep(60)'
squatter=$TB_LAST_PID
tb_wait_listen r 9192 5 "$squatter" || tb_die "squatter"
write_conf 127.0.0.2:9192 3142 128
reload_expect 'reload refused|info: reloaded ' 1
rt_expect_log 'reload refused: \[admin\] cannot listen on 127\.0\.0\.2:9192 \(98: Address already in use\); still running the previous configuration'
rt_assert_eq "/healthz on the old port after the refused reload" "$(health 127.0.0.1:9191)" 200
rt_assert_eq "new listener not opened" "$(tb_exec_r ss -Htln 'sport = :3142' | wc -l)" 0
rt_assert_eq "kept listener's backlog unchanged" "$(backlog)" 4096
rt_assert_eq "failed reloads counted" "$(metric 127.0.0.1:9191 'remora_reloads_total{result="failed"}')" 1

# 2. the same port on the wildcard: the old socket is handed over
write_conf 0.0.0.0:9191 3142 128
reload_expect 'info: reloaded ' 1
rt_assert_eq "/healthz on 0.0.0.0:9191" "$(health 127.0.0.1:9191)" 200
rt_assert_eq "reloads counted across the move" \
	"$(metric 127.0.0.1:9191 'remora_reloads_total{result="ok"}') $(metric 127.0.0.1:9191 'remora_reloads_total{result="failed"}')" "1 1"
rt_assert_eq "backlog applied by the reload" "$(backlog)" 128
tb_wait_listen r 3142 5 "$RT_PID" || tb_die "new listener not opened"

# 3. an address that cannot be had on the same port: the old socket had to
# be closed to try it, and is opened again
tb_kill "$squatter"
write_conf 198.51.100.1:9191 3142 128
reload_expect 'reload refused' 2
rt_expect_log 'reload refused: \[admin\] cannot listen on 198\.51\.100\.1:9191 \(99: '
rt_assert_eq "/healthz on the old port after a refused same-port move" "$(health 127.0.0.1:9191)" 200

# 4. admin off
write_conf off 3142 128
reload_expect 'info: reloaded ' 2
rt_assert_eq "admin port closed" "$(tb_exec_r ss -Htln 'sport = :9191' | wc -l)" 0
rt_stop
echo PASS
