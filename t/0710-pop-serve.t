#!/bin/sh
# pop-serve: the encrypted maildir served over POP3, read by pop-fetch
# and by fetchmail through a listener on 127.0.0.1, byte for byte; exact
# protocol replies in scripted sessions; TOP, UIDL, DELE and QUIT, a cut
# connection, wrong passwords, a tampered message, the maildir lock,
# bounded lines, the idle timeout and configuration errors.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-serve >/dev/null || test_skip_all "pop-serve is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
# fetchmail runs with a lock file of its own (--pidfile): as root its
# default is /var/run/fetchmail.pid, shared with every other test.
command -v fetchmail >/dev/null && test_set_prereq FETCHMAIL

# The messages: LF and CRLF, dots at line starts, 8-bit, NUL and bare CR,
# no last line end, and one over 1 MB (chunks of 64 KiB, lines with dots).
mkmsgs() {
	mkdir -p "$1" && python3 - "$1" <<-\EOP
	import sys
	d = sys.argv[1]
	def put(name, data):
	    open("%s/%s" % (d, name), "wb").write(data)
	put("lf", b"From: a@example.org\nSubject: plain\n\nhello\n")
	put("crlf", b"From: a@example.org\r\nSubject: crlf\r\n\r\nline\r\n"
	    b"second\r\n")
	put("dots", b"Subject: dots\n\n.\n..\n.leading\nFrom here\n. \n")
	put("8bit", b"Subject: 8bit\nContent-Transfer-Encoding: 8bit\n\n" +
	    bytes(range(0x80, 0x100)) + b"\n\t\xe9t\xe9\n")
	put("noeol", b"Subject: no end\n\nlast line without LF")
	put("binary", b"Subject: binary\n\n" + bytes(range(256)) * 3 +
	    b"\nbare\rCR\n")
	big = [b"Subject: big\n", b"\n"]
	for i in range(30000):
	    big.append(b"%s%05d %s\n" % (b"." if i % 7 == 0 else b"", i,
	                                  b"x" * (i % 70)))
	put("big", b"".join(big))
	EOP
}

# The octets pop-fetch and fetchmail keep of a message: its lines ended
# by LF, a last line end added.
lfform() {
	python3 -c '
import sys
for f in sys.argv[1:]:
    d = open(f, "rb").read().replace(b"\r\n", b"\n")
    if d and not d.endswith(b"\n"):
        d += b"\n"
    sys.stdout.buffer.write(d)' "$@"
}

# sums FILE...: the sorted SHA-256 sums of their LF forms.
lfsums() {
	for f in "$@"; do lfform "$f" | sha256sum; done | sort
}

# fetchmail's stripcr takes every CR away, bare ones too.
fmsums() {
	for f in "$@"; do
		tr -d '\r' <"$f" | python3 -c '
import sys
d = sys.stdin.buffer.read()
sys.stdout.buffer.write(d if not d or d.endswith(b"\n") else d + b"\n")' |
		sha256sum
	done | sort
}

# No delay, and a failure limit only the test of it reaches.
serve() {
	pop-serve -d "${MD:-md}" -K key -u alice -D 0 -F 64/1 "$@"
}

chat() {
	script=$1
	shift
	pop-chat "$script" -- pop-serve -K key -u alice -D 0 -F 64/1 "$@"
}

pf() {
	test_timeout 60 pop-fetch -H 127.0.0.1:"$(cat port)" -w 10 -u alice \
	    -P pw "$@"
}

inbox() {
	find "${1:-md}/new" "${1:-md}/cur" -type f | wc -l
}

