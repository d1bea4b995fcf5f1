/*
 * tls.c - a TLS session over descriptors, with deadlines (OpenSSL).
 *
 * Used for STARTTLS between onion services (SMTorP).  The onion address
 * already authenticates the service and Tor encrypts the stream, so the
 * client asks no certificate authority; what TLS adds is what SMTorP
 * demands, and a pin: an address may carry the SHA-256 of the server's
 * public key, which must then match.  Nothing that could tie two
 * connections together is used: no session resumption either way, no
 * tickets, no server name sent.  OpenSSL reads no configuration file.
 *
 * The descriptors are made non-blocking, and every step waits in
 * poll(2) for what OpenSSL asks (readable or writable), so a read or a
 * write through TLS keeps the deadlines of the reader or writer it
 * serves (nym_xport, base.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "limits.h"
#include "base.h"
#include "msg.h"
#include "tls.h"

struct nym_tls {
	SSL *ssl;
	int rfd, wfd;
	struct nym_xport xp;
};

struct nym_tls_cred {
	SSL_CTX *ctx;
};

static int
ready(void)
{
	static int done;

	if (!done && OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1)
		done = 1;
	return done ? 0 : -1;
}

/* OpenSSL's first error, in words, after what. */
static void
sslwhy(char *why, size_t cap, const char *what)
{
	unsigned long e = ERR_peek_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		snprintf(why, cap, "%s: %s", what, buf);
	} else
		snprintf(why, cap, "%s: %s", what, errno != 0 ?
		    strerror(errno) : "the peer hung up");
	ERR_clear_error();
}

/* A context with what both sides share: TLS 1.2 or later, no session
 * cache, no tickets, renegotiation off. */
static SSL_CTX *
newctx(const SSL_METHOD *m)
{
	SSL_CTX *ctx;

	if (ready() == -1 || (ctx = SSL_CTX_new(m)) == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

static int
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ? -1 : 0;
}

/* Wait for what OpenSSL wants after error e, until dl (nym_now_ms; 0:
 * none) and at most ms (<= 0: no limit).  0, or -1 with errno (EPROTO:
 * something other than a wait was asked). */
static int
await(const struct nym_tls *t, int e, int ms, long long dl)
{
	int w = nym_wait_ms(ms, dl);

	if (w == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (e == SSL_ERROR_WANT_READ)
		return nym_wait(t->rfd, POLLIN, w);
	if (e == SSL_ERROR_WANT_WRITE)
		return nym_wait(t->wfd, POLLOUT, w);
	errno = EPROTO;
	return -1;
}

static ssize_t
xread(void *ctx, void *buf, size_t n, int wait)
{
	struct nym_tls *t = ctx;
	long long dl = wait >= 0 ? nym_now_ms() + wait : 0;
	size_t got;
	int e;

	if (wait == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if (SSL_read_ex(t->ssl, buf, n, &got) == 1)
			return (ssize_t)got;
		e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (await(t, e, 0, dl) == -1)
				return -1;
			continue;
		}
		if (e != SSL_ERROR_SYSCALL || errno == 0)
			errno = EPROTO;
		ERR_clear_error();
		return -1;
	}
}

static int
xwrite(void *ctx, const void *p, size_t n, int ms, long long deadline)
{
	struct nym_tls *t = ctx;
	const char *s = p;
	size_t done;
	int e;

	while (n > 0) {
		ERR_clear_error();
		errno = 0;
		if (SSL_write_ex(t->ssl, s, n, &done) == 1) {
			s += done;
			n -= done;
			continue;
		}
		e = SSL_get_error(t->ssl, 0);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (await(t, e, ms, deadline) == -1)
				return -1;
			continue;
		}
		if (e != SSL_ERROR_SYSCALL || errno == 0)
			errno = e == SSL_ERROR_ZERO_RETURN ? EPIPE : EPROTO;
		ERR_clear_error();
		return -1;
	}
	return 0;
}

