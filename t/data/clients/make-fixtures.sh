#!/bin/sh
# make-fixtures.sh - regenerate the real-client fixtures in this directory.
#
# Documentation of how the *.eml files were made; the tests never run it.
# Run as root on Debian 12 with mutt neomutt s-nail mailutils nmh git-email
# alpine aerc tmux exim4 python3 installed:  sh make-fixtures.sh [client...]
# It re-runs itself in new mount and UTS namespaces (unshare -mu), where
# the host name is alice-laptop, /etc/hosts, /etc/mailname and /etc/passwd
# are replaced by bind mounts (uid 0 is named "alice", home /home/alice),
# and /home is a tmpfs; nothing on the real system changes.  Each client
# "sends" through capture.sh, which stores the bytes it is handed.
# fx_tokens writes the .leak/.keep files, for the hand-written messages too.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd -P)
if [ "${FX_INNER:-}" != 1 ]; then
	exec env FX_INNER=1 unshare -m -u sh "$HERE/$(basename "$0")" "$@"
fi

mount --make-rprivate /
hostname alice-laptop
W=$(mktemp -d /tmp/fx.XXXXXX)
trap 'tmux -L nymfx kill-server 2>/dev/null || :; sleep 1; rm -rf "$W"' EXIT
printf '127.0.0.1\tlocalhost\n127.0.1.1\talice-laptop.home.lan alice-laptop\n' >"$W/hosts"
echo alice-laptop.home.lan >"$W/mailname"
{ echo 'alice:x:0:0:Alice Liddell,,,:/home/alice:/bin/bash'; cat /etc/passwd; } >"$W/passwd"
mount --bind "$W/hosts" /etc/hosts
if test -e /etc/mailname; then
	mount --bind "$W/mailname" /etc/mailname
fi
mount --bind "$W/passwd" /etc/passwd
mount -t tmpfs tmpfs /home

export HOME=/home/alice USER=alice LOGNAME=alice HOSTNAME=alice-laptop
export TZ=Europe/Berlin LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm
unset MAIL EMAIL REPLYTO NAME
D=$HOME/Documents
mkdir -p "$D" "$HOME/Mail"
cd "$HOME"

# Small attachments: a minimal PDF, twice, and a 1x1 PNG.
cat >"$D/Secret Plan.pdf" <<'PDF'
%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj
trailer << /Root 1 0 R >>
%%EOF
PDF
cp "$D/Secret Plan.pdf" "$D/Überweisung März.pdf"
printf '\211PNG\r\n\032\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\10\6\0\0\0\37\25\304\211\0\0\0\rIDATx\234c\370\377\377?\0\5\376\2\376\247\65\201\204\0\0\0\0IEND\256B`\202' >"$D/logo.png"

mkdir "$W/spool"
cat >"$W/capture.sh" <<CAP
#!/bin/sh
# the "sendmail" every client is given: keep the message and the arguments
n=1
while test -e "$W/spool/\$n.eml"; do n=\$((n + 1)); done
printf '%s\n' "\$@" >"$W/spool/\$n.args"
cat >"$W/spool/\$n.eml"
CAP
chmod +x "$W/capture.sh"
CAPTURE=$W/capture.sh

# take NAME...: move the captured messages, in order, to NAME.eml
take()
{
	n=1
	for name; do
		test -s "$W/spool/$n.eml" ||
		    { echo "no message captured for $name" >&2; exit 1; }
		mv "$W/spool/$n.eml" "$HERE/$name.eml"
		echo "$name: $(tr '\n' ' ' <"$W/spool/$n.args")" >&2
		n=$((n + 1))
	done
	rm -f "$W"/spool/*
}

# msgid FILE: the Message-ID of FILE
msgid()
{
	sed -n 's/^[Mm]essage-[Ii][Dd]: *//p' "$1" | head -n 1
}

printf 'Hi Bob,\n\nthe plan is ready. See you on Friday.\n\nAlice\n' >"$W/body"
printf 'Hi Bob,\n\nyes, Friday works.\n\nAlice\n\n> Friday then?\n' >"$W/reply"
GMAIL='<CA+xyz@mail.gmail.com>'

