#!/bin/sh
# delay-queue's limits at the limit and one past it (delay-queue(1),
# CAVEATS and EXIT STATUS; the values are lib/limits.h's): 1000
# recipients are queued, 1001 refused with 65 and nothing queued; a
# message of exactly 52428800 bytes (NYM_QUEUE_SIZE) is queued whole
# (0800 has the one past it).
cd "$(dirname "$0")" && . ./lib.sh

command -v delay-queue >/dev/null || test_skip_all "delay-queue is not built"

# rcpts N: N distinct addresses.
rcpts() {
	i=1
	while test $i -le "$1"; do
		echo "r$i@b.i2p"
		i=$((i + 1))
	done
}

queued() { ls Q/mess 2>/dev/null | wc -l; }

test_expect_success '1000 recipients are queued' '
	printf "Subject: s\n\nhi\n" >msg &&
	delay-queue -q Q -m now -f a@a.i2p $(rcpts 1000) -- true <msg &&
	test $(queued) = 1 &&
	for r in r1@b.i2p r1000@b.i2p; do grep -q "$r" Q/mess/*; done
'

test_expect_success '1001 are refused with 65, nothing queued' '
	rm -rf Q &&
	test_expect_code 65 delay-queue -q Q -m now -f a@a.i2p $(rcpts 1001) \
	    -- true <msg 2>err &&
	grep "^delay-queue: unable to queue: over 1000 recipients" err &&
	test $(queued) = 0
'

test_expect_success 'a message of exactly 52428800 bytes is queued whole' '
	rm -rf Q &&
	{ printf "Subject: s\n\n"; head -c $((52428800 - 12)) /dev/zero |
	    tr "\0" x; } >big &&
	test $(wc -c <big) = 52428800 &&
	delay-queue -q Q -m now -f a@a.i2p b@b.i2p -- true <big &&
	test $(queued) = 1 &&
	sed "1,/^\$/d" Q/mess/* | tail -c 52428788 >got &&
	tail -c 52428788 big | cmp - got
'

test_done
