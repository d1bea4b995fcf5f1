/*
 * pop-fetch - fetch mail from a POP3 server, deliver it safely, then
 * delete it.
 *
 * The rule is that a message leaves the server only once a copy is
 * durable at the destination, and that no message is delivered twice,
 * whatever moment a crash, kill -9 or network cut chooses.  POP3 helps
 * with the first half: DELE only marks a message, and nothing is removed
 * until QUIT is answered, so a session that dies takes its marks with it.
 * The second half needs a memory across sessions, the account's state
 * file, one line per unique-id (UIDL):
 *
 *	P uid name	about to be delivered (maildir: under this name)
 *	D uid		delivered durably; DELE it, never deliver it again
 *
 * A P line is written before a maildir file is published and a D line
 * right after; the file is synced before QUIT, so the server forgets a
 * message only after the state says it was delivered.  A P line without
 * its D line (killed in between) is settled by looking for the file in
 * new/ and cur/.  The file is appended to while fetching and rewritten
 * atomically, with only what is still on the server, after a good QUIT.
 *
 * Messages are streamed from the socket to the destination through one
 * fixed buffer, so memory does not grow with them; the 50 MB mailbox of
 * postman is why emptying the box is the default.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>

#include "nymbox.h"

#define USAGE "usage: pop-fetch [-k] [-H host:port | -s destination] " \
	"-u user [-F fd | -P file] [-S host:port] [-w seconds]\n" \
	"                 [-d maildir | -m mbox | -p command]\n"

#define IOBUF		65536
#define STATE_MAX	16777216	/* state file read at most */
#define LOCK_SECS	30			/* waiting for an mbox lock */

static int kflag;
static int wsec = 120;
static int progress;
static char mode;		/* 'd', 'm' or 'p' */
static const char *target;	/* maildir, mbox or command */

/* ---- the account's state ---- */

struct ent {
	char uid[NYM_POP3_UIDL + 1];
	char name[96];		/* P: the maildir file name, "" if none */
	int done;		/* D seen */
};

static struct ent *ents;
static size_t nents;
static int statefd = -1;
static char statedir[PATH_MAX], statename[NAME_MAX + 1];

static int
entcmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->uid,
	    ((const struct ent *)b)->uid);
}

static struct ent *
findent(const char *uid)
{
	struct ent key = { .done = 0 };

	if (nents == 0)
		return NULL;
	snprintf(key.uid, sizeof key.uid, "%s", uid);
	return bsearch(&key, ents, nents, sizeof *ents, entcmp);
}

