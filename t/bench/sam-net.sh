#!/bin/sh
# t/bench/sam-net.sh - sam-deliver across routers on the project's own
# private I2P network (t/helpers/i2p-net: Alice on router A, Bob on
# router B), with the shared session holder (make bench; issue 10,
# "Performance").
#
# Bob has three receiving keys on router B, each a sam-accept running
# smtp-receive into a maildir of its own (fsync'd); Alice has one on
# router A for the way back.  Every job below sends with a sender key of
# its own that has no session yet, so each pays exactly one session
# creation (i2pd 2.45.1: about 20 s), through the holder the first
# sam-deliver starts; the holder is stopped (by PID) after its job, and
# the next job's key never had a session, so no gap is waited for.
# Side by side, in this order:
#
#  1. qr-ab: BENCH_SAM_NET_COUNT (100) one-kilobyte messages, queued with
#     delay-queue -m now to the three destinations in turn, flushed by
#     queue-run as a user runs it: one sam-deliver per message, the
#     first starting the holder, the others borrowing it.  Timed from
#     queue-run's start to its exit.
#     b-ab: the same messages, one `sam-deliver -B` run, timed the same
#     way (its start to its exit), given them sorted by destination: -B
#     keeps its SMTP connection only while the destination stays the
#     same, so this is the best it does.  It goes second, so it may find
#     Bob's LeaseSets in router A's netDb: the ratio errs against
#     queue-run.
#     Target: qr-ab within 1.5x of b-ab.
#  2. par: BENCH_SAM_NET_PAR (5) sam-deliver runs started at once with one
#     key, a message each, to the destinations in turn (as Postfix's
#     pipe(8) runs them): all must exit 0.  Timed from the first start to
#     the last exit.  par-b: the same messages, one `sam-deliver -B` run
#     (one session creation plus the transfers).  Target: within 1.5x.
#  3. qr-ba, b-ba: as 1, Bob to Alice: BENCH_SAM_NET_BACK (the count of
#     1; 0 skips them) messages from a key on router B to Alice's.
#
# For each job: the total, the first message's latency (from the job's
# start to the first message in a maildir; it includes the session's
# creation) and the steady rate, messages a second from the
# (count/10)th delivery to the last.  Delivery times are the maildir
# files' modification times.  Every message must be in the maildir of its
# destination exactly once (counted by its Subject) and every program
# must succeed, or the bench fails (exit 1; 70 if a router died, 3 if the
# network did not come up).  A missed target is printed, not a failure.
# BENCH_SAM_NET_LOSE=1 removes one delivered message before the count,
# to see the bench fail as it must.  The figures are measured in this run
# only; the environment (CPUs, load before and after) is printed with
# them.  Needs i2pd, python3, iproute2 (else i2p-net falls back to one
# router, which the output says), and make all helpers.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd -P)
H=$top/t/helpers
B=$top/bin
count=${BENCH_SAM_NET_COUNT:-100}
npar=${BENCH_SAM_NET_PAR:-5}
back=${BENCH_SAM_NET_BACK:-$count}
. "$top/t/helpers/holders.sh"

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}
now() { date +%s.%N; }

