/*
 * mime.c - unit tests for RFC 2047 encoded words and for Content-Type and
 * Content-Disposition parsing with RFC 2231: samples written by real
 * clients, the RFC examples, and hostile input (run under ASan; a
 * quadratic path would show as a timeout).
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "tap.h"

#define BIG	(200 * 1024)

static const struct {
	const char *in;
	size_t inlen;		/* 0: strlen */
	const char *out;	/* NULL: -1 E2BIG */
	size_t outlen;		/* 0: strlen */
	const char *charset;
	size_t cap;		/* 0: 256 */
} words[] = {
	{ "plain text", 0, "plain text", 0, "", 0 },
	{ "", 0, "", 0, "", 0 },
	{ "=?iso-8859-1?q?caf=E9?=", 0, "caf\xe9", 0, "iso-8859-1", 0 },
	{ "=?ISO-8859-1?Q?caf=e9?=", 0, "caf\xe9", 0, "iso-8859-1", 0 },
	{ "=?UTF-8?B?Y2Fmw6k=?=", 0, "caf\xc3\xa9", 0, "utf-8", 0 },
	{ "=?utf-8?b?Y2Fmw6k?=", 0, "caf\xc3\xa9", 0, "utf-8", 0 },
	{ "=?koi8-r?B?8NLJ18XU?=", 0, "\xf0\xd2\xc9\xd7\xc5\xd4", 0, "koi8-r",
	    0 },
	{ "=?utf-8?q?hello_world?=", 0, "hello world", 0, "utf-8", 0 },
	{ "=?utf-8?q?a=5Fb?=", 0, "a_b", 0, "utf-8", 0 },
	{ "=?utf-8*en?q?hi?=", 0, "hi", 0, "utf-8", 0 },
	{ "=?UTF-8*EN-us?B?aGk=?=", 0, "hi", 0, "utf-8", 0 },
	/* white space between adjacent words goes, other white space stays */
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", 0, "ab", 0, "utf-8", 0 },
	{ "=?utf-8?q?a?=\r\n\t =?utf-8?b?Yg==?=", 0, "ab", 0, "utf-8", 0 },
	{ "=?utf-8?q?a?==?utf-8?q?b?=", 0, "ab", 0, "utf-8", 0 },
	{ "=?utf-8?q?a?= b", 0, "a b", 0, "utf-8", 0 },
	{ "=?utf-8?q?a?= x =?utf-8?q?b?=", 0, "a x b", 0, "utf-8", 0 },
	{ "Re: =?utf-8?q?caf=C3=A9?= ok", 0, "Re: caf\xc3\xa9 ok", 0, "utf-8",
	    0 },
	{ "=?iso-8859-1?q?a?= =?utf-8?q?b?=", 0, "ab", 0, "iso-8859-1", 0 },
	{ "foo=?utf-8?q?bar?=baz", 0, "foobarbaz", 0, "utf-8", 0 },
	/* broken words are kept */
	{ "=?utf-8?b?!!!?=", 0, "=?utf-8?b?!!!?=", 0, "", 0 },
	{ "=?utf-8?q?abc", 0, "=?utf-8?q?abc", 0, "", 0 },
	{ "=?utf-8?x?abc?=", 0, "=?utf-8?x?abc?=", 0, "", 0 },
	{ "=??q?abc?=", 0, "=??q?abc?=", 0, "", 0 },
	{ "=?utf-8?q?a b?=", 0, "=?utf-8?q?a b?=", 0, "", 0 },
	{ "=?utf-8?qq?ab?=", 0, "=?utf-8?qq?ab?=", 0, "", 0 },
	{ "=?utf 8?q?ab?=", 0, "=?utf 8?q?ab?=", 0, "", 0 },
	{ "=?x234567890123456789012345678901234567890123456789012345678901234"
	    "?q?a?=", 0, "=?x234567890123456789012345678901234567890123456789"
	    "012345678901234?q?a?=", 0, "", 0 },
	{ "=?x23456789012345678901234567890123456789012345678901234567890123"
	    "?q?a?=", 0, "a", 0, "x2345678901234567890123456789012345678901234"
	    "5678901234567890123", 0 },
	{ "=?utf-8?q?abc =?utf-8?q?d?=", 0, "=?utf-8?q?abc d", 0, "utf-8", 0 },
	{ "=?utf-8?q?a?= =?bad", 0, "a =?bad", 0, "utf-8", 0 },
	{ "=?utf-8?q?a=ZZ=4?=", 0, "a=ZZ=4", 0, "utf-8", 0 },
	{ "=?", 0, "=?", 0, "", 0 },
	{ "?= =? =?utf-8?", 0, "?= =? =?utf-8?", 0, "", 0 },
	{ "a\0=?utf-8?q?b?=", 15, "a\0b", 3, "utf-8", 0 },
	{ "=?utf-8?q?=00?=", 0, "\0", 1, "utf-8", 0 },
	/* the size limit */
	{ "=?utf-8?q?hello?=", 0, "hello", 0, "utf-8", 6 },
	{ "=?utf-8?q?hello?=", 0, NULL, 0, "utf-8", 5 },
	{ "=?utf-8?b?aGVsbG8=?=", 0, "hello", 0, "utf-8", 6 },
	{ "=?utf-8?b?aGVsbG8=?=", 0, NULL, 0, "utf-8", 5 },
	{ "hello", 0, "hello", 0, "", 6 },
	{ "hello", 0, NULL, 0, "", 5 },
	{ "", 0, "", 0, "", 1 }
};

