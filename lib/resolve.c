/*
 * resolve.c - from a recipient's domain to its mail server's destination.
 *
 * Eep2eep mail has no DNS MX: a site publishes its mail destination at
 * http://NAME/.well-known/i2pmail.key, fetched here over a SAM stream;
 * failing that the router's address book names the site itself, and
 * service records (proposal 167) may name another destination.  Results
 * are cached under the site's own max-age, and a stale entry is served
 * while the site cannot be reached: a down eepsite must delay mail, not
 * bounce it.  A site that publishes its key may publish its stamp
 * demand beside it (i2pmail.pow), kept for pow-stamp -M.  Nothing here
 * prints; the callers word the warnings.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "i2p.h"

static const char *const trname[] = { "", "i2p", "tor", "relay" };

static int
validname(const char *d)
{
	const char *p;

	if (*d == '\0' || *d == '.' || strlen(d) > 253)
		return 0;
	for (p = d; *p != '\0'; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

static int
cachepath(const struct nym_resolver *r, const char *domain, char *buf,
    size_t cap)
{
	int n;

	if (r->cachedir == NULL || !validname(domain))
		return -1;
	n = snprintf(buf, cap, "%s/%s", r->cachedir, domain);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* A cache entry is one line: transport dest port method expires. */
static int
cacheread(const struct nym_resolver *r, const char *domain,
    struct nym_maildest *d)
{
	char path[PATH_MAX], buf[NYM_DEST_MAX + 128], tr[8], meth[16];
	long long exp;
	int fd, port;
	ssize_t n;
	size_t t;

