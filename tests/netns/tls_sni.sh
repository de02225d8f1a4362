#!/bin/bash
# Port 443 through Remora: real TLS clients (curl, openssl s_client, python
# ssl, gnutls-cli; TLS 1.2 and 1.3) against a TLS origin with a self-signed
# certificate for several names. Each handshake completes end to end (Remora
# never decrypts: the hello is forwarded byte for byte), the origin sees the
# subscriber's own address, the access log names the SNI (Squid and JSON
# shapes), /metrics counts the flows; a name in [acl] deny_domains is refused
# for TLS (exact and suffix; a reset, or an access_denied alert) and for HTTP
# (451 with the operator's body); a non-TLS byte stream after 0x16 0x03 is
# counted as malformed; with a deny list on, it and a hello padded past
# max_tls_hello are refused, not tunnelled.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
tb_init rt-tls
tb_up
tb_intercept_tproxy 3129 443 80
tb_origin_start
PY=/usr/bin/python3
W=$TB_WORKDIR
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=site.example \
	-addext "subjectAltName=DNS:site.example,DNS:www.site.example,DNS:blocked.example,DNS:a.bad.example" \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
# TLS origin on 198.18.2.2:443: answers every request with the peer it saw
cat >"$W/tls_origin.py" <<'PYEOF'
import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.set_alpn_protocols(["http/1.1"])
def listener(family, addr):
    ls = socket.socket(family); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, 443)); ls.listen(64)
    return ls
def serve(c, peer):
    try:
        s = ctx.wrap_socket(c, server_side=True)
        data = b""
        while b"\r\n\r\n" not in data:
            d = s.recv(4096)
            if not d:
                return
            data += d
        body = ("peer=%s sni-ok\n" % peer[0]).encode()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        s.close()
    except (OSError, ssl.SSLError):
        pass
def accept_loop(ls):
    while True:
        c, peer = ls.accept()
        threading.Thread(target=serve, args=(c, peer), daemon=True).start()
threading.Thread(target=accept_loop, args=(listener(socket.AF_INET6, "2001:2:0:2::2"),),
                 daemon=True).start()
accept_loop(listener(socket.AF_INET, "198.18.2.2"))
PYEOF
tb_spawn o tlsorigin "$PY" -u "$W/tls_origin.py" "$W/cert.pem" "$W/key.pem"
tb_wait_listen o 443 10 || tb_die "TLS origin"
printf 'Blocked here by order.\n' >"$W/denied.html"
conf=$(rt_conf tls <<CONF
[global]
workers = 2
access_log = $W/access.json
access_log_format = json
[listener t]
listen = 0.0.0.0:3129
spoof = client-ip
[listener t6]
listen = [::]:3129
spoof = client-ip-port
[acl]
deny_domains = blocked.example, .bad.example
deny_tls = alert
deny_body_file = $W/denied.html
CONF
)
chmod 755 "$W"
rt_start "$conf" 3129
fails=0
check() # WHAT CMD...: CMD's output must contain "peer=<the client> sni-ok"
{
	local what=$1 out
	shift
	out=$("$@" 2>&1 || true)
	if grep -Eq 'peer=(198.18.1.2|2001:2:0:1::2) sni-ok' <<<"$out"; then
		echo "ok: $what: the origin saw $(grep -Eo 'peer=[^ ]+' <<<"$out")"
	else
		echo "FAIL: $what: $(tail -c 300 <<<"$out")" >&2
		fails=$((fails + 1))
	fi
}
REQ='GET / HTTP/1.1\r\nHost: site.example\r\n\r\n'
check "curl over IPv6 (spoof client-ip-port)" tb_exec_c curl -s --max-time 5 \
	--cacert "$W/cert.pem" --resolve "site.example:443:[2001:2:0:2::2]" https://site.example/
check "curl TLS 1.3" tb_exec_c curl -s --max-time 5 --cacert "$W/cert.pem" \
	--resolve site.example:443:198.18.2.2 https://site.example/
check "curl TLS 1.2" tb_exec_c curl -s --max-time 5 --tlsv1.2 --tls-max 1.2 \
	--cacert "$W/cert.pem" --resolve www.site.example:443:198.18.2.2 https://www.site.example/
check "openssl s_client -servername (TLS 1.3)" tb_exec_c sh -c \
	"printf '$REQ' | timeout 5 openssl s_client -quiet -connect 198.18.2.2:443 -servername site.example -CAfile $W/cert.pem"
