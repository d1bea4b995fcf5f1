/*
 * store.c - unit tests for atomic writes, key files and configuration.
 *
 * lib/atomic.c is the one way a file is created, lib/maildir.c a user of
 * it: what each path leaves behind.  EEXIST with NYM_ATOMIC_NOCLOBBER
 * keeps the temporary file for another name; every other failure leaves
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "base.h"
#include "store.h"
#include "tap.h"

static char top[] = "/tmp/nymunit.XXXXXX";

static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* top/a/b into buf, a directory made afresh (emptied first). */
static const char *
fresh(char *buf, size_t cap, const char *name)
{
	char cmd[PATH_MAX + 32];

	snprintf(buf, cap, "%s/%s", top, name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf);
	if (system(cmd) != 0 || mkdir(buf, 0700) == -1)
		exit(99);
	return buf;
}

/* The contents of dir/name, up to cap - 1 bytes, NUL ended; "" if none. */
static const char *
slurp(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY)) == -1)
		return buf;
	n = read(fd, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static mode_t
modeof(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void
test_write(void)
{
	char d[200], sub[PATH_MAX], buf[64], longname[300];

	fresh(d, sizeof d, "write");
	umask(077);
	check_int(nym_atomic_write(d, "f", "one", 3, 0644, 0), 0, "written");
	check_str(slurp(d, "f", buf, sizeof buf), "one", "its bytes");
	check_int(modeof(d, "f"), 0644, "its mode, whatever the umask");
	umask(022);
	check_int(nym_atomic_write(d, "f", "two", 3, 0600, NYM_ATOMIC_NL), 0,
	    "replaced");
	check_str(slurp(d, "f", buf, sizeof buf), "two\n",
	    "NYM_ATOMIC_NL: a line end after the bytes");
	check_int(modeof(d, "f"), 0600, "with the new mode");
	check_int(nym_atomic_write(d, "f", "three", 5, 0600,
	    NYM_ATOMIC_NOCLOBBER), -1, "no-clobber: the name is taken");
	check_int(errno, EEXIST, "EEXIST");
	check_str(slurp(d, "f", buf, sizeof buf), "two\n", "the old one kept");
	check_int(entries(d), 1, "no temporary file left");

	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	check_int(nym_atomic_write(d, longname, "x", 1, 0600, 0), -1,
	    "a name too long for the directory");
	check_int(errno, ENAMETOOLONG, "ENAMETOOLONG");
	check_int(entries(d), 1, "no temporary file left");
	snprintf(sub, sizeof sub, "%s/sub", d);
	check_int(mkdir(sub, 0700), 0, "a directory");
	check_int(nym_atomic_write(d, "sub", "x", 1, 0600, 0), -1,
	    "rename over a directory fails");
	check_int(errno, EISDIR, "EISDIR");
	check_int(entries(d), 2, "no temporary file left");
	snprintf(sub, sizeof sub, "%s/none", d);
	check_int(nym_atomic_write(sub, "f", "x", 1, 0600, 0), -1,
	    "a missing directory");
	check_int(errno, ENOENT, "ENOENT");
}

static void
test_create(void)
{
	char d[200], path[PATH_MAX], buf[64];

	fresh(d, sizeof d, "create");
	snprintf(path, sizeof path, "%s/a/b/key", d);
	check_int(nym_atomic_create(path, "k1", 2, 0600, 0700, NYM_ATOMIC_NL),
	    1, "created, directories too");
	snprintf(path, sizeof path, "%s/a/b", d);
	check_int(modeof(path, "."), 0700, "directory 0700");
	check_str(slurp(path, "key", buf, sizeof buf), "k1\n", "with a line end");
	check_int(modeof(path, "key"), 0600, "file 0600");
	snprintf(path, sizeof path, "%s/a/b/key", d);
	check_int(nym_atomic_create(path, "k2", 2, 0600, 0700, 0), 0,
	    "a second time: it was there");
	snprintf(path, sizeof path, "%s/a/b", d);
	check_str(slurp(path, "key", buf, sizeof buf), "k1\n",
	    "the first key kept");
	check_int(entries(path), 1, "no temporary file left");
	snprintf(path, sizeof path, "%s/a/", d);
	check_int(nym_atomic_create(path, "x", 1, 0600, 0700, 0), -1,
	    "a path ending in a slash");
	check_int(errno, EISDIR, "EISDIR");
	snprintf(path, sizeof path, "%s/a/b/key/k", d);
	check_int(nym_atomic_create(path, "x", 1, 0600, 0700, 0), -1,
	    "a file where a directory should be");
	check_int(errno, ENOTDIR, "ENOTDIR");
}

static void
test_afile(void)
{
	char t[200], d[200], buf[64], kept[PATH_MAX];
	struct nym_afile a, b;
	int p[2], e;

	fresh(t, sizeof t, "tmp");
	fresh(d, sizeof d, "dst");
	check_int(nym_afile_open(&a, t, 0640), 0, "opened in tmp/");
	check(a.fd != -1 && strncmp(a.tmp, t, strlen(t)) == 0 &&
	    a.tmp[strlen(t) + 1] != '.', "a plain name in tmp/");
	check_int(entries(t), 1, "there");
	check_int(nym_afile_open(&b, t, 0600), 0, "a second");
	check(strcmp(a.tmp, b.tmp) != 0, "under another name");
	nym_afile_abort(&b);
	check_int(entries(t), 1, "abort removes it");
	errno = EDOM;
	nym_afile_abort(&b);
	check_int(errno, EDOM, "a second abort is harmless, errno kept");
	check_int(nym_write_all(a.fd, "data", 4), 0, "written");
	check_int(nym_afile_commit(&a, d, "m", 0), 0, "committed by rename");
	check(a.fd == -1 && a.tmp[0] == '\0', "closed, no temporary name");
	check_int(entries(t), 0, "tmp/ empty");
	check_str(slurp(d, "m", buf, sizeof buf), "data", "in place, whole");
	check_int(modeof(d, "m"), 0640, "with its mode");
	nym_afile_abort(&a);
	check_str(slurp(d, "m", buf, sizeof buf), "data",
	    "abort after commit leaves it");

	/* EEXIST with no-clobber: kept for another name. */
	check_int(nym_afile_open(&a, t, 0600), 0, "another");
	check_int(nym_write_all(a.fd, "new", 3), 0, "written");
	snprintf(kept, sizeof kept, "%s", a.tmp);
	check_int(nym_afile_commit(&a, d, "m", NYM_ATOMIC_NOCLOBBER), -1,
	    "no-clobber onto a taken name");
	check_int(errno, EEXIST, "EEXIST");
	check(a.fd == -1 && strcmp(a.tmp, kept) == 0 &&
	    access(kept, F_OK) == 0, "the temporary file kept, synced, closed");
	check_str(slurp(d, "m", buf, sizeof buf), "data", "the taken one intact");
	check_int(nym_afile_commit(&a, d, "m2", NYM_ATOMIC_NOCLOBBER), 0,
	    "again under another name");
	check_str(slurp(d, "m2", buf, sizeof buf), "new", "whole");
	check_int(entries(t), 0, "tmp/ empty");
	check_int(entries(d), 2, "both in place");

	/* Every other failure: nothing left. */
	check_int(nym_afile_open(&a, t, 0600), 0, "another");
	snprintf(kept, sizeof kept, "%s/none", d);
	check_int(nym_afile_commit(&a, kept, "x", NYM_ATOMIC_NOCLOBBER), -1,
	    "link into a missing directory");
	e = errno;
	check_int(e, ENOENT, "ENOENT");
	check(a.fd == -1 && a.tmp[0] == '\0', "given up");
	check_int(entries(t), 0, "nothing left in tmp/");
	check_int(nym_afile_open(&a, t, 0600), 0, "another");
	check_int(nym_afile_commit(&a, kept, "x", 0), -1,
	    "rename into a missing directory");
	check_int(entries(t), 0, "nothing left in tmp/");
	snprintf(kept, sizeof kept, "%s/dir", d);
	check_int(mkdir(kept, 0700), 0, "a directory");
	check_int(nym_afile_open(&a, t, 0600), 0, "another");
	check_int(nym_afile_commit(&a, d, "dir", 0), -1,
	    "rename over a directory");
	check_int(errno, EISDIR, "EISDIR");
	check_int(entries(t), 0, "nothing left in tmp/");
	check_int(nym_afile_open(&a, t, 0600), 0, "another");
	memset(kept, 'x', sizeof kept - 1);
	kept[sizeof kept - 1] = '\0';
	check_int(nym_afile_commit(&a, d, kept, NYM_ATOMIC_NOCLOBBER), -1,
	    "a target path too long");
	check_int(errno, ENAMETOOLONG, "ENAMETOOLONG");
	check_int(entries(t), 0, "nothing left in tmp/");
	/* fsync fails on a pipe (EINVAL): as if the disk had. */
	check_int(nym_afile_open(&a, t, 0600), 0, "another");
	if (pipe(p) == -1)
		exit(99);
	close(a.fd);
	a.fd = p[0];
	check_int(nym_afile_commit(&a, d, "y", 0), -1, "fsync fails");
	check_int(errno, EINVAL, "its errno");
	check_int(entries(t), 0, "nothing left in tmp/");
	snprintf(kept, sizeof kept, "%s/y", d);
	check_int(access(kept, F_OK), -1, "nothing in place");
	close(p[1]);
	check_int(fcntl(p[0], F_GETFD), -1, "and the descriptor closed");

	snprintf(kept, sizeof kept, "%s/none", d);
	check_int(nym_afile_open(&a, kept, 0600), -1,
	    "no file in a missing directory");
	check(a.fd == -1 && a.tmp[0] == '\0', "nothing to abort");
	memset(kept, 'x', sizeof kept - 1);
	check_int(nym_afile_open(&a, kept, 0600), -1, "a directory too long");
	check_int(errno, ENAMETOOLONG, "ENAMETOOLONG");
	check(a.fd == -1 && a.tmp[0] == '\0', "nothing to abort");
}

static void
test_beside_create(void)
{
	char d[200], buf[64];
	struct nym_afile a, b;
	const char *slash;

	fresh(d, sizeof d, "beside");
	check_int(nym_atomic_write(d, "mbox", "old", 3, 0600, 0), 0, "a file");
	check_int(nym_afile_beside(&a, d, "mbox", 0600), 0, "a file beside it");
	slash = strrchr(a.tmp, '/');
	check(slash != NULL && strncmp(slash, "/.mbox.", 7) == 0,
	    "hidden, named after it");
	check_int(nym_write_all(a.fd, "new", 3), 0, "written");
	check_str(slurp(d, "mbox", buf, sizeof buf), "old",
	    "the old one until commit");
	check_int(nym_afile_commit(&a, d, "mbox", 0), 0, "committed");
	check_str(slurp(d, "mbox", buf, sizeof buf), "new", "replaced");
	check_int(entries(d), 1, "nothing else there");

	check_int(nym_afile_create(&a, d, "tmpname", 0600), 0,
	    "created under the caller's name");
	check_int(nym_afile_create(&b, d, "tmpname", 0600), -1,
	    "that name again");
	check_int(errno, EEXIST, "EEXIST");
	check(b.fd == -1 && b.tmp[0] == '\0', "nothing to abort");
	nym_afile_abort(&b);
	check_int(access(a.tmp, F_OK), 0, "the first one untouched");
	nym_afile_abort(&a);
	check_int(entries(d), 1, "gone after abort");
}

/* A maildir name: "digits.MdigitsPdigitsQdigitsRhex16.nymbox". */
static int
mdname(const char *s)
{
	static const char *const sep[] = { "", ".M", "P", "Q", "R" };
	size_t i, n;

	for (i = 0; i < 5; i++) {
		if (strncmp(s, sep[i], strlen(sep[i])) != 0)
			return 0;
		s += strlen(sep[i]);
		n = strspn(s, i < 4 ? "0123456789" : "0123456789abcdef");
		if (n == 0 || (i == 4 && n != 16))
			return 0;
		s += n;
	}
	return strcmp(s, ".nymbox") == 0;
}

/* 26 characters of lower-case base32. */
static int
randname(const char *s)
{
	return strlen(s) == 26 && strspn(s, "abcdefghijklmnopqrstuvwxyz234567") ==
	    26;
}

/* A file opened in maildir md (random names or not), its name taken in
 * new/ before commit: it lands under another name of kind, the other
 * file intact, tmp/ empty. */
static void
taken(const char *md, int random, int (*kind)(const char *))
{
	char sub[PATH_MAX], buf[64], first[NYM_MD_NAME];
	struct nym_mdfile f;

	check_int(random ? nym_maildir_open_random(&f, md) :
	    nym_maildir_open(&f, md), 0, "a file in the maildir");
	check(kind(f.name), "its name of the kind asked for");
	snprintf(sub, sizeof sub, "%s/tmp/%s", md, f.name);
	check_str(f.tmp, sub, "in tmp/ under that name");
	check_int(nym_write_all(f.fd, "m1", 2), 0, "written");
	snprintf(first, sizeof first, "%s", f.name);
	snprintf(sub, sizeof sub, "%s/new", md);
	check_int(nym_atomic_write(sub, f.name, "other", 5, 0600, 0), 0,
	    "its name taken in new/ meanwhile");
	check_int(nym_maildir_commit(&f), 0, "committed all the same");
	check(strcmp(f.name, first) != 0 && kind(f.name),
	    "under another name of the same kind");
	check_str(slurp(sub, f.name, buf, sizeof buf), "m1", "whole");
	check_str(slurp(sub, first, buf, sizeof buf), "other",
	    "the other one intact");
	snprintf(sub, sizeof sub, "%s/tmp", md);
	check_int(entries(sub), 0, "tmp/ empty");
}

static void
test_maildir(void)
{
	char md[200], sub[PATH_MAX], real[PATH_MAX];
	struct nym_mdfile f;

	fresh(md, sizeof md, "md");
	check_int(nym_maildir_make(md), 0, "a maildir");
	taken(md, 0, mdname);
	taken(md, 1, randname);
	snprintf(sub, sizeof sub, "%s/new", md);
	check_int(entries(sub), 4, "four in new/");

	/* new/ not a directory: it gives up and leaves nothing. */
	check_int(nym_maildir_open_random(&f, md), 0, "another");
	snprintf(real, sizeof real, "%s/new.real", md);
	if (rename(sub, real) == -1 || symlink("/dev/null/x", sub) == -1)
		exit(99);
	check_int(nym_maildir_commit(&f), -1, "new/ broken");
	check_int(errno, ENOTDIR, "ENOTDIR");
	snprintf(sub, sizeof sub, "%s/tmp", md);
	check_int(entries(sub), 0, "nothing left in tmp/");
	nym_maildir_abort(&f);
	nym_maildir_abort(&f);
	check(f.fd == -1 && f.af.fd == -1 && f.tmp[0] == '\0',
	    "fd and tmp are the file's");
}

int
main(void)
{
	char *dir = top, path[512], buf[64];
	unsigned char k1[NYM_KEYLEN], k2[NYM_KEYLEN], h1[32], h2[32];
	const char *where;
	struct stat st;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 99;

	test_write();
	test_create();
	test_afile();
	test_beside_create();
	test_maildir();

	snprintf(path, sizeof path, "%s/d1/d2/d3", dir);
	check_int(nym_mkdirs(path, 0700), 0, "mkdirs");
	check(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "made them all");
	check_int(nym_mkdirs(path, 0700), 0, "mkdirs again is fine");

	snprintf(path, sizeof path, "%s/keys/k", dir);
	check_int(nym_key_load(path, k1), 0, "key created on first use");
	check(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	    st.st_size == NYM_KEYLEN, "key file 0600, 32 bytes");
	snprintf(buf, sizeof buf, "%s/keys", dir);
	check(stat(buf, &st) == 0 && (st.st_mode & 0777) == 0700,
	    "key directory 0700");
	check_int(nym_key_load(path, k2), 0, "key read back");
	check(memcmp(k1, k2, NYM_KEYLEN) == 0, "same key");
	chmod(path, 0644);
	check_int(nym_key_load(path, k2), -1, "key readable by others refused");
	check_int(errno, EPERM, "with EPERM");
	chmod(path, 0600);
	snprintf(path, sizeof path, "%s/short", dir);
	f = fopen(path, "w");
	fputs("short", f);
	fclose(f);
	chmod(path, 0600);
	check_int(nym_key_load(path, k2), -1, "short key refused");
	check_int(errno, EINVAL, "with EINVAL");

	nym_mac(k1, "a", "data", 4, h1, sizeof h1);
	nym_mac(k1, "a", "data", 4, h2, sizeof h2);
	check(memcmp(h1, h2, sizeof h1) == 0, "mac is deterministic");
	nym_mac(k1, "b", "data", 4, h2, sizeof h2);
	check(memcmp(h1, h2, sizeof h1) != 0, "context separates");
	memset(k2, 0, sizeof k2);
	nym_mac(k2, "a", "data", 4, h2, sizeof h2);
	check(memcmp(h1, h2, sizeof h1) != 0, "key separates");

	snprintf(path, sizeof path, "%s/conf", dir);
	f = fopen(path, "w");
	fputs("# comment\n\n  a = 1 \nb=two words\na = 3\n", f);
	fclose(f);
	setenv("NYMBOX_CONF", path, 1);
	check_int(nym_conf_load(&where), 0, "config loads");
	check_str(nym_conf_get("a"), "3", "last assignment wins");
	check_str(nym_conf_get("b"), "two words", "value trimmed");
	check(nym_conf_get("c") == NULL, "missing key");
	f = fopen(path, "w");
	fputs("a = 1\nno equals\n", f);
	fclose(f);
	check_int(nym_conf_load(&where), -1, "malformed config fails");
	check(strstr(where, "conf:2") != NULL, "and says where");
	f = fopen(path, "w");
	fputs("mode = defer\nchain = a\n[Alice@Mail.i2p]\nmode = now\n"
	    "x = 1\n [ bob@b.i2p ] \nmode = batch\n", f);
	fclose(f);
	check_int(nym_conf_load(&where), 0, "config with sections loads");
	check_str(nym_conf_get("mode"), "defer", "a section's key is not global");
	check(nym_conf_get("x") == NULL, "not even when only a section has it");
	check_str(nym_conf_iget("alice@mail.i2p", "mode"), "now",
	    "the identity's own value, names compared ignoring case");
	check_str(nym_conf_iget("bob@b.i2p", "mode"), "batch",
	    "a second section");
	check_str(nym_conf_iget("bob@b.i2p", "chain"), "a",
	    "a key the section lacks comes from outside");
	check(nym_conf_iget("bob@b.i2p", "x") == NULL,
	    "never from another section");
	check_str(nym_conf_iget("carol@c.i2p", "mode"), "defer",
	    "an identity without a section gets the global value");
	check_str(nym_conf_iget(NULL, "mode"), "defer", "and so does none");
	f = fopen(path, "w");
	fputs("a = 1\n[]\n", f);
	fclose(f);
	check_int(nym_conf_load(&where), -1, "an empty section name fails");
	f = fopen(path, "w");
	fputs("[a\n", f);
	fclose(f);
	check_int(nym_conf_load(&where), -1, "an unclosed section fails");
	snprintf(path, sizeof path, "%s/none", dir);
	setenv("NYMBOX_CONF", path, 1);
	check_int(nym_conf_load(&where), -1, "a named missing config fails");
	unsetenv("NYMBOX_CONF");
	setenv("HOME", dir, 1);
	check_int(nym_conf_load(&where), 0, "no config at all is fine");

	check_str(nym_splitpath("a/b/c", buf, sizeof buf), "c",
	    "splitpath: the last component");
	check_str(buf, "a/b", "... and its directory");
	check_str(nym_splitpath("/x", buf, sizeof buf), "x",
	    "splitpath: a file at the root");
	check_str(buf, "/", "... is in /");
	check_str(nym_splitpath("x", buf, sizeof buf), "x",
	    "splitpath: no slash");
	check_str(buf, ".", "... is in .");
	check(nym_splitpath("abcd/e", buf, 4) == NULL && errno == ENAMETOOLONG,
	    "splitpath: a directory that does not fit is ENAMETOOLONG");
	check(nym_splitpath("abc/e", buf, 4) != NULL && strcmp(buf, "abc") == 0,
	    "splitpath: one that just fits");

	check_int(nym_exitcode(ENOSPC), 75, "ENOSPC is temporary");
	check_int(nym_exitcode(EPIPE), 75, "EPIPE is temporary");
	check_int(nym_exitcode(EINVAL), 70, "EINVAL is internal");

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 99;
	return tap_done();
}
