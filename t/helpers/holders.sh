# t/helpers/holders.sh - sourced by t/lib.sh and the SAM benches: stop
# the session holders sam-deliver left lingering (sam-linger, 600 s by
# default), by PID (t/lib.sh calls it test_stop_holders).
#
# holders_stop DIR...: the holder of each KEY.lock in each DIR (a process
# named "sam-holder" whose PID stands first in the lock file), all sent
# SIGTERM at once (a holder then closes its session the way i2pd needs, a
# few seconds), KILLed if still there after 10 s.
holders_stop()
{
	sh_pids=
	for sh_d
	do
		for sh_l in "$sh_d"/*.lock
		do
			test -f "$sh_l" && read -r sh_p sh_r <"$sh_l" &&
			test "$(cat "/proc/$sh_p/comm" 2>/dev/null)" = sam-holder ||
				continue
			kill -TERM "$sh_p" 2>/dev/null && sh_pids="$sh_pids $sh_p"
		done
	done
	for sh_p in $sh_pids
	do
		sh_n=0
		while test -d "/proc/$sh_p" && test $sh_n -lt 100
		do
			sleep 0.1
			sh_n=$((sh_n + 1))
		done
		kill -KILL "$sh_p" 2>/dev/null
	done
	return 0
}
