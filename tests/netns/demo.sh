#!/bin/bash
# The README's first command, scripts/demo.sh, as a test: the demo runs on the
# suite's own build (DEMO_PREBUILT=1: no package install, no build of its own)
# and must pass every one of its checks (HTTP v4/v6 through Remora with the
# client's address at the origin, HTTPS with its SNI in the access log, a
# burst of 2,000 checked requests). Keeps the two-command promise tested.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(DEMO_PREBUILT=1 bash "$root/scripts/demo.sh" 2>&1) || {
	echo "$out"
	echo "FAIL: scripts/demo.sh exited with an error" >&2
	exit 1
}
echo "$out"
grep -Eq '^demo: all [0-9]+ checks passed' <<<"$out" || { echo "FAIL: no pass line" >&2; exit 1; }
n=$(sed -nE 's/^demo: all ([0-9]+) checks passed.*/\1/p' <<<"$out")
[ "$n" -ge 7 ] || { echo "FAIL: only $n checks ran (want 7)" >&2; exit 1; }
echo "PASS"