struct pexp {
	const char *name, *value, *charset;
	int ext, w2047;
};

#define NONE	{ { NULL, NULL, NULL, 0, 0 } }

static const struct {
	const char *s;
	size_t len;		/* 0: strlen */
	const char *type;	/* NULL: -1 EINVAL */
	size_t np;
	struct pexp p[4];
} mrows[] = {
	{ "text/plain", 0, "text/plain", 0, NONE },
	{ "TEXT/Plain; CharSet=\"UTF-8\"", 0, "text/plain", 1,
	    { { "charset", "UTF-8", NULL, 0, 0 } } },
	{ "text/plain; charset=us-ascii (Plain Text)", 0, "text/plain", 1,
	    { { "charset", "us-ascii", NULL, 0, 0 } } },
	{ "(a) text (b) / (c) plain (d) ; (e) charset (f) = (g) utf-8 (h)", 0,
	    "text/plain", 1, { { "charset", "utf-8", NULL, 0, 0 } } },
	{ "text/plain;\r\n\tformat=flowed; delsp=yes", 0, "text/plain", 2,
	    { { "format", "flowed", NULL, 0, 0 },
	      { "delsp", "yes", NULL, 0, 0 } } },
	{ "attachment", 0, "attachment", 0, NONE },
	{ "INLINE;", 0, "inline", 0, NONE },
	{ "text", 0, "text", 0, NONE },
	/* Thunderbird */
	{ "attachment; filename*0*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20"
	    "%D0%B7; filename*1*=%D0%B0%20%D0%BC%D0%B0%D0%B9.pdf", 0,
	    "attachment", 1,
	    { { "filename", "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82 \xd0\xb7"
	    "\xd0\xb0 \xd0\xbc\xd0\xb0\xd0\xb9.pdf", "utf-8", 1, 0 } } },
	{ "attachment; filename*1*=%D0%B0%20%D0%BC%D0%B0%D0%B9.pdf; "
	    "filename*0*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%D0%B7", 0,
	    "attachment", 1,
	    { { "filename", "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82 \xd0\xb7"
	    "\xd0\xb0 \xd0\xbc\xd0\xb0\xd0\xb9.pdf", "utf-8", 1, 0 } } },
	{ "application/pdf; name*=UTF-8''%C3%A9t%C3%A9.pdf", 0,
	    "application/pdf", 1,
	    { { "name", "\xc3\xa9t\xc3\xa9.pdf", "utf-8", 1, 0 } } },
	/* RFC 2231 examples */
	{ "message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n "
	    "URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"", 0,
	    "message/external-body", 2,
	    { { "access-type", "URL", NULL, 0, 0 },
	      { "url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar",
	      NULL, 1, 0 } } },
	{ "application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A"
	    "%2Afun%2A%2A%2A", 0, "application/x-stuff", 1,
	    { { "title", "This is ***fun***", "us-ascii", 1, 0 } } },
	{ "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more"
	    "%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"", 0,
	    "application/x-stuff", 1,
	    { { "title", "This is even more ***fun*** isn't it!", "us-ascii", 1,
	    0 } } },
	{ "attachment; filename*0*=utf-8''a%20b; filename*1=\"%20c d\"", 0,
	    "attachment", 1, { { "filename", "a b%20c d", "utf-8", 1, 0 } } },
	{ "attachment; filename=\"fallback.pdf\"; "
	    "filename*=UTF-8''%C3%A9t%C3%A9.pdf", 0, "attachment", 1,
	    { { "filename", "\xc3\xa9t\xc3\xa9.pdf", "utf-8", 1, 0 } } },
	{ "attachment; filename*=UTF-8''%C3%A9t%C3%A9.pdf; "
	    "filename=\"fallback.pdf\"", 0, "attachment", 1,
	    { { "filename", "\xc3\xa9t\xc3\xa9.pdf", "utf-8", 1, 0 } } },
	{ "attachment; name=\"plain\"; name*0=\"a\"; name*1=\"b\"", 0,
	    "attachment", 1, { { "name", "ab", NULL, 1, 0 } } },
	{ "x/y; t*=''abc; u*=abc%20d; v*=\"UTF-8''a%20b.txt\"", 0, "x/y", 3,
	    { { "t", "abc", NULL, 1, 0 }, { "u", "abc d", NULL, 1, 0 },
	      { "v", "a b.txt", "utf-8", 1, 0 } } },
	{ "x/y; t*=utf-8''100%; u*=utf-8''%zz%4", 0, "x/y", 2,
	    { { "t", "100%", "utf-8", 1, 0 }, { "u", "%zz%4", "utf-8", 1, 0 } } },
	{ "x/y; n*0=a; n*2=c; m*0=a; m*0=b; m*1=c", 0, "x/y", 2,
	    { { "n", "ac", NULL, 1, 0 }, { "m", "ac", NULL, 1, 0 } } },
	/* Outlook, Gmail: RFC 2047 inside a parameter */
	{ "attachment; filename=\"=?UTF-8?B?0J7RgtGH0ZHRgi5wZGY=?=\"", 0,
	    "attachment", 1,
	    { { "filename", "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf",
	    "utf-8", 0, 1 } } },
	{ "application/octet-stream;\r\n\tname=\"=?iso-8859-1?Q?caf=E9?= "
	    "=?iso-8859-1?Q?.txt?=\"", 0, "application/octet-stream", 1,
	    { { "name", "caf\xe9.txt", "iso-8859-1", 0, 1 } } },
	{ "attachment; filename==?utf-8?q?a_b.txt?=", 0, "attachment", 1,
	    { { "filename", "a b.txt", "utf-8", 0, 1 } } },
	{ "attachment; filename=\"=?utf-8?q?broken\"", 0, "attachment", 1,
	    { { "filename", "=?utf-8?q?broken", NULL, 0, 0 } } },
	/* Apple Mail, mutt, Windows, creation-date */
	{ "application/pdf;\r\n\tx-unix-mode=0644;\r\n\tname=\"a b.pdf\"", 0,
	    "application/pdf", 2,
	    { { "x-unix-mode", "0644", NULL, 0, 0 },
	      { "name", "a b.pdf", NULL, 0, 0 } } },
	{ "inline;\r\n\tfilename=\"a b.pdf\"", 0, "inline", 1,
	    { { "filename", "a b.pdf", NULL, 0, 0 } } },
	{ "attachment; filename=\"/home/alice/x.pdf\"", 0, "attachment", 1,
	    { { "filename", "/home/alice/x.pdf", NULL, 0, 0 } } },
	{ "attachment; filename=\"C:\\Users\\alice\\x.pdf\"", 0, "attachment",
	    1, { { "filename", "C:\\Users\\alice\\x.pdf", NULL, 0, 0 } } },
	{ "attachment; filename=\"C:\\\\Users\\\\alice\\\\x.pdf\"", 0,
	    "attachment", 1,
	    { { "filename", "C:\\Users\\alice\\x.pdf", NULL, 0, 0 } } },
	{ "attachment; filename=\"say \\\"hi\\\".txt\"", 0, "attachment", 1,
	    { { "filename", "say \"hi\".txt", NULL, 0, 0 } } },
	{ "attachment; filename=\"x.pdf\"; size=1234;\r\n "
	    "creation-date=\"Mon, 1 Jan 2024 10:00:00 +0100\";\r\n "
	    "modification-date=\"Mon, 1 Jan 2024 10:00:00 +0100\"", 0,
	    "attachment", 4,
	    { { "filename", "x.pdf", NULL, 0, 0 }, { "size", "1234", NULL, 0, 0 },
	      { "creation-date", "Mon, 1 Jan 2024 10:00:00 +0100", NULL, 0, 0 },
	      { "modification-date", "Mon, 1 Jan 2024 10:00:00 +0100", NULL, 0,
	      0 } } },
	{ "multipart/mixed; boundary=\"----=_Part_123_456.789\"", 0,
	    "multipart/mixed", 1,
	    { { "boundary", "----=_Part_123_456.789", NULL, 0, 0 } } },
	{ "multipart/alternative; boundary=----=_NextPart_000_0012_01D9", 0,
	    "multipart/alternative", 1,
	    { { "boundary", "----=_NextPart_000_0012_01D9", NULL, 0, 0 } } },
	/* lenient */
	{ "attachment; filename=my file name.pdf; size=3", 0, "attachment", 2,
	    { { "filename", "my file name.pdf", NULL, 0, 0 },
	      { "size", "3", NULL, 0, 0 } } },
	{ "attachment; filename=a(1).pdf ", 0, "attachment", 1,
	    { { "filename", "a(1).pdf", NULL, 0, 0 } } },
	{ "text/plain; name=a/b=c.txt", 0, "text/plain", 1,
	    { { "name", "a/b=c.txt", NULL, 0, 0 } } },
	{ "text/plain; charset=utf-8; Charset=iso-8859-1", 0, "text/plain", 1,
	    { { "charset", "utf-8", NULL, 0, 0 } } },
	{ "text/plain; ; ;charset=x;;", 0, "text/plain", 1,
	    { { "charset", "x", NULL, 0, 0 } } },
	{ "text/plain; foo; =x; \"q\"=1; bar=1", 0, "text/plain", 1,
	    { { "bar", "1", NULL, 0, 0 } } },
	{ "text/plain charset=utf-8", 0, "text/plain", 1,
	    { { "charset", "utf-8", NULL, 0, 0 } } },
	{ "text/plain; name=\"a\" junk; x=1", 0, "text/plain", 2,
	    { { "name", "a", NULL, 0, 0 }, { "x", "1", NULL, 0, 0 } } },
	{ "text/plain; a=; b=\"\"", 0, "text/plain", 2,
	    { { "a", "", NULL, 0, 0 }, { "b", "", NULL, 0, 0 } } },
	/* hostile */
	{ "text/plain; name=\"abc; x=1", 0, "text/plain", 1,
	    { { "name", "abc; x=1", NULL, 0, 0 } } },
	{ "text/plain; name=\"abc\\", 0, "text/plain", 1,
	    { { "name", "abc\\", NULL, 0, 0 } } },
	{ "text/plain (comment; charset=x", 0, "text/plain", 0, NONE },
	{ "text/plain; charset=x (a (b) ; y=1", 0, "text/plain", 1,
	    { { "charset", "x", NULL, 0, 0 } } },
	{ "text/plain; name=\"a\0b\"; x=1", 27, "text/plain", 2,
	    { { "name", "a", NULL, 0, 0 }, { "x", "1", NULL, 0, 0 } } },
	{ "text/pl\0ain", 11, "text/pl", 0, NONE },
	{ "text/plain; name*100=x", 0, NULL, 0, NONE },
	{ "text/plain; name*0001=x", 0, NULL, 0, NONE },
	{ "", 0, NULL, 0, NONE },
	{ "   (comment) ", 0, NULL, 0, NONE },
	{ ";;;text/plain", 0, NULL, 0, NONE },
	{ "\"text/plain\"", 0, NULL, 0, NONE },
	{ "/plain", 0, NULL, 0, NONE },
	{ "text/", 0, NULL, 0, NONE },
	{ "text/ ; charset=x", 0, NULL, 0, NONE },
	{ "\0text/plain", 11, NULL, 0, NONE }
};

