#!/bin/sh
# make install and uninstall honour PREFIX and DESTDIR and put every
# program, page and completion where packagers expect them.
cd "$(dirname "$0")" && . ./lib.sh

tools=$(sed -n 's/^\(TOOLS\|SCRIPTS\) +\{0,1\}= //p' "$TOP/Makefile" | tr '\n' ' ')

test_expect_success 'make install into DESTDIR' '
	make -s -C "$TOP" install DESTDIR="$TRASH/root" PREFIX=/usr >log 2>&1 ||
	{ cat log; false; }
'

for t in $tools; do
	test_expect_success "$t is installed with its page and completions" '
		test -x root/usr/bin/$t &&
		test -f root/usr/share/man/man1/$t.1 &&
		test -f root/usr/share/bash-completion/completions/$t
	'
done

test_expect_success 'the overview page and zsh completion are installed' '
	test -f root/usr/share/man/man7/nymbox.7 &&
	test -f root/usr/share/zsh/site-functions/_nymbox
'

test_expect_success 'the configuration page and the set-up page are installed' '
	test -f root/usr/share/man/man5/nymbox.conf.5 &&
	test -f root/usr/share/man/man7/nymbox-setup.7
'

test_expect_success 'make uninstall removes them all' '
	make -s -C "$TOP" uninstall DESTDIR="$TRASH/root" PREFIX=/usr &&
	test -z "$(find root -type f)"
'

test_done
