/*
 * samclient.c - reach the user's own mail servers over SAM from a client
 * key: pop-fetch -s (postman's POP3) and smtp-submit -s (its SMTP).
 *
 * A fresh TRANSIENT session per run cost 20 s of SESSION CREATE each
 * time and, created and closed in quick succession, crashes i2pd 2.45.1.
 * So these programs use one persistent key and the key's one shared
 * session (samshare.c), as sam-deliver does.  The key is not the mail
 * domain's: postman would then see which eep2eep domain an account
 * belongs to.  It is a key of its own, by default one per login name
 * (client/LOGIN.key), so pop-fetch and smtp-submit of one account share
 * a session, and two accounts never share a destination postman could
 * link them by.  Postman already knows that the POP3 and SMTP logins of
 * "alice" are one account; the key tells it no more than that.  It is
 * made here, without a router (destgen.c), on first use.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "i2p.h"

int
nym_client_keypath(const char *login, char *buf, size_t cap)
{
	static const char keep[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@+_-.";
	char dir[PATH_MAX], name[NAME_MAX + 1];
	size_t n = 0;
	const char *p;

	if (*login == '\0') {
		errno = EINVAL;
		return -1;
	}
	if (nym_confdir(dir, sizeof dir) == -1)
		return -1;
	for (p = login; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (n + 3 + sizeof ".key" > sizeof name) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (strchr(keep, c) != NULL && !(c == '.' && p == login))
			name[n++] = (char)c;
		else
			n += (size_t)snprintf(name + n, sizeof name - n,
			    "%%%02X", c);
	}
	name[n] = '\0';
	if ((size_t)snprintf(buf, cap, "%s/client/%s.key", dir, name) >=
	    cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
nym_client_hold(struct nym_hold *h, const struct nym_samaddr *sa,
    const char *key, const char *login, int ms, char *kbuf, size_t kcap,
    char *why, size_t cap)
{
	int e;

	if (key == NULL) {
		if (nym_client_keypath(login, kbuf, kcap) == -1) {
			snprintf(why, cap, "unable to choose a client key for "
			    "login %.100s: %s", login, errno == ENOENT ?
			    "set HOME, or give the key" : strerror(errno));
			return NYM_EX_CONFIG;
		}
		key = kbuf;
	} else if (strncmp(key, "~/", 2) == 0) {
		/* As a configuration file writes it. */
		const char *home = getenv("HOME");

		if (home == NULL || *home == '\0' || (size_t)snprintf(kbuf,
		    kcap, "%s%s", home, key + 1) >= kcap) {
			snprintf(why, cap, "unable to use client key %.200s: %s",
			    key, home == NULL || *home == '\0' ? "no HOME" :
			    "path too long");
			return NYM_EX_CONFIG;
		}
		key = kbuf;
	}
	if (nym_dest_keyfile(key) == -1) {
		e = errno;
		snprintf(why, cap, "unable to create the client key %s: %s",
		    key, strerror(e));
		return nym_exitcode(e) == NYM_EX_TEMPFAIL ? NYM_EX_TEMPFAIL :
		    NYM_EX_CONFIG;
	}
	if (nym_hold_init(h, key, sa, ms, why, cap) == -1)
		return NYM_EX_CONFIG;
	h->what = "the client key";
	return NYM_EX_OK;
}

int
nym_sam_dial(struct nym_sam *s, const struct nym_hold *h, const char *dest,
    int *fd, char *why, size_t cap)
{
	int r;

	*fd = -1;
	if ((r = nym_sam_acquire(s, h, why, cap)) != NYM_EX_OK)
		return r;
	r = nym_sam_connect(s, dest, fd);
	if (r != NYM_SAM_OK) {
		snprintf(why, cap, "unable to connect to %.60s: %s", dest,
		    r == -1 ? strerror(errno) : nym_sam_resultname(r));
		nym_sam_release(s);
		*fd = -1;
		return NYM_EX_TEMPFAIL;
	}
	return NYM_EX_OK;
}
