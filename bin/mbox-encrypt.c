/*
 * mbox-encrypt - keep mail encrypted at rest.
 *
 * The OnionMail model: the program that stores mail holds only the
 * inbox's public key, so the machine that keeps the mailbox cannot read
 * it; the private key, locked under a password, is needed only to read.
 * Each message becomes one record of the format in seal.c, written in
 * 64 KiB chunks so that a 50 MB message costs no more memory than a
 * short one.  Into a maildir, a record goes under a random name (no
 * time, host, pid or size) through tmp/ like any maildir delivery.
 * Decryption writes a chunk only after it has been verified, and a file
 * that ends before its last chunk is an error: with -o the output is
 * renamed into place only when everything verified, on standard output
 * it is complete only if the exit status is 0.  Converting an mbox or a
 * maildir in place never removes a message before its encrypted copy is
 * durable: a crash leaves at worst both copies.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "seal.h"
#include "store.h"

#define USAGE "usage: mbox-encrypt [-gix] [-d maildir] [-F fd] " \
	"[-K privkey] [-k pubkey] [-o file] [-P passfile] [file ...]\n"

#define OPS	3		/* Argon2id passes */
#define MEM	((uint64_t)64 << 20)	/* Argon2id memory */

/* Secrets in one place, locked in memory where the system lets us. */
static struct {
	char pw[NYM_PASS_MAX + 2], pw2[NYM_PASS_MAX + 2];
	size_t pwlen;
	unsigned char pk[NYM_SEAL_PKLEN], sk[NYM_SEAL_SKLEN];
	unsigned char keyfile[NYM_SEAL_KEYFILE + 1];
	struct nym_seal seal;
	unsigned char plain[NYM_SEAL_CHUNK];
} sec;

static const char *passfile, *passfd;

/* The temporary file of the output being written (atomic.c), removed
 * at exit: -o's or an mbox's beside it, or a maildir's in tmp/. */
static struct nym_afile out = { .fd = -1 };
static struct nym_mdfile mdf = { .fd = -1 };
/* The mbox being encrypted in place, locked until it is replaced. */
static struct nym_mbox mbx = { .fd = -1 };

static void
usage(void)
{
	nym_usage();
}

static void
cleanup(void)
{
	nym_afile_abort(&out);
	nym_maildir_abort(&mdf);
	(void)nym_mbox_unlock(&mbx);
	nym_wipe(&sec, sizeof sec);
}

/* ---- keys and passwords ---- */

/* The first line of buf[0, n) as the password. */
static void
setpw(char *pw, size_t n, size_t *len)
{
	char *nl;

	pw[n] = '\0';
	if ((nl = memchr(pw, '\n', n)) != NULL) {
		*nl = '\0';
		n = (size_t)(nl - pw);
	}
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	*len = n;
}

/* Prompt on the terminal with echo off.  Returns the length. */
static size_t
prompt(int tty, const char *what, char *pw)
{
	struct termios t, saved;
	size_t n = 0;
	ssize_t r;
	char c;
	int noecho;

	/* Echo off before the prompt: what is typed once it shows must
	 * never appear on the screen. */
	noecho = tcgetattr(tty, &saved) == 0;
	if (noecho) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		t.c_lflag |= ICANON;
		(void)tcsetattr(tty, TCSAFLUSH, &t);
	}
	(void)nym_write_all(tty, what, strlen(what));
	while ((r = read(tty, &c, 1)) == 1 && c != '\n')
		if (n <= NYM_PASS_MAX)
			pw[n++] = c;
	c = '\0';
	if (noecho)
		(void)tcsetattr(tty, TCSAFLUSH, &saved);
	(void)nym_write_all(tty, "\n", 1);
	if (r == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read the password");
	if (n > NYM_PASS_MAX)
		nym_die(NYM_EX_CONFIG, "unable to use the password: longer "
		    "than %d bytes", NYM_PASS_MAX);
	pw[n] = '\0';
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	return n;
}

/* The password into sec.pw: from -P, -F or the terminal (twice with
 * confirm).  Never from argv or the environment. */
