/*
 * onion.c - v3 onion addresses.
 *
 * A v3 address is its service's Ed25519 public key, so a sender can
 * check an address before it asks Tor for it: the 56 base32 characters
 * decode to the key (32 bytes), a checksum (2) and the version (1), and
 * the checksum is the first two bytes of SHA3-256(".onion checksum" |
 * key | version) (Tor's rend-spec-v3).  A typing error in a recipient is
 * then a permanent failure found at once, not a descriptor lookup that
 * times out as if the service were down.
 */
#include <string.h>

#include <gcrypt.h>

#include "base.h"
#include "msg.h"
#include "seal.h"
#include "tor.h"

#define VERSION	3

static int
checksum(const unsigned char pk[32], unsigned char ver, unsigned char out[2])
{
	static const char tag[] = ".onion checksum";
	unsigned char in[sizeof tag - 1 + 32 + 1], h[32];

	if (nym_gcry_ready() == -1)
		return -1;
	memcpy(in, tag, sizeof tag - 1);
	memcpy(in + sizeof tag - 1, pk, 32);
	in[sizeof in - 1] = ver;
	gcry_md_hash_buffer(GCRY_MD_SHA3_256, h, in, sizeof in);
	memcpy(out, h, 2);
	return 0;
}

int
nym_onion_parse(const char *domain, struct nym_onion *o, const char **why)
{
	unsigned char raw[35], sum[2];
	const char *d, *dot;
	size_t n, i;

	memset(o, 0, sizeof *o);
	*why = "not a v3 onion address (56 base32 characters, then .onion)";
	if (nym_domkind(domain) != NYM_DOM_ONION)
		return -1;
	n = strlen(domain);
	if (domain[n - 1] == '.')
		n--;
	n -= sizeof ".onion" - 1;
	d = domain + n - NYM_ONION_CHARS;	/* nym_domkind: 56 of them */
	if (d > domain) {
		dot = d - 1;
		for (i = 0; domain + i < dot; i++)
			o->label[i] = (char)(domain[i] >= 'A' &&
			    domain[i] <= 'Z' ? domain[i] - 'A' + 'a' :
			    domain[i]);
	}
	for (i = 0; i < NYM_ONION_CHARS; i++)
		o->name[i] = (char)(d[i] >= 'A' && d[i] <= 'Z' ?
		    d[i] - 'A' + 'a' : d[i]);
	memcpy(o->name + NYM_ONION_CHARS, ".onion", sizeof ".onion");
	if (nym_unbase32(o->name, NYM_ONION_CHARS, raw, sizeof raw) !=
	    (ssize_t)sizeof raw)
		goto bad;
	if (raw[34] != VERSION) {
		*why = "not a v3 onion address (its version byte is not 3)";
		goto bad;
	}
	if (checksum(raw, raw[34], sum) == -1) {
		*why = "unable to check the onion address: libgcrypt has no "
		    "SHA3-256";
		goto bad;
	}
	if (memcmp(sum, raw + 32, 2) != 0) {
		*why = "onion address with a bad checksum (mistyped?)";
		goto bad;
	}
	if (nym_ed25519_valid(raw) == -1) {
		*why = "onion address whose key is no valid Ed25519 key";
		goto bad;
	}
	memcpy(o->pk, raw, 32);
	*why = NULL;
	return 0;
bad:
	memset(o, 0, sizeof *o);
	return -1;
}

int
nym_onion_name(const unsigned char pk[32], char out[NYM_ONION_NAME])
{
	unsigned char raw[35];

	memcpy(raw, pk, 32);
	raw[34] = VERSION;
	if (checksum(pk, VERSION, raw + 32) == -1)
		return -1;
	nym_base32(raw, sizeof raw, out);
	memcpy(out + NYM_ONION_CHARS, ".onion", sizeof ".onion");
	return 0;
}
