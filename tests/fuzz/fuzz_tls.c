/*
 * fuzz_tls.c — libFuzzer target: the ClientHello reader (src/tls).
 *
 * The first byte picks how the rest is presented: as is (any bytes after
 * the connection opened), or wrapped as the body of a ClientHello in one
 * record or in records of 1..64 bytes, so the body parser is reached often.
 * Checks, besides the sanitizers: the answer and every result are the same
 * whole, split at a fuzzer-chosen point and one byte at a time; each call
 * reads only the bytes it was given (prefixes are exact-size copies);
 * results stay within their bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

#define CAP 16384

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses p[0..n) through an exact-size copy, so ASan sees any overread. */
static int parse_prefix(struct tls_hello *h, const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	int rc;

	CHECK(c != NULL);
	memcpy(c, p, n);
	rc = tls_hello_parse(h, c, n);
	free(c);
	return rc;
}

static void check_bounds(const struct tls_hello *h, int rc, size_t len)
{
	unsigned i;

	CHECK(rc == TLS_NEED_MORE || rc == TLS_INVALID || (rc > 0 && (size_t)rc <= len));
	CHECK((h->error != TLS_ERR_NONE) == (rc == TLS_INVALID));
	CHECK(h->error < TLS_ERR_MAX);
	if (rc <= 0)
		return;
	CHECK(rc <= CAP && (uint32_t)rc == h->records_len && h->hello_len <= h->records_len);
	CHECK(h->sni_len <= TLS_SNI_MAX + 1 && strlen(h->sni) == h->sni_len);
	CHECK(h->sni_len <= TLS_SNI_MAX || h->sni[TLS_SNI_MAX] == '.'); /* (only with a dot) */
	CHECK(h->n_alpn_kept <= TLS_ALPN_KEEP && h->n_alpn_kept <= h->n_alpn);
	for (i = 0; i < h->n_alpn_kept; i++)
		CHECK(h->alpn[i].len && h->alpn[i].off + h->alpn[i].len <= TLS_ALPN_BUF);
	CHECK(h->n_versions <= TLS_VERSIONS_KEEP);
	CHECK(strlen(h->ja4) == TLS_JA4_LEN);
	CHECK(h->sni_len == 0 || (h->flags & TLS_F_SNI));
}

static int same(const struct tls_hello *a, const struct tls_hello *b)
{
	return a->error == b->error && a->flags == b->flags && a->hello_len == b->hello_len &&
	       a->records_len == b->records_len && a->version == b->version &&
	       a->n_alpn == b->n_alpn && a->n_alpn_kept == b->n_alpn_kept &&
	       memcmp(a->alpn, b->alpn, sizeof(a->alpn)) == 0 &&
	       memcmp(a->alpn_buf, b->alpn_buf, sizeof(a->alpn_buf)) == 0 &&
	       strcmp(a->sni, b->sni) == 0 && strcmp(a->ja4, b->ja4) == 0 &&
	       a->n_versions == b->n_versions &&
	       memcmp(a->versions, b->versions, sizeof(a->versions)) == 0;
}

/* Wraps body as a ClientHello in records of at most frag bytes. */
static size_t wrap(const uint8_t *body, size_t n, size_t frag, uint8_t *out)
{
	uint8_t msg[4 + 4096];
	size_t m, pos, o = 0, take;

	if (n > 4096)
		n = 4096;
	msg[0] = 1;
	msg[1] = 0;
	msg[2] = (uint8_t)(n >> 8);
	msg[3] = (uint8_t)n;
	memcpy(msg + 4, body, n);
	m = n + 4;
	for (pos = 0; pos < m; pos += take) {
		take = m - pos < frag ? m - pos : frag;
		memcpy(out + o, "\x16\x03\x01", 3);
		out[o + 3] = (uint8_t)(take >> 8);
		out[o + 4] = (uint8_t)take;
		memcpy(out + o + 5, msg + pos, take);
		o += 5 + take;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t framed[6 * (4 + 4096)];
	static struct tls_hello whole, part;
	const uint8_t *p;
	size_t len, split, i;
	int rc, rc2;

	if (size < 2)
		return 0;
	switch (data[0] % 3) {
	case 0:
		p = data + 2;
		len = size - 2;
		break;
	case 1:
		p = framed;
		len = wrap(data + 2, size - 2, 16384, framed);
		break;
	default:
		p = framed;
		len = wrap(data + 2, size - 2, (size_t)(data[1] % 64) + 1, framed);
		break;
	}
	tls_hello_init(&whole, CAP);
	rc = parse_prefix(&whole, p, len);
	check_bounds(&whole, rc, len);
	CHECK(tls_hello_parse(&whole, p, len) == rc); /* the verdict stays */

	split = len ? data[1] % (len + 1) : 0;
	tls_hello_init(&part, CAP);
	rc2 = parse_prefix(&part, p, split);
	if (rc2 == TLS_NEED_MORE)
		rc2 = parse_prefix(&part, p, len);
	CHECK(rc2 == rc && same(&whole, &part));

	tls_hello_init(&part, CAP);
	rc2 = TLS_NEED_MORE;
	for (i = 0; i <= len && rc2 == TLS_NEED_MORE; i++) /* exact copies while cheap */
		rc2 = len <= 512 ? parse_prefix(&part, p, i) : tls_hello_parse(&part, p, i);
	CHECK(rc2 == rc && same(&whole, &part));
	if (rc == TLS_NEED_MORE) {
		CHECK(tls_hello_eof(&part) == TLS_INVALID && part.error == TLS_ERR_TRUNCATED);
	}
	return 0;
}
