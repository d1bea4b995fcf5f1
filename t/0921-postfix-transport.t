#!/bin/sh
# The Postfix set-up of nymbox(7), contrib/postfix/, run as written
# against a real Postfix on 127.0.0.1 (t/helpers/postfix-lab): mail for
# *.i2p goes through the pipe(8) transport "i2p" to nymbox-pipe, which
# scrubs it and hands it to sam-deliver; the fake SAM bridge routes the
# recipient's destination to an smtp-receive.  What arrives carries no
# trace of Postfix (its Received field, its host in the Message-ID) nor
# of the sender's machine, bounces travel with the null sender, and a
# failure of the I2P side defers (75) instead of bouncing.  Mail for
# *.onion takes the transport "onion" to the same nymbox-pipe, which
# hands it to onion-deliver; the fake SOCKS5 proxy (Tor's stand-in,
# TOR_SOCKS passed like SAM_PORT) routes the onion to another
# smtp-receive.
#
# The files of contrib/postfix/ are those nymbox(7) shows (t/0940 checks
# that), and its command lines are run from the page's own text, both
# after these substitutions only: /usr/local/ -> $ROOT/usr/local/ (a bin
# directory of copies of the programs under test, where nymbox-pipe is
# installed), /home/alice -> $AHOME (in a public directory), user=alice -> user=nobody,
# /etc/postfix/ -> $TRASH/etc/; postmap and postfix run with MAIL_CONFIG
# naming the test's configuration.  Postfix passes SAM_PORT (the fake
# bridge's port) to the command through import_environment and
# export_environment: the real set-up uses the default bridge,
# 127.0.0.1:7656.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
BIN=${NYM_BIN:-$TOP/bin}
SAMTOOL=${NYM_HELPERS:-$H}/samtool
CP=$TOP/contrib/postfix
test "$(id -u)" = 0 || test_skip_all "Postfix needs root"
test -x /usr/sbin/postfix && test -x /usr/sbin/postmap ||
	test_skip_all "postfix is not installed"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x "$SAMTOOL" || test_skip_all "$SAMTOOL is not built"
id nobody >/dev/null 2>&1 || test_skip_all "no user nobody"

# What nobody runs or reads lives where nobody can reach it, whatever the
# modes of the directories above the checkout.
test_public_dir PUB || tl_bail_ "unable to make a public directory"
ROOT=$PUB/root
AHOME=$PUB/alice
. "$H/postfix-inbox.sh"

# map FILE: a contrib/postfix file with the substitutions above.
map() {
	sed -e "s|/usr/local/|$ROOT/usr/local/|g" \
	    -e "s|/home/alice|$AHOME|g" \
	    -e "s|user=alice|user=nobody|g" \
	    -e "s|/etc/postfix/|$TRASH/etc/|g" "$CP/$1"
}

(cd "$TOP" && "$H/doc-examples" extract "$TRASH/dx" man/nymbox.7) ||
	tl_bail_ "unable to extract the examples of nymbox(7)"

# doc NAME <LINES: the lines of nymbox(7) that are these, mapped, into
# NAME; fails if the page has no such lines.
doc() {
	cat >"$1.want" &&
	"$H/doc-examples" claim "$TRASH/dx" "$1.want" >"$1.doc" &&
	sed -e "s|/usr/local/|$ROOT/usr/local/|g" \
	    -e "s|/home/alice|$AHOME|g" \
	    -e "s|user=alice|user=nobody|g" \
	    -e "s|/etc/postfix/|$TRASH/etc/|g" "$1.doc" >"$1"
}

# stopall: every server this script started, by PID.
# The session holder sam-deliver leaves lingering for alice's key goes
# first, while the bridge is up.
stopall() {
	test_stop_holders "$AHOME/.config/nymbox/keys"
	postfix-lab stop "$TRASH/lab" >/dev/null 2>&1
	for p in sam.pid mx.pid socks.pid omx.pid; do
		test ! -f "$TRASH/$p" || kill "$(cat "$TRASH/$p")" 2>/dev/null
	done
	return 0
}
test_atexit stopall

