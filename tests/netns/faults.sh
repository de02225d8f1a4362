#!/bin/bash
# Fault injection. A scripted origin (fault_origin.py) refuses, resets before
# and in the middle of a response, closes early, stalls before and inside the
# head and inside the body, sends garbage and bad chunk sizes, and streams a
# 4 GiB body; clients (fault_client.py) abort uploads and downloads, trickle
# a head (slowloris), send nothing, or stop reading; one destination is
# unreachable. Each case asserts what the client got (502/504/408, a body cut
# short, or a close) and Remora's close line with its reason token.
#
# Everything shares one worker (workers = 1) with a well-behaved background
# client whose every request must succeed, with requests completed during
# every phase. The cases run FAULT_ROUNDS (3) times: with no connection open
# after each round, sockets and other non-pipe descriptors are back to the
# count before any traffic (pipe ends: the worker's pool, bounded), and RSS
# stays within 2 MiB of round 1's. A 4 GiB Content-Length body (moved by
# splice()) and a 1 GiB close-delimited one (copied) pass whole with RSS within
# +64 MiB. FAULT_SPLICE=off runs everything with splice = off.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/http_lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${FAULT_ROUNDS:-3}
BIG=$((4 << 30))	# the Content-Length body, bytes
BIG_COPY=$((1 << 30))	# the close-delimited body, bytes
RSS_SLACK_KB=$((64 << 10))	# RSS bound while the big bodies pass
RSS_REPEAT_KB=2048	# RSS growth allowed from round 1 to the last round
PIPE_POOL=64		# idle pipes a worker keeps (src/worker.c WORKER_POOL_PIPES)
# Under ASan/TSan, RSS is shadow memory and quarantine: reported, not judged.
RSS_JUDGED=1
# A head and the first body bytes before a stalled body must not stay corked
# (MSG_MORE): the worker pushes them after CONN_CORK_MS; the kernel alone would
# hold them for 200 ms.
CORK_MAX_S=0.15
if rt_sanitized; then
	RSS_JUDGED=0
	CORK_MAX_S=1
	echo "sanitizer build: RSS is reported, not judged"
fi

tb_init rt-flt
tb_up
tb_intercept_tproxy 3129 80 8080 8090
tb_origin_start
FOLOG="$TB_WORKDIR/forigin.events"
: >"$FOLOG"
tb_spawn o forigin "$HT_PY" -u "$HERE/fault_origin.py" --log "$FOLOG" \
	--zero-file "$TB_WORKDIR/zeros"
tb_wait_listen o 8090 10 "$TB_LAST_PID" || { cat "$TB_WORKDIR/forigin.log" >&2; tb_die "origin :8090"; }

# debug: the closes logged at debug level (idle-timeout, client-reset) are asserted too.
# FAULT_SPLICE=off runs the same cases with every body copied.
conf=$(rt_conf flt <<CONF
[global]
workers = 1
log_level = debug
splice = ${FAULT_SPLICE:-on}
[listener h]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip-port
[timeouts]
client_header = 1s
connect = 1s
response = 1s
idle = 2s
tunnel = 2s
[http]
# the generated 502/504/408 pages are what these cases check
upstream_errors = status
[admin]
listen = 127.0.0.1:9180
CONF
)
rt_start "$conf" 3129 9180

O=198.18.2.2:8090
RELAY='relaying request and response'
CONNECTING='connecting upstream (transparent)'
HEAD='reading request head'
TUNNEL='tunnelling bytes'

fc() { tb_exec_c "$HT_PY" "$HERE/fault_client.py" "$@"; }

# ---- measurements ----------------------------------------------------------
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$RT_PID/status"; }

