/*
 * i2p.h - libnymbox, I2P: destinations, the SAM client, shared sessions,
 * mail destinations.
 *
 * Conventions: base.h.
 */
#ifndef NYM_I2P_H
#define NYM_I2P_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "limits.h"
#include "base.h"

/* ---- i2p.c: destinations and addresses ---- */
#define NYM_B32LEN	52	/* characters before ".b32.i2p" */

/* Length of the public destination at the start of the binary blob b
 * (n bytes): 384 + 3 + certificate length.  -1 EINVAL if it does not
 * fit.  Works for public destinations and for private key blobs. */
ssize_t nym_dest_len(const unsigned char *b, size_t n);
/* The b32 address ("xxxx...xxxx.b32.i2p", NUL ended, out needs
 * NYM_B32LEN + 9) of a destination given in I2P base64 (a public
 * destination, or a private key blob whose public part is hashed).
 * 0 or -1 EINVAL. */
int nym_dest_b32(const char *b64, size_t n, char *out);
/* Is s a well-formed I2P base64 public destination (decodes, length
 * matches its certificate)?  1 or 0. */
int nym_dest_valid(const char *s, size_t n);

/* ---- sam.c: SAM v3 client ---- */
/* Results of SAM replies.  Unknown values are NYM_SAM_UNKNOWN and, like
 * CANT_REACH_PEER, TIMEOUT and I2P_ERROR, are temporary; INVALID_KEY and
 * KEY_NOT_FOUND both mean "not found now". */
enum nym_sam_result {
	NYM_SAM_OK = 0,
	NYM_SAM_CANT_REACH_PEER,
	NYM_SAM_DUPLICATED_DEST,
	NYM_SAM_DUPLICATED_ID,
	NYM_SAM_I2P_ERROR,
	NYM_SAM_INVALID_ID,
	NYM_SAM_INVALID_KEY,
	NYM_SAM_KEY_NOT_FOUND,
	NYM_SAM_PEER_NOT_FOUND,
	NYM_SAM_TIMEOUT,
	NYM_SAM_NOVERSION,
	NYM_SAM_ALREADY_ACCEPTING,
	NYM_SAM_UNKNOWN,	/* a RESULT value this code does not know */
	NYM_SAM_PROTO		/* no RESULT, or not a SAM reply at all */
};

struct nym_sam {
	int fd;			/* the session's control socket, -1 if none */
	struct nym_in in;	/* replies on fd */
	char host[256], port[16];
	char id[32];		/* session ID (random, reveals nothing) */
	char *pub;		/* our public destination, I2P base64 */
	char b32[NYM_B32LEN + 9];
	int minor;		/* negotiated version 3.minor */
	int ms;			/* timeout of each step but session creation */
	char message[256];	/* MESSAGE= of the last failed reply, sanitised */
	char share[PATH_MAX];	/* borrowed: the UNIX socket of the session's
				   owner (nym_sam_borrow), "" if our own */
	int lock;		/* own session of a key: its lock file's fd
				   + 1 (nym_sam_acquire), 0 if none */
	int keep_ms;		/* own session: kept this long after its
				   last stream before it closes */
};

/* Open a control connection and say HELLO (MIN=3.1 MAX=3.3).  Returns
 * the socket with its reader set up in s, or -1: errno for network
 * failures, EPROTO (s->message says why) for a refused HELLO. */
int nym_sam_open(struct nym_sam *s, const char *host, const char *port,
    int ms);
/* SESSION CREATE STYLE=STREAM with the private key priv (I2P base64) or
 * "TRANSIENT", SIGNATURE_TYPE=7, i2cp.leaseSetEncType=4,0, tunnel
 * lengths and quantities (overridable) and the extra "k=v k=v" options in
 * opts (may be NULL), waiting up to create_ms.  On success s->pub and
 * s->b32 are set.  Returns the nym_sam_result (0 OK), or -1 with errno
 * for I/O failures. */