/* A test name: prefix, then up to 50 bytes of s with control characters
 * shown as "\\xNN". */
static void
name(char *what, size_t cap, const char *prefix, const char *s, size_t len)
{
	size_t i, o;

	o = (size_t)snprintf(what, cap, "%s \"", prefix);
	for (i = 0; i < len && i < 50 && o + 8 < cap; i++) {
		if ((unsigned char)s[i] < 0x20)
			o += (size_t)snprintf(what + o, cap - o, "\\x%02x",
			    (unsigned char)s[i]);
		else
			what[o++] = s[i];
	}
	snprintf(what + o, cap - o, "\"");
}

static void
test_words(void)
{
	char out[256], what[320];
	const char *cs;
	size_t i, inlen, outlen, cap;
	ssize_t r;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		inlen = words[i].inlen != 0 ? words[i].inlen :
		    strlen(words[i].in);
		cap = words[i].cap != 0 ? words[i].cap : sizeof(out);
		name(what, sizeof(what), "2047", words[i].in, inlen);
		memset(out, 'x', sizeof(out));
		cs = NULL;
		errno = 0;
		r = nym_rfc2047_decode(words[i].in, inlen, out, cap, &cs);
		if (words[i].out == NULL) {
			check(r == -1 && errno == E2BIG && out[cap] == 'x', what);
			continue;
		}
		outlen = words[i].outlen != 0 ? words[i].outlen :
		    strlen(words[i].out);
		check(r == (ssize_t)outlen &&
		    memcmp(out, words[i].out, outlen) == 0 &&
		    out[outlen] == '\0', what);
		if (r != (ssize_t)outlen)
			printf("#   got %zd \"%s\"\n", r, r >= 0 ? out : "");
		check_str(cs, words[i].charset, what);
	}

	errno = 0;
	check(nym_rfc2047_decode("a", 1, NULL, 0, NULL) == -1 &&
	    errno == E2BIG, "2047: cap 0 is E2BIG");
}

