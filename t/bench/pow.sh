#!/bin/sh
# t/bench/pow.sh - pow-stamp against hashcash(1) (make bench).
#
#  1. checking, one process per stamp as procmail runs it: BENCH_POW_SPAWN
#     (500) different 16-bit stamps, stdin from a file each, pow-stamp -c
#     against hashcash -c taking turns (t/bench/spawn.c); median and
#     total wall time;
#  2. checking, many stamps in one process: nym_pow_check's CPU time per
#     stamp in the library (t/bench/powbench.c), median of 20 passes over
#     1,000 stamps (hashcash(1) stops at the first valid stamp, so it has
#     no such mode to set beside it);
#  3. minting at 20 bits, BENCH_POW_MINTS (15) runs each, taking turns:
#     median wall and CPU time of pow-stamp -m -b 20 and hashcash -m -b
#     20 (the work is random: a run takes 2^20 tries on average, but any
#     run may take several times that), and the rate that decides it:
#     hashes a second of CPU, ours over 20 stamps against hashcash -s;
#  4. the double-spend database holding 10^4, 10^5 and 10^6 stamps: CPU
#     and wall microseconds per check of a new stamp (recorded) and of a
#     spent one (refused), 20,000 each, in the library; and one
#     pow-stamp -c -d process against the full file.
#
# Every contender's output is checked before timing.  Needs cc, awk,
# hashcash (package hashcash), /usr/bin/time.

spawnn=${BENCH_POW_SPAWN:-500}
mints=${BENCH_POW_MINTS:-15}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P) || die "unable to find $0"
top=$(cd "$here/../.." && pwd -P) || die "unable to find the top directory"
pow=$top/bin/pow-stamp
start=$(date +%s)

test -x "$pow" || die "$pow is missing: run make first"
test -f "$top/lib/libnymbox.a" || die "lib/libnymbox.a is missing: run make first"
for p in cc awk hashcash; do
	command -v $p >/dev/null 2>&1 || die "$p is needed (hashcash: package hashcash)"
done
test -x /usr/bin/time || die "/usr/bin/time is needed (package time)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-pow.XXXXXX") ||
	die "unable to make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
HOME=$tmp/home
LC_ALL=C
export HOME LC_ALL
unset NYMBOX_CONF XDG_CONFIG_HOME NYMBOX_NOW
mkdir "$HOME" "$tmp/st" || die "unable to make $HOME"

cc -O2 -o "$tmp/spawn" "$here/spawn.c" || die "unable to build spawn"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -idirafter "$top/lib" -o "$tmp/powbench" "$here/powbench.c" \
    "$top/lib/libnymbox.a" $(pkg-config --libs libsodium libgcrypt) ||
	die "unable to build powbench"

# ---- the stamps: 16 bits, for bob@bob.i2p, half ours and half hashcash's
res=bob@bob.i2p
i=0
while test $i -lt "$spawnn"; do
	if test $((i % 2)) = 0; then
		"$pow" -m -b 16 $res
	else
		hashcash -mq -b 16 $res
	fi >"$tmp/st/s$i" || die "minting stamp $i failed"
	i=$((i + 1))
done
ls "$tmp/st" | sed "s|^|$tmp/st/|" >"$tmp/list"
cat "$tmp/st"/s* | head -1000 >"$tmp/all"
one=$(sed 1q "$tmp/list")
"$pow" -c -y -b 16 -r $res <"$one" || die "pow-stamp -c refused $(cat "$one")"
hashcash -cqy -b 16 -r $res <"$one" || die "hashcash -c refused $(cat "$one")"

# ---- 1. a process per stamp
"$tmp/spawn" -l "$spawnn" "$tmp/list" "$pow -c -y -b 16 -r $res" \
    "hashcash -cqy -b 16 -r $res" >"$tmp/t.spawn" ||
	die "the one-process-per-stamp runs failed"

# ---- 2. in the library
"$tmp/powbench" check "$tmp/all" >"$tmp/t.lib" || die "powbench check failed"

