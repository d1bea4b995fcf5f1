/*
 * samshare.c - lend one SAM session to the other programs of its owner.
 *
 * A mail domain on I2P is one destination, and a destination can be in
 * one SAM session at a time: while sam-accept receives for alice.i2p,
 * sam-deliver cannot create a session of its own with the same key
 * (DUPLICATED_DEST), yet receivers check that Alice's mail comes from
 * exactly that destination.  So the holder lends its session over a UNIX
 * socket in the user's 0700 configuration directory: a borrower asks for
 * a lookup or a stream, and a stream comes back as a file descriptor
 * (SCM_RIGHTS), opened by a child of the lender so a slow peer never
 * holds up its accept loop.  Only processes of the same user are served
 * (SO_PEERCRED).  One request per connection keeps both sides simple; a
 * borrower's "ME" connection stays open as its lease, so the lender knows
 * when its session is in use.
 *
 * A user who only sends gets the same (ssh's ControlPersist): the first
 * sam-deliver takes KEY.lock (flock, held for the session's whole life,
 * so two processes never make two sessions for one key, however many
 * start at once) and forks a holder that leaves its caller's session,
 * process group and descriptors, creates the session no sooner than
 * sam-gap seconds after the key's last one closed (i2pd 2.45.1 hands a
 * session made sooner the dying router object), lends it, and after
 * sam-linger idle seconds closes it the way i2pd needs: no new borrowers,
 * the borrowers' streams closed, the session kept a few seconds more.
 * Processes that find the key locked wait for it to lend.  A holder
 * whose bridge goes away (EOF on its session socket) or hangs (a probe
 * when idle, NAMING LOOKUP NAME=ME, or a borrower's lookup, unanswered in
 * time) exits, and the next sender starts another after the gap.  Being
 * detached, the holder tells what it does in KEY.log (bounded, 0600, no
 * peers in it).
 *
 * This file is the top of the SAM layers: it calls sam.c to make and use
 * sessions; the borrower's side and the wire are below sam.c, in
 * samborrow.c, so no layer calls up.
 */
#define _GNU_SOURCE		/* struct ucred, accept4 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "i2p.h"


/* What the last nym_share_serve did, for the holder's counts. */
enum { SERVED_NONE, SERVED_LEASE, SERVED_LOOKUP, SERVED_CONNECT };
static int served, served_res;

