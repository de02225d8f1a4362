#!/bin/bash
# HTTP message framing and request routing through Remora: chunked upload
# (extensions, trailers, 7-byte writes) and Content-Length upload byte for
# byte; chunked download with trailers; Expect: 100-continue (100 reaches the
# client before it sends the body) and an immediate 417; close-delimited
# responses; HTTP/1.0 without Host is forwarded as is; absolute-form targets
# go to the original destination in origin-form with Host from the target; a
# forged Host still reaches the original destination; with lenient_bare_lf a
# head with bare LF reaches the origin with every line ending in CRLF (a CRLF
# head byte for byte as sent); a CONNECT in origin-form is refused, never
# forwarded (connect = forward).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/http_lib.sh"
tb_init rt-hfr
tb_up
tb_intercept_tproxy 3129 80 8082 8083 8080
tb_origin_start
ht_origin_start
conf=$(rt_conf hfr <<'CONF'
[global]
workers = 1
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[http]
# the origin-form rewrite (RFC 9112 3.2.2) is what the absolute-form cases check;
# the default, passing the target as sent, is checked by edges.sh
absolute_form = rewrite
# bare LF heads are accepted and must reach the origin normalised
lenient_bare_lf = on
CONF
)
rt_start "$conf" 3129
ex() { ht_cl exchange "$@"; }

ht_check "chunked upload (extensions, trailers) and a 100000-byte Content-Length upload" \
	ht_cl upload
ht_check "chunked download with trailers" ht_cl download
ht_check "Expect: 100-continue, and 417 without 100" ht_cl expect

ht_check "close-delimited response relayed to the end, then closed" \
	ex --req 'GET /close-delimited HTTP/1.1\r\nHost: f\r\n\r\n' \
	--expect-body 'until the connection closes\n' --expect-eof
ht_check "Connection: close from the client: answered, then closed" \
	ex --req 'GET /cc HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n' \
	--expect-body 'GET /cc HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n' --expect-eof

# HTTP/1.0 without Host: forwarded unchanged (the origin sees no Host)
ht_check "HTTP/1.0 without Host forwarded as is (scripted origin)" \
	ex --req 'GET /ten HTTP/1.0\r\n\r\n' --expect-body 'GET /ten HTTP/1.0\r\n\r\n' --expect-eof
ht_check "HTTP/1.0 without Host forwarded as is (nginx sees no Host)" \
	ex --to 198.18.2.2:80 --req 'GET /ten HTTP/1.0\r\n\r\n' --expect-eof \
	--expect-body-re 'peer=198\.18\.1\.2 port=[0-9]+ host= dst=198\.18\.2\.2:80\n'
ht_check "HTTP/1.0 keep-alive: two requests on one connection" \
	ex --req 'GET /ten-ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' \
	--req 'GET /ten-ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' --expect-header 'X-Req: 2' \
	--expect-body 'GET /ten-ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'

# absolute-form: original destination, origin-form target, Host from the target
ht_check "absolute-form to nginx: original destination, Host from the target" \
	ex --to 198.18.2.2:80 \
	--req 'GET http://forged.example:81/p?q HTTP/1.1\r\nHost: ignored.example\r\n\r\n' \
	--expect-body-re 'peer=198\.18\.1\.2 port=[0-9]+ host=forged\.example:81 dst=198\.18\.2\.2:80\n'
ht_check "absolute-form: origin-form target, Host replaced, other fields kept in order" \
	ex --req 'GET http://forged.example:81/p?q HTTP/1.1\r\nX-A: 1\r\nHost: ignored.example\r\nX-B: 2\r\n\r\n' \
	--expect-header 'X-Dst: 198.18.2.2:8082' \
	--expect-body 'GET /p?q HTTP/1.1\r\nHost: forged.example:81\r\nX-A: 1\r\nX-B: 2\r\n\r\n'
ht_check "absolute-form, HTTP/1.0 without Host, with a body: Host added" \
	ex --req 'POST http://forged.example/up HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc' \
	--expect-body 'POST /up HTTP/1.0\r\nHost: forged.example\r\nContent-Length: 3\r\n\r\nabc'
ht_check "absolute-form without a path becomes GET /" \
	ex --req 'GET http://forged.example HTTP/1.1\r\nHost: forged.example\r\n\r\n' \
	--expect-body 'GET / HTTP/1.1\r\nHost: forged.example\r\n\r\n'
