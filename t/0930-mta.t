#!/bin/sh
# Under an MTA (nymbox(7), EXIT STATUS): Postfix's pipe(8) and OpenSMTPD
# bounce a message on every exit but 75 and 71, so a program that
# delivers for them or for the queue turns a local set-up mistake (no
# HOME, an unreadable or malformed configuration, a bad value in it, a
# missing key) into 75 with a line that says what to fix; interactive
# commands and servers starting up keep 78.  And bounces travel: the
# null sender ('' or '<>', as pipe(8) passes it) goes out as MAIL
# FROM:<> from sam-deliver (fake SAM bridge) and smtp-submit (scripted
# SMTP server), which must see exactly that.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
! test -x "${NYM_HELPERS:-$H}/samtool" || test_set_prereq SAMTOOL

printf 'From: Alice <alice@alice.i2p>\nTo: Bob <bob@bob.i2p>\nSubject: t\n\nbody\n' >msg
printf 'secret\n' >pw && chmod 600 pw

# nohome PROG ARGS: as pipe(8) runs it, without HOME (or anything else),
# and without a terminal to ask for a password on.
nohome() {
	setsid -w env -i PATH="$PATH" "$@"
}

test_expect_success 'no HOME: every delivering program defers (75) and says what to fix' '
	test_expect_code 75 nohome sam-deliver -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "^sam-deliver: unable to find the key directory: set HOME or use -k\$" err &&
	test_expect_code 75 nohome delay-queue -m now -f alice@alice.i2p bob@bob.i2p -- true <msg 2>err &&
	test_grep "^delay-queue: unable to find the queue: set HOME or use -q\$" err &&
	test_expect_code 75 nohome scrub-headers <msg 2>err &&
	test_grep "^scrub-headers: unable to find the key directory: set HOME or use -K\$" err &&
	test_expect_code 75 nohome mbox-encrypt <msg 2>err &&
	test_grep "^mbox-encrypt: unable to find the public key: give it with -k\$" err &&
	test_expect_code 75 nohome smtp-submit -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "^smtp-submit: unable to read the password: no terminal; use -P or -F, or set smtp-password-file\$" err &&
	test_expect_code 75 nohome nymbox-sendmail -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "scrub-headers: unable to find the key directory: set HOME or use -K" err
'

test_expect_success 'no HOME: interactive commands and servers keep 78' '
	test_expect_code 78 nohome queue-run 2>err &&
	test_grep "set HOME or use -q" err &&
	test_expect_code 78 nohome sam-accept true 2>err &&
	test_grep "set HOME or use -k" err &&
	test_expect_code 78 nohome mbox-encrypt -g 2>err &&
	test_grep "give it with -K" err
'

test_expect_success 'an unreadable configuration: 75 for the delivering programs, 78 otherwise' '
	mkdir confdir &&
	for p in "sam-deliver -f alice@alice.i2p bob@bob.i2p" \
	    "smtp-submit -P pw -f alice@alice.i2p bob@bob.i2p" \
	    "delay-queue -m now -f alice@alice.i2p bob@bob.i2p -- true" \
	    "nymbox-sendmail -f alice@alice.i2p bob@bob.i2p" \
	    "mbox-encrypt" "scrub-headers"; do
		test_expect_code 75 env NYMBOX_CONF=$PWD/confdir $p <msg 2>err &&
		test_grep "^${p%% *}: unable to read configuration $PWD/confdir: Is a directory\$" err &&
		test_expect_code 75 env NYMBOX_CONF=$PWD/nothere $p <msg 2>err &&
		test_grep "unable to read configuration $PWD/nothere: No such file" err ||
		return 1
	done &&
	for p in "queue-run -l" "resolve-maildest -n a@b.i2p" "sam-accept true" \
	    "pop-fetch -H 127.0.0.1:1 -u a -d md"; do
		test_expect_code 78 env NYMBOX_CONF=$PWD/confdir $p </dev/null 2>err &&
		test_grep "unable to read configuration $PWD/confdir" err ||
		return 1
	done
'

test_expect_success 'a malformed configuration: 75, with its file and line' '
	printf "# a comment\nno equals sign\n" >badconf &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/badconf sam-deliver \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "unable to read configuration $PWD/badconf:2" err
'

test_expect_success 'a bad value in the configuration: 75, naming key and file' '
	printf "defer-range = soon\n" >c1 &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/c1 delay-queue -m defer \
	    -f alice@alice.i2p bob@bob.i2p -- true <msg 2>err &&
	test_grep "unable to use defer-range = soon in $PWD/c1: expected LO-HI" err &&
	printf "scrub-round = hourly\n" >c2 &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/c2 scrub-headers <msg 2>err &&
	test_grep "unable to use scrub-round = hourly in $PWD/c2: expected 0 to" err &&
	printf "mode = later\n" >c3 &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/c3 nymbox-sendmail \
	    -O chain= -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "unable to use mode later" err &&
	printf "smtp-server = nowhere\n" >c4 &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/c4 smtp-submit -P pw \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "unable to use server nowhere in $PWD/c4: expected host:port" err &&
	printf "smtp-server = smtp.postman.i2p:25\n" >c5 &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/c5 smtp-submit -P pw \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "in $PWD/c5: .i2p and .onion names are never looked up" err &&
	printf "inbox-public-key = %s/nothere.pub\n" "$PWD" >c6 &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/c6 mbox-encrypt <msg 2>err &&
	test_grep "unable to read public key $PWD/nothere.pub" err
'

test_expect_success 'a bad value for a program that is not delivering: 78, not 64' '
	printf "delivery-timeout = soon\n" >c7 &&
	test_expect_code 78 env NYMBOX_CONF=$PWD/c7 queue-run -l 2>err &&
	test_grep "unable to use delivery-timeout = soon in $PWD/c7: expected 1 to 86400" err
