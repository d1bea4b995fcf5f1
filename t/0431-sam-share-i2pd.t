#!/bin/sh
# Five sam-deliver at once with one key over a real i2pd SAM bridge
# (t/helpers/share-i2pd on t/helpers/i2pd-lab): all delivered over one
# session, the holder's and sam-accept's probes answered without harm to
# their sessions, the holder closes cleanly, the router survives.  Then
# two smtp-submit -s runs of one login: one session of its client key.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v i2pd >/dev/null || test_skip_all "i2pd is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

# One router network at a time (t/lib.sh).
test_i2p_exclusive

test_expect_success 'five parallel deliveries with one key over the real router' '
	test_timeout 600 "$H/i2pd-lab" -- "$H/share-i2pd" "$PWD/run" >lab.out 2>&1 &&
	for i in 1 2 3 4 5; do
		cat run/err$i && test "$(cat run/rc$i)" = 0 || return 1
	done &&
	# The five, and the sixth the next test is about.
	test "$(ls run/bob/Maildir/new | wc -l)" -ge 5 &&
	# One session (20 s on i2pd 2.45.1) and the streams; five sessions
	# one after another would take over 100 s.
	test $(( $(cat run/t1) - $(cat run/t0) )) -lt 60 &&
	echo "5 parallel deliveries, one session: $(( $(cat run/t1) - $(cat run/t0) )) s" >figure
'
test ! -f figure || tl_diag_ <figure

test_expect_success 'probes (NAMING LOOKUP NAME=ME) keep the sessions: a sixth delivery, same holder' '
	K=run/home/.config/nymbox/keys/alice.i2p.key &&
	grep "sam-holder\[$(cat run/holder.pid)\]: the bridge answers probes" "$K.log" &&
	! grep "probe failed\|did not answer\|closed the session" "$K.log" &&
	cat run/err6 && test "$(cat run/rc6)" = 0 &&
	test "$(cat run/holder6.pid)" = "$(cat run/holder.pid)" &&
	test "$(ls run/bob/Maildir/new | wc -l)" -ge 6 &&
	! grep "does not answer\|closed the session" run/bob.err
'
test ! -f run/home/.config/nymbox/keys/alice.i2p.key.log ||
	sed -n 's/^.*sam-holder\[[0-9]*\]: \(session open in .*\|the bridge answers probes.*\)$/holder: \1/p' \
	    run/home/.config/nymbox/keys/alice.i2p.key.log | tl_diag_

test_expect_success 'sam-accept -l restarted under its holder: same session, the next delivery at once' '
	cat run/err7 && test "$(cat run/rc7)" = 0 &&
	test -n "$(cat run/bobholder.pid)" &&
	test "$(cat run/bobholder7.pid)" = "$(cat run/bobholder.pid)" &&
	test "$(cat run/n7)" = 7 &&
	test "$(cat run/t7)" -lt 20 &&
	echo "acceptor restarted under its holder: next delivery $(cat run/t7) s" >figure8
'
test ! -f figure8 || tl_diag_ <figure8

test_expect_success 'one session: none refused, the holder closed cleanly and is gone' '
	! grep DUPLICATED run/err* &&
	read -r pid state t <run/home/.config/nymbox/keys/alice.i2p.key.lock &&
	test "$pid" = "$(cat run/holder.pid)" && test "$state" = closed &&
	test ! -d "/proc/$pid" &&
	! grep -i "segmentation\|pure virtual" lab.out
'

test_expect_success 'two smtp-submit -s of one login: the second borrows the first s session' '
	for i in 1 2; do
		cat run/serr$i && test "$(cat run/src$i)" = 0 || return 1
	done &&
	test "$(ls run/bob/Maildir/new | wc -l)" = 9 &&
	test "$(stat -c %a "run/home/.config/nymbox/client/carol@carol.i2p.key")" = 600 &&
	first=$(( $(cat run/st1) - $(cat run/st0) )) &&
	second=$(( $(cat run/st2) - $(cat run/st1) )) &&
	echo "smtp-submit over a real router: first $first ms (session), second $second ms" >figure2 &&
	# A session costs about 20 s on i2pd 2.45.1; a borrowed one a stream.
	test $second -lt 10000 && test $second -lt $((first / 2)) &&
	read -r pid state t <"run/home/.config/nymbox/client/carol@carol.i2p.key.lock" &&
	test "$pid" = "$(cat run/cholder.pid)" && test "$state" = closed &&
	test ! -d "/proc/$pid" &&
	! grep -i "segmentation\|pure virtual" lab.out
'
test ! -f figure2 || tl_diag_ <figure2

test_done
