#!/bin/sh
# delay-queue: every mode's due time (now, defer within its range over
# many draws, batch around 00:00 and 12:00 UTC), the envelope (-f,
# SENDER, From, recipients, -t), the delivery command (after --, from
# the configuration), the queue's files and modes, and what it refuses.
# Time is injected with NYMBOX_NOW.
cd "$(dirname "$0")" && . ./lib.sh

command -v delay-queue >/dev/null || test_skip_all "delay-queue is not built"

T0=1700006400		# 2023-11-15 00:00:00 UTC
H12=43200

cat >msg <<-\EOF
From: Alice <alice@alice.i2p>
To: Bob <bob@bob.i2p>, carol@carol.i2p
Cc: dave@dave.i2p
Bcc: eve@eve.i2p, bob@bob.i2p
Subject: the plan
Date: Mon, 1 Jan 2024 10:00:00 +0100

Meet at noon.
EOF

. "$TOP/t/helpers/queue-lib.sh"

# dq ARGS...: delay-queue into the queue Q, the message from the test's
# own standard input (queue-lib.sh's dq reads msg).
dq() {
	delay-queue -q Q "$@"
}

# body ID: the message of ID, as queued after its record.
body() {
	sed "1,/^\$/d" "Q/mess/$1"
}

# dues: the due times of every message queued.
dues() {
	for f in Q/mess/*; do
		sed -n "/^\$/q; s/^due //p" "$f"
	done
}

# no file in the queue but the lock
nothing_queued() {
	test -z "$(find Q -type f ! -name lock)"
}

test_expect_success 'usage errors exit 64' '
	test_expect_code 64 delay-queue <msg 2>err &&
	grep "^usage: delay-queue" err &&
	test_expect_code 64 delay-queue -m later -- true <msg 2>err &&
	grep "unable to use mode later" err &&
	test_expect_code 64 delay-queue -m now -r 5 -- true <msg &&
	test_expect_code 64 delay-queue -m now -r 9-3 -- true <msg &&
	test_expect_code 64 delay-queue -m now -q Q bob@bob.i2p -- <msg &&
	test_expect_code 64 delay-queue -m now -q Q -f "a b@c" x@y.i2p -- true <msg &&
	test_path_is_missing Q/mess/* 2>/dev/null
'

test_expect_success 'now: due at once, the message byte for byte, files private' '
	NYMBOX_NOW=$T0 dq -m now -f alice@alice.i2p bob@bob.i2p -- deliver -x <msg &&
	id=$(onlyid) &&
	test "$(field $id due)" = $T0 &&
	test "$(field $id queued)" = $T0 &&
	test "$(field $id mode)" = now &&
	test "$(field $id sender)" = alice@alice.i2p &&
	test "$(field $id rcpt)" = bob@bob.i2p &&
	printf "deliver\n-x\n" >want && field $id arg >got && test_cmp want got &&
	body $id >got && test_cmp msg got &&
	test_path_is_missing Q/info/$id &&
	test "$(stat -c %a Q/mess/$id)" = 600 &&
	test "$(stat -c %a Q Q/tmp Q/mess Q/info Q/failed | sort -u)" = 700 &&
	test -z "$(ls -A Q/tmp)"
'

test_expect_success 'the ID is random and says nothing' '
	rm -rf Q &&
	for i in 1 2 3 4 5 6 7 8; do
		NYMBOX_NOW=$T0 dq -m now -f a@a.i2p b@b.i2p -- true <msg || return 1
	done &&
	ls Q/mess >ids &&
	test "$(wc -l <ids)" = 8 &&
	test "$(grep -c "^[0-9a-f]\{16\}\$" ids)" = 8 &&
	test "$(cut -c1-8 ids | sort -u | wc -l)" = 8
'

test_expect_success 'defer: due 2000 to 4000 s later, over 200 draws' '
	rm -rf Q &&
	i=0 && while test $i -lt 200; do
		NYMBOX_NOW=$T0 dq -m defer -f a@a.i2p b@b.i2p -- true <msg ||
		return 1
		i=$((i + 1))
	done &&
	dues | sort -n >dues &&
	test "$(wc -l <dues)" = 200 &&
	lo=$(head -n1 dues) && hi=$(tail -n1 dues) &&
	echo "200 draws from $((lo - T0)) to $((hi - T0)) s" &&
	test $lo -ge $((T0 + 2000)) && test $hi -le $((T0 + 4000)) &&
	test $((hi - lo)) -gt 1000 &&
	test "$(sort -u dues | wc -l)" -gt 150
'

test_expect_success 'defer: -r sets the range; its bounds are reached' '
	rm -rf Q &&
	i=0 && while test $i -lt 60; do
		NYMBOX_NOW=$T0 dq -m defer -r 10-12 -f a@a.i2p b@b.i2p -- true \
		    <msg || return 1
		i=$((i + 1))
	done &&
	dues | sort -n | uniq -c >counts &&
	cat counts &&
	awk -v t=$T0 "{ print \$2 - t }" counts >got &&
	printf "10\n11\n12\n" >want && test_cmp want got
'

test_expect_success 'defer: defer-range from the configuration, -r wins' '
	rm -rf Q &&
	printf "defer-range = 100-100\n" >conf &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m defer -f a@a.i2p b@b.i2p -- true <msg &&
	test "$(field $(onlyid) due)" = $((T0 + 100)) &&
	rm -rf Q &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m defer -r 7-7 -f a@a.i2p b@b.i2p -- true <msg &&
	test "$(field $(onlyid) due)" = $((T0 + 7)) &&
	printf "defer-range = soon\n" >conf &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/conf delay-queue -q Q -m defer \
	    -f a@a.i2p b@b.i2p -- true <msg
'

# batchdue NOW: the due time delay-queue -m batch gives at NOW.
batchdue() {
	rm -rf Q &&
	NYMBOX_NOW=$1 dq -m batch -f a@a.i2p b@b.i2p -- true <msg &&
	field $(onlyid) due
}

test_expect_success 'batch: the next 00:00 or 12:00 UTC, strictly after now' '
	test "$(batchdue $((T0 - 1)))" = $T0 &&
	test "$(batchdue $T0)" = $((T0 + H12)) &&
	test "$(batchdue $((T0 + 1)))" = $((T0 + H12)) &&
	test "$(batchdue $((T0 + H12 - 1)))" = $((T0 + H12)) &&
	test "$(batchdue $((T0 + H12)))" = $((T0 + 2 * H12)) &&
	test "$(batchdue $((T0 + 2 * H12 - 1)))" = $((T0 + 2 * H12)) &&
	rm -rf Q &&
	TZ=Asia/Kolkata NYMBOX_NOW=$((T0 + 3600)) dq -m batch -f a@a.i2p \
	    b@b.i2p -- true <msg &&
	test "$(dues | sort -u)" = $((T0 + H12))
'

test_expect_success 'the listing: id, mode, due time, attempts, recipients, size' '
	rm -rf Q &&
	NYMBOX_NOW=$((T0 - 1)) dq -m batch -f a@a.i2p b@b.i2p c@c.i2p -- true <msg &&
	id=$(onlyid) &&
	queue-run -q Q -l >list &&
	echo "$id batch 2023-11-15T00:00:00Z 0 b@b.i2p,c@c.i2p $(wc -c <msg)" >want &&
	test_cmp want list &&
	test_grep -v -i "plan\|noon\|alice" list
'

test_expect_success '-t: recipients from To, Cc and Bcc, each once' '
	rm -rf Q &&
	NYMBOX_NOW=$T0 dq -m now -t -- true <msg &&
	id=$(onlyid) &&
	printf "%s\n" bob@bob.i2p carol@carol.i2p dave@dave.i2p eve@eve.i2p >want &&
	field $id rcpt >got && test_cmp want got &&
	test "$(field $id sender)" = alice@alice.i2p
'

test_expect_success '-t with arguments: both' '
	rm -rf Q &&
	NYMBOX_NOW=$T0 dq -m now -t "Zed <zed@zed.i2p>" -- true <msg &&
	field $(onlyid) rcpt >got &&
	printf "%s\n" zed@zed.i2p bob@bob.i2p carol@carol.i2p dave@dave.i2p \
	    eve@eve.i2p >want && test_cmp want got
'

test_expect_success 'the sender: -f, then SENDER, then From; <> is the null sender' '
	rm -rf Q &&
	SENDER=s@s.i2p NYMBOX_NOW=$T0 dq -m now -f "<f@f.i2p>" b@b.i2p -- true <msg &&
	test "$(field $(onlyid) sender)" = f@f.i2p && rm -rf Q &&
	SENDER=s@s.i2p NYMBOX_NOW=$T0 dq -m now b@b.i2p -- true <msg &&
	test "$(field $(onlyid) sender)" = s@s.i2p && rm -rf Q &&
	NYMBOX_NOW=$T0 dq -m now b@b.i2p -- true <msg &&
	test "$(field $(onlyid) sender)" = alice@alice.i2p && rm -rf Q &&
	NYMBOX_NOW=$T0 dq -m now -f "<>" b@b.i2p -- true <msg &&
	test "$(field $(onlyid) sender)" = "" && rm -rf Q &&
	printf "Subject: none\n\nx\n" >nofrom &&
	test_expect_code 64 dq -m now b@b.i2p -- true <nofrom 2>err &&
	grep "give the sender" err && nothing_queued
'

test_expect_success 'the delivery command from the configuration, split on blanks' '
	rm -rf Q &&
	printf "delivery = sam-deliver  -k\t/keys/a.key\n" >conf &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now b@b.i2p <msg &&
	printf "sam-deliver\n-k\n/keys/a.key\n" >want &&
	field $(onlyid) arg >got && test_cmp want got &&
	rm -rf Q &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now b@b.i2p -- my-cmd <msg &&
	test "$(field $(onlyid) arg)" = my-cmd && rm -rf Q &&
	printf "delivery = %s\n" "$(seq 1 65 | tr "\n" " ")" >conf &&
	test_expect_code 75 env NYMBOX_CONF=$PWD/conf delay-queue -q Q \
	    -m now b@b.i2p <msg 2>err &&
	grep "^delay-queue: unable to use delivery of $PWD/conf: over 64 words\$" err &&
	nothing_queued
'

# A v3 onion address (a real one; nothing here reaches it).
ONION=duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion

test_expect_success 'no delivery set, or auto: the command follows the network' '
	rm -rf Q && : >conf &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now b@b.i2p <msg &&
	test "$(field $(onlyid) arg)" = sam-deliver && rm -rf Q &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now "bob@$ONION" <msg &&
	test "$(field $(onlyid) arg)" = onion-deliver && rm -rf Q &&
	printf "delivery = auto\ndelivery-onion = onion-deliver -w 60\n" >conf &&
	printf "delivery-i2p = smtp-submit -P /p\n" >>conf &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now "bob@$ONION" <msg &&
	printf "onion-deliver\n-w\n60\n" >want &&
	field $(onlyid) arg >got && test_cmp want got && rm -rf Q &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now b@b.i2p <msg &&
	printf "smtp-submit\n-P\n/p\n" >want &&
	field $(onlyid) arg >got && test_cmp want got && rm -rf Q &&
	printf "delivery = sam-deliver\n" >conf &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 dq -m now "bob@$ONION" \
	    -- auto <msg &&
	test "$(field $(onlyid) arg)" = onion-deliver
'

test_expect_success 'onion and other recipients in one message: refused, 65' '
	rm -rf Q &&
	test_expect_code 65 env NYMBOX_NOW=$T0 delay-queue -q Q -m now \
	    -f a@a.i2p b@b.i2p "bob@$ONION" -- true <msg 2>err &&
	grep "^delay-queue: unable to queue the message: it has .onion and other recipients; send one message to each network\$" err &&
	nothing_queued &&
	printf "To: b@b.i2p, bob@%s\nFrom: a@a.i2p\n\nx\n" "$ONION" >mixed &&
	test_expect_code 65 env NYMBOX_NOW=$T0 delay-queue -q Q -m now -t \
	    -- true <mixed 2>err &&
	grep "it has .onion and other recipients" err && nothing_queued
'

test_expect_success 'the queue: -q, else the configuration, else ~/.config/nymbox/queue' '
	printf "queue = %s/CQ\n" "$PWD" >conf &&
	NYMBOX_CONF=$PWD/conf NYMBOX_NOW=$T0 delay-queue -m now b@b.i2p -- true <msg &&
	test "$(ls CQ/mess | wc -l)" = 1 &&
	NYMBOX_NOW=$T0 delay-queue -m now b@b.i2p -- true <msg &&
	test "$(ls "$HOME/.config/nymbox/queue/mess" | wc -l)" = 1 &&
	test "$(stat -c %a "$HOME/.config/nymbox/queue")" = 700
'

test_expect_success 'refused: bad recipients, no recipients, no valid domain' '
	rm -rf Q &&
	test_expect_code 65 dq -m now -f a@a.i2p "bob@" -- true <msg &&
	test_expect_code 68 dq -m now -f a@a.i2p "bob" -- true <msg &&
	test_expect_code 65 dq -m now -f a@a.i2p "\"b c\"@b.i2p" -- true <msg &&
	test_expect_code 64 dq -m now -f a@a.i2p -- true <msg 2>err &&
	grep "no recipients" err &&
	nothing_queued
'

test_expect_success 'refused with 65: an empty message, a header over the limits' '
	rm -rf Q &&
	test_expect_code 65 dq -m now -f a@a.i2p b@b.i2p -- true </dev/null &&
	{ printf "Subject: "; head -c 300000 /dev/zero | tr "\0" x; printf "\n\nx\n"; } >big &&
	test_expect_code 65 dq -m now -f a@a.i2p b@b.i2p -- true <big 2>err &&
	grep "header over the limits" err &&
	nothing_queued
'

test_expect_success 'refused with 65: a message over 50 MB, nothing left' '
	rm -rf Q &&
	{ printf "Subject: s\n\n"; head -c 52428800 /dev/zero; } >huge &&
	test_expect_code 65 dq -m now -f a@a.i2p b@b.i2p -- true <huge 2>err &&
	grep "over 52428800 bytes" err &&
	nothing_queued &&
	rm huge
'

test_expect_success 'a malformed NYMBOX_NOW is a usage error' '
	test_expect_code 64 env NYMBOX_NOW=yesterday delay-queue -q Q -m now \
	    -f a@a.i2p b@b.i2p -- true <msg
'

test_expect_success UNPRIV 'an unwritable queue: 75 (a set-up mistake never bounces)' '
	test_unprivileged_dir U && cp msg "$U/" && cd "$U" &&
	test_unprivileged mkdir RO &&
	test_unprivileged delay-queue -q RO/q -m now -f a@a.i2p \
	    b@b.i2p -- true <msg &&
	test "$(ls RO/q/mess | wc -l)" = 1 &&
	test_unprivileged chmod 500 RO &&
	test_expect_code 75 test_unprivileged delay-queue -q RO/q2 -m now \
	    -f a@a.i2p b@b.i2p -- true <msg 2>err &&
	test_grep "unable to create queue RO/q2: Permission denied" err &&
	test_path_is_missing RO/q2
'

test_done
