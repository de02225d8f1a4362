#!/bin/sh
# selftest.sh LINT_DIR [CC...] — the lint checks must catch what they claim
# to: each runs against fixtures (LINT_DIR/fixtures) that pass and that fail.
# CC (the C compiler's command) enables the bsd_compile.sh checks.
# Exit: 0 all as expected, 1 otherwise, 77 when clang-format is missing
# (after the other checks passed).
set -u
dir=${1:?usage: selftest.sh LINT_DIR [CC...]}
shift
fx=$dir/fixtures
fail=0
skip=0

# expect WANT_RC NAME CMD...: runs CMD, compares its exit status.
expect() {
	want=$1
	name=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 77 ] && [ "$want" != 77 ]; then
		echo "skip: $name (exit 77)"
		skip=1
	elif [ "$rc" != "$want" ]; then
		echo "FAIL: $name: exit $rc, expected $want"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=1
	else
		echo "ok: $name"
	fi
}

# includes: the good tree passes; in the bad one, every marked line is named.
expect 0 "includes: allowed includes pass" sh "$dir/includes.sh" "$fx/includes-good"
expect 1 "includes: violations fail" sh "$dir/includes.sh" "$fx/includes-bad"
out=$(sh "$dir/includes.sh" "$fx/includes-bad" 2>&1)
want=$(cd "$fx/includes-bad" && grep -rn 'VIOLATION' src | LC_ALL=C sort | cut -d: -f1,2)
for loc in $want; do
	if ! printf '%s\n' "$out" | grep -q "^$loc: "; then
		echo "FAIL: includes: $loc is a violation but was not reported"
		fail=1
	fi
done
nwant=$(printf '%s\n' "$want" | grep -c .)
ngot=$(printf '%s\n' "$out" | grep -c '^src/')
if [ "$nwant" != "$ngot" ]; then
	echo "FAIL: includes: $ngot violations reported, $nwant marked"
	printf '%s\n' "$out" | sed 's/^/    /'
	fail=1
else
	echo "ok: includes: all $nwant marked violations reported, nothing else"
fi

# file sizes: the fixtures are small; a tiny limit must catch them.
expect 0 "filesize: small files pass" sh "$dir/filesize.sh" "$fx/includes-bad"
expect 1 "filesize: a file over the limit fails" sh "$dir/filesize.sh" "$fx/format-good" 5

# clang-format: formatted passes, unformatted fails, the baseline excuses it.
expect 0 "clang-format: formatted file passes" sh "$dir/clang_format.sh" "$fx/format-good"
expect 1 "clang-format: unformatted file fails" sh "$dir/clang_format.sh" "$fx/format-bad"
expect 0 "clang-format: baseline excuses a listed file" \
	sh "$dir/clang_format.sh" "$fx/format-bad" "$fx/format-bad/baseline.txt"

# bsd compile: declared names pass in both flavours; a Linux-only name fails;
# an OpenBSD-only name fails (the FreeBSD flavour runs too).
if [ $# -gt 0 ]; then
	bsd() { # FIXTURE CC...
		f=$1
		shift
		sh "$dir/bsd_compile.sh" -f "src/$f.c" "$dir/bsd-headers" "$fx/bsd" "$fx/bsd" "$@"
	}
	expect 0 "bsd compile: portable code passes" bsd portable "$@"
	expect 1 "bsd compile: a Linux-only name fails" bsd linuxism "$@"
	expect 1 "bsd compile: an OpenBSD-only name fails the FreeBSD flavour" bsd openbsd_only "$@"
fi

[ "$fail" = 0 ] && [ "$skip" = 1 ] && exit 77
exit $fail
