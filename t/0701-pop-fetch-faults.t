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

# killrun SECONDS ARGS...: pop-fetch ARGS (the maildir last), killed with SIGKILL after SECONDS unless done; says how
# it ended in "run": killed N (N messages delivered before the kill) or
# done N.  A run that pop-fetch ended itself with an error fails.
killrun() {
	kr_t=$1 && shift &&
	kr_md=$(eval echo "\${$#}") &&
	kr_n0=$(ls "$kr_md/new" 2>/dev/null | wc -l) &&
	# --foreground: timeout waits for the killed pop-fetch to be gone
	# (it still returns 137), so that the next run never meets its lock.
	timeout --foreground -s KILL "$kr_t" pop-fetch -w $(test_scaled 5) \
	    -H 127.0.0.1:$(cat lab/port) -u alice -P pw "$@"
	kr_rc=$?
	kr_n=$(( $(ls "$kr_md/new" 2>/dev/null | wc -l) - kr_n0 ))
	case $kr_rc in
	137)	echo "killed $kr_n" >run ;;
	0|124)	echo "done $kr_n" >run ;;	# 124: done as its time ran out
	*)	echo "pop-fetch exited $kr_rc"; return 1 ;;
	esac
	echo "after ${kr_t}s: $(cat run)"
}

# moment SEED I SECONDS: a moment drawn from 5 % to 95 % of SECONDS, the
# same for the same SEED and I on every run of the test.
moment() {
	awk -v s="$1" -v i="$2" -v t="$3" \
	    "BEGIN { srand(s + i); printf \"%.3f\", t * (0.05 + rand() * 0.9) }"
}

# The moments of the kills are spread over the time a run takes here,
# measured first: on a fast machine and on a loaded one they fall in
# every phase of a run.  ms: the milliseconds of the run before.
msrun() {
	ms_t0=$(date +%s%N) &&
	killrun $(test_scaled 30) "$@" &&
	ms=$(( ($(date +%s%N) - ms_t0) / 1000000 ))
}
test_expect_success 'the time a whole run takes: 20 messages, N with -k' '
	dovecot-lab put lab alice $(seq -f orig/%g 1 20) &&
	msrun -d cal && test_grep -x "done 20" run &&
	for c in 1 2; do
		dovecot-lab put lab alice $(seq -f orig/%g 1 20) &&
		msrun -d cal$c && test_grep -x "done 20" run && echo $ms >>t20 &&
		dovecot-lab put lab alice orig/* &&
		msrun -k -d calk$c && test_grep -x "done $N" run && echo $ms >>tN &&
		msrun -d calk$c && test_grep -x "done 0" run || return 1
	done &&
	sort -n t20 | head -n 1 >t20.ms && sort -n tN | head -n 1 >tN.ms &&
	echo "a run of 20: $(cat t20.ms) ms, of $N with -k: $(cat tN.ms) ms (the shorter of two)" &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = 2
'

# Ten runs, each with twenty new messages to fetch, killed with SIGKILL
# at a moment within that time (or within the time of the last run that
# ended before its moment: the load on the machine changes).  Most runs must really be killed (how
# many after delivering messages, which the server still has and the
# next run must not deliver again, is shown).
test_expect_success 'killed with SIGKILL at random moments, ten times' '
	full=$(awk "BEGIN { print $(cat t20.ms) / 1000 }") &&
	i=0 && kills=0 && late=0 &&
	while test $i -lt 10; do
		dovecot-lab put lab alice $(seq -f orig/%g $((i * 20 + 1)) $((i * 20 + 20))) &&
		k_t0=$(date +%s%N) &&
		killrun $(moment 701 $i $full) -d md || return 1
		if grep -q "^killed" run; then
			kills=$((kills + 1))
			grep -q "^killed 0\$" run || late=$((late + 1))
		else
			# Done before its moment: the machine is quicker now
			# than when measured; the next moment is drawn within
			# the time this run took.
			full=$(awk "BEGIN { print ($(date +%s%N) - $k_t0) / 1e9 }")
		fi
		i=$((i + 1))
	done &&
	echo "killed $kills times, $late after delivering" &&
	test_timeout 30 pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d md &&
	sums md/new >got &&
	echo "delivered $(wc -l <got) of $N, duplicates $(uniq -d got | wc -l)" &&
	test_cmp want got &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = 2 &&
	test $kills -ge 5
'

# With -k nothing is deleted: every run lists all N and fetches what it
# has not delivered yet; the moment is drawn over the time of what is
# left (of 20 at least).
test_expect_success 'with -k: killed at random moments, then nothing twice' '
	dovecot-lab put lab alice orig/* &&
	i=0 && kills=0 && late=0 && left=$N &&
	while test $i -lt 8; do
		full=$(awk "BEGIN { print $(cat tN.ms) * ($left > 20 ? $left : 20) / $N / 1000 }") &&
		killrun $(moment 702 $i $full) -k -d mk || return 1
		left=$((N - $(ls mk/new | wc -l)))
		if grep -q "^killed" run; then
			kills=$((kills + 1))
			grep -q "^killed 0\$" run || late=$((late + 1))
		fi
		i=$((i + 1))
	done &&
	echo "killed $kills times, $late after delivering" &&
	test_timeout 30 pop-fetch -k -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d mk &&
	test_timeout 30 pop-fetch -k -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) \
	    -u alice -P pw -d mk &&
	sums mk/new >got && test_cmp want got &&
	test $(ls "$(labmail)/cur" "$(labmail)/new" | grep -c .) = $((N + 2)) &&
	test $kills -ge 2
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
