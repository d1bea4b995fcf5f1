/* RFC 2047 encoded words and RFC 2045/2231 parameters (lib/rfc2047.c),
 * and the decoders under them (lib/enc.c).  Oracles: the decoded text
 * fits and is NUL ended; base64 and quoted-printable round trips; the
 * canonical rendering is printable ASCII and a fixed point. */
#include "fuzz.h"
#include "msg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536], enc[4 * 65536 / 3 + 8];
	static unsigned char bin[65536];
	const char *s = (const char *)data, *cs = NULL;
	struct nym_mimetype m;
	size_t i, n;
	ssize_t k;

	if (size > 16384)
		return 0;
	k = nym_rfc2047_decode(s, size, out, sizeof out, &cs);
	if (k >= 0)
		FZ_ASSERT((size_t)k < sizeof out && out[k] == '\0');
	/* A small output buffer: cut, never overrun. */
	k = nym_rfc2047_decode(s, size, out, 8, NULL);
	FZ_ASSERT(k == -1 ? errno == E2BIG : k < 8);

	memset(&m, 0, sizeof m);
	if (nym_mime_parse(s, size, &m) == 0) {
		FZ_ASSERT(m.type != NULL && m.type[0] != '\0');
		for (i = 0; i < m.np; i++) {
			FZ_ASSERT(m.p[i].name != NULL && m.p[i].value != NULL);
			FZ_ASSERT(nym_mime_param(&m, m.p[i].name) != NULL);
		}
		nym_mime_free(&m);
	}

	/* Decoders on hostile text. */
	k = nym_unbase64(s, size, bin, sizeof bin, "+/");
	FZ_ASSERT(k == -1 || (size_t)k <= 3 * ((size + 3) / 4));
	n = nym_unqp(s, size, out);
	FZ_ASSERT(n <= size);

	/* Round trips: the input as bytes, encoded and decoded back. */
	if (size <= sizeof bin) {
		n = nym_base64(data, size, enc, "-~");
		k = nym_unbase64(enc, n, bin, sizeof bin, "-~");
		FZ_ASSERT(k == (ssize_t)size && memcmp(bin, data, size) == 0);
	}
	if (size <= 4096) {
		/* enc.c: the output decodes back to the input, its line
		 * breaks (LF or CRLF) as the eol asked for. */
		static char q[3 * 4096 * 2 + 64], want[4096];
		size_t need = nym_qp(s, size, NULL, "\n"), w = 0;

		FZ_ASSERT(need <= sizeof q);
		n = nym_qp(s, size, q, "\n");
		FZ_ASSERT(n == need);
		for (i = 0; i < size; i++)
			if (!(s[i] == '\r' && i + 1 < size && s[i + 1] == '\n'))
				want[w++] = s[i];
		n = nym_unqp(q, n, out);
		FZ_ASSERT(n == w && memcmp(out, want, w) == 0);
	}
	/* The canonical rendering: printable ASCII, and written again the
	 * same (so -c on scrubbed mail is quiet). */
	for (i = 0; i < 2 && size <= 4096; i++) {
		char *c1, *c2;
		size_t l1, l2, j;
		int lg, left;

		if ((c1 = nym_rfc2047_canon(s, size, (int)i, 13, &l1, &lg,
		    &left)) == NULL) {
			FZ_ASSERT(left > 0 || errno == ENOMEM);
			continue;
		}
		FZ_ASSERT(strlen(c1) == l1);
		for (j = 0; j < l1; j++)
			FZ_ASSERT(c1[j] >= 0x20 && c1[j] < 0x7f);
		c2 = nym_rfc2047_canon(c1, l1, (int)i, 13, &l2, &lg, &left);
		FZ_ASSERT(c2 != NULL && lg == 0 && l2 == l1 &&
		    memcmp(c1, c2, l1) == 0);
		free(c1);
		free(c2);
	}
	(void)cs;
	return 0;
}
