#!/bin/sh
# pop-fetch -s and smtp-submit -s reach the user's own servers from a
# client key of their own (one per login, never a mail domain's key),
# through the key's one shared session: runs one after another and the
# two programs of one account make one SESSION CREATE; two accounts get
# two keys and two sessions; the key is made here on first use (0600 in
# a 0700 directory, no DEST GENERATE) and reused; -K, -k and client-key
# name another; a bridge that is down is 75.  Against the fake SAM
# bridge, a real POP3 server (dovecot) and the scripted SMTP server.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers

CK=$HOME/.config/nymbox/client

# Run last first: the holders go before the bridge.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1'
test_atexit 'for p in sam.pid mx.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null; done; :'
test_atexit 'test_stop_holders "$CK" "$TRASH/keys"'

printf 'secret\n' >pw && chmod 600 pw
printf 'other\n' >pwb && chmod 600 pwb
printf 'From: alice@lab.test\nTo: bob@ext.test\nSubject: hi\n\nhello\n' >msg
mkdir -p "$HOME/.config/nymbox"
printf 'sam-gap = 1\n' >"$HOME/.config/nymbox/config"

msg() {
	printf 'From: a@example.org\nSubject: %s\n\nbody %s\n' "$1" "$1"
}

pf() {
	test_timeout 60 pop-fetch -s pop.i2p -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 10) "$@"
}

sx() {
	test_timeout 60 smtp-submit -s smtp.i2p -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 10) "$@" <msg
}

# Sessions the bridge made: all, and those of TRANSIENT destinations.
created() { grep -c " CREATED " sam.log; }
transient() { grep -c "SESSION CREATE.*DESTINATION=TRANSIENT" sam.log; }
# The b32 of every session made, one per line, in order.
b32s() { sed -n 's/^[0-9]* CREATED //p' sam.log; }

test_expect_success 'setup: dovecot with two users, an SMTP server, the bridge' '
	dovecot-lab start lab alice:secret bob:other &&
	{ "$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
	    --max-seconds $(test_scaled 300) --auth alice:secret &
	  echo $! >mx.pid; } &&
	test_wait_for mx.port &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) --route pop.i2p=$(cat lab/port) \
	    --route smtp.i2p=$(cat mx.port) </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid
'

test_expect_success 'pop-fetch -s: the login s client key is made here, 0600 in 0700' '
	msg one >m1 && dovecot-lab put lab alice m1 &&
	pf -u alice -P pw -d md &&
	test $(ls md/new | wc -l) = 1 &&
	test -f "$CK/alice.key" &&
	test "$(stat -c %a "$CK/alice.key")" = 600 &&
	test "$(stat -c %a "$CK")" = 700 &&
	! grep "DEST GENERATE" sam.log &&
	test "$(created)" = 1 && test "$(transient)" = 0 &&
	cp "$CK/alice.key" alice.key.first
'

test_expect_success 'a second pop-fetch -s and smtp-submit -s of the account: still one session' '
	msg two >m2 && dovecot-lab put lab alice m2 &&
	pf -u alice -P pw -d md &&
	test $(ls md/new | wc -l) = 2 &&
	sx -u alice -P pw -f alice@lab.test bob@ext.test &&
	test -f mx.mail/msg1 &&
	test_grep "STREAM CONNECT.*DESTINATION=smtp.i2p" sam.log &&
	test "$(created)" = 1 && test "$(transient)" = 0 &&
	test_cmp alice.key.first "$CK/alice.key" &&
	test "$(ls "$CK" | grep -c "\\.key\$")" = 1
'

test_expect_success 'another account: its own key, its own session' '
	msg three >m3 && dovecot-lab put lab bob m3 &&
	pf -u bob -P pwb -d mdb &&
	test $(ls mdb/new | wc -l) = 1 &&
	test -f "$CK/bob.key" && test "$(stat -c %a "$CK/bob.key")" = 600 &&
	! test_cmp "$CK/alice.key" "$CK/bob.key" &&
	test "$(created)" = 2 &&
	test "$(b32s | sort -u | wc -l)" = 2
'

