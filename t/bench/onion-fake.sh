#!/bin/sh
# t/bench/onion-fake.sh - onion-deliver flushing a queue to one onion
# over one SOCKS connection (-B) against one onion-deliver process per
# message, both through the test suite's fake SOCKS5 proxy into the same
# local receiver (smtp-receive into a maildir), side by side in one run
# (make bench).
#
# No Tor here: the proxy answers at once and the sink is on the
# loopback, so this measures what onion-deliver itself costs per message
# (a process, the spool, a SOCKS handshake, a greeting and EHLO) against
# a batch's one of each; over Tor each new connection also costs a
# circuit and a rendezvous, which the real-network benchmark measures.
# Every message must arrive: the sink's directory is counted after each
# run.  BENCH_ONION_COUNT messages of 1 KB (default 200).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
H=$top/t/helpers
count=${BENCH_ONION_COUNT:-200}
PATH=$top/bin:$PATH
export PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/nymbench.XXXXXX") || exit 1
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
cd "$work" || exit 1

onion=nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion
# Alice's onion and its key, which onion-deliver signs with.
HOME=$work
export HOME
mkdir -p "$HOME/.config/nymbox/keys" && : >"$HOME/.config/nymbox/config"
a=$(onion-key -c "$work/alice.key") &&
    mv "$work/alice.key" "$HOME/.config/nymbox/keys/$a" ||
    { echo "bench: no onion key"; exit 1; }
alice=alice@$a

waitfor() {
	i=0
	until test -s "$1"; do
		i=$((i + 1))
		test $i -lt 300 || { echo "bench: no $1"; exit 1; }
		sleep 0.1
	done
}

# sink DIR: smtp-receive per connection (tcp-listen, as inetd would)
# into the maildir DIR, fsync'd as always, and the proxy routing the
# onion to it; their PIDs in $pids.
sink() {
	rm -f mx.port mx.pid socks.port socks.pid
	"$H/tcp-listen" --port-file mx.port --pid-file mx.pid \
	    --max-seconds 3600 -- smtp-receive -a -v none -l "${onion#*@}" \
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
}

# The queue: count messages of about 1 KB, and the batch lines.
mkdir queue
text=$(printf '%s' "$(seq -s ' is a number, and so is ' 1 80)" | cut -c1-960)
i=0
while test $i -lt "$count"; do
	printf 'From: alice@alice.onion\nTo: bob@bob.onion\nSubject: message %d\n\n%s\n' \
	    $i "$text" >"queue/m$(printf %05d $i)"
	i=$((i + 1))
done
for f in queue/*; do echo "$PWD/$f bob@$onion"; done >jobs

now() { date +%s.%N; }

sink batch
t0=$(now)
onion-deliver -B -f "$alice" <jobs >results || { echo "bench: -B failed"; exit 1; }
t1=$(now)
nb=$(ls batch/new | wc -l)
cb=$(grep -c "^GREETING" batch.socks.log)

sink each
t2=$(now)
for f in queue/*; do
	onion-deliver -f "$alice" "bob@$onion" <"$f" ||
	    { echo "bench: $f failed"; exit 1; }
done
t3=$(now)
ne=$(ls each/new | wc -l)
ce=$(grep -c "^GREETING" each.socks.log)

test "$nb" = "$count" && test "$ne" = "$count" ||
	{ echo "bench: $nb and $ne of $count messages arrived"; exit 1; }
python3 - "$count" "$t0" "$t1" "$t2" "$t3" "$cb" "$ce" <<'EOP'
import sys
n = int(sys.argv[1])
t0, t1, t2, t3 = map(float, sys.argv[2:6])
b, e = n / (t1 - t0), n / (t3 - t2)
print("onion-deliver, %d messages of 1 KB to one onion, fake SOCKS5 "
      "proxy, smtp-receive into a maildir" % n)
print("%-34s %8s %8s %12s" % ("job", "total s", "msg/s", "connections"))
print("%-34s %8.2f %8.1f %12s" % ("onion-deliver -B", t1 - t0, b,
                                    sys.argv[6]))
print("%-34s %8.2f %8.1f %12s" % ("one onion-deliver per message",
                                    t3 - t2, e, sys.argv[7]))
print("ratio %.2fx" % (b / e))
EOP
