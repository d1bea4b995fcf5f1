/*
 * pop-fetch - fetch mail from a POP3 server, deliver it safely, then
 * delete it.
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
 * what an interrupted run left, the signals.  The parts are the
 * library's: the POP3 session, its pipelined RETR and DELE queue and
 * its deadlines (lib/pop3client.c), the journal file (lib/journal.c),
 * the batch commit (nym_mdbatch_*, lib/maildir.c), the mbox writer and
 * its locks (lib/mbox.c).
 */
#include <ctype.h>
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"
#include "i2p.h"
#include "store.h"

#define USAGE "usage: pop-fetch [-ak] [-H host:port | -o onion[:port] | " \
	"-s destination] -u user\n" \
	"                 [-F fd | -P file] [-K key] [-L messages] " \
	"[-M size]\n" \
	"                 [-S host:port] [-T host:port] [-W seconds] " \
	"[-w seconds]\n" \
	"                 -d maildir | -m mbox | -p command\n"

#define POP3_PORT	110

static int kflag;
static int wsec = 120;
static long wsession = NYM_POP3_SESSION;	/* -W */
static long long sessionend;	/* nym_now_ms() when the session must end */
static long listmax = NYM_POP3_LISTMAX;	/* -L */
static uint64_t maxsize = NYM_SMTP_SIZE;	/* -M */
static int toobig;		/* LIST said a message is over -M: left
				   behind (pop.toobig: found in its RETR) */
static int progress;
static char mode;		/* 'd', 'm' or 'p' */
static const char *target;	/* maildir, mbox or command */

/* ---- signals: hold off while a delivery is committed ---- */

static volatile sig_atomic_t critical, stopsig;
static char curtmp[PATH_MAX];	/* a maildir file being written */
static struct nym_mbox mbx = { .fd = -1 };	/* the mbox, when locked */
/* The maildir batch: files written into tmp/, not yet published. */
static struct nym_mdbatch batch = { .dirfd = -1, .newfd = -1 };

