#!/bin/sh
# queue-run delivering several messages at once: deliveries overlap up to
# -j in all and -J for one destination (the recipients' domains) and never
# more; a destination that hangs holds none of the others, even with more
# of its messages than queue-run keeps in memory; a timeout kills only its
# own delivery; kill -9 with several deliveries in flight loses nothing and
# sends nothing twice, and at each of its steps loses nothing; -j 1 is the
# old one-at-a-time run; a message that waited for its place is dated when
# it leaves; -r and the configuration keys; sam-deliver run many at once
# borrows one session.  The delivery commands wait for files the test
# creates, never for a time.
cd "$(dirname "$0")" && . ./lib.sh

command -v queue-run >/dev/null || test_skip_all "queue-run is not built"
command -v flock >/dev/null || test_skip_all "flock(1) is missing"

T0=1700006400		# 2023-11-15 00:00:00 UTC

. "$TOP/t/helpers/queue-lib.sh"

# par -f SENDER -- RCPT...: counts itself in, under a lock, in cur (all
# deliveries) and cur.DOMAIN (of its first recipient), keeping the highest
# counts in max and max.DOMAIN, and adds its PID to "started"; if the file
# hold.DOMAIN exists it waits until the file "go" does; then it keeps the
# message's Date field as out/SUBJECT.PID, appends SUBJECT to "order" and
# counts itself out.
write_script par <<-EOF
T="$TRASH"
while test \$# -gt 0 && test "\$1" != --; do shift; done
dom=\${2##*@}
exec 8>"\$T/count.lock"
bump() {
	flock 8
	for f in "" ".\$dom"; do
		n=0; m=0
		test -f "\$T/cur\$f" && read n <"\$T/cur\$f"
		n=\$((n + \$1))
		echo \$n >"\$T/cur\$f"
		test -f "\$T/max\$f" && read m <"\$T/max\$f"
		test \$n -le \$m || echo \$n >"\$T/max\$f"
	done
	test \$1 = -1 || echo \$\$ >>"\$T/started"
	flock -u 8
}
bump 1
if test -f "\$T/hold.\$dom"; then
	while ! test -f "\$T/go"; do sleep 0.05; done
fi
s= d=
while IFS= read -r l; do
	case \$l in
	"Subject: "*) s=\${l#Subject: } ;;
	"Date: "*) d=\$l ;;
	esac
done
mkdir -p "\$T/out" && echo "\$d" >"\$T/out/\$s.\$\$" || exit 75
flock 8 && echo "\$s" >>"\$T/order" && flock -u 8
bump -1
EOF

# clear: no deliveries counted, nothing held, nothing delivered.
clear() {
	reset && rm -f cur* max* started order hold.* go
}

# put SUBJECT "RCPT..." [DELIVERY]: queue a message due now.
put() {
	printf 'Subject: %s\n\nbody\n' "$1" >msg &&
	NYMBOX_NOW=$T0 dq -m now -f a@a.i2p $2 -- ${3:-./par}
}

# delivered N: out/ holds N messages, each once, and nothing is queued.
delivered() {
	test "$(ls out | wc -l)" = "$1" &&
	test "$(ls out | sed 's/\.[0-9]*$//' | sort -u | wc -l)" = "$1" &&
	test -z "$(find Q/mess Q/info -type f)"
}

# bg ARGS...: queue-run ARGS in the background (with the configuration
# $QCONF if set), its PID in run.pid.
bg() {
	env ${QCONF:+NYMBOX_CONF=$QCONF} NYMBOX_NOW=$T0 queue-run -q Q "$@" \
	    2>run.err &
	echo $! >run.pid
	test_when_finished "kill \$(cat run.pid) 2>/dev/null; touch go; true"
}

# runs: the run started by bg has not ended.
runs() {
	alive $(cat run.pid)
}

# ended [SECONDS]: it ends within 30 s or SECONDS, with status 0.
ended() {
	gone $(cat run.pid) ${1:-30} && wait $(cat run.pid)
}

started() {
	test -f started && test "$(wc -l <started)" = "$1"
}

test_expect_success 'deliveries overlap, up to -j and no more' '
	clear && touch hold.a.i2p hold.b.i2p hold.c.i2p hold.d.i2p &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		put m$i u@$(echo abcd | cut -c$((i % 4 + 1))).i2p || return 1
	done &&
	bg -j 5 &&
	test_wait_until "started 5" &&
	test "$(cat cur)" = 5 &&
	touch go && ended &&
	test_must_be_empty run.err &&
	delivered 12 &&
	test "$(cat max)" = 5
'

