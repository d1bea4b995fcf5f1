#!/bin/sh
# smtp-receive -A: AUTH PLAIN and LOGIN for a local mail program; the
# login must be the sender; the password file must be private.
cd "$(dirname "$0")" && . ./lib.sh

crlf() { sed 's/$/\r/' "$@"; }
b64() { printf "$1" | base64 -w0; }

test_expect_success 'setup' '
	printf "# accounts\nalice@alice.i2p:s3cret:with:colons\nbob@bob.i2p:hunter2\r\n" >pass &&
	chmod 600 pass &&
	# no delay and a failure limit no test reaches, but where tested
	SR="-l bob.i2p -a -d md -A pass -D 0 -F 64/1" &&
	printf "Subject: hi\r\n\r\nbody\r\n" >msg &&
	printf "Subject: hi\n\nbody\n" >msg.lf
'

test_expect_success 'a password file others can read is refused' '
	cp pass open && chmod 644 open &&
	test_expect_code 78 smtp-receive -l bob.i2p -a -d md -A open </dev/null 2>err &&
	grep "smtp-receive: unable to use password file open: readable by others: chmod 600 open" err &&
	test_expect_code 78 smtp-receive -l bob.i2p -a -d md -A nothere </dev/null 2>err &&
	grep "unable to open password file nothere" err &&
	test_expect_code 78 smtp-receive -l bob.i2p -a -d md -A . </dev/null
'

test_expect_success 'EHLO offers AUTH PLAIN LOGIN' '
	printf "EHLO c\r\nQUIT\r\n" | smtp-receive $SR >out &&
	grep "^250-ENHANCEDSTATUSCODES" out &&
	grep "^250 AUTH PLAIN LOGIN" out
'

