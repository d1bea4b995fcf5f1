# t/lib.sh - the shell test harness, sourced by every t/NNNN-*.t as
#
#	cd "$(dirname "$0")" && . ./lib.sh
#
# It follows git's test-lib: all code of a test, setup included, goes in a
# test_expect_success body, chained with &&; nobody prints "ok"/"not ok"
# or a plan by hand; test_done prints the plan.  A body runs with eval in
# the script's own shell (no subshell, no set -e) inside the scratch
# directory t/trash.<script>, and the shell returns there after each test.
# Its stdout and stderr go to a file that is shown, with the body, as "# "
# lines on stderr only when the test fails, so prove shows them without -v.
#
# Whatever a test starts that outlives one body (a server, a lab) is
# stopped by the code given to test_atexit, which runs when the script
# ends, however it ends: test_done, a failure, an exit in a body, or
# SIGINT, SIGTERM or SIGHUP.  Nothing a test starts may outlive it: make
# check runs every test under t/helpers/reaper, which fails a test that
# leaves a process behind.  Timeouts that tests give to programs and to
# the harness are multiplied by NYM_TEST_SCALE (a whole number, default 1;
# make check-asan sets it for the slower sanitizer build): use
# test_scaled N, never a bare number, for a time limit that can be hit
# on a busy machine.
#
# Options after the script name: -v (--verbose) shows every test's output,
# -i (--immediate) stops at the first failure.  TEST_DIRECTORY (where this
# file lives) and TEST_OUTPUT_DIRECTORY (where trash.* goes) override the
# defaults; t/0001-harness.t uses them to run scripts of its own.

tl_bail_()
{
	printf 'Bail out! %s\n' "$*"
	exit 1
}

tl_verbose_=
tl_immediate_=
for tl_arg_ in "$@"; do
	case $tl_arg_ in
	-v|--verbose)	tl_verbose_=1 ;;
	-i|--immediate)	tl_immediate_=1 ;;
	*)		tl_bail_ "usage: $0 [-v] [-i]" ;;
	esac
done

if test -n "$TEST_DIRECTORY"; then
	:
elif test -f ./lib.sh; then
	TEST_DIRECTORY=$(pwd -P)
else
	TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd -P)
fi
TOP=$(cd "$TEST_DIRECTORY/.." && pwd -P) ||
	tl_bail_ "unable to find the top directory from $TEST_DIRECTORY"
TDATA=$TOP/t/data
tl_name_=$(basename "$0" .t)
TRASH=$(cd "${TEST_OUTPUT_DIRECTORY:-$TEST_DIRECTORY}" && pwd -P) ||
	tl_bail_ "unable to enter ${TEST_OUTPUT_DIRECTORY:-$TEST_DIRECTORY}"
TRASH=$TRASH/trash.$tl_name_
export TOP TDATA TRASH

# A test may leave read-only directories behind.
tl_rmtrash_()
{
	test ! -e "$TRASH" || {
		chmod -R u+rwx "$TRASH" 2>/dev/null
		rm -rf "$TRASH"
	}
}

tl_rmtrash_
test ! -e "$TRASH" || tl_bail_ "unable to remove $TRASH"
mkdir -p "$TRASH/.home" && cd -P "$TRASH" ||
	tl_bail_ "unable to create $TRASH"

# The environment every test sees.
LC_ALL=C
TZ=UTC
HOME=$TRASH/.home
TERM=dumb
# make check-asan puts the sanitizer build first with NYM_BIN.
PATH=${NYM_BIN:+$NYM_BIN:}$TOP/bin:$TOP/t/helpers:$PATH
export LC_ALL TZ HOME TERM PATH
unset NYMBOX_CONF SAM_HOST SAM_PORT TOR_SOCKS SENDER MAIL MAILDIR CDPATH \
    LANG LANGUAGE XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME
umask 022
exec </dev/null