int nym_sam_session(struct nym_sam *s, const char *priv, const char *opts,
    int create_ms);
/* DEST GENERATE SIGNATURE_TYPE=7 on a fresh connection: *pub and *priv
 * get malloc'd I2P base64.  0 or -1 (errno, EPROTO). */
int nym_sam_generate(const char *host, const char *port, int ms,
    char **pub, char **priv);
/* NAMING LOOKUP NAME=name on the session socket.  *dest gets a malloc'd
 * destination on NYM_SAM_OK.  With opts, OPTIONS=true is asked (I2P
 * proposal 167) and *opts gets the malloc'd rest of the reply's OPTION:
 * fields as "k=v\n" lines (or NULL).  Returns the result or -1. */
int nym_sam_lookup(struct nym_sam *s, const char *name, char **dest,
    char **opts);
/* STREAM CONNECT to dest (base64, b32 or a name) from the session, on a
 * new socket.  Returns the result; on NYM_SAM_OK *fd is the stream. */
int nym_sam_connect(struct nym_sam *s, const char *dest, int *fd);
/* STREAM ACCEPT on a new socket: returns the result and, on OK, *fd;
 * then nym_sam_peer() reads the peer line when a peer arrives. */
int nym_sam_accept(struct nym_sam *s, int *fd);
/* Read the first line of an accepted stream, the peer's destination
 * (optionally followed by " FROM_PORT=.. TO_PORT=.."), waiting up to ms
 * (<= 0: forever).  *dest gets it malloc'd.  The stream's bytes after it
 * are left in in, which the caller keeps reading from; with in == NULL
 * the line is read a byte at a time and nothing after it is consumed, so
 * fd can be handed to another program.  Returns 0, or -1 with EPROTO for
 * an error line or garbage, or the I/O errno. */
int nym_sam_peer(int fd, struct nym_in *in, int ms, char **dest);
/* STREAM FORWARD ID=.. PORT=port HOST=host [SILENT=true] on a new
 * socket that must stay open while forwarding.  Returns the result; on
 * OK *fd is that socket. */
int nym_sam_forward(struct nym_sam *s, const char *host, int port,
    int silent, int *fd);
/* Close the session: streams first (the caller's), then the control
 * socket; frees what nym_sam_open/session allocated. */
void nym_sam_close(struct nym_sam *s);
/* The name of a result ("CANT_REACH_PEER") and whether it is temporary. */
const char *nym_sam_resultname(int r);
int nym_sam_temporary(int r);

/* ---- samborrow.c: a lent session's borrower, and the lending wire ---- */
/* Below sam.c, which calls the borrowed versions here when s->share is
 * set; samshare.c, the lender, sits above sam.c and speaks the same
 * wire.  Requests and replies are one line each (at most
 * NYM_SAMSHARE_REQ bytes); a stream's descriptor rides on its reply. */
/* Bind (bindit) or connect the UNIX socket fd to path.  A path too
 * long for a socket address (108 bytes) is reached through a descriptor
 * of its directory, /proc/self/fd/N/NAME, so a deep home directory
 * lends its sessions all the same; only a NAME over about 85 bytes is
 * refused.  0, or -1 with errno (ENAMETOOLONG). */
int nym_share_reach(int fd, const char *path, int bindit);
/* Send the line (with its LF), and with it the descriptor fd when
 * fd >= 0, within ms.  0, or -1 with errno. */
int nym_share_send(int sock, const char *line, int fd, int ms);
/* Read one line into buf (NUL ended, LF removed), and a descriptor if
 * one comes with it (*fd, else -1), within ms for each byte.  0, or -1
 * with errno (EPROTO for a line over cap, ECONNRESET at EOF). */
int nym_share_recv(int sock, char *buf, size_t cap, int *fd, int ms);
/* Borrow the session lent at path: on success s is set up so that
 * nym_sam_lookup and nym_sam_connect go through the lender, and s->pub
 * and s->b32 are its destination; s->fd is the lease, which
 * nym_sam_close ends.  0, or -1 with errno (ENOENT or ECONNREFUSED:
 * nobody lends it; EPROTO: a bad answer). */
