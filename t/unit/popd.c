/*
 * popd.c - the POP3 server pieces: the wire form of a message (CRLF,
 * dot stuffing, TOP) cut at every possible place and checked against
 * its size count, records read back whole, changed, cut, followed by
 * other bytes and sealed to another key, and the command, unique-id and
 * AUTH PLAIN parsers at their bounds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "seal.h"
#include "proto.h"
#include "tap.h"

static char wire[1 << 16];
static size_t wirelen;

/* The wire form of msg (n bytes) fed in pieces of at most step bytes
 * (0: cut once at every place, checking each), into wire.  Returns the
 * size counted without a writer, or -1 if some cut gave other bytes. */
static long long
encode(const char *msg, size_t n, long lines, size_t step)
{
	struct nym_popd_enc e, c;
	struct nym_out o;
	char first[sizeof wire];
	size_t i, cut, firstlen = 0, ncuts;
	int fds[2];
	ssize_t r;

	memset(&c, 0, sizeof c);
	ncuts = step == 0 ? n + 1 : 1;
	for (cut = 0; cut < ncuts; cut++) {
		if (pipe(fds) == -1 || nym_out_open(&o, fds[1], 64) == -1)
			exit(99);
		nym_popd_begin(&e, lines);
		nym_popd_begin(&c, -1);
		if (step == 0) {
			nym_popd_put(&e, &o, (const unsigned char *)msg, cut);
			nym_popd_put(&e, &o, (const unsigned char *)msg + cut,
			    n - cut);
		} else
			for (i = 0; i < n; i += step)
				nym_popd_put(&e, &o,
				    (const unsigned char *)msg + i,
				    n - i < step ? n - i : step);
		for (i = 0; i < n; i++)
			nym_popd_put(&c, NULL,
			    (const unsigned char *)msg + i, 1);
		nym_popd_end(&e, &o);
		nym_popd_end(&c, NULL);
		if (nym_out_flush(&o) == -1)
			exit(99);
		close(fds[1]);
		nym_out_close(&o);
		r = nym_read_all(fds[0], wire, sizeof wire);
		close(fds[0]);
		if (r < 0)
			exit(99);
		wirelen = (size_t)r;
		if (cut == 0) {
			memcpy(first, wire, wirelen);
			firstlen = wirelen;
		} else if (wirelen != firstlen ||
		    memcmp(first, wire, wirelen) != 0)
			return -1;
		if (lines < 0 && e.size != c.size)
			return -1;
	}
	return (long long)c.size;
}

/* The octets a client keeps of a wire form: stuffing dots and the
 * final line removed. */
static size_t
unstuffed(const char *w, size_t n)
{
	size_t i, len = 0;
	int bol = 1;

	for (i = 0; i + 3 < n; i++) {
		if (bol && w[i] == '.')
			i++;
		len++;
		bol = w[i] == '\n';
	}
	return len;
}

static void
retr(const char *what, const char *msg, size_t n, const char *want,
    size_t wlen)
{
	long long size;
	char buf[256];

	size = encode(msg, n, -1, 0);
	snprintf(buf, sizeof buf, "%s: the same bytes wherever it is cut",
	    what);
	check(size != -1, buf);
	snprintf(buf, sizeof buf, "%s: wire form", what);
	check(wirelen == wlen && memcmp(wire, want, wirelen) == 0, buf);
	if (wirelen != wlen || memcmp(wire, want, wirelen) != 0)
		printf("#   got \"%.*s\"\n", (int)wirelen, wire);
	snprintf(buf, sizeof buf, "%s: size is the CRLF form unstuffed",
	    what);
	check_int(size, unstuffed(want, wlen), buf);
	snprintf(buf, sizeof buf, "%s: one byte at a time", what);
	check(encode(msg, n, -1, 1) != -1 && wirelen == wlen &&
	    memcmp(wire, want, wirelen) == 0, buf);
}

/* A message and its wire form, both string literals (NULs inside). */
#define RETR(what, msg, want) \
	retr((what), (msg), sizeof(msg) - 1, (want), sizeof(want) - 1)