# ---- 3. minting at 20 bits
: >"$tmp/t.mint"
i=0
while test $i -lt "$mints"; do
	/usr/bin/time -f "pow %e %U" -a -o "$tmp/t.mint" "$pow" -m -b 20 $res \
	    >"$tmp/m" || die "pow-stamp -m failed"
	hashcash -cqy -b 20 -r $res "$(cat "$tmp/m")" ||
		die "hashcash refused our $(cat "$tmp/m")"
	/usr/bin/time -f "hc %e %U" -a -o "$tmp/t.mint" hashcash -mq -b 20 $res \
	    >"$tmp/m" || die "hashcash -m failed"
	i=$((i + 1))
done

# hashes a second: ours in the library, hashcash -s (its fastest core)
"$tmp/powbench" mint 20 20 >"$tmp/t.rate" || die "powbench mint failed"
hashcash -s -q >"$tmp/t.hcrate" 2>/dev/null || die "hashcash -s failed"

# ---- 4. the database
: >"$tmp/t.db"
for n in 10000 100000 1000000; do
	printf '%s ' $n >>"$tmp/t.db"
	"$tmp/powbench" db "$tmp/spent.db" $n >>"$tmp/t.db" ||
		die "powbench db $n failed"
done
"$pow" -m -b 16 $res >"$tmp/m" &&
/usr/bin/time -f "%e %U %S" -o "$tmp/t.cli" "$pow" -c -b 16 -r $res \
    -f "$tmp/spent.db" "$(cat "$tmp/m")" || die "pow-stamp -c -f on 10^6 failed"
dbsize=$(du -k "$tmp/spent.db" | cut -f1)

# ---- the report
cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo 2>/dev/null | sed 1q)
printf 'pow-stamp benchmark: %s CPUs, %s, %s, load %s\n' \
    "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)" \
    "${cpu:-unknown CPU}" "$(uname -sr)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'Figures are only comparable within one run: compare the ratios.\n\n'
awk -v n="$spawnn" '
NR == 1 { pm = $1; pt = $2 }
NR == 2 { hm = $1; ht = $2 }
END {
	printf "check, a process per stamp (%d stamps, 16 bits):\n", n
	printf "  pow-stamp -c  median %7.0f us  total %6.2f s\n", pm, pt / 1e6
	printf "  hashcash -c   median %7.0f us  total %6.2f s   ratio %.2fx\n",
	    hm, ht / 1e6, pm / hm
}' "$tmp/t.spawn"
awk '{ printf "check, many stamps in one process (nym_pow_check): %.2f us CPU a stamp\n", $1 }' \
    "$tmp/t.lib"
awk -v runs="$mints" '
function median(a, n,   i, j, t) {
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "pow" { pw[++np] = $2; pu[np] = $3 }
$1 == "hc" { hw[++nh] = $2; hu[nh] = $3 }
END {
	printf "mint at 20 bits, %d runs each, median (wall, CPU):\n", runs
	printf "  pow-stamp -m  %.2f s  %.2f s\n", median(pw, np), median(pu, np)
	printf "  hashcash -m   %.2f s  %.2f s\n", median(hw, nh), median(hu, nh)
}' "$tmp/t.mint"
printf '  hashes a second (CPU): pow-stamp %.1f M, hashcash -s %.1f M\n' \
    "$(awk '{ print $1 / 1e6 }' "$tmp/t.rate")" \
    "$(awk '{ print $1 / 1e6 }' "$tmp/t.hcrate")"
printf 'double-spend database (32 MB file), microseconds a check:\n'
awk '{ printf "  %8d stamps: new %6.2f CPU (%6.2f wall), spent %6.2f CPU\n", $1, $2, $3, $4 }' \
    "$tmp/t.db"
awk -v kb="$dbsize" '{ printf "  pow-stamp -c -f, file of 10^6 (%d KB on disk): %.3f s wall, %.3f s user, %.3f s sys\n", kb, $1, $2, $3 }' \
    "$tmp/t.cli"
printf 'bench: done in %d s\n' $(($(date +%s) - start))
