/*
 * sam.c - unit tests for net.c, i2p.c, sam.c and the timeouts of io.c.
 *
 * The SAM client is driven over a socketpair: the test writes the
 * bridge's reply lines first, calls the library, then reads back the
 * request it sent, so both the reply parser and the commands are checked
 * without a bridge.  The b32 vectors were computed independently:
 *
 *	python3 -c 'import hashlib, base64
 *	pub = bytes((i*37+11) & 0xff for i in range(384)) + CERT
 *	print(base64.b32encode(hashlib.sha256(pub).digest())
 *	    .decode().lower().rstrip("="))'
 *
 * with CERT = bytes([5,0,4,0,7,0,0]) (EdDSA key certificate), bytes([0,0,0])
 * (null certificate) and bytes([5,0,10,0,7,0,0,1,2,3,4,5,6]) (a longer one),
 * and for the second destination (i*13+5) with the EdDSA certificate.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "i2p.h"
#include "tap.h"

#define B32_EDDSA "t6k5gawzyzs55gxykwglahhvbbm7ld5jhrvfkmffs5mpa6okl67a.b32.i2p"
#define B32_DSA "ezigwjvcjif2ktrkwmoipwr5fhzijwuojeb3vcbicwa53g5jrvuq.b32.i2p"
#define B32_LONG "ffahn5grj52cjtsydb425n4q3owo6vbpsld4rcxykumhr3bx464a.b32.i2p"
#define B32_OTHER "nthzgpdyuvut7tsys6qfhe5s6gjwxdlu3api5bkkek4ryabjqmkq.b32.i2p"

static char pub[1024], priv[1024], dsa[1024], longc[1024], other[1024];

/* A destination of pattern mul*i+add with certificate cert, plus extra
 * private bytes, in I2P base64. */
static void
mkdest(char *out, int mul, int add, const unsigned char *cert,
    size_t certlen, size_t extra)
{
	unsigned char b[600];
	size_t i, n = 0;

	for (i = 0; i < 384; i++)
		b[n++] = (unsigned char)((i * (size_t)mul + (size_t)add) & 0xff);
	memcpy(b + n, cert, certlen);
	n += certlen;
	for (i = 0; i < extra; i++)
		b[n++] = (unsigned char)(0xa5 ^ i);
	nym_base64(b, n, out, "-~");
}

static long long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A session struct whose control socket is one end of a socketpair. */
static void
fakesam(struct nym_sam *s, int *peer)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		exit(99);
	memset(s, 0, sizeof *s);
	s->fd = sv[0];
	if (nym_in_open(&s->in, sv[0], NYM_LINE_MAX * 4) == -1)
		exit(99);
	s->ms = s->in.ms = 2000;
	s->minor = 1;
	strcpy(s->id, "nymtest");
	*peer = sv[1];
}

static void
say(int fd, const char *s)
{
	if (nym_write_all(fd, s, strlen(s)) == -1)
		exit(99);
}

