#!/bin/sh
# nymbox-sendmail driven the way mutt, git send-email, cron and mailx
# drive sendmail, with a stub delay-queue that records its arguments and
# the message it was given: options, the sender and identity, recipients,
# the configured chain and what happens when a part of it fails.
cd "$(dirname "$0")" && . ./lib.sh

# The stub delay-queue (and queue-run) record their arguments, one per
# line, and what they read; they exit with the number in $STUB/exit.
STUB=$TRASH/stub
mkdir -p "$STUB"
write_script "$STUB/delay-queue" <<EOF
printf '%s\n' "\$@" >"$STUB/argv"
cat >"$STUB/msg"
exit \$(cat "$STUB/exit" 2>/dev/null || echo 0)
EOF
write_script "$STUB/queue-run" <<EOF
printf '%s\n' queue-run "\$@" >"$STUB/argv"
EOF
PATH=$STUB:$PATH
export PATH

# reset: no recorded run, delay-queue succeeds.
reset() {
	rm -f "$STUB/argv" "$STUB/msg" "$STUB/exit"
}

# args WORD...: the recorded arguments must be exactly these.
args() {
	printf '%s\n' "$@" >want.args &&
	test_cmp want.args "$STUB/argv"
}

ns() {
	test_timeout 30 nymbox-sendmail "$@"
}

cat >msg <<'EOF'
From: Alice <alice@a.i2p>
To: Bob <bob@b.i2p>
Cc: carol@c.i2p
Subject: hello
User-Agent: Mutt/2.2.12 (2023-09-09)

one
.
two
EOF

test_expect_success 'mutt: -oem -oi -B8BITMIME -f -N -R -- recipients' '
	reset &&
	ns -oem -oi -B8BITMIME -f alice@a.i2p -N failure,delay -R hdrs -- \
	    bob@b.i2p carol@c.i2p dave@d.i2p <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p carol@c.i2p dave@d.i2p
'

test_expect_success 'the message went through scrub-headers, the dot kept (-oi)' '
	test_grep "^Subject: hello" "$STUB/msg" &&
	test_grep -v "^User-Agent" "$STUB/msg" &&
	test_grep -x "two" "$STUB/msg"
'

test_expect_success 'real mutt in batch mode' '
	if ! command -v mutt >/dev/null; then
		echo "mutt is not installed: skipped" && return 0
	fi &&
	reset &&
	cat >muttrc <<-EOF &&
	set sendmail="nymbox-sendmail -oem -oi"
	set from="Alice <alice@a.i2p>"
	set use_envelope_from=yes
	set record=""
	EOF
	echo body | test_timeout 30 mutt -n -F muttrc -s hi -c carol@c.i2p \
	    -b dave@d.i2p bob@b.i2p &&
	args -m defer -f alice@a.i2p bob@b.i2p carol@c.i2p dave@d.i2p &&
	test_grep "^Subject: hi" "$STUB/msg"
'

test_expect_success 'git send-email: -i -f sender recipients' '
	reset &&
	ns -f alice@a.i2p -i bob@b.i2p carol@c.i2p <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p carol@c.i2p
'

test_expect_success 'real git send-email --sendmail-cmd' '
	if ! test -x "$(git --exec-path)/git-send-email"; then
		echo "git send-email is not installed: skipped" && return 0
	fi &&
	reset &&
	printf "From 1 Mon Sep 17 00:00:00 2001\nFrom: Alice <alice@a.i2p>\nSubject: [PATCH] x\n\nfix\n---\n f | 1 +\n" >p.patch &&
	GIT_COMMITTER_NAME=Alice GIT_COMMITTER_EMAIL=alice@a.i2p \
	GIT_AUTHOR_NAME=Alice GIT_AUTHOR_EMAIL=alice@a.i2p \
	test_timeout 60 git send-email --sendmail-cmd=nymbox-sendmail \
	    --to=bob@b.i2p --cc=carol@c.i2p --bcc=dave@d.i2p \
	    --from="Alice <alice@a.i2p>" --envelope-sender=auto \
	    --confirm=never --suppress-cc=all --no-validate p.patch &&
	args -m defer -f alice@a.i2p bob@b.i2p carol@c.i2p dave@d.i2p &&
	test_grep "^Subject: \[PATCH\] x" "$STUB/msg"
'

