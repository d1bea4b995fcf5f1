/* The sealed format (lib/seal.c, read as pop-serve reads a maildir file
 * with nym_popd_unseal).  The first byte picks: 0 mod 4, a hostile file
 * whole; 1, hostile chunks after a genuine header; 2, a genuine record
 * (two chunks) with one byte flipped, cut short or followed by more
 * bytes, which must be refused; 3, the public key file parser.  Every
 * record is sealed to a key pair made at start-up; what verifies must be
 * the plaintext that was sealed. */
#include "fuzz.h"
#include "base.h"
#include "seal.h"
#include "proto.h"

static unsigned char pk[NYM_SEAL_PKLEN], sk[NYM_SEAL_SKLEN];
static unsigned char rec[NYM_SEAL_HDRLEN + 2 * NYM_SEAL_OVER + 64];
static size_t reclen;
static const char msg[] = "Subject: sealed\n\nfirst chunk|and the second\n";
#define CUT 18

struct got {
	unsigned char buf[256];
	size_t n;
	int over;
};

static int
sink(void *arg, const unsigned char *p, size_t n)
{
	struct got *g = arg;

	if (n > sizeof g->buf - g->n) {
		g->over = 1;
		return 0;
	}
	memcpy(g->buf + g->n, p, n);
	g->n += n;
	return 0;
}

/* nym_popd_unseal on p[0, n): its result, the plaintext in *g. */
static int
unseal(const unsigned char *p, size_t n, struct got *g)
{
	static unsigned char plain[NYM_SEAL_CHUNK];
	struct nym_seal s;
	struct nym_in in;
	int fd = fz_memfd(p, n), k;

	if (nym_in_open(&in, fd, NYM_SEAL_CHUNK + NYM_SEAL_OVER) == -1)
		abort();
	memset(g, 0, sizeof *g);
	k = nym_popd_unseal(&in, &s, pk, sk, plain, sink, g);
	nym_in_close(&in);
	close(fd);
	return k;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nym_seal s;
	struct got g;

	(void)argc;
	(void)argv;
	if (nym_crypto_init() == -1 || nym_seal_keypair(pk, sk) == -1 ||
	    nym_seal_begin(&s, pk, rec) == -1)
		abort();
	reclen = NYM_SEAL_HDRLEN;
	reclen += nym_seal_put(&s, msg, CUT, 0, rec + reclen);
	reclen += nym_seal_put(&s, msg + CUT, sizeof msg - 1 - CUT, 1,
	    rec + reclen);
	nym_seal_wipe(&s);
	FZ_ASSERT(unseal(rec, reclen, &g) == 0 && !g.over);
	FZ_ASSERT(g.n == sizeof msg - 1 && memcmp(g.buf, msg, g.n) == 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char buf[sizeof rec + 64], key[NYM_SEAL_PKLEN], *p;
	struct got g;
	size_t pos, n;
	int k;

	if (size < 1 || size > 300000)
		return 0;
	switch (data[0] & 3) {
	case 0:
		(void)nym_seal_parse(data + 1, size - 1);
		k = unseal(data + 1, size - 1, &g);
		/* Nothing but our own sealing verifies. */
		FZ_ASSERT(k != 0 || (g.n == sizeof msg - 1 &&
		    memcmp(g.buf, msg, g.n) == 0));
		break;
	case 1:
		if ((p = malloc(NYM_SEAL_HDRLEN + size - 1)) == NULL)
			abort();
		memcpy(p, rec, NYM_SEAL_HDRLEN);
		memcpy(p + NYM_SEAL_HDRLEN, data + 1, size - 1);
		k = unseal(p, NYM_SEAL_HDRLEN + size - 1, &g);
		FZ_ASSERT(k == -1);	/* chunks the fuzzer cannot forge */
		FZ_ASSERT(errno == EBADMSG);
		free(p);
		break;
	case 2:
		if (size < 4)
			return 0;
		pos = ((size_t)data[1] << 8 | data[2]) % reclen;
		memcpy(buf, rec, reclen);
		n = reclen;
		if (data[3] != 0) {
			buf[pos] ^= data[3];		/* flipped */
		} else if (size > 4) {
			n += size - 4 < 64 ? size - 4 : 64;	/* more after */
			memcpy(buf + reclen, data + 4, n - reclen);
		} else
			n = pos;			/* cut short */
		k = unseal(buf, n, &g);
		FZ_ASSERT(k == -1);
		FZ_ASSERT(errno == EBADMSG || errno == EACCES ||
		    errno == EINVAL || errno == ENOTSUP);
		/* Nothing of the last chunk is handed over unverified. */
		FZ_ASSERT(g.n == 0 || (g.n == CUT &&
		    memcmp(g.buf, msg, CUT) == 0));
		break;
	default:
		if (nym_seal_pubparse(data + 1, size - 1, key) == 0) {
			unsigned char again[NYM_SEAL_PUBFILE];

			nym_seal_pubfile(key, again);
			FZ_ASSERT(size - 1 == NYM_SEAL_PUBFILE &&
			    memcmp(again, data + 1, NYM_SEAL_PUBFILE) == 0);
		}
		break;
	}
	return 0;
}
