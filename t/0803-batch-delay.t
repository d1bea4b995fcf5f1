#!/bin/sh
# batch-delay: the batch leaves at 00:00 and 12:00 UTC and not a second
# before, the other modes stay where they are, a failed batch message
# waits for the next batch time, cron's short PATH does not matter, and
# its options reach queue-run.  Time is injected with NYMBOX_NOW.
cd "$(dirname "$0")" && . ./lib.sh

command -v queue-run >/dev/null || test_skip_all "queue-run is not built"

T0=1700006400		# 2023-11-15 00:00:00 UTC
H12=43200

printf 'From: a@a.i2p\nTo: b@b.i2p\nSubject: s\nDate: Mon, 1 Jan 2024 10:00:00 +0100\n\nDate: body\n' >msg

# deliver: keeps what it is given in out/N.msg, exits with the number in
# the file "code" (0 if there is none).  N counts arrivals under a lock,
# as queue-run runs several at once.
write_script deliver <<-EOF
mkdir -p "$TRASH/out" && exec 9>"$TRASH/out.lock" && flock 9 || exit 75
n=\$(ls "$TRASH/out" 2>/dev/null | grep -c msg)
cat >"$TRASH/out/\$n.msg" || exit 75
exec 9>&-
exit \$(cat "$TRASH/code" 2>/dev/null || echo 0)
EOF

. "$TOP/t/helpers/queue-lib.sh"

test_expect_success 'batch-delay sends the batch at 00:00 UTC, and only the batch' '
	reset &&
	NYMBOX_NOW=$((T0 - 600)) dq -m batch bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$((T0 - 600)) dq -m batch carol@carol.i2p -- ./deliver &&
	NYMBOX_NOW=$((T0 - 600)) dq -m defer bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$((T0 - 1)) batch-delay -q Q &&
	test_path_is_missing out &&
	NYMBOX_NOW=$T0 qr -m now,defer &&
	test_path_is_missing out &&
	NYMBOX_NOW=$T0 batch-delay -q Q &&
	test "$(ls out/*.msg | wc -l)" = 2 &&
	test "$(field $(onlyid) mode)" = defer &&
	for f in out/*.msg; do sed -n "/^\$/q; /^Date:/p" $f; done | sort -u >got &&
	echo "Date: Wed, 15 Nov 2023 00:00:00 +0000" >want && test_cmp want got
'

test_expect_success 'batch-delay: usage' '
	test_expect_code 64 batch-delay -x 2>err &&
	grep "^usage: batch-delay" err &&
	test_expect_code 64 batch-delay extra
'

test_expect_success 'a batch message that fails waits for the next batch time' '
	reset && echo 75 >code &&
	NYMBOX_NOW=$((T0 - 5)) dq -m batch bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$((T0 + 30)) batch-delay -q Q 2>err &&
	test "$(field $id due)" = $((T0 + H12))
'

test_expect_success 'and at 12:00 UTC: what was queued since 00:00' '
	reset &&
	NYMBOX_NOW=$T0 dq -m batch bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$((T0 + H12 - 1)) batch-delay -q Q &&
	test_path_is_missing out &&
	NYMBOX_NOW=$((T0 + H12 + 59)) batch-delay -q Q &&
	test "$(ls out | wc -l)" = 1 &&
	sed -n "/^\$/q; /^Date:/p" out/0.msg >got &&
	echo "Date: Wed, 15 Nov 2023 12:00:59 +0000" >want && test_cmp want got
'

test_expect_success 'cron PATH: queue-run is found beside batch-delay' '
	reset &&
	NYMBOX_NOW=$((T0 - 1)) dq -m batch bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$T0 env PATH=/usr/bin:/bin "$TOP/bin/batch-delay" -q Q &&
	test "$(ls out | wc -l)" = 1
'

test_expect_success 'its options reach queue-run: -b, -T, -j, -J' '
	reset && echo 77 >code &&
	NYMBOX_NOW=$((T0 - 1)) dq -m batch bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$T0 batch-delay -q Q -b bounces -T 5 -j 2 -J 1 2>err &&
	test "$(ls bounces/new | wc -l)" = 1 &&
	test_expect_code 64 batch-delay -q Q -T 0 2>err &&
	grep "unable to use -T 0" err &&
	test_expect_code 64 batch-delay -q Q -j 0 2>err &&
	grep "unable to use -j 0" err &&
	test_expect_code 64 batch-delay -q Q -J 1001 2>err &&
	grep "unable to use -J 1001" err
'

test_done
