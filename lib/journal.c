/*
 * journal.c - pop-fetch's memory across sessions: the account's state
 * file, a journal of one line per step (fetch.c tells the lines and
 * the order they are written and synced in), and the .gone file of X
 * lines beside it.
 *
 * Loading is O(n log n) however long the journal: the lines are sorted
 * by uid (those of one uid kept in file order) and folded into one entry
 * per uid.  A last line without its LF was cut by a crash: it is ignored
 * and ended, so the next line starts afresh.  A line that fails to go
 * out whole is cut off again, so it cannot swallow the next one.
 *
 * Nothing here prints or exits.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "store.h"

static int
entcmp(const void *a, const void *b)
{
	return strcmp(((const struct nym_jent *)a)->uid,
	    ((const struct nym_jent *)b)->uid);
}

struct nym_jent *
nym_journal_find(const struct nym_journal *j, const char *uid)
{
	struct nym_jent key = { .done = 0 };

	if (j->nents == 0)
		return NULL;
	snprintf(key.uid, sizeof key.uid, "%s", uid);
	return bsearch(&key, j->ents, j->nents, sizeof *j->ents, entcmp);
}

static int
number(const char *s, unsigned long long *v)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* A journal line cut into words (pointers into the file's copy); seq
 * keeps the lines of one uid in file order once sorted by uid. */
struct rec {
	char *kind, *uid, *name, *a, *b;
	size_t seq;
};

static int
reccmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	int c = strcmp(a->uid, b->uid);

	return c != 0 ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Cut line into r; 0, or -1 for a line that is not ours (ignored). */
static int
loadline(struct nym_journal *j, char *line, struct rec *r)
{
	char *save = NULL;

	r->kind = strtok_r(line, " ", &save);
	if (r->kind != NULL && strcmp(r->kind, "C") == 0) {
		j->cut = 1;
		return -1;
	}
	r->uid = strtok_r(NULL, " ", &save);
	r->name = strtok_r(NULL, " ", &save);
	r->a = strtok_r(NULL, " ", &save);
	r->b = strtok_r(NULL, " ", &save);
	if (r->kind == NULL || r->uid == NULL ||
	    strlen(r->uid) > NYM_POP3_UIDL || strlen(r->kind) != 1 ||
	    strchr("DPUX", *r->kind) == NULL)
		return -1;
	return 0;
}

/* Apply the line r to its uid's entry e. */
static void
apply(struct nym_jent *e, const struct rec *r)
{
	unsigned long long off, len;

	if (*r->kind == 'D') {
		e->done = 1;
		return;
	}
	if (*r->kind == 'X') {
		e->gone = 1;
		e->gsize = number(r->name, &off) == 0 ? off : 0;
		return;
	}
	e->kind = 0;
	if (*r->kind == 'U' || r->name == NULL)
		return;
	if (strcmp(r->name, "mbox") == 0) {
		if (number(r->a, &off) == 0 && number(r->b, &len) == 0) {
			e->kind = 'm';
			e->off = off;
			e->len = len;
		}
	} else if (strcmp(r->name, "cmd") == 0)
		e->kind = 'p';
	else if (strlen(r->name) < sizeof e->name &&
	    strchr(r->name, '/') == NULL) {
		e->kind = 'd';
		snprintf(e->name, sizeof e->name, "%s", r->name);
	}
}

