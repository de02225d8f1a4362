/*
 * test_http_sniff.c — the first-bytes classifier (src/http/sniff.c) and the
 * request lines it hands to the parser.
 *
 * Every case is fed whole and at every split into two runs, and one byte at
 * a time: the verdict must not depend on how the bytes arrived. Then every
 * odd request line that once slipped past the HTTP policy as "not HTTP" is
 * checked end to end: the classifier calls it HTTP, and the strict parser
 * either parses it or refuses it with a 4xx/5xx status — never a tunnel.
 */
#include "remora-config.h"

#include <check.h>
#include <string.h>

#include "http/http.h"
#include "unit.h"

struct sniff_case {
	const char *in;
	size_t len;
	enum http_first want;
};

#define C(s, v)                                  \
	{                                        \
		s, sizeof(s) - 1, HTTP_FIRST_##v \
	}

/* clang-format off */
static const struct sniff_case cases[] = {
	C("", MORE),
	C("G", MORE),
	C("GET", MORE),
	C("GET ", HTTP),
	C("GET\t/", HTTP),
	C("get / http/1.1\r\n", HTTP),
	C("\r\n\r\n\r\nGET / HTTP/1.1\r\n", HTTP),
	C("\n\nPOST /", HTTP),
	C("\r\n", MORE),
	C("HELLO", MORE),
	C("HELLO\r\n", OTHER),
	C("HELLO world", HTTP), /* token SP: the parser decides (400) */
	C("SSH-2.0-OpenSSH_9.2\r\n", OTHER),
	C("\x16", MORE),
	C("\x16\x03\x01\x02\x00\x01", TLS),
	C("\x16\x02", OTHER),
	C("\x16\x03", TLS),
	C("\x00\x01", OTHER),
	C(" GET /", HTTP), /* Python's http.server reads it as a request: the parser refuses it */
	C(" ", MORE),
	C(" \t GET", MORE),
	C("\r\n GET\t", HTTP),
	C(" \r\nGET /", OTHER),
	C(" \x16\x03", OTHER),
	C(" GET\r\n", OTHER),
	C("GET\x0b/", HTTP),
	C("GET\x0c/", HTTP),
	C("GET\x1f/", HTTP),
	C("GET\xa0http://h/", HTTP),
	C("OPTIONS\x85*", HTTP),
	C("GET\x0b", MORE),
	C("GET\x0bx", OTHER),
	C("GET\x0b\x0b/", OTHER),
	C("GET\x1b/", OTHER),
	C("\x80GET", OTHER),
	C("{\"json\":1}", OTHER),
	C("/index.html", OTHER),
	C("GET/ HTTP/1.1", OTHER),
	C("P", MORE),
	C("PRI", MORE),
	C("PRI ", MORE),
	C("PRI * HTTP/2.0\r\n\r\nSM\r\n", MORE),
	C("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", OTHER),
	C("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04", OTHER),
	C("PRI * HTTP/1.1\r\n", HTTP),
	C("PRI / HTTP/1.1\r\n", HTTP),
	C("PRIX ", HTTP),
	C("PR ", HTTP),
	C("\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP), /* the preface has no noise */
	/* a run too long for a method (or noise) is the parser's to refuse */
	C("ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABC", MORE),
	C("ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCD", HTTP),
	C("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	  "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", HTTP),
};
/* clang-format on */
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static enum http_first feed_split(const struct sniff_case *tc, size_t split)
{
	struct http_sniff s;
	enum http_first v;

	http_sniff_init(&s);
	v = http_sniff_feed(&s, tc->in, split);
	if (v != HTTP_FIRST_MORE)
		return v;
	return http_sniff_feed(&s, tc->in + split, tc->len - split);
}

START_TEST(every_split)
{
	const struct sniff_case *tc = &cases[_i];
	struct http_sniff s;
	enum http_first v = HTTP_FIRST_MORE;
	size_t i;

	for (i = 0; i <= tc->len; i++)
		ck_assert_msg(feed_split(tc, i) == tc->want, "case %d split %zu: %s, want %s", _i,
			      i, http_first_name(feed_split(tc, i)), http_first_name(tc->want));
	http_sniff_init(&s);
	for (i = 0; i < tc->len; i++)
		v = http_sniff_feed(&s, tc->in + i, 1);
	ck_assert_int_eq(v, tc->want);
	/* a verdict never changes, whatever comes after */
	if (tc->want != HTTP_FIRST_MORE)
		ck_assert_int_eq(http_sniff_feed(&s, "\x16\x03 GET ", 7), tc->want);
}
END_TEST

/* Request lines that look like HTTP and once went through as a raw tunnel:
 * each must reach the parser and be refused with a status (or parsed). */
static const char *const odd_lines[] = {
	"GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
	"\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.10\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.32\r\nHost: h\r\n\r\n",
	"GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / http/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1\r\nHost: h\r\n\r\n",
	"GET / HTTP/ 1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/01.01\r\nHost: h\r\n\r\n",
	"GET /\r\n",
	"GET /\r\nHost: h\r\n\r\n",
	"HELLO world\r\n",
	"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
	"PRI * HTTP/1.1\r\nHost: h\r\n\r\n",
	/* Python's http.server splits the line at any whitespace */
	" GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"\t\tGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET\x0b/ HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET\x0c/\x0cHTTP/1.1\r\nHost: h\r\n\r\n",
	"GET\x1chttp://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET\xa0/ HTTP/1.1\r\nHost: h\r\n\r\n",
};
#define N_ODD (sizeof(odd_lines) / sizeof(odd_lines[0]))

START_TEST(odd_request_lines_are_http)
{
	static const struct http_limits lim = {
		.max_line = 8192, .max_head = 65536, .max_fields = 100};
	const char *in = odd_lines[_i];
	struct http_sniff s;
	struct http_msg m;
	int r, status;

	http_sniff_init(&s);
	ck_assert_int_eq(http_sniff_feed(&s, in, strlen(in)), HTTP_FIRST_HTTP);
	http_msg_init_request(&m, NULL, 0);
	r = http_parse(&m, in, strlen(in), &lim);
	ck_assert_msg(r == HTTP_INVALID, "line %d was accepted (%d)", _i, r);
	status = http_error_status(m.error);
	ck_assert_msg(status == 400 || status == 505, "line %d: status %d", _i, status);
}
END_TEST

/* The whole HTTP/2 preface, in any pieces, is told apart from other
 * non-HTTP bytes (a name policy refuses it even once a prefix went). */
START_TEST(h2_preface_in_pieces)
{
	static const char pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00";
	const size_t len = sizeof(pre) - 1;
	struct http_sniff s;
	size_t i;

	for (i = 0; i <= len; i++) {
		http_sniff_init(&s);
		(void)http_sniff_feed(&s, pre, i);
		ck_assert(!http_sniff_is_h2(&s) || i >= len - 2);
		(void)http_sniff_feed(&s, pre + i, len - i);
		ck_assert_msg(http_sniff_is_h2(&s), "split %zu", i);
	}
	http_sniff_init(&s);
	(void)http_sniff_feed(&s, "PRI * HTTP/2.0\r\n\r\nSM\r\n\rX", 23);
	ck_assert(!http_sniff_is_h2(&s));
	http_sniff_init(&s);
	(void)http_sniff_feed(&s, "\x00PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 25);
	ck_assert(!http_sniff_is_h2(&s));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_sniff");
	TCase *tc = tcase_create("cases");

	tcase_add_loop_test(tc, every_split, 0, N_CASES);
	tcase_add_loop_test(tc, odd_request_lines_are_http, 0, N_ODD);
	tcase_add_test(tc, h2_preface_in_pieces);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
