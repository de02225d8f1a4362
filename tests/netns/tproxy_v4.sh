#!/bin/bash
# TPROXY, IPv4: the origin sees the client's own IP (client-ip) and also its
# port (client-ip-port); Host: arrives unchanged, even a forged one, and the
# request still goes to the flow's original destination.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-tp4
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start

conf=$(rt_conf tp4 <<'CONF'
[global]
workers = 2
[listener ip]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[listener ipport]
listen = 0.0.0.0:3130
mode = tproxy
spoof = client-ip-port
CONF
)
rt_start "$conf" 3129 3130

body=$(rt_curl http://198.18.2.2/)
echo "$body"
case $body in
"peer=198.18.1.2 port="*" host=198.18.2.2 dst=198.18.2.2:80") echo "ok: origin saw the client's IP" ;;
*) tb_die "unexpected echo: $body" ;;
esac
body=$(rt_curl -H 'Host: www.example.org' http://198.18.2.3/)
rt_assert_eq "forged Host: unchanged, original destination kept" "$body" \
	"$(echo "$body" | grep -E '^peer=198\.18\.1\.2 port=[0-9]+ host=www\.example\.org dst=198\.18\.2\.3:80$')"
rt_hammer -t 198.18.2.2:80 -n 500 -c 20 -E addr
rt_hammer -t 198.18.2.4:80 -n 500 -c 20 -k 50 -E addr

# client-ip-port: switch the tproxy target to the second listener
tb_intercept_clear
tb_intercept_tproxy 3130 80
rt_hammer -t 198.18.2.2:80 -n 300 -c 10 -E port
rt_stop
