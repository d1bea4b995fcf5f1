#!/bin/sh
# scrub-headers: the default policy on single messages, dates, IDs and
# threads, options, configuration and keys.
cd "$(dirname "$0")" && . ./lib.sh

D=$TDATA/scrub
hdr() { sed '/^\r\{0,1\}$/q' "$@"; }

test_expect_success 'drops identifying fields, keeps the rest' '
	scrub-headers <$D/plain.eml >out &&
	hdr out >h &&
	for f in Received Return-Path User-Agent X-Mailer Organization \
	    Content-Language Sender; do
		! grep -i "^$f:" h || return 1
	done &&
	grep "^From: Alice <alice@alice.i2p>\$" h &&
	grep "^To: Bob <bob@bob.i2p>\$" h &&
	grep "^Subject: Lunch on Friday?\$" h &&
	grep "^MIME-Version: 1.0\$" h &&
	grep "^Content-Type: text/plain; charset=us-ascii\$" h &&
	! grep -i "alice-laptop\|192\.168\|Mutt\|+0100" h
'

# Its "From the office" line is written =46rom, quoted-printable, as the
# text rule writes such a line from any client (scrub-headers(1), "Text
# parts"): as it is, it would start a message in an mbox.
test_expect_success 'the body is the same text, its "From " line as =46rom' '
	sed "1,/^\$/d" $D/plain.eml >want &&
	sed "1,/^\$/d" out | sed "s/^=46rom /From /" >got &&
	test_cmp want got &&
	grep -x "=46rom the office, Alice" out &&
	grep -x "Content-Transfer-Encoding: quoted-printable" out
'

test_expect_success 'Date is rewritten in UTC' '
	grep "^Date: Mon, 23 Nov 2026 07:48:41 +0000\$" h
'

test_expect_success '-r rounds the Date down' '
	scrub-headers -r 3600 <$D/plain.eml >out2 &&
	grep "^Date: Mon, 23 Nov 2026 07:00:00 +0000\$" out2
'

test_expect_success '-n sets the Date to now (NYMBOX_NOW)' '
	NYMBOX_NOW=1700000000 scrub-headers -n <$D/plain.eml >out3 &&
	grep "^Date: Tue, 14 Nov 2023 22:13:20 +0000\$" out3
'

test_expect_success 'Message-ID is replaced by a keyed hash, the same every run' '
	id=$(sed -n "s/^Message-ID: //p" out) &&
	echo "$id" | grep -q "^<[a-z2-7]\{26\}@alice\.i2p>\$" &&
	scrub-headers <$D/plain.eml | grep -x "Message-ID: $id"
'

test_expect_success 'the key is created 0600 in a 0700 directory on first use' '
	test -f "$HOME/.config/nymbox/scrub.key" &&
	test "$(stat -c %a "$HOME/.config/nymbox/scrub.key")" = 600 &&
	test "$(stat -c %a "$HOME/.config/nymbox")" = 700 &&
	test "$(stat -c %s "$HOME/.config/nymbox/scrub.key")" = 32
'

test_expect_success 'another key gives another ID (-K)' '
	scrub-headers -K other.key <$D/plain.eml >out4 &&
	! grep -x "$(grep ^Message-ID: out)" out4 &&
	grep "^Message-ID: <[a-z2-7]\{26\}@alice\.i2p>\$" out4
'

test_expect_success 'a key others can read is refused' '
	chmod 644 other.key &&
	test_expect_code 75 scrub-headers -K other.key <$D/plain.eml 2>err &&
	grep "scrub-headers: unable to use key other.key: readable by others: chmod 600 other.key" err &&
	chmod 600 other.key
'

test_expect_success 'a damaged key is refused' '
	printf short >bad.key && chmod 600 bad.key &&
	test_expect_code 75 scrub-headers -K bad.key <$D/plain.eml
'

