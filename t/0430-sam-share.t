#!/bin/sh
# One SAM session per key, shared: the first sam-deliver starts a holder,
# the others borrow it, parallel or one after another; the holder keeps
# nothing of its caller, lingers, closes, and is replaced when it dies or
# the bridge restarts, never sooner than the gap; sam-accept takes the key
# over.  The holder logs its life in KEY.log, probes an idle bridge, and
# goes when the bridge hangs or restarts; a message in flight then gets
# 75.  Against the fake SAM bridge, which refuses a second session for a
# destination (DUPLICATED_DEST), logs every session it makes, and hangs
# (SIGUSR1, until SIGUSR2) or restarts (SIGHUP) when told.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
SAMTOOL=${NYM_HELPERS:-$H}/samtool
test -x "$SAMTOOL" || test_skip_all "$SAMTOOL is not built"
command -v flock >/dev/null || test_skip_all "flock(1) is missing"

KEYS=$HOME/.config/nymbox/keys
KEY=$KEYS/alice.i2p.key
# A home so deep that a key's KEY.sock is longer than a socket address.
DEEP=$PWD/$(printf "%0100d" 0 | tr 0 d)
DKEYS=$DEEP/.config/nymbox/keys

# The PID of the live holder of KEY (its lock file says "PID open TIME"
# and the process is named sam-holder), or nothing.
holder() {
	read -r hp hs ht <"$KEY.lock" 2>/dev/null &&
	test "$hs" = open && test "$(cat /proc/$hp/comm 2>/dev/null)" = sam-holder &&
	echo "$hp"
}

# Stop every holder of every key by its PID (TERM, then KILL), and wait.
stop_holders() {
	test_stop_holders "$KEYS" "$DKEYS"
}

stop_all() {
	stop_holders
	for p in sam.pid mx0.pid www.pid hang.pid acc.pid; do
		test ! -f "$p" || kill "$(cat "$p")" 2>/dev/null
	done
	return 0
}
test_atexit stop_all

# gone PID [tenths]: wait until the process has ended.
gone() {
	gn=0
	while test -d "/proc/$1" && test $gn -lt "${2:-100}"; do
		sleep 0.1; gn=$((gn + 1))
	done
	test ! -d "/proc/$1"
}

sam() {
	rm -f sam.port sam.pid &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds 300 --route mx0.i2p="$(cat mx0.port)" \
	    --route www.i2p="$(cat www.port)" \
	    --route hang.i2p="$(cat hang.port)" "$@" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	P=$(cat sam.port) &&
	B=$(test_timeout 10 "$SAMTOOL" -t 3000 -c 3000 127.0.0.1 "$P" lookup -b mx0.i2p) &&
	test -n "$B"
}

sd() {
	test_timeout 60 sam-deliver -S 127.0.0.1:"$P" -w 5 -f alice@alice.i2p "$@"
}

# The b32 of the sessions made with a key, not TRANSIENT (alice's).
keyb32() {
	awk '$2 == "SESSION" && $3 == "CREATE" && !/DESTINATION=TRANSIENT/ {
		k[$1] = 1 } $2 == "CREATED" && k[$1] { print $3 }' sam.log |
	sort -u
}

# The bridge's connection ID of alice's last session.
acid() {
	awk -v a="$A" '$2 == "CREATED" && $3 == a { c = $1 } END { print c }' sam.log
}

# The time (seconds since the epoch) of the last KEY.log line with TEXT.
logtime() {
	t=$(grep -F "$1" "$KEY.log" | tail -n 1 | cut -d " " -f 1) &&
	test -n "$t" && date -d "$t" +%s
}

# Sessions the bridge made, and refused, for alice's destination.
created() { grep -c "CREATED $A\$" sam.log; }
refused() { grep -c "DUPLICATED" sam.log; }
delivered() { ls mx0.mail 2>/dev/null | wc -l; }

printf 'From: alice@alice.i2p\nSubject: hi\n\nhello\n' >msg
mkdir -p "$HOME/.config/nymbox"
printf 'sam-gap = 1\n' >"$HOME/.config/nymbox/config"

