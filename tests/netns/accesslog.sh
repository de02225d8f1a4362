#!/bin/bash
# Access log, parsed back field by field. For each format (squid, json): a
# known set of requests (keep-alive GETs with query strings, a Host naming
# another server, HEAD, POST with a body, a large body, a refused upstream
# (502), a malformed head (400), an absolute-form target, HTTP/1.0 without
# Host, Content-Types with and without parameters, a non-HTTP tunnel), then
# Remora is stopped and alog_check.py matches every line to its request:
# one line per request, exact byte counts, no query strings.
# Then SIGUSR1 reopen under load: hammer runs a fixed number of requests
# while the log is renamed and reopened several times (as logrotate does);
# the rotated files plus the current one hold exactly one complete line per
# request, and Remora's summary says so with 0 dropped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || { echo "SKIP: $PY not installed" >&2; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
WORKERS=2
tb_init rt-al
tb_up
tb_intercept_tproxy 3129 80 8080 8081 8085
tb_origin_start
tb_spawn o alog-origin "$PY" -u "$HERE/alog_origin.py" 8085
tb_wait_listen o 8085 10 "$TB_LAST_PID" || tb_die "alog_origin.py did not listen on :8085"
fails=0

# alog_conf FORMAT PATH: a configuration with the access log on.
alog_conf()
{
	rt_conf "al-$1" <<CONF
[global]
workers = $WORKERS
access_log = $2
access_log_format = $1
[listener al]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
connect = 2s
[http]
# the generated 502/504 pages are what these tests log and count
upstream_errors = status
CONF
}

# summary_lines: "LINES DROPPED WRITE-ERRORS" from Remora's exit summary.
summary_lines()
{
	sed -nE 's/.*access_log: ([0-9]+) lines, ([0-9]+) dropped.*, ([0-9]+) write errors.*/\1 \2 \3/p' \
		"$TB_WORKDIR/remora.log" | tail -n 1
}

for fmt in squid json; do
	log="$TB_WORKDIR/access-$fmt.log"
	rt_start "$(alog_conf "$fmt" "$log")" 3129
	rc=0
	tb_exec_c "$PY" "$HERE/alog_client.py" known --out "$TB_WORKDIR/known-$fmt.json" || rc=$?
	[ "$rc" -le 1 ] || tb_die "$fmt: the known requests did not get their responses"
	if [ "$rc" -ne 0 ]; then
		echo "[tb rt-al] FAIL: $fmt: client-side checks failed (above)" >&2
		fails=$((fails + 1))
	fi
	n=$(wc -l <"$TB_WORKDIR/known-$fmt.json")
	rt_stop
	echo "--- $fmt access log:"
	cat "$log"
	if "$PY" "$HERE/alog_check.py" known --format "$fmt" --expect "$TB_WORKDIR/known-$fmt.json" \
		--log "$log" --workers "$WORKERS"; then
		echo "ok: $fmt: every line parsed back and matched its request"
	else
		echo "[tb rt-al] FAIL: $fmt: access log lines differ from the requests (above)" >&2
		fails=$((fails + 1))
	fi
	if [ "$(summary_lines)" = "$n 0 0" ]; then
		echo "ok: $fmt: exit summary: $n lines, 0 dropped, 0 write errors"
	else
		echo "[tb rt-al] FAIL: $fmt: exit summary says '$(summary_lines)' (lines dropped write-errors), want '$n 0 0'" >&2
		fails=$((fails + 1))
	fi
done

# ---- SIGUSR1 reopen under load
TOTAL=20000
ROTATIONS=8
log="$TB_WORKDIR/rotate.log"
rt_start "$(alog_conf squid "$log")" 3129
tb_spawn c hammer "$HAMMER" -t 198.18.2.2:80 -p /1k -n "$TOTAL" -c 20 -k 100 -T 30
hpid=$TB_LAST_PID
during=0
for i in $(seq 1 "$ROTATIONS"); do
	# logrotate's way: rename, then ask for a reopen; wait until it happened
	mv "$log" "$log.$i"
	kill -USR1 "$RT_PID"
	n=0
	until [ "$(grep -c 'access_log: reopened' "$TB_WORKDIR/remora.log" || true)" -ge "$i" ]; do
		n=$((n + 1))
		[ $n -lt 100 ] || tb_die "reopen $i not logged"
		sleep 0.02
	done
	[ -f "$log" ] || tb_die "reopen $i did not create $log"
	if kill -0 "$hpid" 2>/dev/null; then during=$((during + 1)); fi
	sleep 0.05 # let lines reach the new file before the next rotation
done
wait "$hpid" || { cat "$TB_WORKDIR/hammer.log" >&2; tb_die "hammer failed"; }
rt_forget "$hpid"
cat "$TB_WORKDIR/hammer.log"
grep -q "ok=$TOTAL failed=0" "$TB_WORKDIR/hammer.log" || tb_die "hammer: not all $TOTAL requests ok"
[ "$during" -ge 3 ] || tb_die "only $during reopens happened while the load ran (too fast?)"
rt_stop
files=("$log")
nonempty=0
for i in $(seq 1 "$ROTATIONS"); do
	files+=("$log.$i")
	if [ -s "$log.$i" ]; then nonempty=$((nonempty + 1)); fi
done
wc -l "${files[@]}"
echo "ok: $during of $ROTATIONS reopens happened under load; $nonempty rotated files hold lines"
[ "$nonempty" -ge 3 ] || tb_die "only $nonempty rotated files hold lines: reopen did not switch files"
if lines=$("$PY" "$HERE/alog_check.py" lines --format squid --url http://198.18.2.2/1k --status 200 --min-bytes 1041 \
	"${files[@]}"); then
	echo "ok: every line of the rotated files is complete and well-formed"
else
	echo "[tb rt-al] FAIL: malformed lines after reopens (above)" >&2
	fails=$((fails + 1))
fi
if [ "${lines:-}" = "$TOTAL" ]; then
	echo "ok: $TOTAL requests, $lines lines over $((ROTATIONS + 1)) files: none lost"
else
	echo "[tb rt-al] FAIL: $TOTAL requests but ${lines:-?} lines over the files" >&2
	fails=$((fails + 1))
fi
if [ "$(summary_lines)" = "$TOTAL 0 0" ]; then
	echo "ok: exit summary: $TOTAL lines, 0 dropped, 0 write errors"
else
	echo "[tb rt-al] FAIL: exit summary says '$(summary_lines)' (lines dropped write-errors), want '$TOTAL 0 0'" >&2
	fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] || tb_die "$fails access-log checks failed"
echo "ok: access log"
