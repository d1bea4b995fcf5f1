/*
 * rfc2047.c - RFC 2047 encoded words and RFC 2045/2231 MIME parameters.
 *
 * Both run on hostile header values of up to NYM_FIELD_MAX bytes, NUL
 * included, on the per-message path, so: lengths are explicit and never
 * overrun, nothing recurses (comments nest through a counter), every scan
 * moves forward, and the parameter limits (NYM_MIME_PARAMS names,
 * NYM_MIME_SECTIONS continuation sections each) keep the work linear.
 * Charsets are recorded, never converted.
 *
 * Encoded words are decoded wherever they appear, even inside words and
 * quoted strings, as mail clients do; a word that does not parse is kept
 * as it is.  The decoder never writes ahead of what it has read, so it
 * also works in place, which nym_mime_parse uses for parameter values
 * that carry encoded words (Outlook and Gmail write filename="=?UTF-8?...").
 *
 * nym_mime_parse is lenient where real clients are sloppy: values with
 * spaces and no quotes run to the next ";", unquoted values may hold "/"
 * and "=", stray ";" and garbage between parameters are skipped, a
 * parameter given twice keeps its first value, and in quoted strings a
 * backslash escapes only '"' and '\' (Windows paths are written unescaped).
 * RFC 2231 sections are joined in numeric order whatever order they come
 * in, and the RFC 2231 form of a parameter wins over the plain one.
 *
 * Memory: one block holds the strings, sized from the input length (every
 * string byte comes from a distinct input byte; each parameter adds three
 * NULs and at most one charset copied from an encoded word), with the
 * parser's records of name=value pairs at its front; the nym_param array
 * is a second block.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "msg.h"

#define SEC_PLAIN	NYM_MIME_SECTIONS		/* name=value */
#define SEC_EXT		(NYM_MIME_SECTIONS + 1)	/* name*=value */
#define SEC_ANY		(NYM_MIME_SECTIONS + 2)
#define PARAM_EXTRA	(3 + NYM_CHARSET_MAX + 1)
#define HAVE(sl, sec)	((sl)->have[(sec) / 64] & (uint64_t)1 << (sec) % 64)

struct word {
	const char *cs;		/* charset, language removed */
	size_t cslen;
	int enc;		/* 'b' or 'q' */
	const char *text;
	size_t textlen;
	size_t len;		/* the whole word, "=?" to "?=" */
};

/* One name=value pair of nym_mime_parse, kept until the values are
 * assembled: the value is s[off, off + len). */
struct prec {
	size_t off, len;
	int quoted;
	int pct;		/* name* or name*N*: %XX encoded */
	int sec;		/* section, SEC_PLAIN or SEC_EXT */
	int next;		/* next record of the same parameter, or -1 */
};

struct pslot {
	size_t noff, nlen;	/* name, suffix removed */
	uint64_t have[(SEC_ANY + 63) / 64];
	int head, tail;		/* records, in input order */
};

static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* The byte written as two hex digits at p (n bytes left), or -1. */
static int
hexpair(const char *p, size_t n)
{
	int hi, lo;

	if (n < 2 || (hi = nym_hexval((unsigned char)p[0])) < 0 ||
	    (lo = nym_hexval((unsigned char)p[1])) < 0)
		return -1;
	return hi << 4 | lo;
}

/* Copy n bytes lower-cased; returns the end of dst. */
static char *
lowercopy(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		*dst++ = (char)lc((unsigned char)src[i]);
	return dst;
}

static int
isb64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Parse the encoded word at p (p[0, 1] are "=?").  0 or -1. */
static int
parseword(const char *p, size_t n, struct word *w)
{
	size_t i = 2, star = 0;

	while (i < n && p[i] != '?' && p[i] > ' ' && p[i] < 0x7f) {
		if (p[i] == '*' && star == 0)
			star = i;
		i++;
	}
	w->cs = p + 2;
	w->cslen = (star != 0 ? star : i) - 2;
	if (w->cslen == 0 || w->cslen > NYM_CHARSET_MAX || n - i < 4 ||
	    p[i] != '?' || p[i + 2] != '?')
		return -1;
	w->enc = lc((unsigned char)p[i + 1]);
	if (w->enc != 'b' && w->enc != 'q')
		return -1;
	i += 3;
	w->text = p + i;
	while (i < n && p[i] != '?' && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i + 1 >= n || p[i] != '?' || p[i + 1] != '=')
		return -1;
	w->textlen = (size_t)(p + i - w->text);
	w->len = i + 2;
	if (w->enc == 'b')
		for (i = 0; i < w->textlen && w->text[i] != '='; i++)
			if (!isb64((unsigned char)w->text[i]))
				return -1;
	return 0;
}

