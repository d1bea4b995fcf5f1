/*
 * smtp-receive - a receiving SMTP server on standard input and output.
 *
 * Run once per connection by a SAM acceptor (sam-accept), inetd, a
 * systemd socket unit or socat.  It takes mail for local recipients and
 * never relays, except for a client that logged in with AUTH, which may
 * send anywhere but only as itself.  When the acceptor tells who the
 * peer is (I2P_PEER_DEST or I2P_PEER_B32), a sender at an .i2p domain
 * must come from the destination that domain publishes: a b32 domain is
 * compared with the peer directly, another name through resolve-maildest.
 * A message is acknowledged only once it is durable: fsync'd and linked
 * into the maildir, or taken (exit 0) by the delivery command.
 *
 * A recipient may keep allow and deny lists of senders (sender-list(1),
 * lib/senders.c): a denied sender is refused at RCPT with a reply that
 * does not tell why, and when a proof-of-work stamp is demanded
 * (smtp-stamp, -P: a demand as pow-stamp(1) reads it) every recipient
 * that has not allowed the sender needs an unspent stamp minted for its
 * address in an X-Hashcash field, of a kind the demand takes and with
 * the bits it asks for the stamp's date, checked once the message is
 * in by lib/pow.c's nym_pow_check_demand (the form, resource and date
 * from the text, then one SHA-1 or one Equihash verification), then the
 * double-spend database (powdb.c).  The demand is published verbatim in
 * the EHLO reply (X-STAMP) and by -W in a file beside
 * .well-known/i2pmail.key, and it is what is checked: one parser.
 *
 * The server says nothing about itself: the greeting is "220 ESMTP", no
 * host name, no software, and it adds no Received field.  Every read has
 * a timeout; lines, recipients and the message size are bounded
 * (lib/limits.h), and the message streams to disk, never whole in memory.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"
#include "tls.h"
#include "tor.h"
#include "i2p.h"
#include "store.h"
#include "pow.h"

#define USAGE "usage: smtp-receive [-a] [-A passfile] [-C cert -K key] " \
	"[-D seconds]\n" \
	"                    [-F max/seconds] [-d maildir] [-l domain] " \
	"[-N normalize|reject]\n" \
	"                    [-p command] [-R command] [-s size] " \
	"[-T seconds] [-t seconds]\n" \
	"                    [-u users] [-v mode] [-B dbfile] [-L dir] " \
	"[-P demand]\n" \
	"                    [-Q reject|defer]\n" \
	"       smtp-receive [-P demand] -W file\n"

#define RESOLVER	"resolve-maildest -b"
enum verify { V_ALL, V_I2P, V_NONE };
enum outcome { OK, REFUSED, TEMPFAIL };

static struct {
	int aflag;
	const char *passfile;	/* -A */
	const char *maildir;	/* -d */
	const char *command;	/* -p */
	const char *resolver;	/* -R */
	const char *users;	/* -u */
	uint64_t size;		/* -s */
	int ms;			/* -t, in milliseconds */
	enum verify verify;	/* -v */
	int delay;		/* -D: seconds before a failed login's answer */
	int session;		/* -T, in seconds */
	int strict;		/* -N reject: a bare LF or CR refuses */
	int failmax, failwin;	/* -F: failures allowed in failwin s */
	struct nym_tls_cred *tlscred;	/* -C and -K: STARTTLS offered */
	char *dom[NYM_SMTPD_DOMAINS];	/* -l, lower case */
	size_t ndom;
	const char *senders;	/* -L: the sender lists' directory */
	const char *demand;	/* -P: the stamp demand as published */
	struct nym_pow_demand dem;	/* the same, parsed */
	int defer;		/* -Q defer: 4xx for a missing stamp */
	const char *powdb;	/* -B */
} opt;

static char **users;
static size_t nusers;
static char ledger[PATH_MAX];	/* the password file's .fails */

/* The session. */
static struct nym_in in;
static struct nym_out out;
static int helo, ehlo, authfail;
static struct nym_tls *tls;		/* after STARTTLS */
static char login[NYM_SMTP_PATH];	/* AUTH identity, "" if none */
static char peer[NYM_B32LEN + 9];	/* the peer's b32, "" if unknown */
static int peerbad;			/* told, but not a destination */
static char verified[NYM_SMTP_DOMAIN + 1]; /* sender domain found good */

/* The transaction. */
static int mail;
static char sender[NYM_SMTP_PATH];
static char rcpt[NYM_SMTP_RCPTS][NYM_SMTP_PATH];
static int allowed[NYM_SMTP_RCPTS];	/* on the recipient's allow list */
/* The recipient's own demand (its sender list's "demand" line), parsed,
 * and as it is stated; "" for the server's (-P). */
static char owntext[NYM_SMTP_RCPTS][NYM_POW_DEMAND_MAX + 1];
static struct nym_pow_demand owndem[NYM_SMTP_RCPTS];
static size_t nrcpt;

/* A maildir file being written, removed if a signal ends the session. */
static char *volatile tmppath;

static void
usage(void)
{
	nym_usage();
}

static void
onsignal(int sig)
{
	(void)sig;
	if (tmppath != NULL && tmppath[0] != '\0')
		unlink(tmppath);
	_exit(NYM_EX_TEMPFAIL);
}

/* s made safe for a log line: unprintable bytes as '?', at most 80. */
static const char *
clean(const char *s)
{
	static char buf[84];
	size_t i;

	for (i = 0; i < 80 && s[i] != '\0'; i++)
		buf[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
	if (s[i] != '\0' && i == 80)
		buf[i++] = '~';
	buf[i] = '\0';
	return buf;
}

/* The session's skeleton (lib/linesrv.c), shared with pop-serve. */
static struct nym_linesrv ls = {
	.in = &in, .out = &out, .linemax = NYM_SMTP_LINE,
	.maxerrors = NYM_SMTPD_ERRORS, .gone = NYM_EX_TEMPFAIL,
	.what = "the command",
	.toomany = "421 4.7.0 Too many errors, closing",
	.toolong = "500 5.5.2 Line too long, closing",
	.sessover = "421 4.4.2 Session too long, closing",
	.slow = "421 4.4.2 Too slow, closing"
};

#define reply(...)	nym_ls_reply(&ls, __VA_ARGS__)
#define flushout()	nym_ls_flush(&ls)
#define hangup(code, text) nym_ls_hangup(&ls, (code), (text))
#define protoerr()	nym_ls_error(&ls, NULL)

/* Read a command (or SASL response) line.  0, or -1 after replying to
 * a line too long or with a NUL byte. */
static int
getcmd(char *buf, size_t cap, size_t max)
{
	if (nym_ls_getline(&ls, buf, cap, max) == 0)
		return 0;
	reply("500 5.5.2 %s", errno == E2BIG ? "Line too long" :
	    "NUL byte in a command");
	protoerr();
	return -1;
}

static void
reset(void)
{
	mail = 0;
	sender[0] = '\0';
	nrcpt = 0;
}

/* Wait up to ms for child pid: its wait status, or -1 after killing it
 * and its process group (ETIMEDOUT) or when waitpid fails. */
static int
waitchild(pid_t pid, int ms)
{
	long long end = nym_now_ms() + ms;
	struct timespec nap = { 0, 1000000 };
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r == -1 && errno != EINTR)
			return -1;
		if (nym_now_ms() >= end) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 64000000)
			nap.tv_nsec *= 2;
	}
}

