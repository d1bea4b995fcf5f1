/*
 * dsn.c - the bounce a sender gets for a message the queue gave up on:
 * a delivery status notification (RFC 3464) in a multipart/report (RFC
 * 6522) built with GMime, the only file that includes it.
 *
 * GMime's defaults would give the bounce away: its Message-ID names the
 * host and its boundaries have a recognisable shape.  Both are set here
 * from random bytes, every date is UTC, and the reporting MTA is called
 * "localhost", so the bounce says nothing about the machine it was made
 * on.  It is written only to the sender's own mailbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "limits.h"
#include "msg.h"
#include "store.h"
#include "dsn.h"

struct text {
	char *p;
	size_t len, cap;
	int err;
};

static void
tput(struct text *t, const char *s, size_t n)
{
	if (t->err)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap != 0 ? t->cap : 4096;
		char *np;

		while (ncap < t->len + n + 1)
			ncap *= 2;
		if ((np = realloc(t->p, ncap)) == NULL) {
			t->err = 1;
			return;
		}
		t->p = np;
		t->cap = ncap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void
tputs(struct text *t, const char *s)
{
	tput(t, s, strlen(s));
}

/* s[0, n) with every byte that is not printable ASCII as '?'. */
static void
tclean(struct text *t, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i] >= ' ' && s[i] < 127 ? s[i] : '?';

		tput(t, &c, 1);
	}
}

static void
tdate(struct text *t, time_t when)
{
	char buf[64];

	if (nym_date_format(when, buf, sizeof buf) > 0)
		tputs(t, buf);
}

static void
hexrand(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];
	size_t i;

	if (nbytes > sizeof b)
		nbytes = sizeof b;
	if (getentropy(b, nbytes) == -1)
		memset(b, 0x5a, nbytes);
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* The line of diag that names addr, else its last line, into t. */
static void
diagfor(struct text *t, const char *diag, const char *addr)
{
	const char *s = diag, *e, *best = NULL, *last = NULL;
	size_t bestlen = 0, lastlen = 0;

	for (; *s != '\0'; s = *e != '\0' ? e + 1 : e) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		if (e == s)
			continue;
		last = s;
		lastlen = (size_t)(e - s);
		if (best == NULL) {
			const char *hit = strstr(s, addr);

			if (hit != NULL && hit < e) {
				best = s;
				bestlen = (size_t)(e - s);
			}
		}
	}
	if (best == NULL) {
		best = last;
		bestlen = lastlen;
	}
	if (best != NULL)
		tclean(t, best, bestlen > NYM_QUEUE_ERR ? NYM_QUEUE_ERR :
		    bestlen);
}

static GMimePart *
leaf(const char *type, const char *subtype, const char *p, size_t n,
    GMimeContentEncoding enc)
{
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(p, n);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st,
	    GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, w);
	g_mime_part_set_content_encoding(part, enc);
	g_object_unref(w);
	g_object_unref(st);
	return part;
}