static void
test_hostile_words(void)
{
	static const char *pat[] = { "=?", "=?a?q?", "=?a?b?", "=?a?q?x", " " };
	char *in, *out;
	size_t i, k, plen;
	ssize_t r;

	in = malloc(BIG);
	out = malloc(BIG + 1);
	if (in == NULL || out == NULL)
		abort();
	for (k = 0; k < sizeof(pat) / sizeof(pat[0]); k++) {
		plen = strlen(pat[k]);
		for (i = 0; i < BIG; i++)
			in[i] = pat[k][i % plen];
		r = nym_rfc2047_decode(in, BIG, out, BIG + 1, NULL);
		check(r == BIG && memcmp(in, out, BIG) == 0,
		    "2047: 200 KB of a broken pattern is copied");
	}
	for (i = 0; i + 17 <= BIG; i += 17)
		memcpy(in + i, "=?u?q?a?=        " , 17);
	r = nym_rfc2047_decode(in, i, out, BIG + 1, NULL);
	check(r == (ssize_t)(i / 17 + 8), "2047: 12000 adjacent words");
	free(in);
	free(out);
}

static void
check_mime(size_t row)
{
	struct nym_mimetype m;
	const struct nym_param *p;
	char what[320];
	size_t k, len;
	int r;

	len = mrows[row].len != 0 ? mrows[row].len : strlen(mrows[row].s);
	name(what, sizeof(what), "mime", mrows[row].s, len);
	memset(&m, 0xa5, sizeof(m));
	errno = 0;
	r = nym_mime_parse(mrows[row].s, len, &m);
	if (mrows[row].type == NULL) {
		check(r == -1 && errno == EINVAL && m.store == NULL &&
		    m.p == NULL && m.np == 0, what);
		return;
	}
	if (r != 0) {
		check(0, what);
		printf("#   failed: %s\n", strerror(errno));
		return;
	}
	check_str(m.type, mrows[row].type, what);
	check_int(m.np, mrows[row].np, what);
	for (k = 0; k < 4 && mrows[row].p[k].name != NULL; k++) {
		const struct pexp *e = &mrows[row].p[k];

		p = nym_mime_param(&m, e->name);
		if (p == NULL) {
			check(0, e->name);
			continue;
		}
		check(k < m.np && p == &m.p[k], "parameters in input order");
		check_str(p->value, e->value, e->name);
		check_str(p->charset, e->charset, e->name);
		check(p->ext == e->ext && p->w2047 == e->w2047, e->name);
	}
	nym_mime_free(&m);
	check(m.store == NULL && m.p == NULL, "nym_mime_free clears");
}

