#!/bin/sh
# The delay queue when things go wrong: a delivery command that hangs
# (killed with its process group after -T, tried again later; one that
# ends within -T is waited for), one that
# outlives a killed queue-run (it must not), overlapping runs, queue-run
# killed with SIGKILL at random moments over many runs (every message
# delivered at least once; the duplicates are counted and bounded), and
# a full disk while enqueueing and while sending (75, nothing
# half-written left visible).  Time is injected with NYMBOX_NOW.
cd "$(dirname "$0")" && . ./lib.sh

command -v queue-run >/dev/null || test_skip_all "queue-run is not built"

T0=1700006400		# 2023-11-15 00:00:00 UTC

. "$TOP/t/helpers/queue-lib.sh"

printf 'From: a@a.i2p\nTo: b@b.i2p\nSubject: s\n\nbody\n' >msg

nothing_queued() {
	test -z "$(find "$1/info" "$1/mess" -type f)"
}

# hang: sleeps (with a child of its own) while the file "hang.on" exists,
# else delivers into out/.
write_script hang <<-EOF
cat >"$TRASH/hang.in"
echo \$\$ >"$TRASH/hang.pid"
if test -f "$TRASH/hang.on"; then
	sleep 300 &
	echo \$! >"$TRASH/hang.kid"
	wait
fi
mkdir -p "$TRASH/out" && cp "$TRASH/hang.in" "$TRASH/out/\$\$"
EOF

test_expect_success 'a command that hangs: killed with its group after -T, tried later' '
	touch hang.on &&
	NYMBOX_NOW=$T0 delay-queue -q Q -m now b@b.i2p -- ./hang <msg &&
	id=$(ls Q/mess) &&
	NYMBOX_NOW=$T0 test_timeout 20 queue-run -q Q -T 1 2>err &&
	cat err &&
	grep "unable to deliver message $id: ./hang timed out after 1 s; next attempt at 2023-11-15T00:05:00Z" err &&
	gone $(cat hang.pid) && gone $(cat hang.kid) &&
	grep "^attempts 1\$" Q/info/$id &&
	grep "^lastcode -1\$" Q/info/$id &&
	rm hang.on &&
	NYMBOX_NOW=$((T0 + 300)) test_timeout 20 queue-run -q Q \
	    -T $(test_scaled 10) &&
	nothing_queued Q && test "$(ls out | wc -l)" = 1
'

test_expect_success 'delivery-timeout from the configuration' '
	rm -rf Q out && touch hang.on &&
	printf "delivery-timeout = 1\n" >conf &&
	NYMBOX_NOW=$T0 delay-queue -q Q -m now b@b.i2p -- ./hang <msg &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 test_timeout 20 queue-run -q Q 2>err &&
	grep "timed out after 1 s" err &&
	gone $(cat hang.kid)
'

# At -T: a command that takes 6.5 s is waited for under -T 10 (3.5 s to
# spare; -T / 2 would kill it) and its delivery counts.
write_script slowcmd <<-EOF
cat >"$TRASH/slow.in"
sleep 6.5
mkdir -p "$TRASH/out" && cp "$TRASH/slow.in" "$TRASH/out/\$\$"
EOF

