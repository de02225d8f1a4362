#!/usr/bin/env bash
#
# Remora benchmark: the same wrk scenarios against no proxy (routing only),
# Remora, HAProxy and Squid, each on its own network-namespace testbed
# (tests/netns/lib.sh), side by side: each repeat of a scenario measures
# every subject in turn (interleaved).  See docs/benchmarks.md.
#
#   sudo bench/run.sh              full run (about 15 minutes on 2 cores);
#                                  rewrites the results block of
#                                  docs/benchmarks.md and docs/benchmarks.png
#   sudo bench/run.sh --smoke      harness check (~1 minute): every subject and
#                                  scenario with tiny durations; asserts sane
#                                  rows; writes nothing outside the work dir
#
# Options:
#   -d, --duration S     seconds per measurement (default 10; smoke 1)
#   -r, --repeats N      measurements per cell, the median is reported (default 3)
#   -w, --warmup S       unmeasured wrk run before each measurement (default 2)
#   -n, --idle N         idle connections in scenarios (d) and (f) (default 5000)
#   -P, --pace RATE      scenario (p): Connection: close at 25/50/75 % of RATE
#                        requests/s (default 8000)
#   -Q, --pace-ka RATE   scenario (q): keep-alive 64 KiB at 50/75 % of RATE
#                        requests/s in total (default 4000)
#   -O, --origin PROFILE the origin nginx (port 80): "default" (2 workers, no
#                        access log, sendfile) or "heavy" (1 worker, access
#                        log on, sendfile off: the origin is the bottleneck)
#   -s, --subjects LIST  subset of "none remora haproxy squid"
#   -S, --scenarios LIST subset of "a b c d e f p q g h i j"
#   -o, --out FILE       results document (default docs/benchmarks.md; "-" = none)
#   -k, --work DIR       work directory (default: a new /tmp/remora-bench.XXXXXX)
# Environment: REMORA (binary; default build/remora, built with ninja first),
#   REMORA_COMMIT (what to call that binary in the report: default the
#   commit of build/remora, or the path of REMORA), IDLE_CONNS (binary;
#   default compiled from bench/idle_conns.c with cc).
#
# Scenarios: a keep-alive 1 KiB, 50 connections; b Connection: close 1 KiB,
# 50 connections; c keep-alive 64 KiB, 50 connections; d IDLE_N idle keep-alive
# connections (RSS per connection); e = a, b, c with 2 workers (Remora,
# HAProxy); f = d as a burst (all IDLE_N connections up, then every request
# at once; RSS 10 s later, peak beside); p = b paced with h2load at 25/50/75 %
# of PACE_RATE (Remora, HAProxy: CPU per connection below saturation);
# q = c paced with h2load at 50/75 % of PACE_KA_RATE requests/s in total over
# the 50 connections (Remora, HAProxy: p99 at the same request rate);
# HTTPS through port 443 (none, Remora, HAProxy; not Squid): g a new TLS
# connection per request (Connection: close), h keep-alive 1 KiB, i
# keep-alive 64 KiB; j = g for Remora with a deny list of DENY_N names
# (default 1000000, none matching the SNI).  Exit: 0 ok, 1 failure (a subject
# failed to start, was bypassed, or produced no sane numbers), 77 not root.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")

SMOKE=0
DURATION=10
REPEATS=3
WARMUP=2
IDLE_N=5000
CONNS=50
SUBJECTS="none remora haproxy squid"
SCENARIOS="a b c d e f p q g h i j"
DENY_N=${DENY_N:-1000000}
PACE_RATE=8000
PACE_KA_RATE=4000
ORIGIN_PROFILE=default
OUT=$ROOT/docs/benchmarks.md
WORK=
opt_d='' opt_r='' opt_w='' opt_n='' opt_o=''

usage()
{
	sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) SMOKE=1 ;;
	-d | --duration) opt_d=$2; shift ;;
	-r | --repeats) opt_r=$2; shift ;;
	-w | --warmup) opt_w=$2; shift ;;
	-n | --idle) opt_n=$2; shift ;;
	-P | --pace) PACE_RATE=$2; shift ;;
	-Q | --pace-ka) PACE_KA_RATE=$2; shift ;;
	-O | --origin) ORIGIN_PROFILE=$2; shift ;;
	-s | --subjects) SUBJECTS=$2; shift ;;
	-S | --scenarios) SCENARIOS=$2; shift ;;
	-o | --out) opt_o=$2; shift ;;
	-k | --work) WORK=$2; shift ;;
	-h | --help) usage ;;
	*) echo "bench: unknown option $1" >&2; usage ;;
	esac
	shift
done
if [ "$SMOKE" = 1 ]; then
	DURATION=1 REPEATS=1 WARMUP=0 IDLE_N=200 OUT=- PACE_RATE=400 PACE_KA_RATE=200
