/* parse.c — strict incremental parser for HTTP/1.x heads (see http.h). */
#include <string.h>
#include <strings.h>

#include "http/chars.h"
#include "http/http.h"

enum { PH_START, PH_FIELDS, PH_DONE };

#define CL_MAX ((uint64_t)1 << 62)

static const struct {
	int status;
	const char *desc;
} errors[] = {
#define HTTP_ERR_ROW(name, status, desc) {status, desc},
	HTTP_ERRORS(HTTP_ERR_ROW)
#undef HTTP_ERR_ROW
};

int http_error_status(enum http_error e)
{
	return e < HTTP_ERR_MAX ? errors[e].status : 400;
}

const char *http_error_str(enum http_error e)
{
	return e < HTTP_ERR_MAX ? errors[e].desc : "?";
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 451:
		return "Unavailable For Legal Reasons";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	case 508:
		return "Loop Detected";
	default:
		return "Unknown";
	}
}

static void msg_init(struct http_msg *m, struct http_field *fields, uint16_t max_fields)
{
	memset(m, 0, sizeof(*m));
	m->fields = fields;
	m->max_fields = max_fields;
	m->host_field = -1;
}

void http_msg_init_request(struct http_msg *m, struct http_field *fields, uint16_t max_fields)
{
	msg_init(m, fields, max_fields);
	m->is_request = 1;
}

void http_msg_init_response(struct http_msg *m, struct http_field *fields, uint16_t max_fields,
			    int head_request)
{
	msg_init(m, fields, max_fields);
	if (head_request)
		m->flags |= HTTP_F_HEAD_REQUEST;
}

static int fail(struct http_msg *m, enum http_error e)
{
	m->error = e;
	return HTTP_INVALID;
}

static struct http_span span(const char *buf, const char *p, const char *e)
{
	return (struct http_span){(uint32_t)(p - buf), (uint32_t)(e - p)};
}

static int span_is(const char *buf, struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(buf + s.off, lit, n) == 0;
}

/* Is the token [t, t + n) lit, case-insensitively? */
static int token_is(const char *t, size_t n, const char *lit)
{
	return n == strlen(lit) && strncasecmp(t, lit, n) == 0;
}

/* Methods are case-sensitive (RFC 9110 9.1): "head" is not HEAD. */
static int method_is(const char *buf, const struct http_msg *m, const char *lit)
{
	size_t n = strlen(lit);

	return m->method.len == n && memcmp(buf + m->method.off, lit, n) == 0;
}

int http_field_is(const char *buf, const struct http_field *f, const char *name)
{
	return span_is(buf, f->name, name);
}

/* "HTTP/" DIGIT "." DIGIT at p (8 bytes available). */
static int parse_version(struct http_msg *m, const char *p)
{
	if (memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' ||
	    p[7] > '9')
		return -1;
	/* HTTP/1.2 to 1.9 would be forwarded as they came: an origin that takes
	 * an unknown minor for 1.0 ignores Transfer-Encoding and reads a chunked
	 * body as the next request; one that refuses it may not read the body */
	if (p[5] != '1' || p[7] > '1')
		return fail(m, HTTP_ERR_BAD_VERSION);
	m->minor = (uint8_t)(p[7] - '0');
	return 0;
}

