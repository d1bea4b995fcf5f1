#!/bin/sh
# pow-stamp(1): hashcash v1 stamps minted and checked, with real
# hashcash(1) both ways; the verdicts (resource, bits, expiry, the
# future, unknown kinds, spent); the double-spend database under
# concurrent checks, full, purged, damaged and killed.  Equihash stamps
# (-a E1) minted, checked and spent once of eight at once; demands (-D):
# the cheapest kind minted, the schedule's change of date, a deprecated
# kind's surcharge; the minting deadline (-t) and its progress line.
cd "$(dirname "$0")" && . ./lib.sh

command -v hashcash >/dev/null 2>&1 && test_set_prereq HASHCASH

# 2026-12-06 00:00:00 UTC, a day a stamp minted then is dated.
T0=1796515200
DAY=86400
export T0 DAY

test_expect_success 'the day is what the stamps say' '
	test "$(date -u -d @$T0 +%y%m%d%H%M%S)" = 261206000000
'

test_expect_success 'minted: the hashcash v1 form, the resource lowercased' '
	NYMBOX_NOW=$((T0 + 3600)) pow-stamp -m -b 12 Bob@Bob.I2P >s &&
	grep -E "^1:12:261206:bob@bob\.i2p::[A-Za-z0-9+/]{16,}:[A-Za-z0-9+/]{8}$" s &&
	NYMBOX_NOW=$((T0 + 3600)) pow-stamp -m -X -b 0 a@b c@d >two &&
	test_line_count = 2 two &&
	grep -c "^X-Hashcash: 1:0:261206:" two >n && test "$(cat n)" = 2
'

test_expect_success HASHCASH 'hashcash(1) takes our stamps, at several sizes' '
	for b in 0 1 8 16 20; do
		pow-stamp -m -b $b Bob@bob.i2p >s &&
		hashcash -cq -y -b $b -r bob@bob.i2p "$(cat s)" ||
		{ echo "hashcash refused $(cat s)"; return 1; }
	done &&
	pow-stamp -m -b 16 bob@bob.i2p >s &&
	test_expect_code 1 hashcash -cq -y -b 17 -r bob@bob.i2p "$(cat s)"
'

test_expect_success HASHCASH 'we take hashcash(1)s stamps, YYMMDD and YYMMDDhhmmss' '
	hashcash -mq -b 16 bob@bob.i2p >h1 &&
	hashcash -mq -b 12 -e 1m bob@bob.i2p >h2 &&
	grep -E "^1:12:[0-9]{12}:" h2 &&
	pow-stamp -c -b 16 -r bob@bob.i2p -f db "$(cat h1)" &&
	pow-stamp -c -e 1h -b 12 -r bob@bob.i2p -f db "$(cat h2)" &&
	test_expect_code 1 pow-stamp -c -b 17 -r bob@bob.i2p -f db2 "$(cat h1)"
'

# The same verdict as hashcash for every date form and oddity of the
# text, stamps of 0 bits so that only the form and dates count.
test_expect_success HASHCASH 'dates and forms: the verdicts hashcash(1) gives' '
	now=$(date -u +%s) &&
	for d in 26 2612 $(date -u +%y%m%d) $(date -u +%y%m%d%H) \
	    $(date -u +%y%m%d%H%M) $(date -u +%y%m%d%H%M%S) \
	    $(date -u -d @$((now - 29 * DAY)) +%y%m%d) \
	    $(date -u -d @$((now - 31 * DAY)) +%y%m%d) \
	    $(date -u -d @$((now + DAY)) +%y%m%d) \
	    $(date -u -d @$((now + 3 * DAY)) +%y%m%d) \
	    261300 260012 261206Z 2612061 $(date -u +%y%m)00 \
	    991231 000101 700101; do
		for s in "1:0:$d:bob@bob.i2p::abc:def" "1:0:$d:BOB@bob.i2p::a+/=:0" \
		    "1:0:$d:bob@bob.i2p:ext=1;x:abc:def" "1:0:$d:bob@bob.i2p::a.b:def" \
		    "1:0:$d:bob@bob.i2p::abc:" "1:0:$d:other@bob.i2p::abc:def"; do
			hashcash -cq -y -b 0 -r bob@bob.i2p "$s" >/dev/null 2>&1
			hc=$?
			pow-stamp -c -y -b 0 -r bob@bob.i2p "$s" 2>/dev/null
			us=$?
			test "$hc" = "$us" ||
			{ echo "$s: hashcash $hc, pow-stamp $us"; return 1; }
		done
	done
