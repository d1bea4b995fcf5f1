#!/bin/sh
# smtp-submit against a real Postfix on loopback that takes mail only
# with SMTP AUTH and only from the login's own address (postfix-lab,
# which checks passwords with dovecot), and against the scripted server
# for what a real one will not do on demand: a 4xx at a chosen step, a
# connection dropped, a server that never answers.  Then over a SAM
# stream through the fake bridge.
cd "$(dirname "$0")" && . ./lib.sh

command -v smtp-submit >/dev/null || test_skip_all "smtp-submit is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers

if test "$(id -u)" = 0 && test -x /usr/sbin/postfix &&
    test -x /usr/sbin/dovecot; then
	test_set_prereq POSTFIX
fi

printf 'secret\n' >pw && chmod 600 pw
printf 'other\n' >pwb && chmod 600 pwb
printf 'wrong\n' >pwx && chmod 600 pwx
printf 'From: Alice <alice@lab.test>\nTo: Bob <bob@ext.test>\nBcc: carol@ext.test,\n  dave@ext.test\nSubject: submit\n\n.starts with a dot\n..two\nlast line without end' >msg
# What goes on the wire: CRLF, no Bcc, dots doubled, a last line end.
printf 'From: Alice <alice@lab.test>\r\nTo: Bob <bob@ext.test>\r\nSubject: submit\r\n\r\n.starts with a dot\r\n..two\r\nlast line without end\r\n' >want.wire

pf() {
	test_timeout 30 smtp-submit -H 127.0.0.1:"$(cat lab/port)" -w $(test_scaled 10) "$@"
}

. "$TOP/t/helpers/postfix-inbox.sh"

# Stop the servers whatever happens to the script.
test_atexit 'postfix-lab stop "$TRASH/lab" >/dev/null 2>&1'
test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

test_expect_success POSTFIX 'setup: Postfix with SASL AUTH, two logins, 200 kB limit' '
	postfix-lab start lab 200000 alice@lab.test:secret bob@lab.test:other &&
	test -s lab/port && test -s lab/pid
'

test_expect_success POSTFIX 'submitted with AUTH: every recipient, Bcc removed' '
	pf -P pw -f alice@lab.test bob@ext.test carol@ext.test \
	    dave@ext.test <msg 2>err &&
	test_must_be_empty err &&
	delivered 3 &&
	for f in $(inbox); do
		m="$(cat lab/dir)/mail/inbox/new/$f" &&
		grep "with ESMTPA" "$m" &&
		grep -x "Subject: submit" "$m" &&
		grep -x ".starts with a dot" "$m" &&
		! grep -i "^Bcc:\|^[ 	]*dave@ext.test" "$m" || return 1
	done
'

test_expect_success POSTFIX 'the password from a descriptor; a message from a pipe' '
	cat msg | pf -F 3 -f alice@lab.test bob@ext.test 3<pw &&
	delivered 4
'

test_expect_success POSTFIX 'a wrong password: 77, and it is not shown' '
	test_expect_code 77 pf -P pwx -f alice@lab.test bob@ext.test \
	    <msg 2>err &&
	test_grep "unable to log in to 127.0.0.1:[0-9]* as alice@lab.test: 535" err &&
	test_grep -v "wrong" err
'

test_expect_success POSTFIX 'a login that is not the sender is refused before connecting (75)' '
	test_expect_code 75 pf -P pwb -u bob@lab.test -f alice@lab.test \
	    bob@ext.test <msg 2>err &&
	test_grep "the login must be the sender address" err
'

test_expect_success POSTFIX 'the login of the config file, per identity' '
	printf "[alice@lab.test]\nsmtp-password-file = %s/pw\n[bob@lab.test]\nsmtp-password-file = %s/pwb\n" \
	    "$TRASH" "$TRASH" >conf &&
	NYMBOX_CONF=$TRASH/conf pf -f bob@lab.test alice@ext.test <msg &&
	delivered 5 &&
	NYMBOX_CONF=$TRASH/conf pf -f alice@lab.test bob@ext.test <msg &&
	delivered 6
'

test_expect_success POSTFIX 'over the server SIZE limit: 65, nothing sent' '
	{ cat msg && head -c 250000 /dev/zero | tr "\\0" x | fold -w 76; } >big &&
	test_expect_code 65 pf -P pw -f alice@lab.test bob@ext.test \
	    <big 2>err &&
	test_grep "over the server.s limit of 200000" err &&
	! grep "MAIL FROM" "$(cat lab/dir)/maillog"
'

test_expect_success POSTFIX 'a server that is down: 75' '
	test_expect_code 75 test_timeout 20 smtp-submit -H 127.0.0.1:1 -w 2 \
	    -P pw -f alice@lab.test bob@ext.test <msg
'

test_expect_success POSTFIX 'teardown: Postfix stopped by its PID' '
	pid=$(cat lab/pid) && postfix-lab stop lab &&
	test_path_is_missing lab/pid && ! kill -0 "$pid" 2>/dev/null
'

