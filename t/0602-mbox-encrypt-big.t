#!/bin/sh
# mbox-encrypt on long messages: a regular file of 1 MiB or more is
# encrypted from a mapping, anything else is read; both must write the
# same framing (chunk count, sizes) and round-trip, from any file offset,
# leaving the offset at the end.  A file that grows while it is encrypted
# gets its new bytes in; one that shrinks fails with 75, not a signal.
# The moment is chosen without sleeping: mbox-encrypt blocks writing to a
# FIFO that the test has not read yet.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"

# mkfile FILE BYTES: deterministic bytes of every value, CR, LF and NUL.
mkfile() {
	python3 -c 'import random, sys
r = random.Random(int(sys.argv[2]))
sys.stdout.buffer.write(r.randbytes(int(sys.argv[2])))' "$1" "$2" >"$1"
}

# size BYTES: the length of the record of a BYTES-byte message: header,
# and 21 bytes for each chunk of 64 KiB (at least one chunk).
size() {
	echo $((116 + 21 * ($1 == 0 ? 1 : ($1 + 65535) / 65536) + $1))
}

test_expect_success 'setup: keys, and messages around the mapping size' '
	printf "pw\n" >pw && chmod 600 pw &&
	mbox-encrypt -g -P pw &&
	mkfile m1 1048575 && mkfile m2 1048576 && mkfile m3 2097152 &&
	mkfile m4 3000000
'

for f in m1 m2 m3 m4; do
	test_expect_success "$f from a file: framing and round trip" "
		mbox-encrypt <$f >$f.e &&
		test \$(wc -c <$f.e) -eq \$(size \$(wc -c <$f)) &&
		mbox-encrypt -x -P pw <$f.e >$f.d && cmp $f $f.d
	"
	test_expect_success "$f from a pipe: the same framing" "
		cat $f | mbox-encrypt >$f.pe &&
		test \$(wc -c <$f.pe) -eq \$(wc -c <$f.e) &&
		mbox-encrypt -x -P pw <$f.pe >$f.pd && cmp $f $f.pd
	"
done

test_expect_success 'from an offset not on a page: the rest, offset at the end' '
	{
		dd bs=100 count=1 of=/dev/null 2>/dev/null &&
		mbox-encrypt >off.e && cat >off.rest
	} <m4 &&
	test_must_be_empty off.rest &&
	mbox-encrypt -x -P pw <off.e >off.d &&
	tail -c +101 m4 >off.want && cmp off.want off.d
'

test_expect_success 'into a maildir, and in place (-i)' '
	mbox-encrypt -d md <m4 &&
	mbox-encrypt -x -P pw md/new/* >md.d && cmp m4 md.d &&
	mkdir -p in/new in/cur in/tmp && cp m3 in/new/1.x.host &&
	cp m4 "in/cur/2.x.host:2,S" &&
	mbox-encrypt -i in &&
	test "$(head -c 8 in/new/*)" = NYMBOXE1 &&
	mbox-encrypt -x -P pw in/new/* >in.3 && cmp m3 in.3 &&
	mbox-encrypt -x -P pw in/cur/*:2,S >in.4 && cmp m4 in.4
'

test_expect_success 'a file that grows meanwhile: its new bytes are in' '
	cp m4 grow && mkfifo fifo1 || return 1
	{ mbox-encrypt <grow >fifo1 2>grow.err; echo $? >grow.rc; } &
	{
		dd bs=1 count=1 <&3 >grow.e 2>/dev/null &&
		printf "and more\n" >>grow &&
		cat <&3 >>grow.e
	} 3<fifo1 &&
	wait $! &&
	test "$(cat grow.rc)" = 0 && test_must_be_empty grow.err &&
	mbox-encrypt -x -P pw <grow.e >grow.d && cmp grow grow.d
'

test_expect_success 'a file that shrinks meanwhile: 75 and one line' '
	cp m4 shrink && mkfifo fifo2 || return 1
	{ mbox-encrypt <shrink >fifo2 2>shrink.err; echo $? >shrink.rc; } &
	{
		dd bs=1 count=1 <&3 >/dev/null 2>/dev/null &&
		: >shrink &&
		cat <&3 >/dev/null
	} 3<fifo2 &&
	wait $! &&
	test "$(cat shrink.rc)" = 75 &&
	test_line_count = 1 shrink.err &&
	test_grep "^mbox-encrypt: unable to read the message: the file shrank" shrink.err
'

test_done