'

test_expect_success 'wrong resource refused, the reason named' '
	pow-stamp -m -b 8 alice@alice.i2p >s &&
	test_expect_code 1 pow-stamp -c -y -b 8 -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "refused stamp 1:8:.*: minted for another resource" err &&
	pow-stamp -c -y -b 8 -r ALICE@alice.i2p "$(cat s)"
'

test_expect_success 'too few bits refused; a claim the hash does not meet is worth nothing' '
	pow-stamp -m -b 8 bob@bob.i2p >s &&
	test_expect_code 1 pow-stamp -c -y -b 9 -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "too little work" err &&
	pow-stamp -c -y -b 8 -r bob@bob.i2p "$(cat s)" &&
	# the claim raised to 9 bits: worth 0 unless its new hash happens
	# to begin with 9 zero bits (then mint again)
	while sed "s/^1:8:/1:9:/" s >s9 &&
	    printf %s "$(cat s9)" | sha1sum | grep -q "^00"; do
		pow-stamp -m -b 8 bob@bob.i2p >s || return 1
	done &&
	test_expect_code 1 pow-stamp -c -y -b 1 -r bob@bob.i2p "$(cat s9)" 2>err &&
	test_grep "too little work" err
'

test_expect_success 'expired after 28 days and the 2-day grace, not before' '
	NYMBOX_NOW=$((T0 + 3600)) pow-stamp -m -b 4 bob@bob.i2p >s &&
	NYMBOX_NOW=$((T0 + 30 * DAY - 1)) pow-stamp -c -y -b 4 -r bob@bob.i2p "$(cat s)" &&
	NYMBOX_NOW=$((T0 + 30 * DAY)) test_expect_code 1 \
	    pow-stamp -c -y -b 4 -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "expired" err &&
	NYMBOX_NOW=$((T0 + 2 * DAY)) test_expect_code 1 \
	    pow-stamp -c -y -e 1d -g 1d -b 4 -r bob@bob.i2p "$(cat s)" &&
	NYMBOX_NOW=$((T0 + 2 * DAY - 1)) \
	    pow-stamp -c -y -e 1d -g 1d -b 4 -r bob@bob.i2p "$(cat s)"
'

test_expect_success 'dated in the future beyond the grace refused' '
	NYMBOX_NOW=$((T0 + 3600)) pow-stamp -m -b 4 bob@bob.i2p >s &&
	NYMBOX_NOW=$((T0 - 2 * DAY)) pow-stamp -c -y -b 4 -r bob@bob.i2p "$(cat s)" &&
	NYMBOX_NOW=$((T0 - 2 * DAY - 1)) test_expect_code 1 \
	    pow-stamp -c -y -b 4 -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "dated in the future" err &&
	NYMBOX_NOW=$((T0 - 1)) test_expect_code 1 \
	    pow-stamp -c -y -g 0 -b 4 -r bob@bob.i2p "$(cat s)"
'

test_expect_success 'a stamp of an unknown kind is reported as such (exit 4), not as bad' '
	test_expect_code 4 pow-stamp -c -y -r bob@bob.i2p \
	    "2:argon2id:m=65536:bob@bob.i2p:xyz" 2>err &&
	test_grep "kind 2 unknown to this version" err &&
	test_expect_code 1 pow-stamp -c -y -r bob@bob.i2p \
	    "2:argon2id:bob@bob.i2p" "1:0:2612061:bob@bob.i2p::a:b" 2>err &&
	test_grep "malformed" err &&
	pow-stamp -m -b 4 bob@bob.i2p >s &&
	pow-stamp -c -y -b 4 -r bob@bob.i2p "mh9:x:y" "$(cat s)" 2>err &&
	test_grep "kind mh9 unknown" err &&
	test_expect_code 1 pow-stamp -c -y -r bob@bob.i2p "no colon at all" &&
	test_expect_code 1 pow-stamp -c -y -r bob@bob.i2p ":1:2"
'