# Debian's cron: PATH=/usr/bin:/bin, its own From: without a domain, the
# sender from the configuration.  delay-queue is found next to the
# program (here a copy of it beside the stub).
test_expect_success 'cron: -FCronDaemon -i -B8BITMIME -oem user, PATH=/usr/bin:/bin' '
	reset &&
	mkdir -p cronbin &&
	cp "$(command -v nymbox-sendmail)" "$STUB/delay-queue" cronbin/ &&
	printf "sender = alice@a.i2p\nchain =\n" >cron.conf &&
	printf "From: root (Cron Daemon)\nTo: alice@a.i2p\nSubject: Cron <alice@host> ls\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nX-Cron-Env: <PATH=/usr/bin:/bin>\n\nout\n" >cron.msg &&
	env -i PATH=/usr/bin:/bin HOME="$HOME" NYMBOX_CONF="$TRASH/cron.conf" \
	    ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} \
	    ./cronbin/nymbox-sendmail -FCronDaemon -i -B8BITMIME -oem \
	    alice@a.i2p <cron.msg &&
	args -m defer -f alice@a.i2p alice@a.i2p &&
	test_cmp cron.msg "$STUB/msg"
'

test_expect_success 'cron without a configured sender: From: root has no domain (75)' '
	reset &&
	test_expect_code 75 ns -FCronDaemon -i -B8BITMIME -oem alice@a.i2p \
	    <cron.msg 2>err &&
	test_grep "unable to use sender root" err &&
	test_path_is_missing "$STUB/argv"
'

test_expect_success 'mailx: -r sender -i -v -- recipient' '
	reset &&
	ns -r alice@a.i2p -i -v -- bob@b.i2p <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p
'

test_expect_success 'anacron and atd: -FAnacron -odi root@..., -i user' '
	reset &&
	ns -FAnacron -odi -f alice@a.i2p bob@b.i2p <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p &&
	reset &&
	ns -i bob@b.i2p <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p
'

test_expect_success 'without -i, a line of one dot ends the message' '
	reset &&
	ns -f alice@a.i2p -O chain= bob@b.i2p <msg &&
	test_grep -x "one" "$STUB/msg" &&
	test_grep -v "^\.\$" "$STUB/msg" &&
	test_grep -v -x "two" "$STUB/msg"
'

test_expect_success 'with -i or -O IgnoreDots=true it does not' '
	reset &&
	ns -i -f alice@a.i2p -O chain= bob@b.i2p <msg &&
	test_cmp msg "$STUB/msg" &&
	reset &&
	ns -O IgnoreDots=true -f alice@a.i2p -O chain= bob@b.i2p <msg &&
	test_cmp msg "$STUB/msg"
'

test_expect_success '-t: To, Cc and Bcc, plus the arguments, once each; Bcc handed on' '
	reset &&
	printf "From: alice@a.i2p\nTo: Bob <bob@b.i2p>, carol@c.i2p\nCc: undisclosed-recipients:;\nBcc: dave@d.i2p,\n  bob@b.i2p\nSubject: x\n\nhi\n" >t.msg &&
	ns -t -O chain= eve@e.i2p <t.msg &&
	args -m defer -f alice@a.i2p eve@e.i2p bob@b.i2p carol@c.i2p dave@d.i2p &&
	test_grep "^Bcc: dave@d.i2p" "$STUB/msg" &&
	test_cmp t.msg "$STUB/msg"
'

test_expect_success '-t with no recipients in the header: 65, nothing queued' '
	reset &&
	printf "From: alice@a.i2p\nSubject: x\n\nhi\n" >none.msg &&
	test_expect_code 65 ns -t <none.msg 2>err &&
	test_grep "no recipients" err &&
	test_path_is_missing "$STUB/argv" &&
	test_expect_code 64 ns <none.msg
'

test_expect_success 'the sender: -f, else the configured one, else From:' '
	reset &&
	ns -O chain= bob@b.i2p <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p &&
	echo "sender = zed@z.i2p" >conf &&
	reset && NYMBOX_CONF=$TRASH/conf ns -O chain= bob@b.i2p <msg &&
	args -m defer -f zed@z.i2p bob@b.i2p &&
	reset && NYMBOX_CONF=$TRASH/conf ns -f "Al <al@l.i2p>" -O chain= \
	    bob@b.i2p <msg &&
	args -m defer -f al@l.i2p bob@b.i2p
'

test_expect_success '-F names the From: it adds when there is none' '
	reset &&
	printf "To: bob@b.i2p\nSubject: x\n\nhi\n" >nofrom.msg &&
	ns -f alice@a.i2p -F "Alice \"A\" Liddell" -O chain= bob@b.i2p \
	    <nofrom.msg &&
	printf "From: \"Alice \\\\\"A\\\\\" Liddell\" <alice@a.i2p>\nTo: bob@b.i2p\nSubject: x\n\nhi\n" >want &&
	test_cmp want "$STUB/msg" &&
	reset &&
	ns -f alice@a.i2p -F "Zoë" -O chain= bob@b.i2p <nofrom.msg &&
	test_grep "^From: =?UTF-8?Q?Zo=C3=AB?=\$" "$STUB/msg" &&
	test_grep "^ <alice@a.i2p>\$" "$STUB/msg" &&
	reset &&
	ns -f other@o.i2p -F Other -O chain= bob@b.i2p <msg &&
	test "$(grep -c "^From:" "$STUB/msg")" = 1 && test_grep "^From: Alice <alice@a.i2p>" "$STUB/msg"
