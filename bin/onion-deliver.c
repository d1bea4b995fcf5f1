/*
 * onion-deliver - deliver mail by SMTP to .onion addresses over Tor.
 *
 * Tor's SOCKS5 port carries the SMTP session: the onion name goes to Tor
 * as a name (lib/socks.c) and is never looked up here.  Before anything
 * is sent every recipient's address is checked (lib/onion.c): a mistyped
 * v3 address is a bounce (68), not a question for the network, and a
 * message that also goes to non-onion recipients is refused whole, since
 * whatever carried those would learn of the onion ones.
 *
 * Each sender identity gets its own circuits: the SOCKS user name is
 * derived from the envelope sender, and Tor (IsolateSOCKSAuth, its
 * default) never lets streams with different user names share a
 * circuit, so two pseudonyms writing to one server cannot be linked by
 * it.  Every message of a batch for one onion goes over one stream, one
 * circuit and one SMTP session (lib/deliver.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"
#include "tls.h"
#include "tor.h"

#define USAGE "usage: onion-deliver [-Bt] [-f sender] [-k keydir] " \
	"[-S host:port] [-w seconds]\n" \
	"                     [recipient ...] < message\n"

/* SMTP's port on the onion service (SMTorP). */
#define SMTP_PORT	25
/* The SOCKS user name: a prefix and base32 of 20 bytes of a hash. */
#define TAG_PREFIX	"onion-deliver-"
#define TAG_HASH	20

struct tor {
	struct nym_socks sk;
	const char *keydir;		/* -k */
	int ms;				/* the SOCKS handshake */
	char tag[sizeof TAG_PREFIX + (TAG_HASH * 8 + 4) / 5];
};

/* Does domain end in .onion (a final dot allowed)? */
static int
isonion(const char *domain)
{
	size_t n = strlen(domain);

	if (n > 0 && domain[n - 1] == '.')
		n--;
	return n >= sizeof ".onion" - 1 &&
	    strncmp(domain + n - (sizeof ".onion" - 1), ".onion",
	    sizeof ".onion" - 1) == 0;
}

/* A message goes to onion recipients only, or to none. */
static int
tor_check(void *arg, const struct nym_smtp_rcpt *rc, size_t n, char *why,
    size_t whycap)
{
	size_t i, onion = 0;

	(void)arg;
	for (i = 0; i < n; i++)
		if (isonion(rc[i].domain))
			onion++;
	if (onion > 0 && onion < n) {
		snprintf(why, whycap, "the message mixes onion and non-onion "
		    "recipients: send it to each kind separately");
		return NYM_EX_NOPERM;
	}
	return 0;
}

/* The destination key: the onion name, with its label (SMTorP's
 * certificate pin) in front if there is one, so that one name asked for
 * with two pins is two destinations, each held to its own. */
static int
tor_resolve(void *arg, const char *domain, char *key, size_t cap, char *why,
    size_t whycap)
{
	struct nym_onion o;
	const char *w;

	(void)arg;
	if (!isonion(domain)) {
		snprintf(why, whycap, "not an onion address (onion-deliver "
		    "delivers to .onion domains only)");
		return NYM_EX_NOHOST;
	}
	if (nym_onion_parse(domain, &o, &w) == -1) {
		snprintf(why, whycap, "%s", w);
		return NYM_EX_NOHOST;
	}
	if (o.label[0] != '\0' && !nym_tls_pinlabel(o.label)) {
		snprintf(why, whycap, "the label before the onion name is no "
		    "certificate pin (%d to %d base32 characters)",
		    NYM_TLS_PINMIN, NYM_TLS_PINLEN);
		return NYM_EX_NOHOST;
	}
	snprintf(key, cap, "%s%s%s", o.label, o.label[0] != '\0' ? "." : "",
	    o.name);
	return 0;
}

/* A stream through Tor to port 25 of the onion. */
static int
tor_dial(void *arg, const char *key, int *code, char *why, size_t whycap)
{
	struct tor *t = arg;
	struct nym_onion o;
	const char *w;
	int fd;

	if (nym_onion_parse(key, &o, &w) == -1) {
		snprintf(why, whycap, "%s", w);
		*code = NYM_EX_SOFTWARE;
		return -1;
	}
	fd = nym_socks_connect(&t->sk, o.name, SMTP_PORT, t->tag, t->ms);
	if (fd != -1)
		return fd;
	if (errno == ECONNABORTED) {
		*code = nym_socks_exitcode(t->sk.reply);
		snprintf(why, whycap, "Tor could not reach %s: %s%s", o.name,
		    nym_socks_replyname(t->sk.reply),
		    *code == NYM_EX_CONFIG ? " (check the Tor set-up)" : "");
		return -1;
	}
	*code = errno == EPROTO ? NYM_EX_CONFIG : NYM_EX_TEMPFAIL;
	snprintf(why, whycap, "unable to reach %s through the Tor proxy at "
	    "%s:%s: %s%s", o.name, t->sk.host, t->sk.port, errno == EPROTO ?
	    "not a SOCKS5 proxy" : strerror(errno), errno == ECONNREFUSED ?
	    " (is tor running? -S or TOR_SOCKS)" : "");
	return -1;
}

