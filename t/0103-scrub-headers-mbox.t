#!/bin/sh
# scrub-headers -m: an mbox in, an mbox out, every message scrubbed.
cd "$(dirname "$0")" && . ./lib.sh

D=$TDATA/scrub
command -v formail >/dev/null && test_set_prereq FORMAIL

test_expect_success 'build an mbox of plain, MIME, CRLF-free and odd messages' '
	for f in plain reply mime related plain; do
		echo "From alice@alice.i2p Mon Nov 23 08:48:41 2026" &&
		sed "s/^From the office/>From the office/" $D/$f.eml && echo
	done >in.mbox &&
	printf "From x@y Mon Nov 23 08:48:41 2026\nFrom: x@y\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\n\ncut\n\n" >>in.mbox &&
	printf "From x@y Mon Nov 23 08:48:42 2026\nFrom: x@y\nSubject: last\n\nno final newline" >>in.mbox
'

test_expect_success 'every message comes out, From_ lines kept' '
	scrub-headers -m <in.mbox >out.mbox &&
	grep "^From " in.mbox >want &&
	grep "^From " out.mbox >got &&
	test_cmp want got
'

test_expect_success 'nothing identifying is left in any message' '
	! grep -i "alice-laptop\|^Received:\|^User-Agent:\|+0100\|A1b2C3d4\|multi-part message" out.mbox
'

test_expect_success 'messages are separated by an empty line' '
	awk "/^From /{ if (NR > 1 && prev != \"\") bad++ } { prev = \$0 } END { exit bad }" out.mbox
'

test_expect_success 'quoted >From lines stay quoted, bodies unchanged' '
	test $(grep -c "^>From the office" out.mbox) = 2
'

test_expect_success 'the truncated multipart was closed inside its own message' '
	sed -n "/^From x@y Mon Nov 23 08:48:41/,/^From x@y Mon Nov 23 08:48:42/p" out.mbox >m6 &&
	grep -x cut m6 && grep -- "^--=_[a-z2-7]*--\$" m6
'

test_expect_success 'each message equals the message scrubbed alone' '
	scrub-headers <$D/mime.eml >alone &&
	awk "/^From /{n++} n==3" out.mbox | sed "1d;\$d" >third &&
	test_cmp alone third
'

test_expect_success FORMAIL 'formail splits the output into as many messages' '
	test $(formail -s echo x <in.mbox | wc -l) = $(formail -s echo x <out.mbox | wc -l)
'

# Text written anew (quoted-printable that is plain ASCII becomes 7-bit)
# must never start a line with "From ": the line stays quoted-printable,
# as =46rom, and the mbox keeps its messages.
test_expect_success 'a decoded "From " line does not start a message' '
	for s in one two; do
		printf "From x@y Mon Nov 23 08:48:41 2026\nFrom: x@y\nSubject: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\nhello\n=46rom the office\nbye\n\n" $s || return 1
	done >qp.mbox &&
	scrub-headers -m <qp.mbox >qp.out &&
	test $(grep -c "^From " qp.out) = 2 &&
	grep -x "=46rom the office" qp.out &&
	{ scrub-headers -c -m <qp.out >qp.report; test $? = 0; }
'

test_expect_success 'an empty mbox is no error' '
	scrub-headers -m </dev/null >empty &&
	test_must_be_empty empty
'

test_expect_success '-c -m numbers the messages in its report' '
	{ scrub-headers -c -m <in.mbox >report; test $? = 1; } &&
	grep "^1: Received: " report &&
	grep "^3: part 2: Content-Disposition: filename holds a directory path" report &&
	{ scrub-headers -c -m <out.mbox >clean; test $? = 0; } &&
	! grep -v "^[0-9]*: residue: " clean
'

test_expect_success 'a last From_ line cut by EOF keeps its own line (t/fuzz/regress/scrub)' '
	printf "Subject: x\\n\\nbody\\n\\nFrom y" | scrub-headers -m >cut.mbox &&
	grep -x "From y" cut.mbox &&
	{ scrub-headers -c -m <cut.mbox >report; test $? = 0; } &&
	test_must_be_empty report
'

test_expect_success 'a "From " line the input did not split at stays in its message, as =46rom (t/fuzz/regress/scrub)' '
	printf "From a@b Mon Nov 23 08:48:41 2026\nFrom: a@b\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\nFrom here on\n--zz--\n\n" >split.mbox &&
	printf "From a@b Mon Nov 23 08:48:42 2026\nFrom: a@b\nSubject: two\n\nsecond\n" >>split.mbox &&
	scrub-headers -m <split.mbox >split.out &&
	test $(grep -c "^From " split.out) = 2 &&
	grep -x "=46rom here on" split.out &&
	{ scrub-headers -c -m <split.out >report; test $? = 0; } &&
	! grep -v "^[0-9]*: residue: " report
'

test_expect_success 'CRLF messages are separated by an empty line too, after a dropped epilogue' '
	printf "From a@b Mon Nov 23 08:48:41 2026\r\nFrom: a@b\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\none\r\n--zz--\r\n\r\n" >crlf.mbox &&
	printf "From a@b Mon Nov 23 08:48:42 2026\r\nFrom: a@b\r\nSubject: two\r\n\r\nsecond\r\n" >>crlf.mbox &&
	scrub-headers -m <crlf.mbox >crlf.out &&
	test $(grep -c "^From " crlf.out) = 2 &&
	grep -B1 "^From a@b Mon Nov 23 08:48:42" crlf.out >before &&
	test $(wc -l <before) = 2 && head -1 before | tr -d "\r\n" >blank &&
	test_must_be_empty blank &&
	{ scrub-headers -c -m <crlf.out >report; test $? = 0; } &&
	! grep -v "^[0-9]*: residue: " report
'

# The output is written as its buffer fills, not a write(2) a message;
# when a message fails, the ones before it still go out whole, and
# nothing of the failed one: here the header of its last part is over
# the limits, after 20 KB of it have been scrubbed.
test_expect_success 'a failed message: those before it are written whole, it is not' '
	i=0 && while test $i -lt 300; do
		printf "From a@b Mon Nov 23 08:48:41 2026\nFrom: a@b\nSubject: m%d\n\n" $i &&
		printf "line %d of a body\n" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 &&
		echo && i=$((i + 1))
	done >many.mbox &&
	cp many.mbox bad.mbox &&
	{ printf "From a@b Mon Nov 23 08:48:42 2026\nFrom: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" &&
	  head -c 15000 /dev/zero | base64 &&
	  printf -- "--b\nContent-Type: text/plain\nX-Long: %0300000d\n\nlost\n--b--\n\n" 0; } >>bad.mbox &&
	cat many.mbox >>bad.mbox &&
	scrub-headers -m <many.mbox >many.out &&
	test_expect_code 65 scrub-headers -m <bad.mbox >bad.out 2>err &&
	grep -x "scrub-headers: unable to scrub message 301: header over the limits (262144 bytes a field, 1048576 bytes in all)" err &&
	sed /^Message-ID:/d many.out >want && sed /^Message-ID:/d bad.out >got &&
	test_cmp want got
'

test_done
