#!/bin/sh
# The set-up as nymbox-setup(7) tells it: nymbox.conf(5) lists every key
# the programs read (found in the code, so a new key cannot go
# undocumented) and no other; the sample configuration uses only those;
# the systemd units pass systemd-analyze verify, and each ExecStart runs
# as written: pop-serve per connection under a socket-activation stand-in
# (tcp-listen), and sam-accept smtp-receive on a SAM bridge (fake-sam)
# where Bob, set up by nymbox-init too, mails Alice by her published
# address and she reads it by POP3 with her password; every command line
# in the EXAMPLES of nymbox-init(1) and nymbox-setup(7) runs, and every
# block of the set-up page this test can run: i2pd.conf's SAM section
# and the tunnels loaded into a real i2pd, the eepsite's web server, the
# systemd files copied, the test message queued.
#
# Doc lines are claimed here with "ex NAME <<-\EOF", as in
# t/0940-doc-examples.t, which counts every such claim of this file
# (t/helpers/doc-examples claims) instead of running it again: so each
# claim here must run what it claims, and fails when the doc changed.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
BIN=${NYM_BIN:-$TOP/bin}
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"

# ex NAME: claim the lines on stdin where they stand together in a doc;
# the doc's own text (mdoc escapes undone) into NAME.
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

