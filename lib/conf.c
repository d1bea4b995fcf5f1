/*
 * conf.c - "key = value" defaults for every program.
 *
 * Options on the command line win; this file only supplies defaults.  The
 * first file found of $NYMBOX_CONF, ~/.config/nymbox/config and
 * /etc/nymbox/config is read whole (at most NYM_CONF_MAX bytes); lines are
 * "key = value", '#' starts a comment line, blank lines are ignored.  A
 * line "[name]" starts a section: the keys after it belong to that name
 * (a sender identity) and are seen only through nym_conf_iget, so that
 * each identity can have settings of its own without the others, or
 * programs that know nothing of identities, ever seeing them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"

static char confbuf[NYM_CONF_MAX + 1];
static char *keys[512], *vals[512];
static const char *secs[512];		/* section of each key, NULL: none */
static size_t nkeys;
static char where[PATH_MAX + 32];
static char name[PATH_MAX * 2 + 64];	/* nym_conf_name */

int
nym_confdir(char *buf, size_t cap)
{
	const char *home = getenv("HOME");
	int n;

	if (home == NULL || *home == '\0') {
		errno = ENOENT;
		return -1;
	}
	n = snprintf(buf, cap, "%s/.config/nymbox", home);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static char *
trim(char *s, char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

static int
parse(const char *path, size_t n)
{
	char *s = confbuf, *end = confbuf + n, *nl, *eq, *sec = NULL;
	unsigned lineno = 0;

	nkeys = 0;
	for (; s < end; s = nl + 1) {
		lineno++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		*nl = '\0';
		if (memchr(s, '\0', (size_t)(nl - s)) != NULL)
			goto bad;
		s = trim(s, nl);
		if (*s == '\0' || *s == '#')
			continue;
		if (*s == '[') {
			if ((eq = strchr(s, ']')) == NULL || eq[1] != '\0')
				goto bad;
			sec = trim(s + 1, eq);
			if (*sec == '\0')
				goto bad;
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL || nkeys == 512)
			goto bad;
		keys[nkeys] = trim(s, eq);
		vals[nkeys] = trim(eq + 1, nl);
		secs[nkeys] = sec;
		if (*keys[nkeys] == '\0')
			goto bad;
		nkeys++;
	}
	return 0;
bad:
	snprintf(where, sizeof where, "%s:%u", path, lineno);
	nkeys = 0;
	errno = EINVAL;
	return -1;
}

int
nym_conf_load(const char **wherep)
{
	char path[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("NYMBOX_CONF");
	ssize_t n;
	int fd;

	*wherep = where;
	nkeys = 0;
	if (env != NULL && *env != '\0') {
		snprintf(path, sizeof path, "%s", env);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		fd = -1;
		if (nym_confdir(dir, sizeof dir) == 0 &&
		    (size_t)snprintf(path, sizeof path, "%s/config", dir) <
		    sizeof path)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1 && (errno == ENOENT || errno == ENOTDIR)) {
			snprintf(path, sizeof path, "/etc/nymbox/config");
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	snprintf(where, sizeof where, "%s", path);
	snprintf(name, sizeof name, "%s", path);
	if (fd == -1) {
		if (errno != ENOENT || (env != NULL && *env != '\0'))
			return -1;
		if (nym_confdir(dir, sizeof dir) == 0)
			snprintf(name, sizeof name, "a configuration file "
			    "(none of %s/config, /etc/nymbox/config exists; "
			    "or set NYMBOX_CONF)", dir);
		else
			snprintf(name, sizeof name, "a configuration file "
			    "(no HOME, no /etc/nymbox/config; or set "
			    "NYMBOX_CONF)");
		return 0;
	}
	n = nym_read_all(fd, confbuf, sizeof confbuf);
	close(fd);
	if (n < 0)
		return -1;
	if ((size_t)n > NYM_CONF_MAX) {
		errno = EFBIG;
		return -1;
	}
	return parse(path, (size_t)n);
}

const char *
nym_conf_name(void)
{
	return name[0] != '\0' ? name : "the configuration file";
}

const char *
nym_conf_get(const char *key)
{
	size_t i;

	for (i = nkeys; i > 0; i--)
		if (secs[i - 1] == NULL && strcmp(keys[i - 1], key) == 0)
			return vals[i - 1];
	return NULL;
}

const char *
nym_conf_iget(const char *id, const char *key)
{
	size_t i;

	if (id != NULL)
		for (i = nkeys; i > 0; i--)
			if (secs[i - 1] != NULL &&
			    strcasecmp(secs[i - 1], id) == 0 &&
			    strcmp(keys[i - 1], key) == 0)
				return vals[i - 1];
	return nym_conf_get(key);
}
