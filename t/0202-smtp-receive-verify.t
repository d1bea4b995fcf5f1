#!/bin/sh
# smtp-receive: senders verified against the peer's I2P destination, told
# by the acceptor in I2P_PEER_DEST or I2P_PEER_B32; b32 domains directly,
# other .i2p names through the resolver (a stub here, given with -R).
cd "$(dirname "$0")" && . ./lib.sh

# mkdest NAME: NAME.dest (I2P base64) and NAME.b32 (its b32 address) of a
# made-up destination: 384 random bytes and an EdDSA key certificate.
mkdest()
{
	python3 -c '
import base64, hashlib, os, sys
d = os.urandom(384) + b"\x05\x00\x04\x00\x07\x00\x00"
open(sys.argv[1] + ".dest", "w").write(base64.b64encode(d, b"-~").decode())
b32 = base64.b32encode(hashlib.sha256(d).digest()).decode().lower().rstrip("=")
open(sys.argv[1] + ".b32", "w").write(b32 + ".b32.i2p")
' "$1"
}

# mailfrom ADDR [OPTION...]: the reply to MAIL FROM:<ADDR>.
mailfrom()
{
	tl_a_=$1
	shift
	printf "EHLO c\r\nMAIL FROM:<%s>\r\nQUIT\r\n" "$tl_a_" |
	smtp-receive $SR "$@" | sed -n 7p | tr -d "\r"
}

test_expect_success 'setup' '
	mkdest alice && mkdest mallory && mkdest bob &&
	ALICE=$(cat alice.b32) && MALLORY=$(cat mallory.b32) &&
	SR="-l bob.i2p -a -d md" &&
	write_script resolver <<-\EOF &&
	# a stub resolve-maildest -b: the domain in $1, what to print in
	# $1.out, the exit status in $1.rc; each call logged in calls
	echo "$1" >>calls
	test ! -f "$1.out" || cat "$1.out"
	exit $(cat "$1.rc" 2>/dev/null || echo 0)
	EOF
	test $(wc -c <alice.dest) = 524
'

test_expect_success 'without peer information anyone may send to local users' '
	test "$(mailfrom "x@$MALLORY")" = "250 2.1.0 Ok" &&
	test "$(mailfrom someone@gmail.com)" = "250 2.1.0 Ok"
'

test_expect_success 'a b32 sender that is the peer is taken' '
	export I2P_PEER_DEST="$(cat alice.dest)" &&
	test "$(mailfrom "alice@$ALICE")" = "250 2.1.0 Ok" &&
	UPPER=$(echo "$ALICE" | tr a-z A-Z) &&
	test "$(mailfrom "Alice@$UPPER")" = "250 2.1.0 Ok"
'

test_expect_success 'a b32 sender that is not the peer is refused, and logged' '
	export I2P_PEER_DEST="$(cat mallory.dest)" &&
	printf "EHLO c\r\nMAIL FROM:<alice@%s>\r\nQUIT\r\n" "$ALICE" |
	smtp-receive $SR >out 2>err &&
	grep "^550 5.7.1 Sender not verified" out &&
	short=$(cut -c1-8 mallory.b32) &&
	grep -x "smtp-receive: refused sender alice@$ALICE: peer is $short...b32.i2p" err &&
	! grep "$MALLORY" err &&
	! grep -F "$(cut -c1-40 mallory.dest)" err
'

test_expect_success 'I2P_PEER_B32 alone does too, with or without .b32.i2p' '
	unset I2P_PEER_DEST &&
	I2P_PEER_B32=$ALICE && export I2P_PEER_B32 &&
	test "$(mailfrom "alice@$ALICE")" = "250 2.1.0 Ok" &&
	test "$(mailfrom "x@$MALLORY")" = "550 5.7.1 Sender not verified" &&
	I2P_PEER_B32=$(cut -c1-52 alice.b32) &&
	test "$(mailfrom "alice@$ALICE")" = "250 2.1.0 Ok"
'

test_expect_success 'I2P_PEER_DEST wins over I2P_PEER_B32' '
	I2P_PEER_B32=$MALLORY &&
	export I2P_PEER_DEST="$(cat alice.dest)" &&
	test "$(mailfrom "alice@$ALICE")" = "250 2.1.0 Ok"
'

test_expect_success 'an .i2p sender is checked through the resolver' '
	unset I2P_PEER_B32 &&
	export I2P_PEER_DEST="$(cat alice.dest)" &&
	echo "alice.i2p i2p $(cat alice.dest) 25 well-known -" >alice.i2p.out &&
	rm -f calls &&
	test "$(mailfrom alice@alice.i2p -R ./resolver)" = "250 2.1.0 Ok" &&
	echo alice.i2p >want && test_cmp want calls
'

test_expect_success 'a resolver may print a b32 address' '
	echo "alice.i2p i2p $ALICE 25 addressbook 2026-12-01T00:00:00Z" >alice.i2p.out &&
	test "$(mailfrom alice@Alice.i2p -R ./resolver)" = "250 2.1.0 Ok"
'

test_expect_success 'another destination is refused' '
	echo "alice.i2p i2p $(cat mallory.dest) 25 well-known -" >alice.i2p.out &&
	test "$(mailfrom alice@alice.i2p -R ./resolver 2>err)" = "550 5.7.1 Sender not verified" &&
	grep "refused sender alice@alice.i2p: peer is" err
'

test_expect_success 'a relay or onion route is refused: nothing to compare' '
	echo "alice.i2p relay smtp.postman.i2p 25 relay -" >alice.i2p.out &&
	test "$(mailfrom alice@alice.i2p -R ./resolver)" = "550 5.7.1 Sender not verified"
