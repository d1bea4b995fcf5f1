#!/bin/sh
# The harness itself: t/lib.sh.
cd "$(dirname "$0")" && . ./lib.sh

# run_sub NAME: run the script NAME.t written by the test, with its own
# lib.sh scratch directory under ours; TAP in NAME.out, stderr in NAME.err,
# exit status in NAME.rc.
run_sub()
{
	TEST_DIRECTORY=$TOP/t TEST_OUTPUT_DIRECTORY=$PWD \
	    sh "./$1.t" >"$1.out" 2>"$1.err"
	echo $? >"$1.rc"
}

test_expect_success 'a passing test' '
	true
'

test_expect_success 'the environment is pinned' '
	test "$(pwd -P)" = "$TRASH" &&
	test "$TRASH" = "$TOP/t/trash.0001-harness" &&
	test "$TDATA" = "$TOP/t/data" &&
	test "$LC_ALL" = C &&
	test "$TZ" = UTC &&
	test -d "$HOME" &&
	case $HOME in "$TRASH"/*) ;; *) false ;; esac &&
	test -z "${NYMBOX_CONF+set}" &&
	test "${PATH%%:*}" = "${NYM_BIN:-$TOP/bin}" &&
	! read -r line
'

test_expect_success 'each test starts in the scratch directory' '
	mkdir sub &&
	cd sub
'

test_expect_success 'even after the previous one changed directory' '
	test "$(pwd -P)" = "$TRASH"
'

test_expect_success 'test_must_fail accepts a controlled failure' '
	test_must_fail false &&
	test_must_fail sh -c "exit 65" &&
	test_must_fail sh -c "exit 75"
'

test_expect_success 'test_must_fail rejects success, crash, missing command' '
	! test_must_fail true 2>err &&
	test_grep "succeeded" err &&
	(ulimit -c 0; ! test_must_fail sh -c "kill -SEGV \$\$" 2>err) &&
	test_grep "killed by signal 11" err &&
	! test_must_fail sh -c "kill -ABRT \$\$" 2>err &&
	test_grep "killed by signal 6" err &&
	! test_must_fail no-such-command-here 2>err &&
	test_grep "not found" err &&
	! test_must_fail sh -c "exit 124" 2>err &&
	test_grep "timed out" err
'

test_expect_success 'test_expect_code wants the exact status, never a signal' '
	test_expect_code 0 true &&
	test_expect_code 65 sh -c "exit 65" &&
	! test_expect_code 75 sh -c "exit 65" 2>err &&
	test_grep "exit status 65, wanted 75" err &&
	(ulimit -c 0; ! test_expect_code 139 sh -c "kill -SEGV \$\$" 2>err) &&
	test_grep "killed by signal" err
'

test_expect_success 'test_timeout passes the status through' '
	test_expect_code 3 test_timeout 5 sh -c "exit 3"
'

test_expect_success 'test_timeout turns a hang into 124' '
	test_expect_code 124 test_timeout 1 sleep 30 2>err &&
	test_grep "timed out" err &&
	test_expect_code 124 test_timeout 1 sh -c "trap \"\" TERM; sleep 30" &&
	! test_must_fail test_timeout 1 sleep 30
'

test_expect_success 'test_cmp' '
	printf "a\nb\n" >expect &&
	printf "a\nb\n" >same &&
	printf "a\nc\n" >actual &&
	test_cmp expect same &&
	! test_cmp expect actual >out 2>&1 &&
	test_grep "^-b" out &&
	test_grep "^+c" out &&
	! test_cmp expect missing 2>/dev/null
'

test_expect_success 'test_must_be_empty, test_grep, test_line_count' '
	: >empty &&
	echo x >full &&
	test_must_be_empty empty &&
	! test_must_be_empty full 2>err &&
	test_grep "not empty" err &&
	! test_must_be_empty nothing-here 2>/dev/null &&
	test_grep x full &&
	test_grep -v y full &&
	test_grep -F -e x full &&
	! test_grep y full 2>err &&
	test_grep "did not match" err &&
	test_grep "^x$" err &&
	! test_grep -v x full 2>/dev/null &&
	! test_grep x nothing-here 2>/dev/null &&
	test_line_count = 1 full &&
	! test_line_count = 2 full 2>/dev/null
'

test_expect_success 'prerequisites' '
	test_set_prereq FOO &&
	test_set_prereq BAR &&
	test_have_prereq FOO &&
	test_have_prereq FOO,BAR &&
	test_have_prereq "!BAZ" &&
	! test_have_prereq BAZ &&
	! test_have_prereq FOO,BAZ &&
	! test_have_prereq "FOO,!BAR"
'

test_expect_success FOO 'a test with a prerequisite that is set runs' '
	true
'

test_expect_success 'test_when_finished runs after the test' '
	test_when_finished "rm -f marker" &&
	: >marker
'

test_expect_success 'test_when_finished ran' '
	test_path_is_missing marker
'

test_expect_success 'return in a body ends the body, cleanup still runs' '
	write_script returning.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "returns 1" "
		test_when_finished \"echo cleaned >\$HOME/../../cleaned\" &&
		mkdir d && cd d &&
		for i in 1 2; do false || return 1; done
	"
	test_expect_success "returns 0" "for i in 1; do return 0; done; false"
	test_expect_success "back in the scratch directory" "test -d d"
	test_done
	EOF
	run_sub returning &&
	printf "%s\n" "not ok 1 - returns 1" "ok 2 - returns 0" \
	    "ok 3 - back in the scratch directory" 1..3 >expect &&
	test_cmp expect returning.out &&
	test_path_is_file cleaned &&
	rm cleaned
'

test_expect_success 'a failing script: TAP, diagnostics, exit status' '
	write_script failing.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "passes" "true"
	test_expect_success "compares # differently" "
		echo one >expect &&
		echo two >actual &&
		echo to-stderr >&2 &&
		test_cmp expect actual
	"
	test_expect_failure "known bug" "false"
	test_expect_failure "fixed bug" "true"
	test_expect_success NOPE "needs a prerequisite" "false"
	test_expect_success "cleans up after failure" "
		test_when_finished \"echo cleaned >\$HOME/../../cleaned\" &&
		false
	"
	test_done
	EOF
	run_sub failing &&
	cat >expect <<-\EOF &&
	ok 1 - passes
	not ok 2 - compares \# differently
	not ok 3 - known bug # TODO known breakage
	ok 4 - fixed bug # TODO known breakage vanished
	ok 5 # skip needs a prerequisite (missing NOPE)
	not ok 6 - cleans up after failure
	1..6
	EOF
	test_cmp expect failing.out &&
	echo 1 >expect &&
	test_cmp expect failing.rc &&
	test_grep "^# 	test_cmp expect actual" failing.err &&
	test_grep "^# 	-one" failing.err &&
	test_grep "^# 	+two" failing.err &&
	test_grep "^# 	to-stderr" failing.err &&
	test_grep "^# failed 2 of 6 test(s); kept .*/trash.failing" failing.err &&
	test_path_is_dir trash.failing &&
	test_path_is_file cleaned