static void
top(const char *what, const char *msg, long lines, const char *want)
{
	char buf[256];

	snprintf(buf, sizeof buf, "TOP %s", what);
	check(encode(msg, strlen(msg), lines, 0) != -1 &&
	    wirelen == strlen(want) && memcmp(wire, want, wirelen) == 0, buf);
	if (wirelen != strlen(want) || memcmp(wire, want, wirelen) != 0)
		printf("#   got \"%.*s\"\n", (int)wirelen, wire);
}

static void
encoder(void)
{
	RETR("LF lines", "A: b\n\nbody\n", "A: b\r\n\r\nbody\r\n.\r\n");
	RETR("CRLF lines", "A: b\r\n\r\nbody\r\n", "A: b\r\n\r\nbody\r\n.\r\n");
	RETR("mixed line ends", "A\r\nB\nC\r\n", "A\r\nB\r\nC\r\n.\r\n");
	RETR("no last line end", "A: b\n\nend", "A: b\r\n\r\nend\r\n.\r\n");
	RETR("dots stuffed", ".\n..\n.x\nx.\n",
	    "..\r\n...\r\n..x\r\nx.\r\n.\r\n");
	RETR("a dot at the very start, no line end", ".", "..\r\n.\r\n");
	RETR("bare CR kept", "a\rb\r\n\r", "a\rb\r\n\r\r\n.\r\n");
	RETR("CR CR LF", "a\r\r\nb\n", "a\r\r\nb\r\n.\r\n");
	RETR("NUL and 8-bit bytes", "\0\xff\n\x80.\n",
	    "\0\xff\r\n\x80.\r\n.\r\n");
	RETR("empty message", "", ".\r\n");
	RETR("only line ends", "\n\r\n\n", "\r\n\r\n\r\n.\r\n");

	top("0 lines: header and empty line", "A: b\nC: d\n\nl1\nl2\n", 0,
	    "A: b\r\nC: d\r\n\r\n.\r\n");
	top("1 line", "A: b\n\nl1\nl2\n", 1, "A: b\r\n\r\nl1\r\n.\r\n");
	top("more lines than there are", "A: b\n\nl1\nl2", 9,
	    "A: b\r\n\r\nl1\r\nl2\r\n.\r\n");
	top("CRLF empty line ends the header", "A: b\r\n\r\n.l1\r\nl2\r\n", 1,
	    "A: b\r\n\r\n..l1\r\n.\r\n");
	top("a CR-only line is empty", "A: b\n\r\nl1\n", 0,
	    "A: b\r\n\r\n.\r\n");
	top("no header end: all of it", "A: b\nC: d", 0,
	    "A: b\r\nC: d\r\n.\r\n");
	top("a bare CR line is not empty", "A: b\n\r\rx\n\nl1\n", 0,
	    "A: b\r\n\r\rx\r\n\r\n.\r\n");
}

/* ---- records ---- */

static unsigned char pk[NYM_SEAL_PKLEN], sk[NYM_SEAL_SKLEN];
static unsigned char pk2[NYM_SEAL_PKLEN], sk2[NYM_SEAL_SKLEN];

/* Seal n bytes of p into a temporary file; its descriptor. */
static int
sealfile(const unsigned char *p, size_t n, unsigned char **rec, size_t *rlen)
{
	static unsigned char ct[NYM_SEAL_CHUNK + NYM_SEAL_OVER];
	struct nym_seal s;
	unsigned char hdr[NYM_SEAL_HDRLEN];
	unsigned char *b;
	size_t len, k, m, off = 0;
	FILE *f;

	b = malloc(NYM_SEAL_HDRLEN + n + (n / NYM_SEAL_CHUNK + 1) *
	    NYM_SEAL_OVER);
	if (b == NULL || nym_seal_begin(&s, pk, hdr) == -1)
		exit(99);
	memcpy(b, hdr, sizeof hdr);
	len = sizeof hdr;
	do {
		k = n - off > NYM_SEAL_CHUNK ? NYM_SEAL_CHUNK : n - off;
		m = nym_seal_put(&s, p + off, k, off + k == n, ct);
		memcpy(b + len, ct, m);
		len += m;
		off += k;
	} while (off < n);
	*rec = b;
	*rlen = len;
	if ((f = tmpfile()) == NULL || fwrite(b, 1, len, f) != len ||
	    fflush(f) != 0)
		exit(99);
	return dup(fileno(f));
}