/* Decode word w into out (avail bytes).  The length, or -1 E2BIG. */
static ssize_t
decodeb(const struct word *w, char *out, size_t avail)
{
	size_t k;
	ssize_t r;

	/* parseword checked the text, so only a short out fails. */
	for (k = 0; k < w->textlen && w->text[k] != '='; k++)
		;
	r = nym_unbase64(w->text, w->textlen, (unsigned char *)out, avail,
	    "+/");
	if (r >= 0 && (size_t)r >= k * 3 / 4)
		return r;
	errno = E2BIG;
	return -1;
}

static ssize_t
decodeq(const struct word *w, char *out, size_t avail)
{
	size_t i, o;
	int c;

	for (i = o = 0; i < w->textlen; i++, o++) {
		if (o == avail) {
			errno = E2BIG;
			return -1;
		}
		if (w->text[i] == '_')
			out[o] = ' ';
		else if (w->text[i] == '=' &&
		    (c = hexpair(w->text + i + 1, w->textlen - i - 1)) >= 0) {
			out[o] = (char)c;
			i += 2;
		} else
			out[o] = w->text[i];
	}
	return (ssize_t)o;
}

/*
 * Decode the encoded words of s into out, cap bytes with the NUL.  cs gets
 * the first word's charset, lower-cased, or "".  out may be s: output byte
 * o is written only after input byte o has been read, since a word never
 * decodes to more bytes than it has.
 */
static ssize_t
decode2047(const char *s, size_t n, char *out, size_t cap,
    char cs[NYM_CHARSET_MAX + 1])
{
	struct word w;
	size_t i = 0, o = 0, mark = 0, at;
	ssize_t r;
	int afterword = 0;

	cs[0] = '\0';
	if (cap == 0) {
		errno = E2BIG;
		return -1;
	}
	while (i < n) {
		if (s[i] == '=' && n - i >= 2 && s[i + 1] == '?' &&
		    parseword(s + i, n - i, &w) == 0) {
			/* White space between two words goes. */
			at = afterword ? mark : o;
			/* Decoding in place may overwrite the charset. */
			if (cs[0] == '\0')
				*lowercopy(cs, w.cs, w.cslen) = '\0';
			r = w.enc == 'b' ? decodeb(&w, out + at, cap - 1 - at) :
			    decodeq(&w, out + at, cap - 1 - at);
			if (r < 0)
				goto full;
			o = mark = at + (size_t)r;
			afterword = 1;
			i += w.len;
			continue;
		}
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			afterword = 0;
		if (o + 1 >= cap)
			goto full;
		out[o++] = s[i++];
	}
	out[o] = '\0';
	return (ssize_t)o;
full:
	out[o] = '\0';
	errno = E2BIG;
	return -1;
}

ssize_t
nym_rfc2047_decode(const char *s, size_t n, char *out, size_t cap,
    const char **charset)
{
	static char cs[NYM_CHARSET_MAX + 1];
	ssize_t r;

	r = decode2047(s, n, out, cap, cs);
	if (charset != NULL)
		*charset = cs;
	return r;
}

/* ---- legacy charsets made UTF-8 ---- */

/* Is cs (NUL ended, any case) UTF-8 or US-ASCII, which need nothing? */
static int
isutf8(const char *cs)
{
	char l[16];
	size_t n = strlen(cs);

	if (n >= sizeof l)
		return 0;
	*lowercopy(l, cs, n) = '\0';
	return strcmp(l, "utf-8") == 0 || strcmp(l, "utf8") == 0 ||
	    strcmp(l, "us-ascii") == 0 || strcmp(l, "ascii") == 0;
}

