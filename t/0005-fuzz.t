#!/bin/sh
# The libFuzzer harnesses of t/fuzz (README, "Fuzzing") build, replay
# their seeds and every input that once broke a parser
# (t/fuzz/regress/TARGET: a crash or a broken oracle fails this test),
# and fuzz a few seconds each, so that no harness rots.  `make fuzz`
# runs them for longer.  Skipped without clang and its libFuzzer.
cd "$(dirname "$0")" && . ./lib.sh

FUZZ_CC=${FUZZ_CC:-clang}
# Seconds of fuzzing per target here (make fuzz: FUZZ_SECONDS).
secs=${NYM_FUZZ_SECONDS:-2}

case ${NYM_BIN:-} in
*/asan/bin) test_skip_all "the sanitizer pass: the fuzz targets are sanitized already and ran in the first pass" ;;
esac
command -v "$FUZZ_CC" >/dev/null 2>&1 ||
    test_skip_all "no $FUZZ_CC here: make fuzz needs clang with libFuzzer"
mkdir -p "$TRASH" && printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$TRASH/probe.c" &&
"$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o "$TRASH/probe" "$TRASH/probe.c" \
    >/dev/null 2>&1 ||
    test_skip_all "$FUZZ_CC cannot link -fsanitize=fuzzer,address,undefined (libFuzzer missing)"

targets=$(cd "$TOP/t/fuzz" && ls *.c | sed 's/\.c$//')

test_expect_success 'every target has seeds, and make fuzz-build builds them all' '
	for t in $targets; do
		ls "$TOP/t/fuzz/corpus/$t" | grep -q . ||
		{ echo "no seeds for $t"; return 1; }
	done &&
	make -s -C "$TOP" FUZZ_CC="$FUZZ_CC" fuzz-build >build.log 2>&1 &&
	for t in $targets; do
		test -x "$TOP/fuzz/t/fuzz/$t" || { echo "$t not built"; return 1; }
	done
'

for t in $targets; do
	test_expect_success "$t: seeds and regression inputs replayed, ${secs} s of fuzzing" '
		mkdir -p "$t" &&
		set -- "$TOP/t/fuzz/corpus/$t" &&
		if test -d "$TOP/t/fuzz/regress/$t"; then
			set -- "$@" "$TOP/t/fuzz/regress/$t"
		fi &&
		"$TOP/fuzz/t/fuzz/$t" -runs=0 -rss_limit_mb=1024 -timeout=10 \
			-artifact_prefix="$t/" "$@" >replay.log 2>&1 ||
		{ tail -30 replay.log; return 1; }
		# An open finding (t/fuzz/pending/TARGET, README) would fail
		# this at random until it is fixed: replayed seeds only.
		test -d "$TOP/t/fuzz/pending/$t" && return 0
		"$TOP/fuzz/t/fuzz/$t" -max_total_time=$secs -rss_limit_mb=1024 \
			-timeout=10 -artifact_prefix="$t/" "$t" "$@" \
			>run.log 2>&1 ||
		{ tail -30 run.log; ls "$t"/crash-* "$t"/leak-* "$t"/timeout-* 2>/dev/null; return 1; }
	'
done

test_done
