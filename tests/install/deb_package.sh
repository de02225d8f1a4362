#!/bin/bash
# The Debian package (debian/): builds it with `dpkg-buildpackage -us -uc -b`
# from a copy of the source tree, checks what is in it (files, modes,
# conffiles, maintainer scripts, the version against meson.build), runs
# lintian (no errors allowed), then installs it on a throw-away Debian 12
# root made by debootstrap (cached under /var/cache/remora-tests), boots
# systemd there (systemd-nspawn, private network) and checks:
#   - installing creates the user remora and starts nothing (the unit is
#     installed disabled: no interception before the operator's rules);
#   - remora -t passes on the shipped configuration, remora -V runs;
#   - systemctl enable --now remora starts it (Type=notify, "serving"), and
#     the start-up self-check warns in the journal (no policy routing there);
#   - dpkg -r stops the service, keeps the conffiles;
#   - dpkg -P removes /etc/remora and /var/log/remora, and keeps the user.
# Where systemd cannot boot in a container, the same checks run in a chroot
# with Remora started by hand in a private network namespace.  Where no
# Debian archive is reachable (debootstrap fails), it installs on this host
# instead, with full clean-up (purge, and the user removed if this test
# created it), and says so.
# Usage: deb_package.sh SOURCE_DIR.  Needs root and dpkg-buildpackage,
# debhelper, lintian and debootstrap (scripts/deps.sh installs them); exits
# 77 without them.
set -euo pipefail
src=${1:?deb_package.sh SOURCE_DIR}
src=$(cd "$src" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for t in dpkg-buildpackage dh dh_installsysusers dpkg-deb lintian debootstrap ip; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed (scripts/deps.sh)"; exit 77; }
done
[ -f "$src/debian/control" ] || { echo "FAIL: no debian/ in $src"; exit 1; }

CACHE=${REMORA_TEST_CACHE:-/var/cache/remora-tests}
tmp=$(mktemp -d /var/tmp/remora-deb.XXXXXX)
root=$tmp/root
NS=remora-deb-$$
NSPAWN_PID=
SD_INIT=
HOST_INSTALL=0
HOST_USER_BEFORE=1
bad=0
fail() { echo "FAIL: $*" >&2; bad=1; }
die() { echo "FAIL: $*" >&2; exit 1; }

cleanup()
{
	local rc=$? i
	set +e
	if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
		kill -TERM "$NSPAWN_PID"
		for i in $(seq 1 50); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		[ -n "$SD_INIT" ] && kill -KILL "$SD_INIT" 2>/dev/null
	fi
	if [ -e "/run/netns/$NS" ]; then
		for i in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$i" 2>/dev/null; done
		ip netns del "$NS"
	fi
	for i in proc dev; do mountpoint -q "$root/$i" 2>/dev/null && umount -l "$root/$i"; done
	if [ "$HOST_INSTALL" = 1 ]; then
		dpkg -P remora >/dev/null 2>&1
		[ "$HOST_USER_BEFORE" = 0 ] && { userdel remora; groupdel remora; } 2>/dev/null
	fi
	if [ "$rc" -eq 0 ]; then
		rm -rf "$tmp"
	else
		echo "kept $tmp for inspection" >&2
	fi
	return 0
}
trap cleanup EXIT

# ---- 1. Build -------------------------------------------------------------
# A copy of the tracked (and new, not ignored) files: the build must not
# depend on anything else lying in the work tree.
mkdir -p "$tmp/build/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && xargs -0 cp --parents -d -t "$tmp/build/src" 2>/dev/null || true)
else
	tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$tmp/build/src" -xf -
fi
mver=$(sed -nE "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'([^']+)'.*/\1/p" "$src/meson.build" | head -1)
dver=$(cd "$tmp/build/src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
[ "$mver" = "$dver" ] || fail "debian/changelog version $dver differs from meson.build's $mver"
echo "building remora $dver ($arch) with dpkg-buildpackage -us -uc -b"
t0=$SECONDS
if ! (cd "$tmp/build/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log" >&2
	die "dpkg-buildpackage failed"
fi
deb=$tmp/build/remora_${dver}_${arch}.deb
dbg=$tmp/build/remora-dbgsym_${dver}_${arch}.deb
[ -f "$deb" ] || die "no $deb"
[ -f "$dbg" ] || fail "no $dbg"
echo "ok: built $(basename "$deb") and $(basename "$dbg") in $((SECONDS - t0)) s"

# ---- 2. Contents ----------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $1, $NF }' | sed 's| \./| /|' >"$tmp/contents"
has() # has MODE PATH
{
	grep -qxF -- "$1 $2" "$tmp/contents" || fail "the package lacks $2 with mode $1: $(grep -F " $2" "$tmp/contents" || echo absent)"
}
has -rwxr-xr-x /usr/sbin/remora
has -rw-r--r-- /etc/remora/remora.conf
has -rw-r--r-- /lib/systemd/system/remora.service
has -rw-r--r-- /usr/lib/sysusers.d/remora.conf
has -rw-r--r-- /etc/logrotate.d/remora
has -rw-r--r-- /usr/share/man/man8/remora.8.gz
has -rw-r--r-- /usr/share/man/man5/remora.conf.5.gz
has -rw-r--r-- /usr/share/doc/remora/deployment.md.gz
has -rw-r--r-- /usr/share/doc/remora/copyright
has -rw-r--r-- /usr/share/doc/remora/changelog.gz
if grep -E '^-..[sS]|^-.....[sS]|^-.......w' "$tmp/contents"; then
	fail "set-id or world-writable files in the package"
fi
mkdir -p "$tmp/ctl" "$tmp/files"
dpkg-deb -e "$deb" "$tmp/ctl"
dpkg-deb -x "$deb" "$tmp/files"
grep -qxF /etc/remora/remora.conf "$tmp/ctl/conffiles" || fail "/etc/remora/remora.conf is not a conffile"
grep -qxF /etc/logrotate.d/remora "$tmp/ctl/conffiles" || fail "/etc/logrotate.d/remora is not a conffile"
grep -q 'systemd-sysusers.*remora.conf' "$tmp/ctl/postinst" || fail "postinst does not run systemd-sysusers"
# dh_installsystemd --no-enable: the unit is registered, enabled again on
# upgrade only if it was enabled (the run-time check below: disabled)
grep -q 'deb-systemd-helper debian-installed' "$tmp/ctl/postinst" || fail "postinst: not the --no-enable snippet"
grep -q 'deb-systemd-invoke stop.*remora.service' "$tmp/ctl/prerm" || fail "prerm does not stop the unit"
grep -q 'rm -rf /var/log/remora' "$tmp/ctl/postrm" || fail "postrm purge does not remove the logs"
grep -q 'USR1' "$tmp/files/etc/logrotate.d/remora" || fail "logrotate snippet does not send SIGUSR1"
grep -qxF 'ExecStart=/usr/sbin/remora -c /etc/remora/remora.conf' "$tmp/files/lib/systemd/system/remora.service" ||
	fail "the packaged unit does not run /usr/sbin/remora -c /etc/remora/remora.conf"
dpkg-deb -f "$dbg" Depends | grep -q "remora (= $dver)" || fail "the -dbgsym package does not depend on remora (= $dver)"
echo "ok: contents, modes, conffiles and maintainer scripts"

# ---- 3. lintian -----------------------------------------------------------
t0=$SECONDS
if lintian --fail-on error --tag-display-limit 0 "$tmp/build/remora_${dver}_${arch}.changes" >"$tmp/lintian.out" 2>&1; then
	echo "ok: lintian: no errors ($(grep -c '^W:' "$tmp/lintian.out" || true) warnings, $((SECONDS - t0)) s)"
	grep '^W:' "$tmp/lintian.out" || true
else
	cat "$tmp/lintian.out" >&2
	fail "lintian reports errors"
fi

# ---- 4. A throw-away Debian root ------------------------------------------
# The base system (minbase, systemd and the package's dependencies) is made
# once by debootstrap from this machine's Debian archive and cached; each
# run installs into a fresh copy of it.
mirror=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
	[ -f "$f" ] || continue
	mirror=$(grep -hoE '(https?|file)://[^ ]*/debian/?( |$)' "$f" | head -1 | tr -d ' ') || true
	[ -n "$mirror" ] && break
done
mirror=${mirror:-http://deb.debian.org/debian}
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
include=$( (echo systemd; echo logrotate; dpkg-deb -f "$deb" Depends | tr ',' '\n') |
	sed -E 's/\(.*\)//; s/\|.*//; s/[[:space:]]//g' | grep -v '^$' | sort -u | paste -sd,)
key=$(echo "$suite $mirror $include" | md5sum | cut -c1-12)
base=$CACHE/debootstrap-$suite-$key
older=$(ls -d "$CACHE/debootstrap-$suite-"* 2>/dev/null | grep -v '\.new$' | head -1) || true
if [ ! -x "$base/usr/bin/dpkg" ] && [ -n "$older" ]; then
	# the dependencies changed: extend an older base with apt
	echo "making the base root from $older: apt-get install ${include//,/ }"
	rm -rf "$base.new"
	cp -a "$older" "$base.new"
	if chroot "$base.new" sh -c "apt-get -q update && DEBIAN_FRONTEND=noninteractive \
		apt-get -q install -y --no-install-recommends ${include//,/ } && apt-get clean" \
		>"$tmp/apt.log" 2>&1; then
		rm -rf "$base" "$older"
		mv "$base.new" "$base"
	else
		tail -5 "$tmp/apt.log" >&2
		rm -rf "$base.new"
	fi
fi
if [ ! -x "$base/usr/bin/dpkg" ]; then
	echo "making the base root: debootstrap --variant=minbase --include=$include $suite $mirror"
	mkdir -p "$CACHE"
	rm -rf "$base.new"
	if debootstrap --variant=minbase --include="$include" "$suite" "$base.new" "$mirror" \
		>"$tmp/debootstrap.log" 2>&1; then
		rm -rf "$base"
		mv "$base.new" "$base"
	else
		tail -5 "$tmp/debootstrap.log" >&2
		rm -rf "$base.new"
		echo "note: debootstrap could not make a Debian root: installing on this host instead (cleaned up afterwards)"
		HOST_INSTALL=1
	fi
fi

# run_in CMD...: runs CMD in the throw-away root (under its systemd when it
# booted), or on the host for a host install.
run_in()
{
	if [ "$HOST_INSTALL" = 1 ]; then
		"$@"
	elif [ -n "$SD_INIT" ]; then
		nsenter -t "$SD_INIT" -a "$@"
	else
		chroot "$root" "$@"
	fi
}

# running: prints the pids of remora processes in the throw-away root
running()
{
	run_in sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = remora ] && echo "${p#/proc/}"; done; true'
}

if [ "$HOST_INSTALL" = 0 ]; then
	cp -a "$base" "$root"
	cp "$deb" "$root/root/" # not /tmp: systemd mounts a tmpfs there
	# systemd in a container: private network, nothing from the host but
	# the root made above; the unit's sandbox needs no more.
	if command -v systemd-nspawn >/dev/null; then
		systemd-nspawn -D "$root" --private-network --register=no --keep-unit \
			--console=passive -M "remora-deb-$$" --boot -- systemd.unit=multi-user.target \
			>"$tmp/nspawn.log" 2>&1 </dev/null &
		NSPAWN_PID=$!
		for i in $(seq 1 100); do
			SD_INIT=$(pgrep -P "$NSPAWN_PID" -x systemd) && break
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		st=
		if [ -n "$SD_INIT" ]; then
			for i in $(seq 1 300); do
				st=$(run_in systemctl is-system-running 2>/dev/null) || true
				case $st in running | degraded) break ;; esac
				sleep 0.1
			done
		fi
		case $st in
		running | degraded) echo "ok: systemd booted in the throw-away root ($st)" ;;
		*)
			echo "note: systemd does not boot in a container here ($st): chroot only"
			tail -5 "$tmp/nspawn.log" >&2 || true
			kill -TERM "$NSPAWN_PID" 2>/dev/null || true
			wait "$NSPAWN_PID" 2>/dev/null || true
			NSPAWN_PID= SD_INIT=
			;;
		esac
	fi
	if [ -z "$SD_INIT" ]; then
		mount -t proc proc "$root/proc"
		mount --bind /dev "$root/dev"
	fi
	pkg=/root/$(basename "$deb")
