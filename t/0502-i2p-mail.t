#!/bin/sh
# Mail over the suite's private I2P network used the way a mail system
# uses it (issue 10): Alice (router A) sends, Bob (router B) receives
# with sam-accept + smtp-receive into a maildir, and on ONE network start
# (t/helpers/i2p-net) the driver below runs, in order:
#  b. 5 sam-deliver at once (pipe(8) style) before any holder runs: all
#     delivered, one SESSION CREATE;
#  a. then 50 messages from that key through delay-queue + queue-run, one
#     sam-deliver per message: all delivered once, borrowing the holder b
#     started: one SESSION CREATE for Alice's key in all;
#  c. Bob's acceptor restarted between two flushes: the second flush
#     (queue-run -r, again until delivered) delivers within C_BOUND s of
#     Bob's new session;
#  d. router A restarted under Alice's held session: a message sent while
#     it is down gets 75 and waits; after A is back it is delivered within
#     D_BOUND s;
#  e. router B killed (SIGKILL) during the DATA of a large message: 75;
#     after B and Bob's acceptor are back, delivered exactly once within
#     E_BOUND s.
# Alice's programs reach router A through t/helpers/sam-tap, which logs
# every SESSION CREATE (with a hash of the key): the witness for "one
# session per key".  Every time below is measured and written to the
# report (shown as "# " lines).  A router that dies, other than by the
# driver's own stop or kill, fails the run (i2p-net exit 70).
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v i2pd >/dev/null || test_skip_all "i2pd is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x "${NYM_HELPERS:-$H}/samtool" || test_skip_all "samtool is not built"
# Cases c-e restart routers and acceptors: only on three routers.
unshare -n true 2>/dev/null ||
    test_skip_all "no network namespace here: these cases need the three-router network"
# Its time is i2pd's (sessions, tunnels, retries), not the programs', and
# every wait in it grows with NYM_TEST_SCALE: under the sanitizers (scale
# 3) the run would take some 17 minutes of CI's 30.  The programs it runs
# are checked under the sanitizers by t/0430, t/0431 and t/0500.
test "${NYM_TEST_SCALE:-1}" -le 1 ||
    test_skip_all "the network cases run in the plain pass only (NYM_TEST_SCALE=$NYM_TEST_SCALE)"

# The bounds the cases state, in seconds (times NYM_TEST_SCALE), from the
# moment the restarted side is ready again.  Measured on i2pd 2.45.1
# (2026-12-06, a 2-core machine), before the library worked around it:
# c and e took 92 to 481 s (router A kept using its ECIES-ratchet
# session with Bob's old session, which B cannot decrypt: "Garlic:
# Incorrect N ephemeral public key"; A: "No packets have been received
# yet").  Now Bob's acceptor borrows his key's holder (sam-accept -l), so
# c keeps the session (0.1 s), and a sender whose stream says nothing
# retires its own session (sam-fresh), so e took 64.5 s (2 attempts, the
# second on a fresh session) and d 113 s (3 attempts).  The bounds leave
# room for a loaded machine: c 120 s, d 300 s, e 240 s.
# I2P_MAIL_BOUND (seconds, not scaled) replaces all three, to measure
# how long recovery really takes.
C_BOUND=${I2P_MAIL_BOUND:-$(test_scaled 120)}
D_BOUND=${I2P_MAIL_BOUND:-$(test_scaled 300)}
E_BOUND=${I2P_MAIL_BOUND:-$(test_scaled 240)}
export C_BOUND D_BOUND E_BOUND H

# ---- The driver, run inside the network.
write_script inside.sh <<'EOS'
set -u
S=${NYM_TEST_SCALE:-1}
D=$TRASH
R=$D/res
W=$((30 * S))			# sam-deliver -w: each network step
T0=$(date +%s%N)
SAMTOOL=${NYM_HELPERS:-$H}/samtool
A_KEY=$D/alice/.config/nymbox/keys/alice.i2p.key
Q=$D/alice/Q
NET=$I2P_NET_DIR/router
mkdir -p "$R"
echo "$I2P_NET_MODE" >"$R/network"

