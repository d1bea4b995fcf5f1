#!/bin/sh
# Every example line of README and of the man pages is run here, by the
# program that consumes it, so that no documented recipe can drift from
# what works.  t/helpers/doc-examples extracts the blocks (README's
# indented blocks; every page's EXAMPLES displays, and all of nymbox(7)'s)
# and the last test fails for any line no test below claimed.  A test
# claims lines with "ex FILE <<EOF", which fails unless exactly those
# lines stand together in a doc; so a line changed in a doc is both
# unclaimed and missing here, and fails twice until the test runs it.
#
# What runs is the doc's own text, after these substitutions only:
#   /usr/local/      -> $ROOT/usr/local/, a make install DESTDIR=$ROOT
#                       PREFIX=/usr/local of this tree
#   /home/NAME/      -> $HOME/ (the test's home; one user is enough)
#   /usr/sbin/sendmail -> $ROOT/usr/sbin/sendmail
#   the POP3 ports of the loopback, 1110 (pop-serve) and 7660 (postman's
#   tunnel) -> a port the kernel chose for this run, served by pop-serve;
#   the SMTP port 2525 -> another
#   fetchmailrc's "service 1110" -> the POP3 port above
#   inetd.conf's user field -> the test's user
# Shell lines run with PATH=$ROOT/usr/local/bin:/usr/bin:/bin (a user
# after make install); crontab lines are checked as Debian's cron reads
# them, then their commands run the way cron runs them: env -i with HOME,
# LOGNAME, SHELL=/bin/sh and PATH=/usr/bin:/bin, sh -c.  muttrc lines
# go to real mutt, procmailrc lines to real procmail.  Shown output
# after a "$ " command is compared with what the command prints.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
DX=$TOP/t/helpers/doc-examples
ROOT=$TRASH/root
POPPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || tl_bail_ "unable to get a free port"
SMTPPORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || tl_bail_ "unable to get a free port"
UPATH=$ROOT/usr/local/bin:/usr/bin:/bin
export ROOT UPATH

# Alice's onion in the pages (onion-deliver(1)) stands for one whose key
# she has: one made here, in ~/.config/nymbox/keys/ONION.
DOCONION=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
mkdir -p "$HOME/.config/nymbox/keys" &&
ALICEONION=$(onion-key -c "$TRASH/alice.key") &&
mv "$TRASH/alice.key" "$HOME/.config/nymbox/keys/$ALICEONION" ||
	tl_bail_ "unable to make an onion key"

(cd "$TOP" && "$DX" extract "$TRASH/dx" README man/*.[1-9]) ||
	tl_bail_ "unable to extract the examples"

# ex FILE: claim the lines on stdin in the docs, write the doc's text,
# its paths mapped, into FILE.
ex() {
	cat >"$1.want" &&
	"$DX" claim "$TRASH/dx" "$1.want" >"$1.doc" &&
	sed -e "s|/usr/local/|$ROOT/usr/local/|g" \
	    -e "s|/home/[a-z][a-z]*/|$HOME/|g" \
	    -e "s|alice@$DOCONION|alice@$ALICEONION|g" \
	    -e "s|/usr/sbin/sendmail|$ROOT/usr/sbin/sendmail|g" \
	    -e "s|127\.0\.0\.1:1110|127.0.0.1:$POPPORT|g" \
	    -e "s|127\.0\.0\.1:7660|127.0.0.1:$POPPORT|g" \
	    -e "s|TCP-LISTEN:1110,|TCP-LISTEN:$POPPORT,|g" \
	    -e "s|TCP-LISTEN:2525,|TCP-LISTEN:$SMTPPORT,|g" \
	    -e "s|127\.0\.0\.1 1110 |127.0.0.1 $POPPORT |g" \
	    -e "s|^\(poll 127\.0\.0\.1 .*service \)1110 |\1$POPPORT |" \
	    -e "s|^127\.0\.0\.1:2525 \(.* nowait \)[a-z][a-z]* |127.0.0.1:$SMTPPORT \1$(id -un) |" \
	    "$1.doc" >"$1"
}

# prose FIRSTLINE: a block that shows no command (a list, a table).
prose() {
	"$DX" block "$TRASH/dx" "$1"
}

# usersh FILE: run FILE's shell lines as a user would after make install.
usersh() {
	PATH=$UPATH sh -c "$(cat "$1")"
}

# cronrun FILE: check FILE as crontab lines, then run each command as
# cron would; every command must exit with ${CRONRC:-0}.
cronrun() {
	"$DX" crontab "$1" >"$1.cmds" &&
	test -s "$1.cmds" &&
	while IFS= read -r c; do
		env -i HOME="$HOME" LOGNAME=alice SHELL=/bin/sh PATH=/usr/bin:/bin \
		    ${NYMBOX_CONF:+NYMBOX_CONF=$NYMBOX_CONF} \
		    sh -c "$c" >"$1.out" 2>"$1.err" </dev/null
		rc=$?
		cat "$1.out" "$1.err"
		test "$rc" = "${CRONRC:-0}" || {
			echo "cron would get exit $rc from: $c"
			return 1
		}
	done <"$1.cmds"
}

# mailns CMD...: CMD where procmail's system mailboxes are a private
# tmpfs (as root, in a mount namespace of its own), so that nothing a
# test hands procmail can reach the machine's /var/mail.
mailns() {
	if test "$(id -u)" = 0; then
		unshare -m sh -c 'mount -t tmpfs -o mode=1777 tmpfs /var/mail &&
		    exec "$@"' mailns "$@"
	else
		"$@"
	fi
}

# A leaky draft as mutt writes one, with an attachment from a path.
cat >draft.eml <<\EOF
Received: from laptop.home (192.168.1.20) by mail.example.org; Tue, 14 Nov 2023 23:13:20 +0100
From: Alice <alice@mail.i2p>
To: Bob <bob@mail.i2p>
Subject: notes
Message-ID: <20231114221320.GA1234@laptop.home.example>
Date: Tue, 14 Nov 2023 23:13:20 +0100
User-Agent: Mutt/2.2.12 (2023-09-09)
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=xyz

--xyz
Content-Type: text/plain

see attached
--xyz
Content-Type: text/plain
Content-Disposition: attachment; filename="/home/alice/notes.txt"

notes
--xyz--
EOF

test_expect_success 'README: make and make install (into DESTDIR, PREFIX=/usr/local)' '
	ex mk <<-\EOF &&
	make
	make install                  # PREFIX=/usr/local, DESTDIR for packages
	EOF
	make -s -C "$TOP" >log 2>&1 &&
	make -s -C "$TOP" install DESTDIR="$ROOT" PREFIX=/usr/local >log 2>&1 &&
	test -x "$ROOT/usr/local/bin/scrub-headers" &&
	test -x "$ROOT/usr/local/bin/queue-run"
'

test_expect_success 'README: make check is what CI runs' '
	ex mkc <<-\EOF &&
	make check    # build and run the tests, then again under ASan+UBSan
	EOF
	grep "^make .*check\$" "$TOP/.ci/run"
'

# make demo takes about 50 s of three i2pd routers: it is not run again
# here.  CI runs it on every run (.ci/run), and t/0500-eep2eep-i2pd.t
# runs the very program the demo runs (t/helpers/eep2eep on the same
# network), step checks and all; here, that the target and CI do so.
test_expect_success 'README: make demo runs t/demo.sh, CI runs make demo, t/0500 runs its steps' '
	ex mkd <<-\EOF &&
	make demo     # build, then the whole mail path over a private, offline
	              # network of three i2pd routers, Alice'"'"'s and Bob'"'"'s apart,
	              # each step checked (about 50 s): Alice'"'"'s mutt ->
	              # scrub-headers -> delay queue -> sam-deliver -> Bob'"'"'s
	              # server verifies her key, stores the mail encrypted ->
	              # Bob'"'"'s pop-fetch; Mallory posing as Alice is refused
	EOF
	make -n -s -C "$TOP" demo >demo.n 2>&1 &&
	test_grep -x "sh t/demo.sh" demo.n &&
	grep "^make .*demo\$" "$TOP/.ci/run" &&
	sed -n "/^make .*demo\$/q; /^ *exit\|^ *return/p" "$TOP/.ci/run" >early &&
	test_must_be_empty early &&
	grep "^\"\$top/t/helpers/eep2eep\" \"\$dir/run\"\$" "$TOP/t/demo.sh" &&
	grep "test_timeout [0-9]* \"\$H/eep2eep\" run " "$TOP/t/0500-eep2eep-i2pd.t"
'

test_expect_success 'README, scrub-headers(1): scrub-headers -c prints what the docs show' '
	ex check <<-\EOF &&
	$ scrub-headers -c < draft.eml
	header: field order of the client (written in the canonical order)
	Received: hosts, addresses and times the message passed
	Date: time zone offset +0100
	Message-ID: made by the client (host, time or software pattern)
	User-Agent: mail client and version
	Content-Type: boundary made by the client
	part 1: Content-Type: the client'"'"'s rendering (written in the canonical form)
	part 2: Content-Type: the client'"'"'s rendering (written in the canonical form)
	part 2: Content-Disposition: filename holds a directory path
	EOF
	sed -n "1s/^\\$ //p" check >check.cmd &&
	sed 1d check >check.want &&
	test_expect_code 1 usersh check.cmd >check.got &&
	test_cmp check.want check.got
