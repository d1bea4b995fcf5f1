/*
 * nymbox.h - the one public header of libnymbox.
 *
 * Grouped by module; each group names its file.  Conventions for the
 * whole library: functions return 0 (or a count) on success and -1 with
 * errno set on failure, unless the contract says otherwise.  Nothing here
 * prints or exits except the err.c group.  Limits are stated once, below,
 * and quoted by the man pages.
 */
#ifndef NYMBOX_H
#define NYMBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

/* ---- limits (every program, documented in the man pages) ---- */
#define NYM_FIELD_MAX	262144		/* one header field, folds included */
#define NYM_HDR_MAX	1048576		/* one header section */
#define NYM_FIELDS_MAX	8192		/* fields in one header section */
#define NYM_MIME_DEPTH	32		/* nested multiparts */
#define NYM_BOUNDARY_MAX 200		/* boundary; RFC 2046 says 70 */
#define NYM_HTML_MAX	16777216	/* text/html part rewritten for cid: */
#define NYM_CONF_MAX	65536		/* configuration file */
#define NYM_LINE_MAX	4096		/* configuration and protocol lines */

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
extern const char *nym_progname;
/* If not 0, nym_die exits with this instead (checkers: 2, like grep). */
extern int nym_exitforce;

/* Set nym_progname from argv[0] (its base name). */
void nym_setprogname(const char *argv0);
/* "prog: MESSAGE" on stderr, then exit(code).  Never give it a secret. */
void nym_die(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
/* As nym_die, with ": strerror(errno)" appended. */
void nym_dieerr(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void nym_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
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
};

struct nym_out {
	int fd;
	char *buf;
	size_t cap, len;
	int err;		/* errno of a failed write, sticky */
	uint64_t total;		/* bytes accepted so far */
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
/* Write out the buffer.  -1 with errno if any write failed. */
int nym_out_flush(struct nym_out *o);
void nym_out_close(struct nym_out *o);

/* write(2) until done, retrying EINTR and short counts.  0 or -1. */
int nym_write_all(int fd, const void *p, size_t n);
/* read(2) until n bytes or EOF.  Returns bytes read or -1. */
ssize_t nym_read_all(int fd, void *p, size_t n);
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
void nym_random(void *buf, size_t n);
void nym_wipe(void *p, size_t n);

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

/* ---- conf.c: key = value configuration ---- */
/* Load $NYMBOX_CONF, else ~/.config/nymbox/config, else
 * /etc/nymbox/config (a missing file is no error).  -1 with errno on an
 * unreadable or malformed file; *where gets "path:line" for the message. */
int nym_conf_load(const char **where);
/* The value of key, or NULL.  Last assignment wins. */
const char *nym_conf_get(const char *key);
/* ~/.config/nymbox (from $HOME) into buf.  -1 ENAMETOOLONG/ENOENT. */
int nym_confdir(char *buf, size_t cap);

#endif
