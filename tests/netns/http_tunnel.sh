#!/bin/bash
# Byte tunnels through Remora: a WebSocket upgrade (101, then frames both
# ways, close handshake); an upgrade the origin declines stays HTTP; a 101
# nobody asked for is a 502. Non-HTTP bytes on an intercepted port (TLS-like,
# binary, a line protocol, 1 MiB both ways) reach the original destination
# unchanged from the client's own address and port, half-close included; with
# [http] non_http = reject they are closed instead and never reach the origin.
# Under a name policy, h2c is refused (preface) or not offered (upgrade).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/http_lib.sh"
tb_init rt-htu
tb_up
tb_intercept_tproxy 3129 80 8082 8083 8084 8080
tb_origin_start
ht_origin_start
conf=$(rt_conf htu <<'CONF'
[global]
workers = 2
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip-port
[timeouts]
client_header = 5s
CONF
)
rt_start "$conf" 3129
O=198.18.2.2:8082
E=198.18.2.3:8083

# ---- WebSocket and other upgrades
ht_check "WebSocket: upgrade, frames echoed both ways, close handshake" ht_cl ws
ht_check "WebSocket with Connection: keep-alive, Upgrade" \
	ht_cl ws --ws-connection 'keep-alive, Upgrade'
ht_check "upgrade declined by the origin (200): the connection stays HTTP" \
	ht_cl exchange \
	--req 'GET /no-upgrade HTTP/1.1\r\nHost: w\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' \
	--req 'GET /after HTTP/1.1\r\nHost: w\r\n\r\n' --expect-header 'X-Req: 2' \
	--expect-body 'GET /after HTTP/1.1\r\nHost: w\r\n\r\n'
ht_error "101 without an upgrade request" 502 "$O" \
	'relaying request and response: bad-response: invalid response from upstream [502]' \
	--data 'GET /ws HTTP/1.1\r\nHost: w\r\n\r\n'

# ---- non-HTTP: tunnelled unchanged to the original destination
# raw_echo WHAT ARGS...: the echo comes back exactly, EOF goes through both
# ways, and the origin saw the bytes from the client's own address and port.
raw_echo()
{
	local what=$1 port
	shift
	if ! port=$(ht_cl raw --to "$E" "$@"); then
		ht_fail "$what"
	elif ! grep -Eq "^accept - conn=[0-9]+ port=8083 peer=198\.18\.1\.2:$port\$" "$HT_OLOG"; then
		ht_fail "$what: the origin did not see 198.18.1.2:$port"
	else
		echo "ok: $what"
	fi
}
# a complete TLS record that is not a ClientHello: counted as a malformed
# hello and tunnelled unchanged (non_http = tunnel); an incomplete hello is
# waited for (its name decides policy), see tls_sni.sh
raw_echo "TLS record that is not a ClientHello tunnelled" \
	--data '\x16\x03\x01\x00\x0a\x68not hello! not http\r\n\r\n'
raw_echo "binary with NUL tunnelled" --data '\x00\x01\x02\xff\r\n\r\nGET / HTTP/1.1\r\n\r\n'
raw_echo "line protocol tunnelled" --data 'HELLO\r\n' --data 'QUIT\r\n'
raw_echo "line protocol, half-closed right after sending" --data 'QUIT\r\n' --shut-early
raw_echo "line protocol whose first word arrives alone" \
	--data 'HEL' --pause 0.1 --data 'LO:world\r\n'
raw_echo "a word and a pause longer than first_bytes, then a line end" \
	--data 'HELLO' --pause 0.5 --data '\r\nQUIT\r\n'
# silence opens a sniffing tunnel; a word then waits first_bytes and goes
# through (the worker once spun for ever on that timer, never re-armed)
raw_echo "silence, then a word and a pause longer than first_bytes, then a line end" \
	--pause 0.5 --data 'EHLO' --pause 0.5 --data '\r\nQUIT\r\n'
# a token and a space start a request line: parsed or refused, never a tunnel
ht_error "HTTP/0.9-style request line" 400 "$E" \
	'reading request head: bad-request: invalid request (answered with its status) [400]' \
	--data 'GET /\r\n'
ht_error "a line protocol that reads like a request line" 400 "$E" \
	'reading request head: bad-request: invalid request (answered with its status) [400]' \
	--data 'HELLO world\r\n'
ht_origin_lacks 'HELLO world'
raw_echo "h2c prior-knowledge preface tunnelled" --data 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'
ht_check "1 MiB of non-HTTP bytes both ways at once" ht_cl bulk --to "$E" --size 1048576
rt_stop

# ---- non_http = reject
conf=$(rt_conf htu-reject <<'CONF'
[global]
workers = 1
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip-port
[http]
non_http = reject
CONF
)
rt_start "$conf" 3129
before=$(grep -c ' port=8083 ' "$HT_OLOG" || true)
# other bytes are refused at once; a TLS record that is not a ClientHello
# by the TLS reader (TLS itself is read whatever non_http says)
for data in 'HELLO\r\n' '\x16\x03\x01\x00\x04\x68\x00\x00\x00'; do
	case $data in
	HELLO*) state='waiting for the first bytes (HTTP, TLS or other)' ;;
	*) state='reading the TLS ClientHello' ;;
	esac
	if port=$(ht_cl raw --to "$E" --expect-empty --data "$data") &&
		ht_close_log "$port" "$E" "$state: non-http-rejected: not HTTP and non_http = reject, or not readable under a name policy"; then
		echo "ok: non_http = reject closes '$data', logged"
	else
		ht_fail "non_http = reject: '$data'"
	fi