/* A file of exactly these bytes. */
static int
rawfile(const unsigned char *p, size_t n)
{
	FILE *f;

	if ((f = tmpfile()) == NULL || (n > 0 && fwrite(p, 1, n, f) != n) ||
	    fflush(f) != 0)
		exit(99);
	return dup(fileno(f));
}

struct got {
	unsigned char *buf;
	size_t len, calls;
	size_t stopat;		/* stop after this many calls; 0 never */
};

static int
sink(void *arg, const unsigned char *p, size_t n)
{
	struct got *g = arg;

	memcpy(g->buf + g->len, p, n);
	g->len += n;
	return ++g->calls == g->stopat ? 7 : 0;
}

static unsigned char plain[NYM_SEAL_CHUNK];

/* Read the record in fd (from its start); errno, or 0, or the sink's
 * value + 1000. */
static int
readrec(int fd, const unsigned char *k_pk, const unsigned char *k_sk,
    struct got *g)
{
	struct nym_seal s;
	struct nym_in in;
	int r, e;

	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    nym_in_open(&in, fd, 2 * (NYM_SEAL_CHUNK + NYM_SEAL_OVER)) == -1)
		exit(99);
	errno = 0;
	r = nym_popd_unseal(&in, &s, k_pk, k_sk, plain, sink, g);
	e = errno;
	nym_in_close(&in);
	return r == -1 ? e : r == 0 ? 0 : 1000 + r;
}

static void
records(void)
{
	static unsigned char msg[3 * NYM_SEAL_CHUNK + 100];
	struct got g;
	unsigned char *rec, *b;
	size_t rlen, i;
	int fd;

	if (nym_seal_keypair(pk, sk) == -1 || nym_seal_keypair(pk2, sk2) == -1)
		exit(99);
	for (i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)(i * 7 + i / 256);
	memset(&g, 0, sizeof g);
	g.buf = malloc(sizeof msg);
	fd = sealfile(msg, sizeof msg, &rec, &rlen);
	check_int(readrec(fd, pk, sk, &g), 0, "a 4-chunk record reads whole");
	check(g.len == sizeof msg && memcmp(g.buf, msg, g.len) == 0,
	    "its plaintext is the original");
	check_int(g.calls, 4, "one call per chunk");
	g.len = g.calls = 0;
	g.stopat = 2;
	check_int(readrec(fd, pk, sk, &g), 1007, "the sink can stop it");
	check_int(g.len, 2 * NYM_SEAL_CHUNK, "after two chunks");
	g.stopat = 0;
	g.len = g.calls = 0;
	check_int(readrec(fd, pk2, sk2, &g), EACCES,
	    "another key: EACCES");
	check_int(g.len, 0, "nothing handed over");
	close(fd);

	/* A byte changed in the third chunk: the first two are out, the
	 * rest never. */
	b = malloc(rlen + 1);
	memcpy(b, rec, rlen);
	b[NYM_SEAL_HDRLEN + 2 * (NYM_SEAL_CHUNK + NYM_SEAL_OVER) + 10] ^= 1;
	fd = rawfile(b, rlen);
	g.len = g.calls = 0;
	check_int(readrec(fd, pk, sk, &g), EBADMSG, "a changed byte: EBADMSG");
	check_int(g.len, 2 * NYM_SEAL_CHUNK, "only the verified chunks out");
	close(fd);

	/* Cut short: at every chunk boundary and inside. */
	memcpy(b, rec, rlen);
	fd = rawfile(b, rlen - 1);
	g.len = g.calls = 0;
	check_int(readrec(fd, pk, sk, &g), EBADMSG, "one byte short: EBADMSG");
	check_int(g.len, 3 * NYM_SEAL_CHUNK, "the last chunk not handed over");
	close(fd);
	fd = rawfile(b, NYM_SEAL_HDRLEN + NYM_SEAL_CHUNK + NYM_SEAL_OVER);
	g.len = g.calls = 0;
	check_int(readrec(fd, pk, sk, &g), EBADMSG,
	    "cut after a whole chunk: EBADMSG");
	close(fd);
	fd = rawfile(b, NYM_SEAL_HDRLEN);
	check_int(readrec(fd, pk, sk, &g), EBADMSG, "header only: EBADMSG");
	close(fd);
	fd = rawfile(b, 50);
	check_int(readrec(fd, pk, sk, &g), EBADMSG, "half a header: EBADMSG");
	close(fd);

	/* Something after the last chunk. */
	b[rlen] = 'x';
	fd = rawfile(b, rlen + 1);
	g.len = g.calls = 0;
	check_int(readrec(fd, pk, sk, &g), EBADMSG,
	    "a byte after the last chunk: EBADMSG");
	check_int(g.len, 3 * NYM_SEAL_CHUNK, "the last chunk not handed over");
	close(fd);
	free(rec);

	/* One short record: nothing at all before it is known whole. */
	fd = sealfile((const unsigned char *)"hello\n", 6, &rec, &rlen);
	memcpy(b, rec, rlen);
	b[rlen] = '\n';
	close(fd);
	fd = rawfile(b, rlen + 1);
	g.len = g.calls = 0;
	check_int(readrec(fd, pk, sk, &g), EBADMSG,
	    "a short record with a byte after it: EBADMSG");
	check_int(g.calls, 0, "and nothing handed over");
	close(fd);
	free(rec);

	fd = sealfile((const unsigned char *)"", 0, &rec, &rlen);
	g.len = g.calls = 0;
	check_int(readrec(fd, pk, sk, &g), 0, "an empty message reads");
	check(g.calls == 1 && g.len == 0, "as one empty chunk");
	close(fd);
	free(rec);

	fd = rawfile((const unsigned char *)"From: a\n\nplain\n", 15);
	check_int(readrec(fd, pk, sk, &g), EINVAL, "a plain message: EINVAL");
	close(fd);
	fd = rawfile((const unsigned char *)"", 0);
	check_int(readrec(fd, pk, sk, &g), EINVAL, "an empty file: EINVAL");
	close(fd);
	memcpy(b, "NYMBOXE1\002\001\001\020", 12);
	fd = rawfile(b, NYM_SEAL_HDRLEN + 40);
	check_int(readrec(fd, pk, sk, &g), ENOTSUP, "version 2: ENOTSUP");
	close(fd);
	free(b);
	free(g.buf);
}

