/*
 * fetch.c - deliver fetched messages exactly once: pop-fetch's delivery
 * engine, below the POP3 client that feeds it (bin/pop-fetch.c).
 *
 * The rule is that a message leaves the server only once a copy is
 * durable at the destination, and that no message is delivered twice,
 * whatever moment a crash, kill -9, power cut or network cut chooses.
 * POP3 helps with the first half: DELE only marks a message, and nothing
 * is removed until QUIT is answered, so a session that dies takes its
 * marks with it.  The second half needs a memory across sessions, the
 * account's state file, a journal of one line per step:
 *
 *	P uid name		about to publish maildir file name
 *	P uid mbox off len	about to append len bytes at off
 *	P uid cmd		about to run the command on it
 *	U uid			that P came to nothing (the message is not
 *				delivered)
 *	D uid			delivered durably; DELE it, never deliver
 *				it again
 *	X uid size		delivered, its DELE accepted and QUIT
 *				answered: the server should have removed
 *				it; if it lists uid again with this size
 *				(LIST's; 0 unknown), it kept the message
 *				(a server that ignores DELE), which is
 *				then DELEd again, never delivered again
 *	C			a session was cut: until a good QUIT, RETR
 *				one message at a time
 *
 * A P line is synced before its delivery can become visible (the link
 * into new/, the first byte appended, the command started), so after any
 * crash the next run knows which message it may have been at, and
 * settles it before anything else: a maildir file is looked for in new/
 * and cur/; an mbox is compared, from off, with the spool copy of what
 * was being appended (complete: delivered; our own partial copy at the
 * end: cut off again); a command cannot be asked, so the message is
 * given to it again with POP_FETCH_AGAIN=1 in its environment.  D lines
 * are synced before QUIT, so the server forgets a message only after the
 * state says it was delivered.  The file is rewritten atomically, with
 * only what is still on the server, after a good QUIT; and the .gone
 * file beside it is rewritten first with an X line for each message
 * deleted in that session, so that what a server that answers +OK to
 * DELE and keeps the mail lists again is recognised.  X lines live one
 * session: the next rewrite keeps only those the server listed again,
 * so the file holds at most a line per listed message.
 *
 * A maildir gets its messages in batches (group commit): up to
 * NYM_POPF_BATCH_MAX messages, NYM_POPF_BATCH_BYTES or NYM_POPF_BATCH_MS after the first, and what
 * is left at the end or before a failure.  Each message is streamed into
 * tmp/ after its P line (written, not synced).  Then, for the batch:
 *
 *	1. fdatasync the journal: every P line durable;
 *	2. syncfs(2) on the maildir: every file's data and inode durable,
 *	   one flush for the lot (an fsync each costs a flush each);
 *	3. link each into new/ (visible now), unlink it from tmp/;
 *	4. fsync new/: the names durable;
 *	5. a D line each, and their DELEs; the D lines are synced with the
 *	   next batch's P lines, and always before QUIT.
 *
 * So nothing is in new/ before its P line and its data are durable, and
 * nothing is marked D, or DELEd, before its name is durable in new/.  A
 * crash at any point: before 3, nothing is visible, and the next run
 * removes the files its P lines name from tmp/ and fetches them again;
 * during 3 or 4, some names are in new/ and the next run, looking for
 * each P line's name in new/ and cur/, takes those as delivered and
 * fetches the rest (a power cut may also take back a link not yet
 * synced: that message is fetched again, never lost, as the server
 * still has it); after 4, every name is found.  D lines lost with the
 * page cache are rebuilt the same way from their P lines, which were
 * synced in 1.  DELE only marks: the server removes nothing before QUIT
 * is answered, and QUIT follows a sync of the journal.  A power cut can
 * leave files in tmp/ whose P lines never reached the disk; they are
 * not in new/, so nothing is delivered twice, and maildir readers clean
 * tmp/ of old files.  syncfs reports write-back errors since Linux 5.8.
 * An mbox and a command still commit one message at a time.
 *
 * With PIPELINING, RETR commands go out up to NYM_POPF_RETR_AHEAD messages ahead,
 * so that the server sends while the disk syncs; replies come in command
 * order, read through one queue of RETRs and DELEs.  But a connection
 * reset takes with it what the kernel had received and we had not read:
 * against a server that resets the connection after every few messages,
 * a run that delivers slowly (an mbox, a command: a sync each) would
 * lose all but the first of the messages sent ahead, every time.  So a
 * cut session leaves a C line, and until a good QUIT every run sends
 * one RETR at a time: each message it is sent is one it can deliver.
 *
 * TERM, INT and HUP while a delivery is being committed (a maildir: from
 * the first link to the last D line) are held until its D lines are
 * written; otherwise they remove the batch's files from tmp/ and kill.
 * Messages for an mbox or a command go through a
 * spool file beside the state first, so a command runs only on a whole
 * message, a cut connection never touches the mbox, and the window in
 * which a kill -9 can make a command deliver twice is the command's own
 * run time.  A maildir file is streamed straight into tmp/; memory never
 * grows with a message (the 50 MB mailbox of postman is why emptying the
 * box is the default).
 *
 * What is here is that policy: the journal's lines and when they are
 * synced, the delivery to a maildir, an mbox or a command, settling
 * what an interrupted run left, and the critical sections (f->critical;
 * the program's signal handler holds a signal while it is set, and
 * otherwise calls nym_fetch_litter).  The parts are the journal file
 * (journal.c), the batch commit (nym_mdbatch_*, maildir.c), the mbox
 * writer and its locks (mbox.c).  The message comes through the
 * caller's body function, each DELE goes out through its dele function:
 * nothing here speaks POP3.
 *
 * Nothing here prints, exits or touches a signal: warnings go to
 * f->warn, and what must end the run is in f->fatal and f->why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
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

/* Tell f->warn. */
static void
say(struct nym_fetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct nym_fetch *f, const char *fmt, ...)
{
	char buf[sizeof f->why];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (f->warn != NULL)
		f->warn(buf);
}

