/*
 * pop3client.c - the POP3 client session (RFC 1939; RFC 2449 CAPA and
 * PIPELINING; RFC 4616 AUTH PLAIN; RFC 3206 response codes), pop-fetch's
 * side of the wire.  The parsers it reads with are pop3.c's.
 *
 * A session is: the greeting and CAPA (nym_pop3_start), a login by AUTH
 * PLAIN when offered, else USER and PASS, sent together where PIPELINING
 * allows (nym_pop3_login), the UIDL listing and LIST's sizes, sent
 * together likewise (nym_pop3_listing), then RETR and DELE commands in
 * one queue, and QUIT.  With PIPELINING, RETR commands go out up to
 * NYM_POPF_RETR_AHEAD messages ahead of the one being read, so that the
 * server sends while the caller's disk syncs, and DELEs are sent without
 * waiting, up to NYM_POPF_DELE_AHEAD of them; replies come in command
 * order, so a RETR's message is read only after the DELE replies before
 * it.  c->careful sends one RETR at a time: a connection reset takes
 * what the kernel received and nobody read, so a caller that has seen
 * one cut prefers that each message it is sent is one it can keep.
 *
 * Every reply, and the listing or message after it, must come within
 * the command's time and then at NYM_MIN_RATE at least, and all of it by
 * c->sessionend: a server that sends a byte now and then cannot hold
 * the session.
 *
 * Nothing here prints or exits: a failure is a return value, with the
 * one-line message "unable to VERB at SERVER: reason" in c->why and its
 * exit code in c->code, for the caller to say.  A DELE the server
 * refuses is no failure: its message is marked and c->warn told.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "proto.h"

/* A listing line (CAPA, UIDL, LIST) with its NUL: NYM_POP3_LINE bytes
 * with the CRLF, as RFC 2449 says, and no more. */
#define MLINE		(NYM_POP3_LINE - 1)

/* c->why and c->code; code returned. */
static int
fail(struct nym_pop3_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct nym_pop3_client *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	c->code = code;
	return code;
}

/* Why the connection failed (c->err): the session's end named as such,
 * a line that is no POP3 as such. */
static const char *
netwhy(const struct nym_pop3_client *c, char *buf, size_t cap)
{
	if (c->err == ETIMEDOUT && nym_now_ms() >= c->sessionend) {
		snprintf(buf, cap, "the session took over %ld s (-W)",
		    c->session);
		return buf;
	}
	return c->err == EPROTO ? "garbled reply" : strerror(c->err);
}

/* The connection failed (errno) on verb.  -1. */
static int
broke(struct nym_pop3_client *c, const char *verb)
{
	char buf[64];

	c->err = errno;
	(void)fail(c, NYM_EX_TEMPFAIL, "unable to %s at %s: %s", verb,
	    c->where, netwhy(c, buf, sizeof buf));
	return -1;
}

/* Read a status line: 1 +OK, 0 -ERR (its text in c->text), -1 broken. */
static int
status(struct nym_pop3_client *c, const char *verb)
{
	int r;

	c->in.deadline = nym_now_ms() + c->in.ms;
	if (c->in.deadline > c->sessionend)
		c->in.deadline = c->sessionend;
	c->in.limit = c->sessionend;
	c->in.rate = NYM_MIN_RATE;
	if ((r = nym_pop3_status(&c->in, c->text, sizeof c->text)) == -1)
		return broke(c, verb);
	return r;
}

/* Send what is queued.  0, or -1. */
static int
sendcmd(struct nym_pop3_client *c, const char *verb)
{
	if (nym_out_flush(&c->out) == -1) {
		c->err = errno;
		(void)fail(c, NYM_EX_TEMPFAIL, "unable to %s at %s: %s", verb,
		    c->where, strerror(errno));
		return -1;
	}
	return 0;
}

/* Send what is queued and read the status.  1, 0 or -1. */
static int
command(struct nym_pop3_client *c, const char *verb)
{
	if (sendcmd(c, verb) == -1)
		return -1;
	return status(c, verb);
}

/* A multi-line reply failed: a line over the limit is the server's
 * doing, 65; the rest is 75.  The code. */
