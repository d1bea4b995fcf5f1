/*
 * sender-list - a recipient's allow and deny lists of senders.
 *
 * The lists smtp-receive consults (a deny entry refuses the sender, an
 * allow entry spares it the proof-of-work stamp), kept in one text file
 * per recipient that the user may also edit by hand.  This program adds,
 * removes and lists entries, and answers for one address with an exit
 * code and a word that procmail can test.  It also keeps the stamp the
 * recipient demands of unknown senders, if not the server's (a line
 * "demand DEMAND", checked with pow-stamp's parser).  The file's format,
 * matching and atomic update are lib/senders.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "pow.h"

#define USAGE "usage: sender-list [-f file | -r recipient] allow|deny|del " \
	"address...\n" \
	"       sender-list [-f file | -r recipient] list\n" \
	"       sender-list [-q] [-f file | -r recipient] check address\n" \
	"       sender-list [-f file | -r recipient] demand " \
	"[demand... | default]\n"

/* check's exit codes (sender-list(1), EXIT STATUS), grep's shape. */
enum { X_PASS = 0, X_DENIED = 1, X_TROUBLE = 2 };

static const char *file;

static void
badline(void *arg, unsigned line, const char *why)
{
	(void)arg;
	nym_warn("bad entry in %s:%u: %s", file, line, why);
}

/* The list file: -f, else the recipient's (-r, else the local part of
 * the sender key) under senders-dir, else ~/.config/nymbox/senders. */
static void
findfile(const char *fopt, const char *ropt, int exact, char *buf,
    size_t cap)
{
	char home[NYM_MD_PATH], dir[NYM_MD_PATH], local[NYM_SMTP_PATH];
	const char *where, *d, *r = ropt, *at;

	if (fopt != NULL) {
		file = fopt;
		return;
	}
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	if ((d = nym_conf_get("senders-dir")) == NULL) {
		if (nym_confdir(home, sizeof home) == -1 ||
		    (size_t)snprintf(dir, sizeof dir, "%s/senders", home) >=
		    sizeof dir)
			nym_die(NYM_EX_CONFIG, "unable to find the sender "
			    "lists: no HOME (give -f, or senders-dir in %s)",
			    nym_conf_name());
		d = dir;
	}
	if (r == NULL) {
		if ((r = nym_conf_get("sender")) == NULL)
			nym_die(NYM_EX_USAGE, "unable to find the sender "
			    "list: give -f or -r (or sender in %s)",
			    nym_conf_name());
		if ((at = strrchr(r, '@')) != NULL) {
			snprintf(local, sizeof local, "%.*s", (int)(at - r), r);
			r = local;
		}
		exact = 1;
	}
	if (nym_senders_path(buf, cap, d, r, exact) == -1)
		nym_die(errno == EINVAL ? NYM_EX_USAGE : NYM_EX_CONFIG,
		    "unable to find the sender list of %s: %s", r,
		    errno == EINVAL ? "not a recipient (no '/', blank or "
		    "leading dot)" : strerror(errno));
	file = buf;
}

static struct nym_senders *
load(void)
{
	static struct nym_senders l;

	if (nym_senders_read(&l, file, badline, NULL) == -1)
		nym_die(errno == EFBIG ? NYM_EX_DATAERR : nym_exitcode(errno),
		    "unable to read sender list %s: %s", file,
		    errno == EFBIG ? "over 1 MB" :
		    errno == EINVAL ? "not a regular file" : strerror(errno));
	return &l;
}

static int
update(int verdict, int argc, char **argv)
{
	const char *why;
	char norm[NYM_SENDERS_LINE + 1];
	int i;

	if (argc < 1)
		nym_usage();
	/* Every address is checked before the file is touched. */
	for (i = 0; i < argc; i++)
		if (nym_senders_norm(argv[i], strlen(argv[i]), norm,
		    sizeof norm, &why) == -1)
			nym_die(NYM_EX_USAGE, "unable to use %s: %s", argv[i],
			    why);
	for (i = 0; i < argc; i++)
		if (nym_senders_set(file, argv[i], verdict) == -1)
			nym_die(errno == EFBIG ? NYM_EX_DATAERR :
			    nym_exitcode(errno), "unable to update sender list "
			    "%s: %s", file, errno == EFBIG ? "it would pass "
			    "1 MB or 65536 entries" : errno == ETIMEDOUT ?
			    "locked by another process" : strerror(errno));
	return NYM_EX_OK;
}

