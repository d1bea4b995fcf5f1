#!/bin/sh
# smtp-receive against clients that misbehave: silence, endless lines,
# too many errors or recipients, binary garbage.  Never a crash or a hang.
cd "$(dirname "$0")" && . ./lib.sh

crlf() { sed 's/$/\r/' "$@"; }

# replies_ok FILE: what the server sent, a greeting first, and every
# line of it a reply, CRLF ended.
replies_ok()
{
	if ! test -s "$1"; then
		echo "replies_ok: $1 is missing or empty" >&2
		return 1
	elif ! head -n 1 "$1" | grep -q "^220 "; then
		echo "replies_ok: $1 does not start with a greeting" >&2
		return 1
	elif grep -n -v "^[2-5][0-9][0-9][ -].*$(printf "\r")\$" "$1" >notreply ||
	    test "$(tail -c 1 "$1" | od -An -c | tr -d " ")" != "\n"; then
		echo "replies_ok: not a reply or not CRLF ended in $1:" >&2
		head -n 5 notreply | cat -v >&2
		return 1
	fi
}

test_expect_success 'setup' '
	SR="-l bob.i2p -a -d md"
'

test_expect_success 'an idle client is told 421 after -t seconds' '
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	sleep $(test_scaled 2.5)
	< 421 4.4.2
	eof
	exit 75
	EOF
	test_timeout 20 smtp-chat chat -- smtp-receive -t $(test_scaled 1) $SR \
	    2>err &&
	grep "smtp-receive: unable to read the command: not done within $(test_scaled 1) s" err
'

test_expect_success 'a message that stops coming: 421, nothing left in tmp/' '
	cat >chat <<-\EOF &&
	< 220
	> EHLO c
	< 250
	> MAIL FROM:<a@a.i2p>
	< 250
	> RCPT TO:<bob@bob.i2p>
	< 250
	> DATA
	< 354
	> Subject: never ends
	sleep 1
	> more
	< 421 4.4.2
	eof
	exit 75
	EOF
	test_timeout 20 smtp-chat chat -- smtp-receive -t $(test_scaled 1) $SR \
	    2>err &&
	grep "unable to read the message: not done within $(test_scaled 2) s" err &&
	test -z "$(ls -A md/tmp)" && test -z "$(ls -A md/new)"
'

test_expect_success 'the data may take twice -t' '
	cat >chat <<-EOF &&
	< 220
	> EHLO c
	< 250
	> MAIL FROM:<a@a.i2p>
	< 250
	> RCPT TO:<bob@bob.i2p>
	< 250
	> DATA
	< 354
	sleep $(test_scaled 4)
	> Subject: slow but in time
	>
	> .
	< 250
	EOF
	# -t 3: wide enough that a loaded machine does not miss the
	# deadline of the other commands; 4 s is past -t, inside 2t.
	test_timeout 30 smtp-chat chat -- smtp-receive -t $(test_scaled 3) $SR
'

# trickle SECS PREFIX: PREFIX, then a byte every SECS seconds for ever;
# how long smtp-receive took to hang up goes to stderr ("took N").
write_script trickle "$(command -v python3)" <<-\EOF
import os, subprocess, sys, time
secs, prefix, argv = float(sys.argv[1]), sys.argv[2].encode(), sys.argv[3:]
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=open("out", "wb"))
t0 = time.monotonic()
try:
    p.stdin.write(prefix.replace(b"\\n", b"\r\n")); p.stdin.flush()
    while p.poll() is None:
        p.stdin.write(b"x"); p.stdin.flush()
        time.sleep(secs)
except BrokenPipeError:
    pass
p.wait()
sys.stderr.write("took %d\n" % int(time.monotonic() - t0))
EOF

test_expect_success 'slowloris at the prompt: a byte a second, cut off after -t' '
	t=$(test_scaled 3) &&
	test_timeout 60 ./trickle 1 "EHLO c\\n" smtp-receive -t $t $SR 2>err &&
	tail -1 out | grep "^421 4.4.2 Too slow, closing" &&
	grep "unable to read the command: not done within $t s" err &&
	took=$(sed -n "s/^took //p" err) &&
	test "$took" -le $((t + 3))
'

test_expect_success 'slowloris in DATA: under 500 bytes/s, cut off, nothing kept' '
	rm -rf md && t=$(test_scaled 2) &&
	test_timeout 60 ./trickle 0.5 "EHLO c\\nMAIL FROM:<a@a.i2p>\\nRCPT TO:<bob@bob.i2p>\\nDATA\\n" \
	    smtp-receive -t $t $SR 2>err &&
	tail -1 out | grep "^421 4.4.2 Too slow, closing" &&
	grep "unable to read the message: not done within $((2 * t)) s" err &&
	took=$(sed -n "s/^took //p" err) &&
	test "$took" -le $((2 * t + 3)) &&
	test -z "$(ls -A md/tmp)" && test -z "$(ls -A md/new)"
'

test_expect_success 'a big message at a fair rate is not cut off' '
	rm -rf md && t=$(test_scaled 1) &&
	python3 -c "
