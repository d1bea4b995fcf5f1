#!/bin/sh
# scrub-headers -a (issue 15, "Leaks in the body"): the attribution line
# of a reply becomes TorBirdy's neutral "NAME wrote:"; every other byte of
# the text stays, which the tests check by decoding the text before and
# after with Python's email package and comparing it without the
# attribution, and on the raw body for the encodings that are copied.
# Without -a nothing changes.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
D=$TDATA/clients
A=$TDATA/attrib

# text.py FILE [LINE...]: the decoded text of FILE's first text/plain
# part that is no attachment (format=flowed unflowed as mimesum does, as
# a reader shows it), line ends as LF, each LINE (given in UTF-8) taken
# out once; it fails if one is not there.
cat >"$TRASH/text.py" <<'EOF'
import email, shutil, sys
from email import policy
from importlib.machinery import SourceFileLoader
with open(sys.argv[1], 'rb') as f:
    msg = email.message_from_binary_file(f, policy=policy.compat32)
for part in msg.walk():
    if part.get_content_type() == 'text/plain' and \
            'attachment' not in part.get('Content-Disposition', '').lower():
        text = part.get_payload(decode=True)
        if (part.get_param('format') or '').lower() == 'flowed':
            ms = SourceFileLoader('mimesum', shutil.which('mimesum')).load_module()
            text = ms.unflow(text, (part.get_param('delsp') or '').lower() == 'yes')
        break
else:
    sys.exit('text.py: no text part in ' + sys.argv[1])
lines = text.replace(b'\r\n', b'\n').split(b'\n')
for want in sys.argv[2:]:
    w = want.encode('utf-8')
    if w not in lines:
        sys.exit('text.py: no line %r in %s' % (want, sys.argv[1]))
    lines.remove(w)
sys.stdout.buffer.write(b'\n'.join(lines))
EOF

# raw.py IN OUT NEW OLD...: OUT's body (after the first empty line) is
# IN's, byte for byte and line ends included, but for the consecutive raw
# lines OLD (as written, without their line ends), which are the one line
# NEW there, with the line end of the last OLD.
cat >"$TRASH/raw.py" <<'EOF'
import sys
def body(path):
    b = open(path, 'rb').read()
    for sep in (b'\r\n\r\n', b'\n\n'):
        i = b.find(sep)
        if i >= 0:
            return b[i + len(sep):]
    sys.exit('raw.py: no body in ' + path)
a, b = body(sys.argv[1]), body(sys.argv[2])
new = sys.argv[3].encode('utf-8')
old = [o.encode('utf-8') for o in sys.argv[4:]]
lines = a.splitlines(keepends=True)
for i in range(len(lines) - len(old) + 1):
    if [l.rstrip(b'\r\n') for l in lines[i:i + len(old)]] == old:
        last = lines[i + len(old) - 1]
        eol = last[len(last.rstrip(b'\r\n')):]
        want = b''.join(lines[:i]) + new + eol + b''.join(lines[i + len(old):])
        break
else:
    sys.exit('raw.py: the old lines are not in ' + sys.argv[1])
if want != b:
    sys.stdout.buffer.write(b'want:\n' + want + b'\ngot:\n' + b)
    sys.exit(1)
EOF

body()
{
	sed '1,/^\r\{0,1\}$/d' "$1"
}

