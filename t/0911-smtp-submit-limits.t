#!/bin/sh
# The limits smtp-submit (and sam-deliver, through the same client in
# lib/smtp.c) puts on a server's replies, at the limit (taken) and one
# past it (refused, exit 75): lines of one reply, the length of a reply
# line, the time a whole reply may take (-w), the time the message may
# take to go out (-w and a second for every 500 bytes sent, NYM_MIN_RATE).
# The values are lib/limits.h's.
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

# The message's time, -w plus a second for every NYM_MIN_RATE (500) bytes
# sent, is measured in the writes of the client's 64 KiB buffer: each
# one written buys 131 s more.  Loopback's TCP buffers grow to megabytes
# and would swallow a whole test message, so these run in a network
# namespace of their own whose buffers take 8 KiB each way.
if unshare -n sh -c 'ip link set lo up &&
    sysctl -qw net.ipv4.tcp_wmem="4096 8192 8192"' 2>/dev/null; then
	test_set_prereq NETNS
fi

# nsrun [smtpd options]: in a new network namespace with small TCP
# buffers, the scripted server and smtp-submit -w $W of "big" to it; the
# exit status in rc, how long it took in took.
write_script nsrun <<-\EOF
ip link set lo up &&
sysctl -qw net.ipv4.tcp_wmem="4096 8192 8192" \
    net.ipv4.tcp_rmem="4096 8192 8192" || exit 1
kill "$(cat mx.pid 2>/dev/null)" 2>/dev/null
rm -rf mx.port mx.mail mx.log rc took
"$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
    --max-seconds "$MAXS" --auth alice@lab.test:secret "$@" &
echo $! >mx.pid
i=0
until test -s mx.port; do
	i=$((i + 1))
	test $i -lt 300 || exit 1
	sleep 0.1
done
start=$(date +%s)
smtp-submit -H 127.0.0.1:"$(cat mx.port)" -w "$W" -P pw \
    -f alice@lab.test bob@ext.test <big
echo $? >rc
echo $(($(date +%s) - start)) >took
kill "$(cat mx.pid)"
EOF

test_expect_success NETNS 'setup: a message of 440 kB, seven of the client'"'"'s writes' '
	{
		printf "From: alice@lab.test\nSubject: big\n\n" &&
		seq -f "line %04g $(head -c 89 /dev/zero | tr "\0" x)" 4400
	} >big &&
	test $(wc -c <big) -gt 440000 &&
	MAXS=$(test_scaled 120) &&
	export H MAXS
'

# No wait for the server may last -w, but the message as a whole may
# take longer: a server that stops reading for 0.3 -w after every
# 60000 bytes takes the message in 2.1 -w (7 pauses), and it arrives.
test_expect_success NETNS 'a message that takes longer than -w, but not 1 s a 500 bytes, goes through' '
	W=$(test_scaled 5) &&
	export W &&
	test_timeout 120 unshare -n ./nsrun --data-pause 60000:$(test_scaled 1.5) &&
	test "$(cat rc)" = 0 &&
	test "$(cat took)" -ge $((W * 2)) &&
	test "$(grep -c "^resume" mx.log)" = 7 &&
	tail -n 1 mx.mail/msg1 | grep "^line 4400 x" &&
	test "$(wc -l <mx.mail/msg1)" = 4403
'

# A server that reads nothing of the message: the first write is not
# done within -w; 75 then, not later, with the reason.
test_expect_success NETNS 'a server that stalls in DATA: 75 after -w, the reason on stderr' '
	W=$(test_scaled 3) &&
	export W &&
	test_timeout 120 unshare -n ./nsrun --data-pause 0:$((MAXS * 2)) 2>err &&
	test "$(cat rc)" = 75 &&
	test "$(cat took)" -le $((W + 2)) &&
	test_grep "^smtp-submit: unable to .*timed out" err &&
	test_path_is_missing mx.mail/msg1
'

test_done