static void
getpw(int confirm)
{
	char why[PATH_MAX + 64];
	ssize_t n, r;
	long fd;
	int tty;

	if (passfile != NULL) {
		/* Room for a line end after a password of NYM_PASS_MAX. */
		n = nym_read_small(passfile, sec.pw, NYM_PASS_MAX + 1, 1);
		if (n == -1 && errno == EFBIG)
			nym_die(NYM_EX_CONFIG, "unable to use the password: "
			    "longer than %d bytes", NYM_PASS_MAX);
		if (n == -1)
			nym_die(NYM_EX_CONFIG, "unable to read password file "
			    "%s: %s", passfile, nym_secretwhy(passfile, errno,
			    why, sizeof why));
		setpw(sec.pw, (size_t)n, &sec.pwlen);
		if (sec.pwlen > NYM_PASS_MAX)
			nym_die(NYM_EX_CONFIG, "unable to use the password: "
			    "longer than %d bytes", NYM_PASS_MAX);
	} else if (passfd != NULL) {
		/* A byte at a time: the line is ours, what follows is not. */
		fd = nym_num(NYM_EX_USAGE, "-F", passfd, 0, INT_MAX);
		/* One byte past the limit, so a password of exactly
		 * NYM_PASS_MAX bytes is told from a longer one. */
		for (n = 0; n <= NYM_PASS_MAX; n++) {
			if ((r = read((int)fd, sec.pw + n, 1)) == -1 &&
			    errno == EINTR) {
				n--;
				continue;
			}
			if (r == -1)
				nym_dieerr(NYM_EX_CONFIG, "unable to read the "
				    "password from descriptor %ld", fd);
			if (r == 0 || sec.pw[n] == '\n')
				break;
		}
		if (n > NYM_PASS_MAX)
			nym_die(NYM_EX_CONFIG, "unable to use the password: "
			    "longer than %d bytes", NYM_PASS_MAX);
		setpw(sec.pw, (size_t)n, &sec.pwlen);
	} else {
		if ((tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) ==
		    -1)
			nym_die(NYM_EX_USAGE, "unable to read the password: "
			    "no terminal (use -P or -F)");
		sec.pwlen = prompt(tty, "Password: ", sec.pw);
		if (confirm && (prompt(tty, "Again: ", sec.pw2) != sec.pwlen ||
		    memcmp(sec.pw, sec.pw2, sec.pwlen) != 0)) {
			close(tty);
			nym_die(NYM_EX_USAGE, "unable to set the password: "
			    "the two differ");
		}
		close(tty);
	}
	if (confirm && sec.pwlen == 0)
		nym_die(NYM_EX_USAGE, "unable to set the password: it is empty");
}

/* Key file paths: an option, the configuration, or the default. */
static const char *
keypath(const char *opt, const char *confkey, const char *base, char *buf,
    size_t cap)
{
	const char *v;

	if (opt != NULL)
		return opt;
	if ((v = nym_conf_get(confkey)) != NULL)
		return v;
	if (nym_confdir(buf, cap) == -1 || strlen(buf) + strlen(base) + 2 >
	    cap || snprintf(buf + strlen(buf), cap - strlen(buf), "/%s",
	    base) < 0)
		nym_die(NYM_EX_CONFIG, "unable to find the %s key: give it "
		    "with %s", strcmp(base, "inbox.pub") == 0 ? "public" :
		    "private", strcmp(base, "inbox.pub") == 0 ? "-k" : "-K");
	return buf;
}

