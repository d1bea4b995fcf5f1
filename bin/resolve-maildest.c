/*
 * resolve-maildest - find each recipient's mail destination.
 *
 * Prints one line per recipient: address, transport (i2p, tor, relay),
 * destination, port, how it was found, and until when it holds.  Used by
 * people to see where mail would go, by smtp-receive to verify a sender's
 * domain, and as the lookup sam-deliver performs itself (lib/resolve.c).
 * The SAM session is opened only when a lookup needs the network: b32 and
 * onion recipients and cache hits need none.  With -k the lookups go
 * through the key's one shared session instead (lib/samshare.c).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "i2p.h"

#define USAGE "usage: resolve-maildest [-bnt] [-c cachedir] [-k keyfile] " \
	"[-o options] [-r relay] [-S host:port] [-w seconds] [address ...]\n"

static int bflag, nflag, tflag;

static void
usage(void)
{
	nym_usage();
}

static const char *const trname[] = { "", "i2p", "tor", "relay" };

static void
printdest(const char *addr, const struct nym_maildest *d)
{
	char when[32];
	struct tm tm;

	if (d->expires == 0 || gmtime_r(&d->expires, &tm) == NULL)
		snprintf(when, sizeof when, "-");
	else
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %s %s %d %s %s\n", addr, trname[d->transport], d->dest,
	    d->port, d->stale ? "stale" : d->method, when);
}

/* The domain of an address, lower-cased, into buf, and the bare
 * address (local@domain) into bare; -1 if it has no domain. */
static int
domainof(const char *addr, char *buf, size_t cap, char *bare,
    size_t bcap)
{
	struct nym_addrlist al = { 0 };
	int r = -1;

	if (bflag) {
		snprintf(buf, cap, "%s", addr);
		for (char *p = buf; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		snprintf(bare, bcap, "%s", buf);
		return 0;
	}
	if (nym_addr_parse(addr, strlen(addr), &al) == 0 && al.n == 1 &&
	    al.a[0].domain != NULL && strlen(al.a[0].domain) < cap &&
	    (size_t)snprintf(bare, bcap, "%s@%s", al.a[0].local,
	    al.a[0].domain) < bcap) {
		snprintf(buf, cap, "%s", al.a[0].domain);
		r = 0;
	}
	nym_addrlist_free(&al);
	return r;
}

/* -t: the To, Cc and Bcc addresses of the message on stdin. */
static char **
recipients(size_t *n)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_in in;
	struct nym_hdr h = { 0 };
	struct nym_addrlist al;
	char **list = NULL, buf[1024];
	size_t i, k;
	ssize_t len;

	*n = 0;
	if (nym_in_open(&in, STDIN_FILENO, 65536) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, NULL, NULL) == -1)
		nym_dieerr(errno == E2BIG ? NYM_EX_DATAERR :
		    nym_exitcode(errno), "unable to read the message");
	for (i = 0; i < h.nf; i++) {
		if (!nym_hdr_isrcpt(&h, i))
			continue;
		memset(&al, 0, sizeof al);
		if ((len = nym_hdr_value(&h, i, val, sizeof val)) < 0 ||
		    nym_addr_parse(val, (size_t)len, &al) == -1)
			nym_die(NYM_EX_DATAERR, "unable to parse the %.*s "
			    "field", (int)h.f[i].namelen, h.buf + h.f[i].off);
		for (k = 0; k < al.n; k++) {
			if (al.a[k].domain == NULL)
				nym_die(NYM_EX_DATAERR, "unable to route %s: "
				    "no domain", al.a[k].local);
			snprintf(buf, sizeof buf, "%s@%s", al.a[k].local,
			    al.a[k].domain);
			if (nym_reallocarray(&list, *n + 1, sizeof *list) ==
			    -1 || (list[*n] = strdup(buf)) == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
			(*n)++;
		}
		nym_addrlist_free(&al);
	}
	nym_hdr_free(&h);
	nym_in_close(&in);
	return list;
}

