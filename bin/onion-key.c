/*
 * onion-key - an onion service's key: make one, name it, sign and check
 * mail with it.
 *
 * The key is Tor's own (a HiddenServiceDir: hs_ed25519_secret_key and
 * friends), so the onion that receives a pseudonym's mail is the key
 * that signs what it sends.  Signatures are DKIM fields with
 * a=ed25519-sha256 and d= the onion (lib/dkim.c); a receiver checks
 * them against the key in the sender's address, with no lookup.
 *
 *   onion-key -c DIR      make DIR (0700, files 0600), print its address
 *   onion-key DIR         print the address of DIR (Tor's works too)
 *   onion-key -s DIR      sign the message on stdin: the DKIM-Signature
 *                         field, then the message, on stdout
 *   onion-key -v ONION    check the message on stdin: exit 0 if an
 *                         ONION signature verifies, 77 with the reason
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base.h"
#include "tls.h"
#include "tor.h"

#define USAGE "usage: onion-key [-c | -s] dir\n" \
	"       onion-key -p cert dir\n" \
	"       onion-key -v onion\n"

static void
keydie(const char *dir, const char *why)
{
	nym_die(nym_exitas(errno == ENOENT || errno == EPERM ||
	    errno == EINVAL || errno == ENAMETOOLONG ? NYM_EX_CONFIG :
	    nym_exitcode(errno)), "unable to read onion key %s: %s", dir,
	    why);
}

/* A descriptor of the message on stdin that can be read twice: stdin
 * itself if it is a regular file, else a spool of it (unlinked). */
static int
spool(void)
{
	char buf[NYM_DKIM_BUF];
	const char *tmp;
	struct stat st;
	ssize_t r;
	int fd;

	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(0, 0, SEEK_CUR) != -1)
		return 0;
	if ((fd = nym_tmpfile(&tmp)) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to create a spool file "
		    "in %s", tmp);
	while ((r = read(0, buf, sizeof buf)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			nym_dieerr(nym_exitcode(errno),
			    "unable to read the message");
		}
		if (nym_write_all(fd, buf, (size_t)r) == -1)
			nym_dieerr(nym_exitcode(errno), "unable to spool the "
			    "message in %s", tmp);
	}
	if (lseek(fd, 0, SEEK_SET) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to rewind the spool");
	return fd;
}

/* The message's line end, as its first line has it. */
static const char *
eolof(int fd)
{
	char buf[4096];
	off_t off = lseek(fd, 0, SEEK_CUR);
	ssize_t n = off == -1 ? -1 : pread(fd, buf, sizeof buf, off);
	char *lf = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;

	return lf != NULL && lf > buf && lf[-1] == '\r' ? "\r\n" : "\n";
}

static int
sign(const char *dir)
{
	struct nym_onion_key k;
	char why[NYM_ONION_WHY], *field, buf[NYM_DKIM_BUF];
	ssize_t r;
	int fd;

	if (nym_onion_key_load(dir, &k, why) == -1)
		keydie(dir, why);
	fd = spool();
	if (nym_dkim_sign_fd(fd, &k, eolof(fd), &field) == -1) {
		nym_onion_key_wipe(&k);
		if (errno == EMSGSIZE)
			nym_die(NYM_EX_DATAERR, "unable to sign the message: "
			    "header section over a limit (%d bytes, %d "
			    "fields, %d signed fields)", NYM_DKIM_HDR_MAX,
			    NYM_FIELDS_MAX, NYM_DKIM_HNAMES_MAX);
		if (errno == EINVAL)
			nym_die(NYM_EX_DATAERR, "unable to sign the message: "
			    "it begins with white space (no header field)");
		nym_dieerr(nym_exitcode(errno), "unable to sign the message");
	}
	nym_onion_key_wipe(&k);
	if (nym_write_all(1, field, strlen(field)) == -1)
		nym_dieerr(nym_exitcode(errno), "unable to write the message");
	free(field);
	while ((r = read(fd, buf, sizeof buf)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			nym_dieerr(nym_exitcode(errno),
			    "unable to read the message");
		}
		if (nym_write_all(1, buf, (size_t)r) == -1)
			nym_dieerr(nym_exitcode(errno),
			    "unable to write the message");
	}
	return NYM_EX_OK;
}

static int
verify(const char *onion)
{
	struct nym_onion o;
	char why[NYM_DKIM_WHY];
	const char *bad;

	if (nym_onion_parse(onion, &o, &bad) == -1)
		nym_die(NYM_EX_USAGE, "unable to use %s: %s", onion, bad);
	switch (nym_dkim_verify_fd(0, onion, why)) {
	case NYM_DKIM_PASS:
		return NYM_EX_OK;
	case NYM_DKIM_TOOBIG:
		nym_die(NYM_EX_DATAERR, "unable to verify the message from "
		    "%s: %s", o.name, why);
	case NYM_DKIM_ERROR:
		nym_die(nym_exitcode(errno), "unable to verify the message "
		    "from %s: %s", o.name, why);
	default:
		nym_die(NYM_EX_NOPERM, "unable to verify the message from "
		    "%s: %s", o.name, why);
	}
}

int
main(int argc, char *argv[])
{
	struct nym_onion_key k;
	char why[NYM_ONION_WHY], name[NYM_ONION_NAME];
	char pin[NYM_TLS_PINLEN + 1], pwhy[300];
	const char *cert = NULL;
	int c, mode = 0;

	nym_start(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "cp:sv")) != -1) {
		switch (c) {
		case 'p':
			cert = optarg;
			/* FALLTHROUGH */
		case 'c':
		case 's':
		case 'v':
			if (mode != 0 && mode != c)
				nym_usage();
			mode = c;
			break;
		default:
			nym_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		nym_usage();
	if (nym_crypto_init() == -1)
		nym_die(NYM_EX_SOFTWARE, "unable to initialise libsodium");
	switch (mode) {
	case 's':
		return sign(argv[0]);
	case 'v':
		return verify(argv[0]);
	case 'c':
		if (nym_onion_key_create(argv[0], &k) == -1)
			nym_dieerr(errno == EEXIST ? NYM_EX_CONFIG :
			    nym_exitcode(errno), "unable to create onion key "
			    "%s", argv[0]);
		break;
	default:
		if (nym_onion_key_load(argv[0], &k, why) == -1)
			keydie(argv[0], why);
		break;
	}
	memcpy(name, k.name, sizeof name);
	nym_onion_key_wipe(&k);
	/* -p: the domain of addresses that make senders require TLS with
	 * this certificate (SMTorP), its pin before the onion name. */
	if (cert != NULL && nym_tls_pin_file(cert, pin, pwhy,
	    sizeof pwhy) == -1)
		nym_die(NYM_EX_CONFIG, "%s", pwhy);
	if (printf("%s%s%s\n", cert != NULL ? pin : "", cert != NULL ?
	    "." : "", name) < 0 || fflush(stdout) == EOF)
		nym_dieerr(nym_exitcode(errno), "unable to write the address");
	return NYM_EX_OK;
}
