#!/bin/bash
# Remora soak: mixed traffic through Remora in the netns testbed for MINUTES
# (default 10), sampling Remora's RSS, open descriptors and /metrics counters
# every INTERVAL seconds into a CSV; then judges that RSS and descriptors
# stayed flat after warm-up (bench/soak/analyze.py) and draws them (gnuplot).
#
#   sudo bench/soak/run.sh [MINUTES] [--interval S] [--workers N] [--out DIR]
#   sudo bench/soak/run.sh --ci        # 60 s, a sample every 2 s (meson suite 'soak')
#
# Traffic, all at once, from the client namespace (198.18.1.2):
#   keep-alive  wrk, 16 connections, GET /1k from nginx (198.18.2.2:80)
#   churn       hammer loops, 4 connections, Connection: close on every request,
#               the origin's echo must name the client's own address
#   bad input   malformed requests (4xx expected) and non-HTTP bytes (tunnelled)
#   faults      4 threads cycling through the fault origin's cases (resets,
#               early closes, stalls, garbage, bad chunks, aborted uploads and
#               downloads, 64 MiB bodies), a refused port, an unreachable address
# (bench/soak/soak_traffic.py, with tests/netns/fault_origin.py as the origin).
#
# Output (DIR, default bench/soak/out/<UTC time>/): samples.csv, soak.png,
# summary.txt, the traffic results and the testbed's logs in work/.
# Exit 0: flat; 1: not flat, or traffic that must succeed failed; 77: not
# root, or wrk missing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}

minutes=10 interval=10 workers=2 out='' ci=0
while [ $# -gt 0 ]; do
	case "$1" in
	--ci) ci=1 ;;
	--interval) interval=${2:?}; shift ;;
	--workers) workers=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	-h | --help) sed -n '2,23p' "$0"; exit 0 ;;
	*[!0-9.]* | '') echo "usage: $0 [MINUTES] [--ci] [--interval S] [--workers N] [--out DIR]" >&2
		exit 2 ;;
	*) minutes=$1 ;;
	esac
	shift
done
if [ $ci = 1 ]; then
	duration=60
	interval=2
else
	duration=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
