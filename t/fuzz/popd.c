/* The POP3 server's side (lib/popd.c, as pop-serve uses it).  The first
 * byte picks: odd, command lines (nym_smtp_getline, the reader
 * pop-serve uses) split into verb and arguments, numbers, AUTH PLAIN
 * responses and unique-ids of maildir names; even, the message encoder
 * (RETR and TOP) with its oracle: what nym_popd_put sends, pop-fetch's
 * nym_pop3_retr reads back as the CRLF form, whose length is the size
 * LIST reports. */
#include "fuzz.h"
#include "limits.h"
#include "base.h"
#include "proto.h"

static void
commands(const uint8_t *data, size_t size)
{
	char line[NYM_POPD_LINE], verb[5], user[NYM_POPD_USER + 1];
	char pass[NYM_POPD_PASS + 1], uid[NYM_POP3_UIDL + 1];
	const char *args, *end;
	struct nym_in in;
	size_t plen, i;
	long v;
	int fd, k;

	fd = fz_memfd(data, size);
	if (nym_in_open(&in, fd, 1024) == -1)
		abort();
	while ((k = nym_smtp_getline(&in, line, sizeof line,
	    NYM_POPD_LINE)) != 0) {
		if (k == -1) {
			if (errno == E2BIG || errno == EILSEQ)
				continue;
			break;
		}
		if (nym_popd_verb(line, verb, &args) == 0) {
			FZ_ASSERT(strlen(verb) >= 3 && strlen(verb) <= 4);
			FZ_ASSERT(args >= line && args <= line + strlen(line));
			if ((v = nym_popd_num(args, &end)) != -1)
				FZ_ASSERT(v >= 0 && v <= 999999999 && end > args);
		}
		if (nym_popd_plain(line, user, sizeof user, pass, sizeof pass,
		    &plen) == 0) {
			FZ_ASSERT(strlen(user) < sizeof user);
			FZ_ASSERT(plen < sizeof pass);
		}
		if (strlen(line) <= NYM_POPD_NAME) {
			nym_popd_uid(line, uid);
			FZ_ASSERT(strlen(uid) >= 1 && strlen(uid) <= NYM_POP3_UIDL);
			for (i = 0; uid[i] != '\0'; i++)
				FZ_ASSERT(uid[i] > ' ' && uid[i] < 0x7f);
		}
	}
	nym_in_close(&in);
	close(fd);
}

static void
encode(const uint8_t *data, size_t size, long lines)
{
	struct nym_popd_enc e, c;
	struct nym_out out, back;
	struct nym_in in;
	char *wire, *got;
	size_t wn, gn, i;
	int ofd, bfd, fd;

	/* Counting only (LIST) and sending (RETR, TOP) agree. */
	nym_popd_begin(&c, lines);
	(void)nym_popd_put(&c, NULL, data, size);
	nym_popd_end(&c, NULL);

	ofd = fz_sink();
	if (nym_out_open(&out, ofd, 512) == -1)
		abort();
	nym_popd_begin(&e, lines);
	/* In pieces, as a file is read. */
	for (i = 0; i < size; i += 7)
		if (nym_popd_put(&e, &out, data + i, size - i < 7 ? size - i :
		    7) == 1)
			break;
	nym_popd_end(&e, &out);
	FZ_ASSERT(nym_out_flush(&out) == 0);
	nym_out_close(&out);
	wire = fz_slurp(ofd, &wn);
	close(ofd);
	if (lines < 0)
		FZ_ASSERT(c.size == e.size);

	fd = fz_memfd(wire, wn);
	bfd = fz_sink();
	if (nym_in_open(&in, fd, 128) == -1 ||
	    nym_out_open(&back, bfd, 512) == -1)
		abort();
	FZ_ASSERT(nym_pop3_retr(&in, &back, 0, 0) == 0);
	FZ_ASSERT(nym_out_flush(&back) == 0);
	/* Nothing after the final dot. */
	FZ_ASSERT(nym_in_fill(&in, 1) == 0);
	got = fz_slurp(bfd, &gn);
	if (lines < 0) {
		FZ_ASSERT(gn == e.size);
		FZ_ASSERT(gn >= size);
	}
	for (i = 0; i < gn; i++)
		if (got[i] == '\n')
			FZ_ASSERT(i > 0 && got[i - 1] == '\r');
	FZ_ASSERT(gn == 0 || got[gn - 1] == '\n');
	free(got);
	free(wire);
	nym_out_close(&back);
	nym_in_close(&in);
	close(bfd);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 200000)
		return 0;
	if (data[0] & 1)
		commands(data + 2, size - 2);
	else
		encode(data + 2, size - 2, (data[0] & 2) ? data[1] % 8 : -1);
	return 0;
}
