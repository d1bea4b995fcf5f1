/*
 * nymbox-sendmail - a sendmail-compatible front end that runs the
 * configured chain: by default scrub-headers, then delay-queue.
 *
 * Mail programs (mutt, git send-email, cron, mailx) call sendmail with
 * options of their own; the ones that matter here are taken (-t, -i,
 * -oi, -f, -r, -F, -bm, -bp, -q, -C, -O), the rest are accepted and
 * ignored so that callers work unchanged.  The sender, which also picks
 * the identity whose [section] of the configuration applies, is -f,
 * else the configured sender, else the message's From:.
 *
 * The chain is run without a shell, as a pipeline of processes, and its
 * output goes to a private unlinked file, not to delay-queue directly:
 * delay-queue commits whatever it has read at end of file, and a filter
 * that dies mid-message also ends its output with an end of file, so a
 * pipe would queue half a message.  Only once every command of the chain
 * has exited 0 is the file handed to delay-queue, whose exit code (0
 * only once the message is durable) becomes ours.  A failed command
 * queues nothing and gives its exit code, mapped to the ones sendmail's
 * callers understand.  The message is written to disk once more than a
 * pipe would need, which for mail is cheap.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "msg.h"

#define USAGE "usage: nymbox-sendmail [-it] [-b mode] [-C file] [-F name] " \
	"[-f sender]\n" \
	"                       [-O key=value] [-o option] [-q] " \
	"[recipient ...] < message\n"

/* Settings: the configuration's keys, which -O key=value overrides. */
enum { K_CHAIN, K_DELIVERY, K_MODE, K_NAME, K_QUEUE, K_SENDER, NKEYS };
static const char *const keyname[NKEYS] = {
	"chain", "delivery", "mode", "name", "queue", "sender"
};
static const char *override[NKEYS];

static int iflag, tflag, qflag;
static char bmode = 'm';
static const char *fullname, *sender, *conffile;

struct cmd {
	char **argv;
	pid_t pid;
	int status;
	int execerr;		/* errno of a failed exec, or 0 */
};

static void
usage(void)
{
	nym_usage();
}

/* One option letter that takes an argument. */
static void
option(int c, const char *arg)
{
	const char *eq;
	size_t i;

	switch (c) {
	case 'b':
		if (strchr("mpi", arg[0]) == NULL || arg[1] != '\0')
			nym_die(NYM_EX_USAGE, "unable to use -b%s: only -bm, "
			    "-bp and -bi are supported", arg);
		bmode = arg[0];
		break;
	case 'C': conffile = arg; break;
	case 'F': fullname = arg; break;
	case 'f':
	case 'r': sender = arg; break;
	case 'o':
		/* -oi is -i; -oem, -odb and the other letters mean
		 * nothing here. */
		if (arg[0] == 'i')
			iflag = 1;
		break;
	case 'O':
		if ((eq = strchr(arg, '=')) == NULL)
			break;
		if (strncmp(arg, "IgnoreDots=", 11) == 0)
			iflag = eq[1] == 't' || eq[1] == 'T';
		for (i = 0; i < NKEYS; i++)
			if (strlen(keyname[i]) == (size_t)(eq - arg) &&
			    strncmp(arg, keyname[i], (size_t)(eq - arg)) == 0)
				override[i] = eq + 1;
		break;
	default:
		break;		/* -A -B -h -L -N -p -R -V -X: ignored */
	}
}

/* Parse sendmail's options: letters may be grouped, an argument may be
 * attached (-FCronDaemon) or the next word (-F CronDaemon); options end
 * at the first operand or at "--".  Returns the index of the first
 * recipient. */
static int
options(int argc, char **argv)
{
	const char *p;
	int i;

	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || p[1] == '\0')
			break;
		if (strcmp(p, "--") == 0)
			return i + 1;
		for (p++; *p != '\0'; p++) {
			if (*p == 'i')
				iflag = 1;
			else if (*p == 't')
				tflag = 1;
			else if (strchr("GmnUv", *p) != NULL)
				continue;	/* ignored */
			else if (*p == 'q') {
				qflag = 1;	/* -q30m: the interval is cron's */
				break;
			} else if (strchr("ABbCFfhLNOopRrVX", *p) != NULL) {
				if (p[1] != '\0')
					option(*p, p + 1);
				else if (i + 1 < argc)
					option(*p, argv[++i]);
				else
					usage();
				break;
			} else
				usage();
		}
	}
	return i;
}

