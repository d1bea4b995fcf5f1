#!/bin/sh
# scrub-headers' canonical form (scrub-headers(1), "Canonical form";
# issue 15): the same message written by every client in t/data/clients
# leaves it with one header section, byte for byte, once the values that
# must differ (Date, the keyed Message-ID and the own IDs derived from it,
# boundaries) are masked.  What the canonical form cannot make uniform is
# listed below as known differences (each must still be there: a fix
# shows up as a failure asking to update the list) and -c reports it.
cd "$(dirname "$0")" && . ./lib.sh

D=$TDATA/clients
clients="aerc alpine claws mailutils mutt neomutt nmh s-nail thunderbird"

# The header section, line ends as LF (SMTP makes them all CRLF: they
# are the transport's, not the client's), masked values.
hdr()
{
	sed '/^\r\{0,1\}$/q' "$1" | tr -d '\r' | sed \
	    -e 's/^Date: .*/Date: (date)/' \
	    -e 's/<[a-z2-7]\{26\}@/<(id)@/g' \
	    -e 's/=_[a-z2-7]\{26\}/=_(boundary)/g'
}

# The header sections of a message: the top-level one, and each MIME
# part's after its delimiter (scrubbed boundaries all start with =_).
shape()
{
	tr -d '\r' <"$1" | awk '
		h { print }
		/^$/ { h = 0 }
		/^--=_/ { if (!h) print; h = 1 }
		BEGIN { h = 1 }' | sed \
	    -e 's/^Date: .*/Date: (date)/' \
	    -e 's/<[a-z2-7]\{26\}@/<(id)@/g' \
	    -e 's/=_[a-z2-7]\{26\}/=_(boundary)/g' | grep -v '^$'
}

# The attachment message's common shape is claws'; the plain message's
# and the reply's, mutt's.
ref()
{
	case $1 in attach) echo claws ;; *) echo mutt ;; esac
}

# Attachment headers the canonical form does not reach yet (each names
# what would be needed), and the fixtures' own differences of structure.
# Text parts are not among them: their labels follow the text rule.
knownattach()
{
	case ${1%-attach} in
	aerc)
		printf '%s\n' '/^Content-Type: multipart\/alternative;/,/^--=_(boundary)$/d' \
		    '/^--=_(boundary)--$/{N;/\n--=_(boundary)$/s/^--=_(boundary)--\n//;}'
		echo "$1: the text inside a multipart/alternative (the fixture's structure)" >&2
		;;
	mailutils)
		printf '%s\n' 's/application\/octet-stream/application\/pdf/'
		echo "$1: application/octet-stream, the client's type (what the file is stays the client's word)" >&2
		;;
	esac
}

# Known differences of the replies: the residue, as sed scripts that
# turn one client's header into the common one, and why it stays.
known()
{
	case $1 in
	*-attach)
		knownattach $1
		;;
	mutt-reply|neomutt-reply|s-nail-reply)
		printf '%s\n' 's/^To: <bob@bob\.i2p>$/To: Bob <bob@bob.i2p>/'
		echo "$1: To without Bob's display name: the client chose not to copy it from the message answered; adding or dropping names would change what the reader sees" >&2
		;;
	mailutils-reply)
		printf '%s\n' '/^To:/i\' 'From: Alice <alice@alice.i2p>' \
		    's/@localhost>/@alice.i2p>/' \
		    's/^References: <CA+xyz@mail\.gmail\.com>$/References: <(id)@alice.i2p>\' \
		    ' <CA+xyz@mail.gmail.com>/'
		echo "$1: no From (mail -a From: conflicts with the reply), so the new Message-ID takes the domain localhost; References lacks the plain message's ID, which mail never wrote" >&2
		;;
	esac
}

# The known differences, shown whether the tests pass or not.
for c in $clients; do
	for kind in plain reply attach; do
		known $c-$kind 2>&1 >/dev/null | sed 's/^/# known difference: /'
	done
done

for kind in plain reply attach; do
	test_expect_success "$kind: every client's message scrubs" '
		for c in $clients; do
			scrub-headers <$D/$c-$kind.eml >$c-$kind.out &&
			shape $c-$kind.out >$c-$kind.hdr || return 1
		done
	'

	test_expect_success "$kind: each header's line ends are all alike" '
		for c in $clients; do
			sed "/^\r\{0,1\}\$/q" $c-$kind.out >h &&
			n=$(wc -l <h) && cr=$(grep -c "$(printf "\r")\$" h || :) &&
			{ test $cr = 0 || test $cr = $n; } ||
			{ echo "$c-$kind: $cr of $n lines end in CRLF"; return 1; }
		done
	'

	test_expect_success "$kind: one header section for every client, but the known differences" '
		r=$(ref $kind) &&
		fails= &&
		for c in $clients; do
			known $c-$kind >$c-$kind.known 2>$c-$kind.why &&
			if test -s $c-$kind.known; then
				sed -f $c-$kind.known $c-$kind.hdr >$c-$kind.norm &&
				if cmp -s $c-$kind.hdr $c-$kind.norm; then
					echo "$c-$kind: the known difference is gone; update known():"
					cat $c-$kind.why
					fails="$fails $c"
				fi &&
				sed "s/^/# known difference: /" $c-$kind.why
			else
				cp $c-$kind.hdr $c-$kind.norm
			fi || return 1
		done &&
		for c in $clients; do
			if ! cmp -s $r-$kind.norm $c-$kind.norm; then
				echo "$c-$kind differs from $r-$kind:"
				diff -u $r-$kind.norm $c-$kind.norm
				fails="$fails $c"
			fi || return 1
		done &&
		test -z "$fails"
	'

	test_expect_success "$kind: the canonical form is a fixed point" '
		for c in $clients; do
			scrub-headers <$c-$kind.out >again &&
			cmp $c-$kind.out again ||
			{ echo "$c-$kind changes when scrubbed again"; return 1; }
		done
	'
