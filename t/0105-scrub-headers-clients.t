#!/bin/sh
# scrub-headers on messages written by real mail clients (t/data/clients,
# see its README): every identifying token listed in NAME.leak is gone
# from every header section, every token in NAME.keep is still there, the
# message still parses to the same text and attachments, and -c agrees.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all 'python3 is needed to parse MIME'
D=$TDATA/clients

for eml in "$D"/*.eml; do
	name=$(basename "$eml" .eml)
	test_expect_success "$name: scrubbed, still parses the same" '
		scrub-headers <"$eml" >$name.out &&
		mimesum "$eml" >$name.want &&
		mimesum $name.out >$name.got &&
		test_cmp $name.want $name.got
	'
	test -f "$D/$name.leak" &&
	test_expect_success "$name: no identifying token left in any header" '
		mimeheaders $name.out >$name.hdr &&
		while IFS= read -r tok; do
			test -z "$tok" && continue
			if grep -F -q -- "$tok" $name.hdr; then
				echo "leaked: $tok"; grep -F -- "$tok" $name.hdr
				return 1
			fi
		done <"$D/$name.leak"
	'
	test -f "$D/$name.keep" &&
	test_expect_success "$name: what must stay is still there" '
		while IFS= read -r tok; do
			test -z "$tok" && continue
			grep -F -q -- "$tok" $name.out ||
			{ echo "lost: $tok"; return 1; }
		done <"$D/$name.keep"
	'
	test_expect_success "$name: -c finds leaks before, none after" '
		{ scrub-headers -c <"$eml" >/dev/null; test $? = 1; } &&
		scrub-headers -c <$name.out
	'
done

test_done