static void
loadpub(const char *path)
{
	unsigned char b[NYM_SEAL_PUBFILE + 1];
	ssize_t n;

	if ((n = nym_read_small(path, b, sizeof b, 0)) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read public key %s", path);
	if (nym_seal_pubparse(b, (size_t)n, sec.pk) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use public key %s: %s", path,
		    errno == ENOTSUP ? "a later version" : "not a public key");
}

static void
unlockpriv(const char *path)
{
	char why[PATH_MAX + 64];
	ssize_t n;

	if ((n = nym_read_small(path, sec.keyfile, sizeof sec.keyfile, 1)) == -1)
		nym_die(NYM_EX_CONFIG, "unable to read private key %s: %s", path,
		    nym_secretwhy(path, errno, why, sizeof why));
	getpw(0);
	if (nym_seal_unlock(sec.keyfile, (size_t)n, sec.pw, sec.pwlen, sec.pk,
	    sec.sk) == -1) {
		if (errno == EACCES)
			nym_die(NYM_EX_NOPERM, "unable to unlock private key "
			    "%s: wrong password", path);
		nym_die(errno == ENOMEM ? NYM_EX_TEMPFAIL : NYM_EX_CONFIG,
		    "unable to unlock private key %s: %s", path,
		    errno == ENOTSUP ? "a later version" : errno == ENOMEM ?
		    "out of memory" : "damaged");
	}
	nym_wipe(sec.pw, sizeof sec.pw);
}

/* dir and base name of path into dir (cap bytes); returns the base. */
static const char *
splitpath(const char *path, char *dir, size_t cap)
{
	const char *base = nym_splitpath(path, dir, cap);

	if (base == NULL)
		nym_die(NYM_EX_USAGE, "unable to use %s: path too long", path);
	return base;
}

static void
genkeys(const char *pubpath, const char *privpath)
{
	unsigned char pub[NYM_SEAL_PUBFILE];
	char dir[PATH_MAX];
	const char *base;
	struct stat st;

	if (lstat(privpath, &st) == 0 || lstat(pubpath, &st) == 0)
		nym_die(NYM_EX_CONFIG, "unable to create the keys: "
		    "%s exists", lstat(privpath, &st) == 0 ? privpath : pubpath);
	getpw(1);
	if (nym_seal_keypair(sec.pk, sec.sk) == -1 ||
	    nym_seal_lock(sec.sk, sec.pw, sec.pwlen, OPS, MEM, sec.keyfile) ==
	    -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create the keys");
	nym_wipe(sec.pw, sizeof sec.pw);
	nym_wipe(sec.sk, sizeof sec.sk);
	nym_seal_pubfile(sec.pk, pub);
	base = splitpath(privpath, dir, sizeof dir);
	if (nym_mkdirs(dir, 0700) == -1 || nym_atomic_write(dir, base,
	    sec.keyfile, NYM_SEAL_KEYFILE, 0600, NYM_ATOMIC_NOCLOBBER) == -1)
		nym_dieerr(errno == EEXIST ? NYM_EX_CONFIG :
		    nym_exitcode(errno), "unable to create private key %s",
		    privpath);
	base = splitpath(pubpath, dir, sizeof dir);
	if (nym_mkdirs(dir, 0700) == -1 || nym_atomic_write(dir, base, pub,
	    sizeof pub, 0600, NYM_ATOMIC_NOCLOBBER) == -1) {
		int e = errno;

		unlink(privpath);
		errno = e;
		nym_dieerr(e == EEXIST ? NYM_EX_CONFIG : nym_exitcode(e),
		    "unable to create public key %s", pubpath);
	}
}

/* ---- output: standard output, a file put in place, or a maildir ---- */

static const char *outpath;	/* -o */
static char outdir[PATH_MAX];
static const char *outbase;	/* outpath's name in outdir */

/* Where the output goes; returns the descriptor to write to.  Into a
 * maildir under a name that says nothing (128 random bits). */
static int
outopen(const char *maildir)
{
	if (maildir != NULL) {
		if (nym_maildir_make(maildir) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to create "
			    "maildir %s", maildir);
		if (nym_maildir_open_random(&mdf, maildir) == -1) {
			if (errno == ENAMETOOLONG)
				nym_die(NYM_EX_USAGE, "unable to use maildir "
				    "%s: name too long", maildir);
			nym_dieerr(nym_exitcode(errno), "unable to create a "
			    "file in maildir %s", maildir);
		}
		return mdf.fd;
	}
	if (outpath == NULL)
		return STDOUT_FILENO;
	outbase = splitpath(outpath, outdir, sizeof outdir);
	if (nym_afile_beside(&out, outdir, outbase, 0600) == -1) {
		if (errno == ENAMETOOLONG)
			nym_die(NYM_EX_USAGE, "unable to write %s: name too "
			    "long", outpath);
		nym_dieerr(nym_exitcode(errno), "unable to create %s", outpath);
	}
	return out.fd;
}

/* Make the output durable and visible. */
static void
outcommit(struct nym_out *o, const char *maildir)
{
	if (nym_out_flush(o) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write %s", maildir !=
		    NULL ? maildir : outpath != NULL ? outpath :
		    "standard output");
	if (maildir != NULL) {
		if (nym_maildir_commit(&mdf) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to deliver to "
			    "maildir %s", maildir);
	} else if (outpath != NULL) {
		if (nym_afile_commit(&out, outdir, outbase, 0) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to write %s",
			    outpath);
	}
	o->fd = -1;
}

/* ---- encryption ---- */

static size_t encn;		/* plaintext bytes waiting in sec.plain */

/* Seal p[0, n) as the next chunk straight into o's buffer (NYM_ENC_OUTBUF holds
 * a whole one), not through a copy. */
static void
enc_put(struct nym_out *o, const void *p, size_t n, int final)
{
	size_t m = n + NYM_SEAL_OVER;

	if (o->cap - o->len < m)
		(void)nym_out_flush(o);	/* empties it; errors are sticky */
	m = nym_seal_put(&sec.seal, p, n, final,
	    (unsigned char *)o->buf + o->len);
	o->len += m;
	o->total += m;
}

/* The waiting plaintext as the next chunk. */
static void
enc_chunk(struct nym_out *o, int final)
{
	enc_put(o, sec.plain, encn, final);
	encn = 0;
}

static void
enc_begin(struct nym_out *o)
{
	unsigned char hdr[NYM_SEAL_HDRLEN];

	if (nym_seal_begin(&sec.seal, sec.pk, hdr) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to start a message");
	nym_out_write(o, hdr, sizeof hdr);
	encn = 0;
}

/* A full chunk goes out only once more bytes come, so that the last
 * chunk is never empty unless the message is. */
static void
enc_flushfull(struct nym_out *o)
{
	if (encn == NYM_SEAL_CHUNK)
		enc_chunk(o, 0);
}

static void
enc_add(struct nym_out *o, const void *p, size_t n)
{
	const char *s = p;
	size_t k;

	while (n > 0) {
		enc_flushfull(o);
		k = NYM_SEAL_CHUNK - encn;
		if (k > n)
			k = n;
		memcpy(sec.plain + encn, s, k);
		encn += k;
		s += k;
		n -= k;
	}
}

/* A file that shrinks under its mapping raises SIGBUS where read(2)
 * would have seen the end: fail as for any read error, tidily. */
static void
onbus(int sig)
{
	static const char msg[] = ": unable to read the message: the file "
	    "shrank while it was read\n";

	(void)sig;
	(void)nym_write_all(STDERR_FILENO, nym_progname,
	    strlen(nym_progname));
	(void)nym_write_all(STDERR_FILENO, msg, sizeof msg - 1);
	if (out.tmp[0] != '\0')
		(void)unlink(out.tmp);
	if (mdf.tmp[0] != '\0')
		(void)unlink(mdf.tmp);
	_exit(NYM_EX_TEMPFAIL);
}

/* Encrypt the full chunks of a regular file of at least NYM_ENC_MAPMIN bytes
 * from read-only mappings, so that the kernel copies nothing (a fifth of
 * the time of a 50 MB message).  A chunk is taken only if the file goes
 * on after it, and the mappings cover NYM_ENC_MAPWIN bytes at a time, so memory
 * stays flat.  The rest, one chunk at most, and whatever the file holds
 * by then, is left to enc_fd, the file offset set after what was taken. */
static void
enc_map(struct nym_out *o, int fd)
{
	struct sigaction sa, old;
	struct stat st;
	unsigned char *map;
	off_t at, end, base;
	size_t win, skew, i;
	long pg;

	if (encn != 0 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (at = lseek(fd, 0, SEEK_CUR)) == -1 ||
	    st.st_size - at < NYM_ENC_MAPMIN ||
	    (pg = sysconf(_SC_PAGESIZE)) <= 0)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onbus;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGBUS, &sa, &old);
	for (end = st.st_size; end - at > NYM_SEAL_CHUNK; at += (off_t)win) {
		win = (size_t)(end - at - 1) / NYM_SEAL_CHUNK * NYM_SEAL_CHUNK;
		if (win > NYM_ENC_MAPWIN)
			win = NYM_ENC_MAPWIN;
		base = at - at % pg;
		skew = (size_t)(at - base);
		map = mmap(NULL, win + skew, PROT_READ, MAP_PRIVATE, fd, base);
		if (map == MAP_FAILED)
			break;			/* read(2) will do */
		(void)madvise(map, win + skew, MADV_SEQUENTIAL);
		for (i = 0; i < win; i += NYM_SEAL_CHUNK)
			enc_put(o, map + skew + i, NYM_SEAL_CHUNK, 0);
		munmap(map, win + skew);
	}
	(void)sigaction(SIGBUS, &old, NULL);
	if (lseek(fd, at, SEEK_SET) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to read the message");
}

/* Everything fd holds.  0, or -1 with errno of the failed read.  With
 * a full chunk waiting, one byte more tells whether it is the last. */
static int
enc_fd(struct nym_out *o, int fd)
{
	unsigned char one;
	ssize_t r;

	enc_map(o, fd);
	for (;;) {
		if (encn == NYM_SEAL_CHUNK) {
			if ((r = read(fd, &one, 1)) == 0)
				return 0;
			if (r == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			enc_flushfull(o);
			sec.plain[encn++] = one;
		}
		r = read(fd, sec.plain + encn, NYM_SEAL_CHUNK - encn);
		if (r == 0)
			return 0;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		encn += (size_t)r;
	}
}

static void
enc_end(struct nym_out *o)
{
	enc_chunk(o, 1);
}

/* ---- decryption ---- */

/* mboxrd quoting of the messages of a maildir: ">*From " at the start of
 * a line gets one more '>', whatever chunk boundaries fall inside it. */
struct quote {
	int bol;		/* at the start of a line */
	size_t gt, fm;		/* '>' and bytes of "From " held back */
	int last;		/* last byte written, -1 none */
};

static void
held(struct nym_out *o, struct quote *q)
{
	for (; q->gt > 0; q->gt--)
		nym_out_write(o, ">", 1);
	nym_out_write(o, "From ", q->fm);
	q->fm = 0;
}

static void
emit(struct nym_out *o, struct quote *q, const unsigned char *p, size_t n)
{
	size_t i;

	if (q == NULL) {
		nym_out_write(o, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (q->bol) {
			if (q->fm == 0 && p[i] == '>') {
				q->gt++;
				continue;
			}
			if (p[i] == (unsigned char)"From "[q->fm]) {
				if (++q->fm == 5) {
					nym_out_write(o, ">", 1);
					held(o, q);
					q->bol = 0;
					q->last = ' ';
				}
				continue;
			}
			held(o, q);
			q->bol = 0;
		}
		nym_out_write(o, p + i, 1);
		q->last = p[i];
		q->bol = p[i] == '\n';
	}
}

static void
truncated(const char *name)
{
	nym_die(NYM_EX_DATAERR, "unable to decrypt %s: truncated (no last "
	    "chunk)", name);
}

/* Decrypt the records in (one message, or an encrypted mbox) into o. */
static void
dec_stream(struct nym_in *in, struct nym_out *o, const char *name,
    struct quote *q)
{
	const unsigned char *p;
	ssize_t n, m;
	long len;
	int first = 1, final;

	for (;; first = 0) {
		if ((n = nym_in_fill(in, NYM_SEAL_HDRLEN)) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s", name);
		if (n == 0 && !first)
			return;
		p = (const unsigned char *)in->buf + in->pos;
		if (nym_seal_open(&sec.seal, p, (size_t)n, sec.pk, sec.sk) ==
		    -1) {
			if (errno == EACCES)
				nym_die(NYM_EX_NOPERM, "unable to decrypt %s: "
				    "not sealed to this key, or its key part "
				    "damaged", name);
			if (errno == ENOTSUP)
				nym_die(NYM_EX_DATAERR, "unable to decrypt %s: "
				    "an unknown format version or algorithm", name);
			if (n >= 8 && memcmp(p, "NYMBOXE1", 8) == 0)
				truncated(name);
			nym_die(NYM_EX_DATAERR, "unable to decrypt %s: %s",
			    name, n == 0 ? "empty" : "not an encrypted message");
		}
		nym_in_skip(in, NYM_SEAL_HDRLEN);
		do {
			if ((n = nym_in_fill(in, 4)) == -1)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s",
				    name);
			if (n < 4)
				truncated(name);
			p = (const unsigned char *)in->buf + in->pos;
			if ((len = nym_seal_chunklen(p, &final)) == -1)
				nym_die(NYM_EX_DATAERR, "unable to decrypt %s: "
				    "damaged", name);
			if ((n = nym_in_fill(in, (size_t)len + 4)) == -1)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s",
				    name);
			if (n < len + 4)
				truncated(name);
			p = (const unsigned char *)in->buf + in->pos;
			if ((m = nym_seal_get(&sec.seal, p, (size_t)len + 4,
			    sec.plain)) == -1)
				nym_die(NYM_EX_DATAERR, "unable to decrypt %s: "
				    "damaged or changed", name);
			nym_in_skip(in, (size_t)len + 4);
			emit(o, q, sec.plain, (size_t)m);
		} while (!final);
		nym_seal_wipe(&sec.seal);
	}
}

static void
dec_fd(int fd, struct nym_out *o, const char *name, struct quote *q)
{
	struct nym_in in;

	if (nym_in_open(&in, fd, NYM_ENC_INBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	dec_stream(&in, o, name, q);
	nym_in_close(&in);
}

/* ---- maildirs ---- */

struct entry {
	char *path;
	time_t mtime;
	char sub[4];		/* "new" or "cur" */
	char *name;		/* within path */
};

static int
bytime(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* The messages of a maildir (new/ then cur/), oldest first. */
static struct entry *
listmd(const char *dir, size_t *np)
{
	static const char *const subs[] = { "new", "cur" };
	struct entry *e = NULL;
	struct dirent *d;
	struct stat st;
	char path[PATH_MAX];
	size_t n = 0, i;
	DIR *dp;
	int len;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
		if ((dp = opendir(path)) == NULL)
			nym_dieerr(errno == ENOENT || errno == ENOTDIR ?
			    NYM_EX_USAGE : nym_exitcode(errno), "unable to "
			    "read maildir %s", dir);
		while ((d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			len = snprintf(path, sizeof path, "%s/%s/%s", dir,
			    subs[i], d->d_name);
			if (len < 0 || (size_t)len >= sizeof path ||
			    lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
				continue;
			if (nym_reallocarray(&e, n + 1, sizeof *e) == -1 ||
			    (e[n].path = strdup(path)) == NULL)
				nym_die(NYM_EX_TEMPFAIL, "unable to allocate "
				    "memory");
			e[n].mtime = st.st_mtime;
			memcpy(e[n].sub, subs[i], 4);
			e[n].name = e[n].path + strlen(dir) + 5;
			n++;
		}
		closedir(dp);
	}
	if (n > 0)
		qsort(e, n, sizeof *e, bytime);
	*np = n;
	return e;
}

static void
freemd(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

/* A maildir decrypted as an mboxrd mailbox. */
static void
dec_maildir(const char *dir, struct nym_out *o)
{
	struct entry *e;
	struct quote q;
	struct tm tm;
	char from[80];
	size_t n, i;
	int fd;

	e = listmd(dir, &n);
	for (i = 0; i < n; i++) {
		if ((fd = open(e[i].path, O_RDONLY | O_CLOEXEC)) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to read %s",
			    e[i].path);
		if (gmtime_r(&e[i].mtime, &tm) == NULL ||
		    strftime(from, sizeof from, "From MAILER-DAEMON "
		    "%a %b %e %H:%M:%S %Y\n", &tm) == 0)
			snprintf(from, sizeof from, "From MAILER-DAEMON "
			    "Thu Jan  1 00:00:00 1970\n");
		nym_out_puts(o, from);
		memset(&q, 0, sizeof q);
		q.bol = 1;
		q.last = -1;
		dec_fd(fd, o, e[i].path, &q);
		close(fd);
		held(o, &q);
		if (q.last != '\n' && q.last != -1)
			nym_out_write(o, "\n", 1);
		nym_out_write(o, "\n", 1);
	}
	freemd(e, n);
}

/* Is the file at fd already a record? */
static int
sealed(int fd)
{
	unsigned char b[8];

	return pread(fd, b, sizeof b, 0) == (ssize_t)sizeof b &&
	    memcmp(b, "NYMBOXE1", 8) == 0;
}

/* Encrypt every message of a maildir in place: each copy is durable in
 * the maildir before its original is removed. */
static void
inplace_maildir(const char *dir)
{
	struct nym_out o;
	struct entry *e;
	char subdir[PATH_MAX], dst[PATH_MAX], src[PATH_MAX];
	const char *flags;
	size_t n, i;
	int fd, len;

	e = listmd(dir, &n);
	for (i = 0; i < n; i++) {
		if ((fd = open(e[i].path, O_RDONLY | O_CLOEXEC)) == -1) {
			if (errno == ENOENT)
				continue;	/* a reader moved it */
			nym_dieerr(nym_exitcode(errno), "unable to read %s",
			    e[i].path);
		}
		if (sealed(fd)) {
			close(fd);
			continue;
		}
		if (nym_out_open(&o, outopen(dir), NYM_ENC_OUTBUF) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		enc_begin(&o);
		if (enc_fd(&o, fd) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to read %s",
			    e[i].path);
		close(fd);
		enc_end(&o);
		outcommit(&o, dir);
		nym_out_close(&o);
		snprintf(subdir, sizeof subdir, "%s/%s", dir, e[i].sub);
		/* Keep the flags of a message in cur/: the copy moves there
		 * from new/ (a crash between leaves it in new/, unread). */
		if (strcmp(e[i].sub, "cur") == 0) {
			flags = strstr(e[i].name, ":2,");
			len = snprintf(dst, sizeof dst, "%s/%s%s", subdir,
			    mdf.name, flags != NULL ? flags : "");
			snprintf(src, sizeof src, "%s/new/%s", dir, mdf.name);
			if (len < 0 || (size_t)len >= sizeof dst ||
			    rename(src, dst) == -1 ||
			    nym_syncdir(subdir) == -1)
				nym_dieerr(nym_exitcode(errno), "unable to "
				    "move the copy of %s", e[i].path);
		}
		if (unlink(e[i].path) == -1 && errno != ENOENT)
			nym_dieerr(nym_exitcode(errno), "unable to remove %s",
			    e[i].path);
	}
	if (n > 0) {
		snprintf(subdir, sizeof subdir, "%s/new", dir);
		snprintf(dst, sizeof dst, "%s/cur", dir);
		if (nym_syncdir(subdir) == -1 || nym_syncdir(dst) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to sync "
			    "maildir %s", dir);
	}
	freemd(e, n);
}

/* Copy one record as it is, checking only its framing. */
static void
copyrecord(struct nym_in *in, struct nym_out *o, const char *name)
{
	ssize_t n;
	long len;
	int final;

	n = nym_in_fill(in, NYM_SEAL_HDRLEN);
	if (n == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s", name);
	if (nym_seal_parse((const unsigned char *)in->buf + in->pos,
	    (size_t)n) == -1)
		nym_die(NYM_EX_DATAERR, "unable to encrypt %s: a damaged "
		    "record", name);
	nym_out_write(o, in->buf + in->pos, NYM_SEAL_HDRLEN);
	nym_in_skip(in, NYM_SEAL_HDRLEN);
	do {
		if ((n = nym_in_fill(in, 4)) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to read %s", name);
		if (n < 4 || (len = nym_seal_chunklen((const unsigned char *)
		    in->buf + in->pos, &final)) == -1 ||
		    nym_in_fill(in, (size_t)len + 4) < len + 4)
			nym_die(NYM_EX_DATAERR, "unable to encrypt %s: a "
			    "damaged record", name);
		nym_out_write(o, in->buf + in->pos, (size_t)len + 4);
		nym_in_skip(in, (size_t)len + 4);
	} while (!final);
}

/* Encrypt an mbox in place: every message not yet a record becomes one
 * in a new file beside it, which replaces the mbox by rename(2) once it
 * is durable.  The mbox is locked as every program locks it (lib/mbox.c),
 * so that nothing is appended meanwhile. */
static void
inplace_mbox(const char *path)
{
	struct nym_in in;
	struct nym_out o;
	struct stat st, st2;
	const char *line;
	size_t len;
	ssize_t n;
	int fd, more, bol, first, r, changed = 0;

	if (nym_mbox_lock(&mbx, path, 0, NYM_MBOX_WAIT * 1000) == -1) {
		if (mbx.step == NYM_MBOX_OPEN)
			nym_dieerr(errno == ENOENT ? NYM_EX_USAGE :
			    nym_exitcode(errno), "unable to open mbox %s",
			    path);
		nym_die(NYM_EX_TEMPFAIL, "unable to lock mbox %s: %s", path,
		    nym_mbox_why(&mbx, errno));
	}
	fd = mbx.fd;
	if (fstat(fd, &st) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to read mbox %s", path);
	outpath = path;
	if (nym_in_open(&in, fd, NYM_ENC_INBUF) == -1 ||
	    nym_out_open(&o, outopen(NULL), NYM_ENC_OUTBUF) == -1)
		nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
	for (;;) {
		if ((n = nym_in_fill(&in, 8)) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to read mbox "
			    "%s", path);
		if (n == 0)
			break;
		if (n >= 8 && memcmp(in.buf + in.pos, "NYMBOXE1", 8) == 0) {
			copyrecord(&in, &o, path);
			continue;
		}
		/* A message: up to the next From_ line or record. */
		changed = 1;
		enc_begin(&o);
		bol = first = 1;
		for (;; first = 0) {
			r = nym_in_peekline(&in, &line, &len, &more);
			if (r == -1)
				nym_dieerr(nym_exitcode(errno), "unable to read "
				    "mbox %s", path);
			if (r == 0)
				break;
			if (bol && !first && len >= 5 &&
			    (memcmp(line, "From ", 5) == 0 || (len >= 8 &&
			    memcmp(line, "NYMBOXE1", 8) == 0)))
				break;
			enc_add(&o, line, len);
			nym_in_skip(&in, len);
			bol = !more;
		}
		enc_end(&o);
	}
	if (!changed) {
		nym_in_close(&in);
		nym_out_close(&o);
		nym_afile_abort(&out);
		(void)nym_mbox_unlock(&mbx);
		return;
	}
	if (nym_out_flush(&o) == -1 || fchmod(o.fd, st.st_mode & 0777) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write the copy of "
		    "mbox %s", path);
	if (fstat(fd, &st2) == -1 || st2.st_size != st.st_size ||
	    st2.st_mtime != st.st_mtime)
		nym_die(NYM_EX_TEMPFAIL, "unable to encrypt mbox %s: it "
		    "changed meanwhile; try again", path);
	outcommit(&o, NULL);
	nym_in_close(&in);
	nym_out_close(&o);
	/* The new file is in place: only now may others write again. */
	(void)nym_mbox_unlock(&mbx);
}

int
main(int argc, char *argv[])
{
	static char pubbuf[PATH_MAX], privbuf[PATH_MAX];
	const char *where, *maildir = NULL, *pubopt = NULL, *privopt = NULL;
	const char *pubpath, *privpath;
	struct nym_out o;
	struct stat st;
	int c, i, gflag = 0, iflag = 0, xflag = 0, fd;

	nym_start(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "d:F:giK:k:o:P:x")) != -1) {
		switch (c) {
		case 'd': maildir = optarg; break;
		case 'F': passfd = optarg; break;
		case 'g': gflag = 1; break;
		case 'i': iflag = 1; break;
		case 'K': privopt = optarg; break;
		case 'k': pubopt = optarg; break;
		case 'o': outpath = optarg; break;
		case 'P': passfile = optarg; break;
		case 'x': xflag = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (gflag + iflag + xflag > 1 || (passfile != NULL && passfd != NULL) ||
	    ((passfile != NULL || passfd != NULL) && !gflag && !xflag) ||
	    (gflag && (argc > 0 || maildir != NULL || outpath != NULL)) ||
	    (!xflag && !iflag && argc > 0) || (maildir != NULL &&
	    outpath != NULL && !xflag) || (iflag && outpath != NULL) ||
	    (iflag && argc == 0 && maildir == NULL))
		usage();
	/* Encrypting one message (from smtp-receive, procmail, an MTA)
	 * delivers it: a set-up mistake must not bounce it. */
	if (!gflag && !iflag && !xflag)
		nym_delivering();
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	if (nym_crypto_init() == -1)
		nym_die(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	(void)mlock(&sec, sizeof sec);
	atexit(cleanup);

	if (gflag || xflag)
		privpath = keypath(privopt, "inbox-private-key", "inbox.key",
		    privbuf, sizeof privbuf);
	if (gflag || !xflag)
		pubpath = keypath(pubopt, "inbox-public-key", "inbox.pub",
		    pubbuf, sizeof pubbuf);

	if (gflag) {
		genkeys(pubpath, privpath);
	} else if (xflag) {
		unlockpriv(privpath);
		if (nym_out_open(&o, outopen(NULL), NYM_ENC_OUTBUF) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		if (maildir != NULL)
			dec_maildir(maildir, &o);
		if (argc == 0 && maildir == NULL)
			dec_fd(STDIN_FILENO, &o, "standard input", NULL);
		for (i = 0; i < argc; i++) {
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
				dec_maildir(argv[i], &o);
				continue;
			}
			if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) == -1)
				nym_dieerr(errno == ENOENT ? NYM_EX_USAGE :
				    nym_exitcode(errno), "unable to read %s",
				    argv[i]);
			dec_fd(fd, &o, argv[i], NULL);
			close(fd);
		}
		outcommit(&o, NULL);
		nym_out_close(&o);
	} else if (iflag) {
		loadpub(pubpath);
		if (maildir != NULL)
			inplace_maildir(maildir);
		for (i = 0; i < argc; i++) {
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				inplace_maildir(argv[i]);
			else
				inplace_mbox(argv[i]);
		}
	} else {
		loadpub(pubpath);
		if (nym_out_open(&o, outopen(maildir), NYM_ENC_OUTBUF) == -1)
			nym_die(NYM_EX_TEMPFAIL, "unable to allocate memory");
		enc_begin(&o);
		if (enc_fd(&o, STDIN_FILENO) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to read the "
			    "message");
		enc_end(&o);
		outcommit(&o, maildir);
		nym_out_close(&o);
	}
	return NYM_EX_OK;
}
