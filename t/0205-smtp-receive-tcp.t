#!/bin/sh
# smtp-receive for a local mail program (Thunderbird, mutt's smtp_url)
# under a TCP listener on 127.0.0.1: socat starts one smtp-receive per
# connection, Python's smtplib logs in and submits, and the message goes
# to the delivery command the way it would go to the queue.
cd "$(dirname "$0")" && . ./lib.sh

command -v socat >/dev/null || test_skip_all "socat is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

test_expect_success 'setup: a listener on 127.0.0.1, a kernel-chosen port' '
	printf "alice@alice.i2p:s3cret\n" >pass && chmod 600 pass &&
	write_script deliver.sh <<-\EOS &&
	cat >"$OUTDIR/msg.$$" && echo "$SENDER $RECIPIENT" >"$OUTDIR/env.$$"
	EOS
	mkdir out &&
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
	echo $port >port &&
	{ OUTDIR=$PWD/out socat TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork \
	    EXEC:"smtp-receive -a -l alice.i2p -A pass -p ./deliver.sh" \
	    2>socat.err & echo $! >socat.pid; } &&
	python3 -c "
import socket, sys, time
for i in range(100):
    try:
        socket.create_connection((\"127.0.0.1\", $port), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)"
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

test_expect_success 'cleanup' 'kill "$(cat socat.pid)"'

test_done