/* Exit status of a wait status, or -1 for a signal. */
static int
exitof(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start sh -c cmd with the arguments a1 and a2 in a process group of
 * its own (so that a timeout kills all of it), stdin from fd in, stdout
 * to fd out.  Returns the pid, or -1. */
static pid_t
spawn(const char *cmd, const char *a1, const char *a2, int infd, int outfd)
{
	pid_t pid;

	if ((pid = fork()) != 0) {
		if (pid != -1)
			setpgid(pid, pid);
		return pid;
	}
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (dup2(infd, 0) == -1 || dup2(outfd, 1) == -1)
		_exit(NYM_EX_TEMPFAIL);
	if (infd > 2)
		close(infd);
	if (outfd > 2)
		close(outfd);
	execl("/bin/sh", "sh", "-c", cmd, "sh", a1, a2, (char *)NULL);
	_exit(NYM_EX_TEMPFAIL);
}

/* The smaller of a fixed limit and a multiple of -t. */
static int
limit(int fixed, int times)
{
	return opt.ms <= fixed / times ? opt.ms * times : fixed;
}

/* Run the resolver for domain; its first line of output into line.
 * Returns its wait status, or -1 (errno) if it could not be run or took
 * too long. */
static int
runresolver(const char *domain, char *line, size_t cap)
{
	char cmd[NYM_LINE_MAX + 16], scratch[512];
	size_t got = 0;
	long long end = nym_now_ms() + limit(NYM_SMTPD_RESOLVE_MS, 1);
	int pfd[2], nul, left, e;
	ssize_t r;
	pid_t pid;

	if ((size_t)snprintf(cmd, sizeof cmd, "exec %s \"$1\"",
	    opt.resolver) >= sizeof cmd) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (pipe(pfd) == -1) {
		e = errno;
		close(nul);
		errno = e;
		return -1;
	}
	fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
	fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
	pid = spawn(cmd, domain, NULL, nul, pfd[1]);
	e = errno;
	close(nul);
	close(pfd[1]);
	if (pid == -1) {
		close(pfd[0]);
		errno = e;
		return -1;
	}
	for (;;) {
		left = (int)(end - nym_now_ms());
		if (left <= 0 || nym_wait(pfd[0], POLLIN, left) == -1)
			break;
		if (got + 1 < cap)
			r = read(pfd[0], line + got, cap - 1 - got);
		else
			r = read(pfd[0], scratch, sizeof scratch);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (got + 1 < cap)
			got += (size_t)r;
	}
	close(pfd[0]);
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	left = (int)(end - nym_now_ms());
	return waitchild(pid, left > 0 ? left : 1);
}

/* The b32 address of a destination given as base64 or b32, lower case,
 * into b32.  0 or -1. */
static int
b32of(const char *dest, char *b32)
{
	size_t n = strlen(dest), i;

	if (n == NYM_B32LEN + 8 &&
	    strcasecmp(dest + NYM_B32LEN, ".b32.i2p") == 0) {
		for (i = 0; i <= n; i++)
			b32[i] = (char)tolower((unsigned char)dest[i]);
		return 0;
	}
	return nym_dest_b32(dest, n, b32);
}

/* Does the destination that domain publishes, as the resolver finds
 * it, belong to the peer? */
static enum outcome
resolvecheck(const char *addr, const char *domain)
{
	char line[8192], b32[NYM_B32LEN + 9], *f[3], *save = NULL;
	int st, code, i;

	if ((st = runresolver(domain, line, sizeof line)) == -1) {
		nym_warn("unable to verify sender %s: resolver %s: %s",
		    addr, errno == ETIMEDOUT ? "took too long" : "not run",
		    strerror(errno));
		return TEMPFAIL;
	}
	code = exitof(st);
	if (code == NYM_EX_DATAERR || code == NYM_EX_NOUSER ||
	    code == NYM_EX_NOHOST || code == NYM_EX_NOPERM)
		return REFUSED;
	if (code == NYM_EX_TEMPFAIL)
		return TEMPFAIL;
	if (code != 0) {
		nym_warn("unable to verify sender %s: resolver %s %d", addr,
		    code == -1 ? "killed by signal" : "exited",
		    code == -1 ? WTERMSIG(st) : code);
		return TEMPFAIL;
	}
	/* ADDRESS TRANSPORT DEST PORT METHOD EXPIRES */
	for (i = 0; i < 3; i++)
		if ((f[i] = strtok_r(i == 0 ? line : NULL, " \t\r", &save)) ==
		    NULL) {
			nym_warn("unable to verify sender %s: resolver "
			    "printed no destination", addr);
			return TEMPFAIL;
		}
	if (strcmp(f[1], "i2p") != 0)
		return REFUSED;	/* a relay or onion: no key to compare */
	if (b32of(f[2], b32) == -1) {
		nym_warn("unable to verify sender %s: resolver printed a "
		    "bad destination", addr);
		return TEMPFAIL;
	}
	return strcmp(b32, peer) == 0 ? OK : REFUSED;
}

/* Is sender (not null) at a domain whose destination the peer has? */
static enum outcome
verify(const char *addr)
{
	const char *domain = strrchr(addr, '@');
	enum outcome o;

	if (peerbad)
		return TEMPFAIL;
	if (domain == NULL)
		return REFUSED;
	domain++;
	if (strcmp(domain, verified) == 0)
		return OK;
	switch (nym_domkind(domain)) {
	case NYM_DOM_B32:
		o = strcmp(domain, peer) == 0 ? OK : REFUSED;
		break;
	case NYM_DOM_I2P:
		o = resolvecheck(addr, domain);
		break;
	default:
		o = opt.verify == V_ALL ? REFUSED : OK;
		break;
	}
	if (o == OK)
		snprintf(verified, sizeof verified, "%s", domain);
	else if (o == REFUSED)
		nym_warn("refused sender %s: peer is %.8s...b32.i2p", addr,
		    peer);
	return o;
}

/* SMTorP's "local@<pin>.<onion>.onion" is local@<onion>.onion: the pin
 * is for the sender to check the server's certificate by, not part of
 * the mailbox.  Rewritten in place when the onion is local. */
static void
droppin(char *addr)
{
	char *at = strrchr(addr, '@'), *dot;
	size_t i;

	if (at == NULL || nym_domkind(at + 1) != NYM_DOM_ONION ||
	    (dot = strchr(at + 1, '.')) == NULL ||
	    strchr(dot + 1, '.') == NULL)
		return;
	for (i = 0; i < opt.ndom; i++)
		if (strcasecmp(dot + 1, opt.dom[i]) == 0) {
			memmove(at + 1, dot + 1, strlen(dot + 1) + 1);
			return;
		}
}

static int
localdomain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t i;

	if (at == NULL)
		return 1;	/* <postmaster> */
	for (i = 0; i < opt.ndom; i++)
		if (strcmp(at + 1, opt.dom[i]) == 0)
			return 1;
	return 0;
}

static int
localuser(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t l = at != NULL ? (size_t)(at - addr) : strlen(addr), i;

	if (l == 10 && strncasecmp(addr, "postmaster", 10) == 0)
		return 1;
	if (opt.aflag)
		return 1;
	for (i = 0; i < nusers; i++) {
		if (strchr(users[i], '@') != NULL ?
		    strcasecmp(users[i], addr) == 0 :
		    strlen(users[i]) == l && strncasecmp(users[i], addr, l) == 0)
			return 1;
	}
	return 0;
}

static const char *listpath;

static void
badentry(void *arg, unsigned line, const char *why)
{
	(void)arg;
	nym_warn("bad entry in %s:%u: %s", listpath, line, why);
}

/* The verdict of the recipient's sender list (lib/senders.c) on the
 * sender, or -1 after a log line when the list cannot be read; the
 * recipient's own demand (its "demand" line) into dem (cap bytes), ""
 * if it has none. */
static int
listed(const char *to, char *dem, size_t cap)
{
	static char path[NYM_MD_PATH];	/* listpath points here */
	struct nym_senders l;
	int v;

	dem[0] = '\0';
	if (opt.senders == NULL)
		return NYM_SENDERS_NONE;
	if (nym_senders_path(path, sizeof path, opt.senders, to, 0) == -1)
		return NYM_SENDERS_NONE;	/* no name a file can have */
	listpath = path;
	if (nym_senders_read(&l, path, badentry, NULL) == -1) {
		nym_warn("unable to read sender list %s: %s", path,
		    errno == EFBIG ? "over 1 MB" : strerror(errno));
		return -1;
	}
	v = nym_senders_match(&l, sender);
	if (l.demand != NULL && strlen(l.demand) < cap)
		memcpy(dem, l.demand, strlen(l.demand) + 1);
	nym_senders_free(&l);
	return v;
}