fi
[ "$duration" -ge 20 ] || { echo "soak: at least 20 s, please" >&2; exit 2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the soak needs root (network namespaces)" >&2
	exit 77
fi
for tool in wrk "$PY"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed" >&2; exit 77; }
done
REMORA=${REMORA:-$ROOT/build/remora}
HAMMER=${HAMMER:-$ROOT/build/tests/tools/hammer}
if [ ! -x "$REMORA" ] || [ ! -x "$HAMMER" ]; then
	echo "soak: build first (meson setup build && ninja -C build): $REMORA, $HAMMER" >&2
	exit 1
fi
export REMORA HAMMER
. "$ROOT/tests/netns/lib.sh"
. "$ROOT/tests/netns/common.sh"

out=${out:-$HERE/out/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tb_init rt-soak "$out/work"
tb_up
tb_intercept_tproxy 3129 80 8080 8090
tb_origin_start
tb_spawn o forigin "$PY" -u "$ROOT/tests/netns/fault_origin.py" --log /dev/null \
	--zero-file "$TB_WORKDIR/zeros"
tb_wait_listen o 8090 10 "$TB_LAST_PID" || tb_die "fault origin did not start"
ADMIN=127.0.0.1:9180
conf=$(rt_conf soak <<CONF
[global]
workers = $workers
log_level = info
[listener s]
listen = 0.0.0.0:3129
mode = tproxy
spoof = client-ip
[timeouts]
client_header = 2s
connect = 1s
response = 2s
idle = 5s
tunnel = 2s
[admin]
listen = $ADMIN
CONF
)
rt_start "$conf" 3129 9180

# ---- sampling -------------------------------------------------------------------
metrics() { tb_exec_r curl -sS --max-time 5 "http://$ADMIN/metrics"; }

# fd_counts: "total pipes others" of Remora's descriptors.
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

# sample T: one CSV row (the header first, from the first scrape's names).
CSV="$out/samples.csv"
sample()
{
	local t=$1 rss fds m
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$RT_PID/status")
	fds=$(fd_counts)
	m=$(metrics) || m=
	printf '%s\n' "$m" | awk -v t="$t" -v rss="$rss" -v fds="$fds" -v csv="$CSV" '
		function val(name) { return (name in v) ? v[name] : 0 }
		/^remora_connections_open\{/ { conns += $2 }
		/^remora_responses_total\{/ { match($1, /class="[0-9]xx"/)
			k = "rsp_" substr($1, RSTART + 7, 3); v[k] = $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
		/^remora_closes_total\{/ { match($1, /reason="[^"]+"/)
			k = "close_" substr($1, RSTART + 8, RLENGTH - 9); v[k] = $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
		/^remora_jemalloc_allocated_bytes / { alloc = $2 }
		/^remora_jemalloc_resident_bytes / { res = $2 }
		END {
			split(fds, f, " ")
			if ((getline line < csv) <= 0) {
				hdr = "t_s,rss_kb,fds,pipe_fds,other_fds,conns_open,jemalloc_allocated,jemalloc_resident"
				for (i = 1; i <= n; i++) hdr = hdr "," order[i]
				print hdr >> csv
			}
			row = t "," rss "," f[1] "," f[2] "," f[3] "," conns + 0 "," alloc + 0 "," res + 0
			for (i = 1; i <= n; i++) row = row "," val(order[i])
			print row >> csv
		}'
}

# ---- traffic ------------------------------------------------------------------------
read -r fd0_total fd0_pipes fd0_other < <(fd_counts)
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$RT_PID/status")
echo "soak: ${duration} s, a sample every ${interval} s, $workers workers; output in $out"
echo "soak: before traffic: $fd0_total descriptors ($fd0_pipes pipe ends), RSS $rss0 KiB"
: >"$CSV"
T0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) - $T0" | bc; }
deadline=$(($(date +%s) + duration))

tb_spawn c wrk wrk -t1 -c16 -d"${duration}s" --timeout 5s --latency http://198.18.2.2/1k
WRK_PID=$TB_LAST_PID
tb_spawn c traffic "$PY" "$HERE/soak_traffic.py" --seconds "$duration" --out "$out/traffic.json"
TRAFFIC_PID=$TB_LAST_PID
# churn: hammer runs until the deadline; one summary line per run
churn()
{
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if ! tb_exec_c "$HAMMER" -t 198.18.2.2:80 -p / -n 400 -c 4 -k 1 -E addr -T 60 -R 5; then
			echo "hammer run failed"
		fi
	done
}
churn >"$out/churn.out" 2>&1 &
CHURN_PID=$!

# samples at 0, interval, 2 x interval, ... while the traffic runs (the last
# one at least a second before it stops)
k=0
while :; do
	sample "$(elapsed | awk '{ printf "%.1f", $1 }')"
	k=$((k + 1))
	next=$(echo "$T0 + $k * $interval" | bc)
	if [ "$(echo "$next > $T0 + $duration - 1" | bc)" = 1 ]; then
		break
	fi
	sleep "$(echo "$next - $(date +%s.%N)" | bc | awk '{ print ($1 > 0) ? $1 : 0 }')"
done
wait "$CHURN_PID" || true
for pid in "$WRK_PID" "$TRAFFIC_PID"; do
	tb_pid_wait_gone "$pid" 300 || echo "soak: traffic process $pid still running" >&2
	wait "$pid" 2>/dev/null || true
	rt_forget "$pid"
done
cp "$TB_WORKDIR/wrk.log" "$out/wrk.out"

# ---- after the traffic: every connection ends, descriptors back where they were
n=0
while [ "$(metrics | awk '/^remora_connections_open\{/ { c += $2 } END { print c + 0 }')" != 0 ]; do
	n=$((n + 1))
	[ $n -lt 150 ] || { echo "soak: connections still open 15 s after the traffic" >&2; break; }
	sleep 0.1
done
read -r fd1_total fd1_pipes fd1_other < <(fd_counts)
rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$RT_PID/status")
echo "soak: after traffic: $fd1_total descriptors ($fd1_pipes pipe ends), RSS $rss1 KiB"
metrics >"$out/metrics.final.prom"

rc=0
"$PY" "$HERE/analyze.py" "$CSV" --workers "$workers" \
	--before "$fd0_other,$fd0_pipes,$rss0" --after "$fd1_other,$fd1_pipes,$rss1" \
	--wrk "$out/wrk.out" --churn "$out/churn.out" --traffic "$out/traffic.json" \
	--duration "$duration" --interval "$interval" | tee "$out/summary.txt" || rc=1
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot -e "csv='$CSV'; outfile='$out/soak.png'; warm=$(awk -F, 'NR > 1 { n++; t[n] = $1 } END { w = int((n + 4) / 5); print (w >= 1 && w < n) ? t[w + 1] / 60 : 0 }' "$CSV"); subtitle='$(date -u +%Y-%m-%d), ${duration} s, $workers workers'" \
		"$HERE/chart.gp" && echo "soak: chart $out/soak.png"
else
	echo "soak: gnuplot not installed: no chart" >&2
fi
rt_stop
rm -f "$TB_WORKDIR/zeros"
exit $rc
