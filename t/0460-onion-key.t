#!/bin/sh
# onion-key: an onion's key made as Tor makes it (and served by a real
# tor, offline), Tor's own key directory read, mail signed with it and
# checked by our verifier and independently by python3-dkim, mail signed
# by python3-dkim checked by ours, and each refusal with its reason and
# exit code.
cd "$(dirname "$0")" && . ./lib.sh

PY=/usr/bin/python3
$PY -c "import dkim, nacl" 2>/dev/null ||
	tl_bail_ "python3-dkim (and python3-nacl) missing: sh t/deps.sh test"

# pydkim verify MSG KEYDIR: python3-dkim checks MSG, the DNS record it
# asks for answered with the key of KEYDIR's hs_ed25519_public_key.
write_script pyverify "$PY" <<\EOF
import base64, sys, dkim
msg = open(sys.argv[1], "rb").read()
pk = open(sys.argv[2], "rb").read()
assert len(pk) == 64 and pk.startswith(b"== ed25519v1-public: type0 ==")
rec = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(pk[32:])
asked = []
def dns(name, timeout=5):
    asked.append(name)
    return rec
ok = dkim.DKIM(msg).verify(dnsfunc=dns)
print("asked", b",".join(asked).decode())
sys.exit(0 if ok else 1)
EOF

# pysign SEED-FILE MSG: python3-dkim signs MSG with the Ed25519 seed
# (its own key: our key files keep Tor's expanded key, which no seed
# API takes); it prints the message signed, and writes the seed's onion
# address, computed here from rend-spec-v3, to MSG.onion.
write_script pysign "$PY" <<\EOF
import base64, hashlib, sys, dkim, nacl.signing
seed = open(sys.argv[1], "rb").read()
msg = open(sys.argv[2], "rb").read()
pk = bytes(nacl.signing.SigningKey(seed).verify_key)
chk = hashlib.sha3_256(b".onion checksum" + pk + b"\x03").digest()[:2]
onion = base64.b32encode(pk + chk + b"\x03").decode().lower() + ".onion"
open(sys.argv[2] + ".onion", "w").write(onion + "\n")
sig = dkim.sign(msg, b"onion", onion.encode(), base64.b64encode(seed),
    canonicalize=(b"relaxed", b"relaxed"),
    signature_algorithm=b"ed25519-sha256",
    include_headers=[b"from", b"to", b"subject", b"date"])
sys.stdout.buffer.write(sig + msg)
EOF

cat >msg <<\EOF
From: Alice <alice@example.onion>
To: Bob <bob@example.onion>
Subject:   lunch   on  Tuesday
Date: Tue, 14 Nov 2023 22:00:00 +0000
Message-ID: <x1@example.onion>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Shall we?  
	Bring the notes.


EOF

test_expect_success '-c makes a HiddenServiceDir: 0700, files 0600, Tor'"'"'s formats' '
	onion-key -c key >addr &&
	test "$(stat -c %a key)" = 700 &&
	for f in hs_ed25519_secret_key hs_ed25519_public_key hostname; do
		test "$(stat -c %a key/$f)" = 600 || return 1
	done &&
	test "$(wc -c <key/hs_ed25519_secret_key)" = 96 &&
	test "$(wc -c <key/hs_ed25519_public_key)" = 64 &&
	test "$(head -c 29 key/hs_ed25519_secret_key)" = "== ed25519v1-secret: type0 ==" &&
	test "$(head -c 29 key/hs_ed25519_public_key)" = "== ed25519v1-public: type0 ==" &&
	grep -xE "[a-z2-7]{55}d\.onion" addr &&
	test_cmp addr key/hostname &&
	onion-key key >addr2 && test_cmp addr addr2 &&
	test "$(ls -A | grep -c "^key")" = 1
'

test_expect_success '-c never touches an existing directory, and two keys differ' '
	test_expect_code 78 onion-key -c key 2>err &&
	test_grep "unable to create onion key key: File exists" err &&
	test_cmp addr key/hostname &&
	onion-key -c key2 >addr3 && ! test_cmp addr addr3 >/dev/null
'

test_expect_success 'a secret key others can read, or one that does not match, is refused (78)' '
	cp -rp key k1 && chmod 640 k1/hs_ed25519_secret_key &&
	test_expect_code 78 onion-key k1 2>err &&
	test_grep "unable to read onion key k1: hs_ed25519_secret_key: readable by others" err &&
	cp -rp key k2 && cp key2/hs_ed25519_public_key k2/ &&
	test_expect_code 78 onion-key k2 2>err &&
	test_grep "hs_ed25519_public_key: not the public key" err &&
	cp -rp key k3 && cp key2/hostname k3/ &&
	test_expect_code 78 onion-key k3 2>err &&
	test_grep "hostname: not the onion name" err &&
	cp -rp key k4 && head -c 95 key/hs_ed25519_secret_key >k4/hs_ed25519_secret_key &&
	test_expect_code 78 onion-key k4 2>err &&
	test_grep "not a Tor v3 secret key" err &&
	test_expect_code 78 onion-key nokey 2>err &&
	test_grep "unable to read onion key nokey: hs_ed25519_secret_key: No such file" err
