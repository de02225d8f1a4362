#!/usr/bin/env bash
#
# Validates the netns testbed (lib.sh) and hammer with HAProxy standing in for
# a transparent proxy in the router namespace:
#   1. with no proxy listening, intercepted traffic does not bypass the router;
#   2. tproxy + "usesrc clientip": the origin sees the client's own address
#      (IPv4 close and keep-alive, IPv6), checked per response by hammer -E;
#   3. redirect mode: the origin sees the router's address (IPv4 through
#      HAProxy; IPv6 through a tiny python listener that reads
#      IP6T_SO_ORIGINAL_DST, because HAProxy 2.6 only asks SO_ORIGINAL_DST
#      for IPv4 and would connect to itself on IPv6).
#
# usage: selftest_haproxy.sh [HAMMER_BINARY]
#        (default: $HAMMER, else build/tests/tools/hammer, else compiled
#        into the work directory with cc)
# Exit: 0 pass, 1 fail, 77 skipped (not root, haproxy missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/lib.sh
. "$here/lib.sh"

if ! command -v haproxy >/dev/null 2>&1; then
	echo "SKIP: haproxy not installed" >&2
	exit 77
fi

tb_init rt-hapx
tb_up
tb_origin_start

hammer=${1:-${HAMMER:-}}
if [ -z "$hammer" ] && [ -x "$here/../../build/tests/tools/hammer" ]; then
	hammer=$here/../../build/tests/tools/hammer
fi
if [ -z "$hammer" ]; then
	hammer=$TB_WORKDIR/hammer
	cc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$hammer" "$here/../tools/hammer.c"
fi

PORT=3129
N=${SELFTEST_N:-2000}
fails=0

step()
{
	echo "== $*"
}

check()
{
	local what=$1
	shift
	if "$@"; then
		echo "   ok: $what"
	else
		echo "   FAILED: $what"
		fails=$((fails + 1))
	fi
}

# Writes haproxy.cfg for MODE (tproxy | redirect).
haproxy_cfg()
{
	local mode=$1 bind_opt="" src=""

	if [ "$mode" = tproxy ]; then
		bind_opt=transparent
		# 0.0.0.0: connect to the connection's original destination;
		# usesrc clientip: bind the upstream socket to the client's address.
		src="source 0.0.0.0 usesrc clientip"
	fi
	cat >"$TB_WORKDIR/haproxy-$mode.cfg" <<EOF
global
	maxconn 8000
	log stderr format short local0 notice

defaults
	mode http
	log global
	option dontlognull
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	timeout http-keep-alive 30s

frontend fe
	bind 0.0.0.0:$PORT $bind_opt
	bind [::]:$PORT v6only $bind_opt
	default_backend be

backend be
	$src
	server s 0.0.0.0:0
EOF
}

haproxy_start()
{
	local mode=$1

	haproxy_cfg "$mode"
	haproxy -c -q -f "$TB_WORKDIR/haproxy-$mode.cfg"
	tb_spawn r "haproxy-$mode" haproxy -db -f "$TB_WORKDIR/haproxy-$mode.cfg"
	HAPROXY_PID=$TB_LAST_PID
	tb_wait_listen r "$PORT" 10 "$HAPROXY_PID" || {
		cat "$TB_WORKDIR/haproxy-$mode.log" >&2
		tb_die "haproxy ($mode) did not start"
	}
}

starts() { [[ $1 == "$2"* ]]; }
ends() { [[ $1 == *"$2" ]]; }

curl_c()
{
	tb_exec_c curl -sS --max-time 3 "$@"
}

hammer_c()
{
	tb_exec_c "$hammer" "$@"
}

# Answers each connection with "orig=ADDR:PORT peer=CLIENT" read from
# SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST (both option 80), then closes.
ORIGDST_PY='
import socket, struct, sys
port = int(sys.argv[1])
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(16)
    socks.append(s)
import selectors
sel = selectors.DefaultSelector()
for s in socks:
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, peer = key.fileobj.accept()
        c.settimeout(2)
        if c.family == socket.AF_INET:
            raw = c.getsockopt(socket.SOL_IP, 80, 16)
            p, a = struct.unpack("!2xH4s8x", raw)
            dst = "%s:%d" % (socket.inet_ntop(socket.AF_INET, a), p)
        else:
            raw = c.getsockopt(socket.IPPROTO_IPV6, 80, 28)
            p, a = struct.unpack("!2xH4x16s4x", raw)
            dst = "[%s]:%d" % (socket.inet_ntop(socket.AF_INET6, a), p)
        body = "orig=%s peer=%s" % (dst, peer[0])
        try:
            c.recv(4096)
            c.sendall(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                       "Connection: close\r\n\r\n%s" % (len(body), body)).encode())
        except OSError:
            pass
        c.close()
'

# --- 1. interception without a proxy: nothing gets through ------------------
tb_intercept_tproxy "$PORT" 80 8080
step "tproxy rules, no proxy listening"
check "direct curl to $TB_O4:80 is blocked (times out)" \
	bash -c "! ip netns exec '$TB_C' curl -sS --max-time 3 http://$TB_O4/ 2>/dev/null"
