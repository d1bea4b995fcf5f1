/*
 * pop-fetch - fetch mail from a POP3 server, deliver it safely, then
 * delete it.
 *
 * The rule is that a message leaves the server only once a copy is
 * durable at the destination, and that no message is delivered twice,
 * whatever moment a crash, kill -9, power cut or network cut chooses:
 * DELE only marks, nothing is removed before QUIT is answered, and
 * every delivery is journalled (a P line, synced before it can become
 * visible; a D line, synced before QUIT) in the account's state file,
 * so the next run settles what an interrupted one left.  The design,
 * the journal's lines and the maildir batch's steps are told at the top
 * of lib/fetch.c, the delivery engine (nym_fetch_*); the POP3 session,
 * with its pipelined RETR and DELE queue and its deadlines, is
 * lib/pop3client.c (nym_pop3_*).
 *
 * What is here: the options and their pop-* keys, the password, the
 * way to the server (TCP, Tor, SAM), the loop that feeds each RETR to
 * the engine, and the signals: TERM, INT and HUP while a delivery is
 * being committed (fe.critical) are held until its D lines are written;
 * otherwise they remove what is half written and kill.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "proto.h"
#include "i2p.h"
#include "store.h"

#define USAGE "usage: pop-fetch [-ak] [-H host:port | -o onion[:port] | " \
	"-s destination] -u user\n" \
	"                 [-F fd | -P file] [-K key] [-L messages] " \
	"[-M size]\n" \
	"                 [-S host:port] [-T host:port] [-W seconds] " \
	"[-w seconds]\n" \
	"                 -d maildir | -m mbox | -p command\n"

#define POP3_PORT	110

static int kflag;
static int wsec = 120;
static long wsession = NYM_POP3_SESSION;	/* -W */
static long long sessionend;	/* nym_now_ms() when the session must end */
static long listmax = NYM_POP3_LISTMAX;	/* -L */
static uint64_t maxsize = NYM_SMTP_SIZE;	/* -M */
static int progress;
/* The delivery engine (lib/fetch.c): -d, -m or -p, its state. */
static struct nym_fetch fe = { .closefd = -1 };

/* ---- signals: hold off while a delivery is committed ---- */

static volatile sig_atomic_t stopsig;