# el T: seconds since T (date +%s%N), one decimal.
el() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
now() { date +%s%N; }
say() { printf '[%6s s] %s\n' "$(el "$T0")" "$*" >>"$R/report"; }
pids=
bg() { "$@" & pids="$pids $!"; last=$!; }
alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'
}
# gone PID SECONDS: until PID has ended.
gone() {
	g=0
	while alive "$1"; do
		g=$((g + 1))
		test $g -le $(($2 * 10)) || return 1
		sleep 0.1
	done
}
# waitfile FILE PID SECONDS: until FILE has data while PID lives.
waitfile() {
	g=0
	until test -s "$1"; do
		alive "$2" || { sleep 0.2; test -s "$1"; return; }
		g=$((g + 1))
		test $g -le $(($3 * 10)) || return 1
		sleep 0.1
	done
}
B_KEY=$D/bob/.config/nymbox/server.key
holder() {			# the PID of the holder of key ${1:-A_KEY}, if one runs
	read -r hp hs <"${1:-$A_KEY}.lock" 2>/dev/null || return 1
	test "$(cat "/proc/$hp/comm" 2>/dev/null)" = sam-holder && echo "$hp"
}
stopholder() {
	hp=$(holder "$@") || return 0
	kill -TERM "$hp" && gone "$hp" $((60 * S))
}
stopall() {
	stopholder
	stopholder "$B_KEY"
	for p in $bobacc $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $bobacc $pids; do gone "$p" 30 || kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for r in F A B; do cp "$I2P_NET_DIR/$r/i2pd.log" "$R/i2pd-$r.log" 2>/dev/null; done
	cp "$I2P_NET_DIR/pids" "$R/pids"
}
bobacc=
trap stopall EXIT
trap 'exit 143' TERM INT HUP

# Alice: everything through the tap in front of router A.
alice() { env HOME="$D/alice" SAM_PORT="$(cat "$R/tap.port")" "$@"; }
# msg SUBJECT [BYTES]: a message; BYTES of body lines if given.
msg() {
	printf 'From: Alice <alice@alice.i2p>\nTo: Bob <bob@bob.i2p>\n'
	printf 'Subject: %s\nMessage-ID: <%s@alice.i2p>\n\nmessage %s\n' "$1" "$1" "$1"
	test -n "${2:-}" && head -c "$2" /dev/urandom | base64 -w 76
	return 0
}
enqueue() {			# SUBJECT [BYTES]: queue it, print its ID
	msg "$@" >"$R/m.eml" &&
	{ ls "$Q/mess" 2>/dev/null | sort >"$R/before"; :; } &&
	alice delay-queue -m now -q "$Q" -f alice@alice.i2p bob@bob.i2p \
	    -- sam-deliver -w "$W" <"$R/m.eml" >/dev/null 2>>"$R/dq.err" &&
	ls "$Q/mess" | sort | comm -13 "$R/before" -
}
queued() { test -e "$Q/mess/$1"; }
field() {			# ID KEY: from the record in effect
	if test -f "$Q/info/$1"; then cat "$Q/info/$1"; else sed '/^$/q' "$Q/mess/$1"; fi |
	    sed -n "s/^$2 //p"
}
# delivered SUBJECT: how many copies Bob has.
delivered() {
	grep -lx "Subject: $1" "$D/bob/Maildir/new/"* 2>/dev/null | wc -l
}
creates() { grep -c ' SESSION CREATE' "$R/tap.log"; }
bobstart() {			# Bob's acceptor; its b32 in FILE when up
	rm -f "$1"
	# -l: a borrower of the key's holder, so that a restart of the
	# acceptor keeps the session (sam-accept(1)).
	env SAM_PORT="$SAM_PORT_B" HOME="$D/bob" sam-accept -w "$W" \
	    -l $((600 * S)) -k "$B_KEY" \
	    smtp-receive -l bob.i2p -a -d "$D/bob/Maildir" >"$1" 2>>"$R/bob.err" &
	bobacc=$!
}
# retry ID BOUND CASE SINCE: queue-run -r ID until delivered, while
# BOUND s since SINCE have not passed; every attempt in R/CASE.attempts.
# On a failure, what routers A and B logged meanwhile (counts of each
# kind of line) goes to the report as evidence.
retry() {
	n=0
	for r in A B; do wc -l <"$I2P_NET_DIR/$r/i2pd.log" >"$R/$3.log$r" 2>/dev/null; done
	while queued "$1"; do
		if test "$(el "$4" | cut -d. -f1)" -ge "$2"; then
			say "case $3: NOT delivered $(el "$4") s after the restart ($n attempts;" \
			    "the last: $(field "$1" error))"
			for r in A B; do
				say "case $3: router $r logged meanwhile (count, kind):"
				tail -n +$(($(cat "$R/$3.log$r") + 1)) "$I2P_NET_DIR/$r/i2pd.log" |
				    sed 's/^[0-9:]*@[0-9]*\///; s/[0-9][0-9][0-9][0-9]*/N/g' |
				    sort | uniq -c | sort -rn | head -6 | sed 's/^ */  /' >>"$R/report"
			done
			return 1
		fi
		n=$((n + 1))
		t=$(now)
		at=$(el "$4")
		alice timeout $((W * 4 + 30)) queue-run -q "$Q" -r "$1" 2>>"$R/qr.err"
		rc=$?
		if queued "$1"; then
			echo "attempt $n at +$at s: took $(el "$t") s, queue-run $rc," \
			    "sam-deliver $(field "$1" lastcode): $(field "$1" error)" >>"$R/$3.attempts"
		else
			echo "attempt $n at +$at s: took $(el "$t") s, delivered" >>"$R/$3.attempts"
		fi
	done
	echo "$(el "$4")" >"$R/$3.time"
	say "case $3: delivered $(cat "$R/$3.time") s after the restart ($n attempts)"
}