test_expect_success 'own references are mapped like the Message-ID, others kept' '
	scrub-headers <$D/reply.eml >r &&
	id=$(sed -n "s/^Message-ID: //p" out) &&
	hdr r >rh &&
	grep -x "References: $id" rh &&
	grep -x " <CA+xyz123@mail.gmail.com>" rh &&
	grep -x "In-Reply-To: <CA+xyz123@mail.gmail.com>" rh &&
	! grep alice-laptop rh &&
	grep -x "Date: Wed, 25 Nov 2026 00:02:11 +0000" rh
'

test_expect_success 'scrubbing twice changes nothing more' '
	scrub-headers <out >again &&
	test_cmp out again &&
	scrub-headers <r >again2 &&
	test_cmp r again2
'

test_expect_success 'missing Date and Message-ID are added' '
	printf "From: a@example.org\nSubject: x\n\nbody\n" >nodate.eml &&
	NYMBOX_NOW=1700000000 scrub-headers <nodate.eml >nd &&
	grep -x "Date: Tue, 14 Nov 2023 22:13:20 +0000" nd &&
	grep "^Message-ID: <[a-z2-7]\{26\}@example\.org>\$" nd
'

test_expect_success '-k keeps a field, -d drops one, patterns end in *' '
	scrub-headers -k User-Agent -k "x-m*" -d Subject <$D/plain.eml >k &&
	grep "^User-Agent: Mutt" k &&
	grep "^X-Mailer: Frobnicator" k &&
	! grep "^Subject:" k
'

test_expect_success 'a field both kept and dropped is dropped' '
	scrub-headers -k User-Agent -d User-Agent <$D/plain.eml >kd &&
	! grep "^User-Agent:" kd
'

test_expect_success 'a policy file keeps and drops' '
	printf "# mine\nkeep Organization\ndrop Subject, To\n" >policy &&
	scrub-headers -p policy <$D/plain.eml >p &&
	grep "^Organization:" p && ! grep "^Subject:" p && ! grep "^To:" p
'

test_expect_success 'the configuration file gives defaults' '
	cat >conf <<-\EOC &&
	# nymbox
	scrub-keep = Organization
	scrub-round = 86400
	msgid-domain = mail.i2p
	EOC
	NYMBOX_CONF=conf scrub-headers <$D/plain.eml >c &&
	grep "^Organization:" c &&
	grep -x "Date: Mon, 23 Nov 2026 00:00:00 +0000" c &&
	grep "^Message-ID: <[a-z2-7]\{26\}@mail\.i2p>\$" c
'

test_expect_success 'a bad configuration file is exit 75 for a filter (never a bounce)' '
	echo "no equals sign" >badconf &&
	test_expect_code 75 env NYMBOX_CONF=badconf scrub-headers <$D/plain.eml 2>err &&
	grep "badconf:1" err &&
	test_expect_code 75 env NYMBOX_CONF=missing scrub-headers <$D/plain.eml
'

test_expect_success 'a bad policy file is exit 75 for a filter' '
	echo "keeep X" >badpol &&
	test_expect_code 75 scrub-headers -p badpol <$D/plain.eml
'

test_expect_success 'CRLF in, CRLF out' '
	sed "s/\$/\r/" $D/plain.eml >crlf.eml &&
	scrub-headers <crlf.eml >crlf.out &&
	cr=$(printf "\r") &&
	! grep -v "$cr\$" crlf.out &&
	tr -d "\r" <crlf.out >lf.out &&
	test_cmp out lf.out
'

test_expect_success 'usage errors are exit 64' '
	test_expect_code 64 scrub-headers -z </dev/null &&
	test_expect_code 64 scrub-headers extra </dev/null &&
	test_expect_code 64 scrub-headers -r -5 </dev/null 2>err &&
	grep "unable to use -r" err
'

test_expect_success 'an mbox From_ line is kept' '
	{ echo "From alice@alice.i2p Mon Nov 23 08:48:41 2026" && cat $D/plain.eml; } >f.eml &&
	scrub-headers <f.eml >f.out &&
	head -1 f.out | grep -x "From alice@alice.i2p Mon Nov 23 08:48:41 2026"
'

test_done
