#!/bin/sh
# smtp-receive for a local mail program (Thunderbird, mutt's smtp_url)
# under a TCP listener on 127.0.0.1: socat starts one smtp-receive per
# connection, Python's smtplib logs in and submits, and the message goes
# to the delivery command the way it would go to the queue.
cd "$(dirname "$0")" && . ./lib.sh

command -v socat >/dev/null || test_skip_all "socat is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

# socat listens on the port the kernel chose (port 0) and says which
# (-d -d: "listening on AF=2 127.0.0.1:PORT"); stopped by PID.
test_atexit 'test ! -s socat.pid || kill "$(cat socat.pid)" 2>/dev/null || :'

test_expect_success 'setup: a listener on 127.0.0.1, a kernel-chosen port' '
	printf "alice@alice.i2p:s3cret\n" >pass && chmod 600 pass &&
	write_script deliver.sh <<-\EOS &&
	cat >"$OUTDIR/msg.$$" && echo "$SENDER $RECIPIENT" >"$OUTDIR/env.$$"
	EOS
	mkdir out &&
	{ OUTDIR=$PWD/out socat -d -d TCP-LISTEN:0,bind=127.0.0.1,fork \
	    EXEC:"smtp-receive -a -l alice.i2p -A pass -p ./deliver.sh" \
	    2>socat.err & echo $! >socat.pid; } &&
	test_wait_until "grep -q \" listening on .*127\.0\.0\.1:[1-9]\" socat.err" &&
	sed -n "s/.* listening on .*127\.0\.0\.1:\([0-9]*\)\$/\1/p" socat.err >port &&
	test_line_count = 1 port
'

submit() {
	python3 - "$(cat port)" "$@" <<-\EOP
	import smtplib, sys
	port, user, pw, frm, to = sys.argv[1:6]
	s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
	s.ehlo("localhost")
	if user:
	    s.login(user, pw)
	try:
	    s.sendmail(frm, [to], "Subject: from the MUA\r\n\r\nhello\r\n")
	except smtplib.SMTPException as e:
	    print(e, file=sys.stderr)
	    sys.exit(1)
	s.quit()
	EOP
}

test_expect_success 'logged in, Alice submits mail for Bob' '
	submit alice@alice.i2p s3cret alice@alice.i2p bob@bob.i2p &&
	cat out/env.* >env && echo "alice@alice.i2p bob@bob.i2p" >want &&
	test_cmp want env &&
	grep -x hello out/msg.*
'

test_expect_success 'without a login there is no relaying' '
	rm -f out/* &&
	test_must_fail submit "" "" alice@alice.i2p bob@bob.i2p 2>err &&
	grep -i "relay" err && test -z "$(ls out)"
'

test_expect_success 'logged in as Alice, she cannot send as someone else' '
	test_must_fail submit alice@alice.i2p s3cret carol@alice.i2p bob@bob.i2p 2>err &&
	grep "553" err
'

test_expect_success 'a wrong password is refused' '
	test_must_fail submit alice@alice.i2p wrong alice@alice.i2p bob@bob.i2p 2>err &&
	grep "535" err
'

test_done