check "direct curl to [$TB_O6]:80 is blocked" \
	bash -c "! ip netns exec '$TB_C' curl -sS --max-time 3 'http://[$TB_O6]/' 2>/dev/null"
check "non-intercepted port 8081 still routed" \
	bash -c "curl_out=\$(ip netns exec '$TB_C' curl -sS --max-time 3 http://$TB_O4:8081/) &&
		 [[ \$curl_out == 'peer=$TB_C4 '* ]]"

# --- 2. tproxy with HAProxy ----------------------------------------------------
step "tproxy + HAProxy usesrc clientip"
haproxy_start tproxy
out=$(curl_c "http://$TB_O4/")
echo "   curl http://$TB_O4/ -> $out"
check "origin saw the client address $TB_C4" starts "$out" "peer=$TB_C4 "
check "origin saw dst $TB_O4:80" ends "$out" "dst=$TB_O4:80"
out=$(curl_c "http://$TB_O4B/")
check "second origin address $TB_O4B: $out" ends "$out" "dst=$TB_O4B:80"
out=$(curl_c "http://[$TB_O6]/")
echo "   curl http://[$TB_O6]/ -> $out"
check "IPv6: origin saw $TB_C6" starts "$out" "peer=$TB_C6 "
# HAProxy retries a refused connect 3 times, 1 s apart: allow 10 s.
check "8080 intercepted, nothing behind it: 503 from HAProxy" \
	[ "$(curl_c --max-time 10 -o /dev/null -w '%{http_code}' "http://$TB_O4:8080/")" = 503 ]
# usesrc clientip spoofs the address only: the origin sees another port.
check "hammer IPv4 close, n=$N c=50" \
	hammer_c -t "$TB_O4:80" -n "$N" -c 50 -E addr
check "hammer IPv4 keep-alive x100, n=$((N * 5)) c=50" \
	hammer_c -t "$TB_O4:80" -n $((N * 5)) -c 50 -k 100 -E addr
check "hammer IPv6 close, n=$N c=50" \
	hammer_c -t "[$TB_O6]:80" -n "$N" -c 50 -E addr
check "hammer IPv6 keep-alive, n=$N c=50" \
	hammer_c -t "[$TB_O6]:80" -n "$N" -c 50 -k 50 -E addr
check "hammer chunked responses, keep-alive" \
	hammer_c -t "$TB_O4:80" -p /chunked -n 1000 -c 20 -k 10 -E addr -e chunked
check "hammer /64k keep-alive" \
	hammer_c -t "$TB_O4:80" -p /64k -n 500 -c 20 -k 10 -e bbbbbbbbbbbbbbbb
check "hammer -E sees a wrong address as bad_body (negative control)" \
	bash -c "! ip netns exec '$TB_C' '$hammer' -t $TB_O4:80 -n 5 -c 1 \
		 -e peer=198.18.9.9 >/dev/null 2>&1"
tb_kill "$HAPROXY_PID"

# --- 3. redirect mode ----------------------------------------------------------
tb_intercept_clear
tb_intercept_redirect "$PORT" 80
step "redirect + HAProxy (no spoofing)"
check "redirect, no proxy listening: refused, not bypassed" \
	bash -c "! ip netns exec '$TB_C' curl -sS --max-time 3 http://$TB_O4/ 2>/dev/null"
haproxy_start redirect
out=$(curl_c "http://$TB_O4/")
echo "   curl http://$TB_O4/ -> $out"
check "origin saw the router address $TB_RO4" starts "$out" "peer=$TB_RO4 "
check "original destination kept (dst=$TB_O4:80)" ends "$out" "dst=$TB_O4:80"
check "hammer redirect IPv4, n=$N c=50" \
	hammer_c -t "$TB_O4:80" -n "$N" -c 50 -e "peer=$TB_RO4 "
check "no forwarded packet bypassed the proxy (forward drop counters 0)" \
	bash -c "! ip netns exec '$TB_R' nft list chain inet remora_tb forward |
		 grep -q 'packets [1-9]'"
tb_kill "$HAPROXY_PID"

step "redirect + original-destination echo listener (IPv4 and IPv6)"
tb_spawn r origdst python3 -c "$ORIGDST_PY" "$PORT"
tb_wait_listen r "$PORT" 10 "$TB_LAST_PID" || tb_die "origdst listener"
out=$(curl_c "http://$TB_O4/")
echo "   curl http://$TB_O4/ -> $out"
check "SO_ORIGINAL_DST = $TB_O4:80" [ "$out" = "orig=$TB_O4:80 peer=$TB_C4" ]
out=$(curl_c "http://[$TB_O6]/")
echo "   curl http://[$TB_O6]/ -> $out"
check "IP6T_SO_ORIGINAL_DST = [$TB_O6]:80" [ "$out" = "orig=[$TB_O6]:80 peer=$TB_C6" ]
tb_kill "$TB_LAST_PID"

if [ "$fails" -ne 0 ]; then
	echo "selftest_haproxy: $fails check(s) FAILED (logs in $TB_WORKDIR)"
	exit 1
fi
echo "selftest_haproxy: all checks passed"