/* uri-host [":" port] — reg-name, IPv4 or [IP-literal]; no userinfo. */
static int valid_authority(const char *p, const char *e)
{
	const char *q;

	if (p < e && *p == '[') {
		q = memchr(p, ']', (size_t)(e - p));
		if (q == NULL || q == p + 1)
			return 0;
		for (p++; p < q; p++)
			if (!http_is_hex((unsigned char)*p) && *p != ':' && *p != '.')
				return 0;
		p = q + 1;
	} else {
		for (; p < e && *p != ':'; p++) {
			unsigned char c = (unsigned char)*p;

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || strchr("-._~%!$&'()*+,;=", c)))
				return 0;
		}
	}
	if (p == e)
		return 1;
	if (*p != ':')
		return 0;
	for (p++; p < e; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* authority-form = uri-host ":" port (RFC 9112 3.2.3), neither empty, and
 * the port a TCP port (1-65535): a proxy behind that reads a larger number
 * modulo 2^16, or port 0 as a default, would connect elsewhere. */
static int valid_connect_target(const char *p, const char *e)
{
	const char *port = e;
	unsigned long v = 0;

	while (port > p && port[-1] >= '0' && port[-1] <= '9')
		port--;
	if (port == e || port - p < 2 || port[-1] != ':' || !valid_authority(p, e))
		return 0;
	for (; port < e && v <= 65535; port++)
		v = v * 10 + (unsigned long)(*port - '0');
	return v >= 1 && v <= 65535;
}

/* Classifies the target: origin-form, absolute-form (http://), asterisk, authority. */
static int parse_target(struct http_msg *m, const char *buf, const char *p, const char *e)
{
	const char *a, *q;

	/* RFC 9112 3.2.3: CONNECT takes authority-form (host and port), and
	 * only CONNECT does */
	if (m->flags & HTTP_F_METHOD_CONNECT)
		return valid_connect_target(p, e) ? 0 : fail(m, HTTP_ERR_BAD_TARGET);
	if (*p == '/')
		return 0;
	if (e - p >= 7 && strncasecmp(p, "http://", 7) == 0) {
		a = p + 7;
		for (q = a; q < e && *q != '/' && *q != '?' && *q != '#'; q++)
			;
		if (q == a || !valid_authority(a, q))
			return fail(m, HTTP_ERR_BAD_TARGET);
		m->authority = span(buf, a, q);
		m->path = span(buf, q, e);
		m->flags |= HTTP_F_ABSOLUTE_FORM;
		return 0;
	}
	if (e - p == 1 && *p == '*')
		return method_is(buf, m, "OPTIONS") ? 0 : fail(m, HTTP_ERR_BAD_TARGET);
	return fail(m, HTTP_ERR_BAD_TARGET);
}

/* request-line = method SP request-target SP HTTP-version */
static int parse_request_line(struct http_msg *m, const char *buf, const char *p, const char *e)
{
	const char *q = p, *t;

	while (q < e && http_is_tchar((unsigned char)*q))
		q++;
	if (q == p || q == e || *q != ' ')
		return fail(m, HTTP_ERR_NOT_HTTP);
	m->method = span(buf, p, q);
	/* an HTTP request line ends in " HTTP/d.d"; anything else is not HTTP */
	if (e - q < 10 || e[-9] != ' ' || memcmp(e - 8, "HTTP/", 5) != 0)
		return fail(m, HTTP_ERR_NOT_HTTP);
	if (method_is(buf, m, "PRI") && e - q == 11 && memcmp(q, " * HTTP/2.0", 11) == 0)
		return fail(m, HTTP_ERR_NOT_HTTP); /* h2c prior knowledge: not HTTP/1 */
	if (parse_version(m, e - 8) < 0)
		return m->error ? HTTP_INVALID : fail(m, HTTP_ERR_NOT_HTTP);
	t = q + 1;
	for (q = t; q < e - 9; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return fail(m, HTTP_ERR_BAD_TARGET); /* SP, CTL or a second space */
	if (q == t)
		return fail(m, HTTP_ERR_BAD_TARGET);
	m->target = span(buf, t, q);
	if (method_is(buf, m, "HEAD"))
		m->flags |= HTTP_F_METHOD_HEAD;
	else if (method_is(buf, m, "CONNECT"))
		m->flags |= HTTP_F_METHOD_CONNECT;
	return parse_target(m, buf, t, q);
}

/* What every status line starts with: "HTTP/1." DIGIT SP 3DIGIT ('D': a digit). */
static const char status_prefix[] = "HTTP/1.D DDD";
#define STATUS_PREFIX_LEN (sizeof(status_prefix) - 1)

/* True if [p, e) can still begin a status line (complete: it is a whole line,
 * so it must hold the whole prefix). Looks at STATUS_PREFIX_LEN bytes at most. */
static int status_prefix_ok(const char *p, const char *e, int complete)
{
	size_t i, n = (size_t)(e - p);

	if (complete && n < STATUS_PREFIX_LEN)
		return 0;
	for (i = 0; i < n && i < STATUS_PREFIX_LEN; i++)
		if (status_prefix[i] == 'D' ? p[i] < '0' || p[i] > '9' : p[i] != status_prefix[i])
			return 0;
	return 1;
}

/* status-line = HTTP-version SP 3DIGIT [SP reason-phrase]; the prefix up to
 * the status code has been checked (status_prefix_ok). Any status 100-999. */
static int parse_status_line(struct http_msg *m, const char *buf, const char *p, const char *e)
{
	const char *q;

	m->minor = (uint8_t)(p[7] - '0');
	p += 9;
	if (p[0] == '0')
		return fail(m, HTTP_ERR_BAD_STATUS);
	m->status = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	p += 3;
	if (p < e && *p != ' ')
		return fail(m, HTTP_ERR_BAD_STATUS);
	if (p < e)
		p++;
	for (q = p; q < e; q++)
		if (!http_is_field_char((unsigned char)*q))
			return fail(m, HTTP_ERR_BAD_START_LINE);
	m->reason = span(buf, p, e);
	return 0;
}

/* Whitespace inside a field value: SP, HTAB, and CR and LF, which occur in
 * a value only where a response's obs-fold joins two lines, meaning one SP
 * (RFC 9112 5.2). So a folded value means what its normalised form means. */
static int is_ows(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What a response's framing fields said (http_msg.rsp_framing). */
#define FR_CL_INVALID	 0x01u /* a Content-Length element is not a number */
#define FR_TE_CHUNKED	 0x02u /* a Transfer-Encoding element is chunked */
#define FR_TE_LAST_CHUNK 0x04u /* ... and it is the last element so far */
#define FR_TE_IRREGULAR	 0x08u /* chunked twice or not last, empty elements, parameters */
#define FR_CL_REPEATED	 0x10u /* more than one Content-Length element */

/* 1*DIGIT at [p, e) into *v, below CL_MAX (checked before it can wrap
 * around); 0 if it is not that. */
static int cl_number(const char *p, const char *e, uint64_t *v)
{
	*v = 0;
	if (p == e)
		return 0;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9' || *v > (CL_MAX - (uint64_t)(*p - '0')) / 10)
			return 0;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return 1;
}

/* One element [t, e) of a response's Content-Length (its lines and lists
 * together), read as the Fetch standard's "extract a length" reads it, which
 * Chromium and Firefox follow: elements that differ refuse the response
 * (numbers by value, anything else as text); a value that is not a number
 * ("", "+5", "5 5", "-1", too large) is no length at all (FR_CL_INVALID:
 * the body is then framed as if there were no Content-Length). */
static int rsp_cl_element(struct http_msg *m, const char *buf, const char *t, const char *e)
{
	uint64_t v;
	int number = cl_number(t, e, &v);

	if (!(m->flags & HTTP_F_HAS_CL)) {
		m->flags |= HTTP_F_HAS_CL;
		m->cl_text = span(buf, t, e);
	} else {
		m->rsp_framing |= FR_CL_REPEATED;
		if (number && !(m->rsp_framing & FR_CL_INVALID)
			    ? v != m->content_length
			    : m->cl_text.len != (uint32_t)(e - t) ||
				      memcmp(buf + m->cl_text.off, t, m->cl_text.len) != 0)
			return fail(m, HTTP_ERR_CONTENT_LENGTH_MISMATCH);
	}
	if (number)
		m->content_length = v;
	else
		m->rsp_framing |= FR_CL_INVALID;
	return 0;
}

/* A response's Content-Length value [p, e): its comma-separated elements
 * (empty ones too), each without the whitespace around it. */
static int rsp_content_length(struct http_msg *m, const char *buf, const char *p, const char *e)
{
	const char *t, *te;

	for (;;) {
		while (p < e && is_ows(*p))
			p++;
		for (t = p; p < e && *p != ','; p++)
			;
		for (te = p; te > t && is_ows(te[-1]); te--)
			;
		if (rsp_cl_element(m, buf, t, te) < 0)
			return HTTP_INVALID;
		if (p == e)
			return 0;
		p++;
	}
}

/* Content-Length = 1*DIGIT. A response is read by rsp_content_length(); a
 * request may not repeat the value: it is forwarded unchanged, and RFC 9110
 * 8.6 lets an origin refuse such a value (perhaps without closing) or ignore
 * it, and then read the body as the next request. Nor may a request's value
 * have a leading zero ("010"): origins that parse it with strtol(..., 0)
 * read it as octal (8) and the rest of the body as the next request. */
static int field_content_length(struct http_msg *m, const char *buf, const char *p, const char *e)
{
	uint64_t v;
	int digits;

	if (!m->is_request)
		return rsp_content_length(m, buf, p, e);
	for (;;) {
		while (p < e && is_ows(*p))
			p++;
		if (m->is_request && e - p >= 2 && p[0] == '0' && p[1] >= '0' && p[1] <= '9')
			return fail(m, HTTP_ERR_BAD_CONTENT_LENGTH);
		v = 0;
		digits = 0;
		for (; p < e && *p >= '0' && *p <= '9'; p++, digits++) {
			/* checked before it can wrap around */
			if (v > (CL_MAX - (uint64_t)(*p - '0')) / 10)
				return fail(m, HTTP_ERR_BAD_CONTENT_LENGTH);
			v = v * 10 + (uint64_t)(*p - '0');
		}
		while (p < e && is_ows(*p))
			p++;
		if (digits == 0 || (p < e && *p != ','))
			return fail(m, HTTP_ERR_BAD_CONTENT_LENGTH);
		if ((m->flags & HTTP_F_HAS_CL) && v != m->content_length)
			return fail(m, HTTP_ERR_CONTENT_LENGTH_MISMATCH);
		if ((m->flags & HTTP_F_HAS_CL) && m->is_request)
			return fail(m, HTTP_ERR_BAD_CONTENT_LENGTH);
		m->flags |= HTTP_F_HAS_CL;
		m->content_length = v;
		if (p == e)
			return 0;
		p++;
	}
}

/* Calls fn for each token of a comma-separated list (empty elements skipped);
 * a token with parameters (";...") is passed whole up to the comma. */
static int for_each_token(struct http_msg *m, const char *p, const char *e,
			  int (*fn)(struct http_msg *m, const char *t, const char *te))
{
	const char *t;

	while (p < e) {
		while (p < e && (is_ows(*p) || *p == ','))
			p++;
		if (p == e)
			break;
		for (t = p; p < e && *p != ','; p++)
			;
		const char *te = p;

		while (te > t && is_ows(te[-1]))
			te--;
		if (fn(m, t, te) < 0)
			return HTTP_INVALID;
	}
	return 0;
}

/* Transfer-Encoding is forwarded unchanged, so its list must mean the same to
 * every parser: empty elements (", chunked", "a, , chunked", "chunked,")
 * are refused rather than skipped. */
static int te_list_is_plain(const char *p, const char *e)
{
	int need_token = 1;

	for (; p < e; p++) {
		if (is_ows(*p))
			continue;
		if (*p == ',') {
			if (need_token)
				return 0;
			need_token = 1;
		} else {
			need_token = 0;
		}
	}
	return !need_token;
}

static int te_token(struct http_msg *m, const char *t, const char *e)
{
	const char *q;

	for (q = t; q < e; q++)
		if (!http_is_tchar((unsigned char)*q))
			return fail(m, HTTP_ERR_BAD_TRANSFER_ENCODING); /* parameters too */
	if (m->body == HTTP_BODY_CHUNKED)
		/* a coding after chunked (or chunked twice) */
		return fail(m, m->is_request ? HTTP_ERR_TE_NOT_CHUNKED
					     : HTTP_ERR_BAD_TRANSFER_ENCODING);
	m->body = token_is(t, (size_t)(e - t), "chunked") ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
	/* a request's codings are chunked alone: an origin that does not know
	 * another ("x, chunked", or "x" and "chunked" on two lines) may refuse
	 * it without reading the body, or frame by its first line */
	if (m->is_request && m->body != HTTP_BODY_CHUNKED)
		return fail(m, HTTP_ERR_TE_NOT_CHUNKED);
	return 0;
}

/* One element [t, e) of a response's Transfer-Encoding (its lines together):
 * Chromium and Firefox decode chunked when any element is "chunked", and
 * frame by Content-Length or the close otherwise, whatever else the list
 * holds. What RFC 9112 would refuse or read otherwise is FR_TE_IRREGULAR. */
static int rsp_te_token(struct http_msg *m, const char *t, const char *e)
{
	const char *q;

	for (q = t; q < e; q++)
		if (!http_is_tchar((unsigned char)*q))
			m->rsp_framing |= FR_TE_IRREGULAR; /* parameters, a fold inside */
	if (m->rsp_framing & FR_TE_LAST_CHUNK)
		m->rsp_framing |= FR_TE_IRREGULAR; /* a coding after chunked */
	m->rsp_framing &= (uint8_t)~FR_TE_LAST_CHUNK;
	if (token_is(t, (size_t)(e - t), "chunked"))
		m->rsp_framing |= FR_TE_CHUNKED | FR_TE_LAST_CHUNK;
	return 0;
}

/* RFC 9110 7.6.1: an intermediary removes the fields that Connection names
 * before it forwards a message. Remora forwards the head unchanged, so one
 * behind it that honours Connection would drop Content-Length,
 * Transfer-Encoding or Host, and frame or route the request otherwise than
 * Remora, which framed it and checked its Host: a request naming one of them
 * is refused (whether or not the field is there, and wherever it is). So is
 * an element that is not a token (connection-option = token): a parser that
 * trims NBSP, drops ";x" or unquotes '"..."' would read a framing field's
 * name where Remora read another. Proxy-Connection (never standard; some
 * clients and proxies used it as Connection) is held to the same rules. */
static int hop_token_check(struct http_msg *m, const char *t, const char *e)
{
	size_t n = (size_t)(e - t);
	const char *q;

	if (!m->is_request)
		return 0;
	for (q = t; q < e; q++)
		if (!http_is_tchar((unsigned char)*q))
			return fail(m, HTTP_ERR_BAD_CONNECTION);
	if (token_is(t, n, "content-length") || token_is(t, n, "transfer-encoding") ||
	    token_is(t, n, "host"))
		return fail(m, HTTP_ERR_CONN_FRAMING);
	return 0;
}

static int connection_token(struct http_msg *m, const char *t, const char *e)
{
	size_t n = (size_t)(e - t);

	if (hop_token_check(m, t, e) < 0)
		return HTTP_INVALID;
	if (token_is(t, n, "close"))
		m->flags |= HTTP_F_CONN_CLOSE;
	else if (token_is(t, n, "keep-alive"))
		m->flags |= HTTP_F_CONN_KEEP_ALIVE;
	else if (token_is(t, n, "upgrade"))
		m->flags |= HTTP_F_CONN_UPGRADE;
	return 0;
}

/* Is the field name at s lit with some '-' written '_' ("Content_Length")?
 * Gateways that map names to CGI variables read it as lit. */
static int span_is_alias(const char *buf, struct http_span s, const char *lit)
{
	const char *p = buf + s.off;
	size_t i;

	if (s.len != strlen(lit) || memchr(p, '_', s.len) == NULL)
		return 0;
	for (i = 0; i < s.len; i++)
		if ((p[i] == '_' ? '-' : p[i] | 0x20) != lit[i])
			return 0;
	return 1;
}

/* Interprets the fields that frame the message or steer the proxy. */
static int field_semantics(struct http_msg *m, const char *buf, struct http_field *f)
{
	const char *v = buf + f->value.off, *ve = v + f->value.len;

	switch (f->name.len) {
	case 4:
		if (!span_is(buf, f->name, "host") || !m->is_request)
			return 0;
		if (m->host_field >= 0)
			return fail(m, HTTP_ERR_HOST_REPEATED);
		if (f->value.len > 0 && !valid_authority(v, ve))
			return fail(m, HTTP_ERR_BAD_HOST);
		m->host_field = (int16_t)m->n_fields;
		m->host = f->value;
		m->host_line = f->line;
		return 0;
	case 6:
		if (span_is(buf, f->name, "expect") && f->value.len == 12 &&
		    strncasecmp(v, "100-continue", 12) == 0)
			m->flags |= HTTP_F_EXPECT_CONTINUE;
		return 0;
	case 7:
		if (span_is(buf, f->name, "upgrade"))
			m->flags |= HTTP_F_UPGRADE;
		return 0;
	case 10:
		if (span_is(buf, f->name, "connection"))
			return for_each_token(m, v, ve, connection_token);
		return 0;
	case 12:
		if (span_is(buf, f->name, "content-type"))
			m->content_type = f->value;
		return 0;
	case 14:
		if (span_is(buf, f->name, "content-length"))
			return field_content_length(m, buf, v, ve);
		if (m->is_request && span_is_alias(buf, f->name, "content-length"))
			return fail(m, HTTP_ERR_BAD_FIELD_NAME);
		return 0;
	case 16:
		if (span_is(buf, f->name, "proxy-connection"))
			return for_each_token(m, v, ve, hop_token_check);
		return 0;
	case 17:
		if (m->is_request && span_is_alias(buf, f->name, "transfer-encoding"))
			return fail(m, HTTP_ERR_BAD_FIELD_NAME);
		if (!span_is(buf, f->name, "transfer-encoding"))
			return 0;
		m->flags |= HTTP_F_HAS_TE;
		if (!m->is_request) {
			if (!te_list_is_plain(v, ve))
				m->rsp_framing |= FR_TE_IRREGULAR;
			return for_each_token(m, v, ve, rsp_te_token);
		}
		if (!te_list_is_plain(v, ve))
			return fail(m, HTTP_ERR_BAD_TRANSFER_ENCODING);
		if (for_each_token(m, v, ve, te_token) < 0)
			return HTTP_INVALID;
		return m->body == HTTP_BODY_NONE ? fail(m, HTTP_ERR_BAD_TRANSFER_ENCODING) : 0;
	default:
		return 0;
	}
}

/* Ends the response field line held in m->cur (obs-fold can no longer
 * continue it): interprets it and records it. */
static int end_field(struct http_msg *m, const char *buf)
{
	if (!m->has_cur)
		return 0;
	m->has_cur = 0;
	if (field_semantics(m, buf, &m->cur) < 0)
		return HTTP_INVALID;
	if (m->fields != NULL)
		m->fields[m->n_fields] = m->cur;
	m->n_fields++;
	return 0;
}

/* obs-fold = OWS CRLF RWS (responses only): the line [p, e), which starts
 * with SP or HTAB, continues the field in m->cur; before the first field it
 * is left out (RFC 9112 5.2: "consume ... without further processing"). */
static int fold_field(struct http_msg *m, const char *buf, const char *p, const char *e,
		      const char *next)
{
	struct http_field *f = &m->cur;
	const char *q;

	for (q = p; q < e; q++)
		if (!http_is_rsp_value_char((unsigned char)*q))
			return fail(m, HTTP_ERR_BAD_FIELD_VALUE);
	m->flags |= HTTP_F_NORMALIZE;
	if (!m->has_cur)
		return 0;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > p) {
		if (f->value.len == 0)
			f->value.off = (uint32_t)(p - buf);
		f->value.len = (uint32_t)(e - buf) - f->value.off;
	}
	f->line.len = (uint32_t)(next - buf) - f->line.off;
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS. A response may have
 * whitespace before the colon (the name is still recognised, HTTP_F_NORMALIZE)
 * and obs-fold, so its fields are interpreted once the next line shows that
 * no fold follows. */
static int parse_field(struct http_msg *m, const char *buf, const char *p, const char *e,
		       const char *next, const struct http_limits *lim)
{
	struct http_field local, *f;
	const char *q = p, *c, *v;

	if (*p == ' ' || *p == '\t')
		return m->is_request ? fail(m, HTTP_ERR_OBS_FOLD) : fold_field(m, buf, p, e, next);
	if (end_field(m, buf) < 0)
		return HTTP_INVALID;
	while (q < e && http_is_tchar((unsigned char)*q))
		q++;
	for (c = q; !m->is_request && c < e && (*c == ' ' || *c == '\t'); c++)
		;
	if (c == e || *c != ':' || q == p) {
		/* no field named: a response line browsers skip is left out */
		if (!m->is_request && http_is_nameless_line(p, e)) {
			m->flags |= HTTP_F_NORMALIZE;
			return 0;
		}
		return fail(m, q < e && (*q == ' ' || *q == '\t') ? HTTP_ERR_WS_BEFORE_COLON
								  : HTTP_ERR_BAD_FIELD_NAME);
	}
	if (c != q)
		m->flags |= HTTP_F_NORMALIZE;
	for (v = c + 1; v < e; v++)
		if (!(m->is_request ? http_is_field_char((unsigned char)*v)
				    : http_is_rsp_value_char((unsigned char)*v)))
			return fail(m, HTTP_ERR_BAD_FIELD_VALUE);
	if (m->n_fields >= lim->max_fields || (m->fields != NULL && m->n_fields >= m->max_fields))
		return fail(m, HTTP_ERR_TOO_MANY_FIELDS);
	f = !m->is_request ? &m->cur : m->fields != NULL ? &m->fields[m->n_fields] : &local;
	f->name = span(buf, p, q);
	for (v = c + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	f->value = span(buf, v, e);
	f->line = span(buf, p, next);
	if (!m->is_request) {
		m->has_cur = 1;
		return 0;
	}
	if (field_semantics(m, buf, f) < 0)
		return HTTP_INVALID;
	m->n_fields++;
	return 0;
}

/* A response's body framing, as browsers read its fields (rsp_cl_element,
 * rsp_te_token), and what the normaliser must change so that every client
 * reads it so: RFC 9112 6.3 lets Transfer-Encoding override Content-Length,
 * which a proxy removes; 6.1 calls Transfer-Encoding in HTTP/1.0 faulty
 * framing. Each doubtful case closes the connection after the response. */
static void rsp_framing(struct http_msg *m, int te, int cl)
{
	uint32_t fix = 0;

	if (cl && (m->rsp_framing & FR_CL_INVALID))
		fix |= HTTP_F_CL_DROP;
	if (te && (m->rsp_framing & FR_TE_CHUNKED)) {
		m->body = HTTP_BODY_CHUNKED;
		if (cl)
			fix |= HTTP_F_CL_DROP;
		if (m->rsp_framing & FR_TE_IRREGULAR)
			fix |= HTTP_F_TE_CHUNKED;
	} else if (te && cl && !(fix & HTTP_F_CL_DROP)) {
		fix |= HTTP_F_TE_DROP; /* identity, gzip, empty: Content-Length frames it */
		te = 0;
	} else if (te) {
		m->body = HTTP_BODY_CLOSE;
	}
	if (!te)
		m->body = !cl || (fix & HTTP_F_CL_DROP) ? HTTP_BODY_CLOSE
			  : m->content_length > 0	? HTTP_BODY_LENGTH
							: HTTP_BODY_NONE;
	if (fix)
		m->flags |= fix | HTTP_F_NORMALIZE | HTTP_F_CLOSE_AFTER;
	if (cl && (m->rsp_framing & FR_CL_REPEATED) && !(fix & HTTP_F_CL_DROP))
		m->flags |= HTTP_F_CL_ONE | HTTP_F_NORMALIZE; /* "5, 5": one value */
	if (te && m->minor == 0)
		m->flags |= HTTP_F_CLOSE_AFTER;
}

/* The blank line: decide how the body is framed. */
static int finish_head(struct http_msg *m)
{
	int te = (m->flags & HTTP_F_HAS_TE) != 0, cl = (m->flags & HTTP_F_HAS_CL) != 0;

	if (m->is_request) {
		if (te && cl)
			return fail(m, HTTP_ERR_CL_AND_TE);
		if (te && m->minor == 0)
			return fail(m, HTTP_ERR_TE_HTTP10);
		/* RFC 9110 9.3.6: CONNECT has no content, so what follows its head
		 * is tunnel data to some, a body to others: nothing may follow */
		if ((m->flags & HTTP_F_METHOD_CONNECT) && (te || (cl && m->content_length > 0)))
			return fail(m, HTTP_ERR_CONNECT_BODY);
		if (m->minor >= 1 && m->host_field < 0)
			return fail(m, HTTP_ERR_HOST_MISSING);
		if (te && m->body != HTTP_BODY_CHUNKED)
			return fail(m, HTTP_ERR_TE_NOT_CHUNKED);
		if (!te)
			m->body = cl && m->content_length > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
		return 0;
	}
	rsp_framing(m, te, cl);
	if ((m->flags & HTTP_F_HEAD_REQUEST) || m->status < 200 || m->status == 204 ||
	    m->status == 304)
		m->body = HTTP_BODY_NONE;
	return 0;
}

/* Early verdict on an incomplete request line: bytes that cannot begin a
 * method are not HTTP (lets a proxy tunnel other protocols at once). */
static int check_partial_start(struct http_msg *m, const char *p, const char *e)
{
	for (; p < e; p++) {
		if (*p == ' ' || *p == '\r')
			return 0; /* the complete line decides */
		if (!http_is_tchar((unsigned char)*p))
			return fail(m, HTTP_ERR_NOT_HTTP);
	}
	return 0;
}

/* Checks that apply before a request line is complete, on at most its first
 * max_line + 1 bytes, so a split input gets the same verdict as a whole one. */
static int check_start_prefix(struct http_msg *m, const char *p, const char *e,
			      const struct http_limits *lim)
{
	const char *cap = e - p > (long)lim->max_line ? p + lim->max_line + 1 : e;

	if (check_partial_start(m, p, cap) < 0)
		return HTTP_INVALID;
	if (e - p > (long)lim->max_line)
		return fail(m, HTTP_ERR_LINE_TOO_LONG);
	return 0;
}

/* One complete line [p, e) (CR stripped), next = the byte after its LF. */
static int parse_line(struct http_msg *m, const char *buf, const char *p, const char *e,
		      const char *next, const struct http_limits *lim)
{
	if (m->phase == PH_START) {
		if (e == p && m->is_request && m->pos < 4)
			return 0; /* RFC 9112 2.2: ignore a CRLF before the request line */
		if (m->is_request ? parse_request_line(m, buf, p, e) < 0
				  : parse_status_line(m, buf, p, e) < 0)
			return HTTP_INVALID;
		m->phase = PH_FIELDS;
		return 0;
	}
	if (e == p) {
		if (end_field(m, buf) < 0 || finish_head(m) < 0)
			return HTTP_INVALID;
		m->phase = PH_DONE;
		m->head_len = (uint32_t)(next - buf);
		return 1;
	}
	return parse_field(m, buf, p, e, next, lim);
}

/* Checks on the start of a head before its first line is complete, or as it
 * is ([p, e): the line without its CR; complete: e is its end). Requests:
 * check_start_prefix; responses: NO_STATUS_LINE as soon as [p, e) cannot
 * begin a status line. */
static int check_start(struct http_msg *m, const char *p, const char *e, int complete,
		       const struct http_limits *lim)
{
	if (m->is_request)
		return check_start_prefix(m, p, e, lim);
	return status_prefix_ok(p, e, complete) ? 0 : fail(m, HTTP_ERR_NO_STATUS_LINE);
}

int http_parse(struct http_msg *m, const char *buf, size_t len, const struct http_limits *lim)
{
	const char *lf, *p, *e, *next;
	int cr, r;

	if (m->phase == PH_DONE)
		return (int)m->head_len;
	if (m->error != HTTP_ERR_NONE)
		return HTTP_INVALID;
	for (;;) {
		lf = m->scan < len ? memchr(buf + m->scan, '\n', len - m->scan) : NULL;
		p = buf + m->pos;
		if (lf == NULL) {
			m->scan = (uint32_t)len;
			/* a CR at the very end may be the start of CRLF: not counted */
			if (m->phase == PH_START &&
			    check_start(m, p, buf + len - (len > m->pos && buf[len - 1] == '\r'), 0,
					lim) < 0)
				return HTTP_INVALID;
			if (len >= lim->max_head)
				return fail(m, HTTP_ERR_HEAD_TOO_LARGE);
			return HTTP_NEED_MORE;
		}
		next = lf + 1;
		e = lf;
		cr = e > p && e[-1] == '\r';
		if (cr)
			e--;
		if (m->phase == PH_START && check_start(m, p, e, 1, lim) < 0)
			return HTTP_INVALID;
		if ((size_t)(next - buf) > lim->max_head)
			return fail(m, HTTP_ERR_HEAD_TOO_LARGE);
		if (!cr && m->is_request && !(lim->lenient & HTTP_LENIENT_BARE_LF))
			return fail(m, HTTP_ERR_BARE_LF);
		if (!cr) /* RFC 9112 2.2: LF alone ends a line; forwarded as CRLF */
			m->flags |= HTTP_F_NORMALIZE;
		if (memchr(p, '\r', (size_t)(e - p)) != NULL)
			return fail(m, HTTP_ERR_BARE_CR);
		r = parse_line(m, buf, p, e, next, lim);
		if (r < 0)
			return HTTP_INVALID;
		m->pos = m->scan = (uint32_t)(next - buf);
		if (r > 0)
			return (int)m->head_len;
	}
}

int http_host_mismatch(const char *buf, const struct http_msg *m)
{
	if (!(m->flags & HTTP_F_ABSOLUTE_FORM) || m->host_field < 0)
		return 0;
	return m->host.len != m->authority.len ||
	       strncasecmp(buf + m->host.off, buf + m->authority.off, m->host.len) != 0;
}

int http_msg_keeps_alive(const struct http_msg *m)
{
	if (m->flags & (HTTP_F_CONN_CLOSE | HTTP_F_CLOSE_AFTER))
		return 0;
	return m->minor >= 1 || (m->flags & HTTP_F_CONN_KEEP_ALIVE);
}
