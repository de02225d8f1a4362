/*
 * http.h — the HTTP/1.x room: a strict, incremental, zero-copy parser for
 * request and response heads, and body framing (Content-Length, chunked,
 * close-delimited). Pure functions over caller-owned state and buffers: no
 * sockets, no threads, no logging, no global state. Safe from any thread.
 *
 * Zero-copy: every span is an offset and length into the buffer that holds
 * the head (offset 0 = the head's first byte), so the caller may move the
 * bytes between calls as long as their order is kept.
 *
 * Incremental: http_parse() may be called again with the same bytes plus
 * more; it resumes where it stopped (a partial line is never re-validated,
 * and the search for its end resumes where it left off).
 *
 * Strict on requests: everything that lets two parsers frame one message
 * differently (request smuggling) is rejected unless a named HTTP_LENIENT_*
 * flag allows it. Lenient but normalising on responses, where browsers
 * accept them (bare LF, obs-fold, whitespace before a colon, Content-Length
 * with Transfer-Encoding, ...): HTTP_F_NORMALIZE then says the head must be
 * rewritten by http_head_normalize() before it is forwarded, and
 * HTTP_F_CLOSE_AFTER that the connection must close after the message.
 * docs/http.md, "Responses: what is accepted and how it is normalised".
 * A request accepted under HTTP_LENIENT_BARE_LF is normalised the same way.
 */
#ifndef REMORA_HTTP_H
#define REMORA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_NEED_MORE (-2)
#define HTTP_INVALID   (-1)

/* Why a message was rejected, and the status a proxy answers a request with.
 * X(name, status, description) */
#define HTTP_ERRORS(X)                                                                \
	X(NONE, 0, "no error")                                                        \
	X(NOT_HTTP, 400, "not an HTTP/1.x request line")                              \
	X(BAD_START_LINE, 400, "malformed start line")                                \
	X(BAD_VERSION, 505, "unsupported HTTP version")                               \
	X(BAD_STATUS, 502, "malformed status code")                                   \
	X(LINE_TOO_LONG, 414, "request line too long")                                \
	X(HEAD_TOO_LARGE, 431, "header section too large")                            \
	X(TOO_MANY_FIELDS, 431, "too many header fields")                             \
	X(BARE_CR, 400, "bare CR")                                                    \
	X(BARE_LF, 400, "line ends in LF without CR")                                 \
	X(BAD_FIELD_NAME, 400, "invalid header field name")                           \
	X(WS_BEFORE_COLON, 400, "whitespace between field name and colon")            \
	X(OBS_FOLD, 400, "obsolete line folding")                                     \
	X(BAD_FIELD_VALUE, 400, "control character in field value")                   \
	X(BAD_CONTENT_LENGTH, 400, "malformed Content-Length")                        \
	X(CONTENT_LENGTH_MISMATCH, 400, "differing Content-Length values")            \
	X(CL_AND_TE, 400, "both Content-Length and Transfer-Encoding")                \
	X(TE_NOT_CHUNKED, 400, "Transfer-Encoding whose final coding is not chunked") \
	X(TE_HTTP10, 400, "Transfer-Encoding in an HTTP/1.0 message")                 \
	X(CONNECT_BODY, 400, "CONNECT with a body")                                   \
	X(BAD_TRANSFER_ENCODING, 400, "malformed Transfer-Encoding")                  \
	X(CONN_FRAMING, 400, "Connection names a framing field or Host")              \
	X(BAD_CONNECTION, 400, "Connection element that is not a token")              \
	X(HOST_MISSING, 400, "HTTP/1.1 request without Host")                         \
	X(HOST_REPEATED, 400, "more than one Host field")                             \
	X(HOST_MISMATCH, 400, "Host differs from the target's authority")             \
	X(BAD_HOST, 400, "malformed Host")                                            \
	X(BAD_TARGET, 400, "malformed request target")                                \
	X(BAD_CHUNK_SIZE, 400, "invalid chunk-size line")                             \
	X(BAD_CHUNK_EXT, 400, "invalid chunk extension")                              \
	X(BAD_CHUNK_END, 400, "chunk data not followed by CRLF")                      \
	X(BAD_TRAILER, 400, "invalid trailer field")                                  \
	X(NO_STATUS_LINE, 502, "response does not start with HTTP/1.x and a status")

