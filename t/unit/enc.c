/*
 * enc.c - unit tests for base32, base64 and quoted-printable: the RFC 4648
 * section 10 vectors, the I2P alphabet, decoding corner cases, and
 * quoted-printable round trips checked line by line; unflowing
 * format=flowed text (RFC 3676).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "tap.h"

#define STD	"+/"
#define I2P	"-~"
#define BAD	((size_t)-1)

static const struct {
	const char *in, *b32, *b64;
} vec[] = {
	{ "", "", "" },
	{ "f", "my", "Zg==" },
	{ "fo", "mzxq", "Zm8=" },
	{ "foo", "mzxw6", "Zm9v" },
	{ "foob", "mzxw6yq", "Zm9vYg==" },
	{ "fooba", "mzxw6ytb", "Zm9vYmE=" },
	{ "foobar", "mzxw6ytboi", "Zm9vYmFy" }
};

static const struct {
	const char *in;
	const char *alpha;
	const char *out;	/* decoded bytes */
	size_t outlen;		/* BAD: EINVAL */
	size_t cap;
} unb64[] = {
	{ "Zm9vYmFy", STD, "foobar", 6, 64 },
	{ "Zm9v\r\nYmFy\r\n", STD, "foobar", 6, 64 },
	{ " Z m 9 v\tY\vm\fF y ", STD, "foobar", 6, 64 },
	{ "Zm9vYg==", STD, "foob", 4, 64 },
	{ "Zm9vYg", STD, "foob", 4, 64 },
	{ "Zm9vYmE", STD, "fooba", 5, 64 },
	{ "Zm9vY", STD, "foo", 3, 64 },
	{ "Zg==Zm9v", STD, "f", 1, 64 },
	{ "Zm9vYg==!!", STD, "foob", 4, 64 },
	{ "=Zm9v", STD, "", 0, 64 },
	{ "", STD, "", 0, 64 },
	{ "Zm9vYmFy", STD, "foob", 4, 4 },
	{ "Zm9vYmFy", STD, "", 0, 0 },
	{ "+/8=", STD, "\xfb\xff", 2, 64 },
	{ "-~8=", I2P, "\xfb\xff", 2, 64 },
	{ "+/8=", I2P, NULL, BAD, 64 },
	{ "-~8=", STD, NULL, BAD, 64 },
	{ "Zm9v!", STD, NULL, BAD, 64 },
	{ "Zm9v.YmFy", STD, NULL, BAD, 64 },
	{ "Zm9v\x80", STD, NULL, BAD, 64 },
	{ "Zm9vYmFy!", STD, NULL, BAD, 4 },
	{ "AAEC/w==", STD, "\x00\x01\x02\xff", 4, 64 }
};

static const struct {
	const char *in;
	size_t inlen;		/* 0: strlen */
	const char *out;
	size_t outlen;		/* 0: strlen */
} unqp[] = {
	{ "plain text", 0, "plain text", 0 },
	{ "a=3Db", 0, "a=b", 0 },
	{ "caf=C3=A9", 0, "caf\xc3\xa9", 0 },
	{ "caf=c3=a9", 0, "caf\xc3\xa9", 0 },
	{ "=e9t=E9", 0, "\xe9t\xe9", 0 },
	{ "nul=00byte", 0, "nul\0byte", 8 },
	{ "soft=\nbreak", 0, "softbreak", 0 },
	{ "soft=\r\nbreak", 0, "softbreak", 0 },
	{ "soft= \t \nbreak", 0, "softbreak", 0 },
	{ "soft=\t\r\nbreak", 0, "softbreak", 0 },
	{ "end=", 0, "end", 0 },
	{ "end=  ", 0, "end", 0 },
	{ "line1\r\nline2\nline3", 0, "line1\r\nline2\nline3", 0 },
	{ "keep trailing  \n", 0, "keep trailing  \n", 0 },
	{ "bare=\rcr", 0, "bare=\rcr", 0 },
	{ "bad=G1", 0, "bad=G1", 0 },
	{ "bad=1G", 0, "bad=1G", 0 },
	{ "short=4", 0, "short=4", 0 },
	{ "a= b", 0, "a= b", 0 },
	{ "a==41", 0, "a=A", 0 },
	{ "a===", 0, "a==", 0 },
	{ "=", 0, "", 0 },
	{ "", 0, "", 0 },
	{ "=41=\n=42", 0, "AB", 0 },
	{ "stop=41here", 7, "stopA", 0 },
	{ "stop=4", 5, "stop", 0 },
	{ "nul\0=41", 7, "nul\0A", 5 }
};

