/*
 * fuzz_request.c — libFuzzer target: request heads and request bodies.
 *
 * Checks, besides the sanitizers: the incremental parser gives the same
 * verdict whether the input arrives whole or split at a fuzzer-chosen point;
 * spans stay inside the head; the body tracker never claims more bytes than
 * it was given, and gives the same answer fed byte by byte; a head accepted
 * only under [http] lenient_bare_lf, normalised (http_head_normalize), parses
 * strictly to the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_limits limits = {
	.max_line = 1024, .max_head = 4096, .max_fields = 32, .lenient = 0};

static void check_span(struct http_span s, int r)
{
	CHECK((uint64_t)s.off + s.len <= (uint64_t)r);
}

static const struct http_limits lenient = {
	.max_line = 1024, .max_head = 4096, .max_fields = 32, .lenient = HTTP_LENIENT_BARE_LF};

/* (normalising adds a CR to a line, never to the request line's length) */
static const struct http_limits strict = {
	.max_line = 1024, .max_head = HTTP_NORMALIZED_MAX(4096), .max_fields = 32, .lenient = 0};

static int same_bytes(const char *a, struct http_span x, const char *b, struct http_span y)
{
	return x.len == y.len && memcmp(a + x.off, b + y.off, x.len) == 0;
}

/* Under lenient_bare_lf: a head marked for normalising, normalised, means
 * the same strictly (method, target, Host, fields, framing, keep-alive). */
static void check_normalized(const char *buf, size_t size)
{
	static char out[HTTP_NORMALIZED_MAX(4096)];
	struct http_msg a, n;
	size_t len;

	http_msg_init_request(&a, NULL, 0);
	if (http_parse(&a, buf, size, &lenient) <= 0 || !(a.flags & HTTP_F_NORMALIZE))
		return;
	len = http_head_normalize(buf, &a, out, sizeof(out));
	CHECK(len > 0 && len <= HTTP_NORMALIZED_MAX(a.head_len));
	http_msg_init_request(&n, NULL, 0);
	CHECK(http_parse(&n, out, len, &strict) == (int)len);
	CHECK(!(n.flags & HTTP_F_NORMALIZE) && n.flags == (a.flags & ~HTTP_F_NORMALIZE));
	CHECK(n.minor == a.minor && n.n_fields == a.n_fields && n.body == a.body);
	CHECK(n.body != HTTP_BODY_LENGTH || n.content_length == a.content_length);
	CHECK(same_bytes(buf, a.method, out, n.method) && same_bytes(buf, a.target, out, n.target));
	CHECK(n.host_field == a.host_field && same_bytes(buf, a.host, out, n.host));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_field f1[32], f2[32];
	struct http_msg a, b;
	struct http_body x, y;
	const char *buf;
	size_t split, i;
	long n1, n2, k;
	int r1, r2;

	if (size < 1)
		return 0;
	split = data[0] % (size + 1);
	buf = (const char *)data + 1;
	size--;
	if (split > size)
		split = size;

	http_msg_init_request(&a, f1, 32);
	r1 = http_parse(&a, buf, size, &limits);
	http_msg_init_request(&b, f2, 32);
	r2 = http_parse(&b, buf, split, &limits);
	if (r2 == HTTP_NEED_MORE)
		r2 = http_parse(&b, buf, size, &limits);
	CHECK(r1 == r2);
	CHECK(r1 != HTTP_INVALID || a.error == b.error);
	check_normalized(buf, size);
	if (r1 <= 0)
		return 0;
	CHECK((size_t)r1 <= size && a.n_fields == b.n_fields && a.body == b.body);
	check_span(a.method, r1);
	check_span(a.target, r1);
	for (i = 0; i < a.n_fields; i++) {
		check_span(f1[i].name, r1);
		check_span(f1[i].value, r1);
		check_span(f1[i].line, r1);
	}
	if (a.host_field >= 0)
		check_span(a.host_line, r1);

	/* the body: whole, then byte by byte */
	http_body_init(&x, &a);
	n1 = http_body_feed(&x, buf + r1, size - (size_t)r1);
	CHECK(n1 == HTTP_INVALID || (n1 >= 0 && (size_t)n1 <= size - (size_t)r1));
	http_body_init(&y, &a);
	n2 = 0;
	for (i = (size_t)r1; i < size && !y.done; i++) {
		k = http_body_feed(&y, buf + i, 1);
		if (k < 0) {
			n2 = HTTP_INVALID;
			break;
		}
		n2 += k;
	}
	CHECK(n1 == n2);
	CHECK(n1 < 0 || x.done == y.done);
	return 0;
}
