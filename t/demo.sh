#!/bin/sh
# demo.sh - `make demo`: the whole mail path over a private network of
# real, offline i2pd routers (t/helpers/i2p-net), Alice's and Bob's
# apart, one or two lines a step (t/helpers/eep2eep does the work and
# checks each step).  Everything happens in a temporary directory, with
# its own HOMEs: nothing of yours is read or written.  Exit 0 only when
# every step did what it should; otherwise the failing step, its reason
# and the tail of its log, and the directory is kept for a look.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s%N)
dir=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-demo.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM HUP
PATH=$top/bin:$PATH
export PATH
# This tree's programs, not ones installed elsewhere in PATH.
for p in bin/nymbox-sendmail bin/scrub-headers bin/delay-queue bin/queue-run \
    bin/sam-deliver bin/sam-accept bin/resolve-maildest bin/smtp-receive \
    bin/mbox-encrypt bin/pop-serve bin/pop-fetch t/helpers/samtool; do
	test -x "$top/$p" || {
		echo "make demo: $p is not built (make all helpers builds it)"
		exit 1
	}
done

cat <<EOT
nymbox demo: Alice (alice.i2p) mails Bob (bob.i2p) over I2P, from mutt to
Bob's reader.  Alice's side runs on one i2pd router, Bob's on another, in a
private network that reaches nothing outside this machine.  Mallory tries
to pass as Alice.  About 70 seconds.

EOT
"$top/t/helpers/eep2eep" "$dir/run"
rc=$?
secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.0f", (b - a) / 1e9 }')
echo
if test $rc = 0; then
	echo "make demo: every step did what it should, in $secs s."
	exit 0
fi
trap - EXIT
echo "make demo: FAILED after $secs s (above: the step, its reason, its log);"
echo "make demo: the run's files are kept in $dir/run"
exit 1
