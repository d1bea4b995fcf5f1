#!/bin/sh
# queue-run handing a destination's messages to one onion-deliver -B
# process (the fake SOCKS5 proxy standing in for Tor, the scripted SMTP
# server for the onion): a flush of many messages opens one circuit and
# one SMTP session per onion, with RSET between messages, and delivers
# each once; -s is the old one command per message; outcomes in one
# batch are recorded per message (delivered, returned with a DSN, kept
# and sent later); kill -9 of the deliverer or of queue-run in the middle
# of a batch loses nothing and sends nothing twice; a batch that hangs
# or ends without reporting leaves what it did not report on queued
# (a fake sam-deliver).  Waits are for
# files and processes, never for a time.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
command -v queue-run >/dev/null || test_skip_all "queue-run is not built"
command -v pgrep >/dev/null || test_skip_all "pgrep(1) is missing"
H=$TOP/t/helpers
T0=1700006400		# 2023-11-15 00:00:00 UTC

. "$TOP/t/helpers/queue-lib.sh"

# Two valid v3 onion names (lib/onion.c checks them).
B=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion
C=xlxx6imr2biambk5unsqui4i7ymuppqaa5p2lty3vkw3jjcrva3xwnqd.onion

# mx NAME [smtpd options]: an SMTP server, mail in NAME.mail/, commands
# in NAME.log, started afresh.
mx() {
	n=$1 && shift &&
	if test -s "$n.pid"; then
		kill "$(cat "$n.pid")" 2>/dev/null
		test_wait_gone "$(cat "$n.pid")" || return 1
	fi &&
	rm -rf "$n.port" "$n.mail" "$n.log" "$n.pid" &&
	{ "$H/smtpd" --port-file "$n.port" --save "$n.mail" --log "$n.log" \
	    --max-seconds $(test_scaled 300) "$@" & echo $! >"$n.pid"; } &&
	test_wait_for "$n.port"
}

# socks: the proxy, routing $B to mx0 and $C to mx1; its log in socks.log.
socks() {
	if test -s socks.pid; then
		kill "$(cat socks.pid)" 2>/dev/null
		test_wait_gone "$(cat socks.pid)" || return 1
	fi &&
	rm -f socks.port socks.pid socks.log &&
	routes="--route $B=$(cat mx0.port)" &&
	if test -f mx1.port; then routes="$routes --route $C=$(cat mx1.port)"; fi &&
	{ "$H/fake-socks" --port-file socks.port --pid-file socks.pid \
	    --log socks.log --max-seconds $(test_scaled 300) $routes \
	    </dev/null & } &&
	test_wait_for socks.port && test_wait_for socks.pid
}

# put SUBJECT RCPT: queue a message from Alice due at T0, for onion-deliver.
put() {
	printf "From: alice@%s\nTo: %s\nSubject: %s\n\nhello\n" "$A" "$2" "$1" >msg &&
	NYMBOX_NOW=$T0 dq -m now -f "alice@$A" "$2" -- onion-deliver -w $(test_scaled 60)
}

# run [ARGS]: queue-run at T0 + 60 (or AT) through the proxy, bounces
# into bounces/.
run() {
	TOR_SOCKS=127.0.0.1:$(cat socks.port) NYMBOX_NOW=${AT:-$((T0 + 60))} \
	    test_timeout 120 queue-run -q Q -b bounces "$@"
}

