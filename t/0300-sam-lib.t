#!/bin/sh
# The SAM v3 client library (lib/sam.c, net.c, i2p.c) against the fake
# bridge t/helpers/fake-sam, driven through t/helpers/samtool: version
# negotiation, sessions and their options, lookups, streams both ways,
# forwarding, and a clean exit code, never a hang, for every way a bridge
# can fail.
cd "$(dirname "$0")" && . ./lib.sh

SAMTOOL=${NYM_HELPERS:-$TOP/t/helpers}/samtool
FAKESAM=$TOP/t/helpers/fake-sam

test -x "$SAMTOOL" || test_skip_all "$SAMTOOL is not built (make helpers)"
command -v python3 >/dev/null || test_skip_all "python3 is missing"

# start_sam NAME [FAKE-SAM OPTIONS]: a bridge whose port is in NAME.port
# and log in NAME.log; stop_sam NAME stops it and waits until it is gone.
# Time limits here only stop a hang: they scale (test_scaled), and no
# test depends on one unless it is the thing tested.
start_sam()
{
	ss_name=$1
	shift
	rm -f "$ss_name.port" "$ss_name.pid"
	"$FAKESAM" --port-file "$ss_name.port" --pid-file "$ss_name.pid" \
	    --log "$ss_name.log" --max-seconds $(test_scaled 300) "$@" \
	    </dev/null &
	test_wait_for "$ss_name.port" && test_wait_for "$ss_name.pid"
}

stop_sam()
{
	test -s "$1.pid" || return 0
	kill "$(cat "$1.pid")" 2>/dev/null || :
	wait "$(cat "$1.pid")" 2>/dev/null || :
}

# st NAME ARGS...: samtool against bridge NAME, 10 s per step (scaled).
st()
{
	st_port=$(cat "$1.port")
	shift
	test_timeout 60 "$SAMTOOL" -t $(test_scaled 10000) \
	    -c $(test_scaled 10000) 127.0.0.1 "$st_port" "$@"
}

# bg NAME OUT IN ARGS...: samtool in the background reading IN, stdout
# to OUT, stderr to OUT.err, exit status to OUT.rc, its PID in OUT.pid
# and its ready file OUT.ready.
bg()
{
	bg_port=$(cat "$1.port")
	bg_out=$2
	bg_in=$3
	shift 3
	rm -f "$bg_out.ready" "$bg_out.rc" "$bg_out.pid"
	(
		timeout -k 2 $(test_scaled 60) "$SAMTOOL" -t $(test_scaled 10000) \
		    -c $(test_scaled 10000) -r "$bg_out.ready" \
		    127.0.0.1 "$bg_port" "$@" <"$bg_in" >"$bg_out" \
		    2>"$bg_out.err" &
		echo $! >"$bg_out.pid"
		wait $!
		echo $? >"$bg_out.rc"
	) &
	test_wait_for "$bg_out.pid"
}

# b32_of FILE: the b32 address of the destination in FILE, computed
# independently of the library.
b32_of()
{
	python3 -c '
import base64, hashlib, sys
b = base64.b64decode(open(sys.argv[1]).read().strip(), b"-~")
n = 387 + int.from_bytes(b[385:387], "big")
h = base64.b32encode(hashlib.sha256(b[:n]).digest()).decode()
print(h.lower().rstrip("=") + ".b32.i2p")' "$1"
}

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

test_atexit 'stop_sam main; test ! -s echo.pid || kill "$(cat echo.pid)" 2>/dev/null || :'

test_expect_success 'set up: an echo server and a bridge' '
	write_script echo.py "/usr/bin/env python3" <<-\EOF &&
	import os, socket, sys, threading
	ls = socket.socket()
	ls.bind(("127.0.0.1", 0))
	ls.listen(8)
	with open(sys.argv[1] + ".tmp", "w") as f:
	    f.write("%d\n" % ls.getsockname()[1])
	os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	threading.Timer(int(sys.argv[2]), os._exit, (0,)).start()
	while True:
	    c, _ = ls.accept()
	    data = b""
	    while True:
	        d = c.recv(65536)
	        if not d:
	            break
	        data += d
	    c.sendall(data)
	    c.close()
	EOF
	(./echo.py echo.port $(test_scaled 300) & echo $! >echo.pid) &&
	test_wait_for echo.port &&
	start_sam main --route echo.lab.i2p=$(cat echo.port) &&
	head -c 1000000 /dev/urandom >a.in &&
	head -c 1000000 /dev/urandom >b.in &&
	printf "hello\r\nworld\n" >small
'

test_expect_success 'HELLO: 3.1, as i2pd 2.45.1 answers' '
	st main session >b32 &&
	grep -E "^[a-z2-7]{52}\.b32\.i2p\$" b32 &&
	grep "^1 HELLO VERSION MIN=3.1 MAX=3.3\$" main.log
'

