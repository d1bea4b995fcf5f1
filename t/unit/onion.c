/*
 * onion.c - unit tests for v3 onion addresses: real services' addresses,
 * a name computed by another implementation (Python's hashlib) from the
 * RFC 8032 test key, and each way an address can be wrong.
 */
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "tor.h"
#include "tap.h"

#define DDG	"duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad"
#define TPO	"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid"
/* RFC 8032 7.1, TEST 1's public key */
#define RFCPK	"\xd7\x5a\x98\x01\x82\xb1\x0a\xb7\xd5\x4b\xfe\xd3\xc9\x64\x07\x3a" \
		"\x0e\xe1\x72\xf3\xda\xa6\x23\x25\xaf\x02\x1a\x68\xf7\x07\x51\x1a"
#define RFCNAME	"25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid"

static void
good(void)
{
	struct nym_onion o;
	const char *why;

	check_int(nym_onion_parse(DDG ".onion", &o, &why), 0, "a real v3 address");
	check_str(o.name, DDG ".onion", "its name");
	check_str(o.label, "", "no label");
	check_int(nym_onion_parse("AbC-1." TPO ".ONION.", &o, &why), 0,
	    "any case, a label, a final dot");
	check_str(o.name, TPO ".onion", "name lower-cased");
	check_str(o.label, "abc-1", "the label, lower-cased");
	check_int(nym_onion_parse(RFCNAME ".onion", &o, &why), 0,
	    "the RFC 8032 key's address");
	check(memcmp(o.pk, RFCPK, 32) == 0, "decodes to the key");
}

static void
name(void)
{
	char out[NYM_ONION_NAME];

	check_int(nym_onion_name((const unsigned char *)RFCPK, out), 0,
	    "name of a key");
	check_str(out, RFCNAME ".onion", "as hashlib computes it");
}

static void
bad(void)
{
	static const struct {
		const char *in, *why;
	} v[] = {
		{ "example.com", "not a v3" },
		{ "abc.onion", "not a v3" },
		{ "a.b." DDG ".onion", "not a v3" },
		/* one character changed: the checksum no longer fits */
		{ "duckduckgogg42xjoc72y3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
		    "bad checksum" },
		{ "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad"
		    "a.onion", "not a v3" },
		/* version 2's length, and a v3 length whose version byte
		 * is not 3 (ends in 'c': 2) */
		{ "expyuzz4wqqyqhjn.onion", "not a v3" },
		{ "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczac.onion",
		    "not a v3" },
		/* the identity point, checksum right: small order */
		{ "aeaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaahmjqd.onion",
		    "no valid Ed25519" },
		{ "", "not a v3" },
	};
	struct nym_onion o;
	const char *why;
	char what[200];
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		snprintf(what, sizeof what, "refused: %s", v[i].in);
		check_int(nym_onion_parse(v[i].in, &o, &why), -1, what);
		check(why != NULL && strstr(why, v[i].why) != NULL, v[i].why);
		check_str(o.name, "", "nothing left behind");
	}
}

static void
b32(void)
{
	unsigned char buf[8];

	check_int(nym_unbase32("MZXW6YTBOI", 10, buf, sizeof buf), 6,
	    "unbase32, upper case");
	check(memcmp(buf, "foobar", 6) == 0, "unbase32 foobar");
	check_int(nym_unbase32("mzxw6ytboi", 10, buf, 5), -1,
	    "unbase32 past cap");
	check_int(nym_unbase32("mzxw6ytb0i", 10, buf, sizeof buf), -1,
	    "unbase32: 0 is no digit");
	check_int(nym_unbase32("my", 2, buf, sizeof buf), 1, "unbase32 f");
	check_int(nym_unbase32("mz", 2, buf, sizeof buf), -1,
	    "unbase32: leftover bits not zero");
	check_int(nym_unbase32("mzx", 3, buf, sizeof buf), -1,
	    "unbase32: a character too many");
}

int
main(void)
{
	good();
	name();
	bad();
	b32();
	return tap_done();
}
