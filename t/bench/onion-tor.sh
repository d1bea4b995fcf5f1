#!/bin/sh
# t/bench/onion-tor.sh - onion mail over the suite's private Tor network
# (t/helpers/tor-net), side by side in one run (make bench):
#   onion-deliver -B flushing BENCH_ONION_COUNT (200) messages of 1 KB to
#     one onion: one stream, one circuit, one SMTP session, each message
#     signed with the sender onion's key;
#   the same messages with one SOCKS connection and SMTP session per
#     message (Python's socket and a plain SMTP dialogue, as a
#     "torsocks swaks" per message would), and with one onion-deliver
#     process per message (what a queue flush pays today);
#   the first message's latency (a fresh circuit to the onion).
# Bob's onion service forwards port 25 to smtp-receive under socat on
# the loopback of the network's namespace, writing a maildir; every
# message must arrive.  Needs root (or user namespaces), tor, socat.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
H=$top/t/helpers
count=${BENCH_ONION_COUNT:-200}
PATH=$top/bin:$PATH
export PATH count

work=$(mktemp -d "${TMPDIR:-/tmp}/nymbench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
HOME=$work
export HOME
mkdir -p "$HOME/.config/nymbox/keys" && : >"$HOME/.config/nymbox/config"
a=$(onion-key -c "$work/alice.key") &&
    mv "$work/alice.key" "$HOME/.config/nymbox/keys/$a" ||
    { echo "bench: no onion key"; exit 1; }
echo "$a" >alice.onion

text=$(printf '%s' "$(seq -s ' is a number, and so is ' 1 80)" | cut -c1-960)
mkdir queue
i=0
while test $i -lt "$count"; do
	printf 'From: alice@%s\nSubject: message %d\n\n%s\n' "$a" $i "$text" \
	    >"queue/m$(printf %05d $i)"
	i=$((i + 1))
done

cat >raw.py <<'EOF'
import os, socket, struct, sys
host, port = os.environ["TOR_SOCKS"].split(":")
sender, rcpt = sys.argv[1], sys.argv[2]
name = rcpt.split("@")[1].encode()
def reply(f):
    while True:
        l = f.readline()
        if not l:
            raise SystemExit("hung up")
        if l[3:4] != b"-":
            return l[:3]
for path in sys.argv[3:]:
    msg = open(path, "rb").read().replace(b"\n", b"\r\n")
    s = socket.create_connection((host, int(port)), timeout=120)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00"
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name +
              struct.pack(">H", 25))
    r = s.recv(10)
    assert r[1] == 0, "socks reply %d" % r[1]
    f = s.makefile("rb")
    reply(f)
    for c in (b"EHLO localhost", b"MAIL FROM:<" + sender.encode() + b">",
              b"RCPT TO:<" + rcpt.encode() + b">", b"DATA"):
        s.sendall(c + b"\r\n")
        reply(f)
    s.sendall(msg + b".\r\n")
    assert reply(f) == b"250"
    s.sendall(b"QUIT\r\n")
    reply(f)
    s.close()
EOF

cat >inside.sh <<'EOF'
w=$PWD
mkdir -p md.first md.batch md.raw md.each
socat TCP-LISTEN:2525,bind=127.0.0.1,reuseaddr,fork \
    EXEC:"smtp-receive -v none -a -l $ONION_bob -d $w/md.cur" &
sp=$!
n=0
until (echo QUIT | socat - TCP:127.0.0.1:2525) 2>/dev/null | grep -q '^220'; do
	n=$((n + 1)); test $n -lt 100 || exit 1; sleep 0.1
done
a=$(cat alice.onion)
now() { date +%s.%N; }
run() {	# NAME: what follows, into md.NAME, timed
	name=$1; shift
	rm -rf md.cur && ln -s "md.$name" md.cur
	t0=$(now)
	"$@" || { echo "bench: $name failed" >&2; exit 1; }
	echo "$t0 $(now) $(find md.$name -type f | wc -l)" >"t.$name"
}
first() { onion-deliver -f "alice@$a" "bob@$ONION_bob" <queue/m00000; }
batch() {
	for f in queue/*; do echo "$w/$f bob@$ONION_bob"; done |
	    onion-deliver -B -f "alice@$a" >/dev/null
}
raw() { python3 raw.py "alice@$a" "bob@$ONION_bob" queue/*; }
each() {
	for f in queue/*; do
		onion-deliver -f "alice@$a" "bob@$ONION_bob" <"$f" || return 1
	done
}
run first first
run batch batch
run raw raw
run each each
kill $sp
EOF

"$H/tor-net" -w 240 -s bob=25:127.0.0.1:2525 -- sh inside.sh >net.out 2>net.err ||
	{ echo "bench: the Tor network run failed"; cat net.err; exit 1; }
python3 - "$count" <<'EOP'
import sys
n = int(sys.argv[1])
t = {}
for k in ("first", "batch", "raw", "each"):
    a, b, c = open("t." + k).read().split()
    t[k] = (float(b) - float(a), int(c))
for k, want in (("first", 1), ("batch", n), ("raw", n), ("each", n)):
    if t[k][1] != want:
        sys.exit("bench: %s: %d of %d messages arrived" % (k, t[k][1], want))
print("onion mail over the private Tor network, %d messages of 1 KB to "
      "one onion, smtp-receive into a maildir" % n)
print("first message (a new circuit to the onion): %.2f s" % t["first"][0])
print("%-44s %8s %8s" % ("job", "total s", "msg/s"))
rows = (("onion-deliver -B (one circuit, one session)", "batch"),
        ("a SOCKS connection and session per message", "raw"),
        ("one onion-deliver process per message", "each"))
for label, k in rows:
    print("%-44s %8.2f %8.1f" % (label, t[k][0], n / t[k][0]))
b = n / t["batch"][0]
print("ratio -B / a connection per message: %.2fx" % (b / (n / t["raw"][0])))
print("ratio -B / a process per message: %.2fx" % (b / (n / t["each"][0])))
EOP
