# shellcheck shell=bash
#
# Helpers of the Remora benchmark (bench/run.sh): subjects (the proxies under
# test), counters read from /proc and nft, one wrk measurement, one idle-
# connection measurement.  Source after tests/netns/lib.sh; needs BENCH_DIR,
# REMORA, IDLE_CONNS, RESULTS, PIN_PROXY, PIN_LOAD, PIN_ALL, NCPU, CLK_TCK,
# BENCH_ROOT_PID, QUIET_PCT, QUIET_MAX, NOISE_PCT, NOISE_RETRIES set by run.sh.
#
# Subjects: none (routing only), remora, haproxy, squid.  Every proxy listens
# on :3129 in the router namespace behind bench/nft/tproxy.nft.

BENCH_PORT=3129
SUBJ=${SUBJ:-}			# the subject under test, set by the caller
BENCH_URL_HOST=$TB_O4		# the origin, as the client addresses it
BENCH_TLS_PORT=3130		# the proxies' port-443 listener
# the name the HTTPS scenarios use (the SNI): the client namespace resolves it
# to the origin through /etc/netns/<client namespace>/hosts
BENCH_TLS_HOST=tls.bench.example
PROXY_PID=

bench_die()
{
	echo "bench: FAIL: $*" >&2
	exit 1
}

bench_log()
{
	echo "bench: $*" >&2
}

# bench_testbed SUBJECT: a fresh client/router/origin testbed for SUBJECT in
# $WORK/SUBJECT, with the subject's nft rules and the origin nginx (profile
# $ORIGIN_PROFILE) pinned to $PIN_LOAD.
bench_testbed()
{
	local subj=$1 rules p
	# the pid keeps concurrent runs (a smoke test beside a full run) apart
	tb_init "b${BENCH_ROOT_PID: -4}-$subj" "$WORK/$subj"
	tb_up
	if [ "$subj" = none ]; then
		rules=$BENCH_DIR/nft/route-only.nft
	else
		rules=$BENCH_DIR/nft/tproxy.nft
	fi
	tb_exec_r nft -f "$rules"
	if [ "$subj" != none ]; then
		tb_exec_r ip rule add fwmark 1 lookup 100
		tb_exec_r ip route add local 0.0.0.0/0 dev lo table 100
	fi
	tb_origin_start
	[ "$ORIGIN_PROFILE" = default ] || bench_origin_heavy
	bench_tls_origin
	for p in $(ip netns pids "$TB_O"); do
		taskset -a -p -c "$PIN_LOAD" "$p" >/dev/null
	done
	# squid drops to the "proxy" user: its files live in the work directory
	if [ "$subj" = squid ]; then
		chmod 755 "$WORK"
		chown proxy "$TB_WORKDIR"
	fi
}

# bench_origin_heavy: turns the origin nginx of tb_origin_start (port 80) into
# the "heavy" profile, where the origin rather than the proxy is the
# bottleneck: one worker, an access log written for every request
# ($TB_WORKDIR/origin/access.log), sendfile off.  Rewrites its configuration,
# reloads it (SIGHUP) and fails the run unless a single new worker serves and
# logs.
bench_origin_heavy()
{
	local dir=$TB_WORKDIR/origin conf old new n=200
	conf=$dir/nginx.conf
	sed -i -e 's|^\([[:space:]]*\)worker_processes [0-9a-z]*;|\1worker_processes 1;|' \
		-e "s|^\\([[:space:]]*\\)access_log off;|\\1access_log $dir/access.log;|" \
		-e 's|^\([[:space:]]*\)sendfile on;|\1sendfile off;|' "$conf"
	if ! grep -Eq '^[[:space:]]*worker_processes 1;' "$conf" ||
		! grep -Eq "^[[:space:]]*access_log $dir/access.log;" "$conf" ||
		! grep -Eq '^[[:space:]]*sendfile off;' "$conf"; then
		bench_die "could not make the heavy origin profile of $conf"
	fi
	tb_exec_o nginx -t -q -e "$dir/error.log" -p "$dir/" -c "$conf" ||
		bench_die "nginx -t rejected the heavy origin $conf"
	old=" $(ps -o pid= --ppid "$TB_ORIGIN_PID" | xargs) "
	kill -HUP "$TB_ORIGIN_PID"
	# reloaded: the old workers are gone, one new one is up
	while [ "$n" -gt 0 ]; do
		new=$(ps -o pid= --ppid "$TB_ORIGIN_PID" | xargs)
		[[ -n "$new" && "$new" != *" "* && "$old" != *" $new "* ]] && break
		sleep 0.05
		n=$((n - 1))
	done
	[ "$n" -gt 0 ] || bench_die "the origin nginx did not reload the heavy profile"
	tb_exec_o curl -sS --max-time 5 -o /dev/null "http://$BENCH_URL_HOST/1k" ||
		bench_die "the heavy origin does not answer"
	grep -q ' /1k ' "$dir/access.log" 2>/dev/null ||
		bench_die "the heavy origin wrote no access log ($dir/access.log)"
	bench_log "origin: heavy profile (1 worker, access log, sendfile off)"
}