# rewritten FILE NEW OLD...: scrub FILE with and without -a.  With -a the
# decoded text holds NEW in place of the lines OLD and is the same
# otherwise, -c finds no attribution in the result and -a changes it no
# more; -a -c reports it on FILE; without -a the text is FILE's.
rewritten()
{
	rw_f=$1 rw_new=$2 &&
	shift 2 &&
	rw_b=$(basename "$rw_f" .eml) &&
	scrub-headers -a <"$rw_f" >$rw_b.a &&
	python3 "$TRASH/text.py" "$rw_f" "$@" >$rw_b.want &&
	python3 "$TRASH/text.py" $rw_b.a "$rw_new" >$rw_b.got &&
	test_cmp $rw_b.want $rw_b.got &&
	scrub-headers -c <$rw_b.a >$rw_b.report &&
	test_grep -v "attribution" $rw_b.report &&
	scrub-headers -a <$rw_b.a >$rw_b.aa &&
	test_cmp $rw_b.a $rw_b.aa &&
	{ scrub-headers -a -c <"$rw_f" >$rw_b.areport; test $? = 1; } &&
	test_grep -x "body: reply attribution with the date, time or language of the sender (written as \"NAME wrote:\")" $rw_b.areport &&
	scrub-headers <"$rw_f" >$rw_b.plain &&
	python3 "$TRASH/text.py" "$rw_f" >$rw_b.intext &&
	python3 "$TRASH/text.py" $rw_b.plain >$rw_b.outtext &&
	test_cmp $rw_b.intext $rw_b.outtext
}

test_expect_success 'the clients'"'"' replies: the attribution becomes NAME wrote:, the rest stays' '
	rewritten $D/aerc-reply.eml "Bob wrote:" \
	    "On Mon Nov 23, 2026 at 10:00 AM CET, Bob wrote:" &&
	rewritten $D/alpine-reply.eml "Bob wrote:" \
	    "On Mon, 23 Nov 2026, Bob wrote:" &&
	rewritten $D/claws-reply.eml "Bob <bob@bob.i2p> wrote:" \
	    "On Mon, 23 Nov 2026 09:00:00 +0000" "Bob <bob@bob.i2p> wrote:" &&
	rewritten $D/thunderbird-reply.eml "Bob wrote:" \
	    "Am 23.11.26 um 10:00 schrieb Bob:" &&
	rewritten $A/mutt-reply.eml "Bob wrote:" \
	    "On Mon, Nov 23, 2026 at 10:00:00AM +0100, Bob wrote:" &&
	rewritten $A/mutt-de-reply.eml "Bob wrote:" \
	    "Am Mon, Nov 23, 2026 at 10:00:00AM +0100 schrieb Bob:"
'

test_expect_success 'the copied bodies: byte for byte but the one line (CRLF kept)' '
	python3 "$TRASH/raw.py" $D/thunderbird-reply.eml thunderbird-reply.a \
	    "Bob wrote:" "Am 23.11.26 um 10:00 schrieb Bob:" &&
	python3 "$TRASH/raw.py" $D/claws-reply.eml claws-reply.a \
	    "Bob <bob@bob.i2p> wrote:" \
	    "On Mon, 23 Nov 2026 09:00:00 +0000" "Bob <bob@bob.i2p> wrote:" &&
	python3 "$TRASH/raw.py" $D/alpine-reply.eml alpine-reply.a \
	    "Bob wrote:" "On Mon, 23 Nov 2026, Bob wrote:" &&
	python3 "$TRASH/raw.py" $D/aerc-reply.eml aerc-reply.a "Bob wrote:" \
	    "On Mon Nov 23, 2026 at 10:00 AM CET, Bob wrote:" &&
	python3 "$TRASH/raw.py" $A/mutt-reply.eml mutt-reply.a "Bob wrote:" \
	    "On Mon, Nov 23, 2026 at 10:00:00AM +0100, Bob wrote:" &&
	tr -d "\r" <thunderbird-reply.a | cmp -s - thunderbird-reply.a && false ||
	test_grep -c "$(printf "\r")\$" thunderbird-reply.a
'

test_expect_success 'replies without an attribution: -a changes nothing' '
	for c in mutt neomutt s-nail mailutils nmh; do
		scrub-headers -a <$D/$c-reply.eml >$c.a &&
		body $D/$c-reply.eml >$c.in && body $c.a >$c.out &&
		test_cmp $c.in $c.out &&
		scrub-headers -a -c <$D/$c-reply.eml >$c.report
		test_grep -v "attribution" $c.report || return 1
	done
