/*
 * dkim.c - onion sender signatures: DKIM (RFC 6376) with ed25519-sha256
 * (RFC 8463), c=relaxed/relaxed, d= the sender's onion, and the key the
 * onion address itself.
 *
 * Tor tells a receiver nothing about who connects, but a v3 onion
 * address is an Ed25519 public key: a sender signs with its onion
 * service's key and the receiver checks against the key in the sender's
 * address, with no lookup.  The format is DKIM's, so that an independent
 * implementation given that key (as a "k=ed25519; p=..." record) checks
 * the same bytes.
 *
 * One streaming engine serves both sides: the header section is held
 * (bounded), and at the blank line the signatures in it are parsed;
 * the body is canonicalised and hashed as it passes, in one pass and
 * constant memory, and only if some signature needs it.  At the end a
 * signer hashes its chosen fields and signs, a verifier hashes each
 * candidate's h= fields and checks b=.
 *
 * What we sign: the fields in `signed` below, each once more than it
 * occurs (over-signing: none of them can be added on the way without
 * breaking the signature), no t= (it would repeat the sending time the
 * delay queue hides; the Date field is signed anyway), no x=, no l= (a
 * verifier here refuses l=: content appended after the signed length
 * would pass), no i=.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gcrypt.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base.h"
#include "msg.h"
#include "seal.h"
#include "tor.h"

/* The fields a signature covers, in the order of h=. */
static const char *const signedf[] = {
	"from", "sender", "reply-to", "to", "cc", "subject", "date",
	"message-id", "in-reply-to", "references", "mime-version",
	"content-type", "content-transfer-encoding", "content-disposition",
};
#define NSIGNED	(sizeof signedf / sizeof signedf[0])

enum { HS_LINE, HS_LINECR, HS_MID };	/* where the header scan is */

struct field {
	size_t off, len;	/* in hdr: the raw field, folds and line end */
	size_t nlen;		/* its name, trailing WSP dropped; 0: none */
};

struct tag {
	size_t ns, ne, vs, ve;	/* name and value (trimmed), in the field */
};

struct sig {
	size_t f;			/* its field */
	int rank;			/* how far it got, for the reason */
	int cand;			/* ours and well-formed so far */
	size_t bs, be;			/* b='s value, deleted for the hash */
	size_t hs, he;			/* h='s value */
	unsigned char bh[32], b[64];
	char why[NYM_DKIM_WHY];
};

/* How far a signature got: the best one names the failure. */
enum {
	R_OTHER = 1,	/* another domain */
	R_MALFORMED,	/* no domain we could read */
	R_OURS,		/* ours, of a kind we do not check or malformed */
	R_BODY,		/* ours, body hash mismatch */
	R_SIG		/* ours, bad signature */
};

struct nym_dkim {
	int signer;
	const struct nym_onion_key *key;
	struct nym_onion want;	/* its pk is the key a signature needs */
	int anydom;		/* nym_dkim_verifier_key: want.name is a
				   domain, not necessarily an onion */
	/* the header section */
	char *hdr;
	size_t hlen, hcap;
	int hstate, inbody, done, toobig, nomem;
	struct field *f;
	size_t nf;
	struct sig sigs[NYM_DKIM_SIGS_MAX];
	size_t nsig, nsigall;
	/* the body */
	int hashing;
	gcry_md_hd_t md;
	uint64_t crlfs;		/* line ends owed before the next content */
	int wsp, cr, any;
	size_t olen;
	unsigned char out[NYM_DKIM_BUF];
};