int
nym_share_listen(const char *path)
{
	int fd, e;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)unlink(path);
	if (nym_share_reach(fd, path, 1) == -1 ||
	    chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
answer(int c, int res, const char *value, int fd, int ms)
{
	char line[NYM_SAMSHARE_REQ];

	if (res == NYM_SAM_OK)
		snprintf(line, sizeof line, "OK%s%s\n", value != NULL ? " " :
		    "", value != NULL ? value : "");
	else
		snprintf(line, sizeof line, "ERR %d %d\n", res,
		    res == -1 ? errno : 0);
	(void)nym_share_send(c, line, fd, ms);
}

/* In a child of the lender: die with it, and keep no signal handler of
 * its own. */
static void
child(int lfd, const struct nym_sam *s)
{
	close(lfd);
	if (s->lock > 0)	/* the key's lock ends with the lender */
		close(s->lock - 1);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}

pid_t
nym_share_serve(int lfd, struct nym_sam *s, int ms, int *bye, int *stale)
{
	char req[NYM_SAMSHARE_REQ], *dest = NULL;
	struct ucred cr;
	socklen_t len = sizeof cr;
	pid_t pid = 0, parent = getpid();
	int c, fd, res;

	served = SERVED_NONE;
	if ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return errno == EINTR || errno == EAGAIN ||
		    errno == ECONNABORTED ? 0 : -1;
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1 ||
	    cr.uid != geteuid() || nym_share_recv(c, req, sizeof req, NULL, ms) == -1)
		goto done;
	if (strcmp(req, "ME") == 0) {
		/* A bridge that went away (EOF on the session's socket)
		 * lends nothing; the lender sees it too, soon. */
		if (s->fd >= 0 && recv(s->fd, req, 1, MSG_PEEK | MSG_DONTWAIT)
		    == 0) {
			errno = ECONNRESET;
			answer(c, -1, NULL, -1, ms);
			goto done;
		}
		/* The lease: a child that lives as long as the borrower's
		 * connection, so the lender sees the session in use. */
		if ((pid = fork()) == 0) {
			child(lfd, s);
			if (getppid() != parent)
				_exit(0);
			/* Only the lender may keep the session open. */
			if (s->fd >= 0)
				close(s->fd);
			answer(c, NYM_SAM_OK, s->pub, -1, ms);
			for (;;) {
				ssize_t r = recv(c, req, sizeof req, 0);

				if (r == 0 || (r == -1 && errno != EINTR))
					_exit(0);
			}
		}
		if (pid == -1) {
			answer(c, -1, NULL, -1, ms);
			pid = 0;
		} else
			served = SERVED_LEASE;
	} else if (strcmp(req, "BYE") == 0) {
		if (bye != NULL)
			*bye = 1;
		answer(c, NYM_SAM_OK, NULL, -1, ms);
	} else if (strcmp(req, "STALE") == 0) {
		if (stale != NULL)
			*stale = 1;
		answer(c, NYM_SAM_OK, NULL, -1, ms);
	} else if (strncmp(req, "LOOKUP ", 7) == 0) {
		res = nym_sam_lookup(s, req + 7, &dest, NULL);
		answer(c, res, dest, -1, ms);
		free(dest);
		served = SERVED_LOOKUP;
		served_res = res;
	} else if (strncmp(req, "CONNECT ", 8) == 0 ||
	    strcmp(req, "ACCEPT") == 0) {
		/* A peer may take a minute to answer: not in this process.
		 * A pending accept is the borrower's (an acceptor): it
		 * waits for its peer there, and may close it unused. */
		if ((pid = fork()) == 0) {
			child(lfd, s);
			if (getppid() != parent)
				_exit(0);
			res = req[0] == 'A' ? nym_sam_accept(s, &fd) :
			    nym_sam_connect(s, req + 8, &fd);
			answer(c, res, NULL, res == NYM_SAM_OK ? fd : -1, ms);
			_exit(res == NYM_SAM_OK ? 0 : 1);	/* for counts */
		}
		if (pid == -1) {
			answer(c, -1, NULL, -1, ms);
			pid = 0;
		} else
			served = SERVED_CONNECT;
	} else
		answer(c, NYM_SAM_PROTO, NULL, -1, ms);
done:
	close(c);
	return pid;
}

/* ---- one session per key: the lock, the holder, the borrowers ---- */

/* key + suffix into buf, made absolute (the holder leaves the caller's
 * working directory).  0, or -1 ENAMETOOLONG. */