static struct nym_tls *
newtls(SSL_CTX *ctx, int rfd, int wfd, char *why, size_t cap)
{
	struct nym_tls *t;

	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(why, cap, "unable to allocate memory");
		return NULL;
	}
	t->rfd = rfd;
	t->wfd = wfd;
	t->xp.read = xread;
	t->xp.write = xwrite;
	t->xp.ctx = t;
	if (nonblock(rfd) == -1 || nonblock(wfd) == -1) {
		snprintf(why, cap, "unable to start TLS: %s", strerror(errno));
		free(t);
		return NULL;
	}
	if ((t->ssl = SSL_new(ctx)) == NULL || SSL_set_rfd(t->ssl, rfd) != 1 ||
	    SSL_set_wfd(t->ssl, wfd) != 1) {
		sslwhy(why, cap, "unable to start TLS");
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	return t;
}

/* Run the handshake (connect or accept) within ms. */
static int
handshake(struct nym_tls *t, int client, int ms, char *why, size_t cap)
{
	long long dl = nym_now_ms() + ms;
	int r, e;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		r = client ? SSL_connect(t->ssl) : SSL_accept(t->ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(t->ssl, r);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    await(t, e, 0, dl) == 0)
			continue;
		if (errno == ETIMEDOUT)
			snprintf(why, cap, "unable to start TLS: no handshake "
			    "within %d s", ms / 1000);
		else
			sslwhy(why, cap, "unable to start TLS");
		return -1;
	}
}

static void
pinof(X509 *x, char *pin)
{
	unsigned char *der = NULL, h[32];
	int n;

	pin[0] = '\0';
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return;
	nym_sha256(der, (size_t)n, h);
	OPENSSL_free(der);
	nym_base32(h, sizeof h, pin);
}

int
nym_tls_pinlabel(const char *s)
{
	size_t n = strlen(s), i;

	if (n < NYM_TLS_PINMIN || n > NYM_TLS_PINLEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '2' &&
		    s[i] <= '7')))
			return 0;
	return 1;
}