test_expect_success 'fully checked is 0; without -r or -d, 2 (hashcash: unchecked)' '
	pow-stamp -m -b 4 bob@bob.i2p >s &&
	test_expect_code 2 pow-stamp -c -b 4 -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "no -d" err &&
	test_expect_code 2 pow-stamp -c -b 4 -f db "$(cat s)" 2>err &&
	test_grep "no -r" err &&
	pow-stamp -m -b 4 bob@bob.i2p >s &&
	pow-stamp -c -b 4 -r bob@bob.i2p -f db "$(cat s)"
'

test_expect_success 'a spent stamp is refused the second time' '
	pow-stamp -m -b 8 bob@bob.i2p >s &&
	pow-stamp -c -b 8 -r bob@bob.i2p -f spent.db "$(cat s)" &&
	test_expect_code 1 pow-stamp -c -b 8 -r bob@bob.i2p -f spent.db "$(cat s)" 2>err &&
	test_grep "spent already" err &&
	pow-stamp -m -b 8 bob@bob.i2p >s2 &&
	pow-stamp -c -b 8 -r bob@bob.i2p -f spent.db "$(cat s2)"
'

test_expect_success 'the default database is ~/.config/nymbox/pow.db, 0600' '
	pow-stamp -m -b 4 bob@bob.i2p >s &&
	pow-stamp -c -d -b 4 -r bob@bob.i2p "$(cat s)" &&
	test_expect_code 1 pow-stamp -c -d -b 4 -r bob@bob.i2p "$(cat s)" 2>/dev/null &&
	test "$(stat -c %a "$HOME/.config/nymbox/pow.db")" = 600 &&
	test "$(stat -c %s "$HOME/.config/nymbox/pow.db")" = 33554432
'

test_expect_success 'stamps one a line on stdin, and the X-Hashcash fields of a message' '
	pow-stamp -m -b 4 bob@bob.i2p >s &&
	{ echo "1:4:junk"; cat s; } | pow-stamp -c -b 4 -r bob@bob.i2p -f lines.db 2>err &&
	test_grep "malformed" err &&
	pow-stamp -m -X -b 4 alice@alice.i2p bob@bob.i2p >hdr &&
	{ echo "From: alice@alice.i2p"; cat hdr; echo "Subject: hi"; echo;
	  echo "X-Hashcash: $(pow-stamp -m -b 4 bob@bob.i2p)"; } >msg &&
	pow-stamp -c -X -b 4 -r bob@bob.i2p -f x.db <msg 2>err &&
	test_grep "another resource" err &&
	test_expect_code 1 pow-stamp -c -X -b 4 -r bob@bob.i2p -f x.db <msg 2>err &&
	test_grep "spent already" err &&
	printf "From: a@b\n\nX-Hashcash: %s\n" "$(pow-stamp -m -b 4 bob@bob.i2p)" >body &&
	test_expect_code 1 pow-stamp -c -X -b 4 -r bob@bob.i2p -f x.db <body 2>err &&
	test_grep "no stamp" err
'

# Eight processes released at once: each waits for a shared lock on
# a file the test holds exclusively (flock(1)), and the unlock lets
# them all go together.  This is the program end to end; the window a
# missing lock would open is microseconds against milliseconds of
# process start, so the test that fails without the bucket locks is
# t/unit/pow (four processes racing through 10,000 stamps).
race() {
	exec 4>gate && flock -x 4 &&
	for i in 1 2 3 4 5 6 7 8; do
		{ flock -s gate pow-stamp -c -b 0 -r bob@bob.i2p -f race.db "$1" \
		      2>/dev/null 4>&-
		  echo $? >"rc.$i"; } 4>&- &
	done &&
	flock -u 4 && exec 4>&- &&
	wait &&
	cat rc.? | sort | uniq -c | sed "s/^ *//" >counts &&
	printf "1 0\n7 1\n" >want &&
	test_cmp want counts
}

test_expect_success 'of 8 concurrent checks of one stamp exactly one wins, 30 times over' '
	pow-stamp -m -b 0 bob@bob.i2p >first &&
	pow-stamp -c -b 0 -r bob@bob.i2p -f race.db "$(cat first)" &&
	n=0 && while test $n -lt 30; do
		pow-stamp -m -b 0 bob@bob.i2p >s &&
		race "$(cat s)" || return 1
		n=$((n + 1))
	done
