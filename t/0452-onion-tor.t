#!/bin/sh
# Onion mail over a real (private) Tor network (t/helpers/tor-net): Bob's
# onion service forwards port 25 to smtp-receive (under socat on the
# loopback inside the network's namespace) with a certificate for
# STARTTLS; Alice's onion-deliver signs with her onion's key and sends
# through the client's SOCKS port.  Cases: one message, its signature
# checked by smtp-receive and by python3-dkim; Mallory with her own onion
# claiming Alice's address, and an unsigned message: refused; a batch of
# 50 over one connection (one circuit, one SMTP session); the certificate
# pin right (delivered) and wrong (77, nothing sent); a well-formed onion
# the network does not know (75 within -w); Tor's SOCKS port down (75).
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v onion-deliver >/dev/null || test_skip_all "onion-deliver is not built"
test -x /usr/bin/python3 && /usr/bin/python3 -c "import dkim" 2>/dev/null ||
	test_skip_all "python3-dkim is missing"
test -x /usr/sbin/tor && test -x /usr/bin/tor-gencert ||
	test_skip_all "tor is not installed (Debian: tor)"
command -v socat >/dev/null || test_skip_all "socat is missing"
command -v openssl >/dev/null || test_skip_all "openssl(1) is missing"
command -v ip >/dev/null || test_skip_all "no ip(8) for the network namespace (Debian: iproute2)"
if test "$(id -u)" = 0; then ns="unshare -n"; else ns="unshare -r -n"; fi
$ns true 2>/dev/null ||
	test_skip_all "no network namespace here ($ns fails): the private Tor network needs one"

test_expect_success 'setup: Alice'"'"'s and Mallory'"'"'s onion keys, a certificate, messages' '
	mkdir -p "$HOME/.config/nymbox/keys" md res q &&
	: >"$HOME/.config/nymbox/config" &&
	onion-key -c alice.key >alice.onion && A=$(cat alice.onion) &&
	mv alice.key "$HOME/.config/nymbox/keys/$A" &&
	onion-key -c mallory.key >mallory.onion &&
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null &&
	openssl x509 -in tls.crt -pubkey -noout |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
	    base32 | tr -d = | tr A-Z a-z >pin &&
	printf "From: Alice <alice@%s>\nSubject: over Tor\n\nhello Bob\n" "$A" >msg &&
	i=0 && while test $i -lt 50; do
		i=$((i + 1)) && sed "s/over Tor/batch $i/" msg >q/$i || return 1
	done &&
	sed "s/over Tor/pinned/" msg >msgpin &&
	onion-key -s mallory.key <msg >mallory.eml &&
	write_script sr.sh <<-EOF
	echo x >>"$TRASH/res/conns"
	exec smtp-receive -l "\$ONION_bob" -a -d "$TRASH/md" \
	    -C "$TRASH/tls.crt" -K "$TRASH/tls.key"
	EOF
'
A=$(cat alice.onion 2>/dev/null)

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
r=$TRASH/res
echo "$TOR_NET_READY" >"$r/ready"
echo "$ONION_bob" >"$r/onion"
socat TCP-LISTEN:2525,bind=127.0.0.1,reuseaddr,fork EXEC:"$TRASH/sr.sh" \
    2>"$r/socat.err" &
echo $! >"$r/socat.pid"
n=0
until (echo QUIT | socat - TCP:127.0.0.1:2525) 2>/dev/null | grep -q '^220'; do
	n=$((n + 1))
	test $n -lt $((100 * NYM_TEST_SCALE)) || { echo "no smtp-receive on 2525" >&2; exit 1; }
	sleep 0.1