/* The legacy charsets most mail is in, made UTF-8 here: iconv_open()
 * in a static binary loads glibc's gconv module and, with it, the
 * shared C library, which costs a process that scrubs one message more
 * than the scrub.  Names as glibc's iconv takes them (any case); their
 * bytes 0x80-0xff as Unicode code points: Latin-1's are the bytes, and
 * ISO-8859-15 and Windows-1252 differ from it where their tables say
 * (0: no character, as iconv refuses it). */
enum { CS_OTHER, CS_LATIN1, CS_LATIN9, CS_CP1252 };

static int
builtincs(const char *cs)
{
	static const struct {
		const char *name;
		int cs;
	} names[] = {
		{ "iso-8859-1", CS_LATIN1 }, { "iso8859-1", CS_LATIN1 },
		{ "iso_8859-1", CS_LATIN1 }, { "latin1", CS_LATIN1 },
		{ "l1", CS_LATIN1 }, { "ibm819", CS_LATIN1 },
		{ "cp819", CS_LATIN1 }, { "iso-8859-15", CS_LATIN9 },
		{ "iso8859-15", CS_LATIN9 }, { "iso_8859-15", CS_LATIN9 },
		{ "latin-9", CS_LATIN9 }, { "latin9", CS_LATIN9 },
		{ "windows-1252", CS_CP1252 }, { "cp1252", CS_CP1252 }
	};
	size_t k;

	for (k = 0; k < sizeof names / sizeof names[0]; k++)
		if (strcasecmp(cs, names[k].name) == 0)
			return names[k].cs;
	return CS_OTHER;
}

static unsigned
legacycp(int cs, unsigned char b)
{
	static const unsigned short cp1252[32] = {
		0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
		0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
	};

	if (cs == CS_CP1252 && b >= 0x80 && b <= 0x9f)
		return cp1252[b - 0x80];
	if (cs == CS_LATIN9)
		switch (b) {
		case 0xa4: return 0x20ac;
		case 0xa6: return 0x0160;
		case 0xa8: return 0x0161;
		case 0xb4: return 0x017d;
		case 0xb8: return 0x017e;
		case 0xbc: return 0x0152;
		case 0xbd: return 0x0153;
		case 0xbe: return 0x0178;
		default: break;
		}
	return b;
}

