#!/bin/sh
# pop-fetch against servers that fail it (issue 11, "also hold under
# faults"): one that cuts the connection after every 10th message (a
# reset in the middle of it, or a close right after it), one that
# answers +OK to DELE and QUIT but keeps the mail, one without UIDL, and
# a disk quota that runs out in the middle of a batch.  Over repeated
# runs, as cron makes them, every message must arrive exactly once
# (contents compared), with and without -k, into a maildir, an mbox or a
# command; each cut run exits 75, the run that gets through 0.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

printf 'secret\n' >pw && chmod 600 pw

# 25 messages, one of 150 KB, lines that need dot stuffing and From_
# quoting, each different.
mkdir msgs && for i in $(seq -w 1 25); do
	{ printf 'Subject: message %s\nMessage-ID: <%s@test>\n\n' $i $i
	  printf 'line %s\n.dot line\n..two dots\nFrom the start\n' $i
	  test $i != 07 || head -c 150000 /dev/zero | tr '\0' q
	  printf 'end %s\n' $i; } >msgs/m$i
done

# sums, mboxsums, start NAME ARGS (a pop-script server serving a copy of
# msgs/ in spool.NAME, each NAME once), the tmpfs (full_start, inns,
# fill): t/helpers/pop-lib.sh.
. "$TOP/t/helpers/pop-lib.sh"
sums msgs >want

# pf NAME ARGS: one pop-fetch run against server NAME.
pf() {
	n=$1 && shift &&
	test_timeout 60 pop-fetch -w $(test_scaled 10) \
	    -H 127.0.0.1:$(cat port.$n) -u alice -P pw "$@"
}

# runs NAME ARGS: pop-fetch again and again, as cron would, until a run
# exits 0 (at most 8 runs); the exit codes in codes.NAME, one a line,
# and stderr in err.NAME.
runs() {
	n=$1 && rm -f codes.$n err.$n && k=0 &&
	while test $k -lt 8; do
		pf "$@" 2>>err.$n
		rc=$? && echo $rc >>codes.$n && k=$((k + 1)) &&
		test $rc != 0 || break
	done
}

# cuts NAME: every run but the last exited 75 and the last 0, and at
# least two runs were cut.
cuts() {
	tail -n 1 codes.$1 | grep -qx 0 &&
	sed '$d' codes.$1 | sort -u >c && echo 75 >c75 && test_cmp c75 c &&
	test "$(wc -l <codes.$1)" -ge 3
}

state() {
	echo "$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat port.$1).uidl"
}

for cut in mid after; do
	test_expect_success "cut $cut each 10th message, maildir: exactly once, 75 on each cut run" '
		start md-$cut -c 10 -C '$cut' &&
		runs md-$cut -d md.md-$cut &&
		cuts md-$cut &&
		sums md.md-$cut/new >got && test_cmp want got &&
		test -z "$(ls md.md-$cut/tmp)" &&
		test -z "$(ls spool.md-$cut)" &&
		pf md-$cut -d md.md-$cut &&
		sums md.md-$cut/new >got && test_cmp want got
	'

	test_expect_success "cut $cut each 10th message, maildir, -k: exactly once, all kept" '
		start mdk-$cut -c 10 -C '$cut' &&
		runs mdk-$cut -k -d md.mdk-$cut &&
		cuts mdk-$cut &&
		sums md.mdk-$cut/new >got && test_cmp want got &&
		test "$(ls spool.mdk-$cut | wc -l)" = 25 &&
		! grep "^DELE" log.mdk-$cut &&
		pf mdk-$cut -k -d md.mdk-$cut && pf mdk-$cut -k -d md.mdk-$cut &&
		sums md.mdk-$cut/new >got && test_cmp want got
	'

	test_expect_success "cut $cut each 10th message, mbox: exactly once, 75 on each cut run" '
		start mb-$cut -c 10 -C '$cut' &&
		runs mb-$cut -m mbox.mb-$cut &&
		cuts mb-$cut &&
		mboxsums mbox.mb-$cut >got && test_cmp want got &&
		test -z "$(ls spool.mb-$cut)" &&
		test_path_is_missing mbox.mb-$cut.lock
	'

	test_expect_success "cut $cut each 10th message, mbox, -k: exactly once" '
		start mbk-$cut -c 10 -C '$cut' &&
		runs mbk-$cut -k -m mbox.mbk-$cut &&
		cuts mbk-$cut &&
		pf mbk-$cut -k -m mbox.mbk-$cut &&
		mboxsums mbox.mbk-$cut >got && test_cmp want got &&
		test "$(ls spool.mbk-$cut | wc -l)" = 25
	'