# NYM_TEST_SCALE: how much slower than a plain build on an idle machine
# the programs may be (make check-asan sets 3).
tl_scale_=${NYM_TEST_SCALE:-1}
case $tl_scale_ in
''|0*|*[!0-9]*)	tl_bail_ "NYM_TEST_SCALE must be a whole number from 1" ;;
esac
export NYM_TEST_SCALE=$tl_scale_

# test_scaled N: N (seconds, milliseconds; 2.5 is fine) times
# NYM_TEST_SCALE, for the -t and -w of a program under test, a server's
# --max-seconds, any limit a slow run could reach.
test_scaled()
{
	case $1 in
	*.*)	awk -v n="$1" -v s="$tl_scale_" 'BEGIN { print n * s }' ;;
	*)	echo $(($1 * tl_scale_)) ;;
	esac
}

tl_count_=0
tl_failed_=0
tl_done_=
tl_in_test_=
tl_cleanup_=
tl_atexit_code_=
tl_prereqs_=
tl_out_=$TRASH/.test-output

# Prerequisites: names set with test_set_prereq; an argument to
# test_have_prereq is a comma-separated list, "!NAME" meaning "not NAME".
test_set_prereq()
{
	tl_prereqs_="$tl_prereqs_ $1 "
}

test_have_prereq()
{
	tl_plist_=$1,
	while test -n "$tl_plist_"; do
		tl_p_=${tl_plist_%%,*}
		tl_plist_=${tl_plist_#*,}
		case $tl_p_ in
		'')
			;;
		!*)
			case $tl_prereqs_ in
			*" ${tl_p_#!} "*) return 1 ;;
			esac
			;;
		*)
			case $tl_prereqs_ in
			*" $tl_p_ "*) ;;
			*) return 1 ;;
			esac
			;;
		esac
	done
	return 0
}

# SANITY: file permissions are enforced (not root), so tests of an
# unwritable directory mean something.
mkdir .perm && chmod a-w .perm
if ! (: >.perm/x) 2>/dev/null; then
	test_set_prereq SANITY
fi
chmod u+w .perm && rm -rf .perm

# UNPRIV: a test of what permission bits refuse (an unwritable maildir
# or queue) can run whoever runs the tests: test_unprivileged runs the
# program as the tests' own user where permission bits bind it (SANITY),
# and as nobody (setpriv) where the tests run as root, who is refused
# nothing; the files it is refused go in a test_unprivileged_dir.
tl_unpriv_=
if test_have_prereq SANITY; then
	test_set_prereq UNPRIV
elif command -v setpriv >/dev/null &&
    setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
	tl_unpriv_="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	test_set_prereq UNPRIV
fi

tl_diag_()
{
	sed 's/^/# /' >&2
}

tl_show_()
{
	{
		echo "failed commands:"
		printf '%s\n' "$1" | sed 's/^/	/'
		if test -s "$tl_out_"; then
			echo "output:"
			sed 's/^/	/' "$tl_out_"
		fi
	} | tl_diag_
}

# A function of its own, so that "return 1" in a body (in a loop, say)
# ends the body only.
tl_eval_()
{
	eval "$1"
}

# Runs a body in the scratch directory, then the test_when_finished code;
# returns non-zero if either failed.
tl_run_()
{
	tl_cleanup_=
	tl_in_test_=$1
	cd "$TRASH" || tl_bail_ "unable to enter $TRASH"
	tl_eval_ "$1" >"$tl_out_" 2>&1
	tl_status_=$?
	cd "$TRASH" || tl_bail_ "unable to enter $TRASH"
	if test -n "$tl_cleanup_"; then
		tl_cleanfail_=
		eval "$tl_cleanup_" >>"$tl_out_" 2>&1
		cd "$TRASH" || tl_bail_ "unable to enter $TRASH"
		if test -n "$tl_cleanfail_"; then
			echo "test_when_finished: cleanup failed" >>"$tl_out_"
			test "$tl_status_" -ne 0 || tl_status_=1
		fi
	fi
	tl_cleanup_=
	tl_in_test_=
	if test -n "$tl_verbose_" && test -s "$tl_out_"; then
		tl_diag_ <"$tl_out_"
	fi
	return "$tl_status_"
}

