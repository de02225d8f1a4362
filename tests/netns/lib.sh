# shellcheck shell=bash
#
# Remora network-namespace testbed.  Source it from a bash test script:
#
#	. "$(dirname "$0")/lib.sh"          # exits 77 (meson: skipped) unless root
#	tb_init rt-tp4 "$workdir"           # names, cleanup trap on EXIT
#	tb_up                               # namespaces, veths, addresses, routes
#	tb_intercept_tproxy 3129 80 8080    # or: tb_intercept_redirect 3129
#	tb_origin_start                     # nginx in the origin namespace
#	tb_spawn r proxy ./build/remora -c conf/remora.conf
#	tb_wait_listen "$TB_R" 3129
#	tb_exec_c curl -s http://198.18.2.2/
#
# Topology (only RFC 5180 benchmarking addresses, only inside our namespaces):
#
#	${P}-c  c0 198.18.1.2/24 2001:2:0:1::2/64
#	   |
#	${P}-r  rc 198.18.1.1/24 2001:2:0:1::1/64   (forwarding on, nft rules)
#	        ro 198.18.2.1/24 2001:2:0:2::1/64
#	   |
#	${P}-o  o0 198.18.2.2/24 (+ .3, .4) 2001:2:0:2::2/64   (nginx :80 :8081)
#
# Port 8080 is deliberately left without a listener in the origin.
#
# Every function returns non-zero (or exits through set -e) on failure; all
# processes started through this file are killed and the namespaces deleted
# by tb_cleanup, which runs on EXIT and may be called more than once.

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: netns tests need root" >&2
	exit 77
fi
for tb_tool in ip nft ss nginx; do
	if ! command -v "$tb_tool" >/dev/null 2>&1; then
		echo "SKIP: $tb_tool not installed (run scripts/deps.sh)" >&2
		exit 77
	fi
done
unset tb_tool

TB_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Fixed addresses, exported for the tests.
TB_C4=198.18.1.2
TB_C6=2001:2:0:1::2
TB_RC4=198.18.1.1
TB_RC6=2001:2:0:1::1
TB_RO4=198.18.2.1
TB_RO6=2001:2:0:2::1
TB_O4=198.18.2.2
TB_O4B=198.18.2.3
TB_O4C=198.18.2.4
TB_O6=2001:2:0:2::2
# Interface names inside the namespaces (never created in the root namespace).
TB_IF_C=c0
TB_IF_RC=rc
TB_IF_RO=ro
TB_IF_O=o0
# Policy-routing mark and table used by tb_intercept_tproxy.
TB_MARK=1
TB_TABLE=100

TB_PIDS=()		# "pid name" of every process started by tb_spawn
TB_CLEANED=0
TB_OWN_WORKDIR=0

tb_log()
{
	echo "[tb ${TB_PREFIX:-?}] $*" >&2
}

tb_die()
{
	echo "[tb ${TB_PREFIX:-?}] FAIL: $*" >&2
	exit 1
}

# tb_init PREFIX [WORKDIR]
# Records the namespace names ${PREFIX}-${PID}-c/-r/-o (the shell's pid makes
# them unique per run, so the same test run twice at once cannot collide) and
# the work directory
# (created if missing; a mktemp directory when omitted, removed on a clean exit)
# and installs tb_cleanup as the EXIT trap (plus INT/TERM, which exit).
# A test that needs its own cleanup should call tb_cleanup from it.
tb_init()
{
	TB_PREFIX=${1:?tb_init PREFIX [WORKDIR]}
	if [ ${#TB_PREFIX} -gt 20 ]; then
		tb_die "prefix '$TB_PREFIX' too long"
	fi
	TB_PREFIX="$TB_PREFIX-$$"
	TB_C="${TB_PREFIX}-c"
	TB_R="${TB_PREFIX}-r"
	TB_O="${TB_PREFIX}-o"
	if [ -n "${2:-}" ]; then
		TB_WORKDIR=$2
		mkdir -p "$TB_WORKDIR"
	else
		TB_WORKDIR=$(mktemp -d "/tmp/remora-${TB_PREFIX}.XXXXXX")
		TB_OWN_WORKDIR=1
	fi
	TB_WORKDIR=$(cd "$TB_WORKDIR" && pwd)
	TB_CLEANED=0
	trap tb_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

tb_exec_c() { ip netns exec "$TB_C" "$@"; }
tb_exec_r() { ip netns exec "$TB_R" "$@"; }
tb_exec_o() { ip netns exec "$TB_O" "$@"; }

# tb_ns c|r|o|NAME: prints the namespace name for a short role name.
tb_ns()
{
	case "$1" in
	c) echo "$TB_C" ;;
	r) echo "$TB_R" ;;
	o) echo "$TB_O" ;;
	*) echo "$1" ;;
	esac
}