check "openssl s_client TLS 1.2" tb_exec_c sh -c \
	"printf '$REQ' | timeout 5 openssl s_client -quiet -tls1_2 -connect 198.18.2.2:443 -servername www.site.example -CAfile $W/cert.pem"
check "python ssl" tb_exec_c "$PY" -c "
import socket, ssl
ctx = ssl.create_default_context(cafile='$W/cert.pem')
s = ctx.wrap_socket(socket.create_connection(('198.18.2.2', 443), timeout=5), server_hostname='site.example')
s.sendall(b'GET / HTTP/1.1\r\nHost: site.example\r\n\r\n')
print(s.recv(4096).decode())"
if command -v gnutls-cli >/dev/null; then
	check "gnutls-cli" tb_exec_c sh -c \
		"(printf '$REQ'; sleep 2) | timeout 5 gnutls-cli --x509cafile=$W/cert.pem --sni-hostname=site.example --verify-hostname=site.example --logfile=/dev/null 198.18.2.2 -p 443"
fi

# ---- policy: TLS by exact name and by suffix, HTTP with the operator's body
denied_tls() # NAME: the handshake must fail (alert access_denied), no peer line
{
	local out
	out=$(tb_exec_c curl -s --max-time 5 --cacert "$W/cert.pem" \
		--resolve "$1:443:198.18.2.2" "https://$1/" 2>&1 || true)
	if grep -q sni-ok <<<"$out"; then
		echo "FAIL: TLS to $1 was not denied" >&2
		fails=$((fails + 1))
	else
		echo "ok: TLS to $1 denied"
	fi
}
denied_tls blocked.example
denied_tls a.bad.example
# sni_case WHAT NAME passes|refused: openssl s_client sends NAME as it is
# (curl would drop a trailing dot)
sni_case()
{
	local out got=refused
	out=$(tb_exec_c sh -c "printf '$REQ' | timeout 5 openssl s_client -quiet \
		-connect 198.18.2.2:443 -servername $2 -CAfile $W/cert.pem" 2>&1 || true)
	grep -q sni-ok <<<"$out" && got=passes
	rt_assert_eq "$1" "$got" "$3"
}
# servers serve "blocked.example." as "blocked.example": so does the policy
# (the reader refused the trailing dot as invalid, and the name went unchecked)
sni_case "TLS to blocked.example. (trailing dot) denied" blocked.example. refused
sni_case "TLS to x.a.bad.example. (trailing dot, suffix) denied" x.a.bad.example. refused
# A hello that comes after [timeouts] first_bytes (300 ms) of silence, or
# whose first byte (0x16) comes alone and the rest after such a pause, is
# still read and checked: not carried past the policy by the tunnel that
# silence opens (nor by one that commits the lone byte), also when the lone
# byte comes after that silence.
cat >"$W/late_hello.py" <<'PYEOF'
import socket, ssl, sys, time
mode, name, cafile = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=cafile)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=name)
s = socket.create_connection(("198.18.2.2", 443), timeout=5)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
if mode == "latesplit":  # silence opens the tunnel, then the lone byte
    time.sleep(0.7)
if mode in ("split", "latesplit"):
    s.sendall(hello[:1])
