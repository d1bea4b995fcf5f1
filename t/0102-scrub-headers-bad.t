#!/bin/sh
# scrub-headers on hostile and broken input: never a crash or a hang,
# never a truncated message with exit 0; either scrubbed or exit 65.
cd "$(dirname "$0")" && . ./lib.sh

# run FILE: scrub with a time limit; a crash or hang fails the test.
run() {
	test_timeout 20 scrub-headers "$@"
	ret=$?
	test $ret -lt 124 || { echo "crashed or hung: $ret" >&2; return 1; }
	return $ret
}

test_expect_success 'empty input is exit 65' '
	test_expect_code 65 run </dev/null 2>err &&
	grep "scrub-headers: unable to scrub: no message on input" err
'

test_expect_success 'a message that starts with body text is exit 65' '
	printf "hello world\nmore\n" >nohdr &&
	test_expect_code 65 run <nohdr 2>err &&
	grep "does not start with a header field" err
'

test_expect_success 'no empty line before the body: scrubbed, separator added' '
	printf "From: a@example.org\nX-Mailer: foo\nThis line is body\nNote: still body\n" >nosep &&
	run <nosep >out &&
	sed -n "/^\$/,\$p" out >body &&
	printf "\nThis line is body\nNote: still body\n" >want &&
	test_cmp want body && ! grep X-Mailer out
'

test_expect_success 'a stray line with fields after it does not hide them' '
	printf "Received: from x230.home ([192.168.1.7])\nThis line is not a header\nFrom: Carol <carol@example.org>\nDate: Wed, 15 Nov 2023 01:27:20 +0200\nMessage-ID: <20231114232720.W9iHCi@x230>\nUser-Agent: NeoMutt/20231103\nX-Foo\0: bar\nX-Originating-IP: [192.168.1.7]\n\nbody\nPS: hi\n" >stray &&
	run <stray >out &&
	! grep -a "x230\|192\.168\|NeoMutt\|+0200\|not a header\|X-Foo" out &&
	grep -x "From: Carol <carol@example.org>" out &&
	grep -x "Date: Tue, 14 Nov 2023 23:27:20 +0000" out &&
	sed -n "/^\$/,\$p" out >body && printf "\nbody\nPS: hi\n" >want &&
	test_cmp want body &&
	{ run -c <stray >report; test $? = 1; } &&
	grep "^header: 2 lines that are not a field, with fields after it" report
'

# Fields are looked for 16 KiB past a stray line, exactly: the whole
# input buffer (64 KiB from a file, less from a slow pipe) made the
# output depend on how the input arrived.
test_expect_success 'a stray line: fields further than 16 KiB after it are not looked for' '
	{ printf "From: a@example.org\nDate: Wed, 15 Nov 2023 01:27:20 +0000\nMessage-ID: <s@x>\nThis line is not a header\n" &&
	  i=0 && while test $i -lt 300; do printf "%070d\n" $i; i=$((i + 1)); done &&
	  printf "Subject: far\n\nbody\n"; } >far &&
	run <far >out &&
	sed -n "/^\$/,\$p" out >body &&
	grep -x "This line is not a header" body && grep -x "Subject: far" body &&
	cat far | run >out2 && test_cmp out out2
'

# A delimiter line whose first bytes end what was read (here the 64 KiB
# of the first read from a file) was not looked at, so the search for a
# "From " line in a 7-bit text ran on into the next part, found one, and
# wrote the text quoted-printable; read in other pieces, it stayed as it
# was (t/fuzz/regress/scrub/delimiter-read-in-pieces).
test_expect_success 'a delimiter at the end of a read still ends the text before it' '
	{ printf "From: a@example.org\nDate: Wed, 15 Nov 2023 01:27:20 +0000\nMessage-ID: <d@x>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=us-ascii\n\n" &&
	  printf "a NUL\000 here\n" &&
	  i=0 && while test $i -lt 1000; do printf "%063d\n" $i; i=$((i + 1)); done; } >delim.head &&
	n=$(wc -c <delim.head) &&
	{ cat delim.head && head -c $((65535 - n - 1)) /dev/zero | tr "\0" y &&
	  printf "\n--b\nContent-Type: text/plain\n\nFrom here\n--b--\n"; } >delim &&
	test "$(grep -abx -e --b delim | tail -n 1)" = 65535:--b &&
	run <delim >out &&
	test "$(grep -ac quoted-printable out)" = 1 &&
	grep -a "^a NUL" out | od -An -c | grep -q "\\0" &&
	cat delim | run >out2 && test_cmp out out2