tl_expect_()
{
	tl_want_=$1
	shift
	case $# in
	2)	tl_pre_= ;;
	3)	tl_pre_=$1; shift ;;
	*)	tl_bail_ "test_expect_$tl_want_ needs [PREREQ] DESC BODY" ;;
	esac
	tl_count_=$((tl_count_ + 1))
	tl_desc_=$1
	case $tl_desc_ in
	*'#'*)	tl_desc_=$(printf '%s\n' "$tl_desc_" | sed 's/#/\\#/g') ;;
	esac
	if test -n "$tl_pre_" && ! test_have_prereq "$tl_pre_"; then
		echo "ok $tl_count_ # skip $tl_desc_ (missing $tl_pre_)"
		return 0
	fi
	if tl_run_ "$2"; then
		if test "$tl_want_" = success; then
			echo "ok $tl_count_ - $tl_desc_"
		else
			echo "ok $tl_count_ - $tl_desc_ # TODO known breakage vanished"
		fi
	elif test "$tl_want_" = failure; then
		echo "not ok $tl_count_ - $tl_desc_ # TODO known breakage"
	else
		tl_failed_=$((tl_failed_ + 1))
		echo "not ok $tl_count_ - $tl_desc_"
		tl_show_ "$2"
		if test -n "$tl_immediate_"; then
			echo "stopping at the first failure (-i)" | tl_diag_
			test_done
		fi
	fi
	return 0
}

# test_expect_success [PREREQ] DESC BODY
test_expect_success()
{
	tl_expect_ success "$@"
}

# test_expect_failure [PREREQ] DESC BODY: a known bug, reported as TODO.
test_expect_failure()
{
	tl_expect_ failure "$@"
}

# test_when_finished CODE: run CODE (in the scratch directory) after the
# current test, whether it passed or not; the last registered runs first.
test_when_finished()
{
	test -n "$tl_in_test_" ||
	    tl_bail_ "test_when_finished used outside a test"
	tl_cleanup_="{ $1
} || tl_cleanfail_=1
$tl_cleanup_"
}

# test_atexit CODE: run CODE (in the scratch directory) when the script
# ends, however it ends: at test_done, at an exit from a body, at SIGINT,
# SIGTERM or SIGHUP; the last registered runs first.  What a test starts
# for the tests after it (a server, a lab) is stopped here, so that it is
# stopped also when a test fails or the run is interrupted.  Usable in a
# body or outside one; CODE must stand being run when what it stops
# never started or is gone already.
test_atexit()
{
	tl_atexit_code_="{ $1
} || tl_atexit_fail_=1
$tl_atexit_code_"
}

# Runs the test_atexit code once; returns non-zero if some failed.  Its
# output is shown only then.
tl_run_atexit_()
{
	test -n "$tl_atexit_code_" || return 0
	tl_ae_=$tl_atexit_code_
	tl_atexit_code_=
	tl_atexit_fail_=
	cd "$TRASH" 2>/dev/null || cd /
	eval "$tl_ae_" >"$TRASH/.atexit-output" 2>&1
	if test -n "$tl_atexit_fail_"; then
		{
			echo "test_atexit: cleanup failed:"
			printf '%s\n' "$tl_ae_" | sed 's/^/	/'
			sed 's/^/	/' "$TRASH/.atexit-output"
		} | tl_diag_
		return 1
	fi
	return 0
}

# test_must_fail CMD...: CMD must exit non-zero on its own, not crash
# (killed by a signal: status > 128), not be missing (127) or not
# executable (126), and not time out under test_timeout (124).
test_must_fail()
{
	"$@"
	tl_rc_=$?
	if test "$tl_rc_" -eq 0; then
		echo "test_must_fail: command succeeded: $*" >&2
	elif test "$tl_rc_" -gt 128; then
		echo "test_must_fail: killed by signal $((tl_rc_ - 128)): $*" >&2
	elif test "$tl_rc_" -eq 127; then
		echo "test_must_fail: command not found: $*" >&2
	elif test "$tl_rc_" -eq 126; then
		echo "test_must_fail: command not executable: $*" >&2
	elif test "$tl_rc_" -eq 124; then
		echo "test_must_fail: command timed out: $*" >&2
	else
		return 0
	fi
	return 1
}

