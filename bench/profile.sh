#!/usr/bin/env bash
#
# Where the proxy's CPU goes, per request: Remora (1 worker) and HAProxy (1
# thread) on the same testbed, pinning and scenarios as bench/run.sh.  The
# "Profile notes" of docs/benchmarks.md come from this script's output.
#
#   sudo bench/profile.sh [-d SECONDS] [-s "remora haproxy"] [-S "a b c"] [-k WORKDIR]
#                         [--callgrind]
#
# For every subject and scenario, each with a freshly started proxy:
#   1. user vs kernel CPU per request (/proc/PID/stat), one wrk run with
#      nothing attached;
#   2. system calls per request (perf stat on raw_syscalls:sys_enter and the
#      data-path syscalls:sys_enter_* tracepoints), a second wrk run;
#   3. a cpu-clock sampling profile (perf record -g) of a third wrk run: the
#      top symbols, user space and kernel together, the proxy's and the
#      origin's (nginx) apart;
#   4. with --callgrind, scenario (a) only: user-space instructions per
#      request under valgrind --tool=callgrind (slow but exact and stable on a
#      noisy machine; no hardware counters are needed).
# Output: WORKDIR/profile.txt (summary) and per-run files beside it.
# Exit: 0 ok, 1 failure, 77 not root.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
DURATION=10
SUBJECTS="remora haproxy"
SCENARIOS="a b c"
WORK=
CALLGRIND=0
CONNS=50
WARMUP=2

while [ $# -gt 0 ]; do
	case "$1" in
	-d | --duration) DURATION=$2; shift ;;
	-s | --subjects) SUBJECTS=$2; shift ;;
	-S | --scenarios) SCENARIOS=$2; shift ;;
	-k | --work) WORK=$2; shift ;;
	--callgrind) CALLGRIND=1 ;;
	-h | --help) sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
	*) echo "profile: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: profiling needs root" >&2
	exit 77
fi
for t in perf wrk haproxy; do
	command -v "$t" >/dev/null 2>&1 || { echo "profile: $t is missing" >&2; exit 1; }
done
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
	echo "profile: valgrind is missing (apt-get install valgrind)" >&2
	exit 1
fi
if [ -z "${REMORA:-}" ]; then
	ninja -C "$ROOT/build" remora >/dev/null
	REMORA=$ROOT/build/remora
fi
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/remora-profile.XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
IDLE_CONNS=/bin/false # not used here
ORIGIN_PROFILE=default # bench/run.sh -O: the origin as run.sh starts it by default
RESULTS=/dev/null
NCPU=$(nproc)
PIN_PROXY=0
PIN_LOAD=$((NCPU > 1 ? 1 : 0))
PIN_ALL=0-$((NCPU - 1))
CLK_TCK=$(getconf CLK_TCK)
BENCH_ROOT_PID=$$
QUIET_PCT=${QUIET_PCT:-5}
QUIET_MAX=${QUIET_MAX:-1800}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# shellcheck source=tests/netns/lib.sh
. "$ROOT/tests/netns/lib.sh"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

# The system calls a proxy makes on its data path, and the total. (Enabling all
# ~350 syscall tracepoints slows a proxy several-fold; these few cost little.)
SYSCALL_EVENTS=raw_syscalls:sys_enter
for sc in read write readv writev recvfrom sendto recvmsg sendmsg splice pipe2 \
	epoll_wait epoll_pwait epoll_ctl accept4 connect socket close shutdown \
	setsockopt getsockopt getsockname bind fcntl ioctl futex clock_gettime; do
	SYSCALL_EVENTS+=",syscalls:sys_enter_$sc"
done

SUMMARY=$WORK/profile.txt
: >"$SUMMARY"
say()
{
	echo "$*" | tee -a "$SUMMARY"
}

