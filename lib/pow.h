/*
 * pow.h - libnymbox, proof-of-work stamps and the double-spend database
 * (pow-stamp(1)).
 *
 * A stamp is text whose first field, up to the first colon, names its
 * kind: "1" is hashcash version 1 (1:bits:date:resource:ext:rand:counter,
 * SHA-1), byte for byte what Debian's hashcash(1) mints and checks.  A
 * kind this library does not know is reported as such (NYM_POW_UNKNOWN),
 * never as malformed, so that a later kind slots in beside it.
 *
 * Conventions: base.h.
 */
#ifndef NYM_POW_H
#define NYM_POW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "limits.h"

/* ---- pow.c: stamps ---- */
/* What a check found, best first. */
enum nym_pow_verdict {
	NYM_POW_OK = 0,		/* valid (and, with a database, unspent) */
	NYM_POW_UNKNOWN,	/* a kind this version does not know */
	NYM_POW_MALFORMED,	/* not a stamp of its kind */
	NYM_POW_RESOURCE,	/* minted for another resource */
	NYM_POW_FUTURE,		/* dated beyond now and the grace period */
	NYM_POW_EXPIRED,	/* older than its validity and the grace */
	NYM_POW_BITS,		/* less work than demanded */
	NYM_POW_SPENT		/* in the double-spend database already */
};

/* What the receiver demands.  resource NULL: any (hashcash's
 * "unchecked"); validity 0: forever. */
struct nym_pow_policy {
	const char *resource;
	unsigned bits;		/* at least this value (hashcash -b) */
	long validity;		/* seconds after its date (-e; 28 days) */
	long grace;		/* clock skew allowed each way (-g; 2 days) */
};

/* A parsed hashcash v1 stamp; pointers into the text checked. */
struct nym_pow_stamp {
	unsigned claimed;	/* the bits field */
	time_t date;		/* its date field, UTC */
	const char *res;	/* the resource field, not NUL ended */
	size_t reslen;
	unsigned value;		/* leading zero bits of its SHA-1, or 0 if
				   fewer than claimed (hashcash's rule) */
};

/* The kind of stamp s[0, n) (its first field) into kind (cap bytes, NUL
 * ended, cut short if longer, non-printing bytes as '?'), for a message. */
void nym_pow_kind(const char *s, size_t n, char *kind, size_t cap);
/* A date field as hashcash reads it: YY, YYMM, YYMMDD, YYMMDDhh,
 * YYMMDDhhmm or YYMMDDhhmmss, UTC, the two-digit year taken within 50
 * years of now's, every field past its range carried into the next as
 * mktime(3) does (month 00 is refused).  0, or -1 (EINVAL). */
int nym_pow_date(const char *s, size_t n, time_t now, time_t *t);
/* Parse the stamp s[0, n) and count its value (one SHA-1, libgcrypt).
 * NYM_POW_OK, NYM_POW_UNKNOWN or NYM_POW_MALFORMED (also past
 * NYM_POW_STAMP_MAX bytes); -1 with errno if libgcrypt cannot be used. */
int nym_pow_parse(const char *s, size_t n, time_t now,
    struct nym_pow_stamp *st);
/* Check s[0, n) against the policy at time now, cheap tests first
 * (resource, date, then the hash).  A verdict (never NYM_POW_SPENT), or
 * -1 with errno.  *until (if not NULL) gets the time after which it
 * would be expired, for the database. */
int nym_pow_check(const char *s, size_t n, const struct nym_pow_policy *p,
    time_t now, time_t *until);
/* The verdict in words ("expired", "spent already", ...). */
const char *nym_pow_why(int verdict);
/* Mint a hashcash v1 stamp of bits (0..NYM_POW_MINT_BITS) for resource
 * (lowercased, as hashcash mints) dated now (YYMMDD, UTC) into out (cap
 * bytes, NUL ended).  The search runs SHA-1 on the last block only, from
 * the state after the fixed prefix, the counter changed in place; the
 * stamp found is checked again with libgcrypt.  *tries (if not NULL)
 * gets the number of hashes tried.  0, or -1 with errno (EINVAL: bits or
 * resource unusable (empty, a colon, white space or a control byte, over
 * NYM_POW_RES_MAX); ENAMETOOLONG: over cap). */
int nym_pow_mint(const char *resource, unsigned bits, time_t now,
    char *out, size_t cap, uint64_t *tries);

/* ---- powdb.c: the double-spend database ---- */
/* A file of fixed-size records in buckets of one page (pow-stamp(1),
 * DATABASE): a stamp's bucket and tag are a keyed hash of it (the key
 * is random, made with the file, so nobody can aim stamps at one
 * bucket); a check reads one bucket under a lock on its bytes, never
 * the file.  Expired records are reused; a full bucket refuses. */
struct nym_powdb {
	int fd;
	uint32_t nbuckets;
	unsigned char key[32];
};

/* What nym_powdb_purge found. */
struct nym_powdb_stats {
	uint64_t live, expired, damaged, slots;
};

/* Open the database at path, creating it (0600, size bytes: a header
 * page and buckets, rounded down to whole ones, from NYM_POW_DB_MIN to
 * NYM_POW_DB_MAX) atomically if it does not exist; two processes
 * creating it at once both end up with the same file.  0, or -1 with
 * errno (EBADMSG: not a database of ours, or damaged: header, size). */
int nym_powdb_open(struct nym_powdb *db, const char *path, uint64_t size);
void nym_powdb_close(struct nym_powdb *db);
/* Record s[0, n) as spent until the time until.  Of several processes
 * spending the same stamp at once exactly one gets 0.  0 recorded now,
 * 1 spent already, -1 with errno (ENOSPC: its bucket holds
 * NYM_POW_DB_BUCKET unexpired stamps; ETIMEDOUT: the bucket's lock was
 * not had within NYM_POW_DB_LOCK_MS; EIO, ...). */
int nym_powdb_spend(struct nym_powdb *db, const char *s, size_t n,
    time_t until, time_t now);
/* Clear every expired or damaged record (a pass over the file, bucket by
 * bucket, each under its lock), counting them.  0 or -1 with errno. */
int nym_powdb_purge(struct nym_powdb *db, time_t now,
    struct nym_powdb_stats *st);

#endif
