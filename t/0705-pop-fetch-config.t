#!/bin/sh
# pop-fetch's configuration keys (one for every option), the groups of
# keys the command line overrides, bad values (78, where the same on the
# command line is 64), and progress shown on a terminal only.
cd "$(dirname "$0")" && . ./lib.sh

command -v pop-fetch >/dev/null || test_skip_all "pop-fetch is not built"
test -x /usr/sbin/dovecot || test_skip_all "dovecot is missing"
command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
ONION=pop3abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrsd.onion

mkdir msgs && for i in 1 2 3 4 5 6 7 8 9; do
	printf 'Subject: %d\n\nbody %d\n' $i $i >msgs/$i
done

labcount() {
	ls "$(cat lab/dir)/mail/alice/Maildir/new" \
	    "$(cat lab/dir)/mail/alice/Maildir/cur" | grep -c '^[0-9]'
}

printf 'secret\n' >"$HOME/pop.pass" && chmod 600 "$HOME/pop.pass"
NYMBOX_CONF=$TRASH/conf
export NYMBOX_CONF

# conf KEY=VALUE...: write the configuration file.
conf() {
	: >"$NYMBOX_CONF" &&
	for kv in "$@"; do
		printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$NYMBOX_CONF"
	done
}

# Stop the servers whatever happens to the script.
test_atexit 'dovecot-lab stop "$TRASH/lab" >/dev/null 2>&1
test_stop_holders "$HOME/.config/nymbox/client"
for p in "$TRASH"/*.pid; do test ! -f "$p" || kill $(cat "$p") 2>/dev/null || :; done'

test_expect_success 'setup: dovecot' '
	dovecot-lab start lab alice:secret
'

test_expect_success 'everything from the configuration: no option at all' '
	conf "pop-host=127.0.0.1:$(cat lab/port)" pop-user=alice \
	    "pop-password-file=~/pop.pass" "pop-maildir=~/Maildir" \
	    pop-timeout=5 pop-keep=yes &&
	dovecot-lab put lab alice msgs/1 msgs/2 &&
	test_timeout 30 pop-fetch 2>err &&
	test_must_be_empty err &&
	test $(ls "$HOME/Maildir/new" | wc -l) = 2 &&
	test "$(labcount)" = 2
'

test_expect_success 'an option overrides its key: -k off is pop-keep = no' '
	conf "pop-host=127.0.0.1:$(cat lab/port)" pop-user=alice \
	    "pop-password-file=~/pop.pass" "pop-maildir=~/Maildir" \
	    pop-keep=no &&
	test_timeout 30 pop-fetch &&
	test "$(labcount)" = 0 &&
	test $(ls "$HOME/Maildir/new" | wc -l) = 2
'

test_expect_success 'a delivery option replaces the delivery keys' '
	dovecot-lab put lab alice msgs/3 &&
	test_timeout 30 pop-fetch -m mb &&
	grep -c "^From MAILER-DAEMON" mb >n && test "$(cat n)" = 1 &&
	test $(ls "$HOME/Maildir/new" | wc -l) = 2
'

test_expect_success 'pop-mbox, pop-command, pop-password-fd, pop-user' '
	conf "pop-host=127.0.0.1:$(cat lab/port)" pop-user=alice \
	    pop-password-fd=3 "pop-mbox=$TRASH/mb2" &&
	dovecot-lab put lab alice msgs/4 &&
	test_timeout 30 pop-fetch 3<"$HOME/pop.pass" &&
	grep -x "body 4" mb2 &&
	conf "pop-host=127.0.0.1:$(cat lab/port)" pop-user=alice \
	    "pop-password-file=~/pop.pass" "pop-command=cat >>$TRASH/piped" &&
	dovecot-lab put lab alice msgs/5 &&
	test_timeout 30 pop-fetch &&
	grep -x "body 5" piped
'

test_expect_success 'a server option replaces the server keys; -P the password keys' '
	conf "pop-host=127.0.0.1:1" "pop-password-file=/nonexistent" \
	    pop-user=alice "pop-maildir=$TRASH/md" &&
	dovecot-lab put lab alice msgs/6 &&
	test_timeout 30 pop-fetch -H 127.0.0.1:$(cat lab/port) \
	    -P "$HOME/pop.pass" &&
	test $(ls md/new | wc -l) = 1
'

test_expect_success 'pop-onion, tor-socks and pop-any-name' '
	{ "$H/fake-socks" --port-file px.port --pid-file px.pid --log px.log \
	    --route $ONION=$(cat lab/port) \
	    --route pop.example=$(cat lab/port) </dev/null & } &&
	test_wait_for px.port && test_wait_for px.pid &&
	conf "pop-onion=$ONION" "tor-socks=127.0.0.1:$(cat px.port)" \
	    pop-user=alice "pop-password-file=~/pop.pass" \
	    "pop-maildir=$TRASH/mo" pop-timeout=5 &&
	dovecot-lab put lab alice msgs/7 &&
	test_timeout 30 pop-fetch &&
	grep "NAME=$ONION PORT=110" px.log &&
	test $(ls mo/new | wc -l) = 1 &&
	conf "pop-onion=pop.example:1110" "tor-socks=127.0.0.1:$(cat px.port)" \
	    pop-user=alice "pop-password-file=~/pop.pass" \
	    "pop-maildir=$TRASH/mo" pop-any-name=yes &&
	dovecot-lab put lab alice msgs/8 &&
	test_timeout 30 pop-fetch &&
	grep "NAME=pop.example PORT=1110" px.log &&
	test $(ls mo/new | wc -l) = 2
'

test_expect_success 'pop-destination and sam-host, sam-port' '
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid --log sam.log \
	    --max-seconds $(test_scaled 300) --route pop.i2p=$(cat lab/port) </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid &&
	conf pop-destination=pop.i2p sam-host=127.0.0.1 \
	    "sam-port=$(cat sam.port)" pop-user=alice \
	    "pop-password-file=~/pop.pass" "pop-maildir=$TRASH/ms" \
	    pop-timeout=5 &&
	dovecot-lab put lab alice msgs/9 &&
	test_timeout 30 pop-fetch &&
	grep "STREAM CONNECT.*DESTINATION=pop.i2p" sam.log &&
	test $(ls ms/new | wc -l) = 1
'

# bad EXIT WORDS KEY=VALUE...: pop-fetch exits EXIT, saying WORDS.
bad() {
	code=$1 words=$2 && shift 2 &&
	conf "$@" &&
	test_expect_code $code pop-fetch 2>err &&
	grep "^pop-fetch: .*$words" err
}

test_expect_success 'bad values in the configuration: 78' '
	base="pop-user=alice pop-password-file=$HOME/pop.pass pop-maildir=$TRASH/md" &&
	bad 78 "pop-host and pop-onion are both set" \
	    pop-host=127.0.0.1:1 pop-onion=$ONION $base &&
	bad 78 "pop-maildir and pop-command are both set" \
	    pop-host=127.0.0.1:1 $base pop-command=true &&
	bad 78 "unable to use pop-keep = maybe: expected yes or no" \
	    pop-host=127.0.0.1:1 pop-keep=maybe $base &&
	bad 78 "unable to use pop-timeout = 0 in .*: expected 1 to 3600" \
	    pop-host=127.0.0.1:1 pop-timeout=0 $base &&
	bad 78 "unable to use pop-max-size = 1X in .*: expected 1 to" \
	    pop-host=127.0.0.1:1 pop-max-size=1X $base &&
	bad 78 "unable to use server nonsense: expected host:port" \
	    pop-host=nonsense $base &&
	bad 78 "unable to use server x:99999: expected a port" \
	    pop-host=x:99999 $base &&
	bad 78 "unable to use onion address abc.onion: expected 56 base32" \
	    pop-onion=abc.onion $base &&
	bad 78 "unable to use the Tor proxy of TOR_SOCKS or tor-socks" \
	    pop-onion=$ONION tor-socks=9050 $base
'

test_expect_success 'the same mistakes on the command line: 64' '
	conf &&
	test_expect_code 64 pop-fetch -H nonsense -u alice -P "$HOME/pop.pass" \
	    -d md &&
	test_expect_code 64 pop-fetch -o abc.onion -u alice \
	    -P "$HOME/pop.pass" -d md &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -o $ONION -u alice \
	    -P "$HOME/pop.pass" -d md &&
	test_expect_code 64 pop-fetch -u alice -P "$HOME/pop.pass" -d md &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -u alice \
	    -P "$HOME/pop.pass" &&
	test_expect_code 64 pop-fetch -H 127.0.0.1:1 -P "$HOME/pop.pass" -d md
'

test_expect_success 'progress on a terminal, nothing when stderr is not one' '
	command -v script >/dev/null || { echo "no script(1): skipped"; return 0; }
	conf &&
	dovecot-lab put lab alice msgs/1 msgs/2 msgs/3 &&
	script -qec "pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) -u alice -P $HOME/pop.pass -d $TRASH/mt" typescript >/dev/null &&
	tr "\r" "\n" <typescript >progress &&
	grep -x "pop-fetch: 1/3" progress &&
	grep -x "pop-fetch: 3/3" progress &&
	dovecot-lab put lab alice msgs/4 &&
	pop-fetch -w $(test_scaled 5) -H 127.0.0.1:$(cat lab/port) -u alice \
	    -P "$HOME/pop.pass" -d mt 2>err &&
	test_must_be_empty err
'

test_expect_success 'teardown' '
	dovecot-lab stop lab &&
	for p in *.pid; do kill $(cat $p) || return 1; done
'

test_done
