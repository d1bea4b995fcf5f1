# pop-lib.sh - sourced by pop-fetch's tests after t/lib.sh: comparing
# what was fetched with what was served, the pop-script servers, and a
# small tmpfs in a private mount namespace for a disk that runs full.
# Not a program.

# sums DIR...: the sorted SHA-256 sums of the files in the directories.
sums() {
	for d in "$@"; do
		for f in "$d"/*; do test ! -f "$f" || sha256sum <"$f"; done
	done | sort
}

# mboxsums MBOX: the sums of its messages, unquoted, without the empty
# line that ends each.
mboxsums() {
	rm -rf split && mkdir split &&
	awk '/^From MAILER-DAEMON /{n++; next} {print > ("split/" n)}' "$1" &&
	for f in split/*; do
		test -f "$f" || continue
		sed -e '$d' -e 's/^>\(>*From \)/\1/' "$f" | sha256sum
	done | sort
}

# labcount: the messages in alice's maildir of the dovecot lab in lab/.
labcount() {
	ls "$(cat lab/dir)/mail/alice/Maildir/new" \
	    "$(cat lab/dir)/mail/alice/Maildir/cur" | grep -c '^[0-9]'
}

# start NAME ARGS: a pop-script server (t/helpers) serving
# spool.NAME, a copy of msgs/ unless that exists; its port in port.NAME,
# its commands in log.NAME; stopped by its PID (in pids) when the script
# ends.
start() {
	n=$1 && shift &&
	rm -f port.$n &&
	{ test -d spool.$n || { mkdir spool.$n && cp msgs/* spool.$n/; }; } &&
	{ pop-script "$@" port.$n log.$n spool.$n & } &&
	echo $! >>pids && test_wait_for port.$n
}
test_atexit 'test ! -s "$TRASH/pids" || kill $(cat "$TRASH/pids") 2>/dev/null; :'

# The tmpfs of 1 MB at $FULL, mounted by full_start in a mount namespace
# of its own, held by a process that only sleeps (its PID in ns.pid,
# stopped when the script ends); nothing outside sees it.  A test
# checks first that it may mount one (full_can_mount).
FULL=$TRASH/full

full_can_mount() {
	command -v unshare >/dev/null && command -v nsenter >/dev/null &&
	mkdir -p "$TRASH/probe" &&
	unshare -m sh -c "mount -t tmpfs -o size=64k tmpfs '$TRASH/probe'" \
	    2>/dev/null
	fm_rc_=$?
	rmdir "$TRASH/probe" 2>/dev/null
	return $fm_rc_
}

full_start() {
	mkdir "$FULL" &&
	{ unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m,mode=0755 tmpfs "$1" &&
	    echo $$ >"$2.tmp" && mv "$2.tmp" "$2" && exec sleep 600' \
	    sh "$FULL" "$TRASH/ns.pid" </dev/null & } &&
	test_wait_for "$TRASH/ns.pid" &&
	inns sh -c "grep -q \" $FULL tmpfs \" /proc/mounts"
}
test_atexit 'test ! -f "$TRASH/ns.pid" || kill $(cat "$TRASH/ns.pid") 2>/dev/null; :'

# inns CMD...: CMD in the namespace (entering a mount namespace changes
# directory to its root: back to the scratch directory).
inns() {
	nsenter -t "$(cat "$TRASH/ns.pid")" -m --wd="$TRASH" -- "$@"
}

# fill [KB]: fill the tmpfs, then free KB kilobytes (default none) so
# that small writes still succeed and a message's write runs out.
fill() {
	inns sh -c "dd if=/dev/zero of='$FULL/pad' bs=1024 count=${1:-0} 2>/dev/null
		dd if=/dev/zero of='$FULL/fill' bs=4096 2>/dev/null
		rm -f '$FULL/pad'; test -s '$FULL/fill'"
}