# The keys the code reads: literal keys given to the lookup functions,
# and the tables of the programs that look keys up through a variable.
# A lookup through a variable anywhere else fails the test until its
# keys are taught here.
codekeys() {
	(cd "$TOP" &&
	grep -ohE '(nym_conf_i?get|confpath|confbool)\(([a-z]+, *)?"[a-z][a-z0-9-]*"' \
	    bin/*.c lib/*.c | grep -oE '"[^"]*"' &&
	grep -ohE 'keypath\([a-z]+, "[a-z][a-z0-9-]*"' bin/mbox-encrypt.c |
	    grep -oE '"[^"]*"' &&
	sed -n '/keyname\[NKEYS\] = {/,/};/p' bin/nymbox-sendmail.c |
	    grep -oE '"[^"]*"' &&
	sed -n '/static const char \*const [a-z]*keys\[\] = {/,/};/p' \
	    bin/pop-fetch.c | grep -oE '"[^"]*"' &&
	sed -n '/} k\[\] = {/,/};/p' lib/samshare.c |
	    grep -oE '\{ "[^"]*"' | grep -oE '"[^"]*"') | tr -d '"' | sort -u
}
indirect() {
	(cd "$TOP" &&
	grep -nE '(nym_conf_i?get|confpath|confbool)\(([a-z]+, *)?[a-z_]+(\[[a-z]+\])?\)' \
	    bin/*.c lib/*.c | grep -v '^lib/conf\.c:' |
	    grep -vE '^(bin/mbox-encrypt\.c|bin/nymbox-sendmail\.c|bin/pop-fetch\.c):')
}
# The keys nymbox.conf(5) describes: its ".It Ic key" lines.
pagekeys() {
	sed -n 's/^\.It Ic \([a-z][a-z0-9-]*\)$/\1/p' "$TOP/man/nymbox.conf.5" |
	    sort -u
}

# examples PAGE: the lines of the literal displays of its EXAMPLES.
examples() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$1" |
	    sed -n '/^\.Bd -literal/,/^\.Ed/p' | grep -v '^\.[BE]d'
}

test_expect_success 'nymbox.conf(5) describes every key the code reads' '
	codekeys >code &&
	test $(wc -l <code) -ge 40 &&
	pagekeys >page &&
	comm -23 code page >undocumented &&
	test_must_be_empty undocumented
'

test_expect_success '... and no key the code does not read' '
	comm -13 code page >unread &&
	test_must_be_empty unread
'

test_expect_success 'no configuration lookup hides its key from this test' '
	{ indirect || true; } >hidden &&
	test_must_be_empty hidden
'

test_expect_success 'the key finder finds a new key (the test can fail)' '
	mkdir -p fake/bin fake/lib &&
	cp "$TOP"/bin/*.c fake/bin/ && cp "$TOP"/lib/*.c fake/lib/ &&
	echo "static void f(void) { nym_conf_get(\"brand-new-key\"); }" >>fake/bin/sam-accept.c &&
	(TOP=$PWD/fake && codekeys) >code2 &&
	grep -x brand-new-key code2
'

test_expect_success 'every key of the sample configuration is a documented key' '
	sed -n "s/^#\{0,1\}\([a-z][a-z0-9-]*\) = .*/\1/p" "$TOP/contrib/config.sample" |
	    sort -u >sample &&
	test $(wc -l <sample) -ge 40 &&
	comm -23 sample page >bad &&
	test_must_be_empty bad
'

test_expect_success 'the sample configuration loads' '
	NYMBOX_CONF=$TOP/contrib/config.sample resolve-maildest \
	    x@abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.b32.i2p >out &&
	test_line_count = 1 out
'

test_expect_success 'Alice and Bob: nymbox-init with a password file' '
	printf "alice pw\n" >alice.pass && chmod 600 alice.pass &&
	printf "bob pw\n" >bob.pass && chmod 600 bob.pass &&
	mkdir alice bob &&
	HOME=$PWD/alice nymbox-init -P alice.pass -w "$PWD/alice/eepsite/.well-known/i2pmail.key" alice@alice.i2p >alice.out &&
	HOME=$PWD/bob nymbox-init -P bob.pass -w "$PWD/bob/eepsite/.well-known/i2pmail.key" bob@bob.i2p >bob.out &&
	sed -n "s/^b32 //p" alice.out >alice.b32 &&
	test -s alice.b32
'

test_expect_success 'nymbox.conf(5) EXAMPLES is what nymbox-init writes' '
	ex want <<-\EOF &&
	sender = alice@alice.i2p
	server-key = /home/a/.config/nymbox/keys/alice.i2p.key
	local-domains = alice.i2p ejkdz2oe...wvy3da.b32.i2p
	smtp-users = /home/a/.config/nymbox/users
	smtp-command = mbox-encrypt -d '"'"'/home/a/.config/nymbox/inbox'"'"'
	inbox-public-key = /home/a/.config/nymbox/inbox.pub
	pop-maildir = /home/a/.config/nymbox/inbox
	pop-user = alice
	inbox-private-key = /home/a/.config/nymbox/inbox.key

	[alice@alice.i2p]
	delivery = auto
	EOF
	grep -v "^#" alice/.config/nymbox/config | grep -v "^\$" |
	    sed -e "s|$PWD/alice|/home/a|g" \
	    -e "s| [a-z2-7]\{52\}\.b32\.i2p| ejkdz2oe...wvy3da.b32.i2p|" >got &&
	grep -v "^\$" want >want2 &&
	test_cmp want2 got
'

if command -v systemd-analyze >/dev/null; then
	test_set_prereq SYSTEMD
fi

# units DIR: the units, ExecStart naming the programs built here.
units() {
	mkdir -p "$1" &&
	for u in "$TOP"/contrib/systemd/*; do
		sed "s|^ExecStart=\([a-z-]*\)|ExecStart=$BIN/\1|" "$u" \
		    >"$1/${u##*/}" || return 1
	done
}

test_expect_success SYSTEMD 'systemd-analyze verify: the units, without a warning' '
	units sd &&
	ls sd >verified &&
	test_line_count = 5 verified &&
	(cd sd && systemd-analyze verify --man=no $(sed "s|^|./|" ../verified)) \
	    >verify.out 2>verify.err &&
	test_must_be_empty verify.err
'

test_expect_success SYSTEMD 'verify catches a misspelt setting (the test can fail)' '
	units sd2 &&
	echo "Restrat=always" >>sd2/nymbox-receive.service &&
	(cd sd2 && systemd-analyze verify --man=no ./nymbox-receive.service) \
	    >v2.out 2>v2.err;
	grep "Unknown key" v2.err
'

test_expect_success SYSTEMD '... and a socket unit without Accept=yes for its template (the test can fail)' '
	units sd3 &&
	sed -i "s/^Accept=yes/Accept=no/" sd3/nymbox-onion.socket &&
	(cd sd3 && systemd-analyze verify --man=no ./nymbox-onion.socket) \
	    >v3.out 2>v3.err;
	grep "service nymbox-onion.service not loaded" v3.err
'

test_expect_success 'the units document themselves with pages that exist' '
	grep -h "^Documentation=" "$TOP"/contrib/systemd/* | tr " " "\n" |
	    sed -n "s/^\(Documentation=\)\{0,1\}man:\(.*\)(\([1-9]\))$/\2.\3/p" |
	    sort -u >pages &&
	test $(wc -l <pages) -ge 4 &&
	while read p; do
		test_path_is_file "$TOP/man/$p" || return 1
	done <pages &&
	for u in nymbox-pop nymbox-onion; do
		grep -q "^Accept=yes" "$TOP/contrib/systemd/$u.socket" &&
		grep -q "^MaxConnections=[1-9][0-9]*\$" "$TOP/contrib/systemd/$u.socket" &&
		grep -q "^ListenStream=127\.0\.0\.1:[0-9]*\$" "$TOP/contrib/systemd/$u.socket" &&
		grep -q "^StandardInput=socket" "$TOP/contrib/systemd/$u@.service" &&
		grep -q "^NoNewPrivileges=yes" "$TOP/contrib/systemd/$u@.service" ||
		return 1
	done
'

# listen UNIT: the address of a socket unit.
listen() {
	sed -n "s/^ListenStream=//p" "$TOP/contrib/systemd/$1"
}

test_expect_success 'contrib/tor/torrc: the onion'"'"'s port 25 to the SMTP socket unit, 110 to the POP3 one' '
	grep -v "^#" "$TOP/contrib/tor/torrc" >torrc.lines &&
	printf "%s\n" "HiddenServiceDir /var/lib/tor/nymbox/" \
	    "HiddenServicePort 25 $(listen nymbox-onion.socket)" \
	    "HiddenServicePort 110 $(listen nymbox-pop.socket)" >torrc.want &&
	test_cmp torrc.want torrc.lines
'

# exec UNIT: the words of its ExecStart.
exec_of() {
	sed -n "s/^ExecStart=//p" "$TOP/contrib/systemd/$1"
}

test_expect_success 'the receiving side from its unit: Bob mails Alice over the bridge, Mallory is refused' '
	for s in alice bob; do
		{ "$H/httpd" --port-file $s.http --dir $s/eepsite --max-seconds 120 &
		  echo $! >$s.httpd.pid; } || return 1
	done &&
	test_when_finished "kill \$(cat alice.httpd.pid) \$(cat bob.httpd.pid) 2>/dev/null; true" &&
	test_wait_for alice.http && test_wait_for bob.http &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --max-seconds 120 \
	    --route alice.i2p="$(cat alice.http)" --route bob.i2p="$(cat bob.http)" \
	    </dev/null & } &&
	test_when_finished "kill \$(cat sam.pid) 2>/dev/null; true" &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	SAM_HOST=127.0.0.1 && SAM_PORT=$(cat sam.port) && export SAM_HOST SAM_PORT &&
	test_when_finished "unset SAM_HOST SAM_PORT" &&
	cmd=$(exec_of nymbox-receive.service) &&
	test "$cmd" = "sam-accept smtp-receive" &&
	{ HOME=$PWD/alice $cmd >accept.out 2>accept.err & echo $! >accept.pid; } &&
	test_when_finished "kill \$(cat accept.pid) 2>/dev/null; wait \$(cat accept.pid) 2>/dev/null; true" &&
	test_wait_for accept.out &&
	test_cmp alice.b32 accept.out &&
	printf "From: bob@bob.i2p\nTo: alice@alice.i2p\nSubject: hello\n\nover the bridge\n" >msg &&
	test_timeout 60 env HOME=$PWD/bob sam-deliver -w 10 -f bob@bob.i2p alice@alice.i2p <msg >deliver.out 2>deliver.err &&
	ls alice/.config/nymbox/inbox/new >list &&
	test_line_count = 1 list &&
	! grep -r "over the bridge" alice/.config/nymbox/inbox/new &&

	# Mallory, with a key of her own, says she is bob@bob.i2p.
	mkdir mallory &&
	HOME=$PWD/mallory nymbox-init -P bob.pass -d bob.i2p >/dev/null &&
	test_expect_code 77 test_timeout 60 env HOME=$PWD/mallory sam-deliver \
	    -w 10 -f bob@bob.i2p alice@alice.i2p <msg >m.out 2>m.err &&
	grep "refused sender bob@bob.i2p" accept.err &&
	ls alice/.config/nymbox/inbox/new >list &&
	test_line_count = 1 list
'

test_expect_success 'pop-serve from its unit, per connection: Alice reads it with her password' '
	cmd=$(exec_of nymbox-pop@.service) &&
	test "$cmd" = "pop-serve" &&
	{ HOME=$PWD/alice "$H/tcp-listen" --port-file pop.port --pid-file pop.pid \
	    --max-seconds 60 -- $cmd & } &&
	test_when_finished "kill \$(cat pop.pid) 2>/dev/null; true" &&
	test_wait_for pop.port && test_wait_for pop.pid &&
	printf "USER alice\r\nPASS alice pw\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n" >cmds &&
	python3 -c "import socket, sys
s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])), 30)
s.sendall(open(sys.argv[2], \"rb\").read())
out = b\"\"
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)" "$(cat pop.port)" cmds >pop.out &&
	grep "^over the bridge" pop.out &&
	grep "^Subject: hello" pop.out &&
	test $(grep -c "^+OK" pop.out) -ge 5
'

test_expect_success 'nymbox-init(1) EXAMPLES run as written' '
	ex init1 <<-\EOF &&
	nymbox-init -w ~/eepsite/.well-known/i2pmail.key alice@alice.i2p
	EOF
	ex init2 <<-\EOF &&
	nymbox-init -P ~/inbox.pass -d bob.i2p
	EOF
	examples "$TOP/man/nymbox-init.1" >ex &&
	test_line_count = 2 ex &&
	mkdir ex1 && printf "ex pw\nex pw\n" >typed &&
	line=$(cat init1) &&
	test_timeout 60 env HOME=$PWD/ex1 "$TOP/t/helpers/onatty" typed sh -c "$line" >ex1.out &&
	test_path_is_file ex1/eepsite/.well-known/i2pmail.key &&
	test_path_is_file ex1/.config/nymbox/keys/alice.i2p.key &&
	mkdir ex2 && printf "ex pw\n" >ex2/inbox.pass && chmod 600 ex2/inbox.pass &&
	line=$(cat init2) &&
	HOME=$PWD/ex2 sh -c "$line" >ex2.out &&
	test_path_is_file ex2/.config/nymbox/keys/bob.i2p.key
'

cat >listening.py <<'EOF'
import socket, sys, time
end = time.time() + 20
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF

# freeport: a port the kernel chose, let go for the program to bind.
freeport() {
	python3 -c "import socket
s = socket.socket()
s.bind((\"127.0.0.1\", 0))
print(s.getsockname()[1])"
}

# Step 2 of the page as written, on a terminal: the line it shows to
# publish is what nymbox-init prints, but for the address.
test_expect_success 'nymbox-setup(7) step 2: nymbox-init, the line to publish' '
	ex setup2 <<-\EOF &&
	nymbox-init alice@alice.i2p
	EOF
	ex shown <<-\EOF &&
	ejkdz2oe7ar6fukckpxfsbonshk44ndtghayojuzz7wr36wvy3da.b32.i2p 25
	EOF
	mkdir st2 && printf "st pw\nst pw\n" >typed &&
	test_timeout 60 env HOME=$PWD/st2 "$TOP/t/helpers/onatty" typed sh -c "$(cat setup2)" >st2.out &&
	test_path_is_file st2/.config/nymbox/keys/alice.i2p.key &&
	b32=$(sed -n "s/^b32 //p" st2.out | tr -d "\r") &&
	test -n "$b32" &&
	tr -d "\r" <st2.out | grep -x "$b32 25" &&
	sed "s/^[a-z2-7]\{52\}\.b32\.i2p 25\$/B32 25/" shown >shown.shape &&
	echo "B32 25" >want.shape && test_cmp want.shape shown.shape
'

test_expect_success 'nymbox-setup(7) EXAMPLES run as written, its web server the eepsite' '
	ex setup1 <<-\EOF &&
	nymbox-init -w ~/eepsite/.well-known/i2pmail.key alice@alice.i2p
	EOF
	ex setup3 <<-\EOF &&
	sam-accept smtp-receive
	EOF
	ex setup4 <<-\EOF &&
	resolve-maildest alice@alice.i2p
	EOF
	ex www <<-\EOF &&
	python3 -m http.server --bind 127.0.0.1 --directory ~/eepsite 8080
	EOF
	examples "$TOP/man/nymbox-setup.7" >ex &&
	test_line_count = 3 ex &&
	mkdir ex3 && printf "ex pw\nex pw\n" >typed &&
	test_timeout 60 env HOME=$PWD/ex3 "$TOP/t/helpers/onatty" typed sh -c "$(cat setup1)" >ex3.out &&
	test_path_is_file ex3/eepsite/.well-known/i2pmail.key &&
	test "$(cat setup3)" = "$(exec_of nymbox-receive.service)" &&
	wport=$(freeport) &&
	sed "s/ 8080\$/ $wport/" www >www.run && ! test_cmp www www.run >/dev/null &&
	{ HOME=$PWD/ex3 sh -c "exec $(cat www.run)" >www.out 2>&1 </dev/null &
	  echo $! >ex3.httpd.pid; } &&
	test_when_finished "kill \$(cat ex3.httpd.pid) 2>/dev/null; true" &&
	python3 listening.py "$wport" &&
	{ "$H/fake-sam" --port-file sam3.port --pid-file sam3.pid --max-seconds 60 \
	    --route alice.i2p="$wport" </dev/null & } &&
	test_when_finished "kill \$(cat sam3.pid) 2>/dev/null; true" &&
	test_wait_for sam3.port && test_wait_for sam3.pid &&
	test_timeout 30 env HOME=$PWD/ex3 SAM_HOST=127.0.0.1 \
	    SAM_PORT=$(cat sam3.port) sh -c "$(cat setup4)" >res &&
	set -- $(cat res) &&
	test "$3" = "$(sed -n "s/^b32 //p" ex3.out | tr -d "\r")"
'

# The i2pd side of the page: its tunnels.conf blocks (postman's client
# tunnels, the eepsite's server tunnel) on a real i2pd, the ports moved
# to free ones: both client tunnels listen, the server tunnel's key is
# made, and i2pd read the file without a complaint.
cat >tunnels.py <<'EOF'
import re, socket, sys
out = [open(f).read() for f in sys.argv[3:]]
ports = []
def free(m):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    ports.append('%s %d' % (m.group(1), p))
    return 'port = %d' % p
text = re.sub(r'^port = (\d+)$', free, '\n'.join(out), flags=re.M)
open(sys.argv[1], 'w').write(text)
open(sys.argv[2], 'w').write('\n'.join(ports) + '\n')
EOF

test_expect_success 'nymbox-setup(7): i2pd.conf'"'"'s SAM and the tunnels work on i2pd as written' '
	ex samconf <<-\EOF &&
	[sam]
	enabled = true
	address = 127.0.0.1
	port = 7656
	EOF
	ex tun1 <<-\EOF &&
	[alice-eepsite]
	type = http
	host = 127.0.0.1
	port = 8080
	keys = alice-eepsite.dat
	EOF
	ex tun2 <<-\EOF &&
	[smtp.postman.i2p]
	type = client
	address = 127.0.0.1
	port = 7659
	destination = smtp.postman.i2p
	destinationport = 25

	[pop3.postman.i2p]
	type = client
	address = 127.0.0.1
	port = 7660
	destination = pop.postman.i2p
	destinationport = 110
	EOF
	command -v i2pd >/dev/null || { echo "i2pd is missing (t/deps.sh test)"; false; } &&
	python3 tunnels.py tunnels.conf ports tun1 tun2 &&
	cut -d" " -f1 ports >documented &&
	printf "8080\n7659\n7660\n" >want &&
	test_cmp want documented &&
	test_timeout 60 "$H/i2pd-lab" -S samconf -T tunnels.conf -- sh -c "
	    python3 listening.py $(sed -n "2s/.* //p" ports) &&
	    python3 listening.py $(sed -n "3s/.* //p" ports) &&
	    test -s \"\$I2PD_DIR/alice-eepsite.dat\" &&
	    cp \"\$I2PD_DIR/i2pd.log\" i2pd.log" &&
	test_grep -v "Can.t read" i2pd.log
'

# displays PAGE: every literal display, mdoc's \e as a backslash, each
# display ended by a line "--".
displays() {
	sed -n '/^\.Bd -literal/,/^\.Ed/p' "$1" |
	    sed -e 's/^\.Bd .*//' -e 's/^\.Ed$/--/' -e 's/\\e/\\/g' | sed '/^$/d'
}