'

test_expect_success 'a passing script removes its scratch directory' '
	write_script passing.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "writes" "echo x >file && test -s file"
	test_done
	EOF
	run_sub passing &&
	printf "ok 1 - writes\n1..1\n" >expect &&
	test_cmp expect passing.out &&
	test_must_be_empty passing.err &&
	echo 0 >expect &&
	test_cmp expect passing.rc &&
	test_path_is_missing trash.passing
'

test_expect_success 'test_skip_all' '
	write_script skipped.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_skip_all "no frobnicator here"
	EOF
	run_sub skipped &&
	echo "1..0 # SKIP no frobnicator here" >expect &&
	test_cmp expect skipped.out &&
	echo 0 >expect &&
	test_cmp expect skipped.rc &&
	test_path_is_missing trash.skipped
'

test_expect_success 'a test that exits the script is a failure' '
	write_script exiting.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "exits" "exit 0"
	test_done
	EOF
	run_sub exiting &&
	test_grep "^not ok 1 - exits" exiting.out &&
	test_grep -v "^1\.\." exiting.out &&
	test_grep "without test_done" exiting.err &&
	test "$(cat exiting.rc)" -ne 0
'

test_expect_success 'test_atexit: at test_done, the last registered first' '
	write_script atexit.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_atexit "echo first >>\$HOME/../../order"
	test_expect_success "registers in a body" "
		test_atexit \"echo second >>\$HOME/../../order\"
	"
	test_expect_success "the scratch directory is still there" "
		test_atexit \"test -d \$TRASH && echo third >>\$HOME/../../order\"
	"
	test_done
	EOF
	run_sub atexit &&
	printf "third\nsecond\nfirst\n" >expect &&
	test_cmp expect order &&
	echo 0 >expect && test_cmp expect atexit.rc &&
	test_path_is_missing trash.atexit
