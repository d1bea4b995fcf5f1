/*
 * base.h - libnymbox, errors, buffered I/O and TCP with deadlines,
 * files, secrets, configuration.
 *
 * libnymbox's headers go by layer, each including only those before it:
 * limits.h, base.h, msg.h, seal.h, proto.h, i2p.h, store.h, dsn.h (and
 * scrub.h, the scrub engine).  Within one, grouped by module; each group
 * names its file.  Conventions for the whole library: functions return 0 (or a count) on success and -1 with
 * errno set on failure, unless the contract says otherwise.  Nothing here
 * prints or exits except the err.c group.  Limits are stated once, in
 * limits.h, and quoted by the man pages.
 */
#ifndef NYM_BASE_H
#define NYM_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
/* The first call of every main, before the configuration and getopt
 * (the one start-up of every program):
 * sets nym_progname, makes the process undumpable (soft RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0: no core file with a key or password in it, no
 * ptrace by the user's other processes; the programs it execs get
 * dumpable again but keep the core limit), ignores SIGPIPE (a reader that went away is a
 * failed write, exit 75, never a death by signal; programs reset it in
 * the children they start), checks $NYMBOX_NOW (malformed: "unable to
 * use NYMBOX_NOW VALUE: expected seconds since the epoch", exit 64; so
 * that nym_now() never fails afterwards), and if the first argument is "--help"
 * prints usage on stdout and exits 0, if "--version" prints
 * "NAME nymbox VERSION" and exits 0.  usage is kept for nym_usage. */
void nym_start(int argc, char *const argv[], const char *usage);
/* The usage given to nym_start on stderr, then exit 64 (nym_exitforce
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
/* The decimal number s, from min to max, or exit with code: for
 * NYM_EX_CONFIG what is a configuration key, "unable to use KEY = S in
 * FILE: expected MIN to MAX"; for any other code (NYM_EX_USAGE for an
 * option) what is the option, "unable to use -w S: expected MIN to MAX".
 * The one parser of numbers from a command line or a configuration. */
long nym_num(int code, const char *what, const char *s, long min, long max);
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
/* A size in bytes, with K, M or G (1024-based) allowed, from 1 to max,
 * or exit with code naming what, as nym_num does (64 for an option, 78
 * for a configuration key). */
uint64_t nym_size(int code, const char *what, const char *s,
    uint64_t max);
/* The worse of two exit codes for one message: 75 if either is (the
 * caller retries, so nothing is lost), else the first failure. */
int nym_worse(int a, int b);
/* Exit code for a failed system call: 75 for conditions worth retrying
 * (ENOSPC, EIO, EAGAIN, ENOMEM, ETIMEDOUT, ...), 70 otherwise. */
int nym_exitcode(int err);

/* ---- io.c: buffered input and output on file descriptors ---- */
/* The first LF in p[0, n), or NULL: memchr(p, '\n', n), inline for the
 * short lines of mail, where a call to memchr costs more than its
 * search (the header reader and the text scans find 1.8 million lines
 * in the 107 MB bench mbox).  Sixteen bytes at a time, four times, then
 * memchr for a long line.  The analyzer of make lint sees memchr, which
 * it knows: a found LF there never makes p NULL. */
static inline const char *
nym_nl(const char *p, size_t n)
{
#if defined(__SSE2__) && !defined(__clang_analyzer__)
	const __m128i lf = _mm_set1_epi8('\n');
	size_t i;
	int m;

	for (i = 0; i + 16 <= n && i < 64; i += 16) {
		m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(p + i)), lf));
		if (m != 0)
			return p + i + __builtin_ctz((unsigned)m);
	}
	return i < n ? memchr(p + i, '\n', n - i) : NULL;
#else
	return memchr(p, '\n', n);
#endif
}

/* A layer between a reader or writer and its descriptor (TLS, tls.h);
 * NULL in the reader or writer: read(2) and write(2) themselves. */
