#!/bin/sh
# sam-deliver against the fake SAM bridge and a scripted SMTP server at
# the end of a route: what goes on the wire, the exit code for every kind
# of reply and failure, keys, and batches over one session.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
SAMTOOL=${NYM_HELPERS:-$H}/samtool
test -x "$SAMTOOL" || test_skip_all "$SAMTOOL is not built"

# mx NAME [smtpd options]: an SMTP server for route NAME, mail saved in
# NAME.mail/, commands logged in NAME.log.
mx() {
	n=$1 && shift &&
	rm -rf "$n.port" "$n.mail" "$n.log" &&
	{ "$H/smtpd" --port-file "$n.port" --save "$n.mail" --log "$n.log" \
	    --max-seconds $(test_scaled 300) "$@" & echo $! >"$n.pid"; } &&
	test_wait_for "$n.port"
}

# sam [fake-sam options]: the bridge, routing mx0..mx9 to their servers.
sam() {
	rm -f sam.port sam.pid sam.log &&
	routes= &&
	for p in mx*.port; do
		test ! -f "$p" || routes="$routes --route ${p%.port}.i2p=$(cat $p)"
	done &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) $routes "$@" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid
}

b32of() {
	test_timeout 30 "$SAMTOOL" -t $(test_scaled 5000) -c $(test_scaled 5000) 127.0.0.1 "$(cat sam.port)" \
	    lookup -b "$1.i2p"
}

sd() {
	test_timeout 30 sam-deliver -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) "$@"
}

restart() {
	test ! -f sam.pid || kill "$(cat sam.pid)" 2>/dev/null
	for p in mx*.pid; do test ! -f "$p" || kill "$(cat "$p")" 2>/dev/null; done
	rm -f mx*.port mx*.pid
}

# The first sam-deliver of a key starts a holder of its session (named
# sam-holder, its PID in KEY.lock), which ends with its bridge; stop
# them by PID at the end, whatever happens.
stop_holders() {
	test_stop_holders "$HOME"/.config/nymbox/keys
}
test_atexit 'restart; stop_holders'

# Each bridge here is new: no gap between a key's sessions is needed.
mkdir -p "$HOME/.config/nymbox" && echo "sam-gap = 0" >"$HOME/.config/nymbox/config"

printf 'From: Alice <alice@alice.i2p>\nTo: Bob <bob@x.i2p>\nBcc: hidden@y.i2p,\n  other@z.i2p\nSubject: test\n\n.starts with a dot\nline\n' >msg
grep -v "^Bcc:\|^  other" msg | sed "s/\$/\r/" >want

# Stop the scripted servers whatever happens to the script.
test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

test_expect_success 'setup: a server and the bridge' '
	mx mx0 && sam && B=$(b32of mx0) && test -n "$B" && echo "$B" >mx0.b32
'
B=$(cat mx0.b32 2>/dev/null)

test_expect_success 'a message is delivered: dots stuffed, CRLF, no Bcc' '
	sd -f alice@alice.i2p "bob@$B" <msg &&
	test_cmp want mx0.mail/msg1
'

test_expect_success 'the client names nothing and gives the size' '
	grep -x "EHLO localhost" mx0.log &&
	grep "^MAIL FROM:<alice@alice.i2p> SIZE=[0-9]*\$" mx0.log &&
	grep -x "RCPT TO:<bob@$B>" mx0.log
'

