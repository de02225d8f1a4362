/*
 * fuzz_response.c — libFuzzer target: response heads and response bodies.
 *
 * Checks, besides the sanitizers: the incremental parser gives the same
 * verdict whether the input arrives whole or split at a fuzzer-chosen point;
 * spans stay inside the head; the body tracker never claims more bytes than
 * it was given, and gives the same answer fed byte by byte; an accepted head
 * normalised (http_head_normalize) parses with no leniency and no
 * HTTP_F_NORMALIZE to the same status, framing and keep-alive verdict, and
 * normalises to itself; a stream refused as not HTTP/1.x (NO_STATUS_LINE) is
 * refused from its first 13 bytes; a body the lenient tracker (a proxy's)
 * takes, with the CRs it asks for put in, needs no more CR and ends at the
 * same place, and whatever the strict one takes the lenient one takes
 * unchanged.
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

static const struct http_limits strict = {
	.max_line = 1 << 16, .max_head = 1 << 16, .max_fields = 64, .lenient = 0};

static void check_span(struct http_span s, int r)
{
	CHECK((uint64_t)s.off + s.len <= (uint64_t)r);
}

/* The normalised head of a (parsed from buf) means the same, strictly. */
static void check_normalized(const char *buf, const struct http_msg *a)
{
	static char out[HTTP_NORMALIZED_MAX(8192)], again[HTTP_NORMALIZED_MAX(8192)];
	struct http_msg n;
	size_t len;

	len = http_head_normalize(buf, a, out, sizeof(out));
	CHECK(len > 0 && len <= HTTP_NORMALIZED_MAX(a->head_len));
	CHECK(http_head_normalize(buf, a, out, len - 1) == 0);
	http_msg_init_response(&n, NULL, 0, (a->flags & HTTP_F_HEAD_REQUEST) != 0);
	CHECK(http_parse(&n, out, len, &strict) == (int)len);
	CHECK(!(n.flags & HTTP_F_NORMALIZE));
	CHECK(n.status == a->status && n.minor == a->minor && n.body == a->body);
	CHECK(n.body != HTTP_BODY_LENGTH || n.content_length == a->content_length);
	CHECK(http_msg_keeps_alive(&n) == http_msg_keeps_alive(a));
	CHECK(http_head_normalize(out, &n, again, sizeof(again)) == len);
	CHECK(memcmp(out, again, len) == 0);
}

/* The body at [p, p + n) through the lenient tracker, fed in pieces of step
 * bytes, CRs put in where it asks; then the rewritten bytes through it
 * again, whole. */
static void check_lenient_body(const struct http_msg *a, const char *p, size_t n, size_t step,
			       long strict_n)
{
	static char w[2 * 4096 + 8];
	struct http_body l, s;
	size_t len = n, pos = 0, avail;
	long k = 0;

	memcpy(w, p, n);
	http_body_init(&l, a);
	l.lenient = 1;
	avail = step < len ? step : len;
	while (!l.done && pos < avail) {
		k = http_body_feed(&l, w + pos, avail - pos);
		if (k < 0)
			break;
		pos += (size_t)k;
		if (l.need_cr) {
			CHECK(pos < len && w[pos] == '\n' && len < sizeof(w));
			memmove(w + pos + 1, w + pos, len - pos);
			w[pos] = '\r';
			len++;
			avail++;
			l.need_cr = 0;
		} else if (pos == avail && avail < len) {
			avail = avail + step < len ? avail + step : len;
		}
	}
	if (strict_n >= 0) /* what the strict tracker takes, the lenient one takes as it is */
		CHECK(k >= 0 && !l.eased && (long)pos == strict_n);
	if (k < 0)
		return;
	/* rewritten, every framing line ends in CRLF: nothing more to put in
	 * (free-form extensions stay, as browsers skip them) */
	http_body_init(&s, a);
	s.lenient = 1;
	CHECK(http_body_feed(&s, w, pos) == (long)pos && !s.need_cr && s.done == l.done);
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

	http_msg_init_response(&a, f1, 32, data[0] & 1);
	r1 = http_parse(&a, buf, size, &limits);
	http_msg_init_response(&b, f2, 32, data[0] & 1);
	r2 = http_parse(&b, buf, split, &limits);
	if (r2 == HTTP_NEED_MORE)
		r2 = http_parse(&b, buf, size, &limits);
	CHECK(r1 == r2);
	CHECK(r1 != HTTP_INVALID || a.error == b.error);
	if (r1 == HTTP_INVALID && a.error == HTTP_ERR_NO_STATUS_LINE && size > 13) {
		http_msg_init_response(&b, f2, 32, data[0] & 1);
		CHECK(http_parse(&b, buf, 13, &limits) == HTTP_INVALID);
		CHECK(b.error == HTTP_ERR_NO_STATUS_LINE);
	}
	if (r1 <= 0)
		return 0;
	CHECK((size_t)r1 <= size && a.n_fields == b.n_fields && a.body == b.body);
	check_span(a.reason, r1);
	CHECK(a.status >= 100 && a.status <= 999);
	check_normalized(buf, &a);
	for (i = 0; i < a.n_fields; i++) {
		check_span(f1[i].name, r1);
		check_span(f1[i].value, r1);
		check_span(f1[i].line, r1);
	}

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
	check_lenient_body(&a, buf + r1, size - (size_t)r1, 1 + data[0] % 7, n1);
	return 0;
}
