#!/bin/sh
# The whole mail path over a private network of real i2pd routers, as
# `make demo` shows it (both run t/helpers/eep2eep on t/helpers/i2p-net:
# Alice and Mallory on router A, Bob on router B, in a network namespace
# of their own; where none can be made, on one router, said below as a
# "# " line): mutt hands a
# message to nymbox-sendmail, scrub-headers and delay-queue -m defer
# queue it, queue-run sends it when due through sam-deliver, which
# borrows the session of Alice's sam-accept; Bob's smtp-receive verifies
# the stream's origin against the key alice.i2p publishes at
# /.well-known/i2pmail.key and stores the message through mbox-encrypt,
# encrypted; Bob reads it with pop-fetch from pop-serve.  Mallory, with a
# key of her own, claims to be alice@alice.i2p and is refused.  eep2eep
# checks every step itself; the tests below check the results again from
# the files it leaves.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v i2pd >/dev/null || test_skip_all "i2pd is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x "${NYM_HELPERS:-$H}/samtool" || test_skip_all "samtool is not built"

# One router network at a time (t/lib.sh).
test_i2p_exclusive

test_expect_success 'the whole path runs, every step as it should (eep2eep)' '
	test_timeout 400 "$H/eep2eep" run >out 2>err
	rc=$? && cat out err && test $rc = 0
'

if test "$(cat run/network 2>/dev/null)" = one-router; then
	echo "# no network namespace here: the one-router FALLBACK ran" \
	    "(t/helpers/i2pd-lab, LeaseSet type 1, streams never leave it)"
fi

test_expect_success 'Alice and Bob were on different routers (or the fallback said so)' '
	case $(cat run/network) in
	three-routers)
		test "$(cut -d" " -f2 run/i2pd.pids | sort -u | wc -l)" = 3 ;;
	one-router)
		test_grep "network: ONE i2pd" out ;;
	*)	false ;;
	esac
'

test_expect_success 'mutt handed over a message that names Alice'"'"'s machine' '
	test_grep "^Message-ID: <.*@alice-laptop.home.lan>" run/alice.eml &&
	test_grep -v "^Bcc:" run/alice.eml
'

test_expect_success 'it was queued scrubbed, in defer mode' '
	test_grep "^Message-ID: <.*@alice.i2p>" run/queued.eml &&
	test_grep -v "alice-laptop\|+0100" run/queued.eml &&
	test_grep "^Date: .* +0000$" run/queued.eml
'

test_expect_success 'Alice: delivered, her queue empty' '
	test "$(cat run/queue-run.rc)" = 0 &&
	test_must_be_empty run/queue-run.err &&
	test -z "$(ls run/alice/.config/nymbox/queue/mess)" &&
	test -z "$(ls run/alice/.config/nymbox/queue/failed 2>/dev/null)"
'

test_expect_success 'Bob'"'"'s server stored an encrypted copy for bob and carol' '
	test "$(ls run/bob/mail/carol/new | wc -l)" = 1 &&
	test "$(head -c 8 run/stored)" = NYMBOXE1 &&
	! grep -a "Friday" run/stored run/bob/mail/carol/new/* &&
	mbox-encrypt -x -P run/bob/pop.pass \
	    -K run/bob/.config/nymbox/inbox/bob.key run/stored >dec &&
	test_cmp dec run/final.eml
'

test_expect_success 'Mallory is refused: 550 and a permanent exit (77)' '
	test "$(cat run/mallory.rc)" = 77 &&
	test_grep "550 5.7.1 Sender not verified" run/mallory.err &&
	test_grep "refused sender alice@alice.i2p" run/bob.err
'

test_expect_success 'Alice was not refused' '
	test $(grep -c "refused sender" run/bob.err) = 1
'

test_expect_success 'Bob read it with pop-fetch: as queued but for Date, now UTC' '
	grep -v "^Date:" run/queued.eml >want &&
	grep -v "^Date:" run/final.eml >have &&
	test_cmp want have &&
	test_grep "^Date: .* +0000$" run/final.eml &&
	! cmp -s run/queued.eml run/final.eml &&
	test_grep -x ".a line that starts with a dot" run/final.eml &&
	test_must_be_empty run/pop-fetch.err
'

# Every process of the run has its working directory in run/ (the
# routers too).
test_expect_success 'nothing of the run is left running' '
	for p in /proc/[0-9]*; do
		case $(readlink $p/cwd 2>/dev/null) in
		"$TRASH/run"|"$TRASH/run/"*) echo ${p#/proc/} ;;
		esac
	done >left &&
	{ test_must_be_empty left || { ps -f -p "$(paste -sd, left)"; false; }; } &&
	test -s run/i2pd.pids &&
	for p in $(cut -d" " -f2 run/i2pd.pids); do
		! kill -0 $p 2>/dev/null || return 1
	done
'

test_done
