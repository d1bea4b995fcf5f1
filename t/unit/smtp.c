/*
 * smtp.c - unit tests for the SMTP pieces (reply reader, EHLO keywords,
 * commands, the DATA writer and reader, MAIL and RCPT parsing) and the
 * streamed maildir file; the shared helpers the SMTP and POP3 tools use
 * (recipient lists, protocol lines, small secret files, directory syncs,
 * deadlines).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "proto.h"
#include "store.h"
#include "tap.h"

static char tmpl[] = "/tmp/nymsmtp.XXXXXX";

/* A descriptor to read s[0, n) from. */
static int
feed(const char *s, size_t n)
{
	char path[64];
	int fd;

	snprintf(path, sizeof path, "%s/feed.XXXXXX", tmpl);
	if ((fd = mkstemp(path)) == -1)
		exit(99);
	unlink(path);
	if (nym_write_all(fd, s, n) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		exit(99);
	return fd;
}

/* An empty file to write to. */
static int
sink(void)
{
	return feed("", 0);
}

/* What was written to fd, NUL ended, malloc'd; its length in *n. */
static char *
slurp(int fd, size_t *n)
{
	struct stat st;
	char *p;

	if (fstat(fd, &st) == -1 || (p = malloc((size_t)st.st_size + 1)) ==
	    NULL || lseek(fd, 0, SEEK_SET) == -1)
		exit(99);
	*n = (size_t)nym_read_all(fd, p, (size_t)st.st_size);
	p[*n] = '\0';
	return p;
}

static int
reply(const char *s, struct nym_smtp_reply *r, int *err)
{
	struct nym_in in;
	int fd = feed(s, strlen(s)), code;

	nym_in_open(&in, fd, 4096);
	errno = 0;
	code = nym_smtp_reply(&in, r);
	*err = errno;
	nym_in_close(&in);
	close(fd);
	return code;
}

static void
test_reply(void)
{
	static struct nym_smtp_reply r;
	struct nym_smtp_ext x;
	struct nym_in in;
	char *big;
	size_t i;
	int e, p[2];

	check_int(reply("250 Ok\r\n", &r, &e), 250, "one-line reply");
	check_str(r.text, "Ok", "its text");
	check_int(reply("354\r\n", &r, &e), 354, "code alone");
	check_str(r.text, "", "no text");
	check_int(reply("220 hi\n", &r, &e), 220, "LF alone");
	check_int(reply("250-mx\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n", &r, &e), 250,
	    "multi-line reply");
	check_int(r.lines, 6, "six lines");
	check_str(r.text, "mx\nPIPELINING\nSIZE 1000\n8BITMIME\n"
	    "ENHANCEDSTATUSCODES\nAUTH PLAIN LOGIN CRAM-MD5 XOAUTH2",
	    "joined with LF");
	nym_smtp_ehlo(&r, &x);
	check(x.pipelining && x.eightbitmime && x.enhanced && x.size &&
	    !x.starttls && !x.smtputf8, "EHLO keywords");
	check_int(x.maxsize, 1000, "SIZE limit");
	check_int(x.auth, NYM_SMTP_AUTH_PLAIN | NYM_SMTP_AUTH_LOGIN |
	    NYM_SMTP_AUTH_CRAMMD5 | NYM_SMTP_AUTH_OTHER, "AUTH mechanisms");
	reply("250-pipelining\r\n250-AUTH=LOGIN\r\n250 size\r\n", &r, &e);
	nym_smtp_ehlo(&r, &x);
	check(!x.pipelining, "the greeting line is not a keyword");
	check(x.auth == NYM_SMTP_AUTH_LOGIN && x.size && x.maxsize == 0,
	    "old AUTH=, SIZE without a number, any case");

	check_int(reply("250-a\r\n251 b\r\n", &r, &e), -1,
	    "codes that differ");
	check_int(e, EPROTO, "are EPROTO");
	check_int(reply("hello\r\n", &r, &e), -1, "not a reply");
	check_int(e, EPROTO, "is EPROTO");
	check_int(reply("250x\r\n", &r, &e), -1, "no separator");
	check_int(reply("150 x\r\n", &r, &e), -1, "1xx is not SMTP");
	check_int(reply("250-a\r\n", &r, &e), -1, "EOF in a reply");
	check_int(e, ECONNRESET, "is ECONNRESET");
	check_int(reply("", &r, &e), -1, "EOF before a reply");
	check_int(reply("250 a\001b\x80\r\n", &r, &e), 250, "control bytes");
	check_str(r.text, "a?b?", "are shown as ?");

	big = malloc(NYM_SMTP_REPLYLINE * 2);
	memset(big, 'x', NYM_SMTP_REPLYLINE * 2);
	memcpy(big, "250 ", 4);
	memcpy(big + NYM_SMTP_REPLYLINE - 2, "\r\n", 3);
	check_int(reply(big, &r, &e), 250, "a 2048-byte line is taken");
	check_int(r.len, NYM_SMTP_REPLYLINE - 6, "whole");
	memcpy(big + NYM_SMTP_REPLYLINE - 2, "xx\r\n", 5);
	check_int(reply(big, &r, &e), -1, "a 2050-byte line is not");
	check_int(e, EPROTO, "EPROTO");
	free(big);

	big = malloc(101 * 8 + 1);
	for (i = 0; i < 101; i++)
		memcpy(big + i * 8, "250-ab\r\n", 9);
	memcpy(big + 99 * 8, "250 ab\r\n", 9);
	check_int(reply(big, &r, &e), 250, "100 lines are taken");
	check_int(r.lines, 100, "all of them");
	memcpy(big + 99 * 8, "250-ab\r\n250 ab\r\n", 17);
	check_int(reply(big, &r, &e), -1, "101 lines are not");
	free(big);

	/* A silent server: the reader's timeout. */
	if (pipe(p) == -1)
		exit(99);
	nym_in_open(&in, p[0], 4096);
	in.ms = 100;
	errno = 0;
	check_int(nym_smtp_reply(&in, &r), -1, "silence times out");
	check_int(errno, ETIMEDOUT, "ETIMEDOUT");
	nym_in_close(&in);
	close(p[0]);
	close(p[1]);
}

static void
test_cmd(void)
{
	struct nym_out o;
	char *got, long600[600];
	size_t n;
	int fd = sink();

	nym_out_open(&o, fd, 256);
	check_int(nym_smtp_cmd(&o, "MAIL FROM:<%s>", "a@b.i2p"), 0,
	    "a command");
	check_int(nym_smtp_cmd(&o, "RCPT TO:<%s>\r\nDATA", "a@b.i2p"), -1,
	    "CRLF inside");
	check_int(errno, EINVAL, "is EINVAL");
	memset(long600, 'a', sizeof long600 - 1);
	long600[sizeof long600 - 1] = '\0';
	check_int(nym_smtp_cmd(&o, "NOOP %s", long600), -1, "too long");
	check_int(errno, EMSGSIZE, "is EMSGSIZE");
	long600[510 - 5] = '\0';
	check_int(nym_smtp_cmd(&o, "NOOP %s", long600), 0,
	    "510 bytes and CRLF are fine");
	nym_out_flush(&o);
	got = slurp(fd, &n);
	check_int(n, 21 + 512, "bytes written");
	check(memcmp(got, "MAIL FROM:<a@b.i2p>\r\nNOOP aaa", 29) == 0 &&
	    memcmp(got + n - 2, "\r\n", 2) == 0, "as queued");
	free(got);
	nym_out_close(&o);
	close(fd);
}

/* Run the DATA writer on s (stamp: the Bcc recipient's, or NULL); the
 * result malloc'd. */
static char *
putdata2(const char *s, size_t cap, size_t *n, const char *stamp)
{
	struct nym_in in;
	struct nym_out o;
	int in_fd = feed(s, strlen(s)), out_fd = sink();
	char *got;

	nym_in_open(&in, in_fd, cap);
	nym_out_open(&o, out_fd, 64);
	if (nym_smtp_putdata(&in, &o, stamp) == -1)
		exit(99);
	got = slurp(out_fd, n);
	nym_in_close(&in);
	nym_out_close(&o);
	close(in_fd);
	close(out_fd);
	return got;
}

static char *
putdata(const char *s, size_t cap, size_t *n)
{
	return putdata2(s, cap, n, NULL);
}

/* Run the DATA reader on s; the message malloc'd, or NULL if it
 * failed (errno). */
static char *
getdata(const char *s, size_t cap, uint64_t max, unsigned flags,
    struct nym_smtp_data *d, char *rest, size_t restcap)
{
	struct nym_in in;
	struct nym_out o;
	int in_fd = feed(s, strlen(s)), out_fd = sink(), r, e;
	size_t n;
	char *got;

	nym_in_open(&in, in_fd, cap);
	nym_out_open(&o, out_fd, 64);
	r = nym_smtp_getdata(&in, &o, max, flags, d);
	e = errno;
	got = slurp(out_fd, &n);
	if (rest != NULL) {
		n = in.len - in.pos < restcap - 1 ? in.len - in.pos :
		    restcap - 1;
		memcpy(rest, in.buf + in.pos, n);
		rest[n] = '\0';
	}
	nym_in_close(&in);
	nym_out_close(&o);
	close(in_fd);
	close(out_fd);
	if (r == -1) {
		free(got);
		errno = e;
		return NULL;
	}
	return got;
}

static void
test_data(void)
{
	static const char msg[] =
	    "From alice@a.i2p Mon Nov 23 08:48:41 2026\n"
	    "From: Alice <alice@a.i2p>\n"
	    "To: bob@b.i2p\n"
	    "Bcc: carol@c.i2p,\n"
	    "  dave@d.i2p\n"
	    "Subject: dots\r\n"
	    "bcc : eve@e.i2p\n"
	    "Resent-Bcc: frank@f.i2p\n"
	    "\n"
	    ".leading dot\n"
	    "..two\n"
	    ".\n"
	    "Bcc: not a header\n"
	    "cr\r\n"
	    "no newline";
	static const char want[] =
	    "From: Alice <alice@a.i2p>\r\n"
	    "To: bob@b.i2p\r\n"
	    "Subject: dots\r\n"
	    "\r\n"
	    "..leading dot\r\n"
	    "...two\r\n"
	    "..\r\n"
	    "Bcc: not a header\r\n"
	    "cr\r\n"
	    "no newline\r\n"
	    ".\r\n";
	static const char unstuffed[] =
	    "From: Alice <alice@a.i2p>\r\n"
	    "To: bob@b.i2p\r\n"
	    "Subject: dots\r\n"
	    "\r\n"
	    ".leading dot\r\n"
	    "..two\r\n"
	    ".\r\n"
	    "Bcc: not a header\r\n"
	    "cr\r\n"
	    "no newline\r\n";
	struct nym_smtp_data d;
	char *got, *back, *big, rest[64];
	size_t n, i;

	got = putdata(msg, 4096, &n);
	check_str(got, want, "DATA: CRLF, dots, no Bcc, no From_ line");
	back = getdata(got, 4096, 0, 0, &d, NULL, 0);
	check_str(back, unstuffed, "round trip through the reader");
	check_int(d.size, strlen(unstuffed), "size counted");
	check(!d.over && d.werr == 0, "not over, no error");
	free(back);
	free(got);

	/* The same with a reader buffer smaller than the lines. */
	got = putdata(msg, 16, &n);
	check_str(got, want, "DATA in 16-byte pieces");
	free(got);
	got = putdata("X-Very-Long-Field-Name: 1\nBcc: x\n\nb\n", 8, &n);
	check_str(got, "X-Very-Long-Field-Name: 1\r\n\r\nb\r\n.\r\n",
	    "a name longer than the buffer does not end the header");
	back = getdata(want, 8, 0, 0, &d, NULL, 0);
	check_str(back, unstuffed, "read back in 8-byte pieces");
	free(back);
	free(got);

	got = putdata("", 4096, &n);
	check_str(got, ".\r\n", "an empty message");
	free(got);
	/* A bare CR is a line end too (t/fuzz/regress/smtp-data): the
	 * server refuses it alone, and a dot after it starts a line. */
	got = putdata("a\rb\r.\r\nc\r", 4096, &n);
	check_str(got, "a\r\nb\r\n..\r\nc\r\n.\r\n", "a bare CR becomes CRLF");
	free(got);
	got = putdata("1234567\r.x\n", 8, &n);
	check_str(got, "1234567\r\n..x\r\n.\r\n",
	    "a bare CR at a piece's end");
	free(got);
	got = putdata("Subject: x\n\nbody\n", 4096, &n);
	check_str(got, "Subject: x\r\n\r\nbody\r\n.\r\n", "no Bcc: as it was");
	free(got);
	got = putdata("From : x\nBcc:\n\n", 4096, &n);
	check_str(got, "From : x\r\n\r\n.\r\n",
	    "'From :' is a field, not a From_ line; empty Bcc goes");
	free(got);

	/* Bcc stamps (pow-stamp -M): none goes, but the one given, as
	 * X-Hashcash where the first was, or at the header's end. */
	got = putdata("To: b@b.i2p\nX-Hashcash: 1:0:x:b@b.i2p::r:c\n"
	    "X-Hashcash-Bcc: 1:0:x:c@c.i2p::r:c\nx-hashcash-bcc :\n"
	    " 1:0:x:d@d.i2p::r:c\n\nbody\n", 4096, &n);
	check_str(got, "To: b@b.i2p\r\nX-Hashcash: 1:0:x:b@b.i2p::r:c\r\n"
	    "\r\nbody\r\n.\r\n", "Bcc stamps never go, folds and all");
	free(got);
	got = putdata2("To: b@b.i2p\nX-Hashcash-Bcc: 1:0:x:c@c.i2p::r:c\n"
	    "X-Hashcash-Bcc: 1:0:x:d@d.i2p::r:c\nSubject: s\n\nbody\n",
	    16, &n, "1:0:x:d@d.i2p::r:c");
	check_str(got, "To: b@b.i2p\r\nX-Hashcash: 1:0:x:d@d.i2p::r:c\r\n"
	    "Subject: s\r\n\r\nbody\r\n.\r\n",
	    "a Bcc recipient's copy: its stamp alone, as X-Hashcash");
	free(got);
	got = putdata2("From x Mon Nov 23 08:48:41 2026\nTo: b@b.i2p\n\nb\n",
	    4096, &n, "1:0:x:d@d.i2p::r:c");
	check_str(got, "To: b@b.i2p\r\nX-Hashcash: 1:0:x:d@d.i2p::r:c\r\n"
	    "\r\nb\r\n.\r\n", "no Bcc stamp field: the stamp at the end");
	free(got);
	got = putdata2("To: b@b.i2p", 4096, &n, "1:0:x:d@d.i2p::r:c");
	check_str(got, "To: b@b.i2p\r\nX-Hashcash: 1:0:x:d@d.i2p::r:c\r\n"
	    ".\r\n", "all header, no line end: the stamp after it");
	free(got);

	/* A long line with a dot, split by a tiny buffer at the CR. */
	big = malloc(40);
	snprintf(big, 40, ".%s\r\nx\r\n", "abcdefgh");
	got = putdata(big, 10, &n);
	check_str(got, "..abcdefgh\r\nx\r\n.\r\n", "CR at a piece boundary");
	free(got);
	free(big);

	/* CRLF to LF, also across pieces. */
	back = getdata("a\r\nb c\r\n\r\n..\r\n.\r\n", 4096, 0, NYM_SMTP_LF,
	    &d, NULL, 0);
	check_str(back, "a\nb c\n\n.\n", "NYM_SMTP_LF");
	check_int(d.size, 13, "size as received");
	check(d.bare == 0, "no bare CR or LF");
	free(back);
	back = getdata("abcdefg\r\nabcdefgh\r\nabcdefg\r\nx\r\n.\r\n", 8, 0,
	    NYM_SMTP_LF, &d, NULL, 0);
	check_str(back, "abcdefg\nabcdefgh\nabcdefg\nx\n",
	    "NYM_SMTP_LF with a CR at the end of a piece");
	free(back);
	back = getdata("a\r\n.\r\n", 4096, 0, NYM_SMTP_LF, &d, NULL, 0);
	check_str(back, "a\n", "one line");
	free(back);

	/* Only CRLF.CRLF ends DATA.  Strict: a bare LF or CR stops the
	 * reading, wherever it is (SMTP smuggling). */
	back = getdata("a\n.\nQUIT\n", 4096, 0, NYM_SMTP_STRICT, &d, rest,
	    sizeof rest);
	check(back != NULL && d.bare == '\n', "strict: LF.LF is a bare LF");
	check_str(rest, ".\nQUIT\n", "reading stopped at it");
	free(back);
	back = getdata("a\r\n.\nMAIL\r\n.\r\n", 4096, 0, NYM_SMTP_STRICT,
	    &d, NULL, 0);
	check(back != NULL && d.bare == '\n', "strict: CRLF.LF: a bare LF");
	free(back);
	back = getdata("a\r\nb\rc\r\n.\r\n", 4096, 0, NYM_SMTP_STRICT, &d,
	    NULL, 0);
	check(back != NULL && d.bare == '\r', "strict: a bare CR in a line");
	free(back);
	back = getdata("abcdefg\rx\r\n.\r\n", 8, 0, NYM_SMTP_STRICT, &d,
	    NULL, 0);
	check(back != NULL && d.bare == '\r',
	    "strict: a bare CR at the end of a piece");
	free(back);
	back = getdata("a\r\n\r.\r\n.\r\n", 4096, 0, NYM_SMTP_STRICT, &d,
	    NULL, 0);
	check(back != NULL && d.bare == '\r', "strict: CR.CRLF: a bare CR");
	free(back);
	back = getdata("\n.\r\n", 4096, 0, NYM_SMTP_STRICT, &d, NULL, 0);
	check(back != NULL && d.bare == '\n',
	    "strict: a bare LF as the first byte");
	free(back);

	/* Normalize (the default): a bare LF ends a line, a bare CR is
	 * content, and a lone dot next to a bare LF is content too. */
	back = getdata("a\n.\nb\n.\r\nc\r\n.\r\nQUIT\r\n", 4096, 0,
	    NYM_SMTP_LF, &d, rest, sizeof rest);
	check_str(back, "a\n.\nb\n.\nc\n", "LF.LF and LF.CRLF are content");
	check(d.bare == '\n', "and the bare LF is noted");
	check_str(rest, "QUIT\r\n", "CRLF.CRLF ends it");
	free(back);
	back = getdata("a\r\n.\nb\r\n.\r\n", 4096, 0, NYM_SMTP_LF, &d,
	    NULL, 0);
	check_str(back, "a\n.\nb\n", "CRLF.LF is content");
	free(back);
	back = getdata("a\rb\r\n\r.\r\n.\r\n", 4096, 0, NYM_SMTP_LF, &d,
	    NULL, 0);
	check_str(back, "a\rb\n\r.\n", "bare CRs are content");
	check(d.bare == '\r', "and noted");
	free(back);
	back = getdata("a\r\n.x\r\n. \r\n.\r\n", 4096, 0, 0, &d, NULL, 0);
	check_str(back, "a\r\nx\r\n \r\n", "only a lone dot ends it");
	free(back);
	back = getdata("a\r\nb\r\n", 4096, 0, 0, &d, NULL, 0);
	check(back == NULL && errno == ECONNRESET, "EOF before the dot");
	back = getdata("a\r\nb", 4096, 0, 0, &d, NULL, 0);
	check(back == NULL && errno == ECONNRESET, "EOF in a line");

	big = malloc(5000);
	for (i = 0; i < 4900; i += 10)
		memcpy(big + i, "12345678\r\n", 10);
	memcpy(big + 4900, ".\r\nNOOP\r\n", 10);
	back = getdata(big, 1024, 1000, 0, &d, rest, sizeof rest);
	check(back != NULL && d.over, "over the limit");
	check_int(d.size, 4900, "all of it read");
	check(strlen(back) <= 1000, "no more than the limit written");
	check_str(rest, "NOOP\r\n", "the session can go on");
	free(back);
	back = getdata(big, 1024, 4900, 0, &d, NULL, 0);
	check(back != NULL && !d.over && strlen(back) == 4900,
	    "exactly at the limit");
	free(back);
	free(big);
}

static int
line(const char *s, size_t max, char *buf, size_t cap, int *err,
    char *rest)
{
	struct nym_in in;
	int fd = feed(s, strlen(s)), r;

	nym_in_open(&in, fd, 1024);
	errno = 0;
	r = nym_smtp_getline(&in, buf, cap, max);
	*err = errno;
	if (rest != NULL) {
		rest[0] = '\0';
		if (r != 0 && nym_smtp_getline(&in, rest, 64, 64) != 1)
			strcpy(rest, "(none)");
	}
	nym_in_close(&in);
	close(fd);
	return r;
}

static void
test_getline(void)
{
	char buf[NYM_SMTP_LINE + 1], rest[64], *s;
	int e;

	check_int(line("NOOP\r\n", 512, buf, sizeof buf, &e, NULL), 1,
	    "a command");
	check_str(buf, "NOOP", "line end removed");
	check_int(line("QUIT\n", 512, buf, sizeof buf, &e, NULL), 1, "LF");
	check_str(buf, "QUIT", "LF removed");
	check_int(line("", 512, buf, sizeof buf, &e, NULL), 0, "EOF");
	check_int(line("QUI", 512, buf, sizeof buf, &e, NULL), 0,
	    "a last line without LF is not a command");
	s = malloc(2000);
	memset(s, 'a', 2000);
	memcpy(s + 510, "\r\nNOOP\r\n", 9);
	check_int(line(s, 512, buf, sizeof buf, &e, NULL), 1,
	    "512 bytes with CRLF");
	check_int(strlen(buf), 510, "all there");
	memcpy(s + 510, "b\r\nNOOP\r\n", 10);
	check_int(line(s, 512, buf, sizeof buf, &e, rest), -1, "513 bytes");
	check_int(e, E2BIG, "E2BIG");
	check_str(rest, "NOOP", "read past, the next line is whole");
	memset(s, 'a', 2000);
	memcpy(s + 1500, "\r\nNOOP\r\n", 9);
	check_int(line(s, 512, buf, sizeof buf, &e, rest), -1,
	    "longer than the reader's buffer");
	check_int(e, E2BIG, "E2BIG too");
	check_str(rest, "NOOP", "and the next line still whole");
	free(s);
	s = malloc(NYM_SMTP_SKIP + 3000);
	memset(s, 'x', NYM_SMTP_SKIP + 2999);
	s[NYM_SMTP_SKIP + 2999] = '\0';
	check_int(line(s, 512, buf, sizeof buf, &e, NULL), -1,
	    "no LF at all");
	check_int(e, EMSGSIZE, "EMSGSIZE: hang up");
	free(s);
}

static void
test_nul(void)
{
	struct nym_in in;
	char buf[64];
	int fd = feed("NO\0OP\r\nRSET\r\n", 13);

	nym_in_open(&in, fd, 1024);
	errno = 0;
	check_int(nym_smtp_getline(&in, buf, sizeof buf, 512), -1,
	    "a NUL byte");
	check_int(errno, EILSEQ, "EILSEQ");
	check_int(nym_smtp_getline(&in, buf, sizeof buf, 512), 1,
	    "then the next line");
	check_str(buf, "RSET", "whole");
	nym_in_close(&in);
	close(fd);
}

static const struct {
	const char *line;
	int err;		/* 0: parses */
	const char *addr;
	uint64_t size;
	int body;
} mails[] = {
	{ "MAIL FROM:<alice@Alice.I2P>", 0, "alice@alice.i2p", 0, 0 },
	{ "mail from:<Alice@a.i2p>", 0, "Alice@a.i2p", 0, 0 },
	{ "MAIL FROM: <a@b.c>", 0, "a@b.c", 0, 0 },
	{ "MAIL FROM:<>", 0, "", 0, 0 },
	{ "MAIL FROM:<> SIZE=1000 BODY=8BITMIME", 0, "", 1000, 8 },
	{ "MAIL FROM:<a@b.c> body=7bit size=5 AUTH=<>", 0, "a@b.c", 5, 7 },
	{ "MAIL FROM:<a@b.c> SIZE=99999999999999999999999", 0, "a@b.c",
	    UINT64_MAX, 0 },
	{ "MAIL FROM:<\"a b\\\"c\"@b.c>", 0, "\"a b\\\"c\"@b.c", 0, 0 },
	{ "MAIL FROM:<a.b+c@[127.0.0.1]>", 0, "a.b+c@[127.0.0.1]", 0, 0 },
	{ "MAIL FROM:<a@b.c>  ", 0, "a@b.c", 0, 0 },
	{ "MAIL FROM:a@b.c", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c>x", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<postmaster>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a..b@c.d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<.a@c.d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@-c.d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@c-.d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@c..d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a b@c.d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<\xc3\xa9@c.d>", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c> SIZE=", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c> SIZE=1x", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c> SIZE=1 SIZE=2", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c> BODY=BINARYMIME", EINVAL, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c> SMTPUTF8", ENOTSUP, NULL, 0, 0 },
	{ "MAIL FROM:<a@b.c> RET=HDRS", ENOTSUP, NULL, 0, 0 },
	{ "MAIL FROM:<@relay.i2p:a@b.c>", EACCES, NULL, 0, 0 },
	{ "MAIL FROM:<@r1,@r2:a@b.c>", EACCES, NULL, 0, 0 },
	{ "MAIL TO:<a@b.c>", EINVAL, NULL, 0, 0 },
	{ NULL, 0, NULL, 0, 0 }
};

static const struct {
	const char *line;
	int err;
	const char *addr;
} rcpts[] = {
	{ "RCPT TO:<bob@Bob.i2p>", 0, "bob@bob.i2p" },
	{ "rcpt to: <bob@b.i2p>", 0, "bob@b.i2p" },
	{ "RCPT TO:<Postmaster>", 0, "Postmaster" },
	{ "RCPT TO:<postmaster@b.i2p>", 0, "postmaster@b.i2p" },
	{ "RCPT TO:<>", EINVAL, NULL },
	{ "RCPT TO:<bob>", EINVAL, NULL },
	{ "RCPT TO:<bob@b.i2p> NOTIFY=NEVER", ENOTSUP, NULL },
	{ "RCPT TO:<@x.i2p:bob@b.i2p>", EACCES, NULL },
	{ "RCPT FROM:<bob@b.i2p>", EINVAL, NULL },
	{ NULL, 0, NULL }
};

static void
test_parse(void)
{
	struct nym_smtp_mail m;
	char addr[NYM_SMTP_PATH], buf[600], what[160];
	size_t i;
	int r;

	for (i = 0; mails[i].line != NULL; i++) {
		errno = 0;
		r = nym_smtp_parse_mail(mails[i].line, addr, sizeof addr, &m);
		snprintf(what, sizeof what, "%s", mails[i].line);
		if (mails[i].err != 0) {
			check(r == -1 && errno == mails[i].err, what);
			continue;
		}
		check(r == 0 && strcmp(addr, mails[i].addr) == 0 &&
		    m.size == mails[i].size && m.body == mails[i].body, what);
	}
	for (i = 0; rcpts[i].line != NULL; i++) {
		errno = 0;
		r = nym_smtp_parse_rcpt(rcpts[i].line, addr, sizeof addr);
		snprintf(what, sizeof what, "%s", rcpts[i].line);
		if (rcpts[i].err != 0)
			check(r == -1 && errno == rcpts[i].err, what);
		else
			check(r == 0 && strcmp(addr, rcpts[i].addr) == 0, what);
	}

	/* Limits: local part 64, domain 255, path 256. */
	memset(buf, 0, sizeof buf);
	memcpy(buf, "RCPT TO:<", 9);
	memset(buf + 9, 'a', 64);
	memcpy(buf + 73, "@b.c>", 6);
	check_int(nym_smtp_parse_rcpt(buf, addr, sizeof addr), 0,
	    "64-byte local part");
	memset(buf + 9, 'a', 65);
	memcpy(buf + 74, "@b.c>", 6);
	check_int(nym_smtp_parse_rcpt(buf, addr, sizeof addr), -1,
	    "65-byte local part");
	check_int(errno, ENAMETOOLONG, "ENAMETOOLONG");
	memset(buf, 0, sizeof buf);
	memcpy(buf, "RCPT TO:<a@", 11);
	for (i = 0; i < 5; i++) {
		memset(buf + 11 + i * 50, 'd', 49);
		buf[11 + i * 50 + 49] = '.';
	}
	memcpy(buf + 11 + 250, "com>", 5);
	check_int(nym_smtp_parse_rcpt(buf, addr, sizeof addr), -1,
	    "a 253-byte domain makes a 257-byte path");
	check_int(errno, ENAMETOOLONG, "ENAMETOOLONG");
	memset(buf, 0, sizeof buf);
	memcpy(buf, "RCPT TO:<a@", 11);
	memset(buf + 11, 'd', 64);
	memcpy(buf + 75, ".i2p>", 6);
	check_int(nym_smtp_parse_rcpt(buf, addr, sizeof addr), -1,
	    "a 64-byte label");
	check_int(errno, EINVAL, "EINVAL");
}

static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_maildir(void)
{
	struct nym_mdfile f, g;
	char md[128], sub[160], path[400];
	struct stat st;

	snprintf(md, sizeof md, "%s/Maildir", tmpl);
	check_int(nym_maildir_make(md), 0, "maildir made");
	snprintf(sub, sizeof sub, "%s/cur", md);
	check(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700, "with cur/, 0700");
	check_int(nym_maildir_make(md), 0, "made again: fine");

	check_int(nym_maildir_open(&f, md), 0, "file opened in tmp/");
	check(strchr(f.name, '/') == NULL && strstr(f.name, ".nymbox") != NULL,
	    "a plain name without the host");
	check_int(nym_maildir_open(&g, md), 0, "a second one");
	check(strcmp(f.name, g.name) != 0, "with another name");
	nym_write_all(f.fd, "hello\n", 6);
	snprintf(sub, sizeof sub, "%s/tmp", md);
	check_int(entries(sub), 2, "both in tmp/");
	check_int(nym_maildir_commit(&f), 0, "committed");
	check_int(f.fd, -1, "closed");
	snprintf(path, sizeof path, "%s/new/%s", md, f.name);
	check(stat(path, &st) == 0 && st.st_size == 6 &&
	    (st.st_mode & 0777) == 0600, "in new/, whole, 0600");
	nym_maildir_abort(&g);
	nym_maildir_abort(&g);
	check_int(entries(sub), 0, "tmp/ empty after commit and abort");

	snprintf(sub, sizeof sub, "%s/new", md);
	snprintf(path, sizeof path, "rm -rf '%s'", sub);
	if (system(path) != 0)
		exit(99);
	check_int(nym_maildir_open(&f, md), 0, "open without new/");
	check_int(nym_maildir_commit(&f), -1, "commit fails");
	check_int(errno, ENOENT, "ENOENT");
	snprintf(sub, sizeof sub, "%s/tmp", md);
	check_int(entries(sub), 0, "nothing left in tmp/");

	snprintf(sub, sizeof sub, "%s/tmp", md);
	rmdir(sub);
	close(open(sub, O_WRONLY | O_CREAT, 0600));
	check_int(nym_maildir_make(md), -1, "tmp is a file");
	check_int(errno, ENOTDIR, "ENOTDIR");
	check_int(nym_maildir_open(&f, md), -1, "no file in a file");
}

static void
test_exit(void)
{
	static struct nym_smtp_reply r;
	int err;

	reply("250 2.0.0 ok\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 0, "250 is success");
	reply("354 go on\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 0, "354 is success");
	reply("451 4.3.0 later\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 75, "4xx is temporary");
	reply("550 5.1.1 no such user\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 67, "5.1.x is an unknown user");
	reply("552 message too big\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 65, "552 is the message");
	reply("554 5.6.0 bad content\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 65, "5.6.x is the message");
	reply("535 5.7.8 authentication failed\r\n", &r, &err);
	check_int(nym_smtp_exit(&r), 77, "other 5xx is policy");
	check_int(nym_worse(0, 67), 67, "a failure beats success");
	check_int(nym_worse(67, 75), 75, "75 beats a permanent failure");
	check_int(nym_worse(65, 67), 65, "else the first failure");
}

static void
vline(struct nym_out *o, size_t max, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
vline(struct nym_out *o, size_t max, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nym_out_vline(o, max, fmt, ap);
	va_end(ap);
}

static void
test_shared(void)
{
	struct nym_smtp_rcpt *rc = NULL;
	struct nym_out o;
	const char *why;
	char path[128], big[300], buf[16], *got;
	size_t n = 0, len, i;
	ssize_t r;
	long long t;
	int fd;

	check_int(nym_smtp_addrcpt(&rc, &n, "Bob <Bob@B.I2P>, c@C.i2p",
	    &why), NYM_EX_OK, "addrcpt: a list");
	check_int(n, 2, "addrcpt: two recipients");
	check_str(rc[0].addr, "Bob@b.i2p", "addrcpt: domain lower-cased");
	check_str(rc[1].domain, "c.i2p", "addrcpt: the domain apart");
	check_int(rc[1].code, -1, "addrcpt: pending");
	check_int(nym_smtp_addrcpt(&rc, &n, "nodomain", &why), NYM_EX_NOHOST,
	    "addrcpt: no domain is 68");
	check_int(nym_smtp_addrcpt(&rc, &n, "<bob@", &why), NYM_EX_DATAERR,
	    "addrcpt: unparsable is 65");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big + 250, "@b.i2p", 7);
	check_int(nym_smtp_addrcpt(&rc, &n, big, &why), NYM_EX_DATAERR,
	    "addrcpt: a 256-byte path is too long");
	check_int(n, 2, "addrcpt: nothing added on failure");
	nym_smtp_failall(rc, n, NYM_EX_TEMPFAIL, "gone");
	check(rc[0].code == NYM_EX_TEMPFAIL && rc[1].code == NYM_EX_TEMPFAIL &&
	    strcmp(rc[1].why, "gone") == 0, "failall: every pending one");
	rc[0].code = -1;
	nym_smtp_failall(rc, n, NYM_EX_OK, "");
	check(rc[0].code == NYM_EX_OK && rc[1].code == NYM_EX_TEMPFAIL,
	    "failall: only the pending ones");
	free(rc);

	fd = sink();
	nym_out_open(&o, fd, 4096);
	vline(&o, 512, "+OK %d", 7);
	vline(&o, 8, "%s", "abcdefghij");
	check_int(nym_out_flush(&o), 0, "vline: written");
	got = slurp(fd, &len);
	check_str(got, "+OK 7\r\nabcde\r\n", "vline: CRLF, cut to max");
	free(got);
	nym_out_close(&o);
	close(fd);

	snprintf(path, sizeof path, "%s/small", tmpl);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    nym_write_all(fd, "0123456789", 10) == -1)
		exit(99);
	close(fd);
	r = nym_read_small(path, buf, 10, 1);
	check(r == 10 && memcmp(buf, "0123456789", 10) == 0,
	    "read_small: exactly cap bytes");
	errno = 0;
	check(nym_read_small(path, buf, 9, 0) == -1 && errno == EFBIG,
	    "read_small: longer than cap is EFBIG");
	chmod(path, 0640);
	errno = 0;
	check(nym_read_small(path, buf, sizeof buf, 1) == -1 &&
	    errno == EPERM, "read_small: a secret others may read is EPERM");
	check_int(nym_read_small(path, buf, sizeof buf, 0), 10,
	    "read_small: not secret, mode does not matter");

	if ((fd = open(tmpl, O_RDONLY | O_DIRECTORY)) == -1)
		exit(99);
	check_int(nym_syncdir(tmpl), 0, "syncdir: a directory");
	check_int(nym_syncdirat(fd, "."), 0, "syncdirat: relative to a fd");
	errno = 0;
	check(nym_syncdirat(fd, "small") == -1 && errno == ENOTDIR,
	    "syncdirat: a file is ENOTDIR");
	errno = 0;
	check(nym_syncdirat(fd, "none") == -1 && errno == ENOENT,
	    "syncdirat: nothing there is ENOENT");
	close(fd);

	check_int(nym_left_ms(0), -1, "left_ms: no deadline");
	check_int(nym_left_ms(nym_now_ms() - 1), 0, "left_ms: past is 0");
	t = nym_left_ms(nym_now_ms() + 60000);
	check(t > 59000 && t <= 60000, "left_ms: time to go");
	for (i = 0; i < 3; i++)
		t = nym_now_ms();
	check(t > 0, "now_ms: monotonic clock");
}

/* The envelope sender (nym_smtp_sender), the secret-file verdict
 * (nym_secretwhy) and the number parser behind both -w and the
 * configuration (nym_tolong). */
static void
test_sender(void)
{
	char buf[NYM_SMTP_PATH], why[512], path[128];
	long v = 0;
	int fd;

	check(nym_smtp_sender("", buf, sizeof buf) == 0 && buf[0] == '\0',
	    "sender: empty is the null sender");
	check(nym_smtp_sender("<>", buf, sizeof buf) == 0 && buf[0] == '\0',
	    "sender: <> is the null sender");
	check(nym_smtp_sender("<a@b.i2p>", buf, sizeof buf) == 0 &&
	    strcmp(buf, "a@b.i2p") == 0, "sender: brackets removed");
	check(nym_smtp_sender("a@b@c.i2p", buf, sizeof buf) == 0,
	    "sender: the last @ starts the domain");
	check(nym_smtp_sender("nodomain", buf, sizeof buf) == -1 &&
	    errno == EINVAL, "sender: no @ refused");
	check(nym_smtp_sender("@b.i2p", buf, sizeof buf) == -1,
	    "sender: no local part refused");
	check(nym_smtp_sender("a@", buf, sizeof buf) == -1,
	    "sender: no domain refused");
	check(nym_smtp_sender("a b@c.i2p", buf, sizeof buf) == -1 &&
	    nym_smtp_sender("a\r@c.i2p", buf, sizeof buf) == -1 &&
	    nym_smtp_sender("<a@c.i2p", buf, sizeof buf) == -1 &&
	    nym_smtp_sender("<<>>", buf, sizeof buf) == -1,
	    "sender: blanks, controls, stray brackets refused");
	memset(why, 'a', 300);
	why[254] = '@';
	why[300] = '\0';
	check(nym_smtp_sender(why, buf, sizeof buf) == -1,
	    "sender: over the 256 bytes of a path refused");
	check(nym_smtp_sender("a@b.i2p", buf, 4) == -1,
	    "sender: over the buffer refused");

	snprintf(path, sizeof path, "%s/secret", tmpl);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	check(fd != -1 && write(fd, "pw\n", 3) == 3 && close(fd) == 0 &&
	    chmod(path, 0644) == 0, "secretwhy: a file mode 0644");
	check(nym_read_small(path, buf, sizeof buf, 1) == -1 &&
	    errno == EPERM, "secretwhy: nym_read_small refuses it");
	snprintf(buf, sizeof buf, "readable by others: chmod 600 %s", path);
	check_str(nym_secretwhy(path, EPERM, why, sizeof why), buf,
	    "secretwhy: the verdict and the fix");
	check(chmod(path, 0602) == 0, "secretwhy: mode 0602");
	snprintf(buf, sizeof buf, "writable by others: chmod 600 %s", path);
	check_str(nym_secretwhy(path, EPERM, why, sizeof why), buf,
	    "secretwhy: writable only");
	check_str(nym_secretwhy(tmpl, EPERM, why, sizeof why),
	    "not a regular file", "secretwhy: a directory");
	check_str(nym_secretwhy(path, ENOENT, why, sizeof why),
	    strerror(ENOENT), "secretwhy: another errno is strerror");

	check(nym_tolong("42", 1, 100, &v) == 0 && v == 42, "tolong: 42");
	check(nym_tolong("0", 1, 100, &v) == -1 && errno == EINVAL &&
	    nym_tolong("101", 1, 100, &v) == -1 &&
	    nym_tolong("4x", 1, 100, &v) == -1 &&
	    nym_tolong("", 1, 100, &v) == -1 &&
	    nym_tolong("99999999999999999999", 1, 100, &v) == -1,
	    "tolong: out of range, trailing junk, empty, overflow");
	check(nym_unreachable(ECONNREFUSED) && nym_unreachable(ETIMEDOUT) &&
	    !nym_unreachable(EACCES) && !nym_unreachable(ENOENT),
	    "unreachable: a refused connection, not a missing file");
}

int
main(void)
{
	char cmd[64];

	if (mkdtemp(tmpl) == NULL)
		return 99;
	test_reply();
	test_exit();
	test_cmd();
	test_data();
	test_getline();
	test_nul();
	test_parse();
	test_maildir();
	test_shared();
	test_sender();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		return 99;
	return tap_done();
}
