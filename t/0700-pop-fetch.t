#!/bin/sh
# pop-fetch against a real dovecot POP3 server on loopback: byte-exact
# delivery into a maildir, an mbox and a command, the box emptied or kept
# (-k), refused logins, a server that is down, and the same over the
# fake SAM bridge.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers

# A mailbox of N messages, with what makes POP3 and mbox delivery hard:
# lines starting with dots, From_ lines, a bare CR, a long line.
mkmsgs() {
	rm -rf "$1" && mkdir "$1" &&
	i=1 && while test $i -le $2; do
		{
			printf 'From: a@example.org\nTo: b@example.org\n'
			printf 'Subject: message %d\n\n' $i
			printf '.starts with a dot\n..two dots\n.\nFrom here\n'
			printf '>From quoted\nbare\rcr\n'
			test $((i % 5)) -ne 0 || head -c 3000 /dev/zero | tr '\0' x
			printf '\nend %d\n' $i
		} >"$1/$i" || return 1
		i=$((i + 1))
	done
}

# sums DIR...: the sorted SHA-256 sums of the files in the directories.
sums() {
	for d in "$@"; do
		for f in "$d"/*; do test ! -f "$f" || sha256sum <"$f"; done
	done | sort
}

labmail() {
	echo "$(cat lab/dir)/mail/$1/Maildir"
}

pf() {
	test_timeout 30 pop-fetch -H 127.0.0.1:"$(cat lab/port)" -w $(test_scaled 5) "$@"
}

printf 'secret\n' >pw && chmod 600 pw

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1'

test_expect_success 'setup: dovecot with two users' '
	dovecot-lab start lab alice:secret bob:other &&
	test -s lab/port && test -s lab/pid &&
	mkmsgs orig 12 && dovecot-lab put lab alice orig/*
'

test_expect_success 'fetch into a maildir: byte-exact, the box emptied' '
	pf -u alice -P pw -d md 2>err &&
	test_must_be_empty err &&
	test $(ls md/new | wc -l) = 12 &&
	sums orig >want && sums md/new >got && test_cmp want got &&
	test $(ls "$(labmail alice)/new" "$(labmail alice)/cur" | grep -c .) = 2
'

test_expect_success 'the state file is private and empty after emptying' '
	f=$HOME/.config/nymbox/pop/alice@127.0.0.1:$(cat lab/port).uidl &&
	test -f "$f" && test_must_be_empty "$f" &&
	test "$(stat -c %a "$f")" = 600 &&
	test "$(stat -c %a "$HOME/.config/nymbox/pop")" = 700
'

test_expect_success 'an empty box: nothing to do, exit 0' '
	pf -u alice -P pw -d md &&
	test $(ls md/new | wc -l) = 12
'

test_expect_success '-k keeps the mail; a second run fetches nothing new' '
	dovecot-lab put lab alice orig/1 orig/2 orig/3 &&
	pf -k -u alice -P pw -d mk &&
	test $(ls mk/new | wc -l) = 3 &&
	test $(ls "$(labmail alice)/cur" | wc -l) = 3 &&
	pf -k -u alice -P pw -d mk &&
	test $(ls mk/new | wc -l) = 3 &&
	dovecot-lab put lab alice orig/4 &&
	pf -k -u alice -P pw -d mk &&
	test $(ls mk/new | wc -l) = 4
'

test_expect_success 'without -k, what -k delivered is deleted, not redelivered' '
	pf -u alice -P pw -d mk &&
	test $(ls mk/new | wc -l) = 4 &&
	test $(ls "$(labmail alice)/cur" "$(labmail alice)/new" | grep -c .) = 2
'

test_expect_success 'the password from a file descriptor' '
	dovecot-lab put lab bob orig/5 &&
	pf -u bob -F 3 -d mb 3<<-EOF &&
	other
	EOF
	test $(ls mb/new | wc -l) = 1
'

test_expect_success 'a wrong password: 77, and the password is not shown' '
	printf "wrong\n" >bad && chmod 600 bad &&
	test_expect_code 77 pf -u alice -P bad -d md 2>err &&
	grep "^pop-fetch: unable to log in as alice at 127.0.0.1" err &&
	test_grep -v wrong err
'

test_expect_success 'a password file others can read: 78' '
	chmod 644 bad &&
	test_expect_code 78 pf -u alice -P bad -d md 2>err &&
	grep "unable to read password file bad: readable by others: chmod 600 bad\$" err
'

test_expect_success 'no password and no terminal: 78' '
	test_expect_code 78 setsid -w pop-fetch -H 127.0.0.1:1 -u alice -d md \
	    </dev/null
'

test_expect_success 'usage errors: 64' '
	test_expect_code 64 pop-fetch -u alice -P pw -d md &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -P pw -d md &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u a -P pw &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u a -P pw -d md -m mb &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -s x.i2p -u a -P pw -d md &&
	test_expect_code 64 pop-fetch -H nohostport -u a -P pw -d md 2>err &&
	grep "expected host:port" err
'

test_expect_success 'the server down: 75' '
	port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])") &&
	test_expect_code 75 test_timeout 20 pop-fetch -H 127.0.0.1:$port \
	    -u alice -P pw -d md 2>err &&
	grep "unable to connect to 127.0.0.1:$port" err
'

test_expect_success 'mbox: From_ lines added and quoted (mboxrd), locked, synced' '
	dovecot-lab put lab alice orig/1 orig/2 &&
	pf -u alice -P pw -m mbox &&
	test $(grep -c "^From MAILER-DAEMON " mbox) = 2 &&
	test $(grep -c "^>From here" mbox) = 2 &&
	test $(grep -c "^>>From quoted" mbox) = 2 &&
	test "$(stat -c %a mbox)" = 600 &&
	{ cat orig/1 && echo; } >want &&
	awk "/^From MAILER-DAEMON /{n++; next} n==1" mbox |
	    sed -e "s/^>\(>*From \)/\1/" >got &&
	test_cmp want got &&
	grep -c "^end " mbox >ends && test "$(cat ends)" = 2
'

test_expect_success 'a command per message: 0 takes it' '
	dovecot-lab put lab alice orig/6 orig/7 &&
	write_script deliver <<-\EOF &&
	n=$(ls cmdout 2>/dev/null | wc -l)
	mkdir -p cmdout && cat >cmdout/$n
	EOF
	pf -u alice -P pw -p ./deliver &&
	{ sha256sum <orig/6; sha256sum <orig/7; } | sort >want &&
	sums cmdout >got && test_cmp want got
'

test_expect_success 'a command exiting 75 leaves the message on the server' '
	dovecot-lab put lab alice orig/8 &&
	test_expect_code 75 pf -u alice -P pw -p "cat >/dev/null; exit 75" &&
	test $(ls "$(labmail alice)/cur" "$(labmail alice)/new" | grep -c .) = 3 &&
	test_expect_code 75 pf -u alice -P pw -p "exit 3" 2>err &&
	grep "exited with 3" err &&
	pf -u alice -P pw -d md2 &&
	test $(ls md2/new | wc -l) = 1 &&
	test_cmp orig/8 md2/new/*
'

test_expect_success 'a command that reads nothing but exits 0 accepts' '
	dovecot-lab put lab alice orig/12 &&
	pf -u alice -P pw -p "exit 0" &&
	test $(ls "$(labmail alice)/cur" "$(labmail alice)/new" | grep -c .) = 2
'

test_atexit 'test_stop_holders "$HOME/.config/nymbox/client"'
test_expect_success 'over SAM: the login s client key, a stream to the server' '
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) --route pop.i2p=$(cat lab/port) </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	test_when_finished "kill \$(cat sam.pid)" &&
	dovecot-lab put lab alice orig/9 orig/10 &&
	test_timeout 30 pop-fetch -s pop.i2p -S 127.0.0.1:$(cat sam.port) -w $(test_scaled 5) \
	    -u alice -P pw -d ms &&
	sums ms/new >got &&
	{ sha256sum <orig/9; sha256sum <orig/10; } | sort >want &&
	test_cmp want got &&
	! grep "SESSION CREATE.*DESTINATION=TRANSIENT" sam.log &&
	test "$(grep -c " CREATED " sam.log)" = 1 &&
	test "$(stat -c %a "$HOME/.config/nymbox/client/alice.key")" = 600 &&
	grep "STREAM CONNECT.*DESTINATION=pop.i2p" sam.log
'

test_expect_success 'over SAM, the bridge down: 75' '
	test_stop_holders "$HOME/.config/nymbox/client" &&
	test_expect_code 75 test_timeout 20 pop-fetch -s pop.i2p -S 127.0.0.1:1 \
	    -w 2 -u alice -P pw -d ms
'

test_expect_success 'teardown' '
	dovecot-lab stop lab && test_path_is_missing lab/pid
'

test_done