done

test_expect_success 'cut in the middle of each 10th message, command: exactly once' '
	start cmd -c 10 &&
	mkdir got.cmd &&
	runs cmd -p "cat >\"\$(mktemp -p $TRASH/got.cmd)\"" &&
	cuts cmd &&
	sums got.cmd >got && test_cmp want got &&
	! grep POP_FETCH_AGAIN err.cmd
'

# A server that answers +OK to DELE and QUIT and keeps the mail: it
# lists the same unique-ids again in the next session.
test_expect_success 'DELE ignored, maildir: delivered once over five runs, deleted again, said' '
	start liar -l &&
	for k in 1 2 3 4 5; do pf liar -d md.liar 2>err.$k || return 1; done &&
	sums md.liar/new >got && test_cmp want got &&
	test_must_be_empty err.1 &&
	test_grep "unable to delete 25 messages at 127.0.0.1:[0-9]* for good: listed again after the server accepted DELE and QUIT; not delivered again, deleted again" err.5 &&
	test "$(grep -c "^DELE" log.liar)" = 125 &&
	test "$(grep -c "^RETR" log.liar)" = 25 &&
	test "$(ls spool.liar | wc -l)" = 25
'

test_expect_success 'DELE ignored: the state holds a line per listed message, no more' '
	test_must_be_empty "$(state liar)" &&
	gone=$(state liar | sed "s/uidl\$/gone/") &&
	test "$(wc -l <"$gone")" = 25 &&
	test "$(grep -c "^X m[0-9]* [1-9][0-9]*$" "$gone")" = 25
'

test_expect_success 'DELE ignored: a unique-id reused for a message of another size is delivered' '
	printf "Subject: new under an old uid\n\nnew\n" >spool.liar/m03 &&
	pf liar -d md.liar 2>err &&
	test_grep "unable to delete 24 messages" err &&
	{ cat want && sha256sum <spool.liar/m03; } | sort >want2 &&
	sums md.liar/new >got && test_cmp want2 got
'

test_expect_success 'DELE ignored, mbox: delivered once over five runs' '
	start liarmb -l &&
	for k in 1 2 3 4 5; do pf liarmb -m mbox.liarmb 2>/dev/null || return 1; done &&
	mboxsums mbox.liarmb >got && test_cmp want got
'

test_expect_success 'DELE ignored, -k: delivered once over five runs, no DELE, nothing said' '
	start liark -l &&
	for k in 1 2 3 4 5; do pf liark -k -d md.liark 2>err.k$k || return 1; done &&
	sums md.liark/new >got && test_cmp want got &&
	! grep "^DELE" log.liark &&
	test_must_be_empty err.k5
'

test_expect_success 'an honest server that reuses a deleted unique-id: the new message is delivered' '
	start honest &&
	pf honest -d md.honest &&
	test -z "$(ls spool.honest)" &&
	printf "Subject: later\n\nlater, same uid\n" >later &&
	cp later spool.honest/m05 &&
	pf honest -d md.honest 2>err &&
	test_must_be_empty err &&
	{ cat want && sha256sum <later; } | sort >want2 &&
	sums md.honest/new >got && test_cmp want2 got &&
	test -z "$(ls spool.honest)"
'

test_expect_success 'no UIDL: 78, nothing fetched, nothing deleted' '
	start nouidl -U &&
	test_expect_code 78 pf nouidl -d md.nouidl 2>err &&
	test_grep "unable to list messages at 127.0.0.1:[0-9]*: .*(no UIDL: cannot fetch without duplicates)" err &&
	! grep -E "^(RETR|DELE)" log.nouidl &&
	test -z "$(ls md.nouidl/new)" &&
	test "$(ls spool.nouidl | wc -l)" = 25
'

