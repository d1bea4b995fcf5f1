#!/bin/sh
# pop-fetch when things go wrong: killed with SIGKILL at random moments
# over many runs, and the connection cut in the middle of a message.  In
# the end every message must be delivered exactly once.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

N=200
printf 'secret\n' >pw && chmod 600 pw

# Messages that differ, some of them long enough to take a while.
mkdir orig && i=1 && while test $i -le $N; do
	{
		printf 'Subject: message %d\n\n.dot %d\n' $i $i
		test $((i % 10)) -ne 0 || head -c 200000 /dev/zero | tr '\0' y
		printf '\nend\n'
	} >orig/$i
	i=$((i + 1))
done

sums() {
	for f in "$1"/*; do test ! -f "$f" || sha256sum <"$f"; done | sort
}
sums orig >want

labmail() {
	echo "$(cat lab/dir)/mail/alice/Maildir"
}

# cutter PORTFILE UPSTREAM BYTES: a proxy to the server that hangs up
# after passing BYTES bytes of the server's side on its first connection,
# and passes later ones whole (the state file is per host:port).
write_script cutter "$(command -v python3)" <<-\EOF
import socket, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(5)
open(sys.argv[1], "w").write("%d\n" % ls.getsockname()[1])
def pipe(a, b, limit):
    n = 0
    try:
        while limit is None or n < limit:
            d = a.recv(4096 if limit is None else min(4096, limit - n))
            if not d:
                break
            b.sendall(d)
            n += len(d)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
limit = int(sys.argv[3])
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
    threading.Thread(target=pipe, args=(c, s, None), daemon=True).start()
    threading.Thread(target=pipe, args=(s, c, limit), daemon=True).start()
    limit = None
EOF

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1
test ! -f cut.pid || kill $(cat cut.pid) 2>/dev/null || :'

test_expect_success 'setup: dovecot' '
	dovecot-lab start lab alice:secret
'

test_expect_success 'the connection cut in the middle of a message: 75, nothing partial' '
	dovecot-lab put lab alice orig/* &&
	{ ./cutter cut.port "$(cat lab/port)" 300000 & echo $! >cut.pid; } &&
	test_wait_for cut.port &&
	test_expect_code 75 test_timeout 30 pop-fetch -w $(test_scaled 5) \
	    -H 127.0.0.1:$(cat cut.port) -u alice -P pw -d mc 2>err &&
	# RETRs sent ahead: the cut may show on a send first.
	grep "unable to fetch a message \(from\|at\) 127.0.0.1" err &&
	n=$(ls mc/new | wc -l) && test "$n" -gt 0 && test "$n" -lt $N &&
	test -z "$(ls mc/tmp)" &&
	for f in mc/new/*; do tail -n1 "$f" | grep -qx end || return 1; done &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = $((N + 2)) &&
	test_timeout 30 pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat cut.port) \
	    -u alice -P pw -d mc &&
	sums mc/new >got && test_cmp want got &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = 2
'

# Ten runs, each with twenty new messages to fetch, killed with SIGKILL at a random moment.
test_expect_success 'killed with SIGKILL at random moments, ten times' '
	seed=$$ && i=0 && kills=0 &&
	while test $i -lt 10; do
		dovecot-lab put lab alice $(seq -f orig/%g $((i * 20 + 1)) $((i * 20 + 20))) &&
		t=$(awk "BEGIN { srand($seed + $i); printf \"%.3f\", 0.005 + rand() * 0.06 }") &&
		timeout -s KILL $t pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
		    -u alice -P pw -d md
		rc=$? &&
		echo "run $i after ${t}s: $rc" &&
		test $rc = 137 && kills=$((kills + 1))
		i=$((i + 1))
	done &&
	echo "killed $kills times" &&
	test_timeout 30 pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d md &&
	sums md/new >got &&
	echo "delivered $(wc -l <got) of $N, duplicates $(uniq -d got | wc -l)" &&
	test_cmp want got &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = 2
'

test_expect_success 'with -k: killed at random moments, then nothing twice' '
	dovecot-lab put lab alice orig/* &&
	i=0 && while test $i -lt 8; do
		t=$(awk "BEGIN { srand($$ + 100 + $i); printf \"%.3f\", 0.01 + rand() * 0.15 }") &&
		timeout -s KILL $t pop-fetch -k -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
		    -u alice -P pw -d mk
		i=$((i + 1))
	done &&
	test_timeout 30 pop-fetch -k -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d mk &&
	test_timeout 30 pop-fetch -k -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d mk &&
	sums mk/new >got && test_cmp want got &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = $((N + 2))
'

test_expect_success 'then without -k: all deleted, none delivered again' '
	test_timeout 30 pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d mk &&
	sums mk/new >got && test_cmp want got &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = 2
'

test_expect_success 'teardown' '
	kill $(cat cut.pid) && rm -f cut.pid && dovecot-lab stop lab
'

test_done
