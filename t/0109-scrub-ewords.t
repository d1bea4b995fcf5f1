#!/bin/sh
# scrub-headers' one rendering of header text (scrub-headers(1),
# "Canonical form"; issue 15): Subject and display names are decoded and
# written again by one rule, whatever encoded words (Q or B, upper- or
# lower-case charset and hex, one word per word or one for the text,
# split anywhere, legacy charsets) or raw UTF-8 the client wrote.  The
# text as python3's email package decodes it is the same before and
# after, and -c on the output is quiet.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all 'python3 is needed to decode headers'

# pydec FILE: Subject and the From display name as python3's email
# package (policy=default) decodes them, one a line.
pydec()
{
	python3 -c "
import sys, email
from email import policy
m = email.message_from_bytes(open(sys.argv[1], \"rb\").read(), policy=policy.default)
print(str(m[\"Subject\"]))
for a in m[\"From\"].addresses:
    print(a.display_name)
" "$1"
}

# msg FROM SUBJECT: a message with these header lines.
msg()
{
	printf "From: %s\nTo: <bob@bob.i2p>\nSubject: %s\nDate: Sat, 21 Nov 2026 18:02:11 +0000\nMessage-ID: <x@mail.i2p>\n\nhi\n" "$1" "$2"
}

# scrubs NAME: scrub NAME.eml into NAME.out; -c on the output is quiet,
# and scrubbing it again changes nothing.
scrubs()
{
	scrub-headers <$1.eml >$1.out &&
	scrub-headers -c <$1.out >$1.report &&
	test ! -s $1.report &&
	scrub-headers <$1.out >$1.again &&
	sed /^Date:/d $1.out >$1.o1 && sed /^Date:/d $1.again >$1.o2 &&
	test_cmp $1.o1 $1.o2
}

printf "%s\n" "Grüße aus Berlin" "Jürgen Nym" >gruss.want
gruss_s="Subject: =?utf-8?B?R3LDvMOfZQ==?= aus Berlin"
gruss_f="From: =?utf-8?B?SsO8cmdlbiBOeW0=?= <j@mail.i2p>"

test_expect_success 'Q or B, any case, split or not, legacy or raw: one rendering' '
	msg "=?UTF-8?Q?J=C3=BCrgen_Nym?= <j@mail.i2p>" "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Berlin" >q.eml &&
	msg "=?utf-8?b?SsO8cmdlbiBOeW0=?= <j@mail.i2p>" "=?utf-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=" >b.eml &&
	msg "=?utf-8?q?J=c3=bcrgen?= Nym <j@mail.i2p>" "=?utf-8?q?Gr=c3=bc=c3=9fe?= aus Berlin" >lower.eml &&
	msg "\"=?UTF-8?Q?J=C3=BC?= =?UTF-8?Q?rgen?= Nym\" <j@mail.i2p>" "=?UTF-8?Q?Gr=C3=BC?= =?UTF-8?Q?=C3=9Fe?= aus Berlin" >split.eml &&
	msg "=?UTF-8?Q?J=C3=BC?==?UTF-8?Q?rgen?= Nym <j@mail.i2p>" "=?UTF-8?Q?Gr=C3?==?UTF-8?Q?=BC=C3=9Fe?= aus Berlin" >glued.eml &&
	msg "=?ISO-8859-15?Q?J=FCrgen_Nym?= <j@mail.i2p>" "=?iso-8859-15?q?Gr=FC=DFe_aus_Berlin?=" >latin.eml &&
	msg "Jürgen Nym <j@mail.i2p>" "Grüße aus Berlin" >raw.eml &&
	msg "\"Jürgen Nym\" <j@mail.i2p>" "Grüße   =?utf-8?Q?aus?= Berlin" >rawq.eml &&
	for c in q b lower split glued latin raw; do
		scrubs $c &&
		test_grep -x "$gruss_s" $c.out &&
		test_grep -x "$gruss_f" $c.out &&
		pydec $c.out >$c.got && test_cmp gruss.want $c.got || return 1
	done &&
	for c in q b lower split glued latin; do
		pydec $c.eml >$c.before && test_cmp gruss.want $c.before || return 1
	done
'

test_expect_success 'white space between encoded words goes; inside them it stays' '
	msg "a@mail.i2p" "=?utf-8?Q?a_?= =?utf-8?Q?=C3=BC?=  b =?utf-8?B?w7wg?= =?utf-8?Q?_c?=" >ws.eml &&
	scrubs ws &&
	test_grep -x "Subject: a =?utf-8?B?w7wgIGIgw7w=?=  c" ws.out &&
	python3 -c "print(\"a ü  b ü  c\")" >ws.want &&
	pydec ws.eml | head -1 >ws.before && test_cmp ws.want ws.before &&
	pydec ws.out | head -1 >ws.got && test_cmp ws.want ws.got
'

test_expect_success 'pure ASCII in encoded words is written plainly' '
	msg "=?utf-8?Q?Anna_Nym?= <a@mail.i2p>" "=?UTF-8?B?cGxhaW4gdGV4dA==?=" >ascii.eml &&
	scrubs ascii &&
	test_grep -x "Subject: plain text" ascii.out &&
	test_grep -x "From: Anna Nym <a@mail.i2p>" ascii.out
'

test_expect_success 'a long Subject: words of 75 characters at most, lines of 76, cut between characters' '
	python3 -c "print(\"Re: \" + \"x\" * 33 + \"\U0001D11E\" + \" \".join([\"Grüße\"] * 30))" >long.want &&
	python3 -c "
import email.header
t = open(\"long.want\", encoding=\"utf-8\").read().rstrip(\"\n\")
print(\"From: a@mail.i2p\nSubject: \" + email.header.Header(t, \"utf-8\").encode() + \"\n\nhi\")
" >long.eml &&
	scrubs long &&
	sed -n "/^Subject:/,/^[^ ]/p" long.out | sed "\$d" >long.subj &&
	test $(wc -l <long.subj) -gt 3 &&
	awk "length(\$0) > 76 { exit 1 }" long.subj &&
	tr " " "\n" <long.subj | grep "^=?" >long.words &&
	awk "length(\$0) > 75 || !/^=\?utf-8\?B\?[A-Za-z0-9+\/=]*\?=\$/ { exit 1 }" long.words &&
	python3 -c "
import base64, sys
for w in open(\"long.words\"):
    base64.b64decode(w.strip()[10:-2]).decode(\"utf-8\")
" &&
	pydec long.eml | head -1 >long.before && test_cmp long.want long.before &&
	pydec long.out | head -1 >long.got && test_cmp long.want long.got
'

test_expect_success 'a 4-byte character where a word is cut stays whole' '
	python3 -c "print(\"\U0001D11E\" * 40)" >clef.want &&
	printf "From: a@mail.i2p\nSubject: %s\n\nhi\n" "$(cat clef.want)" >clef.eml &&
	scrubs clef &&
	sed -n "/^Subject:/,/^[^ ]/p" clef.out | sed "\$d" | tr " " "\n" | grep "^=?" >clef.words &&
	test $(wc -l <clef.words) -gt 2 &&
	python3 -c "
for w in open(\"clef.words\"):
    import base64
    b = base64.b64decode(w.strip()[10:-2])
    assert len(b) % 4 == 0 and len(b) <= 45, w
    b.decode(\"utf-8\")
" &&
	pydec clef.out | head -1 >clef.got && test_cmp clef.want clef.got
'

test_expect_success 'a broken encoded word stays as written, and -c calls it residue' '
	msg "a@mail.i2p" "=?utf-8?X?abc?= und =?UTF-8?Q?=C3=BC?=" >broken.eml &&
	scrub-headers <broken.eml >broken.out &&
	test_grep -x "Subject: =?utf-8?X?abc?= und =?UTF-8?Q?=C3=BC?=" broken.out &&
	scrub-headers -c <broken.out >broken.report &&
	test_grep -x "residue: Subject: text that does not decode to UTF-8, or a broken encoded word, kept as written" broken.report
'

test_expect_success 'raw 8-bit text that is not UTF-8 stays as written, as residue' '
	printf "From: a@mail.i2p\nSubject: Gr\374\337e\n\nhi\n" >latin1.eml &&
	scrub-headers <latin1.eml >latin1.out &&
	printf "Subject: Gr\374\337e\n" >latin1.want &&
	grep "^Subject:" latin1.out >latin1.got && test_cmp latin1.want latin1.got &&
	scrub-headers -c <latin1.out >latin1.report &&
	test_grep "residue: Subject: text that does not decode" latin1.report
'

test_expect_success 'text that reads as an encoded word is encoded' '
	msg "a@mail.i2p" "=?UTF-8?Q?=3D=3Futf-8=3FQ=3Fx=3F=3D_=C3=BC?=" >lit.eml &&
	scrubs lit &&
	test_grep -x "Subject: =?utf-8?B?PT91dGYtOD9RP3g/PSDDvA==?=" lit.out &&
	pydec lit.eml | head -1 >lit.before && pydec lit.out | head -1 >lit.got &&
	test_cmp lit.before lit.got
'

! command -v strace >/dev/null || test_set_prereq STRACE
# iconv_open() in the static scrub-headers loads a gconv module and the
# shared C library with it: more than the scrub itself costs one process
# a message.  The legacy charsets of most mail are made UTF-8 without it.
# (Only gconv is looked for: the ASan build is linked dynamically, and
# opens libc.so.6 anyway; LeakSanitizer does not run under ptrace.)
test_expect_success STRACE 'Latin-1, Latin-9 and Windows-1252 words need no gconv module' '
	msg "=?ISO-8859-15?Q?J=FCrgen_Nym?= <j@mail.i2p>" "=?windows-1252?q?=80_Gr=FC=DFe_aus_Berlin?= =?iso-8859-1?q?=FC?=" >nogconv.eml &&
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -e trace=open,openat -o nogconv.trace scrub-headers <nogconv.eml >nogconv.out &&
	test_grep -x "Subject: =?utf-8?B?4oKsIEdyw7zDn2UgYXVzIEJlcmxpbsO8?=" nogconv.out &&
	test_grep -x "From: =?utf-8?B?SsO8cmdlbiBOeW0=?= <j@mail.i2p>" nogconv.out &&
	! grep gconv nogconv.trace
'

# Text whose canonical rendering fails (an encoded word right after
# "=?", a control byte) but whose legacy words can be made UTF-8: once
# they are, the text may have the canonical rendering after all, and the
# next run would give it.  So does this one
# (t/fuzz/regress/scrub/description-word-after-equals).
test_expect_success 'text that renders once its legacy words are UTF-8 is rendered now' '
	printf "From: a@a.i2p\nSubject: =?=?utf7?B??= \001\nContent-Description: =?=?utf7?B??= \001\n\nb\n" >eq.eml &&
	scrub_fixed eq &&
	test_grep -x "Subject: =? =?utf-8?B?AQ==?=" eq.out &&
	test_grep -x "Content-Description: =? =?utf-8?B?AQ==?=" eq.out
'

test_done
