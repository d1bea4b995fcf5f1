#!/bin/sh
# scrub-headers on MIME: part headers, file names, boundaries, preambles,
# Content-IDs and the cid: references that must follow them.
cd "$(dirname "$0")" && . ./lib.sh

D=$TDATA/scrub
command -v python3 >/dev/null && test_set_prereq PYTHON

test_expect_success 'scrub a multipart message with attachments' '
	scrub-headers <$D/mime.eml >out
'

test_expect_success 'file names lose their directories, in every encoding' '
	! grep -i "home\|alice/\|Users\|Dokumente\|%2F" out &&
	grep "filename=\"Secret Plan.pdf\"" out &&
	grep -i "filename\*=UTF-8'"''"'%C3%9Cberweisung%20M%C3%A4rz.txt" out &&
	grep "filename=memo.txt" out
'

test_expect_success 'file dates and client parameters are removed, others kept' '
	! grep -i "creation-date\|modification-date\|x-unix-mode\|x-mac" out &&
	grep "size=12" out
'

test_expect_success 'non-content part fields are dropped' '
	test_grep -i "^X-Attachment-Id:" $D/mime.eml &&
	test_grep -i "^Content-Language:" $D/mime.eml &&
	test_grep -x "Content-Type: text/plain; charset=us-ascii" out &&
	test_grep -x "Content-Type: application/pdf" out &&
	test_grep -v -i "X-Attachment-Id\|Content-Language" out
'

test_expect_success 'boundaries are replaced, preamble and epilogue dropped' '
	! grep "A1b2C3d4" out &&
	! grep "multi-part message" out &&
	! grep "epilogue from the client" out &&
	b=$(sed -n "s/.*boundary=\"\(=_[a-z2-7]*\)\".*/\1/p" out) &&
	test -n "$b" &&
	test $(grep -c -x -- "--$b" out) = 4 &&
	test $(grep -c -x -- "--$b--" out) = 1
'

test_expect_success PYTHON 'the message parses to the same text and attachments' '
	mimesum $D/mime.eml >want &&
	mimesum out >got &&
	test_cmp want got
'

test_expect_success 'part bodies are copied byte for byte' '
	grep -x "SGVsbG8gUERGIQo=" out && grep -x "memo =C3=BC" out
'

test_expect_success 'Content-IDs and cid: references are renamed together' '
	scrub-headers <$D/related.eml >rel &&
	! grep "alice-laptop\|part1\.\|rel0123\|alt0123" rel &&
	cid=$(sed -n "s/^Content-ID: <\(.*\)>\$/\1/p" rel | head -1) &&
	echo "$cid" | grep -q "^[a-z2-7]\{26\}@alice\.i2p\$" &&
	cid2=$(sed -n "s/^Content-ID: <\(.*\)>\$/\1/p" rel | sed -n 2p) &&
	test "$cid" != "$cid2"
'

test_expect_success PYTHON 'cid: references point at the renamed parts (QP and base64)' '
	python3 - rel <<-\EOP
	import email, re, sys
	m = email.message_from_bytes(open(sys.argv[1], "rb").read())
	ids = set()
	refs = []
	for p in m.walk():
	    if p["Content-ID"]:
	        ids.add(p["Content-ID"].strip("<>"))
	    if p.get_content_type() == "text/html":
	        refs += re.findall(rb"cid:([^\"<> ]+)", p.get_payload(decode=True))
	refs = set(r.decode() for r in refs)
	assert len(refs) == 2 and refs == ids, (refs, ids)
	EOP
'

test_expect_success PYTHON 'the related message parses to the same content' '
	mimesum $D/related.eml >want &&
	mimesum rel >got &&
	test_cmp want got
'

test_expect_success 'an HTML part without cid: is copied byte for byte' '
	cat >h.eml <<-\EOM &&
	From: a@example.org
	Content-Type: multipart/alternative; boundary=xyz

	--xyz
	Content-Type: text/html; charset=utf-8
	Content-Transfer-Encoding: quoted-printable

	<p>caf=C3=A9 and a very long line that goes on and on and on and on and o=
	n</p>
	--xyz--
	EOM
	scrub-headers <h.eml >h.out &&
	grep -x "<p>caf=C3=A9 and a very long line that goes on and on and on and on and o=" h.out &&
	grep -x "n</p>" h.out
'

test_expect_success 'multipart/signed content is left intact' '
	cat >s.eml <<-\EOM &&
	From: a@example.org
	Content-Type: multipart/signed; micalg=pgp-sha256;
	 protocol="application/pgp-signature"; boundary="sig123"

	--sig123
	Content-Type: text/plain; charset=us-ascii
	Content-Disposition: attachment; filename="/home/a/x.txt"
	X-Signed-Field: yes

	signed text
	--sig123
	Content-Type: application/pgp-signature; name="signature.asc"

	-----BEGIN PGP SIGNATURE-----
	-----END PGP SIGNATURE-----
	--sig123--
	EOM
	scrub-headers <s.eml >s.out &&
	grep -x "X-Signed-Field: yes" s.out &&
	grep -x "Content-Disposition: attachment; filename=\"/home/a/x.txt\"" s.out &&
	! grep "sig123" s.out &&
	grep "protocol=\"application/pgp-signature\"" s.out &&
	grep "micalg=pgp-sha256" s.out
'

test_expect_success 'a single-part attachment has its top-level name scrubbed' '
	cat >one.eml <<-\EOM &&
	From: a@example.org
	Content-Type: application/octet-stream; name="C:\\Users\\bob\\x.bin"
	Content-Disposition: attachment; filename="C:\\Users\\bob\\x.bin"
	Content-Description: /home/bob/x.bin
	Content-Transfer-Encoding: base64

	AAAA
	EOM
	scrub-headers <one.eml >one.out &&
	! grep -i "users\|bob" one.out &&
	grep -x "Content-Description: x.bin" one.out &&
	grep "filename=x.bin" one.out
'

test_expect_success 'a missing closing delimiter after a last line without LF: content kept, -c clean' '
	printf "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nlast line without newline" >noclose.eml &&
	scrub-headers <noclose.eml >out 2>err &&
	grep "^last line without newline\$" out &&
	grep "^--.*--\$" out &&
	mimesum noclose.eml >want && mimesum out >got && test_cmp want got &&
	scrub-headers -c <out
'

test_done