# bench_tls_origin: the HTTPS origin (a second nginx, 443, self-signed ECDSA
# certificate for $BENCH_TLS_HOST) and the client's name for it.  The hosts
# file is removed by bench_cleanup.
bench_tls_origin()
{
	local dir=$TB_WORKDIR/origin-tls
	mkdir -p "$dir/tmp"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$BENCH_TLS_HOST" -addext "subjectAltName=DNS:$BENCH_TLS_HOST" \
		-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null ||
		bench_die "openssl could not make the origin's certificate"
	sed -e "s|@DIR@|$dir|g" -e "s|@WWW@|$TB_WORKDIR/origin/www|g" \
		"$BENCH_DIR/conf/origin-tls-nginx.conf.in" >"$dir/nginx.conf"
	tb_spawn o origin-tls nginx -e "$dir/error.log" -p "$dir/" -c "$dir/nginx.conf"
	tb_wait_listen o 443 10 "$TB_LAST_PID" || {
		cat "$dir/error.log" >&2 2>/dev/null
		bench_die "the TLS origin nginx did not start"
	}
	mkdir -p "/etc/netns/$TB_C"
	printf '127.0.0.1 localhost\n%s %s\n' "$TB_O4" "$BENCH_TLS_HOST" >"/etc/netns/$TB_C/hosts"
	trap bench_cleanup EXIT
}

# bench_cleanup: tb_cleanup plus the client namespace's hosts file.
bench_cleanup()
{
	# (the work directory is run.sh's own: tb_cleanup's exit status test
	# does not matter here)
	[ -z "${TB_C:-}" ] || rm -rf "/etc/netns/$TB_C"
	tb_cleanup
}

# bench_tls SCENARIO: true for the HTTPS scenarios.
bench_tls()
{
	case "$1" in
	g | h | i | j) return 0 ;;
	esac
	return 1
}

# bench_proxy_start SUBJECT WORKERS TAG [SCENARIO]: starts the proxy with WORKERS workers
# (threads) pinned to CPUs $PIN_PROXY (or both CPUs when WORKERS > 1), waits
# for its listener and sets PROXY_PID.  Fails the run if it does not start.
bench_proxy_start()
{
	local subj=$1 workers=$2 tag=$3 scen=${4:-} pin=$PIN_PROXY conf alog=off
	PROXY_PID=
	[ "$workers" -gt 1 ] && pin=$PIN_ALL
	case "$subj" in
	none)
		return 0
		;;
	remora)
		conf=$TB_WORKDIR/remora-$tag.conf
		bench_tls "$scen" && alog=$TB_WORKDIR/remora-$tag-access.log
		sed -e "s|@WORKERS@|$workers|g" -e "s|@ACCESS_LOG@|$alog|g" \
			"$BENCH_DIR/conf/remora.conf.in" >"$conf"
		if [ "$scen" = j ]; then
			# 1M names, none of them the benchmark's SNI
			printf '\n[acl]\ndeny_domains_file = %s\n' "$DENY_LIST" >>"$conf"
		fi
		"$REMORA" -t -c "$conf" >/dev/null || bench_die "remora -t rejected $conf"
		tb_spawn r "remora-$tag" taskset -c "$pin" "$REMORA" -c "$conf"
		;;
	haproxy)
		conf=$TB_WORKDIR/haproxy-t$workers.cfg
		sed -e "s|@THREADS@|$workers|g" "$BENCH_DIR/conf/haproxy.cfg.in" >"$conf"
		haproxy -c -q -f "$conf" || bench_die "haproxy -c rejected $conf"
		tb_spawn r "haproxy-$tag" taskset -c "$pin" haproxy -db -f "$conf"
		;;
	squid)
		[ "$workers" -eq 1 ] || bench_die "squid runs with 1 worker here"
		conf=$TB_WORKDIR/squid.conf
		sed -e "s|@DIR@|$TB_WORKDIR|g" "$BENCH_DIR/conf/squid.conf.in" >"$conf"
		rm -f "$TB_WORKDIR/squid.pid"
		tb_spawn r "squid-$tag" taskset -c "$pin" squid -N -f "$conf"
		;;
	*)
		bench_die "unknown subject $subj"
		;;
	esac
	PROXY_PID=$TB_LAST_PID
	if ! tb_wait_listen r "$BENCH_PORT" 20 "$PROXY_PID"; then
		tail -n 30 "$TB_WORKDIR/$subj-$tag.log" "$TB_WORKDIR/squid-cache.log" 2>/dev/null >&2
		bench_die "$subj did not start (log: $TB_WORKDIR/$subj-$tag.log)"
	fi
	if [ "$subj" != squid ] && ! tb_wait_listen r "$BENCH_TLS_PORT" 20 "$PROXY_PID"; then
		bench_die "$subj did not listen on :$BENCH_TLS_PORT (log: $TB_WORKDIR/$subj-$tag.log)"
	fi
}

