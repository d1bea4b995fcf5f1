#!/bin/sh
# Bcc recipients stamped without being named (issue 14): pow-stamp -M
# gives each Bcc recipient its stamp in an X-Hashcash-Bcc field, and the
# deliverers send the visible recipients of a destination one copy without
# any Bcc stamp, then each Bcc recipient a copy of its own that carries
# its stamp alone (as X-Hashcash), RSET between, in one session.  A real
# smtp-receive demanding stamps (-P) on 127.0.0.1 takes them all, and its
# maildir (one file per transaction) shows what each copy carried:
# onion-deliver through the fake SOCKS proxy from a signed onion sender
# (the signature holds for every copy), sam-deliver through the fake SAM
# bridge, and the whole path (nymbox-sendmail's chain, the queue,
# queue-run); smtp-submit to a scripted relay.  Without Bcc stamps, one
# transaction as before; a session lost after the first copy defers the
# Bcc recipients with the server's reason.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
test -x "${NYM_HELPERS:-$H}/samtool" && test_set_prereq SAM
B=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion

test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done; test_stop_holders "$HOME"/.config/nymbox/keys'

# mx NAME ARGS...: smtp-receive demanding 1:8 under tcp-listen, into the
# maildir NAME.md, its database NAME.db, each session's exit in
# NAME.status; ARGS (a file of them, read at each connection, so that a
# domain learnt later can be given) in NAME.args.
mx() {
	n=$1 && shift &&
	mkdir -p "$n.md" && printf "%s\n" "$@" >"$n.args" &&
	{ "$H/tcp-listen" --port-file $n.port --pid-file $n.pid \
	    --status-file "$TRASH/$n.status" \
	    --max-seconds $(test_scaled 300) -- sh -c \
	    'exec smtp-receive -P 1:8 -B "$1.db" -d "$1.md" -a $(cat "$1.args")' \
	    sh "$TRASH/$n" </dev/null & } &&
	test_wait_for $n.port && test_wait_for $n.pid
}

# copies NAME: the files of NAME's maildir, one a line.
copies() {
	find "$1.md/new" -type f | sort
}

# has FILE RCPT...: FILE's header has an X-Hashcash field for each RCPT
# and for nobody else, no X-Hashcash-Bcc field and no Bcc field, and
# nothing in the whole file names eve or frank unless given.
has() {
	f=$1 && shift &&
	sed -n "/^\$/q; s/^X-Hashcash: //p" "$f" | cut -d: -f4 | sort >has.got &&
	printf "%s\n" "$@" | sort >has.want &&
	test_cmp has.want has.got &&
	! sed -n "/^\$/q; p" "$f" | grep -i "^x-hashcash-bcc\|^bcc\|^resent-bcc" &&
	for w in eve frank; do
		case " $* " in
		*" $w@"*) ;;
		*) ! grep -i "$w@" "$f" || return 1 ;;
		esac
	done
}

# which_ NAME RCPT...: the copies in NAME's maildir whose X-Hashcash
# fields are for exactly these recipients, also in which.out.
which_() {
	n=$1 && shift &&
	printf "%s\n" "$@" | sort >which.want &&
	for f in $(copies "$n"); do
		sed -n "/^\$/q; s/^X-Hashcash: //p" "$f" | cut -d: -f4 |
		    sort >which.got &&
		if cmp -s which.want which.got; then echo "$f"; fi
	done >which.out &&
	cat which.out
}

# threecopies NAME DOMAIN: NAME's maildir holds three copies for bob and
# carol (To, Cc) and the Bcc recipients eve and frank: one with the
# visible recipients' stamps, and one for each Bcc recipient with its
# own stamp added.
threecopies() {
	copies "$1" >files && test_line_count = 3 files &&
	f=$(which_ "$1" "bob@$2" "carol@$2") && test_line_count = 1 which.out &&
	has "$f" "bob@$2" "carol@$2" &&
	for r in eve frank; do
		f=$(which_ "$1" "bob@$2" "carol@$2" "$r@$2") &&
		test_line_count = 1 which.out &&
		has "$f" "bob@$2" "carol@$2" "$r@$2" || return 1
	done
}

test_expect_success 'setup: Alice'"'"'s onion key, the demand, Bob'"'"'s server behind the proxy' '
	mkdir -p "$HOME/.config/nymbox/keys" &&
	printf "send-stamp = 1:8\nsam-gap = 0\n" >"$HOME/.config/nymbox/config" &&
	onion-key -c alice.key >alice.onion &&
	A=$(cat alice.onion) &&
	mv alice.key "$HOME/.config/nymbox/keys/$A" &&
	mx omx -l "$B" &&
	{ "$H/fake-socks" --port-file socks.port --pid-file socks.pid \
	    --log socks.log --max-seconds $(test_scaled 300) \
	    --route "$B=$(cat omx.port)" </dev/null & } &&
	test_wait_for socks.port && test_wait_for socks.pid
