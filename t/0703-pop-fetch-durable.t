#!/bin/sh
# pop-fetch's journal against a real dovecot: strace shows that each P
# line is synced before its delivery can be seen; then pop-fetch is killed
# with SIGKILL at every write, sync, link, fork and send it makes (strace
# fault injection), in each delivery mode, and the next run must leave
# every message delivered exactly once (a command: at least once, any
# second time flagged POP_FETCH_AGAIN=1); TERM while a command runs waits
# for it; a partial mbox copy with other mail after it is reported.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
command -v strace >/dev/null || test_skip_all "strace is missing (t/deps.sh)"
strace -o /dev/null true 2>/dev/null || test_skip_all "strace cannot trace here"

# strace, with LeakSanitizer off for the traced program: it cannot run
# under ptrace (make check-asan); AddressSanitizer itself stays on.
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"
}

# pop-fetch's -w: the limit of each network step and of the wait for an
# mbox lock (a crash can leave an empty one, waited for, then aged),
# stretched for the sanitizer build.
W=$(test_scaled 5)

printf 'secret\n' >pw && chmod 600 pw

# Three messages; the last one long enough to be written in pieces.
mkdir crash &&
printf 'Subject: one\n\n.dot\nFrom here\n' >crash/1 &&
printf 'Subject: two\n\nshort\n' >crash/2 &&
{ printf 'Subject: three\n\n'; head -c 150000 /dev/zero | tr '\0' y; echo; } \
    >crash/3 || exit 1

# sums, mboxsums, labcount, start, the tmpfs: t/helpers/pop-lib.sh.
. "$TOP/t/helpers/pop-lib.sh"

pf() {
	test_timeout 120 pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw "$@"
}

state() {
	echo "$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat lab/port).uidl"
}

# order.py TRACE MODE [MBOX]: in strace -f -y output, every delivery
# (a link into new/, the first write of a message to the mbox, the fork
# of the command) comes after a P line and a sync of the state file that
# follows it; with a command, each D line is synced at once.  Prints the
# number of deliveries checked.  mdorder.py TRACE checks a maildir name
# by name, its messages being published in batches: the link of tmp/NAME
# into new/ comes after its P line, a sync of the state file, the writes
# of tmp/NAME and a sync of them (syncfs of the maildir, or its own
# fsync); its D line after an fsync of new/ that follows the link; and
# no more DELEs are sent than D lines were written.
write_script order.py "$(command -v python3)" <<-\EOF
import re, sys
lines = open(sys.argv[1]).read().splitlines()
mode, mbox = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
main = lines[0].split()[0]
pend = synced = seen = needsync = False
n = 0
def fail(why, l):
    print('order: %s at: %s' % (why, l)); sys.exit(1)
for l in lines:
    pid, rest = l.split(None, 1)
    if pid != main or rest.startswith('<...') or '= -1' in rest and 'ERESTART' in rest:
        continue
    m = re.match(r'(\w+)\((?:(\d+)<([^>]*)>)?,?\s*"?([^"]*)', rest)
    if not m:
        continue
    call, path, data = m.group(1), m.group(3) or '', m.group(4)
    ev = None
    if call == 'write' and path.endswith('.uidl'):
        ev = data[:1]
    elif call in ('fdatasync', 'fsync') and path.endswith('.uidl'):
        ev = 'S'
    elif call == 'link' and '/new/' in rest:
        ev = 'V'
    elif call == 'write' and mbox and path.endswith('/' + mbox):
        ev = 'V' if not seen else None
    elif call in ('clone', 'clone3', 'fork', 'vfork'):
        ev = 'V'
    if ev is None:
        continue
    if needsync and ev != 'S':
        fail('D line of a command not synced at once', l)
    if ev == 'P':
        pend, synced, seen = True, False, False
    elif ev == 'S':
        synced = pend or synced
        needsync = False
    elif ev == 'V':
        if not (pend and synced):
            fail('delivery visible before its P line is synced', l)
        seen = True
        n += 1
    elif ev in 'DU':
        pend = synced = seen = False
        needsync = ev == 'D' and mode == 'p'
print(n)
EOF