test_expect_success 'one destination has no more than -J at once' '
	clear && touch hold.a.i2p hold.b.i2p hold.c.i2p &&
	for d in a b c; do
		for i in 1 2 3 4 5; do
			put $d$i u$i@$d.i2p || return 1
		done
	done &&
	bg -j 8 -J 2 &&
	test_wait_until "started 6" &&
	test "$(cat cur)" = 6 &&
	touch go && ended &&
	delivered 15 &&
	test "$(cat max)" = 6 &&
	test "$(cat max.a.i2p) $(cat max.b.i2p) $(cat max.c.i2p)" = "2 2 2"
'

test_expect_success 'a destination is the set of the recipients'"'"' domains' '
	clear && touch hold.a.i2p &&
	put one u@a.i2p && put two v@a.i2p && put three "w@a.i2p x@b.i2p" &&
	bg -J 1 &&
	test_wait_until "started 2" &&
	test "$(cat cur.a.i2p)" = 2 &&
	touch go && ended && delivered 3 &&
	test "$(cat max)" = 2
'

test_expect_success 'a destination that hangs holds none of the others' '
	clear && touch hold.slow.i2p &&
	for i in 1 2 3 4 5 6 7 8; do
		put slow$i u$i@slow.i2p || return 1
	done &&
	for d in a b c d e f; do
		put fast$d u@$d.i2p || return 1
	done &&
	bg -j 4 -J 2 &&
	test_wait_until "test -d out && test \$(ls out | wc -l) = 6" &&
	test_wait_until "test \$(cat cur) = 2" &&
	test "$(cat max.slow.i2p)" = 2 && runs &&
	touch go && ended &&
	delivered 14
'

# Over 4,096 messages to one destination (more than queue-run keeps in
# memory) and a few to another, written straight into mess/: the others
# go while the first hangs, and a second pass over mess/ finds the rest.
write_script fast <<-EOF
T="$TRASH"
test "\${4##*@}" = slow.i2p &&
	while ! test -f "\$T/go"; do sleep 0.05; done
