/*
 * demand.c - unit tests for the kept stamp demands (lib/demand.c) and a
 * recipient's own demand in its sender list (lib/senders.c): a domain's
 * and an address's file, names that cannot be one, a stale demand not
 * used and removed, one seen again kept fresh, forgetting, the bound on
 * the files (stale ones first, then the oldest), and a refusal's text
 * read for its address and demand, whole or cut short.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "tap.h"

#define D	".config/nymbox/demands"

/* Set the time of D/name to now - age seconds. */
static int
age(const char *name, long age)
{
	char path[512];
	struct timespec ts[2];

	snprintf(path, sizeof path, "%s/%s", D, name);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return utimensat(AT_FDCWD, path, ts, 0);
}

static time_t
mtimeof(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", D, name);
	return stat(path, &st) == 0 ? st.st_mtime : -1;
}

static int
exists(const char *name)
{
	return mtimeof(name) != -1;
}

static void
test_keep(void)
{
	char buf[NYM_POW_DEMAND_MAX + 1];

	check_int(nym_demand_save("B.i2p.", "1:9 E1:96,5:0", 13), 0,
	    "a domain's demand kept");
	check(exists("b.i2p"), "as demands/DOMAIN, lower case");
	check_int(nym_demand_load("b.I2P", buf, sizeof buf), 1, "and read");
	check_str(buf, "1:9 E1:96,5:0", "as it was");
	check_int(nym_demand_save("Bob+x@B.i2p", "1:12", 4), 0,
	    "an address's demand kept");
	check(exists("bob+x@b.i2p"), "as demands/ADDRESS, lower case");
	check_int(nym_demand_load("bob+x@b.i2p", buf, sizeof buf), 1,
	    "and read");
	check_str(buf, "1:12", "as it was");
	check_int(nym_demand_save("a/b@b.i2p", "1:12", 4), -1,
	    "a local part with a slash is no name");
	check_int(nym_demand_save(".a@b.i2p", "1:12", 4), -1,
	    "nor one starting with a dot");
	check_int(nym_demand_save("@b.i2p", "1:12", 4), -1,
	    "nor an empty one");
	check_int(nym_demand_save("a@../x", "1:12", 4), -1,
	    "nor a domain with a slash");
	check_int(nym_demand_load("a/b@b.i2p", buf, sizeof buf), 0,
	    "such a name has no demand kept");
	check_int(nym_demand_save("c.i2p", "1:9\n", 4), -1,
	    "a demand with a line end is refused");
}

static void
test_stale(void)
{
	char buf[NYM_POW_DEMAND_MAX + 1];
	time_t t;

	check_int(age("b.i2p", NYM_DEMAND_AGE + 60), 0, "aged past the limit");
	check_int(nym_demand_load("b.i2p", buf, sizeof buf), 0,
	    "a stale demand is not used");
	check(!exists("b.i2p"), "and is removed");
	check_int(nym_demand_save("b.i2p", "1:9", 3), 0, "kept again");
	check_int(age("b.i2p", NYM_DEMAND_AGE - 3600), 0,
	    "aged just short of the limit");
	check_int(nym_demand_load("b.i2p", buf, sizeof buf), 1,
	    "is still used");
	check_int(nym_demand_save("b.i2p", "1:9", 3), 0,
	    "the same demand seen again");
	t = mtimeof("b.i2p");
	check(t != -1 && time(NULL) - t < 60, "has its time renewed");
	check_int(age("b.i2p", 3600), 0, "seen an hour ago");
	check_int(nym_demand_save("b.i2p", "1:9", 3), 0, "and again now");
	t = mtimeof("b.i2p");
	check(t != -1 && time(NULL) - t >= 3600,
	    "is not written again within a day");
	check_int(nym_demand_forget("B.i2p"), 1, "forgotten");
	check(!exists("b.i2p"), "its file gone");
	check_int(nym_demand_forget("b.i2p"), 0, "forgetting none is no error");
}

static void
test_bound(void)
{
	char name[64], path[600];
	int i, n = 0, fd;

	/* NYM_DEMAND_FILES fresh ones, the oldest d0.i2p, and one stale. */
	check_int(nym_demand_forget("bob+x@b.i2p"), 1, "an empty directory");
	for (i = 0; i < NYM_DEMAND_FILES; i++) {
		snprintf(name, sizeof name, "d%d.i2p", i);
		snprintf(path, sizeof path, "%s/%s", D, name);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    write(fd, "1:8\n", 4) != 4 || close(fd) == -1 ||
		    age(name, i == 0 ? 7200 : i == 1 ? NYM_DEMAND_AGE + 60 :
		    3600) == -1)
			n++;
	}
	check_int(n, 0, "a full directory made");
	check_int(nym_demand_save("new.i2p", "1:10", 4), 0,
	    "a new demand past the bound kept");
	check(exists("new.i2p"), "there");
	check(!exists("d1.i2p"), "the stale one removed");
	check(exists("d0.i2p"), "the oldest kept while the stale made room");
	check_int(nym_demand_save("newer.i2p", "1:10", 4), 0, "another one");
	check(!exists("d0.i2p"), "the oldest removed to make room");
	check(exists("d2.i2p") && exists("new.i2p"), "the others kept");
	check_int(nym_demand_save("d2.i2p", "1:11", 4), 0,
	    "a changed demand of a kept domain");
	check(exists("d3.i2p"), "makes no room");
}

