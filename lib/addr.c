/*
 * addr.c - RFC 5322 address lists, and what kind of domain an address has.
 *
 * This is the one real parser in nymbox; everything else treats headers as
 * bytes.  The input is hostile, so: the length is given and NUL is a syntax
 * error, nothing recurses (comments nest through a counter), and each byte is
 * lexed at most twice (a run of words is scanned once to learn whether it is
 * a display name, a group name or a local part, then lexed again to copy it
 * out), which keeps the time linear.  Every string goes into one buffer of
 * len + 16 bytes allocated up front: each output byte comes from a distinct
 * input byte and each terminating NUL from a delimiter that is not copied
 * ("<", ":", "@", ",", ";", ">", the parentheses of a comment), so only the
 * end of input needs a spare byte.  A guard turns a broken bound into EINVAL
 * instead of an overflow, and the buffer never moves, so pointers into it
 * stay valid.
 *
 * Where we are lenient: the obsolete forms of RFC 5322 4.4 (phrases with
 * ".", CFWS around the dots of local parts and domains, routes, empty list
 * elements), 8-bit bytes in atoms, quoted strings and comments (RFC 6532,
 * not checked for UTF-8), a group left open at the end of the value, and a
 * local part with no domain ("root", "<root>").  CR and LF are white space
 * outside quoted strings and are dropped inside them (leftover folds).
 * Where we are strict: NUL or any other control character outside quotes
 * and comments, empty or doubled dots, "<>", nested groups, and text after
 * an address without a comma are all EINVAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

enum {
	T_END = 256,	/* single-character specials are their own value */
	T_ATOM,
	T_QSTR,
	T_DLIT
};

struct lex {
	const unsigned char *p, *end;
	int tok;
	const unsigned char *ts, *te;	/* atom text, or between the quotes
					   or brackets */
	int ws;				/* CFWS came before the token */
	const unsigned char *cs, *ce;	/* first comment in that CFWS,
					   without its parentheses */
};

struct sbuf {
	char *p;
	size_t len, cap;
	int over;
};

