/*
 * smtptls.c - STARTTLS for the SMTP client.
 *
 * Kept apart from smtp.c so that only the programs that speak TLS link
 * OpenSSL.
 */
#include <stdio.h>
#include <unistd.h>

#include "base.h"
#include "proto.h"
#include "tls.h"

int
nym_smtp_starttls(struct nym_smtp_client *c, const char *pin,
    const char *helo, struct nym_tls **t)
{
	char why[sizeof c->why];
	int code, perm;

	*t = NULL;
	if ((code = nym_smtp_starttls_cmd(c)) != NYM_EX_OK) {
		/* The server refused it: a pin asked for TLS. */
		if (code != NYM_EX_TEMPFAIL)
			code = NYM_EX_NOPERM;
		return code;
	}
	if ((*t = nym_tls_connect(c->fd, c->fd, pin, c->in.ms, why,
	    sizeof why, &perm)) == NULL) {
		snprintf(c->why, sizeof c->why, "%s", why);
		nym_smtp_quit(c, 0);
		return perm ? NYM_EX_NOPERM : NYM_EX_TEMPFAIL;
	}
	nym_tls_attach(*t, &c->in, &c->out);
	if ((code = nym_smtp_hello(c, helo)) != NYM_EX_OK) {
		nym_tls_free(*t);	/* the connection is closed */
		*t = NULL;
	}
	return code;
}
