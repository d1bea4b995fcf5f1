/*
 * limits.h - every limit and buffer size of nymbox, in one place.
 *
 * What each one bounds and why it has its value.  The man pages' LIMITS
 * sections and README ("Limits") quote these; an option or a
 * configuration key changes a default where it says so.  Over a limit
 * is a refusal with a reply or exit 65 (or 75 for time), never a crash,
 * a hang or a silent cut.  Included by the layer headers that use it
 * (base.h and up) and by the files that do; t/0000-layout.t fails if a
 * limit is defined anywhere else.
 *
 * Named lib/limits.h as DESIGN says: the Makefile passes -idirafter lib
 * (not -I), so <limits.h> still finds the C library's header.
 */
#ifndef NYMBOX_LIMITS_H
#define NYMBOX_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- messages (hdr.c, rfc2047.c, scrub-headers) ---- */
/* One header field, folds included: 256 KB holds any real field (huge
 * References chains) yet bounds what one field may cost. */
#define NYM_FIELD_MAX	262144
/* One header section: 1 MB, four maximal fields; mail needs far less. */
#define NYM_HDR_MAX	1048576
/* Fields in one header section: 8192, far beyond real mail, bounds the
 * field table. */
#define NYM_FIELDS_MAX	8192
/* Nested multiparts: 32, deeper than any client writes; bounds the
 * MIME walker's stack. */
#define NYM_MIME_DEPTH	32
/* A MIME boundary: 200 bytes; RFC 2046 says 70, some clients go over. */
#define NYM_BOUNDARY_MAX 200
/* A text/html part rewritten for cid: is held whole: 16 MB. */
#define NYM_HTML_MAX	16777216
/* MIME parameters of one field (RFC 2231): 64, bounds the table. */
#define NYM_MIME_PARAMS	64
/* RFC 2231 continuation sections of one parameter: 100. */
#define NYM_MIME_SECTIONS 100
/* Records of the RFC 2231 table: every section of every parameter,
 * plus its name=value and name*=value forms. */
#define NYM_MIME_RECS	((size_t)NYM_MIME_PARAMS * (NYM_MIME_SECTIONS + 2))
/* A charset name: 63 bytes (IANA names are at most 40). */
#define NYM_CHARSET_MAX	63
/* Years a Date field may name: 1900..9999, what struct tm and the
 * four-digit year of RFC 5322 can carry. */
#define NYM_YEAR_MIN	1900
#define NYM_YEAR_MAX	9999
/* scrub-headers' input and output buffers: 64 KB, a pipe's worth. */
#define NYM_SCRUB_INBUF	65536
#define NYM_SCRUB_OUTBUF 65536
/* The body scrub-headers looks at before writing the header of a text
 * body (a single-part text/plain message's or a text part's): its
 * canonical MIME labels and encoding are chosen from the decoded text.
 * The whole input buffer, so looking costs no memory but the re-encoded
 * copy (at most about 4 times this, for a legacy charset's text made
 * UTF-8 and written quoted-printable); a longer body keeps its labels
 * and bytes. */
#define NYM_SCRUB_LOOK	NYM_SCRUB_INBUF
/* How far past a line in the header that is neither a field nor a
 * continuation scrub-headers looks for known fields (which make it a
 * broken fold): 16 KiB, exactly, however much the input buffer holds,
 * so that a file and a pipe give the same output. */
#define NYM_SCRUB_STRAY	16384
/* The line length the canonical header form folds at (RFC 5322 2.1.1's
 * recommended 78 characters). */
#define NYM_FOLD_COL	78
/* The line length a header line with encoded words folds at (RFC 2047
 * section 2: 76). */
#define NYM_EWORD_COL	76
/* A reply attribution -c looks at: the text lines before a quote, up to
 * 512 bytes (two or three lines; "On ..., Bob <bob@...> wrote:"). */
#define NYM_SCRUB_ATTRIB 512
/* scrub-headers -a: the attribution it rewrites must start within the
 * first 64 KiB of the first text/plain part's body (a reply written above
 * the quote included); the lines it holds back meanwhile are at most
 * three lines and an empty one, 1.5 KiB in all (an attribution itself
 * at most NYM_SCRUB_ATTRIB decoded). */
