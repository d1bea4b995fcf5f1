#!/bin/sh
# smtp-receive with sender lists and a proof-of-work demand, on
# 127.0.0.1 under socat, Python's smtplib as the sender: a denied
# *@domain refused at RCPT without a word about lists, an unknown sender
# refused without a stamp and taken with one minted by hashcash(1) or by
# pow-stamp, a second use of a stamp refused (also when several
# connections race with it), an allow-listed sender taken without one;
# the demand in EHLO and in the file -W publishes; the 4xx that states it.
# The demand published is the one checked (pow-stamp(1), DEMAND): an
# Equihash (E1) stamp taken where the demand names E1 and refused where it
# names only 1:BITS, a schedule that asks the old bits of stamps dated
# before its step (NYMBOX_NOW), a deprecated kind's surcharge, a demand of
# the longest length whole in EHLO and in the refusal.
cd "$(dirname "$0")" && . ./lib.sh

command -v socat >/dev/null || test_skip_all "socat is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
command -v hashcash >/dev/null 2>&1 && test_set_prereq HASHCASH

test_atexit 'test ! -s socat.pid || kill "$(cat socat.pid)" 2>/dev/null || :'

LISTS=$HOME/.config/nymbox/senders

test_expect_success 'setup: lists, a demand of 1:16, a listener on 127.0.0.1' '
	printf "bob\ncarol\n" >users &&
	cat >conf <<-EOF &&
	local-domains = bob.i2p
	smtp-users = $PWD/users
	smtp-maildir = $PWD/md
	smtp-stamp = 1:16
	EOF
	NYMBOX_CONF=$PWD/conf && export NYMBOX_CONF &&
	sender-list -r bob allow friend@friend.i2p &&
	sender-list -r bob deny "*@spam.i2p" &&
	sender-list -r bob allow boss@spam.i2p &&
	{ socat -d -d TCP-LISTEN:0,bind=127.0.0.1,fork EXEC:smtp-receive \
	    2>socat.err & echo $! >socat.pid; } &&
	test_wait_until "grep -q \" listening on .*127\.0\.0\.1:[1-9]\" socat.err" &&
	sed -n "s/.* listening on .*127\.0\.0\.1:\([0-9]*\)\$/\1/p" socat.err >port &&
	test_line_count = 1 port
'

# send FROM RCPTS [STAMP...]: one message with those X-Hashcash fields;
# exit 0 if taken, else 1 with the server's refusal on stderr.
send() { smtp-stamped "$(cat port)" "$@"; }
count() { find md/new -type f 2>/dev/null | wc -l; }

test_expect_success 'EHLO states the demand as X-STAMP' '
	python3 - "$(cat port)" >ehlo <<-\EOP &&
	import smtplib, sys
	s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
	s.ehlo("localhost")
	print(s.esmtp_features.get("x-stamp"))
	s.quit()
	EOP
	echo 1:16 >want && test_cmp want ehlo
'

test_expect_success 'an unknown sender without a stamp is refused, saying what to mint' '
	test_must_fail send joe@else.i2p bob@bob.i2p 2>err &&
	test_grep "^550 5.7.1 Stamp needed for bob@bob.i2p: X-Hashcash 1:16" err &&
	test "$(count)" = 0
'

test_expect_success HASHCASH 'with a stamp hashcash(1) minted it is taken, once' '
	hashcash -mq -b 16 bob@bob.i2p >stamp &&
	send joe@else.i2p bob@bob.i2p "$(cat stamp)" &&
	test "$(count)" = 1 &&
	test_must_fail send joe@else.i2p bob@bob.i2p "$(cat stamp)" 2>err &&
	test_grep "^550 5.7.1 .*(spent already)" err &&
	test "$(count)" = 1
'

test_expect_success 'with a stamp pow-stamp minted it is taken, once' '
	pow-stamp -m -b 16 Bob@bob.i2p >stamp &&
	send joe@else.i2p BOB@bob.i2p "$(cat stamp)" &&
	test "$(count)" = 2 &&
	test_must_fail send other@else.i2p bob@bob.i2p "$(cat stamp)" 2>err &&
	test_grep "(spent already)" err &&
	test "$(count)" = 2
'