static const struct {
	const char *in;
	const char *eol;
	const char *out;
} qp[] = {
	{ "hello", "\n", "hello" },
	{ "", "\n", "" },
	{ "a=b", "\n", "a=3Db" },
	{ "caf\xc3\xa9", "\n", "caf=C3=A9" },
	{ "tab\there", "\n", "tab\there" },
	{ "del\x7f ctl\x01 esc\x1b", "\n", "del=7F ctl=01 esc=1B" },
	{ "bare\rcr", "\n", "bare=0Dcr" },
	{ "trail \nx", "\n", "trail=20\nx" },
	{ "trail\t\r\nx", "\r\n", "trail=09\r\nx" },
	{ "end ", "\n", "end=20" },
	{ "two  \n", "\n", "two =20\n" },
	{ "a\nb\n", "\r\n", "a\r\nb\r\n" },
	{ "a\r\nb", "\n", "a\nb" },
	{ "a\r\nb", "\r\n", "a\r\nb" },
	{ "cr at end\r", "\n", "cr at end=0D" },
	{ "\n\n", "\n", "\n\n" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "\n",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nb",
	    "\n",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nb" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "\n",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n"
	  "aa" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b",
	    "\r\n",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\r\n"
	  "=3Db" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=",
	    "\n",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=3D" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \n",
	    "\n",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\n"
	  "=20\n" }
};

static void
test_base32(void)
{
	char buf[64], what[64];
	size_t i, n, len;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		len = strlen(vec[i].in);
		memset(buf, 'x', sizeof(buf));
		n = nym_base32((const unsigned char *)vec[i].in, len, buf);
		snprintf(what, sizeof(what), "base32 \"%s\"", vec[i].in);
		check_str(buf, vec[i].b32, what);
		check(n == strlen(vec[i].b32) && n + 1 <= (len * 8 + 4) / 5 + 1,
		    "base32 length within the stated bound");
	}
	n = nym_base32((const unsigned char *)"\xd6\x14\x5a\x96\x7b\xff"
	    "\x00\x01\x02\x03", 10, buf);
	check_str(buf, "2ykfvft374aacaqd", "base32 binary");
	check_int(n, 16, "base32 binary length");
}

static void
test_base64(void)
{
	char buf[64], what[64];
	size_t i, n, len;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		len = strlen(vec[i].in);
		memset(buf, 'x', sizeof(buf));
		n = nym_base64((const unsigned char *)vec[i].in, len, buf, STD);
		snprintf(what, sizeof(what), "base64 \"%s\"", vec[i].in);
		check_str(buf, vec[i].b64, what);
		check(n == strlen(vec[i].b64) && n + 1 == 4 * ((len + 2) / 3) + 1,
		    "base64 length is the stated bound");
	}
	n = nym_base64((const unsigned char *)"\xfb\xff", 2, buf, STD);
	check_str(buf, "+/8=", "base64 standard alphabet");
	n = nym_base64((const unsigned char *)"\xfb\xff", 2, buf, I2P);
	check_str(buf, "-~8=", "base64 I2P alphabet");
	n = nym_base64((const unsigned char *)"\xfb\xef\xbe\xff", 4, buf,
	    I2P);
	check_str(buf, "----~w==", "base64 I2P alphabet, four bytes");
	check_int(n, 8, "base64 I2P length");
}

static void
test_unbase64(void)
{
	unsigned char buf[64];
	char what[80];
	size_t i, cap;
	ssize_t r;

	for (i = 0; i < sizeof(unb64) / sizeof(unb64[0]); i++) {
		snprintf(what, sizeof(what), "unbase64 #%zu (%s)", i,
		    unb64[i].alpha);
		memset(buf, 0xaa, sizeof(buf));
		cap = unb64[i].cap;
		errno = 0;
		r = nym_unbase64(unb64[i].in, strlen(unb64[i].in), buf, cap,
		    unb64[i].alpha);
		if (unb64[i].outlen == BAD) {
			check(r == -1 && errno == EINVAL, what);
			continue;
		}
		check(r == (ssize_t)unb64[i].outlen &&
		    memcmp(buf, unb64[i].out, unb64[i].outlen) == 0 &&
		    (cap >= sizeof(buf) || buf[cap] == 0xaa), what);
	}
}