static int
iswsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
isfws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
isalpha_(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
isdigit_(int c)
{
	return c >= '0' && c <= '9';
}

static struct nym_dkim *
alloc(void)
{
	struct nym_dkim *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	if (nym_gcry_ready() == -1 ||
	    gcry_md_open(&d->md, GCRY_MD_SHA256, 0) != 0) {
		free(d);
		errno = ENOSYS;
		return NULL;
	}
	d->hstate = HS_LINE;
	return d;
}

struct nym_dkim *
nym_dkim_verifier(const char *onion)
{
	struct nym_dkim *d;
	struct nym_onion o;
	const char *why;

	if (nym_onion_parse(onion, &o, &why) == -1) {
		errno = EINVAL;
		return NULL;
	}
	if ((d = alloc()) == NULL)
		return NULL;
	d->want = o;
	return d;
}

struct nym_dkim *
nym_dkim_verifier_key(const char *domain, const unsigned char pk[32])
{
	struct nym_dkim *d;

	if (strlen(domain) >= sizeof d->want.name) {
		errno = EINVAL;
		return NULL;
	}
	if ((d = alloc()) == NULL)
		return NULL;
	d->anydom = 1;
	memcpy(d->want.pk, pk, 32);
	memcpy(d->want.name, domain, strlen(domain) + 1);
	return d;
}

struct nym_dkim *
nym_dkim_signer(const struct nym_onion_key *k)
{
	struct nym_dkim *d;

	if ((d = alloc()) == NULL)
		return NULL;
	d->signer = 1;
	d->key = k;
	return d;
}

void
nym_dkim_free(struct nym_dkim *d)
{
	if (d == NULL)
		return;
	gcry_md_close(d->md);
	free(d->hdr);
	free(d->f);
	free(d);
}

/* ---- the body, relaxed (RFC 6376 3.4.4) ---- */

static void
oflush(struct nym_dkim *d)
{
	if (d->olen > 0)
		gcry_md_write(d->md, d->out, d->olen);
	d->olen = 0;
}

static void
emit(struct nym_dkim *d, const void *p, size_t n)
{
	if (d->olen + n > sizeof d->out) {
		oflush(d);
		if (n > sizeof d->out / 2) {
			gcry_md_write(d->md, p, n);
			return;
		}
	}
	memcpy(d->out + d->olen, p, n);
	d->olen += n;
}

/* Before content: the line ends owed, then one space for a run of WSP. */
static void
owed(struct nym_dkim *d)
{
	while (d->crlfs > 0) {
		emit(d, "\r\n", 2);
		d->crlfs--;
	}
	if (d->wsp)
		emit(d, " ", 1);
	d->wsp = 0;
	d->any = 1;
}

/*
 * The state between two bytes: crlfs, the line ends owed (written only
 * when content follows: empty lines at the end are dropped); wsp, a run
 * of WSP on this line (one space, written before the line's next
 * content, dropped at its end); cr, a CR (the line's end if an LF
 * follows, else content).  body() below is that state machine, byte by
 * byte; but with the three clear, a byte is its own relaxed form unless
 * it is a TAB, a CR, an LF, or a SPACE that another WSP, a CR or an LF
 * follows, and run() copies such stretches to the output a block at a
 * time (32 bytes with SSE2, else 16), taking in its stride a line end
 * (LF or CRLF) that content follows, written CRLF.  Ordinary text is
 * one scan and one copy, and the SHA-256 is fed NYM_DKIM_BUF at a time.
 *
 * The bytes run() stops at (STOP) are the same whichever scan finds
 * them: TAB, CR, LF, and a SPACE followed by any byte up to 0x20 (before
 * a control byte, a SPACE takes the slow way, to the same result).
 */
#define STOP(p, k) ((p)[k] == '\t' || (p)[k] == '\r' || (p)[k] == '\n' || \
	((p)[k] == ' ' && (p)[(k) + 1] <= ' '))

#ifdef __SSE2__
#define BLOCK	32

/* The STOP bytes of x, y the bytes after each, as bits. */
static unsigned
stops16(__m128i x, __m128i y)
{
	const __m128i tab = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r'),
	    lf = _mm_set1_epi8('\n'), sp = _mm_set1_epi8(' ');

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
	    _mm_or_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(x, cr)),
	    _mm_or_si128(_mm_cmpeq_epi8(x, lf),
	    _mm_and_si128(_mm_cmpeq_epi8(x, sp),
	    _mm_cmpeq_epi8(_mm_min_epu8(y, sp), y)))));
}

/* Copy p[0, BLOCK) to out up to the first STOP byte: its index, or
 * BLOCK for none (p[BLOCK] is read; out[0, BLOCK) may be written
 * whole).  Two sixteen-byte halves, one test. */
static size_t
scan(const unsigned char *p, unsigned char *out)
{
	__m128i x0 = _mm_loadu_si128((const void *)p),
	    x1 = _mm_loadu_si128((const void *)(p + 16));
	uint32_t bits;

	bits = stops16(x0, _mm_loadu_si128((const void *)(p + 1))) |
	    (uint32_t)stops16(x1, _mm_loadu_si128((const void *)(p + 17)))
	    << 16;
	_mm_storeu_si128((void *)out, x0);
	_mm_storeu_si128((void *)(out + 16), x1);
	return bits == 0 ? BLOCK : (size_t)__builtin_ctz(bits);
}
#else
#define BLOCK	16
#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* Not 0 if some byte of x is below c (c at most 0x80): no byte below c
 * is missed, but one above such a byte may be flagged too; that costs a
 * look at the bytes, no more. */
static uint64_t
below(uint64_t x, unsigned c)
{
	return (x - ONES * c) & ~x & HIGHS;
}

/* As above, sixteen bytes in two words (p[16] is read).  TAB, LF and CR
 * are below 0x0e; a SPACE before a byte up to 0x20 is a zero byte of
 * x ^ SPACEs where y, the bytes after, is below 0x21. */