static void
cmd_helo(const char *args, int extended)
{
	if (*args == '\0') {
		reply("501 5.5.4 Syntax: %s hostname",
		    extended ? "EHLO" : "HELO");
		protoerr();
		return;
	}
	reset();
	helo = 1;
	ehlo = extended;
	if (!extended) {
		reply("250 ESMTP");
		return;
	}
	reply("250-ESMTP");
	reply("250-PIPELINING");
	reply("250-SIZE %llu", (unsigned long long)opt.size);
	reply("250-8BITMIME");
	if (opt.demand != NULL)
		reply("250-X-STAMP %s", opt.demand);
	if (opt.tlscred != NULL && tls == NULL)
		reply("250-STARTTLS");
	if (opt.passfile != NULL && login[0] == '\0') {
		reply("250-ENHANCEDSTATUSCODES");
		reply("250 AUTH PLAIN LOGIN");
	} else
		reply("250 ENHANCEDSTATUSCODES");
}

/* STARTTLS (RFC 3207): the handshake on the session's own descriptors,
 * then a session that knows nothing of what was said before it. */
static void
cmd_starttls(const char *args)
{
	char why[300];

	if (opt.tlscred == NULL) {
		reply("502 5.5.1 Command not implemented");
		protoerr();
		return;
	}
	if (*args != '\0') {
		reply("501 5.5.4 Syntax: STARTTLS");
		protoerr();
		return;
	}
	if (tls != NULL) {
		reply("503 5.5.1 TLS already started");
		protoerr();
		return;
	}
	/* Commands sent along with STARTTLS came in the clear and must not
	 * count as said inside TLS (CVE-2011-0411): dropped. */
	in.pos = in.len;
	reply("220 2.0.0 Ready to start TLS");
	flushout();
	if ((tls = nym_tls_accept(opt.tlscred, in.fd, out.fd, opt.ms, why,
	    sizeof why)) == NULL) {
		nym_warn("%s", why);
		exit(ls.gone);
	}
	nym_tls_attach(tls, &in, &out);
	reset();
	helo = ehlo = 0;
	login[0] = '\0';
}

static void
cmd_mail(const char *line)
{
	struct nym_smtp_mail m;
	char addr[NYM_SMTP_PATH];

	if (!helo) {
		reply("503 5.5.1 Send EHLO first");
		protoerr();
		return;
	}
	if (mail) {
		reply("503 5.5.1 Nested MAIL command");
		protoerr();
		return;
	}
	if (nym_smtp_parse_mail(line, addr, sizeof addr, &m) == -1) {
		if (errno == ENOTSUP)
			reply("555 5.5.4 Unsupported parameter");
		else if (errno == EACCES)
			reply("501 5.5.4 Source routes are not accepted, "
			    "give the mailbox alone");
		else if (errno == ENAMETOOLONG)
			reply("501 5.1.7 Address too long");
		else
			reply("501 5.5.4 Syntax: MAIL FROM:<address>");
		protoerr();
		return;
	}
	if (m.size > opt.size) {
		reply("552 5.3.4 Message size exceeds the limit");
		return;
	}
	if (login[0] != '\0') {
		if (strcasecmp(addr, login) != 0) {
			reply("553 5.7.1 Sender address is not the login");
			return;
		}
	} else if ((peer[0] != '\0' || peerbad) && opt.verify != V_NONE &&
	    addr[0] != '\0') {
		switch (verify(addr)) {
		case OK:
			break;
		case REFUSED:
			reply("550 5.7.1 Sender not verified");
			return;
		case TEMPFAIL:
			reply("451 4.4.3 Unable to verify the sender, "
			    "try again later");
			return;
		}
	}
	snprintf(sender, sizeof sender, "%s", addr);
	mail = 1;
	reply("250 2.1.0 Ok");
}

static void
cmd_rcpt(const char *line)
{
	char addr[NYM_SMTP_PATH], who[84], dem[NYM_POW_DEMAND_MAX + 1];
	size_t i;
	int v;

	if (!mail) {
		reply("503 5.5.1 Send MAIL first");
		protoerr();
		return;
	}
	if (nym_smtp_parse_rcpt(line, addr, sizeof addr) == -1) {
		if (errno == ENOTSUP)
			reply("555 5.5.4 Unsupported parameter");
		else if (errno == EACCES)
			reply("501 5.5.4 Source routes are not accepted, "
			    "give the mailbox alone");
		else if (errno == ENAMETOOLONG)
			reply("501 5.1.3 Address too long");
		else
			reply("501 5.5.4 Syntax: RCPT TO:<address>");
		protoerr();
		return;
	}
	if (nrcpt == NYM_SMTP_RCPTS) {
		reply("452 4.5.3 Too many recipients");
		return;
	}
	droppin(addr);
	if (!localdomain(addr)) {
		if (login[0] == '\0') {
			reply("550 5.7.1 Relaying denied");
			protoerr();
			return;
		}
	} else if (!localuser(addr)) {
		reply("550 5.1.1 User unknown");
		protoerr();
		return;
	}
	v = NYM_SENDERS_NONE;
	dem[0] = '\0';
	if (login[0] == '\0' && localdomain(addr) &&
	    (v = listed(addr, dem, sizeof dem)) == -1) {
		reply("451 4.3.0 Unable to take the recipient, try again "
		    "later");
		return;
	}
	if (v == NYM_SENDERS_DENY) {
		/* Neutral: the sender must not learn that a list exists. */
		snprintf(who, sizeof who, "%s", clean(sender));
		nym_warn("refused sender %s for %s: deny list", who,
		    clean(addr));
		reply("550 5.7.1 Message refused");
		return;
	}
	for (i = 0; i < nrcpt; i++)
		if (strcasecmp(rcpt[i], addr) == 0)
			break;
	if (i == nrcpt) {
		allowed[nrcpt] = v == NYM_SENDERS_ALLOW;
		owntext[nrcpt][0] = '\0';
		if (dem[0] != '\0' && !allowed[nrcpt]) {
			/* Parsed as -P is: what is stated is what is
			 * checked.  One that cannot be: the server's. */
			if (nym_pow_demand_parse(dem, &owndem[nrcpt]) == 0 &&
			    owndem[nrcpt].nwant > 0)
				memcpy(owntext[nrcpt], dem, strlen(dem) + 1);
			else
				nym_warn("unable to use the demand in %s: not "
				    "one this version checks; using the "
				    "server's", listpath);
		}
		memcpy(rcpt[nrcpt++], addr, sizeof addr);
	}
	reply("250 2.1.5 Ok");
}

/* An unlinked temporary file to hold the message for the command. */
static int
spool(void)
{
	return nym_tmpfile(NULL);
}

/* Run the delivery command for one recipient, the message on stdin. */
static enum outcome
runcommand(int fd, const char *to)
{
	pid_t pid;
	int st, code;

	/* Its output goes to the log, never to the client. */
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    setenv("SENDER", sender, 1) == -1 ||
	    setenv("RECIPIENT", to, 1) == -1 ||
	    (pid = spawn(opt.command, sender, to, fd, STDERR_FILENO)) == -1) {
		nym_warn("unable to run the delivery command for %s: %s", to,
		    strerror(errno));
		return TEMPFAIL;
	}
	if ((st = waitchild(pid, limit(NYM_SMTPD_DELIVER_MS, 2))) == -1) {
		nym_warn("unable to deliver to %s: %s", to, errno == ETIMEDOUT ?
		    "the command took too long" : strerror(errno));
		return TEMPFAIL;
	}
	if ((code = exitof(st)) == 0)
		return OK;
	if (code == -1)
		nym_warn("unable to deliver to %s: command killed by signal "
		    "%d", to, WTERMSIG(st));
	else
		nym_warn("unable to deliver to %s: command exited %d", to,
		    code);
	/* A crash, a missing command or a set-up mistake (78) is worth
	 * another try: the sender must not get a bounce for it. */
	return code == NYM_EX_TEMPFAIL || code == NYM_EX_CONFIG ||
	    code == -1 || code == 126 || code == 127 ? TEMPFAIL : REFUSED;
}

