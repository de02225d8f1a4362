#!/bin/bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 20) from the seed corpus. Exit 0: no finding; 77: no
# clang/libFuzzer here. Crash inputs are left in $OUT (printed on failure).
#   tests/fuzz/run.sh SRCROOT OUTDIR [SECONDS]
set -euo pipefail
src=${1:?source root}
out=${2:?output directory}
secs=${3:-${FUZZ_SECONDS:-20}}
command -v clang >/dev/null || { echo "SKIP: clang not installed"; exit 77; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$(cd "$src" && pwd)
flags=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$src/src" -D_GNU_SOURCE)
# the config target needs the generated build header and libinih
build_h=$(mktemp -d)
printf '#define HAVE_IPV6_TRANSPARENT 1\n#define HAVE_JEMALLOC 0\n' >"$build_h/remora-config.h"
for t in request response config sniff tls; do
	bin="$out/fuzz_$t"
	case $t in
	config) srcs=("$src/src/config.c" "$src/src/config_values.c" "$src/src/config_deny.c"
		"$src/src/domains.c" "$src/src/intercept/addr.c" "$src/src/log.c" -linih)
		dict="$src/tests/fuzz/config.dict" ;;
	sniff) srcs=("$src/src/http/sniff.c" "$src/src/http/parse.c")
		dict="$src/tests/fuzz/http.dict" ;;
	tls) srcs=("$src/src/tls/clienthello.c" "$src/src/tls/ja4.c" "$src/src/tls/sha256.c")
		dict="$src/tests/fuzz/tls.dict" ;;
	*) srcs=("$src/src/http/parse.c" "$src/src/http/body.c" "$src/src/http/normalize.c")
		dict="$src/tests/fuzz/http.dict" ;;
	esac
	if ! clang "${flags[@]}" -I"$build_h" -o "$bin" "$src/tests/fuzz/fuzz_$t.c" "${srcs[@]}" \
		2>"$out/build_$t.log"; then
		if grep -q 'libclang_rt.fuzzer\|cannot find' "$out/build_$t.log"; then
			echo "SKIP: libFuzzer runtime missing (libclang-rt-14-dev)"
			exit 77
		fi
		cat "$out/build_$t.log"
		exit 1
	fi
	work="$out/corpus_$t"
	mkdir -p "$work"
	echo "fuzz_$t: ${secs}s"
	(cd "$out" && "$bin" -max_total_time="$secs" -dict="$dict" \
		-max_len=8192 -print_final_stats=1 "$work" "$src/tests/fuzz/corpus/$t" \
		2>"$out/fuzz_$t.log") || {
		tail -40 "$out/fuzz_$t.log"
		echo "FINDING: fuzz_$t (crash input in $out)"
		exit 1
	}
	grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$out/fuzz_$t.log" || true
done
