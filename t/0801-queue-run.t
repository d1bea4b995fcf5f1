#!/bin/sh
# queue-run: what is due is delivered and nothing else,
# with the envelope form sam-deliver takes; Date rewritten in UTC and
# Bcc removed; retries on 75 with the documented backoff; a DSN
# (multipart/report) to the sender's mailbox on a permanent failure or
# when the lifetime is over; where bounces go; -l and -d (t/0804 has -l's
# errors, -r, -R and the bounce place under cron).  Time is injected with
# NYMBOX_NOW.
cd "$(dirname "$0")" && . ./lib.sh

command -v queue-run >/dev/null || test_skip_all "queue-run is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

T0=1700006400		# 2023-11-15 00:00:00 UTC
H12=43200

cat >msg <<-\EOF
From: Alice <alice@alice.i2p>
To: Bob <bob@bob.i2p>
Bcc: eve@eve.i2p
Subject: the plan
Date: Mon, 1 Jan 2024 10:00:00 +0100
X-Keep:  spacing	 kept

Meet at noon.
Date: not a header
EOF

# deliver [ARGS...]: records its arguments and standard input as
# out/N.args and out/N.msg, then exits with the number in the file
# "code" (0 if there is none), saying something on stderr when it fails.
# N counts arrivals under a lock, as queue-run runs several at once.
write_script deliver <<-EOF
mkdir -p "$TRASH/out" && exec 9>"$TRASH/out.lock" && flock 9 || exit 75
n=\$(ls "$TRASH/out" 2>/dev/null | grep -c args)
printf '%s\n' "\$@" >"$TRASH/out/\$n.args" &&
cat >"$TRASH/out/\$n.msg" || exit 75
exec 9>&-
code=\$(cat "$TRASH/code" 2>/dev/null || echo 0)
test "\$code" = 0 || echo "deliver: unable to deliver to bob@bob.i2p: 550 no" >&2
exit \$code
EOF

# dsn FILE: the facts of a bounce, one per line.
write_script dsn "$(command -v python3)" <<-\EOF
import email, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=policy.compat32)
p = m.get_payload()
print("type", m.get_content_type(), m.get_param("report-type"))
for h in ("From", "To", "Subject", "Auto-Submitted", "MIME-Version"):
    print(h, m[h])
print("date-utc", m["Date"].endswith(" +0000"))
print("parts", *[x.get_content_type() for x in p])
st = p[1].get_payload()
print("reporting-mta", st[0]["Reporting-MTA"])
for r in st[1:]:
    print("recipient", r["Final-Recipient"], r["Action"], r["Status"])
    print("diagnostic", r["Diagnostic-Code"])
h = p[2].get_payload()
print("original-subject", "Subject: the plan" in h)
print("body-left-out", "noon" not in m.as_string())
EOF

nothing_queued() {
	test -z "$(find Q/info Q/mess Q/tmp -type f)"
}

. "$TOP/t/helpers/queue-lib.sh"

test_expect_success 'a due message goes out: the envelope as sam-deliver takes it' '
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p eve@eve.i2p \
	    -- ./deliver -k "a key" &&
	NYMBOX_NOW=$((T0 + 60)) qr 2>err &&
	test_must_be_empty err &&
	printf "%s\n" -k "a key" -f alice@alice.i2p -- bob@bob.i2p eve@eve.i2p >want &&
	test_cmp want out/0.args &&
	nothing_queued
'

test_expect_success 'Date is the time of sending in UTC, Bcc is gone, the rest byte for byte' '
	sed -e "/^Bcc:/d" -e "s/^Date: Mon.*/Date: Wed, 15 Nov 2023 00:01:00 +0000/" \
	    msg >want &&
	test_cmp want out/0.msg
'

test_expect_success 'Date is added where there was none; CRLF stays CRLF' '
	reset &&
	printf "From: a@a.i2p\r\nSubject: s\r\n\r\nbody\r\n" >crlf &&
	NYMBOX_NOW=$T0 delay-queue -q Q -m now b@b.i2p -- ./deliver <crlf &&
	NYMBOX_NOW=$((T0 + H12 + 3723)) qr &&
	printf "From: a@a.i2p\r\nSubject: s\r\nDate: Wed, 15 Nov 2023 13:02:03 +0000\r\n\r\nbody\r\n" >want &&
	test_cmp want out/0.msg
'

test_expect_success 'defer: nothing before the due time, then sent' '
	reset &&
	NYMBOX_NOW=$T0 dq -m defer -r 2500-2500 bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$((T0 + 2499)) qr &&
	test_path_is_missing out &&
	NYMBOX_NOW=$((T0 + 2500)) qr &&
	test_path_is_file out/0.msg && nothing_queued &&
	grep "^Date: Wed, 15 Nov 2023 00:41:40 +0000\$" out/0.msg
'