struct nym_xport {
	/* Read at most n > 0 bytes into buf, waiting at most wait ms for
	 * the first (-1: no limit).  The bytes read, 0 at the end of the
	 * stream, or -1 with errno (ETIMEDOUT). */
	ssize_t (*read)(void *ctx, void *buf, size_t n, int wait);
	/* Write all n bytes, waiting at most ms for each step (<= 0: no
	 * limit) and done by deadline (nym_now_ms; 0: none).  0, or -1
	 * with errno (ETIMEDOUT). */
	int (*write)(void *ctx, const void *p, size_t n, int ms,
	    long long deadline);
	void *ctx;
};

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
	const struct nym_xport *xp;	/* not NULL: read through it */
	size_t chunk;		/* > 0: no read(2) asks for more (tests:
				   a pipe that brings little at a time) */
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
	const struct nym_xport *xp;	/* not NULL: write through it */
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
/* Drop the bytes queued past stream offset total that are not written
 * yet (a message that failed half way). */
void nym_out_cut(struct nym_out *o, uint64_t total);
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
/* The time: $NYMBOX_NOW (seconds since the epoch, digits only) if set, so
 * that tests inject it, else time(2).  -1 with EINVAL for a malformed
 * NYMBOX_NOW, which nym_start has refused already: programs need not
 * check. */
time_t nym_now(void);
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
/* Is pk an Ed25519 public key of the main subgroup (on the curve, not
 * of small order, no torsion part), as Tor demands of an onion's?  0 or
 * -1. */
int nym_ed25519_valid(const unsigned char pk[32]);
void nym_random(void *buf, size_t n);
void nym_wipe(void *p, size_t n);
/* Ed25519 with an expanded secret key, the form Tor keeps an onion
 * service's key in (hs_ed25519_secret_key): 32 bytes of clamped scalar,
 * then 32 of nonce prefix, the halves of SHA-512 of the seed RFC 8032
 * starts from.  nym_ed25519_expand makes one from a 32-byte seed (sk and
 * pk out); nym_ed25519_public computes the public key of sk.  Both 0, or
 * -1 (EINVAL) for a scalar whose point is the identity. */
int nym_ed25519_expand(const unsigned char seed[32], unsigned char sk[64],
    unsigned char pk[32]);
int nym_ed25519_public(const unsigned char sk[64], unsigned char pk[32]);
/* The RFC 8032 (PureEdDSA) signature of m[0, n) by sk, whose public
 * key is pk, into sig; the same bytes crypto_sign would give for the
 * seed sk came from.  0, or -1 (EINVAL). */
int nym_ed25519_sign(const unsigned char sk[64], const unsigned char pk[32],
    const void *m, size_t n, unsigned char sig[64]);
/* Is sig a valid signature of m[0, n) by pk?  0 or -1. */
int nym_ed25519_verify(const unsigned char sig[64], const void *m,
    size_t n, const unsigned char pk[32]);

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
/* The discipline (atomic.c says why): a temporary file created
 * exclusively beside the target or in a tmp/ directory, write, fsync,
 * checked close, link (never replace) or rename (replace) into place,
 * fsync the directory; the temporary file never survives an error. */
#define NYM_ATOMIC_NOCLOBBER 0x1	/* link: fail with EEXIST if taken */
#define NYM_ATOMIC_NL	0x2		/* a line end after the bytes */
/* Create or replace dir/name with the n bytes at p (and a line end with
 * NYM_ATOMIC_NL), mode being the file mode (0600 for secrets).  0 or -1
 * with errno (EEXIST: NYM_ATOMIC_NOCLOBBER and the name is taken).  If
 * the final fsync of dir fails the file is in place all the same. */
int nym_atomic_write(const char *dir, const char *name, const void *p,
    size_t n, mode_t mode, unsigned flags);
/* Create the file at path once, never replacing it: its directory made
 * (dmode) where missing, then nym_atomic_write with NYM_ATOMIC_NOCLOBBER
 * and flags.  Of two processes creating it at once one wins, and both go
 * on with its contents (a key's first use).  1 created, 0 it was there,
 * -1 with errno (EISDIR: path ends in a slash). */
