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
#include <dirent.h>

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
/* A listing line (CAPA, UIDL, LIST) with its NUL: NYM_POP3_LINE bytes
 * with the CRLF, as RFC 2449 says, and no more. */
#define MLINE		(NYM_POP3_LINE - 1)

static int kflag;
static int wsec = 120;
static long wsession = NYM_POP3_SESSION;	/* -W */
static long long sessionend;	/* nym_now_ms() when the session must end */
static long listmax = NYM_POP3_LISTMAX;	/* -L */
static uint64_t maxsize = NYM_SMTP_SIZE;	/* -M */
static int toobig;		/* a message over -M was left behind: 1
				   before its RETR, 2 in the middle of it */
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

/* Was the maildir file name published (in new/, or moved to cur/)? */
static int
published(const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = strlen(name);
	DIR *d;
	int found = 0;

	if (*name == '\0')
		return 0;
	snprintf(path, sizeof path, "%s/new/%s", target, name);
	if (access(path, F_OK) == 0)
		return 1;
	snprintf(path, sizeof path, "%s/cur", target);
	if ((d = opendir(path)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, name, n) == 0 &&
		    (de->d_name[n] == '\0' || de->d_name[n] == ':');
	closedir(d);
	return found;
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

/* ---- the session ---- */

struct msg {
	unsigned long n;
	struct nym_jent *e;		/* its state, or NULL if new */
	int done;		/* delivered, in an earlier run or this one */
	int again;		/* an interrupted run may have delivered it */
	int kept;		/* deleted before, yet listed again (X) */
	int skip;		/* unsettled: neither deliver nor delete */
	uint64_t size;		/* as LIST says, 0 if unknown */
	char uid[NYM_POP3_UIDL + 1];
};

struct pop {
	int fd;
	struct nym_in in;
	struct nym_out out;
	struct nym_pop3_caps caps;
	/* Commands sent whose replies are unread, oldest first: RETR ('R')
	 * or DELE ('D') of the pq-th listed message.  Replies come in this
	 * order, so a RETR's message is read only after the DELE replies
	 * before it. */
	size_t pq[NYM_POPF_PEND_MAX];
	char pk[NYM_POPF_PEND_MAX];
	size_t pqh, pend;
	size_t nretr;		/* RETRs among them */
	char *refused;		/* per message: its DELE was refused */
	const char *where;	/* the server, for messages */
	struct nym_sam *sam;	/* the borrowed session (-s), or NULL */
};

static char errtext[NYM_POP3_LINE];

/* Why the connection failed (errno): the session's end (-W) named as
 * such, a line over the limit as such. */
static const char *
neterr(void)
{
	static char why[64];

	if (errno == ETIMEDOUT && nym_now_ms() >= sessionend) {
		snprintf(why, sizeof why, "the session took over %ld s (-W)",
		    wsession);
		return why;
	}
	if (errno == EPROTO)
		return "garbled reply";
	return strerror(errno);
}

/* A multi-line reply (CAPA, UIDL, LIST) failed: a line over the limit
 * (nym_pop3_mline's EPROTO) is the server's doing, 65; the rest is 75. */
static void
mlinefail(const char *verb, const char *where)
{
	if (errno == EPROTO)
		nym_die(NYM_EX_DATAERR, "unable to %s at %s: a line over %d "
		    "bytes", verb, where, NYM_POP3_LINE);
	nym_warn("unable to %s at %s: %s", verb, where, neterr());
	exit(NYM_EX_TEMPFAIL);
}

/* Read a status line; on a broken connection say so and return -1.
 * The reply, and a listing or message after it, must come within -w
 * and then at NYM_MIN_RATE at least, not only each read within -w:
 * a server that sends a byte now and then cannot hold the run. */
static int
status(struct pop *p, const char *verb)
{
	int r;

	p->in.deadline = nym_now_ms() + p->in.ms;
	if (p->in.deadline > sessionend)
		p->in.deadline = sessionend;
	p->in.limit = sessionend;
	p->in.rate = NYM_MIN_RATE;
	r = nym_pop3_status(&p->in, errtext, sizeof errtext);

	if (r == -1)
		nym_warn("unable to %s at %s: %s", verb, p->where, neterr());
	return r;
}

static int
sendcmd(struct pop *p, const char *verb)
{
	if (nym_out_flush(&p->out) == -1) {
		nym_warn("unable to %s at %s: %s", verb, p->where,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* LIST (sent with UIDL when pipelining, else now): each message's size,
 * so that one over -M is left on the server before its RETR instead of
 * ending the session in the middle of it.  A server without LIST only
 * loses that: nym_pop3_retr still stops at -M. */
static void
listsizes(struct pop *p, struct msg *m, size_t nm)
{
	char line[MLINE];
	unsigned long n;
	uint64_t size;
	size_t i = 0, k = 0;
	int r;

	if (!p->caps.pipelining) {
		nym_smtp_cmd(&p->out, "LIST");
		if (sendcmd(p, "list message sizes") == -1)
			exit(NYM_EX_TEMPFAIL);
	}
	if ((r = status(p, "list message sizes")) == -1)
		exit(NYM_EX_TEMPFAIL);
	if (r == 0)
		return;
	while ((r = nym_pop3_mline(&p->in, line, sizeof line)) == 1) {
		if (++k > (size_t)listmax)
			nym_die(NYM_EX_DATAERR, "unable to list message sizes "
			    "at %s: more than %ld (-L)", p->where, listmax);
		if (nym_pop3_list(line, &n, &size) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to list message sizes "
			    "at %s: bad LIST line", p->where);
		/* both listings go by message number */
		while (i < nm && m[i].n < n)
			i++;
		if (i < nm && m[i].n == n)
			m[i].size = size;
	}
	if (r == -1)
		mlinefail("list message sizes", p->where);
}

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
relisted(struct pop *p, struct msg *m, size_t nm)
{
	const struct nym_jent *e;
	size_t i, kept = 0;

	for (i = 0; i < nm; i++) {
		e = m[i].e;
		if (m[i].done || e == NULL || !e->gone || e->kind != 0)
			continue;
		if (e->gsize != 0 && m[i].size != 0 && e->gsize != m[i].size)
			continue;
		m[i].done = m[i].kept = 1;
		kept++;
	}
	if (kept > 0)
		nym_warn("unable to delete %zu message%s at %s for good: "
		    "listed again after the server accepted DELE and QUIT; "
		    "%s", kept, kept == 1 ? "" : "s", p->where, kflag ?
		    "not delivered again" : "not delivered again, deleted "
		    "again");
	for (i = 0; i < nm; i++)
		if (m[i].size > maxsize && !m[i].done) {
			m[i].skip = 1;
			toobig = 1;
			nym_warn("unable to fetch message %lu from %s: %llu "
			    "bytes, over %llu (-M); it stays on the server",
			    m[i].n, p->where, (unsigned long long)m[i].size,
			    (unsigned long long)maxsize);
		}
}

/* Note a command sent (queued on p->out) whose reply is to be read. */
static void
expect(struct pop *p, char kind, size_t i)
{
	size_t k;

	/* RETRs in flight are few and DELEs wait for at most one batch
	 * each, so this cannot fill up. */
	if (p->pend == NYM_POPF_PEND_MAX)
		nym_die(NYM_EX_SOFTWARE, "unable to send a command to %s: %d "
		    "in flight", p->where, NYM_POPF_PEND_MAX);
	k = (p->pqh + p->pend) % NYM_POPF_PEND_MAX;
	p->pk[k] = kind;
	p->pq[k] = i;
	p->pend++;
}

/* Send what is queued and read the replies of the DELE commands at the
 * head of the queue, up to the first RETR. */
static int
dele_replies(struct pop *p)
{
	if (p->pend > 0 && sendcmd(p, "delete a message") == -1)
		return -1;
	while (p->pend > 0 && p->pk[p->pqh] == 'D') {
		switch (status(p, "delete a message")) {
		case -1:
			return -1;
		case 0:
			/* Still on the server: keep its D line. */
			p->refused[p->pq[p->pqh]] = 1;
			nym_warn("unable to delete a message at %s: %s",
			    p->where, errtext);
			break;
		}
		p->pqh = (p->pqh + 1) % NYM_POPF_PEND_MAX;
		p->pend--;
	}
	return 0;
}

/* DELE message n, the i-th listed. */
static int
dele(struct pop *p, unsigned long n, size_t i)
{
	nym_smtp_cmd(&p->out, "DELE %lu", n);
	expect(p, 'D', i);
	/* Pipelined, but not so far ahead that both sides could block on
	 * full socket buffers. */
	if (p->caps.pipelining && p->pend - p->nretr < NYM_POPF_DELE_AHEAD)
		return 0;
	return dele_replies(p);
}

/* Copy the RETR response to o.  0, or -1 if the connection failed. */
static int
copy(struct pop *p, struct nym_out *o, unsigned flags)
{
	if (nym_pop3_retr(&p->in, o, flags, maxsize) == -1) {
		if (errno == EFBIG) {
			/* LIST said less: the rest of it is not read */
			toobig = 2;
			nym_warn("unable to fetch a message from %s: over %llu "
			    "bytes (-M); it stays on the server", p->where,
			    (unsigned long long)maxsize);
		} else
			nym_warn("unable to fetch a message from %s: %s",
			    p->where, neterr());
		return -1;
	}
	return 0;
}

/* Send RETR for the messages from *next on that are to be fetched, so
 * that the i-th is in flight and, with PIPELINING, up to NYM_POPF_RETR_AHEAD
 * after it: the server reads and sends them while the disk syncs. */
static int
retr_ahead(struct pop *p, const struct msg *m, size_t nm, size_t i,
    size_t *next)
{
	size_t most = p->caps.pipelining && !jr.cut ? NYM_POPF_RETR_AHEAD + 1 : 1;

	while (*next < nm && (*next <= i || p->nretr < most)) {
		if (!m[*next].done && !m[*next].skip) {
			nym_smtp_cmd(&p->out, "RETR %lu", m[*next].n);
			expect(p, 'R', *next);
			p->nretr++;
		}
		(*next)++;
	}
	return sendcmd(p, "fetch a message");
}

/* Read the status of the RETR of the i-th message: 1, 0 or -1. */
static int
retr_status(struct pop *p, size_t i)
{
	if (dele_replies(p) == -1)
		return -1;
	if (p->pend == 0 || p->pk[p->pqh] != 'R' || p->pq[p->pqh] != i)
		nym_die(NYM_EX_SOFTWARE, "unable to fetch message %zu: its "
		    "RETR is not next", i + 1);
	p->pqh = (p->pqh + 1) % NYM_POPF_PEND_MAX;
	p->pend--;
	p->nretr--;
	return status(p, "fetch a message");
}

/* Read every reply still owed, dropping messages sent ahead. */
static int
drain(struct pop *p)
{
	struct nym_out sink = { .fd = -1, .err = EBADF };  /* takes nothing */
	int r;

	while (dele_replies(p) == 0 && p->pend > 0) {
		if ((r = retr_status(p, p->pq[p->pqh])) == -1)
			return -1;
		if (r == 1 && copy(p, &sink, 0) == -1)
			return -1;
	}
	return p->pend > 0 ? -1 : 0;
}

/* The exit code for a refused login: RFC 3206 tells temporary ones. */
static void
loginfailed(const struct pop *p, const char *user)
{
	int code = strncmp(errtext, "[IN-USE]", 8) == 0 ||
	    strncmp(errtext, "[SYS/TEMP]", 10) == 0 ? NYM_EX_TEMPFAIL :
	    NYM_EX_NOPERM;

	explicit_bzero(pw, sizeof pw);
	nym_die(code, "unable to log in as %s at %s: %s", user, p->where,
	    errtext[0] != '\0' ? errtext : "refused");
}

static void
login(struct pop *p, const char *user)
{
	char b64[NYM_POP3_LINE];
	char line[MLINE];
	int r;

	if (status(p, "read the greeting") != 1) {
		explicit_bzero(pw, sizeof pw);
		/* Over SAM, a stream that said nothing: stale router state
		 * for the server, which a new session of ours clears. */
		if (p->sam != NULL && p->in.err == ETIMEDOUT)
			nym_sam_stale(p->sam);
		if (errtext[0] != '\0')
			nym_die(NYM_EX_TEMPFAIL, "unable to log in at %s: %s",
			    p->where, errtext);
		exit(NYM_EX_TEMPFAIL);
	}
	nym_smtp_cmd(&p->out, "CAPA");
	if (sendcmd(p, "ask for capabilities") == -1 ||
	    (r = status(p, "ask for capabilities")) == -1)
		exit(NYM_EX_TEMPFAIL);
	if (r == 1)
		while ((r = nym_pop3_mline(&p->in, line, sizeof line)) == 1)
			nym_pop3_capa(line, &p->caps);
	if (r == -1)
		mlinefail("read capabilities", p->where);
	if (p->caps.plain) {
		if (nym_pop3_authplain(user, pw, b64, sizeof b64) == -1 ||
		    nym_smtp_cmd(&p->out, "AUTH PLAIN %s", b64) == -1) {
			explicit_bzero(b64, sizeof b64);
			explicit_bzero(pw, sizeof pw);
			nym_die(NYM_EX_CONFIG, "unable to log in as %s: user "
			    "name or password too long", user);
		}
		explicit_bzero(b64, sizeof b64);
		if (sendcmd(p, "log in") == -1 ||
		    (r = status(p, "log in")) == -1)
			exit(NYM_EX_TEMPFAIL);
	} else {
		/* USER and PASS go out together where PIPELINING allows. */
		if (nym_smtp_cmd(&p->out, "USER %s", user) == -1 ||
		    (p->caps.pipelining && nym_smtp_cmd(&p->out, "PASS %s",
		    pw) == -1)) {
			explicit_bzero(p->out.buf, p->out.cap);
			explicit_bzero(pw, sizeof pw);
			nym_die(NYM_EX_CONFIG, "unable to log in as %s: user "
			    "name or password too long", user);
		}
		if (sendcmd(p, "log in") == -1 ||
		    (r = status(p, "log in")) == -1)
			exit(NYM_EX_TEMPFAIL);
		if (r == 0)
			loginfailed(p, user);
		if (!p->caps.pipelining && (nym_smtp_cmd(&p->out, "PASS %s",
		    pw) == -1 || sendcmd(p, "log in") == -1)) {
			explicit_bzero(p->out.buf, p->out.cap);
			explicit_bzero(pw, sizeof pw);
			exit(NYM_EX_TEMPFAIL);
		}
		if ((r = status(p, "log in")) == -1)
			exit(NYM_EX_TEMPFAIL);
	}
	/* The writer's buffer held the password: wipe it too. */
	explicit_bzero(p->out.buf, p->out.cap);
	explicit_bzero(pw, sizeof pw);
	if (r == 0)
		loginfailed(p, user);
}

/* ---- delivery ---- */


/* Results of one delivery.  After DELIVERED the caller writes the D
 * line and only then leaves the critical section. */
enum { DELIVERED, DEFERRED, NETFAIL, LOCALFAIL };

/* Fetch the message into a file in tmp/ and add it to the batch; it is
 * published by dircommit.  DELIVERED (meaning: written), NETFAIL or
 * LOCALFAIL. */
static int
todir(struct pop *p, const char *uid, size_t i)
{
	struct nym_mdfile f;
	struct nym_out o;

	if (nym_maildir_open(&f, target) == -1) {
		nym_warn("unable to create a file in %s: %s", target,
		    strerror(errno));
		return LOCALFAIL;
	}
	snprintf(curtmp, sizeof curtmp, "%s", f.tmp);
	if (record("P %s %s\n", uid, f.name) == -1) {
		nym_maildir_abort(&f);
		curtmp[0] = '\0';
		return LOCALFAIL;
	}
	if (nym_out_open(&o, f.fd, NYM_IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (copy(p, &o, NYM_POP3_LF) == -1) {
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
dircommit(struct pop *p, struct msg *m, int dodele, size_t *done,
    size_t todo)
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
		if (record("D %s\n", m[i].uid) == -1) {
			ret = -1;
			break;
		}
		m[i].done = 1;
		if (progress)
			fprintf(stderr, "\r%s: %zu/%zu", nym_progname,
			    ++*done, todo);
		if (dodele && !kflag && dele(p, m[i].n, i) == -1) {
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
spoolfill(struct pop *p, const char *uid, int mbox, unsigned long long *len)
{
	struct nym_out o;
	char from[80];
	time_t now = time(NULL);

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
		strftime(from, sizeof from, "From MAILER-DAEMON %a %b %e "
		    "%H:%M:%S %Y\n", gmtime(&now));
		nym_out_puts(&o, from);
	}
	if (copy(p, &o, NYM_POP3_LF | (mbox ? NYM_POP3_MBOXRD : 0)) == -1) {
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
tombox(struct pop *p, const char *uid)
{
	unsigned long long len;
	int r;

	if ((r = spoolfill(p, uid, 1, &len)) != DELIVERED)
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
tocmd(struct pop *p, const struct msg *m)
{
	unsigned long long len;
	int st, r, in;
	pid_t pid;

	if ((r = spoolfill(p, m->uid, 0, &len)) != DELIVERED)
		return r;
	/* From here on the command may deliver it: say so first. */
	if (record("P %s cmd\n", m->uid) == -1 || syncstate() == -1)
		return LOCALFAIL;
	critical = 1;
	if ((in = open(jr.spool, O_RDONLY | O_CLOEXEC)) == -1 ||
	    lseek(in, (off_t)spoolhdr, SEEK_SET) == -1 ||
	    (pid = fork()) == -1) {
		nym_warn("unable to run %s: %s", target, strerror(errno));
		if (in != -1)
			close(in);
		if (!m->again)
			(void)record("U %s\n", m->uid);
		return LOCALFAIL;
	}
	if (pid == 0) {
		close(p->fd);	/* the command has no business with it */
		if (dup2(in, STDIN_FILENO) == -1 ||
		    setenv("POP_FETCH_UIDL", m->uid, 1) == -1 ||
		    (m->again && setenv("POP_FETCH_AGAIN", "1", 1) == -1))
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
		nym_warn("unable to deliver message %lu: %s %s %d", m->n,
		    target, WIFEXITED(st) ? "exited with" : "killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	/* Refused now; but if an interrupted run may have given it to the
	 * command before, the next try must still say so. */
	if (!m->again)
		(void)record("U %s\n", m->uid);
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
settle(struct msg *m)
{
	const struct nym_jent *e = m->e;
	char path[PATH_MAX];
	int r;

	if (e->kind != mode || e->kind == 'p') {
		nym_warn("message %lu may have been delivered by an "
		    "interrupted run%s: delivering it again", m->n,
		    e->kind != mode ? " to another destination" : "");
		m->again = 1;
		return 0;
	}
	if (e->kind == 'd') {
		/* Its file in tmp/ is half written, or a second link to
		 * what new/ holds (killed before the unlink): not needed. */
		if ((size_t)snprintf(path, sizeof path, "%s/tmp/%s", target,
		    e->name) < sizeof path)
			(void)unlink(path);
		return published(e->name);
	}
	if ((r = mboxsettle(e)) == 0 && record("U %s\n", e->uid) == 0)
		spoolclear();
	return r;
}

/* ---- main ---- */

/* After a good QUIT: keep only what the server still holds (with -k,
 * or whose DELE was refused), and what is still unsettled; and write,
 * in the .gone file beside it, an X line for each message deleted now,
 * with its size: if the server lists it again, it ignored the DELE (see
 * relisted).  One line per listed message at most, so both files stay
 * bounded by the listing. */
static void
compact(const struct msg *m, size_t nm, const char *refused)
{
	const size_t max = NYM_POP3_UIDL + 64;
	const struct nym_jent *e;
	char *buf = NULL, *gone = NULL;
	size_t i, len = 0, glen = 0;

	if (nym_reallocarray(&buf, nm + 1, max) == -1 ||
	    nym_reallocarray(&gone, nm + 1, max) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < nm; i++) {
		e = m[i].e;
		if (m[i].done && (kflag || refused[i]))
			len += (size_t)snprintf(buf + len, max, "D %s\n",
			    m[i].uid);
		else if (m[i].done)
			glen += (size_t)snprintf(gone + glen, max,
			    "X %s %llu\n", m[i].uid,
			    (unsigned long long)(m[i].size != 0 ||
			    e == NULL ? m[i].size : e->gsize));
		else if (m[i].skip && e != NULL && e->kind == 'm')
			len += (size_t)snprintf(buf + len, max,
			    "P %s mbox %llu %llu\n", m[i].uid, e->off, e->len);
		else if (m[i].again && !m[i].done)
			len += (size_t)snprintf(buf + len, max, "P %s cmd\n",
			    m[i].uid);
	}
	if (nym_journal_rewrite(&jr, buf, len, gone, glen) == -1)
		nym_warn("unable to rewrite %s: %s", jr.path, strerror(errno));
	free(buf);
	free(gone);
}

static void
usage(void)
{
	nym_usage();
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

/* ---- configuration: a key for every option ---- */

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

/* Is s a name Tor may resolve (letters, digits, '-', '.', '_')? */
static int
proxyname(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-._");

	return n > 0 && s[n] == '\0';
}

/*
 * The session after the listing: settle what an interrupted run left,
 * DELE what earlier runs delivered, then fetch and deliver the rest.
 * 0 when the session can end with QUIT (*ret says how it went), -1 when
 * the connection broke.
 */
static int
fetchall(struct pop *p, struct msg *m, size_t nm, size_t *done,
    size_t *todo, int *ret)
{
	size_t i, next = 0;
	int r;

	/* Interrupted earlier between P and D: settle that first. */
	for (i = 0; i < nm; i++) {
		if (m[i].done || m[i].e == NULL || m[i].e->kind == 0)
			continue;
		switch (settle(&m[i])) {
		case 1:
			if (record("D %s\n", m[i].uid) == -1) {
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
		if (!m[i].done && !m[i].skip)
			(*todo)++;

	/* Delivered by an earlier run: DELE them before anything else. */
	for (i = 0; i < nm && !kflag; i++)
		if (m[i].done && !m[i].skip && dele(p, m[i].n, i) == -1)
			return -1;
	for (i = 0; i < nm; i++) {
		if (m[i].skip || m[i].done)
			continue;
		if (retr_ahead(p, m, nm, i, &next) == -1 ||
		    (r = retr_status(p, i)) == -1)
			return -1;
		if (r == 0) {
			nym_warn("unable to fetch message %lu at %s: %s",
			    m[i].n, p->where, errtext);
			*ret = NYM_EX_TEMPFAIL;
			continue;
		}
		if (mode == 'd') {
			/* Written into tmp/; published with its batch. */
			r = todir(p, m[i].uid, i);
			if (r == NETFAIL)
				return -1;
			if (r == LOCALFAIL) {
				*ret = NYM_EX_TEMPFAIL;
				return 0;
			}
			if (nym_mdbatch_due(&batch) &&
			    (r = dircommit(p, m, 1, done, *todo)) != 0) {
				if (r == -2)
					return -1;
				*ret = NYM_EX_TEMPFAIL;
				return 0;
			}
			if (stopsig)
				return 0;
			continue;
		}
		r = mode == 'm' ? tombox(p, m[i].uid) : tocmd(p, &m[i]);
		if (r == DELIVERED) {
			/* A command cannot be asked later: sync at once. */
			if (record("D %s\n", m[i].uid) == -1 ||
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
			if (!kflag && dele(p, m[i].n, i) == -1)
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
endsession(struct pop *p, struct msg *m, size_t nm, size_t *done,
    size_t todo, int *ret)
{
	int r, quitok = 0;

	/* What is written is published (the last batch, or what came
	 * before a failure), then every reply still owed is read. */
	if ((r = dircommit(p, m, 1, done, todo)) == -2)
		return -1;
	if (r == -1)
		*ret = NYM_EX_TEMPFAIL;
	if (drain(p) == -1)
		return -1;
	/* What was delivered must be on disk before the server forgets;
	 * if it cannot be, no QUIT: the server then forgets the DELEs. */
	if (syncstate() == -1) {
		*ret = NYM_EX_TEMPFAIL;
		return 0;
	}
	nym_smtp_cmd(&p->out, "QUIT");
	if (sendcmd(p, "quit") == 0 && (r = status(p, "quit")) != -1) {
		if (r == 1)
			quitok = 1;
		else {
			nym_warn("unable to quit at %s: %s", p->where, errtext);
			*ret = NYM_EX_TEMPFAIL;
		}
	} else
		*ret = NYM_EX_TEMPFAIL;
	/* The server now holds what it listed less what was DELEted: with
	 * -k, every delivered message is still there. */
	if (quitok)
		compact(m, nm, p->refused);
	return 0;
}

/* The connection broke: what was written whole is still published
 * (without DELE), and a C line makes the next runs careful. */
static void
cutsession(struct pop *p, struct msg *m, size_t *done, size_t todo,
    int *ret)
{
	/* Messages written whole are still published (no DELE). */
	critical = 0;
	(void)dircommit(p, m, 0, done, todo);
	*ret = NYM_EX_TEMPFAIL;
	(void)record("C\n");
	(void)syncstate();
}

int
main(int argc, char *argv[])
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
	static char hostbuf[256], account[NYM_POP3_LINE], line[MLINE];
	static char onion[NYM_SOCKS_NAME + 1], where[NYM_SOCKS_NAME + 8];
	static struct pop p = { .fd = -1 };
	static char kpath[PATH_MAX];
	struct nym_samaddr sa;
	struct nym_hold hold;
	struct nym_socks sk;
	struct nym_sam s;
	struct msg *m = NULL;
	const char *hostarg = NULL, *dest = NULL, *onionarg = NULL;
	const char *user = NULL, *pwfile = NULL, *pwfd = NULL, *socksarg = NULL;
	const char *cwhere, *port = NULL, *colon, *v, *keyarg = NULL;
	const char *sizearg = NULL, *listarg = NULL, *sessarg = NULL;
	char why[700];
	long pn;
	size_t nm = 0, mcap = 0, i, todo = 0, done = 0, which = 0;
	int c, r, ret = NYM_EX_OK, aflag = 0, wset = 0;
	int srvcode = NYM_EX_USAGE, usercode = NYM_EX_USAGE, onionport = POP3_PORT;

	nym_start(argc, argv, USAGE);
	if (nym_conf_load(&cwhere) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    cwhere);
	nym_samaddr_init(&sa);
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
		case 'H': hostarg = optarg; break;
		case 'K': keyarg = optarg; break;
		case 'k': kflag = 1; break;
		case 'L': listarg = optarg; break;
		case 'M': sizearg = optarg; break;
		case 'o': onionarg = optarg; break;
		case 'P': pwfile = optarg; break;
		case 'S': nym_samaddr_opt(&sa, optarg); break;
		case 's': dest = optarg; break;
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
	    (hostarg != NULL) + (dest != NULL) + (onionarg != NULL) > 1)
		usage();

	/* What the command line leaves open, the configuration fills. */
	if (hostarg == NULL && dest == NULL && onionarg == NULL &&
	    (v = confone(srvkeys, 3, &which)) != NULL) {
		*(which == 0 ? &hostarg : which == 1 ? &onionarg : &dest) = v;
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
	    (hostarg == NULL && dest == NULL && onionarg == NULL))
		usage();
	if (*user == '\0' || strpbrk(user, " \t\r\n") != NULL)
		nym_die(usercode, "unable to use user name %s", user);

	if (hostarg != NULL) {
		if ((colon = strrchr(hostarg, ':')) == NULL ||
		    colon == hostarg || (size_t)(colon - hostarg) >=
		    sizeof hostbuf)
			nym_die(srvcode, "unable to use server %s: "
			    "expected host:port", hostarg);
		snprintf(hostbuf, sizeof hostbuf, "%.*s",
		    (int)(colon - hostarg), hostarg);
		if (nym_hiddenname(hostbuf))
			nym_die(srvcode, "unable to use server %s: .i2p and "
			    ".onion names are never looked up here (DNS would "
			    "learn them); give the I2P tunnel's address, e.g. "
			    "-H 127.0.0.1:7660, or use -s (I2P) or -o (Tor)",
			    hostarg);
		port = colon + 1;
		if (nym_tolong(port, 1, 65535, &pn) == -1)
			nym_die(srvcode, "unable to use server %s: expected a "
			    "port from 1 to 65535", hostarg);
		snprintf(account, sizeof account, "%s@%s", user, hostarg);
		p.where = hostarg;
	} else if (onionarg != NULL) {
		colon = strrchr(onionarg, ':');
		i = colon != NULL ? (size_t)(colon - onionarg) :
		    strlen(onionarg);
		if (i == 0 || i >= sizeof onion)
			nym_die(srvcode, "unable to use onion address %s: "
			    "expected name[:port]", onionarg);
		for (which = 0; which < i; which++)
			onion[which] =
			    (char)tolower((unsigned char)onionarg[which]);
		onion[i] = '\0';
		if (colon != NULL) {
			if (nym_tolong(colon + 1, 1, 65535, &pn) == -1)
				nym_die(srvcode, "unable to use onion address "
				    "%s: expected a port from 1 to 65535",
				    onionarg);
			onionport = (int)pn;
		}
		if (!aflag && (nym_domkind(onion) != NYM_DOM_ONION ||
		    strlen(onion) != 56 + sizeof ".onion" - 1))
			nym_die(srvcode, "unable to use onion address %s: "
			    "expected 56 base32 characters and .onion (Tor "
			    "v3); -a passes other names", onion);
		if (!proxyname(onion))
			nym_die(srvcode, "unable to use host name %s: only "
			    "letters, digits, '-', '.' and '_'", onion);
		if (nym_socks_init(&sk) == -1)
			nym_die(NYM_EX_CONFIG, "unable to use the Tor proxy of "
			    "TOR_SOCKS or tor-socks: expected host:port");
		if (socksarg != NULL && nym_socks_set(&sk, socksarg) == -1)
			nym_die(NYM_EX_USAGE, "unable to use Tor proxy %s: "
			    "expected host:port", socksarg);
		snprintf(where, sizeof where, "%s:%d", onion, onionport);
		snprintf(account, sizeof account, "%s@%s", user, where);
		p.where = where;
	} else {
		snprintf(account, sizeof account, "%s@%.100s", user, dest);
		p.where = dest;
		/* The account's client key, never a mail domain's, and the
		 * key's one session, shared with smtp-submit and lingering
		 * between runs (lib/samclient.c). */
		if (keyarg == NULL)
			keyarg = confpath("client-key");
		if ((r = nym_client_hold(&hold, &sa, keyarg, user, wsec * 1000,
		    kpath, sizeof kpath, why, sizeof why)) != NYM_EX_OK)
			nym_die(r, "%s", why);
	}
	if (mode == 'd' && nym_mdbatch_open(&batch, target) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create maildir %s",
		    target);
	progress = isatty(STDERR_FILENO);

	getpassword(pwfile, pwfd, account);
	loadstate(account);
	catchsignals();

	/* The whole session, connection included, ends by -W: a server
	 * that keeps every reply just fast enough cannot hold the run. */
	sessionend = nym_now_ms() + (long long)wsession * 1000;
	if (dest != NULL) {
		if ((r = nym_sam_dial(&s, &hold, dest, &p.fd, why,
		    sizeof why)) != NYM_EX_OK) {
			explicit_bzero(pw, sizeof pw);
			nym_die(r, "%s", why);
		}
	} else if (onionarg != NULL)
		p.fd = tordial(&sk, onion, onionport, account, where);
	else if ((p.fd = nym_tcp_connect(hostbuf, port, wsec * 1000)) == -1) {
		explicit_bzero(pw, sizeof pw);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to connect to %s",
		    hostarg);
	}
	if (nym_in_open(&p.in, p.fd, NYM_IOBUF) == -1 ||
	    nym_out_open(&p.out, p.fd, (size_t)NYM_POP3_LINE * 8) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	p.in.ms = p.out.ms = wsec * 1000;
	p.out.deadline = sessionend;
	if (dest != NULL)
		p.sam = &s;
	login(&p, user);

	/* The list of unique-ids: what is new, what was delivered. */
	nym_smtp_cmd(&p.out, "UIDL");
	if (p.caps.pipelining)
		nym_smtp_cmd(&p.out, "LIST");
	if (sendcmd(&p, "list messages") == -1 ||
	    (r = status(&p, "list messages")) == -1)
		exit(NYM_EX_TEMPFAIL);
	if (r == 0)
		nym_die(NYM_EX_CONFIG, "unable to list messages at %s: %s "
		    "(no UIDL: cannot fetch without duplicates)", p.where,
		    errtext);
	while ((r = nym_pop3_mline(&p.in, line, sizeof line)) == 1) {
		if (nm == (size_t)listmax)
			nym_die(NYM_EX_DATAERR, "unable to list messages at "
			    "%s: more than %ld (-L)", p.where, listmax);
		/* Doubling: a listing of n lines costs O(n) copies, not
		 * O(n^2) (100,000 one at a time took minutes under ASan). */
		if (nm == mcap && (nym_reallocarray(&m, mcap = mcap ? mcap * 2 :
		    64, sizeof *m) == -1))
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		memset(&m[nm], 0, sizeof *m);
		if (nym_pop3_uidl(line, &m[nm].n, m[nm].uid,
		    sizeof m[nm].uid) == -1)
			nym_die(NYM_EX_DATAERR, "unable to list messages at "
			    "%s: bad UIDL line (expected a number and a "
			    "unique-id of 1 to %d printable bytes)", p.where,
			    NYM_POP3_UIDL);
		m[nm].e = nym_journal_find(&jr, m[nm].uid);
		m[nm].done = m[nm].e != NULL && m[nm].e->done;
		nm++;
	}
	if (r == -1)
		mlinefail("list messages", p.where);

	listsizes(&p, m, nm);
	relisted(&p, m, nm);

	if ((p.refused = calloc(nm + 1, 1)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");

	if (fetchall(&p, m, nm, &done, &todo, &ret) == -1 ||
	    endsession(&p, m, nm, &done, todo, &ret) == -1)
		cutsession(&p, m, &done, todo, &ret);
	if (progress && done > 0)
		fputc('\n', stderr);
	if (stopsig) {
		nym_warn("unable to fetch the rest from %s: stopped by signal "
		    "%d", p.where, (int)stopsig);
		ret = NYM_EX_TEMPFAIL;
	}
	close(p.fd);
	nym_in_close(&p.in);
	nym_out_close(&p.out);
	if (dest != NULL)
		nym_sam_release(&s);
	if (spoolfd != -1) {
		struct stat st;

		if (fstat(spoolfd, &st) == 0 && st.st_size == 0)
			(void)unlink(jr.spool);
		close(spoolfd);
	}
	free(m);
	free(p.refused);
	nym_journal_close(&jr);
	nym_mdbatch_close(&batch);
	/* Over -M is 65, unless something else asks for a retry; a
	 * session broken off in the middle of one is that message's doing. */
	if ((toobig && ret == NYM_EX_OK) || toobig == 2)
		ret = NYM_EX_DATAERR;
	return ret;
}
