#!/bin/sh
# The demands a sender keeps, and the ones a recipient states (issue
# 14): pow-stamp -M prefers an address's kept demand to its domain's and
# ignores (and removes) a stale one; sam-deliver forgets a domain's
# demand when the EHLO names none and keeps the demand a refusal states
# for one address; smtp-receive takes a recipient's own demand from its
# sender list (sender-list demand), states it in the refusal and checks
# it, the EHLO keeping the server's, and spends no stamp of a message it
# refuses; queue-run re-stamps a message deferred for a stamp (the real
# smtp-receive -P -Q defer on 127.0.0.1 behind the fake SAM bridge) so
# that its next attempt carries it, and keeps one it cannot stamp in
# time with the reason in its record.
cd "$(dirname "$0")" && . ./lib.sh

command -v socat >/dev/null || test_skip_all "socat is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
test -x "${NYM_HELPERS:-$H}/samtool" && test_set_prereq SAM

D=$HOME/.config/nymbox/demands
mkdir -p "$HOME/.config/nymbox" &&
printf 'send-stamp = 1:4\nsam-gap = 0\n' >"$HOME/.config/nymbox/config" ||
	tl_bail_ "unable to write the configuration"

test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done; test_stop_holders "$HOME"/.config/nymbox/keys'

# st FILE: the stamps of FILE's header section, one a line.
st() {
	sed -n "/^\$/q; s/^X-Hashcash: //p" "$1"
}

printf 'From: a@a.i2p\nTo: bob@b.i2p, carol@b.i2p\n\nhi\n' >msg

test_expect_success 'pow-stamp -M: an address'"'"'s kept demand before its domain'"'"'s' '
	mkdir -p "$D" &&
	echo 1:6 >"$D/b.i2p" && echo 1:9 >"$D/bob@b.i2p" &&
	test_timeout 60 pow-stamp -M <msg >out &&
	st out >s && test_line_count = 2 s &&
	grep "^1:9:[0-9]*:bob@b.i2p:" s &&
	grep "^1:6:[0-9]*:carol@b.i2p:" s
'

test_expect_success 'a kept demand older than 30 days is not used, and removed' '
	touch -d "31 days ago" "$D/bob@b.i2p" &&
	touch -d "29 days ago" "$D/b.i2p" &&
	test_timeout 60 pow-stamp -M <msg >out &&
	st out >s &&
	grep "^1:6:[0-9]*:bob@b.i2p:" s &&
	test_path_is_missing "$D/bob@b.i2p" &&
	touch -d "31 days ago" "$D/b.i2p" &&
	test_timeout 60 pow-stamp -M <msg >out &&
	st out >s && grep "^1:4:[0-9]*:bob@b.i2p:" s &&
	test_path_is_missing "$D/b.i2p"
'

# A listener: smtp-receive under socat on 127.0.0.1 with the
# configuration $1 (name of the listener: $1.port, $1.pid).
listen() {
	{ NYMBOX_CONF=$TRASH/$1.conf socat -d -d \
	    TCP-LISTEN:0,bind=127.0.0.1,fork EXEC:smtp-receive \
	    2>$1.err & echo $! >$1.pid; } &&
	test_wait_until "grep -q \" listening on .*127\.0\.0\.1:[1-9]\" $1.err" &&
	sed -n "s/.* listening on .*127\.0\.0\.1:\([0-9]*\)\$/\1/p" $1.err >$1.port &&
	test_line_count = 1 $1.port
}

# send PORT FROM RCPTS [STAMP...]: one message with those X-Hashcash
# fields; exit 0 if taken, else 1 with the server's refusal on stderr.
send() { smtp-stamped "$@"; }
count() { find "$1"/new -type f 2>/dev/null | wc -l; }

test_expect_success 'setup: bob demands 1:12 of his own, the server 1:8' '
	printf "bob\ncarol\n" >users &&
	cat >rx.conf <<-EOF &&
	local-domains = b.i2p
	smtp-users = $TRASH/users
	smtp-maildir = $TRASH/md
	smtp-stamp = 1:8
	senders-dir = $TRASH/lists
	smtp-stamp-db = $TRASH/pow.db
	EOF
	NYMBOX_CONF=$TRASH/rx.conf sender-list -r bob@b.i2p demand 1:12 &&
	NYMBOX_CONF=$TRASH/rx.conf sender-list -r bob@b.i2p demand >d &&
	echo 1:12 >d.want && test_cmp d.want d &&
	listen rx
'

test_expect_success 'the EHLO states the server'"'"'s demand, the refusal bob'"'"'s' '
	python3 - "$(cat rx.port)" >ehlo <<-\EOP &&
	import smtplib, sys
	s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
	s.ehlo("localhost")
	print(s.esmtp_features.get("x-stamp"))
	s.quit()
	EOP
	echo 1:8 >want && test_cmp want ehlo &&
	pow-stamp -m -b 8 bob@b.i2p >s8 &&
	test_must_fail send "$(cat rx.port)" joe@x.i2p bob@b.i2p "$(cat s8)" 2>err &&
	test_grep "^550 5.7.1 Stamp needed for bob@b.i2p: X-Hashcash 1:12 (too little work)" err &&
	pow-stamp -m -b 8 carol@b.i2p >c8 &&
	send "$(cat rx.port)" joe@x.i2p carol@b.i2p "$(cat c8)" &&
	test "$(count md)" = 1