/* The entries from buf's lines.  0 or -1 ENOMEM. */
static int
loadents(struct nym_journal *j, char *buf)
{
	struct rec *recs = NULL;
	size_t nrec = 0, cap = 0, i;
	char *p, *nl;

	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (nrec == cap && nym_reallocarray(&recs, cap = cap ? cap * 2 :
		    256, sizeof *recs) == -1) {
			free(recs);
			return -1;
		}
		if (loadline(j, p, &recs[nrec]) == 0) {
			recs[nrec].seq = nrec;
			nrec++;
		}
	}
	if (nrec == 0) {
		free(recs);
		return 0;
	}
	qsort(recs, nrec, sizeof *recs, reccmp);
	if ((j->ents = calloc(nrec, sizeof *j->ents)) == NULL) {
		free(recs);
		return -1;
	}
	for (i = 0; i < nrec; i++) {
		if (j->nents == 0 ||
		    strcmp(j->ents[j->nents - 1].uid, recs[i].uid) != 0)
			snprintf(j->ents[j->nents++].uid, sizeof j->ents->uid,
			    "%s", recs[i].uid);
		apply(&j->ents[j->nents - 1], &recs[i]);
	}
	free(recs);
	return 0;
}

/* Note the step that failed and its path for the caller's message. */
static int
failed(struct nym_journal *j, const char *verb, const char *name)
{
	int e = errno;

	j->verb = verb;
	snprintf(j->path, sizeof j->path, "%s/%s", j->dir, name);
	errno = e;
	return -1;
}

/* Read the .gone file and then the journal into a buffer of their
 * whole lines (*out, malloc'd).  0 or -1 as nym_journal_open. */
static int
readboth(struct nym_journal *j, char **out)
{
	struct stat st, gst = { .st_size = 0 };
	size_t g = 0;
	ssize_t n;
	char *buf;
	int gfd;

	if (fstat(j->fd, &st) == -1)
		return failed(j, "open", j->name);
	if (st.st_size > NYM_POPF_STATE_MAX) {
		errno = EFBIG;
		return failed(j, "read", j->name);
	}
	if ((gfd = openat(j->dirfd, j->gone, O_RDONLY | O_CLOEXEC)) == -1 &&
	    errno != ENOENT)
		return failed(j, "open", j->gone);
	if (gfd != -1 && fstat(gfd, &gst) == -1) {
		close(gfd);
		return failed(j, "read", j->gone);
	}
	if (gst.st_size > NYM_POPF_STATE_MAX) {
		if (gfd != -1)
			close(gfd);
		errno = EFBIG;
		return failed(j, "read", j->gone);
	}
	if ((buf = malloc((size_t)gst.st_size + (size_t)st.st_size + 1)) ==
	    NULL) {
		if (gfd != -1)
			close(gfd);
		return failed(j, "allocate memory for", j->name);
	}
	if (gfd != -1) {
		n = pread(gfd, buf, (size_t)gst.st_size, 0);
		close(gfd);
		if (n != gst.st_size) {
			free(buf);
			if (n >= 0)
				errno = EIO;
			return failed(j, "read", j->gone);
		}
		/* Written atomically, so never cut; but a cut X line could
		 * name a shorter uid: only whole lines count. */
		for (g = (size_t)gst.st_size; g > 0 && buf[g - 1] != '\n'; g--)
			;
	}
	if ((n = pread(j->fd, buf + g, (size_t)st.st_size, 0)) != st.st_size) {
		free(buf);
		if (n >= 0)
			errno = EIO;
		return failed(j, "read", j->name);
	}
	buf[g + (size_t)n] = '\0';
	/* A cut last line is ended, so the next line starts afresh. */
	if (n > 0 && buf[g + (size_t)n - 1] != '\n' &&
	    nym_write_all(j->fd, "\n", 1) == -1) {
		free(buf);
		return failed(j, "write", j->name);
	}
	*out = buf;
	return 0;
}

