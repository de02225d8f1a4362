#!/bin/bash
# Scaling out (docs/deployment.md section 8): two independent Remora boxes
# behind the testbed's router, each with the guide's nftables rules and policy
# routing, the router's rules taken verbatim from the guide.
#   prefix split, spoof = client-ip: each subscriber address lands on its box,
#     IPv4 and IPv6, the origin sees the subscriber's address;
#   the replies of box 1's flows routed through box 2: a reset after the connect
#     timeout (the return-path rule);
#   ECMP with an L4 hash, spoof = none: every request succeeds, both boxes
#     take a share (one flow stays on one box);
#   ECMP, spoof = client-ip, replies hashed independently: some connections
#     fail (reset), some succeed.
# Extra namespaces ${prefix}-b1 and -b2 (created and removed here); only
# 198.18.0.0/15 and 2001:2::/48 addresses.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
DOC="$(dirname "$0")/../../docs/deployment.md"
[ -f "$DOC" ] || tb_die "$DOC missing"
doc_block()
{
	awk -v tag="<!-- test:$1 -->" '
		$0 == tag { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$DOC"
}

tb_init rt-sx
B1="${TB_PREFIX}-b1"
B2="${TB_PREFIX}-b2"
so_cleanup()
{
	local rc=$?
	set +e
	(exit $rc)
	tb_cleanup
	tb_ns_destroy "$B1"
	tb_ns_destroy "$B2"
}
trap so_cleanup EXIT
tb_up
tb_origin_start
C4B=198.18.1.3
C6B=2001:2:0:1::3
ip -n "$TB_C" addr add "$C4B/24" dev "$TB_IF_C"
ip -n "$TB_C" addr add "$C6B/64" dev "$TB_IF_C" nodad

# box N: namespace, a veth "b0" to the router (rbN), rules and routing of the guide.
box_up()
{
	local ns=$1 n=$2
	tb_ns_destroy "$ns"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$TB_R" link add "rb$n" type veth peer name b0 netns "$ns"
	tb_sysctls "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
	ip -n "$TB_R" addr add "198.18.$((n + 2)).1/24" dev "rb$n"
	ip -n "$TB_R" addr add "2001:2:0:$((n + 2))::1/64" dev "rb$n" nodad
	ip -n "$ns" addr add "198.18.$((n + 2)).2/24" dev b0
	ip -n "$ns" addr add "2001:2:0:$((n + 2))::2/64" dev b0 nodad
	ip -n "$TB_R" link set "rb$n" up
	ip -n "$ns" link set b0 up
	ip netns exec "$TB_R" sysctl -qw "net.ipv4.conf.rb$n.rp_filter=0"
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.b0.rp_filter=0
	ip -n "$ns" route add default via "198.18.$((n + 2)).1"
	ip -n "$ns" -6 route add default via "2001:2:0:$((n + 2))::1"
	# one-armed box: subscribers and upstream are the same interface
	doc_block remora.nft | sed -e 's/"subscribers"/"b0"/' -e 's/"upstream"/"b0"/' >"$TB_WORKDIR/$ns.nft"
	ip netns exec "$ns" nft -f "$TB_WORKDIR/$ns.nft"
	ip netns exec "$ns" sh -e <<<"$(doc_block policy-routing)"
}
box_up "$B1" 1
box_up "$B2" 2
# The guide's loose reverse-path filter on the router in front.
tb_exec_r sysctl -qw net.ipv4.conf.all.rp_filter=2

# box_conf SPOOF [CONNECT_TIMEOUT]: the boxes' configuration.
box_conf()
{
	cat >"$TB_WORKDIR/box.conf" <<CONF
[global]
workers = 1
[listener http4]
listen = 0.0.0.0:3129
spoof = $1
[listener http6]
listen = [::]:3129
spoof = $1
[timeouts]
connect = ${2:-2s}
CONF
}
box_conf client-ip
"$REMORA" -t -c "$TB_WORKDIR/box.conf" >/dev/null
tb_spawn "$B1" remora-b1 "$REMORA" -c "$TB_WORKDIR/box.conf"
P1=$TB_LAST_PID
tb_spawn "$B2" remora-b2 "$REMORA" -c "$TB_WORKDIR/box.conf"
P2=$TB_LAST_PID
tb_wait_listen "$B1" 3129 10 "$P1" || tb_die "box 1: remora did not start"
tb_wait_listen "$B2" 3129 10 "$P2" || tb_die "box 2: remora did not start"
accepted() # NS: connections the box's Remora took so far
{
	ip netns exec "$1" curl -s http://127.0.0.1:9180/metrics |
		awk '/^remora_connections_accepted_total/ { s += $2 } END { print s + 0 }'
}
# get SRC URL: curl from the client with source address SRC; prints "code body".
get()
{
	tb_exec_c curl -sS -g --max-time 6 --interface "$1" -w ' %{http_code}' "$2" 2>/dev/null || true
}

# 1. Prefix split (the guide's block, one subscriber address per box).
doc_block scaleout-prefix >"$TB_WORKDIR/prefix.sh"
sed -e "s|100\.64\.0\.0/11|$TB_C4/32|g" -e "s|100\.96\.0\.0/11|$C4B/32|g" \
	-e 's|192\.0\.2\.11|198.18.3.2|g' -e 's|192\.0\.2\.12|198.18.4.2|g' \
	-e "s/\\bsubscribers\\b/$TB_IF_RC/g" -e "s/\\bupstream\\b/$TB_IF_RO/g" \
	"$TB_WORKDIR/prefix.sh" >"$TB_WORKDIR/prefix4.sh"
sed -e "s|100\.64\.0\.0/11|$TB_C6/128|g" -e "s|100\.96\.0\.0/11|$C6B/128|g" \
	-e 's|192\.0\.2\.11|2001:2:0:3::2|g' -e 's|192\.0\.2\.12|2001:2:0:4::2|g' \
	-e "s/\\bsubscribers\\b/$TB_IF_RC/g" -e "s/\\bupstream\\b/$TB_IF_RO/g" \
	-e 's/^ip /ip -6 /' "$TB_WORKDIR/prefix.sh" >"$TB_WORKDIR/prefix6.sh"
grep -q 'ip -6 rule add iif rc from 2001:2:0:1::2/128 ipproto tcp dport 80 lookup 201' "$TB_WORKDIR/prefix6.sh" ||
	tb_die "unexpected prefix block: $(cat "$TB_WORKDIR/prefix6.sh")"
tb_exec_r sh -e "$TB_WORKDIR/prefix4.sh"
tb_exec_r sh -e "$TB_WORKDIR/prefix6.sh"
for case in "$TB_C4 http://198.18.2.2/ $B1" "$C4B http://198.18.2.3/ $B2" \
	"$TB_C6 http://[2001:2:0:2::2]/ $B1" "$C6B http://[2001:2:0:2::2]/ $B2"; do
	set -- $case
	before=$(accepted "$3")
	out=$(get "$1" "$2")
	case $out in
	"peer=$1 port="*" 200") ;;
	*) tb_die "prefix split: $1 -> $2: '$out'" ;;
	esac
	[ "$(accepted "$3")" -gt "$before" ] || tb_die "prefix split: $1 did not go through $3"
	echo "ok: prefix split: $1 -> $3, origin saw $1"