/* nym_iconv_utf8 for a builtincs() charset. */
static ssize_t
legacyutf8(int cs, const char *in, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	unsigned c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if (c >= 0x80 && (c = legacycp(cs, (unsigned char)c)) == 0) {
			errno = EINVAL;
			return -1;
		}
		if (cap - o <= (c < 0x80 ? 1U : c < 0x800 ? 2U : 3U)) {
			errno = EINVAL;
			return -1;
		}
		if (c < 0x80)
			out[o++] = (char)c;
		else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t
nym_iconv_utf8(const char *cs, const char *in, size_t n, char *out,
    size_t cap)
{
	iconv_t cd;
	char *ip = (char *)(uintptr_t)in, *op = out;
	size_t il = n, ol = cap, r;
	int b;

	if (cap == 0)
		return -1;
	if ((b = builtincs(cs)) != CS_OTHER)
		return legacyutf8(b, in, n, out, cap);
	if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
		return -1;
	r = iconv(cd, &ip, &il, &op, &ol);
	if (r != (size_t)-1)	/* the end of a stateful charset's text */
		r = iconv(cd, NULL, NULL, &op, &ol);
	iconv_close(cd);
	/* Not one byte replaced or lost, and room for the NUL. */
	if (r != 0 || il != 0 || ol == 0) {
		errno = EINVAL;
		return -1;
	}
	*op = '\0';
	return (ssize_t)(op - out);
}

/* Write the UTF-8 text t (n bytes) as "=?utf-8?B?...?=" words, at most
 * 45 bytes (a 72-character word) each, cut between characters, one
 * space between them.  The length, or -1 if cap is short. */
static ssize_t
utf8words(const char *t, size_t n, char *out, size_t cap)
{
	size_t o = 0, k;

	while (n > 0) {
		k = n > 45 ? 45 : n;
		while (k < n && k > 1 && ((unsigned char)t[k] & 0xc0) == 0x80)
			k--;
		if (o + (o > 0) + 12 + 4 * ((k + 2) / 3) >= cap)
			return -1;
		if (o > 0)
			out[o++] = ' ';
		for (const char *h = "=?utf-8?B?"; *h != '\0'; h++)
			out[o++] = *h;
		o += nym_base64((const unsigned char *)t, k, out + o, "+/");
		out[o++] = '?';
		out[o++] = '=';
		t += k;
		n -= k;
	}
	return (ssize_t)o;
}

ssize_t
nym_rfc2047_utf8(const char *s, size_t n, char *out, size_t cap,
    int *changed, int *left)
{
	struct word w;
	char cs[NYM_CHARSET_MAX + 1], *raw = NULL, *u = NULL;
	size_t i = 0, o = 0, rcap = 0;
	ssize_t r, un;

	*changed = *left = 0;
	while (i < n) {
		if (!(s[i] == '=' && n - i >= 2 && s[i + 1] == '?' &&
		    parseword(s + i, n - i, &w) == 0)) {
			if (out != NULL) {
				if (o + 1 >= cap)
					goto full;
				out[o++] = s[i];
			}
			i++;
			continue;
		}
		memcpy(cs, w.cs, w.cslen);
		cs[w.cslen] = '\0';
		r = -1;
		if (isutf8(cs))
			;
		else if (out == NULL)
			(*changed)++;	/* counted: a legacy word */
		else {
			if (raw == NULL || w.textlen + 1 > rcap) {
				free(raw);
				free(u);
				rcap = w.textlen + 1;
				raw = malloc(rcap);
				u = malloc(4 * rcap);
				if (raw == NULL || u == NULL)
					goto full;
			}
			r = w.enc == 'b' ? decodeb(&w, raw, rcap) :
			    decodeq(&w, raw, rcap);
			if (r >= 0 && (un = nym_iconv_utf8(cs, raw, (size_t)r,
			    u, 4 * rcap)) >= 0 && (r = utf8words(u, (size_t)un,
			    out + o, cap - o)) >= 0) {
				o += (size_t)r;
				(*changed)++;
			} else {
				r = -1;
				(*left)++;
			}
		}
		if (r < 0 && out != NULL) {
			if (o + w.len >= cap)
				goto full;
			memcpy(out + o, s + i, w.len);
			o += w.len;
		}
		i += w.len;
	}
	free(raw);
	free(u);
	if (out != NULL)
		out[o] = '\0';
	return (ssize_t)o;
full:
	free(raw);
	free(u);
	errno = E2BIG;
	return -1;
}

/* ---- the canonical rendering (issue 15) ---- */

/* Is t (n bytes) valid UTF-8 (no overlong forms, surrogates or values
 * past U+10FFFF)? */
static int
validutf8(const unsigned char *t, size_t n)
{
	size_t i = 0, k, more;
	uint32_t c;

	while (i < n) {
		if (t[i] < 0x80) {
			i++;
			continue;
		}
		if (t[i] >= 0xc2 && t[i] <= 0xdf)
			more = 1, c = t[i] & 0x1f;
		else if (t[i] >= 0xe0 && t[i] <= 0xef)
			more = 2, c = t[i] & 0x0f;
		else if (t[i] >= 0xf0 && t[i] <= 0xf4)
			more = 3, c = t[i] & 0x07;
		else
			return 0;
		if (n - i <= more)
			return 0;
		for (k = 1; k <= more; k++) {
			if ((t[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (t[i + k] & 0x3f);
		}
		if ((more == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (more == 3 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		i += more + 1;
	}
	return 1;
}

/* Does "=?" at s (n bytes left) start what was meant as an encoded word,
 * that parseword refused: a token ending in "?=" with at least four
 * '?' in it? */
static int
brokenword(const char *s, size_t n)
{
	size_t i, q = 0;

	for (i = 0; i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
	    s[i] != '\n'; i++)
		q += s[i] == '?';
	return i >= 6 && q >= 4 && s[i - 1] == '=' && s[i - 2] == '?';
}

/* Does the word t (n bytes, no spaces) need encoding: a byte outside
 * printable ASCII, or text a reader would take for an encoded word? */
static int
needsword(const char *t, size_t n)
{
	struct word w;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x20 || c >= 0x7f)
			return 1;
		if (c == '=' && n - i >= 2 && t[i + 1] == '?' &&
		    (parseword(t + i, n - i, &w) == 0 ||
		    brokenword(t + i, n - i)))
			return 1;
	}
	return 0;
}

/* Decode s's encoded words into d (4 * n + 16 bytes): UTF-8 and
 * US-ASCII words as they are, others through iconv; white space between
 * two words dropped, tabs and line ends made spaces.  The length, or -1
 * with *left set (a word that is broken or cannot be made UTF-8). */
static ssize_t
canondecode(const char *s, size_t n, char *d, size_t dcap, int *legacy,
    int *left)
{
	struct word w;
	char cs[NYM_CHARSET_MAX + 1], *raw = NULL;
	size_t i = 0, o = 0, mark = 0, at, rcap = 0;
	ssize_t r;
	int afterword = 0;

	while (i < n) {
		if (s[i] == '=' && n - i >= 2 && s[i + 1] == '?') {
			if (parseword(s + i, n - i, &w) != 0) {
				if (!brokenword(s + i, n - i))
					goto plain;
				(*left)++;
				break;
			}
			at = afterword ? mark : o;
			memcpy(cs, w.cs, w.cslen);
			cs[w.cslen] = '\0';
			if (isutf8(cs))
				r = w.enc == 'b' ? decodeb(&w, d + at,
				    dcap - at) : decodeq(&w, d + at, dcap - at);
			else {
				if (raw == NULL || w.textlen + 1 > rcap) {
					free(raw);
					rcap = w.textlen + 1;
					if ((raw = malloc(rcap)) == NULL) {
						errno = ENOMEM;
						return -1;
					}
				}
				r = w.enc == 'b' ? decodeb(&w, raw, rcap) :
				    decodeq(&w, raw, rcap);
				if (r >= 0)
					r = nym_iconv_utf8(cs, raw, (size_t)r,
					    d + at, dcap - at);
				(*legacy)++;
			}
			if (r < 0) {
				(*left)++;
				break;
			}
			o = mark = at + (size_t)r;
			afterword = 1;
			i += w.len;
			continue;
		}
plain:
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			afterword = 0;
		if (o + 1 >= dcap) {
			(*left)++;
			break;
		}
		d[o++] = s[i] == '\t' || s[i] == '\r' || s[i] == '\n' ? ' ' :
		    s[i];
		i++;
	}
	free(raw);
	if (*left > 0 || !validutf8((const unsigned char *)d, o)) {
		*left += *left == 0;
		errno = EILSEQ;
		return -1;
	}
	return (ssize_t)o;
}

char *
nym_rfc2047_canon(const char *s, size_t n, int phrase, size_t first,
    size_t *len, int *legacy, int *left)
{
	char *d, *out;
	size_t dcap = 4 * n + 16, a, b, i, j, o, lo, hi, k;
	ssize_t dn;
	int found = 0;

	*legacy = *left = 0;
	if ((d = malloc(dcap)) == NULL)
		return NULL;
	if ((dn = canondecode(s, n, d, dcap, legacy, left)) < 0) {
		free(d);
		return NULL;
	}
	/* No white space around it, as a reader takes it. */
	for (lo = 0; lo < (size_t)dn && d[lo] == ' '; lo++)
		;
	for (hi = (size_t)dn; hi > lo && d[hi - 1] == ' '; hi--)
		;
	/* The run from the first word that needs encoding to the last. */
	a = b = lo;
	for (i = lo; i < hi; i = j) {
		for (; i < hi && d[i] == ' '; i++)
			;
		for (j = i; j < hi && d[j] != ' '; j++)
			;
		if (j > i && needsword(d + i, j - i)) {
			if (!found)
				a = i;
			found = 1;
			b = j;
		}
	}
	if (!found) {
		memmove(d, d + lo, hi - lo);
		d[hi - lo] = '\0';
		*len = hi - lo;
		return d;
	}
	if (phrase) {
		a = lo;
		b = hi;
	}
	/* Each 45 bytes at most: a word of 72 characters; a first word at
	 * the very start, first bytes (at least 6: any character). */
	if (a != lo || first == 0 || first > 45)
		first = 45;
	if (first < 6)
		first = 6;
	if ((out = malloc((hi - lo) + (b - a) / 45 * 73 + 2 * (b - a) +
	    80)) == NULL) {
		free(d);
		return NULL;
	}
	memcpy(out, d + lo, a - lo);
	o = a - lo;
	for (i = a; i < b; i += k) {
		k = i == a ? first : 45;
		k = b - i > k ? k : b - i;
		while (i + k < b && k > 1 &&
		    ((unsigned char)d[i + k] & 0xc0) == 0x80)
			k--;
		if (i > a)
			out[o++] = ' ';
		memcpy(out + o, "=?utf-8?B?", 10);
		o += 10;
		o += nym_base64((const unsigned char *)d + i, k, out + o, "+/");
		out[o++] = '?';
		out[o++] = '=';
	}
	memcpy(out + o, d + b, hi - b);
	o += hi - b;
	out[o] = '\0';
	free(d);
	*len = o;
	return out;
}

/* ---- MIME parameters ---- */

static int
istoken(unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return 0;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';':
	case ':': case '\\': case '"': case '/': case '[': case ']': case '?':
	case '=':
		return 0;
	}
	return 1;
}

static int
isws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip CFWS from s[i]; an unterminated comment runs to the end. */
static size_t
skipcfws(const char *s, size_t n, size_t i)
{
	size_t depth;

	while (i < n) {
		if (isws(s[i])) {
			i++;
			continue;
		}
		if (s[i] != '(')
			break;
		for (depth = 0; i < n; i++) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth == 0)
				break;
		}
		if (i < n)
			i++;
	}
	return i < n ? i : n;
}

static size_t
skiptosemi(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != ';')
		i++;
	return i;
}

/* The end of the quoted string whose text starts at s[i]. */
static size_t
quotedend(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != '"') {
		if (s[i] == '\\' && n - i >= 2)
			i++;
		i++;
	}
	return i;
}

