#!/bin/bash
# The production set-up of docs/deployment.md, taken verbatim from the
# document (the blocks marked <!-- test:NAME -->): the sysctls, the nftables
# rule set (TPROXY v4/v6, notrack, the intercept_ports set), the policy
# routing and the configuration. Checks that
#   - requests reach the origin through Remora from the client's address,
#     IPv4 and IPv6, and both legs of the intercepted flows are untracked;
#   - emptying intercept_ports (the bypass) routes new flows to the origins
#     while a flow already with Remora finishes through it;
#   - the remora-bypass script of the guide bypasses a stalled Remora
#     (SIGSTOP) and intercepts again once it is healthy (SIGCONT);
#   - with Remora stopped, the guide's rules let port 80 through (fail-open).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
DOC="$(dirname "$0")/../../docs/deployment.md"
[ -f "$DOC" ] || tb_die "$DOC missing"

# doc_block NAME: the fenced block after "<!-- test:NAME -->" in the guide,
# with its interface names replaced by the testbed's.
doc_block()
{
	awk -v tag="<!-- test:$1 -->" '
		$0 == tag { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$DOC" |
		sed -e "s/\\bsubscribers\\b/$TB_IF_RC/g" -e "s/\\bupstream\\b/$TB_IF_RO/g"
}

tb_init rt-bp
tb_up
tb_origin_start

# Sysctls: only per-network-namespace keys may be in the tested block (they
# are applied in the router namespace; a global key would change the host).
doc_block sysctl >"$TB_WORKDIR/sysctl.conf"
if grep -vE '^\s*(#|$)' "$TB_WORKDIR/sysctl.conf" | grep -vqE '^(net\.ipv4\.|net\.ipv6\.|net\.core\.somaxconn )'; then
	tb_die "the sysctl block has keys that are not per network namespace"
fi
tb_exec_r sysctl -q -p "$TB_WORKDIR/sysctl.conf"
rt_assert_eq "rp_filter from the guide" "$(tb_exec_r sysctl -n net.ipv4.conf.all.rp_filter)" 2

doc_block remora.nft >"$TB_WORKDIR/remora.nft"
tb_exec_r nft -f "$TB_WORKDIR/remora.nft"
tb_exec_r nft -f "$TB_WORKDIR/remora.nft" # loading it again must work
tb_exec_r sh -e <<<"$(doc_block policy-routing)"
# The guide's rule set is what remora --print-rules makes of the guide's
# configuration (plus [router] interfaces): loaded, both list the same.
doc_rules=$(tb_exec_r nft list table inet remora)
{ doc_block remora.conf; printf '[router]\nsubscribers = %s\nupstream = %s\n' "$TB_IF_RC" "$TB_IF_RO"; } >"$TB_WORKDIR/gen.conf"
"$REMORA" --print-rules -c "$TB_WORKDIR/gen.conf" >"$TB_WORKDIR/gen-rules.sh"
tb_exec_r sh -e "$TB_WORKDIR/gen-rules.sh"
gen_rules=$(tb_exec_r nft list table inet remora)
if [ "$doc_rules" != "$gen_rules" ]; then
	diff <(echo "$doc_rules") <(echo "$gen_rules") >&2 || true
	tb_die "remora --print-rules differs from the guide's remora.nft"
fi
echo "ok: remora --print-rules makes the guide's rule set (now loaded)"
# Counters (not part of the guide): were the intercepted legs tracked?
tb_exec_r nft -f - <<'EOF'
table inet bpcheck {
	counter client_untracked {}
	counter client_tracked {}
	counter upstream_untracked {}
	counter upstream_tracked {}
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 80 ct state untracked counter name client_untracked
		tcp dport 80 ct state != untracked counter name client_tracked
		tcp sport 80 ct state untracked counter name upstream_untracked
		tcp sport 80 ct state != untracked counter name upstream_tracked
	}
}
EOF
pkts() { tb_exec_r nft list counter inet bpcheck "$1" | awk '/packets/ { print $2 }'; }

doc_block remora.conf | sed -e "s|^access_log = .*|access_log = $TB_WORKDIR/access.log|" >"$TB_WORKDIR/remora.conf"
grep -q "^access_log = $TB_WORKDIR/access.log" "$TB_WORKDIR/remora.conf" || tb_die "no access_log line in the guide's configuration"
rt_start "$TB_WORKDIR/remora.conf" 3129

