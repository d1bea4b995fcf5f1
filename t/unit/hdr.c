/*
 * hdr.c - unit tests for the header reader and the buffered line reader:
 * bytes kept as read, folds, CRLF, mbox From_ lines, bad lines, stop
 * lines, limits, and lines longer than the buffer; nym_nl, the line
 * search under both, against memchr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "tap.h"

/* A reader over the bytes s[0, n) through a pipe-less temporary file. */
static int
feed(const char *s, size_t n)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL || fwrite(s, 1, n, f) != n || fflush(f) != 0)
		abort();
	fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int
readhdr(const char *s, size_t bufsz, unsigned flags, struct nym_hdr *h,
    struct nym_in *in, nym_hdr_stop stop)
{
	int fd = feed(s, strlen(s));

	if (nym_in_open(in, fd, bufsz) == -1)
		abort();
	return nym_hdr_read(in, h, flags, stop, NULL);
}

static void
done(struct nym_in *in)
{
	close(in->fd);
	nym_in_close(in);
}

static int
dashes(const char *l, size_t n, void *arg)
{
	(void)arg;
	return n >= 2 && l[0] == '-' && l[1] == '-';
}

/* nym_nl(p, n) is memchr(p, '\n', n) for every length up to past its
 * vector part (64 bytes) and every place of the first LF, none, or more
 * LFs after it; each at every alignment of p. */
static void
nlsearch(void)
{
	char buf[200];
	size_t n, at, off, bad = 0, runs = 0;

	for (off = 0; off < 16; off++)
		for (n = 0; off + n <= sizeof buf && n <= 150; n++)
			for (at = 0; at <= n; at++) {
				char *p = buf + off;

				memset(buf, 'x', sizeof buf);
				buf[sizeof buf - 1] = '\n';	/* past n */
				if (at < n) {
					p[at] = '\n';
					if (at + 7 < n)
						p[at + 7] = '\n';
				}
				runs++;
				if (nym_nl(p, n) != memchr(p, '\n', n))
					bad++;
			}
	check(runs > 10000 && bad == 0, "nym_nl finds what memchr finds");
	check(nym_nl(buf, 0) == NULL, "nym_nl on nothing");
}