static int
sidepath(char *buf, size_t cap, const char *key, const char *suffix)
{
	char cwd[PATH_MAX];
	int n;

	if (key[0] == '/')
		n = snprintf(buf, cap, "%s%s", key, suffix);
	else if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	else
		n = snprintf(buf, cap, "%s/%s%s", cwd, key, suffix);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
lockopen(const char *key)
{
	char path[PATH_MAX];

	if (sidepath(path, sizeof path, key, ".lock") == -1)
		return -1;
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

void
nym_share_stamp(int lockfd, const char *state)
{
	char buf[80];
	int n;

	n = snprintf(buf, sizeof buf, "%ld %s %lld\n", (long)getpid(), state,
	    (long long)time(NULL));
	if (ftruncate(lockfd, 0) == -1 || pwrite(lockfd, buf, (size_t)n, 0) !=
	    n)
		return;		/* only the gap is lost */
}

int
nym_sam_probe(struct nym_sam *s, int probe, long long *last)
{
	char *me = NULL;
	int res;

	if (s->in.err != 0) {
		errno = s->in.err;
		return -1;
	}
	if (probe <= 0 || nym_now_ms() - *last < probe * 1000LL)
		return 0;
	res = nym_sam_lookup(s, "ME", &me, NULL);
	free(me);
	*last = nym_now_ms();
	/* Any reply will do: the bridge is there and in step. */
	if (res == -1 || s->in.err != 0) {
		if (s->in.err != 0)
			errno = s->in.err;
		return -1;
	}
	return 1;
}

/* The pid in the lock file (the last or present holder), or 0. */
static pid_t
stamppid(int lockfd)
{
	char buf[80];
	long pid;
	ssize_t n = pread(lockfd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%ld", &pid) == 1 && pid > 0 ? (pid_t)pid : 0;
}

static void
sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* With the key's lock held: wait until gap seconds have passed since
 * the last session of the key closed; i2pd 2.45.1 hands a session made
 * sooner the dying one's router object.  A session whose holder died
 * without a word closed at an unknown time: the whole gap from now. */
static void
gapwait(int lockfd, int gap)
{
	char buf[80], state[16];
	long long pid, t, now = (long long)time(NULL), until;
	ssize_t n;

	if (gap <= 0 || (n = pread(lockfd, buf, sizeof buf - 1, 0)) <= 0)
		return;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %15s %lld", &pid, state, &t) == 3 &&
	    strcmp(state, "closed") == 0)
		until = t + gap;
	else
		until = now + gap;
	if (until > now + gap)		/* the clock was set back */
		until = now + gap;
	if (until > now)
		sleep_ms((until - now) * 1000);
}

int
nym_share_lock(const char *key, int gap, int ms, pid_t *pid)
{
	char sock[PATH_MAX];
	long long deadline = nym_now_ms() + ms, asked = 0;
	int fd, e;

	*pid = 0;
	if ((fd = lockopen(key)) == -1)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			goto fail;
		/* A lingering holder goes when asked; one still starting
		 * listens later, so ask again now and then. */
		if (nym_now_ms() >= asked && sidepath(sock, sizeof sock, key,
		    ".sock") == 0) {
			nym_share_tell(sock, "BYE\n", 1000);
			asked = nym_now_ms() + 1000;
		}
		if (nym_left_ms(deadline) == 0) {
			*pid = stamppid(fd);
			errno = EWOULDBLOCK;
			goto fail;
		}
		sleep_ms(100);
	}
	gapwait(fd, gap);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
nym_hold_init(struct nym_hold *h, const char *key,
    const struct nym_samaddr *sa, int ms, char *why, size_t cap)
{
	static const struct {
		const char *name;
		long max;
		size_t off;
	} k[] = {
		{ "sam-linger", 86400, offsetof(struct nym_hold, linger) },
		{ "sam-gap", 600, offsetof(struct nym_hold, gap) },
		{ "sam-probe", 86400, offsetof(struct nym_hold, probe) },
		{ "sam-fresh", 86400, offsetof(struct nym_hold, fresh) },
	};
	const char *v;
	char *end;
	long n;
	size_t i;

	memset(h, 0, sizeof *h);
	h->key = key;
	h->what = "the key";
	h->sa = sa;
	h->ms = ms;
	h->create_ms = ms * 2 + 60000;
	h->linger = NYM_SAM_LINGER;
	h->gap = NYM_SAM_GAP;
	h->probe = NYM_SAM_PROBE;
	h->fresh = NYM_SAM_FRESH;
	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		if ((v = nym_conf_get(k[i].name)) == NULL)
			continue;
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < 0 ||
		    n > k[i].max) {
			snprintf(why, cap, "unable to use %s %s: expected 0 to "
			    "%ld", k[i].name, v, k[i].max);
			return -1;
		}
		*(int *)(void *)((char *)h + k[i].off) = (int)n;
	}
	return 0;
}

