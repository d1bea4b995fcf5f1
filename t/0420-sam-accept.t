#!/bin/sh
# sam-accept against the fake SAM bridge: a program per stream with the
# peer in its environment, nothing of the stream lost, the key, limits
# on concurrency, and a clean stop.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
SAMTOOL=${NYM_HELPERS:-$H}/samtool
test -x "$SAMTOOL" || test_skip_all "$SAMTOOL is not built"

# A fake bridge: no gap between a key's sessions is needed.
mkdir -p "$HOME/.config/nymbox" && echo "sam-gap = 0" >"$HOME/.config/nymbox/config"

# Stop the scripted servers whatever happens to the script.
test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

test_expect_success 'setup: the bridge' '
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) --route www.i2p=1 </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid
'
P=$(cat sam.port)

write_script echo.sh <<'EOS'
printf '%s %s %s %s\n' "$PROTO" "$I2P_PEER_B32" "$I2P_LOCAL_B32" "${#I2P_PEER_DEST}"
exec cat
EOS

# accept ARGS...: sam-accept in the background, b32 in acc.b32, PID in
# acc.pid, exit code in acc.rc when it ends.
accept() {
	rm -f acc.b32 acc.rc acc.pid &&
	{ ( sam-accept -S 127.0.0.1:$P -w $(test_scaled 5) "$@" >acc.b32 2>acc.err &
	    echo $! >acc.pid; wait $!; echo $? >acc.rc ) & } &&
	test_wait_for acc.b32 && test_wait_for acc.pid
}

client() {
	test_timeout 20 "$SAMTOOL" -t $(test_scaled 5000) -c $(test_scaled 5000) 127.0.0.1 $P connect "$@"
}

test_expect_success 'starts, prints its b32, makes its key 0600' '
	accept ./echo.sh &&
	grep -q "^[a-z2-7]\{52\}\.b32\.i2p\$" acc.b32 &&
	test "$(stat -c %a "$HOME/.config/nymbox/server.key")" = 600
'

test_expect_success 'the program gets the stream and the peer in its environment' '
	B=$(cat acc.b32) &&
	printf "hello\nworld\n" | client "$B" >out &&
	head -1 out >first &&
	read proto peer local len <first &&
	test "$proto" = I2P && test "$local" = "$B" &&
	echo "$peer" | grep -q "^[a-z2-7]\{52\}\.b32\.i2p\$" &&
	test "$peer" != "$B" && test "$len" -ge 516 &&
	sed 1d out >rest && printf "hello\nworld\n" >want && test_cmp want rest
'

test_expect_success 'nothing the client sends first is lost (1 MB at once)' '
	head -c 1000000 /dev/urandom >big &&
	client "$(cat acc.b32)" <big >out2 &&
	sed 1d out2 >got && cmp big got
'

test_expect_success 'SIGTERM stops it cleanly (exit 0)' '
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc &&
	test "$(cat acc.rc)" = 0
'

test_expect_success 'a program per stream looks names up over the session of sam-accept' '
	write_script look.sh <<-\EOS &&
	echo "key=$I2P_LOCAL_KEY"
	resolve-maildest -n -S 127.0.0.1:'"$P"' -w 30 bob@www.i2p 2>&1
	echo "rc=$?"
	EOS
	accept ./look.sh &&
	A=$(cat acc.b32) &&
	acid=$(awk -v a="$A" '"'"'$2 == "CREATED" && $3 == a { c = $1 } END { print c }'"'"' sam.log) &&
	test -n "$acid" &&
	n=$(grep -c CREATED sam.log) &&
	client "$A" </dev/null >out &&
	grep -x "key=$HOME/.config/nymbox/server.key" out &&
	# No web server behind www.i2p: the lookup fails, but over the
	# session of sam-accept (the lookup on its control socket).
	grep "unable to reach www.i2p: CANT_REACH_PEER" out &&
	grep -x "rc=75" out &&
	grep -x "$acid NAMING LOOKUP NAME=www.i2p" sam.log &&
	# One new session: that of the client, none for the lookup.
	test "$(grep -c CREATED sam.log)" = $((n + 1)) &&
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc
'