'

# A tor that can reach nothing (t/helpers/tor-lab's set-up) still loads
# its onion services' keys: with only the secret key there, it writes
# hostname and the public key from it.
tor_hs() {
	mkdir -p "$1.data" && chmod 700 "$1.data" &&
	cat >"$1.torrc" <<-EOF &&
	DataDirectory $TRASH/$1.data
	SocksPort 0
	RunAsDaemon 0
	Log notice file $TRASH/$1.data/notice.log
	HiddenServiceDir $TRASH/$1
	HiddenServicePort 25 127.0.0.1:9
	DirAuthority lab0 orport=9 no-v2 v3ident=0000000000000000000000000000000000000000 127.0.0.1:9 0000000000000000000000000000000000000000
	UseDefaultFallbackDirs 0
	EOF
	{ /usr/sbin/tor -f "$1.torrc" --defaults-torrc /dev/null \
	    >"$1.out" 2>&1 </dev/null & echo $! >"$1.pid"; } &&
	test_atexit "kill $(cat "$1.pid") 2>/dev/null; true" &&
	test_wait_until "grep -qx \"[a-z2-7]*\\.onion\" $1/hostname 2>/dev/null &&
	    test -s $1/hs_ed25519_public_key" 60 &&
	kill "$(cat "$1.pid")" && test_wait_gone "$(cat "$1.pid")"
}

test_expect_success 'a real tor serves our key: from the secret key alone it names the same onion' '
	test -x /usr/sbin/tor || { echo "tor is missing"; false; } &&
	cp -rp key served && cp key/hs_ed25519_secret_key secret.before &&
	rm served/hostname served/hs_ed25519_public_key &&
	tor_hs served &&
	test_grep "Found secret key but not" served.data/notice.log &&
	test_cmp addr served/hostname &&
	cmp secret.before served/hs_ed25519_secret_key &&
	cmp key/hs_ed25519_public_key served/hs_ed25519_public_key
'

test_expect_success 'the key tor makes itself is read, and signs' '
	mkdir -m 700 torkey && tor_hs torkey &&
	onion-key torkey >toraddr && test_cmp torkey/hostname toraddr &&
	onion-key -s torkey <msg >tsigned &&
	onion-key -v "$(cat toraddr)" <tsigned &&
	./pyverify tsigned torkey/hs_ed25519_public_key
'

test_expect_success '-s prepends one DKIM-Signature: ed25519-sha256, d= the onion, From over-signed' '
	onion-key -s key <msg >signed &&
	sed -n "/^DKIM-Signature:/,/^[^ 	D]/p" signed | sed "\$d" >sig &&
	test "$(grep -c "^DKIM-Signature:" signed)" = 1 &&
	tail -n +$(($(wc -l <sig) + 1)) signed >rest && test_cmp msg rest &&
	tr -d "\n\t" <sig >sig1 &&
	test_grep "a=ed25519-sha256; c=relaxed/relaxed;" sig1 &&
	test_grep "d=$(cat addr); s=onion;" sig1 &&
	test_grep "h=from:from:" sig1 &&
	test_grep -v "t=" sig1 &&
	awk "length > 998 { exit 1 }" sig &&
	test_must_fail grep -q "$(printf "\r")" signed
'

test_expect_success '-s from a pipe as from a file; CRLF mail gets a CRLF field' '
	cat msg | onion-key -s key >signed2 && test_cmp signed signed2 &&
	sed "s/\$/$(printf "\r")/" msg >crlf &&
	onion-key -s key <crlf >signed-crlf &&
	head -n 1 signed-crlf | grep -q "$(printf "\r")\$" &&
	test "$(grep -c "$(printf "\r")\$" signed-crlf)" = "$(wc -l <signed-crlf)"
'

test_expect_success 'our verifier accepts it, LF or CRLF, with the onion in any case' '
	onion-key -v "$(cat addr)" <signed &&
	onion-key -v "$(tr a-z A-Z <addr)" <signed-crlf &&
	onion-key -v "pin.$(cat addr)" <signed
'

