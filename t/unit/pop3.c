/*
 * pop3.c - unit tests for the POP3 client pieces: status lines, multi-
 * line responses, CAPA and UIDL parsing, AUTH PLAIN, and the RETR copier
 * (dot-unstuffing, CRLF to LF, mboxrd quoting, lines longer than the
 * buffer, a connection cut before the final dot).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "proto.h"
#include "tap.h"

/* A descriptor to read s[0, n) from. */
static int
feed(const char *s, size_t n)
{
	char path[] = "/tmp/nympop3.XXXXXX";
	int fd;

	if ((fd = mkstemp(path)) == -1)
		exit(99);
	unlink(path);
	if (nym_write_all(fd, s, n) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		exit(99);
	return fd;
}

static struct nym_in in;
static int infd = -1;

static void
input(const char *s, size_t cap)
{
	if (infd != -1) {
		nym_in_close(&in);
		close(infd);
	}
	infd = feed(s, strlen(s));
	if (nym_in_open(&in, infd, cap) == -1)
		exit(99);
}

/* RETR s through a reader of cap bytes with flags: the output, or NULL
 * with *ret = -1. */
static uint64_t retrmax;	/* the limit retr() passes */

static char *
retr(const char *s, size_t cap, unsigned flags, int *ret)
{
	static char buf[65536];
	struct nym_out o;
	char path[] = "/tmp/nympop3o.XXXXXX";
	ssize_t n;
	int fd, e;

	input(s, cap);
	if ((fd = mkstemp(path)) == -1)
		exit(99);
	unlink(path);
	if (nym_out_open(&o, fd, 16) == -1)
		exit(99);
	errno = 0;
	*ret = nym_pop3_retr(&in, &o, flags, retrmax);
	e = errno;
	if (nym_out_flush(&o) == -1)
		exit(99);
	nym_out_close(&o);
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    (n = nym_read_all(fd, buf, sizeof buf - 1)) < 0)
		exit(99);
	buf[n] = '\0';
	close(fd);
	errno = e;
	return buf;
}

