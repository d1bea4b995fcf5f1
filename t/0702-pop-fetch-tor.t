#!/bin/sh
# pop-fetch -o: POP3 over Tor's SOCKS5 port.  A proxy of our own
# (t/helpers/fake-socks) relays to a real dovecot only what it gets as a
# host name, and logs what it got; strace shows that no name is looked up
# locally; the proxy refuses, stalls and hangs up in each way Tor can;
# and a real tor that can never bootstrap answers a real request.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
! command -v strace >/dev/null || test_set_prereq STRACE

# strace, with LeakSanitizer off for the traced program: it cannot run
# under ptrace (make check-asan); AddressSanitizer itself stays on.
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"
}
! test -x /usr/sbin/tor || test_set_prereq TOR

# A made-up v3 name (its checksum is wrong, which only Tor checks) and a
# real one (torproject.org's), for the real tor.
ONION=pop3abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrsd.onion
REAL=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion

mkmsgs() {
	rm -rf "$1" && mkdir "$1" &&
	i=1 && while test $i -le $2; do
		printf 'Subject: %s %d\n\n.dot\nFrom here\nend\n' "$1" $i \
		    >"$1/$i" || return 1
		i=$((i + 1))
	done
}

sums() {
	for d in "$@"; do
		for f in "$d"/*; do test ! -f "$f" || sha256sum <"$f"; done
	done | sort
}

labcount() {
	ls "$(cat lab/dir)/mail/alice/Maildir/new" \
	    "$(cat lab/dir)/mail/alice/Maildir/cur" | grep -c '^[0-9]'
}

# proxy NAME ARGS...: start fake-socks in NAME.port/.pid/.log.
proxy() {
	n=$1 && shift &&
	rm -f $n.port $n.pid $n.log &&
	{ "$H/fake-socks" --port-file $n.port --pid-file $n.pid --log $n.log \
	    --max-seconds $(test_scaled 300) "$@" </dev/null & } &&
	test_wait_for $n.port && test_wait_for $n.pid
}

pft() {
	test_timeout 30 pop-fetch -w $(test_scaled 5) -u alice -P pw "$@"
}

printf 'secret\n' >pw && chmod 600 pw

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1
for p in "$TRASH"/*.pid; do test ! -f "$p" || kill $(cat "$p") 2>/dev/null || :; done
"$TOP/t/helpers/tor-lab" stop "$TRASH/tor" >/dev/null 2>&1 || :'

test_expect_success 'setup: dovecot and a SOCKS5 proxy that knows the onion' '
	dovecot-lab start lab alice:secret &&
	proxy px --route $ONION=$(cat lab/port) \
	    --route pop.nonexistent.invalid=$(cat lab/port)
'

test_expect_success 'fetch over the proxy: the onion name sent as a name' '
	mkmsgs a 3 && dovecot-lab put lab alice a/* &&
	pft -o $ONION -T 127.0.0.1:$(cat px.port) -d md 2>err &&
	test_must_be_empty err &&
	sums a >want && sums md/new >got && test_cmp want got &&
	test "$(labcount)" = 0 &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=$ONION PORT=110" px.log &&
	test_grep -v "ATYP=[14]" px.log
'

test_expect_success 'the stream is isolated by a tag of the account, not its name' '
	grep -x "AUTH USER=pop-fetch-[0-9a-f]\{16\}" px.log >auth &&
	test_line_count = 1 auth &&
	test_grep -v alice px.log &&
	f=$HOME/.config/nymbox/pop/alice@$ONION:110.uidl && test -f "$f"
'

test_expect_success 'ONION:PORT, in capitals: lower-cased, the port sent' '
	up=$(echo $ONION | tr a-z A-Z) &&
	pft -o $up:995 -T 127.0.0.1:$(cat px.port) -d md &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=$ONION PORT=995" px.log &&
	test -f "$HOME/.config/nymbox/pop/alice@$ONION:995.uidl"
'

test_expect_success 'a name the proxy cannot reach: 75, its reason given' '
	test_expect_code 75 pft -a -o pop.example.org \
	    -T 127.0.0.1:$(cat px.port) -d md 2>err &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=pop.example.org PORT=110" px.log &&
	grep "^pop-fetch: unable to connect to pop.example.org:110 through the Tor proxy at 127.0.0.1:$(cat px.port): host unreachable\$" err
'

test_expect_success 'a proxy that wants no authentication still works' '
	proxy na --no-auth --route $ONION=$(cat lab/port) &&
	mkmsgs b 1 && dovecot-lab put lab alice b/* &&
	pft -o $ONION -T 127.0.0.1:$(cat na.port) -d md &&
	grep "GREETING VER=5 METHODS=00 02" na.log &&
	test_grep -v AUTH na.log &&
	sums a b >want && sums md/new >got && test_cmp want got
'

test_expect_success 'TOR_SOCKS, then tor-socks in the configuration, name the proxy' '
	mkmsgs c 2 && dovecot-lab put lab alice c/1 &&
	TOR_SOCKS=127.0.0.1:$(cat px.port) pft -o $ONION -d md &&
	dovecot-lab put lab alice c/2 &&
	echo "tor-socks = 127.0.0.1:$(cat px.port)" >conf &&
	NYMBOX_CONF=$PWD/conf pft -o $ONION -d md &&
	sums a b c >want && sums md/new >got && test_cmp want got &&
	test_expect_code 78 env TOR_SOCKS=nonsense pop-fetch -o $ONION \
	    -u alice -P pw -d md 2>err &&
	grep "unable to use the Tor proxy of TOR_SOCKS or tor-socks" err
'

test_expect_success 'the default proxy is 127.0.0.1:9050' '
	if python3 -c "import socket; socket.create_connection((\"127.0.0.1\", 9050), 1)" 2>/dev/null
	then
		echo "something listens on 9050: not checked"
	else
		test_expect_code 75 pft -o $ONION -d md 2>err &&
		grep "through the Tor proxy at 127.0.0.1:9050: Connection refused" err
	fi
'

test_expect_success STRACE 'no name is looked up locally: strace sees one TCP socket, to the proxy' '
	mkmsgs d 1 && dovecot-lab put lab alice d/* &&
	traced -f -o trace -e trace=%network,%file \
	    pop-fetch -w $(test_scaled 5) -u alice -P pw -o $ONION \
	    -T 127.0.0.1:$(cat px.port) -d md &&
	grep "socket(" trace >sockets && test_line_count = 1 sockets &&
	grep "SOCK_STREAM" sockets &&
	{ grep "connect(" trace | grep -v "htons($(cat px.port))" || :; } \
	    >others &&
	test_must_be_empty others &&
	test_grep -v -e SOCK_DGRAM -e "htons(53)" -e resolv.conf \
	    -e nsswitch -e /etc/hosts -e libnss_ -e /etc/host.conf trace &&
	sums a b c d >want && sums md/new >got && test_cmp want got
'

test_expect_success STRACE 'with -a, a name no resolver knows still works: Tor resolves it' '
	mkmsgs e 1 && dovecot-lab put lab alice e/* &&
	test_expect_code 64 pop-fetch -o pop.nonexistent.invalid \
	    -T 127.0.0.1:$(cat px.port) -u alice -P pw -d md 2>err &&
	grep "expected 56 base32 characters and .onion" err &&
	traced -f -o trace2 -e trace=%network,%file \
	    pop-fetch -w $(test_scaled 5) -a -o pop.nonexistent.invalid \
	    -T 127.0.0.1:$(cat px.port) -u alice -P pw -d md &&
	grep -x "CONNECT CMD=1 ATYP=3 NAME=pop.nonexistent.invalid PORT=110" px.log &&
	test_grep -v -e SOCK_DGRAM -e "htons(53)" -e resolv.conf \
	    -e nsswitch -e /etc/hosts trace2 &&
	sums a b c d e >want && sums md/new >got && test_cmp want got
'

test_expect_success 'malformed onion names: 64, and nothing reaches the proxy' '
	cp px.log before &&
	short=$(echo $ONION | cut -c2-) &&
	for bad in $short x$ONION ${ONION%d.onion}a.onion \
	    ${ONION%.onion}.onio abcdef.$ONION \
	    $(echo $ONION | sed s/p/1/) "$ONION." "$ONION:0" "$ONION:70000" \
	    "$ONION:x" ":110"
	do
		test_expect_code 64 pop-fetch -o "$bad" -T 127.0.0.1:$(cat px.port) \
		    -u alice -P pw -d md 2>err || return 1
		grep "^pop-fetch: unable to use onion address" err || return 1
	done &&
	test_expect_code 64 pop-fetch -a -o "a b.onion" \
	    -T 127.0.0.1:$(cat px.port) -u alice -P pw -d md 2>err &&
	grep "unable to use host name" err &&
	test_expect_code 64 pop-fetch -o $ONION -H 127.0.0.1:1 -u alice -P pw \
	    -d md &&
	test_expect_code 64 pop-fetch -o $ONION -T nonsense -u alice -P pw -d md &&
	test_cmp before px.log
'

# refusal CODE EXIT WORDS: a proxy that answers CODE; pop-fetch exits EXIT.
refusal() {
	proxy r$1 --reply $1 &&
	test_expect_code $2 pft -o $ONION -T 127.0.0.1:$(cat r$1.port) -d md \
	    2>err &&
	grep "^pop-fetch: unable to connect to $ONION:110 through the Tor proxy at 127.0.0.1:$(cat r$1.port): $3\$" err &&
	test_line_count = 1 err
}

test_expect_success 'the proxy refuses: reply 1, 4, 5, 6 are temporary (75)' '
	refusal 1 75 "general SOCKS server failure" &&
	refusal 4 75 "host unreachable" &&
	refusal 5 75 "connection refused" &&
	refusal 6 75 "TTL expired (Tor: no answer in time)" &&
	refusal 0xf0 75 "onion service descriptor can not be found"
'

test_expect_success 'the proxy refuses for good: 2 and 8 are 78, 0xf6 is 68' '
	refusal 2 78 "connection not allowed by ruleset" &&
	refusal 8 78 "address type not supported" &&
	refusal 0xf4 78 "onion service missing client authorization" &&
	refusal 0xf6 68 "onion service invalid address"
'

test_expect_success 'mail stays on the server when the proxy refuses' '
	mkmsgs f 2 && dovecot-lab put lab alice f/* &&
	test_expect_code 75 pft -o $ONION -T 127.0.0.1:$(cat r5.port) -d md &&
	test "$(labcount)" = 2 &&
	pft -o $ONION -T 127.0.0.1:$(cat px.port) -d md &&
	test "$(labcount)" = 0
'

test_expect_success 'a proxy that stalls after the request: 75 within -w' '
	proxy st --stall request &&
	start=$(date +%s) &&
	test_expect_code 75 test_timeout 20 pop-fetch -w 2 -u alice -P pw \
	    -o $ONION -T 127.0.0.1:$(cat st.port) -d md 2>err &&
	end=$(date +%s) && echo "$((end - start)) s" &&
	test $((end - start)) -le $(test_scaled 5) &&
	grep "through the Tor proxy at 127.0.0.1:$(cat st.port): Connection timed out" err &&
	grep "CONNECT CMD=1 ATYP=3 NAME=$ONION" st.log
'

test_expect_success 'a proxy that stalls at the greeting, or hangs up: 75' '
	proxy sg --stall greeting &&
	test_expect_code 75 test_timeout 20 pop-fetch -w 1 -u alice -P pw \
	    -o $ONION -T 127.0.0.1:$(cat sg.port) -d md 2>err &&
	grep "Connection timed out" err &&
	proxy hu --hangup &&
	test_expect_code 75 pft -o $ONION -T 127.0.0.1:$(cat hu.port) -d md \
	    2>err &&
	grep "Connection reset by peer" err
'

test_expect_success 'no method in common: 78; not a SOCKS5 proxy: 75' '
	proxy ao --no-method &&
	test_expect_code 78 pft -o $ONION -T 127.0.0.1:$(cat ao.port) -d md \
	    2>err &&
	grep "the proxy accepts none of our authentication methods" err &&
	test_expect_code 75 pft -o $ONION -T 127.0.0.1:$(cat lab/port) -d md \
	    2>err &&
	grep "through the Tor proxy at 127.0.0.1:$(cat lab/port): not a SOCKS5 proxy" err
'

test_expect_success TOR 'a real tor that cannot bootstrap: a malformed onion at once, 75' '
	tor-lab start tor 3 &&
	test_when_finished "tor-lab stop tor" &&
	test_expect_code 75 pft -o $ONION -T 127.0.0.1:$(cat tor/port) -d md \
	    2>err &&
	grep "general SOCKS server failure" err &&
	grep "invalid checksum" "$(cat tor/dir)/notice.log"
'

test_expect_success TOR 'a real tor: a valid onion fails after SocksTimeout with reply 6 (75)' '
	tor-lab start tor 3 &&
	test_when_finished "tor-lab stop tor" &&
	mkmsgs g 1 && dovecot-lab put lab alice g/* &&
	start=$(date +%s) &&
	test_expect_code 75 pft -w 20 -o $REAL -T 127.0.0.1:$(cat tor/port) \
	    -d md 2>err &&
	end=$(date +%s) && echo "$((end - start)) s" &&
	grep "unable to connect to $REAL:110 through the Tor proxy at 127.0.0.1:$(cat tor/port): TTL expired" err &&
	test "$(labcount)" = 1
'

test_expect_success TOR 'a real tor with ExtendedErrors: an invalid onion is 68' '
	tor-lab start tor 3 ExtendedErrors &&
	test_when_finished "tor-lab stop tor" &&
	test_expect_code 68 pft -o $ONION -T 127.0.0.1:$(cat tor/port) -d md \
	    2>err &&
	grep "onion service invalid address" err
'

if ! test_have_prereq TOR; then
	echo "# tor is not installed (apt-get install tor): the real-tor tests were skipped"
fi

test_expect_success 'teardown' '
	dovecot-lab stop lab &&
	for p in *.pid; do kill $(cat $p) || return 1; done
'

test_done
