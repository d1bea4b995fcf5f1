#!/bin/sh
# t/bench/queue.sh - the delay queue against a shell loop and Postfix's
# pipe transport, each flushing the same messages into the same local
# delivery command; and delay-queue against a plain maildir write (make
# bench; issue 5).
#
# The messages: BENCH_QUEUE_COUNT (10,000) generated ones of 1 to 8 KB,
# each with a Subject of its own.  The delivery command is t/bench/qsink.c
# (built here, statically if the C library allows): it writes the message
# into a maildir the careful way, O_EXCL in tmp/, fsync, rename into new/,
# fsync new/.  Every contender runs it once per message, so they differ
# only in what they do around it.  Each of BENCH_QUEUE_REPS (3) rounds:
#
#  1. Enqueue, untimed for the flush: spawn.c runs delay-queue -m now and
#     qsink writing into a maildir on each message in turn (one process a
#     message each, the same bytes on stdin): the per-message cost of
#     enqueueing against writing those bytes durably, file fsync and
#     directory fsync, which is the least a durable queue can do.  This
#     fills the queue, and the maildir becomes the shell loop's job files.
#     Postfix gets the same messages over one SMTP session (AUTH, as
#     postfix-lab wants), held by a header check, so that its queue too is
#     full and durable before its clock starts.
#  2. Flush, in an order that rotates from round to round, each timed
#     from the start to the last message delivered:
#     A. queue-run -q QUEUE (Date rewritten, state kept, lock, timeout) at
#        its default concurrency, -j 100 in all and -J 20 for one
#        destination (every message here goes to one), as Postfix's
#        defaults; BENCH_QUEUE_RUNARGS adds options (-j 1: one at a time);
#     B. nq-style shell loop over the job files: qsink < FILE && rm FILE
#        (what a queue that forgets delivered messages must do at least);
#     C. the same loop without the rm, a lower bound for any shell loop;
#     D. Postfix's pipe transport running qsink as nobody, at its default
#        concurrency: postsuper -H releases the held messages, then the
#        clock starts with postqueue -f;
#     E. the same with the pipe service's process limit at 1.
#     Every run must deliver every message exactly once (the Subjects in
#     the sink are compared with the expected list) or the bench stops.
#
# Then queue-run's peak RSS on queues of 100 and 1,000 (and 10,000, from
# the timed runs), which must be flat.  Targets (issue 5): A faster than
# B, RSS flat, enqueue within 1.5x of the maildir write; (issue 10) A at
# least as fast as D.  The outputs of
# each contender are checked on 20 messages before anything is timed.
# Environment: BENCH_SEED (1), BENCH_QUEUE_COUNT (10000),
# BENCH_QUEUE_REPS (3), BENCH_QUEUE_POSTFIX (1; 0 leaves Postfix out, as
# does not being root), BENCH_QUEUE_RUNARGS (none).  Needs python3, cc, /usr/bin/time, postfix and
# dovecot (t/helpers/postfix-lab).

seed=${BENCH_SEED:-1}
count=${BENCH_QUEUE_COUNT:-10000}
reps=${BENCH_QUEUE_REPS:-3}
withpf=${BENCH_QUEUE_POSTFIX:-1}
runargs=${BENCH_QUEUE_RUNARGS:-}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P) || die "unable to find $0"
top=$(cd "$here/../.." && pwd -P) || die "unable to find the top directory"
H=$top/t/helpers
dq=$top/bin/delay-queue
qr=$top/bin/queue-run
qhelp="python3 $here/qhelp.py"
start=$(date +%s)

test -x "$dq" && test -x "$qr" || die "$dq or $qr is missing: run make first"
for p in python3 cc awk; do
	command -v $p >/dev/null 2>&1 || die "$p is needed"
done
test -x /usr/bin/time || die "/usr/bin/time is needed (package time)"
if test "$withpf" != 0; then
	test "$(id -u)" = 0 || { withpf=0; echo "bench: not root: Postfix left out" >&2; }
fi
if test "$withpf" != 0; then
	test -x /usr/sbin/postfix && test -x /usr/sbin/dovecot ||
		die "postfix and dovecot are needed (or BENCH_QUEUE_POSTFIX=0)"
fi

