#!/bin/sh
# mbox-encrypt's password limit (NYM_PASS_MAX, lib/limits.h: 1024 bytes),
# from a file (-P) and from a descriptor (-F), with and without a line
# end: at the limit it is taken, one byte past it refused with 78.
cd "$(dirname "$0")" && . ./lib.sh

# pad N: N bytes of p
pad() { head -c "$1" /dev/zero | tr '\0' p; }

test_expect_success 'a password of 1024 bytes with a line end, from -P' '
	{ pad 1024 && echo; } >pw && chmod 600 pw &&
	mbox-encrypt -g -P pw -K k1 -k k1.pub &&
	test -s k1
'

test_expect_success 'the same from -F, and without a line end' '
	mbox-encrypt -g -F 3 -K k2 -k k2.pub 3<pw &&
	pad 1024 >pw2 && chmod 600 pw2 &&
	mbox-encrypt -g -F 3 -K k3 -k k3.pub 3<pw2 &&
	test -s k2 && test -s k3
'

test_expect_success 'one of 1025 bytes is refused, 78, from -P and -F' '
	{ pad 1025 && echo; } >long && chmod 600 long &&
	test_expect_code 78 mbox-encrypt -g -P long -K k4 -k k4.pub 2>err &&
	grep "longer than 1024 bytes" err &&
	test_expect_code 78 mbox-encrypt -g -F 3 -K k5 -k k5.pub 3<long 2>err &&
	grep "longer than 1024 bytes" err &&
	test_path_is_missing k4 && test_path_is_missing k5
'

test_done