test_expect_success 'nymbox-setup(7): the test message is queued for sam-deliver as written' '
	ex send.sh <<-\EOF &&
	printf '"'"'Subject: test\n\nhello\n'"'"' |
	    nymbox-sendmail alice@alice.i2p
	EOF
	test_line_count = 2 send.sh &&
	HOME=$PWD/alice sh ./send.sh &&
	HOME=$PWD/alice queue-run -l >queued &&
	test_line_count = 1 queued &&
	grep " defer .* alice@alice.i2p " queued
'

test_expect_success 'nymbox-setup(7): crontab lines have five times and a full path' '
	displays "$TOP/man/nymbox-setup.7" | grep "^[*0-9@]" >cron &&
	test_line_count = 2 cron &&
	while read m h dom mon dow cmd rest; do
		case $cmd in
		/usr/local/bin/*) test -x "$TOP/bin/${cmd#/usr/local/bin/}" ||
		    { echo "no program $cmd"; return 1; } ;;
		*) echo "not a full path: $cmd"; return 1 ;;
		esac
	done <cron
'

# Step 4 with systemd: the files copied as written (systemd-analyze
# verify checked them above); systemctl --user and loginctl need a user
# manager and logind, which a test here has not: t/0940 lists those
# lines as not run yet.
test_expect_success 'nymbox-setup(7) step 4: the units copied where systemd --user reads them' '
	ex sdcopy <<-\EOF &&
	mkdir -p ~/.config/systemd/user
	cp contrib/systemd/* ~/.config/systemd/user/
	EOF
	mkdir sdhome &&
	(cd "$TOP" && HOME=$TRASH/sdhome sh -c "$(cat "$TRASH/sdcopy")") &&
	ls "$TOP/contrib/systemd" >want.units &&
	ls sdhome/.config/systemd/user >got.units &&
	test_cmp want.units got.units &&
	test $(wc -l <got.units) -ge 3
'

# Step 8, receiving over Tor, in Alice's home of the tests above: the
# commands as written; then what they made, used as the unit and tor
# use it.
test_expect_success 'nymbox-setup(7) step 8: the onion key, the local domain, the certificate, the domain to give out' '
	ex torkey <<-\EOF &&
	cd ~/.config/nymbox
	onion=$(onion-key -c keys/new-onion)
	mv keys/new-onion "keys/$onion"
	sed -i "s/^local-domains = .*/& $onion/" config
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null
	onion-key -p tls.crt "keys/$onion"
	EOF
	command -v openssl >/dev/null || { echo "openssl(1) is missing"; false; } &&
	HOME=$PWD/alice sh -ec "$(cat torkey)" >torkey.out &&
	test_line_count = 1 torkey.out &&
	grep -x "[a-z2-7]\{52\}\.[a-z2-7]\{56\}\.onion" torkey.out &&
	sed "s/^[a-z2-7]*\.//" torkey.out >alice.onion &&
	o=$(cat alice.onion) && c=alice/.config/nymbox &&
	test "$(onion-key "$c/keys/$o")" = "$o" &&
	test_path_is_missing "$c/keys/new-onion" &&
	grep -x "local-domains = alice\.i2p [a-z2-7]\{52\}\.b32\.i2p $o" "$c/config" &&
	test "$(stat -c %a "$c/tls.key")" = 600 &&
	openssl x509 -in "$c/tls.crt" -pubkey -noout |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
	    base32 | tr -d = | tr A-Z a-z >pin &&
	test "$(sed "s/\..*//" torkey.out)" = "$(cat pin)"
