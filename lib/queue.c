/*
 * queue.c - the delay queue on disk.
 *
 * qmail's queue is the model: every change is a link, rename or unlink
 * whose order makes a crash at any moment harmless.  What differs is that
 * a message and its first record share one file, so that enqueueing
 * costs what a maildir delivery costs: one file written and synced, one
 * link, one directory synced.  Under the queue directory:
 *
 *	tmp/	files being written (a writer that died leaves them; they
 *		are removed after NYM_QUEUE_STALE)
 *	mess/ID	the message's record (struct nym_qrec as text), an empty
 *		line, then the message; written once and never changed;
 *		its presence is what makes the message queued
 *	info/ID	the record after a failed attempt, which wins over the one
 *		in mess/ID; replaced atomically on every change
 *	failed/ID  the message (without its record) moved aside after a
 *		permanent failure
 *	failinfo/ID  its record, state "failed", with the last error:
 *		what queue-run -l shows and queue-run -R requeues from
 *	lock	held by the run that delivers (fcntl)
 *
 * A message in mess/ID changes only when queue-run re-stamps it for a
 * server that asked for more work (nym_queue_replace): a new file with
 * the same record head, renamed over the old one with the lock held, so
 * that a crash leaves the one or the other.
 *
 * Enqueueing links mess/ID and syncs mess/: the commit point.  Delivering
 * unlinks mess/ID, the commit point (a kill -9 after it loses nothing
 * and sends nothing twice, the unlink being done), then info/ID; the
 * directories are synced for many deliveries at once (nym_queue_sync),
 * so that only a power cut can bring back what was delivered since the
 * last sync.  queue-run(1) has the table of states.  IDs are random, so
 * a name says nothing about when or by whom a message was written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "store.h"

#define HALFDAY	43200

static const char *const modenames[] = { "now", "defer", "batch" };

/* qdir/sub[/name] into buf.  0 or -1 ENAMETOOLONG. */
static int
qpath(char *buf, size_t cap, const char *qdir, const char *sub,
    const char *name)
{
	int n = snprintf(buf, cap, "%s/%s%s%s", qdir, sub,
	    name != NULL ? "/" : "", name != NULL ? name : "");

	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
nym_queue_dir(char *buf, size_t cap, const char *arg)
{
	const char *v = arg != NULL ? arg : nym_conf_get("queue");
	int n;

	if (v != NULL && *v != '\0')
		n = snprintf(buf, cap, "%s", v);
	else {
		if (nym_confdir(buf, cap) == -1)
			return -1;
		n = (int)strlen(buf);
		n = snprintf(buf + n, cap - (size_t)n, "/queue") + n;
	}
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
nym_queue_make(const char *qdir)
{
	static const char *const sub[] = { "tmp", "mess", "info", "failed",
	    "failinfo" };
	char path[PATH_MAX];
	size_t i;

	if (nym_mkdirs(qdir, 0700) == -1)
		return -1;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (qpath(path, sizeof path, qdir, sub[i], NULL) == -1 ||
		    nym_mkdirs(path, 0700) == -1)
			return -1;
	return 0;
}

int
nym_queue_lock(const char *qdir, int wait_ms, int *fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	int waited = 0;

	if (qpath(path, sizeof path, qdir, "lock", NULL) == -1)
		return -1;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	while (fcntl(*fd, F_SETLK, &fl) == -1) {
		if (errno != EAGAIN && errno != EACCES) {
			int e = errno;

			close(*fd);
			*fd = -1;
			errno = e;
			return -1;
		}
		if (waited >= wait_ms) {
			close(*fd);
			*fd = -1;
			return 1;
		}
		usleep(100000);
		waited += 100;
	}
	return 0;
}

int
nym_queue_isid(const char *s)
{
	size_t i;

	for (i = 0; i < NYM_QUEUE_IDLEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

int
nym_queue_mode(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, modenames[i]) == 0)
			return i;
	return -1;
}

const char *
nym_queue_modename(int mode)
{
	return mode >= 0 && mode < 3 ? modenames[mode] : "?";
}

/* A decimal number of at most 9 digits at *s, advancing *s. */
static int
decimal(const char **s, long *v)
{
	const char *p = *s;

	*v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (p - *s >= 9)
			return -1;
		*v = *v * 10 + (*p - '0');
	}
	*s = p;
	return 0;
}

int
nym_queue_range(const char *s, long *lo, long *hi)
{
	if (decimal(&s, lo) == -1 || *s++ != '-' || decimal(&s, hi) == -1 ||
	    *s != '\0' || *lo > *hi || *hi > 31536000) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nym_queue_draw(long lo, long hi, long *v)
{
	uint64_t span, min, r;

	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	span = (uint64_t)hi - (uint64_t)lo + 1;
	/* 2^64 mod span: values below it would make the low results more
	 * likely than the high ones, so they are drawn again. */
	min = (0 - span) % span;
	do {
		if (getentropy(&r, sizeof r) == -1)
			return -1;
	} while (r < min);
	*v = lo + (long)(r % span);
	return 0;
}

time_t
nym_queue_batchtime(time_t now)
{
	/* The epoch is 00:00 UTC and time_t counts no leap seconds, so the
	 * batch times are the multiples of twelve hours. */
	return (now / HALFDAY + 1) * HALFDAY;
}

time_t
nym_queue_due(int mode, time_t now, long lo, long hi)
{
	long d;

	switch (mode) {
	case NYM_Q_DEFER:
		if (nym_queue_draw(lo, hi, &d) == -1)
			return -1;
		return now + d;
	case NYM_Q_BATCH:
		return nym_queue_batchtime(now);
	default:
		return now;
	}
}

time_t
nym_queue_retry(int mode, unsigned n, time_t now)
{
	static const long wait[] = { 300, 900, 1800, 3600, 7200, 14400 };
	size_t i = n > 0 ? n - 1 : 0;

	if (mode == NYM_Q_BATCH)
		return nym_queue_batchtime(now);
	if (i >= sizeof wait / sizeof wait[0])
		i = sizeof wait / sizeof wait[0] - 1;
	return now + wait[i];
}

/* ---- the record ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void
sput(struct sbuf *b, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), need = kl + vl + 2;

	if (b->err)
		return;
	if (memchr(val, '\n', vl) != NULL) {
		b->err = EINVAL;
		return;
	}
	if (b->len + need + 1 > b->cap) {
		size_t ncap = b->cap != 0 ? b->cap : 1024;
		char *np;

		while (ncap < b->len + need + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, key, kl);
	b->p[b->len + kl] = ' ';
	memcpy(b->p + b->len + kl + 1, val, vl);
	b->p[b->len + need - 1] = '\n';
	b->len += need;
	b->p[b->len] = '\0';
}

static void
sputn(struct sbuf *b, const char *key, long long v)
{
	char num[32];

	snprintf(num, sizeof num, "%lld", v);
	sput(b, key, num);
}

int
nym_qrec_format(const struct nym_qrec *r, char **out, size_t *len)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	size_t i;

	if (!nym_queue_isid(r->id) || r->nrcpt == 0 ||
	    r->nrcpt > NYM_QUEUE_RCPTS || r->argc == 0 ||
	    r->argc > NYM_QUEUE_ARGS || r->mode < 0 || r->mode > 2) {
		errno = EINVAL;
		return -1;
	}
	sput(&b, "nymbox-queue", "1");
	sput(&b, "id", r->id);
	sput(&b, "mode", modenames[r->mode]);
	sput(&b, "state", r->state == NYM_QS_BOUNCE ? "bounce" :
	    r->state == NYM_QS_FAILED ? "failed" : "queued");
	sputn(&b, "queued", (long long)r->queued);
	sputn(&b, "due", (long long)r->due);
	sputn(&b, "attempts", (long long)r->attempts);
	sputn(&b, "lastcode", (long long)r->lastcode);
	sput(&b, "error", r->error);
	sput(&b, "sender", r->sender);
	for (i = 0; i < r->nrcpt; i++)
		sput(&b, "rcpt", r->rcpt[i]);
	for (i = 0; i < r->argc; i++)
		sput(&b, "arg", r->argv[i]);
	if (b.err == 0 && b.len > NYM_QUEUE_REC)
		b.err = EINVAL;
	if (b.err != 0) {
		free(b.p);
		errno = b.err;
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

void
nym_qrec_free(struct nym_qrec *r)
{
	free(r->store);
	free(r->vec);
	r->store = NULL;
	r->vec = NULL;
	r->rcpt = r->argv = NULL;
	r->nrcpt = r->argc = 0;
}

/* A number from a record: 0..max, digits only (a '-' allowed if neg). */
static int
recnum(const char *s, long long max, int neg, long long *v)
{
	int minus = 0;
	size_t i = 0;

	*v = 0;
	if (neg && s[0] == '-') {
		minus = 1;
		i++;
	}
	if (s[i] == '\0' || strlen(s + i) > 15)
		return -1;
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	if (*v > max)
		return -1;
	if (minus)
		*v = -*v;
	return 0;
}

int
nym_qrec_parse(const char *s, size_t n, struct nym_qrec *r)
{
	enum { F_ID = 1, F_MODE = 2, F_STATE = 4, F_QUEUED = 8, F_DUE = 16,
	    F_ATT = 32, F_CODE = 64, F_ERR = 128, F_SENDER = 256 };
	unsigned seen = 0, nr = 0, na = 0;
	const char **vec;
	char *p, *end, *nl, *val;
	long long v;
	int first = 1;

	memset(r, 0, sizeof *r);
	if (n > NYM_QUEUE_REC || n == 0 || s[n - 1] != '\n' ||
	    memchr(s, '\0', n) != NULL)
		goto bad;
	if ((r->store = malloc(n + 1)) == NULL)
		return -1;
	memcpy(r->store, s, n);
	r->store[n] = '\0';
	/* Count the repeated lines to size the vectors. */
	for (p = r->store; (p = strchr(p, '\n')) != NULL; p++) {
		if (strncmp(p + 1, "rcpt ", 5) == 0)
			nr++;
		else if (strncmp(p + 1, "arg ", 4) == 0)
			na++;
	}
	if (nr == 0 || nr > NYM_QUEUE_RCPTS || na == 0 ||
	    na > NYM_QUEUE_ARGS)
		goto bad;
	if ((vec = calloc(nr + na + 1, sizeof *vec)) == NULL) {
		nym_qrec_free(r);
		return -1;
	}
	r->vec = vec;
	r->rcpt = vec;
	r->argv = vec + nr;
	end = r->store + n;
	for (p = r->store; p < end; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		if ((val = strchr(p, ' ')) == NULL)
			goto bad;
		*val++ = '\0';
		if (first) {
			if (strcmp(p, "nymbox-queue") != 0 ||
			    strcmp(val, "1") != 0)
				goto bad;
			first = 0;
		} else if (strcmp(p, "id") == 0 && !(seen & F_ID)) {
			if (!nym_queue_isid(val))
				goto bad;
			memcpy(r->id, val, NYM_QUEUE_IDLEN + 1);
			seen |= F_ID;
		} else if (strcmp(p, "mode") == 0 && !(seen & F_MODE)) {
			if ((r->mode = nym_queue_mode(val)) == -1)
				goto bad;
			seen |= F_MODE;
		} else if (strcmp(p, "state") == 0 && !(seen & F_STATE)) {
			if (strcmp(val, "queued") == 0)
				r->state = NYM_QS_QUEUED;
			else if (strcmp(val, "bounce") == 0)
				r->state = NYM_QS_BOUNCE;
			else if (strcmp(val, "failed") == 0)
				r->state = NYM_QS_FAILED;
			else
				goto bad;
			seen |= F_STATE;
		} else if (strcmp(p, "queued") == 0 && !(seen & F_QUEUED)) {
			if (recnum(val, 253402300799LL, 0, &v) == -1)
				goto bad;
			r->queued = (time_t)v;
			seen |= F_QUEUED;
		} else if (strcmp(p, "due") == 0 && !(seen & F_DUE)) {
			if (recnum(val, 253402300799LL, 0, &v) == -1)
				goto bad;
			r->due = (time_t)v;
			seen |= F_DUE;
		} else if (strcmp(p, "attempts") == 0 && !(seen & F_ATT)) {
			if (recnum(val, 1000000, 0, &v) == -1)
				goto bad;
			r->attempts = (unsigned)v;
			seen |= F_ATT;
		} else if (strcmp(p, "lastcode") == 0 && !(seen & F_CODE)) {
			if (recnum(val, 255, 1, &v) == -1 || v < -1)
				goto bad;
			r->lastcode = (int)v;
			seen |= F_CODE;
		} else if (strcmp(p, "error") == 0 && !(seen & F_ERR)) {
			if (strlen(val) > NYM_QUEUE_ERR)
				goto bad;
			memcpy(r->error, val, strlen(val) + 1);
			seen |= F_ERR;
		} else if (strcmp(p, "sender") == 0 && !(seen & F_SENDER)) {
			r->sender = val;
			seen |= F_SENDER;
		} else if (strcmp(p, "rcpt") == 0 && *val != '\0')
			r->rcpt[r->nrcpt++] = val;
		else if (strcmp(p, "arg") == 0)
			r->argv[r->argc++] = val;
		else
			goto bad;
	}
	if (seen != (F_ID | F_MODE | F_STATE | F_QUEUED | F_DUE | F_ATT |
	    F_CODE | F_ERR | F_SENDER) || r->nrcpt != nr || r->argc != na ||
	    *r->argv[0] == '\0')
		goto bad;
	r->argv[r->argc] = NULL;
	return 0;
bad:
	nym_qrec_free(r);
	errno = EINVAL;
	return -1;
}

/* ---- the files ---- */

/* The record's first line, and where the ID is in a formatted record. */
#define MAGIC	"nymbox-queue 1\n"
#define IDOFF	(sizeof MAGIC - 1 + sizeof "id " - 1)

/* Write r as sub/ID (info/ or failinfo/) through a temporary file in
 * tmp/. */
static int
putrec(const char *qdir, const char *sub, const struct nym_qrec *r)
{
	char tmpdir[PATH_MAX], infodir[PATH_MAX], *text;
	struct nym_afile a;
	size_t len;
	int e;

	if (qpath(tmpdir, sizeof tmpdir, qdir, "tmp", NULL) == -1 ||
	    qpath(infodir, sizeof infodir, qdir, sub, NULL) == -1 ||
	    nym_qrec_format(r, &text, &len) == -1)
		return -1;
	if (nym_afile_open(&a, tmpdir, 0600) == -1) {
		e = errno;
		free(text);
		errno = e;
		return -1;
	}
	if (nym_write_all(a.fd, text, len) == -1) {
		nym_afile_abort(&a);
		e = errno;
		free(text);
		errno = e;
		return -1;
	}
	free(text);
	if (nym_afile_commit(&a, infodir, r->id, 0) == -1) {
		nym_afile_abort(&a);
		return -1;
	}
	return 0;
}

static void
newid(char id[NYM_QUEUE_IDLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[NYM_QUEUE_IDLEN / 2];
	size_t i;

	if (getentropy(b, sizeof b) == -1) {
		/* Not random, but still unique enough for the link to
		 * settle: the kernel's source failing is near impossible. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts.tv_nsec, sizeof ts.tv_nsec < sizeof b ?
		    sizeof ts.tv_nsec : sizeof b);
	}
	for (i = 0; i < sizeof b; i++) {
		id[2 * i] = hex[b[i] >> 4];
		id[2 * i + 1] = hex[b[i] & 15];
	}
	id[NYM_QUEUE_IDLEN] = '\0';
}

/* Is the ID in use: a message moved aside, or a record left behind? */
static int
taken(const char *qdir, const char *id)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof path, "%s/failed/%s", qdir, id);
	if (n < 0 || (size_t)n >= sizeof path || access(path, F_OK) == 0)
		return 1;
	n = snprintf(path, sizeof path, "%s/info/%s", qdir, id);
	return n < 0 || (size_t)n >= sizeof path || access(path, F_OK) == 0;
}

int
nym_queue_begin(const char *qdir, struct nym_qrec *r, struct nym_afile *a)
{
	char tmpdir[PATH_MAX], *text;
	size_t len;
	int e;

	newid(r->id);
	if (qpath(tmpdir, sizeof tmpdir, qdir, "tmp", NULL) == -1 ||
	    nym_qrec_format(r, &text, &len) == -1)
		return -1;
	/* The record's buffer has room for its NUL: the empty line. */
	text[len++] = '\n';
	if (nym_afile_open(a, tmpdir, 0600) == -1 ||
	    nym_write_all(a->fd, text, len) == -1) {
		e = errno;
		nym_afile_abort(a);
		free(text);
		errno = e;
		return -1;
	}
	free(text);
	return 0;
}

int
nym_queue_put(const char *qdir, struct nym_afile *a, struct nym_qrec *r)
{
	char messdir[PATH_MAX];
	int tries, fd;

	if (qpath(messdir, sizeof messdir, qdir, "mess", NULL) == -1) {
		nym_afile_abort(a);
		return -1;
	}
	for (tries = 0;; tries++) {
		if (tries > 0 || taken(qdir, r->id)) {
			/* Another ID, written over the old one in place
			 * (same length).  The file was closed by the
			 * failed commit, or is still open. */
			if (tries >= 16) {
				errno = EEXIST;
				break;
			}
			newid(r->id);
			fd = a->fd != -1 ? a->fd : open(a->tmp, O_WRONLY |
			    O_CLOEXEC);
			if (fd == -1)
				break;
			a->fd = fd;
			if (pwrite(fd, r->id, NYM_QUEUE_IDLEN, IDOFF) !=
			    NYM_QUEUE_IDLEN) {
				if (errno == 0)
					errno = EIO;
				break;
			}
			if (taken(qdir, r->id))
				continue;
		}
		if (nym_afile_commit(a, messdir, r->id,
		    NYM_ATOMIC_NOCLOBBER) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;	/* commit has cleaned up */
	}
	nym_afile_abort(a);
	return -1;
}

/* Read the head of the open mess/ID: its record into *rec (malloc'd,
 * *reclen bytes, the last one a LF) and where the message starts. */
static int
readhead(int fd, char **rec, size_t *reclen, off_t *msgoff)
{
	size_t cap = 4096, len = 0, i;
	char *buf = NULL, *nb;
	ssize_t n;
	int e;

	for (;;) {
		if ((nb = realloc(buf, cap)) == NULL)
			goto fail;
		buf = nb;
		if ((n = pread(fd, buf + len, cap - len, (off_t)len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		/* The record ends at the first empty line. */
		for (i = len > 0 ? len - 1 : 0; i + 1 < len + (size_t)n; i++)
			if (buf[i] == '\n' && buf[i + 1] == '\n')
				break;
		len += (size_t)n;
		if (len < sizeof MAGIC - 1 ||
		    memcmp(buf, MAGIC, sizeof MAGIC - 1) != 0) {
			if (n == 0 || len >= sizeof MAGIC - 1) {
				errno = EINVAL;
				goto fail;
			}
			continue;
		}
		if (i + 1 < len) {
			*rec = buf;
			*reclen = i + 1;
			*msgoff = (off_t)i + 2;
			return 0;
		}
		if (n == 0 || len > NYM_QUEUE_REC) {
			errno = n == 0 ? EINVAL : EFBIG;
			goto fail;
		}
		if (len == cap)
			cap *= 2;
	}
fail:
	e = errno;
	free(buf);
	errno = e;
	return -1;
}

/* Read and parse the record sub/id (info/ or failinfo/) into r: 0, 1 if
 * there is none, -1. */
static int
getinfo(const char *qdir, const char *sub, const char *id,
    struct nym_qrec *r)
{
	char path[PATH_MAX], *buf;
	struct stat st;
	ssize_t n;
	int fd, e;

	if (qpath(path, sizeof path, qdir, sub, id) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > NYM_QUEUE_REC) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	n = nym_read_all(fd, buf, (size_t)st.st_size + 1);
	e = errno;
	close(fd);
	if (n < 0 || n > st.st_size) {
		free(buf);
		errno = n < 0 ? e : EINVAL;	/* grew while read: damaged */
		return -1;
	}
	e = nym_qrec_parse(buf, (size_t)n, r);
	free(buf);
	if (e == -1 || strcmp(r->id, id) != 0) {
		nym_qrec_free(r);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* mess/id, open for reading. */
static int
openmess(const char *qdir, const char *id)
{
	char path[PATH_MAX];

	if (qpath(path, sizeof path, qdir, "mess", id) == -1)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

int
nym_queue_get(const char *qdir, const char *id, struct nym_qrec *r,
    int *fdp)
{
	struct stat st;
	char *rec = NULL;
	size_t reclen;
	off_t off;
	int fd, k, e;

	memset(r, 0, sizeof *r);
	if (fdp != NULL)
		*fdp = -1;
	if ((fd = openmess(qdir, id)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (readhead(fd, &rec, &reclen, &off) == -1)
		goto fail;
	/* A record in info/ is the state after an attempt: it wins. */
	if ((k = getinfo(qdir, "info", id, r)) == -1)
		goto fail;
	if (k == 1 && (nym_qrec_parse(rec, reclen, r) == -1 ||
	    strcmp(r->id, id) != 0)) {
		nym_qrec_free(r);
		errno = EINVAL;
		goto fail;
	}
	free(rec);
	if (fdp == NULL)
		close(fd);
	else if (lseek(fd, off, SEEK_SET) == -1) {
		e = errno;
		nym_qrec_free(r);
		close(fd);
		errno = e;
		return -1;
	} else
		*fdp = fd;
	return 0;
fail:
	e = errno;
	free(rec);
	close(fd);
	errno = e;
	return -1;
}

int
nym_queue_update(const char *qdir, const struct nym_qrec *r)
{
	return putrec(qdir, "info", r);
}

int
nym_queue_done(const char *qdir, const char *id)
{
	char path[PATH_MAX];

	if (qpath(path, sizeof path, qdir, "mess", id) == -1 ||
	    unlink(path) == -1)
		return -1;
	/* A record left by a kill here has no message: clean removes it. */
	if (qpath(path, sizeof path, qdir, "info", id) == -1 ||
	    (unlink(path) == -1 && errno != ENOENT))
		return -1;
	return 0;
}

int
nym_queue_sync(const char *qdir)
{
	char path[PATH_MAX];

	if (qpath(path, sizeof path, qdir, "mess", NULL) == -1 ||
	    nym_syncdir(path) == -1 ||
	    qpath(path, sizeof path, qdir, "info", NULL) == -1)
		return -1;
	return nym_syncdir(path);
}

/* The rest of fd into out, to its end. */
static int
copyfd(int fd, int out)
{
	char buf[NYM_IOBUF];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || nym_write_all(out, buf, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

/* head (headlen bytes, none when 0), then the rest of fd, into a new
 * file dir/id, put in place with the one atomic-write routine; fd is
 * closed.  EEXIST when dir/id is there already. */
static int
storecopy(int fd, const char *tmpdir, const char *head, size_t headlen,
    const char *dir, const char *id)
{
	struct nym_afile a;
	int e;

	if (nym_afile_open(&a, tmpdir, 0600) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if ((headlen > 0 && nym_write_all(a.fd, head, headlen) == -1) ||
	    copyfd(fd, a.fd) == -1) {
		e = errno;
		close(fd);
		nym_afile_abort(&a);
		errno = e;
		return -1;
	}
	close(fd);
	if (nym_afile_commit(&a, dir, id, NYM_ATOMIC_NOCLOBBER) == -1) {
		e = errno;
		nym_afile_abort(&a);
		errno = e;
		return -1;
	}
	return 0;
}

int
nym_queue_remove(const char *qdir, const char *id)
{
	if (nym_queue_done(qdir, id) == -1)
		return -1;
	return nym_queue_sync(qdir);
}

int
nym_queue_fail(const char *qdir, const char *id)
{
	char tmpdir[PATH_MAX], dir[PATH_MAX];
	struct nym_qrec r;
	int fd, e;

	if (qpath(tmpdir, sizeof tmpdir, qdir, "tmp", NULL) == -1 ||
	    qpath(dir, sizeof dir, qdir, "failed", NULL) == -1 ||
	    nym_queue_get(qdir, id, &r, &fd) == -1)
		return -1;
	/* The record first, with its last error: what -l shows and what
	 * -R needs to queue the message again.  A crash before the
	 * message is moved leaves it unused, replaced by the next try. */
	r.state = NYM_QS_FAILED;
	e = putrec(qdir, "failinfo", &r);
	nym_qrec_free(&r);
	if (e == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* The message without its record, so that it can be sent again
	 * by hand.  A crash after the link leaves both: a second call
	 * finds failed/ID there already, and that is the same message. */
	if (storecopy(fd, tmpdir, NULL, 0, dir, id) == -1 && errno != EEXIST)
		return -1;
	return nym_queue_remove(qdir, id);
}

/* Unlink failed/id and failinfo/id, and sync both directories. */
static int
forget(const char *qdir, const char *id)
{
	static const char *const sub[] = { "failed", "failinfo" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < 2; i++)
		if (qpath(path, sizeof path, qdir, sub[i], id) == -1 ||
		    (unlink(path) == -1 && errno != ENOENT))
			return -1;
	for (i = 0; i < 2; i++)
		if (qpath(path, sizeof path, qdir, sub[i], NULL) == -1 ||
		    nym_syncdir(path) == -1)
			return -1;
	return 0;
}

int
nym_queue_failed(const char *qdir, const char *id, struct nym_qrec *r,
    int *fdp)
{
	char path[PATH_MAX];
	int fd, k, e;

	memset(r, 0, sizeof *r);
	if (fdp != NULL)
		*fdp = -1;
	if (qpath(path, sizeof path, qdir, "failed", id) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if ((k = getinfo(qdir, "failinfo", id, r)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (k == 1)
		memset(r, 0, sizeof *r);
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return k;
}

int
nym_queue_requeue(const char *qdir, const char *id, time_t now)
{
	char tmpdir[PATH_MAX], messdir[PATH_MAX], path[PATH_MAX], *text;
	struct nym_qrec r, q;
	size_t len;
	int fd, k, e, state;

	if (qpath(tmpdir, sizeof tmpdir, qdir, "tmp", NULL) == -1 ||
	    qpath(messdir, sizeof messdir, qdir, "mess", NULL) == -1 ||
	    (k = nym_queue_failed(qdir, id, &r, &fd)) == -1)
		return -1;
	if (k == 1) {
		close(fd);
		errno = ENODATA;
		return -1;
	}
	/* The same ID in mess/: a requeue cut short, done but for the
	 * removal of failed/id; or a move aside cut short, which the next
	 * run finishes and which is not to be undone here. */
	if (nym_queue_get(qdir, id, &q, NULL) == 0) {
		state = q.state;
		nym_qrec_free(&q);
		nym_qrec_free(&r);
		close(fd);
		if (state == NYM_QS_BOUNCE) {
			errno = EBUSY;
			return -1;
		}
		return forget(qdir, id);
	}
	if (errno != ENOENT) {
		e = errno;
		nym_qrec_free(&r);
		close(fd);
		errno = e;
		return -1;
	}
	r.state = NYM_QS_QUEUED;
	r.attempts = 0;
	r.lastcode = 0;
	r.error[0] = '\0';
	r.queued = now;
	r.due = r.mode == NYM_Q_BATCH ? nym_queue_batchtime(now) : now;
	/* A record left in info/ by a move aside cut short between its two
	 * unlinks would win over the new one. */
	if (qpath(path, sizeof path, qdir, "info", id) == -1)
		k = -1;
	else if (unlink(path) == 0)
		k = qpath(path, sizeof path, qdir, "info", NULL) == -1 ? -1 :
		    nym_syncdir(path);
	else
		k = errno == ENOENT ? 0 : -1;
	if (k == -1) {
		e = errno;
		nym_qrec_free(&r);
		close(fd);
		errno = e;
		return -1;
	}
	e = nym_qrec_format(&r, &text, &len);
	nym_qrec_free(&r);
	if (e == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	text[len++] = '\n';
	/* The commit point: mess/id linked and mess/ synced.  A crash
	 * after it leaves failed/id too; the next run or -R removes it. */
	k = storecopy(fd, tmpdir, text, len, messdir, id);
	free(text);
	if (k == -1)
		return -1;
	return forget(qdir, id);
}

int
nym_queue_message(const char *qdir, const char *id)
{
	struct nym_qrec r;
	int fd;

	if (nym_queue_get(qdir, id, &r, &fd) == -1)
		return -1;
	nym_qrec_free(&r);
	return fd;
}

int
nym_queue_scan(struct nym_qscan *s, const char *qdir)
{
	return nym_queue_scandir(s, qdir, "mess");
}

int
nym_queue_scandir(struct nym_qscan *s, const char *qdir, const char *sub)
{
	char path[PATH_MAX];

	if (qpath(path, sizeof path, qdir, sub, NULL) == -1)
		return -1;
	return (s->dir = opendir(path)) == NULL ? -1 : 0;
}

int
nym_queue_next(struct nym_qscan *s, char id[NYM_QUEUE_IDLEN + 1])
{
	struct dirent *de;

	for (;;) {
		errno = 0;
		if ((de = readdir(s->dir)) == NULL)
			return errno != 0 ? -1 : 0;
		if (nym_queue_isid(de->d_name)) {
			memcpy(id, de->d_name, NYM_QUEUE_IDLEN + 1);
			return 1;
		}
	}
}

void
nym_queue_endscan(struct nym_qscan *s)
{
	if (s->dir != NULL)
		closedir(s->dir);
	s->dir = NULL;
}

static int
cmpkey(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* FNV-1a, 64 bits, over n bytes (ASCII upper case folded) after h. */
static uint64_t
fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		h ^= c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
nym_queue_dest(const struct nym_qrec *r)
{
	uint64_t keys[NYM_QUEUE_RCPTS], h = 0xcbf29ce484222325ULL;
	size_t i, n;
	const char *at;

	/* Each domain's key, sorted, repeats folded into one: the same
	 * set gives the same sequence whatever the recipients' order. */
	n = r->nrcpt;
	if (n > NYM_QUEUE_RCPTS)
		n = NYM_QUEUE_RCPTS;
	for (i = 0; i < n; i++) {
		at = strrchr(r->rcpt[i], '@');
		at = at != NULL ? at + 1 : "";
		keys[i] = fnv(0xcbf29ce484222325ULL, at, strlen(at));
	}
	if (n > 1)
		qsort(keys, n, sizeof keys[0], cmpkey);
	for (i = 0; i < n; i++)
		if (i == 0 || keys[i] != keys[i - 1]) {
			h = (h ^ keys[i]) * 0x9e3779b97f4a7c15ULL;
			h ^= h >> 29;
		}
	return h;
}

/* Does qdir/sub/id exist?  1, 0, or -1 (not known). */
static int
exists(const char *qdir, const char *sub, const char *id)
{
	char path[PATH_MAX];

	if (qpath(path, sizeof path, qdir, sub, id) == -1)
		return -1;
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* failed/ and failinfo/: a failed message that is queued again (a requeue
 * cut short before its unlinks), and a record whose message someone
 * removed by hand or that a move aside cut short left behind. */
static int
cleanfailed(const char *qdir)
{
	char dir[PATH_MAX];
	struct nym_qrec r;
	struct dirent *de;
	DIR *d;
	int n = 0, state;

	if (qpath(dir, sizeof dir, qdir, "failed", NULL) == 0 &&
	    (d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!nym_queue_isid(de->d_name) ||
			    exists(qdir, "mess", de->d_name) != 1 ||
			    nym_queue_get(qdir, de->d_name, &r, NULL) == -1)
				continue;
			state = r.state;
			nym_qrec_free(&r);
			if (state == NYM_QS_QUEUED &&
			    forget(qdir, de->d_name) == 0)
				n++;
		}
		closedir(d);
	}
	if (qpath(dir, sizeof dir, qdir, "failinfo", NULL) == 0 &&
	    (d = opendir(dir)) != NULL) {
		int dfd = dirfd(d), gone = 0;

		while ((de = readdir(d)) != NULL)
			if (nym_queue_isid(de->d_name) &&
			    exists(qdir, "failed", de->d_name) == 0 &&
			    exists(qdir, "mess", de->d_name) == 0 &&
			    unlinkat(dfd, de->d_name, 0) == 0)
				gone++;
		closedir(d);
		if (gone > 0)
			(void)nym_syncdir(dir);
		n += gone;
	}
	return n;
}

int
nym_queue_clean(const char *qdir)
{
	/* The file clock, not NYMBOX_NOW: these are the files' own times. */
	time_t limit = time(NULL) - NYM_QUEUE_STALE;
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd, n = 0, gone = 0;

	if (qpath(dir, sizeof dir, qdir, "tmp", NULL) == 0 &&
	    (d = opendir(dir)) != NULL) {
		dfd = dirfd(d);
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' &&
			    fstatat(dfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime < limit &&
			    unlinkat(dfd, de->d_name, 0) == 0)
				n++;
		closedir(d);
	}
	/* A record whose message is gone: the run that delivered it was
	 * killed between the two unlinks. */
	if (qpath(dir, sizeof dir, qdir, "info", NULL) == 0 &&
	    (d = opendir(dir)) != NULL) {
		dfd = dirfd(d);
		while ((de = readdir(d)) != NULL)
			if (nym_queue_isid(de->d_name) &&
			    qpath(path, sizeof path, qdir, "mess",
			    de->d_name) == 0 && access(path, F_OK) == -1 &&
			    errno == ENOENT && unlinkat(dfd, de->d_name, 0) == 0)
				gone++;
		closedir(d);
		if (gone > 0)
			(void)nym_syncdir(dir);
	}
	return n + gone + cleanfailed(qdir);
}

/* ---- sending ---- */

/* After a header h read from in and written to out: the empty line (as
 * read, or added before a body that lacked it), then the rest of in as
 * it is, through out's buffer.  0, or -1 with errno. */
static int
copyrest(struct nym_in *in, struct nym_out *out, const struct nym_hdr *h,
    const char *eol)
{
	ssize_t r;

	if (h->sep || h->bad)
		nym_out_puts(out, eol);
	nym_out_write(out, in->buf + in->pos, in->len - in->pos);
	if (nym_out_flush(out) == -1)
		return -1;
	for (;;) {
		r = read(in->fd, out->buf, out->cap);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (int)r;
		if (nym_write_all(out->fd, out->buf, (size_t)r) == -1)
			return -1;
	}
}

int
nym_queue_rewrite(int ifd, int ofd, time_t now)
{
	struct nym_hdr h = { 0 };
	struct nym_in in;
	struct nym_out out;
	char date[64];
	const char *eol;
	size_t i;
	int dated = 0, e, ret = -1;

	if (nym_date_format(now, date, sizeof date) == 0) {
		errno = EINVAL;
		return -1;
	}
	if (nym_in_open(&in, ifd, NYM_IOBUF) == -1)
		return -1;
	if (nym_out_open(&out, ofd, NYM_IOBUF) == -1) {
		nym_in_close(&in);
		return -1;
	}
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, NULL, NULL) == -1)
		goto done;
	eol = h.crlf ? "\r\n" : "\n";
	nym_out_write(&out, h.buf, h.fromlen);
	for (i = 0; i < h.nf; i++) {
		const char *f = h.buf + h.f[i].off;
		size_t n = h.f[i].len;

		if (nym_hdr_is(&h, i, "bcc") || nym_hdr_is(&h, i, "resent-bcc"))
			continue;
		if (nym_hdr_is(&h, i, "date")) {
			if (!dated) {
				nym_out_puts(&out, "Date: ");
				nym_out_puts(&out, date);
				nym_out_puts(&out, eol);
			}
			dated = 1;
			continue;
		}
		nym_out_write(&out, f, n);
		/* A last field cut by EOF gets its line end. */
		if (n > 0 && f[n - 1] != '\n')
			nym_out_puts(&out, eol);
	}
	if (!dated) {
		nym_out_puts(&out, "Date: ");
		nym_out_puts(&out, date);
		nym_out_puts(&out, eol);
	}
	/* The empty line: as read, or added before a body that lacked it. */
	if (copyrest(&in, &out, &h, eol) == -1)
		goto done;
	ret = 0;
done:
	e = errno;
	nym_hdr_free(&h);
	nym_in_close(&in);
	nym_out_close(&out);
	errno = e;
	return ret;
}

/* ---- re-stamping (queue-run(1), STAMPS) ---- */

/* Is the stamp s[0, n) ("1:bits:date:RESOURCE:..." or
 * "E1:n:k:bits:date:RESOURCE:...") minted for addr (ignoring case)? */
static int
stampfor(const char *s, size_t n, const char *addr)
{
	const char *e = s + n, *p = s, *r;
	int field = 0, want;

	if (n > 2 && s[0] == '1' && s[1] == ':')
		want = 3;
	else if (n > 3 && memcmp(s, "E1:", 3) == 0)
		want = 5;
	else
		return 0;
	while (p < e && field < want)
		if (*p++ == ':')
			field++;
	for (r = p; p < e && *p != ':'; p++)
		;
	return field == want && p < e && (size_t)(p - r) == strlen(addr) &&
	    strncasecmp(r, addr, (size_t)(p - r)) == 0;
}

int
nym_queue_unstamp(int ifd, int ofd, const char *addr)
{
	static char val[NYM_FIELD_MAX + 1];
	struct nym_hdr h = { 0 };
	struct nym_in in;
	struct nym_out out;
	const char *eol;
	size_t i;
	ssize_t len;
	int e, n = 0, ret = -1;

	if (nym_in_open(&in, ifd, NYM_IOBUF) == -1)
		return -1;
	if (ofd != -1 && nym_out_open(&out, ofd, NYM_IOBUF) == -1) {
		nym_in_close(&in);
		return -1;
	}
	if (nym_hdr_read(&in, &h, NYM_HDR_MBOX, NULL, NULL) == -1)
		goto done;
	eol = h.crlf ? "\r\n" : "\n";
	if (ofd != -1)
		nym_out_write(&out, h.buf, h.fromlen);
	for (i = 0; i < h.nf; i++) {
		const char *f = h.buf + h.f[i].off;
		size_t fl = h.f[i].len;

		if ((nym_hdr_is(&h, i, "x-hashcash") ||
		    nym_hdr_is(&h, i, "x-hashcash-bcc") ||
		    nym_hdr_is(&h, i, "hashcash")) &&
		    (len = nym_hdr_value(&h, i, val, sizeof val)) > 0) {
			while (len > 0 && (val[len - 1] == ' ' ||
			    val[len - 1] == '\t'))
				len--;
			if (stampfor(val, (size_t)len, addr)) {
				n++;
				continue;
			}
		}
		if (ofd == -1)
			continue;
		nym_out_write(&out, f, fl);
		if (fl > 0 && f[fl - 1] != '\n')
			nym_out_puts(&out, eol);
	}
	if (ofd == -1) {
		ret = n;
		goto done;
	}
	if (copyrest(&in, &out, &h, eol) == -1)
		goto done;
	ret = n;
done:
	e = errno;
	nym_hdr_free(&h);
	nym_in_close(&in);
	if (ofd != -1)
		nym_out_close(&out);
	errno = e;
	return ret;
}

int
nym_queue_replace(const char *qdir, const char *id, int fd)
{
	char tmpdir[PATH_MAX], messdir[PATH_MAX], *rec = NULL;
	struct nym_afile a;
	size_t reclen;
	off_t off;
	int mfd, e;

	if (qpath(tmpdir, sizeof tmpdir, qdir, "tmp", NULL) == -1 ||
	    qpath(messdir, sizeof messdir, qdir, "mess", NULL) == -1 ||
	    (mfd = openmess(qdir, id)) == -1)
		return -1;
	e = readhead(mfd, &rec, &reclen, &off);
	close(mfd);
	if (e == -1)
		return -1;
	if (nym_afile_open(&a, tmpdir, 0600) == -1)
		goto fail;
	/* The record as it was, its empty line, the new message. */
	if (nym_write_all(a.fd, rec, (size_t)off) == -1 ||
	    copyfd(fd, a.fd) == -1) {
		e = errno;
		nym_afile_abort(&a);
		errno = e;
		goto fail;
	}
	free(rec);
	return nym_afile_commit(&a, messdir, id, 0);
fail:
	e = errno;
	free(rec);
	errno = e;
	return -1;
}
