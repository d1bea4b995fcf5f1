#!/bin/sh
# No core file holds a key or a password: every program makes itself
# undumpable before it reads anything (nym_start; DESIGN, Secrets).  With
# `ulimit -c unlimited`, SIGABRT to a program blocked on its input leaves
# no core, and its /proc entries belong to root even when it runs as
# another user (PR_SET_DUMPABLE 0); pop-serve is checked logged in, with
# the inbox key unlocked.  A plain sleep in the same place must leave a
# core, or the machine writes cores elsewhere and the test is skipped.
cd "$(dirname "$0")" && . ./lib.sh

case $(cat /proc/sys/kernel/core_pattern 2>/dev/null) in
'|'*|'') test_skip_all "cores go to a program here (core_pattern), not to a file" ;;
esac
ulimit -c unlimited 2>/dev/null ||
    test_skip_all "the core size limit cannot be raised here"

# abort DIR PID: SIGABRT to PID, wait for it to end (a core is written
# before the process is gone; wait(1) alone may not know PID and return
# at once), list DIR's cores.
abort() {
	kill -ABRT "$2" && test_wait_gone "$2" && { wait "$2" 2>/dev/null; :; } &&
	ls "$1" | grep "^core" || :
}

# blocked PID EXE: until PID runs EXE and sleeps (in a read or poll).
blocked() {
	test_wait_until "test \"\$(readlink /proc/$1/exe)\" = \"$2\" &&
	    grep -q \"^State:.*S\" /proc/$1/status"
}

test_expect_success 'control: a plain program leaves a core here' '
	mkdir ctl && { (cd ctl && exec sleep 600) & } && pid=$! &&
	test_wait_until "test \"\$(readlink /proc/$pid/exe)\" = \"$(readlink -f "$(command -v sleep)")\"" &&
	test -n "$(abort ctl $pid)"
' || test_skip_all "no core was written for a plain program here"

test_expect_success 'setup: an encrypted inbox and its key' '
	printf "s3cret pass\n" >pw && chmod 600 pw &&
	mbox-encrypt -g -F 3 -K key -k key.pub 3<pw &&
	printf "Subject: x\n\nsecret text\n" | mbox-encrypt -k key.pub -d md
'

# Programs that read standard input first, blocked on a FIFO open for
# reading and writing (so no EOF comes).
while read -r t args; do
	test_expect_success "$t blocked on its input leaves no core" '
		rm -rf d && mkdir d && rm -f fifo && mkfifo fifo &&
		{ (cd d && exec $t $args <>../fifo >/dev/null 2>../err.$t) & } &&
		pid=$! &&
		blocked $pid "$(readlink -f "$(command -v $t)")" &&
		test -z "$(abort d $pid)"
	'
done <<EOF
scrub-headers
smtp-receive -l x.i2p -a -d $TRASH/got
delay-queue -m now -q $TRASH/q a@x.i2p -- cat
mbox-encrypt -k $TRASH/key.pub -d $TRASH/got
EOF

test_expect_success 'pop-serve logged in (key unlocked) leaves no core' '
	rm -rf d && mkdir d && rm -f fifo && mkfifo fifo &&
	{ (cd d && exec pop-serve -d ../md -K ../key -u alice -D 0 \
	    <>../fifo >../out 2>../err.pop-serve) & } &&
	pid=$! &&
	test_timeout 10 sh -c "printf \"USER alice\r\nPASS s3cret pass\r\n\" >fifo" &&
	test_wait_until "test \$(grep -c \"^+OK\" out) -ge 3" &&
	grep "^+OK.*1 message" out &&
	test -z "$(abort d $pid)"
'

test_expect_success 'run as another user, its /proc entries are root'"'"'s: no ptrace' '
	command -v setpriv >/dev/null || { echo "# setpriv is missing"; return 0; }
	test "$(id -u)" = 0 || { echo "# not root"; return 0; }
	rm -f fifo && mkfifo fifo &&
	{ HOME=/nonexistent setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups smtp-receive -l x.i2p -a -d /nonexistent \
	    <>fifo >/dev/null & } && pid=$! &&
	blocked $pid "$(readlink -f "$(command -v smtp-receive)")" &&
	test "$(stat -c %U /proc/$pid/status)" = root &&
	kill $pid && { wait $pid; :; } &&
	{ setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    sleep 600 & } && pid=$! &&
	test_wait_until "test \"\$(stat -c %U /proc/$pid/status)\" = nobody" &&
	kill $pid
'

test_done
