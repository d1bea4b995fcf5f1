/*
 * delay-queue - put a message in the delay queue, due now, after a random
 * delay, or at the next batch time.
 *
 * Sending at the moment you are online tells an observer that you are
 * online; postman.i2p offers three delay modes, and this is them on the
 * sender's own machine.  The header is read and checked first, then the
 * record (envelope, delivery command, due time) and the message are
 * written into one file in the queue's tmp/ directory and committed
 * (lib/queue.c); queue-run(1), from cron, sends it when it is due.  Exit
 * 0 means the message and its record are on disk, synced: the caller may
 * forget the message.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "store.h"

#define USAGE "usage: delay-queue -m now|defer|batch [-q queuedir] " \
	"[-r lo-hi] [-f sender] [-t]\n" \
	"                   [recipient ...] [-- command [arg ...]] < message\n"

static const char **rcpt;
static size_t nrcpt, nonion;	/* recipients, those at .onion domains */

/* Exit code for a queue that cannot be written: the caller retries,
 * unless the queue directory itself is wrong. */
static int
qexit(int e)
{
	return e == EACCES || e == EPERM || e == ENOTDIR || e == ELOOP ||
	    e == ENAMETOOLONG ? NYM_EX_CONFIG : NYM_EX_TEMPFAIL;
}

static void
usage(void)
{
	nym_usage();
}

/* local@domain, or the n bytes at s if domain is NULL, malloc'd. */
static char *
join(const char *local, const char *domain, size_t n)
{
	size_t len = domain != NULL ? strlen(local) + strlen(domain) + 2 :
	    n + 1;
	char *p = malloc(len);

	if (p == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (domain != NULL)
		snprintf(p, len, "%s@%s", local, domain);
	else {
		memcpy(p, local, n);
		p[n] = '\0';
	}
	return p;
}

/* Can addr be handed on as one argument and one SMTP path?  No white
 * space, controls, brackets or quotes, one '@' with something either
 * side, and within the SMTP limits. */
static int
plainaddr(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t i;

	if (at == NULL || at == a || at[1] == '\0' ||
	    strlen(a) + 2 >= NYM_SMTP_PATH ||
	    (size_t)(at - a) > NYM_SMTP_LOCAL ||
	    strlen(at + 1) > NYM_SMTP_DOMAIN)
		return 0;
	for (i = 0; a[i] != '\0'; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == 127 ||
		    strchr("<>\"()[],;:\\", a[i]) != NULL)
			return 0;
	return 1;
}

/* Add the addresses of an address list (an argument or a field). */
static void
addrcpt(const char *s, size_t n)
{
	struct nym_addrlist al = { 0 };
	size_t i, j;
	char *a;

	if (nym_addr_parse(s, n, &al) == -1 || al.n == 0)
		nym_die(NYM_EX_DATAERR, "unable to parse recipient %.*s",
		    (int)(n > 200 ? 200 : n), s);
	for (i = 0; i < al.n; i++) {
		if (al.a[i].domain == NULL || al.a[i].kind == NYM_DOM_NONE)
			nym_die(NYM_EX_NOHOST, "unable to queue for %s: no "
			    "valid domain", al.a[i].local);
		a = join(al.a[i].local, al.a[i].domain, 0);
		if (!plainaddr(a))
			nym_die(NYM_EX_DATAERR, "unable to queue for %.300s: "
			    "not a plain address", a);
		for (j = 0; j < nrcpt; j++)
			if (strcmp(rcpt[j], a) == 0)
				break;
		if (j < nrcpt) {
			free(a);	/* named twice: sent once */
			continue;
		}
		if (nrcpt == NYM_QUEUE_RCPTS)
			nym_die(NYM_EX_DATAERR, "unable to queue: over %d "
			    "recipients", NYM_QUEUE_RCPTS);
		if (nym_reallocarray(&rcpt, nrcpt + 1, sizeof *rcpt) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		rcpt[nrcpt++] = a;
		if (al.a[i].kind == NYM_DOM_ONION)
			nonion++;
	}
	nym_addrlist_free(&al);
}

/* The first mailbox of the From field, for a message without -f. */
static char *
fromfield(const struct nym_hdr *h)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_addrlist al = { 0 };
	char *a = NULL;
	ssize_t i, len;

	if ((i = nym_hdr_find(h, "from", 0)) == -1 ||
	    (len = nym_hdr_value(h, (size_t)i, val, sizeof val)) <= 0 ||
	    nym_addr_parse(val, (size_t)len, &al) == -1)
		return NULL;
	if (al.n > 0 && al.a[0].domain != NULL)
		a = join(al.a[0].local, al.a[0].domain, 0);
	nym_addrlist_free(&al);
	return a;
}

/* Write the message after its record into the queue's file: the header
 * section h as read from in (with the empty line that ended it), what in
 * holds beyond it, then the rest of standard input; at most
 * NYM_QUEUE_SIZE bytes in all. */
static void
copyin(struct nym_afile *a, const char *qdir, const struct nym_hdr *h,
    struct nym_in *in)
{
	/* Without NYM_HDR_FOLD the header keeps every byte it consumed,
	 * but the empty line: LF or CRLF. */
	size_t sep = (size_t)in->off - h->len;
	uint64_t total = in->off + (in->len - in->pos);
	ssize_t r;

	if (total > NYM_QUEUE_SIZE)
		goto big;
	if (nym_write_all(a->fd, h->buf, h->len) == -1 ||
	    nym_write_all(a->fd, sep == 2 ? "\r\n" : "\n", sep) == -1 ||
	    nym_write_all(a->fd, in->buf + in->pos, in->len - in->pos) == -1)
		goto bad;
	while (!in->eof) {
		r = read(STDIN_FILENO, in->buf, in->cap);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			nym_afile_abort(a);
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the message");
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > NYM_QUEUE_SIZE)
			goto big;
		if (nym_write_all(a->fd, in->buf, (size_t)r) == -1)
			goto bad;
	}
	return;
big:
	nym_afile_abort(a);
	nym_die(NYM_EX_DATAERR, "unable to queue the message: over %d bytes",
	    NYM_QUEUE_SIZE);
bad:
	{
		int e = errno;

		nym_afile_abort(a);
		errno = e;
		nym_dieerr(qexit(e), "unable to write the message in %s/tmp",
		    qdir);
	}
}

