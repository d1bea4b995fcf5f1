/* SMTP commands as smtp-receive reads them (lib/smtp.c): command lines
 * with nym_smtp_getline, each one parsed as MAIL FROM and RCPT TO; the
 * client's own parsers of addresses given to it (nym_smtp_sender,
 * nym_smtp_addrcpt).  Oracles: a line is within its limit and holds no
 * LF; a path fits its buffer; a sender fits. */
#include "fuzz.h"
#include "limits.h"
#include "base.h"
#include "proto.h"

static void
command(const char *line)
{
	char addr[NYM_SMTP_PATH];
	struct nym_smtp_mail m;
	struct nym_smtp_rcpt *rc = NULL;
	const char *why;
	size_t n = 0;

	if (nym_smtp_parse_mail(line, addr, sizeof addr, &m) == 0) {
		FZ_ASSERT(strlen(addr) < NYM_SMTP_PATH);
		FZ_ASSERT(m.body == 0 || m.body == 7 || m.body == 8);
	}
	if (nym_smtp_parse_rcpt(line, addr, sizeof addr) == 0)
		FZ_ASSERT(strlen(addr) < NYM_SMTP_PATH);
	if (nym_smtp_sender(line, addr, sizeof addr) == 0)
		FZ_ASSERT(strlen(addr) < NYM_SMTP_PATH);
	if (nym_smtp_addrcpt(&rc, &n, line, &why) == 0)
		FZ_ASSERT(n > 0 && rc != NULL);
	free(rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[NYM_SMTP_LINE + 1];
	struct nym_in in;
	int fd, k;

	if (size > 200000)
		return 0;
	fd = fz_memfd(data, size);
	if (nym_in_open(&in, fd, 256) == -1)
		abort();
	for (;;) {
		k = nym_smtp_getline(&in, buf, sizeof buf, NYM_SMTP_LINE);
		if (k == 0)
			break;
		if (k == -1) {
			if (errno == E2BIG || errno == EILSEQ)
				continue;
			FZ_ASSERT(errno == EMSGSIZE);
			break;
		}
		FZ_ASSERT(strlen(buf) <= NYM_SMTP_LINE - 1);
		FZ_ASSERT(strchr(buf, '\n') == NULL);
		command(buf);
	}
	nym_in_close(&in);
	close(fd);
	return 0;
}
