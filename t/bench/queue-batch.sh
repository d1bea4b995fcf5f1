#!/bin/sh
# t/bench/queue-batch.sh - queue-run flushing a queue of messages to one
# onion through onion-deliver: batched (one onion-deliver -B for the
# destination, one SOCKS connection and SMTP session) against queue-run
# -s (one onion-deliver, connection and session per message, at the
# default concurrency, -J 20 for the destination, and at -J 1), side by
# side in one run (make bench; issue 13).
#
# Both go through the test suite's fake SOCKS5 proxy into the same local
# receiver (smtp-receive per connection into a maildir, fsync'd), so
# this measures what a message costs queue-run and onion-deliver; over
# Tor each new connection also costs a circuit, which t/bench/onion-tor.sh
# measures for onion-deliver alone.  The queue is filled (untimed) before
# each run; every message must arrive once and the queue must be empty
# after it.  BENCH_QBATCH_COUNT messages of 1 KB (default 200).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
H=$top/t/helpers
count=${BENCH_QBATCH_COUNT:-200}
PATH=$top/bin:$PATH
export PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/nymbench.XXXXXX") || exit 1
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
cd "$work" || exit 1

onion=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion
HOME=$work
export HOME
mkdir -p "$HOME/.config/nymbox/keys" && : >"$HOME/.config/nymbox/config"
a=$(onion-key -c "$work/alice.key") &&
    mv "$work/alice.key" "$HOME/.config/nymbox/keys/$a" ||
    { echo "bench: no onion key"; exit 1; }

waitfor() {
	i=0
	until test -s "$1"; do
		i=$((i + 1))
		test $i -lt 300 || { echo "bench: no $1"; exit 1; }
		sleep 0.1
	done
}

# sink NAME: smtp-receive per connection into the maildir NAME, the
# proxy routing the onion to it (its log NAME.socks.log); the queue
# NAME.q filled with count messages for onion-deliver.
sink() {
	rm -f mx.port mx.pid socks.port socks.pid
	"$H/tcp-listen" --port-file mx.port --pid-file mx.pid \
	    --max-seconds 3600 -- smtp-receive -a -v none -l "$onion" \
	    -d "$PWD/$1" &
	pids="$pids $!"
	waitfor mx.port
	"$H/fake-socks" --port-file socks.port --pid-file socks.pid \
	    --log "$1.socks.log" --max-seconds 3600 \
	    --route "$onion=$(cat mx.port)" </dev/null &
	pids="$pids $!"
	waitfor socks.port
	TOR_SOCKS=127.0.0.1:$(cat socks.port)
	export TOR_SOCKS
	i=0
	while test $i -lt "$count"; do
		printf 'From: alice@%s\nTo: bob@%s\nSubject: message %d\n\n%s\n' \
		    "$a" "$onion" $i "$text" |
		    delay-queue -q "$1.q" -m now -f "alice@$a" "bob@$onion" \
		    -- onion-deliver || { echo "bench: delay-queue failed"; exit 1; }
		i=$((i + 1))
	done
}

# check NAME: every message arrived once, the queue is empty.
check() {
	n=$(ls "$1/new" | wc -l)
	u=$(cat "$1"/new/* | sed -n 's/^Subject: //p' | sort -u | wc -l)
	test "$n" = "$count" && test "$u" = "$count" &&
	    test -z "$(ls "$1.q/mess")" ||
	    { echo "bench: $1: $n messages ($u different) of $count"; exit 1; }
}

now() { date +%s.%N; }

text=$(printf '%s' "$(seq -s ' is a number, and so is ' 1 80)" | cut -c1-960)

sink batch
t0=$(now)
queue-run -q batch.q 2>batch.err || { cat batch.err; echo "bench: queue-run failed"; exit 1; }
t1=$(now)
check batch

sink each
t2=$(now)
queue-run -s -q each.q 2>each.err || { cat each.err; echo "bench: queue-run -s failed"; exit 1; }
t3=$(now)
check each

sink one
t4=$(now)
queue-run -s -J 1 -q one.q 2>one.err || { cat one.err; echo "bench: queue-run -s -J 1 failed"; exit 1; }
t5=$(now)
check one

python3 - "$count" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" \
    "$(grep -c "^GREETING" batch.socks.log)" \
    "$(grep -c "^GREETING" each.socks.log)" \
    "$(grep -c "^GREETING" one.socks.log)" <<'EOP'
import sys
n = int(sys.argv[1])
t = list(map(float, sys.argv[2:8]))
c = sys.argv[8:11]
r = [n / (t[1] - t[0]), n / (t[3] - t[2]), n / (t[5] - t[4])]
print("queue-run, %d queued messages of 1 KB to one onion through "
      "onion-deliver, fake SOCKS5 proxy, smtp-receive into a maildir" % n)
print("%-40s %8s %8s %12s" % ("job", "total s", "msg/s", "connections"))
names = ["queue-run (one onion-deliver -B)", "queue-run -s (one per message, -J 20)",
         "queue-run -s -J 1"]
for i in range(3):
    print("%-40s %8.2f %8.1f %12s" % (names[i], t[2 * i + 1] - t[2 * i],
                                       r[i], c[i]))
print("ratio batched / per message: %.2fx (-J 20), %.2fx (-J 1)"
      % (r[0] / r[1], r[0] / r[2]))
EOP