test_expect_success 'setup: a server and a bridge that is slow to make sessions' '
	{ "$H/smtpd" --port-file mx0.port --save mx0.mail --log mx0.log \
	    --max-seconds 300 & echo $! >mx0.pid; } &&
	test_wait_for mx0.port &&
	mkdir -p www &&
	{ "$H/httpd" --port-file www.port --dir www --status 404 \
	    --max-seconds 300 & echo $! >www.pid; } &&
	test_wait_for www.port &&
	{ "$H/smtpd" --port-file hang.port --save hang.mail --hang \
	    --max-seconds 300 & echo $! >hang.pid; } &&
	test_wait_for hang.port &&
	sam --session-delay 1 && echo "$P $B" >bridge
'
read -r P B <bridge

test_expect_success 'five deliveries at once with one key: all delivered, one session' '
	pids= &&
	for i in 1 2 3 4 5; do
		{ sd "bob@$B" <msg >out$i 2>err$i; echo $? >rc$i; } &
		pids="$pids $!"
	done &&
	wait $pids &&
	for i in 1 2 3 4 5; do test "$(cat rc$i)" = 0 || return 1; done &&
	test "$(delivered)" = 5 &&
	A=$(keyb32) && test -n "$A" && echo "$A" >alice.b32 &&
	test "$(created)" = 1 && test "$(refused)" = 0 &&
	test -n "$(holder)"
'
A=$(cat alice.b32 2>/dev/null)

test_expect_success 'the holder keeps none of its caller: pipes end, own session' '
	hp=$(holder) &&
	out=$(sd "bob@$B" <msg 2>&1 | cat) && test -z "$out" &&
	test "$(holder)" = "$hp" &&
	test "$(ps -o sid= -p "$hp" | tr -d " ")" != "$(ps -o sid= -p $$ | tr -d " ")" &&
	test "$(ps -o pgid= -p "$hp" | tr -d " ")" != "$(ps -o pgid= -p $$ | tr -d " ")" &&
	for f in 0 1 2; do
		test "$(readlink /proc/$hp/fd/$f)" = /dev/null || return 1
	done &&
	test "$(ls /proc/$hp/fd | wc -l)" -le 6 &&
	test "$(stat -c %a "$KEY.sock")" = 600 &&
	test "$(stat -c %a "$KEY.lock")" = 600
'

test_expect_success 'fifty deliveries one after another (as queue-run runs them): one session' '
	before=$(delivered) &&
	t0=$(date +%s%N) &&
	i=0 && while test $i -lt 50; do
		sd "bob@$B" <msg || return 1
		i=$((i + 1))
	done &&
	t1=$(date +%s%N) &&
	echo "50 deliveries borrowing one session: $(( (t1 - t0) / 50000000 )) ms each" >per.txt &&
	test "$(delivered)" = $((before + 50)) &&
	test "$(created)" = 1 && test "$(refused)" = 0
'

test ! -f per.txt || tl_diag_ <per.txt

test_expect_success 'a starter that exits leaves the holder lending' '
	hp=$(holder) && test -n "$hp" &&
	test "$(ps -o ppid= -p "$hp" | tr -d " ")" != $$ &&
	echo "$hp" >holder.pid
'

test_expect_success 'SIGTERM: the holder closes, leaves no socket, unlocks, stamps the time' '
	hp=$(cat holder.pid) && kill -TERM "$hp" && gone "$hp" &&
	test ! -e "$KEY.sock" &&
	flock -n "$KEY.lock" true &&
	read -r p s closed <"$KEY.lock" && test "$s" = closed && echo "$closed" >closed
'

test_expect_success 'the holder logged its life in KEY.log (0600): events and counts, no peer' '
	hp=$(cat holder.pid) &&
	test "$(stat -c %a "$KEY.log")" = 600 &&
	grep "^[0-9T:-]*Z sam-holder\[$hp\]: started: bridge 127.0.0.1:$P, linger 600 s, gap 1 s, probe 60 s\$" "$KEY.log" &&
	grep "sam-holder\[$hp\]: session open in [0-9]* ms\$" "$KEY.log" &&
	grep "sam-holder\[$hp\]: a borrower came, [1-5] borrowing\$" "$KEY.log" &&
	grep "sam-holder\[$hp\]: a borrower left, 0 borrowing\$" "$KEY.log" &&
	grep "sam-holder\[$hp\]: SIGTERM: closing\$" "$KEY.log" &&
	grep "sam-holder\[$hp\]: session closed; served 56 borrowers, 0 lookups (0 failed), 56 streams (0 failed); exit\$" "$KEY.log" &&
	! grep -i -e "$B" -e bob -e mx0 "$KEY.log"