static volatile sig_atomic_t hstop;

static void
onterm(int sig)
{
	(void)sig;
	hstop = 1;
}

/* Only to wake poll(2) when a borrower's lease ends. */
static void
onchild(int sig)
{
	(void)sig;
}

/* Close every descriptor but 0-2 (the null device) and keep[0..1]. */
static void
detach(int keep0, int keep1)
{
	unsigned lo = 3, a = (unsigned)(keep0 < keep1 ? keep0 : keep1),
	    b = (unsigned)(keep0 < keep1 ? keep1 : keep0);
	int nul;

	if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup2(nul, 0);
		(void)dup2(nul, 1);
		(void)dup2(nul, 2);
	}
	if (a > lo)
		(void)close_range(lo, a - 1, 0);
	if (b > a + 1)
		(void)close_range(a + 1, b - 1, 0);
	(void)close_range(b + 1, ~0U, 0);
	if (chdir("/") == -1)
		return;
}

/* Report to the starter on st: "OK" or "ERR CODE why". */
static void
status(int st, int code, const char *why)
{
	char line[640];

	if (code == NYM_EX_OK)
		snprintf(line, sizeof line, "OK\n");
	else
		snprintf(line, sizeof line, "ERR %d %s\n", code, why);
	(void)nym_share_send(st, line, -1, 5000);
}

/* The holder's log, KEY.log beside the key (0600), or "" for none.  One
 * line per event; never a peer's name or destination (whom a user mails
 * is not written down).  At NYM_SAM_LOGMAX bytes it becomes KEY.log.old
 * (one generation kept), so it never takes more than twice that. */
static char logpath[PATH_MAX];

static void
hlog(const char *fmt, ...)
{
	char line[640], old[PATH_MAX + 8];
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	size_t n;
	int fd, m;

	if (logpath[0] == '\0')
		return;
	n = gmtime_r(&now, &tm) == NULL ? 0 : strftime(line, sizeof line,
	    "%Y-%m-%dT%H:%M:%SZ ", &tm);
	m = snprintf(line + n, sizeof line - n, "sam-holder[%ld]: ",
	    (long)getpid());
	if (m > 0)
		n += (size_t)m;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += (size_t)m;
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd != -1 && fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (unsigned long long)st.st_size + n > NYM_SAM_LOGMAX &&
	    (size_t)snprintf(old, sizeof old, "%s.old", logpath) < sizeof old &&
	    rename(logpath, old) == 0) {
		close(fd);
		fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	}
	if (fd == -1)
		return;
	(void)fchmod(fd, 0600);
	/* A full disk loses a log line, nothing else. */
	if (write(fd, line, n) != (ssize_t)n)
		errno = EIO;
	close(fd);
}

/* The holder's borrowers (their leases' PIDs) and counts. */
struct tally {
	pid_t *lease;
	size_t nlease, cap;
	unsigned long leases, lookups, badlookups, streams, badstreams;
	int children;
};

/* A child of the holder ended: a lease or a stream's opener. */
static void
ended(struct tally *t, pid_t pid, int st)
{
	size_t i;

	t->children--;
	for (i = 0; i < t->nlease; i++)
		if (t->lease[i] == pid) {
			t->lease[i] = t->lease[--t->nlease];
			hlog("a borrower left, %zu borrowing", t->nlease);
			return;
		}
	t->streams++;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		t->badstreams++;
}

static void
started(struct tally *t, pid_t pid)
{
	pid_t *n;

	if (pid > 0)
		t->children++;
	if (served == SERVED_LOOKUP) {
		t->lookups++;
		if (served_res != NYM_SAM_OK)
			t->badlookups++;
		return;
	}
	if (served != SERVED_LEASE || pid <= 0)
		return;
	t->leases++;
	if (t->nlease == t->cap) {
		if ((n = realloc(t->lease, (t->cap * 2 + 16) * sizeof *n)) ==
		    NULL) {
			/* Counted as a stream when it ends: only a count
			 * is off. */
			hlog("a borrower came (not counted: %s)",
			    strerror(errno));
			return;
		}
		t->lease = n;
		t->cap = t->cap * 2 + 16;
	}
	t->lease[t->nlease++] = pid;
	hlog("a borrower came, %zu borrowing", t->nlease);
}