'

test_expect_success 'nymbox(7): scrub-headers -c on a draft by hand' '
	ex check2 <<-\EOF &&
	scrub-headers -c < draft.eml
	EOF
	test_expect_code 1 usersh check2 >out &&
	test_grep "^User-Agent:" out
'

test_expect_success 'README, scrub-headers(1): a whole mbox, List- kept, Date to the hour' '
	ex mbox <<-\EOF &&
	scrub-headers -m -k '"'"'List-*'"'"' -r 3600 < sent.mbox > sent-clean.mbox
	EOF
	{ echo "From alice Tue Nov 14 22:13:20 2023" && cat draft.eml &&
	  echo && echo "From alice Tue Nov 14 22:13:20 2023" &&
	  sed "s/^Subject: notes/List-Id: <x.lists.i2p>/" draft.eml; } >sent.mbox &&
	usersh mbox &&
	test "$(grep -c "^From " sent-clean.mbox)" = 2 &&
	test_grep -x "List-Id: <x.lists.i2p>" sent-clean.mbox &&
	test_grep -x "Date: Tue, 14 Nov 2023 22:00:00 +0000" sent-clean.mbox &&
	test_grep -v "^User-Agent:\|^Received:\|laptop" sent-clean.mbox
'

test_expect_success 'procmail recipe (README, nymbox(7), scrub-headers(1)): scrubbed into outgoing/' '
	ex procmailrc <<-\EOF &&
	:0 fw
	| /usr/local/bin/scrub-headers

	:0 e
	{ EXITCODE=75 HOST }

	:0
	outgoing/
	EOF
	mkdir -p pm && cp procmailrc pm/rc &&
	mailns procmail DEFAULT="$TRASH/pm/mbox" MAILDIR="$TRASH/pm" \
	    LOGFILE="$TRASH/pm/log" "$TRASH/pm/rc" <draft.eml &&
	cat pm/outgoing/new/* >got &&
	test_grep "^Subject: notes" got &&
	test_grep -v "^Received:\|^User-Agent:\|laptop" got &&
	test_path_is_missing pm/mbox
'

test_expect_success 'procmail recipe: a message scrub-headers refuses is not filed (75)' '
	{ sed "/^MIME-Version/,\$d" draft.eml &&
	  printf "Content-Type: multipart/mixed; boundary=b0\n\n" &&
	  i=0 && while test $i -lt 40; do
		printf -- "--b$i\nContent-Type: multipart/mixed; boundary=b$((i+1))\n\n"
		i=$((i+1))
	  done; } >deep &&
	rm -rf pm/outgoing &&
	test_expect_code 75 mailns procmail DEFAULT="$TRASH/pm/mbox" MAILDIR="$TRASH/pm" \
	    LOGFILE="$TRASH/pm/log" "$TRASH/pm/rc" <deep &&
	test_grep "Program failure (65)" pm/log &&
	test -z "$(find pm/outgoing -type f 2>/dev/null)" &&
	test_path_is_missing pm/mbox
'

test_expect_success 'procmail recipe without its failure branch would file the original' '
	sed "/^:0 e/,/^{ EXITCODE/d" pm/rc >pm/rc.bare &&
	rm -rf pm/outgoing &&
	mailns procmail DEFAULT="$TRASH/pm/mbox" MAILDIR="$TRASH/pm" \
	    LOGFILE="$TRASH/pm/log" "$TRASH/pm/rc.bare" <deep &&
	cat pm/outgoing/new/* >got &&
	test_grep "^User-Agent:" got
'

# The queue's delivery command for the examples that queue: it records
# what it was given.
mkdir -p "$HOME/.config/nymbox" sink
write_script sink/deliver <<EOF
printf '%s\n' "\$@" >"$TRASH/sink/argv"
cat >"$TRASH/sink/msg"
EOF

test_expect_success 'muttrc (README, nymbox(7), nymbox-sendmail(1), scrub-headers(1)): real mutt' '
	ex muttrc <<-\EOF &&
	set sendmail="/usr/local/bin/nymbox-sendmail -oem -oi"
	set use_envelope_from=yes
	EOF
	cat >"$HOME/.config/nymbox/config" <<-EOF &&
	chain = scrub-headers
	mode = now
	delivery = $TRASH/sink/deliver
	EOF
	ex muttfrom <<-\EOF &&
	set from="Alice <alice@mail.i2p>"
	EOF
	{ cat muttrc muttfrom &&
	  echo "set record=\"\"" && echo "set user_agent=yes"; } >muttrc.run &&
	echo body | PATH=$UPATH test_timeout 30 mutt -n -F muttrc.run -s hi \
	    bob@bob.i2p &&
	PATH=$UPATH queue-run -l >list && test_line_count = 1 list &&
	PATH=$UPATH queue-run && test_grep "^Subject: hi" sink/msg &&
	test_grep -v "^User-Agent:" sink/msg &&
	test_grep -x -- "-f" sink/argv && test_grep -x "alice@mail.i2p" sink/argv
'

# Without a name in "from", mutt puts the account's GECOS name there.
test_expect_success 'muttrc of nymbox-setup(7): the From of the identity, not the account'"'"'s name' '
	ex muttrc3 <<-\EOF &&
	set sendmail="/usr/local/bin/nymbox-sendmail -oem -oi"
	set use_envelope_from=yes
	set from="Alice <alice@alice.i2p>"
	EOF
	cat >"$HOME/.config/nymbox/config" <<-EOF &&
	chain = scrub-headers
	mode = now
	delivery = $TRASH/sink/deliver
	EOF
	{ cat muttrc3 && echo "set record=\"\""; } >muttrc.run &&
	echo body | PATH=$UPATH test_timeout 30 mutt -n -F muttrc.run -s hi3 \
	    bob@bob.i2p &&
	rm -f sink/msg && PATH=$UPATH queue-run && test_grep "^Subject: hi3" sink/msg &&
	test_grep -x "From: Alice <alice@alice.i2p>" sink/msg &&
	test_grep -x "alice@alice.i2p" sink/argv
'

test_expect_success 'muttrc of nymbox(7) with the nymbox config of an identity' '
	ex muttrc2 <<-\EOF &&
	set sendmail="/usr/local/bin/nymbox-sendmail -oi"
	EOF
	ex conf2 <<-\EOF &&
	[alice@mail.i2p]
	mode = batch
	delivery = smtp-submit -P /home/alice/.config/nymbox/postman.pass
	EOF
	{ echo "chain = scrub-headers" && cat conf2; } >"$HOME/.config/nymbox/config" &&
	{ cat muttrc2 && echo "set from=\"Alice <alice@mail.i2p>\"" &&
	  echo "set use_envelope_from=yes" && echo "set record=\"\""; } >muttrc.run &&
	echo body | PATH=$UPATH test_timeout 30 mutt -n -F muttrc.run -s hi2 \
	    bob@bob.i2p &&
	PATH=$UPATH queue-run -l >list &&
	test_grep "batch" list &&
	grep -l "smtp-submit" "$HOME/.config/nymbox/queue/mess/"* &&
	grep -l "postman.pass" "$HOME/.config/nymbox/queue/mess/"* &&
	rm -rf "$HOME/.config/nymbox/queue"
'

# Every crontab block, checked and run as cron runs it.
test_expect_success 'crontab: queue-run, batch-delay, pop-fetch (README)' '
	ex cron1 <<-\EOF &&
	*/5 * * * * /usr/local/bin/queue-run
	0 0,12 * * * /usr/local/bin/batch-delay
	*/15 * * * * /usr/local/bin/pop-fetch -H 127.0.0.1:7660 -u alice -P ~/.config/nymbox/pop.pass -d ~/Maildir
	EOF
	sed -n 1,2p cron1 >cron1a && cronrun cron1a &&
	sed -n 3p cron1 >cron1b && "$DX" crontab cron1b >/dev/null
'

test_expect_success 'crontab: queue-run and batch-delay (nymbox(7), queue-run(1))' '
	ex cron2 <<-\EOF &&
	*/5 * * * * /usr/local/bin/queue-run
	0 0,12 * * * /usr/local/bin/batch-delay
	EOF
	cronrun cron2 &&
	ex cron3 <<-\EOF &&
	*/5 * * * *  /usr/local/bin/queue-run
	0 0,12 * * * /usr/local/bin/batch-delay
	EOF
	cronrun cron3
'

test_expect_success 'crontab: batch-delay(1)' '
	ex cron4 <<-\EOF &&
	0 0,12 * * * /usr/local/bin/batch-delay
	EOF
	cronrun cron4 &&
	ex cron5 <<-\EOF &&
	CRON_TZ=UTC
	0 0,12 * * * /usr/local/bin/batch-delay
	EOF
	cronrun cron5 &&
	ex cron6 <<-\EOF &&
	0 * * * * /usr/local/bin/batch-delay
	EOF
	cronrun cron6 &&
	ex cron7 <<-\EOF &&
	*/5 * * * * /usr/local/bin/queue-run
	EOF
	cronrun cron7
