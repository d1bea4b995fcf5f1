/*
 * proto.h - libnymbox, the mail protocols: SMTP, POP3 (client and
 * server), SOCKS5.
 *
 * Conventions: base.h.
 */
#ifndef NYM_PROTO_H
#define NYM_PROTO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "limits.h"
#include "base.h"
#include "seal.h"

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
	char stamp[NYM_POW_DEMAND_MAX + 1];	/* X-STAMP's demand, or "" */
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
 * leading dot is doubled, Bcc, Resent-Bcc and X-Hashcash-Bcc fields (with
 * their folds) and an mbox From_ line are removed from the top-level
 * header, a missing last line end is added, and CRLF.CRLF closes it; then
 * out is flushed.  A stamp (not NULL) goes in as "X-Hashcash: stamp" where
 * the first X-Hashcash-Bcc field was, else at the header's end.  0, or -1
 * with errno of the failed read (in->err set) or write (out->err set). */
int nym_smtp_putdata(struct nym_in *in, struct nym_out *out,
    const char *stamp);

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
	int txn;		/* one was begun on this session: RSET first */
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
/* Say EHLO helo (HELO if EHLO is refused) and note what the server
 * offers in c->x (again after STARTTLS: RFC 3207 forgets the first).  0,
 * or an exit code as nym_smtp_start's. */
int nym_smtp_hello(struct nym_smtp_client *c, const char *helo);
/* Say STARTTLS and read its 220 (RFC 3207), with nothing after it.  0,
 * or an exit code with c->why set and the connection closed (75, or
 * what a 5xx means).  The TLS itself is tls.h's nym_smtp_starttls. */