test_expect_success 'HELLO: a 3.3 bridge works too' '
	test_when_finished "stop_sam v33" &&
	start_sam v33 --max-version 3.3 &&
	st v33 session >b32 &&
	grep -E "^[a-z2-7]{52}\.b32\.i2p\$" b32
'

test_expect_success 'HELLO refused (NOVERSION): temporary, with the reason' '
	test_when_finished "stop_sam v30" &&
	start_sam v30 --max-version 3.0 &&
	test_expect_code 75 st v30 session 2>err &&
	test_grep NOVERSION err &&
	test_line_count = 1 err
'

test_expect_success 'SESSION CREATE carries the defaults' '
	st main session >b32 &&
	want="STYLE=STREAM ID=nym[a-z2-7]\{12\} DESTINATION=TRANSIENT" &&
	want="$want SIGNATURE_TYPE=7 i2cp.leaseSetEncType=4,0" &&
	want="$want inbound.length=3 outbound.length=3" &&
	want="$want inbound.quantity=2 outbound.quantity=2" &&
	grep "^[0-9]* SESSION CREATE $want\$" main.log
'

test_expect_success 'options replace the defaults of the same key' '
	st main session --opts "inbound.length=0 outbound.length=0 \
	    i2cp.leaseSetType=1 i2cp.leaseSetEncType=0" &&
	want="SIGNATURE_TYPE=7 i2cp.leaseSetEncType=0" &&
	want="$want inbound.length=0 outbound.length=0" &&
	want="$want inbound.quantity=2 outbound.quantity=2" &&
	want="$want i2cp.leaseSetType=1" &&
	grep "SESSION CREATE .*ID=nym[a-z2-7]* DESTINATION=TRANSIENT $want\$" \
	    main.log
'

test_expect_success 'malformed options: usage error, nothing sent' '
	cp main.log before &&
	test_expect_code 64 st main session --opts "a=b c" 2>err &&
	test_expect_code 64 st main session --opts "a=\"b\"" 2>err &&
	test_expect_code 64 st main session --opts "ID=x" 2>err &&
	! diff before main.log | grep SESSION
'

test_expect_success 'DEST GENERATE, and a session on that key' '
	st main generate >keys &&
	test_line_count = 2 keys &&
	sed -n 1p keys >pub && sed -n 2p keys >priv &&
	st main generate >keys2 &&
	sed -n 1p keys2 >pub2 && sed -n 2p keys2 >priv2 &&
	st main session --priv priv >b32 &&
	b32_of pub >want &&
	test_cmp want b32 &&
	b32_of priv >want2 &&
	test_cmp want want2
'

test_expect_success 'NAMING LOOKUP ME, on the session socket' '
	st main lookup --priv priv ME >me &&
	test_cmp pub me &&
	awk "\$2 == \"SESSION\" { s[\$1] = 1 }
	    \$2 == \"NAMING\" && !s[\$1] { bad = 1; print }
	    END { exit bad }" main.log
'

test_expect_success 'lookups: route name, its b32, unknown name, unknown b32' '
	st main lookup echo.lab.i2p >route &&
	st main lookup --b32 echo.lab.i2p >route.b32 &&
	b32_of route >want && test_cmp want route.b32 &&
	st main lookup "$(cat route.b32)" >again &&
	test_cmp route again &&
	test_expect_code 68 st main lookup nowhere.i2p 2>err &&
	test_grep KEY_NOT_FOUND err &&
	test_expect_code 68 st main lookup \
	    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b32.i2p 2>err &&
	test_grep INVALID_KEY err
'

test_expect_success 'connect and accept: 1 MB each way, peer on stderr' '
	bg main acc a.in accept --priv priv &&
	test_wait_for acc.ready &&
	test_expect_code 75 st main session --priv priv 2>err &&
	test_grep DUPLICATED_DEST err &&
	st main connect --priv priv2 "$(cat pub)" <b.in >b.out &&
	test_wait_for acc.rc &&
	echo 0 >want && test_cmp want acc.rc &&
	cmp a.in b.out &&
	cmp b.in acc &&
	b32_of pub2 >want && test_cmp want acc.err
'

test_expect_success 'a live session: lookup and connect by its b32' '
	bg main acc small accept --priv priv &&
	test_wait_for acc.ready &&
	st main lookup "$(b32_of pub)" >found &&
	test_cmp pub found &&
	st main connect "$(b32_of pub)" <small >out &&
	test_wait_for acc.rc &&
	test_cmp small out &&
	test_cmp small acc
'

test_expect_success 'a --name points at a live session' '
	test_when_finished "stop_sam named" &&
	start_sam named --name bob.i2p=pub &&
	bg named acc small accept --priv priv &&
	test_wait_for acc.ready &&
	st named lookup bob.i2p >found &&
	test_cmp pub found &&
	st named connect bob.i2p <small >out &&
	test_wait_for acc.rc &&
	test_cmp small out
'

test_expect_success 'forward: the peer line, then the data' '
	bg main fwd /dev/null forward --priv priv "$(cat echo.port)" &&
	test_wait_for fwd.ready &&
	st main connect --priv priv2 "$(cat fwd.ready)" <small >out &&
	cat pub2 small >want &&
	test_cmp want out &&
	kill "$(cat fwd.pid)" &&
	test_wait_for fwd.rc
