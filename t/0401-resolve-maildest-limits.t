#!/bin/sh
# The limit resolve-maildest puts on an eepsite's .well-known/i2pmail.key
# answer (NYM_HTTP_MAX, lib/limits.h: 16384 bytes, headers included), at
# the limit (used) and one byte past it (not used: the site is taken as
# publishing none, and the address book answers); and an answer that
# is slow but whole within -w.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
B32=abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.b32.i2p
export NYMBOX_NOW=1800000000

test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

# answer N: bytes of the whole HTTP answer for a file of N bytes.
answer() {
	python3 - "$(cat ed.i2p.port)" <<-\EOF
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"GET /.well-known/i2pmail.key HTTP/1.1\r\nHost: ed.i2p\r\n"
	          b"Connection: close\r\n\r\n")
	n = 0
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    n += len(b)
	print(n)
	EOF
}

# key N: the key file, "B32 2525" and spaces, N bytes.
key() {
	{ printf "%s 2525" "$B32" && head -c $(($1 - ${#B32} - 5)) /dev/zero |
	  tr "\0" " "; } >www/.well-known/i2pmail.key &&
	test "$(wc -c <www/.well-known/i2pmail.key)" = "$1"
}

rmd() {
	test_timeout 20 resolve-maildest -n -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 5) "$@"
}

test_expect_success 'setup: an eepsite and the bridge' '
	mkdir -p www/.well-known &&
	{ "$H/httpd" --port-file ed.i2p.port --dir www \
	    --max-seconds $(test_scaled 120) &
	  echo $! >ed.i2p.pid; } &&
	test_wait_for ed.i2p.port &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid \
	    --log sam.log --max-seconds $(test_scaled 120) \
	    --route ed.i2p="$(cat ed.i2p.port)" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	key 16000 && hdr=$(($(answer) - 16000)) &&
	test "$hdr" -gt 100 && echo "$hdr" >hdr
'

test_expect_success 'an answer of 16384 bytes, headers included, is used' '
	key $((16384 - $(cat hdr))) && test "$(answer)" = 16384 &&
	rmd x@ed.i2p >out 2>err &&
	grep "^x@ed.i2p i2p $B32 2525 well-known " out
'

test_expect_success 'one of 16385 bytes is not: the address book answers' '
	key $((16385 - $(cat hdr))) && test "$(answer)" = 16385 &&
	rmd x@ed.i2p >out &&
	grep "^x@ed.i2p i2p [A-Za-z0-9~=-]\{516,\} 25 addressbook " out
'

# The HTTP exchange, whole, within -w (past it: t/0400).  An answer that
# comes in 10 pieces 0.75 s apart is whole after 6.75 s: taken under
# -w 10, with 3 s to spare (-w / 2 would cut it).
test_expect_success 'an answer that comes slowly but whole within -w is used' '
	mkdir -p www-slow/.well-known &&
	echo "$B32 2526" >www-slow/.well-known/i2pmail.key &&
	{ "$H/httpd" --port-file slow.i2p.port --dir www-slow --slow 0.75 \
	    --max-seconds $(test_scaled 120) &
	  echo $! >slow.i2p.pid; } &&
	test_wait_for slow.i2p.port &&
	kill "$(cat sam.pid)" && rm -f sam.port sam.pid &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid \
	    --log sam.log --max-seconds $(test_scaled 120) \
	    --route slow.i2p="$(cat slow.i2p.port)" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	start=$(date +%s) &&
	test_timeout 60 resolve-maildest -n -S 127.0.0.1:"$(cat sam.port)" \
	    -w $(test_scaled 10) x@slow.i2p >out 2>err &&
	test $(($(date +%s) - start)) -ge 6 &&
	grep "^x@slow.i2p i2p $B32 2526 well-known " out
'

test_done
