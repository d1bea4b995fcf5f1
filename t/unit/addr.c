/*
 * addr.c - table-driven tests for nym_addr_parse and nym_domkind: the
 * RFC 5322 appendix examples, the obsolete forms, every domain kind, and
 * hostile input (unbalanced delimiters, NUL, 200 KB values, random bytes).
 * Each input is copied into a buffer of exactly its length, so an overread
 * shows up under ASan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "msg.h"
#include "tap.h"

#define MAXA 5

struct exp {
	const char *name, *local, *domain, *group;
	enum nym_domkind kind;
};

struct row {
	const char *what;
	const char *in;
	size_t len;
	int err;		/* 0: must parse, else the errno of the -1 */
	size_t n;
	struct exp a[MAXA];
};

#define IN(s)	(s), sizeof(s) - 1
#define NONE	NYM_DOM_NONE
#define B32	NYM_DOM_B32
#define I2P	NYM_DOM_I2P
#define ONION	NYM_DOM_ONION
#define OTHER	NYM_DOM_OTHER

/* 52, 56 and 64 base32 characters; a v3 onion is 56 ending in 'd' */
#define B52	"abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
#define B56	B52 "uvwx"
#define B64	B56 "yz234567"
#define ON3	"abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwd"
#define ON3X	"abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx"
#define L63	"abcdefghijklmnopqrstuvwxyz" "abcdefghijklmnopqrstuvwxyz" \
	"abcdefghijk"

