#!/bin/bash
# The latency histograms after known traffic, and the Grafana dashboard
# against a live /metrics page.
#
# Listener hx (tproxy) takes 40 OK requests over 4 keep-alive connections, 3
# requests to a port where nothing listens (502), 2 malformed requests (400),
# 2 non-HTTP tunnels and 3 requests to an origin that answers after 0.6 s.
# Then, for each listener, in valid text format with every histogram
# cumulative, in increasing le order, ending in +Inf == _count:
#   request duration _count = every response (OK + 502 + 400 + slow)
#   first byte _count       = responses from the origin (OK + slow)
#   connect _count          = successful upstream connects (4 + tunnels + slow)
#   TLS hello wait          = 0 (no TLS states yet)
#   the slow requests sit above le="0.5" in the first-byte and duration
#   histograms, and _sum is at least 3 x 0.6 s.
# A reload that puts a new listener hy BEFORE hx keeps hx's series (slots
# follow names, not positions), adds hy's at 0, and new traffic counts under hx.
# Finally every metric that contrib/grafana/remora.json queries exists in the
# live /metrics page.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: $PY not installed" >&2; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ADMIN=127.0.0.1:9180
tb_init rt-hg
tb_up
tb_intercept_tproxy 3129 80 8080 8081 8083
tb_origin_start
tb_spawn o slow-origin "$PY" "$HERE/histo_check.py" origin 8083 0.6
tb_wait_listen o 8083 10 "$TB_LAST_PID" || tb_die "slow origin did not start"
write_conf()
{
	cat >"$TB_WORKDIR/hg.conf"
	echo "$TB_WORKDIR/hg.conf"
}
conf=$(write_conf <<CONF
[global]
workers = 2
access_log = $TB_WORKDIR/access.log
[listener hx]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
connect = 2s
[http]
upstream_errors = status
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9180
fails=0
H=remora_request_duration_seconds
F=remora_response_first_byte_seconds
C=remora_upstream_connect_seconds
T=remora_tls_hello_wait_seconds

scrape()
{
	tb_exec_r curl -sS --max-time 5 -o "$TB_WORKDIR/$1.prom" "http://$ADMIN/metrics" ||
		tb_die "scrape $1: curl failed"
}

# hcheck NAME EXPR...: histogram rules and EXPRs on NAME.prom
hcheck()
{
	local f="$TB_WORKDIR/$1.prom"
	shift
	if ! "$PY" "$HERE/histo_check.py" histograms "$f" "$@"; then
		echo "[tb rt-hg] FAIL: histogram checks above (exposition: $f)" >&2
		fails=$((fails + 1))
	fi
}

# wait_count SERIES N: until SERIES (a _count) reaches N (exchanges are
# counted when they end, a moment after the client has its response)
wait_count()
{
	local n=0
	until [ "$(tb_exec_r curl -sS --max-time 5 "http://$ADMIN/metrics" >"$TB_WORKDIR/poll.prom" &&
		"$PY" "$HERE/alog_metrics.py" get "$TB_WORKDIR/poll.prom" "$1")" = "$2" ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || { grep "$1" "$TB_WORKDIR/poll.prom" >&2 || true; tb_die "$1 is not $2 after 5 s"; }
		sleep 0.05
	done
}

scrape before
hcheck before "$H"'_count{listener="hx"} == 0' "$F"'_count{listener="hx"} == 0' \
	"$C"'_count{listener="hx"} == 0' "$T"'_count{listener="hx"} == 0'

OK=40 PER_CONN=10 REFUSED=3 BAD=2 TUNNEL=2 SLOW=3
rc=0
tb_exec_c "$PY" "$HERE/alog_client.py" traffic --ok $OK --per-conn $PER_CONN \
	--refused $REFUSED --bad $BAD --tunnel $TUNNEL >/dev/null || rc=$?
[ "$rc" -le 1 ] || tb_die "the known traffic did not get its responses"
[ "$rc" -eq 0 ] || { echo "[tb rt-hg] FAIL: client-side checks" >&2; fails=$((fails + 1)); }
for i in $(seq 1 $SLOW); do
	body=$(rt_curl "http://198.18.2.2:8083/s$i") || tb_die "slow request $i failed"
	[ "$body" = slow ] || tb_die "slow request $i: got '$body'"
done
ALL=$((OK + REFUSED + BAD + SLOW))
wait_count "$H"'_count{listener="hx"}' $ALL
# the tunnels' connects finish before their (client-closed) ends: wait for the closes
wait_count 'sum(remora_connections_open)' 0
scrape after
hcheck after \
	"$H"'_count{listener="hx"}'" == $ALL" \
	"sum(remora_responses_total) == $ALL" \
	"$F"'_count{listener="hx"}'" == $((OK + SLOW))" \
	"$C"'_count{listener="hx"}'" == $((OK / PER_CONN + TUNNEL + SLOW))" \
	"$T"'_count{listener="hx"} == 0' \
	"$T"'_sum{listener="hx"} == 0' \
	"$F"'_bucket{listener="hx",le="0.5"}'" <= $OK" \
	"$H"'_bucket{listener="hx",le="0.5"}'" <= $((ALL - SLOW))" \
	"$F"'_sum{listener="hx"} >= 1.8' \
	"$H"'_sum{listener="hx"} >= 1.8' \
	"$C"'_sum{listener="hx"} >= 0.000001' \
	"$H"'_bucket{listener="hx",le="+Inf"}'" == $ALL"

# ---- reload: hy comes first in the file; hx keeps its series and slot
cp "$conf" "$TB_WORKDIR/hg-old.conf"
{
	sed -n '1,3p' "$TB_WORKDIR/hg-old.conf"
	printf '[listener hy]\nlisten = 0.0.0.0:3130\nmode = tproxy\n'
	sed -n '4,$p' "$TB_WORKDIR/hg-old.conf"
} >"$conf"
kill -HUP "$RT_PID"
wait_count 'remora_reloads_total{result="ok"}' 1
tb_wait_listen r 3130 5 "$RT_PID" || tb_die "reload: no listener hy"
for i in 1 2; do
	rt_curl -o /dev/null "http://198.18.2.2/1k?r$i" || tb_die "request after the reload failed"
done
wait_count "$H"'_count{listener="hx"}' $((ALL + 2))
scrape reloaded
hcheck reloaded \
	"$H"'_count{listener="hx"}'" == $((ALL + 2))" \
	"$F"'_count{listener="hx"}'" == $((OK + SLOW + 2))" \
	"$H"'_count{listener="hy"} == 0' \
	"$C"'_count{listener="hy"} == 0'

# ---- the dashboard's every metric is on this live page
if ! "$PY" "$HERE/histo_check.py" dashboard "$ROOT/contrib/grafana/remora.json" \
	"$TB_WORKDIR/reloaded.prom"; then
	echo "[tb rt-hg] FAIL: dashboard checks above" >&2
	fails=$((fails + 1))
fi
rt_stop
[ "$fails" -eq 0 ] || tb_die "$fails histogram checks failed"
echo "ok: histograms"