'

test_expect_success 'full: the 257th unexpired stamp in a one-bucket file is refused (75)' '
	NYMBOX_NOW=$((T0 + 3600)) && export NYMBOX_NOW &&
	for i in 1 2 3; do
		set -- && for j in $(seq 1 100); do set -- "$@" bob@bob.i2p; done &&
		pow-stamp -m -b 0 "$@" >>many || return 1
	done &&
	head -256 many >fill && sed -n 257p many >last &&
	while read -r s; do
		pow-stamp -c -b 0 -r bob@bob.i2p -s 8K -f full.db "$s" || return 1
	done <fill &&
	test "$(stat -c %s full.db)" = 8192 &&
	test_expect_code 75 pow-stamp -c -b 0 -r bob@bob.i2p -f full.db "$(cat last)" 2>err &&
	test_grep "full" err &&
	test_expect_code 1 pow-stamp -c -b 0 -r bob@bob.i2p -f full.db "$(sed -n 5p fill)" &&
	pow-stamp -p -f full.db >out &&
	echo "256 stamps kept, 0 expired and 0 damaged removed, room for 256" >want &&
	test_cmp want out &&
	unset NYMBOX_NOW
'

test_expect_success 'expired records are reused, and purged' '
	NYMBOX_NOW=$((T0 + 31 * DAY)) && export NYMBOX_NOW &&
	pow-stamp -m -b 0 bob@bob.i2p >s &&
	pow-stamp -c -b 0 -r bob@bob.i2p -f full.db "$(cat s)" &&
	pow-stamp -p -f full.db >out &&
	echo "1 stamps kept, 255 expired and 0 damaged removed, room for 256" >want &&
	test_cmp want out &&
	test "$(stat -c %s full.db)" = 8192 &&
	unset NYMBOX_NOW
'

test_expect_success 'a damaged database: a clear error (75), never a crash' '
	pow-stamp -m -b 0 bob@bob.i2p >s &&
	head -c 8192 /dev/urandom >junk.db &&
	test_expect_code 75 pow-stamp -c -b 0 -r bob@bob.i2p -f junk.db "$(cat s)" 2>err &&
	test_grep "unable to use stamp database junk.db: not one, or damaged" err &&
	pow-stamp -c -b 0 -r bob@bob.i2p -s 16K -f cut.db "$(cat s)" &&
	head -c 12288 cut.db >c && cat c >cut.db &&
	test_expect_code 75 pow-stamp -c -b 0 -r bob@bob.i2p -f cut.db "$(cat s)" 2>err &&
	test_grep "damaged" err &&
	: >empty.db &&
	test_expect_code 75 pow-stamp -c -b 0 -r bob@bob.i2p -f empty.db "$(cat s)" &&
	mkdir dir.db &&
	test_expect_code 75 pow-stamp -c -b 0 -r bob@bob.i2p -f dir.db "$(cat s)" &&
	test_expect_code 75 pow-stamp -p -f junk.db
'

test_expect_success 'records overwritten with garbage count as free, the file still works' '
	pow-stamp -m -b 0 bob@bob.i2p >s &&
	pow-stamp -c -b 0 -r bob@bob.i2p -s 8K -f g.db "$(cat s)" &&
	head -c 4096 g.db >h && head -c 4096 /dev/urandom >r && cat h r >g.db &&
	test_expect_code 0 pow-stamp -c -b 0 -r bob@bob.i2p -f g.db "$(cat s)" &&
	pow-stamp -p -f g.db >out &&
	test_grep "^1 stamps kept, 0 expired and 25[45] damaged removed" out
'

test_expect_success 'killed with SIGKILL at any moment: the file stays usable, nothing spent is lost' '
	pow-stamp -m -b 0 $(seq 1 100 | sed "s/.*/bob@bob.i2p/") >ks &&
	n=0 && while test $n -lt 20; do
		sed -n "$((n * 5 + 1)),$((n * 5 + 5))p" ks >batch &&
		{ while read -r s; do
			pow-stamp -c -b 0 -r bob@bob.i2p -s 64K -f kill.db "$s" &&
			echo "$s" >>taken.$n
		  done <batch; } &
		pid=$! &&
		test_wait_for taken.$n 10 &&
		kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		n=$((n + 1))
	done &&
	cat taken.* >taken &&
	test -s taken &&
	while read -r s; do
		test_expect_code 1 pow-stamp -c -b 0 -r bob@bob.i2p -f kill.db "$s" 2>/dev/null ||
		{ echo "taken again: $s"; return 1; }
	done <taken &&
	pow-stamp -p -f kill.db >out &&
	test_grep " 0 damaged removed" out