done
rt_hammer -t 198.18.2.4:80 -n 300 -c 10 -E addr # all from 198.18.1.2: box 1
echo "ok: 1. prefix split, spoof = client-ip: each subscriber through its box, v4 and v6"

# 2. The replies of box 1's subscriber routed through box 2: the connect
# times out and the client connection is reset (curl shows status 000).
tb_exec_r ip rule del iif "$TB_IF_RO" to "$TB_C4/32" ipproto tcp sport 80 lookup 201
tb_exec_r ip rule add iif "$TB_IF_RO" to "$TB_C4/32" ipproto tcp sport 80 lookup 202
out=$(get "$TB_C4" http://198.18.2.2/)
case $out in
*" 000") echo "ok: 2. replies through the wrong box: the client connection was reset" ;;
*) tb_die "replies through the wrong box: '$out'" ;;
esac
grep -q 'connect-timeout' "$TB_WORKDIR/remora-b1.log" || tb_die "box 1 did not log connect-timeout"
tb_exec_r ip rule del iif "$TB_IF_RO" to "$TB_C4/32" ipproto tcp sport 80 lookup 202
tb_exec_r ip rule add iif "$TB_IF_RO" to "$TB_C4/32" ipproto tcp sport 80 lookup 201
# remove the prefix split: the same rules, deleted
for f in prefix4 prefix6; do
	sed -e 's/ rule add / rule del /' -e '/ route add /d' "$TB_WORKDIR/$f.sh" >"$TB_WORKDIR/$f-del.sh"
	tb_exec_r sh -e "$TB_WORKDIR/$f-del.sh"
