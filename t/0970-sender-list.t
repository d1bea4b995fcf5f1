#!/bin/sh
# sender-list(1): allow and deny entries added, changed, removed and
# listed; check's verdicts and exit codes; where the file lives by
# default; a hand-edited file with bad lines; updates from several
# processes at once that all land while a reader never sees half a file.
cd "$(dirname "$0")" && . ./lib.sh

ONION=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
B32=ejkdz2oe7u7mujb5ahtd5ym4ahz4ncrnxsnllr7ysjaxqxwvy3da.b32.i2p

test_expect_success 'entries added, in their normal form, the file 0600' '
	sender-list -f l allow Friend@Spam.I2P "*@$B32" &&
	sender-list -f l deny "*@spam.i2p." "x@pin.$ONION" &&
	cat >want <<-EOF &&
	allow friend@spam.i2p
	allow *@$B32
	deny *@spam.i2p
	deny x@$ONION
	EOF
	test_cmp want l &&
	sender-list -f l list >out &&
	test_cmp want out &&
	test "$(stat -c %a l)" = 600
'

test_expect_success 'check: the word and the exit code (0 pass, 1 denied)' '
	sender-list -f l check FRIEND@spam.i2p >out && echo allow >want &&
	test_cmp want out &&
	test_expect_code 1 sender-list -f l check joe@spam.i2p >out &&
	echo deny >want && test_cmp want out &&
	sender-list -f l check joe@sub.spam.i2p >out && echo none >want &&
	test_cmp want out &&
	sender-list -f l check anyone@$B32 >out && echo allow >want &&
	test_cmp want out &&
	test_expect_code 1 sender-list -f l check x@other.$ONION &&
	test_expect_code 1 sender-list -q -f l check joe@spam.i2p >out &&
	test_must_be_empty out &&
	sender-list -f l check "" >out && echo none >want && test_cmp want out
'

test_expect_success 'an entry changes its verdict in place, and is removed' '
	sender-list -f l deny friend@spam.i2p &&
	test_expect_code 1 sender-list -q -f l check friend@spam.i2p &&
	head -n 1 l >first && echo "deny friend@spam.i2p" >want &&
	test_cmp want first &&
	sender-list -f l del friend@spam.i2p "*@spam.i2p" &&
	sender-list -f l del nobody@spam.i2p &&
	sender-list -q -f l check joe@spam.i2p &&
	test_line_count = 2 l
'

test_expect_success 'bad addresses and usage are refused before the file changes (check: 2)' '
	cp l before &&
	test_expect_code 64 sender-list -f l allow ok@ok.i2p "not an address" 2>err &&
	test_grep "unable to use not an address: " err &&
	test_cmp before l &&
	long=$(awk "BEGIN { for (i = 0; i < 3; i++) printf \"%063d.\", 0
	    printf \"%057d.\", 0 }") &&
	test_expect_code 64 sender-list -f l deny "*@${long}i2p" 2>err &&
	test_grep "address over 254 bytes" err &&
	printf "deny *@%si2p\n" "$long" >>l &&
	test_expect_code 65 sender-list -f l list >/dev/null 2>err &&
	test_grep "address over 254 bytes" err &&
	sender-list -f l deny "*@${long#0}i2p" &&
	test_expect_code 1 sender-list -q -f l check "x@${long#0}i2p" \
	    2>/dev/null &&
	cp before l &&
	test_expect_code 64 sender-list -f l allow &&
	test_expect_code 2 sender-list -f l check &&
	test_expect_code 2 sender-list -f l check a@b c@d &&
	test_expect_code 64 sender-list -f l block a@b &&
	test_expect_code 64 sender-list -f l -r bob list &&
	test_expect_code 64 sender-list &&
	test_cmp before l
'

