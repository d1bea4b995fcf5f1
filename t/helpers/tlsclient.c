/*
 * tlsclient - the library's SMTP client with STARTTLS, against a server
 * that talks on stdin/stdout (smtp-receive), for the tests.
 *
 *	tlsclient [-p pin] [-r] sender rcpt -- command [arg ...] < message
 *
 * The command runs on one end of a socket pair.  The client says EHLO,
 * then STARTTLS when the server offers it, and whether or not it does
 * when -p gives a pin (which the server's key must match) or -r requires
 * TLS; then it sends
 * the message to rcpt.  Prints "tls VERSION CIPHER" or "plain", then
 * "rcpt CODE WHY"; exits with the library's exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "proto.h"
#include "tls.h"

int
main(int argc, char *argv[])
{
	static struct nym_smtp_client c = { .fd = -1 };
	struct nym_smtp_rcpt *rc = NULL;
	struct nym_tls *t = NULL;
	const char *pin = NULL, *why;
	char info[128];
	size_t n = 0;
	char buf[8192];
	size_t got;
	FILE *f;
	int sv[2], ch, code, req = 0, st, msg;
	pid_t pid;

	nym_setprogname(argv[0]);
	while ((ch = getopt(argc, argv, "p:r")) != -1) {
		switch (ch) {
		case 'p': pin = optarg; break;
		case 'r': req = 1; break;
		default: return 64;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || strcmp(argv[2], "--") != 0 || argc < 4)
		return 64;
	if (nym_smtp_addrcpt(&rc, &n, argv[1], &why) != 0)
		return 64;
	/* The message, where nym_smtp_send can rewind it. */
	if ((f = tmpfile()) == NULL)
		return 75;
	while ((got = fread(buf, 1, sizeof buf, stdin)) > 0)
		fwrite(buf, 1, got, f);
	if (fflush(f) == EOF)
		return 75;
	msg = fileno(f);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return 75;
	if ((pid = fork()) == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	close(sv[1]);
	if ((code = nym_smtp_start(&c, sv[0], 10000, "localhost")) != 0)
		goto out;
	/* Required: asked for even when not offered, so that the library's
	 * answer to a refusal shows. */
	if (c.x.starttls || pin != NULL || req) {
		if ((code = nym_smtp_starttls(&c, pin, "localhost", &t)) != 0)
			goto out;
		printf("tls %s\n", nym_tls_info(t, info, sizeof info));
	} else
		printf("plain\n");
	nym_smtp_send(&c, argv[0], rc, n, msg);
	code = rc[0].code;
	printf("rcpt %d %s\n", rc[0].code, rc[0].why);
	nym_smtp_quit(&c, 1);
out:
	nym_tls_free(t);
	if (code != 0 && c.why[0] != '\0')
		printf("why %s\n", c.why);
	fflush(stdout);
	close(sv[0]);
	waitpid(pid, &st, 0);
	free(rc);
	fclose(f);
	return code;
}