# bench_proxy_stop SUBJECT: SIGTERM, waits, and fails the run if the proxy
# died during the measurement.
bench_proxy_stop()
{
	local subj=$1
	[ -n "$PROXY_PID" ] || return 0
	kill -0 "$PROXY_PID" 2>/dev/null || bench_die "$subj (pid $PROXY_PID) died during the run"
	tb_kill "$PROXY_PID"
	PROXY_PID=
}

# Prints PID and all its descendants, one per line.
bench_tree_pids()
{
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		bench_tree_pids "$c"
	done
}

# bench_proxy_ticks: "utime stime" (clock ticks, all threads, children
# included) of the proxy's process tree; "0 0" without a proxy.
bench_proxy_ticks()
{
	local p u=0 s=0 st rest
	if [ -z "$PROXY_PID" ]; then
		echo "0 0"
		return
	fi
	for p in $(bench_tree_pids "$PROXY_PID"); do
		st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		rest=${st##*) }	# the command name may hold spaces
		# shellcheck disable=SC2086 # split the fields
		set -- $rest
		u=$((u + ${12}))
		s=$((s + ${13}))
	done
	echo "$u $s"
}

# bench_proxy_status_kb FIELD: sum of FIELD (VmHWM, VmRSS) in kB over the
# proxy's process tree; 0 without a proxy.
bench_proxy_status_kb()
{
	local field=$1 p v sum=0
	[ -n "$PROXY_PID" ] || { echo 0; return; }
	for p in $(bench_tree_pids "$PROXY_PID"); do
		v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# bench_machine_ticks: "busy total" clock ticks of the whole machine from
# /proc/stat (busy = user nice system irq softirq; total adds idle iowait steal).
bench_machine_ticks()
{
	awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8;
			   print busy, busy + $5 + $6 + $9; exit }' /proc/stat
}

# bench_cpu_ticks: "busy total" clock ticks of every CPU, one pair per CPU.
bench_cpu_ticks()
{
	awk '$1 ~ /^cpu[0-9]+$/ { busy = $2 + $3 + $4 + $7 + $8;
				  printf "%d %d ", busy, busy + $5 + $6 + $9 }' /proc/stat
}

# bench_cpu_pct "BEFORE" "AFTER": per-CPU busy percentages as "a/b/...".
bench_cpu_pct()
{
	awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " ");
		for (i = 1; i < n; i += 2) {
			t = y[i + 1] - x[i + 1]
			out = out (i > 1 ? "/" : "") (t > 0 ? int(100 * (y[i] - x[i]) / t + 0.5) : 0)
		}
		print out }'
}

# bench_nft_packets CHAIN MATCH: packets counted by the rules in
# remora_bench CHAIN whose text contains MATCH (summed).
bench_nft_packets()
{
	tb_exec_r nft list chain inet remora_bench "$1" |
		awk -v m="$2" 'index($0, m) && /counter packets/ {
			for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) }
			END { print n + 0 }'
}

# bench_intercepted: packets that reached the proxy (or, without one, were
# routed to the origin).
bench_intercepted()
{
	if [ "$SUBJ" = none ]; then
		bench_nft_packets forward "dport"
	else
		bench_nft_packets prerouting "tproxy"
	fi
}

# bench_bypassed: client SYNs to port 80 that the router was asked to
# forward, i.e. connections that went around the proxy (0 when nothing
# bypasses). Late packets of connections whose proxy is gone are strays.
bench_bypassed()
{
	[ "$SUBJ" = none ] && { echo 0; return; }
	bench_nft_packets forward 'tcp flags'
}