static size_t
scan(const unsigned char *p, unsigned char *out)
{
	uint64_t x0, x1, y0, y1;
	size_t k;

	memcpy(&x0, p, 8);
	memcpy(&x1, p + 8, 8);
	memcpy(&y0, p + 1, 8);
	memcpy(&y1, p + 9, 8);
	if ((below(x0, 0x0e) | below(x1, 0x0e) |
	    (below(x0 ^ ONES * ' ', 1) & below(y0, 0x21)) |
	    (below(x1 ^ ONES * ' ', 1) & below(y1, 0x21))) == 0) {
		memcpy(out, p, BLOCK);
		return BLOCK;
	}
	for (k = 0; k < BLOCK && !STOP(p, k); k++)
		out[k] = p[k];
	return k;
}
#endif

/* 0: ordinary, 1: WSP, 2: CR, 3: LF */
static const unsigned char bclass[256] = {
	['\t'] = 1, [' '] = 1, ['\r'] = 2, ['\n'] = 3,
};

/* With the state clear: p[0, n)'s relaxed form into the output as far
 * as it is a copy but for line ends that content follows: the bytes
 * taken.  It stops at a STOP byte it does not take, or where fewer than
 * BLOCK + 1 bytes are left; the state is clear there. */
static size_t
run(struct nym_dkim *d, const unsigned char *p, size_t n)
{
	unsigned char *out = d->out;
	size_t o = d->olen, k = 0, j;

	while (n - k > BLOCK) {
		if (sizeof d->out - o < BLOCK + 2) {
			gcry_md_write(d->md, out, o);
			o = 0;
		}
		j = scan(p + k, out + o);
		k += j;
		o += j;
		if (j == BLOCK)
			continue;
		/* p[k + 1] is there: k < n - 1 */
		if (p[k] == '\n' && bclass[p[k + 1]] == 0)
			k++;
		else if (p[k] == '\r' && p[k + 1] == '\n' && k + 2 < n &&
		    bclass[p[k + 2]] == 0)
			k += 2;
		else
			break;
		out[o++] = '\r';
		out[o++] = '\n';
	}
	d->olen = o;
	return k;
}

#define PUT(x) do {							\
	out[o++] = (x);							\
	if (o == sizeof d->out) {					\
		gcry_md_write(d->md, out, o);				\
		o = 0;							\
	}								\
} while (0)
#define OWED() do {							\
	for (; crlfs > 0; crlfs--) {					\
		PUT('\r');						\
		PUT('\n');						\
	}								\
	if (wsp)							\
		PUT(' ');						\
	wsp = 0;							\
	any = 1;							\
} while (0)

static void
body(struct nym_dkim *d, const unsigned char *p, size_t n)
{
	unsigned char *out = d->out;
	size_t o = d->olen, i = 0, k;
	uint64_t crlfs = d->crlfs;
	int wsp = d->wsp, cr = d->cr, any = d->any;

	while (i < n) {
		if (crlfs == 0 && !wsp && !cr) {
			d->olen = o;
			k = run(d, p + i, n - i);
			o = d->olen;
			if (k > 0)
				any = 1;
			if ((i += k) == n)
				break;
		}
		/* byte by byte until the state is clear again, or to the
		 * end if run() could not take another block */
		do {
			unsigned char c = p[i++];

			if (cr && c != '\n') {	/* a bare CR is content */
				cr = 0;
				OWED();
				PUT('\r');
			}
			if (bclass[c] == 0) {
				OWED();
				PUT(c);
			} else if (bclass[c] == 1)
				wsp = 1;
			else if (bclass[c] == 2)
				cr = 1;
			else {
				cr = 0;
				wsp = 0;
				crlfs++;
			}
		} while (i < n && (crlfs > 0 || wsp || cr || n - i <= BLOCK));
	}
	d->any = any;
	d->olen = o;
	d->crlfs = crlfs;
	d->wsp = wsp;
	d->cr = cr;
}

static void
bodyend(struct nym_dkim *d, unsigned char bh[32])
{
	if (d->cr) {
		d->cr = 0;
		owed(d);
		emit(d, "\r", 1);
	}
	if (d->any)
		emit(d, "\r\n", 2);
	oflush(d);
	memcpy(bh, gcry_md_read(d->md, GCRY_MD_SHA256), 32);
}

/* ---- header fields, relaxed (RFC 6376 3.4.2) ---- */

/* Hash the field f[0, n) relaxed into md, the value's bytes [ds, de)
 * (offsets in f) left out, with a CRLF after it if crlf. */
