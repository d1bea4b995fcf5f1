/*
 * journal.c - unit tests for pop-fetch's state file (lib/journal.c).
 */
#include <errno.h>
#include <fcntl.h>
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

int
main(void)
{
	char dir[] = "/tmp/nymunit.XXXXXX", sub[512], path[700], buf[4096];
	struct nym_journal j;
	struct nym_jent *e;
	pid_t pid;
	int st;

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(sub, sizeof sub, "%s/pop", dir);

	check_int(nym_journal_open(&j, sub, "al ice@h:1"), 0,
	    "a new state: directory and journal created");
	check_str(j.name, "al_ice@h:1.uidl", "odd bytes of the account as _");
	snprintf(path, sizeof path, "%s/pop/al_ice@h:1.spool", dir);
	check_str(j.spool, path, "the spool beside it");
	check_int(j.nents, 0, "empty");
	check_int(nym_journal_add(&j, "P u1 name1\n"), 0, "add");
	check_int(nym_journal_add(&j, "D u1\n"), 0, "add D");
	check_int(nym_journal_add(&j, "P u2 mbox 10 20\n"), 0, "add P mbox");
	check_int(nym_journal_add(&j, "P u3 cmd\n"), 0, "add P cmd");
	check_int(nym_journal_add(&j, "P u4 x\nU u4\n"), 0, "add P, U");
	check_int(nym_journal_add(&j, "P u5 a/b\n"), 0, "a name with /");
	check_int(nym_journal_add(&j, "C\n"), 0, "add C");
	check_int(nym_journal_add(&j, "%0300d\n", 1), -1, "too long a line");
	check_int(errno, E2BIG, "with E2BIG");
	check_int(nym_journal_sync(&j), 0, "sync");

	/* Held: another process is turned away. */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct nym_journal k;

		_exit(nym_journal_open(&k, sub, "al ice@h:1") == 1 ? 0 : 1);
	}
	check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "another process finds it locked");
	nym_journal_close(&j);

	/* A cut last line, and an X line in .gone. */
	snprintf(path, sizeof path, "%s/al_ice@h:1.uidl", sub);
	{
		int fd = open(path, O_WRONLY | O_APPEND);

		check(fd != -1 && write(fd, "D u2", 4) == 4, "cut a line");
		close(fd);
	}
	snprintf(path, sizeof path, "%s/al_ice@h:1.gone", sub);
	tap_put(path, "X u6 123\nX u7\nX u8 9");
	check_int(nym_journal_open(&j, sub, "al ice@h:1"), 0, "reopen");
	check_int(j.cut, 1, "C line seen");
	e = nym_journal_find(&j, "u1");
	check(e != NULL && e->done && e->kind == 'd' &&
	    strcmp(e->name, "name1") == 0, "u1: P name, D");
	e = nym_journal_find(&j, "u2");
	check(e != NULL && !e->done && e->kind == 'm' && e->off == 10 &&
	    e->len == 20, "u2: P mbox; the cut D ignored");
	e = nym_journal_find(&j, "u3");
	check(e != NULL && e->kind == 'p', "u3: P cmd");
	e = nym_journal_find(&j, "u4");
	check(e != NULL && e->kind == 0 && !e->done, "u4: U undoes P");
	e = nym_journal_find(&j, "u5");
	check(e != NULL && e->kind == 0, "u5: a name with / is no file");
	e = nym_journal_find(&j, "u6");
	check(e != NULL && e->gone && e->gsize == 123, "u6: X with size");
	e = nym_journal_find(&j, "u7");
	check(e != NULL && e->gone && e->gsize == 0, "u7: X, size unknown");
	check(nym_journal_find(&j, "u8") == NULL, "u8: a cut X line ignored");
	check(nym_journal_find(&j, "u9") == NULL, "u9: none");
	check_int(nym_journal_add(&j, "D u9\n"), 0, "append after the cut");
	nym_journal_close(&j);
	snprintf(path, sizeof path, "%s/al_ice@h:1.uidl", sub);
	check(tap_slurp(path, buf, sizeof buf) > 0 &&
	    strstr(buf, "\nD u2\nD u9\n") != NULL,
	    "the cut line was ended before the next");

	check_int(nym_journal_open(&j, sub, "al ice@h:1"), 0, "reopen");
	check_int(nym_journal_rewrite(&j, "D a\n", 4, "X b 5\n", 6), 0,
	    "rewrite");
	nym_journal_close(&j);
	nym_journal_close(&j);
	check(tap_slurp(path, buf, sizeof buf) == 4 && strcmp(buf, "D a\n") == 0,
	    "journal rewritten");
	snprintf(path, sizeof path, "%s/al_ice@h:1.gone", sub);
	check(tap_slurp(path, buf, sizeof buf) == 6 &&
	    strcmp(buf, "X b 5\n") == 0, ".gone rewritten");
	check_int(nym_journal_open(&j, sub, "al ice@h:1"), 0, "reopen");
	check(j.nents == 2 && nym_journal_find(&j, "a")->done &&
	    nym_journal_find(&j, "b")->gone, "both read back");
	check_int(j.cut, 0, "no C line now");
	nym_journal_close(&j);

	/* Over the limit. */
	snprintf(path, sizeof path, "%s/al_ice@h:1.uidl", sub);
	check_int(truncate(path, (off_t)NYM_POPF_STATE_MAX + 1), 0, "grow");
	check_int(nym_journal_open(&j, sub, "al ice@h:1"), -1,
	    "a journal over the limit");
	check_int(errno, EFBIG, "with EFBIG");
	check_str(j.path, path, "naming it");
	check_int(j.lockfd, -1, "nothing held");

	if (fork() == 0)
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
	wait(NULL);
	return tap_done();
}