done
after=$(grep -c ' port=8083 ' "$HT_OLOG" || true)
rt_assert_eq "origin events on :8083 while rejecting" "$after" "$before"
ht_check "non_http = reject: HTTP still served" \
	ht_cl exchange --req 'GET /r HTTP/1.1\r\nHost: r\r\n\r\n' --expect-body 'GET /r HTTP/1.1\r\nHost: r\r\n\r\n'
ht_check "non_http = reject: WebSocket upgrades still work" ht_cl ws
rt_stop

# ---- a name policy on ([acl] deny_domains): HTTP/2 in clear (h2c) carries
# requests for any :authority that the policy never reads, so the preface is
# refused (not tunnelled, whatever non_http says) and an h2c upgrade offer is
# left out of the forwarded head (the origin answers in HTTP/1.1); WebSocket
# upgrades are untouched. Before: the preface was tunnelled, and an h2c
# upgrade turned the connection into a tunnel.
conf=$(rt_conf htu-policy <<'CONF'
[global]
workers = 1
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip-port
[acl]
deny_domains = blocked.example
CONF
)
rt_start "$conf" 3129
before=$(grep -c '^data .* port=8083 ' "$HT_OLOG" || true)
PREFACE='PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00'
# at once, and after silence (a sniffing tunnel: its upstream connection is
# open, it gets nothing)
for pause in 0 0.5; do
	state='waiting for the first bytes (HTTP, TLS or other)'
	[ $pause = 0 ] || state='tunnelling bytes'
	if port=$(ht_cl raw --to "$E" --expect-empty --pause $pause --data "$PREFACE") &&
		ht_close_log "$port" "$E" "$state: non-http-rejected: not HTTP and non_http = reject, or not readable under a name policy"; then
		echo "ok: name policy: h2c preface after ${pause}s refused, logged"
	else
		ht_fail "name policy: h2c preface after ${pause}s"
	fi
done
after=$(grep -c '^data .* port=8083 ' "$HT_OLOG" || true)
rt_assert_eq "bytes at the origin on :8083 while refusing the preface" "$after" "$before"
# the preface cut one byte short, a pause past first_bytes (the held prefix
# is committed: it goes upstream), then its last byte: completed late, it is
# reset (late-http), its last byte and what follows never go (they were
# tunnelled: HTTP/2 frames for any :authority)
ht_cl raw --to "$E" --data 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r' --pause 0.5 \
	--data '\nH2LATEMARK' --timeout 2 >/dev/null 2>&1 || true
ht_origin_lacks 'H2LATEMARK'
ht_wait_log 'closed while tunnelling bytes: late-http'
# an HTTP/2 server may send its SETTINGS first (the tunnel opened on
# silence, bytes moved: not untouched); the client's preface is then reset,
# not tunnelled (the origin logged it and the frames after it on the old code)
cat >"$TB_WORKDIR/h2first.py" <<'PYEOF'
import socket, sys, threading
def serve(c):
    c.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    got = b""
    while True:
        try:
            d = c.recv(65536)
        except OSError:
            break
        if not d:
            break
        got += d
    print("got %r" % got, flush=True)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("198.18.2.4", 8084))
ls.listen(8)
while True:
    threading.Thread(target=serve, args=(ls.accept()[0],), daemon=True).start()
PYEOF
tb_spawn o h2first "$HT_PY" -u "$TB_WORKDIR/h2first.py"
tb_wait_listen o 8084 10 "$TB_LAST_PID" || tb_die "origin :8084"
ht_cl raw --to 198.18.2.4:8084 --pause 0.5 --data 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nH2FIRSTMARK' --timeout 2 >/dev/null 2>&1 || true
n=0
until grep -q '^got ' "$TB_WORKDIR/h2first.log" || [ $n -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
if grep -q 'H2FIRSTMARK' "$TB_WORKDIR/h2first.log"; then
	ht_fail "name policy: a preface after the origin's SETTINGS reached the origin"
else
	echo "ok: name policy: a preface after the origin's SETTINGS never reached it"
fi
H2C='Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n'
ht_check "name policy: an h2c upgrade offer is left out, the exchange stays HTTP/1.1" \
	ht_cl exchange --req "GET /h2c HTTP/1.1\r\nHost: w\r\n${H2C}\r\n" \
	--req 'GET /after HTTP/1.1\r\nHost: w\r\n\r\n' --expect-header 'X-Req: 2' \
	--expect-body 'GET /after HTTP/1.1\r\nHost: w\r\n\r\n'
ht_check "name policy: the origin got the h2c request without its Upgrade line" \
	ht_cl exchange --req "GET /h2c2 HTTP/1.1\r\nHost: w\r\nUpgrade: websocket, H2C\r\nConnection: Upgrade\r\n\r\n" \
	--expect-body 'GET /h2c2 HTTP/1.1\r\nHost: w\r\nConnection: Upgrade\r\n\r\n'
# origins read an Upgrade value their own way: Hypercorn strips Unicode
# spaces (NBSP, NEL) around it and upgrades on "h2c" without Connection:
# Upgrade, so these offers are h2c too (the origin got them on the old code)
for up in 'h2c\xa0' '\x85H2C'; do
	ht_check "name policy: the origin got 'Upgrade: $up' left out" \
		ht_cl exchange --req "GET /h2cpad HTTP/1.1\r\nHost: w\r\nUpgrade: $up\r\nConnection: Upgrade\r\n\r\n" \
		--expect-body 'GET /h2cpad HTTP/1.1\r\nHost: w\r\nConnection: Upgrade\r\n\r\n'
done
ht_error "name policy: a 101 to a request whose h2c offer was left out" 502 "$O" \
	'relaying request and response: bad-response: invalid response from upstream [502]' \
	--data "GET /ws HTTP/1.1\r\nHost: w\r\n${H2C}\r\n"
ht_check "name policy: WebSocket upgrades still work" ht_cl ws
rt_stop
ht_finish