# ---- Inside the network (i2p-net runs this script again, with the
# work directory as its argument).
if test "${SAMNET_INSIDE:-}" = 1; then
	W=$1
	cd "$W" || exit 1
	unset SAMNET_INSIDE
	PATH=$B:$PATH
	export PATH
	accs=			# the acceptors
	jobs=			# sam-deliver runs in the background
	cleanup() {
		trap '' TERM INT HUP
		for p in $jobs; do kill -TERM "$p" 2>/dev/null; done
		holders_stop "$W"/h/*/.config/nymbox/keys
		for p in $jobs $accs; do kill -TERM "$p" 2>/dev/null; done
		for p in $jobs $accs; do
			i=0
			while kill -0 "$p" 2>/dev/null && test $i -lt 100; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		done
	}
	trap cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
	fail() {
		echo "bench: $*" >&2
		exit 1
	}

	# The receivers: bob1-3 on B, alice on A; keys made by the bridge.
	recv() {	# NAME PORT
		mkdir -p "r/$1/.config/nymbox" && chmod 700 "r/$1/.config/nymbox" &&
		(umask 077 && "$H/samtool" -t 10000 127.0.0.1 "$2" generate |
		    sed -n 2p >"r/$1/key") && test -s "r/$1/key" ||
			fail "unable to make the key of $1"
		SAM_PORT=$2 HOME=$W/r/$1 sam-accept -w 60 -k "$W/r/$1/key" \
		    sh -c 'exec smtp-receive -a -v none -l "$I2P_LOCAL_B32" \
			-d "$HOME/Maildir"' >"r/$1/b32" 2>"r/$1/err" &
		accs="$accs $!"
		echo $! >"r/$1/pid"
	}
	recv bob1 "$SAM_PORT_B"
	recv bob2 "$SAM_PORT_B"
	recv bob3 "$SAM_PORT_B"
	test "$back" -gt 0 && recv alice "$SAM_PORT_A"
	for r in r/*; do
		i=0
		until test -s "$r/b32"; do
			kill -0 "$(cat "$r/pid")" 2>/dev/null ||
				fail "${r#r/}'s sam-accept exited: $(tail -n 2 "$r/err")"
			i=$((i + 1))
			test $i -le 1200 ||
				fail "${r#r/}'s sam-accept: no session after 120 s: $(tail -n 2 "$r/err")"
			sleep 0.1
		done
	done
	# The senders: a key each, made now (DEST GENERATE), never used.
	sender() {	# JOB DOMAIN PORT
		mkdir -p "h/$1/.config/nymbox/keys" && chmod 700 "h/$1/.config/nymbox" &&
		(umask 077 && "$H/samtool" -t 10000 127.0.0.1 "$3" generate |
		    sed -n 2p >"h/$1/.config/nymbox/keys/$2.key") &&
		test -s "h/$1/.config/nymbox/keys/$2.key" ||
			fail "unable to make the key of $1"
	}
	# msgs JOB N USER DEST...: N messages in m/JOB/, each to USER at the
	# destinations in turn; m/JOB.rcpt says "file recipient" for each.
	msgs() {
		j=$1 n=$2 u=$3
		shift 3
		mkdir -p "m/$j" || fail "unable to make m/$j"
		: >"m/$j.rcpt"
		i=0
		while test $i -lt "$n"; do
			d=$(( i % $# + 1 ))
			eval "dest=\$$d"
			f=$W/m/$j/$i
			{
				printf 'From: sender@example.i2p\nTo: %s@%s\n' "$u" "$dest"
				printf 'Subject: sam-net %s %d %d\n\n' "$j" "$i" "$d"
				k=0
				while test $k -lt 14; do
					printf 'line %d of message %d, %s, filling a kilobyte.\n' \
					    "$k" "$i" "$j"
					k=$((k + 1))
				done
			} >"$f"
			echo "$f $u@$dest" >>"m/$j.rcpt"
			i=$((i + 1))
		done
	}
	record() { echo "$*" >>times; }
	# Bob's three destinations (b32 addresses).
	bobs="$(cat r/bob1/b32) $(cat r/bob2/b32) $(cat r/bob3/b32)"

	# qr JOB N FROM PORT USER DEST...: queue, then flush with queue-run.
	qr() {
		j=$1 n=$2 from=$3 port=$4 u=$5
		shift 5
		sender "$j" "${from#*@}" "$port"
		msgs "$j" "$n" "$u" "$@"
		while read -r f rcpt; do
			HOME=$W/h/$j delay-queue -m now -f "$from" "$rcpt" \
			    -- "$B/sam-deliver" -w 60 <"$f" 2>>"h/$j.err" ||
				fail "$j: delay-queue failed: $(tail -n 1 "h/$j.err")"
		done <"m/$j.rcpt"
		t0=$(now)
		HOME=$W/h/$j SAM_PORT=$port queue-run -T 300 >"h/$j.out" 2>>"h/$j.err"
		rc=$?
		t1=$(now)
		HOME=$W/h/$j queue-run -l >"h/$j.left" 2>>"h/$j.err"
		test -s "h/$j.left" && rc="left:$(wc -l <"h/$j.left")"
		record "$j $n $t0 $t1 $rc"
		holders_stop "h/$j/.config/nymbox/keys"
	}
	# bat JOB N FROM PORT USER DEST...: one sam-deliver -B run.
	bat() {
		j=$1 n=$2 from=$3 port=$4 u=$5
		shift 5
		sender "$j" "${from#*@}" "$port"
		msgs "$j" "$n" "$u" "$@"
		sort -s -k2,2 "m/$j.rcpt" >"m/$j.batch"
		t0=$(now)
		HOME=$W/h/$j SAM_PORT=$port sam-deliver -B -w 60 -f "$from" \
		    <"m/$j.batch" >"h/$j.out" 2>"h/$j.err"
		rc=$?
		t1=$(now)
		ok=$(awk '$2 == 0' "h/$j.out" | wc -l)
		test "$rc" = 0 && test "$ok" != "$n" && rc="ok:$ok"
		record "$j $n $t0 $t1 $rc"
		holders_stop "h/$j/.config/nymbox/keys"
	}
	# par JOB N FROM PORT USER DEST...: N sam-deliver runs at once.
	par() {
		j=$1 n=$2 from=$3 port=$4 u=$5
		shift 5
		sender "$j" "${from#*@}" "$port"
		msgs "$j" "$n" "$u" "$@"
		jobs=
		t0=$(now)
		while read -r f rcpt; do
			HOME=$W/h/$j SAM_PORT=$port sam-deliver -w 60 -f "$from" \
			    "$rcpt" <"$f" 2>>"h/$j.err" &
			jobs="$jobs $!"
		done <"m/$j.rcpt"
		codes=
		for p in $jobs; do
			wait "$p"
			codes="$codes,$?"
		done
		t1=$(now)
		jobs=
		rc=0
		test "$(echo "$codes" | tr -d ',0')" = "" || rc="exits${codes#,}"
		record "$j $n $t0 $t1 $rc"
		holders_stop "h/$j/.config/nymbox/keys"
	}

	echo "$I2P_NET_MODE ${I2P_NET_READY:-?}" >net
	: >times
	uptime >load.start
	qr qr-ab "$count" alice@alice.i2p "$SAM_PORT_A" bob $bobs
	bat b-ab "$count" alice@alice.i2p "$SAM_PORT_A" bob $bobs
	par par "$npar" alice@alice.i2p "$SAM_PORT_A" bob $bobs
	bat par-b "$npar" alice@alice.i2p "$SAM_PORT_A" bob $bobs
	if test "$back" -gt 0; then
		qr qr-ba "$back" bob@bob.i2p "$SAM_PORT_B" alice "$(cat r/alice/b32)"
		bat b-ba "$back" bob@bob.i2p "$SAM_PORT_B" alice "$(cat r/alice/b32)"
	fi
	uptime >load.end
	exit 0
fi

# ---- Outside: check, run the network, then count and report.
command -v i2pd >/dev/null || die "i2pd is not installed"
command -v python3 >/dev/null || die "python3 is needed"
for p in sam-deliver sam-accept smtp-receive delay-queue queue-run; do
	test -x "$B/$p" || die "$B/$p is missing: make all"
done
test -x "$H/samtool" || die "$H/samtool is missing: make helpers"
for v in "$count" "$npar" "$back"; do
	case $v in ''|*[!0-9]*) die "the counts must be numbers" ;; esac
done
test "$count" -ge 1 && test "$npar" -ge 1 || die "the counts must be 1 or more"

# The holders' sockets must fit a UNIX socket's path (107 bytes).
W=$(mktemp -d /tmp/nymsamnet.XXXXXX) || die "unable to make a temporary directory"
trap 'rm -rf "$W"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
unset NYMBOX_CONF NYMBOX_NOW SENDER XDG_CONFIG_HOME SAM_OPTS SAM_HOST SAM_PORT
LC_ALL=C
export LC_ALL

cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | sed 1q)
printf 'sam-deliver across routers (t/helpers/i2p-net): %s CPUs, %s, i2pd %s\n' \
    "$(nproc)" "${cpu:-unknown CPU}" \
    "$(i2pd --version 2>/dev/null | sed -n '1s/^i2pd version \([^ ]*\).*/\1/p')"
printf 'load before the network: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
SAMNET_INSIDE=1 "$H/i2p-net" -- sh "$top/t/bench/sam-net.sh" "$W" 2>"$W/net.err"
rc=$?
if test $rc != 0; then
	tail -n 12 "$W/net.err" >&2
	for f in "$W"/h/*.err "$W"/r/*/err; do
		test -s "$f" && { echo "--- $f"; tail -n 4 "$f"; } >&2
	done
	die "the run failed (i2p-net exit $rc)"
fi
read -r mode ready <"$W/net" || die "the run left no $W/net"
case $mode in
three-routers) printf 'network: three routers (F, A, B), ready after %s s\n' "$ready" ;;
*) printf 'network: %s: every stream stays inside one router\n' "$mode" ;;
esac
test "${BENCH_SAM_NET_LOSE:-}" = 1 &&
	rm -f "$(ls "$W"/r/bob1/Maildir/new/* | sed 1q)"

