#!/bin/bash
# The shipped unit (conf/remora.service) under a real systemd: a throw-away
# container (systemd-nspawn --private-network, the host's /usr read-only, a
# copy of /etc, the user from conf/remora.sysusers) boots systemd, and the
# unit runs Remora in the testbed's router namespace (a drop-in adds only
# NetworkNamespacePath=). Checks Type=notify start-up through ExecStartPre,
# the process credentials (user remora, exactly CAP_NET_RAW and
# CAP_NET_BIND_SERVICE, no_new_privs, seccomp), transparent requests (IPv4,
# IPv6) through the full sandbox, the access log in LogsDirectory, reload
# with a new listener, SIGUSR1, the watchdog (a SIGSTOPped Remora is killed and
# restarted), a clean stop, and a broken configuration refused by ExecStartPre.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.sh"
command -v systemd-nspawn >/dev/null || { echo "SKIP: systemd-nspawn (systemd-container) not installed"; exit 77; }
[ -x /usr/lib/systemd/systemd ] || { echo "SKIP: no /usr/lib/systemd/systemd"; exit 77; }
command -v systemd-sysusers >/dev/null || { echo "SKIP: systemd-sysusers not installed"; exit 77; }
# a sanitizer build cannot run inside the unit's sandbox (LeakSanitizer needs
# ptrace-free, unrestricted system calls): this test is for the real binary
if rt_sanitized; then
	echo "SKIP: $REMORA is a sanitizer build"
	exit 77
fi
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
SD_PID=
SD_INIT=
tb_init rt-sd
sd_cleanup()
{
	local rc=$? i
	set +e
	if [ -n "$SD_PID" ] && kill -0 "$SD_PID" 2>/dev/null; then
		kill -TERM "$SD_PID" 2>/dev/null # nspawn: power the container off
		for i in $(seq 1 50); do kill -0 "$SD_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$SD_PID" 2>/dev/null || true
		[ -n "$SD_INIT" ] && kill -KILL "$SD_INIT" 2>/dev/null
	fi
	SD_PID=
	(exit $rc)
	tb_cleanup
}
trap sd_cleanup EXIT
tb_up
tb_intercept_tproxy 3129 80
tb_origin_start

# The container's root: the host's /usr (read-only bind), a copy of /etc.
root="$TB_WORKDIR/root"
mkdir -p "$root"/{usr/lib,var,run,tmp,proc,sys,dev,root,opt/remora}
for l in bin sbin lib lib32 lib64 libx32; do
	[ -L "/$l" ] && ln -s "$(readlink "/$l")" "$root/$l"