# Kills every process still inside namespace $1 (all were started by us) and
# deletes it.  Silent and successful when it does not exist.
tb_ns_destroy()
{
	local ns=$1 pids i
	[ -e "/run/netns/$ns" ] || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -z "$pids" ] && break
		# shellcheck disable=SC2086 # one pid per word
		if [ "$i" -lt 6 ]; then
			kill $pids 2>/dev/null || true
		else
			kill -9 $pids 2>/dev/null || true
		fi
		sleep 0.1
	done
	ip netns del "$ns" 2>/dev/null || true
}

# tb_cleanup: kills what tb_spawn/tb_origin_start started, deletes the three
# namespaces, and removes an auto-created work directory when the script
# succeeded.  Idempotent.
tb_cleanup()
{
	local rc=$? entry pid
	[ "$TB_CLEANED" = 1 ] && return 0
	TB_CLEANED=1
	set +e
	for entry in "${TB_PIDS[@]}"; do
		pid=${entry%% *}
		kill "$pid" 2>/dev/null
	done
	for entry in "${TB_PIDS[@]}"; do
		pid=${entry%% *}
		tb_pid_wait_gone "$pid" 30 || kill -9 "$pid" 2>/dev/null
	done
	TB_PIDS=()
	if [ -n "${TB_PREFIX:-}" ]; then
		tb_ns_destroy "$TB_C"
		tb_ns_destroy "$TB_R"
		tb_ns_destroy "$TB_O"
	fi
	if [ "$TB_OWN_WORKDIR" = 1 ]; then
		if [ "$rc" -eq 0 ]; then
			rm -rf "$TB_WORKDIR"
		else
			tb_log "kept $TB_WORKDIR for inspection"
		fi
	fi
	return 0
}

