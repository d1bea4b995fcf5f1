# queue-lib.sh - sourced by the delay queue's tests: the queue Q of the
# test's directory, the message msg put into it, and what is in it.  Not
# a program.

# dq ARGS...: enqueue msg into Q.
dq() {
	delay-queue -q Q "$@" <msg
}

# qr ARGS...: run Q.
qr() {
	queue-run -q Q "$@"
}

# reset: an empty queue, nothing delivered, no bounce, no forced code.
reset() {
	rm -rf Q out code bounces
}

# rec ID: the record in effect for message ID: info/ID after an attempt,
# else the head of mess/ID (up to its empty line).
rec() {
	if test -f "Q/info/$1"; then
		cat "Q/info/$1"
	else
		sed -n "/^\$/q; p" "Q/mess/$1"
	fi
}

# field ID KEY: a field of a message's record.
field() {
	rec "$1" | sed -n "s/^$2 //p"
}

# onlyid: the only ID in the queue (fails unless there is exactly one).
onlyid() {
	ls Q/mess >ids && test "$(wc -l <ids)" = 1 && cat ids
}

# gone PID [SECONDS]: the process has ended (or is a zombie), within ten
# seconds or SECONDS.
gone() {
	test_wait_until "! test -d /proc/$1 || grep -q '^$1 (.*) Z' /proc/$1/stat" ${2:-10}
}

# alive PID: the process runs (it is not a zombie).
alive() {
	test -d /proc/$1 && ! grep -q "^[0-9]* (.*) Z" /proc/$1/stat
}

# killat CALL N CMD...: CMD, killed as it enters its Nth CALL (strace(1)
# sends it SIGKILL); 137 if so.  The prerequisite STRACE says whether
# strace can.  (LeakSanitizer cannot work under ptrace: off for the
# sanitizer build.)
if strace -o /dev/null -e trace=getpid true 2>/dev/null; then
	test_set_prereq STRACE
fi

killat() {
	tl_c_=$1 tl_n_=$2
	shift 2
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -o /dev/null -e trace=$tl_c_ \
	    -e inject=$tl_c_:signal=KILL:when=$tl_n_ "$@"
}

# The calls by which queue-run changes the queue.
CALLS="openat write fsync link unlink rename"
