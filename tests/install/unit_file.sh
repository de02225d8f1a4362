#!/bin/bash
# The shipped systemd unit: the directives operations rely on are there,
# `systemd-analyze verify` passes (against this build's binary and man pages),
# the offline security review stays at "OK" exposure (<= 2.0), and the
# sysusers.d entry creates the user the unit runs as.
# Usage: unit_file.sh SOURCE_DIR REMORA_BINARY.  No root needed; exit 77
# when systemd-analyze is missing.
set -euo pipefail
src=${1:?unit_file.sh SOURCE_DIR REMORA_BINARY}
remora=${2:?unit_file.sh SOURCE_DIR REMORA_BINARY}
unit="$src/conf/remora.service"
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
tmp=$(mktemp -d /tmp/remora-unit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. What the rest of the project (and docs/deployment.md) promises.
want=(
	'Type=notify'
	'ExecStartPre=/usr/sbin/remora -t -c /etc/remora/remora.conf'
	'ExecStart=/usr/sbin/remora -c /etc/remora/remora.conf'
	'ExecReload=/bin/kill -HUP $MAINPID'
	'WatchdogSec=30s'
	'Restart=on-failure'
	'User=remora'
	'LogsDirectory=remora'
	'AmbientCapabilities=CAP_NET_RAW CAP_NET_BIND_SERVICE'
	'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_BIND_SERVICE'
	'NoNewPrivileges=yes'
	'ProtectSystem=strict'
	'ProtectHome=yes'
	'PrivateTmp=yes'
	'ProtectKernelTunables=yes'
	'ProtectKernelModules=yes'
	'ProtectControlGroups=yes'
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK'
	'RestrictNamespaces=yes'
	'LockPersonality=yes'
	'MemoryDenyWriteExecute=yes'
	'SystemCallArchitectures=native'
	'SystemCallFilter=@system-service'
)
for line in "${want[@]}"; do
	grep -qxF -- "$line" "$unit" || fail "$unit lacks the line: $line"
done
grep -qE '^LimitNOFILE=[0-9]{6,}$' "$unit" || fail "LimitNOFILE= is not high"
echo "ok: every required directive is present"

# 2. systemd-analyze verify: the binary must exist, so point the unit at this
# build's; the man pages named in Documentation= are looked up in MANPATH.
mkdir -p "$tmp/man/man5" "$tmp/man/man8"
cp "$src/docs/man/remora.8" "$tmp/man/man8/"
cp "$src/docs/man/remora.conf.5" "$tmp/man/man5/"
sed -e "s|/usr/sbin/remora|$remora|g" "$unit" >"$tmp/remora.service"
man_opt=--man=yes
command -v man >/dev/null || man_opt=--man=no
if ! MANPATH="$tmp/man" systemd-analyze verify "$man_opt" "$tmp/remora.service" >"$tmp/verify.out" 2>&1; then
	cat "$tmp/verify.out" >&2
	fail "systemd-analyze verify failed"
fi
if [ -s "$tmp/verify.out" ]; then
	cat "$tmp/verify.out" >&2
	fail "systemd-analyze verify printed warnings"
fi
echo "ok: systemd-analyze verify ($man_opt)"

# 3. Offline security review: exposure must stay <= 2.0 ("OK").
if ! systemd-analyze security --offline=true --threshold=20 --no-pager "$unit" >"$tmp/security.out" 2>&1; then
	cat "$tmp/security.out" >&2
	fail "systemd-analyze security: exposure above 2.0"
fi
grep 'Overall exposure level' "$tmp/security.out"
echo "ok: offline security review"

# 4. The configuration the unit checks with ExecStartPre is valid as shipped.
"$remora" -t -c "$src/conf/remora.conf" || fail "the shipped remora.conf does not pass -t"

# 5. sysusers.d creates the user and group named in User=/Group=.
if command -v systemd-sysusers >/dev/null && [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$tmp/root/etc"
	systemd-sysusers --root="$tmp/root" "$src/conf/remora.sysusers" >/dev/null 2>&1 ||
		fail "systemd-sysusers rejected conf/remora.sysusers"
	grep -q '^remora:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$tmp/root/etc/passwd" ||
		fail "sysusers did not create the user remora"
	grep -q '^remora:x:' "$tmp/root/etc/group" || fail "sysusers did not create the group remora"
	echo "ok: sysusers.d creates remora:remora"
else
	echo "note: sysusers check skipped (needs root and systemd-sysusers)"
fi
echo "PASS"
