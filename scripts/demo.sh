#!/usr/bin/env bash
#
# Remora in five seconds: installs dependencies, builds, builds a throw-away
# client / router / origin network out of namespaces, intercepts the client's
# port-80 traffic in the router with nftables TPROXY, runs Remora there and
# shows that (1) the client talks to the origin's address without any proxy
# setting and (2) the origin sees the client's own address.  Then it removes
# everything it created.  Nothing touches the host's own network: all traffic
# stays inside the namespaces rdemo-PID-c, -r and -o (PID: this run's, so two runs cannot collide) (RFC 5180
# benchmarking addresses 198.18.0.0/15 and 2001:2::/48).
#
# usage: sudo bash scripts/demo.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root for network namespaces: sudo bash scripts/demo.sh" >&2
	exit 1
fi

bold='' red='' plain=''
if [ -t 1 ]; then
	bold=$'\033[1m' red=$'\033[1;31m' plain=$'\033[0m'
fi

say()
{
	printf '\n%s== %s%s\n' "$bold" "$*" "$plain"
}

fail()
{
	printf '\n%sdemo FAILED: %s%s\n' "$red" "$*" "$plain" >&2
	exit 1
}

if [ "${DEMO_PREBUILT:-0}" = 1 ]; then
	# the test suite's run (tests/netns/demo.sh): its own binaries, no install
	[ -x "${REMORA:-}" ] && [ -x "${HAMMER:-}" ] || fail "DEMO_PREBUILT=1 needs REMORA and HAMMER"
else
	say "dependencies"
	bash scripts/deps.sh || fail "installing dependencies (scripts/deps.sh)"

	say "build"
	if [ ! -f build/build.ninja ]; then
		meson setup build >/dev/null || fail "meson setup build"
	fi
	meson compile -C build >/dev/null || fail "meson compile -C build (rerun it to see the errors)"
	[ -x build/remora ] || fail "build/remora was not built"
	echo "build/remora ok"
	REMORA="$root/build/remora"
	HAMMER="$root/build/tests/tools/hammer"
fi

. tests/netns/lib.sh
export REMORA # the router rules come from remora --print-rules
tb_init rdemo
# tb_cleanup (EXIT trap) kills Remora and nginx and deletes the namespaces.

say "testbed: client $TB_C4 [$TB_C6] -> router -> origin $TB_O4 [$TB_O6]"
tb_up
tb_origin_start
tb_intercept_tproxy 3129 80 443
echo "router nftables rules ($TB_R):"
tb_exec_r nft list table inet remora_tb | sed 's/^/    /'

# the shipped configuration, with the access log on for the demo
sed "s|^access_log = off|access_log = $TB_WORKDIR/access.log|" "$root/conf/remora.conf" \
	>"$TB_WORKDIR/remora.conf"
# an HTTPS origin on 198.18.2.2:443 that answers with the address it saw
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=demo.example \
	-addext subjectAltName=DNS:demo.example -keyout "$TB_WORKDIR/key.pem" \
	-out "$TB_WORKDIR/cert.pem" 2>/dev/null
cat >"$TB_WORKDIR/https_origin.py" <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("198.18.2.2", 443)); ls.listen(16)
while True:
    c, peer = ls.accept()
    try:
        s = ctx.wrap_socket(c, server_side=True)
        s.recv(4096)
        body = ("peer=%s (over TLS)\n" % peer[0]).encode()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        s.close()
    except (OSError, ssl.SSLError):
        c.close()
PY
tb_spawn o https python3 -u "$TB_WORKDIR/https_origin.py" "$TB_WORKDIR/cert.pem" "$TB_WORKDIR/key.pem"
tb_wait_listen o 443 10 || fail "the HTTPS origin did not start"

say "starting Remora in the router: build/remora -c conf/remora.conf (access log on)"
tb_spawn r remora "$REMORA" -c "$TB_WORKDIR/remora.conf"
remora_pid=$TB_LAST_PID
if ! tb_wait_listen r 3129 10 "$remora_pid"; then
	sed 's/^/    /' "$TB_WORKDIR/remora.log" >&2 || true
	fail "Remora does not listen on :3129 (log above)"