test_expect_success 'exit 75: kept, tried again after 5, then 15 minutes' '
	reset && echo 75 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$T0 qr 2>err &&
	echo "queue-run: unable to deliver message $id: ./deliver exited with 75: deliver: unable to deliver to bob@bob.i2p: 550 no; next attempt at 2023-11-15T00:05:00Z" >want &&
	test_cmp want err &&
	test "$(field $id attempts)" = 1 &&
	test "$(field $id due)" = $((T0 + 300)) &&
	test "$(field $id lastcode)" = 75 &&
	NYMBOX_NOW=$((T0 + 299)) qr 2>err &&
	test_must_be_empty err &&
	NYMBOX_NOW=$((T0 + 300)) qr 2>err &&
	test "$(field $id attempts)" = 2 &&
	test "$(field $id due)" = $((T0 + 1200)) &&
	test "$(ls out/*.msg | wc -l)" = 2 &&
	rm code &&
	NYMBOX_NOW=$((T0 + 1200)) qr 2>err &&
	test_must_be_empty err && nothing_queued &&
	grep "^Date: Wed, 15 Nov 2023 00:20:00 +0000\$" out/2.msg
'

test_expect_success 'other temporary outcomes: 71, 78, a signal, a command not found' '
	reset &&
	for c in 71 78; do
		echo $c >code &&
		NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver || return 1
	done &&
	write_script killed <<-\EOF &&
	cat >/dev/null; kill -9 $$
	EOF
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./killed &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./no-such-command &&
	NYMBOX_NOW=$T0 qr 2>err &&
	cat err &&
	test "$(cat Q/info/* | grep -c "^attempts 1")" = 4 &&
	test "$(ls Q/failed | wc -l)" = 0 &&
	grep "killed by signal 9" err &&
	grep "unable to run ./no-such-command" err
'

