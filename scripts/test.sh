#!/bin/bash
# The README's test command: installs what the tests need, builds, and runs
# the whole test suite, then prints the totals as one line:
#   1. the regular build (build/): every suite — unit, lint, netns, fuzz, install…
#   2. ASan + UBSan (build-asan/): the unit and netns suites again
#   3. TSan (build-tsan/): the unit suite and the threaded netns tests
# A test that fails is run once more on its own, unless a sanitizer reported;
# the totals name every test that passed only on retry, and the exit status
# is 0 only when each test passed at least once.
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
# suite DIR LOGBASE [meson test args...]: runs tests; a test that fails is run
# once more on its own (the machine may be busy: timing-bound tests can lose
# a race), and the totals below name it as passed on retry or failed twice
suite()
{
	local dir=$1 base=$2 failed
	shift 2
	logs+=("$dir/meson-logs/$base.json")
	rm -f "$dir/meson-logs/$base-retry.json" # (a build directory used before)
	meson test -C "$dir" --print-errorlogs --num-processes 2 --logbase "$base" "$@" && return 0
	# (not when a sanitizer reported: that is a bug, however rarely it shows)
	failed=$(python3 -c '
import json, sys
san = ("Sanitizer", "runtime error:")
names, found = [], False
for line in open(sys.argv[1]):
    if line.strip():
        t = json.loads(line)
        if t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP"):
            names.append(t["name"].split(" / ")[-1])
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            found = found or any(s in out for s in san)
if not found:
    print("\n".join(sorted(set(names))))' "$dir/meson-logs/$base.json")
	if [ -z "$failed" ]; then
		rc=1
		return 0
	fi
	echo "== $dir: running again, one at a time: $(echo $failed)"
	# shellcheck disable=SC2086
	meson test -C "$dir" --print-errorlogs --num-processes 1 --logbase "$base-retry" $failed ||
		rc=1
}

setup build
suite build testlog

if [ $quick -eq 0 ]; then
	setup build-asan -Djemalloc=false -Db_sanitize=address,undefined -Db_lundef=false
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		suite build-asan testlog --suite unit --suite netns

	setup build-tsan -Djemalloc=false -Db_sanitize=thread -Db_lundef=false
	export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 exitcode=66"
	CK_TIMEOUT_MULTIPLIER=10 suite build-tsan tsan-unit --suite unit
	suite build-tsan tsan-netns workers sigterm reload concurrency limits_acl alog_reopen admin_dos
	unset TSAN_OPTIONS
fi

# totals from meson's machine-readable logs, so a run that ran nothing shows it
python3 - "${logs[@]}" <<'PY'
import json, os, sys
GOOD = ("OK", "EXPECTEDFAIL")
def results(path):
    out = []
    if os.path.exists(path):
        for line in open(path):
            if line.strip():
                t = json.loads(line)
                out.append((t["name"], t["result"]))
    return out
passed = failed = skipped = 0
notes = []
for path in sys.argv[1:]:
    retry = dict(results(path[:-len(".json")] + "-retry.json"))
    for name, r in results(path):
        where = path.split("/")[0]
        if r in GOOD:
            passed += 1
        elif r == "SKIP":
            skipped += 1
        elif retry.get(name) in GOOD:
            passed += 1
            notes.append(f"passed on retry: {where}: {name} (first run: {r})")
        else:
            failed += 1
            notes.append(f"FAILED: {where}: {name} {r}" +
                         (f", again on retry: {retry[name]}" if name in retry else ""))
for n in notes:
    print(n)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
