#!/bin/sh
# Every limit smtp-receive puts on a client, at the limit (taken) and one
# past it (refused with the reply smtp-receive(1) documents): command
# line, SASL response line, path, message size (-s) as SIZE= and as
# sent, recipients, the session's length (-T).  The values are
# lib/limits.h's.
cd "$(dirname "$0")" && . ./lib.sh

crlf() { sed 's/$/\r/' "$@"; }
# pad N: N bytes of x
pad() { head -c "$1" /dev/zero | tr '\0' x; }

test_expect_success 'setup' '
	SR="-l bob.i2p -a -d md"
'

# "NOOP " and the padding and CRLF make a line of exactly N bytes.
test_expect_success 'a command line of 512 bytes with its CRLF is taken' '
	printf "NOOP %s\r\nQUIT\r\n" "$(pad 505)" >in &&
	test "$(head -1 in | wc -c)" = 512 &&
	smtp-receive $SR <in >out &&
	sed -n 2p out | grep "^250" &&
	! grep "Line too long" out
'

test_expect_success 'one of 513 bytes is 500 5.5.2 Line too long' '
	printf "NOOP %s\r\nQUIT\r\n" "$(pad 506)" >in &&
	test "$(head -1 in | wc -c)" = 513 &&
	smtp-receive $SR <in >out &&
	sed -n 2p out | grep "^500 5.5.2 Line too long" &&
	sed -n 3p out | grep "^221"
'

# A line too long is read past to its end; one whose first 65536 bytes
# (NYM_SMTP_SKIP) hold no line end closes the session.  long N: a NOOP
# line of N bytes with its CRLF, a NOOP and QUIT, to smtp-receive; its
# replies in out.
long() {
	printf "NOOP %s\r\nNOOP\r\nQUIT\r\n" "$(pad $(($1 - 7)))" >in &&
	test "$(head -1 in | wc -c)" = "$1" &&
	smtp-receive $SR <in >out
}

test_expect_success 'a line of 65536 bytes with its CRLF: 500, and the session goes on' '
	long 65536 &&
	printf "500 5.5.2 Line too long\r\n" >want &&
	sed -n 2p out | test_cmp want - &&
	sed -n 3p out | grep "^250" && sed -n 4p out | grep "^221"
'

test_expect_success 'one of 65537 bytes: 500 Line too long, closing' '
	long 65537 &&
	sed -n 2p out | grep "^500 5.5.2 Line too long, closing" &&
	test_line_count = 2 out
'

# A path of 256 bytes with its angle brackets: a 64-byte local part, "@",
# and a domain of 189 bytes (labels of at most 63, ".i2p" included).
test_expect_success 'a path of 256 bytes is taken, 257 is 501 Address too long' '
	l=$(pad 64) && d=$(pad 60).$(pad 60).$(pad 63).i2p &&
	test "$(printf "<%s@%s>" "$l" "$d" | wc -c)" = 256 &&
	printf "EHLO c\nMAIL FROM:<%s@%s>\nRSET\nMAIL FROM:<%s@x%s>\nQUIT\n" \
	    "$l" "$d" "$l" "$d" | crlf | smtp-receive $SR >out &&
	sed -n 7p out | grep "^250 2.1.0" &&
	sed -n 9p out | grep "^501 5.1.7 Address too long"
'

test_expect_success 'SIZE= at -s is taken, one more is 552 5.3.4' '
	printf "EHLO c\nMAIL FROM:<a@a.i2p> SIZE=1000\nRSET\nMAIL FROM:<a@a.i2p> SIZE=1001\nQUIT\n" |
	crlf | smtp-receive -s 1000 $SR >out &&
	grep "^250[- ]SIZE 1000" out &&
	test "$(grep -c "^250 2.1.0" out)" = 1 &&
	grep "^552 5.3.4 Message size exceeds the limit" out
'

