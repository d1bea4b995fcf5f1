#!/bin/sh
# smtp-receive: delivery through a command (-p), and maildir failures:
# 250 only when the message is safe, 451 with nothing half-written.
cd "$(dirname "$0")" && . ./lib.sh

crlf() { sed 's/$/\r/' "$@"; }

# send ADDR...: a session from alice@alice.i2p to each ADDR with msg.
send()
{
	{
		printf "EHLO c\nMAIL FROM:<alice@alice.i2p>\n"
		for tl_r_; do
			printf "RCPT TO:<%s>\n" "$tl_r_"
		done
		printf "DATA\n" && cat msg && printf ".\nQUIT\n"
	} | crlf
}

test_expect_success 'setup' '
	printf "Subject: deliver me\n\nline one\nline two\n" >msg &&
	write_script deliver <<-\EOF
	# keep the message and the envelope; exit with $(cat rc) if any
	n=$(ls got/*.msg 2>/dev/null | wc -l)
	mkdir -p got && cat >got/$n.msg &&
	printf "%s|%s|%s|%s\n" "$SENDER" "$RECIPIENT" "$1" "$2" >got/$n.env &&
	echo "this goes to the log"
	test ! -f rc || exit $(cat rc)
	EOF
'

test_expect_success 'exit 0: 250, the message and envelope reach the command' '
	send bob@bob.i2p |
	smtp-receive -l bob.i2p -a -p "./deliver \"\$1\" \"\$2\"" >out 2>err &&
	grep "^250 2.0.0 Ok" out &&
	test_cmp msg got/0.msg &&
	echo "alice@alice.i2p|bob@bob.i2p|alice@alice.i2p|bob@bob.i2p" >want &&
	test_cmp want got/0.env &&
	! grep "goes to the log" out &&
	grep "this goes to the log" err
'

test_expect_success 'once per recipient, duplicates once' '
	rm -rf got &&
	send bob@bob.i2p carol@bob.i2p BOB@bob.i2p |
	smtp-receive -l bob.i2p -a -p ./deliver >out 2>err &&
	echo "alice@alice.i2p|carol@bob.i2p||" >want &&
	test_cmp want got/1.env &&
	grep "^250 2.0.0 Ok" out &&
	test "$(ls got/*.msg | wc -l)" = 2 &&
	test_cmp msg got/1.msg
'

test_expect_success 'exit 75: 451, and the client may try again' '
	rm -rf got && echo 75 >rc &&
	send bob@bob.i2p | smtp-receive -l bob.i2p -a -p ./deliver >out 2>err &&
	grep "^451 4.3.0" out &&
	grep "smtp-receive: unable to deliver to bob@bob.i2p: command exited 75" err &&
	tail -1 out | grep "^221"
'

test_expect_success 'another exit status: 554' '
	echo 67 >rc &&
	send bob@bob.i2p | smtp-receive -l bob.i2p -a -p ./deliver >out 2>err &&
	grep "^554 5.3.0" out
'

test_expect_success 'a temporary failure of one recipient wins over others' '
	write_script mixed <<-\EOF &&
	cat >/dev/null
	case $RECIPIENT in bob@*) exit 0 ;; carol@*) exit 1 ;; *) exit 75 ;; esac
	EOF
	send bob@bob.i2p carol@bob.i2p | smtp-receive -l bob.i2p -a -p ./mixed >out 2>err &&
	grep "^554" out &&
	send bob@bob.i2p carol@bob.i2p dave@bob.i2p |
	smtp-receive -l bob.i2p -a -p ./mixed >out 2>err &&
	grep "^451" out
'

test_expect_success 'a missing command or a crash is temporary' '
	send bob@bob.i2p | smtp-receive -l bob.i2p -a -p ./nothere >out 2>err &&
	grep "^451" out &&
	send bob@bob.i2p | smtp-receive -l bob.i2p -a -p "kill -9 \$\$" >out 2>err &&
	grep "^451" out &&
	grep "killed by signal 9" err
'

test_expect_success 'a command that hangs is killed after twice -t: 451' '
	write_script hang <<-\EOF &&
	echo $$ >hang.pid
	sleep 600 & echo $! >sleep.pid
	wait
	echo late >late.out
	EOF
	send bob@bob.i2p >in &&
	test_when_finished "kill \$(cat hang.pid sleep.pid) 2>/dev/null; :" &&
	test_timeout 20 smtp-receive -t 1 -l bob.i2p -a -p ./hang <in >out 2>err &&
	grep "^451" out &&
	grep "the command took too long" err &&
	test_path_is_file hang.pid && test_path_is_file sleep.pid &&
	test_wait_gone $(cat hang.pid sleep.pid) &&
	test_path_is_missing late.out
'

test_expect_success 'the message is spooled in TMPDIR, unlinked' '
	mkdir spool &&
	write_script look <<-\EOF &&
	cat >/dev/null && ls -A spool >listing
	EOF
	send bob@bob.i2p | TMPDIR=$PWD/spool smtp-receive -l bob.i2p -a -p ./look >out &&
	grep "^250 2.0.0" out &&
	test_must_be_empty listing &&
	send bob@bob.i2p | TMPDIR=$PWD/nospool smtp-receive -l bob.i2p -a -p ./look >out 2>err &&
	grep "^451 4.3.0" out &&
	grep "unable to create a temporary file" err
'

test_expect_success 'a maildir whose tmp is a file: 451 at DATA, nothing in new/' '
	mkdir -p bad/new bad/cur && : >bad/tmp &&
	send bob@bob.i2p | smtp-receive -l bob.i2p -a -d bad >out 2>err &&
	grep "^451 4.3.0" out &&
	! grep "^354" out &&
	grep "smtp-receive: unable to create a file in maildir bad: Not a directory" err &&
	test -z "$(ls bad/new)"
'

test_expect_success 'new/ gone while the message came: 451, nothing left' '
	cat >chat <<-\EOF &&
	< 220
	> EHLO c
	< 250
	> MAIL FROM:<a@a.i2p>
	< 250
	> RCPT TO:<bob@bob.i2p>
	< 250
	> DATA
	< 354
	> Subject: x
	! rmdir nonew/new && : >nonew/new
	>
	> body
	> .
	< 451 4.3.0
	> QUIT
	< 221
	EOF
	smtp-chat chat -- smtp-receive -l bob.i2p -a -d nonew 2>err &&
	grep "unable to deliver to maildir nonew: Not a directory" err &&
	test -z "$(ls -A nonew/tmp)"
'

test_expect_success UNPRIV 'an unwritable maildir: 451' '
	send bob@bob.i2p >in &&
	test_unprivileged_dir U && mv in "$U/" && cd "$U" &&
	test_unprivileged mkdir -p ro/tmp ro/new ro/cur &&
	test_unprivileged smtp-receive -l bob.i2p -a -d ro <in >out 2>err &&
	test_grep "^250 2.0.0" out && test "$(ls ro/new | wc -l)" = 1 &&
	rm ro/new/* &&
	test_unprivileged chmod 500 ro/tmp &&
	test_unprivileged smtp-receive -l bob.i2p -a -d ro <in >out 2>err &&
	test_grep "^451 4.3.0" out &&
	test_grep "unable to create a file in maildir ro: Permission denied" err &&
	test -z "$(ls -A ro/new)" && test -z "$(ls -A ro/tmp)"
'

if unshare -m true 2>/dev/null &&
    unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /mnt' 2>/dev/null; then
	test_set_prereq TMPFS
fi

test_expect_success TMPFS 'a full disk: 451, no half message in new/ or tmp/' '
	awk "BEGIN { for (i = 0; i < 3000; i++) print \"filler line \" i }" >msg &&
	mkdir full &&
	send bob@bob.i2p >in &&
	unshare -m sh -c "
		mount -t tmpfs -o size=16k tmpfs full &&
		smtp-receive -l bob.i2p -a -d full/md <in >out 2>err;
		ls -A full/md/new full/md/tmp >left
	" &&
	grep "^451 4.3.0" out &&
	grep "No space left on device" err &&
	! grep -v ":\$" left | grep .
'

test_expect_success 'SIGTERM during DATA leaves nothing in tmp/' '
	cat >chat <<-\EOF &&
	< 220
	> EHLO c
	< 250
	> MAIL FROM:<a@a.i2p>
	< 250
	> RCPT TO:<bob@bob.i2p>
	< 250
	> DATA
	< 354
	> Subject: half
	! test "$(ls sig/tmp | wc -l)" = 1
	! kill -TERM $CHAT_PID
	exit 75
	EOF
	smtp-chat chat -- smtp-receive -l bob.i2p -a -d sig &&
	test -z "$(ls -A sig/tmp)" && test -z "$(ls -A sig/new)"
'

test_done
