#!/bin/sh
# scrub-headers on the UTF-8 message every client in t/data/clients wrote
# (NAME-utf8.eml, issue 15: a non-ASCII sender and recipient name, a UTF-8
# Subject, UTF-8 text with a line past column 78, each client left to
# encode it): no leak token left, the decoded Subject, names and text the
# same before and after, -c quiet on the output, and one header shape for
# every client once Date, the keyed Message-ID and boundaries are masked.
# What is not one shape yet is a test_expect_failure below, with the
# differences it still finds printed after it.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all 'python3 is needed to parse MIME'
D=$TDATA/clients
clients="aerc alpine claws mailutils mutt neomutt nmh s-nail thunderbird"
# The clients whose message is one text/plain part (mailutils' without
# MIME labels, which valid UTF-8 text gets): the same content, structure
# and envelope, so one header section.
same="aerc claws mailutils mutt neomutt nmh s-nail thunderbird"

# The known differences outside $same: each must still be there (a
# change shows up as a failure asking to update this list).
# known CLIENT: why the client is outside $same, on standard error; the
# check that the reason still holds, as a command, on standard output.
known()
{
	case $1 in
	alpine)
		echo "alpine: a multipart/mixed with one text part (and a preamble): another MIME structure, which scrubbing keeps" >&2
		echo 'test_grep -x "Content-Type: multipart/mixed; boundary=\"=_(boundary)\"" alpine.hdr'
		;;
	esac
}

for c in $clients; do
	known $c 2>&1 >/dev/null | sed 's/^/# known difference: /'
done

# The header section, line ends as LF (SMTP makes them all CRLF: they
# are the transport's, not the client's), masked values.
hdr()
{
	sed '/^\r\{0,1\}$/q' "$1" | tr -d '\r' | sed \
		-e 's/^Date: .*/Date: (date)/' \
		-e 's/<[a-z2-7]\{26\}@/<(id)@/g' \
		-e 's/=_[a-z2-7]\{26\}/=_(boundary)/g'
}

# fields NAME...: the fields so named of the header on standard input,
# with their continuation lines.
fields()
{
	awk -v want=" $* " '
	/^[ \t]/ { if (on) print; next }
	{ n = $0; sub(/:.*/, "", n); on = index(want, " " n " ") > 0; if (on) print }'
}

# texthdr CLIENT: the header of the client's text part (the message's
# own, or the first MIME part's for a multipart), masked.
texthdr()
{
	if grep -q "^Content-Type: multipart/" $1.hdr; then
		tr -d '\r' <$1.out | sed -n '/^--=_/,/^$/{/^--=_/d;p;}' | sed '/^$/q'
	else
		cat $1.hdr
	fi | fields Content-Type Content-Transfer-Encoding
}

# samediff FILE-SUFFIX CLIENT...: diff each client's FILE against the
# first one's, into diffs; fail if any differs.
samediff()
{
	suf=$1
	shift
	ref=$1
	: >diffs
	for c; do
		cmp -s $ref.$suf $c.$suf ||
		{ echo "$c differs from $ref:"; diff -u $ref.$suf $c.$suf | tail -n +3; } >>diffs
	done
	cat diffs
	test ! -s diffs
}

# The differences a known breakage still finds, as TAP comments.
showdiffs()
{
	if test -s diffs; then
		sed "s/^/# $1: /" diffs
	fi
	rm -f diffs
}

