/*
 * socks.c - a SOCKS5 client (RFC 1928) for Tor.
 *
 * The host name goes to the proxy as a name (address type 3) and is
 * never looked up here: an onion name sent to a DNS server would tell the
 * network which hidden service the user is after, and a clearnet name
 * looked up locally leaks the same to the local resolver.  Only the
 * proxy's own address goes through nym_tcp_connect (a numeric address or
 * an /etc/hosts name).
 *
 * A tag, if given, is offered as the user name of RFC 1929 authentication
 * (with a fixed password).  Tor (IsolateSOCKSAuth, on by default) never
 * puts streams with different credentials on one circuit, so two
 * pseudonyms that use the same server do not share a circuit by which
 * that server could link them.  A proxy that wants no authentication may
 * say so; the tag is then simply not sent.
 *
 * One deadline covers the whole handshake.  Replies are read to their
 * exact length, never ahead, so the server's first bytes stay in the
 * socket for the caller's reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "proto.h"

#define SOCKS_VER	5
#define AUTH_VER	1	/* RFC 1929 subnegotiation version */
#define M_NONE		0x00
#define M_USERPASS	0x02
#define M_REFUSED	0xff
#define CMD_CONNECT	1
#define ATYP_IPV4	1
#define ATYP_NAME	3
#define ATYP_IPV6	4
#define ISOLATE_PASS	"nymbox"

/* Exactly n bytes from fd before deadline.  0, or -1 with ETIMEDOUT,
 * ECONNRESET (EOF first) or the read error. */
