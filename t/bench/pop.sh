#!/bin/sh
# t/bench/pop.sh - pop-fetch against fetchmail, side by side, fetching
# the same mailbox from the same local dovecot (make bench).
#
# The box: BENCH_POP_COUNT (2,000) realistic messages from gencorpus.py
# (the scrub-headers corpus: Received chains, MIME, attachments, a few
# malformed ones), put once into a dovecot started by t/helpers/dovecot-
# lab on loopback.  Every contender fetches it whole in keep mode (pop-
# fetch -k, fetchmail keep fetchall), so the box is identical for each by
# construction and nothing is deleted during the bench: deleting 2,000
# files on ext4 slows every inode allocation for the next minute (the
# recently-deleted check), which would tax whoever runs next.  An untimed
# pop-fetch run first has dovecot index the box and warms the page cache.
# Then, BENCH_POP_REPS (3) times, in a rotating order, each with a fresh
# destination and fresh state:
#
#  A. pop-fetch -k -d MAILDIR: every message durable (file and new/
#     synced) before it is marked delivered, in batches of up to 64;
#  B. fetchmail (private rc file, no daemon) with procmail -m as its MDA,
#     one procmail a message, delivering into a maildir;
#  C. fetchmail writing one BSMTP file (--bsmtp).
#
# Prints messages per second (median run) and the ratios; targets: A at
# least 2x B, and A no slower than C.  Every run must exit 0 and deliver
# every message.  The file, directory and file-system syncs per message
# of each contender are counted with strace, untimed, on a second box of
# the first 100 messages (user bob), when strace is there.
# Environment: BENCH_SEED (1), BENCH_POP_COUNT (2000), BENCH_POP_REPS (3).
# Needs python3, dovecot, fetchmail, procmail.

seed=${BENCH_SEED:-1}
count=${BENCH_POP_COUNT:-2000}
reps=${BENCH_POP_REPS:-3}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P) || die "unable to find $0"
top=$(cd "$here/../.." && pwd -P) || die "unable to find the top directory"
H=$top/t/helpers
pf=$top/bin/pop-fetch
start=$(date +%s)

test -x "$pf" || die "$pf is missing: run make first"
test -x /usr/sbin/dovecot || die "dovecot is needed (dovecot-core, dovecot-pop3d)"
for p in python3 fetchmail procmail awk; do
	command -v $p >/dev/null 2>&1 || die "$p is needed"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-pop.XXXXXX") ||
	die "unable to make a temporary directory"
trap '"$H/dovecot-lab" stop "$tmp/lab" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
LC_ALL=C
export LC_ALL
unset NYMBOX_CONF XDG_CONFIG_HOME

# ---- the box
python3 "$here/gencorpus.py" --seed "$seed" --count "$count" --big-mb 0.01 \
    --mid-mb 0.01 "$tmp/c" >/dev/null || die "unable to generate the corpus"
"$H/dovecot-lab" start "$tmp/lab" alice:secret bob:secret ||
	die "dovecot did not start"