int nym_atomic_create(const char *path, const void *p, size_t n,
    mode_t mode, mode_t dmode, unsigned flags);
/* A spool: a temporary file in $TMPDIR (else /tmp), created exclusively
 * (mode 0600, close-on-exec, named after the program for the moment it
 * has a name) and unlinked at once, so it vanishes with the process
 * whatever ends it.  The read-write descriptor, or -1 with errno; *dir
 * (if dir is not NULL) is the directory, for a message. */
int nym_tmpfile(const char **dir);
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

/* The same discipline for a file written as it arrives.  Open: a file
 * created exclusively (mode, whatever the umask) that the caller writes through a->fd:
 * nym_afile_open under a fresh name in tmpdir, a directory of temporary
 * files (the queue's tmp/); nym_afile_beside under a fresh hidden name
 * beside dir/name, the file it is to become; nym_afile_create as
 * dir/name itself (a maildir's tmp/NAME), EEXIST if taken.  0, or -1
 * with errno and nothing created.
 *
 * Commit fsyncs and closes it (unless the caller has, setting fd to -1),
 * links (NYM_ATOMIC_NOCLOBBER) or renames it to dir/name, on the same
 * file system, unlinks the temporary name and fsyncs dir.  With
 * NYM_ATOMIC_NOCLOBBER a name that is taken fails with EEXIST and keeps
 * the file, so that commit can be called again with another name; every
 * other failure removes it, as does abort (harmless after commit or a
 * second time; errno is kept).  If the final fsync of dir fails, a new
 * name is removed again (the sender will try again) but a replaced file
 * stays (the old one is gone either way). */
struct nym_afile {
	int fd;			/* -1 once synced and closed */
	char tmp[NYM_MD_PATH];	/* the temporary path, "" if none */
};
int nym_afile_open(struct nym_afile *a, const char *tmpdir, mode_t mode);
int nym_afile_beside(struct nym_afile *a, const char *dir, const char *name,
    mode_t mode);
int nym_afile_create(struct nym_afile *a, const char *dir, const char *name,
    mode_t mode);
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

/* ---- demand.c: recipients' stamp demands, learnt from their servers ---- */
/* Keep the demand text[0, n) that the server of key published (X-STAMP,
 * key a domain) or stated for one recipient (key an address,
 * local@domain) in ~/.config/nymbox/demands/KEY (lowercased),
 * atomically, mode 0600; unchanged, the file is not written, only its
 * time renewed once a day (NYM_DEMAND_REFRESH).  A new file past
 * NYM_DEMAND_FILES removes the stale files first, then the oldest.
 * text must have a demand's form (1..NYM_POW_DEMAND_MAX bytes of a
 * demand's characters).  0, or -1 with errno (EINVAL: not a domain or
 * an address, or not a demand). */
int nym_demand_save(const char *key, const char *text, size_t n);
/* The kept demand of key into buf (cap bytes, NUL ended): 1, 0 if none
 * or stale (older than NYM_DEMAND_AGE: removed) or key is no domain or
 * address a file is kept for, -1 with errno (EINVAL: not a demand). */
int nym_demand_load(const char *key, char *buf, size_t cap);
/* Remove the kept demand of key (its server demands nothing now): 1
 * removed, 0 there was none, -1 with errno. */
int nym_demand_forget(const char *key);
/* Read a server's refusal text (one line, as a deliverer keeps it) for
 * smtp-receive's "Stamp needed for ADDR: X-Hashcash DEMAND (...)" or
 * its two-line form "Stamp needed for ADDR (...) ... X-Hashcash DEMAND"
 * (the demand last): the address into addr (acap bytes) and the demand
 * into dem (dcap bytes; "" if there is none, or none whole: the text
 * must not have been cut after it).  1 if the text says so, else 0. */
int nym_demand_said(const char *text, char *addr, size_t acap, char *dem,
    size_t dcap);

#endif
