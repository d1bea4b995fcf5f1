#!/bin/sh
# t/helpers/i2p-net, the suite's private I2P network: three i2pd routers
# in a network namespace of their own, Alice's router A and Bob's router
# B distinct, ready only after a real stream from A to B; a router that
# dies fails the run; a signal stops everything; where no namespace can
# be made, one router, said so.
cd "$(dirname "$0")" && . ./lib.sh

H=$TOP/t/helpers
command -v i2pd >/dev/null || test_skip_all "i2pd is not installed"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
test -x "${NYM_HELPERS:-$H}/samtool" || test_skip_all "samtool is not built"

# i2pd processes of a run: those whose command line names DIR.
i2pds() {
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <$p/cmdline 2>/dev/null | grep -q "^i2pd .*$1" &&
		    echo ${p#/proc/}
	done
	return 0
}

write_script inside.sh <<'EOS'
env >env
ip -o addr >addr
cp "$I2P_NET_DIR/pids" pids
# The network's own check: a line each way between a session on A and
# one on B.
cat "$I2P_NET_DIR"/check.*/a.out >check.a
cat "$I2P_NET_DIR"/check.*/b.out >check.b
# The command's control: router A stopped and started again on purpose
# (not a death), then B killed behind the script's back (a death).
"$I2P_NET_DIR/router" stop A 2>ctl.err && echo $? >stop.rc
"$I2P_NET_DIR/router" start A >newpid.a 2>>ctl.err && echo $? >start.rc
./gone.sh "$I2PD_PID_A" && echo gone >old.a
cp "$I2P_NET_DIR/pids" pids.after
"$I2P_NET_DIR/router" stop F 2>>ctl.err
kill -KILL "$I2PD_PID_B"
./gone.sh "$I2PD_PID_B"
EOS

# gone.sh PID: until PID has ended (a zombie counts), 10 s at most.
write_script gone.sh <<'EOS'
n=0
while kill -0 "$1" 2>/dev/null &&
    ! sed 's/.*) //' /proc/$1/stat 2>/dev/null | grep -q '^[ZX]'; do
	n=$((n + 1))
	test $n -lt 100 || exit 1
	sleep 0.1
done
EOS

if ! unshare -n true 2>/dev/null; then
	echo "# no network namespace here: only the one-router fallback is tested"
else
	test_set_prereq NETNS
fi

# One router network at a time (t/lib.sh).
test_i2p_exclusive

test_expect_success NETNS 'three routers; a router that died fails the run (70)' '
	mkdir tmp &&
	TMPDIR=$TRASH/tmp test_timeout 200 "$H/i2p-net" -k -- ./inside.sh \
	    >out 2>err
	rc=$? && cat err && test $rc = 70 &&
	test_grep "^i2p-net: router B (pid $(sed -n "s/^B //p" pids)) died during the run" err &&
	test_grep -v "router [FA] .*died" err
'

test_expect_success NETNS 'Alice'"'"'s router A and Bob'"'"'s B are two routers' '
	test_grep "^I2P_NET_MODE=three-routers$" env &&
	a=$(sed -n "s/^SAM_PORT_A=//p" env) && b=$(sed -n "s/^SAM_PORT_B=//p" env) &&
	test -n "$a" && test -n "$b" && test "$a" != "$b" &&
	test_grep "^SAM_PORT=$a$" env &&
	test "$(cut -d" " -f2 pids | sort -u | wc -l)" = 3 &&
	test_grep "^SAM_OPTS=.*i2cp.leaseSetEncType=4,0" env &&
	test_grep -v "leaseSetType=1" env
'

test_expect_success NETNS 'the namespace has only lo, with the routers'"'"' 198.18.0.1-3' '
	test -z "$(grep -v "^[0-9]*: lo " addr)" &&
	test_grep " 198.18.0.1/32 " addr && test_grep " 198.18.0.3/32 " addr
'

test_expect_success NETNS 'ready meant a stream from A to B, a line each way' '
	test_grep -x "pong from B" check.a &&
	test_grep -x "ping from A" check.b
'

test_expect_success NETNS 'I2P_NET_DIR/router stops and starts a router on purpose' '
	test "$(cat stop.rc)" = 0 && test "$(cat start.rc)" = 0 &&
	test_must_be_empty ctl.err && test -f old.a &&
	test "$(sed -n "s/^A //p" pids.after)" = "$(cat newpid.a)" &&
	test "$(cat newpid.a)" != "$(sed -n "s/^A //p" pids)" &&
	test_grep "^i2p-net: router F was stopped by the command" err &&
	test_grep -v "^i2p-net: router A " err
'

test_expect_success NETNS 'every router stopped, by PID (a restarted one too)' '
	for p in $(cut -d" " -f2 pids pids.after); do ! kill -0 $p 2>/dev/null || return 1; done &&
	i2pds "$TRASH/tmp" >left && test_must_be_empty left
'

test_expect_success NETNS 'SIGTERM while the network starts stops it all' '
	mkdir tmp2 &&
	{ TMPDIR=$TRASH/tmp2 "$H/i2p-net" -- sleep 300 >out2 2>err2 &
	  echo $! >net.pid; } &&
	n=0 &&
	until test -d tmp2/i2p-net.*/check.1; do
		n=$((n + 1)) && test $n -lt 300 || { cat err2; return 1; }
		sleep 0.1
	done &&
	test -n "$(i2pds "$TRASH/tmp2")" &&
	kill -TERM $(cat net.pid) &&
	n=0 &&
	while kill -0 $(cat net.pid) 2>/dev/null; do
		n=$((n + 1)) && test $n -lt 100 || return 1
		sleep 0.1
	done &&
	test -z "$(i2pds "$TRASH/tmp2")" &&
	test -z "$(ls tmp2)"
'

test_expect_success 'the one-router fallback says so' '
	test_timeout 60 "$H/i2p-net" -1 -- sh -c \
	    "echo \$I2P_NET_MODE \$SAM_PORT_A \$SAM_PORT_B" >out3 2>err3 &&
	set -- $(cat out3) &&
	test "$1" = one-router && test "$2" = "$3" &&
	test_grep "falling back to ONE router" err3
'

test_expect_success 'the fallback too fails the run when its router died (70)' '
	test_timeout 60 "$H/i2p-net" -1 -- sh -c \
	    "kill -KILL \$I2PD_PID_A && ./gone.sh \$I2PD_PID_A" 2>err4
	rc=$? && cat err4 && test $rc = 70 &&
	test_grep "^i2p-net: the router (pid [0-9]*) died during the run" err4
'

test_done