fi
case "$ORIGIN_PROFILE" in
default | heavy) ;;
*) echo "bench: unknown origin profile $ORIGIN_PROFILE" >&2; usage ;;
esac
DURATION=${opt_d:-$DURATION}
REPEATS=${opt_r:-$REPEATS}
WARMUP=${opt_w:-$WARMUP}
IDLE_N=${opt_n:-$IDLE_N}
OUT=${opt_o:-$OUT}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the benchmark needs root (network namespaces, nft, TPROXY)" >&2
	exit 77
fi

# ---- packages: install what is missing ---------------------------------------
need=()
for t in wrk h2load haproxy squid nginx nft ip ss curl taskset python3 cc openssl; do
	command -v "$t" >/dev/null 2>&1 || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: missing ${need[*]}: running scripts/deps.sh" >&2
	bash "$ROOT/scripts/deps.sh"
fi
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "bench: installing gnuplot-nox for the chart" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends gnuplot-nox >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  apt-get install -y -q --no-install-recommends gnuplot-nox >/dev/null 2>&1; } ||
		[ "$SMOKE" = 1 ] || { echo "bench: cannot install gnuplot-nox" >&2; exit 1; }
fi

# ---- binaries ----------------------------------------------------------------
if [ -z "${REMORA:-}" ]; then
	if [ ! -f "$ROOT/build/build.ninja" ]; then
		meson setup "$ROOT/build" >/dev/null
	fi
	ninja -C "$ROOT/build" remora >/dev/null
	REMORA=$ROOT/build/remora
	# which source was measured: the commit, "+dirty" with local changes in src/
	REMORA_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
	git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || REMORA_COMMIT+=+dirty
fi
REMORA_COMMIT=${REMORA_COMMIT:-$REMORA}
[ -x "$REMORA" ] || { echo "bench: no remora binary at $REMORA" >&2; exit 1; }

OWN_WORK=0
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/remora-bench.XXXXXX)
	OWN_WORK=1
fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ -z "${IDLE_CONNS:-}" ]; then
	IDLE_CONNS=$WORK/idle_conns
	cc -O2 -Wall -Wextra -std=gnu11 -o "$IDLE_CONNS" "$BENCH_DIR/idle_conns.c"
fi
RESULTS=$WORK/results.tsv
# scenario (j): DENY_N generated names, none of them the benchmark's SNI
DENY_LIST=$WORK/deny.list
if [[ " $SCENARIOS " == *" j "* ]]; then
	awk -v n="$DENY_N" 'BEGIN { for (i = 0; i < n; i++)
		printf "%s%d.deny%d.example\n", (i % 2 ? "." : "host"), i, i % 997 }' >"$DENY_LIST"
	chmod 644 "$DENY_LIST"
fi

# ---- fairness on a small machine ----------------------------------------------
# The proxy runs alone on CPU 0; wrk and the origin nginx share CPU 1.  With 2
# workers (scenario e) the proxy may use both CPUs.
NCPU=$(nproc)
PIN_PROXY=0
PIN_LOAD=$((NCPU > 1 ? 1 : 0))
PIN_ALL=0-$((NCPU - 1))
CLK_TCK=$(getconf CLK_TCK)
# A shared machine: wait for other people's load to stop before each
# measurement, and measure again when it came back during one.
BENCH_ROOT_PID=$$
QUIET_PCT=${QUIET_PCT:-5}
QUIET_MAX=${QUIET_MAX:-1800}
NOISE_PCT=${NOISE_PCT:-3}
NOISE_RETRIES=${NOISE_RETRIES:-4}
if [ "$SMOKE" = 1 ]; then
	QUIET_MAX=0 NOISE_RETRIES=0
fi
# 5,000 idle connections: client, two proxy legs and the origin each need fds.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# shellcheck source=tests/netns/lib.sh
. "$ROOT/tests/netns/lib.sh"
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

printf 'subject\tscenario\tworkers\trepeat\trequests\tduration_us\tp50_us\tp99_us\tsock_errors\tnon2xx\tproxy_utime\tproxy_stime\tmachine_busy\tmachine_total\tpeak_rss_kb\tidle_n\trss0_kb\trss1_kb\tcli_legs\tup_legs\tforeign_ticks\tcpu_busy_pct\n' >"$RESULTS"
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "ncpu=$NCPU"
	echo "mem_gb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "os=Debian $(cat /etc/debian_version 2>/dev/null || echo '?')"
	echo "remora=$("$REMORA" -V 2>&1 | head -n 1) ($REMORA_COMMIT)"
	echo "haproxy=$(haproxy -v | head -n 1 | awk '{ print $3 }')"
	echo "squid=$(squid -v | head -n 1 | awk '{ print $4 }')"
	echo "nginx=$(nginx -v 2>&1 | sed 's|.*/||')"
	echo "wrk=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
	echo "clk_tck=$CLK_TCK"
	echo "duration=$DURATION"
	echo "repeats=$REPEATS"
	echo "warmup=$WARMUP"
	echo "conns=$CONNS"
	echo "idle_n=$IDLE_N"
	echo "pace_rate=$PACE_RATE"
	echo "pace_ka_rate=$PACE_KA_RATE"
	echo "origin_profile=$ORIGIN_PROFILE"
	echo "deny_n=$DENY_N"
	echo "smoke=$SMOKE"
	echo "subjects=$SUBJECTS"
	echo "scenarios=$SCENARIOS"
	echo "pin_proxy=$PIN_PROXY"
	echo "pin_load=$PIN_LOAD"
	echo "noise_pct=$NOISE_PCT"
	echo "noise_retries=$NOISE_RETRIES"
} >"$WORK/meta.txt"

