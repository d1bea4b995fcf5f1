#!/bin/sh
# nymbox-init: an identity from nothing.  The files it makes and their
# modes, nothing replaced on a second run, the password never taken
# from argv, the output, keys that are real (the ElGamal pair checked
# against RFC 3526's prime, the Ed25519 seed against its public key, and
# the whole key taken by a real i2pd, whose NAMING LOOKUP NAME=ME gives
# back exactly the destination written), and a configuration the
# programs run with as written: mail in through smtp-receive, sealed by
# mbox-encrypt, read back from pop-serve with the password; the line to
# publish served as an eepsite's i2pmail.key and read by resolve-maildest.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
CONF=$HOME/.config/nymbox

# The password file: mode 0600, as the programs demand.
pwfile() {
	printf '%s\n' "${2:-correct horse}" >"$1" && chmod 600 "$1"
}

# keyinfo KEYFILE: "total publen b32", computed here, not by nymbox.
keyinfo() {
	python3 -c 'import base64, hashlib, sys
b = base64.b64decode(open(sys.argv[1]).read().strip(), b"-~")
n = 387 + int.from_bytes(b[385:387], "big")
h = base64.b32encode(hashlib.sha256(b[:n]).digest()).decode().lower().rstrip("=")
print(len(b), n, h + ".b32.i2p")' "$1"
}

test_expect_success 'setup' '
	pwfile pw
'

test_expect_success 'a fresh HOME: every file, with its mode' '
	nymbox-init -P pw alice@alice.i2p >out 2>err &&
	test_must_be_empty err &&
	for f in keys/alice.i2p.key inbox.key inbox.pub users config; do
		test "$(stat -c %a "$CONF/$f")" = 600 ||
		{ echo "$f: mode $(stat -c %a "$CONF/$f")"; return 1; }
	done &&
	test "$(stat -c %a "$CONF")" = 700 &&
	test "$(stat -c %a "$CONF/keys")" = 700 &&
	test "$(grep -c "^created $CONF/" out)" = 5
'

test_expect_success 'the output: address, b32 and the exact line to publish' '
	set -- $(keyinfo "$CONF/keys/alice.i2p.key") &&
	b32=$3 &&
	tail -n 4 out >got &&
	cat >want <<-EOF &&
	address alice@alice.i2p
	b32 $b32
	publish at http://alice.i2p/.well-known/i2pmail.key exactly:
	$b32 25
	EOF
	test_cmp want got &&
	echo "$b32" >alice.b32
'

test_expect_success 'the key: a destination with a KEY certificate (Ed25519, ElGamal), then 256 + 32 private bytes' '
	set -- $(keyinfo "$CONF/keys/alice.i2p.key") &&
	test "$1 $2" = "679 391" &&
	python3 -c "import base64, sys