'
A=$(cat alice.onion 2>/dev/null)

# message DOMAIN [nobcc]: To bob, Cc carol, Bcc eve and frank (unless
# nobcc), all at DOMAIN, stamped by pow-stamp -M (each send spends its
# stamps: smtp-receive keeps them).
message() {
	{ printf "From: Alice <alice@%s>\nTo: Bob <bob@%s>\nCc: carol@%s\n" \
	    "$A" "$1" "$1" &&
	  if test -z "$2"; then
		printf "Bcc: eve@%s,\n frank@%s\n" "$1" "$1"
	  fi &&
	  printf "Subject: blind\nDate: Sun, 06 Dec 2026 12:00:00 +0000\nMessage-ID: <1@%s>\n\nhello all\n" \
	    "$A"; } >unstamped &&
	test_timeout 120 pow-stamp -M <unstamped
}

od() {
	TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    test_timeout 60 onion-deliver -w $(test_scaled 10) "$@"
}

test_expect_success 'pow-stamp -M: To and Cc stamps visible, the Bcc ones X-Hashcash-Bcc' '
	message "$B" >stamped && cp unstamped msg &&
	sed -n "/^\$/q; s/^X-Hashcash: //p" stamped | cut -d: -f4 | sort >v &&
	printf "bob@$B\ncarol@$B\n" >v.want && test_cmp v.want v &&
	sed -n "/^\$/q; s/^X-Hashcash-Bcc: //p" stamped | cut -d: -f4 | sort >b &&
	printf "eve@$B\nfrank@$B\n" >b.want && test_cmp b.want b
'

test_expect_success 'onion-deliver: every recipient taken; three copies over one session' '
	od -t -f "alice@$A" <stamped 2>err &&
	test_must_be_empty err &&
	copies omx >files && test_line_count = 3 files &&
	test_wait_until "test -s omx.status" &&
	test_line_count = 1 omx.status && grep -x "exit 0" omx.status
'

test_expect_success 'To and Cc got one copy: their stamps, no Bcc stamp, no Bcc' '
	f=$(which_ omx "bob@$B" "carol@$B") && test_line_count = 1 which.out &&
	has "$f" "bob@$B" "carol@$B"
'

test_expect_success 'each Bcc recipient a copy of its own with its own stamp only' '
	for r in eve frank; do
		f=$(which_ omx "bob@$B" "carol@$B" "$r@$B") &&
		test_line_count = 1 which.out &&
		has "$f" "bob@$B" "carol@$B" "$r@$B" &&
		pow-stamp -c -X -y -b 8 -r "$r@$B" <"$f" 2>/dev/null || return 1
	done
'

test_expect_success 'every copy is signed, and smtp-receive checked it (-v all)' '
	copies omx >files && test_line_count = 3 files &&
	for f in $(copies omx); do
		head -n 1 "$f" | grep "^DKIM-Signature: v=1; a=ed25519-sha256;" &&
		grep "^	d=$A; s=onion;" "$f" || return 1
	done
'