has()
{
	[[ " $1 " == *" $2 "* ]]
}

# The subjects of SCENARIO, in the order of SUBJECTS.
subjects_for()
{
	local s out=
	for s in $SUBJECTS; do
		case "$1" in
		d | f) [ "$s" = none ] && continue ;;
		p | q | e*) [ "$s" = remora ] || [ "$s" = haproxy ] || continue ;;
		g | h | i) [ "$s" = squid ] && continue ;;
		esac
		out+=" $s"
	done
	echo "$out"
}

# One testbed per subject, all up for the whole run: the measurements of a
# scenario are interleaved, each repeat going round every subject in turn,
# so a slow spell of this shared machine hits all subjects of a cell alike
# instead of the whole series of one subject. The tb_* and bench_* helpers
# work on one testbed, named by the TB_* variables: bench_use swaps them.
bench_save()
{
	local names
	mapfile -t names < <(compgen -v TB_)
	declare -p "${names[@]}" | sed 's/^declare -/declare -g -/' >"$WORK/tb-$SUBJ.env"
}
bench_use()
{
	SUBJ=$1
	# shellcheck disable=SC1090 # written by bench_save
	. "$WORK/tb-$SUBJ.env"
}
BUILT=
bench_cleanup_all()
{
	local s
	for s in $BUILT; do
		bench_use "$s"
		bench_cleanup
	done
}

started=$(date +%s)
echo "bench: work directory $WORK (duration ${DURATION}s x $REPEATS, warm-up ${WARMUP}s," \
	"origin profile $ORIGIN_PROFILE)" >&2
for SUBJ in $SUBJECTS; do
	case "$SUBJ" in
	none | remora | haproxy | squid) ;;
	*) bench_die "unknown subject $SUBJ" ;;
	esac
	bench_log "=== $SUBJ: building the testbed"
	bench_testbed "$SUBJ"
	bench_save
	BUILT+=" $SUBJ"
	trap bench_cleanup_all EXIT
done

# measure SCENARIO REPEAT [PCT]: one measurement of each subject of SCENARIO.
measure()
{
	local scen=$1 rep=$2 pct=${3:-} s
	for s in $(subjects_for "$scen"); do
		bench_use "$s"
		case "$scen" in
		a | b | c | h | i) bench_load "$s" "$scen" 1 "$rep" ;;
		d) bench_idle "$s" 1 "$rep" ;;
		f) bench_idle "$s" 1 "$rep" f ;;
		p | q) bench_paced "$s" "$scen" "$pct" "$rep" ;;
		g)
			bench_load "$s" g 1 "$rep"
			# (j) right after (g), so the pair sees the same machine
			if [ "$s" = remora ] && has "$SCENARIOS" j; then
				bench_load "$s" j 1 "$rep"
			fi
			;;
		e2a | e2b | e2c) bench_load "$s" "${scen#e2}" 2 "$rep" ;;
		esac
		bench_save
	done
}

for scen in a b c d f p q g h i e; do
	has "$SCENARIOS" "$scen" || continue
	case "$scen" in
	p) pcts="25 50 75" ;;
	q) pcts="50 75" ;;
	*) pcts=- ;;
	esac
	for pct in $pcts; do
		for rep in $(seq 1 "$REPEATS"); do
			if [ "$scen" = e ]; then
				measure e2a "$rep" # (e): a, b, c with 2 workers
				measure e2b "$rep"
				measure e2c "$rep"
			else
				measure "$scen" "$rep" "${pct#-}"
			fi
		done
	done
done

for s in $BUILT; do
	bench_use "$s"
	strays=$(bench_strays)
	bench_log "$s: 0 packets bypassed the proxy; $strays stray port-80/443 packets dropped"
	echo "strays_$s=$strays" >>"$WORK/meta.txt"
done
bench_cleanup_all
BUILT=
trap - EXIT
echo "elapsed=$(($(date +%s) - started))" >>"$WORK/meta.txt"

# ---- report -------------------------------------------------------------------
report_args=(--results "$RESULTS" --meta "$WORK/meta.txt" --work "$WORK")
if [ "$SMOKE" = 1 ]; then
	report_args+=(--check)
fi
if [ "$OUT" != - ]; then
	report_args+=(--doc "$OUT" --png "${OUT%.md}.png")
fi
python3 "$BENCH_DIR/report.py" "${report_args[@]}"
if [ "$SMOKE" = 1 ] && [ "$OWN_WORK" = 1 ]; then
	rm -rf "$WORK" # a passed smoke run leaves nothing behind (a failed one keeps it)
else
	echo "bench: results in $WORK" >&2
fi