static void
hfield(gcry_md_hd_t md, const char *f, size_t n, size_t ds, size_t de,
    int crlf)
{
	size_t i, colon;
	int pend = 0, started = 0;

	while (n > 0 && (f[n - 1] == '\n' || f[n - 1] == '\r'))
		n--;
	for (colon = 0; colon < n && f[colon] != ':'; colon++)
		;
	for (i = colon; i > 0 && isfws((unsigned char)f[i - 1]); i--)
		;
	for (size_t j = 0; j < i; j++) {
		unsigned char c = (unsigned char)f[j];

		gcry_md_putc(md, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	gcry_md_putc(md, ':');
	for (i = colon + 1; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (i >= ds && i < de)
			continue;
		if (c == '\r' || c == '\n')
			continue;
		if (iswsp(c)) {
			pend = 1;
			continue;
		}
		if (pend && started)
			gcry_md_putc(md, ' ');
		pend = 0;
		started = 1;
		gcry_md_putc(md, c);
	}
	if (crlf) {
		gcry_md_putc(md, '\r');
		gcry_md_putc(md, '\n');
	}
}

static int
namematch(const struct nym_dkim *d, size_t fi, const char *name, size_t len)
{
	return d->f[fi].nlen == len &&
	    strncasecmp(d->hdr + d->f[fi].off, name, len) == 0;
}

/* The field h='s k-th entry (0-based) stands for: the (c+1)-th instance
 * from the bottom, c being how often the same name came before in h=
 * (RFC 6376 5.4.2).  -1 when there is none (it then adds nothing). */
static long
pick(const struct nym_dkim *d, const char *name, size_t len, size_t c)
{
	size_t i;

	for (i = d->nf; i-- > 0;)
		if (namematch(d, i, name, len) && c-- == 0)
			return (long)i;
	return -1;
}

/* ---- the header section ---- */

static void
hadd(struct nym_dkim *d, const char *p, size_t n)
{
	size_t cap;
	char *nb;

	if (d->toobig || d->nomem)
		return;
	if (d->hlen + n > NYM_DKIM_HDR_MAX) {
		d->toobig = 1;
		return;
	}
	if (d->hlen + n > d->hcap) {
		cap = d->hcap ? d->hcap : 4096;
		while (cap < d->hlen + n)
			cap *= 2;
		if (cap > NYM_DKIM_HDR_MAX)
			cap = NYM_DKIM_HDR_MAX;
		if ((nb = realloc(d->hdr, cap)) == NULL) {
			d->nomem = 1;
			return;
		}
		d->hdr = nb;
		d->hcap = cap;
	}
	memcpy(d->hdr + d->hlen, p, n);
	d->hlen += n;
}

/* Split the header section into fields. */
static int
split(struct nym_dkim *d)
{
	size_t i, n = 0, pass;

	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (i = 0; i < d->hlen;) {
			size_t s = i, e;

			do {
				while (i < d->hlen && d->hdr[i] != '\n')
					i++;
				if (i < d->hlen)
					i++;
			} while (i < d->hlen && iswsp((unsigned char)d->hdr[i]));
			if (pass == 1) {
				struct field *f = &d->f[n];

				f->off = s;
				f->len = i - s;
				for (e = s; e < i && d->hdr[e] != ':'; e++)
					;
				if (e == i)
					f->nlen = 0;
				else {
					while (e > s && iswsp((unsigned char)
					    d->hdr[e - 1]))
						e--;
					f->nlen = e - s;
				}
			}
			n++;
		}
		if (pass == 0) {
			if (n > NYM_FIELDS_MAX) {
				d->toobig = 1;
				return -1;
			}
			if (n > 0 && (d->f = calloc(n, sizeof *d->f)) == NULL) {
				d->nomem = 1;
				return -1;
			}
		}
	}
	d->nf = n;
	return 0;
}

static void
sigwhy(struct sig *s, int rank, const char *fmt, const char *a, size_t n)
{
	s->rank = rank;
	s->cand = 0;
	if (a == NULL)
		snprintf(s->why, sizeof s->why, "%s", fmt);
	else {
		if (n > 80)
			n = 80;
		snprintf(s->why, sizeof s->why, fmt, (int)n, a);
	}
	/* a reason goes into one log line or one SMTP reply: nothing but
	 * printable ASCII */
	for (char *c = s->why; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
}

/* Parse the tag list of field t[0, n) (offsets in the field) into tags;
 * the number of tags, or -1 with *err saying why. */
static int
taglist(const char *t, size_t start, size_t n, struct tag *tags,
    const char **err)
{
	size_t i = start;
	int nt = 0;

	for (;;) {
		struct tag g;

		while (i < n && isfws((unsigned char)t[i]))
			i++;
		if (i == n)
			break;
		if (!isalpha_((unsigned char)t[i])) {
			*err = "a tag name that is not one";
			return -1;
		}
		g.ns = i;
		while (i < n && (isalpha_((unsigned char)t[i]) ||
		    isdigit_((unsigned char)t[i]) || t[i] == '_'))
			i++;
		g.ne = i;
		while (i < n && isfws((unsigned char)t[i]))
			i++;
		if (i == n || t[i] != '=') {
			*err = "a tag without '='";
			return -1;
		}
		i++;
		while (i < n && isfws((unsigned char)t[i]))
			i++;
		g.vs = i;
		while (i < n && t[i] != ';') {
			unsigned char c = (unsigned char)t[i];

			if (!isfws(c) && (c < 0x21 || c > 0x7e)) {
				*err = "a tag value with a character DKIM "
				    "does not allow";
				return -1;
			}
			i++;
		}
		g.ve = i;
		while (g.ve > g.vs && isfws((unsigned char)t[g.ve - 1]))
			g.ve--;
		for (int k = 0; k < nt; k++)
			if (tags[k].ne - tags[k].ns == g.ne - g.ns &&
			    memcmp(t + tags[k].ns, t + g.ns, g.ne - g.ns) ==
			    0) {
				*err = "a tag given twice";
				return -1;
			}
		if (nt == NYM_DKIM_TAGS_MAX) {
			*err = "too many tags";
			return -1;
		}
		tags[nt++] = g;
		if (i == n)
			break;
		i++;	/* ';' */
	}
	return nt;
}

static const struct tag *
tagget(const char *t, const struct tag *tags, int nt, const char *name)
{
	size_t len = strlen(name);

	for (int k = 0; k < nt; k++)
		if (tags[k].ne - tags[k].ns == len &&
		    memcmp(t + tags[k].ns, name, len) == 0)
			return &tags[k];
	return NULL;
}

static int
tageq(const char *t, const struct tag *g, const char *s)
{
	size_t len = strlen(s);

	return g->ve - g->vs == len && strncasecmp(t + g->vs, s, len) == 0;
}

/* base64 of exactly want bytes (whitespace inside allowed) into out. */
static int
b64tag(const char *t, const struct tag *g, unsigned char *out, size_t want)
{
	unsigned char buf[96];
	size_t k, chars = 0;
	ssize_t r;

	for (k = g->vs; k < g->ve; k++)
		if (!isfws((unsigned char)t[k]))
			chars++;
	if (chars != 4 * ((want + 2) / 3))
		return -1;
	r = nym_unbase64(t + g->vs, g->ve - g->vs, buf, sizeof buf, "+/");
	if (r != (ssize_t)want)
		return -1;
	memcpy(out, buf, want);
	return 0;
}

/* The names of h=, split at ':' (FWS around each allowed): their spans
 * into ns/ne, their number, or -1 with *err. */
static int
hnames(const char *t, size_t s, size_t e, size_t *ns, size_t *ne,
    const char **err)
{
	int n = 0, from = 0;
	size_t i = s;

	for (;;) {
		size_t a, b;

		while (i < e && isfws((unsigned char)t[i]))
			i++;
		a = i;
		while (i < e && t[i] != ':' && !isfws((unsigned char)t[i]))
			i++;
		b = i;
		while (i < e && isfws((unsigned char)t[i]))
			i++;
		if (a == b) {
			*err = "an empty name in h=";
			return -1;
		}
		if (n == NYM_DKIM_HNAMES_MAX) {
			*err = "too many names in h=";
			return -1;
		}
		if (b - a == 4 && strncasecmp(t + a, "from", 4) == 0)
			from = 1;
		ns[n] = a;
		ne[n] = b;
		n++;
		if (i == e)
			break;
		if (t[i] != ':') {
			*err = "h= is not a list of field names";
			return -1;
		}
		i++;
	}
	if (!from) {
		*err = "From is not signed (h=)";
		return -1;
	}
	return n;
}

/* Read one DKIM-Signature field: is it ours, and well formed? */
static void
readsig(struct nym_dkim *d, struct sig *s)
{
	const char *t = d->hdr + d->f[s->f].off;
	size_t n = d->f[s->f].len, ns[NYM_DKIM_HNAMES_MAX],
	    ne[NYM_DKIM_HNAMES_MAX];
	struct tag tags[NYM_DKIM_TAGS_MAX];
	const struct tag *g, *dt;
	struct nym_onion o;
	const char *err, *why;
	char dom[NYM_ONION_LABEL + NYM_ONION_NAME + 2];
	int nt;

	if (n > NYM_DKIM_SIG_MAX) {
		sigwhy(s, R_MALFORMED, "malformed DKIM-Signature: longer than "
		    "the limit", NULL, 0);
		return;
	}
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	nt = taglist(t, d->f[s->f].nlen + 1, n, tags, &err);
	if (nt == -1) {
		sigwhy(s, R_MALFORMED, "malformed DKIM-Signature tag list: %.*s",
		    err, strlen(err));
		return;
	}
	/* Whose is it?  d= first, so that another domain's signature of a
	 * kind we do not check is reported as another domain's. */
	if ((dt = tagget(t, tags, nt, "d")) == NULL) {
		sigwhy(s, R_MALFORMED, "malformed DKIM-Signature: no d= tag",
		    NULL, 0);
		return;
	}
	if (dt->ve - dt->vs >= sizeof dom) {
		sigwhy(s, R_OTHER, "signed by another domain (%.*s...)",
		    t + dt->vs, dt->ve - dt->vs);
		return;
	}
	memcpy(dom, t + dt->vs, dt->ve - dt->vs);
	dom[dt->ve - dt->vs] = '\0';
	if (d->anydom ? strcasecmp(dom, d->want.name) != 0 :
	    nym_onion_parse(dom, &o, &why) == -1 || o.label[0] != '\0' ||
	    memcmp(o.pk, d->want.pk, 32) != 0) {
		sigwhy(s, R_OTHER, "signed by another domain (%.*s), not by "
		    "the sender's onion", dom, strlen(dom));
		return;
	}
	if ((g = tagget(t, tags, nt, "v")) == NULL || !tageq(t, g, "1")) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: no v=1", NULL, 0);
		return;
	}
	if ((g = tagget(t, tags, nt, "a")) == NULL) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: no a= tag",
		    NULL, 0);
		return;
	}
	if (!tageq(t, g, "ed25519-sha256")) {
		sigwhy(s, R_OURS, "unsupported algorithm a=%.*s (an onion "
		    "signs with ed25519-sha256)", t + g->vs, g->ve - g->vs);
		return;
	}
	if ((g = tagget(t, tags, nt, "c")) == NULL ||
	    !tageq(t, g, "relaxed/relaxed")) {
		sigwhy(s, R_OURS, "unsupported canonicalization (only "
		    "c=relaxed/relaxed is checked)", NULL, 0);
		return;
	}
	if (tagget(t, tags, nt, "l") != NULL) {
		sigwhy(s, R_OURS, "unsupported body length limit l= (what "
		    "follows it would pass unsigned)", NULL, 0);
		return;
	}
	if (tagget(t, tags, nt, "s") == NULL) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: no s= tag",
		    NULL, 0);
		return;
	}
	if ((g = tagget(t, tags, nt, "x")) != NULL) {
		long long x = 0;
		size_t k;

		for (k = g->vs; k < g->ve && isdigit_((unsigned char)t[k]) &&
		    x < 1000000000000LL; k++)
			x = x * 10 + (t[k] - '0');
		if (k == g->vs || k != g->ve) {
			sigwhy(s, R_OURS, "malformed DKIM-Signature: x= is "
			    "no time", NULL, 0);
			return;
		}
		if (x < (long long)nym_now()) {
			sigwhy(s, R_OURS, "signature expired (x=)", NULL, 0);
			return;
		}
	}
	if ((g = tagget(t, tags, nt, "i")) != NULL) {
		size_t at = g->ve, dl = strlen(dom);

		while (at > g->vs && t[at - 1] != '@')
			at--;
		if (at == g->vs || !((g->ve - at == dl &&
		    strncasecmp(t + at, dom, dl) == 0) ||
		    (g->ve - at > dl && t[g->ve - dl - 1] == '.' &&
		    strncasecmp(t + g->ve - dl, dom, dl) == 0))) {
			sigwhy(s, R_OURS, "malformed DKIM-Signature: i= is "
			    "not at d=", NULL, 0);
			return;
		}
	}
	if ((g = tagget(t, tags, nt, "h")) == NULL) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: no h= tag",
		    NULL, 0);
		return;
	}
	if (hnames(t, g->vs, g->ve, ns, ne, &err) == -1) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: %.*s", err,
		    strlen(err));
		return;
	}
	s->hs = g->vs;
	s->he = g->ve;
	if ((g = tagget(t, tags, nt, "bh")) == NULL ||
	    b64tag(t, g, s->bh, 32) == -1) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: bh= is no "
		    "SHA-256 hash in base64", NULL, 0);
		return;
	}
	if ((g = tagget(t, tags, nt, "b")) == NULL ||
	    b64tag(t, g, s->b, 64) == -1) {
		sigwhy(s, R_OURS, "malformed DKIM-Signature: b= is no "
		    "Ed25519 signature in base64", NULL, 0);
		return;
	}
	/* b='s value and the whitespace around it are left out of the
	 * hash: from after its '=' to the ';' or the end */
	s->bs = g->vs;
	while (s->bs > 0 && t[s->bs - 1] != '=')
		s->bs--;
	s->be = g->ve;
	while (s->be < n && t[s->be] != ';')
		s->be++;
	s->rank = R_OURS;
	s->cand = 1;
}