'

test_expect_success 'usage errors are 64' '
	test_expect_code 64 pow-stamp -m -b 41 bob@bob.i2p 2>err &&
	test_grep "at most 40" err &&
	test_expect_code 64 pow-stamp -m -a argon2id bob@bob.i2p 2>err &&
	test_grep "unknown algorithm" err &&
	test_expect_code 64 pow-stamp -m "bob bob" 2>err &&
	test_expect_code 64 pow-stamp -m a:b 2>err &&
	test_expect_code 64 pow-stamp -c -e 3x -r a 2>err &&
	test_expect_code 64 pow-stamp -c -d -e 0 -r a x 2>err &&
	test_expect_code 64 pow-stamp -c -s 4K -f x.db x 2>err &&
	test_expect_code 64 pow-stamp -m &&
	test_expect_code 64 pow-stamp -c -m x &&
	pow-stamp --help >out && test_grep "^usage: pow-stamp" out
'

test_expect_success 'E1: minted with -a E1, checked, another resource refused, spent once' '
	pow-stamp -m -a E1 Bob@bob.i2p >e &&
	grep -E "^E1:96:5:0:[0-9]{6}:bob@bob\.i2p:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{96}$" e &&
	pow-stamp -c -y -r bob@bob.i2p "$(cat e)" &&
	test_expect_code 1 pow-stamp -c -y -r alice@bob.i2p "$(cat e)" 2>err &&
	test_grep "minted for another resource" err &&
	pow-stamp -c -r bob@bob.i2p -f e.db "$(cat e)" &&
	test_expect_code 1 pow-stamp -c -r bob@bob.i2p -f e.db "$(cat e)" 2>err &&
	test_grep "spent already" err
'

test_expect_success 'E1: a changed solution, set or version is refused, never taken' '
	pow-stamp -m -a E1 bob@bob.i2p >e &&
	sed "s/:\([A-Za-z0-9+\/]\{95\}\)[A-Za-z0-9+\/]$/:\1A/" e >t1 &&
	if cmp -s e t1; then sed "s/:\([A-Za-z0-9+\/]\{95\}\)[A-Za-z0-9+\/]$/:\1B/" e >t1; fi &&
	test_expect_code 1 pow-stamp -c -y -r bob@bob.i2p "$(cat t1)" 2>err &&
	test_grep "too little work" err &&
	sed "s/^E1:96:5:0:/E1:96:5:1:/" e >t2 &&
	test_expect_code 1 pow-stamp -c -y -r bob@bob.i2p "$(cat t2)" &&
	sed "s/^E1:96:5:/E1:90:5:/" e >t3 &&
	test_expect_code 4 pow-stamp -c -y -r bob@bob.i2p "$(cat t3)" 2>err &&
	test_grep "kind E1:90:5 unknown to this version" err &&
	sed "s/^E1:/E2:/" e >t4 &&
	test_expect_code 4 pow-stamp -c -y -r bob@bob.i2p "$(cat t4)" 2>err &&
	test_grep "kind E2:96:5 unknown" err
'

test_expect_success 'E1: expired after 28 days and the grace, future-dated refused' '
	NYMBOX_NOW=$((T0 + 3600)) pow-stamp -m -a E1 bob@bob.i2p >e &&
	grep "^E1:96:5:0:261206:" e &&
	NYMBOX_NOW=$((T0 + 30 * DAY - 1)) pow-stamp -c -y -r bob@bob.i2p "$(cat e)" &&
	NYMBOX_NOW=$((T0 + 30 * DAY)) test_expect_code 1 \
	    pow-stamp -c -y -r bob@bob.i2p "$(cat e)" 2>err &&
	test_grep "expired" err &&
	NYMBOX_NOW=$((T0 - 2 * DAY - 1)) test_expect_code 1 \
	    pow-stamp -c -y -r bob@bob.i2p "$(cat e)" 2>err &&
	test_grep "dated in the future" err