test_expect_success 'the key is made once per sender domain, mode 0600' '
	test "$(stat -c %a "$HOME/.config/nymbox/keys/alice.i2p.key")" = 600 &&
	sd -f carol@alice.i2p "bob@$B" <msg &&
	test $(ls "$HOME/.config/nymbox/keys"/*.key | wc -l) = 1 &&
	test $(grep -c "DEST GENERATE" sam.log) = 1
'

test_expect_success 'a key others can read is refused (75: deferred, not bounced)' '
	chmod 644 "$HOME/.config/nymbox/keys/alice.i2p.key" &&
	test_when_finished "chmod 600 \"$HOME/.config/nymbox/keys/alice.i2p.key\"" &&
	test_expect_code 75 sd -f alice@alice.i2p "bob@$B" <msg 2>err &&
	grep "unable to read the sender.s key .*alice.i2p.key: readable by others: chmod 600 .*alice.i2p.key\$" err
'

test_expect_success 'one transaction for several recipients of one server' '
	rm -f mx0.log &&
	sd -f alice@alice.i2p "a@$B" "b@$B" "C <c@$B>" <msg &&
	test $(grep -c "^MAIL" mx0.log) = 1 &&
	test $(grep -c "^RCPT" mx0.log) = 3
'

test_expect_success '-t adds the header recipients, -f or SENDER is required' '
	printf "From: a@a.i2p\nTo: x@$B\nCc: y@$B\n\nhi\n" >m2 &&
	rm -f mx0.log && SENDER=a@a.i2p sd -t <m2 &&
	test $(grep -c "^RCPT" mx0.log) = 2 &&
	test_expect_code 64 sd "x@$B" <m2
'

# fails WANT [smtpd options]: a fresh server and bridge, then deliver
# to bob at it and expect exit WANT.
fails() {
	fw=$1 && shift &&
	restart && mx mx0 "$@" && sam && B=$(b32of mx0) &&
	test_expect_code "$fw" sd -f alice@alice.i2p "bob@$B" <msg
}

test_expect_success 'unknown user (550 5.1.1): 67' '
	fails 67 --rcpt "bob=550 5.1.1 no such user"
'
test_expect_success 'RCPT 450: 75' '
	fails 75 --rcpt "bob=450 4.2.1 try later"
'
test_expect_success 'sender refused (550 5.7.1): 77, and the reason is shown' '
	fails 77 --mail "550 5.7.1 Sender not verified" 2>err &&
	grep "unable to deliver to bob@.*: 550 5.7.1 Sender not verified" err
'
test_expect_success 'DATA refused (554): 77' '
	fails 77 --data "554 5.7.0 no"
'
test_expect_success 'full mailbox after the message (452): 75' '
	fails 75 --final "452 4.3.1 full"
'
test_expect_success 'content refused after the message (554 5.6.0): 65' '
	fails 65 --final "554 5.6.0 bad content"
'
test_expect_success 'busy greeting (421): 75' '
	fails 75 --greeting "421 4.3.2 busy"
'
test_expect_success 'a server that never speaks: 75 within the timeout' '
	fails 75 --hang
'
test_expect_success 'the connection dropped in DATA: 75' '
	fails 75 --drop-in-data
'
test_expect_success 'without PIPELINING, one command at a time' '
	restart && mx mx0 --no-pipelining && sam && B=$(b32of mx0) &&
	sd -f alice@alice.i2p "bob@$B" <msg &&
	test_cmp want mx0.mail/msg1
'
test_expect_success 'one good and one unknown recipient: the good one gets it, exit 67' '
	restart && mx mx0 --rcpt "nobody=550 5.1.1 no" && sam && B=$(b32of mx0) &&
	test_expect_code 67 sd -f alice@alice.i2p "bob@$B" "nobody@$B" <msg &&
	test_cmp want mx0.mail/msg1
'
test_expect_success 'the peer cannot be reached: 75' '
	restart && mx mx0 && sam --fail-connect CANT_REACH_PEER && B=$(b32of mx0) &&
	test_expect_code 75 sd -f alice@alice.i2p "bob@$B" <msg 2>err &&
	grep "CANT_REACH_PEER" err
'
test_expect_success 'the bridge is down: 75' '
	test_expect_code 75 test_timeout 20 sam-deliver -S 127.0.0.1:1 -w 2 \
	    -f alice@alice.i2p "bob@$B" <msg
'
test_expect_success 'no destination for a name: 68; an onion recipient: 68' '
	restart && sam &&
	test_expect_code 68 sd -f alice@alice.i2p bob@nowhere.i2p <msg &&
	test_expect_code 68 sd -f alice@alice.i2p \
	    bob@pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion <msg
'
test_expect_success '-B: a queue of messages over one session' '
	restart && mx mx0 --rcpt "nobody=550 5.1.1 no" && mx mx1 && sam &&
	B0=$(b32of mx0) && B1=$(b32of mx1) &&
	before=$(grep -c "SESSION CREATE" sam.log) &&
	for i in 1 2 3 4 5; do cp msg q$i; done &&
	{ echo "q1 bob@$B0" && echo "q2 bob@$B1 carol@$B0" &&
	  echo "q3 nobody@$B0" && echo "missing bob@$B0" &&
	  echo "q5 bob@$B1"; } >jobs &&
	{ sd -B -f alice@alice.i2p <jobs >results; echo $? >rc; } &&
	test "$(cat rc)" = 75 &&
	grep -x "q1 0 bob@$B0=0" results &&
	grep -x "q2 0 bob@$B1=0 carol@$B0=0" results &&
	grep -x "q3 67 nobody@$B0=67" results &&
	grep "^missing 75 " results &&
	grep -x "q5 0 bob@$B1=0" results &&
	test $(grep -c "SESSION CREATE" sam.log) = $((before + 1)) &&
	test $(ls mx0.mail | wc -l) = 2 && test $(ls mx1.mail | wc -l) = 2
'
test_expect_success '-B: one connection per server for the whole batch' '
	test $(grep -c "^EHLO" mx0.log) = 1 &&
	test $(grep -c "^MAIL" mx0.log) = 3 &&
	test $(grep -c "^EHLO" mx1.log) = 1 &&
	test $(grep -c "^MAIL" mx1.log) = 2
'
test_expect_success 'cleanup' 'restart; stop_holders'

test_done