# RFC 9112 3.2.1: an empty path is sent as "/" in origin-form, also before a query
ht_check "absolute-form with an empty path and a query becomes GET /?x=1" \
	ex --req 'GET http://forged.example?x=1 HTTP/1.1\r\nHost: forged.example\r\n\r\n' \
	--expect-body 'GET /?x=1 HTTP/1.1\r\nHost: forged.example\r\n\r\n'

# forged Host: still the original destination, Host unchanged
ht_check "forged Host naming another origin: original destination (scripted origin)" \
	ex --req 'GET /forged HTTP/1.1\r\nHost: 198.18.2.4:8082\r\n\r\n' \
	--expect-header 'X-Dst: 198.18.2.2:8082' \
	--expect-body 'GET /forged HTTP/1.1\r\nHost: 198.18.2.4:8082\r\n\r\n'
ht_check "forged Host naming another origin: original destination (nginx)" \
	ex --to 198.18.2.3:80 --req 'GET / HTTP/1.1\r\nHost: 198.18.2.2\r\n\r\n' \
	--expect-body-re 'peer=198\.18\.1\.2 port=[0-9]+ host=198\.18\.2\.2 dst=198\.18\.2\.3:80\n'

# [http] lenient_bare_lf = on: a head with bare LF goes out with CRLF line
# ends (an origin that ends lines at CRLF only reads the same head); a head in
# CRLF goes out as it came
ht_check "bare LF head reaches the origin with CRLF line ends" \
	ex --req 'GET / HTTP/1.1\nHost: x\n\n' --expect-body 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
ht_check "bare LF POST with a body, second on a kept-alive connection: normalised head, body as sent" \
	ex --req 'GET /lf-first HTTP/1.1\r\nHost: x\r\n\r\n' \
	--req 'POST /lf-post HTTP/1.1\r\nHost: x \nContent-Length: 5\n\r\nhello' \
	--expect-header 'X-Req: 2' \
	--expect-body 'POST /lf-post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
ht_check "bare LF before the request line left out" \
	ex --req '\nGET /lf-lead HTTP/1.1\r\nHost: x\r\n\r\n' \
	--expect-body 'GET /lf-lead HTTP/1.1\r\nHost: x\r\n\r\n'
ht_check "bare LF absolute-form: normalised, then rewritten to origin-form" \
	ex --req 'GET http://forged.example/lf-abs HTTP/1.1\nX-A: 1\nHost: forged.example\n\n' \
	--expect-body 'GET /lf-abs HTTP/1.1\r\nHost: forged.example\r\nX-A: 1\r\n\r\n'
ht_check "CRLF head with trailing whitespace: forwarded byte for byte" \
	ex --req 'GET /crlf-kept HTTP/1.1\r\nHost: x \t\r\nX-A:  1 \r\n\r\n' \
	--expect-body 'GET /crlf-kept HTTP/1.1\r\nHost: x \t\r\nX-A:  1 \r\n\r\n'
ht_check "Connection and Proxy-Connection tokens: forwarded byte for byte" \
	ex --req 'GET /conn-tokens HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, TE\r\nProxy-Connection: Keep-Alive\r\nTE: trailers\r\n\r\n' \
	--expect-body 'GET /conn-tokens HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, TE\r\nProxy-Connection: Keep-Alive\r\nTE: trailers\r\n\r\n'

# CONNECT takes authority-form only: in origin-form it is refused, not
# forwarded to the origin (which would answer 200 and open a tunnel)
O=198.18.2.2:8082
ht_error "CONNECT in origin-form (connect = forward)" 400 "$O" \
	"reading request head: bad-request: invalid request (answered with its status) [400] (malformed request target)" \
	--data 'CONNECT /framing-connect HTTP/1.1\r\nHost: f:443\r\n\r\n'
# ... and so is a port that is not a TCP port (65979 is 443 modulo 2^16)
ht_error "CONNECT to port 65979 (connect = forward)" 400 "$O" \
	"reading request head: bad-request: invalid request (answered with its status) [400] (malformed request target)" \
	--data 'CONNECT framing-connect.example:65979 HTTP/1.1\r\nHost: f:443\r\n\r\n'
ht_origin_lacks '/framing-connect'
ht_origin_lacks 'framing-connect.example'
rt_stop
ht_finish
