#!/bin/bash
# 20,000 requests with Connection: close through client-ip spoofing: every
# upstream socket is bound to the client's IP with IP_BIND_ADDRESS_NO_PORT, so
# ports are chosen per 4-tuple and churn completes with no socket errors.
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
rt_stop
rt_expect_log 'close reasons: done=20000$'
