/*
 * sam-accept - accept I2P streams on a persistent destination and run a
 * program for each, like tcpserver or inetd.
 *
 * The session lives as long as this process.  Each accepted stream
 * becomes the program's stdin and stdout, with the peer's destination in
 * I2P_PEER_DEST and its b32 address in I2P_PEER_B32: that is what lets
 * smtp-receive check a sender against the key the sender's domain
 * publishes.  The peer line is read a byte at a time so that nothing of
 * the stream is read here and lost to the program.  On SIGTERM the
 * pending accept and every stream close before the session does: i2pd
 * 2.45.1 can crash when a session closes under a stream still waiting
 * for an acknowledgement.  The session is also lent, over KEYFILE.sock,
 * to sam-deliver sending from the same destination (lib/samshare.c).
 * A bridge that goes away (EOF on the session's socket: i2pd restarted)
 * or stops answering (a probe after sam-probe idle seconds) ends the run
 * with 75 once the programs are done, for a supervisor to start it again:
 * the next session then waits sam-gap, as any other does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "limits.h"
#include "base.h"
#include "i2p.h"

#define USAGE "usage: sam-accept [-c max] [-k keyfile] [-l seconds] " \
	"[-o options] [-S host:port] [-w seconds] program [arg ...]\n"

static volatile sig_atomic_t stop;
static int children;

static void
usage(void)
{
	nym_usage();
}

static void
onsignal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
reap(int block)
{
	int st;

	while (children > 0 && waitpid(-1, &st, block ? 0 : WNOHANG) > 0) {
		children--;
		block = 0;
	}
}

/* Has the bridge closed the session's socket fd (within ms)?  Between
 * requests it says nothing there; anything else it sends is dropped. */
static int
bridgegone(int fd, int ms)
{
	char junk[512];
	ssize_t n;

	if (nym_wait(fd, POLLIN, ms) == -1)
		return 0;
	n = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN);
}

/* Run the program on the stream fd with the peer in the environment. */
static void
spawn(int fd, const char *peer, const char *local, char **argv)
{
	char b32[NYM_B32LEN + 9];
	pid_t pid;

	if (nym_dest_b32(peer, strlen(peer), b32) == -1) {
		nym_warn("unable to accept a stream: the peer destination is "
		    "malformed");
		close(fd);
		return;
	}
	if ((pid = fork()) == -1) {
		nym_warn("unable to fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1)
			_exit(NYM_EX_TEMPFAIL);
		if (fd > 1)
			close(fd);
		if (setenv("PROTO", "I2P", 1) == -1 ||
		    setenv("I2P_PEER_DEST", peer, 1) == -1 ||
		    setenv("I2P_PEER_B32", b32, 1) == -1 ||
		    setenv("I2P_LOCAL_B32", local, 1) == -1)
			_exit(NYM_EX_TEMPFAIL);
		execvp(argv[0], argv);
		nym_warn("unable to run %s: %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	children++;
	close(fd);
}

/* A session of our own for keyarg, with the key's lock. */
static void
ownsession(struct nym_sam *s, const char *keyarg,
    const struct nym_samaddr *sa, const struct nym_hold *hold, long wsec)
{
	static char why[PATH_MAX + 64];
	char *priv = NULL;
	pid_t holder;
	int rc, lockfd;

	if (nym_sam_key(keyarg, sa->host, sa->port, (int)wsec * 1000, &priv) ==
	    -1) {
		if (nym_unreachable(errno))
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to reach the SAM "
			    "bridge at %s:%s to create the key %s ("
			    NYM_SAM_HINT ")", sa->host, sa->port, keyarg);
		nym_die(nym_exitcode(errno) == NYM_EX_TEMPFAIL ?
		    NYM_EX_TEMPFAIL : NYM_EX_CONFIG, "unable to read the key "
		    "%s: %s", keyarg, errno == EINVAL ? "not a SAM private "
		    "key" : nym_secretwhy(keyarg, errno, why, sizeof why));
	}
	/* The key's one session is ours: a holder sam-deliver left
	 * lingering is asked to go, and the gap since it closed kept. */
	if ((lockfd = nym_share_lock(keyarg, hold->gap, hold->create_ms,
	    &holder)) == -1) {
		nym_key_free(priv);
		if (errno == EWOULDBLOCK)
			nym_die(NYM_EX_TEMPFAIL, "unable to lock the key %s: "
			    "process %ld holds its session", keyarg,
			    (long)holder);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to lock the key %s",
		    keyarg);
	}
	if (nym_sam_open(s, sa->host, sa->port, (int)wsec * 1000) == -1) {
		nym_key_free(priv);
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to reach the SAM bridge "
		    "at %s:%s (" NYM_SAM_HINT ")", sa->host, sa->port);
	}
	rc = nym_sam_session(s, priv, sa->opts, (int)wsec * 2000 + 60000);
	nym_key_free(priv);
	if (rc != NYM_SAM_OK)
		nym_die(rc == NYM_SAM_DUPLICATED_DEST ? NYM_EX_CONFIG :
		    NYM_EX_TEMPFAIL, "unable to create the session: %s",
		    rc == -1 ? strerror(errno) : nym_sam_resultname(rc));
	nym_share_stamp(lockfd, "open");
	s->lock = lockfd + 1;
	s->keep_ms = (hold->gap < NYM_SAM_KEEP ? hold->gap : NYM_SAM_KEEP) * 1000;
}

