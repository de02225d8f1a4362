#!/bin/bash
# What subscribers' port-80 traffic does when no proxy listens (the table in
# docs/deployment.md section 7), IPv4 and IPv6, curl from the client to the
# origin with nothing on the router's port 3129:
#   nft tproxy, no forward drop   -> falls through, reaches the origin directly
#   nft tproxy + forward drop     -> dropped (the testbed's fail-closed rule)
#   iptables/ip6tables -j TPROXY  -> dropped by the target (iptables-nft)
#   nft / iptables REDIRECT       -> connection refused (a reset from the router)
# and that the iptables rule sets of docs/deployment.md (TPROXY + notrack,
# taken verbatim from the document) deliver flows to Remora when it runs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
command -v iptables >/dev/null && command -v ip6tables >/dev/null ||
	{ echo "SKIP: iptables not installed"; exit 77; }
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

tb_init rt-ft
tb_up
tb_origin_start

# expect_origin URL: the request reaches the origin from the client's address.
expect_origin()
{
	local body
	body=$(tb_exec_c curl -sS -g --max-time 5 "$1") || tb_die "$1: no answer"
	case $body in
	"peer=198.18.1.2 "* | "peer=2001:2:0:1::2 "*) echo "ok: $1 reached the origin: $body" ;;
	*) tb_die "$1: unexpected answer: $body" ;;
	esac
}
# expect_fail URL RC WHAT: curl fails with exit status RC (28 timeout, 7 refused).
expect_fail()
{
	local rc=0
	tb_exec_c curl -sS -g --max-time 2 -o /dev/null "$1" 2>/dev/null || rc=$?
	[ "$rc" = "$2" ] || tb_die "$1: curl exit status $rc, want $2 ($3)"
	echo "ok: $1: $3 (curl exit $rc)"
}
V4='http://198.18.2.2/'
V6='http://[2001:2:0:2::2]/'

# A. nft tproxy without a forward drop, no listener: fail-open.
tb_exec_r nft -f - <<EOF
table inet ft {
	chain prerouting {
		type filter hook prerouting priority mangle; policy accept;
		iifname "$TB_IF_RC" meta nfproto ipv4 tcp dport 80 counter tproxy ip to :3129 meta mark set 1 accept
		iifname "$TB_IF_RC" meta nfproto ipv6 tcp dport 80 counter tproxy ip6 to :3129 meta mark set 1 accept
		meta l4proto tcp socket transparent 1 meta mark set 1 accept
	}
}
EOF
tb_exec_r sh -e <<<"$(doc_block policy-routing)"
expect_origin "$V4"
expect_origin "$V6"
hits=$(tb_exec_r nft list chain inet ft prerouting | grep -c 'counter packets [1-9].* tproxy ') || true
[ "$hits" -eq 2 ] || { tb_exec_r nft list chain inet ft prerouting; tb_die "the tproxy rules did not see the packets"; }
echo "ok: A. nft tproxy with no listener: both tproxy rules saw the packets, which fell through to forwarding"
tb_exec_r nft delete table inet ft

# B. The testbed's rules (tproxy + forward drop), no listener: fail-closed.
tb_intercept_clear
tb_intercept_tproxy 3129 80
expect_fail "$V4" 28 "dropped in forward"
expect_fail "$V6" 28 "dropped in forward"
fwd=$(tb_exec_r nft list chain inet remora_tb forward)
grep -q 'dport 80 counter packets [1-9]' <<<"$fwd" || { echo "$fwd"; tb_die "the forward drop did not count"; }
echo "ok: B. nft tproxy + forward drop with no listener: dropped"
tb_intercept_clear

# C. iptables-nft TPROXY (docs/deployment.md 5.4), no listener: dropped.
iptables --version
tb_exec_r sh -e <<<"$(doc_block iptables-tproxy)"
tb_exec_r sh -e <<<"$(doc_block policy-routing)"
expect_fail "$V4" 28 "dropped by -j TPROXY"
expect_fail "$V6" 28 "dropped by ip6tables -j TPROXY"
for ipt in iptables ip6tables; do
	n=$(tb_exec_r "$ipt" -t mangle -L PREROUTING -v -n -x | awk '/TPROXY/ { print $1 }')
	[ "${n:-0}" -gt 0 ] || tb_die "$ipt TPROXY rule saw no packets"
	echo "ok: $ipt -j TPROXY matched $n packets and dropped them"
done
tb_exec_r nft list table inet remora_tb >/dev/null 2>&1 && tb_die "no nft forward drop expected here"
echo "ok: C. iptables TPROXY with no listener: dropped (no forward rule involved)"

# D. The same iptables rules plus the notrack rules deliver flows to Remora.
tb_exec_r sh -e <<<"$(doc_block iptables-notrack)"
conf=$(rt_conf ft <<'CONF'
[global]
workers = 2
[listener http4]
listen = 0.0.0.0:3129
[listener http6]
listen = [::]:3129
CONF
)
rt_start "$conf" 3129
expect_origin "$V4"
expect_origin "$V6"
rt_hammer -t 198.18.2.3:80 -n 300 -c 10 -E addr
for ipt in iptables ip6tables; do
	n=$(tb_exec_r "$ipt" -t raw -L PREROUTING -v -n -x | awk '/NOTRACK|CT notrack/ { s += $1 } END { print s + 0 }')
	[ "$n" -gt 0 ] || tb_die "$ipt notrack rules saw no packets"
done
accepted=$(tb_exec_r curl -s http://127.0.0.1:9180/metrics |
	awk '/^remora_connections_accepted_total/ { s += $2 } END { print s + 0 }')
[ "$accepted" -ge 302 ] || tb_die "Remora accepted only $accepted connections"
echo "ok: D. iptables TPROXY (iptables-nft) + notrack: $accepted connections through Remora, v4 and v6"
rt_stop
for ipt in iptables ip6tables; do
	tb_exec_r "$ipt" -t mangle -F
	tb_exec_r "$ipt" -t mangle -X
	tb_exec_r "$ipt" -t raw -F
done
tb_intercept_clear

# E. REDIRECT with no listener: refused at once, nft and iptables.
tb_intercept_redirect 3129 80
expect_fail "$V4" 7 "nft redirect: connection refused"
expect_fail "$V6" 7 "nft redirect: connection refused"
tb_intercept_clear
tb_exec_r sh -e <<<"$(doc_block iptables-redirect)"
expect_fail "$V4" 7 "iptables REDIRECT: connection refused"
expect_fail "$V6" 7 "ip6tables REDIRECT: connection refused"
echo "ok: E. REDIRECT with no listener: refused"
echo "PASS"