test_expect_success 'the same key gives the same destination next time' '
	B=$(cat acc.b32) && accept ./echo.sh && test "$(cat acc.b32)" = "$B" &&
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc
'

test_expect_success '-c limits programs at once; later streams wait, none is lost' '
	write_script slow.sh <<-\EOS &&
	read line; sleep 1; echo "got $line"
	EOS
	accept -c 1 ./slow.sh &&
	pids= &&
	for i in 1 2 3; do
		{ echo "n$i" | client "$(cat acc.b32)" >slow$i.out & } &&
		pids="$pids $!"
	done &&
	wait $pids &&
	for i in 1 2 3; do grep -x "got n$i" slow$i.out || return 1; done &&
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc
'

# One past -c: with -c 2 and two programs running, sam-accept takes no
# stream (it waits for a program to end, in wait(2), and asks the bridge
# for no third), so a third stream waits at the bridge; it runs when a
# program ends.  Each program holds until the test releases it.
test_expect_success 'past -c: the next stream waits until a program ends' '
	write_script hold.sh <<-\EOS &&
	read line
	: >started.$line
	while ! test -e release.$line; do sleep 0.1; done
	echo "got $line"
	EOS
	rm -f started.* release.* &&
	test_when_finished ": >release.n1; : >release.n2; : >release.n3" &&
	accept -c 2 ./hold.sh &&
	pid=$(cat acc.pid) &&
	n=$(grep -c "STREAM CONNECT" sam.log) &&
	pids= &&
	for i in 1 2; do
		{ echo "n$i" | client "$(cat acc.b32)" >hold$i.out & } &&
		pids="$pids $!" || return 1
	done &&
	test_wait_until "test -e started.n1 && test -e started.n2" &&
	# sam-accept waits for a program to end, with two running
	test_wait_until "grep -qx do_wait /proc/$pid/wchan" &&
	ps -o pid= --ppid "$pid" >kids && test_line_count = 2 kids &&
	{ echo n3 | client "$(cat acc.b32)" >hold3.out & } &&
	pids="$pids $!" &&
	test_wait_until "test \$(grep -c \"STREAM CONNECT\" sam.log) = $((n + 3))" &&
	# the third stream is at the bridge; its program has not started
	test_path_is_missing started.n3 &&
	grep -qx do_wait /proc/$pid/wchan &&
	ps -o pid= --ppid "$pid" >kids && test_line_count = 2 kids &&
	: >release.n1 &&
	test_wait_until "test -e started.n3" &&
	: >release.n2 && : >release.n3 &&
	wait $pids &&
	for i in 1 2 3; do grep -x "got n$i" hold$i.out || return 1; done &&
	kill -TERM "$pid" && test_wait_for acc.rc
'