static void
test_mime(void)
{
	struct nym_mimetype m;
	size_t i;

	for (i = 0; i < sizeof(mrows) / sizeof(mrows[0]); i++)
		check_mime(i);

	if (nym_mime_parse("text/plain; Charset=x", 21, &m) != 0)
		abort();
	check(nym_mime_param(&m, "CHARSET") != NULL,
	    "nym_mime_param ignores case");
	check(nym_mime_param(&m, "chars") == NULL &&
	    nym_mime_param(&m, "charsets") == NULL &&
	    nym_mime_param(&m, "") == NULL && nym_mime_param(&m, NULL) == NULL,
	    "nym_mime_param matches whole names only");
	nym_mime_free(&m);
	nym_mime_free(&m);
	memset(&m, 0, sizeof(m));
	nym_mime_free(&m);
	check(nym_mime_param(&m, "x") == NULL, "zeroed struct is safe");
}

/* Parse the n bytes at s; the value of name (or NULL) into *val. */
static int
parse_big(const char *s, size_t n, const char *name, size_t *vlen,
    size_t *np)
{
	struct nym_mimetype m;
	const struct nym_param *p;
	int r;

	*vlen = 0;
	*np = 0;
	if ((r = nym_mime_parse(s, n, &m)) == 0) {
		if ((p = nym_mime_param(&m, name)) != NULL)
			*vlen = strlen(p->value);
		*np = m.np;
	}
	nym_mime_free(&m);
	return r;
}

