/*
 * nymbox-init - create a mail identity on I2P from nothing.
 *
 * A new user needs four things before mail can flow, and each lives where
 * the programs already look: the domain's persistent I2P key (the one
 * sam-deliver sends from and sam-accept receives on, so that what the
 * domain publishes is what receivers see), the inbox key pair that
 * mbox-encrypt seals mail to and pop-serve unlocks with the password,
 * the list of local users, and a configuration file that ties them
 * together.  The key is made here, not by a router's DEST GENERATE
 * (lib/destgen.c), so the address and the line to publish at
 * /.well-known/i2pmail.key are printed before any router runs.
 *
 * Nothing that exists is ever replaced: every file is created with
 * link(2) (nym_atomic_write, NYM_ATOMIC_NOCLOBBER) and one that is there
 * already is kept and named as kept, so running it again is harmless
 * and prints the same address.  Everything that needs the user (the
 * password) is asked for before anything is written.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "seal.h"
#include "i2p.h"

#define USAGE "usage: nymbox-init [-F fd | -P passfile] [-m maildir] " \
	"[-p port] [-u user]\n" \
	"                   [-w file] -d domain | address | domain\n"

#define OPS	3		/* Argon2id passes, as mbox-encrypt -g */
#define MEM	((uint64_t)64 << 20)	/* Argon2id memory, likewise */

/* Secrets in one place, locked in memory where the system lets us. */
static struct {
	char pw[NYM_PASS_MAX + 1], pw2[NYM_PASS_MAX + 1];
	unsigned char pk[NYM_SEAL_PKLEN], sk[NYM_SEAL_SKLEN];
	unsigned char keyfile[NYM_SEAL_KEYFILE];
	char dest[NYM_DEST_MAX * 2];
} sec;

static void
usage(void)
{
	nym_usage();
}

static void
cleanup(void)
{
	nym_wipe(&sec, sizeof sec);
}

static int
exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno != ENOENT)
		nym_dieerr(NYM_EX_CONFIG, "unable to look at %s", path);
	return 0;
}

/* dir and name of path, for nym_atomic_write. */
static const char *
split(const char *path, char *dir, size_t cap)
{
	const char *base = nym_splitpath(path, dir, cap);

	if (base == NULL)
		nym_die(NYM_EX_USAGE, "unable to use %s: path too long", path);
	return base;
}

/* Create path with n bytes (mode), its directory (dmode) if missing.
 * 1 created, 0 it was there. */
static int
create(const char *path, const void *p, size_t n, mode_t mode, mode_t dmode)
{
	char dir[PATH_MAX];
	const char *base = split(path, dir, sizeof dir);

	if (nym_mkdirs(dir, dmode) == -1)
		nym_dieerr(nym_exitcode(errno) == NYM_EX_TEMPFAIL ?
		    NYM_EX_TEMPFAIL : NYM_EX_CONFIG, "unable to create "
		    "directory %s", dir);
	if (nym_atomic_write(dir, base, p, n, mode, NYM_ATOMIC_NOCLOBBER) ==
	    0)
		return 1;
	if (errno == EEXIST)
		return 0;
	nym_dieerr(nym_exitcode(errno) == NYM_EX_TEMPFAIL ? NYM_EX_TEMPFAIL :
	    NYM_EX_CONFIG, "unable to create %s", path);
}

static void
say(int made, const char *path, const char *what)
{
	printf("%s %s (%s)\n", made ? "created" : "kept", path, what);
}

/* path = dir "/" name, or a usage error. */
static void
join(char *path, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(path, cap, "%s/%s", dir, name) >= cap)
		nym_die(NYM_EX_USAGE, "unable to use %s/%s: path too long", dir,
		    name);
}

/* A local part we write into files unquoted: letters, digits, ".-_+". */
static int
localok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+");

	return n > 0 && n <= NYM_SMTP_LOCAL && s[n] == '\0' && s[0] != '.';
}