done

test_expect_success 'the one plain header, as the man page shows it' '
	cat >want <<-\EOF &&
	Date: (date)
	From: Alice <alice@alice.i2p>
	To: <bob@bob.i2p>
	Subject: Plan for Friday
	Message-ID: <(id)@alice.i2p>
	MIME-Version: 1.0
	Content-Type: text/plain; charset=us-ascii

	EOF
	hdr mutt-plain.out >h &&
	test_cmp want h
'

test_expect_success '-c reports the residue, and it does not count as a leak' '
	{ printf "%s\n" "From: Alice <alice@alice.i2p>" "MIME-Version: 1.0" \
	    "Content-Type: text/plain; charset=us-ascii; format=flowed" "" &&
	  i=0 && while test $i -lt 2000; do
		echo "a flowed line of text, forty bytes long "; i=$((i + 1))
	  done && echo end; } >bigf.eml &&
	scrub-headers <bigf.eml >bigf.out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii; format=flowed" bigf.out &&
	sed "1,/^\$/d" bigf.eml >want && sed "1,/^\$/d" bigf.out >got &&
	test_cmp want got &&
	{ scrub-headers -c <bigf.out >report; test $? = 0; } &&
	test_grep -x "residue: Content-Type: text labels and encoding kept as written (a body too long to look at first)" report
'

test_expect_success 'flowed replies (alpine, thunderbird): unflowed, and -c finds no flowed text left' '
	for c in alpine thunderbird; do
		test_grep "format=flowed" $D/$c-reply.eml &&
		{ scrub-headers -c <$c-reply.out >report; test $? = 0; } &&
		test_grep -v "flowed" report &&
		test_grep -v "format=flowed" $c-reply.out || return 1
	done
'

# ---- the rules, one by one

test_expect_success 'addresses: quotes only where RFC 5322 needs them, brackets always, one a line' '
	printf "%s\n" "From: \"Anna Nym\" <Anna@Mail.I2P>" \
	    "To: bob@bob.i2p (Bob B), \"Nym, Carl\" <c@c.i2p>, \"J. Doe\" <j@d.i2p>" \
	    "Cc: friends: a@a.i2p, <b@b.i2p>;, \"x\\\"y\" <\"odd local\"@o.i2p>" \
	    "Subject: s" "" "hi" >addr.eml &&
	scrub-headers <addr.eml >out &&
	hdr out >h &&
	cat >want <<-\EOF &&
	Date: (date)
	From: Anna Nym <Anna@mail.i2p>
	To: Bob B <bob@bob.i2p>,
	 "Nym, Carl" <c@c.i2p>,
	 "J. Doe" <j@d.i2p>
	Cc: friends: <a@a.i2p>,
	 <b@b.i2p>;,
	 "x\"y" <"odd local"@o.i2p>
	Subject: s
	Message-ID: <(id)@mail.i2p>
	MIME-Version: 1.0
	Content-Type: text/plain; charset=us-ascii

	EOF
	test_cmp want h &&
	scrub-headers -c <out >report &&
	test_must_be_empty report
'

test_expect_success 'an empty group stays as written, and -c says so' '
	printf "From: a@a.i2p\nTo: undisclosed-recipients: ;\nSubject: s\n\nhi\n" >group.eml &&
	scrub-headers <group.eml >out &&
	test_grep -x "To: undisclosed-recipients: ;" out &&
	{ scrub-headers -c <out >report; test $? = 0; } &&
	test_grep -x "residue: To: empty group kept as written" report
'

test_expect_success 'MIME fields: names, order, parameters, defaults' '
	printf "%s\n" "Content-Id: <1.2@host.lan>" "content-transfer-encoding: 7BIT" \
	    "Content-Type: TEXT/PLAIN; format=fixed; Charset=\"UTF-8\"" \
	    "Mime-Version: 1.0 (Generated by Frob 1.2)" \
	    "Content-Disposition: inline" "From: a@a.i2p" "Subject: s" "" "hi" >mime.eml &&
	{ scrub-headers -c <mime.eml >report; test $? = 1; } &&
	test_grep -x "Content-Id: on the message itself, where nothing refers to it (dropped)" report &&
	test_grep -x "content-transfer-encoding: 7bit, where the body reads the same without it (dropped)" report &&
	test_grep -x "Mime-Version: comment (client details)" report &&
	test_grep -x "Content-Type: charset utf-8 for ASCII text (written us-ascii, which says the same)" report &&
	test_grep -x "Content-Type: format=fixed that the text does not use (dropped)" report &&
	test_grep -x "header: field order of the client (written in the canonical order)" report &&
	scrub-headers <mime.eml >out &&
	hdr out >h &&
	test_grep -x "MIME-Version: 1.0" h &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" h &&
	test_grep -v -i "^Content-\(Id\|Transfer\|Disposition\)" h
'

test_expect_success 'parameters in the order of their names, one a line when the field is long' '
	printf "%s\n" "MIME-Version: 1.0" \
	    "Content-Type: multipart/mixed; boundary=\"xyz\"; A=1" \
	    "From: a@a.i2p" "" "--xyz" "" "one" "--xyz--" >params.eml &&
	scrub-headers <params.eml >out &&
	hdr out >h &&
	test_grep -x "Content-Type: multipart/mixed; a=1; boundary=\"=_(boundary)\"" h &&
	sed "s/A=1/a-param=a-long-value-that-makes-the-line-longer-than-78/" params.eml >long.eml &&
	scrub-headers <long.eml >out2 &&
	hdr out2 >h2 &&
	test_grep -x "Content-Type: multipart/mixed;" h2 &&
	test_grep -x " a-param=a-long-value-that-makes-the-line-longer-than-78;" h2 &&
	test_grep -x " boundary=\"=_(boundary)\"" h2