int nym_smtp_starttls_cmd(struct nym_smtp_client *c);
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
 * the server's SIZE is not sent (65).  On a session that carried a
 * transaction before, RSET goes first (in the same write when
 * pipelining; refused, the message is 75 and the session closed).  Each
 * of those rc[i] gets its exit code and why; a broken connection is
 * closed (c->fd = -1) and is 75.
 * A recipient for whose address the message holds a stamp in an
 * X-Hashcash-Bcc field (pow-stamp -M's, for Bcc recipients) has a
 * transaction of its own after the others' (RSET between), its copy
 * carrying that one stamp as X-Hashcash; every copy goes without the
 * X-Hashcash-Bcc fields.  Without them, one transaction. */
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

/* ---- pop3.c: POP3 client parsers (fuzzed: t/fuzz/pop3.c) ---- */
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

/* ---- pop3client.c: POP3 client session (pop-fetch) ---- */
/* A message of the listing. */
struct nym_pop3_msg {
	unsigned long n;	/* its number in this session */
	uint64_t size;		/* as LIST says, 0 if unknown */
	int fetch;		/* the caller's: to be fetched (RETR) */
	int refused;		/* the server refused its DELE */
	char uid[NYM_POP3_UIDL + 1];
};

struct nym_pop3_client {
	/* The caller's, set before nym_pop3_start: */
	const char *where;	/* the server, for messages */
	long long sessionend;	/* nym_now_ms() by which all must be done */
	long session;		/* the session's length in s, for messages */
	uint64_t maxsize;	/* a message over it is not read (0: none) */
	int careful;		/* one RETR at a time, none sent ahead */
	void (*warn)(const char *why);	/* told each refused DELE, or NULL */
	/* The session: */
	int fd;			/* the connection, -1 once closed */
	struct nym_in in;
	struct nym_out out;
	int greeted;		/* the greeting was +OK */
	struct nym_pop3_caps caps;	/* what CAPA offered */
	struct nym_pop3_msg *msg;	/* the listing, in the server's order */
	size_t nmsg;
	int toobig;		/* a message was over maxsize (LIST said less) */
	int err;		/* the connection failed: its errno, else 0 */
	int code;		/* the exit code the last failure calls for */
	char text[NYM_POP3_LINE];	/* the last status line's text */
	char why[NYM_POP3_LINE + 256];	/* what failed, one line */
	/* Commands sent whose replies are unread, oldest first: RETR ('R')
	 * or DELE ('D') of the pq-th listed message. */
	size_t pq[NYM_POPF_PEND_MAX];
	char pk[NYM_POPF_PEND_MAX];
	size_t pqh, pend, nretr;
	size_t next;		/* the listed message to consider for RETR next */
};

/* Every function below that fails sets c->why ("unable to VERB at
 * SERVER: reason", with the reason a timeout past c->sessionend names
 * the session's length) and c->code: 75 for a connection that broke, a
 * refusal RFC 3206 calls temporary, or memory; others as said.  Every
 * reply, and the listing or message after it, must come within ms of
 * its command and then at NYM_MIN_RATE, and all by c->sessionend.
 * Nothing prints or exits; nym_pop3_close ends every session. */

/* Take the connected socket fd (the session owns it from now on), read
 * the greeting and ask for CAPA.  0, or the exit code: 75 (a -ERR
 * greeting among them), 65 a CAPA line over NYM_POP3_LINE.  Without
 * c->greeted, c->in.err ETIMEDOUT says the server said nothing in time. */
int nym_pop3_start(struct nym_pop3_client *c, int fd, int ms);
/* Log in: AUTH PLAIN (RFC 4616) when CAPA offers it, else USER and
 * PASS (together with PIPELINING).  Every copy of the password in the
 * session's buffers is wiped; pass is the caller's.  0, or the exit
 * code: 78 the user name or password too long for a command line, 77
 * refused, 75 refused with [IN-USE] or [SYS/TEMP] (RFC 3206), broken. */
int nym_pop3_login(struct nym_pop3_client *c, const char *user,
    const char *pass);
/* List the messages with UIDL into c->msg (c->nmsg of them, fetch and
 * refused 0), and their sizes with LIST (pipelined with UIDL when
 * offered; a LIST refused leaves them 0).  0, or the exit code: 78 no
 * UIDL (the server cannot be fetched from without duplicates), 65 over
 * max messages (-L), a bad UIDL line, a line over NYM_POP3_LINE; 75 a
 * bad LIST line, broken. */
int nym_pop3_listing(struct nym_pop3_client *c, long max);
/* RETR the i-th listed message (fetch set) and read its status.  With
 * PIPELINING and not careful, RETRs for up to NYM_POPF_RETR_AHEAD of the
 * next messages whose fetch is set go out with it; replies owed before
 * it (DELEs) are read first.  Call it for the messages to fetch in
 * listing order, each once, and read the body of each +OK with
 * nym_pop3_body before the next.  1 +OK, 0 -ERR (c->text), -1 failed:
 * broken, or (70) called out of order. */
int nym_pop3_fetch(struct nym_pop3_client *c, size_t i);
/* Copy the message after a RETR's +OK to o (nym_pop3_retr's flags; o is
 * not flushed).  0, or -1: broken, or over c->maxsize (c->toobig set,
 * code 65; the rest is not read, so the session is over). */
int nym_pop3_body(struct nym_pop3_client *c, struct nym_out *o,
    unsigned flags);
/* DELE the i-th listed message.  With PIPELINING its reply is read
 * later, once NYM_POPF_DELE_AHEAD are owed or another reply is wanted.
 * A refusal sets its refused and tells c->warn.  0, or -1 broken (or
 * 70: too many in flight). */
int nym_pop3_dele(struct nym_pop3_client *c, size_t i);
/* Read every reply still owed, dropping messages sent ahead.  0 or -1
 * (broken). */
int nym_pop3_drain(struct nym_pop3_client *c);
/* QUIT (after nym_pop3_drain): the server removes what was DELEd only
 * when it answers +OK.  1 +OK, 0 -ERR or -1 broken (both c->why, 75). */
int nym_pop3_quit(struct nym_pop3_client *c);
/* Close the connection and free the session.  Harmless when closed. */
void nym_pop3_close(struct nym_pop3_client *c);

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

/* ---- linesrv.c: the skeleton of a line server (smtp-receive, pop-serve) ---- */
/* One client on a reader and a writer (stdin, stdout), one command line
 * at a time: replies queued and sent before the next read unless the
 * client has pipelined, every command whole within ms, the session
 * within sessionend, protocol errors counted, and the ways a session
 * ends.  These functions print warnings and exit: they are the server's
 * end of the session, not a library's.  The caller fills in every field
 * but errors; the texts are whole reply lines without CRLF. */
struct nym_linesrv {
	struct nym_in *in;
	struct nym_out *out;
	size_t linemax;		/* a reply line, CRLF included */
	int ms;			/* a whole command within this */
	long long sessionend;	/* nym_now_ms() when the session ends */
	int session;		/* its length in seconds, for the warning */
	int maxerrors, errors;	/* protocol errors allowed, so far */
	int gone;		/* exit code when the client went away */
	const char *what;	/* "the command": for the warnings */
	const char *toomany;	/* the reply to the last error allowed */
	const char *toolong;	/* the reply to a line without an end */
	const char *sessover;	/* the reply once the session is over */
	const char *slow;	/* the reply to a slow command, NULL: none */
};

/* Queue a reply line (fmt, cut to linemax - 2 bytes, CRLF). */
void nym_ls_reply(struct nym_linesrv *ls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send what is queued; a failed write ends the session (exit 75 if it
 * timed out, else ls->gone). */
void nym_ls_flush(struct nym_linesrv *ls);
/* The last words text (within 5 s), then exit(code). */
void nym_ls_hangup(struct nym_linesrv *ls, int code, const char *text)
    __attribute__((noreturn));
/* A protocol error: reply text (if not NULL), count it, and after
 * maxerrors hang up (0) with toomany. */
void nym_ls_error(struct nym_linesrv *ls, const char *text);
/* A read of what that ran out of time (secs its own limit): warns, then
 * hangs up (75) with sessover once the session is over, else with slow
 * (or without a word if slow is NULL). */
void nym_ls_timedout(struct nym_linesrv *ls, const char *what, int secs)
    __attribute__((noreturn));
/* Read the next command line into buf (nym_smtp_getline: cap, max),
 * queued replies sent first unless the client already sent the line.
 * 0 for a line; -1 with errno E2BIG (too long, read past) or EILSEQ (a
 * NUL byte): the caller replies and calls nym_ls_error.  The client
 * leaving ends the session (exit 0), as do a line without an end
 * (toolong), a timeout (nym_ls_timedout) and a read error (75). */
int nym_ls_getline(struct nym_linesrv *ls, char *buf, size_t cap,
    size_t max);

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
 * can never work (0xf6) or a service whose descriptor is invalid (0xf1),
 * NYM_EX_CONFIG for a proxy not set up for us (2, 7, 8, client
 * authorization 0xf4/0xf5, no method, credentials refused),
 * NYM_EX_TEMPFAIL otherwise (1, 3 to 6, the other onion errors: 0xf0, a
 * descriptor not found, is a service not published yet or away). */
int nym_socks_exitcode(int reply);

/* ---- deliver.c: the front end of the delivering programs (sam-deliver,
 * onion-deliver): envelope, spool, batches, one session per destination,
 * sendmail's exit codes ---- */
/* What differs by transport.  Messages go to destinations named by a
 * key (a string): recipients whose keys are equal share one session. */
struct nym_dl_transport {
	/* The key of the destination mail for domain goes to, into key
	 * (cap bytes).  0, or the exit code (75, 68...) with why set.
	 * Called once per domain and message. */
	int (*resolve)(void *arg, const char *domain, char *key, size_t cap,
	    char *why, size_t whycap);
	/* A connected socket to the destination key, or -1 with *code (75
	 * unless set) and why. */
	int (*dial)(void *arg, const char *key, int *code, char *why,
	    size_t whycap);
	/* Optional: the recipients of one message as a whole, before any
	 * is resolved.  0, or the exit code for them all with why set. */
	int (*check)(void *arg, const struct nym_smtp_rcpt *rc, size_t n,
	    char *why, size_t whycap);
	/* Optional: the message to send, made from the spooled msgfd once
	 * the destinations are known and before the first is dialled:
	 * msgfd itself, or a new descriptor (closed after), or -1 with
	 * *code (75 unless set) and why. */
	int (*message)(void *arg, const char *sender, int msgfd, int *code,
	    char *why, size_t whycap);
	/* Optional: a session opened and then said nothing in time. */
	void (*stale)(void *arg);
	/* Optional: a new session to key, past its greeting and EHLO, made
	 * ready for mail (STARTTLS): 0 with *ctx set (NULL if nothing is
	 * kept), or the exit code with why set and c closed. */
	int (*start)(void *arg, const char *key, struct nym_smtp_client *c,
	    void **ctx, char *why, size_t whycap);
	/* Optional: free the ctx of a session whose connection has closed. */
	void (*end)(void *arg, void *ctx);
	void *arg;
};

struct nym_dl {
	const struct nym_dl_transport *tr;
	int ms;				/* every reply, and the transfer */
	const char *sender;		/* MAIL FROM, "" for a bounce */
	char senderbuf[NYM_SMTP_PATH];
	int batch;
	struct nym_smtp_rcpt *rc;	/* one message's recipients */
	size_t n;
	int msgfd;			/* its spool, -1 in a batch */
	struct nym_dl_session {
		struct nym_smtp_client c;	/* c.fd -1: none */
		void *ctx;			/* the transport's (TLS) */
		char dest[NYM_DEST_MAX];	/* its destination's key */
		unsigned long long used;	/* when last used (tick) */
	} s[NYM_DL_SESSIONS];		/* the sessions open */
	unsigned long long tick;
	char dest2[NYM_DEST_MAX];	/* a key being resolved */
};

/* Start d for transport tr, ms for every reply. */
void nym_dl_init(struct nym_dl *d, const struct nym_dl_transport *tr,
    int ms);
/* The envelope from the command line: sender from -f (NULL: $SENDER;
 * "" or "<>" the null sender), -B (batch) or the recipients in argv and
 * with -t those of the message's To, Cc and Bcc, the message spooled
 * from stdin to an unlinked file.  Exits on a usage error (64), a bad
 * address, no recipients (65) or a spool that cannot be written (75). */
void nym_dl_envelope(struct nym_dl *d, const char *sender, int batch,
    int tflag, int argc, char *const argv[]);
/* Deliver the message, or with -B every "FILE RECIPIENT..." line of
 * stdin ("FILE CODE ADDRESS=CODE..." on stdout for each; from a
 * SOCK_SEQPACKET socket, one line a packet, with the message's
 * descriptor if FILE is only its name), one warning
 * per recipient that failed.  Returns the exit code: 0, 75 if any
 * recipient is to be retried, else the first permanent failure (78
 * becomes 75: nym_delivering). */
int nym_dl_run(struct nym_dl *d);

#endif
