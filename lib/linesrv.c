/*
 * linesrv.c - the skeleton of a line server on stdin and stdout, shared
 * by smtp-receive and pop-serve.
 *
 * Both read one command line at a time and answer it, and both must not
 * be held by a client: a command is read whole within the server's
 * command time (a client that sends a byte now and then gains nothing),
 * the session within its own time, a line without an end is not read
 * for ever, and a client that keeps sending nonsense is sent away.
 * Replies wait in the writer until the next read, so that a pipelining
 * client gets them in one write, and go out before it when the client
 * has nothing more queued.  What differs (the reply texts, whether a
 * slow client gets a last word, the exit when the client is gone) is
 * in struct nym_linesrv.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "base.h"
#include "proto.h"

void
nym_ls_reply(struct nym_linesrv *ls, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nym_out_vline(ls->out, ls->linemax, fmt, ap);
	va_end(ap);
}

void
nym_ls_flush(struct nym_linesrv *ls)
{
	if (nym_out_flush(ls->out) == -1)
		exit(errno == ETIMEDOUT ? NYM_EX_TEMPFAIL : ls->gone);
}

void
nym_ls_hangup(struct nym_linesrv *ls, int code, const char *text)
{
	ls->out->deadline = nym_now_ms() + NYM_LINESRV_BYE_MS;
	nym_ls_reply(ls, "%s", text);
	(void)nym_out_flush(ls->out);
	exit(code);
}

void
nym_ls_error(struct nym_linesrv *ls, const char *text)
{
	if (text != NULL)
		nym_ls_reply(ls, "%s", text);
	if (++ls->errors >= ls->maxerrors)
		nym_ls_hangup(ls, NYM_EX_OK, ls->toomany);
}

void
nym_ls_timedout(struct nym_linesrv *ls, const char *what, int secs)
{
	if (nym_now_ms() >= ls->sessionend) {
		nym_warn("unable to read %s: the session took %d s (-T)",
		    what, ls->session);
		nym_ls_hangup(ls, NYM_EX_TEMPFAIL, ls->sessover);
	}
	nym_warn("unable to read %s: not done within %d s", what, secs);
	if (ls->slow == NULL)
		exit(NYM_EX_TEMPFAIL);	/* POP3 (RFC 1939 3): no reply */
	nym_ls_hangup(ls, NYM_EX_TEMPFAIL, ls->slow);
}

int
nym_ls_getline(struct nym_linesrv *ls, char *buf, size_t cap, size_t max)
{
	struct nym_in *in = ls->in;
	int r;

	if (in->pos == in->len ||
	    memchr(in->buf + in->pos, '\n', in->len - in->pos) == NULL)
		nym_ls_flush(ls);
	/* The whole command within ms, not only each read of it, and the
	 * whole session within sessionend, however fast the lines come. */
	if (nym_now_ms() >= ls->sessionend)
		nym_ls_timedout(ls, ls->what, ls->ms / 1000);
	in->ms = ls->ms;
	in->deadline = nym_now_ms() + ls->ms;
	if (in->deadline > ls->sessionend)
		in->deadline = ls->sessionend;
	r = nym_smtp_getline(in, buf, cap, max);
	if (r == 0)
		exit(NYM_EX_OK);	/* the client left */
	if (r > 0)
		return 0;
	if (errno == E2BIG || errno == EILSEQ)
		return -1;
	if (errno == EMSGSIZE)
		nym_ls_hangup(ls, NYM_EX_OK, ls->toolong);
	if (errno == ETIMEDOUT)
		nym_ls_timedout(ls, ls->what, ls->ms / 1000);
	exit(NYM_EX_TEMPFAIL);
}