/* The holder: a process of its own (new session, no descriptor of the
 * caller's) that creates the key's session, lends it at sock, and
 * closes it after h->linger idle seconds, on BYE once its borrowers are
 * done, on SIGTERM, or when the bridge goes away or stops answering (a
 * probe after h->probe idle seconds, or a borrower's lookup, unanswered
 * within h->ms).  What it does goes to KEY.log. */
static void
holder(const struct nym_hold *h, char *priv, int lockfd, const char *sock,
    int st)
{
	struct nym_sam s;
	struct sigaction act;
	struct pollfd pfd[2];
	struct tally t;
	char why[600], b[512];
	long long last, keep, until, t0, probed;
	int lfd, r, wst, bye = 0, dead = 0, idle = 0, answered = 0, stale = 0;
	long long opened;
	pid_t pid;

	if (sidepath(logpath, sizeof logpath, h->key, ".log") == -1)
		logpath[0] = '\0';
	memset(&t, 0, sizeof t);
	lockfd = fcntl(lockfd, F_DUPFD_CLOEXEC, 3);
	st = fcntl(st, F_DUPFD_CLOEXEC, 3);
	detach(lockfd, st);
	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)prctl(PR_SET_NAME, "sam-holder");
	memset(&act, 0, sizeof act);
	act.sa_handler = onterm;
	sigaction(SIGTERM, &act, NULL);
	act.sa_handler = onchild;
	sigaction(SIGCHLD, &act, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	hlog("started: bridge %s:%s, linger %d s, gap %d s, probe %d s",
	    h->sa->host, h->sa->port, h->linger, h->gap, h->probe);
	t0 = nym_now_ms();
	gapwait(lockfd, h->gap);
	if (nym_now_ms() - t0 >= 1000)
		hlog("waited %lld ms for the gap since the last session",
		    nym_now_ms() - t0);
	t0 = nym_now_ms();
	if (nym_sam_open(&s, h->sa->host, h->sa->port, h->ms) == -1) {
		snprintf(why, sizeof why, "unable to reach the SAM bridge at "
		    "%s:%s (" NYM_SAM_HINT "): %s", h->sa->host, h->sa->port, errno == EPROTO ?
		    s.message : strerror(errno));
		nym_key_free(priv);
		hlog("%s; exit", why);
		status(st, NYM_EX_TEMPFAIL, why);
		_exit(0);
	}
	r = nym_sam_session(&s, priv, h->sa->opts, h->create_ms);
	nym_key_free(priv);
	if (r != NYM_SAM_OK) {
		snprintf(why, sizeof why, "unable to create a session on the "
		    "SAM bridge at %s:%s: %s", h->sa->host, h->sa->port,
		    r == -1 ? strerror(errno) : nym_sam_resultname(r));
		nym_sam_close(&s);
		hlog("%s (after %lld ms); exit", why, nym_now_ms() - t0);
		status(st, NYM_EX_TEMPFAIL, why);
		_exit(0);
	}
	nym_share_stamp(lockfd, "open");
	opened = nym_now_ms();
	hlog("session open in %lld ms", opened - t0);
	s.lock = lockfd + 1;
	if ((lfd = nym_share_listen(sock)) == -1) {
		snprintf(why, sizeof why, "unable to lend the session at "
		    "%.400s: %s", sock, strerror(errno));
		hlog("%s", why);
		status(st, NYM_EX_TEMPFAIL, why);
		hstop = 1;
	} else
		status(st, NYM_EX_OK, NULL);
	close(st);

	last = probed = nym_now_ms();
	for (;;) {
		while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
			ended(&t, pid, wst);
			last = nym_now_ms();
		}
		if (hstop) {
			hlog("SIGTERM: closing");
			break;
		}
		if (dead)
			break;
		if (stale && lfd >= 0) {
			stale = 0;
			if (nym_now_ms() - opened >= h->fresh * 1000LL) {
				/* i2pd keeps end-to-end state for a peer
				 * that made a new session; a new one of
				 * ours starts afresh. */
				hlog("a peer stopped answering over this "
				    "session: retiring it, the next sender "
				    "starts a fresh one");
				bye = 1;
			} else
				hlog("a peer stopped answering; the session "
				    "is under %d s old: kept", h->fresh);
		}
		if (bye && lfd >= 0) {
			/* No new borrowers; the present ones finish. */
			hlog("asked to go (BYE): closing once %zu borrowing "
			    "are done", t.nlease);
			close(lfd);
			unlink(sock);
			lfd = -1;
		}
		if (t.children <= 0 && lfd < 0)
			break;
		if (t.children <= 0 && nym_now_ms() - last >= h->linger *
		    1000LL) {
			hlog("idle for %d s: closing", h->linger);
			idle = 1;
			break;
		}
		/* Idle a while: is the bridge still there?  A hung one
		 * (socket open, nothing answers) shows only this way. */
		t0 = nym_now_ms();
		if ((r = nym_sam_probe(&s, h->probe, &probed)) == -1) {
			hlog("probe failed: no answer from the bridge within "
			    "%d ms (%s): closing", h->ms, strerror(errno));
			dead = 1;
			break;
		}
		if (r == 1 && !answered++)	/* once: it works here */
			hlog("the bridge answers probes (%lld ms)",
			    nym_now_ms() - t0);
		pfd[0].fd = s.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = lfd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, lfd >= 0 ? 2 : 1, 1000) == -1 && errno != EINTR) {
			hlog("unable to wait: %s: closing", strerror(errno));
			break;
		}
		/* Between requests the bridge says nothing; EOF or an error
		 * here is a bridge that went away (a restart). */
		if (pfd[0].revents != 0) {
			ssize_t n = recv(s.fd, b, sizeof b, MSG_DONTWAIT);

			if (n == 0 || (n == -1 && errno != EINTR &&
			    errno != EAGAIN)) {
				hlog("the bridge closed the session (%s): "
				    "closing", n == 0 ? "EOF" :
				    strerror(errno));
				dead = 1;
			}
		}
		if (lfd >= 0 && pfd[1].revents != 0 && !dead) {
			pid = nym_share_serve(lfd, &s, h->ms, &bye, &stale);
			started(&t, pid);
			last = probed = nym_now_ms();
			/* A lookup not answered in time leaves the socket
			 * out of step: the session is of no more use. */
			if (s.in.err != 0) {
				hlog("the bridge did not answer a lookup "
				    "within %d ms (%s): closing", h->ms,
				    strerror(s.in.err));
				dead = 1;
			}
		}
	}

	/* Close as i2pd needs: lending first, then the streams (the
	 * borrowers', whose leases end with them), then, a few seconds
	 * after the last one, the session. */
	if (lfd >= 0) {
		close(lfd);
		unlink(sock);
	}
	signal(SIGTERM, SIG_IGN);
	until = nym_now_ms() + (dead ? 0 : h->ms);
	while (t.children > 0) {
		if ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
			ended(&t, pid, wst);
			last = nym_now_ms();
		} else if (pid == -1 || nym_now_ms() >= until) {
			hlog("ending %zu borrowers and %d streams being opened",
			    t.nlease, t.children - (int)t.nlease);
			(void)kill(0, SIGTERM);
			while ((pid = waitpid(-1, &wst, 0)) > 0)
				ended(&t, pid, wst);
			break;
		} else
			sleep_ms(50);
	}
	keep = (h->gap < NYM_SAM_KEEP ? h->gap : NYM_SAM_KEEP) * 1000LL;
	if (!dead)
		sleep_ms(last + keep - nym_now_ms());
	nym_sam_close(&s);
	nym_share_stamp(lockfd, "closed");
	hlog("session closed%s; served %lu borrowers, %lu lookups (%lu "
	    "failed), %lu streams (%lu failed); exit", idle ? " (idle)" : "",
	    t.leases, t.lookups, t.badlookups, t.streams, t.badstreams);
	free(t.lease);
	_exit(0);
}

