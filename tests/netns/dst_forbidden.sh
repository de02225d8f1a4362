#!/bin/bash
# A subscriber cannot make Remora connect to the box itself. In mode =
# redirect, NAT rewrites a SYN for 127.0.0.1:80 (or for one of the router's
# own addresses) before the routing check, and SO_ORIGINAL_DST returns that
# address: Remora must refuse it (close reason dst-forbidden, counted in
# /metrics) instead of relaying a service bound only on the router.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-dstf
tb_up
tb_intercept_redirect 3130 80 443
tb_origin_start
# the router's private services: its loopback, and its origin-side address
mkdir -p "$TB_WORKDIR/private"
echo "router-private" >"$TB_WORKDIR/private/index.html"
tb_spawn r private_lo python3 -m http.server 80 --bind 127.0.0.1 --directory "$TB_WORKDIR/private"
tb_spawn r private_ro python3 -m http.server 80 --bind "$TB_RO4" --directory "$TB_WORKDIR/private"
n=0
until [ "$(tb_exec_r ss -Htln 'sport = :80' | wc -l)" -ge 2 ]; do
	n=$((n + 1)); [ $n -lt 200 ] || tb_die "private services did not start"; sleep 0.05
done
# the client puts 127.0.0.1 on the wire as the destination (a subscriber
# controls its own box): it connects to 198.18.9.9, rewritten to 127.0.0.1
# after its routing decision, and the replies back (stateless, both ways)
tb_exec_c nft -f - <<'NFT'
table ip rt_dstf {
	chain out {
		type filter hook postrouting priority 0; policy accept;
		ip daddr 198.18.9.9 ip daddr set 127.0.0.1
	}
	chain in {
		type filter hook prerouting priority -300; policy accept;
		ip saddr 127.0.0.1 ip saddr set 198.18.9.9
	}
}
NFT
conf=$(rt_conf dstf <<CONF
[global]
workers = 1
access_log = $TB_WORKDIR/access.json
access_log_format = json
[listener nat]
listen = 0.0.0.0:3130
mode = redirect
spoof = none
[admin]
listen = 127.0.0.1:9180
CONF
)
rt_start "$conf" 3130 9180
# ordinary traffic passes
body=$(rt_curl http://198.18.2.2/)
case $body in peer=*) ;; *) tb_die "origin not reached: '$body'" ;; esac
echo "ok: origin reached through the redirect listener"
for target in 127.0.0.1 "$TB_RO4"; do
	rc=0
	via=$target
	[ "$target" != 127.0.0.1 ] || via=198.18.9.9
	body=$(rt_curl "http://$via/" 2>/dev/null) || rc=$?
	case $body in
	*router-private*) tb_die "the router's private service on $target was served" ;;
	esac
	[ "$rc" -ne 0 ] || tb_die "a request to $target was answered: '$body'"
	rt_expect_log "-> ${target//./\\.}:80 \\[nat\\] closed while finding the original destination: dst-forbidden"
	echo "ok: $target refused"
done
m=$(tb_exec_r curl -s http://127.0.0.1:9180/metrics)
grep -q '^remora_closes_total{reason="dst-forbidden"} 2$' <<<"$m" ||
	tb_die "dst-forbidden count: $(grep dst-forbidden <<<"$m")"
echo "ok: counted in remora_closes_total{reason=\"dst-forbidden\"}"
# a TLS flow to the box: its hello is read, then refused; logged as refused
# (NONE_NONE/000 CONNECT sni:443), not as a spliced tunnel (TCP_TUNNEL/200)
tb_exec_c sh -c 'echo | timeout 5 openssl s_client -connect 198.18.9.9:443 -servername own.example' \
	>/dev/null 2>&1 || true
rt_expect_log '-> 127\.0\.0\.1:443 \[nat\] closed while finding the original destination: dst-forbidden'
n=0
until grep -q '"own.example"' "$TB_WORKDIR/access.json" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 50 ] || tb_die "no access-log line for the TLS flow"; sleep 0.1
done
grep '"own.example"' "$TB_WORKDIR/access.json" | python3 -c '
import json, sys
l = json.loads(sys.stdin.readline())
assert (l["code"], l["status"], l["method"]) == ("NONE_NONE", 0, "CONNECT"), l
print("ok: the refused TLS flow is logged NONE_NONE/000 CONNECT %s" % l["url"])'
# an address the router gets later is refused too (the list is re-read)
ip -n "$TB_R" addr add 198.18.2.9/32 dev "$TB_IF_RO"
n=0
until grep -q -- '-> 198\.18\.2\.9:80 \[nat\] closed .*dst-forbidden' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 50 ] || tb_die "an address added later is not refused"
	rt_curl http://198.18.2.9/ >/dev/null 2>&1 || true
	sleep 0.1
done
echo "ok: an address added to the router later is refused"
rt_stop