# The scripted server for exact faults.
mx() {
	kill "$(cat mx.pid 2>/dev/null)" 2>/dev/null
	rm -rf mx.port mx.mail mx.log &&
	{ "$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
	    --max-seconds $(test_scaled 300) --auth alice@lab.test:secret "$@" &
	  echo $! >mx.pid; } &&
	test_wait_for mx.port
}

sx() {
	test_timeout 30 smtp-submit -H 127.0.0.1:"$(cat mx.port)" -w $(test_scaled 3) \
	    -P pw -f alice@lab.test "$@"
}

test_expect_success 'the exact bytes on the wire, pipelined, neutral EHLO' '
	mx && sx bob@ext.test carol@ext.test <msg &&
	test_cmp want.wire mx.mail/msg1 &&
	test_grep -x "EHLO localhost" mx.log &&
	test_grep "^MAIL FROM:<alice@lab.test> SIZE=[0-9]*\$" mx.log &&
	test_grep -x "RCPT TO:<carol@ext.test>" mx.log
'

test_expect_success 'AUTH LOGIN when PLAIN is not offered' '
	mx --mechs LOGIN && sx bob@ext.test <msg &&
	test_cmp want.wire mx.mail/msg1 &&
	test_grep -x "AUTH LOGIN" mx.log
'

test_expect_success 'no PLAIN or LOGIN offered: 75, a set-up mistake never bounces' '
	mx --mechs CRAM-MD5 &&
	test_expect_code 75 sx bob@ext.test <msg 2>err &&
	test_grep "offers no AUTH PLAIN or LOGIN" err
'

test_expect_success 'AUTH answered 454 (temporary): 75' '
	mx --auth-reply "454 4.7.0 try later" &&
	test_expect_code 75 sx bob@ext.test <msg 2>err &&
	test_grep "454 4.7.0 try later" err
'

test_expect_success 'a 4xx after the message: 75' '
	mx --final "451 4.3.0 queue trouble" &&
	test_expect_code 75 sx bob@ext.test <msg &&
	test_path_is_missing mx.mail/msg1
'

test_expect_success 'RCPT 450 for one, the other delivered: 75' '
	mx --rcpt "carol=450 4.2.1 busy" &&
	test_expect_code 75 sx bob@ext.test carol@ext.test <msg 2>err &&
	test_grep "unable to deliver to carol@ext.test: 450" err &&
	test_cmp want.wire mx.mail/msg1
'

test_expect_success 'an unknown recipient: 67' '
	mx --rcpt "bob=550 5.1.1 no such user" &&
	test_expect_code 67 sx bob@ext.test <msg
'

test_expect_success 'the connection dropped after AUTH, at MAIL: 75' '
	mx --drop-after MAIL &&
	test_expect_code 75 sx bob@ext.test <msg
'

test_expect_success 'the connection dropped in the middle of DATA: 75' '
	mx --drop-in-data &&
	test_expect_code 75 sx bob@ext.test <msg &&
	test_path_is_missing mx.mail/msg1
'

test_expect_success 'a server that never answers: 75 within the timeout' '
	mx --hang &&
	test_expect_code 75 sx bob@ext.test <msg
'

test_expect_success 'without PIPELINING, one command at a time' '
	mx --no-pipelining && sx bob@ext.test <msg &&
	test_cmp want.wire mx.mail/msg1
'

test_expect_success 'usage: no sender, no recipients, -H with -s (64)' '
	test_expect_code 64 smtp-submit -P pw bob@ext.test <msg &&
	test_expect_code 64 smtp-submit -P pw -f alice@lab.test <msg &&
	test_expect_code 64 smtp-submit -H 127.0.0.1:1 -s x.i2p -P pw \
	    -f alice@lab.test bob@ext.test <msg
'

test_expect_success 'a password file others can read: 75, and the fix' '
	cp pw loose && chmod 644 loose &&
	test_expect_code 75 sx -P loose bob@ext.test <msg 2>err &&
	test_grep "unable to read password file loose: readable by others: chmod 600 loose\$" err
'

test_atexit 'test_stop_holders "$HOME/.config/nymbox/client"'
test_expect_success 'over SAM: the login s client key, a stream to the destination' '
	mx && rm -f sam.port sam.pid &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) --route "smtp.i2p=$(cat mx.port)" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_timeout 30 smtp-submit -s smtp.i2p -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 5) -P pw -f alice@lab.test bob@ext.test <msg &&
	test_cmp want.wire mx.mail/msg1 &&
	test_grep -v "SESSION CREATE.*DESTINATION=TRANSIENT" sam.log &&
	test "$(grep -c " CREATED " sam.log)" = 1 &&
	test "$(stat -c %a "$HOME/.config/nymbox/client/alice@lab.test.key")" = 600 &&
	test_grep "STREAM CONNECT.*DESTINATION=smtp.i2p" sam.log
'

test_expect_success 'over SAM, the bridge down (no session held): 75' '
	test_stop_holders "$HOME/.config/nymbox/client" &&
	test_expect_code 75 test_timeout 20 smtp-submit -s smtp.i2p \
	    -S 127.0.0.1:1 -w 2 -P pw -f alice@lab.test bob@ext.test <msg
'

test_expect_success 'teardown: the scripted servers' '
	kill "$(cat mx.pid)" "$(cat sam.pid)"
'

test_done
