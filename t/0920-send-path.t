#!/bin/sh
# The whole sending path as a mutt user meets it: nymbox-sendmail runs
# scrub-headers and delay-queue with the mode of the sender's identity;
# queue-run (from cron, the time injected with NYMBOX_NOW) hands what is
# due to smtp-submit, which logs in to a real Postfix with SMTP AUTH, as
# smtp.postman.i2p wants.  Nothing leaves before it is due, Date is the
# time of sending in UTC, and what identifies the machine is gone.
cd "$(dirname "$0")" && . ./lib.sh

for p in nymbox-sendmail delay-queue queue-run smtp-submit scrub-headers; do
	command -v $p >/dev/null || test_skip_all "$p is not built"
done
if test "$(id -u)" = 0 && test -x /usr/sbin/postfix &&
    test -x /usr/sbin/dovecot; then
	test_set_prereq POSTFIX
fi

printf 'secret\n' >alice.pw && chmod 600 alice.pw
printf 'other\n' >bob.pw && chmod 600 bob.pw

# 2023-11-14T22:13:20Z: the next batch time is 2023-11-15T00:00:00Z.
T0=1700000000
BATCH=1700006400

. "$TOP/t/helpers/postfix-inbox.sh"

# grab PATTERN: the delivered message holding PATTERN, into "got".
grab() {
	for f in $(inbox); do
		m="$(cat lab/dir)/mail/inbox/new/$f"
		grep -q "$1" "$m" && cp "$m" got && return 0
	done
	return 1
}

# Stop the servers whatever happens to the script.
test_atexit 'postfix-lab stop "$TRASH/lab" >/dev/null 2>&1'

test_expect_success POSTFIX 'setup: Postfix with SASL AUTH; two identities' '
	postfix-lab start lab 200000 alice@lab.test:secret bob@lab.test:other &&
	port=$(cat lab/port) &&
	cat >config <<-EOC &&
	chain = scrub-headers
	mode = defer
	queue = $TRASH/queue
	[alice@lab.test]
	mode = defer
	delivery = smtp-submit -H 127.0.0.1:$port -w $(test_scaled 10) -P $TRASH/alice.pw
	[bob@lab.test]
	mode = batch
	delivery = smtp-submit -H 127.0.0.1:$port -w $(test_scaled 10) -P $TRASH/bob.pw
	EOC
	NYMBOX_CONF=$TRASH/config &&
	export NYMBOX_CONF
'

test_expect_success POSTFIX 'mutt hands over two messages; both are queued' '
	cat >alice.msg <<-\EOM &&
	From: Alice <alice@lab.test>
	To: Carol <carol@ext.test>
	Bcc: dave@ext.test
	Subject: from alice
	Date: Tue, 14 Nov 2023 23:13:20 +0100
	Message-ID: <20231114221320.GA1234@laptop.home.example>
	User-Agent: Mutt/2.2.12 (2023-09-09)

	.a line with a dot
	EOM
	sed "s/alice/bob/g; s/Alice/Bob/" alice.msg >bob.msg &&
	NYMBOX_NOW=$T0 nymbox-sendmail -oem -oi -f alice@lab.test -- \
	    carol@ext.test dave@ext.test <alice.msg &&
	NYMBOX_NOW=$T0 nymbox-sendmail -oi -t <bob.msg &&
	NYMBOX_NOW=$T0 queue-run -q queue -l >list &&
	test_line_count = 2 list &&
	test_grep "defer" list && test_grep "batch" list &&
	test_grep -v "from alice\|Subject\|a line with a dot" list
'

test_expect_success POSTFIX 'before anything is due, queue-run sends nothing' '
	NYMBOX_NOW=$((T0 + 1999)) queue-run -q queue &&
	NYMBOX_NOW=$((T0 + 1999)) queue-run -q queue -l >list &&
	test_line_count = 2 list && test -z "$(inbox)"
'

test_expect_success POSTFIX 'after the defer delay, alice'"'"'s message goes, Date in UTC' '
	NYMBOX_NOW=$((T0 + 4000)) queue-run -q queue &&
	delivered 2 &&
	grab "Subject: from alice" &&
	test_grep "with ESMTPA" got &&
	test_grep -x "Date: Tue, 14 Nov 2023 23:20:00 +0000" got &&
	test_grep -v "^User-Agent:\|laptop\|+0100\|^Bcc:" got &&
	test_grep -x ".a line with a dot" got &&
	NYMBOX_NOW=$((T0 + 4000)) queue-run -q queue -l >list &&
	test_line_count = 1 list && test_grep batch list
'

test_expect_success POSTFIX 'bob'"'"'s batch waits for 00:00 UTC, then goes' '
	NYMBOX_NOW=$((BATCH - 1)) queue-run -q queue &&
	NYMBOX_NOW=$((BATCH - 1)) queue-run -q queue -l >list &&
	test_line_count = 1 list && test "$(inbox | wc -l)" = 2 &&
	NYMBOX_NOW=$BATCH queue-run -q queue &&
	delivered 3 &&
	grab "Subject: from bob" &&
	test_grep -x "Date: Wed, 15 Nov 2023 00:00:00 +0000" got &&
	test_grep -v "^User-Agent:\|laptop" got &&
	NYMBOX_NOW=$BATCH queue-run -q queue -l >list &&
	test_must_be_empty list
'

test_expect_success POSTFIX 'a wrong password bounces a DSN to the sender, nothing left to send' '
	printf "wrong\n" >alice.pw &&
	NYMBOX_NOW=$T0 nymbox-sendmail -oi -f alice@lab.test carol@ext.test \
	    <alice.msg &&
	NYMBOX_NOW=$((T0 + 4000)) queue-run -q queue -b bounces &&
	NYMBOX_NOW=$((T0 + 4000)) queue-run -q queue -l >list &&
	# Only the failed message is listed, with the reason Postfix gave.
	test_line_count = 1 list &&
	test_grep "^[0-9a-f]* defer failed 1 carol@ext.test .*535 5.7.8" list &&
	cat bounces/new/* >dsn &&
	test_grep "multipart/report" dsn &&
	test_grep -i "Final-Recipient: rfc822; *carol@ext.test" dsn
'

test_done
