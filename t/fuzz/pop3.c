/* POP3 replies as pop-fetch reads them (lib/pop3.c).  The first byte
 * picks the reader: a status line, a multi-line listing (CAPA, UIDL,
 * LIST lines parsed), or RETR with its flags and size limit.  Oracles:
 * texts fit and are sanitised; a uid is 1..70 bytes 0x21..0x7e; RETR
 * never writes more than it read, stops at its limit, and takes the same
 * message when the reply comes a few bytes at a time. */
#include "fuzz.h"
#include "limits.h"
#include "base.h"
#include "proto.h"

static void
listing(struct nym_in *in)
{
	char line[NYM_POP3_LINE], uid[NYM_POP3_UIDL + 1];
	struct nym_pop3_caps c;
	unsigned long n;
	uint64_t size;
	size_t i, len;
	int k, lines = 0;

	memset(&c, 0, sizeof c);
	while ((k = nym_pop3_mline(in, line, sizeof line)) == 1) {
		FZ_ASSERT(strlen(line) < sizeof line);
		nym_pop3_capa(line, &c);
		if (nym_pop3_uidl(line, &n, uid, sizeof uid) == 0) {
			len = strlen(uid);
			FZ_ASSERT(len >= 1 && len <= NYM_POP3_UIDL);
			for (i = 0; i < len; i++)
				FZ_ASSERT(uid[i] >= 0x21 && uid[i] <= 0x7e);
		}
		(void)nym_pop3_list(line, &n, &size);
		if (++lines > NYM_POP3_LISTMAX)
			break;
	}
	FZ_ASSERT(k != -1 || errno == EPROTO || errno == ECONNRESET);
}

/* RETR of the reply in fd, from its start, read chunk bytes a read(2)
 * (0: as much as fits); its result, errno (0 unless it failed), and the
 * message. */
static int
retr(int fd, const uint8_t *data, uint64_t max, size_t chunk, int *err,
    char **got, size_t *n)
{
	struct nym_out out;
	struct nym_in in;
	int ofd, k;

	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	ofd = fz_sink();
	if (nym_in_open(&in, fd, (data[0] & 0x80) ? 64 : 65536) == -1 ||
	    nym_out_open(&out, ofd, 4096) == -1)
		abort();
	in.chunk = chunk;
	k = nym_pop3_retr(&in, &out, (data[0] >> 2) & 3, max);
	*err = k == -1 ? errno : 0;
	FZ_ASSERT(nym_out_flush(&out) == 0);
	*got = fz_slurp(ofd, n);
	nym_out_close(&out);
	nym_in_close(&in);
	close(ofd);
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], *got, *again;
	struct nym_in in;
	uint64_t max;
	size_t i, n, n2;
	int fd, k, e, e2;

	if (size < 2 || size > 200000)
		return 0;
	fd = fz_memfd(data + 2, size - 2);
	if (nym_in_open(&in, fd, (data[0] & 0x80) ? 64 : 65536) == -1)
		abort();
	switch (data[0] & 3) {
	case 0:
		while ((k = nym_pop3_status(&in, text, sizeof text)) != -1) {
			FZ_ASSERT(k == 0 || k == 1);
			for (i = 0; text[i] != '\0'; i++)
				FZ_ASSERT(text[i] >= 0x20 && text[i] < 0x7f);
			FZ_ASSERT(i < sizeof text);
		}
		break;
	case 1:
		if (nym_pop3_status(&in, text, sizeof text) == 1)
			listing(&in);
		break;
	default:
		max = data[1] * 16;
		k = retr(fd, data, max, 0, &e, &got, &n);
		if (k == -1 && e == EFBIG)
			FZ_ASSERT(max > 0);
		if (max > 0)
			FZ_ASSERT(n <= max + (max / 4) + 1);
		else
			FZ_ASSERT(n <= (size - 2) * 2);
		/* Read a few bytes at a time, as from a network: the same
		 * result, and the same message when it was taken. */
		FZ_ASSERT(retr(fd, data, max, 1 + size % 97, &e2, &again,
		    &n2) == k && e2 == e);
		if (k != -1)
			FZ_ASSERT(n2 == n && memcmp(again, got, n) == 0);
		free(again);
		free(got);
		break;
	}
	nym_in_close(&in);
	close(fd);
	return 0;
}