int
main(void)
{
	struct nym_hdr h = { 0 };
	struct nym_in in;
	char v[256], *big;
	const char *line;
	size_t len;
	int more, r;

	r = readhdr("From: a@b\nSubject: one\n two\nX-A: 1\n\nbody\n", 4096, 0,
	    &h, &in, NULL);
	check_int(r, 0, "simple header reads");
	check_int(h.nf, 3, "three fields");
	check_int(h.sep, 1, "ended at the empty line");
	check_int(h.crlf, 0, "LF");
	check(nym_hdr_is(&h, 1, "subject"), "case-insensitive name");
	check_int(h.f[1].len, strlen("Subject: one\n two\n"), "fold kept");
	nym_hdr_value(&h, 1, v, sizeof v);
	check_str(v, "one two", "value unfolded");
	check_int(nym_hdr_find(&h, "x-a", 0), 2, "find");
	check_int(nym_hdr_find(&h, "x-b", 0), -1, "find missing");
	r = nym_in_line(&in, &line, &len, &more);
	check(r == 1 && len == 5 && memcmp(line, "body\n", 5) == 0,
	    "body left unread");
	check_int(nym_hdr_value(&h, 1, v, 4), -1, "value over cap fails");
	check_int(errno, E2BIG, "with E2BIG");
	done(&in);

	r = readhdr("TO: a@b\nCc: c@d\nbcc: e@f\nResent-To: g@h\nTok: 1\n\n",
	    4096, 0, &h, &in, NULL);
	check(r == 0 && h.nf == 5 && nym_hdr_isrcpt(&h, 0) &&
	    nym_hdr_isrcpt(&h, 1) && nym_hdr_isrcpt(&h, 2),
	    "To, Cc and Bcc are recipient fields, in any case");
	check(!nym_hdr_isrcpt(&h, 3) && !nym_hdr_isrcpt(&h, 4),
	    "Resent-To and a longer name are not");
	done(&in);

	r = readhdr("From: a@b\r\nSubject: x\r\n\ty\r\n\r\nbody", 4096, 0, &h,
	    &in, NULL);
	check(r == 0 && h.crlf && h.nf == 2 && h.sep, "CRLF header");
	nym_hdr_value(&h, 1, v, sizeof v);
	check_str(v, "x\ty", "CRLF fold unfolded");
	check_int(nym_hdr_add(&h, "Date", "now"), 0, "add a field");
	check(h.nf == 3 && memcmp(h.buf + h.f[2].off, "Date: now\r\n",
	    h.f[2].len) == 0, "added field ends in CRLF");
	done(&in);

	r = readhdr("From a@b Mon Nov 23 08:48:41 2026\nFrom: a@b\n\n", 4096,
	    NYM_HDR_MBOX, &h, &in, NULL);
	check(r == 0 && h.fromlen == 34 && h.nf == 1, "mbox From_ line");
	done(&in);
	r = readhdr("From a@b Mon Nov 23 08:48:41 2026\nFrom: a@b\n\n", 4096,
	    0, &h, &in, NULL);
	check(r == 0 && h.bad && h.nf == 0, "From_ line refused without flag");
	done(&in);

	r = readhdr("From: a@b\nnot a field\nX: y\n\n", 4096, 0, &h, &in, NULL);
	check(r == 0 && h.bad && h.nf == 1 && !h.sep, "bad line stops");
	r = nym_in_line(&in, &line, &len, &more);
	check(r == 1 && len == 12, "bad line left unread");
	done(&in);

	r = readhdr(" leading\nFrom: a\n\n", 4096, 0, &h, &in, NULL);
	check(r == 0 && h.bad && h.nf == 0, "continuation first is bad");
	done(&in);

	r = readhdr("Content-Type: text/plain\n--b\nmore\n", 4096, 0, &h, &in,
	    dashes);
	check(r == 0 && h.nf == 1 && !h.bad && !h.sep, "stop line stops");
	done(&in);

	r = readhdr("Name : obsolete\n\n", 4096, 0, &h, &in, NULL);
	check(r == 0 && h.nf == 1 && h.f[0].namelen == 4, "space before colon");
	done(&in);

	r = readhdr("A: x\0y\nB: p\rq\n\n", 4096, 0, &h, &in, NULL);
	/* strlen stops at the NUL: feed the bytes by hand. */
	done(&in);
	{
		static const char s[] = "A: x\0y\nB: p\rq\n\n";
		int fd = feed(s, sizeof s - 1);

		nym_in_open(&in, fd, 4096);
		r = nym_hdr_read(&in, &h, 0, NULL, NULL);
		check(r == 0 && h.nf == 2 && h.nul && h.barecr,
		    "NUL and bare CR flagged");
		nym_hdr_value(&h, 0, v, sizeof v);
		check_str(v, "x y", "NUL read as space");
		nym_hdr_value(&h, 1, v, sizeof v);
		check_str(v, "p q", "bare CR read as space");
		done(&in);
	}

	r = readhdr("Subject: no newline at the end", 4096, 0, &h, &in, NULL);
	check(r == 0 && h.nf == 1 && !h.sep, "header at EOF");
	done(&in);

	/* A field longer than the 64-byte buffer arrives in pieces. */
	big = malloc(NYM_FIELD_MAX + 100);
	memset(big, 'x', NYM_FIELD_MAX + 99);
	memcpy(big, "Subject: ", 9);
	big[1000] = '\n';
	big[1001] = '\n';
	big[1002] = '\0';
	r = readhdr(big, 64, 0, &h, &in, NULL);
	check(r == 0 && h.nf == 1 && h.f[0].len == 1001,
	    "1000-byte field through a 64-byte buffer");
	done(&in);
	memset(big + 9, 'x', NYM_FIELD_MAX + 90);
	big[NYM_FIELD_MAX + 10] = '\n';
	big[NYM_FIELD_MAX + 11] = '\0';
	r = readhdr(big, 4096, 0, &h, &in, NULL);
	check(r == -1 && errno == E2BIG, "field over NYM_FIELD_MAX is E2BIG");
	done(&in);
	free(big);

	big = malloc(NYM_HDR_MAX + 4096);
	for (len = 0; len + 100 < NYM_HDR_MAX + 2048; len += 100) {
		memcpy(big + len, "Keywords: ", 10);
		memset(big + len + 10, 'k', 89);
		big[len + 99] = '\n';
	}
	big[len] = '\0';
	r = readhdr(big, 4096, 0, &h, &in, NULL);
	check(r == -1 && errno == E2BIG, "section over NYM_HDR_MAX is E2BIG");
	done(&in);
	free(big);

	/* A section's lines are copied from the input buffer in runs:
	 * through buffers of every size, the bytes kept and the fields
	 * found are the same. */
	{
		static const char s[] = "From: a@b\nSubject: one\n two\r\n"
		    "X-A: 1\nX-B: 22\n long fold\n\tand more\nX-C: 3\n\nbody";
		static const size_t sizes[] = { 8, 16, 17, 32, 64, 4096 };
		static const char *const name[] = { "From", "Subject", "X-A",
		    "X-B", "X-C" };
		size_t sec = strstr(s, "\n\n") + 1 - s, k, j, end;
		int same = 1;

		for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			r = readhdr(s, sizes[k], 0, &h, &in, NULL);
			same &= r == 0 && h.sep && h.nf == 5 && h.len == sec &&
			    memcmp(h.buf, s, sec) == 0;
			for (j = 0; same && j < h.nf; j++) {
				end = j + 1 < h.nf ? (size_t)(strstr(s,
				    name[j + 1]) - s) : sec;
				same &= h.f[j].off == (size_t)(strstr(s,
				    name[j]) - s) && h.f[j].off + h.f[j].len ==
				    end;
			}
			nym_hdr_value(&h, 3, v, sizeof v);
			same &= strcmp(v, "22 long fold\tand more") == 0;
			done(&in);
		}
		check(same, "a section read through 8 to 4096-byte buffers");
	}
	/* A broken fold read on (NYM_HDR_FOLD) gets its space between
	 * the runs copied before and after it. */
	{
		static const char s[] = "A: 1\nbroken\nB: 2\n\n";
		static const size_t sizes[] = { 4, 8, 4096 };
		size_t k;
		int same = 1;

		for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			r = readhdr(s, sizes[k], 0, &h, &in, NULL);
			same &= r == 0 && h.bad && h.nf == 1;
			r = nym_hdr_read(&in, &h, NYM_HDR_FOLD, NULL, NULL);
			same &= r == 0 && h.nf == 2 && h.sep &&
			    h.len == strlen("A: 1\n broken\nB: 2\n") &&
			    memcmp(h.buf, "A: 1\n broken\nB: 2\n", h.len) == 0;
			done(&in);
		}
		check(same, "a broken fold read on through small buffers");
	}

	/* The line reader splits long lines and reports EOF. */
	{
		int fd = feed("abcdefghij\nxy", 13);

		nym_in_open(&in, fd, 4);
		r = nym_in_line(&in, &line, &len, &more);
		check(r == 1 && len == 4 && more, "long line: first piece");
		r = nym_in_line(&in, &line, &len, &more);
		check(r == 1 && len == 4 && more, "second piece");
		r = nym_in_line(&in, &line, &len, &more);
		check(r == 1 && len == 3 && !more && line[2] == '\n',
		    "last piece ends the line");
		r = nym_in_line(&in, &line, &len, &more);
		check(r == 1 && len == 2 && !more, "last line without LF");
		r = nym_in_line(&in, &line, &len, &more);
		check_int(r, 0, "then EOF");
		done(&in);
	}

	nlsearch();
	nym_hdr_free(&h);
	return tap_done();
}