static void
onsignal(int sig)
{
	if (fe.critical) {
		stopsig = sig;
		return;
	}
	/* Outside a commit nothing is lost by dying, but leave no litter. */
	nym_fetch_litter(&fe);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
catchsignals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ---- the password ---- */

static char pw[NYM_POP3_LINE];

static void
getpassword(const char *file, const char *fdarg, const char *what)
{
	int fd = fdarg != NULL ? (int)nym_num(NYM_EX_USAGE, "-F", fdarg, 0, INT_MAX) : -1;
	char why[PATH_MAX + 64];

	(void)mlock(pw, sizeof pw);
	if (nym_password(file, fd, what, pw, sizeof pw) == 0)
		return;
	if (errno == ENXIO)
		nym_die(NYM_EX_CONFIG, "unable to read the password: no "
		    "terminal; use -P or -F");
	if (file != NULL)
		nym_die(NYM_EX_CONFIG, "unable to read password file %s: %s",
		    file, nym_secretwhy(file, errno, why, sizeof why));
	nym_dieerr(NYM_EX_CONFIG, "unable to read the password");
}

/* ---- the session (lib/pop3client.c) ---- */

static struct nym_pop3_client pop = { .fd = -1 };

/* The client's failure ends the run: say why. */
static void
popdie(int code)
{
	explicit_bzero(pw, sizeof pw);
	nym_die(code, "%s", pop.why);
}

static void
popwarn(const char *why)
{
	nym_warn("%s", why);
}

/* What the engine returned, r, unless the run must end (it says why). */
static int
fetchok(int r)
{
	if (fe.fatal)
		nym_die(fe.fatal, "%s", fe.why);
	return r;
}

/* DELE the i-th listed message, unless -k.  0, or -1 (said). */
static int
dele(size_t i)
{
	if (kflag || nym_pop3_dele(&pop, i) == 0)
		return 0;
	nym_warn("%s", pop.why);
	return -1;
}

/* The engine's: copy the RETR response to o.  0, or -1 (said). */
static int
body(void *arg, struct nym_out *o, int mboxrd)
{
	(void)arg;
	if (nym_pop3_body(&pop, o, NYM_POP3_LF |
	    (mboxrd ? NYM_POP3_MBOXRD : 0)) == 0)
		return 0;
	nym_warn("%s", pop.why);
	return -1;
}

static size_t done, todo;

/* The engine's: message i is delivered; count it and DELE it. */
static int
delivered(void *arg, size_t i, int dodele)
{
	(void)arg;
	if (progress)
		fprintf(stderr, "\r%s: %zu/%zu", nym_progname, ++done, todo);
	return dodele ? dele(i) : 0;
}

/* ---- the fetch ---- */

/*
 * The session after the listing: settle what an interrupted run left,
 * DELE what earlier runs delivered, then fetch and deliver the rest.
 * 0 when the session can end with QUIT (*ret says how it went), -1 when
 * the connection broke.
 */
static int
fetchall(int *ret)
{
	size_t i;
	int r;

	/* Interrupted earlier between P and D: settle that first. */
	if ((r = fetchok(nym_fetch_settle(&fe))) != 0)
		*ret = NYM_EX_TEMPFAIL;
	if (r == -1)
		return 0;
	for (i = 0; i < fe.nm; i++)
		if ((pop.msg[i].fetch = !fe.m[i].done && !fe.m[i].skip))
			todo++;

	/* Delivered by an earlier run: DELE them before anything else. */
	for (i = 0; i < fe.nm; i++)
		if (fe.m[i].done && !fe.m[i].skip && dele(i) == -1)
			return -1;
	for (i = 0; i < fe.nm; i++) {
		if (!pop.msg[i].fetch)
			continue;
		if ((r = nym_pop3_fetch(&pop, i)) == -1) {
			nym_warn("%s", pop.why);
			return -1;
		}
		if (r == 0) {
			nym_warn("unable to fetch message %lu at %s: %s",
			    pop.msg[i].n, pop.where, pop.text);
			*ret = NYM_EX_TEMPFAIL;
			continue;
		}
		/* Into a maildir's batch, the mbox or the command. */
		if ((r = fetchok(nym_fetch_deliver(&fe, i))) ==
		    NYM_FETCH_NETFAIL)
			return -1;
		if (r != NYM_FETCH_DELIVERED)
			*ret = NYM_EX_TEMPFAIL;
		if (r == NYM_FETCH_LOCALFAIL || stopsig)
			return 0;
	}
	return 0;
}

/* End the session: publish what is written, read what is owed, sync
 * the journal, QUIT, and after a good QUIT compact the state.  0, or
 * -1 when the connection broke. */
static int
endsession(int *ret)
{
	size_t i;
	int r;

	/* What is written is published (the last batch, or what came
	 * before a failure), then every reply still owed is read. */
	if ((r = fetchok(nym_fetch_commit(&fe, 1))) == -2)
		return -1;
	if (r == -1)
		*ret = NYM_EX_TEMPFAIL;
	if (nym_pop3_drain(&pop) == -1) {
		nym_warn("%s", pop.why);
		return -1;
	}
	/* What was delivered must be on disk before the server forgets;
	 * if it cannot be, no QUIT: the server then forgets the DELEs. */
	if (nym_fetch_sync(&fe) == -1) {
		*ret = NYM_EX_TEMPFAIL;
		return 0;
	}
	/* The server now holds what it listed less what was DELEted: with
	 * -k, every delivered message is still there. */
	if (nym_pop3_quit(&pop) == 1) {
		for (i = 0; i < fe.nm; i++)
			fe.m[i].refused = pop.msg[i].refused;
		(void)fetchok(nym_fetch_compact(&fe));
	} else {
		nym_warn("%s", pop.why);
		*ret = NYM_EX_TEMPFAIL;
	}
	return 0;
}

/* The connection broke: what was written whole is still published
 * (without DELE), and a C line makes the next runs careful. */
static void
cutsession(int *ret)
{
	nym_fetch_cut(&fe);
	(void)fetchok(0);
	/* 70 only for commands out of order, a bug. */
	*ret = pop.code == NYM_EX_SOFTWARE ? NYM_EX_SOFTWARE :
	    NYM_EX_TEMPFAIL;
}

/* ---- options and the configuration: a key for every option ---- */

static void
usage(void)
{
	nym_usage();
}

/* "~/x" from the configuration as $HOME/x (a static copy). */
static const char *
confpath(const char *key)
{
	static char buf[4][PATH_MAX];
	static int next;
	const char *v = nym_conf_get(key), *home = getenv("HOME");
	char *b;

	if (v == NULL || strncmp(v, "~/", 2) != 0 || home == NULL)
		return v;
	b = buf[next++ % 4];
	if ((size_t)snprintf(b, PATH_MAX, "%s%s", home, v + 1) >= PATH_MAX)
		nym_die(NYM_EX_CONFIG, "unable to use %s: path too long", key);
	return b;
}

static int
confbool(const char *key)
{
	const char *v = nym_conf_get(key);

	if (v == NULL || strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	nym_die(NYM_EX_CONFIG, "unable to use %s = %s: expected yes or no",
	    key, v);
}

/* Of keys[0..n), the one set (its index in *which), or NULL; two set is
 * a configuration error. */
static const char *
confone(const char *const *keys, size_t n, size_t *which)
{
	const char *v, *got = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((v = confpath(keys[i])) == NULL)
			continue;
		if (got != NULL)
			nym_die(NYM_EX_CONFIG, "unable to use the configuration: "
			    "%s and %s are both set", keys[*which], keys[i]);
		got = v;
		*which = i;
	}
	return got;
}

/* The server and how to reach it. */
static struct {
	const char *host, *onion, *dest;	/* -H, -o, -s: one of them */
	char hostbuf[256];
	const char *port;		/* -H's */
	char name[NYM_SOCKS_NAME + 1];	/* -o's, lower-cased */
	int onionport;
	char where[NYM_SOCKS_NAME + 8];
	char account[NYM_POP3_LINE];	/* user@server: the state's name */
	struct nym_socks sk;		/* -o: the Tor proxy */
	struct nym_samaddr sa;		/* -s: the SAM bridge */
	struct nym_hold hold;
	struct nym_sam sam;
} srv = { .onionport = POP3_PORT };

static const char *user, *pwfile, *pwfd, *socksarg, *keyarg;
static int aflag, srvcode = NYM_EX_USAGE;

/* The command line, then the configuration for what it leaves open. */
static void
options(int argc, char *argv[])
{
	static const char *const srvkeys[] = {
		"pop-host", "pop-onion", "pop-destination"
	};
	static const char *const dlvkeys[] = {
		"pop-maildir", "pop-mbox", "pop-command"
	};
	static const char *const pwkeys[] = {
		"pop-password-file", "pop-password-fd"
	};
	const char *v, *sizearg = NULL, *listarg = NULL, *sessarg = NULL;
	size_t which = 0;
	int c, wset = 0, usercode = NYM_EX_USAGE;

	while ((c = getopt(argc, argv, "ad:F:H:K:kL:M:m:o:P:p:S:s:T:u:W:w:")) != -1) {
		switch (c) {
		case 'a': aflag = 1; break;
		case 'd':
		case 'm':
		case 'p':
			if (fe.mode != '\0')
				usage();
			fe.mode = (char)c;
			fe.target = optarg;
			break;
		case 'F': pwfd = optarg; break;
		case 'H': srv.host = optarg; break;
		case 'K': keyarg = optarg; break;
		case 'k': kflag = 1; break;
		case 'L': listarg = optarg; break;
		case 'M': sizearg = optarg; break;
		case 'o': srv.onion = optarg; break;
		case 'P': pwfile = optarg; break;
		case 'S': nym_samaddr_opt(&srv.sa, optarg); break;
		case 's': srv.dest = optarg; break;
		case 'T': socksarg = optarg; break;
		case 'u': user = optarg; break;
		case 'W': sessarg = optarg; break;
		case 'w':
			wsec = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1, 3600);
			wset = 1;
			break;
		default: usage();
		}
	}
	if (optind != argc || (pwfile != NULL && pwfd != NULL) ||
	    (srv.host != NULL) + (srv.dest != NULL) + (srv.onion != NULL) > 1)
		usage();

	if (srv.host == NULL && srv.dest == NULL && srv.onion == NULL &&
	    (v = confone(srvkeys, 3, &which)) != NULL) {
		*(which == 0 ? &srv.host : which == 1 ? &srv.onion :
		    &srv.dest) = v;
		srvcode = NYM_EX_CONFIG;
	}
	if (fe.mode == '\0' && (v = confone(dlvkeys, 3, &which)) != NULL) {
		fe.mode = "dmp"[which];
		fe.target = v;
	}
	if (pwfile == NULL && pwfd == NULL &&
	    (v = confone(pwkeys, 2, &which)) != NULL)
		*(which == 0 ? &pwfile : &pwfd) = v;
	if (user == NULL && (user = nym_conf_get("pop-user")) != NULL)
		usercode = NYM_EX_CONFIG;
	if (sizearg != NULL)
		maxsize = nym_size(NYM_EX_USAGE, "-M", sizearg,
		    UINT64_MAX / 2);
	else if ((v = nym_conf_get("pop-max-size")) != NULL)
		maxsize = nym_size(NYM_EX_CONFIG, "pop-max-size", v,
		    UINT64_MAX / 2);
	if (listarg != NULL)
		listmax = nym_num(NYM_EX_USAGE, "-L", listarg, 1,
		    NYM_POP3_LISTMAX);
	else if ((v = nym_conf_get("pop-max-messages")) != NULL)
		listmax = nym_num(NYM_EX_CONFIG, "pop-max-messages", v, 1,
		    NYM_POP3_LISTMAX);
	if (sessarg != NULL)
		wsession = nym_num(NYM_EX_USAGE, "-W", sessarg, 1, 86400);
	else if ((v = nym_conf_get("pop-session-time")) != NULL)
		wsession = nym_num(NYM_EX_CONFIG, "pop-session-time", v, 1,
		    86400);
	kflag = kflag || confbool("pop-keep");
	aflag = aflag || confbool("pop-any-name");
	if (!wset && (v = nym_conf_get("pop-timeout")) != NULL)
		wsec = (int)nym_num(NYM_EX_CONFIG, "pop-timeout", v, 1, 3600);
	if (user == NULL || fe.mode == '\0' ||
	    (srv.host == NULL && srv.dest == NULL && srv.onion == NULL))
		usage();
	if (*user == '\0' || strpbrk(user, " \t\r\n") != NULL)
		nym_die(usercode, "unable to use user name %s", user);
}