'

test_expect_success 'test_atexit: after a failure, an exit in a body; its failure shown' '
	write_script atexit2.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_atexit "echo ran >>\$HOME/../../ran2"
	test_expect_success "fails" "false"
	test_done
	EOF
	write_script atexit3.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_atexit "echo ran >>\$HOME/../../ran3; echo oops; false"
	test_expect_success "exits" "exit 0"
	test_done
	EOF
	run_sub atexit2 && run_sub atexit3 &&
	echo ran >expect && test_cmp expect ran2 && test_cmp expect ran3 &&
	echo 1 >expect && test_cmp expect atexit2.rc &&
	test_cmp expect atexit3.rc &&
	test_grep "^# test_atexit: cleanup failed" atexit3.err &&
	test_grep "^# 	oops" atexit3.err
'

test_expect_success 'NYM_TEST_SCALE stretches test_scaled and the waits' '
	write_script scaled.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_expect_success "scaled" "
		test \$(test_scaled 5) = 15 &&
		t0=\$(date +%s) && ! test_wait_for nothing 1 2>err &&
		test \$((\$(date +%s) - t0)) -ge 3 &&
		test_grep \"no nothing after 3 s\" err
	"
	test_done
	EOF
	NYM_TEST_SCALE=3 run_sub scaled &&
	echo 0 >expect && test_cmp expect scaled.rc &&
	NYM_TEST_SCALE=x run_sub scaled &&
	test_grep "Bail out! NYM_TEST_SCALE must be a whole number" scaled.out
'

test_expect_success 'test_wait_gone: a process that ended, a zombie, one that runs' '
	sh -c "exit 0" & gone=$! &&
	wait $gone &&
	test_wait_gone $gone &&
	{ perl -e "exit 0 unless fork; sleep 30" & parent=$!; } &&
	test_when_finished "kill $parent 2>/dev/null; wait $parent; :" &&
	test_wait_until "pgrep -P $parent >zombie" && zombie=$(cat zombie) &&
	test_wait_until "grep -q \"^$zombie (perl) Z\" /proc/$zombie/stat" &&
	test_wait_gone $zombie &&
	{ sleep 30 & live=$!; } &&
	test_when_finished "kill $live 2>/dev/null; wait $live; :" &&
	t0=$(date +%s) &&
	! test_wait_gone -t 1 $gone $live 2>err &&
	test $(($(date +%s) - t0)) -ge 1 &&
	test_grep "process $live still runs" err &&
	! test_wait_gone 2>err "" &&
	test_grep "not a PID" err
'

test_expect_success UNPRIV 'test_unprivileged: permission bits bind the program' '
	test_unprivileged_dir U && cd "$U" &&
	test_unprivileged mkdir d && test_unprivileged chmod 500 d &&
	! test_unprivileged touch d/f 2>err &&
	test_grep "Permission denied" err && test_path_is_missing d/f &&
	test_unprivileged sh -c "test \"\$HOME\" = \"\$PWD\""
