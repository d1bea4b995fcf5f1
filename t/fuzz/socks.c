/* SOCKS5 replies (lib/socks.c) as a hostile proxy sends them.  The
 * handshake is static in socks.c, behind a TCP connect, so this file
 * includes socks.c and talks to handshake() over a socketpair.  The
 * first byte picks an isolation tag or none.  Oracles: a refusal says
 * why (s->reply); a success leaves the stream exactly after the reply,
 * the proxy's next bytes unread.  nym_socks_set (-T, tor-socks) too. */
#include "fuzz.h"
#include "../../lib/socks.c"
#include "base.h"
#include "proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_socks s;
	const char *tag;
	size_t skip, rn;
	char rest[512], *str;
	ssize_t k;
	int fd, peer, r;

	if (size < 1 || size > 4096)
		return 0;
	tag = (data[0] & 1) ? "isolation-tag" : NULL;
	memset(&s, 0, sizeof s);
	fd = fz_peer(data + 1, size - 1, &peer);
	r = handshake(&s, fd, "example.onion", 25, tag, nym_now_ms() + 5000);
	if (r == -1) {
		if (errno == ECONNABORTED)
			FZ_ASSERT(s.reply >= 1 && s.reply <= NYM_SOCKS_AUTHFAIL);
	} else {
		/* Where the reply ends, by the RFC 1928 rules. */
		data++;
		size--;
		skip = 2 + (tag != NULL && data[1] == M_USERPASS ? 2 : 0) + 4;
		FZ_ASSERT(skip <= size);
		switch (data[skip - 1]) {
		case ATYP_IPV4: skip += 4 + 2; break;
		case ATYP_IPV6: skip += 16 + 2; break;
		case ATYP_NAME: skip += 1 + data[skip] + 2; break;
		default: FZ_ASSERT(0);
		}
		FZ_ASSERT(skip <= size);
		rn = 0;
		while ((k = read(fd, rest + rn, sizeof rest - rn)) > 0)
			rn += (size_t)k;
		FZ_ASSERT(rn == (size - skip < sizeof rest ? size - skip :
		    sizeof rest));
		FZ_ASSERT(memcmp(rest, data + skip, rn) == 0);
	}
	close(fd);
	close(peer);

	if (size < 300) {
		str = fz_str(data, size);
		if (nym_socks_set(&s, str) == 0) {
			FZ_ASSERT(s.host != NULL && s.port != NULL);
			FZ_ASSERT(*s.host != '\0' && *s.port != '\0');
		}
		free(str);
	}
	return 0;
}
