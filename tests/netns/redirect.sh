#!/bin/bash
# REDIRECT mode (nft redirect): SO_ORIGINAL_DST finds each flow's original
# destination, so requests to three origin addresses each reach their own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-rd
tb_up
tb_intercept_redirect 3129 80
tb_origin_start

conf=$(rt_conf rd <<'CONF'
[global]
workers = 2
[listener nat4]
listen = 0.0.0.0:3129
mode = redirect
spoof = none
[listener nat6]
listen = [::]:3129
mode = redirect
spoof = none
CONF
)
rt_start "$conf" 3129
for dst in 198.18.2.2 198.18.2.3 198.18.2.4; do
	body=$(rt_curl "http://$dst/")
	echo "$body"
	echo "$body" | grep -Eq "^peer=198\.18\.2\.1 port=[0-9]+ host=$dst dst=$dst:80\$" ||
		tb_die "request for $dst went elsewhere: $body"
done
body=$(rt_curl 'http://[2001:2:0:2::2]/')
echo "$body" | grep -Eq '^peer=2001:2:0:2::1 port=[0-9]+ host=\[2001:2:0:2::2\] dst=2001:2:0:2::2:80$' ||
	tb_die "IPv6 redirect: $body"
echo "ok: each request reached its original destination"
rt_hammer -t 198.18.2.3:80 -n 500 -c 20 -e 'dst=198.18.2.3:80'
rt_stop