# test_expect_code N CMD...: CMD must exit with exactly N; death by a
# signal is a failure whatever N is.
test_expect_code()
{
	tl_code_=$1
	shift
	"$@"
	tl_rc_=$?
	if test "$tl_rc_" -gt 128; then
		echo "test_expect_code: killed by signal $((tl_rc_ - 128)): $*" >&2
		return 1
	elif test "$tl_rc_" -ne "$tl_code_"; then
		echo "test_expect_code: exit status $tl_rc_, wanted $tl_code_: $*" >&2
		return 1
	fi
	return 0
}

# test_timeout SECS CMD...: run CMD (a program, not a shell function) with
# a hard time limit: TERM after SECS (times NYM_TEST_SCALE), KILL 2 s
# later.  A hang returns 124.  It catches hangs: give it room.
test_timeout()
{
	tl_secs_=$(($1 * tl_scale_))
	shift
	timeout -k 2 "$tl_secs_" "$@"
	tl_rc_=$?
	case $tl_rc_ in
	124|137)
		echo "test_timeout: timed out (or SIGKILL) after ${tl_secs_}s: $*" >&2
		return 124
		;;
	esac
	return "$tl_rc_"
}

# test_wait_for FILE [SECONDS]: until FILE exists and is not empty (a
# server's port file, a ready file), at most SECONDS (default 30, times
# NYM_TEST_SCALE).  Tests wait on conditions, never on sleeps.
test_wait_for()
{
	tl_wf_end_=$(( $(date +%s) + ${2:-30} * tl_scale_ ))
	until test -s "$1"; do
		if test "$(date +%s)" -gt "$tl_wf_end_"; then
			echo "test_wait_for: no $1 after $((${2:-30} * tl_scale_)) s" >&2
			return 1
		fi
		sleep 0.1
	done
}

# test_wait_until CODE [SECONDS]: until the shell code CODE succeeds,
# tried every 0.1 s, at most SECONDS (default 30, times NYM_TEST_SCALE).
# The limit only stops a test that would hang: a condition that holds
# returns at once.
test_wait_until()
{
	tl_wu_end_=$(( $(date +%s) + ${2:-30} * tl_scale_ ))
	until eval "$1"; do
		if test "$(date +%s)" -gt "$tl_wu_end_"; then
			echo "test_wait_until: not true after $((${2:-30} * tl_scale_)) s: $1" >&2
			return 1
		fi
		sleep 0.1
	done
}

# test_wait_gone [-t SECONDS] PID...: until no process PID runs (a
# zombie counts as gone: it runs no more code), at most SECONDS (default
# 10, times NYM_TEST_SCALE); for a test that a program stopped what it
# started.
test_wait_gone()
{
	tl_wg_s_=10
	if test "$1" = -t; then
		tl_wg_s_=$2
		shift 2
	fi
	for tl_wg_ in "$@"; do
		case $tl_wg_ in
		''|*[!0-9]*)
			echo "test_wait_gone: not a PID: '$tl_wg_'" >&2
			return 1
			;;
		esac
		test_wait_until "! test -d /proc/$tl_wg_ ||
		    grep -q '^$tl_wg_ (.*) [ZX]' /proc/$tl_wg_/stat 2>/dev/null" \
		    "$tl_wg_s_" ||
		{ echo "test_wait_gone: process $tl_wg_ still runs" >&2; return 1; }
	done
}

# test_cmp EXPECTED ACTUAL
test_cmp()
{
	test $# -eq 2 || tl_bail_ "test_cmp needs 2 arguments"
	diff -u "$1" "$2"
}

test_must_be_empty()
{
	if ! test -f "$1"; then
		echo "test_must_be_empty: '$1' is missing" >&2
		return 1
	elif test -s "$1"; then
		echo "test_must_be_empty: '$1' is not empty, it contains:" >&2
		cat "$1" >&2
		return 1
	fi
}

