/*
 * sam.c - a SAM v3 client for I2P streams.
 *
 * One control socket carries the session: HELLO, SESSION CREATE, then
 * NAMING LOOKUPs (on that socket, never a bare one: i2pd answers a bare
 * socket from a shared destination that often has no tunnels).  Each
 * STREAM CONNECT, ACCEPT or FORWARD opens a socket of its own, says HELLO
 * and names the session by its ID; once the bridge says OK that socket is
 * the stream.
 *
 * Replies are read strictly: one line of at most 16 KiB (a private key is
 * about 900 characters), no control characters, KEY=VALUE tokens with
 * optional double quotes and backslash escapes, and the first two words
 * must be the topic that answers the request.  Anything else is a
 * protocol error, and the control socket is not used again after one
 * (its error is made sticky), since a reply out of step would be taken
 * for the answer to the next question.  On the stream sockets the status
 * line is read with MSG_PEEK first so that not a byte of the stream that
 * follows it is consumed here.
 *
 * i2pd 2.45.1 closes the socket on any command it does not know, PING and
 * QUIT included, so neither is ever sent: a session ends by closing its
 * socket.  Keys are wiped from every buffer they pass through, and only
 * the MESSAGE= text of a reply, sanitised, is kept for diagnostics.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "i2p.h"

#define MASK_RUN	60	/* base64 runs this long may be keys */

struct reply {
	char buf[NYM_SAM_LINE + 1];		/* the line, tokens NUL-ended */
	size_t len;			/* bytes of buf to wipe */
	const char *topic[2];
	struct {
		const char *k, *v;
	} kv[NYM_SAM_PAIRS];
	size_t nkv;
	const char *why;		/* what was wrong with the line */
};

static const char *const resnames[] = {
	[NYM_SAM_OK] = "OK",
	[NYM_SAM_CANT_REACH_PEER] = "CANT_REACH_PEER",
	[NYM_SAM_DUPLICATED_DEST] = "DUPLICATED_DEST",
	[NYM_SAM_DUPLICATED_ID] = "DUPLICATED_ID",
	[NYM_SAM_I2P_ERROR] = "I2P_ERROR",
	[NYM_SAM_INVALID_ID] = "INVALID_ID",
	[NYM_SAM_INVALID_KEY] = "INVALID_KEY",
	[NYM_SAM_KEY_NOT_FOUND] = "KEY_NOT_FOUND",
	[NYM_SAM_PEER_NOT_FOUND] = "PEER_NOT_FOUND",
	[NYM_SAM_TIMEOUT] = "TIMEOUT",
	[NYM_SAM_NOVERSION] = "NOVERSION",
	[NYM_SAM_ALREADY_ACCEPTING] = "ALREADY_ACCEPTING",
	[NYM_SAM_UNKNOWN] = "UNKNOWN",
	[NYM_SAM_PROTO] = "PROTOCOL_ERROR"
};

/* Defaults of SESSION CREATE; the caller's options replace them. */
static const char *const defopts[][2] = {
	{ "SIGNATURE_TYPE", "7" },
	{ "i2cp.leaseSetEncType", "4,0" },
	{ "inbound.length", "3" },
	{ "outbound.length", "3" },
	{ "inbound.quantity", "2" },
	{ "outbound.quantity", "2" }
};
#define NDEFOPTS	(sizeof defopts / sizeof defopts[0])

const char *
nym_sam_resultname(int r)
{
	if (r < 0 || (size_t)r >= sizeof resnames / sizeof resnames[0])
		return "?";
	return resnames[r];
}

int
nym_sam_temporary(int r)
{
	switch (r) {
	case NYM_SAM_CANT_REACH_PEER:
	case NYM_SAM_DUPLICATED_DEST:	/* its last session is closing */
	case NYM_SAM_DUPLICATED_ID:	/* a random ID met another */
	case NYM_SAM_I2P_ERROR:
	case NYM_SAM_INVALID_ID:	/* the session went away */
	case NYM_SAM_TIMEOUT:
	case NYM_SAM_ALREADY_ACCEPTING:
	case NYM_SAM_UNKNOWN:
	case NYM_SAM_PROTO:
		return 1;
	default:
		return 0;
	}
}

