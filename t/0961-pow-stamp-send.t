#!/bin/sh
# pow-stamp -M, the sender's side of the stamps (issue 14): a filter of
# nymbox-sendmail's chain adds one X-Hashcash field per To and Cc
# recipient and one X-Hashcash-Bcc field per other recipient (Bcc, or
# given and in neither), at the demand kept for its domain, else the configured
# send-stamp, else none; stamps already there are kept, not doubled; all
# within -t, else 75 and nothing written; the whole path into a real
# queue; and the deliverers learning a domain's demand from the EHLO
# keyword X-STAMP (sam-deliver, the fake SAM bridge, a scripted server).
cd "$(dirname "$0")" && . ./lib.sh

command -v hashcash >/dev/null 2>&1 && test_set_prereq HASHCASH
H=$TOP/t/helpers
command -v python3 >/dev/null 2>&1 && test -x "${NYM_HELPERS:-$H}/samtool" &&
	test_set_prereq SAM

D=$HOME/.config/nymbox/demands
mkdir -p "$HOME/.config/nymbox" &&
printf 'send-stamp = 1:8\n' >"$HOME/.config/nymbox/config" &&
: >empty.conf || tl_bail_ "unable to write the configuration"

cat >msg <<'EOF'
From: Alice <alice@a.i2p>
To: Bob <bob@b.i2p>, carol@c.i2p
Cc: Dave <dave@d.i2p>
Bcc: eve@e.i2p
Subject: hello

body line
X-Hashcash: 1:8:261206:bob@b.i2p::not:the:header
last
EOF

# st FILE: the stamps of FILE's header section, one a line.
st() {
	sed -n "/^\$/q; s/^X-Hashcash: //p" "$1"
}

# for_ RCPT FILE: the one stamp for RCPT in FILE's header.
for_() {
	st "$2" | grep ":$1:" >for.out && test_line_count = 1 for.out &&
	cat for.out
}

test_expect_success 'each To and Cc recipient gets a stamp at send-stamp, Bcc a Bcc stamp' '
	test_timeout 120 pow-stamp -M <msg >out &&
	st out >s && test_line_count = 3 s &&
	for r in bob@b.i2p carol@c.i2p dave@d.i2p; do
		for_ $r out >one &&
		grep "^1:8:" one &&
		pow-stamp -c -y -b 8 -r $r "$(cat one)" || return 1
	done &&
	test_grep -v eve s &&
	sed -n "/^\$/q; s/^X-Hashcash-Bcc: //p" out >sb &&
	test_line_count = 1 sb && grep "^1:8:[0-9]*:eve@e.i2p:" sb &&
	pow-stamp -c -y -b 8 -r eve@e.i2p "$(cat sb)"
'

test_expect_success 'the header is kept in order, the stamps last; the body copied' '
	sed -n "/^\$/q; p" msg >h.want &&
	sed -n "/^\$/q; p" out | grep -v "^X-Hashcash" >h.got &&
	test_cmp h.want h.got &&
	sed -n "/^\$/q; p" out | tail -n 4 | grep -c "^X-Hashcash: " >n &&
	test "$(cat n)" = 3 &&
	sed -n "/^\$/q; p" out | tail -n 1 | grep "^X-Hashcash-Bcc: " &&
	sed "1,/^\$/d" msg >b.want && sed "1,/^\$/d" out >b.got &&
	test_cmp b.want b.got
'

test_expect_success HASHCASH 'hashcash(1) takes the stamps' '
	for r in bob@b.i2p carol@c.i2p dave@d.i2p; do
		hashcash -cq -y -b 8 -r $r "$(for_ $r out)" || return 1
	done
'

test_expect_success 'a domain'"'"'s kept demand wins over send-stamp; E1 too' '
	mkdir -p "$D" &&
	echo "1:10" >"$D/b.i2p" &&
	echo "E1:96,5:0" >"$D/c.i2p" &&
	test_when_finished "rm -f \"$D/b.i2p\" \"$D/c.i2p\"" &&
	test_timeout 300 pow-stamp -M <msg >out &&
	for_ bob@b.i2p out >b && grep "^1:10:" b &&
	pow-stamp -c -y -b 10 -r bob@b.i2p "$(cat b)" &&
	for_ carol@c.i2p out >c && grep "^E1:96:5:0:" c &&
	pow-stamp -c -y -D "E1:96,5:0" -r carol@c.i2p "$(cat c)" &&
	for_ dave@d.i2p out | grep "^1:8:"
'

test_expect_success 'a kept demand that does not parse: said, and send-stamp used' '
	mkdir -p "$D" && echo "1:zz" >"$D/d.i2p" &&
	test_when_finished "rm -f \"$D/d.i2p\"" &&
	test_timeout 120 pow-stamp -M <msg >out 2>err &&
	test_grep "unable to use the kept demand of d.i2p" err &&
	for_ dave@d.i2p out | grep "^1:8:"