'

test_expect_success 'a message refused for one recipient'"'"'s stamp spends none' '
	pow-stamp -m -b 12 bob@b.i2p >s12 &&
	pow-stamp -m -b 8 carol@b.i2p >c8b &&
	test_must_fail send "$(cat rx.port)" joe@x.i2p carol@b.i2p,bob@b.i2p \
	    "$(cat c8b)" "$(cat s8)" 2>err &&
	test_grep "Stamp needed for bob@b.i2p: X-Hashcash 1:12" err &&
	send "$(cat rx.port)" joe@x.i2p carol@b.i2p,bob@b.i2p \
	    "$(cat c8b)" "$(cat s12)" &&
	test "$(count md)" = 2 &&
	test_must_fail send "$(cat rx.port)" joe@x.i2p bob@b.i2p "$(cat s12)" 2>err &&
	test_grep "(spent already)" err
'

test_expect_success 'a demand in the list that does not parse: the server'"'"'s, said' '
	printf "demand 1:8>9@2026-13-01\n" >lists/carol@b.i2p &&
	pow-stamp -m -b 8 carol@b.i2p >c8c &&
	send "$(cat rx.port)" joe@x.i2p carol@b.i2p "$(cat c8c)" &&
	test_grep "unable to use the demand in .*carol@b.i2p" rx.err &&
	sender-list -f lists/carol@b.i2p demand default &&
	test_must_be_empty lists/carol@b.i2p &&
	test_expect_code 64 sender-list -f lists/carol@b.i2p demand 1:zz 2>err &&
	test_grep "unable to use demand 1:zz" err
'

# sender-list(1)'s EXAMPLE of a recipient's demand, claimed here
# (t/0940-doc-examples.t counts this file's claims) and run as written.
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'sender-list(1) EXAMPLES: a recipient'"'"'s own demand, and back to the server'"'"'s' '
	ex ex0 <<-\EOF &&
	sender-list -r bob demand '"'"'E1:96,5:1 1:24+4'"'"'
	sender-list -r bob demand
	sender-list -r bob demand default
	EOF
	mkdir -p exhome/.config/nymbox &&
	(HOME=$TRASH/exhome && export HOME && sh -e ex0 >out) &&
	echo "E1:96,5:1 1:24+4" >want && test_cmp want out &&
	test_must_be_empty exhome/.config/nymbox/senders/bob &&
	head -n 1 ex0 >ex1 &&
	(HOME=$TRASH/exhome && export HOME && sh -e ex1) &&
	echo "demand E1:96,5:1 1:24+4" >want &&
	test_cmp want exhome/.config/nymbox/senders/bob
'

# The sender's side over the fake SAM bridge: a route b.i2p to the
# listener; sam-deliver learns and forgets demands.
samup() {
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 600) "$@" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid
}
b32() {
	test_timeout 30 "${NYM_HELPERS:-$H}/samtool" -t $(test_scaled 5000) \
	    -c $(test_scaled 5000) 127.0.0.1 "$(cat sam.port)" lookup -b "$1"
}

test_expect_success SAM 'setup: the fake SAM bridge, routes to the listener and a server without X-STAMP' '
	{ "$H/smtpd" --port-file mx.port --save mx.mail --log mx.log \
	    --max-seconds $(test_scaled 600) & echo $! >mx.pid; } &&
	test_wait_for mx.port &&
	samup --route rx.i2p=$(cat rx.port) --route mx.i2p=$(cat mx.port) &&
	B=$(b32 rx.i2p) && test -n "$B" && echo "$B" >b32 &&
	M=$(b32 mx.i2p) && test -n "$M" && echo "$M" >m32 &&
	echo "local-domains = b.i2p $B" >>rx.conf &&
	NYMBOX_CONF=$TRASH/rx.conf sender-list -r "bob@$B" demand 1:12
'

test_expect_success SAM 'sam-deliver: an EHLO without X-STAMP forgets the domain'"'"'s demand' '
	M=$(cat m32) &&
	echo 1:7 >"$D/$M" &&
	printf "From: a@a.i2p\nTo: bob@%s\n\nhi\n" "$M" >m0 &&
	test_timeout 60 sam-deliver -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 5) -f alice@a.i2p "bob@$M" <m0 &&
	test -f mx.mail/msg1 &&
	test_path_is_missing "$D/$M"
'

