#!/bin/bash
# 1,000 concurrent connections through Remora all complete, each with the
# response that belongs to it (the origin echoes each connection's own
# address and port, checked per connection), then 1,000 concurrent keep-alive
# connections with 5 requests each.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-cc
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
conf=$(rt_conf cc <<'CONF'
[global]
workers = 2
[listener cc]
listen = 0.0.0.0:3129
spoof = client-ip-port
CONF
)
rt_start "$conf" 3129
rt_hammer -t 198.18.2.2:80 -n 1000 -c 1000 -E port -T 60
rt_hammer -t 198.18.2.3:80 -n 5000 -c 1000 -k 5 -E port -T 60
rt_hammer -t 198.18.2.4:80 -p /64k -n 1000 -c 1000 -k 1 -e bbbbbbbb -T 60
rt_stop