else
	getent passwd remora >/dev/null || HOST_USER_BEFORE=0
	dpkg -s remora >/dev/null 2>&1 && die "remora is installed on this host already: not touching it"
	pkg=$deb
fi

# ---- 5. Install, start, stop, purge ---------------------------------------
run_in dpkg -i "$pkg" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; die "dpkg -i failed"; }
echo "ok: dpkg -i: $(grep -o 'remora: installed but not enabled.*' "$tmp/install.log" || echo installed)"
run_in getent passwd remora | grep -q ':/nonexistent:/usr/sbin/nologin$' || fail "the user remora was not created"
run_in /usr/sbin/remora -V | grep -q "^remora $mver" || fail "remora -V"
out=$(run_in /usr/sbin/remora -t -c /etc/remora/remora.conf 2>&1) || fail "remora -t on the shipped configuration: $out"
echo "ok: installed: user remora, remora -t: ${out##*: }"
[ -x "$root/usr/sbin/logrotate" ] && [ "$HOST_INSTALL" = 0 ] &&
	{ run_in logrotate -d /etc/logrotate.conf >"$tmp/logrotate.out" 2>&1 || fail "logrotate -d: $(tail -3 "$tmp/logrotate.out")"; }

if [ -n "$SD_INIT" ]; then
	st=$(run_in systemctl is-enabled remora.service 2>&1) || true
	[ "$st" = disabled ] || fail "remora.service after installation: is-enabled=$st, want disabled"
	st=$(run_in systemctl is-active remora.service 2>&1) || true
	[ "$st" = inactive ] || fail "remora.service started on installation ($st)"
	[ -z "$(running)" ] || fail "a remora process runs after installation"
	echo "ok: installed disabled, nothing started"
	run_in systemctl enable --now remora.service >/dev/null 2>&1 || {
		run_in journalctl -u remora --no-pager -o cat | tail -20 >&2
		die "systemctl enable --now remora failed"
	}
	st=$(run_in systemctl show -p StatusText --value remora.service)
	case $st in "serving: "*) echo "ok: started under systemd: $st" ;; *) fail "StatusText '$st'" ;; esac
	run_in systemctl is-active remora.service >/dev/null || fail "remora.service is not active"
	# the self-check ran inside the unit's sandbox (netlink allowed) and
	# found no policy routing in the container: a warning, not a refusal
	j=$(run_in journalctl -u remora --no-pager -o cat)
	grep -q 'self-check: IPv4: no ip rule sends mark 0x1 to table 100; fix: ' <<<"$j" ||
		fail "no self-check warning in the journal: $(tail -5 <<<"$j")"
	if grep -q 'cannot read' <<<"$j"; then fail "the self-check cannot read the routing under the unit"; fi
	run_in systemctl reload remora.service || {
		run_in journalctl -u remora --no-pager -o cat | tail -10 >&2
		fail "systemctl reload remora"
	}
	run_in dpkg -r remora >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; die "dpkg -r failed"; }
	st=$(run_in systemctl is-active remora.service 2>&1) || true
	case $st in inactive | unknown) ;; *) fail "remora.service after dpkg -r: $st" ;; esac
	[ -z "$(running)" ] || fail "a remora process survived dpkg -r"
	echo "ok: dpkg -r stopped the service"