static int
mlinefail(struct nym_pop3_client *c, const char *verb)
{
	if (errno == EPROTO)
		return fail(c, NYM_EX_DATAERR, "unable to %s at %s: a line "
		    "over %d bytes", verb, c->where, NYM_POP3_LINE);
	(void)broke(c, verb);
	return c->code;
}

int
nym_pop3_start(struct nym_pop3_client *c, int fd, int ms)
{
	char line[MLINE];
	int r;

	c->fd = fd;
	c->err = c->code = c->toobig = c->greeted = 0;
	c->why[0] = c->text[0] = '\0';
	memset(&c->caps, 0, sizeof c->caps);
	c->msg = NULL;
	c->nmsg = c->pqh = c->pend = c->nretr = c->next = 0;
	c->in.buf = c->out.buf = NULL;
	if (nym_in_open(&c->in, fd, NYM_IOBUF) == -1 ||
	    nym_out_open(&c->out, fd, (size_t)NYM_POP3_LINE * 8) == -1)
		return fail(c, NYM_EX_TEMPFAIL, "unable to allocate memory");
	c->in.ms = c->out.ms = ms;
	c->out.deadline = c->sessionend;
	if ((r = status(c, "read the greeting")) != 1) {
		if (r == 0)
			(void)fail(c, NYM_EX_TEMPFAIL, "unable to log in at "
			    "%s: %s", c->where, c->text[0] != '\0' ? c->text :
			    "refused");
		return c->code;
	}
	c->greeted = 1;
	nym_smtp_cmd(&c->out, "CAPA");
	if ((r = command(c, "ask for capabilities")) == -1)
		return c->code;
	if (r == 1)
		while ((r = nym_pop3_mline(&c->in, line, sizeof line)) == 1)
			nym_pop3_capa(line, &c->caps);
	if (r == -1)
		return mlinefail(c, "read capabilities");
	return NYM_EX_OK;
}

/* A refused login: RFC 3206 tells the temporary refusals. */
static int
refused(struct nym_pop3_client *c, const char *user)
{
	int code = strncmp(c->text, "[IN-USE]", 8) == 0 ||
	    strncmp(c->text, "[SYS/TEMP]", 10) == 0 ? NYM_EX_TEMPFAIL :
	    NYM_EX_NOPERM;

	return fail(c, code, "unable to log in as %s at %s: %s", user,
	    c->where, c->text[0] != '\0' ? c->text : "refused");
}

/* Send the login.  1, 0 (refused: c->text) or -1 (c->why set). */
static int
sendlogin(struct nym_pop3_client *c, const char *user, const char *pass)
{
	char b64[NYM_POP3_LINE];
	int r, n;

	if (c->caps.plain) {
		if ((n = nym_pop3_authplain(user, pass, b64, sizeof b64)) != -1)
			n = nym_smtp_cmd(&c->out, "AUTH PLAIN %s", b64);
		explicit_bzero(b64, sizeof b64);
		if (n == -1)
			goto toolong;
		return command(c, "log in");
	}
	/* USER and PASS go out together where PIPELINING allows. */
	if (nym_smtp_cmd(&c->out, "USER %s", user) == -1 ||
	    (c->caps.pipelining && nym_smtp_cmd(&c->out, "PASS %s",
	    pass) == -1))
		goto toolong;
	if ((r = command(c, "log in")) != 1)
		return r;
	if (!c->caps.pipelining && nym_smtp_cmd(&c->out, "PASS %s",
	    pass) == -1)
		goto toolong;
	if (!c->caps.pipelining && sendcmd(c, "log in") == -1)
		return -1;
	return status(c, "log in");
toolong:
	(void)fail(c, NYM_EX_CONFIG, "unable to log in as %s: user name or "
	    "password too long", user);
	return -1;
}

int
nym_pop3_login(struct nym_pop3_client *c, const char *user,
    const char *pass)
{
	int r = sendlogin(c, user, pass);

	/* The writer's buffer held the password: wipe it. */
	explicit_bzero(c->out.buf, c->out.cap);
	if (r == 0)
		return refused(c, user);
	return r == 1 ? NYM_EX_OK : c->code;
}

/* LIST (sent with UIDL when pipelining, else now): each message's size.
 * A server without LIST leaves the sizes unknown (0). */