'

test_expect_success 'crontab: a due message goes from the queue under cron' '
	cat >"$HOME/.config/nymbox/config" <<-EOF &&
	chain = scrub-headers
	delivery = $TRASH/sink/deliver
	EOF
	rm -f sink/msg &&
	PATH=$UPATH delay-queue -m now -f alice@mail.i2p bob@bob.i2p <draft.eml &&
	cronrun cron7 &&
	test_grep "^Subject: notes" sink/msg
'

test_expect_success 'crontab: the morning leak report (README, nymbox(7))' '
	ex cron8 <<-\EOF &&
	0 7 * * * /usr/local/bin/scrub-headers -c -m < $HOME/Mail/postponed
	EOF
	ex cron9 <<-\EOF &&
	0 7 * * * /usr/local/bin/scrub-headers -c -m < ~/Mail/postponed
	EOF
	mkdir -p "$HOME/Mail" &&
	{ echo "From alice Tue Nov 14 22:13:20 2023" && cat draft.eml; } \
	    >"$HOME/Mail/postponed" &&
	CRONRC=1 cronrun cron8 >out && test_grep "User-Agent:" out &&
	CRONRC=1 cronrun cron9 >out && test_grep "User-Agent:" out
'

test_expect_success 'crontab: the pop-fetch entries are one line each' '
	ex cron10 <<-\EOF &&
	*/15 * * * * /usr/local/bin/pop-fetch -H 127.0.0.1:7660 -u alice -P ~/.config/nymbox/pop.pass -d ~/Maildir
	EOF
	"$DX" crontab cron10 >/dev/null &&
	ex cron11 <<-\EOF &&
	*/10 * * * * /usr/local/bin/pop-fetch -H 127.0.0.1:7660 -u alice -P ~/.pop-pass -d ~/Maildir
	EOF
	"$DX" crontab cron11 >/dev/null
'

test_expect_success 'the crontab check refuses what cron cannot run' '
	printf "*/15 * * * * pop-fetch -H x \\\\\n\t-d ~/Maildir\n" >bad1 &&
	test_must_fail "$DX" crontab bad1 &&
	printf "0 7 * * * date +%%s\n" >bad2 &&
	test_must_fail "$DX" crontab bad2 &&
	printf "*/5 * * * * queue-run\n" >bad3 &&
	"$DX" crontab bad3 >/dev/null &&
	test_must_fail cronrun bad3 >out && test_grep "exit 127" out
'

test_expect_success 'README: the configuration lines are read by scrub-headers' '
	ex conf3 <<-\EOF &&
	scrub-keep = List-*, Organization
	scrub-round = 3600
	msgid-domain = mail.i2p
	EOF
	cp conf3 "$HOME/.config/nymbox/config" &&
	sed "s/^Subject: notes/List-Id: <x.lists.i2p>\nOrganization: Org/" \
	    draft.eml | PATH=$UPATH scrub-headers >out &&
	test_grep -x "List-Id: <x.lists.i2p>" out &&
	test_grep -x "Organization: Org" out &&
	test_grep -x "Date: Tue, 14 Nov 2023 22:00:00 +0000" out &&
	test_grep "^Message-ID: <.*@mail.i2p>\$" out
'

test_expect_success 'README, smtp-submit(1): an identity of its own in the configuration' '
	ex conf4 <<-\EOF &&
	mode = defer
	[alice@mail.i2p]
	mode = batch
	delivery = smtp-submit
	smtp-password-file = /home/a/.config/nymbox/alice.pass
	EOF
	ex conf5 <<-\EOF &&
	[alice@mail.i2p]
	smtp-password-file = /home/a/.config/nymbox/alice.pass
	delivery = smtp-submit
	EOF
	ex conf6 <<-\EOF &&
	[alice@mail.i2p]
	mode = batch
	delivery = smtp-submit
	smtp-password-file = /home/alice/.config/nymbox/postman.pass
	EOF
	for c in conf4 conf5 conf6; do
		{ echo "chain = scrub-headers" && cat $c; } \
		    >"$HOME/.config/nymbox/config" &&
		PATH=$UPATH nymbox-sendmail -oi -f alice@mail.i2p bob@mail.i2p \
		    <draft.eml &&
		grep -l "smtp-submit" "$HOME/.config/nymbox/queue/mess/"* &&
		rm -rf "$HOME/.config/nymbox/queue" || return 1
	done
'

test_expect_success 'README, delay-queue(1), nymbox(7): scrub, then the defer queue to sam-deliver' '
	ex dq <<-\EOF &&
	scrub-headers < draft | delay-queue -m defer -t \
	    -- sam-deliver -k ~/.config/nymbox/keys/alice.i2p.key
	EOF
	: >"$HOME/.config/nymbox/config" &&
	cp draft.eml draft &&
	usersh dq &&
	PATH=$UPATH queue-run -l >list &&
	test_line_count = 1 list && test_grep defer list &&
	grep -l "sam-deliver" "$HOME/.config/nymbox/queue/mess/"*
'

# queue-run(1)'s administration: the ID in the page stands for the
# message's own (queue-run -l prints it first).
test_expect_success 'queue-run(1): what is waiting, by due time' '
	ex ql <<-\EOF &&
	/usr/local/bin/queue-run -l | sort -k3
	EOF
	PATH=$UPATH delay-queue -m batch -f alice@mail.i2p bob@bob.i2p \
	    -- "$TRASH/sink/deliver" <draft.eml &&
	usersh ql >out && test_line_count = 2 out &&
	cut -d" " -f2 out | sort >modes && printf "batch\ndefer\n" >want &&
	test_cmp want modes &&
	cut -d" " -f3 out >due && sort -c due &&
	rm -rf "$HOME/.config/nymbox/queue"
'

write_script qdeliver <<EOF
cat >"$TRASH/qdeliver.msg"
code=\$(cat "$TRASH/qcode" 2>/dev/null || echo 0)
test "\$code" = 0 || echo "qdeliver: no such user" >&2
exit \$code
EOF

test_expect_success 'queue-run(1): one message sent now, one failed queued and sent again' '
	ex qr1 <<-\EOF &&
	/usr/local/bin/queue-run -r 5f0c2a9e81d4b376
	EOF
	ex qr2 <<-\EOF &&
	/usr/local/bin/queue-run -R 5f0c2a9e81d4b376 -r 5f0c2a9e81d4b376
	EOF
	ex qbm <<-\EOF &&
	bounce-maildir = /home/alice/Maildir/.bounces
	EOF
	{ echo "delivery = $TRASH/qdeliver" && cat qbm; } >"$HOME/.config/nymbox/config" &&
	rm -rf "$HOME/.config/nymbox/queue" "$HOME/Maildir/.bounces" qdeliver.msg &&
	echo 75 >qcode &&
	PATH=$UPATH delay-queue -m defer -f alice@mail.i2p bob@bob.i2p <draft.eml &&
	id=$(PATH=$UPATH queue-run -l | cut -d" " -f1) && test -n "$id" &&
	rm qcode &&
	sed "s/5f0c2a9e81d4b376/$id/g" qr1 >qr1.run && ! test_cmp qr1 qr1.run >/dev/null &&
	usersh qr1.run &&
	test_grep "^Subject: notes" qdeliver.msg &&
	test -z "$(PATH=$UPATH queue-run -l)" &&
	echo 67 >qcode && rm qdeliver.msg &&
	PATH=$UPATH delay-queue -m now -f alice@mail.i2p bob@bob.i2p <draft.eml &&
	id=$(PATH=$UPATH queue-run -l | cut -d" " -f1) &&
	PATH=$UPATH queue-run 2>err &&
	PATH=$UPATH queue-run -l >list && test_grep " failed " list &&
	test "$(ls "$HOME/Maildir/.bounces/new" | wc -l)" = 1 &&
	rm qcode qdeliver.msg &&
	sed "s/5f0c2a9e81d4b376/$id/g" qr2 >qr2.run &&
	usersh qr2.run &&
	test_grep "^Subject: notes" qdeliver.msg &&
	test -z "$(PATH=$UPATH queue-run -l)" &&
	rm -rf "$HOME/.config/nymbox/queue" "$HOME/Maildir"
'

test_expect_success 'delay-queue(1): the next batch, delivery from the configuration' '
	ex dqb <<-\EOF &&
	delay-queue -m batch -f alice@alice.i2p bob@bob.i2p < message
	EOF
	echo "delivery = $TRASH/sink/deliver" >"$HOME/.config/nymbox/config" &&
	cp draft.eml message &&
	usersh dqb &&
	PATH=$UPATH queue-run -l >list && test_grep batch list &&
	rm -rf "$HOME/.config/nymbox/queue"
'

# nymbox(7)'s Postfix set-up runs in t/0921-postfix-transport.t against
# a real Postfix, from contrib/postfix/ and from the page's own lines:
# here, the page must show those files as they are, and t/0921 must claim
# and run the same command lines.
ranby() {
	ex "$1" && while IFS= read -r l; do
		grep -Fx "	$l" "$TOP/t/$2" >/dev/null || {
			echo "t/$2 does not run: $l"
			return 1
		}
	done <"$1.doc"
}

