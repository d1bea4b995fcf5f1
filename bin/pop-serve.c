/*
 * pop-serve - a POP3 server on standard input and output for a maildir
 * that mbox-encrypt keeps encrypted.
 *
 * The machine that stores the mail holds only the inbox's public key;
 * the private key stays locked under a password in its file.  Here the
 * POP3 password is that password: a login unlocks the key (Argon2id),
 * and messages are decrypted as they are sent, a 64 KiB chunk at a time,
 * so memory is the same for any message.  The key, the password and the
 * plaintext buffer live in one locked area, wiped at exit.
 *
 * Sizes: LIST and STAT report the octets of the CRLF form before dot
 * stuffing, and only a decryption can tell them, so a message is read
 * once to be measured (and verified) the first time its size or its text
 * is needed, and the result kept for the session.  A message is sent
 * only if it verified whole: RETR and TOP of a message not measured yet
 * read it twice, once to verify and once to send.  Should the second
 * reading fail all the same (the file changed under us), the connection
 * is cut before the final dot, so no client takes part of a message for
 * all of it.
 *
 * DELE only marks; QUIT removes the marked files and syncs the
 * directories.  Anything else that ends the session (a cut connection,
 * the idle timeout, a signal) removes nothing.  One session at a time
 * holds the maildir (flock on the directory), as RFC 1939 asks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "seal.h"
#include "proto.h"
#include "store.h"

#define USAGE "usage: pop-serve [-D seconds] [-d maildir] [-F max/seconds] " \
	"[-K privkey] [-T seconds]\n" \
	"                 [-u user] [-w seconds]\n"

/* Secrets, and buffers that hold them or plaintext: locked, wiped. */
static struct {
	char line[NYM_POPD_LINE + 1];		/* the command line */
	char pw[NYM_POPD_PASS + 1];
	char user[NYM_POPD_LINE];		/* AUTH PLAIN's authcid */
	unsigned char keyfile[NYM_SEAL_KEYFILE + 1];
	unsigned char idxkey[NYM_KEYLEN];	/* MAC of the size index */
	unsigned char pk[NYM_SEAL_PKLEN], sk[NYM_SEAL_SKLEN];
	struct nym_seal seal;
	unsigned char plain[NYM_SEAL_CHUNK];
} sec;
static size_t keylen;

static struct nym_in in;		/* commands */
static struct nym_out out;		/* replies and messages */
static struct nym_in fin;		/* a message file */

static const char *maildir, *expect, *keypath;
static int mdfd = -1;		/* the maildir, flock'd in session */
static int delay = 3, idlems = 600000;
static int sessionsecs = NYM_POPD_SESSION;	/* -T */
static int failmax, failwin;	/* -F */
static char ledger[PATH_MAX];	/* the key file's .fails */
static int authed, authfail;
static char user[NYM_POPD_USER + 1];	/* USER's argument */
static int haveuser;

/* The maildrop: what the session sees, in the order it numbers. */
enum {
	UNKNOWN,	/* size not known */
	SIZED,		/* size from the index, not verified this session */
	GOOD,		/* verified this session */
	BAD		/* damaged or gone */
};

struct msg {
	char *path;			/* "new/NAME" or "cur/NAME" */
	char uid[NYM_POP3_UIDL + 1];
	struct timespec mtime;
	ino_t ino;
	off_t fsize;
	uint64_t size;			/* CRLF form, when SIZED or GOOD */
	int state;
	int deleted;
};

static struct msg *msgs;
static size_t nmsgs;
static int idxdirty;			/* sizes the index lacks */

static void
usage(void)
{
	nym_usage();
}

static void
cleanup(void)
{
	nym_wipe(&sec, sizeof sec);
	if (in.buf != NULL)
		nym_wipe(in.buf, in.cap);
	if (out.buf != NULL)
		nym_wipe(out.buf, out.cap);
}