int
nym_journal_open(struct nym_journal *j, const char *dir,
    const char *account)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char lock[NAME_MAX + 1], *buf;
	size_t i;
	int e;

	memset(j, 0, sizeof *j);
	j->fd = j->lockfd = j->dirfd = -1;
	if (strlen(dir) >= sizeof j->dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(j->dir, dir, strlen(dir) + 1);
	for (i = 0; i < 120 && account[i] != '\0'; i++)
		j->name[i] = isalnum((unsigned char)account[i]) ||
		    strchr("@.:-_", account[i]) != NULL ? account[i] : '_';
	memcpy(j->name + i, ".uidl", sizeof ".uidl");
	snprintf(j->gone, sizeof j->gone, "%.*s.gone", (int)i, j->name);
	snprintf(lock, sizeof lock, "%.*s.lock", (int)i, j->name);
	if ((size_t)snprintf(j->spool, sizeof j->spool, "%s/%.*s.spool",
	    dir, (int)i, j->name) >= sizeof j->spool) {
		errno = ENAMETOOLONG;
		return failed(j, "use", j->name);
	}
	if (nym_mkdirs(dir, 0700) == -1) {
		j->verb = "create";
		snprintf(j->path, sizeof j->path, "%s", dir);
		return -1;
	}
	if ((j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		j->verb = "open";
		snprintf(j->path, sizeof j->path, "%s", dir);
		return -1;
	}
	if ((j->lockfd = openat(j->dirfd, lock, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		failed(j, "open", lock);
		goto fail;
	}
	if (fcntl(j->lockfd, F_SETLK, &fl) == -1) {
		if (errno == EAGAIN || errno == EACCES) {
			nym_journal_close(j);
			return 1;	/* another run is at it */
		}
		failed(j, "lock", lock);
		goto fail;
	}
	j->fd = openat(j->dirfd, j->name, O_RDWR | O_APPEND | O_CLOEXEC);
	if (j->fd == -1 && errno == ENOENT &&
	    (j->fd = openat(j->dirfd, j->name, O_RDWR | O_APPEND | O_CREAT |
	    O_EXCL | O_CLOEXEC, 0600)) != -1 && fsync(j->dirfd) == -1) {
		failed(j, "create", j->name);
		goto fail;
	}
	if (j->fd == -1) {
		failed(j, "open", j->name);
		goto fail;
	}
	if (readboth(j, &buf) == -1)
		goto fail;
	if (loadents(j, buf) == -1) {
		free(buf);
		failed(j, "allocate memory for", j->name);
		goto fail;
	}
	free(buf);
	return 0;
fail:
	e = errno;
	nym_journal_close(j);
	errno = e;
	return -1;
}

int
nym_journal_vadd(struct nym_journal *j, const char *fmt, va_list ap)
{
	char line[NYM_POP3_UIDL + 160];
	off_t end;
	int n, e;

	j->cutfail = 0;
	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0 || (size_t)n >= sizeof line) {
		errno = E2BIG;
		return -1;
	}
	end = lseek(j->fd, 0, SEEK_END);
	if (nym_write_all(j->fd, line, (size_t)n) == -1) {
		e = errno;
		/* Half a line would swallow the next one: take it back. */
		if (end != -1 && ftruncate(j->fd, end) == -1)
			j->cutfail = errno;
		errno = e;
		return -1;
	}
	return 0;
}

int
nym_journal_add(struct nym_journal *j, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nym_journal_vadd(j, fmt, ap);
	va_end(ap);
	return r;
}

int
nym_journal_sync(struct nym_journal *j)
{
	return fdatasync(j->fd);
}

int
nym_journal_rewrite(struct nym_journal *j, const char *lines, size_t len,
    const char *gone, size_t glen)
{
	/* The X lines first: lost with the journal rewritten, a server
	 * that ignores DELE would have its messages delivered again. */
	if (nym_atomic_write(j->dir, j->gone, gone, glen, 0600, 0) == -1)
		return failed(j, "rewrite", j->gone);
	if (nym_atomic_write(j->dir, j->name, lines, len, 0600, 0) == -1)
		return failed(j, "rewrite", j->name);
	return 0;
}

void
nym_journal_close(struct nym_journal *j)
{
	if (j->fd != -1)
		close(j->fd);
	if (j->lockfd != -1)
		close(j->lockfd);	/* and the account's lock with it */
	if (j->dirfd != -1)
		close(j->dirfd);
	j->fd = j->lockfd = j->dirfd = -1;
	free(j->ents);
	j->ents = NULL;
	j->nents = 0;
}