# tb_pid_wait_gone PID TENTHS: waits up to TENTHS/10 s for PID to exit.
tb_pid_wait_gone()
{
	local pid=$1 n=${2:-30}
	while [ "$n" -gt 0 ]; do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# tb_up: creates the namespaces, veth pairs, addresses, routes and sysctls.
# Stale namespaces with the same names (from a crashed run) are removed first.
tb_up()
{
	local ns
	[ -n "${TB_PREFIX:-}" ] || tb_die "tb_init first"
	for ns in "$TB_C" "$TB_R" "$TB_O"; do
		tb_ns_destroy "$ns"
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	# veths are created directly inside the namespaces: nothing ever
	# appears in the root namespace.
	ip -n "$TB_C" link add "$TB_IF_C" type veth peer name "$TB_IF_RC" netns "$TB_R"
	ip -n "$TB_O" link add "$TB_IF_O" type veth peer name "$TB_IF_RO" netns "$TB_R"

	tb_sysctls "$TB_C"
	tb_sysctls "$TB_R"
	tb_sysctls "$TB_O"
	tb_exec_r sysctl -qw net.ipv4.ip_forward=1
	tb_exec_r sysctl -qw net.ipv6.conf.all.forwarding=1

	ip -n "$TB_C" addr add "$TB_C4/24" dev "$TB_IF_C"
	ip -n "$TB_C" addr add "$TB_C6/64" dev "$TB_IF_C" nodad
	ip -n "$TB_R" addr add "$TB_RC4/24" dev "$TB_IF_RC"
	ip -n "$TB_R" addr add "$TB_RC6/64" dev "$TB_IF_RC" nodad
	ip -n "$TB_R" addr add "$TB_RO4/24" dev "$TB_IF_RO"
	ip -n "$TB_R" addr add "$TB_RO6/64" dev "$TB_IF_RO" nodad
	ip -n "$TB_O" addr add "$TB_O4/24" dev "$TB_IF_O"
	ip -n "$TB_O" addr add "$TB_O4B/24" dev "$TB_IF_O"
	ip -n "$TB_O" addr add "$TB_O4C/24" dev "$TB_IF_O"
	ip -n "$TB_O" addr add "$TB_O6/64" dev "$TB_IF_O" nodad
	ip -n "$TB_C" link set "$TB_IF_C" up
	ip -n "$TB_R" link set "$TB_IF_RC" up
	ip -n "$TB_R" link set "$TB_IF_RO" up
	ip -n "$TB_O" link set "$TB_IF_O" up

	ip -n "$TB_C" route add default via "$TB_RC4"
	ip -n "$TB_C" -6 route add default via "$TB_RC6"
	ip -n "$TB_O" route add default via "$TB_RO4"
	ip -n "$TB_O" -6 route add default via "$TB_RO6"

	# Per-interface knobs exist only once the interfaces do.
	tb_exec_r sysctl -qw "net.ipv4.conf.$TB_IF_RC.rp_filter=0"
	tb_exec_r sysctl -qw "net.ipv4.conf.$TB_IF_RO.rp_filter=0"
	tb_exec_c sysctl -qw "net.ipv4.conf.$TB_IF_C.rp_filter=0"
	tb_exec_o sysctl -qw "net.ipv4.conf.$TB_IF_O.rp_filter=0"

	tb_static_neigh
	tb_log "up: $TB_C <-> $TB_R <-> $TB_O (workdir $TB_WORKDIR)"
}

tb_mac()
{
	ip -n "$1" link show dev "$2" | awk '/link\/ether/ { print $2 }'
}

# Permanent ARP/ND entries on every link: without them the first burst of
# SYNs waits in the neighbour queue, some are dropped and retransmitted a
# second later, which makes the first IPv6 test run 3x slower than the next.
tb_static_neigh()
{
	local mc mrc mro mo a
	mc=$(tb_mac "$TB_C" "$TB_IF_C")
	mrc=$(tb_mac "$TB_R" "$TB_IF_RC")
	mro=$(tb_mac "$TB_R" "$TB_IF_RO")
	mo=$(tb_mac "$TB_O" "$TB_IF_O")
	for a in "$TB_RC4" "$TB_RC6"; do
		ip -n "$TB_C" neigh replace "$a" lladdr "$mrc" dev "$TB_IF_C" nud permanent
	done
	for a in "$TB_C4" "$TB_C6"; do
		ip -n "$TB_R" neigh replace "$a" lladdr "$mc" dev "$TB_IF_RC" nud permanent
	done
	for a in "$TB_O4" "$TB_O4B" "$TB_O4C" "$TB_O6"; do
		ip -n "$TB_R" neigh replace "$a" lladdr "$mo" dev "$TB_IF_RO" nud permanent
	done
	for a in "$TB_RO4" "$TB_RO6"; do
		ip -n "$TB_O" neigh replace "$a" lladdr "$mro" dev "$TB_IF_O" nud permanent
	done
}

# Namespace-wide sysctls: no reverse-path filtering, wide ephemeral port
# range, quick TIME_WAIT reuse for the many short connections tests make.
tb_sysctls()
{
	local ns=$1
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=0
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1
	ip netns exec "$ns" sysctl -qw net.core.somaxconn=8192
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_syn_backlog=8192
}

# Prints "80, 8080" from "80 8080" (default: 80) for nft sets.
tb_port_set()
{
	local out="" p
	[ $# -eq 0 ] && set -- 80
	for p in "$@"; do
		case "$p" in
		'' | *[!0-9]*) tb_die "bad port '$p'" ;;
		esac
		out="${out:+$out, }$p"
	done
	echo "$out"
}

# The forward chain shared by both interception modes: nothing on the
# intercepted ports may be routed past the router, so if no proxy listens the
# client sees a timeout instead of silently reaching the origin.
tb_forward_drop_rules()
{
	local ports=$1
	cat <<EOF
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto tcp tcp dport { $ports } counter drop
		meta l4proto tcp tcp sport { $ports } counter drop
	}
EOF
}

