/*
 * socks.c - unit tests for the SOCKS5 client: the exact bytes of each
 * request (the name sent as a name, the isolation tag), every kind of
 * bound address in the reply, the server's first bytes left unread,
 * refusals, garbage, a proxy that hangs up or stalls, and bad input.
 * The proxy is a child process that follows a script of reads (compared
 * byte for byte) and writes on a loopback socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base.h"
#include "proto.h"
#include "tap.h"

#define ONION "pop3abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrsd.onion"

struct step {
	char op;		/* 'r' read and compare, 'w' write, 'e' read
				   to EOF, 'x' hang up */
	const char *p;
	size_t n;
};

#define R(s)	{ 'r', (s), sizeof(s) - 1 }
#define W(s)	{ 'w', (s), sizeof(s) - 1 }
#define EOFSTEP	{ 'e', NULL, 0 }
#define END	{ 0, NULL, 0 }

static char port[16];
static pid_t child;

/* Run script in a child proxy on a fresh loopback port. */
static void
proxy(const struct step *script)
{
	char buf[600];
	ssize_t r;
	size_t got;
	int lfd, fd, bound;

	if ((lfd = nym_tcp_listen("127.0.0.1", "0", &bound)) == -1)
		exit(99);
	snprintf(port, sizeof port, "%d", bound);
	fflush(stdout);
	if ((child = fork()) == -1)
		exit(99);
	if (child > 0) {
		close(lfd);
		return;
	}
	alarm(10);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(2);
	for (; script->op != 0; script++) {
		switch (script->op) {
		case 'r':
			for (got = 0; got < script->n; got += (size_t)r)
				if ((r = read(fd, buf + got, script->n - got))
				    <= 0)
					_exit(3);
			if (memcmp(buf, script->p, script->n) != 0)
				_exit(1);
			break;
		case 'w':
			if (nym_write_all(fd, script->p, script->n) == -1)
				_exit(2);
			break;
		case 'e':
			while (read(fd, buf, sizeof buf) > 0)
				;
			break;
		case 'x':
			_exit(0);
		}
	}
	/* Hold the connection until the client is done with it. */
	while (read(fd, buf, sizeof buf) > 0)
		;
	_exit(0);
}

