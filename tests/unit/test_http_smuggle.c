/*
 * test_http_smuggle.c — request smuggling and response desync vectors
 * (CL.TE, TE.CL, TE.TE obfuscations, duplicate and listed Content-Length,
 * chunk-size and chunk-extension tricks, bare CR / LF, obs-fold, odd bytes
 * in names and values, HTTP/1.0 with Transfer-Encoding, absolute-form with
 * a differing Host, Connection naming a framing field, CONNECT targets,
 * bodies on 1xx / 204 / 304 / HEAD responses, and the permutations of the
 * public tools: defparam/smuggler, PortSwigger's http-request-smuggler and
 * http-garden's parser discrepancies), table driven, through the head parser
 * and the body framing tracker together as the proxy uses them; plus a sweep
 * of every non-token byte around and inside the framing fields.
 *
 * The rule for requests (docs/http.md, section 1): a request that any
 * origin could frame differently is refused; one that is accepted must end
 * exactly where RFC 9112 ends it (trail: the bytes after it, the next
 * request). Responses are accepted leniently but must frame as RFC
 * 9112 6.3 says, and a head that is rewritten must parse strictly to the
 * same framing.
 *
 * Every vector runs in one call and byte by byte (head and body), on inputs
 * placed against a guard page.
 */
#include "remora-config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "unit.h"

#define MAX_FIELDS 64
#define GUARDED	   4096

static const struct http_limits limits = {.max_line = 8192, .max_head = 65536, .max_fields = 100};

enum dir { REQ, RSP, RSP_HEAD /* a response to HEAD */ };
enum want { OK = 1, REJECT };

#define UNTIL_CLOSE SIZE_MAX

struct vec {
	const char *name;
	enum dir dir;
	const char *in;
	size_t len;
	enum want want;
	enum http_error err;	  /* REJECT: the reason (NONE: any) */
	enum http_body_kind kind; /* OK: framing */
	size_t trail;		  /* OK: bytes after the message (UNTIL_CLOSE: it has no end) */
};

#define IN(s)	  .in = s, .len = sizeof(s) - 1
#define NO(e)	  .want = REJECT, .err = HTTP_ERR_##e
#define YES(k, t) .want = OK, .kind = HTTP_BODY_##k, .trail = (t)
#define Q(name, ...)                    \
	{                               \
#name, REQ, __VA_ARGS__ \
	}
#define R(name, ...)                    \
	{                               \
#name, RSP, __VA_ARGS__ \
	}

/* a request head up to its framing fields */
#define POST   "POST / HTTP/1.1\r\nHost: h\r\n"
#define NEXT   "GET /next HTTP/1.1\r\nHost: h\r\n\r\n" /* a pipelined request: 31 bytes */
#define TE     "Transfer-Encoding: chunked\r\n"
/* a chunked body "hello" (15 bytes) */
#define CHUNKS "5\r\nhello\r\n0\r\n\r\n"