import sys, time
w = sys.stdout.buffer
w.write(b\"EHLO c\r\nMAIL FROM:<a@a.i2p>\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\n\")
for i in range(40):
    w.write((b\"y\" * 998 + b\"\r\n\") * 20); w.flush()
    time.sleep(0.1)
w.write(b\".\r\nQUIT\r\n\")
" | smtp-receive -t $t $SR >out &&
	grep "^250 2.0.0" out &&
	test "$(stat -c %s md/new/*)" = $((40 * 20 * 999))
'

test_expect_success 'a session longer than -T is ended, however busy' '
	T=$(test_scaled 2) &&
	python3 -c "
import sys, time
for i in range(40):
    sys.stdout.buffer.write(b\"NOOP\r\n\"); sys.stdout.flush()
    time.sleep(0.2)
" | smtp-receive -T $T $SR >out 2>err;
	tail -1 out | grep "^421 4.4.2 Session too long, closing" &&
	grep "the session took $T s (-T)" err &&
	test "$(grep -c "^250" out)" -lt 40
'

test_expect_success 'EOF in the middle of a message: nothing delivered' '
	rm -rf md &&
	printf "EHLO c\r\nMAIL FROM:<a@a.i2p>\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\nSubject: cut\r\n" |
	test_expect_code 75 smtp-receive $SR >out &&
	tail -1 out | grep "^354" &&
	test -z "$(ls -A md/tmp)" && test -z "$(ls -A md/new)"
'

test_expect_success 'EOF without QUIT ends the session quietly' '
	printf "EHLO c\r\nNOOP\r\nQUI" | smtp-receive $SR >out 2>err &&
	test_must_be_empty err &&
	tail -1 out | grep "^250 2.0.0"
'

test_expect_success 'a line without end is cut off: 500 and goodbye' '
	head -c 200000 /dev/zero | tr "\0" x >endless &&
	test_timeout 20 smtp-receive $SR <endless >out &&
	crlf >want <<-\EOF &&
	220 ESMTP
	500 5.5.2 Line too long, closing
	EOF
	test_cmp want out
'

test_expect_success 'too many errors: 421' '
	for i in $(seq 1 30); do echo "BOGUS $i"; done | crlf >bogus &&
	smtp-receive $SR <bogus >out &&
	test "$(grep -c "^500" out)" = 20 &&
	tail -1 out | grep "^421 4.7.0 Too many errors"
'

test_expect_success '100 recipients, then 452' '
	{
		printf "EHLO c\nMAIL FROM:<a@a.i2p>\n" &&
		for i in $(seq 1 101); do echo "RCPT TO:<u$i@bob.i2p>"; done &&
		printf "QUIT\n"
	} | crlf | smtp-receive $SR >out &&
	test "$(grep -c "^250 2.1.5" out)" = 100 &&
	grep "^452 4.5.3 Too many recipients" out
'

test_expect_success 'a NUL byte in a command is 500' '
	printf "EHLO c\r\nNO\0OP\r\nNOOP\r\nQUIT\r\n" | smtp-receive $SR >out &&
	grep "^500 5.5.2 NUL byte" out &&
	grep "^250 2.0.0" out
'

test_expect_success 'binary garbage never crashes or hangs it' '
	for seed in 1 2 3 4 5 6 7 8; do
		python3 -c "
import random, sys
r = random.Random($seed)
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(200000)))
" >garbage &&
		test_timeout 20 smtp-receive $SR <garbage >out 2>err &&
		replies_ok out || return 1
	done
'

test_expect_success 'garbage inside a valid session, message included' '
	rm -rf md &&
	python3 -c "
import random, sys
r = random.Random(42)
w = sys.stdout.buffer.write
w(b\"EHLO c\r\nMAIL FROM:<a@a.i2p>\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\n\")
body = b\".\" + bytes(r.getrandbits(8) for _ in range(300000))
body = body.replace(b\"\\r\", b\"\").replace(b\"\\n\", b\"\\r\\n\")
w(b\".\" + body.replace(b\"\n.\", b\"\n..\") + b\"\r\n.\r\nQUIT\r\n\")
open(\"body\", \"wb\").write(body.replace(b\"\r\n\", b\"\n\") + b\"\n\")
" >in &&
	test_timeout 20 smtp-receive $SR <in >out &&
	grep "^250 2.0.0" out &&
	cmp body md/new/*
'

test_expect_success 'a big message streams to disk with the default limit' '
	rm -rf md &&
	{
		printf "EHLO c\r\nMAIL FROM:<a@a.i2p> SIZE=20000000\r\nRCPT TO:<bob@bob.i2p>\r\nDATA\r\n" &&
		awk "BEGIN { for (i = 0; i < 250000; i++) printf \"%079d\r\n\", i }" &&
		printf ".\r\nQUIT\r\n"
	} >in &&
	test_timeout 60 smtp-receive $SR <in >out &&
	grep "^250 2.0.0" out &&
	test "$(stat -c %s md/new/*)" = 20000000
'

test_expect_success 'stderr that is the connection gets no log lines' '
	python3 -c "
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen([\"smtp-receive\", \"-l\", \"bob.i2p\", \"-a\", \"-d\", \"md\"],
    stdin=b, stdout=b, stderr=b, env={\"PATH\": sys.argv[1],
    \"I2P_PEER_DEST\": \"garbage\", \"HOME\": \".\"})
b.close()
a.sendall(b\"QUIT\r\n\")
out = b\"\"
while True:
    d = a.recv(4096)
    if not d:
        break
    out += d
p.wait()
sys.stdout.buffer.write(out)
" "$PATH" >out &&
	crlf >want <<-\EOF &&
	220 ESMTP
	221 2.0.0 Bye
	EOF
	test_cmp want out
'

test_done