struct parser {
	struct lex x;
	struct sbuf sb;
	struct nym_addr *a;
	size_t n, cap;
	char *group;
	int ingroup;
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
isatext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
isfws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/* Skip a comment whose "(" is at x->p; depth is a counter, not a stack. */
static int
lex_comment(struct lex *x)
{
	const unsigned char *start;
	size_t depth = 1;

	start = ++x->p;
	while (depth > 0) {
		int c;

		if (x->p == x->end)
			return einval();
		c = *x->p++;
		if (c == '\\') {
			if (x->p == x->end || *x->p == '\0')
				return einval();
			x->p++;
		} else if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		else if (c == '\0')
			return einval();
	}
	if (x->cs == NULL) {
		x->cs = start;
		x->ce = x->p - 1;
	}
	return 0;
}

/* Find the closing delimiter of a quoted string or domain literal. */
static int
lex_quoted(struct lex *x, int close)
{
	const unsigned char *q;

	for (q = x->p + 1; ; q++) {
		if (q == x->end || *q == '\0')
			return einval();
		if (*q == close)
			break;
		if (*q == '\\') {
			q++;
			if (q == x->end || *q == '\0')
				return einval();
		} else if (close == ']' && *q == '[')
			return einval();
	}
	x->ts = x->p + 1;
	x->te = q;
	x->p = q + 1;
	return 0;
}

static int
lex_next(struct lex *x)
{
	int c;

	x->ws = 0;
	x->cs = x->ce = NULL;
	for (;;) {
		if (x->p == x->end) {
			x->tok = T_END;
			return 0;
		}
		c = *x->p;
		if (isfws(c)) {
			x->p++;
			x->ws = 1;
		} else if (c == '(') {
			if (lex_comment(x) == -1)
				return -1;
			x->ws = 1;
		} else
			break;
	}
	if (c == '"') {
		x->tok = T_QSTR;
		return lex_quoted(x, '"');
	}
	if (c == '[') {
		x->tok = T_DLIT;
		return lex_quoted(x, ']');
	}
	if (isatext(c)) {
		x->tok = T_ATOM;
		x->ts = x->p;
		while (x->p < x->end && isatext(*x->p))
			x->p++;
		x->te = x->p;
		return 0;
	}
	if (c != '\0' && strchr("<>:;@,.", c) != NULL) {
		x->tok = c;
		x->p++;
		return 0;
	}
	return einval();	/* ")", "]", "\", controls, NUL */
}

static int
isword(int tok)
{
	return tok == T_ATOM || tok == T_QSTR;
}

static void
sb_putc(struct sbuf *b, int c)
{
	if (b->len >= b->cap) {
		b->over = 1;
		return;
	}
	b->p[b->len++] = (char)c;
}

/* Terminate the string begun at offset start and return it. */
static char *
sb_end(struct sbuf *b, size_t start)
{
	sb_putc(b, '\0');
	if (b->over) {
		errno = EINVAL;
		return NULL;
	}
	return b->p + start;
}

/* Copy quoted-string or comment text, resolving quoted pairs and dropping
 * CR and LF; with squeeze, runs of white space become one space. */
static void
sb_unquote(struct sbuf *b, const unsigned char *p, const unsigned char *e,
    int squeeze)
{
	int sp = 0, any = 0;

	for (; p < e; p++) {
		int c = *p;

		if (c == '\\')
			c = *++p;	/* the lexer saw a byte after it */
		if (c == '\r' || c == '\n')
			continue;
		if (squeeze && (c == ' ' || c == '\t')) {
			sp = 1;
			continue;
		}
		if (sp && any)
			sb_putc(b, ' ');
		sp = 0;
		any = 1;
		sb_putc(b, c);
	}
}

/* A display name or group name: words and dots, one space where there was
 * CFWS between them, quotes removed.  Empty gives "". */
static char *
emit_phrase(struct parser *P)
{
	size_t start = P->sb.len;
	int first = 1;

	while (isword(P->x.tok) || P->x.tok == '.') {
		if (!first && P->x.ws)
			sb_putc(&P->sb, ' ');
		first = 0;
		if (P->x.tok == T_QSTR)
			sb_unquote(&P->sb, P->x.ts, P->x.te, 0);
		else if (P->x.tok == '.')
			sb_putc(&P->sb, '.');
		else
			while (P->x.ts < P->x.te)
				sb_putc(&P->sb, *P->x.ts++);
		if (lex_next(&P->x) == -1)
			return NULL;
	}
	return sb_end(&P->sb, start);
}

/* word *("." word), CFWS ignored, quotes removed. */
static char *
emit_local(struct parser *P)
{
	size_t start = P->sb.len;
	int need = 1;

	for (;;) {
		if (isword(P->x.tok)) {
			if (!need) {
				errno = EINVAL;
				return NULL;
			}
			need = 0;
			if (P->x.tok == T_QSTR)
				sb_unquote(&P->sb, P->x.ts, P->x.te, 0);
			else
				while (P->x.ts < P->x.te)
					sb_putc(&P->sb, *P->x.ts++);
		} else if (P->x.tok == '.') {
			if (need)
				break;
			need = 1;
			sb_putc(&P->sb, '.');
		} else
			break;
		if (lex_next(&P->x) == -1)
			return NULL;
	}
	if (need) {
		errno = EINVAL;
		return NULL;
	}
	return sb_end(&P->sb, start);
}

/* The domain after "@": a literal, or atoms joined by dots; lower-cased. */
static char *
emit_domain(struct parser *P)
{
	const unsigned char *p;
	size_t start = P->sb.len;

	if (P->x.tok == T_DLIT) {
		sb_putc(&P->sb, '[');
		for (p = P->x.ts; p < P->x.te; p++) {
			if (*p == '\\') {
				/* keep the pair: "\]" must not end it */
				sb_putc(&P->sb, *p++);
				sb_putc(&P->sb, lower(*p));
			} else if (!isfws(*p))
				sb_putc(&P->sb, lower(*p));
		}
		sb_putc(&P->sb, ']');
		if (lex_next(&P->x) == -1)
			return NULL;
		return sb_end(&P->sb, start);
	}
	for (;;) {
		if (P->x.tok != T_ATOM) {
			errno = EINVAL;
			return NULL;
		}
		for (p = P->x.ts; p < P->x.te; p++)
			sb_putc(&P->sb, lower(*p));
		if (lex_next(&P->x) == -1)
			return NULL;
		if (P->x.tok != '.')
			break;
		sb_putc(&P->sb, '.');
		if (lex_next(&P->x) == -1)
			return NULL;
	}
	return sb_end(&P->sb, start);
}

/* When there is no phrase, the first comment after the mailbox names it:
 * "a@b (Alice)", "<a@b> (Alice)".  Quoted pairs resolved, inner
 * parentheses kept, white space squeezed; NULL if empty. */
static char *
comment_name(struct parser *P)
{
	size_t start = P->sb.len;

	if (P->x.cs == NULL)
		return NULL;
	sb_unquote(&P->sb, P->x.cs, P->x.ce, 1);
	if (P->sb.len == start)
		return NULL;
	return sb_end(&P->sb, start);
}

static int
add(struct parser *P, char *name, char *local, char *domain)
{
	struct nym_addr *na;

	if (P->n == P->cap) {
		size_t ncap = P->cap == 0 ? 8 : P->cap * 2;

		if (ncap > SIZE_MAX / sizeof(*P->a)) {
			errno = ENOMEM;
			return -1;
		}
		na = realloc(P->a, ncap * sizeof(*P->a));
		if (na == NULL)
			return -1;
		P->a = na;
		P->cap = ncap;
	}
	na = &P->a[P->n++];
	na->name = name != NULL && *name != '\0' ? name : NULL;
	na->local = local;
	na->domain = domain;
	na->group = P->group;
	na->kind = domain == NULL ? NYM_DOM_NONE : nym_domkind(domain);
	return 0;
}

/* At the token after "<": [obs-route] addr-spec ">" [CFWS]. */
static int
parse_angle(struct parser *P, char *name)
{
	char *local, *domain = NULL;

	if (lex_next(&P->x) == -1)
		return -1;
	if (P->x.tok == '@' || P->x.tok == ',') {
		/* obs-route, checked and thrown away:
		 * *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]) ":" */
		size_t mark;

		while (P->x.tok == ',')
			if (lex_next(&P->x) == -1)
				return -1;
		mark = P->sb.len;
		while (P->x.tok == '@') {
			if (lex_next(&P->x) == -1 || emit_domain(P) == NULL)
				return -1;
			P->sb.len = mark;
			if (P->x.tok == ':')
				break;
			if (P->x.tok != ',')
				return einval();
			while (P->x.tok == ',')
				if (lex_next(&P->x) == -1)
					return -1;
		}
		if (P->x.tok != ':')
			return einval();
		if (lex_next(&P->x) == -1)
			return -1;
	}
	if (!isword(P->x.tok))
		return einval();	/* "<>" among them */
	if ((local = emit_local(P)) == NULL)
		return -1;
	if (P->x.tok == '@') {
		if (lex_next(&P->x) == -1 ||
		    (domain = emit_domain(P)) == NULL)
			return -1;
	}
	if (P->x.tok != '>' || lex_next(&P->x) == -1)
		return einval();
	if (name == NULL && P->x.cs != NULL &&
	    (name = comment_name(P)) == NULL && P->sb.over)
		return einval();
	return add(P, name, local, domain);
}

/* One address at the current token.  Returns 1 if it opened a group, 0 for
 * a mailbox (the current token is then the one after it), -1 on error. */
static int
parse_address(struct parser *P)
{
	struct lex save;
	char *name, *local, *domain = NULL;

	if (P->x.tok == '<')
		return parse_angle(P, NULL);
	if (!isword(P->x.tok) && P->x.tok != '.')
		return einval();
	save = P->x;
	do {
		if (lex_next(&P->x) == -1)
			return -1;
	} while (isword(P->x.tok) || P->x.tok == '.');
	switch (P->x.tok) {
	case '<':
		P->x = save;
		if ((name = emit_phrase(P)) == NULL)
			return -1;
		return parse_angle(P, name);
	case ':':
		if (P->ingroup)
			return einval();
		P->x = save;
		if ((P->group = emit_phrase(P)) == NULL)
			return -1;
		P->ingroup = 1;
		if (lex_next(&P->x) == -1)
			return -1;
		return 1;
	default:
		P->x = save;
		if ((local = emit_local(P)) == NULL)
			return -1;
		if (P->x.tok == '@') {
			if (lex_next(&P->x) == -1 ||
			    (domain = emit_domain(P)) == NULL)
				return -1;
		}
		if ((name = comment_name(P)) == NULL && P->sb.over)
			return einval();
		return add(P, name, local, domain);
	}
}

static int
parse_list(struct parser *P)
{
	int r;

	if (lex_next(&P->x) == -1)
		return -1;
	for (;;) {
		switch (P->x.tok) {
		case T_END:
			return 0;	/* closes an open group too */
		case ',':
			if (lex_next(&P->x) == -1)
				return -1;
			break;
		case ';':
			if (!P->ingroup)
				return einval();
			P->ingroup = 0;
			P->group = NULL;
			if (lex_next(&P->x) == -1)
				return -1;
			if (P->x.tok != ',' && P->x.tok != T_END)
				return einval();
			break;
		default:
			if ((r = parse_address(P)) == -1)
				return -1;
			if (r == 1 || (P->x.tok == ';' && P->ingroup))
				break;
			if (P->x.tok != ',' && P->x.tok != T_END)
				return einval();
			break;
		}
	}
}

int
nym_addr_parse(const char *s, size_t len, struct nym_addrlist *l)
{
	struct parser P = { 0 };

	*l = (struct nym_addrlist){ 0 };
	if (s == NULL) {
		if (len > 0)
			return einval();
		s = "";
	}
	if (len > SIZE_MAX - 16) {
		errno = ENOMEM;
		return -1;
	}
	P.sb.cap = len + 16;
	if ((P.sb.p = malloc(P.sb.cap)) == NULL)
		return -1;
	P.x.p = (const unsigned char *)s;
	P.x.end = P.x.p + len;
	if (parse_list(&P) == -1) {
		int e = errno;


		free(P.a);
		free(P.sb.p);
		errno = e;
		return -1;
	}
	l->a = P.a;
	l->n = P.n;
	l->store = P.sb.p;
	return 0;
}

void
nym_addrlist_free(struct nym_addrlist *l)
{
	free(l->a);
	free(l->store);
	*l = (struct nym_addrlist){ 0 };
}

struct label {
	const char *p;
	size_t n;
};

static int
labelis(const struct label *lb, const char *w)
{
	size_t i;

	if (strlen(w) != lb->n)
		return 0;
	for (i = 0; i < lb->n; i++)
		if (lower((unsigned char)lb->p[i]) != w[i])
			return 0;
	return 1;
}

static int
isbase32(const struct label *lb)
{
	size_t i;

	for (i = 0; i < lb->n; i++) {
		int c = lower((unsigned char)lb->p[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return 0;
	}
	return 1;
}

static enum nym_domkind
domliteral(const char *d, size_t n)
{
	size_t i;

	if (n < 3 || d[n - 1] != ']')
		return NYM_DOM_NONE;
	for (i = 1; i < n - 1; i++)
		if (d[i] < 0x21 || d[i] > 0x7e || d[i] == '[' || d[i] == ']')
			return NYM_DOM_NONE;
	return NYM_DOM_OTHER;
}

/* Labels are letters, digits and inner hyphens, 1 to 63 bytes; a .b32.i2p
 * label may have 64 (the longest encrypted-leaseset form). */
enum nym_domkind
nym_domkind(const char *domain)
{
	/* the last three labels, lb[2] the last */
	struct label lb[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	const char *d = domain;
	size_t n, i, nlab = 0, nlong = 0;

	if (d == NULL)
		return NYM_DOM_NONE;
	n = strlen(d);
	if (n > 0 && d[0] == '[')
		return domliteral(d, n);
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return NYM_DOM_NONE;
	for (i = 0; i <= n; i++) {
		size_t start = i;

		for (; i < n && d[i] != '.'; i++) {
			int c = (unsigned char)d[i];

			c = lower(c);
			if (!((c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-'))
				return NYM_DOM_NONE;
		}
		if (i == start || i - start > 64 || d[start] == '-' ||
		    d[i - 1] == '-')
			return NYM_DOM_NONE;
		if (i - start == 64)
			nlong++;
		lb[0] = lb[1];
		lb[1] = lb[2];
		lb[2].p = d + start;
		lb[2].n = i - start;
		nlab++;
	}
	if (labelis(&lb[2], "onion")) {
		if (nlab < 2 || nlab > 3 || nlong > 0 || lb[1].n != 56 ||
		    !isbase32(&lb[1]) ||
		    lower((unsigned char)lb[1].p[55]) != 'd')
			return NYM_DOM_NONE;
		return NYM_DOM_ONION;
	}
	if (labelis(&lb[2], "i2p")) {
		if (nlab >= 2 && labelis(&lb[1], "b32")) {
			if (nlab != 3 || !isbase32(&lb[0]) ||
			    (lb[0].n != 52 && (lb[0].n < 56 || lb[0].n > 64)))
				return NYM_DOM_NONE;
			return NYM_DOM_B32;
		}
		if (nlab < 2 || nlong > 0)
			return NYM_DOM_NONE;
		return NYM_DOM_I2P;
	}
	return nlong > 0 ? NYM_DOM_NONE : NYM_DOM_OTHER;
}
