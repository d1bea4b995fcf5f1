/*
 * sam-deliver - deliver mail by SMTP over I2P SAM streams.
 *
 * The sender's identity on I2P is a destination: a persistent key per
 * sender address, created on first use, so that receivers can check the
 * stream's origin against the key the sender's domain publishes.  The
 * key's one SAM session serves the lookups and every stream, shared by
 * every process sending with it and kept by a holder between deliveries
 * (lib/samshare.c): creating a session costs i2pd 2.45.1 twenty seconds,
 * an SMTP transaction over an open one well under a second.
 * The envelope, the spool, batches and the exit codes are every
 * deliverer's (lib/deliver.c); this file is the I2P transport.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"
#include "i2p.h"

#define USAGE "usage: sam-deliver [-Bt] [-f sender] [-k keyfile] " \
	"[-l seconds] [-o options] [-r relay] [-S host:port] [-w seconds] " \
	"[recipient ...] < message\n"

static int wsec = 120;

static void
usage(void)
{
	nym_usage();
}

/* The transport: a domain's destination from the resolver (cache,
 * .well-known, address book, relay), a stream to it over the key's one
 * session. */
struct sam {
	struct nym_sam s;
	struct nym_resolver res;
};

static int
sam_resolve(void *arg, const char *domain, char *key, size_t cap, char *why,
    size_t whycap)
{
	struct sam *sm = arg;
	struct nym_maildest d;
	int r;

	if ((r = nym_resolve(&sm->res, domain, &d)) != 0) {
		snprintf(why, whycap, "%s", sm->res.why);
		return r == 1 ? NYM_EX_NOHOST : NYM_EX_TEMPFAIL;
	}
	if (d.stale)
		nym_warn("warning: %s unreachable (%s); using the cached "
		    "destination", domain, sm->res.why);
	if (d.transport == NYM_TR_TOR) {
		snprintf(why, whycap, "onion recipients are not delivered "
		    "over I2P");
		return NYM_EX_NOHOST;
	}
	snprintf(key, cap, "%s", d.dest);
	return 0;
}

static int
sam_dial(void *arg, const char *key, int *code, char *why, size_t whycap)
{
	struct sam *sm = arg;
	int res, fd;

	res = nym_sam_connect(&sm->s, key, &fd);
	if (res != NYM_SAM_OK) {
		snprintf(why, whycap, "unable to reach the mail server: %s",
		    res == -1 ? strerror(errno) : nym_sam_resultname(res));
		*code = NYM_EX_TEMPFAIL;
		return -1;
	}
	return fd;
}

/* A stream that opened and then said nothing: stale router state for
 * the peer, which only a new session of ours clears. */
static void
sam_stale(void *arg)
{
	struct sam *sm = arg;

	nym_sam_stale(&sm->s);
}

/* The sender's key file: one per sender domain, the destination that
 * domain publishes in its i2pmail.key, so receivers can verify it, and
 * that no other identity shares. */
static void
keypath(const char *sender, char *buf, size_t cap)
{
	char dir[PATH_MAX], name[NYM_SMTP_DOMAIN + 1];
	const char *dom = strrchr(sender, '@') + 1;
	size_t i;

	if (nym_confdir(dir, sizeof dir) == -1)
		nym_die(NYM_EX_CONFIG, "unable to find the key directory: set "
		    "HOME or use -k");
	for (i = 0; dom[i] != '\0' && i + 1 < sizeof name; i++) {
		char c = (char)tolower((unsigned char)dom[i]);

		name[i] = isalnum((unsigned char)c) || c == '.' || c == '-' ?
		    c : '_';
	}
	name[i] = '\0';
	if (name[0] == '.' || name[0] == '\0' ||
	    (size_t)snprintf(buf, cap, "%s/keys/%s.key", dir, name) >= cap)
		nym_die(NYM_EX_USAGE, "unable to use sender %s", sender);
}

/* Whose key sends for sender: its own, or for the null sender of a
 * bounce (which has no domain) the configured identity's, sender = in
 * the configuration; else there is no telling, and -k must say. */
