#!/bin/sh
# queue-run for the person who runs the queue: -l says why each message
# waits or failed (the last line of the command's standard error, never
# its standard output, which may carry the message) and when it is tried
# next; -r delivers one message now; -R queues a failed one again; both
# under the queue's lock, with clear errors for IDs that name nothing.
# A requeue cut short by a crash loses nothing and sends nothing twice.
# Bounces go to one place whether queue-run runs with cron's environment
# or a login shell's.
cd "$(dirname "$0")" && . ./lib.sh

command -v queue-run >/dev/null || test_skip_all "queue-run is not built"

T0=1700006400		# 2023-11-15 00:00:00 UTC
QR=$(command -v queue-run)

cat >msg <<-\EOF
From: Alice <alice@alice.i2p>
To: Bob <bob@bob.i2p>
Subject: the secret plan

Meet at noon.
EOF

# deliver [ARGS...]: keeps its standard input as out/N.msg, says why on
# standard error, then writes the message to its standard output, and exits
# with the number in the file "code" (0 if there is none).  N counts
# arrivals under a lock, as queue-run runs several at once.
write_script deliver <<-EOF
mkdir -p "$TRASH/out" && exec 9>"$TRASH/out.lock" && flock 9 || exit 75
n=\$(ls "$TRASH/out" 2>/dev/null | wc -l)
cat >"$TRASH/out/\$n.msg" || exit 75
exec 9>&-
code=\$(cat "$TRASH/code" 2>/dev/null || echo 0)
test "\$code" = 0 || printf 'deliver: unable to deliver to bob@bob.i2p:\r\n  550 no\001 such user\n\n' >&2
cat "$TRASH/out/\$n.msg"
exit \$code
EOF

. "$TOP/t/helpers/queue-lib.sh"

sent() {
	ls out 2>/dev/null | wc -l
}

test_expect_success '-l: the last error and the next attempt of a waiting message' '
	echo 75 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$T0 qr 2>err &&
	qr -l >list &&
	echo "$id now 2023-11-15T00:05:00Z 1 bob@bob.i2p $(wc -c <msg) ./deliver exited with 75:   550 no? such user" >want &&
	test_cmp want list &&
	test "$(field $id error)" = "./deliver exited with 75:   550 no? such user"
'