/* ---- the server and the connection ---- */

/* Is s a name Tor may resolve (letters, digits, '-', '.', '_')? */
static int
proxyname(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-._");

	return n > 0 && s[n] == '\0';
}

/* -H host:port: never a hidden name, which DNS would learn. */
static void
tcpserver(void)
{
	const char *h = srv.host, *colon = strrchr(h, ':');
	long pn;

	if (colon == NULL || colon == h ||
	    (size_t)(colon - h) >= sizeof srv.hostbuf)
		nym_die(srvcode, "unable to use server %s: expected host:port",
		    h);
	snprintf(srv.hostbuf, sizeof srv.hostbuf, "%.*s", (int)(colon - h),
	    h);
	if (nym_hiddenname(srv.hostbuf))
		nym_die(srvcode, "unable to use server %s: .i2p and .onion "
		    "names are never looked up here (DNS would learn them); "
		    "give the I2P tunnel's address, e.g. -H 127.0.0.1:7660, "
		    "or use -s (I2P) or -o (Tor)", h);
	srv.port = colon + 1;
	if (nym_tolong(srv.port, 1, 65535, &pn) == -1)
		nym_die(srvcode, "unable to use server %s: expected a port "
		    "from 1 to 65535", h);
	snprintf(srv.account, sizeof srv.account, "%s@%s", user, h);
	pop.where = h;
}