test_expect_success 'every client that writes a plain message wrote a UTF-8 one' '
	for p in $D/*-plain.eml; do
		c=$(basename $p -plain.eml) &&
		test -f $D/$c-utf8.eml &&
		case " $clients " in *" $c "*) ;; *) echo "$c: not in \$clients"; false ;; esac ||
		return 1
	done
'

for c in $clients; do
	eml=$D/$c-utf8.eml
	test_expect_success "$c: scrubbed; no leak token left, what must stay still there" '
		scrub-headers <$eml >$c.out &&
		hdr $c.out >$c.hdr &&
		mimeheaders $c.out >$c.all &&
		while IFS= read -r tok; do
			test -z "$tok" && continue
			if grep -F -q -- "$tok" $c.all; then
				echo "leaked: $tok"; grep -F -- "$tok" $c.all
				return 1
			fi
		done <$D/$c-utf8.leak &&
		while IFS= read -r tok; do
			test -z "$tok" && continue
			grep -F -q -- "$tok" $c.out || { echo "lost: $tok"; return 1; }
		done <$D/$c-utf8.keep
	'

	test_expect_success "$c: Subject, names and text decode the same, and the parts" '
		mimetext $eml >$c.want-text &&
		mimetext $c.out >$c.got-text &&
		test_cmp $c.want-text $c.got-text &&
		test_grep -x "Subject: Grüße aus Köln — Plan" $c.got-text &&
		test_grep -x "From: '"'"'Zoë Nym'"'"' <alice@alice.i2p>" $c.got-text &&
		test_grep -x "To: '"'"'Bjørn Nym'"'"' <bob@bob.i2p>" $c.got-text &&
		test_grep "with ä, ö, ü, ß and € in it" $c.got-text &&
		mimesum $eml >$c.want-sum &&
		mimesum $c.out >$c.got-sum &&
		test_cmp $c.want-sum $c.got-sum
	'

	test_expect_success "$c: -c finds leaks before, none after; scrubbing again changes nothing" '
		{ scrub-headers -c <$eml >/dev/null; test $? = 1; } &&
		scrub-headers -c <$c.out >$c.report &&
		{ ! grep -v "^residue: " $c.report || { echo "not residue:"; false; }; } &&
		scrub-headers <$c.out >$c.again &&
		test_cmp $c.out $c.again
	'
done

test_expect_success 'the known differences are still there' '
	for c in $clients; do
		known $c 2>$c.why >$c.check &&
		if test -s $c.check && ! eval "$(cat $c.check)" >/dev/null; then
			echo "$c: the known difference is gone; update known():"
			cat $c.why
			return 1
		fi || return 1
	done
'

test_expect_success 'one field order and one set of field names' '
	for c in $same; do
		sed -n "s/^\([!-9;-~]*\):.*/\1/p" $c.hdr >$c.names || return 1
	done &&
	samediff names $same &&
	printf "%s\n" Date From To Subject Message-ID MIME-Version Content-Type \
		Content-Transfer-Encoding >want &&
	test_cmp want mutt.names
'

# Whatever the client wrote (Q or B, utf-8 or UTF-8, hex case, a word
# per non-ASCII word or one for the whole text, raw UTF-8 as mailutils
# writes it), the same Unicode text in From, To and Subject has one
# rendering: decoded and encoded again by one rule.
test_expect_success 'From, To and Subject: one rendering of the same text' '
	for c in $clients; do
		fields From To Subject <$c.hdr >$c.ftsubj || return 1
	done &&
	samediff ftsubj $clients
'
showdiffs 'From, To and Subject'

# The text part's labels: one transfer encoding and charset from the
# decoded text, and no format=flowed (flowed text is made fixed).
test_expect_success 'the text part: one Content-Type and Content-Transfer-Encoding' '
	for c in $same alpine; do
		texthdr $c >$c.textlabels || return 1
	done &&
	samediff textlabels $same alpine
'
showdiffs 'text part'

test_expect_success 'one header section, byte for byte, for every client of one structure' '
	samediff hdr $same
'
showdiffs 'header'

# -c on the output reports nothing, not even residue: the text part's
# labels follow the text rule, flowed text is fixed, and mailutils'"'"'
# unlabelled UTF-8 text is labelled.
test_expect_success '-c on the output reports nothing' '
	: >diffs &&
	for c in $clients; do
		test ! -s $c.report || sed "s/^/$c: /" $c.report >>diffs
	done &&
	cat diffs &&
	test ! -s diffs
'
showdiffs '-c'

test_done