done
cp /usr/lib/os-release "$root/usr/lib/os-release" # nspawn looks for it before the bind
cp -a /etc "$root/etc"
rm -rf "$root"/etc/systemd/system/*.wants "$root"/etc/shadow* "$root"/etc/gshadow* "$root"/etc/ssh/ssh_host_*
systemd-sysusers --root="$root" "$SRC/conf/remora.sysusers" >/dev/null
ruid=$(awk -F: '$1 == "remora" { print $3 }' "$root/etc/passwd")
[ -n "$ruid" ] || tb_die "sysusers did not create remora"
cp "$REMORA" "$root/opt/remora/remora"
sed -e 's|/usr/sbin/remora|/opt/remora/remora|g' "$SRC/conf/remora.service" >"$root/etc/systemd/system/remora.service"
mkdir -p "$root/etc/systemd/system/remora.service.d"
cat >"$root/etc/systemd/system/remora.service.d/testbed.conf" <<EOF
[Service]
NetworkNamespacePath=/run/netns/$TB_R
LimitCORE=0
EOF
mkdir -p "$root/etc/remora"
cat >"$root/etc/remora/remora.conf" <<'EOF'
[global]
workers = 2
access_log = /var/log/remora/access.log
[listener http4]
listen = 0.0.0.0:3129
[listener http6]
listen = [::]:3129
EOF

systemd-nspawn -D "$root" --bind-ro=/usr --bind-ro=/run/netns --private-network \
	--register=no --keep-unit --console=passive -M "rt-sd-$$" \
	--boot -- systemd.unit=basic.target >"$TB_WORKDIR/nspawn.log" 2>&1 </dev/null &
SD_PID=$!
n=0
until SD_INIT=$(pgrep -P "$SD_PID" -x systemd); do
	n=$((n + 1)); [ $n -lt 100 ] || { cat "$TB_WORKDIR/nspawn.log" >&2; tb_die "the container did not start"; }
	sleep 0.1
done
sd() { nsenter -t "$SD_INIT" -a "$@"; }
n=0
until st=$(sd systemctl is-system-running 2>/dev/null) || [ "$st" = degraded ]; do
	n=$((n + 1)); [ $n -lt 300 ] || tb_die "systemd in the container did not finish booting ($st)"
	sleep 0.1
done
echo "ok: systemd booted in the container ($st)"
sd systemd-analyze verify --man=no /etc/systemd/system/remora.service || tb_die "verify in the container"

show() { sd systemctl show -p "$1" --value remora; }
journal() { sd journalctl -u remora --no-pager -o cat; }
# journal_has ERE: the unit's journal gets a matching line within 5 s
# (journald writes asynchronously; no "| grep -q" under pipefail).
journal_has()
{
	local n=0 out
	while :; do
		out=$(journal)
		grep -qE -- "$1" <<<"$out" && return 0
		n=$((n + 1))
		[ $n -lt 100 ] || { echo "$out" | tail -20 >&2; return 1; }
		sleep 0.05
	done
}
host_pid() # the host pid of the unit's main process (the only remora in the router ns)
{
	local p
	for p in $(ip netns pids "$TB_R"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = remora ] && { echo "$p"; return 0; }
	done
	return 1
}

sd systemctl start remora || { journal >&2; tb_die "systemctl start remora failed"; }
rt_assert_eq "StatusText" "$(show StatusText)" "serving: 2 workers"
rt_assert_eq "WatchdogUSec" "$(show WatchdogUSec)" "30s"
journal_has 'configuration OK \(2 listeners, 2 workers\)' || tb_die "ExecStartPre did not run"
pid=$(host_pid) || tb_die "no remora in $TB_R"
st=$(cat "/proc/$pid/status")
for want in "Uid:\t$ruid\t$ruid\t$ruid\t$ruid" "CapEff:\t0000000000002400" "CapPrm:\t0000000000002400" \
	"CapAmb:\t0000000000002400" "CapBnd:\t0000000000002400" "NoNewPrivs:\t1" "Seccomp:\t2"; do
	grep -qxP "$want" <<<"$st" || tb_die "remora.service process: want '$want': $(grep "^${want%%:*}" <<<"$st")"
done
echo "ok: remora.service runs as remora ($ruid) with CAP_NET_RAW+CAP_NET_BIND_SERVICE only, no_new_privs, seccomp"

body=$(rt_curl http://198.18.2.2/)
case $body in
"peer=198.18.1.2 port="*" dst=198.18.2.2:80") echo "ok: transparent through the sandboxed unit: $body" ;;
*) tb_die "unexpected echo: $body" ;;
esac
body=$(rt_curl -g 'http://[2001:2:0:2::2]/')
case $body in
"peer=2001:2:0:1::2 port="*) echo "ok: IPv6 through the sandboxed unit: $body" ;;
*) tb_die "unexpected IPv6 echo: $body" ;;
esac
rt_hammer -t 198.18.2.3:80 -n 500 -c 20 -E addr
alog="$root/var/log/remora/access.log"
n=0
until grep -q ' 198.18.1.2 TCP_MISS/200 .* GET http://198.18.2.2/ ' "$alog" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 100 ] || tb_die "no access log line in /var/log/remora"; sleep 0.05
done
rt_assert_eq "access log owner" "$(stat -c %u "$alog")" "$ruid"
rt_assert_eq "/var/log/remora mode" "$(stat -c %a "$root/var/log/remora")" 750

printf '[listener extra]\nlisten = 0.0.0.0:3140\n' >>"$root/etc/remora/remora.conf"
sd systemctl reload remora || tb_die "systemctl reload failed"
tb_wait_listen r 3140 5 || tb_die "no listener on 3140 after systemctl reload"
journal_has 'reloaded /etc/remora/remora.conf: 3 listeners \(2 kept open, 1 new\)' || tb_die "reload not logged"
rt_assert_eq "MainPID unchanged by reload" "$(host_pid)" "$pid"
sd systemctl kill --kill-who=main --signal=USR1 remora
journal_has 'access_log: reopened /var/log/remora/access.log' || tb_die "SIGUSR1: no reopen"
echo "ok: systemctl reload (new listener, same process) and SIGUSR1 reopen"

# Watchdog: 2 s, then freeze the process; systemd must kill and restart it.
printf '[Service]\nWatchdogSec=2s\n' >"$root/etc/systemd/system/remora.service.d/watchdog.conf"
sd systemctl daemon-reload
sd systemctl restart remora
sleep 3 # the pings keep a healthy process alive past the period
rt_assert_eq "NRestarts while healthy" "$(show NRestarts)" 0
pid=$(host_pid)
kill -STOP "$pid"
n=0
until [ "$(show NRestarts)" = 1 ] && [ "$(show ActiveState)" = active ]; do
	n=$((n + 1)); [ $n -lt 200 ] || { journal >&2; tb_die "the watchdog did not restart remora"; }
	sleep 0.1
done
journal_has "Failed with result 'watchdog'" || tb_die "restart not caused by the watchdog"
tb_wait_listen r 3129 5 || tb_die "no listener after the watchdog restart"
[ "$(host_pid)" != "$pid" ] || tb_die "same process after the watchdog restart"
rt_hammer -t 198.18.2.4:80 -n 200 -c 10 -E addr
echo "ok: watchdog: a frozen remora was killed and restarted, and serves again"
rm "$root/etc/systemd/system/remora.service.d/watchdog.conf"
sd systemctl daemon-reload

sd systemctl stop remora
rt_assert_eq "ExecMainStatus after stop" "$(show ExecMainStatus)" 0
journal_has 'shutdown complete: 0 descriptors leaked' || tb_die "no clean shutdown"
echo "ok: systemctl stop: drained, exit 0, no descriptor leaked"

printf '[listener bad]\nlisten = 0.0.0.0:3150\nmode = sideways\n' >>"$root/etc/remora/remora.conf"
sd systemctl start remora 2>/dev/null && tb_die "started with a broken configuration"
journal_has "/etc/remora/remora.conf:[0-9]+: \[listener bad\] mode: invalid value 'sideways'" ||
	tb_die "ExecStartPre did not report the broken line"
[ -z "$(ip netns exec "$TB_R" ss -Htln 'sport = :3129')" ] || tb_die "something listens after the refused start"
echo "ok: a broken configuration is refused by ExecStartPre, nothing listens"
echo "PASS"
