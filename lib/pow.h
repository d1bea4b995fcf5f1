/*
 * pow.h - libnymbox, proof-of-work stamps and the double-spend database
 * (pow-stamp(1)).
 *
 * A stamp is text whose first field, up to the first colon, names its
 * kind: "1" is hashcash version 1 (1:bits:date:resource:ext:rand:counter,
 * SHA-1), byte for byte what Debian's hashcash(1) mints and checks;
 * "E1" is Equihash, version 1 of our format
 * (E1:n:k:bits:date:resource:nonce:solution, libequihash).  A kind this
 * library does not know, or an Equihash parameter set it does not take,
 * is reported as such (NYM_POW_UNKNOWN), never as malformed, so that a
 * later kind slots in beside these.
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
	NYM_POW_SPENT,		/* in the double-spend database already */
	NYM_POW_UNWANTED	/* a kind (or set) the demand does not ask */
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
/* Parse the hashcash stamp s[0, n) and count its value (one SHA-1,
 * libgcrypt).  NYM_POW_OK, NYM_POW_UNKNOWN (any other kind, E1 too) or
 * NYM_POW_MALFORMED (also past NYM_POW_STAMP_MAX bytes); -1 with errno
 * if libgcrypt cannot be used. */
int nym_pow_parse(const char *s, size_t n, time_t now,
    struct nym_pow_stamp *st);
/* Check s[0, n) against the policy at time now, cheap tests first
 * (resource, date, then the hash).  A verdict (never NYM_POW_SPENT), or
 * -1 with errno.  *until (if not NULL) gets the time after which it
 * would be expired, for the database.  p->bits is for hashcash; an E1
 * stamp is taken at any set of NYM_POW_E1_SETS with no extra bits (the
 * demand "1:BITS E1:96,5:0 E1:102,5:0"; nym_pow_check_demand says
 * more). */
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

/* ---- pow.c: Equihash stamps (kind E1) and demands ----
 * E1:n:k:bits:date:resource:nonce:solution.  The solution is base64
 * (A-Za-z0-9+/, no padding) of libequihash's: the solver's 4-byte nonce
 * and 2^k indices of n/(k+1)+1 bits, which here must be strictly
 * increasing, so that one solution has one text (libequihash's verify
 * takes any order and repeated indices).  The puzzle's seed is BLAKE2b
 * of everything before the solution, so a solution is worth nothing
 * moved to another resource, date, nonce or parameter set.  bits is
 * extra work: BLAKE2b of the whole stamp must begin with that many zero
 * bits, each bit doubling the solves a sender makes (0: one solve). */

/* Kinds a demand names. */
enum { NYM_POW_HASHCASH = 1, NYM_POW_EQUIHASH = 2 };

/* One kind in a demand: its parameters (Equihash), a schedule of bits
 * (bits[i] for stamps dated from from[i] on; from[0] is 0) and, for a
 * deprecated kind, a surcharge added to every step. */
struct nym_pow_want {
	int kind;
	unsigned n, k;
	int deprecated;
	unsigned surcharge;
	unsigned nsteps;
	time_t from[NYM_POW_DEMAND_STEPS_MAX];
	unsigned bits[NYM_POW_DEMAND_STEPS_MAX];
};

/* What a receiver demands (pow-stamp(1), DEMAND): the kinds it takes,
 * and how long a stamp is good for (parse sets 28 days and a grace of 2
 * days; validity 0: forever).  unknown counts the items of kinds this
 * version does not know, which are skipped. */
struct nym_pow_demand {
	unsigned nwant, unknown;
	struct nym_pow_want want[NYM_POW_DEMAND_ITEMS_MAX];
	long validity, grace;
};

/* The demand pow-stamp and a receiver use unless told otherwise:
 * Equihash at 96,5 with no extra bits, or hashcash v1, deprecated, at
 * 20 bits and 4 more (pow-stamp(1), README "Spam defence"). */
#define NYM_POW_DEMAND_DEFAULT	"E1:96,5:0 1:20+4"

/* Parse a demand (pow-stamp(1), DEMAND): items "KIND:SPEC[+SURCHARGE]"
 * separated by white space, "1:BITS" and "E1:N,K:BITS", BITS a schedule
 * "B0>B1@YYYY-MM-DD>..."; an item of another kind is counted in unknown
 * and skipped.  0, or -1 (EINVAL: malformed, over a limit, or empty). */
int nym_pow_demand_parse(const char *text, struct nym_pow_demand *d);
/* The bits w demands of a stamp dated date: its schedule's step for
 * that date, plus the surcharge. */
unsigned nym_pow_want_bits(const struct nym_pow_want *w, time_t date);
/* The item of d a sender should mint at time now: of kind (0: any) the
 * cheapest by this machine's figures (hashcash's SHA-1 tries against
 * Equihash solves), a kind not deprecated before one that is at the
 * same cost.  Its index, or -1 if d has none of that kind. */
int nym_pow_demand_pick(const struct nym_pow_demand *d, int kind,
    time_t now);
/* Check s[0, n) against demand d for resource (NULL: any) at time now,
 * the cheap tests first (form, resource, date, bits claimed against the
 * demand), then the hash or the Equihash verification.  A verdict (never
 * NYM_POW_SPENT), or -1 with errno; *until as nym_pow_check's. */
int nym_pow_check_demand(const char *s, size_t n,
    const struct nym_pow_demand *d, const char *resource, time_t now,
    time_t *until);
/* Mint an E1 stamp of set (n, k) and bits extra bits for resource dated
 * now (YYMMDD, UTC) into out (cap bytes, NUL ended): solves with fresh
 * nonces until one's stamp meets bits.  progress (if not NULL) is called
 * with arg and the solves so far after each; deadline (nym_now_ms; 0:
 * none) is looked at between solves, each some tenths of a second.
 * *solves (if not NULL) gets the number made.  0, or -1 with errno
 * (EINVAL: set, bits or resource unusable; ENAMETOOLONG: over cap;
 * ETIMEDOUT: the deadline passed; EAGAIN: the solver found nothing). */
int nym_pow_mint_e1(const char *resource, unsigned n, unsigned k,
    unsigned bits, time_t now, long long deadline,
    void (*progress)(void *, uint64_t), void *arg, char *out, size_t cap,
    uint64_t *solves);

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
