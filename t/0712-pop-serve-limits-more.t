#!/bin/sh
# pop-serve's limits the shorter 0711 leaves out, at the limit and one
# past it: the messages served in one session (NYM_POPD_MSGS, 100000):
# 100000 are all served, of 100001 the first 100000 are and the last
# waits, with a line on standard error, for a later session that serves
# it (pop-serve(1), LIMITS).  The values are lib/limits.h's.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-serve >/dev/null || test_skip_all "pop-serve is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
# 100,001 files take a minute on a quiet disk and several on a loaded
# one; the sanitizer pass would add nothing the plain pass does not test
# (pop-serve's own code runs under ASan in t/0710 and t/0711).
test "${NYM_TEST_SCALE:-1}" -le 1 ||
    test_skip_all "100,000 messages are served in the plain pass only (NYM_TEST_SCALE=$NYM_TEST_SCALE)"

chat() {
	script=$1
	shift
	pop-chat -t $(test_scaled 120) "$script" -- pop-serve -d md -K key \
	    -u alice -D 0 -F 64/1 "$@"
}

# mkmany N: N copies of the one sealed message in md/cur, each its own
# file name (its UID); one Python loop, not N processes.
mkmany() {
	python3 - "$1" <<-\EOP
	import os, sys
	n = int(sys.argv[1])
	data = open("one", "rb").read()
	os.makedirs("md/cur", exist_ok=True)
	for i in range(n):
	    with open("md/cur/%d.M%dP1.limit:2," % (1000000 + i, i), "wb") as f:
	        f.write(data)
	EOP
}

test_expect_success 'setup: a key and one sealed message' '
	printf pw >pw && chmod 600 pw &&
	mbox-encrypt -g -P pw -K key -k key.pub &&
	printf "Subject: one\n\nhi\n" | mbox-encrypt -k key.pub -d seed &&
	mv seed/new/* one &&
	test -s one
'

# The count is the one in the PASS reply (STAT would have to unseal
# every message, which takes long).  LIST of the last one unseals it.
test_expect_success '100000 messages are all served, without a warning' '
	rm -rf md && mkmany 100000 &&
	cat >s1 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS pw
	< +OK Maildrop ready, 100000 messages
	> LIST 100000
	< +OK 100000 20
	> LIST 100001
	< -ERR No such message
	> QUIT
	< +OK
	eof
	exit 0
	EOF
	chat s1 >out 2>err &&
	test_must_be_empty err
'

test_expect_success 'of 100001 the first 100000 are served, one waits (a line)' '
	rm -rf md && mkmany 100001 &&
	cat >s2 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS pw
	< +OK Maildrop ready, 100000 messages
	> LIST 100001
	< -ERR No such message
	> DELE 1
	< +OK
	> QUIT
	< +OK 1 messages removed
	eof
	exit 0
	EOF
	chat s2 >out 2>err &&
	echo "pop-serve: unable to serve all of maildir md: 1 messages past" \
	    "the first 100000 wait for a later session" >want &&
	test_cmp want err
'

test_expect_success 'the one that waited is served by the next session' '
	cat >s3 <<-EOF &&
	< +OK
	> USER alice
	< +OK
	> PASS pw
	< +OK Maildrop ready, 100000 messages
	> QUIT
	< +OK
	eof
	exit 0
	EOF
	chat s3 >out 2>err &&
	test_must_be_empty err &&
	test $(ls md/cur | wc -l) = 100000
'

test_done