#define NYM_SCRUB_ATTRIB_AT 65536
#define NYM_SCRUB_ATTRIB_HOLD (3 * NYM_SCRUB_ATTRIB)
/* scrub-headers writes a file part that was not base64 as base64 (issue
 * 15), streaming: it encodes 256 lines of 76 characters (57 bytes each)
 * at a time, and decodes a quoted-printable line of up to 4 KiB at once
 * (a longer one in pieces, its trailing white space then kept). */
#define NYM_SCRUB_B64IN	(57 * 256)
#define NYM_SCRUB_QPLINE 4096

/* ---- configuration and local files ---- */
/* The configuration file: 64 KB, many times a real one. */
#define NYM_CONF_MAX	65536
/* Configuration and protocol lines: 4 KB (SAM lines are four times
 * that, NYM_SAM_LINE). */
#define NYM_LINE_MAX	4096
/* Commands in nymbox-sendmail's chain, and words of one command. */
#define NYM_CHAIN_CMDS	16
#define NYM_CHAIN_WORDS	64
/* Recipients nymbox-sendmail takes for one message: 1000, as the queue. */
#define NYM_SENDMAIL_RCPTS 1000
/* nymbox-sendmail -F display name: 256 bytes. */
#define NYM_SENDMAIL_NAME 256
/* A password, typed or read from a file: 1024 bytes (mbox-encrypt,
 * nymbox-init, pop-serve's NYM_POPD_PASS). */
#define NYM_PASS_MAX	1024
/* A password file (smtp-receive -A): 64 KB. */
#define NYM_PASSFILE_MAX 65536
/* A maildir path: PATH_MAX on Linux. */
#define NYM_MD_PATH	4096
/* Names tried before giving up on EEXIST, for a temporary file and for
 * a maildir file's name in new/ (atomic.c, maildir.c): 16. */
#define NYM_MD_TRIES	16
/* A name nymbox makes for a file (a maildir file's, a temporary file's):
 * 96 bytes with its NUL. */
#define NYM_MD_NAME	96
/* Seconds after which an mbox.lock is stale and removed (procmail's
 * 5 minutes). */
#define NYM_DOTLOCK_STALE 300
/* Seconds queue-run's bounces and mbox-encrypt -i wait for another
 * program's mbox locks (pop-fetch waits -w). */
#define NYM_MBOX_WAIT	30
/* The buffer of plain streaming copies (queue, delivery, sendmail):
 * 64 KB, a pipe's worth. */
#define NYM_IOBUF	65536
/* listen(2) backlog of the test and lending sockets. */
#define NYM_LISTEN_BACKLOG 64

/* ---- sealed files (seal.c, mbox-encrypt, pop-serve) ---- */
/* Argon2id parameters a key file may ask for; larger ones are refused,
 * so a hostile file cannot make unlocking take forever. */
#define NYM_SEAL_OPSMIN	1
#define NYM_SEAL_OPSMAX	64
#define NYM_SEAL_MEMMIN	8192
#define NYM_SEAL_MEMMAX	((uint64_t)1 << 32)
/* mbox-encrypt's buffers: two chunks in, one sealed chunk out. */
#define NYM_ENC_INBUF	((size_t)2 * (NYM_SEAL_CHUNK + NYM_SEAL_OVER))
#define NYM_ENC_OUTBUF	(NYM_SEAL_HDRLEN + NYM_SEAL_CHUNK + NYM_SEAL_OVER)
/* mbox-encrypt maps its input from 1 MB on, 4 MB at a time. */
#define NYM_ENC_MAPMIN	((off_t)1 << 20)
#define NYM_ENC_MAPWIN	((size_t)4 << 20)

/* ---- network: SOCKS, HTTP, I2P/SAM ---- */
/* A SOCKS5 host name and isolation tag: 255, the protocol's one-byte
 * length (RFC 1928, RFC 1929). */
#define NYM_SOCKS_NAME	255
#define NYM_SOCKS_USER	255
/* A .well-known/i2pmail.key response, headers included: 16 KB, many
 * times a real one (a destination is under 1 KB). */
#define NYM_HTTP_MAX	16384
/* The longest cache lifetime a .well-known max-age may ask for: 30
 * days. */
#define NYM_MAXAGE_CAP	(30L * 86400)
/* A binary destination or private key blob: 4 KB (I2P's are < 1 KB
 * plus certificate). */
