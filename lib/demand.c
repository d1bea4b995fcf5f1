/*
 * demand.c - libnymbox: the stamp demands of recipients' domains, as
 * their servers publish them (the EHLO keyword X-STAMP, i2pmail.pow),
 * and of single recipients, as a server's refusal states them ("Stamp
 * needed for ADDR: X-Hashcash DEMAND"), kept one file a domain or an
 * address in ~/.config/nymbox/demands/ so that pow-stamp -M mints at the
 * level a recipient asks for before the message is queued (an address's
 * file before its domain's).
 *
 * A kept demand is a guess about a server, so it does not live for
 * ever: one older than NYM_DEMAND_AGE is neither used nor kept (the
 * server may have lowered or dropped it), a server whose EHLO names no
 * demand has its domain's file removed by the deliverer, and the
 * directory holds at most NYM_DEMAND_FILES files.
 *
 * The text is only checked for form here (length, characters): the
 * deliverers that learn it do not link the stamp code, and pow-stamp
 * parses it in full (nym_pow_demand_parse) before it mints at it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"

/* Lowercase n bytes of s into out, each one of the characters set
 * allows besides a-z and 0-9: 0, or -1 at the first other one. */
static int
lowered(const char *s, size_t n, const char *set, char *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(set, c) != NULL)))
			return -1;
		out[i] = c;
	}
	return 0;
}

/* A domain, or an address (local@domain), usable as a file name: the
 * domain 1..NYM_DEMAND_DOMAIN_MAX bytes of a-z, 0-9, '.', '-', '_', not
 * starting with a dot, a trailing dot dropped; a local part
 * 1..NYM_DEMAND_LOCAL_MAX bytes of RFC 5322 atext and dots but '/', not
 * starting with a dot; lowercased into out. */
static int
keyname(const char *d, char *out, size_t cap)
{
	const char *at = strrchr(d, '@');
	size_t l = 0, n;

	if (at != NULL) {
		l = (size_t)(at - d);
		if (l == 0 || l > NYM_DEMAND_LOCAL_MAX || d[0] == '.' ||
		    l + 1 >= cap ||
		    lowered(d, l, "!#$%&'*+-=?^_`{|}~.", out) == -1)
			return -1;
		out[l++] = '@';
		d = at + 1;
	}
	n = strlen(d);
	while (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > NYM_DEMAND_DOMAIN_MAX || l + n >= cap ||
	    d[0] == '.' || lowered(d, n, ".-_", out + l) == -1)
		return -1;
	out[l + n] = '\0';
	return 0;
}

/* A demand's form: 1..NYM_POW_DEMAND_MAX bytes of the characters a
 * demand is written in (pow-stamp(1), DEMAND). */
static int
demandform(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NYM_POW_DEMAND_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789:,.>@+- ", s[i]) == NULL || s[i] == '\0')
			return -1;
	return 0;
}

static int
demanddir(char *dir, size_t cap)
{
	char c[NYM_MD_PATH];

	if (nym_confdir(c, sizeof c) == -1)
		return -1;
	if ((size_t)snprintf(dir, cap, "%s/demands", c) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* dir/name into path (cap bytes). */
static int
keypath(char *path, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(path, cap, "%s/%s", dir, name) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Where a key's demand is kept. */
#define NAMECAP	(NYM_DEMAND_DOMAIN_MAX + NYM_DEMAND_LOCAL_MAX + 2)
struct where {
	char dir[NYM_MD_PATH];
	char name[NAMECAP];
	char path[NYM_MD_PATH + NAMECAP + 1];
};

/* Fill w for key: 0; -2 if no file can be kept for that key; -1 with
 * errno if its path cannot be made. */
static int
where(const char *key, struct where *w)
{
	if (keyname(key, w->name, sizeof w->name) == -1)
		return -2;
	if (demanddir(w->dir, sizeof w->dir) == -1 ||
	    keypath(w->path, sizeof w->path, w->dir, w->name) == -1)
		return -1;
	return 0;
}

/* Is a file of time mtime stale now (the clock's, not NYMBOX_NOW: a
 * file's time is the clock's)? */
static int
stale(time_t mtime, time_t now)
{
	return now - mtime > NYM_DEMAND_AGE;
}

/* Room for one more file in dir: its stale files removed and, while
 * NYM_DEMAND_FILES or more are left, the oldest.  A pass over the
 * directory each, made only when a new file is to be created. */
static void
prune(const char *dir)
{
	char path[NYM_MD_PATH + NAMECAP + 1], old[NAMECAP];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL), oldest;
	size_t n;
	DIR *d;
	int pass;

	for (pass = 0; pass < 4; pass++) {
		if ((d = opendir(dir)) == NULL)
			return;
		n = 0;
		old[0] = '\0';
		oldest = 0;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    strlen(de->d_name) >= sizeof old ||
			    fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode))
				continue;
			if (stale(st.st_mtime, now)) {
				(void)unlinkat(dirfd(d), de->d_name, 0);
				continue;
			}
			n++;
			if (old[0] == '\0' || st.st_mtime < oldest) {
				oldest = st.st_mtime;
				snprintf(old, sizeof old, "%s", de->d_name);
			}
		}
		closedir(d);
		if (n < NYM_DEMAND_FILES || old[0] == '\0' ||
		    keypath(path, sizeof path, dir, old) == -1)
			return;
		(void)unlink(path);
		if (n - 1 < NYM_DEMAND_FILES)
			return;
	}
}

