/*
 * demand.c - libnymbox: the stamp demands of recipients' domains, as
 * their servers publish them (the EHLO keyword X-STAMP), kept one file a
 * domain in ~/.config/nymbox/demands/ so that pow-stamp -M mints at the
 * level a recipient asks for before the message is queued.
 *
 * The text is only checked for form here (length, characters): the
 * deliverers that learn it do not link the stamp code, and pow-stamp
 * parses it in full (nym_pow_demand_parse) before it mints at it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"

/* A domain usable as a file name: 1..253 bytes of a-z, 0-9, '.', '-',
 * '_', not starting with a dot; lowercased into out. */
static int
domainname(const char *d, char *out, size_t cap)
{
	size_t i, n = strlen(d);

	while (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > NYM_DEMAND_DOMAIN_MAX || n >= cap || d[0] == '.')
		return -1;
	for (i = 0; i < n; i++) {
		char c = d[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_'))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

/* A demand's form: 1..NYM_POW_DEMAND_MAX bytes of the characters a
 * demand is written in (pow-stamp(1), DEMAND). */
static int
demandform(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NYM_POW_DEMAND_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789:,.>@+- ", s[i]) == NULL || s[i] == '\0')
			return -1;
	return 0;
}

static int
demanddir(char *dir, size_t cap)
{
	char c[NYM_MD_PATH];

	if (nym_confdir(c, sizeof c) == -1)
		return -1;
	if ((size_t)snprintf(dir, cap, "%s/demands", c) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
nym_demand_save(const char *domain, const char *text, size_t n)
{
	char dir[NYM_MD_PATH], name[NYM_DEMAND_DOMAIN_MAX + 1];
	char old[NYM_POW_DEMAND_MAX + 1];

	if (domainname(domain, name, sizeof name) == -1 ||
	    demandform(text, n) == -1) {
		errno = EINVAL;
		return -1;
	}
	/* Unchanged: no write, so a busy deliverer costs one read. */
	if (nym_demand_load(domain, old, sizeof old) == 1 &&
	    strlen(old) == n && memcmp(old, text, n) == 0)
		return 0;
	if (demanddir(dir, sizeof dir) == -1 || nym_mkdirs(dir, 0700) == -1)
		return -1;
	return nym_atomic_write(dir, name, text, n, 0600, NYM_ATOMIC_NL);
}

int
nym_demand_load(const char *domain, char *buf, size_t cap)
{
	char dir[NYM_MD_PATH], name[NYM_DEMAND_DOMAIN_MAX + 1];
	char path[NYM_MD_PATH + NYM_DEMAND_DOMAIN_MAX + 2];
	char tmp[NYM_POW_DEMAND_MAX + 2];
	ssize_t r;
	size_t n;
	int fd;

	if (domainname(domain, name, sizeof name) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (demanddir(dir, sizeof dir) == -1)
		return -1;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	r = nym_read_all(fd, tmp, sizeof tmp);
	close(fd);
	if (r < 0)
		return -1;
	n = (size_t)r;
	if (n < sizeof tmp && n > 0 && tmp[n - 1] == '\n')
		n--;
	if (demandform(tmp, n) == -1 || n >= cap) {
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return 1;
}
