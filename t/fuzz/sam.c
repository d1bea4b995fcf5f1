/* SAM replies (lib/sam.c) from a hostile router, through the public
 * entry points over a socketpair: NAMING LOOKUP (with OPTIONS), SESSION
 * CREATE (its STATUS, then the lookup of ME), and the peer line of an
 * accepted stream, buffered and read straight from the socket.  The
 * first byte picks.  Oracles: a destination returned is a valid one;
 * s->message is sanitised; options come as k=v lines. */
#include "fuzz.h"
#include "limits.h"
#include "base.h"
#include "i2p.h"

static void
clean(const char *m)
{
	for (; *m != '\0'; m++)
		FZ_ASSERT((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_sam s;
	char *dest = NULL, *opts = NULL;
	int fd, peer, k, i;

	if (size < 1 || size > 65536)
		return 0;
	memset(&s, 0, sizeof s);
	fd = fz_peer(data + 1, size - 1, &peer);
	s.fd = fd;
	s.ms = 2000;
	if (nym_in_open(&s.in, fd, NYM_SAM_LINE) == -1)
		abort();
	s.in.ms = 2000;
	switch (data[0] & 3) {
	case 0:
		for (i = 0; i < 4; i++) {
			k = nym_sam_lookup(&s, "example.i2p", &dest,
			    (i & 1) ? &opts : NULL);
			clean(s.message);
			if (k != NYM_SAM_OK) {
				FZ_ASSERT(dest == NULL);
				break;
			}
			FZ_ASSERT(nym_dest_valid(dest, strlen(dest)));
			FZ_ASSERT(opts == NULL ||
			    opts[strlen(opts) - 1] == '\n');
			free(dest);
			free(opts);
			dest = opts = NULL;
		}
		break;
	case 1:
		k = nym_sam_session(&s, NULL, (data[0] & 4) ?
		    "inbound.length=1" : NULL, 2000);
		clean(s.message);
		if (k == NYM_SAM_OK) {
			FZ_ASSERT(s.pub != NULL);
			FZ_ASSERT(nym_dest_valid(s.pub, strlen(s.pub)));
		}
		break;
	case 2:
		if (nym_sam_peer(fd, &s.in, 2000, &dest) == 0)
			FZ_ASSERT(nym_dest_valid(dest, strlen(dest)));
		break;
	default:
		if (nym_sam_peer(fd, NULL, 2000, &dest) == 0)
			FZ_ASSERT(nym_dest_valid(dest, strlen(dest)));
		break;
	}
	free(dest);
	nym_sam_close(&s);
	close(peer);
	return 0;
}
