#!/bin/sh
# pop-fetch on a full disk: a small tmpfs, mounted in a private mount
# namespace (unshare -m) so that nothing leaks out of the test, filled up;
# then the maildir, the mbox, or the state and spool (HOME) live on it.
# Each time pop-fetch must exit 75, leave the mail on the server and
# nothing partial where a reader could see it; once space is back, every
# message is delivered exactly once.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
command -v unshare >/dev/null && command -v nsenter >/dev/null ||
	test_skip_all "unshare and nsenter (util-linux) are missing"

# sums, labcount, the tmpfs (full_start, inns, fill): t/helpers/pop-lib.sh.
. "$TOP/t/helpers/pop-lib.sh"
full_can_mount ||
	test_skip_all "cannot mount a tmpfs in a private mount namespace (needs root or CAP_SYS_ADMIN)"

printf 'secret\n' >pw && chmod 600 pw

# Two messages of 100 KB and more, so that a write runs out in the middle.
mkdir msgs && for i in 1 2; do
	{ printf 'Subject: big %d\n\n' $i
	  head -c $((100000 + i)) /dev/zero | tr '\0' z; echo; } >msgs/$i
done

pf() {
	inns timeout $(test_scaled 30) pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) -u alice \
	    -P "$TRASH/pw" "$@"
}

unfill() {
	inns rm -f "$FULL/fill"
}

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1 || :'

test_expect_success 'setup: dovecot; a 1 MB tmpfs in a private mount namespace' '
	dovecot-lab start lab alice:secret &&
	full_start &&
	! grep -q " $FULL tmpfs " /proc/mounts
'

test_expect_success 'maildir on a full disk: 75, nothing in new/ or tmp/, mail kept' '
	inns mkdir -p "$FULL/md/tmp" "$FULL/md/new" "$FULL/md/cur" &&
	dovecot-lab put lab alice msgs/* &&
	fill 16 &&
	test_expect_code 75 pf -d "$FULL/md" 2>err &&
	grep "unable to write a message in $FULL/md: No space left on device" err &&
	test -z "$(inns find "$FULL/md" -type f)" &&
	test "$(labcount)" = 2 &&
	test_grep -v "^D " "$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat lab/port).uidl"
'

test_expect_success 'space back: each message delivered once' '
	unfill &&
	pf -d "$FULL/md" &&
	inns cp -r "$FULL/md" md1 &&
	sums msgs >want && sums md1/new >got && test_cmp want got &&
	test "$(labcount)" = 0 &&
	pf -d "$FULL/md" && inns ls "$FULL/md/new" >n && test_line_count = 2 n
'

test_expect_success 'mbox on a full disk: 75, the mbox exactly as it was, no lock left' '
	printf "From a Mon Nov 23 00:00:00 2026\nSubject: old\n\nold\n\n" >before &&
	inns cp before "$FULL/mbox" &&
	dovecot-lab put lab alice msgs/* &&
	fill 48 &&
	if command -v strace >/dev/null; then
		trace="strace -o $TRASH/trace -e trace=write,ftruncate"
	else
		trace=
	fi &&
	test_expect_code 75 inns env \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    timeout $(test_scaled 30) $trace pop-fetch -w $(test_scaled 5) \
	    -H 127.0.0.1:$(cat lab/port) -u alice -P "$TRASH/pw" \
	    -m "$FULL/mbox" 2>err &&
	grep "unable to write $FULL/mbox: No space left on device" err &&
	inns cat "$FULL/mbox" >now && test_cmp before now &&
	inns test ! -e "$FULL/mbox.lock" &&
	if test -n "$trace"; then
		# Part of the message went in, then it was cut off again.
		grep "^write([0-9]*, \"From MAILER-DAEMON.* = [1-9]" trace &&
		grep "^ftruncate([0-9]*, $(wc -c <before)) *= 0" trace
	fi &&
	test "$(labcount)" = 2
'

test_expect_success 'space back: the mbox gets each message once, after the old one' '
	unfill &&
	pf -m "$FULL/mbox" &&
	inns cat "$FULL/mbox" >now &&
	head -c $(wc -c <before) now | cmp - before &&
	grep -c "^From MAILER-DAEMON " now >n && test "$(cat n)" = 2 &&
	test "$(grep -c "^zzzz" now)" = 2 &&
	test "$(labcount)" = 0
'

test_expect_success 'the state directory on a full disk: 75, nothing delivered' '
	inns mkdir -p "$FULL/home/.config/nymbox/pop" &&
	dovecot-lab put lab alice msgs/* &&
	fill &&
	test_expect_code 75 env HOME="$FULL/home" \
	    nsenter -t "$(cat ns.pid)" -m --wd="$TRASH" -- timeout $(test_scaled 30) pop-fetch -w $(test_scaled 5) \
	    -H 127.0.0.1:$(cat lab/port) -u alice -P "$TRASH/pw" -d md2 2>err &&
	grep "No space left on device" err &&
	test -z "$(find md2 -type f)" &&
	test "$(labcount)" = 2
'

test_expect_success 'the spool on a full disk (mbox, command): 75, nothing run' '
	test_expect_code 75 env HOME="$FULL/home" \
	    nsenter -t "$(cat ns.pid)" -m --wd="$TRASH" -- timeout $(test_scaled 30) pop-fetch -w $(test_scaled 5) \
	    -H 127.0.0.1:$(cat lab/port) -u alice -P "$TRASH/pw" \
	    -p "cat >>ran" 2>err &&
	grep "No space left on device" err &&
	test_path_is_missing ran &&
	test_expect_code 75 env HOME="$FULL/home" \
	    nsenter -t "$(cat ns.pid)" -m --wd="$TRASH" -- timeout $(test_scaled 30) pop-fetch -w $(test_scaled 5) \
	    -H 127.0.0.1:$(cat lab/port) -u alice -P "$TRASH/pw" -m mb2 &&
	test_path_is_missing mb2 &&
	test "$(labcount)" = 2
'

test_expect_success 'space back: delivered once with the state on the tmpfs' '
	unfill &&
	env HOME="$FULL/home" nsenter -t "$(cat ns.pid)" -m --wd="$TRASH" -- \
	    timeout $(test_scaled 30) pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) -u alice \
	    -P "$TRASH/pw" -d md2 &&
	sums md2/new >got && test_cmp want got &&
	test "$(labcount)" = 0
'

test_expect_success 'teardown' '
	kill $(cat ns.pid) && rm ns.pid && dovecot-lab stop lab
'

test_done
