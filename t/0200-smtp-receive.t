#!/bin/sh
# smtp-receive: the SMTP conversation, local recipients, maildir delivery,
# size and line limits, pipelining.
cd "$(dirname "$0")" && . ./lib.sh

# crlf: LF line ends to CRLF.
crlf() { sed 's/$/\r/' "$@"; }
# A session from LF lines, sent in one go (which is pipelining).
session() { crlf | smtp-receive "$@"; }
newfiles() { find md/new -type f | wc -l; }

test_expect_success 'setup' '
	printf "bob\n# a comment\n\ncarol@bob.i2p\n" >users &&
	SR="-l bob.i2p -u users -d md" &&
	cat >msg.eml <<-\EOF &&
	From: Alice <alice@alice.i2p>
	To: Bob <bob@bob.i2p>
	Subject: dots
	Date: Mon, 23 Nov 2026 07:48:41 +0000

	.a line with a leading dot
	..two dots
	.
	a line with a dot alone above
	EOF
	crlf msg.eml >msg.crlf &&
	sed "s/^\./../" msg.crlf >msg.stuffed &&
	sed "s/^\./../" msg.eml >stuffed.lf
'

test_expect_success 'the greeting is neutral: no host, no software' '
	printf "QUIT\r\n" | smtp-receive $SR >out &&
	printf "220 ESMTP\r\n221 2.0.0 Bye\r\n" >want &&
	test_cmp want out &&
	! grep -i "$(hostname)" out
'

test_expect_success 'EHLO lists the extensions, HELO does not' '
	printf "EHLO client.example\nHELO client.example\nQUIT\n" |
	session $SR >out &&
	crlf >want <<-\EOF &&
	220 ESMTP
	250-ESMTP
	250-PIPELINING
	250-SIZE 52428800
	250-8BITMIME
	250 ENHANCEDSTATUSCODES
	250 ESMTP
	221 2.0.0 Bye
	EOF
	test_cmp want out
'