test_expect_success 'too little work, or a stamp for someone else, is no stamp' '
	pow-stamp -m -b 8 bob@bob.i2p >weak &&
	test_must_fail send joe@else.i2p bob@bob.i2p "$(cat weak)" 2>err &&
	test_grep "^550 .*X-Hashcash 1:16" err &&
	pow-stamp -m -b 16 carol@bob.i2p >carol &&
	test_must_fail send joe@else.i2p bob@bob.i2p "$(cat carol)" 2>err &&
	test_grep "(none for this recipient)" err &&
	test "$(count)" = 2
'

test_expect_success 'an allow-listed sender needs no stamp; for another recipient it does' '
	send friend@friend.i2p bob@bob.i2p &&
	send Friend@FRIEND.i2p bob@bob.i2p &&
	test "$(count)" = 4 &&
	test_must_fail send friend@friend.i2p bob@bob.i2p,carol@bob.i2p 2>err &&
	test_grep "Stamp needed for carol@bob.i2p" err &&
	pow-stamp -m -b 16 carol@bob.i2p >carol2 &&
	send friend@friend.i2p bob@bob.i2p,carol@bob.i2p "$(cat carol2)" &&
	test "$(count)" = 5
'

test_expect_success 'a denied *@domain is refused at RCPT, neutrally, even with a stamp' '
	pow-stamp -m -b 16 bob@bob.i2p >stamp &&
	test_must_fail send joe@spam.i2p bob@bob.i2p "$(cat stamp)" 2>err &&
	echo "550 Message refused" >want &&
	sed "s/ 5\.7\.1//" err >got && test_cmp want got &&
	test_grep -v -i "list\|deny" err &&
	test_grep "refused sender joe@spam.i2p for bob@bob.i2p: deny list" socat.err &&
	test "$(count)" = 5 &&
	send boss@spam.i2p bob@bob.i2p &&
	test "$(count)" = 6 &&
	send joe@spam.i2p carol@bob.i2p "$(pow-stamp -m -b 16 carol@bob.i2p)" &&
	test "$(count)" = 7
'

test_expect_success 'one stamp sent by several connections at once is taken once' '
	pow-stamp -m -b 16 bob@bob.i2p >race &&
	for i in 1 2 3 4 5 6; do
		{ send joe@else.i2p bob@bob.i2p "$(cat race)" 2>race.err.$i
		  echo $? >race.t.$i && mv race.t.$i race.rc.$i; } &
	done &&
	test_wait_until "test \$(ls race.rc.* | wc -l) = 6" &&
	cat race.rc.* | sort | uniq -c >rcs &&
	printf "      1 0\n      5 1\n" >want && test_cmp want rcs &&
	test "$(count)" = 8
'

test_expect_success 'a list that cannot be read defers, a bad line is logged with file:line' '
	printf "deny *@spam.i2p\nnonsense\n" >"$LISTS/carol" &&
	test_must_fail send joe@spam.i2p carol@bob.i2p 2>err &&
	test_grep "^550 Message refused\|^550 5.7.1 Message refused" err &&
	test_grep "bad entry in $LISTS/carol:2: expected allow, deny or demand" socat.err &&
	rm "$LISTS/carol" && mkdir "$LISTS/carol" &&
	test_must_fail send joe@spam.i2p carol@bob.i2p 2>err &&
	test_grep "^451 " err &&
	rmdir "$LISTS/carol"
'

crlf() { sed 's/$/\r/' "$@"; }

test_expect_success 'defer: the 4xx states the demand, for senders that mint and retry' '
	printf "EHLO x\nMAIL FROM:<joe@else.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\nSubject: x\n\nx\n.\nQUIT\n" |
	crlf | smtp-receive -Q defer -d md2 -P "1:12 9:whatever" >out &&
	test_grep "^250-X-STAMP 1:12 9:whatever" out &&
	test_grep "^451 4.7.1 Stamp needed for bob@bob.i2p: X-Hashcash 1:12 9:whatever (none for this recipient), mint one and try again" out &&
	test -z "$(ls md2/new)"
'

# direct DEMAND RCPT [STAMP...]: one message from joe@else.i2p into
# smtp-receive -P DEMAND on its standard input, with those X-Hashcash
# fields; the replies in out; exit 0 if it was taken.
direct() {
	d=$1 r=$2 && shift 2 &&
	{ printf "EHLO x\nMAIL FROM:<joe@else.i2p>\nRCPT TO:<%s>\nDATA\n" "$r"
	  for x in "$@"; do printf "X-Hashcash: %s\n" "$x"; done
	  printf "Subject: x\n\nx\n.\nQUIT\n"; } |
	crlf | smtp-receive -P "$d" -d md4 | tr -d "\r" >out &&
	grep -q "^250 2.0.0 Ok" out
}
taken() { find md4/new -type f 2>/dev/null | wc -l; }

