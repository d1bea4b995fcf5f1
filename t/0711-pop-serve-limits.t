#!/bin/sh
# Every limit pop-serve puts on a client, at the limit (taken) and one
# past it (refused as pop-serve(1), LIMITS, says): the command line, the
# user name, the password, the session's length (-T), protocol errors,
# a command's time (-w) and failed logins (-F and one session's three).
# The values are lib/limits.h's.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-serve >/dev/null || test_skip_all "pop-serve is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

# pad N [CHAR]: N bytes of CHAR (x)
pad() { head -c "$1" /dev/zero | tr '\0' "${2:-x}"; }

chat() {
	script=$1
	shift
	pop-chat "$script" -- pop-serve -d md -K key -D 0 -F 64/1 "$@"
}

# The longest password there is: 1024 bytes (NYM_PASS_MAX).
test_expect_success 'setup: a key locked with a 1024-byte password' '
	pad 1024 p >pw && chmod 600 pw &&
	mbox-encrypt -g -P pw -K key -k key.pub &&
	printf "Subject: one\n\nhi\n" | mbox-encrypt -k key.pub -d md
'

# "NOOP " and the padding and CRLF make a line of exactly N bytes.
test_expect_success 'a command line of 2048 bytes with its CRLF is read' '
	cat >s1 <<-EOF &&
	< +OK
	> NOOP $(pad 2041)
	< -ERR Log in first
	> QUIT
	< +OK
	EOF
	chat s1 -u alice >out &&
	! grep "Line too long" out
'

test_expect_success 'one of 2049 bytes is -ERR Line too long' '
	cat >s2 <<-EOF &&
	< +OK
	> NOOP $(pad 2042)
	< -ERR Line too long
	> QUIT
	< +OK
	EOF
	chat s2 -u alice >out
'

# A line too long is read past to its end; one whose first 65536 bytes
# hold no line end ends the session.  long N: a pop-chat script whose
# first command is a NOOP line of N bytes with its CRLF.
long() {
	echo "< +OK" && echo "> NOOP $(pad $(($1 - 7)))"
}

test_expect_success 'a line of 65536 bytes with its CRLF: -ERR, and the session goes on' '
	{ long 65536 && printf "< -ERR Line too long\n> QUIT\n< +OK\n"; } >s12 &&
	chat s12 -u alice >out &&
	! grep "closing" out
'

test_expect_success 'one of 65537 bytes: -ERR Line too long, closing' '
	{ long 65537 && printf "< -ERR Line too long, closing\neof\nexit 0\n"; } >s13 &&
	chat s13 -u alice >out
'

test_expect_success 'a user name of 255 bytes and a password of 1024 log in' '
	u=$(pad 255 u) &&
	cat >s3 <<-EOF &&
	< +OK
	> USER $u
	< +OK
	> PASS $(cat pw)
	< +OK
	> STAT
	< +OK 1
	> QUIT
	< +OK
	EOF
	chat s3 -u "$u" >out
'

# A password one byte too long is refused like a wrong one; what a test
# can tell is that it is not cut to the limit: the right 1024 bytes and
# one more are refused, and the session goes on (a failed login, not a
# line too long).
test_expect_success 'a password of 1025 bytes is refused, not cut to the right 1024' '
	cat >s4 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS $(cat pw)p
	< -ERR [AUTH] Authentication failed
	> USER alice
	< +OK
	> PASS $(cat pw)
	< +OK
	> QUIT
	< +OK
	EOF
	chat s4 -u alice >out 2>err &&
	test_grep "refused login alice: wrong user name or password" err
'

test_expect_success 'a user name of 256 bytes: never a login, nor an option' '
	u=$(pad 256 u) &&
	cat >s5 <<-EOF &&
	< +OK
	> USER $u
	< +OK
	> PASS $(cat pw)
	< -ERR
	> QUIT
	< +OK
	EOF
	chat s5 -u alice >out &&
	test_expect_code 64 pop-serve -d md -K key -u "$u" </dev/null 2>err &&
	grep "^pop-serve: unable to use user name" err
'

test_expect_success 'commands within -T are served; at -T the session ends' '
	cat >s6 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	! sleep $(test_scaled 1)
	> USER alice
	< +OK
	< -ERR [SYS/TEMP] Session too long, closing
	eof
	exit 75
	EOF
	chat s6 -u alice -T $(test_scaled 3) >out 2>err &&
	grep "unable to read a command: the session took $(test_scaled 3) s (-T)" err
'

