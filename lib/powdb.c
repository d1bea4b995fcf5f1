/*
 * powdb.c - the double-spend database of proof-of-work stamps.
 *
 * Why this shape.  hashcash(1) keeps spent stamps as lines of text and
 * reads the file through for every check; at a million stamps that is
 * tens of megabytes a message.  Here the file is a header page and then
 * buckets of one page (4096 bytes) each, NYM_POW_DB_BUCKET records of 16
 * bytes:
 *
 *	tag	8 bytes, the first half of a keyed BLAKE2b of the stamp
 *		(never all zero: an all-zero record is a free one)
 *	until	4 bytes, little endian: seconds since the epoch after
 *		which the stamp is expired anyway, so the record may go
 *	check	4 bytes of a keyed BLAKE2b of tag and until
 *
 * The other half of the stamp's hash picks its bucket.  The key is 32
 * random bytes in the header, made with the file (mode 0600): without it
 * nobody can aim many stamps at one bucket to fill it.  A check reads
 * its one bucket and writes at most one record, so its cost does not
 * depend on how many stamps the file holds.
 *
 * Concurrency: a writer takes an open-file-description lock (F_OFD_SETLK)
 * on its bucket's bytes, reads the bucket, writes its record and lets
 * go; so of several processes spending one stamp at once, one finds it
 * free and the others find its record.  Different buckets do not wait
 * for each other.  The lock dies with its holder, so a killed process
 * leaves nothing held.
 *
 * Crashes: a record is one pwrite(2) of 16 bytes at a 16-byte boundary
 * within one page, whole or not at all for a process killed at any
 * moment; the check field turns anything else (a torn sector after a
 * power cut, a stray write) into a damaged record, which is treated as
 * free, as is an expired one.  The file is created whole (its size
 * set, sparse, the header written and synced) under a temporary name
 * and linked into place, so no process ever sees half a header; a disk
 * that fills later fails a record's write (ENOSPC), nothing else.  A header that does not check, or a size that does not match
 * it, is EBADMSG: the caller says so, and the file is left alone.
 *
 * Size: fixed when the file is made.  Nothing is ever appended; when a
 * stamp's bucket holds only unexpired stamps, it is refused (ENOSPC)
 * until one of them expires: the file never grows, and a full bucket
 * never lets a spent stamp through.
 */
#define _GNU_SOURCE	/* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base.h"
#include "pow.h"

#define VERSION	1
#define RECLEN	16
#define HDRLEN	64

static const char magic[8] = "NYMPOWDB";	/* no NUL */

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
hdrcheck(const unsigned char *h, unsigned char out[8])
{
	nym_mac(h + 24, "nymbox pow-stamp database header", h, 56, out, 8);
}

static void
reccheck(const struct nym_powdb *db, const unsigned char *rec,
    unsigned char out[4])
{
	nym_mac(db->key, "nymbox pow-stamp record", rec, 12, out, 4);
}