int
main(int argc, char *argv[])
{
	static char keypath[PATH_MAX], sockpath[PATH_MAX];
	static char why[PATH_MAX + 64];
	struct nym_sam s;
	struct sigaction act;
	struct pollfd pfd[3];
	struct nym_samaddr sa;
	const char *where, *keyarg = NULL;
	struct nym_hold hold;
	char *peer;
	long max = 20, wsec = 60, linger = 0;
	long long probed;
	const char *lost = NULL;
	int c, rc, afd, ready, lfd = -1, borrowed = 0;
	pid_t pid;

	nym_start(argc, argv, USAGE);
	if (nym_conf_load(&where) == -1)
		nym_dieerr(NYM_EX_CONFIG, "unable to read configuration %s",
		    where);
	nym_samaddr_init(&sa);
	keyarg = nym_conf_get("server-key");
	while ((c = getopt(argc, argv, "+c:k:l:o:S:w:")) != -1) {
		switch (c) {
		case 'c':
			max = nym_num(NYM_EX_USAGE, "-c", optarg, 1, 1000);
			break;
		case 'k': keyarg = optarg; break;
		case 'l':
			linger = nym_num(NYM_EX_USAGE, "-l", optarg, 0, 86400);
			break;
		case 'o': sa.opts = optarg; break;
		case 'S': nym_samaddr_opt(&sa, optarg); break;
		case 'w':
			wsec = nym_num(NYM_EX_USAGE, "-w", optarg, 1, 3600);
			break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if (keyarg == NULL) {
		if (nym_confdir(keypath, sizeof keypath) == -1 ||
		    strlen(keypath) + sizeof "/server.key" > sizeof keypath)
			nym_die(NYM_EX_CONFIG, "unable to find the key: set "
			    "HOME or use -k");
		strcat(keypath, "/server.key");
		keyarg = keypath;
	}
	if (nym_hold_init(&hold, keyarg, &sa, (int)wsec * 1000, why,
	    sizeof why) == -1)
		nym_die(NYM_EX_CONFIG, "%s", why);
	if (linger > 0) {
		/* A borrower: the key's holder (started now if none
		 * lends) opens each pending accept on its session, which
		 * outlives this process by sam-linger; an acceptor
		 * restarted meanwhile finds the same session. */
		hold.linger = (int)linger;
		if ((rc = nym_sam_acquire(&s, &hold, why, sizeof why)) !=
		    NYM_EX_OK)
			nym_die(rc, "%s", why);
		borrowed = s.share[0] != '\0';
	} else
		ownsession(&s, keyarg, &sa, &hold, wsec);
	memset(&act, 0, sizeof act);
	act.sa_handler = onsignal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	if (borrowed) {
		/* The holder lends the session to the programs too. */
		if (setenv("I2P_LOCAL_KEY", keyarg, 1) == -1)
			nym_dieerr(NYM_EX_TEMPFAIL, "unable to set "
			    "I2P_LOCAL_KEY");
	} else if ((size_t)snprintf(sockpath, sizeof sockpath, "%s.sock",
	    keyarg) >= sizeof sockpath ||
	    (lfd = nym_share_listen(sockpath)) == -1)
		nym_warn("unable to lend the session at %s.sock: %s", keyarg,
		    strerror(errno));
	/* The programs run per stream borrow this session for their own
	 * lookups (smtp-receive's resolver checking a sender): a session
	 * of their own per message would cost ~20 s each on i2pd, and
	 * closing it right after can crash the router. */
	else if (setenv("I2P_LOCAL_KEY", keyarg, 1) == -1)
		nym_dieerr(NYM_EX_TEMPFAIL, "unable to set I2P_LOCAL_KEY");
	printf("%s\n", s.b32);
	fflush(stdout);

	while (!stop) {
		reap(0);
		if (children >= max) {
			reap(1);
			continue;
		}
		if ((rc = nym_sam_accept(&s, &afd)) != NYM_SAM_OK) {
			if (stop)
				break;
			nym_warn("unable to accept a stream from the SAM bridge "
			    "at %s:%s%s: %s", sa.host, sa.port, rc == -1 &&
			    nym_unreachable(errno) ? " (" NYM_SAM_HINT ")" : "",
			    rc == -1 ? strerror(errno) :
			    nym_sam_resultname(rc));
			break;
		}
		/* Wait for a peer, waking now and then to reap and to see
		 * a signal, lending the session meanwhile, and watching the
		 * bridge: between requests it says nothing on the session's
		 * socket, so EOF there is a bridge gone (a restart drops
		 * every session), and a probe when idle finds a hung one. */
		pfd[0].fd = afd;
		pfd[0].events = POLLIN;
		pfd[1].fd = s.fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = lfd;
		pfd[2].events = POLLIN;
		probed = nym_now_ms();
		for (;;) {
			pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
			ready = poll(pfd, lfd >= 0 ? 3 : 2, 1000);
			if (stop || (ready == -1 && errno != EINTR))
				break;
			if (pfd[1].revents != 0 && bridgegone(s.fd, 1)) {
				lost = borrowed ? "the session's holder went "
				    "away" : "the bridge closed the session";
				break;
			}
			if (pfd[0].revents != 0)
				break;
			if (lfd >= 0 && pfd[2].revents != 0) {
				if ((pid = nym_share_serve(lfd, &s,
				    (int)wsec * 1000, NULL, NULL)) > 0)
					children++;
				probed = nym_now_ms();
			}
			/* A lender probes its own session. */
			if (!borrowed && nym_sam_probe(&s, hold.probe,
			    &probed) == -1) {
				lost = "the bridge does not answer";
				break;
			}
			reap(0);
		}
		if (stop || lost != NULL) {
			close(afd);
			break;
		}
		if (nym_sam_peer(afd, NULL, (int)wsec * 1000, &peer) == -1) {
			/* A restart closes this socket and the session's
			 * together, in either order. */
			if (bridgegone(s.fd, 1000)) {
				lost = borrowed ? "the session's holder went "
				    "away" : "the bridge closed the session";
				close(afd);
				break;
			}
			nym_warn("unable to read the peer of a stream: %s",
			    errno == EPROTO ? "the bridge refused it" :
			    strerror(errno));
			/* A dead bridge fails the next accept, which ends
			 * the run with 75. */
			close(afd);
			continue;
		}
		spawn(afd, peer, s.b32, argv);
		free(peer);
	}
	/* Streams before the session: wait for the programs to finish. */
	if (lfd >= 0) {
		close(lfd);
		unlink(sockpath);
	}
	while (children > 0)
		reap(1);
	if (lost != NULL) {
		nym_warn("unable to keep the session at the SAM bridge at "
		    "%s:%s: %s", sa.host, sa.port, lost);
		s.keep_ms = 0;		/* nothing left to keep */
	}
	nym_sam_release(&s);
	return stop && lost == NULL ? NYM_EX_OK : NYM_EX_TEMPFAIL;
}