/* An unquoted value from s[*ip]: up to ";" or the end, trailing CFWS
 * dropped.  Returns its end, *ip where the parser goes on. */
static size_t
unquotedend(const char *s, size_t n, size_t *ip)
{
	size_t i = *ip, end = *ip, k;

	while (i < n && s[i] != ';') {
		if (isws(s[i]) || s[i] == '(') {
			k = skipcfws(s, n, i);
			if (k == n || s[k] == ';') {
				i = k;
				break;
			}
			i = end = k;
			continue;
		}
		end = ++i;
	}
	*ip = i;
	return end;
}

/* Copy a record's value to out: quotes resolved.  The length. */
static size_t
copyvalue(const char *s, const struct prec *r, char *out)
{
	const char *p = s + r->off;
	size_t i, o = 0;

	for (i = 0; i < r->len; i++) {
		if (r->quoted && p[i] == '\\' && r->len - i >= 2 &&
		    (p[i + 1] == '"' || p[i + 1] == '\\'))
			i++;
		out[o++] = p[i];
	}
	return o;
}

/* Resolve %XX in place.  The new length. */
static size_t
pctdecode(char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++, o++) {
		int c;

		if (p[i] == '%' && (c = hexpair(p + i + 1, n - i - 1)) >= 0) {
			p[o] = (char)c;
			i += 2;
		} else
			p[o] = p[i];
	}
	return o;
}