/* TLS on a new session: required, and the server's key held to the
 * pin, when the address has a pin label (SMTorP); else used when the
 * server offers it.  The onion address has authenticated the service
 * already, so no certificate authority is asked. */
static int
tor_start(void *arg, const char *key, struct nym_smtp_client *c, void **ctx,
    char *why, size_t whycap)
{
	struct nym_onion o;
	struct nym_tls *tls;
	const char *w;
	int code;

	(void)arg;
	*ctx = NULL;
	if (nym_onion_parse(key, &o, &w) == -1) {
		snprintf(why, whycap, "%s", w);
		nym_smtp_quit(c, 0);
		return NYM_EX_SOFTWARE;
	}
	if (!c->x.starttls && o.label[0] == '\0')
		return NYM_EX_OK;
	if (!c->x.starttls) {
		snprintf(why, whycap, "the address has a certificate pin, and "
		    "the server at %s offers no STARTTLS", o.name);
		nym_smtp_quit(c, 1);
		return NYM_EX_NOPERM;
	}
	code = nym_smtp_starttls(c, o.label[0] != '\0' ? o.label : NULL,
	    "localhost", &tls);
	if (code != NYM_EX_OK) {
		snprintf(why, whycap, "%s", c->why);
		return code;
	}
	*ctx = tls;
	return NYM_EX_OK;
}

static void
tor_end(void *arg, void *ctx)
{
	(void)arg;
	nym_tls_free(ctx);
}

/* The key directory of the sender's onion: -k, else keys/<onion> in
 * the configuration directory (a HiddenServiceDir, onion-key(1)). */
static int
keydir(const struct tor *t, const char *onion, char *buf, size_t cap)
{
	char dir[PATH_MAX];

	if (t->keydir != NULL)
		return (size_t)snprintf(buf, cap, "%s", t->keydir) < cap ? 0 :
		    -1;
	if (nym_confdir(dir, sizeof dir) == -1)
		return -1;
	return (size_t)snprintf(buf, cap, "%s/keys/%s", dir, onion) < cap ?
	    0 : -1;
}

/* Copy fd from its offset to its end onto out. */
static int
copyrest(int fd, int out)
{
	char buf[NYM_IOBUF];
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || nym_write_all(out, buf, (size_t)r) == -1)
			return -1;
	}
	return 0;
}

/*
 * The message as it leaves, made once per message before any
 * destination is dialled: from a sender at an onion domain, signed with
 * that onion's own key (a DKIM-Signature field before it, lib/dkim.c),
 * which is how the receiver knows the sender holds the address, as Tor
 * tells it nothing of who connects.  A new unlinked file with the field
 * and the message (lib/deliver.c closes it), or msgfd itself for a
 * sender elsewhere and for a bounce, which nobody signs for.
 */
