#!/bin/sh
# onion-deliver against the fake SOCKS5 proxy (standing in for Tor's
# SocksPort: it routes onion names to scripted SMTP servers on the
# loopback and logs every greeting, user name and request) and the
# scripted SMTP server: what goes on the wire, address checks before
# anything is sent, Tor's reply codes, stream isolation, batches over
# one circuit.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers

# Valid v3 onion names (lib/onion.c checks them), and one mistyped.
B=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion
C=xlxx6imr2biambk5unsqui4i7ymuppqaa5p2lty3vkw3jjcrva3xwnqd.onion
BAD=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332zahad.onion

# mx NAME [smtpd options]: an SMTP server, mail saved in NAME.mail/,
# commands logged in NAME.log.
mx() {
	n=$1 && shift &&
	if test -s "$n.pid"; then
		kill "$(cat "$n.pid")" 2>/dev/null
		test_wait_gone "$(cat "$n.pid")" || return 1
	fi &&
	rm -rf "$n.port" "$n.mail" "$n.log" "$n.pid" &&
	{ "$H/smtpd" --port-file "$n.port" --save "$n.mail" --log "$n.log" \
	    --max-seconds $(test_scaled 300) "$@" & echo $! >"$n.pid"; } &&
	test_wait_for "$n.port"
}

# socks [fake-socks options]: the proxy, routing $B to mx0 and $C to
# mx1 where they run; its log in socks.log, started afresh.
socks() {
	if test -s socks.pid; then
		kill "$(cat socks.pid)" 2>/dev/null
		test_wait_gone "$(cat socks.pid)" || return 1
	fi &&
	rm -f socks.port socks.pid socks.log &&
	routes= &&
	if test -f mx0.port; then routes="--route $B=$(cat mx0.port)"; fi &&
	if test -f mx1.port; then routes="$routes --route $C=$(cat mx1.port)"; fi &&
	{ "$H/fake-socks" --port-file socks.port --pid-file socks.pid \
	    --log socks.log --max-seconds $(test_scaled 300) $routes "$@" \
	    </dev/null & } &&
	test_wait_for socks.port && test_wait_for socks.pid &&
	: >socks.log
}

od() {
	TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    test_timeout 30 onion-deliver -w $(test_scaled 5) "$@"
}

test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

mkdir -p "$HOME/.config/nymbox" && : >"$HOME/.config/nymbox/config"
# Alice's onion, with a key of her own: onion-deliver signs with it.
mkdir -p "$HOME/.config/nymbox/keys" &&
A=$(onion-key -c "$TRASH/alice.key") &&
mv "$TRASH/alice.key" "$HOME/.config/nymbox/keys/$A" ||
	tl_bail_ "unable to make Alice's onion key"

printf 'From: Alice <alice@%s>\nTo: Bob <bob@%s>\nBcc: hidden@%s,\n  other@%s\nSubject: test\n\n.starts with a dot\nline\n' \
    "$A" "$B" "$B" "$B" >msg
grep -v "^Bcc:\|^  other" msg | sed "s/\$/\r/" >want

test_expect_success 'setup: a server for bob, the proxy' '
	mx mx0 && socks
'

test_expect_success 'a message is delivered: dots stuffed, CRLF, no Bcc' '
	od -f "alice@$A" "bob@$B" <msg &&
	sed "1,/^[^	]/{/^DKIM-Signature:/d; /^	/d}" mx0.mail/msg1 >got &&
	head -n 1 mx0.mail/msg1 | grep "^DKIM-Signature: " &&
	test_cmp want got
'

test_expect_success 'the onion name goes to Tor as a name (ATYP 3), port 25' '
	grep -x "CONNECT CMD=1 ATYP=3 NAME=$B PORT=25" socks.log &&
	test $(grep -c "^CONNECT" socks.log) = 1
'

test_expect_success 'the client names nothing, gives the size, offers a user name' '
	grep -x "EHLO localhost" mx0.log &&
	grep "^MAIL FROM:<alice@$A> SIZE=[0-9]*\$" mx0.log &&
	grep -x "RCPT TO:<bob@$B>" mx0.log &&
	grep -x "GREETING VER=5 METHODS=00 02" socks.log &&
	grep "^AUTH USER=onion-deliver-[a-z2-7]\{32\}\$" socks.log
'