#define NYM_DEST_MAX	4096
/* A SAM line either way, LF included: four protocol lines. */
#define NYM_SAM_LINE	((size_t)NYM_LINE_MAX * 4)
/* The longest destination or key blob in base64. */
#define NYM_SAM_DESTCHARS ((size_t)NYM_DEST_MAX / 3 * 4 + 4)
/* KEY=VALUE tokens in one SAM reply, and options in SESSION CREATE. */
#define NYM_SAM_PAIRS	128
#define NYM_SAM_OPTS	64
/* A request to a session lender: "CONNECT " and a destination. */
#define NYM_SAMSHARE_REQ 8192
/* Session sharing defaults (config keys sam-fresh, sam-linger, sam-gap,
 * sam-probe): seconds a session is kept whatever borrowers report (at
 * most one new session a minute for a peer that is down); idle seconds
 * before it closes; seconds between two sessions of one key (i2pd
 * crashes on quicker ones, DESIGN); idle seconds before the bridge is
 * asked whether it is there. */
#define NYM_SAM_FRESH	60
#define NYM_SAM_LINGER	600
#define NYM_SAM_GAP	10
/* Seconds a session outlives its last stream (at most the gap). */
#define NYM_SAM_KEEP	3
#define NYM_SAM_PROBE	60
/* KEY.log is moved to KEY.log.old when it reaches 64 KB. */
#define NYM_SAM_LOGMAX	65536

/* ---- SMTP (smtp.c, smtp-receive, sam-deliver, smtp-submit) ---- */
/* A command line with its CRLF: 512, RFC 5321 4.5.3.1.4; a protocol
 * constant, no option. */
#define NYM_SMTP_LINE	512
/* A reply line the clients accept: 2048 (512 is the rule; be lenient,
 * but bounded). */
#define NYM_SMTP_REPLYLINE 2048
/* Lines of one reply: 100, many times any real EHLO reply. */
#define NYM_SMTP_REPLYLINES 100
/* Reply text kept, lines joined: 8 KB, for diagnostics. */
#define NYM_SMTP_TEXT	8192
/* A path with its angle brackets (RFC 5321 4.5.3.1.3), a local part
 * (4.5.3.1.1) and a domain (4.5.3.1.2): protocol constants. */
#define NYM_SMTP_PATH	256
#define NYM_SMTP_LOCAL	64
#define NYM_SMTP_DOMAIN	255
/* Recipients of one message: 100, the minimum RFC 5321 4.5.3.1.8 asks
 * servers to take. */
#define NYM_SMTP_RCPTS	100
/* A SASL response line: 12288 (RFC 4954 4). */
#define NYM_SMTP_AUTHLINE 12288
/* Bytes of a too long line read past before hanging up: 64 KB. */
#define NYM_SMTP_SKIP	65536
/* Default message size limit (smtp-receive -s): 50 MB, postman's. */
#define NYM_SMTP_SIZE	52428800
/* Largest -s: 4 GB, so a size always fits the counters. */
#define NYM_SMTPD_SIZE_MAX 4294967296ULL
/* Default seconds a whole session may take (-T): an hour. */
#define NYM_SMTP_SESSION 3600
/* Bytes/s a transfer must average after its first timeout's worth, as
 * Postfix's smtpd_min_data_rate: 500. */
#define NYM_MIN_RATE	500
/* SMTP sessions a deliverer keeps open at once in a batch (sam-deliver,
 * onion-deliver -B: one per destination, the least recently used
 * closed for a new one): 16. */
#define NYM_DL_SESSIONS	16
/* A line of a deliverer's batch, "FILE RECIPIENT...": 16 KB. */
#define NYM_DL_BATCHLINE (NYM_LINE_MAX * 4)
/* A client session's writer buffer: 64 KB. */
#define NYM_SMTP_IOBUF	65536
/* smtp-receive's buffers: commands and DATA in, replies out. */
#define NYM_SMTPD_INBUF	65536
#define NYM_SMTPD_OUTBUF 4096
#define NYM_SMTPD_DATABUF 65536
/* smtp-receive hangs up after 20 errors and after 3 failed logins of
 * one connection (Postfix's smtpd_hard_error_limit is 20). */
#define NYM_SMTPD_ERRORS 20
#define NYM_SMTPD_AUTHFAIL 3
/* smtp-receive -l domains, and lines of the -u file. */
#define NYM_SMTPD_DOMAINS 64
#define NYM_SMTPD_USERS	10000
/* Default milliseconds for the resolver per sender domain, and for the
 * delivery command per recipient (or -t, 2 * -t). */
