/*
 * queue-run - deliver the delay queue's due messages, from cron.
 *
 * Each due message goes to the delivery command stored with it, as
 * "CMD [ARGS...] -f SENDER -- RCPT..." with the message on its standard
 * input, Date set to the time of sending in UTC and Bcc removed.  Exit 0
 * removes the message; 75 (and the other temporary outcomes: a timeout,
 * a signal, 71, 78, a command that cannot be run) keeps it for a later
 * attempt; anything else moves it aside and returns a DSN to the sender.
 *
 * Nothing is lost and nothing is sent twice, whatever moment a crash or
 * kill -9 chooses, but for one window: a command that delivered and was
 * not yet recorded as having delivered.  It is kept small: mess/ID is
 * unlinked the moment the command's end is seen, and every command runs
 * in the process group of a watchdog, which kills the group when
 * queue-run dies (startguard()), so that no delivery finishes that
 * nobody records.  What remains is the time between the peer's
 * acceptance and that unlink, for each delivery in flight.  The unlinks
 * are synced a second later at most, many at once: a kill cannot undo an
 * unlink, only a power cut can.
 *
 * A command that takes a batch (sam-deliver and onion-deliver, by name,
 * unless -s) gets all the due messages of one destination and one sender
 * in one process with -B, so one SAM stream or Tor circuit and one SMTP
 * session for them all, however many there are, and one batch at a time
 * per destination.  Its standard input is a SOCK_SEQPACKET socket: each
 * message is copied as it is to be sent into an unnamed file (nothing
 * to clean up, whatever happens) and handed over as one packet, its line
 * "ID RCPT..." with the file's descriptor (bfeed()), as the run finds
 * it, up to NYM_QRUN_AHEAD not yet reported on: neither memory nor
 * descriptors grow with the flush.  The deliverer's line "ID CODE ..." is
 * recorded the moment it is read, as the exit code of a command of its
 * own would be, and the next message is handed; a batch that dies, is
 * killed or times out leaves the messages it did not report on where
 * they were, a temporary failure.  The window above is then, for each
 * batch, the message in flight and one whose line was written and not
 * yet read: the deliverer sends one message at a time.  The deadline
 * grows with the batch: -T from each message handed to an idle
 * deliverer and from each line, never past -T for each message handed
 * in all.  Once the run has nothing more for it (endbatches()), or needs
 * its place for another destination (roomwait()), the socket is closed
 * and the deliverer ends.
 *
 * Several deliveries run at once (-j), and at most -J for one
 * destination, the set of the recipients' domains (nym_queue_dest), so
 * that a peer that hangs holds -J places and not the run.  Each runs in
 * a slot of its own with its own watchdog: a timeout kills that slot's
 * group, which holds one delivery, and nothing else.  One poll(2) loop
 * (pump()) watches every command's output, end and deadline; mess/ is
 * read between two looks at it, so that an end is recorded at once.
 *
 * Speed (README): one file read per message, the command started with
 * posix_spawn (vfork and exec, no copy of queue-run's memory), and no
 * fsync on the way unless a message fails.  Memory does not grow with
 * the queue: mess/ is read one entry at a time, each message is
 * streamed, and what waits for its destination is bounded (flush()).
 */
#define _GNU_SOURCE		/* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "store.h"
#include "dsn.h"

#define USAGE "usage: queue-run [-s] [-q queuedir] [-m modes] [-b maildir] " \
	"[-L seconds] [-T seconds]\n" \
	"                 [-j jobs] [-J jobs]\n" \
	"       queue-run [-q queuedir] -l\n" \
	"       queue-run [-s] [-q queuedir] [-b maildir] [-L seconds] " \
	"[-T seconds]\n" \
	"                 [-j jobs] [-J jobs] [-R id ...] [-r id ...]\n" \
	"       queue-run [-q queuedir] -d id [-d id ...]\n"

static char qdir[PATH_MAX - 64];
static const char *bouncedir;	/* -b or bounce-maildir, or NULL */
static const char *bouncembox;	/* bounce-mbox, or NULL */
static long timeout = 900;	/* seconds a delivery may take */
static long lifetime = 432000;	/* seconds a message may stay queued */
static int singles;		/* -s: one command per message, never -B */
static long ahead = NYM_QRUN_AHEAD;	/* a batch's messages not reported */
static int ret = NYM_EX_OK;

static void
usage(void)
{
	nym_usage();
}

static int
temporary(int code)
{
	/* 71 and 75 as the MTAs read them; 78 and the shell's 126 and 127
	 * are local problems that fixing the setup cures, so the message
	 * waits for that rather than bouncing; -1 is a signal or timeout. */
	return code == -1 || code == 71 || code == NYM_EX_TEMPFAIL ||
	    code == NYM_EX_CONFIG || code == 126 || code == 127;
}

/* The RFC 3463 status for a permanent exit code (Postfix's table). */
static const char *
status(int code)
{
	switch (code) {
	case NYM_EX_DATAERR: return "5.6.0";
	case NYM_EX_NOUSER: return "5.1.1";
	case NYM_EX_NOHOST: return "5.1.2";
	case 76: return "5.5.0";
	case NYM_EX_NOPERM: return "5.7.0";
	default: return "5.3.0";
	}
}

static void
isodate(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
}

/* ---- running the delivery command ---- */

struct outcome {
	int code;		/* exit code, -1 for a signal or a timeout */
	char what[160];		/* "CMD exited with N", "... timed out" */
	char diag[NYM_QRUN_DIAG + 1];	/* its output, printable, lines */
	char err[NYM_QRUN_ERRTAIL + 1];	/* the end of its standard error */
	char last[NYM_QUEUE_ERR + 1];	/* its last line of standard error */
};

/* The last cap bytes of a stream, at p. */
struct tail {
	char *p;
	size_t cap, len;
	int cut;		/* bytes were dropped before p */
};

