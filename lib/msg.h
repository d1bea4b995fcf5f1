/*
 * msg.h - libnymbox, RFC 5322 messages: header sections, addresses,
 * dates, encodings.
 *
 * Conventions: base.h.
 */
#ifndef NYM_MSG_H
#define NYM_MSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "base.h"

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
/* The resource of a proof-of-work stamp s[0, n), the value of an
 * X-Hashcash field ("1:bits:date:RESOURCE:..." or
 * "E1:n:k:bits:date:RESOURCE:..."): a pointer into s, its length in
 * *len; NULL if the stamp has no such field (not checked otherwise). */
const char *nym_hdr_stampres(const char *s, size_t n, size_t *len);
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
/* Decode n characters of RFC 4648 base32 (either case, no padding, no
 * spaces) into out, at most cap bytes.  The bytes written, or -1 with
 * errno EINVAL (a character outside the alphabet, or leftover bits that
 * are not zero) or ENOBUFS (more than cap bytes). */
ssize_t nym_unbase32(const char *in, size_t n, unsigned char *out,
    size_t cap);
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
 * eol ("\n" or "\r\n"), a line's leading "From " as "=46rom " (else it
 * would start a message in an mbox).  Returns the length, or the needed
 * size if out is NULL; no NUL is written or counted. */
size_t nym_qp(const char *in, size_t n, char *out, const char *eol);
/* Unflow format=flowed text (RFC 3676) in[0, n) into out (n bytes
 * suffice; out may not be in): a line's quote marks counted, its
 * stuffing space (after them) removed; a line that then ends in a space
 * (a soft break; "-- " is none) is joined to the next line of the same
 * quote depth, delsp deleting that space.  A change of quote depth or a
 * "-- " line is a hard break.  A joined quoted line keeps its first
 * line's prefix (quote marks and stuffing space as written), and each
 * joined line the line end of its last line.  Returns the length. */
size_t nym_unflow(const char *in, size_t n, char *out, int delsp);

/* ---- rfc2047.c / rfc2231: encoded words and MIME parameters ---- */
/* Decode RFC 2047 encoded words in s into out (cap bytes, NUL ended),
 * leaving charsets alone (bytes are copied as decoded).  Broken words are
 * kept literally.  *charset, if not NULL, gets the first word's charset
 * (in a static buffer).  Returns the length or -1 E2BIG. */
ssize_t nym_rfc2047_decode(const char *s, size_t n, char *out, size_t cap,
    const char **charset);
/* Re-encode the encoded words of s (n bytes) that are in a charset other
 * than UTF-8 and US-ASCII as UTF-8 words, "=?utf-8?B?...?=" (iconv);
 * the rest, and words that cannot be converted, copied.  Into out (cap
 * bytes, NUL ended; 5 * n + 64 is enough); with out NULL only counts
 * the legacy words into *changed.  *changed: words re-encoded, *left:
 * legacy words kept.  The length, or -1 E2BIG or ENOMEM. */
ssize_t nym_rfc2047_utf8(const char *s, size_t n, char *out, size_t cap,
    int *changed, int *left);
/* The canonical rendering of header text s (n bytes: an unstructured
 * value, or with phrase a display name as the address parser gives it),
 * decoded and encoded again by one rule: pure ASCII is written as it
 * decodes, with no encoded words; else the words from the first that
 * needs encoding (a byte outside printable ASCII, or text that reads as
 * an encoded word) to the last, or with phrase the whole name, become
 * "=?utf-8?B?...?=" words of at most 45 bytes (72 characters) each, cut
 * between UTF-8 characters, one space between them; but a word that
 * starts the text carries at most first bytes (0: 45), so that it fits
 * on the field's first line.  Legacy charsets
 * are made UTF-8 (counted in *legacy).  A new string (free it), *len
 * its length; NULL with *left set if s holds a broken encoded word, one
 * that cannot be made UTF-8, or text that is not UTF-8 (EILSEQ), or
 * ENOMEM. */
char *nym_rfc2047_canon(const char *s, size_t n, int phrase, size_t first,
    size_t *len, int *legacy, int *left);
/* Convert n bytes of text in charset cs to UTF-8 into out (cap bytes, NUL
 * ended).  The length, or -1 if the charset is unknown or the text is
 * not all valid in it, or out is short. */
ssize_t nym_iconv_utf8(const char *cs, const char *in, size_t n, char *out,
    size_t cap);

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

