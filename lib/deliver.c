/*
 * deliver.c - the front end every delivering program shares
 * (sam-deliver over I2P, onion-deliver over Tor).
 *
 * What a deliverer does is the same whatever carries its SMTP: take the
 * envelope (-f or SENDER, the null sender of a bounce, recipients as
 * arguments or with -t from To/Cc/Bcc), spool the message once to an
 * unlinked file so that memory does not grow with it, group the
 * recipients by destination, speak SMTP to each destination once (a
 * recipient with a Bcc stamp of pow-stamp -M has a transaction of its
 * own on that session, nym_smtp_send), and report with sendmail's exit
 * codes.  In batch mode (-B) it reads
 * "FILE RECIPIENT..." lines and keeps each destination's session open
 * from one message to the next (up to NYM_DL_SESSIONS at once, the least
 * recently used closed first; RSET before every message but a
 * session's first, pipelined with MAIL when the server offers
 * PIPELINING, nym_smtp_send), so a queue flush (queue-run hands all
 * of a destination's due messages to one -B process, one at a time over
 * a socket as it prepares them, nextline()) pays one stream or circuit
 * and one greeting per destination, not per message.  Only two things
 * differ by transport:
 * what destination a recipient's domain means, and how a connected
 * socket to it is had; the program gives them as a struct
 * nym_dl_transport.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"

void
nym_dl_init(struct nym_dl *d, const struct nym_dl_transport *tr, int ms)
{
	size_t i;

	memset(d, 0, sizeof *d);
	d->tr = tr;
	d->ms = ms;
	for (i = 0; i < NYM_DL_SESSIONS; i++)
		d->s[i].c.fd = -1;
	d->msgfd = -1;
}

/* Close the session of s (QUIT if polite) and let the transport free
 * what it keeps for it; s->c may have been closed already. */
static void
hangup(const struct nym_dl *d, struct nym_dl_session *s, int polite)
{
	nym_smtp_quit(&s->c, polite);
	if (s->ctx != NULL && d->tr->end != NULL)
		d->tr->end(d->tr->arg, s->ctx);
	s->ctx = NULL;
	s->dest[0] = '\0';
}

/* Is the session of s still there?  A server that has hung up on an idle
 * session (or said 421 first) left something to read. */
static int
alive(struct nym_dl_session *s)
{
	struct pollfd p = { .fd = s->c.fd, .events = POLLIN };

	return s->c.in.pos == s->c.in.len && poll(&p, 1, 0) == 0;
}

/* The session to dest: the open one, if it is still there, else a new
 * one in a free place or that of the least recently used, through the
 * greeting and EHLO (or HELO) with a name that says nothing.  NULL with
 * *code and why if it cannot be had. */
static struct nym_dl_session *
dial(struct nym_dl *d, const char *dest, char *why, size_t cap, int *code)
{
	struct nym_dl_session *s = NULL;
	size_t i;
	int fd;

	for (i = 0; i < NYM_DL_SESSIONS; i++) {
		if (d->s[i].c.fd == -1 || strcmp(d->s[i].dest, dest) != 0)
			continue;
		if (alive(&d->s[i])) {
			d->s[i].used = ++d->tick;
			return &d->s[i];
		}
		s = &d->s[i];
		hangup(d, s, 0);
		break;
	}
	for (i = 0; s == NULL && i < NYM_DL_SESSIONS; i++)
		if (d->s[i].c.fd == -1)
			s = &d->s[i];
	if (s == NULL) {
		s = &d->s[0];
		for (i = 1; i < NYM_DL_SESSIONS; i++)
			if (d->s[i].used < s->used)
				s = &d->s[i];
	}
	hangup(d, s, 1);
	*code = NYM_EX_TEMPFAIL;
	if ((fd = d->tr->dial(d->tr->arg, dest, code, why, cap)) == -1)
		return NULL;
	if ((*code = nym_smtp_start(&s->c, fd, d->ms, "localhost")) !=
	    NYM_EX_OK) {
		if (s->c.err == ETIMEDOUT && d->tr->stale != NULL)
			d->tr->stale(d->tr->arg);
		snprintf(why, cap, "%s", s->c.why);
		return NULL;
	}
	if (d->tr->start != NULL && (*code = d->tr->start(d->tr->arg, dest,
	    &s->c, &s->ctx, why, cap)) != NYM_EX_OK) {
		hangup(d, s, 0);
		return NULL;
	}
	snprintf(s->dest, sizeof s->dest, "%s", dest);
	s->used = ++d->tick;
	return s;
}

