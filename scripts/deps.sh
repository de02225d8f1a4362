#!/usr/bin/env bash
#
# Installs what Remora needs to build, test and benchmark, on Debian (and
# derivatives).  Idempotent: apt is touched only when a package is missing.
# Services the packages ship (nginx, haproxy, squid) are not left running in
# the root namespace when this run installed them: the tests start their own
# copies inside namespaces. A service that was already installed (a
# production nginx, say) is never stopped or disabled.
#
# usage: sudo scripts/deps.sh
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config
	liburcu-dev libjemalloc-dev check libinih-dev libsystemd-dev libcap-dev
	nftables iproute2 nginx wrk curl haproxy squid clang python3 procps
	libclang-rt-14-dev libhttp-parser-dev gnuplot-nox clang-format
	libc-ares-dev dnsmasq-base iptables systemd-container mandoc tshark
	debhelper dpkg-dev fakeroot lintian debootstrap python3-websockets nghttp2-client
	openssl gnutls-bin
)
SERVICES=(nginx haproxy squid)

log()
{
	echo "deps: $*"
}

if [ ! -r /etc/debian_version ] || ! command -v dpkg-query >/dev/null 2>&1; then
	log "not a Debian system: install by hand: ${PKGS[*]}"
	exit 1
fi

installed()
{
	local st

	st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[ "$st" = "install ok installed" ]
}

missing=()
for p in "${PKGS[@]}"; do
	if [ "$p" = nginx ] && { installed nginx || installed nginx-core ||
					installed nginx-full || installed nginx-extras; }; then
		continue	# any nginx flavour will do
	fi
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	log "all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	log "missing: ${missing[*]}; run as root (sudo $0)"
	exit 1
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# A real machine may have just started the packaged daemons in the root
# namespace (policy-rc.d aside): stop and disable those this run installed
# (only those), the tests and benchmarks run their own. Without systemd
# nothing was started.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	for s in "${SERVICES[@]}"; do
		for p in "${missing[@]}"; do
			if [ "$p" = "$s" ]; then
				systemctl disable --now "$s" >/dev/null 2>&1 || true
			fi
		done
	done
fi
log "done"
