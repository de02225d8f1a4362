#!/bin/bash
# The man pages render without warnings (mandoc -T lint, groff -ww, man -l)
# and say everything the code does: every command-line option of main.c,
# every signal it takes, every configuration key and section of config.c,
# every restart-only setting of server.c; docs/deployment.md names every
# metric of admin.c.  A key added to the code without documentation fails here.
# Usage: man_pages.sh SOURCE_DIR.  No root needed; exit 77 when neither
# mandoc nor groff is installed.
set -euo pipefail
src=${1:?man_pages.sh SOURCE_DIR}
m8="$src/docs/man/remora.8"
m5="$src/docs/man/remora.conf.5"
dep="$src/docs/deployment.md"
bad=0
fail() { echo "FAIL: $*" >&2; bad=1; }

have_mandoc=0 have_groff=0 have_man=0
command -v mandoc >/dev/null && have_mandoc=1
command -v groff >/dev/null && have_groff=1
command -v man >/dev/null && have_man=1
if [ $have_mandoc = 0 ] && [ $have_groff = 0 ]; then
	echo "SKIP: neither mandoc nor groff installed"
	exit 77
fi

# 1. Rendering.
for page in "$m8" "$m5"; do
	[ -f "$page" ] || { fail "$page missing"; continue; }
	if LC_ALL=C grep -nP '[^\x00-\x7F]' "$page"; then
		fail "$page: non-ASCII bytes (use roff escapes)"
	fi
	if [ $have_mandoc = 1 ]; then
		out=$(mandoc -T lint -W warning "$page" 2>&1) || true
		[ -z "$out" ] || fail "mandoc -T lint $page: $out"
	fi
	if [ $have_groff = 1 ]; then
		out=$(groff -ww -z -t -man "$page" 2>&1) || true
		[ -z "$out" ] || fail "groff -ww $page: $out"
	fi
	if [ $have_man = 1 ]; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || true
		[ -z "$out" ] || fail "man -l $page: $out"
	fi
done
echo "ok: pages render without warnings (mandoc=$have_mandoc groff=$have_groff man=$have_man)"

# 2. remora(8): every getopt option and every signal main.c handles.
opts=$(sed -nE 's/.*getopt(_long)?\(argc, argv, "([^"]*)".*/\2/p' "$src/src/main.c" | tr -d ':')
[ -n "$opts" ] || fail "cannot find the getopt string in src/main.c"
for ((i = 0; i < ${#opts}; i++)); do
	o=${opts:$i:1}
	grep -qE "^\.B[IR]? \\\\-$o( |$)" "$m8" || fail "remora.8 does not document option -$o"
done
for lo in $(grep -oE '^[[:space:]]*\{"[a-z-]+", (no|required|optional)_argument' "$src/src/main.c" |
	sed -E 's/.*"(.*)".*/\1/'); do
	grep -qE "^\.B[IR]? \\\\-\\\\-${lo//-/\\\\-}( |\$|\[)" "$m8" || fail "remora.8 does not document option --$lo"
done
for sig in $(grep -oE 'sigaddset\(&sigs, SIG[A-Z0-9]+\)' "$src/src/main.c" | grep -oE 'SIG[A-Z0-9]+'); do
	grep -qE "^\.B[R]? .*\\b$sig\\b" "$m8" || fail "remora.8 does not document $sig"
done
echo "ok: remora.8 covers options -$opts and the signals"

# 3. remora.conf(5): every key and section config.c accepts.
keys=$( (grep -oE 'strcmp\(name, "[a-z_0-9]+"\)' "$src/src/config.c" | sed -E 's/.*"(.*)".*/\1/'
	grep -oE '^[[:space:]]*\{"[a-z_0-9]+", K_' "$src/src/config.c" | sed -E 's/.*"(.*)".*/\1/') | sort -u)
[ -n "$keys" ] || fail "cannot find any key in src/config.c"
n=0
for k in $keys; do
	n=$((n + 1))
	grep -qE "^\.B[IR]? $k( |$)" "$m5" || fail "remora.conf.5 does not document the key '$k'"
done
sections=$(sed -n '/singles\[\] *= *{/,/};/p' "$src/src/config.c" | grep -oE '"[a-z]+"' | tr -d '"')
[ -n "$sections" ] || fail "cannot find the section list in src/config.c"
for s in $sections "listener NAME"; do
	grep -qF ".SH \"[$s]\"" "$m5" || fail "remora.conf.5 has no section for [$s]"
done
echo "ok: remora.conf.5 covers $n keys and the sections" $sections

# 4. Restart-only settings (server.c check_restart_only) are listed under RELOAD.
reload=$(sed -n '/^\.SH "RELOAD"/,/^\.SH /p' "$m5")
while read -r sec k; do
	[ -n "$k" ] || continue
	grep -qE "^\.B \\$sec $k\$" <<<"$reload" || fail "RELOAD in remora.conf.5 does not list $sec $k"
done < <(sed -n '/^static int check_restart_only/,/^}/p' "$src/src/server.c" |
	grep -oE '"\[[a-z]+\] [a-z_]+' | tr -d '"' | sort -u)
echo "ok: restart-only settings listed"

# 5. docs/deployment.md names every metric /metrics exports.
if [ -f "$dep" ]; then
	missing=0
	for metric in $(grep -oE 'help\(o, "remora_[a-z_]+"' "$src/src/admin.c" | sed -E 's/.*"(.*)"/\1/'); do
		grep -qF "\`$metric\`" "$dep" || { fail "docs/deployment.md does not list the metric $metric"; missing=1; }
	done
	[ $missing = 1 ] || echo "ok: docs/deployment.md lists every metric"
else
	fail "docs/deployment.md missing"
fi
[ $bad = 0 ] || exit 1
echo "PASS"