# bench_strays: other port-80 packets the router dropped (late replies to
# sockets the proxy has closed); reported, not fatal.
bench_strays()
{
	[ "$SUBJ" = none ] && { echo 0; return; }
	tb_exec_r nft list chain inet remora_bench forward |
		awk '!/tcp flags/ && /counter packets/ {
			for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) }
			END { print n + 0 }'
}

# bench_proxy_responses [SCENARIO]: responses the proxy itself counted
# (Remora's /metrics, all classes) or, for the HTTPS scenarios, "flows
# denied malformed" of its TLS counters; empty for subjects without them.
bench_proxy_responses()
{
	[ "$SUBJ" = remora ] || return 0
	if bench_tls "${1:-}"; then
		tb_exec_r curl -sS --max-time 5 http://127.0.0.1:9180/metrics |
			awk '/^remora_tls_flows_total/ { f += $2 } /^remora_tls_denied_total/ { d += $2 }
			     /^remora_tls_malformed_total/ { m += $2 } END { print f + 0, d + 0, m + 0 }'
		return 0
	fi
	tb_exec_r curl -sS --max-time 5 http://127.0.0.1:9180/metrics |
		awk '/^remora_responses_total/ { n += $2 } END { print n + 0 }'
}

# bench_tls_counted SCENARIO REQUESTS "BEFORE" "AFTER": Remora's TLS counters
# over a run: one flow per request with a new connection per request (g, j),
# flows at all otherwise, no flow denied (the deny list of j matches nothing),
# no hello malformed.  Fails the run otherwise.
bench_tls_counted()
{
	local scen=$1 req=$2 need=1
	# shellcheck disable=SC2086 # "flows denied malformed" twice
	set -- $3 $4
	case "$scen" in
	g | j) need=$req ;;
	esac
	[ $(($4 - $1)) -ge "$need" ] ||
		bench_die "$SUBJ $scen: Remora counted $(($4 - $1)) TLS flows for $req requests"
	[ $(($5 - $2)) -eq 0 ] || bench_die "$SUBJ $scen: Remora denied $(($5 - $2)) TLS flows"
	[ $(($6 - $3)) -eq 0 ] || bench_die "$SUBJ $scen: $(($6 - $3)) malformed ClientHellos"
}

# bench_check_path [SCENARIO]: one request from the client must reach the
# origin (over TLS for the HTTPS scenarios), which must see the client's own
# address (through the proxy: spoofing works) and the original destination.
# Fails the run otherwise.
bench_check_path()
{
	local out url=http://$BENCH_URL_HOST/ port=80
	if bench_tls "${1:-}"; then
		url=https://$BENCH_TLS_HOST/ port=443
	fi
	out=$(tb_exec_c curl -ksS --max-time 5 "$url" 2>"$TB_WORKDIR/curl.err") ||
		bench_die "$SUBJ: no answer through the testbed: $(cat "$TB_WORKDIR/curl.err")"
	case "$out" in
	"peer=$TB_C4 "*"dst=$BENCH_URL_HOST:$port") ;;
	*) bench_die "$SUBJ: origin saw '$out', want peer=$TB_C4 ... dst=$BENCH_URL_HOST:$port" ;;
	esac
	# (j): the list is in force: its first name is refused
	if [ "${1:-}" = j ] && tb_exec_c curl -ksS --max-time 5 \
		--resolve "$(head -n 1 "$DENY_LIST"):443:$BENCH_URL_HOST" \
		"https://$(head -n 1 "$DENY_LIST")/" >/dev/null 2>&1; then
		bench_die "$SUBJ: a name of the deny list passed"
	fi
}

# bench_wrk SECONDS SCENARIO OUTFILE: wrk in the client namespace on $PIN_LOAD.
bench_wrk()
{
	local secs=$1 scen=$2 out=$3 path=/1k extra=() base=http://$BENCH_URL_HOST
	bench_tls "$scen" && base=https://$BENCH_TLS_HOST
	case "$scen" in
	a | h) ;;
	b | g | j) extra=(-H "Connection: close") ;;
	c | i) path=/64k ;;
	*) bench_die "bench_wrk: scenario $scen" ;;
	esac
	local _ rc
	for _ in 1 2 3; do
		rc=0
		tb_exec_c taskset -c "$PIN_LOAD" wrk -t 1 -c "$CONNS" -d "${secs}s" --latency \
			-s "$BENCH_DIR/wrk/report.lua" "${extra[@]}" "$base$path" \
			>"$out" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] && return 0
		# On a shared machine someone else's clean-up may kill every wrk
		# by name: that run says nothing, make it again.
		if [ "$rc" -eq 143 ] || [ "$rc" -eq 137 ] || [ "$rc" -eq 130 ]; then
			bench_log "wrk was killed from outside (status $rc): running it again"
			continue
		fi
		break
	done
	cat "$out" >&2
	bench_die "wrk failed with status $rc ($out)"
}