/* A sender at an onion domain (not logged in) must have signed the
 * message with its onion's own key, DKIM with d= that onion (lib/dkim.c,
 * onion-key(1)): Tor tells nothing of who connects, and this is the only
 * proof that the sender holds the address.  The message as stored, read
 * from path (a maildir file) or fd (the spool).  0 to go on, or -1 with
 * the reply sent. */
static int
onioncheck(const char *path, int fd)
{
	const char *at = strrchr(sender, '@');
	char why[NYM_DKIM_WHY], *p;
	enum nym_dkim_result r;
	int rfd;

	if (opt.verify != V_ALL || login[0] != '\0' || at == NULL ||
	    nym_domkind(at + 1) != NYM_DOM_ONION)
		return 0;
	if (path != NULL)
		rfd = open(path, O_RDONLY | O_CLOEXEC);
	else
		rfd = lseek(fd, 0, SEEK_SET) == -1 ? -1 : dup(fd);
	if (rfd == -1) {
		nym_warn("unable to verify sender %s: %s", sender,
		    strerror(errno));
		reply("451 4.3.0 Unable to verify the sender, try again later");
		return -1;
	}
	r = nym_dkim_verify_fd(rfd, at + 1, why);
	close(rfd);
	if (r == NYM_DKIM_PASS)
		return 0;
	if (r == NYM_DKIM_ERROR) {
		nym_warn("unable to verify sender %s: %s", sender,
		    strerror(errno));
		reply("451 4.3.0 Unable to verify the sender, try again later");
		return -1;
	}
	for (p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	nym_warn("refused sender %s: %s", sender, why);
	reply("550 5.7.1 Sender not verified: %s", why);
	return -1;
}

/* The demand (-P, smtp-stamp) into opt.dem by pow-stamp's parser
 * (nym_pow_demand_parse), so that what is published is what is checked;
 * on one line of printable ASCII, blanks between items (no tab: the EHLO
 * reply and i2pmail.pow carry it as it is), and with at least one kind
 * this version checks.  Or exit 78 (64 for -P) naming it. */
static void
parsedemand(const char *s, int code, const char *what)
{
	const char *why = NULL;
	size_t i;

	for (i = 0; s[i] != '\0' && why == NULL; i++)
		if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] > '~')
			why = "not printable ASCII on one line";
	if (why == NULL && nym_pow_demand_parse(s, &opt.dem) == -1)
		nym_die(code, "unable to use %s %s: expected a pow-stamp(1) "
		    "DEMAND of at most %d bytes: items 1:BITS or E1:N,K:BITS, "
		    "BITS a number or a schedule B0>B1@YYYY-MM-DD, "
		    "+SURCHARGE for a deprecated kind", what, s,
		    NYM_POW_DEMAND_MAX);
	if (why == NULL && opt.dem.nwant == 0)
		why = "no kind this version checks (1:BITS, E1:96,5:BITS, "
		    "E1:102,5:BITS)";
	if (why != NULL)
		nym_die(code, "unable to use %s %s: %s", what, s, why);
}

/* The X-Hashcash: (or Hashcash:) fields of the header section of the
 * message in fd, at most NYM_POW_STAMPS_MAX, into st (strings to free).
 * The count, or -1 with errno. */
static int
stampsof(int fd, char **st)
{
	struct nym_in min;
	const char *line, *p;
	size_t len, total = 0, skip;
	int more, r, n = 0, lost = 0;

	if (nym_in_open(&min, fd, NYM_LINE_MAX) == -1)
		return -1;
	while (n < NYM_POW_STAMPS_MAX &&
	    (r = nym_in_line(&min, &line, &len, &more)) == 1) {
		if ((total += len) > NYM_HDR_MAX)
			break;
		if (more || lost) {	/* a line past NYM_LINE_MAX */
			lost = more;
			continue;
		}
		if ((len = nym_chomp(line, len)) == 0)
			break;
		if (len > 11 && strncasecmp(line, "X-Hashcash:", 11) == 0)
			skip = 11;
		else if (len > 9 && strncasecmp(line, "Hashcash:", 9) == 0)
			skip = 9;
		else
			continue;
		for (p = line + skip; p < line + len && (*p == ' ' ||
		    *p == '\t'); p++)
			;
		while (len > 0 && (line[len - 1] == ' ' ||
		    line[len - 1] == '\t'))
			len--;
		if (p >= line + len)
			continue;
		if ((st[n] = strndup(p, (size_t)(line + len - p))) == NULL) {
			r = -1;
			break;
		}
		n++;
	}
	nym_in_close(&min);
	if (r == -1) {
		while (n > 0)
			free(st[--n]);
		return -1;
	}
	return n;
}

/* How close a stamp of verdict v came to being taken, for the reply:
 * one of a kind not ours, or for someone else, least; then the ones for
 * this recipient that failed earlier (form, date) or later (a kind not
 * demanded is told once its resource and date were good, then bits,
 * then spent).  NYM_POW_UNWANTED is last in the enum, not the closest. */
static int
closeness(int v)
{
	switch (v) {
	case NYM_POW_UNKNOWN:	return 0;
	case NYM_POW_RESOURCE:	return 1;
	case NYM_POW_MALFORMED:	return 2;
	case NYM_POW_FUTURE:	return 3;
	case NYM_POW_EXPIRED:	return 4;
	case NYM_POW_UNWANTED:	return 5;
	case NYM_POW_BITS:	return 6;
	case NYM_POW_SPENT:	return 7;
	default:		return 8;	/* NYM_POW_OK */
	}
}

/* Does recipient i need a stamp: not logged in, the sender not on its
 * allow list, and a demand (its own, or the server's)? */
static int
needstamp(size_t i)
{
	return login[0] == '\0' && !allowed[i] &&
	    (owntext[i][0] != '\0' || opt.demand != NULL);
}

/* Refuse the message for recipient i's stamp, the closest one having
 * been of verdict best (-1: none), stating its demand: 451 with -Q
 * defer, else 550. */
static void
refusestamp(size_t i, int best)
{
	const char *dem = owntext[i][0] != '\0' ? owntext[i] : opt.demand;
	const char *said;
	char who[84], line[NYM_SMTP_LINE];

	snprintf(who, sizeof who, "%s", clean(sender));
	nym_warn("refused sender %s for %s: stamp %s", who, clean(rcpt[i]),
	    best == -1 ? "missing" : nym_pow_why(best));
	said = best == -1 || best == NYM_POW_UNKNOWN ||
	    best == NYM_POW_RESOURCE ? "none for this recipient" :
	    nym_pow_why(best);
	/* One line; two if the demand and a long address would not fit in
	 * one, never a demand cut short. */
	if (snprintf(line, sizeof line, "%s Stamp needed for %s: X-Hashcash "
	    "%s (%s)%s", opt.defer ? "451 4.7.1" : "550 5.7.1", rcpt[i], dem,
	    said, opt.defer ? ", mint one and try again" : "") <=
	    NYM_SMTP_LINE - 3)
		reply("%s", line);
	else {
		reply("%s Stamp needed for %s (%s)%s", opt.defer ?
		    "451-4.7.1" : "550-5.7.1", rcpt[i], said, opt.defer ?
		    ", mint one and try again" : "");
		reply("%s X-Hashcash %s", opt.defer ? "451 4.7.1" : "550 5.7.1",
		    dem);
	}
}

