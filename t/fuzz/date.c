/* Dates (lib/date.c).  Oracle: a parsed date, formatted and parsed
 * again, is the same instant in UTC; every date taken can be formatted. */
#include "fuzz.h"
#include "msg.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[64];
	time_t t, t2;
	int zone, zone2;
	size_t n;

	if (nym_date_parse((const char *)data, size, &t, &zone) == -1) {
		FZ_ASSERT(errno == EINVAL);
		return 0;
	}
	/* Every instant it takes is one it formats: years 1900..9999. */
	n = nym_date_format(t, buf, sizeof buf);
	FZ_ASSERT(n > 0 && n < sizeof buf && strlen(buf) == n);
	FZ_ASSERT(nym_date_parse(buf, n, &t2, &zone2) == 0);
	FZ_ASSERT(t2 == t && zone2 == 0);
	return 0;
}
