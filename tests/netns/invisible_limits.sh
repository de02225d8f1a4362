#!/bin/bash
# Timeouts and limits never cut what the two endpoints allow each other: each
# case runs through Remora (intercepted ports 9021-9025) and with plain
# routing (the same services on 9121-9125) and must end the same way. With
# [timeouts] response = 1s and idle = 30s: an origin that closes an idle
# keep-alive connection after 1 s ends the client's at once (the origin's
# keep-alive decides); a response body that pauses 2.5 s mid-way (long-poll,
# server-sent events) arrives whole. At the default limits: a 100 KiB
# response head (Chromium reads 256 KiB), a request with 150 fields and one
# with a 10 KiB request line (nginx, Go take both).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-inv
tb_up
tb_intercept_tproxy 3129 9021 9022 9023 9024 9025
conf=$(rt_conf inv <<'CONF'
[global]
workers = 1
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
response = 1s
idle = 30s
CONF
)
rt_start "$conf" 3129
PY=${PYTHON:-python3}
IPY="$(dirname "$0")/invisible.py"
tb_spawn o invisible /usr/bin/python3 -u "$IPY" origin "$TB_O4"
for p in 9021 9121 9025 9125; do
	tb_wait_listen o $p 10 || tb_die "origin :$p"
done

fails=0
# both WHAT CASE PORT: the outcome through Remora equals the direct one
both()
{
	local what=$1 case=$2 port=$3 via direct
	via=$(tb_exec_c "$PY" "$IPY" client "$case" "$TB_O4" "$port" 2>&1) || true
	direct=$(tb_exec_c "$PY" "$IPY" client "$case" "$TB_O4" $((port + 100)) 2>&1) || true
	if [ "$via" = "$direct" ]; then
		echo "ok: $what: $via"
	else
		echo "FAIL: $what: through Remora: $via; direct: $direct" >&2
		fails=$((fails + 1))
	fi
}
both "origin closes the idle keep-alive connection after 1 s" kaclose 9021
both "response body paused 2.5 s > [timeouts] response" pause 9022
both "100 KiB response head" bighead 9023
both "request with 150 header fields" fields 9024
both "request line of 10 KiB" longline 9025
# a real client reads the big head too
via=$(tb_exec_c curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$TB_O4:9023/" 2>&1) || true
if [ "$via" = 200 ]; then
	echo "ok: curl reads the 100 KiB response head through Remora"
else
	echo "FAIL: curl: 100 KiB response head through Remora: '$via'" >&2
	fails=$((fails + 1))
fi
rt_stop
[ $fails -eq 0 ] || tb_die "$fails case(s) differ from plain routing"
echo "PASS"