test_expect_success 'nymbox(7): the Postfix files are those of contrib/postfix/' '
	ex pf1 <"$TOP/contrib/postfix/master.cf" &&
	ex pf2 <"$TOP/contrib/postfix/main.cf" &&
	ex pf3 <"$TOP/contrib/postfix/transport"
'

test_expect_success 'nymbox(7): the Postfix commands are run by t/0921' '
	ranby pf4 0921-postfix-transport.t <<-\EOF &&
	install -m 755 contrib/postfix/nymbox-pipe /usr/local/bin/
	EOF
	ranby pf5 0921-postfix-transport.t <<-\EOF
	postmap /etc/postfix/transport
	postfix reload
	EOF
'

test_expect_success 'git send-email (README, nymbox-sendmail(1)): real git send-email' '
	ex gitcf <<-\EOF &&
	git config sendemail.sendmailcmd /usr/local/bin/nymbox-sendmail
	git config sendemail.envelopeSender auto
	EOF
	if ! test -x "$(git --exec-path)/git-send-email"; then
		echo "git send-email is not installed" && return 1
	fi &&
	cat >"$HOME/.config/nymbox/config" <<-EOF &&
	chain = scrub-headers
	mode = now
	delivery = $TRASH/sink/deliver
	EOF
	ex gitcf1 <<-\EOF &&
	git config sendemail.sendmailcmd /usr/local/bin/nymbox-sendmail
	EOF
	test_cmp gitcf1 - <<-EOF &&
	$(sed -n 1p gitcf)
	EOF
	git init -q repo && (cd repo && usersh ../gitcf) &&
	printf "From 1 Mon Sep 17 00:00:00 2001\nFrom: Alice <alice@mail.i2p>\nSubject: [PATCH] x\n\nfix\n---\n f | 1 +\n" >p.patch &&
	(cd repo && GIT_COMMITTER_NAME=Alice GIT_COMMITTER_EMAIL=alice@mail.i2p \
	    GIT_AUTHOR_NAME=Alice GIT_AUTHOR_EMAIL=alice@mail.i2p \
	    PATH=$UPATH test_timeout 60 git send-email --to=bob@bob.i2p \
	    --from="Alice <alice@mail.i2p>" --confirm=never --suppress-cc=all \
	    --no-validate ../p.patch) &&
	rm -f sink/msg && PATH=$UPATH queue-run &&
	test_grep "^Subject: \[PATCH\] x" sink/msg &&
	test_grep -x "alice@mail.i2p" sink/argv
'

test_expect_success 'nymbox-sendmail(1): as /usr/sbin/sendmail, cron'"'"'s mail goes out' '
	ex sm <<-\EOF &&
	ln -s /usr/local/bin/nymbox-sendmail /usr/sbin/sendmail
	echo "sender = alice@mail.i2p" >> ~/.config/nymbox/config
	EOF
	mkdir -p "$ROOT/usr/sbin" &&
	cat >"$HOME/.config/nymbox/config" <<-EOF &&
	chain = scrub-headers
	mode = now
	delivery = $TRASH/sink/deliver
	EOF
	usersh sm &&
	printf "From: root (Cron Daemon)\nTo: alice@mail.i2p\nSubject: Cron <alice@box> true\n\nout\n" |
	env -i HOME="$HOME" LOGNAME=alice SHELL=/bin/sh PATH=/usr/bin:/bin \
	    "$ROOT/usr/sbin/sendmail" -FCronDaemon -i -B8BITMIME -oem alice@mail.i2p &&
	rm -f sink/msg && PATH=$UPATH queue-run &&
	test_grep "^Subject: Cron" sink/msg &&
	test_grep -x "alice@mail.i2p" sink/argv &&
	rm -f "$ROOT/usr/sbin/sendmail"
'

test_expect_success 'smtp-receive(1): a submission port that hands mail to the send chain' '
	ex subm <<-\EOF &&
	#!/bin/sh
	exec smtp-receive -l bob.i2p -a -A "$HOME/.config/nymbox/smtp.pass" \
	    -p '"'"'nymbox-sendmail -f "$1" "$2"'"'"'
	EOF
	cat >"$HOME/.config/nymbox/config" <<-EOF &&
	chain = scrub-headers
	mode = now
	delivery = $TRASH/sink/deliver
	EOF
	echo "alice@mail.i2p:pw" >"$HOME/.config/nymbox/smtp.pass" &&
	chmod 600 "$HOME/.config/nymbox/smtp.pass" &&
	chmod +x subm &&
	PATH=$UPATH:$PATH smtp-send -a alice@mail.i2p:pw -f alice@mail.i2p \
	    -r carol@carol.i2p draft.eml -- ./subm &&
	rm -f sink/msg && PATH=$UPATH queue-run &&
	test_grep "^Subject: notes" sink/msg &&
	test_grep -x "carol@carol.i2p" sink/argv
'

test_expect_success 'smtp-receive(1): through procmail, the envelope sender on the From_ line' '
	ex srp <<-\EOF &&
	smtp-receive -l bob.i2p -a -p '"'"'procmail -f "$1"'"'"'
	EOF
	test "$(id -u)" = 0 || { echo "needs root for a private /var/mail"; false; } &&
	write_script srp.run <<-EOF &&
	PATH=$UPATH:\$PATH smtp-send -f carol@carol.i2p -r bob@bob.i2p \
	    "$TRASH/draft.eml" -- sh -c "\$(cat "$TRASH/srp")" &&
	cat /var/mail/*
	EOF
	mailns ./srp.run >srp.out &&
	test_grep "^From carol@carol.i2p " srp.out &&
	test_grep "^Subject: notes" srp.out
'

test_expect_success 'smtp-submit(1): the postman delivery command, with AUTH' '
	ex sub <<-\EOF &&
	smtp-submit -P ~/.config/nymbox/alice.pass -f alice@mail.i2p \
	    bob@mail.i2p < message
	EOF
	{ "$TOP/t/helpers/smtpd" --port-file pm.port --save pm.mail \
	    --log pm.log --max-seconds 60 --auth alice@mail.i2p:pw &
	  echo $! >pm.pid; } &&
	test_when_finished "kill \$(cat pm.pid) 2>/dev/null" &&
	test_wait_for pm.port &&
	echo "smtp-server = 127.0.0.1:$(cat pm.port)" >"$HOME/.config/nymbox/config" &&
	echo pw >"$HOME/.config/nymbox/alice.pass" &&
	chmod 600 "$HOME/.config/nymbox/alice.pass" &&
	cp draft.eml message &&
	usersh sub &&
	test_grep "^Subject: notes" pm.mail/msg1 &&
	test_grep "^AUTH" pm.log
'

# I2P: the fake SAM bridge (SAM_PORT), bob.i2p's site serving its
# .well-known/i2pmail.key, and an SMTP server at that destination.
test_expect_success 'setup: the fake SAM bridge, bob.i2p and its mail server' '
	mkdir -p www/.well-known &&
	{ "$TOP/t/helpers/smtpd" --port-file mx.port --save mx.mail \
	    --log mx.log --max-seconds 120 & echo $! >mx.pid; } &&
	{ "$TOP/t/helpers/httpd" --port-file www.port --dir www \
	    --max-seconds 120 & echo $! >www.pid; } &&
	test_wait_for mx.port && test_wait_for www.port &&
	{ "$TOP/t/helpers/fake-sam" --port-file sam.port --pid-file sam.pid \
	    --max-seconds 120 --route "bob.i2p=$(cat www.port)" \
	    --route "mx.i2p=$(cat mx.port)" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_timeout 10 "${NYM_HELPERS:-$TOP/t/helpers}/samtool" -t 3000 -c 3000 \
	    127.0.0.1 "$(cat sam.port)" lookup -b mx.i2p >mx.b32 &&
	test -s mx.b32
'
SAM_PORT=$(cat sam.port 2>/dev/null)
MXB32=$(cat mx.b32 2>/dev/null)
stopi2p() {
	for p in mx.pid www.pid sam.pid alice.pid bob.pid sam2.pid wwwa.pid \
	    wwwb.pid psl.pid srs.pid onion.pid socks.pid popsrv.pid pst.pid \
	    pm2.pid sam3.pid fms.pid inetd.pid omx.pid osocks.pid; do
		test ! -f "$TRASH/$p" || kill "$(cat "$TRASH/$p")" 2>/dev/null
	done
}
test_atexit 'stopi2p || :'

# shown DOCLINE ACTUAL: a line shown in a doc against a real one: "..."
# in the doc stands for elided characters, a date-time for any.
shown() {
	printf "%s\n" "$1" |
	sed -e "s/[a-z0-9]*\.\.\.[a-z0-9]*/@ELIDED@/g" \
	    -e "s/[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z/@TIME@/g" \
	    -e "s/[].[*^\$\\\\]/\\\\&/g" \
	    -e "s/@ELIDED@/[a-z0-9]*/g" \
	    -e "s/@TIME@/[0-9]\\\\{4\\\\}-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z/g" \
	    -e "s/^/^/; s/\$/\$/" >shown.re &&
	printf "%s\n" "$2" | grep -f shown.re >/dev/null || {
		echo "doc:  $1" && echo "real: $2" && cat shown.re && false
	}
}