static void
keep(struct tail *t, const char *p, size_t n)
{
	if (n >= t->cap) {
		memcpy(t->p, p + n - t->cap, t->cap);
		t->cut |= t->len > 0 || n > t->cap;
		t->len = t->cap;
		return;
	}
	if (t->len + n > t->cap) {
		size_t drop = t->len + n - t->cap;

		memmove(t->p, t->p + drop, t->len - drop);
		t->len -= drop;
		t->cut = 1;
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
}

/* Clean t into printable lines, NUL-terminated, without empty lines or
 * a first line that lost its beginning ... */
static void
tidy(struct tail *t)
{
	size_t i, j = 0, start = 0;
	char *s = t->p;

	if (t->cut) {
		char *nl = memchr(s, '\n', t->len);

		/* ... unless it is all there is. */
		if (nl != NULL)
			start = (size_t)(nl - s) + 1;
		while (start < t->len && s[start] == '\n')
			start++;
		if (start == t->len)
			start = 0;
	}
	for (i = start; i < t->len; i++) {
		char c = s[i];

		if (c == '\r' || (c == '\n' && (j == 0 || s[j - 1] == '\n')))
			continue;
		s[j++] = c == '\n' || (c >= ' ' && c < 127) ? c : '?';
	}
	while (j > 0 && (s[j - 1] == '\n' || s[j - 1] == ' '))
		j--;
	s[j] = '\0';
	t->len = j;
}

/* Both outputs cleaned; the last line of standard error into o->last,
 * which is what the record keeps and -l shows: standard output may
 * carry anything, the message itself included. */
static void
settle(struct outcome *o, struct tail *diag, struct tail *err)
{
	size_t i;

	tidy(diag);
	tidy(err);
	for (i = err->len; i > 0 && err->p[i - 1] != '\n'; i--)
		;
	snprintf(o->last, sizeof o->last, "%.*s", NYM_QUEUE_ERR, err->p + i);
}

/* An unnamed file in the queue's tmp/, which nothing has to remove. */
static int
unnamed(void)
{
	char tmpdir[PATH_MAX];
	struct nym_afile a;
	int fd;

	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", qdir);
	if ((fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) {
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -1;
		if (nym_afile_open(&a, tmpdir, 0600) == -1)
			return -1;
		fd = a.fd;
		unlink(a.tmp);
	}
	return fd;
}

/* A copy of the message as it is to be sent, in an unnamed file. */
static int
sendcopy(int msgfd, time_t now)
{
	int fd;

	if ((fd = unnamed()) == -1)
		return -1;
	if (nym_queue_rewrite(msgfd, fd, now) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* ---- the deliveries in flight ---- */

/* A message handed to a batch's deliverer and not yet reported on: the
 * deliverer knows it by its ID. */
struct bent {
	char id[NYM_QUEUE_IDLEN + 1];
	int used;		/* handed (or being handed), not reported */
	time_t now;		/* when it was copied: its Date, the next try */
	char last[NYM_QUEUE_ERR + 1];	/* the last warning about it */
};

/* The line being read from a batch's output: its first bytes. */
struct lbuf {
	char p[NYM_QRUN_LINE + 1];
	size_t n;
};

/* A slot: one delivery at a time, in the process group of the slot's own
 * watchdog, which lives as long as the run unless a timeout kills it.
 * The delivery is one message, or a batch: one deliverer -B process that
 * is handed its destination's messages one at a time over a socket, up
 * to ahead of them not yet reported on, each recorded as its line
 * comes. */
struct job {
	int busy, exited;	/* a delivery runs; its command has gone */
	int reaped;		/* and was waited for (st) */
	struct nym_qrec r;	/* the message's record */
	time_t now;		/* when it started: its Date, the next try */
	int dest;		/* its destination, in dests[] */
	pid_t pid;
	int st;			/* its wait status, if exited */
	int pidfd, po, pe, fd;	/* -1 or: pidfd, output, errors, the copy */
	long long deadline;	/* -T, in ms */
	struct tail diag, err;
	struct outcome o;
	pid_t guard;		/* the watchdog, or -1 */
	int guardfd;		/* the write end of its pipe */
	int isbatch;		/* a batch (the rest of this is for it) */
	int sk;			/* the socket it is handed messages on, or -1 */
	struct bent *b;		/* ahead of them, once a batch ran */
	int nleft;		/* those used: handed and not reported */
	int held;		/* the one whose packet waits for room, or -1 */
	int heldfd;		/* its copy */
	char *line;		/* its line */
	size_t linelen;
	long long start;	/* when the command started, in ms */
	long long cap;		/* the batch's deadline in all, in ms */
	struct lbuf outl, errl;	/* its output lines being read */
};

/* A destination with deliveries in flight, and its messages that wait
 * for one of them to end (a list through pend[]).  Each but a batch
 * destination has a delivery in flight; a batch destination (one
 * destination, one sender, one batching command: batchkey()) has at
 * most one, a batch, whose deliverer is handed what waits as it has
 * room, or none, its messages waiting for a free slot (kick()); at most
 * jobs are idle: there are no more than twice as many as slots. */
struct dest {
	int used, running;
	uint64_t key;		/* nym_queue_dest, or batchkey */
	int head, tail;		/* its waiting messages, or -1 */
	int batch, npend;	/* a batch destination; messages waiting */
	int job;		/* a batch destination's slot, while running */
};

struct pend {
	char id[NYM_QUEUE_IDLEN + 1];
	int next;		/* in its destination's list, or the free list */
};

static long jobs = 100;		/* deliveries at once (-j) */
static long perdest = 20;	/* to one destination at once (-J) */
static struct job *jobtab;	/* jobs slots */
static struct dest *dests;	/* ndests of them */
static long ndests;		/* 2 * jobs */
static struct pend *pend;	/* NYM_QRUN_PEND_MAX */
static struct pollfd *pfds;	/* 3 for each slot */
static int *pfslot;
static long running;		/* slots busy */
static int npend, pendfree = -1;
static int listmode;		/* -r: IDs from the command line */
static int closing;		/* no more messages will be offered */

/* Start the slot's watchdog: a child that leads a process group of its
 * own and waits for the end of a pipe.  The kernel closes queue-run's end
 * when queue-run goes, however it goes (kill -9 included); the watchdog
 * then kills the whole group, the command and whatever it started, so
 * that no delivery finishes that nobody records.  A byte on the pipe
 * first is a normal end: it leaves the group alone.  One watchdog serves
 * a slot for the whole run; a timeout kills it with its group (which
 * holds that one delivery and nothing else), and the slot's next
 * delivery starts another. */
static int
startguard(struct job *j)
{
	int p[2], e;
	ssize_t n;
	char c;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((j->guard = fork()) == -1) {
		e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (j->guard == 0) {
		/* Nothing of queue-run's but the pipe: no lock, no message
		 * copy, no command's output, and above all no other slot's
		 * pipe, whose end it would otherwise keep from coming. */
		close(p[1]);
		if (p[0] > 3)
			(void)close_range(3, (unsigned)p[0] - 1, 0);
		(void)close_range((unsigned)p[0] + 1, ~0U, 0);
		setpgid(0, 0);
		while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
			;
		if (n != 1)
			kill(0, SIGKILL);
		_exit(0);
	}
	close(p[0]);
	/* Its own call may not have run yet; the group must exist before
	 * a command joins it. */
	setpgid(j->guard, j->guard);
	j->guardfd = p[1];
	return 0;
}

/* Let the slot's watchdog go: quietly (a normal end), or after killing
 * its group with it (a timeout). */
static void
stopguard(struct job *j, int quiet)
{
	if (j->guard == -1)
		return;
	if (!quiet || write(j->guardfd, "q", 1) != 1)
		kill(-j->guard, SIGKILL);
	close(j->guardfd);
	while (waitpid(j->guard, NULL, 0) == -1 && errno == EINTR)
		;
	j->guard = -1;
	j->guardfd = -1;
}

/* Start av in the slot's watchdog's group with the message (or a batch's
 * socket) on in, its standard output into out and its standard error
 * into err; 0 or an errno value. */
static int
spawn(struct job *j, const char **av, int in, int out, int err, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int e = 0, tries;

	*pid = -1;
	/* A watchdog that someone killed would leave the commands without
	 * a guard (its group lives on while it is a zombie): another. */
	if (j->guard != -1 && waitpid(j->guard, NULL, WNOHANG) != 0) {
		close(j->guardfd);
		j->guard = j->guardfd = -1;
	}
	for (tries = 0; tries < 2; tries++) {
		if (j->guard == -1 && startguard(j) == -1)
			return errno;
		sigemptyset(&none);
		sigemptyset(&dfl);
		sigaddset(&dfl, SIGPIPE);
		if ((e = posix_spawn_file_actions_init(&fa)) != 0)
			return e;
		if ((e = posix_spawnattr_init(&at)) != 0) {
			posix_spawn_file_actions_destroy(&fa);
			return e;
		}
		if ((e = posix_spawn_file_actions_adddup2(&fa, in,
		    STDIN_FILENO)) == 0 &&
		    (e = posix_spawn_file_actions_adddup2(&fa, out,
		    STDOUT_FILENO)) == 0 &&
		    (e = posix_spawn_file_actions_adddup2(&fa, err,
		    STDERR_FILENO)) == 0 &&
		    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
		    (e = posix_spawnattr_setsigdefault(&at, &dfl)) == 0 &&
		    (e = posix_spawnattr_setpgroup(&at, j->guard)) == 0 &&
		    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
		    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0)
			e = posix_spawnp(pid, av[0], &fa, &at,
			    (char *const *)av, environ);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&at);
		/* EPERM: the group is gone (someone killed the watchdog). */
		if (e != EPERM)
			return e;
		stopguard(j, 0);
	}
	return e;
}

/* Read what is there from the command's pipe *pfd into the tails (t2
 * may be NULL); close it at its end.  Nonblocking reads after the
 * command has gone (drain). */
static void
take(int *pfd, struct tail *t1, struct tail *t2, int drain)
{
	char buf[4096];
	ssize_t k;

	if (*pfd == -1)
		return;
	if (drain)
		fcntl(*pfd, F_SETFL, O_NONBLOCK);
	do {
		k = read(*pfd, buf, sizeof buf);
		if (k > 0) {
			keep(t1, buf, (size_t)k);
			if (t2 != NULL)
				keep(t2, buf, (size_t)k);
		}
	} while (drain && k > 0);
	if (drain || k == 0 || (k == -1 && errno != EINTR)) {
		close(*pfd);
		*pfd = -1;
	}
}

/* Run av with stdin in, its output and error on pipes whose read ends
 * (flags: O_NONBLOCK or 0) j->po and j->pe keep; the child's ends block,
 * as any command expects.  0, or an errno. */
static int
startcmd(struct job *j, const char **av, int in, int flags)
{
	int po[2], pe[2], e;

	if (pipe2(po, O_CLOEXEC | flags) == -1)
		return errno;
	if (pipe2(pe, O_CLOEXEC | flags) == -1) {
		e = errno;
		close(po[0]);
		close(po[1]);
		return e;
	}
	if (flags != 0) {
		fcntl(po[1], F_SETFL, 0);
		fcntl(pe[1], F_SETFL, 0);
	}
	e = spawn(j, av, in, po[1], pe[1], &j->pid);
	close(po[1]);
	close(pe[1]);
	if (e != 0) {
		close(po[0]);
		close(pe[0]);
		return e;
	}
	j->po = po[0];
	j->pe = pe[0];
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	j->start = nym_now_ms();
	j->deadline = j->start + timeout * 1000;
	return 0;
}

/* A command's path for a message: at most 60 bytes, cut at its beginning
 * so that the program's name stays. */
static void
cmdpath(char buf[64], const char *path)
{
	size_t n = strlen(path);

	if (n <= 60)
		memcpy(buf, path, n + 1);
	else
		snprintf(buf, 64, "...%s", path + n - 57);
}

/* The exit code a shell gives a command it cannot run (errno e): 127 not
 * found, 126 not runnable; -1 for anything else. */
static int
shellcode(int e)
{
	return e == ENOENT ? 127 : e == EACCES || e == ENOEXEC ||
	    e == ENOTDIR || e == ELOOP ? 126 : -1;
}

/* Start the delivery of j->r at j->now, its message open at msgfd (which
 * is closed here): 1 if its command runs, 0 if j->o says why not. */
static int
jobstart(struct job *j, int msgfd)
{
	const struct nym_qrec *r = &j->r;
	const char **av;
	char cmd[64];
	size_t i, n = 0;
	int e;

	memset(&j->o, 0, sizeof j->o);
	j->diag = (struct tail){ j->o.diag, NYM_QRUN_DIAG, 0, 0 };
	j->err = (struct tail){ j->o.err, NYM_QRUN_ERRTAIL, 0, 0 };
	j->pid = -1;
	j->pidfd = j->po = j->pe = -1;
	j->exited = j->reaped = 0;
	j->st = 0;
	j->isbatch = 0;
	j->fd = sendcopy(msgfd, j->now);
	e = errno;
	close(msgfd);
	if (j->fd == -1) {
		j->o.code = e == E2BIG ? NYM_EX_DATAERR : -1;
		snprintf(j->o.what, sizeof j->o.what, "unable to copy it into "
		    "the queue's tmp/: %.80s", strerror(e));
		return 0;
	}
	if ((av = calloc(r->argc + r->nrcpt + 4, sizeof *av)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < r->argc; i++)
		av[n++] = r->argv[i];
	av[n++] = "-f";
	av[n++] = r->sender;
	av[n++] = "--";
	for (i = 0; i < r->nrcpt; i++)
		av[n++] = r->rcpt[i];
	av[n] = NULL;
	if ((e = startcmd(j, av, j->fd, 0)) == 0) {
		free(av);
		return 1;
	}
	j->o.code = shellcode(e);
	cmdpath(cmd, av[0]);
	snprintf(j->o.what, sizeof j->o.what, "unable to run %s: %s", cmd,
	    strerror(e));
	free(av);
	close(j->fd);
	j->fd = -1;
	return 0;
}

/* The command of slot j has gone, or timed out: reap it, take the rest of
 * its output and fill j->o. */
static void
jobend(struct job *j, int timedout)
{
	char cmd[64];

	cmdpath(cmd, j->r.argv[0]);
	if (timedout) {
		stopguard(j, 0);	/* the command's whole group */
		kill(j->pid, SIGKILL);
	}
	if (!j->reaped)
		while (waitpid(j->pid, &j->st, 0) == -1 && errno == EINTR)
			;
	/* What it wrote before it went; a child of its own that keeps a
	 * pipe open is not waited for. */
	take(&j->po, &j->diag, NULL, 1);
	take(&j->pe, &j->diag, &j->err, 1);
	if (j->pidfd != -1)
		close(j->pidfd);
	close(j->fd);
	j->pidfd = j->fd = -1;
	settle(&j->o, &j->diag, &j->err);
	if (timedout) {
		j->o.code = -1;
		snprintf(j->o.what, sizeof j->o.what, "%s timed out after "
		    "%ld s", cmd, timeout);
	} else if (WIFSIGNALED(j->st)) {
		j->o.code = -1;
		snprintf(j->o.what, sizeof j->o.what, "%s killed by signal "
		    "%d", cmd, WTERMSIG(j->st));
	} else {
		j->o.code = WEXITSTATUS(j->st);
		snprintf(j->o.what, sizeof j->o.what, "%s exited with %d",
		    cmd, j->o.code);
	}
}

/* ---- bounces ---- */

/* Append a message to an mbox (mboxrd) under path.lock and fcntl, as
 * every program does (lib/mbox.c), waiting up to NYM_MBOX_WAIT s for either;
 * synced, whole or not at all. */
static int
tombox(const char *path, const char *msg, size_t n, time_t now)
{
	struct nym_mbox mb;
	int e;

	if (nym_mbox_lock(&mb, path, 1, NYM_MBOX_WAIT * 1000) == -1)
		return -1;
	if (nym_mbox_append(&mb, msg, n, now) == -1) {
		e = errno;
		if (mb.cutfail != 0)
			nym_warn("unable to truncate %s: %s", path,
			    strerror(mb.cutfail));
		(void)nym_mbox_unlock(&mb);
		errno = e;
		return -1;
	}
	return nym_mbox_unlock(&mb);
}

static int
tomaildir(const char *dir, const char *msg, size_t n)
{
	struct nym_mdfile f;

	if (nym_maildir_make(dir) == -1 || nym_maildir_open(&f, dir) == -1)
		return -1;
	if (nym_write_all(f.fd, msg, n) == -1) {
		nym_maildir_abort(&f);
		return -1;
	}
	return nym_maildir_commit(&f);
}

/* Where the sender's bounces go, one place whatever the environment
 * (cron sets no MAIL, a login shell does; so MAIL is not read): -b or
 * bounce-maildir; else bounce-mbox; else ~/Maildir if it is a directory;
 * else the system mailbox, /var/mail/USER for the user of the real UID.
 * *mbox says which; NULL if none. */
static const char *
mailbox(int *mbox, char *buf, size_t cap)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	struct stat st;

	*mbox = 0;
	if (bouncedir != NULL)
		return bouncedir;
	if (bouncembox != NULL) {
		*mbox = 1;
		return bouncembox;
	}
	pw = getpwuid(getuid());
	if ((home == NULL || *home == '\0') && pw != NULL)
		home = pw->pw_dir;
	if (home != NULL && *home != '\0' &&
	    (size_t)snprintf(buf, cap, "%s/Maildir", home) < cap &&
	    stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return buf;
	if (pw == NULL || *pw->pw_name == '\0' ||
	    strchr(pw->pw_name, '/') != NULL ||
	    (size_t)snprintf(buf, cap, "%s/%s", _PATH_MAILDIR,
	    pw->pw_name) >= cap)
		return NULL;
	*mbox = 1;
	return buf;
}

/* The original header section (without an mbox From_ line) into h. */
static void
origheader(const char *id, struct nym_hdr *h, const char **p, size_t *n)
{
	struct nym_in in;
	char path[PATH_MAX];
	int fd;

	*p = "";
	*n = 0;
	if ((fd = nym_queue_message(qdir, id)) == -1) {
		snprintf(path, sizeof path, "%s/failed/%s", qdir, id);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd == -1)
		return;
	if (nym_in_open(&in, fd, NYM_IOBUF) == 0) {
		if (nym_hdr_read(&in, h, NYM_HDR_MBOX, NULL, NULL) == 0) {
			*p = h->buf + h->fromlen;
			*n = h->len - h->fromlen;
		}
		nym_in_close(&in);
	}
	close(fd);
}

/* Return r to its sender and move the message aside.  The record says
 * "bounce" first, so that a run killed half way finishes the job
 * instead of trying to deliver again. */
static void
bounce(struct nym_qrec *r, time_t now, const char *diag)
{
	char reason[NYM_QUEUE_ERR + 200], home[PATH_MAX];
	struct nym_hdr h = { 0 };
	struct nym_dsn d;
	const char *box, *hp;
	char *msg;
	size_t hn, n;
	int mbox, expired = temporary(r->lastcode);

	if (r->state != NYM_QS_BOUNCE) {
		r->state = NYM_QS_BOUNCE;
		if (nym_queue_update(qdir, r) == -1) {
			nym_warn("unable to update %s/info/%s: %s", qdir, r->id,
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
			return;
		}
	}
	if (expired)
		snprintf(reason, sizeof reason, "no delivery within %ld s, "
		    "after %u attempts", lifetime, r->attempts);
	else
		snprintf(reason, sizeof reason, "the delivery command failed "
		    "permanently (exit status %d)", r->lastcode);
	if (*r->sender == '\0')
		nym_warn("unable to return message %s: no sender; kept in "
		    "%s/failed", r->id, qdir);
	else if ((box = mailbox(&mbox, home, sizeof home)) == NULL)
		nym_warn("unable to return message %s to %s: no mailbox (no "
		    "user for UID %ld; set bounce-maildir); kept in %s/failed",
		    r->id, r->sender, (long)getuid(), qdir);
	else {
		origheader(r->id, &h, &hp, &hn);
		memset(&d, 0, sizeof d);
		d.sender = r->sender;
		d.rcpt = r->rcpt;
		d.nrcpt = r->nrcpt;
		d.status = expired ? "4.4.7" : status(r->lastcode);
		d.reason = reason;
		d.diag = diag;
		d.id = r->id;
		d.arrival = r->queued;
		d.now = now;
		d.header = hp;
		d.headerlen = hn;
		if (nym_dsn_build(&d, &msg, &n) == -1) {
			nym_hdr_free(&h);
			nym_warn("unable to build the bounce of %s: %s", r->id,
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
			return;
		}
		nym_hdr_free(&h);
		if ((mbox ? tombox(box, msg, n, now) :
		    tomaildir(box, msg, n)) == -1) {
			nym_warn("unable to return message %s to %s: unable to "
			    "write %s: %s", r->id, r->sender, box,
			    strerror(errno));
			free(msg);
			ret = NYM_EX_TEMPFAIL;
			return;
		}
		free(msg);
	}
	if (nym_queue_fail(qdir, r->id) == -1) {
		nym_warn("unable to move message %s to %s/failed: %s", r->id,
		    qdir, strerror(errno));
		ret = NYM_EX_TEMPFAIL;
	}
}

/* ---- one message ---- */

/* ---- re-stamping ---- */

static void unreadable(const char *);

/* Messages deferred because a recipient's server asked for a stamp (or
 * more work), to be re-stamped once the run's deliveries are over. */
static struct {
	char id[NYM_QUEUE_IDLEN + 1];
	char addr[NYM_SMTP_PATH];
} restamps[NYM_QRUN_RESTAMP];
static int nrestamp;

/* The last words of a deferred delivery of r: a refusal that says
 * "Stamp needed for ADDR[: X-Hashcash DEMAND]" for one of r's
 * recipients (smtp-receive -Q defer) has r re-stamped for ADDR after
 * the deliveries, and the demand, when whole, kept for ADDR as the
 * deliverers keep it (for a command that does not). */
static void
stampwanted(const struct nym_qrec *r, const char *last)
{
	char addr[NYM_SMTP_PATH], dem[NYM_POW_DEMAND_MAX + 1];
	size_t i;
	int k;

	if (nym_demand_said(last, addr, sizeof addr, dem, sizeof dem) != 1)
		return;
	for (i = 0; i < r->nrcpt && strcasecmp(r->rcpt[i], addr) != 0; i++)
		;
	if (i == r->nrcpt)
		return;
	if (dem[0] != '\0' && strlen(last) < NYM_QUEUE_ERR)
		(void)nym_demand_save(addr, dem, strlen(dem));
	for (k = 0; k < nrestamp; k++)
		if (strcmp(restamps[k].id, r->id) == 0)
			return;
	if (nrestamp == NYM_QRUN_RESTAMP)
		return;
	memcpy(restamps[nrestamp].id, r->id, sizeof restamps[0].id);
	snprintf(restamps[nrestamp].addr, sizeof restamps[0].addr, "%s",
	    addr);
	nrestamp++;
}

/* The last line of what fd holds (a command's standard error), cleaned,
 * into buf (cap bytes). */
static void
lastline(int fd, char *buf, size_t cap)
{
	char t[NYM_QUEUE_ERR + 1];
	struct stat st;
	ssize_t n;
	off_t at;
	size_t i, e;

	buf[0] = '\0';
	if (fstat(fd, &st) == -1)
		return;
	at = st.st_size > (off_t)NYM_QUEUE_ERR ? st.st_size - NYM_QUEUE_ERR :
	    0;
	if ((n = pread(fd, t, NYM_QUEUE_ERR, at)) <= 0)
		return;
	for (e = (size_t)n; e > 0 && (t[e - 1] == '\n' || t[e - 1] == '\r');
	    e--)
		;
	for (i = e; i > 0 && t[i - 1] != '\n'; i--)
		;
	t[e] = '\0';
	snprintf(buf, cap, "%s", t + i);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < ' ' || (unsigned char)buf[i] > '~')
			buf[i] = '?';
}

/* Run pow-stamp -M -t secs, the message on in, out to out, its errors
 * to err; its exit code, or -1 with why (cap bytes). */
static int
powstamp(int in, int out, int err, const char *addr, long secs, char *why,
    size_t cap)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char t[24];
	const char *av[] = { "pow-stamp", "-M", "-t", t, "--", addr, NULL };
	long long end = nym_now_ms() + (secs + 10) * 1000;
	struct timespec nap = { 0, 20000000 };
	pid_t pid, w;
	int e, st;

	snprintf(t, sizeof t, "%ld", secs);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		goto fail;
	if ((e = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto fail;
	}
	if ((e = posix_spawn_file_actions_adddup2(&fa, in, 0)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, out, 1)) == 0 &&
	    (e = posix_spawn_file_actions_adddup2(&fa, err, 2)) == 0 &&
	    (e = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (e = posix_spawnattr_setsigdefault(&at, &dfl)) == 0 &&
	    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) == 0)
		e = posix_spawnp(&pid, av[0], &fa, &at, (char *const *)av,
		    environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e != 0)
		goto fail;
	/* pow-stamp keeps its own -t; this is in case it does not. */
	while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
		if (nym_now_ms() > end) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			snprintf(why, cap, "pow-stamp did not end within %ld "
			    "seconds", secs + 10);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	if (w == -1) {
		e = errno;
		goto fail;
	}
	if (WIFSIGNALED(st)) {
		snprintf(why, cap, "pow-stamp killed by signal %d",
		    WTERMSIG(st));
		return -1;
	}
	return WEXITSTATUS(st);
fail:
	snprintf(why, cap, "unable to run pow-stamp: %s", strerror(e));
	return -1;
}

/* Re-stamp message id for addr, whose server asked for a stamp it did
 * not have: its X-Hashcash fields for addr dropped, then pow-stamp -M
 * (the message's recipients, each at its demand: the one the refusal
 * stated is kept for addr now) within secs, and the message replaced
 * if it has a stamp for addr then.  Otherwise it stays as it was, its
 * record saying why. */
static void
restamp(const char *id, const char *addr, long secs)
{
	struct nym_qrec r;
	char why[NYM_QUEUE_ERR + 1], last[NYM_QUEUE_ERR + 1];
	int fd, a = -1, b = -1, c = -1, code;

	if (nym_queue_get(qdir, id, &r, &fd) == -1) {
		if (errno != ENOENT)
			unreadable(id);
		return;
	}
	why[0] = '\0';
	if (r.state != NYM_QS_QUEUED) {
		close(fd);
		nym_qrec_free(&r);
		return;
	}
	if (secs < 1)
		snprintf(why, sizeof why, "no time left in this run (-T); at "
		    "the next deferral");
	else if ((a = unnamed()) == -1 || (b = unnamed()) == -1 ||
	    (c = unnamed()) == -1 || nym_queue_unstamp(fd, a, addr) == -1 ||
	    lseek(a, 0, SEEK_SET) == -1)
		snprintf(why, sizeof why, "unable to copy it into the queue's "
		    "tmp/: %s", strerror(errno));
	else if ((code = powstamp(a, b, c, addr, secs, why, sizeof why)) > 0) {
		lastline(c, last, sizeof last);
		snprintf(why, sizeof why, "pow-stamp exited with %d%s%.300s",
		    code, last[0] != '\0' ? ": " : "", last);
	} else if (code == 0 && (lseek(b, 0, SEEK_SET) == -1 ||
	    (code = nym_queue_unstamp(b, -1, addr)) == -1))
		snprintf(why, sizeof why, "unable to read the stamped copy: %s",
		    strerror(errno));
	else if (code == 0)
		snprintf(why, sizeof why, "no stamp minted for it (no demand "
		    "kept for it, its domain or send-stamp)");
	else if (code > 0 && (lseek(b, 0, SEEK_SET) == -1 ||
	    nym_queue_replace(qdir, id, b) == -1))
		snprintf(why, sizeof why, "unable to replace mess/%s: %.200s",
		    id, strerror(errno));
	close(fd);
	if (a != -1)
		close(a);
	if (b != -1)
		close(b);
	if (c != -1)
		close(c);
	if (why[0] != '\0') {
		nym_warn("unable to re-stamp message %s for %s: %s", id, addr,
		    why);
		snprintf(r.error, sizeof r.error, "unable to re-stamp for "
		    "%.100s: %.270s", addr, why);
		if (nym_queue_update(qdir, &r) == -1) {
			nym_warn("unable to update %s/info/%s: %s", qdir, id,
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
		}
	}
	nym_qrec_free(&r);
}

/* The deliveries over, re-stamp what was deferred for a stamp, all
 * within -T, one after the other: before the message is due again. */
static void
restampall(void)
{
	long long end = nym_now_ms() + timeout * 1000;
	int k;

	for (k = 0; k < nrestamp; k++)
		restamp(restamps[k].id, restamps[k].addr,
		    (long)((end - nym_now_ms()) / 1000));
	nrestamp = 0;
}

/* Deletions not yet synced, and when the last sync was. */
static int dirty;
static long long synced;

/* Make the deletions of delivered messages durable: at most a second
 * after them (a power cut may send that second again), and always
 * before queue-run exits. */
static void
syncq(void)
{
	if (!dirty)
		return;
	if (nym_queue_sync(qdir) == -1) {
		nym_warn("unable to sync %s: %s", qdir, strerror(errno));
		ret = NYM_EX_TEMPFAIL;
	}
	dirty = 0;
	synced = nym_now_ms();
}

/* Record the outcome o of the delivery of r, started at now. */
static void
conclude(struct nym_qrec *r, const struct outcome *o, time_t now)
{
	char when[40];

	if (o->code == 0) {
		/* The commit point of a delivery: as soon as it is known.
		 * The unlink holds from here whatever kills queue-run; only
		 * its sync waits, for a second at most. */
		if (nym_queue_done(qdir, r->id) == -1 && errno != ENOENT) {
			nym_warn("unable to remove delivered message %s: %s",
			    r->id, strerror(errno));
			ret = NYM_EX_TEMPFAIL;
		}
		dirty = 1;
		if (nym_now_ms() - synced >= NYM_QRUN_SYNC_MS)
			syncq();
		return;
	}
	r->attempts++;
	r->lastcode = o->code;
	snprintf(r->error, sizeof r->error, "%.150s%s%.240s", o->what,
	    o->last[0] != '\0' ? ": " : "", o->last);
	if (temporary(o->code) && now - r->queued < lifetime) {
		stampwanted(r, o->last);
		r->due = nym_queue_retry(r->mode, r->attempts, now);
		isodate(r->due, when, sizeof when);
		nym_warn("unable to deliver message %s: %s; next attempt at %s",
		    r->id, r->error, when);
		if (nym_queue_update(qdir, r) == -1) {
			nym_warn("unable to update %s/info/%s: %s", qdir, r->id,
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
		}
		return;
	}
	nym_warn("unable to deliver message %s: %s; returned to %s", r->id,
	    r->error, *r->sender != '\0' ? r->sender : "nobody");
	/* The DSN quotes all the command said, the record its last line. */
	bounce(r, now, o->diag[0] != '\0' ? o->diag : o->what);
}

/* Add id at the end of what waits for d; there is room (pendfree). */
static void
enqueue(struct dest *d, const char *id)
{
	int k = pendfree;

	pendfree = pend[k].next;
	memcpy(pend[k].id, id, sizeof pend[k].id);
	pend[k].next = -1;
	if (d->tail == -1)
		d->head = k;
	else
		pend[d->tail].next = k;
	d->tail = k;
	npend++;
	d->npend++;
}

/* Take the first of what waits for d (there is one) into id. */
static void
dequeue(struct dest *d, char id[NYM_QUEUE_IDLEN + 1])
{
	int k = d->head;

	if ((d->head = pend[k].next) == -1)
		d->tail = -1;
	memcpy(id, pend[k].id, NYM_QUEUE_IDLEN + 1);
	pend[k].next = pendfree;
	pendfree = k;
	npend--;
	d->npend--;
}

/* ---- batches ---- */

static void unreadable(const char *);
static int getpending(const char *, struct nym_qrec *, int *);
static void noid(const char *, const char *);

/* Does r's command take a batch (-B, lines "FILE RECIPIENT..." on its
 * standard input, "FILE CODE ..." out for each)?  sam-deliver and
 * onion-deliver do, by name (any directory), unless -s; and only for
 * recipients a line can carry (no blanks or controls in them). */
static int
batchable(const struct nym_qrec *r)
{
	const char *base, *p;
	size_t i, len = NYM_QUEUE_IDLEN + 2;

	if (singles || r->argc == 0)
		return 0;
	base = strrchr(r->argv[0], '/');
	base = base != NULL ? base + 1 : r->argv[0];
	if (strcmp(base, "sam-deliver") != 0 &&
	    strcmp(base, "onion-deliver") != 0)
		return 0;
	for (i = 0; i < r->nrcpt; i++) {
		if (*r->rcpt[i] == '\0')
			return 0;
		for (p = r->rcpt[i]; *p != '\0'; p++)
			if ((unsigned char)*p <= ' ' || *p == 127)
				return 0;
		len += (size_t)(p - r->rcpt[i]) + 1;
	}
	return len < NYM_DL_BATCHLINE;
}

static uint64_t
fnv(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

/* The batch destination of r: its destination, its sender and its
 * command, which one batch shares. */
static uint64_t
batchkey(const struct nym_qrec *r)
{
	uint64_t h = nym_queue_dest(r) ^ 0x6261746368ULL;
	size_t i;

	h = fnv(h * 0x100000001b3ULL, r->sender);
	for (i = 0; i < r->argc; i++)
		h = fnv(h, r->argv[i]);
	return h;
}

/* May b go in the batch of a (same sender and command)? */
static int
samegroup(const struct nym_qrec *a, const struct nym_qrec *b)
{
	size_t i;

	if (strcmp(a->sender, b->sender) != 0 || a->argc != b->argc)
		return 0;
	for (i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 0;
	return 1;
}

/* Record the outcome of e, a message handed to the batch of j, as the
 * exit code of its own command would be: code 0 unlinks it, others read
 * its record again for conclude(). */
static void
bconclude(struct job *j, struct bent *e, int code, const char *what)
{
	struct outcome o;
	struct nym_qrec r;
	int fd;

	e->used = 0;
	j->nleft--;
	memset(&o, 0, sizeof o);
	o.code = code;
	snprintf(o.what, sizeof o.what, "%s", what);
	snprintf(o.last, sizeof o.last, "%s", e->last[0] != '\0' ? e->last :
	    j->o.last);
	snprintf(o.diag, sizeof o.diag, "%s", o.last);
	if (code == 0) {
		memset(&r, 0, sizeof r);
		memcpy(r.id, e->id, sizeof r.id);
		conclude(&r, &o, e->now);
		return;
	}
	if (nym_queue_get(qdir, e->id, &r, &fd) == -1) {
		if (errno != ENOENT)
			unreadable(e->id);
		return;
	}
	close(fd);
	conclude(&r, &o, e->now);
	nym_qrec_free(&r);
}

/* The name of the command of j's batch, without its directory. */
static const char *
cmdname(const struct job *j)
{
	const char *p = strrchr(j->r.argv[0], '/');

	return p != NULL ? p + 1 : j->r.argv[0];
}

/* The message handed to j's deliverer that it names at s (its ID and a
 * space), and where the name ends in s; NULL if none. */
static struct bent *
bfind(struct job *j, const char *s, const char **end)
{
	long k;

	for (k = 0; k < ahead; k++)
		if (j->b[k].used && k != j->held &&
		    strncmp(s, j->b[k].id, NYM_QUEUE_IDLEN) == 0 &&
		    s[NYM_QUEUE_IDLEN] == ' ') {
			*end = s + NYM_QUEUE_IDLEN + 1;
			return &j->b[k];
		}
	return NULL;
}

/* A line of the deliverer's standard error: a warning about one message
 * ("...: unable to deliver ID to ADDR: why") is kept for it as a
 * delivery of its own would have said it, the name left out. */
static void
warnline(struct job *j, const char *line)
{
	static const char verb[] = "unable to deliver ";
	const char *p = strstr(line, verb), *end;
	struct bent *e;

	if (p == NULL || (e = bfind(j, p + sizeof verb - 1, &end)) == NULL)
		return;
	snprintf(e->last, sizeof e->last, "%.*s%s",
	    (int)(p + sizeof verb - 1 - line), line, end);
}

/* Close the socket of j's batch: its deliverer reads the end of its
 * batch once it has the messages handed before, and exits. */
static void
bclose(struct job *j)
{
	if (j->sk != -1)
		close(j->sk);
	j->sk = -1;
}

/* Hand the held message to j's deliverer: a packet of its line with its
 * copy's descriptor.  1 if it went (or failed, and was recorded as
 * failed for now), 0 if it still waits for room in the socket (poll says
 * when) or the deliverer has gone. */
static int
bsend(struct job *j)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { j->line, j->linelen };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	char what[160];
	ssize_t n;
	int e;

	memset(&ctl, 0, sizeof ctl);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof ctl.buf;
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &j->heldfd, sizeof(int));
	while ((n = sendmsg(j->sk, &mh, MSG_NOSIGNAL | MSG_DONTWAIT)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN)
		return 0;
	e = n == -1 ? errno : 0;
	if (e == EPIPE || e == ECONNRESET || e == ENOTCONN) {
		/* The deliverer has gone (a bridge that is down, say): the
		 * message stays held, and its exit status and last words
		 * become the message's when it is reaped (bend). */
		bclose(j);
		return 0;
	}
	close(j->heldfd);
	free(j->line);
	j->line = NULL;
	j->heldfd = -1;
	if (e != 0) {
		/* Not handed: a temporary failure, as one the deliverer did
		 * not report on. */
		snprintf(what, sizeof what, "unable to hand it to %.60s -B: %s",
		    cmdname(j), strerror(e));
		bconclude(j, &j->b[j->held], -1, what);
		j->held = -1;
		return 1;
	}
	j->held = -1;
	return 1;
}

/* Hand j's deliverer what waits for its destination, as long as it has
 * fewer than ahead messages not reported on: each copied as it is to be
 * sent now into an unnamed file, whose descriptor goes with its line
 * "ID RECIPIENT...".  A message that is not of the batch's group (changed
 * by hand since) or bounces (not by this run) is left for another run.
 * Once nothing more will come (closing), the socket is closed. */
static void
bfeed(struct job *j)
{
	struct dest *d = &dests[j->dest];
	char id[NYM_QUEUE_IDLEN + 1];
	struct nym_qrec r;
	struct outcome o;
	struct bent *e;
	size_t i, len;
	long long t;
	long k;
	int fd, cfd, err;
	char *p;

	if (j->sk == -1 || (j->held != -1 && !bsend(j)))
		return;
	while (j->sk != -1 && j->nleft < ahead && d->head != -1) {
		dequeue(d, id);
		if (getpending(id, &r, &fd) == -1)
			continue;
		if (r.state == NYM_QS_BOUNCE || !samegroup(&j->r, &r) ||
		    !batchable(&r)) {
			close(fd);
			nym_qrec_free(&r);
			continue;
		}
		for (k = 0; j->b[k].used; k++)
			;
		e = &j->b[k];
		memcpy(e->id, id, sizeof e->id);
		e->now = nym_now();
		e->last[0] = '\0';
		len = NYM_QUEUE_IDLEN + 2;
		for (i = 0; i < r.nrcpt; i++)
			len += strlen(r.rcpt[i]) + 1;
		if ((j->line = malloc(len)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		cfd = sendcopy(fd, e->now);
		err = errno;
		close(fd);
		if (cfd == -1) {
			free(j->line);
			j->line = NULL;
			memset(&o, 0, sizeof o);
			o.code = err == E2BIG ? NYM_EX_DATAERR : -1;
			snprintf(o.what, sizeof o.what, "unable to copy it "
			    "into the queue's tmp/: %.80s", strerror(err));
			conclude(&r, &o, e->now);
			nym_qrec_free(&r);
			continue;
		}
		p = j->line + NYM_QUEUE_IDLEN;
		memcpy(j->line, id, NYM_QUEUE_IDLEN);
		for (i = 0; i < r.nrcpt; i++) {
			*p++ = ' ';
			memcpy(p, r.rcpt[i], strlen(r.rcpt[i]));
			p += strlen(r.rcpt[i]);
		}
		*p++ = '\n';
		j->linelen = (size_t)(p - j->line);
		nym_qrec_free(&r);
		e->used = 1;
		j->held = (int)k;
		j->heldfd = cfd;
		/* Its -T: from now if the deliverer had nothing to do, else
		 * from the line before its own; the batch's total grows by
		 * -T for each. */
		t = nym_now_ms();
		if (j->nleft++ == 0) {
			j->cap = (j->cap > t ? j->cap : t) + timeout * 1000;
			j->deadline = t + timeout * 1000 < j->cap ?
			    t + timeout * 1000 : j->cap;
		} else
			j->cap += timeout * 1000;
		if (!bsend(j))
			return;
	}
	if (closing && d->head == -1 && j->held == -1)
		bclose(j);
}

/* A line of its standard output, "ID CODE ...": that message is done
 * with, recorded at once; the batch has -T more for the next, and is
 * handed another. */
static void
reportline(struct job *j, const char *line)
{
	const char *end;
	struct bent *e;
	char what[160], *q;
	long code;
	long long t;

	if ((e = bfind(j, line, &end)) == NULL)
		return;
	code = strtol(end, &q, 10);
	if (q == end || (*q != ' ' && *q != '\0') || code < 0 || code > 255)
		return;
	snprintf(what, sizeof what, "%.60s -B reported %ld", cmdname(j),
	    code);
	bconclude(j, e, (int)code, what);
	t = nym_now_ms();
	j->deadline = t + timeout * 1000 < j->cap ? t + timeout * 1000 :
	    j->cap;
	bfeed(j);
}

/* Read what there is from a batch's pipe *pfd (nonblocking), line by
 * line, into fn; its end, or with drain its writer's end, closes it.
 * Standard error also goes to the batch's own tails. */
static void
blines(struct job *j, int *pfd, struct lbuf *l, int isout, int drain)
{
	char buf[4096];
	ssize_t k, i;

	if (*pfd == -1)
		return;
	for (;;) {
		k = read(*pfd, buf, sizeof buf);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		/* Every warning the deliverer wrote before these lines is in
		 * its standard error by now. */
		if (isout)
			blines(j, &j->pe, &j->errl, 0, drain);
		else {
			keep(&j->diag, buf, (size_t)k);
			keep(&j->err, buf, (size_t)k);
		}
		for (i = 0; i < k; i++) {
			if (buf[i] != '\n') {
				if (l->n < NYM_QRUN_LINE)
					l->p[l->n++] = buf[i];
				continue;
			}
			l->p[l->n] = '\0';
			l->n = 0;
			if (isout)
				reportline(j, l->p);
			else
				warnline(j, l->p);
		}
	}
	if (k == 0 || drain || (k == -1 && errno != EAGAIN)) {
		close(*pfd);
		*pfd = -1;
	}
}

/* Both pipes of a batch: standard error first, which the deliverer
 * wrote before the line that ends a message, and again after each read
 * of its standard output (blines), as recording a line may take a while
 * (a bounce) and more come meanwhile. */
static void
bread(struct job *j, int drain)
{
	blines(j, &j->pe, &j->errl, 0, drain);
	blines(j, &j->po, &j->outl, 1, drain);
}

/* The deliverer of the batch of j has gone, or timed out: what it
 * reported is recorded already; the rest it was handed failed for now (a
 * line cut short included), to be tried again. */
static void
bend(struct job *j, int timedout)
{
	const char *cmd = cmdname(j);
	char what[160];
	long k;
	int code = -1;

	if (timedout) {
		stopguard(j, 0);
		kill(j->pid, SIGKILL);
	}
	if (!j->reaped)
		while (waitpid(j->pid, &j->st, 0) == -1 && errno == EINTR)
			;
	bclose(j);		/* nothing more for it, whatever it says */
	bread(j, 1);
	if (j->pidfd != -1)
		close(j->pidfd);
	j->pidfd = -1;
	if (j->held != -1) {
		close(j->heldfd);
		free(j->line);
		j->line = NULL;
		j->heldfd = -1;
		j->held = -1;
	}
	settle(&j->o, &j->diag, &j->err);
	if (timedout)
		snprintf(what, sizeof what, "%.60s -B timed out", cmd);
	else if (WIFSIGNALED(j->st))
		snprintf(what, sizeof what, "%.60s -B killed by signal %d", cmd,
		    WTERMSIG(j->st));
	else {
		/* Its temporary code is this message's (a bridge that is
		 * down); any other says nothing of it: -1. */
		if (temporary(WEXITSTATUS(j->st)))
			code = WEXITSTATUS(j->st);
		snprintf(what, sizeof what, "%.60s -B exited with %d before "
		    "its report on it", cmd, WEXITSTATUS(j->st));
	}
	for (k = 0; k < ahead; k++)
		if (j->b[k].used)
			bconclude(j, &j->b[k], code, what);
	nym_qrec_free(&j->r);
	j->isbatch = 0;
}

/* Start a batch in slot j (free; the caller made sure) for d: its
 * deliverer, the command and sender of the first message waiting that
 * can go, with a socket on its standard input to hand it messages on
 * (bfeed).  1 if it runs; 0 if nothing can go, or it could not start
 * (that first message recorded as failed for now). */
static int
bstart(struct job *j, struct dest *d)
{
	char id[NYM_QUEUE_IDLEN + 1], cmd[64];
	struct nym_qrec r;
	struct outcome o;
	const char **av;
	size_t i, n = 0;
	int fd, e, sv[2];

	if (j->b == NULL &&
	    (j->b = calloc((size_t)ahead, sizeof *j->b)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	/* The first that can go gives the group; it stays first in line. */
	for (;;) {
		if (d->head == -1)
			return 0;
		memcpy(id, pend[d->head].id, sizeof id);
		if (getpending(id, &r, &fd) == -1) {
			dequeue(d, id);
			continue;
		}
		close(fd);
		if (r.state != NYM_QS_BOUNCE && batchable(&r))
			break;
		dequeue(d, id);
		nym_qrec_free(&r);
	}
	memset(&j->o, 0, sizeof j->o);
	j->diag = (struct tail){ j->o.diag, NYM_QRUN_DIAG, 0, 0 };
	j->err = (struct tail){ j->o.err, NYM_QRUN_ERRTAIL, 0, 0 };
	j->outl.n = j->errl.n = 0;
	j->pid = -1;
	j->pidfd = j->po = j->pe = j->sk = -1;
	j->exited = j->reaped = 0;
	j->st = 0;
	j->nleft = 0;
	j->held = j->heldfd = -1;
	j->now = nym_now();
	memset(&o, 0, sizeof o);
	o.code = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sv) == -1) {
		snprintf(o.what, sizeof o.what, "unable to make a socket for "
		    "the batch: %s", strerror(errno));
		goto fail;
	}
	/* The deliverer's end blocks, as any command expects. */
	fcntl(sv[1], F_SETFL, 0);
	if ((av = calloc(r.argc + 5, sizeof *av)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < r.argc; i++)
		av[n++] = r.argv[i];
	av[n++] = "-B";
	av[n++] = "-f";
	av[n++] = r.sender;
	av[n++] = "--";
	av[n] = NULL;
	e = startcmd(j, av, sv[1], O_NONBLOCK);
	close(sv[1]);
	if (e == 0) {
		free(av);
		j->sk = sv[0];
		j->cap = j->start;
		j->r = r;
		j->isbatch = 1;
		return 1;
	}
	close(sv[0]);
	o.code = shellcode(e);
	cmdpath(cmd, av[0]);
	snprintf(o.what, sizeof o.what, "unable to run %s: %s", cmd,
	    strerror(e));
	free(av);
fail:
	dequeue(d, id);
	conclude(&r, &o, j->now);
	nym_qrec_free(&r);
	return 0;
}

/* ---- many at once ---- */

/* The slots, destinations and waiting list, allocated once: what a run
 * holds does not grow with the queue. */
static void
setup(void)
{
	struct rlimit rl;
	rlim_t need;
	long i;

	if (perdest > jobs)
		perdest = jobs;
	/* A delivery holds at most six descriptors (its copy, or a batch's
	 * socket and the copy it is handing; two pipes, a pidfd and its
	 * watchdog's pipe), and a few more while it starts; the copies a
	 * batch has handed ahead and its deliverer not yet taken count
	 * too, as Linux counts them against the sender's limit.  Short of
	 * them, fewer are handed ahead, then fewer run at once. */
	need = (rlim_t)jobs * (6 + (rlim_t)ahead) + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
			ahead = rl.rlim_cur > (rlim_t)jobs * 7 + 64 ?
			    (long)((rl.rlim_cur - 64) / (rlim_t)jobs) - 6 : 1;
			if (rl.rlim_cur < (rlim_t)jobs * 7 + 64) {
				jobs = rl.rlim_cur > 128 ?
				    (long)(rl.rlim_cur - 64) / 7 : 10;
				nym_warn("unable to open enough files for -j: "
				    "%ld deliveries at once", jobs);
				if (perdest > jobs)
					perdest = jobs;
			}
		}
	}
	ndests = 2 * jobs;
	if ((jobtab = calloc((size_t)jobs, sizeof *jobtab)) == NULL ||
	    (dests = calloc((size_t)ndests, sizeof *dests)) == NULL ||
	    (pfds = calloc((size_t)jobs * 4, sizeof *pfds)) == NULL ||
	    (pfslot = calloc((size_t)jobs * 4, sizeof *pfslot)) == NULL ||
	    (pend = calloc(NYM_QRUN_PEND_MAX, sizeof *pend)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < jobs; i++) {
		jobtab[i].guard = jobtab[i].guardfd = -1;
		jobtab[i].fd = jobtab[i].pidfd = jobtab[i].sk = -1;
		jobtab[i].po = jobtab[i].pe = jobtab[i].held = -1;
	}
	for (i = 0; i < NYM_QRUN_PEND_MAX; i++)
		pend[i].next = i + 1 < NYM_QRUN_PEND_MAX ? (int)i + 1 : -1;
	pendfree = 0;
}

/* The end of a run: every watchdog let go, the rest freed. */
static void
teardown(void)
{
	long i;

	for (i = 0; i < jobs; i++) {
		stopguard(&jobtab[i], 1);
		free(jobtab[i].b);
	}
	free(jobtab);
	free(dests);
	free(pfds);
	free(pfslot);
	free(pend);
}

/* Is message id in flight (or, with waiting, waiting for its turn)? */
static int
busy(const char *id, int waiting)
{
	long i, k;

	for (i = 0; i < jobs; i++) {
		if (!jobtab[i].busy)
			continue;
		if (!jobtab[i].isbatch && strcmp(jobtab[i].r.id, id) == 0)
			return 1;
		for (k = 0; jobtab[i].isbatch && k < ahead; k++)
			if (jobtab[i].b[k].used &&
			    strcmp(jobtab[i].b[k].id, id) == 0)
				return 1;
	}
	if (waiting)
		for (i = 0; i < ndests; i++)
			for (k = dests[i].used ? dests[i].head : -1; k != -1;
			    k = pend[k].next)
				if (strcmp(pend[k].id, id) == 0)
					return 1;
	return 0;
}

static struct dest *
finddest(uint64_t key)
{
	long i;

	for (i = 0; i < ndests; i++)
		if (dests[i].used && dests[i].key == key)
			return &dests[i];
	return NULL;
}

/* A free destination for key (there is one: see struct dest). */
static struct dest *
newdest(uint64_t key, int batch)
{
	long i;

	for (i = 0; i < ndests && dests[i].used; i++)
		;
	if (i == ndests)
		nym_die(NYM_EX_SOFTWARE, "unable to find room for a "
		    "destination");
	dests[i] = (struct dest){ 1, 0, key, -1, -1, batch, 0, -1 };
	return &dests[i];
}

/* Let d go if nothing of it runs or waits. */
static void
release(struct dest *d)
{
	if (d->used && d->running == 0 && d->head == -1)
		d->used = 0;
}

/* Start delivering r (its message open at fd) to destination key in a
 * free slot, which the caller made sure there is.  The time of sending
 * is now, not when r was read: it may have waited for its place. */
static void
launch(struct nym_qrec *r, int fd, uint64_t key)
{
	struct job *j = jobtab;
	struct dest *d;

	/* There is a free slot (the caller waited for one), and a free
	 * destination: each in use has a delivery in flight. */
	while (j->busy)
		j++;
	if ((d = finddest(key)) == NULL)
		d = newdest(key, 0);
	j->r = *r;
	j->now = nym_now();
	j->dest = (int)(d - dests);
	if (jobstart(j, fd)) {
		j->busy = 1;
		d->running++;
		running++;
		return;
	}
	conclude(&j->r, &j->o, j->now);
	nym_qrec_free(&j->r);
	release(d);
}

/* Start a batch for d in a free slot (the caller made sure there is
 * one) and hand it what waits; 1 if it runs. */
static int
batch(struct dest *d)
{
	struct job *j = jobtab;

	while (j->busy)
		j++;
	if (!bstart(j, d))
		return 0;
	j->busy = 1;
	j->dest = (int)(d - dests);
	d->job = (int)(j - jobtab);
	d->running++;
	running++;
	bfeed(j);
	return 1;
}

/* Start what waits for d while it and the run have room. */
static void
feed(struct dest *d)
{
	struct nym_qrec r;
	char id[NYM_QUEUE_IDLEN + 1];
	int fd;

	if (d->batch) {
		/* One batch at a time: one session for the destination. */
		if (d->running > 0)
			bfeed(&jobtab[d->job]);
		while (d->head != -1 && d->running == 0 && running < jobs)
			(void)batch(d);
		return;
	}
	while (d->head != -1 && d->running < perdest && running < jobs) {
		dequeue(d, id);
		if (getpending(id, &r, &fd) == -1)
			continue;
		if (r.state == NYM_QS_BOUNCE) {	/* not by this run */
			close(fd);
			nym_qrec_free(&r);
			continue;
		}
		launch(&r, fd, d->key);
	}
}

/* The delivery of slot j is over (or timed out): record it, and start
 * what waited for its destination. */
static void
finish(struct job *j, int timedout)
{
	struct dest *d = &dests[j->dest];

	if (j->isbatch) {
		bend(j, timedout);
		j->busy = 0;
		running--;
		d->running--;
	} else {
		jobend(j, timedout);
		j->busy = 0;
		running--;
		d->running--;
		conclude(&j->r, &j->o, j->now);
		nym_qrec_free(&j->r);
	}
	feed(d);
	release(d);
}

/* Watch the deliveries in flight: their output, their end, their
 * deadline, and the sync of what was delivered; wait for something to
 * happen if block, else only look. */
static void
pump(int block)
{
	long long t, left, wait = block ? -1 : 0;
	struct job *j;
	nfds_t np = 0, k;
	long i;
	int nopidfd = 0;

	t = nym_now_ms();
	for (i = 0; i < jobs; i++) {
		j = &jobtab[i];
		if (!j->busy)
			continue;
		if ((left = j->deadline - t) <= 0 && j->isbatch &&
		    j->nleft == 0 && j->sk != -1) {
			/* A batch that waited -T for more and got none:
			 * ended, its deliverer given -T to leave. */
			bclose(j);
			j->deadline = t + timeout * 1000;
			left = timeout * 1000;
		}
		if (left <= 0) {
			finish(j, 1);
			wait = 0;
			continue;
		}
		if (wait == -1 || left < wait)
			wait = left;
		if (j->po != -1) {
			pfslot[np] = (int)i;
			pfds[np++] = (struct pollfd){ j->po, POLLIN, 0 };
		}
		if (j->pe != -1) {
			pfslot[np] = (int)i;
			pfds[np++] = (struct pollfd){ j->pe, POLLIN, 0 };
		}
		if (j->pidfd != -1) {
			pfslot[np] = (int)i;
			pfds[np++] = (struct pollfd){ j->pidfd, POLLIN, 0 };
		} else
			nopidfd = 1;
		if (j->isbatch && j->held != -1 && j->sk != -1) {
			pfslot[np] = (int)i;
			pfds[np++] = (struct pollfd){ j->sk, POLLOUT, 0 };
		}
	}
	if (dirty) {
		if ((left = synced + NYM_QRUN_SYNC_MS - t) <= 0)
			syncq();
		else if (wait == -1 || left < wait)
			wait = left;
	}
	/* Without a pidfd (before Linux 5.3) look every 20 ms. */
	if (nopidfd && (wait == -1 || wait > 20))
		wait = 20;
	if (np == 0 && wait == -1)
		return;
	if (poll(pfds, np, wait > INT_MAX ? INT_MAX : (int)wait) == -1) {
		if (errno != EINTR)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to wait for the "
			    "deliveries");
		return;
	}
	/* Output first; the ends after, as finishing one may start another
	 * in a slot, on descriptors of the same numbers. */
	for (k = 0; k < np; k++) {
		j = &jobtab[pfslot[k]];
		if ((pfds[k].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) ==
		    0)
			continue;
		if (j->isbatch && pfds[k].fd == j->sk)
			bfeed(j);
		else if (j->isbatch && (pfds[k].fd == j->po ||
		    pfds[k].fd == j->pe))
			bread(j, 0);
		else if (pfds[k].fd == j->po)
			take(&j->po, &j->diag, NULL, 0);
		else if (pfds[k].fd == j->pe)
			take(&j->pe, &j->diag, &j->err, 0);
		else if (pfds[k].fd == j->pidfd)
			j->exited = 1;
	}
	for (i = 0; i < jobs; i++) {
		j = &jobtab[i];
		if (j->busy && j->pidfd == -1 && !j->exited &&
		    waitpid(j->pid, &j->st, WNOHANG) == j->pid)
			j->exited = j->reaped = 1;
	}
	for (i = 0; i < jobs; i++)
		if (jobtab[i].busy && jobtab[i].exited)
			finish(&jobtab[i], 0);
}

/* Wait until the run has a free slot.  A batch that has nothing to do
 * holds one until it is told that nothing more comes (closing) or its
 * -T passes: one such is ended now, unless one is ending already. */
static void
roomwait(void)
{
	struct job *j, *idle;
	long i;

	while (running >= jobs) {
		idle = NULL;
		for (i = 0; i < jobs; i++) {
			j = &jobtab[i];
			if (!j->busy || !j->isbatch || j->nleft > 0 ||
			    dests[j->dest].head != -1)
				continue;
			if (j->sk == -1)
				break;
			if (idle == NULL)
				idle = j;
		}
		if (i == jobs && idle != NULL)
			bclose(idle);
		pump(1);
	}
}

/* Start one batch destination's batch that waits for a slot, waiting for
 * the slot; 0 if none waits. */
static int
kickone(void)
{
	long i;

	for (i = 0; i < ndests; i++) {
		if (!dests[i].used || dests[i].running > 0 ||
		    dests[i].head == -1)
			continue;
		roomwait();
		/* Waiting may have started it, or more. */
		if (dests[i].used)
			feed(&dests[i]);
		if (dests[i].used)
			release(&dests[i]);
		return 1;
	}
	return 0;
}

/* Start every batch that waits (the end of a pass). */
static void
kick(void)
{
	while (kickone())
		;
}

/* Nothing more will be offered: every batch is told so once it has been
 * handed what waits for it, and ends when it has sent that. */
static void
endbatches(void)
{
	long i;

	closing = 1;
	for (i = 0; i < jobs; i++)
		if (jobtab[i].busy && jobtab[i].isbatch)
			bfeed(&jobtab[i]);
}

/* Add r to what waits for its batch destination: handed at once to the
 * destination's batch if one runs, else a batch is started for it if
 * there is a free slot, else at the end of the pass (kick(), which ends
 * batches that have nothing more to do to make room), so that a batch
 * is not ended while the pass may still find messages for it.  0 if the
 * waiting list is full and no batch can be started to make room (as
 * offer()).  r and fd are taken. */
static int
offerbatch(struct nym_qrec *r, int fd)
{
	uint64_t key = batchkey(r);
	struct dest *d;
	long i, idle;

	close(fd);
	for (;;) {
		if ((d = finddest(key)) == NULL) {
			for (i = idle = 0; i < ndests; i++)
				idle += dests[i].used && dests[i].running == 0;
			if (idle >= jobs) {
				(void)kickone();
				continue;
			}
		}
		if (pendfree == -1) {
			if (kickone())
				continue;
			if (!listmode) {
				nym_qrec_free(r);
				return 0;
			}
			pump(1);
			continue;
		}
		if (d == NULL)
			d = newdest(key, 1);
		enqueue(d, r->id);
		nym_qrec_free(r);
		feed(d);
		release(d);
		return 1;
	}
}

/* Deliver r (its message open at fd) as soon as the run and its
 * destination have room; until then it waits in the list of its
 * destination.  0 if that list is full, and r is left for a later pass:
 * a scan then goes on, so that one slow destination holds no other;
 * -r waits instead.  r and fd are taken. */
static int
offer(struct nym_qrec *r, int fd)
{
	uint64_t key;
	struct dest *d;
	int waits = 0;

	if (batchable(r))
		return offerbatch(r, fd);
	key = nym_queue_dest(r);
	for (;;) {
		roomwait();
		if ((d = finddest(key)) == NULL || d->running < perdest) {
			launch(r, fd, key);
			return 1;
		}
		if (pendfree != -1) {
			enqueue(d, r->id);
			waits = 1;
			break;
		}
		if (!listmode)
			break;
		pump(1);
	}
	close(fd);
	nym_qrec_free(r);
	return waits;
}

/* ---- the modes of operation ---- */

/* Say why message id cannot be read, naming the file its record is in. */
static void
unreadable(const char *id)
{
	char path[PATH_MAX];
	int e = errno;

	snprintf(path, sizeof path, "%s/info/%s", qdir, id);
	if (access(path, F_OK) == -1)
		snprintf(path, sizeof path, "%s/mess/%s", qdir, id);
	nym_warn("unable to read %s: %s", path, e == EINVAL ? "damaged" :
	    strerror(e));
	ret = NYM_EX_TEMPFAIL;
}

/* Read the pending message id's record and open it, as a run's pass
 * does: one that cannot be read is reported (one that is gone, only
 * when listing).  0, or -1. */
static int
getpending(const char *id, struct nym_qrec *r, int *fd)
{
	if (nym_queue_get(qdir, id, r, fd) == 0)
		return 0;
	if (errno != ENOENT)
		unreadable(id);
	else if (listmode)
		noid("retry", id);
	return -1;
}

/* The scan's next message that can be read: its record, and its file open
 * at the message.  One that vanished is skipped; one that cannot be read
 * is reported and skipped.  1, or nym_queue_next's 0 or -1. */
static int
nextmsg(struct nym_qscan *s, char id[NYM_QUEUE_IDLEN + 1],
    struct nym_qrec *r, int *fd)
{
	int k;

	while ((k = nym_queue_next(s, id)) == 1) {
		if (nym_queue_get(qdir, id, r, fd) == 0)
			return 1;
		if (errno != ENOENT)
			unreadable(id);
	}
	return k;
}

/* One line of the listing: ID, mode, when (the next attempt, or
 * "bouncing" or "failed"), failed attempts, recipients, size, and the
 * last error if there is one.  r is NULL for a failed message that has no
 * record. */
static void
listone(const char *id, const struct nym_qrec *r, const char *when,
    long long size)
{
	size_t i;

	if (r == NULL) {
		printf("%s - %s - - %lld\n", id, when, size);
		return;
	}
	printf("%s %s %s %u ", id, nym_queue_modename(r->mode), when,
	    r->attempts);
	for (i = 0; i < r->nrcpt; i++)
		printf("%s%s", i > 0 ? "," : "", r->rcpt[i]);
	printf(" %lld", size);
	/* The record's error is one line of printable ASCII, bounded, made
	 * by queue-run; a hand-edited one is cleaned again here. */
	if (r->error[0] != '\0') {
		putchar(' ');
		for (i = 0; r->error[i] != '\0' && i < NYM_QUEUE_ERR; i++)
			putchar(r->error[i] >= ' ' && r->error[i] < 127 ?
			    r->error[i] : '?');
	}
	putchar('\n');
}

/* The size of the rest of the file open at fd, from its offset. */
static long long
restsize(int fd)
{
	struct stat st;
	off_t off;

	if (fstat(fd, &st) == -1 || (off = lseek(fd, 0, SEEK_CUR)) == -1)
		return -1;
	return (long long)(st.st_size - off);
}

static void
listfailed(void)
{
	struct nym_qscan s;
	struct nym_qrec r;
	char id[NYM_QUEUE_IDLEN + 1], path[PATH_MAX];
	long long size;
	int k, fd;

	if (nym_queue_scandir(&s, qdir, "failed") == -1) {
		if (errno == ENOENT)
			return;
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s/failed", qdir);
	}
	while ((k = nym_queue_next(&s, id)) == 1) {
		if ((k = nym_queue_failed(qdir, id, &r, &fd)) == -1) {
			if (errno == ENOENT)
				continue;
			snprintf(path, sizeof path, "%s/failinfo/%s", qdir, id);
			nym_warn("unable to read %s: %s", path, errno ==
			    EINVAL ? "damaged" : strerror(errno));
			ret = NYM_EX_TEMPFAIL;
			continue;
		}
		size = restsize(fd);
		close(fd);
		listone(id, k == 0 ? &r : NULL, "failed", size);
		nym_qrec_free(&r);
	}
	if (k == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s/failed", qdir);
	nym_queue_endscan(&s);
}

static void
list(void)
{
	struct nym_qscan s;
	struct nym_qrec r;
	char id[NYM_QUEUE_IDLEN + 1], when[40];
	long long size;
	int k, fd;

	if (nym_queue_scan(&s, qdir) == -1) {
		if (errno == ENOENT)
			return;
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s/mess", qdir);
	}
	while ((k = nextmsg(&s, id, &r, &fd)) == 1) {
		/* The message's size, its record left out. */
		size = restsize(fd);
		close(fd);
		if (r.state == NYM_QS_BOUNCE)
			snprintf(when, sizeof when, "bouncing");
		else
			isodate(r.due, when, sizeof when);
		listone(id, &r, when, size);
		nym_qrec_free(&r);
	}
	if (k == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s/mess", qdir);
	nym_queue_endscan(&s);
	listfailed();
	if (fflush(stdout) == EOF || ferror(stdout))
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write the listing");
}

/* Take the queue's lock for -d, -r or -R, waiting for a run in progress
 * (NYM_QRUN_LOCK_MS); the descriptor. */
static int
lockwait(void)
{
	int lfd;

	switch (nym_queue_lock(qdir, NYM_QRUN_LOCK_MS, &lfd)) {
	case 1:
		nym_die(NYM_EX_TEMPFAIL, "unable to lock %s: a run is in "
		    "progress", qdir);
	case -1:
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to lock %s", qdir);
	}
	return lfd;
}

/* Is there a file qdir/sub/id? */
static int
isthere(const char *sub, const char *id)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s/%s", qdir, sub, id);
	return access(path, F_OK) == 0;
}

/* An ID on the command line that names no message where it should: a
 * usage error (64), saying what there is under that ID instead. */
static void
noid(const char *verb, const char *id)
{
	if (isthere("failed", id))
		nym_warn("unable to %s %s: it failed (in %s/failed)%s", verb, id,
		    qdir, strcmp(verb, "retry") == 0 ? "; queue it again with "
		    "-R" : "");
	else
		nym_warn("unable to %s %s: no such message", verb, id);
	if (ret == NYM_EX_OK)
		ret = NYM_EX_USAGE;
}

static void
delete(char **ids, size_t n)
{
	size_t i;
	int lfd = lockwait();

	for (i = 0; i < n; i++)
		if (nym_queue_remove(qdir, ids[i]) == -1) {
			if (errno == ENOENT)
				noid("delete", ids[i]);
			else {
				nym_warn("unable to delete %s: %s", ids[i],
				    strerror(errno));
				ret = NYM_EX_TEMPFAIL;
			}
		}
	close(lfd);
}

/* -R: queue failed messages again, attempts and error cleared. */
static void
requeue(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (nym_queue_requeue(qdir, ids[i], nym_now()) == 0)
			continue;
		switch (errno) {
		case ENOENT:
			if (isthere("mess", ids[i]))
				nym_warn("unable to requeue %s: it is queued, "
				    "not failed; retry it with -r", ids[i]);
			else
				nym_warn("unable to requeue %s: no such "
				    "message in %s/failed", ids[i], qdir);
			if (ret == NYM_EX_OK)
				ret = NYM_EX_USAGE;
			break;
		case ENODATA:
			nym_warn("unable to requeue %s: it has no record (it "
			    "failed before queue-run kept them); send "
			    "%s/failed/%s again by hand", ids[i], qdir, ids[i]);
			if (ret == NYM_EX_OK)
				ret = NYM_EX_DATAERR;
			break;
		case EBUSY:
			nym_warn("unable to requeue %s: it is being returned to "
			    "its sender; run queue-run first", ids[i]);
			ret = NYM_EX_TEMPFAIL;
			break;
		case EINVAL:
			nym_warn("unable to read %s/failinfo/%s: damaged", qdir,
			    ids[i]);
			ret = NYM_EX_TEMPFAIL;
			break;
		default:
			nym_warn("unable to requeue %s: %s", ids[i],
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
		}
	}
}

/* -r: deliver these messages now, whatever their due time and mode, as
 * many at once as a flush does.  One named twice is tried again once
 * the first attempt is over, as it was one at a time. */
static void
retry(char **ids, size_t n)
{
	struct nym_qrec r;
	size_t i;
	int fd;

	listmode = 1;
	for (i = 0; i < n; i++) {
		while (busy(ids[i], 1)) {
			kick();
			pump(1);
		}
		if (nym_queue_get(qdir, ids[i], &r, &fd) == -1) {
			if (errno == ENOENT)
				noid("retry", ids[i]);
			else
				unreadable(ids[i]);
			continue;
		}
		if (r.state == NYM_QS_BOUNCE) {
			/* Only its bounce is left to do. */
			close(fd);
			bounce(&r, nym_now(), r.error);
			nym_qrec_free(&r);
		} else
			(void)offer(&r, fd);
	}
	kick();
	endbatches();
	while (running > 0)
		pump(1);
	restampall();
}

/* -R and -r, in that order, under one lock. */
static void
admin(char **rq, size_t nrq, char **rt, size_t nrt)
{
	int lfd = lockwait();

	if (atexit(syncq) != 0)
		nym_die(NYM_EX_TEMPFAIL, "unable to register the final sync");
	synced = nym_now_ms();
	requeue(rq, nrq);
	setup();
	retry(rt, nrt);
	teardown();
	syncq();
	close(lfd);
}

/* Deliver what is due, reading mess/ one entry at a time.  A message
 * whose destination has all it may have in flight waits in memory, up
 * to NYM_QRUN_PEND_MAX of them; past that it is left for another pass
 * over mess/,
 * made once those have started, which finds what this one left (the
 * delivered are gone, the failed not due again).  Only a pass without
 * trouble is followed by another: a message whose record could not be
 * written might be due still. */
static void
flush(unsigned modes)
{
	struct nym_qscan s;
	struct nym_qrec r;
	char id[NYM_QUEUE_IDLEN + 1];
	time_t now;
	int k, lfd, fd, pass, left;

	switch (nym_queue_lock(qdir, 0, &lfd)) {
	case 1:
		return;		/* another run is at it: cron's normal case */
	case -1:
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to lock %s", qdir);
	}
	if (atexit(syncq) != 0)
		nym_die(NYM_EX_TEMPFAIL, "unable to register the final sync");
	synced = nym_now_ms();
	(void)nym_queue_clean(qdir);
	setup();
	for (pass = 1;; pass++) {
		if (nym_queue_scan(&s, qdir) == -1) {
			/* Nothing runs yet on the first pass; on a later one
			 * what runs is seen to its end. */
			if (pass == 1)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to read "
				    "%s/mess", qdir);
			nym_warn("unable to read %s/mess: %s", qdir,
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
			break;
		}
		left = 0;
		for (;;) {
			if (running > 0)
				pump(0);
			if ((k = nextmsg(&s, id, &r, &fd)) != 1)
				break;
			now = nym_now();
			if ((modes & (1u << r.mode)) == 0 || busy(id, 0) ||
			    (r.state != NYM_QS_BOUNCE && r.due > now)) {
				close(fd);
				nym_qrec_free(&r);
			} else if (r.state == NYM_QS_BOUNCE) {
				/* Once a run: a bounce that failed waits. */
				close(fd);
				if (pass == 1)
					bounce(&r, now, r.error);
				nym_qrec_free(&r);
			} else if (!offer(&r, fd))
				left = 1;
		}
		if (k == -1) {
			nym_warn("unable to read %s/mess: %s", qdir,
			    strerror(errno));
			ret = NYM_EX_TEMPFAIL;
		}
		nym_queue_endscan(&s);
		kick();
		if (!left || ret != NYM_EX_OK)
			break;
		while (npend > 0)
			pump(1);
	}
	endbatches();
	while (running > 0)
		pump(1);
	restampall();
	teardown();
	syncq();
	close(lfd);
}

/* "now,defer" into a set of mode bits. */
static unsigned
modeset(const char *s)
{
	char buf[64], *w, *save = NULL;
	unsigned set = 0;
	int m;

	if (strlen(s) >= sizeof buf)
		usage();
	memcpy(buf, s, strlen(s) + 1);
	for (w = strtok_r(buf, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		if ((m = nym_queue_mode(w)) == -1)
			nym_die(NYM_EX_USAGE, "unable to use mode %s: expected "
			    "now, defer or batch", w);
		set |= 1u << m;
	}
	if (set == 0)
		usage();
	return set;
}

/* Add an ID from the command line to *ids. */
static void
addid(char ***ids, size_t *n, const char *arg)
{
	if (!nym_queue_isid(arg))
		nym_die(NYM_EX_USAGE, "unable to use ID %s: expected %d hex "
		    "digits", arg, NYM_QUEUE_IDLEN);
	if (nym_reallocarray(ids, *n + 1, sizeof **ids) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	(*ids)[(*n)++] = (char *)arg;
}

int
main(int argc, char *argv[])
{
	const char *qarg = NULL, *where, *v;
	char **ids = NULL, **rq = NULL, **rt = NULL;
	size_t nids = 0, nrq = 0, nrt = 0;
	unsigned modes = 7;
	int c, lflag = 0, mflag = 0;

	nym_start(argc, argv, USAGE);
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	if ((v = nym_conf_get("delivery-timeout")) != NULL)
		timeout = nym_num(NYM_EX_CONFIG, "delivery-timeout", v, 1,
		    86400);
	if ((v = nym_conf_get("queue-lifetime")) != NULL)
		lifetime = nym_num(NYM_EX_CONFIG, "queue-lifetime", v, 0,
		    31536000);
	if ((v = nym_conf_get("queue-concurrency")) != NULL)
		jobs = nym_num(NYM_EX_CONFIG, "queue-concurrency", v, 1,
		    NYM_QRUN_JOBS_MAX);
	if ((v = nym_conf_get("queue-destination-concurrency")) != NULL)
		perdest = nym_num(NYM_EX_CONFIG,
		    "queue-destination-concurrency", v, 1,
		    NYM_QRUN_JOBS_MAX);
	if ((v = nym_conf_get("bounce-maildir")) != NULL && *v != '\0')
		bouncedir = v;
	if ((v = nym_conf_get("bounce-mbox")) != NULL && *v != '\0')
		bouncembox = v;
	if (bouncedir != NULL && bouncembox != NULL)
		nym_die(NYM_EX_CONFIG, "unable to use configuration %s: "
		    "bounce-maildir and bounce-mbox are both set", where);
	while ((c = getopt(argc, argv, "b:d:J:j:L:lm:q:R:r:sT:")) != -1) {
		switch (c) {
		case 'b': bouncedir = optarg; break;
		case 'd': addid(&ids, &nids, optarg); break;
		case 'J':
			perdest = nym_num(NYM_EX_USAGE, "-J", optarg, 1,
			    NYM_QRUN_JOBS_MAX);
			break;
		case 'j':
			jobs = nym_num(NYM_EX_USAGE, "-j", optarg, 1,
			    NYM_QRUN_JOBS_MAX);
			break;
		case 'L':
			lifetime = nym_num(NYM_EX_USAGE, "-L", optarg, 0,
			    31536000);
			break;
		case 'l': lflag = 1; break;
		case 'm': modes = modeset(optarg); mflag = 1; break;
		case 'q': qarg = optarg; break;
		case 'R': addid(&rq, &nrq, optarg); break;
		case 'r': addid(&rt, &nrt, optarg); break;
		case 's': singles = 1; break;
		case 'T':
			timeout = nym_num(NYM_EX_USAGE, "-T", optarg, 1, 86400);
			break;
		default: usage();
		}
	}
	/* One job per run: list, delete, requeue and retry, or flush. */
	if (optind != argc || lflag + (nids > 0) + (nrq + nrt > 0) > 1 ||
	    (mflag && nrq + nrt > 0))
		usage();
	if (nym_queue_dir(qdir, sizeof qdir, qarg) == -1)
		nym_die(NYM_EX_CONFIG, "unable to find the queue: set HOME or "
		    "use -q");
	if (lflag)
		list();
	else if (nids > 0)
		delete(ids, nids);
	else {
		if (nym_queue_make(qdir) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to create queue %s",
			    qdir);
		if (nrq + nrt > 0)
			admin(rq, nrq, rt, nrt);
		else
			flush(modes);
	}
	free(ids);
	free(rq);
	free(rt);
	return ret;
}