# The directory must be reachable by nobody, who runs Postfix's pipe.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-queue.XXXXXX") ||
	die "unable to make a temporary directory"
chmod 755 "$tmp" || die "unable to open up $tmp"
trap '"$H/postfix-lab" stop "$tmp/pfD" >/dev/null 2>&1
"$H/postfix-lab" stop "$tmp/pfE" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
HOME=$tmp/home
LC_ALL=C
export HOME LC_ALL
unset NYMBOX_CONF NYMBOX_NOW XDG_CONFIG_HOME
mkdir "$HOME" || die "unable to make $HOME"

# ---- the delivery command, the timer, the messages
link=static
cc -O2 -static -o "$tmp/qsink" "$here/qsink.c" 2>/dev/null || {
	link=dynamic
	cc -O2 -o "$tmp/qsink" "$here/qsink.c" || die "unable to build qsink"
}
cc -O2 -o "$tmp/spawn" "$here/spawn.c" || die "unable to build spawn"
qsink=$tmp/qsink
spawn=$tmp/spawn
$qhelp gen "$seed" "$count" "$tmp/msgs" || die "unable to make the messages"
ls "$tmp/msgs" | sed "s|^|$tmp/msgs/|" >"$tmp/list"
test "$(wc -l <"$tmp/list")" -eq "$count" || die "the messages are not $count"
bytes=$(cat "$tmp/msgs"/m* | wc -c)
seq 1 "$count" | sed 's/^/Subject: bench message /' | sort >"$tmp/want"
sed 20q "$tmp/list" >"$tmp/list20"
seq 1 20 | sed 's/^/Subject: bench message /' | sort >"$tmp/want20"
printf 'secret\n' >"$tmp/pw"

# maildir DIR [OWNER]
maildir()
{
	mkdir -p "$1/tmp" "$1/new" "$1/cur" || exit 1
	test -z "${2:-}" || chown -R "$2" "$1" || exit 1
}

# subjects DIR: the Subjects of the messages in DIR/new, sorted.
subjects()
{
	find "$1/new" -type f -exec grep -h '^Subject: bench message ' {} + |
	    sort
}

# delivered NAME DIR WANT: DIR/new holds each message of WANT once.
delivered()
{
	subjects "$2" >"$tmp/got" || die "unable to read $2"
	cmp -s "$tmp/got" "$3" ||
		die "$1 delivered $(wc -l <"$tmp/got") messages, $(sort -u "$tmp/got" | wc -l) different, not the $(wc -l <"$3") expected"
}

# ---- Postfix: two private instances, qsink as a pipe service
# pfstart MAXPROC K: Postfix K, its pipe service limited to MAXPROC.
pfstart()
{
	POSTFIX_LAB_MAIN="virtual_transport = nymsink
header_checks = regexp:@DIR@/etc/hold.regexp
in_flow_delay = 0" \
	POSTFIX_LAB_MASTER="nymsink unix - n n - $1 pipe
  user=nobody argv=$qsink $tmp/sink$2 -f \${sender} -- \${recipient}" \
	"$H/postfix-lab" start "$tmp/pf$2" 100000000 alice@lab.test:secret \
	    >"$tmp/pf$2.out" 2>&1 || { cat "$tmp/pf$2.out" >&2; die "Postfix $2 did not start"; }
	d=$(cat "$tmp/pf$2/dir")
	printf '/^Subject:/ HOLD\n' >"$d/etc/hold.regexp" &&
	chmod 644 "$d/etc/hold.regexp" &&
	/usr/sbin/postfix -c "$d/etc" reload >/dev/null 2>&1 ||
		die "unable to configure Postfix $2"
	eval "pfdir$2=\$d"
}

# pfinject K LIST: the messages of LIST into Postfix K, held; prints the
# seconds it took.
pfinject()
{
	eval "d=\$pfdir$1"
	n=$(wc -l <"$2")
	t0=$(date +%s.%N)
	$qhelp smtp "$(cat "$tmp/pf$1/port")" alice@lab.test "$tmp/pw" \
	    bob@bench.test "$2" || die "SMTP injection into Postfix $1 failed"
	$qhelp wait "$d/spool/hold" "$n" 600 >"$tmp/t1" ||
		die "Postfix $1 did not hold all $n messages"
	echo "$t0 $(cat "$tmp/t1")" | awk '{ printf "%.3f\n", $2 - $1 }'
}

