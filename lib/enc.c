/*
 * enc.c - base32, base64 and quoted-printable.
 *
 * These run on every message, so they work in caller buffers with no
 * allocation and no tables built at run time.  Decoders never write more
 * than they were told and never write ahead of what they read, so
 * nym_unbase64 and nym_unqp may decode in place (rfc2047.c relies on
 * this).  nym_qp's output always decodes back to its input, with input
 * line breaks turned into the requested end of line.  nym_unflow makes
 * format=flowed text fixed, one line a paragraph.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

#define QP_LINE	76	/* RFC 2045 6.7 rule 5, counting a soft break's "=" */

static const char b32alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char b64alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char hexdig[] = "0123456789ABCDEF";

size_t
nym_base32(const unsigned char *in, size_t n, char *out)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32alpha[acc >> bits & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32alpha[acc << (5 - bits) & 31];
	out[o] = '\0';
	return o;
}

ssize_t
nym_unbase32(const char *in, size_t n, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			errno = EINVAL;
			return -1;
		}
		acc = (acc << 5 | (uint32_t)v) & 0x1fff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap) {
				errno = ENOBUFS;
				return -1;
			}
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* What is left over must be padding bits of zero, fewer than
	 * five, or the text was not written by an encoder. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
		errno = EINVAL;
		return -1;
	}
	return (ssize_t)o;
}

static char
b64digit(unsigned v, const char *a6263)
{
	return v < 62 ? b64alpha[v] : a6263[v - 62];
}