test_expect_success '-l shows nothing the command wrote on its standard output' '
	test_grep -v "secret\|noon" list &&
	test_grep -v "secret\|noon" Q/info/*
'

test_expect_success '-l: a failed message, with its error, kept in failinfo/' '
	echo 67 >code &&
	NYMBOX_NOW=$((T0 + 300)) qr -b bounces 2>err &&
	test_path_is_file Q/failed/$id &&
	test "$(sed -n "s/^state //p" Q/failinfo/$id)" = failed &&
	qr -l >list &&
	echo "$id now failed 2 bob@bob.i2p $(wc -c <msg) ./deliver exited with 67:   550 no? such user" >want &&
	test_cmp want list
'

test_expect_success '-l: a long error is cut to its bound, one line' '
	reset &&
	write_script talk <<-\EOF &&
	cat >/dev/null; printf "%0900d\n" 7 >&2; exit 75
	EOF
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./talk &&
	NYMBOX_NOW=$T0 qr 2>err &&
	qr -l >list &&
	test_line_count = 1 list &&
	test "$(wc -c <list)" -lt 500 &&
	grep " ./talk exited with 75: 0000" list
'

test_expect_success '-R: back in the queue, attempts and error cleared, a new lifetime' '
	reset && echo 67 >code &&
	NYMBOX_NOW=$T0 dq -m defer -r 600-600 bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$((T0 + 600)) qr -b bounces 2>err &&
	test_path_is_file Q/failed/$id &&
	rm code &&
	NYMBOX_NOW=$((T0 + 900000)) qr -R $id 2>err &&
	test_must_be_empty err &&
	test_path_is_missing Q/failed/$id &&
	test_path_is_missing Q/failinfo/$id &&
	test "$(onlyid)" = $id &&
	test "$(field $id attempts)" = 0 &&
	test "$(field $id error)" = "" &&
	test "$(field $id state)" = queued &&
	test "$(field $id queued)" = $((T0 + 900000)) &&
	test "$(field $id due)" = $((T0 + 900000)) &&
	sed "1,/^\$/d" Q/mess/$id >body && test_cmp msg body &&
	NYMBOX_NOW=$((T0 + 900000)) qr 2>err &&
	test_must_be_empty err &&
	test "$(sent)" = 2 && test -z "$(ls Q/mess)"
'

test_expect_success '-R: a batch message waits for the next batch time' '
	reset && echo 67 >code &&
	NYMBOX_NOW=$T0 dq -m batch bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$((T0 + 43200)) qr -b bounces 2>err &&
	NYMBOX_NOW=$((T0 + 50000)) qr -R $id &&
	test "$(field $id due)" = $((T0 + 86400))
'

test_expect_success '-r: delivered now, whatever its due time or mode' '
	reset &&
	NYMBOX_NOW=$T0 dq -m batch bob@bob.i2p -- ./deliver &&
	NYMBOX_NOW=$T0 dq -m defer -r 5000-5000 bob@bob.i2p -- ./deliver &&
	a=$(grep -l "^mode batch" Q/mess/* | xargs basename) &&
	b=$(grep -l "^mode defer" Q/mess/* | xargs basename) &&
	NYMBOX_NOW=$((T0 + 10)) qr -r $a 2>err &&
	test_must_be_empty err &&
	test "$(sent)" = 1 && test "$(ls Q/mess)" = $b &&
	grep "^Date: Wed, 15 Nov 2023 00:00:10 +0000" out/0.msg
'

test_expect_success '-r: a temporary failure is recorded as in a run' '
	echo 75 >code &&
	NYMBOX_NOW=$((T0 + 20)) qr -r $b 2>err &&
	grep "unable to deliver message $b: .*next attempt at 2023-11-15T00:05:20Z" err &&
	test "$(field $b attempts)" = 1 &&
	test "$(field $b due)" = $((T0 + 320))
'

test_expect_success '-R then -r in one command: requeued and sent at once' '
	reset && echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m defer -r 100-100 bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$((T0 + 100)) qr -b bounces 2>err &&
	rm code &&
	NYMBOX_NOW=$((T0 + 200)) qr -R $id -r $id 2>err &&
	test_must_be_empty err &&
	test "$(sent)" = 2 &&
	test -z "$(find Q/mess Q/failed Q/failinfo Q/info -type f)"
'

test_expect_success 'IDs that name nothing: 64, and what there is instead' '
	reset && echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	f=$(onlyid) &&
	NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	NYMBOX_NOW=$T0 dq -m defer bob@bob.i2p -- ./deliver &&
	q=$(onlyid) &&
	test_expect_code 64 qr -r 0123456789abcdef 2>err &&
	test "$(cat err)" = "queue-run: unable to retry 0123456789abcdef: no such message" &&
	test_expect_code 64 qr -R 0123456789abcdef 2>err &&
	test "$(cat err)" = "queue-run: unable to requeue 0123456789abcdef: no such message in Q/failed" &&
	test_expect_code 64 qr -r $f 2>err &&
	test "$(cat err)" = "queue-run: unable to retry $f: it failed (in Q/failed); queue it again with -R" &&
	test_expect_code 64 qr -R $q 2>err &&
	test "$(cat err)" = "queue-run: unable to requeue $q: it is queued, not failed; retry it with -r" &&
	test_expect_code 64 qr -d $f 2>err &&
	test_expect_code 64 qr -r nothex 2>err &&
	grep "unable to use ID nothex" err &&
	test_expect_code 64 qr -l -r $q &&
	test_expect_code 64 qr -d $q -R $f &&
	test_expect_code 64 qr -m now -r $q &&
	test "$(sent)" = 1 && test_path_is_file Q/failed/$f
'

test_expect_success '-R of a message failed without a record: 65, nothing changed' '
	rm Q/failinfo/$f &&
	test_expect_code 65 qr -R $f 2>err &&
	grep "unable to requeue $f: it has no record .*send Q/failed/$f again by hand" err &&
	test_path_is_file Q/failed/$f &&
	qr -l >list &&
	grep "^$f - failed - - $(wc -c <msg)\$" list
'

test_expect_success 'a requeue cut short before its unlinks: the next run sends once' '
	reset && echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	cp Q/failed/$id f.msg && cp Q/failinfo/$id f.rec &&
	rm code && NYMBOX_NOW=$T0 qr -R $id &&
	cp f.msg Q/failed/$id && cp f.rec Q/failinfo/$id &&
	NYMBOX_NOW=$T0 qr 2>err &&
	test_must_be_empty err &&
	test "$(sent)" = 2 &&
	test -z "$(find Q/mess Q/failed Q/failinfo -type f)"
'

test_expect_success '... and -R run again finishes it instead of queueing twice' '
	echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	cp Q/failed/$id f.msg && cp Q/failinfo/$id f.rec &&
	NYMBOX_NOW=$T0 qr -R $id &&
	cp f.msg Q/failed/$id && cp f.rec Q/failinfo/$id &&
	NYMBOX_NOW=$T0 qr -R $id 2>err &&
	test_must_be_empty err &&
	test "$(onlyid)" = $id &&
	test -z "$(find Q/failed Q/failinfo -type f)"
'

test_expect_success 'a move aside cut short: -R refuses (75), the run finishes it' '
	reset && echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	cp -r Q Q.before &&
	NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	cp Q/failed/$id failed.msg && cp Q/failinfo/$id failinfo.rec &&
	sed "s/^state failed/state bounce/" failinfo.rec >Q/info/$id &&
	cp Q.before/mess/$id Q/mess/$id &&
	test_expect_code 75 qr -R $id 2>err &&
	grep "unable to requeue $id: it is being returned" err &&
	test_cmp failed.msg Q/failed/$id &&
	NYMBOX_NOW=$T0 qr -b bounces 2>err &&
	test "$(ls bounces/new | wc -l)" = 2 &&
	test "$(sent)" = 1 &&
	test -z "$(find Q/mess Q/info -type f)" &&
	test_path_is_file Q/failinfo/$id
'

test_expect_success 'a record in failinfo/ whose message was removed by hand goes' '
	rm Q/failed/$id &&
	NYMBOX_NOW=$T0 qr &&
	test_path_is_missing Q/failinfo/$id
'

test_expect_success '-r waits for a run in progress, then delivers' '
	reset &&
	write_script slow <<-EOF &&
	cat >/dev/null && echo 1 >"$TRASH/started"
	i=0
	while ! test -e "$TRASH/go" && test \$i -lt 300; do sleep 0.1; i=\$((i + 1)); done
	echo x >>"$TRASH/slow.runs"
	EOF
	rm -f started go slow.runs &&
	NYMBOX_NOW=$T0 dq -m now bob@bob.i2p -- ./slow &&
	NYMBOX_NOW=$T0 dq -m defer -r 900-900 bob@bob.i2p -- ./deliver &&
	b=$(grep -l "^arg ./deliver" Q/mess/* | xargs basename) &&
	{ NYMBOX_NOW=$T0 queue-run -q Q & echo $! >run.pid; } &&
	test_when_finished "kill \$(cat run.pid) \$(cat r.pid) 2>/dev/null; : >go" &&
	test_wait_for started &&
	{ NYMBOX_NOW=$T0 queue-run -q Q -r $b 2>rerr & echo $! >r.pid; } &&
	NYMBOX_NOW=$T0 qr 2>err &&
	test "$(sent)" = 0 &&
	: >go &&
	wait $(cat run.pid) &&
	wait $(cat r.pid) &&
	test_must_be_empty rerr &&
	test "$(sent)" = 1 && test "$(wc -l <slow.runs)" = 1 &&
	test -z "$(ls Q/mess)"
'

command -v python3 >/dev/null && test_set_prereq PYTHON

test_expect_success 'an mbox bounce: under mbox.lock, a stale one removed' '
	reset && rm -rf box && mkdir box &&
	printf "bounce-mbox = %s/box/mbox\n" "$TRASH" >conf &&
	echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- ./deliver &&
	echo 99999 >box/mbox.lock && touch -d "10 minutes ago" box/mbox.lock &&
	NYMBOX_CONF=$TRASH/conf NYMBOX_NOW=$T0 qr 2>err &&
	test "$(grep -c "^From MAILER-DAEMON " box/mbox)" = 1 &&
	test "$(ls box)" = mbox
'

test_expect_success 'an mbox bounce waits for a fresh mbox.lock' '
	echo 1 >box/mbox.lock &&
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	{ NYMBOX_CONF=$TRASH/conf NYMBOX_NOW=$T0 queue-run -q Q 2>err & echo $! >run.pid; } &&
	test_when_finished "kill \$(cat run.pid) 2>/dev/null || :" &&
	test_wait_for Q/info/$id &&
	grep "^state bounce" Q/info/$id &&
	test "$(grep -c "^From MAILER-DAEMON " box/mbox)" = 1 &&
	rm box/mbox.lock &&
	wait $(cat run.pid) &&
	test "$(grep -c "^From MAILER-DAEMON " box/mbox)" = 2 &&
	test "$(ls box)" = mbox
'

test_expect_success PYTHON 'an mbox bounce waits for another program'"'"'s fcntl lock' '
	test_path_is_missing box/mbox.lock &&
	mkfifo hold &&
	{ fcntl-hold box/mbox held <hold & echo $! >holder.pid; } &&
	exec 9>hold &&
	test_when_finished "exec 9>&-; kill \$(cat holder.pid) \$(cat run.pid) 2>/dev/null; :" &&
	test_wait_for held &&
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- ./deliver &&
	id=$(onlyid) &&
	{ (exec 9>&- && NYMBOX_CONF=$TRASH/conf NYMBOX_NOW=$T0 exec queue-run -q Q \
	    2>err) & echo $! >run.pid; } &&
	test_wait_for Q/info/$id &&
	grep "^state bounce" Q/info/$id &&
	test_wait_for box/mbox.lock &&
	test "$(grep -c "^From MAILER-DAEMON " box/mbox)" = 2 &&
	exec 9>&- && wait $(cat holder.pid) &&
	wait $(cat run.pid) &&
	test "$(grep -c "^From MAILER-DAEMON " box/mbox)" = 3 &&
	test "$(ls box)" = mbox
'

# kill -9 at every step that changes the queue: queue-run is stopped
# (killat, queue-lib.sh) before each of its opens, writes, syncs, links,
# renames and unlinks in turn.

test_expect_success STRACE 'kill -9 at each step of -R: never lost, never sent twice' '
	kills=0 &&
	for c in $CALLS; do
		n=1 &&
		while :; do
			reset && echo 65 >code &&
			NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- ./deliver &&
			id=$(onlyid) &&
			NYMBOX_NOW=$T0 qr -b bounces 2>/dev/null &&
			rm code || return 1
			NYMBOX_NOW=$T0 killat $c $n queue-run -q Q -R $id 2>/dev/null
			rc=$?
			test $rc = 0 || test $rc = 137 ||
			    { echo "$c #$n: exit $rc"; return 1; }
			test -f Q/failed/$id || test -f Q/mess/$id ||
			    { echo "$c #$n: lost"; return 1; }
			if test -f Q/failed/$id; then
				NYMBOX_NOW=$T0 qr -R $id ||
				    { echo "$c #$n: -R again: $?"; return 1; }
			fi
			# The record of a kill between the two unlinks of
			# failed/id and failinfo/id goes with the run after
			# the delivery.
			NYMBOX_NOW=$T0 qr && NYMBOX_NOW=$T0 qr || return 1
			test "$(ls out | wc -l)" = 2 ||
			    { echo "$c #$n: $(ls out | wc -l) attempts"; return 1; }
			test -z "$(find Q/mess Q/info Q/failed Q/failinfo -type f)" ||
			    { echo "$c #$n: left"; find Q -type f; return 1; }
			test $rc = 137 || break
			kills=$((kills + 1)) n=$((n + 1))
		done || return 1
	done &&
	echo "$kills kills" &&
	test $kills -ge 10
'

test_expect_success STRACE 'kill -9 at each step of a move aside: it ends moved aside, with its record' '
	kills=0 &&
	for c in $CALLS; do
		n=1 &&
		while :; do
			reset && echo 65 >code &&
			NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- ./deliver &&
			id=$(onlyid) || return 1
			NYMBOX_NOW=$T0 killat $c $n queue-run -q Q -b bounces 2>/dev/null
			rc=$?
			test $rc = 0 || test $rc = 137 || test $rc = 75 ||
			    { echo "$c #$n: exit $rc"; return 1; }
			test -f Q/failed/$id || test -f Q/mess/$id ||
			    { echo "$c #$n: lost"; return 1; }
			NYMBOX_NOW=$T0 qr -b bounces 2>/dev/null || return 1
			test -z "$(find Q/mess Q/info -type f)" &&
			test_cmp msg Q/failed/$id &&
			test "$(sed -n "s/^state //p" Q/failinfo/$id)" = failed &&
			b=$(find bounces/new -type f | wc -l) &&
			test $b -ge 1 && test $b -le 2 &&
			qr -l | grep "^$id now failed .* exited with 65:   550 no? such user\$" \
			    >/dev/null ||
			    { echo "$c #$n: not moved aside"; find Q -type f; return 1; }
			test $rc = 137 || break
			kills=$((kills + 1)) n=$((n + 1))
		done || return 1
	done &&
	echo "$kills kills" &&
	test $kills -ge 10
'

# The two environments queue-run meets: cron's (crontab(5): HOME, LOGNAME,
# SHELL and a short PATH, nothing else) and a login shell's.
as_cron() {
	env -i HOME="$HOME" LOGNAME="$(id -un)" PATH=/usr/bin:/bin \
	    SHELL=/bin/sh NYMBOX_NOW=$T0 "$@"
}

as_shell() {
	env -i HOME="$HOME" LOGNAME="$(id -un)" USER="$(id -un)" \
	    PATH="$PATH" SHELL=/bin/bash TERM=xterm LANG=C.UTF-8 \
	    MAIL="$TRASH/shell-mbox" PWD="$PWD" NYMBOX_NOW=$T0 "$@"
}

fail_one() {
	echo 65 >code &&
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- "$TRASH/deliver"
}

test_expect_success 'bounces: cron and a shell both use ~/Maildir when it exists' '
	reset && mkdir -p "$HOME/Maildir" &&
	test_when_finished "rm -rf \"\$HOME/Maildir\"" &&
	fail_one && as_cron "$QR" -q "$TRASH/Q" 2>err &&
	test "$(ls "$HOME/Maildir/new" | wc -l)" = 1 &&
	fail_one && as_shell "$QR" -q "$TRASH/Q" 2>err &&
	test "$(ls "$HOME/Maildir/new" | wc -l)" = 2 &&
	test_path_is_missing shell-mbox
'

# The system mailbox is /var/mail: in a mount namespace of its own, with
# an empty directory in its place, so that the test writes nothing there.
if unshare -m --propagation private true 2>/dev/null; then
	test_set_prereq MOUNTNS
fi

in_spool() {
	unshare -m --propagation private sh -c \
	    'mount --bind "$1" /var/mail && shift && exec "$@"' sh \
	    "$TRASH/spool" "$@"
}

test_expect_success MOUNTNS 'bounces: without ~/Maildir, /var/mail/USER from cron and a shell' '
	reset && rm -rf spool && mkdir spool &&
	fail_one && in_spool env -i HOME="$HOME" LOGNAME="$(id -un)" \
	    PATH=/usr/bin:/bin SHELL=/bin/sh NYMBOX_NOW=$T0 \
	    "$QR" -q "$TRASH/Q" 2>err &&
	test "$(grep -c "^From MAILER-DAEMON " spool/$(id -un))" = 1 &&
	fail_one && in_spool env -i HOME="$HOME" LOGNAME="$(id -un)" \
	    USER="$(id -un)" PATH="$PATH" SHELL=/bin/bash \
	    MAIL="$TRASH/shell-mbox" NYMBOX_NOW=$T0 \
	    "$QR" -q "$TRASH/Q" 2>err &&
	test "$(grep -c "^From MAILER-DAEMON " spool/$(id -un))" = 2 &&
	grep -c "^Final-Recipient: rfc822; bob@bob.i2p" spool/$(id -un) >n &&
	test "$(cat n)" = 2 &&
	test_path_is_missing shell-mbox &&
	test "$(ls spool)" = "$(id -un)"
'

test_done