'

test_expect_success 'the next session of the key comes no sooner than sam-gap' '
	printf "sam-gap = 2\n" >"$HOME/.config/nymbox/config" &&
	hp=$(cat holder.pid) &&
	sd "bob@$B" <msg &&
	test "$(created)" = 2 && test "$(refused)" = 0 &&
	read -r p s opened <"$KEY.lock" && test "$s" = open &&
	test "$opened" -ge $(( $(cat closed) + 2 )) &&
	stop_holders
'

test_expect_success 'the holder goes after sam-linger idle seconds and the next one starts' '
	printf "sam-gap = 1\nsam-linger = 1\n" >"$HOME/.config/nymbox/config" &&
	sd "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	gone "$hp" 150 &&
	test ! -e "$KEY.sock" && flock -n "$KEY.lock" true &&
	grep "sam-holder\[$hp\]: idle for 1 s: closing\$" "$KEY.log" &&
	grep "sam-holder\[$hp\]: session closed (idle); served 1 borrowers" "$KEY.log" &&
	n=$(created) &&
	sd "bob@$B" <msg &&
	test "$(created)" = $((n + 1)) && test "$(refused)" = 0 &&
	hp=$(holder) && gone "$hp" 150
'

test_expect_success '-l 0: no holder, a session of its own, closed and unlocked at exit' '
	printf "sam-gap = 0\n" >"$HOME/.config/nymbox/config" &&
	n=$(created) &&
	sd -l 0 "bob@$B" <msg &&
	test "$(created)" = $((n + 1)) &&
	test ! -e "$KEY.sock" && test -z "$(holder)" &&
	flock -n "$KEY.lock" true &&
	read -r p s t <"$KEY.lock" && test "$s" = closed
'

test_expect_success 'a holder killed with SIGKILL: the next delivery starts a new one' '
	printf "sam-gap = 1\n" >"$HOME/.config/nymbox/config" &&
	sd "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	kill -KILL "$hp" && gone "$hp" &&
	test -S "$KEY.sock" &&
	n=$(created) && m=$(delivered) &&
	sd "bob@$B" <msg &&
	test "$(delivered)" = $((m + 1)) &&
	test "$(created)" = $((n + 1)) && test "$(refused)" = 0 &&
	test -n "$(holder)" && test "$(holder)" != "$hp"
'

test_expect_success 'the bridge restarts under a held session: the holder goes, a new one delivers' '
	hp=$(holder) && test -n "$hp" &&
	kill "$(cat sam.pid)" && gone "$(cat sam.pid)" &&
	sam && echo "$P $B" >bridge &&
	gone "$hp" 50 &&
	m=$(delivered) &&
	sd "bob@$B" <msg &&
	test "$(delivered)" = $((m + 1)) && test "$(refused)" = 0 &&
	test -n "$(holder)" && test "$(holder)" != "$hp"
'
read -r P B <bridge

test_expect_success 'resolve-maildest -k looks names up through the holder, no session of its own' '
	hp=$(holder) && test -n "$hp" &&
	n=$(grep -c CREATED sam.log) &&
	hcid=$(awk -v a="$A" '"'"'$2 == "CREATED" && $3 == a { c = $1 } END { print c }'"'"' sam.log) &&
	test -n "$hcid" &&
	test_timeout 30 resolve-maildest -n -S 127.0.0.1:"$P" -w 5 -k "$KEY" \
	    bob@www.i2p >out &&
	grep "^bob@www.i2p i2p [A-Za-z0-9~=-]\{516,\} 25 addressbook " out &&
	grep -x "$hcid NAMING LOOKUP NAME=www.i2p" sam.log &&
	test "$(grep -c CREATED sam.log)" = "$n" &&
	test "$(holder)" = "$hp"
'

