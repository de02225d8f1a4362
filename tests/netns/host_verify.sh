#!/bin/bash
# Host verification: a real DNS server (dnsmasq) in the origin namespace;
# host_verify = strict answers 409 when Host does not resolve to the flow's
# original destination (or does not resolve at all), forwards when it does
# (names, also those answered from the hosts file, and address literals
# compared directly); answers are cached with
# their TTL; host_verify = log only logs and counts, and forwards.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
command -v dnsmasq >/dev/null || { echo "SKIP: dnsmasq not installed"; exit 77; }
tb_init rt-hv
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
tb_spawn o dnsmasq dnsmasq --no-daemon --port=53 --listen-address=198.18.2.2 \
	--bind-interfaces --no-resolv --no-hosts --local-ttl=30 --log-queries \
	--address=/good.test/198.18.2.2 --address=/other.test/198.18.2.3 \
	--address=/nx.test/ --pid-file="$TB_WORKDIR/dnsmasq.pid"
n=0
until tb_exec_o ss -Hlun 'sport = :53' | grep -q 198.18.2.2; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "dnsmasq did not start"; sleep 0.05
done
conf="$TB_WORKDIR/hv.conf"
cat >"$conf" <<'CONF'
[global]
workers = 1
[listener hv]
listen = 0.0.0.0:3129
[http]
host_verify = strict
dns_servers = 198.18.2.2
[admin]
listen = 127.0.0.1:9180
CONF
rt_start "$conf" 3129 9180
status() { rt_curl -o /dev/null -w '%{http_code}' -H "Host: $1" "${@:2}" http://198.18.2.2/; }
rt_assert_eq "Host resolving to the destination" "$(status good.test)" 200
rt_assert_eq "Host resolving to the destination, with a port" "$(status good.test:80)" 200
rt_assert_eq "Host resolving elsewhere" "$(status other.test)" 409
rt_assert_eq "Host that does not resolve" "$(status nx.test)" 409
rt_assert_eq "Host as the destination's address" "$(status 198.18.2.2)" 200
rt_assert_eq "Host as another address" "$(status 198.18.2.4)" 409
# a Host that cannot be looked up is not let through unchecked (it was: an
# empty name before a port, a name of 256 bytes or more)
rt_assert_eq "Host with only a port" "$(status :80)" 409
long=$(printf 'a%.0s' {1..300}).test
rt_assert_eq "Host too long to look up" "$(status "$long")" 409
# c-ares answers from the hosts file inside the lookup call: that answer must
# count (it stalled until the 5 s connect timeout, then 504)
rt_assert_eq "Host answered at once from the hosts file (localhost)" \
	"$(status localhost --max-time 2)" 409
rt_expect_log 'closed while verifying a name against the original destination: host-mismatch'
# cached: 20 more requests for good.test cause no new query
q1=$(grep -c 'query\[A\] good.test' "$TB_WORKDIR/dnsmasq.log" || true)
rt_hammer -t 198.18.2.2:80 -H good.test -n 20 -c 2 -E addr
q2=$(grep -c 'query\[A\] good.test' "$TB_WORKDIR/dnsmasq.log" || true)
rt_assert_eq "answers cached (queries for good.test)" "$q2" "$q1"
m=$(tb_exec_r curl -s http://127.0.0.1:9180/metrics)
grep -q '^remora_host_verify_total{result="mismatch"} 3$' <<<"$m" || tb_die "mismatch count: $(echo "$m" | grep host_verify)"
grep -q '^remora_host_verify_total{result="failed"} 3$' <<<"$m" || tb_die "failed count: $(grep host_verify <<<"$m")"
# log mode: forwarded, logged
sed -i 's/host_verify = strict/host_verify = log/' "$conf"
kill -HUP "$RT_PID"
n=0
until grep -q 'info: reloaded ' "$TB_WORKDIR/remora.log"; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "reload not logged"; sleep 0.05
done
rt_assert_eq "log mode: mismatch forwarded" "$(status other.test)" 200
rt_expect_log 'host_verify: Host other.test: lookup mismatch for 198.18.2.2:80 \(logged, forwarded\)'
rt_stop