static void
test_b64_roundtrip(void)
{
	unsigned char in[300], back[300];
	char enc[4 * 100 + 2];
	size_t n, len, bad = 0;
	ssize_t r;
	int a;

	srand(1);
	for (a = 0; a < 2; a++)
		for (n = 0; n < sizeof(in); n++) {
			for (len = 0; len < n; len++)
				in[len] = (unsigned char)rand();
			len = nym_base64(in, n, enc, a ? I2P : STD);
			(void)len;
			r = nym_unbase64(enc, strlen(enc), back, sizeof(back),
			    a ? I2P : STD);
			if (r != (ssize_t)n || memcmp(in, back, n) != 0)
				bad++;
			if (n > 0 && n % 3 == 0 && n <= 100) {
				/* In place, as rfc2047.c does it. */
				r = nym_unbase64(enc, strlen(enc),
				    (unsigned char *)enc, n, a ? I2P : STD);
				if (r != (ssize_t)n || memcmp(in, enc, n) != 0)
					bad++;
			}
		}
	check_int(bad, 0, "base64 round trips, 0..299 bytes, both alphabets");
}

static void
test_unqp(void)
{
	char buf[64], what[64];
	size_t i, n, inlen, outlen;

	for (i = 0; i < sizeof(unqp) / sizeof(unqp[0]); i++) {
		inlen = unqp[i].inlen != 0 ? unqp[i].inlen : strlen(unqp[i].in);
		outlen = unqp[i].outlen != 0 ? unqp[i].outlen :
		    strlen(unqp[i].out);
		memset(buf, 'x', sizeof(buf));
		n = nym_unqp(unqp[i].in, inlen, buf);
		snprintf(what, sizeof(what), "unqp #%zu", i);
		check(n == outlen && memcmp(buf, unqp[i].out, n) == 0 &&
		    buf[inlen] == 'x', what);
		if (n != outlen)
			printf("#   got %zu bytes \"%.*s\"\n", n, (int)n, buf);
	}
}

static void
test_qp(void)
{
	char buf[256], what[64];
	size_t i, n, need, len;

	for (i = 0; i < sizeof(qp) / sizeof(qp[0]); i++) {
		len = strlen(qp[i].in);
		need = nym_qp(qp[i].in, len, NULL, qp[i].eol);
		memset(buf, 0, sizeof(buf));
		n = nym_qp(qp[i].in, len, buf, qp[i].eol);
		snprintf(what, sizeof(what), "qp #%zu", i);
		check_str(buf, qp[i].out, what);
		check(n == need && n == strlen(qp[i].out),
		    "qp length and size query agree");
	}
}

/* Replace LF and CRLF in in with eol. */
static size_t
normalise(const char *in, size_t n, char *out, const char *eol)
{
	size_t i, o = 0, el = strlen(eol);

	for (i = 0; i < n; i++) {
		if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
			continue;
		if (in[i] == '\n') {
			memcpy(out + o, eol, el);
			o += el;
		} else
			out[o++] = in[i];
	}
	return o;
}

/* Lines at most 76 characters, printable ASCII and TAB only, no blank
 * before a line break, and "=" last only on a soft break. */
static int
wellformed(const char *s, size_t n, const char *eol)
{
	size_t i, col = 0, el = strlen(eol);

	for (i = 0; i < n; i++) {
		if (n - i >= el && memcmp(s + i, eol, el) == 0) {
			if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return 0;
			col = 0;
			i += el - 1;
			continue;
		}
		if ((s[i] < ' ' && s[i] != '\t') || (unsigned char)s[i] > 126)
			return 0;
		if (++col > 76)
			return 0;
	}
	return n == 0 || (s[n - 1] != ' ' && s[n - 1] != '\t');
}

static void
test_qp_roundtrip(void)
{
	static const char pool[] = "ab =\t\r\n\xff\x01.";
	static char in[2000], norm[4000], enc[12000], back[12000];
	const char *eols[2] = { "\n", "\r\n" };
	size_t n, k, e, len, need, nn, rounds = 0, bad = 0, badform = 0;

	srand(2);
	for (e = 0; e < 2; e++)
		for (n = 0; n < sizeof(in); n += 1 + n / 8) {
			for (k = 0; k < 3; k++, rounds++) {
				for (len = 0; len < n; len++)
					in[len] = k == 0 ? (char)rand() :
					    k == 1 ? pool[rand() % (sizeof(pool) - 1)] :
					    (rand() % 90 == 0 ? '\n' : 'x');
				need = nym_qp(in, n, NULL, eols[e]);
				enc[need] = '#';
				len = nym_qp(in, n, enc, eols[e]);
				if (len != need || enc[need] != '#')
					bad++;
				if (!wellformed(enc, len, eols[e]))
					badform++;
				nn = normalise(in, n, norm, eols[e]);
				len = nym_unqp(enc, len, back);
				if (len != nn || memcmp(back, norm, nn) != 0)
					bad++;
			}
		}
	check(rounds > 100, "qp round trips ran");
	check_int(bad, 0, "qp: unqp(qp(x)) == x with line breaks as eol");
	check_int(badform, 0, "qp: lines <= 76, only printable ASCII");
}