static const struct row rows[] = {
	/* RFC 5322 A.1.1 */
	{ "A.1.1 From", IN("John Doe <jdoe@machine.example>"), 0, 1, {
	    { "John Doe", "jdoe", "machine.example", NULL, OTHER } } },
	{ "A.1.1 To", IN("Mary Smith <mary@example.net>"), 0, 1, {
	    { "Mary Smith", "mary", "example.net", NULL, OTHER } } },
	/* A.1.2 */
	{ "A.1.2 quoted phrase",
	    IN("\"Joe Q. Public\" <john.q.public@example.com>"), 0, 1, {
	    { "Joe Q. Public", "john.q.public", "example.com", NULL,
	    OTHER } } },
	{ "A.1.2 To",
	    IN("Mary Smith <mary@x.test>, jdoe@example.org, "
	    "Who? <one@y.test>"),
	    0, 3, {
	    { "Mary Smith", "mary", "x.test", NULL, OTHER },
	    { NULL, "jdoe", "example.org", NULL, OTHER },
	    { "Who?", "one", "y.test", NULL, OTHER } } },
	{ "A.1.2 Cc",
	    IN("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
	    "<sysservices@example.net>"), 0, 2, {
	    { NULL, "boss", "nil.test", NULL, OTHER },
	    { "Giant; \"Big\" Box", "sysservices", "example.net", NULL,
	    OTHER } } },
	/* A.1.3 */
	{ "A.1.3 group",
	    IN("A Group:Ed Jones <c@a.test>,joe@where.test,John "
	    "<jdoe@one.test>;"), 0, 3, {
	    { "Ed Jones", "c", "a.test", "A Group", OTHER },
	    { NULL, "joe", "where.test", "A Group", OTHER },
	    { "John", "jdoe", "one.test", "A Group", OTHER } } },
	{ "A.1.3 empty group", IN("Undisclosed recipients:;"), 0, 0,
	    { { 0 } } },
	/* A.5 */
	{ "A.5 From",
	    IN("Pete(A nice \\) chap) "
	    "<pete(his account)@silly.test(his host)>"),
	    0, 1, {
	    { "Pete", "pete", "silly.test", NULL, OTHER } } },
	{ "A.5 To",
	    IN("A Group(Some people)\r\n     :Chris Jones "
	    "<c@(Chris's host.)public.example>,\r\n         joe@example.org,"
	    "\r\n  John <jdoe@one.test> (my dear friend); (the end of the "
	    "group)"), 0, 3, {
	    { "Chris Jones", "c", "public.example", "A Group", OTHER },
	    { NULL, "joe", "example.org", "A Group", OTHER },
	    { "John", "jdoe", "one.test", "A Group", OTHER } } },
	{ "A.5 Cc",
	    IN("(Empty list)(start)Hidden recipients  "
	    ":(nobody(that I know))  ;"),
	    0, 0, { { 0 } } },
	/* A.6.1 */
	{ "A.6.1 unquoted period",
	    IN("Joe Q. Public <john.q.public@example.com>"), 0, 1, {
	    { "Joe Q. Public", "john.q.public", "example.com", NULL,
	    OTHER } } },
	{ "A.6.1 route, empty element, spaced domain",
	    IN("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . "
	    "example"), 0, 2, {
	    { "Mary Smith", "mary", "example.net", NULL, OTHER },
	    { NULL, "jdoe", "test.example", NULL, OTHER } } },
	/* A.6.3 */
	{ "A.6.3 From", IN("John Doe <jdoe@machine(comment).  example>"),
	    0, 1, {
	    { "John Doe", "jdoe", "machine.example", NULL, OTHER } } },
	{ "A.6.3 To", IN("Mary Smith\r\n  \r\n          <mary@example.net>"),
	    0, 1, {
	    { "Mary Smith", "mary", "example.net", NULL, OTHER } } },
	/* quoted local parts */
	{ "quoted local", IN("\"john q\"@example.com"), 0, 1, {
	    { NULL, "john q", "example.com", NULL, OTHER } } },
	{ "quoted local escapes", IN("\"a\\\"b\\\\c\"@x.test"), 0, 1, {
	    { NULL, "a\"b\\c", "x.test", NULL, OTHER } } },
	{ "quoted and atom local", IN("\"a b\".c@x.test"), 0, 1, {
	    { NULL, "a b.c", "x.test", NULL, OTHER } } },
	{ "empty quoted local", IN("\"\"@x.test"), 0, 1, {
	    { NULL, "", "x.test", NULL, OTHER } } },
	{ "obs-local-part with CFWS", IN("john (x) . q@x.test"), 0, 1, {
	    { NULL, "john.q", "x.test", NULL, OTHER } } },
	{ "fold inside quoted local", IN("\"a\r\n b\"@c.test"), 0, 1, {
	    { NULL, "a b", "c.test", NULL, OTHER } } },
	{ "control in quoted local (obs-qtext)", IN("\"a\x01\"@c.test"),
	    0, 1, {
	    { NULL, "a\x01", "c.test", NULL, OTHER } } },
	{ "case kept in local, domain lowered", IN("John.Doe@EXAMPLE.Com"),
	    0, 1, {
	    { NULL, "John.Doe", "example.com", NULL, OTHER } } },
	/* domain literals */
	{ "domain literal", IN("jdoe@[127.0.0.1]"), 0, 1, {
	    { NULL, "jdoe", "[127.0.0.1]", NULL, OTHER } } },
	{ "IPv6 literal lowered", IN("Ex <x@[IPv6:2001:DB8::1]>"), 0, 1, {
	    { "Ex", "x", "[ipv6:2001:db8::1]", NULL, OTHER } } },
	{ "literal with FWS", IN("x@[ 10.0.0.1 ]"), 0, 1, {
	    { NULL, "x", "[10.0.0.1]", NULL, OTHER } } },
	/* obs-route */
	{ "obs-route", IN("<@a.test,@b.test:x@y.test>"), 0, 1, {
	    { NULL, "x", "y.test", NULL, OTHER } } },
	{ "obs-route with empties",
	    IN("Bob < , @a.test,, @b.test ,: bob@y.test>"), 0, 1, {
	    { "Bob", "bob", "y.test", NULL, OTHER } } },
	{ "route without comma", IN("<@a.test@b.test:x@y.test>"), EINVAL, 0,
	    { { 0 } } },
	{ "route without colon", IN("<@a.test x@y.test>"), EINVAL, 0,
	    { { 0 } } },
	/* empty elements, empty input */
	{ "empty element", IN("a@b.test,,c@d.test"), 0, 2, {
	    { NULL, "a", "b.test", NULL, OTHER },
	    { NULL, "c", "d.test", NULL, OTHER } } },
	{ "only commas", IN(" , ,"), 0, 0, { { 0 } } },
	{ "empty value", IN(""), 0, 0, { { 0 } } },
	{ "only a comment", IN("(nobody)"), 0, 0, { { 0 } } },
	/* no domain */
	{ "bare local", IN("root"), 0, 1, {
	    { NULL, "root", NULL, NULL, NONE } } },
	{ "bare local, comment name", IN("root (Charlie Root)"), 0, 1, {
	    { "Charlie Root", "root", NULL, NULL, NONE } } },
	{ "angle local", IN("<root>, x@y.test"), 0, 2, {
	    { NULL, "root", NULL, NULL, NONE },
	    { NULL, "x", "y.test", NULL, OTHER } } },
	/* names from comments (only when there is no phrase) */
	{ "comment name", IN("a@b.test (Alice)"), 0, 1, {
	    { "Alice", "a", "b.test", NULL, OTHER } } },
	{ "comment name nested, escaped, squeezed",
	    IN("a@b.test( Alice  (the\tfirst)  \\) x )(second)"), 0, 1, {
	    { "Alice (the first) ) x", "a", "b.test", NULL, OTHER } } },
	{ "comment name after angle", IN("<a@b.test> (Alice), c@d.test"),
	    0, 2, {
	    { "Alice", "a", "b.test", NULL, OTHER },
	    { NULL, "c", "d.test", NULL, OTHER } } },
	{ "phrase beats comment", IN("Bob <a@b.test> (Alice)"), 0, 1, {
	    { "Bob", "a", "b.test", NULL, OTHER } } },
	{ "empty comment is no name", IN("a@b.test ( )"), 0, 1, {
	    { NULL, "a", "b.test", NULL, OTHER } } },
	{ "comment inside angle is no name", IN("<a@b.test (host)>"), 0, 1, {
	    { NULL, "a", "b.test", NULL, OTHER } } },
	{ "empty quoted phrase", IN("\"\" <a@b.test>"), 0, 1, {
	    { NULL, "a", "b.test", NULL, OTHER } } },
	{ "phrase of quoted words", IN("\"Joe\"(x)\"Q\" <a@b.test>"), 0, 1, {
	    { "Joe Q", "a", "b.test", NULL, OTHER } } },
	/* 8-bit */
	{ "8-bit phrase", IN("J\xc3\xb6rg M\xc3\xbcller <joerg@example.de>"),
	    0, 1, {
	    { "J\xc3\xb6rg M\xc3\xbcller", "joerg", "example.de", NULL,
	    OTHER } } },
	{ "8-bit quoted phrase", IN("\"Zo\xc3\xab\" <zoe@example.org>"),
	    0, 1, {
	    { "Zo\xc3\xab", "zoe", "example.org", NULL, OTHER } } },
	{ "encoded word kept", IN("=?UTF-8?Q?J=C3=B6rg?= <j@example.de>"),
	    0, 1, {
	    { "=?UTF-8?Q?J=C3=B6rg?=", "j", "example.de", NULL, OTHER } } },
	{ "RFC 6532 address",
	    IN("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9"
	    "\xbf\xe5\x91\x8a"), 0, 1, {
	    { NULL, "\xe7\x94\xa8\xe6\x88\xb7",
	    "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", NULL,
	    NONE } } },
	/* kinds through the parser */
	{ "kinds",
	    IN("bob@TheBuilder.i2p, x@" B52 ".b32.i2p, Onion "
	    "<u@fp." ON3 ".onion>, y@" ON3X ".onion, z@bad_label.test"),
	    0, 5, {
	    { NULL, "bob", "thebuilder.i2p", NULL, I2P },
	    { NULL, "x", B52 ".b32.i2p", NULL, B32 },
	    { "Onion", "u", "fp." ON3 ".onion", NULL, ONION },
	    { NULL, "y", ON3X ".onion", NULL, NONE },
	    { NULL, "z", "bad_label.test", NULL, NONE } } },
	/* groups */
	{ "group then mailbox", IN("g: a@b.test; , c@d.test"), 0, 2, {
	    { NULL, "a", "b.test", "g", OTHER },
	    { NULL, "c", "d.test", NULL, OTHER } } },
	{ "quoted group name", IN("\"My \\\"Friends\\\"\": a@b.test;"), 0, 1, {
	    { NULL, "a", "b.test", "My \"Friends\"", OTHER } } },
	{ "group with empties", IN("g:,a@b.test,,;"), 0, 1, {
	    { NULL, "a", "b.test", "g", OTHER } } },
	{ "group left open", IN("undisclosed-recipients:"), 0, 0, { { 0 } } },
	{ "group left open with member", IN("g: a@b.test"), 0, 1, {
	    { NULL, "a", "b.test", "g", OTHER } } },
	{ "two groups", IN("g:a@b.test;,h:c@d.test;"), 0, 2, {
	    { NULL, "a", "b.test", "g", OTHER },
	    { NULL, "c", "d.test", "h", OTHER } } },
	{ "nested group", IN("a: b: c@d.test;;"), EINVAL, 0, { { 0 } } },
	{ "semicolon outside group", IN("a@b.test;"), EINVAL, 0, { { 0 } } },
	{ "no comma after group", IN("g:a@b.test; c@d.test"), EINVAL, 0,
	    { { 0 } } },
	{ "group without name", IN(":a@b.test;"), EINVAL, 0, { { 0 } } },
	/* syntax errors */
	{ "phrase without address", IN("John Smith"), EINVAL, 0, { { 0 } } },
	{ "missing comma", IN("a@b.test c@d.test"), EINVAL, 0, { { 0 } } },
	{ "empty angle", IN("<>"), EINVAL, 0, { { 0 } } },
	{ "double dot local", IN("a..b@c.test"), EINVAL, 0, { { 0 } } },
	{ "leading dot local", IN(".a@c.test"), EINVAL, 0, { { 0 } } },
	{ "trailing dot local", IN("a.@c.test"), EINVAL, 0, { { 0 } } },
	{ "double dot domain", IN("a@b..c"), EINVAL, 0, { { 0 } } },
	{ "trailing dot domain", IN("a@b.test."), EINVAL, 0, { { 0 } } },
	{ "empty domain", IN("a@"), EINVAL, 0, { { 0 } } },
	{ "empty local", IN("@b.test"), EINVAL, 0, { { 0 } } },
	{ "quoted domain", IN("a@\"b\""), EINVAL, 0, { { 0 } } },
	{ "literal then dot", IN("a@[1.2.3.4].x"), EINVAL, 0, { { 0 } } },
	{ "unquoted @ in phrase", IN("a@b <c@d.test>"), EINVAL, 0, { { 0 } } },
	{ "control in atom", IN("a\x01@b.test"), EINVAL, 0, { { 0 } } },
	{ "DEL in atom", IN("a\x7f@b.test"), EINVAL, 0, { { 0 } } },
	{ "backslash outside quotes", IN("a\\b@c.test"), EINVAL, 0,
	    { { 0 } } },
	/* unbalanced */
	{ "unbalanced quote", IN("\"abc@d.test"), EINVAL, 0, { { 0 } } },
	{ "unbalanced quote, escaped close", IN("\"abc\\\"@d.test"), EINVAL, 0,
	    { { 0 } } },
	{ "backslash at end", IN("\"a\\"), EINVAL, 0, { { 0 } } },
	{ "unbalanced (", IN("a@b.test (x"), EINVAL, 0, { { 0 } } },
	{ "unbalanced nested (", IN("a@b.test (x (y)"), EINVAL, 0, { { 0 } } },
	{ "escaped )", IN("a@b.test (x\\)"), EINVAL, 0, { { 0 } } },
	{ "stray )", IN("a@b.test)"), EINVAL, 0, { { 0 } } },
	{ "unbalanced <", IN("Bob <a@b.test"), EINVAL, 0, { { 0 } } },
	{ "stray >", IN("a@b.test>"), EINVAL, 0, { { 0 } } },
	{ "double <", IN("<<a@b.test>>"), EINVAL, 0, { { 0 } } },
	{ "unbalanced [", IN("a@[1.2.3.4"), EINVAL, 0, { { 0 } } },
	{ "[ inside literal", IN("a@[1[2]"), EINVAL, 0, { { 0 } } },
	{ "stray ]", IN("a@b]"), EINVAL, 0, { { 0 } } },
	/* NUL */
	{ "NUL in atom", IN("a\0b@c.test"), EINVAL, 0, { { 0 } } },
	{ "NUL in quoted", IN("\"a\0\"@c.test"), EINVAL, 0, { { 0 } } },
	{ "NUL escaped", IN("\"a\\\0\"@c.test"), EINVAL, 0, { { 0 } } },
	{ "NUL in comment", IN("a@c.test (\0)"), EINVAL, 0, { { 0 } } },
	{ "NUL in literal", IN("a@[\0]"), EINVAL, 0, { { 0 } } },
	{ "NUL at end", IN("a@c.test\0"), EINVAL, 0, { { 0 } } },
	/* white space */
	{ "CR LF and tab as space", IN("a@b.test\r\n,\tc@d.test\n"), 0, 2, {
	    { NULL, "a", "b.test", NULL, OTHER },
	    { NULL, "c", "d.test", NULL, OTHER } } },
};