done
[ -z "$(tb_exec_r ip rule show | grep -E 'lookup 20[12]')" ] || tb_die "prefix rules left"

# 3. ECMP with an L4 hash, spoof = none (a reload switches the boxes).
doc_block scaleout-ecmp | sed -e 's|192\.0\.2\.11|198.18.3.2|g' -e 's|192\.0\.2\.12|198.18.4.2|g' \
	-e "s/\\bsubscribers\\b/$TB_IF_RC/g" >"$TB_WORKDIR/ecmp.sh"
tb_exec_r sh -e "$TB_WORKDIR/ecmp.sh"
box_conf none
kill -HUP "$P1" "$P2"
for l in remora-b1 remora-b2; do
	n=0
	until grep -q 'info: reloaded ' "$TB_WORKDIR/$l.log"; do
		n=$((n + 1)); [ $n -lt 100 ] || tb_die "$l: reload not logged"; sleep 0.05
	done
done
a1=$(accepted "$B1") a2=$(accepted "$B2")
rt_hammer -t 198.18.2.2:80 -n 400 -c 20 -e 'dst=198.18.2.2:80'
d1=$(($(accepted "$B1") - a1)) d2=$(($(accepted "$B2") - a2))
echo "ECMP: box 1 took $d1, box 2 took $d2 of 400 connections"
[ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] && [ $((d1 + d2)) -eq 400 ] || tb_die "ECMP did not spread the flows"
body=$(get "$TB_C4" http://198.18.2.3/)
case $body in
"peer=198.18.3.2 "*" 200" | "peer=198.18.4.2 "*" 200") echo "ok: 3. ECMP, spoof = none: all served, both boxes used; origin saw a box: ${body%% port=*}" ;;
*) tb_die "ECMP spoof = none: '$body'" ;;
esac

# 4. ECMP, spoof = client-ip, replies hashed back over the boxes independently.
# A connect timeout under the 1 s SYN retransmission: a reply that went to the
# wrong box is not retried by luck.
tb_exec_r ip rule add iif "$TB_IF_RO" ipproto tcp sport 80 lookup 200
box_conf client-ip 900ms
kill -HUP "$P1" "$P2"
for l in remora-b1 remora-b2; do
	n=0
	until [ "$(grep -c 'info: reloaded ' "$TB_WORKDIR/$l.log")" -ge 2 ]; do
		n=$((n + 1)); [ $n -lt 100 ] || tb_die "$l: second reload not logged"; sleep 0.05
	done
done
ok=0 bad=0 pids=()
for i in $(seq 1 40); do
	tb_exec_c curl -s -o /dev/null --max-time 6 -w '%{http_code}\n' "http://198.18.2.$((2 + i % 3))/" >"$TB_WORKDIR/code.$i" &
	pids+=($!)
done
wait "${pids[@]}" || true
for f in "$TB_WORKDIR"/code.*; do
	case $(cat "$f") in
	200) ok=$((ok + 1)) ;;
	*) bad=$((bad + 1)) ;; # 504 from Remora, or no answer
	esac
done
echo "ECMP, spoof = client-ip, replies hashed independently: $ok served, $bad failed (504 or no answer)"
[ "$ok" -gt 0 ] && [ "$bad" -gt 0 ] || tb_die "expected some failures and some successes"
echo "ok: 4. ECMP with spoofing: replies must be pinned to the box, hashing does not do it"
echo "PASS"
