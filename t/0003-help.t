#!/bin/sh
# Every program in the Makefile's TOOLS and SCRIPTS lists answers --help
# (its usage on standard output, nothing on standard error, exit 0) and
# --version ("NAME nymbox VERSION", the same version for all, exit 0),
# and says so in its man page and completions; a bad option is still a
# usage error (64) on standard error.  A program added to the lists is
# checked without touching this file.
cd "$(dirname "$0")" && . ./lib.sh

tools=$(sed -n 's/^\(TOOLS\|SCRIPTS\) +\{0,1\}= //p' "$TOP/Makefile" | tr '\n' ' ')
version=$(sed -n 's/^#define NYM_VERSION[	 ]*"\(.*\)"$/\1/p' "$TOP/lib/base.h")

test_expect_success 'the Makefile lists programs; lib/base.h has the version' '
	test -n "$tools" && test -n "$version"
'

for t in $tools; do
	test_expect_success "$t --help: usage on stdout, exit 0" '
		"$t" --help >out 2>err &&
		test_must_be_empty err &&
		grep -q "^usage: $t" out &&
		grep -q "See $t(1)" out
	'
	test_expect_success "$t --version: one line, exit 0" '
		"$t" --version >out 2>err &&
		test_must_be_empty err &&
		echo "$t nymbox $version" >want &&
		test_cmp want out
	'
	test_expect_success "$t: a bad option is still 64, on stderr" '
		test_expect_code 64 "$t" --no-such-option >out 2>err &&
		test_must_be_empty out &&
		grep -q "^usage: $t" err
	'
	test_expect_success "$t: --help and --version in its man page and completions" '
		grep -q "^\.It Fl -help\$" "$TOP/man/$t.1" &&
		grep -q "^\.It Fl -version\$" "$TOP/man/$t.1" &&
		f=_nymbox_$(echo "$t" | tr - _) &&
		sed -n "/^$f()/,/^complete -F $f $t\$/p" \
		    "$TOP/completions/bash/nymbox" >bash &&
		grep -q -- "--help --version" bash &&
		sed -n "/^$t)/,/;;/p" "$TOP/completions/zsh/_nymbox" >zsh &&
		grep -q -- "--help\[" zsh && grep -q -- "--version\[" zsh
	'
done

test_expect_success 'batch-delay takes its version from queue-run' '
	write_script queue-run <<-\EOF &&
	echo "queue-run nymbox 9.9"
	EOF
	PATH=$PWD:$PATH batch-delay --version >out &&
	echo "batch-delay nymbox 9.9" >want &&
	test_cmp want out
'

test_done