time.sleep(0.7)
s.sendall(hello if mode == "late" else hello[1:])
def pump():
    if out.pending:
        s.sendall(out.read())
    d = s.recv(65536)
    if not d:
        sys.exit("EOF")
    inc.write(d)
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
tls.write(b"GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % name.encode())
data = b""
while b"sni-ok" not in data:
    try:
        data += tls.read(4096)
    except ssl.SSLWantReadError:
        pump()
print(data.decode(errors="replace"))
PYEOF
for mode in late split latesplit; do
	check "$mode hello" tb_exec_c "$PY" "$W/late_hello.py" $mode site.example "$W/cert.pem"
	out=$(tb_exec_c "$PY" "$W/late_hello.py" $mode blocked.example "$W/cert.pem" 2>&1 || true)
	if grep -q sni-ok <<<"$out"; then
		echo "FAIL: $mode hello: TLS to blocked.example was not denied" >&2
		fails=$((fails + 1))
	else
		echo "ok: $mode hello: TLS to blocked.example denied"
	fi
done
# deny_tls = alert: the client reads a fatal access_denied alert
out=$(tb_exec_c sh -c "echo | timeout 5 openssl s_client -connect 198.18.2.2:443 -servername blocked.example" 2>&1 || true)
if grep -qi 'alert access denied' <<<"$out"; then
	echo "ok: openssl s_client reads the access_denied alert"
else
	echo "FAIL: no access_denied alert: $(grep -i alert <<<"$out" | head -2)" >&2
	fails=$((fails + 1))
fi
# ... also when the client sent more after its hello than Remora read with it
# (early data): the alert is followed by a clean FIN, not a reset (closing a
# socket with unread bytes resets it, and a reset can discard the alert)
cp "$(dirname "$0")/tunneldata.py" "$W/"
cat >"$W/alert_late.py" <<'PYEOF'
import socket, sys, time
from tunneldata import client_hello, read_to_end
s = socket.create_connection(("198.18.2.2", 443), timeout=5)
try:  # the hello and 12 records of early data in one go: more than one read
    s.sendall(client_hello("blocked.example") + (b"\x17\x03\x03\x40\x00" + b"x" * 16384) * 12)
except OSError:
    pass
time.sleep(0.3)
got, end = read_to_end(s)
print(got.hex(), end)
PYEOF
rt_assert_eq "alert, then a FIN, when the client sends more after its hello" \
	"$(tb_exec_c "$PY" "$W/alert_late.py" 2>&1)" "15030300020231 eof"
code=$(tb_exec_c curl -s --max-time 5 -o "$W/deny.body" -w '%{http_code}' \
	-H 'Host: www.bad.example' http://198.18.2.2/ || true)
rt_assert_eq "HTTP to a denied suffix: 451" "$code" 451
rt_assert_eq "HTTP 451 carries the operator's body" "$(cat "$W/deny.body")" "Blocked here by order."
check "a name outside the list still passes" tb_exec_c curl -s --max-time 5 \
	--cacert "$W/cert.pem" --resolve site.example:443:198.18.2.2 https://site.example/

# ---- hellos captured from real clients, replayed oddly: one byte per TCP
# segment, and a hello spread over three records; the origin must get each
# byte for byte (it answers with its ServerHello) and the log names the SNI
FX="$(cd "$(dirname "$0")/../fixtures/tls" && pwd)"
replay() # WHAT FILE STEP: sends FILE STEP bytes per segment, expects a ServerHello
{
	local out
	out=$(tb_exec_c "$PY" - "$FX/$2" "$3" <<'PYEOF'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
step = int(sys.argv[2])
s = socket.create_connection(("198.18.2.2", 443), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(0, len(data), step):
    s.sendall(data[i:i + step])
    time.sleep(0.002)
got = s.recv(5)
print("first bytes back: %s" % got.hex())
PYEOF
	) || true
	if [[ $out == "first bytes back: 1603"* ]]; then
		echo "ok: $1: the origin answered with a ServerHello"
	else
		echo "FAIL: $1: $out" >&2
		fails=$((fails + 1))
	fi
}
replay "curl's hello one byte per segment" curl_h2.bin 1
replay "a hello in three records" openssl_multirec.bin 4096

# ---- garbage after 0x16 0x03: malformed, counted (and refused: a deny list is on)
tb_exec_c "$PY" -c "
import socket
s = socket.create_connection(('198.18.2.2', 443), timeout=3)
s.sendall(b'\x16\x03\x01\x00\x05hello')
s.shutdown(socket.SHUT_WR)
try:
    s.recv(100)
except OSError:
    pass" || true

# ---- a hello padded past max_tls_hello (16 KiB; servers take it) for a
# denied name: with a deny list, refused unread instead of tunnelled (the
# origin answered it with its ServerHello before)
cat >"$W/padded.py" <<'PYEOF'
import socket, struct
from tunneldata import client_hello
rec = client_hello("blocked.example")
hs = rec[5:5 + struct.unpack("!H", rec[3:5])[0]]
body = hs[4:]
i = 2 + 32
i += 1 + body[i]                                    # session id
i += 2 + struct.unpack("!H", body[i:i + 2])[0]      # cipher suites
i += 1 + body[i]                                    # compression
exts = body[i + 2:] + struct.pack("!HH", 0x7a7a, 17000) + bytes(17000)  # a GREASE extension
body = body[:i] + struct.pack("!H", len(exts)) + exts
hs = b"\x01" + len(body).to_bytes(3, "big") + body
wire = b"".join(b"\x16\x03\x01" + struct.pack("!H", len(hs[k:k + 16384])) + hs[k:k + 16384]
                for k in range(0, len(hs), 16384))
s = socket.create_connection(("198.18.2.2", 443), timeout=5)
s.sendall(wire)
try:
    d = s.recv(5)
except OSError:
    d = b""
print("origin answered" if d[:1] == b"\x16" else "refused")
PYEOF
rt_assert_eq "a denied name in a hello padded past max_tls_hello" \
	"$(tb_exec_c "$PY" "$W/padded.py" 2>&1)" refused

# ---- a HelloRetryRequest: the first hello (site.example) has no key share,
# the origin asks again, and servers (OpenSSL, nginx) take the server name of
# the second hello: it is checked too (only the first was: a second hello for
# blocked.example reached the origin, which answered it), also when both
# come at once; the same name passes
cat >"$W/hrr.py" <<'PYEOF'
import socket, sys, time
from tunneldata import raw_hello, first_messages
mode, second = sys.argv[1:3]
s = socket.create_connection(("198.18.2.2", 443), timeout=3)
ch2 = raw_hello([second.encode()])
if mode == "pipelined":
    s.sendall(raw_hello([b"site.example"], key_share=False) + ch2)
else:
    s.sendall(raw_hello([b"site.example"], key_share=False))
    time.sleep(0.5)
    s.sendall(b"\x14\x03\x03\x00\x01\x01" + ch2)   # compatibility CCS, then the hello
time.sleep(0.5)
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
        if len(first_messages(got)) >= 3:
            break
except OSError:
    pass
kinds = first_messages(got)
# served: the origin's ServerHello came; refused: Remora's access_denied
verdict = "served" if "sh" in kinds else "refused" if kinds[-1:] == ["alert:31"] else str(kinds)
print(verdict if mode == "pipelined" else "%s after %s" % (verdict, kinds[0] if kinds else "-"))
PYEOF
rt_assert_eq "HelloRetryRequest, then the same name: served" \
	"$(tb_exec_c "$PY" "$W/hrr.py" stepwise site.example 2>&1)" "served after hrr"
rt_assert_eq "HelloRetryRequest, then a second hello for blocked.example: refused" \
	"$(tb_exec_c "$PY" "$W/hrr.py" stepwise blocked.example 2>&1)" "refused after hrr"
rt_assert_eq "HelloRetryRequest, then a second hello for x.a.bad.example: refused" \
	"$(tb_exec_c "$PY" "$W/hrr.py" stepwise x.a.bad.example 2>&1)" "refused after hrr"
rt_assert_eq "both hellos at once, the second for blocked.example: refused" \
	"$(tb_exec_c "$PY" "$W/hrr.py" pipelined blocked.example 2>&1)" refused
# ---- server names the policy cannot read: nginx serves "blocked.example:443"
# as blocked.example (OpenSSL passes any name without a NUL to it); several
# names; with a deny list such hellos are refused (the first one was blanked
# as invalid and reached the origin)
cat >"$W/oddsni.py" <<'PYEOF'
import socket, sys
from tunneldata import raw_hello, first_messages
s = socket.create_connection(("198.18.2.2", 443), timeout=3)
s.sendall(raw_hello([n.encode() for n in sys.argv[1:]]))
try:
    got = s.recv(65536)
except OSError:
    got = b""
print("origin answered" if first_messages(got)[:1] == ["sh"] else "refused")
PYEOF
rt_assert_eq "SNI blocked.example:443 (not a DNS name)" \
	"$(tb_exec_c "$PY" "$W/oddsni.py" blocked.example:443 2>&1)" refused
rt_assert_eq "SNI with two names" \
	"$(tb_exec_c "$PY" "$W/oddsni.py" site.example blocked.example 2>&1)" refused
rt_assert_eq "SNI site.example, built by hand: served" \
	"$(tb_exec_c "$PY" "$W/oddsni.py" site.example 2>&1)" "origin answered"

# ---- log and metrics
m=$(tb_exec_r curl -s http://127.0.0.1:9180/metrics)
for pat in 'remora_tls_flows_total\{version="1.3"\} [1-9]' 'remora_tls_flows_total\{version="1.2"\} [1-9]' \
	'remora_tls_sni_total\{sni="yes"\} [1-9]' 'remora_tls_denied_total ([2-9]|[1-9][0-9])' \
	'remora_http_denied_total [1-9]' 'remora_tls_malformed_total\{error="[a-z_]+"\} [1-9]'; do
	if grep -Eq "^$pat" <<<"$m"; then echo "ok: metric $pat"; else
		echo "FAIL: metric $pat" >&2; fails=$((fails + 1)); fi
done
rt_stop
"$PY" - "$W/access.json" <<'PYEOF' || fails=$((fails + 1))
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
tls = [l for l in lines if l.get("sni") == "site.example" and l["client"] == "198.18.1.2"]
assert tls, "no line with sni site.example"
l = tls[0]
assert l["code"] == "TCP_TUNNEL" and l["status"] == 200 and l["method"] == "CONNECT", l
assert l["url"] == "site.example:443", l
assert l["client"] == "198.18.1.2" and l["peer"] == "198.18.2.2", l
assert len(l["ja4"]) == 36 and l["ja4"][0] == "t", l
assert "1.3" in l["tls_versions"] or "TLS" in l["tls_versions"], l
assert l["bytes"] > 0 and l["bytes_up"] > 0, l
print("ok: JSON access log: %s %s ja4=%s alpn=%s versions=%s" % (l["method"], l["url"], l["ja4"], l["alpn"], l["tls_versions"]))
d = [x for x in lines if x.get("sni") in ("blocked.example", "a.bad.example")]
assert d, "no line for a denied TLS flow"
assert all(x["code"] == "NONE_NONE" and x["status"] == 0 and x["method"] == "CONNECT" for x in d), d
print("ok: denied TLS flows are logged NONE_NONE/000 CONNECT <sni>:443 (%d)" % len(d))
for name in ("curl.example", "big.example.net"):
    assert any(x.get("sni") == name for x in lines), "no line for the replayed hello of " + name
print("ok: the replayed hellos are logged with their SNI")
PYEOF

# ---- the same through NAT REDIRECT (SO_ORIGINAL_DST), IPv4 and IPv6
tb_intercept_clear
tb_intercept_redirect 3129 443 80
conf=$(rt_conf tls-redirect <<CONF
[global]
workers = 1
[listener r4]
listen = 0.0.0.0:3129
mode = redirect
spoof = none
[listener r6]
listen = [::]:3129
mode = redirect
spoof = none
CONF
)
rt_start "$conf" 3129
out=$(tb_exec_c curl -s --max-time 5 --cacert "$W/cert.pem" \
	--resolve site.example:443:198.18.2.2 https://site.example/ 2>&1 || true)
if grep -q 'sni-ok' <<<"$out"; then echo "ok: REDIRECT IPv4, spoof none: $out"; else
	echo "FAIL: REDIRECT IPv4: $out" >&2; fails=$((fails + 1)); fi
out=$(tb_exec_c curl -s --max-time 5 --cacert "$W/cert.pem" \
	--resolve "site.example:443:[2001:2:0:2::2]" https://site.example/ 2>&1 || true)
if grep -q 'sni-ok' <<<"$out"; then echo "ok: REDIRECT IPv6, spoof none: $out"; else
	echo "FAIL: REDIRECT IPv6: $out" >&2; fails=$((fails + 1)); fi
rt_stop
tb_intercept_clear
tb_intercept_tproxy 3129 443 80

# ---- host_verify = strict applies to SNI: a name that resolves to the
# original destination passes, one that resolves elsewhere is refused
if command -v dnsmasq >/dev/null; then
	tb_spawn o dnsmasq dnsmasq --no-daemon --port=53 --listen-address=198.18.2.2 \
		--bind-interfaces --no-resolv --no-hosts --local-ttl=30 \
		--address=/site.example/198.18.2.2 --address=/www.site.example/198.18.2.3 \
		--pid-file="$W/dnsmasq.pid"
	n=0
	until tb_exec_o ss -Hlun 'sport = :53' | grep -q 198.18.2.2; do
		n=$((n + 1)); [ $n -lt 100 ] || tb_die "dnsmasq did not start"; sleep 0.05
	done
	conf=$(rt_conf tls-verify <<CONF
[global]
workers = 1
[listener t]
listen = 0.0.0.0:3129
[http]
host_verify = strict
dns_servers = 198.18.2.2
CONF
)
	rt_start "$conf" 3129
	check "host_verify strict: SNI resolving to the destination passes" tb_exec_c curl -s \
		--max-time 5 --cacert "$W/cert.pem" --resolve site.example:443:198.18.2.2 \
		https://site.example/
	denied_tls www.site.example
	# a server name that is not a valid DNS name (an empty label) cannot be
	# looked up: refused, not let through unchecked (it was); one with a
	# trailing dot is the name itself, looked up and passed
	sni_case "host_verify strict: an invalid SNI (site..example)" site..example refused
	sni_case "host_verify strict: an SNI with a trailing dot (site.example.)" site.example. passes
	rt_stop
	if grep -q '443 \[t\] closed while verifying a name against the original destination: host-mismatch' "$W/remora.log"; then
		echo "ok: the SNI mismatch is logged"
	else
		echo "FAIL: no host_verify line for the SNI mismatch" >&2
		fails=$((fails + 1))
	fi
fi
[ $fails -eq 0 ] || tb_die "$fails TLS check(s) failed"
echo PASS
