/*
 * destgen.c - make an I2P destination and its private keys here, without
 * a router.
 *
 * A first-run set-up must print the address it creates before any router
 * runs, so the key SAM's "DEST GENERATE SIGNATURE_TYPE=7" would hand out
 * is made locally, in the same form (I2P common structures):
 *
 *	destination	256 ElGamal public key, 128 signing key field (96
 *			random padding bytes, then the 32-byte Ed25519 public
 *			key, right-aligned), KEY certificate: type 5, length
 *			4, signing type 7, crypto type 0 (391 bytes)
 *	private blob	the destination, the 256-byte ElGamal private key,
 *			the 32-byte Ed25519 private key (its seed), as
 *			i2pd's PrivateKeys::FromBuffer reads it (679 bytes)
 *
 * Both travel in I2P base64.  The ElGamal pair is a real one, y = 2^x mod
 * p in the 2048-bit MODP group of RFC 3526 (group 14), which is I2P's,
 * so a router that ever used the key for encryption would find it right.
 * The padding is random, as i2pd 2.45.1 makes it.  Every private byte is
 * wiped before return.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gcrypt.h>
#include <sodium.h>

#include "base.h"
#include "msg.h"
#include "seal.h"
#include "i2p.h"

#define ELG_LEN		256
#define SIGFIELD	128
#define ED_PUB		32
#define ED_SEED		32
#define CERT_LEN	7		/* type, length, sig type, crypto type */
#define PUB_LEN		NYM_DEST_GENPUB
#define PRIV_LEN	NYM_DEST_GENPRIV

_Static_assert(PUB_LEN == ELG_LEN + SIGFIELD + CERT_LEN &&
    PRIV_LEN == PUB_LEN + ELG_LEN + ED_SEED, "the blob's layout");

/* RFC 3526, 3: p = 2^2048 - 2^1984 - 1 + 2^64 * ([2^1918 pi] + 124476),
 * generator 2. */
static const char modp2048[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D"
	"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D"
	"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9"
	"DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
	"15728E5A8AACAA68FFFFFFFFFFFFFFFF";

/* A random x in [2, p - 2] into priv and y = 2^x mod p into pub, each
 * 256 bytes big-endian.  0 or -1. */
static int
elgamal(unsigned char pub[ELG_LEN], unsigned char priv[ELG_LEN])
{
	gcry_mpi_t p = NULL, x = NULL, y = NULL, g = NULL, top = NULL;
	size_t n;
	int r = -1, tries;

	if (nym_gcry_ready() == -1 ||
	    gcry_mpi_scan(&p, GCRYMPI_FMT_HEX, modp2048, 0, NULL) != 0)
		goto out;
	if ((g = gcry_mpi_set_ui(NULL, 2)) == NULL ||
	    (top = gcry_mpi_new(2048)) == NULL ||
	    (y = gcry_mpi_new(2048)) == NULL)
		goto out;
	gcry_mpi_sub_ui(top, p, 1);	/* x < p - 1 */
	/* A draw of 2048 bits lands at or over p - 1 with a probability
	 * below 2^-64: try again then. */
	for (tries = 0; tries < 16; tries++) {
		randombytes_buf(priv, ELG_LEN);
		gcry_mpi_release(x);
		x = NULL;
		if (gcry_mpi_scan(&x, GCRYMPI_FMT_USG, priv, ELG_LEN, NULL) !=
		    0)
			goto out;
		if (gcry_mpi_cmp_ui(x, 1) > 0 && gcry_mpi_cmp(x, top) < 0)
			break;
	}
	if (tries == 16)
		goto out;
	gcry_mpi_powm(y, g, x, p);
	/* y < p < 2^2048: at most 256 bytes, right-aligned. */
	if (gcry_mpi_print(GCRYMPI_FMT_USG, pub, ELG_LEN, &n, y) != 0 ||
	    n > ELG_LEN)
		goto out;
	memmove(pub + ELG_LEN - n, pub, n);
	memset(pub, 0, ELG_LEN - n);
	r = 0;
out:
	gcry_mpi_release(p);
	gcry_mpi_release(x);
	gcry_mpi_release(y);
	gcry_mpi_release(g);
	gcry_mpi_release(top);
	if (r == -1) {
		nym_wipe(priv, ELG_LEN);
		errno = ENOSYS;
	}
	return r;
}

int
nym_dest_generate(char **pub, char **priv)
{
	unsigned char b[PRIV_LEN], edpk[ED_PUB], edsk[64];
	size_t cap = 4 * ((PRIV_LEN + 2) / 3) + 1;
	int r = -1;

	*pub = *priv = NULL;
	if (sodium_init() < 0) {
		errno = ENOSYS;
		return -1;
	}
	if ((*pub = malloc(cap)) == NULL || (*priv = malloc(cap)) == NULL)
		goto out;
	if (elgamal(b, b + PUB_LEN) == -1)
		goto out;
	crypto_sign_keypair(edpk, edsk);
	randombytes_buf(b + ELG_LEN, SIGFIELD - ED_PUB);
	memcpy(b + ELG_LEN + SIGFIELD - ED_PUB, edpk, ED_PUB);
	b[ELG_LEN + SIGFIELD] = 5;		/* KEY certificate */
	b[ELG_LEN + SIGFIELD + 1] = 0;
	b[ELG_LEN + SIGFIELD + 2] = 4;
	b[ELG_LEN + SIGFIELD + 3] = 0;		/* Ed25519-SHA512 */
	b[ELG_LEN + SIGFIELD + 4] = 7;
	b[ELG_LEN + SIGFIELD + 5] = 0;		/* ElGamal-2048 */
	b[ELG_LEN + SIGFIELD + 6] = 0;
	/* libsodium's secret key is the seed followed by the public key;
	 * I2P keeps the seed. */
	memcpy(b + PUB_LEN + ELG_LEN, edsk, ED_SEED);
	nym_base64(b, PUB_LEN, *pub, "-~");
	nym_base64(b, PRIV_LEN, *priv, "-~");
	r = 0;
out:
	nym_wipe(b, sizeof b);
	nym_wipe(edsk, sizeof edsk);
	if (r == -1) {
		free(*pub);
		if (*priv != NULL)
			nym_wipe(*priv, cap);
		free(*priv);
		*pub = *priv = NULL;
	}
	return r;
}

int
nym_dest_keyfile(const char *path)
{
	char *pub = NULL, *priv = NULL;
	struct stat st;
	int r;

	if (lstat(path, &st) == 0)
		return 0;		/* nym_sam_key judges it */
	if (errno != ENOENT || nym_dest_generate(&pub, &priv) == -1)
		return -1;
	free(pub);
	/* Published with link(2): of two first uses, one key wins and
	 * both go on with it. */
	r = nym_atomic_create(path, priv, strlen(priv), 0600, 0700,
	    NYM_ATOMIC_NL);
	nym_key_free(priv);
	return r;
}