/* The delivery command from the configuration, split on blanks:
 * delivery, or where it is unset or "auto" (or auto is 1: "-- auto")
 * the command for the recipients' network, delivery-onion (default
 * onion-deliver) when they are at .onion domains, else delivery-i2p
 * (default sam-deliver), so that a user with correspondents on both
 * networks sets nothing per message. */
static size_t
confcmd(int autopick, const char **cmd, char *copy, size_t cap)
{
	const char *v = nym_conf_get("delivery"), *key = "delivery";
	size_t n = 0;
	char *w, *save = NULL;

	if (autopick || v == NULL || *v == '\0' || strcmp(v, "auto") == 0) {
		if (nonion > 0) {
			key = "delivery-onion";
			v = nym_conf_get("delivery-onion");
		} else {
			key = "delivery-i2p";
			v = nym_conf_get("delivery-i2p");
		}
		if (v == NULL || *v == '\0')
			v = nonion > 0 ? "onion-deliver" : "sam-deliver";
	}
	if (strlen(v) >= cap)
		nym_die(NYM_EX_CONFIG, "unable to use %s of %s: too long", key,
		    nym_conf_name());
	memcpy(copy, v, strlen(v) + 1);
	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n == NYM_QUEUE_ARGS)
			nym_die(NYM_EX_CONFIG, "unable to use %s of %s: over "
			    "%d words", key, nym_conf_name(), NYM_QUEUE_ARGS);
		cmd[n++] = w;
	}
	if (n == 0)
		nym_die(NYM_EX_CONFIG, "unable to use %s of %s: no command",
		    key, nym_conf_name());
	return n;
}