'

test_expect_success 'resolver: not found is 550, temporary 451, broken 451' '
	rm -f alice.i2p.out &&
	echo 68 >alice.i2p.rc &&
	test "$(mailfrom alice@alice.i2p -R ./resolver)" = "550 5.7.1 Sender not verified" &&
	echo 75 >alice.i2p.rc &&
	test "$(mailfrom alice@alice.i2p -R ./resolver 2>err)" = "451 4.4.3 Unable to verify the sender, try again later" &&
	test_must_be_empty err &&
	echo 3 >alice.i2p.rc &&
	test "$(mailfrom alice@alice.i2p -R ./resolver 2>err)" = "451 4.4.3 Unable to verify the sender, try again later" &&
	grep "smtp-receive: unable to verify sender alice@alice.i2p: resolver exited 3" err &&
	echo 0 >alice.i2p.rc &&
	test "$(mailfrom alice@alice.i2p -R ./resolver 2>err)" = "451 4.4.3 Unable to verify the sender, try again later" &&
	grep "resolver printed no destination" err &&
	echo "alice.i2p i2p notadestination 25 x -" >alice.i2p.out &&
	test "$(mailfrom alice@alice.i2p -R ./resolver 2>err)" = "451 4.4.3 Unable to verify the sender, try again later" &&
	grep "resolver printed a bad destination" err &&
	test "$(mailfrom alice@alice.i2p -R /nonexistent/resolver 2>err)" = "451 4.4.3 Unable to verify the sender, try again later"
'

test_expect_success 'the resolver runs once per domain and session' '
	echo "alice.i2p i2p $(cat alice.dest) 25 well-known -" >alice.i2p.out &&
	rm -f calls &&
	printf "EHLO c\r\nMAIL FROM:<alice@alice.i2p>\r\nRSET\r\nMAIL FROM:<other@alice.i2p>\r\nQUIT\r\n" |
	smtp-receive $SR -R ./resolver >out &&
	test "$(grep -c "^250 2.1.0" out)" = 2 &&
	test_line_count = 1 calls
'

test_expect_success 'the domain reaches the resolver as one argument' '
	write_script argv <<-\EOF &&
	printf "%s|" "$@" >argv.out
	exit 68
	EOF
	mailfrom "a@x-y.i2p" -R "./argv -b" >/dev/null &&
	test "$(cat argv.out)" = "-b|x-y.i2p|"
'

test_expect_success 'a resolver that hangs is killed after -t seconds: 451' '
	write_script slow <<-\EOF &&
	echo $$ >slow.pid
	sleep 600 & echo $! >sleep.pid
	wait
	echo late >slow.out
	EOF
	printf "EHLO c\r\nMAIL FROM:<a@slow.i2p>\r\nQUIT\r\n" >in &&
	test_when_finished "kill \$(cat slow.pid sleep.pid) 2>/dev/null; :" &&
	test_timeout 20 smtp-receive $SR -t 1 -R ./slow <in >out 2>err &&
	grep "^451 4.4.3" out &&
	grep "unable to verify sender a@slow.i2p: resolver took too long" err &&
	test_path_is_file slow.pid && test_path_is_file sleep.pid &&
	test_wait_gone $(cat slow.pid sleep.pid) &&
	test_path_is_missing slow.out
'

test_expect_success '-v: senders outside .i2p' '
	test "$(mailfrom someone@example.org)" = "550 5.7.1 Sender not verified" &&
	test "$(mailfrom someone@example.org -v i2p)" = "250 2.1.0 Ok" &&
	test "$(mailfrom "x@$MALLORY" -v i2p)" = "550 5.7.1 Sender not verified" &&
	test "$(mailfrom "x@$MALLORY" -v none)" = "250 2.1.0 Ok" &&
	printf "smtp-verify = none\n" >conf &&
	export NYMBOX_CONF=conf &&
	test "$(mailfrom "x@$MALLORY")" = "250 2.1.0 Ok" &&
	unset NYMBOX_CONF
'

test_expect_success 'the null sender is not verified' '
	test "$(mailfrom "")" = "250 2.1.0 Ok"
'

test_expect_success 'a peer that is not a destination: 451 and a log line' '
	I2P_PEER_DEST=garbage &&
	test "$(mailfrom "alice@$ALICE" 2>err)" = "451 4.4.3 Unable to verify the sender, try again later" &&
	grep "smtp-receive: unable to use I2P_PEER_DEST: not a destination" err &&
	unset I2P_PEER_DEST &&
	I2P_PEER_B32=tooshort.b32.i2p && export I2P_PEER_B32 &&
	test "$(mailfrom "alice@$ALICE" 2>err)" = "451 4.4.3 Unable to verify the sender, try again later" &&
	grep "unable to use I2P_PEER_B32" err
'

test_expect_success 'a verified sender delivers a whole message' '
	unset I2P_PEER_B32 &&
	I2P_PEER_DEST=$(cat alice.dest) && export I2P_PEER_DEST &&
	printf "Subject: hi\r\n\r\nhello\r\n" >msg &&
	smtp-send -f "alice@$ALICE" -r bob@bob.i2p msg -- smtp-receive $SR &&
	printf "Subject: hi\n\nhello\n" >want &&
	test_cmp want md/new/* &&
	test_must_fail smtp-send -f "x@$MALLORY" -r bob@bob.i2p msg \
	    -- smtp-receive $SR 2>err &&
	grep "550 5.7.1" err
'

test_done
