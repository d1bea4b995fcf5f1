#!/bin/sh
# Errors name the component and the fix: the SAM bridge that cannot be
# reached (sam-deliver, sam-accept), an .i2p name given where a tunnel
# address belongs (pop-fetch, smtp-submit: a usage error, never a DNS
# lookup), a secret file others can read (one message everywhere), the
# configuration file to set a key in.  scrub-headers -c exits 2 on every
# error.  A reader that goes away is a failed write, 75 and one line,
# never a death by SIGPIPE (141).
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
SAMTOOL=${NYM_HELPERS:-$H}/samtool
! test -x "$SAMTOOL" || test_set_prereq SAMTOOL

printf 'From: Alice <alice@alice.i2p>\nTo: Bob <bob@bob.i2p>\nSubject: t\n\nbody\n' >msg
printf 'secret\n' >pw && chmod 600 pw
HINT="(is i2pd running with SAM enabled? -S or SAM_HOST/SAM_PORT)"

# A port where nothing listens: bound by the kernel, then given up.
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

test_expect_success SAMTOOL 'setup: a SAM key, made by the fake bridge' '
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid \
	    --max-seconds 30 </dev/null & } &&
	test_when_finished "kill \$(cat sam.pid) 2>/dev/null; true" &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_timeout 10 "$SAMTOOL" 127.0.0.1 "$(cat sam.port)" generate >gen &&
	sed -n 2p gen >k.key && chmod 600 k.key && test -s k.key
'

test_expect_success 'sam-deliver, the bridge down, no key yet: the bridge and the fix' '
	test_expect_code 75 sam-deliver -S 127.0.0.1:$DEAD -k new.key \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	echo "sam-deliver: unable to reach the SAM bridge at 127.0.0.1:$DEAD to create the sender'\''s key new.key $HINT: Connection refused" >want &&
	test_cmp want err
'

test_expect_success SAMTOOL 'sam-deliver, the bridge down, SAM_PORT: the bridge and the fix' '
	test_expect_code 75 env SAM_PORT=$DEAD sam-deliver -k k.key \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	echo "sam-deliver: unable to reach the SAM bridge at 127.0.0.1:$DEAD $HINT: Connection refused" >want &&
	test_cmp want err
'

test_expect_success SAMTOOL 'sam-accept, the bridge down: named, with the fix' '
	test_expect_code 75 sam-accept -S 127.0.0.1:$DEAD -k k.key true 2>err &&
	echo "sam-accept: unable to reach the SAM bridge at 127.0.0.1:$DEAD $HINT: Connection refused" >want &&
	test_cmp want err &&
	test_expect_code 75 sam-accept -S 127.0.0.1:$DEAD -k new.key true 2>err &&
	test_grep "^sam-accept: unable to reach the SAM bridge at 127.0.0.1:$DEAD to create the key new.key" err
'

test_expect_success SAMTOOL 'sam-accept, the bridge gone while accepting: named' '
	rm -f sam.port sam.pid &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid \
	    --max-seconds 30 </dev/null & } &&
	test_when_finished "kill \$(cat sam.pid) 2>/dev/null; true" &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	timeout -k 2 30 sam-accept -S 127.0.0.1:$(cat sam.port) -k k.key \
	    true >b32 2>err &
	echo $! >sa.pid &&
	test_when_finished "kill \$(cat sa.pid) 2>/dev/null; true" &&
	test_wait_for b32 &&
	kill "$(cat sam.pid)" &&
	{ wait "$(cat sa.pid)"; echo $? >rc; } &&
	test "$(cat rc)" = 75 &&
	# whichever it sees first: the accept cut, or the session socket closed
	test_grep -E "^sam-accept: unable to (accept a stream from|keep the session at) the SAM bridge at 127.0.0.1:[0-9]*" err
'

test_expect_success 'pop-fetch -H NAME.i2p:110: 64, no lookup, the tunnel address' '
	test_expect_code 64 pop-fetch -H pop.postman.i2p:110 -u alice -P pw \
	    -d md 2>err &&
	test_grep "^pop-fetch: unable to use server pop.postman.i2p:110: .i2p and .onion names are never looked up here (DNS would learn them); give the I2P tunnel.s address, e.g. -H 127.0.0.1:7660, or use -s (I2P) or -o (Tor)\$" err &&
	test_expect_code 64 pop-fetch -H HIDDEN.ONION:110 -u alice -P pw \
	    -d md 2>err &&
	test_grep "never looked up" err &&
	printf "pop-host = pop.postman.i2p:110\n" >pconf &&
	test_expect_code 78 env NYMBOX_CONF=$PWD/pconf pop-fetch -u alice \
	    -P pw -d md 2>err &&
	test_grep "never looked up" err
