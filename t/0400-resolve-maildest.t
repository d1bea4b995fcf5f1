#!/bin/sh
# resolve-maildest against the fake SAM bridge and a local web server
# standing in for an eepsite: every lookup method, the cache with the
# site's max-age, stale entries while a site is down, relays, and the
# exit codes for each failure.
cd "$(dirname "$0")" && . ./lib.sh

command -v python3 >/dev/null || test_skip_all "python3 is missing"
H=$TOP/t/helpers
B32=abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.b32.i2p
ONION=pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion
NOW=1800000000
export NYMBOX_NOW=$NOW

# site NAME [httpd options]: a web server for NAME serving www-NAME/.
site() {
	mkdir -p "www-$1/.well-known" &&
	rm -f "$1.port" &&
	n=$1 && shift &&
	{ "$H/httpd" --port-file "$n.port" --dir "www-$n" --max-seconds $(test_scaled 300) "$@" &
	  echo $! >"$n.pid"; } &&
	test_wait_for "$n.port"
}

# sam [fake-sam options]: the bridge, its port in sam.port.
sam() {
	rm -f sam.port sam.pid sam.log &&
	{ "$H/fake-sam" --port-file sam.port --pid-file sam.pid \
	    --log sam.log --max-seconds $(test_scaled 300) "$@" </dev/null & } &&
	test_wait_for sam.port && test_wait_for sam.pid
}

rmd() {
	test_timeout 20 resolve-maildest -S 127.0.0.1:"$(cat sam.port)" -w $(test_scaled 5) "$@"
}

