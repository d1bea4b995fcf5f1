# tor-lib.sh - sourced by the tests that run on the suite's private Tor
# network (t/helpers/tor-net), and by the commands they give tor-net to
# run inside it.  Not a program.
#
# In a test (after t/lib.sh):
#   tor_prereqs       skip the whole test unless tor, tor-gencert, ip(8)
#                     and a network namespace of our own are here
# Inside the network (the command tor-net runs; R is the directory the
# results go to):
#   tor_step NAME CMD...       run CMD; its standard output, error, exit
#                              status and time (ms) into R/NAME.out,
#                              .err, .rc, .ms
#   tor_activate NAME ADDR CMD...
#                              systemd-socket-activate as a socket unit
#                              with Accept=yes starts CMD: listen on
#                              ADDR, one CMD per connection with the
#                              connection on its standard input and
#                              output (--inetd); its log in R/NAME.log,
#                              its PID in R/NAME.pid; returns once it
#                              listens (at most 10 s times
#                              NYM_TEST_SCALE).  The environment CMD
#                              gets is what systemd's would be: HOME,
#                              PATH, TERM, USER, and the sanitizers'
#                              options of a check-asan run.

tor_prereqs()
{
	test -x /usr/sbin/tor && test -x /usr/bin/tor-gencert ||
		test_skip_all "tor is not installed (Debian: tor)"
	command -v ip >/dev/null ||
		test_skip_all "no ip(8) for the network namespace (Debian: iproute2)"
	if test "$(id -u)" = 0; then tl_ns_="unshare -n"; else tl_ns_="unshare -r -n"; fi
	$tl_ns_ true 2>/dev/null ||
		test_skip_all "no network namespace here ($tl_ns_ fails): the private Tor network needs one"
}

tor_step()
{
	tl_sn_=$1
	shift
	tl_st_=$(date +%s%N)
	"$@" >"$R/$tl_sn_.out" 2>"$R/$tl_sn_.err"
	echo $? >"$R/$tl_sn_.rc"
	echo $((($(date +%s%N) - tl_st_) / 1000000)) >"$R/$tl_sn_.ms"
}

tor_activate()
{
	tl_an_=$1 tl_aa_=$2
	shift 2
	set -- ${ASAN_OPTIONS+-E ASAN_OPTIONS} ${UBSAN_OPTIONS+-E UBSAN_OPTIONS} \
	    ${LSAN_OPTIONS+-E LSAN_OPTIONS} -a --inetd -l "$tl_aa_" "$@"
	systemd-socket-activate "$@" </dev/null 2>"$R/$tl_an_.log" &
	echo $! >"$R/$tl_an_.pid"
	tl_ae_=$(($(date +%s) + 10 * ${NYM_TEST_SCALE:-1}))
	until grep -q "^Listening on $tl_aa_ " "$R/$tl_an_.log"; do
		if ! kill -0 "$(cat "$R/$tl_an_.pid")" 2>/dev/null ||
		    test "$(date +%s)" -gt "$tl_ae_"; then
			echo "tor_activate: no listener on $tl_aa_ for $tl_an_:" >&2
			cat "$R/$tl_an_.log" >&2
			return 1
		fi
		sleep 0.1
	done
}