b = base64.b64decode(open(sys.argv[1]).read().strip(), b\"-~\")
sys.exit(b[384:391] != bytes([5, 0, 4, 0, 7, 0, 0]))" "$CONF/keys/alice.i2p.key"
'

test_expect_success 'the ElGamal pair is real: y = 2^x mod p, p from RFC 3526 computed here' '
	python3 -c "import base64, sys
def atan_inv(x, one):
    t = s = one // x
    n, sign = 1, -1
    while t:
        t //= x * x
        s += sign * (t // (2 * n + 1))
        sign, n = -sign, n + 1
    return s
one = 1 << (1918 + 128)
pi = 4 * (4 * atan_inv(5, one) - atan_inv(239, one))
p = 2**2048 - 2**1984 - 1 + 2**64 * ((pi >> 128) + 124476)
assert pow(2, p - 1, p) == 1
b = base64.b64decode(open(sys.argv[1]).read().strip(), b\"-~\")
y = int.from_bytes(b[:256], \"big\")
x = int.from_bytes(b[391:647], \"big\")
sys.exit(not (1 < x < p - 1 and pow(2, x, p) == y))" "$CONF/keys/alice.i2p.key"
'

if python3 -c 'from cryptography.hazmat.primitives.asymmetric import ed25519' 2>/dev/null; then
	test_set_prereq ED25519
fi
test_expect_success ED25519 'the Ed25519 seed gives the public key in the signing field' '
	python3 -c "import base64, sys
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import serialization as s
b = base64.b64decode(open(sys.argv[1]).read().strip(), b\"-~\")
k = ed25519.Ed25519PrivateKey.from_private_bytes(b[647:679]).public_key()
raw = k.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
sys.exit(raw != b[352:384])" "$CONF/keys/alice.i2p.key"
'

test_expect_success 'another identity gets another key' '
	mkdir other &&
	HOME=$PWD/other nymbox-init -P pw -d carol.i2p >out2 &&
	test "$(sed -n "s/^b32 //p" out2)" != "$(cat alice.b32)" &&
	! cmp -s other/.config/nymbox/keys/carol.i2p.key \
	    "$CONF/keys/alice.i2p.key"
'

test_expect_success 'a domain alone: the user is the login name; -u sets it' '
	HOME=$PWD/other LOGNAME=zed nymbox-init -P pw dave.i2p >out3 &&
	grep "^address zed@dave.i2p\$" out3 &&
	HOME=$PWD/other nymbox-init -P pw -u erin -p 2525 erin.i2p >out4 &&
	grep "^address erin@erin.i2p\$" out4 &&
	tail -n 1 out4 | grep " 2525\$"
'

test_expect_success 'a second run replaces nothing, asks for nothing, prints the same' '
	(cd "$CONF" && cat keys/alice.i2p.key inbox.key inbox.pub users config) >before &&
	nymbox-init alice@alice.i2p >again 2>err &&
	(cd "$CONF" && cat keys/alice.i2p.key inbox.key inbox.pub users config) >after &&
	cmp before after &&
	test "$(grep -c "^kept $CONF/" again)" = 5 &&
	test_must_be_empty err &&
	tail -n 4 out >want && tail -n 4 again >got && test_cmp want got
'

test_expect_success 'a configuration of the user'"'"'s own is kept, and said so' '
	mkdir h2 &&
	mkdir -p h2/.config/nymbox &&
	echo "sender = me@mine.i2p" >h2/.config/nymbox/config &&
	HOME=$PWD/h2 nymbox-init -P pw alice@alice.i2p >out5 &&
	echo "sender = me@mine.i2p" >want &&
	test_cmp want h2/.config/nymbox/config &&
	grep "^kept $PWD/h2/.config/nymbox/config " out5 &&
	grep "^created $PWD/h2/.config/nymbox/keys/alice.i2p.key " out5
'

test_expect_success 'NYMBOX_CONF names the configuration to write' '
	mkdir h3 &&
	HOME=$PWD/h3 NYMBOX_CONF=$PWD/h3/my.conf nymbox-init -P pw a@a.i2p >out6 &&
	grep "^sender = a@a.i2p\$" h3/my.conf &&
	test_path_is_missing h3/.config/nymbox/config
'

test_expect_success 'half an inbox key pair is an error (78), and nothing is written' '
	mkdir -p h4/.config/nymbox &&
	echo x >h4/.config/nymbox/inbox.pub &&
	test_expect_code 78 env HOME=$PWD/h4 nymbox-init -P pw alice@alice.i2p 2>err &&
	grep "inbox.pub exists but .*inbox.key does not" err &&
	test_path_is_missing h4/.config/nymbox/keys &&
	test_path_is_missing h4/.config/nymbox/config
'

test_expect_success 'the password: from a descriptor; no option takes one' '
	mkdir h5 &&
	echo "fd secret" | HOME=$PWD/h5 nymbox-init -F 0 bob@bob.i2p >out7 &&
	test_path_is_file h5/.config/nymbox/inbox.key &&
	test_expect_code 64 nymbox-init -? 2>usage &&
	! grep -i "pass[a-z]* *]" usage | grep -v "passfile\|-F fd"
'

test_expect_success 'a password file others may read is refused (78), nothing written' '
	mkdir h6 && echo pw >pw644 && chmod 644 pw644 &&
	test_expect_code 78 env HOME=$PWD/h6 nymbox-init -P pw644 bob@bob.i2p 2>err &&
	grep "chmod 600" err &&
	test_path_is_missing h6/.config
'

test_expect_success 'no terminal and no -P or -F: a usage error (64), nothing written' '
	mkdir h7 &&
	test_expect_code 64 env HOME=$PWD/h7 setsid -w nymbox-init bob@bob.i2p 2>err &&
	grep "no terminal" err &&
	test_path_is_missing h7/.config
'

test_expect_success 'on a terminal the password is asked twice, without echo' '
	mkdir h8 &&
	printf "tty pass\ntty pass\n" >typed &&
	test_timeout 60 env HOME=$PWD/h8 "$TOP/t/helpers/onatty" typed nymbox-init bob@bob.i2p >tty.out &&
	grep "Password for the inbox: " tty.out &&
	grep "Password for the inbox (again): " tty.out &&
	! grep "tty pass" tty.out &&
	test_path_is_file h8/.config/nymbox/inbox.key &&
	mkdir h9 &&
	printf "one\ntwo\n" >typed &&
	test_expect_code 64 env HOME=$PWD/h9 "$TOP/t/helpers/onatty" typed nymbox-init bob@bob.i2p >tty.out &&
	grep "the two differ" tty.out &&
	test_path_is_missing h9/.config/nymbox
'

test_expect_success 'usage errors (64): no identity, a b32 or non-.i2p domain, -P with -F' '
	test_expect_code 64 nymbox-init -P pw &&
	test_expect_code 64 nymbox-init -P pw abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.b32.i2p &&
	test_expect_code 64 nymbox-init -P pw alice@example.com &&
	test_expect_code 64 nymbox-init -P pw -F 0 alice.i2p &&
	test_expect_code 64 nymbox-init -P pw -d alice.i2p bob.i2p &&
	test_expect_code 64 nymbox-init -P pw "al ice@alice.i2p"
'

test_expect_success '-w writes the line to publish, and never replaces it' '
	mkdir h10 &&
	HOME=$PWD/h10 nymbox-init -P pw -w "$PWD/site/.well-known/i2pmail.key" f@f.i2p >out8 &&
	tail -n 1 out8 >want &&
	test_cmp want site/.well-known/i2pmail.key &&
	test "$(stat -c %a site/.well-known/i2pmail.key)" = 644 &&
	test "$(stat -c %a site/.well-known)" = 755 &&
	echo other >site/.well-known/i2pmail.key &&
	HOME=$PWD/h10 nymbox-init -w "$PWD/site/.well-known/i2pmail.key" f@f.i2p >out9 2>err &&
	echo other >want && test_cmp want site/.well-known/i2pmail.key &&
	grep "does not hold this address" err
'

test_expect_success 'the configuration works as written: in by SMTP, sealed, out by POP3' '
	printf "EHLO localhost\r\nMAIL FROM:<x@x.i2p>\r\nRCPT TO:<alice@alice.i2p>\r\nDATA\r\nSubject: hi\r\n\r\nsecret body\r\n.\r\nQUIT\r\n" |
	    smtp-receive -v none >smtp.out 2>smtp.err &&
	grep "^250 .*" smtp.out &&
	ls "$CONF/inbox/new/" >list && test_line_count = 1 list &&
	! grep -r "secret body" "$CONF/inbox" &&
	printf "USER alice\r\nPASS correct horse\r\nRETR 1\r\nQUIT\r\n" |
	    pop-serve -D 0 >pop.out 2>pop.err &&
	grep "secret body" pop.out
'

test_expect_success 'resolve-maildest reads the published line from the eepsite' '
	mkdir -p www/.well-known &&
	tail -n 1 out >www/.well-known/i2pmail.key &&
	{ "$H/httpd" --port-file http.port --dir www --max-seconds 60 & echo $! >http.pid; } &&
	test_when_finished "kill \$(cat http.pid) 2>/dev/null; true" &&
	test_wait_for http.port &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --max-seconds 60 \
	    --route alice.i2p="$(cat http.port)" </dev/null & } &&
	test_when_finished "kill \$(cat sam.pid) 2>/dev/null; true" &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_timeout 20 resolve-maildest -S 127.0.0.1:"$(cat sam.port)" -w 5 \
	    -c "$PWD/cache" alice@alice.i2p >res &&
	set -- $(cat res) &&
	test "$1 $2 $3 $4 $5" = "alice@alice.i2p i2p $(cat alice.b32) 25 well-known"
'

# The real router: one SESSION CREATE with the key (about 20 s).
if command -v i2pd >/dev/null && test -x "${NYM_HELPERS:-$H}/samtool"; then
	test_set_prereq I2PD
fi
test_expect_success I2PD 'i2pd takes the key: NAMING LOOKUP NAME=ME is the destination written' '
	K=$CONF/keys/alice.i2p.key &&
	test_timeout 200 "$H/i2pd-lab" -- sh -c "
	    \"${NYM_HELPERS:-$H}/samtool\" -t 60000 -c 120000 \"\$SAM_HOST\" \
	    \"\$SAM_PORT\" lookup -o \"\$SAM_OPTS\" -p \"$K\" ME" >me &&
	python3 -c "import base64, sys
b = base64.b64decode(open(sys.argv[1]).read().strip(), b\"-~\")
print(base64.b64encode(b[:391], b\"-~\").decode())" "$K" >want &&
	test_cmp want me &&
	python3 -c "import base64, hashlib, sys
d = base64.b64decode(open(sys.argv[1]).read().strip(), b\"-~\")
h = base64.b32encode(hashlib.sha256(d).digest()).decode().lower().rstrip(\"=\")
print(h + \".b32.i2p\")" me >b32 &&
	test_cmp alice.b32 b32
'

test_done
