/* normalize.c — rewrites a leniently parsed head (a response's, or a request's
 * with bare LF) into its strict form before it is forwarded (see http.h,
 * http_head_normalize). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/chars.h"
#include "http/http.h"

struct out {
	char *p;
	size_t len, cap;
	int full; /* something did not fit */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static int is_sp(char c)
{
	return c == ' ' || c == '\t';
}

/* The end of the line starting at p (before limit): *e is its end without
 * CR / LF, the return value the start of the next line. */
static const char *line_end(const char *p, const char *limit, const char **e)
{
	const char *lf = memchr(p, '\n', (size_t)(limit - p));

	if (lf == NULL)
		lf = limit - 1; /* not reached for a head http_parse() accepted */
	*e = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
	return lf + 1;
}

static int name_is(const char *p, const char *q, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(q - p) == n && strncasecmp(p, lit, n) == 0;
}

#define DONE_CL 1 /* the Content-Length line of HTTP_F_CL_ONE is written */
#define DONE_TE 2 /* the Transfer-Encoding line of HTTP_F_TE_CHUNKED is written */

/* A framing field line that the flags of m (HTTP_F_CL_DROP, HTTP_F_CL_ONE,
 * HTTP_F_TE_DROP, HTTP_F_TE_CHUNKED) replace, its name [p, q): 1 if it is
 * left out (the first one under CL_ONE or TE_CHUNKED is written whole in its
 * place, and *done says so). */
static int framing_replaced(struct out *o, const struct http_msg *m, const char *p, const char *q,
			    int *done)
{
	static const char te_chunked[] = "Transfer-Encoding: chunked\r\n";
	uint32_t flags = m->flags;
	char cl[48];

	if (name_is(p, q, "content-length")) {
		if ((flags & HTTP_F_CL_ONE) && !(*done & DONE_CL)) {
			put(o, cl,
			    (size_t)snprintf(cl, sizeof(cl), "Content-Length: %llu\r\n",
					     (unsigned long long)m->content_length));
			*done |= DONE_CL;
		}
		return (flags & (HTTP_F_CL_DROP | HTTP_F_CL_ONE)) != 0;
	}
	if (!(flags & (HTTP_F_TE_DROP | HTTP_F_TE_CHUNKED)) || !name_is(p, q, "transfer-encoding"))
		return 0;
	if ((flags & HTTP_F_TE_CHUNKED) && !(*done & DONE_TE)) {
		put(o, te_chunked, sizeof(te_chunked) - 1);
		*done |= DONE_TE;
	}
	return 1;
}

/* Writes the field line [p, e): its name, the colon, then the value as it
 * came up to its last non-blank byte, left unended. Returns 0 if it was
 * left out or written whole (framing_replaced), else 1. */
static int put_field(struct out *o, const char *p, const char *e, const struct http_msg *m,
		     int *done)
{
	const char *q = p, *c;

	while (q < e && http_is_tchar((unsigned char)*q))
		q++;
	if (framing_replaced(o, m, p, q, done))
		return 0;
	for (c = q; c < e && *c != ':'; c++)
		; /* whitespace before the colon (RFC 9112 5.1: removed) */
	while (e > c + 1 && is_sp(e[-1]))
		e--;
	put(o, p, (size_t)(q - p));
	put(o, c, (size_t)(e - c));
	return 1;
}

/* An obs-fold line [p, e) continuing the field just written: one SP, then
 * its content (nothing if blank). */
static void put_fold(struct out *o, const char *p, const char *e)
{
	while (p < e && is_sp(*p))
		p++;
	while (e > p && is_sp(e[-1]))
		e--;
	if (e == p)
		return;
	put(o, " ", 1);
	put(o, p, (size_t)(e - p));
}

size_t http_head_normalize(const char *in, const struct http_msg *m, char *out, size_t cap)
{
	static const char conn_close[] = "Connection: close\r\n";
	const char *p, *limit = in + m->head_len, *e, *next;
	int done = 0;	  /* DONE_* */
	int open = 1;	  /* the last line written is not yet ended */
	int foldable = 0; /* ... and it is a field that obs-fold continues */
	struct out o = {out, 0, cap, 0};

	if (m->head_len == 0)
		return 0;
	p = m->is_request ? in + m->method.off : in; /* (empty lines before a request: left out) */
	next = line_end(p, limit, &e);
	put(&o, p, (size_t)(e - p)); /* the start line */
	for (p = next; p < limit; p = next) {
		next = line_end(p, limit, &e);
		if (e > p && is_sp(*p)) {
			if (foldable)
				put_fold(&o, p, e);
			continue; /* else left out: before the first field, or in one left out */
		}
		if (e > p && !m->is_request && http_is_nameless_line(p, e)) {
			foldable = 0; /* left out, and any fold of it */
			continue;
		}
		if (open)
			put(&o, "\r\n", 2);
		if (e == p)
			break;
		open = foldable = put_field(&o, p, e, m, &done);
	}
	if ((m->flags & HTTP_F_CLOSE_AFTER) && !(m->flags & HTTP_F_CONN_CLOSE))
		put(&o, conn_close, sizeof(conn_close) - 1);
	put(&o, "\r\n", 2);
	return o.full ? 0 : o.len;
}