write_script mdorder.py "$(command -v python3)" <<-\EOF
import re, sys
lines = open(sys.argv[1]).read().splitlines()
main = lines[0].split()[0]
pname = {}      # uid -> name, from its P line
state = {}      # name -> P, S (P synced), L (linked), N (new/ synced)
dirty = set()   # names written since the last sync of their data
dlines = deles = n = 0
def fail(why, l):
    print('order: %s at: %s' % (why, l)); sys.exit(1)
def intmp(path):    # a file in the maildir's tmp/ (the checkout may be in /tmp)
    return re.search(r'/md/tmp/[^/]+$', path) is not None
for l in lines:
    pid, rest = l.split(None, 1)
    if pid != main or rest.startswith('<...') or ' = -1 ' in rest:
        continue
    m = re.match(r'(\w+)\((?:\d+<((?:->|[^>])*)>)?,?\s*"?([^"]*)', rest)
    if not m:
        continue
    call, path, data = m.group(1), m.group(2) or '', m.group(3)
    if call == 'write' and path.endswith('.uidl'):
        f = data.replace('\\n', ' ').split()
        if f[0] == 'P':
            pname[f[1]] = f[2]
            state[f[2]] = 'P'
        elif f[0] == 'D':
            if state.get(pname.get(f[1])) != 'N':
                fail('D line before new/ is synced', l)
            dlines += 1
    elif call in ('fdatasync', 'fsync') and path.endswith('.uidl'):
        for k in state:
            if state[k] == 'P':
                state[k] = 'S'
    elif call == 'write' and intmp(path):
        k = path.rsplit('/', 1)[1]
        if state.get(k) not in ('P', 'S'):
            fail('a file written before its P line', l)
        dirty.add(k)
    elif call == 'syncfs':
        dirty.clear()
    elif call in ('fsync', 'fdatasync') and intmp(path):
        dirty.discard(path.rsplit('/', 1)[1])
    elif call == 'link':
        k = data.rsplit('/', 1)[1]
        if state.get(k) != 'S':
            fail('delivery visible before its P line is synced', l)
        if k in dirty:
            fail('delivery visible before its data is synced', l)
        state[k] = 'L'
        n += 1
    elif call == 'fsync' and path.endswith('/new'):
        for k in state:
            if state[k] == 'L':
                state[k] = 'N'
    elif call == 'sendto':
        deles += rest.count('DELE ')
        if deles > dlines:
            fail('DELE before its D line', l)
print(n)
EOF

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1'

test_expect_success 'setup: dovecot' '
	dovecot-lab start lab alice:secret &&
	sums crash >want && test_line_count = 3 want
'