# test_grep [-v] [GREP-OPTIONS] PATTERN FILE: FILE must (with -v: must
# not) have a line matching; on failure the file is printed.
test_grep()
{
	tl_neg_=
	if test "$1" = -v; then
		tl_neg_=1
		shift
	fi
	test $# -ge 2 || tl_bail_ "test_grep needs a pattern and a file"
	eval "tl_file_=\${$#}"
	if ! test -f "$tl_file_"; then
		echo "test_grep: '$tl_file_' is missing" >&2
		return 1
	fi
	grep "$@" >/dev/null
	tl_rc_=$?
	if test -z "$tl_neg_" && test "$tl_rc_" -eq 0; then
		return 0
	elif test -n "$tl_neg_" && test "$tl_rc_" -eq 1; then
		return 0
	elif test "$tl_rc_" -gt 1; then
		echo "test_grep: grep failed: grep $*" >&2
	elif test -n "$tl_neg_"; then
		echo "test_grep: 'grep $*' matched, in:" >&2
		cat "$tl_file_" >&2
	else
		echo "test_grep: 'grep $*' did not match, in:" >&2
		cat "$tl_file_" >&2
	fi
	return 1
}

# scrub_fixed NAME: NAME.eml scrubs to NAME.out, a fixed point (scrubbed
# again, the same bytes), in which -c finds nothing but residue.
scrub_fixed()
{
	scrub-headers <"$1.eml" >"$1.out" &&
	scrub-headers <"$1.out" >"$1.again" &&
	test_cmp "$1.out" "$1.again" &&
	{ scrub-headers -c <"$1.out" >"$1.report"; test $? = 0; } &&
	sed "/^residue: /d" "$1.report" >"$1.leaks" &&
	test_must_be_empty "$1.leaks"
}

# test_line_count OP N FILE, e.g. test_line_count = 3 out
test_line_count()
{
	if ! test "$(wc -l <"$3")" "$1" "$2"; then
		echo "test_line_count: not $1 $2 lines in '$3':" >&2
		cat "$3" >&2
		return 1
	fi
}

test_path_is_file()
{
	test -f "$1" || { echo "test_path_is_file: no file '$1'" >&2; return 1; }
}

test_path_is_dir()
{
	test -d "$1" || { echo "test_path_is_dir: no directory '$1'" >&2; return 1; }
}

test_path_is_missing()
{
	if test -e "$1" || test -h "$1"; then
		echo "test_path_is_missing: '$1' exists" >&2
		return 1
	fi
}

# test_public_dir VAR: a new directory every user can enter (mode 0755,
# in /tmp, whatever the modes above the checkout), into VAR, for what a
# test runs as another user (Postfix's pipe(8) as nobody, fetchmail as
# a user of its own); removed at exit.
test_public_dir()
{
	tpd_=$(mktemp -d /tmp/nymbox-test.XXXXXX) && chmod 755 "$tpd_" ||
		return 1
	test_atexit "rm -rf '$tpd_'"
	eval "$1=\$tpd_"
}

# test_unprivileged_dir VAR: a new directory that the user of
# test_unprivileged owns, into VAR: in the scratch directory for the
# tests' own user, in /tmp for nobody (the checkout may be closed to
# others); removed at exit.  Programs run there with HOME set to it.
test_unprivileged_dir()
{
	if test -z "$tl_unpriv_"; then
		tud_=$(mktemp -d "$TRASH/unpriv.XXXXXX") || return 1
	else
		test_public_dir tud_ && chown nobody:nogroup "$tud_" || return 1
	fi
	eval "$1=\$tud_"
}