test_expect_success 'python3-dkim accepts it, asking only for s=onion at the onion' '
	./pyverify signed key/hs_ed25519_public_key >out &&
	test_grep -x "asked onion._domainkey.$(cat addr)." out &&
	./pyverify signed-crlf key/hs_ed25519_public_key &&
	test_must_fail ./pyverify signed key2/hs_ed25519_public_key
'

test_expect_success 'python3-dkim signs with its own seed; our verifier accepts it' '
	head -c 32 /dev/urandom >seed &&
	./pysign seed msg >pysigned &&
	test_grep "^DKIM-Signature: .*a=ed25519-sha256" pysigned &&
	onion-key -v "$(cat msg.onion)" <pysigned &&
	test_expect_code 77 onion-key -v "$(cat addr)" <pysigned 2>err &&
	test_grep "signed by another domain ($(cat msg.onion))" err
'

# edges: bodies made of what the body's scanner treats apart (lib/dkim.c
# copies clean text 32 or 16 bytes a step): runs of WSP across those
# blocks, WSP before a line end at a block's edge, bare CRs, lines ending
# at 8, 16, 32 and 64 bytes, trailing empty lines (more than a block of
# them), only WSP, none at all, and long random mixtures; each written
# to edge.N with msg's header.  Prints how many.
write_script edges "$PY" <<\EOF
import random
random.seed(13)
hdr = open("msg", "rb").read().split(b"\n\n", 1)[0] + b"\n\n"
bodies = [
    b"a" * 30 + b"   \t  " + b"b" * 40 + b"\n" + b"c" * 60 + b" \t\n",
    b"x" * 31 + b" \r\n" + b"y" * 32 + b"\t\r\n" + b"z" * 15 + b"  \r\n",
    b"abc\rdef\r\n" + b"x" * 35 + b"\r" + b"y\n" + b"w" * 31 + b"\r\r\n",
    b"z\n\n \n\t\n\n",
    b"end\n" + b"\n" * 40 + b" \n\t\r\n\r\n" * 10,
    b"q" * 8 + b"\n" + b"q" * 16 + b"\n" + b"r" * 32 + b"\n" +
        b"s" * 64 + b"\r\n" + b"t" * 33 + b"\n",
    b"   \t \n\t\n",
    b"",
    b" ".join(b"w" * random.randint(1, 9) + b" " * random.choice((0, 0, 1, 2))
        for _ in range(600)) + b"\n",
    b"".join(random.choice((b"word", b"  ", b" ", b"\t", b"\n", b"\r\n",
        b"\r", b"x" * 40, b" \n", b"\n\n")) for _ in range(20000)) + b"\n",
]
for i, b in enumerate(bodies):
    open("edge.%d" % i, "wb").write(hdr + b)
print(len(bodies))
EOF

test_expect_success 'bodies around the body scanner'"'"'s blocks: python3-dkim and we agree both ways' '
	n=$(./edges) && test "$n" -gt 8 &&
	i=0 &&
	while test $i -lt $n; do
		onion-key -s key <edge.$i >edge.$i.signed &&
		onion-key -v "$(cat addr)" <edge.$i.signed &&
		./pyverify edge.$i.signed key/hs_ed25519_public_key >/dev/null &&
		./pysign seed edge.$i >edge.$i.py &&
		onion-key -v "$(cat edge.$i.onion)" <edge.$i.py || {
			echo "edge.$i"; return 1; }
		i=$((i + 1))
	done
'

# refuse CODE REASON FILE: onion-key -v refuses FILE from our onion.
refuse() {
	test_expect_code "$1" onion-key -v "$(cat addr)" <"$3" 2>err &&
	test_grep "^onion-key: unable to verify the message from $(cat addr): $2" err &&
	test_line_count = 1 err
}

test_expect_success 'a changed body is refused (77): body hash mismatch' '
	sed "s/Shall we/Shall I/" signed >b1 && refuse 77 "body hash mismatch" b1 &&
	test_must_fail ./pyverify b1 key/hs_ed25519_public_key &&
	{ cat signed && echo "P.S. appended"; } >b2 && refuse 77 "body hash mismatch" b2
'

test_expect_success 'a changed or added signed field is refused (77): bad signature' '
	sed "s/lunch/dinner/" signed >h1 && refuse 77 "bad signature" h1 &&
	test_must_fail ./pyverify h1 key/hs_ed25519_public_key &&
	sed "s/^To: Bob/Cc: eve@x.onion\nTo: Bob/" signed >h2 &&
	refuse 77 "bad signature" h2 &&
	sed "s/^From: Alice/From: Mallory <m@x.onion>\nFrom: Alice/" signed >h3 &&
	refuse 77 "bad signature" h3
'

