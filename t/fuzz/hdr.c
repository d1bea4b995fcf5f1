/* Header reader (lib/hdr.c): nym_hdr_read over hostile bytes, in every
 * mode, then every field's value.  Oracles: fields lie inside the kept
 * bytes, in order; an unfolded value holds no CR, LF or NUL; without
 * broken folds read on, the bytes kept are the bytes read, as read (the
 * reader copies them in runs, through a 64-byte buffer too). */
#include "fuzz.h"
#include "base.h"
#include "msg.h"

static int
dashes(const char *line, size_t len, void *arg)
{
	(void)arg;
	return len >= 2 && line[0] == '-' && line[1] == '-';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char val[8192];
	struct nym_hdr h;
	struct nym_in in;
	unsigned flags;
	size_t i, end = 0;
	uint64_t at;
	ssize_t n;
	int fd, pass;

	if (size < 1)
		return 0;
	flags = data[0];
	fd = fz_memfd(data + 1, size - 1);
	if (nym_in_open(&in, fd, (flags & 0x10) ? 64 : 8192) == -1)
		abort();
	memset(&h, 0, sizeof h);
	for (pass = 0; pass < 4; pass++) {
		if (pass > 0)
			nym_hdr_reset(&h);
		at = in.off;
		if (nym_hdr_read(&in, &h, flags & NYM_HDR_MBOX,
		    (flags & 0x4) ? dashes : NULL, NULL) == -1)
			break;
		FZ_ASSERT(h.len <= in.off - at && (h.len == 0 ||
		    memcmp(h.buf, data + 1 + at, h.len) == 0));
		while ((flags & 0x8) && h.bad &&
		    nym_hdr_read(&in, &h, NYM_HDR_FOLD, NULL, NULL) == 0)
			;
		FZ_ASSERT(h.len <= h.cap || h.cap == 0);
		end = h.fromlen;
		for (i = 0; i < h.nf; i++) {
			FZ_ASSERT(h.f[i].off >= end);
			FZ_ASSERT(h.f[i].off + h.f[i].len <= h.len);
			FZ_ASSERT(h.f[i].namelen < h.f[i].len);
			end = h.f[i].off + h.f[i].len;
			n = nym_hdr_value(&h, i, val, sizeof val);
			if (n == -1) {
				FZ_ASSERT(errno == E2BIG);
				continue;
			}
			FZ_ASSERT((size_t)n < sizeof val && val[n] == '\0');
			FZ_ASSERT(strlen(val) == (size_t)n);
			FZ_ASSERT(memchr(val, '\r', (size_t)n) == NULL);
			FZ_ASSERT(memchr(val, '\n', (size_t)n) == NULL);
			(void)nym_hdr_isrcpt(&h, i);
		}
		(void)nym_hdr_find(&h, "subject", 0);
		if (!h.sep)
			break;
	}
	nym_hdr_free(&h);
	nym_in_close(&in);
	close(fd);
	return 0;
}