/* -o name[:port], through the Tor proxy of -T, TOR_SOCKS or tor-socks. */
static void
onionserver(void)
{
	const char *o = srv.onion, *colon = strrchr(o, ':');
	size_t i, n = colon != NULL ? (size_t)(colon - o) : strlen(o);
	long pn;

	if (n == 0 || n >= sizeof srv.name)
		nym_die(srvcode, "unable to use onion address %s: expected "
		    "name[:port]", o);
	for (i = 0; i < n; i++)
		srv.name[i] = (char)tolower((unsigned char)o[i]);
	srv.name[n] = '\0';
	if (colon != NULL) {
		if (nym_tolong(colon + 1, 1, 65535, &pn) == -1)
			nym_die(srvcode, "unable to use onion address %s: "
			    "expected a port from 1 to 65535", o);
		srv.onionport = (int)pn;
	}
	if (!aflag && (nym_domkind(srv.name) != NYM_DOM_ONION ||
	    strlen(srv.name) != 56 + sizeof ".onion" - 1))
		nym_die(srvcode, "unable to use onion address %s: expected 56 "
		    "base32 characters and .onion (Tor v3); -a passes other "
		    "names", srv.name);
	if (!proxyname(srv.name))
		nym_die(srvcode, "unable to use host name %s: only letters, "
		    "digits, '-', '.' and '_'", srv.name);
	if (nym_socks_init(&srv.sk) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use the Tor proxy of "
		    "TOR_SOCKS or tor-socks: expected host:port");
	if (socksarg != NULL && nym_socks_set(&srv.sk, socksarg) == -1)
		nym_die(NYM_EX_USAGE, "unable to use Tor proxy %s: expected "
		    "host:port", socksarg);
	snprintf(srv.where, sizeof srv.where, "%s:%d", srv.name,
	    srv.onionport);
	snprintf(srv.account, sizeof srv.account, "%s@%s", user, srv.where);
	pop.where = srv.where;
}

