/*
 * tls_int.h — private to src/tls: the JA4 fingerprint (ja4.c) and SHA-256
 * (sha256.c) the reader (clienthello.c) uses.
 */
#ifndef REMORA_TLS_INT_H
#define REMORA_TLS_INT_H

#include <stddef.h>
#include <stdint.h>

/* Lists kept while a ClientHello is parsed (more: TLS_ERR_TOO_MANY). */
#define TLS_MAX_CIPHERS	   1024
#define TLS_MAX_EXTENSIONS 512
#define TLS_MAX_SIGALGS	   256

/* What JA4 needs from a ClientHello, GREASE values already left out. */
struct ja4_input {
	uint16_t *ciphers; /* as sent; sorted in place by ja4_format() */
	size_t n_ciphers;
	const uint16_t *exts; /* extension types, sorted ascending */
	size_t n_exts;
	const uint16_t *sigalgs; /* signature_algorithms, as sent */
	size_t n_sigalgs;
	uint16_t version; /* highest offered */
	uint8_t has_sni;
	uint8_t alpn_len; /* length of the first ALPN protocol (0: none) */
	uint8_t alpn_first, alpn_last;
};

/* Writes the JA4 fingerprint (TLS over TCP) for in to out (36 characters
 * and a NUL). Algorithm and source: docs/tls.md. */
void ja4_format(char *out, const struct ja4_input *in);

struct sha256 {
	uint32_t h[8];
	uint64_t n; /* bytes hashed */
	uint8_t blk[64];
	uint32_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);

#endif