test_expect_success 'no Bcc stamp: one transaction, as before' '
	rm -f omx.md/new/* &&
	message "$B" nobcc >visible &&
	od -f "alice@$A" "bob@$B" "carol@$B" <visible &&
	copies omx >files && test_line_count = 1 files &&
	has "$(cat files)" "bob@$B" "carol@$B"
'

test_expect_success 'a Bcc recipient refused is reported alone; the others are taken' '
	rm -f omx.md/new/* &&
	message "$B" >again &&
	cheap=$(pow-stamp -m -b 0 "eve@$B") &&
	sed "s|^X-Hashcash-Bcc: 1:8:[0-9]*:eve@.*|X-Hashcash-Bcc: $cheap|" \
	    again >forged &&
	grep -c "^X-Hashcash-Bcc: 1:0:" forged >n && test "$(cat n)" = 1 &&
	test_expect_code 77 od -t -f "alice@$A" <forged 2>err &&
	test_grep "unable to deliver to eve@$B: 550 5.7.1 Stamp needed for eve@$B" err &&
	test_line_count = 1 err &&
	copies omx >files && test_line_count = 2 files
'

test_expect_success 'a session gone after the visible copy: each Bcc recipient 75, told why' '
	{ "$H/smtpd" --port-file bye.port --save bye.mail --log bye.log \
	    --max-seconds $(test_scaled 300) --bye-after-message &
	  echo $! >bye.pid; } &&
	test_wait_for bye.port &&
	{ "$H/fake-socks" --port-file socks2.port --pid-file socks2.pid \
	    --max-seconds $(test_scaled 300) \
	    --route "$B=$(cat bye.port)" </dev/null & } &&
	test_wait_for socks2.port && test_wait_for socks2.pid &&
	message "$B" >byemsg &&
	test_expect_code 75 env TOR_SOCKS=127.0.0.1:$(cat socks2.port) \
	    onion-deliver -w $(test_scaled 10) -t -f "alice@$A" <byemsg 2>err &&
	test_grep "unable to deliver to eve@$B: 421 " err &&
	test_grep "unable to deliver to frank@$B: 421 " err &&
	test_line_count = 2 err &&
	ls bye.mail >saved && test_line_count = 1 saved &&
	! grep -i "x-hashcash-bcc\|eve@\|frank@" bye.mail/*
'

test_expect_success 'smtp-submit: the relay gets the same copies, RSET between' '
	{ "$H/smtpd" --port-file sub.port --save sub.mail --log sub.log \
	    --max-seconds $(test_scaled 300) --auth alice@a.i2p:secret &
	  echo $! >sub.pid; } &&
	test_wait_for sub.port &&
	printf "secret\n" >pw && chmod 600 pw &&
	message "$B" >submsg &&
	test_timeout 60 smtp-submit -H 127.0.0.1:"$(cat sub.port)" \
	    -w $(test_scaled 10) -P pw -f alice@a.i2p "bob@$B" "carol@$B" \
	    "eve@$B" "frank@$B" <submsg 2>err &&
	test_must_be_empty err &&
	ls sub.mail >saved && test_line_count = 3 saved &&
	has sub.mail/msg1 "bob@$B" "carol@$B" &&
	has sub.mail/msg2 "bob@$B" "carol@$B" "eve@$B" &&
	has sub.mail/msg3 "bob@$B" "carol@$B" "frank@$B" &&
	grep -c "RSET" sub.log >n && test "$(cat n)" = 2 &&
	sed "/RSET/q" sub.log | grep "RCPT TO:" >r1 && test_line_count = 2 r1 &&
	! grep "eve@\|frank@" r1
'

# The same through the fake SAM bridge: sam-deliver.
test_expect_success SAM 'sam-deliver: To and Cc one copy, each Bcc recipient its own' '
	mx smx -v none -l placeholder.i2p &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) \
	    --route mx.i2p=$(cat smx.port) </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	S=$(test_timeout 30 "${NYM_HELPERS:-$H}/samtool" -t $(test_scaled 5000) \
	    -c $(test_scaled 5000) 127.0.0.1 "$(cat sam.port)" lookup -b mx.i2p) &&
	test -n "$S" && printf "%s\n" -v none -l "$S" >smx.args &&
	message "$S" >sstamped &&
	test_timeout 60 sam-deliver -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 10) -t -f alice@a.i2p <sstamped 2>err &&
	test_must_be_empty err &&
	test_wait_until "test -s smx.status" &&
	test_line_count = 1 smx.status &&
	threecopies smx "$S"
'

# The whole path: the chain stamps when the message is queued, the queue
# drops Bcc, queue-run hands the deliverer the envelope.
test_expect_success 'nymbox-sendmail, the queue and queue-run: the same copies' '
	rm -f omx.md/new/* && : >omx.status &&
	cat >send.conf <<-EOC &&
	chain = scrub-headers | pow-stamp -M
	send-stamp = 1:8
	mode = now
	queue = $TRASH/Q
	delivery = onion-deliver -w $(test_scaled 10)
	EOC
	NYMBOX_CONF=$TRASH/send.conf test_timeout 120 \
	    nymbox-sendmail -oi -t -f "alice@$A" <msg &&
	ls Q/mess >ids && test_line_count = 1 ids &&
	NYMBOX_CONF=$TRASH/send.conf TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    test_timeout 120 queue-run -q Q &&
	! ls Q/mess/* 2>/dev/null &&
	threecopies omx "$B"
'

test_expect_success 'a Bcc recipient only in the envelope (no Bcc field): its own copy too' '
	rm -f omx.md/new/* &&
	message "$B" nobcc >/dev/null &&
	NYMBOX_CONF=$TRASH/send.conf test_timeout 120 nymbox-sendmail -oi \
	    -f "alice@$A" "bob@$B" "carol@$B" "eve@$B" <unstamped &&
	NYMBOX_CONF=$TRASH/send.conf TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    test_timeout 120 queue-run -q Q &&
	! ls Q/mess/* 2>/dev/null &&
	copies omx >files && test_line_count = 2 files &&
	f=$(which_ omx "bob@$B" "carol@$B") && test_line_count = 1 which.out &&
	has "$f" "bob@$B" "carol@$B" &&
	f=$(which_ omx "bob@$B" "carol@$B" "eve@$B") &&
	test_line_count = 1 which.out &&
	has "$f" "bob@$B" "carol@$B" "eve@$B"
'

test_done