test_expect_success 'KEY.log is bounded: at 64 KiB it becomes KEY.log.old' '
	stop_holders &&
	head -c 65500 /dev/zero | tr "\0" x >"$KEY.log" &&
	sd "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	test "$(stat -c %s "$KEY.log.old")" -ge 65500 &&
	test "$(stat -c %s "$KEY.log")" -lt 1000 &&
	grep "sam-holder\[$hp\]: started" "$KEY.log" &&
	test "$(stat -c %a "$KEY.log")" = 600
'

test_expect_success 'an idle holder probes the bridge with NAMING LOOKUP NAME=ME (never PING) and stays' '
	stop_holders &&
	printf "sam-gap = 1\nsam-probe = 1\n" >"$HOME/.config/nymbox/config" &&
	sd -w 2 "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	c=$(acid) && test -n "$c" &&
	k=$(grep -cx "$c NAMING LOOKUP NAME=ME" sam.log) &&
	test_wait_until "test \$(grep -cx \"$c NAMING LOOKUP NAME=ME\" sam.log) -gt $k" 10 &&
	test "$(holder)" = "$hp" && ! grep "^$c PING" sam.log &&
	test_wait_until "grep -q \"sam-holder\\[$hp\\]: the bridge answers probes (\" \"\$KEY.log\"" 5 &&
	echo "$hp" >holder.pid
'

test_expect_success 'the bridge hangs: the idle holder gets no answer to its probe and goes' '
	hp=$(cat holder.pid) &&
	kill -USR1 "$(cat sam.pid)" &&
	gone "$hp" 150 &&
	grep "sam-holder\[$hp\]: probe failed: no answer from the bridge within 2000 ms" "$KEY.log" &&
	test ! -e "$KEY.sock" &&
	kill -USR2 "$(cat sam.pid)" &&
	m=$(delivered) && sd "bob@$B" <msg && test "$(delivered)" = $((m + 1))
'
kill -USR2 "$(cat sam.pid)"	# whatever happened above

test_expect_success 'a stream that says nothing (stale peer): a young session is kept' '
	stop_holders &&
	printf "sam-gap = 1\nsam-probe = 0\nsam-fresh = 600\n" >"$HOME/.config/nymbox/config" &&
	HB=$(test_timeout 10 "$SAMTOOL" -t 3000 -c 3000 127.0.0.1 "$P" lookup -b hang.i2p) &&
	sd -w 2 "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	test_expect_code 75 sd -w 2 "bob@$HB" <msg 2>err &&
	test_grep "unable to talk to the mail server: Connection timed out" err &&
	test_wait_until "grep -q \"sam-holder\[$hp\]: a peer stopped answering; the session is under 600 s old: kept\" \"\$KEY.log\"" 10 &&
	test "$(holder)" = "$hp"
'

test_expect_success 'a stream that says nothing: past sam-fresh the holder retires, the next sender starts afresh' '
	stop_holders &&
	printf "sam-gap = 1\nsam-probe = 0\nsam-fresh = 1\n" >"$HOME/.config/nymbox/config" &&
	sd -w 2 "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	test_expect_code 75 sd -w 2 "bob@$HB" <msg 2>err &&
	gone "$hp" 100 &&
	grep "sam-holder\[$hp\]: a peer stopped answering over this session: retiring it" "$KEY.log" &&
	c=$(created) && m=$(delivered) &&
	sd "bob@$B" <msg &&
	test "$(created)" = $((c + 1)) && test "$(delivered)" = $((m + 1)) &&
	test -n "$(holder)" && test "$(holder)" != "$hp"
'

test_expect_success 'the bridge hangs: a borrowed stream and lookup time out (75), the holder goes' '
	stop_holders &&
	printf "sam-gap = 1\nsam-probe = 0\n" >"$HOME/.config/nymbox/config" &&
	sd -w 2 "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	kill -USR1 "$(cat sam.pid)" &&
	t0=$(date +%s) &&
	test_expect_code 75 sd -w 2 "bob@$B" <msg 2>err1 &&
	test "$(holder)" = "$hp" &&
	test_expect_code 75 test_timeout 30 resolve-maildest -n \
	    -S 127.0.0.1:"$P" -w 2 -k "$KEY" bob@www.i2p 2>err2 &&
	test $(( $(date +%s) - t0 )) -lt 20 &&
	gone "$hp" 100 &&
	grep "sam-holder\[$hp\]: the bridge did not answer a lookup within 2000 ms" "$KEY.log" &&
	grep "sam-holder\[$hp\]: session closed; served 3 borrowers, 1 lookups (1 failed), 3 streams (2 failed); exit" "$KEY.log"
