/*
 * test_http_response.c — response heads through http_parse() and their
 * normalised form from http_head_normalize() (src/http/parse.c,
 * src/http/normalize.c; docs/http.md, "Responses: what is accepted and how it
 * is normalised"): bare LF, obs-fold, whitespace before a colon, status
 * 100-999 and empty reasons, Transfer-Encoding over Content-Length and in
 * HTTP/1.0, streams that are not HTTP/1.x (NO_STATUS_LINE, decided early), and
 * the refusals that stay.
 *
 * Every case is replayed at every chunk size 1..len and every split point, its
 * bytes moved against a PROT_NONE guard page before each call. For an
 * accepted head, the normalised form (written from exactly head_len guarded
 * bytes) must parse with no leniency and no HTTP_F_NORMALIZE to the same
 * status, body framing (kind, and length for LENGTH) and keep-alive verdict.
 */
#include "remora-config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "unit.h"

#define MAX_FIELDS 64
#define GUARDED	   (80 * 1024) /* longest input (the 64 KiB head) */

/* what Remora's responses are parsed with: 64 KiB heads, 1000 fields */
static const struct http_limits limits = {
	.max_line = 65536, .max_head = 65536, .max_fields = 1000, .lenient = 0};

enum want { WANT_HEAD = 1, WANT_MORE, WANT_INVALID };

#define F_NORM	HTTP_F_NORMALIZE
#define F_CLOSE HTTP_F_CLOSE_AFTER

struct rsp_case {
	const char *name;
	const char *in;
	size_t len;
	int head_req; /* answers a HEAD request */
	enum want want;
	enum http_error err; /* WANT_INVALID */
	size_t early;	     /* WANT_INVALID: the verdict comes with this many bytes (0: any) */
	/* WANT_HEAD: */
	unsigned status;
	enum http_body_kind body;
	uint64_t cl;	/* when body is LENGTH */
	uint32_t flags; /* exactly which of F_NORM, F_CLOSE are set */
	int keep_alive;
	const char *norm; /* the normalised head (NULL: not checked) */
	size_t tail;	  /* bytes after the head */
};

#define IN(s) .in = s, .len = sizeof(s) - 1
#define HEAD(st, b, n, f, k) \
	.want = WANT_HEAD, .status = st, .body = HTTP_BODY_##b, .cl = n, .flags = f, .keep_alive = k
#define BAD(e)	    .want = WANT_INVALID, .err = HTTP_ERR_##e
#define NOT_HTTP(n) .want = WANT_INVALID, .err = HTTP_ERR_NO_STATUS_LINE, .early = n