int
main(int argc, char *argv[])
{
	static char cachedir[PATH_MAX], relayhost[256];
	struct nym_samaddr sa;
	struct nym_resolver r = { 0 };
	struct nym_maildest d;
	const char *where, *v, *relayarg = NULL, *keyarg = NULL;
	struct nym_hold hold;
	struct nym_sam s;
	char why[700];
	char domain[256], bare[1024], **list;
	size_t n, i, onion = 0;
	int c, rc, ret = NYM_EX_OK, wsec = 60, werr = 0;

	nym_start(argc, argv, USAGE);
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	nym_samaddr_init(&sa);
	relayarg = nym_conf_get("relay");
	if ((v = nym_conf_get("cache-dir")) != NULL)
		snprintf(cachedir, sizeof cachedir, "%s", v);
	else if (nym_confdir(cachedir, sizeof cachedir) == 0 &&
	    strlen(cachedir) + sizeof "/maildest" < sizeof cachedir)
		strcat(cachedir, "/maildest");
	else
		cachedir[0] = '\0';
	while ((c = getopt(argc, argv, "bc:k:no:r:S:tw:")) != -1) {
		switch (c) {
		case 'b': bflag = 1; break;
		case 'c': snprintf(cachedir, sizeof cachedir, "%s", optarg);
			break;
		case 'k': keyarg = optarg; break;
		case 'n': nflag = 1; break;
		case 'o': sa.opts = optarg; break;
		case 'r': relayarg = optarg; break;
		case 'S': nym_samaddr_opt(&sa, optarg); break;
		case 't': tflag = 1; break;
		case 'w':
			wsec = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1,
			    3600);
			break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((tflag && argc > 0) || (!tflag && argc == 0) || (tflag && bflag))
		usage();
	r.samhost = sa.host;
	r.samport = sa.port;
	r.samopts = sa.opts;
	if (relayarg != NULL) {
		const char *colon = strrchr(relayarg, ':');

		snprintf(relayhost, sizeof relayhost, "%.*s",
		    (int)(colon != NULL ? colon - relayarg :
		    (ptrdiff_t)strlen(relayarg)), relayarg);
		r.relay = relayhost;
		r.relayport = 25;
		if (colon != NULL && relayarg == nym_conf_get("relay"))
			r.relayport = (int)nym_num(NYM_EX_CONFIG, "relay port",
			    colon + 1, 1, 65535);
		else if (colon != NULL)
			r.relayport = (int)nym_num(NYM_EX_USAGE, "relay port",
			    colon + 1, 1, 65535);
	}
	r.cachedir = nflag || cachedir[0] == '\0' ? NULL : cachedir;
	r.ms = wsec * 1000;
	r.create_ms = wsec * 2000;
	r.maxage = 86400;
	r.now = nym_now();
	/* -k: the key's one session (borrowed, or a holder started), not
	 * a session of our own.  Run by a program under sam-accept (the
	 * resolver of smtp-receive), the session of sam-accept's key. */
	if (keyarg == NULL && (v = getenv("I2P_LOCAL_KEY")) != NULL &&
	    *v != '\0')
		keyarg = v;
	if (keyarg != NULL) {
		if (nym_hold_init(&hold, keyarg, &sa, wsec * 1000, why,
		    sizeof why) == -1)
			nym_die(NYM_EX_CONFIG, "%s", why);
		if ((rc = nym_sam_acquire(&s, &hold, why, sizeof why)) !=
		    NYM_EX_OK)
			nym_die(rc, "%s", why);
		r.sam = &s;
	}

	if (tflag) {
		list = recipients(&n);
		if (n == 0)
			nym_die(NYM_EX_DATAERR, "unable to find recipients: no "
			    "To, Cc or Bcc");
	} else {
		list = argv;
		n = (size_t)argc;
	}
	for (i = 0; i < n; i++)
		if (domainof(list[i], domain, sizeof domain, bare,
		    sizeof bare) == 0 && nym_domkind(domain) == NYM_DOM_ONION)
			onion++;
	if (tflag && onion > 0 && onion < n)
		nym_die(NYM_EX_NOPERM, "unable to route the message: it mixes "
		    "onion and non-onion recipients");
	for (i = 0; i < n; i++) {
		if (domainof(list[i], domain, sizeof domain, bare,
		    sizeof bare) == -1) {
			nym_warn("unable to route %s: not an address with a "
			    "domain", list[i]);
			ret = ret == NYM_EX_TEMPFAIL ? ret : NYM_EX_NOHOST;
			continue;
		}
		rc = nym_resolve(&r, domain, &d);
		if (rc == 0) {
			if (d.stale)
				nym_warn("warning: %s unreachable (%s); using "
				    "the cached destination", domain, r.why);
			else if (d.transport == NYM_TR_RELAY)
				nym_warn("warning: %s has no mail destination;"
				    " using the relay %s", domain, d.dest);
			printdest(bare, &d);
			if (ferror(stdout)) {
				werr = errno;	/* the reader went away */
				break;
			}
		} else if (rc == 1) {
			nym_warn("unable to find a mail destination for %s: %s",
			    list[i], r.why);
			ret = ret == NYM_EX_TEMPFAIL ? ret : NYM_EX_NOHOST;
		} else {
			nym_warn("unable to resolve %s: %s", list[i], r.why);
			ret = NYM_EX_TEMPFAIL;
		}
	}
	nym_resolver_close(&r);
	if (keyarg != NULL)
		nym_sam_release(&s);
	if (tflag) {
		for (i = 0; i < n; i++)
			free(list[i]);
		free(list);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (werr != 0)
			errno = werr;
		nym_dieerr(nym_exitcode(errno), "unable to write the result");
	}
	return ret;
}
