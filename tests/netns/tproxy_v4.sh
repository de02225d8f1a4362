#!/bin/bash
# TPROXY, IPv4: the origin sees the client's own IP (client-ip) and also its
# port (client-ip-port); Host: arrives unchanged, even a forged one, and the
# request still goes to the flow's original destination.  A client-ip-port
# connect whose port is still held by an older flow (TIME_WAIT) falls back to
# client-ip by design; every response that shows another port must be matched
# by one such counted fallback (remora_spoof_bind_collisions_total), so a
# response delivered to the wrong client connection cannot pass as one.
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
[admin]
listen = 127.0.0.1:9180
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
collisions()
{
	tb_exec_r curl -sS --max-time 5 http://127.0.0.1:9180/metrics |
		awk '$1 == "remora_spoof_bind_collisions_total" { print $2 }'
}
before=$(collisions)
out=$(rt_hammer -t 198.18.2.2:80 -n 300 -c 10 -E port) || { echo "$out"; tb_die "hammer -E port failed"; }
echo "$out"
after=$(collisions)
[[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]] || tb_die "no collision counter in /metrics"
mismatch=$(sed -n 's/.* port_mismatch=\([0-9]*\).*/\1/p' <<<"$out")
[ -n "$mismatch" ] || tb_die "hammer printed no port_mismatch"
[ "$mismatch" -le $((after - before)) ] ||
	tb_die "$mismatch responses showed another port but only $((after - before)) fallbacks were counted"
[ "$mismatch" -le 30 ] || tb_die "client-ip-port kept the client's port on only $((300 - mismatch)) of 300"
echo "ok: client-ip-port: $((300 - mismatch)) of 300 kept the client's port; $mismatch mismatches, $((after - before)) counted fallbacks"
rt_stop