test_expect_success 'AUTH PLAIN with an initial response; then relaying as itself' '
	rm -rf md &&
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	> AUTH PLAIN $(b64 "\\0alice@alice.i2p\\0s3cret:with:colons")
	< 235 2.7.0
	> EHLO c
	< 250 ENHANCEDSTATUSCODES
	> MAIL FROM:<alice@alice.i2p>
	< 250
	> RCPT TO:<someone@elsewhere.i2p>
	< 250
	> DATA
	< 354
	file msg
	> .
	< 250 2.0.0
	> QUIT
	< 221
	EOF
	smtp-chat chat -- smtp-receive $SR >out &&
	test_cmp msg.lf md/new/*
'

test_expect_success 'AUTH PLAIN after a 334, authorization id equal to the login' '
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	> AUTH PLAIN
	< 334
	> $(b64 "bob@bob.i2p\\0bob@bob.i2p\\0hunter2")
	< 235
	> AUTH PLAIN
	< 503 5.5.1 Already
	EOF
	smtp-chat chat -- smtp-receive $SR
'

test_expect_success 'AUTH LOGIN, with and without an initial response' '
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	> AUTH LOGIN
	< 334 VXNlcm5hbWU6
	> $(b64 bob@bob.i2p)
	< 334 UGFzc3dvcmQ6
	> $(b64 hunter2)
	< 235
	EOF
	smtp-chat chat -- smtp-receive $SR &&
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	> auth login $(b64 Alice@Alice.I2P)
	< 334 UGFzc3dvcmQ6
	> $(b64 s3cret:with:colons)
	< 235
	> MAIL FROM:<alice@alice.i2p>
	< 250
	EOF
	smtp-chat chat -- smtp-receive $SR
'

test_expect_success 'a wrong password is 535, and is never logged' '
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	> AUTH PLAIN $(b64 "\\0bob@bob.i2p\\0wrongpassword")
	< 535 5.7.8
	> AUTH LOGIN $(b64 nobody@bob.i2p)
	< 334
	> $(b64 hunter2)
	< 535 5.7.8
	> AUTH PLAIN $(b64 "carol@bob.i2p\\0bob@bob.i2p\\0hunter2")
	< 535 5.7.8
	< 421 4.7.0
	eof
	exit 0
	EOF
	smtp-chat chat -- smtp-receive $SR >out 2>err &&
	grep "smtp-receive: refused login bob@bob.i2p: wrong name or password" err &&
	grep "smtp-receive: refused login nobody@bob.i2p: wrong" err &&
	test "$(grep -c "refused login bob@bob.i2p" err)" = 2 &&
	! grep "wrongpassword\|hunter2" err
'

test_expect_success 'the login must be the sender: 553' '
	printf "EHLO c\r\nAUTH PLAIN %s\r\nMAIL FROM:<alice@alice.i2p>\r\nMAIL FROM:<>\r\nMAIL FROM:<bob@bob.i2p>\r\nQUIT\r\n" \
	    "$(b64 "\\0bob@bob.i2p\\0hunter2")" |
	smtp-receive $SR >out &&
	sed -n 9,11p out >got &&
	crlf >want <<-\EOF &&
	553 5.7.1 Sender address is not the login
	553 5.7.1 Sender address is not the login
	250 2.1.0 Ok
	EOF
	test_cmp want got
'

test_expect_success 'without a login: local recipients only' '
	printf "EHLO c\r\nMAIL FROM:<alice@alice.i2p>\r\nRCPT TO:<x@elsewhere.i2p>\r\nQUIT\r\n" |
	smtp-receive $SR >out &&
	grep "^550 5.7.1 Relaying denied" out
'

test_expect_success 'AUTH errors: order, mechanism, cancel, bad base64' '
	printf "AUTH PLAIN\r\nHELO c\r\nAUTH PLAIN\r\nEHLO c\r\nAUTH CRAM-MD5\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN !!!\r\nAUTH LOGIN\r\n*\r\nAUTH PLAIN %s\r\nMAIL FROM:<a@a.i2p>\r\nAUTH PLAIN\r\nQUIT\r\n" \
	    "$(b64 "no nul bytes")" |
	smtp-receive -l bob.i2p -a -d md -A pass >out &&
	grep -v "^250" out >got &&
	crlf >want <<-\EOF &&
	220 ESMTP
	503 5.5.1 Send EHLO first
	503 5.5.1 Send EHLO first
	504 5.5.4 Unrecognized authentication type
	334 
	501 5.7.0 Authentication cancelled
	501 5.5.2 Cannot decode the response
	334 VXNlcm5hbWU6
	501 5.7.0 Authentication cancelled
	501 5.5.2 Malformed PLAIN response
	503 5.5.1 Not in a mail transaction
	221 2.0.0 Bye
	EOF
	test_cmp want got
'

test_expect_success 'no -A: AUTH is not offered or taken' '
	printf "EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n" "$(b64 "\\0bob@bob.i2p\\0hunter2")" |
	smtp-receive -l bob.i2p -a -d md >out &&
	! grep AUTH out &&
	grep "^502 5.5.1" out
'

test_expect_success 'a real client logs in with PLAIN and with LOGIN' '
	rm -rf md &&
	smtp-send -a bob@bob.i2p:hunter2 -f bob@bob.i2p -r x@elsewhere.i2p msg \
	    -- smtp-receive $SR &&
	smtp-send -a bob@bob.i2p:hunter2 -m LOGIN -f bob@bob.i2p \
	    -r x@elsewhere.i2p msg -- smtp-receive $SR &&
	test "$(ls md/new | wc -l)" = 2 &&
	test_must_fail smtp-send -a bob@bob.i2p:nope -f bob@bob.i2p \
	    -r x@elsewhere.i2p msg -- smtp-receive $SR 2>err &&
	grep "535" err
'

test_expect_success 'a password file opened up after the start: 454' '
	cp pass later && chmod 600 later &&
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	! chmod 644 later
	> AUTH PLAIN $(b64 "\\0bob@bob.i2p\\0hunter2")
	< 454 4.7.0
	EOF
	smtp-chat chat -- smtp-receive -l bob.i2p -a -d md -A later -D 0 2>err &&
	grep "unable to read password file later" err
'

test_expect_success 'a login is not checked against the peer' '
	printf "EHLO c\r\nAUTH PLAIN %s\r\nMAIL FROM:<bob@bob.i2p>\r\nQUIT\r\n" \
	    "$(b64 "\\0bob@bob.i2p\\0hunter2")" |
	I2P_PEER_B32=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p \
	smtp-receive $SR -R false >out &&
	grep "^250 2.1.0" out
'

# login N PASSWORD: a session that logs in as bob once; its replies in
# out.N, its stderr in err.N.
login() {
	printf "EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n" \
	    "$(b64 "\\0bob@bob.i2p\\0$2")" |
	smtp-receive -l bob.i2p -a -d md -A lim $SRX >out.$1 2>err.$1
}

test_expect_success 'a failed login is answered after -D seconds, whatever failed' '
	cp pass lim && chmod 600 lim &&
	SRX="-D 1 -F 64/600" &&
	for pw in wrong hunter2; do
		t0=$(date +%s%N) && login $pw $pw && t1=$(date +%s%N) &&
		echo $(( (t1 - t0) / 1000000 )) >ms.$pw || return 1
	done &&
	grep "^535 5.7.8" out.wrong && grep "^235" out.hunter2 &&
	test "$(cat ms.wrong)" -ge 1000 &&
	test "$(cat ms.hunter2)" -lt 1000 &&
	printf "EHLO c\r\nAUTH PLAIN %s\r\nQUIT\r\n" "$(b64 "\\0nobody@bob.i2p\\0x")" |
	{ t0=$(date +%s%N); smtp-receive -l bob.i2p -a -d md -A lim $SRX >out.nu 2>/dev/null;
	  echo $(( ($(date +%s%N) - t0) / 1000000 )) >ms.nobody; } &&
	grep "^535" out.nu && test "$(cat ms.nobody)" -ge 1000
'

# At -F 3/600: with 2 failures in the ledger a right password is still
# checked and taken, and so is the 3rd failure (535, not 454); only the
# AUTH after it finds the limit reached.
test_expect_success 'at -F: after F-1 failures a login works; the F-th is still checked' '
	rm -f lim.fails && SRX="-D 0 -F 3/600" &&
	login a1 wrong && login a2 wrong &&
	grep "^535 5.7.8" out.a2 &&
	login a3 hunter2 &&
	grep "^235 2.7.0" out.a3 &&
	login a4 wrong &&
	grep "^535 5.7.8" out.a4 && ! grep "^454" out.a4 &&
	login a5 hunter2 &&
	grep "^454 4.7.0 Too many failed logins" out.a5
'

# One connection: 3 failed logins (NYM_SMTPD_AUTHFAIL) close it, see
# above; after 2 it goes on, and a right password logs in.
test_expect_success 'one connection: after 2 failed logins the 3rd try may log in' '
	rm -f lim.fails && SRX="-D 0 -F 64/600" &&
	printf "EHLO c\r\nAUTH PLAIN %s\r\nAUTH PLAIN %s\r\nAUTH PLAIN %s\r\nMAIL FROM:<bob@bob.i2p>\r\nQUIT\r\n" \
	    "$(b64 "\\0bob@bob.i2p\\0x")" "$(b64 "\\0bob@bob.i2p\\0y")" \
	    "$(b64 "\\0bob@bob.i2p\\0hunter2")" |
	smtp-receive -l bob.i2p -a -d md -A lim $SRX >out.one &&
	grep -c "^535 5.7.8" out.one >n && test "$(cat n)" = 2 &&
	grep "^235 2.7.0" out.one && grep "^250 2.1.0" out.one &&
	! grep "^421" out.one
'

test_expect_success 'failures of every connection count: past -F, no password is checked' '
	rm -f lim.fails && SRX="-D 0 -F 3/600" &&
	login 1 wrong && login 2 wrong && login 3 wrong &&
	grep "^535 5.7.8" out.3 &&
	test "$(stat -c %a lim.fails)" = 600 &&
	login 4 hunter2 &&
	grep "^454 4.7.0 Too many failed logins" out.4 &&
	! grep "^235" out.4 &&
	grep "refused login bob@bob.i2p: 3 failed logins in 600 s" err.4 &&
	test "$(stat -c %s lim.fails)" = 512
'

test_expect_success 'the ledger never grows, and old failures leave the window' '
	SRX="-D 0 -F 64/600" && i=0 &&
	while test $i -lt 70; do login g wrong || return 1; i=$((i + 1)); done &&
	test "$(stat -c %s lim.fails)" = 512 &&
	SRX="-D 0 -F 3/1" &&
	test_wait_until "login w hunter2 && grep -q \"^235\" out.w" 10
'

test_expect_success 'bad -D and -F are usage errors' '
	test_expect_code 64 smtp-receive $SR -D 61 </dev/null 2>err &&
	test_expect_code 64 smtp-receive $SR -F 10 </dev/null 2>err &&
	grep "expected MAX/SECONDS" err &&
	test_expect_code 64 smtp-receive $SR -F 65/10 </dev/null &&
	test_expect_code 64 smtp-receive $SR -F 3/0 </dev/null
'

test_done