# submit [-n N] FROM TO... <MSG: the message (N copies, "through
# postfix" in the subject numbered) to Postfix over one SMTP session with
# AUTH as alice@alice.i2p, as postfix-lab takes mail only so; FROM may be
# empty (the null sender).
cat >submit.py <<\EOF
import smtplib, sys
a = sys.argv[1:]
n = 1
if a[0] == "-n":
    n = int(a[1])
    a = a[2:]
port, sender, rcpts = int(a[0]), a[1], a[2:]
msg = sys.stdin.buffer.read()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.test")
s.login("alice@alice.i2p", "secret")
for i in range(n):
    m = msg if n == 1 else msg.replace(b"via the MTA", b"parallel %d" % i)
    s.sendmail(sender, rcpts, m)
s.quit()
EOF
submit() {
	if test "$1" = -n; then
		python3 "$TRASH/submit.py" -n "$2" "$(cat lab/port)" "$3" "$4"
	else
		python3 "$TRASH/submit.py" "$(cat lab/port)" "$@"
	fi
}

# arrived N: wait (at most 60 s) until bob's maildir holds N messages.
arrived() {
	n=0
	while test "$(ls bob/Maildir/new 2>/dev/null | wc -l)" -lt "$1"; do
		n=$((n + 1))
		test $n -lt 600 || {
			echo "only $(ls bob/Maildir/new | wc -l) of $1 arrived"
			cat "$(cat lab/dir)/maillog"
			return 1
		}
		sleep 0.1
	done
}

# statuses: how many deliveries Postfix has logged (sent, deferred or
# bounced); settle N: wait (at most 60 s) until there are N.
statuses() {
	grep -c " status=" "$(cat lab/dir)/maillog" 2>/dev/null || :
}
settle() {
	n=0
	while test "$(statuses)" -lt "$1"; do
		n=$((n + 1))
		test $n -lt 600 || { cat "$(cat lab/dir)/maillog"; return 1; }
		sleep 0.1
	done
}

# logged PATTERN: wait (at most 60 s) for a line of Postfix's log.
logged() {
	n=0
	while ! grep -q "$1" "$(cat lab/dir)/maillog" 2>/dev/null; do
		n=$((n + 1))
		test $n -lt 600 || { cat "$(cat lab/dir)/maillog"; return 1; }
		sleep 0.1
	done
}

cat >msg <<\EOF
Received: from laptop.home (192.168.1.20) by mail.example.org; Tue, 14 Nov 2023 23:13:20 +0100
From: Alice <alice@alice.i2p>
To: Bob <bob@bob.i2p>
Subject: via the MTA
Date: Tue, 14 Nov 2023 23:13:20 +0100
User-Agent: Mutt/2.2.12 (2023-09-09)

hello
EOF

test_expect_success 'setup: the fake bridge, smtp-receive behind it' '
	mkdir -p bob/Maildir/new bob/Maildir/cur bob/Maildir/tmp &&
	write_script mx.sh <<-EOF &&
	exec "$BIN/smtp-receive" -l "\$(cat "$TRASH/mx.b32")" -a -d "$TRASH/bob/Maildir"
	EOF
	{ "$H/tcp-listen" --port-file mx.port --pid-file mx.pid \
	    --max-seconds 300 -- "$TRASH/mx.sh" & } &&
	test_wait_for mx.port && test_wait_for mx.pid &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds 300 --route "bob.i2p=$(cat mx.port)" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_timeout 10 "$SAMTOOL" -t 3000 -c 3000 127.0.0.1 "$(cat sam.port)" \
	    lookup -b bob.i2p >b32 &&
	sed "s/\\.b32\\.i2p\$/.b32.i2p/" b32 >mx.b32 && test -s mx.b32
