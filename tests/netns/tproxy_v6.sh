#!/bin/bash
# TPROXY, IPv6: as tproxy_v4.sh over IPv6 (IPV6_TRANSPARENT listener and
# upstream; the origin sees the client's IPv6 address, and with
# client-ip-port its port too).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-tp6
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start

conf=$(rt_conf tp6 <<'CONF'
[global]
workers = 1
[listener ip6]
listen = [::]:3129
mode = tproxy
spoof = client-ip
[listener ipport6]
listen = [::]:3130
mode = tproxy
spoof = client-ip-port
CONF
)
rt_start "$conf" 3129 3130
body=$(rt_curl -H 'Host: v6.example' 'http://[2001:2:0:2::2]/')
echo "$body"
echo "$body" | grep -Eq '^peer=2001:2:0:1::2 port=[0-9]+ host=v6\.example dst=2001:2:0:2::2:80$' ||
	tb_die "unexpected echo: $body"
echo "ok: origin saw the client's IPv6 address, Host unchanged"
rt_hammer -6 -t '[2001:2:0:2::2]:80' -n 500 -c 20 -E addr
tb_intercept_clear
tb_intercept_tproxy 3130 80
rt_hammer -6 -t '[2001:2:0:2::2]:80' -n 300 -c 10 -E port
rt_stop