'

test_expect_success 'no MIME-Version: labelled for 7-bit text and UTF-8; other 8 bits are residue' '
	printf "From: a@a.i2p\nSubject: s\n\nplain text\n" >nomime7.eml &&
	scrub-headers <nomime7.eml >out &&
	test_grep -x "MIME-Version: 1.0" out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" out &&
	printf "From: a@a.i2p\nSubject: s\n\n\374ber\n" >nomime8.eml &&
	scrub-headers <nomime8.eml >out8 &&
	test_grep -v "^MIME-Version:" out8 &&
	test_grep -v "^Content-Type:" out8 &&
	{ scrub-headers -c <out8 >report; test $? = 0; } &&
	test_grep -x "residue: MIME-Version: missing, and the body is neither 7-bit text nor UTF-8: left without MIME labels" report &&
	printf "From: a@a.i2p\nSubject: s\n\n\303\274ber\n" >nomimeu.eml &&
	scrub-headers <nomimeu.eml >outu &&
	test_grep -x "MIME-Version: 1.0" outu &&
	test_grep -x "Content-Type: text/plain; charset=utf-8" outu &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" outu &&
	test_grep -x "=C3=BCber" outu &&
	{ scrub-headers -c <nomimeu.eml >report; test $? = 1; } &&
	test_grep -x "MIME-Version: missing for UTF-8 text (added, with its Content-Type)" report &&
	{ scrub-headers -c <outu >report; test $? = 0; } &&
	test_must_be_empty report &&
	scrub-headers <outu >again && test_cmp outu again &&
	if command -v python3 >/dev/null; then
		mimetext nomimeu.eml >want && mimetext outu >got &&
		test_cmp want got
	fi
'

test_expect_success 'no MIME-Version beside other MIME fields, or dropped by the policy: -c says which' '
	printf "From: a@a.i2p\nSubject: s\nContent-Type: text/plain; charset=us-ascii\n\nplain text\n" >ctonly.eml &&
	{ scrub-headers -c <ctonly.eml >report; test $? = 1; } &&
	test_grep -x "residue: MIME-Version: missing beside other MIME fields: not added" report &&
	test_grep -v "neither 7-bit" report &&
	printf "From: a@a.i2p\nSubject: s\nContent-Type: text/plain; charset=utf-8; format=flowed; *=x\n\nflowed \ntext\n" >ctasis.eml &&
	{ scrub-headers -c <ctasis.eml >report; test $? = 1; } &&
	test_grep -x "residue: MIME-Version: missing beside other MIME fields: not added" report &&
	test_grep -x "residue: Content-Type: text labels and encoding kept as written (flowed text in a Content-Type kept as written)" report &&
	printf "From: a@a.i2p\nSubject: s\nContent-Transfer-Encoding: quoted-printable\n\nplain=3D\n" >cteonly.eml &&
	{ scrub-headers -c <cteonly.eml >report; test $? = 1; } &&
	test_grep -x "residue: MIME-Version: missing beside other MIME fields: not added" report &&
	printf "From: a@a.i2p\nSubject: s\n\nplain text\n" >bare.eml &&
	{ scrub-headers -c -d MIME-Version <bare.eml >report; test $? = 1; } &&
	test_grep -x "residue: MIME-Version: missing: not added, as the policy drops MIME-Version" report &&
	{ scrub-headers -c -d Content-Type <bare.eml >report; test $? = 1; } &&
	test_grep -x "residue: MIME-Version: missing: not added, as the policy drops Content-Type" report
'

test_expect_success 'no MIME-Version and a body longer than the look-ahead: residue' '
	{ printf "From: a@a.i2p\n\n"; i=0; while test $i -lt 2000; do
		echo "a line of plain text, forty bytes long."; i=$((i + 1)); done; } >long.eml &&
	scrub-headers <long.eml >out &&
	test_grep -v "^MIME-Version:" out &&
	scrub-headers -c <out >report &&
	test_grep -x "residue: MIME-Version: missing, and the body is too long to look at first: left without MIME labels" report &&
	sed 1,2d long.eml >want && sed "1,/^\$/d" out >got && test_cmp want got
'

test_expect_success 'quoted-printable of ASCII text is dropped; of UTF-8 text it stays, canonical' '
	printf "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\nFrom: a@a.i2p\n\nplain\n" >qp.eml &&
	scrub-headers <qp.eml >out &&
	test_grep -v "^Content-Transfer-Encoding" out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" out &&
	sed "s/^plain/caf=C3=A9/" qp.eml >qp8.eml &&
	scrub-headers <qp8.eml >out8 &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" out8 &&
	test_grep -x "Content-Type: text/plain; charset=utf-8" out8 &&
	scrub-headers -c <out8 >report &&
	test_must_be_empty report
'

# ---- text parts: one encoding and charset from the decoded text

# A message whose Content-Type is $1, Content-Transfer-Encoding $2 (-:
# none) and body the printf format $3; the same Date and Message-ID
# every time, so that two such messages with the same text must scrub
# to the same bytes.
tmsg()
{
	printf "%s\n" "From: Alice <alice@alice.i2p>" "To: <bob@bob.i2p>" \
	    "Subject: s" "Date: Mon, 23 Nov 2026 08:14:04 +0000" \
	    "Message-ID: <t.1@alice.i2p>" "MIME-Version: 1.0" \
	    "Content-Type: $1"
	test "$2" = - || printf "Content-Transfer-Encoding: %s\n" "$2"
	printf "\n$3"
}

# $1.eml scrubs to $1.out, which reads the same (python3's email package
# decodes both: texts to their characters, attachments to their bytes),
# is a fixed point, and in which -c finds nothing but residue.
reads_same()
{
	scrub_fixed $1 &&
	if command -v python3 >/dev/null; then
		mimesum $1.eml >$1.want && mimesum $1.out >$1.got &&
		test_cmp $1.want $1.got
	fi
}

