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
