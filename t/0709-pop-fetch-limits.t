#!/bin/sh
# pop-fetch's limits on what the network sends (issue 11): each has a
# default, an option (and a configuration key) where it is not the
# protocol's own, a line in pop-fetch(1) under LIMITS, and here a test at
# the limit (taken) and one past it (refused: the exit code and message
# the man page gives).  Listing lines, unique-ids, status lines, the
# listing's length (-L), a message's size (-M), a reply's time (-w) and
# the whole session's (-W).
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

printf 'secret\n' >pw && chmod 600 pw

mkdir msgs &&
printf 'Subject: one\n\nfirst\n' >msgs/m1 &&
printf 'Subject: two\n\nsecond\n' >msgs/m2

# start NAME ARGS: a pop-script server (t/helpers) serving spool.NAME,
# a copy of msgs/ unless it exists (t/helpers/pop-lib.sh).
. "$TOP/t/helpers/pop-lib.sh"

# pf NAME ARGS: pop-fetch from server NAME as user $U (default alice):
# each user has a state of its own.
pf() {
	n=$1 && shift &&
	test_timeout 120 pop-fetch -H 127.0.0.1:$(cat port.$n) -u ${U:-alice} \
	    -P pw "$@"
}

test_expect_success 'a UIDL line of 512 bytes with its CRLF is taken' '
	start u512 -u 512 &&
	pf u512 -d md.u512 &&
	test "$(ls md.u512/new | wc -l)" = 2
'

test_expect_success 'a UIDL line of 513 bytes: 65, nothing fetched' '
	start u513 -u 513 &&
	test_expect_code 65 pf u513 -d md.u513 2>err &&
	test_grep "unable to list messages at 127.0.0.1:[0-9]*: a line over 512 bytes" err &&
	! grep "^RETR" log.u513 && ! grep "^DELE" log.u513
'

test_expect_success 'a CAPA line of 512 bytes is taken, 513 is 65' '
	start k512 -k 512 &&
	pf k512 -d md.k512 &&
	start k513 -k 513 &&
	test_expect_code 65 pf k513 -d md.k513 2>err &&
	test_grep "unable to read capabilities at 127.0.0.1:[0-9]*: a line over 512 bytes" err &&
	! grep "^RETR" log.k513
'

test_expect_success 'a unique-id of 70 bytes is taken, 71 is 65' '
	mkdir spool.id70 spool.id71 &&
	cp msgs/m1 spool.id70/$(printf "%070d" 7) &&
	cp msgs/m1 spool.id71/$(printf "%071d" 7) &&
	start id70 && pf id70 -d md.id70 &&
	test "$(ls md.id70/new | wc -l)" = 1 &&
	start id71 &&
	test_expect_code 65 pf id71 -d md.id71 2>err &&
	test_grep "unable to list messages at .*: bad UIDL line (expected a number and a unique-id of 1 to 70 printable bytes)" err &&
	! grep "^RETR" log.id71
'

test_expect_success 'a status line past 512 bytes: its text is cut, the session goes on' '
	start g600 -g 600 &&
	pf g600 -d md.g600 &&
	test "$(ls md.g600/new | wc -l)" = 2
'

test_expect_success 'a status line past 64 KiB: 75, garbled' '
	start g70k -g 70000 &&
	test_expect_code 75 pf g70k -d md.g70k 2>err &&
	test_grep "unable to read the greeting at 127.0.0.1:[0-9]*: garbled reply" err
'

test_expect_success '-L 2: a listing of 2 is taken' '
	start l2 &&
	pf l2 -L 2 -d md.l2 &&
	test "$(ls md.l2/new | wc -l)" = 2
'

