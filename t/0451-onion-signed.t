#!/bin/sh
# Onion senders verified by their onion's own key: onion-deliver signs a
# message from alice@<her onion> with that onion's key (DKIM,
# a=ed25519-sha256, d= the onion; lib/dkim.c), and smtp-receive takes
# mail from an onion sender only with a valid signature by the onion in
# its address: Tor tells the receiver nothing of who connects.  The fake
# SOCKS proxy stands in for Tor (the private Tor network's tests run the
# same over real onion services); python3-dkim checks what arrived,
# independently.  Refused: no signature, a changed body, Mallory's own
# onion signing for Alice's address; and onion-deliver will not sign with
# a key that is not the sender's.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
/usr/bin/python3 -c "import dkim" 2>/dev/null ||
	tl_bail_ "python3-dkim missing: sh t/deps.sh test"
H=$TOP/t/helpers
B=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion

test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

# pyverify MSG KEYDIR: python3-dkim checks MSG, the DNS record it asks
# for answered with KEYDIR's public key.
write_script pyverify /usr/bin/python3 <<\EOF
import base64, sys, dkim
msg = open(sys.argv[1], "rb").read()
pk = open(sys.argv[2] + "/hs_ed25519_public_key", "rb").read()
rec = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(pk[32:])
sys.exit(0 if dkim.DKIM(msg).verify(dnsfunc=lambda n, timeout=5: rec) else 1)
EOF

sr() {
	smtp-receive -l "$B" -a -d md "$@"
}

test_expect_success 'setup: Alice'"'"'s and Mallory'"'"'s onion keys, Bob'"'"'s server behind the proxy' '
	mkdir -p "$HOME/.config/nymbox/keys" md &&
	: >"$HOME/.config/nymbox/config" &&
	onion-key -c alice.key >alice.onion &&
	A=$(cat alice.onion) &&
	mv alice.key "$HOME/.config/nymbox/keys/$A" &&
	onion-key -c mallory.key >mallory.onion &&
	printf "From: Alice <alice@%s>\nTo: Bob <bob@%s>\nSubject: signed\nDate: Sun, 06 Dec 2026 12:00:00 +0000\nMessage-ID: <1@%s>\n\nhello Bob\n" \
	    "$A" "$B" "$A" >msg &&
	{ tcp-listen --port-file mx.port --pid-file mx.pid \
	    --max-seconds $(test_scaled 300) -- smtp-receive -l "$B" -a \
	    -d "$TRASH/md" </dev/null & } &&
	test_wait_for mx.port && test_wait_for mx.pid &&
	{ fake-socks --port-file socks.port --pid-file socks.pid \
	    --log socks.log --max-seconds $(test_scaled 300) \
	    --route "$B=$(cat mx.port)" </dev/null & } &&
	test_wait_for socks.port && test_wait_for socks.pid
'
A=$(cat alice.onion 2>/dev/null)

od() {
	TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    test_timeout 30 onion-deliver -w $(test_scaled 10) "$@"
}

test_expect_success 'Alice signs with her onion'"'"'s key; Bob'"'"'s server checks it and takes it' '
	od -f "alice@$A" "bob@$B" <msg &&
	test $(ls md/new | wc -l) = 1 &&
	f=$(ls md/new/*) &&
	head -n 1 "$f" | grep "^DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;" &&
	grep "^	d=$A; s=onion;" "$f" &&
	grep -x "hello Bob" "$f" && cp "$f" arrived
'

test_expect_success 'python3-dkim verifies what arrived, with the key of her address' '
	./pyverify arrived "$HOME/.config/nymbox/keys/$A" &&
	sed "s/hello Bob/hello Mallory/" arrived >changed &&
	! ./pyverify changed "$HOME/.config/nymbox/keys/$A"
'

test_expect_success 'no signature from an onion sender: 550, nothing kept' '
	test_expect_code 1 smtp-send -f "alice@$A" -r "bob@$B" msg -- \
	    smtp-receive -l "$B" -a -d md 2>err &&
	grep "550 5.7.1 Sender not verified: no DKIM signature" err &&
	test $(ls md/new | wc -l) = 1
'

test_expect_success 'a changed body: 550 (body hash), nothing kept' '
	sed "s/hello Bob/hello Eve/" arrived >tampered &&
	test_expect_code 1 smtp-send -f "alice@$A" -r "bob@$B" tampered -- \
	    smtp-receive -l "$B" -a -d md 2>err &&
	grep "550 5.7.1 Sender not verified: .*body hash" err &&
	test $(ls md/new | wc -l) = 1
'

test_expect_success 'Mallory signs with her own onion and claims Alice'"'"'s address: 550' '
	onion-key -s mallory.key <msg >mallory.eml &&
	test_expect_code 1 smtp-send -f "alice@$A" -r "bob@$B" mallory.eml -- \
	    smtp-receive -l "$B" -a -d md 2>err &&
	grep "550 5.7.1 Sender not verified: " err &&
	grep "$(cat mallory.onion)" err &&
	test $(ls md/new | wc -l) = 1
'

test_expect_success 'Mallory in her own name, signed: taken (the check is per address)' '
	sed "s/alice@$A/mallory@$(cat mallory.onion)/" msg | onion-key -s mallory.key >m2.eml &&
	smtp-send -f "mallory@$(cat mallory.onion)" -r "bob@$B" m2.eml -- \
	    smtp-receive -l "$B" -a -d md &&
	test $(ls md/new | wc -l) = 2
'

test_expect_success 'verification off (-v i2p): an unsigned onion sender is taken' '
	smtp-send -f "alice@$A" -r "bob@$B" msg -- \
	    smtp-receive -l "$B" -a -d md -v i2p &&
	test $(ls md/new | wc -l) = 3
'

test_expect_success 'onion-deliver signs only with the sender'"'"'s own key (a set-up error: 75, nothing sent)' '
	: >socks.log &&
	test_expect_code 75 od -k mallory.key -f "alice@$A" "bob@$B" <msg 2>err &&
	grep "unable to sign for $A: the key in mallory.key is $(cat mallory.onion).s" err &&
	! grep CONNECT socks.log &&
	test_expect_code 75 od -f "carol@$(cat mallory.onion)" "bob@$B" <msg 2>err &&
	grep "unable to sign for $(cat mallory.onion) with the key in $HOME/.config/nymbox/keys/$(cat mallory.onion): " err &&
	! grep CONNECT socks.log
'

test_expect_success 'a sender elsewhere (I2P) is not signed for, and not checked' '
	od -f "alice@alice.i2p" "bob@$B" <msg &&
	test $(ls md/new | wc -l) = 4 &&
	! grep -l "^DKIM-Signature" $(ls -t md/new/* | head -n 1)
'

test_done