int
main(void)
{
	struct nym_pop3_caps c;
	char text[64], line[NYM_POP3_LINE + 1], uid[NYM_POP3_UIDL + 1];
	char b64[128], big[300];
	unsigned long n;
	const char *out;
	int r;

	input("+OK dovecot ready.\r\n-ERR [AUTH] bad\r\n-ERR\r\nhello\r\n"
	    "+OK \x01\xff text\r\n", 4096);
	check_int(nym_pop3_status(&in, text, sizeof text), 1, "+OK");
	check_str(text, "dovecot ready.", "its text");
	check_int(nym_pop3_status(&in, text, sizeof text), 0, "-ERR");
	check_str(text, "[AUTH] bad", "its text, with the response code");
	check_int(nym_pop3_status(&in, text, sizeof text), 0, "bare -ERR");
	check_str(text, "", "no text");
	r = nym_pop3_status(&in, text, sizeof text);
	check(r == -1 && errno == EPROTO, "garbage is EPROTO");
	check_int(nym_pop3_status(&in, text, sizeof text), 1, "+OK again");
	check_str(text, "?? text", "unprintable bytes replaced");
	r = nym_pop3_status(&in, text, sizeof text);
	check(r == -1 && errno == ECONNRESET, "EOF is ECONNRESET");
	input("+OK cut", 4096);
	r = nym_pop3_status(&in, text, sizeof text);
	check(r == -1 && errno == ECONNRESET, "a line cut by EOF");

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(line, sizeof line, "-ERR %s\r\n", big);
	input(line, 4096);
	check_int(nym_pop3_status(&in, text, sizeof text), 0, "long -ERR");
	check_int(strlen(text), sizeof text - 1, "its text cut to fit");

	input("USER\r\nSASL LOGIN PLAIN\r\nPIPELINING\r\nUIDL\r\n"
	    "..odd\r\n.\r\n", 4096);
	memset(&c, 0, sizeof c);
	while ((r = nym_pop3_mline(&in, line, sizeof line)) == 1)
		nym_pop3_capa(line, &c);
	check_int(r, 0, "CAPA ends at the dot");
	check(c.user && c.plain && c.pipelining && c.uidl && !c.top,
	    "capabilities noted");
	input("..odd\r\n", 4096);
	check_int(nym_pop3_mline(&in, line, sizeof line), 1, "stuffed line");
	check_str(line, ".odd", "its dot removed");

	check_int(nym_pop3_uidl("1 abc", &n, uid, sizeof uid), 0, "UIDL line");
	check(n == 1 && strcmp(uid, "abc") == 0, "number and id");
	check_int(nym_pop3_uidl("12  x~y ", &n, uid, sizeof uid), 0,
	    "spaces tolerated");
	check(n == 12 && strcmp(uid, "x~y") == 0, "number and id again");
	check_int(nym_pop3_uidl("0 abc", &n, uid, sizeof uid), -1,
	    "message 0 refused");
	check_int(nym_pop3_uidl("1", &n, uid, sizeof uid), -1, "no id");
	check_int(nym_pop3_uidl("1 a b", &n, uid, sizeof uid), -1,
	    "two ids");
	memset(big, 'u', 71);
	big[71] = '\0';
	snprintf(line, sizeof line, "1 %s", big);
	check_int(nym_pop3_uidl(line, &n, uid, sizeof uid), -1,
	    "an id over 70 bytes");

	r = nym_pop3_authplain("bob", "pw", b64, sizeof b64);
	check_str(b64, "AGJvYgBwdw==", "AUTH PLAIN response");
	check_int(r, 12, "its length");

	out = retr("a\r\n..b\r\n.\r\n", 4096, 0, &r);
	check(r == 0 && strcmp(out, "a\r\n.b\r\n") == 0, "RETR raw");
	out = retr("a\r\n..b\r\nbare\rcr\r\n.\r\nnext\r\n", 4096,
	    NYM_POP3_LF, &r);
	check(r == 0 && strcmp(out, "a\n.b\nbare\rcr\n") == 0,
	    "RETR with LF, a bare CR kept");
	check_int(in.len - in.pos, 6, "the next response left unread");
	out = retr("From x\r\n>From y\r\nFrom\r\n x From z\r\n.\r\n", 4096,
	    NYM_POP3_LF | NYM_POP3_MBOXRD, &r);
	check(r == 0 && strcmp(out, ">From x\n>>From y\nFrom\n x From z\n")
	    == 0, "mboxrd quoting");
	out = retr("0123456789012345678901234567890123456789\r\n"
	    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn\r\n.\r\n",
	    64, NYM_POP3_LF, &r);
	check(r == 0 && strcmp(out, "0123456789012345678901234567890123456789"
	    "\nabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn\n") == 0,
	    "lines in pieces");
	/* A CR at the very end of a buffer's piece: 63 bytes, then CR. */
	memset(big, 'y', 63);
	memcpy(big + 63, "\r\n.\r\n", 6);
	out = retr(big, 64, NYM_POP3_LF, &r);
	check(r == 0 && strlen(out) == 64 && out[63] == '\n',
	    "a CRLF split between pieces");
	out = retr("a\r\nb\r\n", 4096, NYM_POP3_LF, &r);
	check(r == -1 && errno == ECONNRESET, "cut before the dot");
	out = retr("a\r\n.\r", 4096, NYM_POP3_LF, &r);
	check(r == -1, "cut in the final line");

	/* The size limit: a reply that never ends stops at it. */
	retrmax = 12;
	out = retr("1234\r\n..12\r\n.\r\n", 4096, NYM_POP3_LF, &r);
	check(r == 0 && strcmp(out, "1234\n.12\n") == 0,
	    "12 bytes as received (CRLF, a stuffing dot) under a limit of 12");
	out = retr("1234\r\n..123\r\n.\r\n", 4096, NYM_POP3_LF, &r);
	check(r == -1 && errno == EFBIG, "13 bytes: EFBIG");
	memset(big, 'z', sizeof big - 3);
	memcpy(big + sizeof big - 3, "\r\n", 3);
	out = retr(big, 64, 0, &r);
	check(r == -1 && errno == EFBIG, "a long line without end: EFBIG");
	retrmax = 0;

	nym_in_close(&in);
	close(infd);
	return tap_done();
}
