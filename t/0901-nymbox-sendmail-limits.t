#!/bin/sh
# nymbox-sendmail's limit on recipients (NYM_SENDMAIL_RCPTS, 1000, as the
# queue's): at the limit every recipient reaches delay-queue; one past it
# the message is refused (64 from the command line, 65 from -t's header)
# and nothing is queued.  A stub delay-queue records what it was given,
# as in t/0900.
cd "$(dirname "$0")" && . ./lib.sh

STUB=$TRASH/stub
mkdir -p "$STUB"
write_script "$STUB/delay-queue" <<EOF
printf '%s\n' "\$@" >"$STUB/argv"
cat >"$STUB/msg"
EOF
PATH=$STUB:$PATH
export PATH

printf 'From: Alice <alice@a.i2p>\nSubject: many\n\nhello\n' >msg

# rcpts N: N distinct recipients, one a line.
rcpts() {
	i=1
	while test $i -le "$1"; do
		printf 'r%d@b.i2p\n' $i
		i=$((i + 1))
	done
}

test_expect_success '1000 recipients on the command line: all queued' '
	rcpts 1000 >list &&
	test_timeout 60 nymbox-sendmail -f alice@a.i2p -- $(cat list) <msg &&
	grep "^r[0-9]*@b.i2p\$" "$STUB/argv" >got &&
	test_cmp list got
'

test_expect_success '1001 on the command line: 64, nothing queued' '
	rm -f "$STUB/argv" &&
	rcpts 1001 >list &&
	test_expect_code 64 test_timeout 60 nymbox-sendmail -f alice@a.i2p -- \
	    $(cat list) <msg 2>err &&
	test_grep "unable to send: over 1000 recipients" err &&
	test_path_is_missing "$STUB/argv"
'

# hdr N: a message whose To holds N recipients.
hdr() {
	printf "From: Alice <alice@a.i2p>\nTo: " &&
	rcpts "$1" | paste -sd, - &&
	printf "Subject: many\n\nhello\n"
}

test_expect_success '-t: 1000 recipients in To: all queued' '
	rm -f "$STUB/argv" &&
	hdr 1000 >tmsg &&
	test_timeout 60 nymbox-sendmail -t <tmsg &&
	rcpts 1000 >list &&
	grep "^r[0-9]*@b.i2p\$" "$STUB/argv" >got &&
	test_cmp list got
'

test_expect_success '-t: 1001 in To: 65, nothing queued' '
	rm -f "$STUB/argv" &&
	hdr 1001 >tmsg &&
	test_expect_code 65 test_timeout 60 nymbox-sendmail -t <tmsg 2>err &&
	test_grep "unable to send: over 1000 recipients" err &&
	test_path_is_missing "$STUB/argv"
'

test_done