say "network: $I2P_NET_MODE, ready after $I2P_NET_READY s"
bg "$H/sam-tap" --port-file "$R/tap.port" --log "$R/tap.log" \
    --upstream "$SAM_PORT_A"
waitfile "$R/tap.port" $last 30 || { say "sam-tap did not start"; exit 1; }
for s in bob alice; do
	bg "$H/httpd" --port-file "$R/$s.http" --dir "$D/www-$s" --max-seconds 3000 \
	    2>"$R/$s.http.err"
	waitfile "$R/$s.http" $last 30 || { say "httpd $s did not start"; exit 1; }
done
bg "$SAMTOOL" -t $((90000 * S)) -c $((90000 * S)) -r "$R/bobweb.ready" \
    "$SAM_HOST" "$SAM_PORT_B" forward -o "$SAM_OPTS" -p "$D/keys/bobweb.priv" \
    -s "$(cat "$R/bob.http")" 2>"$R/bobweb.err"
bobweb=$last
bg "$SAMTOOL" -t $((90000 * S)) -c $((90000 * S)) -r "$R/aliceweb.ready" \
    "$SAM_HOST" "$SAM_PORT_A" forward -o "$SAM_OPTS" -p "$D/keys/aliceweb.priv" \
    -s "$(cat "$R/alice.http")" 2>"$R/aliceweb.err"
aliceweb=$last
bobstart "$R/bob.b32"
t=$(now)
waitfile "$R/bobweb.ready" $bobweb $((90 * S)) &&
    waitfile "$R/aliceweb.ready" $aliceweb $((90 * S)) &&
    waitfile "$R/bob.b32" $bobacc $((90 * S)) ||
    { say "the eepsites or Bob's acceptor did not come up"; exit 1; }
say "sessions up after $(el "$t") s: bob.i2p and Bob's acceptor on B, alice.i2p on A"

# ---- b. No holder yet: 5 sam-deliver at once, as pipe(8) runs them.
c0=$(creates)
for i in 1 2 3 4 5; do msg "b-$i" >"$R/b-$i.eml"; done
t=$(now)
bp=
for i in 1 2 3 4 5; do
	(alice timeout $((300 * S)) sam-deliver -w "$W" -f alice@alice.i2p -- bob@bob.i2p \
	    <"$R/b-$i.eml" >/dev/null 2>"$R/b.$i.err"; echo $? >"$R/b.$i.rc") &
	bp="$bp $!"
done
wait $bp
echo "$(el "$t")" >"$R/b.time"
echo $(($(creates) - c0)) >"$R/b.creates"
for i in 1 2 3 4 5; do echo "b-$i $(cat "$R/b.$i.rc") $(delivered "b-$i")"; done >"$R/b.result"
say "case b: 5 sam-deliver at once took $(cat "$R/b.time") s; exits" \
    "$(cut -d' ' -f2 "$R/b.result" | tr '\n' ' '); $(cat "$R/b.creates") SESSION CREATE"