static int
listsizes(struct nym_pop3_client *c, long max)
{
	char line[MLINE];
	unsigned long n;
	uint64_t size;
	size_t i = 0, k = 0;
	int r;

	if (!c->caps.pipelining) {
		nym_smtp_cmd(&c->out, "LIST");
		if (sendcmd(c, "list message sizes") == -1)
			return c->code;
	}
	if ((r = status(c, "list message sizes")) == -1)
		return c->code;
	if (r == 0)
		return NYM_EX_OK;
	while ((r = nym_pop3_mline(&c->in, line, sizeof line)) == 1) {
		if (++k > (size_t)max)
			return fail(c, NYM_EX_DATAERR, "unable to list message "
			    "sizes at %s: more than %ld (-L)", c->where, max);
		if (nym_pop3_list(line, &n, &size) == -1)
			return fail(c, NYM_EX_TEMPFAIL, "unable to list message "
			    "sizes at %s: bad LIST line", c->where);
		/* both listings go by message number */
		while (i < c->nmsg && c->msg[i].n < n)
			i++;
		if (i < c->nmsg && c->msg[i].n == n)
			c->msg[i].size = size;
	}
	if (r == -1)
		return mlinefail(c, "list message sizes");
	return NYM_EX_OK;
}

int
nym_pop3_listing(struct nym_pop3_client *c, long max)
{
	char line[MLINE];
	struct nym_pop3_msg *m;
	size_t cap = 0;
	int r;

	nym_smtp_cmd(&c->out, "UIDL");
	if (c->caps.pipelining)
		nym_smtp_cmd(&c->out, "LIST");
	if ((r = command(c, "list messages")) == -1)
		return c->code;
	if (r == 0)
		return fail(c, NYM_EX_CONFIG, "unable to list messages at %s: "
		    "%s (no UIDL: cannot fetch without duplicates)", c->where,
		    c->text);
	while ((r = nym_pop3_mline(&c->in, line, sizeof line)) == 1) {
		if (c->nmsg == (size_t)max)
			return fail(c, NYM_EX_DATAERR, "unable to list messages "
			    "at %s: more than %ld (-L)", c->where, max);
		/* Doubling: a listing of n lines costs O(n) copies, not
		 * O(n^2) (100,000 one at a time took minutes under ASan). */
		if (c->nmsg == cap && nym_reallocarray(&c->msg, cap = cap ?
		    cap * 2 : 64, sizeof *c->msg) == -1)
			return fail(c, NYM_EX_TEMPFAIL, "unable to allocate "
			    "memory");
		m = &c->msg[c->nmsg];
		memset(m, 0, sizeof *m);
		if (nym_pop3_uidl(line, &m->n, m->uid, sizeof m->uid) == -1)
			return fail(c, NYM_EX_DATAERR, "unable to list messages "
			    "at %s: bad UIDL line (expected a number and a "
			    "unique-id of 1 to %d printable bytes)", c->where,
			    NYM_POP3_UIDL);
		c->nmsg++;
	}
	if (r == -1)
		return mlinefail(c, "list messages");
	return listsizes(c, max);
}

/* Note a command queued on c->out whose reply is to be read: RETR ('R')
 * or DELE ('D') of the i-th listed message.  0, or -1 (a bug: RETRs in
 * flight are few and DELEs wait for at most NYM_POPF_DELE_AHEAD). */
static int
expect(struct nym_pop3_client *c, char kind, size_t i)
{
	size_t k;

	if (c->pend == NYM_POPF_PEND_MAX) {
		(void)fail(c, NYM_EX_SOFTWARE, "unable to send a command to "
		    "%s: %d in flight", c->where, NYM_POPF_PEND_MAX);
		return -1;
	}
	k = (c->pqh + c->pend) % NYM_POPF_PEND_MAX;
	c->pk[k] = kind;
	c->pq[k] = i;
	c->pend++;
	return 0;
}

/* Take the oldest command off the queue. */
static void
dequeue(struct nym_pop3_client *c)
{
	c->pqh = (c->pqh + 1) % NYM_POPF_PEND_MAX;
	c->pend--;
}

/* Send what is queued and read the replies of the DELE commands at the
 * head of the queue, up to the first RETR.  0 or -1. */
