/* Proof-of-work stamps and demands (lib/pow.c).  Oracle: a verdict is
 * one of the enum's; a hashcash stamp parsed as valid has its resource
 * inside the input and within NYM_POW_RES_MAX, a value no more than it
 * claims; checking agrees with parsing on what is malformed or unknown
 * (hashcash), and nym_pow_check agrees with nym_pow_check_demand given
 * the demand it stands for; a stamp taken is of a kind and set the
 * demand names.  The input read as a demand: parsed within every bound
 * (items, steps, bits with the surcharge, dates increasing), or refused
 * and left empty; what it picks is one of its items; a real E1 stamp
 * checked against it gets a verdict, and is taken only if the demand
 * asks no more than 0 extra bits of 96,5 of it. */
#include "fuzz.h"
#include "pow.h"

/* Minted by pow-stamp -m -a E1 bob@bob.i2p, 2026-12-06. */
static const char e1[] = "E1:96:5:0:261206:bob@bob.i2p:7P32JaDXdJKdnuCK:"
    "AAAABAaZkUVLFcYdgxLZtS0G3Jz3UAQuxlhNzJZGYDvYSfmLAjCC68OtojWRafnlDXLiv"
    "stihLbiW4vuC1iE3OUGyUfTAfom";

static void
demand(const char *s, size_t size, time_t now)
{
	char text[NYM_POW_DEMAND_MAX + 64];
	struct nym_pow_demand d;
	unsigned i, j, max;
	int r, c, pick;

	if (size >= sizeof text)
		size = sizeof text - 1;
	memcpy(text, s, size);
	text[size] = '\0';
	r = nym_pow_demand_parse(text, &d);
	if (r == -1) {
		FZ_ASSERT(d.nwant == 0 && d.unknown == 0);
		return;
	}
	FZ_ASSERT(r == 0);
	FZ_ASSERT(strlen(text) <= NYM_POW_DEMAND_MAX);
	FZ_ASSERT(d.nwant <= NYM_POW_DEMAND_ITEMS_MAX);
	FZ_ASSERT(d.nwant + d.unknown >= 1 &&
	    d.nwant + d.unknown <= NYM_POW_DEMAND_ITEMS_MAX);
	for (i = 0; i < d.nwant; i++) {
		const struct nym_pow_want *w = &d.want[i];

		FZ_ASSERT(w->kind == NYM_POW_HASHCASH ||
		    w->kind == NYM_POW_EQUIHASH);
		FZ_ASSERT(w->nsteps >= 1 &&
		    w->nsteps <= NYM_POW_DEMAND_STEPS_MAX);
		FZ_ASSERT(w->surcharge <= NYM_POW_SURCHARGE_MAX);
		FZ_ASSERT(w->deprecated || w->surcharge == 0);
		max = w->kind == NYM_POW_HASHCASH ? NYM_POW_BITS_MAX :
		    NYM_POW_E1_BITS_MAX;
		for (j = 0; j < w->nsteps; j++) {
			FZ_ASSERT(w->bits[j] + w->surcharge <= max);
			FZ_ASSERT(j == 0 ? w->from[j] == 0 :
			    w->from[j] > w->from[j - 1] &&
			    w->from[j] % 86400 == 0);
			FZ_ASSERT(nym_pow_want_bits(w, w->from[j]) ==
			    w->bits[j] + w->surcharge);
		}
		FZ_ASSERT(nym_pow_want_bits(w, now) <= max);
	}
	pick = nym_pow_demand_pick(&d, 0, now);
	FZ_ASSERT((pick == -1) == (d.nwant == 0));
	FZ_ASSERT(pick < (int)d.nwant);
	c = nym_pow_check_demand(e1, sizeof e1 - 1, &d, "bob@bob.i2p", now,
	    NULL);
	FZ_ASSERT(c == NYM_POW_OK || c == NYM_POW_BITS ||
	    c == NYM_POW_UNWANTED);
	if (c == NYM_POW_OK) {
		for (i = 0, r = 0; i < d.nwant; i++)
			if (d.want[i].kind == NYM_POW_EQUIHASH &&
			    d.want[i].n == 96 && d.want[i].k == 5 &&
			    nym_pow_want_bits(&d.want[i], 1796515200) == 0)
				r = 1;
		FZ_ASSERT(r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct nym_pow_stamp st;
	struct nym_pow_policy p = { "bob@bob.i2p", 0, 28L * 86400,
	    2L * 86400 };
	struct nym_pow_demand d;
	char kind[40];
	time_t now = 1796515200, t, until, until2;
	int v, c, c2, e1kind = size >= 3 && memcmp(s, "E1:", 3) == 0;

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
	if (!e1kind) {
		FZ_ASSERT((c == NYM_POW_UNKNOWN) == (v == NYM_POW_UNKNOWN));
		FZ_ASSERT((c == NYM_POW_MALFORMED) ==
		    (v == NYM_POW_MALFORMED));
	}
	FZ_ASSERT(strlen(nym_pow_why(c)) > 0);
	/* nym_pow_check is the demand "1:0 E1:96,5:0 E1:102,5:0" */
	FZ_ASSERT(nym_pow_demand_parse("1:0 E1:96,5:0 E1:102,5:0", &d) == 0);
	c2 = nym_pow_check_demand(s, size, &d, p.resource, now, &until2);
	FZ_ASSERT(c2 == c);
	if (c == NYM_POW_OK) {
		FZ_ASSERT(until2 == until);
		FZ_ASSERT(size <= NYM_POW_STAMP_MAX);
		FZ_ASSERT((size >= 2 && memcmp(s, "1:", 2) == 0) ||
		    (size >= 8 && (memcmp(s, "E1:96:5:", 8) == 0 ||
		    memcmp(s, "E1:102:5:", 9) == 0)));
	}
	FZ_ASSERT(nym_pow_demand_parse(NYM_POW_DEMAND_DEFAULT, &d) == 0);
	c2 = nym_pow_check_demand(s, size, &d, NULL, now, NULL);
	FZ_ASSERT(c2 >= NYM_POW_OK && c2 <= NYM_POW_UNWANTED &&
	    c2 != NYM_POW_SPENT && c2 != NYM_POW_RESOURCE);
	if (c2 == NYM_POW_OK)
		FZ_ASSERT(e1kind || (size >= 2 && memcmp(s, "1:", 2) == 0));
	nym_pow_kind(s, size, kind, sizeof kind);
	FZ_ASSERT(strlen(kind) < sizeof kind);
	if (nym_pow_date(s, size, now, &t) == 0) {
		FZ_ASSERT(size >= 2 && size <= 12 && size % 2 == 0);
		/* within a century and a bit of now, whatever the carries */
		FZ_ASSERT(t > now - 60LL * 366 * 86400 &&
		    t < now + 60LL * 366 * 86400);
	}
	demand(s, size, now);
	return 0;
}
