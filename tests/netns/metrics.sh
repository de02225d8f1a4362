#!/bin/bash
# /metrics after known traffic: 300 OK requests over keep-alive, 7 requests
# to a port where nothing listens (502), 3 malformed requests (400), 2
# non-HTTP connections tunnelled to the origin. Scraped from the admin
# listener (127.0.0.1:9180 inside the router namespace), the exposition is
# valid Prometheus text format, every counter equals what was sent, bytes to
# and from clients equal the bytes the clients received and sent, and the
# open-connections gauge returns to 0. /healthz says ok, other paths 404,
# other methods 405; with [admin] listen = off nothing listens on 9180.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: $PY not installed" >&2; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
ADMIN=127.0.0.1:9180
tb_init rt-mx
tb_up
tb_intercept_tproxy 3129 80 8080 8081
tb_origin_start
conf=$(rt_conf mx <<CONF
[global]
workers = 2
[listener mx]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
connect = 2s
[http]
# the generated 502/504 pages are what these tests log and count
upstream_errors = status
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9180
fails=0

# scrape NAME: /metrics into $TB_WORKDIR/NAME.prom (curl in the router namespace).
scrape()
{
	local ct
	ct=$(tb_exec_r curl -sS --max-time 5 -o "$TB_WORKDIR/$1.prom" -w '%{http_code} %{content_type}' \
		"http://$ADMIN/metrics") || tb_die "scrape $1: curl failed"
	[ "$ct" = "200 text/plain; version=0.0.4" ] || tb_die "scrape $1: got '$ct'"
}

# prom_check NAME EXPR...: validates NAME.prom and checks every EXPR.
prom_check()
{
	local f="$TB_WORKDIR/$1.prom"
	shift
	if ! "$PY" "$HERE/alog_metrics.py" check "$f" "$@"; then
		echo "[tb rt-mx] FAIL: metrics checks above (exposition: $f)" >&2
		fails=$((fails + 1))
	fi
}

# ---- before any traffic: valid, and every traffic counter at 0
scrape before
prom_check before \
	'sum(remora_connections_accepted_total) == 0' \
	'sum(remora_connections_open) == 0' \
	'sum(remora_responses_total) == 0' \
	'sum(remora_bytes_total) == 0' \
	'sum(remora_tunnels_total) == 0' \
	'sum(remora_closes_total) == 0' \
	'remora_workers_alive == 1'

# ---- known traffic
OK=300 PER_CONN=30 REFUSED=7 BAD=3 TUNNEL=2
rc=0
tot=$(tb_exec_c "$PY" "$HERE/alog_client.py" traffic --ok $OK --per-conn $PER_CONN \
	--refused $REFUSED --bad $BAD --tunnel $TUNNEL) || rc=$?
[ "$rc" -le 1 ] || tb_die "the known traffic did not get its responses"
if [ "$rc" -ne 0 ]; then
	echo "[tb rt-mx] FAIL: client-side checks failed (above)" >&2
	fails=$((fails + 1))
fi
echo "client side: $tot"
field() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$tot" "$1"; }
conns=$(field connections)
sent=$(field sent)
received=$(field received)
rt_assert_eq "connections opened by the client" "$conns" $((OK / PER_CONN + REFUSED + BAD + TUNNEL))

# the gauge returns to 0 once every connection has closed
n=0
until [ "$(tb_exec_r curl -sS --max-time 5 "http://$ADMIN/metrics" >"$TB_WORKDIR/poll.prom" &&
	"$PY" "$HERE/alog_metrics.py" get "$TB_WORKDIR/poll.prom" 'sum(remora_connections_open)')" = 0 ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || { cat "$TB_WORKDIR/poll.prom" >&2; tb_die "remora_connections_open not back to 0 after 5 s"; }
	sleep 0.05
done
echo "ok: remora_connections_open back to 0"

scrape after
prom_check after \
	"remora_responses_total{class=\"2xx\"} == $OK" \
	"remora_responses_total{class=\"5xx\"} == $REFUSED" \
	"remora_responses_total{class=\"4xx\"} == $BAD" \
	'remora_responses_total{class="1xx"} == 0' \
	'remora_responses_total{class="3xx"} == 0' \
	"remora_upstream_connect_failures_total{errno=\"ECONNREFUSED\"} == $REFUSED" \
	"sum(remora_upstream_connect_failures_total) == $REFUSED" \
	"remora_tunnels_total{kind=\"non_http\"} == $TUNNEL" \
	'remora_tunnels_total{kind="upgrade"} == 0' \
	"sum(remora_connections_accepted_total) == $conns" \
	'sum(remora_connections_open) == 0' \
	"remora_closes_total{reason=\"upstream-refused\"} == $REFUSED" \
	"remora_closes_total{reason=\"bad-request\"} == $BAD" \
	"sum(remora_closes_total) == $conns" \
	"remora_bytes_total{direction=\"to_clients\"} >= $received" \
	"remora_bytes_total{direction=\"to_clients\"} == $received" \
	"remora_bytes_total{direction=\"from_clients\"} == $sent" \
	'remora_accept_errors_total == 0' \
	'remora_handoff_failures_total == 0' \
	'remora_orig_dst_failures_total == 0' \
	'sum(remora_loop_guard_refusals_total) == 0' \
	'remora_workers_alive == 1'

# ---- /healthz, unknown paths, other methods
out=$(tb_exec_r curl -sS --max-time 5 -w ' %{http_code}' "http://$ADMIN/healthz")
rt_assert_eq "/healthz" "$out" "ok
 200"
code=$(tb_exec_r curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://$ADMIN/nope")
rt_assert_eq "GET of an unknown path" "$code" 404
code=$(tb_exec_r curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X POST -d x=1 "http://$ADMIN/metrics")
rt_assert_eq "POST /metrics" "$code" 405
allow=$(tb_exec_r curl -sS --max-time 5 -o /dev/null -D - -X DELETE "http://$ADMIN/metrics" |
	tr -d '\r' | sed -n 's/^Allow: //p')
rt_assert_eq "405 names the methods allowed" "$allow" "GET, HEAD"
# HEAD: GET's head (its Content-Length too), and not a byte of body after it
out=$(tb_exec_r "$PY" "$HERE/admin_client.py" head "${ADMIN%:*}" "${ADMIN##*:}")
rt_assert_eq "HEAD /healthz: the head only" "$out" "Content-Length: 3 after the head: b''"
rt_stop

# ---- [admin] listen = off: nothing on 9180
conf=$(rt_conf mx-off <<'CONF'
[global]
workers = 1
[listener mx]
listen = 0.0.0.0:3129
[admin]
listen = off
CONF
)
rt_start "$conf" 3129
rt_curl -o /dev/null http://198.18.2.2/1k || tb_die "admin off: proxying failed"
rt_assert_eq "listeners on 9180 with [admin] listen = off" \
	"$(tb_exec_r ss -Htln 'sport = :9180' | wc -l)" 0
if tb_exec_r curl -s --max-time 2 -o /dev/null "http://$ADMIN/healthz"; then
	tb_die "admin off: /healthz answered"
fi
echo "ok: admin off: /healthz refused"
rt_stop
[ "$fails" -eq 0 ] || tb_die "$fails metrics checks failed"
echo "ok: metrics"