#define NYM_SMTPD_RESOLVE_MS 120000
#define NYM_SMTPD_DELIVER_MS 300000
/* A line server's last words (linesrv.c: smtp-receive, pop-serve): a
 * client that does not read them holds it at most 5 s. */
#define NYM_LINESRV_BYE_MS 5000

/* ---- TLS (tls.c: STARTTLS, smtp-receive -C/-K) ---- */
/* A PEM private key file, at most: an RSA-8192 key is under 7 KiB. */
#define NYM_TLS_KEYFILE_MAX 65536
/* The shortest certificate pin an address may give: 32 base32
 * characters, 160 bits of the key's SHA-256 (tls.h). */
#define NYM_TLS_PINMIN	32

/* ---- POP3 (pop3.c, popd.c, pop-fetch, pop-serve) ---- */
/* A status or list line with its CRLF: 512 (RFC 2449). */
#define NYM_POP3_LINE	512
/* A unique-id: 1..70 bytes (RFC 1939 7); a protocol constant. */
#define NYM_POP3_UIDL	70
/* Bytes of a too long status line read past before giving up: 64 KB. */
#define NYM_POP3_SKIP	65536
/* The longest UIDL or LIST listing pop-fetch takes (pop-serve serves at
 * most NYM_POPD_MSGS): past it the server is broken or hostile. */
#define NYM_POP3_LISTMAX 100000
/* The longest a whole pop-fetch session may last by default (-W). */
#define NYM_POP3_SESSION 3600
/* pop-serve: a command or SASL response line with its CRLF (RFC 2449
 * asks for 255 at least), a user name, a password, messages of one
 * maildrop served, a maildir file name, a line of the size index. */
#define NYM_POPD_LINE	2048
#define NYM_POPD_USER	255
#define NYM_POPD_PASS	NYM_PASS_MAX
#define NYM_POPD_MSGS	100000
#define NYM_POPD_NAME	255
#define NYM_POPD_INDEXLINE (NYM_POPD_NAME + 128)
#define NYM_POPD_INDEXMAX ((size_t)NYM_POPD_MSGS * NYM_POPD_INDEXLINE)
/* Default seconds a whole pop-serve session may take (-T,
 * pop-session-time): an hour, as smtp-receive; one session holds the
 * maildir's lock, so a client that keeps it busy must not keep it. */
#define NYM_POPD_SESSION 3600
/* pop-serve hangs up after 3 failed logins and 20 protocol errors. */
#define NYM_POPD_AUTHFAIL 3
#define NYM_POPD_ERRORS	20
/* pop-serve's buffers: the command reader, a sealed file, the output. */
#define NYM_POPD_CMDBUF	16384
#define NYM_POPD_FILEBUF ((size_t)2 * (NYM_SEAL_CHUNK + NYM_SEAL_OVER))
#define NYM_POPD_OUTBUF	65536
/* Failed logins remembered across connections (-F max is at most it). */
#define NYM_AUTHFAIL_SLOTS 64
/* pop-fetch: the state file read at most (100,000 messages with 70-byte
 * uids take 25 MB of P and D lines), DELEs pipelined, RETRs in flight,
 * replies unread, and a maildir batch made durable at 64 messages, 8 MB
 * or 2 s. */
#define NYM_POPF_STATE_MAX 67108864
#define NYM_POPF_DELE_AHEAD 64
#define NYM_POPF_RETR_AHEAD 8
#define NYM_POPF_PEND_MAX 1024
#define NYM_POPF_BATCH_MAX 64
#define NYM_POPF_BATCH_BYTES 8388608
#define NYM_POPF_BATCH_MS 2000

/* ---- the delay queue (queue.c, delay-queue, queue-run) ---- */
/* One message: 50 MB, postman's limit. */
#define NYM_QUEUE_SIZE	52428800
/* Recipients of one message, words of the delivery command. */
#define NYM_QUEUE_RCPTS	1000
#define NYM_QUEUE_ARGS	64
/* One state record: 1 MB (1000 recipients with their diagnostics). */
#define NYM_QUEUE_REC	1048576
/* A diagnostic kept in a record: 400 bytes. */
#define NYM_QUEUE_ERR	400
/* Age of leftovers removed: 36 h. */
#define NYM_QUEUE_STALE	129600
/* queue-run: the command's last words kept, its stderr tail read. */
#define NYM_QRUN_DIAG	2048
#define NYM_QRUN_ERRTAIL (2 * NYM_QUEUE_ERR)
/* queue-run -d waits this long for a run (ms); deletions are synced
 * this often (ms). */