'

test_expect_success 'stamps already there are kept, not doubled' '
	test_timeout 120 pow-stamp -M <msg >once &&
	test_timeout 120 pow-stamp -M <once >twice &&
	test_cmp once twice &&
	{ sed -n "/^\$/q; p" msg &&
	  echo "X-Hashcash: $(pow-stamp -m -b 8 CAROL@c.i2p)" &&
	  sed "1,/^\$/d" msg | sed "1s/^/\n/"; } >has &&
	test_timeout 120 pow-stamp -M <has >out &&
	st out >s && test_line_count = 3 s &&
	for_ carol@c.i2p out
'

test_expect_success 'no kept demand and no send-stamp: the message as it was' '
	NYMBOX_CONF=$TRASH/empty.conf test_timeout 30 pow-stamp -M <msg >out &&
	test_cmp msg out
'

test_expect_success 'recipients given: those, at -D; those in no To or Cc Bcc stamps' '
	test_timeout 30 pow-stamp -M -D 1:4 x@y.i2p DAVE@d.i2p <msg >out &&
	st out >s && test_line_count = 1 s &&
	grep "^1:4:[0-9]*:dave@d.i2p:" s &&
	sed -n "/^\$/q; s/^X-Hashcash-Bcc: //p" out >sb &&
	test_line_count = 1 sb && grep "^1:4:[0-9]*:x@y.i2p:" sb &&
	test_expect_code 64 pow-stamp -M -b 8 <msg >out 2>err &&
	test_must_be_empty out &&
	test_grep "unable to use -b, -X, -d, -f or -r with -M" err
'

test_expect_success 'past -t: 75, a message, and nothing written' '
	test_expect_code 75 pow-stamp -M -D 1:40 -t 1 <msg >out 2>err &&
	test_must_be_empty out &&
	test_grep "unable to mint a stamp for bob@b.i2p: not done within 1 seconds" err
'

test_expect_success 'over 100 recipients: 65, nothing written' '
	{ printf "From: a@a.i2p\nTo: r0@x.i2p" &&
	  for i in $(seq 1 100); do printf ", r%d@x.i2p" $i; done &&
	  printf "\n\nhi\n"; } >many &&
	test_expect_code 65 pow-stamp -M -D 1:0 <many >out 2>err &&
	test_must_be_empty out &&
	test_grep "over 100 recipients" err
'

test_expect_success 'a CRLF message gets CRLF fields' '
	sed "s/\$/\r/" msg >crlf &&
	test_timeout 30 pow-stamp -M -D 1:0 <crlf >out &&
	cr=$(printf "\r") &&
	grep -c "^X-Hashcash: 1:0:.*$cr\$" out >n && test "$(cat n)" = 3
'

# The whole path: mail handed to nymbox-sendmail is stamped by its chain
# and queued stamped, before queue-run ever runs.
test_expect_success 'nymbox-sendmail with the stamping chain queues stamped mail' '
	cat >send.conf <<-EOC &&
	chain = scrub-headers | pow-stamp -M
	send-stamp = 1:8
	mode = defer
	queue = $TRASH/Q
	delivery = false
	EOC
	NYMBOX_CONF=$TRASH/send.conf test_timeout 120 \
	    nymbox-sendmail -oi -t -f alice@a.i2p <msg &&
	ls Q/mess >ids && test_line_count = 1 ids &&
	sed "1,/^\$/d" "Q/mess/$(cat ids)" >queued &&
	st queued >s && test_line_count = 3 s &&
	for r in bob@b.i2p carol@c.i2p dave@d.i2p; do
		pow-stamp -c -X -y -b 8 -r $r <queued || return 1
	done 2>/dev/null &&
	test_grep -v "eve@" s
'