# ---- a. 50 messages, one queue-run, one sam-deliver each, borrowing
# the session of the holder b started.
c0=$(creates)
for i in $(seq 1 50); do enqueue "a-$i" >/dev/null || { say "delay-queue failed"; exit 1; }; done
t=$(now)
alice timeout $((600 * S)) queue-run -q "$Q" -T $((120 * S)) 2>"$R/a.err"
echo $? >"$R/a.rc"
echo "$(el "$t")" >"$R/a.time"
alice queue-run -q "$Q" -l >"$R/a.left" 2>&1
for i in $(seq 1 50); do echo "a-$i $(delivered "a-$i")"; done >"$R/a.copies"
echo $(($(creates) - c0)) >"$R/a.creates"
grep ' SESSION CREATE' "$R/tap.log" | sed 's/.*dest=//' | sort -u >"$R/a.dests"
say "case a: queue-run exit $(cat "$R/a.rc") after $(cat "$R/a.time") s;" \
    "$(grep -c ' 1$' "$R/a.copies") of 50 delivered once, $(wc -l <"$R/a.left") left" \
    "in the queue; $(cat "$R/a.creates") SESSION CREATE through the tap"
hp=$(holder) && say "case a: holder pid $hp"
for r in F A B; do
	read -r st p <"$I2P_NET_DIR/$r/state"
	alive "$p" || echo "router $r (pid $p) died"
done >"$R/a.dead"

# ---- c. Bob's acceptor restarted between two flushes.
id=$(enqueue c-1)
t=$(now)
alice timeout $((300 * S)) queue-run -q "$Q" -T $((120 * S)) 2>>"$R/qr.err"
if queued "$id"; then
	say "case c: the first flush did not deliver: $(field "$id" error)"
else
	say "case c: first flush delivered in $(el "$t") s"
fi
echo "$(delivered c-1)" >"$R/c1.copies"
t=$(now)
kill -TERM $bobacc
gone $bobacc $((60 * S)); wait $bobacc; echo $? >"$R/c.accrc"
say "case c: Bob's acceptor stopped (SIGTERM) in $(el "$t") s, exit $(cat "$R/c.accrc")"
t=$(now)
bobstart "$R/bob2.b32"
if waitfile "$R/bob2.b32" $bobacc $((120 * S)); then
	say "case c: Bob's acceptor up again after $(el "$t") s (gap + SESSION CREATE)"
	id=$(enqueue c-2)
	retry "$id" "$C_BOUND" c "$(now)"
else
	say "case c: Bob's new acceptor did not come up in $(el "$t") s"
fi
echo "$(delivered c-2)" >"$R/c2.copies"

# ---- d. Router A restarted under Alice's held session.
hp=$(holder) || {
	# c left no holder (nothing delivered?): make one with a delivery.
	msg d-0 | alice timeout $((300 * S)) sam-deliver -w "$W" -f alice@alice.i2p -- \
	    bob@bob.i2p >/dev/null 2>>"$R/d.err"
	hp=$(holder)
}
echo "${hp:-none}" >"$R/d.holder"
say "case d: holder pid ${hp:-none} holds Alice's session"
t=$(now)
"$NET" stop A >/dev/null 2>>"$R/d.err"
say "case d: router A stopped (SIGTERM, KILL after 3 s) in $(el "$t") s"
t=$(now)
if test -n "$hp" && gone "$hp" $((30 * S)); then
	say "case d: the holder noticed and exited $(el "$t") s after the stop"
	echo gone >"$R/d.holdergone"
else
	say "case d: the holder ${hp:-none} still runs $(el "$t") s after the stop"
fi
id=$(enqueue d-1)
t=$(now)
alice timeout $((300 * S)) queue-run -q "$Q" -T $((120 * S)) 2>>"$R/qr.err"
echo "$(field "$id" lastcode)" >"$R/d.downcode"
queued "$id" && echo queued >"$R/d.downqueued"
say "case d: while A is down: queue-run took $(el "$t") s; sam-deliver exit" \
    "$(cat "$R/d.downcode"), message $(queued "$id" && echo still queued || echo GONE):" \
    "$(field "$id" error)"
t=$(now)
"$NET" start A >"$R/d.newpid" 2>>"$R/d.err" && echo up >"$R/d.up"
say "case d: router A started again, its SAM bridge answering after $(el "$t") s"
retry "$id" "$D_BOUND" d "$(now)"
echo "$(delivered d-1)" >"$R/d.copies"

