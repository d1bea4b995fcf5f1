/* Addresses (lib/addr.c): nym_addr_parse and nym_domkind.  Oracles:
 * every entry has a local part; a domain is lower-cased and its kind
 * is what nym_domkind says of it. */
#include "fuzz.h"
#include "msg.h"
#include <ctype.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_addrlist l;
	const char *d;
	size_t i;

	memset(&l, 0, sizeof l);
	if (nym_addr_parse((const char *)data, size, &l) == 0) {
		for (i = 0; i < l.n; i++) {
			FZ_ASSERT(l.a[i].local != NULL);
			if ((d = l.a[i].domain) == NULL)
				continue;
			for (; *d != '\0'; d++)
				FZ_ASSERT(!isupper((unsigned char)*d));
			FZ_ASSERT(l.a[i].kind == nym_domkind(l.a[i].domain));
		}
		nym_addrlist_free(&l);
	} else
		FZ_ASSERT(errno == EINVAL || errno == ENOMEM);
	if (size < 1024) {
		char *s = fz_str(data, size);

		(void)nym_domkind(s);
		free(s);
	}
	return 0;
}
