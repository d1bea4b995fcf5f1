/*
 * nymbox.h - the one public header of libnymbox.
 *
 * Grouped by module; each group names its file.  Conventions for the
 * whole library: functions return 0 (or a count) on success and -1 with
 * errno set on failure, unless the contract says otherwise.  Nothing here
 * prints or exits except the err.c group.  Limits are stated once, in
 * limits.h, and quoted by the man pages.
 */
#ifndef NYMBOX_H
#define NYMBOX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

/* Every limit and buffer size, documented in the man pages. */
#include "limits.h"

/* ---- exit codes (sysexits values; DESIGN.md "Exit codes") ---- */
enum {
	NYM_EX_OK = 0,
	NYM_EX_USAGE = 64,
	NYM_EX_DATAERR = 65,
	NYM_EX_NOUSER = 67,
	NYM_EX_NOHOST = 68,
	NYM_EX_SOFTWARE = 70,
	NYM_EX_TEMPFAIL = 75,
	NYM_EX_NOPERM = 77,
	NYM_EX_CONFIG = 78
};

/* ---- err.c: diagnostics ---- */
/* The release, the one place it is written: --version prints
 * "NAME nymbox NYM_VERSION" (batch-delay asks queue-run for it). */
#define NYM_VERSION	"0.1"

extern const char *nym_progname;
/* If not 0, nym_die exits with this instead (checkers: 2, like grep). */
extern int nym_exitforce;

/* Set nym_progname from argv[0] (its base name). */
void nym_setprogname(const char *argv0);
/* The first call of every main, before the configuration and getopt:
 * sets nym_progname, makes the process undumpable (soft RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0: no core file with a key or password in it, no
 * ptrace by the user's other processes; the programs it execs get
 * dumpable again but keep the core limit), ignores SIGPIPE (a reader that went away is a
 * failed write, exit 75, never a death by signal; programs reset it in
 * the children they start), and if the first argument is "--help"
 * prints usage on stdout and exits 0, if "--version" prints
 * "NAME nymbox VERSION" and exits 0.  usage is kept for nym_usage. */
void nym_begin(int argc, char *const argv[], const char *usage);
/* The usage given to nym_begin on stderr, then exit 64 (nym_exitforce
 * if set). */
void nym_usage(void) __attribute__((noreturn));
/* This run delivers a message on behalf of an MTA or the queue: from
 * now on an exit with 78 (configuration) is 75 instead, the message
 * kept, so that a local set-up mistake defers the mail rather than
 * bouncing it (nymbox(7), EXIT STATUS). */
void nym_delivering(void);
/* The code nym_die would exit with for code (nym_exitforce, then the
 * delivering rule). */
int nym_exitas(int code);
/* Why a secret file (key, password) could not be used, for the message
 * "unable to read KIND PATH: WHY": for EPERM, the mode and owner checks'
 * verdict, the fix included ("readable by others: chmod 600 PATH"),
 * from a fresh stat of path; else strerror(err).  Points into buf or at
 * a constant string. */
const char *nym_secretwhy(const char *path, int err, char *buf, size_t cap);
/* The decimal number in s, from min to max, into *v.  0, or -1 (EINVAL). */
int nym_tolong(const char *s, long min, long max, long *v);
/* The number v of configuration key, from min to max, or a configuration
 * error (78) naming the key and the file. */
long nym_confnumber(const char *key, const char *v, long min, long max);
/* Is err a failure to reach a server (refused, unreachable, timed out,
 * reset, garbled greeting)? */
int nym_unreachable(int err);
/* The hint that goes with "unable to reach the SAM bridge at H:P". */
#define NYM_SAM_HINT	"is i2pd running with SAM enabled? -S or " \
	"SAM_HOST/SAM_PORT"