port=$(cat "$tmp/lab/port")
box=$(cat "$tmp/lab/dir")/mail/alice/Maildir
"$H/dovecot-lab" put "$tmp/lab" alice "$tmp/c"/maildir/cur/* ||
	die "unable to fill the box"
nsync=$((count < 100 ? count : 100))
"$H/dovecot-lab" put "$tmp/lab" bob $(ls "$tmp/c"/maildir/cur/* |
    sed "${nsync}q") || die "unable to fill the second box"
bytes=$(cat "$tmp/c"/maildir/cur/* | wc -c)
printf 'secret\n' >"$tmp/pw" && chmod 600 "$tmp/pw" || die "unable to write $tmp/pw"

# fetchmail's rc file for destination $2 (a maildir via procmail, or a
# BSMTP file) into $1.  fetchmail refuses plain-text logins unless told
# (sslproto ''), and would skip the corpus's malformed messages without
# bad-header accept.
fmrc()
{
	{
		printf 'set no syslog\n'
		printf 'poll 127.0.0.1 protocol pop3 port %s bad-header accept:\n' "$port"
		printf '  user "%s" there with password "secret" is "%s" here\n' \
		    "$who" "$(id -un)"
		printf "  options keep fetchall no rewrite sslproto ''\n"
		case $2 in
		*.bsmtp) printf '  bsmtp "%s"\n' "$2" ;;
		*)	printf ':0\n%s/\n' "$2" >"$1.procmailrc"
			printf '  mda "procmail -m %s.procmailrc"\n' "$1" ;;
		esac
	} >"$1" && chmod 600 "$1"
}

# run KIND N [WRAP...]: contender KIND (A, B or C) fetching the box of
# $who (all of it: $want messages) into a fresh destination $tmp/KIND.N;
# prints the seconds it took.
who=alice want=$count
run()
{
	k=$1 n=$2
	shift 2
	d=$tmp/$k.$n
	mkdir -p "$d.home" || exit 1
	t0=$(date +%s.%N)
	case $k in
	A)	HOME=$d.home "$@" "$pf" -k -H "127.0.0.1:$port" -u "$who" \
		    -P "$tmp/pw" -d "$d" >"$d.out" 2>&1 ;;
	B)	fmrc "$d.rc" "$d" && mkdir -p "$d/new" "$d/cur" "$d/tmp" &&
		HOME=$d.home "$@" fetchmail -f "$d.rc" -i "$d.ids" --nodetach \
		    >"$d.out" 2>&1 ;;
	C)	fmrc "$d.rc" "$d.bsmtp" &&
		HOME=$d.home "$@" fetchmail -f "$d.rc" -i "$d.ids" --nodetach \
		    >"$d.out" 2>&1 ;;
	esac
	rc=$?
	t1=$(date +%s.%N)
	test $rc = 0 || { tail -3 "$d.out" >&2; die "contender $k exited $rc"; }
	case $k in
	C)	got=$(grep -c '^DATA' "$d.bsmtp") ;;
	*)	got=$(ls "$d/new" | wc -l) ;;
	esac
	test "$got" -eq "$want" ||
		die "contender $k delivered $got messages of $want"
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

run A warm >/dev/null
n=$(find "$box/cur" "$box/new" -type f | wc -l)
test "$n" -eq "$count" || die "the box holds $n messages after -k, not $count"

# ---- the measurements: the order rotates, A B C, B C A, C A B, ...
: >"$tmp/times"
r=1
while test $r -le "$reps"; do
	case $((r % 3)) in
	1) order="A B C" ;;
	2) order="B C A" ;;
	0) order="C A B" ;;
	esac
	for k in $order; do
		echo "$k $(run $k $r)" >>"$tmp/times" || exit 1
	done
	r=$((r + 1))
done
n=$(find "$box/cur" "$box/new" -type f | wc -l)
test "$n" -eq "$count" || die "the box holds $n messages at the end, not $count"

# Syncs per message, counted once for each on bob's box, untimed.
syncs=
if command -v strace >/dev/null 2>&1; then
	who=bob want=$nsync
	for k in A B C; do
		run $k sync strace -f -c -o "$tmp/$k.syncs" \
		    -e trace=fsync,fdatasync,sync_file_range,syncfs >/dev/null
		s=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range|syncfs)$/ { n += $4 }
		    END { print n + 0 }' "$tmp/$k.syncs")
		syncs="$syncs $s"
	done
fi

# ---- the report
printf 'pop-fetch benchmark: %s CPUs, %s, %s, %s\n' "$(nproc)" \
    "$(/usr/sbin/dovecot --version 2>/dev/null | sed 's/ .*//;s/^/dovecot /')" \
    "$(fetchmail --version 2>/dev/null | sed -n 's/.*release \([^ +]*\).*/fetchmail \1/p')" \
    "$(uname -sr)"
printf 'Figures are only comparable within one run: compare the ratios.\n'
printf 'box: %d messages, %d bytes (gencorpus seed %s); keep mode; %d runs each\n\n' \
    "$count" "$bytes" "$seed" "$reps"
awk -v n="$count" -v ns="$nsync" -v syncs="$syncs" '
function median(k,    i, j, t, m) {
	m = cnt[k]
	for (i = 1; i <= m; i++)
		for (j = i + 1; j <= m; j++)
			if (s[k, j] < s[k, i]) { t = s[k, i]; s[k, i] = s[k, j]; s[k, j] = t }
	return m % 2 ? s[k, (m + 1) / 2] : (s[k, m / 2] + s[k, m / 2 + 1]) / 2
}
function verdict(ok) { return ok ? "met" : "MISSED" }
{ cnt[$1]++; s[$1, cnt[$1]] = $2; runs[$1] = runs[$1] sprintf(" %.2f", $2) }
END {
	split("A B C", ks, " ")
	name["A"] = "pop-fetch -k -d maildir"
	name["B"] = "fetchmail + procmail into a maildir"
	name["C"] = "fetchmail --bsmtp FILE"
	split(syncs, sy, " ")
	fmt = "%-38s %8s %9s  %s\n"
	printf fmt, "contender", "msg/s", "seconds", "all runs (s)"
	for (i = 1; i <= 3; i++) {
		k = ks[i]; med[k] = median(k)
		printf fmt, name[k], sprintf("%.0f", n / med[k]),
		    sprintf("%.2f", med[k]), substr(runs[k], 2)
	}
	printf "\n"
	printf "pop-fetch against fetchmail + procmail: %.2fx (target >= 2x: %s)\n",
	    med["B"] / med["A"], verdict(med["B"] >= 2 * med["A"])
	printf "pop-fetch against fetchmail --bsmtp:    %.2fx (target >= 1x: %s)\n",
	    med["C"] / med["A"], verdict(med["C"] >= med["A"])
	if (syncs != "")
		printf "syncs (fsync, fdatasync, syncfs) a message, on %d: pop-fetch %.2f, fetchmail + procmail %.2f, fetchmail --bsmtp %.2f\n",
		    ns, sy[1] / ns, sy[2] / ns, sy[3] / ns
}' "$tmp/times"
printf 'bench: done in %d s\n' $(($(date +%s) - start))
