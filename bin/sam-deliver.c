/*
 * sam-deliver - deliver mail by SMTP over I2P SAM streams.
 *
 * The sender's identity on I2P is a destination: a persistent key per
 * sender address, created on first use, so that receivers can check the
 * stream's origin against the key the sender's domain publishes.  The
 * key's one SAM session serves the lookups and every stream, shared by
 * every process sending with it and kept by a holder between deliveries
 * (lib/samshare.c): creating a session costs i2pd 2.45.1 twenty seconds,
 * an SMTP transaction over an open one well under a second.
 * The message is spooled once to an unlinked file, so memory does not
 * grow with it however many destinations it goes to.  Exit codes follow
 * sendmail's contract: 0, 75 for anything worth retrying, or a
 * permanent code an MTA turns into a bounce.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"
#include "i2p.h"

#define USAGE "usage: sam-deliver [-Bt] [-f sender] [-k keyfile] " \
	"[-l seconds] [-o options] [-r relay] [-S host:port] [-w seconds] " \
	"[recipient ...] < message\n"

static int Bflag, tflag;
static int wsec = 120;

static void
usage(void)
{
	nym_usage();
}

/* An SMTP session over a stream, kept open across the messages of a
 * batch that go to the same destination: a new stream and greeting per
 * message would cost more round trips than the message itself. */
struct conn {
	struct nym_smtp_client c;	/* c.fd -1: none */
	char dest[NYM_DEST_MAX];
};

static void
hangup(struct conn *c)
{
	nym_smtp_quit(&c->c, 1);
	c->dest[0] = '\0';
}

/* Connect to dest and get through the greeting and EHLO (or HELO), with
 * a name that says nothing. */
static int
dial(struct conn *c, struct nym_sam *s, const char *dest, char *why,
    size_t cap, int *code)
{
	int res, fd;

	if (c->c.fd != -1 && strcmp(c->dest, dest) == 0)
		return 0;
	hangup(c);
	res = nym_sam_connect(s, dest, &fd);
	if (res != NYM_SAM_OK) {
		snprintf(why, cap, "unable to reach the mail server: %s",
		    res == -1 ? strerror(errno) : nym_sam_resultname(res));
		*code = NYM_EX_TEMPFAIL;
		return -1;
	}
	if ((*code = nym_smtp_start(&c->c, fd, wsec * 1000, "localhost")) !=
	    NYM_EX_OK) {
		/* A stream that opened and then said nothing: stale
		 * router state for the peer, which only a new session of
		 * ours clears (nym_sam_stale). */
		if (c->c.err == ETIMEDOUT)
			nym_sam_stale(s);
		snprintf(why, cap, "%s", c->c.why);
		return -1;
	}
	snprintf(c->dest, sizeof c->dest, "%s", dest);
	return 0;
}

/* One SMTP transaction to dest for the recipients in rc (those with
 * code -1), the message read from msgfd. */
static void
transact(struct conn *c, struct nym_sam *s, const char *dest,
    const char *sender, struct nym_smtp_rcpt *rc, size_t n, int msgfd)
{
	char why[512];
	int code;

	if (dial(c, s, dest, why, sizeof why, &code) == -1) {
		nym_smtp_failall(rc, n, code, why);
		return;
	}
	nym_smtp_send(&c->c, sender, rc, n, msgfd);
	if (c->c.fd == -1)
		c->dest[0] = '\0';
}

/* Deliver msgfd to every recipient: resolve each domain, then one
 * transaction per destination. */