# bench_field FILE KEY: value of KEY=VALUE on the BENCH line of a wrk report.
bench_field()
{
	awk -v k="$2" '$1 == "BENCH" { for (i = 2; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == k) { print kv[2]; exit } } }' "$1"
}

# bench_foreign: CPU ticks used so far by processes outside this benchmark.
bench_foreign()
{
	python3 "$BENCH_DIR/foreign_cpu.py" "$BENCH_ROOT_PID"
}

# bench_now_ms: monotonic-enough wall clock in milliseconds.
bench_now_ms()
{
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# bench_wait_quiet: waits (at most $QUIET_MAX s) until processes outside the
# benchmark use less than $QUIET_PCT % of the machine over one second; this
# machine may be shared (builds, tests and fuzzers of other people).
bench_wait_quiet()
{
	local waited=0 a b pct logged=0 t0 t1
	[ "$QUIET_MAX" -gt 0 ] || return 0
	while :; do
		t0=$(bench_now_ms)
		a=$(bench_foreign)
		sleep 1
		b=$(bench_foreign)
		t1=$(bench_now_ms)
		pct=$(((b - a) * 100 * 1000 / (CLK_TCK * NCPU * (t1 - t0))))
		[ "$pct" -lt "$QUIET_PCT" ] && break
		if [ "$waited" -ge "$QUIET_MAX" ]; then
			bench_log "machine still busy (foreign load ${pct}%) after ${waited}s: measuring anyway"
			break
		fi
		if [ "$logged" = 0 ]; then
			bench_log "waiting for the machine to become quiet (foreign load ${pct}%)"
			logged=1
		fi
		sleep 4
		waited=$((waited + 5))
	done
	[ "$logged" = 0 ] || bench_log "machine quiet after ${waited}s"
}

# bench_load SUBJECT SCENARIO WORKERS REPEAT: one wrk measurement (scenarios
# a, b, c) with a freshly started proxy; appends a row to $RESULTS.  When
# processes outside the benchmark used more than $NOISE_PCT % of the machine
# during the run, the measurement is thrown away and made again (at most
# $NOISE_RETRIES times; the row records the foreign CPU time either way).
bench_load()
{
	local attempt=0
	while :; do
		bench_wait_quiet
		bench_load_once "$@"
		if [ "$FOREIGN_PCT" -le "$NOISE_PCT" ] || [ "$attempt" -ge "$NOISE_RETRIES" ]; then
			break
		fi
		attempt=$((attempt + 1))
		bench_log "foreign load ${FOREIGN_PCT}% during the run: measuring again ($attempt/$NOISE_RETRIES)"
	done
	echo "$ROW" >>"$RESULTS"
}

# One attempt of bench_load: sets ROW and FOREIGN_PCT.
bench_load_once()
{
	local subj=$1 scen=$2 workers=$3 rep=$4 tag out
	local t0 t1 m0 m1 c0 c1 i0 i1 f0 f1 w0 w1 r0 r1 hwm req dur p50 p99 errs non2xx bypass
	tag=$scen-w$workers-r$rep
	out=$TB_WORKDIR/wrk-$tag.txt
	bench_proxy_start "$subj" "$workers" "$tag" "$scen"
	bench_check_path "$scen"
	if [ "$WARMUP" -gt 0 ]; then
		bench_wrk "$WARMUP" "$scen" "$TB_WORKDIR/wrk-$tag-warmup.txt"
	fi
	r0=$(bench_proxy_responses "$scen")
	w0=$(bench_now_ms)
	f0=$(bench_foreign)
	t0=$(bench_proxy_ticks)
	m0=$(bench_machine_ticks)
	c0=$(bench_cpu_ticks)
	i0=$(bench_intercepted)
	bench_wrk "$DURATION" "$scen" "$out"
	t1=$(bench_proxy_ticks)
	m1=$(bench_machine_ticks)
	c1=$(bench_cpu_ticks)
	i1=$(bench_intercepted)
	f1=$(bench_foreign)
	w1=$(bench_now_ms)
	r1=$(bench_proxy_responses "$scen")
	hwm=$(bench_proxy_status_kb VmHWM)
	bench_proxy_stop "$subj"

	req=$(bench_field "$out" requests)
	dur=$(bench_field "$out" duration_us)
	p50=$(bench_field "$out" p50_us)
	p99=$(bench_field "$out" p99_us)
	errs=$(($(bench_field "$out" err_connect) + $(bench_field "$out" err_read) +
		$(bench_field "$out" err_write) + $(bench_field "$out" err_timeout)))
	non2xx=$(bench_field "$out" non2xx)
	if [ -z "$req" ] || [ "$req" -le 0 ]; then
		bench_die "$subj $tag: wrk made no requests ($out)"
	fi
	# Every request crossed the interception rule (at least one packet each).
	[ $((i1 - i0)) -ge "$req" ] ||
		bench_die "$subj $tag: only $((i1 - i0)) packets intercepted for $req requests: bypassed?"
	bypass=$(bench_bypassed)
	[ "$bypass" -eq 0 ] || bench_die "$subj $tag: $bypass packets tried to bypass the proxy"
	# The proxy's own counter saw every response wrk counted.
	if [ -n "$r0" ] && bench_tls "$scen"; then
		bench_tls_counted "$scen" "$req" "$r0" "$r1"
	elif [ -n "$r0" ] && [ $((r1 - r0)) -lt "$req" ]; then
		bench_die "$subj $tag: the proxy counted $((r1 - r0)) responses, wrk $req"
	fi
	# shellcheck disable=SC2086 # "utime stime" and "busy total" pairs
	set -- $t0 $t1 $m0 $m1
	if [ "$subj" != none ] && [ $(($3 + $4 - $1 - $2)) -le 0 ] && [ "$DURATION" -ge 3 ]; then
		bench_die "$subj $tag: the proxy used no CPU time during the run"
	fi
	FOREIGN_PCT=$(((f1 - f0) * 100 * 1000 / (CLK_TCK * NCPU * (w1 - w0))))
	ROW=$(printf '%s\t' "$subj" "$scen" "$workers" "$rep" "$req" "$dur" "$p50" "$p99" \
		"$errs" "$non2xx" $(($3 - $1)) $(($4 - $2)) $(($7 - $5)) $(($8 - $6)) "$hwm" \
		- - - - - $((f1 - f0)))$(bench_cpu_pct "$c0" "$c1")
	bench_log "$subj $tag: $req requests in $((dur / 1000)) ms, p50 ${p50} us, p99 ${p99} us," \
		"errors $errs, non-2xx $non2xx, proxy cpu $(($3 + $4 - $1 - $2)) ticks," \
		"hwm ${hwm} kB, CPUs busy $(bench_cpu_pct "$c0" "$c1") %, foreign load ${FOREIGN_PCT}%"
}

# bench_idle SUBJECT WORKERS REPEAT [SCENARIO]: scenario (d), IDLE_N idle
# keep-alive connections through a freshly started proxy, opened 100 at a
# time and measured 2 s later; or, with SCENARIO f (burst), all IDLE_N opened
# at once and their requests sent together once every one is up (idle_conns
# -B), measured 10 s later; VmHWM is then the peak of the burst.  Appends a
# row to $RESULTS.
bench_idle()
{
	local subj=$1 workers=$2 rep=$3 scen=${4:-d} tag log rss0 rss1 hwm cli up pid n=0 alive
	local mode=() settle=2 f0 f1 w0 w1
	if [ "$scen" = f ]; then
		mode=(-B)
		settle=10
	fi
	tag=$scen-w$workers-r$rep
	log=$TB_WORKDIR/idle-$tag.txt
	bench_wait_quiet
	bench_proxy_start "$subj" "$workers" "$tag"
	bench_check_path
	# warm-up: 100 connections opened, answered and closed, so one-time
	# allocations (pools, first pages of the allocator) are not counted
	# (ip netns exec execs the tool: $! is its pid, so it gets the signal)
	ip netns exec "$TB_C" "$IDLE_CONNS" -t "$BENCH_URL_HOST:80" -n 100 -e "peer=$TB_C4 " \
		>"$log.warmup" 2>&1 &
	pid=$!
	bench_wait_line "$log.warmup" '^ready ' "$pid" 30 || bench_die "$subj $tag: warm-up failed"
	kill -TERM "$pid"
	wait "$pid" || true
	sleep 1
	rss0=$(bench_proxy_status_kb VmRSS)
	w0=$(bench_now_ms)
	f0=$(bench_foreign)
	ip netns exec "$TB_C" "$IDLE_CONNS" -t "$BENCH_URL_HOST:80" -n "$IDLE_N" \
		-e "peer=$TB_C4 " -T 120 "${mode[@]}" >"$log" 2>&1 &
	pid=$!
	TB_PIDS+=("$pid idle_conns")
	bench_wait_line "$log" '^ready ' "$pid" 150 || {
		cat "$log" >&2
		bench_die "$subj $tag: could not open $IDLE_N connections through the proxy"
	}
	# let the proxy settle (deferred frees, buffers back to pools, the
	# allocator's decay)
	sleep "$settle"
	rss1=$(bench_proxy_status_kb VmRSS)
	hwm=$(bench_proxy_status_kb VmHWM)
	# the proxy's legs, seen in the router namespace: accepted client legs
	# carry the origin's address (port 80) locally, upstream legs remotely
	cli=$(tb_exec_r ss -Htn state established "( sport = :80 )" | wc -l)
	up=$(tb_exec_r ss -Htn state established "( dport = :80 )" | wc -l)
	f1=$(bench_foreign)
	w1=$(bench_now_ms)
	kill -TERM "$pid"
	wait "$pid" || true
	bench_forget "$pid"
	alive=$(awk '/^alive/ { print $2 }' "$log")
	[ "${alive:-0}" -eq "$IDLE_N" ] ||
		bench_die "$subj $tag: only ${alive:-0} of $IDLE_N idle connections survived: $(cat "$log")"
	n=$(bench_bypassed)
	[ "$n" -eq 0 ] || bench_die "$subj $tag: $n packets tried to bypass the proxy"
	bench_proxy_stop "$subj"
	# duration: the measured window (foreign load is reported against it)
	printf '%s\t%s\t%s\t%s\t-\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\n' \
		"$subj" "$scen" "$workers" "$rep" $(((w1 - w0) * 1000)) "$hwm" "$IDLE_N" "$rss0" \
		"$rss1" "$cli" "$up" $((f1 - f0)) >>"$RESULTS"
	bench_log "$subj $tag: VmRSS $rss0 -> $rss1 kB (peak $hwm kB) for $IDLE_N idle connections" \
		"($(((rss1 - rss0) * 1024 / IDLE_N)) B each); legs: $cli client, $up upstream;" \
		"foreign load $(((f1 - f0) * 100 * 1000 / (CLK_TCK * NCPU * (w1 - w0))))%"
}

# bench_forget PID: drops an exited process from tb_cleanup's list.
bench_forget()
{
	local entry keep=()
	for entry in "${TB_PIDS[@]}"; do
		[ "${entry%% *}" = "$1" ] || keep+=("$entry")
	done
	TB_PIDS=("${keep[@]}")
}

# bench_wait_line FILE ERE PID TIMEOUT_S: waits until FILE has a line
# matching ERE; fails if PID exits first or the time runs out.
bench_wait_line()
{
	local f=$1 re=$2 pid=$3 n=$(($4 * 20))
	while [ "$n" -gt 0 ]; do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { grep -Eq -- "$re" "$f" 2>/dev/null; return; }
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# bench_paced SUBJECT SCENARIO PCT REPEAT: open-loop load below saturation
# from h2load (--h1) for $DURATION s with a freshly started proxy (after a
# $WARMUP s run at the same pace); appends a row (scenario SCENARIO+PCT, e.g.
# p25) to $RESULTS in the wrk rows' format; from h2load's per-request log
# p50/p99 and the duration (first request's start to last response's end),
# failed or non-200 requests in the socket errors column.
#   p: Connection: close, /1k, at PCT % of $PACE_RATE requests/s, one new
#      connection per request, started every 10 ms (-r, --rate-period): the
#      proxy's CPU per connection;
#   q: keep-alive, /64k, at PCT % of $PACE_KA_RATE requests/s in total over
#      $CONNS connections, each paced at its share (--rps), their starts
#      spread over one period of that pace (-r every 1 ms; started together,
#      all connections would send at the same instants): p99 at a request
#      rate that is the same for every subject.
bench_paced()
{
	local subj=$1 scen=$2 pct=$3 rep=$4 tag rate n log out t0 t1 m0 m1 c0 c1 f0 f1 w0 w1
	local ok bad p50 p99 hwm bypass r0 r1 dur
	tag=$scen$pct-r$rep
	log=$TB_WORKDIR/h2load-$tag.log
	out=$TB_WORKDIR/h2load-$tag.txt
	case "$scen" in
	p) rate=$((PACE_RATE * pct / 100)) ;;
	q) rate=$((PACE_KA_RATE * pct / 100)) ;;
	*) bench_die "bench_paced: scenario $scen" ;;
	esac
	[ "$rate" -gt 0 ] || bench_die "$subj $tag: no rate to pace at"
	n=$((rate * DURATION))
	bench_wait_quiet
	bench_proxy_start "$subj" 1 "$tag"
	bench_check_path
	if [ "$WARMUP" -gt 0 ]; then
		bench_h2load "$scen" "$rate" $((rate * WARMUP)) "$log.warmup" "$out.warmup" ||
			bench_die "$subj $tag: h2load failed ($out.warmup)"
	fi
	r0=$(bench_proxy_responses)
	w0=$(bench_now_ms)
	f0=$(bench_foreign)
	t0=$(bench_proxy_ticks)
	m0=$(bench_machine_ticks)
	c0=$(bench_cpu_ticks)
	bench_h2load "$scen" "$rate" "$n" "$log" "$out" || bench_die "$subj $tag: h2load failed ($out)"
	t1=$(bench_proxy_ticks)
	m1=$(bench_machine_ticks)
	c1=$(bench_cpu_ticks)
	f1=$(bench_foreign)
	w1=$(bench_now_ms)
	r1=$(bench_proxy_responses)
	hwm=$(bench_proxy_status_kb VmHWM)
	bench_proxy_stop "$subj"
	ok=$(awk -F'\t' '$2 == 200' "$log" | wc -l)
	bad=$(awk -F'\t' '$2 != 200' "$log" | wc -l)
	[ "$ok" -gt 0 ] || bench_die "$subj $tag: no request succeeded ($out)"
	dur=$(awk -F'\t' 'NR == 1 || $1 < s { s = $1 } $1 + $3 > e { e = $1 + $3 }
		END { print e - s }' "$log")
	bypass=$(bench_bypassed)
	[ "$bypass" -eq 0 ] || bench_die "$subj $tag: $bypass packets tried to bypass the proxy"
	if [ -n "$r0" ] && [ $((r1 - r0)) -lt "$ok" ]; then
		bench_die "$subj $tag: the proxy counted $((r1 - r0)) responses, h2load $ok"
	fi
	p50=$(awk -F'\t' '$2 == 200 { print $3 }' "$log" | sort -n |
		awk -v q=0.50 '{ v[NR] = $1 } END { i = int(NR * q); print v[i < 1 ? 1 : i] }')
	p99=$(awk -F'\t' '$2 == 200 { print $3 }' "$log" | sort -n |
		awk -v q=0.99 '{ v[NR] = $1 } END { i = int(NR * q); print v[i < 1 ? 1 : i] }')
	# shellcheck disable=SC2086 # "utime stime" and "busy total" pairs
	set -- $t0 $t1 $m0 $m1
	FOREIGN_PCT=$(((f1 - f0) * 100 * 1000 / (CLK_TCK * NCPU * (w1 - w0))))
	printf '%s\t' "$subj" "$scen$pct" 1 "$rep" "$ok" "$dur" "$p50" "$p99" "$bad" 0 \
		$(($3 - $1)) $(($4 - $2)) $(($7 - $5)) $(($8 - $6)) \
		"$hwm" - - - - - $((f1 - f0)) >>"$RESULTS"
	bench_cpu_pct "$c0" "$c1" >>"$RESULTS"
	bench_log "$subj $tag: $ok of $n requests at $rate/s offered," \
		"$((ok * 1000000 / dur))/s done, p50 ${p50} us, p99 ${p99} us," \
		"failed $bad, proxy cpu $(($3 + $4 - $1 - $2)) ticks, CPUs busy" \
		"$(bench_cpu_pct "$c0" "$c1") %, foreign load ${FOREIGN_PCT}%"
}

# bench_h2load SCENARIO RATE N LOG OUT: N requests of scenario p or q (see
# bench_paced) paced at RATE requests/s by h2load in the client namespace on
# $PIN_LOAD; per-request log in LOG (replaced: h2load appends), report in OUT.
bench_h2load()
{
	local scen=$1 rate=$2 n=$3 log=$4 out=$5 args c
	rm -f "$log"
	case "$scen" in
	p)
		args=(-H 'Connection: close' -n "$n" -c "$n" -r $(((rate + 99) / 100))
			--rate-period 10ms "http://$BENCH_URL_HOST/1k")
		;;
	q)
		c=$((n < CONNS ? n : CONNS))
		args=(-n "$n" -c "$c" --rps "$(awk -v r="$rate" -v c="$c" 'BEGIN { printf "%.3f", r / c }')"
			-r $(((rate + 999) / 1000)) --rate-period 1ms "http://$BENCH_URL_HOST/64k")
		;;
	esac
	tb_exec_c taskset -c "$PIN_LOAD" h2load --h1 --log-file "$log" "${args[@]}" >"$out" 2>&1
}
