/*
 * samtool - drive the library's SAM client from the shell, for tests.
 *
 *	samtool [-c create_ms] [-r readyfile] [-t ms] host port command ...
 *
 *	generate			print a new public and private key
 *	session [-o opts] [-p keyfile]	create a session, print its b32
 *	lookup [-o ..] [-p ..] [-b] name	print the destination (-b: b32)
 *	connect [-o ..] [-p ..] dest	stdin to the stream, the stream to
 *					stdout
 *	accept [-o ..] [-p ..]		the same for one accepted stream;
 *					the peer's b32 goes to stderr
 *	forward [-o ..] [-p ..] [-s] port  forward the session to
 *					127.0.0.1:port until the bridge
 *					closes or a signal comes
 *
 * (--opts, --priv, --b32 and --silent are the long names.)  Every step
 * waits at most -t ms (default 10000), SESSION CREATE -c ms (default
 * 10000), and a relay ends with 75 after -t ms without traffic.  The
 * ready file, if given, is written once an ACCEPT or FORWARD is in
 * place.  Exit codes follow DESIGN.md: 75 temporary (network, timeout,
 * protocol error, temporary SAM results), 68 not found, 64 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "limits.h"
#include "base.h"
#include "i2p.h"

#define USAGE "usage: samtool [-c ms] [-r file] [-t ms] host port " \
	"generate|session|lookup|connect|accept|forward [args]\n"
#define RELAYBUF	65536

static const struct {
	const char *name;
	int nargs;
} cmds[] = {
	{ "session", 0 }, { "lookup", 1 }, { "connect", 1 }, { "accept", 0 },
	{ "forward", 1 }, { NULL, 0 }
};

static int tmo = 10000, create_ms = 10000;
static const char *readyfile;

static void
usage(void)
{
	fputs(USAGE, stderr);
	exit(NYM_EX_USAGE);
}

static int
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return (int)v;
}

/* The exit code of a SAM result, or of errno for -1. */
static int
code(int r)
{
	if (r == -1)
		return errno == EPROTO ? NYM_EX_TEMPFAIL : errno == EINVAL ?
		    NYM_EX_USAGE : nym_exitcode(errno);
	if (r == NYM_SAM_INVALID_KEY || r == NYM_SAM_KEY_NOT_FOUND ||
	    r == NYM_SAM_PEER_NOT_FOUND)
		return NYM_EX_NOHOST;
	return nym_sam_temporary(r) ? NYM_EX_TEMPFAIL : NYM_EX_SOFTWARE;
}

static void
samdie(const struct nym_sam *s, int r, const char *what)
{
	int e = errno;

	if (r == -1)
		nym_die(code(r), "unable to %s: %s%s%s", what, strerror(e),
		    s->message[0] != '\0' ? ": " : "", s->message);
	nym_die(code(r), "unable to %s: %s%s%s", what, nym_sam_resultname(r),
	    s->message[0] != '\0' ? ": " : "", s->message);
}

static char *
readkey(const char *path)
{
	static char buf[NYM_DEST_MAX * 2];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		nym_dieerr(NYM_EX_USAGE, "unable to open %s", path);
	n = nym_read_all(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		nym_dieerr(NYM_EX_USAGE, "unable to read %s", path);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

static void
ready(const char *b32)
{
	FILE *f;

	if (readyfile == NULL)
		return;
	if ((f = fopen(readyfile, "w")) == NULL ||
	    fprintf(f, "%s\n", b32) < 0 || fclose(f) == EOF)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write %s", readyfile);
}

/*
 * Copy stdin to the stream and the stream to stdout at the same time
 * (both directions must move, or two relays facing each other through a
 * bridge could each wait for the other to read).  Bytes already in the
 * reader go out first.  stdin's EOF half-closes the stream.
 */
static void
relay(int sfd, struct nym_in *in)
{
	static char up[RELAYBUF], down[RELAYBUF];
	struct pollfd p[2];
	size_t ulen = 0, uoff = 0;
	ssize_t n;
	int ineof = 0, seof = 0, k;

	if (in->len > in->pos &&
	    nym_write_all(1, in->buf + in->pos, in->len - in->pos) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to write output");
	if (fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK) == -1)
		nym_dieerr(NYM_EX_SOFTWARE, "unable to set up the stream");
	while (!(ineof && ulen == 0 && seof)) {
		p[0].fd = !ineof && ulen == 0 ? 0 : -1;
		p[0].events = POLLIN;
		p[1].events = (seof ? 0 : POLLIN) | (ulen > 0 ? POLLOUT : 0);
		p[1].fd = p[1].events != 0 ? sfd : -1;
		if ((k = poll(p, 2, tmo)) == -1 && errno != EINTR)
			nym_dieerr(NYM_EX_SOFTWARE, "unable to poll");
		if (k == 0)
			nym_die(NYM_EX_TEMPFAIL, "unable to relay: no traffic "
			    "for %d ms", tmo);
		if (k <= 0)
			continue;
		if (p[0].revents != 0) {
			if ((n = read(0, up, sizeof up)) == -1)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to read "
				    "input");
			ulen = (size_t)n;
			uoff = 0;
			if (n == 0) {
				ineof = 1;
				shutdown(sfd, SHUT_WR);
			}
		}
		if (ulen > 0 && (p[1].revents & (POLLOUT | POLLERR))) {
			n = send(sfd, up + uoff, ulen, MSG_NOSIGNAL);
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to write "
				    "the stream");
			if (n > 0) {
				uoff += (size_t)n;
				ulen -= (size_t)n;
			}
		}
		if (!seof && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(sfd, down, sizeof down, 0);
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to read "
				    "the stream");
			if (n == 0)
				seof = 1;
			if (n > 0 && nym_write_all(1, down, (size_t)n) == -1)
				nym_dieerr(NYM_EX_TEMPFAIL, "unable to write "
				    "output");
		}
	}
}

