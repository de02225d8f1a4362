/*
 * http.h — the HTTP room: pure functions over byte buffers. No sockets, no
 * threads, no logging, no global state: everything here can be unit-tested
 * and fuzzed alone, and is safe to call from any thread.
 *
 * This first cut recognises a request head: it finds where the head ends
 * (resumably, without re-scanning bytes it has seen) and the Host: field.
 * The full strict parser and message framing build on it.
 */
#ifndef REMORA_HTTP_H
#define REMORA_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* A span of bytes inside the caller's buffer (zero-copy). */
struct http_span {
	const char *p;
	size_t len;
};

/* Caller-owned resumable state; zero it (or http_head_init) before the first call. */
struct http_head_state {
	size_t scanned; /* bytes already examined for the end of the head */
	uint32_t nl;	/* state of the blank-line matcher */
};

struct http_request_head {
	struct http_span method;
	struct http_span target;
	unsigned version_minor; /* HTTP/1.x */
	struct http_span host;	/* p == NULL when there is no Host: field */
	size_t head_len;	/* bytes up to and including the blank line */
};

#define HTTP_NEED_MORE (-2)
#define HTTP_INVALID   (-1)

static inline void http_head_init(struct http_head_state *st)
{
	st->scanned = 0;
	st->nl = 0;
}

/*
 * Scans buf[0..len) — which must begin with the same bytes as at the previous
 * call — for a complete request head. Returns the head length (> 0) and fills
 * *out; HTTP_NEED_MORE if the head is not complete yet; HTTP_INVALID if the
 * bytes cannot be an HTTP/1.x request head (bad request line, a second Host:
 * field, a bare CR or NUL). Never reads past buf + len.
 */
int http_request_head_scan(struct http_head_state *st, const char *buf, size_t len,
			   struct http_request_head *out);

#endif
