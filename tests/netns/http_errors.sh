#!/bin/bash
# Every error status Remora generates, provoked for real: the client must get
# exactly "HTTP/1.1 <status> <reason>", Connection: close, a short body of its
# Content-Length, then the end of the connection; Remora's close line for that
# connection must name the reason token and detail. Smuggling vectors (also
# Connection naming a framing field, CONNECT targets not in authority-form)
# never reach the origin. A failure after the origin started its response produces
# no second status line. Via is appended, and our own Via is a loop (508).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/http_lib.sh"
tb_init rt-her
tb_up
tb_intercept_tproxy 3129 80 8082 8083 8080
tb_origin_start
ht_origin_start
conf=$(rt_conf her <<'CONF'
[global]
workers = 1
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
client_header = 1s
connect = 1s
response = 1s
[http]
via = on
via_name = rtest
max_request_line = 1k
max_head = 4k
max_fields = 20
# the generated error pages and the CONNECT refusal are what this test checks
# (the defaults, reset and forwarding, are checked by refused.sh and edges.sh)
upstream_errors = status
connect = reject
CONF
)
rt_start "$conf" 3129

O=198.18.2.2:8082
HEAD='reading request head'
BR="$HEAD: bad-request: invalid request (answered with its status)"
RELAY='relaying request and response'
CONNECTING='connecting upstream (transparent)'
# e400 WHAT DETAIL REQUEST: a request rejected with 400 before it goes anywhere
e400()
{
	ht_error "$1" 400 "$O" "$BR [400] ($2)" --data "$3"
}

# ---- 400: request smuggling vectors and malformed heads
P='POST /smuggle/%s HTTP/1.1\r\nHost: s\r\n'
# shellcheck disable=SC2059 # P is the format on purpose
req() { printf "$P" "$1"; printf '%s' "$2"; }
e400 "CL + TE" 'both Content-Length and Transfer-Encoding' \
	"$(req cl-te 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')"
e400 "TE + CL" 'both Content-Length and Transfer-Encoding' \
	"$(req te-cl 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n')"
e400 "two differing Content-Length" 'differing Content-Length values' \
	"$(req cl-cl 'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!')"
e400 "Content-Length 1,2" 'differing Content-Length values' \
	"$(req cl-list 'Content-Length: 1,2\r\n\r\nab')"
for v in -1 +5 0x10 '1 2' ''; do
	e400 "Content-Length '$v'" 'malformed Content-Length' \
		"$(req cl-bad "Content-Length: $v\\r\\n\\r\\nabcde")"
done
e400 "Transfer-Encoding gzip" 'Transfer-Encoding whose final coding is not chunked' \
	"$(req te-gzip 'Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n')"
e400 "Transfer-Encoding chunked, gzip" 'Transfer-Encoding whose final coding is not chunked' \
	"$(req te-list 'Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n')"
e400 "Transfer-Encoding chunked + gzip fields" 'Transfer-Encoding whose final coding is not chunked' \
	"$(req te-two 'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n')"
e400 "Transfer-Encoding gzip, chunked" 'Transfer-Encoding whose final coding is not chunked' \
	"$(req te-gzip-chunked 'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n')"
e400 "Transfer-Encoding x + chunked fields" 'Transfer-Encoding whose final coding is not chunked' \
	"$(req te-x-chunked 'Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')"
e400 "Content-Length 5, 5" 'malformed Content-Length' \
	"$(req cl-same-list 'Content-Length: 5, 5\r\n\r\nhello')"
e400 "two equal Content-Length" 'malformed Content-Length' \
	"$(req cl-same 'Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello')"
e400 "Transfer_Encoding" 'invalid header field name' \
	"$(req te-underscore 'Transfer_Encoding: chunked\r\n\r\n0\r\n\r\n')"
e400 "absolute-form with another Host" "Host differs from the target's authority" \
	'GET http://a.example/smuggle/abs-host HTTP/1.1\r\nHost: b.example\r\n\r\n'
e400 "CONNECT with a body" 'CONNECT with a body' \
	'CONNECT smuggle.example:443 HTTP/1.1\r\nHost: smuggle.example:443\r\nContent-Length: 5\r\n\r\nhello'
e400 "Transfer-Encoding in HTTP/1.0" 'Transfer-Encoding in an HTTP/1.0 message' \
	'POST /smuggle/te10 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
# Connection naming a framing field or Host (an intermediary behind Remora
# that honours it would drop the field): any field, any place, any case
CF='Connection names a framing field or Host'
e400 "Connection: content-length before Content-Length" "$CF" \
	"$(req conn-cl 'Connection: keep-alive, Content-Length\r\nContent-Length: 5\r\n\r\nhello')"