/* Give every pending recipient from i on whose domain is rc[i]'s this
 * outcome. */
static void
faildomain(struct nym_smtp_rcpt *rc, size_t n, size_t i, int code,
    const char *why)
{
	size_t j;
	const char *dom = rc[i].domain;

	for (j = n; j-- > i;)
		if (rc[j].code == -1 && strcmp(rc[j].domain, dom) == 0) {
			rc[j].code = code;
			snprintf(rc[j].why, sizeof rc[j].why, "%s", why);
		}
}

/* Learn the demand of the domains of the pending recipients from i on
 * for the next message's stamps (pow-stamp -M; the queue mints before
 * sending): what the EHLO reply of their session s says (X-STAMP), or
 * nothing any more if it says nothing. */
static void
learn(const struct nym_dl_session *s, const struct nym_smtp_rcpt *rc,
    size_t n, size_t i)
{
	const char *x = s->c.x.stamp;
	size_t j;

	for (j = i; j < n; j++) {
		if (rc[j].code != -1)
			continue;
		if (*x != '\0')
			(void)nym_demand_save(rc[j].domain, x, strlen(x));
		else
			(void)nym_demand_forget(rc[j].domain);
	}
}

/* A refusal that states what a recipient demands ("Stamp needed for
 * ADDR: X-Hashcash DEMAND", smtp-receive's for a recipient's own demand
 * or the server's) is kept for that address, which pow-stamp -M prefers
 * to its domain's; the recipients from i on whose reply said one (a
 * reply kept whole: smtp.c cuts one 16 bytes short of why's size). */
static void
said(const struct nym_smtp_rcpt *rc, size_t n, size_t i)
{
	char addr[NYM_SMTP_PATH], dem[NYM_POW_DEMAND_MAX + 1];
	size_t j;

	for (j = i; j < n; j++)
		if (rc[j].code > 0 && strlen(rc[j].why) + 20 < sizeof rc[j].why &&
		    nym_demand_said(rc[j].why, addr, sizeof addr, dem,
		    sizeof dem) == 1 && dem[0] != '\0' &&
		    strcasecmp(addr, rc[j].addr) == 0)
			(void)nym_demand_save(addr, dem, strlen(dem));
}

/* Deliver msgfd to every pending recipient: check the whole list, find
 * each domain's destination (once per domain), let the transport make
 * the message what is sent, then one transaction per destination. */