# Prints "name count" for the non-zero syscall tracepoints of a perf stat -x, file.
syscalls_of()
{
	awk -F, '$3 ~ /^syscalls:sys_enter_/ && $1 ~ /^[0-9]+$/ && $1 > 0 {
		sub("syscalls:sys_enter_", "", $3); print $3, $1 }' "$1" | sort -k2,2nr
}

# Prints "in out" TCP segments of namespace $1 (/proc/net/snmp, Tcp: InSegs OutSegs).
ns_segs()
{
	ip netns exec "$1" awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ { print $11, $12 }' /proc/net/snmp
}

# Prints "rx tx" packets of namespace $1's interfaces (lo excluded): what the
# links carried, a GSO/GRO aggregate counting once (each costs a pass through
# the stack, whatever its size).
ns_pkts()
{
	ip netns exec "$1" awk -F'[: ]+' 'NR > 2 && $2 != "lo" { rx += $4; tx += $12 }
		END { print rx + 0, tx + 0 }' /proc/net/dev
}

# Prints "ticks switches" of the origin's nginx processes (utime + stime,
# voluntary + involuntary context switches): what a request costs the origin.
origin_cost()
{
	local p t=0 x=0 v
	for p in $(ip netns pids "$TB_O"); do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + v))
		v=$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$p/status" 2>/dev/null) ||
			continue
		x=$((x + v))
	done
	echo "$t $x"
}