test_expect_success 'resolve-maildest(1): what a site publishes, and the lookup' '
	ex pub <<-\EOF &&
	3fxx...q4a.b32.i2p 25
	EOF
	echo "$MXB32 25" >www/.well-known/i2pmail.key &&
	shown "$(cat pub.doc)" "$(cat www/.well-known/i2pmail.key)" &&
	ex rm1 <<-\EOF &&
	$ resolve-maildest bob@bob.i2p
	bob@bob.i2p i2p 3fxx...q4a.b32.i2p 25 well-known 2026-11-24T09:12:00Z
	EOF
	sed -n "1s/^\\$ //p" rm1 >rm1.cmd &&
	SAM_PORT=$SAM_PORT usersh rm1.cmd >rm1.out &&
	test_line_count = 1 rm1.out &&
	shown "$(sed -n 2p rm1.doc)" "$(cat rm1.out)" &&
	test_grep " $MXB32 " rm1.out
'

test_expect_success 'resolve-maildest(1): where a draft'"'"'s recipients go' '
	ex rm2 <<-\EOF &&
	resolve-maildest -t < draft.eml
	EOF
	mkdir -p rmt && sed "s/^To: .*/To: Bob <bob@bob.i2p>/" draft.eml >rmt/draft.eml &&
	(cd rmt && SAM_PORT=$SAM_PORT usersh ../rm2 >out) &&
	test_grep "^bob@bob.i2p i2p $MXB32 25 " rmt/out
'

test_expect_success 'sam-deliver(1): one message, then a directory over one session' '
	ex sd1 <<-\EOF &&
	sam-deliver -f alice@alice.i2p bob@bob.i2p < message
	EOF
	ex sd2 <<-\EOF &&
	for f in queue/*; do echo "$f bob@bob.i2p"; done |
	    sam-deliver -B -f alice@alice.i2p
	EOF
	: >"$HOME/.config/nymbox/config" &&
	cp draft.eml message &&
	SAM_PORT=$SAM_PORT usersh sd1 &&
	test_grep "^Subject: notes" mx.mail/msg1 &&
	mkdir -p queue && cp draft.eml queue/1 &&
	sed "s/^Subject: notes/Subject: second/" draft.eml >queue/2 &&
	SAM_PORT=$SAM_PORT usersh sd2 &&
	test_grep "^Subject: notes" mx.mail/msg2 &&
	test_grep "^Subject: second" mx.mail/msg3
'

test_expect_success 'onion-deliver(1): one message, then a directory over one circuit' '
	ex od1 <<-\EOF &&
	onion-deliver -f alice@2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion \
	    bob@nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion < message
	EOF
	ex od2 <<-\EOF &&
	for f in queue/*; do
		echo "$f bob@nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion"
	done | onion-deliver -B -f alice@2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
	EOF
	{ "$TOP/t/helpers/smtpd" --port-file omx.port --save omx.mail \
	    --log omx.log --max-seconds 120 & echo $! >omx.pid; } &&
	test_wait_for omx.port &&
	{ "$TOP/t/helpers/fake-socks" --port-file osocks.port --pid-file osocks.pid \
	    --log osocks.log --max-seconds 120 \
	    --route "nxzbnpoznckab6lrucew6zp6n5etyjrnxcy7lpn4n6em24gl332z5had.onion=$(cat omx.port)" & } &&
	test_wait_for osocks.port && test_wait_for osocks.pid &&
	: >"$HOME/.config/nymbox/config" &&
	cp draft.eml message && rm -rf queue && mkdir queue &&
	cp draft.eml queue/1 &&
	sed "s/^Subject: notes/Subject: second/" draft.eml >queue/2 &&
	TOR_SOCKS=127.0.0.1:$(cat osocks.port) usersh od1 &&
	test_grep "^Subject: notes" omx.mail/msg1 &&
	TOR_SOCKS=127.0.0.1:$(cat osocks.port) usersh od2 &&
	test_grep "^Subject: notes" omx.mail/msg2 &&
	test_grep "^Subject: second" omx.mail/msg3 &&
	test $(grep -c "^GREETING" osocks.log) = 2
'

# Eep2eep over a second fake bridge: alice.i2p and bob.i2p each serve
# their .well-known/i2pmail.key.  A "NAME$ " prompt runs the line as
# that user: HOME=$TRASH/NAME.  A server line runs in the background.
test_expect_success 'setup: a bridge and the sites of alice.i2p and bob.i2p' '
	mkdir -p alice bob www-a/.well-known www-b/.well-known &&
	{ "$TOP/t/helpers/httpd" --port-file wwwa.port --dir www-a \
	    --max-seconds 120 & echo $! >wwwa.pid; } &&
	{ "$TOP/t/helpers/httpd" --port-file wwwb.port --dir www-b \
	    --max-seconds 120 & echo $! >wwwb.pid; } &&
	test_wait_for wwwa.port && test_wait_for wwwb.port &&
	{ "$TOP/t/helpers/fake-sam" --port-file sam2.port --pid-file sam2.pid \
	    --max-seconds 120 --route "alice.i2p=$(cat wwwa.port)" \
	    --route "bob.i2p=$(cat wwwb.port)" </dev/null & } &&
	test_wait_for sam2.port && test_wait_for sam2.pid
'
SAM2=$(cat sam2.port 2>/dev/null)

# server NAME FILE: FILE's one command line, as user NAME, in the
# background; its stdout (the b32 sam-accept prints) in NAME.out.
server() {
	(cd "$TRASH/$1" && HOME=$TRASH/$1 PATH=$UPATH SAM_PORT=$SAM2 \
	    exec sh -c "exec $(cat "$TRASH/$2")" >"$TRASH/$1.out" \
	    2>"$TRASH/$1.err" </dev/null) &
	echo $! >"$TRASH/$1.pid"
	test_wait_for "$TRASH/$1.out"
}

test_expect_success 'README, sam-accept(1): alice.i2p receives with the key it sends with' '
	ex acck <<-\EOF &&
	sam-accept -k ~/.config/nymbox/keys/alice.i2p.key \
	    smtp-receive -l alice.i2p -a -d ~/Maildir
	EOF
	mkdir -p alice/.config/nymbox/keys && chmod 700 alice/.config/nymbox &&
	tr -d "\\\\\n" <acck >acck.1 &&
	server alice acck.1 &&
	grep "^[a-z2-7]\{52\}\.b32\.i2p\$" alice.out &&
	echo "$(cat alice.out) 25" >www-a/.well-known/i2pmail.key &&
	test -S alice/.config/nymbox/keys/alice.i2p.key.sock
'

test_expect_success 'README, nymbox(7): Bob receives, Alice sends, her domain verified' '
	ex e2e <<-\EOF &&
	bob$   sam-accept smtp-receive -l bob.i2p -a -d ~/Maildir
	alice$ sam-deliver -f alice@alice.i2p bob@bob.i2p < message
	EOF
	ex e2e7 <<-\EOF &&
	bob$ sam-accept smtp-receive -l bob.i2p -a -d ~/Maildir
	alice$ sam-deliver -f alice@alice.i2p bob@bob.i2p < message
	EOF
	sed "s/^[a-z]*\\$ *//" e2e >e2e.cmds && sed "s/^[a-z]*\\$ *//" e2e7 >e2e7.cmds &&
	test_cmp e2e.cmds e2e7.cmds &&
	sed -n "1s/^bob\\$ *//p" e2e >e2e.bob && test -s e2e.bob &&
	sed -n "2s/^alice\\$ *//p" e2e >e2e.alice && test -s e2e.alice &&
	server bob e2e.bob &&
	echo "$(cat bob.out) 25" >www-b/.well-known/i2pmail.key &&
	sed "s/^To: .*/To: Bob <bob@bob.i2p>/; s/^From: .*/From: Alice <alice@alice.i2p>/" \
	    draft.eml >alice/message &&
	(cd alice && HOME=$TRASH/alice PATH=$UPATH SAM_PORT=$SAM2 \
	    test_timeout 60 sh -c "$(cat ../e2e.alice)") &&
	cat bob/Maildir/new/* >got &&
	test_grep "^Subject: notes" got
'

test_expect_success 'smtp-receive(1): Bob'"'"'s mail key, a users file, Alice'"'"'s domain verified' '
	ex sra <<-\EOF &&
	sam-accept -k ~/.config/nymbox/mail.key \
	    smtp-receive -l bob.i2p -u ~/.config/nymbox/users -d ~/Maildir
	EOF
	kill "$(cat bob.pid)" && rm -f bob.out &&
	echo bob >bob/.config/nymbox/users &&
	tr -d "\\\\\n" <sra >sra.1 &&
	server bob sra.1 &&
	echo "$(cat bob.out) 25" >www-b/.well-known/i2pmail.key &&
	rm -rf alice/.config/nymbox/maildest &&
	sed "s/^Subject: notes/Subject: to the mail key/" alice/message >alice/message2 &&
	(cd alice && HOME=$TRASH/alice PATH=$UPATH SAM_PORT=$SAM2 test_timeout 60 \
	    sam-deliver -f alice@alice.i2p bob@bob.i2p <message2) &&
	grep -l "^Subject: to the mail key" bob/Maildir/new/* &&
	(cd alice && HOME=$TRASH/alice PATH=$UPATH SAM_PORT=$SAM2 \
	    test_expect_code 67 test_timeout 60 \
	    sam-deliver -f alice@alice.i2p carol@bob.i2p <message2)
'

# ptyrun PASSWORD CMD: CMD run by sh on a terminal of its own
# (t/helpers/onatty), every prompt answered with PASSWORD as a user would
# type it; the terminal's output on stdout, exit code CMD's.
ptyrun() {
	printf '%s\n' "$1" >ptyrun.answer &&
	PATH=$UPATH "$TOP/t/helpers/onatty" -r ptyrun.answer sh -c "$(cat "$2")"
}

test_expect_success 'mbox-encrypt(1): the keys, then delivery into an encrypted maildir' '
	ex me1 <<-\EOF &&
	mbox-encrypt -g
	mbox-encrypt -d ~/Maildir < message
	EOF
	cp draft.eml message &&
	sed -n 1p me1 >me1.a && sed -n 2p me1 >me1.b &&
	ptyrun "a long inbox password" me1.a &&
	usersh me1.b &&
	test "$(ls "$HOME/Maildir/new" | wc -l)" = 1 &&
	test_grep -v "Subject: notes" "$HOME/Maildir/new/"*
'

test_expect_success 'mbox-encrypt(1): an mbox in place, read back, a maildir to an mbox' '
	ex me2 <<-\EOF &&
	mbox-encrypt -i ~/mbox
	mbox-encrypt -x ~/mbox | grep '"'"'^Subject:'"'"'
	mbox-encrypt -x -d ~/Maildir -o ~/plain.mbox
	EOF
	{ echo "From alice Tue Nov 14 22:13:20 2023" && cat draft.eml; } >"$HOME/mbox" &&
	sed -n 1p me2 >me2.a && sed -n 2p me2 >me2.b && sed -n 3p me2 >me2.c &&
	usersh me2.a &&
	test_grep -v "^Subject: notes" "$HOME/mbox" &&
	ptyrun "a long inbox password" me2.b >read.out &&
	test_grep "^Subject: notes" read.out &&
	ptyrun "a long inbox password" me2.c &&
	test_grep "^Subject: notes" "$HOME/plain.mbox"
'

# stoppid FILE: stop the process whose PID FILE holds, and wait (10 s
# at most) until it is gone, so that its port is free again.
stoppid() {
	kill "$(cat "$1")" 2>/dev/null
	n=0
	while kill -0 "$(cat "$1")" 2>/dev/null; do
		n=$((n + 1)) && test $n -lt 100 || return 1
		sleep 0.1
	done
}

# POP3: the encrypted ~/Maildir of the mbox-encrypt tests, served by
# pop-serve under socat as pop-serve(1) shows it.
test_expect_success 'pop-serve(1): the configuration and the socat listener' '
	ex psconf <<-\EOF &&
	pop-maildir = /home/alice/Maildir
	pop-user = alice
	EOF
	cp psconf "$HOME/.config/nymbox/config" &&
	ex psl <<-\EOF &&
	socat TCP-LISTEN:1110,bind=127.0.0.1,reuseaddr,fork EXEC:pop-serve
	EOF
	{ PATH=$UPATH sh -c "exec $(cat psl)" </dev/null >psl.out 2>&1 &
	  echo $! >psl.pid; } &&
	n=0 && while ! (echo QUIT | socat - TCP:127.0.0.1:$POPPORT) 2>/dev/null |
	    grep -q "^+OK"; do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.1 || return 1
	done &&
	echo "a long inbox password" >"$HOME/.pop-pass" &&
	chmod 600 "$HOME/.pop-pass"
'

test_expect_success 'pop-serve(1): pop-fetch from it into a plain maildir' '
	ex pspf <<-\EOF &&
	pop-fetch -H 127.0.0.1:1110 -u alice -P ~/.pop-pass -d ~/Plain
	EOF
	test -n "$(find "$HOME/Maildir/new" "$HOME/Maildir/cur" -type f)" &&
	usersh pspf &&
	cat "$HOME/Plain/new/"* >got && test_grep "^Subject: notes" got &&
	test -z "$(find "$HOME/Maildir/new" "$HOME/Maildir/cur" -type f)"
'

test_expect_success 'crontab: pop-fetch entries run as cron runs them (README, nymbox(7), pop-fetch(1), nymbox-setup(7))' '
	ex cron12 <<-\EOF &&
	*/15 * * * * /usr/local/bin/pop-fetch -H 127.0.0.1:7660 -u alice -P /home/alice/.config/nymbox/postman.pass -d /home/alice/Maildir
	EOF
	cp "$HOME/.pop-pass" "$HOME/.config/nymbox/pop.pass" &&
	cp "$HOME/.pop-pass" "$HOME/.config/nymbox/postman.pass" &&
	printf "pop-maildir = %s\npop-user = alice\n" "$TRASH/postman" \
	    >"$HOME/.config/nymbox/config" &&
	for c in cron1 cron10 cron11 cron12; do
		sed -n "/pop-fetch/p" $c >$c.pf &&
		PATH=$UPATH mbox-encrypt -d "$TRASH/postman" <draft.eml &&
		have=$(ls "$HOME/Maildir/new" | wc -l) &&
		cronrun $c.pf &&
		test "$(ls "$HOME/Maildir/new" | wc -l)" = $((have + 1)) &&
		test -z "$(find "$TRASH/postman/new" "$TRASH/postman/cur" -type f)" ||
		return 1
	done &&
	rm -rf "$HOME/Maildir"