static void
onsignal(int sig)
{
	if (critical) {
		stopsig = sig;
		return;
	}
	/* Outside a commit nothing is lost by dying, but leave no litter. */
	if (curtmp[0] != '\0')
		(void)unlink(curtmp);
	for (; batch.n > 0; batch.n--)
		(void)unlink(batch.tmp[batch.n - 1]);
	if (mbx.dotlocked)
		(void)unlink(mbx.lock);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
catchsignals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ---- the account's state (lib/journal.c) ---- */

static struct nym_journal jr = { .fd = -1, .lockfd = -1, .dirfd = -1 };
/* The spool: a whole message before it goes to an mbox or command. */
static int spoolfd = -1;
static size_t spoolhdr;		/* the "uid\n" line that starts it */

/* Lock the account (another run holds it: exit 0, as cron wants) and
 * read its state. */
static void
loadstate(const char *account)
{
	char dir[PATH_MAX];

	if (nym_confdir(dir, sizeof dir) == -1 ||
	    strlen(dir) + sizeof "/pop" > sizeof dir)
		nym_die(NYM_EX_CONFIG, "unable to find the state directory: "
		    "set HOME");
	memcpy(dir + strlen(dir), "/pop", sizeof "/pop");
	switch (nym_journal_open(&jr, dir, account)) {
	case 0:
		return;
	case 1:
		exit(NYM_EX_OK);	/* another run is at it */
	}
	if (errno == EFBIG)
		nym_die(NYM_EX_CONFIG, "unable to read %s: over %d bytes",
		    jr.path, NYM_POPF_STATE_MAX);
	if (errno == ENOMEM)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	nym_dieerr(NYM_EX_TEMPFAIL, "unable to %s %s", jr.verb, jr.path);
}

/* Append a journal line.  0, or -1 (said). */
static int
record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
record(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nym_journal_vadd(&jr, fmt, ap);
	va_end(ap);
	if (r == 0)
		return 0;
	if (errno == E2BIG)
		nym_die(NYM_EX_SOFTWARE, "unable to write %s/%s: line too "
		    "long", jr.dir, jr.name);
	if (jr.cutfail != 0)
		nym_warn("unable to truncate %s/%s: %s", jr.dir, jr.name,
		    strerror(jr.cutfail));
	nym_warn("unable to write %s/%s: %s", jr.dir, jr.name,
	    strerror(errno));
	return -1;
}

/* Make the journal durable.  0, or -1 (said). */
static int
syncstate(void)
{
	if (nym_journal_sync(&jr) == -1) {
		nym_warn("unable to write %s/%s: %s", jr.dir, jr.name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the spool ---- */

/* Open the spool, creating it where missing (and, for a copy the next
 * run may need, syncing the directory).  0, or -1 (said). */
static int
spoolopen(int durable)
{
	int created = 0;

	if (spoolfd != -1)
		return 0;
	spoolfd = open(jr.spool, O_RDWR | O_CLOEXEC);
	if (spoolfd == -1 && errno == ENOENT) {
		spoolfd = open(jr.spool, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		created = 1;
	}
	if (spoolfd == -1 ||
	    (created && durable && nym_syncdir(jr.dir) == -1)) {
		nym_warn("unable to create %s: %s", jr.spool,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Forget the spooled message (it holds mail in the clear). */
static void
spoolclear(void)
{
	if (spoolfd != -1 && ftruncate(spoolfd, 0) == -1)
		nym_warn("unable to empty %s: %s", jr.spool, strerror(errno));
}

/* ---- the mbox (lib/mbox.c): mbox.lock and fcntl ---- */

/* Open the mbox (creating it when create) and lock it both ways.  0, or
 * -1 (said; errno ENOENT when it is missing). */
static int
mboxlock(const char *mbox, int create)
{
	int e;

	if (nym_mbox_lock(&mbx, mbox, create, wsec * 1000) == 0)
		return 0;
	e = errno;
	if (mbx.step == NYM_MBOX_OPEN) {
		if (e != ENOENT || create)
			nym_warn("unable to open %s: %s", mbox, strerror(e));
		errno = e;
		return -1;
	}
	nym_warn("unable to lock %s: %s", mbox, nym_mbox_why(&mbx, e));
	errno = EWOULDBLOCK;
	return -1;
}

/* ---- the password ---- */

static char pw[NYM_POP3_LINE];

static void
getpassword(const char *file, const char *fdarg, const char *what)
{
	int fd = fdarg != NULL ? (int)nym_num(NYM_EX_USAGE, "-F", fdarg, 0, INT_MAX) : -1;
	char why[PATH_MAX + 64];

	(void)mlock(pw, sizeof pw);
	if (nym_password(file, fd, what, pw, sizeof pw) == 0)
		return;
	if (errno == ENXIO)
		nym_die(NYM_EX_CONFIG, "unable to read the password: no "
		    "terminal; use -P or -F");
	if (file != NULL)
		nym_die(NYM_EX_CONFIG, "unable to read password file %s: %s",
		    file, nym_secretwhy(file, errno, why, sizeof why));
	nym_dieerr(NYM_EX_CONFIG, "unable to read the password");
}

/* ---- the session (lib/pop3client.c) ---- */

static struct nym_pop3_client pop = { .fd = -1 };

/* What pop-fetch knows of each listed message beyond the listing
 * (pop.msg[i]). */
struct msg {
	struct nym_jent *e;		/* its state, or NULL if new */
	int done;		/* delivered, in an earlier run or this one */
	int again;		/* an interrupted run may have delivered it */
	int skip;		/* unsettled or over -M: neither deliver nor
				   delete */
};

static struct msg *m;
static size_t nm;

/* The client's failure ends the run: say why. */
static void
popdie(int code)
{
	explicit_bzero(pw, sizeof pw);
	nym_die(code, "%s", pop.why);
}

static void
popwarn(const char *why)
{
	nym_warn("%s", why);
}

/* DELE the i-th listed message, unless -k.  0, or -1 (said). */
static int
dele(size_t i)
{
	if (kflag || nym_pop3_dele(&pop, i) == 0)
		return 0;
	nym_warn("%s", pop.why);
	return -1;
}

/* Copy the RETR response to o.  0, or -1 (said). */
static int
copy(struct nym_out *o, unsigned flags)
{
	if (nym_pop3_body(&pop, o, flags) == 0)
		return 0;
	nym_warn("%s", pop.why);
	return -1;
}

/* ---- delivery ---- */

/* Results of one delivery.  After DELIVERED the caller writes the D
 * line and only then leaves the critical section. */
enum { DELIVERED, DEFERRED, NETFAIL, LOCALFAIL };

/* Fetch the message into a file in tmp/ and add it to the batch; it is
 * published by dircommit.  DELIVERED (meaning: written), NETFAIL or
 * LOCALFAIL. */
static int
todir(size_t i)
{
	struct nym_mdfile f;
	struct nym_out o;

	if (nym_maildir_open(&f, target) == -1) {
		nym_warn("unable to create a file in %s: %s", target,
		    strerror(errno));
		return LOCALFAIL;
	}
	snprintf(curtmp, sizeof curtmp, "%s", f.tmp);
	if (record("P %s %s\n", pop.msg[i].uid, f.name) == -1) {
		nym_maildir_abort(&f);
		curtmp[0] = '\0';
		return LOCALFAIL;
	}
	if (nym_out_open(&o, f.fd, NYM_IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (copy(&o, NYM_POP3_LF) == -1) {
		nym_out_close(&o);
		nym_maildir_abort(&f);
		curtmp[0] = '\0';
		return NETFAIL;
	}
	if (nym_out_flush(&o) == -1 || close(f.fd) == -1) {
		nym_warn("unable to write a message in %s: %s", target,
		    strerror(errno));
		nym_out_close(&o);
		nym_maildir_abort(&f);
		curtmp[0] = '\0';
		return LOCALFAIL;
	}
	f.fd = -1;
	/* Into the batch before curtmp lets go of it: a signal in between
	 * unlinks it twice, which is harmless. */
	nym_mdbatch_add(&batch, &f, i, o.total);
	nym_out_close(&o);
	curtmp[0] = '\0';
	return DELIVERED;
}

/*
 * Publish the batch with a constant number of flushes: its P lines
 * synced; every file's data and inode synced at once by syncfs(2) on
 * the maildir's file system; each linked into new/ and unlinked from
 * tmp/; new/ synced; then a D line each, and, with dele, their DELEs.
 * 0, or -1 (said): whatever was not made durable is not in new/ and has
 * no D line; -2 if the connection broke on a DELE.
 */
static int
dircommit(int dodele, size_t *done, size_t todo)
{
	size_t k, n = (size_t)batch.n, nl, i;
	int e = 0, ret = 0;

	if (n == 0)
		return 0;
	if (syncstate() == -1) {
		nym_mdbatch_drop(&batch);
		return -1;
	}
	if (nym_mdbatch_sync(&batch) == -1) {
		nym_warn("unable to write a message in %s: %s", target,
		    strerror(errno));
		nym_mdbatch_drop(&batch);
		return -1;
	}
	critical = 1;
	nl = nym_mdbatch_link(&batch, &e);
	if (nl < n) {
		nym_warn("unable to write a message in %s: %s", target,
		    strerror(e));
		ret = -1;
	}
	if (nym_mdbatch_syncnew(&batch, nl) == -1) {
		/* Taken back: the server keeps them. */
		nym_warn("unable to write a message in %s: %s", target,
		    strerror(errno));
		critical = 0;
		return -1;
	}
	/* Durable.  D lines are synced with the next batch's P lines, or
	 * before QUIT; until then the P lines and new/ say the same. */
	for (k = 0; k < nl; k++) {
		i = batch.tag[k];
		if (record("D %s\n", pop.msg[i].uid) == -1) {
			ret = -1;
			break;
		}
		m[i].done = 1;
		if (progress)
			fprintf(stderr, "\r%s: %zu/%zu", nym_progname,
			    ++*done, todo);
		if (dodele && dele(i) == -1) {
			critical = 0;
			return -2;
		}
	}
	critical = 0;
	return ret;
}

/* Fetch the message into the spool after a "uid" line, as it is to be
 * delivered: with mbox, a From_ line first, From_ lines in it quoted
 * (mboxrd) and an empty line after it, the whole synced.  *len gets its
 * length without the uid line. */
static int
spoolfill(const char *uid, int mbox, unsigned long long *len)
{
	struct nym_out o;
	char from[80];

	/* A command killed along with an earlier run may still be reading
	 * its copy: a new file for each message leaves that one alone. */
	if (!mbox) {
		if (spoolfd != -1)
			close(spoolfd);
		spoolfd = -1;
		if (unlink(jr.spool) == -1 && errno != ENOENT) {
			nym_warn("unable to remove %s: %s", jr.spool,
			    strerror(errno));
			return LOCALFAIL;
		}
	}
	if (spoolopen(mbox) == -1)
		return LOCALFAIL;
	if (ftruncate(spoolfd, 0) == -1 || lseek(spoolfd, 0, SEEK_SET) == -1) {
		nym_warn("unable to write %s: %s", jr.spool, strerror(errno));
		return LOCALFAIL;
	}
	if (nym_out_open(&o, spoolfd, NYM_IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	spoolhdr = strlen(uid) + 1;
	nym_out_puts(&o, uid);
	nym_out_write(&o, "\n", 1);
	if (mbox) {
		nym_mbox_fromline(from, sizeof from, time(NULL));
		nym_out_puts(&o, from);
	}
	if (copy(&o, NYM_POP3_LF | (mbox ? NYM_POP3_MBOXRD : 0)) == -1) {
		nym_out_close(&o);
		spoolclear();
		return NETFAIL;
	}
	if (mbox)
		nym_out_write(&o, "\n", 1);
	if (nym_out_flush(&o) == -1 || (mbox && fsync(spoolfd) == -1)) {
		nym_warn("unable to write %s: %s", jr.spool, strerror(errno));
		nym_out_close(&o);
		spoolclear();
		return LOCALFAIL;
	}
	*len = o.total - spoolhdr;
	nym_out_close(&o);
	return DELIVERED;
}

static int
tombox(const char *uid)
{
	unsigned long long len;
	int r;

	if ((r = spoolfill(uid, 1, &len)) != DELIVERED)
		return r;
	if (mboxlock(target, 1) == -1) {
		spoolclear();
		return LOCALFAIL;
	}
	/* Where it goes and how long it is, durable before the first byte
	 * is appended. */
	if (record("P %s mbox %lld %llu\n", uid, (long long)mbx.size,
	    len) == -1 || syncstate() == -1) {
		(void)nym_mbox_unlock(&mbx);
		spoolclear();
		return LOCALFAIL;
	}
	critical = 1;
	if (nym_mbox_appendfd(&mbx, spoolfd, (off_t)spoolhdr, len) == -1) {
		nym_warn("unable to write %s: %s", target, strerror(errno));
		/* Never leave half a message behind (appendfd cut it off).
		 * If even that failed, the P line and the spool let the
		 * next run do it. */
		if (mbx.cutfail != 0)
			nym_warn("unable to truncate %s: %s", target,
			    strerror(mbx.cutfail));
		else if (record("U %s\n", uid) == 0)
			spoolclear();
		(void)nym_mbox_unlock(&mbx);
		return LOCALFAIL;
	}
	/* Synced: a failing close cannot undo it. */
	if (nym_mbox_unlock(&mbx) == -1)
		nym_warn("unable to close %s: %s", target, strerror(errno));
	return DELIVERED;
}

static int
tocmd(size_t i)
{
	const char *uid = pop.msg[i].uid;
	unsigned long long len;
	int st, r, in, again = m[i].again;
	pid_t pid;

	if ((r = spoolfill(uid, 0, &len)) != DELIVERED)
		return r;
	/* From here on the command may deliver it: say so first. */
	if (record("P %s cmd\n", uid) == -1 || syncstate() == -1)
		return LOCALFAIL;
	critical = 1;
	if ((in = open(jr.spool, O_RDONLY | O_CLOEXEC)) == -1 ||
	    lseek(in, (off_t)spoolhdr, SEEK_SET) == -1 ||
	    (pid = fork()) == -1) {
		nym_warn("unable to run %s: %s", target, strerror(errno));
		if (in != -1)
			close(in);
		if (!again)
			(void)record("U %s\n", uid);
		return LOCALFAIL;
	}
	if (pid == 0) {
		close(pop.fd);	/* the command has no business with it */
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
			nym_warn("unable to wait for %s: %s", target,
			    strerror(errno));
			return LOCALFAIL;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return DELIVERED;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != NYM_EX_TEMPFAIL)
		nym_warn("unable to deliver message %lu: %s %s %d", pop.msg[i].n,
		    target, WIFEXITED(st) ? "exited with" : "killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	/* Refused now; but if an interrupted run may have given it to the
	 * command before, the next try must still say so. */
	if (!again)
		(void)record("U %s\n", uid);
	return DEFERRED;
}

/* ---- settling what an interrupted run left ---- */

/* Is the mbox copy that the P line e describes there, whole?  1 yes, 0
 * no (our own partial copy at the end is cut off), -1 unknown (said). */
static int
mboxsettle(const struct nym_jent *e)
{
	static char a[NYM_IOBUF], b[NYM_IOBUF];
	unsigned long long k = 0;
	struct stat st, sst;
	size_t want, j, fromlen;
	ssize_t na, nb;
	int fd, r = 0;

	if (spoolopen(1) == -1 || fstat(spoolfd, &sst) == -1)
		return -1;
	spoolhdr = strlen(e->uid) + 1;
	if ((unsigned long long)sst.st_size != spoolhdr + e->len ||
	    pread(spoolfd, a, spoolhdr, 0) != (ssize_t)spoolhdr ||
	    memcmp(a, e->uid, spoolhdr - 1) != 0) {
		/* The spool is written before the P line: without it
		 * nothing was appended, or someone removed it. */
		nym_warn("unable to check %s for message %s: no spool copy; "
		    "delivering it again", target, e->uid);
		return 0;
	}
	if (mboxlock(target, 0) == -1)
		return errno == ENOENT ? 0 : -1;
	fd = mbx.fd;
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((unsigned long long)st.st_size <= e->off)
		goto done;
	while (k < e->len) {
		want = e->len - k < sizeof a ? (size_t)(e->len - k) : sizeof a;
		na = pread(fd, a, want, (off_t)(e->off + k));
		nb = pread(spoolfd, b, want, (off_t)(spoolhdr + k));
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
		nb = pread(spoolfd, b, 128, (off_t)spoolhdr);
		for (fromlen = 0; nb > 0 && fromlen < (size_t)nb &&
		    b[fromlen] != '\n'; fromlen++)
			;
		if (k > fromlen)
			nym_warn("unable to remove the partial copy of "
			    "message %s at byte %llu of %s: other mail "
			    "follows it", e->uid, e->off, target);
	}
done:
	(void)nym_mbox_unlock(&mbx);
	return r;
fail:
	nym_warn("unable to check %s: %s", target, strerror(errno));
	(void)nym_mbox_unlock(&mbx);
	return -1;
}

/* Settle m, whose last P line has no D: delivered (1), not (0), or
 * unknown for now (-1: neither deliver nor delete it in this run). */
static int
settle(size_t i)
{
	const struct nym_jent *e = m[i].e;
	char path[PATH_MAX];
	int r;

	if (e->kind != mode || e->kind == 'p') {
		nym_warn("message %lu may have been delivered by an "
		    "interrupted run%s: delivering it again", pop.msg[i].n,
		    e->kind != mode ? " to another destination" : "");
		m[i].again = 1;
		return 0;
	}
	if (e->kind == 'd') {
		/* Its file in tmp/ is half written, or a second link to
		 * what new/ holds (killed before the unlink): not needed. */
		if ((size_t)snprintf(path, sizeof path, "%s/tmp/%s", target,
		    e->name) < sizeof path)
			(void)unlink(path);
		return nym_maildir_published(target, e->name);
	}
	if ((r = mboxsettle(e)) == 0 && record("U %s\n", e->uid) == 0)
		spoolclear();
	return r;
}

/* ---- the fetch ---- */

/*
 * Messages deleted in an earlier session (X lines) that the server
 * lists again: with the same size, or a size unknown on either side,
 * it kept them although it accepted their DELE and QUIT; they are taken
 * as delivered (DELEd again, never delivered again).  Another size is
 * another message under a reused unique-id (RFC 1939 forbids it, but
 * a lost message is worse than a warning): it is delivered.  Then the
 * messages that LIST says are over -M are left on the server.
 */
static void
relisted(void)
{
	const struct nym_jent *e;
	size_t i, kept = 0;

	for (i = 0; i < nm; i++) {
		e = m[i].e;
		if (m[i].done || e == NULL || !e->gone || e->kind != 0)
			continue;
		if (e->gsize != 0 && pop.msg[i].size != 0 &&
		    e->gsize != pop.msg[i].size)
			continue;
		m[i].done = 1;
		kept++;
	}
	if (kept > 0)
		nym_warn("unable to delete %zu message%s at %s for good: "
		    "listed again after the server accepted DELE and QUIT; "
		    "%s", kept, kept == 1 ? "" : "s", pop.where, kflag ?
		    "not delivered again" : "not delivered again, deleted "
		    "again");
	for (i = 0; i < nm; i++)
		if (pop.msg[i].size > maxsize && !m[i].done) {
			m[i].skip = 1;
			toobig = 1;
			nym_warn("unable to fetch message %lu from %s: %llu "
			    "bytes, over %llu (-M); it stays on the server",
			    pop.msg[i].n, pop.where,
			    (unsigned long long)pop.msg[i].size,
			    (unsigned long long)maxsize);
		}
}

/* After a good QUIT: keep only what the server still holds (with -k,
 * or whose DELE was refused), and what is still unsettled; and write,
 * in the .gone file beside it, an X line for each message deleted now,
 * with its size: if the server lists it again, it ignored the DELE (see
 * relisted).  One line per listed message at most, so both files stay
 * bounded by the listing. */
static void
compact(void)
{
	const size_t max = NYM_POP3_UIDL + 64;
	const struct nym_pop3_msg *l;
	const struct nym_jent *e;
	char *buf = NULL, *gone = NULL;
	size_t i, len = 0, glen = 0;

	if (nym_reallocarray(&buf, nm + 1, max) == -1 ||
	    nym_reallocarray(&gone, nm + 1, max) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < nm; i++) {
		e = m[i].e;
		l = &pop.msg[i];
		if (m[i].done && (kflag || l->refused))
			len += (size_t)snprintf(buf + len, max, "D %s\n",
			    l->uid);
		else if (m[i].done)
			glen += (size_t)snprintf(gone + glen, max,
			    "X %s %llu\n", l->uid,
			    (unsigned long long)(l->size != 0 || e == NULL ?
			    l->size : e->gsize));
		else if (m[i].skip && e != NULL && e->kind == 'm')
			len += (size_t)snprintf(buf + len, max,
			    "P %s mbox %llu %llu\n", l->uid, e->off, e->len);
		else if (m[i].again && !m[i].done)
			len += (size_t)snprintf(buf + len, max, "P %s cmd\n",
			    l->uid);
	}
	if (nym_journal_rewrite(&jr, buf, len, gone, glen) == -1)
		nym_warn("unable to rewrite %s: %s", jr.path, strerror(errno));
	free(buf);
	free(gone);
}

/*
 * The session after the listing: settle what an interrupted run left,
 * DELE what earlier runs delivered, then fetch and deliver the rest.
 * 0 when the session can end with QUIT (*ret says how it went), -1 when
 * the connection broke.
 */
static int
fetchall(size_t *done, size_t *todo, int *ret)
{
	size_t i;
	int r;

	/* Interrupted earlier between P and D: settle that first. */
	for (i = 0; i < nm; i++) {
		if (m[i].done || m[i].e == NULL || m[i].e->kind == 0)
			continue;
		switch (settle(i)) {
		case 1:
			if (record("D %s\n", pop.msg[i].uid) == -1) {
				*ret = NYM_EX_TEMPFAIL;
				return 0;
			}
			if (mode == 'm')
				spoolclear();
			m[i].done = 1;
			break;
		case -1:
			m[i].skip = 1;
			*ret = NYM_EX_TEMPFAIL;
			break;
		}
	}
	for (i = 0; i < nm; i++)
		if ((pop.msg[i].fetch = !m[i].done && !m[i].skip))
			(*todo)++;

	/* Delivered by an earlier run: DELE them before anything else. */
	for (i = 0; i < nm; i++)
		if (m[i].done && !m[i].skip && dele(i) == -1)
			return -1;
	for (i = 0; i < nm; i++) {
		if (!pop.msg[i].fetch)
			continue;
		if ((r = nym_pop3_fetch(&pop, i)) == -1) {
			nym_warn("%s", pop.why);
			return -1;
		}
		if (r == 0) {
			nym_warn("unable to fetch message %lu at %s: %s",
			    pop.msg[i].n, pop.where, pop.text);
			*ret = NYM_EX_TEMPFAIL;
			continue;
		}
		if (mode == 'd') {
			/* Written into tmp/; published with its batch. */
			r = todir(i);
			if (r == NETFAIL)
				return -1;
			if (r == LOCALFAIL) {
				*ret = NYM_EX_TEMPFAIL;
				return 0;
			}
			if (nym_mdbatch_due(&batch) &&
			    (r = dircommit(1, done, *todo)) != 0) {
				if (r == -2)
					return -1;
				*ret = NYM_EX_TEMPFAIL;
				return 0;
			}
			if (stopsig)
				return 0;
			continue;
		}
		r = mode == 'm' ? tombox(pop.msg[i].uid) : tocmd(i);
		if (r == DELIVERED) {
			/* A command cannot be asked later: sync at once. */
			if (record("D %s\n", pop.msg[i].uid) == -1 ||
			    (mode == 'p' && syncstate() == -1))
				r = LOCALFAIL;
			else
				spoolclear();
		}
		critical = 0;
		if (r == NETFAIL)
			return -1;
		if (r == LOCALFAIL) {
			*ret = NYM_EX_TEMPFAIL;
			return 0;
		}
		if (r == DEFERRED)
			*ret = NYM_EX_TEMPFAIL;
		else {
			m[i].done = 1;
			if (progress)
				fprintf(stderr, "\r%s: %zu/%zu", nym_progname,
				    ++*done, *todo);
			if (dele(i) == -1)
				return -1;
		}
		if (stopsig)
			return 0;
	}
	return 0;
}

/* End the session: publish what is written, read what is owed, sync
 * the journal, QUIT, and after a good QUIT compact the state.  0, or
 * -1 when the connection broke. */
static int
endsession(size_t *done, size_t todo, int *ret)
{
	int r;

	/* What is written is published (the last batch, or what came
	 * before a failure), then every reply still owed is read. */
	if ((r = dircommit(1, done, todo)) == -2)
		return -1;
	if (r == -1)
		*ret = NYM_EX_TEMPFAIL;
	if (nym_pop3_drain(&pop) == -1) {
		nym_warn("%s", pop.why);
		return -1;
	}
	/* What was delivered must be on disk before the server forgets;
	 * if it cannot be, no QUIT: the server then forgets the DELEs. */
	if (syncstate() == -1) {
		*ret = NYM_EX_TEMPFAIL;
		return 0;
	}
	/* The server now holds what it listed less what was DELEted: with
	 * -k, every delivered message is still there. */
	if (nym_pop3_quit(&pop) == 1)
		compact();
	else {
		nym_warn("%s", pop.why);
		*ret = NYM_EX_TEMPFAIL;
	}
	return 0;
}

/* The connection broke: what was written whole is still published
 * (without DELE), and a C line makes the next runs careful. */
static void
cutsession(size_t *done, size_t todo, int *ret)
{
	critical = 0;
	(void)dircommit(0, done, todo);
	/* 70 only for commands out of order, a bug. */
	*ret = pop.code == NYM_EX_SOFTWARE ? NYM_EX_SOFTWARE :
	    NYM_EX_TEMPFAIL;
	(void)record("C\n");
	(void)syncstate();
}

/* ---- options and the configuration: a key for every option ---- */

static void
usage(void)
{
	nym_usage();
}

/* "~/x" from the configuration as $HOME/x (a static copy). */
static const char *
confpath(const char *key)
{
	static char buf[4][PATH_MAX];
	static int next;
	const char *v = nym_conf_get(key), *home = getenv("HOME");
	char *b;

	if (v == NULL || strncmp(v, "~/", 2) != 0 || home == NULL)
		return v;
	b = buf[next++ % 4];
	if ((size_t)snprintf(b, PATH_MAX, "%s%s", home, v + 1) >= PATH_MAX)
		nym_die(NYM_EX_CONFIG, "unable to use %s: path too long", key);
	return b;
}

static int
confbool(const char *key)
{
	const char *v = nym_conf_get(key);

	if (v == NULL || strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	nym_die(NYM_EX_CONFIG, "unable to use %s = %s: expected yes or no",
	    key, v);
}

/* Of keys[0..n), the one set (its index in *which), or NULL; two set is
 * a configuration error. */
static const char *
confone(const char *const *keys, size_t n, size_t *which)
{
	const char *v, *got = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v = confpath(keys[i])) == NULL)
			continue;
		if (got != NULL)
			nym_die(NYM_EX_CONFIG, "unable to use the configuration: "
			    "%s and %s are both set", keys[*which], keys[i]);
		got = v;
		*which = i;
	}
	return got;
}

/* The server and how to reach it. */
static struct {
	const char *host, *onion, *dest;	/* -H, -o, -s: one of them */
	char hostbuf[256];
	const char *port;		/* -H's */
	char name[NYM_SOCKS_NAME + 1];	/* -o's, lower-cased */
	int onionport;
	char where[NYM_SOCKS_NAME + 8];
	char account[NYM_POP3_LINE];	/* user@server: the state's name */
	struct nym_socks sk;		/* -o: the Tor proxy */
	struct nym_samaddr sa;		/* -s: the SAM bridge */
	struct nym_hold hold;
	struct nym_sam sam;
} srv = { .onionport = POP3_PORT };

static const char *user, *pwfile, *pwfd, *socksarg, *keyarg;
static int aflag, srvcode = NYM_EX_USAGE;

/* The command line, then the configuration for what it leaves open. */
static void
options(int argc, char *argv[])
{
	static const char *const srvkeys[] = {
		"pop-host", "pop-onion", "pop-destination"
	};
	static const char *const dlvkeys[] = {
		"pop-maildir", "pop-mbox", "pop-command"
	};
	static const char *const pwkeys[] = {
		"pop-password-file", "pop-password-fd"
	};
	const char *v, *sizearg = NULL, *listarg = NULL, *sessarg = NULL;
	size_t which = 0;
	int c, wset = 0, usercode = NYM_EX_USAGE;

	while ((c = getopt(argc, argv, "ad:F:H:K:kL:M:m:o:P:p:S:s:T:u:W:w:")) != -1) {
		switch (c) {
		case 'a': aflag = 1; break;
		case 'd':
		case 'm':
		case 'p':
			if (mode != '\0')
				usage();
			mode = (char)c;
			target = optarg;
			break;
		case 'F': pwfd = optarg; break;
		case 'H': srv.host = optarg; break;
		case 'K': keyarg = optarg; break;
		case 'k': kflag = 1; break;
		case 'L': listarg = optarg; break;
		case 'M': sizearg = optarg; break;
		case 'o': srv.onion = optarg; break;
		case 'P': pwfile = optarg; break;
		case 'S': nym_samaddr_opt(&srv.sa, optarg); break;
		case 's': srv.dest = optarg; break;
		case 'T': socksarg = optarg; break;
		case 'u': user = optarg; break;
		case 'W': sessarg = optarg; break;
		case 'w':
			wsec = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1, 3600);
			wset = 1;
			break;
		default: usage();
		}
	}
	if (optind != argc || (pwfile != NULL && pwfd != NULL) ||
	    (srv.host != NULL) + (srv.dest != NULL) + (srv.onion != NULL) > 1)
		usage();

	if (srv.host == NULL && srv.dest == NULL && srv.onion == NULL &&
	    (v = confone(srvkeys, 3, &which)) != NULL) {
		*(which == 0 ? &srv.host : which == 1 ? &srv.onion :
		    &srv.dest) = v;
		srvcode = NYM_EX_CONFIG;
	}
	if (mode == '\0' && (v = confone(dlvkeys, 3, &which)) != NULL) {
		mode = "dmp"[which];
		target = v;
	}
	if (pwfile == NULL && pwfd == NULL &&
	    (v = confone(pwkeys, 2, &which)) != NULL)
		*(which == 0 ? &pwfile : &pwfd) = v;
	if (user == NULL && (user = nym_conf_get("pop-user")) != NULL)
		usercode = NYM_EX_CONFIG;
	if (sizearg != NULL)
		maxsize = nym_size(NYM_EX_USAGE, "-M", sizearg,
		    UINT64_MAX / 2);
	else if ((v = nym_conf_get("pop-max-size")) != NULL)
		maxsize = nym_size(NYM_EX_CONFIG, "pop-max-size", v,
		    UINT64_MAX / 2);
	if (listarg != NULL)
		listmax = nym_num(NYM_EX_USAGE, "-L", listarg, 1,
		    NYM_POP3_LISTMAX);
	else if ((v = nym_conf_get("pop-max-messages")) != NULL)
		listmax = nym_num(NYM_EX_CONFIG, "pop-max-messages", v, 1,
		    NYM_POP3_LISTMAX);
	if (sessarg != NULL)
		wsession = nym_num(NYM_EX_USAGE, "-W", sessarg, 1, 86400);
	else if ((v = nym_conf_get("pop-session-time")) != NULL)
		wsession = nym_num(NYM_EX_CONFIG, "pop-session-time", v, 1,
		    86400);
	kflag = kflag || confbool("pop-keep");
	aflag = aflag || confbool("pop-any-name");
	if (!wset && (v = nym_conf_get("pop-timeout")) != NULL)
		wsec = (int)nym_num(NYM_EX_CONFIG, "pop-timeout", v, 1, 3600);
	if (user == NULL || mode == '\0' ||
	    (srv.host == NULL && srv.dest == NULL && srv.onion == NULL))
		usage();
	if (*user == '\0' || strpbrk(user, " \t\r\n") != NULL)
		nym_die(usercode, "unable to use user name %s", user);
}

/* ---- the server and the connection ---- */

/* Is s a name Tor may resolve (letters, digits, '-', '.', '_')? */
static int
proxyname(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-._");

	return n > 0 && s[n] == '\0';
}

/* -H host:port: never a hidden name, which DNS would learn. */
static void
tcpserver(void)
{
	const char *h = srv.host, *colon = strrchr(h, ':');
	long pn;

	if (colon == NULL || colon == h ||
	    (size_t)(colon - h) >= sizeof srv.hostbuf)
		nym_die(srvcode, "unable to use server %s: expected host:port",
		    h);
	snprintf(srv.hostbuf, sizeof srv.hostbuf, "%.*s", (int)(colon - h),
	    h);
	if (nym_hiddenname(srv.hostbuf))
		nym_die(srvcode, "unable to use server %s: .i2p and .onion "
		    "names are never looked up here (DNS would learn them); "
		    "give the I2P tunnel's address, e.g. -H 127.0.0.1:7660, "
		    "or use -s (I2P) or -o (Tor)", h);
	srv.port = colon + 1;
	if (nym_tolong(srv.port, 1, 65535, &pn) == -1)
		nym_die(srvcode, "unable to use server %s: expected a port "
		    "from 1 to 65535", h);
	snprintf(srv.account, sizeof srv.account, "%s@%s", user, h);
	pop.where = h;
}

/* -o name[:port], through the Tor proxy of -T, TOR_SOCKS or tor-socks. */
static void
onionserver(void)
{
	const char *o = srv.onion, *colon = strrchr(o, ':');
	size_t i, n = colon != NULL ? (size_t)(colon - o) : strlen(o);
	long pn;

	if (n == 0 || n >= sizeof srv.name)
		nym_die(srvcode, "unable to use onion address %s: expected "
		    "name[:port]", o);
	for (i = 0; i < n; i++)
		srv.name[i] = (char)tolower((unsigned char)o[i]);
	srv.name[n] = '\0';
	if (colon != NULL) {
		if (nym_tolong(colon + 1, 1, 65535, &pn) == -1)
			nym_die(srvcode, "unable to use onion address %s: "
			    "expected a port from 1 to 65535", o);
		srv.onionport = (int)pn;
	}
	if (!aflag && (nym_domkind(srv.name) != NYM_DOM_ONION ||
	    strlen(srv.name) != 56 + sizeof ".onion" - 1))
		nym_die(srvcode, "unable to use onion address %s: expected 56 "
		    "base32 characters and .onion (Tor v3); -a passes other "
		    "names", srv.name);
	if (!proxyname(srv.name))
		nym_die(srvcode, "unable to use host name %s: only letters, "
		    "digits, '-', '.' and '_'", srv.name);
	if (nym_socks_init(&srv.sk) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use the Tor proxy of "
		    "TOR_SOCKS or tor-socks: expected host:port");
	if (socksarg != NULL && nym_socks_set(&srv.sk, socksarg) == -1)
		nym_die(NYM_EX_USAGE, "unable to use Tor proxy %s: expected "
		    "host:port", socksarg);
	snprintf(srv.where, sizeof srv.where, "%s:%d", srv.name,
	    srv.onionport);
	snprintf(srv.account, sizeof srv.account, "%s@%s", user, srv.where);
	pop.where = srv.where;
}

/* -s destination: the account's client key, never a mail domain's, and
 * the key's one session, shared with smtp-submit and lingering between
 * runs (lib/samclient.c). */
static void
samserver(void)
{
	static char kpath[PATH_MAX];
	char why[700];
	int r;

	snprintf(srv.account, sizeof srv.account, "%s@%.100s", user,
	    srv.dest);
	pop.where = srv.dest;
	if (keyarg == NULL)
		keyarg = confpath("client-key");
	if ((r = nym_client_hold(&srv.hold, &srv.sa, keyarg, user,
	    wsec * 1000, kpath, sizeof kpath, why, sizeof why)) != NYM_EX_OK)
		nym_die(r, "%s", why);
}

/* Connect over Tor; a refusal exits with the code its reply calls for. */
static int
tordial(struct nym_socks *sk, const char *name, int port,
    const char *account, const char *where)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[32];
	char tag[sizeof "pop-fetch-" + 16];
	size_t i;
	int fd;

	/* Streams of different accounts never share a circuit, by which
	 * the server could tell that two pseudonyms are one person. */
	nym_sha256(account, strlen(account), h);
	memcpy(tag, "pop-fetch-", sizeof "pop-fetch-" - 1);
	for (i = 0; i < 8; i++) {
		tag[sizeof "pop-fetch-" - 1 + 2 * i] = hex[h[i] >> 4];
		tag[sizeof "pop-fetch-" + 2 * i] = hex[h[i] & 15];
	}
	tag[sizeof tag - 1] = '\0';
	if ((fd = nym_socks_connect(sk, name, port, tag, wsec * 1000)) != -1)
		return fd;
	explicit_bzero(pw, sizeof pw);
	if (errno == ECONNABORTED)
		nym_die(nym_socks_exitcode(sk->reply), "unable to connect to "
		    "%s through the Tor proxy at %s:%s: %s", where, sk->host,
		    sk->port, nym_socks_replyname(sk->reply));
	nym_die(NYM_EX_TEMPFAIL, "unable to connect to %s through the Tor "
	    "proxy at %s:%s: %s", where, sk->host, sk->port,
	    errno == EPROTO ? "not a SOCKS5 proxy" : strerror(errno));
}

/* Connect to the server.  The connection, or exit. */
static int
dial(void)
{
	char why[700];
	int fd, r;

	if (srv.dest != NULL) {
		if ((r = nym_sam_dial(&srv.sam, &srv.hold, srv.dest, &fd, why,
		    sizeof why)) != NYM_EX_OK) {
			explicit_bzero(pw, sizeof pw);
			nym_die(r, "%s", why);
		}
	} else if (srv.onion != NULL)
		fd = tordial(&srv.sk, srv.name, srv.onionport, srv.account,
		    srv.where);
	else if ((fd = nym_tcp_connect(srv.hostbuf, srv.port,
	    wsec * 1000)) == -1) {
		explicit_bzero(pw, sizeof pw);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to connect to %s",
		    srv.host);
	}
	return fd;
}

/* Log in and list: what is new, what was delivered. */
static void
session(int fd)
{
	size_t i;
	int r;

	pop.sessionend = sessionend;
	pop.session = wsession;
	pop.maxsize = maxsize;
	pop.careful = jr.cut;
	pop.warn = popwarn;
	if ((r = nym_pop3_start(&pop, fd, wsec * 1000)) != NYM_EX_OK) {
		/* Over SAM, a stream that said nothing: stale router state
		 * for the server, which a new session of ours clears. */
		if (srv.dest != NULL && !pop.greeted &&
		    pop.in.err == ETIMEDOUT)
			nym_sam_stale(&srv.sam);
		popdie(r);
	}
	r = nym_pop3_login(&pop, user, pw);
	explicit_bzero(pw, sizeof pw);
	if (r != NYM_EX_OK || (r = nym_pop3_listing(&pop, listmax)) !=
	    NYM_EX_OK)
		popdie(r);
	nm = pop.nmsg;
	if ((m = calloc(nm + 1, sizeof *m)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < nm; i++) {
		m[i].e = nym_journal_find(&jr, pop.msg[i].uid);
		m[i].done = m[i].e != NULL && m[i].e->done;
	}
	relisted();
}

/* ---- main ---- */

int
main(int argc, char *argv[])
{
	const char *cwhere;
	size_t todo = 0, done = 0;
	int ret = NYM_EX_OK;

	nym_start(argc, argv, USAGE);
	if (nym_conf_load(&cwhere) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    cwhere);
	nym_samaddr_init(&srv.sa);
	options(argc, argv);
	if (srv.host != NULL)
		tcpserver();
	else if (srv.onion != NULL)
		onionserver();
	else
		samserver();
	if (mode == 'd' && nym_mdbatch_open(&batch, target) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create maildir %s",
		    target);
	progress = isatty(STDERR_FILENO);

	getpassword(pwfile, pwfd, srv.account);
	loadstate(srv.account);
	catchsignals();

	/* The whole session, connection included, ends by -W: a server
	 * that keeps every reply just fast enough cannot hold the run. */
	sessionend = nym_now_ms() + (long long)wsession * 1000;
	session(dial());
	if (fetchall(&done, &todo, &ret) == -1 ||
	    endsession(&done, todo, &ret) == -1)
		cutsession(&done, todo, &ret);
	if (progress && done > 0)
		fputc('\n', stderr);
	if (stopsig) {
		nym_warn("unable to fetch the rest from %s: stopped by signal "
		    "%d", pop.where, (int)stopsig);
		ret = NYM_EX_TEMPFAIL;
	}
	nym_pop3_close(&pop);
	if (srv.dest != NULL)
		nym_sam_release(&srv.sam);
	if (spoolfd != -1) {
		struct stat st;

		if (fstat(spoolfd, &st) == 0 && st.st_size == 0)
			(void)unlink(jr.spool);
		close(spoolfd);
	}
	free(m);
	nym_journal_close(&jr);
	nym_mdbatch_close(&batch);
	/* Over -M is 65, unless something else asks for a retry; a
	 * session broken off in the middle of one is that message's doing. */
	if ((toobig && ret == NYM_EX_OK) || pop.toobig)
		ret = NYM_EX_DATAERR;
	return ret;
}