static void
deliver(struct nym_dl *d, struct nym_smtp_rcpt *rc, size_t n, int msgfd)
{
	const struct nym_dl_transport *tr = d->tr;
	struct nym_dl_session *s;
	char why[NYM_SMTP_TEXT / 8], **dest;
	size_t i, j;
	int code, fd;

	why[0] = '\0';
	if (tr->check != NULL &&
	    (code = tr->check(tr->arg, rc, n, why, sizeof why)) != 0) {
		nym_smtp_failall(rc, n, code, why);
		return;
	}
	if ((dest = calloc(n, sizeof *dest)) == NULL) {
		nym_smtp_failall(rc, n, NYM_EX_TEMPFAIL, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (rc[i].code != -1)
			continue;
		for (j = 0; j < i; j++)
			if (dest[j] != NULL &&
			    strcmp(rc[j].domain, rc[i].domain) == 0)
				break;
		if (j < i) {
			dest[i] = strdup(dest[j]);
		} else {
			d->dest2[0] = '\0';
			code = tr->resolve(tr->arg, rc[i].domain, d->dest2,
			    sizeof d->dest2, why, sizeof why);
			if (code != NYM_EX_OK) {
				faildomain(rc, n, i, code, why);
				continue;
			}
			dest[i] = strdup(d->dest2);
		}
		if (dest[i] == NULL) {
			rc[i].code = NYM_EX_TEMPFAIL;
			snprintf(rc[i].why, sizeof rc[i].why, "%s",
			    strerror(ENOMEM));
		}
	}

	/* The message as the transport sends it (a signature added), if
	 * it goes anywhere. */
	for (i = 0; i < n && (rc[i].code != -1 || dest[i] == NULL); i++)
		;
	fd = msgfd;
	if (tr->message != NULL && i < n) {
		code = NYM_EX_TEMPFAIL;
		if ((fd = tr->message(tr->arg, d->sender, msgfd, &code, why,
		    sizeof why)) == -1) {
			nym_smtp_failall(rc, n, code, why);
			goto done;
		}
	}

	/* One transaction per destination: the others wait (code -2). */
	for (i = 0; i < n; i++) {
		if (rc[i].code != -1 || dest[i] == NULL)
			continue;
		for (j = i + 1; j < n; j++)
			if (rc[j].code == -1 && (dest[j] == NULL ||
			    strcmp(dest[j], dest[i]) != 0))
				rc[j].code = -2;
		if ((s = dial(d, dest[i], why, sizeof why, &code)) == NULL)
			nym_smtp_failall(rc + i, n - i, code, why);
		else {
			learn(s, rc, n, i);
			nym_smtp_send(&s->c, d->sender, rc + i, n - i, fd);
			said(rc, n, i);
			if (s->c.fd == -1)
				s->dest[0] = '\0';
		}
		for (j = i; j < n; j++)
			if (rc[j].code == -2)
				rc[j].code = -1;
	}
	if (fd != msgfd)
		close(fd);
done:
	for (i = 0; i < n; i++)
		free(dest[i]);
	free(dest);
}

/* Warn about each recipient that failed; the message's exit code. */
static int
report(struct nym_smtp_rcpt *rc, size_t n, const char *what)
{
	size_t i;
	int ret = NYM_EX_OK;

	for (i = 0; i < n; i++) {
		/* A set-up mistake defers, never bounces (nym_delivering). */
		rc[i].code = nym_exitas(rc[i].code);
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
	char buf[NYM_IOBUF];
	const char *tmp;
	ssize_t r;
	int fd;

	if ((fd = nym_tmpfile(&tmp)) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create a spool file in "
		    "%s", tmp);
	while ((r = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || nym_write_all(fd, buf, (size_t)r) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to spool the "
			    "message");
	}
	return fd;
}

void
nym_dl_envelope(struct nym_dl *d, const char *sender, int batch, int tflag,
    int argc, char *const argv[])
{
	const char *v;
	int i;

	if ((batch && (tflag || argc > 0)) || (!batch && !tflag &&
	    argc == 0))
		nym_usage();
	d->batch = batch;
	if (sender == NULL && (v = getenv("SENDER")) != NULL && *v != '\0')
		sender = v;
	if (sender == NULL || nym_smtp_sender(sender, d->senderbuf,
	    sizeof d->senderbuf) == -1)
		nym_die(NYM_EX_USAGE, "unable to deliver: give the sender's "
		    "address with -f or SENDER (-f '' for a bounce)");
	d->sender = d->senderbuf;
	if (batch)
		return;
	for (i = 0; i < argc; i++)
		addrcpt(&d->rc, &d->n, argv[i]);
	d->msgfd = spool();
	if (tflag)
		headerrcpts(d->msgfd, &d->rc, &d->n);
	if (d->n == 0)
		nym_die(NYM_EX_DATAERR, "unable to deliver: no recipients");
}

/* The next line of a batch into line (cap bytes, NUL-terminated), and in
 * *fd the message's descriptor if one came with it, else -1.  From a
 * SOCK_SEQPACKET socket (queue-run's) each packet is one line, with at
 * most one descriptor (SCM_RIGHTS), so that the messages of a flush of
 * any size come one at a time as they are ready, each an unnamed file
 * nothing has to remove; from anything else, lines of text.  1, or 0 at
 * the end. */
static int
nextline(int sock, char *line, size_t cap, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { line, cap - 1 };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	size_t i, nfd = 0;
	ssize_t n;
	int one;

	*fd = -1;
	if (!sock) {
		if (fgets(line, (int)cap, stdin) == NULL) {
			if (ferror(stdin))
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the "
				    "batch");
			return 0;
		}
		if (strchr(line, '\n') == NULL && !feof(stdin))
			nym_die(NYM_EX_DATAERR, "unable to read the batch: line "
			    "over %zu bytes", cap);
		return 1;
	}
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof ctl.buf;
	while ((n = recvmsg(STDIN_FILENO, &mh, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the batch");
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; (i + 1) * sizeof(int) <= cm->cmsg_len -
		    CMSG_LEN(0); i++, nfd++) {
			memcpy(&one, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof one);
			if (*fd == -1)
				*fd = one;
			else
				close(one);
		}
	}
	if (nfd > 1 || (mh.msg_flags & MSG_CTRUNC))
		nym_die(NYM_EX_DATAERR, "unable to read the batch: more than "
		    "one descriptor with a line");
	if (mh.msg_flags & MSG_TRUNC)
		nym_die(NYM_EX_DATAERR, "unable to read the batch: line over "
		    "%zu bytes", cap - 1);
	line[n] = '\0';
	if (n == 0 && *fd == -1)
		return 0;
	return 1;
}

/* -B: lines "FILE RECIPIENT..." on stdin, one message each, all from one
 * sender; "FILE CODE ADDRESS=CODE..." on stdout for each, as it is done
 * with.  A line that came with a descriptor (nextline) has its message
 * there, FILE only naming it. */
static int
batch(struct nym_dl *d)
{
	char line[NYM_DL_BATCHLINE], *file, *w, *save = NULL;
	socklen_t len = sizeof(int);
	size_t i;
	int fd, e, code, type, sock, ret = NYM_EX_OK;

	sock = getsockopt(STDIN_FILENO, SOL_SOCKET, SO_TYPE, &type, &len) ==
	    0 && type == SOCK_SEQPACKET;
	while (nextline(sock, line, sizeof line, &fd)) {
		if ((file = strtok_r(line, " \t\r\n", &save)) == NULL) {
			if (fd != -1)
				close(fd);
			continue;
		}
		d->n = 0;
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			addrcpt(&d->rc, &d->n, w);
		code = d->n == 0 ? NYM_EX_USAGE : NYM_EX_TEMPFAIL;
		e = 0;
		if (d->n > 0 && ((fd == -1 &&
		    (fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) ||
		    lseek(fd, 0, SEEK_SET) == -1))
			e = errno;
		if (d->n == 0 || e != 0) {
			printf("%s %d %s\n", file, code, d->n == 0 ?
			    "no recipients" : strerror(e));
			fflush(stdout);
			if (fd != -1)
				close(fd);
			ret = nym_worse(ret, code);
			continue;
		}
		deliver(d, d->rc, d->n, fd);
		close(fd);
		code = report(d->rc, d->n, file);
		printf("%s %d", file, code);
		for (i = 0; i < d->n; i++)
			printf(" %s=%d", d->rc[i].addr, d->rc[i].code);
		putchar('\n');
		fflush(stdout);
		ret = nym_worse(ret, code);
	}
	return ret;
}

int
nym_dl_run(struct nym_dl *d)
{
	size_t i;
	int ret;

	if (d->batch)
		ret = batch(d);
	else {
		deliver(d, d->rc, d->n, d->msgfd);
		ret = report(d->rc, d->n, "");
		close(d->msgfd);
		d->msgfd = -1;
	}
	for (i = 0; i < NYM_DL_SESSIONS; i++)
		hangup(d, &d->s[i], 1);
	free(d->rc);
	d->rc = NULL;
	d->n = 0;
	if (fflush(stdout) == EOF || ferror(stdout))
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write the results");
	return ret;
}