int nym_sam_borrow(struct nym_sam *s, const char *path, int ms);
/* The borrowed versions of nym_sam_lookup (no options), nym_sam_connect
 * and nym_sam_accept; sam.c calls them when s->share is set. */
int nym_share_lookup(struct nym_sam *s, const char *name, char **dest);
int nym_share_connect(struct nym_sam *s, const char *dest, int *fd);
/* The borrowed nym_sam_accept: the lender opens the pending STREAM ACCEPT
 * on its session and hands it over; the peer line is still to be read. */
int nym_share_accept(struct nym_sam *s, int *fd);
/* Say one word ("BYE\n", "STALE\n") to the lender at path; errors do
 * not matter. */
void nym_share_tell(const char *path, const char *word, int ms);
/* Tell the lender of a borrowed session that a peer reached over it
 * never answered (a stream that opened and then said nothing): i2pd
 * 2.45.1 keeps end-to-end state for a peer whose session was made anew
 * (after its router or acceptor restarted) and can reach it again only
 * from a new session of ours, minutes later otherwise.  A holder whose
 * session has been open sam-fresh seconds (NYM_SAM_FRESH) then retires
 * it, so the next sender starts a fresh one.  Nothing for a session of
 * our own. */
void nym_sam_stale(struct nym_sam *s);

/* ---- samshare.c: one session for the programs of a destination ---- */
/* A destination lives in one session at a time (a second SESSION CREATE
 * is DUPLICATED_DEST), so the program that holds it (sam-accept) lends it
 * to the others (sam-deliver) over a UNIX socket only its user can use:
 * it looks names up for them and opens their streams, passing each
 * stream's descriptor back.  Requests: "ME", "LOOKUP name",
 * "CONNECT dest"; replies "OK [value]" or "ERR result". */

/* Listen on path (mode 0600, a stale socket replaced).  The fd or -1. */
int nym_share_listen(const char *path);
/* Answer one borrower waiting on the listening socket lfd for session s:
 * LOOKUP here; CONNECT, and ME (a borrower's lease, held open for as long
 * as it borrows), in a child process whose pid it returns, so the caller
 * can reap it and knows the session is in use (0 if none).  "BYE" (a
 * program that needs the key for itself) sets *bye.  Borrowers of
 * another user are refused.  -1 only if accept fails. */
pid_t nym_share_serve(int lfd, struct nym_sam *s, int ms, int *bye,
    int *stale);

/* One session per key, shared (ssh's ControlPersist, for SAM).  KEY.lock
 * beside the key file is flock(2)ed by whoever holds the key's session,
 * for the session's whole life, and says "PID open|closed TIME" (the
 * last session's state), so two processes never create two sessions for
 * one key and a new one waits gap seconds after the last closed.
 * KEY.sock is where the holder lends it. */
struct nym_hold {
	const char *key;		/* the key file */
	const char *what;		/* it, in messages: "the key" */
	const struct nym_samaddr *sa;	/* the bridge and session options */
	int linger;			/* holder's idle seconds; 0: no holder,
					   a session of our own (unless one
					   is lent) closed at release */
	int gap;			/* seconds between two sessions */
	int probe;			/* idle seconds before a probe of the
					   bridge (NAMING LOOKUP NAME=ME on
					   the session's socket); 0: none */
	int fresh;			/* seconds a session is kept whatever
					   borrowers report (nym_sam_stale) */
	int ms;				/* each network step, and a probe's
					   deadline */
	int create_ms;			/* SESSION CREATE */
};
/* linger, gap and probe from sam-linger, sam-gap and sam-probe in the
 * configuration (load it first), else the defaults; the rest from the arguments.  0, or -1
 * with a usage message in why for a bad value. */
int nym_hold_init(struct nym_hold *h, const char *key,
    const struct nym_samaddr *sa, int ms, char *why, size_t cap);
