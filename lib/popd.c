/*
 * popd.c - POP3 server pieces (RFC 1939, RFC 2449, RFC 5034) for
 * pop-serve.
 *
 * A message goes out as POP3 wants it, whatever line ends it was stored
 * with: CRLF after every line, a dot stuffed in front of a line starting
 * with one.  The same encoder, without a writer, counts the size LIST
 * reports, so the two can never disagree: the size is the CRLF form
 * before stuffing, the octets a client ends up storing (RFC 1939 11).
 * It works on any cut of the input (a CR at the end of one chunk and
 * its LF at the start of the next), keeping a few bits of state and no
 * buffer of its own.
 *
 * Records (seal.c) are read a chunk at a time and a chunk is handed on
 * only after it verified, the last one only once it is known that
 * nothing follows it: a reader never sees plaintext of a record that
 * turns out damaged at the point it has reached.
 *
 * Nothing here prints, exits or owns a descriptor.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "seal.h"
#include "proto.h"

void
nym_popd_begin(struct nym_popd_enc *e, long lines)
{
	memset(e, 0, sizeof *e);
	e->lines = lines;
	e->bol = 1;
}

static void
emit(struct nym_popd_enc *e, struct nym_out *o, const void *p, size_t n)
{
	e->size += n;
	if (o != NULL)
		nym_out_write(o, p, n);
}

/* A line ended; was it empty (nothing before its CRLF)? */
static void
endline(struct nym_popd_enc *e, int empty)
{
	if (!e->body) {
		if (empty) {
			e->body = 1;
			if (e->lines == 0)
				e->done = 1;
		}
	} else if (e->lines > 0 && --e->lines == 0)
		e->done = 1;
	e->llen = 0;
	e->bol = 1;
}

int
nym_popd_put(struct nym_popd_enc *e, struct nym_out *o,
    const unsigned char *p, size_t n)
{
	size_t i = 0, j;

	while (i < n && !e->done) {
		if (e->cr) {
			/* The CR held back from the byte before. */
			e->cr = 0;
			if (p[i] == '\n') {
				emit(e, o, "\r\n", 2);
				i++;
				endline(e, e->llen == 0);
				continue;
			}
			emit(e, o, "\r", 1);	/* a bare CR is text */
			e->llen++;
		}
		if (e->bol) {
			if (p[i] == '.' && o != NULL)
				nym_out_write(o, ".", 1);	/* stuffing */
			e->bol = 0;
		}
		for (j = i; j < n && p[j] != '\n' && p[j] != '\r'; j++)
			;
		if (j > i) {
			emit(e, o, p + i, j - i);
			e->llen += j - i;
			i = j;
		} else if (p[i] == '\r') {
			e->cr = 1;
			i++;
		} else {
			emit(e, o, "\r\n", 2);
			i++;
			endline(e, e->llen == 0);
		}
	}
	return e->done;
}

void
nym_popd_end(struct nym_popd_enc *e, struct nym_out *o)
{
	if (!e->done) {
		if (e->cr) {
			emit(e, o, "\r", 1);
			e->cr = 0;
			e->bol = 0;
		}
		if (!e->bol)
			emit(e, o, "\r\n", 2);
		e->bol = 1;
	}
	if (o != NULL)
		nym_out_write(o, ".\r\n", 3);
}

