#!/bin/sh
# t/bench/onion-sign.sh - the cost of onion sender signatures (make
# bench), for a 1 KB and a 50 MB message (text lines, as mail is; the
# 50 MB one also with CRLF line ends):
#
#  1. as programs: onion-key -s and -v against sha256sum and openssl
#     dgst -sha256 of the same file, one process a run, taking turns run
#     after run so that a noisy machine slows them alike; the median wall
#     and CPU milliseconds of BENCH_REPS runs.  sha256sum has no SHA-NI
#     path here, openssl has, as libgcrypt has.  onion-key -s reads the
#     message twice (to sign it, then to copy it out).
#  2. in the library (t/bench/dkimbench.c): the median CPU milliseconds
#     of signing and of checking the message held in memory, against
#     libgcrypt's SHA-256 of its bytes, the floor of both.
#
# Target (issue 13): signing and checking a 1 KB message under 1 ms each
# beyond starting a process; for 50 MB, what signing and checking add to
# the body's SHA-256 under the hash's own cost: under twice the SHA-256
# (openssl's as a program, libgcrypt's in the library).
#
# Every signature is checked once before timing, by onion-key -v and by
# python3-dkim (the onion's key as the DNS record).  Needs cc, openssl.
# Environment: BENCH_SEED (1), BENCH_BIG_MB (50), BENCH_REPS (9).

seed=${BENCH_SEED:-1}
bigmb=${BENCH_BIG_MB:-50}
reps=${BENCH_REPS:-9}

die()
{
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd -P) || die "unable to find $0"
top=$(cd "$here/../.." && pwd -P) || die "unable to find the top directory"
ok=$top/bin/onion-key
test -x "$ok" || die "$ok is missing: run make first"
/usr/bin/python3 -c "import dkim, nacl" 2>/dev/null ||
	die "python3-dkim and python3-nacl are needed"
test -f "$top/lib/libnymbox.a" || die "lib/libnymbox.a is missing: run make first"
for p in cc openssl; do
	command -v $p >/dev/null 2>&1 || die "$p is needed"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nymbox-onionsign.XXXXXX") ||
	die "unable to make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -idirafter "$top/lib" -o "$tmp/dkimbench" "$here/dkimbench.c" \
    "$top/lib/libnymbox.a" $(pkg-config --libs libsodium libgcrypt) ||
	die "unable to build dkimbench"
"$ok" -c "$tmp/key" >"$tmp/onion" || die "unable to make a key"
python3 - "$seed" "$bigmb" "$tmp" <<'EOP' || die "unable to make the messages"
import random, sys
random.seed(int(sys.argv[1]))
words = ["".join(random.choice("abcdefghijklmnopqrstuvwxyz")
    for _ in range(random.randint(2, 9))) for _ in range(2000)]
hdr = ("From: Alice <alice@example.onion>\nTo: Bob <bob@example.onion>\n"
    "Subject: bench\nDate: Tue, 14 Nov 2023 22:00:00 +0000\n"
    "Message-ID: <b@example.onion>\n\n")
def body(n):
    out, size = [], 0
    while size < n:
        line = " ".join(random.choice(words) for _ in range(11))[:72] + "\n"
        out.append(line)
        size += len(line)
    return "".join(out)[:n - 1] + "\n"
for name, n in (("small", 1024), ("big", int(sys.argv[2]) << 20)):
    m = hdr + body(n - len(hdr))
    open(sys.argv[3] + "/" + name + ".eml", "w").write(m)
    if name == "big":
        open(sys.argv[3] + "/bigcrlf.eml", "w", newline="\r\n").write(m)
EOP

for m in small big bigcrlf; do
	"$ok" -s "$tmp/key" <"$tmp/$m.eml" >"$tmp/$m.signed" &&
	"$ok" -v "$(cat "$tmp/onion")" <"$tmp/$m.signed" ||
	die "onion-key does not verify its own signature of $m.eml"
	/usr/bin/python3 - "$tmp/$m.signed" "$tmp/key/hs_ed25519_public_key" <<'EOP' ||
import base64, sys, dkim
pk = open(sys.argv[2], "rb").read()[32:]
rec = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(pk)
sys.exit(0 if dkim.DKIM(open(sys.argv[1], "rb").read()).verify(
    dnsfunc=lambda name, timeout=5: rec) else 1)
EOP
	die "python3-dkim does not verify onion-key's signature of $m.eml"
done

python3 - "$reps" "$ok" "$tmp" "$(cat "$tmp/onion")" <<'EOP'
import resource, statistics, subprocess, sys, time
reps, ok, tmp, onion = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def once(cmd, path):
    with open(path, "rb") as f:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, check=True)
        t1 = time.perf_counter()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((t1 - t0) * 1000, (r1.ru_utime - r0.ru_utime +
        r1.ru_stime - r0.ru_stime) * 1000)
print("onion signatures as programs, median of %d runs, ms wall / CPU"
    % reps)
print("%-9s %-14s %-15s %-15s %-15s %-15s %s" % ("message", "true",
    "sha256sum", "openssl sha256", "onion-key -s", "onion-key -v",
    "-s, -v / openssl CPU"))
names = {"small": "1 KB", "big": "big", "bigcrlf": "big CRLF"}
for m in ("small", "big", "bigcrlf"):
    jobs = (("true", ["true"], m + ".eml"),
        ("sha", ["sha256sum"], m + ".eml"),
        ("ossl", ["openssl", "dgst", "-sha256"], m + ".eml"),
        ("sign", [ok, "-s", tmp + "/key"], m + ".eml"),
        ("verify", [ok, "-v", onion], m + ".signed"))
    t = {j[0]: [] for j in jobs}
    for _ in range(reps):
        for name, cmd, f in jobs:
            t[name].append(once(cmd, tmp + "/" + f))
    med = {k: (statistics.median(x[0] for x in v),
        statistics.median(x[1] for x in v)) for k, v in t.items()}
    o = med["ossl"][1]
    print("%-9s %-14s %-15s %-15s %-15s %-15s %.2f, %.2f" % (names[m],
        *("%.1f / %.1f" % med[k] for k in ("true", "sha", "ossl", "sign",
        "verify")), med["sign"][1] / o if o else 0,
        med["verify"][1] / o if o else 0))
EOP

echo "in the library (dkimbench), median of $reps, CPU ms"
for m in small big bigcrlf; do
	printf '%-9s ' "$m"
	"$tmp/dkimbench" "$tmp/key" "$tmp/$m.eml" "$reps" ||
		die "dkimbench failed on $m.eml"
done