'

# one LINE [LAST]: a reply whose attribution is LINE, in UTF-8 (the
# answer, LAST, has 8-bit bytes too unless given).
one()
{
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s\n> Friday then?\n\n%s\n" \
	    "$1" "${2:-Yes, très bien.}"
}

test_expect_success 'the forms clients write, in English and other languages' '
	while IFS="|" read -r line new; do
		one "$line" >in.eml &&
		scrub-headers -a <in.eml >out.eml &&
		printf "%s\n> Friday then?\n\nYes, très bien.\n" "$new" >want &&
		python3 "$TRASH/text.py" out.eml >got &&
		test_cmp want got || return 1
	done <<-\EOF
	On Mon, Nov 23, 2026 at 10:00:00AM +0100, Bob wrote:|Bob wrote:
	On Sat Nov 21, 2026 at 3:02 PM -03, Bob wrote:|Bob wrote:
	On 11/21/26 19:02, Bob wrote:|Bob wrote:
	On Sat, 21 Nov 2026, Bob wrote:|Bob wrote:
	On Sat, Nov 21, 2026 at 3:02 PM Bob <bob@bob.i2p> wrote:|Bob <bob@bob.i2p> wrote:
	On Sat, Nov 21, 2026 at 06:02:11PM +0000, bob@bob.i2p wrote:|bob@bob.i2p wrote:
	On Sat, 21 Nov 2026, Doe, John wrote:|Doe, John wrote:
	On 2026-11-21 19:02, "Bob B." <bob@bob.i2p> wrote:|"Bob B." <bob@bob.i2p> wrote:
	Am Sat, Nov 21, 2026 at 06:02:11PM +0000 schrieb Bob:|Bob wrote:
	Am 21.11.26 um 19:02 schrieb Jürgen Schön:|Jürgen Schön wrote:
	Op 21-11-2026 om 19:02 schreef Bob:|Bob wrote:
	Den 21.11.2026 kl. 19:02 skrev Bob:|Bob wrote:
	Le 21/11/2026 à 19:02, Bob a écrit :|Bob wrote:
	El 21/11/26 a las 19:02, Bob escribió:|Bob wrote:
	Il 21/11/26 19:02, Bob ha scritto:|Bob wrote:
	Em 21/11/2026 19:02, Bob escreveu:|Bob wrote:
	EOF
'

