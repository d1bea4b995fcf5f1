/*
 * i2p.c - I2P destinations and their b32 addresses.
 *
 * A destination is 256 bytes of encryption key space, 128 of signing key
 * space and a certificate: a type byte and a big-endian 16-bit length,
 * then that many bytes (a key certificate names the real key types).  A
 * private key blob, as SAM hands it out, starts with the destination, so
 * its public part is found the same way.  The b32 address is the SHA-256
 * of the public bytes in lower-case RFC 4648 base32 with ".b32.i2p".
 *
 * Destinations travel in I2P's base64 ("-~" for "+/").  The decoder here
 * is strict, so a corrupted or truncated key is an error rather than a
 * different address: only that alphabet, padding only at the end, and the
 * length must be what the certificate says.  Private key bytes are wiped
 * from the stack after use.
 */
#include <errno.h>
#include <string.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "i2p.h"

#define KEYS_LEN	384	/* encryption + signing key space */
#define CERT_HDR	3	/* certificate type and length */
#define I2P_ALPHA	"-~"

ssize_t
nym_dest_len(const unsigned char *b, size_t n)
{
	size_t len;

	if (n < KEYS_LEN + CERT_HDR) {
		errno = EINVAL;
		return -1;
	}
	len = KEYS_LEN + CERT_HDR +
	    ((size_t)b[KEYS_LEN + 1] << 8 | b[KEYS_LEN + 2]);
	if (len > n) {
		errno = EINVAL;
		return -1;
	}
	return (ssize_t)len;
}

static int
b64char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '~';
}

/* Decode I2P base64 strictly into b (NYM_DEST_MAX bytes).  Returns the
 * number of bytes, or -1 EINVAL. */
static ssize_t
decode(const char *s, size_t n, unsigned char *b)
{
	size_t i, digits, pad;

	for (digits = n; digits > 0 && n - digits < 2 && s[digits - 1] == '=';
	    digits--)
		;
	pad = n - digits;
	for (i = 0; i < digits; i++)
		if (!b64char((unsigned char)s[i]))
			goto bad;
	if (digits % 4 == 1 || (pad > 0 && n % 4 != 0) ||
	    digits / 4 * 3 + (digits % 4 != 0 ? digits % 4 - 1 : 0) >
	    NYM_DEST_MAX)
		goto bad;
	return nym_unbase64(s, digits, b, NYM_DEST_MAX, I2P_ALPHA);
bad:
	errno = EINVAL;
	return -1;
}

int
nym_dest_b32(const char *b64, size_t n, char *out)
{
	unsigned char b[NYM_DEST_MAX], h[32];
	ssize_t len, dl;
	int r = -1;

	if ((len = decode(b64, n, b)) == -1)
		return -1;
	if ((dl = nym_dest_len(b, (size_t)len)) != -1) {
		nym_sha256(b, (size_t)dl, h);
		nym_base32(h, sizeof h, out);
		memcpy(out + NYM_B32LEN, ".b32.i2p", 9);
		r = 0;
	}
	nym_wipe(b, (size_t)len);
	return r;
}

int
nym_dest_valid(const char *s, size_t n)
{
	unsigned char b[NYM_DEST_MAX];
	ssize_t len, dl;
	int ok;

	if ((len = decode(s, n, b)) == -1)
		return 0;
	dl = nym_dest_len(b, (size_t)len);
	ok = dl != -1 && dl == len;
	nym_wipe(b, (size_t)len);
	return ok;
}
