#!/bin/sh
# t/bench/run.sh - scrub-headers against formail, measured side by side
# (make bench).
#
# Three jobs, each pair timed in the same run with the two programs taking
# turns, so a noisy machine slows both alike and only the ratios count:
#
#  1. a 10,000-message mbox: scrub-headers -m against formail -s with the
#     same fields removed (formail has no allowlist, so it gets one -I per
#     field name of the corpus that scrub-headers drops); messages a
#     second, median of BENCH_REPS runs;
#  2. one process per message, as procmail and MTA pipes run it: median
#     wall time on a typical 3 KB message over BENCH_SPAWN runs each, and
#     the total over the first 1,000 maildir messages, one process each;
#  3. a 50 MB message with a large base64 attachment: MB/s (10^6 bytes),
#     from a file into /dev/null and through pipes (fed and read as
#     procmail and an MTA's pipe transport do, beside cat on the same
#     pipes), and the peak RSS for it and for a 10 MB one, which must not
#     differ: memory is bounded by the header limits, not by the message
#     size.
#
# BENCH_BASE=/path/to/an/older/scrub-headers runs that binary beside the
# current one in every job and prints how the two compare, measured in
# the same run: how a change costs, on this machine, now.  Both run from
# copies made alike in the scratch directory.
#
# Every run must exit 0, and the outputs are checked once before timing;
# a benchmark of a failing run is worthless, so any failure stops it.
# The corpus comes from gencorpus.py and is kept in bench-out/, keyed by
# the generator's version, checksum and arguments.  Environment:
# BENCH_SEED (1), BENCH_COUNT (10000), BENCH_BIG_MB (50), BENCH_REPS (9),
# BENCH_SPAWN (2000), BENCH_MAILDIR (1000), BENCH_BASE (none).  Needs python3, cc, formail
# (procmail) and /usr/bin/time (time).

seed=${BENCH_SEED:-1}
count=${BENCH_COUNT:-10000}
bigmb=${BENCH_BIG_MB:-50}
reps=${BENCH_REPS:-9}
nspawn=${BENCH_SPAWN:-2000}
nmaildir=${BENCH_MAILDIR:-1000}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P) || die "unable to find $0"
top=$(cd "$here/../.." && pwd -P) || die "unable to find the top directory"
out=$top/bench-out
scrub=$top/bin/scrub-headers
start=$(date +%s)

test -x "$scrub" || die "$scrub is missing: run make first"
base=${BENCH_BASE:-}
test -z "$base" || test -x "$base" || die "BENCH_BASE: $base is no program"
for p in python3 cc formail awk; do
	command -v $p >/dev/null 2>&1 || die "$p is needed (formail: package procmail)"
done
test -x /usr/bin/time || die "/usr/bin/time is needed (package time)"

# scrub-headers makes its key in ~/.config/nymbox on first use: a scratch
# HOME keeps the user's configuration and key out of the benchmark.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-bench.XXXXXX") ||
	die "unable to make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
HOME=$tmp/home
LC_ALL=C
export HOME LC_ALL
unset NYMBOX_CONF XDG_CONFIG_HOME
mkdir "$HOME" "$out" 2>/dev/null
test -d "$HOME" && test -d "$out" || die "unable to make $HOME or $out"

# ---- the corpus, generated once per generator version and arguments
ver=$(python3 "$here/gencorpus.py" --version) || die "gencorpus.py failed"
sum=$(cksum <"$here/gencorpus.py" | cut -d' ' -f1)
c=$out/corpus-v$ver-s$seed-n$count-b$bigmb-$sum
if ! test -f "$c/stats.txt"; then
	printf 'bench: generating the corpus in %s\n' "$c" >&2
	rm -rf "$out"/corpus-*
	python3 "$here/gencorpus.py" --seed "$seed" --count "$count" \
	    --big-mb "$bigmb" "$c.new" >/dev/null &&
	    mv "$c.new" "$c" || die "unable to generate the corpus"
fi
cc -O2 -o "$out/spawn" "$here/spawn.c" || die "unable to build spawn"
spawn=$out/spawn

# ---- checks: exit status 0, output there and of the expected size
mbox=$c/bench.mbox
"$scrub" -m <"$mbox" >"$tmp/out.mbox" ||
	die "scrub-headers -m < $mbox failed (exit $?)"
nin=$(grep -c '^From ' "$mbox")
nout=$(grep -c '^From ' "$tmp/out.mbox")
test "$nin" -eq "$count" || die "$mbox holds $nin messages, not $count"
test "$nout" -eq "$nin" ||
	die "scrub-headers -m wrote $nout messages of $nin (a bug; reproduce: scrub-headers -m < $mbox)"
inbytes=$(wc -c <"$mbox")
outbytes=$(wc -c <"$tmp/out.mbox")