e400 "a second Connection naming Content-Length after it" "$CF" \
	"$(req conn-cl2 'Content-Length: 5\r\nConnection: close\r\nconnection:\t content-length \r\n\r\nhello')"
e400 "Connection: TRANSFER-ENCODING" "$CF" \
	"$(req conn-te 'Transfer-Encoding: chunked\r\nConnection: TRANSFER-ENCODING\r\n\r\n0\r\n\r\n')"
e400 "Connection: host" "$CF" \
	'GET /smuggle/conn-host HTTP/1.1\r\nConnection: Host\r\nHost: s\r\n\r\n'
# Proxy-Connection is held to the same rule; a Connection element must be a
# token (a parser that trims NBSP or cuts ";x" would read content-length)
e400 "Proxy-Connection: content-length" "$CF" \
	"$(req pconn-cl 'Proxy-Connection: Content-Length\r\nContent-Length: 5\r\n\r\nhello')"
for v in 'content-length;x' 'content-length\xa0' '"content-length"' 'close content-length'; do
	e400 "Connection: $v" 'Connection element that is not a token' \
		"$(req conn-token "Connection: $v\\r\\nContent-Length: 5\\r\\n\\r\\nhello")"
done
# a leading zero: an origin using strtol(..., 0) reads 010 as octal 8
for v in 010 00 007; do
	e400 "Content-Length '$v'" 'malformed Content-Length' \
		"$(req cl-zero "Content-Length: $v\\r\\n\\r\\n01234567GET /smuggle/octal HTTP/1.1\\r\\nHost: s\\r\\n\\r\\n")"
done
# CONNECT takes authority-form (host:port) only, and only CONNECT takes it
BT='malformed request target'
e400 "CONNECT in origin-form" "$BT" \
	'CONNECT /smuggle/connect HTTP/1.1\r\nHost: smuggle.example:443\r\n\r\n'
e400 "CONNECT in absolute-form" "$BT" \
	'CONNECT http://smuggle.example/ HTTP/1.1\r\nHost: smuggle.example\r\n\r\n'
e400 "CONNECT *" "$BT" 'CONNECT * HTTP/1.1\r\nHost: smuggle.example:443\r\n\r\n'
e400 "CONNECT without a port" "$BT" \
	'CONNECT smuggle.example HTTP/1.1\r\nHost: smuggle.example\r\n\r\n'
for port in 0 65536 65979 99999999999999999999; do
	e400 "CONNECT to port $port" "$BT" \
		"CONNECT smuggle.example:$port HTTP/1.1\\r\\nHost: smuggle.example\\r\\n\\r\\n"
done
e400 "GET in authority-form" "$BT" \
	'GET smuggle.example:80 HTTP/1.1\r\nHost: smuggle.example\r\n\r\n'
e400 "obs-fold" 'obsolete line folding' "$(req fold 'X-A: b\r\n c\r\n\r\n')"
e400 "space before colon" 'whitespace between field name and colon' \
	"$(req ws-colon 'Content-Length : 5\r\n\r\nhello')"
e400 "bare CR in a field" 'bare CR' "$(req bare-cr 'X-A: b\rc\r\n\r\n')"
e400 "bare LF line end" 'line ends in LF without CR' "$(req bare-lf 'X-A: b\nX-B: c\r\n\r\n')"
for ch in '\x00' '\x01' '\x7f'; do
	e400 "control byte $ch in a field value" 'control character in field value' \
		"$(req ctl "X-A: b${ch}c\\r\\n\\r\\n")"
done
e400 "duplicate Host" 'more than one Host field' "$(req dup-host 'Host: t\r\n\r\n')"
e400 "HTTP/1.1 without Host" 'HTTP/1.1 request without Host' \
	'GET /smuggle/no-host HTTP/1.1\r\nX-A: 1\r\n\r\n'
e400 "chunk size zz" 'invalid chunk-size line' \
	"$(req chunk-zz 'Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n')"
e400 "chunk size with a sign" 'invalid chunk-size line' \
	"$(req chunk-sign 'Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n')"
e400 "bad chunk extension" 'invalid chunk extension' \
	"$(req chunk-ext 'Transfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n')"
e400 "chunk data longer than its size" 'chunk data not followed by CRLF' \
	"$(req chunk-end 'Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n')"
# the bad chunk arrives after Remora has forwarded the head upstream
ht_error "chunk size zz after the head went upstream" 400 "$O" \
	"$RELAY: bad-request: invalid request (answered with its status) [400] (invalid chunk-size line)" \
	--data 'POST /late/chunk HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n' \
	--await 'head /late/chunk ' --data 'zz\r\nhello\r\n0\r\n\r\n'
