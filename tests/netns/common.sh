# shellcheck shell=bash
# Helpers shared by Remora's netns integration tests; source after lib.sh.
# meson passes REMORA (the binary) and HAMMER (the load client) in the environment.

REMORA=${REMORA:?REMORA must name the remora binary}
HAMMER=${HAMMER:?HAMMER must name the hammer binary}
RT_PID=

# rt_sanitized: is $REMORA an ASan/UBSan/TSan build? (ldd's output is taken
# whole first: "ldd | grep -q" under pipefail fails when grep exits early and
# ldd dies of SIGPIPE)
rt_sanitized()
{
	local libs
	libs=$(ldd "$REMORA" 2>/dev/null) || true
	case $libs in
	*libasan.so* | *libtsan.so* | *libubsan.so*) return 0 ;;
	esac
	return 1
}

# rt_conf NAME: writes stdin to $TB_WORKDIR/NAME.conf and prints its path.
rt_conf()
{
	cat >"$TB_WORKDIR/$1.conf"
	echo "$TB_WORKDIR/$1.conf"
}

# rt_start CONF PORT...: checks CONF with -t, starts remora in the router
# namespace and waits for each listening PORT.
rt_start()
{
	local conf=$1 port
	shift
	"$REMORA" -t -c "$conf" >/dev/null || tb_die "remora -t rejected $conf"
	tb_spawn r remora "$REMORA" -c "$conf"
	RT_PID=$TB_LAST_PID
	for port in "$@"; do
		tb_wait_listen r "$port" 10 "$RT_PID" || {
			cat "$TB_WORKDIR/remora.log" >&2
			tb_die "remora did not listen on $port"
		}
	done
}

# rt_stop: SIGTERM, then asserts exit status 0 and no leaked descriptors.
rt_stop()
{
	local rc=0 n=0
	kill -TERM "$RT_PID"
	while kill -0 "$RT_PID" 2>/dev/null && [ $n -lt 600 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	wait "$RT_PID" || rc=$?
	rt_forget "$RT_PID"
	[ "$rc" -eq 0 ] || { cat "$TB_WORKDIR/remora.log" >&2; tb_die "remora exited with $rc"; }
	rt_expect_log 'shutdown complete: 0 descriptors leaked'
}

# rt_forget PID: drops an exited process from tb_cleanup's list.
rt_forget()
{
	local entry keep=()
	for entry in "${TB_PIDS[@]}"; do
		[ "${entry%% *}" = "$1" ] || keep+=("$entry")
	done
	TB_PIDS=("${keep[@]}")
}

# rt_expect_log ERE: remora's log must match (within 5 s).
rt_expect_log()
{
	local i
	# a close line is written when the connection ends, which may be a
	# moment after the client got its answer (LINGER): wait up to 5 s
	for i in $(seq 50); do
		grep -Eq -- "$1" "$TB_WORKDIR/remora.log" && return 0
		sleep 0.1
	done
	cat "$TB_WORKDIR/remora.log" >&2
	tb_die "remora log lacks /$1/"
}

# rt_hammer ARGS...: runs hammer in the client namespace.
rt_hammer()
{
	tb_exec_c "$HAMMER" "$@"
}

# rt_curl ARGS...: curl in the client namespace (bounded), body on stdout.
rt_curl()
{
	tb_exec_c curl -sS --max-time 5 "$@"
}

# rt_metric SERIES: its value now, from the admin listener at $ADMIN.
rt_metric()
{
	tb_exec_r curl -sS --max-time 5 "http://$ADMIN/metrics" >"$TB_WORKDIR/m.prom" ||
		tb_die "scrape failed"
	python3 "$(dirname "${BASH_SOURCE[0]}")/alog_metrics.py" get "$TB_WORKDIR/m.prom" "$1"
}

# rt_alog_bytes N: the byte count (squid format) of line N of
# $TB_WORKDIR/access.log, once that line is written.
rt_alog_bytes()
{
	local i=0
	while [ "$(wc -l <"$TB_WORKDIR/access.log" 2>/dev/null || echo 0)" -lt "$1" ]; do
		[ $i -lt 100 ] || tb_die "access log line $1 missing"
		sleep 0.05
		i=$((i + 1))
	done
	sed -n "${1}p" "$TB_WORKDIR/access.log" | awk '{print $5}'
}

# rt_assert_eq WHAT GOT WANT
rt_assert_eq()
{
	[ "$2" = "$3" ] || tb_die "$1: got '$2', want '$3'"
	echo "ok: $1"
}