test_expect_success 'an Equihash stamp under a demand of 1:16 only is refused, not spent' '
	pow-stamp -m -a E1 bob@bob.i2p >e1 &&
	test_grep "^E1:96:5:0:" e1 &&
	test_must_fail send joe@else.i2p bob@bob.i2p "$(cat e1)" 2>err &&
	test_grep "^550 5.7.1 Stamp needed for bob@bob.i2p: X-Hashcash 1:16 (of a kind not demanded)" err &&
	pow-stamp -m -b 8 bob@bob.i2p >weak2 &&
	test_must_fail send joe@else.i2p bob@bob.i2p "$(cat weak2)" "$(cat e1)" 2>err &&
	test_grep "(too little work)" err &&
	test_must_fail send joe@else.i2p bob@bob.i2p "$(cat e1)" "$(cat weak2)" 2>err &&
	test_grep "(too little work)" err &&
	test "$(count)" = 8
'

test_expect_success 'an Equihash stamp is taken where the demand names E1, for its recipient only' '
	pow-stamp -m -a E1 carol@bob.i2p >e1carol &&
	test_must_fail direct "E1:96,5:0" bob@bob.i2p "$(cat e1carol)" &&
	test_grep "^250-X-STAMP E1:96,5:0\$" out &&
	test_grep "^550 5.7.1 Stamp needed for bob@bob.i2p: X-Hashcash E1:96,5:0 (none for this recipient)\$" out &&
	test "$(taken)" = 0 &&
	direct "E1:96,5:0" bob@bob.i2p "$(cat e1carol)" "$(cat e1)" &&
	test "$(taken)" = 1 &&
	test_must_fail direct "1:20 E1:96,5:0" bob@bob.i2p "$(cat e1)" &&
	test_grep "(spent already)" out &&
	test "$(taken)" = 1
'

test_expect_success 'a schedule: a stamp dated before its step needs the old bits only' '
	before=$(date -u -d 2026-01-08T12:00 +%s) &&
	after=$(date -u -d 2026-01-11T12:00 +%s) &&
	checked=$(date -u -d 2026-01-12T12:00 +%s) &&
	dem="1:8>20@2026-01-10 E1:96,5:0" &&
	NYMBOX_NOW=$before pow-stamp -m -b 8 bob@bob.i2p >old8 &&
	NYMBOX_NOW=$after pow-stamp -m -b 8 bob@bob.i2p >new8 &&
	NYMBOX_NOW=$after pow-stamp -m -b 20 bob@bob.i2p >new20 &&
	test_grep "^1:8:260108:" old8 && test_grep "^1:8:260111:" new8 &&
	NYMBOX_NOW=$checked test_must_fail direct "$dem" bob@bob.i2p "$(cat new8)" &&
	test_grep "^250-X-STAMP $dem\$" out &&
	test_grep "^550 5.7.1 Stamp needed for bob@bob.i2p: X-Hashcash $dem (too little work)" out &&
	NYMBOX_NOW=$checked direct "$dem" bob@bob.i2p "$(cat old8)" &&
	NYMBOX_NOW=$checked direct "$dem" bob@bob.i2p "$(cat new20)" &&
	test "$(taken)" = 3
'

test_expect_success 'a deprecated kind pays its surcharge' '
	dem="E1:96,5:0 1:8+8" &&
	pow-stamp -m -b 8 bob@bob.i2p >s8 &&
	pow-stamp -m -b 16 bob@bob.i2p >s16 &&
	test_must_fail direct "$dem" bob@bob.i2p "$(cat s8)" &&
	test_grep "^250-X-STAMP $dem\$" out &&
	test_grep "^550 5.7.1 Stamp needed for bob@bob.i2p: X-Hashcash $dem (too little work)" out &&
	direct "$dem" bob@bob.i2p "$(cat s16)" &&
	test "$(taken)" = 4
'