test_expect_success '-L 2: a listing of 3 is 65, nothing fetched, nothing deleted' '
	mkdir spool.l3 && cp msgs/* spool.l3/ && cp msgs/m1 spool.l3/m3 &&
	start l3 &&
	test_expect_code 65 pf l3 -L 2 -d md.l3 2>err &&
	test_grep "unable to list messages at 127.0.0.1:[0-9]*: more than 2 (-L)" err &&
	! grep -E "^(RETR|DELE)" log.l3 &&
	test "$(ls spool.l3 | wc -l)" = 3
'

test_expect_success 'pop-max-messages is -L; 0 and garbage are configuration errors' '
	printf "pop-max-messages = 2\n" >conf &&
	test_expect_code 65 env NYMBOX_CONF=conf pop-fetch -H 127.0.0.1:$(cat port.l3) -u alice -P pw -d md.l3 2>err &&
	test_grep "more than 2 (-L)" err &&
	printf "pop-max-messages = 0\n" >conf &&
	test_expect_code 78 env NYMBOX_CONF=conf pop-fetch -H 127.0.0.1:1 -u alice -P pw -d md 2>err &&
	test_grep "unable to use pop-max-messages = 0 in .*: expected 1 to 100000" err &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u a -P pw -d md -L 100001 2>err &&
	test_grep "unable to use -L 100001" err
'

# The default, 100,000: every message already delivered (-k and a state
# that says so), so that only the listing is at stake.
test_expect_success 'the default: a listing of 100,000 is taken' '
	start n100k -n 100000 &&
	mkdir -p "$HOME/.config/nymbox/pop" && chmod 700 "$HOME/.config/nymbox" "$HOME/.config/nymbox/pop" &&
	st="$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat port.n100k).uidl" &&
	seq 1 100000 | sed "s/^/D uid-/" >"$st" && chmod 600 "$st" &&
	pf n100k -k -d md.n100k &&
	! grep "^RETR" log.n100k &&
	test "$(grep -c "^D uid-" "$st")" = 100000
'

test_expect_success 'the default: a listing of 100,001 is 65' '
	start n100k1 -n 100001 &&
	test_expect_code 65 pf n100k1 -k -d md.n100k1 2>err &&
	test_grep "unable to list messages at 127.0.0.1:[0-9]*: more than 100000 (-L)" err &&
	! grep "^RETR" log.n100k1
'

# m1 is 23 bytes with CRLF line ends, as the server sends it.
test_expect_success '-M 23: a message of 23 bytes is taken' '
	test "$(sed "s/\$/\r/" msgs/m1 | wc -c)" = 23 &&
	mkdir spool.m23 && cp msgs/m1 spool.m23/ &&
	start m23 &&
	pf m23 -k -M 23 -d md.m23 &&
	test "$(ls md.m23/new | wc -l)" = 1
'

test_expect_success '-M 22: the same message is 65 and stays on the server' '
	U=m22 && test_expect_code 65 pf m23 -k -M 22 -d md.m22 2>err &&
	test_grep "unable to fetch message 1 from 127.0.0.1:[0-9]*: 23 bytes, over 22 (-M); it stays on the server" err &&
	test -z "$(ls md.m22/new)"
'

# 4000 bytes at 2000 bytes a second: two seconds for the reply.
test_expect_success 'a reply longer than -w at a fair rate is taken' '
	mkdir spool.rate &&
	{ printf "Subject: slow\n\n"; head -c 3900 /dev/zero | tr "\0" r; echo; } >spool.rate/r1 &&
	start rate -r 2000 &&
	pf rate -k -w 1 -d md.rate &&
	test "$(ls md.rate/new | wc -l)" = 1
'

test_expect_success 'a reply at 10 bytes a second: 75 within -w' '
	mkdir spool.crawl && cp msgs/m1 spool.crawl/ &&
	start crawl -r 5 &&
	U=crawl && test_expect_code 75 pf crawl -k -w 1 -d md.crawl 2>err &&
	test_grep "unable to fetch a message from 127.0.0.1:[0-9]*: Connection timed out" err &&
	test -z "$(find md.crawl -type f)"
'

test_expect_success '-W: a session within it is taken' '
	U=w10 && pf rate -k -W $(test_scaled 10) -d md.w10 &&
	test "$(ls md.w10/new | wc -l)" = 1
'

test_expect_success '-W 1: a session going on past it is 75, said so, nothing left in tmp/' '
	t0=$(date +%s) &&
	U=w1 && test_expect_code 75 pf rate -k -W 1 -d md.w1 2>err &&
	test $(( $(date +%s) - t0 )) -le $(test_scaled 3) &&
	test_grep "unable to fetch a message from 127.0.0.1:[0-9]*: the session took over 1 s (-W)" err &&
	test -z "$(find md.w1 -type f)"
'

test_expect_success 'pop-session-time is -W; 0 is a configuration error, -W 0 a usage error' '
	printf "pop-session-time = 1\n" >conf &&
	test_expect_code 75 env NYMBOX_CONF=conf pop-fetch -H 127.0.0.1:$(cat port.rate) -u wc -P pw -k -d md.wc 2>err &&
	test_grep "the session took over 1 s (-W)" err &&
	printf "pop-session-time = 0\n" >conf &&
	test_expect_code 78 env NYMBOX_CONF=conf pop-fetch -H 127.0.0.1:1 -u alice -P pw -d md 2>err &&
	test_grep "unable to use pop-session-time = 0 in .*: expected 1 to 86400" err &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u a -P pw -d md -W 0 2>err &&
	test_grep "unable to use -W 0" err
'

test_done
