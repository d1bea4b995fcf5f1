/*
 * store.h - libnymbox, where mail rests: maildirs, mboxes, pop-fetch's
 * journal and delivery engine, the delay queue.
 *
 * Conventions: base.h.
 */
#ifndef NYM_STORE_H
#define NYM_STORE_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <time.h>
#include <sys/types.h>

#include "limits.h"
#include "base.h"

/* ---- maildir.c: a maildir file written as the message arrives ---- */
/* The file is a struct nym_afile (atomic.c), by its own name af or by
 * its two fields fd and tmp. */
struct nym_mdfile {
	union {
		struct nym_afile af;
		struct {
			int fd;		/* write the message here; -1 if none */
			char tmp[NYM_MD_PATH];	/* dir/tmp/name, "" if none */
		};
	};
	char dir[NYM_MD_PATH];	/* the maildir */
	char name[NYM_MD_NAME];	/* its name, also in new/ */
	int random;		/* names of random bits alone */
};

/* Create dir and its tmp, new and cur (mode 0700) where missing.  0 or
 * -1 (ENOTDIR if one of them is not a directory). */
int nym_maildir_make(const char *dir);
/* Create an empty file in dir/tmp (exclusively, 0600) under a unique
 * name without the host name ("seconds.MmicrosPpidQcountRrandom.nymbox").
 * 0 or -1; on success f->fd is open. */
int nym_maildir_open(struct nym_mdfile *f, const char *dir);
/* The same under a name of 128 random bits alone (26 characters of
 * base32), which says nothing of when or where the mail came: mail kept
 * encrypted (mbox-encrypt). */
int nym_maildir_open_random(struct nym_mdfile *f, const char *dir);
/* Publish the file: fsync, close, link into dir/new (a new name of the
 * same kind if that one is taken), unlink from tmp/, fsync dir/new.  0,
 * or -1 with errno: nothing is left in tmp/ or new/. */
int nym_maildir_commit(struct nym_mdfile *f);
/* Close and remove the file (a refused or failed message); errno is
 * kept.  Harmless after commit or a second time. */
void nym_maildir_abort(struct nym_mdfile *f);
/* Is the file name published in dir: in new/, or in cur/ (with or
 * without ":2,flags" after it)?  1 or 0 (also for "" and an unreadable
 * cur/). */
int nym_maildir_published(const char *dir, const char *name);

/* A batch of maildir files written into tmp/ and published together
 * with a constant number of flushes (fetch.c tells the order of its
 * steps): nym_mdbatch_sync makes every file's data durable at once,
 * nym_mdbatch_link links them into new/, nym_mdbatch_syncnew makes the
 * names durable.  tmp[0, n) may be unlinked by a signal handler. */
struct nym_mdbatch {
	char dir[NYM_MD_PATH];
	int dirfd, newfd;	/* the maildir and its new/ */
	volatile sig_atomic_t n;	/* files in the batch */
	unsigned long long bytes;	/* their size */
	long long start;	/* nym_now_ms() when the first came */
	char tmp[NYM_POPF_BATCH_MAX][NYM_MD_PATH];
	char name[NYM_POPF_BATCH_MAX][96];
	size_t tag[NYM_POPF_BATCH_MAX];	/* the caller's, one per file */
};
/* Create the maildir where missing and open it and its new/.  0 or -1
 * with errno. */
int nym_mdbatch_open(struct nym_mdbatch *b, const char *dir);
/* Add f, written and closed (f->fd -1), of bytes bytes, with the
 * caller's tag; the caller checks first that nym_mdbatch_due is not
 * true because the batch is full. */
void nym_mdbatch_add(struct nym_mdbatch *b, const struct nym_mdfile *f,
    size_t tag, unsigned long long bytes);
/* Is the batch due: NYM_POPF_BATCH_MAX files, NYM_POPF_BATCH_BYTES, or
 * NYM_POPF_BATCH_MS since its first?  1 or 0. */