'
kill -USR2 "$(cat sam.pid)"	# whatever happened above

test_expect_success 'the bridge restarts (same port) under a message in flight: 75; the next sender delivers, after the gap' '
	printf "sam-gap = 2\n" >"$HOME/.config/nymbox/config" &&
	HB=$(test_timeout 10 "$SAMTOOL" -t 3000 -c 3000 127.0.0.1 "$P" lookup -b hang.i2p) &&
	sd "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	n=$(grep -c "STREAM CONNECT" sam.log) &&
	rm -f inflight.rc || return 1
	# A peer that never answers, and a deadline longer than the test
	# waits: only the cut stream can end this delivery in time.
	{ sd -w 60 "bob@$HB" <msg 2>inflight.err; echo $? >inflight.rc; } &
	test_wait_until "test \$(grep -c \"STREAM CONNECT\" sam.log) -gt $n" 20 &&
	sleep 0.5 && test ! -f inflight.rc &&
	kill -HUP "$(cat sam.pid)" &&
	test_wait_for inflight.rc 15 && test "$(cat inflight.rc)" = 75 &&
	m=$(delivered) && c=$(created) &&
	sd "bob@$B" <msg &&
	test "$(delivered)" = $((m + 1)) && test "$(created)" = $((c + 1)) &&
	test "$(refused)" = 0 && test -n "$(holder)" && test "$(holder)" != "$hp" &&
	grep "sam-holder\[$hp\]: the bridge closed the session (.*): closing\$" "$KEY.log" &&
	closed=$(logtime "sam-holder[$hp]: session closed") &&
	opened=$(logtime "sam-holder[$(holder)]: session open") &&
	test $((opened - closed)) -ge 2
'

test_expect_success 'the holder cannot start (bridge down): 75, nothing left running' '
	stop_holders &&
	test_expect_code 75 test_timeout 30 sam-deliver -S 127.0.0.1:1 -w 2 \
	    -f alice@alice.i2p "bob@$B" <msg 2>err &&
	grep "^sam-deliver: unable to reach the SAM bridge at 127.0.0.1:1 (is i2pd running with SAM enabled?" err &&
	# the holder that failed exits right after it said so
	test_wait_until "test -z \"\$(holder)\" && flock -n \"\$KEY.lock\" true" 10
'

test_expect_success 'sam-accept takes the key from a lingering holder; senders borrow from it' '
	sd "bob@$B" <msg && hp=$(holder) && test -n "$hp" &&
	n=$(created) &&
	rm -f acc.b32 &&
	{ sam-accept -S 127.0.0.1:"$P" -w 5 -k "$KEY" cat >acc.b32 2>acc.err &
	  echo $! >acc.pid; } &&
	test_wait_for acc.b32 30 && gone "$hp" &&
	test "$(created)" = $((n + 1)) && test "$(refused)" = 0 &&
	m=$(delivered) &&
	sd "bob@$B" <msg &&
	test "$(delivered)" = $((m + 1)) && test "$(created)" = $((n + 1)) &&
	test -z "$(holder)" &&
	kill -TERM "$(cat acc.pid)" && gone "$(cat acc.pid)" &&
	test ! -e "$KEY.sock" && flock -n "$KEY.lock" true
'

test_expect_success 'a sender that finds the key locked waits for the lender, never makes a second session' '
	rm -f acc.b32 &&
	{ sam-accept -S 127.0.0.1:"$P" -w 5 -k "$KEY" cat >acc.b32 2>acc.err &
	  echo $! >acc.pid; } &&
	test_wait_for acc.b32 30 &&
	n=$(created) && m=$(delivered) &&
	mv "$KEY.sock" hidden.sock || return 1
	{ sd "bob@$B" <msg 2>err; echo $? >rc; } &
	# While the socket is away, it must wait, not make a session.
	sleep 1 &&
	test ! -f rc && test "$(created)" = "$n" &&
	mv hidden.sock "$KEY.sock" &&
	test_wait_for rc && test "$(cat rc)" = 0 &&
	test "$(delivered)" = $((m + 1)) && test "$(refused)" = 0 &&
	kill -TERM "$(cat acc.pid)" && gone "$(cat acc.pid)"
