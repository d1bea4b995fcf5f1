/*
 * seal.h - libnymbox, mail encrypted at rest.
 *
 * Conventions: base.h.
 */
#ifndef NYM_SEAL_H
#define NYM_SEAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

/* ---- seal.c: mail encrypted at rest ---- */
/* libgcrypt set up for use, once, on first need (no secure memory).  0,
 * or -1 if the library cannot be used. */
int nym_gcry_ready(void);

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

#endif