test_expect_success 'text rule: ASCII text is 7bit us-ascii, however the client encoded it' '
	tmsg "text/plain; charset=us-ascii" - "Hi Bob,\n\nsee you.\n" >a0.eml &&
	tmsg "text/plain; charset=UTF-8" quoted-printable "Hi Bob,\n\nsee =\nyou.\n" >a1.eml &&
	tmsg "text/plain; charset=utf-8" 8bit "Hi Bob,\n\nsee you.\n" >a2.eml &&
	tmsg "text/plain; charset=iso-8859-1" base64 "SGkgQm9iLAoKc2VlIHlvdS4K\n" >a3.eml &&
	for x in a0 a1 a2 a3; do
		reads_same $x || return 1
	done &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" a0.out &&
	test_grep -v "^Content-Transfer-Encoding" a0.out &&
	test_grep -x "see you." a0.out &&
	for x in a1 a2 a3; do
		test_cmp a0.out $x.out || return 1
	done &&
	{ scrub-headers -c <a1.eml >report; test $? = 1; } &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable, where the body reads the same without it (dropped)" report &&
	test_grep -x "body: the client'"'"'s encoding of the text (written as 7-bit text)" report
'

test_expect_success 'text rule: other UTF-8 text is quoted-printable utf-8, never 8bit' '
	tmsg "text/plain; charset=utf-8" 8bit "Gr\303\274\303\237e, caf\303\251.\n" >u0.eml &&
	tmsg "text/plain; charset=UTF-8" quoted-printable "Gr=C3=BC=C3=9Fe, =\ncaf=C3=A9.\n" >u1.eml &&
	tmsg "text/plain; charset=\"utf-8\"" base64 "R3LDvMOfZSwgY2Fmw6kuCg==\n" >u2.eml &&
	tmsg "text/plain; charset=utf-8" - "Gr\303\274\303\237e, caf\303\251.\n" >u3.eml &&
	for x in u0 u1 u2 u3; do
		reads_same $x || return 1
	done &&
	test_grep -x "Content-Type: text/plain; charset=utf-8" u0.out &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" u0.out &&
	test_grep -x "Gr=C3=BC=C3=9Fe, caf=C3=A9." u0.out &&
	for x in u1 u2 u3; do
		test_cmp u0.out $x.out || return 1
	done
'

test_expect_success 'text rule: a legacy charset is made UTF-8, the same characters' '
	tmsg "text/plain; charset=ISO-8859-1" 8bit "Gr\374\337e, caf\351.\n" >l0.eml &&
	tmsg "text/plain; charset=iso-8859-15" quoted-printable "Gr=FC=DFe, caf=E9.\n" >l1.eml &&
	tmsg "text/plain; charset=windows-1252" base64 "R3L832UsIGNhZukuCg==\n" >l2.eml &&
	for x in l0 l1 l2; do
		reads_same $x && test_cmp u0.out $x.out || return 1
	done &&
	test_grep -v -i "8859\|1252" l0.out &&
	{ scrub-headers -c <l0.eml >report; test $? = 1; } &&
	test_grep -x "Content-Type: charset iso-8859-1, the sender'"'"'s locale (the text written as UTF-8)" report
'

test_expect_success 'text rule: a NUL, a bare CR or a 1200-byte line make ASCII quoted-printable' '
	tmsg "text/plain; charset=us-ascii" base64 "YQBiCg==\n" >n0.eml &&
	tmsg "text/plain; charset=us-ascii" quoted-printable "a=0Db\n" >n1.eml &&
	long=$(printf "%01200d" 0) &&
	tmsg "text/plain; charset=us-ascii" 8bit "$long\nend\n" >n2.eml &&
	for x in n0 n1 n2; do
		reads_same $x &&
		test_grep -x "Content-Transfer-Encoding: quoted-printable" $x.out &&
		test_grep -x "Content-Type: text/plain; charset=us-ascii" $x.out || return 1
	done &&
	test_grep -x "a=00b" n0.out &&
	test_grep -x "a=0Db" n1.out &&
	awk "length > 76 { exit 1 }" n2.out
'

test_expect_success 'text rule: a 7bit body with a "From " line is written as the rule writes it' '
	tmsg "text/plain; charset=us-ascii" - "hello\nFrom the office\nbye\n" >r0.eml &&
	tmsg "text/plain; charset=us-ascii" quoted-printable "hello\n=46rom the office\nbye\n" >r1.eml &&
	tmsg "text/plain; charset=us-ascii" 7bit "hello\nFrom the office\nbye\n" >r2.eml &&
	for x in r0 r1 r2; do
		reads_same $x || return 1
	done &&
	test_cmp r1.out r0.out && test_cmp r1.out r2.out &&
	test_grep -x "=46rom the office" r0.out &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" r0.out &&
	tmsg "multipart/mixed; boundary=b" - "--b\nContent-Type: text/plain; charset=us-ascii\n\nplain\n--b\nContent-Type: text/plain; charset=us-ascii\n\nFrom me\n--b--\n" >r3.eml &&
	reads_same r3 &&
	test_grep -x "plain" r3.out &&
	test_grep -x "=46rom me" r3.out
'

test_expect_success 'text rule: a "From " line past the first 65536 bytes of a 7bit body is copied (residue)' '
	{ tmsg "text/plain; charset=us-ascii" - "" &&
	  i=0 && while test $i -lt 2000; do
		echo "a line of seven-bit text, forty bytes."; i=$((i + 1))
	  done && echo "From the end"; } >r4.eml &&
	reads_same r4 &&
	test_grep -x "From the end" r4.out &&
	test_grep -v "Content-Transfer-Encoding" r4.out
'

