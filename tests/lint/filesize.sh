#!/bin/sh
# filesize.sh SOURCE_ROOT [MAX] — every file under src/ has fewer than MAX
# lines (default 1000; STYLE.md: files stay well under 1,000 lines).
# Exit: 0 all small enough, 1 otherwise (each offender printed).
set -u
root=${1:?usage: filesize.sh SOURCE_ROOT [MAX]}
max=${2:-1000}
cd "$root" || exit 1

out=$(find src -type f | LC_ALL=C sort | while IFS= read -r f; do
	n=$(wc -l <"$f")
	if [ "$n" -ge "$max" ]; then
		echo "FAIL: $f has $n lines (limit: fewer than $max)"
	fi
done)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	exit 1
fi
echo "file sizes: every file under src/ has fewer than $max lines"
exit 0
