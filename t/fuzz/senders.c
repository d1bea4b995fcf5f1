/* The sender list file (lib/senders.c), parsed from the input.  Oracles:
 * every entry's pattern is in its normal form (normalizing it again
 * gives itself) and no longer than a line; entries and bad lines
 * together are no more than the lines; every entry matches an address
 * made from it with the verdict of some entry; the bad-line callback is
 * called once per bad line, with growing line numbers. */
#include "fuzz.h"
#include "limits.h"
#include "msg.h"

static unsigned calls, last;
static int order;

static void
bad(void *arg, unsigned line, const char *why)
{
	(void)arg;
	FZ_ASSERT(why != NULL && *why != '\0');
	if (line <= last)
		order = 0;
	last = line;
	calls++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_senders l;
	char norm[NYM_SENDERS_LINE + 1], addr[NYM_SENDERS_LINE + 8];
	size_t i, lines = 1, n;
	int v;

	if (size > NYM_SENDERS_MAX + 16)
		return 0;
	calls = last = 0;
	order = 1;
	if (nym_senders_parse(&l, data, size, bad, NULL) == -1) {
		FZ_ASSERT(errno == EFBIG || errno == ENOMEM);
		return 0;
	}
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	FZ_ASSERT(order && calls == l.bad);
	FZ_ASSERT(l.n + l.bad <= lines);
	for (i = 0; i < l.n; i++) {
		n = strlen(l.e[i].pat);
		FZ_ASSERT(n > 0 && n <= NYM_SENDERS_LINE);
		FZ_ASSERT(l.e[i].verdict == NYM_SENDERS_ALLOW ||
		    l.e[i].verdict == NYM_SENDERS_DENY);
		FZ_ASSERT(nym_senders_norm(l.e[i].pat, n, norm, sizeof norm,
		    NULL) == 0 && strcmp(norm, l.e[i].pat) == 0);
		snprintf(addr, sizeof addr, "%s%s", l.e[i].pat[0] == '*' &&
		    l.e[i].pat[1] == '@' ? "someone" : "", l.e[i].pat +
		    (l.e[i].pat[0] == '*' && l.e[i].pat[1] == '@'));
		v = nym_senders_match(&l, addr);
		FZ_ASSERT(v == NYM_SENDERS_ALLOW || v == NYM_SENDERS_DENY);
	}
	nym_senders_free(&l);
	return 0;
}