test_expect_success 'text rule: line ends that are not the message'"'"'s stay, in base64' '
	tmsg "text/plain; charset=us-ascii" base64 "YQ0KYg0K\n" >c0.eml &&
	reads_same c0 &&
	test_grep -x "Content-Transfer-Encoding: base64" c0.out &&
	test_grep -x "YQ0KYg0K" c0.out
'

test_expect_success 'text rule: a body over the look-ahead keeps its labels, as residue' '
	{ tmsg "text/plain; charset=utf-8" quoted-printable "caf=C3=A9\n" &&
	  i=0 && while test $i -lt 2000; do
		echo "a line of quoted-printable text, forty."; i=$((i + 1))
	  done; } >big.eml &&
	reads_same big &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" big.out &&
	test_grep -x "residue: Content-Type: text labels and encoding kept as written (a body too long to look at first)" big.report &&
	sed "1,/^\$/d" big.eml >want && sed "1,/^\$/d" big.out >got &&
	test_cmp want got
'

test_expect_success 'text rule: 8-bit text its charset does not hold keeps its labels, as residue' '
	tmsg "text/plain; charset=utf-8" 8bit "caf\351\n" >bad.eml &&
	reads_same bad &&
	test_grep -x "Content-Transfer-Encoding: 8bit" bad.out &&
	test_grep -x "residue: Content-Type: text labels and encoding kept as written (8-bit text not valid in its charset)" bad.report
'

# flowed NAME: NAME.eml scrubs to a text that reads as NAME.eml read
# flowed (reads_same, with mimesum unflowing format=flowed), with no
# format parameter left and nothing for -c, not even residue.
flowed()
{
	reads_same $1 &&
	test_must_be_empty $1.report &&
	test_grep -v -i "format=\|delsp=" $1.out
}

test_expect_success 'format=flowed: unflowed, a line a paragraph, as a plain client writes it' '
	tmsg "text/plain; charset=utf-8; format=flowed" quoted-printable "a soft=20\nbreak\n" >f0.eml &&
	tmsg "text/plain; charset=us-ascii; format=flowed" 8bit "fixed\nlines\n-- \nsig\n" >f1.eml &&
	tmsg "text/plain; charset=us-ascii" - "a soft break\n" >f2.eml &&
	flowed f0 && flowed f1 && reads_same f2 &&
	test_cmp f2.out f0.out &&
	test_grep -x "a soft break" f0.out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" f1.out &&
	{ scrub-headers -c <f0.eml >report; test $? = 1; } &&
	test_grep -x "Content-Type: format=flowed of a text made fixed (dropped)" report &&
	test_grep -x "body: format=flowed text (made fixed: a line a paragraph, as a flowed reader shows it)" report
'

test_expect_success 'format=flowed: DelSp yes and no, stuffing, quote depth, the signature separator' '
	tmsg "text/plain; charset=us-ascii; format=flowed; delsp=yes" - "a soft \nbreak\n" >d0.eml &&
	tmsg "text/plain; charset=us-ascii; format=flowed; DelSp=Yes" - "fixed\n" >d1.eml &&
	tmsg "text/plain; charset=us-ascii; format=flowed; delsp=no" - "a soft \nbreak\n" >d2.eml &&
	tmsg "text/plain; charset=us-ascii; format=flowed" - " From here \n on\n>no space \n>after\n> quoted \n> text\n>> deeper \n>> still\nmine, \n-- \nsig\n" >d3.eml &&
	for x in d0 d1 d2 d3; do
		flowed $x || return 1
	done &&
	test_grep -x "a softbreak" d0.out &&
	test_grep -x "a soft break" d2.out &&
	sed "1,/^\$/d" d3.out >got &&
	printf "%s\n" "=46rom here on" ">no space after" "> quoted text" \
	    ">> deeper still" "mine,=20" "--=20" "sig" >want &&
	test_cmp want got
'

test_expect_success 'format=flowed: a joined line over 998 bytes goes quoted-printable' '
	i=0 && body= && while test $i -lt 40; do
		body="${body}twenty-nine bytes of text,ab \n"; i=$((i + 1))
	done &&
	tmsg "text/plain; charset=us-ascii; format=flowed" - "${body}end\n" >j0.eml &&
	flowed j0 &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" j0.out &&
	awk "length > 76 { exit 1 }" j0.out &&
	mimetext j0.eml >want && mimetext j0.out >got && test_cmp want got &&
	test $(grep -c "twenty-nine" got) = 1 &&
	test $(grep -o "twenty-nine" got | wc -l) = 40
'

test_expect_success 'format=flowed: CRLF line ends, a soft last line, a line that is one space' '
	{ tmsg "text/plain; charset=us-ascii; format=flowed" - "one \ntwo\n \n" |
	  sed "s/\$/\r/" && printf "last "; } >c0.eml &&
	flowed c0 &&
	sed "1,/^\r\$/d" c0.out >got &&
	printf "one two\r\n\r\nlast " >want &&
	test_cmp want got
'

test_expect_success 'format=flowed: a text part unflowed; a signed one copied as it is' '
	tmsg "multipart/mixed; boundary=b" - "--b\nContent-Type: text/plain; charset=us-ascii; format=flowed\n\na soft \nbreak\n--b--\n" >m0.eml &&
	flowed m0 &&
	test_grep -x "a soft break" m0.out &&
	tmsg "multipart/signed; boundary=b; protocol=\"application/pgp-signature\"; micalg=pgp-sha256" - "--b\nContent-Type: text/plain; charset=us-ascii; format=flowed\n\na soft \nbreak\n--b\nContent-Type: application/pgp-signature\n\nsig\n--b--\n" >m1.eml &&
	scrub-headers <m1.eml >m1.out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii; format=flowed" m1.out &&
	test_grep -x "a soft " m1.out
'

