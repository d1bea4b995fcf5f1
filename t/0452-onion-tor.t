#!/bin/sh
# Onion mail over a real (private) Tor network (t/helpers/tor-net), with
# Bob's receiving side set up as nymbox-setup(7), "Receiving over Tor",
# tells it: nymbox-init, then his onion's key made with onion-key -c
# (tor serves that key: tor-net -d), the onion added to local-domains, a
# certificate, and the onion service's ports as contrib/tor/torrc
# forwards them, to the listeners of contrib/systemd's
# nymbox-onion.socket (smtp-receive, STARTTLS) and nymbox-pop.socket
# (pop-serve), each unit's ExecStart run as written per connection by
# systemd-socket-activate (Accept=yes).  Alice's onion-deliver signs with
# her onion's key and sends through the client's SOCKS port; Bob's mail
# is sealed to his inbox key, and pop-fetch -o reads it back through the
# same onion.  Cases: one message, its signature checked by smtp-receive
# and by python3-dkim; Mallory with her own onion claiming Alice's
# address, and an unsigned message: refused; a batch of 50 over one
# connection (one circuit, one SMTP session); the certificate pin that
# onion-key -p prints (delivered) and a wrong one (77, nothing sent); a
# well-formed onion the network does not know: 75 within -w, and queued,
# it stays queued after a run and is bounced once its lifetime is over
# (the queue's clock faked with NYMBOX_NOW); Tor's SOCKS port down (75).
cd "$(dirname "$0")" && . ./lib.sh
. "$TOP/t/helpers/tor-lib.sh"

H=$TOP/t/helpers
command -v onion-deliver >/dev/null || test_skip_all "onion-deliver is not built"
test -x /usr/bin/python3 && /usr/bin/python3 -c "import dkim" 2>/dev/null ||
	test_skip_all "python3-dkim is missing"
command -v openssl >/dev/null || test_skip_all "openssl(1) is missing"
command -v systemd-socket-activate >/dev/null ||
	test_skip_all "systemd-socket-activate is missing (Debian: systemd)"
tor_prereqs

# unit FILE KEY: the value of KEY in contrib/systemd/FILE, Bob's home for
# %h; nothing else of systemd's specifiers may be in it.
unit() {
	sed -n "s/^$2=//p" "$TOP/contrib/systemd/$1" | sed "s|%h|$TRASH/bob|g" >"$1.$2" &&
	test_line_count = 1 "$1.$2" && ! grep % "$1.$2" && cat "$1.$2"
}

test_expect_success 'setup: Alice'"'"'s and Mallory'"'"'s onion keys, Bob as nymbox-setup(7) says, messages' '
	mkdir -p "$HOME/.config/nymbox/keys" res q &&
	: >"$HOME/.config/nymbox/config" &&
	onion-key -c alice.key >alice.onion && A=$(cat alice.onion) &&
	mv alice.key "$HOME/.config/nymbox/keys/$A" &&
	onion-key -c mallory.key >mallory.onion &&
	printf "bob pw\n" >bob.pass && chmod 600 bob.pass &&
	mkdir bob && HOME=$PWD/bob nymbox-init -P bob.pass bob@bob.i2p >bob.init &&
	(cd bob/.config/nymbox &&
	 onion=$(onion-key -c keys/new-onion) &&
	 mv keys/new-onion "keys/$onion" &&
	 sed -i "s/^local-domains = .*/& $onion/" config &&
	 openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null &&
	 onion-key -p tls.crt "keys/$onion") >bob.domain &&
	sed "s/^[a-z2-7]*\.//" bob.domain >bob.onion &&
	sed "s/\..*//" bob.domain >pin &&
	grep "^local-domains = .* $(cat bob.onion)\$" bob/.config/nymbox/config &&
	openssl x509 -in bob/.config/nymbox/tls.crt -pubkey -noout |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
	    base32 | tr -d = | tr A-Z a-z >pin.openssl &&
	test_cmp pin.openssl pin &&
	sed -n "s/^HiddenServicePort \([0-9]*\) \(127\.0\.0\.1:[0-9]*\)\$/-s bob=\1:\2/p" \
	    "$TOP/contrib/tor/torrc" >svc &&
	test_line_count = 2 svc && grep -x -- "-s bob=25:.*" svc && grep -x -- "-s bob=110:.*" svc &&
	unit nymbox-onion.socket ListenStream >smtp.listen &&
	grep -x -- "-s bob=25:$(cat smtp.listen)" svc &&
	unit nymbox-pop.socket ListenStream >pop.listen &&
	grep -x -- "-s bob=110:$(cat pop.listen)" svc &&
	unit "nymbox-onion@.service" ExecStart >smtp.cmd &&
	unit "nymbox-pop@.service" ExecStart >pop.cmd &&
	printf "From: Alice <alice@%s>\nSubject: over Tor\n\nhello Bob\n" "$A" >msg &&
	i=0 && while test $i -lt 50; do
		i=$((i + 1)) && sed "s/over Tor/batch $i/" msg >q/$i || return 1
	done &&
	sed "s/over Tor/pinned/" msg >msgpin &&
	sed "s/over Tor/nowhere/" msg >msgq &&
	onion-key -s mallory.key <msg >mallory.eml