static void
test_said(void)
{
	char a[NYM_SMTP_PATH], d[NYM_POW_DEMAND_MAX + 1];

	check_int(nym_demand_said("451 4.7.1 Stamp needed for bob@b.i2p: "
	    "X-Hashcash E1:96,5:2 1:24+4 (not enough bits), mint one and try "
	    "again", a, sizeof a, d, sizeof d), 1, "a one-line refusal read");
	check_str(a, "bob@b.i2p", "its address");
	check_str(d, "E1:96,5:2 1:24+4", "its demand");
	check_int(nym_demand_said("550 5.7.1 Stamp needed for bob@b.i2p (none "
	    "for this recipient) 5.7.1 X-Hashcash 1:20>22@2027-03-01", a,
	    sizeof a, d, sizeof d), 1, "the two-line form read");
	check_str(a, "bob@b.i2p", "its address");
	check_str(d, "1:20>22@2027-03-01", "its demand, last");
	check_int(nym_demand_said("451 4.7.1 Stamp needed for bob@b.i2p: "
	    "X-Hashcash 1:2", a, sizeof a, d, sizeof d), 1,
	    "a one-line refusal cut short");
	check_str(d, "1:2", "is read as the two-line form: the caller says "
	    "whether its text is whole");
	check_int(nym_demand_said("451 4.7.1 Stamp needed for bob@b.i2p: "
	    "X-Hashcash 1:20(x)", a, sizeof a, d, sizeof d), 1,
	    "a demand run into its reason");
	check_str(d, "", "is none");
	check_int(nym_demand_said("451 4.3.0 try again later", a, sizeof a, d,
	    sizeof d), 0, "another refusal says nothing");
	check_int(nym_demand_said("Stamp needed for nobody: X-Hashcash 1:8",
	    a, sizeof a, d, sizeof d), 0, "nor one without an address");
}

static void
test_list(void)
{
	static const char l[] = "allow a@a.i2p\n  demand  E1:96,5:2 1:24+4 \r\n"
	    "demand 1:8\ndemand (x)\n";
	struct nym_senders s;
	FILE *f;
	char buf[256];
	size_t n;

	check_int(nym_senders_parse(&s, l, sizeof l - 1, NULL, NULL), 0,
	    "a list with a demand parsed");
	check_str(s.demand, "E1:96,5:2 1:24+4", "the first demand, trimmed");
	check_int(s.bad, 2, "a second demand and a bad one are bad lines");
	check_int(s.n, 1, "the entries kept");
	nym_senders_free(&s);
	f = fopen("list", "w");
	check(f != NULL && fputs("# mine\nallow a@a.i2p\n", f) >= 0 &&
	    fclose(f) == 0, "a list written");
	check_int(nym_senders_setdemand("list", "1:12"), 1, "a demand set");
	check_int(nym_senders_setdemand("list", "1:12"), 0, "the same again");
	check_int(nym_senders_setdemand("list", "1:14 E1:96,5:1"), 1,
	    "another in its place");
	check_int(nym_senders_set("list", "b@b.i2p", NYM_SENDERS_DENY), 1,
	    "an entry added after it");
	f = fopen("list", "r");
	n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	buf[n] = '\0';
	check_str(buf, "# mine\nallow a@a.i2p\ndemand 1:14 E1:96,5:1\n"
	    "deny b@b.i2p\n", "the file");
	check_int(nym_senders_setdemand("list", "1:1\n2"), -1,
	    "not a demand's form: refused");
	check_int(nym_senders_setdemand("list", NULL), 1, "the demand removed");
	check_int(nym_senders_read(&s, "list", NULL, NULL), 0, "read again");
	check(s.demand == NULL && s.n == 2, "no demand, the entries kept");
	nym_senders_free(&s);
}

int
main(void)
{
	char dir[] = "/tmp/demand-unit.XXXXXX";

	if (mkdtemp(dir) == NULL || chdir(dir) == -1 ||
	    setenv("HOME", dir, 1) == -1 || nym_mkdirs(D, 0700) == -1) {
		perror("demand-unit");
		return 1;
	}
	test_keep();
	test_stale();
	test_bound();
	test_said();
	test_list();
	if (tap_failed == 0) {
		if (system("rm -rf \"$PWD\"") != 0)
			printf("# unable to remove %s\n", dir);
	} else
		printf("# files kept in %s\n", dir);
	return tap_done();
}