int
main(int argc, char *argv[])
{
	struct nym_sam s;
	struct nym_in in;
	const char *host, *port, *cmd, *opts = NULL, *privf = NULL;
	char *pub, *priv, *dest, b32[NYM_B32LEN + 9];
	int c, i, r, fd, b32flag = 0, silent = 0;

	nym_setprogname(argv[0]);
	while ((c = getopt(argc, argv, "+c:r:t:")) != -1) {
		switch (c) {
		case 'c': create_ms = number(optarg, 1, 3600000); break;
		case 'r': readyfile = optarg; break;
		case 't': tmo = number(optarg, 1, 3600000); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		usage();
	host = argv[0];
	port = argv[1];
	cmd = argv[2];
	for (i = 3; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if ((strcmp(argv[i], "-o") == 0 ||
		    strcmp(argv[i], "--opts") == 0) && i + 1 < argc)
			opts = argv[++i];
		else if ((strcmp(argv[i], "-p") == 0 ||
		    strcmp(argv[i], "--priv") == 0) && i + 1 < argc)
			privf = argv[++i];
		else if (strcmp(argv[i], "-b") == 0 ||
		    strcmp(argv[i], "--b32") == 0)
			b32flag = 1;
		else if (strcmp(argv[i], "-s") == 0 ||
		    strcmp(argv[i], "--silent") == 0)
			silent = 1;
		else
			usage();
	}
	argc -= i;
	argv += i;

	if (strcmp(cmd, "generate") == 0) {
		if (argc != 0)
			usage();
		if (nym_sam_generate(host, port, tmo, &pub, &priv) == -1)
			nym_dieerr(code(-1), "unable to generate a key at "
			    "%s:%s", host, port);
		printf("%s\n%s\n", pub, priv);
		nym_wipe(priv, strlen(priv));
		free(pub);
		free(priv);
		return fflush(stdout) == EOF ? NYM_EX_TEMPFAIL : 0;
	}
	for (i = 0; cmds[i].name != NULL; i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			break;
	if (cmds[i].name == NULL || argc != cmds[i].nargs)
		usage();

	if (nym_sam_open(&s, host, port, tmo) == -1)
		samdie(&s, -1, "say HELLO to the SAM bridge");
	r = nym_sam_session(&s, privf != NULL ? readkey(privf) : "TRANSIENT",
	    opts, create_ms);
	if (r != NYM_SAM_OK)
		samdie(&s, r, "create the session");

	if (strcmp(cmd, "session") == 0) {
		printf("%s\n", s.b32);
	} else if (strcmp(cmd, "lookup") == 0) {
		if ((r = nym_sam_lookup(&s, argv[0], &dest, NULL)) !=
		    NYM_SAM_OK)
			samdie(&s, r, "look up the name");
		if (b32flag && nym_dest_b32(dest, strlen(dest), b32) == -1)
			nym_die(NYM_EX_SOFTWARE, "unable to hash %s", argv[0]);
		printf("%s\n", b32flag ? b32 : dest);
		free(dest);
	} else if (strcmp(cmd, "connect") == 0) {
		if ((r = nym_sam_connect(&s, argv[0], &fd)) != NYM_SAM_OK)
			samdie(&s, r, "connect");
		if (nym_in_open(&in, fd, 4096) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to allocate");
		relay(fd, &in);
		nym_in_close(&in);
		close(fd);
	} else if (strcmp(cmd, "accept") == 0) {
		if ((r = nym_sam_accept(&s, &fd)) != NYM_SAM_OK)
			samdie(&s, r, "accept");
		ready(s.b32);
		if (nym_in_open(&in, fd, 4096) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to allocate");
		if (nym_sam_peer(fd, &in, tmo, &dest) == -1)
			nym_dieerr(code(-1), "unable to read the peer");
		if (nym_dest_b32(dest, strlen(dest), b32) == -1)
			nym_die(NYM_EX_SOFTWARE, "unable to hash the peer");
		fprintf(stderr, "%s\n", b32);
		free(dest);
		relay(fd, &in);
		nym_in_close(&in);
		close(fd);
	} else {
		if ((r = nym_sam_forward(&s, "127.0.0.1", number(argv[0], 1,
		    65535), silent, &fd)) != NYM_SAM_OK)
			samdie(&s, r, "forward");
		ready(s.b32);
		/* The forward lasts while this socket is open. */
		if (nym_wait(fd, POLLIN, 0) == -1)
			nym_dieerr(NYM_EX_SOFTWARE, "unable to wait");
		close(fd);
	}
	nym_sam_close(&s);
	return fflush(stdout) == EOF ? NYM_EX_TEMPFAIL : 0;
}