/* What the client sent: everything readable now, NUL ended. */
static char *
heard(int fd)
{
	static char buf[32768];
	ssize_t n;
	size_t len = 0;

	while (len + 1 < sizeof buf && nym_wait(fd, POLLIN, 50) == 0 &&
	    (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

/* One NAMING LOOKUP answered by reply; returns the result, *msg the
 * message.  The socket is thrown away afterwards. */
static int
lookup1(const char *reply, char **dest, char *msg, size_t cap)
{
	struct nym_sam s;
	int peer, r;

	fakesam(&s, &peer);
	say(peer, reply);
	r = nym_sam_lookup(&s, "x.i2p", dest, NULL);
	snprintf(msg, cap, "%s", s.message);
	nym_sam_close(&s);
	close(peer);
	return r;
}

static void
test_dest(void)
{
	static const unsigned char eddsa[] = { 5, 0, 4, 0, 7, 0, 0 };
	static const unsigned char null[] = { 0, 0, 0 };
	static const unsigned char lng[] = { 5, 0, 10, 0, 7, 0, 0, 1, 2, 3, 4,
	    5, 6 };
	unsigned char b[400];
	char out[NYM_B32LEN + 9], bad[1024];

	mkdest(pub, 37, 11, eddsa, sizeof eddsa, 0);
	mkdest(priv, 37, 11, eddsa, sizeof eddsa, 96);
	mkdest(dsa, 37, 11, null, sizeof null, 0);
	mkdest(longc, 37, 11, lng, sizeof lng, 0);
	mkdest(other, 13, 5, eddsa, sizeof eddsa, 0);
	check_int(strlen(pub), 524, "an EdDSA destination is 524 characters");

	memset(b, 0, sizeof b);
	check_int(nym_dest_len(b, 386), -1, "dest_len: too short");
	check_int(nym_dest_len(b, 387), 387, "dest_len: null certificate");
	b[385] = 0;
	b[386] = 4;
	check_int(nym_dest_len(b, 390), -1, "dest_len: certificate past end");
	check_int(nym_dest_len(b, 391), 391, "dest_len: key certificate");
	check_int(nym_dest_len(b, 400), 391, "dest_len: private blob");

	check_int(nym_dest_b32(pub, strlen(pub), out), 0, "b32 of EdDSA");
	check_str(out, B32_EDDSA, "b32 matches hashlib");
	check_int(nym_dest_b32(priv, strlen(priv), out), 0, "b32 of a key");
	check_str(out, B32_EDDSA, "private blob hashes its public part");
	check_int(nym_dest_b32(dsa, strlen(dsa), out), 0, "b32 of DSA");
	check_str(out, B32_DSA, "null certificate b32 matches hashlib");
	check_int(nym_dest_b32(longc, strlen(longc), out), 0, "b32 long cert");
	check_str(out, B32_LONG, "10-byte certificate b32 matches hashlib");
	check_int(nym_dest_b32(other, strlen(other), out), 0, "b32 other");
	check_str(out, B32_OTHER, "second destination b32 matches hashlib");

	check(nym_dest_valid(pub, strlen(pub)), "public destination valid");
	check(nym_dest_valid(dsa, strlen(dsa)), "DSA destination valid");
	check(nym_dest_valid(longc, strlen(longc)), "long cert valid");
	check(!nym_dest_valid(priv, strlen(priv)), "a private key is not a "
	    "public destination");
	check(!nym_dest_valid(pub, 400), "truncated: invalid");
	check(!nym_dest_valid(pub, 0), "empty: invalid");
	strcpy(bad, pub);
	bad[10] = '+';
	check(!nym_dest_valid(bad, strlen(bad)), "standard alphabet refused");
	check_int(nym_dest_b32(bad, strlen(bad), out), -1, "no b32 of it");
	strcpy(bad, pub);
	bad[100] = ' ';
	check(!nym_dest_valid(bad, strlen(bad)), "white space refused");
	strcpy(bad, pub);
	bad[100] = '=';
	check(!nym_dest_valid(bad, strlen(bad)), "padding inside refused");
	memset(bad, 'A', 1000);
	check(!nym_dest_valid(bad, 1000), "length not matching cert");
	memset(bad, '~', 1000);
	check_int(nym_dest_b32(bad, 1000, out), -1, "certificate longer "
	    "than the blob");
}

static void
test_results(void)
{
	check_str(nym_sam_resultname(NYM_SAM_OK), "OK", "name of OK");
	check_str(nym_sam_resultname(NYM_SAM_CANT_REACH_PEER),
	    "CANT_REACH_PEER", "name of CANT_REACH_PEER");
	check_str(nym_sam_resultname(99), "?", "name out of range");
	check(nym_sam_temporary(NYM_SAM_CANT_REACH_PEER) &&
	    nym_sam_temporary(NYM_SAM_TIMEOUT) &&
	    nym_sam_temporary(NYM_SAM_I2P_ERROR) &&
	    nym_sam_temporary(NYM_SAM_UNKNOWN) &&
	    nym_sam_temporary(NYM_SAM_PROTO), "temporary results");
	check(!nym_sam_temporary(NYM_SAM_OK) &&
	    !nym_sam_temporary(NYM_SAM_INVALID_KEY) &&
	    !nym_sam_temporary(NYM_SAM_KEY_NOT_FOUND) &&
	    !nym_sam_temporary(NYM_SAM_PEER_NOT_FOUND), "permanent results");
}

static void
test_parser(void)
{
	char line[20100], msg[256], *dest = NULL;
	int r;

	snprintf(line, sizeof line, "NAMING REPLY RESULT=OK NAME=x.i2p "
	    "VALUE=%s\n", pub);
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_OK,
	    "lookup OK");
	check_str(dest, pub, "lookup gives the destination");
	free(dest);

	snprintf(line, sizeof line, "NAMING  REPLY\tRESULT=OK NAME=x.i2p "
	    "VALUE=\"%s\"\r\n", pub);
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_OK,
	    "tabs, double spaces, quotes and CRLF");
	check_str(dest, pub, "quoted destination");
	free(dest);

	r = lookup1("NAMING REPLY RESULT=KEY_NOT_FOUND NAME=x.i2p "
	    "MESSAGE=\"no \\\"such\\\" name\\\\\"\n", &dest, msg, sizeof msg);
	check_int(r, NYM_SAM_KEY_NOT_FOUND, "KEY_NOT_FOUND");
	check(dest == NULL, "no destination then");
	check_str(msg, "no \"such\" name\\", "escaped message");
	check_int(lookup1("NAMING REPLY RESULT=INVALID_KEY NAME=x.i2p\n",
	    &dest, msg, sizeof msg), NYM_SAM_INVALID_KEY, "INVALID_KEY");
	check_str(msg, "", "no message");
	check_int(lookup1("NAMING REPLY RESULT=NEW_THING\n", &dest, msg,
	    sizeof msg), NYM_SAM_UNKNOWN, "unknown result");
	check_int(lookup1("NAMING REPLY NAME=x.i2p\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "no RESULT");
	check_int(lookup1("SESSION STATUS RESULT=OK\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "wrong topic");
	check_str(msg, "unexpected reply SESSION STATUS", "says so");
	check_int(lookup1("NAMING\n", &dest, msg, sizeof msg), NYM_SAM_PROTO,
	    "one word");
	check_int(lookup1("NAMING REPLY RESULT=OK VALUE=\"abc\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "unterminated quote");
	check_int(lookup1("NAMING REPLY RESULT=OK VALUE=a\"b\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "stray quote");
	check_int(lookup1("NAMING REPLY RESULT=OK =x\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "empty key");
	check_int(lookup1("NAMING REPLY RESULT=OK\001 VALUE=x\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "control character");
	check_int(lookup1("NAMING REPLY RESULT=OK VALUE=AAAA\n", &dest, msg,
	    sizeof msg), NYM_SAM_PROTO, "OK with a bad destination");
	snprintf(line, sizeof line, "NAMING REPLY RESULT=I2P_ERROR "
	    "MESSAGE=\"key %s caf\xc3\xa9\"\n", priv);
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_I2P_ERROR,
	    "error with a message");
	check_str(msg, "key [...] caf??", "message sanitised, key masked");

	check_int(lookup1("NAMING REPLY RESULT=KEY_NOT_FOUND FLAG NAME=x\n",
	    &dest, msg, sizeof msg), NYM_SAM_KEY_NOT_FOUND,
	    "a key without a value");
	strcpy(line, "NAMING REPLY RESULT=KEY_NOT_FOUND");
	for (r = 0; r < 200; r++)
		strcat(line, " a=b");
	strcat(line, "\n");
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_PROTO,
	    "200 values refused");
	check_str(msg, "too many values in reply", "says so");

	memset(line, 'A', 20000);
	memcpy(line, "NAMING REPLY RESULT=OK VALUE=", 29);
	strcpy(line + 20000, "\n");
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_PROTO,
	    "20 KB line refused");
	check_str(msg, "reply line too long", "says so");
	memset(line, 'A', 16382);
	memcpy(line, "NAMING REPLY RESULT=KEY_NOT_FOUND VALUE=", 40);
	strcpy(line + 16382, " \n");
	check_int(lookup1(line, &dest, msg, sizeof msg),
	    NYM_SAM_KEY_NOT_FOUND, "16 KiB line (LF included) accepted");
	/* One byte past NYM_SAM_LINE. */
	memset(line, 'A', 16383);
	memcpy(line, "NAMING REPLY RESULT=KEY_NOT_FOUND VALUE=", 40);
	strcpy(line + 16383, " \n");
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_PROTO,
	    "16 KiB and one byte refused");
	check_str(msg, "reply line too long", "says so");

	/* 128 KEY=VALUE tokens (NYM_SAM_PAIRS), RESULT among them; 129. */
	strcpy(line, "NAMING REPLY RESULT=KEY_NOT_FOUND");
	for (r = 1; r < 128; r++)
		strcat(line, " a=b");
	strcat(line, "\n");
	check_int(lookup1(line, &dest, msg, sizeof msg),
	    NYM_SAM_KEY_NOT_FOUND, "128 values accepted");
	strcpy(line + strlen(line) - 1, " a=b\n");
	check_int(lookup1(line, &dest, msg, sizeof msg), NYM_SAM_PROTO,
	    "129 values refused");
	check_str(msg, "too many values in reply", "says so");
}

static void
test_lookup(void)
{
	struct nym_sam s;
	char line[2048], *dest, *opts;
	long long t0;
	int peer, fd0;

	fakesam(&s, &peer);
	snprintf(line, sizeof line, "NAMING REPLY RESULT=OK NAME=x.i2p "
	    "VALUE=%s OPTION:port=25 OPTION:note=\"a b\" X=1\n", pub);
	say(peer, line);
	check_int(nym_sam_lookup(&s, "x.i2p", &dest, &opts), NYM_SAM_OK,
	    "lookup with options");
	check_str(heard(peer), "NAMING LOOKUP NAME=x.i2p OPTIONS=true\n",
	    "asks OPTIONS=true");
	check_str(opts, "port=25\nnote=a b\n", "OPTION: fields as lines");
	free(dest);
	free(opts);
	check_int(nym_sam_lookup(&s, "a b", &dest, NULL), -1, "name with "
	    "a space refused");
	check_int(errno, EINVAL, "EINVAL");
	check_int(nym_sam_lookup(&s, "a\"b", &dest, NULL), -1, "quote "
	    "refused");
	check_str(heard(peer), "", "nothing sent for them");

	say(peer, "SESSION STATUS RESULT=OK\n");
	check_int(nym_sam_lookup(&s, "x.i2p", &dest, NULL), NYM_SAM_PROTO,
	    "reply out of step");
	snprintf(line, sizeof line, "NAMING REPLY RESULT=OK VALUE=%s\n", pub);
	say(peer, line);
	check_int(nym_sam_lookup(&s, "x.i2p", &dest, NULL), -1,
	    "socket not used after a protocol error");
	check_int(errno, EPROTO, "EPROTO");
	nym_sam_close(&s);
	close(peer);

	fakesam(&s, &peer);
	s.ms = s.in.ms = 200;
	t0 = ms_now();
	check_int(nym_sam_lookup(&s, "x.i2p", &dest, NULL), -1,
	    "silent bridge");
	check_int(errno, ETIMEDOUT, "times out");
	check(ms_now() - t0 < 1500, "within the timeout");
	nym_sam_close(&s);
	close(peer);

	fakesam(&s, &peer);
	close(peer);
	check_int(nym_sam_lookup(&s, "x.i2p", &dest, NULL), -1,
	    "closed bridge");
	check(errno == ECONNRESET || errno == EPIPE, "ECONNRESET or EPIPE");
	nym_sam_close(&s);
	nym_sam_close(&s);
	check_int(s.fd, -1, "close twice is safe");
	fd0 = fcntl(0, F_GETFD) != -1;
	memset(&s, 0, sizeof s);
	nym_sam_close(&s);
	check_int(fcntl(0, F_GETFD) != -1, fd0,
	    "closing a zeroed struct leaves fd 0 alone");
}

static void
test_session(void)
{
	struct nym_sam s;
	char line[4096], want[4096], *req;
	const char *id;
	int peer;

	fakesam(&s, &peer);
	snprintf(line, sizeof line, "SESSION STATUS RESULT=OK "
	    "DESTINATION=%s\nNAMING REPLY RESULT=OK NAME=ME VALUE=%s\n",
	    priv, pub);
	say(peer, line);
	check_int(nym_sam_session(&s, "TRANSIENT", "inbound.length=0 "
	    "outbound.length=0  i2cp.leaseSetType=1 i2cp.leaseSetEncType=0",
	    1000), NYM_SAM_OK, "session created");
	check_str(s.b32, B32_EDDSA, "b32 set");
	check_str(s.pub, pub, "public destination from NAMING LOOKUP ME");
	id = s.id;
	check(strncmp(id, "nym", 3) == 0 && strlen(id) == 15 &&
	    strspn(id + 3, "abcdefghijklmnopqrstuvwxyz234567") == 12,
	    "random session ID");
	snprintf(want, sizeof want, "SESSION CREATE STYLE=STREAM ID=%s "
	    "DESTINATION=TRANSIENT SIGNATURE_TYPE=7 i2cp.leaseSetEncType=0 "
	    "inbound.length=0 outbound.length=0 inbound.quantity=2 "
	    "outbound.quantity=2 i2cp.leaseSetType=1\nNAMING LOOKUP NAME=ME\n",
	    id);
	req = heard(peer);
	check_str(req, want, "options replace the defaults in place");
	check_int(nym_sam_session(&s, "TRANSIENT", NULL, 1000), -1,
	    "one session per socket");
	nym_sam_close(&s);
	close(peer);

	fakesam(&s, &peer);
	check_int(nym_sam_session(&s, "TRANSIENT", "a=b c", 1000), -1,
	    "option without =");
	check_int(errno, EINVAL, "EINVAL");
	check_int(nym_sam_session(&s, "TRANSIENT", "a=\"b\"", 1000), -1,
	    "option with quotes");
	check_int(nym_sam_session(&s, "TRANSIENT", "a=b\nc=d", 1000), -1,
	    "option with a newline");
	check_int(nym_sam_session(&s, "TRANSIENT", "ID=x", 1000), -1,
	    "ID cannot be set");
	check_int(nym_sam_session(&s, "TRANSIENT", "a=1 a=2", 1000), -1,
	    "a key twice");
	check_int(nym_sam_session(&s, "TRANSIENT", "=1", 1000), -1,
	    "empty key");
	check_int(nym_sam_session(&s, "not a key", NULL, 1000), -1,
	    "bad private key");
	check_str(heard(peer), "", "nothing sent for them");

	snprintf(line, sizeof line, "SESSION STATUS RESULT=DUPLICATED_ID\n");
	say(peer, line);
	check_int(nym_sam_session(&s, priv, NULL, 1000),
	    NYM_SAM_DUPLICATED_ID, "DUPLICATED_ID");
	check(s.pub == NULL, "no destination then");
	snprintf(want, sizeof want, "SESSION CREATE STYLE=STREAM ID=%s "
	    "DESTINATION=%s SIGNATURE_TYPE=7 i2cp.leaseSetEncType=4,0 "
	    "inbound.length=3 outbound.length=3 inbound.quantity=2 "
	    "outbound.quantity=2\n", s.id, priv);
	check_str(heard(peer), want, "defaults and the private key");

	snprintf(line, sizeof line, "SESSION STATUS RESULT=OK "
	    "DESTINATION=%s\nNAMING REPLY RESULT=OK NAME=ME VALUE=%s\n",
	    priv, other);
	say(peer, line);
	check_int(nym_sam_session(&s, priv, NULL, 1000), NYM_SAM_PROTO,
	    "ME naming another destination");
	check(s.pub == NULL && s.b32[0] == '\0', "leaves no destination");
	nym_sam_close(&s);
	close(peer);

	fakesam(&s, &peer);
	check_int(nym_sam_session(&s, "TRANSIENT", NULL, 150), -1,
	    "SESSION CREATE without an answer");
	check_int(errno, ETIMEDOUT, "times out after create_ms");
	nym_sam_close(&s);
	close(peer);
}

static void
test_peer(void)
{
	struct nym_in in;
	char line[2048], rest[64], *dest;
	int sv[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		exit(99);
	snprintf(line, sizeof line, "%s FROM_PORT=0 TO_PORT=0\nEHLO x\n", pub);
	say(sv[1], line);
	nym_in_open(&in, sv[0], 4096);
	check_int(nym_sam_peer(sv[0], &in, 1000, &dest), 0, "peer line");
	check_str(dest, pub, "peer destination");
	free(dest);
	check_int(nym_in_fill(&in, 7), 7, "stream data left in the reader");
	check(memcmp(in.buf + in.pos, "EHLO x\n", 7) == 0, "byte for byte");
	nym_in_close(&in);

	snprintf(line, sizeof line, "%s\nDATA", other);
	say(sv[1], line);
	check_int(nym_sam_peer(sv[0], NULL, 1000, &dest), 0, "without a "
	    "reader");
	check_str(dest, other, "peer destination");
	free(dest);
	n = read(sv[0], rest, sizeof rest);
	check(n == 4 && memcmp(rest, "DATA", 4) == 0,
	    "nothing after the line consumed");

	say(sv[1], "STREAM STATUS RESULT=I2P_ERROR\n");
	check_int(nym_sam_peer(sv[0], NULL, 1000, &dest), -1, "error line");
	check_int(errno, EPROTO, "EPROTO");
	say(sv[1], "hello world\n");
	check_int(nym_sam_peer(sv[0], NULL, 1000, &dest), -1, "garbage");
	check_int(errno, EPROTO, "EPROTO");
	check_int(nym_sam_peer(sv[0], NULL, 100, &dest), -1, "no peer");
	check_int(errno, ETIMEDOUT, "ETIMEDOUT");
	close(sv[1]);
	check_int(nym_sam_peer(sv[0], NULL, 100, &dest), -1, "EOF");
	check_int(errno, ECONNRESET, "ECONNRESET");
	close(sv[0]);
}

static void
test_net(void)
{
	struct nym_in in;
	struct nym_out o;
	char port[16], big[65536];
	int lfd, fd, afd, bound = 0, sv[2], i, r;
	long long t0;

	check_int(nym_tcp_connect("mail.i2p", "7656", 100), -1, ".i2p refused");
	check_int(errno, EINVAL, "with EINVAL");
	check_int(nym_tcp_connect("x.ONION.", "7656", 100), -1,
	    ".onion refused, any case, trailing dot");
	check_int(errno, EINVAL, "with EINVAL");
	check_int(nym_tcp_connect("127.0.0.1", "0", 100), -1, "port 0");
	check_int(nym_tcp_connect("127.0.0.1", "65536", 100), -1, "port 65536");
	check_int(nym_tcp_connect("127.0.0.1", "smtp", 100), -1,
	    "service names refused");
	check_int(errno, EINVAL, "with EINVAL");

	lfd = nym_tcp_listen("127.0.0.1", "0", &bound);
	check(lfd >= 0 && bound > 0, "listen on a kernel-chosen port");
	check(fcntl(lfd, F_GETFD) & FD_CLOEXEC, "listener closes on exec");
	snprintf(port, sizeof port, "%d", bound);
	fd = nym_tcp_connect("127.0.0.1", port, 1000);
	check(fd >= 0, "connect");
	check(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "close on exec");
	check(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "blocking");
	afd = accept(lfd, NULL, NULL);
	check_int(nym_write_timed(fd, "hi", 2, 1000), 0, "write_timed");
	check(nym_wait(afd, POLLIN, 1000) == 0 && read(afd, port, 2) == 2 &&
	    memcmp(port, "hi", 2) == 0, "arrives");
	t0 = ms_now();
	check_int(nym_wait(afd, POLLIN, 100), -1, "wait times out");
	check_int(errno, ETIMEDOUT, "ETIMEDOUT");
	check(ms_now() - t0 >= 90 && ms_now() - t0 < 1000, "after 100 ms");

	/* Fill the peer's buffers: a write that cannot go on times out. */
	memset(big, 'x', sizeof big);
	t0 = ms_now();
	for (i = 0, r = 0; i < 1000 && r == 0; i++)
		r = nym_write_timed(fd, big, sizeof big, 100);
	check_int(r, -1, "write to a peer that does not read");
	check_int(errno, ETIMEDOUT, "times out");
	check(ms_now() - t0 < 5000, "soon");

	close(afd);
	close(fd);

	snprintf(port, sizeof port, "%d", bound);
	close(lfd);
	check_int(nym_tcp_connect("127.0.0.1", port, 1000), -1,
	    "nobody listening");
	check_int(errno, ECONNREFUSED, "ECONNREFUSED");

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		exit(99);
	nym_in_open(&in, sv[0], 64);
	in.ms = 100;
	check_int(nym_in_fill(&in, 1), -1, "nym_in with ms times out");
	check_int(errno, ETIMEDOUT, "ETIMEDOUT");
	say(sv[1], "late");
	check_int(nym_in_fill(&in, 1), -1, "and stays failed");
	check_int(in.err, ETIMEDOUT, "sticky");
	nym_in_close(&in);
	nym_in_open(&in, sv[0], 64);
	check_int(nym_in_fill(&in, 4), 4, "ms = 0 reads as before");
	nym_in_close(&in);
	for (i = 0, r = 0; i < 1000 && r == 0; i++)
		r = nym_write_timed(sv[0], big, sizeof big, 50);
	nym_out_open(&o, sv[0], 4096);
	o.ms = 100;
	nym_out_write(&o, big, sizeof big);
	check_int(nym_out_flush(&o), -1, "nym_out with ms times out");
	check_int(errno, ETIMEDOUT, "ETIMEDOUT");
	nym_out_close(&o);
	close(sv[1]);
	check_int(nym_write_timed(sv[0], "x", 1, 100), -1, "write to a "
	    "closed peer");
	check_int(errno, EPIPE, "EPIPE, no SIGPIPE");
	close(sv[0]);
}

int
main(void)
{
	signal(SIGPIPE, SIG_DFL);
	test_dest();
	test_results();
	test_parser();
	test_lookup();
	test_session();
	test_peer();
	test_net();
	return tap_done();
}