size_t
nym_base64(const unsigned char *in, size_t n, char *out,
    const char *alpha62_63)
{
	const char *a = alpha62_63 != NULL ? alpha62_63 : "+/";
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64digit(v >> 18, a);
		out[o++] = b64digit(v >> 12 & 63, a);
		out[o++] = b64digit(v >> 6 & 63, a);
		out[o++] = b64digit(v & 63, a);
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64digit(v >> 18, a);
		out[o++] = b64digit(v >> 12 & 63, a);
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64digit(v >> 18, a);
		out[o++] = b64digit(v >> 12 & 63, a);
		out[o++] = b64digit(v >> 6 & 63, a);
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

#define B64_WS	0x40	/* white space, skipped */
#define B64_PAD	0x41	/* '=', the end */
#define B64_BAD	0xff	/* anything else */

/* The decoding table for the alphabet a6263 ends with, built once per
 * alphabet: this runs over every base64 HTML part a filter rewrites. */
static const unsigned char *
b64table(const char *a6263)
{
	static unsigned char tab[256];
	static char built[2];
	int i;

	if (built[0] == a6263[0] && built[1] == a6263[1])
		return tab;
	memset(tab, B64_BAD, sizeof tab);
	for (i = 0; i < 62; i++)
		tab[(unsigned char)b64alpha[i]] = (unsigned char)i;
	tab[(unsigned char)a6263[0]] = 62;
	tab[(unsigned char)a6263[1]] = 63;
	tab[' '] = tab['\t'] = tab['\n'] = tab['\v'] = tab['\f'] =
	    tab['\r'] = B64_WS;
	tab['='] = B64_PAD;
	built[0] = a6263[0];
	built[1] = a6263[1];
	return tab;
}

ssize_t
nym_unbase64(const char *in, size_t n, unsigned char *out, size_t cap,
    const char *alpha62_63)
{
	const unsigned char *tab = b64table(alpha62_63 != NULL ? alpha62_63 :
	    "+/");
	const unsigned char *s = (const unsigned char *)in;
	uint32_t acc = 0;
	size_t i = 0, o = 0;
	int bits = 0, v;

	while (i < n) {
		/* Four characters, three bytes, while the input is clean. */
		if (bits == 0 && n - i >= 4 && cap - o >= 3) {
			int a = tab[s[i]], b = tab[s[i + 1]],
			    c = tab[s[i + 2]], d = tab[s[i + 3]];

			/* Values under 64 are digits; the rest are not. */
			if (((a | b | c | d) & 0xc0) == 0) {
				acc = (uint32_t)a << 18 | (uint32_t)b << 12 |
				    (uint32_t)c << 6 | (uint32_t)d;
				out[o++] = (unsigned char)(acc >> 16);
				out[o++] = (unsigned char)(acc >> 8);
				out[o++] = (unsigned char)acc;
				i += 4;
				continue;
			}
		}
		v = tab[s[i++]];
		if (v == B64_PAD)
			break;
		if (v == B64_WS)
			continue;
		if (v == B64_BAD) {
			errno = EINVAL;
			return -1;
		}
		acc = (acc << 6 | (uint32_t)v) & 0xfff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			/* Four characters give three bytes: o < i here. */
			if (o < cap)
				out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)o;
}

int
nym_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t
nym_unqp(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, j;
	int hi, lo;

	while (i < n) {
		if (in[i] != '=') {
			/* Up to the next '=' as it is. */
			const char *q = memchr(in + i, '=', n - i);
			size_t run = q != NULL ? (size_t)(q - in) - i : n - i;

			memmove(out + o, in + i, run);
			o += run;
			i += run;
			continue;
		}
		if (n - i >= 3 &&
		    (hi = nym_hexval((unsigned char)in[i + 1])) >= 0 &&
		    (lo = nym_hexval((unsigned char)in[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
			continue;
		}
		/* A soft break: "=", blanks, then LF, CRLF or the end. */
		for (j = i + 1; j < n && (in[j] == ' ' || in[j] == '\t'); j++)
			;
		if (j == n)
			i = n;
		else if (in[j] == '\n')
			i = j + 1;
		else if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n')
			i = j + 2;
		else
			out[o++] = in[i++];
	}
	return o;
}

/* Does a line break or the end of input come at in[i]? */
static inline int
atbreak(const char *in, size_t n, size_t i)
{
	return i == n || in[i] == '\n' ||
	    (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n');
}

/* A byte quoted-printable writes as it is (space and tab only where
 * no line break follows). */
#define QPLIT(c) (((unsigned char)(c) > ' ' && (unsigned char)(c) < 127 && \
	(c) != '=') || (c) == ' ' || (c) == '\t')

/* QPLIT as a table, for the runs of them. */
static const unsigned char qplit[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

/* Append b[0, bn) at out + o (out NULL: only count). */
#define QPPUT(b, bn) do {						\
	if (out != NULL)						\
		for (size_t k_ = 0; k_ < (bn); k_++)			\
			out[o + k_] = (b)[k_];				\
	o += (bn);							\
} while (0)

size_t
nym_qp(const char *in, size_t n, char *out, const char *eol)
{
	size_t i, o = 0, col = 0, el, tl;
	char tok[3];
	int last;

	if (eol == NULL)
		eol = "\n";
	el = strlen(eol);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\n' || (c == '\r' && i + 1 < n && in[i + 1] == '\n')) {
			if (c == '\r')
				i++;
			QPPUT(eol, el);
			col = 0;
			continue;
		}
		/* "From " at a line's start as "=46rom ": as it is, it would
		 * start a message in an mbox. */
		if (c == 'F' && col == 0 && n - i >= 5 &&
		    memcmp(in + i, "From ", 5) == 0) {
			QPPUT("=46", 3);
			col = 3;
			continue;
		}
		/* A run of bytes written as they are, none of them before a
		 * break (the next one is of the run too), that fits on the
		 * line: copied at once. */
		if (QPLIT(c) && col + 2 < QP_LINE) {
			size_t j = i + 1, lim = i + (QP_LINE - 1 - col);

			if (lim > n)
				lim = n;
			while (j < lim && qplit[(unsigned char)in[j]])
				j++;
			if (j - i >= 2) {
				tl = j - i - 1;
				if (out != NULL)
					memcpy(out + o, in + i, tl);
				o += tl;
				col += tl;
				i += tl - 1;
				continue;
			}
		}
		last = atbreak(in, n, i + 1);
		if (c > ' ' && c < 127 && c != '=') {
			/* Most text: one character as it is. */
			if (col + 1 > (last ? QP_LINE : QP_LINE - 1)) {
				QPPUT("=", 1);
				QPPUT(eol, el);
				col = 0;
				if (c == 'F' && n - i >= 5 &&
				    memcmp(in + i, "From ", 5) == 0) {
					QPPUT("=46", 3);
					col = 3;
					continue;
				}
			}
			if (out != NULL)
				out[o] = (char)c;
			o++;
			col++;
			continue;
		}
		if (c == '=' || c >= 127 || (c < ' ' && c != '\t') ||
		    ((c == ' ' || c == '\t') && last)) {
			tok[0] = '=';
			tok[1] = hexdig[c >> 4];
			tok[2] = hexdig[c & 15];
			tl = 3;
		} else {
			tok[0] = (char)c;
			tl = 1;
		}
		/* A line that goes on needs room for the soft break's "=". */
		if (col + tl > (last ? QP_LINE : QP_LINE - 1)) {
			QPPUT("=", 1);
			QPPUT(eol, el);
			col = 0;
		}
		QPPUT(tok, tl);
		col += tl;
	}
	return o;
}

size_t
nym_unflow(const char *in, size_t n, char *out, int delsp)
{
	const char *l, *nl, *peol = NULL;
	size_t i = 0, o = 0, len, el, q, s, pel = 0;
	int open = 0, soft, sig;
	size_t depth = 0;

	while (i < n) {
		l = in + i;
		nl = nym_nl(l, n - i);
		len = nl != NULL ? (size_t)(nl + 1 - l) : n - i;
		el = nl == NULL ? 0 : len >= 2 && l[len - 2] == '\r' ? 2 : 1;
		i += len;
		len -= el;
		for (q = 0; q < len && l[q] == '>'; q++)
			;
		s = q < len && l[q] == ' ' ? q + 1 : q;
		sig = len - s == 3 && memcmp(l + s, "-- ", 3) == 0;
		soft = len > s && l[len - 1] == ' ' && !sig;
		/* A hard break: the open line ends with its own line end. */
		if (open && (q != depth || sig)) {
			memcpy(out + o, peol, pel);
			o += pel;
			open = 0;
		}
		/* A new line keeps its quote prefix; stuffing goes. */
		if (!open && q > 0) {
			memcpy(out + o, l, s);
			o += s;
		}
		memcpy(out + o, l + s, len - s - (soft && delsp));
		o += len - s - (soft && delsp);
		if (soft) {
			open = 1;
			depth = q;
			peol = l + len;
			pel = el;
		} else {
			memcpy(out + o, l + len, el);
			o += el;
			open = 0;
		}
	}
	if (open) {
		memcpy(out + o, peol, pel);
		o += pel;
	}
	return o;
}