test_expect_success 'format=flowed: another text type keeps it where the text uses it (residue)' '
	tmsg "multipart/mixed; boundary=b" - "--b\nContent-Type: text/x-note; charset=us-ascii; format=flowed\n\na soft \nbreak\n--b--\n" >x0.eml &&
	reads_same x0 &&
	test_grep -x "Content-Type: text/x-note; charset=us-ascii; format=flowed" x0.out &&
	test_grep -x "a soft " x0.out &&
	test_grep -x "residue: part 1: Content-Type: format=flowed kept (the text uses it)" x0.report
'

test_expect_success 'text parts: the same rule; attachments byte for byte' '
	tmsg "multipart/mixed; boundary=b" - "--b\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\nGr\374\337e, caf\351.\n\n--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Disposition: attachment; filename=l.txt\nContent-Transfer-Encoding: 8bit\n\ncaf\351\n--b\nContent-Type: text/plain; charset=utf-8; name=n.txt\nContent-Transfer-Encoding: quoted-printable\n\nplain=\n\n--b--\n" >p0.eml &&
	tmsg "multipart/mixed; boundary=c" - "--c\nContent-Transfer-Encoding: base64\nContent-Type: text/plain; charset=utf-8\n\nR3LDvMOfZSwgY2Fmw6kuCg==\n--c\nContent-Type: text/plain; charset=iso-8859-1\nContent-Disposition: attachment; filename=l.txt\nContent-Transfer-Encoding: 8bit\n\ncaf\351\n--c\nContent-Type: text/plain; charset=utf-8; name=n.txt\nContent-Transfer-Encoding: quoted-printable\n\nplain=\n\n--c--\n" >p1.eml &&
	reads_same p0 && reads_same p1 &&
	sed "s/=_[a-z2-7]\{26\}/=_(b)/g" p0.out >p0.m &&
	sed "s/=_[a-z2-7]\{26\}/=_(b)/g" p1.out >p1.m &&
	test_cmp p0.m p1.m &&
	awk "/^--=_\\(b\\)\$/ { n++ } n == 1" p0.m | sed 1d >part1 &&
	printf "%s\n" "Content-Type: text/plain; charset=utf-8" \
	    "Content-Transfer-Encoding: quoted-printable" "" \
	    "Gr=C3=BC=C3=9Fe, caf=C3=A9." "" >want &&
	test_cmp want part1 &&
	printf "caf\351\n" >l.want && grep -x "caf.$" p0.out >l.got &&
	test_cmp l.want l.got &&
	test_grep -x "plain=" p0.out &&
	test_grep -x "Content-Transfer-Encoding: 8bit" p0.out
'

test_expect_success 'text parts: an encoding given twice with 7bit follows the rule at once' '
	tmsg "multipart/mixed; boundary=b" - "--b\nContent-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: 8bit\n\n\303\234berweisung\n--b\nContent-Type: text/plain; charset=us-ascii; format=flowed\nContent-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: 7BIT\n\na soft \nbreak\n--b--\n" >w0.eml &&
	reads_same w0 &&
	sed -n "/^--=_/,/^\$/p" w0.out | sed "s/=_[a-z2-7]\{26\}/=_(b)/" >parts &&
	printf "%s\n" "--=_(b)" "Content-Type: text/plain; charset=utf-8" \
	    "Content-Transfer-Encoding: quoted-printable" "" \
	    "--=_(b)" "Content-Type: text/plain; charset=us-ascii" "" \
	    "--=_(b)--" >want &&
	test_cmp want parts &&
	test_grep -x "=C3=9Cberweisung" w0.out &&
	test_grep -x "a soft break" w0.out
'

test_expect_success 'text rule: a message that is one text file is copied as it is' '
	tmsg "text/plain; charset=iso-8859-1" 8bit "caf\351\n" |
	    sed "s/^Content-Type: .*/&\nContent-Disposition: attachment; filename=l.txt/" >f.eml &&
	reads_same f &&
	test_grep -x "Content-Type: text/plain; charset=iso-8859-1" f.out &&
	test_grep -x "Content-Transfer-Encoding: 8bit" f.out &&
	sed "1,/^\$/d" f.eml >want && sed "1,/^\$/d" f.out >got &&
	test_cmp want got
'

test_expect_success 'text rule: an mbox of such messages, each canonical, still split where it was' '
	{ echo "From a@a Mon Nov 23 08:48:41 2026" && cat a1.eml && echo &&
	  echo "From a@a Mon Nov 23 08:48:42 2026" && cat u0.eml && echo &&
	  echo "From a@a Mon Nov 23 08:48:43 2026" && cat l1.eml; } >t.mbox &&
	scrub-headers -m <t.mbox >t.out &&
	test $(grep -c "^From a@a " t.out) = 3 &&
	test_grep -x "see you." t.out &&
	test $(grep -c -x "Gr=C3=BC=C3=9Fe, caf=C3=A9." t.out) = 2 &&
	scrub-headers -m <t.out >t.again && test_cmp t.out t.again &&
	scrub-headers -m -c <t.out >report && test_must_be_empty report
'

test_expect_success 'format=flowed: dropped, the text made fixed' '
	printf "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii; format=flowed; delsp=yes\nFrom: a@a.i2p\n\nfixed\n-- \nsig\n" >fl.eml &&
	scrub-headers <fl.eml >out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" out &&
	printf "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii; format=flowed\nFrom: a@a.i2p\n\nflows \non\n" >fl2.eml &&
	scrub-headers <fl2.eml >out2 &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" out2 &&
	test_grep -x "flows on" out2
'

test_expect_success 'unstructured text: unfolded, folded again at the last space before column 78' '
	printf "From: a@a.i2p\nSubject: a long subject\n\tthat a client folded early, and that goes on past the seventy-eighth column\n\nx\n" >subj.eml &&
	scrub-headers <subj.eml >out &&
	test_grep -x "Subject: a long subject that a client folded early, and that goes on past the" out &&
	test_grep -x " seventy-eighth column" out
