/*
 * scrub.h - the scrub engine of scrub-headers (lib/scrub.c): the field
 * policy, keyed IDs, the field rewriters and the streaming MIME walker.
 *
 * One struct nym_scrub holds a run's settings, its compiled policy and
 * its failure; the engine keeps no other state, prints only the report
 * a check asks for, and never exits: a refusal or an error comes back
 * as an exit code, an errno and a message for the caller to give to
 * nym_die (or nym_dieerr when err is set), with everything freed.
 */
#ifndef NYM_SCRUB_H
#define NYM_SCRUB_H

#include <stdio.h>
#include <time.h>

#include "limits.h"
#include "base.h"

/* A compiled field-name pattern list (lib/scrub.c). */
struct nym_scrub_pat;
struct nym_scrub_list {
	struct nym_scrub_pat *p;
	size_t n;
};

struct nym_scrub {
	/* Set by the caller after nym_scrub_init. */
	FILE *report;		/* non-NULL: a check (-c), leaks reported
				   here one a line; NULL: scrub */
	int mbox;		/* the input is an mbox (-m) */
	int setnow;		/* every Date becomes now (-n) */
	int attrib;		/* rewrite the reply attribution to
				   "NAME wrote:" (-a) */
	long round;		/* > 0: dates rounded down to it (-r) */
	time_t now;		/* the current time (NYMBOX_NOW) */
	const char *domain;	/* right side of new IDs, or NULL: the
				   From domain (msgid-domain) */
	int slow;		/* no fast paths: every field parsed and
				   rendered, every body line taken alone
				   (the fuzzer compares) */
	size_t chunk;		/* > 0: input read at most this much at
				   a time (the fuzzer: output must not
				   depend on how the input arrives) */
	/* The key of the keyed IDs and boundaries (all zero will do for
	 * a check, which writes nothing). */
	unsigned char key[NYM_KEYLEN];
	/* A failure: the exit code, errno (0: none) and the message. */
	int code;
	int err;
	char why[1024];
	/* The policy: nym_scrub_init's tables plus what was added. */
	struct nym_scrub_list top, part, known, reason, keep, drop;
	/* The engine's room for one field's value.  Here rather than
	 * allocated by each run: a static struct costs a one-message
	 * process no mmap and munmap (README, "Speed"). */
	char scratch[NYM_FIELD_MAX + 1];
};

/* Which list nym_scrub_add and nym_scrub_addlist add to. */
#define NYM_SCRUB_DROP	0
#define NYM_SCRUB_KEEP	1

/* Set s to the defaults: no report, no mbox, no rounding, now 0, no
 * domain, an all-zero key, the built-in tables of fields to keep (top
 * level and MIME parts), known fields and reasons.  0, or an exit code
 * (75, out of memory) with s->why set; s is freed then. */
int nym_scrub_init(struct nym_scrub *s);
/* Free what s holds (harmless twice, and after a failed init). */
void nym_scrub_free(struct nym_scrub *s);
/* Keep or drop (which: NYM_SCRUB_KEEP, _DROP) the fields named pattern,
 * case-insensitive; a trailing '*' makes it a prefix ("x-*").  Drop
 * wins over keep, keep over the tables.  0, or 75 with s->why set. */
int nym_scrub_add(struct nym_scrub *s, int which, const char *pattern);
/* As nym_scrub_add for each pattern in list, which is split at white
 * space and commas (a configuration value; NULL adds none). */
int nym_scrub_addlist(struct nym_scrub *s, int which, const char *list);
/* Read a policy file: "keep NAMES" and "drop NAMES" lines, '#'
 * comments, names split at white space and commas.  0, or 78 (75 out
 * of memory) with s->why and s->err set. */
int nym_scrub_policy(struct nym_scrub *s, const char *path);
/* Scrub the message (with s->mbox, every message of the mbox) on infd
 * to outfd, or with s->report check it and report each leak.  Returns
 * the number of leaks found (what a check reports, what a scrub
 * removed or rewrote), or -1 with s->code, s->err and s->why set: 65 a
 * message over a limit or without a header, the read or write error
 * (75 or 70 by errno), 75 out of memory.  After a failure nothing more
 * was written than had been flushed before it. */
int nym_scrub_run(struct nym_scrub *s, int infd, int outfd);

#endif