/* Every recipient that needs a stamp (needstamp) needs a valid one for
 * its address, of its own demand if it states one (its sender list),
 * else of the server's.  All are found first, then spent: a message
 * refused for one recipient's stamp spends none of the others', so that
 * the sender's next attempt may carry the same.  The message as stored,
 * read from path (a maildir file) or fd (the spool).  0 to go on, or -1
 * with the reply sent. */
static int
stampcheck(const char *path, int fd)
{
	static char *st[NYM_POW_STAMPS_MAX];
	static int first[NYM_SMTP_RCPTS];	/* its first valid stamp */
	struct nym_powdb db = { .fd = -1 };
	const struct nym_pow_demand *d;
	const char *why = NULL;
	time_t now = nym_now(), until;
	size_t i;
	int n, k, v, best, rfd, r, pass, ret = 0;

	for (i = 0; i < nrcpt && !needstamp(i); i++)
		;
	if (i == nrcpt)
		return 0;
	if (path != NULL)
		rfd = open(path, O_RDONLY | O_CLOEXEC);
	else
		rfd = lseek(fd, 0, SEEK_SET) == -1 ? -1 : dup(fd);
	if (rfd == -1 || (n = stampsof(rfd, st)) == -1) {
		nym_warn("unable to read the message's stamps: %s",
		    strerror(errno));
		if (rfd != -1)
			close(rfd);
		reply("451 4.3.0 Unable to check the message, try again later");
		return -1;
	}
	close(rfd);
	for (pass = 0; pass < 2 && ret == 0; pass++)
	for (i = 0; i < nrcpt && ret == 0; i++) {
		if (!needstamp(i))
			continue;
		d = owntext[i][0] != '\0' ? &owndem[i] : &opt.dem;
		best = -1;
		for (k = pass == 0 ? 0 : first[i]; k < n; k++) {
			v = nym_pow_check_demand(st[k], strlen(st[k]), d,
			    rcpt[i], now, &until);
			if (v == NYM_POW_OK && pass == 0)
				first[i] = k;
			if (v == NYM_POW_OK && pass == 1) {
				if (db.fd == -1 && nym_powdb_open(&db,
				    opt.powdb, NYM_POW_DB_SIZE) == -1) {
					db.fd = -1;
					why = "database";
					break;
				}
				if ((r = nym_powdb_spend(&db, st[k],
				    strlen(st[k]), until, now)) == -1) {
					why = "database";
					break;
				}
				if (r == 1)
					v = NYM_POW_SPENT;
			}
			if (v == -1) {
				why = "check";
				break;
			}
			/* What to tell: the closest a stamp came. */
			if (best == -1 || closeness(v) > closeness(best))
				best = v;
			if (v == NYM_POW_OK)
				break;
		}
		if (why != NULL) {
			nym_warn("unable to check a stamp for %s: %s %s: %s",
			    clean(rcpt[i]), why, why[0] == 'd' ? opt.powdb :
			    "", strerror(errno));
			reply("451 4.3.0 Unable to check the stamp, try again "
			    "later");
			ret = -1;
		} else if (best != NYM_POW_OK) {
			refusestamp(i, best);
			ret = -1;
		}
	}
	if (db.fd != -1)
		nym_powdb_close(&db);
	while (n > 0)
		free(st[--n]);
	return ret;
}

static void
cmd_data(const char *args)
{
	struct nym_mdfile md = { .fd = -1 };
	struct nym_out w;
	struct nym_smtp_data d;
	enum outcome o, worst = OK;
	size_t i;
	int fd;

	if (*args != '\0') {
		reply("501 5.5.4 Syntax: DATA");
		protoerr();
		return;
	}
	if (!mail) {
		reply("503 5.5.1 Send MAIL first");
		protoerr();
		return;
	}
	if (nrcpt == 0) {
		reply("554 5.5.1 No valid recipients");
		protoerr();
		return;
	}
	if (opt.maildir != NULL) {
		if (nym_maildir_make(opt.maildir) == -1 ||
		    nym_maildir_open(&md, opt.maildir) == -1) {
			nym_warn("unable to create a file in maildir %s: %s",
			    opt.maildir, strerror(errno));
			reply("451 4.3.0 Unable to store the message, "
			    "try again later");
			return;
		}
		tmppath = md.tmp;
		fd = md.fd;
	} else if ((fd = spool()) == -1) {
		nym_warn("unable to create a temporary file: %s",
		    strerror(errno));
		reply("451 4.3.0 Unable to store the message, try again later");
		return;
	}
	if (nym_out_open(&w, fd, NYM_SMTPD_DATABUF) == -1) {
		nym_warn("unable to allocate memory");
		reply("451 4.3.0 Out of memory, try again later");
		goto abort;
	}
	reply("354 End data with <CR><LF>.<CR><LF>");
	flushout();
	/* Twice -t for each read, and for the whole message twice -t
	 * plus a second for each NYM_MIN_RATE bytes come: a sender that
	 * trickles is cut off, a big message at a fair rate is not. */
	in.ms = opt.ms * 2;
	in.deadline = nym_now_ms() + opt.ms * 2;
	if (in.deadline > ls.sessionend)
		in.deadline = ls.sessionend;
	in.rate = NYM_MIN_RATE;
	in.limit = ls.sessionend;
	if (nym_smtp_getdata(&in, &w, opt.size, NYM_SMTP_LF |
	    (opt.strict ? NYM_SMTP_STRICT : 0), &d) == -1) {
		if (opt.maildir != NULL)
			nym_maildir_abort(&md);
		else
			close(fd);
		tmppath = NULL;
		if (errno == ETIMEDOUT)
			nym_ls_timedout(&ls, "the message", opt.ms * 2 / 1000);
		exit(NYM_EX_TEMPFAIL);
	}
	in.rate = 0;
	in.limit = 0;
	nym_out_close(&w);
	if (d.bare != 0 && opt.strict) {
		/* As Postfix's smtpd_forbid_bare_newline = reject: where a
		 * message ends is in doubt, so nothing of it is kept and
		 * nothing after it is read as a command. */
		if (opt.maildir != NULL)
			nym_maildir_abort(&md);
		else
			close(fd);
		tmppath = NULL;
		nym_warn("refused a message: bare %s in its data",
		    d.bare == '\n' ? "LF" : "CR");
		hangup(NYM_EX_OK, d.bare == '\n' ?
		    "550 5.5.2 Error: bare <LF> received" :
		    "550 5.5.2 Error: bare <CR> received");
	}
	if (d.over) {
		reply("552 5.3.4 Message size exceeds the limit");
		goto abort;
	}
	if (d.werr != 0) {
		nym_warn("unable to write the message to %s: %s",
		    opt.maildir != NULL ? opt.maildir : "a temporary file",
		    strerror(d.werr));
		reply("451 4.3.0 Unable to store the message, try again later");
		goto abort;
	}
	if (onioncheck(opt.maildir != NULL ? md.tmp : NULL, fd) == -1 ||
	    stampcheck(opt.maildir != NULL ? md.tmp : NULL, fd) == -1)
		goto abort;
	if (opt.maildir != NULL) {
		if (nym_maildir_commit(&md) == -1) {
			nym_warn("unable to deliver to maildir %s: %s",
			    opt.maildir, strerror(errno));
			reply("451 4.3.0 Unable to store the message, "
			    "try again later");
		} else
			reply("250 2.0.0 Ok");
		tmppath = NULL;
		reset();
		return;
	}
	for (i = 0; i < nrcpt; i++) {
		o = runcommand(fd, rcpt[i]);
		if (o == TEMPFAIL || (o == REFUSED && worst == OK))
			worst = o;
	}
	close(fd);
	if (worst == OK)
		reply("250 2.0.0 Ok");
	else if (worst == TEMPFAIL)
		reply("451 4.3.0 Delivery failed, try again later");
	else
		reply("554 5.3.0 Delivery failed");
	reset();
	return;
abort:
	if (opt.maildir != NULL)
		nym_maildir_abort(&md);
	else
		close(fd);
	tmppath = NULL;
	reset();
}

