/*
 * tor.h - libnymbox, the Tor layer: onion names.
 *
 * Conventions: base.h.
 */
#ifndef NYM_TOR_H
#define NYM_TOR_H

#include <stddef.h>

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

#endif