# fd_counts: "total pipes others" of Remora's open descriptors.
fd_counts()
{
	local total=0 pipes=0 f t
	for f in /proc/"$RT_PID"/fd/*; do
		t=$(readlink "$f" 2>/dev/null) || continue
		total=$((total + 1))
		case "$t" in pipe:*) pipes=$((pipes + 1)) ;; esac
	done
	echo "$total $pipes $((total - pipes))"
}

metrics() { tb_exec_r curl -sS --max-time 5 http://127.0.0.1:9180/metrics; }

# open_conns: connections Remora holds (sum over workers).
open_conns()
{
	metrics | awk '/^remora_connections_open\{/ { n += $2 } END { print n + 0 }'
}

# ---- the background client ---------------------------------------------------
BG_OUT="$TB_WORKDIR/bg.out"
BG_STOP="$TB_WORKDIR/bg.stop"
BG_PAUSE="$TB_WORKDIR/bg.pause"
: >"$BG_OUT"
tb_spawn c bg "$HT_PY" "$HERE/fault_client.py" bg --to 198.18.2.2:80 --path /1k \
	--out "$BG_OUT" --stop "$BG_STOP" --pause "$BG_PAUSE" --max-seconds 200 --timeout 5
BG_PID=$TB_LAST_PID
bg_ok() { grep -c '^ok ' "$BG_OUT" || true; }

# quiesce: pauses the background client and waits until Remora holds no
# connection (lingering ones end within 2 s); then fds and RSS mean something.
quiesce()
{
	local n=0
	touch "$BG_PAUSE"
	while [ ! -e "$BG_PAUSE.ack" ]; do
		n=$((n + 1)); [ $n -lt 200 ] || tb_die "background client did not pause"
		sleep 0.05
	done
	n=0
	while [ "$(open_conns)" != 0 ]; do
		n=$((n + 1)); [ $n -lt 100 ] || tb_die "connections still open: $(open_conns)"
		sleep 0.1
	done
}
resume() { rm -f "$BG_PAUSE"; }

# phase NAME / phase_end: the background client must complete requests
# while the phase runs (phase_end waits up to 5 s for at least 5 since it began).
PHASES=()
phase()
{
	PH_NAME=$1
	PH_START=$(bg_ok)
	PH_T0=$(date +%s.%N)
	echo "--- phase: $1"
}
phase_end()
{
	local n=0 done_n
	while :; do
		done_n=$(($(bg_ok) - PH_START))
		[ "$done_n" -ge 5 ] && break
		n=$((n + 1))
		if [ $n -ge 100 ]; then
			ht_fail "background client completed only $done_n requests during phase '$PH_NAME'"
			break
		fi
		sleep 0.05
	done
	PHASES+=("$PH_NAME: $done_n background requests in $(echo "$(date +%s.%N) - $PH_T0" | bc) s")
}

# ---- the cases ----------------------------------------------------------------
# case_get WHAT DST LOGTEXT CLIENT-ARGS...: one request; the client checks the
# response; Remora's close line for that connection must end in LOGTEXT.
case_get()
{
	local what=$1 dst=$2 text=$3 port
	shift 3
	if ! port=$(fc get --to "$dst" "$@"); then
		ht_fail "$what"
	elif ! ht_close_log "$port" "$dst" "$text"; then
		ht_fail "$what: log line"
	else
		echo "ok: $what"
	fi
}

# case_client WHAT DST LOGERE SCENARIO ARGS...: a misbehaving client; the
# close line for its connection must match the extended regexp LOGERE. The
# client's local port is left in CASE_PORT.
case_client()
{
	local what=$1 dst=$2 ere=$3 port n=0
	shift 3
	CASE_PORT=
	if ! port=$(fc "$@" --to "$dst"); then
		ht_fail "$what"
		return
	fi
	CASE_PORT=$port
	while ! grep -Eq -- "198\\.18\\.1\\.2:$port -> $dst \\[h\\] closed while $ere" \
		"$TB_WORKDIR/remora.log"; do
		n=$((n + 1))
		if [ $n -ge 100 ]; then
			grep -F -- "198.18.1.2:$port " "$TB_WORKDIR/remora.log" >&2 || true
			ht_fail "$what: no close line /$ere/"
			return
		fi
		sleep 0.05
	done
	echo "ok: $what"
}

# origin_closed PORT PATH: the origin saw its connection from the client's
# port (spoof = client-ip-port) end, i.e. Remora closed the upstream leg too.
origin_closed()
{
	local n=0
	while ! grep -Eq "^close $2 conn=[0-9]+ peer=198\\.18\\.1\\.2:$1 " "$FOLOG"; do
		n=$((n + 1))
		if [ $n -ge 100 ]; then
			ht_fail "the origin's connection from port $1 ($2) was not closed"
			return
		fi
		sleep 0.05
	done
	echo "ok: upstream leg of port $1 closed too: $(grep -E "^close $2 .*peer=198\\.18\\.1\\.2:$1 " "$FOLOG")"
}

upstream_faults()
{
	case_get "refused (nothing listens on :8080) -> 502" 198.18.2.2:8080 \
		"$CONNECTING: upstream-refused: upstream refused the connection [502] (111: Connection refused)" \
		--path / --status 502
	case_get "reset before any response byte -> 502" "$O" \
		"$RELAY: upstream-reset: upstream connection reset [502] (104: Connection reset by peer)" \
		--path /reset-now --status 502
	case_get "reset in the middle of the body -> 200 cut short" "$O" \
		"$RELAY: upstream-reset: upstream connection reset [200] (104: Connection reset by peer)" \
		--path /reset-mid --truncated
	case_get "closed without answering -> 502" "$O" \
		"$RELAY: upstream-eof: upstream closed before the response was complete [502]" \
		--path /close-now --status 502
	case_get "closed early in the body -> 200 cut short" "$O" \
		"$RELAY: upstream-eof: upstream closed before the response was complete [200]" \
		--path /close-early --truncated
	case_get "garbage in the status code -> 502" "$O" \
		"$RELAY: bad-response: invalid response from upstream [502] (malformed status code)" \
		--path /garbage --status 502
	case_get "chunk-size of 21 hex digits after the head -> 200 cut short" "$O" \
		"$RELAY: bad-response: invalid response from upstream [200] (invalid chunk-size line)" \
		--path /chunk-overflow --truncated
	case_get "chunk-size -1 after the head -> 200 cut short" "$O" \
		"$RELAY: bad-response: invalid response from upstream [200] (invalid chunk-size line)" \
		--path /chunk-negative --truncated
}

# Each phase's timeout (client_header = 1s, connect = 1s, response = 1s,
# idle = 2s, tunnel = 2s) ends its connection; the cases run at once, each in a subshell
# that fails when it recorded a failure (printed there).
bg_case()
{
	local n0=${#HT_FAILS[@]}
	("$@"; [ ${#HT_FAILS[@]} -eq "$n0" ]) &
	BG_CASES+=($!)
}
slow_reader()
{
	case_client "slow reader of 256 MiB -> closed (response)" "$O" \
		"$RELAY: response-timeout: the response did not start or move on in time \\[200\\]\$" \
		slow-reader --path "/big?n=$((256 << 20))" --hold 3.5
	[ -z "$CASE_PORT" ] || origin_closed "$CASE_PORT" /big
}
timeout_faults()
{
	local p
	BG_CASES=()
	bg_case case_get "origin stalls before the head -> 504 (response)" "$O" \
		"$RELAY: response-timeout: the response did not start or move on in time [504]" \
		--path /stall-head --status 504 --min-elapsed 0.9 --max-elapsed 3
	bg_case case_get "origin stalls inside the head -> 504 (response)" "$O" \
		"$RELAY: response-timeout: the response did not start or move on in time [504]" \
		--path /stall-in-head --status 504 --min-elapsed 0.9 --max-elapsed 3
	# all that came was delivered: a pause of the origin's, waited out as a
	# quiet tunnel is ([timeouts] tunnel), not cut at [timeouts] response
	bg_case case_get "origin stalls inside the body -> closed (tunnel)" "$O" \
		"$RELAY: idle-timeout: no bytes moved within the idle timeout [200]" \
		--path /stall-body --truncated --max-elapsed "$CORK_MAX_S"
	bg_case case_get "unreachable destination 198.18.2.9 -> 504 (connect)" 198.18.2.9:80 \
		"$CONNECTING: connect-timeout: upstream connect timed out [504]" \
		--path / --status 504 --min-elapsed 0.9 --max-elapsed 3
	bg_case case_client "slowloris: one head byte every 0.2 s -> 408 (client_header)" "$O" \
		"$HEAD: client-header-timeout: client sent no complete request head in time \\[408\\]\$" \
		slowloris --min-elapsed 0.9
	# silence opens a tunnel after first_bytes (a server may speak first);
	# while nothing moves, client_header still ends it
	bg_case case_client "silent client -> closed (client_header)" "$O" \
		"$TUNNEL: client-header-timeout: client sent no complete request head in time\$" \
		none --min-elapsed 0.9
	bg_case slow_reader
	for p in "${BG_CASES[@]}"; do
		wait "$p" || ht_fail "a timeout case failed (see above)"
	done
}

client_faults()
{
	case_client "client resets mid-upload (512 KiB of 1 MiB)" "$O" \
		"$RELAY: client-reset: client connection reset \\(104: Connection reset by peer\\)\$" \
		upload-abort --cl $((1 << 20)) --send $((1 << 19)) --how rst
	[ -z "$CASE_PORT" ] || origin_closed "$CASE_PORT" /upload
	case_client "client half-closes mid-upload (512 KiB of 1 MiB)" "$O" \
		"$RELAY: client-eof: client closed in the middle of a request\$" \
		upload-abort --cl $((1 << 20)) --send $((1 << 19)) --how fin
	[ -z "$CASE_PORT" ] || origin_closed "$CASE_PORT" /upload
	case_client "client resets mid-download (8 MiB of a 1 GiB Content-Length body)" "$O" \
		"$RELAY: client-reset: client connection reset \\[200\\] \\((104: Connection reset by peer|32: Broken pipe)\\)\$" \
		download-abort --path "/big?n=$((1 << 30))" --read $((8 << 20))
	[ -z "$CASE_PORT" ] || origin_closed "$CASE_PORT" /big
	case_client "client resets mid-download (8 MiB of a 256 MiB close-delimited body)" "$O" \
		"$RELAY: client-reset: client connection reset \\[200\\] \\((104: Connection reset by peer|32: Broken pipe)\\)\$" \
		download-abort --path "/close-big?n=$((256 << 20))" --read $((8 << 20))
	[ -z "$CASE_PORT" ] || origin_closed "$CASE_PORT" /close-big
}

# big_body WHAT PATH [BYTES]: downloads PATH through Remora while sampling its
# RSS every 0.1 s; the peak must stay within RSS_SLACK_KB of the RSS before.
big_body()
{
	local what=$1 path=$2 bytes=${3:-0} rss0 peak=0 r pid port rc=0 pf
	pf="$TB_WORKDIR/big.$RANDOM.port"
	rss0=$(rss_kb)
	fc big --to "$O" --path "$path" --bytes "$bytes" --timeout 20 >"$pf" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		r=$(rss_kb)
		[ "$r" -gt "$peak" ] && peak=$r
		sleep 0.1
	done
	wait "$pid" || rc=1
	port=$(cat "$pf")
	echo "$what: RSS before ${rss0} KiB, peak ${peak} KiB (+$((peak - rss0)) KiB)"
	if [ $rc -ne 0 ]; then
		grep -F -- "198.18.1.2:$port " "$TB_WORKDIR/remora.log" | grep closed >&2 || true
		ht_fail "$what: not received whole"
	elif [ $RSS_JUDGED = 1 ] && [ $((peak - rss0)) -gt $RSS_SLACK_KB ]; then
		ht_fail "$what: RSS grew by $((peak - rss0)) KiB (bound $RSS_SLACK_KB KiB)"
	elif ! ht_close_log "$port" "$O" "$RELAY: done: finished"; then
		ht_fail "$what: no 'done' close line"
	else
		echo "ok: $what passed whole, RSS +$((peak - rss0)) KiB"
	fi
}

# ---- run -------------------------------------------------------------------------
read -r fd0_total fd0_pipes fd0_other < <(fd_counts)
rss_start=$(rss_kb)
echo "before any traffic: $fd0_total fds ($fd0_pipes pipe ends), RSS $rss_start KiB:"
ls -l "/proc/$RT_PID/fd" | awk 'NR > 1 { print "  " $(NF-2), $(NF-1), $NF }'
MEAS=()
t_start=$(date +%s)
for round in $(seq 1 "$ROUNDS"); do
	echo "=== round $round of $ROUNDS"
	phase "upstream faults, round $round"
	upstream_faults
	phase_end
	phase "timeouts, round $round"
	timeout_faults
	phase_end
	phase "client aborts, round $round"
	client_faults
	phase_end
	if [ "$round" = 1 ]; then
		phase "4 GiB Content-Length body"
		big_body "4 GiB Content-Length body" "/big?n=$BIG"
		phase_end
		phase "1 GiB close-delimited body"
		big_body "1 GiB close-delimited body" "/close-big?n=$BIG_COPY" "$BIG_COPY"
		phase_end
	fi
	quiesce
	read -r t p o < <(fd_counts)
	r=$(rss_kb)
	MEAS+=("$round $t $p $o $r")
	echo "after round $round (no connection open): $t fds ($p pipe ends, $o others), RSS $r KiB"
	resume
done
touch "$BG_STOP"
wait "$BG_PID" 2>/dev/null || true
rt_forget "$BG_PID"
echo "fault rounds took $(($(date +%s) - t_start)) s"

# ---- verdicts ------------------------------------------------------------------
for l in "${PHASES[@]}"; do
	echo "  $l"
done
fails=$(grep -c '^fail ' "$BG_OUT" || true)
oks=$(bg_ok)
if [ "$fails" -ne 0 ]; then
	grep '^fail ' "$BG_OUT" | head -5 >&2
	ht_fail "background client: $fails of $((oks + fails)) requests failed"
else
	echo "ok: background client: all $oks requests succeeded"
fi
# every round: sockets and other non-pipe descriptors back to the count
# before any traffic; pipe ends are the pooled pipes (an even number, at most
# PIPE_POOL pipes); RSS no more than RSS_REPEAT_KB above round 1's
read -r _ _ _ _ rss1 <<<"${MEAS[0]}"
fd_ok=1 rss_max=0 pipes_seen=
for m in "${MEAS[@]}"; do
	read -r r t p o rss <<<"$m"
	pipes_seen="$pipes_seen $p"
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	if [ "$o" -ne "$fd0_other" ]; then
		fd_ok=0
		ht_fail "round $r: $o non-pipe descriptors with no connection open, $fd0_other before any traffic"
	fi
	if [ $((p - fd0_pipes)) -lt 0 ] || [ $((p - fd0_pipes)) -gt $((2 * PIPE_POOL)) ] ||
		[ $(((p - fd0_pipes) % 2)) -ne 0 ]; then
		fd_ok=0
		ht_fail "round $r: $p pipe ends ($fd0_pipes before any traffic; pool of $PIPE_POOL pipes)"
	fi
done
if [ $fd_ok = 1 ]; then
	echo "ok: no descriptor leaked: $fd0_other non-pipe descriptors after every round;" \
		"pipe ends$pipes_seen ($fd0_pipes before traffic, the rest pooled pipes)"
else
	ls -l "/proc/$RT_PID/fd" >&2
fi
if [ $RSS_JUDGED = 0 ]; then
	echo "RSS (sanitizer build, not judged): $rss1 KiB after round 1, at most $rss_max KiB after"
elif [ $((rss_max - rss1)) -gt $RSS_REPEAT_KB ]; then
	ht_fail "RSS grew by $((rss_max - rss1)) KiB after round 1 (bound $RSS_REPEAT_KB KiB)"
else
	echo "ok: RSS stable across rounds: $rss1 KiB after round 1, at most $rss_max KiB after" \
		"rounds 2..$ROUNDS (bound +$RSS_REPEAT_KB KiB)"
fi
echo "close reasons:"
metrics | grep '^remora_closes_total' | grep -v ' 0$' | sed 's/^/  /'
rt_stop
ht_finish