/* Start the holder of h->key with the lock (which goes with it) and wait
 * until it lends its session.  0, or an exit code with why. */
static int
spawn(const struct nym_hold *h, char *priv, int lockfd, const char *sock,
    char *why, size_t cap)
{
	char line[700];
	int sp[2], st, code;
	pid_t a, b;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1 ||
	    (a = fork()) == -1) {
		snprintf(why, cap, "unable to start the session holder: %s",
		    strerror(errno));
		return NYM_EX_TEMPFAIL;
	}
	if (a == 0) {
		/* Not in the caller's session or process group, and not
		 * its child: Postfix or a shell waiting for the caller's
		 * group, or killing it, never sees the holder. */
		close(sp[0]);
		if (setsid() == -1 || (b = fork()) == -1)
			_exit(1);
		if (b > 0)
			_exit(0);
		holder(h, priv, lockfd, sock, sp[1]);
	}
	close(sp[1]);
	while (waitpid(a, &st, 0) == -1 && errno == EINTR)
		;
	if (nym_share_recv(sp[0], line, sizeof line, NULL, h->create_ms +
	    h->gap * 1000 + h->ms) == -1) {
		snprintf(why, cap, "unable to start the session holder: %s",
		    errno == ETIMEDOUT ? "no session in time" : errno ==
		    ECONNRESET ? "it ended" : strerror(errno));
		close(sp[0]);
		return NYM_EX_TEMPFAIL;
	}
	close(sp[0]);
	if (strcmp(line, "OK") == 0)
		return NYM_EX_OK;
	if (sscanf(line, "ERR %d", &code) != 1 || strchr(line + 4, ' ') ==
	    NULL) {
		snprintf(why, cap, "unable to start the session holder: a bad "
		    "answer");
		return NYM_EX_TEMPFAIL;
	}
	snprintf(why, cap, "%s", strchr(line + 4, ' ') + 1);
	return code == NYM_EX_CONFIG ? code : NYM_EX_TEMPFAIL;
}