# mutt and neomutt: batch mode (-n -F rc, body on stdin), a draft (-H) for
# the reply headers.
fx_mutt_like()
{
	prog=$1
	cat >"$W/$prog.rc" <<RC
set sendmail="$CAPTURE"
set realname="Alice"
set from="alice@alice.i2p"
set use_from=yes
set hostname="alice-laptop.home.lan"
set user_agent=yes
set charset="utf-8"
set send_charset="us-ascii:utf-8"
set folder="~/Mail"
set record=""
RC
	$prog -n -F "$W/$prog.rc" -s 'Plan for Friday' -- bob@bob.i2p <"$W/body"
	take $prog-plain
	own=$(msgid "$HERE/$prog-plain.eml")
	{
		echo 'To: bob@bob.i2p'
		echo 'Subject: Re: Plan for Friday'
		echo "In-Reply-To: $GMAIL"
		echo "References: $own $GMAIL"
		echo
		test $prog = neomutt || cat "$W/reply"
	} >"$W/draft"
	# neomutt -H takes the body from stdin, mutt from the draft
	$prog -n -F "$W/$prog.rc" -H "$W/draft" <"$W/reply"
	take $prog-reply
	$prog -n -F "$W/$prog.rc" -s 'The secret plan' \
	    -a "$D/Secret Plan.pdf" "$D/Überweisung März.pdf" -- bob@bob.i2p <"$W/body"
	take $prog-attach
}
fx_mutt() { fx_mutt_like mutt; }
fx_neomutt() { fx_mutt_like neomutt; }

# bob_mbox OWNID FILE: Bob's answer to Alice's first message, for the
# clients that can reply to a message in a mailbox.
bob_mbox()
{
	cat >"$2" <<MBOX
From bob@bob.i2p Mon Nov 23 09:00:00 2026
From: Bob <bob@bob.i2p>
To: Alice <alice@alice.i2p>
Subject: Re: Plan for Friday
Date: Mon, 23 Nov 2026 09:00:00 +0000
Message-ID: $GMAIL
${1:+In-Reply-To: $1
References: $1
}MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

Friday then?

MBOX
}

# s-nail: batch mode (-#); the reply is a real "reply 1" on Bob's mbox.
fx_snail()
{
	set -- -# -: / -S v15-compat -S mta="$CAPTURE" -S sendwait \
	    -S from='Alice <alice@alice.i2p>' -S ttycharset=utf-8
	s-nail "$@" -s 'Plan for Friday' bob@bob.i2p <"$W/body"
	take s-nail-plain
	bob_mbox "$(msgid "$HERE/s-nail-plain.eml")" "$W/bob.mbox"
	printf 'reply 1\nyes, Friday works.\n\nAlice\n~.\n' |
	    s-nail "$@" -f "$W/bob.mbox"
	take s-nail-reply
	s-nail "$@" -s 'The secret plan' -a "$D/Secret Plan.pdf" \
	    -a "$D/Überweisung März.pdf" bob@bob.i2p <"$W/body"
	take s-nail-attach
}

# GNU mailutils mail(1): the prog mailer; the reply is a real "reply 1".
fx_mailutils()
{
	printf 'set sendmail="prog://%s"\n' "$CAPTURE" >"$W/mailutils.rc"
	export MAILRC="$W/mailutils.rc"
	set -- -a 'From: Alice <alice@alice.i2p>'
	mail "$@" -s 'Plan for Friday' bob@bob.i2p <"$W/body"
	take mailutils-plain
	bob_mbox "$(msgid "$HERE/mailutils-plain.eml")" "$W/bob.mbox"
	# -a conflicts with -f: this reply has no From (sendmail adds one)
	printf 'Reply 1\nyes, Friday works.\n\nAlice\n' |
	    mail -N -f "$W/bob.mbox"
	take mailutils-reply
	mail "$@" -s 'The secret plan' -A "$D/Secret Plan.pdf" \
	    -A "$D/Überweisung März.pdf" bob@bob.i2p <"$W/body"
	take mailutils-attach
	unset MAILRC
}