# msg N: a message of exactly N bytes as sent (CRLF line ends), without
# the final dot.
msg() {
	{ printf "Subject: edge\r\n\r\n" && pad $(($1 - 19)) && printf "\r\n"; } >body &&
	test "$(wc -c <body)" = "$1"
}
session() {
	{ printf "EHLO c\r\nMAIL FROM:<a@a.i2p>\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\n" &&
	  cat body && printf ".\r\nQUIT\r\n"; } | smtp-receive -s 1000 $SR >out
}

test_expect_success 'a message of -s bytes as sent is delivered' '
	msg 1000 && session &&
	grep "^250 2.0.0" out &&
	test "$(ls md/new | wc -l)" = 1
'

test_expect_success 'one byte more is 552 5.3.4, nothing delivered or left' '
	msg 1001 && session &&
	grep "^552 5.3.4 Message size exceeds the limit" out &&
	test "$(ls md/new | wc -l)" = 1 && test -z "$(ls -A md/tmp)"
'

test_expect_success '100 recipients are taken, the 101st is 452 4.5.3' '
	{
		printf "EHLO c\nMAIL FROM:<a@a.i2p>\n" &&
		for i in $(seq 1 101); do echo "RCPT TO:<u$i@bob.i2p>"; done &&
		printf "QUIT\n"
	} | crlf | smtp-receive $SR >out &&
	test "$(grep -c "^250 2.1.5" out)" = 100 &&
	grep -n "^452 4.5.3 Too many recipients" out | grep "^108:"
'

# A SASL response line of N bytes with its CRLF (RFC 4954 4: 12288).
auth() {
	printf "alice@bob.i2p:s3cret\n" >pass && chmod 600 pass &&
	printf "EHLO c\r\nAUTH PLAIN\r\n%s\r\nQUIT\r\n" "$(pad $(($1 - 2)))" |
	smtp-receive $SR -A pass -D 0 -F 64/1 >out &&
	sed -n 8p out | grep "^334" &&
	sed -n 9p out >reply
}

test_expect_success 'a SASL response of 12288 bytes with its CRLF is read' '
	auth 12288 &&
	! grep "Line too long" reply &&
	grep "^5" reply
'

test_expect_success 'one of 12289 bytes is 500 5.5.2 Line too long' '
	auth 12289 &&
	grep "^500 5.5.2 Line too long" reply
'

test_expect_success 'commands within -T are served; at -T: 421 4.4.2 Session too long' '
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	sleep $(test_scaled 1)
	> NOOP
	< 250
	< 421 4.4.2 Session too long
	eof
	exit 75
	EOF
	test_timeout 30 smtp-chat chat -- smtp-receive -T $(test_scaled 3) $SR \
	    2>err &&
	grep "the session took $(test_scaled 3) s (-T)" err
'

# trickled N: a NOOP sent a byte at a time, N seconds between bytes, as
# smtp-chat script lines.
trickled() {
	for c in N O O P; do
		printf "= %s\nsleep %s\n" "$c" "$1"
	done
	printf "> \n"
}

# -t bounds a whole command, from the first wait for it: one that takes
# 6 s to trickle in is answered under -t 10 (4 s to spare, and -t/2
# would cut it), and the next command gets a fresh -t: the two take 12 s.
test_expect_success 'a command trickled in within -t is answered, each in its own -t' '
	{
		echo "< 220" &&
		echo "> EHLO c" && echo "< 250" &&
		trickled 1.5 && echo "< 250" &&
		trickled 1.5 && echo "< 250" &&
		echo "> QUIT" && echo "< 221" &&
		echo "eof" && echo "exit 0"
	} >chat &&
	start=$(date +%s) &&
	test_timeout 60 smtp-chat chat -- smtp-receive -t $(test_scaled 10) $SR \
	    2>err &&
	test $(($(date +%s) - start)) -ge 12 &&
	test_must_be_empty err
'

test_done