test_expect_success 'the chain past its deadline: 75 and nothing queued' '
	cat >slow.conf <<-EOC &&
	chain = scrub-headers | pow-stamp -M -t 1
	send-stamp = 1:40
	mode = defer
	queue = $TRASH/Q2
	delivery = false
	EOC
	test_expect_code 75 env NYMBOX_CONF=$TRASH/slow.conf \
	    nymbox-sendmail -oi -t -f alice@a.i2p <msg 2>err &&
	test_grep "not done within 1 seconds" err &&
	! ls Q2/mess/* 2>/dev/null
'

# The demand learnt: sam-deliver to a server whose EHLO says X-STAMP.
test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done; test_stop_holders "$HOME"/.config/nymbox/keys'

test_expect_success SAM 'sam-deliver keeps the X-STAMP of the EHLO reply for the domain' '
	printf "sam-gap = 0\n" >sam.conf &&
	{ "$H/smtpd" --port-file mx0.port --save mx0.mail --log mx0.log \
	    --max-seconds $(test_scaled 300) --ehlo "X-STAMP 1:9 E1:96,5:0" &
	  echo $! >mx0.pid; } &&
	test_wait_for mx0.port &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) \
	    --route mx0.i2p=$(cat mx0.port) </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	B=$(test_timeout 30 "${NYM_HELPERS:-$H}/samtool" -t $(test_scaled 5000) \
	    -c $(test_scaled 5000) 127.0.0.1 "$(cat sam.port)" lookup -b mx0.i2p) &&
	test -n "$B" && echo "$B" >b32 &&
	rm -f "$D/$B" &&
	NYMBOX_CONF=$TRASH/sam.conf test_timeout 60 sam-deliver \
	    -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) \
	    -f alice@a.i2p "bob@$B" <msg &&
	test -f mx0.mail/msg1 &&
	echo "1:9 E1:96,5:0" >d.want && test_cmp d.want "$D/$B" &&
	test "$(stat -c %a "$D/$B")" = 600
'

test_expect_success SAM 'and the next message is stamped at it' '
	B=$(cat b32) &&
	printf "From: a@a.i2p\nTo: bob@%s\n\nhi\n" "$B" >m2 &&
	NYMBOX_CONF=$TRASH/empty.conf test_timeout 120 pow-stamp -M -a 1 <m2 >out &&
	for_ "bob@$B" out | grep "^1:9:"
'

# The demand learnt before any delivery: a site publishing its key
# (.well-known/i2pmail.key) and its demand beside it (i2pmail.pow).
test_expect_success SAM 'resolve-maildest keeps the i2pmail.pow a site publishes beside its key' '
	K=abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.b32.i2p &&
	for n in pow.i2p nopow.i2p bad.i2p; do
		mkdir -p www-$n/.well-known &&
		echo "$K 2525" >www-$n/.well-known/i2pmail.key &&
		{ "$H/httpd" --port-file $n.port --dir www-$n \
		    --max-seconds $(test_scaled 300) & echo $! >$n.pid; } &&
		test_wait_for $n.port || return 1
	done &&
	echo "E1:96,5:0 1:20+4" >www-pow.i2p/.well-known/i2pmail.pow &&
	printf "1:8\n<script>\n" >www-bad.i2p/.well-known/i2pmail.pow &&
	{ "$H/fake-sam" --port-file sam2.port --pid-file sam2.pid --log sam2.log \
	    --max-seconds $(test_scaled 300) \
	    --route pow.i2p=$(cat pow.i2p.port) \
	    --route nopow.i2p=$(cat nopow.i2p.port) \
	    --route bad.i2p=$(cat bad.i2p.port) </dev/null & } &&
	test_wait_for sam2.port && test_wait_for sam2.pid &&
	NYMBOX_CONF=$TRASH/empty.conf test_timeout 60 resolve-maildest \
	    -S 127.0.0.1:"$(cat sam2.port)" -w $(test_scaled 5) \
	    a@pow.i2p b@nopow.i2p c@bad.i2p >out &&
	test_line_count = 3 out &&
	echo "E1:96,5:0 1:20+4" >d.want && test_cmp d.want "$D/pow.i2p" &&
	test "$(stat -c %a "$D/pow.i2p")" = 600 &&
	test_path_is_missing "$D/nopow.i2p" &&
	test_path_is_missing "$D/bad.i2p"
'

# pow-stamp(1) and nymbox-sendmail(1) EXAMPLES of the sending side,
# claimed here (t/0940-doc-examples.t counts this file's claims).
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'the EXAMPLES of stamping run as written' '
	ex ex1 <<-\EOF &&
	echo "chain = scrub-headers | pow-stamp -M" >> ~/.config/nymbox/config
	echo "send-stamp = 1:20" >> ~/.config/nymbox/config
	EOF
	ex ex2 <<-\EOF &&
	pow-stamp -M -t 120 < message > stamped
	EOF
	mkdir -p exhome/.config/nymbox exhome/w &&
	cp msg exhome/w/message &&
	(HOME=$TRASH/exhome && export HOME && cd exhome/w &&
	 sh -e ../../ex1 && sh -e ../../ex2 &&
	 grep -x "chain = scrub-headers | pow-stamp -M" ../.config/nymbox/config &&
	 sed -n "/^\$/q; s/^X-Hashcash: //p" stamped >s &&
	 test_line_count = 3 s &&
	 pow-stamp -c -X -y -b 20 -r carol@c.i2p <stamped)
'

test_done