# tb_rules MODE PORT [PORTS...]
# Router rules made by Remora itself: a configuration with a wildcard IPv4 and
# IPv6 listener on PORT in MODE (tproxy: spoof = client-ip; redirect: spoof =
# none), intercept_ports = PORTS (default 80), [router] subscribers = the
# client-side veth and the testbed's mark and table; `remora --print-rules=nft`
# of it runs in the router (table inet remora, plus the ip rule/route lines
# for tproxy).  So every test that intercepts tests the generator.  Needs
# REMORA (the binary under test).
tb_rules()
{
	local mode=$1 port=$2 ports spoof=client-ip conf
	shift 2
	ports=$(tb_port_set "$@")
	[ "$mode" = redirect ] && spoof=none
	conf="$TB_WORKDIR/tb-rules-$mode.conf"
	cat >"$conf" <<EOF
[router]
mark = $TB_MARK
table = $TB_TABLE
subscribers = $TB_IF_RC
[listener tb4]
listen = 0.0.0.0:$port
mode = $mode
spoof = $spoof
intercept_ports = $ports
[listener tb6]
listen = [::]:$port
mode = $mode
spoof = $spoof
intercept_ports = $ports
EOF
	"${REMORA:?tb_rules needs REMORA}" --print-rules=nft -c "$conf" >"$TB_WORKDIR/tb-rules-$mode.sh" ||
		tb_die "remora --print-rules=nft -c $conf failed"
	tb_exec_r sh -e "$TB_WORKDIR/tb-rules-$mode.sh" || {
		cat "$TB_WORKDIR/tb-rules-$mode.sh" >&2
		tb_die "the rules of remora --print-rules=nft do not load"
	}
}

# tb_intercept_tproxy PORT [PORTS...]
# TPROXY interception in the router: TCP from the client-side veth to PORTS
# (default 80) is delivered to a local IP_TRANSPARENT listener on PORT, IPv4
# and IPv6.  Packets of the proxy's own spoofed upstream sockets are marked
# by the "socket transparent" rule so their replies are delivered locally.
# The rules are Remora's (tb_rules, table inet remora); the forward drop is
# the testbed's own policy (table inet remora_tb).
tb_intercept_tproxy()
{
	local port=${1:?tb_intercept_tproxy PORT [PORTS...]} ports rs
	shift
	ports=$(tb_port_set "$@")
	tb_rules tproxy "$port" "$@"
	# The tproxy rule must come BEFORE the socket rule: otherwise a SYN
	# reusing a client port matches the old TIME_WAIT socket and is never
	# redirected to the listener.  Checked on what the generator made.
	rs=$(tb_exec_r nft list chain inet remora prerouting)
	awk '/ tproxy ip to / { t4 = NR } / tproxy ip6 to / { t6 = NR }
		/socket transparent 1/ { s = NR }
		END { exit !(t4 && t6 && s && t4 < s && t6 < s) }' <<<"$rs" ||
		{ echo "$rs" >&2; tb_die "generated rules: tproxy must come before socket transparent"; }
	tb_exec_r nft -f - <<EOF
table inet remora_tb {
$(tb_forward_drop_rules "$ports")
}
EOF
	tb_log "tproxy: tcp dport { $ports } from $TB_IF_RC -> :$port"
}

# tb_intercept_redirect PORT [PORTS...]
# NAT REDIRECT interception: TCP from the client-side veth to PORTS (default
# 80) is rewritten to the router's own address, port PORT (IPv4 and IPv6; the
# proxy recovers the original destination with SO_ORIGINAL_DST).
# Tables: inet remora (Remora's rules, tb_rules) and inet remora_tb (the
# testbed's forward drop).
tb_intercept_redirect()
{
	local port=${1:?tb_intercept_redirect PORT [PORTS...]} ports
	shift
	ports=$(tb_port_set "$@")
	tb_rules redirect "$port" "$@"
	tb_exec_r nft -f - <<EOF
table inet remora_tb {
$(tb_forward_drop_rules "$ports")
}
EOF
	tb_log "redirect: tcp dport { $ports } from $TB_IF_RC -> :$port"
}