test_expect_success 'an address in capitals is the same onion, sent in lower case' '
	: >socks.log &&
	od -f "alice@$A" "bob@$(echo "$B" | tr a-z A-Z)" <msg &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=$B PORT=25" socks.log
'

test_expect_success 'a bad checksum: 68, said so, nothing sent to the proxy' '
	: >socks.log &&
	test_expect_code 68 od -f "alice@$A" "bob@$BAD" <msg 2>err &&
	grep "unable to deliver to bob@$BAD: onion address with a bad checksum" err &&
	test_must_be_empty socks.log
'

test_expect_success 'a bad address among good ones: 68, the good one served' '
	: >socks.log && rm -f mx0.log &&
	test_expect_code 68 od -f "alice@$A" "bob@$B" "carol@$BAD" <msg 2>err &&
	grep "carol@$BAD: onion address with a bad checksum" err &&
	! grep "bob@$B" err &&
	grep -x "RCPT TO:<bob@$B>" mx0.log && ! grep "carol" mx0.log
'

test_expect_success 'no onion at all, or a v2 one: 68' '
	: >socks.log &&
	test_expect_code 68 od -f "alice@$A" bob@bob.i2p <msg 2>err &&
	grep "bob@bob.i2p: not an onion address" err &&
	test_expect_code 68 od -f "alice@$A" bob@expyuzz4wqqyqhjn.onion <msg 2>err &&
	grep "bob@expyuzz4wqqyqhjn.onion: no valid domain" err &&
	test_must_be_empty socks.log
'

test_expect_success 'onion and I2P recipients in one message: refused whole (77)' '
	: >socks.log && rm -f mx0.log &&
	test_expect_code 77 od -f "alice@$A" "bob@$B" carol@bob.i2p <msg 2>err &&
	grep "unable to deliver to bob@$B: the message mixes onion and non-onion recipients" err &&
	test_must_be_empty socks.log && test_path_is_missing mx0.log &&
	printf "From: a@%s\nTo: bob@%s\nCc: carol@carol.i2p\n\nhi\n" "$A" "$B" >mixed &&
	test_expect_code 77 od -t -f "alice@$A" <mixed 2>err &&
	grep "mixes onion and non-onion" err && test_must_be_empty socks.log
'

test_expect_success 'one circuit per onion: two onions, two streams' '
	mx mx1 && socks && rm -f mx0.log &&
	od -f "alice@$A" "bob@$B" "carol@$C" "dave@$B" <msg &&
	test $(grep -c "^CONNECT" socks.log) = 2 &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=$C PORT=25" socks.log &&
	test $(grep -c "^RCPT" mx0.log) = 2 && test $(grep -c "^RCPT" mx1.log) = 1
'

# A pin label (32 to 52 base32 characters) makes another destination of
# the same onion, held to TLS: this server offers none, so the two pinned
# recipients fail together (77) over one connection, the third is
# delivered over another.
PIN1=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
test_expect_success 'a certificate label is part of the destination' '
	: >socks.log && rm -f mx0.log &&
	test_expect_code 77 od -f "alice@$A" "bob@$PIN1.$B" "carol@$PIN1.$B" \
	    "dave@$B" <msg 2>err &&
	test $(grep -c "^CONNECT.*NAME=$B PORT=25\$" socks.log) = 2 &&
	test $(grep -c "^MAIL" mx0.log) = 1 &&
	test $(grep -c "^RCPT" mx0.log) = 1 &&
	grep -x "RCPT TO:<dave@$B>" mx0.log &&
	test $(grep -c "offers no STARTTLS" err) = 2
'

test_expect_success 'stream isolation: one user name per sender, the same each time' '
	: >socks.log &&
	od -f "alice@$A" "bob@$B" <msg &&
	od -f "alice@$A" "bob@$B" <msg &&
	od -f "mallory@$A" "bob@$B" <msg &&
	od -f "alice@$(echo "$A" | tr a-z A-Z)" "bob@$B" <msg &&
	sed -n "s/^AUTH USER=//p" socks.log >users &&
	test_line_count = 4 users &&
	test "$(sed -n 1p users)" = "$(sed -n 2p users)" &&
	test "$(sed -n 1p users)" != "$(sed -n 3p users)" &&
	test "$(sed -n 1p users)" = "$(sed -n 4p users)" &&
	! grep -i "alice\|mallory\|$A" users
