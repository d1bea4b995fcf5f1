/*
 * samkey.c - the persistent private keys behind mail destinations.
 *
 * A sender's destination is its identity on I2P: it must survive
 * restarts (receivers verify it against the sender's published key) and
 * must never be shared between identities.  One file per identity, mode
 * 0600 in a 0700 directory, created once with DEST GENERATE and
 * published with link(2), so a race between two first uses ends with
 * both using the key that won.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "limits.h"
#include "base.h"
#include "i2p.h"

static int
readkey(const char *path, char **priv)
{
	char buf[NYM_DEST_MAX * 2];
	struct stat st;
	ssize_t n;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		e = errno != 0 ? errno : EINVAL;
		close(fd);
		errno = e;
		return -1;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	n = nym_read_all(fd, buf, sizeof buf);
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	/* A private key is a destination followed by key material. */
	if (n == 0 || (size_t)n >= sizeof buf ||
	    nym_dest_b32(buf, (size_t)n, (char[NYM_B32LEN + 9]){ 0 }) == -1) {
		nym_wipe(buf, sizeof buf);
		errno = EINVAL;
		return -1;
	}
	if ((*priv = malloc((size_t)n + 1)) == NULL) {
		nym_wipe(buf, sizeof buf);
		return -1;
	}
	memcpy(*priv, buf, (size_t)n);
	(*priv)[n] = '\0';
	nym_wipe(buf, sizeof buf);
	return 0;
}

int
nym_sam_key(const char *path, const char *host, const char *port, int ms,
    char **priv)
{
	char *pub = NULL, *gen = NULL;
	int r;

	*priv = NULL;
	if (readkey(path, priv) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (nym_sam_generate(host, port, ms, &pub, &gen) == -1)
		return -1;
	free(pub);
	r = nym_atomic_create(path, gen, strlen(gen), 0600, 0700,
	    NYM_ATOMIC_NL);
	nym_key_free(gen);
	if (r == -1)
		return -1;
	return readkey(path, priv);
}

void
nym_key_free(char *priv)
{
	if (priv == NULL)
		return;
	nym_wipe(priv, strlen(priv));
	free(priv);
}

void
nym_samaddr_init(struct nym_samaddr *a)
{
	const char *v;

	memset(a, 0, sizeof *a);
	a->host = (v = getenv("SAM_HOST")) != NULL && *v != '\0' ? v :
	    (v = nym_conf_get("sam-host")) != NULL ? v : "127.0.0.1";
	a->port = (v = getenv("SAM_PORT")) != NULL && *v != '\0' ? v :
	    (v = nym_conf_get("sam-port")) != NULL ? v : "7656";
	a->opts = (v = getenv("SAM_OPTS")) != NULL ? v :
	    nym_conf_get("sam-options");
}

int
nym_samaddr_set(struct nym_samaddr *a, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	long port;

	if (colon == NULL || colon == hostport ||
	    (size_t)(colon - hostport) >= sizeof a->buf ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    nym_tolong(colon + 1, 1, 65535, &port) == -1) {
		errno = EINVAL;
		return -1;
	}
	memcpy(a->buf, hostport, (size_t)(colon - hostport));
	a->buf[colon - hostport] = '\0';
	a->host = a->buf;
	a->port = colon + 1;
	return 0;
}

void
nym_samaddr_opt(struct nym_samaddr *a, const char *arg)
{
	if (nym_samaddr_set(a, arg) == -1)
		nym_die(NYM_EX_USAGE, "unable to use -S %s: expected host:port",
		    arg);
}