/* clang-format off */
static const struct vec vecs[] = {
	/* ---- CL.TE / TE.CL: both framing fields ---------------------------------- */
	Q(cl_te, IN(POST "Content-Length: 6\r\n" TE "\r\n0\r\n\r\nX"), NO(CL_AND_TE)),
	Q(te_cl, IN(POST TE "Content-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n"), NO(CL_AND_TE)),
	Q(te_cl_zero, IN(POST TE "Content-Length: 0\r\n\r\n" CHUNKS), NO(CL_AND_TE)),
	Q(cl_te_identity, IN(POST "Content-Length: 5\r\nTransfer-Encoding: identity\r\n\r\nhello"),
	  NO(TE_NOT_CHUNKED)),
	/* ---- Content-Length ------------------------------------------------------ */
	Q(cl_plain, IN(POST "Content-Length: 5\r\n\r\nhello" NEXT), YES(LENGTH, 31)),
	Q(cl_ows_tabs, IN(POST "Content-Length:\t5\t\r\n\r\nhello" NEXT), YES(LENGTH, 31)),
	Q(cl_zero_then_next, IN(POST "Content-Length: 0\r\n\r\n" NEXT), YES(NONE, 31)),
	Q(cl_on_get, IN("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" NEXT),
	  YES(LENGTH, 31)),
	/* a leading zero: origins that parse with strtol(..., 0) read "010" as
	 * octal 8 (OpenLiteSpeed before 1.7.18) and 2 body bytes as a request */
	Q(cl_leading_zeros, IN(POST "Content-Length: 005\r\n\r\nhello" NEXT), NO(BAD_CONTENT_LENGTH)),
	Q(cl_octal, IN(POST "Content-Length: 010\r\n\r\n01234567GET / HTTP/1.1\r\n"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_zero_zero, IN(POST "Content-Length: 00\r\n\r\n" NEXT), NO(BAD_CONTENT_LENGTH)),
	Q(cl_padded_big, IN(POST "Content-Length: 00000000005\r\n\r\nhello"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_exponent, IN(POST "Content-Length: 5e0\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_underscore_digit, IN(POST "Content-Length: 1_0\r\n\r\nhelloworld"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_zero_space_pad, IN(POST "Content-Length: 0 5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_comma_prefix, IN(POST "Content-Length: 0, 5\r\n\r\nhello"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	Q(cl_comma_suffix, IN(POST "Content-Length: 5, 0\r\n\r\nhello"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	Q(cl_comma_only, IN(POST "Content-Length: ,5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	/* an empty value first: some origins take it for 0 and ignore the next */
	Q(cl_empty_then_value, IN(POST "Content-Length:\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_value_then_empty, IN(POST "Content-Length: 5\r\nContent-Length:\r\n\r\nhello"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_nel_before_colon, IN(POST "Content-Length\x85: 5\r\n\r\nhello"), NO(BAD_FIELD_NAME)),
	Q(cl_bad_line_before, IN(POST "X-Invalid Y: \r\nContent-Length: 5\r\n\r\nhello"),
	  NO(WS_BEFORE_COLON)),
	Q(cl_expect_obfuscated, IN(POST "Expect: x 100-continue\r\nContent-Length: 5\r\n\r\nhello"
	  NEXT), YES(LENGTH, 31)),
	Q(cl_differ_lines, IN(POST "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	Q(cl_differ_list, IN(POST "Content-Length: 5, 6\r\n\r\nhello!"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	/* RFC 9110 8.6: a list (or repeated lines) of one value may be replaced by
	 * that value or refused; forwarded unchanged, an origin may refuse it
	 * without closing, or ignore it, and read the body as a request */
	Q(cl_same_lines, IN(POST "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_same_list, IN(POST "Content-Length: 5, 5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_zero_lines, IN(POST "Content-Length: 0\r\nContent-Length: 0\r\n\r\n"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_plus, IN(POST "Content-Length: +5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_minus, IN(POST "Content-Length: -1\r\n\r\n"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_hex, IN(POST "Content-Length: 0x5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_space_inside, IN(POST "Content-Length: 1 5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_empty, IN(POST "Content-Length:\r\n\r\n"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_junk_after, IN(POST "Content-Length: 5a\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_decimal_point, IN(POST "Content-Length: 5.0\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_quoted, IN(POST "Content-Length: \"5\"\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_2p64_plus_5, IN(POST "Content-Length: 18446744073709551621\r\n\r\nhello"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_above_2p62, IN(POST "Content-Length: 4611686018427387905\r\n\r\n"),
	  NO(BAD_CONTENT_LENGTH)),
	Q(cl_vtab, IN(POST "Content-Length:\x0b" "5\r\n\r\nhello"), NO(BAD_FIELD_VALUE)),
	Q(cl_ff, IN(POST "Content-Length: 5\x0c\r\n\r\nhello"), NO(BAD_FIELD_VALUE)),
	Q(cl_nul, IN(POST "Content-Length: 5\0\r\n\r\nhello"), NO(BAD_FIELD_VALUE)),
	Q(cl_nbsp, IN(POST "Content-Length:\xa0" "5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_sp_before_colon, IN(POST "Content-Length : 5\r\n\r\nhello"), NO(WS_BEFORE_COLON)),
	Q(cl_tab_before_colon, IN(POST "Content-Length\t: 5\r\n\r\nhello"), NO(WS_BEFORE_COLON)),
	Q(cl_fold, IN(POST "Content-Length:\r\n 5\r\n\r\nhello"), NO(BAD_CONTENT_LENGTH)),
	Q(cl_fold_after, IN(POST "Content-Length: 5\r\n 6\r\n\r\nhello"), NO(OBS_FOLD)),
	Q(cl_leading_space_name, IN(POST " Content-Length: 5\r\n\r\nhello"), NO(OBS_FOLD)),
	Q(cl_underscore, IN(POST "Content_Length: 5\r\n\r\nhello"), NO(BAD_FIELD_NAME)),
	Q(cl_bare_lf_before, IN(POST "X: y\nContent-Length: 5\r\n\r\nhello"), NO(BARE_LF)),
	Q(cl_bare_cr_before, IN(POST "X: y\rContent-Length: 5\r\n\r\nhello"), NO(BARE_CR)),
	Q(cl_name_nul, IN(POST "Content-Length\0: 5\r\n\r\nhello"), NO(BAD_FIELD_NAME)),
	Q(cl_no_colon, IN(POST "Content-Length 5\r\n\r\nhello"), NO(WS_BEFORE_COLON)),
	/* ---- Transfer-Encoding (TE.TE obfuscations) --------------------------------- */
	Q(te_plain, IN(POST TE "\r\n" CHUNKS NEXT), YES(CHUNKED, 31)),
	Q(te_case, IN(POST "tRaNsFeR-eNcOdInG: ChUnKeD\r\n\r\n" CHUNKS NEXT), YES(CHUNKED, 31)),
	Q(te_tab_value, IN(POST "Transfer-Encoding:\tchunked\t\r\n\r\n" CHUNKS NEXT),
	  YES(CHUNKED, 31)),
	Q(te_xchunked, IN(POST "Transfer-Encoding: xchunked\r\n\r\n" CHUNKS), NO(TE_NOT_CHUNKED)),
	Q(te_chunk, IN(POST "Transfer-Encoding: chunk\r\n\r\n" CHUNKS), NO(TE_NOT_CHUNKED)),
	Q(te_identity, IN(POST "Transfer-Encoding: identity\r\n\r\nhello"), NO(TE_NOT_CHUNKED)),
	Q(te_chunked_x, IN(POST "Transfer-Encoding: chunked, x\r\n\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	/* a coding before chunked: an origin that does not know it answers 501
	 * (nginx, Go) or may frame without it; only "chunked" is forwarded */
	Q(te_x_chunked, IN(POST "Transfer-Encoding: x, chunked\r\n\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	Q(te_gzip_chunked, IN(POST "Transfer-Encoding: gzip, chunked\r\n\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	Q(te_lines_x_chunked, IN(POST "Transfer-Encoding: x\r\n" TE "\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	Q(te_lines_chunked_x, IN(POST TE "Transfer-Encoding: x\r\n\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	Q(te_lines_twice, IN(POST TE TE "\r\n" CHUNKS), NO(TE_NOT_CHUNKED)),
	Q(te_list_twice, IN(POST "Transfer-Encoding: chunked, chunked\r\n\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	Q(te_empty, IN(POST "Transfer-Encoding:\r\n\r\n" CHUNKS), NO(BAD_TRANSFER_ENCODING)),
	Q(te_comma_first, IN(POST "Transfer-Encoding: , chunked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_comma_last, IN(POST "Transfer-Encoding: chunked,\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_params, IN(POST "Transfer-Encoding: chunked;q=1\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_quoted, IN(POST "Transfer-Encoding: \"chunked\"\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_apostrophes, IN(POST "Transfer-Encoding: 'chunked'\r\n\r\n" CHUNKS),
	  NO(TE_NOT_CHUNKED)),
	Q(te_space_inside, IN(POST "Transfer-Encoding: chun ked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_nested, IN(POST "Transfer-Encoding: cow chunked bar\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_vtab, IN(POST "Transfer-Encoding:\x0b" "chunked\r\n\r\n" CHUNKS), NO(BAD_FIELD_VALUE)),
	Q(te_ff_after, IN(POST "Transfer-Encoding: chunked\x0c\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_VALUE)),
	Q(te_nul, IN(POST "Transfer-Encoding: chunked\0\r\n\r\n" CHUNKS), NO(BAD_FIELD_VALUE)),
	Q(te_nbsp, IN(POST "Transfer-Encoding:\xa0" "chunked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_obs_text, IN(POST "Transfer-Encoding: ch\x96nked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_cr_suffix, IN(POST "Transfer-Encoding: chunked\r\r\n\r\n" CHUNKS), NO(BARE_CR)),
	Q(te_sp_before_colon, IN(POST "Transfer-Encoding : chunked\r\n\r\n" CHUNKS),
	  NO(WS_BEFORE_COLON)),
	Q(te_tab_before_colon, IN(POST "Transfer-Encoding\t:\tchunked\r\n\r\n" CHUNKS),
	  NO(WS_BEFORE_COLON)),
	Q(te_leading_space_name, IN(POST " Transfer-Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(OBS_FOLD)),
	Q(te_fold, IN(POST "Transfer-Encoding:\r\n chunked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_fold_x, IN(POST "X: y\r\n\tTransfer-Encoding: chunked\r\n\r\n" CHUNKS), NO(OBS_FOLD)),
	Q(te_bare_lf_before, IN(POST "X: y\nTransfer-Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BARE_LF)),
	Q(te_bare_lf_name, IN(POST "Transfer-Encoding\n: chunked\r\n\r\n" CHUNKS), NO(BARE_LF)),
	Q(te_bare_cr_before, IN(POST "X: y\rTransfer-Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BARE_CR)),
	Q(te_underscore, IN(POST "Transfer_Encoding: chunked\r\n\r\n" CHUNKS), NO(BAD_FIELD_NAME)),
	Q(te_underscore_case, IN(POST "TRANSFER_ENCODING: chunked\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_NAME)),
	Q(te_space_name, IN(POST "Transfer Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(WS_BEFORE_COLON)),
	Q(te_obs_text_name, IN(POST "Transf\x82r-Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_NAME)),
	Q(te_http10, IN("POST / HTTP/1.0\r\n" TE "\r\n" CHUNKS), NO(TE_HTTP10)),
	Q(te_http10_keepalive, IN("POST / HTTP/1.0\r\nConnection: keep-alive\r\n" TE "\r\n" CHUNKS),
	  NO(TE_HTTP10)),
	Q(te_http10_cl, IN("POST / HTTP/1.0\r\nContent-Length: 5\r\n" TE "\r\nhello"),
	  NO(CL_AND_TE)),
	/* PortSwigger http-request-smuggler and defparam/smuggler permutations
	 * not covered above */
	Q(te_qencoded, IN(POST "Transfer-Encoding: =?UTF-8?B?Y2h1bmtlZA==?=\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_backslash_name, IN(POST "Transfer\\Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_NAME)),
	Q(te_junk_before_colon, IN(POST "Transfer-Encoding x: chunked\r\n\r\n" CHUNKS),
	  NO(WS_BEFORE_COLON)),
	Q(te_nel_before_colon, IN(POST "Transfer-Encoding\xc2\x85: chunked\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_NAME)),
	Q(te_nbsp_before_colon, IN(POST "Transfer-Encoding\xa0: chunked\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_NAME)),
	Q(te_shy_name, IN(POST "Transfer\xc2\xad" "Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BAD_FIELD_NAME)),
	Q(te_nbsp_around, IN(POST "Transfer-Encoding: \xa0" "chunked\xa0\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_ff_around, IN(POST "Transfer-Encoding: \xff" "chunked\xff\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_comma_glued, IN(POST "Transfer-Encoding: ,chunked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_identity_sandwich, IN(POST "Transfer-Encoding: identity, chunked, identity\r\n\r\n"
	  CHUNKS), NO(TE_NOT_CHUNKED)),
	Q(te_vertical_wrap, IN(POST "Transfer-Encoding: \n\x0b" "chunked\r\n\r\n" CHUNKS),
	  NO(BARE_LF)),
	Q(te_lf_before_colon, IN(POST "Transfer-Encoding\n : chunked\r\n\r\n" CHUNKS), NO(BARE_LF)),
	Q(te_double_wrap, IN(POST "Transfer-Encoding:\r\n \r\n chunked\r\n\r\n" CHUNKS),
	  NO(BAD_TRANSFER_ENCODING)),
	Q(te_cr_line_before, IN(POST "Foo: bar\r\n\rTransfer-Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BARE_CR)),
	Q(te_fold_first_line, IN("POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: h\r\n\r\n"
	  CHUNKS), NO(OBS_FOLD)),
	Q(te_body_split_lf, IN(POST "Foo: barn\n\nTransfer-Encoding: chunked\r\n\r\n" CHUNKS),
	  NO(BARE_LF)),
	Q(te_cr_in_name, IN(POST "Tra\rnsfer-Encoding: chunked\r\n\r\n" CHUNKS), NO(BARE_CR)),
	/* a percent-encoded name is another field to every parser: framed by CL */
	Q(te_percent_name, IN(POST "Transfer-%45ncoding: chunked\r\nContent-Length: 5\r\n\r\n"
	  "hello" NEXT), YES(LENGTH, 31)),
	Q(content_encoding_chunked, IN(POST "Content-Encoding: chunked\r\n\r\n" NEXT),
	  YES(NONE, 31)),
	/* ---- Connection naming a framing field or Host (RFC 9110 7.6.1): an
	 * intermediary behind Remora that honours it drops that field and frames
	 * (or routes) the request otherwise; in any field, any place, any case */
	Q(conn_cl_before, IN(POST "Connection: content-length\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(CONN_FRAMING)),
	Q(conn_cl_after, IN(POST "Content-Length: 5\r\nConnection: Content-Length\r\n\r\nhello"),
	  NO(CONN_FRAMING)),
	Q(conn_te, IN(POST TE "Connection: close, TRANSFER-ENCODING\r\n\r\n" CHUNKS),
	  NO(CONN_FRAMING)),
	Q(conn_te_before, IN(POST "Connection: transfer-encoding\r\n" TE "\r\n" CHUNKS),
	  NO(CONN_FRAMING)),
	Q(conn_host, IN("GET / HTTP/1.1\r\nHost: h\r\nConnection: Host\r\n\r\n" NEXT),
	  NO(CONN_FRAMING)),
	Q(conn_host_http10, IN("GET / HTTP/1.0\r\nConnection: keep-alive, host\r\n\r\n"),
	  NO(CONN_FRAMING)),
	Q(conn_middle_ows, IN(POST "Connection: keep-alive,\t content-length \t, upgrade\r\n"
			      "Content-Length: 5\r\n\r\nhello"), NO(CONN_FRAMING)),
	Q(conn_second_field, IN(POST "Connection: keep-alive\r\nContent-Length: 5\r\n"
				"connection: ,Content-Length\r\n\r\nhello"), NO(CONN_FRAMING)),
	Q(conn_cl_absent, IN("GET / HTTP/1.1\r\nHost: h\r\nConnection: content-length\r\n\r\n"),
	  NO(CONN_FRAMING)),
	Q(conn_lookalikes, IN(POST "Connection: content-type, x-content-length, hostname, te, "
			      "transfer-encodings\r\nContent-Length: 5\r\n\r\nhello"
			      NEXT), YES(LENGTH, 31)),
	Q(conn_h2c, IN(POST "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
		       "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello"),
	  YES(LENGTH, 0)),
	/* connection-option = token: an element that is not one may be read as
	 * a framing field's name by a parser that trims, unquotes or cuts it */
	Q(conn_params, IN(POST "Connection: content-length;x\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_CONNECTION)),
	Q(conn_quoted, IN(POST "Connection: \"content-length\"\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_CONNECTION)),
	Q(conn_nbsp, IN(POST "Connection: content-length\xa0\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_CONNECTION)),
	Q(conn_nel, IN(POST "Connection: \x85" "content-length\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_CONNECTION)),
	Q(conn_space_inside, IN(POST "Connection: close content-length\r\nContent-Length: 5\r\n"
				"\r\nhello"), NO(BAD_CONNECTION)),
	Q(conn_slash, IN("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive/1\r\n\r\n"),
	  NO(BAD_CONNECTION)),
	/* Proxy-Connection: honoured like Connection by some proxies */
	Q(proxy_conn_cl, IN(POST "Proxy-Connection: Content-Length\r\nContent-Length: 5\r\n\r\n"
			    "hello"), NO(CONN_FRAMING)),
	Q(proxy_conn_te, IN(POST "Proxy-Connection: keep-alive, transfer-encoding\r\n" TE "\r\n"
			    CHUNKS), NO(CONN_FRAMING)),
	Q(proxy_conn_host, IN("GET / HTTP/1.1\r\nHost: h\r\nproxy-connection: host\r\n\r\n"),
	  NO(CONN_FRAMING)),
	Q(proxy_conn_params, IN("GET / HTTP/1.1\r\nHost: h\r\nProxy-Connection: close;x\r\n\r\n"),
	  NO(BAD_CONNECTION)),
	Q(proxy_conn_keepalive, IN(POST "Proxy-Connection: Keep-Alive\r\nContent-Length: 5\r\n"
				   "\r\nhello" NEXT), YES(LENGTH, 31)),
	/* ---- chunked bodies ------------------------------------------------------ */
	Q(chunk_ext, IN(POST TE "\r\n5;a=b\r\nhello\r\n0;c\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_ext_quoted, IN(POST TE "\r\n5;a=\"x;y\\\"\"\r\nhello\r\n0\r\n\r\n" NEXT),
	  YES(CHUNKED, 31)),
	Q(chunk_ext_bws, IN(POST TE "\r\n5 ; a = b\r\nhello\r\n0\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_upper_hex, IN(POST TE "\r\nA\r\n0123456789\r\n0\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_last_zeros, IN(POST TE "\r\n5\r\nhello\r\n000\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_leading_zeros,
	  IN(POST TE "\r\n00000000000000000005\r\nhello\r\n0\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_trailer, IN(POST TE "\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_trailer_cl, IN(POST TE "\r\n0\r\nContent-Length: 5\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_size_0x, IN(POST TE "\r\n0x5\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_plus, IN(POST TE "\r\n+5\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_minus, IN(POST TE "\r\n-5\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_leading_sp, IN(POST TE "\r\n 5\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_empty, IN(POST TE "\r\n\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_junk, IN(POST TE "\r\n5x\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_bare_lf, IN(POST TE "\r\n5\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_bare_cr, IN(POST TE "\r\n5\rhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_nul, IN(POST TE "\r\n5\0\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_2p64_plus_5, IN(POST TE "\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_above_2p60, IN(POST TE "\r\n1000000000000001\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_ext_bare_lf, IN(POST TE "\r\n5;a\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_bare_cr, IN(POST TE "\r\n5;a\rb\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_ext_quoted_crlf, IN(POST TE "\r\n5;a=\"x\r\n\"\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_quoted_lf, IN(POST TE "\r\n5;a=\"\n0\r\n\r\n\"\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_ctl, IN(POST TE "\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_no_name, IN(POST TE "\r\n5;\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_no_semicolon, IN(POST TE "\r\n5 a\r\nhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_ext_long, IN(POST TE "\r\n5;a=\"" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "\"\r\nhello\r\n0\r\n\r\n" NEXT), YES(CHUNKED, 31)),
	Q(chunk_data_long, IN(POST TE "\r\n5\r\nhelloX\r\n0\r\n\r\n"), NO(BAD_CHUNK_END)),
	Q(chunk_data_short, IN(POST TE "\r\n5\r\nhell\r\n0\r\n\r\n"), NO(BAD_CHUNK_END)),
	Q(chunk_data_lf, IN(POST TE "\r\n5\r\nhello\n0\r\n\r\n"), NO(BAD_CHUNK_END)),
	Q(chunk_data_cr, IN(POST TE "\r\n5\r\nhello\r0\r\n\r\n"), NO(BAD_CHUNK_END)),
	Q(chunk_last_then_request, IN(POST TE "\r\n0\r\n" NEXT), NO(BAD_TRAILER)),
	Q(chunk_last_lf, IN(POST TE "\r\n0\r\n\n" NEXT), NO(BAD_TRAILER)),
	Q(chunk_trailer_fold, IN(POST TE "\r\n0\r\nX: 1\r\n 2\r\n\r\n"), NO(BAD_TRAILER)),
	Q(chunk_trailer_bare_lf, IN(POST TE "\r\n0\r\nX: 1\n\r\n"), NO(BAD_TRAILER)),
	Q(chunk_trailer_ws_colon, IN(POST TE "\r\n0\r\nX : 1\r\n\r\n"), NO(BAD_TRAILER)),
	/* http-garden: chunk-size and extension tricks */
	Q(chunk_size_underscore, IN(POST TE "\r\n0_2e\r\n\r\n" NEXT), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_cr_before_ext, IN(POST TE "\r\n2\r\r;a\r\n02\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_SIZE)),
	Q(chunk_ext_cr_cr, IN(POST TE "\r\n5;a=b\r\rhello\r\n0\r\n\r\n"), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_garbage, IN(POST TE "\r\nINVALID!!!\r\n" NEXT), NO(BAD_CHUNK_SIZE)),
	Q(chunk_size_sp_before_ext, IN(POST TE "\r\n5 ;a\r\nhello\r\n0\r\n\r\n" NEXT),
	  YES(CHUNKED, 31)),
	Q(chunk_ext_trailing_semicolon, IN(POST TE "\r\n5;a=b;\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_empty_value, IN(POST TE "\r\n5;a=\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_value_space, IN(POST TE "\r\n5;a=b c\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	Q(chunk_ext_after_quote, IN(POST TE "\r\n5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	/* chunk data that looks like a last chunk and a request: data */
	Q(chunk_data_looks_last, IN(POST TE "\r\n17\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n0\r\n\r\n"
	  NEXT), YES(CHUNKED, 31)),
	Q(chunk_trailer_no_colon, IN(POST TE "\r\n0\r\nX\r\n\r\n"), NO(BAD_TRAILER)),
	Q(chunk_trailer_empty_name, IN(POST TE "\r\n0\r\n: x\r\n\r\n"), NO(BAD_TRAILER)),
	Q(chunk_trailer_cr_cr, IN(POST TE "\r\n0\r\nX: y\r\r\n\r\n"), NO(BAD_TRAILER)),
	Q(chunk_trailer_nul, IN(POST TE "\r\n0\r\nX: \0\r\n\r\n"), NO(BAD_TRAILER)),
	/* ---- start line, Host, odd bytes ---------------------------------------- */
	Q(get_then_next, IN("GET / HTTP/1.1\r\nHost: h\r\n\r\n" NEXT), YES(NONE, 31)),
	Q(leading_crlf, IN("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), YES(NONE, 0)),
	Q(leading_crlf_three, IN("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(leading_lf, IN("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BARE_LF)),
	Q(rl_bare_lf, IN("GET / HTTP/1.1\nHost: h\r\n\r\n"), NO(BARE_LF)),
	Q(rl_bare_cr, IN("GET / HTTP/1.1\rHost: h\r\n\r\n"), NO(BARE_CR)),
	Q(rl_tab, IN("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_two_spaces, IN("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_space_in_target, IN("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_tab_in_target, IN("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_nul_in_target, IN("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_del_in_target, IN("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_trailing_space, IN("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_version_lower, IN("GET / http/1.1\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_version_10_digits, IN("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_version_2, IN("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), NO(BAD_VERSION)),
	Q(rl_version_0_9, IN("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), NO(BAD_VERSION)),
	Q(rl_lf_separator, IN("GET\n/ HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BARE_LF)),
	Q(rl_version_suffix, IN("GET / HTTP/1.1x\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_version_overflow, IN("GET / HTTP/1.257\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_http09, IN("GET /\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_backslash_authority, IN("GET http://h\\@evil/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(rl_nul_method, IN("GE\0T / HTTP/1.1\r\nHost: h\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_h2_preface, IN("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), NO(NOT_HTTP)),
	Q(rl_authority_form_get, IN("GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_authority_form_options, IN("OPTIONS h:80 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(rl_asterisk_get, IN("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_https, IN("GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(rl_userinfo, IN("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(host_missing, IN("GET / HTTP/1.1\r\n\r\n"), NO(HOST_MISSING)),
	Q(host_twice, IN("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n"), NO(HOST_REPEATED)),
	Q(host_twice_differ, IN("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), NO(HOST_REPEATED)),
	Q(host_list, IN("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), NO(BAD_HOST)),
	Q(host_space, IN("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), NO(BAD_HOST)),
	Q(host_path, IN("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), NO(BAD_HOST)),
	Q(host_userinfo, IN("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), NO(BAD_HOST)),
	Q(host_two_ports, IN("GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n"), NO(BAD_HOST)),
	Q(host_sp_before_colon, IN("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), NO(WS_BEFORE_COLON)),
	Q(host_fold, IN("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"), NO(OBS_FOLD)),
	Q(absolute_same_host, IN("GET http://a.example/x HTTP/1.1\r\nHost: A.example\r\n\r\n"),
	  YES(NONE, 0)),
	Q(absolute_no_host_http10, IN("GET http://a.example/x HTTP/1.0\r\n\r\n"), YES(NONE, 0)),
	Q(name_nul, IN("GET / HTTP/1.1\r\nHost: h\r\nX\0Y: 1\r\n\r\n"), NO(BAD_FIELD_NAME)),
	Q(name_obs_text, IN("GET / HTTP/1.1\r\nHost: h\r\nX\xff: 1\r\n\r\n"), NO(BAD_FIELD_NAME)),
	Q(name_empty, IN("GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n"), NO(BAD_FIELD_NAME)),
	Q(name_colon_only, IN("GET / HTTP/1.1\r\nHost: h\r\nX\r\n\r\n"), NO(BAD_FIELD_NAME)),
	Q(value_nul, IN("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"), NO(BAD_FIELD_VALUE)),
	Q(value_del, IN("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n"), NO(BAD_FIELD_VALUE)),
	Q(value_esc, IN("GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[0m\r\n\r\n"), NO(BAD_FIELD_VALUE)),
	Q(value_obs_text, IN("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n"),
	  YES(NONE, 0)),
	Q(blank_line_bare_cr, IN("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n"), NO(BARE_CR)),
	Q(expect_continue, IN(POST "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" NEXT),
	  YES(LENGTH, 31)),
	Q(upgrade_with_body,
	  IN("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	     "Content-Length: 5\r\n\r\nhello"), YES(LENGTH, 0)),
	Q(connect_authority, IN("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), YES(NONE, 0)),
	/* CONNECT has no content (RFC 9110 9.3.6): a body would be tunnel data
	 * to one, the next request to an origin that refuses the CONNECT */
	Q(connect_cl, IN("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 31\r\n\r\n" NEXT),
	  NO(CONNECT_BODY)),
	Q(connect_te, IN("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n" TE "\r\n" CHUNKS),
	  NO(CONNECT_BODY)),
	Q(connect_cl_zero, IN("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 0\r\n\r\n"),
	  YES(NONE, 0)),
	/* RFC 9112 3.2.3: CONNECT takes authority-form, uri-host ":" port */
	Q(connect_ipv6, IN("CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n"),
	  YES(NONE, 0)),
	Q(connect_origin_form, IN("CONNECT / HTTP/1.1\r\nHost: h:443\r\n\r\n"), NO(BAD_TARGET)),
	Q(connect_origin_path, IN("CONNECT /h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(connect_absolute, IN("CONNECT http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(connect_absolute_port, IN("CONNECT http://a.example:443 HTTP/1.1\r\n"
				    "Host: a.example:443\r\n\r\n"), NO(BAD_TARGET)),
	Q(connect_asterisk, IN("CONNECT * HTTP/1.1\r\nHost: h:443\r\n\r\n"), NO(BAD_TARGET)),
	Q(connect_no_port, IN("CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(connect_empty_port, IN("CONNECT a.example: HTTP/1.1\r\nHost: a.example\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(connect_empty_host, IN("CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	/* the port is a TCP port: 0 and numbers past 65535 (which a proxy
	 * behind may read modulo 2^16) are refused */
	Q(connect_port_0, IN("CONNECT h:0 HTTP/1.1\r\nHost: h:0\r\n\r\n"), NO(BAD_TARGET)),
	Q(connect_port_65536, IN("CONNECT h:65536 HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(connect_port_wraps_443, IN("CONNECT h:65979 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(connect_port_overlong, IN("CONNECT h:18446744073709552059 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(connect_port_letters, IN("CONNECT h:44x HTTP/1.1\r\nHost: h\r\n\r\n"), NO(BAD_TARGET)),
	Q(connect_port_65535, IN("CONNECT h:65535 HTTP/1.1\r\nHost: h\r\n\r\n"), YES(NONE, 0)),
	Q(connect_port_1, IN("CONNECT [::1]:1 HTTP/1.1\r\nHost: h\r\n\r\n"), YES(NONE, 0)),
	Q(connect_ipv6_no_port, IN("CONNECT [2001:db8::1] HTTP/1.1\r\nHost: h\r\n\r\n"),
	  NO(BAD_TARGET)),
	Q(http10_keepalive_cl, IN("POST / HTTP/1.0\r\nConnection: keep-alive\r\n"
				  "Content-Length: 5\r\n\r\nhello" NEXT), YES(LENGTH, 31)),
	/* HTTP/1.2 to 1.9: an origin that takes them for 1.0 ignores chunked
	 * and reads the chunks as the next request; 505 */
	Q(http12_chunked, IN("POST / HTTP/1.2\r\nHost: h\r\n" TE "\r\n" CHUNKS NEXT),
	  NO(BAD_VERSION)),
	Q(http19_cl, IN("POST / HTTP/1.9\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(BAD_VERSION)),
	Q(http10_keepalive_pipelined, IN("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" NEXT),
	  YES(NONE, 31)),

	/* ---- responses: lenient, normalised, framed as RFC 9112 6.3 ------------- */
	R(rsp_cl_te, IN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" TE "\r\n" CHUNKS),
	  YES(CHUNKED, 0)),
	R(rsp_te_cl, IN("HTTP/1.1 200 OK\r\n" TE "Content-Length: 100\r\n\r\n" CHUNKS),
	  YES(CHUNKED, 0)),
	R(rsp_cl_same_list, IN("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhelloX"),
	  YES(LENGTH, 1)),
	R(rsp_cl_differ, IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	/* a Content-Length that is not a number is no length (as in browsers) */
	R(rsp_cl_bad_with_te, IN("HTTP/1.1 200 OK\r\nContent-Length: x\r\n" TE "\r\n" CHUNKS),
	  YES(CHUNKED, 0)),
	R(rsp_cl_bad, IN("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhelloX"),
	  YES(CLOSE, UNTIL_CLOSE)),
	R(rsp_cl_bad_twice, IN("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\nContent-Length: 5 5\r\n\r\nhelloX"),
	  YES(CLOSE, UNTIL_CLOSE)),
	R(rsp_cl_bad_differ, IN("HTTP/1.1 200 OK\r\nContent-Length: x\r\nContent-Length: y\r\n\r\nhello"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	R(rsp_cl_number_and_bad, IN("HTTP/1.1 200 OK\r\nContent-Length: 5, +5\r\n\r\nhello"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	R(rsp_cl_bad_and_number, IN("HTTP/1.1 200 OK\r\nContent-Length: -1\r\nContent-Length: 5\r\n\r\nhello"),
	  NO(CONTENT_LENGTH_MISMATCH)),
	R(rsp_204_cl, IN("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"),
	  YES(NONE, 5)),
	R(rsp_204_te, IN("HTTP/1.1 204 No Content\r\n" TE "\r\n" CHUNKS), YES(NONE, 15)),
	R(rsp_304_cl, IN("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello"),
	  YES(NONE, 5)),
	R(rsp_100_cl, IN("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhello"), YES(NONE, 5)),
	R(rsp_103_te, IN("HTTP/1.1 103 Early Hints\r\n" TE "\r\n" CHUNKS), YES(NONE, 15)),
	{"rsp_head_cl", RSP_HEAD, IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
	 YES(NONE, 5)},
	{"rsp_head_te", RSP_HEAD, IN("HTTP/1.1 200 OK\r\n" TE "\r\n" CHUNKS), YES(NONE, 15)},
	R(rsp_http10_te, IN("HTTP/1.0 200 OK\r\n" TE "\r\n" CHUNKS), YES(CHUNKED, 0)),
	R(rsp_no_framing, IN("HTTP/1.1 200 OK\r\n\r\nhello"), YES(CLOSE, UNTIL_CLOSE)),
	R(rsp_te_gzip, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx"),
	  YES(CLOSE, UNTIL_CLOSE)),
	/* Transfer-Encoding naming chunked anywhere is chunked (as in browsers);
	 * naming no chunked, Content-Length frames it */
	R(rsp_te_chunked_gzip, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
				  CHUNKS), YES(CHUNKED, 0)),
	R(rsp_te_twice, IN("HTTP/1.1 200 OK\r\n" TE TE "\r\n" CHUNKS), YES(CHUNKED, 0)),
	R(rsp_te_identity_cl, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n"
				 "Content-Length: 5\r\n\r\nhelloX"), YES(LENGTH, 1)),
	R(rsp_te_empty_cl, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n"
			      "Content-Length: 5\r\n\r\nhelloX"), YES(LENGTH, 1)),
	R(rsp_cl_fold, IN("HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhelloX"),
	  YES(LENGTH, 1)),
	R(rsp_te_ws_colon, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\n"
			      "Content-Length: 1\r\n\r\n" CHUNKS), YES(CHUNKED, 0)),
	R(rsp_bare_lf, IN("HTTP/1.1 200 OK\nContent-Length: 5\n\nhelloX"), YES(LENGTH, 1)),
	/* responses stay lenient: Connection naming a framing field is relayed */
	R(rsp_conn_cl, IN("HTTP/1.1 200 OK\r\nConnection: content-length, host\r\n"
			  "Content-Length: 5\r\n\r\nhelloX"), YES(LENGTH, 1)),
	R(rsp_conn_te, IN("HTTP/1.1 200 OK\r\nConnection: Transfer-Encoding\r\n" TE "\r\n"
			  CHUNKS), YES(CHUNKED, 0)),
	R(rsp_bare_cr, IN("HTTP/1.1 200 OK\r\nContent-Length: 5\rX: y\r\n\r\nhello"),
	  NO(BARE_CR)),
	R(rsp_te_fold_chunked, IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n"
				  CHUNKS), YES(CHUNKED, 0)),
	R(rsp_chunk_ext_lf, IN("HTTP/1.1 200 OK\r\n" TE "\r\n5;a\nhello\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_EXT)),
	R(rsp_chunk_data_long, IN("HTTP/1.1 200 OK\r\n" TE "\r\n5\r\nhelloXX\r\n0\r\n\r\n"),
	  NO(BAD_CHUNK_END)),
};
/* clang-format on */

#define N_VECS ((int)(sizeof(vecs) / sizeof(vecs[0])))

static struct guard_room room;

static void guard_setup(void)
{
	guard_room_open(&room, GUARDED);
}

static void guard_teardown(void)
{
	guard_room_close(&room);
}

/* The outcome of one message: rejected (err), or framed: head_len, the
 * framing and where the message ends (end; UNTIL_CLOSE if it did not). */
struct outcome {
	int rejected;
	enum http_error err;
	uint32_t head_len;
	enum http_body_kind kind;
	uint32_t flags;
	size_t end;
};

static void msg_init(const struct vec *v, struct http_msg *m, struct http_field *f)
{
	if (v->dir == REQ)
		http_msg_init_request(m, f, MAX_FIELDS);
	else
		http_msg_init_response(m, f, MAX_FIELDS, v->dir == RSP_HEAD);
}

/* Parses the head of buf[0..len), step bytes at a time (0: all at once),
 * then frames its body the same way. */
static struct outcome run(const struct vec *v, const char *buf, size_t len, size_t step)
{
	static struct http_field fields[MAX_FIELDS];
	struct outcome o = {0};
	struct http_msg m;
	struct http_body b;
	size_t n = 0, at;
	long k;
	int r = HTTP_NEED_MORE;

	msg_init(v, &m, fields);
	while (r == HTTP_NEED_MORE && n < len) {
		n = step == 0 || len - n < step ? len : n + step;
		r = http_parse(&m, buf, n, &limits);
	}
	if (r <= 0) {
		o.rejected = 1;
		o.err = r == HTTP_INVALID ? m.error : HTTP_ERR_NONE;
		return o;
	}
	o.head_len = (uint32_t)r;
	o.kind = m.body;
	o.flags = m.flags;
	http_body_init(&b, &m);
	for (at = (size_t)r; !b.done && at < len; at += (size_t)k) {
		n = step == 0 || len - at < step ? len - at : step;
		k = http_body_feed(&b, buf + at, n);
		if (k < 0) {
			o.rejected = 1;
			o.err = b.error;
			return o;
		}
		if ((size_t)k < n)
			ck_assert_msg(b.done, "%s: %ld of %zu bytes taken, not done", v->name, k,
				      n);
		if (k == 0)
			break;
	}
	if (b.kind == HTTP_BODY_NONE)
		at = (size_t)r;
	o.end = b.done ? at : UNTIL_CLOSE;
	return o;
}

static void check_outcome(const struct vec *v, const struct outcome *o, const char *how)
{
	if (v->want == REJECT) {
		ck_assert_msg(o->rejected,
			      "%s (%s): accepted (framing %d, ends at %zu), expected %s", v->name,
			      how, o->kind, o->end, http_error_str(v->err));
		ck_assert_msg(o->err == v->err, "%s (%s): rejected for '%s', expected '%s'",
			      v->name, how, http_error_str(o->err), http_error_str(v->err));
		return;
	}
	ck_assert_msg(!o->rejected, "%s (%s): rejected: %s", v->name, how, http_error_str(o->err));
	ck_assert_msg(o->kind == v->kind, "%s (%s): framing %d, expected %d", v->name, how, o->kind,
		      v->kind);
	if (v->trail == UNTIL_CLOSE)
		ck_assert_msg(o->end == UNTIL_CLOSE, "%s (%s): message ends at %zu, expected none",
			      v->name, how, o->end);
	else
		ck_assert_msg(o->end == v->len - v->trail,
			      "%s (%s): message ends at %zu, expected %zu", v->name, how, o->end,
			      v->len - v->trail);
}

/* A response head that must be rewritten parses, rewritten, with no
 * leniency to the same framing. */
static void check_normalized(const struct vec *v, const char *buf, const struct outcome *o)
{
	static struct http_field fields[MAX_FIELDS];
	static char out[HTTP_NORMALIZED_MAX(GUARDED)];
	struct http_msg m, m2;
	size_t n;

	if (v->dir == REQ || o->rejected || !(o->flags & HTTP_F_NORMALIZE))
		return;
	msg_init(v, &m, fields);
	ck_assert_int_eq(http_parse(&m, buf, v->len, &limits), (int)o->head_len);
	n = http_head_normalize(buf, &m, out, sizeof(out));
	ck_assert_msg(n > 0, "%s: not normalised", v->name);
	msg_init(v, &m2, fields);
	ck_assert_msg(http_parse(&m2, out, n, &limits) == (int)n, "%s: normalised head refused",
		      v->name);
	ck_assert_msg(!(m2.flags & HTTP_F_NORMALIZE), "%s: normalised head is not strict", v->name);
	ck_assert_msg(m2.body == m.body &&
			      (m.body != HTTP_BODY_LENGTH || m2.content_length == m.content_length),
		      "%s: normalised head frames differently", v->name);
	ck_assert_msg(!((m2.flags & HTTP_F_HAS_CL) && (m2.flags & HTTP_F_HAS_TE)),
		      "%s: normalised head keeps both framing fields", v->name);
}

START_TEST(vector)
{
	const struct vec *v = &vecs[_i];
	const char *buf;
	struct outcome o;
	char how[32];
	size_t step;

	buf = guard_room_place(&room, v->in, v->len); /* (asserts the length fits) */
	o = run(v, buf, v->len, 0);
	check_outcome(v, &o, "whole");
	check_normalized(v, buf, &o);
	for (step = 1; step <= 7; step += 3) {
		snprintf(how, sizeof(how), "%zu at a time", step);
		o = run(v, buf, v->len, step);
		check_outcome(v, &o, how);
	}
}
END_TEST

/* Methods are case-sensitive (RFC 9110 9.1): "head" is not HEAD, so its
 * response is framed by its fields like any other. */
START_TEST(method_case)
{
	static const char head[] = "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char lower[] = "head / HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char connect[] = "connect h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n";
	struct http_msg m;

	http_msg_init_request(&m, NULL, 0);
	ck_assert_int_gt(http_parse(&m, head, sizeof(head) - 1, &limits), 0);
	ck_assert(m.flags & HTTP_F_METHOD_HEAD);
	http_msg_init_request(&m, NULL, 0);
	ck_assert_int_gt(http_parse(&m, lower, sizeof(lower) - 1, &limits), 0);
	ck_assert(!(m.flags & HTTP_F_METHOD_HEAD));
	/* not CONNECT, so its authority-form target is refused */
	http_msg_init_request(&m, NULL, 0);
	ck_assert_int_eq(http_parse(&m, connect, sizeof(connect) - 1, &limits), HTTP_INVALID);
	ck_assert_int_eq(m.error, HTTP_ERR_BAD_TARGET);
}
END_TEST

/* Absolute-form with a Host that is not its authority (RFC 9112 3.2): the
 * proxy refuses it unless it rewrites the Host (conn_http.c): an origin that
 * routes by Host would serve another site than its checks saw. */
START_TEST(host_mismatch)
{
	static const struct {
		const char *in;
		int mismatch;
	} c[] = {
		{"GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", 1},
		{"GET http://a.example:8080/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 1},
		{"GET http://a.example/ HTTP/1.1\r\nHost: a.example:80\r\n\r\n", 1},
		{"GET http://a.example/ HTTP/1.1\r\nHost:\r\n\r\n", 1},
		{"GET http://a.example/ HTTP/1.1\r\nHost: a.examplex\r\n\r\n", 1},
		{"GET http://a.example/x HTTP/1.1\r\nHost: A.Example\r\n\r\n", 0},
		{"GET http://[::1]:81?q HTTP/1.1\r\nHost: [::1]:81\r\n\r\n", 0},
		{"GET http://a.example/x HTTP/1.0\r\n\r\n", 0},
		{"GET /x HTTP/1.1\r\nHost: b.example\r\n\r\n", 0},
		{"CONNECT a.example:443 HTTP/1.1\r\nHost: b.example\r\n\r\n", 0},
	};
	struct http_msg m;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		http_msg_init_request(&m, NULL, 0);
		ck_assert_int_gt(http_parse(&m, c[i].in, strlen(c[i].in), &limits), 0);
		ck_assert_msg(http_host_mismatch(c[i].in, &m) == c[i].mismatch, "%s: mismatch %d",
			      c[i].in, !c[i].mismatch);
	}
}
END_TEST

/* Every byte that is not a tchar (0x00-0x20, separators, 0x7f-0xff), the
 * obfuscations of defparam/smuggler and PortSwigger's http-request-smuggler,
 * put before a framing field's name, inside it, before its colon, right
 * after the colon, inside its value and after it: SP and HTAB around the
 * value change nothing; anywhere else the request is refused (but for a
 * colon inside the name, which makes another field to every parser, and a
 * comma inside a Connection token, which makes two other tokens). */
enum sweep_at { AT_PRE, AT_NAME, AT_POST, AT_MID, AT_VALUE, AT_END, AT_MAX };

static const struct sweep_field {
	const char *name, *value, *rest; /* rest: fields after it, blank line, body, NEXT */
} sweep_fields[] = {
	{"Transfer-Encoding", "chunked", "\r\n" CHUNKS NEXT},
	{"Content-Length", "10", "\r\n0123456789" NEXT},
	{"Connection", "content-length", "Content-Length: 5\r\n\r\nhello" NEXT},
	{"Proxy-Connection", "transfer-encoding", TE "\r\n" CHUNKS NEXT},
};

/* POST, the field line with b before piece at + 1 of it (AT_MAX: no b),
 * then the rest; the pieces are the halves of the name and of the value,
 * the colon and the line end. */
static size_t sweep_build(char *out, const struct sweep_field *f, enum sweep_at at, unsigned char b)
{
	size_t nl = strlen(f->name), vl = strlen(f->value), n = 0, i;
	const struct {
		const char *p;
		size_t len;
	} piece[] = {
		{POST, sizeof(POST) - 1},
		{f->name, nl / 2},
		{f->name + nl / 2, nl - nl / 2},
		{":", 1},
		{f->value, vl / 2},
		{f->value + vl / 2, vl - vl / 2},
		{"\r\n", 2},
	};

	for (i = 0; i < sizeof(piece) / sizeof(piece[0]); i++) {
		if (i == (size_t)at + 1)
			out[n++] = (char)b;
		memcpy(out + n, piece[i].p, piece[i].len);
		n += piece[i].len;
	}
	memcpy(out + n, f->rest, strlen(f->rest));
	return n + strlen(f->rest);
}

static int is_tchar_byte(unsigned b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	       (b != 0 && strchr("!#$%&'*+-.^_`|~", (int)b) != NULL);
}

START_TEST(byte_sweep)
{
	const struct sweep_field *f = &sweep_fields[_i];
	const struct vec v = {.name = f->name, .dir = REQ};
	static char buf[512];
	struct outcome clean, o;
	unsigned b;
	int at;

	clean = run(&v, buf, sweep_build(buf, f, AT_MAX, 0), 0);
	for (at = AT_PRE; at < AT_MAX; at++) {
		for (b = 0; b < 256; b++) {
			if (is_tchar_byte(b))
				continue;
			o = run(&v, buf, sweep_build(buf, f, (enum sweep_at)at, (unsigned char)b),
				0);
			if ((b == ' ' || b == '\t') && (at == AT_MID || at == AT_END)) {
				ck_assert_msg(o.rejected == clean.rejected && o.err == clean.err &&
						      (clean.rejected || (o.kind == clean.kind &&
									  o.end == clean.end + 1)),
					      "%s: 0x%02x at %d: not as without it", f->name, b,
					      at);
				continue;
			}
			if ((at == AT_NAME && b == ':') ||
			    (at == AT_VALUE && b == ',' && strstr(f->name, "Connection")))
				continue;
			ck_assert_msg(o.rejected, "%s: 0x%02x at %d accepted (framing %d)", f->name,
				      b, at, o.kind);
		}
	}
}
END_TEST

static Suite *http_smuggle_suite(void)
{
	Suite *s = suite_create("http_smuggle");
	TCase *tc = tcase_create("vectors");

	tcase_add_unchecked_fixture(tc, guard_setup, guard_teardown);
	tcase_add_loop_test(tc, vector, 0, N_VECS);
	tcase_add_test(tc, method_case);
	tcase_add_test(tc, host_mismatch);
	tcase_add_loop_test(tc, byte_sweep, 0,
			    (int)(sizeof(sweep_fields) / sizeof(sweep_fields[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(http_smuggle_suite());
}