/* The session of h->key: borrowed from its holder; else, with the key's
 * lock, a new holder started (a detached process: own session, no
 * descriptor of ours, lingering h->linger seconds idle) and borrowed;
 * else (linger 0) a session of our own.  A holder still starting is
 * waited for (up to create_ms + gap).  Returns 0 (NYM_EX_OK), or an exit
 * code (75, 78 for an unusable key) with one line in why. */
int nym_sam_acquire(struct nym_sam *s, const struct nym_hold *h, char *why,
    size_t cap);
/* Give back what nym_sam_acquire got: a lease ends; an own session is
 * kept keep_ms past now (call it after the last stream), closed, its
 * close time stamped and the key unlocked. */
void nym_sam_release(struct nym_sam *s);
/* For a program that holds the key itself (sam-accept): the key's lock,
 * asking a lingering holder to go ("BYE") and waiting up to ms for it,
 * then the gap since the last session.  The lock's fd, or -1 (errno
 * EWOULDBLOCK: still held by PID in *pid). */
int nym_share_lock(const char *key, int gap, int ms, pid_t *pid);
/* Is the bridge behind the session s there?  When probe seconds (> 0)
 * have passed since *last (nym_now_ms of the last exchange on the
 * session's socket), ask NAMING LOOKUP NAME=ME there (i2pd 2.45.1 closes
 * a session on PING or any command it does not know) within the
 * session's deadline, and set *last to now.  1: it answered; 0: not
 * time yet; -1 with errno: no answer (ETIMEDOUT), the bridge went away
 * (ECONNRESET), or the socket was already out of step. */
int nym_sam_probe(struct nym_sam *s, int probe, long long *last);
/* Write "PID STATE TIME" into the lock file lockfd. */
void nym_share_stamp(int lockfd, const char *state);

/* ---- samkey.c: persistent destinations and where the bridge is ---- */
struct nym_samaddr {
	const char *host, *port;	/* the SAM bridge */
	const char *opts;		/* extra SESSION CREATE options or NULL */
	char buf[256];
};

/* SAM_HOST, SAM_PORT and SAM_OPTS from the environment, else sam-host,
 * sam-port and sam-options from the configuration (load it first), else
 * 127.0.0.1:7656 without options. */
void nym_samaddr_init(struct nym_samaddr *a);
/* Take "host:port", the port a number from 1 to 65535.  0, or -1
 * EINVAL. */
int nym_samaddr_set(struct nym_samaddr *a, const char *hostport);
/* The one parser of an -S option: nym_samaddr_set, or a usage error
 * (exit 64) "unable to use -S ARG: expected host:port". */
void nym_samaddr_opt(struct nym_samaddr *a, const char *arg);

/* Read the private key (I2P base64) kept in path, or create it with DEST
 * GENERATE on host:port on first use (0600, directory 0700, atomically;
 * two processes starting at once agree on one key).  A key file others
 * can read is refused (EPERM); a damaged one is EINVAL.  *priv is
 * malloc'd; wipe and free it with nym_key_free.  0 or -1. */
int nym_sam_key(const char *path, const char *host, const char *port,
    int ms, char **priv);
void nym_key_free(char *priv);

/* ---- samclient.c: a client of the user's own servers over SAM ---- */
/* pop-fetch -s and smtp-submit -s reach postman's POP3 and SMTP servers
 * from a persistent client key, one per login, that is never a mail
 * domain's key, through the key's one shared session (samshare.c). */

/* The default client key of login: ~/.config/nymbox/client/LOGIN.key,
 * the name readable and one to one (letters, digits and "@+_-." stay; a
 * leading dot and every other byte become %XX), so two logins never
 * share a key.  0, or -1 (ENOENT: no HOME; ENAMETOOLONG; EINVAL: an
 * empty login). */