static int
result(const char *v)
{
	size_t i;

	if (v == NULL)
		return NYM_SAM_PROTO;
	for (i = 0; i < NYM_SAM_UNKNOWN; i++)
		if (strcmp(v, resnames[i]) == 0)
			return (int)i;
	return NYM_SAM_UNKNOWN;
}

static int
b64ish(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '~' || c == '+' ||
	    c == '/' || c == '=';
}

/*
 * Copy text for a diagnostic: control and non-ASCII bytes become '?',
 * and a run of base64 long enough to be a key becomes "[...]".
 */
static void
sanitise(char *out, size_t cap, const char *s, size_t n)
{
	size_t i = 0, o = 0, run;

	while (i < n && o + 1 < cap) {
		for (run = 0; i + run < n && b64ish((unsigned char)s[i + run]);
		    run++)
			;
		if (run >= MASK_RUN) {
			if (o + 6 > cap)
				break;
			memcpy(out + o, "[...]", 5);
			o += 5;
			i += run;
			continue;
		}
		if (run == 0)
			run = 1;
		for (; run > 0 && o + 1 < cap; run--, i++) {
			unsigned char c = (unsigned char)s[i];

			out[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
		}
	}
	out[o] = '\0';
}

static void
setmsg(struct nym_sam *s, const char *m)
{
	sanitise(s->message, sizeof s->message, m, strlen(m));
}

static struct reply *
reply_new(void)
{
	struct reply *r;

	if ((r = malloc(sizeof *r)) != NULL) {
		r->len = 0;
		r->why = NULL;
	}
	return r;
}

static void
reply_wipe(struct reply *r)
{
	nym_wipe(r->buf, r->len);
	r->len = 0;
}

/*
 * Parse the line in r->buf[0, n), LF removed, in place: tokens are
 * written back NUL-ended, never ahead of where they were read (the
 * separator after a token is consumed before its NUL is written).
 */
static int
parse(struct reply *r, size_t n)
{
	char *b = r->buf;
	size_t i = 0, w = 0, nword = 0;
	const char *k, *v;
	unsigned char c;
	char sep;

	r->nkv = 0;
	r->topic[0] = r->topic[1] = NULL;
	if (n > 0 && b[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++) {
		c = (unsigned char)b[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			r->why = "control character in reply";
			return -1;
		}
	}
	i = 0;
	for (;;) {
		while (i < n && (b[i] == ' ' || b[i] == '\t'))
			i++;
		if (i == n)
			break;
		k = b + w;
		while (i < n && b[i] != ' ' && b[i] != '\t' && b[i] != '=' &&
		    b[i] != '"')
			b[w++] = b[i++];
		if (i < n && b[i] == '"') {
			r->why = "quote in a reply key";
			return -1;
		}
		sep = i < n ? b[i++] : ' ';
		if (nword < 2) {
			if (sep == '=') {
				r->why = "reply too short";
				return -1;
			}
			b[w++] = '\0';
			r->topic[nword++] = k;
			continue;
		}
		if (k == b + w) {
			r->why = "empty key in reply";
			return -1;
		}
		b[w++] = '\0';
		v = "";
		if (sep == '=') {
			v = b + w;
			if (i < n && b[i] == '"') {
				for (i++; i < n && b[i] != '"'; i++) {
					if (b[i] == '\\' && ++i == n)
						break;
					b[w++] = b[i];
				}
				if (i == n) {
					r->why = "unterminated quote in reply";
					return -1;
				}
				i++;
				if (i < n && b[i] != ' ' && b[i] != '\t') {
					r->why = "text after a quoted value";
					return -1;
				}
			} else {
				while (i < n && b[i] != ' ' && b[i] != '\t') {
					if (b[i] == '"') {
						r->why = "stray quote in reply";
						return -1;
					}
					b[w++] = b[i++];
				}
				if (i < n)
					i++;
			}
			b[w++] = '\0';
		}
		if (r->nkv == NYM_SAM_PAIRS) {
			r->why = "too many values in reply";
			return -1;
		}
		r->kv[r->nkv].k = k;
		r->kv[r->nkv].v = v;
		r->nkv++;
	}
	if (nword < 2) {
		r->why = "reply too short";
		return -1;
	}
	return 0;
}

static const char *
get(const struct reply *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nkv; i++)
		if (strcmp(r->kv[i].k, key) == 0)
			return r->kv[i].v;
	return NULL;
}

static int
topic(const struct reply *r, const char *a, const char *b)
{
	if (strcmp(r->topic[0], a) == 0 && strcmp(r->topic[1], b) == 0)
		return 1;
	return 0;
}

/*
 * Read one line from fd into r->buf without consuming anything after its
 * LF: peek, then take exactly up to the LF.  Each wait is at most ms.
 */
static int
rawline(int fd, int ms, struct reply *r, size_t *lenp)
{
	size_t len = 0, take;
	const char *nl;
	ssize_t n;

	for (;;) {
		if (nym_wait(fd, POLLIN, ms) == -1)
			return -1;
		n = recv(fd, r->buf + len, NYM_SAM_LINE - len, MSG_PEEK);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		nl = memchr(r->buf + len, '\n', (size_t)n);
		take = nl != NULL ? (size_t)(nl - (r->buf + len)) + 1 :
		    (size_t)n;
		/* What was peeked is there: this does not block. */
		n = recv(fd, r->buf + len, take, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1)
			return -1;
		len += (size_t)n;
		r->len = len;
		if (nl != NULL && (size_t)n == take) {
			*lenp = len - 1;
			return 0;
		}
		if (len == NYM_SAM_LINE) {
			r->why = "reply line too long";
			errno = EPROTO;
			return -1;
		}
	}
}

/* One line from a buffered reader, copied into r->buf; the reader's copy
 * is wiped.  An over-long line is a sticky EPROTO. */
static int
bufline(struct nym_in *in, struct reply *r, size_t *lenp)
{
	const char *line;
	size_t len;
	int more, k;

	if (in->ms > 0)		/* the whole line, not each read */
		in->deadline = nym_now_ms() + in->ms;
	k = nym_in_line(in, &line, &len, &more);
	in->deadline = 0;
	if (k == -1)
		return -1;
	if (k == 0 || (more == 0 && line[len - 1] != '\n')) {
		in->err = ECONNRESET;
		errno = ECONNRESET;
		return -1;
	}
	if (more || len > NYM_SAM_LINE) {
		nym_wipe((char *)line, len);
		r->why = "reply line too long";
		in->err = errno = EPROTO;
		return -1;
	}
	memcpy(r->buf, line, len);
	r->len = len;
	nym_wipe((char *)line, len);
	*lenp = len - 1;
	return 0;
}

/*
 * Send cmd (len bytes) on fd and read the reply: through in if it is not
 * NULL, else straight from the socket.  0, or -1 with errno (EPROTO with
 * r->why for a line that is not a SAM reply).
 */
static int
xchg(int fd, struct nym_in *in, int ms, const char *cmd, size_t len,
    struct reply *r)
{
	size_t n;

	r->len = 0;
	r->why = NULL;
	if (nym_write_timed(fd, cmd, len, ms) == -1)
		return -1;
	if ((in != NULL ? bufline(in, r, &n) : rawline(fd, ms, r, &n)) == -1)
		return -1;
	if (parse(r, n) == -1) {
		if (in != NULL)
			in->err = EPROTO;
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Append s to buf (cap bytes, *len used).  -1 E2BIG if it does not fit. */
static int
cat(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n >= cap - *len) {
		errno = E2BIG;
		return -1;
	}
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

static int
cats(char *buf, size_t cap, size_t *len, const char *s)
{
	return cat(buf, cap, len, s, strlen(s));
}

/* A value we may put into a command: printable, no space, quote or
 * backslash, at most max bytes. */
static int
tokenok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (n == max || s[n] <= ' ' || s[n] >= 0x7f || s[n] == '"' ||
		    s[n] == '\\')
			return 0;
	return 1;
}

/* Turn a failed exchange into a result: EPROTO is NYM_SAM_PROTO with
 * s->message saying why; other errors stay -1. */
static int
failed(struct nym_sam *s, const struct reply *r)
{
	if (errno != EPROTO)
		return -1;
	setmsg(s, r->why != NULL ? r->why : "protocol error");
	return NYM_SAM_PROTO;
}

/*
 * The result of a parsed reply that should be a/b: NYM_SAM_PROTO for
 * another topic or no RESULT, and s->message from MESSAGE= when it is
 * not OK.
 */
static int
answer(struct nym_sam *s, struct nym_in *in, const struct reply *r,
    const char *a, const char *b)
{
	const char *m;
	char what[80];
	int res;

	s->message[0] = '\0';
	if (!topic(r, a, b)) {
		snprintf(what, sizeof what, "unexpected reply %.24s %.24s",
		    r->topic[0], r->topic[1]);
		setmsg(s, what);
		if (in != NULL)
			in->err = EPROTO;
		return NYM_SAM_PROTO;
	}
	res = result(get(r, "RESULT"));
	if (res == NYM_SAM_PROTO)
		setmsg(s, "reply without RESULT");
	else if (res != NYM_SAM_OK && (m = get(r, "MESSAGE")) != NULL)
		setmsg(s, m);
	return res;
}

/* HELLO on a fresh socket: *minor gets the version.  0, or -1 with errno
 * (EPROTO and msg for a refusal or nonsense). */
static int
hello(int fd, int ms, int *minor, char *msg, size_t msgcap)
{
	static const char cmd[] = "HELLO VERSION MIN=3.1 MAX=3.3\n";
	struct reply *r;
	const char *v;
	int res, e;

	if ((r = reply_new()) == NULL)
		return -1;
	msg[0] = '\0';
	if (xchg(fd, NULL, ms, cmd, sizeof cmd - 1, r) == -1) {
		e = errno;
		if (e == EPROTO)
			snprintf(msg, msgcap, "%s", r->why != NULL ? r->why :
			    "protocol error");
		goto out;
	}
	e = EPROTO;
	if (!topic(r, "HELLO", "REPLY")) {
		sanitise(msg, msgcap, "not a HELLO REPLY", 17);
		goto out;
	}
	if ((res = result(get(r, "RESULT"))) != NYM_SAM_OK) {
		snprintf(msg, msgcap, "HELLO refused: %s",
		    nym_sam_resultname(res));
		goto out;
	}
	v = get(r, "VERSION");
	if (v == NULL || v[0] != '3' || v[1] != '.' || v[2] < '1' ||
	    v[2] > '3' || v[3] != '\0') {
		sanitise(msg, msgcap, "unsupported SAM version", 23);
		goto out;
	}
	*minor = v[2] - '0';
	e = 0;
out:
	reply_wipe(r);
	free(r);
	errno = e;
	return e == 0 ? 0 : -1;
}

static void
closekeep(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
}

int
nym_sam_open(struct nym_sam *s, const char *host, const char *port, int ms)
{
	int fd;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->in.fd = -1;
	s->ms = ms;
	if (host == NULL || port == NULL || strlen(host) >= sizeof s->host ||
	    strlen(port) >= sizeof s->port) {
		errno = EINVAL;
		return -1;
	}
	memcpy(s->host, host, strlen(host) + 1);
	memcpy(s->port, port, strlen(port) + 1);
	if ((fd = nym_tcp_connect(host, port, ms)) == -1)
		return -1;
	if (hello(fd, ms, &s->minor, s->message, sizeof s->message) == -1 ||
	    nym_in_open(&s->in, fd, NYM_SAM_LINE) == -1) {
		closekeep(fd);
		s->in.fd = -1;
		return -1;
	}
	s->in.ms = ms;
	s->fd = fd;
	return fd;
}

/* Split opts into at most NYM_SAM_OPTS k=v tokens; EINVAL for anything else,
 * a reserved key or a key given twice. */
static int
splitopts(const char *opts, const char *tok[][2], size_t len[][2],
    size_t *n)
{
	static const char *const reserved[] = { "STYLE", "ID",
	    "DESTINATION" };
	const char *p = opts, *e, *eq;
	size_t i;

	*n = 0;
	while (p != NULL && *p != '\0') {
		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			if ((unsigned char)*e < ' ' || *e == 0x7f ||
			    *e == '"' || *e == '\\')
				goto bad;
		if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL ||
		    eq == p || memchr(eq + 1, '=', (size_t)(e - eq - 1)) !=
		    NULL || *n == NYM_SAM_OPTS)
			goto bad;
		tok[*n][0] = p;
		len[*n][0] = (size_t)(eq - p);
		tok[*n][1] = eq + 1;
		len[*n][1] = (size_t)(e - eq - 1);
		for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
			if (len[*n][0] == strlen(reserved[i]) &&
			    strncasecmp(p, reserved[i], len[*n][0]) == 0)
				goto bad;
		for (i = 0; i < *n; i++)
			if (len[i][0] == len[*n][0] &&
			    memcmp(tok[i][0], p, len[i][0]) == 0)
				goto bad;
		(*n)++;
		p = e;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* The SESSION CREATE command into cmd (NYM_SAM_LINE bytes). */
static int
createcmd(struct nym_sam *s, const char *priv, const char *opts, char *cmd,
    size_t *len)
{
	const char *tok[NYM_SAM_OPTS][2];
	size_t tl[NYM_SAM_OPTS][2], nt, i, j;
	int used[NYM_SAM_OPTS] = { 0 };

	if (splitopts(opts, tok, tl, &nt) == -1)
		return -1;
	*len = 0;
	if (cats(cmd, NYM_SAM_LINE, len, "SESSION CREATE STYLE=STREAM ID=") ==
	    -1 || cats(cmd, NYM_SAM_LINE, len, s->id) == -1 ||
	    cats(cmd, NYM_SAM_LINE, len, " DESTINATION=") == -1 ||
	    cats(cmd, NYM_SAM_LINE, len, priv) == -1)
		return -1;
	for (i = 0; i < NDEFOPTS; i++) {
		const char *v = defopts[i][1];
		size_t vl = strlen(v);

		for (j = 0; j < nt; j++)
			if (tl[j][0] == strlen(defopts[i][0]) &&
			    memcmp(tok[j][0], defopts[i][0], tl[j][0]) == 0) {
				v = tok[j][1];
				vl = tl[j][1];
				used[j] = 1;
			}
		if (cats(cmd, NYM_SAM_LINE, len, " ") == -1 ||
		    cats(cmd, NYM_SAM_LINE, len, defopts[i][0]) == -1 ||
		    cats(cmd, NYM_SAM_LINE, len, "=") == -1 ||
		    cat(cmd, NYM_SAM_LINE, len, v, vl) == -1)
			return -1;
	}
	for (j = 0; j < nt; j++)
		if (!used[j] && (cats(cmd, NYM_SAM_LINE, len, " ") == -1 ||
		    cat(cmd, NYM_SAM_LINE, len, tok[j][0], tl[j][0] + 1 +
		    tl[j][1]) == -1))
			return -1;
	return cats(cmd, NYM_SAM_LINE, len, "\n");
}

/* A session ID that says nothing: "nym" and 60 random bits. */
static void
newid(struct nym_sam *s)
{
	unsigned char rnd[8];
	char b32[16];

	nym_crypto_init();
	nym_random(rnd, sizeof rnd);
	nym_base32(rnd, sizeof rnd, b32);
	snprintf(s->id, sizeof s->id, "nym%.12s", b32);
}

static int
usable(const struct nym_sam *s)
{
	if (s->fd < 0 || s->in.buf == NULL) {
		errno = EBADF;
		return 0;
	}
	if (s->in.err != 0) {		/* a dead control socket */
		errno = s->in.err;
		return 0;
	}
	return 1;
}

int
nym_sam_session(struct nym_sam *s, const char *priv, const char *opts,
    int create_ms)
{
	char b32[NYM_B32LEN + 9], *cmd = NULL, *pub = NULL;
	struct reply *r = NULL;
	const char *d;
	size_t len = 0;
	int res = -1, saved;

	if (!usable(s))
		return -1;
	if (s->pub != NULL) {
		errno = EINVAL;		/* one session per socket */
		return -1;
	}
	if (priv == NULL)
		priv = "TRANSIENT";
	if (strcmp(priv, "TRANSIENT") != 0 &&
	    (!tokenok(priv, NYM_SAM_DESTCHARS) ||
	    nym_dest_b32(priv, strlen(priv), b32) == -1)) {
		errno = EINVAL;
		return -1;
	}
	if ((cmd = malloc(NYM_SAM_LINE)) == NULL || (r = reply_new()) ==
	    NULL)
		goto out;
	newid(s);
	if (createcmd(s, priv, opts, cmd, &len) == -1)
		goto out;
	saved = s->in.ms;
	s->in.ms = create_ms > 0 ? create_ms : 0;
	if (xchg(s->fd, &s->in, s->ms, cmd, len, r) == -1) {
		s->in.ms = saved;
		res = failed(s, r);
		goto out;
	}
	s->in.ms = saved;
	if ((res = answer(s, &s->in, r, "SESSION", "STATUS")) != NYM_SAM_OK)
		goto out;
	if ((d = get(r, "DESTINATION")) == NULL ||
	    nym_dest_b32(d, strlen(d), b32) == -1) {
		setmsg(s, "no usable DESTINATION in SESSION STATUS");
		s->in.err = EPROTO;
		res = NYM_SAM_PROTO;
		goto out;
	}
	reply_wipe(r);
	if ((res = nym_sam_lookup(s, "ME", &pub, NULL)) != NYM_SAM_OK)
		goto out;
	if (nym_dest_b32(pub, strlen(pub), s->b32) == -1 ||
	    strcmp(s->b32, b32) != 0) {
		setmsg(s, "NAMING LOOKUP ME names another destination");
		s->in.err = EPROTO;
		s->b32[0] = '\0';
		free(pub);
		res = NYM_SAM_PROTO;
		goto out;
	}
	s->pub = pub;
out:
	if (cmd != NULL) {
		nym_wipe(cmd, len);
		free(cmd);
	}
	if (r != NULL) {
		reply_wipe(r);
		free(r);
	}
	return res;
}

int
nym_sam_generate(const char *host, const char *port, int ms, char **pub,
    char **priv)
{
	static const char cmd[] = "DEST GENERATE SIGNATURE_TYPE=7\n";
	char b1[NYM_B32LEN + 9], b2[NYM_B32LEN + 9];
	struct nym_sam s;
	struct reply *r;
	const char *p, *k, *res;
	int e = EPROTO;

	*pub = *priv = NULL;
	if ((r = reply_new()) == NULL)
		return -1;
	if (nym_sam_open(&s, host, port, ms) == -1) {
		e = errno;
		goto out;
	}
	if (xchg(s.fd, &s.in, ms, cmd, sizeof cmd - 1, r) == -1) {
		e = errno;
		goto out;
	}
	if (!topic(r, "DEST", "REPLY") ||
	    ((res = get(r, "RESULT")) != NULL && strcmp(res, "OK") != 0) ||
	    (p = get(r, "PUB")) == NULL || (k = get(r, "PRIV")) == NULL ||
	    !nym_dest_valid(p, strlen(p)) ||
	    nym_dest_b32(p, strlen(p), b1) == -1 ||
	    nym_dest_b32(k, strlen(k), b2) == -1 || strcmp(b1, b2) != 0 ||
	    strlen(k) <= strlen(p))
		goto out;
	if ((*pub = strdup(p)) == NULL || (*priv = strdup(k)) == NULL) {
		e = errno;
		free(*pub);
		*pub = NULL;
		goto out;
	}
	e = 0;
out:
	reply_wipe(r);
	free(r);
	nym_sam_close(&s);
	errno = e;
	return e == 0 ? 0 : -1;
}

int
nym_sam_lookup(struct nym_sam *s, const char *name, char **dest,
    char **opts)
{
	char cmd[NYM_SAM_DESTCHARS + 64], *o = NULL;
	struct reply *r;
	const char *v;
	size_t i, olen = 0, need;
	int res, n;

	*dest = NULL;
	if (opts != NULL)
		*opts = NULL;
	if (s->share[0] != '\0')
		return nym_share_lookup(s, name, dest);
	if (!usable(s))
		return -1;
	if (!tokenok(name, NYM_SAM_DESTCHARS)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(cmd, sizeof cmd, "NAMING LOOKUP NAME=%s%s\n", name,
	    opts != NULL ? " OPTIONS=true" : "");
	if ((r = reply_new()) == NULL)
		return -1;
	if (xchg(s->fd, &s->in, s->ms, cmd, (size_t)n, r) == -1) {
		res = failed(s, r);
		goto out;
	}
	if ((res = answer(s, &s->in, r, "NAMING", "REPLY")) != NYM_SAM_OK)
		goto out;
	if ((v = get(r, "VALUE")) == NULL || !nym_dest_valid(v, strlen(v))) {
		setmsg(s, "no destination in NAMING REPLY");
		res = NYM_SAM_PROTO;
		goto out;
	}
	if (opts != NULL) {
		for (i = 0; i < r->nkv; i++) {
			if (strncmp(r->kv[i].k, "OPTION:", 7) != 0)
				continue;
			need = strlen(r->kv[i].k + 7) + strlen(r->kv[i].v) + 3;
			if (nym_reallocarray(&o, olen + need, 1) == -1) {
				res = -1;
				goto out;
			}
			olen += (size_t)snprintf(o + olen, need, "%s=%s\n",
			    r->kv[i].k + 7, r->kv[i].v);
		}
	}
	if ((*dest = strdup(v)) == NULL) {
		res = -1;
		goto out;
	}
	if (opts != NULL) {
		*opts = o;
		o = NULL;
	}
out:
	free(o);
	reply_wipe(r);
	free(r);
	return res;
}

/*
 * A stream command on a new socket: connect, HELLO, cmd, STREAM STATUS.
 * On OK *fd is the socket, nothing after the status line read.
 */
static int
stream(struct nym_sam *s, const char *cmd, size_t len, int *fd)
{
	struct reply *r;
	int sfd, minor, res;

	*fd = -1;
	if (!usable(s))
		return -1;
	if (s->pub == NULL) {
		errno = EINVAL;		/* no session yet */
		return -1;
	}
	if ((r = reply_new()) == NULL)
		return -1;
	if ((sfd = nym_tcp_connect(s->host, s->port, s->ms)) == -1) {
		free(r);
		return -1;
	}
	if (hello(sfd, s->ms, &minor, s->message, sizeof s->message) == -1) {
		res = errno == EPROTO ? NYM_SAM_PROTO : -1;
		goto out;
	}
	if (xchg(sfd, NULL, s->ms, cmd, len, r) == -1) {
		res = failed(s, r);
		goto out;
	}
	res = answer(s, NULL, r, "STREAM", "STATUS");
out:
	reply_wipe(r);
	free(r);
	if (res == NYM_SAM_OK)
		*fd = sfd;
	else
		closekeep(sfd);
	return res;
}

int
nym_sam_connect(struct nym_sam *s, const char *dest, int *fd)
{
	char cmd[NYM_SAM_DESTCHARS + 128];
	int n;

	*fd = -1;
	if (!tokenok(dest, NYM_SAM_DESTCHARS)) {
		errno = EINVAL;
		return -1;
	}
	if (s->share[0] != '\0')
		return nym_share_connect(s, dest, fd);
	n = snprintf(cmd, sizeof cmd,
	    "STREAM CONNECT ID=%s DESTINATION=%s SILENT=false\n", s->id, dest);
	return stream(s, cmd, (size_t)n, fd);
}

int
nym_sam_accept(struct nym_sam *s, int *fd)
{
	char cmd[128];
	int n;

	if (s->share[0] != '\0')
		return nym_share_accept(s, fd);
	n = snprintf(cmd, sizeof cmd, "STREAM ACCEPT ID=%s SILENT=false\n",
	    s->id);
	return stream(s, cmd, (size_t)n, fd);
}

int
nym_sam_forward(struct nym_sam *s, const char *host, int port, int silent,
    int *fd)
{
	char cmd[512];
	int n;

	*fd = -1;
	if (!tokenok(host, 255) || port < 1 || port > 65535) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(cmd, sizeof cmd,
	    "STREAM FORWARD ID=%s PORT=%d HOST=%s%s\n", s->id, port, host,
	    silent ? " SILENT=true" : "");
	return stream(s, cmd, (size_t)n, fd);
}

/* The peer line of an accepted stream through in, pieces joined. */
static int
peerline(struct nym_in *in, struct reply *r, size_t *lenp)
{
	const char *line;
	size_t len, got = 0;
	int more, k;

	do {
		if ((k = nym_in_line(in, &line, &len, &more)) == -1)
			return -1;
		if (k == 0) {
			errno = got == 0 ? ECONNRESET : EPROTO;
			return -1;
		}
		if (len > NYM_SAM_LINE - got) {
			errno = EPROTO;
			return -1;
		}
		memcpy(r->buf + got, line, len);
		got += len;
		r->len = got;
	} while (more);
	if (r->buf[got - 1] != '\n') {
		errno = EPROTO;		/* EOF in the middle of it */
		return -1;
	}
	*lenp = got - 1;
	return 0;
}

int
nym_sam_peer(int fd, struct nym_in *in, int ms, char **dest)
{
	struct reply *r;
	size_t n, w;
	int saved = 0, k, e = 0;

	*dest = NULL;
	if (in != NULL && in->fd != fd) {
		errno = EINVAL;
		return -1;
	}
	if ((r = reply_new()) == NULL)
		return -1;
	r->len = 0;
	if (in != NULL) {
		saved = in->ms;
		in->ms = ms > 0 ? ms : 0;
		k = peerline(in, r, &n);
		in->ms = saved;
	} else
		k = rawline(fd, ms > 0 ? ms : -1, r, &n);
	if (k == -1) {
		e = errno;
		goto out;
	}
	if (n > 0 && r->buf[n - 1] == '\r')
		n--;
	r->buf[n] = '\0';
	for (w = 0; w < n && r->buf[w] != ' '; w++)
		;
	if (strncmp(r->buf, "STREAM STATUS", 13) == 0 ||
	    !nym_dest_valid(r->buf, w)) {
		e = EPROTO;
		goto out;
	}
	if ((*dest = malloc(w + 1)) == NULL) {
		e = errno;
		goto out;
	}
	memcpy(*dest, r->buf, w);
	(*dest)[w] = '\0';
out:
	reply_wipe(r);
	free(r);
	errno = e;
	return e == 0 ? 0 : -1;
}

void
nym_sam_close(struct nym_sam *s)
{
	if (s->in.buf != NULL) {
		if (s->fd >= 0)
			close(s->fd);
		nym_wipe(s->in.buf, s->in.cap);
		nym_in_close(&s->in);
	} else if (s->share[0] != '\0' && s->fd >= 0)
		close(s->fd);		/* a borrower's lease ends */
	s->fd = -1;
	free(s->pub);
	s->pub = NULL;
}
