# postfix-inbox.sh - sourced by the tests that run postfix-lab (started
# into ./lab): what its maildir received.  Not a program.

# inbox: the messages Postfix delivered, one file name a line.
inbox() {
	ls "$(cat lab/dir)/mail/inbox/new" 2>/dev/null
}

# delivered N: wait (at most 10 s) until the inbox holds N messages.
delivered() {
	n=0
	while test "$(inbox | wc -l)" -lt "$1"; do
		n=$((n + 1))
		test $n -lt 100 || { echo "only $(inbox | wc -l) of $1" >&2; return 1; }
		sleep 0.1
	done
}
