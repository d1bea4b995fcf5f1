#!/bin/sh
# mbox-encrypt: keys, round trips, and every way a record can be wrong
# (wrong password, wrong key, a changed byte, a cut file, not a record):
# the exit code, one line on stderr, and no plaintext with exit 0.
cd "$(dirname "$0")" && . ./lib.sh

K=$HOME/.config/nymbox

# A byte of FILE at OFFSET changed (xor 1), into OUT.
flip() {
	cp "$1" "$3" &&
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d " ") &&
	printf "$(printf '\\%03o' $((b ^ 1)))" |
	    dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

roundtrip() {
	mbox-encrypt <"$1" >"$1.e" &&
	mbox-encrypt -x -P pw <"$1.e" >"$1.d" &&
	cmp "$1" "$1.d"
}

test_expect_success 'setup: a password file' '
	printf "correct horse\n" >pw && chmod 600 pw &&
	printf "wrong horse\n" >bad && chmod 600 bad
'

test_expect_success '-g makes both key files, mode 0600' '
	mbox-encrypt -g -P pw &&
	test "$(stat -c %a "$K/inbox.key")" = 600 &&
	test "$(stat -c %a "$K/inbox.pub")" = 600 &&
	test "$(stat -c %a "$K")" = 700 &&
	test "$(wc -c <"$K/inbox.pub")" -eq 42 &&
	test "$(wc -c <"$K/inbox.key")" -eq 116 &&
	test "$(head -c 8 "$K/inbox.key")" = NYMBOXK1 &&
	test "$(head -c 8 "$K/inbox.pub")" = NYMBOXP1
'

test_expect_success 'the key file records Argon2id ops 3 and 64 MiB' '
	od -An -tx1 -j 8 -N 20 "$K/inbox.key" | tr -d " \n" >params &&
	echo 0101010000000000000000030000000004000000 >want &&
	tr -d "\n" <want >want1 && echo >>params && echo >>want1 &&
	test_cmp want1 params
'

test_expect_success '-g refuses to replace a key (78)' '
	cp "$K/inbox.key" key.saved &&
	test_expect_code 78 mbox-encrypt -g -P pw 2>err &&
	test_grep "unable to create the keys: .*exists" err &&
	cmp key.saved "$K/inbox.key" &&
	test_expect_code 78 mbox-encrypt -g -P pw -K other.key 2>err &&
	test_path_is_missing other.key
'

test_expect_success '-g takes the password from a descriptor' '
	mbox-encrypt -g -F 3 -k fd.pub -K fd.key 3<pw &&
	echo hi | mbox-encrypt -k fd.pub >fd.e &&
	mbox-encrypt -x -K fd.key -F 4 4<pw <fd.e >fd.d &&
	echo hi >want && test_cmp want fd.d
'

test_expect_success 'the password is the first line, and only it' '
	printf "correct horse\r\nmore lines\n" >both &&
	echo ok | mbox-encrypt >ok.e &&
	mbox-encrypt -x -F 3 3<both <ok.e >out &&
	echo ok >want && test_cmp want out
'

test_expect_success 'a password file others can read is refused (78)' '
	cp pw pw644 && chmod 644 pw644 && echo x | mbox-encrypt >x.e &&
	test_expect_code 78 mbox-encrypt -x -P pw644 <x.e 2>err &&
	test_grep "unable to read password file pw644" err
'

test_expect_success 'a private key others can read is refused (78)' '
	cp "$K/inbox.key" open.key && chmod 644 open.key &&
	test_expect_code 78 mbox-encrypt -x -K open.key -P pw <x.e 2>err &&
	test_grep "unable to read private key open.key" err
'

test_expect_success 'no terminal and no -P or -F: usage error (64)' '
	echo x | mbox-encrypt >x.e &&
	test_expect_code 64 setsid -w mbox-encrypt -x <x.e 2>err &&
	test_grep "no terminal" err
'

test_expect_success 'round trip: a short message' '
	printf "From: a@b.i2p\nSubject: hi\n\nhello\n" >small && roundtrip small
'

test_expect_success 'round trip: CRLF, binary, NUL bytes, empty' '
	printf "Subject: x\r\n\r\nline\r\n" >crlf && roundtrip crlf &&
	head -c 5000 /dev/urandom >binary && roundtrip binary &&
	printf "a\000b\000\n" >nul && roundtrip nul &&
	: >empty && roundtrip empty && test ! -s empty.d
'

test_expect_success 'round trip: chunk sizes and 1 MB' '
	for n in 65535 65536 65537 131072 1048576; do
		head -c $n /dev/urandom >r$n && roundtrip r$n || return 1
	done
'

test_expect_success 'the record: magic, version, algorithms, size' '
	test "$(head -c 8 small.e)" = NYMBOXE1 &&
	test "$(od -An -tu1 -j 8 -N 4 small.e | tr -s " ")" = " 1 1 1 16" &&
	test "$(wc -c <small.e)" -eq $((116 + $(wc -c <small) + 21)) &&
	test "$(wc -c <empty.e)" -eq 137 &&
	test "$(wc -c <r65536.e)" -eq $((116 + 65536 + 21)) &&
	test "$(wc -c <r65537.e)" -eq $((116 + 65537 + 42))
'

test_expect_success 'two encryptions of one message differ' '
	mbox-encrypt <small >small.e2 && ! cmp -s small.e small.e2
'