test_expect_success 'a field not signed may change; whitespace in signed fields may too (relaxed)' '
	sed "s/^Subject:   lunch   on  Tuesday/Subject: lunch on Tuesday  /" signed >w1 &&
	onion-key -v "$(cat addr)" <w1 &&
	sed "1i\\
Received: from somewhere" signed >w2 &&
	onion-key -v "$(cat addr)" <w2
'

test_expect_success 'a signature by another onion: 77, naming it' '
	onion-key -s key2 <msg >o1 &&
	refuse 77 "signed by another domain ($(cat addr3))" o1
'

test_expect_success 'Mallory signs with her key, naming our onion in d=: bad signature' '
	sed "s/d=$(cat addr3)/d=$(cat addr)/" o1 >o2 &&
	test_grep "d=$(cat addr)" o2 &&
	refuse 77 "bad signature" o2
'

test_expect_success 'no signature at all: 77' '
	refuse 77 "no DKIM signature" msg
'

test_expect_success 'malformed tag lists and unsupported kinds: 77 with the reason' '
	sed "s/a=ed25519-sha256/a=rsa-sha256/" signed >m1 &&
	refuse 77 "unsupported algorithm a=rsa-sha256" m1 &&
	sed "s/c=relaxed\/relaxed/c=simple\/simple/" signed >m2 &&
	refuse 77 "unsupported canonicalization" m2 &&
	sed "s/v=1;/v=1; v=1;/" signed >m3 &&
	refuse 77 "malformed DKIM-Signature tag list: a tag given twice" m3 &&
	sed "s/v=1;/v=1; l=3;/" signed >m4 &&
	refuse 77 "unsupported body length limit" m4
'

test_expect_success 'a header section over the limit: 65; a bad onion: 64' '
	{ cat signed | sed -n "1,/^\$/p" | sed "\$d" &&
	  $PY -c "print((\"X-Pad: \" + \"a\" * 998 + \"\\n\") * 1100, end=\"\")" &&
	  echo && echo body; } >big &&
	refuse 65 "header section too big" big &&
	test_expect_code 64 onion-key -v example.onion <signed 2>err &&
	test_grep "unable to use example.onion: not a v3 onion address" err
'

# onion-key(1)'s EXAMPLES, claimed here (t/0940-doc-examples.t counts
# this file's claims) and run as written, in a home of their own.
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'onion-key(1) EXAMPLES run as written' '
	ex ex1 <<-\EOF &&
	onion-key -c ~/.config/nymbox/onion
	EOF
	ex ex2 <<-\EOF &&
	onion-key -s ~/.config/nymbox/onion < message > signed
	onion-key -v "$(onion-key ~/.config/nymbox/onion)" < signed
	EOF
	mkdir -p exhome/w && cp msg exhome/w/message &&
	(cd exhome/w && HOME=$TRASH/exhome sh -e ../../ex1 >addr &&
	 HOME=$TRASH/exhome sh -e ../../ex2) &&
	test_cmp exhome/w/addr exhome/.config/nymbox/onion/hostname &&
	test_grep "^DKIM-Signature: " exhome/w/signed &&
	sed "s/lunch/dinner/" exhome/w/signed >exhome/w/bad &&
	mv exhome/w/bad exhome/w/signed && sed -n 2p ex2 >ex2v &&
	(cd exhome/w && test_expect_code 77 env HOME=$TRASH/exhome sh -e ../../ex2v)
'

test_expect_success '-p: the pin of a certificate before the onion address' '
	command -v openssl >/dev/null || { echo "openssl(1) is missing"; false; } &&
	ex ex3 <<-\EOF &&
	onion-key -p tls.crt ~/.config/nymbox/onion
	EOF
	(cd exhome/w &&
	 openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null &&
	 openssl x509 -in tls.crt -pubkey -noout |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
	    base32 | tr -d = | tr A-Z a-z >pin &&
	 HOME=$TRASH/exhome sh -e ../../ex3 >domain &&
	 echo "$(cat pin).$(cat addr)" >want && test_cmp want domain &&
	 echo "not a certificate" >junk.crt &&
	 test_expect_code 78 env HOME=$TRASH/exhome onion-key -p junk.crt \
	    "$TRASH/exhome/.config/nymbox/onion" 2>err &&
	 test_grep "unable to read the certificate" err)
'

test_expect_success 'usage' '
	test_expect_code 64 onion-key 2>err && test_grep "^usage: onion-key" err &&
	test_expect_code 64 onion-key -c -s key 2>err &&
	test_expect_code 64 onion-key -c -p tls.crt key 2>err &&
	test_expect_code 64 onion-key -v 2>err
'

test_done