/* The inbox password: -P, -F or the terminal, twice there. */
static void
password(const char *file, const char *fdarg)
{
	int fd = fdarg != NULL ? (int)nym_num(NYM_EX_USAGE, "-F", fdarg, 0,
	    INT_MAX) : -1;

	if (nym_password(file, fd, "the inbox", sec.pw, sizeof sec.pw) == -1) {
		if (errno == ENXIO)
			nym_die(NYM_EX_USAGE, "unable to read the inbox "
			    "password: no terminal (use -P or -F)");
		if (errno == EPERM)
			nym_die(NYM_EX_CONFIG, "unable to read password file "
			    "%s: others can read it (chmod 600 %s)", file,
			    file);
		if (errno == EMSGSIZE)
			nym_die(NYM_EX_CONFIG, "unable to use the password: "
			    "longer than %d bytes", NYM_PASS_MAX);
		nym_dieerr(NYM_EX_CONFIG, "unable to read the inbox "
		    "password%s%s", file != NULL ? " file " : "",
		    file != NULL ? file : "");
	}
	if (file == NULL && fd < 0) {
		if (nym_password(NULL, -1, "the inbox (again)", sec.pw2,
		    sizeof sec.pw2) == -1)
			nym_dieerr(NYM_EX_USAGE, "unable to read the inbox "
			    "password");
		if (strcmp(sec.pw, sec.pw2) != 0)
			nym_die(NYM_EX_USAGE, "unable to set the password: "
			    "the two differ");
	}
	if (sec.pw[0] == '\0')
		nym_die(NYM_EX_USAGE, "unable to set the password: it is empty");
}

static void
inboxkeys(const char *pubpath, const char *privpath)
{
	unsigned char pub[NYM_SEAL_PUBFILE];

	if (nym_seal_keypair(sec.pk, sec.sk) == -1 ||
	    nym_seal_lock(sec.sk, sec.pw, strlen(sec.pw), OPS, MEM,
	    sec.keyfile) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to create the inbox keys");
	nym_wipe(sec.pw, sizeof sec.pw);
	nym_wipe(sec.sk, sizeof sec.sk);
	nym_seal_pubfile(sec.pk, pub);
	if (!create(privpath, sec.keyfile, sizeof sec.keyfile, 0600, 0700))
		nym_die(NYM_EX_CONFIG, "unable to create %s: it appeared "
		    "meanwhile", privpath);
	if (!create(pubpath, pub, sizeof pub, 0600, 0700)) {
		unlink(privpath);
		nym_die(NYM_EX_CONFIG, "unable to create %s: it appeared "
		    "meanwhile", pubpath);
	}
	say(1, privpath, "the inbox's private key, locked by the password");
	say(1, pubpath, "the inbox's public key");
}

/* The domain's key: read it if there is one, else make it.  b32 gets its
 * address. */
static void
sendkey(const char *path, char *b32)
{
	ssize_t n;
	size_t len;
	int made;

	if ((made = nym_dest_keyfile(path)) == -1)
		nym_dieerr(nym_exitcode(errno) == NYM_EX_TEMPFAIL ?
		    NYM_EX_TEMPFAIL : NYM_EX_CONFIG, "unable to create %s",
		    path);
	n = nym_read_small(path, sec.dest, sizeof sec.dest - 1, 1);
	if (n == -1)
		nym_die(NYM_EX_CONFIG, "unable to read key %s: %s", path,
		    errno == EPERM ? "others can read it, or not ours" :
		    strerror(errno));
	len = nym_chomp(sec.dest, (size_t)n);
	if (nym_dest_b32(sec.dest, len, b32) == -1)
		nym_die(NYM_EX_CONFIG, "unable to use key %s: not an I2P "
		    "private key", path);
	nym_wipe(sec.dest, sizeof sec.dest);
	say(made, path, "the I2P key of the domain, for sending and "
	    "receiving");
}

/* s with every ' made '\'' into out, for /bin/sh inside single quotes. */
static void
shquote(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *piece = *s == '\'' ? "'\\''" : (char[2]){ *s, 0 };
		size_t l = strlen(piece);

		if (n + l + 1 > cap)
			nym_die(NYM_EX_USAGE, "unable to use the maildir path: "
			    "too long");
		memcpy(out + n, piece, l);
		n += l;
	}
	out[n] = '\0';
}