static const struct {
	const char *dom;
	enum nym_domkind kind;
} kinds[] = {
	{ B52 ".b32.i2p", B32 },
	{ B56 ".b32.i2p", B32 },
	{ B64 ".b32.i2p", B32 },
	{ B52 "u.b32.i2p", NONE },		/* 53 */
	{ B56 "y" ".b32.i2p", B32 },		/* 57 */
	{ "abcdefghijklmnopqrstuvwxyz234567"
	    "abcdefghijklmnopqrs.b32.i2p", NONE },	/* 51 */
	{ B52 "uvw.b32.i2p", NONE },		/* 55 */
	{ B64 "a.b32.i2p", NONE },		/* 65 */
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	    "ABCDEFGHIJKLMNOPQRST.B32.I2P", B32 },
	{ B52 ".b32.i2p.", B32 },
	{ "1bcdefghijklmnopqrstuvwxyz234567"
	    "abcdefghijklmnopqrst.b32.i2p", NONE },
	{ "x." B52 ".b32.i2p", NONE },
	{ "b32.i2p", NONE },
	{ "foo.i2p", I2P },
	{ "mail.i2p", I2P },
	{ "smtp.postman.I2P", I2P },
	{ "i2p", NONE },
	{ "foo_bar.i2p", NONE },
	{ ON3 ".onion", ONION },
	{ "fingerprint." ON3 ".onion", ONION },
	{ ON3 ".ONION.", ONION },
	{ "a.b." ON3 ".onion", NONE },
	{ ON3X ".onion", NONE },
	{ "expyuzz4wqqyqhjn.onion", NONE },	/* v2 */
	{ "bad_fp." ON3 ".onion", NONE },
	{ ON3 "a.onion", NONE },
	{ "onion", NONE },
	{ "example.com", OTHER },
	{ "EXAMPLE.com.", OTHER },
	{ "example.com..", NONE },
	{ "localhost", OTHER },
	{ "onion.example.com", OTHER },
	{ "xn--bcher-kva.example", OTHER },
	{ L63 ".example", OTHER },
	{ L63 "l.example", NONE },		/* 64 */
	{ "a..example", NONE },
	{ ".example", NONE },
	{ "-a.example", NONE },
	{ "a-.example", NONE },
	{ "under_score.example", NONE },
	{ "sp ace.example", NONE },
	{ "\xc3\xa9t\xc3\xa9.example", NONE },
	{ ".", NONE },
	{ "", NONE },
	{ NULL, NONE },
	{ "[127.0.0.1]", OTHER },
	{ "[ipv6:2001:db8::1]", OTHER },
	{ "[]", NONE },
	{ "[1.2.3.4", NONE },
	{ "[1.2.3.4].", NONE },
	{ "[1 2]", NONE },
};

