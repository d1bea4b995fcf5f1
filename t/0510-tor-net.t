#!/bin/sh
# t/helpers/tor-net, the suite's private Tor network: authorities, relays,
# a client and onion services in a network namespace of their own, ready
# only after a real stream to every service port; everything on the
# namespace's loopback; a service served from an existing key; a tor that
# dies fails the run (70); a network that does not come up in time, a
# signal, even SIGKILL, leaves no tor behind.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x /usr/sbin/tor && test -x /usr/bin/tor-gencert ||
	test_skip_all "tor is not installed (Debian: tor)"
command -v ip >/dev/null || test_skip_all "no ip(8) for the network namespace (Debian: iproute2)"
if test "$(id -u)" = 0; then ns="unshare -n"; else ns="unshare -r -n"; fi
$ns true 2>/dev/null ||
	test_skip_all "no network namespace here ($ns fails): the private Tor network needs one"

# tors DIR: the PIDs in DIR's pid files (one per tor).
tors() {
	cat "$1"/*/pid 2>/dev/null
}

# gone PID...: every one has ended (a zombie counts), 10 s at most.
gone() {
	test_wait_gone "$@"
}

# A SOCKS5 client: connect through $TOR_SOCKS to HOST PORT, print the
# first line the other end sends.
write_script socks "$(command -v python3)" <<-\EOF
import os, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
ph, pp = os.environ["TOR_SOCKS"].rsplit(":", 1)
s = socket.create_connection((ph, int(pp)), 60)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() +
          port.to_bytes(2, "big"))
r = s.recv(10)
if r[1] != 0:
    sys.exit("socks: reply %d" % r[1])
sys.stdout.buffer.write(s.makefile("rb").readline())
EOF

# ctl ADDR COOKIEFILE: the bootstrap phase, from tor's control port.
write_script ctl "$(command -v python3)" <<-\EOF
import socket, sys
h, p = sys.argv[1].rsplit(":", 1)
cookie = open(sys.argv[2], "rb").read().hex()
s = socket.create_connection((h, int(p)), 30)
s.sendall(("AUTHENTICATE %s\r\nGETINFO status/bootstrap-phase\r\n"
           "QUIT\r\n" % cookie).encode())
f = s.makefile("rb")
for line in f:
    sys.stdout.write(line.decode())
EOF

# The command of the full run: what it sees, a stream of its own to a
# server of its own through the onion served from the given key, then a
# relay killed behind tor-net's back.
write_script inside.sh <<'EOS'
env >env
./ctl "$TOR_CONTROL" "$TOR_CONTROL_COOKIE" >ctl.client 2>&1
./ctl "$ONION_CONTROL" "$ONION_CONTROL_COOKIE" >ctl.onion 2>&1
ip -o addr >addr
ss -Hltn >listening
cp "$TOR_NET_DIR/ready.log" ready.log
python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 2526))
s.listen(1)
open("b.ready", "w").write("1")
c, _ = s.accept()
c.sendall(b"hello from b\r\n")
c.close()' &
n=0
until test -s b.ready; do
	n=$((n + 1))
	test $n -lt 100 || { echo "no server on 2526" >b.err; break; }
	sleep 0.1
done
./socks "$ONION_b" 25 >b.line 2>b.err
wait
# a server it leaves running
sleep 600 &
echo $! >left.pid
r4=$(cat "$TOR_NET_DIR/r4/pid")
echo "$r4" >r4.pid
kill -KILL "$r4"
echo "killed $?" >stage
n=0
while kill -0 "$r4" 2>/dev/null && ! grep -q '^[0-9]* (.*) [ZX]' /proc/$r4/stat 2>/dev/null; do
	n=$((n + 1))
	test $n -lt 100 || break
	sleep 0.1
done
echo "waited $n" >>stage
EOS

test_expect_success 'usage errors (64) start nothing' '
	mkdir tmp0 &&
	test_expect_code 64 "$H/tor-net" 2>e1 &&
	test_expect_code 64 "$H/tor-net" -s a=x -- true 2>e2 &&
	test_expect_code 64 "$H/tor-net" -s "a b=25" -- true 2>e3 &&
	test_expect_code 64 "$H/tor-net" -s a=9050 -- true 2>e4 &&
	test_expect_code 64 "$H/tor-net" -s a=25 -s b=25 -- true 2>e5 &&
	test_expect_code 64 "$H/tor-net" -d a=tmp0 -s a=25 -- true 2>e6 &&
	test_expect_code 64 "$H/tor-net" -d a="$TDATA/tor-hs" -- true 2>e7 &&
	test_grep "^usage: \|^tor-net: no command" e1 &&
	test_grep "bad port" e2 &&
	test_grep "^tor-net: usage:" e3 &&
	test_grep "one of the network" e4 &&
	test_grep "given twice" e5 &&
	test_grep "unable to read tmp0/hs_ed25519_secret_key" e6 &&
	test_grep "has no port" e7 &&
	test -z "$(ls tmp0)"
'

test_expect_success 'a network: two services, three ports, one from a key' '
	mkdir tmp &&
	t0=$(date +%s) &&
	TMPDIR=$TRASH/tmp test_timeout 400 "$H/tor-net" -k -w $(test_scaled 240) \
	    -s a=25:127.0.0.1:2525 -s a=110:1110 -s b=2526 \
	    -d b="$TDATA/tor-hs" -- ./inside.sh >out 2>err
	rc=$?
	echo $(($(date +%s) - t0)) >net.time
	echo "tor-net exit $rc" && cat err stage && test $rc = 70 &&
	test_grep "^tor-net: ready in [0-9]* s" err &&
	ls -d tmp/tor-net.* >tor-dirs && test_line_count = 1 tor-dirs
'
echo "# $(grep "^tor-net: ready" err 2>/dev/null); the whole run $(cat net.time 2>/dev/null) s"

test_expect_success 'the same run, checked: the run exited 70 for the relay killed' '
	test_grep "^tor-net: tor r4 (pid $(cat r4.pid)) died during the run" err &&
	test_grep "^tor-net: kept $TRASH/tmp/tor-net\." err
'

test_expect_success 'the command saw the client, both services and the network' '
	test_grep "^TOR_SOCKS=127\.0\.0\.1:9050$" env &&
	test_grep "^TOR_SOCKS_EXTENDED=127\.0\.0\.1:9052$" env &&
	test_grep "^TOR_CONTROL=127\.0\.0\.1:9051$" env &&
	a=$(sed -n "s/^ONION_a=//p" env) && b=$(sed -n "s/^ONION_b=//p" env) &&
	expr "$a" : "[a-z2-7]\{55\}d\.onion$" &&
	test "$b" = "$(cat "$TDATA/tor-hs/hostname")" && test "$a" != "$b" &&
	test_grep "^ONION_DIR_a=$TRASH/$(cat tor-dirs)/onion/hs/a$" env &&
	test "$(cat "$(cat tor-dirs)/onion/hs/b/hostname")" = "$b" &&
	test_grep "^TOR_NET_READY=[0-9][0-9]*$" env &&
	test "$(sed -n "s/^TOR_NET_PIDS=//p" env | wc -w)" = 7
'

test_expect_success 'the control ports of the client and of the onion services, with their cookies' '
	for w in client onion; do
		test_grep "^250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 " ctl.$w ||
		return 1
	done
'

test_expect_success 'ready meant a stream to every port of every service' '
	test_grep ": $(sed -n "s/^ONION_a=//p" env):25 (a): ok in" ready.log &&
	test_grep ": $(sed -n "s/^ONION_a=//p" env):110 (a): ok in" ready.log &&
	test_grep ": $(sed -n "s/^ONION_b=//p" env):25 (b): ok in" ready.log
'

test_expect_success 'a stream of the command own, through the key it gave' '
	test_must_be_empty b.err &&
	printf "hello from b\r\n" >want && test_cmp want b.line
'

test_expect_success 'only the namespace loopback; every listener on 127.0.0.1' '
	test "$(wc -l <addr)" -le 2 &&
	test_grep -v -E " (eth|en|wl|veth)" addr &&
	test_grep "^[0-9]*: lo " addr &&
	test -s listening &&
	awk "{ print \$4 }" listening >local &&
	! grep -v "^127\.0\.0\.1:" local &&
	test_grep -v -E ":(2525|1110|2526)$" local
'

test_expect_success 'afterwards no tor runs, nor what the command left running; -k kept the directory' '
	gone $(sed -n "s/^TOR_NET_PIDS=//p" env) $(cat left.pid) &&
	test -d "$(cat tor-dirs)" && rm -rf tmp/tor-net.*
'

test_expect_success 'a HiddenServiceDir whose hostname is not its key: 3, nothing left' '
	mkdir tmp2 hs && cp "$TDATA"/tor-hs/hs_ed25519_* hs &&
	echo 2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion \
	    >hs/hostname &&
	TMPDIR=$TRASH/tmp2 test_expect_code 3 test_timeout 120 "$H/tor-net" \
	    -s x=2525 -d x=hs -- touch ran 2>err2 &&
	test_grep "^tor-net: hs/hostname does not name $(cat "$TDATA/tor-hs/hostname")" err2 &&
	test_path_is_missing ran &&
	test -z "$(ls tmp2)"
'

test_expect_success 'not ready within -w: 3 with the tors log ends, nothing left' '
	mkdir tmp3 &&
	TMPDIR=$TRASH/tmp3 test_expect_code 3 test_timeout 120 "$H/tor-net" \
	    -w 3 -s x=2525 -- touch ran 2>err3 &&
	test_grep -E "^tor-net: .*within 3 s" err3 &&
	test_grep "^  client (.*/client/notice.log):" err3 &&
	test_grep "^  a0 (" err3 &&
	test_grep "^  | " err3 &&
	test_path_is_missing ran &&
	test -z "$(ls tmp3)"
'

# sig SIGNAL: start a network, send SIGNAL to tor-net once the authority
# and the relays run (the client and the onion services start later,
# the same way), wait until tor-net has ended.
sig() {
	rm -rf tmp4 && mkdir tmp4 &&
	{ TMPDIR=$TRASH/tmp4 "$H/tor-net" -s x=2525 -- touch ran 2>err4 &
	  pid=$!; } &&
	test_wait_until "test \$(tors tmp4/tor-net.* | wc -l) = 5" 60 &&
	tors tmp4/tor-net.* >pids &&
	kill -$1 $pid &&
	wait $pid
	echo $? >rc4
	gone $pid
}

test_expect_success 'SIGTERM while it starts: every tor stopped, the directory removed' '
	sig TERM &&
	test "$(cat rc4)" = 143 &&
	gone $(cat pids) &&
	test -z "$(ls tmp4)" &&
	test_path_is_missing ran
'

test_expect_success 'SIGKILL while it starts: every tor gets SIGTERM all the same' '
	sig KILL &&
	test "$(cat rc4)" = 137 &&
	gone $(cat pids) &&
	test_path_is_missing ran &&
	rm -rf tmp4
'

test_done