'

test_expect_success 'the null sender: MAIL FROM:<>, circuits of its own or the identity'"'"'s' '
	: >socks.log && rm -f mx0.log &&
	od -f "" "bob@$B" <msg &&
	grep "^MAIL FROM:<>" mx0.log &&
	od -f "<>" "bob@$B" <msg &&
	echo "sender = alice@$A" >"$HOME/.config/nymbox/config" &&
	od -f "" "bob@$B" <msg &&
	: >"$HOME/.config/nymbox/config" &&
	od -f "alice@$A" "bob@$B" <msg &&
	sed -n "s/^AUTH USER=//p" socks.log >users &&
	test_line_count = 4 users &&
	test "$(sed -n 1p users)" = "$(sed -n 2p users)" &&
	test "$(sed -n 3p users)" = "$(sed -n 4p users)" &&
	test "$(sed -n 1p users)" != "$(sed -n 4p users)"
'

test_expect_success '-t: recipients from To, Cc and Bcc; Bcc not sent' '
	rm -f mx0.log mx1.log && rm -rf mx0.mail/* &&
	printf "From: a@%s\nTo: x@%s\nCc: y@%s\nBcc: z@%s\n\nhi\n" "$A" "$B" "$B" "$C" >m2 &&
	SENDER=alice@$A od -t <m2 &&
	test $(grep -c "^RCPT" mx0.log) = 2 && grep -x "RCPT TO:<z@$C>" mx1.log &&
	! grep -i "^bcc" mx0.mail/* &&
	test_expect_code 64 od "x@$B" <m2 &&
	test_expect_code 64 od -B -f "alice@$A" "x@$B" </dev/null
'

# code WANT REPLY: the proxy refuses with REPLY; exit WANT, Tor's words
# in the message.
code() {
	socks --reply "$2" &&
	test_expect_code "$1" od -f "alice@$A" "bob@$B" <msg 2>err &&
	grep "unable to deliver to bob@$B: Tor could not reach $B: " err &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=$B PORT=25" socks.log
}

for c in 1:75:general 3:75:network 4:75:host 5:75:refused 6:75:TTL \
    0xf0:75:can.not.be.found 0xf2:75:introduction.failed \
    0xf3:75:rendezvous 0xf7:75:introduction.timed \
    0xf1:68:descriptor.is.invalid 0xf6:68:invalid.address; do
	r=${c%%:*} w=${c#*:} w=${w%%:*} t=${c##*:}
	test_expect_success "SOCKS reply $r: $w" "
		code $w $r && grep '$t' err && ! grep 'check the Tor set-up' err
	"
done

# The proxy not set up for us: a configuration error, which a delivering
# program defers (75) with a message that says so.
for c in 2:ruleset 7:command 8:address.type 0xf4:missing.client 0xf5:wrong.client; do
	r=${c%%:*} t=${c#*:}
	test_expect_success "SOCKS reply $r: 75, the set-up to check" "
		code 75 $r && grep '$t.*(check the Tor set-up)' err
	"
done

test_expect_success 'a proxy that takes none of our methods: 75, set-up' '
	socks --no-method &&
	test_expect_code 75 od -f "alice@$A" "bob@$B" <msg 2>err &&
	grep "accepts none of our authentication methods (check the Tor set-up)" err
'

test_expect_success 'no proxy: 75, is tor running?' '
	socks && kill "$(cat socks.pid)" && test_wait_gone "$(cat socks.pid)" &&
	test_expect_code 75 od -f "alice@$A" "bob@$B" <msg 2>err &&
	grep "through the Tor proxy at 127.0.0.1:$(cat socks.port): Connection refused (is tor running? -S or TOR_SOCKS)" err
'

test_expect_success '-S wins over TOR_SOCKS' '
	socks && : >socks.log &&
	TOR_SOCKS=127.0.0.1:1 test_timeout 30 onion-deliver -w 5 \
	    -S 127.0.0.1:$(cat socks.port) -f "alice@$A" "bob@$B" <msg &&
	grep "^CONNECT" socks.log
'

# stalls WHERE: the proxy says nothing after WHERE; -w 2 must end it.
stalls() {
	socks --stall "$1" &&
	t0=$(date +%s) &&
	test_expect_code 75 env TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    onion-deliver -w 2 -f "alice@$A" "bob@$B" <msg 2>err &&
	t1=$(date +%s) &&
	grep "Connection timed out" err &&
	test $((t1 - t0)) -le $((2 + 3 * $(test_scaled 1)))
}

test_expect_success 'a proxy that stalls after the greeting: 75 within -w' '
	stalls greeting
'

test_expect_success 'a proxy that stalls after the request: 75 within -w' '
	stalls request
'

test_expect_success 'a proxy that hangs up: 75' '
	socks --hangup &&
	test_expect_code 75 od -f "alice@$A" "bob@$B" <msg 2>err &&
	grep "Tor proxy at 127.0.0.1:$(cat socks.port): Connection reset" err
'

test_expect_success 'a server whose greeting trickles: 75 within -w' '
	mx mx0 --trickle 1 && socks &&
	t0=$(date +%s) &&
	test_expect_code 75 env TOR_SOCKS=127.0.0.1:$(cat socks.port) \
	    onion-deliver -w 2 -f "alice@$A" "bob@$B" <msg 2>err &&
	t1=$(date +%s) &&
	test $((t1 - t0)) -le $((2 + 3 * $(test_scaled 1)))
'

test_expect_success 'unknown user (550 5.1.1): 67; a 4xx: 75' '
	mx mx0 --rcpt "bob=550 5.1.1 no such user" --rcpt "tmp=451 4.3.0 later" &&
	socks &&
	test_expect_code 67 od -f "alice@$A" "bob@$B" <msg &&
	test_expect_code 75 od -f "alice@$A" "tmp@$B" <msg
'

test_expect_success '-B: a queue of messages, one circuit and one session per onion' '
	mx mx0 --rcpt "nobody=550 5.1.1 no" && mx mx1 && socks &&
	for i in 1 2 3 4 5 6; do cp msg q$i; done &&
	{ echo "q1 bob@$B" && echo "q2 bob@$B carol@$C" &&
	  echo "q3 nobody@$B" && echo "missing bob@$B" &&
	  echo "q5 bob@$B" && echo "q6 bob@$BAD"; } >jobs &&
	{ od -B -f "alice@$A" <jobs >results; echo $? >rc; } &&
	test "$(cat rc)" = 75 &&
	grep -x "q1 0 bob@$B=0" results &&
	grep -x "q2 0 bob@$B=0 carol@$C=0" results &&
	grep -x "q3 67 nobody@$B=67" results &&
	grep "^missing 75 " results &&
	grep -x "q5 0 bob@$B=0" results &&
	grep -x "q6 68 bob@$BAD=68" results &&
	test $(grep -c "^GREETING" socks.log) = 2 &&
	test $(grep -c "^CONNECT.*NAME=$B " socks.log) = 1 &&
	test $(grep -c "^EHLO" mx0.log) = 1 &&
	test $(grep -c "^MAIL" mx0.log) = 4 &&
	test $(ls mx0.mail | wc -l) = 3 && test $(ls mx1.mail | wc -l) = 1
'

test_expect_success '-B: every message but the first is reset before, finished or not' '
	grep -B1 "^MAIL" mx0.log | grep -v "^MAIL\|^--" >before &&
	printf "EHLO localhost\nRSET\nRSET\nRSET\n" >want.rset &&
	test_cmp want.rset before &&
	test "$(grep -c "^RSET" mx0.log)" = 3
'

# With --log-more the server notes a command the client sent on without
# waiting for its reply: pipelined, RSET comes with MAIL, RCPT and DATA.
test_expect_success '-B: RSET goes out with MAIL, RCPT and DATA when pipelining' '
	mx mx0 --log-more && socks &&
	for i in 1 2 3; do cp msg p$i && echo "p$i bob@$B" || return 1; done >jobs &&
	od -B -f "alice@$A" <jobs >results &&
	test $(grep -c " 0 bob@$B=0\$" results) = 3 &&
	test $(grep -c "^RSET" mx0.log) = 2 &&
	sed -n "/^RSET/{n;p}" mx0.log >after &&
	printf "(more)\n(more)\n" >want.more && test_cmp want.more after &&
	grep -A5 "^RSET" mx0.log | grep -c "^MAIL FROM" >n && test "$(cat n)" = 2
'

test_expect_success '-B: without PIPELINING, RSET waits for its reply' '
	mx mx0 --log-more --no-pipelining && socks &&
	od -B -f "alice@$A" <jobs >results &&
	test $(grep -c " 0 bob@$B=0\$" results) = 3 &&
	test $(grep -c "^RSET" mx0.log) = 2 &&
	test "$(sed -n "/^RSET/{n;p}" mx0.log | sed "s/ SIZE=.*//" | sort -u)" = "MAIL FROM:<alice@$A>"