test_expect_success 'a command that ends within -T is waited for, and its delivery counts' '
	rm -rf Q out &&
	NYMBOX_NOW=$T0 delay-queue -q Q -m now b@b.i2p -- ./slowcmd <msg &&
	start=$(date +%s) &&
	NYMBOX_NOW=$T0 test_timeout 60 queue-run -q Q -T $(test_scaled 10) \
	    2>err &&
	test $(($(date +%s) - start)) -ge 6 &&
	test_must_be_empty err &&
	nothing_queued Q && test "$(ls out | wc -l)" = 1 &&
	grep -x body out/* && grep -x "Subject: s" out/*
'

test_expect_success 'queue-run killed: its delivery command dies with it' '
	rm -rf Q out hang.pid && touch hang.on &&
	NYMBOX_NOW=$T0 delay-queue -q Q -m now b@b.i2p -- ./hang <msg &&
	{ NYMBOX_NOW=$T0 queue-run -q Q -T 100 & echo $! >run.pid; } &&
	test_wait_for hang.pid &&
	kill -9 $(cat run.pid) &&
	gone $(cat hang.pid) &&
	test "$(ls Q/mess | wc -l)" = 1 &&
	test -z "$(ls Q/info)" &&
	rm hang.on &&
	NYMBOX_NOW=$T0 test_timeout 20 queue-run -q Q &&
	nothing_queued Q && test "$(ls out | wc -l)" = 1
'

# gate: the first call waits until a line comes through the FIFO gate.fifo
# (queue-run -j 1 then holds the others behind it).
write_script gate <<-EOF
cat >"$TRASH/gate.in.\$\$"
if mkdir "$TRASH/gate.first" 2>/dev/null; then
	echo started >"$TRASH/gate.started"
	read line <"$TRASH/gate.fifo"
fi
mkdir -p "$TRASH/out" && mv "$TRASH/gate.in.\$\$" "$TRASH/out/\$\$"
EOF

test_expect_success 'overlapping runs: the second exits 0 at once and sends nothing' '
	rm -rf Q out && mkfifo gate.fifo &&
	for i in 1 2 3; do
		NYMBOX_NOW=$T0 delay-queue -q Q -m now b@b.i2p -- ./gate <msg ||
		return 1
	done &&
	{ NYMBOX_NOW=$T0 queue-run -q Q -T 60 -j 1 & echo $! >run.pid; } &&
	test_when_finished "kill $(cat run.pid) 2>/dev/null; true" &&
	test_wait_for gate.started &&
	NYMBOX_NOW=$T0 test_timeout 5 queue-run -q Q 2>err &&
	test_must_be_empty err &&
	test_path_is_missing out &&
	test "$(ls Q/mess | wc -l)" = 3 &&
	NYMBOX_NOW=$T0 test_timeout 5 batch-delay -q Q &&
	echo go >gate.fifo &&
	wait $(cat run.pid) &&
	test "$(ls out | wc -l)" = 3 && nothing_queued Q
'

# sink: delivers a copy into sunk/ (written aside, then renamed: the
# moment of "delivery"); fails with 75 about one time in five unless
# the file "nofail" exists.
write_script sink <<-EOF
cat >"$TRASH/sunk/.in.\$\$" || exit 75
if ! test -f "$TRASH/nofail" &&
    test \$(od -An -N1 -tu1 /dev/urandom) -lt 51; then
	rm -f "$TRASH/sunk/.in.\$\$"
	exit 75
fi
exec mv "$TRASH/sunk/.in.\$\$" "$TRASH/sunk/\$\$.\$(od -An -N6 -tx1 /dev/urandom | tr -d " ")"
EOF

# Each of 25 runs finds 8 new messages (and those that failed before)
# and is killed with SIGKILL at a random moment; a last run sends the
# rest.  timeout(1) --foreground waits for the killed run to be gone;
# without it, timeout kills itself with its process group and returns
# while queue-run may still hold the queue's lock, so that the next run
# finds another run at it and quietly does nothing.  A duplicate needs a
# kill between a delivery and its record, so one kill makes no more
# duplicates than there are deliveries in flight:
# with -j 1 no more duplicates than kills, with -j 4 four times that.  A
# kill between the unlink of a delivered message and of its record in
# info/ leaves the record, which the next run removes; the unlink itself,
# done at once, holds through the kill even though its directory is
# synced only later.
N=200
for J in 1 4; do
test_expect_success "kill -9 at random moments: 25 runs over $N messages, -j $J" '
	rm -rf Q sunk nofail && mkdir sunk &&
	i=0 && kills=0 && seed=$$ &&
	while test $i -lt 25; do
		for j in 1 2 3 4 5 6 7 8; do
			printf "Subject: message %d\n\nbody\n" $((i * 8 + j)) |
			NYMBOX_NOW=$((T0 + i * 1000)) delay-queue -q Q -m now \
			    -f a@a.i2p b@b.i2p -- ./sink || return 1
		done &&
		t=$(awk "BEGIN { srand($seed + $i); printf \"%.3f\", 0.005 + rand() * 0.1 }") &&
		NYMBOX_NOW=$((T0 + i * 1000)) timeout --foreground -s KILL $t \
		    queue-run -q Q -j $J 2>>err
		rc=$?
		# 124: the run ended by itself as its time ran out.
		test $rc = 137 && kills=$((kills + 1))
		test $rc = 0 || test $rc = 124 || test $rc = 137 ||
		{ echo "run $i: exit $rc"; return 1; }
		i=$((i + 1))
	done &&
	touch nofail &&
	NYMBOX_NOW=$((T0 + 100000)) test_timeout 120 queue-run -q Q &&
	test -z "$(find Q/info Q/mess Q/failed -type f)" &&
	grep -h "^Subject:" sunk/* | sort | uniq -c >counts &&
	got=$(wc -l <counts) &&
	total=$(ls sunk | wc -l) &&
	dups=$((total - got)) &&
	echo "delivered $got of $N at least once; $kills of 25 runs killed; $dups duplicates; leftovers: $(ls Q/tmp | wc -l) in tmp/" &&
	test $got = $N &&
	test $dups -le $((kills * J)) &&
	test $(ls Q/tmp | wc -l) -le $((kills * J))
'
done

if test "$(id -u)" = 0 && command -v unshare >/dev/null &&
    mkdir probe && unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$1"' \
    sh "$TRASH/probe" 2>/dev/null; then
	test_set_prereq TMPFS
else
	echo "# skipping the full-disk tests: they need root and unshare -m to mount a small tmpfs"
fi

# infull SCRIPT: run SCRIPT with sh in a mount namespace where fs/ is a
# 64 KB tmpfs; $1 is that directory.
infull() {
	mkdir -p fs && unshare -m sh -c '
		mount -t tmpfs -o size=64k tmpfs "$1" || exit 3
		cd "$1" && shift && eval "$0"' "$1" "$TRASH/fs"
}

head -c 9000 /dev/zero | tr '\0' x >m9 &&
{ printf 'Subject: nine\n\n'; cat m9; } >nine
{ printf 'Subject: big\n\n'; head -c 100000 /dev/zero; } >big

test_expect_success TMPFS 'a full disk while enqueueing: 75, nothing half-written, at any fill level' '
	cat >fill.sh <<-\EOF &&
	out=$TRASH/fill.out; : >$out
	NYMBOX_NOW=1 delay-queue -q Q -m now -f a@a.i2p b@b.i2p -- true <$TRASH/big 2>>$out
	echo "big $? $(find Q -type f ! -name lock | wc -l)" >>$out
	k=0
	while test $k -le 16; do
		rm -rf Q filler
		head -c $((k * 4096)) /dev/zero >filler 2>/dev/null
		NYMBOX_NOW=1 delay-queue -q Q -m now -f a@a.i2p b@b.i2p -- true \
		    <$TRASH/nine 2>>$out
		rc=$?
		n=$(find Q -type f ! -name lock | wc -l)
		same=no
		test $rc != 0 || ! sed "1,/^\$/d" Q/mess/* | cmp -s - $TRASH/nine ||
		    same=yes
		echo "fill $k $rc $n $same" >>$out
		k=$((k + 1))
	done
	EOF
	infull "$(cat fill.sh)" &&
	cat fill.out &&
	grep "^big 75 0\$" fill.out &&
	test "$(grep -c "^fill [0-9]* 0 1 yes\$" fill.out)" -gt 0 &&
	test "$(grep -c "^fill [0-9]* 75 0 no\$" fill.out)" -gt 0 &&
	test "$(grep -c "^fill " fill.out)" = $(( $(grep -c "^fill [0-9]* 0 1 yes\$" fill.out) + $(grep -c "^fill [0-9]* 75 0 no\$" fill.out) )) &&
	grep "unable to write the message in Q/tmp: No space left on device" fill.out
'

test_expect_success TMPFS 'a full disk while sending: nothing lost, sent once there is room' '
	cat >send.sh <<-\EOF &&
	out=$TRASH/send.out; : >$out
	NYMBOX_NOW=1 delay-queue -q Q -m now -f a@a.i2p b@b.i2p -- $TRASH/hang \
	    <$TRASH/nine 2>>$out
	head -c 100000 /dev/zero >filler 2>/dev/null
	NYMBOX_NOW=1 queue-run -q Q 2>>$out
	echo "full $? $(ls Q/mess | wc -l)" >>$out
	rm filler
	NYMBOX_NOW=1 queue-run -q Q 2>>$out
	echo "room $? $(ls Q/mess | wc -l) $(ls Q/info | wc -l)" >>$out
	EOF
	rm -rf out hang.on &&
	infull "$(cat send.sh)" &&
	cat send.out &&
	grep "^full 75 1\$" send.out &&
	grep "^room 0 0 0\$" send.out &&
	test "$(ls out | wc -l)" = 1 &&
	{ printf "Subject: nine\nDate: Thu, 1 Jan 1970 00:00:01 +0000\n\n"; cat m9; } >want &&
	cmp want out/*
'

test_done
