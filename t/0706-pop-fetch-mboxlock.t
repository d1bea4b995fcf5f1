#!/bin/sh
# pop-fetch -m locks the mbox as procmail and mutt expect: mbox.lock
# (O_EXCL, our pid inside) and an fcntl lock.  A lock of a live process,
# or a fresh one, is waited for (-w) and then given up on (75, mail left
# on the server); one whose process is gone or which is over 300 s old is
# stale and removed; procmail's lockfile(1) is honoured; nothing is left
# behind.  Time is injected with touch -d, never waited out.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

printf 'secret\n' >pw && chmod 600 pw

# strace, with LeakSanitizer off for the traced program: it cannot run
# under ptrace (make check-asan); AddressSanitizer itself stays on.
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"
}
mkdir msgs && for i in 1 2 3 4 5 6 7; do
	printf 'Subject: %d\n\nbody %d\n' $i $i >msgs/$i
done

labcount() {
	ls "$(cat lab/dir)/mail/alice/Maildir/new" \
	    "$(cat lab/dir)/mail/alice/Maildir/cur" | grep -c '^[0-9]'
}

pf() {
	test_timeout 30 pop-fetch -w $(test_scaled 1) -H 127.0.0.1:$(cat lab/port) -u alice \
	    -P pw -m mb "$@"
}

count() {
	grep -c "^From MAILER-DAEMON " mb
}

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1
test ! -f "$TRASH/holder.pid" || kill $(cat "$TRASH/holder.pid") 2>/dev/null || :'

test_expect_success 'setup: dovecot' '
	dovecot-lab start lab alice:secret
'

test_expect_success 'a delivery leaves no mb.lock; strace shows our pid in it' '
	dovecot-lab put lab alice msgs/1 &&
	if command -v strace >/dev/null; then
		traced -o trace -e trace=openat,write,unlink pop-fetch -w $(test_scaled 1) \
		    -H 127.0.0.1:$(cat lab/port) -u alice -P pw -m mb &&
		grep -A1 "openat(AT_FDCWD, \"mb.lock\", O_WRONLY|O_CREAT|O_EXCL" \
		    trace >lk &&
		grep "^write([0-9]*, \"[1-9][0-9]*\\\\n\", [0-9]*)" lk &&
		grep "^unlink(\"mb.lock\")" trace
	else
		pf
	fi &&
	test "$(count)" = 1 && test_path_is_missing mb.lock
'

test_expect_success 'mb.lock of a live process: wait -w, then 75, mail kept' '
	echo $$ >mb.lock &&
	dovecot-lab put lab alice msgs/2 &&
	test_expect_code 75 pf 2>err &&
	grep "^pop-fetch: unable to lock mb: another program holds its .lock$" err &&
	test "$(cat mb.lock)" = $$ &&
	test "$(count)" = 1 && test "$(labcount)" = 1
'

test_expect_success 'procmail'"'"'s lockfile(1) is honoured, and so is a fresh empty lock' '
	rm -f mb.lock &&
	if command -v lockfile >/dev/null; then
		lockfile -r0 mb.lock && test -f mb.lock &&
		test_expect_code 75 pf && test -f mb.lock && rm -f mb.lock
	fi &&
	: >mb.lock &&
	test_expect_code 75 pf && test -f mb.lock &&
	test "$(labcount)" = 1
'

test_expect_success 'a lock whose process is gone is stale: removed at once' '
	sh -c "echo \$\$" >dead && pid=$(cat dead) &&
	! kill -0 $pid 2>/dev/null &&
	echo $pid >mb.lock &&
	pf && test "$(count)" = 2 && test_path_is_missing mb.lock &&
	test "$(labcount)" = 0
'

test_expect_success 'a lock over 300 s old is stale; one of 290 s is not' '
	dovecot-lab put lab alice msgs/3 &&
	echo $$ >mb.lock && touch -d "-290 seconds" mb.lock &&
	test_expect_code 75 pf && test -f mb.lock &&
	touch -d "-310 seconds" mb.lock &&
	pf && test "$(count)" = 3 && test_path_is_missing mb.lock
'

test_expect_success 'an fcntl lock held by another program: 75, no lock file left' '
	mkfifo hold &&
	{ fcntl-hold mb held <hold & echo $! >holder.pid; } &&
	exec 9>hold &&
	test_wait_for held &&
	dovecot-lab put lab alice msgs/4 &&
	test_expect_code 75 pf 2>err &&
	grep "unable to lock mb: another program holds it" err &&
	test_path_is_missing mb.lock &&
	exec 9>&- && wait $(cat holder.pid) && rm holder.pid &&
	pf && test "$(count)" = 4
'

test_expect_success 'TERM while the lock is held by another: no litter, mail kept' '
	echo $$ >mb.lock && dovecot-lab put lab alice msgs/5 &&
	{ pop-fetch -w 30 -H 127.0.0.1:$(cat lab/port) -u alice -P pw \
	    -m mb 2>err & echo $! >pf.pid; } &&
	test_wait_for "$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat lab/port).spool" &&
	kill -TERM $(cat pf.pid) && { wait $(cat pf.pid); echo $? >rc; } &&
	test "$(cat rc)" = 143 && test "$(cat mb.lock)" = $$ &&
	rm mb.lock && test "$(labcount)" = 1 &&
	pf && test "$(count)" = 5
'

test_expect_success 'the mbox is created 0600; an existing one keeps its mode' '
	rm -f mb && dovecot-lab put lab alice msgs/6 &&
	pf && test "$(stat -c %a mb)" = 600 &&
	chmod 640 mb && dovecot-lab put lab alice msgs/7 &&
	pf && test "$(stat -c %a mb)" = 640 && test "$(count)" = 2
'

test_expect_success 'teardown' '
	dovecot-lab stop lab
'

test_done