'

test_expect_success '-B: a session the server ended is dialled again, not failed' '
	mx mx0 --bye-after-message && socks &&
	for i in 1 2 3; do cp msg c$i && echo "c$i bob@$B" || return 1; done >jobs &&
	od -B -f "alice@$A" <jobs >results &&
	test $(grep -c " 0 bob@$B=0\$" results) = 3 &&
	test $(grep -c "^GREETING" socks.log) = 3 &&
	test $(ls mx0.mail | wc -l) = 3
'

# Seventeen onions (one more than a batch keeps sessions for), all
# served by mx0.
MANY="
7ncvb2dykwcnocu4y6egau2xflmh6vbm7ckens7kmjxjsfnl4odrqsid
grt5ewbb6gkq7ao5un2n5tztjtgcln44bs3stw6p64ajbyt5c25un5ad
yqwfc7w37wphvynp2pnd3ddjnhvlr26ctwweiqjh7oq4gyvsrln7evad
7qpa625iyhcg5jghrw72dhv4y5gptw5vyubupmgce44ulq6e5ikzbaqd
6rgwaepvbebs7efqogarecuvyhnsgprycz6y7chl7uj2ivg7h6wi2gyd
b4ec2yvj3ww6nhj7r7db3vfvsdcfk4r5ykejznzmqkez74zuummeltid
rgfjoqx2x6nb56zk4tyuspkk2nb7ucw3xugqpowneyeln3datxhgdgyd
sf2gdeexja45nqlhug4cy3qa22wtk4xpqmi6wviysbvqsctksdoqecad
uk3cgtm3mmjfx5vt4gzvdgf7ccxowrnp2kdskevza7xghgzifxegrwad
hw37n3dzhpb6gxemujevnj65xp7yi42cftbwtovouu7clhkics4nouyd
s5zp6uonptsfnzixnavsasakwixflhpfg3jprhg2kcb3tqjdulklclyd
c25qurbgujr3hkxtgrqxychd47ehteae4a6cjdhdamvuyepz5atdulad
echnizeatol332vsz6tscezh44qfuzdb3vxd6vo3ba7pfwwadr6yepad
jz7s5qhtkrd5yy5jv5wpgck22pc6vioiapbwyzpmtobdkqfsyqgzrfad
elu7gcaa7geflmsl7itfjfn5f3tbdi22pgdnl2gfligvsqsamevkadid
pb2tz4jz5cdf4xr5dzr6uecxtcdnm2emgn6tbhqvtpyzrgdkniqw3rid
wu6p3eveswxolrhzcbofgqopmctkh7z7kp5ubkwcwjznlwhjbbof3sad"

