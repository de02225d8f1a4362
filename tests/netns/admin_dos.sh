#!/bin/bash
# The admin port under abuse (regression test for issue 9, item 3: one thread
# with blocking 2 s receives served it, so a client trickling bytes held
# /healthz for as long as it liked, and accept() failing with EMFILE made the
# admin loop spin at ~90 % CPU):
#  1. 20 clients trickle request heads one byte per second (reconnecting when
#     closed) for 6 s; /healthz, asked every 0.25 s meanwhile, answers 200
#     within 1 s every time;
#  2. the process's RLIMIT_NOFILE is lowered (prlimit) to its lowest free
#     descriptor, so accept() fails with EMFILE, while 4 connections wait in
#     the admin listener's backlog: over 2 s the process uses under 10 % of a
#     CPU (utime+stime from /proc/PID/stat); with the limit restored,
#     /healthz answers again and Remora stops cleanly with no leaked fds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: $PY not installed" >&2; exit 77; }
command -v prlimit >/dev/null || { echo "SKIP: prlimit not installed"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
tb_init rt-ad
tb_up
conf=$(rt_conf ad <<CONF
[global]
workers = 2
[listener main]
listen = 0.0.0.0:3129
mode = tproxy
[admin]
listen = 127.0.0.1:9190
CONF
)
rt_start "$conf" 3129 9190

# 1. slow clients
tb_exec_r "$PY" "$HERE/admin_client.py" slow 127.0.0.1 9190 --tricklers 20 --seconds 6 ||
	tb_die "/healthz did not answer within 1 s while clients trickled"
echo "ok: /healthz answered every probe within 1 s beside 20 trickling clients"

# 2. out of descriptors
cpu_ticks() { sed 's/.*) //' "/proc/$RT_PID/stat" | awk '{ print $12 + $13 }'; }
free=0
while [ -e "/proc/$RT_PID/fd/$free" ]; do free=$((free + 1)); done
limit=$(prlimit --pid "$RT_PID" --nofile --output SOFT,HARD --noheadings | awk '{ print $1 ":" $2 }')
prlimit --pid "$RT_PID" --nofile="$free:${limit#*:}"
tb_spawn r admin-hold "$PY" "$HERE/admin_client.py" hold 127.0.0.1 9190 --conns 4 --seconds 4
hold=$TB_LAST_PID
n=0
until grep -q 'holding 4' "$TB_WORKDIR/admin-hold.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "hold: $(cat "$TB_WORKDIR/admin-hold.log")"; sleep 0.05
done
sleep 0.2
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
used=$((t1 - t0))
echo "CPU over 2 s with EMFILE on the admin listener: $used ticks (CLK_TCK $hz)"
prlimit --pid "$RT_PID" --nofile="$limit"
[ "$used" -lt $((2 * hz / 10)) ] || tb_die "$used ticks in 2 s (>= 10 % of a CPU): the admin loop spins on EMFILE"
echo "ok: under 10 % of a CPU while accept() failed with EMFILE"
n=0
until tb_exec_r "$PY" "$HERE/admin_client.py" health 127.0.0.1 9190; do
	n=$((n + 1)); [ $n -lt 10 ] || tb_die "/healthz does not answer after the limit was restored"; sleep 0.1
done
echo "ok: /healthz answers again with the limit restored"
tb_kill "$hold"
rt_stop
echo "PASS"
