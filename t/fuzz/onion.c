/* Onion addresses (lib/onion.c) and base32 (lib/enc.c).  Oracles: an
 * address taken names its own key (the name computed from the decoded
 * key is the name read), comes with no reason, and its label and name
 * are lower case; one refused comes with a reason and leaves nothing. */
#include "fuzz.h"
#include "msg.h"
#include "tor.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nym_onion zero;
	struct nym_onion o;
	unsigned char raw[64];
	char dom[300], name[NYM_ONION_NAME];
	const char *why;
	size_t i;

	(void)nym_unbase32((const char *)data, size, raw, sizeof raw);
	if (size >= sizeof dom)
		return 0;
	memcpy(dom, data, size);
	dom[size] = '\0';
	if (nym_onion_parse(dom, &o, &why) == -1) {
		FZ_ASSERT(why != NULL);
		FZ_ASSERT(memcmp(&o, &zero, sizeof o) == 0);
		return 0;
	}
	FZ_ASSERT(why == NULL);
	FZ_ASSERT(nym_onion_name(o.pk, name) == 0);
	FZ_ASSERT(strcmp(name, o.name) == 0);
	for (i = 0; o.label[i] != '\0'; i++)
		FZ_ASSERT(!(o.label[i] >= 'A' && o.label[i] <= 'Z'));
	return 0;
}