test_expect_success '-B: sessions beyond NYM_DL_SESSIONS: the least recently used closed' '
	mx mx0 && set -- $MANY && first=$1 && last=${17} &&
	routes= && for o in $MANY; do routes="$routes --route $o.onion=$(cat mx0.port)"; done &&
	socks $routes &&
	for o in $MANY; do echo "msg bob@$o.onion"; done >jobs &&
	echo "msg bob@$first.onion" >>jobs && echo "msg bob@$last.onion" >>jobs &&
	od -B -f "alice@$A" <jobs >results &&
	test $(grep -c " 0 bob@" results) = 19 &&
	test $(grep -c "^GREETING" socks.log) = 18 &&
	test $(grep -c "^CONNECT.*NAME=$first.onion " socks.log) = 2 &&
	test $(grep -c "^CONNECT.*NAME=$last.onion " socks.log) = 1 &&
	test $(grep -c "^QUIT" mx0.log) = 18
'

test_expect_success '-B: many messages to one onion over one SOCKS connection' '
	mx mx0 && socks &&
	: >jobs && i=0 &&
	while test $i -lt 20; do
		i=$((i + 1)) && cp msg b$i && echo "b$i bob@$B" >>jobs || return 1
	done &&
	od -B -f "alice@$A" <jobs >results &&
	test $(grep -c " 0 bob@$B=0\$" results) = 20 &&
	test $(grep -c "^GREETING" socks.log) = 1 &&
	test $(grep -c "^AUTH USER" socks.log) = 1 &&
	test $(grep -c "^EHLO" mx0.log) = 1 &&
	test $(grep -c "^MAIL" mx0.log) = 20 &&
	test $(ls mx0.mail | wc -l) = 20
