#!/bin/sh
# pop-fetch against a hostile POP3 server (issue 11): a UIDL listing that
# never ends, a RETR reply that never ends, a LIST that names a message
# over -M, and a LIST that lies about one.  pop-fetch must stop at its
# limits (100,000 listed messages, -M bytes a message), keep its memory
# and disk bounded, leave no temporary file, exit 65, and still deliver
# what it may.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x /usr/bin/time || test_skip_all "/usr/bin/time is missing"

printf 'secret\n' >pw && chmod 600 pw

# evil MODE PORTFILE LOG: a POP3 server on 127.0.0.1 (port chosen by the
# kernel) for one session after another, writing the commands it got to
# LOG.  Modes: uidl (UIDL never ends), retr (RETR never ends), big (LIST
# says message 2 is 5 MB; both are small), liar (LIST says 100 bytes,
# RETR 2 sends 3 MB), slow (RETR 2 sends a byte every half second).
write_script evil "$(command -v python3)" <<-\EOF
import socket, sys
mode, portfile, logfile = sys.argv[1:4]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
open(portfile + ".tmp", "w").write("%d\n" % ls.getsockname()[1])
import os
os.rename(portfile + ".tmp", portfile)
log = open(logfile, "a")
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"+OK ready\r\n")
    msg = b"Subject: m\r\n\r\nbody\r\n"
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.strip().decode("ascii", "replace")
        log.write(cmd + "\n"); log.flush()
        verb = cmd.split(" ")[0].upper()
        if verb in ("USER", "PASS", "NOOP", "RSET", "DELE"):
            c.sendall(b"+OK\r\n")
        elif verb == "CAPA":
            c.sendall(b"+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n")
        elif verb == "QUIT":
            c.sendall(b"+OK\r\n")
            return
        elif verb == "UIDL":
            if mode == "uidl":
                c.sendall(b"+OK\r\n")
                n = 1
                while True:
                    c.sendall(b"".join(b"%d uid-%d\r\n" % (i, i)
                                       for i in range(n, n + 1000)))
                    n += 1000
            c.sendall(b"+OK\r\n1 one\r\n2 two\r\n.\r\n")
        elif verb == "LIST":
            big = {"big": 5000000, "liar": 100}.get(mode, len(msg))
            c.sendall(b"+OK\r\n1 %d\r\n2 %d\r\n.\r\n" % (len(msg), big))
        elif verb == "RETR":
            n = cmd.split(" ")[1]
            c.sendall(b"+OK\r\n")
            if n == "2" and mode == "retr":
                while True:
                    c.sendall(b"x" * 4094 + b"\r\n")
            if n == "2" and mode == "slow":
                import time
                while True:
                    c.sendall(b"s")
                    time.sleep(0.5)
            if n == "2" and mode == "liar":
                c.sendall((b"y" * 998 + b"\r\n") * 3000 + b".\r\n")
            else:
                c.sendall(msg + b".\r\n")
        else:
            c.sendall(b"-ERR\r\n")
while True:
    c, _ = ls.accept()
    try:
        serve(c)
    except OSError:
        pass
    c.close()
EOF

# start MODE: the server for MODE, stopped by its PID at exit.
start() {
	rm -f port.$1 && { ./evil $1 port.$1 log.$1 & } &&
	echo $! >>pids && test_wait_for port.$1
}
test_atexit 'test -s "$TRASH/pids" && kill $(cat "$TRASH/pids") 2>/dev/null; :'

# pf MODE ARGS: pop-fetch from it into maildir md.MODE, its peak RSS in
# rss.MODE (kilobytes).
pf() {
	m=$1 && shift &&
	test_timeout 120 /usr/bin/time -f %M -o rss.$m pop-fetch \
	    -H 127.0.0.1:$(cat port.$m) -u alice -P pw -w 20 -d md.$m "$@"
}

test_expect_success 'a UIDL listing that never ends: stopped at 100,000, memory bounded' '
	start uidl &&
	test_expect_code 65 pf uidl 2>err &&
	test_grep "unable to list messages at .*: more than 100000" err &&
	test "$(tail -1 rss.uidl)" -lt 65536 &&
	! grep "^RETR" log.uidl
'

test_expect_success 'a RETR reply that never ends: stopped at -M, nothing left in tmp/' '
	start retr &&
	test_expect_code 65 pf retr -M 1M 2>err &&
	test_grep "over 1048576 bytes (-M); it stays on the server" err &&
	test -z "$(ls md.retr/tmp)" &&
	test "$(du -sk md.retr | cut -f1)" -lt 1024 &&
	! grep "^DELE 2" log.retr
'

test_expect_success 'LIST names a message over -M: it is not fetched, the other one is' '
	start big &&
	test_expect_code 65 pf big -M 1M 2>err &&
	test_grep "unable to fetch message 2 from .*: 5000000 bytes, over 1048576 (-M); it stays on the server" err &&
	! grep "^RETR 2" log.big &&
	grep "^RETR 1" log.big &&
	test "$(ls md.big/new | wc -l)" = 1 &&
	! grep "^DELE 2" log.big
'

test_expect_success 'LIST lies about a message: -M still stops it' '
	start liar &&
	test_expect_code 65 pf liar -M 1M 2>err &&
	test_grep "over 1048576 bytes (-M)" err &&
	test -z "$(ls md.liar/tmp)" &&
	! grep "^DELE 2" log.liar
'

test_expect_success 'a message sent a byte at a time: 75 within -w, not later' '
	start slow &&
	t0=$(date +%s) &&
	test_expect_code 75 pf slow -w 2 2>err &&
	test $(( $(date +%s) - t0 )) -le 8 &&
	test_grep "Connection timed out" err &&
	test -z "$(ls md.slow/tmp)" &&
	test "$(ls md.slow/new | wc -l)" = 1
'

test_expect_success '-M takes K, M and G; 0 and garbage are usage errors' '
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u a -P pw -d md -M 0 2>err &&
	test_grep "unable to use -M 0" err &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u a -P pw -d md -M 1X
'

test_done
