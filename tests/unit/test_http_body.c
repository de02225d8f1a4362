/*
 * test_http_body.c — the body framing tracker (http_body_*): which bytes
 * belong to a message, for Content-Length, chunked (extensions, trailers)
 * and close-delimited bodies, and every malformed chunked form refused.
 *
 * Each case is replayed fed whole and in chunks of every size from 1 to its
 * length; every chunk is copied against a PROT_NONE guard page, so reading a
 * byte past what the tracker was given faults.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "http/http.h"
#include "unit.h"

struct body_case {
	const char *name;
	const char *in;
	size_t len;
	enum http_body_kind kind;
	uint64_t cl;
	long want;	     /* bytes that belong to the message; -1: invalid */
	int done;	     /* message complete at the end of the input */
	enum http_error err; /* when want == -1 */
};

#define IN(s) .in = s, .len = sizeof(s) - 1

/* clang-format off */
static const struct body_case cases[] = {
	{"length_exact", IN("hello"), HTTP_BODY_LENGTH, 5, 5, 1, HTTP_ERR_NONE},
	{"length_then_next", IN("helloGET / HTTP/1.1\r\n"), HTTP_BODY_LENGTH, 5, 5, 1, HTTP_ERR_NONE},
	{"length_short", IN("hel"), HTTP_BODY_LENGTH, 5, 3, 0, HTTP_ERR_NONE},
	{"chunked_simple", IN("5\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, 15, 1, HTTP_ERR_NONE},
	{"chunked_then_next", IN("1\r\na\r\n0\r\n\r\nGET"), HTTP_BODY_CHUNKED, 0, 11, 1, HTTP_ERR_NONE},
	{"chunked_hex_upper", IN("A\r\n0123456789\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, 20, 1,
	 HTTP_ERR_NONE},
	{"chunked_ext", IN("5;a=b;c=\"d\\\"e\" ; f\r\nhello\r\n0;last\r\n\r\n"), HTTP_BODY_CHUNKED, 0,
	 37, 1, HTTP_ERR_NONE},
	{"chunked_trailers", IN("2\r\nhi\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n"), HTTP_BODY_CHUNKED, 0, 28,
	 1, HTTP_ERR_NONE},
	{"chunked_leading_zeros", IN("0005\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, 18, 1,
	 HTTP_ERR_NONE},
	{"chunked_incomplete", IN("5\r\nhel"), HTTP_BODY_CHUNKED, 0, 6, 0, HTTP_ERR_NONE},
	{"close_delimited", IN("anything at all"), HTTP_BODY_CLOSE, 0, 15, 0, HTTP_ERR_NONE},
	/* refused: each a way to make two parsers disagree on where the body ends */
	{"bad_size_not_hex", IN("zz\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_empty", IN("\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_0x", IN("0x5\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_negative", IN("-5\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_leading_space", IN(" 5\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_overflow", IN("10000000000000001\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_over_limit", IN("1000000000000001\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_bare_lf", IN("5\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_size_cr_no_lf", IN("5\rxhello\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_SIZE},
	{"bad_ext_no_name", IN("5;=x\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_EXT},
	{"bad_ext_ctl", IN("5;a=\x01\r\nhello\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_EXT},
	{"bad_ext_garbage_after_value", IN("5;a=b c\r\nhello\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_EXT},
	{"bad_data_no_crlf", IN("5\r\nhelloX\r\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_END},
	{"bad_data_lf_only", IN("5\r\nhello\n0\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_CHUNK_END},
	{"bad_trailer_fold", IN("0\r\nX: 1\r\n folded\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_TRAILER},
	{"bad_trailer_bare_lf", IN("0\r\nX: 1\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_TRAILER},
	{"bad_trailer_no_colon", IN("0\r\nX 1\r\n\r\n"), HTTP_BODY_CHUNKED, 0, -1, 0,
	 HTTP_ERR_BAD_TRAILER},
	{"bad_end_not_crlf", IN("0\r\n\rX"), HTTP_BODY_CHUNKED, 0, -1, 0, HTTP_ERR_BAD_TRAILER},
};
/* clang-format on */

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* Feeds the case in pieces of at most step bytes, each against the guard. */
static void run_case(const struct body_case *bc, size_t step)
{
	struct http_msg m;
	struct http_body b;
	struct guard g = {0};
	size_t off = 0, n;
	long total = 0, k = 0;

	memset(&m, 0, sizeof(m));
	m.body = bc->kind;
	m.content_length = bc->cl;
	http_body_init(&b, &m);
	while (off < bc->len && !b.done) {
		n = bc->len - off < step ? bc->len - off : step;
		k = http_body_feed(&b, guard_copy(&g, bc->in + off, n), n);
		guard_free(&g);
		if (k < 0)
			break;
		ck_assert_int_le(k, (long)n);
		total += k;
		off += n;
		if ((size_t)k < n)
			break; /* the message ended inside this piece */
	}
	if (bc->want < 0) {
		ck_assert_msg(k == HTTP_INVALID, "%s (step %zu): accepted %ld bytes", bc->name,
			      step, total);
		ck_assert_msg(b.error == bc->err, "%s (step %zu): error %s, want %s", bc->name,
			      step, http_error_str(b.error), http_error_str(bc->err));
		return;
	}
	ck_assert_msg(k >= 0, "%s (step %zu): refused (%s)", bc->name, step,
		      http_error_str(b.error));
	ck_assert_msg(total == bc->want, "%s (step %zu): %ld bytes, want %ld", bc->name, step,
		      total, bc->want);
	ck_assert_msg(b.done == bc->done, "%s (step %zu): done %d", bc->name, step, b.done);
}

START_TEST(every_chunk_size)
{
	const struct body_case *bc = &cases[_i];
	size_t step;

	for (step = 1; step <= bc->len; step++)
		run_case(bc, step);
}
END_TEST

/* Lenient (responses): chunked framing as browsers read it. in is fed in
 * pieces of at most step bytes, as a proxy would: when the tracker stops at
 * a LF that needs its CR (need_cr), the CR goes in before it. out is what
 * the client then gets (NULL: refused with err). */
struct lenient_case {
	const char *name, *in, *out;
	enum http_error err;
	int eased;
};

/* clang-format off */
static const struct lenient_case lenient_cases[] = {
	{"strict_unchanged", "5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n", "5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n", 0, 0},
	{"bare_lf_everywhere", "5\nhello\n0\nT: 1\n\n", "5\r\nhello\r\n0\r\nT: 1\r\n\r\n", 0, 1},
	{"bare_lf_size_line", "5\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", 0, 1},
	{"bare_lf_after_ext", "5 ;a=b \nhello\r\n0\n\r\n", "5 ;a=b \r\nhello\r\n0\r\n\r\n", 0, 1},
	{"ext_free_text", "5;a=b/c d\r\nhello\r\n0;x y\n\n", "5;a=b/c d\r\nhello\r\n0;x y\r\n\r\n", 0, 1},
	{"ext_quote_open", "5;a=\"b\r\nhello\r\n0\r\n\r\n", "5;a=\"b\r\nhello\r\n0\r\n\r\n", 0, 1},
	{"lf_then_more", "1\na\n0\n\nGET", "1\r\na\r\n0\r\n\r\n", 0, 1},
	/* still refused, as Chromium refuses them */
	{"leading_space", " 5\r\nhello\r\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_SIZE, 0},
	{"size_0x", "0x5\r\nhello\r\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_SIZE, 0},
	{"size_junk", "5x\r\nhello\r\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_SIZE, 0},
	{"empty_size_line", "\nhello\r\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_SIZE, 0},
	{"data_too_long", "5\r\nhelloX\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_END, 0},
	{"bare_cr_size", "5\rhello\r\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_SIZE, 0},
	{"ext_ctl", "5;a\x01\r\nhello\r\n0\r\n\r\n", NULL, HTTP_ERR_BAD_CHUNK_EXT, 0},
	{"trailer_fold", "0\nX: 1\n y\n\n", NULL, HTTP_ERR_BAD_TRAILER, 0},
};
/* clang-format on */

static void run_lenient(const struct lenient_case *lc, size_t step)
{
	char work[128];
	size_t wlen = strlen(lc->in), avail, pos = 0;
	struct http_msg m;
	struct http_body b;
	struct guard g = {0};
	long k = 0;

	memcpy(work, lc->in, wlen);
	memset(&m, 0, sizeof(m));
	m.body = HTTP_BODY_CHUNKED;
	http_body_init(&b, &m);
	b.lenient = 1;
	avail = step < wlen ? step : wlen;
	while (!b.done) {
		if (pos == avail) {
			if (avail == wlen)
				break;
			avail = avail + step < wlen ? avail + step : wlen;
			continue;
		}
		k = http_body_feed(&b, guard_copy(&g, work + pos, avail - pos), avail - pos);
		guard_free(&g);
		if (k < 0)
			break;
		pos += (size_t)k;
		if (b.need_cr) {
			ck_assert_int_eq(work[pos], '\n');
			memmove(work + pos + 1, work + pos, wlen - pos);
			work[pos] = '\r';
			wlen++;
			avail++;
			b.need_cr = 0;
		}
	}
	if (lc->out == NULL) {
		ck_assert_msg(k == HTTP_INVALID && b.error == lc->err, "%s (step %zu): %ld, %s",
			      lc->name, step, k, http_error_str(b.error));
		return;
	}
	ck_assert_msg(b.done, "%s (step %zu): not done (%s)", lc->name, step,
		      http_error_str(b.error));
	ck_assert_msg(pos == strlen(lc->out) && memcmp(work, lc->out, pos) == 0,
		      "%s (step %zu): '%.*s'", lc->name, step, (int)pos, work);
	ck_assert_int_eq(b.eased != 0, lc->eased);
}

START_TEST(lenient_chunked)
{
	const struct lenient_case *lc = &lenient_cases[_i];
	size_t step;

	for (step = 1; step <= strlen(lc->in); step++)
		run_lenient(lc, step);
}
END_TEST

START_TEST(close_eof_completes)
{
	struct http_msg m;
	struct http_body b;

	memset(&m, 0, sizeof(m));
	m.body = HTTP_BODY_CLOSE;
	http_body_init(&b, &m);
	ck_assert_int_eq(http_body_feed(&b, "abc", 3), 3);
	ck_assert_int_eq(b.done, 0);
	ck_assert_int_eq(http_body_eof(&b), 1);
	m.body = HTTP_BODY_LENGTH;
	m.content_length = 5;
	http_body_init(&b, &m);
	ck_assert_int_eq(http_body_feed(&b, "abc", 3), 3);
	ck_assert_int_eq(http_body_eof(&b), 0); /* truncated */
}
END_TEST

START_TEST(advance_counts_spliced_bytes)
{
	struct http_msg m;
	struct http_body b;

	memset(&m, 0, sizeof(m));
	m.body = HTTP_BODY_LENGTH;
	m.content_length = 100000;
	http_body_init(&b, &m);
	http_body_advance(&b, 60000);
	ck_assert_int_eq(b.done, 0);
	ck_assert_uint_eq(b.remaining, 40000);
	http_body_advance(&b, 40000);
	ck_assert_int_eq(b.done, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_body");
	TCase *tc = tcase_create("cases");

	tcase_add_loop_test(tc, every_chunk_size, 0, N_CASES);
	tcase_add_loop_test(tc, lenient_chunked, 0,
			    (int)(sizeof(lenient_cases) / sizeof(lenient_cases[0])));
	tcase_add_test(tc, close_eof_completes);
	tcase_add_test(tc, advance_counts_spliced_bytes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