python3 - "$W" "$count" "$npar" "$back" <<'EOP'
import os, sys
W = sys.argv[1]
bad = []
jobs = {}
for line in open(os.path.join(W, "times")):
    j, n, t0, t1, rc = line.split()
    jobs[j] = dict(n=int(n), t0=float(t0), t1=float(t1), rc=rc, times=[])
    if rc != "0":
        bad.append("%s: failed (%s); see the errors above" % (j, rc))
# Each message of each job: in the maildir of its destination, once.
seen = {}
for r in sorted(os.listdir(os.path.join(W, "r"))):
    d = os.path.join(W, "r", r, "Maildir", "new")
    for f in os.listdir(d) if os.path.isdir(d) else []:
        p = os.path.join(d, f)
        subj = None
        for l in open(p, errors="replace"):
            if l.startswith("Subject: sam-net "):
                subj = l.split()[2:5]
                break
            if l in ("\n", "\r\n"):
                break
        if subj is None:
            bad.append("%s: a message of no job in %s" % (f, r))
            continue
        j, i, dest = subj
        want = "alice" if j.endswith("-ba") else "bob" + dest
        if r != want:
            bad.append("%s message %s is in %s's maildir, not %s's" % (j, i, r, want))
        seen.setdefault((j, i), []).append(os.stat(p).st_mtime)
