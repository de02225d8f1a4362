#!/bin/bash
# Invisible at the edges: each case runs twice in this one test — through
# Remora (intercepted ports 9001-9009) and with plain routing (the same
# services on ports 9101-9109, which the router forwards) — and must end the
# same way: a server-first banner, a client's unterminated bytes echoed, an
# explicit proxy reached with absolute-form and CONNECT, a reused connection
# closed under a POST, odd but browser-readable responses (curl, and framing
# fields read as browsers read them, forwarded unambiguous), 40 KiB and
# 200 KiB response heads, three 7,000-byte cookies, a long-poll answered after 65 s,
# a tunnel quiet for 70 s, a closed origin port.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-edg
tb_up
tb_intercept_tproxy 3129 9001 9002 9003 9004 9005 9006 9007 9008 9009 9010
conf=$(rt_conf edg <<'CONF'
[global]
workers = 2
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
CONF
)
rt_start "$conf" 3129
PY=${PYTHON:-python3}
EPY="$(dirname "$0")/edges.py"
tb_spawn o edges /usr/bin/python3 -u "$EPY" origin "$TB_O4"
for p in 9001 9101 9008 9108 9010 9110; do
	tb_wait_listen o $p 10 || tb_die "origin :$p"
done

fails=0
# both WHAT CASE PORT [ARG]: the outcome through Remora equals the direct one
both()
{
	local what=$1 case=$2 port=$3 arg=${4:-} via direct
	via=$(tb_exec_c "$PY" "$EPY" client "$case" "$TB_O4" "$port" $arg 2>&1) || true
	direct=$(tb_exec_c "$PY" "$EPY" client "$case" "$TB_O4" $((port + 100)) $arg 2>&1) || true
	if [ "$via" = "$direct" ]; then
		echo "ok: $what: $via"
	else
		echo "FAIL: $what: through Remora: $via; direct: $direct" >&2
		fails=$((fails + 1))
	fi
}
# curl_both WHAT PATH: a real client reads an odd response the same both ways
curl_both()
{
	local what=$1 path=$2 via direct
	via=$(tb_exec_c curl -s --http0.9 --max-time 5 -o - -w ' code=%{http_code}' \
		"http://$TB_O4:9005$path" 2>&1 | md5sum) || true
	direct=$(tb_exec_c curl -s --http0.9 --max-time 5 -o - -w ' code=%{http_code}' \
		"http://$TB_O4:9105$path" 2>&1 | md5sum) || true
	if [ "$via" = "$direct" ]; then
		echo "ok: $what"
	else
		echo "FAIL: $what: curl read differently through Remora:" >&2
		tb_exec_c curl -sv --http0.9 --max-time 5 "http://$TB_O4:9005$path" >&2 || true
		fails=$((fails + 1))
	fi
}

# the slow ones run in the background while the rest goes on
both "long-poll answered after 65 s" longpoll 9007 >"$TB_WORKDIR/longpoll.out" 2>&1 &
lp=$!
both "tunnel quiet for 70 s" quiet 9008 70 >"$TB_WORKDIR/quiet.out" 2>&1 &
qt=$!
# TCP keep-alive on the quiet tunnel's two legs: not while the tunnel is
# young (short flows never pay its system calls), on after a quiet minute
ka_legs()
{
	tb_exec_r ss -tnoH state established '( sport = :9008 or dport = :9008 )' |
		grep -c 'timer:(keepalive' || true
}
(
	sleep 10
	young=$(ka_legs)
	sleep 56
	old=$(ka_legs)
	if [ "$young" = 0 ] && [ "$old" = 2 ]; then
		echo "ok: quiet tunnel: keep-alive on 0 legs at 10 s, on both at 66 s"
	else
		echo "FAIL: quiet tunnel: legs with keep-alive at 10 s: $young (want 0), at 66 s: $old (want 2)"
	fi
) >"$TB_WORKDIR/ka.out" 2>&1 &
ka=$!
# a real WebSocket client and server (python3-websockets, Debian's python)
WSPY=/usr/bin/python3
if "$WSPY" -c 'import websockets' 2>/dev/null; then
	PY=$WSPY both "WebSocket quiet for 70 s" ws 9010 70 >"$TB_WORKDIR/ws.out" 2>&1 &
	ws=$!
else
	echo "FAIL: python3-websockets missing for $WSPY (scripts/deps.sh installs it)" >"$TB_WORKDIR/ws.out"
	ws=
fi

both "server speaks first: banner at once" banner 9001
both "client bytes with no line end: echoed at once" echo 9002
both "explicit proxy: absolute-form target passes unchanged" proxy-get 9003
both "explicit proxy: CONNECT, 200, then a tunnel" proxy-connect 9003
both "POST on a reused connection the origin closed" reused 9004
# a real client: curl retries a request whose reused connection died
curl_reused()
{
	tb_exec_c curl -s --max-time 5 -o /dev/null -w '%{http_code} ' --data x \
		"http://$TB_O4:$1/1" --next --data y "http://$TB_O4:$1/2" 2>&1 || true
}
via=$(curl_reused 9004)
direct=$(curl_reused 9104)
if [ "$via" = "$direct" ]; then
	echo "ok: curl: POST on a reused connection the origin closed, retried: $via"
else
	echo "FAIL: curl reused POST: through Remora '$via', direct '$direct'" >&2
	fails=$((fails + 1))
fi
both "3 cookie lines of 7,000 bytes" cookies 9006
both "origin port closed: fails at once" refused 9009
for path in /barelf /fold /wscolon /noname /999 /noreason /clte /10te /icy /bighead /bighead200k \
	/clplus /clbad2 /tec2 /cllist /ctl; do
	curl_both "odd response $path" "$path"
done
# framing fields a browser reads leniently: read as Chromium and Firefox read
# them (edges.py browser_view), the same both ways, and forwarded in a form
# that strict parsers cannot frame differently (curl itself reads some of
# them otherwise than browsers, directly: "chunked, gzip" as gzip, and
# identity with a Content-Length up to the close)
for path in /clte /clplus /clempty /clbad2 /cllist /tec2 /tecgz /teidcl /teempty /ctl /chlf \
	/chext; do
	both "a browser reads $path" browser 9005 "$path"
	fwd=$(tb_exec_c "$PY" "$EPY" client forwarded "$TB_O4" 9005 "$path" 2>&1) || true
	if [ "$fwd" = unambiguous ]; then
		echo "ok: $path forwarded unambiguous"
	else
		echo "FAIL: $path forwarded: $fwd" >&2
		fails=$((fails + 1))
	fi
done

for job in $lp $qt $ws $ka; do
	if ! wait $job; then fails=$((fails + 1)); fi
done
cat "$TB_WORKDIR/longpoll.out" "$TB_WORKDIR/quiet.out" "$TB_WORKDIR/ws.out" "$TB_WORKDIR/ka.out"
if grep -q '^FAIL' "$TB_WORKDIR/longpoll.out" "$TB_WORKDIR/quiet.out" "$TB_WORKDIR/ws.out" \
	"$TB_WORKDIR/ka.out"; then
	fails=$((fails + 1))
fi
# nothing bypassed the proxy on the intercepted ports
metrics=$(tb_exec_r curl -s http://127.0.0.1:9180/metrics)
if ! grep -Eq '^remora_tunnels_total\{kind="server_first"\} [1-9]' <<<"$metrics"; then
	echo "FAIL: no server-first tunnel counted" >&2
	fails=$((fails + 1))
fi
rt_stop
[ $fails -eq 0 ] || tb_die "$fails edge case(s) differ from plain routing"
echo "PASS"
