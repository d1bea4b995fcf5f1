#!/bin/sh
# The limits smtp-submit (and sam-deliver, through the same client in
# lib/smtp.c) puts on a server's replies, at the limit (taken) and one
# past it (refused, exit 75): lines of one reply, the length of a reply
# line, the time a whole reply may take (-w).  The values are
# lib/limits.h's.
cd "$(dirname "$0")" && . ./lib.sh

command -v smtp-submit >/dev/null || test_skip_all "smtp-submit is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers

printf 'secret\n' >pw && chmod 600 pw
printf 'From: alice@lab.test\nSubject: limits\n\nhi\n' >msg

test_atexit 'test ! -s "$TRASH/mx.pid" || kill "$(cat "$TRASH/mx.pid")" 2>/dev/null || :'

# mx GREETING [smtpd options]: the scripted server, greeting so.
mx() {
	g=$1
	shift
	kill "$(cat mx.pid 2>/dev/null)" 2>/dev/null
	rm -rf mx.port mx.mail mx.log &&
	{ "$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
	    --max-seconds $(test_scaled 120) --auth alice@lab.test:secret \
	    --greeting "$g" "$@" &
	  echo $! >mx.pid; } &&
	test_wait_for mx.port
}

sx() {
	test_timeout 30 smtp-submit -H 127.0.0.1:"$(cat mx.port)" \
	    -w ${W:-$(test_scaled 5)} -P pw -f alice@lab.test bob@ext.test <msg
}

# greeting N: a 220 reply of N lines.
greeting() {
	i=1
	while test $i -lt "$1"; do printf '220-line %d\r\n' $i; i=$((i + 1)); done
	printf '220 ESMTP'
}

test_expect_success 'a reply of 100 lines is read' '
	mx "$(greeting 100)" && sx &&
	test -s mx.mail/msg1
'

test_expect_success 'one of 101 lines is refused: 75, nothing sent' '
	mx "$(greeting 101)" &&
	test_expect_code 75 sx 2>err &&
	grep "^smtp-submit: unable to " err &&
	test_path_is_missing mx.mail/msg1
'

# A reply line of N bytes with its CRLF: "220 " and padding.
test_expect_success 'a reply line of 2048 bytes with its CRLF is read' '
	mx "220 $(head -c 2042 /dev/zero | tr "\0" x)" && sx &&
	test -s mx.mail/msg1
'

test_expect_success 'one of 2049 bytes is refused: 75, nothing sent' '
	mx "220 $(head -c 2043 /dev/zero | tr "\0" x)" &&
	test_expect_code 75 sx 2>err &&
	grep "^smtp-submit: unable to " err &&
	test_path_is_missing mx.mail/msg1
'

# A greeting of 11 bytes, one every 0.2 s: whole after 2.2 s.
test_expect_success 'a reply whose bytes trickle but that is whole within -w is read' '
	mx "220 ESMTP" --trickle 0.2 &&
	W=$(test_scaled 6) sx &&
	test -s mx.mail/msg1
'

# 60 bytes, one every 0.5 s: whole after 30 s, but -w is 2.
test_expect_success 'one that is not whole within -w is cut off there: 75' '
	mx "220 $(head -c 56 /dev/zero | tr "\0" x)" --trickle 0.5 &&
	start=$(date +%s) &&
	W=$(test_scaled 2) test_expect_code 75 sx 2>err &&
	test $(($(date +%s) - start)) -le $(test_scaled 6) &&
	grep "^smtp-submit: unable to " err &&
	test_path_is_missing mx.mail/msg1
'

test_done
