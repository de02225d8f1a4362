#!/bin/bash
# Where silence does not open a tunnel ([http] non_http = reject, or a
# `protocol = tls` listener), [timeouts] first_bytes passing hands a new
# client to [timeouts] client_header: trickling the bytes of a possible
# method (or of CR/LF noise) one by one must not win it first_bytes again
# with every byte (the header timeout would then never run out while the
# classifier's 64 bytes last). Both listeners, client_header = 2s: a client
# sending one byte of a method token every 0.7 s is closed after about 2 s
# (client-header-timeout), not kept open for as long as it trickles.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
ADMIN=127.0.0.1:9183
tb_init rt-fbt
tb_up
tb_intercept_tproxy 3129 80

cat >"$TB_WORKDIR/client.py" <<'PY'
import select, socket, time
# sends one byte of a method token every 0.7 s for up to 12 s, until the
# connection ends; prints how long it stayed open
s = socket.create_connection(("198.18.2.2", 80), timeout=15)
t0 = time.monotonic()
try:
    for i in range(17):
        s.send(b"G")
        if select.select([s], [], [], 0.7)[0] and not s.recv(1):
            break
except OSError:
    pass
print("open %.1f s" % (time.monotonic() - t0))
PY

# run NAME LISTENER-LINE HTTP-LINE: Remora with that listener; one trickling client
run()
{
	local conf out secs
	conf=$(rt_conf "$1" <<CONF
[global]
workers = 1
[listener $1]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
$2
[timeouts]
client_header = 2s
first_bytes = 300ms
[http]
$3
[admin]
listen = $ADMIN
CONF
	)
	rt_start "$conf" 3129 9183
	out=$(tb_exec_c python3 "$TB_WORKDIR/client.py")
	secs=${out#open }
	secs=${secs%% *}
	python3 -c "import sys; sys.exit(0 if float('$secs') < 6 else 1)" ||
		tb_die "$1: a trickling client stayed open $secs s (client_header = 2s)"
	echo "ok: $1: the trickling client was closed after $secs s"
	rt_assert_eq "$1: closed as client-header-timeout" \
		"$(rt_metric 'remora_closes_total{reason="client-header-timeout"}')" 1
	rt_stop
}

run reject "" "non_http = reject"
run tls "protocol = tls" ""
echo PASS