# formail's removal list: the field names at the top of the corpus's
# messages that scrub-headers drops, found by scrubbing one message that
# holds each of them once.
awk 'prev == "" && /^From / { inhdr = 1; prev = "x"; next }
	{ prev = $0; sub(/\r$/, "", prev) }
	inhdr && prev == "" { inhdr = 0 }
	inhdr && /^[!-9;-~]+:/ { sub(/:.*/, ""); seen[tolower($0)] = 1 }
	END { for (n in seen) print n }' "$mbox" | sort >"$tmp/names"
{ sed 's/$/: x/' "$tmp/names"; printf '\nbody\n'; } | "$scrub" >"$tmp/probe" ||
	die "scrub-headers failed on the probe message $tmp/probe"
sed -n '/^$/q; s/:.*//p' "$tmp/probe" | tr 'A-Z' 'a-z' | sort >"$tmp/kept"
comm -23 "$tmp/names" "$tmp/kept" >"$tmp/dropped"
ndropped=$(wc -l <"$tmp/dropped")
cp "$tmp/dropped" "$out/formail-removes.txt"
test "$ndropped" -gt 0 || die "no field to remove: the probe kept all of $(wc -l <"$tmp/names")"
# Word-split on purpose where it is used, as spawn splits its commands.
fopts=$(sed 's/^/-I /; s/$/:/' "$tmp/dropped" | tr '\n' ' ')
formail $fopts -s <"$mbox" >"$tmp/formail.mbox" ||
	die "formail -s < $mbox failed"
nformail=$(grep -c '^From ' "$tmp/formail.mbox")

single=$c/single.eml
for cmd in "$scrub" "formail $fopts"; do
	$cmd <"$single" >"$tmp/single.out" && test -s "$tmp/single.out" ||
	    die "${cmd%% *} < $single failed or wrote nothing"
done

ls "$c/maildir/cur" | head -n "$nmaildir" | sed "s|^|$c/maildir/cur/|" \
    >"$tmp/maildir.list"
nmd=$(wc -l <"$tmp/maildir.list")
while read -r f; do
	"$scrub" <"$f" >"$tmp/md.out" && test -s "$tmp/md.out" ||
	    die "scrub-headers < $f failed or wrote nothing (a bug)"
done <"$tmp/maildir.list"

for f in mid big; do
	# Through pipes, as procmail feeds it.
	cat "$c/$f.eml" | /usr/bin/time -f %M -o "$tmp/$f.rss" "$scrub" |
	    cat >"$tmp/$f.out" && test -s "$tmp/$f.rss" ||
	    die "cat $c/$f.eml | scrub-headers failed"
	inb=$(wc -c <"$c/$f.eml")
	outb=$(wc -c <"$tmp/$f.out")
	# Only the header and the boundaries change: a few hundred bytes.
	test $((inb - outb)) -lt 65536 && test $((outb - inb)) -lt 65536 ||
	    die "scrub-headers turned $inb bytes of $f.eml into $outb"
done

# ---- the measurements (BENCH_BASE, if any, last in each: line 4 of
# the single run, 3 of mbox, maildir and pipe, 2 of big)
# The two scrub-headers binaries run from copies made alike in the
# scratch directory: how a binary's file came to be (a linker's writes
# minutes ago, or a copy) moved its start-up by 5% on the project's
# machine, which is no property of the program.
mkdir "$tmp/bin" && cp "$scrub" "$tmp/bin/scrub-headers" ||
	die "unable to copy $scrub to $tmp/bin"
new=$tmp/bin/scrub-headers
old=
if test -n "$base"; then
	cp "$base" "$tmp/bin/base-scrub-headers" ||
		die "unable to copy $base to $tmp/bin"
	old=$tmp/bin/base-scrub-headers
fi
"$spawn" "$reps" "$mbox" "$new -m" "formail $fopts -s" \
    ${old:+"$old -m"} >"$tmp/t.mbox" || die "the mbox runs failed"
"$spawn" "$nspawn" "$single" "$new" "formail $fopts" cat \
    ${old:+"$old"} >"$tmp/t.single" || die "the one-process runs failed"
"$spawn" -l "$nmd" "$tmp/maildir.list" "$new" "formail $fopts" \
    ${old:+"$old"} >"$tmp/t.maildir" || die "the maildir runs failed"
"$spawn" "$reps" "$c/big.eml" "$new" ${old:+"$old"} >"$tmp/t.big" ||
	die "the big message runs failed"
"$spawn" -p "$reps" "$c/big.eml" "$new" cat ${old:+"$old"} \
    >"$tmp/t.pipe" || die "the big message runs through pipes failed"

# ---- the report
# line FILE N [F]: field F of line N, the Nth command's median (F = 1) or
# total (F = 2) in microseconds
line()
{
	sed -n "$2p" "$1" | cut -d' ' -f"${3:-1}"
}

cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | sed 1q)
printf 'scrub-headers benchmark: %s CPUs, %s, %s\n' \
    "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)" \
    "${cpu:-unknown CPU}" "$(uname -sr)"
printf 'Figures are only comparable within one run: compare the ratios.\n'
printf 'corpus: %s messages, %s bytes (seed %s, gencorpus %s)\n' \
    "$count" "$inbytes" "$seed" "$ver"
printf 'formail gets -I for %s fields, listed in bench-out/formail-removes.txt\n\n' \
    "$ndropped"

awk -v n="$count" -v inb="$inbytes" -v outb="$outbytes" -v nf="$nformail" \
    -v ms="$(line "$tmp/t.mbox" 1)" -v mf="$(line "$tmp/t.mbox" 2)" \
    -v reps="$reps" \
    -v ss="$(line "$tmp/t.single" 1)" -v sf="$(line "$tmp/t.single" 2)" \
    -v sc="$(line "$tmp/t.single" 3)" -v nsp="$nspawn" \
    -v ds="$(line "$tmp/t.maildir" 1 2)" -v df="$(line "$tmp/t.maildir" 2 2)" \
    -v nmd="$nmd" \
    -v bs="$(line "$tmp/t.big" 1)" -v bigb="$(wc -c <"$c/big.eml")" \
    -v ps="$(line "$tmp/t.pipe" 1)" -v pc="$(line "$tmp/t.pipe" 2)" \
    -v rmid="$(cat "$tmp/mid.rss")" -v rbig="$(cat "$tmp/big.rss")" \
    -v midb="$(wc -c <"$c/mid.eml")" '
function verdict(ok) { return ok ? "met" : "MISSED" }
BEGIN {
	fmt = "%-40s %14s %14s %7s  %s\n"
	printf fmt, "job", "scrub-headers", "formail", "ratio", "target"
	rs = n / (ms / 1e6); rf = n / (mf / 1e6)
	printf fmt, sprintf("mbox of %d msgs, median of %d", n, reps),
	    sprintf("%.0f msg/s", rs), sprintf("%.0f msg/s", rf),
	    sprintf("%.1fx", rs / rf), ">= 5x " verdict(rs / rf >= 5)
	printf fmt, sprintf("1 process a msg, median of %d", nsp),
	    sprintf("%.3f ms", ss / 1e3), sprintf("%.3f ms", sf / 1e3),
	    sprintf("%.2fx", sf / ss), ">= 1x " verdict(ss <= sf)
	printf fmt, sprintf("1 process a msg, %d maildir msgs, total", nmd),
	    sprintf("%.0f ms", ds / 1e3), sprintf("%.0f ms", df / 1e3),
	    sprintf("%.2fx", df / ds), ""
	mbs = bigb / 1e6 / (bs / 1e6)
	printf fmt, sprintf("%.0f MB message, median of %d", bigb / 1e6, reps),
	    sprintf("%.0f MB/s", mbs), "", "", ">= 800 MB/s " verdict(mbs >= 800)
	mbp = bigb / 1e6 / (ps / 1e6)
	printf fmt, sprintf("%.0f MB message, pipes, median of %d", bigb / 1e6,
	    reps), sprintf("%.0f MB/s", mbp), "", "",
	    ">= 800 MB/s " verdict(mbp >= 800)
	printf "\n"
	printf "ratio: how many times faster scrub-headers is than formail.\n"
	printf "1 process a msg: wall time of fork, exec and run, stdin from the file;\n"
	printf "cat on the same message takes %.3f ms.\n", sc / 1e3
	printf "pipes: cat fed and read as scrub-headers is; cat on the same pipes:\n"
	printf "%.0f MB/s.\n", bigb / 1e6 / (pc / 1e6)
	printf "mbox out: scrub-headers %d of %d bytes, %d messages; formail %d messages\n",
	    outb, inb, n, nf
	printf "peak RSS of scrub-headers: %d KB on %.0f MB, %d KB on %.0f MB (flat: %s)\n",
	    rmid, midb / 1e6, rbig, bigb / 1e6, verdict(rbig <= rmid * 1.05 + 256)
}'
if test -n "$base"; then
	printf '\nBENCH_BASE %s, side by side in the same runs\n' "$base"
	printf '(new: the time of %s against it; under 1 is faster):\n' "$scrub"
	for j in "mbox 1 3" "single 1 4" "maildir 1 3" "big 1 2" "pipe 1 3"; do
		set -- $j
		f=1
		test "$1" != maildir || f=2
		awk -v job="$1" -v a="$(line "$tmp/t.$1" "$2" "$f")" \
		    -v b="$(line "$tmp/t.$1" "$3" "$f")" 'BEGIN {
			printf "  %-8s new %10.1f us  base %10.1f us  new/base %.3f\n",
			    job, a, b, a / b }'
	done
fi
printf 'bench: done in %d s\n' $(($(date +%s) - start))