# pfflush K N: release what Postfix K holds, wait for N messages in its
# sink; prints the seconds from the flush request to the last delivery.
pfflush()
{
	eval "d=\$pfdir$1"
	/usr/sbin/postsuper -c "$d/etc" -H ALL 2>/dev/null ||
		die "postsuper -H failed"
	t0=$(date +%s.%N)
	/usr/sbin/postqueue -c "$d/etc" -f || die "postqueue -f failed"
	$qhelp wait "$tmp/sink$1/new" "$2" 900 >"$tmp/t1" || {
		tail -5 "$d/maillog" >&2
		die "Postfix $1 did not deliver all $2 messages"
	}
	echo "$t0 $(cat "$tmp/t1")" | awk '{ printf "%.3f\n", $2 - $1 }'
}

# ---- the contenders
# run K ROUND: flush with contender K into a fresh sink; prints seconds.
# Whatever the one before left to write goes to disk first (sync), so
# that nobody's clock runs while another's writes are flushed.
run()
{
	k=$1 r=$2
	sync
	case $k in
	A)	t0=$(date +%s.%N)
		/usr/bin/time -f %M -o "$tmp/rss.$r" "$qr" -q "$tmp/q.$r" \
		    $runargs 2>"$tmp/A.err" || { cat "$tmp/A.err" >&2; die "queue-run failed"; }
		t1=$(date +%s.%N)
		test -z "$(find "$tmp/q.$r/mess" "$tmp/q.$r/tmp" -type f)" ||
			die "queue-run left messages in $tmp/q.$r"
		delivered queue-run "$tmp/sinkA.$r" "$tmp/want" ;;
	B)	t0=$(date +%s.%N)
		sh -c 'for f in "$1"/*; do
			"$2" "$3" -f alice@example.org -- bob@example.net <"$f" &&
			rm -f "$f" || exit 75
		done' sh "$tmp/enq.$r/new" "$qsink" "$tmp/sinkB.$r" ||
			die "the shell loop failed"
		t1=$(date +%s.%N)
		test -z "$(ls "$tmp/enq.$r/new")" || die "the shell loop left jobs"
		delivered "the shell loop" "$tmp/sinkB.$r" "$tmp/want" ;;
	C)	t0=$(date +%s.%N)
		sh -c 'for f in "$1"/m*; do
			"$2" "$3" -f alice@example.org -- bob@example.net <"$f" ||
			exit 75
		done' sh "$tmp/msgs" "$qsink" "$tmp/sinkC.$r" ||
			die "the shell loop without rm failed"
		t1=$(date +%s.%N)
		delivered "the shell loop without rm" "$tmp/sinkC.$r" "$tmp/want" ;;
	D|E)	s=$(pfflush $k "$count") || exit 1
		mv "$tmp/sink$k" "$tmp/sink$k.$r" && maildir "$tmp/sink$k" nobody
		delivered "Postfix $k" "$tmp/sink$k.$r" "$tmp/want"
		echo "$s"
		return ;;
	esac
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

# ---- checks of every contender's output, on 20 messages
maildir "$tmp/chk.sink"
maildir "$tmp/chk.md"
"$spawn" -l 20 "$tmp/list20" "$dq -q $tmp/chk.q -m now -f alice@example.org bob@example.net -- $qsink $tmp/chk.sink" \
    "$qsink $tmp/chk.md" >/dev/null || die "delay-queue or qsink failed"
