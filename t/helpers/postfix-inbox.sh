# postfix-inbox.sh - sourced by the tests that run postfix-lab (started
# into ./lab): what its maildir received.  Not a program.

# inbox: the messages Postfix delivered, one file name a line.
inbox() {
	ls "$(cat lab/dir)/mail/inbox/new" 2>/dev/null
}

# delivered N: wait until the inbox holds N messages.
delivered() {
	test_wait_until "test \$(inbox | wc -l) -ge $1" ||
	{ echo "only $(inbox | wc -l) of $1" >&2; return 1; }
}
