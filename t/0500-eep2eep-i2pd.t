#!/bin/sh
# Eep2eep mail end to end over a real i2pd SAM bridge (t/helpers/eep2eep
# on t/helpers/i2pd-lab): Bob's eepsite publishes his mail destination at
# /.well-known/i2pmail.key; Alice's sam-deliver resolves bob@bob.i2p,
# streams to Bob's sam-accept from her persistent key and speaks SMTP;
# Bob's smtp-receive verifies that the stream comes from the destination
# alice.i2p publishes and stores the message in his maildir.  Mallory,
# with a key of her own, claims to be alice@alice.i2p and is refused.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v i2pd >/dev/null || test_skip_all "i2pd is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x "${NYM_HELPERS:-$H}/samtool" || test_skip_all "samtool is not built"

test_expect_success 'Alice mails Bob over the real router; Mallory tries too' '
	test_timeout 400 "$H/eep2eep" run &&
	test -s run/alice.rc && test -s run/mallory.rc
'

test_expect_success 'Alice: delivered (exit 0)' '
	cat run/alice.err &&
	test "$(cat run/alice.rc)" = 0
'

test_expect_success 'Bob has it, byte for byte, without the Bcc' '
	ls run/bob/Maildir/new/* >files &&
	test $(wc -l <files) = 1 &&
	grep -v "^Bcc:" run/msg >want &&
	cmp want "$(cat files)"
'

test_expect_success 'Mallory is refused: 550 and a permanent exit (77)' '
	test "$(cat run/mallory.rc)" = 77 &&
	grep "Sender not verified" run/mallory.err &&
	grep "refused sender alice@alice.i2p" run/bob.err
'

test_expect_success 'Alice was not refused' '
	test $(grep -c "refused sender" run/bob.err) = 1
'

test_done