'

test_expect_success 'an mbox: each message canonical, the From_ line first' '
	printf "From a@a Mon Nov 23 08:48:41 2026\nSubject: one\nFrom: a@a.i2p\n\nx\n\nFrom a@a Mon Nov 23 08:48:42 2026\nFrom: a@a.i2p\nSubject: two\n\ny\n" >in.mbox &&
	scrub-headers -m <in.mbox >out.mbox &&
	test $(grep -c "^From a@a " out.mbox) = 2 &&
	sed -n "/^From a@a /{n;p;}" out.mbox >firsts &&
	test $(grep -c "^Date: " firsts) = 2
'

test_expect_success 'addresses: folds, quotes, bare addresses and domain case take the one rendering' '
	printf "%s\n" "From: \"Alice\"   <alice@Alice.I2P>" \
	    "To: bob@bob.i2p,   \"Carol Nym\" <carol@carol.i2p>," \
	    "	Dan  Nym" "	 <dan@dan.i2p>, \"Eve, the Second\" <eve@eve.i2p>" \
	    "Subject: s" "" "x" >fws.eml &&
	scrub-headers <fws.eml >out &&
	sed -n "/^From:/,/^Subject:/p" out >got &&
	printf "%s\n" "From: Alice <alice@alice.i2p>" "To: <bob@bob.i2p>," \
	    " Carol Nym <carol@carol.i2p>," " Dan Nym <dan@dan.i2p>," \
	    " \"Eve, the Second\" <eve@eve.i2p>" "Subject: s" >want &&
	test_cmp want got &&
	test_grep "@alice\.i2p>\$" out &&
	scrub-headers <out >again && test_cmp out again
'

# Two clients' shapes of one multipart message: part field order,
# explicit defaults (7bit, inline on text, an empty description), the
# case and quoting of types, parameters and encodings.
mpart()
{
	printf "%s\n" "From: Alice <alice@alice.i2p>" "To: Bob <bob@bob.i2p>" \
	    "Subject: parts" "Date: Mon, 23 Nov 2026 08:14:04 +0000" \
	    "Message-ID: <parts.1@alice.i2p>" "MIME-Version: 1.0"
	if test $1 = a; then
		printf "%s\n" "Content-Type: multipart/mixed; boundary=\"aaa\"" "" \
		    "--aaa" "Content-Type: text/plain; charset=us-ascii" \
		    "Content-Disposition: inline" "" "Hello, Bob." "" \
		    "--aaa" "Content-Type: application/pdf; name=\"plan.pdf\"" \
		    "Content-Disposition: attachment; filename=\"plan.pdf\"" \
		    "Content-Transfer-Encoding: base64" "" "JVBERi0xLjQKJcOkw7w=" \
		    "--aaa--"
	else
		printf "%s\n" "Content-Type: MULTIPART/MIXED; BOUNDARY=bbb" "" \
		    "--bbb" "Content-Transfer-Encoding: 7BIT" "Content-Description:" \
		    "Content-Type: Text/Plain; CHARSET=\"US-ASCII\"" "" "Hello, Bob." "" \
		    "--bbb" "Content-Disposition: ATTACHMENT; filename=plan.pdf" \
		    "Content-Transfer-Encoding: Base64" \
		    "content-type: application/PDF; name=plan.pdf" "" \
		    "JVBERi0xLjQKJcOkw7w=" "--bbb--"
	fi
}

test_expect_success 'MIME parts: one field order, no explicit defaults, one spelling' '
	mpart a >pa.eml && mpart b >pb.eml &&
	scrub-headers <pa.eml >pa.out && scrub-headers <pb.eml >pb.out &&
	sed "s/=_[a-z2-7]\{26\}/=_(boundary)/g" pa.out >pa.m &&
	sed "s/=_[a-z2-7]\{26\}/=_(boundary)/g" pb.out >pb.m &&
	test_cmp pa.m pb.m &&
	sed -n "/^--=_/,/^\$/p" pa.m >parts &&
	printf "%s\n" "--=_(boundary)" "Content-Type: text/plain; charset=us-ascii" "" \
	    "--=_(boundary)" "Content-Type: application/pdf" \
	    "Content-Transfer-Encoding: base64" \
	    "Content-Disposition: attachment; filename=plan.pdf" "" \
	    "--=_(boundary)--" >want &&
	test_cmp want parts
'

test_expect_success 'MIME parts: the text and attachment decode to the same bytes' '
	command -v python3 >/dev/null || return 0
	for x in pa pb; do
		mimesum $x.eml >$x.want && mimesum $x.out >$x.got &&
		test_cmp $x.want $x.got || return 1
	done
'

test_expect_success 'MIME parts: -c names what changed, and nothing after' '
	{ scrub-headers -c <pb.eml >report; test $? = 1; } &&
	test_grep -x "part 1: header: field order of the client (written in the canonical order)" report &&
	test_grep -x "part 1: Content-Transfer-Encoding: 7bit, the default (dropped)" report &&
	test_grep -x "part 1: Content-Description: empty (dropped)" report &&
	test_grep -x "part 2: header: field order of the client (written in the canonical order)" report &&
	{ scrub-headers -c <pa.eml >report; test $? = 1; } &&
	test_grep -x "part 1: Content-Disposition: inline on a text part (what a reader does anyway; dropped)" report &&
	scrub-headers -c <pa.out && scrub-headers -c <pb.out
'

test_expect_success 'MIME parts: inline stays on an attachment, and with a file name' '
	sed "s/^Content-Disposition: attachment; filename=\"plan.pdf\"/Content-Disposition: inline/" pa.eml >pi.eml &&
	scrub-headers <pi.eml >out &&
	test_grep -x "Content-Disposition: inline" out &&
	sed "s/^Content-Disposition: inline\$/Content-Disposition: inline; filename=hello.txt/" pa.eml >pf.eml &&
	scrub-headers <pf.eml >out2 &&
	test_grep -x "Content-Disposition: inline; filename=hello.txt" out2
