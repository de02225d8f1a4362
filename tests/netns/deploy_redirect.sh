#!/bin/bash
# REDIRECT interception with spoof = client-ip, using the rule set of
# docs/deployment.md 5.5 verbatim (nft redirect, the socket rule, notrack for
# the upstream leg) and the policy routing of 5.1: the origin sees the
# client's own address, IPv4 and IPv6, and 3,000 short connections cause no
# conntrack insert failures (the clash the notrack rules prevent).
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

tb_init rt-dr
tb_up
tb_origin_start
doc_block nft-redirect >"$TB_WORKDIR/redirect.nft"
tb_exec_r nft -f "$TB_WORKDIR/redirect.nft"
tb_exec_r sh -e <<<"$(doc_block policy-routing)"
conf=$(rt_conf dr <<'CONF'
[global]
workers = 2
[listener nat4]
listen = 0.0.0.0:3129
mode = redirect
spoof = client-ip
[listener nat6]
listen = [::]:3129
mode = redirect
spoof = client-ip
CONF
)
rt_start "$conf" 3129

body=$(rt_curl http://198.18.2.2/)
case $body in
"peer=198.18.1.2 port="*" dst=198.18.2.2:80") echo "ok: REDIRECT, spoofed: $body" ;;
*) tb_die "unexpected echo: $body" ;;
esac
body=$(rt_curl -g 'http://[2001:2:0:2::2]/')
case $body in
"peer=2001:2:0:1::2 port="*) echo "ok: REDIRECT IPv6, spoofed: $body" ;;
*) tb_die "unexpected IPv6 echo: $body" ;;
esac
# insert_failed: a column of /proc/net/stat/nf_conntrack, one hex line per CPU.
insert_failed()
{
	local col sum=0 v
	col=$(tb_exec_r head -1 /proc/net/stat/nf_conntrack | tr -s ' ' '\n' | grep -nx insert_failed | cut -d: -f1)
	[ -n "$col" ] || tb_die "no insert_failed column in /proc/net/stat/nf_conntrack"
	for v in $(tb_exec_r awk -v c="$col" 'NR > 1 { print $c }' /proc/net/stat/nf_conntrack); do
		sum=$((sum + 16#$v))
	done
	echo "$sum"
}
before=$(insert_failed)
for dst in 198.18.2.2 198.18.2.3 198.18.2.4; do
	rt_hammer -t "$dst:80" -n 1000 -c 20 -E addr
done
after=$(insert_failed)
rt_assert_eq "conntrack insert failures during 3,000 spoofed connections" "$((after - before))" 0
rt_stop
echo "PASS"