test_expect_success 'a command still arriving at the end of -T is cut there, not at -w' '
	cat >s7 <<-EOF &&
	< +OK
	= USER al
	< -ERR [SYS/TEMP] Session too long, closing
	eof
	exit 75
	EOF
	start=$(date +%s) &&
	chat s7 -u alice -T $(test_scaled 1) -w 60 >out &&
	test $(($(date +%s) - start)) -lt 30
'

test_expect_success '-T and pop-session-time: 86400 is taken, 86401 is 64 or 78' '
	pop-serve -d md -K key -u alice -T 86400 </dev/null &&
	test_expect_code 64 pop-serve -d md -K key -u alice -T 86401 </dev/null &&
	test_expect_code 64 pop-serve -d md -K key -u alice -T 0 </dev/null &&
	echo "pop-session-time = 86400" >conf &&
	NYMBOX_CONF=$PWD/conf pop-serve -d md -K key -u alice </dev/null &&
	echo "pop-session-time = 86401" >conf &&
	NYMBOX_CONF=$PWD/conf test_expect_code 78 pop-serve -d md -K key \
	    -u alice </dev/null 2>err &&
	grep "unable to use pop-session-time = 86401" err
'

# errors N: N unknown commands, each answered.
errors() {
	i=0
	while test $i -lt "$1"; do
		printf "> XYZZY\n< -ERR Unknown command\n"
		i=$((i + 1))
	done
}

test_expect_success '19 protocol errors: the session goes on' '
	{ echo "< +OK" && errors 19 && printf "> USER alice\n< +OK\n> QUIT\n< +OK\n"; } >s8 &&
	chat s8 -u alice >out
'

test_expect_success 'the 20th ends it: -ERR Too many errors, closing' '
	{ echo "< +OK" && errors 20 && printf "< -ERR Too many errors, closing\neof\nexit 0\n"; } >s9 &&
	chat s9 -u alice >out
'

# trickled N: "USER alice" sent a byte at a time for its first four
# bytes, N seconds apart, as pop-chat lines.
trickled() {
	for c in U S E R; do
		printf "= %s\n! sleep %s\n" "$c" "$1"
	done
	printf "= %s\n" "\\x20alice\\r\\n"
}

# -w bounds a whole command from the first wait for it: one that takes
# 6 s to trickle in is answered under -w 10 (4 s to spare; -w/2 would
# cut it), and the next gets a fresh -w: the two take 12 s.
test_expect_success 'a command trickled in within -w is answered, each in its own -w' '
	{
		echo "< +OK" &&
		trickled 1.5 && echo "< +OK" &&
		trickled 1.5 && echo "< +OK" &&
		echo "> PASS $(cat pw)" && echo "< +OK" &&
		echo "> QUIT" && echo "< +OK" &&
		echo "eof" && echo "exit 0"
	} >s10 &&
	start=$(date +%s) &&
	chat s10 -u alice -w $(test_scaled 10) >out 2>err &&
	test $(($(date +%s) - start)) -ge 12 &&
	test_must_be_empty err
'

# login N PASSWORD: a session that logs in once with -F 3/600; its
# replies in out.N.
login() {
	printf "USER alice\r\nPASS %s\r\nQUIT\r\n" "$2" |
	pop-serve -d md -K key -u alice -D 0 -F 3/600 >out.$1 2>err.$1
}

# At -F 3/600 (past it is t/0710): with 2 failures in the ledger the
# right password is still tried and taken, and so is the 3rd failure
# (-ERR [AUTH], the password tried); only the login after it finds the
# limit reached.
test_expect_success 'at -F: after F-1 failures a login works; the F-th is still tried' '
	rm -f key.fails &&
	login 1 wrong && login 2 wrong &&
	test_grep "^-ERR \[AUTH\]" out.2 &&
	login 3 "$(cat pw)" &&
	test_grep "^+OK Maildrop ready" out.3 &&
	login 4 wrong &&
	test_grep "^-ERR \[AUTH\]" out.4 &&
	login 5 "$(cat pw)" &&
	test_grep "^-ERR \[SYS/TEMP\] Too many failed logins" out.5 &&
	rm -f key.fails
'

# One session: 3 failed logins (NYM_POPD_AUTHFAIL) end it (t/0710);
# after 2 it goes on, and the right password logs in.
test_expect_success 'one session: after 2 failed logins the 3rd try may log in' '
	cat >s11 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS wrong1
	< -ERR [AUTH] Authentication failed
	> USER alice
	< +OK
	> PASS wrong2
	< -ERR [AUTH] Authentication failed
	> USER alice
	< +OK
	> PASS $(cat pw)
	< +OK Maildrop ready
	> QUIT
	< +OK
	EOF
	chat s11 -u alice >out
'

test_done