/* -s destination: the account's client key, never a mail domain's, and
 * the key's one session, shared with smtp-submit and lingering between
 * runs (lib/samclient.c). */
static void
samserver(void)
{
	static char kpath[PATH_MAX];
	char why[700];
	int r;

	snprintf(srv.account, sizeof srv.account, "%s@%.100s", user,
	    srv.dest);
	pop.where = srv.dest;
	if (keyarg == NULL)
		keyarg = confpath("client-key");
	if ((r = nym_client_hold(&srv.hold, &srv.sa, keyarg, user,
	    wsec * 1000, kpath, sizeof kpath, why, sizeof why)) != NYM_EX_OK)
		nym_die(r, "%s", why);
}

/* Connect over Tor; a refusal exits with the code its reply calls for. */
static int
tordial(struct nym_socks *sk, const char *name, int port,
    const char *account, const char *where)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[32];
	char tag[sizeof "pop-fetch-" + 16];
	size_t i;
	int fd;

	/* Streams of different accounts never share a circuit, by which
	 * the server could tell that two pseudonyms are one person. */
	nym_sha256(account, strlen(account), h);
	memcpy(tag, "pop-fetch-", sizeof "pop-fetch-" - 1);
	for (i = 0; i < 8; i++) {
		tag[sizeof "pop-fetch-" - 1 + 2 * i] = hex[h[i] >> 4];
		tag[sizeof "pop-fetch-" + 2 * i] = hex[h[i] & 15];
	}
	tag[sizeof tag - 1] = '\0';
	if ((fd = nym_socks_connect(sk, name, port, tag, wsec * 1000)) != -1)
		return fd;
	explicit_bzero(pw, sizeof pw);
	if (errno == ECONNABORTED)
		nym_die(nym_socks_exitcode(sk->reply), "unable to connect to "
		    "%s through the Tor proxy at %s:%s: %s", where, sk->host,
		    sk->port, nym_socks_replyname(sk->reply));
	nym_die(NYM_EX_TEMPFAIL, "unable to connect to %s through the Tor "
	    "proxy at %s:%s: %s", where, sk->host, sk->port,
	    errno == EPROTO ? "not a SOCKS5 proxy" : strerror(errno));
}