# on the second request of a keep-alive connection; non-HTTP after a request
ht_error "partial second head past client_header = 1s" 408 "$O" \
	"$HEAD: client-header-timeout: client sent no complete request head in time [408]" \
	--skip 1 --min-elapsed 0.9 --data 'GET /late/first HTTP/1.1\r\nHost: s\r\n\r\n' \
	--data 'GET /smuggle/408b HTTP/1.1\r\nHost: s\r\n'
ht_error "CL + TE on a kept-alive connection" 400 "$O" \
	"$BR [400] (both Content-Length and Transfer-Encoding)" --skip 1 \
	--data 'GET /late/first HTTP/1.1\r\nHost: s\r\n\r\n' \
	--data "$(req ka-cl-te 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')"
ht_error "not HTTP after a first request" 400 "$O" "$BR [400] (not an HTTP/1.x request line)" \
	--skip 1 --data 'GET /late/first HTTP/1.1\r\nHost: s\r\n\r\n' --data '\x16\x03\x01\x00\x10'

# ---- 408, 414, 431, 405, 505
ht_error "partial head past client_header = 1s" 408 "$O" \
	"$HEAD: client-header-timeout: client sent no complete request head in time [408]" \
	--min-elapsed 0.9 --data 'GET /smuggle/408 HTTP/1.1\r\nHost: s\r\n'
if port=$(ht_cl raw --expect-empty) &&
	ht_close_log "$port" "$O" "tunnelling bytes: client-header-timeout: client sent no complete request head in time"; then
	echo "ok: a client that sends nothing is closed after client_header, without a response"
else
	ht_fail "a client that sends nothing"
fi
long=$(printf '%*s' 1100 '' | tr ' ' a)
ht_error "request line over max_request_line = 1k" 414 "$O" "$BR [414] (request line too long)" \
	--data "GET /smuggle/$long HTTP/1.1\\r\\nHost: s\\r\\n\\r\\n"
ht_error "unfinished request line over 1k" 414 "$O" "$BR [414] (request line too long)" \
	--data "GET /smuggle/$long"
big=$(printf '%*s' 500 '' | tr ' ' b)
fields=$(for i in 1 2 3 4 5 6 7 8 9; do printf 'X-Big-%d: %s\\r\\n' "$i" "$big"; done)
ht_error "header section over max_head = 4k" 431 "$O" "$BR [431] (header section too large)" \
	--data "GET /smuggle/431 HTTP/1.1\\r\\nHost: s\\r\\n$fields\\r\\n"
fields=$(for i in $(seq 1 25); do printf 'X-F-%d: %d\\r\\n' "$i" "$i"; done)
ht_error "more than max_fields = 20" 431 "$O" "$BR [431] (too many header fields)" \
	--data "GET /smuggle/431f HTTP/1.1\\r\\nHost: s\\r\\n$fields\\r\\n"
ht_error "CONNECT" 405 "$O" "$HEAD: method-not-allowed: CONNECT on an intercept port (405) [405]" \
	--data 'CONNECT forged.example:443 HTTP/1.1\r\nHost: forged.example:443\r\n\r\n'
ht_error "HTTP/2.0 request line" 505 "$O" "$BR [505] (unsupported HTTP version)" \
	--data 'GET /smuggle/505 HTTP/2.0\r\nHost: s\r\n\r\n'
# HTTP/1.2 to 1.9: an origin that takes them for 1.0 would read the chunks
# as the next request
for minor in 2 9; do
	ht_error "HTTP/1.$minor request line" 505 "$O" "$BR [505] (unsupported HTTP version)" \
		--data "POST /smuggle/v1$minor HTTP/1.$minor\\r\\nHost: s\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
done
ht_origin_lacks '/smuggle/'
ht_origin_lacks 'smuggle.example'

# ---- 502, 504: upstream failures before the response started
ht_error "refused upstream" 502 198.18.2.2:8080 \
	"$CONNECTING: upstream-refused: upstream refused the connection [502] (111: Connection refused)" \
	--data 'GET / HTTP/1.1\r\nHost: s\r\n\r\n'
ht_error "origin resets mid-head" 502 "$O" \
	"$RELAY: upstream-reset: upstream connection reset [502] (104: Connection reset by peer)" \
	--data 'GET /reset-head HTTP/1.1\r\nHost: s\r\n\r\n'
ht_error "origin closes without answering" 502 "$O" \
	"$RELAY: upstream-eof: upstream closed before the response was complete [502]" \
	--data 'GET /close-now HTTP/1.1\r\nHost: s\r\n\r\n'