'

test_expect_success 'a long name that is not UTF-8: folded encoded words' '
	reset &&
	name=$(python3 -c "import sys; sys.stdout.buffer.write(b\"\\x80\" * 200)") &&
	ns -f alice@a.i2p -F "$name" -O chain= bob@b.i2p <nofrom.msg &&
	test "$(grep -c "^ =?UTF-8?Q?\(=80\)*?=" "$STUB/msg")" -gt 2 &&
	test_grep "^ <alice@a.i2p>\$" "$STUB/msg" &&
	! awk "length > 78" "$STUB/msg" | grep .
'

test_expect_success 'CRLF in, CRLF From: added' '
	reset &&
	printf "To: bob@b.i2p\r\nSubject: x\r\n\r\nhi\r\n" >crlf.msg &&
	ns -f alice@a.i2p -O chain= bob@b.i2p <crlf.msg &&
	printf "From: alice@a.i2p\r\nTo: bob@b.i2p\r\nSubject: x\r\n\r\nhi\r\n" >want &&
	test_cmp want "$STUB/msg"
'

test_expect_success 'no sender at all: 64' '
	reset &&
	test_expect_code 64 ns bob@b.i2p <nofrom.msg 2>err &&
	test_grep "unable to find the sender" err
'

cat >ident.conf <<'EOF'
# one identity may not look like another
mode = defer
chain = scrub-headers
[alice@a.i2p]
mode = now
delivery = smtp-submit -u alice@a.i2p -P /home/a/pass
[Bob@B.i2p]
mode = batch
queue = /var/spool/bob
chain = cat
EOF

test_expect_success 'per-identity settings: mode, delivery, queue, chain' '
	reset &&
	NYMBOX_CONF=$TRASH/ident.conf ns -f alice@a.i2p bob@b.i2p <msg &&
	args -m now -f alice@a.i2p bob@b.i2p -- smtp-submit -u alice@a.i2p \
	    -P /home/a/pass &&
	test_grep -v "^User-Agent" "$STUB/msg" &&
	reset &&
	NYMBOX_CONF=$TRASH/ident.conf ns -i -f bob@b.i2p alice@a.i2p <msg &&
	args -m batch -q /var/spool/bob -f bob@b.i2p alice@a.i2p &&
	test_cmp msg "$STUB/msg" &&
	reset &&
	NYMBOX_CONF=$TRASH/ident.conf ns -f carol@c.i2p bob@b.i2p <msg &&
	args -m defer -f carol@c.i2p bob@b.i2p
'

test_expect_success '-C names the configuration; -O overrides it' '
	reset &&
	ns -C ident.conf -O mode=batch -O delivery="x -y" -f alice@a.i2p \
	    bob@b.i2p <msg &&
	args -m batch -f alice@a.i2p bob@b.i2p -- x -y
'

test_expect_success 'a bad mode is a configuration error (75: never a bounce)' '
	reset &&
	test_expect_code 75 ns -O mode=later -f alice@a.i2p bob@b.i2p <msg &&
	test_path_is_missing "$STUB/argv"
'

# A filter that reads part of the message, then fails.
write_script fail65 <<'EOF'
head -c 10 >/dev/null
echo "fail65: refusing" >&2
exit 65
EOF
write_script killed <<'EOF'
kill -9 $$
EOF

test_expect_success 'a failing filter: its exit code, nothing queued' '
	reset &&
	test_expect_code 65 ns -O chain="cat | $TRASH/fail65 | cat" \
	    -f alice@a.i2p bob@b.i2p <msg 2>err &&
	test_grep "fail65 failed (exit 65)" err &&
	test_path_is_missing "$STUB/argv" && test_path_is_missing "$STUB/msg"
'

test_expect_success 'a filter killed by a signal: 75, nothing queued' '
	reset &&
	test_expect_code 75 ns -O chain="$TRASH/killed" -f alice@a.i2p \
	    bob@b.i2p <msg 2>err &&
	test_grep "killed by signal 9" err &&
	test_path_is_missing "$STUB/argv"
'

test_expect_success 'a filter that cannot be run: 75, nothing queued' '
	reset &&
	test_expect_code 75 ns -O chain="scrub-headers | no-such-filter" \
	    -f alice@a.i2p bob@b.i2p <msg 2>err &&
	test_grep "unable to run no-such-filter" err &&
	test_path_is_missing "$STUB/argv"
'

