/* Queue records (lib/queue.c): nym_qrec_parse on hostile bytes, and
 * nym_queue_rewrite (the header a queued message leaves with).  Oracle:
 * a record parsed, formatted, parsed and formatted again gives the same
 * text (what queue-run writes back is what it read). */
#include "fuzz.h"
#include "limits.h"
#include "store.h"

static void
record(const uint8_t *data, size_t size)
{
	struct nym_qrec r, r2;
	char *t1, *t2;
	size_t n1, n2;

	memset(&r, 0, sizeof r);
	if (nym_qrec_parse((const char *)data, size, &r) == -1) {
		FZ_ASSERT(errno == EINVAL || errno == ENOMEM);
		return;
	}
	FZ_ASSERT(r.sender != NULL && (r.nrcpt == 0 || r.rcpt != NULL));
	FZ_ASSERT(r.argv != NULL && r.argv[r.argc] == NULL);
	FZ_ASSERT(strlen(r.error) <= NYM_QUEUE_ERR);
	if (nym_qrec_format(&r, &t1, &n1) == -1) {
		FZ_ASSERT(errno == EINVAL || errno == ENOMEM);
		nym_qrec_free(&r);
		return;
	}
	memset(&r2, 0, sizeof r2);
	FZ_ASSERT(nym_qrec_parse(t1, n1, &r2) == 0);
	FZ_ASSERT(nym_qrec_format(&r2, &t2, &n2) == 0);
	FZ_ASSERT(n1 == n2 && memcmp(t1, t2, n1) == 0);
	FZ_ASSERT(r2.nrcpt == r.nrcpt && r2.argc == r.argc &&
	    r2.attempts == r.attempts && r2.due == r.due);
	free(t1);
	free(t2);
	nym_qrec_free(&r2);
	nym_qrec_free(&r);
}

static void
rewrite(const uint8_t *data, size_t size)
{
	int fd = fz_memfd(data, size), ofd = fz_sink();
	size_t n;
	char *got;

	if (nym_queue_rewrite(fd, ofd, 1700000000) == 0) {
		got = fz_slurp(ofd, &n);
		FZ_ASSERT(n > 0);
		free(got);
	}
	close(fd);
	close(ofd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200000)
		return 0;
	if (data[0] & 1)
		rewrite(data + 1, size - 1);
	else
		record(data + 1, size - 1);
	return 0;
}