/* Split RFC 2231's charset'language' off the n bytes at p: the charset,
 * lower-cased, goes to cs (left "" if it is empty or too long).  The
 * number of bytes taken from p. */
static size_t
splitcharset(const char *p, size_t n, char cs[NYM_CHARSET_MAX + 1])
{
	size_t q1, q2;

	for (q1 = 0; q1 < n && p[q1] != '\''; q1++)
		;
	for (q2 = q1 + 1; q2 < n && p[q2] != '\''; q2++)
		;
	if (q2 >= n)
		return 0;
	if (q1 <= NYM_CHARSET_MAX)
		*lowercopy(cs, p, q1) = '\0';
	return q2 + 1;
}

static int
namecmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
			return 1;
	return 0;
}

/* Add nr, whose name is s[n0, n1), to its parameter as rec[*nrec], or
 * drop it if that section was seen before.  0, or -1 EINVAL at a limit. */
static int
addrec(const char *s, size_t n0, size_t n1, const struct prec *nr,
    struct prec *rec, size_t *nrec, size_t reccap, struct pslot *slot,
    size_t *nslot)
{
	struct pslot *sl;
	size_t k, e = n1, d;
	int sec = SEC_PLAIN, pct = 0;

	if (s[e - 1] == '*' && e - n0 >= 2) {
		pct = 1;
		sec = SEC_EXT;
		e--;
	}
	for (d = e; d > n0 && s[d - 1] >= '0' && s[d - 1] <= '9'; d--)
		;
	if (d < e && d - n0 >= 2 && s[d - 1] == '*') {
		if (e - d > 3)
			goto limit;
		for (sec = 0, k = d; k < e; k++)
			sec = sec * 10 + (s[k] - '0');
		if (sec >= NYM_MIME_SECTIONS)
			goto limit;
		e = d - 1;
	}
	for (k = 0; k < *nslot; k++)
		if (slot[k].nlen == e - n0 &&
		    namecmp(s + slot[k].noff, s + n0, e - n0) == 0)
			break;
	if (k == *nslot) {
		if (k == NYM_MIME_PARAMS)
			goto limit;
		slot[k].noff = n0;
		slot[k].nlen = e - n0;
		slot[k].have[0] = slot[k].have[1] = 0;
		slot[k].head = slot[k].tail = -1;
		(*nslot)++;
	}
	sl = &slot[k];
	if (HAVE(sl, sec))
		return 0;
	if (*nrec == reccap)
		goto limit;
	sl->have[sec / 64] |= (uint64_t)1 << sec % 64;
	rec[*nrec] = *nr;
	rec[*nrec].sec = sec;
	rec[*nrec].pct = pct;
	rec[*nrec].next = -1;
	if (sl->tail >= 0)
		rec[sl->tail].next = (int)*nrec;
	else
		sl->head = (int)*nrec;
	sl->tail = (int)*nrec;
	(*nrec)++;
	return 0;
limit:
	errno = EINVAL;
	return -1;
}