else
	# No systemd: start it by hand in a private network namespace.
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	if [ "$HOST_INSTALL" = 1 ]; then
		ip netns exec "$NS" /usr/sbin/remora -c /etc/remora/remora.conf >"$tmp/remora.log" 2>&1 &
	else
		ip netns exec "$NS" chroot "$root" /usr/sbin/remora -c /etc/remora/remora.conf >"$tmp/remora.log" 2>&1 &
	fi
	rpid=$!
	for i in $(seq 1 100); do
		[ -n "$(ip netns exec "$NS" ss -Htln 'sport = :9180')" ] && break
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.1
	done
	ok=$(ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:9180/healthz || true)
	[ -n "$ok" ] || fail "remora from the package did not answer /healthz: $(cat "$tmp/remora.log")"
	kill -TERM "$rpid"
	wait "$rpid" || fail "remora exited with $? on SIGTERM"
	echo "ok: started by hand (no systemd), /healthz answered, stopped"
	run_in dpkg -r remora >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; die "dpkg -r failed"; }
fi
run_in test -f /etc/remora/remora.conf || fail "dpkg -r removed the conffile"
run_in test -e /usr/sbin/remora && fail "dpkg -r left /usr/sbin/remora"
run_in mkdir -p /var/log/remora
run_in touch /var/log/remora/access.log
run_in dpkg -P remora >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; die "dpkg -P failed"; }
run_in test -e /etc/remora && fail "dpkg -P left /etc/remora"
run_in test -e /var/log/remora && fail "dpkg -P left /var/log/remora"
run_in test -e /etc/logrotate.d/remora && fail "dpkg -P left /etc/logrotate.d/remora"
run_in getent passwd remora >/dev/null || fail "dpkg -P removed the system user (Debian keeps it)"
if [ -n "$SD_INIT" ]; then
	run_in test -e /etc/systemd/system/multi-user.target.wants/remora.service &&
		fail "dpkg -P left the unit enabled"
fi
echo "ok: dpkg -P removed /etc/remora and /var/log/remora, kept the user"
[ "$HOST_INSTALL" = 1 ] && echo "note: installed on this host (no Debian archive for a throw-away root)"
[ $bad = 0 ] || exit 1
echo "PASS ($SECONDS s)"