'
A=$(cat alice.onion 2>/dev/null)
B=$(cat bob.onion 2>/dev/null)
# torproject.org's onion: well-formed, and unknown to this network.
nowhere=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion

# raw.py MSG SENDER RCPT: SMTP through Tor's SOCKS port with no help from
# nymbox (Mallory's own client); prints the final reply.
write_script raw.py /usr/bin/python3 <<\EOF
import os, socket, struct, sys
msg, sender, rcpt = open(sys.argv[1], "rb").read(), sys.argv[2], sys.argv[3]
host, port = os.environ["TOR_SOCKS"].split(":")
s = socket.create_connection((host, int(port)), timeout=60)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
name = rcpt.split("@")[1].encode()
s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", 25))
r = s.recv(10)
assert r[1] == 0, "socks reply %d" % r[1]
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if l[3:4] != "-":
            return l.strip()
reply()
for c in ("EHLO x", "MAIL FROM:<%s>" % sender, "RCPT TO:<%s>" % rcpt, "DATA"):
    s.sendall(c.encode() + b"\r\n")
    reply()
s.sendall(msg.replace(b"\n", b"\r\n") + b".\r\n")
print(reply())
s.sendall(b"QUIT\r\n")
EOF

write_script inside.sh <<'EOS'
. tor-lib.sh
R=$TRASH/res
r=$R
echo "$TOR_NET_READY" >"$r/ready"
echo "$ONION_bob" >"$r/onion"
A=$(cat "$TRASH/alice.onion")
B=$ONION_bob
# Bob's receiving side as the units run it, one process per connection;
# the SMTP one counted in res/conns.
: >"$r/conns"
HOME=$TRASH/bob tor_activate smtp "$(cat "$TRASH/smtp.listen")" \
    sh -c 'echo x >>"$0"; exec "$@"' "$r/conns" $(cat "$TRASH/smtp.cmd") || exit 1
HOME=$TRASH/bob tor_activate pop "$(cat "$TRASH/pop.listen")" \
    $(cat "$TRASH/pop.cmd") || exit 1