'

# smtp.py PORT FROM TO FILE: SMTP with STARTTLS (demanded) to 127.0.0.1:PORT
# with Python's smtplib; prints the features before TLS and the outcome.
cat >smtp.py <<'EOF'
import smtplib, ssl, sys
port, frm, to, f = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("localhost")
print("features", " ".join(sorted(s.esmtp_features)))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
print("tls", s.sock.version())
try:
    s.sendmail(frm, [to], open(f, "rb").read())
    print("accepted")
except smtplib.SMTPException as e:
    print("refused", getattr(e, "smtp_code", ""), getattr(e, "smtp_error", b"").decode())
s.quit()
EOF

test_expect_success 'nymbox-setup(7) step 8: the onion'"'"'s SMTP from its unit: STARTTLS, a signed onion sender sealed, an unsigned one refused' '
	cmd=$(exec_of "nymbox-onion@.service" | sed "s|%h|$PWD/alice|g") &&
	test "${cmd%% *}" = smtp-receive &&
	{ HOME=$PWD/alice "$H/tcp-listen" --port-file smtpo.port --pid-file smtpo.pid \
	    --max-seconds 60 -- $cmd & } &&
	test_when_finished "kill \$(cat smtpo.pid) 2>/dev/null; true" &&
	test_wait_for smtpo.port && test_wait_for smtpo.pid &&
	o=$(cat alice.onion) &&
	onion-key -c carol.key >carol.onion && C=$(cat carol.onion) &&
	printf "From: carol@%s\nTo: alice@%s\nSubject: to the onion\n\nover tor\n" "$C" "$o" >cm &&
	onion-key -s carol.key <cm >cm.signed &&
	find alice/.config/nymbox/inbox/new -type f >before &&
	python3 smtp.py "$(cat smtpo.port)" "carol@$C" "alice@$(cat torkey.out)" cm.signed >signed.out &&
	python3 smtp.py "$(cat smtpo.port)" "carol@$C" "alice@$o" cm >unsigned.out &&
	cat signed.out unsigned.out &&
	grep "^features .*starttls" signed.out &&
	grep "^tls TLSv1\.[23]" signed.out &&
	grep -x accepted signed.out &&
	grep "^refused 550 5\.7\.1 Sender not verified: no DKIM signature" unsigned.out &&
	find alice/.config/nymbox/inbox/new -type f >after &&
	test $(($(wc -l <after) - $(wc -l <before))) = 1 &&
	! grep -r "over tor" alice/.config/nymbox/inbox/new
