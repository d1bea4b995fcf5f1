#!/bin/sh
# smtp-receive with STARTTLS (-C, -K), and the library's STARTTLS client
# (lib/smtptls.c, through t/helpers/tlsclient) against it: TLS only where
# a certificate is given, the clear-text bytes sent with STARTTLS dropped,
# the session started over inside TLS, a bad or slow handshake ending the
# connection in time, the key file's mode checked; the client's pin
# (SMTorP's user@pin.onion.onion) computed here independently with
# openssl(1), matched in full or by a 32-character prefix, a wrong one
# or a server without TLS refused with 77 and nothing sent.
cd "$(dirname "$0")" && . ./lib.sh

command -v openssl >/dev/null || test_skip_all "openssl(1) is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
TLSCLIENT=${NYM_HELPERS:-$H}/tlsclient
test -x "$TLSCLIENT" || test_skip_all "t/helpers/tlsclient is not built"

# pin CERT: the SHA-256 of its public key, base32, lower case.
pin() {
	openssl x509 -in "$1" -pubkey -noout |
	openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
	base32 | tr -d = | tr A-Z a-z
}
newfiles() { find md/new -type f | wc -l; }
# Each test below starts with an empty maildir.
clean() { rm -f md/new/*; }

test_expect_success 'setup: a certificate, users, a message' '
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null &&
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout other.key -out other.crt 2>/dev/null &&
	test "$(stat -c %a tls.key)" = 600 &&
	PIN=$(pin tls.crt) && OTHER=$(pin other.crt) &&
	test ${#PIN} = 52 && test "$PIN" != "$OTHER" &&
	echo bob >users && mkdir -p md &&
	SR="smtp-receive -l bob.i2p -u users -d md -v none -t 5" &&
	TLS="-C tls.crt -K tls.key" &&
	printf "From: alice@alice.i2p\nSubject: tls\n\n" >msg &&
	head -c 3000000 /dev/urandom | base64 >>msg
'

test_expect_success 'no certificate: no STARTTLS offered, and 502 to it' '
	smtp-tls -- $SR >out &&
	! grep "STARTTLS" out &&
	grep "^S: 502 5.5.1 Command not implemented" out &&
	! grep "^TLS " out
'

test_expect_success 'with -C and -K: offered, taken, the session starts over' '
	clean &&
	smtp-tls --rcpt bob@bob.i2p -- $SR $TLS <msg >out &&
	grep -x "S: 250-STARTTLS" out &&
	grep -x "S: 220 2.0.0 Ready to start TLS" out &&
	grep "^TLS TLSv1.[23] " out &&
	sed -n "/^TLS /,\$p" out >inside &&
	grep -x "S: 250-ESMTP" inside && ! grep STARTTLS inside &&
	grep -x "S: 250 2.0.0 Ok" inside && grep -x "exit 0" out &&
	test "$(newfiles)" = 1 && cmp msg md/new/* && rm md/new/*
'

test_expect_success 'clear-text commands sent with STARTTLS are dropped' '
	smtp-tls --inject "MAIL FROM:<mallory@evil.i2p>" --rcpt bob@bob.i2p \
	    -- $SR $TLS </dev/null >out &&
	! grep "^bytes after 220" out &&
	sed -n "/^TLS /,\$p" out | sed -n 2p >first &&
	grep -x "S: 503 5.5.1 Send MAIL first" first
'

test_expect_success 'STARTTLS inside TLS: 503; with an argument: 501' '
	smtp-tls --twice -- $SR $TLS >out &&
	grep -x "S: 503 5.5.1 TLS already started" out &&
	printf "EHLO x\r\nSTARTTLS now\r\nQUIT\r\n" | $SR $TLS >out &&
	grep "^501 5.5.4 Syntax: STARTTLS" out
'

test_expect_success 'no TLS handshake after 220: the connection ends, 75, a log line' '
	smtp-tls --garbage -- $SR $TLS >out 2>err &&
	grep -x "exit 75" out &&
	grep "^smtp-receive: unable to start TLS: " err
'

test_expect_success 'a handshake that never comes ends within -t' '
	smtp-tls --stall --timeout 30 -- $SR $TLS -t 2 >out 2>err &&
	grep -x "hung up" out && grep -x "exit 75" out &&
	grep "unable to start TLS: no handshake within 2 s" err
'

test_expect_success 'the key: mode 0600 or refused (78); both files or neither (64)' '
	cp tls.key open.key && chmod 644 open.key &&
	test_expect_code 78 $SR -C tls.crt -K open.key </dev/null 2>err &&
	grep "unable to read the TLS key open.key: not a file of ours that only we may read" err &&
	test_expect_code 64 $SR -C tls.crt </dev/null 2>err &&
	grep "give both the certificate and its key" err &&
	test_expect_code 78 $SR -C other.crt -K tls.key </dev/null 2>err &&
	grep "unable to use the TLS key with the certificate" err
'

test_expect_success 'the configuration: smtp-tls-cert and smtp-tls-key' '
	printf "smtp-tls-cert = %s/tls.crt\nsmtp-tls-key = %s/tls.key\n" \
	    "$PWD" "$PWD" >conf &&
	NYMBOX_CONF=$PWD/conf smtp-tls -- $SR >out &&
	grep -x "S: 250-STARTTLS" out && grep "^TLS " out
'

test_expect_success 'client: the pin in full, then its first 32 characters' '
	clean &&
	"$TLSCLIENT" -p "$PIN" alice@alice.i2p bob@bob.i2p -- $SR $TLS \
	    <msg >out &&
	grep "^tls TLSv1.[23] " out && grep "^rcpt 0" out &&
	short=$(printf %.32s "$PIN") &&
	"$TLSCLIENT" -p "$(echo $short | tr a-z A-Z)" alice@alice.i2p \
	    bob@bob.i2p -- $SR $TLS <msg >out &&
	grep "^rcpt 0" out &&
	test "$(newfiles)" = 2 && for f in md/new/*; do cmp msg $f || return 1; done &&
	rm md/new/*
'

test_expect_success 'client: a wrong pin is 77, named, and nothing is sent' '
	clean &&
	test_expect_code 77 "$TLSCLIENT" -p "$OTHER" alice@alice.i2p \
	    bob@bob.i2p -- $SR $TLS <msg >out &&
	grep "^why the server.s certificate does not match the address.s pin: expected $OTHER, the server has $PIN\$" out &&
	test_expect_code 77 "$TLSCLIENT" -p "$(printf %.31s "$PIN")" \
	    alice@alice.i2p bob@bob.i2p -- $SR $TLS <msg >out &&
	grep "expected 32 to 52 base32 characters" out &&
	test "$(newfiles)" = 0
'

test_expect_success 'client: a pin and a server without TLS: 77, nothing sent' '
	clean &&
	test_expect_code 77 "$TLSCLIENT" -p "$PIN" alice@alice.i2p \
	    bob@bob.i2p -- $SR <msg >out &&
	grep "^why .*502" out && test "$(newfiles)" = 0
'

test_expect_success 'client: opportunistic, TLS when offered, clear text when not' '
	clean &&
	"$TLSCLIENT" alice@alice.i2p bob@bob.i2p -- $SR $TLS <msg >out &&
	grep "^tls " out &&
	"$TLSCLIENT" alice@alice.i2p bob@bob.i2p -- $SR <msg >out &&
	grep -x plain out && test "$(newfiles)" = 2
'

test_done
