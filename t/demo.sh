#!/bin/sh
# demo.sh - `make demo`: scrub-headers on sample messages, the headers
# before and after, and what -c reports.  Runs with a temporary HOME so
# it creates no key in yours.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
data=$top/t/data/scrub
HOME=$(mktemp -d)
export HOME
trap 'rm -rf "$HOME"' EXIT INT TERM

hdr() { sed '/^\r\{0,1\}$/q' "$@"; }
rule() { printf '\n==== %s ====\n' "$*"; }

rule "a message as mutt wrote it, with the provider's Received line"
hdr "$data/plain.eml"
rule "scrub-headers -c: what it would leak (exit 1 = leaks found)"
"$bin/scrub-headers" -c <"$data/plain.eml" || true
rule "scrub-headers: the header after scrubbing (the body is unchanged)"
"$bin/scrub-headers" <"$data/plain.eml" | hdr
rule "a reply: its own earlier Message-ID maps to the same new ID"
"$bin/scrub-headers" <"$data/reply.eml" | hdr
rule "a MIME message: part headers before"
grep -i '^content-\|^ \|^--\|^x-' "$data/mime.eml" | head -30
rule "scrub-headers -c on it"
"$bin/scrub-headers" -c <"$data/mime.eml" || true
rule "part headers after: base names only, no dates, neutral boundaries"
"$bin/scrub-headers" <"$data/mime.eml" | grep -i '^content-\|^ \|^--'
rule "scrubbing the result again finds nothing (exit 0)"
"$bin/scrub-headers" <"$data/mime.eml" | "$bin/scrub-headers" -c &&
	echo "no leaks"

# Eep2eep over a real router, when i2pd is installed (make demo installs
# it as root; about a minute, most of it i2pd creating sessions).
if ! command -v i2pd >/dev/null 2>&1; then
	rule "eep2eep over I2P: skipped, i2pd is not installed"
	exit 0
fi
rule "eep2eep: Alice mails Bob over a real i2pd router (about a minute)"
PATH=$bin:$PATH
export PATH
run=$HOME/eep2eep
"$top/t/helpers/eep2eep" "$run" >/dev/null 2>&1 || {
	echo "the I2P part did not run (is this machine's i2pd 2.45.1?)"; exit 1; }
echo "Bob's mail destination (published at bob.i2p/.well-known/i2pmail.key):"
echo "  $(cat "$run/bob.b32")"
echo "Alice: sam-deliver -f alice@alice.i2p bob@bob.i2p < message: exit $(cat "$run/alice.rc")"
echo "Mallory, with her own key, as alice@alice.i2p: exit $(cat "$run/mallory.rc")"
sed 's/^/  /' "$run/mallory.err"
echo "Bob's side:"
sed 's/^/  /' "$run/bob.err"
rule "the message in Bob's maildir (the Bcc is gone)"
cat "$run"/bob/Maildir/new/*