/* The blank line (or the end): split the section, read the signatures,
 * and decide whether the body needs hashing. */
static void
headers_done(struct nym_dkim *d)
{
	size_t i;

	d->inbody = 1;
	if (d->toobig || d->nomem || split(d) == -1)
		return;
	if (d->signer) {
		d->hashing = 1;
		return;
	}
	for (i = 0; i < d->nf; i++) {
		if (!namematch(d, i, "dkim-signature", 14))
			continue;
		d->nsigall++;
		if (d->nsig == NYM_DKIM_SIGS_MAX)
			continue;
		d->sigs[d->nsig].f = i;
		readsig(d, &d->sigs[d->nsig]);
		if (d->sigs[d->nsig].cand)
			d->hashing = 1;
		d->nsig++;
	}
}

void
nym_dkim_feed(struct nym_dkim *d, const void *pv, size_t n)
{
	const unsigned char *p = pv;
	size_t i;

	if (d->done)
		return;
	if (!d->inbody) {
		for (i = 0; i < n && !d->inbody; i++) {
			unsigned char c = p[i];

			if (c == '\n') {
				if (d->hstate != HS_MID) {
					/* the blank line: not part of a
					 * field (its CR is dropped too) */
					if (d->hstate == HS_LINECR)
						d->hlen--;
					headers_done(d);
					continue;
				}
				d->hstate = HS_LINE;
			} else if (c == '\r' && d->hstate == HS_LINE)
				d->hstate = HS_LINECR;
			else
				d->hstate = HS_MID;
			hadd(d, (const char *)p + i, 1);
			if (d->toobig || d->nomem) {
				d->done = 1;
				return;
			}
		}
		p += i;
		n -= i;
	}
	if (d->inbody && d->hashing && n > 0)
		body(d, p, n);
}