# (half a head, then FIN: either token describes it)
if port=$(ht_cl error --status 502 --data 'GET /close-head HTTP/1.1\r\nHost: s\r\n\r\n') &&
	ht_close_log "$port" "$O" "$RELAY: " &&
	grep -Eq "198\.18\.1\.2:$port .* (bad-response|upstream-eof): .* \[502\]\$" "$TB_WORKDIR/remora.log"; then
	echo "ok: origin closes mid-head -> 502, logged"
else
	ht_fail "origin closes mid-head -> 502"
fi
ht_error "invalid response head" 502 "$O" \
	"$RELAY: bad-response: invalid response from upstream [502] (malformed status code)" \
	--data 'GET /garbage HTTP/1.1\r\nHost: s\r\n\r\n'
# (a response with Content-Length and Transfer-Encoding is read by its
# chunked framing, as a browser does: edges.sh)
ht_error "response head with two differing Content-Length" 502 "$O" \
	"$RELAY: bad-response: invalid response from upstream [502] (differing Content-Length values)" \
	--data 'GET /rsp-cl-cl HTTP/1.1\r\nHost: s\r\n\r\n'
ht_error "origin never answers (response = 1s)" 504 "$O" \
	"$RELAY: response-timeout: the response did not start or move on in time [504]" \
	--min-elapsed 0.9 --data 'GET /stall HTTP/1.1\r\nHost: s\r\n\r\n'
ht_error "HEAD, origin never answers" 504 "$O" \
	"$RELAY: response-timeout: the response did not start or move on in time [504]" \
	--head --min-elapsed 0.9 --data 'HEAD /stall HTTP/1.1\r\nHost: s\r\n\r\n'
ht_error "connect timeout (connect = 1s)" 504 198.18.2.9:80 \
	"$CONNECTING: connect-timeout: upstream connect timed out [504]" \
	--min-elapsed 0.9 --data 'GET / HTTP/1.1\r\nHost: s\r\n\r\n'

# ---- a failure after the response started: no second status line
if port=$(ht_cl truncated --req 'GET /reset-body HTTP/1.1\r\nHost: s\r\n\r\n') &&
	ht_close_log "$port" "$O" \
		"$RELAY: upstream-reset: upstream connection reset [200] (104: Connection reset by peer)"; then
	echo "ok: origin reset mid-body: the client saw the connection end, no second status line"
else
	ht_fail "origin reset mid-body"
fi
# (head and bad chunk arrive together: forwarding the head, or a 502 while
# nothing went out yet, are both right; a silent close is not)
if port=$(ht_cl truncated --or-error 502 --req 'GET /rsp-bad-chunk HTTP/1.1\r\nHost: s\r\n\r\n') &&
	ht_close_log "$port" "$O" \
		"$RELAY: bad-response: invalid response from upstream [" &&
	grep -Eq "198\.18\.1\.2:$port .*\[(200|502)\] \(invalid chunk-size line\)\$" "$TB_WORKDIR/remora.log"; then
	echo "ok: bad chunk in a response body: 200 head then the end, or 502; logged"
else
	ht_fail "bad chunk in a response body"
fi

# ---- Via: appended to what goes upstream; our own entry is a loop
ht_check "Via appended after the client's own Via" \
	ht_cl exchange --req 'GET /via HTTP/1.1\r\nHost: s\r\nVia: 1.0 other\r\n\r\n' \
	--expect-body 'GET /via HTTP/1.1\r\nHost: s\r\nVia: 1.0 other\r\nVia: 1.1 rtest\r\n\r\n'
ht_check "Via 1.0 appended to an HTTP/1.0 request" \
	ht_cl exchange --req 'GET /via10 HTTP/1.0\r\n\r\n' \
	--expect-body 'GET /via10 HTTP/1.0\r\nVia: 1.0 rtest\r\n\r\n' --expect-eof
ht_error "own Via entry" 508 "$O" \
	"$HEAD: via-loop: request already carries our own Via entry (508) [508]" \
	--data 'GET /smuggle/508 HTTP/1.1\r\nHost: s\r\nVia: 1.1 rtest\r\n\r\n'
ht_error "own Via entry in a list" 508 "$O" \
	"$HEAD: via-loop: request already carries our own Via entry (508) [508]" \
	--data 'GET /smuggle/508 HTTP/1.1\r\nHost: s\r\nVia: 1.0 proxy-a, 1.1 RTEST (Remora)\r\n\r\n'
ht_origin_lacks '/smuggle/'

# still serving
ht_check "still serving after every error" \
	ht_cl exchange --req 'GET /end HTTP/1.1\r\nHost: s\r\n\r\n' \
	--expect-body 'GET /end HTTP/1.1\r\nHost: s\r\nVia: 1.1 rtest\r\n\r\n'
rt_stop
ht_finish
