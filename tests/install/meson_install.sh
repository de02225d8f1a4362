#!/bin/bash
# `meson install --destdir` lays down what an operator needs, with sane modes:
#   PREFIX/SBINDIR/remora                      0755, runs (-V), checks the conf
#   SYSCONFDIR/remora/remora.conf               0644, passes remora -t
#   PREFIX/lib/systemd/system/remora.service    0644, paths point at the above,
#                                               systemd-analyze verify passes
#   PREFIX/lib/sysusers.d/remora.conf           0644
#   MANDIR/man8/remora.8, man5/remora.conf.5    0644, render
# and nothing installed is world-writable, setuid or setgid.
# Usage: meson_install.sh BUILD_DIR.  No root needed; exit 77 without meson.
set -euo pipefail
build=${1:?meson_install.sh BUILD_DIR}
command -v meson >/dev/null || { echo "SKIP: meson not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
build=$(cd "$build" && pwd)
tmp=$(mktemp -d /tmp/remora-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/dest"
bad=0
fail() { echo "FAIL: $*" >&2; bad=1; }

if ! meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	echo "FAIL: meson install" >&2
	exit 1
fi

# Absolute install directories, as meson resolves them.
meson introspect --buildoptions "$build" >"$tmp/options.json"
eval "$(python3 - "$tmp/options.json" <<'PY'
import json, os, sys
opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
prefix = opts["prefix"]
for name in ("sbindir", "sysconfdir", "mandir"):
    print("%s=%s" % (name, os.path.join(prefix, opts[name])))
print("prefix=%s" % prefix)
PY
)"
echo "prefix=$prefix sbindir=$sbindir sysconfdir=$sysconfdir mandir=$mandir"

# check_file PATH MODE: exists under DESTDIR, regular, with exactly MODE.
check_file()
{
	local f="$dest$1" mode
	if [ ! -f "$f" ]; then
		fail "not installed: $1"
		return 1
	fi
	mode=$(stat -c %a "$f")
	[ "$mode" = "$2" ] || fail "$1: mode $mode, want $2"
	echo "ok: $1 ($mode)"
}
bin="$sbindir/remora"
conf="$sysconfdir/remora/remora.conf"
unit="$prefix/lib/systemd/system/remora.service"
sysusers="$prefix/lib/sysusers.d/remora.conf"
check_file "$bin" 755 && { grep -q '^remora [0-9]' <<<"$("$dest$bin" -V)" || fail "$bin -V"; }
check_file "$conf" 644 && { "$dest$bin" -t -c "$dest$conf" >/dev/null || fail "$conf does not pass -t"; }
check_file "$sysusers" 644 && { grep -q '^u remora ' "$dest$sysusers" || fail "$sysusers: no user remora"; }
check_file "$mandir/man8/remora.8" 644
check_file "$mandir/man5/remora.conf.5" 644
if check_file "$unit" 644; then
	# the unit names the installed binary and configuration
	grep -qxF "ExecStart=$bin -c $conf" "$dest$unit" ||
		fail "$unit: ExecStart is not '$bin -c $conf': $(grep '^ExecStart=' "$dest$unit")"
	grep -qxF "ExecStartPre=$bin -t -c $conf" "$dest$unit" || fail "$unit: ExecStartPre"
	if command -v systemd-analyze >/dev/null; then
		sed -e "s|$bin|$dest$bin|g" "$dest$unit" >"$tmp/remora.service"
		man_opt=--man=yes
		command -v man >/dev/null || man_opt=--man=no
		if MANPATH="$dest$mandir" systemd-analyze verify "$man_opt" "$tmp/remora.service" \
			>"$tmp/verify.out" 2>&1 && [ ! -s "$tmp/verify.out" ]; then
			echo "ok: systemd-analyze verify of the installed unit ($man_opt, man pages from DESTDIR)"
		else
			cat "$tmp/verify.out" >&2
			fail "systemd-analyze verify of the installed unit"
		fi
	fi
fi
if command -v man >/dev/null; then
	for p in "$mandir/man8/remora.8" "$mandir/man5/remora.conf.5"; do
		out=$(MANWIDTH=80 man --warnings -l "$dest$p" 2>&1 >/dev/null) || fail "man -l $p"
		[ -z "$out" ] || fail "man -l $p: $out"
	done
fi

# Nothing world-writable, setuid or setgid anywhere in the install.
odd=$(find "$dest" \( -perm -o+w -o -perm -u+s -o -perm -g+s \) ! -type l -print)
[ -z "$odd" ] || fail "world-writable or set-id files installed: $odd"
echo "installed files:"
(cd "$dest" && find . ! -type d -printf '  %m %p\n' | sort -k2)
[ $bad = 0 ] || exit 1
echo "PASS"