'

test_expect_success 'a header-only message without final newline' '
	printf "From: a@example.org\nSubject: s" >hdronly &&
	run <hdronly >out &&
	grep -x "Subject: s" out && test "$(tail -c1 out | od -An -c | tr -d " ")" = "\n"
'

test_expect_success 'a 1 MB header line is exit 65 with a reason' '
	{ printf "From: a@example.org\nSubject: " &&
	  head -c 1048576 /dev/zero | tr "\0" x && printf "\n\nbody\n"; } >long &&
	test_expect_code 65 run <long >out 2>err &&
	grep "header over the limits" err
'

test_expect_success 'a 100 KB folded field within the limits is kept' '
	{ printf "From: a@example.org\nSubject: start\n" &&
	  i=0 && while test $i -lt 1000; do
		printf " %0100d\n" $i; i=$((i+1)); done &&
	  printf "\nbody\n"; } >fold &&
	run <fold >out &&
	test $(grep -c "^ 0" out) = 1000
'

test_expect_success 'a header section over 1 MB is exit 65' '
	{ printf "From: a@example.org\n" &&
	  i=0 && while test $i -lt 12000; do
		printf "Keywords: %0100d\n" $i; i=$((i+1)); done &&
	  printf "\nbody\n"; } >big &&
	test_expect_code 65 run <big 2>err &&
	grep "over the limits" err
'

test_expect_success 'NUL bytes and bare CR in a kept field become spaces' '
	printf "From: a@example.org\nSubject: a\0b\rDate: Mon, 1 Jan 2024 10:00:00 +0200\n\nbody \0 \r kept\n" >nul &&
	run <nul >out &&
	grep -a "^Subject: a b Date: Mon" out &&
	test $(sed -n "1,/^\$/p" out | grep -c "$(printf "\r")") = 0 &&
	tail -1 out | tr "\0\r" "NC" | grep -x "body N C kept" &&
	{ run -c <nul >report; test $? = 1; } &&
	grep "NUL byte" report && grep "bare CR" report
'

test_expect_success 'broken encoded words are left alone' '
	printf "From: =?utf-8?B?####?= <a@example.org>\nSubject: =?utf-8?Q?broken\n\nx\n" >enc &&
	run <enc >out &&
	grep -x "From: =?utf-8?B?####?= <a@example.org>" out &&
	grep -x "Subject: =?utf-8?Q?broken" out
'

test_expect_success 'a truncated multipart is closed' '
	printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\npart one\n--b\nContent-Type: text/plain\n\ncut off here\n" >trunc &&
	run <trunc >out &&
	b=$(sed -n "s/.*boundary=\"\(.*\)\"/\1/p" out) &&
	tail -1 out | grep -x -- "--$b--" &&
	grep -x "cut off here" out
'

test_expect_success 'an inner multipart without its end is closed before the outer one' '
	printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=out\n\n--out\nContent-Type: multipart/alternative; boundary=in\n\n--in\nContent-Type: text/plain\n\ninner\n--out\nContent-Type: text/plain\n\nsecond\n--out--\n" >nest &&
	run <nest >out &&
	test $(grep -c -- "^--=_.*--\$" out) = 2 &&
	grep -x inner out && grep -x second out
'

test_expect_success 'nesting deeper than the limit is exit 65' '
	{ printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=b0\n\n" &&
	  i=0 && while test $i -lt 40; do
		printf -- "--b$i\nContent-Type: multipart/mixed; boundary=b$((i+1))\n\n"; i=$((i+1)); done; } >deep &&
	test_expect_code 65 run <deep 2>err &&
	grep "nested deeper than 32" err
'

test_expect_success 'a multipart without a boundary is copied as a body' '
	printf "From: a@example.org\nContent-Type: multipart/mixed\n\n--x\ntext\n" >nob &&
	run <nob >out &&
	grep -x -- "--x" out
'