# subjects DIR: the subjects of the messages in DIR (as they came, CRLF),
# sorted.
subjects() {
	cat "$1"/* | tr -d "\r" | sed -n "s/^Subject: //p" | sort
}

test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

mkdir -p "$HOME/.config/nymbox/keys" && : >"$HOME/.config/nymbox/config" &&
A=$(onion-key -c "$TRASH/alice.key") &&
mv "$TRASH/alice.key" "$HOME/.config/nymbox/keys/$A" ||
	tl_bail_ "unable to make Alice's onion key"

test_expect_success 'a flush: one circuit and one SMTP session per onion, RSET between' '
	mx mx0 && mx mx1 && socks && reset &&
	i=0 && while test $i -lt 30; do
		put "b$i" "bob@$B" || return 1
		i=$((i + 1))
	done &&
	put c1 "carol@$C" && put c2 "carol@$C" &&
	run 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	test "$(grep -c "^CONNECT.*NAME=$B " socks.log)" = 1 &&
	test "$(grep -c "^CONNECT.*NAME=$C " socks.log)" = 1 &&
	test "$(grep -c "^EHLO" mx0.log)" = 1 &&
	test "$(grep -c "^MAIL" mx0.log)" = 30 &&
	test "$(grep -c "^RSET" mx0.log)" = 29 &&
	test "$(grep -c "^RSET" mx1.log)" = 1 &&
	subjects mx0.mail >got && test_line_count = 30 got &&
	test -z "$(uniq -d got)" &&
	subjects mx1.mail >got && printf "c1\nc2\n" >want && test_cmp want got
'

test_expect_success 'each message as it is to be sent: Date of sending, no Bcc' '
	grep -l "^Subject: b0" mx0.mail/* >f && f=$(cat f) &&
	grep "^Date: Wed, 15 Nov 2023 00:01:00 +0000" "$f" &&
	! grep "^Bcc:" "$f"
'

test_expect_success 'a flush of 250 to one onion: one deliverer, one circuit, one session' '
	mx mx0 && socks && reset &&
	i=0 && while test $i -lt 250; do
		put "m$i" "bob@$B" || return 1
		i=$((i + 1))
	done &&
	run 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	test "$(grep -c "^CONNECT" socks.log)" = 1 &&
	test "$(grep -c "^EHLO" mx0.log)" = 1 &&
	test "$(grep -c "^MAIL" mx0.log)" = 250 &&
	test "$(grep -c "^RSET" mx0.log)" = 249 &&
	# RSET between each message and the next, none before the first.
	grep "^MAIL\|^RSET" mx0.log | cut -c1-4 | uniq -c >runs &&
	test "$(sed -n "1p" runs | tr -s " ")" = " 1 MAIL" &&
	test "$(grep -vc "^ *1 " runs)" = 0 &&
	subjects mx0.mail >got && test_line_count = 250 got &&
	test -z "$(uniq -d got)"
'

test_expect_success '-j 1: a batch with nothing more to do gives its place to the next' '
	mx mx0 && mx mx1 && socks && reset &&
	i=0 && while test $i -lt 20; do
		put "b$i" "bob@$B" || return 1
		i=$((i + 1))
	done &&
	i=0 && while test $i -lt 20; do
		put "c$i" "carol@$C" || return 1
		i=$((i + 1))
	done &&
	# Not after -T: the first batch is ended once it has sent its
	# twenty, for the second to start.
	TOR_SOCKS=127.0.0.1:$(cat socks.port) NYMBOX_NOW=$((T0 + 60)) \
	    test_timeout 100 queue-run -q Q -b bounces -j 1 -T 1000 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	test "$(grep -c "^CONNECT.*NAME=$B " socks.log)" = 1 &&
	test "$(grep -c "^CONNECT.*NAME=$C " socks.log)" = 1 &&
	subjects mx0.mail >got && test_line_count = 20 got &&
	subjects mx1.mail >got && test_line_count = 20 got
'

test_expect_success '-s: one command, one circuit and one session per message' '
	mx mx0 && socks && reset &&
	put s1 "bob@$B" && put s2 "bob@$B" && put s3 "bob@$B" &&
	run -s 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	test "$(grep -c "^CONNECT.*NAME=$B " socks.log)" = 3 &&
	test "$(grep -c "^EHLO" mx0.log)" = 3 &&
	test "$(grep -c "^RSET" mx0.log)" = 0
'

test_expect_success 'mixed outcomes in one batch are recorded per message' '
	mx mx0 --rcpt "nobody=550 5.1.1 no such user" \
	    --rcpt "later=451 4.3.0 try later" && socks && reset &&
	put ok1 "bob@$B" && put perm "nobody@$B" && put temp "later@$B" &&
	put ok2 "bob@$B" &&
	grep -l "^Subject: perm" Q/mess/* >f && perm=$(basename $(cat f)) &&
	grep -l "^Subject: temp" Q/mess/* >f && temp=$(basename $(cat f)) &&
	run 2>err &&
	test "$(grep -c "^CONNECT.*NAME=$B " socks.log)" = 1 &&
	test "$(grep -c "^EHLO" mx0.log)" = 1 &&
	subjects mx0.mail >got && printf "ok1\nok2\n" >want && test_cmp want got &&
	ls Q/mess >left && echo $temp >want && test_cmp want left &&
	test "$(field $temp lastcode)" = 75 &&
	test "$(field $temp attempts)" = 1 &&
	test "$(field $temp due)" = $((T0 + 60 + 300)) &&
	field $temp error | grep "4.3.0 try later" &&
	! field $temp error | grep /dev/fd &&
	test_path_is_file Q/failed/$perm &&
	grep "^lastcode 67$" Q/failinfo/$perm &&
	ls bounces/new >b && test_line_count = 1 b &&
	grep "^Status: 5.1.1" bounces/new/* &&
	grep "^Final-Recipient: rfc822; *nobody@$B" bounces/new/* &&
	grep "550 5.1.1 no such user" bounces/new/*
'

test_expect_success 'the message kept is sent by a later run, once' '
	mx mx0 && socks &&
	TOR_SOCKS=127.0.0.1:$(cat socks.port) NYMBOX_NOW=$((T0 + 60 + 300)) \
	    test_timeout 120 queue-run -q Q -b bounces 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	subjects mx0.mail >got && echo temp >want && test_cmp want got
'

# kill9 WHO: queue six messages, hold the server at the fourth, kill -9
# WHO (the deliverer, or queue-run) there, then let the server go on: it
# sees its client gone, and the fourth is not taken.
kill9() {
	mx mx0 --hold-at 4:held && socks && reset && rm -f held &&
	for s in k1 k2 k3 k4 k5 k6; do put $s "bob@$B" || return 1; done &&
	{ TOR_SOCKS=127.0.0.1:$(cat socks.port) NYMBOX_NOW=$((T0 + 60)) \
	    queue-run -q Q -b bounces 2>err & echo $! >qr.pid; } &&
	qr=$(cat qr.pid) &&
	test_wait_for held &&
	pgrep -P $qr -x onion-deliver >dl && test_line_count = 1 dl &&
	dl=$(cat dl) &&
	# The first three are reported, and recorded as soon as read.
	test_wait_until "test \$(ls Q/mess | wc -l) = 3" &&
	case $1 in
	deliverer) kill -9 $dl ;;
	queue-run) kill -9 $qr && gone $qr ;;
	esac &&
	gone $dl && rm held &&
	test_wait_until "grep -q \"^(gone)\" mx0.log" &&
	if test $1 = deliverer; then gone $qr 60; fi &&
	rm -f qr.pid &&
	subjects mx0.mail >first && test_line_count = 3 first
}

# rest: a later run sends the other three, nothing twice.
rest() {
	mx mx0 && socks && run 2>err &&
	test -z "$(ls Q/mess)" &&
	subjects mx0.mail >second && test_line_count = 3 second &&
	sort first second >got && printf "k%d\n" 1 2 3 4 5 6 >want &&
	test_cmp want got &&
	test "$(grep -c "^EHLO" mx0.log)" = 1
}

test_expect_success 'kill -9 of the deliverer in a batch: what it did not report is kept' '
	kill9 deliverer &&
	ls Q/mess >left && test_line_count = 3 left &&
	for id in $(cat left); do
		test "$(field $id lastcode)" = -1 &&
		field $id error | grep "onion-deliver -B killed by signal 9" ||
		return 1
	done &&
	grep "killed by signal 9" err
'

test_expect_success '... and a later run sends the rest, nothing twice' '
	# Retried on the schedule: five minutes on.
	AT=$((T0 + 360)) && rest; rc=$?; unset AT; test $rc = 0
'

test_expect_success 'kill -9 of queue-run in a batch: its watchdog ends the deliverer' '
	kill9 queue-run &&
	ls Q/mess >left && test_line_count = 3 left &&
	for id in $(cat left); do
		test "$(field $id attempts)" = 0 || return 1
	done &&
	rest
'

# A deliverer named sam-deliver (so queue-run batches for it) that does
# what FAKE says with the packets queue-run hands it on its standard
# input (a socket: a line and a descriptor each): "hang" reports the
# first message as delivered, then hangs; "quiet" exits 0 having reported
# nothing; "perm" exits 65 having reported nothing; "slow" reports each
# as delivered FAKE_SECS seconds after it came, but hangs at the
# FAKE_STALL-th.  It keeps its arguments, each line with the number of
# descriptors that came with it (batch.in), and a copy of its first
# message.
mkdir -p fake && write_script fake/sam-deliver /usr/bin/python3 <<FAKE
import os, socket, sys, time
d = "$TRASH"
mode = os.environ.get("FAKE", "")
stall = int(os.environ.get("FAKE_STALL", "0"))
with open(d + "/batch.args", "w") as f:
    f.write("".join(a + chr(10) for a in sys.argv[1:]))
s = socket.socket(fileno=0)
log = open(d + "/batch.in", "w")
n = 0
while True:
    data, fds, flags, addr = socket.recv_fds(s, 65536, 4)
    if not data and not fds:
        break
    n += 1
    w = data.decode().split()
    log.write(" ".join(w) + " %d" % len(fds) + chr(10))
    log.flush()
    if n == 1 and fds:
        with open(d + "/first.msg", "wb") as o:
            o.write(os.pread(fds[0], 1 << 20, 0))
    for fd in fds:
        os.close(fd)
    if mode == "hang" or (mode == "slow" and n == stall):
        if mode == "hang":
            print("%s 0 %s=0" % (w[0], w[1]), flush=True)
        time.sleep(100000)
    if mode == "slow":
        time.sleep(float(os.environ["FAKE_SECS"]))
        print("%s 0 %s=0" % (w[0], w[1]), flush=True)
sys.exit(65 if mode == "perm" else 0)
FAKE

# fput N: queue N messages to bob@bob.i2p for fake/sam-deliver.
fput() {
	reset && rm -f first.msg batch.in batch.args && i=0 &&
	while test $i -lt $1; do
		i=$((i + 1)) &&
		printf "From: a@a.i2p\nBcc: eve@eve.i2p\nSubject: f%d\n\nhi\n" $i >msg &&
		NYMBOX_NOW=$T0 dq -m now -f a@a.i2p bob@bob.i2p -- \
		    "$TRASH/fake/sam-deliver" -w 5 || return 1
	done
}

test_expect_success 'the batch: -B, a line and the copy'"'"'s descriptor for each' '
	fput 3 &&
	FAKE=quiet NYMBOX_NOW=$((T0 + 60)) queue-run -q Q -T 30 2>err &&
	printf "%s\n" -w 5 -B -f a@a.i2p -- >want && test_cmp want batch.args &&
	test_line_count = 3 batch.in &&
	test "$(grep -c "^[0-9a-f]\{16\} bob@bob.i2p 1\$" batch.in)" = 3 &&
	cut -d " " -f 1 batch.in | sort >got && ls Q/mess >want &&
	test_cmp want got &&
	grep "^Date: Wed, 15 Nov 2023 00:01:00 +0000\$" first.msg &&
	! grep "^Bcc:" first.msg
'

test_expect_success 'a batch that ends without reporting: its messages kept, not bounced' '
	test "$(ls Q/mess | wc -l)" = 3 &&
	for id in $(ls Q/mess); do
		test "$(field $id lastcode)" = -1 &&
		field $id error | grep "sam-deliver -B exited with 0 before its report on it" ||
		return 1
	done &&
	fput 2 &&
	FAKE=perm NYMBOX_NOW=$((T0 + 60)) queue-run -q Q -T 30 -b bounces 2>err &&
	test "$(ls Q/mess | wc -l)" = 2 && test_path_is_missing bounces &&
	for id in $(ls Q/mess); do
		test "$(field $id lastcode)" = -1 || return 1
	done
'

test_expect_success 'a batch that hangs: killed after -T, what it reported recorded' '
	fput 3 &&
	FAKE=hang NYMBOX_NOW=$((T0 + 60)) test_timeout 60 queue-run -q Q -T 2 2>err &&
	test "$(ls Q/mess | wc -l)" = 2 &&
	for id in $(ls Q/mess); do
		test "$(field $id lastcode)" = -1 &&
		field $id error | grep "sam-deliver -B timed out" ||
		return 1
	done &&
	grep "^Subject: f" first.msg >s && ! grep -l -F -x "$(cat s)" Q/mess/*
'

test_expect_success 'a batch has -T for each message: longer than -T in all, not stopped' '
	fput 4 && T=$(test_scaled 3) && start=$(date +%s) &&
	FAKE=slow FAKE_SECS=$(test_scaled 1.5) NYMBOX_NOW=$((T0 + 60)) \
	    test_timeout 60 queue-run -q Q -T $T 2>err &&
	test $(($(date +%s) - start)) -gt $T &&
	test_must_be_empty err &&
	test_line_count = 4 batch.in && test -z "$(ls Q/mess)"
'

test_expect_success '... and one message that takes longer than -T stops it' '
	fput 4 && T=$(test_scaled 3) &&
	FAKE=slow FAKE_SECS=$(test_scaled 1.5) FAKE_STALL=3 \
	    NYMBOX_NOW=$((T0 + 60)) test_timeout 60 queue-run -q Q -T $T 2>err &&
	test "$(ls Q/mess | wc -l)" = 2 &&
	for id in $(ls Q/mess); do
		test "$(field $id lastcode)" = -1 &&
		field $id error | grep "sam-deliver -B timed out" ||
		return 1
	done
'

# A deliverer gone before it reads a thing (a bridge that is down): the
# first message large, so that it is gone before the copy is handed.
mkdir -p gone && write_script gone/sam-deliver <<-\EOF
echo "gone: unable to reach the SAM bridge" >&2
exit 75
EOF

test_expect_success 'a deliverer gone before its first message: its exit status is theirs' '
	reset && i=0 &&
	while test $i -lt 3; do
		i=$((i + 1)) &&
		{ printf "From: a@a.i2p\nSubject: g%d\n\n" $i &&
		  if test $i = 1; then head -c 8000000 /dev/zero | tr "\0" a | fold -w 70; fi; } >msg &&
		NYMBOX_NOW=$T0 dq -m now -f a@a.i2p bob@bob.i2p -- \
		    "$TRASH/gone/sam-deliver" -w 5 || return 1
	done &&
	NYMBOX_NOW=$((T0 + 60)) queue-run -q Q -T 30 2>err &&
	test "$(ls Q/mess | wc -l)" = 3 &&
	for id in $(ls Q/mess); do
		test "$(field $id lastcode)" = 75 &&
		field $id error | grep "sam-deliver -B exited with 75 before its report on it" ||
		return 1
	done &&
	! grep "unable to hand" err
'

# A path of over 60 bytes to a deliverer that is not there.
long=$TRASH/nowhere/$(printf "%064d" 0)/sam-deliver

test_expect_success 'a batch whose deliverer cannot be run: its messages kept' '
	reset && i=0 &&
	while test $i -lt 2; do
		i=$((i + 1)) &&
		printf "From: a@a.i2p\nSubject: n%d\n\nhi\n" $i >msg &&
		NYMBOX_NOW=$T0 dq -m now -f a@a.i2p bob@bob.i2p -- \
		    "$long" -w 5 || return 1
	done &&
	NYMBOX_NOW=$((T0 + 60)) queue-run -q Q -T 30 -b bounces 2>err &&
	# The path cut at its beginning: the program'"'"'s name stays.
	test "$(grep -c "unable to run \.\.\.0*/sam-deliver: No such file or directory" err)" = 2 &&
	test "$(ls Q/mess | wc -l)" = 2 && test_path_is_missing bounces &&
	for id in $(ls Q/mess); do
		test "$(field $id attempts)" = 1 || return 1
	done
'

test_expect_success '-s: a command that cannot be run is named by its end too' '
	NYMBOX_NOW=$((T0 + 60 + 300)) queue-run -s -q Q -T 30 -b bounces 2>err &&
	test "$(grep -c "unable to run \.\.\.0*/sam-deliver: No such file or directory" err)" = 2 &&
	for id in $(ls Q/mess); do
		test "$(field $id attempts)" = 2 || return 1
	done
'

test_done
