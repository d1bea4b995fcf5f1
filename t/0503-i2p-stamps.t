#!/bin/sh
# The spam defence end to end over the suite's private I2P network
# (t/helpers/i2p-net): Bob (router B) receives with sam-accept +
# smtp-receive demanding hashcash stamps of 16 bits; Alice (router A)
# sends with sam-deliver as alice@HER-B32 to bob@HIS-B32 (b32 domains:
# verified against the stream's origin, no address book).  In order, on
# one network start: without a stamp refused (77, 550), with one minted
# by hashcash(1) delivered, the same stamp again refused (spent), Alice
# on Bob's allow list delivered without one, her *@domain on his deny
# list refused.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v i2pd >/dev/null || test_skip_all "i2pd is not installed"
command -v hashcash >/dev/null || test_skip_all "hashcash is not installed"
test "${NYM_TEST_SCALE:-1}" -le 1 ||
    test_skip_all "the network cases run in the plain pass only (NYM_TEST_SCALE=$NYM_TEST_SCALE)"

test_i2p_exclusive

write_script inside.sh <<'EOS'
set -u
D=$PWD
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; for p in $pids; do
	while kill -0 $p 2>/dev/null; do sleep 0.1; done; done' EXIT
BOB=bob@$(cat bob.b32name)
ALICE=alice@$(cat alice.b32name)
env SAM_PORT=$SAM_PORT_B HOME=$D/bob NYMBOX_CONF=$D/bob.conf sam-accept -w 120 \
    -k "$D/bob/.config/nymbox/keys/bob.i2p.key" smtp-receive >bob.up 2>bob.err &
pids="$pids $!"
env SAM_PORT=$SAM_PORT_A HOME=$D/alice NYMBOX_CONF=/dev/null sam-accept -w 120 \
    -k "$D/alice/.config/nymbox/keys/alice.i2p.key" \
    smtp-receive -l alice.invalid -a -d "$D/alice/Maildir" >alice.up 2>alice.err &
pids="$pids $!"
i=0
until test -s bob.up && test -s alice.up; do
	i=$((i + 1))
	test $i -le 1200 || { echo "the acceptors did not come up"; exit 1; }
	sleep 0.1
done
# send NAME [STAMP]: one message; NAME.rc gets sam-deliver's exit code
# (a 75 is tried again, as a queue would, three times at most).
send() {
	{ test -z "${2:-}" || echo "X-Hashcash: $2"
	  printf "From: <%s>\nTo: <%s>\nSubject: %s\n\nhello\n" "$ALICE" "$BOB" "$1"
	} >"$1.eml"
	n=0
	while :; do
		env SAM_PORT=$SAM_PORT_A HOME=$D/alice NYMBOX_CONF=/dev/null \
		    timeout 240 sam-deliver -w 120 -k "$D/alice/.config/nymbox/keys/alice.i2p.key" \
		    -f "$ALICE" "$BOB" <"$1.eml" >"$1.out" 2>"$1.err"
		rc=$?
		n=$((n + 1))
		test $rc = 75 && test $n -lt 3 || break
		cat "$1.err" >>"$1.retried"
	done
	echo $rc >"$1.rc"
}
send nostamp
hashcash -mq -b 16 "$BOB" >stamp
send stamped "$(cat stamp)"
send again "$(cat stamp)"
HOME=$D/bob NYMBOX_CONF=$D/bob.conf sender-list -r "$BOB" allow "$ALICE"
send allowed
HOME=$D/bob NYMBOX_CONF=$D/bob.conf sender-list -r "$BOB" del "$ALICE"
HOME=$D/bob NYMBOX_CONF=$D/bob.conf sender-list -r "$BOB" deny "*@${ALICE#*@}"
send denied "$(hashcash -mq -b 16 "$BOB")"
exit 0
EOS

test_expect_success 'setup: identities made without a router, Bob demands 1:16' '
	printf "a password for the test\n" >pass && chmod 600 pass &&
	HOME=$PWD/bob nymbox-init -P pass bob@bob.i2p >bob.init &&
	HOME=$PWD/alice nymbox-init -P pass alice@alice.i2p >alice.init &&
	sed -n "s/^b32 //p" bob.init >bob.b32name &&
	sed -n "s/^b32 //p" alice.init >alice.b32name &&
	test_line_count = 1 bob.b32name && test_line_count = 1 alice.b32name &&
	echo bob >users &&
	cat >bob.conf <<-EOF
	local-domains = $(cat bob.b32name)
	smtp-users = $PWD/users
	smtp-maildir = $PWD/bob/Maildir
	smtp-stamp = 1:16
	EOF
'

test_expect_success 'the run over the network (i2p-net)' '
	test_timeout 900 "$H/i2p-net" -- sh ./inside.sh >run.out 2>run.err
	rc=$?
	cat run.out && tail -5 run.err && test $rc = 0
'

count() { find bob/Maildir/new -type f 2>/dev/null | wc -l; }

test_expect_success 'an unknown sender without a stamp is refused: 550, exit 77' '
	test "$(cat nostamp.rc)" = 77 &&
	test_grep "550 5.7.1 Stamp needed for bob@" nostamp.err
'

test_expect_success 'with a stamp from hashcash(1): delivered' '
	test "$(cat stamped.rc)" = 0 &&
	grep -l "^Subject: stamped" bob/Maildir/new/*
'

test_expect_success 'the same stamp again: refused, spent' '
	test "$(cat again.rc)" = 77 &&
	test_grep "(spent already)" again.err
'

test_expect_success 'on the allow list, without a stamp: delivered' '
	test "$(cat allowed.rc)" = 0 &&
	grep -l "^Subject: allowed" bob/Maildir/new/*
'

test_expect_success 'her domain on the deny list: refused, neutrally' '
	test "$(cat denied.rc)" = 77 &&
	test_grep "550 5.7.1 Message refused" denied.err &&
	test "$(count)" = 2
'

test_done