'
B=$(cat mx.b32 2>/dev/null)

# Bob's onion (a valid v3 name; only the fake proxy knows it).
ONION=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion
test_expect_success 'setup: the fake Tor proxy, an smtp-receive for the onion behind it' '
	mkdir -p ob/Maildir/new ob/Maildir/cur ob/Maildir/tmp &&
	{ "$H/tcp-listen" --port-file omx.port --pid-file omx.pid \
	    --max-seconds 300 -- "$BIN/smtp-receive" -l "$ONION" -a \
	    -d "$TRASH/ob/Maildir" </dev/null & } &&
	test_wait_for omx.port && test_wait_for omx.pid &&
	{ "$H/fake-socks" --port-file socks.port --pid-file socks.pid \
	    --log socks.log --max-seconds 300 \
	    --route "$ONION=$(cat omx.port)" </dev/null & } &&
	test_wait_for socks.port && test_wait_for socks.pid
'

test_expect_success 'setup: nymbox-pipe installed beside the programs; alice'"'"'s home' '
	mkdir -p "$ROOT/usr/local/bin" &&
	for p in scrub-headers sam-deliver resolve-maildest onion-deliver; do
		cp "$BIN/$p" "$ROOT/usr/local/bin/$p" || return 1
	done &&
	doc inst <<-\EOF &&
	install -m 755 contrib/postfix/nymbox-pipe /usr/local/bin/
	EOF
	(cd "$TOP" && sh -c "$(cat "$TRASH/inst")") &&
	test -x "$ROOT/usr/local/bin/nymbox-pipe" &&
	mkdir -p "$AHOME/.config/nymbox" && chmod 700 "$AHOME/.config/nymbox" &&
	# Whose key sends a bounce (the null sender has no domain).
	echo "sender = alice@alice.i2p" >"$AHOME/.config/nymbox/config" &&
	chown -R nobody "$AHOME"
'

test_expect_success 'setup: Postfix with main.cf, master.cf and transport of contrib/postfix' '
	mkdir etc && : >etc/main.cf &&
	map transport >etc/transport &&
	doc pmap <<-\EOF &&
	postmap /etc/postfix/transport
	postfix reload
	EOF
	sed -n 1p pmap >pmap1 && sed -n 2p pmap >pmap2 &&
	MAIL_CONFIG=$TRASH/etc sh -c "$(cat pmap1)" &&
	test -f etc/transport.db &&
	POSTFIX_LAB_MAIN="$(map main.cf)
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C SAM_PORT=$(cat sam.port) TOR_SOCKS=127.0.0.1:$(cat socks.port)
export_environment = TZ MAIL_CONFIG LANG SAM_PORT TOR_SOCKS" &&
	POSTFIX_LAB_MASTER=$(map master.cf) &&
	export POSTFIX_LAB_MAIN POSTFIX_LAB_MASTER &&
	postfix-lab start lab 10000000 alice@alice.i2p:secret &&
	grep -x "i2p .*pipe" "$(cat lab/dir)/etc/master.cf" &&
	MAIL_CONFIG=$(cat lab/dir)/etc sh -c "$(cat pmap2)" &&
	logged "reload"
'