# Prints the proxy's voluntary context switches (all its threads): how often
# it went to sleep, each sleep a wake-up paid later by whoever wakes it.
proxy_sleeps()
{
	cat /proc/"$PROXY_PID"/task/*/status 2>/dev/null |
		awk '$1 == "voluntary_ctxt_switches:" { s += $2 } END { print s + 0 }'
}

# Prints the raw_syscalls:sys_enter count (all system calls) of a perf stat -x, file.
syscalls_total()
{
	awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 + 0 }' "$1"
}

profile_one()
{
	local subj=$1 scen=$2 tag out t0 t1 req perf_pid sreq
	tag=prof-$scen
	bench_wait_quiet
	bench_proxy_start "$subj" 1 "$tag"
	bench_check_path
	bench_wrk "$WARMUP" "$scen" "$TB_WORKDIR/wrk-$tag-warmup.txt"

	# 1. user vs kernel CPU per request, nothing attached to the proxy
	out=$TB_WORKDIR/wrk-$tag-clean.txt
	local c0 c1 o0 o1 g0 g1
	c0=$(ns_segs "$TB_C") o0=$(ns_segs "$TB_O") g0=$(origin_cost)
	local l0 l1
	l0="$(ns_pkts "$TB_C") $(ns_pkts "$TB_O")"
	local z0 z1
	t0=$(bench_proxy_ticks) z0=$(proxy_sleeps)
	bench_wrk "$DURATION" "$scen" "$out"
	t1=$(bench_proxy_ticks) z1=$(proxy_sleeps)
	c1=$(ns_segs "$TB_C") o1=$(ns_segs "$TB_O") g1=$(origin_cost)
	l1="$(ns_pkts "$TB_C") $(ns_pkts "$TB_O")"
	req=$(bench_field "$out" requests)
	# shellcheck disable=SC2086
	set -- $t0 $t1
	say ""
	say "== $subj, scenario $scen: $req requests in ${DURATION} s ($((req / DURATION)) req/s)"
	awk -v u=$(($3 - $1)) -v s=$(($4 - $2)) -v n="$req" -v hz="$CLK_TCK" 'BEGIN {
		printf "cpu per request: %.1f us user + %.1f us kernel = %.1f us (%.0f%% kernel)\n",
			u * 1e6 / hz / n, s * 1e6 / hz / n, (u + s) * 1e6 / hz / n,
			(u + s) ? 100 * s / (u + s) : 0 }' | tee -a "$SUMMARY"
	# packets per request on the client's and the origin's side, and the
	# origin's own cost (a proxy that makes the origin or the load generator
	# work harder costs throughput where they are the bottleneck)
	# shellcheck disable=SC2086
	set -- $c0 $c1 $o0 $o1 $g0 $g1
	awk -v n="$req" -v hz="$CLK_TCK" -v ci=$(($3 - $1)) -v co=$(($4 - $2)) \
		-v oi=$(($7 - $5)) -v oo=$(($8 - $6)) -v ot=$((${11} - $9)) -v ox=$((${12} - ${10})) 'BEGIN {
		printf "packets per request: client in %.2f out %.2f, origin in %.2f out %.2f\n",
			ci / n, co / n, oi / n, oo / n
		printf "origin per request: %.1f us CPU, %.2f context switches\n",
			ot * 1e6 / hz / n, ox / n }' | tee -a "$SUMMARY"
	# shellcheck disable=SC2086
	set -- $l0 $l1
	awk -v n="$req" -v ci=$(($5 - $1)) -v co=$(($6 - $2)) -v oi=$(($7 - $3)) -v oo=$(($8 - $4)) 'BEGIN {
		printf "link packets per request (GSO/GRO aggregates count once): client rx %.2f tx %.2f, origin rx %.2f tx %.2f\n",
			ci / n, co / n, oi / n, oo / n }' | tee -a "$SUMMARY"
	awk -v n="$req" -v z=$((z1 - z0)) 'BEGIN {
		printf "proxy sleeps per request: %.2f\n", z / n }' | tee -a "$SUMMARY"

	# 2. system calls per request (perf slows the proxy down; counts stay right)
	out=$TB_WORKDIR/wrk-$tag-stat.txt
	perf stat -x, -e "$SYSCALL_EVENTS" -p "$PROXY_PID" -o "$WORK/$subj-$scen.perfstat" &
	perf_pid=$!
	sleep 0.5
	bench_wrk "$DURATION" "$scen" "$out"
	kill -INT "$perf_pid"
	wait "$perf_pid" || true
	sreq=$(bench_field "$out" requests)
	syscalls_of "$WORK/$subj-$scen.perfstat" | awk -v n="$sreq" \
		-v tot="$(syscalls_total "$WORK/$subj-$scen.perfstat")" '
		{ line[NR] = sprintf("  %-16s %7.2f", $1, $2 / n) }
		END { printf "syscalls per request: %.2f\n", tot / n;
		      for (i = 1; i <= NR && i <= 12; i++) print line[i] }' | tee -a "$SUMMARY"

	# 3. sampling profile, user space and kernel together; the origin's
	# nginx processes are sampled beside it (where a request costs the
	# origin more behind one proxy than behind the other)
	local origin_pid
	perf record -q -e cpu-clock -F 2000 -g -p "$PROXY_PID" -o "$WORK/$subj-$scen.perf.data" \
		>/dev/null 2>&1 &
	perf_pid=$!
	perf record -q -e cpu-clock -F 2000 -g -p "$(ip netns pids "$TB_O" | paste -sd,)" \
		-o "$WORK/$subj-$scen.origin.perf.data" >/dev/null 2>&1 &
	origin_pid=$!
	sleep 0.5
	bench_wrk "$DURATION" "$scen" "$TB_WORKDIR/wrk-$tag-rec.txt"
	kill -INT "$perf_pid" "$origin_pid"
	wait "$perf_pid" || true
	wait "$origin_pid" || true
	perf report -i "$WORK/$subj-$scen.origin.perf.data" --stdio --no-children -g none \
		--sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -n 25 \
		>"$WORK/$subj-$scen.origin.sym.txt" || true
	perf report -i "$WORK/$subj-$scen.perf.data" --stdio --no-children -g none --sort dso \
		2>/dev/null | grep -E '^ +[0-9]' | head -n 6 >"$WORK/$subj-$scen.dso.txt" || true
	perf report -i "$WORK/$subj-$scen.perf.data" --stdio --no-children -g none \
		--sort sym 2>/dev/null | grep -E '^ +[0-9]' | head -n 25 >"$WORK/$subj-$scen.sym.txt" ||
		true
	say "samples by object:"
	sed 's/^/  /' "$WORK/$subj-$scen.dso.txt" | tee -a "$SUMMARY"
	say "top symbols:"
	head -n 15 "$WORK/$subj-$scen.sym.txt" | sed 's/^/  /' | tee -a "$SUMMARY"
	say "the origin's top symbols:"
	head -n 12 "$WORK/$subj-$scen.origin.sym.txt" | sed 's/^/  /' | tee -a "$SUMMARY"
	bench_proxy_stop "$subj"
}

# Instructions per request in user space, scenario (a), under callgrind.
callgrind_one()
{
	local subj=$1 conf out cg req ir v f
	out=$TB_WORKDIR/wrk-callgrind.txt
	cg=$WORK/$subj.callgrind
	case "$subj" in
	remora)
		conf=$TB_WORKDIR/remora-w1.conf
		sed -e "s|@WORKERS@|1|g" -e "s|@ACCESS_LOG@|off|g" "$BENCH_DIR/conf/remora.conf.in" >"$conf"
		tb_spawn r remora-cg taskset -c "$PIN_PROXY" valgrind --tool=callgrind \
			--instr-atstart=no --callgrind-out-file="$cg" "$REMORA" -c "$conf"
		;;
	haproxy)
		conf=$TB_WORKDIR/haproxy-t1.cfg
		sed -e "s|@THREADS@|1|g" "$BENCH_DIR/conf/haproxy.cfg.in" >"$conf"
		tb_spawn r haproxy-cg taskset -c "$PIN_PROXY" valgrind --tool=callgrind \
			--instr-atstart=no --callgrind-out-file="$cg" haproxy -db -f "$conf"
		;;
	*) return 0 ;;
	esac
	PROXY_PID=$TB_LAST_PID
	tb_wait_listen r "$BENCH_PORT" 60 "$PROXY_PID" || bench_die "$subj under valgrind"
	bench_wait_quiet # instruction counts do not care, but wrk's request count does
	bench_check_path
	bench_wrk 2 a "$TB_WORKDIR/wrk-cg-warmup.txt"
	callgrind_control -i on "$PROXY_PID" >/dev/null
	bench_wrk "$DURATION" a "$out"
	callgrind_control -i off "$PROXY_PID" >/dev/null
	callgrind_control -d "$PROXY_PID" >/dev/null
	sleep 1
	tb_kill "$PROXY_PID"
	PROXY_PID=
	req=$(bench_field "$out" requests)
	ir=0
	for f in "$cg"*; do
		v=$(callgrind_annotate "$f" 2>/dev/null |
			awk '/PROGRAM TOTALS/ && !n++ { gsub(",", "", $1); print $1 + 0 }')
		ir=$((ir + ${v:-0}))
	done
	say ""
	say "== $subj under callgrind, scenario a: $req requests, $ir instructions (user space)" \
		"= $((ir / (req > 0 ? req : 1))) instructions per request"
	# shellcheck disable=SC2012 # our own file names: the largest part holds the dump
	callgrind_annotate --inclusive=no "$(ls -S "$cg"* | head -n 1)" 2>/dev/null |
		sed -e 's|[^ ]*/src/|src/|' -e 's| \[[^]]*\]$||' |
		grep -E '^ *[0-9,]+ .*[:(]' | head -n 15 | sed 's/^/  /' | tee -a "$SUMMARY" || true
}

for SUBJ in $SUBJECTS; do
	bench_testbed "$SUBJ"
	for scen in $SCENARIOS; do
		profile_one "$SUBJ" "$scen"
	done
	if [ "$CALLGRIND" = 1 ]; then
		callgrind_one "$SUBJ"
	fi
	tb_cleanup
done
trap - EXIT
echo "profile: summary in $SUMMARY" >&2