static const char *
keysender(const char *sender)
{
	static char buf[NYM_SMTP_PATH];
	struct nym_addrlist al = { 0 };
	const char *v;
	int ok;

	if (*sender != '\0')
		return sender;
	ok = (v = nym_conf_get("sender")) != NULL &&
	    nym_addr_parse(v, strlen(v), &al) == 0 && al.n == 1 &&
	    al.a[0].domain != NULL && (size_t)snprintf(buf, sizeof buf,
	    "%s@%s", al.a[0].local, al.a[0].domain) < sizeof buf;
	nym_addrlist_free(&al);
	if (!ok)
		nym_die(NYM_EX_CONFIG, "unable to choose a key for the null "
		    "sender of a bounce: give -k, or set sender = ADDRESS in "
		    "%s", nym_conf_name());
	return buf;
}

int
main(int argc, char *argv[])
{
	static char kpath[PATH_MAX], relayhost[256];
	static struct nym_dl dl;
	static struct sam sm;
	struct nym_dl_transport tr = {
		.resolve = sam_resolve, .dial = sam_dial, .stale = sam_stale,
		.arg = &sm
	};
	struct nym_resolver *res = &sm.res;
	struct nym_samaddr sa;
	const char *where, *v, *sender = NULL;
	const char *keyarg = NULL, *relayarg;
	struct nym_hold hold;
	char cachedir[PATH_MAX], why[700];
	int c, r, ret, linger = -1, Bflag = 0, tflag = 0;

	nym_start(argc, argv, USAGE);
	nym_delivering();	/* Postfix's pipe(8), the queue: never bounce */
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	nym_samaddr_init(&sa);
	relayarg = nym_conf_get("relay");
	while ((c = getopt(argc, argv, "Bf:k:l:o:r:S:tw:")) != -1) {
		switch (c) {
		case 'B': Bflag = 1; break;
		case 'f': sender = optarg; break;
		case 'k': keyarg = optarg; break;
		case 'l':
			linger = (int)nym_num(NYM_EX_USAGE, "-l", optarg, 0,
			    86400);
			break;
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
	nym_dl_init(&dl, &tr, wsec * 1000);
	nym_dl_envelope(&dl, sender, Bflag, tflag, argc, argv);
	if (keyarg == NULL) {
		keypath(keysender(dl.sender), kpath, sizeof kpath);
		keyarg = kpath;
	}

	/* The key's one session: borrowed from whoever holds it (sam-accept,
	 * or a holder an earlier sam-deliver started), else a holder started
	 * now, which lingers for the next deliveries (lib/samshare.c). */
	if (nym_hold_init(&hold, keyarg, &sa, wsec * 1000, why, sizeof why) ==
	    -1)
		nym_die(NYM_EX_CONFIG, "%s", why);
	if (linger >= 0)
		hold.linger = linger;
	hold.what = "the sender's key";
	if ((r = nym_sam_acquire(&sm.s, &hold, why, sizeof why)) != NYM_EX_OK)
		nym_die(r, "%s", why);

	res->sam = &sm.s;
	res->samhost = sa.host;
	res->samport = sa.port;
	res->ms = wsec * 1000;
	res->maxage = 86400;
	res->now = nym_now();
	if (relayarg != NULL) {
		const char *colon = strrchr(relayarg, ':');

		snprintf(relayhost, sizeof relayhost, "%.*s", (int)(colon !=
		    NULL ? colon - relayarg : (long)strlen(relayarg)),
		    relayarg);
		res->relay = relayhost;
		res->relayport = 25;
		if (colon != NULL && relayarg == nym_conf_get("relay"))
			res->relayport = (int)nym_num(NYM_EX_CONFIG,
			    "relay port",
			    colon + 1, 1, 65535);
		else if (colon != NULL)
			res->relayport = (int)nym_num(NYM_EX_USAGE, "relay port",
			    colon + 1, 1, 65535);
	}
	if ((v = nym_conf_get("cache-dir")) != NULL)
		snprintf(cachedir, sizeof cachedir, "%s", v);
	else if (nym_confdir(cachedir, sizeof cachedir) == 0 &&
	    strlen(cachedir) + sizeof "/maildest" < sizeof cachedir)
		strcat(cachedir, "/maildest");
	else
		cachedir[0] = '\0';
	res->cachedir = cachedir[0] != '\0' ? cachedir : NULL;

	ret = nym_dl_run(&dl);
	nym_resolver_close(res);
	nym_sam_release(&sm.s);
	return ret;
}
