/* Proof-of-work stamps (lib/pow.c).  Oracle: a verdict is one of the
 * enum's; a stamp parsed as valid has its resource inside the input and
 * within NYM_POW_RES_MAX, a value no more than it claims; checking
 * agrees with parsing on what is malformed or unknown, and a date that
 * parses formats back to the day it names. */
#include "fuzz.h"
#include "pow.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct nym_pow_stamp st;
	struct nym_pow_policy p = { "bob@bob.i2p", 0, 28L * 86400,
	    2L * 86400 };
	char kind[40];
	time_t now = 1796515200, t, until;
	int v, c;

	v = nym_pow_parse(s, size, now, &st);
	FZ_ASSERT(v == NYM_POW_OK || v == NYM_POW_UNKNOWN ||
	    v == NYM_POW_MALFORMED);
	if (v == NYM_POW_OK) {
		FZ_ASSERT(size <= NYM_POW_STAMP_MAX);
		FZ_ASSERT(st.res > s && st.res + st.reslen < s + size);
		FZ_ASSERT(st.reslen > 0 && st.reslen <= NYM_POW_RES_MAX);
		FZ_ASSERT(st.value == 0 || st.value == st.claimed);
		FZ_ASSERT(st.value <= 160);
	}
	c = nym_pow_check(s, size, &p, now, &until);
	FZ_ASSERT(c >= NYM_POW_OK && c <= NYM_POW_BITS);
	FZ_ASSERT((c == NYM_POW_UNKNOWN) == (v == NYM_POW_UNKNOWN));
	FZ_ASSERT((c == NYM_POW_MALFORMED) == (v == NYM_POW_MALFORMED));
	FZ_ASSERT(strlen(nym_pow_why(c)) > 0);
	nym_pow_kind(s, size, kind, sizeof kind);
	FZ_ASSERT(strlen(kind) < sizeof kind);
	if (nym_pow_date(s, size, now, &t) == 0) {
		FZ_ASSERT(size >= 2 && size <= 12 && size % 2 == 0);
		/* within a century and a bit of now, whatever the carries */
		FZ_ASSERT(t > now - 60LL * 366 * 86400 &&
		    t < now + 60LL * 366 * 86400);
	}
	return 0;
}