static int
tor_message(void *arg, const char *sender, int msgfd, int *code, char *why,
    size_t whycap)
{
	struct tor *t = arg;
	struct nym_onion_key k;
	struct nym_onion o;
	char path[PATH_MAX], kwhy[NYM_ONION_WHY], head[5], *field = NULL;
	const char *at = strrchr(sender, '@'), *w, *tmp;
	off_t start = 0;
	ssize_t n;
	int out;

	if (at == NULL || nym_domkind(at + 1) != NYM_DOM_ONION)
		return msgfd;
	*code = NYM_EX_CONFIG;
	if (nym_onion_parse(at + 1, &o, &w) == -1) {
		snprintf(why, whycap, "unable to sign for %s: %s", sender, w);
		return -1;
	}
	if (keydir(t, o.name, path, sizeof path) == -1) {
		snprintf(why, whycap, "unable to find the key of %s: set HOME "
		    "or use -k", o.name);
		return -1;
	}
	if (nym_onion_key_load(path, &k, kwhy) == -1) {
		snprintf(why, whycap, "unable to sign for %s with the key in "
		    "%s: %s", o.name, path, kwhy);
		return -1;
	}
	if (strcmp(k.name, o.name) != 0) {
		snprintf(why, whycap, "unable to sign for %s: the key in %s is "
		    "%s's", o.name, path, k.name);
		nym_onion_key_wipe(&k);
		return -1;
	}
	/* An mbox From_ line is no part of the message (nym_smtp_putdata
	 * drops it at the top, which the field now is). */
	if ((n = pread(msgfd, head, sizeof head, 0)) == (ssize_t)sizeof head &&
	    memcmp(head, "From ", sizeof head) == 0) {
		char c;

		while ((n = pread(msgfd, &c, 1, start)) == 1 && c != '\n' &&
		    start < NYM_LINE_MAX)
			start++;
		start = n == 1 && c == '\n' ? start + 1 : 0;
	}
	*code = NYM_EX_TEMPFAIL;
	if (n == -1 || lseek(msgfd, start, SEEK_SET) == -1 ||
	    nym_dkim_sign_fd(msgfd, &k, "\n", &field) == -1) {
		*code = errno == EMSGSIZE || errno == EINVAL ?
		    NYM_EX_DATAERR : NYM_EX_TEMPFAIL;
		snprintf(why, whycap, "unable to sign the message: %s",
		    errno == EMSGSIZE ? "its header is over the limits" :
		    errno == EINVAL ? "it begins with white space" :
		    strerror(errno));
		nym_onion_key_wipe(&k);
		return -1;
	}
	nym_onion_key_wipe(&k);
	if ((out = nym_tmpfile(&tmp)) == -1) {
		snprintf(why, whycap, "unable to create a file for the signed "
		    "message in %s: %s", tmp, strerror(errno));
		free(field);
		return -1;
	}
	if (nym_write_all(out, field, strlen(field)) == -1 ||
	    lseek(msgfd, start, SEEK_SET) == -1 || copyrest(msgfd, out) == -1) {
		snprintf(why, whycap, "unable to write the signed message: %s",
		    strerror(errno));
		free(field);
		close(out);
		return -1;
	}
	free(field);
	return out;
}

/* The SOCKS user name of sender: TAG_PREFIX and base32 of a hash of the
 * address, its domain lower-cased (addresses differing only in the case
 * of the domain are one identity).  The null sender of a bounce goes as
 * the configured sender, else as the empty address (its own circuits).
 * A hash, not the address, so that Tor's control port (which reports
 * SOCKS user names) does not list who sends. */
static void
maketag(struct tor *t, const char *sender)
{
	char addr[NYM_SMTP_PATH];
	unsigned char h[32];
	struct nym_addrlist al = { 0 };
	const char *v;
	char *at;
	size_t i;

	if (*sender == '\0' && (v = nym_conf_get("sender")) != NULL &&
	    nym_addr_parse(v, strlen(v), &al) == 0 && al.n == 1 &&
	    al.a[0].domain != NULL)
		snprintf(addr, sizeof addr, "%s@%s", al.a[0].local,
		    al.a[0].domain);
	else
		snprintf(addr, sizeof addr, "%s", sender);
	nym_addrlist_free(&al);
	if ((at = strrchr(addr, '@')) != NULL)
		for (i = 1; at[i] != '\0'; i++)
			if (at[i] >= 'A' && at[i] <= 'Z')
				at[i] = (char)(at[i] - 'A' + 'a');
	nym_sha256(addr, strlen(addr), h);
	memcpy(t->tag, TAG_PREFIX, sizeof TAG_PREFIX - 1);
	nym_base32(h, TAG_HASH, t->tag + sizeof TAG_PREFIX - 1);
}

int
main(int argc, char *argv[])
{
	static struct nym_dl dl;
	static struct tor t;
	struct nym_dl_transport tr = {
		.check = tor_check, .resolve = tor_resolve, .dial = tor_dial,
		.start = tor_start, .end = tor_end, .message = tor_message,
		.arg = &t
	};
	const char *where, *sender = NULL, *socksarg = NULL;
	int c, Bflag = 0, tflag = 0, wsec = 120;

	nym_start(argc, argv, USAGE);
	nym_delivering();	/* Postfix's pipe(8), the queue: never bounce */
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	while ((c = getopt(argc, argv, "Bf:k:S:tw:")) != -1) {
		switch (c) {
		case 'B': Bflag = 1; break;
		case 'f': sender = optarg; break;
		case 'k': t.keydir = optarg; break;
		case 'S': socksarg = optarg; break;
		case 't': tflag = 1; break;
		case 'w':
			wsec = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1,
			    3600);
			break;
		default: nym_usage();
		}
	}
	if (nym_socks_init(&t.sk) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use the Tor proxy of "
		    "TOR_SOCKS or tor-socks: expected host:port");
	if (socksarg != NULL && nym_socks_set(&t.sk, socksarg) == -1)
		nym_die(NYM_EX_USAGE, "unable to use Tor proxy %s: expected "
		    "host:port", socksarg);
	t.ms = wsec * 1000;
	nym_dl_init(&dl, &tr, wsec * 1000);
	nym_dl_envelope(&dl, sender, Bflag, tflag, argc - optind,
	    argv + optind);
	maketag(&t, dl.sender);
	return nym_dl_run(&dl);
}
