#!/bin/sh
# t/bench/sam.sh - sam-deliver flushing a queue over one SAM session,
# against one connection per message through an I2PTunnel-style client
# tunnel, both over the same real i2pd router on loopback (make bench).
#
# Bob runs sam-accept + smtp-receive into a maildir (fsync'd, the same for
# both).  Then, side by side in one run:
#  A. sam-deliver -B with BENCH_SAM_COUNT (1,000) one-kilobyte messages:
#     one session and one SMTP connection kept open for the whole queue,
#     timed once the session is up (the tunnel's is made beforehand too);
#     the total with i2pd's 20 s of session creation is printed as well;
#  B. the same messages sent with swaks, one process and one connection
#     each, through an i2pd client tunnel (127.0.0.1:PORT -> Bob's
#     destination, the way postman users reach smtp.postman.i2p), whose
#     own session is made before the clock starts.
# Prints messages per second for both and the ratio (target: A at least
# 3x B), and sam-deliver's peak RSS for a tenth of the queue and for all
# of it, which must be the same: memory does not grow with the queue.
# Every message must arrive: the maildir is counted after each run.
# One router only, so it shows nothing of the network; t/bench/sam-net.sh
# measures sam-deliver across routers.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
H=$top/t/helpers
count=${BENCH_SAM_COUNT:-1000}
PATH=$top/bin:$PATH
export PATH