'

# Alpine in a German locale: ISO-8859-15 encoded words in the Subject, a
# display name and the file names (RFC 2047 and RFC 2231).
legacy()
{
	printf "%s\n" "From: =?ISO-8859-15?Q?J=FCrgen_M=FCller?= <juergen@mail.i2p>" \
	    "To: Bob <bob@bob.i2p>" "Subject: =?ISO-8859-15?Q?Preis_in_=A4?= und =?utf-8?B?w7w=?=" \
	    "MIME-Version: 1.0" "Content-Type: multipart/mixed; boundary=\"b\"" "" \
	    "--b" "Content-Type: text/plain; charset=us-ascii" "" "hi" \
	    "--b" "Content-Type: application/pdf; name=\"=?ISO-8859-15?Q?=DCberweisung.pdf?=\"" \
	    "Content-Disposition: attachment; filename*=iso-8859-15'"'"''"'"'%DCberweisung%20M%E4rz.pdf" \
	    "Content-Transfer-Encoding: base64" "" "JVBERi0xLjQK" "--b--"
}

test_expect_success 'legacy charsets: encoded words and file names made UTF-8' '
	legacy >leg.eml &&
	scrub-headers <leg.eml >out &&
	test_grep -x "From: =?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@mail.i2p>" out &&
	test_grep -x "Subject: Preis in =?utf-8?B?4oKsIHVuZCDDvA==?=" out &&
	test_grep -x "Content-Type: application/pdf" out &&
	test_grep -x " filename\*=utf-8'"'"''"'"'%C3%9Cberweisung%20M%C3%A4rz.pdf" out &&
	test_grep -v -i "8859" out &&
	scrub-headers <out >again && test_cmp out again
'

test_expect_success 'legacy charsets: -c names them; the attachment decodes as before' '
	{ scrub-headers -c <leg.eml >report; test $? = 1; } &&
	test_grep -x "Subject: encoded word in a legacy charset, the sender'"'"'s locale (written as UTF-8)" report &&
	test_grep -x "From: encoded word in a legacy charset, the sender'"'"'s locale (written as UTF-8)" report &&
	test_grep -x "part 2: Content-Disposition: filename in a legacy charset, the sender'"'"'s locale (written as UTF-8)" report &&
	scrub-headers -c <out &&
	if command -v python3 >/dev/null; then
		mimesum leg.eml >want && mimesum out >got && test_cmp want got
	fi
'

test_expect_success 'legacy charsets: a charset iconv does not know stays, as residue' '
	printf "From: a@a.i2p\nSubject: =?x-frob-42?q?abc?=\n\nx\n" >unk.eml &&
	scrub-headers <unk.eml >out &&
	test_grep -x "Subject: =?x-frob-42?q?abc?=" out &&
	scrub-headers -c <out >report &&
	test_grep -x "residue: Subject: encoded word in a charset that cannot be made UTF-8, kept" report
'

# Reply attributions (issue 15's examples): -c names what they tell of
# the sender as residue; the text is not rewritten.
attr()
{
	printf "From: a@a.i2p\nSubject: Re: x\n\n%s\n> Friday then?\n\nYes.\n" "$1"
}

test_expect_success 'attributions: a time zone, a local time, a date order, a language' '
	attr "Am Sat, Nov 21, 2026 at 06:02:11PM +0000 schrieb Bob:" >a1.eml &&
	attr "On Sat Nov 21, 2026 at 3:02 PM -03, Bob wrote:" >a2.eml &&
	attr "On 11/21/26 19:02, Bob wrote:" >a3.eml &&
	for x in a1 a2 a3; do
		scrub-headers <$x.eml >$x.out &&
		scrub-headers -c <$x.out >$x.report || return 1
	done &&
	test_grep -x "residue: body: reply attribution in another language than English (\"schrieb\": the sender'"'"'s locale; the text is not rewritten)" a1.report &&
	test_grep -v "time zone" a1.report &&
	test_grep -x "residue: body: reply attribution with the time zone -03 (the text is not rewritten)" a2.report &&
	test_grep -x "residue: body: reply attribution with a time of day and no zone, the sender'"'"'s local time (the text is not rewritten)" a3.report &&
	test_grep -x "residue: body: reply attribution with a numeric date, in the order of the sender'"'"'s locale (the text is not rewritten)" a3.report &&
	sed "1,/^\$/d" a2.eml >want && sed "1,/^\$/d" a2.out >got && test_cmp want got
'

test_expect_success 'attributions: UTC in English, or no date, tells nothing' '
	attr "On Sat, 21 Nov 2026 18:02:11 +0000, Bob wrote:" >u1.eml &&
	attr "Bob <bob@bob.i2p> wrote:" >u2.eml &&
	attr "It was 10:00 -0300 then, not a line before a quote." |
	    sed "s/^> Friday then?\$/Friday then?/" >u3.eml &&
	for x in u1 u2 u3; do
		scrub-headers <$x.eml | scrub-headers -c >$x.report &&
		test_grep -v "^residue: body:" $x.report || return 1
	done
'

test_expect_success 'attributions: the clients'"'"' replies (aerc in CET, Thunderbird in German)' '
	scrub-headers <$D/aerc-reply.eml | scrub-headers -c >ar.report &&
	test_grep -x "residue: body: reply attribution with the time zone CET (the text is not rewritten)" ar.report &&
	scrub-headers <$D/thunderbird-reply.eml | scrub-headers -c >tr.report &&
	test_grep -x "residue: body: reply attribution in another language than English (\"schrieb\": the sender'"'"'s locale; the text is not rewritten)" tr.report
'

test_done