test_expect_success 'a demand of the longest length is published and stated whole' '
	dem="1:16 X9:$(printf "%0472d" 0)" &&
	test "${#dem}" = 480 &&
	test_must_fail direct "$dem" bob@bob.i2p &&
	test_grep "^250-X-STAMP $dem\$" out &&
	test_grep "^550-5.7.1 Stamp needed for bob@bob.i2p (none for this recipient)\$" out &&
	test_grep "^550 5.7.1 X-Hashcash $dem\$" out &&
	smtp-receive -P "$dem" -W long.pow &&
	echo "$dem" >want && test_cmp want long.pow &&
	test "$(taken)" = 4
'

test_expect_success '-W publishes the demand, verbatim, beside i2pmail.key' '
	mkdir -p site/.well-known &&
	smtp-receive -W site/.well-known/i2pmail.pow &&
	echo 1:16 >want && test_cmp want site/.well-known/i2pmail.pow &&
	test "$(stat -c %a site/.well-known/i2pmail.pow)" = 644 &&
	smtp-receive -P "1:20 2:x" -W site/.well-known/i2pmail.pow &&
	echo "1:20 2:x" >want && test_cmp want site/.well-known/i2pmail.pow &&
	printf "local-domains = bob.i2p\n" >conf0 &&
	NYMBOX_CONF=$PWD/conf0 smtp-receive -W site/.well-known/i2pmail.pow &&
	test_path_is_missing site/.well-known/i2pmail.pow
'

test_expect_success 'a malformed demand: 78 from the file, 64 from -P' '
	printf "smtp-stamp = 1:161\n" >conf1 &&
	test_expect_code 78 env NYMBOX_CONF=$PWD/conf1 smtp-receive -W x 2>err &&
	test_grep "unable to use smtp-stamp = 1:161: expected a pow-stamp(1) DEMAND of at most 480 bytes" err &&
	test_expect_code 64 smtp-receive -P "2:x" -W x 2>err &&
	test_grep "unable to use -P 2:x: no kind this version checks" err &&
	test_expect_code 64 smtp-receive -P "E1:96,6:0" -W x 2>err &&
	test_grep "no kind this version checks" err &&
	test_expect_code 64 smtp-receive -P "1:8>20@2026-13-01" -W x 2>err &&
	test_grep "expected a pow-stamp(1) DEMAND" err &&
	test_expect_code 64 smtp-receive -P "1:8>20" -W x &&
	test_expect_code 64 smtp-receive -P "1:8+33" -W x &&
	test_expect_code 64 smtp-receive -P "$(printf "1:8\t")" -W x 2>err &&
	test_grep "not printable ASCII on one line" err &&
	test_expect_code 64 smtp-receive -P "1:8 X:$(printf "%0477d" 0)" -W x &&
	test_expect_code 64 smtp-receive -Q maybe -d md </dev/null &&
	test_path_is_missing x
'

test_expect_success 'no demand: no X-STAMP, no stamp asked; lists still apply' '
	printf "EHLO x\nMAIL FROM:<joe@else.i2p>\nRCPT TO:<bob@bob.i2p>\nDATA\nSubject: x\n\nx\n.\nMAIL FROM:<joe@spam.i2p>\nRCPT TO:<bob@bob.i2p>\nQUIT\n" |
	crlf | NYMBOX_CONF=$PWD/conf0 smtp-receive -u users -d md3 >out &&
	test_grep -v "X-STAMP" out &&
	test_grep "^250 2.0.0 Ok" out &&
	test_grep "^550 5.7.1 Message refused" out &&
	test "$(ls md3/new | wc -l)" = 1
'

# smtp-receive(1)'s -W example, claimed here (t/0940-doc-examples.t
# counts this file's claims) and run as written, /home/bob/ being a home
# of the test's.
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'smtp-receive(1) EXAMPLES: the demand published beside i2pmail.key' '
	ex pub <<-\EOF &&
	smtp-receive -W /home/bob/eepsite/.well-known/i2pmail.pow
	EOF
	mkdir -p bobhome/eepsite/.well-known &&
	printf "smtp-stamp = 1:20\n" >bobhome/config &&
	sed "s|/home/bob/|$TRASH/bobhome/|" pub >pub.sh &&
	(HOME=$TRASH/bobhome NYMBOX_CONF=$TRASH/bobhome/config sh -e pub.sh) &&
	echo 1:20 >want &&
	test_cmp want bobhome/eepsite/.well-known/i2pmail.pow
'

test_done
