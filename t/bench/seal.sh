#!/bin/sh
# t/bench/seal.sh - mbox-encrypt against age and cat, side by side (make
# bench).
#
# Two jobs, one process a run, the contenders taking turns run after run
# (t/bench/spawn.c), so that a noisy machine slows them alike; only the
# ratios count:
#
#  1. a 50 MB message (gencorpus.py's big.eml, mostly a base64 attachment),
#     stdin from the file, stdout to /dev/null: mbox-encrypt -k PUB against
#     age -r with an X25519 recipient (age-keygen); MB/s (10^6 bytes) of
#     the median of BENCH_REPS runs.  Target: at least age's throughput.
#  2. BENCH_SEAL_COUNT (2,000) different messages of one kilobyte, one
#     process each, as procmail or an MTA's pipe runs it: the total wall
#     time of mbox-encrypt against cat on the same files (age too, for
#     scale).  Target: within 1.25x of cat's time.
#
# Every contender's output is checked once before timing (it decrypts to
# the input); a benchmark of a failing run is worthless.  Environment:
# BENCH_SEED (1), BENCH_BIG_MB (50), BENCH_REPS (9), BENCH_SEAL_COUNT
# (2000).  Needs python3, cc, age (package age).

seed=${BENCH_SEED:-1}
bigmb=${BENCH_BIG_MB:-50}
reps=${BENCH_REPS:-9}
count=${BENCH_SEAL_COUNT:-2000}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P) || die "unable to find $0"
top=$(cd "$here/../.." && pwd -P) || die "unable to find the top directory"
enc=$top/bin/mbox-encrypt
start=$(date +%s)

test -x "$enc" || die "$enc is missing: run make first"
for p in python3 cc age age-keygen awk; do
	command -v $p >/dev/null 2>&1 || die "$p is needed (age: package age)"
done

# A scratch HOME: the keys made here are not the user's.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-seal.XXXXXX") ||
	die "unable to make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
HOME=$tmp/home
LC_ALL=C
export HOME LC_ALL
unset NYMBOX_CONF XDG_CONFIG_HOME
mkdir "$HOME" "$tmp/small" || die "unable to make $HOME"

# ---- the inputs
python3 "$here/gencorpus.py" --seed "$seed" --count 0 --big-mb "$bigmb" \
    --mid-mb 1 "$tmp/c" >/dev/null || die "unable to generate the message"
big=$tmp/c/big.eml
python3 - "$seed" "$count" "$tmp/small" <<'EOP' || die "unable to make the small messages"
import random, sys
r = random.Random(int(sys.argv[1]))
words = "the of and to in is for on that with as at by from this be or are".split()
for i in range(int(sys.argv[2])):
    head = ("From: Alice <alice@alice.i2p>\nTo: bob@bob.i2p\n"
            "Subject: note %d\nMessage-ID: <%d.%x@mail.i2p>\n"
            "Date: Tue, 14 Nov 2023 22:13:20 +0000\n\n") % (i, i, r.getrandbits(64))
    body = ""
    while len(head) + len(body) < 1024:
        body += " ".join(r.choice(words) for _ in range(11)) + "\n"
    msg = (head + body)[:1023] + "\n"
    open("%s/m%05d" % (sys.argv[3], i), "w").write(msg)
EOP
ls "$tmp/small" | sed "s|^|$tmp/small/|" >"$tmp/small.list"

cc -O2 -o "$tmp/spawn" "$here/spawn.c" || die "unable to build spawn"
spawn=$tmp/spawn

printf 'pw\n' >"$tmp/pw" && chmod 600 "$tmp/pw" &&
    "$enc" -g -P "$tmp/pw" -k "$tmp/inbox.pub" -K "$tmp/inbox.key" ||
	die "mbox-encrypt -g failed"
age-keygen -o "$tmp/age.key" 2>/dev/null || die "age-keygen failed"
recip=$(age-keygen -y "$tmp/age.key") || die "age-keygen -y failed"
menc="$enc -k $tmp/inbox.pub"
aenc="age -r $recip"