/* Parse n bytes from a copy of exactly that size (ASan sees overreads). */
static int
parse(const char *s, size_t n, struct nym_addrlist *l)
{
	char *c;
	int r, e;

	if ((c = malloc(n > 0 ? n : 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(c, s, n);
	r = nym_addr_parse(c, n, l);
	e = errno;
	free(c);
	errno = e;
	return r;
}

static int
iszero(const struct nym_addrlist *l)
{
	return l->a == NULL && l->n == 0 && l->store == NULL;
}

static void
run_row(const struct row *t)
{
	struct nym_addrlist l;
	char what[256];
	size_t i;
	int r;

	r = parse(t->in, t->len, &l);
	if (t->err != 0) {
		snprintf(what, sizeof(what), "%s: fails", t->what);
		check_int(r, -1, what);
		snprintf(what, sizeof(what), "%s: errno", t->what);
		check_int(errno, t->err, what);
		snprintf(what, sizeof(what), "%s: list left zeroed", t->what);
		check(iszero(&l), what);
		nym_addrlist_free(&l);
		return;
	}
	snprintf(what, sizeof(what), "%s: parses", t->what);
	check_int(r, 0, what);
	snprintf(what, sizeof(what), "%s: count", t->what);
	check_int(l.n, t->n, what);
	for (i = 0; r == 0 && i < t->n && i < l.n; i++) {
		const struct exp *e = &t->a[i];
		const struct nym_addr *a = &l.a[i];

		snprintf(what, sizeof(what), "%s: [%zu] name", t->what, i);
		check_str(a->name, e->name, what);
		snprintf(what, sizeof(what), "%s: [%zu] local", t->what, i);
		check_str(a->local, e->local, what);
		snprintf(what, sizeof(what), "%s: [%zu] domain", t->what, i);
		check_str(a->domain, e->domain, what);
		snprintf(what, sizeof(what), "%s: [%zu] group", t->what, i);
		check_str(a->group, e->group, what);
		snprintf(what, sizeof(what), "%s: [%zu] kind", t->what, i);
		check_int(a->kind, e->kind, what);
	}
	nym_addrlist_free(&l);
	snprintf(what, sizeof(what), "%s: freed list is zeroed", t->what);
	check(iszero(&l), what);
}

/* Every prefix of every row: a clean parse or EINVAL, nothing else. */
static void
prefixes(void)
{
	struct nym_addrlist l;
	size_t i, k, bad = 0;
	int r;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (k = 0; k <= rows[i].len; k++) {
			r = parse(rows[i].in, k, &l);
			if ((r == -1 && (errno != EINVAL || !iszero(&l))) ||
			    (r == 0 && l.n > 0 && l.store == NULL))
				bad++;
			nym_addrlist_free(&l);
		}
	check_int(bad, 0, "every prefix of every row parses or is EINVAL");
}

/* Random strings over the bytes the grammar cares about. */
static void
fuzz(void)
{
	static const char alpha[] = "ab.@<>:;,()\"\\[] \t\r\n\0\x01\xc3";
	struct nym_addrlist l;
	unsigned long seed = 12345;
	char buf[96];
	size_t i, j, k, bad = 0, ok = 0;

	for (i = 0; i < 20000; i++) {
		size_t n;
		int r;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		n = (seed >> 33) % sizeof(buf);
		for (j = 0; j < n; j++) {
			seed = seed * 6364136223846793005UL +
			    1442695040888963407UL;
			buf[j] = alpha[(seed >> 33) % (sizeof(alpha) - 1)];
		}
		r = parse(buf, n, &l);
		if (r == 0) {
			ok++;
			for (k = 0; k < l.n; k++)
				if (l.a[k].local == NULL)
					bad++;
		} else if (errno != EINVAL || !iszero(&l))
			bad++;
		nym_addrlist_free(&l);
	}
	check_int(bad, 0, "20000 random strings: parse or EINVAL");
	check(ok > 0, "some random strings parse");
}

static char *
repeat(const char *unit, size_t times, const char *tail, size_t *len)
{
	size_t u = strlen(unit), t = strlen(tail), i;
	char *s;

	if ((s = malloc(u * times + t + 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < times; i++)
		memcpy(s + i * u, unit, u);
	memcpy(s + u * times, tail, t + 1);
	*len = u * times + t;
	return s;
}

static void
big(void)
{
	struct nym_addrlist l;
	char *s, *p;
	size_t n, i;
	int r;

	s = repeat("(", 200 * 1024, "", &n);
	r = parse(s, n, &l);
	check(r == -1 && errno == EINVAL, "200 KB of ( is EINVAL");
	free(s);

	s = repeat("<", 200 * 1024, "", &n);
	r = parse(s, n, &l);
	check(r == -1 && errno == EINVAL, "200 KB of < is EINVAL");
	free(s);

	s = repeat("\"", 200 * 1024 + 1, "", &n);
	r = parse(s, n, &l);
	check(r == -1 && errno == EINVAL, "200 KB of \" (odd) is EINVAL");
	free(s);

	s = repeat("a ", 100 * 1024, "", &n);
	r = parse(s, n, &l);
	check(r == -1 && errno == EINVAL,
	    "100k words and no address is EINVAL");
	free(s);

	/* deep but balanced: a counter, not recursion */
	if ((s = malloc(200 * 1024 + 16)) == NULL)
		exit(2);
	memset(s, '(', 100 * 1024);
	memset(s + 100 * 1024, ')', 100 * 1024);
	memcpy(s + 200 * 1024, "a@b.test", 8);
	r = parse(s, 200 * 1024 + 8, &l);
	check(r == 0 && l.n == 1, "100k nested comments then an address");
	nym_addrlist_free(&l);
	free(s);

	/* 10,000 addresses in about 200 KB */
	if ((s = malloc(10000 * 24 + 1)) == NULL)
		exit(2);
	for (p = s, i = 0; i < 10000; i++)
		p += snprintf(p, 25, "%su%05zu@example.test",
		    i > 0 ? ", " : "", i);
	r = parse(s, (size_t)(p - s), &l);
	check(r == 0, "10000 addresses parse");
	check_int(l.n, 10000, "10000 addresses counted");
	if (r == 0 && l.n == 10000) {
		check_str(l.a[9999].local, "u09999", "last address local");
		check_str(l.a[9999].domain, "example.test",
		    "last address domain");
	}
	nym_addrlist_free(&l);
	free(s);

	/* the densest outputs: bare locals and comment names */
	s = repeat("a,", 100 * 1024, "a", &n);
	r = parse(s, n, &l);
	check(r == 0 && l.n == 100 * 1024 + 1, "100k bare locals");
	nym_addrlist_free(&l);
	free(s);
	s = repeat("a(b),", 40 * 1024, "<a>(b)", &n);
	r = parse(s, n, &l);
	check(r == 0 && l.n == 40 * 1024 + 1 && l.a[0].name != NULL &&
	    strcmp(l.a[0].name, "b") == 0, "40k comment-named bare locals");
	nym_addrlist_free(&l);
	free(s);
	s = repeat("a@b,", 60 * 1024, "\"\"@b(c)", &n);
	r = parse(s, n, &l);
	check(r == 0 && l.n == 60 * 1024 + 1, "60k short addresses");
	nym_addrlist_free(&l);
	free(s);

	/* one 256 KiB local part */
	s = repeat("x", NYM_FIELD_MAX - 9, "@b.test", &n);
	r = parse(s, n, &l);
	check(r == 0 && l.n == 1 && strlen(l.a[0].local) == NYM_FIELD_MAX - 9,
	    "256 KiB local part");
	nym_addrlist_free(&l);
	free(s);
}

int
main(void)
{
	struct nym_addrlist l;
	char what[256];
	size_t i;

	check_int(strlen(B52), 52, "B52 is 52 characters");
	check_int(strlen(ON3), 56, "ON3 is 56 characters");
	check_int(strlen(L63), 63, "L63 is 63 characters");

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(what, sizeof(what), "nym_domkind(%.80s)",
		    kinds[i].dom != NULL ? kinds[i].dom : "NULL");
		check_int(nym_domkind(kinds[i].dom), kinds[i].kind, what);
	}

	memset(&l, 0, sizeof(l));
	nym_addrlist_free(&l);
	check(iszero(&l), "free of a zeroed list");
	check(nym_addr_parse(NULL, 0, &l) == 0 && l.n == 0,
	    "NULL with length 0 is an empty list");
	nym_addrlist_free(&l);
	check(nym_addr_parse(NULL, 1, &l) == -1 && errno == EINVAL,
	    "NULL with a length is EINVAL");

	prefixes();
	fuzz();
	big();
	return tap_done();
}