'

test_expect_success 'smtp-submit -H NAME.i2p:25: 64, the tunnel address' '
	test_expect_code 64 smtp-submit -H smtp.postman.i2p:25 -P pw \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "give the I2P tunnel.s address, e.g. 127.0.0.1:7659, or the destination with -s\$" err
'

test_expect_success 'a secret file others can read: one message, with the fix, everywhere' '
	cp pw pw644 && chmod 644 pw644 &&
	fix="readable by others: chmod 600 pw644" &&
	mbox-encrypt -g -P pw -k in.pub -K in.key &&
	test_expect_code 78 mbox-encrypt -x -P pw644 -K in.key </dev/null 2>err &&
	test_grep "^mbox-encrypt: unable to read password file pw644: $fix\$" err &&
	test_expect_code 78 setsid -w pop-fetch -H 127.0.0.1:$DEAD -u alice \
	    -P pw644 -d md 2>err &&
	test_grep "^pop-fetch: unable to read password file pw644: $fix\$" err &&
	test_expect_code 75 smtp-submit -H 127.0.0.1:$DEAD -P pw644 \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "^smtp-submit: unable to read password file pw644: $fix\$" err &&
	printf "0123456789abcdef0123456789abcdef" >s644 && chmod 644 s644 &&
	test_expect_code 75 scrub-headers -K s644 <msg 2>err &&
	test_grep "^scrub-headers: unable to use key s644: readable by others: chmod 600 s644\$" err &&
	printf "alice:x\n" >a644 && chmod 644 a644 &&
	test_expect_code 78 smtp-receive -l bob.i2p -a -d md -A a644 </dev/null 2>err &&
	test_grep "^smtp-receive: unable to use password file a644: readable by others: chmod 600 a644\$" err
'

test_expect_success SAMTOOL 'a SAM key others can read: the same message' '
	cp k.key k644.key && chmod 644 k644.key &&
	test_expect_code 75 sam-deliver -S 127.0.0.1:$DEAD -k k644.key \
	    -f alice@alice.i2p bob@bob.i2p <msg 2>err &&
	test_grep "^sam-deliver: unable to read the sender.s key k644.key: readable by others: chmod 600 k644.key\$" err &&
	test_expect_code 78 sam-accept -S 127.0.0.1:$DEAD -k k644.key true 2>err &&
	test_grep "^sam-accept: unable to read the key k644.key: readable by others: chmod 600 k644.key\$" err
'

test_expect_success 'a delivery setting that cannot be used names the file read' '
	mkdir -p "$HOME/.config/nymbox" &&
	test_when_finished "rm -f \"$HOME/.config/nymbox/config\"" &&
	printf "delivery-i2p = %s\n" "$(seq 1 65 | tr "\n" " ")" >"$HOME/.config/nymbox/config" &&
	test_expect_code 75 delay-queue -q Q -m now -f a@a.i2p b@b.i2p <msg 2>err &&
	test_grep "^delay-queue: unable to use delivery-i2p of $HOME/.config/nymbox/config: over 64 words\$" err
'

test_expect_success 'scrub-headers -c exits 2 on every error, as its page says' '
	test_expect_code 2 scrub-headers -c -Z <msg &&
	test_expect_code 2 scrub-headers -Z -c <msg &&
	test_expect_code 2 scrub-headers -c -r soon <msg &&
	test_expect_code 2 scrub-headers -c extra <msg &&
	test_expect_code 2 scrub-headers -c -p nothere <msg &&
	printf "scrub-round = soon\n" >c1 &&
	test_expect_code 2 env NYMBOX_CONF=$PWD/c1 scrub-headers -c <msg 2>err &&
	test_grep "scrub-round = soon in $PWD/c1" err &&
	echo "no equals" >c2 &&
	test_expect_code 2 env NYMBOX_CONF=$PWD/c2 scrub-headers -c <msg &&
	test_expect_code 1 scrub-headers -c <msg &&
	test_expect_code 64 scrub-headers -Z <msg &&
	test_expect_code 64 scrub-headers --c <msg