#define HTTP_ERR_ENUM(name, status, desc) HTTP_ERR_##name,
enum http_error { HTTP_ERRORS(HTTP_ERR_ENUM) HTTP_ERR_MAX };
#undef HTTP_ERR_ENUM

/* Named leniencies (all off by default; see docs/http.md). */
#define HTTP_LENIENT_BARE_LF 0x1u /* accept LF alone as a line end */

struct http_limits {
	uint32_t max_line;   /* request line (414 beyond) */
	uint32_t max_head;   /* whole head incl. the blank line (431 beyond) */
	uint16_t max_fields; /* header fields (431 beyond); <= the caller's array */
	uint32_t lenient;    /* HTTP_LENIENT_* */
};

struct http_span {
	uint32_t off;
	uint32_t len;
};

struct http_field {
	struct http_span name;
	struct http_span value; /* without surrounding whitespace */
	struct http_span line;	/* the whole line including CRLF */
};

enum http_body_kind {
	HTTP_BODY_NONE,	   /* no body (or zero length) */
	HTTP_BODY_LENGTH,  /* Content-Length bytes */
	HTTP_BODY_CHUNKED, /* chunked, ends with the last chunk and trailers */
	HTTP_BODY_CLOSE,   /* response only: until the connection closes */
};

/* Message flags (http_msg.flags). */
#define HTTP_F_CONN_CLOSE      0x001u /* Connection: close */
#define HTTP_F_CONN_KEEP_ALIVE 0x002u /* Connection: keep-alive */
#define HTTP_F_CONN_UPGRADE    0x004u /* Connection: upgrade */
#define HTTP_F_UPGRADE	       0x008u /* an Upgrade field is present */
#define HTTP_F_EXPECT_CONTINUE 0x010u /* Expect: 100-continue */
#define HTTP_F_HAS_CL	       0x020u
#define HTTP_F_HAS_TE	       0x040u
#define HTTP_F_ABSOLUTE_FORM   0x080u /* request target is http://authority/... */
#define HTTP_F_HEAD_REQUEST    0x100u /* response: answers a HEAD (set before parsing) */
#define HTTP_F_METHOD_HEAD     0x200u /* request: method is HEAD */
#define HTTP_F_METHOD_CONNECT  0x400u /* request: method is CONNECT */
/* the head as received must be rewritten by http_head_normalize() before it
 * is forwarded: a line ended in LF alone (a request: only under
 * HTTP_LENIENT_BARE_LF); responses also for obs-fold, whitespace before a
 * colon, or a Content-Length that Transfer-Encoding overrides. */
#define HTTP_F_NORMALIZE       0x800u
/* response: its framing was doubtful (Content-Length with Transfer-Encoding,
 * one that is not a number, an irregular Transfer-Encoding, or
 * Transfer-Encoding in HTTP/1.0): the connection must close after it.
 * http_msg_keeps_alive() is then false. Never set on requests. */
#define HTTP_F_CLOSE_AFTER     0x1000u
/* response framing read as browsers read it (docs/http.md, section 2); each
 * comes with HTTP_F_NORMALIZE and HTTP_F_CLOSE_AFTER, and says what
 * http_head_normalize() does:
 * CL_DROP: Content-Length does not frame it (Transfer-Encoding names
 * chunked, or its value is not a number): every Content-Length line left out;
 * TE_DROP: Transfer-Encoding names no chunked and a Content-Length frames it:
 * every Transfer-Encoding line left out;
 * TE_CHUNKED: an irregular Transfer-Encoding that names chunked (twice, not
 * last, empty elements, parameters): its lines become one
 * "Transfer-Encoding: chunked". */
#define HTTP_F_CL_DROP	       0x2000u
#define HTTP_F_TE_DROP	       0x4000u
#define HTTP_F_TE_CHUNKED      0x8000u
/* response: one Content-Length value repeated (a list, or several lines): its
 * lines become one "Content-Length: N" where the first was (with
 * HTTP_F_NORMALIZE only: the framing was not in doubt) */
#define HTTP_F_CL_ONE	       0x10000u

struct http_msg {
	/* parser state */
	uint32_t pos;  /* first byte of the line being parsed */
	uint32_t scan; /* where the search for that line's end resumes */
	uint8_t phase; /* private */
	uint8_t is_request;
	uint16_t max_fields;	  /* size of the caller's fields array */
	uint8_t has_cur;	  /* private: cur holds a field line not yet ended */
	uint8_t rsp_framing;	  /* private: what a response's framing fields said */
	struct http_span cl_text; /* private: a response's first Content-Length element */
	struct http_field cur;	  /* private: response field that obs-fold may continue */
	struct http_field *fields;

