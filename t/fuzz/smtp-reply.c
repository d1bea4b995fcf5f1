/* SMTP replies as sam-deliver and smtp-submit read them (lib/smtp.c:
 * nym_smtp_reply, nym_smtp_ehlo, nym_smtp_exit).  Oracles: a code is
 * 200..599, the text fits and holds only printable bytes and LFs. */
#include "fuzz.h"
#include "limits.h"
#include "base.h"
#include "proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nym_smtp_reply r;
	struct nym_smtp_ext x;
	struct nym_in in;
	size_t i;
	int fd, code, n;

	fd = fz_memfd(data, size);
	if (nym_in_open(&in, fd, NYM_SMTP_REPLYLINE) == -1)
		abort();
	for (n = 0; n < 1000; n++) {
		if ((code = nym_smtp_reply(&in, &r)) == -1)
			break;
		FZ_ASSERT(code >= 200 && code <= 599 && code == r.code);
		FZ_ASSERT(r.len < sizeof r.text && r.text[r.len] == '\0');
		FZ_ASSERT(r.lines >= 1 && r.lines <= NYM_SMTP_REPLYLINES);
		for (i = 0; i < r.len; i++)
			FZ_ASSERT(r.text[i] == '\n' ||
			    (r.text[i] >= ' ' && r.text[i] < 0x7f));
		memset(&x, 0, sizeof x);
		nym_smtp_ehlo(&r, &x);
		code = nym_smtp_exit(&r);
		FZ_ASSERT(code == 0 || code == 75 || code == 65 ||
		    code == 67 || code == 77);
	}
	nym_in_close(&in);
	close(fd);
	return 0;
}