'

# acc: sam-accept -l 60 (a borrower of the key's holder) running cat;
# its b32 in acc.b32, PID in acc.pid, exit code in acc.rc when it ends.
acc() {
	rm -f acc.b32 acc.pid acc.rc &&
	{ ( sam-accept -l 60 -S 127.0.0.1:"$P" -w 5 -k "$KEY" cat >acc.b32 2>acc.err &
	    echo $! >acc.pid; wait $!; echo $? >acc.rc ) & } &&
	test_wait_for acc.b32 30 && test_wait_for acc.pid &&
	test "$(cat acc.b32)" = "$A"
}

# echoed WORD: WORD sent to alice over a stream, and back from cat.
echoed() {
	printf "%s\n" "$1" | test_timeout 20 "$SAMTOOL" -t 5000 -c 5000 \
	    127.0.0.1 "$P" connect "$A" >echo.out && grep -qx "$1" echo.out
}

test_expect_success 'sam-accept -l borrows the holder: restarted, same session, reached at once' '
	stop_holders &&
	printf "sam-gap = 1\n" >"$HOME/.config/nymbox/config" &&
	n=$(created) &&
	acc && hp=$(holder) && test -n "$hp" && test "$(created)" = $((n + 1)) &&
	echoed one &&
	kill -TERM "$(cat acc.pid)" && gone "$(cat acc.pid)" &&
	test "$(holder)" = "$hp" &&
	acc && echoed two && echoed three &&
	test "$(created)" = $((n + 1)) && test "$(holder)" = "$hp" &&
	m=$(delivered) && sd "bob@$B" <msg && test "$(delivered)" = $((m + 1)) &&
	test "$(created)" = $((n + 1)) && test "$(refused)" = 0 &&
	kill -TERM "$(cat acc.pid)" && gone "$(cat acc.pid)" &&
	test "$(holder)" = "$hp" &&
	grep "sam-holder\[$hp\]: a borrower left, 0 borrowing" "$KEY.log"
'

test_expect_success 'sam-accept -l: the holder goes (the bridge restarts): 75, for its supervisor' '
	acc && hp=$(holder) &&
	kill -HUP "$(cat sam.pid)" &&
	test_wait_for acc.rc 20 && test "$(cat acc.rc)" = 75 &&
	grep -x "sam-accept: unable to keep the session at the SAM bridge at 127.0.0.1:$P: the session'"'"'s holder went away" acc.err &&
	gone "$hp" 100
'

test_expect_success 'a bad sam-probe: 75 with one line, no holder started' '
	stop_holders &&
	printf "sam-probe = soon\n" >"$HOME/.config/nymbox/config" &&
	test_expect_code 75 sd "bob@$B" <msg 2>err &&
	grep -x "sam-deliver: unable to use sam-probe soon: expected 0 to 86400" err &&
	test -z "$(holder)" &&
	printf "sam-gap = 1\n" >"$HOME/.config/nymbox/config"
'

# The holder binds it, and borrowers reach it, through its directory
# (before, each sender made a session of its own).
test_expect_success 'a key path too long for a socket address: one session, lent' '
	stop_holders &&
	mkdir -p "$DEEP/.config/nymbox" &&
	cp "$HOME/.config/nymbox/config" "$DEEP/.config/nymbox/config" &&
	test "$(printf %s "$DKEYS/alice.i2p.key.sock" | wc -c)" -gt 108 &&
	n=$(grep -c " CREATED " sam.log) && m=$(delivered) &&
	for i in 1 2 3; do
		HOME=$DEEP sd "bob@$B" <msg || return 1
	done &&
	test "$(delivered)" = $((m + 3)) && test "$(refused)" = 0 &&
	test "$(grep -c " CREATED " sam.log)" = $((n + 1)) &&
	test -S "$DKEYS/alice.i2p.key.sock" &&
	test "$(stat -c %a "$DKEYS/alice.i2p.key.sock")" = 600 &&
	test_stop_holders "$DKEYS" && test ! -e "$DKEYS/alice.i2p.key.sock"
'

test_expect_success 'cleanup: no holder left' '
	stop_all && test -z "$(holder)"
'

test_done
