/*
 * store.c - unit tests for atomic writes, key files and configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include "base.h"
#include "tap.h"

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

int
main(void)
{
	char dir[] = "/tmp/nymunit.XXXXXX", path[512], buf[64];
	unsigned char k1[NYM_KEYLEN], k2[NYM_KEYLEN], h1[32], h2[32];
	const char *where;
	struct stat st;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return 99;

	check_int(nym_atomic_write(dir, "a", "hello", 5, 0640, 0), 0,
	    "atomic write");
	snprintf(path, sizeof path, "%s/a", dir);
	check(stat(path, &st) == 0 && st.st_size == 5 &&
	    (st.st_mode & 0777) == 0640, "file has its bytes and mode");
	check_int(nym_atomic_write(dir, "a", "bye", 3, 0600, 0), 0,
	    "rename replaces");
	check(stat(path, &st) == 0 && st.st_size == 3, "replaced");
	check_int(nym_atomic_write(dir, "a", "x", 1, 0600,
	    NYM_ATOMIC_NOCLOBBER), -1, "no-clobber refuses an existing name");
	check_int(errno, EEXIST, "with EEXIST");
	check_int(entries(dir), 1, "no temporary file left behind");
	snprintf(path, sizeof path, "%s/missing", dir);
	check_int(nym_atomic_write(path, "a", "x", 1, 0600, 0), -1,
	    "missing directory fails");
	check_int(errno, ENOENT, "with ENOENT");

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
