#!/bin/sh
# mbox-encrypt -i: an mbox or a maildir encrypted where it lies, flags
# kept, nothing done twice, and nothing lost when the program is killed
# (kill -9) at any moment: every message decrypts afterwards.
cd "$(dirname "$0")" && . ./lib.sh

# mkmbox FILE N: an mbox of N messages, each with a unique Subject.
mkmbox() {
	i=1 && : >"$1" &&
	while test $i -le "$2"; do
		printf "From alice@a.i2p Thu Jan  1 00:00:00 1970\nSubject: m%d\n\nbody %d\n>From quoted\n\n" $i $i >>"$1"
		i=$((i + 1))
	done
}

# mkmd DIR N: a maildir of N messages, half in new/, half in cur/ (seen).
mkmd() {
	mkdir -p "$1/new" "$1/cur" "$1/tmp" && i=1 &&
	while test $i -le "$2"; do
		if test $((i % 2)) = 0; then
			f="$1/cur/$i.x.host:2,S"
		else
			f="$1/new/$i.x.host"
		fi &&
		printf "Subject: m%d\n\nbody %d\n" $i $i >"$f" &&
		i=$((i + 1)) || return 1
	done
}

# subjects FILE: the sorted Subject lines of an mbox.
subjects() {
	grep "^Subject: m" "$1" | sort -u
}

test_expect_success 'setup: keys' '
	printf "pw\n" >pw && chmod 600 pw && mbox-encrypt -g -P pw
'

test_expect_success 'an mbox: every message a record, same mbox back' '
	mkmbox box 5 && cp box box.orig && chmod 640 box &&
	mbox-encrypt -i box &&
	test "$(head -c 8 box)" = NYMBOXE1 &&
	test "$(stat -c %a box)" = 640 &&
	test "$(grep -c "^From alice" box)" = 0 &&
	mbox-encrypt -x -P pw box >out && cmp box.orig out
'

test_expect_success 'an mbox: records are not encrypted twice' '
	cp box box.before && mbox-encrypt -i box && cmp box.before box
'

test_expect_success 'an mbox: new plain mail after the records is added' '
	printf "From b@b.i2p Thu Jan  1 00:00:00 1970\nSubject: late\n\nx\n\n" >late &&
	cat late >>box && mbox-encrypt -i box &&
	test "$(grep -c "Subject: late" box)" = 0 &&
	cat box.orig late >want && mbox-encrypt -x -P pw box >out &&
	cmp want out
'

# The mbox is locked as every program locks it (lib/mbox.c): locked.lock
# as procmail, mutt and mail(1) take it, and fcntl; either one held by
# another program is waited for.  strace shows the wait begin (the first
# try refused), so nothing is timed; LeakSanitizer is off for the traced
# program, it cannot run under ptrace (make check-asan).
! command -v strace >/dev/null || test_set_prereq STRACE
command -v python3 >/dev/null && test_set_prereq PYTHON
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"
}

test_expect_success STRACE 'an mbox under another program'"'"'s .lock: waited for, then done' '
	mkmbox locked 2 && cp locked locked.orig &&
	echo $$ >locked.lock &&
	{ traced -o trace -e trace=openat mbox-encrypt -i locked 2>err &
	  echo $! >me.pid; } &&
	test_when_finished "kill \$(cat me.pid) 2>/dev/null; rm -f locked.lock" &&
	test_wait_until "grep -q \"locked.lock.*EEXIST\" trace" &&
	kill -0 $(cat me.pid) && cmp locked.orig locked &&
	test "$(cat locked.lock)" = $$ &&
	rm locked.lock &&
	wait $(cat me.pid) &&
	test "$(head -c 8 locked)" = NYMBOXE1 &&
	test_path_is_missing locked.lock &&
	mbox-encrypt -x -P pw locked >out && cmp locked.orig out
'

test_expect_success STRACE,PYTHON 'an mbox under another program'"'"'s fcntl lock: waited for, then done' '
	mkmbox flocked 2 && cp flocked flocked.orig &&
	mkfifo hold &&
	{ fcntl-hold flocked held <hold & echo $! >holder.pid; } &&
	exec 9>hold &&
	test_when_finished "exec 9>&-; kill \$(cat holder.pid) \$(cat me.pid) 2>/dev/null; :" &&
	test_wait_for held &&
	{ (exec 9>&- && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    exec strace -o ftrace -e trace=fcntl mbox-encrypt -i flocked \
	    2>err) & echo $! >me.pid; } &&
	test_wait_until "grep -q \"F_SETLK.*EAGAIN\" ftrace" &&
	kill -0 $(cat me.pid) && cmp flocked.orig flocked &&
	test -f flocked.lock &&
	exec 9>&- && wait $(cat holder.pid) &&
	wait $(cat me.pid) &&
	test "$(head -c 8 flocked)" = NYMBOXE1 &&
	test_path_is_missing flocked.lock
'

test_expect_success 'a maildir: names reveal nothing, flags kept' '
	mkmd md 6 &&
	mbox-encrypt -i md &&
	ls md/new md/cur | grep -v "^md/\|^\$" >names &&
	test_line_count = 6 names &&
	ls md/new | grep -Ex "[a-z2-7]{26}" >n && test_line_count = 3 n &&
	ls md/cur | grep -Ex "[a-z2-7]{26}:2,S" >c && test_line_count = 3 c &&
	test "$(ls -A md/tmp)" = "" &&
	mbox-encrypt -x -P pw md >out && subjects out >got &&
	printf "Subject: m%d\n" 1 2 3 4 5 6 | sort >want &&
	test_cmp want got &&
	mbox-encrypt -i md && ls md/new md/cur | grep -v "^md/\|^\$" >names2 &&
	test_cmp names names2
'

# Kill the conversion at varied moments; then finish it and check that
# every message is still there (a maildir may hold a message twice).
test_expect_success 'a maildir killed at random moments loses nothing' '
	for run in 1 2 3 4 5 6; do
		rm -rf kd && mkmd kd 300 &&
		{ mbox-encrypt -i kd & pid=$!; } &&
		sleep 0.0$run && kill -9 $pid 2>/dev/null; wait $pid
		mbox-encrypt -i kd &&
		mbox-encrypt -x -P pw kd >out && subjects out >got &&
		seq 1 300 | sed "s/^/Subject: m/" | sort >want &&
		test_cmp want got || return 1
	done
'

test_expect_success 'an mbox killed at random moments loses nothing' '
	mkmbox kb.orig 3000 &&
	for run in 1 2 3 4 5 6; do
		cp kb.orig kb &&
		{ mbox-encrypt -i kb & pid=$!; } &&
		sleep 0.0$run && kill -9 $pid 2>/dev/null; wait $pid
		if test "$(head -c 8 kb)" = NYMBOXE1; then
			mbox-encrypt -x -P pw kb >out && cmp kb.orig out
		else
			cmp kb.orig kb
		fi &&
		rm -f .kb.* && mbox-encrypt -i kb &&
		mbox-encrypt -x -P pw kb >out && cmp kb.orig out || return 1
	done
'

test_done