static int
list(void)
{
	struct nym_senders *l = load();
	size_t i;

	if (l->demand != NULL)
		printf("demand %s\n", l->demand);
	for (i = 0; i < l->n; i++)
		printf("%s %s\n", l->e[i].verdict == NYM_SENDERS_ALLOW ?
		    "allow" : "deny", l->e[i].pat);
	if (fflush(stdout) == EOF || ferror(stdout))
		nym_dieerr(nym_exitcode(errno), "unable to write the list");
	return l->bad != 0 ? NYM_EX_DATAERR : NYM_EX_OK;
}

static int
check(const char *addr, int quiet)
{
	static const char *word[] = { "none", "allow", "deny" };
	int v = nym_senders_match(load(), addr);

	if (!quiet && (printf("%s\n", word[v]) < 0 || fflush(stdout) == EOF))
		nym_dieerr(X_TROUBLE, "unable to write the verdict");
	return v == NYM_SENDERS_DENY ? X_DENIED : X_PASS;
}

/* demand: print the recipient's demand (nothing if it has none), set it
 * (the words joined by one space, parsed as pow-stamp parses it), or
 * remove it (default: the server's applies). */
static int
demand(int argc, char **argv)
{
	struct nym_pow_demand d;
	struct nym_senders *l;
	char text[NYM_POW_DEMAND_MAX + 1];
	size_t n = 0, k;
	int i;

	if (argc == 0) {
		l = load();
		if (l->demand != NULL && (printf("%s\n", l->demand) < 0 ||
		    fflush(stdout) == EOF))
			nym_dieerr(nym_exitcode(errno), "unable to write the "
			    "demand");
		return l->bad != 0 ? NYM_EX_DATAERR : NYM_EX_OK;
	}
	if (argc == 1 && strcmp(argv[0], "default") == 0) {
		if (nym_senders_setdemand(file, NULL) == -1)
			goto fail;
		return NYM_EX_OK;
	}
	for (i = 0; i < argc; i++) {
		k = strlen(argv[i]);
		if (n + (i > 0) + k > NYM_POW_DEMAND_MAX)
			nym_die(NYM_EX_USAGE, "unable to use the demand: over "
			    "%d bytes", NYM_POW_DEMAND_MAX);
		if (i > 0)
			text[n++] = ' ';
		memcpy(text + n, argv[i], k);
		n += k;
	}
	text[n] = '\0';
	if (!nym_senders_isdemand(text, n) ||
	    nym_pow_demand_parse(text, &d) == -1 || d.nwant == 0)
		nym_die(NYM_EX_USAGE, "unable to use demand %s: expected a "
		    "pow-stamp(1) DEMAND with a kind this version checks "
		    "(1:BITS, E1:96,5:BITS, E1:102,5:BITS)", text);
	if (nym_senders_setdemand(file, text) == -1)
		goto fail;
	return NYM_EX_OK;
fail:
	nym_die(errno == EFBIG ? NYM_EX_DATAERR : nym_exitcode(errno),
	    "unable to update sender list %s: %s", file, errno == EFBIG ?
	    "it would pass 1 MB" : errno == ETIMEDOUT ? "locked by another "
	    "process" : strerror(errno));
}

int
main(int argc, char *argv[])
{
	const char *fopt = NULL, *ropt = NULL, *verb;
	static char path[NYM_MD_PATH];	/* file points here */
	int c, quiet = 0;

	nym_start(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "f:qr:")) != -1) {
		switch (c) {
		case 'f': fopt = optarg; break;
		case 'q': quiet = 1; break;
		case 'r': ropt = optarg; break;
		default: nym_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (fopt != NULL && ropt != NULL))
		nym_usage();
	verb = argv[0];
	argc--;
	argv++;
	if (strcmp(verb, "check") == 0) {
		/* A checker's trouble is 2, as grep's (EXIT STATUS). */
		nym_exitforce = X_TROUBLE;
		if (argc != 1)
			nym_usage();
		findfile(fopt, ropt, 0, path, sizeof path);
		return check(argv[0], quiet);
	}
	if (strcmp(verb, "list") == 0) {
		if (argc != 0)
			nym_usage();
		findfile(fopt, ropt, 0, path, sizeof path);
		return list();
	}
	if (strcmp(verb, "demand") == 0) {
		findfile(fopt, ropt, argc == 0 ? 0 : 1, path, sizeof path);
		return demand(argc, argv);
	}
	if (strcmp(verb, "allow") != 0 && strcmp(verb, "deny") != 0 &&
	    strcmp(verb, "del") != 0)
		nym_usage();
	findfile(fopt, ropt, 1, path, sizeof path);
	return update(strcmp(verb, "allow") == 0 ? NYM_SENDERS_ALLOW :
	    strcmp(verb, "deny") == 0 ? NYM_SENDERS_DENY : NYM_SENDERS_NONE,
	    argc, argv);
}