# test_unprivileged CMD [ARG...]: run CMD (a program, not a function)
# bound by permission bits, see UNPRIV; as nobody, with HOME set to the
# current directory, and a program it cannot reach (in a checkout under
# a private directory) run from a copy in a directory of its own.
test_unprivileged()
{
	test -n "$tl_unpriv_" || { "$@"; return; }
	tu_p_=$(command -v "$1") ||
		{ echo "test_unprivileged: no program $1" >&2; return 127; }
	shift
	if ! $tl_unpriv_ test -x "$tu_p_" 2>/dev/null; then
		if test -z "$tl_unpriv_bin_"; then
			test_public_dir tl_unpriv_bin_ || return 1
		fi
		cp "$tu_p_" "$tl_unpriv_bin_/" &&
		tu_p_=$tl_unpriv_bin_/${tu_p_##*/} || return 1
	fi
	HOME=$PWD $tl_unpriv_ "$tu_p_" "$@"
}
tl_unpriv_bin_=

# test_stop_holders DIR...: stop the SAM session holders of the keys in
# each DIR (a holder is a "sam-holder" process whose PID stands first in
# KEY.lock): TERM, then KILL after 10 s.  For the atexit code of tests
# whose sam-deliver left one lingering.
. "$TOP/t/helpers/holders.sh"
test_stop_holders()
{
	holders_stop "$@"
}

# test_i2p_exclusive: for a test that starts i2pd routers (t/testrules.yml
# gives them a lane of their own under prove): wait until no
# other such test of this checkout runs (prove -j2 would pair them, and
# two router networks starting at once on two cores miss their
# deadlines), then hold the turn until the test script ends.
test_i2p_exclusive()
{
	exec 8>"$TOP/t/.i2p-turn" &&
	flock 8
}

# write_script FILE [INTERPRETER] <BODY: an executable script.
write_script()
{
	{ echo "#!${2:-/bin/sh}" && cat; } >"$1" && chmod +x "$1"
}

# test_skip_all REASON: skip the whole script (or, after some tests have
# run, the rest of it).
test_skip_all()
{
	if test "$tl_count_" -eq 0; then
		echo "1..0 # SKIP $*"
		tl_done_=1
		tl_run_atexit_
		cd / && tl_rmtrash_
		exit 0
	fi
	echo "# skipping the remaining tests: $*"
	test_done
}

test_done()
{
	tl_done_=1
	tl_run_atexit_ || tl_failed_=$((tl_failed_ + 1))
	echo "1..$tl_count_"
	if test "$tl_failed_" -gt 0; then
		echo "failed $tl_failed_ of $tl_count_ test(s); kept $TRASH" | tl_diag_
		exit 1
	fi
	cd / && tl_rmtrash_
	exit 0
}

# A script that ends without test_done (an exit in a body, a shell syntax
# error in one) fails loudly and keeps its scratch directory.
tl_atexit_()
{
	tl_rc_=$?
	test -z "$tl_done_" || return 0
	tl_done_=1
	if test -n "$tl_in_test_"; then
		cd "$TRASH" && eval "$tl_cleanup_" >>"$tl_out_" 2>&1
		echo "not ok $tl_count_ - $tl_desc_ (the test exited the script)"
		tl_show_ "$tl_in_test_"
	fi
	tl_run_atexit_
	echo "$0 ended (status $tl_rc_) without test_done; kept $TRASH" | tl_diag_
	test "$tl_rc_" -ne 0 || tl_rc_=1
	exit "$tl_rc_"
}
trap tl_atexit_ EXIT

# SIGNAL: stop what the tests started, keep the scratch directory, and
# die of the signal as the caller expects (prove, make, a terminal).  In
# a body, the shell's output still goes to the body's output file: the
# note is found there, in the scratch directory.
tl_signal_()
{
	trap - EXIT "$1"
	tl_done_=1
	echo "$0 stopped by SIG$1; kept $TRASH" | tl_diag_
	if test -n "$tl_in_test_"; then
		cd "$TRASH" && eval "$tl_cleanup_" >>"$tl_out_" 2>&1
	fi
	tl_run_atexit_
	kill "-$1" $$
	exit $((128 + $2))
}
trap 'tl_signal_ INT 2' INT
trap 'tl_signal_ TERM 15' TERM
trap 'tl_signal_ HUP 1' HUP
