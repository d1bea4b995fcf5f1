/*
 * pop3client.c - unit tests for the POP3 client session: the commands it
 * sends in order (USER/PASS or AUTH PLAIN, UIDL and LIST, RETR sent ahead
 * with PIPELINING and one at a time when careful, DELE, QUIT), the
 * listing it builds, and every failure handed back as an exit code and a
 * message instead of an exit: a refused or temporarily refused login, no
 * UIDL, a listing over its bound, a refused DELE, a message over the
 * size limit, a connection cut in the middle of a message, a server that
 * says nothing until the session's end.
 *
 * The server is a child process on the other end of a socketpair that
 * follows a script: "> line" is a command it must read next, "< line" a
 * line it sends (CRLF added), "~" reads until the client hangs up.
 * The child exits 0 if every command came as the script says.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "proto.h"
#include "tap.h"

static pid_t server;
static struct nym_pop3_client c;
static char said[4][NYM_POP3_LINE + 256];	/* what c.warn was told */
static int nsaid;

/* Read one line from fd into buf without its CRLF.  0, or -1 at EOF. */
static int
readline(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char ch;

	while (read(fd, &ch, 1) == 1) {
		if (ch == '\n') {
			if (n > 0 && buf[n - 1] == '\r')
				n--;
			buf[n] = '\0';
			return 0;
		}
		if (n + 1 < cap)
			buf[n++] = ch;
	}
	return -1;
}

/* The server's side of script on fd; exits 0 if the client sent what
 * the script expects. */
static void
play(int fd, const char *const *script)
{
	char line[1024];

	alarm(10);
	for (; *script != NULL; script++) {
		const char *s = *script;

		if (s[0] == '<') {
			/* The client may hang up before it reads all: fine,
			 * unless it still had to send something. */
			if (nym_write_all(fd, s + 2, strlen(s + 2)) == -1 ||
			    nym_write_all(fd, "\r\n", 2) == -1) {
				while (*script != NULL && **script != '>')
					script++;
				_exit(*script == NULL ? 0 : 2);
			}
		} else if (s[0] == '>') {
			if (readline(fd, line, sizeof line) == -1 ||
			    strcmp(line, s + 2) != 0) {
				printf("#   server wanted \"%s\", got \"%s\"\n",
				    s + 2, line);
				_exit(1);
			}
		} else
			while (read(fd, line, sizeof line) > 0)
				;
	}
	_exit(0);
}

static void
remember(const char *why)
{
	if (nsaid < 4)
		snprintf(said[nsaid++], sizeof said[0], "%s", why);
}

/* Start the scripted server and the client session on it; returns
 * nym_pop3_start's result.  The deadline of the whole session is ms from
 * now. */
static int
begin(const char *const *script, long long ms)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		exit(99);
	fflush(stdout);
	if ((server = fork()) == -1)
		exit(99);
	if (server == 0) {
		close(sv[0]);
		play(sv[1], script);
	}
	close(sv[1]);
	memset(&c, 0, sizeof c);
	c.where = "test";
	c.sessionend = nym_now_ms() + ms;
	c.session = 60;
	c.maxsize = 1000;
	c.warn = remember;
	nsaid = 0;
	return nym_pop3_start(&c, sv[0], 5000);
}