int
nym_dsn_build(const struct nym_dsn *d, char **out, size_t *len)
{
	static int inited;
	struct text human = { 0 }, status = { 0 }, hdr = { 0 };
	char rnd[65], msgid[NYM_SMTP_PATH + 80], boundary[72];
	const char *at = strrchr(d->sender, '@');
	const char *domain = at != NULL && at[1] != '\0' ? at + 1 :
	    "localhost";
	GMimeMessage *m;
	GMimeMultipart *mp;
	GMimeTextPart *tp;
	GMimePart *sp, *hp;
	GDateTime *dt;
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_7BIT;
	char *s, *from;
	size_t i;
	int ret = -1;

	if (!inited) {
		g_mime_init();
		inited = 1;
	}

	tputs(&human, "This is the delay queue of nymbox on your own "
	    "machine.\n\nYour message (queue ID ");
	tclean(&human, d->id, strlen(d->id));
	tputs(&human, ") could not be delivered to:\n\n");
	for (i = 0; i < d->nrcpt; i++) {
		tputs(&human, "    <");
		tclean(&human, d->rcpt[i], strlen(d->rcpt[i]));
		tputs(&human, ">\n");
	}
	tputs(&human, "\nReason: ");
	tclean(&human, d->reason, strlen(d->reason));
	tputs(&human, "\n");
	if (d->diag[0] != '\0') {
		const char *p = d->diag, *e;

		tputs(&human, "\nThe delivery command said:\n\n");
		for (; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
			if ((e = strchr(p, '\n')) == NULL)
				e = p + strlen(p);
			tputs(&human, "    ");
			tclean(&human, p, (size_t)(e - p));
			tputs(&human, "\n");
		}
	}
	tputs(&human, "\nThe message is kept under its ID in the queue's "
	    "failed/ directory;\nits header is attached.\n");

	tputs(&status, "Reporting-MTA: dns; localhost\nArrival-Date: ");
	tdate(&status, d->arrival);
	tputs(&status, "\n");
	for (i = 0; i < d->nrcpt; i++) {
		tputs(&status, "\nFinal-Recipient: rfc822; ");
		tclean(&status, d->rcpt[i], strlen(d->rcpt[i]));
		tputs(&status, "\nAction: failed\nStatus: ");
		tclean(&status, d->status, strlen(d->status));
		tputs(&status, "\nDiagnostic-Code: X-Unix; ");
		if (d->diag[0] != '\0')
			diagfor(&status, d->diag, d->rcpt[i]);
		else
			tclean(&status, d->reason, strlen(d->reason));
		tputs(&status, "\nLast-Attempt-Date: ");
		tdate(&status, d->now);
		tputs(&status, "\n");
	}

	/* The original header: NUL bytes would end the text early. */
	for (i = 0; i < d->headerlen; i++) {
		char c = d->header[i] == '\0' ? ' ' : d->header[i];

		if ((unsigned char)c >= 128)
			enc = GMIME_CONTENT_ENCODING_8BIT;
		tput(&hdr, &c, 1);
	}
	if (hdr.len == 0 || hdr.p[hdr.len - 1] != '\n')
		tputs(&hdr, "\n");
	if (human.err || status.err || hdr.err) {
		errno = ENOMEM;
		goto done;
	}

	m = g_mime_message_new(TRUE);
	from = g_strdup_printf("MAILER-DAEMON@%s", domain);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM,
	    "Mail Delivery System", from);
	g_free(from);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, NULL, d->sender);
	g_mime_message_set_subject(m, "Undelivered Mail Returned to Sender",
	    NULL);
	dt = g_date_time_new_from_unix_utc((gint64)d->now);
	g_mime_message_set_date(m, dt);
	g_date_time_unref(dt);
	hexrand(rnd, 16);
	snprintf(msgid, sizeof msgid, "%s@%s", rnd, domain);
	g_mime_message_set_message_id(m, msgid);
	g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted",
	    "auto-replied", NULL);
	g_mime_object_set_header(GMIME_OBJECT(m), "MIME-Version", "1.0", NULL);

	mp = g_mime_multipart_new_with_subtype("report");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(mp),
	    "report-type", "delivery-status");
	hexrand(rnd, 16);
	snprintf(boundary, sizeof boundary, "=_%s", rnd);
	g_mime_multipart_set_boundary(mp, boundary);

	tp = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(tp, human.p);
	g_mime_part_set_content_encoding(GMIME_PART(tp),
	    GMIME_CONTENT_ENCODING_7BIT);
	sp = leaf("message", "delivery-status", status.p, status.len,
	    GMIME_CONTENT_ENCODING_7BIT);
	hp = leaf("text", "rfc822-headers", hdr.p, hdr.len, enc);
	g_mime_multipart_add(mp, GMIME_OBJECT(tp));
	g_mime_multipart_add(mp, GMIME_OBJECT(sp));
	g_mime_multipart_add(mp, GMIME_OBJECT(hp));
	g_object_unref(tp);
	g_object_unref(sp);
	g_object_unref(hp);
	g_mime_message_set_mime_part(m, GMIME_OBJECT(mp));
	g_object_unref(mp);

	s = g_mime_object_to_string(GMIME_OBJECT(m), NULL);
	g_object_unref(m);
	if (s == NULL) {
		errno = ENOMEM;
		goto done;
	}
	*len = strlen(s);
	if ((*out = malloc(*len + 2)) != NULL) {
		memcpy(*out, s, *len + 1);
		if (*len == 0 || s[*len - 1] != '\n') {
			(*out)[(*len)++] = '\n';
			(*out)[*len] = '\0';
		}
		ret = 0;
	}
	g_free(s);
done:
	free(human.p);
	free(status.p);
	free(hdr.p);
	return ret;
}
