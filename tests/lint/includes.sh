#!/bin/sh
# includes.sh SOURCE_ROOT — include boundaries of the rooms (STYLE.md: the
# dependencies point one way; as Tor's .may_include):
#   src/http/*       libc headers only, "http/http.h" and the room's own headers
#   src/tls/*        libc headers only, "tls/tls.h" and the room's own headers
#   src/poller/*     system headers, "remora-config.h", "poller/poller.h", own headers
#   src/intercept/*  system/kernel headers, "remora-config.h",
#                    "intercept/intercept.h", own headers
#   everywhere       no #include of a .c file, no computed #include
# "System" excludes the project's third-party libraries (urcu, inih, jemalloc,
# check). "Own headers" are the room's private headers: "room/x.h" or "x.h"
# naming a header that exists in that folder.
# Exit: 0 clean, 1 violations (each printed as FILE:LINE: include: why).
set -u
root=${1:?usage: includes.sh SOURCE_ROOT}
cd "$root" || exit 1

# The C standard library plus <strings.h>: nothing about sockets or threads.
libc=' assert.h ctype.h errno.h float.h inttypes.h limits.h stdarg.h stdbool.h stddef.h
 stdint.h stdio.h stdlib.h string.h strings.h '
third_party='urcu.h urcu/* ini.h jemalloc/* check.h'

is_third_party() {
	for pat in $third_party; do
		# shellcheck disable=SC2254
		case $1 in $pat) return 0 ;; esac
	done
	return 1
}

# own_header ROOM NAME: NAME is "ROOM/x.h" or "x.h" for a header in src/ROOM.
own_header() {
	case $2 in
	*/*/*) return 1 ;;
	"$1"/*.h) [ -f "src/$2" ] ;;
	*/*) return 1 ;;
	*.h) [ -f "src/$1/$2" ] ;;
	*) return 1 ;;
	esac
}

check_file() { # FILE ROOM (ROOM empty: only the global rules)
	file=$1
	room=$2
	grep -n '^[[:space:]]*#[[:space:]]*include' "$file" | while IFS= read -r hit; do
		line=${hit%%:*}
		inc=$(printf '%s\n' "${hit#*:}" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p')
		where="$file:$line"
		if [ -z "$inc" ]; then
			echo "$where: ${hit#*:}: computed include (cannot be checked)"
			continue
		fi
		name=${inc#?}
		name=${name%?}
		case $name in
		*.c) echo "$where: $inc: never include a .c file (STYLE.md)"; continue ;;
		esac
		[ -n "$room" ] || continue
		case $inc in
		\<*)
			if [ "$room" = http ] || [ "$room" = tls ]; then
				case $libc in
				*" $name "* | *" $name
"*) ;;
				*) echo "$where: $inc: src/$room may include libc headers only" ;;
				esac
			elif is_third_party "$name"; then
				echo "$where: $inc: src/$room may not use third-party libraries"
			fi
			;;
		*)
			own_header "$room" "$name" && continue
			case "$room:$name" in
			http:http/http.h) ;;
			tls:tls/tls.h) ;;
			poller:remora-config.h | poller:poller/poller.h) ;;
			intercept:remora-config.h | intercept:intercept/intercept.h) ;;
			*) echo "$where: $inc: not allowed in src/$room" ;;
			esac
			;;
		esac
	done
}

out=$(
	find src -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort | while IFS= read -r f; do
		case $f in
		src/http/*) check_file "$f" http ;;
		src/tls/*) check_file "$f" tls ;;
		src/poller/*) check_file "$f" poller ;;
		src/intercept/*) check_file "$f" intercept ;;
		*) check_file "$f" "" ;;
		esac
	done
)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "include boundaries: $(printf '%s\n' "$out" | wc -l) violation(s)"
	exit 1
fi
echo "include boundaries: ok"
exit 0