fi
tb_exec_r ss -Htlnp "sport = :3129" | sed 's/^/    /'

ok=0
bad=0

# demo_get URL WHAT: one curl from the client namespace; prints the request it
# sent and the origin's echo, and checks that the origin saw the client.
demo_get()
{
	local url=$1 kind=$2 out="$TB_WORKDIR/body" meta code lip lport body

	echo
	echo "client> curl $url"
	if ! meta=$(tb_exec_c curl -sS --max-time 5 -v -o "$out" \
		-w '%{http_code} %{local_ip} %{local_port}' "$url" 2>"$TB_WORKDIR/curl.err"); then
		sed 's/^/    /' "$TB_WORKDIR/curl.err"
		echo "    FAILED: curl error"
		bad=$((bad + 1))
		return
	fi
	tr -d '\r' <"$TB_WORKDIR/curl.err" | sed -n 's/^> \(..*\)/    sent  > \1/p'
	read -r code lip lport <<<"$meta"
	echo "    client socket: $lip port $lport, HTTP $code"
	if [ "$code" != 200 ]; then
		echo "    FAILED: expected HTTP 200"
		bad=$((bad + 1))
		return
	fi
	if [ "$kind" = size ]; then
		body=$(wc -c <"$out")
		echo "    received $body bytes"
		[ "$body" = 1024 ] || { echo "    FAILED: expected 1024"; bad=$((bad + 1)); return; }
	else
		body=$(cat "$out")
		echo "    origin saw   : $body"
		if [[ $body != "peer=$lip "* ]]; then
			echo "    FAILED: the origin did not see the client's address $lip"
			bad=$((bad + 1))
			return
		fi
		echo "    => the origin saw the client's own address $lip, not the router's"
	fi
	ok=$((ok + 1))
}

say "requests from the client (no proxy configured anywhere on the client)"
demo_get "http://$TB_O4/" echo
demo_get "http://$TB_O4B/" echo
demo_get "http://[$TB_O6]/" echo
demo_get "http://$TB_O4/1k" size

say "HTTPS: Remora reads the ClientHello (never decrypts) and splices to the original destination"
echo "client> curl --resolve demo.example:443:$TB_O4 https://demo.example/"
if body=$(tb_exec_c curl -sS --max-time 5 --cacert "$TB_WORKDIR/cert.pem" \
	--resolve "demo.example:443:$TB_O4" https://demo.example/ 2>&1) &&
	[[ $body == "peer=$TB_C4 "* ]]; then
	echo "    origin saw   : $body"
	echo "    => the TLS session is end to end, and the origin saw the client's own address"
	ok=$((ok + 1))
else
	echo "    FAILED: $body"
	bad=$((bad + 1))
fi

hammer=$HAMMER
if [ -x "$hammer" ]; then
	say "a burst: 2000 requests, 50 concurrent connections, each response checked"
	if tb_exec_c "$hammer" -t "$TB_O4:80" -n 2000 -c 50 -E addr -T 30; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
	fi
fi

say "Remora's access log (Squid format; the HTTPS flow is named by its SNI)"
sleep 0.2 # the log writer flushes every 50 ms
{ head -n 3 "$TB_WORKDIR/access.log"; echo ...; grep 'CONNECT' "$TB_WORKDIR/access.log"; } |
	sed 's/^/    /'
if grep -q 'CONNECT demo.example:443' "$TB_WORKDIR/access.log"; then
	ok=$((ok + 1))
else
	echo "    FAILED: no access-log line for CONNECT demo.example:443"
	bad=$((bad + 1))
fi

say "Remora's log (last lines)"
tail -n 15 "$TB_WORKDIR/remora.log" | sed 's/^/    /'
kill -0 "$remora_pid" 2>/dev/null || fail "Remora exited during the demo"

say "teardown"
tb_kill "$remora_pid"
if [ "$bad" -ne 0 ]; then
	fail "$bad of $((ok + bad)) checks failed (work directory kept: $TB_WORKDIR)"
fi
echo "demo: all $ok checks passed; namespaces $TB_PREFIX-c/-r/-o are being removed"
