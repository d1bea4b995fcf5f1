#!/bin/sh
# pop-serve behind a real onion service, on the suite's private Tor
# network (t/helpers/tor-net): the service's port 110 forwarded to a socat
# listener on 127.0.0.1:1110 inside the network's namespace, as pop-serve(1)
# shows; pop-fetch -o reads the encrypted maildir through the client's
# SOCKS5 port into a maildir, every message byte for byte, exactly once.
# A well-formed onion that does not exist on the network fails
# temporarily (75) within pop-fetch's -w, on the plain SOCKS port and on
# the one with Tor's extended errors.
cd "$(dirname "$0")" && . ./lib.sh
. "$TOP/t/helpers/tor-lib.sh"

H=$TOP/t/helpers
command -v pop-serve >/dev/null || test_skip_all "pop-serve is not built"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
command -v socat >/dev/null || test_skip_all "socat is missing"
tor_prereqs

# Messages whose stored form is their own bytes (LF line ends, a last
# one): dots at line starts, 8-bit, NUL and bare CR, one over 1 MB.
mkmsgs() {
	mkdir -p "$1" && python3 - "$1" <<-\EOP
	import sys
	d = sys.argv[1]
	def put(name, data):
	    open("%s/%s" % (d, name), "wb").write(data)
	put("lf", b"From: a@example.org\nSubject: plain\n\nhello\n")
	put("dots", b"Subject: dots\n\n.\n..\n.leading\nFrom here\n. \n")
	put("8bit", b"Subject: 8bit\nContent-Transfer-Encoding: 8bit\n\n" +
	    bytes(range(0x80, 0x100)) + b"\n\t\xe9t\xe9\n")
	put("binary", b"Subject: binary\n\n" + bytes(range(256)) * 3 +
	    b"\nbare\rCR\n")
	big = [b"Subject: big\n", b"\n"]
	for i in range(30000):
	    big.append(b"%s%05d %s\n" % (b"." if i % 7 == 0 else b"", i,
	                                  b"x" * (i % 70)))
	put("big", b"".join(big))
	EOP
}

test_expect_success 'pop-serve(1) shows this set-up: port 110 to the socat listener on 1110' '
	test_grep "^HiddenServicePort 110 127\.0\.0\.1:1110$" "$TOP/man/pop-serve.1" &&
	test_grep "^socat TCP-LISTEN:1110,bind=127\.0\.0\.1,reuseaddr,fork EXEC:pop-serve$" \
	    "$TOP/man/pop-serve.1"
'

