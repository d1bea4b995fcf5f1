/*
 * mbox.c - unit tests for the mbox lock and append (lib/mbox.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "store.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/nymunit.XXXXXX", box[512], lock[512], buf[4096];
	char from[80], want[256];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct nym_mbox mb;
	struct stat st;
	long long t0;
	pid_t pid;
	int p[2], r;

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(box, sizeof box, "%s/mbox", dir);
	snprintf(lock, sizeof lock, "%s/mbox.lock", dir);

	nym_mbox_fromline(from, sizeof from, 0);
	check_str(from, "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n",
	    "From_ line in UTC, asctime's shape");

	check_int(nym_mbox_lock(&mb, box, 0, 0), -1, "missing mbox, no create");
	check_int(errno, ENOENT, "with ENOENT");
	check_int(mb.step, NYM_MBOX_OPEN, "at the open");
	check(access(lock, F_OK) == -1, "and no lock file left");

	check_int(nym_mbox_lock(&mb, box, 1, 0), 0, "created and locked");
	check(stat(box, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "created 0600");
	check_int(mb.size, 0, "empty");
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	check(tap_slurp(lock, buf, sizeof buf) > 0 && strcmp(buf, want) == 0,
	    "mbox.lock holds our pid");
	check_int(nym_mbox_append(&mb, "Subject: a\n\nFrom here\n>From x\n"
	    "no From\n", 38, 0), 0, "append");
	check(stat(box, &st) == 0 && mb.size == st.st_size,
	    "mb.size follows an append, so a later failed one keeps it");
	check_int(nym_mbox_unlock(&mb), 0, "unlock");
	check(access(lock, F_OK) == -1, "lock file removed");
	check(tap_slurp(box, buf, sizeof buf) > 0 && strcmp(buf,
	    "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\nSubject: a\n\n"
	    ">From here\n>>From x\nno From\n\n") == 0,
	    "From_ line, mboxrd quoting, empty line after");
	check_int(nym_mbox_lock(&mb, box, 0, 0), 0, "lock again");
	check_int(nym_mbox_append(&mb, "Subject: b\n\nno end", 18, 0), 0,
	    "append a message without its last LF");
	check_int(nym_mbox_unlock(&mb), 0, "unlock");
	check(tap_slurp(box, buf, sizeof buf) > 0 && strlen(buf) > 9 &&
	    strcmp(buf + strlen(buf) - 9, "\nno end\n\n") == 0,
	    "its last line ended, then the empty line");

	/* A live process's lock is waited for, then given up on. */
	snprintf(want, sizeof want, "%ld\n", (long)getppid());
	tap_put(lock, want);
	t0 = nym_now_ms();
	check_int(nym_mbox_lock(&mb, box, 1, 300), -1, "a live .lock holds");
	check_int(errno, EWOULDBLOCK, "with EWOULDBLOCK");
	check(nym_now_ms() - t0 >= 300, "after the wait");
	check_str(nym_mbox_why(&mb, errno), "another program holds its .lock",
	    "named as the .lock");
	check(tap_slurp(lock, buf, sizeof buf) > 0 && strcmp(buf, want) == 0,
	    "and left alone");

	/* An old one is stale. */
	{
		struct timespec ts[2] = { { .tv_sec = time(NULL) -
		    NYM_DOTLOCK_STALE - 10 }, { .tv_sec = time(NULL) -
		    NYM_DOTLOCK_STALE - 10 } };

		utimensat(AT_FDCWD, lock, ts, 0);
	}
	check_int(nym_mbox_lock(&mb, box, 1, 0), 0, "an old .lock is stale");
	nym_mbox_unlock(&mb);

	/* One whose process is gone is stale at once. */
	if ((pid = fork()) == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(want, sizeof want, "%ld\n", (long)pid);
	tap_put(lock, want);
	check_int(nym_mbox_lock(&mb, box, 1, 0), 0,
	    "a dead process's .lock is stale");
	nym_mbox_unlock(&mb);

	/* An fcntl lock of another process is waited for. */
	if (pipe(p) == -1)
		return 99;
	if ((pid = fork()) == 0) {
		int fd = open(box, O_RDWR);

		close(p[0]);
		if (fd == -1 || fcntl(fd, F_SETLKW, &fl) == -1)
			_exit(1);
		(void)write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	r = (int)read(p[0], buf, 1);
	check_int(r, 1, "another process holds an fcntl lock");
	check_int(nym_mbox_lock(&mb, box, 1, 200), -1, "fcntl lock holds");
	check_int(errno, EWOULDBLOCK, "with EWOULDBLOCK");
	check_str(nym_mbox_why(&mb, errno), "another program holds it",
	    "named as fcntl's");
	check(access(lock, F_OK) == -1, "our .lock let go again");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);

	/* appendfd copies bytes as they are. */
	check_int(nym_mbox_lock(&mb, box, 0, 0), 0, "lock again");
	{
		char src[] = "/tmp/nymunit.src.XXXXXX";
		int fd = mkstemp(src);
		off_t before = mb.size;

		check(fd != -1 && write(fd, "uid\nFrom x\nbody\n\n", 17) == 17,
		    "source");
		check_int(nym_mbox_appendfd(&mb, fd, 4, 13), 0, "appendfd");
		check(fstat(mb.fd, &st) == 0 && st.st_size == before + 13,
		    "13 bytes appended");
		/* A source shorter than it says: cut back, EIO. */
		check_int(nym_mbox_appendfd(&mb, fd, 4, 100), -1,
		    "a short source fails");
		check_int(errno, EIO, "with EIO");
		check(fstat(mb.fd, &st) == 0 && st.st_size == before + 13,
		    "and the mbox is cut back to its size after the last "
		    "append that counted, not at the lock");
		check_int(mb.cutfail, 0, "the cut worked");
		close(fd);
		unlink(src);
	}
	nym_mbox_unlock(&mb);
	check_int(nym_mbox_unlock(&mb), 0, "unlock twice is harmless");

	unlink(box);
	rmdir(dir);
	return tap_done();
}