static void
deliver(struct conn *c, struct nym_sam *s, struct nym_resolver *res,
    const char *sender, struct nym_smtp_rcpt *rc, size_t n, int msgfd)
{
	struct nym_maildest d, e;
	size_t i, j;
	int r;

	for (i = 0; i < n; i++) {
		if (rc[i].code != -1)
			continue;
		r = nym_resolve(res, rc[i].domain, &d);
		if (r != 0) {
			for (j = i; j < n; j++)
				if (rc[j].code == -1 &&
				    strcmp(rc[j].domain, rc[i].domain) == 0) {
					rc[j].code = r == 1 ? NYM_EX_NOHOST :
					    NYM_EX_TEMPFAIL;
					snprintf(rc[j].why, sizeof rc[j].why,
					    "%s", res->why);
				}
			continue;
		}
		if (d.stale)
			nym_warn("warning: %s unreachable (%s); using the "
			    "cached destination", rc[i].domain, res->why);
		if (d.transport == NYM_TR_TOR) {
			rc[i].code = NYM_EX_NOHOST;
			snprintf(rc[i].why, sizeof rc[i].why, "onion "
			    "recipients are not delivered over I2P");
			continue;
		}
		/* Everyone else whose domain goes to the same destination
		 * joins this transaction; the others wait (code -2). */
		for (j = i + 1; j < n; j++) {
			if (rc[j].code != -1)
				continue;
			if (strcmp(rc[j].domain, rc[i].domain) == 0)
				continue;
			if (nym_resolve(res, rc[j].domain, &e) != 0 ||
			    strcmp(e.dest, d.dest) != 0)
				rc[j].code = -2;
		}
		transact(c, s, d.dest, sender, rc + i, n - i, msgfd);
		for (j = i; j < n; j++)
			if (rc[j].code == -2)
				rc[j].code = -1;
	}
}

static int
report(struct nym_smtp_rcpt *rc, size_t n, const char *what)
{
	size_t i;
	int ret = NYM_EX_OK;

	for (i = 0; i < n; i++) {
		if (rc[i].code != NYM_EX_OK)
			nym_warn("unable to deliver %s%sto %s: %s", what,
			    *what != '\0' ? " " : "", rc[i].addr, rc[i].why);
		ret = nym_worse(ret, rc[i].code);
	}
	return ret;
}

/* Add an address (local@domain, domain lower-cased) to the list. */
static void
addrcpt(struct nym_smtp_rcpt **rc, size_t *n, const char *s)
{
	const char *why;
	int code;

	if ((code = nym_smtp_addrcpt(rc, n, s, &why)) != NYM_EX_OK)
		nym_die(code, "unable to deliver to %s: %s", s, why);
}

/* -t: the To, Cc and Bcc addresses of the spooled message. */
static void
headerrcpts(int fd, struct nym_smtp_rcpt **rc, size_t *n)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_in in;
	struct nym_hdr h = { 0 };
	size_t i;
	ssize_t len;

	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    nym_in_open(&in, fd, NYM_IOBUF) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the spool");
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, NULL, NULL) == -1)
		nym_dieerr(errno == E2BIG ? NYM_EX_DATAERR : NYM_EX_TEMPFAIL,
		    "unable to read the message header");
	for (i = 0; i < h.nf; i++)
		if (nym_hdr_isrcpt(&h, i)) {
			if ((len = nym_hdr_value(&h, i, val, sizeof val)) < 0)
				nym_die(NYM_EX_DATAERR, "unable to read a "
				    "recipient field");
			if (len > 0)
				addrcpt(rc, n, val);
		}
	nym_hdr_free(&h);
	nym_in_close(&in);
}

/* Copy stdin into an unlinked temporary file. */
static int
spool(void)
{
	char path[PATH_MAX], buf[NYM_IOBUF];
	const char *tmp = getenv("TMPDIR");
	ssize_t r;
	int fd;

	snprintf(path, sizeof path, "%s/sam-deliver.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create a spool file in "
		    "%s", tmp != NULL ? tmp : "/tmp");
	unlink(path);
	while ((r = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || nym_write_all(fd, buf, (size_t)r) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to spool the "
			    "message");
	}
	return fd;
}

/* The sender's key file: one per sender domain, the destination that
 * domain publishes in its i2pmail.key, so receivers can verify it, and
 * that no other identity shares. */