'

# STARTTLS: smtp-receive with a certificate, one per connection behind
# tcp-listen, reached through the proxy as $B.
tlsmx() {
	if test -s tls.pid; then
		kill "$(cat tls.pid)" 2>/dev/null
		test_wait_gone "$(cat tls.pid)" || return 1
	fi &&
	rm -f tls.port tls.pid && mkdir -p tmd &&
	{ tcp-listen --port-file tls.port --pid-file tls.pid \
	    --max-seconds $(test_scaled 300) -- smtp-receive -l "$B" -a \
	    -d tmd -v none "$@" </dev/null & } &&
	test_wait_for tls.port && test_wait_for tls.pid &&
	rm -f mx0.port mx1.port && echo "$(cat tls.port)" >mx0.port && socks
}

test_expect_success 'TLS: setup, a certificate and its pin' '
	command -v openssl >/dev/null || { echo "openssl(1) is missing"; false; } &&
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null &&
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout o.key -out o.crt 2>/dev/null &&
	pin() {
		openssl x509 -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | base32 | tr -d = | tr A-Z a-z
	} &&
	pin tls.crt >pin && pin o.crt >opin && test "$(cat pin)" != "$(cat opin)" &&
	echo bob >users
'

test_expect_success 'TLS: a pin in the address, the server has that key: delivered' '
	tlsmx -C tls.crt -K tls.key &&
	od -f "alice@$A" "bob@$(cat pin).$B" <msg &&
	test $(ls tmd/new | wc -l) = 1 &&
	grep -q "^Subject: test" tmd/new/*
'

test_expect_success 'TLS: smtp-receive takes bob@PIN.ONION as bob@ONION' '
	printf "EHLO x\r\nMAIL FROM:<a@$A>\r\nRCPT TO:<bob@%s.%s>\r\nQUIT\r\n" \
	    "$(cat pin)" "$B" | smtp-receive -l "$B" -u users -d tmd -v none >out &&
	grep "^250 2.1.5" out &&
	printf "EHLO x\r\nMAIL FROM:<a@$A>\r\nRCPT TO:<bob@%s.%s>\r\nQUIT\r\n" \
	    "$(cat pin)" "$C" | smtp-receive -l "$B" -u users -d tmd -v none >out &&
	grep "^550 5.7.1 Relaying denied" out
'

test_expect_success 'TLS: the pin shortened to 32 characters, either case: delivered' '
	short=$(cut -c1-32 pin | tr a-z A-Z) &&
	od -f "alice@$A" "bob@$short.$B" <msg &&
	test $(ls tmd/new | wc -l) = 2
'

test_expect_success 'TLS: another key than the pin says: 77, named, nothing sent' '
	test_expect_code 77 od -f "alice@$A" "bob@$(cat opin).$B" <msg 2>err &&
	grep "does not match the address.s pin: expected $(cat opin), the server has $(cat pin)" err &&
	test $(ls tmd/new | wc -l) = 2
'

test_expect_success 'TLS: a label that is no pin: 68 before the proxy is asked' '
	: >socks.log &&
	test_expect_code 68 od -f "alice@$A" "bob@short.$B" <msg 2>err &&
	grep "the label before the onion name is no certificate pin" err &&
	! grep CONNECT socks.log
'

test_expect_success 'TLS: a pin and a server without STARTTLS: 77, nothing sent' '
	tlsmx &&
	test_expect_code 77 od -f "alice@$A" "bob@$(cat pin).$B" <msg 2>err &&
	grep "the address has a certificate pin, and the server at $B offers no STARTTLS" err &&
	test $(ls tmd/new | wc -l) = 2
'

test_expect_success 'TLS: no pin, the server offers STARTTLS: delivered' '
	tlsmx -C tls.crt -K tls.key &&
	od -f "alice@$A" "bob@$B" <msg &&
	test $(ls tmd/new | wc -l) = 3
'

test_done