/* A setting: -O, else the identity's section, else the global value. */
static const char *
setting(int k, const char *id, const char *dflt)
{
	const char *v = override[k];

	if (v == NULL)
		v = nym_conf_iget(id, keyname[k]);
	return v != NULL ? v : dflt;
}

/* Let helper programs be found next to this one too: cron runs us with
 * PATH=/usr/bin:/bin, and nymbox may live in /usr/local/bin. */
static void
addpath(void)
{
	static char self[PATH_MAX], path[PATH_MAX * 2];
	const char *old = getenv("PATH");
	char *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	if (old == NULL || *old == '\0')
		old = "/usr/bin:/bin";
	if ((size_t)snprintf(path, sizeof path, "%s:%s", old,
	    *self != '\0' ? self : "/") < sizeof path)
		setenv("PATH", path, 1);
}

/* Split s on blanks into argv (at most max words, NULL ended); the
 * words point into s.  Returns the count, -1 if there are too many. */
static int
words(char *s, char **argv, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == max)
			return -1;
		argv[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	argv[n] = NULL;
	return (int)n;
}

/* pipe(2) with both ends closed on exec, so that each command holds
 * only the ends it was given. */
static int
cpipe(int p[2])
{
	if (pipe(p) == -1)
		return -1;
	if (fcntl(p[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	return 0;
}

/* An unlinked private file in $TMPDIR. */
static int
tmpfile_(void)
{
	const char *tmp;
	int fd;

	if ((fd = nym_tmpfile(&tmp)) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create a file in %s",
		    tmp);
	return fd;
}

/* Without -i, a line of one dot ends the message (and the header). */
static int
dotline(const char *line, size_t len, void *arg)
{
	(void)arg;
	return (len == 1 && line[0] == '.') ||
	    (len == 2 && memcmp(line, ".\n", 2) == 0) ||
	    (len == 3 && memcmp(line, ".\r\n", 3) == 0);
}

/* Is s a dot-atom local part that needs no quoting? */
static int
dotatom(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '.' || *s == '-')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-/=?^_`{|}~.", *p) == NULL)
			return 0;
	return p[-1] != '.' && strstr(s, "..") == NULL;
}

struct rcpts {
	char **a;
	size_t n;
};

/* Add the addresses of the list s[0, len); code is the exit code for a
 * bad one (64 from the command line, 65 from the header). */
static void
addrcpts(struct rcpts *r, const char *s, size_t len, int code)
{
	struct nym_addrlist al = { 0 };
	char buf[NYM_SMTP_PATH];
	size_t i, j;

	if (nym_addr_parse(s, len, &al) == -1)
		nym_die(code, "unable to parse recipient %.*s", (int)(len > 200 ?
		    200 : len), s);
	for (i = 0; i < al.n; i++) {
		if (al.a[i].domain == NULL)
			nym_die(NYM_EX_NOUSER, "unable to send to %s: no "
			    "domain (nymbox delivers no local mail)",
			    al.a[i].local);
		if (al.a[i].kind == NYM_DOM_NONE)
			nym_die(NYM_EX_NOHOST, "unable to send to %s@%s: not "
			    "a valid domain", al.a[i].local, al.a[i].domain);
		if (!dotatom(al.a[i].local) || (size_t)snprintf(buf,
		    sizeof buf, "%s@%s", al.a[i].local, al.a[i].domain) >=
		    sizeof buf - 2)
			nym_die(code, "unable to use recipient %s@%s: the "
			    "address is too long or needs quoting",
			    al.a[i].local, al.a[i].domain);
		for (j = 0; j < r->n; j++)
			if (strcmp(r->a[j], buf) == 0)
				break;
		if (j < r->n)
			continue;
		if (r->n == NYM_SENDMAIL_RCPTS)
			nym_die(code, "unable to send: over %d recipients",
			    NYM_SENDMAIL_RCPTS);
		if (nym_reallocarray(&r->a, r->n + 1, sizeof *r->a) == -1 ||
		    (r->a[r->n] = strdup(buf)) == NULL)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		r->n++;
	}
	nym_addrlist_free(&al);
}

/* The envelope recipients in NYMBOX_RECIPIENTS, separated by spaces, for
 * the chain's pow-stamp -M: a Bcc recipient the mail program gave only as
 * an argument, in no field, gets its stamp too.  At most one more than
 * pow-stamp stamps, so that it refuses a message it cannot stamp whole. */
static void
rcptenv(const struct rcpts *r)
{
	size_t i, len = 0, m = r->n < NYM_POW_STAMPS_MAX + 1 ? r->n :
	    NYM_POW_STAMPS_MAX + 1;
	char *s;

	for (i = 0; i < m; i++)
		len += strlen(r->a[i]) + 1;
	if ((s = malloc(len + 1)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0, len = 0; i < m; i++) {
		if (i > 0)
			s[len++] = ' ';
		memcpy(s + len, r->a[i], strlen(r->a[i]));
		len += strlen(r->a[i]);
	}
	s[len] = '\0';
	if (setenv("NYMBOX_RECIPIENTS", s, 1) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to set NYMBOX_RECIPIENTS");
	free(s);
}

static void
freercpts(struct rcpts *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->a[i]);
	free(r->a);
	r->a = NULL;
	r->n = 0;
}

/* The sender's address from an address (bare or "Name <addr>") in s,
 * into buf; 64 or 78 (code) if it is not one mailbox with a domain. */
static void
mailbox(const char *s, size_t len, char *buf, size_t cap, int code,
    const char *what)
{
	struct nym_addrlist al = { 0 };

	if (nym_addr_parse(s, len, &al) == -1 || al.n == 0 ||
	    al.a[0].domain == NULL || al.a[0].kind == NYM_DOM_NONE ||
	    !dotatom(al.a[0].local) || (size_t)snprintf(buf, cap, "%s@%s",
	    al.a[0].local, al.a[0].domain) >= cap - 2)
		nym_die(code, "unable to use sender %.*s from %s: not an "
		    "address with a domain", (int)(len > 200 ? 200 : len), s,
		    what);
	nym_addrlist_free(&al);
}

/* "From: name <addr>" with the name quoted, or RFC 2047 encoded (as
 * UTF-8) when it is not printable ASCII. */
static void
putfrom(struct nym_out *o, const char *name, const char *addr, int crlf)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char enc[64];
	size_t n, k;
	int ascii = 1;

	nym_out_puts(o, "From: ");
	if (name != NULL && *name != '\0') {
		for (p = (const unsigned char *)name; *p != '\0'; p++)
			if (*p < ' ' || *p > '~')
				ascii = 0;
		if (ascii) {
			nym_out_puts(o, "\"");
			for (p = (const unsigned char *)name; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					nym_out_puts(o, "\\");
				nym_out_write(o, p, 1);
			}
			nym_out_puts(o, "\" ");
		} else {
			/* Q encoded words of about 50 characters, each on a
			 * line of its own, not splitting a UTF-8 character
			 * (unless the bytes are no UTF-8: enc never holds
			 * more than 57); control bytes become spaces. */
			n = 0;
			for (p = (const unsigned char *)name; *p != '\0'; p++) {
				k = *p < ' ' ? ' ' : *p;
				if ((n > 45 && (k & 0xc0) != 0x80) || n > 54) {
					enc[n] = '\0';
					nym_out_puts(o, "=?UTF-8?Q?");
					nym_out_puts(o, enc);
					nym_out_puts(o, crlf ? "?=\r\n " :
					    "?=\n ");
					n = 0;
				}
				if (k < 128 && isalnum((int)k))
					enc[n++] = (char)k;
				else {
					enc[n++] = '=';
					enc[n++] = hex[k >> 4];
					enc[n++] = hex[k & 15];
				}
			}
			enc[n] = '\0';
			nym_out_puts(o, "=?UTF-8?Q?");
			nym_out_puts(o, enc);
			nym_out_puts(o, crlf ? "?=\r\n " : "?=\n ");
		}
	}
	if (name != NULL && *name != '\0')
		nym_out_puts(o, "<");
	nym_out_puts(o, addr);
	if (name != NULL && *name != '\0')
		nym_out_puts(o, ">");
	nym_out_puts(o, crlf ? "\r\n" : "\n");
}

/* Read the message from stdin into an unlinked file: the header with a
 * From: added when it has none (needs the sender, from -f or the
 * configuration), then the body, up to a line of one dot unless -i.
 * Recipients of -t, and the sender if still unknown, come from the
 * header.  Returns the file. */
static int
spool(char *from, size_t fromcap, const char *name, struct rcpts *r)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_in in;
	struct nym_out o;
	struct nym_hdr h = { 0 };
	const char *line;
	uint64_t total;
	ssize_t i, len;
	size_t n, ll;
	int fd, rv, more, bol = 1;

	fd = tmpfile_();
	if (nym_in_open(&in, STDIN_FILENO, NYM_IOBUF) == -1 ||
	    nym_out_open(&o, fd, NYM_IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, iflag ? NULL : dotline,
	    NULL) == -1)
		nym_dieerr(errno == E2BIG ? NYM_EX_DATAERR : NYM_EX_TEMPFAIL,
		    "unable to read the message header");
	if ((i = nym_hdr_find(&h, "from", 0)) >= 0) {
		if (*from == '\0') {
			if ((len = nym_hdr_value(&h, (size_t)i, val,
			    sizeof val)) < 0)
				nym_die(NYM_EX_DATAERR, "unable to read From:");
			mailbox(val, (size_t)len, from, fromcap,
			    NYM_EX_CONFIG, "From:");
		}
	} else if (*from == '\0')
		nym_die(NYM_EX_USAGE, "unable to find the sender: give -f, "
		    "set sender in %s or write a From: field",
		    nym_conf_name());
	for (n = 0; tflag && n < h.nf; n++)
		if (nym_hdr_isrcpt(&h, n)) {
			if ((len = nym_hdr_value(&h, n, val, sizeof val)) < 0)
				nym_die(NYM_EX_DATAERR, "unable to read a "
				    "recipient field");
			addrcpts(r, val, (size_t)len, NYM_EX_DATAERR);
		}

	nym_out_write(&o, h.buf, h.fromlen);
	if (i < 0)
		putfrom(&o, name, from, h.crlf);
	nym_out_write(&o, h.buf + h.fromlen, h.len - h.fromlen);
	if (h.sep)
		nym_out_puts(&o, h.crlf ? "\r\n" : "\n");
	total = o.total;
	nym_hdr_free(&h);
	while ((rv = nym_in_line(&in, &line, &ll, &more)) == 1) {
		if (bol && !more && !iflag && dotline(line, ll, NULL))
			break;
		if ((total += ll) > NYM_SMTP_SIZE)
			nym_die(NYM_EX_DATAERR, "unable to take the message: "
			    "over %d bytes", NYM_SMTP_SIZE);
		nym_out_write(&o, line, ll);
		bol = !more;
	}
	if (rv == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the message");
	if (nym_out_flush(&o) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write the message "
		    "to a temporary file");
	nym_out_close(&o);
	nym_in_close(&in);
	return fd;
}

/* Start argv with stdin from in and stdout to out (-1: ours); out gets
 * a file size limit if fsize > 0.  c->execerr is set if it could not be
 * run: the child reports exec's errno over a close-on-exec pipe, which
 * closes empty when the exec succeeds. */
static void
spawn(struct cmd *c, int in, int out, rlim_t fsize)
{
	struct rlimit rl;
	int ep[2], e = 0;
	ssize_t r;

	c->execerr = 0;
	c->status = 0;
	if (cpipe(ep) == -1 || (c->pid = fork()) == -1) {
		c->execerr = errno;
		c->pid = -1;
		return;
	}
	if (c->pid == 0) {
		close(ep[0]);
		signal(SIGPIPE, SIG_DFL);
		if ((in != STDIN_FILENO && dup2(in, STDIN_FILENO) == -1) ||
		    (out != -1 && dup2(out, STDOUT_FILENO) == -1))
			e = errno;
		rl.rlim_cur = rl.rlim_max = fsize;
		if (e == 0 && fsize > 0 && setrlimit(RLIMIT_FSIZE, &rl) == -1)
			e = errno;
		if (e == 0) {
			execvp(c->argv[0], c->argv);
			e = errno;
		}
		(void)!write(ep[1], &e, sizeof e);
		_exit(127);
	}
	close(ep[1]);
	while ((r = read(ep[0], &e, sizeof e)) == -1 && errno == EINTR)
		;
	if (r == (ssize_t)sizeof e)
		c->execerr = e;
	close(ep[0]);
}

static void
reap(struct cmd *c)
{
	if (c->pid <= 0)
		return;
	while (waitpid(c->pid, &c->status, 0) == -1)
		if (errno != EINTR) {
			c->status = -1;
			break;
		}
}

/* The exit code a sendmail caller understands for a command's exit
 * status: sysexits values pass, except those DESIGN.md forbids (66, 69,
 * 71, 73, 74: temporary or internal); anything else is internal. */
static int
mapexit(int st)
{
	if (st >= 64 && st <= 78) {
		if (st == 69 || st == 71 || st == 73 || st == 74)
			return NYM_EX_TEMPFAIL;
		return st == 66 ? NYM_EX_SOFTWARE : st;
	}
	return st == 0 ? NYM_EX_OK : NYM_EX_SOFTWARE;
}

/* How command c ended, as an exit code, with a message if it failed.
 * *pipe is set if it died of SIGPIPE (cut off by the next command). */
static int
outcome(const struct cmd *c, const char *what, int last, int *sigpipe)
{
	int sig;

	*sigpipe = 0;
	if (c->execerr != 0) {
		nym_warn("unable to run %s: %s", c->argv[0],
		    strerror(c->execerr));
		return c->execerr == ENOENT || c->execerr == EACCES ||
		    c->execerr == ENOTDIR || c->execerr == ENOEXEC ||
		    c->execerr == ELOOP ? NYM_EX_CONFIG : NYM_EX_TEMPFAIL;
	}
	if (c->status == -1) {
		nym_warn("unable to wait for %s", c->argv[0]);
		return NYM_EX_SOFTWARE;
	}
	if (WIFSIGNALED(c->status)) {
		sig = WTERMSIG(c->status);
		if (sig == SIGPIPE) {
			*sigpipe = 1;
			return NYM_EX_SOFTWARE;
		}
		if (sig == SIGXFSZ && last) {
			nym_warn("unable to %s: the output of %s is over %lld "
			    "bytes", what, c->argv[0],
			    (long long)NYM_SMTP_SIZE + NYM_HDR_MAX);
			return NYM_EX_DATAERR;
		}
		nym_warn("unable to %s: %s was killed by signal %d", what,
		    c->argv[0], sig);
		return NYM_EX_TEMPFAIL;
	}
	if (WEXITSTATUS(c->status) != 0)
		nym_warn("unable to %s: %s failed (exit %d)", what, c->argv[0],
		    WEXITSTATUS(c->status));
	return mapexit(WEXITSTATUS(c->status));
}

/* Run the chain with the message in infd and its output to outfd.
 * Returns 0 if every command exited 0, else the exit code.  A command
 * that could not be run is the cause of whatever else failed (those
 * before it see a broken pipe): its code (78, or 75 for a lack of
 * resources).  Otherwise 75 if any failure was temporary, else the first
 * failure in pipeline order, since a failure upstream is what makes the
 * commands after it fail; a command killed by SIGPIPE only counts if
 * nothing else failed. */
static int
runchain(struct cmd *cmd, size_t n, int infd, int outfd)
{
	size_t i;
	int p[2], in = infd, code = NYM_EX_OK, c, cut = 0, sigpipe;
	int notrun = NYM_EX_OK;

	for (i = 0; i < n; i++) {
		p[0] = p[1] = -1;
		if (i + 1 < n && cpipe(p) == -1) {
			cmd[i].pid = -1;
			cmd[i].execerr = errno;
		} else
			spawn(&cmd[i], in, i + 1 < n ? p[1] : outfd,
			    i + 1 < n ? 0 : (rlim_t)NYM_SMTP_SIZE + NYM_HDR_MAX);
		if (in != infd)
			close(in);
		if (p[1] != -1)
			close(p[1]);
		in = p[0];
		if (in == -1 && i + 1 < n) {
			/* No pipe: the rest cannot run. */
			for (i++; i < n; i++)
				cmd[i].pid = -1, cmd[i].execerr = EMFILE;
			break;
		}
	}
	if (in != -1 && in != infd)
		close(in);
	for (i = 0; i < n; i++)
		reap(&cmd[i]);
	for (i = 0; i < n; i++) {
		c = outcome(&cmd[i], "pass the message through the chain",
		    i + 1 == n, &sigpipe);
		if (cmd[i].execerr != 0 && notrun == NYM_EX_OK)
			notrun = c;
		if (sigpipe)
			cut = 1;
		else
			code = nym_worse(code, c);
	}
	if (notrun != NYM_EX_OK)
		return notrun;
	if (code == NYM_EX_OK && cut) {
		nym_warn("unable to pass the message through the chain: a "
		    "command stopped reading it");
		code = NYM_EX_SOFTWARE;
	}
	return code;
}

/* Parse the chain "cmd args | cmd args ..." into cmd (writable copy in
 * buf).  Returns the number of commands. */
static size_t
parsechain(char *buf, struct cmd *cmd)
{
	static char *argvs[NYM_CHAIN_CMDS][NYM_CHAIN_WORDS + 1];
	char *s = buf, *bar;
	size_t n = 0;

	if (strspn(buf, " \t") == strlen(buf))
		return 0;	/* an empty chain: straight to the queue */
	for (;;) {
		if ((bar = strchr(s, '|')) != NULL)
			*bar = '\0';
		if (n == NYM_CHAIN_CMDS)
			nym_die(NYM_EX_CONFIG, "unable to use the chain: over "
			    "%d commands", NYM_CHAIN_CMDS);
		memset(&cmd[n], 0, sizeof cmd[n]);
		cmd[n].argv = argvs[n];
		switch (words(s, cmd[n].argv, NYM_CHAIN_WORDS)) {
		case -1:
			nym_die(NYM_EX_CONFIG, "unable to use the chain: a "
			    "command of over %d words", NYM_CHAIN_WORDS);
		case 0:
			nym_die(NYM_EX_CONFIG, "unable to use the chain: an "
			    "empty command");
		default:
			break;
		}
		n++;
		if (bar == NULL)
			return n;
		s = bar + 1;
	}
}

/* -bp and -q: the queue is queue-run's. */
static void
queuerun(const char *queue)
{
	const char *argv[5];
	int n = 0;

	argv[n++] = "queue-run";
	if (bmode == 'p')
		argv[n++] = "-l";
	if (queue != NULL) {
		argv[n++] = "-q";
		argv[n++] = queue;
	}
	argv[n] = NULL;
	fflush(stdout);
	execvp(argv[0], (char *const *)argv);
	nym_dieerr(errno == ENOENT || errno == EACCES ? NYM_EX_CONFIG :
	    NYM_EX_TEMPFAIL, "unable to run queue-run");
}

int
main(int argc, char *argv[])
{
	static char from[NYM_SMTP_PATH], chainbuf[NYM_LINE_MAX];
	static char delbuf[NYM_LINE_MAX];
	static struct cmd chain[NYM_CHAIN_CMDS], dq;
	struct rcpts r = { NULL, 0 };
	const char *where, *v, *mode, *queue, *name;
	char *del[NYM_CHAIN_WORDS + 1];
	size_t nchain, i, k;
	int first, msgfd, outfd, code, ndel, sigpipe, fromconf = 0;

	nym_start(argc, argv, USAGE);
	first = options(argc, argv);
	/* Sending, it takes mail from a mail program, cron or an MTA: a
	 * set-up mistake must defer it, never bounce it. */
	if (bmode == 'm' && !qflag)
		nym_delivering();
	if (conffile != NULL && setenv("NYMBOX_CONF", conffile, 1) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to use -C %s", conffile);
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	addpath();
	if (bmode == 'i')
		return NYM_EX_OK;	/* newaliases: there are no aliases */
	if (bmode == 'p' || qflag)
		queuerun(setting(K_QUEUE, NULL, NULL));

	/* The sender: -f, $SENDER, the configuration, else From:. */
	if (sender == NULL && (v = getenv("SENDER")) != NULL && *v != '\0')
		sender = v;
	if (sender == NULL && (sender = override[K_SENDER]) == NULL &&
	    (sender = nym_conf_get("sender")) != NULL)
		fromconf = 1;
	if (sender != NULL)
		mailbox(sender, strlen(sender), from, sizeof from, fromconf ?
		    NYM_EX_CONFIG : NYM_EX_USAGE, fromconf ? where :
		    "the command line");
	name = fullname != NULL ? fullname : from[0] != '\0' ?
	    setting(K_NAME, from, NULL) : NULL;
	if (name != NULL && strlen(name) > NYM_SENDMAIL_NAME)
		nym_die(NYM_EX_USAGE, "unable to use the name: over %d bytes",
		    NYM_SENDMAIL_NAME);

	for (i = (size_t)first; i < (size_t)argc; i++)
		addrcpts(&r, argv[i], strlen(argv[i]), NYM_EX_USAGE);
	msgfd = spool(from, sizeof from, name, &r);
	if (r.n == 0)
		nym_die(tflag ? NYM_EX_DATAERR : NYM_EX_USAGE, "unable to send: "
		    "no recipients%s", tflag ? " in To, Cc or Bcc" : "");

	/* The identity's settings. */
	mode = setting(K_MODE, from, "defer");
	if (strcmp(mode, "now") != 0 && strcmp(mode, "defer") != 0 &&
	    strcmp(mode, "batch") != 0)
		nym_die(NYM_EX_CONFIG, "unable to use mode %s: expected now, "
		    "defer or batch", mode);
	queue = setting(K_QUEUE, from, NULL);
	if ((size_t)snprintf(chainbuf, sizeof chainbuf, "%s",
	    setting(K_CHAIN, from, "scrub-headers")) >= sizeof chainbuf ||
	    (size_t)snprintf(delbuf, sizeof delbuf, "%s",
	    setting(K_DELIVERY, from, "")) >= sizeof delbuf)
		nym_die(NYM_EX_CONFIG, "unable to use the chain or delivery: "
		    "over %d bytes", NYM_LINE_MAX);
	nchain = parsechain(chainbuf, chain);
	if ((ndel = words(delbuf, del, NYM_CHAIN_WORDS)) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use the delivery command: "
		    "over %d words", NYM_CHAIN_WORDS);

	if (nchain > 0) {
		outfd = tmpfile_();
		if (lseek(msgfd, 0, SEEK_SET) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to read back the "
			    "message");
		rcptenv(&r);
		code = runchain(chain, nchain, msgfd, outfd);
		(void)unsetenv("NYMBOX_RECIPIENTS");
		if (code != 0) {
			freercpts(&r);
			return nym_exitas(code);	/* nothing was queued */
		}
		close(msgfd);
	} else
		outfd = msgfd;
	if (lseek(outfd, 0, SEEK_SET) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read back the message");

	/*
	 * delay-queue -m MODE [-q QUEUE] -f SENDER RCPT... [-- DELIVERY]:
	 * 8 fixed words at most, the recipients, the delivery words, NULL.
	 */
	if ((dq.argv = calloc(9 + r.n + (size_t)ndel, sizeof *dq.argv)) ==
	    NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	k = 0;
	dq.argv[k++] = (char *)"delay-queue";
	dq.argv[k++] = (char *)"-m";
	dq.argv[k++] = (char *)mode;
	if (queue != NULL) {
		dq.argv[k++] = (char *)"-q";
		dq.argv[k++] = (char *)queue;
	}
	dq.argv[k++] = (char *)"-f";
	dq.argv[k++] = from;
	for (i = 0; i < r.n; i++)
		dq.argv[k++] = r.a[i];
	if (ndel > 0) {
		dq.argv[k++] = (char *)"--";
		for (i = 0; i < (size_t)ndel; i++)
			dq.argv[k++] = del[i];
	}
	dq.argv[k] = NULL;
	fflush(stdout);
	spawn(&dq, outfd, -1, 0);
	reap(&dq);
	close(outfd);
	code = outcome(&dq, "queue the message", 0, &sigpipe);
	if (sigpipe) {
		nym_warn("unable to queue the message: delay-queue was killed "
		    "by SIGPIPE");
		code = NYM_EX_TEMPFAIL;
	}
	freercpts(&r);
	free(dq.argv);
	return nym_exitas(code);
}