static int
dele_replies(struct nym_pop3_client *c)
{
	if (c->pend > 0 && sendcmd(c, "delete a message") == -1)
		return -1;
	while (c->pend > 0 && c->pk[c->pqh] == 'D') {
		switch (status(c, "delete a message")) {
		case -1:
			return -1;
		case 0:
			/* Still on the server: the caller keeps it in mind. */
			c->msg[c->pq[c->pqh]].refused = 1;
			snprintf(c->why, sizeof c->why, "unable to delete a "
			    "message at %s: %s", c->where, c->text);
			if (c->warn != NULL)
				c->warn(c->why);
			break;
		}
		dequeue(c);
	}
	return 0;
}

int
nym_pop3_dele(struct nym_pop3_client *c, size_t i)
{
	nym_smtp_cmd(&c->out, "DELE %lu", c->msg[i].n);
	if (expect(c, 'D', i) == -1)
		return -1;
	/* Pipelined, but not so far ahead that both sides could block on
	 * full socket buffers. */
	if (c->caps.pipelining && c->pend - c->nretr < NYM_POPF_DELE_AHEAD)
		return 0;
	return dele_replies(c);
}

/* Read the status of the RETR of the i-th message, the next RETR in the
 * queue: 1, 0 or -1. */
static int
retr_status(struct nym_pop3_client *c, size_t i)
{
	if (dele_replies(c) == -1)
		return -1;
	if (c->pend == 0 || c->pk[c->pqh] != 'R' || c->pq[c->pqh] != i) {
		(void)fail(c, NYM_EX_SOFTWARE, "unable to fetch message %zu: "
		    "its RETR is not next", i + 1);
		return -1;
	}
	dequeue(c);
	c->nretr--;
	return status(c, "fetch a message");
}

int
nym_pop3_fetch(struct nym_pop3_client *c, size_t i)
{
	size_t most = c->caps.pipelining && !c->careful ?
	    NYM_POPF_RETR_AHEAD + 1 : 1;

	/* The i-th in flight, and with PIPELINING up to RETR_AHEAD of
	 * those to fetch after it. */
	while (c->next < c->nmsg && (c->next <= i || c->nretr < most)) {
		if (c->msg[c->next].fetch) {
			nym_smtp_cmd(&c->out, "RETR %lu", c->msg[c->next].n);
			if (expect(c, 'R', c->next) == -1)
				return -1;
			c->nretr++;
		}
		c->next++;
	}
	if (sendcmd(c, "fetch a message") == -1)
		return -1;
	return retr_status(c, i);
}

int
nym_pop3_body(struct nym_pop3_client *c, struct nym_out *o, unsigned flags)
{
	char buf[64];

	if (nym_pop3_retr(&c->in, o, flags, c->maxsize) == 0)
		return 0;
	if (errno == EFBIG) {
		/* LIST said less: the rest of it is not read. */
		c->toobig = 1;
		(void)fail(c, NYM_EX_DATAERR, "unable to fetch a message from "
		    "%s: over %llu bytes (-M); it stays on the server",
		    c->where, (unsigned long long)c->maxsize);
		return -1;
	}
	c->err = errno;
	(void)fail(c, NYM_EX_TEMPFAIL, "unable to fetch a message from %s: "
	    "%s", c->where, netwhy(c, buf, sizeof buf));
	return -1;
}

int
nym_pop3_drain(struct nym_pop3_client *c)
{
	struct nym_out sink = { .fd = -1, .err = EBADF };  /* takes nothing */
	int r;

	while (dele_replies(c) == 0 && c->pend > 0) {
		if ((r = retr_status(c, c->pq[c->pqh])) == -1)
			return -1;
		if (r == 1 && nym_pop3_body(c, &sink, 0) == -1)
			return -1;
	}
	return c->pend > 0 ? -1 : 0;
}

int
nym_pop3_quit(struct nym_pop3_client *c)
{
	int r;

	nym_smtp_cmd(&c->out, "QUIT");
	if ((r = command(c, "quit")) == 0)
		(void)fail(c, NYM_EX_TEMPFAIL, "unable to quit at %s: %s",
		    c->where, c->text);
	return r;
}

void
nym_pop3_close(struct nym_pop3_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	nym_in_close(&c->in);
	nym_out_close(&c->out);
	free(c->msg);
	c->msg = NULL;
	c->nmsg = 0;
}