'

REAPER=${NYM_HELPERS:-$TOP/t/helpers}/reaper
test -x "$REAPER" && test_set_prereq REAPER

test_expect_success REAPER 'reaper: a clean test passes, its status passes through' '
	write_script clean.t <<-\EOF &&
	echo "$TMPDIR" >tmpdir
	echo 1..0
	EOF
	write_script three.t <<-\EOF &&
	exit 3
	EOF
	"$REAPER" ./clean.t >out 2>err &&
	test_must_be_empty err &&
	test_path_is_missing "$(cat tmpdir)" &&
	case $(cat tmpdir) in "${TMPDIR:-/tmp}"/nymtest.*) ;; *) false ;; esac &&
	test_expect_code 3 "$REAPER" ./three.t &&
	chmod -x clean.t && "$REAPER" ./clean.t >out &&
	echo 1..0 >expect && test_cmp expect out
'

test_expect_success REAPER 'reaper: a process left behind fails the test and is killed' '
	write_script leak.t <<-\EOF &&
	sleep 300 &
	echo $! >leak.pid
	sh -c "sleep 301 & echo \$! >leak2.pid; wait" &
	while ! test -s leak2.pid; do sleep 0.1; done
	echo 1..0
	EOF
	test_expect_code 1 "$REAPER" -g 1 ./leak.t >out 2>err &&
	test_grep "^reaper: ./leak.t left 3 processes behind:" err &&
	test_grep "^reaper:   $(cat leak.pid) sleep 300\$" err &&
	test_grep "^reaper:   $(cat leak2.pid) sleep 301\$" err &&
	test_grep "^reaper:   [0-9]* sh -c sleep 301" err &&
	! kill -0 $(cat leak.pid) 2>/dev/null &&
	! kill -0 $(cat leak2.pid) 2>/dev/null
'

test_expect_success REAPER 'reaper: what stops on its own after the test is no leak' '
	write_script late.t <<-\EOF &&
	sh -c "sleep 1" &
	EOF
	"$REAPER" ./late.t 2>err &&
	test_must_be_empty err
'

test_expect_success REAPER 'reaper: files left in TMPDIR fail the test and go' '
	write_script litter.t <<-\EOF &&
	mktemp -d >left
	EOF
	test_expect_code 1 "$REAPER" ./litter.t 2>err &&
	test_grep "^reaper: ./litter.t left files in TMPDIR:" err &&
	test_grep "^reaper:   tmp\." err &&
	test_path_is_missing "$(cat left)" &&
	test_path_is_missing "$(dirname "$(cat left)")"
'

test_expect_success REAPER 'SIGTERM: the test stops, test_atexit stops its server' '
	write_script killed.t <<-\EOF &&
	. "$TEST_DIRECTORY/lib.sh"
	test_atexit "kill \$(cat srv.pid) 2>/dev/null; echo stopped >\$HOME/../../stopped"
	test_expect_success "a server" "
		{ sleep 300 & echo \$! >srv.pid; } && test_wait_for srv.pid
	"
	test_expect_success "a long test" "echo up >\$HOME/../../started && sleep 60"
	test_done
	EOF
	{ TEST_DIRECTORY=$TOP/t TEST_OUTPUT_DIRECTORY=$PWD \
	    "$REAPER" ./killed.t >killed.out 2>killed.err & echo $! >r.pid; } &&
	test_wait_for started &&
	kill -TERM $(cat r.pid) &&
	{ wait $(cat r.pid); echo $? >killed.rc; } &&
	echo 143 >expect && test_cmp expect killed.rc &&
	echo stopped >expect && test_cmp expect stopped &&
	test_grep "stopped by SIGTERM" trash.killed/.test-output &&
	test_grep -v "left .* behind" killed.err
'

test_done