#define NYM_QRUN_LOCK_MS 30000
#define NYM_QRUN_SYNC_MS 1000
/* The highest -j and -J, and messages waiting for their destination. */
#define NYM_QRUN_JOBS_MAX 1000
#define NYM_QRUN_PEND_MAX 4096
/* queue-run: messages handed to a deliverer -B process ahead of its
 * reports (each an unnamed copy in the queue's tmp/, its descriptor in
 * the socket or the deliverer until reported; a batch has no limit on
 * its messages in all): 16; and the bytes of each of its output lines
 * read (its message's ID and code; a warning to keep). */
#define NYM_QRUN_AHEAD	16
#define NYM_QRUN_LINE	(NYM_QUEUE_ERR + 64)
/* queue-run: messages re-stamped in one run after their server asked
 * for more work (queue-run(1), STAMPS): 64, all of them within -T; one
 * deferred past that is re-stamped at its next deferral. */
#define NYM_QRUN_RESTAMP 64

/* ---- onion sender signatures: DKIM with ed25519-sha256 (dkim.c) ---- */
/* The header section a signer or verifier holds while the body streams
 * past: NYM_HDR_MAX, as every other reader of headers; over it the
 * message is refused (a verifier: too big to check), never cut. */
#define NYM_DKIM_HDR_MAX NYM_HDR_MAX
/* DKIM-Signature fields looked at in one message: 8.  One is ours; a
 * few more (a list, an earlier hop) are normal; more are a cost an
 * attacker chooses (each may demand a header hash and a signature
 * check), so those past the 8th are ignored. */
#define NYM_DKIM_SIGS_MAX 8
/* One DKIM-Signature field, folds included: 8 KB.  Ours is under 1 KB;
 * a longer one is malformed. */
#define NYM_DKIM_SIG_MAX 8192
/* Tags in one tag list: 32 (RFC 6376 defines 14). */
#define NYM_DKIM_TAGS_MAX 32
/* Names in one h= list: 128.  We sign 14 names, each once more than it
 * occurs; the bound caps the header fields one signature makes us hash. */
#define NYM_DKIM_HNAMES_MAX 128
/* The canonical body is hashed from a buffer of this size: 64 KB. */
#define NYM_DKIM_BUF	65536

/* ---- proof-of-work stamps (pow.c, powdb.c, pow-stamp) ---- */
/* One stamp: 1 KB.  hashcash's are under 100 bytes for an address; the
 * bound caps what a check hashes and what a database record covers. */
#define NYM_POW_STAMP_MAX 1024
/* A resource (a recipient address) minted for or demanded: 320 bytes,
 * an RFC 5321 path with room to spare. */
#define NYM_POW_RES_MAX	320
/* Bits pow-stamp -m mints at most: 40 (days of one core; hashcash's
 * default is 20, about a tenth of a second here); -b when checking may
 * ask up to the 160 bits of SHA-1. */
#define NYM_POW_MINT_BITS 40
#define NYM_POW_BITS_MAX 160
/* -e: a stamp's validity, at most 10 years (the database keeps expiry
 * times as 32-bit seconds); -g: the grace for clock skew, at most 1
 * year. */
#define NYM_POW_VALIDITY_MAX (10L * 366 * 86400)
#define NYM_POW_GRACE_MAX (366L * 86400)
/* Stamps one pow-stamp -c looks at (arguments and X-Hashcash fields),
 * and resources one -m mints for: 100; the rest are ignored (a check)
 * or a usage error (minting). */
#define NYM_POW_STAMPS_MAX 100
/* The double-spend database: a 4096-byte header page, then buckets of
 * NYM_POW_DB_BUCKET 16-byte records, one page each.  Created at
 * NYM_POW_DB_SIZE, 32 MB: 8191 buckets, 2,096,896 records; a bucket
 * fills (and refuses its next stamp, exit 75, until one expires) near
 * 1.5 million unexpired stamps.  -s chooses another size when the file
 * is made, from NYM_POW_DB_MIN (one bucket: 256 stamps) to
 * NYM_POW_DB_MAX (1 GB). */