/* Append record r's value at w: quotes, RFC 2231 charset and %XX
 * resolved.  The length. */
static size_t
appendrec(const char *s, const struct prec *r, char *w,
    char cs[NYM_CHARSET_MAX + 1])
{
	size_t len, skip = 0, i;

	len = copyvalue(s, r, w);
	if (!r->pct)
		return len;
	if (r->sec == SEC_EXT || r->sec == 0)
		skip = splitcharset(w, len, cs);
	for (i = 0; skip > 0 && i + skip < len; i++)
		w[i] = w[i + skip];
	return pctdecode(w, len - skip);
}

/* Build parameter sl's value at w and its charset after it.  Returns the
 * end of what was written. */
static char *
buildvalue(const char *s, const struct prec *rec, const struct pslot *sl,
    struct nym_param *p, char *w)
{
	char cs[NYM_CHARSET_MAX + 1], wcs[NYM_CHARSET_MAX + 1];
	int order[NYM_MIME_SECTIONS];
	size_t len = 0, nord, k;
	ssize_t dl;
	int j, want;

	if (HAVE(sl, SEC_EXT))
		want = SEC_EXT;
	else if (sl->have[0] != 0 ||
	    (sl->have[1] &
	    (((uint64_t)1 << (NYM_MIME_SECTIONS - 64)) - 1)) != 0)
		want = SEC_ANY;
	else
		want = SEC_PLAIN;
	if (want == SEC_ANY) {
		for (k = 0; k < NYM_MIME_SECTIONS; k++)
			order[k] = -1;
		for (j = sl->head; j >= 0; j = rec[j].next)
			if (rec[j].sec < NYM_MIME_SECTIONS)
				order[rec[j].sec] = j;
		nord = NYM_MIME_SECTIONS;
	} else {
		for (j = sl->head; j >= 0 && rec[j].sec != want;
		    j = rec[j].next)
			;
		order[0] = j;
		nord = 1;
	}

	cs[0] = '\0';
	for (k = 0; k < nord; k++)
		if (order[k] >= 0)
			len += appendrec(s, &rec[order[k]], w + len, cs);
	w[len] = '\0';
	p->value = w;
	p->ext = want != SEC_PLAIN;

	for (k = 0; k + 1 < len && (w[k] != '=' || w[k + 1] != '?'); k++)
		;
	if (k + 1 < len && (dl = decode2047(w, len, w, len + 1, wcs)) >= 0 &&
	    wcs[0] != '\0') {
		len = (size_t)dl;
		p->w2047 = 1;
		for (k = 0; wcs[k] != '\0'; k++)
			cs[k] = wcs[k];
		cs[k] = '\0';
	}
	w += len + 1;
	if (cs[0] != '\0') {
		p->charset = w;
		for (k = 0; cs[k] != '\0'; k++)
			*w++ = cs[k];
		*w++ = '\0';
	}
	return w;
}