done
: >"$r/conns"
w=$((60 * NYM_TEST_SCALE))
A=$(cat "$TRASH/alice.onion")
run() {	# NAME command...: its output, error, status and time in res/
	n=$1; shift
	t0=$(date +%s%N)
	"$@" >"$r/$n.out" 2>"$r/$n.err"
	echo $? >"$r/$n.rc"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$r/$n.ms"
}
run one onion-deliver -w $w -f "alice@$A" "bob@$ONION_bob" <"$TRASH/msg"
cp "$r/conns" "$r/conns.one"
run mallory "$TRASH/raw.py" "$TRASH/mallory.eml" "alice@$A" "bob@$ONION_bob"
run unsigned "$TRASH/raw.py" "$TRASH/msg" "alice@$A" "bob@$ONION_bob"
: >"$r/conns"
for f in "$TRASH"/q/*; do echo "$f bob@$ONION_bob"; done >"$r/jobs"
run batch onion-deliver -B -w $w -f "alice@$A" <"$r/jobs"
cp "$r/conns" "$r/conns.batch"
pin=$(cat "$TRASH/pin")
run pinned onion-deliver -w $w -f "alice@$A" "bob@$pin.$ONION_bob" <"$TRASH/msgpin"
run wrongpin onion-deliver -w $w -f "alice@$A" \
    "bob@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.$ONION_bob" <"$TRASH/msg"
nowhere=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
w=$((10 * NYM_TEST_SCALE))
echo $w >"$r/nowhere.w"
TOR_SOCKS=$TOR_SOCKS_EXTENDED run nowhere onion-deliver -w $w -f "alice@$A" \
    "bob@$nowhere" <"$TRASH/msg"
TOR_SOCKS=127.0.0.1:1 run down onion-deliver -w $w -f "alice@$A" \
    "bob@$ONION_bob" <"$TRASH/msg"
kill "$(cat "$r/socat.pid")"
wait
EOS

test_expect_success 'the private Tor network runs the deliveries (tor-net)' '
	t0=$(date +%s) &&
	test_timeout 900 "$H/tor-net" -w $(test_scaled 240) \
	    -s bob=25:127.0.0.1:2525 -- ./inside.sh >net.out 2>net.err
	rc=$?
	echo $(($(date +%s) - t0)) >net.time
	cat net.err && test $rc = 0
'
echo "# tor-net ready in $(cat res/ready 2>/dev/null) s; first message $(cat res/one.ms 2>/dev/null) ms; 50 in a batch $(cat res/batch.ms 2>/dev/null) ms; the whole run $(cat net.time 2>/dev/null) s"

test_expect_success 'Alice'"'"'s message arrived signed, checked by smtp-receive and python3-dkim' '
	test "$(cat res/one.rc)" = 0 && test_must_be_empty res/one.err &&
	test "$(cat res/conns.one)" = x &&
	f=$(grep -l "^Subject: over Tor" md/new/*) && test $(echo "$f" | wc -l) = 1 &&
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
	test "$(grep -l "^Subject: over Tor" md/new/* | wc -l)" = 1
'

test_expect_success 'a batch of 50 over one connection: one circuit, one session' '
	test "$(cat res/batch.rc)" = 0 &&
	test "$(grep -c " 0 bob@" res/batch.out)" = 50 &&
	test "$(wc -l <res/conns.batch)" = 1 &&
	test "$(grep -l "^Subject: batch" md/new/* | wc -l)" = 50
'

test_expect_success 'STARTTLS with the right pin: delivered; a wrong pin: 77, nothing sent' '
	test "$(cat res/pinned.rc)" = 0 &&
	test "$(cat res/wrongpin.rc)" = 77 &&
	grep "does not match the address.s pin: expected a\{32\}, the server has $(cat pin)" res/wrongpin.err &&
	test "$(grep -l "^Subject: pinned" md/new/* | wc -l)" = 1 &&
	test "$(ls md/new | wc -l)" = 52
'

test_expect_success 'an onion the network does not know: 75 within -w; Tor down: 75' '
	test "$(cat res/nowhere.rc)" = 75 &&
	test "$(cat res/nowhere.ms)" -le "$(( ($(cat res/nowhere.w) + 5) * 1000 ))" &&
	grep "onion service descriptor can not be found" res/nowhere.err &&
	test "$(cat res/down.rc)" = 75 &&
	grep "is tor running" res/down.err
'

test_done