# A tiny disk quota: a 1 MB tmpfs in a private mount namespace (unshare
# -m), so that nothing leaks out of the test, nearly filled; eight
# messages of 100 KB, of which only some fit.
if full_can_mount; then
	test_set_prereq QUOTA
fi

mkdir big && for i in 1 2 3 4 5 6 7 8; do
	{ printf 'Subject: big %d\n\n' $i
	  head -c $((100000 + i)) /dev/zero | tr '\0' z; echo; } >big/b$i
done

# bigstart NAME: a server with the eight big messages.
bigstart() {
	rm -rf spool.$1 && mkdir spool.$1 && cp big/* spool.$1/ &&
	start "$1"
}

# qpf NAME ARGS: pop-fetch inside the namespace.
qpf() {
	n=$1 && shift &&
	inns timeout -k 2 $(test_scaled 60) pop-fetch -w $(test_scaled 10) \
	    -H 127.0.0.1:$(cat port.$n) -u alice -P "$TRASH/pw" "$@"
}

test_expect_success QUOTA 'setup: a 1 MB tmpfs in a private mount namespace' '
	full_start &&
	sums big >wantbig
'

test_expect_success QUOTA 'quota full in the middle of a batch, maildir: the first ones delivered, 75' '
	bigstart qmd &&
	inns mkdir -p "$FULL/md/tmp" "$FULL/md/new" "$FULL/md/cur" &&
	fill 350 &&
	test_expect_code 75 qpf qmd -d "$FULL/md" 2>err &&
	test_grep "unable to write a message in $FULL/md: No space left on device" err &&
	inns ls "$FULL/md/new" >n1 && test "$(wc -l <n1)" -ge 1 &&
	test "$(wc -l <n1)" -lt 8 &&
	test -z "$(inns ls "$FULL/md/tmp")" &&
	test "$(ls spool.qmd | wc -l)" = $((8 - $(wc -l <n1)))
'

test_expect_success QUOTA 'space back: the rest delivered, each exactly once' '
	inns rm -f "$FULL/fill" &&
	qpf qmd -d "$FULL/md" &&
	rm -rf md.q && inns cp -r "$FULL/md" md.q &&
	sums md.q/new >got && test_cmp wantbig got &&
	test -z "$(ls spool.qmd)" &&
	inns rm -rf "$FULL/md"
'

test_expect_success QUOTA 'quota full in the middle, mbox: whole messages only, the rest next run' '
	bigstart qmb &&
	fill 350 &&
	test_expect_code 75 qpf qmb -m "$FULL/mbox" 2>err &&
	test_grep "unable to write $FULL/mbox: No space left on device" err &&
	inns cat "$FULL/mbox" >part &&
	test "$(grep -c "^From MAILER-DAEMON" part)" -ge 1 &&
	test "$(ls spool.qmb | wc -l)" = $((8 - $(grep -c "^From MAILER-DAEMON" part))) &&
	inns rm -f "$FULL/fill" &&
	qpf qmb -m "$FULL/mbox" &&
	inns cat "$FULL/mbox" >all &&
	mboxsums all >got && test_cmp wantbig got &&
	inns rm -f "$FULL/mbox"
'

test_expect_success QUOTA 'state and maildir under one quota: nothing lost, nothing doubled' '
	bigstart qall &&
	inns mkdir -p "$FULL/home" &&
	fill 350 &&
	for k in 1 2 3 4 5 6; do
		env HOME="$FULL/home" nsenter -t "$(cat ns.pid)" -m --wd="$TRASH" -- \
		    timeout -k 2 $(test_scaled 60) pop-fetch -w $(test_scaled 10) \
		    -H 127.0.0.1:$(cat port.qall) -u alice -P "$TRASH/pw" \
		    -d "$FULL/md" 2>>err.qall
		echo $? >>codes.qall
		test $k != 1 || inns rm -f "$FULL/fill"
	done &&
	head -n 1 codes.qall | grep -qx 75 &&
	tail -n 1 codes.qall | grep -qx 0 &&
	rm -rf md.q && inns cp -r "$FULL/md" md.q &&
	sums md.q/new >got && test_cmp wantbig got &&
	test -z "$(ls spool.qall)"
'

test_done