int nym_mdbatch_due(const struct nym_mdbatch *b);
/* Remove the batch's files from tmp/ and empty it. */
void nym_mdbatch_drop(struct nym_mdbatch *b);
/* syncfs(2) on the maildir's file system.  0 or -1 with errno. */
int nym_mdbatch_sync(struct nym_mdbatch *b);
/* Link the files into new/ under their names, in order, up to the first
 * failure (its errno in *err, else 0); then empty the batch, removing
 * every file from tmp/.  The number linked: name[0, that) are in new/. */
size_t nym_mdbatch_link(struct nym_mdbatch *b, int *err);
/* fsync new/ after nl were linked.  0; or -1 with errno and those nl
 * taken out of new/ again. */
int nym_mdbatch_syncnew(struct nym_mdbatch *b, size_t nl);
/* Drop the batch and close the directories.  Harmless a second time. */
void nym_mdbatch_close(struct nym_mdbatch *b);

/* ---- mbox.c: the one mbox writer and its lock ---- */
enum nym_mbox_step { NYM_MBOX_DOTLOCK = 1, NYM_MBOX_OPEN, NYM_MBOX_FCNTL };
struct nym_mbox {
	int fd;			/* the mbox, open O_RDWR|O_APPEND; -1 if none */
	off_t size;		/* its size when locked, or after the
				   last append that counted */
	int step;		/* enum nym_mbox_step that failed */
	int cutfail;		/* errno of a failed cut-back, or 0 */
	volatile sig_atomic_t dotlocked;	/* lock is ours */
	char lock[NYM_MD_PATH];	/* path.lock; a signal handler may unlink
				   it while dotlocked is set */
};

/* Open path (creating it, mode 0600, when create) and lock it as
 * procmail does: path.lock (our pid in it; a stale one, whose process is
 * gone or over NYM_DOTLOCK_STALE s old, removed; none where the directory
 * forbids it), then fcntl, each waited for until wait_ms have passed.
 * 0 with mb->fd open and mb->size its size; or -1 with errno
 * (EWOULDBLOCK: another program held one all that time), mb->step the
 * step that failed, and nothing held. */
int nym_mbox_lock(struct nym_mbox *mb, const char *path, int create,
    int wait_ms);
/* Why nym_mbox_lock failed with errno e, for an error message. */
const char *nym_mbox_why(const struct nym_mbox *mb, int e);
/* Close the mbox (its fcntl lock goes) and remove our path.lock.  0, or
 * -1 with errno (everything is let go all the same). */
int nym_mbox_unlock(struct nym_mbox *mb);
/* The From_ line (LF ended) of a message stored at now. */
void nym_mbox_fromline(char *buf, size_t cap, time_t now);
/* Append msg[0, n) as one message: a From_ line for now, the message
 * with its From_ lines quoted (mboxrd), its last line ended, an empty
 * line; then fsync.  0 (mb->size the new size), or -1 with errno and the
 * mbox cut back to mb->size (mb->cutfail set if even that failed). */
int nym_mbox_append(struct nym_mbox *mb, const char *msg, size_t n,
    time_t now);
/* Append len bytes of fd from offset at, already in mbox form; then
 * fsync.  0, or -1 as nym_mbox_append. */
int nym_mbox_appendfd(struct nym_mbox *mb, int fd, off_t at,
    unsigned long long len);

/* ---- journal.c: pop-fetch's state file (fetch.c tells its lines) ---- */
/* What the lines say of one uid. */
struct nym_jent {
	char uid[NYM_POP3_UIDL + 1];
	char kind;		/* of the last P: 'd', 'm', 'p'; 0 if none */
	char name[96];		/* 'd': the maildir file name */
	unsigned long long off, len;	/* 'm': where, how much */
	int done;		/* D seen */
	int gone;		/* X seen: deleted in an earlier session */
	uint64_t gsize;		/* its size then (0: unknown) */
};
struct nym_journal {
	int fd;			/* the journal, O_APPEND */
	int lockfd, dirfd;
	int cut;		/* a C line: the last session was cut */
	int cutfail;		/* errno of a failed cut-back, or 0 */
	struct nym_jent *ents;	/* sorted by uid */
	size_t nents;
	char dir[PATH_MAX];
	char name[NAME_MAX + 1];	/* ACCOUNT.uidl */
	char gone[NAME_MAX + 1];	/* ACCOUNT.gone: the X lines */
	char spool[PATH_MAX + NAME_MAX + 8];	/* dir/ACCOUNT.spool */
	const char *verb;	/* after a failure: what failed on path */
	char path[PATH_MAX + NAME_MAX + 2];
};