int
main(int argc, char *argv[])
{
	static char qdir[PATH_MAX - 64], confcopy[NYM_LINE_MAX];
	static char val[NYM_FIELD_MAX + 1];
	static const char *cmd[NYM_QUEUE_ARGS + 1];
	struct nym_qrec r;
	struct nym_afile a;
	struct nym_hdr h = { 0 };
	struct nym_in in;
	const char *qarg = NULL, *rarg, *sender = NULL, *where, *v;
	char *sendbuf = NULL;
	size_t ncmd = 0, i;
	long lo = 2000, hi = 4000;
	int c, mode = -1, tflag = 0, split, nargs;
	ssize_t len;
	time_t now;

	nym_start(argc, argv, USAGE);
	/* It takes mail from nymbox-sendmail, procmail or an MTA: a set-up
	 * mistake must defer it, never bounce it. */
	nym_delivering();
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	rarg = nym_conf_get("defer-range");
	if (rarg != NULL && nym_queue_range(rarg, &lo, &hi) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use defer-range = %s in %s: "
		    "expected LO-HI seconds", rarg, nym_conf_name());
	if ((v = getenv("SENDER")) != NULL && *v != '\0')
		sender = v;
	/* '+': options first, so that -- stays where it was given. */
	while ((c = getopt(argc, argv, "+f:m:q:r:t")) != -1) {
		switch (c) {
		case 'f': sender = optarg; break;
		case 'm':
			if ((mode = nym_queue_mode(optarg)) == -1)
				nym_die(NYM_EX_USAGE, "unable to use mode %s: "
				    "expected now, defer or batch", optarg);
			break;
		case 'q': qarg = optarg; break;
		case 'r':
			if (nym_queue_range(optarg, &lo, &hi) == -1)
				nym_die(NYM_EX_USAGE, "unable to use -r %s: "
				    "expected LO-HI seconds, at most a year",
				    optarg);
			break;
		case 't': tflag = 1; break;
		default: usage();
		}
	}
	if (mode == -1)
		usage();
	/* Recipients, then the delivery command after "--" (which getopt
	 * has eaten if it came right after the options). */
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0 &&
	    argv[optind - 1] != optarg)
		split = optind;
	else {
		for (split = optind; split < argc; split++)
			if (strcmp(argv[split], "--") == 0)
				break;
		nargs = split;
		if (split < argc)
			split++;
		for (i = (size_t)optind; i < (size_t)nargs; i++)
			addrcpt(argv[i], strlen(argv[i]));
	}
	if (split < argc) {
		if (argc - split > NYM_QUEUE_ARGS)
			nym_die(NYM_EX_USAGE, "unable to use the delivery "
			    "command: over %d words", NYM_QUEUE_ARGS);
		for (; split < argc; split++) {
			if (strlen(argv[split]) >= NYM_LINE_MAX ||
			    strchr(argv[split], '\n') != NULL)
				nym_die(NYM_EX_USAGE, "unable to use the "
				    "delivery command: a word over %d bytes or "
				    "with a line break", NYM_LINE_MAX);
			cmd[ncmd++] = argv[split];
		}
	} else if (argc > 0 && strcmp(argv[argc - 1], "--") == 0 &&
	    argv[argc - 1] != optarg)
		usage();	/* "--" and nothing after it */
	if (ncmd > 0 && *cmd[0] == '\0')
		usage();
	if (sender != NULL) {
		size_t n = strlen(sender);

		if (n >= 2 && sender[0] == '<' && sender[n - 1] == '>') {
			sender = sendbuf = join(sender + 1, NULL, n - 2);
		}
		if (*sender != '\0' && !plainaddr(sender))
			nym_die(NYM_EX_USAGE, "unable to use sender %.300s",
			    sender);
	}

	now = nym_now();
	if (nym_queue_dir(qdir, sizeof qdir, qarg) == -1)
		nym_die(NYM_EX_CONFIG, "unable to find the queue: set HOME or "
		    "use -q");
	if (nym_queue_make(qdir) == -1)
		nym_dieerr(qexit(errno), "unable to create queue %s",
		    qdir);

	/* The header first, in memory: within the limits, and where -t and
	 * From come from; the record goes before the message. */
	if (nym_in_open(&in, STDIN_FILENO, NYM_IOBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, NULL, NULL) == -1) {
		if (errno == E2BIG)
			nym_die(NYM_EX_DATAERR, "unable to queue the message: "
			    "header over the limits");
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the message");
	}
	if (in.off == 0 && in.len == in.pos)
		nym_die(NYM_EX_DATAERR, "unable to queue the message: it is "
		    "empty");
	for (i = 0; tflag && i < h.nf; i++)
		if (nym_hdr_isrcpt(&h, i)) {
			if ((len = nym_hdr_value(&h, i, val, sizeof val)) < 0)
				nym_die(NYM_EX_DATAERR, "unable to read a "
				    "recipient field");
			if (len > 0)
				addrcpt(val, (size_t)len);
		}
	if (sender == NULL && (sender = sendbuf = fromfield(&h)) != NULL &&
	    !plainaddr(sender))
		sender = NULL;
	if (sender == NULL)
		nym_die(NYM_EX_USAGE, "unable to queue the message: give the "
		    "sender with -f or SENDER, or a From field");
	if (nrcpt == 0)
		nym_die(NYM_EX_USAGE, "unable to queue the message: no "
		    "recipients");
	/* One message, one network: the same text on I2P and on Tor would
	 * tie the sender's two identities together, and no deliverer
	 * speaks both. */
	if (nonion > 0 && nonion < nrcpt)
		nym_die(NYM_EX_DATAERR, "unable to queue the message: it has "
		    ".onion and other recipients; send one message to each "
		    "network");
	if (ncmd == 0 || (ncmd == 1 && strcmp(cmd[0], "auto") == 0))
		ncmd = confcmd(ncmd == 1, cmd, confcopy, sizeof confcopy);

	memset(&r, 0, sizeof r);
	r.mode = mode;
	r.state = NYM_QS_QUEUED;
	r.queued = now;
	if ((r.due = nym_queue_due(mode, now, lo, hi)) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to draw the delay");
	r.sender = sender;
	r.rcpt = rcpt;
	r.nrcpt = nrcpt;
	r.argv = cmd;
	r.argc = ncmd;
	if (nym_queue_begin(qdir, &r, &a) == -1)
		nym_dieerr(qexit(errno), "unable to write the message in "
		    "%s/tmp", qdir);
	copyin(&a, qdir, &h, &in);
	nym_hdr_free(&h);
	nym_in_close(&in);
	if (nym_queue_put(qdir, &a, &r) == -1)
		nym_dieerr(qexit(errno), "unable to queue the message "
		    "in %s", qdir);
	for (i = 0; i < nrcpt; i++)
		free((char *)rcpt[i]);
	free(rcpt);
	free(sendbuf);
	return NYM_EX_OK;
}