/* ---- parsers ---- */

static void
parsers(void)
{
	const char *a, *end;
	char v[5], uid[NYM_POP3_UIDL + 1], user[64], pass[64], name[100];
	char b64[NYM_POPD_LINE + 8];
	size_t pl;
	int r;

	check(nym_popd_verb("retr 1", v, &a) == 0 && strcmp(v, "RETR") == 0 &&
	    strcmp(a, "1") == 0, "verb upper-cased, argument after one space");
	check(nym_popd_verb("TOP", v, &a) == 0 && strcmp(v, "TOP") == 0 &&
	    *a == '\0', "three letters, no argument");
	check(nym_popd_verb("PASS  two  spaces ", v, &a) == 0 &&
	    strcmp(a, " two  spaces ") == 0, "the rest kept as it is");
	check(nym_popd_verb("RETRX 1", v, &a) == -1, "five letters: refused");
	check(nym_popd_verb("NO", v, &a) == -1, "two letters: refused");
	check(nym_popd_verb("RE1R", v, &a) == -1, "a digit: refused");
	check(nym_popd_verb("", v, &a) == -1, "empty: refused");

	check_int(nym_popd_num("12", &end), 12, "a number");
	check(*end == '\0', "end after it");
	check_int(nym_popd_num("3 10", &end), 3, "a number before a space");
	check(*end == ' ', "end at the space");
	check_int(nym_popd_num("999999999", &end), 999999999, "nine digits");
	check_int(nym_popd_num("1234567890", &end), -1, "ten digits: -1");
	check_int(nym_popd_num("-1", &end), -1, "a sign: -1");
	check_int(nym_popd_num("", &end), -1, "nothing: -1");
	check_int(nym_popd_num("0", &end), 0, "zero parses (the caller "
	    "refuses it as a message number)");

	nym_popd_uid("3l5b56ce2m4ejcquid2c72dhfi", uid);
	check_str(uid, "3l5b56ce2m4ejcquid2c72dhfi", "a name is its own uid");
	nym_popd_uid("3l5b56ce2m4ejcquid2c72dhfi:2,S", uid);
	check_str(uid, "3l5b56ce2m4ejcquid2c72dhfi",
	    "flags are not part of it");
	memset(name, 'a', 70);
	name[70] = '\0';
	nym_popd_uid(name, uid);
	check_int(strlen(uid), 70, "70 bytes: as it is");
	name[70] = 'a';
	name[71] = '\0';
	nym_popd_uid(name, uid);
	check(strlen(uid) == 41 && uid[0] == 'x', "71 bytes: hashed");
	nym_popd_uid("a b", uid);
	check(strlen(uid) == 41 && uid[0] == 'x', "a space: hashed");
	nym_popd_uid(":2,S", uid);
	check(strlen(uid) == 41 && uid[0] == 'x',
	    "nothing before flags: hashed");
	nym_popd_uid("a b", uid);
	snprintf(name, sizeof name, "%s", uid);
	nym_popd_uid("a b", uid);
	check_str(uid, name, "a hash is the same every time");

	/* "\0alice\0secret" */
	r = nym_popd_plain("AGFsaWNlAHNlY3JldA==", user, sizeof user, pass,
	    sizeof pass, &pl);
	check(r == 0 && strcmp(user, "alice") == 0 && pl == 6 &&
	    memcmp(pass, "secret", 6) == 0, "PLAIN without authzid");
	/* "alice\0alice\0se cret" */
	r = nym_popd_plain("YWxpY2UAYWxpY2UAc2UgY3JldA==", user, sizeof user,
	    pass, sizeof pass, &pl);
	check(r == 0 && strcmp(pass, "se cret") == 0,
	    "PLAIN with the same authzid");
	/* "bob\0alice\0secret" */
	errno = 0;
	r = nym_popd_plain("Ym9iAGFsaWNlAHNlY3JldA==", user, sizeof user, pass,
	    sizeof pass, &pl);
	check(r == -1 && errno == EPERM, "acting for another: EPERM");
	/* "\0alice\0" : empty password is allowed here */
	r = nym_popd_plain("AGFsaWNlAA==", user, sizeof user, pass,
	    sizeof pass, &pl);
	check(r == 0 && pl == 0, "an empty password parses");
	/* "\0\0secret" */
	errno = 0;
	r = nym_popd_plain("AABzZWNyZXQ=", user, sizeof user, pass,
	    sizeof pass, &pl);
	check(r == -1 && errno == EINVAL, "no user: EINVAL");
	/* "alice\0secret" */
	errno = 0;
	r = nym_popd_plain("YWxpY2UAc2VjcmV0", user, sizeof user, pass,
	    sizeof pass, &pl);
	check(r == -1 && errno == EINVAL, "one NUL: EINVAL");
	/* "\0a\0b\0c" */
	errno = 0;
	r = nym_popd_plain("AGEAYgBj", user, sizeof user, pass, sizeof pass,
	    &pl);
	check(r == -1 && errno == EINVAL, "three NULs: EINVAL");
	errno = 0;
	r = nym_popd_plain("!!!!", user, sizeof user, pass, sizeof pass, &pl);
	check(r == -1 && errno == EINVAL, "not base64: EINVAL");
	errno = 0;
	r = nym_popd_plain("AGFsaWNlAHNlY3JldA==", user, 5, pass, sizeof pass,
	    &pl);
	check(r == -1 && errno == E2BIG, "user longer than its buffer: E2BIG");
	errno = 0;
	r = nym_popd_plain("AGFsaWNlAHNlY3JldA==", user, sizeof user, pass, 6,
	    &pl);
	check(r == -1 && errno == E2BIG, "password longer than its buffer: "
	    "E2BIG");
	memset(b64, 'A', NYM_POPD_LINE + 4);
	b64[NYM_POPD_LINE + 4] = '\0';
	errno = 0;
	r = nym_popd_plain(b64, user, sizeof user, pass, sizeof pass, &pl);
	check(r == -1 && errno == E2BIG, "a response over the line limit: "
	    "E2BIG");
}

int
main(void)
{
	encoder();
	records();
	parsers();
	return tap_done();
}
