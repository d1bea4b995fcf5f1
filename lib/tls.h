/*
 * tls.h - libnymbox, TLS: STARTTLS for SMTP between onion services.
 *
 * Conventions: base.h.  Only the programs that speak TLS include this
 * layer, so only they link OpenSSL (README, "Dependencies").
 */
#ifndef NYM_TLS_H
#define NYM_TLS_H

#include <stddef.h>

struct nym_in;
struct nym_out;
struct nym_smtp_client;

/* ---- tls.c: a TLS session over descriptors, with deadlines ---- */
/* A certificate pin (SMTorP's label in user@<pin>.<onion>.onion): the
 * SHA-256 of the server certificate's SubjectPublicKeyInfo (DER), in
 * lower-case RFC 4648 base32 without padding: 52 characters.  A label
 * may give only the first NYM_TLS_PINMIN (limits.h) or more of them. */
#define NYM_TLS_PINLEN	52

struct nym_tls;
struct nym_tls_cred;

/* Load a server's certificate chain (PEM) and private key (PEM, a file
 * of ours no one else may read).  NULL with why set. */
struct nym_tls_cred *nym_tls_cred_load(const char *cert, const char *key,
    char *why, size_t cap);
void nym_tls_cred_free(struct nym_tls_cred *cr);
/* The pin of cert (a PEM file) into pin (NYM_TLS_PINLEN + 1).  0, or -1
 * with why set. */
int nym_tls_pin_file(const char *cert, char *pin, char *why, size_t cap);
/* Is s a pin label: NYM_TLS_PINMIN to NYM_TLS_PINLEN base32 characters
 * (either case)?  1 or 0. */
int nym_tls_pinlabel(const char *s);

/* A TLS client on the connected descriptors rfd and wfd (the same
 * socket, usually), the handshake done within ms: no certificate
 * authority is asked (the onion address has authenticated the
 * service), but with pin not NULL the server's pin must begin with it.
 * No session is resumed or offered for resumption, and no server name
 * is sent: nothing ties one connection to another.  NULL with why set
 * and *perm 1 if the failure is the server's certificate (a pin that
 * does not match), 0 otherwise. */
struct nym_tls *nym_tls_connect(int rfd, int wfd, const char *pin, int ms,
    char *why, size_t cap, int *perm);
/* A TLS server on rfd and wfd with cr, the handshake done within ms.
 * NULL with why set. */
struct nym_tls *nym_tls_accept(const struct nym_tls_cred *cr, int rfd,
    int wfd, int ms, char *why, size_t cap);
/* From now on in and out (either may be NULL) read and write through
 * t; their deadlines and rates hold as before. */
void nym_tls_attach(struct nym_tls *t, struct nym_in *in,
    struct nym_out *out);
/* The protocol and cipher, for a log line: "TLSv1.3 TLS_AES_..." */
const char *nym_tls_info(const struct nym_tls *t, char *buf, size_t cap);
/* Send close_notify if it can within ms, and free t.  The descriptors
 * stay open. */
void nym_tls_close(struct nym_tls *t, int ms);
/* Free t, touching no descriptor (they may be closed, or reused). */
void nym_tls_free(struct nym_tls *t);

/* ---- smtptls.c: STARTTLS for the SMTP client (proto.h) ---- */
/* After nym_smtp_start: STARTTLS, the handshake (with pin as above, or
 * NULL), then EHLO helo again.  0 with *t set, or an exit code with
 * c->why set and the connection closed: 75 for what may work later
 * (STARTTLS refused with 4xx, a handshake that failed or timed out), 77
 * for a pin that does not match or STARTTLS refused with 5xx.  The
 * caller frees *t with nym_tls_free after nym_smtp_quit (QUIT ends the
 * session; no close_notify is needed). */
int nym_smtp_starttls(struct nym_smtp_client *c, const char *pin,
    const char *helo, struct nym_tls **t);

#endif