# A well-formed destination (EdDSA certificate), not a real key.
fakedest() {
	python3 -c "import base64, os, sys
sys.stdout.write(base64.b64encode(os.urandom(384) + bytes([5,0,4,0,7,0,0]), b\"-~\").decode())"
}

# Stop the scripted servers whatever happens to the script.
test_atexit 'for p in *.pid; do test ! -s "$p" || kill "$(cat "$p")" 2>/dev/null || :; done'

test_expect_success 'setup: eepsites and the bridge' '
	site bob.i2p --header "Cache-Control: max-age=600" &&
	echo "$B32 2525" >www-bob.i2p/.well-known/i2pmail.key &&
	site carol.i2p --status 404 &&
	fakedest >dave.dest &&
	sam --route bob.i2p="$(cat bob.i2p.port)" \
	    --route carol.i2p="$(cat carol.i2p.port)" \
	    --name dave.i2p=dave.dest
'

test_expect_success 'a b32 recipient is used as it is, without the bridge' '
	test_timeout 10 resolve-maildest -S 127.0.0.1:1 "x@$B32" >out &&
	echo "x@$B32 i2p $B32 25 b32 -" >want &&
	test_cmp want out
'

test_expect_success 'an onion recipient goes to Tor' '
	resolve-maildest -S 127.0.0.1:1 "Bob <bob@$ONION>" >out &&
	echo "bob@$ONION tor $ONION 25 onion -" >want &&
	test_cmp want out
'

test_expect_success 'a name: its well-known key, port and max-age' '
	rmd bob@bob.i2p >out &&
	echo "bob@bob.i2p i2p $B32 2525 well-known 2027-01-15T08:10:00Z" >want &&
	test_cmp want out &&
	test "$(stat -c %a "$HOME/.config/nymbox/maildest")" = 700
'

test_expect_success 'a fresh cache entry needs no bridge' '
	test_timeout 10 resolve-maildest -S 127.0.0.1:1 bob@bob.i2p >out &&
	test_cmp want out
'

test_expect_success 'a stale entry is served, with a warning, while the site is down' '
	kill "$(cat bob.i2p.pid)" &&
	NYMBOX_NOW=$((NOW + 601)) rmd bob@bob.i2p >out 2>err &&
	grep "^bob@bob.i2p i2p $B32 2525 stale " out &&
	grep "warning: bob.i2p unreachable" err
'

test_expect_success 'without a cache the same is a temporary failure (75)' '
	test_expect_code 75 rmd -n bob@bob.i2p 2>err &&
	grep "unable to resolve bob@bob.i2p" err
'

test_expect_success 'no i2pmail.key (404): the site itself, from the address book' '
	rmd -n x@carol.i2p >out &&
	grep "^x@carol.i2p i2p [A-Za-z0-9~=-]\{516,\} 25 addressbook 2027-01-16T08:00:00Z\$" out
'

test_expect_success 'an address-book name whose site is down: 75 (it is the mail server too)' '
	test_expect_code 75 rmd -n x@dave.i2p 2>err &&
	grep "unable to reach dave.i2p: CANT_REACH_PEER" err
'

test_expect_success 'service records (proposal 167), used even while the site is down' '
	kill "$(cat sam.pid)" &&
	sam --max-version 3.3 --name frank.i2p=dave.dest \
	    --srv "frank.i2p=10 0 2525 $B32" &&
	rmd -n x@frank.i2p >out &&
	echo "x@frank.i2p i2p $B32 2525 srv 2027-01-16T08:00:00Z" >want &&
	test_cmp want out &&
	grep "NAMING LOOKUP NAME=frank.i2p OPTIONS=true" sam.log
'

test_expect_success 'a bridge below SAM 3.3 is not asked for options' '
	kill "$(cat sam.pid)" &&
	sam --name frank.i2p=dave.dest --srv "frank.i2p=10 0 2525 $B32" &&
	test_expect_code 75 rmd -n x@frank.i2p &&
	grep "NAMING LOOKUP NAME=frank.i2p\$" sam.log &&
	! grep "OPTIONS=true" sam.log
'

test_expect_success 'unknown everywhere: 68, or the relay with a warning' '
	test_expect_code 68 rmd -n x@nowhere.i2p 2>err &&
	grep "unable to find a mail destination for x@nowhere.i2p" err &&
	rmd -n -r smtp.postman.i2p:2525 x@nowhere.i2p >out 2>err &&
	echo "x@nowhere.i2p relay smtp.postman.i2p 2525 relay -" >want &&
	test_cmp want out &&
	grep "warning: nowhere.i2p has no mail destination" err
'

test_expect_success 'a published key that is not a destination is ignored' '
	site eve.i2p && echo "not a key" >www-eve.i2p/.well-known/i2pmail.key &&
	kill "$(cat sam.pid)" &&
	sam --route eve.i2p="$(cat eve.i2p.port)" &&
	rmd -n x@eve.i2p >out &&
	grep "^x@eve.i2p i2p [A-Za-z0-9~=-]\{516,\} 25 addressbook " out
'

test_expect_success 'an Internet domain needs the relay' '
	test_expect_code 68 resolve-maildest -S 127.0.0.1:1 a@example.org &&
	resolve-maildest -r relay.i2p a@example.org >out &&
	grep "^a@example.org relay relay.i2p 25 relay -\$" out
'

test_expect_success 'a SAM bridge that is down: 75' '
	test_expect_code 75 resolve-maildest -n -S 127.0.0.1:1 -w 2 x@dave.i2p 2>err &&
	grep "unable to reach the SAM bridge at 127.0.0.1:1" err
'

test_expect_success 'a bridge that answers garbage: 75, no hang' '
	kill "$(cat sam.pid)" && sam --garbage &&
	test_expect_code 75 rmd -n x@dave.i2p
'

test_expect_success 'a bridge that never answers: 75 within the timeout' '
	kill "$(cat sam.pid)" && sam --silent &&
	test_expect_code 75 test_timeout 20 resolve-maildest -n -w 1 \
	    -S 127.0.0.1:"$(cat sam.port)" x@dave.i2p
'

test_expect_success 'a site that answers a byte a second: 75 within -w, not later' '
	site slow.i2p --trickle 1 &&
	kill "$(cat sam.pid)" && sam --route slow.i2p="$(cat slow.i2p.port)" &&
	t0=$(date +%s) &&
	test_expect_code 75 test_timeout 60 resolve-maildest -n -w 2 \
	    -S 127.0.0.1:"$(cat sam.port)" x@slow.i2p 2>err &&
	test $(( $(date +%s) - t0 )) -le 6 &&
	grep "unable to read from slow.i2p: Connection timed out" err
'

test_expect_success '-b takes domains' '
	resolve-maildest -b -S 127.0.0.1:1 "$B32" >out &&
	echo "$B32 i2p $B32 25 b32 -" >want && test_cmp want out
'

test_expect_success '-t reads the recipients of a message' '
	printf "From: a@a.i2p\nTo: x@$B32\nCc: Y <y@$B32>\nBcc: z@$B32\n\nhi\n" |
	    resolve-maildest -t -S 127.0.0.1:1 >out &&
	test $(wc -l <out) = 3
'

test_expect_success '-t refuses a message mixing onion and I2P recipients (77)' '
	printf "From: a@a.i2p\nTo: x@$B32, y@$ONION\n\nhi\n" |
	    test_expect_code 77 resolve-maildest -t -S 127.0.0.1:1 2>err &&
	grep "mixes onion and non-onion" err
'

test_expect_success 'usage errors are 64' '
	test_expect_code 64 resolve-maildest </dev/null &&
	test_expect_code 64 resolve-maildest -w 0 a@b.i2p &&
	test_expect_code 64 resolve-maildest -t a@b.i2p
'

test_expect_success 'cleanup' '
	kill "$(cat sam.pid)" "$(cat carol.i2p.pid)" "$(cat eve.i2p.pid)" 2>/dev/null;
	true
'

test_done
