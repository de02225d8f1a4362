#!/bin/bash
# 20,000 requests with Connection: close through client-ip spoofing: every
# upstream socket is bound to the client's IP with IP_BIND_ADDRESS_NO_PORT, so
# ports are chosen per 4-tuple and churn completes with no socket errors.
# Nothing may leak past the proxy either way: the router's forward chain drops
# every routed port-80 packet, and its counters must stay at 0 (a late origin
# FIN for an upstream socket Remora already reset would be routed on towards
# the subscriber: that is what they catch).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-ch
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
conf=$(rt_conf ch <<'CONF'
[global]
workers = 2
log_level = info
[listener ch]
listen = 0.0.0.0:3129
spoof = client-ip
CONF
)
rt_start "$conf" 3129
rt_hammer -t 198.18.2.2:80 -p /1k -n 20000 -c 50 -e aaaaaaaa -T 180
sleep 1 # late packets of the last connections
leaked=$(tb_exec_r nft list ruleset | awk '
	/chain forward/ { fwd = 1 } fwd && /^[[:space:]]*}/ { fwd = 0 }
	fwd && /counter packets/ && /drop/ {
		for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) }
	END { print n + 0 }')
[ "$leaked" -eq 0 ] || { tb_exec_r nft list ruleset >&2; tb_die "$leaked port-80 packets were routed past the proxy (dropped)"; }
echo "ok: no port-80 packet was routed past the proxy"
rt_stop
rt_expect_log 'close reasons: done=20000$'