static void
test_limits(void)
{
	char *s;
	size_t i, n, vlen, np;
	int r, k;

	if ((s = malloc(BIG + 64)) == NULL)
		abort();

	for (k = 100; k <= 101; k++) {
		n = (size_t)snprintf(s, BIG, "text/plain");
		for (i = 0; i < (size_t)k; i++)
			n += (size_t)snprintf(s + n, BIG - n, "; n*%zu=\"x\"",
			    (size_t)k - 1 - i);
		errno = 0;
		r = parse_big(s, n, "n", &vlen, &np);
		if (k == 100)
			check(r == 0 && vlen == 100,
			    "100 sections, out of order, are joined");
		else
			check(r == -1 && errno == EINVAL, "101 sections: EINVAL");
	}
	for (k = 64; k <= 65; k++) {
		n = (size_t)snprintf(s, BIG, "text/plain");
		for (i = 0; i < (size_t)k; i++)
			n += (size_t)snprintf(s + n, BIG - n, "; p%zu=%zu", i, i);
		errno = 0;
		r = parse_big(s, n, "p63", &vlen, &np);
		if (k == 64)
			check(r == 0 && np == 64 && vlen == 2, "64 parameters");
		else
			check(r == -1 && errno == EINVAL, "65 parameters: EINVAL");
	}

	memcpy(s, "text/plain", 10);
	memset(s + 10, ';', BIG - 10);
	check(parse_big(s, BIG, "x", &vlen, &np) == 0 && np == 0,
	    "200 KB of ;;;; after a type");
	check(parse_big(s + 10, BIG - 10, "x", &vlen, &np) == -1,
	    "200 KB of ;;;; alone: EINVAL");

	memset(s + 10, '(', BIG - 10);
	check(parse_big(s, BIG, "x", &vlen, &np) == 0 && np == 0,
	    "200 KB of ((((");

	for (i = 10; i + 4 <= BIG; i += 4)
		memcpy(s + i, ";a=1", 4);
	check(parse_big(s, i, "a", &vlen, &np) == 0 && np == 1 && vlen == 1,
	    "50000 duplicate parameters");

	for (i = 10; i + 6 <= BIG; i += 6)
		memcpy(s + i, ";a*0=1", 6);
	check(parse_big(s, i, "a", &vlen, &np) == 0 && np == 1 && vlen == 1,
	    "33000 duplicate sections");

	n = (size_t)snprintf(s, BIG, "text/plain; name=\"");
	for (i = n; i < BIG; i++)
		s[i] = "=?a?q?"[i % 6];
	check(parse_big(s, BIG, "name", &vlen, &np) == 0 &&
	    vlen == BIG - n, "200 KB of broken words in a quoted value");

	n = (size_t)snprintf(s, BIG, "text/plain; name=");
	for (i = n; i + 9 <= BIG; i += 9)
		memcpy(s + i, "=?u?q?a?=", 9);
	check(parse_big(s, i, "name", &vlen, &np) == 0 &&
	    vlen == (i - n) / 9, "200 KB of encoded words in a value");

	n = (size_t)snprintf(s, BIG, "text/plain; a*=utf-8''");
	for (i = n; i + 3 <= BIG; i += 3)
		memcpy(s + i, "%41", 3);
	check(parse_big(s, i, "a", &vlen, &np) == 0 && vlen == (i - n) / 3,
	    "200 KB of %XX");

	for (i = 0; i < BIG; i++)
		s[i] = (char)(i * 7919 % 251);
	memcpy(s, "a/b;", 4);
	r = parse_big(s, BIG, "x", &vlen, &np);
	check(r == 0 || (r == -1 && errno == EINVAL), "200 KB of noise");

	free(s);
}