# nmh: MHMTSCONF selects sendmail/pipe into capture.sh; drafts go through
# send(1) (Attach: headers for the attachments), the reply through repl(1)
# on Bob's message inc'ed into +inbox.
fx_nmh()
{
	export MH="$W/mh_profile" MHMTSCONF="$W/mts.conf" PATH="/usr/bin/mh:$PATH"
	printf 'Path: Mail\nLocal-Mailbox: Alice <alice@alice.i2p>\nsend: -msgid\n' >"$MH"
	printf 'mts: sendmail/pipe\nsendmail: %s\n' "$CAPTURE" >"$MHMTSCONF"
	mkdir -p Mail/inbox
	# nmh_draft SUBJECT [ATTACH...]: a comp(1) draft filled in as an
	# editor would
	nmh_draft()
	{
		rm -f Mail/draft
		comp -nowhatnowproc
		subj=$1
		shift
		awk -v subj="$subj" '
		/^To:/ { print "To: bob@bob.i2p"; next }
		/^Subject:/ { print "Subject: " subj; next }
		/^-+$/ { while ((getline a < "/dev/stdin") > 0) print "Attach: " a }
		{ print }' Mail/draft <<-ATT >Mail/draft.new
		$(for a; do echo "$a"; done)
		ATT
		mv Mail/draft.new Mail/draft
		cat "$W/body" >>Mail/draft
	}
	nmh_draft 'Plan for Friday'
	send -draft
	take nmh-plain
	bob_mbox "$(msgid "$HERE/nmh-plain.eml")" "$W/bob.mbox"
	inc -file "$W/bob.mbox" -truncate +inbox >/dev/null
	rm -f Mail/draft
	repl -nocc all -nowhatnowproc +inbox last
	printf 'yes, Friday works.\n\nAlice\n' >>Mail/draft
	send -draft
	take nmh-reply
	nmh_draft 'The secret plan' "$D/Secret Plan.pdf" "$D/Überweisung März.pdf"
	send -draft
	take nmh-attach
	unset MH MHMTSCONF
}