test_expect_success 'a hand-edited file: bad lines named by file:line, kept by updates' '
	printf "# mine\n\n  allow   a@a.i2p  \r\nblock b@b.i2p\ndeny c\0d@e.i2p\n" >h &&
	awk "BEGIN { printf \"deny \"; for (i = 0; i < 600; i++) printf \"x\"; print \"@x.i2p\" }" >>h &&
	printf "deny *@f.i2p" >>h &&
	test_expect_code 65 sender-list -f h list >out 2>err &&
	printf "allow a@a.i2p\ndeny *@f.i2p\n" >want && test_cmp want out &&
	test_grep "bad entry in h:4: expected allow, deny or demand" err &&
	test_grep "bad entry in h:5: NUL byte" err &&
	test_grep "bad entry in h:6: line too long" err &&
	test_expect_code 1 sender-list -q -f h check z@f.i2p 2>err &&
	test_grep "h:4" err &&
	cp h h.before &&
	sender-list -f h allow g@g.i2p &&
	{ cat h.before && printf "\nallow g@g.i2p\n"; } >want &&
	cmp want h
'

test_expect_success 'trouble is check exit 2: a directory, a file over 1 MB' '
	mkdir dir &&
	test_expect_code 2 sender-list -f dir check a@b.i2p 2>err &&
	test_grep "unable to read sender list dir" err &&
	head -c 1048577 /dev/zero | tr "\0" "\n" >huge &&
	test_expect_code 2 sender-list -f huge check a@b.i2p 2>err &&
	test_grep "over 1 MB" err &&
	test_expect_code 65 sender-list -f huge list &&
	test_expect_code 65 sender-list -f huge allow a@b.i2p
'

test_expect_success 'by default: ~/.config/nymbox/senders/, the sender key local part' '
	printf "sender = alice@alice.i2p\n" >conf &&
	NYMBOX_CONF=$PWD/conf sender-list deny "*@spam.i2p" &&
	echo "deny *@spam.i2p" >want &&
	test_cmp want "$HOME/.config/nymbox/senders/alice" &&
	test "$(stat -c %a "$HOME/.config/nymbox/senders")" = 700 &&
	NYMBOX_CONF=$PWD/conf sender-list -r Alice@Alice.I2P allow "*@spam.i2p" &&
	echo "allow *@spam.i2p" >want &&
	test_cmp want "$HOME/.config/nymbox/senders/alice@alice.i2p" &&
	NYMBOX_CONF=$PWD/conf sender-list -r alice@alice.i2p check x@spam.i2p &&
	test_expect_code 1 env NYMBOX_CONF=$PWD/conf sender-list -r alice@$B32 check x@spam.i2p &&
	printf "senders-dir = $PWD/lists\n" >conf2 &&
	NYMBOX_CONF=$PWD/conf2 sender-list -r bob allow b@b.i2p &&
	test_path_is_file lists/bob &&
	test_expect_code 64 env NYMBOX_CONF=$PWD/conf2 sender-list list 2>err &&
	test_grep "give -f or -r" err &&
	test_expect_code 64 sender-list -r ../x list
'

test_expect_success 'updates from several processes at once all land; readers see whole files' '
	mkdir r && : >r/race &&
	for p in 1 2 3 4 5 6; do
		(i=0; while test $i -lt 15; do
			sender-list -f r/race deny "p$p-$i@race.i2p" || break
			i=$((i + 1))
		done; echo $i >t.w$p && mv t.w$p rc.w$p) &
	done &&
	# The reader stops at 90 entries, or after a last look once every
	# writer is done (so that no process outlives the test).
	(prev=0; while :; do
		test "$(ls rc.w* 2>/dev/null | wc -l)" = 6 && last=1 || last=
		sender-list -f r/race list >seen ||
		{ echo "a reader saw a bad file"; break; }
		n=$(wc -l <seen)
		test "$n" -ge "$prev" || { echo "went back from $prev to $n"; break; }
		prev=$n
		test "$prev" -ge 90 || test -n "$last" && break
	done; echo $prev >t.reader && mv t.reader rc.reader) &
	test_wait_until "test \$(ls rc.* | wc -l) = 7" &&
	cat rc.w* rc.reader >rcs &&
	printf "15\n15\n15\n15\n15\n15\n90\n" >want && test_cmp want rcs &&
	test_line_count = 90 r/race &&
	test "$(sort -u r/race | wc -l)" = 90 &&
	test "$(ls -A r)" = race