# wait_log ERE: the access log gets a matching line (the writer drains every 50 ms).
wait_log()
{
	local n=0
	until grep -qE -- "$1" "$TB_WORKDIR/access.log" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || tb_die "access log lacks /$1/"
		sleep 0.05
	done
}
body=$(rt_curl http://198.18.2.2/)
case $body in
"peer=198.18.1.2 port="*" dst=198.18.2.2:80") echo "ok: through Remora: $body" ;;
*) tb_die "unexpected echo: $body" ;;
esac
body=$(rt_curl -g 'http://[2001:2:0:2::2]/')
case $body in
"peer=2001:2:0:1::2 port="*) echo "ok: IPv6 through Remora: $body" ;;
*) tb_die "unexpected IPv6 echo: $body" ;;
esac
rt_hammer -t 198.18.2.3:80 -n 500 -c 10 -E addr
wait_log ' 198\.18\.1\.2 TCP_MISS/200 [0-9]+ GET http://198\.18\.2\.2/ - ORIGINAL_DST/198\.18\.2\.2 '
wait_log ' 2001:2:0:1::2 TCP_MISS/200 [0-9]+ GET http://\[2001:2:0:2::2\]/ - ORIGINAL_DST/2001:2:0:2::2 '
cu=$(pkts client_untracked) ct=$(pkts client_tracked)
uu=$(pkts upstream_untracked) ut=$(pkts upstream_tracked)
echo "input hook: client leg untracked=$cu tracked=$ct; upstream leg untracked=$uu tracked=$ut"
[ "$cu" -gt 0 ] && [ "$uu" -gt 0 ] || tb_die "intercepted packets were not untracked"
[ "$ct" -eq 0 ] && [ "$ut" -eq 0 ] || tb_die "intercepted packets were tracked"
echo "ok: both legs of the intercepted flows bypass conntrack"

# The bypass by hand: a flow already with Remora stays with it.
tb_spawn c slow curl -sS --max-time 10 -o "$TB_WORKDIR/slow.out" http://198.18.2.4/slow
slow=$TB_LAST_PID
sleep 0.5
tb_exec_r nft delete element inet remora intercept_ports '{ 80 }'
size=$(tb_exec_c curl -sS --max-time 5 -o /dev/null -w '%{size_download}' http://198.18.2.2/64k)
rt_assert_eq "bypassed request (routed to the origin)" "$size" 65536
wait "$slow" || tb_die "the flow in progress with Remora broke during the bypass"
rt_forget "$slow"
rt_assert_eq "flow in progress finished" "$(stat -c %s "$TB_WORKDIR/slow.out")" 65536
wait_log ' TCP_MISS/200 [0-9]+ GET http://198\.18\.2\.4/slow '
grep -q 'GET http://198.18.2.2/64k ' "$TB_WORKDIR/access.log" && tb_die "the bypassed request went through Remora"
echo "ok: bypass: new flows routed to the origin, the flow in progress finished through Remora"
tb_exec_r nft add element inet remora intercept_ports '{ 80 }'

# The guide's remora-bypass script, with short intervals.
doc_block remora-bypass >"$TB_WORKDIR/remora-bypass"
chmod 755 "$TB_WORKDIR/remora-bypass"
tb_spawn r bypass env INTERVAL=0.2 FAIL=2 OK=2 "$TB_WORKDIR/remora-bypass"
bypass=$TB_LAST_PID
# wait_set present|absent
wait_set()
{
	local n=0 rc
	while :; do
		rc=0
		tb_exec_r nft get element inet remora intercept_ports '{ 80 }' >/dev/null 2>&1 || rc=$?
		{ [ "$1" = present ] && [ $rc -eq 0 ]; } || { [ "$1" = absent ] && [ $rc -ne 0 ]; } && return 0
		n=$((n + 1))
		[ $n -lt 200 ] || tb_die "intercept_ports: port 80 not $1 after 10 s"
		sleep 0.05
	done
}
sleep 1
wait_set present
kill -STOP "$RT_PID"
wait_set absent
size=$(tb_exec_c curl -sS --max-time 5 -o /dev/null -w '%{size_download}' http://198.18.2.3/64k)
rt_assert_eq "Remora stalled: request routed around it" "$size" 65536
body=$(rt_curl -g 'http://[2001:2:0:2::2]/')
case $body in
"peer=2001:2:0:1::2 port="*) echo "ok: IPv6 routed around the stalled Remora: $body" ;;
*) tb_die "unexpected IPv6 echo during the bypass: $body" ;;
esac
kill -CONT "$RT_PID"
wait_set present
rt_curl -o /dev/null http://198.18.2.3/1k
wait_log ' TCP_MISS/200 [0-9]+ GET http://198\.18\.2\.3/1k '
grep -q 'GET http://198.18.2.3/64k ' "$TB_WORKDIR/access.log" && tb_die "the request during the stall went through Remora"
echo "ok: remora-bypass: stalled -> bypassed, healthy -> intercepted again"
tb_kill "$bypass"
rt_stop

# The guide's rules with Remora stopped: port 80 falls through to the origins.
body=$(rt_curl http://198.18.2.2/)
case $body in
"peer=198.18.1.2 port="*" dst=198.18.2.2:80") echo "ok: Remora stopped: routed to the origin: $body" ;;
*) tb_die "Remora stopped: unexpected answer: $body" ;;
esac
echo "PASS"