/* The run must end with code, for why. */
static void
fatal(struct nym_fetch *f, int code, const char *why)
{
	snprintf(f->why, sizeof f->why, "%s", why);
	f->fatal = code;
}

int
nym_fetch_init(struct nym_fetch *f)
{
	f->critical = 0;
	f->fatal = 0;
	f->why[0] = '\0';
	f->toobig = 0;
	f->m = NULL;
	f->nm = 0;
	f->jr.fd = f->jr.lockfd = f->jr.dirfd = -1;
	f->jr.ents = NULL;
	f->jr.nents = 0;
	f->spoolfd = -1;
	f->spoolhdr = 0;
	f->mbx.fd = -1;
	f->mbx.dotlocked = 0;
	f->batch.dirfd = f->batch.newfd = -1;
	f->batch.n = 0;
	f->curtmp[0] = '\0';
	if (f->mode == 'd' && nym_mdbatch_open(&f->batch, f->target) == -1)
		return -1;
	return 0;
}

/* ---- the account's state (journal.c) ---- */

int
nym_fetch_open(struct nym_fetch *f, const char *account)
{
	struct nym_journal *jr = &f->jr;
	char dir[PATH_MAX];

	if (nym_confdir(dir, sizeof dir) == -1 ||
	    strlen(dir) + sizeof "/pop" > sizeof dir) {
		fatal(f, NYM_EX_CONFIG, "unable to find the state directory: "
		    "set HOME");
		return -1;
	}
	memcpy(dir + strlen(dir), "/pop", sizeof "/pop");
	switch (nym_journal_open(jr, dir, account)) {
	case 0:
		return 0;
	case 1:
		return 1;	/* another run is at it */
	}
	f->fatal = errno == EFBIG ? NYM_EX_CONFIG : NYM_EX_TEMPFAIL;
	if (errno == EFBIG)
		snprintf(f->why, sizeof f->why, "unable to read %s: over %d "
		    "bytes", jr->path, NYM_POPF_STATE_MAX);
	else if (errno == ENOMEM)
		fatal(f, NYM_EX_TEMPFAIL, "unable to allocate memory");
	else
		snprintf(f->why, sizeof f->why, "unable to %s %s: %s",
		    jr->verb, jr->path, strerror(errno));
	return -1;
}