/* The header hash of the signature field sf[0, sn) (b='s value, from bs
 * to be, deleted) with the fields its h= (sf[hs, he)) names, into
 * digest. */
static void
hhash(struct nym_dkim *d, const char *sf, size_t sn, size_t hs, size_t he,
    size_t bs, size_t be, unsigned char digest[32])
{
	size_t ns[NYM_DKIM_HNAMES_MAX], ne[NYM_DKIM_HNAMES_MAX];
	const char *err;
	int n, j, k;
	size_t c;
	long pf;

	gcry_md_reset(d->md);
	n = hnames(sf, hs, he, ns, ne, &err);
	for (j = 0; j < n; j++) {
		c = 0;
		for (k = 0; k < j; k++)
			if (ne[k] - ns[k] == ne[j] - ns[j] &&
			    strncasecmp(sf + ns[k], sf + ns[j], ne[j] - ns[j]) ==
			    0)
				c++;
		pf = pick(d, sf + ns[j], ne[j] - ns[j], c);
		if (pf >= 0)
			hfield(d->md, d->hdr + d->f[pf].off, d->f[pf].len,
			    SIZE_MAX, SIZE_MAX, 1);
	}
	hfield(d->md, sf, sn, bs, be, 0);
	memcpy(digest, gcry_md_read(d->md, GCRY_MD_SHA256), 32);
}

