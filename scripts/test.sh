#!/bin/bash
# The README's test command: installs what the tests need, builds, runs every
# meson test suite (unit, lint, netns) and prints the totals as one line.
#   sudo bash scripts/test.sh [extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
werror=false
[ "${CI:-}" = true ] && werror=true
if [ ! -d build ]; then
	meson setup build -Dwerror=$werror
else
	meson configure build -Dwerror=$werror
fi
meson compile -C build

rc=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || rc=$?

# totals from meson's machine-readable log, so a run that ran nothing shows it
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
counts = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        r = json.loads(line)["result"]
        counts[r] = counts.get(r, 0) + 1
passed = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
skipped = counts.get("SKIP", 0)
failed = sum(counts.values()) - passed - skipped
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