'

# sender-list(1)'s EXAMPLES, claimed here (t/0940-doc-examples.t counts
# this file's claims) and run as written; the procmail recipe by real
# procmail, whose system mailboxes are kept out of reach (DEFAULT).
DX=$TOP/t/helpers/doc-examples
(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"
ex() {
	cat >"$1.want" && "$DX" claim "$TRASH/dx" "$1.want" >"$1"
}

test_expect_success 'README, sender-list(1) EXAMPLES: a domain shut out but for one sender' '
	ex ex0 <<-\EOF &&
	sender-list -r bob deny '"'"'*@spam.i2p'"'"'
	sender-list -r bob allow boss@spam.i2p
	EOF
	mkdir -p exhome &&
	(HOME=$TRASH/exhome && export HOME && sh -e ex0 >out) &&
	test_must_be_empty out &&
	ex ex1 <<-\EOF &&
	sender-list -r bob deny '"'"'*@spam.i2p'"'"'
	sender-list -r bob allow boss@spam.i2p
	sender-list -r bob check joe@spam.i2p || echo refused
	EOF
	mkdir -p exhome &&
	(HOME=$TRASH/exhome && export HOME && sh -e ex1 >out) &&
	printf "deny\nrefused\n" >want && test_cmp want out &&
	printf "deny *@spam.i2p\nallow boss@spam.i2p\n" >want &&
	test_cmp want exhome/.config/nymbox/senders/bob
'

test_expect_success 'sender-list(1) EXAMPLES: the procmail recipe files denied mail apart' '
	ex rc <<-\EOF &&
	FROM=`formail -rtzxTo:`
	VERDICT=`/usr/local/bin/sender-list -r bob check "$FROM"`

	:0
	* VERDICT ?? ^^deny^^
	denied/
	EOF
	mkdir -p pm &&
	sed "s|/usr/local/bin/sender-list|$TOP/bin/sender-list|" rc >pm/rc &&
	# procmail sets HOME from the password file and clears the
	# environment as root: the lists are named on its command line.
	printf "senders-dir = %s\n" "$TRASH/exhome/.config/nymbox/senders" >pm.conf &&
	for who in joe@spam.i2p boss@spam.i2p "Jo <jo@Spam.I2P>" stranger@else.i2p; do
		printf "From: %s\nSubject: hi\n\nhello\n" "$who" |
		HOME=$TRASH/exhome procmail NYMBOX_CONF="$TRASH/pm.conf" DEFAULT="$TRASH/pm/inbox/" \
		    MAILDIR="$TRASH/pm" LOGFILE="$TRASH/pm/log" "$TRASH/pm/rc" ||
		return 1
	done &&
	test "$(ls pm/denied/new | wc -l)" = 2 &&
	test "$(ls pm/inbox/new | wc -l)" = 2 &&
	grep -l "^From: Jo" pm/denied/new/* &&
	grep -l "^From: boss@" pm/inbox/new/* &&
	mv exhome/.config/nymbox/senders/bob bob.moved && mkdir exhome/.config/nymbox/senders/bob &&
	printf "From: joe@spam.i2p\n\nhello\n" |
	HOME=$TRASH/exhome procmail NYMBOX_CONF="$TRASH/pm.conf" DEFAULT="$TRASH/pm/inbox/" \
	    MAILDIR="$TRASH/pm" LOGFILE="$TRASH/pm/log" "$TRASH/pm/rc" &&
	test "$(ls pm/inbox/new | wc -l)" = 3 &&
	rmdir exhome/.config/nymbox/senders/bob && mv bob.moved exhome/.config/nymbox/senders/bob
'

test_done