for (j, i), ts in seen.items():
    if j not in jobs:
        bad.append("message %s of job %s, which did not run" % (i, j))
        continue
    if len(ts) > 1:
        bad.append("%s message %s was delivered %d times" % (j, i, len(ts)))
    jobs[j]["times"].append(min(ts))
for j, v in jobs.items():
    for i in range(v["n"]):
        if (j, str(i)) not in seen:
            bad.append("%s message %d was not delivered" % (j, i))
    v["times"].sort()

def row(j, what):
    v = jobs.get(j)
    if v is None:
        return None
    t, n = v["times"], v["n"]
    total = v["t1"] - v["t0"]
    first = t[0] - v["t0"] if t else float("nan")
    k = max(1, n // 10)
    rate = "-"
    if len(t) == n and n - k >= 4 and t[-1] > t[k - 1]:
        rate = "%.1f" % ((n - k) / (t[-1] - t[k - 1]))
    print("%-46s %5d %8.2f %8.2f %8s %6d/%d" % (what, n, total, first, rate,
        len(t), n))
    return total

print("%-46s %5s %8s %8s %8s %8s" % ("job (each: a fresh key, one session)",
    "msgs", "total s", "first s", "msg/s", "arrived"))
def pair(a, b, wa, wb, target=None):
    ta, tb = row(a, wa), row(b, wb)
    if ta is None or tb is None:
        return
    r = ta / tb
    if target is None:
        print("%-46s %.2fx" % ("  ratio, total time", r))
    else:
        print("%-46s %.2fx (target <= %.1fx: %s)" % ("  ratio, total time",
            r, target, "met" if r <= target else "MISSED"))
c, p, bk = sys.argv[2], sys.argv[3], sys.argv[4]
pair("qr-ab", "b-ab", "A->B queue-run, 1 sam-deliver a message",
    "A->B one sam-deliver -B, the same messages", 1.5)
pair("par", "par-b", "A->B %s sam-deliver at once, one key" % p,
    "A->B one sam-deliver -B, the same messages", 1.5)
pair("qr-ba", "b-ba", "B->A queue-run, 1 sam-deliver a message",
    "B->A one sam-deliver -B, the same messages")
print("A->B: 3 destinations on router B in turn%s." % (
    "; B->A: 1 on router A" if "qr-ba" in jobs else ""))
print("first: from the job's start to the first message in a maildir,")
print("session creation included; msg/s: from the (n/10)th message to the last.")
for e in bad[:20]:
    print("bench: " + e, file=sys.stderr)
if bad:
    print("bench: FAILED: %d problem(s)%s" % (len(bad),
        " (first 20 shown)" if len(bad) > 20 else ""), file=sys.stderr)
    sys.exit(1)
print("every message arrived exactly once, in its destination's maildir")
EOP
rc=$?
printf 'load: %s before the jobs; %s after\n' \
    "$(sed 's/.*load average: //' "$W/load.start")" \
    "$(sed 's/.*load average: //' "$W/load.end")"
printf 'bench: done in %d s\n' $(($(date +%s) - start))
exit $rc