test_expect_success 'a wrong password: 77, no output' '
	test_expect_code 77 mbox-encrypt -x -P bad <small.e >out 2>err &&
	test_must_be_empty out &&
	test_grep "unable to unlock private key .*: wrong password" err &&
	test_line_count = 1 err
'

test_expect_success 'a message for another key: 77, no output' '
	mbox-encrypt -g -P pw -k two.pub -K two.key &&
	mbox-encrypt -k two.pub <small >two.e &&
	test_expect_code 77 mbox-encrypt -x -P pw <two.e >out 2>err &&
	test_must_be_empty out &&
	test_grep "not sealed to this key" err &&
	mbox-encrypt -x -P pw -K two.key <two.e >out && test_cmp small out
'

test_expect_success 'a changed byte anywhere in a chunk: 65, no output' '
	for off in 116 119 120 140 $(($(wc -c <small.e) - 1)); do
		flip small.e $off t.e &&
		test_expect_code 65 mbox-encrypt -x -P pw <t.e >out 2>err &&
		test_must_be_empty out &&
		test_grep "unable to decrypt standard input: \(damaged\|truncated\)" err ||
		return 1
	done
'

test_expect_success 'a changed sealed key: 77; a changed version: 65' '
	flip small.e 40 t.e &&
	test_expect_code 77 mbox-encrypt -x -P pw <t.e >out &&
	test_must_be_empty out &&
	flip small.e 8 t.e &&
	test_expect_code 65 mbox-encrypt -x -P pw <t.e >out 2>err &&
	test_grep "an unknown format version" err
'

test_expect_success 'a cut file: 65 at every length, never exit 0' '
	for n in 4 8 100 116 119 120 130 $(($(wc -c <small.e) - 1)); do
		head -c $n small.e >t.e &&
		test_expect_code 65 mbox-encrypt -x -P pw <t.e >out 2>err ||
		return 1
	done &&
	test_grep "truncated" err
'

test_expect_success 'cut at a chunk boundary: 65 (no last chunk)' '
	head -c $((116 + 65536 + 21)) r131072.e >t.e &&
	test_expect_code 65 mbox-encrypt -x -P pw <t.e >out 2>err &&
	test_grep "truncated" err
'

test_expect_success 'a plain message or nothing to -x: 65' '
	test_expect_code 65 mbox-encrypt -x -P pw <small 2>err &&
	test_grep "not an encrypted message" err &&
	test_expect_code 65 mbox-encrypt -x -P pw </dev/null 2>err &&
	test_grep "empty" err &&
	printf "NYMBOXE1\002\001\001\020" >later &&
	head -c 200 /dev/zero >>later &&
	test_expect_code 65 mbox-encrypt -x -P pw <later 2>err &&
	test_grep "an unknown format version" err
'

test_expect_success '-o: the file appears only when all of it verified' '
	mbox-encrypt -x -P pw -o plain <r131072.e && cmp r131072 plain &&
	flip r131072.e 100000 t.e &&
	test_expect_code 65 mbox-encrypt -x -P pw -o cut <t.e &&
	test_path_is_missing cut &&
	test "$(ls -A | grep -c "^\.cut")" = 0
'

test_expect_success 'records one after another decrypt as one stream' '
	cat small.e crlf.e binary.e >three.e && cat small crlf binary >three &&
	mbox-encrypt -x -P pw <three.e >out && cmp three out &&
	mbox-encrypt -x -P pw small.e crlf.e >out && cat small crlf >want &&
	cmp want out
'

test_expect_success '-d: into new/ under a random name, tmp/ left empty' '
	mbox-encrypt -d md <small && mbox-encrypt -d md <crlf &&
	ls md/new >names && test_line_count = 2 names &&
	grep -Ex "[a-z2-7]{26}" names >ok && test_line_count = 2 ok &&
	test "$(ls -A md/tmp)" = "" &&
	test "$(stat -c %a md/new/$(head -1 names))" = 600
'

test_expect_success '-x of a maildir: mboxrd, each message whole' '
	printf "Subject: q\n\nFrom here\n>From there\nx\n" >quoted &&
	rm -rf q && mbox-encrypt -d q <quoted &&
	mbox-encrypt -x -P pw -d q >out &&
	sed 1d out >body &&
	printf "Subject: q\n\n>From here\n>>From there\nx\n\n" >want &&
	test_cmp want body && grep -q "^From MAILER-DAEMON " out &&
	mbox-encrypt -x -P pw md >out &&
	test "$(grep -c "^From MAILER-DAEMON" out)" = 2
'

test_expect_success 'bad usage is 64' '
	test_expect_code 64 mbox-encrypt -g -x &&
	test_expect_code 64 mbox-encrypt -P pw <small &&
	test_expect_code 64 mbox-encrypt -i &&
	test_expect_code 64 mbox-encrypt file &&
	test_expect_code 64 mbox-encrypt -\? 2>err && test_grep "^usage:" err
'

test_expect_success 'a missing public key defers the message (75, not 78)' '
	test_expect_code 75 mbox-encrypt -k nothere.pub <small 2>err &&
	test_grep "unable to read public key nothere.pub" err
'

test_expect_success 'a 50 MB message in constant memory' '
	head -c 52428800 /dev/zero >fifty &&
	/usr/bin/time -f %M mbox-encrypt <fifty 2>rss >fifty.e &&
	test "$(tail -1 rss)" -lt 20000 &&
	mbox-encrypt -x -P pw <fifty.e | cmp - fifty
' 

test_done