w=$((60 * NYM_TEST_SCALE))
tor_step one onion-deliver -w $w -f "alice@$A" "bob@$B" <"$TRASH/msg"
wc -l <"$r/conns" >"$r/n.one"
tor_step mallory "$TRASH/raw.py" "$TRASH/mallory.eml" "alice@$A" "bob@$B"
tor_step unsigned "$TRASH/raw.py" "$TRASH/msg" "alice@$A" "bob@$B"
n0=$(wc -l <"$r/conns")
for f in "$TRASH"/q/*; do echo "$f bob@$B"; done >"$r/jobs"
tor_step batch onion-deliver -B -w $w -f "alice@$A" <"$r/jobs"
echo $(($(wc -l <"$r/conns") - n0)) >"$r/n.batch"
tor_step pinned onion-deliver -w $w -f "alice@$A" "bob@$(cat "$TRASH/bob.domain")" \
    <"$TRASH/msgpin"
tor_step wrongpin onion-deliver -w $w -f "alice@$A" \
    "bob@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.$B" <"$TRASH/msg"
# Bob's mail program elsewhere: pop-fetch through the same onion.
tor_step fetch pop-fetch -o "$B" -w $w -u bob -P "$TRASH/bob.pass" -d "$TRASH/got"
# torproject.org's onion: well-formed, and unknown to this network.
nowhere=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
w=$((10 * NYM_TEST_SCALE))
echo $w >"$r/nowhere.w"
tor_step nowhere env TOR_SOCKS="$TOR_SOCKS_EXTENDED" onion-deliver -w $w \
    -f "alice@$A" "bob@$nowhere" <"$TRASH/msg"
# The same through the queue (delivery auto: onion-deliver, its default
# -w), its lifetime 600 s: a run now leaves it queued; a run a day later
# finds the lifetime over and bounces it.
now=$(date +%s)
echo "$now" >"$r/now"
q() {	# NAME SECONDS-FROM-NOW queue-run's options...
	n=$1 t=$(($now + $2))
	shift 2
	tor_step "$n" env TOR_SOCKS="$TOR_SOCKS_EXTENDED" NYMBOX_NOW=$t \
	    queue-run -q "$TRASH/Q" -L 600 -b "$TRASH/bounces" "$@"
}
tor_step dq env NYMBOX_NOW=$now delay-queue -q "$TRASH/Q" -m now \
    -f "alice@$A" "bob@$nowhere" <"$TRASH/msgq"
q run1 0
q list1 0 -l
find "$TRASH/bounces" -type f >"$r/bounces1" 2>/dev/null
q run2 86400
q list2 86400 -l
tor_step down env TOR_SOCKS=127.0.0.1:1 onion-deliver -w $w -f "alice@$A" \
    "bob@$B" <"$TRASH/msg"
kill "$(cat "$r/smtp.pid")" "$(cat "$r/pop.pid")"
wait
EOS

test_expect_success 'the private Tor network runs the deliveries (tor-net)' '
	t0=$(date +%s) &&
	test_timeout 900 "$H/tor-net" -w $(test_scaled 240) $(cat svc) \
	    -d bob="$TRASH/bob/.config/nymbox/keys/$B" -- ./inside.sh >net.out 2>net.err
	rc=$?
	echo $(($(date +%s) - t0)) >net.time
	cat net.err && test $rc = 0 &&
	test "$(cat res/onion)" = "$B"
'
echo "# tor-net ready in $(cat res/ready 2>/dev/null) s; first message $(cat res/one.ms 2>/dev/null) ms; 50 in a batch $(cat res/batch.ms 2>/dev/null) ms; 52 fetched in $(cat res/fetch.ms 2>/dev/null) ms; unknown onion $(cat res/nowhere.ms 2>/dev/null) ms, queue runs $(cat res/run1.ms 2>/dev/null) and $(cat res/run2.ms 2>/dev/null) ms; the whole run $(cat net.time 2>/dev/null) s"

test_expect_success 'Bob'"'"'s units ran as written: listening, one process per connection' '
	test_grep "^Listening on $(cat smtp.listen) " res/smtp.log &&
	test_grep "^Listening on $(cat pop.listen) " res/pop.log &&
	grep -F " $(cat smtp.cmd))" res/smtp.log | grep "^Execing sh " &&
	test_grep -x "Execing $(cat pop.cmd) ($(cat pop.cmd))" res/pop.log &&
	test "$(grep -c "^Spawned sh " res/smtp.log)" = "$(wc -l <res/conns)" &&
	test_grep -v -E "Sanitizer|runtime error" res/smtp.log &&
	test_grep -v -E "Sanitizer|runtime error" res/pop.log
'

test_expect_success 'pop-fetch -o read Bob'"'"'s sealed mail through the same onion' '
	test "$(cat res/fetch.rc)" = 0 && test_must_be_empty res/fetch.err &&
	test "$(ls got/new | wc -l)" = 52 &&
	test -z "$(find bob/.config/nymbox/inbox/new bob/.config/nymbox/inbox/cur -type f)"
'

test_expect_success 'Alice'"'"'s message arrived signed, checked by smtp-receive and python3-dkim' '
	test "$(cat res/one.rc)" = 0 && test_must_be_empty res/one.err &&
	test "$(cat res/n.one)" = 1 &&
	f=$(grep -l "^Subject: over Tor" got/new/*) && test $(echo "$f" | wc -l) = 1 &&
	head -n 1 "$f" | grep "^DKIM-Signature: v=1; a=ed25519-sha256" &&
	/usr/bin/python3 -c "
import base64, sys, dkim
msg = open(sys.argv[1], \"rb\").read()
pk = open(sys.argv[2], \"rb\").read()[32:]
rec = b\"v=DKIM1; k=ed25519; p=\" + base64.b64encode(pk)
sys.exit(0 if dkim.DKIM(msg).verify(dnsfunc=lambda n, timeout=5: rec) else 1)
" "$f" "$HOME/.config/nymbox/keys/$A/hs_ed25519_public_key"
'

test_expect_success 'Mallory'"'"'s onion signing for Alice'"'"'s address, and no signature: refused' '
	test "$(cat res/mallory.rc)" = 0 &&
	grep "^550 5.7.1 Sender not verified: " res/mallory.out &&
	grep "^550 5.7.1 Sender not verified: no DKIM signature" res/unsigned.out &&
	test "$(grep -l "^Subject: over Tor" got/new/* | wc -l)" = 1
'

test_expect_success 'a batch of 50 over one connection: one circuit, one session' '
	test "$(cat res/batch.rc)" = 0 &&
	test "$(grep -c " 0 bob@" res/batch.out)" = 50 &&
	test "$(cat res/n.batch)" = 1 &&
	test "$(grep -l "^Subject: batch" got/new/* | wc -l)" = 50
'

test_expect_success 'STARTTLS with the pin onion-key -p printed: delivered; a wrong pin: 77, nothing sent' '
	test "$(cat res/pinned.rc)" = 0 &&
	test "$(cat res/wrongpin.rc)" = 77 &&
	grep "does not match the address.s pin: expected a\{32\}, the server has $(cat pin)" res/wrongpin.err &&
	test "$(grep -l "^Subject: pinned" got/new/* | wc -l)" = 1
'

test_expect_success 'an onion the network does not know: 75 within -w; Tor down: 75' '
	test "$(cat res/nowhere.rc)" = 75 &&
	test "$(cat res/nowhere.ms)" -le "$(( ($(cat res/nowhere.w) + 5) * 1000 ))" &&
	grep "onion service descriptor can not be found" res/nowhere.err &&
	test "$(cat res/down.rc)" = 75 &&
	grep "is tor running" res/down.err
'

test_expect_success '... queued, it stays queued after a run (75, the reason kept)' '
	test "$(cat res/dq.rc)" = 0 &&
	test "$(cat res/run1.rc)" = 0 && test "$(cat res/list1.rc)" = 0 &&
	test_line_count = 1 res/list1.out &&
	set -- $(cat res/list1.out) &&
	test "$2" = now && test "$4" = 1 && test "$5" = "bob@$nowhere" &&
	test_grep "onion-deliver -B reported 75" res/list1.out &&
	test_grep "descriptor can not be found" res/list1.out &&
	test_must_be_empty res/bounces1
'

test_expect_success '... and once its lifetime is over, bounced: a DSN naming the recipient' '
	test "$(cat res/run2.rc)" = 0 &&
	test_line_count = 1 res/list2.out &&
	set -- $(cat res/list2.out) && test "$3" = failed &&
	test -z "$(ls Q/mess)" &&
	find bounces/new -type f >dsn && test_line_count = 1 dsn &&
	f=$(cat dsn) &&
	test_grep "^Content-Type: multipart/report;" "$f" &&
	test_grep "report-type=delivery-status" "$f" &&
	test_grep -i "^Final-Recipient: rfc822; *bob@$nowhere" "$f" &&
	test_grep -i "^Action: failed" "$f" &&
	test_grep -i "^Status: 4\.4\.7" "$f" &&
	test_grep "^To: <\{0,1\}alice@$A" "$f" &&
	test_grep "^Subject: nowhere" "$f"
'

test_done