/* "prog: MESSAGE" on stderr, then exit(code).  Never give it a secret. */
void nym_die(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
/* As nym_die, with ": strerror(errno)" appended. */
void nym_dieerr(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void nym_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Under inetd stderr is the connection itself, and a warning there would
 * reach the client in the middle of a reply: if stderr is the socket
 * stdout is, point it at /dev/null. */
void nym_quietstderr(void);
/* The number in s, from min to max, or a usage error (exit 64) naming
 * what: "unable to use -w 0: expected 1 to 3600". */
long nym_number(const char *s, const char *what, long min, long max);
/* A size in bytes, with K, M or G (1024-based) allowed, from 1 to max,
 * or a usage error naming what (exit 64). */
uint64_t nym_size(const char *s, const char *what, uint64_t max);
/* The worse of two exit codes for one message: 75 if either is (the
 * caller retries, so nothing is lost), else the first failure. */
int nym_worse(int a, int b);
/* Exit code for a failed system call: 75 for conditions worth retrying
 * (ENOSPC, EIO, EAGAIN, ENOMEM, ETIMEDOUT, ...), 70 otherwise. */
int nym_exitcode(int err);

/* ---- io.c: buffered input and output on file descriptors ---- */
struct nym_in {
	int fd;
	char *buf;
	size_t cap;		/* allocated size of buf */
	size_t pos, len;	/* unread bytes are buf[pos, len) */
	int eof;		/* read(2) returned 0 */
	int err;		/* errno of a failed read, sticky */
	uint64_t off;		/* stream offset of buf[pos] */
	int ms;			/* > 0: a read waiting longer fails ETIMEDOUT */
	long long deadline;	/* > 0: nym_now_ms() past which every read
				   fails ETIMEDOUT, however fast the bytes
				   came before (a whole command, reply or
				   transfer; set by the caller) */
	int rate;		/* > 0 with a deadline: every byte read moves
				   it 1000 / rate ms later (a transfer's
				   least rate, Postfix's min_data_rate) */
	long long limit;	/* > 0: the deadline never moves past it */
};

struct nym_out {
	int fd;
	char *buf;
	size_t cap, len;
	int err;		/* errno of a failed write, sticky */
	uint64_t total;		/* bytes accepted so far */
	int ms;			/* > 0: a write waiting longer fails ETIMEDOUT */
	long long deadline;	/* > 0: as nym_in's, for writes */
	int rate;		/* > 0: as nym_in's, for bytes written */
};

/* Open a reader/writer on fd with a buffer of cap bytes.  -1 ENOMEM. */
int nym_in_open(struct nym_in *in, int fd, size_t cap);
void nym_in_close(struct nym_in *in);
/* Make at least want bytes available in buf[pos, len) unless EOF comes
 * first (want <= cap).  Returns the number available, or -1 on a read
 * error (errno set, also kept in in->err). */
ssize_t nym_in_fill(struct nym_in *in, size_t want);
/* Find the next line: on return *line points at it in the buffer and
 * *len includes the LF.  A line longer than the buffer is returned in
 * pieces with *more = 1 (no LF yet).  Returns 1 for a line, 0 at EOF,
 * -1 on error.  The pointer is valid until the next call. */
int nym_in_line(struct nym_in *in, const char **line, size_t *len,
    int *more);
/* Look at the next line without consuming it (same contract). */
int nym_in_peekline(struct nym_in *in, const char **line, size_t *len,
    int *more);
/* Consume n bytes (n <= available). */
void nym_in_skip(struct nym_in *in, size_t n);

int nym_out_open(struct nym_out *o, int fd, size_t cap);
/* Queue bytes; errors are sticky and reported by nym_out_flush. */
void nym_out_write(struct nym_out *o, const void *p, size_t n);
void nym_out_puts(struct nym_out *o, const char *s);
/* Queue a protocol line: fmt formatted, cut to max - 2 bytes, then CRLF
 * (max at most 4096). */
void nym_out_vline(struct nym_out *o, size_t max, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));
/* Write out the buffer.  -1 with errno if any write failed. */
int nym_out_flush(struct nym_out *o);
void nym_out_close(struct nym_out *o);

/* write(2) until done, retrying EINTR and short counts.  0 or -1. */
int nym_write_all(int fd, const void *p, size_t n);
/* read(2) until n bytes or EOF.  Returns bytes read or -1. */
ssize_t nym_read_all(int fd, void *p, size_t n);
/* Read the file at path whole into buf.  Its length, or -1 with errno:
 * EFBIG longer than cap; with secret, EPERM unless it is a regular file
 * of ours that nobody else may read (a symbolic link is refused). */
ssize_t nym_read_small(const char *path, void *buf, size_t cap, int secret);
/* Length of the line s[0, n) without its LF and then its CR. */
size_t nym_chomp(const char *s, size_t n);
/* Multiplication-checked realloc: -1 ENOMEM leaves *p untouched. */
int nym_reallocarray(void *pp, size_t nmemb, size_t size);

/* ---- hdr.c: bounded RFC 5322 header sections, original bytes kept ---- */
struct nym_field {
	size_t off;		/* raw bytes at h->buf + off */
	size_t len;		/* whole field: name, value, folds, EOL */
	size_t namelen;		/* name length, colon excluded */
};

struct nym_hdr {
	char *buf;		/* raw bytes of the section, in order */
	size_t len, cap;
	struct nym_field *f;
	size_t nf, fcap;
	int crlf;		/* the first line ended in CRLF */
	int sep;		/* the section ended at an empty line */
	int barecr;		/* a field holds a CR not followed by LF */
	int nul;		/* a field holds a NUL byte */
	int bad;		/* stopped at a line that is not a field */
	size_t fromlen;		/* mbox "From " line at buf[0, fromlen) */
};

#define NYM_HDR_MBOX	0x1	/* accept an mbox "From " line first */
#define NYM_HDR_FOLD	0x2	/* go on after h->bad, taking that line as a
				   fold of the last field (a space is added) */

/* Stop predicate: nonzero if this line ends the section unread. */
typedef int (*nym_hdr_stop)(const char *line, size_t len, void *arg);

/* Reset h for reuse, keeping its allocations. */
void nym_hdr_reset(struct nym_hdr *h);
void nym_hdr_free(struct nym_hdr *h);
/* Read one header section from in.  It ends at an empty line (consumed,
 * h->sep = 1), at EOF, at a line stop() accepts, or at a line that is
 * neither a field nor a continuation (left unread, h->bad = 1).  With
 * NYM_HDR_FOLD it continues a section that stopped so (EINVAL if none).
 * Returns 0, or -1 with errno: E2BIG over a limit, else the read error. */
int nym_hdr_read(struct nym_in *in, struct nym_hdr *h, unsigned flags,
    nym_hdr_stop stop, void *arg);
/* Length of the field name if line s[0, n) starts a field ("Name:",
 * obsolete white space before the colon allowed), else 0. */
size_t nym_hdr_fieldname(const char *s, size_t n);
/* Does field i have this name (ASCII case-insensitive)? */
int nym_hdr_is(const struct nym_hdr *h, size_t i, const char *name);
/* Is field i To, Cc or Bcc, where sendmail -t finds the recipients? */
int nym_hdr_isrcpt(const struct nym_hdr *h, size_t i);
/* Index of the first field named name at or after i, or -1. */
ssize_t nym_hdr_find(const struct nym_hdr *h, const char *name, size_t i);
/* The value of field i unfolded (CR/LF of folds removed, NUL and bare CR
 * turned into spaces, leading white space skipped) into buf, NUL ended.
 * Returns its length, or -1 E2BIG if it does not fit in cap. */
ssize_t nym_hdr_value(const struct nym_hdr *h, size_t i, char *buf,
    size_t cap);
/* Append a field built from name and value, ending it with the section's
 * line ending.  The value is written as given (fold it yourself). */
int nym_hdr_add(struct nym_hdr *h, const char *name, const char *value);

/* ---- addr.c: RFC 5322 addresses ---- */
enum nym_domkind {
	NYM_DOM_NONE = 0,	/* no domain, or not a valid host name */
	NYM_DOM_B32,		/* 52+ base32 characters .b32.i2p */
	NYM_DOM_I2P,		/* other .i2p name */
	NYM_DOM_ONION,		/* v3 onion, maybe fingerprint.56chars.onion */
	NYM_DOM_OTHER		/* anything else */
};

struct nym_addr {
	char *name;		/* display name, quotes resolved, or NULL */
	char *local;		/* local part, quotes removed */
	char *domain;		/* domain, lower-cased; NULL if none */
	char *group;		/* name of the group it is in, or NULL */
	enum nym_domkind kind;
};

struct nym_addrlist {
	struct nym_addr *a;
	size_t n;
	char *store;		/* one allocation behind every string */
};

/* Parse an address-list (RFC 5322 3.4: mailboxes, name-addr, groups,
 * comments, quoted strings, obsolete routes tolerated) from an unfolded
 * value.  Empty groups give no entries.  Returns 0, or -1 with errno
 * EINVAL for a syntax error, ENOMEM.  Free with nym_addrlist_free. */
int nym_addr_parse(const char *s, size_t len, struct nym_addrlist *l);
void nym_addrlist_free(struct nym_addrlist *l);
/* Classify a domain (case-insensitive, trailing dot tolerated). */
enum nym_domkind nym_domkind(const char *domain);

/* ---- date.c: RFC 5322 dates ---- */
/* Parse a date-time (RFC 5322 3.3 with the obsolete forms of 4.3: no
 * weekday, two-digit years, zone names, comments, missing seconds).
 * *t gets the UTC time, *zone the offset in minutes east.  0 or -1 EINVAL. */
int nym_date_parse(const char *s, size_t len, time_t *t, int *zone);
/* Format t as "Mon, 2 Jan 2006 15:04:05 +0000".  Needs cap >= 32.
 * Returns the length; 0 (and "") for a year outside 1..9999. */
size_t nym_date_format(time_t t, char *buf, size_t cap);
/* The time: $NYMBOX_NOW (seconds since the epoch, digits only) if set, so
 * that tests inject it, else time(2).  -1 with EINVAL for a malformed
 * NYMBOX_NOW. */
time_t nym_now(void);

/* ---- enc.c: base32, base64, quoted-printable, percent encoding ---- */
/* The value of a hex digit (either case), or -1. */
int nym_hexval(unsigned char c);
/* RFC 4648 base32, lower case, no padding.  out needs (n*8+4)/5+1. */
size_t nym_base32(const unsigned char *in, size_t n, char *out);
/* base64 with alphabet "+/" (std) or "-~" (I2P), padded; out needs
 * 4*((n+2)/3)+1.  Returns the length. */
size_t nym_base64(const unsigned char *in, size_t n, char *out,
    const char *alpha62_63);
/* Decode base64 (either alphabet given), skipping white space; stops at
 * '=' padding.  Returns bytes written to out or -1 EINVAL on other
 * characters.  Output past cap is dropped: give cap >= 3 * ((n + 3) / 4).
 * May decode in place. */
ssize_t nym_unbase64(const char *in, size_t n, unsigned char *out,
    size_t cap, const char *alpha62_63);
/* Quoted-printable decode (RFC 2045 6.7): soft breaks removed, bad
 * escapes kept literally.  out needs n bytes.  Returns the length. */
size_t nym_unqp(const char *in, size_t n, char *out);
/* Quoted-printable encode with lines of at most 76 characters ending in
 * eol ("\n" or "\r\n").  Returns the length, or the needed size if out is
 * NULL; no NUL is written or counted. */
size_t nym_qp(const char *in, size_t n, char *out, const char *eol);

/* ---- rfc2047.c / rfc2231: encoded words and MIME parameters ---- */
/* Decode RFC 2047 encoded words in s into out (cap bytes, NUL ended),
 * leaving charsets alone (bytes are copied as decoded).  Broken words are
 * kept literally.  *charset, if not NULL, gets the first word's charset
 * (in a static buffer).  Returns the length or -1 E2BIG. */
ssize_t nym_rfc2047_decode(const char *s, size_t n, char *out, size_t cap,
    const char **charset);

struct nym_param {
	char *name;		/* lower-cased, continuation suffix removed */
	char *value;		/* decoded bytes (quotes, %XX, 2231 joined) */
	char *charset;		/* RFC 2231 charset, or NULL */
	int ext;		/* 1 if it used RFC 2231 ( name*= or name*0 ) */
	int w2047;		/* 1 if the value held RFC 2047 encoded words */
};

struct nym_mimetype {
	char *type;		/* "text/plain", lower-cased; never empty */
	struct nym_param *p;
	size_t np;
	char *store;
};

/* Parse a Content-Type or Content-Disposition value: a token (type/subtype
 * or disposition) and its parameters, joining RFC 2231 continuations.
 * Returns 0, -1 EINVAL (no usable token), ENOMEM. */
int nym_mime_parse(const char *s, size_t n, struct nym_mimetype *m);
void nym_mime_free(struct nym_mimetype *m);
/* The parameter named name, or NULL. */
const struct nym_param *nym_mime_param(const struct nym_mimetype *m,
    const char *name);

/* ---- net.c: TCP with a timeout on every step ---- */
/* Does host end in .i2p or .onion (any case, a trailing dot allowed)?
 * Such a name is never looked up: DNS would learn it. */
int nym_hiddenname(const char *host);
/* Connect to host:port (numeric address or a name from /etc/hosts; never
 * used for .i2p or .onion names) within ms milliseconds.  Returns a
 * blocking socket with SO_KEEPALIVE, or -1 with errno (ETIMEDOUT,
 * ECONNREFUSED, EHOSTUNREACH, ...; EINVAL for a bad port). */
int nym_tcp_connect(const char *host, const char *port, int ms);
/* Listen on host:port; port "0" lets the kernel choose, and *bound (if
 * not NULL) gets the port.  Returns the socket or -1. */
int nym_tcp_listen(const char *host, const char *port, int *bound);
/* Milliseconds on the monotonic clock. */
long long nym_now_ms(void);
/* Sleep until that clock reads ms (signals do not cut it short). */
void nym_sleep_until(long long ms);
/* Time left until deadline (from nym_now_ms; 0: none) as a poll(2)
 * timeout: -1 for none, 0 once it is past. */
int nym_left_ms(long long deadline);
/* Wait up to ms for fd to be readable (POLLIN) or writable (POLLOUT).
 * 0, or -1 with ETIMEDOUT or poll's errno.  ms <= 0 waits forever. */
int nym_wait(int fd, short events, int ms);
/* write(2) all n bytes, waiting at most ms for each chunk.  0 or -1. */
int nym_write_timed(int fd, const void *p, size_t n, int ms);
/* The same, and all of it done by deadline (nym_now_ms; 0: none), else
 * ETIMEDOUT: a reader that takes a byte now and then cannot hold us. */
int nym_write_until(int fd, const void *p, size_t n, int ms,
    long long deadline);
/* The least of ms (<= 0: none) and the time left until deadline (0:
 * none), as a wait for nym_wait: 0 when the deadline is past, -1 for no
 * limit at all. */
int nym_wait_ms(int ms, long long deadline);

/* ---- socks.c: SOCKS5 client for Tor (RFC 1928, RFC 1929) ---- */
#define NYM_SOCKS_NOMETHOD 0x100 /* s->reply: no method we offered accepted */
#define NYM_SOCKS_AUTHFAIL 0x101 /* s->reply: isolation credentials refused */

struct nym_socks {
	const char *host, *port;	/* the proxy */
	char hostbuf[256], portbuf[16];
	int reply;		/* after a refusal (ECONNABORTED): the reply
				   code, 1..255 (Tor's extended 0xf0..0xf7
				   included), or NYM_SOCKS_NOMETHOD/AUTHFAIL */
};

/* The proxy from TOR_SOCKS ("host:port"), else tor-socks in the
 * configuration (load it first), else 127.0.0.1:9050.  0, or -1 EINVAL
 * if the one found is malformed. */
int nym_socks_init(struct nym_socks *s);
/* Take "host:port" or "[v6]:port" (a -T option).  0 or -1 EINVAL. */
int nym_socks_set(struct nym_socks *s, const char *hostport);
/* Connect through the proxy to name:port.  The name travels to the
 * proxy as a name (ATYP 3) and is never resolved here.  tag, if not
 * NULL, is offered as the RFC 1929 user name so that Tor keeps this
 * stream off the circuits of other tags.  ms bounds the whole
 * handshake.  Returns a blocking socket (close-on-exec) positioned at
 * the server's first byte, or -1 with errno: EINVAL (name empty, over
 * NYM_SOCKS_NAME or holding other bytes than letters, digits, '-', '.',
 * '_'; a bad port or tag), the errno of reaching the proxy (ECONNREFUSED:
 * no proxy), ETIMEDOUT, ECONNRESET (it hung up), EPROTO (it does not
 * speak SOCKS5), ECONNABORTED (it refused: s->reply says why). */
int nym_socks_connect(struct nym_socks *s, const char *name, int port,
    const char *tag, int ms);
/* Words for a reply code. */
const char *nym_socks_replyname(int reply);
/* The exit code a refusal calls for: NYM_EX_NOHOST for an address that
 * can never work (0xf6), NYM_EX_CONFIG for a proxy not set up for us (2,
 * 7, 8, client authorization 0xf4/0xf5, no method, credentials refused),
 * NYM_EX_TEMPFAIL otherwise (1, 3 to 6, the other onion errors). */
int nym_socks_exitcode(int reply);

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
	char share[108];	/* borrowed: the UNIX socket of the session's
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
struct sockaddr_un;
/* path into a UNIX socket address.  0, or -1 ENAMETOOLONG. */
int nym_share_addr(struct sockaddr_un *sa, const char *path);
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
/* Take "host:port" (an -S option).  0, or -1 EINVAL. */
int nym_samaddr_set(struct nym_samaddr *a, const char *hostport);

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

/* ---- smtp.c: SMTP protocol pieces ---- */
/* Limits: limits.h (RFC 5321 4.5.3.1; documented in smtp-receive(1)). */

struct nym_smtp_reply {
	int code;		/* 200..599 */
	int lines;
	int trunc;		/* text was cut at NYM_SMTP_TEXT */
	size_t len;
	char text[NYM_SMTP_TEXT]; /* text of each line after "ddd-", joined
				   with '\n', unprintable bytes as '?' */
};

#define NYM_SMTP_AUTH_PLAIN	0x1
#define NYM_SMTP_AUTH_LOGIN	0x2
#define NYM_SMTP_AUTH_CRAMMD5	0x4
#define NYM_SMTP_AUTH_OTHER	0x8

struct nym_smtp_ext {
	int pipelining, eightbitmime, enhanced, smtputf8, starttls;
	int size;		/* SIZE offered */
	uint64_t maxsize;	/* its limit; 0: none stated */
	unsigned auth;		/* NYM_SMTP_AUTH_* offered */
};

/* Read one reply, all its lines, from in (whose buffer must hold
 * NYM_SMTP_REPLYLINE bytes; in->ms bounds each read).  Returns the code,
 * or -1 with errno: EPROTO for a malformed reply (a line over
 * NYM_SMTP_REPLYLINE, more than NYM_SMTP_REPLYLINES lines, codes that
 * differ), ECONNRESET at EOF, ETIMEDOUT, or the read error. */
int nym_smtp_reply(struct nym_in *in, struct nym_smtp_reply *r);
/* The extensions an EHLO reply r offers (the first line is skipped). */
void nym_smtp_ehlo(const struct nym_smtp_reply *r, struct nym_smtp_ext *x);
/* Queue a command line (printf format, CRLF added) on o; nym_out_flush
 * sends it, so pipelined commands go out together.  -1 with EINVAL if
 * it holds CR or LF, EMSGSIZE if it is longer than NYM_SMTP_LINE.  The
 * formatted copy is wiped (AUTH lines). */
int nym_smtp_cmd(struct nym_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Copy a message from in (buffer of 64 bytes at least) to out as the
 * content of DATA: lines end in CRLF (a bare LF or CR becomes CRLF), a
 * leading dot is doubled, Bcc and Resent-Bcc fields (with their folds) and an
 * mbox From_ line are removed from the top-level header, a missing last
 * line end is added, and CRLF.CRLF closes it; then out is flushed.  0,
 * or -1 with errno of the failed read (in->err set) or write (out->err
 * set). */
int nym_smtp_putdata(struct nym_in *in, struct nym_out *out);

/* Client session (sam-deliver, smtp-submit). */
struct nym_smtp_rcpt {
	char addr[NYM_SMTP_PATH];	/* local@domain, no brackets */
	char domain[NYM_SMTP_DOMAIN + 1];
	int code;		/* exit code for this address; -1: pending,
				   in the next transaction; < -1: pending,
				   not in it */
	char why[NYM_SMTP_TEXT / 8];	/* the reply or error, one line */
};

struct nym_smtp_client {
	int fd;			/* the connection, -1 if none */
	struct nym_in in;
	struct nym_out out;
	struct nym_smtp_ext x;	/* what EHLO offered */
	int dirty;		/* a transaction was left half done: RSET */
	int err;		/* the session broke without a reply: errno */
	char why[512];		/* what failed, one line, for the message */
};

/* The exit code a reply means: 0 for 2xx and 3xx, 75 for 4xx; for 5xx
 * 67 (enhanced code 5.1.x: no such user), 65 (552, 5.3.4, 5.6.x: the
 * message), else 77 (refused by policy). */
int nym_smtp_exit(const struct nym_smtp_reply *r);
/* Take the connected socket fd, which the session owns from now on: read
 * the greeting and say EHLO helo (HELO if EHLO is refused), every read
 * and write within ms.  Returns 0, or an exit code (75, or what a 5xx
 * reply means) with c->why set and the connection closed. */
int nym_smtp_start(struct nym_smtp_client *c, int fd, int ms,
    const char *helo);
/* Log in with AUTH PLAIN (RFC 4616, the initial response when it fits a
 * command line), else AUTH LOGIN, whichever EHLO offered.  The encoded
 * password is wiped from every buffer.  Returns 0, or an exit code with
 * c->why set and the connection closed: 78 neither mechanism offered or
 * the login too long, 77 refused (535 and other 5xx), 75 a 4xx or a
 * broken connection. */
int nym_smtp_auth(struct nym_smtp_client *c, const char *user,
    const char *pass);
/* One transaction: MAIL FROM:<sender> (with SIZE= when offered), RCPT TO
 * every rc[i] whose code is -1, DATA from msgfd (rewound; sent with
 * nym_smtp_putdata), all pipelined when offered.  A message larger than
 * the server's SIZE is not sent (65).  Each of those rc[i] gets its exit
 * code and why; a broken connection is closed (c->fd = -1) and is 75. */
void nym_smtp_send(struct nym_smtp_client *c, const char *sender,
    struct nym_smtp_rcpt *rc, size_t n, int msgfd);
/* Say QUIT and read its reply if polite, then close.  Harmless when
 * closed. */
void nym_smtp_quit(struct nym_smtp_client *c, int polite);
/* Give every recipient still pending (code -1) this outcome. */
void nym_smtp_failall(struct nym_smtp_rcpt *rc, size_t n, int code,
    const char *why);
/* The envelope sender s as it goes in MAIL FROM:<...>, into buf (cap >=
 * NYM_SMTP_PATH): "" and "<>" are the null sender of a bounce (buf ""),
 * "<addr>" is addr; an address needs a local part, '@' and a domain, no
 * white space, brackets or controls, and to fit NYM_SMTP_PATH.  0, or
 * -1 (EINVAL). */
int nym_smtp_sender(const char *s, char *buf, size_t cap);
/* Add the addresses in s (one address or a list) to *rc as pending
 * recipients (local@domain, the domain lower-cased).  Returns 0, or an
 * exit code with *why set: 65 unparsable, too long or over
 * NYM_SMTP_RCPTS * 10 in all, 68 no usable domain, 75 out of memory. */
int nym_smtp_addrcpt(struct nym_smtp_rcpt **rc, size_t *n, const char *s,
    const char **why);

/* Server side.  Read one command line of at most max bytes with its line
 * end (CRLF or LF; max < cap) into buf, line end removed, NUL ended.
 * Returns 1; 0 at EOF (a last line without LF is dropped); or -1 with
 * errno: E2BIG the line was longer and has been read past (reply 500 and
 * go on), EILSEQ it held a NUL byte (likewise), EMSGSIZE no LF within
 * NYM_SMTP_SKIP bytes (hang up), or the read error (ETIMEDOUT). */
int nym_smtp_getline(struct nym_in *in, char *buf, size_t cap, size_t max);

struct nym_smtp_mail {
	uint64_t size;		/* SIZE=, 0 if absent, UINT64_MAX if huge */
	int body;		/* BODY=: 7 (7BIT), 8 (8BITMIME), 0 absent */
};

/* Parse a "MAIL FROM:<path> [SIZE=n] [BODY=7BIT|8BITMIME] [AUTH=x]"
 * line (verb in any case; spaces after the colon tolerated; AUTH= is
 * accepted and ignored).  addr (cap >= NYM_SMTP_PATH) gets the mailbox
 * with its domain lower-cased, or "" for the null sender <>.  0, or -1
 * with errno: EINVAL bad syntax (an 8-bit byte, a missing bracket),
 * ENAMETOOLONG over the path, local part or domain limits, EACCES a
 * source route (<@a,@b:x@y>), ENOTSUP an unknown parameter. */
int nym_smtp_parse_mail(const char *line, char *addr, size_t cap,
    struct nym_smtp_mail *m);
/* The same for "RCPT TO:<path>": no null path, but <postmaster> with no
 * domain; every parameter is ENOTSUP. */
int nym_smtp_parse_rcpt(const char *line, char *addr, size_t cap);

struct nym_smtp_data {
	uint64_t size;		/* bytes received, stuffing dots removed */
	int over;		/* larger than max: the rest was not written */
	int werr;		/* errno of the first failed write, or 0 */
	int bare;		/* '\n' or '\r': a bare LF or CR was read
				   (with NYM_SMTP_STRICT, where reading
				   stopped), 0 if none */
};

#define NYM_SMTP_LF	0x1	/* write CRLF line ends as LF */
#define NYM_SMTP_STRICT	0x2	/* a bare LF or CR stops the reading */

/* Read the message after a 354 reply up to the line "." that follows a
 * CRLF (<CRLF>.<CRLF> and nothing else ends it, so no LF.LF, LF.CRLF or
 * CRLF.LF smuggling), removing the dot that stuffs a line, and write it
 * to out (may be NULL) as received, or with NYM_SMTP_LF in flags with LF
 * line ends; out is flushed.  A bare LF ends a line and a bare CR is
 * content (d->bare says one was seen), as Postfix's normalize; with
 * NYM_SMTP_STRICT a bare LF or CR stops the reading where it is instead,
 * d->bare set: the caller must refuse the message and end the session.
 * Past max bytes as received (0: no limit) nothing more is written and
 * d->over is set, but the input is read to its end.  Returns 0 when the
 * final dot (or, strict, a bare LF or CR) was read, or -1 with errno
 * when the input failed first: ECONNRESET at EOF, ETIMEDOUT, the read
 * error. */
int nym_smtp_getdata(struct nym_in *in, struct nym_out *out, uint64_t max,
    unsigned flags, struct nym_smtp_data *d);

/* ---- pop3.c: POP3 client pieces ---- */
struct nym_pop3_caps {
	int pipelining, uidl, top, user;
	int plain;		/* SASL PLAIN offered */
};

/* Read a status line from in (in->ms bounds each read).  Returns 1 for
 * +OK, 0 for -ERR, with the text after it (RFC 3206 code included) cut
 * to cap and sanitised into text; or -1 with errno: EPROTO neither,
 * ECONNRESET at EOF, ETIMEDOUT, the read error. */
int nym_pop3_status(struct nym_in *in, char *text, size_t cap);
/* One line of a multi-line response (CAPA, UIDL, LIST) into buf, its
 * stuffing dot and line end removed.  1, 0 at the final dot, or -1 with
 * errno (EPROTO: longer than cap). */
int nym_pop3_mline(struct nym_in *in, char *buf, size_t cap);
/* Note what one CAPA line offers. */
void nym_pop3_capa(const char *line, struct nym_pop3_caps *c);
/* Parse a UIDL line "n unique-id".  uid needs NYM_POP3_UIDL + 1.  0 or
 * -1 EINVAL. */
int nym_pop3_uidl(const char *line, unsigned long *n, char *uid,
    size_t cap);
/* Parse a LIST line "n size".  0 or -1 EINVAL. */
int nym_pop3_list(const char *line, unsigned long *n, uint64_t *size);
/* The AUTH PLAIN response (RFC 4616, empty authzid) in base64 into out;
 * the plain copy is wiped.  Returns its length or -1 EMSGSIZE. */
int nym_pop3_authplain(const char *user, const char *pass, char *out,
    size_t cap);

#define NYM_POP3_LF	0x1	/* write CRLF line ends as LF */
#define NYM_POP3_MBOXRD	0x2	/* quote ^>*From_ lines with one more '>' */

/* Copy a multi-line response (RETR) from in to out up to the final dot,
 * removing stuffing dots, never holding more than in's buffer.  Returns
 * 0 when the dot was read (out is not flushed; its errors are in
 * out->err), or -1 with errno when the input failed first (ECONNRESET
 * at EOF, ETIMEDOUT), or when more than max bytes (0: no limit; bytes
 * as received, CRLF and stuffing dots included) came before the final
 * dot (EFBIG; the rest is not read). */
int nym_pop3_retr(struct nym_in *in, struct nym_out *out, unsigned flags,
    uint64_t max);

/* ---- maildir.c: a maildir file written as the message arrives ---- */
struct nym_mdfile {
	int fd;			/* write the message here; -1 if none */
	char dir[NYM_MD_PATH];	/* the maildir */
	char tmp[NYM_MD_PATH];	/* dir/tmp/name, "" if none */
	char name[96];		/* its name, also in new/ */
};

/* Create dir and its tmp, new and cur (mode 0700) where missing.  0 or
 * -1 (ENOTDIR if one of them is not a directory). */
int nym_maildir_make(const char *dir);
/* Create an empty file in dir/tmp (O_EXCL, mode 0600) under a unique
 * name without the host name.  0 or -1; on success f->fd is open. */
int nym_maildir_open(struct nym_mdfile *f, const char *dir);
/* Publish the file: fsync, close, link into dir/new (a new name if that
 * one is taken), unlink from tmp/, fsync dir/new.  0, or -1 with errno:
 * nothing is left in tmp/ or new/. */
int nym_maildir_commit(struct nym_mdfile *f);
/* Close and remove the file (a refused or failed message); errno is
 * kept.  Harmless after commit or a second time. */
void nym_maildir_abort(struct nym_mdfile *f);

/* ---- seal.c: mail encrypted at rest ---- */
/* A record (one message; mbox-encrypt(1), FORMAT) is a 12-byte preamble
 * ("NYMBOXE1", version 1, key sealing 1 = X25519 sealed box, cipher 1 =
 * secretstream XChaCha20-Poly1305, 16 = log2 of the chunk size), the
 * message key sealed to the inbox's public key (80 bytes), the
 * secretstream header (24), then chunks: a 4-byte big-endian ciphertext
 * length, top bit set on the last chunk, and the ciphertext. */
#define NYM_SEAL_PRE	12
#define NYM_SEAL_HDRLEN	116		/* preamble, sealed key, stream header */
#define NYM_SEAL_CHUNK	65536		/* plaintext bytes of one chunk, at most */
#define NYM_SEAL_OVER	21		/* length field and tag of a chunk */
#define NYM_SEAL_FINAL	0x80000000u	/* last-chunk flag in the length */
#define NYM_SEAL_PKLEN	32
#define NYM_SEAL_SKLEN	32
#define NYM_SEAL_PUBFILE 42		/* "NYMBOXP1", version, algorithm, key */
#define NYM_SEAL_KEYFILE 116		/* the password-locked private key file */
/* Argon2id parameters a key file may ask for: NYM_SEAL_OPSMIN..MEMMAX
 * in limits.h. */

struct nym_seal {
	unsigned char st[64];	/* secretstream state, opaque */
	unsigned char pre[NYM_SEAL_PRE];
	int done;		/* the last chunk was sealed or opened */
};

/* A fresh inbox key pair.  0 or -1. */
int nym_seal_keypair(unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char sk[NYM_SEAL_SKLEN]);
/* The public key file's bytes, and back: 0, or -1 with EINVAL (not a
 * public key file) or ENOTSUP (a later version). */
void nym_seal_pubfile(const unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char out[NYM_SEAL_PUBFILE]);
int nym_seal_pubparse(const unsigned char *in, size_t n,
    unsigned char pk[NYM_SEAL_PKLEN]);
/* Lock sk under a password with Argon2id (ops passes, mem bytes; within
 * NYM_SEAL_OPS/MEM limits) into the private key file's bytes.  0 or -1. */
int nym_seal_lock(const unsigned char sk[NYM_SEAL_SKLEN], const char *pw,
    size_t pwlen, uint64_t ops, uint64_t mem,
    unsigned char out[NYM_SEAL_KEYFILE]);
/* Unlock a private key file's n bytes: 0, or -1 with EINVAL (damaged, or
 * parameters out of bounds), ENOTSUP (a later version), EACCES (wrong
 * password), ENOMEM. */
int nym_seal_unlock(const unsigned char *in, size_t n, const char *pw,
    size_t pwlen, unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char sk[NYM_SEAL_SKLEN]);
/* Start a record for pk: hdr gets its first NYM_SEAL_HDRLEN bytes. */
int nym_seal_begin(struct nym_seal *s, const unsigned char pk[NYM_SEAL_PKLEN],
    unsigned char hdr[NYM_SEAL_HDRLEN]);
/* Seal n <= NYM_SEAL_CHUNK bytes as the next chunk (final: the last)
 * into out, which needs n + NYM_SEAL_OVER bytes.  Returns that length. */
size_t nym_seal_put(struct nym_seal *s, const void *p, size_t n, int final,
    unsigned char *out);
/* Does p[0, n) start a record this version reads?  0, or -1 with EINVAL
 * (not a record, or shorter than its header) or ENOTSUP (a later
 * version or other algorithms). */
int nym_seal_parse(const unsigned char *p, size_t n);
/* Open a record's header with the inbox key pair: 0, or -1 with the
 * errno of nym_seal_parse, or EACCES (not sealed to this key, or its
 * sealed key damaged). */
int nym_seal_open(struct nym_seal *s, const unsigned char *hdr, size_t n,
    const unsigned char pk[NYM_SEAL_PKLEN],
    const unsigned char sk[NYM_SEAL_SKLEN]);
/* The ciphertext length a chunk's length field gives, and whether it is
 * the last; -1 EBADMSG if out of bounds. */
long nym_seal_chunklen(const unsigned char len[4], int *final);
/* Open the chunk in[0, n) (length field and ciphertext) into out
 * (NYM_SEAL_CHUNK bytes).  The plaintext length, or -1 EBADMSG (changed,
 * out of order, or after the last chunk). */
ssize_t nym_seal_get(struct nym_seal *s, const unsigned char *in, size_t n,
    unsigned char *out);
void nym_seal_wipe(struct nym_seal *s);

/* ---- popd.c: POP3 server pieces (pop-serve) ---- */
/* A message as POP3 sends it (RFC 1939 3): every line ended by CRLF (a
 * bare LF becomes CRLF, a CR not before a LF stays as it is, a last line
 * without a line end gets one), a dot stuffed in front of a line that
 * starts with one, and for TOP only the header, its empty line and so
 * many lines of the body.  size counts the CRLF form before stuffing:
 * what LIST and STAT report, what a client stores. */
struct nym_popd_enc {
	uint64_t size;		/* CRLF-form bytes so far, stuffing excluded */
	long lines;		/* TOP: body lines still to send; -1 all */
	size_t llen;		/* bytes of the current line so far */
	int bol;		/* at the start of a line */
	int cr;			/* a CR held back: is a LF next? */
	int body;		/* past the header's empty line */
	int done;		/* TOP: all that was asked for is out */
};

/* Start a message: lines < 0 for all of it (RETR, or counting its size),
 * else TOP's number of body lines. */
void nym_popd_begin(struct nym_popd_enc *e, long lines);
/* Take the next n bytes of the message: their wire form goes to o, or
 * only counts with o NULL.  Returns 1 once TOP has sent all it should
 * (the rest may be skipped), else 0. */
int nym_popd_put(struct nym_popd_enc *e, struct nym_out *o,
    const unsigned char *p, size_t n);
/* End the message: the last line's end if it had none, and with o the
 * final ".CRLF". */
void nym_popd_end(struct nym_popd_enc *e, struct nym_out *o);

/* Each verified chunk of plaintext; a nonzero return stops the reading,
 * and nym_popd_unseal returns it. */
typedef int (*nym_popd_sink)(void *arg, const unsigned char *p, size_t n);
/* Read the one record of a maildir file from in (a buffer of at least
 * NYM_SEAL_CHUNK + NYM_SEAL_OVER bytes), open it with the key pair, and
 * hand each chunk to sink only once it verified, the last one only once
 * nothing follows it.  s and plain (NYM_SEAL_CHUNK bytes) are the
 * caller's, to keep them in locked memory; s is wiped on return.
 * Returns 0 when the whole record verified and was handed over, the
 * sink's nonzero value if it stopped, or -1 with errno: EINVAL not a
 * record, ENOTSUP a later version, EACCES not sealed to this key,
 * EBADMSG changed, damaged, cut short or followed by other bytes, or the
 * read error. */
int nym_popd_unseal(struct nym_in *in, struct nym_seal *s,
    const unsigned char pk[NYM_SEAL_PKLEN],
    const unsigned char sk[NYM_SEAL_SKLEN], unsigned char *plain,
    nym_popd_sink sink, void *arg);

/* The keyword of a command line, upper-cased into verb (3 or 4 letters,
 * RFC 2449 3), and its arguments after one space ("" if none).  0, or -1
 * EINVAL if the line does not start with a keyword. */
int nym_popd_verb(const char *line, char verb[5], const char **args);
/* A decimal argument of at most 9 digits at s; *end is after it.  Its
 * value, or -1 if there is none. */
long nym_popd_num(const char *s, const char **end);
/* The unique-id (RFC 1939 7) of a maildir file name: the name up to its
 * ":2," flags when that is 1 to 70 bytes 0x21..0x7E, else "x" and 40
 * base32 characters of its SHA-256.  uid needs NYM_POP3_UIDL + 1. */
void nym_popd_uid(const char *name, char *uid);
/* Decode an AUTH PLAIN response (RFC 4616: authzid NUL authcid NUL
 * password, in base64): user (ucap bytes) gets the authcid NUL ended,
 * pass (pcap bytes) the password, *passlen its length.  The authzid
 * must be empty or the authcid.  0, or -1 with errno EINVAL (bad base64
 * or form), EPERM (acting for another), E2BIG (too long).  Every copy
 * but user and pass is wiped. */
int nym_popd_plain(const char *b64, char *user, size_t ucap, char *pass,
    size_t pcap, size_t *passlen);

/* ---- crypto.c: the only file that includes sodium.h ---- */
#define NYM_KEYLEN 32

/* Initialise libsodium (needed before randomness; hashing works
 * without it).  -1 if it cannot. */
int nym_crypto_init(void);
/* Read a NYM_KEYLEN-byte key from path, creating it (0600, atomically,
 * with its directory 0700) on first use.  Refuses a key file that others
 * can read (EPERM).  0 or -1. */
int nym_key_load(const char *path, unsigned char key[NYM_KEYLEN]);
/* Keyed BLAKE2b of a context label and data into out (16..64 bytes). */
void nym_mac(const unsigned char key[NYM_KEYLEN], const char *context,
    const void *data, size_t n, unsigned char *out, size_t outlen);
/* SHA-256 of n bytes at p (I2P b32 addresses). */
void nym_sha256(const void *p, size_t n, unsigned char out[32]);
void nym_random(void *buf, size_t n);
void nym_wipe(void *p, size_t n);

/* ---- pass.c: passwords, never from argv ---- */
/* Read a password, its first line without the line end, into buf (cap
 * bytes, NUL ended): from file if not NULL (refused with EPERM if its
 * group or others may read it), else from descriptor fd if >= 0 (then
 * closed), else from the terminal with echo off, prompting "Password for
 * what: " (ENXIO: no terminal).  0, or -1 with errno (EMSGSIZE: longer
 * than cap - 1); on failure buf is wiped. */
int nym_password(const char *file, int fd, const char *what, char *buf,
    size_t cap);
/* The failed logins of a server, shared by all its processes: a file of
 * NYM_AUTHFAIL_SLOTS times (created 0600; it never grows).  With note,
 * a failure now is recorded first.  Returns how many failures the file
 * holds from the last window seconds, or -1 with errno (ETIMEDOUT: its
 * lock was not had within a second). */
int nym_authfail(const char *path, int window, int note);
/* -F MAX/SECONDS (MAX up to NYM_AUTHFAIL_SLOTS) into max and window, or
 * a usage error (exit 64). */
void nym_authlimit(const char *s, int *max, int *window);

/* ---- atomic.c: the one way to create a file ---- */
/* Create dir/name with the n bytes at p: O_EXCL temporary file in dir,
 * write, fsync, close, then link (NYM_ATOMIC_NOCLOBBER) or rename into
 * place, fsync dir.  The temporary file never survives an error.
 * mode is the file mode (0600 for secrets).  0 or -1 with errno. */
#define NYM_ATOMIC_NOCLOBBER 0x1
int nym_atomic_write(const char *dir, const char *name, const void *p,
    size_t n, mode_t mode, unsigned flags);
/* mkdir -p with mode for every created component.  0 or -1. */
int nym_mkdirs(const char *path, mode_t mode);
/* path's directory into dir (cap bytes; "." without a slash, "/" for a
 * file at the root); returns its last component, or NULL with
 * ENAMETOOLONG when the directory does not fit. */
const char *nym_splitpath(const char *path, char *dir, size_t cap);
/* fsync a directory, so that names created in it are durable.  0 or -1. */
int nym_syncdir(const char *dir);
/* The same for dir relative to the directory open as dfd (openat(2)). */
int nym_syncdirat(int dfd, const char *dir);

/* The same discipline for a file written as it arrives: an O_EXCL file
 * (mode) in tmpdir, which the caller writes to through a->fd; commit
 * fsyncs and closes it, links (NYM_ATOMIC_NOCLOBBER) or renames it to
 * dir/name, unlinks the temporary name and fsyncs dir.  tmpdir and dir
 * must be on one file system.  With NYM_ATOMIC_NOCLOBBER a name that is
 * taken fails with EEXIST and keeps the file, so that commit can be
 * called again with another name; every other failure removes it, as
 * does abort (harmless after commit or a second time).  If the final
 * fsync of dir fails, a new name is removed again but a replaced file
 * stays (the old one is gone either way). */
struct nym_afile {
	int fd;			/* -1 once synced and closed */
	char tmp[NYM_MD_PATH];	/* the temporary path, "" if none */
};
int nym_afile_open(struct nym_afile *a, const char *tmpdir, mode_t mode);
int nym_afile_commit(struct nym_afile *a, const char *dir, const char *name,
    unsigned flags);
void nym_afile_abort(struct nym_afile *a);

/* ---- conf.c: key = value configuration ---- */
/* Load $NYMBOX_CONF, else ~/.config/nymbox/config, else
 * /etc/nymbox/config (a missing file is no error).  -1 with errno on an
 * unreadable or malformed file; *where gets "path:line" for the message. */
int nym_conf_load(const char **where);
/* The value of key outside any section, or NULL.  Last assignment wins. */
const char *nym_conf_get(const char *key);
/* The value of key in the section "[id]" (a sender address; names are
 * compared ignoring case), else outside any section, else NULL.  id may
 * be NULL. */
const char *nym_conf_iget(const char *id, const char *key);
/* ~/.config/nymbox (from $HOME) into buf.  -1 ENAMETOOLONG/ENOENT. */
int nym_confdir(char *buf, size_t cap);
/* Where settings go, for messages after nym_conf_load: the file that
 * was read, else the places searched ("a configuration file (none of
 * ...)"). */
const char *nym_conf_name(void);

/* ---- queue.c: the delay queue (queue-run(1) documents the layout) ---- */
#define NYM_QUEUE_IDLEN	16		/* hex digits of a message's ID */

enum nym_qmode { NYM_Q_NOW = 0, NYM_Q_DEFER, NYM_Q_BATCH };
enum nym_qstate { NYM_QS_QUEUED = 0, NYM_QS_BOUNCE, NYM_QS_FAILED };

/* A message's state record: the head of mess/ID, or info/ID after an
 * attempt, or failinfo/ID (state failed) beside failed/ID. */
struct nym_qrec {
	char id[NYM_QUEUE_IDLEN + 1];
	int mode;		/* enum nym_qmode */
	int state;		/* enum nym_qstate */
	time_t queued;		/* when it was committed */
	time_t due;		/* next attempt at or after this */
	unsigned attempts;	/* failed attempts so far */
	int lastcode;		/* exit code of the last failed attempt, or 0 */
	char error[NYM_QUEUE_ERR + 1]; /* its diagnostic, printable ASCII */
	const char *sender;	/* "" for the null sender */
	const char **rcpt;	/* nrcpt addresses */
	size_t nrcpt;
	const char **argv;	/* the delivery command, NULL-terminated */
	size_t argc;
	char *store;		/* allocations behind the pointers when read */
	void *vec;
};

/* The queue directory: arg if not NULL, else the configuration's "queue"
 * (load it first), else ~/.config/nymbox/queue.  0 or -1 ENAMETOOLONG,
 * ENOENT (no HOME). */
int nym_queue_dir(char *buf, size_t cap, const char *arg);
/* Create the queue and its tmp, mess, info, failed and failinfo
 * directories (mode 0700) where missing.  0 or -1. */
int nym_queue_make(const char *qdir);
/* Take the queue's lock (qdir/lock, fcntl) for this process: 0 taken
 * (*fd keeps it; close it to let go), 1 another process holds it, -1
 * with errno.  Waits up to wait_ms for it (0: does not wait). */
int nym_queue_lock(const char *qdir, int wait_ms, int *fd);
/* Is s a message ID (NYM_QUEUE_IDLEN lower-case hex digits)?  1 or 0. */
int nym_queue_isid(const char *s);
/* The mode named s ("now", "defer", "batch"), or -1; and its name. */
int nym_queue_mode(const char *s);
const char *nym_queue_modename(int mode);
/* Parse a defer range "LO-HI" (seconds, 0 <= LO <= HI <= 31536000).
 * 0 or -1 EINVAL. */
int nym_queue_range(const char *s, long *lo, long *hi);
/* A uniformly random integer in [lo, hi] from getentropy(3), without
 * modulo bias.  0 or -1 with errno. */
int nym_queue_draw(long lo, long hi, long *v);
/* The first 00:00 or 12:00 UTC strictly after now (now >= 0). */
time_t nym_queue_batchtime(time_t now);
/* The due time of a message of this mode committed at now: now; now plus
 * a draw from [lo, hi]; or the next batch time.  -1 with errno if the
 * random source fails. */
time_t nym_queue_due(int mode, time_t now, long lo, long hi);
/* When to try again after the n-th failed attempt (n >= 1) at now: the
 * next batch time for batch mode, else now + 5, 15, 30, 60, 120, then
 * every 240 minutes. */
time_t nym_queue_retry(int mode, unsigned n, time_t now);
/* The record's text, and back.  format: a malloc'd buffer in *out (NUL
 * ended) and its length; -1 ENOMEM, EINVAL (a field holds a LF or NUL, or a count
 * is out of bounds).  parse: n bytes; r gets pointers into its own
 * copy (free with nym_qrec_free); -1 EINVAL for a damaged record. */
int nym_qrec_format(const struct nym_qrec *r, char **out, size_t *len);
int nym_qrec_parse(const char *s, size_t n, struct nym_qrec *r);
void nym_qrec_free(struct nym_qrec *r);
/* Begin a message: a temporary file in qdir/tmp (a->fd open for writing,
 * a->tmp) holding r's record under a fresh random ID (into r->id) and the
 * empty line that ends it.  The caller writes the message after them and
 * commits with nym_queue_put or gives up with nym_afile_abort.  0 or -1
 * with errno (EINVAL: r cannot be formatted) and nothing left behind. */
int nym_queue_begin(const char *qdir, struct nym_qrec *r,
    struct nym_afile *a);
/* Commit it: fsync, link it to mess/ID (under another ID, written into
 * the file and r->id, if that one is in use) and fsync mess/, the commit
 * point.  0, or -1 with errno and nothing left behind. */
int nym_queue_put(const char *qdir, struct nym_afile *a,
    struct nym_qrec *r);
/* The record in effect for message id: info/id if there is one (the
 * state after a failed attempt), else the one at the head of mess/id.
 * With fd not NULL, *fd gets mess/id open for reading at the message's
 * first byte.  -1 with ENOENT (no such message), EINVAL (damaged), EFBIG
 * (a record over NYM_QUEUE_REC). */
int nym_queue_get(const char *qdir, const char *id, struct nym_qrec *r,
    int *fd);
/* Replace info/ID atomically with r (synced).  0 or -1. */
int nym_queue_update(const char *qdir, const struct nym_qrec *r);
/* Delivered: unlink mess/id, the commit point, then info/id if there is
 * one.  The directories are not synced: nym_queue_sync does that for
 * any number of these at once.  0 or -1 (ENOENT: no such message). */
int nym_queue_done(const char *qdir, const char *id);
/* fsync mess/ and info/, making the nym_queue_done calls before it
 * durable.  0 or -1. */
int nym_queue_sync(const char *qdir);
/* Deleted: nym_queue_done and nym_queue_sync.  0 or -1. */
int nym_queue_remove(const char *qdir, const char *id);
/* Moved aside after a permanent failure: the record, state failed, to
 * failinfo/id, the message without its record copied to failed/id (both
 * synced), then removed.  0 or -1. */
int nym_queue_fail(const char *qdir, const char *id);
/* A message moved aside: its record from failinfo/id into r (zeroed if
 * there is none) and, with fd not NULL, failed/id open for reading.  0;
 * 1 if it has no record (moved aside before records were kept); -1 with
 * ENOENT (no such failed message), EINVAL (a damaged record). */
int nym_queue_failed(const char *qdir, const char *id, struct nym_qrec *r,
    int *fd);
/* Queue failed/id again under its ID: attempts and error cleared, queued
 * at now, due now (a batch message at the next batch time); mess/id is
 * committed (synced), then failed/id and failinfo/id removed.  0, or -1
 * with ENOENT (no such failed message), ENODATA (it has no record),
 * EBUSY (a message of that ID is being returned), EINVAL (damaged). */
int nym_queue_requeue(const char *qdir, const char *id, time_t now);
/* Open mess/id for reading at the message's first byte.  The descriptor
 * or -1 as nym_queue_get. */
int nym_queue_message(const char *qdir, const char *id);
/* Walk mess/ one entry at a time (memory does not grow with the queue):
 * next gives each message ID once per directory read (order undefined);
 * 1, 0 at the end, -1 with errno. */
struct nym_qscan {
	void *dir;
};
int nym_queue_scan(struct nym_qscan *s, const char *qdir);
/* The same over another of the queue's directories (sub "failed"). */
int nym_queue_scandir(struct nym_qscan *s, const char *qdir,
    const char *sub);
int nym_queue_next(struct nym_qscan *s, char id[NYM_QUEUE_IDLEN + 1]);
void nym_queue_endscan(struct nym_qscan *s);
/* The destination of a record, what queue-run's per-destination limit
 * counts: the set of its recipients' domains (the part after the last @,
 * ASCII letters folded to lower case; "" for an address without @),
 * whatever their order and repeats, as a 64-bit key.  Two different sets
 * share a key with a chance of about 2^-64, and then only a limit. */
uint64_t nym_queue_dest(const struct nym_qrec *r);
/* Remove leftovers, with the queue's lock held: files in tmp/ older than
 * NYM_QUEUE_STALE by the clock, not NYMBOX_NOW (a writer that died),
 * records in info/ whose message is gone (a run killed between the two
 * unlinks of nym_queue_done), failed/id and failinfo/id of a message that
 * is queued again (a requeue cut short), records in failinfo/ without
 * their message.  Returns the number removed. */
int nym_queue_clean(const char *qdir);
/* Copy the message in to out for sending at now: the first Date field
 * replaced by now in UTC (added if missing, later ones dropped), Bcc and
 * Resent-Bcc removed, everything else byte for byte.  0, or -1 with
 * errno (E2BIG: a header over the limits). */
int nym_queue_rewrite(int in, int out, time_t now);

/* ---- dsn.c: delivery status notifications (the only GMime user) ---- */
struct nym_dsn {
	const char *sender;	/* the bounce goes to this address */
	const char **rcpt;	/* the failed recipients */
	size_t nrcpt;
	const char *status;	/* "5.1.1", or "4.4.7" when it expired */
	const char *reason;	/* one line for people, printable ASCII */
	const char *diag;	/* the command's words (lines), or "" */
	const char *id;		/* the queue ID */
	time_t arrival, now;
	const char *header;	/* the original header section */
	size_t headerlen;
};

/* A multipart/report (RFC 3464) in *out (malloc'd, LF line ends, *len
 * bytes): a text part, message/delivery-status and text/rfc822-headers.
 * Dates are UTC; the Message-ID and boundary are random and name no
 * host.  0 or -1 ENOMEM. */
int nym_dsn_build(const struct nym_dsn *d, char **out, size_t *len);

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
 * one key.  An existing file is left for nym_sam_key to judge.  0, or -1
 * with errno. */
int nym_dest_keyfile(const char *path);

#endif