/* nym_rfc2047_canon: one rendering whatever the input's encoding. */
static void
test_canon(void)
{
	static const struct {
		const char *in;
		int phrase;
		const char *want;	/* NULL: refused, left as written */
	} rows[] = {
		{ "plain text", 0, "plain text" },
		{ "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Berlin", 0,
		    "=?utf-8?B?R3LDvMOfZQ==?= aus Berlin" },
		{ "=?utf-8?q?Gr=c3=bc=c3=9fe?= aus Berlin", 0,
		    "=?utf-8?B?R3LDvMOfZQ==?= aus Berlin" },
		{ "=?utf-8?B?R3LDvA==?=\t=?utf-8?B?w59l?= aus Berlin", 0,
		    "=?utf-8?B?R3LDvMOfZQ==?= aus Berlin" },
		{ "Gr\xc3\xbc\xc3\x9f" "e aus Berlin", 0,
		    "=?utf-8?B?R3LDvMOfZQ==?= aus Berlin" },
		{ "=?iso-8859-15?q?Gr=FC=DFe?= aus Berlin", 0,
		    "=?utf-8?B?R3LDvMOfZQ==?= aus Berlin" },
		{ "a \xc3\xbc b", 0, "a =?utf-8?B?w7w=?= b" },
		{ "a \xc3\xbc b", 1, "=?utf-8?B?YSDDvCBi?=" },
		{ "=?utf-8?Q?Anna_Nym?=", 1, "Anna Nym" },
		{ "  x  ", 0, "x" },
		{ "a\x01" "b", 0, "=?utf-8?B?YQFi?=" },
		{ "=?utf-8?X?abc?= x", 0, NULL },
		{ "=?x-frob-42?q?abc?=", 0, NULL },
		{ "Gr\xfc\xdf" "e", 0, NULL },
		{ "\xed\xa0\x80", 0, NULL },	/* a surrogate */
		{ "a=?b c", 0, "a=?b c" },
	};
	size_t k, len;
	int legacy, left;
	char *r, what[96];

	for (k = 0; k < sizeof rows / sizeof rows[0]; k++) {
		snprintf(what, sizeof what, "canon %zu: %.60s", k, rows[k].in);
		r = nym_rfc2047_canon(rows[k].in, strlen(rows[k].in),
		    rows[k].phrase, 0, &len, &legacy, &left);
		if (rows[k].want == NULL)
			check(r == NULL && left > 0 && errno == EILSEQ, what);
		else
			check(r != NULL && len == strlen(rows[k].want) &&
			    strcmp(r, rows[k].want) == 0, what);
		free(r);
	}
	/* 4-byte characters: words cut between them, a first word of at
	 * most first bytes, each word at most 45. */
	{
		char in[4 * 40 + 1];

		for (k = 0; k < 40; k++)
			memcpy(in + 4 * k, "\xf0\x9d\x84\x9e", 4);
		in[160] = '\0';
		r = nym_rfc2047_canon(in, 160, 0, 10, &len, &legacy, &left);
		/* 8 bytes (12 characters), then 11 characters of 44 bytes
		 * (60), 11 times, then 20 bytes: 40 characters. */
		check(r != NULL && strncmp(r, "=?utf-8?B?8J2EnvCdhJ4=?= "
		    "=?utf-8?B?8J2EnvCdhJ7wnYSe", 51) == 0 &&
		    len == 24 + 3 * (1 + 72) + 1 + 40, "canon: 4-byte "
		    "characters stay whole");
		free(r);
	}
}