# ---- checks: each contender's output decrypts to its input
$menc <"$big" >"$tmp/big.m" &&
    "$enc" -x -P "$tmp/pw" -K "$tmp/inbox.key" <"$tmp/big.m" | cmp -s - "$big" ||
	die "mbox-encrypt did not round-trip $big"
$aenc <"$big" >"$tmp/big.a" &&
    age -d -i "$tmp/age.key" <"$tmp/big.a" | cmp -s - "$big" ||
	die "age did not round-trip $big"
one=$(sed 1q "$tmp/small.list")
$menc <"$one" >"$tmp/one.m" &&
    "$enc" -x -P "$tmp/pw" -K "$tmp/inbox.key" <"$tmp/one.m" | cmp -s - "$one" ||
	die "mbox-encrypt did not round-trip $one"
rm -f "$tmp/big.m" "$tmp/big.a"

# ---- the measurements
"$spawn" "$reps" "$big" "$menc" "$aenc" cat >"$tmp/t.big" ||
	die "the 50 MB runs failed"
"$spawn" -l "$count" "$tmp/small.list" "$menc" cat "$aenc" >"$tmp/t.small" ||
	die "the one-kilobyte runs failed"
/usr/bin/time -f %M -o "$tmp/rss" $menc <"$big" >/dev/null 2>&1 ||
	die "mbox-encrypt failed under time(1)"

# ---- the report
# line FILE N [F]: field F of line N, the Nth command's median (F = 1) or
# total (F = 2) in microseconds
line()
{
	sed -n "$2p" "$1" | cut -d' ' -f"${3:-1}"
}

cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | sed 1q)
printf 'mbox-encrypt benchmark: %s CPUs, %s, %s, age %s\n' \
    "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)" \
    "${cpu:-unknown CPU}" "$(uname -sr)" "$(age --version 2>/dev/null)"
printf 'Figures are only comparable within one run: compare the ratios.\n\n'

awk -v bigb="$(wc -c <"$big")" -v reps="$reps" -v n="$count" \
    -v bm="$(line "$tmp/t.big" 1)" -v ba="$(line "$tmp/t.big" 2)" \
    -v bc="$(line "$tmp/t.big" 3)" \
    -v sm="$(line "$tmp/t.small" 1 2)" -v sc="$(line "$tmp/t.small" 2 2)" \
    -v sa="$(line "$tmp/t.small" 3 2)" -v rss="$(cat "$tmp/rss")" '
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
	fmt = "%-34s %13s %11s %11s %7s  %s\n"
	printf fmt, "job", "mbox-encrypt", "age", "cat", "ratio", "target"
	m = bigb / bm; a = bigb / ba; c = bigb / bc
	printf fmt, sprintf("%.0f MB message, median of %d", bigb / 1e6, reps),
	    sprintf("%.0f MB/s", m), sprintf("%.0f MB/s", a),
	    sprintf("%.0f MB/s", c), sprintf("%.2fx", m / a),
	    "vs age >= 1x " verdict(m >= a)
	printf fmt, sprintf("%d x 1 KB, a process each", n),
	    sprintf("%.2f s", sm / 1e6), sprintf("%.2f s", sa / 1e6),
	    sprintf("%.2f s", sc / 1e6), sprintf("%.2fx", sm / sc),
	    "vs cat <= 1.25x " verdict(sm <= 1.25 * sc)
	printf "\n"
	printf "ratio: mbox-encrypt against age (throughput) on the big message,\n"
	printf "against cat (time) on the small ones.  stdin from the file,\n"
	printf "stdout to /dev/null; MB are 10^6 bytes.\n"
	printf "peak RSS of mbox-encrypt on the %.0f MB message: %d KB\n",
	    bigb / 1e6, rss
}'
printf 'bench: done in %d s\n' $(($(date +%s) - start))