int
nym_demand_save(const char *key, const char *text, size_t n)
{
	struct where w;
	char old[NYM_POW_DEMAND_MAX + 1];
	struct stat st;
	int r;

	if (demandform(text, n) == -1 || (r = where(key, &w)) == -2) {
		errno = EINVAL;
		return -1;
	}
	if (r == -1)
		return -1;
	/* Unchanged: no write, so a busy deliverer costs one read; its
	 * time renewed once a day, so that it does not go stale. */
	if ((r = nym_demand_load(key, old, sizeof old)) == 1 &&
	    strlen(old) == n && memcmp(old, text, n) == 0) {
		if (lstat(w.path, &st) == 0 &&
		    time(NULL) - st.st_mtime >= NYM_DEMAND_REFRESH)
			(void)utimensat(AT_FDCWD, w.path, NULL,
			    AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (nym_mkdirs(w.dir, 0700) == -1)
		return -1;
	if (r != 1 && lstat(w.path, &st) == -1 && errno == ENOENT)
		prune(w.dir);
	return nym_atomic_write(w.dir, w.name, text, n, 0600, NYM_ATOMIC_NL);
}

int
nym_demand_forget(const char *key)
{
	struct where w;
	int r;

	if ((r = where(key, &w)) == -2)
		errno = EINVAL;
	if (r != 0)
		return -1;
	if (unlink(w.path) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	return 1;
}

int
nym_demand_load(const char *key, char *buf, size_t cap)
{
	struct where w;
	char tmp[NYM_POW_DEMAND_MAX + 2];
	struct stat st;
	ssize_t r;
	size_t n;
	int fd, k;

	if ((k = where(key, &w)) != 0)
		return k == -2 ? 0 : -1;	/* -2: no file for it */
	if ((fd = open(w.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return -1;
	}
	/* Stale: the server may have lowered or dropped its demand. */
	if (S_ISREG(st.st_mode) && stale(st.st_mtime, time(NULL))) {
		close(fd);
		(void)unlink(w.path);
		return 0;
	}
	r = nym_read_all(fd, tmp, sizeof tmp);
	close(fd);
	if (r < 0)
		return -1;
	n = (size_t)r;
	if (n < sizeof tmp && n > 0 && tmp[n - 1] == '\n')
		n--;
	if (demandform(tmp, n) == -1 || n >= cap) {
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return 1;
}

int
nym_demand_said(const char *text, char *addr, size_t acap, char *dem,
    size_t dcap)
{
	static const char need[] = "Stamp needed for ", xh[] = "X-Hashcash ";
	const char *p = strstr(text, need), *a, *e;
	size_t n;

	if (p == NULL)
		return 0;
	a = p + sizeof need - 1;
	for (e = a; *e != '\0' && *e != ' ' && *e != ':'; e++)
		;
	n = (size_t)(e - a);
	if (n == 0 || n >= acap || memchr(a, '@', n) == NULL)
		return 0;
	memcpy(addr, a, n);
	addr[n] = '\0';
	dem[0] = '\0';
	/* "ADDR: X-Hashcash DEMAND (why)..." on one line, or "ADDR (why)
	 * ... X-Hashcash DEMAND" at the end of two: a demand cut short
	 * is none. */
	if ((p = strstr(e, xh)) == NULL)
		return 1;
	p += sizeof xh - 1;
	for (e = p; *e != '\0' && *e != '('; e++)
		;
	if (*e == '(' && (e == p || e[-1] != ' '))
		return 1;
	while (e > p && e[-1] == ' ')
		e--;
	n = (size_t)(e - p);
	if (n < dcap && demandform(p, n) == 0) {
		memcpy(dem, p, n);
		dem[n] = '\0';
	}
	return 1;
}