/* Compare a and b in time that depends on their lengths only. */
static int
sameword(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned char diff = an != bn;
	size_t i;

	for (i = 0; i < an; i++)
		diff |= (unsigned char)(a[i] ^ b[i < bn ? i : 0]);
	return bn > 0 && diff == 0;
}

/* Is pass the password of user in the password file?  1 or 0; -1 if the
 * file cannot be used (errno EPERM: others may read it). */
static int
checkpass(const char *user, const char *pass, size_t passlen)
{
	static char buf[NYM_PASSFILE_MAX + 1];
	struct stat st;
	char *s, *nl, *colon, *end;
	ssize_t n;
	int fd, found = 0;

	if ((fd = open(opt.passfile, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	n = nym_read_all(fd, buf, sizeof buf);
	close(fd);
	if (n < 0 || (size_t)n > NYM_PASSFILE_MAX) {
		if (n >= 0)
			errno = EFBIG;
		nym_wipe(buf, sizeof buf);
		return -1;
	}
	end = buf + n;
	for (s = buf; s < end && !found; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if ((colon = memchr(s, ':', (size_t)(nl - s))) == NULL ||
		    *s == '#')
			continue;
		if ((size_t)(colon - s) != strlen(user) ||
		    strncasecmp(s, user, (size_t)(colon - s)) != 0)
			continue;
		colon++;
		found = sameword(pass, passlen, colon, (size_t)(nl - colon -
		    (nl > colon && nl[-1] == '\r')));
	}
	nym_wipe(buf, sizeof buf);
	return found;
}

/* Send a 334 challenge and read the base64 response, decoded, into buf.
 * Returns its length, or -1 after a reply (cancelled, bad base64). */
static ssize_t
challenge(const char *chal, char *buf, size_t cap)
{
	static char line[NYM_SMTP_AUTHLINE + 1];
	ssize_t n;

	reply("334 %s", chal);
	if (getcmd(line, sizeof line, NYM_SMTP_AUTHLINE) == -1)
		return -1;
	if (strcmp(line, "*") == 0) {
		reply("501 5.7.0 Authentication cancelled");
		protoerr();
		return -1;
	}
	n = nym_unbase64(line, strlen(line), (unsigned char *)buf, cap, "+/");
	nym_wipe(line, sizeof line);
	if (n == -1) {
		reply("501 5.5.2 Cannot decode the response");
		protoerr();
	}
	return n;
}

/* Decode an initial response ("=" is an empty one). */
static ssize_t
initial(const char *ir, char *buf, size_t cap)
{
	ssize_t n;

	if (strcmp(ir, "=") == 0)
		return 0;
	n = nym_unbase64(ir, strlen(ir), (unsigned char *)buf, cap, "+/");
	if (n == -1) {
		reply("501 5.5.2 Cannot decode the response");
		protoerr();
	}
	return n;
}

static void
cmd_auth(const char *args)
{
	static char resp[NYM_SMTP_AUTHLINE], user[NYM_SMTP_AUTHLINE];
	static char why[PATH_MAX + 64];
	const char *ir, *pass;
	size_t mlen, passlen = 0;
	ssize_t n, un = 0;
	char *z1, *z2;
	long long t0 = 0;
	int plain, r, nf;

	if (opt.passfile == NULL) {
		reply("502 5.5.1 Command not implemented");
		protoerr();
		return;
	}
	if (!ehlo || login[0] != '\0' || mail) {
		reply("503 5.5.1 %s", !ehlo ? "Send EHLO first" :
		    login[0] != '\0' ? "Already authenticated" :
		    "Not in a mail transaction");
		protoerr();
		return;
	}
	mlen = strcspn(args, " ");
	ir = args[mlen] == ' ' ? args + mlen + 1 : NULL;
	if (mlen == 5 && strncasecmp(args, "PLAIN", 5) == 0)
		plain = 1;
	else if (mlen == 5 && strncasecmp(args, "LOGIN", 5) == 0)
		plain = 0;
	else {
		reply("504 5.5.4 Unrecognized authentication type");
		protoerr();
		return;
	}
	if (plain) {
		/* authzid NUL authcid NUL password */
		n = ir != NULL ? initial(ir, resp, sizeof resp) :
		    challenge("", resp, sizeof resp);
		if (n == -1)
			goto done;
		if ((z1 = memchr(resp, '\0', (size_t)n)) == NULL ||
		    (z2 = memchr(z1 + 1, '\0', (size_t)(resp + n - z1 - 1))) ==
		    NULL || memchr(z2 + 1, '\0', (size_t)(resp + n - z2 - 1)) !=
		    NULL) {
			reply("501 5.5.2 Malformed PLAIN response");
			protoerr();
			goto done;
		}
		un = z2 - z1 - 1;
		memcpy(user, z1 + 1, (size_t)un + 1);
		if (z1 != resp && strcmp(resp, user) != 0)
			goto fail;	/* acting for someone else */
		pass = z2 + 1;
		passlen = (size_t)(resp + n - z2 - 1);
	} else {
		un = ir != NULL ? initial(ir, user, sizeof user - 1) :
		    challenge("VXNlcm5hbWU6", user, sizeof user - 1);
		if (un == -1)
			goto done;
		user[un] = '\0';
		if ((n = challenge("UGFzc3dvcmQ6", resp, sizeof resp)) == -1)
			goto done;
		pass = resp;
		passlen = (size_t)n;
	}
	t0 = nym_now_ms();
	if (un == 0 || (size_t)un >= sizeof login ||
	    memchr(user, '\0', (size_t)un) != NULL)
		goto fail;
	/* Guessers open many connections, each a process of its own: the
	 * failures of all of them count, and past the limit no password
	 * is even checked until old failures leave the window. */
	if ((nf = nym_authfail(ledger, opt.failwin, 0)) == -1)
		nym_warn("unable to use login ledger %s: %s", ledger,
		    strerror(errno));
	else if (nf >= opt.failmax) {
		nym_sleep_until(t0 + (long long)opt.delay * 1000);
		nym_warn("refused login %s: %d failed logins in %d s",
		    clean(user), nf, opt.failwin);
		reply("454 4.7.0 Too many failed logins, try again later");
		if (++authfail >= NYM_SMTPD_AUTHFAIL)
			hangup(NYM_EX_OK, "421 4.7.0 Too many failed logins, "
			    "closing");
		goto done;
	}
	if ((r = checkpass(user, pass, passlen)) == -1) {
		nym_warn("unable to read password file %s: %s", opt.passfile,
		    nym_secretwhy(opt.passfile, errno, why, sizeof why));
		reply("454 4.7.0 Temporary authentication failure");
		goto done;
	}
	if (r == 0)
		goto fail;
	memcpy(login, user, (size_t)un + 1);
	reply("235 2.7.0 Authentication successful");
	goto done;
fail:
	if (t0 == 0)
		t0 = nym_now_ms();
	if (nym_authfail(ledger, opt.failwin, 1) == -1)
		nym_warn("unable to use login ledger %s: %s", ledger,
		    strerror(errno));
	/* Every failure is answered the same time after the response
	 * came, whatever went wrong and however fast. */
	nym_sleep_until(t0 + (long long)opt.delay * 1000);
	nym_warn("refused login %s: wrong name or password", clean(user));
	reply("535 5.7.8 Authentication credentials invalid");
	if (++authfail >= NYM_SMTPD_AUTHFAIL)
		hangup(NYM_EX_OK, "421 4.7.0 Too many failed logins, closing");
done:
	nym_wipe(resp, sizeof resp);
	nym_wipe(user, sizeof user);
}

/* Does line start with the verb v (any case), alone or before a space?
 * *args gets what follows the space. */
static int
verb(const char *line, const char *v, const char **args)
{
	size_t n = strlen(v);

	if (strncasecmp(line, v, n) != 0 ||
	    (line[n] != ' ' && line[n] != '\0'))
		return 0;
	*args = line + n + (line[n] == ' ');
	return 1;
}

static void
session(void)
{
	static char line[NYM_SMTP_LINE + 1];
	const char *a;
	size_t n;

	if (nym_in_open(&in, STDIN_FILENO, NYM_SMTPD_INBUF) == -1 ||
	    nym_out_open(&out, STDOUT_FILENO, NYM_SMTPD_OUTBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	out.ms = opt.ms;
	ls.ms = opt.ms;
	ls.session = opt.session;
	ls.sessionend = nym_now_ms() + (long long)opt.session * 1000;
	out.deadline = ls.sessionend;
	reply("220 ESMTP");
	for (;;) {
		if (getcmd(line, sizeof line, NYM_SMTP_LINE) == -1)
			continue;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (verb(line, "EHLO", &a))
			cmd_helo(a, 1);
		else if (verb(line, "HELO", &a))
			cmd_helo(a, 0);
		else if (verb(line, "MAIL", &a))
			cmd_mail(line);
		else if (verb(line, "RCPT", &a))
			cmd_rcpt(line);
		else if (verb(line, "DATA", &a))
			cmd_data(a);
		else if (verb(line, "AUTH", &a))
			cmd_auth(a);
		else if (verb(line, "RSET", &a)) {
			if (*a != '\0') {
				reply("501 5.5.4 Syntax: RSET");
				protoerr();
			} else {
				reset();
				reply("250 2.0.0 Ok");
			}
		} else if (verb(line, "NOOP", &a))
			reply("250 2.0.0 Ok");
		else if (verb(line, "QUIT", &a)) {
			reply("221 2.0.0 Bye");
			flushout();
			exit(NYM_EX_OK);
		} else if (verb(line, "VRFY", &a))
			reply("252 2.5.0 Cannot verify a user, send mail "
			    "to find out");
		else if (verb(line, "HELP", &a))
			reply("214 2.0.0 See RFC 5321");
		else if (verb(line, "STARTTLS", &a))
			cmd_starttls(a);
		else if (verb(line, "EXPN", &a) || verb(line, "BDAT", &a) || verb(line, "ETRN", &a) ||
		    verb(line, "TURN", &a)) {
			reply("502 5.5.1 Command not implemented");
			protoerr();
		} else {
			reply("500 5.5.2 Command unrecognized");
			protoerr();
		}
	}
}

/* Add the domains in s (separated by spaces or commas). */
static void
adddomains(const char *s)
{
	char buf[NYM_LINE_MAX], *w, *save = NULL, *p;
	size_t n;

	if ((size_t)snprintf(buf, sizeof buf, "%s", s) >= sizeof buf)
		nym_die(NYM_EX_USAGE, "unable to use domain list: too long");
	for (w = strtok_r(buf, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		n = strlen(w);
		if (n > 1 && w[n - 1] == '.')
			w[--n] = '\0';
		for (p = w; *p != '\0'; p++) {
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.')
				break;
			*p = (char)tolower((unsigned char)*p);
		}
		if (*p != '\0' || n > NYM_SMTP_DOMAIN || w[0] == '.')
			nym_die(NYM_EX_USAGE, "unable to use domain %s: not a "
			    "domain name", w);
		if (opt.ndom == NYM_SMTPD_DOMAINS)
			nym_die(NYM_EX_USAGE, "unable to use domain %s: more "
			    "than %d", w, NYM_SMTPD_DOMAINS);
		if ((opt.dom[opt.ndom++] = strdup(w)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	}
}

/* The -u file: a local part or a whole address per line, '#' comments. */
static void
loadusers(const char *path)
{
	char line[NYM_LINE_MAX], *s, *e;
	unsigned lineno = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		nym_dieerr(NYM_EX_CONFIG, "unable to open users file %s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f))
			nym_die(NYM_EX_CONFIG, "unable to read users file "
			    "%s:%u: line too long", path, lineno);
		s = line + strspn(line, " \t");
		e = s + strcspn(s, " \t\r\n");
		if (*s == '#' || s == e)
			continue;
		if (s[strspn(e, " \t\r\n") + (size_t)(e - s)] != '\0' ||
		    (size_t)(e - s) >= NYM_SMTP_PATH)
			nym_die(NYM_EX_CONFIG, "unable to read users file "
			    "%s:%u: expected one user", path, lineno);
		*e = '\0';
		if (nusers == NYM_SMTPD_USERS)
			nym_die(NYM_EX_CONFIG, "unable to read users file %s: "
			    "more than %d users", path, NYM_SMTPD_USERS);
		if (nym_reallocarray(&users, nusers + 1, sizeof *users) == -1 ||
		    (users[nusers++] = strdup(s)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	}
	if (ferror(f))
		nym_dieerr(NYM_EX_CONFIG, "unable to read users file %s", path);
	fclose(f);
}

/* The password file must be a regular file only its owner can read. */
static void
checkpassfile(const char *path)
{
	char why[PATH_MAX + 64];
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to open password file %s",
		    path);
	if (fstat(fd, &st) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to use password file %s",
		    path);
	close(fd);
	if (!S_ISREG(st.st_mode))
		nym_die(NYM_EX_CONFIG, "unable to use password file %s: not "
		    "a regular file", path);
	if ((st.st_mode & 077) != 0)
		nym_die(NYM_EX_CONFIG, "unable to use password file %s: %s",
		    path, nym_secretwhy(path, EPERM, why, sizeof why));
}

/* -W: the demand published for senders to read, one line, or no file
 * when none is made. */
static int
publish(const char *path)
{
	char dir[NYM_MD_PATH];
	const char *name;

	if ((name = nym_splitpath(path, dir, sizeof dir)) == NULL ||
	    *name == '\0')
		nym_die(NYM_EX_USAGE, "unable to use -W %s: not a file name",
		    path);
	if (opt.demand == NULL) {
		if (unlink(path) == -1 && errno != ENOENT)
			nym_dieerr(nym_exitcode(errno), "unable to remove %s",
			    path);
		return NYM_EX_OK;
	}
	if (nym_atomic_write(dir, name, opt.demand, strlen(opt.demand), 0644,
	    NYM_ATOMIC_NL) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write %s", path);
	return NYM_EX_OK;
}

/* The peer's b32 address from what the acceptor put in the
 * environment. */
static void
loadpeer(void)
{
	const char *dest = getenv("I2P_PEER_DEST");
	const char *b = getenv("I2P_PEER_B32");
	char buf[NYM_B32LEN + 9];
	size_t n, i;

	if (dest != NULL && *dest != '\0') {
		if (nym_dest_b32(dest, strcspn(dest, " \t\r\n"), peer) == -1) {
			peer[0] = '\0';
			peerbad = 1;
			nym_warn("unable to use I2P_PEER_DEST: not a "
			    "destination");
		}
		return;
	}
	if (b == NULL || *b == '\0')
		return;
	n = strlen(b);
	if (n == NYM_B32LEN + 8 && strcasecmp(b + NYM_B32LEN, ".b32.i2p") == 0)
		n = NYM_B32LEN;
	for (i = 0; i < n && i < NYM_B32LEN; i++) {
		buf[i] = (char)tolower((unsigned char)b[i]);
		if (!(buf[i] >= 'a' && buf[i] <= 'z') &&
		    !(buf[i] >= '2' && buf[i] <= '7'))
			break;
	}
	if (n != NYM_B32LEN || i != n) {
		peerbad = 1;
		nym_warn("unable to use I2P_PEER_B32: not a b32 address");
		return;
	}
	memcpy(buf + n, ".b32.i2p", 9);
	memcpy(peer, buf, sizeof peer);
}

int
main(int argc, char *argv[])
{
	const char *where, *v, *maildir = NULL, *command = NULL;
	const char *verifyarg = NULL, *delayarg = NULL, *failarg = NULL;
	const char *sessarg = NULL, *barearg = NULL;
	const char *certarg = NULL, *keyarg = NULL;
	const char *demandarg = NULL, *replyarg = NULL, *wfile = NULL;
	static char sdir[NYM_MD_PATH], dbpath[NYM_MD_PATH];
	char home[NYM_MD_PATH];
	char why[300];
	struct sigaction sa;
	int c, ndomarg = 0;

	nym_start(argc, argv, USAGE);
	opt.size = NYM_SMTP_SIZE;
	opt.ms = 300 * 1000;
	while ((c = getopt(argc, argv, "aA:B:C:d:D:F:K:l:L:N:p:P:Q:R:s:T:t:u:v:W:")) !=
	    -1) {
		switch (c) {
		case 'a': opt.aflag = 1; break;
		case 'B': opt.powdb = optarg; break;
		case 'L': opt.senders = optarg; break;
		case 'P': demandarg = optarg; break;
		case 'Q': replyarg = optarg; break;
		case 'W': wfile = optarg; break;
		case 'A': opt.passfile = optarg; break;
		case 'C': certarg = optarg; break;
		case 'K': keyarg = optarg; break;
		case 'D': delayarg = optarg; break;
		case 'F': failarg = optarg; break;
		case 'd': maildir = optarg; break;
		case 'l': adddomains(optarg); ndomarg = 1; break;
		case 'p': command = optarg; break;
		case 'R': opt.resolver = optarg; break;
		case 's':
			opt.size = nym_size(NYM_EX_USAGE, "-s", optarg,
			    NYM_SMTPD_SIZE_MAX);
			break;
		case 't': opt.ms = (int)nym_num(NYM_EX_USAGE, "-t", optarg, 1,
			    86400) * 1000; break;
		case 'T': sessarg = optarg; break;
		case 'N': barearg = optarg; break;
		case 'u': opt.users = optarg; break;
		case 'v': verifyarg = optarg; break;
		default: usage();
		}
	}
	if (argc != optind)
		usage();
	if (maildir != NULL && command != NULL)
		nym_die(NYM_EX_USAGE, "unable to deliver: give -d or -p, "
		    "not both");
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	if (demandarg != NULL)
		parsedemand(demandarg, NYM_EX_USAGE, "-P");
	else if ((demandarg = nym_conf_get("smtp-stamp")) != NULL &&
	    *demandarg != '\0')
		parsedemand(demandarg, NYM_EX_CONFIG, "smtp-stamp =");
	else
		demandarg = NULL;
	opt.demand = demandarg;
	if (wfile != NULL)
		return publish(wfile);
	if (replyarg == NULL &&
	    (replyarg = nym_conf_get("smtp-stamp-reply")) == NULL)
		replyarg = "reject";
	if (strcmp(replyarg, "defer") == 0)
		opt.defer = 1;
	else if (strcmp(replyarg, "reject") != 0)
		nym_die(NYM_EX_USAGE, "unable to use stamp reply %s: expected "
		    "reject or defer", replyarg);
	if (nym_confdir(home, sizeof home) == -1)
		home[0] = '\0';
	if (opt.senders == NULL &&
	    (opt.senders = nym_conf_get("senders-dir")) == NULL &&
	    home[0] != '\0' && (size_t)snprintf(sdir, sizeof sdir,
	    "%s/senders", home) < sizeof sdir)
		opt.senders = sdir;
	if (opt.powdb == NULL &&
	    (opt.powdb = nym_conf_get("smtp-stamp-db")) == NULL) {
		if ((home[0] == '\0' || (size_t)snprintf(dbpath,
		    sizeof dbpath, "%s/pow.db", home) >= sizeof dbpath) &&
		    opt.demand != NULL)
			nym_die(NYM_EX_CONFIG, "unable to find the "
			    "double-spend database: no HOME (give -B or "
			    "smtp-stamp-db)");
		opt.powdb = dbpath;
	}
	if (!ndomarg && (v = nym_conf_get("local-domains")) != NULL)
		adddomains(v);
	if (maildir == NULL && command == NULL) {
		maildir = nym_conf_get("smtp-maildir");
		command = nym_conf_get("smtp-command");
		if (maildir != NULL && command != NULL)
			nym_die(NYM_EX_CONFIG, "unable to deliver: "
			    "smtp-maildir and smtp-command both set");
	}
	opt.maildir = maildir;
	opt.command = command;
	if (opt.users == NULL)
		opt.users = nym_conf_get("smtp-users");
	if (opt.passfile == NULL)
		opt.passfile = nym_conf_get("smtp-passwords");
	if (opt.resolver == NULL &&
	    (opt.resolver = nym_conf_get("smtp-resolver")) == NULL)
		opt.resolver = RESOLVER;
	if (verifyarg == NULL)
		verifyarg = nym_conf_get("smtp-verify");
	if (verifyarg == NULL || strcmp(verifyarg, "all") == 0)
		opt.verify = V_ALL;
	else if (strcmp(verifyarg, "i2p") == 0)
		opt.verify = V_I2P;
	else if (strcmp(verifyarg, "none") == 0)
		opt.verify = V_NONE;
	else
		nym_die(NYM_EX_USAGE, "unable to use verify mode %s: expected "
		    "all, i2p or none", verifyarg);
	if (opt.maildir == NULL && opt.command == NULL)
		nym_die(NYM_EX_USAGE, "unable to deliver: give -d maildir or "
		    "-p command");
	if (opt.ndom == 0)
		nym_die(NYM_EX_USAGE, "unable to accept mail: no local domain "
		    "(-l or local-domains)");
	if (opt.users == NULL && !opt.aflag)
		nym_die(NYM_EX_USAGE, "unable to accept mail: no users file "
		    "(-u or smtp-users) and no -a");
	if (opt.users != NULL)
		loadusers(opt.users);
	if (opt.passfile != NULL) {
		checkpassfile(opt.passfile);
		if ((size_t)snprintf(ledger, sizeof ledger, "%s.fails",
		    opt.passfile) >= sizeof ledger)
			nym_die(NYM_EX_USAGE, "unable to use password file %s: "
			    "name too long", opt.passfile);
	}
	if (delayarg == NULL && (delayarg = nym_conf_get("smtp-auth-delay")) ==
	    NULL)
		delayarg = "3";
	opt.delay = (int)nym_num(NYM_EX_USAGE, "-D", delayarg, 0, 60);
	if (failarg == NULL &&
	    (failarg = nym_conf_get("smtp-auth-failures")) == NULL)
		failarg = "10/600";
	nym_authlimit(failarg, &opt.failmax, &opt.failwin);
	if (barearg == NULL &&
	    (barearg = nym_conf_get("smtp-bare-newline")) == NULL)
		barearg = "normalize";
	if (strcmp(barearg, "reject") == 0)
		opt.strict = 1;
	else if (strcmp(barearg, "normalize") != 0)
		nym_die(NYM_EX_USAGE, "unable to use bare newline mode %s: "
		    "expected normalize or reject", barearg);
	if (sessarg == NULL &&
	    (sessarg = nym_conf_get("smtp-session-time")) == NULL)
		opt.session = NYM_SMTP_SESSION;
	else
		opt.session = (int)nym_num(NYM_EX_USAGE, "-T", sessarg, 1,
		    86400);
	if (certarg == NULL && keyarg == NULL) {
		certarg = nym_conf_get("smtp-tls-cert");
		keyarg = nym_conf_get("smtp-tls-key");
	}
	if ((certarg == NULL) != (keyarg == NULL))
		nym_die(NYM_EX_USAGE, "unable to offer STARTTLS: give both the "
		    "certificate and its key (-C and -K, smtp-tls-cert and "
		    "smtp-tls-key)");
	if (certarg != NULL && (opt.tlscred = nym_tls_cred_load(certarg,
	    keyarg, why, sizeof why)) == NULL)
		nym_die(NYM_EX_CONFIG, "%s", why);
	nym_quietstderr();
	loadpeer();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	session();
	return NYM_EX_OK;
}
