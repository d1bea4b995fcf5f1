/* SMTP DATA (lib/smtp.c).  The first byte picks: odd, the server's
 * reader nym_smtp_getdata on hostile bytes (with a size limit and LF
 * mode from the second byte); even, the round trip: what the client's
 * nym_smtp_putdata sends (with a Bcc recipient's stamp if the first
 * byte's second bit is set: on the wire), nym_smtp_getdata reads
 * back, a few bytes a read(2), as one message, the same bytes
 * unstuffed, ending exactly where the final dot does. */
#include "fuzz.h"
#include "base.h"
#include "proto.h"

static void
hostile(const uint8_t *data, size_t size, unsigned opt)
{
	struct nym_smtp_data d;
	struct nym_out out;
	struct nym_in in;
	int fd, ofd, k;
	size_t n;
	char *got;

	fd = fz_memfd(data, size);
	ofd = fz_sink();
	if (nym_in_open(&in, fd, (opt & 1) ? 64 : 65536) == -1 ||
	    nym_out_open(&out, ofd, 4096) == -1)
		abort();
	memset(&d, 0, sizeof d);
	k = nym_smtp_getdata(&in, &out, opt >> 2, (opt & 2) ? NYM_SMTP_LF :
	    0, &d);
	if (k == -1)
		FZ_ASSERT(errno == ECONNRESET);
	got = fz_slurp(ofd, &n);
	if (k == 0 && !d.over && !d.bare)
		FZ_ASSERT(n <= d.size && d.size <= size);
	if (k == 0 && (opt >> 2) > 0)
		FZ_ASSERT(n <= (opt >> 2) || !d.over);
	free(got);
	nym_out_close(&out);
	nym_in_close(&in);
	close(ofd);
	close(fd);
}

static void
roundtrip(const uint8_t *data, size_t size, const char *stamp)
{
	struct nym_smtp_data d;
	struct nym_out out;
	struct nym_in in;
	char *wire, *got, *want;
	size_t wn, gn, w = 0, i, bol = 1;
	int fd, ofd, k;

	/* The client's side. */
	fd = fz_memfd(data, size);
	ofd = fz_sink();
	if (nym_in_open(&in, fd, 64) == -1 ||
	    nym_out_open(&out, ofd, 4096) == -1)
		abort();
	FZ_ASSERT(nym_smtp_putdata(&in, &out, stamp) == 0);
	nym_out_close(&out);
	nym_in_close(&in);
	close(fd);
	wire = fz_slurp(ofd, &wn);
	close(ofd);
	FZ_ASSERT(wn >= 3 && memcmp(wire + wn - 3, ".\r\n", 3) == 0);
	if (stamp != NULL) {
		static const char f[] = "X-Hashcash: 1:8:261207:b@b.i2p::s:1\r\n";
		/* Present (the input may hold the same bytes too). */
		FZ_ASSERT(memmem(wire, wn, f, sizeof f - 1) != NULL);
	}
	FZ_ASSERT(wn == 3 || (wn >= 5 && wire[wn - 5] == '\r' &&
	    wire[wn - 4] == '\n'));

	/* What the server should store: the wire's lines unstuffed, the
	 * final dot left out. */
	if ((want = malloc(wn)) == NULL)
		abort();
	for (i = 0; i < wn - 3; i++) {
		if (bol && wire[i] == '.') {
			bol = 0;
			continue;
		}
		bol = wire[i] == '\n';
		want[w++] = wire[i];
	}

	/* The server's side, reading the wire with more after it. */
	if ((wire = realloc(wire, wn + 6)) == NULL)
		abort();
	memcpy(wire + wn, "QUIT\r\n", 6);
	fd = fz_memfd(wire, wn + 6);
	ofd = fz_sink();
	if (nym_in_open(&in, fd, 65536) == -1 ||
	    nym_out_open(&out, ofd, 4096) == -1)
		abort();
	/* The wire comes a few bytes at a time, as from a network. */
	in.chunk = 1 + size % 97;
	memset(&d, 0, sizeof d);
	k = nym_smtp_getdata(&in, &out, 0, 0, &d);
	FZ_ASSERT(k == 0);
	FZ_ASSERT(d.bare == 0 && d.over == 0 && d.werr == 0);
	got = fz_slurp(ofd, &gn);
	FZ_ASSERT(gn == w && memcmp(got, want, w) == 0);
	FZ_ASSERT(d.size == w);
	/* It stopped at the final dot: the next command is next. */
	FZ_ASSERT(nym_in_fill(&in, 6) == 6 &&
	    memcmp(in.buf + in.pos, "QUIT\r\n", 6) == 0);
	free(got);
	free(want);
	free(wire);
	nym_out_close(&out);
	nym_in_close(&in);
	close(ofd);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 200000)
		return 0;
	if (data[0] & 1)
		hostile(data + 2, size - 2, data[1]);
	else
		roundtrip(data + 1, size - 1, (data[0] & 2) ?
		    "1:8:261207:b@b.i2p::s:1" : NULL);
	return 0;
}