'

test_expect_success 'of 8 concurrent checks of one E1 stamp exactly one wins, 5 times over' '
	n=0 && while test $n -lt 5; do
		pow-stamp -m -a E1 bob@bob.i2p >s &&
		race "$(cat s)" || return 1
		n=$((n + 1))
	done
'

test_expect_success 'a demand: -m -D mints the cheapest kind it takes, -c -D checks against it' '
	pow-stamp -m -D "E1:96,5:0 1:8" bob@bob.i2p >s &&
	grep "^1:8:" s &&
	pow-stamp -m -D "1:30+4 E1:96,5:0 Z9:whatever" bob@bob.i2p >s &&
	grep "^E1:96:5:0:" s &&
	pow-stamp -c -y -D "1:30+4 E1:96,5:0" -r bob@bob.i2p "$(cat s)" &&
	test_expect_code 1 pow-stamp -c -y -D "1:8" -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "of a kind not demanded" err &&
	test_expect_code 1 pow-stamp -c -y -D "E1:102,5:0" -r bob@bob.i2p "$(cat s)" 2>err &&
	test_grep "of a kind not demanded" err &&
	pow-stamp -m -a 1 -D "E1:96,5:0 1:6+4" bob@bob.i2p >h &&
	grep "^1:10:" h &&
	pow-stamp -c -y -D "E1:96,5:0 1:6+4" -r bob@bob.i2p "$(cat h)" &&
	test_expect_code 1 pow-stamp -c -y -D "E1:96,5:0 1:6+5" -r bob@bob.i2p "$(cat h)" 2>err &&
	test_grep "too little work" err &&
	test_expect_code 64 pow-stamp -m -a E1 -D "1:8" bob@bob.i2p 2>err &&
	test_grep "no kind E1 that this version mints" err &&
	test_expect_code 64 pow-stamp -c -D "1:8>" x 2>err &&
	test_grep "unable to use -D 1:8>: not a demand" err &&
	test_expect_code 64 pow-stamp -c -b 8 -D "1:8" x 2>err &&
	test_expect_code 64 pow-stamp -m -D "1:41" bob@bob.i2p 2>err &&
	test_expect_code 64 pow-stamp -m -D "E1:96,5:13" bob@bob.i2p 2>err &&
	test_grep "at most 12" err
'

# 2027-03-01 00:00:00 UTC: the demand rises from 8 to 9 bits that day.
MAR1=1803859200
test_expect_success 'a schedule: stamps dated before the change need the old value, from it the new' '
	test "$(date -u -d @$MAR1 +%F)" = 2027-03-01 &&
	D="1:8>9@2027-03-01" &&
	NYMBOX_NOW=$((MAR1 - 1)) pow-stamp -m -D "$D" bob@bob.i2p >old &&
	grep "^1:8:270228:" old &&
	NYMBOX_NOW=$((MAR1 + 5 * DAY)) pow-stamp -c -y -D "$D" -r bob@bob.i2p "$(cat old)" &&
	NYMBOX_NOW=$MAR1 pow-stamp -m -D "$D" bob@bob.i2p >new &&
	grep "^1:9:270301:" new &&
	NYMBOX_NOW=$MAR1 pow-stamp -m -b 8 bob@bob.i2p >cheap &&
	NYMBOX_NOW=$MAR1 test_expect_code 1 \
	    pow-stamp -c -y -D "$D" -r bob@bob.i2p "$(cat cheap)" 2>err &&
	test_grep "too little work" err &&
	NYMBOX_NOW=$MAR1 pow-stamp -c -y -D "$D" -r bob@bob.i2p "$(cat new)"
'

test_expect_success 'the minting deadline (-t): exit 75, named, for either kind' '
	test_expect_code 75 pow-stamp -m -t 1 -b 40 bob@bob.i2p >out 2>err &&
	test_must_be_empty out &&
	test_grep "^pow-stamp: unable to mint a stamp for bob@bob.i2p: not done within 1 seconds (-t)$" err &&
	test_expect_code 75 pow-stamp -m -t 1 -a E1 -b 12 bob@bob.i2p 2>err &&
	test_grep "not done within 1 seconds" err &&
	test_expect_code 64 pow-stamp -m -t 0 bob@bob.i2p &&
	test_expect_code 64 pow-stamp -m -t 86401 bob@bob.i2p