/* ---- senders.c: a recipient's allow and deny lists (sender-list(1)) ---- */
/* A text file of lines "allow PATTERN" or "deny PATTERN", and at most one
 * "demand DEMAND" (the stamp the recipient demands of senders not
 * allowed, pow-stamp(1)'s DEMAND, instead of the server's), blank lines
 * and lines starting with '#' ignored, a CR before the LF allowed.  PATTERN
 * is an address (local@domain) or "*@domain", every address at that
 * domain exactly (not its subdomains, as OnionMail).  Compared without
 * regard to ASCII case; an onion address's certificate pin label
 * (local@pin.<56>.onion, SMTorP) is dropped first.  The verdict of an
 * address: its exact entry if any, else its domain's; deny wins between
 * two of the same kind. */
enum nym_senders_verdict {
	NYM_SENDERS_NONE = 0,	/* not listed */
	NYM_SENDERS_ALLOW,
	NYM_SENDERS_DENY
};

struct nym_senders_entry {
	int verdict;		/* NYM_SENDERS_ALLOW or NYM_SENDERS_DENY */
	char *pat;		/* normalized, NUL ended, into the list's buf */
	unsigned line;		/* 1-based line of the file */
};

struct nym_senders {
	char *buf;		/* the file's bytes, patterns rewritten in place */
	size_t len;
	struct nym_senders_entry *e;
	size_t n;
	unsigned bad;		/* lines that were not entries */
	char *demand;		/* the "demand" line's demand, or NULL */
};

/* Called for a line that is not an entry (over NYM_SENDERS_LINE, a NUL
 * byte, an unknown verb, a bad pattern): its number and why. */
typedef void (*nym_senders_badline)(void *arg, unsigned line,
    const char *why);

/* The pattern s[0, n) normalized into out (cap bytes, NUL ended): lower
 * case, a trailing dot of the domain and an onion's pin label dropped.
 * 0, or -1 with errno (EINVAL: not an address or *@domain; a static
 * reason in *why if why is not NULL; ENAMETOOLONG: over cap). */
int nym_senders_norm(const char *s, size_t n, char *out, size_t cap,
    const char **why);
/* Parse the n bytes at buf (at most NYM_SENDERS_MAX, copied) into l,
 * reporting each bad line to bad (if not NULL) and counting it.  0, or
 * -1 with errno (EFBIG over the limit, ENOMEM); l is empty then. */
int nym_senders_parse(struct nym_senders *l, const void *buf, size_t n,
    nym_senders_badline bad, void *arg);
/* Read and parse the file at path; a missing file is an empty list.  0,
 * or -1 with errno (EFBIG, read errors). */
int nym_senders_read(struct nym_senders *l, const char *path,
    nym_senders_badline bad, void *arg);
void nym_senders_free(struct nym_senders *l);
/* The verdict of the address addr (local@domain, any case) by l. */
int nym_senders_match(const struct nym_senders *l, const char *addr);
/* Set the entry of the pattern pat in the file at path to verdict
 * (NYM_SENDERS_ALLOW or NYM_SENDERS_DENY), or remove it
 * (NYM_SENDERS_NONE).  Every other line is kept byte for byte, bad ones
 * too; a new entry goes at the end.  Under an exclusive lock on the file,
 * the new contents written beside it (mode 0600), synced and renamed
 * over it, so that readers see the old list or the new one and two
 * updates at once both land; the directory is made (0700) if missing.
 * 1 changed, 0 it was so already, -1 with errno (EINVAL: bad pattern;
 * EFBIG: the file would pass NYM_SENDERS_MAX or NYM_SENDERS_ENTRIES). */
int nym_senders_set(const char *path, const char *pat, int verdict);
/* Set the demand line of the list at path to "demand DEMAND" (in the
 * place of the first, others removed), or remove it (demand NULL), as
 * nym_senders_set does an entry.  1 changed, 0 it was so, -1 with errno
 * (EINVAL: not a demand's form, nym_senders_isdemand; EFBIG). */
int nym_senders_setdemand(const char *path, const char *demand);
/* Has s[0, n) a demand's form: 1..NYM_POW_DEMAND_MAX bytes of the
 * characters pow-stamp(1)'s DEMAND is written in, no blank first or
 * last?  Only the form: smtp-receive parses it (lib/pow.c).  1 or 0. */
int nym_senders_isdemand(const char *s, size_t n);
/* The list file of the recipient rcpt under dir into buf (cap bytes):
 * dir/ADDRESS if that file exists, else dir/LOCALPART (one list for
 * every local domain), both lower case; with exact, dir/RCPT as given
 * (lower case) whether it exists or not.  0, or -1 with errno (EINVAL:
 * rcpt empty, with a '/' or starting with '.'; ENAMETOOLONG). */
int nym_senders_path(char *buf, size_t cap, const char *dir,
    const char *rcpt, int exact);

#endif