'

test_expect_success 'nymbox(7): pop-serve under socat with its options' '
	stoppid psl.pid &&
	ex psl7 <<-\EOF &&
	socat TCP-LISTEN:1110,bind=127.0.0.1,reuseaddr,fork \
	    EXEC:"pop-serve -d $HOME/Maildir -u alice"
	EOF
	: >"$HOME/.config/nymbox/config" &&
	PATH=$UPATH mbox-encrypt -d "$HOME/Maildir" <draft.eml &&
	tr -d "\\\\\n" <psl7 >psl7.1 &&
	{ PATH=$UPATH sh -c "exec $(cat psl7.1)" </dev/null >psl7.out 2>&1 &
	  echo $! >psl.pid; } &&
	n=0 && while ! (echo QUIT | socat - TCP:127.0.0.1:$POPPORT) 2>/dev/null |
	    grep -q "^+OK"; do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.1 || return 1
	done &&
	rm -rf "$HOME/Plain" &&
	usersh pspf &&
	test "$(ls "$HOME/Plain/new" | wc -l)" = 1 &&
	stoppid psl.pid
'

# smtp_draft: once an SMTP server greets on $SMTPPORT, send draft.eml
# to it from carol@carol.example to bob@bob.i2p.
smtp_draft() {
	n=0 && while ! (echo QUIT | socat - TCP:127.0.0.1:$SMTPPORT) 2>/dev/null |
	    grep -q "^220"; do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.1 || return 1
	done &&
	python3 -c "import smtplib, sys
s = smtplib.SMTP(\"127.0.0.1\", int(sys.argv[1]), timeout=30)
s.sendmail(\"carol@carol.example\", [\"bob@bob.i2p\"], open(\"draft.eml\", \"rb\").read())
s.quit()" "$SMTPPORT"
}

test_expect_success 'smtp-receive(1): on a TCP port of the loopback with socat' '
	ex srs <<-\EOF &&
	socat TCP-LISTEN:2525,bind=127.0.0.1,reuseaddr,fork \
	    EXEC:'"'"'smtp-receive -l bob.i2p -a -d /home/bob/Maildir'"'"'
	EOF
	tr -d "\\\\\n" <srs >srs.1 &&
	{ PATH=$UPATH sh -c "exec $(cat srs.1)" </dev/null >srs.out 2>&1 &
	  echo $! >srs.pid; } &&
	smtp_draft &&
	cat "$HOME/Maildir/new/"* >got && test_grep "^Subject: notes" got &&
	kill "$(cat srs.pid)"
'

test_expect_success 'smtp-receive(1): a certificate, its pin, STARTTLS offered' '
	ex srtls <<-\EOF &&
	openssl req -x509 -newkey ed25519 -nodes -days 3650 -subj / \
	    -keyout tls.key -out tls.crt 2>/dev/null
	openssl x509 -in tls.crt -pubkey -noout |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary |
	    base32 | tr -d = | tr A-Z a-z
	EOF
	ex srtls2 <<-\EOF &&
	smtp-receive -l bob.i2p -a -d /home/bob/Maildir -C tls.crt -K tls.key
	EOF
	mkdir -p srtls.d && (cd srtls.d && PATH=$UPATH sh ../srtls) >srtls.pin &&
	test "$(stat -c %a srtls.d/tls.key)" = 600 &&
	grep -qx "[a-z2-7]\{52\}" srtls.pin &&
	(cd srtls.d && PATH=$UPATH:$PATH "${NYM_HELPERS:-$TOP/t/helpers}/tlsclient" \
	    -p "$(cat ../srtls.pin)" carol@carol.example bob@bob.i2p -- \
	    sh -c "exec $(cat ../srtls2)" <../draft.eml) >srtls.out &&
	test_grep "^tls TLSv1" srtls.out && test_grep "^rcpt 0" srtls.out &&
	grep -l "^Subject: notes" "$HOME/Maildir/new/"* >/dev/null
'

test_expect_success 'pop-serve(1): under tcpserver' '
	ex pst <<-\EOF &&
	tcpserver -R -H -l0 127.0.0.1 1110 pop-serve
	EOF
	command -v tcpserver >/dev/null || { echo "tcpserver (ucspi-tcp) is missing"; false; } &&
	printf "pop-maildir = %s\npop-user = alice\n" "$TRASH/tcps" \
	    >"$HOME/.config/nymbox/config" &&
	PATH=$UPATH mbox-encrypt -d "$TRASH/tcps" <draft.eml &&
	{ PATH=$UPATH sh -c "exec $(cat pst)" </dev/null >pst.out 2>&1 &
	  echo $! >pst.pid; } &&
	n=0 && while ! (echo QUIT | socat - TCP:127.0.0.1:$POPPORT) 2>/dev/null |
	    grep -q "^+OK"; do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.1 || return 1
	done &&
	rm -rf "$HOME/Plain" && usersh pspf &&
	test "$(ls "$HOME/Plain/new" | wc -l)" = 1 &&
	stoppid pst.pid
'

# The whole set-up, on a real onion service of the suite's private Tor
# network, is t/0713-pop-onion.t: the same forwarding, the same listener.
test_expect_success 'pop-serve(1): the onion service in torrc, as tor reads it, to the listener' '
	ex pstor <<-\EOF &&
	HiddenServiceDir /var/lib/tor/nymbox/
	HiddenServicePort 110 127.0.0.1:1110
	EOF
	test -x /usr/sbin/tor || { echo "tor is missing"; false; } &&
	test_grep "^HiddenServicePort 110 127\.0\.0\.1:$POPPORT$" pstor &&
	mkdir -m 700 torhs &&
	{ sed "s|/var/lib/tor/nymbox/|$TRASH/torhs/|" pstor &&
	  printf "SocksPort 0\nDataDirectory %s\n" "$TRASH/tordata"; } >pstor.rc &&
	/usr/sbin/tor --verify-config --defaults-torrc /dev/null -f pstor.rc \
	    >pstor.out 2>&1 &&
	test_grep "^Configuration was valid" pstor.out
'

test_expect_success 'pop-serve(1): over I2P from a destination of its own' '
	ex psa <<-\EOF &&
	sam-accept -k ~/.config/nymbox/keys/pop.key pop-serve
	EOF
	mkdir -p popsrv/.config/nymbox/keys && chmod 700 popsrv/.config/nymbox &&
	cp -p "$HOME/.config/nymbox/inbox.key" "$HOME/.config/nymbox/inbox.pub" \
	    popsrv/.config/nymbox/ &&
	printf "pop-maildir = %s\npop-user = alice\n" "$TRASH/popsrv/Maildir" \
	    >popsrv/.config/nymbox/config &&
	PATH=$UPATH mbox-encrypt -d popsrv/Maildir <draft.eml &&
	server popsrv psa &&
	echo "a long inbox password" >popsrv.pass && chmod 600 popsrv.pass &&
	HOME=$TRASH/alice PATH=$UPATH SAM_PORT=$SAM2 test_timeout 60 \
	    pop-fetch -s "$(cat popsrv.out)" -u alice -P "$TRASH/popsrv.pass" \
	    -d "$TRASH/popgot" &&
	cat popgot/new/* >got && test_grep "^Subject: notes" got
'

test_expect_success 'pop-fetch(1): over SAM from pop.postman.i2p, into procmail' '
	ex pfs <<-\EOF &&
	pop-fetch -s pop.postman.i2p -u alice -P ~/.pop-pass -p procmail
	EOF
	test "$(id -u)" = 0 || { echo "needs root for a private /var/mail"; false; } &&
	PATH=$UPATH mbox-encrypt -d "$TRASH/postman2" <draft.eml &&
	{ "$TOP/t/helpers/tcp-listen" --port-file pm2.port --pid-file pm2.pid \
	    --max-seconds 120 -- "$ROOT/usr/local/bin/pop-serve" \
	    -d "$TRASH/postman2" -u alice & } &&
	test_wait_for pm2.port && test_wait_for pm2.pid &&
	{ "$TOP/t/helpers/fake-sam" --port-file sam3.port --pid-file sam3.pid \
	    --max-seconds 120 --route "pop.postman.i2p=$(cat pm2.port)" \
	    </dev/null & } &&
	test_wait_for sam3.port && test_wait_for sam3.pid &&
	write_script pfs.run <<-EOF &&
	SAM_PORT=$(cat sam3.port) PATH=$UPATH:/usr/bin:/bin sh -c "\$(cat "$TRASH/pfs")" &&
	cat /var/mail/*
	EOF
	mailns ./pfs.run >pfs.out &&
	test_grep "^Subject: notes" pfs.out &&
	test -z "$(find "$TRASH/postman2/new" "$TRASH/postman2/cur" -type f)"
'

# Tor: a SOCKS5 stand-in (TOR_SOCKS) that relays the onion name to a
# pop-serve of an encrypted maildir of its own.
test_expect_success 'pop-fetch(1), nymbox(7): from an onion service through Tor' '
	ex pfo <<-\EOF &&
	pop-fetch -o 2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion \
	    -u alice -P ~/.pop-pass -m ~/mbox
	EOF
	ex pfo7 <<-\EOF &&
	pop-fetch -o 2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion \
	    -u alice -P ~/.config/nymbox/pop.pass -m ~/mbox
	EOF
	onion=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion &&
	{ "$TOP/t/helpers/tcp-listen" --port-file onion.port --pid-file onion.pid \
	    --max-seconds 120 -- "$ROOT/usr/local/bin/pop-serve" \
	    -d "$TRASH/onion" -u alice & } &&
	test_wait_for onion.port && test_wait_for onion.pid &&
	{ "$TOP/t/helpers/fake-socks" --port-file socks.port --pid-file socks.pid \
	    --log socks.log --max-seconds 120 --route "$onion=$(cat onion.port)" & } &&
	test_wait_for socks.port && test_wait_for socks.pid &&
	rm -f "$HOME/mbox" &&
	for c in pfo pfo7; do
		PATH=$UPATH mbox-encrypt -d "$TRASH/onion" <draft.eml &&
		TOR_SOCKS=127.0.0.1:$(cat socks.port) usersh $c || return 1
	done &&
	test "$(grep -c "^Subject: notes" "$HOME/mbox")" = 2 &&
	test_grep "$onion" socks.log
'

# fetchmail as the user it fetches for: alice, a local user of this test
# only.  Her passwd and group lines are bind-mounted over /etc/passwd
# and /etc/group in a mount namespace of the test's own (with mailns's
# private /var/mail), so procmail -d finds her and the machine's files
# are never written; the namespace and both go when fetchmail is done.
# Her password is in ~/.netrc, where fetchmail looks for it.
test_expect_success 'pop-serve(1): the ~/.fetchmailrc shown, real fetchmail and procmail -d, as user alice' '
	ex ps6 <<-\EOF &&
	poll 127.0.0.1 with proto POP3 service 1110 uidl
	  user "alice" there is "alice" here
	  sslproto "" options keep mda "/usr/bin/procmail -d %T"
	EOF
	test "$(id -u)" = 0 || { echo "needs root for a private user alice"; false; } &&
	command -v fetchmail >/dev/null || { echo "fetchmail is missing"; false; } &&
	uid=60100 &&
	while getent passwd $uid >/dev/null || getent group $uid >/dev/null; do
		uid=$((uid + 1))
	done &&
	# Her home where she can reach it, whatever the modes above the
	# checkout.
	test_public_dir FMP &&
	mkdir "$FMP/fmhome" && cp ps6 "$FMP/fmhome/.fetchmailrc" &&
	printf "machine 127.0.0.1 login alice password \"%s\"\n" \
	    "$(cat "$HOME/.pop-pass")" >"$FMP/fmhome/.netrc" &&
	chmod 600 "$FMP/fmhome/.fetchmailrc" "$FMP/fmhome/.netrc" &&
	chown -R $uid:$uid "$FMP/fmhome" &&
	PATH=$UPATH mbox-encrypt -d "$TRASH/fmbox" <draft.eml &&
	{ socat TCP-LISTEN:$POPPORT,bind=127.0.0.1,reuseaddr,fork \
	    EXEC:"$ROOT/usr/local/bin/pop-serve -d $TRASH/fmbox -u alice" \
	    </dev/null >fms.out 2>&1 &
	  echo $! >fms.pid; } &&
	n=0 && while ! (echo QUIT | socat - TCP:127.0.0.1:$POPPORT) 2>/dev/null |
	    grep -q "^+OK"; do
		n=$((n + 1)) && test $n -lt 100 && sleep 0.1 || return 1
	done &&
	{ grep -v "^alice:" /etc/passwd &&
	  echo "alice:x:$uid:$uid:Alice:$FMP/fmhome:/bin/sh"; } >fm.passwd &&
	{ grep -v "^alice:" /etc/group && echo "alice:x:$uid:"; } >fm.group &&
	write_script fm.run <<-EOF &&
	mount --bind "$TRASH/fm.passwd" /etc/passwd &&
	mount --bind "$TRASH/fm.group" /etc/group &&
	for i in 1 2; do
		setpriv --reuid=$uid --regid=$uid --clear-groups \
		    env -i HOME="$FMP/fmhome" USER=alice LOGNAME=alice \
		    PATH=/usr/bin:/bin timeout 60 fetchmail -v >"$TRASH/fm.\$i.log" 2>&1
		echo "fetchmail \$i: \$?"
	done &&
	ls -ln /var/mail && cat /var/mail/alice
	EOF
	mailns ./fm.run >fm.out &&
	stoppid fms.pid &&
	cat fm.out &&
	test_grep -x "fetchmail 1: 0" fm.out &&
	test_grep "1 message for alice at 127.0.0.1" fm.1.log &&
	test_grep -x "fetchmail 2: 1" fm.out &&
	test_grep "1 message (1 seen) for alice at 127.0.0.1" fm.2.log &&
	test_grep "^-rw------- 1 $uid .* alice\$" fm.out &&
	test_grep "^Subject: notes" fm.out &&
	test "$(grep -c "^Subject: notes" fm.out)" = 1 &&
	test -n "$(find "$TRASH/fmbox/new" "$TRASH/fmbox/cur" -type f)" &&
	! getent passwd alice | grep -q ":$FMP/fmhome:"
'

# smtp-receive(1)'s inetd.conf line under a real inetd (openbsd-inetd's,
# in the foreground with -d), with this file for its configuration; the
# user field names the test's user.
test_expect_success 'smtp-receive(1): the inetd.conf line, under a real inetd' '
	ex sr4 <<-\EOF &&
	127.0.0.1:2525 stream tcp nowait bob /usr/local/bin/smtp-receive
	    smtp-receive -l bob.i2p -a -d /home/bob/Maildir
	EOF
	test -x /usr/sbin/inetd || { echo "inetd (openbsd-inetd) is missing"; false; } &&
	rm -rf "$HOME/Maildir" &&
	{ /usr/sbin/inetd -d "$TRASH/sr4" </dev/null >inetd.out 2>&1 &
	  echo $! >inetd.pid; } &&
	smtp_draft &&
	stoppid inetd.pid &&
	test_grep "execv $ROOT/usr/local/bin/smtp-receive" inetd.out &&
	cat "$HOME/Maildir/new/"* >got && test_grep "^Subject: notes" got
'

# nymbox-setup(7)'s systemd lines.  There is no user manager here, and
# one must not be made: systemd --user, run on a machine not booted with
# systemd (after faking /run/systemd/system), moves every process of the
# machine's root cgroup into an init.scope of its own; there is no logind
# either.  So enable runs as written, offline (SYSTEMD_OFFLINE=1, which
# also keeps it off a user manager of the machine that runs the test):
# it is what makes a manager start the units, and its links are checked.
# start and loginctl are checked, not run: the verbs, and that start
# names the units enable made wanted.
sdenv() {
	env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS \
	    HOME="$TRASH/sdhome" SYSTEMD_OFFLINE=1 "$@"
}

test_expect_success 'nymbox-setup(7): systemctl --user enable, run offline: the links a user manager starts them from' '
	ex sden <<-\EOF &&
	systemctl --user enable nymbox-receive.service nymbox-pop.socket
	EOF
	command -v systemctl >/dev/null || { echo "systemctl (systemd) is missing"; false; } &&
	mkdir -p sdhome/.config/systemd/user &&
	cp "$TOP"/contrib/systemd/* sdhome/.config/systemd/user/ &&
	sdenv sh -c "$(cat sden)" >sden.out 2>&1 &&
	cat sden.out &&
	u=$TRASH/sdhome/.config/systemd/user &&
	test "$(readlink "$u/default.target.wants/nymbox-receive.service")" = \
	    "$u/nymbox-receive.service" &&
	test "$(readlink "$u/sockets.target.wants/nymbox-pop.socket")" = \
	    "$u/nymbox-pop.socket" &&
	test "$(find sdhome -type l | wc -l)" = 2
'

test_expect_success 'nymbox-setup(7): systemctl --user start and loginctl enable-linger, checked, not run (no user manager, no logind here)' '
	ex sdst <<-\EOF &&
	systemctl --user start nymbox-receive.service nymbox-pop.socket
	loginctl enable-linger alice
	EOF
	sed -n 1p sdst >sdst.1 &&
	sdenv sh -c "$(cat sdst.1)" >sdst.out 2>&1 &&
	test_grep "ignoring command .start." sdst.out &&
	for unit in $(sed "s/^systemctl --user start //" sdst.1); do
		test "$(sdenv systemctl --user is-enabled "$unit")" = enabled ||
		return 1
	done &&
	sed -n "2s/^loginctl \([a-z-]*\) [a-z][a-z]*\$/\1/p" sdst >verb &&
	test -s verb &&
	loginctl --help | grep "^  $(cat verb) \[USER\.\.\.\] "
'

# make fuzz runs for minutes: t/0005-fuzz.t runs every target briefly.
test_expect_success 'README: make fuzz, and the table has every fuzz target' '
	ex mkf <<-\EOF &&
	make fuzz                 # each target FUZZ_SECONDS (60) s, in turn
	make fuzz FUZZ_TARGETS=smtp-data FUZZ_SECONDS=3600
	EOF
	make -n -s -C "$TOP" fuzz FUZZ_TARGETS=date FUZZ_SECONDS=7 >fuzz.n 2>&1 &&
	grep -- "-max_total_time=7" fuzz.n &&
	prose "target      what it reads                     s, no finding  runs" &&
	for t in $(cd "$TOP/t/fuzz" && ls *.c | sed "s/\.c\$//"); do
		grep "^    $t  *[a-zA-Z]" "$TOP/README" >/dev/null ||
		{ echo "$t missing from the table"; return 1; }
	done
'

# Blocks that show no command.
test_expect_success 'README: the program list, the measurements and the layout' '
	prose "scrub-headers   remove what identifies the sender'"'"'s machine, mail" &&
	prose "pop-fetch          4057  4057  1380   pop-fetch is then" &&
	prose "50 MB, MB/s:     mbox-encrypt 2525 2833 2649, age 1705 1716 1792" &&
	prose "queue-run                   621  629" &&
	prose "scrub-headers, run 1 / run 2            canonical        against 9fe97cc" &&
	prose "job                            total s  first s  msg/s  ratio" &&
	prose "queue-run, -j 100 -J 20    1647   6.07 5.93 6.22" &&
	prose "job                              total s  msg/s  connections" &&
	prose "job                                       total s    msg/s  connections" &&
	prose "first message, a new circuit to the onion       0.27 s" &&
	prose "bin/          one C file per program"
'

# README's table of limits names constants that lib/limits.h defines.
test_expect_success 'README: the table of limits, every constant in lib/limits.h' '
	prose "limit                       constant              default     option, key          at / past" &&
	sed -n "/^Limits\$/,/^Speed\$/p" "$TOP/README" | grep -o "NYM_[A-Z0-9_]*" >names &&
	test -s names &&
	while read -r c; do
		grep -q "^#define $c\>" "$TOP/lib/limits.h" ||
		{ echo "$c is not in lib/limits.h"; return 1; }
	done <names
'

test_expect_success 'README: make uninstall removes what make install put there' '
	ex mku <<-\EOF &&
	make uninstall
	EOF
	make -s -C "$TOP" uninstall DESTDIR="$ROOT" PREFIX=/usr/local &&
	test -z "$(find "$ROOT" -type f)"
'

# Tests that run doc lines themselves claim them with ex as here; they
# are counted, not run twice (doc-examples claims: each claim must stand
# in a doc, or this fails, as the test itself does).
test_expect_success 'every example line of README and the man pages was run' '
	"$DX" claims "$TRASH/dx" "$TOP/t/0951-nymbox-init-setup.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0460-onion-key.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0960-pow-stamp.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0961-pow-stamp-send.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0970-sender-list.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0208-smtp-receive-stamps.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0962-stamp-demands.t" &&
	"$DX" claims "$TRASH/dx" "$TOP/t/0108-scrub-attribution.t" &&
	"$DX" unclaimed "$TRASH/dx" >unclaimed ||
	{ sed "s/^/not run: /" unclaimed; false; }
'

# test_done removes the scratch directory, PID files and all, when
# every test passed: stop the servers first (the EXIT trap is for the
# other ways out).
stopi2p
test_done