int
nym_sam_acquire(struct nym_sam *s, const struct nym_hold *h, char *why,
    size_t cap)
{
	char sock[PATH_MAX], buf[PATH_MAX + 128], *priv = NULL;
	struct stat st;
	long long deadline;
	int lockfd, r, code, lendable;
	pid_t pid;

	memset(s, 0, sizeof *s);
	s->fd = s->in.fd = -1;
	/* A borrower does not read the key, but a key others could read
	 * is refused all the same (nym_sam_key). */
	if (stat(h->key, &st) == 0 && ((st.st_mode & 077) != 0 ||
	    st.st_uid != geteuid())) {
		snprintf(why, cap, "unable to read %s %s: %s", h->what, h->key,
		    nym_secretwhy(h->key, EPERM, buf, sizeof buf));
		return NYM_EX_CONFIG;
	}
	lendable = sidepath(sock, sizeof sock, h->key, ".sock") == 0 &&
	    strlen(sock) < sizeof s->share;
	if (lendable && nym_sam_borrow(s, sock, h->ms) == 0)
		return NYM_EX_OK;
	/* The key first: made on first use, with its directory. */
	if (nym_sam_key(h->key, h->sa->host, h->sa->port, h->ms, &priv) == -1) {
		int e = errno;

		if (nym_unreachable(e)) {
			snprintf(why, cap, "unable to reach the SAM bridge at "
			    "%s:%s to create %s %s (" NYM_SAM_HINT "): %s",
			    h->sa->host, h->sa->port, h->what, h->key,
			    strerror(e));
			return NYM_EX_TEMPFAIL;
		}
		snprintf(why, cap, "unable to read %s %s: %s", h->what, h->key,
		    e == EINVAL ? "not a SAM private key" :
		    nym_secretwhy(h->key, e, buf, sizeof buf));
		return nym_exitcode(e) == NYM_EX_TEMPFAIL ? NYM_EX_TEMPFAIL :
		    NYM_EX_CONFIG;
	}
	if ((lockfd = lockopen(h->key)) == -1) {
		snprintf(why, cap, "unable to open %s.lock: %s", h->key,
		    strerror(errno));
		nym_key_free(priv);
		return NYM_EX_TEMPFAIL;
	}
	/* Held: by a holder still creating its session (it lends once
	 * the session is up), one closing, or a process that has a
	 * session of its own.  Wait for the session, or the lock. */
	deadline = nym_now_ms() + h->create_ms + h->gap * 1000LL + h->ms;
	while (flock(lockfd, LOCK_EX | LOCK_NB) == -1) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    nym_left_ms(deadline) == 0) {
			const char *e = errno == EWOULDBLOCK ? "held too long "
			    "by process" : strerror(errno);

			pid = stamppid(lockfd);
			snprintf(why, cap, "unable to get the session of %s: "
			    "%s %ld", h->key, e, (long)pid);
			goto fail;
		}
		if (lendable && nym_sam_borrow(s, sock, h->ms) == 0) {
			close(lockfd);
			nym_key_free(priv);
			return NYM_EX_OK;
		}
		sleep_ms(100);
	}
	if (h->linger > 0 && lendable) {
		code = spawn(h, priv, lockfd, sock, why, cap);
		nym_key_free(priv);
		close(lockfd);		/* the holder has it now */
		if (code != NYM_EX_OK)
			return code;
		if (nym_sam_borrow(s, sock, h->ms) == 0)
			return NYM_EX_OK;
		snprintf(why, cap, "unable to borrow the session at %s: %s",
		    sock, strerror(errno));
		return NYM_EX_TEMPFAIL;
	}
	/* No holder: a session of our own, the key locked while it lives. */
	gapwait(lockfd, h->gap);
	if (nym_sam_open(s, h->sa->host, h->sa->port, h->ms) == -1) {
		snprintf(why, cap, "unable to reach the SAM bridge at %s:%s ("
		    NYM_SAM_HINT "): %s",
		    h->sa->host, h->sa->port, errno == EPROTO ? s->message :
		    strerror(errno));
		goto fail;
	}
	r = nym_sam_session(s, priv, h->sa->opts, h->create_ms);
	if (r != NYM_SAM_OK) {
		snprintf(why, cap, "unable to create a session on the SAM "
		    "bridge at %s:%s: %s", h->sa->host, h->sa->port,
		    r == -1 ? strerror(errno) : nym_sam_resultname(r));
		nym_sam_close(s);
		goto fail;
	}
	nym_key_free(priv);
	nym_share_stamp(lockfd, "open");
	s->lock = lockfd + 1;
	s->keep_ms = (h->gap < NYM_SAM_KEEP ? h->gap : NYM_SAM_KEEP) * 1000;
	return NYM_EX_OK;
fail:
	nym_key_free(priv);
	close(lockfd);
	return NYM_EX_TEMPFAIL;
}

void
nym_sam_release(struct nym_sam *s)
{
	if (s->lock > 0)
		sleep_ms(s->keep_ms);
	nym_sam_close(s);
	if (s->lock > 0) {
		nym_share_stamp(s->lock - 1, "closed");
		close(s->lock - 1);
		s->lock = 0;
	}
}