#define NYM_POW_DB_PAGE	4096
#define NYM_POW_DB_BUCKET 256
#define NYM_POW_DB_SIZE	((uint64_t)32 << 20)
#define NYM_POW_DB_MIN	((uint64_t)2 * NYM_POW_DB_PAGE)
#define NYM_POW_DB_MAX	((uint64_t)1 << 30)
/* A check waits this long (ms) for its bucket's lock, then exits 75. */
#define NYM_POW_DB_LOCK_MS 10000

/* Equihash stamps (kind E1, pow-stamp(1)): the parameter sets (n, k)
 * taken, as { n, k } pairs, and how many.  Measured here (README, "Spam
 * defence"): 96,5 solves in ~0.3 s a try with ~57 MB, 102,5 in twice
 * that with ~115 MB; both verify in under 10 us.  A set not listed is
 * a kind this version does not know (NYM_POW_UNKNOWN), never work to
 * do: each set fixes how much memory a check's solver would need. */
#define NYM_POW_E1_SETS	{ { 96, 5 }, { 102, 5 } }
#define NYM_POW_E1_NSETS 2
/* The largest solution of those sets: 4 bytes of the solver's nonce and
 * 2^k indices of n/(k+1)+1 bits, 76 bytes at 102,5. */
#define NYM_POW_E1_SOL_MAX 76
/* Extra bits of an E1 stamp (leading zero bits of a hash over it, each
 * doubling the solves): 16 demanded at most, 12 minted (some 4,096
 * solves, about half an hour of one core here). */
#define NYM_POW_E1_BITS_MAX 16
#define NYM_POW_E1_MINT_BITS 12
/* The nonce field of an E1 stamp: 1 to 32 characters. */
#define NYM_POW_NONCE_MAX 32
/* A demand (pow-stamp -D, the string a receiver publishes): 480 bytes,
 * so that it fits whole in one SMTP reply line (512 with its CRLF) after
 * smtp-receive's "250-X-STAMP " or "550 5.7.1 X-Hashcash "; 8 items
 * (kinds, or sets of one kind) and 4 steps in one item's schedule; a
 * deprecated kind's surcharge at most 32 bits. */
#define NYM_POW_DEMAND_MAX 480
#define NYM_POW_DEMAND_ITEMS_MAX 8
#define NYM_POW_DEMAND_STEPS_MAX 4
#define NYM_POW_SURCHARGE_MAX 32
/* A domain whose demand is kept (~/.config/nymbox/demands/DOMAIN): a DNS
 * name's length; an address's (demands/LOCAL@DOMAIN, a recipient's own,
 * from a reply that stated it) has a local part of 64 bytes at most. */
#define NYM_DEMAND_DOMAIN_MAX 253
#define NYM_DEMAND_LOCAL_MAX 64
/* A kept demand older than this (its file's time, by the clock) is
 * stale: not used, and removed when read: 30 days.  A server that
 * lowered or dropped its demand stops costing its senders then at the
 * latest; a demand seen again is kept fresh (its file's time renewed
 * once a day, NYM_DEMAND_REFRESH).  And at most NYM_DEMAND_FILES files
 * are kept: a new one past that removes the stale ones, then the oldest. */
#define NYM_DEMAND_AGE	(30L * 86400)
#define NYM_DEMAND_REFRESH 86400L
#define NYM_DEMAND_FILES 1000
/* pow-stamp -m -t: the deadline of one run's minting, at most a day;
 * 600 seconds unless given. */
#define NYM_POW_MINT_SECONDS_MAX 86400
#define NYM_POW_MINT_SECONDS 600

/* ---- sender lists (senders.c, sender-list, smtp-receive) ---- */
/* One list file: 1 MB, some 30,000 entries, far more than a person keeps
 * by hand; smtp-receive reads a recipient's list at every RCPT, so the
 * bound is also what one RCPT may cost. */
#define NYM_SENDERS_MAX	1048576
/* One line of it: 512 bytes, a verb and a 256-byte address with room
 * for blanks; a longer line is a bad entry (reported, skipped). */
#define NYM_SENDERS_LINE 512
/* Entries of one list: 65536 (1 MB of the shortest entries). */
#define NYM_SENDERS_ENTRIES 65536
/* An update waits this long (ms) for the list's lock: 10 s. */
#define NYM_SENDERS_LOCK_MS 10000

#endif