static int
makefile(const char *path, uint64_t size)
{
	unsigned char h[NYM_POW_DB_PAGE];
	char dir[PATH_MAX];
	struct nym_afile a;
	const char *name;
	uint64_t nb;

	if (size < NYM_POW_DB_MIN || size > NYM_POW_DB_MAX) {
		errno = EINVAL;
		return -1;
	}
	nb = size / NYM_POW_DB_PAGE - 1;
	if ((name = nym_splitpath(path, dir, sizeof dir)) == NULL)
		return -1;
	if (*name == '\0') {
		errno = EISDIR;
		return -1;
	}
	memset(h, 0, sizeof h);
	memcpy(h, magic, sizeof magic);
	put32(h + 8, VERSION);
	put32(h + 12, RECLEN);
	put32(h + 16, NYM_POW_DB_BUCKET);
	put32(h + 20, (uint32_t)nb);
	nym_random(h + 24, 32);
	hdrcheck(h, h + 56);
	if (nym_afile_beside(&a, dir, name, 0600) == -1)
		return -1;
	if (ftruncate(a.fd, (off_t)((nb + 1) * NYM_POW_DB_PAGE)) == -1 ||
	    pwrite(a.fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
	    nym_afile_commit(&a, dir, name, NYM_ATOMIC_NOCLOBBER) == -1) {
		if (errno == EEXIST) {	/* another process made it first */
			nym_afile_abort(&a);
			errno = 0;
			return 0;
		}
		nym_afile_abort(&a);
		return -1;
	}
	nym_wipe(h, sizeof h);
	return 0;
}

int
nym_powdb_open(struct nym_powdb *db, const char *path, uint64_t size)
{
	unsigned char h[HDRLEN], c[8];
	struct stat st;
	int tries;

	db->fd = -1;
	for (tries = 0; tries < 2; tries++) {
		db->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (db->fd != -1 || errno != ENOENT || tries > 0)
			break;
		if (makefile(path, size) == -1)
			return -1;
	}
	if (db->fd == -1)
		return -1;
	if (fstat(db->fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EBADMSG;
		goto fail;
	}
	if (pread(db->fd, h, sizeof h, 0) != (ssize_t)sizeof h) {
		if (errno == 0 || errno == EINTR)
			errno = EBADMSG;
		goto fail;
	}
	hdrcheck(h, c);
	if (memcmp(h, magic, sizeof magic) != 0 || get32(h + 8) != VERSION ||
	    get32(h + 12) != RECLEN || get32(h + 16) != NYM_POW_DB_BUCKET ||
	    memcmp(c, h + 56, 8) != 0 || get32(h + 20) == 0 ||
	    (uint64_t)st.st_size != ((uint64_t)get32(h + 20) + 1) *
	    NYM_POW_DB_PAGE) {
		errno = EBADMSG;
		goto fail;
	}
	db->nbuckets = get32(h + 20);
	memcpy(db->key, h + 24, 32);
	nym_wipe(h, sizeof h);
	return 0;
fail:
	nym_wipe(h, sizeof h);
	close(db->fd);
	db->fd = -1;
	return -1;
}

void
nym_powdb_close(struct nym_powdb *db)
{
	if (db->fd != -1)
		close(db->fd);
	db->fd = -1;
	nym_wipe(db->key, sizeof db->key);
}

/* Lock (F_WRLCK) or unlock (F_UNLCK) bucket b, waiting for a lock at
 * most NYM_POW_DB_LOCK_MS. */
static int
lockb(struct nym_powdb *db, uint32_t b, short type)
{
	struct flock fl;
	long long end = nym_now_ms() + NYM_POW_DB_LOCK_MS;
	struct timespec ts = { 0, 100000 };

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)(b + 1) * NYM_POW_DB_PAGE;
	fl.l_len = NYM_POW_DB_PAGE;
	while (fcntl(db->fd, F_OFD_SETLK, &fl) == -1) {
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		if (nym_now_ms() >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 10000000)
			ts.tv_nsec *= 2;
	}
	return 0;
}

static int
readb(struct nym_powdb *db, uint32_t b, unsigned char *page)
{
	ssize_t r = pread(db->fd, page, NYM_POW_DB_PAGE,
	    (off_t)(b + 1) * NYM_POW_DB_PAGE);

	if (r == NYM_POW_DB_PAGE)
		return 0;
	if (r >= 0)
		errno = EBADMSG;	/* cut short under us */
	return -1;
}

enum { FREE, LIVE, EXPIRED, DAMAGED };

static const unsigned char zero[RECLEN];

static int
classify(const struct nym_powdb *db, const unsigned char *rec, time_t now)
{
	unsigned char c[4];

	if (memcmp(rec, zero, RECLEN) == 0)
		return FREE;
	reccheck(db, rec, c);
	if (memcmp(c, rec + 12, 4) != 0 || memcmp(rec, zero, 8) == 0)
		return DAMAGED;
	return (time_t)get32(rec + 8) <= now ? EXPIRED : LIVE;
}

int
nym_powdb_spend(struct nym_powdb *db, const char *s, size_t n, time_t until,
    time_t now)
{
	unsigned char hash[16], rec[RECLEN], page[NYM_POW_DB_PAGE];
	uint64_t pick = 0;
	uint32_t b;
	int i, k, slot = -1, ret = -1, e;

	nym_mac(db->key, "nymbox pow-stamp stamp", s, n, hash, sizeof hash);
	for (i = 0; i < 8; i++)
		pick = pick << 8 | hash[8 + i];
	b = (uint32_t)(pick % db->nbuckets);
	memcpy(rec, hash, 8);
	if (memcmp(rec, "\0\0\0\0\0\0\0\0", 8) == 0)
		rec[0] = 1;
	if (until > (time_t)UINT32_MAX)
		until = (time_t)UINT32_MAX;
	put32(rec + 8, (uint32_t)(until < 0 ? 0 : until));
	reccheck(db, rec, rec + 12);
	if (lockb(db, b, F_WRLCK) == -1)
		return -1;
	if (readb(db, b, page) == -1)
		goto out;
	/* One pass compares tags and notes the first free or expired
	 * record; only a record whose tag matches has its check computed
	 * (a damaged one is no spend).  A bucket with no room has a second
	 * pass that checks every record, for damaged ones to reuse. */
	for (i = 0; i < NYM_POW_DB_BUCKET; i++) {
		const unsigned char *r = page + (size_t)i * RECLEN;

		if (memcmp(r, rec, 8) == 0) {
			k = classify(db, r, now);
			/* A record of this stamp, expired or not, is a
			 * spend: only a later check that allows more (a
			 * longer -e) would find it expired. */
			if (k == LIVE || k == EXPIRED) {
				ret = 1;
				goto out;
			}
		}
		if (slot == -1 && (memcmp(r, zero, RECLEN) == 0 ||
		    (time_t)get32(r + 8) <= now))
			slot = i;
	}
	for (i = 0; slot == -1 && i < NYM_POW_DB_BUCKET; i++)
		if (classify(db, page + (size_t)i * RECLEN, now) != LIVE)
			slot = i;
	if (slot == -1) {
		errno = ENOSPC;
		goto out;
	}
	if (pwrite(db->fd, rec, RECLEN, (off_t)(b + 1) * NYM_POW_DB_PAGE +
	    (off_t)slot * RECLEN) != RECLEN) {
		if (errno == 0)
			errno = ENOSPC;
		goto out;
	}
	ret = 0;
out:
	e = errno;
	lockb(db, b, F_UNLCK);
	errno = e;
	return ret;
}

int
nym_powdb_purge(struct nym_powdb *db, time_t now, struct nym_powdb_stats *st)
{
	unsigned char page[NYM_POW_DB_PAGE];
	uint32_t b;
	int i, k, dirty, e;

	memset(st, 0, sizeof *st);
	for (b = 0; b < db->nbuckets; b++) {
		if (lockb(db, b, F_WRLCK) == -1)
			return -1;
		if (readb(db, b, page) == -1)
			goto fail;
		dirty = 0;
		for (i = 0; i < NYM_POW_DB_BUCKET; i++) {
			unsigned char *r = page + (size_t)i * RECLEN;

			st->slots++;
			switch ((k = classify(db, r, now))) {
			case LIVE:
				st->live++;
				break;
			case EXPIRED:
			case DAMAGED:
				if (k == EXPIRED)
					st->expired++;
				else
					st->damaged++;
				memset(r, 0, RECLEN);
				dirty = 1;
				break;
			}
		}
		if (dirty && pwrite(db->fd, page, sizeof page, (off_t)(b + 1) *
		    NYM_POW_DB_PAGE) != (ssize_t)sizeof page) {
			if (errno == 0)
				errno = ENOSPC;
			goto fail;
		}
		lockb(db, b, F_UNLCK);
	}
	return 0;
fail:
	e = errno;
	lockb(db, b, F_UNLCK);
	errno = e;
	return -1;
}