'

test_expect_success 'forward, silent: only the data' '
	test_when_finished "stop_sam fw" &&
	start_sam fw &&
	bg fw fwd /dev/null forward --priv priv --silent "$(cat echo.port)" &&
	test_wait_for fwd.ready &&
	st fw connect "$(cat fwd.ready)" <a.in >out &&
	cmp a.in out &&
	stop_sam fw &&
	test_wait_for fwd.rc &&
	echo 0 >want && test_cmp want fwd.rc &&
	want="PORT=$(cat echo.port) HOST=127.0.0.1 SILENT=true" &&
	grep "STREAM FORWARD ID=nym[a-z2-7]* $want\$" fw.log
'

test_expect_success 'route: a fixed name and its b32 reach a local port' '
	st main connect echo.lab.i2p <small >out &&
	test_cmp small out &&
	st main connect "$(cat route.b32)" <b.in >out &&
	cmp b.in out
'

for r in CANT_REACH_PEER:75:CANT_REACH_PEER TIMEOUT:75:TIMEOUT \
    I2P_ERROR:75:I2P_ERROR SOMETHING_NEW:75:UNKNOWN \
    PEER_NOT_FOUND:68:PEER_NOT_FOUND INVALID_KEY:68:INVALID_KEY; do
	res=${r%%:*} code=${r#*:} shown=${r##*:}
	code=${code%:*}
	test_expect_success "STREAM CONNECT answered $res: exit $code" '
		test_when_finished "stop_sam fail" &&
		start_sam fail --fail-connect $res &&
		test_expect_code $code st fail connect echo.lab.i2p 2>err &&
		test_grep "unable to connect: $shown\$" err
	'
done

test_expect_success 'garbage replies: temporary, says why' '
	test_when_finished "stop_sam bad" &&
	start_sam bad --garbage &&
	test_expect_code 75 st bad session 2>err &&
	test_grep "unexpected reply WHAT IS" err &&
	test_expect_code 75 st bad generate 2>err
'

test_expect_success 'a 100 KB reply line is refused, not read' '
	test_when_finished "stop_sam long" &&
	start_sam long --long-line &&
	test_expect_code 75 st long session 2>err &&
	test_grep "too long" err
'

test_expect_success 'a silent bridge times out: SESSION CREATE after -c' '
	test_when_finished "stop_sam mute" &&
	start_sam mute --silent &&
	t0=$(now_ms) &&
	test_expect_code 75 test_timeout 60 "$SAMTOOL" \
	    -t $(test_scaled 20000) -c 400 \
	    127.0.0.1 $(cat mute.port) session 2>err &&
	t1=$(now_ms) &&
	test_grep "timed out" err &&
	test $((t1 - t0)) -ge 350 && test $((t1 - t0)) -lt $(test_scaled 5000)
'

test_expect_success 'a silent bridge times out: any other step after -t' '
	test_when_finished "stop_sam mute" &&
	start_sam mute --silent &&
	t0=$(now_ms) &&
	test_expect_code 75 test_timeout 60 "$SAMTOOL" -t 400 \
	    -c $(test_scaled 20000) 127.0.0.1 $(cat mute.port) generate 2>err &&
	t1=$(now_ms) &&
	test_grep "timed out" err &&
	test $((t1 - t0)) -ge 350 && test $((t1 - t0)) -lt $(test_scaled 5000)
'

test_expect_success 'a slow SESSION CREATE within -c is fine' '
	test_when_finished "stop_sam slow" &&
	start_sam slow --session-delay 0.5 &&
	test_timeout 60 "$SAMTOOL" -c $(test_scaled 10000) 127.0.0.1 $(cat slow.port) \
	    session >b32 &&
	grep -E "^[a-z2-7]{52}\.b32\.i2p\$" b32
'

test_expect_success 'an error line instead of the peer: temporary' '
	test_when_finished "stop_sam aerr" &&
	start_sam aerr --accept-error &&
	test_expect_code 75 st aerr accept 2>err &&
	test_grep "unable to read the peer" err
'

test_expect_success 'no bridge at all: temporary' '
	start_sam gone && stop_sam gone &&
	test_expect_code 75 st gone session 2>err &&
	test_grep "refused" err
'

test_expect_success '.i2p and .onion never reach the resolver' '
	test_expect_code 64 test_timeout 30 "$SAMTOOL" sam.i2p 7656 session &&
	test_expect_code 64 test_timeout 30 "$SAMTOOL" x.onion 7656 session
'

test_expect_success 'never a PING or QUIT (i2pd closes the session)' '
	cat *.log >all &&
	test_grep -v -E "^[0-9]+ (PING|QUIT)" all
'

test_expect_success 'stop the bridge and the echo server' '
	stop_sam main &&
	kill "$(cat echo.pid)"
'

test_done