/* Lock account's state in dir (created, mode 0700, where missing) by
 * fcntl on ACCOUNT.lock, held until nym_journal_close, and read it:
 * the .gone file's X lines, then the journal's (created empty where
 * missing, a cut last line ended).  0; 1 if another process holds the
 * lock (nothing held); -1 with errno (EFBIG: a file over
 * NYM_POPF_STATE_MAX; ENOMEM), j->verb and j->path naming what failed,
 * and nothing held. */
int nym_journal_open(struct nym_journal *j, const char *dir,
    const char *account);
/* The entry of uid, or NULL. */
struct nym_jent *nym_journal_find(const struct nym_journal *j,
    const char *uid);
/* Append a line (LF ended by the caller), not synced.  0, or -1 with
 * errno (E2BIG: over NYM_POP3_UIDL + 160 bytes) and nothing of it left
 * behind (j->cutfail set if that failed). */
int nym_journal_add(struct nym_journal *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int nym_journal_vadd(struct nym_journal *j, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Make the lines added durable.  0 or -1 with errno. */
int nym_journal_sync(struct nym_journal *j);
/* Replace the .gone file, then the journal, atomically (synced) by
 * these contents.  0, or -1 with errno, j->verb and j->path. */
int nym_journal_rewrite(struct nym_journal *j, const char *lines,
    size_t len, const char *gone, size_t glen);
/* Let go of the lock and everything.  Harmless a second time. */
void nym_journal_close(struct nym_journal *j);

/* ---- fetch.c: deliver fetched messages exactly once (pop-fetch's
 * engine; fetch.c's opening comment is the design: the journal's lines,
 * when each is synced, settling an interrupted run) ---- */
/* Results of one delivery. */
enum nym_fetch_res {
	NYM_FETCH_DELIVERED, NYM_FETCH_DEFERRED, NYM_FETCH_NETFAIL,
	NYM_FETCH_LOCALFAIL
};
/* One listed message: the caller fills uid, n and size after
 * nym_fetch_listing, and refused before nym_fetch_compact. */
struct nym_fetchmsg {
	const char *uid;	/* the caller's, as long as the session */
	unsigned long n;	/* its number in the session */
	uint64_t size;		/* as listed, 0 if unknown */
	int refused;		/* the server refused its DELE */
	struct nym_jent *e;	/* its state, or NULL if new */
	int done;		/* delivered, in an earlier run or this one */
	int again;		/* an interrupted run may have delivered it */
	int skip;		/* unsettled or over the size limit: neither
				   deliver nor delete */
};
struct nym_fetch {
	/* The caller's, set before nym_fetch_init: */
	char mode;		/* 'd' maildir, 'm' mbox, 'p' command */
	const char *target;	/* the maildir, mbox or command */
	int keep;		/* the caller deletes nothing (pop-fetch -k):
				   the state keeps every D line */
	int wait_ms;		/* for the mbox's locks */
	int closefd;		/* closed in a command's child, or -1 */
	void *arg;		/* given to the functions below */
	/* Copy the message to o, LF line ends, with mboxrd quoting of
	 * From_ lines when mboxrd; o is not flushed.  0, or -1 (said). */
	int (*body)(void *arg, struct nym_out *o, int mboxrd);
	/* Message i is delivered (its D line written): DELE it unless
	 * dele is 0, and count it.  0, or -1 if the connection broke
	 * (said). */
	int (*delivered)(void *arg, size_t i, int dele);
	void (*warn)(const char *why);	/* every warning, one line */

	/* Set while a delivery is committed: a signal that comes then is
	 * to be held until it is cleared (the caller's handler). */
	volatile sig_atomic_t critical;
	int fatal;		/* an exit code when the run must end, or 0 */
	char why[2 * PATH_MAX];	/* then what failed, one line */
	int toobig;		/* a listed message is over the size limit */
	struct nym_fetchmsg *m;	/* the listing */
	size_t nm;
	struct nym_journal jr;
	int spoolfd;		/* the spool beside the state, or -1 */
	size_t spoolhdr;	/* the "uid\n" line that starts it */
	struct nym_mbox mbx;	/* the mbox, when locked */
	struct nym_mdbatch batch;	/* written into tmp/, not yet
					   published */
	char curtmp[NYM_MD_PATH];	/* a maildir file being written */
};
/* Set the engine up (after the caller's fields), creating the maildir
 * where missing.  0, or -1 with errno. */
int nym_fetch_init(struct nym_fetch *f);
/* Lock the account's state in the configuration directory's pop/ and
 * read it.  0; 1 when another run holds the lock; -1 with f->fatal and
 * f->why. */
int nym_fetch_open(struct nym_fetch *f, const char *account);
/* Room for n listed messages (f->m, zeroed) for the caller to fill.  0,
 * or -1 (ENOMEM). */
int nym_fetch_listing(struct nym_fetch *f, size_t n);
/* Find each listed message's state; then take those deleted in an
 * earlier session and listed again as delivered, and mark those over
 * maxsize to be left alone (f->toobig), warning about both. */
void nym_fetch_relisted(struct nym_fetch *f, const char *where,
    uint64_t maxsize);
/* Settle what an interrupted run left (a P line without D): 0 all
 * settled; 1 some unknown for now (left alone: the run must end 75);
 * -1 a line failed to go out (fetch no more; 75). */
int nym_fetch_settle(struct nym_fetch *f);
/* Deliver message i, whose RETR response is next: into tmp/, the batch
 * published by nym_fetch_commit once it is due; or to the mbox or the
 * command, its D line written (and synced for a command), and then
 * f->delivered.  A nym_fetch_res: DELIVERED (for a maildir: written, or
 * published), DEFERRED (the command refused it for now), NETFAIL (the
 * body or f->delivered said the connection broke), LOCALFAIL (said; or
 * with f->fatal). */
int nym_fetch_deliver(struct nym_fetch *f, size_t i);
/* Publish the maildir batch (fetch.c tells the steps), calling
 * f->delivered for each, with dele.  0; -1 (said): what was not made
 * durable is not in new/ and has no D line; -2 when f->delivered said
 * the connection broke. */
int nym_fetch_commit(struct nym_fetch *f, int dele);
/* Make the journal durable.  0, or -1 (said). */
int nym_fetch_sync(struct nym_fetch *f);
/* The session was cut: publish what is written (no DELE) and leave a C
 * line, synced. */
void nym_fetch_cut(struct nym_fetch *f);
/* After a good QUIT: rewrite the state to what the server still holds
 * (and the .gone file).  0; -1 (said), or with f->fatal. */
int nym_fetch_compact(struct nym_fetch *f);
/* From a signal handler outside a critical section: remove the files
 * being written and our mbox lock (async-signal-safe). */
void nym_fetch_litter(struct nym_fetch *f);
/* Let go of everything.  Harmless a second time. */
void nym_fetch_close(struct nym_fetch *f);

/* ---- queue.c: the delay queue (queue-run(1) documents the layout) ---- */
#define NYM_QUEUE_IDLEN	16		/* hex digits of a message's ID */

enum nym_qmode { NYM_Q_NOW = 0, NYM_Q_DEFER, NYM_Q_BATCH };
enum nym_qstate { NYM_QS_QUEUED = 0, NYM_QS_BOUNCE, NYM_QS_FAILED };

/* A message's state record: the head of mess/ID, or info/ID after an
 * attempt, or failinfo/ID (state failed) beside failed/ID. */
struct nym_qrec {
	char id[NYM_QUEUE_IDLEN + 1];
	int mode;		/* enum nym_qmode */
	int state;		/* enum nym_qstate */
	time_t queued;		/* when it was committed */
	time_t due;		/* next attempt at or after this */
	unsigned attempts;	/* failed attempts so far */
	int lastcode;		/* exit code of the last failed attempt, or 0 */
	char error[NYM_QUEUE_ERR + 1]; /* its diagnostic, printable ASCII */
	const char *sender;	/* "" for the null sender */
	const char **rcpt;	/* nrcpt addresses */
	size_t nrcpt;
	const char **argv;	/* the delivery command, NULL-terminated */
	size_t argc;
	char *store;		/* allocations behind the pointers when read */
	void *vec;
};

/* The queue directory: arg if not NULL, else the configuration's "queue"
 * (load it first), else ~/.config/nymbox/queue.  0 or -1 ENAMETOOLONG,
 * ENOENT (no HOME). */
int nym_queue_dir(char *buf, size_t cap, const char *arg);
/* Create the queue and its tmp, mess, info, failed and failinfo
 * directories (mode 0700) where missing.  0 or -1. */
int nym_queue_make(const char *qdir);
/* Take the queue's lock (qdir/lock, fcntl) for this process: 0 taken
 * (*fd keeps it; close it to let go), 1 another process holds it, -1
 * with errno.  Waits up to wait_ms for it (0: does not wait). */
int nym_queue_lock(const char *qdir, int wait_ms, int *fd);
/* Is s a message ID (NYM_QUEUE_IDLEN lower-case hex digits)?  1 or 0. */
int nym_queue_isid(const char *s);
/* The mode named s ("now", "defer", "batch"), or -1; and its name. */
int nym_queue_mode(const char *s);
const char *nym_queue_modename(int mode);
/* Parse a defer range "LO-HI" (seconds, 0 <= LO <= HI <= 31536000).
 * 0 or -1 EINVAL. */
int nym_queue_range(const char *s, long *lo, long *hi);
/* A uniformly random integer in [lo, hi] from getentropy(3), without
 * modulo bias.  0 or -1 with errno. */
int nym_queue_draw(long lo, long hi, long *v);
/* The first 00:00 or 12:00 UTC strictly after now (now >= 0). */
time_t nym_queue_batchtime(time_t now);
/* The due time of a message of this mode committed at now: now; now plus
 * a draw from [lo, hi]; or the next batch time.  -1 with errno if the
 * random source fails. */
time_t nym_queue_due(int mode, time_t now, long lo, long hi);
/* When to try again after the n-th failed attempt (n >= 1) at now: the
 * next batch time for batch mode, else now + 5, 15, 30, 60, 120, then
 * every 240 minutes. */
time_t nym_queue_retry(int mode, unsigned n, time_t now);
/* The record's text, and back.  format: a malloc'd buffer in *out (NUL
 * ended) and its length; -1 ENOMEM, EINVAL (a field holds a LF or NUL, or a count
 * is out of bounds).  parse: n bytes; r gets pointers into its own
 * copy (free with nym_qrec_free); -1 EINVAL for a damaged record. */
int nym_qrec_format(const struct nym_qrec *r, char **out, size_t *len);
int nym_qrec_parse(const char *s, size_t n, struct nym_qrec *r);
void nym_qrec_free(struct nym_qrec *r);
/* Begin a message: a temporary file in qdir/tmp (a->fd open for writing,
 * a->tmp) holding r's record under a fresh random ID (into r->id) and the
 * empty line that ends it.  The caller writes the message after them and
 * commits with nym_queue_put or gives up with nym_afile_abort.  0 or -1
 * with errno (EINVAL: r cannot be formatted) and nothing left behind. */
int nym_queue_begin(const char *qdir, struct nym_qrec *r,
    struct nym_afile *a);
/* Commit it: fsync, link it to mess/ID (under another ID, written into
 * the file and r->id, if that one is in use) and fsync mess/, the commit
 * point.  0, or -1 with errno and nothing left behind. */
int nym_queue_put(const char *qdir, struct nym_afile *a,
    struct nym_qrec *r);
/* The record in effect for message id: info/id if there is one (the
 * state after a failed attempt), else the one at the head of mess/id.
 * With fd not NULL, *fd gets mess/id open for reading at the message's
 * first byte.  -1 with ENOENT (no such message), EINVAL (damaged), EFBIG
 * (a record over NYM_QUEUE_REC). */
int nym_queue_get(const char *qdir, const char *id, struct nym_qrec *r,
    int *fd);
/* Replace info/ID atomically with r (synced).  0 or -1. */
int nym_queue_update(const char *qdir, const struct nym_qrec *r);
/* Delivered: unlink mess/id, the commit point, then info/id if there is
 * one.  The directories are not synced: nym_queue_sync does that for
 * any number of these at once.  0 or -1 (ENOENT: no such message). */
int nym_queue_done(const char *qdir, const char *id);
/* fsync mess/ and info/, making the nym_queue_done calls before it
 * durable.  0 or -1. */
int nym_queue_sync(const char *qdir);
/* Deleted: nym_queue_done and nym_queue_sync.  0 or -1. */
int nym_queue_remove(const char *qdir, const char *id);
/* Moved aside after a permanent failure: the record, state failed, to
 * failinfo/id, the message without its record copied to failed/id (both
 * synced), then removed.  0 or -1. */
int nym_queue_fail(const char *qdir, const char *id);
/* A message moved aside: its record from failinfo/id into r (zeroed if
 * there is none) and, with fd not NULL, failed/id open for reading.  0;
 * 1 if it has no record (moved aside before records were kept); -1 with
 * ENOENT (no such failed message), EINVAL (a damaged record). */
int nym_queue_failed(const char *qdir, const char *id, struct nym_qrec *r,
    int *fd);
/* Queue failed/id again under its ID: attempts and error cleared, queued
 * at now, due now (a batch message at the next batch time); mess/id is
 * committed (synced), then failed/id and failinfo/id removed.  0, or -1
 * with ENOENT (no such failed message), ENODATA (it has no record),
 * EBUSY (a message of that ID is being returned), EINVAL (damaged). */
int nym_queue_requeue(const char *qdir, const char *id, time_t now);
/* Open mess/id for reading at the message's first byte.  The descriptor
 * or -1 as nym_queue_get. */
int nym_queue_message(const char *qdir, const char *id);
/* Walk mess/ one entry at a time (memory does not grow with the queue):
 * next gives each message ID once per directory read (order undefined);
 * 1, 0 at the end, -1 with errno. */
struct nym_qscan {
	void *dir;
};
int nym_queue_scan(struct nym_qscan *s, const char *qdir);
/* The same over another of the queue's directories (sub "failed"). */
int nym_queue_scandir(struct nym_qscan *s, const char *qdir,
    const char *sub);
int nym_queue_next(struct nym_qscan *s, char id[NYM_QUEUE_IDLEN + 1]);
void nym_queue_endscan(struct nym_qscan *s);
/* The destination of a record, what queue-run's per-destination limit
 * counts: the set of its recipients' domains (the part after the last @,
 * ASCII letters folded to lower case; "" for an address without @),
 * whatever their order and repeats, as a 64-bit key.  Two different sets
 * share a key with a chance of about 2^-64, and then only a limit. */
uint64_t nym_queue_dest(const struct nym_qrec *r);
/* Remove leftovers, with the queue's lock held: files in tmp/ older than
 * NYM_QUEUE_STALE by the clock, not NYMBOX_NOW (a writer that died),
 * records in info/ whose message is gone (a run killed between the two
 * unlinks of nym_queue_done), failed/id and failinfo/id of a message that
 * is queued again (a requeue cut short), records in failinfo/ without
 * their message.  Returns the number removed. */
int nym_queue_clean(const char *qdir);
/* Copy the message in to out for sending at now: the first Date field
 * replaced by now in UTC (added if missing, later ones dropped), Bcc and
 * Resent-Bcc removed, everything else byte for byte.  0, or -1 with
 * errno (E2BIG: a header over the limits). */
int nym_queue_rewrite(int in, int out, time_t now);
/* Copy the message in to out without its X-Hashcash (X-Hashcash-Bcc,
 * Hashcash) fields whose stamp is minted for addr (ignoring case),
 * everything else byte for byte; out -1 only counts them.  The number
 * of such fields, or -1 with errno (E2BIG: a header over the limits). */
int nym_queue_unstamp(int in, int out, const char *addr);
/* Replace the message of mess/id by the rest of fd, its record head
 * kept: a new file in tmp/, synced, renamed over mess/id, mess/ synced.
 * Only with the queue's lock held.  0, or -1 with errno (ENOENT: no such
 * message) and mess/id as it was. */
int nym_queue_replace(const char *qdir, const char *id, int fd);

#endif
