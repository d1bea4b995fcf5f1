/*
 * smtp-submit - submit a message by SMTP with AUTH: the delivery command
 * for postman's smtp.postman.i2p, reached through the local I2PTunnel
 * (127.0.0.1:7659, the default) or over a SAM stream from the login's
 * client key, through the key's one shared session (lib/samclient.c).
 *
 * It logs in with AUTH PLAIN or LOGIN as the sender (postman takes mail
 * only from the address the login owns, so a login for one identity and
 * a sender of another is refused here, before anything links the two),
 * then runs one transaction through the library's client session, the
 * one sam-deliver uses: pipelined when offered, SIZE checked first, Bcc
 * removed, dots stuffed, the message streamed from a file so that memory
 * does not grow with it.  The exit code is sam-deliver's contract: 0,
 * 75 for anything worth retrying, or a permanent code.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "proto.h"
#include "i2p.h"

#define USAGE "usage: smtp-submit [-H host:port | -s destination] " \
	"[-F fd | -P file] [-k key]\n" \
	"                   [-S host:port] [-u login] [-w seconds] " \
	"-f sender [--]\n" \
	"                   recipient ... < message\n"

#define DEFAULT_SERVER	"127.0.0.1:7659"

static int wsec = 120;
static char pw[NYM_SMTP_AUTHLINE / 2];

static void
usage(void)
{
	nym_usage();
}

/* The message as a file: stdin itself when it is a regular file (a
 * queued message), else a copy in an unlinked temporary file.  Either
 * way at most NYM_SMTP_SIZE bytes. */
static int
spool(void)
{
	char buf[NYM_IOBUF];
	const char *tmp;
	struct stat st;
	uint64_t total = 0;
	ssize_t r;
	int fd;

	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(STDIN_FILENO, 0, SEEK_SET) == 0) {
		if ((uint64_t)st.st_size > NYM_SMTP_SIZE)
			nym_die(NYM_EX_DATAERR, "unable to submit the message: "
			    "over %d bytes", NYM_SMTP_SIZE);
		return STDIN_FILENO;
	}
	if ((fd = nym_tmpfile(&tmp)) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create a spool file in "
		    "%s", tmp);
	while ((r = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || nym_write_all(fd, buf, (size_t)r) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to spool the "
			    "message");
		if ((total += (uint64_t)r) > NYM_SMTP_SIZE)
			nym_die(NYM_EX_DATAERR, "unable to submit the message: "
			    "over %d bytes", NYM_SMTP_SIZE);
	}
	return fd;
}

/* Add the addresses in s (an address or a list) to the recipients. */
static void
addrcpt(struct nym_smtp_rcpt **rc, size_t *n, const char *s)
{
	const char *why;
	int code;

	if ((code = nym_smtp_addrcpt(rc, n, s, &why)) != NYM_EX_OK)
		nym_die(code == NYM_EX_DATAERR ? NYM_EX_USAGE : code,
		    "unable to submit to %s: %s", s, why);
}

/* Is login the sender address, or its local part (servers whose
 * accounts are named without the domain)? */
static int
ownlogin(const char *login, const char *sender)
{
	size_t local = (size_t)(strrchr(sender, '@') - sender);

	return strcasecmp(login, sender) == 0 || (strlen(login) == local &&
	    strncmp(login, sender, local) == 0);
}


