/*
 * dsn.h - libnymbox, bounces: the only part that links GMime.
 *
 * Conventions: base.h.
 */
#ifndef NYM_DSN_H
#define NYM_DSN_H

#include <stddef.h>
#include <time.h>

/* ---- dsn.c: delivery status notifications (the only GMime user) ---- */
struct nym_dsn {
	const char *sender;	/* the bounce goes to this address */
	const char **rcpt;	/* the failed recipients */
	size_t nrcpt;
	const char *status;	/* "5.1.1", or "4.4.7" when it expired */
	const char *reason;	/* one line for people, printable ASCII */
	const char *diag;	/* the command's words (lines), or "" */
	const char *id;		/* the queue ID */
	time_t arrival, now;
	const char *header;	/* the original header section */
	size_t headerlen;
};

/* A multipart/report (RFC 3464) in *out (malloc'd, LF line ends, *len
 * bytes): a text part, message/delivery-status and text/rfc822-headers.
 * Dates are UTC; the Message-ID and boundary are random and name no
 * host.  0 or -1 ENOMEM. */
int nym_dsn_build(const struct nym_dsn *d, char **out, size_t *len);

#endif