'

# The sanitizers reserve terabytes of address space: no ulimit -v there.
case ${NYM_BIN:-} in
*/asan/bin) ;;
*) test_set_prereq NOSAN ;;
esac
test_expect_success NOSAN 'E1: a solver out of memory is a clear error (75), not an abort' '
	test_expect_code 75 sh -c "ulimit -v 30000 && exec pow-stamp -m -a E1 bob@bob.i2p" \
	    >out 2>err &&
	test_must_be_empty out &&
	echo "pow-stamp: unable to mint a stamp for bob@bob.i2p: the Equihash solver failed (out of memory? a solve needs about 60 MB)" >want &&
	test_cmp want err
'

command -v script >/dev/null 2>&1 && test_set_prereq SCRIPT
# A 40-bit stamp takes hours, so the line drawn at 1 s comes before it
# for certain, and the deadline (-t 2) ends the run.
test_expect_success SCRIPT 'a progress line on a terminal only' '
	pow-stamp -m -a E1 -b 2 bob@bob.i2p >s 2>err &&
	test_must_be_empty err &&
	grep "^E1:96:5:2:" s &&
	script -qec "pow-stamp -m -b 40 -t 2 bob@bob.i2p; pow-stamp -m -a E1 -b 2 bob@bob.i2p" /dev/null >tty &&
	test_grep "pow-stamp: minting for bob@bob.i2p: 1 s" tty &&
	test_grep "mint a stamp for bob@bob.i2p: not done within 2 seconds" tty &&
	grep -ao "E1:96:5:2:[A-Za-z0-9+/:@.]*" tty >s2 &&
	test_line_count = 1 s2 &&
	pow-stamp -c -y -D "E1:96,5:2" -r bob@bob.i2p "$(cat s2)"
'

# pow-stamp(1)'s EXAMPLES, claimed here (t/0940-doc-examples.t counts
# this file's claims) and run as written.
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'pow-stamp(1) EXAMPLES run as written' '
	ex ex1 <<-\EOF &&
	stamp=$(pow-stamp -m -b 20 bob@bob.i2p)
	pow-stamp -c -d -b 20 -r bob@bob.i2p "$stamp"
	pow-stamp -c -d -b 20 -r bob@bob.i2p "$stamp" || echo spent
	EOF
	ex ex2 <<-\EOF &&
	hashcash -c -y -b 20 -r bob@bob.i2p "$stamp"
	EOF
	ex ex3 <<-\EOF &&
	pow-stamp -c -X -d -b 20 -r bob@bob.i2p < message
	pow-stamp -p
	EOF
	ex ex4 <<-\EOF &&
	pow-stamp -m -a E1 bob@bob.i2p > stamp
	pow-stamp -c -d -r bob@bob.i2p "$(cat stamp)"
	pow-stamp -m -D '"'"'E1:96,5:0 1:20+4'"'"' bob@bob.i2p
	EOF
	ex ex5 <<-\EOF &&
	pow-stamp -c -d -D '"'"'1:20>22@2027-03-01 E1:96,5:0'"'"' -r bob@bob.i2p < stamps
	EOF
	mkdir -p exhome/w &&
	printf "From: alice@alice.i2p\nX-Hashcash: %s\n\nhi\n" \
	    "$(pow-stamp -m -b 20 bob@bob.i2p)" >exhome/w/message &&
	(cd exhome/w && HOME=$TRASH/exhome && export HOME &&
	 { cat ../../ex1; if command -v hashcash >/dev/null; then cat ../../ex2; fi; } >run &&
	 sh -e run >out 2>err && test "$(cat out)" = spent &&
	 sh -e ../../ex3 >out2 &&
	 grep "^2 stamps kept" out2 &&
	 sh -e ../../ex4 >out4 &&
	 grep "^E1:96:5:0:" out4 && grep "^E1:96:5:0:" stamp &&
	 pow-stamp -m -a E1 bob@bob.i2p >stamps &&
	 sh -e ../../ex5 &&
	 test_expect_code 1 sh -e ../../ex5 2>/dev/null)
'

test_done