test_expect_success 'an over-long boundary is exit 65' '
	b=$(head -c 300 /dev/zero | tr "\0" b) &&
	printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=$b\n\n--$b\n\nx\n--$b--\n" >lb &&
	test_expect_code 65 run <lb 2>err &&
	grep "boundary" err
'

test_expect_success 'garbage bytes do not crash it' '
	i=0 && while test $i -lt 30; do
		{ printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=q\n\n--q\n" &&
		  head -c 3000 /dev/urandom; } >g &&
		{ run <g >/dev/null 2>&1; r=$?; } &&
		{ test $r = 0 || test $r = 65; } || { echo "exit $r"; return 1; }
		i=$((i+1))
	done
'

test_expect_success 'a full disk is a temporary failure (75), not success' '
	test -w /dev/full || return 0
	test_expect_code 75 run <nosep >/dev/full 2>err &&
	grep "unable to write the message: No space left on device" err
'

test_expect_success 'a closed pipe is a failure, not exit 0' '
	{ printf "From: a@example.org\n\n" && head -c 2000000 /dev/zero | tr "\0" "x"; } >bigbody &&
	{ run <bigbody 2>err; echo $? >code; } | head -c 10 >/dev/null &&
	test "$(cat code)" = 75 &&
	grep "Broken pipe" err
'

test_expect_success 'an empty text/html part of a multipart/related (UB under UBSan, issue 11)' '
	printf "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"b\"\n\n--b\nContent-Type: text/html\n\n--b\nContent-Type: image/png\nContent-ID: <x@y>\n\nAAAA\n--b--\n" >emptyhtml &&
	run <emptyhtml >out &&
	grep "^Content-Type: text/html" out &&
	grep -x "QUFBQQ==" out
'

# Found by the fuzzer (t/fuzz/regress/scrub): each broke a property of
# scrubbed output that make fuzz checks.
test_expect_success 'an obsolete "From :" field comes out as "From:" (an mbox would split at it)' '
	printf "X-A: 1\nFrom : a@example.org\n\nbody\n" >obsfrom &&
	run -m <obsfrom >out &&
	! grep "^From " out &&
	grep -x "From: <a@example.org>" out &&
	{ scrub-headers -c -m <out >report; test $? = 0; } &&
	test_must_be_empty report
'

test_expect_success "a sender domain with RFC 5322 atext (') is not used for IDs" '
	printf "From: a@al'"'"'ice.example\nContent-Type: multipart/related; boundary=b\n\n--b\nContent-Type: text/html\n\n<img src=\"cid:x@y\">\n--b\nContent-ID: <x@y>\n\nz\n--b--\n" >quote &&
	run <quote >out &&
	grep "^Message-ID: <[a-z2-7]*@localhost>\$" out &&
	{ scrub-headers -c <out >report; test $? = 0; } &&
	! grep -v "^residue: " report
'

test_expect_success 'content holding the new boundary of its multipart is refused, 65' '
	head -c 32 /dev/zero >zero.key && chmod 600 zero.key &&
	printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b--\n" >mp &&
	run -K zero.key <mp >out &&
	new=$(sed -n "s/.*boundary=\"\\(.*\\)\"\$/\\1/p" out) &&
	test -n "$new" &&
	printf "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--$new\nfake: part\n\n--b--\n" >clash &&
	test_expect_code 65 run -K zero.key <clash >out 2>err &&
	grep "unable to scrub message 1: its content holds a line that would end a part" err
'

test_expect_success 'NUL bytes before a path in Content-Description: read as the output will be' '
	printf "From: a@example.org\nContent-Description: \\000\\000/home/alice/plan.txt\n\nbody\n" >nulpath &&
	run <nulpath >out &&
	grep -x "Content-Description: plan.txt" out &&
	{ scrub-headers -c <out >report; test $? = 0; } &&
	test_must_be_empty report
'

test_expect_success 'Content-Description: the path looked for as it reads, not in base64' '
	printf "From: a@example.org\nContent-Description: /a/ ~ Zo\303\253\n\nbody\n" >b64path &&
	run <b64path >out &&
	grep -x "Content-Description: ~ =?utf-8?B?Wm/Dqw==?=" out &&
	{ scrub-headers -c <out >report; test $? = 0; } &&
	test_must_be_empty report &&
	printf "From: a@example.org\nContent-Description: =?utf-8?Q?/home/alice/plan.txt?=\n\nbody\n" >ewpath &&
	run <ewpath >out &&
	grep -x "Content-Description: plan.txt" out