/* Add or update uid while loading (linear: loading is done once). */
static void
loadline(char *line)
{
	char *kind, *uid, *name, *save = NULL;
	size_t i;

	kind = strtok_r(line, " ", &save);
	uid = strtok_r(NULL, " ", &save);
	name = strtok_r(NULL, " ", &save);
	if (kind == NULL || uid == NULL || strlen(uid) > NYM_POP3_UIDL ||
	    (strcmp(kind, "D") != 0 && strcmp(kind, "P") != 0))
		return;		/* not ours: ignored */
	for (i = 0; i < nents; i++)
		if (strcmp(ents[i].uid, uid) == 0)
			break;
	if (i == nents) {
		if (nym_reallocarray(&ents, nents + 1, sizeof *ents) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		memset(&ents[nents], 0, sizeof *ents);
		snprintf(ents[nents].uid, sizeof ents[nents].uid, "%s", uid);
		nents++;
	}
	if (*kind == 'D')
		ents[i].done = 1;
	else if (name != NULL && strlen(name) < sizeof ents[i].name)
		snprintf(ents[i].name, sizeof ents[i].name, "%s", name);
}

/* Lock the account (another run holds it: exit 0, as cron wants) and
 * read its state. */
static void
loadstate(const char *account)
{
	char path[PATH_MAX + NAME_MAX + 8], *buf, *p, *nl;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct stat st;
	size_t i;
	ssize_t n;
	int lfd;

	if (nym_confdir(statedir, sizeof statedir) == -1 ||
	    strlen(statedir) + sizeof "/pop" > sizeof statedir)
		nym_die(NYM_EX_CONFIG, "unable to find the state directory: "
		    "set HOME");
	memcpy(statedir + strlen(statedir), "/pop", sizeof "/pop");
	for (i = 0; i < 120 && account[i] != '\0'; i++)
		statename[i] = isalnum((unsigned char)account[i]) ||
		    strchr("@.:-_", account[i]) != NULL ? account[i] : '_';
	memcpy(statename + i, ".uidl", sizeof ".uidl");
	if (nym_mkdirs(statedir, 0700) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create %s", statedir);
	snprintf(path, sizeof path, "%s/%s.lock", statedir, statename);
	if ((lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to open %s", path);
	if (fcntl(lfd, F_SETLK, &fl) == -1) {
		if (errno == EAGAIN || errno == EACCES)
			exit(NYM_EX_OK);	/* another run is at it */
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to lock %s", path);
	}
	/* lfd stays open, and locked, until exit. */
	snprintf(path, sizeof path, "%s/%s", statedir, statename);
	statefd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (statefd == -1 || fstat(statefd, &st) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to open %s", path);
	if (st.st_size > STATE_MAX)
		nym_die(NYM_EX_CONFIG, "unable to read %s: over %d bytes",
		    path, STATE_MAX);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if ((n = pread(statefd, buf, (size_t)st.st_size, 0)) != st.st_size)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s", path);
	buf[n] = '\0';
	/* A last line without its LF was cut by a crash: ignored. */
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		loadline(p);
	}
	if (*p != '\0' && nym_write_all(statefd, "\n", 1) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write %s", path);
	free(buf);
	if (nents > 0)
		qsort(ents, nents, sizeof *ents, entcmp);
}

static void
record(char kind, const char *uid, const char *name)
{
	char line[NYM_POP3_UIDL + 128];
	int n;

	n = snprintf(line, sizeof line, "%c %s%s%s\n", kind, uid,
	    name != NULL ? " " : "", name != NULL ? name : "");
	if (nym_write_all(statefd, line, (size_t)n) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write %s/%s", statedir,
		    statename);
}

static void
syncstate(void)
{
	if (fsync(statefd) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write %s/%s", statedir,
		    statename);
}

/* A P line without its D: was the maildir file published? */
static int
published(const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n = strlen(name);
	DIR *d;
	int found = 0;

	if (mode != 'd' || *name == '\0')
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

/* Read one line (at most cap - 1 bytes) from fd into pw. */
static int
readpw(int fd)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= sizeof pw) {
			errno = EMSGSIZE;
			return -1;
		}
		pw[n++] = c;
	}
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	return 0;
}

static void
getpassword(const char *file, const char *fdarg, const char *what)
{
	struct termios t, t0;
	struct stat st;
	int fd, r;

	(void)mlock(pw, sizeof pw);
	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &st) == -1)
			nym_dieerr(NYM_EX_CONFIG, "unable to read password "
			    "file %s", file);
		if ((st.st_mode & 077) != 0)
			nym_die(NYM_EX_CONFIG, "unable to use password file "
			    "%s: others can read it (chmod 600)", file);
		r = readpw(fd);
		close(fd);
	} else if (fdarg != NULL) {
		fd = (int)nym_number(fdarg, "-F", 0, INT_MAX);
		r = readpw(fd);
		close(fd);
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
			nym_die(NYM_EX_CONFIG, "unable to read the password: "
			    "no terminal; use -P or -F");
		if (tcgetattr(fd, &t0) == -1)
			nym_dieerr(NYM_EX_CONFIG, "unable to read the password");
		t = t0;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		(void)tcsetattr(fd, TCSAFLUSH, &t);
		dprintf(fd, "Password for %s: ", what);
		r = readpw(fd);
		(void)tcsetattr(fd, TCSAFLUSH, &t0);
		dprintf(fd, "\n");
		close(fd);
	}
	if (r == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read the password");
}

/* ---- the session ---- */

struct pop {
	int fd;
	struct nym_in in;
	struct nym_out out;
	struct nym_pop3_caps caps;
	int pend;		/* DELE replies not read yet */
	const char *where;	/* the server, for messages */
};

static char errtext[NYM_POP3_LINE];

/* Read a status line; on a broken connection say so and return -1. */
static int
status(struct pop *p, const char *verb)
{
	int r = nym_pop3_status(&p->in, errtext, sizeof errtext);

	if (r == -1)
		nym_warn("unable to %s at %s: %s", verb, p->where,
		    errno == EPROTO ? "garbled reply" : strerror(errno));
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

/* Read the replies of the pipelined DELE commands. */
static int
dele_replies(struct pop *p)
{
	for (; p->pend > 0; p->pend--)
		switch (status(p, "delete a message")) {
		case -1:
			return -1;
		case 0:
			nym_warn("unable to delete a message at %s: %s",
			    p->where, errtext);
			break;
		}
	return 0;
}

static int
dele(struct pop *p, unsigned long n)
{
	nym_smtp_cmd(&p->out, "DELE %lu", n);
	p->pend++;
	/* Pipelined, but not so far ahead that both sides could block on
	 * full socket buffers. */
	if (p->caps.pipelining && p->pend < 64)
		return 0;
	if (sendcmd(p, "delete a message") == -1)
		return -1;
	return dele_replies(p);
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
	char line[NYM_POP3_LINE + 1];
	int r;

	if (status(p, "read the greeting") != 1) {
		explicit_bzero(pw, sizeof pw);
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
	if (r == -1) {
		nym_warn("unable to read capabilities at %s: %s", p->where,
		    strerror(errno));
		exit(NYM_EX_TEMPFAIL);
	}
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

/* Copy the RETR response to o.  0, or -1 if the connection failed. */
static int
copy(struct pop *p, struct nym_out *o, unsigned flags)
{
	if (nym_pop3_retr(&p->in, o, flags) == -1) {
		nym_warn("unable to fetch a message from %s: %s", p->where,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Results of one delivery. */
enum { DELIVERED, DEFERRED, NETFAIL, LOCALFAIL };

static int
todir(struct pop *p, const char *uid)
{
	struct nym_mdfile f;
	struct nym_out o;

	if (nym_maildir_open(&f, target) == -1) {
		nym_warn("unable to create a file in %s: %s", target,
		    strerror(errno));
		return LOCALFAIL;
	}
	record('P', uid, f.name);
	if (nym_out_open(&o, f.fd, IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (copy(p, &o, NYM_POP3_LF) == -1) {
		nym_out_close(&o);
		nym_maildir_abort(&f);
		return NETFAIL;
	}
	if (nym_out_flush(&o) == -1) {
		nym_warn("unable to write a message in %s: %s", target,
		    strerror(errno));
		nym_out_close(&o);
		nym_maildir_abort(&f);
		return LOCALFAIL;
	}
	nym_out_close(&o);
	if (nym_maildir_commit(&f) == -1) {
		nym_warn("unable to write a message in %s: %s", target,
		    strerror(errno));
		return LOCALFAIL;
	}
	return DELIVERED;
}

static int
tombox(struct pop *p)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct nym_out o;
	struct stat st;
	char from[80];
	time_t now = time(NULL);
	int fd, i, ret = DELIVERED;

	if ((fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		nym_warn("unable to open %s: %s", target, strerror(errno));
		return LOCALFAIL;
	}
	for (i = 0; fcntl(fd, F_SETLK, &fl) == -1; i++) {
		if ((errno != EAGAIN && errno != EACCES) ||
		    i >= LOCK_SECS * 10) {
			nym_warn("unable to lock %s: %s", target,
			    strerror(errno));
			close(fd);
			return LOCALFAIL;
		}
		usleep(100000);
	}
	if (fstat(fd, &st) == -1 || nym_out_open(&o, fd, IOBUF) == -1) {
		nym_warn("unable to write %s: %s", target, strerror(errno));
		close(fd);
		return LOCALFAIL;
	}
	strftime(from, sizeof from, "From MAILER-DAEMON %a %b %e %H:%M:%S "
	    "%Y\n", gmtime(&now));
	nym_out_puts(&o, from);
	if (copy(p, &o, NYM_POP3_LF | NYM_POP3_MBOXRD) == -1)
		ret = NETFAIL;
	else {
		nym_out_write(&o, "\n", 1);
		if (nym_out_flush(&o) == -1 || fsync(fd) == -1) {
			nym_warn("unable to write %s: %s", target,
			    strerror(errno));
			ret = LOCALFAIL;
		}
	}
	/* Never leave half a message behind. */
	if (ret != DELIVERED && ftruncate(fd, st.st_size) == -1)
		nym_warn("unable to truncate %s: %s", target, strerror(errno));
	nym_out_close(&o);
	if (close(fd) == -1 && ret == DELIVERED) {
		nym_warn("unable to write %s: %s", target, strerror(errno));
		ret = LOCALFAIL;
	}
	return ret;
}

static int
tocmd(struct pop *p, unsigned long n)
{
	struct nym_out o;
	int pfd[2], st;
	pid_t pid;

	if (pipe(pfd) == -1 || (pid = fork()) == -1) {
		nym_warn("unable to run %s: %s", target, strerror(errno));
		return LOCALFAIL;
	}
	if (pid == 0) {
		close(pfd[1]);
		close(p->fd);	/* the command has no business with it */
		if (dup2(pfd[0], STDIN_FILENO) == -1)
			_exit(NYM_EX_TEMPFAIL);
		if (pfd[0] != STDIN_FILENO)
			close(pfd[0]);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", target, (char *)NULL);
		_exit(NYM_EX_TEMPFAIL);
	}
	close(pfd[0]);
	if (nym_out_open(&o, pfd[1], IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (copy(p, &o, NYM_POP3_LF) == -1) {
		/* The command must not take half a message for a whole
		 * one: it dies before it sees the end of its input. */
		kill(pid, SIGKILL);
		nym_out_close(&o);
		close(pfd[1]);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		return NETFAIL;
	}
	(void)nym_out_flush(&o);	/* it may stop reading: its choice */
	nym_out_close(&o);
	close(pfd[1]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			nym_warn("unable to wait for %s: %s", target,
			    strerror(errno));
			return LOCALFAIL;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return DELIVERED;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != NYM_EX_TEMPFAIL)
		nym_warn("unable to deliver message %lu: %s %s %d", n, target,
		    WIFEXITED(st) ? "exited with" : "killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return DEFERRED;
}

/* ---- main ---- */

struct msg {
	unsigned long n;
	struct ent *e;		/* its state, or NULL if new */
	int done;		/* delivered, in an earlier run or this one */
	char uid[NYM_POP3_UIDL + 1];
};

/* After a good QUIT: keep only what the server still holds. */
static void
compact(const struct msg *m, size_t nm)
{
	char *buf = NULL;
	size_t i, len = 0;

	if (nym_reallocarray(&buf, nm + 1, NYM_POP3_UIDL + 4) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; kflag && i < nm; i++)
		if (m[i].done)
			len += (size_t)snprintf(buf + len, NYM_POP3_UIDL + 4,
			    "D %s\n", m[i].uid);
	if (nym_atomic_write(statedir, statename, buf, len, 0600, 0) == -1)
		nym_warn("unable to rewrite %s/%s: %s", statedir, statename,
		    strerror(errno));
	free(buf);
}

static void
usage(void)
{
	fputs(USAGE, stderr);
	exit(NYM_EX_USAGE);
}

/* Connect over SAM: a transient session, a stream to dest. */
static int
samdial(struct nym_sam *s, struct nym_samaddr *sa, const char *dest)
{
	int r, fd;

	if (nym_sam_open(s, sa->host, sa->port, wsec * 1000) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to reach the SAM bridge at "
		    "%s:%s", sa->host, sa->port);
	r = nym_sam_session(s, "TRANSIENT", sa->opts, wsec * 2000 + 60000);
	if (r != NYM_SAM_OK)
		nym_die(NYM_EX_TEMPFAIL, "unable to create the session: %s",
		    r == -1 ? strerror(errno) : nym_sam_resultname(r));
	r = nym_sam_connect(s, dest, &fd);
	if (r != NYM_SAM_OK)
		nym_die(NYM_EX_TEMPFAIL, "unable to connect to %.60s: %s",
		    dest, r == -1 ? strerror(errno) : nym_sam_resultname(r));
	return fd;
}

int
main(int argc, char *argv[])
{
	static char hostbuf[256], account[NYM_POP3_LINE];
	static char line[NYM_POP3_LINE + 1];
	static struct pop p = { .fd = -1 };
	struct nym_samaddr sa;
	struct nym_sam s;
	struct msg *m = NULL;
	const char *hostarg = NULL, *dest = NULL, *user = NULL;
	const char *pwfile = NULL, *pwfd = NULL, *where, *port = NULL;
	const char *colon;
	size_t nm = 0, i, todo = 0, done = 0;
	int c, r, ret = NYM_EX_OK, sam = 0, quitok = 0;

	nym_setprogname(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	nym_samaddr_init(&sa);
	while ((c = getopt(argc, argv, "d:F:H:km:P:p:S:s:u:w:")) != -1) {
		switch (c) {
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
		case 'k': kflag = 1; break;
		case 'P': pwfile = optarg; break;
		case 'S':
			if (nym_samaddr_set(&sa, optarg) == -1)
				nym_die(NYM_EX_USAGE, "unable to use SAM "
				    "address %s: expected host:port", optarg);
			break;
		case 's': dest = optarg; break;
		case 'u': user = optarg; break;
		case 'w': wsec = (int)nym_number(optarg, "-w", 1, 3600); break;
		default: usage();
		}
	}
	if (optind != argc || user == NULL || mode == '\0' ||
	    (hostarg == NULL) == (dest == NULL) ||
	    (pwfile != NULL && pwfd != NULL))
		usage();
	if (*user == '\0' || strpbrk(user, " \t\r\n") != NULL)
		nym_die(NYM_EX_USAGE, "unable to use user name %s", user);
	if (hostarg != NULL) {
		if ((colon = strrchr(hostarg, ':')) == NULL ||
		    colon == hostarg || (size_t)(colon - hostarg) >=
		    sizeof hostbuf)
			nym_die(NYM_EX_USAGE, "unable to use server %s: "
			    "expected host:port", hostarg);
		snprintf(hostbuf, sizeof hostbuf, "%.*s",
		    (int)(colon - hostarg), hostarg);
		port = colon + 1;
		(void)nym_number(port, "the port", 1, 65535);
		snprintf(account, sizeof account, "%s@%s", user, hostarg);
		p.where = hostarg;
	} else {
		sam = 1;
		snprintf(account, sizeof account, "%s@%.100s", user, dest);
		p.where = dest;
	}
	if (mode == 'd' && nym_maildir_make(target) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create maildir %s",
		    target);
	progress = isatty(STDERR_FILENO);

	getpassword(pwfile, pwfd, account);
	loadstate(account);

	if (sam)
		p.fd = samdial(&s, &sa, dest);
	else if ((p.fd = nym_tcp_connect(hostbuf, port, wsec * 1000)) == -1) {
		explicit_bzero(pw, sizeof pw);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to connect to %s",
		    hostarg);
	}
	if (nym_in_open(&p.in, p.fd, IOBUF) == -1 ||
	    nym_out_open(&p.out, p.fd, (size_t)NYM_POP3_LINE * 8) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	p.in.ms = p.out.ms = wsec * 1000;
	login(&p, user);

	/* The list of unique-ids: what is new, what was delivered. */
	nym_smtp_cmd(&p.out, "UIDL");
	if (sendcmd(&p, "list messages") == -1 ||
	    (r = status(&p, "list messages")) == -1)
		exit(NYM_EX_TEMPFAIL);
	if (r == 0)
		nym_die(NYM_EX_CONFIG, "unable to list messages at %s: %s "
		    "(no UIDL: cannot fetch without duplicates)", p.where,
		    errtext);
	while ((r = nym_pop3_mline(&p.in, line, sizeof line)) == 1) {
		if (nym_reallocarray(&m, nm + 1, sizeof *m) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		if (nym_pop3_uidl(line, &m[nm].n, m[nm].uid,
		    sizeof m[nm].uid) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to list messages at "
			    "%s: bad UIDL line", p.where);
		m[nm].e = findent(m[nm].uid);
		/* Killed between P and D: settle it now. */
		if (m[nm].e != NULL && !m[nm].e->done &&
		    published(m[nm].e->name)) {
			record('D', m[nm].uid, NULL);
			m[nm].e->done = 1;
		}
		m[nm].done = m[nm].e != NULL && m[nm].e->done;
		if (!m[nm].done)
			todo++;
		nm++;
	}
	if (r == -1) {
		nym_warn("unable to list messages at %s: %s", p.where,
		    errno == EPROTO ? "garbled reply" : strerror(errno));
		exit(NYM_EX_TEMPFAIL);
	}

	for (i = 0; i < nm; i++) {
		if (m[i].done) {
			if (!kflag && dele(&p, m[i].n) == -1)
				goto broken;
			continue;
		}
		nym_smtp_cmd(&p.out, "RETR %lu", m[i].n);
		if (sendcmd(&p, "fetch a message") == -1 ||
		    dele_replies(&p) == -1 ||
		    (r = status(&p, "fetch a message")) == -1)
			goto broken;
		if (r == 0) {
			nym_warn("unable to fetch message %lu at %s: %s",
			    m[i].n, p.where, errtext);
			ret = NYM_EX_TEMPFAIL;
			continue;
		}
		switch (mode == 'd' ? todir(&p, m[i].uid) : mode == 'm' ?
		    tombox(&p) : tocmd(&p, m[i].n)) {
		case DELIVERED:
			break;
		case DEFERRED:
			ret = NYM_EX_TEMPFAIL;
			continue;
		case NETFAIL:
			goto broken;
		default:
			ret = NYM_EX_TEMPFAIL;
			goto quit;
		}
		record('D', m[i].uid, NULL);
		m[i].done = 1;
		if (progress)
			fprintf(stderr, "\r%s: %zu/%zu", nym_progname, ++done,
			    todo);
		if (!kflag && dele(&p, m[i].n) == -1)
			goto broken;
	}
quit:
	/* What was delivered must be on disk before the server forgets. */
	syncstate();
	nym_smtp_cmd(&p.out, "QUIT");
	if (sendcmd(&p, "quit") == 0 && dele_replies(&p) == 0 &&
	    (r = status(&p, "quit")) != -1) {
		if (r == 1)
			quitok = 1;
		else {
			nym_warn("unable to quit at %s: %s", p.where, errtext);
			ret = NYM_EX_TEMPFAIL;
		}
	} else
		ret = NYM_EX_TEMPFAIL;
	/* The server now holds what it listed less what was DELEted: with
	 * -k, every delivered message is still there. */
	if (quitok)
		compact(m, nm);
	if (0) {
broken:
		ret = NYM_EX_TEMPFAIL;
		syncstate();
	}
	if (progress && done > 0)
		fputc('\n', stderr);
	close(p.fd);
	nym_in_close(&p.in);
	nym_out_close(&p.out);
	if (sam)
		nym_sam_close(&s);
	free(m);
	free(ents);
	close(statefd);
	return ret;
}
