#!/usr/bin/env python3
"""qhelp.py - the pieces of t/bench/queue.sh that are easier in Python.

  qhelp.py gen SEED N DIR        N messages DIR/m00001.. (1 to 8 KB, each
                                 with its own Subject "bench message I")
  qhelp.py smtp PORT USER PASSFILE RCPT LIST
                                 send every file of LIST over one SMTP
                                 session with AUTH PLAIN (MAIL FROM USER)
  qhelp.py wait DIR N SECONDS    until DIR (and its subdirectories) holds
                                 N files; print the time then (seconds
                                 since the epoch) or exit 1 at the timeout
  qhelp.py count DIR             the files in DIR and its subdirectories
"""
import os
import random
import smtplib
import sys
import time

WORDS = ("the of and to in is for on that with as at by from this be or "
         "are meet noon plan keys tunnel router mail queue later batch "
         "delay send when online observer time zone header").split()


def gen(seed, n, out):
    r = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(1, n + 1):
        size = int(r.triangular(1024, 8192, 2048))
        head = ("From: Alice <alice@example.org>\n"
                "To: Bob <bob@example.net>\n"
                "Subject: bench message %d\n"
                "Message-ID: <%d.%016x@example.org>\n"
                "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
                "MIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=us-ascii\n\n"
                % (i, i, r.getrandbits(64)))
        body = []
        length = len(head)
        while length < size:
            line = " ".join(r.choice(WORDS) for _ in range(11)) + "\n"
            body.append(line)
            length += len(line)
        with open(os.path.join(out, "m%05d" % i), "w") as f:
            f.write(head + "".join(body))


def count(d):
    n = 0
    stack = [d]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    n += 1
    return n


def wait(d, n, secs):
    end = time.monotonic() + secs
    while True:
        try:
            c = count(d)
        except FileNotFoundError:
            c = 0
        if c >= n:
            print("%.3f" % time.time())
            return 0
        if time.monotonic() > end:
            print("qhelp: %s holds %d files of %d after %d s"
                  % (d, c, n, secs), file=sys.stderr)
            return 1
        time.sleep(0.02)


def smtp(port, user, passfile, rcpt, listfile):
    pw = open(passfile).read().strip()
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("bench.test")
    s.login(user, pw)
    n = 0
    for path in open(listfile).read().split():
        msg = open(path, "rb").read().replace(b"\n", b"\r\n")
        s.sendmail(user, [rcpt], msg)
        n += 1
    s.quit()
    return 0


def main(a):
    if len(a) >= 4 and a[0] == "gen":
        gen(int(a[1]), int(a[2]), a[3])
        return 0
    if len(a) == 6 and a[0] == "smtp":
        return smtp(int(a[1]), a[2], a[3], a[4], a[5])
    if len(a) == 4 and a[0] == "wait":
        return wait(a[1], int(a[2]), int(a[3]))
    if len(a) == 2 and a[0] == "count":
        print(count(a[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