# tb_intercept_clear: removes whatever tb_intercept_* installed, so one
# testbed can be switched between modes.
tb_intercept_clear()
{
	tb_exec_r nft delete table inet remora_tb 2>/dev/null || true
	tb_exec_r nft delete table inet remora 2>/dev/null || true
	tb_exec_r ip rule del fwmark "$TB_MARK" lookup "$TB_TABLE" 2>/dev/null || true
	tb_exec_r ip -6 rule del fwmark "$TB_MARK" lookup "$TB_TABLE" 2>/dev/null || true
	tb_exec_r ip route flush table "$TB_TABLE" 2>/dev/null || true
	tb_exec_r ip -6 route flush table "$TB_TABLE" 2>/dev/null || true
}

# tb_spawn NS NAME CMD [ARGS...]
# Runs CMD in the background inside NS (c, r, o or a namespace name) with
# stdout and stderr in $TB_WORKDIR/NAME.log; the pid is recorded for
# tb_cleanup and left in TB_LAST_PID.  CMD must stay in the foreground.
tb_spawn()
{
	local ns name
	ns=$(tb_ns "${1:?tb_spawn NS NAME CMD...}")
	name=${2:?tb_spawn NS NAME CMD...}
	shift 2
	ip netns exec "$ns" "$@" >"$TB_WORKDIR/$name.log" 2>&1 </dev/null &
	TB_LAST_PID=$!
	TB_PIDS+=("$TB_LAST_PID $name")
}

# tb_kill PID: stops one process started by tb_spawn (TERM, then KILL after 3 s).
tb_kill()
{
	local pid=$1 entry keep=()
	kill "$pid" 2>/dev/null || true
	tb_pid_wait_gone "$pid" 30 || kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for entry in "${TB_PIDS[@]}"; do
		[ "${entry%% *}" = "$pid" ] || keep+=("$entry")
	done
	TB_PIDS=("${keep[@]}")
}

# tb_wait_listen NS PORT [TIMEOUT_S=10] [PID]
# Polls `ss -Htln` in NS (c, r, o or a name) until a TCP listener on PORT
# exists.  Fails after TIMEOUT_S seconds, or at once if PID is given and dies.
tb_wait_listen()
{
	local ns port=${2:?tb_wait_listen NS PORT [TIMEOUT] [PID]} tmo=${3:-10}
	local pid=${4:-} n
	ns=$(tb_ns "${1:?}")
	n=$((tmo * 20))
	while [ "$n" -gt 0 ]; do
		if [ -n "$(ip netns exec "$ns" ss -Htln "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			tb_log "process $pid died before listening on $ns:$port"
			return 1
		fi
		sleep 0.05
		n=$((n - 1))
	done
	tb_log "timeout: nothing listens on $ns:$port after ${tmo}s"
	return 1
}

# tb_origin_start: nginx in the origin namespace on :80 and :8081 (IPv4 and
# IPv6, all addresses).  GET / echoes
#   "peer=$remote_addr port=$remote_port host=$http_host dst=$server_addr:$server_port\n"
# /1k and /64k serve static bodies of 1024 and 65536 bytes ('a'/'b' repeated);
# /slow is /64k trickled over about 2 s; /chunked answers
# "peer=ADDR port=PORT chunked\n" with chunked encoding.  Files live in
# $TB_WORKDIR/origin; log in $TB_WORKDIR/origin/error.log.
tb_origin_start()
{
	local dir="$TB_WORKDIR/origin"
	mkdir -p "$dir/www" "$dir/tmp"
	head -c 1024 /dev/zero | tr '\0' 'a' >"$dir/www/1k"
	head -c 65536 /dev/zero | tr '\0' 'b' >"$dir/www/64k"
	printf '%s\n' 'peer=<!--# echo var="remote_addr" --> port=<!--# echo var="remote_port" --> chunked' >"$dir/www/chunked"
	sed -e "s|@DIR@|$dir|g" "$TB_LIBDIR/origin-nginx.conf.in" >"$dir/nginx.conf"
	tb_spawn o origin nginx -e "$dir/error.log" -p "$dir/" -c "$dir/nginx.conf"
	TB_ORIGIN_PID=$TB_LAST_PID
	tb_wait_listen o 80 10 "$TB_ORIGIN_PID" || {
		cat "$TB_WORKDIR/origin.log" "$dir/error.log" >&2 2>/dev/null
		tb_die "origin nginx did not start"
	}
	tb_wait_listen o 8081 10 "$TB_ORIGIN_PID" || tb_die "origin nginx :8081"
	tb_log "origin nginx up (pid $TB_ORIGIN_PID)"
}