	/* results, valid once http_parse() returned > 0 (partially before) */
	struct http_span method, target, reason;
	struct http_span authority;    /* absolute-form: host[:port] from the target */
	struct http_span path;	       /* absolute-form: path and query ("/" if empty) */
	struct http_span host;	       /* value of the Host field */
	struct http_span host_line;    /* the whole Host field line incl. CRLF */
	struct http_span content_type; /* value of Content-Type (len 0 if none) */
	uint16_t status;
	uint8_t minor; /* HTTP/1.minor */
	uint16_t n_fields;
	int16_t host_field; /* index of the Host field, or -1 */
	uint32_t flags;
	enum http_body_kind body;
	uint64_t content_length;
	uint32_t head_len;
	enum http_error error;
};

/* Prepares m to parse one request head into the caller's fields array
 * (fields may be NULL with max_fields 0: fields are then validated and
 * interpreted but not recorded; the limit still applies). */
void http_msg_init_request(struct http_msg *m, struct http_field *fields, uint16_t max_fields);
/* Prepares m for one response head; head_request: it answers a HEAD request
 * (so it has no body whatever its fields say). */
void http_msg_init_response(struct http_msg *m, struct http_field *fields, uint16_t max_fields,
			    int head_request);

/*
 * Parses buf[0..len) — the same bytes as at the previous call on m, plus
 * possibly more. Returns the head length (> 0) when the head is complete and
 * valid (m's results are final and m->body says how the body is framed);
 * HTTP_NEED_MORE; or HTTP_INVALID with m->error set. Never reads past
 * buf + len.
 *
 * Responses: HTTP_INVALID with HTTP_ERR_NO_STATUS_LINE means the stream does
 * not start with "HTTP/1." DIGIT SP 3DIGIT (HTTP/0.9, ICY, HTTP/2, a leading
 * empty line, ...): it is not an HTTP/1.x response, and a transparent proxy
 * relays the whole stream unchanged, from its first byte, as a
 * close-delimited body, then closes the client connection. The verdict comes
 * as soon as the first bytes that cannot start a status line arrive (at most
 * 12 bytes; no line end needed). In a response field value (f->value,
 * m->content_type) obs-fold may leave line breaks: each CR / LF with the
 * SP / HTAB around it stands for one SP.
 */
int http_parse(struct http_msg *m, const char *buf, size_t len, const struct http_limits *lim);

/* Status code a proxy answers with for a rejected request (400, 414, ...). */
int http_error_status(enum http_error e);
const char *http_error_str(enum http_error e);
/* Standard reason phrase for a status code ("Bad Request"), or "Unknown". */
const char *http_reason(int status);

/* True if the message at m keeps the connection open afterwards (HTTP/1.1
 * without "close", or HTTP/1.0 with "keep-alive"; never with
 * HTTP_F_CLOSE_AFTER). */
int http_msg_keeps_alive(const struct http_msg *m);
/* True if the request m (parsed from buf) has an absolute-form target and a
 * Host field that differs from its authority (case-insensitively; RFC 9112
 * 3.2 wants them equal). An origin must use the target, but one that routes
 * by Host would serve another site than the one the target names: a proxy
 * that forwards the Host unchanged refuses such a request (HOST_MISMATCH). */
int http_host_mismatch(const char *buf, const struct http_msg *m);
/* True if the field name at f (in buf) equals name, case-insensitively. */
int http_field_is(const char *buf, const struct http_field *f, const char *name);

/* Room that http_head_normalize() may need for a head of len bytes: a bare
 * LF becomes CRLF (at most doubles the head) and "Connection: close" may be
 * added. */
#define HTTP_NORMALIZED_MAX(len) (2 * (size_t)(len) + 32)

/*
 * Writes the normalised form of the head m (parsed by http_parse() from in,
 * which returned m->head_len > 0) to out[0..cap): the start line (a
 * request's without the empty lines before it) and the field lines in their
 * order, each ending in CRLF; obs-fold joined
 * into the field it continues with one SP; fold lines before the first field
 * left out; no whitespace between a field name and its colon, nor at the end
 * of a value; the Content-Length or Transfer-Encoding lines left out or
 * rewritten as HTTP_F_CL_DROP, HTTP_F_CL_ONE, HTTP_F_TE_DROP and
 * HTTP_F_TE_CHUNKED say;
 * "Connection: close" added when HTTP_F_CLOSE_AFTER is set and no
 * close token is there; then the blank line (CRLF). Returns its length, or 0
 * if it does not fit in cap (HTTP_NORMALIZED_MAX(m->head_len) always
 * suffices). Reads in[0..m->head_len) only; in and out must not overlap.
 * The result parses, with no leniency and no HTTP_F_NORMALIZE, to the same
 * status (request: method, target and fields), body framing and keep-alive
 * verdict. Pure: any thread.
 */
