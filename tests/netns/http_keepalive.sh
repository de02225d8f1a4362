#!/bin/bash
# HTTP keep-alive and pipelining through Remora: 100 requests on one client
# connection reuse one upstream connection (nginx echo and the scripted
# origin, which also counts the requests per connection); an origin-side close
# of the idle upstream ends the client's connection too (as directly); 10 pipelined requests in one write and a
# pipeline of every framing (CL, chunked, HEAD, 304, 103, trailers) are
# answered in order; HEAD and 304 with Content-Length leave the framing intact.
# Then with the smallest relay buffers (buffer_size = 1k and 4k, splice off), a
# response whose first read fills the buffer must flow (a held head must never
# wait on a full buffer).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/http_lib.sh"
tb_init rt-hka
tb_up
tb_intercept_tproxy 3129 80 8082 8083 8080
tb_origin_start
ht_origin_start
conf=$(rt_conf hka <<'CONF'
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

ht_check "keep-alive: 100 requests to nginx, one upstream connection with the client's port" \
	ht_cl keepalive --to 198.18.2.2:80 --mode nginx --count 100 --same-port
ht_check "keep-alive: 100 requests to the scripted origin, one upstream connection" \
	ht_cl keepalive --to 198.18.2.2:8082 --mode echo --count 100
ht_check "10 pipelined requests in one write" ht_cl pipeline --count 10
ht_check "pipeline of mixed framing" ht_cl mixed
ht_check "HEAD and 304 with Content-Length: framing intact" ht_cl head304
ht_check "interim 103 responses" ht_cl interim
# a second client connection gets its own upstream connection
a=$(ht_cl exchange --req 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' --expect-header 'X-Req: 1')
b=$(ht_cl exchange --req 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n' --expect-header 'X-Req: 1')
[ "$a" != "$b" ] || tb_die "two client connections, one port"
grep -Eq "^request /a conn=[0-9]+ port=8082 peer=198\.18\.1\.2:$a " "$HT_OLOG" ||
	tb_die "origin did not see /a from the client's own port $a"
echo "ok: separate client connections, separate upstream connections (client-ip-port)"
if grep -E 'conn [0-9]+\.[0-9]+ .*closed' "$TB_WORKDIR/remora.log"; then
	ht_fail "a connection was closed with a logged (non-debug) reason"
fi
rt_stop

for bs in 1k 4k; do
	conf=$(rt_conf "hka-$bs" <<CONF
[global]
workers = 1
buffer_size = $bs
splice = off
[http]
max_head = $bs
max_request_line = 512
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
CONF
)
	rt_start "$conf" 3129
	rt_hammer -t 198.18.2.2:80 -p /64k -n 200 -c 10 -k 20 -e bbbbbbbb -T 30 -R 5 ||
		tb_die "buffer_size = $bs: 64 KiB responses did not flow"
	rt_hammer -t 198.18.2.2:80 -p /1k -n 200 -c 10 -k 20 -e aaaaaaaa -T 30 -R 5 ||
		tb_die "buffer_size = $bs: 1 KiB responses did not flow"
	rt_hammer -t 198.18.2.2:80 -p /chunked -n 100 -c 10 -k 10 -e chunked -T 30 -R 5 ||
		tb_die "buffer_size = $bs: chunked responses did not flow"
	echo "ok: buffer_size = $bs: 64 KiB, 1 KiB and chunked responses flow"
	rt_stop
done
ht_finish
