/*
 * tor.h - libnymbox, the Tor layer: onion names.
 *
 * Conventions: base.h.
 */
#ifndef NYM_TOR_H
#define NYM_TOR_H

#include <stddef.h>
#include <stdint.h>

/* ---- onion.c: v3 onion addresses (rend-spec-v3, "Encoding onion
 * addresses": base32 of the Ed25519 public key, a 2-byte checksum and
 * the version 3) ---- */
#define NYM_ONION_CHARS	56		/* the base32 label */
#define NYM_ONION_NAME	(NYM_ONION_CHARS + sizeof ".onion")
#define NYM_ONION_LABEL	64		/* a DNS label and its NUL */

struct nym_onion {
	unsigned char pk[32];		/* the service's Ed25519 key */
	char name[NYM_ONION_NAME];	/* "<56>.onion", lower case */
	char label[NYM_ONION_LABEL];	/* the label before it, lower case
					   (SMTorP's certificate pin), or
					   "" */
};

/* Read domain, "[label.]<56 base32>.onion" (any case, a final dot
 * allowed), into o.  0, or -1 (o cleared) with *why saying what is wrong, in words
 * fit for a bounce: not an onion name, not a v3 one, a checksum that
 * does not match (a mistyped address), a version other than 3, or a key
 * that is no Ed25519 point Tor would accept. */
int nym_onion_parse(const char *domain, struct nym_onion *o,
    const char **why);
/* The onion name of public key pk into out ("<56>.onion").  0, or -1 if
 * libgcrypt (SHA3-256) cannot be used. */
int nym_onion_name(const unsigned char pk[32], char out[NYM_ONION_NAME]);

/* ---- onionkey.c: an onion service's key, in Tor's HiddenServiceDir
 * files (hs_ed25519_secret_key, hs_ed25519_public_key, hostname) ---- */
struct nym_onion_key {
	unsigned char sk[64];		/* expanded: clamped scalar, prefix */
	unsigned char pk[32];
	char name[NYM_ONION_NAME];	/* "<56>.onion" of pk */
};
/* Why a key directory could not be used, at most this long. */
#define NYM_ONION_WHY	300

/* Read the key of the HiddenServiceDir dir (Tor's or one made by
 * nym_onion_key_create).  The secret key file must be ours and readable
 * by nobody else, as every secret; the public key and hostname files,
 * where present, must name the same key.  0, or -1 with errno (ENOENT
 * no secret key file, EPERM its mode or owner, EINVAL malformed or not
 * matching) and why saying which file and what ("FILE: reason"); k is
 * wiped on failure. */
int nym_onion_key_load(const char *dir, struct nym_onion_key *k,
    char why[NYM_ONION_WHY]);
/* Make a new HiddenServiceDir dir (0700, files 0600) from a fresh
 * random seed, as Tor does, and return its key in k; the directories
 * above it are made where missing (0700).  The directory
 * appears whole or not at all (made beside it under a temporary name,
 * then renamed); an existing dir is never touched (EEXIST).  0 or -1
 * with errno. */
int nym_onion_key_create(const char *dir, struct nym_onion_key *k);
/* Wipe k. */
void nym_onion_key_wipe(struct nym_onion_key *k);

/* ---- dkim.c: onion sender signatures, DKIM (RFC 6376) with
 * a=ed25519-sha256 (RFC 8463) and c=relaxed/relaxed, where d= is the
 * sender's onion and the key is the onion address itself: no DNS, no
 * selector record (s= is NYM_DKIM_SELECTOR, and ignored when checking).
 * Streaming: the header section is held (up to NYM_DKIM_HDR_MAX), the
 * body is hashed as it passes, in constant memory. ---- */
#define NYM_DKIM_SELECTOR	"onion"
/* A verdict's reason, at most this long. */
#define NYM_DKIM_WHY	200

enum nym_dkim_result {
	NYM_DKIM_PASS = 0,	/* a valid signature by the expected onion */
	NYM_DKIM_NONE,		/* no DKIM-Signature field */
	NYM_DKIM_OTHER,		/* signatures, none by the expected onion */
	NYM_DKIM_FAIL,		/* one by it that does not verify, or is
				   malformed or of a kind we do not check */
	NYM_DKIM_TOOBIG,	/* header section over a limit */
	NYM_DKIM_ERROR		/* out of memory, a read error: errno */
};

struct nym_dkim;

/* A verifier for mail from onion (a "[label.]<56>.onion" domain; its
 * label, a certificate pin, is no part of the key), or a signer with key
 * k (which must outlive it).  NULL with errno (ENOMEM; EINVAL for an
 * onion that nym_onion_parse refuses). */
struct nym_dkim *nym_dkim_verifier(const char *onion);
/* A verifier for mail from domain (at most NYM_ONION_NAME - 1
 * characters) whose key is pk, however it was found (the tests: RFC
 * 8463's example). */
struct nym_dkim *nym_dkim_verifier_key(const char *domain,
    const unsigned char pk[32]);
struct nym_dkim *nym_dkim_signer(const struct nym_onion_key *k);
/* The message's next n bytes, in any pieces: header section, blank
 * line, body, as they arrive (LF or CRLF line ends; a server feeds DATA
 * after removing the dot-stuffing). */
void nym_dkim_feed(struct nym_dkim *d, const void *p, size_t n);
/* Verifier: the verdict, once every byte has been fed, with a reason in
 * words in why (empty for a pass). */
enum nym_dkim_result nym_dkim_verdict(struct nym_dkim *d,
    char why[NYM_DKIM_WHY]);
/* Signer: the DKIM-Signature field to put before the message, folded
 * with eol ("\n" or "\r\n") and ending in one, malloc'd into *field.
 * 0, or -1 with errno (EMSGSIZE: header section over a limit, or more
 * fields to sign than NYM_DKIM_HNAMES_MAX; EINVAL: the message begins
 * with white space, a continuation line that would continue the field;
 * ENOMEM). */
int nym_dkim_signature(struct nym_dkim *d, const char *eol, char **field);
void nym_dkim_free(struct nym_dkim *d);

/* Conveniences.  Sign the message in fd from its current offset to its
 * end (read with pread: the offset is left where it was, so the caller
 * sends the field and then the message), as nym_dkim_signature; EIO-like
 * errno from a failed read.  Verify what fd has to its end (consumed),
 * as nym_dkim_verdict. */
int nym_dkim_sign_fd(int fd, const struct nym_onion_key *k, const char *eol,
    char **field);
enum nym_dkim_result nym_dkim_verify_fd(int fd, const char *onion,
    char why[NYM_DKIM_WHY]);

#endif
