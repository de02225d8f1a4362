# shellcheck shell=bash
# Helpers for the HTTP netns tests (http_*.sh); source after lib.sh and
# common.sh. The scripted origin (http_origin.py) runs in the origin
# namespace on :8082 (HTTP behaviours by path) and :8083 (raw echo); the
# client helper (http_client.py) runs in the client namespace.

HT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HT_PY=${PYTHON:-python3}
command -v "$HT_PY" >/dev/null 2>&1 || { echo "SKIP: $HT_PY not installed" >&2; exit 77; }

# ht_origin_start: the scripted origin; its log is $HT_OLOG.
ht_origin_start()
{
	HT_OLOG="$TB_WORKDIR/horigin.events"
	: >"$HT_OLOG"
	tb_spawn o horigin "$HT_PY" -u "$HT_DIR/http_origin.py" --log "$HT_OLOG"
	tb_wait_listen o 8082 10 "$TB_LAST_PID" || { cat "$TB_WORKDIR/horigin.log" >&2; tb_die "origin :8082"; }
	tb_wait_listen o 8083 10 "$TB_LAST_PID" || tb_die "origin :8083"
}

# ht_cl SCENARIO ARGS...: http_client.py in the client namespace.
ht_cl()
{
	tb_exec_c "$HT_PY" "$HT_DIR/http_client.py" "$1" --origin-log "$HT_OLOG" "${@:2}"
}

# ht_wait_log TEXT: waits (up to 5 s) for a remora log line containing the
# fixed string TEXT; dies with the log otherwise.
ht_wait_log()
{
	local n=0
	while ! grep -Fq -- "$1" "$TB_WORKDIR/remora.log"; do
		n=$((n + 1))
		if [ $n -ge 100 ]; then
			cat "$TB_WORKDIR/remora.log" >&2
			tb_die "remora log lacks: $1"
		fi
		sleep 0.05
	done
}

# Failures of single checks are collected, so one run reports every failing
# case; ht_finish (last line of each test) fails the test if there were any.
HT_FAILS=()
HT_NODST=()

# ht_fail WHAT: records a failed check.
ht_fail()
{
	echo "[tb ${TB_PREFIX:-?}] FAIL: $1" >&2
	HT_FAILS+=("$1")
}

# ht_check WHAT CMD...: runs CMD (stdout discarded); "ok: WHAT" or a failure.
ht_check()
{
	local what=$1
	shift
	if "$@" >/dev/null; then
		echo "ok: $what"
	else
		ht_fail "$what"
	fi
}

# ht_close_log PORT DST TEXT: waits (up to 5 s) for the close line of the
# connection from 198.18.1.2:PORT to DST (addr:port) on listener [h], ending
# in TEXT ("reading request head: bad-request: ... [400] (bare CR)"). A line
# that names the destination "?" (closed before it was looked up) is accepted
# here and recorded; ht_finish reports those. Returns 1 (and prints what was
# logged for that port) when there is no such line.
ht_close_log()
{
	local n=0 f="$TB_WORKDIR/remora.log"
	while :; do
		grep -Fq -- "198.18.1.2:$1 -> $2 [h] closed while $3" "$f" && return 0
		if grep -Fq -- "198.18.1.2:$1 -> ? [h] closed while $3" "$f"; then
			HT_NODST+=("$(grep -F -- "198.18.1.2:$1 -> ? [h]" "$f")")
			return 0
		fi
		n=$((n + 1))
		if [ $n -ge 100 ]; then
			echo "remora log lacks: 198.18.1.2:$1 -> $2 [h] closed while $3" >&2
			echo "logged for that connection:" >&2
			grep -F -- "198.18.1.2:$1 " "$f" >&2 || echo "  (nothing)" >&2
			return 1
		fi
		sleep 0.05
	done
}

# ht_error WHAT STATUS DST LOGTEXT CLIENT-ARGS...: one generated error; the
# client checks the response (http_client.py error), then Remora's close line
# for that connection must end in LOGTEXT.
ht_error()
{
	local what=$1 status=$2 dst=$3 text=$4 port
	shift 4
	if ! port=$(ht_cl error --to "$dst" --status "$status" "$@"); then
		ht_fail "$what -> $status"
	elif ! ht_close_log "$port" "$dst" "$text"; then
		ht_fail "$what -> $status: log line"
	else
		echo "ok: $what -> $status, logged"
	fi
}

# ht_origin_lacks TEXT: the origin never received a line containing TEXT.
ht_origin_lacks()
{
	if grep -Fq -- "$1" "$HT_OLOG"; then
		grep -F -- "$1" "$HT_OLOG" >&2
		ht_fail "origin received '$1'"
	else
		echo "ok: the origin never received '$1'"
	fi
}

# ht_finish: fails the test if any check failed, or if a close line checked by
# ht_close_log named the destination "?" instead of the original destination.
ht_finish()
{
	local l
	if [ ${#HT_NODST[@]} -gt 0 ]; then
		for l in "${HT_NODST[@]}"; do
			echo "  $l" >&2
		done
		ht_fail "${#HT_NODST[@]} close lines name the destination '?', not the original destination"
	fi
	[ ${#HT_FAILS[@]} -eq 0 ] && return 0
	echo "[tb ${TB_PREFIX:-?}] ${#HT_FAILS[@]} checks failed:" >&2
	for l in "${HT_FAILS[@]}"; do
		echo "  - $l" >&2
	done
	exit 1
}