/* s made safe for a log line: unprintable bytes as '?', at most 64. */
static const char *
clean(const char *s)
{
	static char buf[68];
	size_t i;

	for (i = 0; i < 64 && s[i] != '\0'; i++)
		buf[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
	if (i == 64 && s[i] != '\0')
		buf[i++] = '~';
	buf[i] = '\0';
	return buf;
}

/* ---- replies ---- */

/* The session's skeleton (lib/linesrv.c), shared with smtp-receive. */
static struct nym_linesrv ls = {
	.in = &in, .out = &out, .linemax = NYM_POP3_LINE,
	.maxerrors = NYM_POPD_ERRORS, .gone = NYM_EX_OK,
	.what = "a command",
	.toomany = "-ERR Too many errors, closing",
	.toolong = "-ERR Line too long, closing",
	.sessover = "-ERR [SYS/TEMP] Session too long, closing",
	.slow = NULL		/* RFC 1939 3: close without a reply */
};

/* A client that is gone ends the session; nothing is removed. */
#define reply(...)	nym_ls_reply(&ls, __VA_ARGS__)
#define flushout()	nym_ls_flush(&ls)
#define hangup(code, text) nym_ls_hangup(&ls, (code), (text))
#define protoerr(text)	nym_ls_error(&ls, (text))

/* Wipe what the reader holds besides the bytes not read yet: the line
 * just read may have held a password. */
static void
wipein(void)
{
	nym_wipe(in.buf, in.pos);
	nym_wipe(in.buf + in.len, in.cap - in.len);
	nym_wipe(sec.line, sizeof sec.line);
}

/* Read a command or SASL line into sec.line.  Replies go out first
 * unless the client has already sent the next line (PIPELINING).
 * Returns 0, or -1 after replying to a bad line. */
static int
getcmd(void)
{
	if (nym_ls_getline(&ls, sec.line, sizeof sec.line, NYM_POPD_LINE) ==
	    0)
		return 0;
	/* Part of it was copied, and it may have been a password. */
	wipein();
	protoerr(errno == E2BIG ? "-ERR Line too long" :
	    "-ERR NUL byte in a command");
	return -1;
}

/* ---- the maildrop ---- */

static int
bytime(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int
byuid(const void *a, const void *b)
{
	const struct msg *const *x = a, *const *y = b;
	int c = strcmp((*x)->uid, (*y)->uid);

	return c != 0 ? c : strcmp((*x)->path, (*y)->path);
}

/* Two files with one unique-id (a name in new/ and cur/): the later
 * ones get one made of their path (sub/name) instead. */
static void
uniqueids(void)
{
	struct msg **v;
	size_t i;

	if (nmsgs < 2)
		return;
	if ((v = calloc(nmsgs, sizeof *v)) == NULL)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (i = 0; i < nmsgs; i++)
		v[i] = &msgs[i];
	qsort(v, nmsgs, sizeof *v, byuid);
	for (i = 1; i < nmsgs; i++)
		if (strcmp(v[i - 1]->uid, v[i]->uid) == 0)
			nym_popd_uid(v[i]->path, v[i]->uid);
	free(v);
}

/* List new/ and cur/, oldest first.  -1 with errno if unreadable. */
static int
scan(void)
{
	static const char *const subs[] = { "new", "cur" };
	struct dirent *d;
	struct stat st;
	char path[NYM_POPD_NAME + 8];
	size_t i, cap = 0, skipped = 0;
	DIR *dp;
	int fd, e;

	for (i = 0; i < 2; i++) {
		if ((fd = openat(mdfd, subs[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1 || (dp = fdopendir(fd)) == NULL) {
			e = errno;
			if (fd != -1)
				close(fd);
			errno = e;
			return -1;
		}
		while ((d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.' ||
			    strlen(d->d_name) > NYM_POPD_NAME)
				continue;
			snprintf(path, sizeof path, "%s/%s", subs[i],
			    d->d_name);
			if (fstatat(mdfd, path, &st, AT_SYMLINK_NOFOLLOW) ==
			    -1 || !S_ISREG(st.st_mode))
				continue;
			if (nmsgs == NYM_POPD_MSGS) {
				skipped++;
				continue;
			}
			if (nmsgs == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				if (nym_reallocarray(&msgs, cap,
				    sizeof *msgs) == -1)
					nym_die(NYM_EX_TEMPFAIL, "unable to "
					    "allocate memory");
			}
			memset(&msgs[nmsgs], 0, sizeof *msgs);
			if ((msgs[nmsgs].path = strdup(path)) == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
			nym_popd_uid(d->d_name, msgs[nmsgs].uid);
			msgs[nmsgs].mtime = st.st_mtim;
			msgs[nmsgs].ino = st.st_ino;
			msgs[nmsgs].fsize = st.st_size;
			nmsgs++;
		}
		closedir(dp);
	}
	if (skipped > 0)
		nym_warn("unable to serve all of maildir %s: %zu messages "
		    "past the first %d wait for a later session", maildir,
		    skipped, NYM_POPD_MSGS);
	if (nmsgs > 0)
		qsort(msgs, nmsgs, sizeof *msgs, bytime);
	uniqueids();
	return 0;
}

/* Point the file reader at fd, from its start. */
static void
fileat(int fd)
{
	fin.fd = fd;
	fin.pos = fin.len = 0;
	fin.eof = fin.err = 0;
	fin.off = 0;
}

static int
countsink(void *arg, const unsigned char *p, size_t n)
{
	nym_popd_put(arg, NULL, p, n);
	return 0;
}

/* The size a damaged message is listed with: its plaintext as stored,
 * from the file's size (a record is its header and chunks of at most
 * 64 KiB, each with 21 octets more).  Clients that ask LIST before RETR
 * (fetchmail) then go on to the next message instead of giving up. */
static uint64_t
storedsize(off_t fsize)
{
	uint64_t n, chunks;

	if (fsize <= NYM_SEAL_HDRLEN + NYM_SEAL_OVER)
		return 0;
	n = (uint64_t)fsize - NYM_SEAL_HDRLEN;
	chunks = (n + NYM_SEAL_CHUNK + NYM_SEAL_OVER - 1) /
	    (NYM_SEAL_CHUNK + NYM_SEAL_OVER);
	return n - chunks * NYM_SEAL_OVER;
}

static void
damaged(struct msg *m, size_t n, int err)
{
	m->state = BAD;
	m->size = storedsize(m->fsize);
	nym_warn("unable to decrypt message %zu, %s/%s: %s", n, maildir,
	    m->path, err == EACCES ? "not sealed to this key, or its key "
	    "part damaged" : err == ENOTSUP ? "a later format version" :
	    err == EINVAL ? "not an encrypted message" : err == EBADMSG ?
	    "damaged or changed" : strerror(err));
}

/* Open message n (1-based) for reading, measured and verified.  The
 * descriptor, or -1 with *bad set if the message is damaged or gone,
 * clear for a failure worth retrying (warned about). */
static int
openmsg(size_t n, int *bad)
{
	struct msg *m = &msgs[n - 1];
	struct nym_popd_enc enc;
	struct stat st;
	int fd, e;

	*bad = 1;
	if (m->state == BAD)
		return -1;
	/* O_NONBLOCK: a FIFO put there must not hang the session. */
	fd = openat(mdfd, m->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd != -1) {
		e = fstat(fd, &st) == -1 ? errno : !S_ISREG(st.st_mode) ?
		    EINVAL : 0;
		if (e != 0) {
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	if (fd == -1) {
		/* Gone, or no longer a file: nothing to send, ever. */
		if (errno == ENOENT || errno == EINVAL || errno == ELOOP)
			damaged(m, n, errno);
		else {
			*bad = 0;
			nym_warn("unable to read message %zu, %s/%s: %s", n,
			    maildir, m->path, strerror(errno));
		}
		return -1;
	}
	if (st.st_ino != m->ino || st.st_size != m->fsize ||
	    st.st_mtim.tv_sec != m->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != m->mtime.tv_nsec) {
		m->ino = st.st_ino;	/* replaced: measure it again */
		m->fsize = st.st_size;
		m->mtime = st.st_mtim;
		m->state = UNKNOWN;
	}
	if (m->state == UNKNOWN || m->state == SIZED) {
		fileat(fd);
		nym_popd_begin(&enc, -1);
		if (nym_popd_unseal(&fin, &sec.seal, sec.pk, sec.sk, sec.plain,
		    countsink, &enc) == -1) {
			if (errno == EINVAL || errno == ENOTSUP ||
			    errno == EACCES || errno == EBADMSG)
				damaged(m, n, errno);
			else {
				*bad = 0;
				nym_warn("unable to read message %zu, %s/%s: "
				    "%s", n, maildir, m->path, strerror(errno));
			}
			close(fd);
			return -1;
		}
		nym_popd_end(&enc, NULL);
		if (m->state == UNKNOWN || m->size != enc.size)
			idxdirty = 1;
		m->size = enc.size;
		m->state = GOOD;
		if (lseek(fd, 0, SEEK_SET) == -1) {
			*bad = 0;
			nym_warn("unable to read message %zu, %s/%s: %s", n,
			    maildir, m->path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* The -ERR for a message openmsg could not open. */
static void
refuse(size_t n, int bad)
{
	if (bad)
		reply("-ERR Message %zu is damaged", n);
	else
		reply("-ERR [SYS/TEMP] Unable to read message %zu", n);
}

/* Measure every message not deleted; 0, or -1 after a -ERR reply for
 * a failure worth retrying (damaged messages are only left out). */
static int
measureall(void)
{
	size_t i;
	int fd, bad;

	for (i = 0; i < nmsgs; i++) {
		if (msgs[i].deleted || msgs[i].state != UNKNOWN)
			continue;
		if ((fd = openmsg(i + 1, &bad)) != -1)
			close(fd);
		else if (!bad) {
			reply("-ERR [SYS/TEMP] Unable to read message %zu",
			    i + 1);
			return -1;
		}
	}
	return 0;
}

/* ---- the size index ----
 *
 * Sizes cost a decryption, so the ones a session learnt are kept for the
 * next in maildir/.pop-serve-index (mode 0600), one line a message:
 * "path inode filesize mtime-seconds mtime-nanoseconds size", after a
 * version line and before a line "mac HEX", a keyed BLAKE2b of all
 * before it under a key derived from the inbox's private key, so that
 * only a session that unlocked the key can write one that is believed.
 * A line counts only while the file is the one it describes (same inode,
 * size and time).  A size from the index spares STAT and LIST the
 * decryption; RETR and TOP verify the message all the same.
 */
#define INDEX		".pop-serve-index"
#define INDEXMAGIC	"nymbox-pop-serve-index 1\n"
#define INDEXLINE	NYM_POPD_INDEXLINE
#define MACLEN		32

_Static_assert(NYM_POPD_NAME + 8 == 263, "sscanf width of a path");

static int
bypath(const void *a, const void *b)
{
	const struct msg *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* The MAC of p[0, n) as hex into hex (2 * MACLEN + 1). */
static void
indexmac(const char *p, size_t n, char *hex)
{
	unsigned char mac[MACLEN];
	size_t i;

	nym_mac(sec.idxkey, "nymbox pop-serve size index", p, n, mac,
	    sizeof mac);
	for (i = 0; i < sizeof mac; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* Can path go in the index (no white space, nothing unprintable)? */
static int
indexable(const char *path)
{
	for (; *path != '\0'; path++)
		if (*path <= ' ' || *path >= 127)
			return 0;
	return 1;
}

/* Read the index, if there is a good one, into the messages' sizes. */
static void
loadindex(void)
{
	char hex[2 * MACLEN + 1], path[NYM_POPD_NAME + 8];
	struct msg key, *kp, **v = NULL, **hit;
	unsigned long long ino, fsize, sec_, nsec, size;
	struct stat st;
	char *buf = NULL, *p, *nl, *mac;
	ssize_t n;
	size_t i;
	int fd;

	if ((fd = openat(mdfd, INDEX, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		idxdirty = 1;
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > NYM_POPD_INDEXMAX || st.st_size < 1 ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    (n = nym_read_all(fd, buf, (size_t)st.st_size)) != st.st_size)
		goto bad;
	buf[n] = '\0';
	/* The last line is the MAC of everything before it. */
	if (buf[n - 1] != '\n')
		goto bad;
	buf[n - 1] = '\0';
	if ((mac = strrchr(buf, '\n')) == NULL || strncmp(mac + 1, "mac ", 4)
	    != 0)
		goto bad;
	indexmac(buf, (size_t)(mac + 1 - buf), hex);
	if (strcmp(mac + 5, hex) != 0 || strncmp(buf, INDEXMAGIC,
	    sizeof INDEXMAGIC - 1) != 0)
		goto bad;
	mac[1] = '\0';		/* every line before it ends in LF */
	if (nmsgs > 0 && (v = calloc(nmsgs, sizeof *v)) == NULL)
		goto out;
	for (i = 0; i < nmsgs; i++)
		v[i] = &msgs[i];
	if (nmsgs > 0)
		qsort(v, nmsgs, sizeof *v, bypath);
	kp = &key;
	key.path = path;
	for (p = buf + sizeof INDEXMAGIC - 1; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		if (sscanf(p, "%262s %llu %llu %llu %llu %llu", path, &ino,
		    &fsize, &sec_, &nsec, &size) != 6 || nmsgs == 0 ||
		    (hit = bsearch(&kp, v, nmsgs, sizeof *v, bypath)) == NULL)
			continue;
		if ((*hit)->state == UNKNOWN && (*hit)->ino == (ino_t)ino &&
		    (unsigned long long)(*hit)->fsize == fsize &&
		    (unsigned long long)(*hit)->mtime.tv_sec == sec_ &&
		    (unsigned long long)(*hit)->mtime.tv_nsec == nsec) {
			(*hit)->size = size;
			(*hit)->state = SIZED;
		}
	}
	goto out;
bad:
	nym_warn("unable to use %s/%s: changed or damaged; sizes are "
	    "measured again", maildir, INDEX);
	idxdirty = 1;
out:
	free(v);
	free(buf);
	close(fd);
}

/* Write the index of what is still there (after QUIT's deletions).  It
 * is a cache: a failure only costs the next session time. */
static void
saveindex(void)
{
	char hex[2 * MACLEN + 1], *buf;
	size_t i, len, cap;
	int n;

	cap = sizeof INDEXMAGIC + (nmsgs + 1) * INDEXLINE;
	if ((buf = malloc(cap)) == NULL)
		return;
	memcpy(buf, INDEXMAGIC, sizeof INDEXMAGIC - 1);
	len = sizeof INDEXMAGIC - 1;
	for (i = 0; i < nmsgs; i++) {
		if (msgs[i].deleted || (msgs[i].state != GOOD &&
		    msgs[i].state != SIZED) || !indexable(msgs[i].path))
			continue;
		n = snprintf(buf + len, cap - len, "%s %llu %llu %llu %llu "
		    "%llu\n", msgs[i].path, (unsigned long long)msgs[i].ino,
		    (unsigned long long)msgs[i].fsize,
		    (unsigned long long)msgs[i].mtime.tv_sec,
		    (unsigned long long)msgs[i].mtime.tv_nsec,
		    (unsigned long long)msgs[i].size);
		if (n > 0 && (size_t)n < cap - len)
			len += (size_t)n;
	}
	indexmac(buf, len, hex);
	n = snprintf(buf + len, cap - len, "mac %s\n", hex);
	if (n > 0 && (size_t)n < cap - len && nym_atomic_write(maildir, INDEX,
	    buf, len + (size_t)n, 0600, 0) == -1)
		nym_warn("unable to write %s/%s: %s", maildir, INDEX,
		    strerror(errno));
	free(buf);
}

/* ---- commands of the transaction state ---- */

/* The message a number argument names, or 0 after a -ERR reply. */
static size_t
msgarg(const char *a, const char **end)
{
	long n = nym_popd_num(a, end);

	if (n == -1) {
		protoerr("-ERR Expected a message number");
		return 0;
	}
	if (n < 1 || (size_t)n > nmsgs || msgs[n - 1].deleted) {
		reply("-ERR No such message");
		return 0;
	}
	return (size_t)n;
}

static void
cmd_stat(void)
{
	uint64_t octets = 0;
	size_t i, count = 0;

	if (measureall() == -1)
		return;
	for (i = 0; i < nmsgs; i++) {
		if (msgs[i].deleted)
			continue;
		count++;
		octets += msgs[i].size;
	}
	reply("+OK %zu %llu", count, (unsigned long long)octets);
}

static void
cmd_list(const char *a)
{
	const char *end;
	size_t i, n;
	int fd, bad;

	if (*a != '\0') {
		if ((n = msgarg(a, &end)) == 0)
			return;
		if (*end != '\0') {
			protoerr("-ERR Syntax: LIST [message]");
			return;
		}
		if (msgs[n - 1].state == UNKNOWN) {
			if ((fd = openmsg(n, &bad)) != -1)
				close(fd);
			else if (!bad) {
				refuse(n, bad);
				return;
			}
		}
		reply("+OK %zu %llu", n, (unsigned long long)msgs[n - 1].size);
		return;
	}
	if (measureall() == -1)
		return;
	reply("+OK Scan listing follows");
	for (i = 0; i < nmsgs; i++)
		if (!msgs[i].deleted)
			reply("%zu %llu", i + 1,
			    (unsigned long long)msgs[i].size);
	reply(".");
}

static void
cmd_uidl(const char *a)
{
	const char *end;
	size_t i, n;

	if (*a != '\0') {
		if ((n = msgarg(a, &end)) == 0)
			return;
		if (*end != '\0')
			protoerr("-ERR Syntax: UIDL [message]");
		else
			reply("+OK %zu %s", n, msgs[n - 1].uid);
		return;
	}
	reply("+OK Unique-id listing follows");
	for (i = 0; i < nmsgs; i++)
		if (!msgs[i].deleted)
			reply("%zu %s", i + 1, msgs[i].uid);
	reply(".");
}

struct sending {
	struct nym_popd_enc enc;
	size_t n;
	int started;
};

static int
sendsink(void *arg, const unsigned char *p, size_t n)
{
	struct sending *s = arg;

	if (!s->started) {
		/* The first chunk verified: now the answer can be +OK. */
		s->started = 1;
		if (s->enc.lines < 0)
			reply("+OK %llu octets", (unsigned long long)
			    msgs[s->n - 1].size);
		else
			reply("+OK Top of message follows");
	}
	if (out.err != 0)
		return 2;	/* the client is gone */
	return nym_popd_put(&s->enc, &out, p, n);
}

/* RETR (lines < 0) and TOP. */
static void
sendmsg_(size_t n, long lines)
{
	struct sending s;
	int fd, r, e, bad;

	if ((fd = openmsg(n, &bad)) == -1) {
		refuse(n, bad);
		return;
	}
	memset(&s, 0, sizeof s);
	s.n = n;
	/* A client that reads a byte now and then cannot hold us: the
	 * message goes out within -w plus a second per 500 bytes. */
	out.deadline = nym_now_ms() + idlems;
	out.rate = NYM_MIN_RATE;
	nym_popd_begin(&s.enc, lines);
	fileat(fd);
	r = nym_popd_unseal(&fin, &sec.seal, sec.pk, sec.sk, sec.plain,
	    sendsink, &s);
	e = errno;
	close(fd);
	if (r == 2)
		exit(NYM_EX_TEMPFAIL);
	if (r == -1) {
		bad = e == EINVAL || e == ENOTSUP || e == EACCES ||
		    e == EBADMSG;
		if (bad)
			damaged(&msgs[n - 1], n, e);
		else
			nym_warn("unable to read message %zu, %s/%s: %s", n,
			    maildir, msgs[n - 1].path, strerror(e));
		/* Part of it is out: cut the connection before the final
		 * dot, so the client cannot take it for the whole. */
		if (s.started)
			exit(NYM_EX_TEMPFAIL);
		refuse(n, bad);
		return;
	}
	if (!s.started)
		reply("+OK");
	nym_popd_end(&s.enc, &out);
	out.deadline = 0;
	out.rate = 0;
	if (lines < 0 && s.enc.size != msgs[n - 1].size)
		nym_warn("unable to send message %zu, %s/%s, at the size "
		    "listed: it changed during the session", n, maildir,
		    msgs[n - 1].path);
}

static void
cmd_retr(const char *a)
{
	const char *end;
	size_t n;

	if ((n = msgarg(a, &end)) == 0)
		return;
	if (*end != '\0') {
		protoerr("-ERR Syntax: RETR message");
		return;
	}
	sendmsg_(n, -1);
}

static void
cmd_top(const char *a)
{
	const char *end;
	long lines;
	size_t n;

	if ((n = msgarg(a, &end)) == 0)
		return;
	if (*end != ' ' || (lines = nym_popd_num(end + 1, &end)) == -1 ||
	    *end != '\0') {
		protoerr("-ERR Syntax: TOP message lines");
		return;
	}
	sendmsg_(n, lines);
}

static void
cmd_dele(const char *a)
{
	const char *end;
	size_t n;

	if ((n = msgarg(a, &end)) == 0)
		return;
	if (*end != '\0') {
		protoerr("-ERR Syntax: DELE message");
		return;
	}
	msgs[n - 1].deleted = 1;
	reply("+OK Message %zu deleted", n);
}

static void
cmd_rset(void)
{
	size_t i;

	for (i = 0; i < nmsgs; i++)
		msgs[i].deleted = 0;
	reply("+OK");
}

/* The UPDATE state: remove what was marked, make it durable. */
static void __attribute__((noreturn))
update(void)
{
	size_t i, gone = 0, failed = 0;
	int sub[2] = { 0, 0 };

	for (i = 0; i < nmsgs; i++) {
		if (!msgs[i].deleted)
			continue;
		if (unlinkat(mdfd, msgs[i].path, 0) == -1 && errno != ENOENT) {
			nym_warn("unable to remove %s/%s: %s", maildir,
			    msgs[i].path, strerror(errno));
			failed++;
			continue;
		}
		sub[msgs[i].path[0] == 'c'] = 1;
		gone++;
	}
	if ((sub[0] && nym_syncdirat(mdfd, "new") == -1) ||
	    (sub[1] && nym_syncdirat(mdfd, "cur") == -1)) {
		nym_warn("unable to sync maildir %s: %s", maildir,
		    strerror(errno));
		failed++;
	}
	if (failed > 0)
		hangup(NYM_EX_TEMPFAIL, "-ERR [SYS/TEMP] Some deleted "
		    "messages not removed");
	reply("+OK %zu messages removed", gone);
	flushout();
	if (idxdirty || gone > 0)
		saveindex();
	exit(NYM_EX_OK);
}

/* ---- the authorization state ---- */

/* Check name and password (of pwlen bytes in sec.pw): both right
 * unlocks the key and, if the maildir is free, starts the transaction.
 * Any failure is answered only when the fixed delay has passed since
 * the command came, so that a wrong user name, a wrong password and a
 * slow Argon2id all look the same. */
static void
login(const char *name, size_t pwlen)
{
	long long t0 = nym_now_ms();
	int r, e, userok, nf;

	userok = strcmp(name, expect) == 0;
	/* The failures of every session count (a guesser opens many);
	 * past the limit no password is tried until old ones age out. */
	if ((nf = nym_authfail(ledger, failwin, 0)) == -1)
		nym_warn("unable to use login ledger %s: %s", ledger,
		    strerror(errno));
	else if (nf >= failmax) {
		nym_wipe(sec.pw, sizeof sec.pw);
		nym_sleep_until(t0 + (long long)delay * 1000);
		nym_warn("refused login %s: %d failed logins in %d s",
		    clean(name), nf, failwin);
		if (++authfail >= NYM_POPD_AUTHFAIL)
			hangup(NYM_EX_NOPERM, "-ERR [SYS/TEMP] Too many "
			    "failed logins, closing");
		reply("-ERR [SYS/TEMP] Too many failed logins, try again "
		    "later");
		return;
	}
	/* The key is unlocked whatever the name: the same work, the same
	 * time for every failure. */
	r = nym_seal_unlock(sec.keyfile, keylen, sec.pw, pwlen, sec.pk,
	    sec.sk);
	e = errno;
	nym_wipe(sec.pw, sizeof sec.pw);
	if (r == -1 && e != EACCES) {
		nym_wipe(sec.sk, sizeof sec.sk);
		if (e == ENOMEM) {
			nym_warn("unable to unlock private key %s: out of "
			    "memory", keypath);
			reply("-ERR [SYS/TEMP] Try again later");
			return;
		}
		nym_warn("unable to unlock private key %s: %s", keypath,
		    e == ENOTSUP ? "a later version" : "damaged");
		hangup(NYM_EX_CONFIG, "-ERR [SYS/PERM] Server not configured");
	}
	if (r == -1 || !userok) {
		if (nym_authfail(ledger, failwin, 1) == -1)
			nym_warn("unable to use login ledger %s: %s", ledger,
			    strerror(errno));
		nym_wipe(sec.sk, sizeof sec.sk);
		nym_wipe(sec.pk, sizeof sec.pk);
		nym_sleep_until(t0 + (long long)delay * 1000);
		nym_warn("refused login %s: wrong user name or password",
		    clean(name));
		if (++authfail >= NYM_POPD_AUTHFAIL)
			hangup(NYM_EX_NOPERM, "-ERR [AUTH] Authentication "
			    "failed, closing");
		reply("-ERR [AUTH] Authentication failed");
		return;
	}
	if (flock(mdfd, LOCK_EX | LOCK_NB) == -1) {
		nym_wipe(sec.sk, sizeof sec.sk);
		if (errno == EWOULDBLOCK) {
			reply("-ERR [IN-USE] Maildrop in use by another "
			    "session");
			return;
		}
		nym_warn("unable to lock maildir %s: %s", maildir,
		    strerror(errno));
		reply("-ERR [SYS/TEMP] Unable to lock the maildrop");
		return;
	}
	if (scan() == -1) {
		nym_warn("unable to read maildir %s: %s", maildir,
		    strerror(errno));
		hangup(NYM_EX_TEMPFAIL, "-ERR [SYS/TEMP] Unable to read the "
		    "maildrop");
	}
	nym_mac(sec.sk, "nymbox pop-serve index key", "", 0, sec.idxkey,
	    sizeof sec.idxkey);
	loadindex();
	authed = 1;
	reply("+OK Maildrop ready, %zu messages", nmsgs);
}

static void
cmd_pass(const char *a)
{
	size_t n = strlen(a);

	if (!haveuser) {
		protoerr("-ERR USER first");
		return;
	}
	haveuser = 0;
	if (n > NYM_POPD_PASS) {
		/* Too long to be right: a failure like any other (a LF is
		 * never part of a password). */
		memcpy(sec.pw, "\n", 2);
		n = 1;
	} else
		memcpy(sec.pw, a, n + 1);
	wipein();
	login(user, n);
}

static void
cmd_user(const char *a)
{
	if (*a == '\0') {
		protoerr("-ERR Syntax: USER name");
		return;
	}
	/* Any name is taken here: whether it is known shows nowhere.  One
	 * too long to be right becomes one that is never right. */
	if (strlen(a) > NYM_POPD_USER)
		user[0] = '\0';
	else
		snprintf(user, sizeof user, "%s", a);
	haveuser = 1;
	reply("+OK");
}

static void
cmd_auth(const char *a)
{
	size_t mlen = strcspn(a, " "), pwlen;
	const char *ir = a[mlen] == ' ' ? a + mlen + 1 : NULL;
	int r;

	if (mlen == 0) {
		/* The mechanisms, for clients of draft RFC 1734 days. */
		reply("+OK");
		reply("PLAIN");
		reply(".");
		return;
	}
	if (mlen != 5 || strncasecmp(a, "PLAIN", 5) != 0) {
		protoerr("-ERR Unrecognized authentication type");
		return;
	}
	haveuser = 0;
	if (ir == NULL) {
		reply("+ ");
		if (getcmd() == -1) {
			wipein();
			return;
		}
		ir = sec.line;
	}
	if (strcmp(ir, "*") == 0) {
		wipein();
		protoerr("-ERR Authentication cancelled");
		return;
	}
	if (strcmp(ir, "=") == 0)
		ir = "";	/* an empty initial response */
	r = nym_popd_plain(ir, sec.user, sizeof sec.user, sec.pw,
	    sizeof sec.pw, &pwlen);
	wipein();
	if (r == -1 && errno == EINVAL) {
		protoerr("-ERR Malformed PLAIN response");
		return;
	}
	if (r == -1) {
		/* Too long, or acting for another: a failed login. */
		sec.user[0] = '\0';
		memcpy(sec.pw, "\n", 2);
		pwlen = 1;
	}
	login(sec.user, pwlen);
	nym_wipe(sec.user, sizeof sec.user);
}

/* ---- the session ---- */

static void
capa(void)
{
	reply("+OK Capability list follows");
	reply("TOP");
	reply("UIDL");
	if (!authed) {
		reply("USER");
		reply("SASL PLAIN");
	}
	reply("PIPELINING");
	reply("RESP-CODES");
	reply("AUTH-RESP-CODE");
	reply(".");
}

static void
session(void)
{
	const char *a;
	char v[5];

	ls.ms = idlems;
	ls.session = sessionsecs;
	ls.sessionend = nym_now_ms() + (long long)sessionsecs * 1000;
	reply("+OK POP3 server ready");
	for (;;) {
		if (getcmd() == -1)
			continue;
		if (nym_popd_verb(sec.line, v, &a) == -1) {
			wipein();
			protoerr("-ERR Unknown command");
			continue;
		}
		if (strcmp(v, "CAPA") == 0)
			capa();
		else if (strcmp(v, "QUIT") == 0) {
			if (authed)
				update();
			hangup(NYM_EX_OK, "+OK Bye");
		} else if (!authed) {
			if (strcmp(v, "USER") == 0)
				cmd_user(a);
			else if (strcmp(v, "PASS") == 0)
				cmd_pass(a);
			else if (strcmp(v, "AUTH") == 0)
				cmd_auth(a);
			else
				protoerr("-ERR Log in first");
			/* Whatever it was, it may have held a password. */
			wipein();
		} else if (strcmp(v, "STAT") == 0 && *a == '\0')
			cmd_stat();
		else if (strcmp(v, "LIST") == 0)
			cmd_list(a);
		else if (strcmp(v, "UIDL") == 0)
			cmd_uidl(a);
		else if (strcmp(v, "RETR") == 0)
			cmd_retr(a);
		else if (strcmp(v, "TOP") == 0)
			cmd_top(a);
		else if (strcmp(v, "DELE") == 0)
			cmd_dele(a);
		else if (strcmp(v, "RSET") == 0 && *a == '\0')
			cmd_rset();
		else if (strcmp(v, "NOOP") == 0 && *a == '\0')
			reply("+OK");
		else
			protoerr("-ERR Unknown command or bad arguments");
	}
}

/* ---- set-up ---- */

/* Read the private key file (ours, mode 0600 or stricter) whole. */
static int
readkey(const char *path)
{
	ssize_t n;

	if ((n = nym_read_small(path, sec.keyfile, sizeof sec.keyfile,
	    1)) == -1 && errno != EFBIG)
		return -1;
	if (n != NYM_SEAL_KEYFILE) {
		errno = EINVAL;
		return -1;
	}
	keylen = (size_t)n;
	return 0;
}

/* Say what is wrong on stderr and, to the client, that the service is
 * not there. */
static void __attribute__((noreturn))
unconfigured(int code, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	nym_warn("%s", buf);
	hangup(code, "-ERR [SYS/PERM] Service not available");
}

int
main(int argc, char *argv[])
{
	static char keybuf[PATH_MAX], why[PATH_MAX + 64];
	const char *where, *failarg = NULL, *sessarg = NULL;
	int c, n;

	nym_start(argc, argv, USAGE);
	nym_quietstderr();
	while ((c = getopt(argc, argv, "D:d:F:K:T:u:w:")) != -1) {
		switch (c) {
		case 'D':
			delay = (int)nym_num(NYM_EX_USAGE, "-D", optarg, 0, 60);
			break;
		case 'd': maildir = optarg; break;
		case 'F': failarg = optarg; break;
		case 'K': keypath = optarg; break;
		case 'T': sessarg = optarg; break;
		case 'u': expect = optarg; break;
		case 'w':
			idlems = (int)nym_num(NYM_EX_USAGE, "-w", optarg, 1,
			    86400) * 1000;
			break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (nym_in_open(&in, STDIN_FILENO, NYM_POPD_CMDBUF) == -1 ||
	    nym_out_open(&out, STDOUT_FILENO, NYM_POPD_OUTBUF) == -1 ||
	    nym_in_open(&fin, -1, NYM_POPD_FILEBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	in.ms = out.ms = idlems;
	/* Locked where the system lets us: the key, the password, the
	 * plaintext, and the buffers they pass through. */
	(void)mlock(&sec, sizeof sec);
	(void)mlock(in.buf, in.cap);
	(void)mlock(out.buf, out.cap);
	atexit(cleanup);

	if (nym_conf_load(&where) == -1)
		unconfigured(NYM_EX_CONFIG, "unable to read configuration %s: "
		    "%s", where, strerror(errno));
	if (maildir == NULL)
		maildir = nym_conf_get("pop-maildir");
	if (expect == NULL)
		expect = nym_conf_get("pop-user");
	if (keypath == NULL && (keypath = nym_conf_get("inbox-private-key")) ==
	    NULL) {
		n = nym_confdir(keybuf, sizeof keybuf) == -1 ? -1 :
		    snprintf(keybuf + strlen(keybuf), sizeof keybuf -
		    strlen(keybuf), "/inbox.key");
		if (n < 0 || strlen(keybuf) + 1 >= sizeof keybuf)
			unconfigured(NYM_EX_CONFIG, "unable to find the "
			    "private key: give it with -K");
		keypath = keybuf;
	}
	if (maildir == NULL || expect == NULL)
		usage();
	if (sessarg != NULL)
		sessionsecs = (int)nym_num(NYM_EX_USAGE, "-T", sessarg, 1,
		    86400);
	else if ((sessarg = nym_conf_get("pop-session-time")) != NULL)
		sessionsecs = (int)nym_num(NYM_EX_CONFIG, "pop-session-time",
		    sessarg,
		    1, 86400);
	if (failarg == NULL &&
	    (failarg = nym_conf_get("pop-auth-failures")) == NULL)
		failarg = "10/600";
	nym_authlimit(failarg, &failmax, &failwin);
	if ((size_t)snprintf(ledger, sizeof ledger, "%s.fails", keypath) >=
	    sizeof ledger)
		nym_die(NYM_EX_USAGE, "unable to use private key %s: name too "
		    "long", keypath);
	if (*expect == '\0' || strlen(expect) > NYM_POPD_USER)
		nym_die(NYM_EX_USAGE, "unable to use user name %s",
		    clean(expect));
	if (nym_crypto_init() == -1)
		unconfigured(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	if (readkey(keypath) == -1)
		unconfigured(NYM_EX_CONFIG, "unable to read private key %s: %s",
		    keypath, errno == EINVAL ? "not a private key file" :
		    nym_secretwhy(keypath, errno, why, sizeof why));
	/* mbox-encrypt -d makes the maildir on first delivery; a session
	 * before that sees an empty one. */
	if (nym_maildir_make(maildir) == -1 ||
	    (mdfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		unconfigured(nym_exitcode(errno) == NYM_EX_TEMPFAIL ?
		    NYM_EX_TEMPFAIL : NYM_EX_CONFIG, "unable to open maildir "
		    "%s: %s", maildir, strerror(errno));
	session();
	return NYM_EX_OK;
}