test_expect_success 'setup: a key from a descriptor, an encrypted maildir' '
	write_script flip "$(command -v python3)" <<-\EOF &&
	# flip FILE OFFSET: change one bit there, keeping the times.
	import os, sys
	p, off = sys.argv[1], int(sys.argv[2])
	st = os.stat(p)
	with open(p, "r+b") as f:
	    f.seek(off)
	    b = f.read(1)
	    f.seek(off)
	    f.write(bytes([b[0] ^ 1]))
	os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
	EOF
	printf "s3cret pass\n" >pw && chmod 600 pw &&
	mbox-encrypt -g -F 3 -K key -k key.pub 3<pw &&
	test "$(stat -c %a key)" = 600 &&
	mkmsgs orig && test $(wc -c <orig/big) -gt 1048576 &&
	for f in orig/*; do mbox-encrypt -k key.pub -d md <"$f" || return 1; done &&
	test "$(inbox md)" = 7 &&
	! grep -l hello md/new/*
'

# Stop the servers whatever happens to the script.
test_atexit 'test -s "$TRASH/listen.pid" && kill "$(cat "$TRASH/listen.pid")" 2>/dev/null || :'

test_expect_success 'setup: a listener on 127.0.0.1, the port chosen by the kernel' '
	{ tcp-listen --port-file port --pid-file listen.pid \
	    --status-file status --max-seconds 300 -- \
	    pop-serve -d "$PWD/md" -K "$PWD/key" -u alice -D 0 -F 64/1 \
	    2>>serve.err & } &&
	test_wait_for port && test_wait_for listen.pid
'

test_expect_success 'pop-fetch -k fetches every message byte for byte' '
	pf -k -d got 2>err &&
	test_must_be_empty err &&
	test "$(ls got/new | wc -l)" = 7 &&
	lfsums orig/* >want && lfsums got/new/* >have && test_cmp want have &&
	for f in lf dots 8bit binary big; do
		cmp -s orig/$f got/new/* 2>/dev/null ||
		for g in got/new/*; do cmp -s orig/$f "$g" && break; done ||
		return 1
	done &&
	test "$(inbox md)" = 7
'

test_expect_success 'every session ended well, nothing on stderr' '
	test_must_be_empty serve.err &&
	test "$(sort -u status)" = "exit 0"
'

test_expect_success FETCHMAIL 'fetchmail reads it too, and its sizes agree' '
	mkdir fm && write_script fmdeliver <<-\EOF &&
	cat >"$FMOUT/msg.$$"
	EOF
	cat >fmrc <<-EOF &&
	set no syslog
	set no bouncemail
	set invisible
	poll 127.0.0.1 with proto POP3 service $(cat port) auth password uidl
	  user "alice" there with password "s3cret pass" is "$(id -un)" here
	  sslproto "" options keep no rewrite stripcr
	  mda "$PWD/fmdeliver"
	EOF
	chmod 600 fmrc &&
	FMOUT=$PWD/fm test_timeout 60 fetchmail -f fmrc -i "$PWD/fmids" -v \
	    --pidfile "$PWD/fm.pid" --nodetach >fm.log 2>&1 &&
	test "$(ls fm | wc -l)" = 7 &&
	fmsums orig/* >fmwant && lfsums fm/* >have && test_cmp fmwant have &&
	grep "7 messages for alice at 127.0.0.1" fm.log &&
	big=$(lfform orig/big | wc -l) &&
	test_grep "reading message .* ($(( $(wc -c <orig/big) + big )) octets)" fm.log
'

test_expect_success FETCHMAIL 'fetchmail with uidl: nothing new the second time' '
	FMOUT=$PWD/fm test_expect_code 1 test_timeout 60 fetchmail -f fmrc \
	    -i "$PWD/fmids" --pidfile "$PWD/fm.pid" --nodetach >fm2.log 2>&1 &&
	test "$(ls fm | wc -l)" = 7 &&
	test "$(grep -c "^alice@127.0.0.1 " fmids)" = 7
'

test_expect_success 'over I2P: sam-accept runs it per stream, pop-fetch -s reads' '
	{ fake-sam --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_when_finished "kill \$(cat sam.pid)" &&
	{ sam-accept -S 127.0.0.1:$(cat sam.port) -w 10 -k "$PWD/pop.samkey" \
	    pop-serve -d "$PWD/md" -K "$PWD/key" -u alice -D 0 -F 64/1 \
	    >acc.b32 2>acc.err & echo $! >acc.pid; } &&
	test_when_finished "kill \$(cat acc.pid)" &&
	test_when_finished "test_stop_holders \"\$HOME/.config/nymbox/client\"" &&
	test_wait_for acc.b32 &&
	test_timeout 60 pop-fetch -s "$(cat acc.b32)" -S 127.0.0.1:$(cat sam.port) \
	    -w 10 -k -u alice -P pw -d gotsam 2>err &&
	test_must_be_empty err &&
	lfsums gotsam/new/* >have && test_cmp want have &&
	test "$(inbox md)" = 7
'

# A maildir of known names and times, for exact transcripts.
test_expect_success 'setup: a small maildir with names and times known' '
	mkdir -p md2/new md2/cur md2/tmp &&
	n=1 && for f in lf crlf dots noeol; do
		mbox-encrypt -k key.pub -o md2/new/m$n <orig/$f &&
		touch -d "2026-01-0$n 12:00:00" md2/new/m$n &&
		n=$((n + 1)) || return 1
	done &&
	mv md2/new/m3 md2/cur/m3:2,S
'

test_expect_success 'a scripted session: every reply exact' '
	cat >s1 <<-\EOF &&
	< +OK
	> CAPA
	<< +OK
	> STAT
	< -ERR
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK
	> CAPA
	<< +OK
	> STAT
	< +OK
	> LIST
	<< +OK
	> LIST 3
	< +OK
	> UIDL
	<< +OK
	> UIDL 3
	< +OK
	> TOP 1 0
	<< +OK
	> TOP 3 1
	<< +OK
	> RETR 2
	<< +OK
	> RETR 3
	<< +OK
	> RETR 4
	<< +OK
	> RETR 5
	< -ERR
	> RETR 0
	< -ERR
	> RETR x
	< -ERR
	> DELE 1
	< +OK
	> RETR 1
	< -ERR
	> LIST 1
	< -ERR
	> STAT
	< +OK
	> RSET
	< +OK
	> STAT
	< +OK
	> NOOP
	< +OK
	> PASS again
	< -ERR
	> FOO
	< -ERR
	> DELE 4
	< +OK
	> QUIT
	< +OK
	exit 0
	EOF
	chat s1 -d md2 >out 2>err &&
	test_must_be_empty err &&
	cat >want <<-\EOF &&
	+OK POP3 server ready
	+OK Capability list follows
	TOP
	UIDL
	USER
	SASL PLAIN
	PIPELINING
	RESP-CODES
	AUTH-RESP-CODE
	.
	-ERR Log in first
	+OK
	+OK Maildrop ready, 4 messages
	+OK Capability list follows
	TOP
	UIDL
	PIPELINING
	RESP-CODES
	AUTH-RESP-CODE
	.
	+OK 4 188
	+OK Scan listing follows
	1 46
	2 52
	3 49
	4 41
	.
	+OK 3 49
	+OK Unique-id listing follows
	1 m1
	2 m2
	3 m3
	4 m4
	.
	+OK 3 m3
	+OK Top of message follows
	From: a@example.org
	Subject: plain
	
	.
	+OK Top of message follows
	Subject: dots
	
	..
	.
	+OK 52 octets
	From: a@example.org
	Subject: crlf
	
	line
	second
	.
	+OK 49 octets
	Subject: dots
	
	..
	...
	..leading
	From here
	.. 
	.
	+OK 41 octets
	Subject: no end
	
	last line without LF
	.
	-ERR No such message
	-ERR No such message
	-ERR Expected a message number
	+OK Message 1 deleted
	-ERR No such message
	-ERR No such message
	+OK 3 142
	+OK
	+OK 4 188
	+OK
	-ERR Unknown command or bad arguments
	-ERR Unknown command or bad arguments
	+OK Message 4 deleted
	+OK 1 messages removed
	EOF
	test_cmp want out &&
	test_path_is_missing md2/new/m4 &&
	test_path_is_file md2/new/m1 && test_path_is_file md2/cur/m3:2,S
'

test_expect_success 'the sizes listed are the octets RETR sends, unstuffed' '
	lfform orig/lf | sed "s/\$/\r/" | wc -c >n1 && test "$(cat n1)" = 46 &&
	{ cat orig/crlf | wc -c; } >n2 && test "$(cat n2)" = 52 &&
	lfform orig/dots | sed "s/\$/\r/" | wc -c >n3 && test "$(cat n3)" = 49 &&
	lfform orig/noeol | sed "s/\$/\r/" | wc -c >n4 && test "$(cat n4)" = 41
'

test_expect_success 'pipelined commands get their replies in order' '
	cat >s2 <<-\EOF &&
	< +OK
	= USER alice\r\nPASS s3cret pass\r\nSTAT\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n
	< +OK
	< +OK Maildrop
	< +OK 3
	< +OK 1 m1
	< +OK
	< +OK 0 messages removed
	exit 0
	EOF
	chat s2 -d md2 >out
'

test_expect_success 'DELE, then a cut connection: nothing is removed' '
	cat >s3 <<-\EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK
	> DELE 1
	< +OK
	> DELE 2
	< +OK
	close
	eof
	exit 0
	EOF
	chat s3 -d md2 >out &&
	test "$(inbox md2)" = 3
'

test_expect_success 'AUTH PLAIN, with an initial response and after "+ "' '
	printf "\0alice\0s3cret pass" | base64 -w0 >b64 &&
	printf "alice\0alice\0s3cret pass" | base64 -w0 >b64z &&
	cat >s4 <<-EOF &&
	< +OK
	> AUTH PLAIN $(cat b64)
	< +OK Maildrop ready
	> QUIT
	< +OK
	EOF
	chat s4 -d md2 >out &&
	cat >s5 <<-EOF &&
	< +OK
	> AUTH CRAM-MD5
	< -ERR
	> AUTH PLAIN
	< +
	> *
	< -ERR Authentication cancelled
	> AUTH PLAIN
	< +
	> $(cat b64z)
	< +OK Maildrop ready
	> QUIT
	< +OK
	EOF
	chat s5 -d md2 >out
'

test_expect_success 'wrong password, wrong user, acting for another: all the same' '
	printf "\0alice\0badpass9" | base64 -w0 >bad1 &&
	printf "bob\0alice\0s3cret pass" | base64 -w0 >bad2 &&
	cat >s6 <<-EOF &&
	< +OK
	> USER bob
	< +OK
	> PASS s3cret pass
	< -ERR [AUTH] Authentication failed
	> AUTH PLAIN $(cat bad1)
	< -ERR [AUTH] Authentication failed
	> AUTH PLAIN $(cat bad2)
	< -ERR [AUTH] Authentication failed, closing
	eof
	exit 77
	EOF
	chat s6 -d md2 >out 2>err &&
	test "$(grep -c "refused login" err)" = 3 &&
	test_grep -v "s3cret" err && test_grep -v badpass9 err
'

test_expect_success 'a failed login is answered only after the fixed delay' '
	cat >s7 <<-\EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS wrong
	< -ERR [AUTH]
	> QUIT
	< +OK
	EOF
	start=$(date +%s%N) &&
	pop-chat s7 -- pop-serve -d md2 -K key -u alice -D 1 >out 2>err &&
	end=$(date +%s%N) &&
	test $(( (end - start) / 1000000 )) -ge 1000
'

test_expect_success 'pop-fetch with a wrong password: 77, the password nowhere' '
	printf "not it\n" >badpw && chmod 600 badpw &&
	: >serve.err &&
	test_expect_code 77 pf -k -P badpw -d got3 2>err &&
	test_grep "\[AUTH\]" err &&
	test_grep -v "not it" err && test_grep -v "not it" serve.err &&
	test_grep "refused login alice" serve.err
'

test_expect_success 'a second session finds the maildrop in use' '
	cat >s8 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK
	! printf "USER alice\r\nPASS s3cret pass\r\nQUIT\r\n" | pop-serve -d md -K key -u alice -D 0 >second
	! pop-fetch -H 127.0.0.1:$(cat port) -u alice -P pw -d got4 -w 10 2>pf.err; test \$? = 75
	> STAT
	< +OK
	> QUIT
	< +OK
	exit 0
	EOF
	MD=$PWD/md chat s8 -d "$PWD/md" >out &&
	grep "^-ERR \[IN-USE\] " second &&
	test_grep "IN-USE" pf.err &&
	test "$(inbox md)" = 7 &&
	printf "USER alice\r\nPASS s3cret pass\r\nQUIT\r\n" | serve -d md2 >third &&
	test_grep "^+OK Maildrop ready" third
'

test_expect_success 'a long line is refused; a longer one ends the session' '
	{
		echo "< +OK" &&
		printf "> %s\n" "$(printf "%03000d" 0)" &&
		echo "< -ERR Line too long" &&
		echo "> NOOP" && echo "< -ERR Log in first" &&
		printf "= %s\\\\r\\\\n\n" "$(printf "%0100000d" 0)" &&
		echo "< -ERR Line too long, closing" &&
		echo eof && echo "exit 0"
	} >s9 &&
	chat s9 -d md2 >out
'

test_expect_success 'an idle session ends without a reply, removing nothing' '
	cat >s10 <<-\EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK
	> DELE 1
	< +OK
	eof
	exit 75
	EOF
	chat s10 -d md2 -w 1 >out 2>err &&
	test_grep "not done within 1 s" err &&
	test "$(inbox md2)" = 3
'

test_expect_success 'a command sent a byte a second is cut off after -w' '
	test_timeout 60 python3 -c "
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE,
                     stdout=subprocess.DEVNULL, stderr=open(\"err\", \"wb\"))
t0 = time.monotonic()
try:
    while p.poll() is None:
        p.stdin.write(b\"U\"); p.stdin.flush(); time.sleep(1)
except BrokenPipeError:
    pass
p.wait()
print(int(time.monotonic() - t0))
" pop-serve -d md2 -K key -u alice -D 0 -w 2 >took &&
	test "$(cat took)" -le 5 &&
	test_grep "unable to read a command: not done within 2 s" err
'

test_expect_success 'a tampered message: -ERR for it, a warning, its stored size' '
	big=$(ls -S md2/../md/new | head -1) &&
	cp -r md md5 &&
	./flip md5/new/$big 200000 &&
	small=$(ls -S md5/new | tail -1) &&
	printf "NYMBOXE1" >md5/new/aaaa-not-sealed && touch -d 2000-01-01 md5/new/aaaa-not-sealed &&
	cat >s11 <<-\EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK Maildrop ready, 8 messages
	> RETR 1
	< -ERR Message 1 is damaged
	> LIST
	<< +OK
	> STAT
	< +OK 8
	> UIDL 1
	< +OK 1 aaaa-not-sealed
	> QUIT
	< +OK
	EOF
	chat s11 -d md5 >out 2>err &&
	test "$(grep -c "^[0-9]" out)" = 8 &&
	grep "unable to decrypt message 1, md5/new/aaaa-not-sealed: damaged or changed" err &&
	grep "unable to decrypt message [0-9], md5/new/$big: damaged or changed" err &&
	test_grep "^1 0\$" out &&
	test_grep "^[2-8] $(wc -c <orig/big)\$" out &&
	test_grep -v "^[2-8] 1278702\$" out
'

test_expect_success 'RETR of a tampered message not measured yet: -ERR, no bytes' '
	./flip md2/new/m2 150 &&
	cat >s12 <<-\EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK
	> RETR 2
	< -ERR Message 2 is damaged
	> TOP 2 0
	< -ERR Message 2 is damaged
	> RETR 1
	<< +OK
	> QUIT
	< +OK
	EOF
	chat s12 -d md2 >out 2>err &&
	test_grep "md2/new/m2: damaged or changed" err &&
	test_grep -v "crlf" out
'

test_expect_success 'a message changed after it was measured: cut, never complete' '
	mkdir -p md6/new md6/cur md6/tmp &&
	mbox-encrypt -k key.pub -o md6/new/big <orig/big &&
	cat >s13 <<-\EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS s3cret pass
	< +OK
	> LIST 1
	< +OK 1 1278702
	! ./flip md6/new/big 600000
	> RETR 1
	<<cut
	exit 75
	EOF
	chat s13 -d md6 >out 2>err &&
	test_grep "^+OK 1278702 octets" out &&
	test_grep "md6/new/big: damaged or changed" err &&
	test_path_is_file md6/new/big
'

test_expect_success 'a file name with a newline cannot forge a log line' '
	mkdir -p md8/new md8/cur md8/tmp &&
	name=$(printf "x\npop-serve: refused login root\033[2J") &&
	printf "NYMBOXE1" >"md8/new/$name" &&
	printf "USER alice\r\nPASS s3cret pass\r\nRETR 1\r\nQUIT\r\n" |
	    serve -d md8 >out 2>err &&
	test_grep "^-ERR Message 1 is damaged" out &&
	test "$(wc -l <err)" = 1 &&
	test_grep "md8/new/x\\\\npop-serve: refused login root\\\\033\[2J: damaged" err &&
	! grep "$(printf "\033")" err
'

test_expect_success 'failed logins of every session count: past -F no password is tried' '
	cp key key2 && rm -f key2.fails &&
	for pw in wrong1 wrong2 "s3cret pass"; do
		printf "USER alice\r\nPASS %s\r\nQUIT\r\n" "$pw" |
		pop-serve -d md -K key2 -u alice -D 0 -F 2/600 >"out.$pw" 2>"err.$pw" ||
		return 1
	done &&
	grep "^-ERR \[AUTH\]" out.wrong2 &&
	grep "^-ERR \[SYS/TEMP\] Too many failed logins" "out.s3cret pass" &&
	! grep "Maildrop ready" "out.s3cret pass" &&
	grep "refused login alice: 2 failed logins in 600 s" "err.s3cret pass" &&
	test "$(stat -c %a key2.fails)" = 600 &&
	printf "USER alice\r\nPASS s3cret pass\r\nQUIT\r\n" |
	pop-serve -d md -K key2 -u alice -D 0 -F 3/600 >out.ok &&
	grep "^+OK.*Maildrop ready\|^+OK.*message" out.ok
'

test_expect_success 'sizes are kept in a private index for the next session' '
	mkdir -p md7/new md7/cur md7/tmp &&
	mbox-encrypt -k key.pub -o md7/new/a <orig/lf &&
	mbox-encrypt -k key.pub -o md7/new/b <orig/dots &&
	touch -d "2026-01-01" md7/new/a && touch -d "2026-01-02" md7/new/b &&
	printf "USER alice\r\nPASS s3cret pass\r\nLIST\r\nQUIT\r\n" |
	    serve -d md7 >out 2>err &&
	test_must_be_empty err &&
	test "$(stat -c %a md7/.pop-serve-index)" = 600 &&
	head -1 md7/.pop-serve-index >magic &&
	echo "nymbox-pop-serve-index 1" >want && test_cmp want magic &&
	grep "^new/a [0-9]* [0-9]* [0-9]* [0-9]* 46\$" md7/.pop-serve-index &&
	grep "^new/b [0-9]* [0-9]* [0-9]* [0-9]* 49\$" md7/.pop-serve-index &&
	tail -1 md7/.pop-serve-index | grep "^mac [0-9a-f]\{64\}\$"
'

test_expect_success 'LIST takes the index size; RETR still verifies' '
	./flip md7/new/b 140 &&
	printf "USER alice\r\nPASS s3cret pass\r\nLIST 2\r\nRETR 2\r\nQUIT\r\n" |
	    serve -d md7 >out 2>err &&
	test_grep "^+OK 2 49" out &&
	test_grep "^-ERR Message 2 is damaged" out &&
	test_grep "md7/new/b: damaged or changed" err
'

test_expect_success 'an index changed by someone without the key is not believed' '
	sed "s/^\(new\/a .*\) 46\$/\1 99/" md7/.pop-serve-index >idx &&
	! cmp -s idx md7/.pop-serve-index &&
	cat idx >md7/.pop-serve-index &&
	printf "USER alice\r\nPASS s3cret pass\r\nLIST 1\r\nQUIT\r\n" |
	    serve -d md7 >out 2>err &&
	test_grep "^+OK 1 46" out &&
	test_grep "unable to use md7/.pop-serve-index: changed or damaged" err &&
	grep "^new/a .* 46\$" md7/.pop-serve-index
'

test_expect_success 'configuration: options missing, a key others can read' '
	test_expect_code 64 pop-serve -d md2 -K key </dev/null &&
	test_expect_code 64 pop-serve -u alice -K key </dev/null &&
	test_expect_code 64 pop-serve -d md2 -K key -u alice -w 0 </dev/null &&
	test_expect_code 64 pop-serve -d md2 -K key -u alice extra </dev/null &&
	cp key key644 && chmod 644 key644 &&
	test_expect_code 78 pop-serve -d md2 -K key644 -u alice </dev/null >out 2>err &&
	test_grep "^-ERR \[SYS/PERM\]" out &&
	test_grep "unable to read private key key644: readable by others: chmod 600 key644" err &&
	head -c 50 key >short && chmod 600 short &&
	test_expect_code 78 pop-serve -d md2 -K short -u alice </dev/null 2>err &&
	test_grep "not a private key file" err
'

test_expect_success 'configuration: maildir, user and key from the config file' '
	cat >conf <<-EOF &&
	pop-maildir = $PWD/md2
	pop-user = alice
	inbox-private-key = $PWD/key
	EOF
	printf "USER alice\r\nPASS s3cret pass\r\nSTAT\r\nQUIT\r\n" |
	    NYMBOX_CONF=$PWD/conf pop-serve -D 0 >out &&
	test_grep "^+OK 3 " out &&
	mkdir -p .home/.config/nymbox && cp key .home/.config/nymbox/inbox.key &&
	printf "USER alice\r\nPASS s3cret pass\r\nQUIT\r\n" |
	    pop-serve -D 0 -u alice -d md2 >out &&
	test_grep "^+OK Maildrop ready" out
'

test_expect_success 'pop-fetch without -k: what -k fetched is removed, not fetched again' '
	pf -d got5 2>err &&
	test_must_be_empty err &&
	test "$(inbox md)" = 0 && test "$(inbox got5)" = 0 &&
	mbox-encrypt -k key.pub -d md <orig/lf &&
	pf -d got5 &&
	test "$(inbox md)" = 0 && test "$(inbox got5)" = 1 &&
	test_cmp orig/lf got5/new/*
'

test_expect_success 'pop-fetch and fetchmail skip a damaged message, take the rest' '
	mbox-encrypt -k key.pub -d md <orig/dots &&
	mbox-encrypt -k key.pub -d md <orig/crlf &&
	bad=$(ls -S md/new | head -1) &&
	./flip md/new/$bad 130 &&
	: >serve.err &&
	test_expect_code 75 pf -k -d got7 2>err &&
	test_grep "Message [12] is damaged" err &&
	test_grep "md/new/$bad: damaged or changed" serve.err &&
	test "$(inbox got7)" = 1 && test "$(inbox md)" = 2 &&
	if test_have_prereq FETCHMAIL; then
		rm -rf fm && mkdir fm &&
		FMOUT=$PWD/fm test_timeout 60 fetchmail -f fmrc -i "$PWD/fmids" \
		    --pidfile "$PWD/fm.pid" --nodetach >fm3.log 2>&1
		test $? -le 1 && test "$(ls fm | wc -l)" = 1 &&
		test_cmp got7/new/* fm/*
	fi
'

test_expect_success 'teardown: the listener stopped by its pid' '
	kill "$(cat listen.pid)" && rm -f listen.pid &&
	test_grep -v "exit [1-9]" status
'

test_done