test_expect_success SAM 'sam-deliver keeps the demand a refusal states for the address' '
	B=$(cat b32) &&
	printf "From: a@a.i2p\nTo: bob@%s\n\nhi\n" "$B" >m1 &&
	test_expect_code 77 test_timeout 60 sam-deliver \
	    -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) \
	    -f alice@a.i2p "bob@$B" <m1 2>err &&
	test_grep "Stamp needed for bob@$B: X-Hashcash 1:12" err &&
	echo 1:12 >d.want && test_cmp d.want "$D/bob@$B" &&
	echo 1:8 >d.want && test_cmp d.want "$D/$B" &&
	test_timeout 60 pow-stamp -M <m1 >out &&
	st out | grep "^1:12:[0-9]*:bob@$B:"
'

# The queue: a message stamped at the server's 1:8 when it was queued,
# for bob who asks 1:12 of his own; the listener defers (-Q defer).
test_expect_success SAM 'queue-run re-stamps a message deferred for a stamp before it is due' '
	B=$(cat b32) &&
	echo "smtp-stamp-reply = defer" >>rx.conf &&
	rm -f "$D/bob@$B" &&
	n0=$(count md) &&
	printf "From: a@a.i2p\nTo: bob@%s\nSubject: q\n\nhi\n" "$B" |
	    test_timeout 60 pow-stamp -M -D 1:8 >m2 &&
	st m2 >s && test_line_count = 1 s && grep "^1:8:" s &&
	delay-queue -q Q -m now -f alice@a.i2p "bob@$B" -- sam-deliver \
	    -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) <m2 &&
	ls Q/mess >ids && test_line_count = 1 ids && id=$(cat ids) &&
	test_timeout 120 queue-run -q Q 2>err &&
	test_grep "451 4.7.1 Stamp needed for bob@$B: X-Hashcash 1:12" err &&
	test "$(count md)" = "$n0" &&
	sed "1,/^\$/d" "Q/mess/$id" >queued &&
	st queued >s && test_line_count = 1 s &&
	grep "^1:12:[0-9]*:bob@$B:" s &&
	pow-stamp -c -y -b 12 -r "bob@$B" "$(cat s)" &&
	test_timeout 120 queue-run -q Q -r "$id" &&
	test_path_is_missing "Q/mess/$id" &&
	test "$(count md)" = $((n0 + 1))
'

# The same for bob as a blind recipient (in the envelope only, as a mail
# program that removed Bcc hands him over): his stamp is re-minted as an
# X-Hashcash-Bcc field, never one the To recipient would see.
test_expect_success SAM 'queue-run re-stamps a Bcc recipient'"'"'s stamp as X-Hashcash-Bcc' '
	B=$(cat b32) &&
	rm -f "$D/bob@$B" &&
	n0=$(count md) &&
	printf "From: a@a.i2p\nTo: carol@c.i2p\nSubject: qb\n\nhi\n" |
	    test_timeout 60 pow-stamp -M -D 1:8 -- "bob@$B" >m3 &&
	sed -n "/^\$/q; s/^X-Hashcash-Bcc: //p" m3 >s && grep "^1:8:[0-9]*:bob@$B:" s &&
	delay-queue -q Q -m now -f alice@a.i2p "bob@$B" -- sam-deliver \
	    -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) <m3 &&
	ls Q/mess >ids && test_line_count = 1 ids && id=$(cat ids) &&
	test_timeout 120 queue-run -q Q 2>err &&
	test_grep "451 4.7.1 Stamp needed for bob@$B: X-Hashcash 1:12" err &&
	sed "1,/^\$/d" "Q/mess/$id" >queued &&
	sed -n "/^\$/q; s/^X-Hashcash-Bcc: //p" queued >s &&
	test_line_count = 1 s && grep "^1:12:[0-9]*:bob@$B:" s &&
	! grep -i "^X-Hashcash: .*bob@" queued &&
	test_timeout 120 queue-run -q Q -r "$id" &&
	test_path_is_missing "Q/mess/$id" &&
	test "$(count md)" = $((n0 + 1)) &&
	got=$(grep -l "^Subject: qb" md/new/*) &&
	! grep -i "^Bcc:\|^X-Hashcash-Bcc:" $got &&
	grep "^X-Hashcash: 1:12:[0-9]*:bob@$B:" $got
'

test_expect_success SAM 'a stamp not minted within -T: the message kept as it was, the record says why' '
	B=$(cat b32) &&
	NYMBOX_CONF=$TRASH/rx.conf sender-list -r "bob@$B" demand 1:40 &&
	delay-queue -q Q -m now -f alice@a.i2p "bob@$B" -- sam-deliver \
	    -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) <m2 &&
	ls Q/mess >ids && test_line_count = 1 ids && id=$(cat ids) &&
	cp "Q/mess/$id" before &&
	test_expect_code 0 test_timeout 120 queue-run -q Q -T 2 2>err &&
	test_grep "unable to re-stamp message $id for bob@$B: pow-stamp exited with 75: pow-stamp: unable to mint a stamp for bob@$B: not done within" err &&
	cmp before "Q/mess/$id" &&
	grep "^error unable to re-stamp for bob@$B: pow-stamp exited with 75" "Q/info/$id" &&
	queue-run -q Q -d "$id"
'

test_done