/* "From " never starts a line of the encoding (it would start a message
 * in an mbox): at a line's start, and after a soft break at any column. */
static void
test_qp_from(void)
{
	static char in[300], enc[2000], back[2000];
	size_t pre, n, len, i, bad = 0, leaked = 0;

	for (pre = 0; pre < 200; pre++) {
		memset(in, 'x', pre);
		memcpy(in + pre, "From me\nFrom you\n", 18);
		n = pre + 18;
		len = nym_qp(in, n, enc, "\n");
		for (i = 0; i + 5 <= len; i++)
			if ((i == 0 || enc[i - 1] == '\n') &&
			    memcmp(enc + i, "From ", 5) == 0)
				leaked++;
		if (nym_unqp(enc, len, back) != n || memcmp(back, in, n) != 0)
			bad++;
	}
	check_int(leaked, 0, "qp: no line of the encoding starts with From");
	check_int(bad, 0, "qp: From lines decode back");
	len = nym_qp("From x\n", 7, enc, "\n");
	enc[len] = '\0';
	check_str(enc, "=46rom x\n", "qp: From at a line's start is =46rom");
}

/* nym_unflow: in (flowed, delsp) made fixed is want. */
static const struct {
	const char *in;
	int delsp;
	const char *want;
	const char *what;
} unflowv[] = {
	{ "a soft \nbreak\n", 0, "a soft break\n", "DelSp=no keeps the space" },
	{ "a soft \nbreak\n", 1, "a softbreak\n", "DelSp=yes deletes it" },
	{ "one \ntwo \nthree\nfour\n", 0, "one two three\nfour\n",
	    "three lines joined, a fixed line after" },
	{ " From here \n on\n", 0, "From here on\n", "stuffing removed" },
	{ "  two spaces\n", 0, " two spaces\n", "only one stuffing space" },
	{ "> quoted \n> text\nmine\n", 0, "> quoted text\nmine\n",
	    "quoted lines joined, one prefix" },
	{ ">> deep \n>> er\n", 1, ">> deeper\n", "depth 2, DelSp=yes" },
	{ ">no space \n>after\n", 0, ">no space after\n",
	    "the first line's prefix as written" },
	{ "> a \n>> b\n", 0, "> a \n>> b\n", "a depth change is a hard break" },
	{ "> a \nb\n", 0, "> a \nb\n", "quoted to unquoted: a hard break" },
	{ "x \n-- \nsig\n", 0, "x \n-- \nsig\n",
	    "the signature separator is a hard break, and fixed" },
	{ "> -- \n> sig\n", 0, "> -- \n> sig\n", "a quoted separator too" },
	{ "end \n", 0, "end \n", "a soft break on the last line" },
	{ "end ", 1, "end", "a soft last line without a line end" },
	{ "a \r\nb\r\nc\r\n", 0, "a b\r\nc\r\n", "CRLF line ends" },
	{ " \nx\n", 0, "\nx\n", "a line that is only a space: stuffed, empty" },
	{ "\n\n", 0, "\n\n", "empty lines stay" },
	{ "", 0, "", "nothing" },
};

static void
test_unflow(void)
{
	static char buf[4096], in[4096];
	size_t i, n, len;

	for (i = 0; i < sizeof unflowv / sizeof unflowv[0]; i++) {
		n = strlen(unflowv[i].in);
		memcpy(in, unflowv[i].in, n);
		len = nym_unflow(in, n, buf, unflowv[i].delsp);
		buf[len] = '\0';
		check_str(buf, unflowv[i].want, unflowv[i].what);
	}
	/* 40 soft lines of 30 bytes: one line of 1200, over SMTP's 998. */
	for (n = 0, i = 0; i < 40; i++, n += 30)
		memcpy(in + n, "twenty-nine bytes of text,ab \n", 30);
	memcpy(in + n, "end\n", 4);
	n += 4;
	len = nym_unflow(in, n, buf, 0);
	check_int(len, n - 40, "1200 bytes joined: one line end left");
	check_int(memchr(buf, '\n', len) == buf + len - 1, 1,
	    "a joined line over 998 bytes is one line");
}

int
main(void)
{
	test_base32();
	test_base64();
	test_unbase64();
	test_b64_roundtrip();
	test_unqp();
	test_qp();
	test_qp_roundtrip();
	test_qp_from();
	test_unflow();
	return tap_done();
}
