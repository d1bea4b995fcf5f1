/* The configuration file (lib/conf.c), loaded through the public
 * nym_conf_load from a memfd named by NYMBOX_CONF.  Oracles: a value
 * found is trimmed and on one line; where a key is, nym_conf_iget with
 * no section agrees with nym_conf_get. */
#include "fuzz.h"
#include "limits.h"
#include "base.h"

static const char *keys[] = { "queue", "tor-socks", "sam", "mode",
	"defer", "user", "a", "" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	const char *where, *v;
	size_t i, n;
	int fd, k;

	if (size > NYM_CONF_MAX + 16)
		return 0;
	fd = fz_memfd(data, size);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	setenv("NYMBOX_CONF", path, 1);
	k = nym_conf_load(&where);
	if (k == -1)
		FZ_ASSERT(errno == EINVAL || errno == EFBIG);
	for (i = 0; i < sizeof keys / sizeof *keys; i++) {
		v = nym_conf_get(keys[i]);
		FZ_ASSERT(v == nym_conf_iget(NULL, keys[i]));
		(void)nym_conf_iget("alice@example.i2p", keys[i]);
		if (v == NULL)
			continue;
		FZ_ASSERT(k == 0);
		n = strlen(v);
		FZ_ASSERT(strchr(v, '\n') == NULL);
		FZ_ASSERT(n == 0 || (v[0] != ' ' && v[0] != '\t' &&
		    v[n - 1] != ' ' && v[n - 1] != '\t' && v[n - 1] != '\r'));
	}
	close(fd);
	return 0;
}
