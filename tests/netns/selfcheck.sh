#!/bin/bash
# The start-up self-check (src/selfcheck.c) in the router namespace:
#   - no policy routing: remora -t (root) and the start-up log name the
#     missing ip rule and local route, IPv4 and IPv6, with the fix, and
#     Remora starts anyway;
#   - forwarding off: named as well;
#   - with the rules of remora --print-rules loaded (tb_intercept_tproxy)
#     and forwarding on: no warning, one "in place" line; a non-default
#     [router] mark/table is what it looks for.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-sc
tb_up
conf=$(rt_conf remora <<'EOF'
[global]
workers = 1
[listener http4]
listen = 0.0.0.0:3129
[listener http6]
listen = [::]:3129
EOF
)
# expect_in TEXT ERE...: every pattern is in TEXT.
expect_in()
{
	local text=$1 re
	shift
	for re in "$@"; do
		grep -qE -- "$re" <<<"$text" || { echo "$text" >&2; tb_die "missing /$re/"; }
	done
}

# 1. No policy routing.
out=$(tb_exec_r "$REMORA" -t -c "$conf" 2>&1) || tb_die "remora -t failed: $out"
expect_in "$out" 'IPv4: no ip rule sends mark 0x1 to table 100' \
	'fix: ip rule add fwmark 0x1 lookup 100' \
	'IPv4: table 100 has no local default route' \
	'fix: ip route add local 0.0.0.0/0 dev lo table 100' \
	'IPv6: no ip rule sends mark 0x1 to table 100' \
	'fix: ip -6 route add local ::/0 dev lo table 100' \
	'configuration OK'
if grep -q forwarding <<<"$out"; then tb_die "forwarding is on in the router, yet: $out"; fi
echo "ok: remora -t names the missing ip rules and routes, with the fix"
rt_start "$conf" 3129
rt_expect_log 'warn: self-check: IPv4: no ip rule sends mark 0x1 to table 100; fix: ip rule add fwmark 0x1 lookup 100'
rt_expect_log 'warn: self-check: IPv6: table 100 has no local default route; fix: ip -6 route add local ::/0 dev lo table 100'
rt_stop
echo "ok: the start-up log warns, and Remora starts anyway"

# 2. Forwarding off.
tb_exec_r sysctl -qw net.ipv4.ip_forward=0
out=$(tb_exec_r "$REMORA" -t -c "$conf" 2>&1) || tb_die "remora -t failed: $out"
expect_in "$out" 'IPv4: forwarding is off' 'fix: sysctl -w net.ipv4.ip_forward=1'
tb_exec_r sysctl -qw net.ipv4.ip_forward=1
echo "ok: forwarding off is named"

# 3. The generated rules in place: nothing to say.
tb_intercept_tproxy 3129 80
out=$(tb_exec_r "$REMORA" -t -c "$conf" 2>&1) || tb_die "remora -t failed: $out"
if grep -q warning <<<"$out"; then tb_die "warnings with the rules in place: $out"; fi
rt_start "$conf" 3129
rt_expect_log 'self-check: IP_TRANSPARENT, policy routing and forwarding are in place'
if grep -q 'warn: self-check' "$TB_WORKDIR/remora.log"; then tb_die "warnings with the rules in place"; fi
rt_stop
echo "ok: with remora --print-rules' rules loaded the self-check is quiet"

# 4. Another mark and table: looked for as configured.
printf '[router]\nmark = 0x42\ntable = 142\n' >>"$conf"
out=$(tb_exec_r "$REMORA" -t -c "$conf" 2>&1) || tb_die "remora -t failed: $out"
expect_in "$out" 'IPv4: no ip rule sends mark 0x42 to table 142'
echo "ok: [router] mark and table are what it looks for"
echo PASS