# ---- e. Router B killed during the DATA of a large message.
id=$(enqueue e-1 $((8 * 1024 * 1024)))
sed '1,/^$/d' "$Q/mess/$id" | sed '1,/^$/d' | md5sum | cut -d' ' -f1 >"$R/e.sum"
t=$(now)
(alice timeout $((300 * S)) queue-run -q "$Q" -T $((120 * S)) 2>>"$R/qr.err"
 echo $? >"$R/e.qrrc") &
qr=$!
# DATA has begun when smtp-receive's file in Bob's maildir/tmp holds 1 MB.
g=0
until test -n "$(find "$D/bob/Maildir/tmp" -type f -size +1024k 2>/dev/null)"; do
	g=$((g + 1))
	if test $g -gt $((120 * 10 * S)) || ! alive $qr; then break; fi
	sleep 0.1
done
if test -n "$(find "$D/bob/Maildir/tmp" -type f -size +1024k 2>/dev/null)"; then
	say "case e: DATA under way $(el "$t") s after queue-run started:" \
	    "$(du -k "$D/bob/Maildir/tmp"/* 2>/dev/null | cut -f1 | head -1) kB in Bob's maildir/tmp;" \
	    "router B killed (SIGKILL)"
	t=$(now)
	"$NET" kill B >/dev/null 2>>"$R/e.err"
	echo killed >"$R/e.killed"
	wait $qr
	echo "$(field "$id" lastcode)" >"$R/e.code"
	queued "$id" && echo queued >"$R/e.queued"
	say "case e: queue-run ended $(el "$t") s after the kill; sam-deliver exit" \
	    "$(cat "$R/e.code"): $(field "$id" error)"
else
	say "case e: DATA never began (queue-run: $(cat "$R/e.qrrc" 2>/dev/null))"
	wait $qr
fi
echo "$(delivered e-1)" >"$R/e.copies0"
t=$(now)
gone $bobacc $((60 * S)); wait $bobacc; echo $? >"$R/e.accrc"
say "case e: Bob's acceptor exited $(el "$t") s after the kill, exit $(cat "$R/e.accrc")"
t=$(now)
"$NET" start B >/dev/null 2>>"$R/e.err" && echo up >"$R/e.up"
say "case e: router B started again, its SAM bridge answering after $(el "$t") s"
t=$(now)
bobstart "$R/bob3.b32"
if waitfile "$R/bob3.b32" $bobacc $((120 * S)); then
	say "case e: Bob's acceptor up again after $(el "$t") s"
	retry "$id" "$E_BOUND" e "$(now)"
else
	say "case e: Bob's acceptor did not come up in $(el "$t") s: $(tail -1 "$R/bob.err")"
fi
echo "$(delivered e-1)" >"$R/e.copies"
f=$(grep -lx "Subject: e-1" "$D/bob/Maildir/new/"* 2>/dev/null | head -1)
test -n "$f" && sed '1,/^$/d' "$f" | md5sum | cut -d' ' -f1 >"$R/e.got"
find "$D/bob/Maildir/tmp" -type f >"$R/e.tmpleft"
creates >"$R/all.creates"
say "all: $(cat "$R/all.creates") SESSION CREATE for Alice's key through the tap"
exit 0
EOS

# keys.sh: 4 destinations from a throw-away router (DEST GENERATE).
write_script keys.sh <<'EOS'
for k in bobweb aliceweb bobmail alicemail; do
	"${NYM_HELPERS:-$H}/samtool" -t 10000 "$SAM_HOST" "$SAM_PORT" generate \
	    >keys/$k.both || exit 1
	sed -n 1p keys/$k.both >keys/$k.pub &&
	sed -n 2p keys/$k.both >keys/$k.priv || exit 1
done
EOS
# b32 PUBFILE: the b32 address of a base64 destination.
b32() {
	python3 -c 'import base64, hashlib, sys
d = base64.b64decode(open(sys.argv[1]).read().split()[0], b"-~")
n = 387 + int.from_bytes(d[385:387], "big")
print(base64.b32encode(hashlib.sha256(d[:n]).digest()).decode().lower().rstrip("=") + ".b32.i2p")' "$1"
}

# One router network at a time (t/lib.sh).
test_i2p_exclusive