/* clang-format off */
static const struct rsp_case cases[] = {
	/* strict heads: nothing to normalise */
	{.name = "plain_cl", IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
	 HEAD(200, LENGTH, 5, 0, 1), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	{.name = "plain_chunked", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, 0, 1)},
	{.name = "plain_close", IN("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n"), HEAD(200, CLOSE, 0, 0, 0)},
	{.name = "trailing_ows_kept_strict", IN("HTTP/1.1 200 OK\r\nX: a \t\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, 0, 1), .norm = "HTTP/1.1 200 OK\r\nX: a\r\nContent-Length: 0\r\n\r\n"},

	/* bare LF (RFC 9112 2.2) */
	{.name = "bare_lf_all", IN("HTTP/1.1 200 OK\nContent-Length: 2\n\nhi"),
	 HEAD(200, LENGTH, 2, F_NORM, 1), .tail = 2,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"},
	{.name = "bare_lf_status_line", IN("HTTP/1.1 204 No Content\nA: 1\r\n\r\n"),
	 HEAD(204, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 204 No Content\r\nA: 1\r\n\r\n"},
	{.name = "bare_lf_blank_line", IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{.name = "bare_lf_no_fields", IN("HTTP/1.0 200 OK\n\nbody"), HEAD(200, CLOSE, 0, F_NORM, 0),
	 .tail = 4, .norm = "HTTP/1.0 200 OK\r\n\r\n"},

	/* obs-fold (RFC 9112 5.2): joined with one SP */
	{.name = "fold_space_tab", IN("HTTP/1.1 200 OK\r\nX: a  \r\n b\r\n\t c \r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1),
	 .norm = "HTTP/1.1 200 OK\r\nX: a b c\r\nContent-Length: 0\r\n\r\n"},
	{.name = "fold_empty_first_line", IN("HTTP/1.1 200 OK\r\nX:\r\n  a\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nX: a\r\nContent-Length: 0\r\n\r\n"},
	{.name = "fold_blank", IN("HTTP/1.1 200 OK\r\nX: a\r\n   \r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nX: a\r\nContent-Length: 0\r\n\r\n"},
	{.name = "fold_bare_lf", IN("HTTP/1.1 200 OK\nX: a\n b\nContent-Length: 0\n\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nX: a b\r\nContent-Length: 0\r\n\r\n"},
	{.name = "fold_content_length", IN("HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhello"),
	 HEAD(200, LENGTH, 5, F_NORM, 1), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	{.name = "fold_te_list", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM, 1),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
	{.name = "fold_connection_close", IN("HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 0)},
	{.name = "fold_last_field", IN("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: a\r\n b\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: a b\r\n\r\n"},
	/* before the first field: left out, not read as a field */
	{.name = "fold_after_status_line",
	 IN("HTTP/1.1 200 OK\r\n Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nx"),
	 HEAD(200, LENGTH, 1, F_NORM, 1), .tail = 1,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"},

	/* whitespace before the colon (RFC 9112 5.1): removed, the name still counts */
	{.name = "ws_before_colon_cl", IN("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello"),
	 HEAD(200, LENGTH, 5, F_NORM, 1), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	{.name = "tabs_before_colon_te", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding\t \t:chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM, 1),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding:chunked\r\n\r\n"},
	{.name = "ws_before_colon_connection", IN("HTTP/1.1 200 OK\r\nConnection : close\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 0)},

	/* a line that names no field (no colon, empty name, a name that is not a
	 * token): left out, as browsers skip it, with any fold of it */
	{.name = "no_colon", IN("HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 2\r\n\r\nok"),
	 HEAD(200, LENGTH, 2, F_NORM, 1), .tail = 2,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"},
	{.name = "empty_name", IN("HTTP/1.1 200 OK\r\n : x\r\n: y\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{.name = "ws_then_no_colon", IN("HTTP/1.1 200 OK\r\nX Y: 1\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{.name = "nameless_not_framing", IN("HTTP/1.1 200 OK\r\nContent Length: 5\r\n\r\nhello"),
	 HEAD(200, CLOSE, 0, F_NORM, 1), .tail = 5, .norm = "HTTP/1.1 200 OK\r\n\r\n"},
	{.name = "nameless_then_fold",
	 IN("HTTP/1.1 200 OK\r\nJunk line\r\n Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nx"),
	 HEAD(200, LENGTH, 1, F_NORM, 1), .tail = 1,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"},
	{.name = "nameless_between_folds",
	 IN("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nJunk\r\n c\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1),
	 .norm = "HTTP/1.1 200 OK\r\nX: a b\r\nContent-Length: 0\r\n\r\n"},

	/* control characters other than NUL in a value: kept, as Chromium and
	 * Firefox take them (a 502 before); a framing field holding one frames
	 * nothing, as in Chromium */
	{.name = "ctl_value", IN("HTTP/1.1 200 OK\r\nX: a\x01b\x1b\x7f\r\nContent-Length: 2\r\n\r\nok"),
	 HEAD(200, LENGTH, 2, 0, 1), .tail = 2,
	 .norm = "HTTP/1.1 200 OK\r\nX: a\x01b\x1b\x7f\r\nContent-Length: 2\r\n\r\n"},
	{.name = "ctl_in_fold", IN("HTTP/1.1 200 OK\r\nX: a\r\n b\x01\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nX: a b\x01\r\nContent-Length: 0\r\n\r\n"},
	{.name = "ctl_in_dropped_fold", IN("HTTP/1.1 200 OK\r\n \x7f\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
	{.name = "ctl_in_content_length", IN("HTTP/1.1 200 OK\r\nContent-Length: 5\x0b\r\n\r\nhello"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "ctl_in_transfer_encoding", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\x0c\r\n\r\nx"),
	 HEAD(200, CLOSE, 0, 0, 1), .tail = 1},

	/* status codes and reasons */
	{.name = "status_999", IN("HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(999, NONE, 0, 0, 1)},
	{.name = "status_600_no_reason", IN("HTTP/1.1 600\r\n\r\nbody"), HEAD(600, CLOSE, 0, 0, 1),
	 .tail = 4, .norm = "HTTP/1.1 600\r\n\r\n"},
	{.name = "status_empty_reason_sp", IN("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"),
	 HEAD(404, NONE, 0, 0, 1)},
	{.name = "status_100", IN("HTTP/1.1 100 Continue\r\n\r\n"), HEAD(100, NONE, 0, 0, 1)},
	{.name = "minor_9", IN("HTTP/1.9 200 OK\r\nContent-Length: 0\r\n\r\n"), HEAD(200, NONE, 0, 0, 1)},

	/* Transfer-Encoding wins over Content-Length (RFC 9112 6.3): CL dropped, close after */
	{.name = "cl_then_te",
	 IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_then_cl_conn_close",
	 IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\ncontent-length: 3\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_cl_folded_cl_dropped",
	 IN("HTTP/1.1 200 OK\r\nContent-Length:\r\n 3\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nX: y\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_cl_keep_alive_10",
	 IN("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_cl_not_modified",
	 IN("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
	 HEAD(304, NONE, 0, F_NORM | F_CLOSE, 0)},
	{.name = "te_cl_head_answer", .head_req = 1,
	 IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM | F_CLOSE, 0)},

	/* one Content-Length value repeated: one line (RFC 9110 8.6), kept alive */
	{.name = "cl_same_list", IN("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello"),
	 HEAD(200, LENGTH, 5, F_NORM, 1), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	{.name = "cl_same_lines",
	 IN("HTTP/1.1 200 OK\r\ncontent-length: 005\r\nX: y\r\nContent-Length: 5\r\n\r\nhello"),
	 HEAD(200, LENGTH, 5, F_NORM, 1), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\n"},
	{.name = "cl_same_lines_head_answer", .head_req = 1,
	 IN("HTTP/1.1 200 OK\r\nContent-Length: 1234567\r\nContent-Length: 1234567\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM, 1),
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 1234567\r\n\r\n"},

	/* Content-Length that is not a number: no length, as the Fetch standard,
	 * Chromium and Firefox read it (a 502 before): the lines left out, close after */
	{.name = "cl_invalid", IN("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nbody"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .tail = 4,
	 .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "cl_plus", IN("HTTP/1.1 200 OK\r\nX: 1\r\nContent-Length: +5\r\nY: 2\r\n\r\nhello"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nX: 1\r\nY: 2\r\nConnection: close\r\n\r\n"},
	{.name = "cl_empty", IN("HTTP/1.1 200 OK\r\nContent-Length: \r\nConnection: close\r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "cl_negative", IN("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "cl_too_large", IN("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "cl_invalid_same_twice",
	 IN("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\nContent-Length: 5 5, 5 5\r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "cl_folded_two_numbers", IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 2\r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},
	{.name = "cl_invalid_with_te",
	 IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: -1\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "cl_invalid_head_answer", .head_req = 1, IN("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM | F_CLOSE, 0), .norm = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"},

	/* Transfer-Encoding read as browsers read it: any chunked element means
	 * chunked (a 502 before when irregular), forwarded as one plain
	 * "Transfer-Encoding: chunked"; none, and Content-Length frames it */
	{.name = "te_chunked_then_gzip", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_chunked_chunked", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked, chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_two_lines",
	 IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\ntransfer-encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\nConnection: close\r\n\r\n"},
	{.name = "te_two_lines_cl_folded",
	 IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip,\r\n chunked\r\nX: y\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\nConnection: close\r\n\r\n"},
	{.name = "te_empty_element", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_identity_and_cl",
	 IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello"),
	 HEAD(200, LENGTH, 5, F_NORM | F_CLOSE, 0), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"},
	{.name = "te_identity_and_cl_repeated",
	 IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: x\r\nContent-Length: 3\r\n\r\nabc"),
	 HEAD(200, LENGTH, 3, F_NORM | F_CLOSE, 0), .tail = 3,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"},
	{.name = "te_gzip_and_cl", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc"),
	 HEAD(200, LENGTH, 3, F_NORM | F_CLOSE, 0), .tail = 3,
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"},
	{.name = "te_empty_and_cl", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 0\r\n\r\n"),
	 HEAD(200, NONE, 0, F_NORM | F_CLOSE, 0),
	 .norm = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
	{.name = "te_identity_and_bad_cl",
	 IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: x\r\n\r\nhello"),
	 HEAD(200, CLOSE, 0, F_NORM | F_CLOSE, 0), .tail = 5,
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n"},
	/* naming no chunked and no Content-Length: until the close, unchanged */
	{.name = "te_chunked_parameter", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\nx"),
	 HEAD(200, CLOSE, 0, 0, 1), .tail = 1,
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"},
	{.name = "te_folded_inside_token", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chun\r\n ked\r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM, 1),
	 .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chun ked\r\n\r\n"},
	{.name = "te_empty_folded", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n \r\n\r\n"),
	 HEAD(200, CLOSE, 0, F_NORM, 1), .norm = "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"},

	/* Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1): honoured, close after */
	{.name = "te_http10", IN("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_CLOSE, 0),
	 .norm = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"},
	{.name = "te_http10_keep_alive",
	 IN("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 HEAD(200, CHUNKED, 0, F_CLOSE, 0)},

	/* not HTTP/1.x: relayed as it is; the verdict does not wait for a line end */
	{.name = "icy", IN("ICY 200 OK\r\nicy-name: radio\r\n\r\n\xff\xfb"), NOT_HTTP(1)},
	{.name = "http09_no_newline", IN("<html><body>hello</body></html>"), NOT_HTTP(1)},
	{.name = "http09_binary", IN("\x00\x01\x02\x03"), NOT_HTTP(1)},
	{.name = "http2_status", IN("HTTP/2 200\r\n\r\n"), NOT_HTTP(6)},
	{.name = "http20_status", IN("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"), NOT_HTTP(6)},
	{.name = "http09_version", IN("HTTP/0.9 200 OK\r\n\r\n"), NOT_HTTP(6)},
	{.name = "lowercase_http", IN("http/1.1 200 OK\r\n\r\n"), NOT_HTTP(1)},
	{.name = "leading_crlf", IN("\r\nHTTP/1.1 200 OK\r\n\r\n"), NOT_HTTP(2)},
	{.name = "leading_lf", IN("\nHTTP/1.1 200 OK\r\n\r\n"), NOT_HTTP(1)},
	{.name = "status_letters", IN("HTTP/1.1 abc\r\n\r\n"), NOT_HTTP(10)},
	{.name = "status_two_digits", IN("HTTP/1.1 20\r\n\r\n"), NOT_HTTP(13)},
	{.name = "version_only", IN("HTTP/1.1\r\n\r\n"), NOT_HTTP(10)},
	{.name = "double_space", IN("HTTP/1.1  200 OK\r\n\r\n"), NOT_HTTP(10)},
	{.name = "cr_in_prefix", IN("HTTP/1.1 2\r00 OK\r\n\r\n"), NOT_HTTP(12)},

	/* refusals that stay (502) */
	{.name = "status_099", IN("HTTP/1.1 099 X\r\n\r\n"), BAD(BAD_STATUS)},
	{.name = "status_four_digits", IN("HTTP/1.1 2000 OK\r\n\r\n"), BAD(BAD_STATUS)},
	{.name = "status_tab", IN("HTTP/1.1 200\tOK\r\n\r\n"), BAD(BAD_STATUS)},
	{.name = "reason_ctl", IN("HTTP/1.1 200 O\x01K\r\n\r\n"), BAD(BAD_START_LINE)},
	{.name = "bare_cr_value", IN("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"), BAD(BARE_CR)},
	{.name = "bare_cr_fold", IN("HTTP/1.1 200 OK\r\nX: a\r\n b\rc\r\n\r\n"), BAD(BARE_CR)},
	{.name = "nul_in_fold", IN("HTTP/1.1 200 OK\r\nX: a\r\n b\0\r\n\r\n"), BAD(BAD_FIELD_VALUE)},
	{.name = "nul_in_dropped_fold", IN("HTTP/1.1 200 OK\r\n \0\r\n\r\n"), BAD(BAD_FIELD_VALUE)},
	{.name = "nul_in_framing_field", IN("HTTP/1.1 200 OK\r\nContent-Length: 5\0\r\n\r\n"),
	 BAD(BAD_FIELD_VALUE)},
	{.name = "cl_differ", IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "cl_differ_with_te",
	 IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "cl_ws_colon_differ", IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length : 4\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "cl_invalid_differ", IN("HTTP/1.1 200 OK\r\nContent-Length: x\r\nContent-Length: y\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "cl_number_and_invalid", IN("HTTP/1.1 200 OK\r\nContent-Length: 5, +5\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "cl_invalid_and_number", IN("HTTP/1.1 200 OK\r\nContent-Length: -1\r\nContent-Length: 5\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "cl_trailing_comma", IN("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n"),
	 BAD(CONTENT_LENGTH_MISMATCH)},
	{.name = "nameless_control_char", IN("HTTP/1.1 200 OK\r\nNo\001Colon\r\n\r\n"),
	 BAD(BAD_FIELD_NAME)},
	{.name = "nul_value", IN("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"), BAD(BAD_FIELD_VALUE)},

	/* incomplete */
	{.name = "status_line_only", IN("HTTP/1.1 200 OK\r\n"), .want = WANT_MORE},
	{.name = "fold_pending", IN("HTTP/1.1 200 OK\r\nContent-Length: x\r\n"), .want = WANT_MORE},
	{.name = "prefix_only", IN("HTTP/1.1 200"), .want = WANT_MORE},
};
/* clang-format on */

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* ---- parsing, checking, normalising --------------------------------------- */

struct parser {
	struct http_msg m;
	struct http_field fields[MAX_FIELDS];
};

static struct guard_room room;

static void guard_setup(void)
{
	guard_room_open(&room, GUARDED);
}

static void guard_teardown(void)
{
	guard_room_close(&room);
}

static const char *place(const char *src, size_t n)
{
	return guard_room_place(&room, src, n);
}

static int feed(struct parser *ps, const char *in, size_t n, const char **buf)
{
	*buf = place(in, n);
	return http_parse(&ps->m, *buf, n, &limits);
}

/*
 * The property: in (an accepted head of m) normalised, then parsed strictly
 * (no leniency, as a response, the same HEAD-ness), gives the same status,
 * framing and keep-alive verdict, and needs no normalising. The
 * normaliser reads in[0..head_len) placed against the guard page. Returns
 * the normalised length; the result is in out.
 */
static size_t check_normalized(const char *name, const char *in, const struct http_msg *m,
			       char *out, size_t cap)
{
	static const struct http_limits strict = {
		.max_line = 1 << 20, .max_head = 1 << 20, .max_fields = 1000, .lenient = 0};
	char head[GUARDED];
	struct http_msg n;
	size_t len;
	int rc;

	ck_assert_uint_le(m->head_len, sizeof(head));
	memcpy(head, in, m->head_len);
	len = http_head_normalize(place(head, m->head_len), m, out, cap);
	ck_assert_msg(len > 0, "%s: normalised head does not fit %zu", name, cap);
	http_msg_init_response(&n, NULL, 0, (m->flags & HTTP_F_HEAD_REQUEST) != 0);
	rc = http_parse(&n, out, len, &strict);
	ck_assert_msg(rc == (int)len, "%s: normalised head: %d (%s): '%.*s'", name, rc,
		      http_error_str(n.error), (int)len, out);
	ck_assert_msg(!(n.flags & HTTP_F_NORMALIZE),
		      "%s: normalised head needs normalising: '%.*s'", name, (int)len, out);
	ck_assert_int_eq(n.status, m->status);
	ck_assert_int_eq(n.minor, m->minor);
	ck_assert_msg(n.body == m->body, "%s: framing %d, normalised %d", name, m->body, n.body);
	if (m->body == HTTP_BODY_LENGTH)
		ck_assert_uint_eq(n.content_length, m->content_length);
	ck_assert_msg(http_msg_keeps_alive(&n) == http_msg_keeps_alive(m),
		      "%s: keep-alive %d, normalised %d", name, http_msg_keeps_alive(m),
		      http_msg_keeps_alive(&n));
	/* one byte too small: nothing */
	ck_assert_uint_eq(http_head_normalize(place(head, m->head_len), m, out, len - 1), 0);
	return len;
}

/* Checks the final answer rc of ps over buf (how: the way it was fed). */
static void check_result(const struct rsp_case *c, const char *how, const struct parser *ps,
			 const char *buf, int rc)
{
	const struct http_msg *m = &ps->m;
	static char out[HTTP_NORMALIZED_MAX(GUARDED)];
	size_t len;

	switch (c->want) {
	case WANT_MORE:
		ck_assert_msg(rc == HTTP_NEED_MORE, "%s (%s): %d (%s), expected NEED_MORE", c->name,
			      how, rc, http_error_str(m->error));
		return;
	case WANT_INVALID:
		ck_assert_msg(rc == HTTP_INVALID, "%s (%s): %d, expected INVALID", c->name, how,
			      rc);
		ck_assert_msg(m->error != HTTP_ERR_NONE, "%s (%s): no error set", c->name, how);
		if (c->err != HTTP_ERR_NONE)
			ck_assert_msg(m->error == c->err, "%s (%s): %s, expected %s", c->name, how,
				      http_error_str(m->error), http_error_str(c->err));
		return;
	case WANT_HEAD:
		break;
	}
	ck_assert_msg(rc > 0, "%s (%s): %d (%s), expected a head", c->name, how, rc,
		      http_error_str(m->error));
	ck_assert_msg((size_t)rc == c->len - c->tail, "%s (%s): head_len %d, expected %zu", c->name,
		      how, rc, c->len - c->tail);
	ck_assert_uint_eq(m->status, c->status);
	ck_assert_msg(m->body == c->body, "%s (%s): framing %d, expected %d", c->name, how, m->body,
		      c->body);
	if (c->body == HTTP_BODY_LENGTH)
		ck_assert_uint_eq(m->content_length, c->cl);
	ck_assert_msg((m->flags & (F_NORM | F_CLOSE)) == c->flags,
		      "%s (%s): flags %#x, expected %#x", c->name, how,
		      m->flags & (F_NORM | F_CLOSE), c->flags);
	ck_assert_msg(http_msg_keeps_alive(m) == c->keep_alive, "%s (%s): keep-alive %d", c->name,
		      how, http_msg_keeps_alive(m));
	len = check_normalized(c->name, buf, m, out, sizeof(out));
	if (c->norm != NULL)
		ck_assert_msg(len == strlen(c->norm) && memcmp(out, c->norm, len) == 0,
			      "%s: normalised to '%.*s', expected '%s'", c->name, (int)len, out,
			      c->norm);
}

static void parser_init(struct parser *ps, const struct rsp_case *c)
{
	http_msg_init_response(&ps->m, ps->fields, MAX_FIELDS, c->head_req);
}

/* ---- the cases, delivered three ways -------------------------------------- */

START_TEST(one_shot)
{
	const struct rsp_case *c = &cases[_i];
	struct parser ps;
	const char *buf;
	int rc;

	parser_init(&ps, c);
	rc = feed(&ps, c->in, c->len, &buf);
	check_result(c, "one shot", &ps, buf, rc);
}
END_TEST

/* Prefixes growing by `chunk` bytes until the parser answers, for every chunk
 * size; a stream that is not HTTP/1.x is refused as soon as c->early bytes
 * are in. */
START_TEST(every_chunk_size)
{
	const struct rsp_case *c = &cases[_i];
	struct parser ps;
	const char *buf = NULL;
	size_t chunk, k;
	char how[64];
	int rc;

	for (chunk = 1; chunk <= c->len || chunk == 1; chunk++) {
		parser_init(&ps, c);
		k = 0;
		do {
			k = k + chunk < c->len ? k + chunk : c->len;
			rc = feed(&ps, c->in, k, &buf);
			if (rc == HTTP_NEED_MORE)
				ck_assert_uint_eq(ps.m.scan, k);
		} while (rc == HTTP_NEED_MORE && k < c->len);
		snprintf(how, sizeof(how), "chunks of %zu", chunk);
		check_result(c, how, &ps, buf, rc);
		if (c->early > 0)
			ck_assert_msg(k < c->early + chunk, "%s (%s): verdict after %zu bytes",
				      c->name, how, k);
	}
}
END_TEST

/* Two calls: a prefix of every length, then everything. */
START_TEST(every_split_point)
{
	const struct rsp_case *c = &cases[_i];
	struct parser ps;
	const char *buf;
	size_t split;
	char how[64];
	int rc;

	for (split = 0; split <= c->len; split++) {
		parser_init(&ps, c);
		rc = feed(&ps, c->in, split, &buf);
		if (c->early > 0)
			ck_assert_msg((rc == HTTP_INVALID) == (split >= c->early),
				      "%s: %d from %zu bytes, verdict expected from %zu", c->name,
				      rc, split, c->early);
		if (rc == HTTP_NEED_MORE)
			rc = feed(&ps, c->in, c->len, &buf);
		else
			ck_assert_msg(rc == HTTP_INVALID || (size_t)rc <= split,
				      "%s: answered %d from %zu bytes", c->name, rc, split);
		snprintf(how, sizeof(how), "split at %zu", split);
		check_result(c, how, &ps, buf, rc);
	}
}
END_TEST

/* ---- beyond the table ------------------------------------------------------ */

/* A head of almost 64 KiB (the response limit) with bare LFs and folds, parsed
 * without a fields array (as the proxy does) in a few chunk sizes, and
 * normalised (the result is longer than the limit). */
START_TEST(head_64k)
{
	static const size_t chunks[] = {1, 7, 1000, 4096, GUARDED};
	static char in[GUARDED];
	struct rsp_case c = {.name = "head_64k",
			     .want = WANT_HEAD,
			     .status = 200,
			     .body = HTTP_BODY_LENGTH,
			     .cl = 3,
			     .flags = F_NORM,
			     .keep_alive = 1};
	struct parser ps;
	const char *buf = NULL;
	size_t n = 0, k, ci;
	int i, rc;

	n += (size_t)snprintf(in + n, sizeof(in) - n, "HTTP/1.1 200 OK\n");
	for (i = 0; n < 65536 - 200; i++)
		n += (size_t)snprintf(
			in + n, sizeof(in) - n,
			i % 2 ? "X-%d: 0123456789abcdef0123456789abcdef0123456789abcdef\n\t "
				"folded\n"
			      : "Y-%d: "
				"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
				"\n",
			i);
	n += (size_t)snprintf(in + n, sizeof(in) - n, "Content-Length: 3\n\nabc");
	ck_assert_uint_le(n - 3, 65536);
	ck_assert_int_lt(i, 1000);
	c.in = in;
	c.len = n;
	c.tail = 3;
	for (ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
		http_msg_init_response(&ps.m, NULL, 0, 0);
		k = 0;
		do {
			k = k + chunks[ci] < n ? k + chunks[ci] : n;
			rc = feed(&ps, in, k, &buf);
		} while (rc == HTTP_NEED_MORE && k < n);
		check_result(&c, "64k head", &ps, buf, rc);
	}
}
END_TEST

/* A head of exactly max_head bytes is accepted, one more byte is refused. */
START_TEST(head_limit)
{
	static char in[65536 + 1];
	struct parser ps;
	const char *buf;

	memcpy(in, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(in + 20, 'a', 65536 - 20 - 4);
	memcpy(in + 65536 - 4, "\r\n\r\n", 4);
	parser_init(&ps, &cases[0]);
	ck_assert_int_eq(feed(&ps, in, 65536, &buf), 65536);
	memcpy(in + 65536 - 4, "a\r\n\r\n", 5);
	parser_init(&ps, &cases[0]);
	ck_assert_int_eq(feed(&ps, in, 65536 + 1, &buf), HTTP_INVALID);
	ck_assert_int_eq(ps.m.error, HTTP_ERR_HEAD_TOO_LARGE);
}
END_TEST

/* A folded field's value as the caller sees it: from its first to its last
 * non-blank byte, line breaks included. */
START_TEST(folded_value_span)
{
	static const char in[] =
		"HTTP/1.1 200 OK\r\nContent-Type:\r\n text/html;\r\n\tcharset=x \r\n"
		"Content-Length: 0\r\n\r\n";
	static const char value[] = "text/html;\r\n\tcharset=x";
	static const char line[] = "Content-Type:\r\n text/html;\r\n\tcharset=x \r\n";
	struct parser ps;
	const char *buf;

	parser_init(&ps, &cases[0]);
	ck_assert_int_eq(feed(&ps, in, sizeof(in) - 1, &buf), (int)sizeof(in) - 1);
	ck_assert_int_eq(ps.m.n_fields, 2);
	ck_assert_uint_eq(ps.m.content_type.len, sizeof(value) - 1);
	ck_assert(memcmp(buf + ps.m.content_type.off, value, sizeof(value) - 1) == 0);
	ck_assert_uint_eq(ps.fields[0].line.len, sizeof(line) - 1);
	ck_assert(http_field_is(buf, &ps.fields[1], "content-length"));
}
END_TEST

/*
 * Property over random edits of the cases (fixed seed, so failures
 * reproduce): the verdict does not depend on where the bytes were split, and
 * every accepted head normalises to a strict head with the same meaning.
 */
static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

static void mutate(char *in, size_t *len, size_t cap)
{
	static const char bytes[] = "\r\n :\t\0aZ,;\x7f\x80"
				    "0123456789";
	size_t edits = 1 + rnd() % 3, i, pos, n = *len;

	for (i = 0; i < edits; i++) {
		char b = bytes[rnd() % (sizeof(bytes) - 1)];

		pos = rnd() % (n + 1);
		switch (rnd() % 3) {
		case 0:
			if (n < cap) {
				memmove(in + pos + 1, in + pos, n - pos);
				in[pos] = b;
				n++;
			}
			break;
		case 1:
			if (pos < n) {
				memmove(in + pos, in + pos + 1, n - pos - 1);
				n--;
			}
			break;
		default:
			if (pos < n)
				in[pos] = b;
			break;
		}
	}
	*len = n;
}

START_TEST(random_edits)
{
	char in[512], out[HTTP_NORMALIZED_MAX(512)], name[64];
	struct parser one, ps;
	const char *buf;
	size_t len, split;
	int iter, rc1, rc, heads = 0, normalized = 0;

	for (iter = 0; iter < 4000; iter++) {
		const struct rsp_case *c = &cases[rnd() % N_CASES];

		len = c->len;
		memcpy(in, c->in, len);
		mutate(in, &len, sizeof(in));
		parser_init(&one, c);
		rc1 = feed(&one, in, len, &buf);
		snprintf(name, sizeof(name), "iteration %d (from %s)", iter, c->name);
		if (rc1 > 0) {
			heads++;
			normalized += (one.m.flags & HTTP_F_NORMALIZE) != 0;
			check_normalized(name, buf, &one.m, out, sizeof(out));
		}
		for (split = 0; split <= len; split++) {
			parser_init(&ps, c);
			rc = feed(&ps, in, split, &buf);
			if (rc == HTTP_NEED_MORE)
				rc = feed(&ps, in, len, &buf);
			ck_assert_msg(rc == rc1 && ps.m.error == one.m.error &&
					      (rc <= 0 || (ps.m.flags == one.m.flags &&
							   ps.m.body == one.m.body &&
							   ps.m.n_fields == one.m.n_fields)),
				      "%s, split at %zu: %d (%s), one shot %d (%s)", name, split,
				      rc, http_error_str(ps.m.error), rc1,
				      http_error_str(one.m.error));
		}
	}
	/* the edits reach heads that need normalising and heads that do not */
	ck_assert_int_gt(normalized, 100);
	ck_assert_int_gt(heads - normalized, 100);
}
END_TEST

static Suite *http_response_suite(void)
{
	Suite *s = suite_create("http_response");
	TCase *tc;

	tc = tcase_create("cases");
	tcase_add_unchecked_fixture(tc, guard_setup, guard_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, one_shot, 0, N_CASES);
	tcase_add_loop_test(tc, every_chunk_size, 0, N_CASES);
	tcase_add_loop_test(tc, every_split_point, 0, N_CASES);
	suite_add_tcase(s, tc);

	tc = tcase_create("beyond");
	tcase_add_unchecked_fixture(tc, guard_setup, guard_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, head_64k);
	tcase_add_test(tc, head_limit);
	tcase_add_test(tc, folded_value_span);
	tcase_add_test(tc, random_edits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(http_response_suite());
}