struct nym_tls *
nym_tls_connect(int rfd, int wfd, const char *pin, int ms, char *why,
    size_t cap, int *perm)
{
	static SSL_CTX *ctx;
	struct nym_tls *t;
	char have[NYM_TLS_PINLEN + 1];
	X509 *x;
	size_t i;

	*perm = 0;
	if (pin != NULL && !nym_tls_pinlabel(pin)) {
		snprintf(why, cap, "unable to use the certificate pin %.60s: "
		    "expected %d to %d base32 characters", pin, NYM_TLS_PINMIN,
		    NYM_TLS_PINLEN);
		*perm = 1;
		return NULL;
	}
	if (ctx == NULL && (ctx = newctx(TLS_client_method())) == NULL) {
		sslwhy(why, cap, "unable to set up TLS");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((t = newtls(ctx, rfd, wfd, why, cap)) == NULL)
		return NULL;
	if (handshake(t, 1, ms, why, cap) == -1)
		goto fail;
	if (pin != NULL) {
		if ((x = SSL_get0_peer_certificate(t->ssl)) == NULL) {
			snprintf(why, cap, "the server showed no certificate "
			    "for the pin %s", pin);
			*perm = 1;
			goto fail;
		}
		pinof(x, have);
		/* | 0x20: lower case; the digits 2-7 have the bit */
		for (i = 0; pin[i] != '\0'; i++)
			if ((pin[i] | 0x20) != have[i])
				break;
		if (pin[i] != '\0' || have[0] == '\0') {
			snprintf(why, cap, "the server's certificate does not "
			    "match the address's pin: expected %s, the server "
			    "has %s", pin, have);
			*perm = 1;
			goto fail;
		}
	}
	return t;
fail:
	SSL_free(t->ssl);
	free(t);
	return NULL;
}

struct nym_tls_cred *
nym_tls_cred_load(const char *cert, const char *key, char *why, size_t cap)
{
	struct nym_tls_cred *cr;
	unsigned char *buf;
	ssize_t n;
	BIO *b = NULL;
	EVP_PKEY *pk = NULL;

	if ((cr = calloc(1, sizeof *cr)) == NULL ||
	    (buf = malloc(NYM_TLS_KEYFILE_MAX)) == NULL) {
		free(cr);
		snprintf(why, cap, "unable to allocate memory");
		return NULL;
	}
	if ((n = nym_read_small(key, buf, NYM_TLS_KEYFILE_MAX, 1)) == -1) {
		snprintf(why, cap, "unable to read the TLS key %s: %s", key,
		    errno == EPERM ? "not a file of ours that only we may "
		    "read" : strerror(errno));
		goto fail;
	}
	if ((cr->ctx = newctx(TLS_server_method())) == NULL) {
		sslwhy(why, cap, "unable to set up TLS");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(cr->ctx, cert) != 1) {
		sslwhy(why, cap, "unable to read the TLS certificate");
		goto fail;
	}
	if ((b = BIO_new_mem_buf(buf, (int)n)) == NULL ||
	    (pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_PrivateKey(cr->ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(cr->ctx) != 1) {
		sslwhy(why, cap, "unable to use the TLS key with the "
		    "certificate");
		goto fail;
	}
	EVP_PKEY_free(pk);
	BIO_free(b);
	nym_wipe(buf, NYM_TLS_KEYFILE_MAX);
	free(buf);
	return cr;
fail:
	EVP_PKEY_free(pk);
	BIO_free(b);
	nym_wipe(buf, NYM_TLS_KEYFILE_MAX);
	free(buf);
	nym_tls_cred_free(cr);
	return NULL;
}

void
nym_tls_cred_free(struct nym_tls_cred *cr)
{
	if (cr == NULL)
		return;
	SSL_CTX_free(cr->ctx);
	free(cr);
}

int
nym_tls_pin_file(const char *cert, char *pin, char *why, size_t cap)
{
	FILE *f;
	X509 *x;

	if (ready() == -1) {
		sslwhy(why, cap, "unable to set up TLS");
		return -1;
	}
	if ((f = fopen(cert, "re")) == NULL) {
		snprintf(why, cap, "unable to read the certificate %s: %s",
		    cert, strerror(errno));
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		sslwhy(why, cap, "unable to read the certificate");
		return -1;
	}
	pinof(x, pin);
	X509_free(x);
	if (pin[0] == '\0') {
		snprintf(why, cap, "unable to read the certificate's key");
		return -1;
	}
	return 0;
}

struct nym_tls *
nym_tls_accept(const struct nym_tls_cred *cr, int rfd, int wfd, int ms,
    char *why, size_t cap)
{
	struct nym_tls *t;

	if ((t = newtls(cr->ctx, rfd, wfd, why, cap)) == NULL)
		return NULL;
	if (handshake(t, 0, ms, why, cap) == -1) {
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	return t;
}

void
nym_tls_attach(struct nym_tls *t, struct nym_in *in, struct nym_out *out)
{
	if (in != NULL)
		in->xp = &t->xp;
	if (out != NULL)
		out->xp = &t->xp;
}

const char *
nym_tls_info(const struct nym_tls *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %s", SSL_get_version(t->ssl),
	    SSL_get_cipher_name(t->ssl));
	return buf;
}

void
nym_tls_close(struct nym_tls *t, int ms)
{
	long long dl = nym_now_ms() + ms;
	int r, e;

	if (t == NULL)
		return;
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_shutdown(t->ssl)) >= 0)
			break;	/* sent; the peer's answer is not awaited */
		e = SSL_get_error(t->ssl, r);
		if (e != SSL_ERROR_WANT_WRITE || await(t, e, 0, dl) == -1)
			break;
	}
	nym_tls_free(t);
}

void
nym_tls_free(struct nym_tls *t)
{
	if (t == NULL)
		return;
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
}