test "$("$qr" -q "$tmp/chk.q" -l | wc -l)" -eq 20 || die "queue-run -l does not list 20 messages"
"$qr" -q "$tmp/chk.q" $runargs || die "queue-run failed on 20 messages"
delivered queue-run "$tmp/chk.sink" "$tmp/want20"
delivered qsink "$tmp/chk.md" "$tmp/want20"
# same BODY-ONLY A B: A and B are the same message (but Date, or but the
# header if BODY-ONLY is 1)
same()
{
	if test "$1" = 1; then
		sed '1,/^$/d' "$2" >"$tmp/a" && sed '1,/^$/d' "$3" >"$tmp/b"
	else
		grep -v '^Date: ' "$2" >"$tmp/a" && grep -v '^Date: ' "$3" >"$tmp/b"
	fi
	cmp -s "$tmp/a" "$tmp/b"
}
# checkout DIR BODY-ONLY: every message in DIR/new is its original
checkout()
{
	for f in "$1"/new/*; do
		i=$(sed -n 's/^Subject: bench message //p' "$f")
		same "$2" "$f" "$tmp/msgs/$(printf m%05d "$i")" ||
			die "$f is not message $i as it should be"
	done
}
checkout "$tmp/chk.sink" 0
checkout "$tmp/chk.md" 0
f=$(ls -d "$tmp/chk.sink"/new/* | sed 1q)
grep -q '^Date: .* +0000$' "$f" && ! grep -q '^Date: Tue, 14 Nov 2023' "$f" ||
	die "queue-run did not set Date in $f"
if test "$withpf" != 0; then
	maildir "$tmp/sinkD" nobody
	maildir "$tmp/sinkE" nobody
	pfstart - D
	pfstart 1 E
	for k in D E; do
		pfinject $k "$tmp/list20" >/dev/null || exit 1
		pfflush $k 20 >/dev/null || exit 1
		delivered "Postfix $k" "$tmp/sink$k" "$tmp/want20"
		checkout "$tmp/sink$k" 1
		rm -rf "$tmp/sink$k" && maildir "$tmp/sink$k" nobody
	done
fi

# ---- the rounds
ks="A B C"
test "$withpf" = 0 || ks="A B C D E"
: >"$tmp/times"
: >"$tmp/enq"
: >"$tmp/inj"
r=1
while test $r -le "$reps"; do
	maildir "$tmp/sinkA.$r"
	maildir "$tmp/sinkB.$r"
	maildir "$tmp/sinkC.$r"
	maildir "$tmp/enq.$r"
	"$spawn" -l "$count" "$tmp/list" \
	    "$dq -q $tmp/q.$r -m now -f alice@example.org bob@example.net -- $qsink $tmp/sinkA.$r" \
	    "$qsink $tmp/enq.$r" >"$tmp/spawn.out" || die "the enqueue runs failed"
	echo "$r $(sed -n 1p "$tmp/spawn.out" | cut -d' ' -f1,2) $(sed -n 2p "$tmp/spawn.out" | cut -d' ' -f1,2)" >>"$tmp/enq"
	test "$("$qr" -q "$tmp/q.$r" -l | wc -l)" -eq "$count" ||
		die "queue-run -l does not list $count messages"
	test "$(ls "$tmp/enq.$r/new" | wc -l)" -eq "$count" ||
		die "qsink did not write $count messages"
	if test "$withpf" != 0; then
		for k in D E; do
			echo "$k $(pfinject $k "$tmp/list")" >>"$tmp/inj" || exit 1
		done
	fi
	# The order rotates: A B C D E, B C D E A, ...
	set -- $ks
	i=1
	while test $i -lt "$r"; do
		k=$1; shift; set -- "$@" "$k"
		i=$((i + 1))
	done
	for k in "$@"; do
		s=$(run $k $r) || exit 1
		echo "$k $s" >>"$tmp/times"
	done
	cat "$tmp/rss.$r" >>"$tmp/rss"
	r=$((r + 1))
done

# ---- peak RSS of queue-run on smaller queues, untimed
for n in 100 1000; do
	maildir "$tmp/rsink.$n"
	sed "${n}q" "$tmp/list" >"$tmp/list.$n"
	"$spawn" -l "$n" "$tmp/list.$n" \
	    "$dq -q $tmp/rq.$n -m now -f alice@example.org bob@example.net -- $qsink $tmp/rsink.$n" \
	    >/dev/null || die "the enqueue of $n failed"
	/usr/bin/time -f %M -o "$tmp/rss.$n" "$qr" -q "$tmp/rq.$n" $runargs ||
		die "queue-run failed on $n messages"
	test "$(ls "$tmp/rsink.$n/new" | wc -l)" -eq "$n" ||
		die "queue-run did not deliver $n messages"
done

# ---- the report
cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | sed 1q)
pfv=
test "$withpf" = 0 || pfv=", Postfix $(/usr/sbin/postconf -d -h mail_version 2>/dev/null)"
printf 'delay queue benchmark: %s CPUs, %s, %s%s\n' "$(nproc)" \
    "${cpu:-unknown CPU}" "$(uname -sr)" "$pfv"
printf 'Figures are only comparable within one run: compare the ratios.\n'
printf '%d messages, %d bytes (1 to 8 KB, seed %s); qsink linked %s, fsyncs the\n' \
    "$count" "$bytes" "$seed" "$link"
printf 'file and new/ for each message; %d rounds, the order rotating\n\n' "$reps"
awk -v n="$count" -v r100="$(cat "$tmp/rss.100")" -v runargs="$runargs" \
    -v r1000="$(cat "$tmp/rss.1000")" -v rssf="$tmp/rss" -v enqf="$tmp/enq" \
    -v injf="$tmp/inj" '
function sort_(a, m,    i, j, t) {
	for (i = 1; i <= m; i++)
		for (j = i + 1; j <= m; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
}
function median(a, m) {
	sort_(a, m)
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function verdict(ok) { return ok ? "met" : "MISSED" }
{ cnt[$1]++; s[$1, cnt[$1]] = $2; runs[$1] = runs[$1] sprintf(" %.2f", $2) }
END {
	name["A"] = runargs == "" ? "queue-run, default -j 100 -J 20" : \
	    "queue-run " runargs
	name["B"] = "sh loop: qsink < f && rm f"
	name["C"] = "sh loop: qsink < f (no rm)"
	name["D"] = "Postfix pipe, default concurrency"
	name["E"] = "Postfix pipe, process limit 1"
	fmt = "%-36s %7s %9s  %s\n"
	printf "flush of %d queued messages into qsink\n", n
	printf fmt, "contender", "msg/s", "seconds", "all runs (s)"
	split("A B C D E", ks, " ")
	for (i = 1; i <= 5; i++) {
		k = ks[i]
		if (!(k in cnt))
			continue
		for (j = 1; j <= cnt[k]; j++)
			v[j] = s[k, j]
		med[k] = median(v, cnt[k])
		printf fmt, name[k], sprintf("%.0f", n / med[k]),
		    sprintf("%.2f", med[k]), substr(runs[k], 2)
	}
	printf "\n"
	printf "queue-run against the sh loop with rm:    %.2fx (target > 1x: %s)\n",
	    med["B"] / med["A"], verdict(med["A"] < med["B"])
	printf "queue-run against the sh loop without rm: %.2fx\n",
	    med["C"] / med["A"]
	if ("D" in med) {
		printf "queue-run against Postfix, default:       %.2fx (target >= 1x: %s)\n",
		    med["D"] / med["A"], verdict(med["A"] <= med["D"])
		printf "queue-run against Postfix, 1 process:     %.2fx\n",
		    med["E"] / med["A"]
	}
	m = 0
	while ((getline line < rssf) > 0) {
		m++; rr[m] = line + 0; rl = rl " " line
		if (line + 0 > rmax)
			rmax = line + 0
	}
	printf "peak RSS of queue-run: %d KB on 100, %d KB on 1,000, %s KB on %d (flat: %s)\n",
	    r100, r1000, substr(rl, 2), n, verdict(rmax <= r100 * 1.05 + 256)
	m = 0
	while ((getline line < enqf) > 0) {
		split(line, f, " ")
		m++; dm[m] = f[2]; qm[m] = f[4]
		dt += f[3]; qt += f[5]
		er = er sprintf(" %.2fx", f[2] / f[4])
	}
	dmed = median(dm, m); qmed = median(qm, m)
	printf "enqueue, one process a message (%d x %d): delay-queue %.0f us, a maildir\n",
	    m, n, dmed
	printf "  write with fsync (qsink) %.0f us (medians; means %.0f and %.0f us):\n",
	    qmed, dt / (m * n), qt / (m * n)
	printf "  %.2fx, rounds%s (target <= 1.5x: %s)\n", dmed / qmed, er,
	    verdict(dmed <= 1.5 * qmed)
	m = 0
	while ((getline line < injf) > 0) {
		split(line, f, " ")
		inj = inj sprintf(" %.0f", n / f[2])
	}
	if (inj != "")
		printf "Postfix SMTP injection, one session, held (msg/s, untimed above):%s\n", inj
}' "$tmp/times"
printf 'bench: done in %d s\n' $(($(date +%s) - start))