s=
while IFS= read -r l; do
	case \$l in "Subject: "*) s=\${l#Subject: } ;; esac
done
: >"\$T/out/\$s.\$\$"
EOF

test_expect_success 'over 4096 messages to a hung destination' '
	clear && mkdir out &&
	put tmpl u@slow.i2p ./fast && t=$(onlyid) &&
	awk -v t="Q/mess/$t" "
	BEGIN {
		while ((getline l < t) > 0)
			line[n++] = l
		for (i = 1; i <= 4210; i++) {
			id = sprintf(\"%016x\", i)
			f = \"Q/mess/\" id
			d = i <= 10 ? \"ok\" i : \"slow\"
			for (k = 0; k < n; k++) {
				l = line[k]
				if (l ~ /^id /) l = \"id \" id
				else if (l ~ /^rcpt /) l = \"rcpt u@\" d \".i2p\"
				else if (l ~ /^Subject: /) l = \"Subject: m\" i
				print l > f
			}
			close(f)
		}
	}" &&
	rm Q/mess/$t &&
	test "$(ls Q/mess | wc -l)" = 4210 &&
	bg -j 8 -J 4 &&
	test_wait_until "test \$(ls out | wc -l) = 10" && runs &&
	touch go && ended 300 &&
	test_must_be_empty run.err &&
	delivered 4210
'

# leaves: delivers at once but leaves a child of its own behind, its PID
# in leaves.kid.
write_script leaves <<-EOF
cat >/dev/null
sleep 300 >/dev/null 2>&1 &
echo \$! >"$TRASH/leaves.kid"
EOF

test_expect_success 'a timeout kills its own delivery, not the others'"'"' groups' '
	clear && touch hold.slow.i2p &&
	put hung u@slow.i2p && put other u@b.i2p ./leaves &&
	id=$(grep -l "rcpt u@slow.i2p" Q/mess/*) && id=${id#Q/mess/} &&
	test_when_finished "kill \$(cat leaves.kid) 2>/dev/null; true" &&
	T=$(test_scaled 2) &&
	NYMBOX_NOW=$T0 test_timeout 30 queue-run -q Q -T $T 2>err &&
	grep "unable to deliver message $id: ./par timed out after $T s" err &&
	gone $(cat started) &&
	alive $(cat leaves.kid) &&
	test "$(ls Q/mess)" = $id
'

test_expect_success 'kill -9 with deliveries in flight: nothing lost, nothing twice' '
	clear && touch hold.a.i2p hold.b.i2p hold.c.i2p &&
	for d in a b c; do
		for i in 1 2 3; do
			put $d$i u$i@$d.i2p || return 1
		done
	done &&
	for i in 1 2 3; do
		put quick$i u@q$i.i2p || return 1
	done &&
	bg -j 8 -J 2 &&
	test_wait_until "started 9" &&
	test_wait_until "test \$(ls Q/mess | wc -l) = 9" &&
	kill -9 $(cat run.pid) &&
	for p in $(cat started); do gone $p || return 1; done &&
	touch go &&
	test "$(ls out | wc -l)" = 3 &&
	test "$(ls Q/mess | wc -l)" = 9 &&
	NYMBOX_NOW=$T0 test_timeout 30 queue-run -q Q 2>err &&
	test_must_be_empty err &&
	delivered 12
'

# kill -9 at each step of a flush with four deliveries in flight at once
# (to four destinations): nothing is lost, and a message is sent again
# only if its delivery was in flight and done when the kill came, so at
# most twice in all.
test_expect_success STRACE 'kill -9 at each step with four in flight: nothing lost' '
	kills=0 &&
	for c in $CALLS; do
		n=1 &&
		while :; do
			clear &&
			for d in a b c d; do
				put m$d u@$d.i2p || return 1
			done
			NYMBOX_NOW=$T0 killat $c $n queue-run -q Q -j 4 2>/dev/null
			rc=$?
			test $rc = 0 || test $rc = 137 ||
			    { echo "$c #$n: exit $rc"; return 1; }
			for p in $(cat started 2>/dev/null); do
				gone $p || return 1
			done
			NYMBOX_NOW=$T0 queue-run -q Q 2>err || return 1
			test -z "$(find Q/mess Q/info -type f)" &&
			test "$(ls out | sed "s/\.[0-9]*\$//" | sort -u | wc -l)" = 4 ||
			    { echo "$c #$n: lost"; ls out; return 1; }
			test -z "$(ls out | sed "s/\.[0-9]*\$//" | sort | uniq -c |
			    awk "\$1 > 2")" ||
			    { echo "$c #$n: sent three times"; ls out; return 1; }
			test $rc = 137 || break
			kills=$((kills + 1)) n=$((n + 1))
		done || return 1
	done &&
	echo "$kills kills" &&
	test $kills -ge 10
'

test_expect_success '-j 1: one at a time, in the order of mess/' '
	clear &&
	for i in 1 2 3 4 5 6; do
		put m$i u@d$i.i2p || return 1
	done &&
	for f in $(ls -U Q/mess); do
		sed -n "s/^Subject: //p" Q/mess/$f || return 1
	done >want &&
	NYMBOX_NOW=$T0 queue-run -q Q -j 1 &&
	delivered 6 &&
	test "$(cat max)" = 1 &&
	test_cmp want order
'

# The clock, not NYMBOX_NOW: a message that waited for its place is dated
# when it leaves, not when the queue was read.
test_expect_success 'a message that waited for its place is dated when it leaves' '
	clear && touch hold.a.i2p hold.b.i2p &&
	put first u@a.i2p && put second u@b.i2p &&
	{ queue-run -q Q -j 1 2>run.err & echo $! >run.pid; } &&
	test_when_finished "kill \$(cat run.pid) 2>/dev/null; touch go; true" &&
	test_wait_until "started 1" &&
	t1=$(date +%s) &&
	test_wait_until "test \$(date +%s) -gt $t1" &&
	tgo=$(date +%s) && touch go && ended &&
	delivered 2 &&
	last=$(sed -n 2p order) &&
	d=$(sed -n "s/^Date: //p" out/$last.*) &&
	test "$(date -d "$d" +%s)" -ge $tgo
'

test_expect_success '-r delivers its messages at once too' '
	clear && touch hold.a.i2p hold.b.i2p &&
	put a1 u@a.i2p && put a2 v@a.i2p && put b1 u@b.i2p &&
	printf "Subject: later\n\nbody\n" >msg &&
	NYMBOX_NOW=$T0 dq -m defer -f a@a.i2p u@c.i2p -- ./par &&
	bg -J 1 $(for f in Q/mess/*; do echo "-r ${f#Q/mess/}"; done) &&
	test_wait_until "started 3" &&
	test "$(cat cur.a.i2p) $(cat cur.b.i2p)" = "1 1" &&
	touch go && ended &&
	delivered 4 &&
	test "$(cat max.a.i2p)" = 1
'

test_expect_success 'queue-concurrency and queue-destination-concurrency; -j and -J win' '
	clear && touch hold.a.i2p &&
	for i in 1 2 3 4 5 6; do
		put m$i u$i@a.i2p || return 1
	done &&
	printf "queue-concurrency = 3\nqueue-destination-concurrency = 2\n" >conf &&
	QCONF=$PWD/conf bg &&
	test_wait_until "started 2" && test "$(cat cur)" = 2 &&
	touch go && ended && delivered 6 &&
	test "$(cat max)" = 2 &&
	clear && touch hold.a.i2p &&
	for i in 1 2 3 4 5 6; do
		put m$i u$i@a.i2p || return 1
	done &&
	QCONF=$PWD/conf bg -J 4 &&
	test_wait_until "started 3" && test "$(cat cur)" = 3 &&
	touch go && ended && delivered 6 &&
	test "$(cat max)" = 3 &&
	unset QCONF
'

test_expect_success '-j and -J: 1 to 1000' '
	test_expect_code 64 queue-run -q Q -j 0 &&
	test_expect_code 64 queue-run -q Q -J 1001 &&
	test_expect_code 64 queue-run -q Q -j x &&
	printf "queue-concurrency = 0\n" >conf &&
	test_expect_code 78 env NYMBOX_CONF=$PWD/conf queue-run -q Q
'

# Through sam-deliver and the fake SAM bridge (as t/0430 sets them up):
# the deliveries queue-run runs at once borrow one session of the
# sender's key, which the bridge would refuse to make twice.  They all
# wait for the session the first one has the holder make (a second), then
# go together: the receiving server sees its SMTP sessions overlap.
H=$TOP/t/helpers
SAMTOOL=${NYM_HELPERS:-$H}/samtool
if command -v python3 >/dev/null && test -x "$SAMTOOL"; then
	test_set_prereq SAM
fi

stop_sam() {
	test_stop_holders "$HOME/.config/nymbox/keys"
	for p in sam.pid mx0.pid; do
		test ! -f $p || kill $(cat $p) 2>/dev/null
	done
	return 0
}

test_expect_success SAM 'sam-deliver, 20 at once (-s): all delivered over one session' '
	test_atexit stop_sam &&
	mkdir -p "$HOME/.config/nymbox" &&
	printf "sam-gap = 1\n" >"$HOME/.config/nymbox/config" &&
	{ "$H/smtpd" --port-file mx0.port --save mx0.mail --log mx0.log \
	    --max-seconds 300 & echo $! >mx0.pid; } &&
	test_wait_for mx0.port &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds 300 --route mx0.i2p="$(cat mx0.port)" \
	    --session-delay 1 </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	P=$(cat sam.port) &&
	B=$(test_timeout 10 "$SAMTOOL" -t 3000 -c 3000 127.0.0.1 "$P" lookup -b mx0.i2p) &&
	test -n "$B" &&
	clear && i=0 &&
	while test $i -lt 40; do
		printf "Subject: s%d\n\nhello\n" $i >msg &&
		dq -m now -f alice@alice.i2p "bob@$B" -- \
		    sam-deliver -S 127.0.0.1:$P -w 5 || return 1
		i=$((i + 1))
	done &&
	test_timeout 120 queue-run -s -q Q 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	test "$(ls mx0.mail | wc -l)" = 40 &&
	grep "SESSION CREATE" sam.log | grep -v DESTINATION=TRANSIENT >made &&
	test_line_count = 1 made &&
	test "$(grep -c DUPLICATED sam.log)" = 0 &&
	awk "/^EHLO/ { if (++n > m) m = n } /^QUIT/ { n-- } END { print m }" \
	    mx0.log >overlap &&
	test "$(cat overlap)" -gt 1
'

# Without -s, queue-run hands the forty to one sam-deliver -B: one stream,
# one SMTP session, RSET between the messages.
test_expect_success SAM 'sam-deliver batched: forty messages over one stream and one SMTP session' '
	: >mx0.log && had=$(ls mx0.mail | wc -l) && clear && i=0 &&
	while test $i -lt 40; do
		printf "Subject: s%d\n\nhello\n" $i >msg &&
		dq -m now -f alice@alice.i2p "bob@$B" -- \
		    sam-deliver -S 127.0.0.1:$P -w 5 || return 1
		i=$((i + 1))
	done &&
	connects=$(grep -c "STREAM CONNECT" sam.log) &&
	test_timeout 120 queue-run -q Q 2>err &&
	test_must_be_empty err &&
	test -z "$(ls Q/mess)" &&
	test "$(ls mx0.mail | wc -l)" = $((had + 40)) &&
	test "$(grep -c "STREAM CONNECT" sam.log)" = $((connects + 1)) &&
	test "$(grep -c "^EHLO" mx0.log)" = 1 &&
	test "$(grep -c "^MAIL" mx0.log)" = 40 &&
	test "$(grep -c "^RSET" mx0.log)" = 39 &&
	stop_sam
'

test_done