int nym_client_keypath(const char *login, char *buf, size_t cap);
/* Set h up for the client key key (NULL: login's default; "~/" is
 * $HOME; a path made is written into kbuf): the key file made here on first use (nym_dest_keyfile, no
 * router needed), then nym_hold_init with sa and ms.  0, or an exit code
 * (78 a bad setting or key path, 75 a key that cannot be written now)
 * with one line in why. */
int nym_client_hold(struct nym_hold *h, const struct nym_samaddr *sa,
    const char *key, const char *login, int ms, char *kbuf, size_t kcap,
    char *why, size_t cap);
/* A stream to dest from the session of h->key (nym_sam_acquire: the
 * holder's, borrowed; or one started now).  Returns 0 with the stream in
 * *fd (close it, then nym_sam_release(s)), or an exit code (75; 78 for an
 * unusable key) with one line in why naming the step that failed. */
int nym_sam_dial(struct nym_sam *s, const struct nym_hold *h,
    const char *dest, int *fd, char *why, size_t cap);

/* ---- resolve.c: a recipient's mail destination ---- */
enum nym_transport { NYM_TR_I2P = 1, NYM_TR_TOR, NYM_TR_RELAY };

struct nym_maildest {
	enum nym_transport transport;
	char dest[NYM_DEST_MAX];	/* I2P base64, a b32 address, an onion
					   name, or the relay host */
	int port;			/* 25 unless the site says otherwise */
	char method[16];		/* b32 well-known addressbook srv relay
					   onion */
	time_t expires;			/* 0: does not expire */
	int stale;			/* from the cache, the site unreachable */
};

struct nym_resolver {
	struct nym_sam *sam;		/* an open session, or NULL: opened on
					   first need from host/port/opts */
	const char *samhost, *samport, *samopts;
	int ms;				/* timeout of each network step */
	int create_ms;			/* SESSION CREATE timeout */
	const char *cachedir;		/* NULL: no cache */
	const char *relay;		/* host for mail no route reaches, or NULL */
	int relayport;
	time_t now;
	int maxage;			/* cache lifetime without Cache-Control */
	char why[768];			/* what failed, for the message */
	int owned;			/* sam was opened here */
};

/* Find the mail destination of domain (lower case): .onion → Tor; a b32
 * address as it is; another .i2p name → the cache while fresh, else
 * http://NAME/.well-known/i2pmail.key over a SAM stream, else the
 * router's address book, service records where offered, else the relay;
 * a stale cache entry is served while the site cannot be reached.
 * Returns 0; 1 if nothing was found (permanent: EX_NOHOST); -1 for a
 * temporary failure (r->why says what). */
int nym_resolve(struct nym_resolver *r, const char *domain,
    struct nym_maildest *d);
/* Close what nym_resolve opened. */
void nym_resolver_close(struct nym_resolver *r);
/* Parse the body of an i2pmail.key document: a base64 destination or a
 * b32 address, optionally followed by a port.  0 or -1 EINVAL. */
int nym_maildest_parse(const char *s, size_t n, struct nym_maildest *d);

/* ---- destgen.c: I2P destinations made without a router ---- */
#define NYM_DEST_GENPUB	391	/* bytes of the destination it makes */
#define NYM_DEST_GENPRIV 679	/* bytes of its private key blob */

/* A new destination in the form SAM's DEST GENERATE SIGNATURE_TYPE=7
 * gives (ElGamal-2048 and Ed25519, a KEY certificate) and the private
 * key blob SESSION CREATE DESTINATION= takes, both as malloc'd I2P
 * base64: *pub (free it) and *priv (nym_key_free).  0, or -1 with errno
 * (ENOMEM; ENOSYS if libsodium or libgcrypt cannot be used). */
int nym_dest_generate(char **pub, char **priv);
/* Make sure a private key is kept in path: if there is no file there, a
 * destination made here (no router needed) is written, 0600, its
 * directory made 0700, published with link(2) so two first uses agree on
 * one key (nym_atomic_create).  An existing file is left for nym_sam_key
 * to judge.  1 made here, 0 it was there, -1 with errno. */
int nym_dest_keyfile(const char *path);

#endif
