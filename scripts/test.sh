#!/bin/bash
# The README's test command: installs what the tests need, builds, and runs
# the whole test suite, then prints the totals as one line:
#   1. the regular build (build/): every suite — unit, lint, netns, fuzz, install…
#   2. ASan + UBSan (build-asan/): the unit and netns suites again
#   3. TSan (build-tsan/): the unit suite and the threaded netns tests
# Usage: sudo bash scripts/test.sh [--quick]   (--quick: step 1 only)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = --quick ] && quick=1

bash scripts/deps.sh
werror=false
[ "${CI:-}" = true ] && werror=true

# setup DIR [meson options...]: configure (or reconfigure) a build directory
setup()
{
	local dir=$1
	shift
	if [ ! -d "$dir" ]; then
		meson setup "$dir" -Dwerror=$werror "$@"
	else
		meson configure "$dir" -Dwerror=$werror "$@"
	fi
	meson compile -C "$dir"
}

rc=0
logs=()
setup build
meson test -C build --print-errorlogs --num-processes 2 || rc=1
logs+=(build/meson-logs/testlog.json)

if [ $quick -eq 0 ]; then
	setup build-asan -Djemalloc=false -Db_sanitize=address,undefined -Db_lundef=false
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 \
		--suite unit --suite netns || rc=1
	logs+=(build-asan/meson-logs/testlog.json)

	setup build-tsan -Djemalloc=false -Db_sanitize=thread -Db_lundef=false
	export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 exitcode=66"
	CK_TIMEOUT_MULTIPLIER=10 meson test -C build-tsan --print-errorlogs --num-processes 2 \
		--suite unit --logbase tsan-unit || rc=1
	meson test -C build-tsan --print-errorlogs --num-processes 2 --logbase tsan-netns \
		workers sigterm reload concurrency limits_acl alog_reopen admin_dos || rc=1
	unset TSAN_OPTIONS
	logs+=(build-tsan/meson-logs/tsan-unit.json build-tsan/meson-logs/tsan-netns.json)
fi

# totals from meson's machine-readable logs, so a run that ran nothing shows it
python3 - "${logs[@]}" <<'PY'
import json, sys
counts = {}
bad = []
for path in sys.argv[1:]:
    for line in open(path):
        line = line.strip()
        if line:
            t = json.loads(line)
            r = t["result"]
            counts[r] = counts.get(r, 0) + 1
            if r not in ("OK", "EXPECTEDFAIL", "SKIP"):
                bad.append(f"{path.split('/')[0]}: {t['name']} {r}")
for b in bad:
    print("not passed:", b)
passed = counts.get("OK", 0) + counts.get("EXPECTEDFAIL", 0)
skipped = counts.get("SKIP", 0)
failed = sum(counts.values()) - passed - skipped
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