'

# closed PROG ARGS: run it into a reader that takes one byte and goes;
# its exit status in rc, its stderr in err.
closed() {
	rm -f rc err &&
	{ "$@" 2>err; echo $? >rc; } | head -c1 >/dev/null &&
	test_wait_for rc
}

test_expect_success 'resolve-maildest into a closed pipe: 75 and one line, not 141' '
	b=$(printf "a%.0s" $(seq 52)).b32.i2p &&
	closed resolve-maildest -n $(for i in $(seq 2000); do echo u$i@$b; done) &&
	test "$(cat rc)" = 75 &&
	echo "resolve-maildest: unable to write the result: Broken pipe" >want &&
	test_cmp want err
'

test_expect_success 'scrub-headers and mbox-encrypt -x into a closed pipe: 75' '
	{ cat msg && seq 100000; } >big &&
	printf "0123456789abcdef0123456789abcdef" >key && chmod 600 key &&
	closed scrub-headers -K key <big &&
	test "$(cat rc)" = 75 && test_grep "Broken pipe" err &&
	mbox-encrypt -k in.pub <big >big.e &&
	closed mbox-encrypt -x -P pw -K in.key big.e &&
	test "$(cat rc)" = 75 && test_grep "Broken pipe" err
'

test_expect_success 'queue-run -l into a closed pipe: 75' '
	# over 100 kB: more than a pipe holds, whenever the reader goes
	for i in $(seq 1000); do echo "recipient-number-$i@b.i2p"; done >rcpts &&
	for n in 1 2 3 4; do
		delay-queue -q Q2 -m batch -f a@a.i2p $(cat rcpts) -- true <msg ||
		return 1
	done &&
	closed queue-run -q Q2 -l &&
	test "$(cat rc)" = 75 && test_grep "unable to write the listing" err
'

test_expect_success 'NYMBOX_NOW is read one way: one refusal in every program' '
	for p in scrub-headers resolve-maildest delay-queue queue-run \
	    sam-deliver smtp-submit mbox-encrypt; do
		test_expect_code 64 env NYMBOX_NOW=yesterday $p <msg 2>err &&
		echo "$p: unable to use NYMBOX_NOW yesterday: expected seconds since the epoch" >want &&
		test_cmp want err || return 1
	done &&
	test_expect_code 64 env NYMBOX_NOW=17000000000000 scrub-headers <msg 2>err &&
	test_grep "NYMBOX_NOW 17000000000000: expected seconds" err
'

test_expect_success '-S host:port: one parser, one message, 64 everywhere' '
	for p in resolve-maildest sam-accept sam-deliver smtp-submit; do
		for a in 127.0.0.1:x 127.0.0.1: :7656 127.0.0.1:0 127.0.0.1:65536 \
		    127.0.0.1:+7656 127.0.0.1; do
			test_expect_code 64 $p -S $a a@b.i2p <msg 2>err &&
			echo "$p: unable to use -S $a: expected host:port" >want &&
			test_cmp want err || return 1
		done
	done
'

test_expect_success 'a bad number in the configuration is 78 naming the key, as an option is 64' '
	printf "scrub-round = soon\n" >c3 &&
	test_expect_code 78 env NYMBOX_CONF=$PWD/c3 scrub-headers -i <msg 2>err &&
	echo "scrub-headers: unable to use scrub-round = soon in $PWD/c3: expected 0 to 31622400" >want &&
	test_cmp want err &&
	test_expect_code 64 scrub-headers -i -r soon <msg 2>err &&
	echo "scrub-headers: unable to use -r soon: expected 0 to 31622400" >want &&
	test_cmp want err &&
	for k in delivery-timeout queue-lifetime queue-concurrency \
	    queue-destination-concurrency; do
		printf "%s = soon\n" $k >c4 &&
		test_expect_code 78 env NYMBOX_CONF=$PWD/c4 queue-run -q Q3 -l 2>err &&
		test_grep "^queue-run: unable to use $k = soon in $PWD/c4: expected" err ||
		return 1
	done &&
	test_expect_code 64 queue-run -q Q3 -j soon 2>err &&
	test_grep "^queue-run: unable to use -j soon: expected 1 to" err
'

test_done