/* The child's verdict: 0 if it saw exactly the bytes it expected. */
static int
verdict(void)
{
	int st;

	while (waitpid(child, &st, 0) == -1)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* The bytes waiting on fd after the handshake (the server's greeting). */
static const char *
rest(int fd)
{
	static char buf[64];
	ssize_t r;

	if (nym_wait(fd, POLLIN, 2000) == -1)
		return "(nothing)";
	r = read(fd, buf, sizeof buf - 1);
	buf[r > 0 ? r : 0] = '\0';
	return buf;
}

static struct nym_socks sk;

/* Connect through a proxy running script. */
static int
run(const struct step *script, const char *name, int p, const char *tag,
    int ms)
{
	proxy(script);
	if (nym_socks_set(&sk, "127.0.0.1:0") == -1)
		exit(99);
	snprintf(sk.portbuf, sizeof sk.portbuf, "%s", port);
	return nym_socks_connect(&sk, name, p, tag, ms);
}

/* A refusal with reply code c: -1 ECONNABORTED, s.reply = c. */
static void
refusal(unsigned char c, int exitcode)
{
	char rep[10] = { 5, (char)c, 0, 1, 0, 0, 0, 0, 0, 0 };
	const struct step s[] = {
		R("\5\1\0"), W("\5\0"),
		{ 'r', "\5\1\0\3\13example.org\0\156", 18 },
		{ 'w', rep, 10 }, END
	};
	char what[64];
	int fd;

	fd = run(s, "example.org", 110, NULL, 2000);
	snprintf(what, sizeof what, "reply %#x refused", c);
	check(fd == -1 && errno == ECONNABORTED && sk.reply == c, what);
	check_int(verdict(), 0, "the proxy saw the request it expected");
	snprintf(what, sizeof what, "reply %#x means exit %d", c, exitcode);
	check_int(nym_socks_exitcode(c), exitcode, what);
}

int
main(void)
{
	char longname[300];
	struct timespec t0, t1;
	long ms;
	int fd;

	/* Without a tag: one method; an IPv4 bound address. */
	{
		const struct step s[] = {
			R("\5\1\0"), W("\5\0"),
			{ 'r', "\5\1\0\3\76" ONION "\0\156", 69 },
			{ 'w', "\5\0\0\1\177\0\0\1\37\220+OK hi\r\n", 18 },
			END
		};
		fd = run(s, ONION, 110, NULL, 2000);
		check(fd >= 0, "connect through the proxy, no tag");
		check_str(rest(fd), "+OK hi\r\n",
		    "the server's greeting is left in the socket");
		close(fd);
		check_int(verdict(), 0,
		    "the onion went as a name (ATYP 3), with its port");
	}
	/* With a tag: RFC 1929, then a domain-name bound address. */
	{
		const struct step s[] = {
			R("\5\2\0\2"), W("\5\2"),
			R("\1\3tag\6nymbox"), W("\1\0"),
			{ 'r', "\5\1\0\3\76" ONION "\1\31", 69 },
			{ 'w', "\5\0\0\3\3abc\0\0+OK\r\n", 15 },
			END
		};
		fd = run(s, ONION, 281, "tag", 2000);
		check(fd >= 0, "connect with an isolation tag");
		check_str(rest(fd), "+OK\r\n", "after a name as bound address");
		close(fd);
		check_int(verdict(), 0, "the tag went as the RFC 1929 user");
	}
	/* A tag offered, the proxy wants no authentication; IPv6 reply. */
	{
		const struct step s[] = {
			R("\5\2\0\2"), W("\5\0"),
			{ 'r', "\5\1\0\3\1x\0\156", 8 },
			{ 'w', "\5\0\0\4" "0123456789abcdef" "\0\0+OK\r\n",
			    27 },
			END
		};
		fd = run(s, "x", 110, "tag", 2000);
		check(fd >= 0, "the proxy may decline the tag");
		check_str(rest(fd), "+OK\r\n", "after an IPv6 bound address");
		close(fd);
		check_int(verdict(), 0, "no credentials sent then");
	}

	refusal(1, NYM_EX_TEMPFAIL);
	refusal(2, NYM_EX_CONFIG);
	refusal(4, NYM_EX_TEMPFAIL);
	refusal(5, NYM_EX_TEMPFAIL);
	refusal(6, NYM_EX_TEMPFAIL);
	refusal(8, NYM_EX_CONFIG);
	refusal(0xf0, NYM_EX_TEMPFAIL);
	refusal(0xf1, NYM_EX_NOHOST);
	refusal(0xf4, NYM_EX_CONFIG);
	refusal(0xf6, NYM_EX_NOHOST);
	check_str(nym_socks_replyname(6), "TTL expired (Tor: no answer in time)",
	    "reply 6 in words");
	check_str(nym_socks_replyname(0xf6), "onion service invalid address",
	    "reply 0xf6 in words");
	check_str(nym_socks_replyname(99), "unknown SOCKS reply",
	    "an unknown reply in words");

	{
		const struct step s[] = { R("\5\1\0"), W("\5\377"), END };

		fd = run(s, "x", 110, NULL, 2000);
		check(fd == -1 && errno == ECONNABORTED &&
		    sk.reply == NYM_SOCKS_NOMETHOD, "no acceptable method");
		check_int(nym_socks_exitcode(sk.reply), NYM_EX_CONFIG,
		    "is a configuration error");
		verdict();
	}
	{
		const struct step s[] = {
			R("\5\2\0\2"), W("\5\2"), R("\1\1t\6nymbox"),
			W("\1\1"), END
		};

		fd = run(s, "x", 110, "t", 2000);
		check(fd == -1 && errno == ECONNABORTED &&
		    sk.reply == NYM_SOCKS_AUTHFAIL, "credentials refused");
		verdict();
	}
	{
		const struct step s[] = { R("\5\1\0"), W("\4\0"), END };

		fd = run(s, "x", 110, NULL, 2000);
		check(fd == -1 && errno == EPROTO && sk.reply == 0,
		    "not SOCKS5: EPROTO");
		verdict();
	}
	{
		const struct step s[] = { R("\5\1\0"), W("\5\2"), END };

		fd = run(s, "x", 110, NULL, 2000);
		check(fd == -1 && errno == EPROTO,
		    "a method we did not offer: EPROTO");
		verdict();
	}
	{
		const struct step s[] = {
			R("\5\1\0"), W("\5\0"), { 'r', "\5\1\0\3\1x\0\156", 8 },
			{ 'w', "\5\0\0\11\0\0\0\0\0\0", 10 }, END
		};

		fd = run(s, "x", 110, NULL, 2000);
		check(fd == -1 && errno == EPROTO,
		    "an unknown address type in the reply: EPROTO");
		verdict();
	}
	{
		const struct step s[] = {
			R("\5\1\0"), W("\5\0"), { 'r', "\5\1\0\3\1x\0\156", 8 },
			{ 'w', "\5\0\0\1\177", 5 }, { 'e', NULL, 0 }, END
		};

		/* The child waits for EOF after half a reply: it must not
		 * block the client, whose deadline ends it. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fd = run(s, "x", 110, NULL, 300);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		check(fd == -1 && errno == ETIMEDOUT,
		    "a proxy that stalls mid-reply: ETIMEDOUT");
		check(ms >= 250 && ms < 2000, "after the deadline, not later");
		verdict();
	}
	{
		const struct step s[] = { R("\5\1\0"), EOFSTEP, END };

		clock_gettime(CLOCK_MONOTONIC, &t0);
		fd = run(s, "x", 110, NULL, 300);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
		check(fd == -1 && errno == ETIMEDOUT && ms < 2000,
		    "a proxy that never answers: ETIMEDOUT");
		verdict();
	}
	{
		/* Hang up after the greeting: the child ends at once. */
		const struct step s[] = { R("\5\1\0"), { 'x', NULL, 0 },
		    END };

		fd = run(s, "x", 110, NULL, 2000);
		check(fd == -1 && errno == ECONNRESET,
		    "a proxy that hangs up without a word: ECONNRESET");
		verdict();
	}

	check(nym_socks_connect(&sk, "", 110, NULL, 1000) == -1 &&
	    errno == EINVAL, "an empty name: EINVAL");
	check(nym_socks_connect(&sk, "a b", 110, NULL, 1000) == -1 &&
	    errno == EINVAL, "a space in the name: EINVAL");
	check(nym_socks_connect(&sk, "a\r\nb", 110, NULL, 1000) == -1 &&
	    errno == EINVAL, "CRLF in the name: EINVAL");
	memset(longname, 'a', 256);
	longname[256] = '\0';
	check(nym_socks_connect(&sk, longname, 110, NULL, 1000) == -1 &&
	    errno == EINVAL, "a name of 256 bytes: EINVAL");
	longname[255] = '\0';
	snprintf(sk.portbuf, sizeof sk.portbuf, "1");
	check(nym_socks_connect(&sk, longname, 0, NULL, 1000) == -1 &&
	    errno == EINVAL, "port 0: EINVAL");
	check(nym_socks_connect(&sk, "x", 110, "", 1000) == -1 &&
	    errno == EINVAL, "an empty tag: EINVAL");
	check(nym_socks_connect(&sk, longname, 110, NULL, 1000) == -1 &&
	    errno == ECONNREFUSED, "255 bytes pass; no proxy: ECONNREFUSED");

	check_int(nym_socks_set(&sk, "127.0.0.1:9150"), 0, "host:port");
	check_str(sk.host, "127.0.0.1", "its host");
	check_str(sk.port, "9150", "its port");
	check_int(nym_socks_set(&sk, "[::1]:9050"), 0, "[v6]:port");
	check_str(sk.host, "::1", "its host without brackets");
	check(nym_socks_set(&sk, "9050") == -1 && errno == EINVAL,
	    "no colon: EINVAL");
	check(nym_socks_set(&sk, ":9050") == -1, "no host: EINVAL");
	check(nym_socks_set(&sk, "host:") == -1, "no port: EINVAL");
	unsetenv("TOR_SOCKS");
	unsetenv("NYMBOX_CONF");
	setenv("HOME", "/nonexistent", 1);
	check_int(nym_socks_init(&sk), 0, "defaults");
	check(strcmp(sk.host, "127.0.0.1") == 0 && strcmp(sk.port, "9050") == 0,
	    "default 127.0.0.1:9050");
	setenv("TOR_SOCKS", "127.0.0.2:9999", 1);
	check(nym_socks_init(&sk) == 0 && strcmp(sk.host, "127.0.0.2") == 0 &&
	    strcmp(sk.port, "9999") == 0, "TOR_SOCKS wins");
	setenv("TOR_SOCKS", "bad", 1);
	check(nym_socks_init(&sk) == -1 && errno == EINVAL,
	    "a malformed TOR_SOCKS: EINVAL");
	return tap_done();
}
