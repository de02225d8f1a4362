/*
 * fuzz_sniff.c — libFuzzer target: the first-bytes classifier.
 *
 * Checks, besides the sanitizers: the verdict does not depend on how the
 * bytes are split (whole, at a fuzzer-chosen point, one byte at a time); and
 * the safety property behind it — bytes classified as not HTTP (a tunnel) are
 * never a request head the parser would accept, strict or lenient, so a
 * tunnel cannot carry a request past the HTTP policy.
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

static enum http_first sniff(const char *p, size_t len, size_t split)
{
	struct http_sniff s;
	enum http_first v;

	http_sniff_init(&s);
	v = http_sniff_feed(&s, p, split);
	return v != HTTP_FIRST_MORE ? v : http_sniff_feed(&s, p + split, len - split);
}

static int parser_accepts(const char *p, size_t len, uint32_t lenient)
{
	const struct http_limits lim = {
		.max_line = 8192, .max_head = 65536, .max_fields = 100, .lenient = lenient};
	struct http_msg m;

	http_msg_init_request(&m, NULL, 0);
	return http_parse(&m, p, len, &lim) > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct http_sniff s;
	enum http_first whole, v = HTTP_FIRST_MORE;
	size_t split = size ? data[0] % (size + 1) : 0, i;

	whole = sniff(p, size, size);
	CHECK(sniff(p, size, split) == whole);
	http_sniff_init(&s);
	for (i = 0; i < size; i++)
		v = http_sniff_feed(&s, p + i, 1);
	CHECK(v == whole);
	if (whole == HTTP_FIRST_OTHER || whole == HTTP_FIRST_TLS) {
		/* the HTTP/2 preface is the one "other" that starts like a line */
		if (!(size >= 4 && memcmp(p, "PRI ", 4) == 0)) {
			CHECK(!parser_accepts(p, size, 0));
			CHECK(!parser_accepts(p, size, HTTP_LENIENT_BARE_LF));
		}
	}
	return 0;
}