test_expect_success 'setup: keys, an encrypted maildir of 5 messages' '
	printf "s3cret pass\n" >pw && chmod 600 pw &&
	mbox-encrypt -g -F 3 -K key -k key.pub 3<pw &&
	mkmsgs orig && test $(wc -c <orig/big) -gt 1048576 &&
	for f in orig/*; do mbox-encrypt -k key.pub -d md <"$f" || return 1; done &&
	test "$(find md/new md/cur -type f | wc -l)" = 5
'

# Inside the network: pop-serve under socat on 127.0.0.1:1110, as
# pop-serve(1) shows it, then the fetches; each result in res/.
write_script inside.sh <<'EOS'
. tor-lib.sh
R=$TRASH/res
r=$R
echo "$ONION_pop" >"$r/onion"
echo "$TOR_NET_READY" >"$r/ready"
socat TCP-LISTEN:1110,bind=127.0.0.1,reuseaddr,fork \
    EXEC:"pop-serve -d $TRASH/md -K $TRASH/key -u alice -D 0" \
    2>"$r/socat.err" &
echo $! >"$r/socat.pid"
n=0
until (echo QUIT | socat - TCP:127.0.0.1:1110) 2>/dev/null | grep -q '^+OK'; do
	n=$((n + 1))
	test $n -lt $((100 * NYM_TEST_SCALE)) || { echo "no pop-serve on 1110" >&2; exit 1; }
	sleep 0.1
done
ss -Hltn >"$r/listening"
w=$((30 * NYM_TEST_SCALE))
tor_step fetch1 pop-fetch -o "$ONION_pop:110" -w $w -u alice -P "$TRASH/pw" \
    -d "$TRASH/got"
find "$TRASH/md/new" "$TRASH/md/cur" -type f | wc -l >"$r/left1"
find "$TRASH/got/new" "$TRASH/got/cur" -type f | wc -l >"$r/got1"
tor_step fetch2 pop-fetch -o "$ONION_pop" -w $w -u alice -P "$TRASH/pw" -d "$TRASH/got"
# torproject.org's onion: well-formed, and unknown to this network.
nowhere=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
w=$((10 * NYM_TEST_SCALE))
for p in "$TOR_SOCKS" "$TOR_SOCKS_EXTENDED"; do
	tor_step "nowhere.$p" env TOR_SOCKS=$p pop-fetch -o "$nowhere" -w $w \
	    -u alice -P "$TRASH/pw" -d "$TRASH/none"
done
echo "$w" >"$r/nowhere.w"
kill "$(cat "$r/socat.pid")"
wait
EOS

test_expect_success 'the private Tor network runs the fetches (tor-net)' '
	mkdir res tmp &&
	t0=$(date +%s) &&
	TMPDIR=$TRASH/tmp test_timeout 600 "$H/tor-net" -w $(test_scaled 240) \
	    -s pop=110:127.0.0.1:1110 -- ./inside.sh >net.out 2>net.err
	rc=$?
	echo $(($(date +%s) - t0)) >net.time
	cat net.err && test $rc = 0 &&
	test -z "$(ls tmp)"
'
echo "# tor-net ready in $(cat res/ready 2>/dev/null) s; 5 messages (1.2 MB) through the onion in $(cat res/fetch1.ms 2>/dev/null) ms; the whole run $(cat net.time 2>/dev/null) s"

test_expect_success 'pop-serve listened on the loopback only' '
	test_grep "127\.0\.0\.1:1110 " res/listening &&
	test_grep -v -E "(0\.0\.0\.0|\*|\[::\]):1110 " res/listening
'

test_expect_success 'pop-fetch -o read every message through the onion, byte for byte' '
	test "$(cat res/fetch1.rc)" = 0 &&
	test_must_be_empty res/fetch1.err &&
	test_must_be_empty res/socat.err &&
	test "$(ls got/new | wc -l)" = 5 &&
	for f in orig/*; do
		found= &&
		for g in got/new/*; do
			cmp -s "$f" "$g" && found=$g && break
		done &&
		test -n "$found" || { echo "no copy of $f" >&2; return 1; }
	done &&
	for f in orig/*; do sha256sum <"$f"; done | sort >want &&
	for f in got/new/*; do sha256sum <"$f"; done | sort >have &&
	test_cmp want have
'

test_expect_success 'exactly once: the server kept nothing, the second fetch got nothing' '
	test "$(cat res/left1)" = 0 && test "$(cat res/got1)" = 5 &&
	test -z "$(find md/new md/cur -type f)" &&
	test "$(cat res/fetch2.rc)" = 0 &&
	test_must_be_empty res/fetch2.err &&
	test "$(ls got/new | wc -l)" = 5 &&
	test -z "$(ls got/cur)"
'

test_expect_success 'a well-formed onion the network does not know: 75 within -w' '
	for p in 127.0.0.1:9050 127.0.0.1:9052; do
		test "$(cat res/nowhere.$p.rc)" = 75 &&
		test "$(cat res/nowhere.$p.ms)" -le "$(( ($(cat res/nowhere.w) + 5) * 1000 ))" &&
		test_grep "^pop-fetch: " res/nowhere.$p.err &&
		test_line_count = 1 res/nowhere.$p.err &&
		test -z "$(find none -type f 2>/dev/null)" || return 1
	done &&
	cat res/nowhere.*.err
'

test_done