test_expect_success 'a login name becomes a file name one to one' '
	test_expect_code 75 pop-fetch -s pop.i2p -S 127.0.0.1:1 -w 2 \
	    -u "../a/b%c" -P pw -d mdx 2>err &&
	test -f "$CK/%2E.%2Fa%2Fb%25c.key" &&
	test_expect_code 75 pop-fetch -s pop.i2p -S 127.0.0.1:1 -w 2 \
	    -u ".hidden" -P pw -d mdx 2>err &&
	test -f "$CK/%2Ehidden.key"
'

test_expect_success '-K and -k: a key of the user s choosing, shared by both' '
	n=$(created) &&
	msg four >m4 && dovecot-lab put lab alice m4 &&
	pf -K "$TRASH/keys/mine.key" -u alice -P pw -d md &&
	test $(ls md/new | wc -l) = 3 &&
	test "$(stat -c %a "$TRASH/keys/mine.key")" = 600 &&
	test "$(stat -c %a "$TRASH/keys")" = 700 &&
	test "$(created)" = $((n + 1)) &&
	sx -k "$TRASH/keys/mine.key" -u alice -P pw -f alice@lab.test bob@ext.test &&
	test -f mx.mail/msg2 &&
	test "$(created)" = $((n + 1))
'

test_expect_success 'client-key in the configuration, "~/" as HOME' '
	n=$(created) &&
	printf "sam-gap = 1\nclient-key = ~/conf.key\n" \
	    >"$HOME/.config/nymbox/config" &&
	msg five >m5 && dovecot-lab put lab alice m5 &&
	pf -u alice -P pw -d md &&
	test $(ls md/new | wc -l) = 4 &&
	test "$(stat -c %a "$HOME/conf.key")" = 600 &&
	sx -u alice -P pw -f alice@lab.test bob@ext.test &&
	test -f mx.mail/msg3 &&
	test "$(created)" = $((n + 1)) &&
	printf "sam-gap = 1\n" >"$HOME/.config/nymbox/config"
'

test_expect_success 'a key others can read is refused' '
	cp "$HOME/conf.key" loose.key && chmod 644 loose.key &&
	test_expect_code 78 pf -K "$TRASH/loose.key" -u alice -P pw -d md 2>err &&
	test_grep "unable to read the client key $TRASH/loose.key" err
'

test_expect_success 'the bridge down: 75 and a line that names it, from both' '
	test_expect_code 75 test_timeout 30 pop-fetch -s pop.i2p \
	    -S 127.0.0.1:1 -w 2 -K "$TRASH/keys/down.key" -u alice -P pw \
	    -d md 2>err &&
	test_line_count = 1 err &&
	test_grep "^pop-fetch: unable to reach the SAM bridge at 127.0.0.1:1 " err &&
	test_expect_code 75 test_timeout 30 smtp-submit -s smtp.i2p \
	    -S 127.0.0.1:1 -w 2 -k "$TRASH/keys/down2.key" -u alice -P pw \
	    -f alice@lab.test bob@ext.test <msg 2>err &&
	test_line_count = 1 err &&
	test_grep "^smtp-submit: unable to reach the SAM bridge at 127.0.0.1:1 " err
'

test_expect_success 'a session that does not come up: 75 and a line that names the bridge' '
	{ "$H/fake-sam" --port-file bad.port --pid-file bad.pid --garbage \
	    --max-seconds $(test_scaled 300) </dev/null & } &&
	test_wait_for bad.port && test_wait_for bad.pid &&
	test_when_finished "kill \$(cat bad.pid)" &&
	bad=127.0.0.1:$(cat bad.port) &&
	test_expect_code 75 test_timeout 30 pop-fetch -s pop.i2p -S "$bad" \
	    -w 2 -K "$TRASH/keys/bad.key" -u alice -P pw -d md 2>err &&
	test_line_count = 1 err &&
	test_grep "^pop-fetch: unable to create a session on the SAM bridge at $bad: " err &&
	test_expect_code 75 test_timeout 30 smtp-submit -s smtp.i2p -S "$bad" \
	    -w 2 -k "$TRASH/keys/bad2.key" -u alice -P pw \
	    -f alice@lab.test bob@ext.test <msg 2>err &&
	test_line_count = 1 err &&
	test_grep "^smtp-submit: unable to create a session on the SAM bridge at $bad: " err
'

test_done