int
nym_popd_unseal(struct nym_in *in, struct nym_seal *s,
    const unsigned char pk[NYM_SEAL_PKLEN],
    const unsigned char sk[NYM_SEAL_SKLEN], unsigned char *plain,
    nym_popd_sink sink, void *arg)
{
	const unsigned char *p;
	ssize_t n, m;
	long len;
	int final, r = 0, e;

	if ((n = nym_in_fill(in, NYM_SEAL_HDRLEN)) == -1)
		return -1;
	p = (const unsigned char *)in->buf + in->pos;
	if (nym_seal_open(s, p, (size_t)n, pk, sk) == -1) {
		/* A header cut short is a damaged record, not another kind
		 * of file. */
		if (errno == EINVAL && n >= 8 && memcmp(p, "NYMBOXE1", 8) == 0)
			errno = EBADMSG;
		goto fail;
	}
	nym_in_skip(in, NYM_SEAL_HDRLEN);
	do {
		if ((n = nym_in_fill(in, 4)) == -1)
			goto fail;
		p = (const unsigned char *)in->buf + in->pos;
		if (n < 4 || (len = nym_seal_chunklen(p, &final)) == -1)
			goto bad;
		/* One byte more than the last chunk: is anything after it? */
		if ((n = nym_in_fill(in, (size_t)len + 4 + (final ? 1 : 0))) ==
		    -1)
			goto fail;
		if (n < len + 4 || (final && n > len + 4))
			goto bad;
		p = (const unsigned char *)in->buf + in->pos;
		if ((m = nym_seal_get(s, p, (size_t)len + 4, plain)) == -1)
			goto bad;
		nym_in_skip(in, (size_t)len + 4);
		r = sink(arg, plain, (size_t)m);
	} while (r == 0 && !final);
	nym_seal_wipe(s);
	return r;
bad:
	errno = EBADMSG;
fail:
	e = errno;
	nym_seal_wipe(s);
	errno = e;
	return -1;
}

int
nym_popd_verb(const char *line, char verb[5], const char **args)
{
	size_t i;

	for (i = 0; i < 4 && isalpha((unsigned char)line[i]); i++)
		verb[i] = (char)toupper((unsigned char)line[i]);
	verb[i] = '\0';
	if (i < 3 || (line[i] != '\0' && line[i] != ' ')) {
		errno = EINVAL;
		return -1;
	}
	*args = line + i + (line[i] == ' ');
	return 0;
}

long
nym_popd_num(const char *s, const char **end)
{
	long v = 0;
	size_t i;

	for (i = 0; i < 9 && isdigit((unsigned char)s[i]); i++)
		v = v * 10 + (s[i] - '0');
	if (i == 0 || isdigit((unsigned char)s[i]))
		return -1;
	*end = s + i;
	return v;
}

void
nym_popd_uid(const char *name, char *uid)
{
	unsigned char h[32];
	char b32[(sizeof h * 8 + 4) / 5 + 1];
	size_t n = strcspn(name, ":"), i;

	for (i = 0; i < n && name[i] > ' ' && name[i] < 127; i++)
		;
	if (n > 0 && n <= NYM_POP3_UIDL && i == n) {
		memcpy(uid, name, n);
		uid[n] = '\0';
		return;
	}
	nym_sha256(name, strlen(name), h);
	nym_base32(h, sizeof h, b32);
	uid[0] = 'x';
	memcpy(uid + 1, b32, 40);
	uid[41] = '\0';
}

int
nym_popd_plain(const char *b64, char *user, size_t ucap, char *pass,
    size_t pcap, size_t *passlen)
{
	unsigned char raw[3 * (NYM_POPD_LINE / 4) + 3];
	const unsigned char *z1, *z2, *end;
	size_t n = strlen(b64), zl, ul, pl;
	ssize_t got;
	int r = -1, err = EINVAL;

	if (n > NYM_POPD_LINE) {
		errno = E2BIG;
		return -1;
	}
	if ((got = nym_unbase64(b64, n, raw, sizeof raw, "+/")) == -1)
		goto out;
	end = raw + got;
	/* authzid NUL authcid NUL password: exactly two NULs. */
	if ((z1 = memchr(raw, '\0', (size_t)got)) == NULL ||
	    (z2 = memchr(z1 + 1, '\0', (size_t)(end - z1 - 1))) == NULL ||
	    memchr(z2 + 1, '\0', (size_t)(end - z2 - 1)) != NULL)
		goto out;
	zl = (size_t)(z1 - raw);
	ul = (size_t)(z2 - z1 - 1);
	pl = (size_t)(end - z2 - 1);
	if (ul == 0)
		goto out;
	if (ul >= ucap || pl >= pcap) {
		err = E2BIG;
		goto out;
	}
	if (zl != 0 && (zl != ul || memcmp(raw, z1 + 1, ul) != 0)) {
		err = EPERM;
		goto out;
	}
	memcpy(user, z1 + 1, ul);
	user[ul] = '\0';
	memcpy(pass, z2 + 1, pl);
	pass[pl] = '\0';
	*passlen = pl;
	r = 0;
out:
	nym_wipe(raw, sizeof raw);
	if (r == -1)
		errno = err;
	return r;
}