'

test_expect_success 'a usage error stays 64 (the command line, not the set-up)' '
	test_expect_code 64 sam-deliver -f alice@alice.i2p <msg &&
	test_expect_code 64 smtp-submit -P pw -f alice@alice.i2p <msg &&
	test_expect_code 64 delay-queue -f alice@alice.i2p bob@bob.i2p <msg
'

test_expect_success 'smtp-receive: a delivery command that exits 78 gets 451, not 554' '
	{ printf "EHLO c\nMAIL FROM:<alice@alice.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\n" &&
	  cat msg && printf ".\nQUIT\n"; } | sed "s/\$/\r/" >session &&
	write_script conf78 <<-\EOF &&
	cat >/dev/null; exit 78
	EOF
	smtp-receive -l bob.i2p -a -p ./conf78 <session >out 2>err &&
	test_grep "^451 4.3.0" out && ! grep "^554" out &&
	smtp-receive -l bob.i2p -a -p "mbox-encrypt -k nothere.pub -d md" \
	    <session >out 2>err &&
	test_grep "^451 4.3.0" out &&
	test_grep "mbox-encrypt: unable to read public key nothere.pub" err
'

# The null sender over SAM: a scripted server behind the fake bridge.
# sam_up: both, the server as route mx.i2p; stopped when the test ends.
sam_up() {
	rm -rf mx.port mx.pid mx.mail mx.log sam.port sam.pid sam.log &&
	{ "$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
	    --max-seconds 60 & echo $! >mx.pid; } &&
	test_wait_for mx.port &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds 60 --route "mx.i2p=$(cat mx.port)" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid
}
sam_down() {
	kill "$(cat mx.pid)" "$(cat sam.pid)" 2>/dev/null
	true
}
sd() {
	test_timeout 30 sam-deliver -S 127.0.0.1:"$(cat sam.port)" -w 3 "$@"
}
# The server's b32 address: a recipient the bridge resolves itself.
b32() {
	test_timeout 10 "${NYM_HELPERS:-$H}/samtool" -t 3000 -c 3000 \
	    127.0.0.1 "$(cat sam.port)" lookup -b mx.i2p
}

test_expect_success SAMTOOL 'sam-deliver -f "" and -f "<>": MAIL FROM:<>, delivered' '
	sam_up && test_when_finished sam_down && B=$(b32) &&
	sd -k alice.key -f "" "bob@$B" <msg &&
	test_grep "^MAIL FROM:<> SIZE=[0-9]*\$" mx.log &&
	sd -k alice.key -f "<>" "bob@$B" <msg &&
	test $(grep -c "^MAIL FROM:<> SIZE=" mx.log) = 2 &&
	test $(ls mx.mail | wc -l) = 2 &&
	test_grep -x "RCPT TO:<bob@$B>" mx.log
'

test_expect_success SAMTOOL 'sam-deliver, null sender: the identity of the configuration sends' '
	sam_up && test_when_finished sam_down && B=$(b32) &&
	printf "sender = Alice <alice@alice.i2p>\n" >idconf &&
	NYMBOX_CONF=$PWD/idconf sd -f "<>" "bob@$B" <msg &&
	test_path_is_file "$HOME/.config/nymbox/keys/alice.i2p.key" &&
	test_grep "^MAIL FROM:<> " mx.log
'

test_expect_success 'sam-deliver, null sender, no -k and no identity: 75 naming both' '
	test_expect_code 75 sam-deliver -f "" bob@mx.i2p <msg 2>err &&
	test_grep "unable to choose a key for the null sender of a bounce: give -k, or set sender = ADDRESS in a configuration file (none of $HOME/.config/nymbox/config, /etc/nymbox/config exists; or set NYMBOX_CONF)\$" err
'

test_expect_success 'a sender that is neither an address nor null: 64' '
	test_expect_code 64 sam-deliver -k alice.key -f "<a b>" bob@mx.i2p <msg &&
	test_expect_code 64 sam-deliver -k alice.key -f "nodomain" bob@mx.i2p <msg &&
	test_expect_code 64 smtp-submit -P pw -f "@x.i2p" bob@mx.i2p <msg
'

test_expect_success 'smtp-submit -f "" -u LOGIN: MAIL FROM:<> after AUTH' '
	rm -rf mx.port mx.mail mx.log &&
	{ "$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
	    --max-seconds 60 --auth alice@alice.i2p:secret & echo $! >mx.pid; } &&
	test_when_finished "kill \$(cat mx.pid) 2>/dev/null; true" &&
	test_wait_for mx.port &&
	test_timeout 30 smtp-submit -H 127.0.0.1:"$(cat mx.port)" -w 3 -P pw \
	    -u alice@alice.i2p -f "" bob@bob.i2p <msg &&
	test_grep "^AUTH " mx.log &&
	test_grep "^MAIL FROM:<> SIZE=[0-9]*\$" mx.log &&
	test_timeout 30 smtp-submit -H 127.0.0.1:"$(cat mx.port)" -w 3 -P pw \
	    -u alice@alice.i2p -f "<>" bob@bob.i2p <msg &&
	test $(grep -c "^MAIL FROM:<> " mx.log) = 2 &&
	test $(ls mx.mail | wc -l) = 2
'

test_expect_success 'smtp-submit, null sender without a login: 75 naming -u and smtp-login' '
	test_expect_code 75 smtp-submit -H 127.0.0.1:1 -P pw -f "" bob@bob.i2p \
	    <msg 2>err &&
	test_grep "unable to submit a bounce (the null sender): give the login with -u, or set smtp-login in " err
'

test_done
