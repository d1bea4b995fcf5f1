#!/bin/sh
# Every program in the Makefile's TOOLS and SCRIPTS lists has its man
# page, its completions, its tests and its place in nymbox(7) and README;
# every option in its usage line is in the man page and the completions.
cd "$(dirname "$0")" && . ./lib.sh

tools=$(sed -n 's/^\(TOOLS\|SCRIPTS\) +\{0,1\}= //p' "$TOP/Makefile" | tr '\n' ' ')

test_expect_success 'the Makefile lists programs' '
	test -n "$tools"
'

for t in $tools; do
	test_expect_success "$t has a man page, in nymbox(7) and README" '
		test -f "$TOP/man/$t.1" &&
		grep -q "^\.Nm $t\$" "$TOP/man/$t.1" &&
		grep -q "^\.Xr $t 1" "$TOP/man/nymbox.7" &&
		grep -q "$t" "$TOP/README"
	'
	test_expect_success "$t has bash and zsh completions" '
		grep -q "complete .* $t\\( \\|\$\\)" "$TOP/completions/bash/nymbox" &&
		sed -n 1p "$TOP/completions/zsh/_nymbox" | grep -q " $t\\( \\|\$\\)"
	'
	test_expect_success "$t has tests" '
		ls "$TOP"/t/[0-9][0-9][0-9][0-9]-"$t"*.t >/dev/null
	'
	test_expect_success "every option of $t is documented and completed" '
		test_expect_code 64 "$TOP/bin/$t" -\? 2>usage &&
		grep -q "^usage: $t" usage &&
		for o in $(grep -o -- "[[ ]-[a-zA-Z]*" usage | cut -c3- | fold -w1); do
			grep -q "^\.It Fl $o\( \|\$\)" "$TOP/man/$t.1" ||
			{ echo "-$o missing from man/$t.1"; return 1; }
			grep -q -- "-$o\b" "$TOP/completions/bash/nymbox" ||
			{ echo "-$o missing from bash completion"; return 1; }
			grep -q -- "-$o\[" "$TOP/completions/zsh/_nymbox" ||
			{ echo "-$o missing from zsh completion"; return 1; }
		done
	'
done

# In a git checkout the tracked files; in a copy of the tree (a
# tarball) what is there, less what the build makes (the top-level names
# .gitignore lists, such as /asan/).
test_expect_success 'top level is exactly the agreed layout' '
	printf "%s\n" .ci .gitignore LICENSE Makefile README bin completions contrib lib man t >want &&
	if test "$(git -C "$TOP" rev-parse --show-toplevel 2>/dev/null)" = "$TOP"; then
		git -C "$TOP" ls-files >files &&
		cut -d/ -f1 files | sort -u >top
	else
		sed -n "s|^/\([^/*?!]*\)/\{0,1\}\$|\1|p" "$TOP/.gitignore" | sort >built &&
		ls -A "$TOP" | sort | comm -23 - built >top
	fi &&
	test_cmp want top
'

test_done