test_expect_success 'a message is in new/ only after 250, as sent, LF line ends' '
	cat >chat <<-\EOF &&
	< 220
	> EHLO client.example
	< 250
	> MAIL FROM:<alice@alice.i2p>
	< 250 2.1.0
	> RCPT TO:<bob@bob.i2p>
	< 250 2.1.5
	> DATA
	< 354
	file msg.stuffed
	! test ! -d md/new || test -z "$(ls md/new)"
	> .
	< 250 2.0.0
	! test "$(ls md/new | wc -l)" = 1
	> QUIT
	< 221
	eof
	exit 0
	EOF
	smtp-chat chat -- smtp-receive $SR &&
	test_cmp msg.eml md/new/* &&
	test -z "$(ls md/tmp)" &&
	test "$(stat -c %a md/new/*)" = 600 &&
	test "$(stat -c %a md)" = 700
'

test_expect_success 'no field is added, the file name has no host name' '
	ls md/new >names && test_line_count = 1 names &&
	test_grep "^Subject: dots" "md/new/$(cat names)" &&
	test_grep -v -i "^Received:\|^Return-Path:\|^Delivered-To:" "md/new/$(cat names)" &&
	test_grep -v -i "$(hostname)" names
'

test_expect_success 'LF-only lines are taken too, as CRLF (normalize)' '
	rm -rf md &&
	{
		printf "EHLO c\nMAIL FROM:<alice@alice.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\n" &&
		sed "\$ s/\$/\r/" stuffed.lf && printf ".\r\nQUIT\n"
	} | smtp-receive $SR >out &&
	grep "^250 2.0.0 Ok" out &&
	test_cmp msg.eml md/new/*
'

test_expect_success 'with -N reject a bare LF refuses the message and ends the session' '
	rm -rf md &&
	{
		printf "EHLO c\nMAIL FROM:<alice@alice.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\n" &&
		cat stuffed.lf && printf ".\r\nQUIT\n"
	} | smtp-receive -N reject $SR >out 2>err &&
	grep "^354" out &&
	tail -1 out | grep "^550 5.5.2 Error: bare <LF> received" &&
	! grep "^221" out &&
	grep "bare LF" err &&
	test "$(newfiles)" = 0 &&
	test -z "$(ls md/tmp)"
'

# smuggle END: a message whose body holds END, then a second envelope
# and message that a server taking END as the end of DATA would store.
smuggle() {
	printf "EHLO c\r\nMAIL FROM:<alice@alice.i2p>\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\n"
	printf "Subject: first\r\n\r\nfirst$1"
	printf "MAIL FROM:<admin@bob.i2p>\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\n"
	printf "Subject: SMUGGLED\r\n\r\nSMUGGLED\r\n.\r\nQUIT\r\n"
}

for c in "LF.LF=\\n.\\n" "LF.CRLF=\\n.\\r\\n" "CRLF.LF=\\r\\n.\\n" \
    "CR.CR=\\r.\\r" "CRLF.CR=\\r\\n.\\r" "CRLF CR.CRLF=\\r\\n\\r.\\r\\n"; do
	test_expect_success "SMTP smuggling: <${c%%=*}> does not end DATA: one message" "
		rm -rf md &&
		smuggle '${c#*=}' | smtp-receive \$SR >out 2>err &&
		test \"\$(grep -c '^250 2.0.0' out)\" = 1 &&
		test \"\$(newfiles)\" = 1 &&
		grep -q 'MAIL FROM:<admin@bob.i2p>' md/new/* &&
		grep -q '^SMUGGLED' md/new/*
	"
	test_expect_success "SMTP smuggling: <${c%%=*}> with -N reject: 550, nothing stored" "
		rm -rf md &&
		smuggle '${c#*=}' | smtp-receive -N reject \$SR >out 2>err &&
		grep '^550 5.5.2 Error: bare <[LC][FR]> received' out &&
		! grep '^250 2.0.0' out &&
		test \"\$(newfiles)\" = 0 &&
		test -z \"\$(ls md/tmp)\"
	"
done

test_expect_success 'only CRLF.CRLF ends DATA: the whole body is one message' '
	rm -rf md &&
	smuggle "\\r\\n..\\r\\n" | smtp-receive $SR >out &&
	test "$(grep -c "^250 2.0.0" out)" = 1 &&
	test "$(newfiles)" = 1 &&
	grep "^SMUGGLED" md/new/* &&
	grep "^MAIL FROM:<admin@bob.i2p>" md/new/* &&
	grep "^\.\$" md/new/*
'

test_expect_success 'a real client (smtplib) delivers' '
	rm -rf md &&
	smtp-send -f alice@alice.i2p -r bob@bob.i2p msg.crlf -- smtp-receive $SR &&
	test_cmp msg.eml md/new/*
'

test_expect_success 'one copy for several recipients' '
	rm -rf md &&
	smtp-send -f alice@alice.i2p -r bob@bob.i2p -r carol@bob.i2p \
	    -r BOB@BOB.I2P msg.eml -- smtp-receive $SR &&
	test "$(newfiles)" = 1
'

test_expect_success 'a pipelined session: two messages, one write' '
	rm -rf md &&
	{
		printf "EHLO c\nMAIL FROM:<alice@alice.i2p>\nRCPT TO:<bob@bob.i2p>\n" &&
		printf "RCPT TO:<nobody@bob.i2p>\nDATA\n" &&
		cat stuffed.lf && printf ".\n" &&
		printf "MAIL FROM:<>\nRCPT TO:<carol@bob.i2p>\nDATA\nSubject: 2\n\nx\n.\n" &&
		printf "QUIT\n"
	} | session $SR >out &&
	crlf >want <<-\EOF &&
	220 ESMTP
	250-ESMTP
	250-PIPELINING
	250-SIZE 52428800
	250-8BITMIME
	250 ENHANCEDSTATUSCODES
	250 2.1.0 Ok
	250 2.1.5 Ok
	550 5.1.1 User unknown
	354 End data with <CR><LF>.<CR><LF>
	250 2.0.0 Ok
	250 2.1.0 Ok
	250 2.1.5 Ok
	354 End data with <CR><LF>.<CR><LF>
	250 2.0.0 Ok
	221 2.0.0 Bye
	EOF
	test_cmp want out &&
	test "$(newfiles)" = 2
'

test_expect_success 'replies wait while pipelined commands are buffered' '
	cat >chat <<-\EOF &&
	< 220
	= EHLO c\r\nNOOP\r\nNOOP\r\n
	< 250
	< 250 2.0.0
	< 250 2.0.0
	> QUIT
	< 221
	EOF
	smtp-chat chat -- smtp-receive $SR
'

test_expect_success 'a recipient elsewhere is refused: no relaying' '
	printf "EHLO c\nMAIL FROM:<bob@bob.i2p>\nRCPT TO:<x@elsewhere.i2p>\nRCPT TO:<bob@bob.i2p.evil>\nRCPT TO:<bob@[127.0.0.1]>\nQUIT\n" |
	session $SR >out &&
	test "$(grep -c "^550 5.7.1 Relaying denied" out)" = 3
'

test_expect_success 'an unknown local user is 550 5.1.1; users file entries' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<dave@bob.i2p>\nRCPT TO:<Bob@Bob.I2P>\nRCPT TO:<carol@bob.i2p>\nQUIT\n" |
	session $SR >out &&
	grep "^550 5.1.1 User unknown" out &&
	test "$(grep -c "^250 2.1.5" out)" = 2
'

test_expect_success 'a user given with its domain is only local there' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<carol@other.i2p>\nQUIT\n" |
	session -l bob.i2p -l other.i2p -u users -d md >out &&
	grep "^550 5.1.1" out
'

test_expect_success 'postmaster is always taken, with or without a domain' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<postmaster@bob.i2p>\nRCPT TO:<Postmaster>\nQUIT\n" |
	session $SR >out &&
	test "$(grep -c "^250 2.1.5" out)" = 2
'

test_expect_success '-a takes any local part, still only at local domains' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<zed@bob.i2p>\nRCPT TO:<zed@b.i2p>\nQUIT\n" |
	session -l bob.i2p -a -d md >out &&
	grep "^250 2.1.5" out && grep "^550 5.7.1" out
'

test_expect_success 'the null sender is taken' '
	rm -rf md &&
	printf "EHLO c\nMAIL FROM:<>\nRCPT TO:<bob@bob.i2p>\nDATA\nSubject: bounce\n\nx\n.\nQUIT\n" |
	session $SR >out &&
	grep "^250 2.0.0" out && test "$(newfiles)" = 1
'

test_expect_success 'RSET ends the transaction' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<bob@bob.i2p>\nRSET\nDATA\nMAIL FROM:<a@a.i2p>\nQUIT\n" |
	session $SR >out &&
	sed -n 8,11p out >got &&
	crlf >want <<-\EOF &&
	250 2.1.5 Ok
	250 2.0.0 Ok
	503 5.5.1 Send MAIL first
	250 2.1.0 Ok
	EOF
	test_cmp want got
'

test_expect_success 'commands out of order are 503, no recipients 554' '
	printf "MAIL FROM:<a@a.i2p>\nRCPT TO:<bob@bob.i2p>\nEHLO c\nRCPT TO:<bob@bob.i2p>\nMAIL FROM:<a@a.i2p>\nMAIL FROM:<a@a.i2p>\nDATA\nQUIT\n" |
	session $SR >out &&
	crlf >want <<-\EOF &&
	220 ESMTP
	503 5.5.1 Send EHLO first
	503 5.5.1 Send MAIL first
	250-ESMTP
	250-PIPELINING
	250-SIZE 52428800
	250-8BITMIME
	250 ENHANCEDSTATUSCODES
	503 5.5.1 Send MAIL first
	250 2.1.0 Ok
	503 5.5.1 Nested MAIL command
	554 5.5.1 No valid recipients
	221 2.0.0 Bye
	EOF
	test_cmp want out
'

test_expect_success 'the other commands' '
	printf "noop\nHELP\nVRFY bob\nEXPN list\nSTARTTLS\nBDAT 10\nAUTH PLAIN\nFOO\nHELO\nEHLO\nRSET x\nquit\n" |
	session $SR >out &&
	crlf >want <<-\EOF &&
	220 ESMTP
	250 2.0.0 Ok
	214 2.0.0 See RFC 5321
	252 2.5.0 Cannot verify a user, send mail to find out
	502 5.5.1 Command not implemented
	502 5.5.1 Command not implemented
	502 5.5.1 Command not implemented
	502 5.5.1 Command not implemented
	500 5.5.2 Command unrecognized
	501 5.5.4 Syntax: HELO hostname
	501 5.5.4 Syntax: EHLO hostname
	501 5.5.4 Syntax: RSET
	221 2.0.0 Bye
	EOF
	test_cmp want out
'

test_expect_success 'bad paths and parameters' '
	printf "EHLO c\nMAIL FROM:alice@a.i2p\nMAIL FROM:<@relay.i2p:alice@a.i2p>\nMAIL FROM:<a@a.i2p> SMTPUTF8\nMAIL FROM: <a@a.i2p> BODY=8BITMIME\nRCPT TO:<bob@bob.i2p> NOTIFY=NEVER\nRCPT TO:<>\nQUIT\n" |
	session $SR >out &&
	sed -n 7,12p out >got &&
	crlf >want <<-\EOF &&
	501 5.5.4 Syntax: MAIL FROM:<address>
	501 5.5.4 Source routes are not accepted, give the mailbox alone
	555 5.5.4 Unsupported parameter
	250 2.1.0 Ok
	555 5.5.4 Unsupported parameter
	501 5.5.4 Syntax: RCPT TO:<address>
	EOF
	test_cmp want got
'

test_expect_success 'SIZE= over the limit is 552 at MAIL' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p> SIZE=2000\nMAIL FROM:<a@a.i2p> SIZE=1000\nQUIT\n" |
	session -s 1000 $SR >out &&
	grep "^250-SIZE 1000" out &&
	grep "^552 5.3.4" out && grep "^250 2.1.0" out
'

test_expect_success 'a message over the limit is 552, the session goes on' '
	rm -rf md &&
	awk "BEGIN { for (i = 0; i < 100; i++) print \"line \" i \" 1234567890\" }" >big &&
	{
		printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\n" &&
		cat big && printf ".\n" &&
		printf "MAIL FROM:<a@a.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\nSubject: small\n\nx\n.\nQUIT\n"
	} | session -s 1000 $SR >out &&
	grep "^552 5.3.4 Message size exceeds the limit" out &&
	test "$(grep -c "^250 2.0.0" out)" = 1 &&
	tail -1 out | grep "^221" &&
	test "$(newfiles)" = 1 &&
	grep "Subject: small" md/new/* &&
	test -z "$(ls md/tmp)"
'

test_expect_success 'a message exactly at the limit is taken' '
	rm -rf md &&
	head -c 1000 big >exact &&
	printf "\n" >>exact &&
	# the limit counts bytes as sent: a CR more on each line
	lim=$(($(stat -c %s exact) + $(wc -l <exact))) &&
	for s in $lim $((lim - 1)); do
		{
			printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\n" &&
			cat exact && printf ".\nQUIT\n"
		} | session -s $s $SR >out.$s || return 1
	done &&
	grep "^250 2.0.0" out.$lim &&
	grep "^552 5.3.4" out.$((lim - 1)) &&
	test "$(newfiles)" = 1 &&
	test "$(stat -c %s md/new/*)" = 1001
'

test_expect_success 'a command line over 512 bytes is 500, the session goes on' '
	long=$(printf "%0600d" 0) &&
	printf "EHLO c\nNOOP $long\nNOOP %0505d\nNOOP %0506d\nQUIT\n" 0 0 |
	session $SR >out &&
	sed -n 7,9p out >got &&
	crlf >want <<-\EOF &&
	500 5.5.2 Line too long
	250 2.0.0 Ok
	500 5.5.2 Line too long
	EOF
	test_cmp want got &&
	tail -1 out | grep "^221"
'

test_expect_success 'the configuration file gives defaults' '
	rm -rf md2 &&
	cat >conf <<-\EOF &&
	local-domains = bob.i2p, b.i2p
	smtp-maildir = md2
	smtp-users = users
	EOF
	printf "EHLO c\nMAIL FROM:<a@a.i2p>\nRCPT TO:<bob@b.i2p>\nDATA\nSubject: c\n\nx\n.\nQUIT\n" |
	NYMBOX_CONF=conf session >out &&
	grep "^250 2.0.0" out &&
	test "$(ls md2/new | wc -l)" = 1
'

test_expect_success 'usage and configuration errors' '
	test_expect_code 64 smtp-receive -x </dev/null 2>err &&
	grep "^usage: smtp-receive" err &&
	test_expect_code 64 smtp-receive $SR extra </dev/null &&
	test_expect_code 64 smtp-receive -l bob.i2p -a </dev/null 2>err &&
	grep "unable to deliver" err &&
	test_expect_code 64 smtp-receive -l bob.i2p -a -d md -p cat </dev/null &&
	test_expect_code 64 smtp-receive -a -d md </dev/null 2>err &&
	grep "no local domain" err &&
	test_expect_code 64 smtp-receive -l bob.i2p -d md </dev/null &&
	test_expect_code 64 smtp-receive -l "bob i2p/x" -a -d md </dev/null &&
	test_expect_code 64 smtp-receive $SR -s 0 </dev/null &&
	test_expect_code 64 smtp-receive $SR -s 10X </dev/null &&
	test_expect_code 64 smtp-receive $SR -t 0 </dev/null &&
	test_expect_code 64 smtp-receive $SR -v maybe </dev/null &&
	test_expect_code 78 smtp-receive -l bob.i2p -u missing -d md </dev/null 2>err &&
	grep "smtp-receive: unable to open users file missing" err &&
	printf "bob carol\n" >badusers &&
	test_expect_code 78 smtp-receive -l bob.i2p -u badusers -d md </dev/null 2>err &&
	grep "badusers:1" err &&
	echo "broken" >badconf &&
	test_expect_code 78 env NYMBOX_CONF=badconf smtp-receive $SR </dev/null
'

test_expect_success '-s takes K, M and G' '
	printf "EHLO c\nQUIT\n" | session -s 2M $SR >out &&
	grep "^250-SIZE 2097152" out
'

test_done