test_expect_success 'setup: keys, Alice'"'"'s and Bob'"'"'s homes, .well-known' '
	mkdir keys &&
	"$H/i2pd-lab" -- ./keys.sh >keys/log 2>&1 &&
	mkdir -p alice/.config/nymbox/keys bob/.config/nymbox www-bob/.well-known \
	    www-alice/.well-known &&
	chmod 700 alice/.config/nymbox bob/.config/nymbox &&
	(umask 077 &&
	 cp keys/alicemail.priv alice/.config/nymbox/keys/alice.i2p.key &&
	 cp keys/bobmail.priv bob/.config/nymbox/server.key) &&
	printf "sam-linger = 1800\n" >alice/.config/nymbox/config &&
	echo "$(b32 keys/bobmail.pub) 25" >www-bob/.well-known/i2pmail.key &&
	b32 keys/alicemail.pub >www-alice/.well-known/i2pmail.key
'

test_atexit 'test_stop_holders "$TRASH/alice/.config/nymbox/keys"'
holder_left() {
	read -r p r <alice/.config/nymbox/keys/alice.i2p.key.lock 2>/dev/null &&
	test "$(cat /proc/$p/comm 2>/dev/null)" = sam-holder
}

test_expect_success 'one network start runs cases a-e; no router died (i2p-net 70)' '
	t0=$(date +%s) &&
	test_timeout 1500 "$H/i2p-net" -h bob.i2p=keys/bobweb.pub \
	    -h alice.i2p=keys/aliceweb.pub -- ./inside.sh >net.out 2>net.err
	rc=$?
	echo "$(( $(date +%s) - t0 ))" >net.time
	cat net.err
	test $rc != 70 || { echo "a router died during the run (i2p-net exit 70)"; false; } &&
	test $rc = 0 && test "$(cat res/network)" = three-routers
'
sed 's/^/# /' res/report 2>/dev/null
echo "# i2p-net and all cases: $(cat net.time 2>/dev/null) s"

test_expect_success 'a, b: no router crashed' '
	test_must_be_empty res/a.dead
'

test_expect_success 'b: 5 sam-deliver at once, no holder yet: all delivered, one SESSION CREATE' '
	test "$(cut -d" " -f2 res/b.result | sort -u)" = 0 &&
	test "$(cut -d" " -f3 res/b.result | sort -u)" = 1 &&
	test "$(cat res/b.creates)" = 1
'

test_expect_success 'a: 50 messages through queue-run: each delivered exactly once' '
	test "$(cat res/a.rc)" = 0 &&
	test_must_be_empty res/a.left &&
	test "$(grep -c " 1$" res/a.copies)" = 50
'

test_expect_success 'a: no SESSION CREATE for the 50: ONE for Alice'"'"'s key in a and b' '
	test "$(cat res/a.creates)" = 0 &&
	test "$(wc -l <res/a.dests)" = 1
'

test_expect_success "c: Bob's acceptor restarted: the second flush delivers within $C_BOUND s" '
	cat res/c.attempts
	test "$(cat res/c1.copies)" = 1 &&
	test -s res/c.time && test "$(cat res/c2.copies)" = 1
'

test_expect_success 'd: router A down: the message gets 75 and waits' '
	test "$(cat res/d.downcode)" = 75 && test -f res/d.downqueued
'

test_expect_success 'd: the holder notices its router went away' '
	test -f res/d.holdergone
'

test_expect_success "d: router A back: delivered within $D_BOUND s, once" '
	cat res/d.attempts
	test -f res/d.up && test -s res/d.time && test "$(cat res/d.copies)" = 1
'

test_expect_success 'e: router B killed during DATA: 75, the message waits' '
	test -f res/e.killed && test "$(cat res/e.code)" = 75 &&
	test -f res/e.queued && test "$(cat res/e.copies0)" = 0
'

test_expect_success "e: B back: delivered exactly once within $E_BOUND s, intact" '
	cat res/e.attempts
	test -f res/e.up && test -s res/e.time && test "$(cat res/e.copies)" = 1 &&
	test_cmp res/e.sum res/e.got &&
	test_must_be_empty res/e.tmpleft
'

test_expect_success 'nothing of the run is left running' '
	test -s res/pids &&
	for p in $(cut -d" " -f2 res/pids); do
		! kill -0 $p 2>/dev/null || return 1
	done &&
	for p in /proc/[0-9]*; do
		case $(readlink $p/cwd 2>/dev/null) in
		"$TRASH"|"$TRASH/"*) echo ${p#/proc/} ;;
		esac
	done >left &&
	{ grep -vx "$$" left >left2; test_must_be_empty left2 || { ps -f -p "$(paste -sd, left2)"; false; }; } &&
	! holder_left
'

test_done
