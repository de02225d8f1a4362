#!/bin/bash
# Two reloads back to back while the acceptor is late taking the first one
# (test hook REMORA_TEST_ACCEPTOR_STALL_MS: the first hand-over waits 9 s,
# past the main thread's 5 s wait): the second reload drops a listener that
# both earlier configurations had. Every descriptor must be closed once: the
# acceptor closed it when it switched straight to the newest set, and the
# main thread closed it again from the set the first reload had left (a
# second close() fails with EBADF, or closes whatever reused the number).
# close() calls are traced with strace (LeakSanitizer cannot run under it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
command -v strace >/dev/null || { echo "SKIP: strace not installed"; exit 77; }
tb_init rt-rls
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start
conf="$TB_WORKDIR/rls.conf"
write_conf()
{
	cat >"$conf" <<CONF
[global]
workers = 1
log_level = $1
[listener main]
listen = 0.0.0.0:3129
CONF
	[ "$2" = no ] || cat >>"$conf" <<'CONF'
[listener extra]
listen = 0.0.0.0:3132
CONF
}
write_conf info yes
"$REMORA" -t -c "$conf" >/dev/null
tb_spawn r remora strace -f -qq --seccomp-bpf -o "$TB_WORKDIR/close.trace" -e trace=close \
	env REMORA_TEST_ACCEPTOR_STALL_MS=9000 ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	"$REMORA" -c "$conf"
STRACE_PID=$TB_LAST_PID
tb_wait_listen r 3132 10 "$STRACE_PID" || tb_die "remora did not listen on 3132"
tb_wait_listen r 3129 10 "$STRACE_PID" || tb_die "remora did not listen on 3129"
pid=$(tb_exec_r ss -Htlnp 'sport = :3132' | sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\1/p' | head -1)
fd=$(tb_exec_r ss -Htlnp 'sport = :3132' | sed -n 's/.*pid=\([0-9]*\),fd=\([0-9]*\).*/\2/p' | head -1)
[ -n "$pid" ] && [ -n "$fd" ] || tb_die "cannot find remora's listener on 3132"
echo "remora pid $pid, listener extra on fd $fd"
log="$TB_WORKDIR/remora.log"
# reload 1: both listeners stay; the acceptor is late, the main thread gives up after 5 s
write_conf debug yes
kill -HUP "$pid"
n=0
until grep -q 'did not take the new listeners in time\|reloaded ' "$log"; do
	n=$((n + 1)); [ $n -lt 400 ] || tb_die "reload 1 did not finish"; sleep 0.05
done
grep -q 'did not take the new listeners in time' "$log" ||
	tb_die "the acceptor was not late (test hook REMORA_TEST_ACCEPTOR_STALL_MS)"
# reload 2 at once: listener extra leaves
write_conf info no
kill -HUP "$pid"
n=0
until [ "$(grep -c 'reloaded \|reload refused' "$log" || true)" -ge 2 ]; do
	n=$((n + 1)); [ $n -lt 400 ] || tb_die "reload 2 did not finish"; sleep 0.05
done
rt_expect_log 'listeners \(1 kept open, 0 new\)'
if tb_exec_r ss -Htln 'sport = :3132' | grep -q .; then
	tb_die "listener extra still open after reload 2"
fi
body=$(rt_curl http://198.18.2.2/)
case $body in peer=*) ;; *) tb_die "not served after the reloads: '$body'" ;; esac
kill -TERM "$pid"
rc=0
wait "$STRACE_PID" || rc=$?
rt_forget "$STRACE_PID"
cat "$log"
[ "$rc" -eq 0 ] || tb_die "remora (under strace) exited with $rc"
rt_expect_log 'shutdown complete: 0 descriptors leaked'
grep -E "close\\($fd\\)" "$TB_WORKDIR/close.trace" | head -20
if grep -q 'EBADF' "$TB_WORKDIR/close.trace"; then
	grep 'EBADF' "$TB_WORKDIR/close.trace" >&2
	tb_die "a descriptor was closed twice"
fi
echo "ok: two quick reloads with a late acceptor close every listener once"