	if (cachepath(r, domain, path, sizeof path) == -1 ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = nym_read_all(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	memset(d, 0, sizeof *d);
	/* The widths match the buffers: tr[8], dest, meth[16]. */
	if (sscanf(buf, "%7s %4095s %d %15s %lld", tr, d->dest, &port, meth,
	    &exp) != 5 || port < 1 || port > 65535)
		return -1;
	for (t = 1; t < 4 && strcmp(tr, trname[t]) != 0; t++)
		;
	if (t == 4)
		return -1;
	d->transport = (enum nym_transport)t;
	d->port = port;
	snprintf(d->method, sizeof d->method, "%s", meth);
	d->expires = (time_t)exp;
	return 0;
}

static void
cachewrite(const struct nym_resolver *r, const char *domain,
    const struct nym_maildest *d)
{
	char path[PATH_MAX], buf[NYM_DEST_MAX + 128];
	int n;

	if (cachepath(r, domain, path, sizeof path) == -1 ||
	    nym_mkdirs(r->cachedir, 0700) == -1)
		return;
	n = snprintf(buf, sizeof buf, "%s %s %d %s %lld\n",
	    trname[d->transport], d->dest, d->port, d->method,
	    (long long)d->expires);
	if (n > 0 && (size_t)n < sizeof buf)
		(void)nym_atomic_write(r->cachedir, domain, buf, (size_t)n,
		    0600, 0);
}

int
nym_maildest_parse(const char *s, size_t n, struct nym_maildest *d)
{
	char tok[NYM_DEST_MAX];
	const char *p = s, *e = s + n, *w;
	size_t l;
	long port = 25;
	char *end;

	while (p < e && isspace((unsigned char)*p))
		p++;
	for (w = p; p < e && !isspace((unsigned char)*p) && *p != ':'; p++)
		;
	l = (size_t)(p - w);
	if (l == 0 || l >= sizeof tok)
		goto bad;
	memcpy(tok, w, l);
	tok[l] = '\0';
	if (p < e && *p == ':')
		p++;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p < e && isdigit((unsigned char)*p)) {
		errno = 0;
		port = strtol(p, &end, 10);
		if (errno != 0 || port < 1 || port > 65535 || end > e)
			goto bad;
		p = end;
	}
	while (p < e && isspace((unsigned char)*p))
		p++;
	if (p != e)
		goto bad;
	for (l = 0; tok[l] != '\0'; l++)
		if (tok[l] >= 'A' && tok[l] <= 'Z' && strchr(tok, '.') != NULL)
			tok[l] = (char)(tok[l] - 'A' + 'a');
	if (nym_domkind(tok) != NYM_DOM_B32 &&
	    !nym_dest_valid(tok, strlen(tok)))
		goto bad;
	memset(d, 0, sizeof *d);
	d->transport = NYM_TR_I2P;
	memcpy(d->dest, tok, strlen(tok) + 1);
	d->port = (int)port;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int
session(struct nym_resolver *r)
{
	int rc;

	if (r->sam != NULL)
		return 0;
	if ((r->sam = calloc(1, sizeof *r->sam)) == NULL)
		return -1;
	r->owned = 1;
	if (nym_sam_open(r->sam, r->samhost, r->samport, r->ms) == -1) {
		snprintf(r->why, sizeof r->why, "unable to reach the SAM "
		    "bridge at %s:%s (" NYM_SAM_HINT "): %s", r->samhost,
		    r->samport,
		    errno == EPROTO ? r->sam->message : strerror(errno));
		goto fail;
	}
	rc = nym_sam_session(r->sam, "TRANSIENT", r->samopts, r->create_ms);
	if (rc != NYM_SAM_OK) {
		snprintf(r->why, sizeof r->why, "unable to create a SAM "
		    "session: %s", rc == -1 ? strerror(errno) :
		    nym_sam_resultname(rc));
		goto fail;
	}
	return 0;
fail:
	nym_sam_close(r->sam);
	free(r->sam);
	r->sam = NULL;
	r->owned = 0;
	return -1;
}

static long
maxage(const char *hdr, size_t n)
{
	const char *p, *e = hdr + n;
	long v;

	for (p = hdr; p + 8 <= e; p++)
		if (strncasecmp(p, "max-age=", 8) == 0) {
			v = strtol(p + 8, NULL, 10);
			return v < 0 ? 0 :
			    v > NYM_MAXAGE_CAP ? NYM_MAXAGE_CAP : v;
		}
	return -1;
}

/* GET /.well-known/FILE of domain into buf (NYM_HTTP_MAX + 2 bytes):
 * the status, *body at the body (NUL ended); 0 not there (no such
 * destination, an answer over NYM_HTTP_MAX), -1 the site could not be
 * reached or answered badly (r->why says). */
static int
httpget(struct nym_resolver *r, const char *domain, const char *file,
    char *buf, const char **body)
{
	char req[512];
	struct nym_in in;
	size_t len = 0;
	ssize_t got;
	long long dl;
	int fd, rc, status;

	*body = NULL;
	rc = nym_sam_connect(r->sam, domain, &fd);
	if (rc == NYM_SAM_KEY_NOT_FOUND || rc == NYM_SAM_INVALID_KEY ||
	    rc == NYM_SAM_PEER_NOT_FOUND)
		return 0;
	if (rc != NYM_SAM_OK) {
		snprintf(r->why, sizeof r->why, "unable to reach %s: %s",
		    domain, rc == -1 ? strerror(errno) :
		    nym_sam_resultname(rc));
		return -1;
	}
	snprintf(req, sizeof req, "GET /.well-known/%s HTTP/1.1\r\n"
	    "Host: %s\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
	    file, domain);
	/* The whole exchange within -w: a site that answers a byte a
	 * second cannot hold the resolver. */
	dl = nym_now_ms() + r->ms;
	if (nym_write_until(fd, req, strlen(req), r->ms, dl) == -1 ||
	    nym_in_open(&in, fd, NYM_HTTP_MAX + 1) == -1) {
		snprintf(r->why, sizeof r->why, "unable to ask %s: %s",
		    domain, strerror(errno));
		close(fd);
		return -1;
	}
	in.ms = r->ms;
	in.deadline = dl;
	/* To EOF or one byte past the cap (so an answer of exactly the
	 * cap is told from a longer one): Connection: close ends the body. */
	got = nym_in_fill(&in, in.cap);
	if (got >= 0) {
		len = in.len - in.pos;
		memcpy(buf, in.buf + in.pos, len);
	}
	nym_in_close(&in);
	close(fd);
	buf[len] = '\0';
	if (got < 0 || len == 0) {
		snprintf(r->why, sizeof r->why, "unable to read from %s: %s",
		    domain, got < 0 ? strerror(errno) : "no answer");
		return -1;
	}
	if (len > NYM_HTTP_MAX) {
		snprintf(r->why, sizeof r->why, "%s: %s answer over %d bytes",
		    domain, file, NYM_HTTP_MAX);
		return 0;
	}
	if (sscanf(buf, "HTTP/1.%*1[01] %d", &status) != 1) {
		snprintf(r->why, sizeof r->why, "%s: not an HTTP answer",
		    domain);
		return -1;
	}
	if (status >= 500) {
		snprintf(r->why, sizeof r->why, "%s answered %d", domain,
		    status);
		return -1;
	}
	if ((*body = strstr(buf, "\r\n\r\n")) != NULL)
		*body += 4;
	return status;
}

/* GET /.well-known/i2pmail.key.  0 found, 1 none published, -1 the site
 * could not be reached or answered badly. */
static int
wellknown(struct nym_resolver *r, const char *domain,
    struct nym_maildest *d)
{
	char buf[NYM_HTTP_MAX + 2];
	const char *body, *cc;
	long age;
	int status;

	if ((status = httpget(r, domain, "i2pmail.key", buf, &body)) == -1)
		return -1;
	if (status != 200 || body == NULL)
		return 1;
	if (nym_maildest_parse(body, strlen(body), d) == -1) {
		snprintf(r->why, sizeof r->why, "%s publishes an i2pmail.key "
		    "that is not a destination", domain);
		return 1;
	}
	snprintf(d->method, sizeof d->method, "well-known");
	cc = NULL;
	for (const char *p = buf; p < body; p++)
		if (strncasecmp(p, "\r\nCache-Control:", 16) == 0) {
			cc = p + 16;
			break;
		}
	age = cc != NULL ? maxage(cc, (size_t)(body - cc)) : -1;
	d->expires = r->now + (age >= 0 ? age : r->maxage);
	return 0;
}

/* GET /.well-known/i2pmail.pow, the site's stamp demand, kept for
 * pow-stamp -M (nym_demand_save) if it is one line of a demand's form;
 * nothing to do otherwise: the mail goes on without it. */
static void
powdemand(struct nym_resolver *r, const char *domain)
{
	char buf[NYM_HTTP_MAX + 2], why[sizeof r->why];
	const char *body;
	size_t n;

	memcpy(why, r->why, sizeof why);
	if (httpget(r, domain, "i2pmail.pow", buf, &body) == 200 &&
	    body != NULL) {
		n = strcspn(body, "\r\n");
		if (n > 0 && body[n + strspn(body + n, "\r\n")] == '\0')
			(void)nym_demand_save(domain, body, n);
	}
	memcpy(r->why, why, sizeof why);
}

/* A proposal 167 record "_smtp._tcp=priority weight port target". */
static int
srvrecord(const char *opts, struct nym_maildest *d)
{
	const char *p;
	char target[NYM_DEST_MAX];
	int prio, weight, port;

	if (opts == NULL || (p = strstr(opts, "_smtp._tcp=")) == NULL)
		return -1;
	/* target[NYM_DEST_MAX]: the width below is NYM_DEST_MAX - 1. */
	if (sscanf(p + 11, "%d %d %d %4095s", &prio, &weight, &port,
	    target) != 4 || port < 1 || port > 65535)
		return -1;
	if (nym_domkind(target) != NYM_DOM_B32 &&
	    !nym_dest_valid(target, strlen(target)))
		return -1;
	memset(d, 0, sizeof *d);
	d->transport = NYM_TR_I2P;
	snprintf(d->dest, sizeof d->dest, "%s", target);
	d->port = port;
	snprintf(d->method, sizeof d->method, "srv");
	return 0;
}

/* The router's address book, and service records when offered.  0, 1
 * not known, -1 temporary. */
static int
addressbook(struct nym_resolver *r, const char *domain,
    struct nym_maildest *d)
{
	char *dest = NULL, *opts = NULL;
	int rc;

	rc = nym_sam_lookup(r->sam, domain, &dest,
	    r->sam->minor >= 3 ? &opts : NULL);
	if (rc == NYM_SAM_KEY_NOT_FOUND || rc == NYM_SAM_INVALID_KEY)
		return 1;
	if (rc != NYM_SAM_OK) {
		snprintf(r->why, sizeof r->why, "unable to look up %s: %s",
		    domain, rc == -1 ? strerror(errno) :
		    nym_sam_resultname(rc));
		return -1;
	}
	if (srvrecord(opts, d) == -1) {
		memset(d, 0, sizeof *d);
		d->transport = NYM_TR_I2P;
		snprintf(d->dest, sizeof d->dest, "%s", dest);
		d->port = 25;
		snprintf(d->method, sizeof d->method, "addressbook");
	}
	d->expires = r->now + r->maxage;
	free(dest);
	free(opts);
	return 0;
}

static int
relay(const struct nym_resolver *r, struct nym_maildest *d)
{
	if (r->relay == NULL)
		return 1;
	memset(d, 0, sizeof *d);
	d->transport = NYM_TR_RELAY;
	snprintf(d->dest, sizeof d->dest, "%s", r->relay);
	d->port = r->relayport > 0 ? r->relayport : 25;
	snprintf(d->method, sizeof d->method, "relay");
	return 0;
}

int
nym_resolve(struct nym_resolver *r, const char *domain,
    struct nym_maildest *d)
{
	struct nym_maildest c;
	char why[sizeof r->why];
	int cached, rc;

	r->why[0] = '\0';
	memset(d, 0, sizeof *d);
	switch (nym_domkind(domain)) {
	case NYM_DOM_ONION:
		d->transport = NYM_TR_TOR;
		snprintf(d->dest, sizeof d->dest, "%s", domain);
		d->port = 25;
		snprintf(d->method, sizeof d->method, "onion");
		return 0;
	case NYM_DOM_B32:
		d->transport = NYM_TR_I2P;
		snprintf(d->dest, sizeof d->dest, "%s", domain);
		d->port = 25;
		snprintf(d->method, sizeof d->method, "b32");
		return 0;
	case NYM_DOM_I2P:
		break;
	case NYM_DOM_OTHER:
		if ((rc = relay(r, d)) == 1)
			snprintf(r->why, sizeof r->why, "%s is not an I2P or "
			    "onion name, and no relay is set", domain);
		return rc;
	default:
		snprintf(r->why, sizeof r->why, "%s is not a valid domain",
		    domain);
		return 1;
	}
	cached = cacheread(r, domain, &c) == 0;
	if (cached && (c.expires == 0 || c.expires > r->now)) {
		*d = c;
		return 0;
	}
	if (session(r) == -1)
		goto tempfail;
	if ((rc = wellknown(r, domain, d)) == 0)
		powdemand(r, domain);
	if (rc == 0 ||
	    (rc == 1 && (rc = addressbook(r, domain, d)) == 0)) {
		cachewrite(r, domain, d);
		return 0;
	}
	/* The site is down, but a service record may name a mail server
	 * elsewhere; the site itself would be down too. */
	if (rc == -1) {
		memcpy(why, r->why, sizeof why);
		if (addressbook(r, domain, d) == 0 &&
		    strcmp(d->method, "srv") == 0) {
			cachewrite(r, domain, d);
			return 0;
		}
		memcpy(r->why, why, sizeof why);
		goto tempfail;
	}
	if ((rc = relay(r, d)) == 1 && r->why[0] == '\0')
		snprintf(r->why, sizeof r->why, "%s publishes no mail "
		    "destination and is not in the address book", domain);
	return rc;
tempfail:
	if (cached) {
		*d = c;
		d->stale = 1;
		return 0;
	}
	return -1;
}

void
nym_resolver_close(struct nym_resolver *r)
{
	if (r->owned && r->sam != NULL) {
		nym_sam_close(r->sam);
		free(r->sam);
	}
	r->sam = NULL;
	r->owned = 0;
}