'

test_expect_success 'nymbox-setup(7) step 8: Tor'"'"'s copy of the key, and the onion service as tor reads it' '
	ex torcopy <<-\EOF &&
	install -d -o debian-tor -g debian-tor -m 700 /var/lib/tor/nymbox
	install -o debian-tor -g debian-tor -m 600 \
	    /home/alice/.config/nymbox/keys/*.onion/hs_ed25519_secret_key \
	    /var/lib/tor/nymbox/
	EOF
	ex torrc <<-\EOF &&
	HiddenServiceDir /var/lib/tor/nymbox/
	HiddenServicePort 25 127.0.0.1:2525
	HiddenServicePort 110 127.0.0.1:1110
	EOF
	test_cmp torrc.lines torrc &&
	test -x /usr/sbin/tor || { echo "tor is missing (t/deps.sh test)"; false; } &&
	sed -e "s|/var/lib/tor/|$TRASH/varlibtor/|g" -e "s|/home/alice/|$TRASH/alice/|g" \
	    -e "s|-o debian-tor -g debian-tor|-o $(id -un) -g $(id -gn)|" torcopy >torcopy.run &&
	sh -ec "$(cat torcopy.run)" &&
	hs=$TRASH/varlibtor/nymbox &&
	test "$(stat -c "%a %U" "$hs")" = "700 $(id -un)" &&
	test "$(stat -c "%a %U" "$hs/hs_ed25519_secret_key")" = "600 $(id -un)" &&
	test "$(onion-key "$hs")" = "$(cat alice.onion)" &&
	mkdir -m 700 tordata &&
	{ sed "s|/var/lib/tor/|$TRASH/varlibtor/|" torrc &&
	  printf "SocksPort 0\nDataDirectory %s\nLog notice file %s\n" \
	    "$TRASH/tordata" "$TRASH/tor.log"; } >tor.rc &&
	/usr/sbin/tor --verify-config --defaults-torrc /dev/null -f tor.rc >verify.tor 2>&1 &&
	test_grep "^Configuration was valid" verify.tor &&
	if test "$(id -u)" = 0; then ns="unshare -n"; else ns="unshare -r -n"; fi &&
	if $ns true 2>/dev/null; then
		# tor itself, with no network at all: it takes the directory
		# and writes the hostname of Alice'"'"'s key.
		{ $ns /usr/sbin/tor --defaults-torrc /dev/null -f tor.rc \
		    >tor.out 2>&1 </dev/null & echo $! >tor.pid; } &&
		test_when_finished "kill \$(cat tor.pid) 2>/dev/null; true" &&
		test_wait_until "test -s $hs/hostname || ! kill -0 \$(cat tor.pid) 2>/dev/null" &&
		cat tor.log &&
		test "$(cat "$hs/hostname")" = "$(cat alice.onion)"
	fi
'

test_expect_success 'nymbox-setup(7) step 8: systemctl --user enable, run offline; start checked' '
	ex sdon <<-\EOF &&
	systemctl --user enable nymbox-onion.socket
	systemctl --user start nymbox-onion.socket
	EOF
	command -v systemctl >/dev/null || { echo "systemctl (systemd) is missing"; false; } &&
	u=$TRASH/sdhome/.config/systemd/user &&
	test_path_is_file "$u/nymbox-onion.socket" &&
	test_path_is_file "$u/nymbox-onion@.service" &&
	sd() {
		env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS \
		    HOME="$TRASH/sdhome" SYSTEMD_OFFLINE=1 "$@"
	} &&
	sd sh -c "$(sed -n 1p sdon)" >sdon.out 2>&1 &&
	test "$(readlink "$u/sockets.target.wants/nymbox-onion.socket")" = \
	    "$u/nymbox-onion.socket" &&
	sd sh -c "$(sed -n 2p sdon)" >sdon2.out 2>&1 &&
	test_grep "ignoring command .start." sdon2.out &&
	test "$(sd systemctl --user is-enabled nymbox-onion.socket)" = enabled
'

test_expect_success 'the setup page names only keys that exist' '
	sed -n "s/^\.Ic \([a-z][a-z0-9-]*\).*/\1/p; s/^\.Pq Ic \([a-z][a-z0-9-]*\).*/\1/p" \
	    "$TOP/man/nymbox-setup.7" | sort -u >named &&
	test -s named &&
	comm -23 named page >bad &&
	test_must_be_empty bad
'

test_done