static void
keypath(const char *sender, char *buf, size_t cap)
{
	char dir[PATH_MAX], name[NYM_SMTP_DOMAIN + 1];
	const char *dom = strrchr(sender, '@') + 1;
	size_t i;

	if (nym_confdir(dir, sizeof dir) == -1)
		nym_die(NYM_EX_CONFIG, "unable to find the key directory: set "
		    "HOME or use -k");
	for (i = 0; dom[i] != '\0' && i + 1 < sizeof name; i++) {
		char c = (char)tolower((unsigned char)dom[i]);

		name[i] = isalnum((unsigned char)c) || c == '.' || c == '-' ?
		    c : '_';
	}
	name[i] = '\0';
	if (name[0] == '.' || name[0] == '\0' ||
	    (size_t)snprintf(buf, cap, "%s/keys/%s.key", dir, name) >= cap)
		nym_die(NYM_EX_USAGE, "unable to use sender %s", sender);
}

/* Whose key sends for sender: its own, or for the null sender of a
 * bounce (which has no domain) the configured identity's, sender = in
 * the configuration; else there is no telling, and -k must say. */
static const char *
keysender(const char *sender)
{
	static char buf[NYM_SMTP_PATH];
	struct nym_addrlist al = { 0 };
	const char *v;
	int ok;

	if (*sender != '\0')
		return sender;
	ok = (v = nym_conf_get("sender")) != NULL &&
	    nym_addr_parse(v, strlen(v), &al) == 0 && al.n == 1 &&
	    al.a[0].domain != NULL && (size_t)snprintf(buf, sizeof buf,
	    "%s@%s", al.a[0].local, al.a[0].domain) < sizeof buf;
	nym_addrlist_free(&al);
	if (!ok)
		nym_die(NYM_EX_CONFIG, "unable to choose a key for the null "
		    "sender of a bounce: give -k, or set sender = ADDRESS in "
		    "%s", nym_conf_name());
	return buf;
}

/* -B: lines "FILE RECIPIENT..." on stdin, one message each, all from one
 * sender over one session; "FILE CODE [REASON]" on stdout for each. */