/* End the session; did the server see what it expected? */
static int
end(void)
{
	int st;

	nym_pop3_close(&c);
	if (waitpid(server, &st, 0) == -1)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Fetch the i-th message into buf (cap bytes).  nym_pop3_body's result. */
static int
body(char *buf, size_t cap)
{
	char path[] = "/tmp/nympop3c.XXXXXX";
	struct nym_out o;
	ssize_t n;
	int fd, r;

	if ((fd = mkstemp(path)) == -1)
		exit(99);
	unlink(path);
	if (nym_out_open(&o, fd, 64) == -1)
		exit(99);
	r = nym_pop3_body(&c, &o, NYM_POP3_LF);
	if (nym_out_flush(&o) == -1 || lseek(fd, 0, SEEK_SET) == -1 ||
	    (n = nym_read_all(fd, buf, cap - 1)) < 0)
		exit(99);
	buf[n] = '\0';
	nym_out_close(&o);
	close(fd);
	return r;
}

/* Does buf[0, n) hold s anywhere? */
static int
holds(const char *buf, size_t n, const char *s)
{
	size_t i, k = strlen(s);

	for (i = 0; i + k <= n; i++)
		if (memcmp(buf + i, s, k) == 0)
			return 1;
	return 0;
}

static void
plain(void)
{
	static const char *const script[] = {
		"< +OK hello",
		"> CAPA", "< -ERR no CAPA here",
		"> USER alice", "< +OK", "> PASS secret", "< +OK in",
		"> UIDL", "< +OK", "< 1 aaa", "< 2 bbb", "< .",
		"> LIST", "< +OK", "< 1 20", "< 2 30", "< .",
		"> RETR 1", "< +OK", "< Subject: one", "< ", "< ..dot", "< .",
		"> DELE 1", "< +OK",
		"> RETR 2", "< -ERR gone",
		"> QUIT", "< +OK bye",
		NULL
	};
	char buf[256];

	check_int(begin(script, 10000), 0, "greeting read, CAPA refused: "
	    "started");
	check(!c.caps.pipelining && !c.caps.plain, "nothing offered");
	check_int(nym_pop3_login(&c, "alice", "secret"), 0, "USER, PASS");
	check(!holds(c.out.buf, c.out.cap, "secret"), "the password wiped "
	    "from the writer");
	check_int(nym_pop3_listing(&c, 10), 0, "UIDL and LIST");
	check_int(c.nmsg, 2, "two listed");
	check_str(c.msg[0].uid, "aaa", "first unique-id");
	check_int(c.msg[1].n, 2, "second number");
	check_int(c.msg[1].size, 30, "its LIST size");
	c.msg[0].fetch = c.msg[1].fetch = 1;
	check_int(nym_pop3_fetch(&c, 0), 1, "RETR 1: +OK");
	check_int(body(buf, sizeof buf), 0, "its body");
	check_str(buf, "Subject: one\n\n.dot\n", "unstuffed, LF");
	check_int(nym_pop3_dele(&c, 0), 0, "DELE 1 (not pipelined: read)");
	check_int(nym_pop3_fetch(&c, 1), 0, "RETR 2: -ERR");
	check_str(c.text, "gone", "with the server's text");
	check_int(nym_pop3_drain(&c), 0, "nothing owed");
	check_int(nym_pop3_quit(&c), 1, "QUIT");
	check(end(), "the server saw the commands in order");
	check_int(nsaid, 0, "no warnings");
}

static void
pipelined(void)
{
	/* "\0alice\0pw" in base64 */
	static const char *const script[] = {
		"< +OK",
		"> CAPA", "< +OK", "< PIPELINING", "< SASL PLAIN", "< UIDL",
		"< .",
		"> AUTH PLAIN AGFsaWNlAHB3", "< +OK",
		"> UIDL", "> LIST",
		"< +OK", "< 1 a", "< 2 b", "< 3 c", "< .",
		"< +OK", "< 1 5", "< 2 5", "< 3 5", "< .",
		/* sent together: RETR 1 and the one after it to fetch */
		"> RETR 1", "> RETR 3",
		"< +OK", "< x", "< .", "< +OK", "< z", "< .",
		"> DELE 1", "> DELE 3",
		"< -ERR [SYS/TEMP] locked", "< +OK",
		"> QUIT", "< +OK",
		NULL
	};
	char buf[64];

	check_int(begin(script, 10000), 0, "started");
	check(c.caps.pipelining && c.caps.plain, "PIPELINING and SASL PLAIN "
	    "offered");
	check_int(nym_pop3_login(&c, "alice", "pw"), 0, "AUTH PLAIN");
	check_int(nym_pop3_listing(&c, 3), 0, "UIDL and LIST pipelined, "
	    "exactly at -L");
	check_int(c.msg[2].size, 5, "sizes");
	c.msg[0].fetch = c.msg[2].fetch = 1;
	check_int(nym_pop3_fetch(&c, 0), 1, "RETR 1, RETR 3 ahead");
	check_int(body(buf, sizeof buf), 0, "body 1");
	check_int(nym_pop3_dele(&c, 0), 0, "DELE 1 queued");
	check_int(c.pend, 2, "RETR 3 and DELE 1 owed");
	check_int(nym_pop3_fetch(&c, 2), 1, "RETR 3, already sent");
	check_int(body(buf, sizeof buf), 0, "body 3");
	check_str(buf, "z\n", "its text");
	check_int(nym_pop3_dele(&c, 2), 0, "DELE 3 queued");
	check_int(nym_pop3_drain(&c), 0, "replies drained");
	check(c.msg[0].refused && !c.msg[2].refused, "the refused DELE "
	    "marked");
	check_int(nsaid, 1, "and told, not exited");
	check_str(said[0], "unable to delete a message at test: [SYS/TEMP] "
	    "locked", "in one line");
	check_int(nym_pop3_quit(&c), 1, "QUIT");
	check(end(), "the server saw the commands in order");
}

static void
careful(void)
{
	static const char *const script[] = {
		"< +OK", "> CAPA", "< +OK", "< PIPELINING", "< .",
		"> USER u", "> PASS p", "< +OK", "< +OK",
		"> UIDL", "> LIST", "< +OK", "< 1 a", "< 2 b", "< .",
		"< -ERR no LIST",
		"> RETR 1", "< +OK", "< a", "< .",
		"> RETR 2", "< +OK", "< b", "< .",
		"> QUIT", "< +OK",
		NULL
	};
	char buf[64];

	check_int(begin(script, 10000), 0, "started");
	c.careful = 1;
	check_int(nym_pop3_login(&c, "u", "p"), 0, "USER and PASS together");
	check_int(nym_pop3_listing(&c, 5), 0, "LIST refused is no failure");
	check_int(c.msg[1].size, 0, "sizes unknown");
	c.msg[0].fetch = c.msg[1].fetch = 1;
	check_int(nym_pop3_fetch(&c, 0), 1, "careful: RETR 1 alone");
	check_int(c.pend, 0, "nothing else in flight");
	check_int(body(buf, sizeof buf), 0, "body 1");
	check_int(nym_pop3_fetch(&c, 1), 1, "then RETR 2");
	check_int(body(buf, sizeof buf), 0, "body 2");
	check_int(nym_pop3_quit(&c), 1, "QUIT");
	check(end(), "the server saw one RETR at a time");
}

static void
failures(void)
{
	static const char *const refused[] = {
		"< +OK", "> CAPA", "< -ERR",
		"> USER alice", "< +OK", "> PASS pw", "< -ERR [AUTH] no", "~",
		NULL
	};
	static const char *const inuse[] = {
		"< +OK", "> CAPA", "< -ERR",
		"> USER alice", "< -ERR [IN-USE] busy", "~", NULL
	};
	static const char *const nouidl[] = {
		"< +OK", "> CAPA", "< -ERR", "> USER a", "< +OK", "> PASS b",
		"< +OK", "> UIDL", "< -ERR what", "~", NULL
	};
	static const char *const toomany[] = {
		"< +OK", "> CAPA", "< -ERR", "> USER a", "< +OK", "> PASS b",
		"< +OK", "> UIDL", "< +OK", "< 1 a", "< 2 b", "< .", "~", NULL
	};
	static const char *const badgreet[] = { "< -ERR", "~", NULL };
	static const char *const longcapa[] = {
		"< +OK", "> CAPA", "< +OK",
		"< XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
		"~", NULL
	};
	static const char *const cut[] = {
		"< +OK", "> CAPA", "< -ERR", "> USER a", "< +OK", "> PASS b",
		"< +OK", "> UIDL", "< +OK", "< 1 a", "< .",
		"> LIST", "< +OK", "< 1 10", "< .",
		"> RETR 1", "< +OK", "< half a message", NULL
	};
	static const char *const big[] = {
		"< +OK", "> CAPA", "< -ERR", "> USER a", "< +OK", "> PASS b",
		"< +OK", "> UIDL", "< +OK", "< 1 a", "< .",
		"> LIST", "< +OK", "< 1 10", "< .",
		"> RETR 1", "< +OK", "< 0123456789", "< 0123456789", "~", NULL
	};
	static const char *const silent[] = { "~", NULL };
	char buf[64];

	begin(refused, 10000);
	check_int(nym_pop3_login(&c, "alice", "pw"), NYM_EX_NOPERM,
	    "a refused login is 77, returned");
	check_str(c.why, "unable to log in as alice at test: [AUTH] no",
	    "with the server's words");
	check(end(), "and the session closed");

	begin(inuse, 10000);
	check_int(nym_pop3_login(&c, "alice", "pw"), NYM_EX_TEMPFAIL,
	    "[IN-USE] is temporary: 75");
	check(end(), "closed");

	begin(nouidl, 10000);
	nym_pop3_login(&c, "a", "b");
	check_int(nym_pop3_listing(&c, 5), NYM_EX_CONFIG, "no UIDL: 78");
	check_str(c.why, "unable to list messages at test: what (no UIDL: "
	    "cannot fetch without duplicates)", "said why");
	check(end(), "closed");

	begin(toomany, 10000);
	nym_pop3_login(&c, "a", "b");
	check_int(nym_pop3_listing(&c, 1), NYM_EX_DATAERR, "over -L: 65");
	check_str(c.why, "unable to list messages at test: more than 1 (-L)",
	    "said why");
	check(end(), "closed");

	check_int(begin(badgreet, 10000), NYM_EX_TEMPFAIL, "a -ERR greeting");
	check_str(c.why, "unable to log in at test: refused", "said");
	check(!c.greeted, "not greeted");
	check(end(), "closed");

	check_int(begin(longcapa, 10000), NYM_EX_DATAERR, "a CAPA line over "
	    "the limit: 65");
	check_str(c.why, "unable to read capabilities at test: a line over "
	    "512 bytes", "said");
	check(end(), "closed");

	begin(cut, 10000);
	nym_pop3_login(&c, "a", "b");
	nym_pop3_listing(&c, 5);
	c.msg[0].fetch = 1;
	check_int(nym_pop3_fetch(&c, 0), 1, "RETR +OK");
	check_int(body(buf, sizeof buf), -1, "then the server hangs up");
	check_int(c.code, NYM_EX_TEMPFAIL, "75");
	check_str(c.why, "unable to fetch a message from test: Connection "
	    "reset by peer", "said, the process still here");
	check(end(), "closed");

	begin(big, 10000);
	c.maxsize = 15;
	nym_pop3_login(&c, "a", "b");
	nym_pop3_listing(&c, 5);
	c.msg[0].fetch = 1;
	check_int(nym_pop3_fetch(&c, 0), 1, "RETR +OK");
	check_int(body(buf, sizeof buf), -1, "a message over maxsize");
	check(c.toobig && c.code == NYM_EX_DATAERR, "toobig, 65");
	check_str(c.why, "unable to fetch a message from test: over 15 "
	    "bytes (-M); it stays on the server", "said");
	check(end(), "closed");

	check_int(begin(silent, 300), NYM_EX_TEMPFAIL, "a server that says "
	    "nothing until the session's end");
	check_int(c.in.err, ETIMEDOUT, "timed out");
	check_str(c.why, "unable to read the greeting at test: the session "
	    "took over 60 s (-W)", "named as the session's end");
	check(end(), "closed");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	plain();
	pipelined();
	careful();
	failures();
	return tap_done();
}
