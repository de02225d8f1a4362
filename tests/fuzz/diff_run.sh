#!/bin/bash
# Differential check of Remora's HTTP framing against nodejs http-parser
# (docs/http.md, "Differential check"). Builds tests/fuzz/diff_http_parser.c
# with cc against src/http and -lhttp_parser, then:
#   1. its self-test (an unlisted difference must be caught);
#   2. the seed corpus with no rules at all must FAIL (the check can fail);
#   3. the seed corpus, inputs beyond the head limits made here, and any
#      extra PATHs (e.g. a fuzzer's corpus) must pass with differences.txt
#      and diff_known_bugs.txt, every rule shown by some input; then the
#      same with [http] lenient_bare_lf = on (rules need not all be shown);
#   4. every rule ID of differences.txt is documented in docs/http.md.
#   tests/fuzz/diff_run.sh SRCROOT OUTDIR [PATH...]
# Exit 0: no unlisted difference; 1: a failure (printed); 77: no http_parser.h.
set -euo pipefail
src=${1:?source root}
out=${2:?output directory}
shift 2
cc=${CC:-cc}
mkdir -p "$out"
src=$(cd "$src" && pwd)
out=$(cd "$out" && pwd)
if ! echo '#include <http_parser.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
	echo "SKIP: http_parser.h not found (Debian: libhttp-parser-dev)"
	exit 77
fi
bin="$out/diff_http_parser"
"$cc" -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
	-I"$src/src" -o "$bin" "$src/tests/fuzz/diff_http_parser.c" "$src/src/http/parse.c" \
	"$src/src/http/body.c" "$src/src/http/normalize.c" -lhttp_parser

fz="$src/tests/fuzz"
fail=0

# inputs beyond the head limits, too big for the seed corpus (first byte: the
# fuzz control byte; see tests/fuzz/corpus)
lim="$out/limits"
mkdir -p "$lim/request" "$lim/response"
fields() { # fields COUNT VALUE_LENGTH
	local i v
	v=$(head -c "$2" /dev/zero | tr '\0' v)
	for ((i = 0; i < $1; i++)); do printf 'X-%05d: %s\r\n' "$i" "$v"; done
}
{ printf '\x11GET /'; head -c 8300 /dev/zero | tr '\0' a; printf ' HTTP/1.1\r\nHost: h\r\n\r\n'; } \
	>"$lim/request/line_too_long"
{ printf '\x11GET / HTTP/1.1\r\nHost: h\r\n'; fields 80 200; printf '\r\n'; } \
	>"$lim/request/head_too_large"
{ printf '\x10HTTP/1.1 200 OK\r\n'; fields 80 200; printf '\r\n'; } >"$lim/response/head_too_large"
{ printf '\x10HTTP/1.1 200 OK\r\n'; fields 1001 1; printf 'Content-Length: 0\r\n\r\n'; } \
	>"$lim/response/too_many_fields"
# 1: the self-test
"$bin" --selftest || fail=1

# 2: without its rules the seed corpus must show differences
set +e
"$bin" -x 0 -q "$fz/corpus/request" -s "$fz/corpus/response" >"$out/norules.log" 2>&1
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
	echo "FAIL: the seed corpus with no rules exited $rc, not 1 (see $out/norules.log)"
	fail=1
else
	echo "ok: with no rules the seed corpus fails: $(grep '^FAIL' "$out/norules.log")"
fi

# 3: the real run
"$bin" -r "$fz/differences.txt" -b "$fz/diff_known_bugs.txt" -u \
	-q "$fz/corpus/request" "$lim/request" -s "$fz/corpus/response" "$lim/response" \
	-a "$@" || fail=1
# the one named leniency must not bring a framing difference of its own
echo "with [http] lenient_bare_lf = on:"
"$bin" -l -r "$fz/differences.txt" -b "$fz/diff_known_bugs.txt" \
	-q "$fz/corpus/request" "$lim/request" -s "$fz/corpus/response" "$lim/response" \
	-a "$@" >"$out/lenient.log" || {
	cat "$out/lenient.log"
	fail=1
}
grep -E '^  UNLISTED' "$out/lenient.log" || true

# 4: each intended difference is explained in docs/http.md
doc="$src/docs/http.md"
while read -r id _; do
	case "$id" in '' | '#'*) continue ;; esac
	grep -qF "\`$id\`" "$doc" || {
		echo "FAIL: rule $id of differences.txt is not in docs/http.md"
		fail=1
	}
done <"$fz/differences.txt"
exit $fail