static int
batch(struct conn *c, struct nym_sam *s, struct nym_resolver *res,
    const char *sender)
{
	char line[NYM_LINE_MAX * 4], *file, *w, *save = NULL;
	struct nym_smtp_rcpt *rc = NULL;
	size_t n, i;
	int fd, code, ret = NYM_EX_OK;

	while (fgets(line, sizeof line, stdin) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(stdin))
			nym_die(NYM_EX_DATAERR, "unable to read the batch: line "
			    "over %zu bytes", sizeof line);
		if ((file = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		n = 0;
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			addrcpt(&rc, &n, w);
		if (n == 0 || (fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
			code = n == 0 ? NYM_EX_USAGE : NYM_EX_TEMPFAIL;
			printf("%s %d %s\n", file, code, n == 0 ?
			    "no recipients" : strerror(errno));
			ret = nym_worse(ret, code);
			continue;
		}
		deliver(c, s, res, sender, rc, n, fd);
		close(fd);
		code = report(rc, n, file);
		printf("%s %d", file, code);
		for (i = 0; i < n; i++)
			printf(" %s=%d", rc[i].addr, rc[i].code);
		putchar('\n');
		fflush(stdout);
		ret = nym_worse(ret, code);
	}
	free(rc);
	if (ferror(stdin))
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the batch");
	return ret;
}

int
main(int argc, char *argv[])
{
	static char kpath[PATH_MAX], relayhost[256];
	static char senderbuf[NYM_SMTP_PATH];
	static struct conn conn = { .c = { .fd = -1 } };
	struct nym_resolver res = { 0 };
	struct nym_sam s;
	struct nym_smtp_rcpt *rc = NULL;
	struct nym_samaddr sa;
	const char *where, *v, *sender = NULL;
	const char *keyarg = NULL, *relayarg;
	struct nym_hold hold;
	char cachedir[PATH_MAX], why[700];
	size_t n = 0;
	int c, i, r, msgfd = -1, ret, linger = -1;

	nym_start(argc, argv, USAGE);
	nym_delivering();	/* Postfix's pipe(8), the queue: never bounce */
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	nym_samaddr_init(&sa);
	relayarg = nym_conf_get("relay");
	if ((v = getenv("SENDER")) != NULL && *v != '\0')
		sender = v;
	while ((c = getopt(argc, argv, "Bf:k:l:o:r:S:tw:")) != -1) {
		switch (c) {
		case 'B': Bflag = 1; break;
		case 'f': sender = optarg; break;
		case 'k': keyarg = optarg; break;
		case 'l':
			linger = (int)nym_num(NYM_EX_USAGE, "-l", optarg, 0,
			    86400);
			break;
		case 'o': sa.opts = optarg; break;
		case 'r': relayarg = optarg; break;
		case 'S': nym_samaddr_opt(&sa, optarg); break;
		case 't': tflag = 1; break;
		case 'w':
			wsec = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1,
			    3600);
			break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((Bflag && (tflag || argc > 0)) || (!Bflag && !tflag &&
	    argc == 0))
		usage();
	if (sender == NULL || nym_smtp_sender(sender, senderbuf,
	    sizeof senderbuf) == -1)
		nym_die(NYM_EX_USAGE, "unable to deliver: give the sender's "
		    "address with -f or SENDER (-f '' for a bounce)");
	sender = senderbuf;
	if (keyarg == NULL) {
		keypath(keysender(sender), kpath, sizeof kpath);
		keyarg = kpath;
	}
	if (!Bflag) {
		for (i = 0; i < argc; i++)
			addrcpt(&rc, &n, argv[i]);
		msgfd = spool();
		if (tflag)
			headerrcpts(msgfd, &rc, &n);
		if (n == 0)
			nym_die(NYM_EX_DATAERR, "unable to deliver: no "
			    "recipients");
	}

	/* The key's one session: borrowed from whoever holds it (sam-accept,
	 * or a holder an earlier sam-deliver started), else a holder started
	 * now, which lingers for the next deliveries (lib/samshare.c). */
	if (nym_hold_init(&hold, keyarg, &sa, wsec * 1000, why, sizeof why) ==
	    -1)
		nym_die(NYM_EX_CONFIG, "%s", why);
	if (linger >= 0)
		hold.linger = linger;
	hold.what = "the sender's key";
	if ((r = nym_sam_acquire(&s, &hold, why, sizeof why)) != NYM_EX_OK)
		nym_die(r, "%s", why);

	res.sam = &s;
	res.samhost = sa.host;
	res.samport = sa.port;
	res.ms = wsec * 1000;
	res.maxage = 86400;
	res.now = nym_now();
	if (relayarg != NULL) {
		const char *colon = strrchr(relayarg, ':');

		snprintf(relayhost, sizeof relayhost, "%.*s", (int)(colon !=
		    NULL ? colon - relayarg : (long)strlen(relayarg)),
		    relayarg);
		res.relay = relayhost;
		res.relayport = 25;
		if (colon != NULL && relayarg == nym_conf_get("relay"))
			res.relayport = (int)nym_num(NYM_EX_CONFIG,
			    "relay port",
			    colon + 1, 1, 65535);
		else if (colon != NULL)
			res.relayport = (int)nym_num(NYM_EX_USAGE, "relay port",
			    colon + 1, 1, 65535);
	}
	if ((v = nym_conf_get("cache-dir")) != NULL)
		snprintf(cachedir, sizeof cachedir, "%s", v);
	else if (nym_confdir(cachedir, sizeof cachedir) == 0 &&
	    strlen(cachedir) + sizeof "/maildest" < sizeof cachedir)
		strcat(cachedir, "/maildest");
	else
		cachedir[0] = '\0';
	res.cachedir = cachedir[0] != '\0' ? cachedir : NULL;

	if (Bflag)
		ret = batch(&conn, &s, &res, sender);
	else {
		deliver(&conn, &s, &res, sender, rc, n, msgfd);
		ret = report(rc, n, "");
		close(msgfd);
	}
	hangup(&conn);
	free(rc);
	nym_resolver_close(&res);
	nym_sam_release(&s);
	if (fflush(stdout) == EOF || ferror(stdout))
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write the results");
	return ret;
}