# git send-email: a two-patch series with a cover letter, threaded.
fx_git()
{
	mkdir -p src/frobd
	(
		cd src/frobd
		git init -q -b main
		git config user.name Alice
		git config user.email alice@alice.i2p
		printf 'frobd\n=====\n\nA daemon that frobs.\n' >README
		git add README
		git commit -q -m 'Initial import'
		printf '\nUsage: frobd [-v]\n' >>README
		git commit -q -a -m 'README: document usage'
		printf 'Run it from cron.\n' >>README
		git commit -q -a -m 'README: mention cron' \
		    -m 'Frobbing once an hour is enough for most sites.'
		git format-patch -q --cover-letter -o out HEAD~2
		sed -i -e 's/\*\*\* SUBJECT HERE \*\*\*/README updates/' \
		    -e 's/\*\*\* BLURB HERE \*\*\*/Two small README fixes./' \
		    out/0000-cover-letter.patch
		git send-email --quiet --confirm=never --no-annotate \
		    --sendmail-cmd="$CAPTURE" --from='Alice <alice@alice.i2p>' \
		    --to=bob@bob.i2p --thread --no-chain-reply-to \
		    out/*.patch >/dev/null
	)
	take git-send-email-cover git-send-email-patch1 git-send-email-patch2
}

# alpine: driven by keystrokes in a detached tmux session.
tm() { tmux -L nymfx "$@"; }
# twait TEXT: wait until TEXT is on the screen
twait()
{
	i=0
	until tm capture-pane -p | grep -qF -- "$1"; do
		i=$((i + 1))
		test $i -lt 100 || { tm capture-pane -p >&2; echo "no '$1'" >&2; exit 1; }
		sleep 0.1
	done
}
# alpine_rc: the pinerc, an inbox and the sent-mail folder (alpine asks
# before it creates one)
alpine_rc()
{
	mkdir -p mail
	test -e mail/sent-mail || : >mail/sent-mail
	cat >"$W/pinerc" <<RC
personal-name=Alice
user-domain=alice.i2p
sendmail-path=$CAPTURE
inbox-path=$W/alpine-inbox
RC
	test -e "$W/alpine-inbox" || : >"$W/alpine-inbox"
}
fx_alpine()
{
	alpine_rc
	: >"$W/alpine-inbox"
	set -- alpine -p "$W/pinerc" -P /dev/null
	tm new-session -d -x 100 -y 30 "$* bob@bob.i2p"
	twait 'COMPOSE MESSAGE'
	tm send-keys Down Down
	tm send-keys -l 'Plan for Friday'
	tm send-keys Down
	for l in 'Hi Bob,' '' 'the plan is ready. See you on Friday.' '' Alice; do
		tm send-keys -l "$l"
		tm send-keys Enter
	done
	tm send-keys C-x
	twait 'Send message?'
	tm send-keys y
	while tm has-session 2>/dev/null; do sleep 0.1; done
	take alpine-plain

	bob_mbox "$(msgid "$HERE/alpine-plain.eml")" "$W/alpine-inbox"
	tm new-session -d -x 100 -y 30 "$* -i"
	twait 'Re: Plan for Friday'
	tm send-keys r
	twait 'Include original message'
	tm send-keys y
	twait 'COMPOSE MESSAGE REPLY'
	sleep 0.5
	for l in 'yes, Friday works.' '' Alice; do
		tm send-keys -l "$l"
		tm send-keys Enter
	done
	tm send-keys C-x
	twait 'Send message?'
	tm send-keys y
	until test -s "$W/spool/1.eml"; do sleep 0.1; done
	sleep 1
	tm send-keys q
	twait 'Really quit'
	tm send-keys y
	while tm has-session 2>/dev/null; do sleep 0.1; done
	take alpine-reply

	fx_alpine_attach
}

# alpine's attachment message (sh make-fixtures.sh alpine_attach tokens
# makes only this one): the first file typed on the Attchmnt line, the
# second through ^J (Attach), which asks for the file and a comment (left
# empty, as the first one's is); the cursor stays on the Subject line.
fx_alpine_attach()
{
	alpine_rc
	tm new-session -d -x 100 -y 30 "alpine -p $W/pinerc -P /dev/null bob@bob.i2p"
	twait 'COMPOSE MESSAGE'
	tm send-keys Down
	tm send-keys -l "$D/Secret Plan.pdf"
	tm send-keys Enter
	twait 'attached as type'
	tm send-keys C-j
	twait 'File to attach:'
	tm send-keys -l "$D/Überweisung März.pdf"
	tm send-keys Enter
	twait 'Attachment comment:'
	tm send-keys Enter
	twait "2. \"$D/Überweisung März.pdf\" (218 B)"
	tm send-keys -l 'The secret plan'
	tm send-keys Down
	for l in 'Hi Bob,' '' 'the plan is ready. See you on Friday.' '' Alice; do
		tm send-keys -l "$l"
		tm send-keys Enter
	done
	tm send-keys C-x
	twait 'Send message?'
	tm send-keys y
	while tm has-session 2>/dev/null; do sleep 0.1; done
	take alpine-attach
}

# aerc: keystrokes in tmux; the "editor" appends $W/edbody to the draft,
# headers are set with :header in the review screen.
fx_aerc()
{
	mkdir -p .config/aerc
	for f in INBOX Sent; do
		mkdir -p Maildir/$f/cur Maildir/$f/new Maildir/$f/tmp
	done
	cat >.config/aerc/accounts.conf <<ACC
[alice]
source   = maildir://~/Maildir
outgoing = $CAPTURE
default  = INBOX
from     = Alice <alice@alice.i2p>
copy-to  = Sent
ACC
	chmod 600 .config/aerc/accounts.conf
	printf '#!/bin/sh\ncat "%s" >>"$1"\n' "$W/edbody" >"$W/ed.sh"
	chmod +x "$W/ed.sh"
	aerc_send()
	{
		until test -s "$W/spool/1.eml"; do sleep 0.1; done
		sleep 0.5
	}
	cmd()
	{
		tm send-keys -l "$1"
		tm send-keys Enter
		sleep 0.3
	}
	cp "$W/body" "$W/edbody"
	tm new-session -d -x 120 -y 35 "EDITOR='$W/ed.sh' aerc"
	twait INBOX
	cmd ':compose'
	twait 'Send this email?'
	cmd ':header To bob@bob.i2p'
	cmd ':header -f Subject "Plan for Friday"'
	tm send-keys y
	aerc_send
	take aerc-plain
	cmd ':compose'
	twait 'Send this email?'
	cmd ':header To bob@bob.i2p'
	cmd ':header -f Subject "The secret plan"'
	cmd ":attach $D/Secret\\ Plan.pdf"
	cmd ":attach $D/Überweisung\\ März.pdf"
	twait 'März.pdf'
	tm send-keys y
	aerc_send
	take aerc-attach
	cmd ':quit'
	while tm has-session 2>/dev/null; do sleep 0.1; done

	bob_mbox "$(msgid "$HERE/aerc-plain.eml")" "$W/bob.mbox"
	sed 1d "$W/bob.mbox" >Maildir/INBOX/cur/1795420800.1.bob:2,S
	printf 'yes, Friday works.\n\nAlice\n' >"$W/edbody"
	tm new-session -d -x 120 -y 35 "EDITOR='$W/ed.sh' aerc"
	twait 'Re: Plan for Friday'
	cmd ':reply -q'
	twait 'Send this email?'
	tm send-keys y
	aerc_send
	take aerc-reply
	cmd ':quit'
	while tm has-session 2>/dev/null; do sleep 0.1; done
}

# mta-chain-exim: mutt-plain.eml through three real Exim 4 hops (Debian's
# exim4 with private configurations): local submission on the laptop,
# authenticated submission to a LAN smarthost, relay to an outer relay.
# -oMa/-oMs/-oMr/-oMai make Exim record the SMTP client it would have seen.
fx_mta()
{
	chmod 711 "$W"
	mkdir -p "$W/exim/out"
	chmod 1777 "$W/exim/out"
	hop()
	{
		host=$1
		shift
		rm -rf "$W/exim/spool" "$W/exim/out/mbox"
		mkdir -p "$W/exim/spool"
		cat >"$W/exim/conf" <<CONF
spool_directory = $W/exim/spool
log_file_path = $W/exim/%slog
primary_hostname = $host
timezone = Europe/Berlin
exim_user = root
exim_group = root
trusted_users = root
begin routers
all:
  driver = accept
  transport = file
begin transports
file:
  driver = appendfile
  file = $W/exim/out/mbox
  user = mail
  mode = 0666
  delivery_date_add = false
  envelope_to_add = false
  return_path_add = false
  message_prefix =
  message_suffix =
  check_string =
  escape_string =
begin retry
begin rewrite
CONF
		exim4 -C "$W/exim/conf" -odi "$@" -f alice@alice.i2p bob@bob.i2p \
		    <"$W/exim/in"
		mv "$W/exim/out/mbox" "$W/exim/in"
	}
	cp "$HERE/mutt-plain.eml" "$W/exim/in"
	hop alice-laptop.home.lan
	hop mail.home.lan -oMa 192.168.1.23 -oMs alice-laptop.home.lan \
	    -oMr esmtpsa -oMai alice
	hop relay.example.net -oMa 10.8.0.14 -oMs mail.home.lan -oMr esmtps \
	    -oMt ''
	cp "$W/exim/in" "$HERE/mta-chain-exim.eml"
}

# The "utf8" variant of each client: the same logical message with a
# non-ASCII sender and recipient name, a UTF-8 Subject and a UTF-8 text
# with one line longer than 78 columns, encoded the way the client does
# it.  Each fx_CLIENT_utf8 stands alone (sh make-fixtures.sh mutt_utf8
# tokens); fx_utf8 makes them all.
U8NAME='Zoë Nym'
U8TO='Bjørn Nym <bob@bob.i2p>'
U8SUBJ='Grüße aus Köln — Plan'
U8LONG='This line is long on purpose: it runs well past the seventy-eighth column, with ä, ö, ü, ß and € in it, so that each client decides how to write it.'
printf 'Hi Bjørn,\n\nthe plan is ready. Grüße aus Köln — see you on Friday at the café.\n%s\n\nZoë\n' "$U8LONG" >"$W/body8"

fx_mutt_like_utf8()
{
	prog=$1
	sed "s/^set realname=.*/set realname=\"$U8NAME\"/" >"$W/$prog-utf8.rc" <<RC
set sendmail="$CAPTURE"
set realname="Alice"
set from="alice@alice.i2p"
set use_from=yes
set hostname="alice-laptop.home.lan"
set user_agent=yes
set charset="utf-8"
set send_charset="us-ascii:utf-8"
set folder="~/Mail"
set record=""
RC
	$prog -n -F "$W/$prog-utf8.rc" -s "$U8SUBJ" -- "$U8TO" <"$W/body8"
	take $prog-utf8
}
fx_mutt_utf8() { fx_mutt_like_utf8 mutt; }
fx_neomutt_utf8() { fx_mutt_like_utf8 neomutt; }

fx_snail_utf8()
{
	# fullnames: without it s-nail drops the recipient's name
	s-nail -# -: / -S v15-compat -S mta="$CAPTURE" -S sendwait -S fullnames \
	    -S from="$U8NAME <alice@alice.i2p>" -S ttycharset=utf-8 \
	    -s "$U8SUBJ" "$U8TO" <"$W/body8"
	take s-nail-utf8
}

fx_mailutils_utf8()
{
	printf 'set sendmail="prog://%s"\n' "$CAPTURE" >"$W/mailutils.rc"
	# mail parses a non-ASCII name only when it is quoted
	MAILRC="$W/mailutils.rc" mail -a "From: $U8NAME <alice@alice.i2p>" \
	    -s "$U8SUBJ" "\"${U8TO% <*}\" <${U8TO#*<}" <"$W/body8"
	take mailutils-utf8
}

fx_nmh_utf8()
{
	export MH="$W/mh_profile" MHMTSCONF="$W/mts.conf" PATH="/usr/bin/mh:$PATH"
	printf 'Path: Mail\nLocal-Mailbox: %s <alice@alice.i2p>\nsend: -msgid\n' "$U8NAME" >"$MH"
	printf 'mts: sendmail/pipe\nsendmail: %s\n' "$CAPTURE" >"$MHMTSCONF"
	mkdir -p Mail/inbox
	rm -f Mail/draft
	comp -nowhatnowproc
	awk -v to="$U8TO" -v subj="$U8SUBJ" '
	/^To:/ { print "To: " to; next }
	/^Subject:/ { print "Subject: " subj; next }
	{ print }' Mail/draft >Mail/draft.new
	mv Mail/draft.new Mail/draft
	cat "$W/body8" >>Mail/draft
	send -draft
	take nmh-utf8
	unset MH MHMTSCONF
}

# alpine: the recipient on the command line, name and all; the composer
# wraps the long line as it is typed, as it does for a person typing.
fx_alpine_utf8()
{
	mkdir -p mail
	: >mail/sent-mail
	cat >"$W/pinerc-utf8" <<RC
personal-name=$U8NAME
user-domain=alice.i2p
sendmail-path=$CAPTURE
inbox-path=$W/alpine-inbox
RC
	: >"$W/alpine-inbox"
	tm new-session -d -x 100 -y 30 "alpine -p '$W/pinerc-utf8' -P /dev/null '$U8TO'"
	twait 'COMPOSE MESSAGE'
	tm send-keys Down Down
	tm send-keys -l "$U8SUBJ"
	tm send-keys Down
	while IFS= read -r l; do
		test -z "$l" || tm send-keys -l "$l"
		tm send-keys Enter
	done <"$W/body8"
	tm send-keys C-x
	twait 'Send message?'
	tm send-keys y
	while tm has-session 2>/dev/null; do sleep 0.1; done
	take alpine-utf8
}

fx_aerc_utf8()
{
	mkdir -p .config/aerc
	for f in INBOX Sent; do
		mkdir -p Maildir/$f/cur Maildir/$f/new Maildir/$f/tmp
	done
	cat >.config/aerc/accounts.conf <<ACC
[alice]
source   = maildir://~/Maildir
outgoing = $CAPTURE
default  = INBOX
from     = $U8NAME <alice@alice.i2p>
copy-to  = Sent
ACC
	chmod 600 .config/aerc/accounts.conf
	printf '#!/bin/sh\ncat "%s" >>"$1"\n' "$W/edbody" >"$W/ed.sh"
	chmod +x "$W/ed.sh"
	cp "$W/body8" "$W/edbody"
	tm new-session -d -x 120 -y 35 "EDITOR='$W/ed.sh' aerc"
	twait INBOX
	tm send-keys -l ':compose'
	tm send-keys Enter
	twait 'Send this email?'
	for c in ":header -f To \"$U8TO\"" ":header -f Subject \"$U8SUBJ\""; do
		tm send-keys -l "$c"
		tm send-keys Enter
		sleep 0.3
	done
	tm send-keys y
	until test -s "$W/spool/1.eml"; do sleep 0.1; done
	sleep 0.5
	take aerc-utf8
	tm send-keys -l ':quit'
	tm send-keys Enter
	while tm has-session 2>/dev/null; do sleep 0.1; done
}

fx_utf8()
{
	for c in mutt neomutt snail mailutils nmh alpine aerc; do
		fx_${c}_utf8
	done
}

# NAME.leak and NAME.keep for every NAME.eml here, hand-written ones too:
# the tokens that vary from run to run (Message-ID and Content-ID left
# parts, own IDs in References, boundaries, the zone in Date, MTA queue
# ids) are read from the message; the fixed ones per client are below.
# Only tokens that occur in a header section of the message are listed.
fx_tokens()
{
	python3 - "$HERE" <<'PY'
import email, email.policy, glob, os, re, sys

here = sys.argv[1]
HOST = ['alice-laptop', 'home.lan', '/home/alice']
STATIC = {
    'mutt': ['Mutt/2.2.12'],
    'neomutt': ['NeoMutt/20220429'],
    's-nail': ['s-nail v14.9.24'],
    'mailutils': ['GNU Mailutils 3.15', 'Your message of'],
    'nmh': ['=_aaaaaaaaaa0', 'message dated'],
    'git-send-email': ['git-send-email 2.39.5'],
    'alpine': ['(CET)', 'ISO-8859-15'],
    'aerc': ['aerc 0.14.0'],
    'thunderbird': ['Thunderbird', 'de-DE', 'X11; Linux x86_64', 'rv:115.0',
                    'Gecko/20100101'],
    'claws': ['Claws Mail 4.1.1', 'GTK 3.24.38', 'x86_64-pc-linux-gnu'],
    'mta-chain-exim': ['Mutt/2.2.12', 'Exim 4.96', '192.168.1.23', '10.8.0.14',
                       'relay.example.net', 'ident=alice', 'from alice by'],
    'mta-chain-postfix': ['NeoMutt/20220429', '(Postfix', '192.168.1.2',
                          'fd00:1234:5678::23', 'relay.example.net',
                          'userid 1000', 'Authenticated sender: alice',
                          '(CET)', 'TLS_AES_256_GCM_SHA384'],
}
FOREIGN = 'CA+xyz@mail.gmail.com'

for path in sorted(glob.glob(os.path.join(here, '*.eml'))):
    name = os.path.basename(path)[:-4]
    client = next(c for c in sorted(STATIC, key=len, reverse=True)
                  if name.startswith(c))
    raw = open(path, 'rb').read()
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    leak = HOST + STATIC[client]
    keep = []
    hdr = ''
    for part in msg.walk():
        for k, v in part.items():
            hdr += '%s: %s\n' % (k, v)
            k = k.lower()
            v = str(v)
            if k in ('message-id', 'content-id'):
                leak += [m.split('@')[0] for m in re.findall(r'<([^>]*)>', v)]
            elif k in ('references', 'in-reply-to'):
                leak += [m.split('@')[0] for m in re.findall(r'<([^>]*)>', v)
                         if m != FOREIGN]
            elif k == 'date':
                leak += re.findall(r'[+-]\d{4}', v)
            elif k == 'received':
                leak += re.findall(r'\bid ([0-9A-Za-z-]+)', v)
        b = part.get_param('boundary')
        if b:
            leak.append(str(b))
    frm = str(msg.get('From', ''))
    if 'alice@alice.i2p' in frm:
        keep.append('alice@alice.i2p')
    keep.append('bob@bob.i2p')
    # a Subject kept only as the client wrote it: encoded words are
    # written anew, and t/0107 compares the decoded text instead
    subj = str(msg['Subject'])
    if subj.isascii() and '=?' not in subj:
        keep.append(subj)
    if b'Secret Plan.pdf' in raw:
        keep.append('Secret Plan.pdf')
    if FOREIGN.encode() in raw:
        keep.append(FOREIGN)
    seen = set()
    with open(os.path.join(here, name + '.leak'), 'w') as f:
        for t in leak:
            if t and t not in seen and t in hdr:
                seen.add(t)
                f.write(t + '\n')
    with open(os.path.join(here, name + '.keep'), 'w') as f:
        f.write(''.join(t + '\n' for t in keep))
PY
}

# mta-chain-exim reads mutt-plain.eml, so mutt comes first.
for c in ${*:-mutt neomutt snail mailutils nmh git alpine aerc mta utf8 tokens}; do
	fx_$c
done