test_expect_success 'a permanent failure: a DSN to the sender, the message moved aside' '
	reset && echo 67 >code &&
	NYMBOX_NOW=$T0 dq -m now -t -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$((T0 + 100)) qr -b bounces 2>err &&
	grep "unable to deliver message $id: ./deliver exited with 67: .*; returned to alice@alice.i2p" err &&
	nothing_queued &&
	test_cmp msg Q/failed/$id &&
	ls bounces/new >list && test "$(wc -l <list)" = 1 &&
	./dsn bounces/new/$(cat list) >got &&
	cat >want <<-\EOF &&
	type multipart/report delivery-status
	From Mail Delivery System <MAILER-DAEMON@alice.i2p>
	To alice@alice.i2p
	Subject Undelivered Mail Returned to Sender
	Auto-Submitted auto-replied
	MIME-Version 1.0
	date-utc True
	parts text/plain message/delivery-status text/rfc822-headers
	reporting-mta dns; localhost
	recipient rfc822; bob@bob.i2p failed 5.1.1
	diagnostic X-Unix; deliver: unable to deliver to bob@bob.i2p: 550 no
	recipient rfc822; eve@eve.i2p failed 5.1.1
	diagnostic X-Unix; deliver: unable to deliver to bob@bob.i2p: 550 no
	original-subject True
	body-left-out True
	EOF
	test_cmp want got &&
	grep "^Date: Wed, 15 Nov 2023 00:01:40 +0000" bounces/new/* &&
	grep "^Message-Id: <[0-9a-f]\{32\}@alice.i2p>" bounces/new/* &&
	h=$(uname -n) &&
	if test "$h" != localhost; then test_grep -v -F "$h" bounces/new/*; fi
'

test_expect_success 'bounces: -b or bounce-maildir, bounce-mbox, ~/Maildir; never $MAIL' '
	reset && echo 65 >code &&
	printf "bounce-mbox = %s/mbox\n" "$PWD" >conf &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	NYMBOX_CONF=$PWD/conf MAIL=$PWD/mail NYMBOX_NOW=$T0 qr 2>err &&
	test "$(grep -c "^From MAILER-DAEMON " mbox)" = 1 &&
	grep "^Status: 5.6.0" mbox &&
	test "$(stat -c %a mbox)" = 600 &&
	printf "bounce-maildir = %s/conf-md\n" "$PWD" >conf &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	NYMBOX_CONF=$PWD/conf MAIL=$PWD/mail NYMBOX_NOW=$T0 qr 2>err &&
	test "$(ls conf-md/new | wc -l)" = 1 &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	test "$(ls bounces/new | wc -l)" = 1 &&
	test "$(ls conf-md/new | wc -l)" = 1 &&
	mkdir -p "$HOME/Maildir" &&
	test_when_finished "rm -rf \"\$HOME/Maildir\"" &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	MAIL=$PWD/mail NYMBOX_NOW=$T0 qr 2>err &&
	test "$(ls "$HOME/Maildir/new" | wc -l)" = 1 &&
	test_path_is_missing mail &&
	printf "bounce-maildir = a\nbounce-mbox = b\n" >conf &&
	test_expect_code 78 env NYMBOX_CONF=$PWD/conf queue-run -q Q 2>err &&
	grep "bounce-maildir and bounce-mbox are both set" err
'

test_expect_success 'the null sender: no bounce, the message kept aside' '
	reset && echo 77 >code &&
	NYMBOX_NOW=$T0 dq -m now -f "<>" bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	grep "no sender; kept in Q/failed" err &&
	test_path_is_missing bounces &&
	test "$(ls Q/failed | wc -l)" = 1 && nothing_queued
'

test_expect_success 'past its lifetime, a deferred message is returned (4.4.7)' '
	reset && echo 75 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$T0 qr -L 1000 -b bounces 2>err &&
	test "$(ls Q/info | wc -l)" = 1 &&
	NYMBOX_NOW=$((T0 + 1000)) qr -L 1000 -b bounces 2>err &&
	nothing_queued &&
	./dsn bounces/new/* >got &&
	grep "^recipient rfc822; bob@bob.i2p failed 4.4.7\$" got &&
	grep "no delivery within 1000 s, after 2 attempts" bounces/new/*
'

test_expect_success 'the default lifetime is 5 days' '
	reset && echo 75 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$((T0 + 431999)) qr -b bounces 2>err &&
	test_path_is_missing bounces &&
	NYMBOX_NOW=$((T0 + 432298)) qr -b bounces 2>err &&
	test_path_is_missing bounces &&
	NYMBOX_NOW=$((T0 + 432299)) qr -b bounces 2>err &&
	test "$(ls bounces/new | wc -l)" = 1
'

test_expect_success 'sam-deliver takes the envelope: a down SAM bridge defers' '
	reset &&
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- \
	    sam-deliver -S 127.0.0.1:1 -w 2 &&
	id=$(onlyid) &&
	NYMBOX_NOW=$T0 qr 2>err &&
	cat err &&
	test "$(field $id lastcode)" = 75 &&
	test_grep -v usage err
'

test_expect_success '-l says nothing of the contents; -d deletes' '
	reset &&
	NYMBOX_NOW=$T0 dq -m defer -r 100-100 bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	qr -l >list &&
	echo "$id defer 2023-11-15T00:01:40Z 0 bob@bob.i2p $(wc -c <msg)" >want &&
	test_cmp want list &&
	qr -d $id &&
	nothing_queued &&
	qr -l >list && test_must_be_empty list &&
	test_expect_code 64 qr -d $id 2>err &&
	grep "unable to delete $id: no such message" err &&
	test_expect_code 64 qr -d ../../etc &&
	test_expect_code 64 qr -l -d $id
'

test_expect_success 'a damaged record: left alone, the others sent, exit 75' '
	reset &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	bad=$(ls Q/mess | head -n1) &&
	sed -i "s/^due .*/due soon/" Q/mess/$bad &&
	test_expect_code 75 env NYMBOX_NOW=$T0 queue-run -q Q 2>err &&
	grep "unable to read Q/mess/$bad: damaged" err &&
	test "$(ls out/*.msg | wc -l)" = 1 &&
	test "$(ls Q/mess)" = $bad &&
	test_expect_code 75 env NYMBOX_NOW=$T0 queue-run -q Q -l 2>err &&
	grep "unable to read Q/mess/$bad: damaged" err &&
	reset &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	echo 75 >code && id=$(onlyid) && NYMBOX_NOW=$T0 qr 2>err &&
	sed -i "s/^due .*/due soon/" Q/info/$id &&
	test_expect_code 75 env NYMBOX_NOW=$((T0 + 300)) queue-run -q Q 2>err &&
	grep "unable to read Q/info/$id: damaged" err &&
	test_path_is_file Q/mess/$id
'

test_expect_success 'leftovers: tmp/ files after 36 hours, records without a message' '
	reset &&
	NYMBOX_NOW=$T0 dq -m defer bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	echo half >Q/tmp/old && touch -d "37 hours ago" Q/tmp/old &&
	echo half >Q/tmp/new && touch -d "35 hours ago" Q/tmp/new &&
	rec $id | sed "s/^id .*/id 0123456789abcdef/" >Q/info/0123456789abcdef &&
	touch -d "37 hours ago" Q/mess/$id &&
	NYMBOX_NOW=$T0 qr &&
	test_path_is_missing Q/tmp/old && test_path_is_file Q/tmp/new &&
	test_path_is_missing Q/info/0123456789abcdef &&
	test_path_is_file Q/mess/$id &&
	test "$(field $id attempts)" = 0
'

test_expect_success 'usage errors' '
	test_expect_code 64 queue-run -x 2>err &&
	grep "^usage: queue-run" err &&
	test_expect_code 64 queue-run -m later &&
	test_expect_code 64 queue-run -T 0 &&
	test_expect_code 64 queue-run extra &&
	test_expect_code 64 env NYMBOX_NOW=x queue-run -q Q
'

test_done