command -v i2pd >/dev/null || { echo "bench: i2pd is not installed"; exit 1; }
command -v swaks >/dev/null || { echo "bench: swaks is not installed"; exit 1; }
test -x "$H/samtool" || { echo "bench: make helpers first"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nymbench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

"$H/i2pd-lab" -- sh -c "
	\"$H/samtool\" -t 10000 \"\$SAM_HOST\" \"\$SAM_PORT\" generate >bob.both" ||
	{ echo "bench: unable to make keys"; exit 1; }
sed -n 1p bob.both >bob.pub
mkdir -p bob/.config/nymbox alice/.config/nymbox/keys
chmod 700 bob/.config/nymbox alice/.config/nymbox
(umask 077 && sed -n 2p bob.both >bob/.config/nymbox/server.key)
bob=$(python3 -c 'import base64, hashlib, sys
d = base64.b64decode(open(sys.argv[1]).read().split()[0], b"-~")
n = 387 + int.from_bytes(d[385:387], "big")
print(base64.b32encode(hashlib.sha256(d[:n]).digest()).decode().lower().rstrip("=") + ".b32.i2p")' bob.pub)
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >tunnels.conf <<EOT
[smtp-bob]
type = client
address = 127.0.0.1
port = $tport
destination = $bob
keys = transient
inbound.length = 0
outbound.length = 0
inbound.quantity = 1
outbound.quantity = 1
i2cp.leaseSetType = 1
i2cp.leaseSetEncType = 0
EOT

# The queue: count messages of 1 KB, and the batch lines.
python3 - "$count" <<'EOP'
import os, sys
os.makedirs("queue", exist_ok=True)
for i in range(int(sys.argv[1])):
    head = "From: alice@alice.i2p\nTo: bob@bob\nSubject: message %d\n\n" % i
    body = ("line %d of the text, just to have a kilobyte here. " % i) * 20
    open("queue/m%05d" % i, "w").write((head + body)[:1023] + "\n")
EOP
for f in queue/*; do echo "$PWD/$f bob@$bob"; done >jobs
head -n $((count / 10 > 0 ? count / 10 : 1)) jobs >jobs10

cat >inside.sh <<'EOS'
set -u
count=$1 bob=$2 tport=$3
. "$4/t/helpers/holders.sh"
HOME=$PWD/bob sam-accept -w 60 sh -c 'exec smtp-receive -a -v none \
    -l "$I2P_LOCAL_B32" -d "$HOME/Maildir"' >bob.b32 2>bob.err &
acc=$!
# Alice's first sam-deliver leaves a holder lingering with her session
# (sam-linger): stopped by its PID, before the router goes.
trap 'holders_stop alice/.config/nymbox/keys
	kill $acc 2>/dev/null; wait $acc 2>/dev/null' EXIT
i=0; until test -s bob.b32; do i=$((i+1)); test $i -gt 900 && exit 1; sleep 0.1; done
delivered() { ls bob/Maildir/new 2>/dev/null | wc -l; }
# The tunnel's session comes up on its own; wait for a first message.
i=0
until swaks -S -S --server 127.0.0.1:$tport --from alice@alice.i2p \
    --to "bob@$bob" --helo localhost --data queue/m00000 >/dev/null 2>&1; do
	i=$((i+1)); test $i -gt 120 && { echo "bench: the tunnel never came up"; exit 1; }
	sleep 1
done
base=$(delivered)
now() { date +%s.%N; }

# sam-deliver reads its queue from a pipe: the first job shows the
# session is up (after i2pd's 20 s), then the clock runs for the rest, as
# it ran for the tunnel, whose session was made beforehand.
mkfifo q
ts=$(now)
HOME=$PWD/alice /usr/bin/time -f %M -o rss.all sam-deliver -w 60 -B \
    -f alice@alice.i2p <q >a.out 2>a.err &
sd=$!
exec 3>q
head -n 1 jobs >&3
i=0; until test -s a.out; do i=$((i+1)); test $i -gt 1200 && exit 1; sleep 0.1; done
t0=$(now)
sed 1d jobs >&3
exec 3>&-
wait $sd
t1=$(now)
a_ok=$(( $(delivered) - base ))
base=$(delivered)

t2=$(now)
for f in queue/*; do
	swaks -S -S --server 127.0.0.1:$tport --from alice@alice.i2p \
	    --to "bob@$bob" --helo localhost --data "$f" >/dev/null 2>&1 ||
		echo "swaks failed on $f" >&2
done
t3=$(now)
b_ok=$(( $(delivered) - base ))

HOME=$PWD/alice /usr/bin/time -f %M -o rss.tenth sam-deliver -w 60 -B \
    -f alice@alice.i2p <jobs10 >/dev/null 2>&1
echo "$ts $t0 $t1 $t2 $t3 $a_ok $b_ok $(cat rss.tenth) $(cat rss.all)" >result
EOS

echo "sam-deliver benchmark: $(nproc) CPUs, i2pd $(i2pd --version 2>/dev/null | sed -n '1s/.*version \([^ ]*\).*/\1/p'), $count messages of 1 KB"
"$H/i2pd-lab" -T tunnels.conf -- sh inside.sh "$count" "$bob" "$tport" "$top" ||
	{ echo "bench: the run failed"; cat bob.err a.err 2>/dev/null | tail -5; exit 1; }
read ts t0 t1 t2 t3 a_ok b_ok rss10 rssall <result
awk -v ts="$ts" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v n="$count" \
    -v a="$a_ok" -v b="$b_ok" -v r1="$rss10" -v r2="$rssall" 'BEGIN {
	ra = (n - 1) / (t1 - t0); rb = n / (t3 - t2)
	printf "%-50s %8s %9s\n", "job (sessions up)", "msg/s", "seconds"
	printf "%-50s %8.1f %9.2f\n", "sam-deliver -B: one session, one connection", ra, t1 - t0
	printf "%-50s %8.1f %9.2f\n", "swaks: a connection per message, client tunnel", rb, t3 - t2
	met = (ra / rb >= 3) ? "met" : "MISSED"
	printf "ratio: %.2fx (target >= 3x: %s)\n", ra / rb, met
	printf "sam-deliver with its session setup: %.1f s for %d messages (%.1f msg/s)\n", t1 - ts, n, n / (t1 - ts)
	printf "delivered: %d and %d of %d\n", a, b, n
	printf "sam-deliver peak RSS: %d KB for %d messages, %d KB for %d\n", r1, n / 10, r2, n
	if (a != n || b != n) exit 1
}'
