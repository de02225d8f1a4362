#!/bin/sh
# bsd_compile.sh [-f FILE]... HEADERS SOURCE_ROOT CONFIG_DIR CC [CC_ARGS...]
# Compiles the BSD-only sources on Linux: -fsyntax-only -Wall -Wextra -Werror
# (and the project's warnings), against the declaration headers in HEADERS
# only (-nostdinc: nothing from the host's libc), once per flavour:
#   freebsd  -D__FreeBSD__=12  (IP_BINDANY, IPV6_BINDANY, kevent.ext)
#   openbsd  -D__OpenBSD__=1   (SO_BINDANY)
# FILEs are relative to SOURCE_ROOT (default: the kqueue poller, its pure
# half and the PF/IPFW interception); CONFIG_DIR holds remora-config.h.
# Exit: 0 all compile, 1 any fails (the compiler's messages printed).
set -u
files=
while getopts f: opt; do
	case $opt in
	f) files="$files $OPTARG" ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 4 ] || {
	echo "usage: bsd_compile.sh [-f FILE]... HEADERS SOURCE_ROOT CONFIG_DIR CC [CC_ARGS...]"
	exit 2
}
hdrs=$1
root=$2
config=$3
shift 3
[ -n "$files" ] ||
	files='src/poller/poller_kqueue.c src/poller/kqueue_xlate.c src/intercept/intercept_pf.c'

fail=0
for flavour in freebsd openbsd; do
	case $flavour in
	freebsd) def=-D__FreeBSD__=12 ;;
	openbsd) def=-D__OpenBSD__=1 ;;
	esac
	for f in $files; do
		if out=$("$@" -fsyntax-only -std=gnu11 -nostdinc -isystem "$hdrs" \
			-U__linux__ -U__linux -Ulinux -U__gnu_linux__ "$def" \
			-I "$config" -I "$root/src" -I "$root" \
			-Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
			-Wpointer-arith "$root/$f" 2>&1); then
			echo "ok: $flavour: $f"
		else
			echo "FAIL: $flavour: $f"
			printf '%s\n' "$out" | sed 's/^/    /'
			fail=1
		fi
	done
done
exit $fail