static void
finish(struct nym_dkim *d, unsigned char bh[32])
{
	if (!d->inbody)
		headers_done(d);
	d->done = 1;
	memset(bh, 0, 32);
	if (d->hashing && !d->toobig && !d->nomem)
		bodyend(d, bh);
}

enum nym_dkim_result
nym_dkim_verdict(struct nym_dkim *d, char why[NYM_DKIM_WHY])
{
	unsigned char bh[32], digest[32];
	struct sig *best = NULL;
	size_t i;

	why[0] = '\0';
	finish(d, bh);
	if (d->nomem) {
		snprintf(why, NYM_DKIM_WHY, "out of memory");
		errno = ENOMEM;
		return NYM_DKIM_ERROR;
	}
	if (d->toobig) {
		snprintf(why, NYM_DKIM_WHY, "header section too big to "
		    "check (over %d bytes or %d fields)", NYM_DKIM_HDR_MAX,
		    NYM_FIELDS_MAX);
		return NYM_DKIM_TOOBIG;
	}
	for (i = 0; i < d->nsig; i++) {
		struct sig *s = &d->sigs[i];
		const char *t = d->hdr + d->f[s->f].off;

		if (s->cand) {
			if (memcmp(s->bh, bh, 32) != 0)
				sigwhy(s, R_BODY, "body hash mismatch (the "
				    "body was changed after signing)", NULL,
				    0);
			else {
				hhash(d, t, d->f[s->f].len, s->hs, s->he,
				    s->bs, s->be, digest);
				if (nym_ed25519_verify(s->b, digest, 32,
				    d->want.pk) == 0)
					return NYM_DKIM_PASS;
				sigwhy(s, R_SIG, "bad signature (a signed "
				    "header field was changed, or it was not "
				    "made by the onion's key)", NULL, 0);
			}
		}
		if (best == NULL || s->rank > best->rank)
			best = s;
	}
	if (best == NULL) {
		snprintf(why, NYM_DKIM_WHY, "no DKIM signature");
		return NYM_DKIM_NONE;
	}
	snprintf(why, NYM_DKIM_WHY, "%s", best->why);
	return best->rank == R_OTHER ? NYM_DKIM_OTHER : NYM_DKIM_FAIL;
}

/* Append s to the field being built. */
static int
put(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		char *nb;

		while (c < *len + n + 1)
			c *= 2;
		if ((nb = realloc(*b, c)) == NULL)
			return -1;
		*b = nb;
		*cap = c;
	}
	memcpy(*b + *len, s, n);
	*len += n;
	(*b)[*len] = '\0';
	return 0;
}

#define PUTS(s) (put(&b, &len, &cap, (s), strlen(s)) == 0)

