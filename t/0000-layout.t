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

# One place per constant (issue 12): a limit or buffer size (a name with
# MAX, MIN, BUF, LIMIT or ending in _MS) is defined in lib/limits.h only.
test_expect_success 'limits are defined in lib/limits.h only' '
	(cd "$TOP" && grep -nE "^[[:space:]]*#[[:space:]]*define[[:space:]]+[A-Z0-9_]*(MAX|MIN|BUF|LIMIT|_MS\>)" \
		bin/*.c lib/*.c lib/*.h) >defs || test $? = 1 &&
	grep -v "^lib/limits\.h:" defs >stray || test $? = 1 &&
	test_must_be_empty stray
'

# The library by layer (README, "Layout"): lib/limits.h, then base.h,
# msg.h, seal.h, proto.h, i2p.h, store.h, dsn.h; a layer's header
# includes only layers before it, and a file includes a layer only if it
# uses a name the layer declares.
layers="limits base msg seal pow proto tls tor i2p store dsn scrub"
test_expect_success 'a layer includes only the layers below it' '
	for h in $layers; do
		test -f "$TOP/lib/$h.h" || { echo "no lib/$h.h"; return 1; }
		below=${layers%%"$h"*}
		for inc in $(sed -n "s/^#include \"\(.*\)\.h\"\$/\1/p" "$TOP/lib/$h.h"); do
			case " $below " in
			*" $inc "*) ;;
			*) echo "lib/$h.h includes $inc.h, not below it"; return 1 ;;
			esac
		done
	done &&
	! ls "$TOP"/lib/nymbox.h 2>/dev/null
'

test_expect_success 'every file includes only the layers it uses' '
	for f in "$TOP"/bin/*.c "$TOP"/lib/*.c; do
		for h in $(sed -n "s/^#include \"\(.*\)\.h\"\$/\1/p" "$f"); do
			test -f "$TOP/lib/$h.h" || continue
			sed "s|/\*.*\*/||" "$TOP/lib/$h.h" |
			grep -v "^[[:space:]]*\*\|^/\*\|^#include" |
			grep -oE "\<(nym|NYM)_[A-Za-z0-9_]+" | sort -u >ids
			grep -qwFf ids "$f" ||
			{ echo "${f#$TOP/} includes $h.h and uses nothing of it"; return 1; }
		done
	done
'

# The programs that take bytes from the network (and the queue behind
# them) name their limits in a LIMITS section that says where they are
# defined.
for t in smtp-receive pop-serve sam-deliver onion-deliver sam-accept resolve-maildest \
    smtp-submit queue-run nymbox-sendmail pop-fetch; do
	test_expect_success "$t(1) has LIMITS, pointing at lib/limits.h" '
		sed -n "/^\.Sh LIMITS\$/,/^\.Sh /p" "$TOP/man/$t.1" >lim &&
		grep -q "^\.Pa lib/limits.h\$" lim
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
