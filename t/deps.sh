#!/bin/sh
# deps.sh - make sure the Debian packages nymbox builds and tests with are
# installed.  As root, installs the missing ones with apt-get; otherwise
# prints the command to run and fails.  `make demo` (the demo set) and
# `make check` (the test set) call it first, so both work on a fresh
# Debian 12 machine.
#
# usage: t/deps.sh [build|demo|test|bench|all]   (default: all)
set -u

build="build-essential pkg-config libsodium-dev libgcrypt20-dev libssl-dev
libreadline-dev libncurses-dev libgmime-3.0-dev"
test="perl python3 procmail mandoc time i2pd socat dovecot-core dovecot-pop3d openssl
postfix git-email libmailtools-perl fetchmail tor strace mutt iproute2
systemd ucspi-tcp openbsd-inetd python3-dkim python3-nacl hashcash
clang libclang-rt-14-dev"
# tor brings tor-gencert too: t/helpers/tor-net makes its private Tor
# network's authority keys with it, in a network namespace (iproute2).
# clang and its runtimes (libFuzzer, the sanitizers) build the fuzz
# targets that t/0005-fuzz.t runs for a few seconds each (make fuzz).
# make demo: i2pd, python3 for the test helpers (i2p-net, httpd,
# tcp-listen), mutt as Alice's mail client, iproute2 for the private
# I2P network's namespace (without it, i2p-net falls back to one router).
demo="python3 i2pd mutt iproute2"
lint="cppcheck clang-tidy"
bench="swaks fetchmail age python3-dkim python3-nacl"

case ${1:-all} in
build)	want=$build ;;
demo)	want="$build $demo" ;;
test)	want="$build $test" ;;
bench)	want="$build $test $bench" ;;
all)	want="$build $test $lint $bench" ;;
*)	echo "usage: t/deps.sh [build|demo|test|bench|all]" >&2; exit 64 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0	# not Debian: up to you
missing=
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done
test -z "$missing" && exit 0
if test "$(id -u)" != 0; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Installing i2pd must not start a router that joins the real network:
# forbid service starts for the length of the install (policy-rc.d),
# unless the machine already has its own policy.
policy=
if ! test -e /usr/sbin/policy-rc.d; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d &&
	chmod 755 /usr/sbin/policy-rc.d && policy=1
fi
# Postfix (a real SMTP server for smtp-submit's tests, run from a
# temporary configuration by t/helpers/postfix-lab) must not configure
# the machine's mail system: "No configuration" leaves it without a
# main.cf, so even a start would do nothing.
if command -v debconf-set-selections >/dev/null 2>&1; then
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
fi
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
status=$?
# openbsd-inetd is for a test that runs smtp-receive(1)'s inetd.conf line
# under an inetd of its own, in the foreground: the package's scripts
# enable the system's inetd for the next boot (update-rc.d, systemd's
# wants link); a test dependency must not leave a superserver enabled.
case " $missing " in
*" openbsd-inetd "*)
	update-rc.d openbsd-inetd disable >/dev/null 2>&1
	systemctl disable inetd.service >/dev/null 2>&1
	;;
esac
test -z "$policy" || rm -f /usr/sbin/policy-rc.d
exit $status