'

test_expect_success 'an mbox whose last From_ line is cut by EOF after its CR: written as CRLF' '
	printf "From a@example.org Mon Nov 23 08:00:00 2026\nFrom: a@example.org\n\nbody\n\nFrom b@example.org Mon Nov 23 09:00:00 2026\r" >cutcr &&
	run -m <cutcr >out &&
	tail -n 6 out >last &&
	cr=$(printf "\r") &&
	test $(grep -c "$cr\$" last) = 6 &&
	{ scrub-headers -m -c <out >report; test $? = 0; } &&
	test_must_be_empty report
'

test_expect_success 'a parameter name with a star left in it keeps its field as written' '
	printf "From: a@example.org\nContent-Disposition: attachment;\n filename*0*0=x\\\\y\n\nbody\n" >star &&
	run <star >out &&
	grep -x " filename\*0\*0=x\\\\y" out &&
	{ scrub-headers -c <out >report; test $? = 0; } &&
	grep -x "residue: Content-Disposition: parameter name that cannot be written back, kept as written" report
'

test_expect_success 'a text part with its encoding given twice: a fixed point (t/fuzz/regress/scrub/text-part-cte-twice)' '
	printf "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-note\nContent-Transfer-Encoding: x-odd\nContent-Transfer-Encoding: 7bit\n\nx\n--b--\n" >cte2 &&
	run <cte2 >out &&
	grep -x "Content-Type: text/x-note; charset=us-ascii" out &&
	run <out >again &&
	test_cmp out again &&
	{ scrub-headers -c <out >report; test $? = 0; } &&
	! grep -v "^residue: " report
'

# Content-Disposition twice, both inline: they say the same and go, so
# the text rule applies on the first run as on the next (a NUL makes the
# text quoted-printable); t/fuzz/regress/scrub/text-part-inline-twice.
test_expect_success 'a text part with inline given twice: the text rule at once' '
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: inline\nContent-Disposition: inline\n\nnul \000 here\n--b--\n" >inl.eml &&
	scrub_fixed inl &&
	grep -x "Content-Transfer-Encoding: quoted-printable" inl.out
'

# A description whose only word decodes to nothing (its base64 stops at
# once) is empty: dropped on the first run, as the next would drop it
# (t/fuzz/regress/scrub/description-word-empty).
test_expect_success 'a Content-Description empty once decoded: dropped at once' '
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\nContent-Description: =?utf-8?B?w=xiZXIucG5n5?=\n\nhi\n--b--\n" >dw.eml &&
	scrub_fixed dw &&
	! grep "^Content-Description" dw.out
'

# A text part with name= and two dispositions, one with a filename:
# name= goes beside the filename, so the next run finds the part not
# named, and a missing charset is written on the first run, as on the
# next (t/fuzz/regress/scrub/text-part-name-and-filename-twice).
test_expect_success 'a named text part with two dispositions: a fixed point' '
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/x-note; name=\"n.txt\"\nContent-Disposition: attachment; filename=\"n.txt\"\nContent-Disposition: inline\n\nx\n--b--\n" >nf.eml &&
	scrub_fixed nf &&
	grep -x "Content-Type: text/x-note; charset=us-ascii" nf.out &&
	! grep "name=\"n.txt\"; \|; name=" nf.out
'

# A cid: reference longer than the 1000 bytes rewritecids had room for
# was renamed from its first 999, and the rest read as another reference
# on the next run (t/fuzz/regress/scrub/html-cid-reference-over-1000).
test_expect_success 'a cid: reference over 1000 bytes is renamed whole' '
	long=$(printf "%01200d" 0) &&
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary=b\n\n--b\nContent-Type: text/html\n\n<img src=\"cid:x%s@laptop.lan\">\n--b\nContent-Type: image/png\nContent-ID: <x%s@laptop.lan>\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n" "$long" "$long" >cid.eml &&
	scrub_fixed cid &&
	! grep "laptop" cid.out &&
	sed -n "s/.*src=\"cid:\([^\"]*\)\".*/\1/p" cid.out >cid.ref &&
	sed -n "s/^Content-ID: <\(.*\)>$/\1/p" cid.out >cid.id &&
	test_cmp cid.id cid.ref