test_expect_success 'maildir: each P line is synced before the link into new/' '
	dovecot-lab put lab alice crash/* &&
	traced -f -y -s 2048 -o trace \
	    -e trace=write,fdatasync,fsync,syncfs,link,sendto \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw -d md &&
	./mdorder.py trace >n && test "$(cat n)" = 3 &&
	sums md/new >got && test_cmp want got &&
	grep -c " syncfs(" trace >n && test "$(cat n)" = 1 &&
	cp trace mdtrace
'

test_expect_success 'the maildir order checker fails on each step out of place' '
	sed "/ syncfs(/d" mdtrace >late1 &&
	test_must_fail ./mdorder.py late1 >out &&
	grep "delivery visible before its data is synced" out &&
	sed "/fdatasync(.*uidl/d" mdtrace >late2 &&
	test_must_fail ./mdorder.py late2 >out &&
	grep "delivery visible before its P line is synced" out &&
	sed "/ fsync([0-9]*<[^>]*\/new>)/d" mdtrace >late3 &&
	test_must_fail ./mdorder.py late3 >out &&
	grep "D line before new/ is synced" out &&
	awk "/write.*uidl>, \"D / && held == \"\" { held = \$0; next }
	    { print } /sendto.*DELE / && held != \"\" { print held; held = \"\" }" \
	    mdtrace >late4 &&
	test_must_fail ./mdorder.py late4 >out &&
	grep "DELE before its D line" out
'

test_expect_success 'mbox: each P line (offset, length) is synced before the append' '
	dovecot-lab put lab alice crash/* &&
	traced -f -y -s 64 -o trace -e trace=write,fdatasync,fsync \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw -m mb &&
	./order.py trace m mb >n && test "$(cat n)" = 3 &&
	mboxsums mb >got && test_cmp want got &&
	test_path_is_missing mb.lock
'

test_expect_success 'command: P synced before the fork, D synced right after' '
	dovecot-lab put lab alice crash/* &&
	traced -f -y -s 64 -o trace \
	    -e trace=write,fdatasync,fsync,clone,clone3,fork,vfork \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw \
	    -p "cat >/dev/null" &&
	./order.py trace p >n && test "$(cat n)" = 3 &&
	test "$(labcount)" = 0
'

test_expect_success 'the order checker fails on a journal synced too late' '
	grep -A1 "\"P [0-9a-f]* cmd" trace | grep -c fdatasync >n &&
	test "$(cat n)" = 3 &&
	sed "/\"P [0-9a-f]* cmd/{n;d;}" trace >late1 &&
	test_must_fail ./order.py late1 p >out &&
	grep "delivery visible before its P line is synced" out &&
	sed "/\"D [0-9a-f]*.n\"/{n;d;}" trace >late2 &&
	test_must_fail ./order.py late2 p >out &&
	grep "D line of a command not synced at once" out
'

write_script deliver <<-\EOF
f=$(mktemp "$PWD/out/msg.XXXXXX") && cat >"$f" &&
echo "$POP_FETCH_UIDL ${POP_FETCH_AGAIN:-0} $(sha256sum <"$f")" >>deliveries
EOF

# check MODE: after the clean run, what was delivered and what is left.
check() {
	case $1 in
	d)	# A kill between creating a file in tmp/ and its P line
		# may leave it there, empty; never one with content.
		sums dest/new dest/cur >got && test_cmp want got &&
		test -z "$(find dest/tmp -type f -size +0)" ;;
	m)	mboxsums dest >got && test_cmp want got &&
		test_path_is_missing dest.lock ;;
	p)	# Nothing lost; a message twice only if flagged the second time.
		sums out >got && sort -u got >gotu && test_cmp want gotu &&
		awk "{ n[\$1]++; if (n[\$1] > 1 && \$2 != 1) bad = 1 }
		    END { exit bad }" deliveries ;;
	esac &&
	test "$(labcount)" = 0
}

# crashloop MODE SYSCALL: for n = 1, 2, ...: kill pop-fetch at its n-th
# SYSCALL, run it again, check; until a run is no longer killed.
crashloop() {
	cm=$1 sc=$2 n=1
	case $cm in
	d) dest="-d dest" ;; m) dest="-m dest" ;; p) dest="-p ./deliver" ;;
	esac
	while :; do
		rm -rf dest dest.lock out deliveries "$HOME/.config" &&
		mkdir out && dovecot-lab put lab alice crash/* || return 1
		traced -o /dev/null -e trace=$sc \
		    -e inject=$sc:signal=KILL:when=$n \
		    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice \
		    -P pw $dest 2>>killed.err
		rc=$?
		if ! pf $dest 2>>again.err; then
			# Killed between creating mbox.lock and writing its
			# pid: the lock is stale only once 300 s old.
			test -f dest.lock && ! test -s dest.lock &&
			touch -d "-301 seconds" dest.lock &&
			pf $dest 2>>again.err ||
			{ echo "second run failed"; return 1; }
			echo "$sc #$n: an empty mbox.lock, aged"
		fi
		check $cm || { echo "after a kill at $sc #$n (rc $rc)"; return 1; }
		test $rc = 137 || break
		n=$((n + 1))
	done
	echo "$cm: killed at each of $((n - 1)) ${sc} calls, then checked"
	test $n -gt 1 && test $rc = 0
}

test_expect_success 'maildir: killed at every write, sync, link, unlink, send' '
	for sc in write fdatasync fsync syncfs link unlink rename sendto; do
		crashloop d $sc || return 1
	done
'

test_expect_success 'mbox: killed at every write, sync, truncate, send' '
	for sc in write fdatasync fsync ftruncate rename sendto; do
		crashloop m $sc || return 1
	done
'

test_expect_success 'command: killed at every step: nothing lost, doubles flagged' '
	for sc in write fdatasync clone wait4 ftruncate sendto; do
		crashloop p $sc || return 1
	done &&
	grep "may have been delivered by an interrupted run: delivering it again" again.err
'

test_expect_success 'mbox: a partial copy is cut off when nothing follows it' '
	rm -rf dest "$HOME/.config" && dovecot-lab put lab alice crash/* &&
	printf "From someone Mon Nov 23 00:00:00 2026\nSubject: old\n\nold\n\n" \
	    >dest && cp dest before &&
	traced -o /dev/null -P "$PWD/dest" -e trace=write \
	    -e inject=write:signal=KILL:when=4 \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw -m dest
	test $? = 137 &&
	grep -c "^From MAILER-DAEMON" dest >n && test "$(cat n)" = 3 &&
	tail -c 1 dest | od -c | grep y &&
	pf -m dest 2>err && test_must_be_empty err &&
	head -c $(wc -c <before) dest | cmp - before &&
	grep -c "^From MAILER-DAEMON" dest >n && test "$(cat n)" = 3 &&
	tail -n +6 dest >ours && mboxsums ours >got && test_cmp want got
'

test_expect_success 'mbox: a partial copy with mail after it is reported, not cut' '
	rm -rf dest "$HOME/.config" && dovecot-lab put lab alice crash/* &&
	traced -o /dev/null -P "$PWD/dest" -e trace=write \
	    -e inject=write:signal=KILL:when=4 \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw -m dest
	test $? = 137 &&
	printf "From other Mon Nov 23 00:00:00 2026\nSubject: other\n\nx\n\n" \
	    >>dest && cp dest before &&
	pf -m dest 2>err &&
	grep "unable to remove the partial copy of message .* of dest: other mail follows it" err &&
	head -c $(wc -c <before) dest | cmp - before &&
	grep -c "^From MAILER-DAEMON" dest >n && test "$(cat n)" = 4 &&
	test "$(labcount)" = 0
'

test_expect_success 'command: the AGAIN flag outlives a deferral and a good QUIT' '
	rm -rf out deliveries "$HOME/.config" && mkdir out &&
	dovecot-lab put lab alice crash/1 &&
	traced -o /dev/null -e trace=wait4 -e inject=wait4:signal=KILL:when=1 \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw \
	    -p ./deliver
	test $? = 137 && test_wait_for deliveries &&
	test_expect_code 75 pf -p "cat >/dev/null; exit 75" 2>err &&
	grep "may have been delivered by an interrupted run" err &&
	pf -p ./deliver &&
	test_line_count = 2 deliveries &&
	cut -d" " -f2 deliveries >flags && printf "0\n1\n" >want01 &&
	test_cmp want01 flags && test "$(labcount)" = 0
'

test_expect_success 'TERM while a command runs: it finishes, is recorded, then a clean stop' '
	rm -rf out deliveries "$HOME/.config" && mkdir out &&
	dovecot-lab put lab alice crash/* &&
	mkfifo go &&
	write_script slow <<-\EOF &&
	echo up >started && timeout 30 cat go >/dev/null && exec ./deliver
	EOF
	{ pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw \
	    -p ./slow 2>err & echo $! >pf.pid; } &&
	test_wait_for started &&
	kill -TERM $(cat pf.pid) &&
	echo go >go &&
	{ wait $(cat pf.pid); echo $? >rc; } &&
	test "$(cat rc)" = 75 &&
	grep "stopped by signal 15" err &&
	test_line_count = 1 deliveries &&
	test "$(labcount)" = 2 &&
	test_grep -v "^D " "$(state)" &&
	rm -f started && pf -p ./deliver &&
	test_line_count = 3 deliveries &&
	awk "{ print \$2 }" deliveries | sort -u >flags && echo 0 >zero &&
	test_cmp zero flags
'

test_expect_success 'TERM while waiting for an mbox lock: it dies, leaving no litter' '
	rm -rf dest "$HOME/.config" && dovecot-lab put lab alice crash/1 &&
	echo $$ >dest.lock &&
	{ pop-fetch -w $(test_scaled 30) -H 127.0.0.1:$(cat lab/port) -u alice \
	    -P pw -m dest 2>err & echo $! >pf.pid; } &&
	spool="$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat lab/port).spool" &&
	test_wait_for "$spool" &&
	kill -TERM $(cat pf.pid) &&
	{ wait $(cat pf.pid); echo $? >rc; } &&
	test "$(cat rc)" = 143 &&
	test "$(cat dest.lock)" = $$ && rm dest.lock &&
	test "$(labcount)" = 1 &&
	pf -m dest && mboxsums dest >got && sha256sum <crash/1 >want1 &&
	test_cmp want1 got
'

# Killed while a batch is being published, between two links: the next
# run finds the linked message and fetches the others.
test_expect_success 'maildir: killed between the links of a batch' '
	rm -rf dest "$HOME/.config" && dovecot-lab put lab alice crash/* &&
	traced -o /dev/null -e trace=link -e inject=link:signal=KILL:when=2 \
	    pop-fetch -w $W -H 127.0.0.1:$(cat lab/port) -u alice -P pw -d dest
	test $? = 137 && test $(ls dest/new | wc -l) = 1 &&
	pf -d dest && sums dest/new >got && test_cmp want got &&
	test -z "$(ls dest/tmp)" && test "$(labcount)" = 0
'

# A POP3 server of two messages that refuses to DELE the first; it
# serves one session and keeps nothing between runs.
write_script nodele "$(command -v python3)" <<-\EOF
import os, socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % ls.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
ls.settimeout(30)
msgs = {b"1": b"Subject: kept\r\n\r\nkept\r\n",
        b"2": b"Subject: gone\r\n\r\ngone\r\n"}
c, _ = ls.accept()
f = c.makefile("rwb")
def say(s):
    f.write(s + b"\r\n")
    f.flush()
say(b"+OK hello")
for line in f:
    cmd = line.strip().split(b" ")
    v = cmd[0].upper()
    if v == b"CAPA":
        say(b"+OK\r\nUIDL\r\nUSER\r\n.")
    elif v in (b"USER", b"PASS", b"NOOP"):
        say(b"+OK")
    elif v == b"UIDL":
        say(b"+OK\r\n1 uid-kept\r\n" +
            (b"2 uid-gone\r\n" if len(sys.argv) < 3 else b"") + b".")
    elif v == b"RETR":
        say(b"+OK\r\n" + msgs[cmd[1]] + b".")
    elif v == b"DELE":
        say(b"-ERR [SYS/TEMP] not now" if cmd[1] == b"1" else b"+OK")
    elif v == b"QUIT":
        say(b"+OK bye")
        break
    else:
        say(b"-ERR what")
EOF

# nodele_run PORTFILE [second]: start the server afresh (the second
# time without the message it deleted).
nodele_run() {
	rm -f "$1" && { ./nodele "$@" & } && test_wait_for "$1"
}

test_expect_success 'a refused DELE keeps the D line: the next run deletes, never delivers' '
	nodele_run nd.port &&
	test_timeout 120 pop-fetch -w $W -H 127.0.0.1:$(cat nd.port) -u alice \
	    -P pw -d nd 2>err &&
	grep "unable to delete a message at 127.0.0.1:$(cat nd.port): \[SYS/TEMP\] not now" err &&
	test $(ls nd/new | wc -l) = 2 &&
	st=$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat nd.port).uidl &&
	grep -x "D uid-kept" "$st" && test_grep -v uid-gone "$st" &&
	mv "$st" saved && nodele_run nd.port second &&
	mv saved "$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat nd.port).uidl" &&
	test_timeout 120 pop-fetch -w $W -H 127.0.0.1:$(cat nd.port) -u alice \
	    -P pw -d nd &&
	test $(ls nd/new | wc -l) = 2 &&
	test $(grep -l "^Subject: kept" nd/new/* | wc -l) = 1
'

test_expect_success 'teardown' '
	dovecot-lab stop lab
'

test_done