static int
readn(int fd, unsigned char *p, size_t n, long long deadline)
{
	ssize_t r;
	int ms;

	while (n > 0) {
		if ((ms = nym_left_ms(deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (nym_wait(fd, POLLIN, ms) == -1)
			return -1;
		r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
writen(int fd, const unsigned char *p, size_t n, long long deadline)
{
	int ms;

	if ((ms = nym_left_ms(deadline)) == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return nym_write_timed(fd, p, n, ms);
}

int
nym_socks_set(struct nym_socks *s, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	size_t n;

	if (colon == NULL || colon == hostport || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof s->portbuf)
		goto bad;
	n = (size_t)(colon - hostport);
	/* "[::1]:9050" */
	if (hostport[0] == '[' && n >= 3 && hostport[n - 1] == ']') {
		hostport++;
		n -= 2;
	}
	if (n >= sizeof s->hostbuf)
		goto bad;
	memcpy(s->hostbuf, hostport, n);
	s->hostbuf[n] = '\0';
	snprintf(s->portbuf, sizeof s->portbuf, "%s", colon + 1);
	s->host = s->hostbuf;
	s->port = s->portbuf;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
nym_socks_init(struct nym_socks *s)
{
	const char *v;

	memset(s, 0, sizeof *s);
	s->host = "127.0.0.1";
	s->port = "9050";
	if ((v = getenv("TOR_SOCKS")) == NULL || *v == '\0')
		v = nym_conf_get("tor-socks");
	if (v == NULL)
		return 0;
	return nym_socks_set(s, v);
}

/* A name the proxy may resolve: 1 to NYM_SOCKS_NAME bytes of letters,
 * digits, '-', '.' and '_' (no spaces, controls or NULs to smuggle). */
static int
name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if (i >= NYM_SOCKS_NAME ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return i > 0;
}

/* The proxy said no: note why. */
static int
refused(struct nym_socks *s, int reply)
{
	s->reply = reply;
	errno = ECONNABORTED;
	return -1;
}

/* The handshake on fd: 0, or -1 with errno (and s->reply). */
static int
handshake(struct nym_socks *s, int fd, const char *name, int port,
    const char *tag, long long deadline)
{
	unsigned char b[4 + 1 + NYM_SOCKS_NAME + 2];
	unsigned char auth[3 + NYM_SOCKS_USER + sizeof ISOLATE_PASS];
	size_t n, tl, pl = sizeof ISOLATE_PASS - 1;

	/* Methods: none, and user/password when there is a tag. */
	b[0] = SOCKS_VER;
	b[1] = tag != NULL ? 2 : 1;
	b[2] = M_NONE;
	b[3] = M_USERPASS;
	if (writen(fd, b, tag != NULL ? 4 : 3, deadline) == -1 ||
	    readn(fd, b, 2, deadline) == -1)
		return -1;
	if (b[0] != SOCKS_VER) {
		errno = EPROTO;
		return -1;
	}
	if (b[1] == M_USERPASS && tag != NULL) {
		/* In one write: pieces would each wait for the proxy's
		 * delayed acknowledgement of the last (Nagle), 40 ms on
		 * Linux. */
		tl = strlen(tag);
		auth[0] = AUTH_VER;
		auth[1] = (unsigned char)tl;
		memcpy(auth + 2, tag, tl);
		auth[2 + tl] = (unsigned char)pl;
		memcpy(auth + 3 + tl, ISOLATE_PASS, pl);
		if (writen(fd, auth, 3 + tl + pl, deadline) == -1 ||
		    readn(fd, b, 2, deadline) == -1)
			return -1;
		if (b[0] != AUTH_VER) {
			errno = EPROTO;
			return -1;
		}
		if (b[1] != 0)
			return refused(s, NYM_SOCKS_AUTHFAIL);
	} else if (b[1] == M_REFUSED)
		return refused(s, NYM_SOCKS_NOMETHOD);
	else if (b[1] != M_NONE) {
		errno = EPROTO;		/* a method we did not offer */
		return -1;
	}

	/* CONNECT name:port, the name as a name. */
	n = strlen(name);
	b[0] = SOCKS_VER;
	b[1] = CMD_CONNECT;
	b[2] = 0;
	b[3] = ATYP_NAME;
	b[4] = (unsigned char)n;
	memcpy(b + 5, name, n);
	b[5 + n] = (unsigned char)(port >> 8);
	b[6 + n] = (unsigned char)(port & 0xff);
	if (writen(fd, b, 7 + n, deadline) == -1)
		return -1;

	/* VER REP RSV ATYP, then the bound address and port. */
	if (readn(fd, b, 4, deadline) == -1)
		return -1;
	if (b[0] != SOCKS_VER || b[2] != 0) {
		errno = EPROTO;
		return -1;
	}
	if (b[1] != 0)
		return refused(s, b[1]);
	switch (b[3]) {
	case ATYP_IPV4:
		n = 4;
		break;
	case ATYP_IPV6:
		n = 16;
		break;
	case ATYP_NAME:
		if (readn(fd, b, 1, deadline) == -1)
			return -1;
		n = b[0];
		break;
	default:
		errno = EPROTO;
		return -1;
	}
	/* n + 2 <= 257 < sizeof b */
	return readn(fd, b, n + 2, deadline);
}

int
nym_socks_connect(struct nym_socks *s, const char *name, int port,
    const char *tag, int ms)
{
	long long deadline;
	int fd, e;

	s->reply = 0;
	if (name == NULL || !name_ok(name) || port < 1 || port > 65535 ||
	    (tag != NULL && (*tag == '\0' || strlen(tag) > NYM_SOCKS_USER)) ||
	    ms <= 0) {
		errno = EINVAL;
		return -1;
	}
	deadline = nym_now_ms() + ms;
	if ((fd = nym_tcp_connect(s->host, s->port, ms)) == -1)
		return -1;
	if (handshake(s, fd, name, port, tag, deadline) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *
nym_socks_replyname(int reply)
{
	switch (reply) {
	case 1: return "general SOCKS server failure";
	case 2: return "connection not allowed by ruleset";
	case 3: return "network unreachable";
	case 4: return "host unreachable";
	case 5: return "connection refused";
	case 6: return "TTL expired (Tor: no answer in time)";
	case 7: return "command not supported";
	case 8: return "address type not supported";
	/* Tor's extended errors (SocksPort ... ExtendedErrors). */
	case 0xf0: return "onion service descriptor can not be found";
	case 0xf1: return "onion service descriptor is invalid";
	case 0xf2: return "onion service introduction failed";
	case 0xf3: return "onion service rendezvous failed";
	case 0xf4: return "onion service missing client authorization";
	case 0xf5: return "onion service wrong client authorization";
	case 0xf6: return "onion service invalid address";
	case 0xf7: return "onion service introduction timed out";
	case NYM_SOCKS_NOMETHOD:
		return "the proxy accepts none of our authentication methods";
	case NYM_SOCKS_AUTHFAIL:
		return "the proxy refused the stream isolation credentials";
	default: return "unknown SOCKS reply";
	}
}

int
nym_socks_exitcode(int reply)
{
	switch (reply) {
	case 0xf1:		/* a descriptor that does not parse or
				   verify: the service is broken, not away */
	case 0xf6:		/* an address that can never work */
		return NYM_EX_NOHOST;
	case 2:			/* the proxy is not set up for this */
	case 7:
	case 8:
	case 0xf4:		/* Tor needs the client authorization key */
	case 0xf5:
	case NYM_SOCKS_NOMETHOD:
	case NYM_SOCKS_AUTHFAIL:
		return NYM_EX_CONFIG;
	default:		/* 1, 3..6, f0 (no descriptor yet), f2, f3,
				   f7, unknown: try later */
		return NYM_EX_TEMPFAIL;
	}
}
