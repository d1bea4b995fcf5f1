/*
 * mdbatch.c - unit tests for the maildir batch and the published check
 * (lib/maildir.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "store.h"
#include "tap.h"

static struct nym_mdbatch b;

/* A file written into the batch's tmp/ and added under tag. */
static int
addone(const char *text, size_t tag)
{
	struct nym_mdfile f;

	if (nym_maildir_open(&f, b.dir) == -1 ||
	    nym_write_all(f.fd, text, strlen(text)) == -1 || close(f.fd) == -1)
		return -1;
	f.fd = -1;
	nym_mdbatch_add(&b, &f, tag, strlen(text));
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/nymunit.XXXXXX", md[512], path[NYM_MD_PATH + 200];
	char cur[NYM_MD_PATH + 200];
	char buf[64];
	char first[96];
	size_t nl;
	int e;

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(md, sizeof md, "%s/Maildir", dir);
	check_int(nym_mdbatch_open(&b, md), 0, "open makes the maildir");
	check_int(b.n, 0, "an empty batch");
	check_int(addone("Subject: 1\n\none\n", 7), 0, "first file");
	check_int(addone("Subject: 2\n\ntwo\n", 9), 0, "second file");
	check_int(b.n, 2, "two in the batch");
	check_int(b.bytes, 32, "their bytes counted");
	check_int(nym_mdbatch_due(&b), 0, "not due yet");
	memcpy(first, b.name[0], sizeof first);
	check_int(nym_mdbatch_sync(&b), 0, "syncfs");
	nl = nym_mdbatch_link(&b, &e);
	check_int(nl, 2, "both linked");
	check_int(e, 0, "no error");
	check_int(b.n, 0, "batch empty again");
	check_int(b.tag[0] == 7 && b.tag[1] == 9, 1, "tags kept in order");
	check_int(nym_mdbatch_syncnew(&b, nl), 0, "new/ synced");
	snprintf(path, sizeof path, "%s/new/%s", md, first);
	check(tap_slurp(path, buf, sizeof buf) == 16 &&
	    strcmp(buf, "Subject: 1\n\none\n") == 0, "first is in new/");
	check_int(nym_maildir_published(md, first), 1, "published: in new/");
	snprintf(path, sizeof path, "%s/new/%s", md, first);
	snprintf(cur, sizeof cur, "%s/cur/%s:2,S", md, first);
	check_int(rename(path, cur), 0, "a reader moves it to cur/");
	check_int(nym_maildir_published(md, first), 1, "published: in cur/ "
	    "with flags");
	first[strlen(first) - 1] = '\0';
	check_int(nym_maildir_published(md, first), 0, "a prefix of a name "
	    "is not");
	check_int(nym_maildir_published(md, ""), 0, "nor is no name");
	snprintf(path, sizeof path, "%s/tmp", md);
	check(rmdir(path) == -1 && errno == ENOTEMPTY ? 0 : 1,
	    "nothing left in tmp/");
	mkdir(path, 0700);

	/* A name taken in new/: linking stops there, all leave tmp/. */
	check_int(addone("a\n", 1), 0, "third file");
	check_int(addone("b\n", 2), 0, "fourth file");
	snprintf(path, sizeof path, "%s/new/%s", md, b.name[1]);
	tap_put(path, "taken\n");
	nl = nym_mdbatch_link(&b, &e);
	check_int(nl, 1, "one linked before the taken name");
	check_int(e, EEXIST, "with EEXIST");
	check(tap_slurp(path, buf, sizeof buf) == 6, "the other file kept");
	snprintf(path, sizeof path, "%s/tmp", md);
	check_int(rmdir(path), 0, "tmp/ empty all the same");
	mkdir(path, 0700);

	/* Dropped: files gone from tmp/. */
	check_int(addone("c\n", 3), 0, "fifth file");
	snprintf(path, sizeof path, "%s", b.tmp[0]);
	nym_mdbatch_drop(&b);
	check(access(path, F_OK) == -1 && b.n == 0, "drop removes it");
	nym_mdbatch_close(&b);
	nym_mdbatch_close(&b);

	if (fork() == 0)
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
	wait(NULL);
	return tap_done();
}