int
nym_mime_parse(const char *s, size_t n, struct nym_mimetype *m)
{
	struct pslot slot[NYM_MIME_PARAMS];
	struct prec *rec, nr;
	size_t i, k, t0, t1, u0 = 0, u1 = 0, n0, n1, v0, v1, neq, nslot = 0;
	size_t nrec = 0, reccap, strcap;
	char *w;
	int quoted;

	m->type = NULL;
	m->p = NULL;
	m->np = 0;
	m->store = NULL;
	if (s == NULL)
		goto inval;

	i = skipcfws(s, n, 0);
	for (t0 = i; i < n && istoken((unsigned char)s[i]); i++)
		;
	if ((t1 = i) == t0)
		goto inval;
	i = skipcfws(s, n, i);
	if (i < n && s[i] == '/') {
		i = skipcfws(s, n, i + 1);
		for (u0 = i; i < n && istoken((unsigned char)s[i]); i++)
			;
		if ((u1 = i) == u0)
			goto inval;
	}

	for (neq = 0, k = i; k < n; k++)
		neq += s[k] == '=';
	reccap = neq < NYM_MIME_RECS ? neq : NYM_MIME_RECS;
	strcap = n + 2 +
	    (neq < NYM_MIME_PARAMS ? neq : NYM_MIME_PARAMS) * PARAM_EXTRA;
	if ((m->store = malloc(reccap * sizeof(*rec) + strcap)) == NULL)
		return -1;
	rec = (struct prec *)(void *)m->store;

	for (;;) {
		for (;;) {
			i = skipcfws(s, n, i);
			if (i == n || s[i] != ';')
				break;
			i++;
		}
		if (i == n)
			break;
		for (n0 = i; i < n && istoken((unsigned char)s[i]); i++)
			;
		n1 = i;
		i = skipcfws(s, n, i);
		if (n1 == n0 || i == n || s[i] != '=') {
			i = skiptosemi(s, n, i);
			continue;
		}
		i = skipcfws(s, n, i + 1);
		quoted = i < n && s[i] == '"';
		if (quoted) {
			v0 = i + 1;
			v1 = i = quotedend(s, n, v0);
			i = skiptosemi(s, n, i);
		} else {
			v0 = i;
			v1 = unquotedend(s, n, &i);
		}
		nr.off = v0;
		nr.len = v1 - v0;
		nr.quoted = quoted;
		if (addrec(s, n0, n1, &nr, rec, &nrec, reccap, slot,
		    &nslot) == -1)
			goto fail;
	}

	w = m->store + reccap * sizeof(*rec);
	m->type = w;
	w = lowercopy(w, s + t0, t1 - t0);
	if (u1 > u0) {
		*w++ = '/';
		w = lowercopy(w, s + u0, u1 - u0);
	}
	*w++ = '\0';
	if (nslot == 0)
		return 0;
	if ((m->p = calloc(nslot, sizeof(*m->p))) == NULL)
		goto fail;
	for (k = 0; k < nslot; k++) {
		m->p[k].name = w;
		w = lowercopy(w, s + slot[k].noff, slot[k].nlen);
		*w++ = '\0';
		w = buildvalue(s, rec, &slot[k], &m->p[k], w);
	}
	m->np = nslot;
	return 0;
inval:
	errno = EINVAL;
fail:
	nym_mime_free(m);
	return -1;
}

void
nym_mime_free(struct nym_mimetype *m)
{
	if (m == NULL)
		return;
	free(m->store);
	free(m->p);
	m->store = NULL;
	m->p = NULL;
	m->np = 0;
	m->type = NULL;
}

const struct nym_param *
nym_mime_param(const struct nym_mimetype *m, const char *name)
{
	size_t i, k;

	if (m == NULL || name == NULL)
		return NULL;
	for (i = 0; i < m->np; i++) {
		for (k = 0; name[k] != '\0' && lc((unsigned char)name[k]) ==
		    (unsigned char)m->p[i].name[k]; k++)
			;
		if (name[k] == '\0' && m->p[i].name[k] == '\0')
			return &m->p[i];
	}
	return NULL;
}