test_expect_success 'a filter whose output never ends: 65 at the size limit' '
	reset &&
	test_expect_code 65 ns -O chain=yes -f alice@a.i2p bob@b.i2p \
	    <msg 2>err &&
	test_grep "output of yes is over" err &&
	test_path_is_missing "$STUB/argv"
'

test_expect_success 'an empty command in the chain: 75' '
	reset &&
	test_expect_code 75 ns -O "chain=cat ||cat" -f alice@a.i2p \
	    bob@b.i2p <msg
'

test_expect_success 'delay-queue exit codes are passed on (75, 65), others are 70' '
	reset && echo 75 >"$STUB/exit" &&
	test_expect_code 75 ns -f alice@a.i2p bob@b.i2p <msg &&
	echo 65 >"$STUB/exit" &&
	test_expect_code 65 ns -f alice@a.i2p bob@b.i2p <msg &&
	echo 74 >"$STUB/exit" &&
	test_expect_code 75 ns -f alice@a.i2p bob@b.i2p <msg &&
	echo 1 >"$STUB/exit" &&
	test_expect_code 70 ns -f alice@a.i2p bob@b.i2p <msg 2>err &&
	test_grep "delay-queue failed (exit 1)" err
'

test_expect_success 'no delay-queue anywhere: 75' '
	reset &&
	mkdir -p lone && cp "$(command -v nymbox-sendmail)" lone/ &&
	test_expect_code 75 env PATH=/usr/bin:/bin ./lone/nymbox-sendmail \
	    -O chain= -f alice@a.i2p bob@b.i2p <msg 2>err &&
	test_grep "unable to run delay-queue" err
'

test_expect_success 'recipients: lists, names, no domain (67), bad (64)' '
	reset &&
	ns -f alice@a.i2p "Bob <bob@b.i2p>, carol@c.i2p" <msg &&
	args -m defer -f alice@a.i2p bob@b.i2p carol@c.i2p &&
	test_expect_code 67 ns -f alice@a.i2p root <msg 2>err &&
	test_grep "no domain" err &&
	test_expect_code 64 ns -f alice@a.i2p "<bob@" <msg &&
	test_expect_code 64 ns -f alice@a.i2p -- "-x@b.i2p" <msg
'

test_expect_success '-bp lists and -q runs the queue (queue-run); -bi does nothing' '
	reset &&
	ns -bp && args queue-run -l &&
	reset && NYMBOX_CONF=$TRASH/ident.conf ns -q30m && args queue-run &&
	reset && ns -bi </dev/null && test_path_is_missing "$STUB/argv"
'

test_expect_success 'unsupported modes and unknown options: 64' '
	test_expect_code 64 ns -bs </dev/null &&
	test_expect_code 64 ns -Z bob@b.i2p </dev/null &&
	test_expect_code 64 ns -f </dev/null
'

test_expect_success 'a header over the limit: 65' '
	reset &&
	python3 -c "import sys
sys.stdout.write(\"From: a@a.i2p\nX: \" + \"x\" * 300000 + \"\n\n\")" >big &&
	test_expect_code 65 ns bob@b.i2p <big &&
	test_path_is_missing "$STUB/argv"
'

test_expect_success 'a message over 50 MB: 65, nothing queued' '
	reset &&
	{ cat msg && head -c 52500000 /dev/zero | tr "\\0" x; } >huge &&
	test_expect_code 65 ns -i -f alice@a.i2p bob@b.i2p <huge 2>err &&
	test_grep "over 52428800 bytes" err &&
	test_path_is_missing "$STUB/argv"
'

# With the real delay-queue and no delivery set, the delivery command
# follows the recipients' network; a message for both is refused.
ONION=duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion
test_expect_success 'no delivery set: onion-deliver for .onion, sam-deliver else' '
	reset &&
	printf "queue = %s/rq\nmode = now\n" "$TRASH" >rconf &&
	(
		PATH=${NYM_BIN:+$NYM_BIN:}$TOP/bin:$PATH &&
		NYMBOX_CONF=$TRASH/rconf &&
		export PATH NYMBOX_CONF &&
		ns -f alice@a.i2p "bob@$ONION" <msg &&
		ns -f alice@a.i2p bob@b.i2p <msg &&
		printf "From: alice@a.i2p\nTo: b@b.i2p, bob@%s\n\nx\n" "$ONION" >mixed &&
		test_expect_code 65 ns -t <mixed 2>err
	) &&
	test_path_is_missing "$STUB/argv" &&
	cat rq/mess/* >records &&
	test "$(grep -c "^arg onion-deliver\$" records)" = 1 &&
	test "$(grep -c "^arg sam-deliver\$" records)" = 1 &&
	test_grep "it has .onion and other recipients; send one message to each network" err &&
	test "$(ls rq/mess | wc -l)" = 2
'

test_done