'

# A field line of 65,537 bytes reaches the header reader in two pieces,
# the first the 64 KiB input buffer, ending in the CR of its CRLF: still
# a CRLF, not a bare CR.
test_expect_success 'a CRLF cut by the input buffer is no bare CR' '
	python3 -c "import sys; sys.stdout.buffer.write(b\"From: a@a.i2p\\r\\nSubject: \" + b\"x\" * (65536 - 10) + b\"\\r\\n\\r\\nhi\\r\\n\")" >cut.eml &&
	{ scrub-headers -c <cut.eml >cut.report; test $? -le 1; } &&
	test_grep "^From: " cut.report &&
	! grep "bare CR" cut.report
'

# An empty Content-Transfer-Encoding means 7bit.  Where a text's labels
# stayed as written (8-bit bytes not valid in its charset) it was kept,
# but the next run's text rule took the part at its word and dropped it
# (t/fuzz/regress/scrub/cte-empty-format-8bit-attrib).
test_expect_success 'an empty Content-Transfer-Encoding goes, also where the labels stay' '
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: text/plain; format=\nContent-Transfer-Encoding:\n\n\377\n" >ce.eml &&
	scrub_fixed ce &&
	! grep "^Content-Transfer-Encoding" ce.out &&
	{ scrub-headers -c <ce.eml >ce.first; test $? = 1; } &&
	test_grep -x "Content-Transfer-Encoding: , where the body reads the same without it (dropped)" ce.first &&
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; format=\nContent-Transfer-Encoding:\n\n\377\n--b--\n" >cp.eml &&
	scrub_fixed cp &&
	! grep "^Content-Transfer-Encoding" cp.out &&
	{ scrub-headers -c <cp.eml >cp.first; test $? = 1; } &&
	test_grep -x "part 1: Content-Transfer-Encoding: empty, the default (dropped)" cp.first
'

# An empty one beside another is dropped as a 7bit one is, and the text
# or file rule follows the other: the one left when scrubbed again
# (t/fuzz/regress/scrub/part-cte-other-and-empty).
test_expect_success 'an empty Content-Transfer-Encoding beside another goes; the other rules' '
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\nContent-Transfer-Encoding:\n\naMOpbGxvCg==\n--b--\n" >c2.eml &&
	scrub_fixed c2 &&
	test_grep -x "Content-Transfer-Encoding: quoted-printable" c2.out &&
	test_grep -x "h=C3=A9llo" c2.out &&
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: x/y; format=(a\nContent-Transfer-Encoding: x-odd\nContent-Transfer-Encoding:\n\nz\n--b--\n" >c3.eml &&
	scrub_fixed c3 &&
	test_grep -x "Content-Transfer-Encoding: x-odd" c3.out &&
	test $(grep -c "^Content-Transfer-Encoding" c3.out) = 1
'

# A legacy word that decodes to nothing leaves the space after it first:
# the description " /home/..." was no path, but the next run reads it
# from the "/" and finds one.  It is read so on the first run too
# (t/fuzz/regress/scrub/description-path-after-empty-word).
test_expect_success 'a Content-Description path after an empty legacy word: found at once' '
	printf "From: a@a.i2p\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\nContent-Description: =?utf7?B??= /home/anna/plan.txt\n\nhi\n--b--\n" >dp.eml &&
	scrub_fixed dp &&
	test_grep -x "Content-Description: plan.txt" dp.out &&
	printf "From: a@a.i2p\nContent-Description: =?utf7?B??= /\362\n\nhi\n" >dq.eml &&
	scrub_fixed dq &&
	! grep "^Content-Description" dq.out
'

# Flowed text whose Content-Type is kept as written (a parameter name
# that cannot be written back) keeps format=flowed, so it must not be
# unflowed: the next run would unflow it again, one more space-stuffing
# space gone each time (t/fuzz/regress/scrub/flowed-type-kept-as-written).
test_expect_success 'flowed text under a Content-Type kept as written stays as written' '
	printf "From: a@a.i2p\nContent-Type: text/plain; format=flowed; a*0*0=x\n\n   indented twice over\n" >fk.eml &&
	scrub_fixed fk &&
	test_grep -x "   indented twice over" fk.out
'

test_done