test_expect_success 'a message to an .i2p address leaves through the pipe, scrubbed' '
	submit alice@alice.i2p "bob@$B" <msg &&
	arrived 1 &&
	cat bob/Maildir/new/* >got &&
	test_grep "^Subject: via the MTA" got &&
	test_grep -x "hello" got
'

test_expect_success 'nothing of Postfix nor of the sender'"'"'s machine is left' '
	queued=$(grep -o "message-id=<[^>]*>" "$(cat lab/dir)/maillog" | head -n 1) &&
	case $queued in *@lab.test\>) ;; *) echo "Postfix added no Message-ID: $queued"; false ;; esac &&
	test_grep -v -i "lab\.test\|postfix\|ESMTPA\|laptop\|192\.168\|client\.test" got &&
	test_grep -v "^User-Agent:" got &&
	test_grep -i "^Message-ID: <[^@]*@alice\.i2p>\$" got &&
	test_grep "status=sent (delivered via i2p service)" "$(cat lab/dir)/maillog"
'

test_expect_success 'the sender key is alice'"'"'s, made under her home, mode 0600' '
	test "$(stat -c "%U %a" "$AHOME/.config/nymbox/keys/alice.i2p.key")" = "nobody 600"
'

# A bounce from Postfix to an I2P sender: pipe(8) passes the null sender
# as an empty argument (null_sender= in master.cf), nymbox-pipe as -f '',
# and sam-deliver sends it with the key of the configured sender.
test_expect_success 'a bounce (null sender) reaches the I2P recipient' '
	sed "s/via the MTA/a bounce/" msg >msg3 &&
	have=$(ls bob/Maildir/new | wc -l) && c=$(statuses) &&
	submit "" "bob@$B" <msg3 &&
	settle $((c + 1)) && grep " status=" "$(cat lab/dir)/maillog" &&
	test "$(ls bob/Maildir/new | wc -l)" = $((have + 1))
'

# Five messages at once, the same sender key: Postfix runs five
# nymbox-pipes in parallel, and they share the key's one SAM session
# (the first sam-deliver starts its holder, the others borrow it).
test_expect_success 'five messages at once from one sender key are all delivered, one session' '
	have=$(ls bob/Maildir/new | wc -l) && c=$(statuses) &&
	submit -n 5 alice@alice.i2p "bob@$B" <msg &&
	settle $((c + 5)) && grep " status=" "$(cat lab/dir)/maillog" &&
	test "$(ls bob/Maildir/new | wc -l)" = $((have + 5)) &&
	for i in 0 1 2 3 4; do
		grep -l "^Subject: parallel $i" bob/Maildir/new/* || return 1
	done &&
	# One session for alice.i2p over the whole run, none refused.
	! grep DUPLICATED sam.log &&
	grep " CREATED " sam.log | sort -k3 | uniq -c -f2 >sessions &&
	cat sessions &&
	! awk '"'"'$1 > 1'"'"' sessions | grep .
'

test_expect_success 'the SAM bridge down: Postfix defers (75), nothing bounces' '
	kill "$(cat sam.pid)" && rm -f sam.pid &&
	sed "s/via the MTA/while down/" msg >msg2 &&
	: >"$(cat lab/dir)/maillog" &&
	submit alice@alice.i2p "bob@$B" <msg2 &&
	logged "status=deferred" &&
	test_grep -v "status=bounced" "$(cat lab/dir)/maillog" &&
	postqueue -c "$(cat lab/dir)/etc" -p >q && test_grep "bob@$B" q
'

test_expect_success 'a message to an .onion address takes the onion transport to onion-deliver' '
	sed "s/via the MTA/to the onion/" msg >msg4 &&
	submit alice@alice.i2p "bob@$ONION" <msg4 &&
	n=0 && while test "$(ls ob/Maildir/new | wc -l)" -lt 1; do
		n=$((n + 1)) && test $n -lt 600 || { cat "$(cat lab/dir)/maillog"; return 1; }
		sleep 0.1
	done &&
	cat ob/Maildir/new/* >ogot &&
	test_grep "^Subject: to the onion" ogot &&
	test_grep -v -i "lab\.test\|postfix\|laptop\|192\.168" ogot &&
	logged "status=sent (delivered via onion service)" &&
	test_grep "^CONNECT CMD=1 ATYP=3 NAME=$ONION PORT=25\$" socks.log
'

# test_done removes the scratch directory, PID files and all, when
# every test passed: stop the servers first (the EXIT trap is for the
# other ways out).
stopall
test_done