int
main(int argc, char *argv[])
{
	static struct nym_smtp_client c = { .fd = -1 };
	static char host[256], senderbuf[NYM_SMTP_PATH], kpath[PATH_MAX];
	struct nym_smtp_rcpt *rc = NULL;
	struct nym_samaddr sa;
	struct nym_sam s;
	struct nym_hold hold;
	const char *keyarg = NULL, *where, *v, *sender = NULL, *server = NULL, *dest = NULL;
	const char *login = NULL, *pwfile = NULL, *pwfd = NULL, *colon;
	const char *port, *hostarg = NULL;
	long portnum;
	char why[700];
	size_t n = 0, i;
	int ch, fd, msgfd, code, ret = NYM_EX_OK, sam = 0;

	nym_start(argc, argv, USAGE);
	nym_delivering();	/* Postfix's pipe(8), the queue: never bounce */
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	nym_samaddr_init(&sa);
	if ((v = getenv("SENDER")) != NULL && *v != '\0')
		sender = v;
	while ((ch = getopt(argc, argv, "F:f:H:k:P:S:s:u:w:")) != -1) {
		switch (ch) {
		case 'F': pwfd = optarg; break;
		case 'f': sender = optarg; break;
		case 'H': server = hostarg = optarg; break;
		case 'k': keyarg = optarg; break;
		case 'P': pwfile = optarg; break;
		case 'S': nym_samaddr_opt(&sa, optarg); break;
		case 's': dest = optarg; break;
		case 'u': login = optarg; break;
		case 'w':
			wsec = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1,
			    3600);
			break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || (server != NULL && dest != NULL) ||
	    (pwfile != NULL && pwfd != NULL))
		usage();
	if (sender == NULL || nym_smtp_sender(sender, senderbuf,
	    sizeof senderbuf) == -1)
		nym_die(NYM_EX_USAGE, "unable to submit: give the sender's "
		    "address with -f or SENDER (-f '' for a bounce)");
	sender = senderbuf;

	/* Settings of the sender's own [identity] section come first. */
	if (server == NULL && dest == NULL) {
		dest = nym_conf_iget(sender, "smtp-destination");
		server = nym_conf_iget(sender, "smtp-server");
		if (dest != NULL && server != NULL)
			nym_die(NYM_EX_CONFIG, "unable to choose between "
			    "smtp-server and smtp-destination in %s", where);
		if (dest == NULL && server == NULL)
			server = DEFAULT_SERVER;
	}
	if (login == NULL && (login = nym_conf_iget(sender, "smtp-login")) ==
	    NULL)
		login = sender;
	/* A bounce has no sender whose login it could be: it goes out
	 * under the login given, which must be given. */
	if (*login == '\0')
		nym_die(NYM_EX_CONFIG, "unable to submit a bounce (the null "
		    "sender): give the login with -u, or set smtp-login in %s",
		    nym_conf_name());
	if (*sender != '\0' && !ownlogin(login, sender))
		nym_die(NYM_EX_CONFIG, "unable to log in as %s: the login "
		    "must be the sender address %s or its local part", login,
		    sender);
	if (pwfile == NULL && pwfd == NULL)
		pwfile = nym_conf_iget(sender, "smtp-password-file");
	for (i = 0; i < (size_t)argc; i++)
		addrcpt(&rc, &n, argv[i]);
	/* Over SAM: the login's client key, never a mail domain's, and the
	 * key's one session, shared with pop-fetch and lingering between
	 * runs (lib/samclient.c). */
	if (dest != NULL) {
		if (keyarg == NULL)
			keyarg = nym_conf_iget(sender, "client-key");
		if ((code = nym_client_hold(&hold, &sa, keyarg, login,
		    wsec * 1000, kpath, sizeof kpath, why, sizeof why)) !=
		    NYM_EX_OK)
			nym_die(code, "%s", why);
	}

	msgfd = spool();
	(void)mlock(pw, sizeof pw);
	if (nym_password(pwfile, pwfd != NULL ? (int)nym_num(NYM_EX_USAGE, "-F",
	    pwfd, 0, INT_MAX) : -1, login, pw, sizeof pw) == -1) {
		if (errno == ENXIO)
			nym_die(NYM_EX_CONFIG, "unable to read the password: "
			    "no terminal; use -P or -F, or set "
			    "smtp-password-file");
		if (pwfile != NULL)
			nym_die(NYM_EX_CONFIG, "unable to read password file "
			    "%s: %s", pwfile, nym_secretwhy(pwfile, errno, why,
			    sizeof why));
		nym_dieerr(NYM_EX_CONFIG, "unable to read the password");
	}

	if (dest != NULL) {
		sam = 1;
		where = dest;
		if ((code = nym_sam_dial(&s, &hold, dest, &fd, why,
		    sizeof why)) != NYM_EX_OK) {
			explicit_bzero(pw, sizeof pw);
			nym_die(code, "%s", why);
		}
	} else {
		/* From -H a usage error, from the configuration a set-up
		 * mistake (which defers the message). */
		code = server == hostarg ? NYM_EX_USAGE : NYM_EX_CONFIG;
		snprintf(why, sizeof why, "%s%s", server == hostarg ? "" :
		    " in ", server == hostarg ? "" : nym_conf_name());
		where = server;
		if ((colon = strrchr(server, ':')) == NULL || colon == server ||
		    (size_t)(colon - server) >= sizeof host ||
		    nym_tolong(colon + 1, 1, 65535, &portnum) == -1)
			nym_die(code, "unable to use server %s%s: expected "
			    "host:port", server, why);
		snprintf(host, sizeof host, "%.*s", (int)(colon - server),
		    server);
		if (nym_hiddenname(host))
			nym_die(code, "unable to use server %s%s: .i2p and "
			    ".onion names are never looked up here (DNS would "
			    "learn them); give the I2P tunnel's address, e.g. "
			    "127.0.0.1:7659, or the destination with -s",
			    server, why);
		port = colon + 1;
		if ((fd = nym_tcp_connect(host, port, wsec * 1000)) == -1) {
			explicit_bzero(pw, sizeof pw);
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to connect to %s",
			    server);
		}
	}
	code = nym_smtp_start(&c, fd, wsec * 1000, "localhost");
	if (code != NYM_EX_OK && dest != NULL && c.err == ETIMEDOUT)
		nym_sam_stale(&s);	/* a stream that said nothing */
	if (code == NYM_EX_OK && (code = nym_smtp_auth(&c, login, pw)) !=
	    NYM_EX_OK) {
		explicit_bzero(pw, sizeof pw);
		nym_die(code, "unable to log in to %.60s as %s: %s", where,
		    login, c.why);
	}
	explicit_bzero(pw, sizeof pw);
	if (code != NYM_EX_OK)
		nym_die(code, "unable to submit to %.60s: %s", where, c.why);

	nym_smtp_send(&c, sender, rc, n, msgfd);
	nym_smtp_quit(&c, 1);
	for (i = 0; i < n; i++) {
		if (rc[i].code != NYM_EX_OK)
			nym_warn("unable to deliver to %s: %s", rc[i].addr,
			    rc[i].why);
		ret = nym_worse(ret, rc[i].code);
	}
	if (sam)
		nym_sam_release(&s);
	free(rc);
	close(msgfd);
	return ret;
}