int
nym_dkim_signature(struct nym_dkim *d, const char *eol, char **field)
{
	unsigned char bh[32], digest[32], sig[64];
	char b64[100], *b = NULL;
	size_t len = 0, cap = 0, line, i, k, count, names = 0, hs, he;
	int ok;

	*field = NULL;
	finish(d, bh);
	if (d->nomem) {
		errno = ENOMEM;
		return -1;
	}
	if (d->toobig) {
		errno = EMSGSIZE;
		return -1;
	}
	/* a first line that is a continuation would continue our field */
	if (d->hlen > 0 && iswsp((unsigned char)d->hdr[0])) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < NSIGNED; i++) {
		for (count = 0, k = 0; k < d->nf; k++)
			if (namematch(d, k, signedf[i], strlen(signedf[i])))
				count++;
		names += count + 1;
	}
	if (names > NYM_DKIM_HNAMES_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	ok = PUTS("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;")
	    && PUTS(eol) && PUTS("\td=") && PUTS(d->key->name) &&
	    PUTS("; s=" NYM_DKIM_SELECTOR ";") && PUTS(eol) && PUTS("\th=");
	hs = len;
	line = 3;
	for (i = 0; ok && i < NSIGNED; i++) {
		for (count = 0, k = 0; k < d->nf; k++)
			if (namematch(d, k, signedf[i], strlen(signedf[i])))
				count++;
		for (k = 0; ok && k <= count; k++) {
			size_t w = strlen(signedf[i]) + 1;

			if (i + k > 0) {
				ok = PUTS(":");
				line++;
				if (line + w > 76) {
					ok = ok && PUTS(eol) && PUTS("\t");
					line = 1;
				}
			}
			ok = ok && PUTS(signedf[i]);
			line += w - 1;
		}
	}
	he = len;
	nym_base64(bh, 32, b64, "+/");
	ok = ok && PUTS(";") && PUTS(eol) && PUTS("\tbh=") && PUTS(b64) &&
	    PUTS(";") && PUTS(eol) && PUTS("\tb=");
	if (!ok) {
		free(b);
		errno = ENOMEM;
		return -1;
	}
	/* The field as it will be seen, b= empty; it begins as the
	 * field does, so hs and he are offsets in it. */
	hhash(d, b, len, hs, he, SIZE_MAX, SIZE_MAX, digest);
	if (nym_ed25519_sign(d->key->sk, d->key->pk, digest, 32, sig) == -1) {
		free(b);
		return -1;
	}
	nym_base64(sig, 64, b64, "+/");
	if (!PUTS(b64) || !PUTS(eol)) {
		free(b);
		errno = ENOMEM;
		return -1;
	}
	*field = b;
	return 0;
}

int
nym_dkim_sign_fd(int fd, const struct nym_onion_key *k, const char *eol,
    char **field)
{
	struct nym_dkim *d;
	char *buf;
	off_t off;
	ssize_t r;
	int e, ret;

	*field = NULL;
	if ((off = lseek(fd, 0, SEEK_CUR)) == -1)
		return -1;
	if ((buf = malloc(NYM_DKIM_BUF)) == NULL)
		return -1;
	if ((d = nym_dkim_signer(k)) == NULL) {
		free(buf);
		return -1;
	}
	for (;;) {
		r = pread(fd, buf, NYM_DKIM_BUF, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		nym_dkim_feed(d, buf, (size_t)r);
		off += r;
	}
	ret = r == -1 ? -1 : nym_dkim_signature(d, eol, field);
	e = errno;
	nym_dkim_free(d);
	free(buf);
	errno = e;
	return ret;
}

enum nym_dkim_result
nym_dkim_verify_fd(int fd, const char *onion, char why[NYM_DKIM_WHY])
{
	struct nym_dkim *d;
	enum nym_dkim_result v;
	char *buf;
	ssize_t r;
	int e;

	why[0] = '\0';
	if ((d = nym_dkim_verifier(onion)) == NULL) {
		snprintf(why, NYM_DKIM_WHY, "%s", errno == EINVAL ?
		    "not a v3 onion address" : strerror(errno));
		return NYM_DKIM_ERROR;
	}
	if ((buf = malloc(NYM_DKIM_BUF)) == NULL) {
		nym_dkim_free(d);
		snprintf(why, NYM_DKIM_WHY, "%s", strerror(ENOMEM));
		errno = ENOMEM;
		return NYM_DKIM_ERROR;
	}
	while ((r = read(fd, buf, NYM_DKIM_BUF)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			snprintf(why, NYM_DKIM_WHY, "%s", strerror(e));
			nym_dkim_free(d);
			free(buf);
			errno = e;
			return NYM_DKIM_ERROR;
		}
		nym_dkim_feed(d, buf, (size_t)r);
	}
	v = nym_dkim_verdict(d, why);
	e = errno;
	nym_dkim_free(d);
	free(buf);
	errno = e;
	return v;
}