/* Connect to the server.  The connection, or exit. */
static int
dial(void)
{
	char why[700];
	int fd, r;

	if (srv.dest != NULL) {
		if ((r = nym_sam_dial(&srv.sam, &srv.hold, srv.dest, &fd, why,
		    sizeof why)) != NYM_EX_OK) {
			explicit_bzero(pw, sizeof pw);
			nym_die(r, "%s", why);
		}
	} else if (srv.onion != NULL)
		fd = tordial(&srv.sk, srv.name, srv.onionport, srv.account,
		    srv.where);
	else if ((fd = nym_tcp_connect(srv.hostbuf, srv.port,
	    wsec * 1000)) == -1) {
		explicit_bzero(pw, sizeof pw);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to connect to %s",
		    srv.host);
	}
	return fd;
}

/* Log in and list: what is new, what was delivered. */
static void
session(int fd)
{
	size_t i;
	int r;

	pop.sessionend = sessionend;
	pop.session = wsession;
	pop.maxsize = maxsize;
	pop.careful = fe.jr.cut;
	pop.warn = popwarn;
	if ((r = nym_pop3_start(&pop, fd, wsec * 1000)) != NYM_EX_OK) {
		/* Over SAM, a stream that said nothing: stale router state
		 * for the server, which a new session of ours clears. */
		if (srv.dest != NULL && !pop.greeted &&
		    pop.in.err == ETIMEDOUT)
			nym_sam_stale(&srv.sam);
		popdie(r);
	}
	r = nym_pop3_login(&pop, user, pw);
	explicit_bzero(pw, sizeof pw);
	if (r != NYM_EX_OK || (r = nym_pop3_listing(&pop, listmax)) !=
	    NYM_EX_OK)
		popdie(r);
	if (nym_fetch_listing(&fe, pop.nmsg) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < fe.nm; i++) {
		fe.m[i].uid = pop.msg[i].uid;
		fe.m[i].n = pop.msg[i].n;
		fe.m[i].size = pop.msg[i].size;
	}
	nym_fetch_relisted(&fe, pop.where, maxsize);
}

/* ---- main ---- */

int
main(int argc, char *argv[])
{
	const char *cwhere;
	int ret = NYM_EX_OK;

	nym_start(argc, argv, USAGE);
	if (nym_conf_load(&cwhere) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    cwhere);
	nym_samaddr_init(&srv.sa);
	options(argc, argv);
	if (srv.host != NULL)
		tcpserver();
	else if (srv.onion != NULL)
		onionserver();
	else
		samserver();
	fe.keep = kflag;
	fe.wait_ms = wsec * 1000;
	fe.body = body;
	fe.delivered = delivered;
	fe.warn = popwarn;
	if (nym_fetch_init(&fe) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create maildir %s",
		    fe.target);
	progress = isatty(STDERR_FILENO);

	getpassword(pwfile, pwfd, srv.account);
	/* Another run at the account: exit 0, as cron wants. */
	if (fetchok(nym_fetch_open(&fe, srv.account)) == 1)
		exit(NYM_EX_OK);
	catchsignals();

	/* The whole session, connection included, ends by -W: a server
	 * that keeps every reply just fast enough cannot hold the run. */
	sessionend = nym_now_ms() + (long long)wsession * 1000;
	session(dial());
	fe.closefd = pop.fd;
	if (fetchall(&ret) == -1 || endsession(&ret) == -1)
		cutsession(&ret);
	if (progress && done > 0)
		fputc('\n', stderr);
	if (stopsig) {
		nym_warn("unable to fetch the rest from %s: stopped by signal "
		    "%d", pop.where, (int)stopsig);
		ret = NYM_EX_TEMPFAIL;
	}
	nym_pop3_close(&pop);
	if (srv.dest != NULL)
		nym_sam_release(&srv.sam);
	nym_fetch_close(&fe);
	/* Over -M is 65, unless something else asks for a retry; a
	 * session broken off in the middle of one is that message's doing. */
	if ((fe.toobig && ret == NYM_EX_OK) || pop.toobig)
		ret = NYM_EX_DATAERR;
	return ret;
}