size_t http_head_normalize(const char *in, const struct http_msg *m, char *out, size_t cap);

/*
 * Body framing tracker: tells which bytes belong to the current message,
 * without copying or altering them (a proxy forwards them unchanged).
 */
struct http_body {
	enum http_body_kind kind;
	uint64_t remaining; /* LENGTH: bytes left; CHUNKED: data left in this chunk */
	uint8_t state;	    /* private (chunked) */
	uint8_t done;	    /* the message has ended */
	uint8_t in_ext;	    /* private: inside chunk extensions */
	/* set by the caller after http_body_init() for a response: chunked
	 * framing as browsers read it (docs/http.md, section 3): a framing line
	 * may end in LF alone, and an extension may be any field characters */
	uint8_t lenient;
	/* lenient: http_body_feed() stopped at a LF that ends a framing line
	 * without CR; the caller puts a CR before it (the byte after those it
	 * was told belong to the message), clears need_cr and feeds on from the
	 * CR. */
	uint8_t need_cr;
	uint8_t eased;	   /* lenient: a form only the leniency takes was seen */
	uint16_t line_len; /* private: length of the current size/trailer line */
	uint32_t trailer_bytes;
	enum http_error error;
};

/* Starts tracking the body of m (after http_parse() returned > 0). */
void http_body_init(struct http_body *b, const struct http_msg *m);
/*
 * Feeds body bytes buf[0..len). Returns how many of them belong to this
 * message (<= len; fewer only when the message ended, b->done is then set),
 * or HTTP_INVALID with b->error set (bad chunked syntax). CLOSE bodies take
 * everything: call http_body_eof() when the connection ends. Fewer also
 * when b->need_cr is set (lenient).
 */
long http_body_feed(struct http_body *b, const char *buf, size_t len);
/* Counts n body bytes that were moved without being seen (splice): only for
 * HTTP_BODY_LENGTH and HTTP_BODY_CLOSE; n <= b->remaining for LENGTH. */
void http_body_advance(struct http_body *b, uint64_t n);
/* True if a connection ending now leaves the message complete. */
int http_body_eof(struct http_body *b);

/*
 * First-bytes classifier: does a client's byte stream start like an HTTP/1
 * request line, a TLS record, or something else? Incremental and bounded
 * (state is a few bytes, input is never stored): feed each new run of bytes;
 * once the verdict is not HTTP_FIRST_MORE it never changes.
 *   HTTP:  optional CR/LF noise and SP / HTAB, then a token (the method)
 *          and SP or HTAB, or a token, VT / FF / 0x1C-0x1F / 0x85 / 0xA0
 *          and '/', '*' or 'h' (lenient origins split words at those) —
 *          whatever follows, the HTTP parser decides (parsed, or refused);
 *   TLS:   0x16 0x03 (a handshake record);
 *   OTHER: anything else, including the HTTP/2 connection preface;
 *   MORE:  nothing yet, or still a possible request-line prefix.
 */
enum http_first { HTTP_FIRST_MORE, HTTP_FIRST_HTTP, HTTP_FIRST_TLS, HTTP_FIRST_OTHER };

struct http_sniff {
	uint8_t phase;	 /* private */
	uint8_t verdict; /* enum http_first */
	uint8_t h2;	 /* private: may still be the HTTP/2 preface */
	uint8_t pad;
	uint16_t n; /* private: bytes of the token (or preface) seen */
};

void http_sniff_init(struct http_sniff *s);
/* Feeds the next len bytes of the stream; returns the verdict so far. */
enum http_first http_sniff_feed(struct http_sniff *s, const char *p, size_t len);
/* "undecided", "http", "tls", "other". */
const char *http_first_name(enum http_first v);
/* Was s's verdict (HTTP_FIRST_OTHER) the whole HTTP/2 preface, however it
 * came in pieces? */
int http_sniff_is_h2(const struct http_sniff *s);

#endif
