/* head.c — request-head recognition (see http.h). */
#include <string.h>
#include <strings.h>

#include "http/http.h"

/* RFC 9110 tchar: the bytes allowed in a method or field name. */
static int is_tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr(extra, c) != NULL;
}

/* Finds the end of the head: "\r\n\r\n" (or bare "\n\n"). Resumable:
 * st->nl counts the line feeds seen since the last other byte (CRs aside). */
static size_t find_head_end(struct http_head_state *st, const char *buf, size_t len)
{
	size_t i;

	for (i = st->scanned; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			if (++st->nl == 2) {
				st->scanned = i + 1;
				return i + 1;
			}
		} else if (c != '\r') {
			st->nl = 0;
		}
	}
	st->scanned = len;
	return 0;
}

/* Parses "METHOD SP target SP HTTP/1.x" ending at eol (CR stripped). */
static int parse_request_line(const char *p, const char *eol, struct http_request_head *out)
{
	const char *sp1, *sp2, *q;

	for (q = p; q < eol && is_tchar((unsigned char)*q); q++)
		;
	if (q == p || q == eol || *q != ' ')
		return HTTP_INVALID;
	sp1 = q;
	for (q = sp1 + 1; q < eol && (unsigned char)*q > ' ' && *q != 0x7f; q++)
		;
	if (q == sp1 + 1 || q == eol || *q != ' ')
		return HTTP_INVALID;
	sp2 = q;
	if (eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' || sp2[8] > '9')
		return HTTP_INVALID;
	out->method = (struct http_span){p, (size_t)(sp1 - p)};
	out->target = (struct http_span){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
	out->version_minor = (unsigned)(sp2[8] - '0');
	return 0;
}

/* Trims optional whitespace around a field value. */
static struct http_span trim_ows(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (struct http_span){p, (size_t)(e - p)};
}

int http_request_head_scan(struct http_head_state *st, const char *buf, size_t len,
			   struct http_request_head *out)
{
	size_t end = find_head_end(st, buf, len);
	const char *p = buf, *lim, *eol, *colon, *q;
	int first = 1;

	if (end == 0)
		return HTTP_NEED_MORE;
	memset(out, 0, sizeof(*out));
	out->head_len = end;
	lim = buf + end;
	while (p < lim) {
		eol = memchr(p, '\n', (size_t)(lim - p));
		q = eol;
		if (q > p && q[-1] == '\r')
			q--;
		if (memchr(p, '\r', (size_t)(q - p)) || memchr(p, '\0', (size_t)(q - p)))
			return HTTP_INVALID; /* bare CR or NUL inside a line */
		if (q == p)
			break; /* the blank line */
		if (first) {
			if (parse_request_line(p, q, out) < 0)
				return HTTP_INVALID;
			first = 0;
		} else {
			colon = memchr(p, ':', (size_t)(q - p));
			if (colon == NULL || colon == p || *p == ' ' || *p == '\t')
				return HTTP_INVALID; /* no name, or obs-fold */
			if (colon - p == 4 && strncasecmp(p, "host", 4) == 0) {
				if (out->host.p != NULL)
					return HTTP_INVALID; /* Host: twice */
				out->host = trim_ows(colon + 1, q);
			}
		}
		p = eol + 1;
	}
	if (first)
		return HTTP_INVALID;
	return (int)end;
}