test_expect_success 'sam-deliver borrows the session of sam-accept holding its key' '
	mkdir -p bob &&
	{ HOME=$PWD/bob sam-accept -S 127.0.0.1:$P -w $(test_scaled 5) sh -c "exec smtp-receive \
	    -l \$I2P_LOCAL_B32 -a -d $PWD/bob/Maildir" >bob.b32 2>bob.err &
	  echo $! >bob.pid; } &&
	test_wait_for bob.b32 &&
	accept -k "$HOME/.config/nymbox/keys/alice.i2p.key" ./echo.sh &&
	A=$(cat acc.b32) && B=$(cat bob.b32) &&
	test -S "$HOME/.config/nymbox/keys/alice.i2p.key.sock" &&
	printf "Subject: hi\n\nfrom alice\n" >m &&
	test_timeout 20 sam-deliver -S 127.0.0.1:$P -w $(test_scaled 5) \
	    -k "$HOME/.config/nymbox/keys/alice.i2p.key" -f "alice@$A" "bob@$B" <m &&
	grep -x "from alice" bob/Maildir/new/* &&
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc &&
	test ! -e "$HOME/.config/nymbox/keys/alice.i2p.key.sock"
'

test_expect_success 'without the lender, a sender waits for the key, never makes a second session' '
	accept -k "$HOME/.config/nymbox/keys/alice.i2p.key" ./echo.sh &&
	n=$(grep -c "SESSION CREATE" sam.log) &&
	mv "$HOME/.config/nymbox/keys/alice.i2p.key.sock" hidden.sock || return 1
	{ test_timeout 30 sam-deliver -S 127.0.0.1:$P -w $(test_scaled 5) \
	    -k "$HOME/.config/nymbox/keys/alice.i2p.key" \
	    -f "alice@$(cat acc.b32)" "bob@$(cat bob.b32)" <m 2>err; echo $? >rc; } &
	# While the socket is away, it must wait, not make a session.
	sleep 1 &&
	test ! -f rc && test "$(grep -c "SESSION CREATE" sam.log)" = "$n" &&
	mv hidden.sock "$HOME/.config/nymbox/keys/alice.i2p.key.sock" &&
	test_wait_for rc 30 && test "$(cat rc)" = 0 &&
	! grep DUPLICATED sam.log &&
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc &&
	kill -TERM "$(cat bob.pid)"
'

test_expect_success 'the bridge restarts under it: 75 with one line, after its programs end' '
	write_script hold.sh <<-\EOS &&
	echo started >&2; read line; sleep 1; echo done >>hold.out
	EOS
	accept ./hold.sh &&
	{ echo hi | client "$(cat acc.b32)" >/dev/null 2>&1 & } &&
	test_wait_until "grep -q started acc.err" 20 &&
	kill -HUP "$(cat sam.pid)" &&
	test_wait_for acc.rc 20 && test "$(cat acc.rc)" = 75 &&
	grep -x "sam-accept: unable to keep the session at the SAM bridge at 127.0.0.1:$P: the bridge closed the session" acc.err &&
	grep -x done hold.out &&
	read -r p s t <"$HOME/.config/nymbox/server.key.lock" && test "$s" = closed
'

test_expect_success 'started again (by its supervisor), it serves on the same port' '
	accept ./echo.sh &&
	printf "x\n" | client "$(cat acc.b32)" >out &&
	tail -n 1 out | grep -x x &&
	kill -TERM "$(cat acc.pid)" && test_wait_for acc.rc && test "$(cat acc.rc)" = 0
'

test_expect_success 'the bridge hangs: idle, it probes (NAMING LOOKUP NAME=ME), gets no answer, 75' '
	printf "sam-gap = 0\nsam-probe = 1\n" >"$HOME/.config/nymbox/config" &&
	accept -w 2 ./echo.sh &&
	c=$(awk -v a="$(cat acc.b32)" '"'"'$2 == "CREATED" && $3 == a { c = $1 } END { print c }'"'"' sam.log) &&
	test -n "$c" &&
	k=$(grep -cx "$c NAMING LOOKUP NAME=ME" sam.log) &&
	test_wait_until "test \$(grep -cx \"$c NAMING LOOKUP NAME=ME\" sam.log) -gt $k" 10 &&
	test ! -f acc.rc && ! grep "^$c PING" sam.log &&
	kill -USR1 "$(cat sam.pid)" &&
	test_wait_for acc.rc 20 && test "$(cat acc.rc)" = 75 &&
	grep -x "sam-accept: unable to keep the session at the SAM bridge at 127.0.0.1:$P: the bridge does not answer" acc.err
'
kill -USR2 "$(cat sam.pid)"	# whatever happened above
echo "sam-gap = 0" >"$HOME/.config/nymbox/config"

test_expect_success 'a key readable by others is refused (78)' '
	chmod 644 "$HOME/.config/nymbox/server.key" &&
	test_expect_code 78 test_timeout 20 sam-accept -S 127.0.0.1:$P ./echo.sh &&
	chmod 600 "$HOME/.config/nymbox/server.key"
'

test_expect_success 'the bridge down: 75' '
	test_expect_code 75 test_timeout 20 sam-accept -S 127.0.0.1:1 -w 2 \
	    -k k2 ./echo.sh
'

test_expect_success 'usage: 64' '
	test_expect_code 64 sam-accept &&
	test_expect_code 64 sam-accept -c 0 ./echo.sh
'

test_expect_success 'cleanup' 'kill "$(cat sam.pid)"; true'

test_done