/* iconv(3) itself, the reference for the charsets nym_iconv_utf8 makes
 * UTF-8 without it. */
static ssize_t
refutf8(const char *cs, const char *in, size_t n, char *out, size_t cap)
{
	iconv_t cd = iconv_open("UTF-8", cs);
	char *ip = (char *)(uintptr_t)in, *op = out;
	size_t il = n, ol = cap, r;

	if (cd == (iconv_t)-1)
		return -2;
	r = iconv(cd, &ip, &il, &op, &ol);
	iconv_close(cd);
	return r == 0 && il == 0 && ol > 0 ? op - out : -1;
}

/* Latin-1, ISO-8859-15 and Windows-1252 are converted without iconv:
 * each byte, under each name glibc takes for them, as iconv converts it
 * (or refuses it); the output's room counted as iconv's. */
static void
test_legacy(void)
{
	static const char *const names[] = {
		"iso-8859-1", "ISO8859-1", "iso_8859-1", "Latin1", "l1",
		"IBM819", "cp819", "ISO-8859-15", "iso8859-15", "iso_8859-15",
		"latin-9", "LATIN9", "windows-1252", "CP1252"
	};
	char in[256], got[1024], want[1024], what[80];
	ssize_t g, w;
	size_t k;
	int b, same;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		same = 1;
		for (b = 0; b < 256 && same; b++) {
			in[0] = 'a';
			in[1] = (char)b;
			g = nym_iconv_utf8(names[k], in, 2, got, sizeof got);
			w = refutf8(names[k], in, 2, want, sizeof want);
			same = g == w && (g < 0 || memcmp(got, want,
			    (size_t)g) == 0);
			if (!same)
				printf("#   byte 0x%02x: %zd, iconv %zd\n", b,
				    g, w);
		}
		snprintf(what, sizeof what, "%s: every byte as iconv makes "
		    "it UTF-8", names[k]);
		check(same, what);
	}
	for (b = 0; b < 256; b++)
		in[b] = (char)(b == 0x81 || b == 0x8d || b == 0x8f ||
		    b == 0x90 || b == 0x9d ? 'x' : b);
	w = refutf8("cp1252", in, 256, want, sizeof want);
	g = nym_iconv_utf8("cp1252", in, 256, got, sizeof got);
	check(w > 0 && g == w && memcmp(got, want, (size_t)w) == 0,
	    "cp1252: a text of every defined byte at once");
	g = nym_iconv_utf8("iso-8859-15", "\xa4", 1, got, 4);
	check(g == 3 && strcmp(got, "\xe2\x82\xac") == 0,
	    "iso-8859-15: the euro sign in exactly its room and the NUL");
	check_int(nym_iconv_utf8("iso-8859-15", "\xa4", 1, got, 3), -1,
	    "iso-8859-15: no room for the NUL: refused, as iconv's");
	check_int(nym_iconv_utf8("latin1", "abc", 3, got, 0), -1,
	    "no room at all: refused");
}

int
main(void)
{
	test_words();
	test_hostile_words();
	test_mime();
	test_limits();
	test_canon();
	test_legacy();
	return tap_done();
}