/* Append a journal line.  0, or -1 (said, or f->fatal). */
static int
record(struct nym_fetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
record(struct nym_fetch *f, const char *fmt, ...)
{
	struct nym_journal *jr = &f->jr;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nym_journal_vadd(jr, fmt, ap);
	va_end(ap);
	if (r == 0)
		return 0;
	if (errno == E2BIG) {
		f->fatal = NYM_EX_SOFTWARE;
		snprintf(f->why, sizeof f->why, "unable to write %s/%s: line "
		    "too long", jr->dir, jr->name);
		return -1;
	}
	if (jr->cutfail != 0)
		say(f, "unable to truncate %s/%s: %s", jr->dir, jr->name,
		    strerror(jr->cutfail));
	say(f, "unable to write %s/%s: %s", jr->dir, jr->name,
	    strerror(errno));
	return -1;
}

int
nym_fetch_sync(struct nym_fetch *f)
{
	if (nym_journal_sync(&f->jr) == -1) {
		say(f, "unable to write %s/%s: %s", f->jr.dir, f->jr.name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the spool ---- */

/* Open the spool, creating it where missing (and, for a copy the next
 * run may need, syncing the directory).  0, or -1 (said). */
static int
spoolopen(struct nym_fetch *f, int durable)
{
	int created = 0;

	if (f->spoolfd != -1)
		return 0;
	f->spoolfd = open(f->jr.spool, O_RDWR | O_CLOEXEC);
	if (f->spoolfd == -1 && errno == ENOENT) {
		f->spoolfd = open(f->jr.spool,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		created = 1;
	}
	if (f->spoolfd == -1 ||
	    (created && durable && nym_syncdir(f->jr.dir) == -1)) {
		say(f, "unable to create %s: %s", f->jr.spool,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Forget the spooled message (it holds mail in the clear). */
static void
spoolclear(struct nym_fetch *f)
{
	if (f->spoolfd != -1 && ftruncate(f->spoolfd, 0) == -1)
		say(f, "unable to empty %s: %s", f->jr.spool, strerror(errno));
}

/* ---- the mbox (mbox.c): mbox.lock and fcntl ---- */

/* Open the mbox (creating it when create) and lock it both ways.  0, or
 * -1 (said; errno ENOENT when it is missing). */
static int
mboxlock(struct nym_fetch *f, int create)
{
	int e;

	if (nym_mbox_lock(&f->mbx, f->target, create, f->wait_ms) == 0)
		return 0;
	e = errno;
	if (f->mbx.step == NYM_MBOX_OPEN) {
		if (e != ENOENT || create)
			say(f, "unable to open %s: %s", f->target,
			    strerror(e));
		errno = e;
		return -1;
	}
	say(f, "unable to lock %s: %s", f->target, nym_mbox_why(&f->mbx, e));
	errno = EWOULDBLOCK;
	return -1;
}

/* ---- delivery ---- */

/* Fetch the message into a file in tmp/ and add it to the batch; it is
 * published by nym_fetch_commit.  DELIVERED (meaning: written), NETFAIL
 * or LOCALFAIL. */
static int
todir(struct nym_fetch *f, size_t i)
{
	struct nym_mdfile mf;
	struct nym_out o;

	if (nym_maildir_open(&mf, f->target) == -1) {
		say(f, "unable to create a file in %s: %s", f->target,
		    strerror(errno));
		return NYM_FETCH_LOCALFAIL;
	}
	snprintf(f->curtmp, sizeof f->curtmp, "%s", mf.tmp);
	if (record(f, "P %s %s\n", f->m[i].uid, mf.name) == -1) {
		nym_maildir_abort(&mf);
		f->curtmp[0] = '\0';
		return NYM_FETCH_LOCALFAIL;
	}
	if (nym_out_open(&o, mf.fd, NYM_IOBUF) == -1) {
		fatal(f, NYM_EX_TEMPFAIL, "unable to allocate memory");
		nym_maildir_abort(&mf);
		f->curtmp[0] = '\0';
		return NYM_FETCH_LOCALFAIL;
	}
	if (f->body(f->arg, &o, 0) == -1) {
		nym_out_close(&o);
		nym_maildir_abort(&mf);
		f->curtmp[0] = '\0';
		return NYM_FETCH_NETFAIL;
	}
	if (nym_out_flush(&o) == -1 || close(mf.fd) == -1) {
		say(f, "unable to write a message in %s: %s", f->target,
		    strerror(errno));
		nym_out_close(&o);
		nym_maildir_abort(&mf);
		f->curtmp[0] = '\0';
		return NYM_FETCH_LOCALFAIL;
	}
	mf.fd = -1;
	/* Into the batch before curtmp lets go of it: a signal in between
	 * unlinks it twice, which is harmless. */
	nym_mdbatch_add(&f->batch, &mf, i, o.total);
	nym_out_close(&o);
	f->curtmp[0] = '\0';
	return NYM_FETCH_DELIVERED;
}

/*
 * Publish the batch with a constant number of flushes: its P lines
 * synced; every file's data and inode synced at once by syncfs(2) on
 * the maildir's file system; each linked into new/ and unlinked from
 * tmp/; new/ synced; then a D line each, and f->delivered for each.
 */
int
nym_fetch_commit(struct nym_fetch *f, int dele)
{
	struct nym_mdbatch *b = &f->batch;
	size_t k, n = (size_t)b->n, nl, i;
	int e = 0, ret = 0;

	if (n == 0)
		return 0;
	if (nym_fetch_sync(f) == -1) {
		nym_mdbatch_drop(b);
		return -1;
	}
	if (nym_mdbatch_sync(b) == -1) {
		say(f, "unable to write a message in %s: %s", f->target,
		    strerror(errno));
		nym_mdbatch_drop(b);
		return -1;
	}
	f->critical = 1;
	nl = nym_mdbatch_link(b, &e);
	if (nl < n) {
		say(f, "unable to write a message in %s: %s", f->target,
		    strerror(e));
		ret = -1;
	}
	if (nym_mdbatch_syncnew(b, nl) == -1) {
		/* Taken back: the server keeps them. */
		say(f, "unable to write a message in %s: %s", f->target,
		    strerror(errno));
		f->critical = 0;
		return -1;
	}
	/* Durable.  D lines are synced with the next batch's P lines, or
	 * before QUIT; until then the P lines and new/ say the same. */
	for (k = 0; k < nl; k++) {
		i = b->tag[k];
		if (record(f, "D %s\n", f->m[i].uid) == -1) {
			ret = -1;
			break;
		}
		f->m[i].done = 1;
		if (f->delivered(f->arg, i, dele) == -1) {
			f->critical = 0;
			return -2;
		}
	}
	f->critical = 0;
	return ret;
}

/* Fetch the message into the spool after a "uid" line, as it is to be
 * delivered: with mbox, a From_ line first, From_ lines in it quoted
 * (mboxrd) and an empty line after it, the whole synced.  *len gets its
 * length without the uid line. */
static int
spoolfill(struct nym_fetch *f, const char *uid, int mbox,
    unsigned long long *len)
{
	struct nym_out o;
	char from[80];

	/* A command killed along with an earlier run may still be reading
	 * its copy: a new file for each message leaves that one alone. */
	if (!mbox) {
		if (f->spoolfd != -1)
			close(f->spoolfd);
		f->spoolfd = -1;
		if (unlink(f->jr.spool) == -1 && errno != ENOENT) {
			say(f, "unable to remove %s: %s", f->jr.spool,
			    strerror(errno));
			return NYM_FETCH_LOCALFAIL;
		}
	}
	if (spoolopen(f, mbox) == -1)
		return NYM_FETCH_LOCALFAIL;
	if (ftruncate(f->spoolfd, 0) == -1 ||
	    lseek(f->spoolfd, 0, SEEK_SET) == -1) {
		say(f, "unable to write %s: %s", f->jr.spool, strerror(errno));
		return NYM_FETCH_LOCALFAIL;
	}
	if (nym_out_open(&o, f->spoolfd, NYM_IOBUF) == -1) {
		fatal(f, NYM_EX_TEMPFAIL, "unable to allocate memory");
		return NYM_FETCH_LOCALFAIL;
	}
	f->spoolhdr = strlen(uid) + 1;
	nym_out_puts(&o, uid);
	nym_out_write(&o, "\n", 1);
	if (mbox) {
		nym_mbox_fromline(from, sizeof from, time(NULL));
		nym_out_puts(&o, from);
	}
	if (f->body(f->arg, &o, mbox) == -1) {
		nym_out_close(&o);
		spoolclear(f);
		return NYM_FETCH_NETFAIL;
	}
	if (mbox)
		nym_out_write(&o, "\n", 1);
	if (nym_out_flush(&o) == -1 || (mbox && fsync(f->spoolfd) == -1)) {
		say(f, "unable to write %s: %s", f->jr.spool, strerror(errno));
		nym_out_close(&o);
		spoolclear(f);
		return NYM_FETCH_LOCALFAIL;
	}
	*len = o.total - f->spoolhdr;
	nym_out_close(&o);
	return NYM_FETCH_DELIVERED;
}

static int
tombox(struct nym_fetch *f, const char *uid)
{
	unsigned long long len;
	int r;

	if ((r = spoolfill(f, uid, 1, &len)) != NYM_FETCH_DELIVERED)
		return r;
	if (mboxlock(f, 1) == -1) {
		spoolclear(f);
		return NYM_FETCH_LOCALFAIL;
	}
	/* Where it goes and how long it is, durable before the first byte
	 * is appended. */
	if (record(f, "P %s mbox %lld %llu\n", uid, (long long)f->mbx.size,
	    len) == -1 || nym_fetch_sync(f) == -1) {
		(void)nym_mbox_unlock(&f->mbx);
		spoolclear(f);
		return NYM_FETCH_LOCALFAIL;
	}
	f->critical = 1;
	if (nym_mbox_appendfd(&f->mbx, f->spoolfd, (off_t)f->spoolhdr,
	    len) == -1) {
		say(f, "unable to write %s: %s", f->target, strerror(errno));
		/* Never leave half a message behind (appendfd cut it off).
		 * If even that failed, the P line and the spool let the
		 * next run do it. */
		if (f->mbx.cutfail != 0)
			say(f, "unable to truncate %s: %s", f->target,
			    strerror(f->mbx.cutfail));
		else if (record(f, "U %s\n", uid) == 0)
			spoolclear(f);
		(void)nym_mbox_unlock(&f->mbx);
		return NYM_FETCH_LOCALFAIL;
	}
	/* Synced: a failing close cannot undo it. */
	if (nym_mbox_unlock(&f->mbx) == -1)
		say(f, "unable to close %s: %s", f->target, strerror(errno));
	return NYM_FETCH_DELIVERED;
}

static int
tocmd(struct nym_fetch *f, size_t i)
{
	const char *uid = f->m[i].uid, *target = f->target;
	unsigned long long len;
	int st, r, in, again = f->m[i].again;
	pid_t pid;

	if ((r = spoolfill(f, uid, 0, &len)) != NYM_FETCH_DELIVERED)
		return r;
	/* From here on the command may deliver it: say so first. */
	if (record(f, "P %s cmd\n", uid) == -1 || nym_fetch_sync(f) == -1)
		return NYM_FETCH_LOCALFAIL;
	f->critical = 1;
	if ((in = open(f->jr.spool, O_RDONLY | O_CLOEXEC)) == -1 ||
	    lseek(in, (off_t)f->spoolhdr, SEEK_SET) == -1 ||
	    (pid = fork()) == -1) {
		say(f, "unable to run %s: %s", target, strerror(errno));
		if (in != -1)
			close(in);
		if (!again)
			(void)record(f, "U %s\n", uid);
		return NYM_FETCH_LOCALFAIL;
	}
	if (pid == 0) {
		if (f->closefd != -1)
			close(f->closefd);	/* not the command's */
		if (dup2(in, STDIN_FILENO) == -1 ||
		    setenv("POP_FETCH_UIDL", uid, 1) == -1 ||
		    (again && setenv("POP_FETCH_AGAIN", "1", 1) == -1))
			_exit(NYM_EX_TEMPFAIL);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", target, (char *)NULL);
		_exit(NYM_EX_TEMPFAIL);
	}
	close(in);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			/* Whether it delivered is unknown: the P line
			 * stays, and the next run gives it again. */
			say(f, "unable to wait for %s: %s", target,
			    strerror(errno));
			return NYM_FETCH_LOCALFAIL;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return NYM_FETCH_DELIVERED;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != NYM_EX_TEMPFAIL)
		say(f, "unable to deliver message %lu: %s %s %d", f->m[i].n,
		    target, WIFEXITED(st) ? "exited with" : "killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	/* Refused now; but if an interrupted run may have given it to the
	 * command before, the next try must still say so. */
	if (!again)
		(void)record(f, "U %s\n", uid);
	return NYM_FETCH_DEFERRED;
}

int
nym_fetch_deliver(struct nym_fetch *f, size_t i)
{
	int r;

	if (f->mode == 'd') {
		/* Written into tmp/; published with its batch. */
		if ((r = todir(f, i)) != NYM_FETCH_DELIVERED ||
		    !nym_mdbatch_due(&f->batch))
			return r;
		r = nym_fetch_commit(f, 1);
		return r == 0 ? NYM_FETCH_DELIVERED : r == -2 ?
		    NYM_FETCH_NETFAIL : NYM_FETCH_LOCALFAIL;
	}
	r = f->mode == 'm' ? tombox(f, f->m[i].uid) : tocmd(f, i);
	if (r == NYM_FETCH_DELIVERED) {
		/* A command cannot be asked later: sync at once. */
		if (record(f, "D %s\n", f->m[i].uid) == -1 ||
		    (f->mode == 'p' && nym_fetch_sync(f) == -1))
			r = NYM_FETCH_LOCALFAIL;
		else {
			spoolclear(f);
			f->m[i].done = 1;
		}
	}
	f->critical = 0;
	if (r == NYM_FETCH_DELIVERED && f->delivered(f->arg, i, 1) == -1)
		return NYM_FETCH_NETFAIL;
	return r;
}

/* ---- settling what an interrupted run left ---- */

/* Is the mbox copy that the P line e describes there, whole?  1 yes, 0
 * no (our own partial copy at the end is cut off), -1 unknown (said). */
static int
mboxsettle(struct nym_fetch *f, const struct nym_jent *e)
{
	static char a[NYM_IOBUF], b[NYM_IOBUF];
	unsigned long long k = 0;
	struct stat st, sst;
	size_t want, j, fromlen, hdr;
	ssize_t na, nb;
	int fd, r = 0;

	if (spoolopen(f, 1) == -1 || fstat(f->spoolfd, &sst) == -1)
		return -1;
	hdr = f->spoolhdr = strlen(e->uid) + 1;
	if ((unsigned long long)sst.st_size != hdr + e->len ||
	    pread(f->spoolfd, a, hdr, 0) != (ssize_t)hdr ||
	    memcmp(a, e->uid, hdr - 1) != 0) {
		/* The spool is written before the P line: without it
		 * nothing was appended, or someone removed it. */
		say(f, "unable to check %s for message %s: no spool copy; "
		    "delivering it again", f->target, e->uid);
		return 0;
	}
	if (mboxlock(f, 0) == -1)
		return errno == ENOENT ? 0 : -1;
	fd = f->mbx.fd;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((unsigned long long)st.st_size <= e->off)
		goto done;
	while (k < e->len) {
		want = e->len - k < sizeof a ? (size_t)(e->len - k) : sizeof a;
		na = pread(fd, a, want, (off_t)(e->off + k));
		nb = pread(f->spoolfd, b, want, (off_t)(hdr + k));
		if (na < 0 || nb != (ssize_t)want)
			goto fail;
		for (j = 0; j < (size_t)na && a[j] == b[j]; j++)
			;
		k += j;
		if (j < want)
			break;
	}
	if (k == e->len)
		r = 1;
	else if (e->off + k == (unsigned long long)st.st_size) {
		/* Nothing but the start of our copy after off: cut it. */
		if (ftruncate(fd, (off_t)e->off) == -1 || fsync(fd) == -1)
			goto fail;
	} else {
		nb = pread(f->spoolfd, b, 128, (off_t)hdr);
		for (fromlen = 0; nb > 0 && fromlen < (size_t)nb &&
		    b[fromlen] != '\n'; fromlen++)
			;
		if (k > fromlen)
			say(f, "unable to remove the partial copy of "
			    "message %s at byte %llu of %s: other mail "
			    "follows it", e->uid, e->off, f->target);
	}
done:
	(void)nym_mbox_unlock(&f->mbx);
	return r;
fail:
	say(f, "unable to check %s: %s", f->target, strerror(errno));
	(void)nym_mbox_unlock(&f->mbx);
	return -1;
}

/* Settle message i, whose last P line has no D: delivered (1), not (0),
 * or unknown for now (-1: neither deliver nor delete it in this run). */
static int
settle(struct nym_fetch *f, size_t i)
{
	const struct nym_jent *e = f->m[i].e;
	char path[PATH_MAX];
	int r;

	if (e->kind != f->mode || e->kind == 'p') {
		say(f, "message %lu may have been delivered by an "
		    "interrupted run%s: delivering it again", f->m[i].n,
		    e->kind != f->mode ? " to another destination" : "");
		f->m[i].again = 1;
		return 0;
	}
	if (e->kind == 'd') {
		/* Its file in tmp/ is half written, or a second link to
		 * what new/ holds (killed before the unlink): not needed. */
		if ((size_t)snprintf(path, sizeof path, "%s/tmp/%s",
		    f->target, e->name) < sizeof path)
			(void)unlink(path);
		return nym_maildir_published(f->target, e->name);
	}
	if ((r = mboxsettle(f, e)) == 0 && record(f, "U %s\n", e->uid) == 0)
		spoolclear(f);
	return r;
}

int
nym_fetch_settle(struct nym_fetch *f)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < f->nm; i++) {
		if (f->m[i].done || f->m[i].e == NULL || f->m[i].e->kind == 0)
			continue;
		switch (settle(f, i)) {
		case 1:
			if (record(f, "D %s\n", f->m[i].uid) == -1)
				return -1;
			if (f->mode == 'm')
				spoolclear(f);
			f->m[i].done = 1;
			break;
		case -1:
			f->m[i].skip = 1;
			ret = 1;
			break;
		}
	}
	return ret;
}

/* ---- the listing ---- */

int
nym_fetch_listing(struct nym_fetch *f, size_t n)
{
	if ((f->m = calloc(n + 1, sizeof *f->m)) == NULL)
		return -1;
	f->nm = n;
	return 0;
}

/*
 * Messages deleted in an earlier session (X lines) that the server
 * lists again: with the same size, or a size unknown on either side,
 * it kept them although it accepted their DELE and QUIT; they are taken
 * as delivered (DELEd again, never delivered again).  Another size is
 * another message under a reused unique-id (RFC 1939 forbids it, but
 * a lost message is worse than a warning): it is delivered.  Then the
 * messages that LIST says are over maxsize are left on the server.
 */
void
nym_fetch_relisted(struct nym_fetch *f, const char *where,
    uint64_t maxsize)
{
	struct nym_fetchmsg *m = f->m;
	const struct nym_jent *e;
	size_t i, kept = 0;

	for (i = 0; i < f->nm; i++) {
		m[i].e = nym_journal_find(&f->jr, m[i].uid);
		m[i].done = m[i].e != NULL && m[i].e->done;
	}
	for (i = 0; i < f->nm; i++) {
		e = m[i].e;
		if (m[i].done || e == NULL || !e->gone || e->kind != 0)
			continue;
		if (e->gsize != 0 && m[i].size != 0 && e->gsize != m[i].size)
			continue;
		m[i].done = 1;
		kept++;
	}
	if (kept > 0)
		say(f, "unable to delete %zu message%s at %s for good: "
		    "listed again after the server accepted DELE and QUIT; "
		    "%s", kept, kept == 1 ? "" : "s", where, f->keep ?
		    "not delivered again" : "not delivered again, deleted "
		    "again");
	for (i = 0; i < f->nm; i++)
		if (m[i].size > maxsize && !m[i].done) {
			m[i].skip = 1;
			f->toobig = 1;
			say(f, "unable to fetch message %lu from %s: %llu "
			    "bytes, over %llu (-M); it stays on the server",
			    m[i].n, where, (unsigned long long)m[i].size,
			    (unsigned long long)maxsize);
		}
}

/* ---- the end of a session ---- */

void
nym_fetch_cut(struct nym_fetch *f)
{
	f->critical = 0;
	(void)nym_fetch_commit(f, 0);
	(void)record(f, "C\n");
	(void)nym_fetch_sync(f);
}

/* After a good QUIT: keep only what the server still holds (with keep,
 * or whose DELE was refused), and what is still unsettled; and write,
 * in the .gone file beside it, an X line for each message deleted now,
 * with its size: if the server lists it again, it ignored the DELE (see
 * nym_fetch_relisted).  One line per listed message at most, so both
 * files stay bounded by the listing. */
int
nym_fetch_compact(struct nym_fetch *f)
{
	const size_t max = NYM_POP3_UIDL + 64;
	const struct nym_fetchmsg *l;
	const struct nym_jent *e;
	char *buf = NULL, *gone = NULL;
	size_t i, len = 0, glen = 0;
	int r = 0;

	if (nym_reallocarray(&buf, f->nm + 1, max) == -1 ||
	    nym_reallocarray(&gone, f->nm + 1, max) == -1) {
		free(buf);
		fatal(f, NYM_EX_TEMPFAIL, "unable to allocate memory");
		return -1;
	}
	for (i = 0; i < f->nm; i++) {
		l = &f->m[i];
		e = l->e;
		if (l->done && (f->keep || l->refused))
			len += (size_t)snprintf(buf + len, max, "D %s\n",
			    l->uid);
		else if (l->done)
			glen += (size_t)snprintf(gone + glen, max,
			    "X %s %llu\n", l->uid,
			    (unsigned long long)(l->size != 0 || e == NULL ?
			    l->size : e->gsize));
		else if (l->skip && e != NULL && e->kind == 'm')
			len += (size_t)snprintf(buf + len, max,
			    "P %s mbox %llu %llu\n", l->uid, e->off, e->len);
		else if (l->again && !l->done)
			len += (size_t)snprintf(buf + len, max, "P %s cmd\n",
			    l->uid);
	}
	if (nym_journal_rewrite(&f->jr, buf, len, gone, glen) == -1) {
		say(f, "unable to rewrite %s: %s", f->jr.path,
		    strerror(errno));
		r = -1;
	}
	free(buf);
	free(gone);
	return r;
}

void
nym_fetch_litter(struct nym_fetch *f)
{
	if (f->curtmp[0] != '\0')
		(void)unlink(f->curtmp);
	for (; f->batch.n > 0; f->batch.n--)
		(void)unlink(f->batch.tmp[f->batch.n - 1]);
	if (f->mbx.dotlocked)
		(void)unlink(f->mbx.lock);
}

void
nym_fetch_close(struct nym_fetch *f)
{
	struct stat st;

	if (f->spoolfd != -1) {
		if (fstat(f->spoolfd, &st) == 0 && st.st_size == 0)
			(void)unlink(f->jr.spool);
		close(f->spoolfd);
		f->spoolfd = -1;
	}
	free(f->m);
	f->m = NULL;
	f->nm = 0;
	nym_journal_close(&f->jr);
	nym_mdbatch_close(&f->batch);
}