# A text's labels are chosen from its text (scrub-headers(1), "Text
# parts"), once rewritten: an attribution whose 8-bit bytes were the
# text's only ones leaves ASCII text, written as such.
test_expect_success 'the only 8-bit bytes of a text in its attribution: the labels follow the new text' '
	one "Le 21/11/2026 à 19:02, Bob a écrit :" "Yes." >fr.eml &&
	scrub-headers -a <fr.eml >fr.out &&
	printf "Bob wrote:\n> Friday then?\n\nYes.\n" >want &&
	body fr.out >got && test_cmp want got &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" fr.out &&
	test_grep -v "Content-Transfer-Encoding" fr.out &&
	scrub-headers -a <fr.out >fr.again && test_cmp fr.out fr.again &&
	{ printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=bb\n\n--bb\n" &&
	  sed "1,/^\$/d" fr.eml | sed "1i\\
Content-Type: text/plain; charset=utf-8\\
Content-Transfer-Encoding: 8bit\\
" && printf -- "--bb--\n"; } >frmp.eml &&
	scrub-headers -a <frmp.eml >frmp.out &&
	test_grep -x "Bob wrote:" frmp.out &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" frmp.out &&
	scrub-headers -a -c <frmp.out >report &&
	test_grep -v "attribution" report
'

test_expect_success 'lines that only look like one are left alone' '
	while IFS="|" read -r line; do
		one "$line" >in.eml &&
		scrub-headers -a <in.eml >out.eml &&
		python3 "$TRASH/text.py" in.eml >want &&
		python3 "$TRASH/text.py" out.eml >got &&
		test_cmp want got || return 1
	done <<-\EOF
	On Friday at 10:00 we meet, as you wrote:
	See below:
	Bob wrote:
	On Mon, 23 Nov 2026, Agent 47 wrote:
	Am 21.11.26 um 19:02 schrieb er 2 Zeilen:
	On Mon, 23 Nov 2026 Bob wrote: yes
	In 2026, on the 23rd, Bob wrote:
	EOF
	printf "From: a@a.i2p\nSubject: Re: x\n\nHi,\n\nOn Mon, 23 Nov 2026, Bob wrote:\nthat Friday works.\n\nCarol wrote:\n> yes\n\nOn Mon, 23 Nov 2026, Dave wrote:\n> no\n" >mid.eml &&
	scrub-headers -a <mid.eml >mid.out &&
	body mid.eml >want && body mid.out >got && test_cmp want got &&
	printf "From: a@a.i2p\nSubject: Re: x\n\nSee:\n> first\n\nOn Mon, 23 Nov 2026, Dave wrote:\n> second\n" >second.eml &&
	scrub-headers -a <second.eml >second.out &&
	body second.eml >want && body second.out >got && test_cmp want got
'

test_expect_success 'the line before and the neutral form would read as one: left' '
	printf "From: a@a.i2p\nSubject: Re: x\n\nOn 23 Nov 2026 we said\nOn Mon, 23 Nov 2026, Bob wrote:\n> x\n" >amb.eml &&
	scrub-headers -a <amb.eml >amb.out &&
	body amb.eml >want && body amb.out >got && test_cmp want got &&
	printf "From: a@a.i2p\nSubject: Re: x\n\nAs agreed, see below.\nOn Mon, 23 Nov 2026, Bob wrote:\n> x\n" >pre.eml &&
	scrub-headers -a <pre.eml >pre.out &&
	printf "As agreed, see below.\nBob wrote:\n> x\n" >want &&
	body pre.out >got && test_cmp want got
'

test_expect_success 'an attribution wrapped over two lines, flowed or not' '
	printf "From: a@a.i2p\nSubject: Re: x\n\nOn Sat, Nov 21, 2026 at 06:02:11PM +0000, Bob\n<bob@bob.i2p> wrote:\n> x\n" >w1.eml &&
	rewritten w1.eml "Bob <bob@bob.i2p> wrote:" \
	    "On Sat, Nov 21, 2026 at 06:02:11PM +0000, Bob" "<bob@bob.i2p> wrote:" &&
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8; format=flowed\n\nOn 21.11.26 at 19:02, Bob \n<bob@bob.i2p> wrote:\n> x\n" >w2.eml &&
	rewritten w2.eml "Bob <bob@bob.i2p> wrote:" \
	    "On 21.11.26 at 19:02, Bob <bob@bob.i2p> wrote:" &&
	python3 "$TRASH/raw.py" w2.eml w2.a "Bob <bob@bob.i2p> wrote:" \
	    "On 21.11.26 at 19:02, Bob " "<bob@bob.i2p> wrote:"
'

test_expect_success 'quoted-printable: the line decoded, rewritten, encoded again' '
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe, 1 =3D 1.\n\nAm 23.11.26 um 10:00 schrieb J=C3=BCrgen Sch=C3=B6n:\n> Passt Freitag? Sch=C3=B6n w=C3=A4r=E2=80=99s.\n> 3 =3D 3\n\nJa.=20\n" >qp.eml &&
	rewritten qp.eml "Jürgen Schön wrote:" \
	    "Am 23.11.26 um 10:00 schrieb Jürgen Schön:" &&
	python3 "$TRASH/raw.py" qp.eml qp.a "J=C3=BCrgen Sch=C3=B6n wrote:" \
	    "Am 23.11.26 um 10:00 schrieb J=C3=BCrgen Sch=C3=B6n:" &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" qp.a
'

test_expect_success 'quoted-printable: an attribution the encoding broke over two lines' '
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nS=C3=BC=C3=9F.\n\nOn Mon, 23 Nov 2026 at 10:00 AM CET, J=C3=BCrgen Sch=C3=B6n <juergen@schoen.=\ni2p> wrote:\n> x=3D1\n" >qp2.eml &&
	rewritten qp2.eml "Jürgen Schön <juergen@schoen.i2p> wrote:" \
	    "On Mon, 23 Nov 2026 at 10:00 AM CET, Jürgen Schön <juergen@schoen.i2p> wrote:" &&
	python3 "$TRASH/raw.py" qp2.eml qp2.a \
	    "J=C3=BCrgen Sch=C3=B6n <juergen@schoen.i2p> wrote:" \
	    "On Mon, 23 Nov 2026 at 10:00 AM CET, J=C3=BCrgen Sch=C3=B6n <juergen@schoen.=" \
	    "i2p> wrote:"
'

test_expect_success 'base64: decoded, rewritten, written as the text rule says' '
	b64=$(printf "On Mon, 23 Nov 2026 at 10:00 AM CET, Bob wrote:\n> x\n" | base64 -w 76) &&
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n%s\n" "$b64" >b64.eml &&
	rewritten b64.eml "Bob wrote:" \
	    "On Mon, 23 Nov 2026 at 10:00 AM CET, Bob wrote:" &&
	printf "Bob wrote:\n> x\n" >want &&
	body b64.a >got && test_cmp want got
'

# A text left as written (too long to look at first, as here, or not
# valid in its charset) keeps its attribution: rewritten, it could come
# under the bound, and a second run would write it otherwise.  A named
# file the text rule does not read is watched line by line, which a
# base64 body escapes.
test_expect_success 'a text left as written keeps its attribution, and -a -c says so' '
	{ one "On Mon, 23 Nov 2026, Bob wrote:" &&
	  i=0 && while test $i -lt 3000; do
		echo "Yes, très bien, line $i of a long answer." && i=$((i + 1))
	  done; } >long.eml &&
	scrub-headers -a <long.eml >long.out &&
	body long.eml >want && body long.out >got && test_cmp want got &&
	{ scrub-headers -a -c <long.eml >report; test $? -le 1; } &&
	test_grep -x "residue: body: reply attribution not rewritten: the text is left as written (a body too long to look at first)" report &&
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline; filename=a.txt\nContent-Transfer-Encoding: base64\n\n%s\n" "$b64" >file.eml &&
	{ scrub-headers -a -c <file.eml >report; test $? -le 1; } &&
	test_grep -x "residue: body: base64 text: a reply attribution in it is not rewritten" report
'

# A Content-Type kept as written (a parameter name that cannot be
# written back) keeps its format parameter, which keeps the next run off
# the fast path: the text rule reads the text, and -a is decided there.
# A text not valid in its charset keeps its attribution; watched line by
# line, the line would have lost its 8-bit byte, and the next run's rule
# would write the text quoted-printable
# (t/fuzz/regress/scrub/attrib-format-kept-8bit).
test_expect_success 'a text with its format kept and bad 8-bit bytes keeps its attribution' '
	printf "From: a@a.i2p\nContent-Type: text/plain; format=fixed; a*0*0=x\n\nAm \377 3.1.26 schrieb Bob:\n> x\nnul \000 here\n" >fk.eml &&
	scrub-headers -a <fk.eml >fk.out &&
	body fk.eml >want && body fk.out >got && test_cmp want got &&
	scrub-headers -a <fk.out >fk.again && test_cmp fk.out fk.again &&
	{ scrub-headers -a -c <fk.out >report; test $? -le 1; } &&
	test_grep -x "residue: body: reply attribution not rewritten: the text is left as written (8-bit text not valid in its charset)" report &&
	! grep -v "^residue: " report
'

# Content-Disposition twice on a single-part text, inline and one that
# does not parse: the inline one goes, so the next run sees only the
# other, which makes the body a file.  So does this run: the labels stay,
# and -a watches the lines, as the next run would
# (t/fuzz/regress/scrub/attrib-disposition-twice).
test_expect_success 'a message with inline and a broken disposition: -a once' '
	printf "From: a@a.i2p\nContent-Disposition: inline\nContent-Type: text/plain; charset=x-odd\nContent-Disposition:\n\nOn 2020\nBob wrote:\n> x\n" >dd.eml &&
	scrub-headers -a <dd.eml >dd.out &&
	scrub-headers -a <dd.out >dd.again &&
	sed /^Date:/d dd.out >dd.o1 && sed /^Date:/d dd.again >dd.o2 &&
	test_cmp dd.o1 dd.o2 &&
	{ scrub-headers -a -c <dd.out >report; test $? -le 1; } &&
	! grep -v "^residue: " report
'

# -c reads a text the rule writes anew as it reads any other: decoded.
test_expect_success 'without -a, -c reports the attribution of a text written anew' '
	one "On Mon, 23 Nov 2026 at 10:00 AM CET, Bob wrote:" >cet.eml &&
	{ scrub-headers -c <cet.eml >report; test $? -le 1; } &&
	test_grep -x "body: the client'"'"'s encoding of the text (written quoted-printable)" report &&
	test_grep -x "residue: body: reply attribution with the time zone CET (the text is not rewritten)" report &&
	test $(grep -c "attribution" report) = 1
'

test_expect_success 'MIME: the first text part that is no attachment, and only it' '
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=bb\n\n--bb\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; filename=notes.txt\n\nOn Mon, 23 Nov 2026, Carol wrote:\n> kept\n--bb\nContent-Type: text/plain; charset=utf-8\n\nOn Mon, 23 Nov 2026, Bob wrote:\n> Friday then?\n--bb\nContent-Type: text/plain; charset=utf-8\n\nOn Mon, 23 Nov 2026, Dave wrote:\n> kept too\n--bb--\n" >mp.eml &&
	scrub-headers -a <mp.eml >mp.out &&
	{ scrub-headers -a -c <mp.eml >report; test $? = 1; } &&
	test_grep -x "part 2: body: reply attribution with the date, time or language of the sender (written as \"NAME wrote:\")" report &&
	test "$(grep -c "^On Mon, 23 Nov 2026, Carol wrote:\$" mp.out)" = 1 &&
	test "$(grep -c "^On Mon, 23 Nov 2026, Dave wrote:\$" mp.out)" = 1 &&
	test "$(grep -c "^Bob wrote:\$" mp.out)" = 1 &&
	test_grep -v "Bob, 23\|On Mon, 23 Nov 2026, Bob" mp.out
'

# Lines held while -a looks for the attribution go out one by one, each
# looked at as a line: one that is the part's new delimiter refuses the
# message with -a as without it (t/fuzz/regress/scrub, attrib-held-*).
test_expect_success 'a held line that is the new boundary: refused, as without -a' '
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=bb\n\n--bb\nContent-Type: text/plain\n\nhi\n--bb--\n" >nb0.eml &&
	scrub-headers <nb0.eml >nb0.out &&
	w=$(sed -n "s/.*boundary=\"\{0,1\}\(=_[a-z2-7]*\).*/\1/p" nb0.out) &&
	test -n "$w" &&
	printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=bb\n\n--bb\nContent-Type: text/plain\n\nHi,\n--%s\nOn Mon, 23 Nov 2026, Bob wrote:\n> Friday then?\n--bb--\n" "$w" >nb1.eml &&
	test_expect_code 65 scrub-headers <nb1.eml >/dev/null 2>err0 &&
	test_expect_code 65 scrub-headers -a <nb1.eml >/dev/null 2>err1 &&
	test_grep "would end a part" err1
'

test_expect_success 'an mbox: each message'"'"'s attribution' '
	{ printf "From a@a.i2p Mon Nov 23 09:00:00 2026\n" && one "On 11/21/26 19:02, Bob wrote:" &&
	  printf "\nFrom a@a.i2p Mon Nov 23 09:01:00 2026\n" && one "Am 21.11.26 um 19:02 schrieb Carol:"; } >box &&
	scrub-headers -a -m <box >box.out &&
	test_grep -x "Bob wrote:" box.out &&
	test_grep -x "Carol wrote:" box.out &&
	test "$(grep -c "^> Friday then?\$" box.out)" = 2
'

# The limit, through a pipe; and a line that the first 64 KiB read of
# the input cuts is still read as one line.
test_expect_success 'within the first 65536 bytes of the part, through a pipe' '
	python3 -c "import sys; sys.stdout.write((\"x\" * 63 + \"\\n\") * 1023)" >fill &&
	{ printf "From: a@a.i2p\nSubject: Re: x\n\n" && cat fill &&
	  printf "On Mon, 23 Nov 2026, Bob wrote:\n> x\n"; } >near.eml &&
	cat near.eml | scrub-headers -a >near.out &&
	test_grep -x "Bob wrote:" near.out &&
	{ printf "From: a@a.i2p\nSubject: Re: x\n\n" && cat fill &&
	  printf "%064d\nOn Mon, 23 Nov 2026, Bob wrote:\n> x\n" 0; } >far.eml &&
	cat far.eml | scrub-headers -a >far.out &&
	body far.eml >want && body far.out >got && test_cmp want got &&
	{ printf "From: a@a.i2p\nSubject: Re: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n" &&
	  head -n 1022 fill &&
	  printf "%030d\nOn Mon, 23 Nov 2026, Bob wrote:\n> x\n" 0; } >cut.eml &&
	test "$(grep -b "^On Mon" cut.eml | cut -d: -f1)" = 65530 &&
	scrub-headers -a <cut.eml >cut.out &&
	test_grep -x "Bob wrote:" cut.out
'

# A bad value is a set-up mistake: 75 for a filter, which must not bounce
# mail, 2 for a check (DESIGN.md, "Exit codes").
test_expect_success 'off by default; scrub-attribution = yes in the configuration turns it on' '
	one "On 11/21/26 19:02, Bob wrote:" >c.eml &&
	scrub-headers <c.eml >off.out &&
	python3 "$TRASH/text.py" c.eml >want &&
	python3 "$TRASH/text.py" off.out >got && test_cmp want got &&
	echo "scrub-attribution = no" >conf &&
	NYMBOX_CONF=$TRASH/conf scrub-headers <c.eml >no.out &&
	python3 "$TRASH/text.py" no.out >got && test_cmp want got &&
	echo "scrub-attribution = yes" >conf &&
	NYMBOX_CONF=$TRASH/conf scrub-headers <c.eml >yes.out &&
	test_grep -x "Bob wrote:" yes.out &&
	echo "scrub-attribution = maybe" >conf &&
	{ NYMBOX_CONF=$TRASH/conf scrub-headers <c.eml >bad.out 2>err; test $? = 75; } &&
	test_grep -x "scrub-headers: unable to use scrub-attribution = maybe: expected yes or no" err &&
	{ NYMBOX_CONF=$TRASH/conf scrub-headers -c <c.eml >bad.out 2>err; test $? = 2; }
'

# scrub-headers(1)'s EXAMPLES line, claimed here (t/0940-doc-examples.t
# counts this file's claims) and run as written.
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'scrub-headers(1) EXAMPLES: a reply scrubbed with -a' '
	ex ex0 <<-\EOF &&
	scrub-headers -a < reply.eml > reply-clean.eml
	EOF
	cp $A/mutt-reply.eml reply.eml &&
	sh -e ex0 &&
	python3 "$TRASH/raw.py" reply.eml reply-clean.eml "Bob wrote:" \
	    "On Mon, Nov 23, 2026 at 10:00:00AM +0100, Bob wrote:"
'

test_done
