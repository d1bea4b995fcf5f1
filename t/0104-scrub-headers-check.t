#!/bin/sh
# scrub-headers -c (report leaks, change nothing, grep-style exit) and -i
# (the interactive header tester).
cd "$(dirname "$0")" && . ./lib.sh

D=$TDATA/scrub

test_expect_success '-c lists every leak with its reason and exits 1' '
	{ scrub-headers -c <$D/plain.eml >report; test $? = 1; } &&
	grep -x "Return-Path: envelope sender set by the sending machine" report &&
	grep -x "Received: hosts, addresses and times the message passed" report &&
	grep -x "Date: time zone offset +0100" report &&
	grep -x "Message-ID: made by the client (host, time or software pattern)" report &&
	grep -x "User-Agent: mail client and version" report &&
	grep -x "X-Mailer: mail client and version" report &&
	grep -x "Organization: organisation of the sender" report &&
	grep -x "Content-Language: locale of the sender" report &&
	grep -x "Sender: account or host that handed the message on" report &&
	grep -x "header: field order of the client (written in the canonical order)" report &&
	grep -x "Content-Disposition: inline on a single-part text message (what a reader does anyway; dropped)" report &&
	grep -x "body: the client'"'"'s encoding of the text (written quoted-printable)" report &&
	test $(wc -l <report) = 12
'

test_expect_success '-c writes nothing but the report and creates no key' '
	test ! -e "$HOME/.config/nymbox/scrub.key"
'

test_expect_success '-c on a scrubbed message finds nothing and exits 0' '
	scrub-headers <$D/plain.eml >clean &&
	{ scrub-headers -c <clean >report2; test $? = 0; } &&
	test_must_be_empty report2
'

test_expect_success '-c reports MIME part leaks with the part number' '
	{ scrub-headers -c <$D/mime.eml >mreport; test $? = 1; } &&
	grep -x "part 2: Content-Type: name holds a directory path" mreport &&
	grep -x "part 2: Content-Disposition: parameter creation-date (file time stamps)" mreport &&
	grep -x "part 2: X-Attachment-Id: non-standard field (client or provider details)" mreport &&
	grep -x "part 3: Content-Disposition: filename holds a directory path" mreport &&
	grep -x "Content-Type: boundary made by the client" mreport &&
	grep -x "multipart: preamble or epilogue text (dropped)" mreport
'

test_expect_success '-c honours -k and -d' '
	{ scrub-headers -c -k "*" -d Subject <$D/plain.eml >kreport; test $? = 1; } &&
	grep -x "Subject: not on the list of fields to keep" kreport &&
	! grep "^Received" kreport
'

test_expect_success '-c errors are exit 2, like grep' '
	test_expect_code 2 scrub-headers -c </dev/null 2>err &&
	grep "no message on input" err
'

test_expect_success '-i checks pasted headers and shows the scrubbed result' '
	printf "From: a@example.org\nX-Mailer: Foo 1.0\nDate: Mon, 1 Jan 2024 10:00:00 +0200\n\nSubject: ok\n\n" |
	    scrub-headers -i >session &&
	grep -x "X-Mailer: mail client and version" session &&
	grep -x "Date: time zone offset +0200" session &&
	grep -x "Date: Mon, 1 Jan 2024 08:00:00 +0000" session &&
	grep -x "Subject: ok" session &&
	! grep "^Subject: .*fields to keep" session &&
	test $(grep -c "^-- scrubbed --" session) = 2
'

test_done