int
main(int argc, char *argv[])
{
	static char confdir[PATH_MAX], keydir[PATH_MAX], keypath[PATH_MAX];
	static char privpath[PATH_MAX], pubpath[PATH_MAX], users[PATH_MAX];
	static char conf[PATH_MAX], mdbuf[PATH_MAX], quoted[PATH_MAX * 4];
	static char text[PATH_MAX * 12], wk[NYM_B32LEN + 32];
	char b32[NYM_B32LEN + 9], domain[NYM_SMTP_DOMAIN + 1];
	char user[NYM_SMTP_LOCAL + 1];
	const char *passfile = NULL, *passfd = NULL, *maildir = NULL;
	const char *userarg = NULL, *wkfile = NULL, *darg = NULL, *arg;
	const char *at, *env;
	long port = 25;
	size_t i;
	int c, n, haspriv, haspub, made;

	nym_start(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "d:F:m:P:p:u:w:")) != -1) {
		switch (c) {
		case 'd': darg = optarg; break;
		case 'F': passfd = optarg; break;
		case 'm': maildir = optarg; break;
		case 'P': passfile = optarg; break;
		case 'p':
			port = nym_num(NYM_EX_USAGE, "-p", optarg, 1, 65535);
			break;
		case 'u': userarg = optarg; break;
		case 'w': wkfile = optarg; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((darg != NULL) + argc != 1 || (passfile != NULL && passfd != NULL))
		usage();
	(void)mlock(&sec, sizeof sec);
	atexit(cleanup);

	/* The identity: a domain, or an address whose local part is the
	 * user. */
	arg = darg != NULL ? darg : argv[0];
	if ((at = strrchr(arg, '@')) != NULL) {
		if (darg != NULL || (size_t)(at - arg) > NYM_SMTP_LOCAL)
			nym_die(NYM_EX_USAGE, "unable to use %s: give a domain "
			    "with -d, an address without", arg);
		snprintf(user, sizeof user, "%.*s", (int)(at - arg), arg);
		arg = at + 1;
	} else if (userarg == NULL && (((env = getenv("LOGNAME")) != NULL &&
	    localok(env)) || ((env = getenv("USER")) != NULL &&
	    localok(env))))
		snprintf(user, sizeof user, "%s", env);
	else
		snprintf(user, sizeof user, "mail");
	if (userarg != NULL)
		snprintf(user, sizeof user, "%s", userarg);
	if (!localok(user) || (userarg != NULL && strlen(userarg) >=
	    sizeof user))
		nym_die(NYM_EX_USAGE, "unable to use user name %s: letters, "
		    "digits and .-_+ only", userarg != NULL ? userarg : user);
	if (strlen(arg) >= sizeof domain)
		nym_die(NYM_EX_USAGE, "unable to use domain %s: too long", arg);
	for (i = 0; arg[i] != '\0'; i++)
		domain[i] = (char)tolower((unsigned char)arg[i]);
	domain[i] = '\0';
	if (nym_domkind(domain) != NYM_DOM_I2P || domain[strspn(domain,
	    "abcdefghijklmnopqrstuvwxyz0123456789.-")] != '\0')
		nym_die(NYM_EX_USAGE, "unable to use domain %s: expected an "
		    ".i2p name such as alice.i2p", arg);

	/* Where everything goes: the places the programs look by default. */
	if (nym_confdir(confdir, sizeof confdir) == -1)
		nym_die(NYM_EX_CONFIG, "unable to find ~/.config/nymbox: set "
		    "HOME");
	join(keydir, sizeof keydir, confdir, "keys");
	if ((size_t)snprintf(keypath, sizeof keypath, "%s/%s.key", keydir,
	    domain) >= sizeof keypath)
		nym_die(NYM_EX_USAGE, "unable to use %s: path too long", domain);
	join(privpath, sizeof privpath, confdir, "inbox.key");
	join(pubpath, sizeof pubpath, confdir, "inbox.pub");
	join(users, sizeof users, confdir, "users");
	if ((env = getenv("NYMBOX_CONF")) != NULL && *env != '\0')
		snprintf(conf, sizeof conf, "%s", env);
	else
		join(conf, sizeof conf, confdir, "config");
	if (maildir == NULL) {
		join(mdbuf, sizeof mdbuf, confdir, "inbox");
		maildir = mdbuf;
	} else if (maildir[0] != '/')
		nym_die(NYM_EX_USAGE, "unable to use maildir %s: give an "
		    "absolute path", maildir);
	shquote(maildir, quoted, sizeof quoted);

	/* Ask before writing anything. */
	haspriv = exists(privpath);
	haspub = exists(pubpath);
	if (haspriv != haspub)
		nym_die(NYM_EX_CONFIG, "unable to create the inbox keys: %s "
		    "exists but %s does not; move it away first",
		    haspriv ? privpath : pubpath, haspriv ? pubpath : privpath);
	if (!haspriv) {
		if (nym_crypto_init() == -1)
			nym_die(NYM_EX_SOFTWARE, "unable to initialise "
			    "libsodium");
		password(passfile, passfd);
	} else if (passfile != NULL || passfd != NULL)
		nym_warn("the inbox keys exist: the password is not used");

	if (nym_mkdirs(keydir, 0700) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to create directory %s",
		    keydir);
	sendkey(keypath, b32);
	if (!haspriv)
		inboxkeys(pubpath, privpath);
	else {
		say(0, privpath, "the inbox's private key");
		say(0, pubpath, "the inbox's public key");
	}
	n = snprintf(text, sizeof text, "# Local users of %s for "
	    "smtp-receive; see smtp-receive(1).\n%s\n", domain, user);
	say(create(users, text, (size_t)n, 0600, 0700), users, "the local users");

	n = snprintf(text, sizeof text,
	    "# nymbox configuration for %s@%s, written by nymbox-init.\n"
	    "# Every key is described in nymbox.conf(5); options on a "
	    "command line win.\n"
	    "\n"
	    "# Sending (nymbox-sendmail, sam-deliver).\n"
	    "sender = %s@%s\n"
	    "\n"
	    "# Receiving: sam-accept holds the domain's key and runs "
	    "smtp-receive\n"
	    "# for each stream, which seals each message to the inbox key.\n"
	    "server-key = %s\n"
	    "local-domains = %s %s\n"
	    "smtp-users = %s\n"
	    "smtp-command = mbox-encrypt -d '%s'\n"
	    "inbox-public-key = %s\n"
	    "\n"
	    "# Reading: pop-serve unlocks the inbox with the password.\n"
	    "pop-maildir = %s\n"
	    "pop-user = %s\n"
	    "inbox-private-key = %s\n"
	    "\n"
	    "# This identity's own settings (sections come last): delivery\n"
	    "# by the recipients' network, sam-deliver or onion-deliver.\n"
	    "[%s@%s]\n"
	    "delivery = auto\n",
	    user, domain, user, domain, keypath, domain, b32, users, quoted,
	    pubpath, maildir, user, privpath, user, domain);
	if (n < 0 || (size_t)n >= sizeof text)
		nym_die(NYM_EX_USAGE, "unable to write the configuration: "
		    "paths too long");
	made = create(conf, text, (size_t)n, 0600, 0700);
	say(made, conf, made ? "the configuration" : "the configuration; "
	    "compare it with nymbox.conf(5)");

	n = snprintf(wk, sizeof wk, "%s %ld\n", b32, port);
	if (wkfile != NULL) {
		made = create(wkfile, wk, (size_t)n, 0644, 0755);
		if (!made && ((n = (int)nym_read_small(wkfile, text,
		    sizeof text, 0)) == -1 || (size_t)n != strlen(wk) ||
		    memcmp(text, wk, (size_t)n) != 0))
			nym_warn("%s exists and does not hold this address; "
			    "put the line below in it", wkfile);
		say(made, wkfile, "the line to publish");
	}
	printf("address %s@%s\n", user, domain);
	printf("b32 %s\n", b32);
	printf("publish at http://%s/.well-known/i2pmail.key exactly:\n%s",
	    domain, wk);
	if (fflush(stdout) == EOF || ferror(stdout))
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write the results");
	return NYM_EX_OK;
}
